/*
 * One sending session inside the engine: what salvo_send_run sets up and
 * its threads share.  Internal to sender/engine.
 *
 * Locking: `lock` guards the core, `finished` and the local error; it is
 * taken per work item or packet, never per datagram.  Idle block-senders
 * wait on `work`, only the one with the earliest deadline timed
 * (`timed_until`, blocksender.c); the caller's thread (progress, the stop
 * flag) waits on `wake`.  A packet from the receiver, or a busy
 * block-sender's progress, signals ONE idle block-sender
 * (salvo_send_session_kick), and only when the core may have work for it
 * (salvo_sender_may_have_work); a block-sender that takes work signals
 * one more before it drops the lock, so as much work as there is wakes as
 * many threads as it needs, one by one, and a packet that opens nothing
 * wakes none (with 64 sessions on two cores, waking every thread for
 * every FEEDBACK spent a quarter of the CPU in the scheduler).
 * The rare events every thread must see (the session ended or failed, a
 * digest is known, the receiver refused) broadcast on both
 * (salvo_send_session_wake_all).
 * The reader, the pacing and the emitter counters have their own locks
 * or atomics.
 */
#ifndef SALVO_SEND_SESSION_H
#define SALVO_SEND_SESSION_H

#include <pthread.h>
#include <stdint.h>

#include "common/core/limits.h"
#include "sender/core/sender.h"
#include "sender/engine/emitter.h"
#include "sender/engine/hasher.h"
#include "sender/engine/live.h"
#include "sender/engine/pacing.h"
#include "sender/engine/reader.h"
#include "sender/engine/scan.h"
#include "sender/engine/send.h"

typedef struct salvo_send_session {
	const salvo_send_opts *o;
	salvo_scan scan;
	salvo_sender *core;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* CLOCK_MONOTONIC; the caller's thread */
	pthread_cond_t work; /* CLOCK_MONOTONIC; idle block-senders */
	int finished;
	/* an idle block-sender waits until then (monotonic ns), 0: none */
	uint64_t timed_until;
	int local_err; /* first local failure (a file), 0 none */
	char local_msg[512];

	salvo_reader reader;
	salvo_pacing pacing;
	salvo_hasher hasher;
	int verdicts_seen; /* the hasher skips files not sent whole */
	/* the receiver's verdicts per entry (-1: none) and errnos, kept by
	 * the report after the core is gone; NULL: none */
	int8_t *verdict;
	int32_t *verdict_err;
	uint32_t filled_session; /* held bytes hashed for this session */
	salvo_emitter_shared net;
	int fds[SALVO_SOCKETS_MAX]; /* connected to the receiver; -1 */
	uint32_t nsock;
	int v6;
	uint32_t datagram_bytes; /* in use, after the MTU and family */
	uint8_t key_public[32];	 /* ours, for the report's messages */
	uint64_t sndbuf_granted;
	/* c->lock: when the last new data went out and the session ended
	 * (monotonic ns, 0: not yet), for the report's tail */
	uint64_t last_new_ns, end_ns;
	/* the control thread's: the live limits' change counter applied,
	 * when it last published, and its share of the sums */
	uint64_t live_gen, live_published;
	salvo_live_share live_share;
} salvo_send_session;

/* A block-sender thread: its socket's emitter, a block buffer, and its
 * own lane: a key and packet numbers no other thread touches, so sealing
 * takes no lock. */
typedef struct salvo_blocksender {
	salvo_send_session *c;
	salvo_emitter em;
	uint8_t *buf;  /* one block */
	uint32_t lane; /* 1 + the thread's index */
	salvo_aead aead;
	int keyed;	  /* aead set up (salvo_sender_lane) */
	uint32_t session; /* for this session */
	pthread_t th;
} salvo_blocksender;

/* Wakes one idle block-sender: the core may have work to hand out.
 * c->lock held. */
void salvo_send_session_kick(salvo_send_session *c);

/* Wakes every waiting thread (block-senders and the caller's).  c->lock
 * held. */
void salvo_send_session_wake_all(salvo_send_session *c);

/* Ends the session for every thread: finished, every thread woken, and
 * the pacing stopped so no thread sleeps out a booking.  Call with
 * c->lock held, once the core is done or failed (or was never started). */
void salvo_send_session_end(salvo_send_session *c);

/* Sends the control packet buf[0..len) the core handed out on socket 0,
 * whose address the receiver answers to, with c->lock dropped meanwhile;
 * a refusal (ECONNREFUSED) goes to the core (salvo_sender_on_refused).
 * Call with c->lock held; returns with it held. */
void salvo_send_session_control(salvo_send_session *c, const uint8_t *buf,
				size_t len);

/* Records the first local failure (err -errno or SALVO_ERR_*, msg for a
 * person) and aborts the core; the thread that next polls it sends the
 * CLOSE(abort) and ends the session.  Takes c->lock. */
void salvo_send_session_fail(salvo_send_session *c, int err, const char *msg);

/* Hands file's digest to the core (a salvo_hasher_done_fn; ud: the
 * session).  Takes c->lock. */
void salvo_send_session_digest(void *ud, uint32_t file,
			       const uint8_t digest[32]);

/* The reader gave file up (a salvo_reader_abandon_fn; ud: the session):
 * tells the core (salvo_sender_abandon) and logs it.  Takes c->lock. */
int salvo_send_session_abandon(void *ud, uint32_t file, int err,
			       const char *msg);

/* File grew after the scan (a salvo_reader_grow_fn; ud: the session):
 * logs it (event file_grew, both sizes); it is still sent at its
 * scanned size. */
void salvo_send_session_grew(void *ud, uint32_t file, uint64_t scanned,
			     uint64_t now);

/* Thread mains.  A block-sender (arg: salvo_blocksender) polls work from
 * the core, reads it, sends it, reports it done and hashes new blocks,
 * until the session ends.  The control thread (arg: the session) reads socket 0
 * into the core and sends the timed control packets. */
void *salvo_blocksender_main(void *arg);
void *salvo_control_main(void *arg);

#endif
