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

/* One file or directory to send: where it is here, what it is called
 * there (relative, '/'-separated, below the receiver's root). */
typedef struct salvo_send_item {
	const char *local;
	const char *remote;
} salvo_send_item;

typedef struct salvo_send_progress {
	uint64_t total_bytes;
	uint64_t acked_bytes; /* the receiver holds them */
	uint64_t sent_bytes;  /* first transmissions */
	uint64_t retx_bytes;  /* retransmissions */
	uint32_t files, files_done;
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
	uint64_t rate_bps;	 /* pacing rate; with adaptive, the ceiling */
	uint64_t min_rate_bps;	 /* adaptive: floor, 0 none */
	int adaptive;		 /* 1: adaptive rate control (rate.h) */
	uint64_t window_bytes;	 /* 0: automatic */
	uint32_t threads;	 /* block-sender threads */
	uint32_t sockets;	 /* UDP sockets */
	uint32_t batch;		 /* datagrams per sendmmsg */
	int offload;		 /* 1 (default): UDP GSO where the path
				  * takes it, plain datagrams otherwise */
	uint64_t sndbuf_bytes;	 /* 0: system default */
	uint64_t timeout_ns;	 /* no answer for this long: fail */

	/* called about every progress_interval_ns from the calling thread */
	void (*progress)(void *ud, const salvo_send_progress *p);
	void *progress_ud;
	uint64_t progress_interval_ns;
	/* log events (session start/end, failures); may be NULL */
	salvo_log_fn log;
	void *log_ud;
	/* set (e.g. by a signal handler) to abort; may be NULL */
	volatile sig_atomic_t *stop;
} salvo_send_opts;

typedef struct salvo_send_report {
	int result;	    /* 0 or SALVO_ERR_* (see below) */
	char message[1024]; /* what went wrong, for a person; "" if ok */
	/* for SALVO_ERR_PEER: what the receiver reported */
	int peer_code, peer_errno;
	uint32_t files, dirs;
	uint64_t bytes; /* file bytes delivered and verified */
	uint64_t elapsed_ns;
	uint64_t datagrams;  /* sent, all kinds */
	uint64_t wire_bytes; /* UDP payload bytes sent, all kinds */
	uint64_t retx_bytes;
	uint64_t srtt_ns;
	uint64_t peak_rss_bytes; /* VmHWM of this process */
	/* what the engine used (after defaults and auto-sizing);
	 * datagram_bytes is the size picked for the receiver's family, 0 if
	 * the run failed before the host was resolved */
	uint32_t block_bytes, datagram_bytes, threads, sockets, batch;
	uint64_t rate_bps, window_bytes, sndbuf_bytes;
	int adaptive;
	uint64_t final_rate_bps; /* pacing rate at the end (adaptive) */
	uint32_t gso_segments;	 /* datagrams per UDP GSO send at the end;
				  * 0: plain datagrams */
} salvo_send_report;

/* Runs one transfer to completion.  Returns report->result:
 *   0                       every file verified and committed
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

#endif
