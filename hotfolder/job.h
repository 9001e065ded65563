/*
 * One watched file's life, as a pure state machine: events and a `now`
 * (monotonic nanoseconds) in, a new state and a deadline out.  No clock,
 * no file system, no allocation: the caller stats the file, keeps the jobs
 * in its lists by state, writes the journal and runs the sessions.
 *
 *   SETTLING --unchanged for settle--> QUEUED --session--> SENDING
 *   SENDING --ok, unchanged--> SENT --post-action--> IDLE (keep) | GONE
 *   SENDING --ok but changed meanwhile--> SETTLING (sent again)
 *   SENDING --file failed--> FAILED --retry deadline--> QUEUED
 *   SENDING --receiver away--> QUEUED (the profile backs off, not the file)
 *   any --written again--> SETTLING;  any --vanished--> GONE
 *   any but SENDING --refused--> REFUSED --written again, acceptable-->
 *     SETTLING (the caller decides what may be sent: a link is refused)
 *
 * Threading: a job has one owner (the watcher's thread).
 */
#ifndef SALVO_HOTFOLDER_JOB_H
#define SALVO_HOTFOLDER_JOB_H

#include <stdint.h>

enum salvo_hf_state {
	SALVO_HF_IDLE = 0, /* sent and unchanged (keep policy): nothing to do */
	SALVO_HF_SETTLING, /* waiting until unchanged for settle_ns */
	SALVO_HF_QUEUED,   /* complete, waiting for a session */
	SALVO_HF_SENDING,  /* in a session */
	SALVO_HF_SENT,	   /* the receiver committed it; post-action pending */
	SALVO_HF_FAILED,   /* the last attempt failed; retried at deadline */
	SALVO_HF_REFUSED,  /* may not be sent (a link); never retried */
	SALVO_HF_GONE,	   /* finished with or vanished: forget the job */
	SALVO_HF_NSTATES
};

/* What a session says about one of its files. */
enum salvo_hf_outcome {
	SALVO_HF_OK = 0,    /* verified and committed at the receiver */
	SALVO_HF_UNCHANGED, /* keep policy: same hash as last sent; skipped */
	SALVO_HF_LINK,	    /* the receiver was away or we stopped: requeue */
	SALVO_HF_SPLIT,	    /* its batch failed: requeue, send it alone */
	SALVO_HF_FAIL,	    /* it failed on its own: back off, retry */
	SALVO_HF_VANISHED,  /* the source file is gone */
	SALVO_HF_REFUSE,    /* it became a link before it was read: refused */
};

/* Size and mtime: the "unchanged" test. */
struct salvo_hf_stat {
	uint64_t size;
	int64_t mtime_ns;
};

struct salvo_hf_policy {
	uint64_t settle_ns;
	uint64_t retry_min_ns, retry_max_ns;
	int keep; /* post_action keep: a sent file stays known (IDLE) */
};

struct salvo_hf_job {
	uint8_t state;	   /* enum salvo_hf_state */
	uint8_t dirty;	   /* written again while SENDING */
	uint8_t solo;	   /* send in a session of its own (its batch failed) */
	uint8_t has_hash;  /* hash is the SHA-256 of the last sent version */
	uint32_t attempts; /* failed attempts in a row */
	uint64_t deadline_ns;	   /* SETTLING, FAILED: when to look again */
	struct salvo_hf_stat st;   /* last seen */
	struct salvo_hf_stat sent; /* what was last sent (has_hash) */
	uint8_t hash[32];
};

static inline int salvo_hf_stat_eq(const struct salvo_hf_stat *a,
				   const struct salvo_hf_stat *b)
{
	return a->size == b->size && a->mtime_ns == b->mtime_ns;
}

/* A new job, SETTLING with deadline now + settle (or now when aged: the
 * start-up scan found it already older than settle). */
void salvo_hf_job_init(struct salvo_hf_job *j, const struct salvo_hf_policy *p,
		       const struct salvo_hf_stat *st, uint64_t now, int aged);

/* The file was written, closed or moved in (st: its stat now).  Returns
 * the new state. */
int salvo_hf_job_touch(struct salvo_hf_job *j, const struct salvo_hf_policy *p,
		       const struct salvo_hf_stat *st, uint64_t now, int aged);

/* The deadline of a SETTLING or FAILED job passed; the caller stat'ed the
 * file (exists 0: it is gone).  Returns the new state. */
int salvo_hf_job_expire(struct salvo_hf_job *j, const struct salvo_hf_policy *p,
			int exists, const struct salvo_hf_stat *st,
			uint64_t now);

/*
 * Why a file in the watched folder may not be sent, or NULL when it may:
 * a symbolic link is never followed (it could point anywhere the watcher
 * can read), and a regular file with more than one hard link is refused
 * unless allow_hardlinks (a link to a 0600 file elsewhere would be sent
 * with the watcher's rights).  The text fits in a log line after the
 * file's name: "refused: REASON".
 */
const char *salvo_hf_refusal(int is_symlink, uint64_t nlink,
			     int allow_hardlinks);

/* The caller refuses to send the file as it is now (st: its stat): any
 * state but SENDING -> REFUSED, with no deadline; a later touch (the file
 * written again, and acceptable then) settles it.  Returns the new
 * state. */
int salvo_hf_job_refuse(struct salvo_hf_job *j, const struct salvo_hf_stat *st);

/* QUEUED -> SENDING. */
int salvo_hf_job_start(struct salvo_hf_job *j);

/* A session ended for this job.  after: the file's stat once the session
 * ended (ignored for LINK, SPLIT, VANISHED); hash: the SHA-256 of what was
 * sent, or NULL; rnd: any random number (jitter).  Returns the new state. */
int salvo_hf_job_finish(struct salvo_hf_job *j, const struct salvo_hf_policy *p,
			enum salvo_hf_outcome out,
			const struct salvo_hf_stat *after, const uint8_t *hash,
			uint64_t now, uint64_t rnd);

/* SENT -> IDLE (keep) or GONE, once the post-action is done. */
int salvo_hf_job_posted(struct salvo_hf_job *j,
			const struct salvo_hf_policy *p);

/* The retry delay after `attempt` failures in a row (1 = first): min
 * doubled per attempt, capped at max, then drawn from [d/2, d] with rnd
 * so that many watchers do not retry in step. */
uint64_t salvo_hf_backoff_ns(uint64_t min_ns, uint64_t max_ns, uint32_t attempt,
			     uint64_t rnd);

/* "settling", "queued", ... */
const char *salvo_hf_state_name(int state);

#endif
