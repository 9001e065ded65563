/*
 * The sender engine: `salvo send` as a library call, also used by the hot
 * folder.  It scans the paths, runs the handshake and the transfer with a
 * pool of block-sender threads over several UDP sockets (sendmmsg), paced
 * by one shared token bucket, and returns a report.  Blocking; safe to
 * run several at once in one process (no globals).
 */
#ifndef SALVO_SEND_H
#define SALVO_SEND_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/core/log.h"
#include "common/core/policy.h"
#include "common/core/lz4piece.h"

/* One file or directory to send: where it is here, what it is called
 * there (relative, '/'-separated, below the receiver's root). */
typedef struct salvo_send_item {
	const char *local;
	const char *remote;
} salvo_send_item;

/* Why an entry found inside a folder was left out; the rest of the tree
 * is sent all the same.  (A PATH the caller names, or an item, that
 * cannot be sent is an error instead: the caller asked for it.) */
enum salvo_send_skip {
	SALVO_SKIP_SYMLINK = 0, /* not followed, as rsync without -l */
	SALVO_SKIP_SPECIAL,	/* a FIFO, socket or device */
	SALVO_SKIP_UNREADABLE,	/* cannot be opened, or a folder listed */
	SALVO_SKIP_BAD_NAME,	/* the protocol refuses its name (a control
				 * character, too long); a folder so named
				 * is skipped with everything below it */
	SALVO_SKIP_REASONS
};

/* "symlink", "special", "unreadable", "bad_name" (the JSON words); NULL
 * for a reason out of range. */
const char *salvo_send_skip_name(int reason);

/* What became of one entry (salvo_send_report.results). */
enum salvo_send_outcome {
	SALVO_SEND_SENT = 0,	/* verified and committed by the receiver */
	SALVO_SEND_SKIPPED,	/* left out (skip, err, detail) */
	SALVO_SEND_UNCONFIRMED, /* the session failed (err: its result)
				 * before the receiver confirmed every
				 * entry: this one may or may not be there */
	SALVO_SEND_NOT_NEEDED,	/* the receiver has it already (verdict:
				 * identical, exists, not newer) */
	SALVO_SEND_REFUSED,	/* the receiver refused or could not take
				 * it (verdict; err: -errno for failed) */
};

typedef struct salvo_send_result {
	char *local;  /* the path here */
	char *remote; /* its name at the receiver; NULL when skipped */
	int outcome;  /* enum salvo_send_outcome */
	int is_dir;
	int skip;      /* SKIPPED: enum salvo_send_skip */
	int verdict;   /* the receiver's (enum salvo_verdict), -1: none */
	int abandoned; /* REFUSED: this sender could not read it (err) */
	int err;       /* SKIPPED unreadable: -errno; UNCONFIRMED: the result */
	char *detail;  /* SKIPPED: for a person, e.g. "Permission denied",
			* "a FIFO", "control character in path"; else NULL */
} salvo_send_result;

/* What salvo_send_opts.results asks the report to list. */
#define SALVO_SEND_RESULTS_NONE 0
#define SALVO_SEND_RESULTS_SKIPPED 1 /* the skipped entries only */
#define SALVO_SEND_RESULTS_ALL 2     /* every entry, skipped ones last */

typedef struct salvo_send_progress {
	uint64_t total_bytes;
	uint64_t acked_bytes; /* the receiver holds them */
	uint64_t sent_bytes;  /* first transmissions */
	uint64_t retx_bytes;  /* retransmissions */
	/* DATA so far: stream bytes sent (new and again) and the UDP
	 * payload bytes that carried them (their ratio: compression) */
	uint64_t data_stream_bytes, data_wire_bytes;
	uint32_t files, files_done;
	uint32_t skipped; /* entries left out (salvo_send_report.skipped) */
	uint64_t elapsed_ns;
	int phase; /* 0 handshake, 1 manifest, 2 data, 3 done */
} salvo_send_progress;

