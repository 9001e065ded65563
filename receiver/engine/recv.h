/*
 * The receiver engine: `salvo recv` as a library call.  Several UDP
 * sockets share one port (SO_REUSEPORT), one thread each reading batches
 * with recvmmsg; payloads are written in place into hidden part-files
 * below the root and hashed as they are written (each block's CRC32C,
 * each file's BLAKE3); a verifier thread compares those with the
 * sender's, then fsyncs and renames the files.  Serves many senders at
 * once.  receiver/engine/engine.h maps the files and threads.
 */
#ifndef SALVO_RECV_H
#define SALVO_RECV_H

#include <signal.h>
#include <stdint.h>

#include "common/core/log.h"

/* Filled from the configuration by salvo_conf_recv_opts
 * (conf/engine_opts.h); the defaults are the key table's
 * (docs/CONFIG.md). */
typedef struct salvo_recv_opts {
	const char *dir;  /* root; files land only below it */
	const char *bind; /* address to bind, NULL: any */
	uint16_t port;
	uint32_t sockets;      /* sockets (and threads) on the port */
	uint32_t batch;	       /* messages per recvmmsg */
	int offload;	       /* 1 (default): UDP GRO, a message may carry
				* many datagrams */
	uint64_t rcvbuf_bytes; /* 0: system default */
	uint32_t max_sessions;
	uint64_t idle_timeout_ns; /* silent sender: drop its session */
	uint64_t max_file_bytes;  /* 0: no limit */
	/* part-files kept for resume (with their verified-block maps) are
	 * removed at start once this much older than their last write;
	 * 0: never by age */
	uint64_t partial_max_age_ns;
	/* bookkeeping memory all sessions together may hold (block and file
	 * tables, manifests); a manifest that would need more than is left
	 * is refused, with the figures.  0: no limit */
	uint64_t memory_budget_bytes;
	int overwrite; /* enum salvo_overwrite (common/core/policy.h) */
	int once;      /* return after the first session ends */
	/* Identity and authorisation (protocol 3, docs/SECURITY.md): the
	 * receiver's X25519 static key pair, the senders it serves (borrowed,
	 * read-only while the receiver runs; NULL: none), and whether a
	 * sender whose key is not listed may write below dir. */
	uint8_t key_private[32], key_public[32];
	const struct salvo_authkeys *authkeys;
	int allow_anonymous;
	int refuse_lz4;	     /* 1: agree to no compression (transfer.compression
			      * off); senders then send raw */
	int verify_paranoid; /* 1: also read each block and each file
			      * back from disk and check them there
			      * (verify: paranoid) */
	/* one event per thing worth a log line (file received, session
	 * failed...); called from engine threads, serialised */
	salvo_log_fn log;
	void *log_ud;
	/* called once the sockets are bound (e.g. to print the port) */
	void (*ready)(void *ud, uint16_t port);
	volatile sig_atomic_t *stop;
} salvo_recv_opts;

typedef struct salvo_recv_report {
	int result; /* 0, or why the receiver stopped/failed */
	char message[1024];
	uint64_t sessions_ok, sessions_failed;
	uint64_t files, bytes;
	uint64_t files_skipped;	  /* already here (identical, exists, older) */
	uint64_t files_refused;	  /* refused or failed here: before data
				     moved, or at the commit */
	uint64_t files_abandoned; /* the sender could not read them after
				     its scan (it sent them as zeros; they
				     failed alone, nothing was stored) */
	uint64_t malformed, unknown, duplicates;
	/* LZ4 pieces inflated, and dropped for not inflating as declared */
	uint64_t lz4_pieces, lz4_bad;
	uint64_t auth_failures; /* failed their tag or MACs: dropped */
	uint64_t peak_rss_bytes;
	int last_session_result; /* with once: that session's result */
} salvo_recv_report;

/* Serves until *stop is set (or, with once, the first session ended).
 * Returns 0, or a negative code with report->message (cannot bind, root
 * missing...).  With once, returns the session's result. */
int salvo_recv_run(const salvo_recv_opts *o, salvo_recv_report *report);

#endif
