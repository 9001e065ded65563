/*
 * Internals of the hot folder daemon, shared by its files (listed below
 * with their one-way dependencies).  Not a public API.
 *
 * Threading: everything here belongs to the loop's thread except a
 * session's items and results, which its thread owns from start until it
 * puts itself on the daemon's done list.
 */
#ifndef SALVO_HOTFOLDER_PROFILE_H
#define SALVO_HOTFOLDER_PROFILE_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "hotfolder/hotfolder.h"
#include "hotfolder/job.h"
#include "hotfolder/jobtab.h"
#include "hotfolder/journal.h"
#include "hotfolder/watch.h"
#include "sender/engine/send.h"

#define HF_LINGER_NS 50000000ull	/* let a batch gather this long */
#define HF_STATUS_EVERY_NS 500000000ull /* status file at most this often */
#define HF_COMPACT_MIN 20000u		/* records before compaction */

struct hf_daemon;

struct hf_item {
	struct salvo_hf_entry *e; /* loop thread only */
	char *local;		  /* owned */
	const char *remote;	  /* into local */
	struct salvo_hf_stat st;  /* as queued */
	int check_hash;		  /* keep: skip if still this hash */
	uint8_t old_hash[32];
	/* results, written by the session thread */
	enum salvo_hf_outcome out;
	const char *why; /* REFUSE: salvo_hf_refusal's reason (static) */
	int verdict;	 /* OK: SALVO_VERDICT_SEND, or why the receiver
			  * needed no data (identical, exists, not newer) */
	struct salvo_hf_stat after;
	int has_hash;
	uint8_t hash[32];
};

struct hf_session {
	struct hf_profile *p;
	pthread_t thread;
	struct hf_item *items;
	size_t n;
	uint64_t bytes;
	uint64_t started_ns;
	int rc;
	char message[1024];
	uint64_t sent_bytes, elapsed_ns;
	char compressed[112];	 /* ", LZ4 2.60x: ..." for the log, or "" */
	struct hf_session *next; /* on the daemon's done list */
};

struct hf_profile {
	struct hf_daemon *d;
	const struct salvo_hotfolder *hf;
	char *root;	      /* absolute path of the watched folder */
	char *state;	      /* state folder */
	char *move_to;	      /* absolute, or NULL */
	char *move_rel;	      /* move_to relative to root when inside it */
	char peer[300];	      /* "HOST:PORT" for messages */
	salvo_send_opts send; /* from the config; items set per session */
	struct salvo_hf_policy pol;
	struct salvo_hf_tab tab;
	struct salvo_hf_watch w;
	struct salvo_hf_journal jn;
	uint32_t scan_gen;
	int lost;		/* the folder went away: profile stopped */
	unsigned active;	/* sessions running */
	uint32_t link_attempts; /* failed sessions in a row (receiver away) */
	uint64_t link_next_ns;	/* no session before this */
	uint64_t sent_files, sent_bytes, failed_files;
	uint64_t skipped_files; /* of sent_files: the receiver had them */
	char last_error[512];
	uint64_t rng;
};

struct hf_daemon {
	const struct salvo_hf_opts *o;
	struct hf_profile *p;
	size_t np;
	int epfd, evfd;
	volatile sig_atomic_t stop;
	pthread_mutex_t mu;
	struct hf_session *done; /* ended sessions, under mu */
	unsigned active;
	uint64_t status_due_ns; /* 0: nothing to write */
};

/* Files and what each depends on (one way: a file uses only those below
 * it in this list, so there are no circles):
 *   status.c   the status file                        -
 *   events.c   log events                             status
 *   records.c  state changes, journal records         events, status
 *   post.c     post-actions, hf_mkdirs                records, events
 *   profile.c  set-up, replay, scan, settle           all above
 *   session.c  batches and their threads              all above
 *   hotfolder.c the loop                              all above */

/* profile.c */
int hf_profile_open(struct hf_daemon *d, struct hf_profile *p,
		    const struct salvo_hotfolder *hf, char *err, size_t errlen);
int hf_profile_start(struct hf_profile *p, char *err, size_t errlen);
void hf_profile_close(struct hf_profile *p);
uint64_t hf_rand(struct hf_profile *p);
void hf_expire(struct hf_profile *p, uint64_t now);

/* post.c */
void hf_post(struct hf_profile *p, struct salvo_hf_entry *e);
/* mkdir -p path (parents_only: all but its last component) */
int hf_mkdirs(const char *path, int parents_only);

/* events.c */
/* An info event ("NAME: message"); event is its snake_case name. */
void hf_log(struct hf_profile *p, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An error event; also the profile's last_error for the status file. */
void hf_error(struct hf_profile *p, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A warning that file may not be sent and why (salvo_hf_refusal); also
 * the profile's last_error. */
void hf_refused(struct hf_profile *p, const char *file, const char *why);
/* An event about one file (file_sent...), with its size and duration. */
void hf_file_event(struct hf_profile *p, const char *event, const char *file,
		   uint64_t bytes, uint64_t elapsed_ns, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* A debug event with what the engine used for one session (from its
 * report); safe from the session's thread (reads only). */
void hf_session_event(struct hf_profile *p, const salvo_send_opts *o,
		      const salvo_send_report *r);

/* records.c */
void hf_journal(struct hf_profile *p, struct salvo_hf_entry *e, int type);
void hf_sync(struct hf_profile *p);
void hf_compact(struct hf_profile *p);
void hf_maybe_compact(struct hf_profile *p);
void hf_set_state(struct hf_profile *p, struct salvo_hf_entry *e, int old);

/* status.c */
void hf_status_write(struct hf_profile *p);
void hf_status_touch(struct hf_daemon *d);

/* session.c */
void hf_sessions_start(struct hf_profile *p, uint64_t now);
void hf_session_done(struct hf_session *s);
uint64_t hf_next_batch_ns(struct hf_profile *p);

#endif