typedef struct salvo_send_opts {
	const char *host; /* receiver name or address */
	uint16_t port;
	/* what to send: either paths (files or folders, sent recursively,
	 * named by their last component below remote_dir) or explicit
	 * items */
	const char *const *paths;
	size_t npaths;
	const salvo_send_item *items;
	size_t nitems;
	const char *remote_dir; /* a folder below the receiver's root,
				 * or NULL */
	/* Inside the folders named (never the named paths themselves):
	 * follow_links 1 sends what a symlink points to (a link that
	 * points nowhere, or back to a folder being walked, is skipped as a
	 * symlink), 0 skips symlinks (reported).  include (n_include globs;
	 * none: every file) selects files; exclude (applied after include)
	 * drops files and whole folders.  A glob with a '/' matches the
	 * path below the named folder (fnmatch, FNM_PATHNAME), one without
	 * matches the entry's name.  Left out by a glob is not "skipped":
	 * salvo_send_report counts it in excluded. */
	int follow_links;
	const char *const *include;
	size_t n_include;
	const char *const *exclude;
	size_t n_exclude;

	/* The fields below are filled from the configuration by
	 * salvo_conf_send_opts (conf/engine_opts.h), which holds no default
	 * of its own: the key table does (docs/CONFIG.md). */
	uint32_t block_bytes;	 /* transfer.block_size */
	uint32_t mtu_bytes;	 /* network.mtu: path MTU */
	uint32_t datagram_bytes; /* 0: mtu_bytes less the IP+UDP headers of
				  * the receiver's address family (28 IPv4,
				  * 48 IPv6), once the host is resolved;
				  * else this many bytes (over IPv6 at most
				  * mtu - 48, else SALVO_ERR_INVAL) */
	uint64_t rate_bps;	 /* fixed: pacing rate, above 0; other
				  * policies: ceiling, 0 none */
	uint64_t min_rate_bps;	 /* not fixed: floor, 0 none */
	enum salvo_rate_policy rate_policy; /* common/core/rate.h */
	uint64_t link_bps;	 /* link.bandwidth: seeds the start; 0 none */
	uint64_t window_bytes;	 /* 0: automatic */
	uint32_t threads;	 /* block-sender threads */
	uint32_t sockets;	 /* UDP sockets */
	uint32_t batch;		 /* datagrams per sendmmsg */
	int offload;		 /* 1 (default): UDP GSO where the path
				  * takes it, plain datagrams otherwise */
	int compress;		 /* enum salvo_compress (lz4piece.h):
				  * offered to the receiver unless OFF */
	uint64_t sndbuf_bytes;	 /* 0: system default */
	uint64_t timeout_ns;	 /* no answer for this long: fail */
	const char *events_path; /* rate telemetry, JSON lines (events.h):
				  * a file appended to, "-" stdout, NULL
				  * none */
	/* Live limits (live.h), e.g. from a control socket (ctl.h): the
	 * session obeys the ceiling and floor set there (over rate_bps and
	 * min_rate_bps) within 50 ms of a change, and publishes its rate
	 * and bytes there.  Borrowed; NULL: none. */
	struct salvo_send_live *live;
	int overwrite; /* transfer.overwrite: enum salvo_send_overwrite
			* (common/core/policy.h), what the receiver does
			* with files it has already, within what it allows */
	int checksum;  /* transfer.checksum: compare content (BLAKE3, read
			* once more at the scan) instead of size and mtime for
			* files the receiver has (overwrite if-different and
			* if-newer) */

	/* called about every progress_interval_ns from the calling thread */
	void (*progress)(void *ud, const salvo_send_progress *p);
	void *progress_ud;
	uint64_t progress_interval_ns;
	/* Identity (protocol 3, docs/SECURITY.md).  key_private/key_public:
	 * this sender's X25519 static key pair; has_key 0: anonymous (the
	 * engine makes a throwaway pair, which only a receiver that allows
	 * anonymous senders accepts).  peer_key: the receiver's public key
	 * as pinned (known hosts, a flag or the config); has_peer_key 0: the
	 * engine asks the receiver for its key first and calls pin(), which
	 * returns 0 to trust it (and remember it) or a negative SALVO_ERR_*
	 * with a message in err to refuse.  pinned_key (has_pinned_key, used
	 * only without has_peer_key): the key pin()'s store already holds
	 * for this receiver; the handshake starts with it at once and asks
	 * for the key beside it only to confirm (salvo_sender_config's
	 * confirm_key), saving a round trip. */
	uint8_t key_private[32], key_public[32];
	int has_key;
	uint8_t peer_key[32];
	int has_peer_key;
	uint8_t pinned_key[32];
	int has_pinned_key;
	int (*pin)(void *ud, const uint8_t key[32], char *err, size_t errlen);
	void *pin_ud;
	/* log events (session start/end, failures, each skipped entry at
	 * SALVO_LOG_WARN, event "skipped"); may be NULL */
	salvo_log_fn log;
	void *log_ud;
	/* SALVO_SEND_RESULTS_*: the per-entry list the report carries
	 * (then free it with salvo_send_report_free); 0, none */
	int results;
	/* set (e.g. by a signal handler) to abort; may be NULL */
	volatile sig_atomic_t *stop;
} salvo_send_opts;

typedef struct salvo_send_report {
	int result;	    /* 0 or SALVO_ERR_* (see below) */
	char message[1024]; /* what went wrong, for a person; "" if ok */
	/* for SALVO_ERR_PEER: what the receiver reported */
	int peer_code, peer_errno;
	uint32_t files, dirs; /* in the session (all of them when result is
			       * 0) */
	uint32_t skipped;     /* entries of the trees left out */
	/* the receiver's verdicts (VERDICT, before any data moved): files
	 * sent, files it had already (by reason), files it refused or
	 * could not store; held_bytes were not sent */
	uint32_t files_sent, files_identical, files_exists, files_not_newer;
	uint32_t files_refused, files_failed;
	/* not in files_failed: files this sender could not read after its
	 * scan (they shrank, vanished, or failed to read), which failed
	 * alone at the receiver */
	uint32_t files_abandoned;
	uint64_t held_bytes;
	uint32_t skipped_by[SALVO_SKIP_REASONS];
	uint32_t excluded; /* entries --include/--exclude left out */
	/* as opts.results asked, in scan order (skipped entries after the
	 * others); owned by the report: salvo_send_report_free */
	salvo_send_result *results;
	size_t nresults;
	uint64_t bytes; /* file bytes delivered and verified */
	uint64_t elapsed_ns;
	uint64_t datagrams;  /* sent, all kinds */
	uint64_t wire_bytes; /* UDP payload bytes sent, all kinds */
	uint64_t retx_bytes;
	uint32_t reconnects; /* sessions lost (a receiver restart, an
			      * outage) and opened again */
	uint64_t srtt_ns;
	uint64_t peak_rss_bytes; /* VmHWM of this process */
	/* what the engine used (after defaults and auto-sizing);
	 * datagram_bytes is the size picked for the receiver's family, 0 if
	 * the run failed before the host was resolved */
	uint32_t block_bytes, datagram_bytes, threads, sockets, batch;
	uint64_t rate_bps, window_bytes, sndbuf_bytes;
	enum salvo_rate_policy rate_policy;
	uint64_t final_rate_bps; /* pacing rate at the end */
	/* the tail: from the last new data handed to the network (the
	 * last first transmission) to the end of the session, when the
	 * repairs and the receiver's confirmation are done; 0 when no new
	 * data went (all held, or a failure before) */
	uint64_t tail_ns;
	uint32_t gso_segments; /* datagrams per UDP GSO send at the end;
				* 0: plain datagrams */
	/* compression: the mode asked for, whether the receiver agreed
	 * (SALVO_CAP_LZ4), and the DATA datagrams' stream bytes, UDP
	 * payload bytes and LZ4 pieces; data_stream_bytes /
	 * data_wire_bytes is the ratio */
	int compress, compress_agreed;
	uint64_t data_stream_bytes, data_wire_bytes, lz4_datagrams;
} salvo_send_report;

/* Runs one transfer to completion.  Returns report->result:
 *   0                       every file of the session verified and
 *                           committed, or left out by the receiver's
 *                           verdict (report->files_refused and
 *                           files_failed count those not stored;
 *                           report->skipped the entries of the trees
 *                           left out here)
 *   SALVO_ERR_INVAL         bad options (message names the key, e.g.
 *                           network.datagram)
 *   -errno                  a local file could not be read (named)
 *   SALVO_ERR_UNREACHABLE   no answer within timeout, or the port was
 *                           refused (ICMP port unreachable) a few times
 *                           in a row during the handshake, which takes
 *                           about 0.4 s; the message says which and names
 *                           the address
 *   SALVO_ERR_TIMEOUT       the receiver went silent mid-transfer
 *                           (refusals then do not end the send sooner:
 *                           a restarting receiver has the timeout)
 *   SALVO_ERR_PEER          the receiver reported an error (its message;
 *                           peer_code SALVO_ERR_IO for its I/O errors,
 *                           SALVO_ERR_VERIFY for verification)
 *   SALVO_ERR_ABORTED       *stop was set
 */
int salvo_send_run(const salvo_send_opts *o, salvo_send_report *report);

/* Frees report->results; safe on a report without any.  The report's
 * numbers stay. */
void salvo_send_report_free(salvo_send_report *report);

#endif
