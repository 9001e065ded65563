/*
 * A block-sender thread (see session.h).  It loops: take the session
 * lock, poll a work item from the core, drop the lock; read the item's
 * ranges back to back into its own block buffer (reader), send them
 * (emitter: datagrams, pacing, sendmmsg); take the lock again and report
 * the item done.  Control packets a poll hands out go out on socket 0,
 * whose address the receiver answers to.  An IDLE poll sleeps on the
 * session's condition variable until the core's deadline or a wake-up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/core/error.h"
#include "common/io/sys.h"
#include "sender/engine/session.h"

/* Reads the ranges of w back to back into buf.  0 or the failure. */
static int read_work(salvo_blocksender *b, const salvo_work *w)
{
	salvo_send_session *c = b->c;
	char msg[512];
	size_t pos = 0;
	for (uint32_t r = 0; r < w->nranges; r++) {
		int err = salvo_reader_read(
		    &c->reader, w->ranges[r].stream_offset, b->buf + pos,
		    w->ranges[r].len, msg, sizeof(msg));
		if (err) {
			salvo_send_session_fail(c, err, msg);
			return err;
		}
		pos += w->ranges[r].len;
	}
	return 0;
}

int salvo_send_session_abandon(void *ud, uint32_t file, int err,
			       const char *msg)
{
	salvo_send_session *c = ud;
	pthread_mutex_lock(&c->lock);
	int rc = salvo_sender_abandon(c->core, file, err);
	pthread_mutex_unlock(&c->lock);
	if (rc || !c->o->log)
		return rc;
	char line[1200];
	snprintf(line, sizeof(line),
		 "%s: the file is given up (its bytes go as zeros and the "
		 "receiver drops it), the others go on",
		 msg);
	salvo_log_event ev = {.level = SALVO_LOG_WARN,
			      .event = "file_failed",
			      .file = c->scan.entries[file].path,
			      .message = line};
	c->o->log(c->o->log_ud, &ev);
	return 0;
}

void salvo_send_session_grew(void *ud, uint32_t file, uint64_t scanned,
			     uint64_t now)
{
	salvo_send_session *c = ud;
	char line[1200], local[1024];
	if (!c->o->log)
		return;
	salvo_scan_local(&c->scan, file, local, sizeof(local));
	snprintf(line, sizeof(line),
		 "'%s' grew after the scan, from %llu to %llu bytes: sent at "
		 "its scanned size (%llu bytes); send it again for the rest",
		 local, (unsigned long long)scanned, (unsigned long long)now,
		 (unsigned long long)scanned);
	salvo_log_event ev = {.level = SALVO_LOG_WARN,
			      .event = "file_grew",
			      .file = c->scan.entries[file].path,
			      .bytes = scanned,
			      .message = line};
	c->o->log(c->o->log_ud, &ev);
}

/* New data, once sent, goes into its files' digests (hasher.h); a
 * retransmission was hashed when it was new. */
static void hash_block(salvo_blocksender *b, const salvo_work *w)
{
	size_t pos = 0;
	for (uint32_t r = 0; r < w->nranges; r++) {
		int err =
		    salvo_hasher_add(&b->c->hasher, w->ranges[r].stream_offset,
				     b->buf + pos, w->ranges[r].len);
		if (err) {
			salvo_send_session_fail(
			    b->c, err, "cannot hash the files: out of memory");
			return;
		}
		pos += w->ranges[r].len;
	}
}

/* Lock held: once the receiver's verdicts are in, files it does not take
 * whole are hashed no more (their bytes may ride in a datagram with a
 * sent file's, and are not all sent). */
static void skip_unsent(salvo_send_session *c)
{
	if (c->verdicts_seen || !salvo_sender_is_prepared(c->core))
		return;
	c->verdicts_seen = 1;
	for (uint32_t i = 0; i < c->scan.n; i++)
		if (salvo_sender_verdict(c->core, i, NULL) >
			SALVO_VERDICT_SEND &&
		    salvo_sender_verdict(c->core, i, NULL) !=
			SALVO_VERDICT_RESUME)
			salvo_hasher_skip(&c->hasher, i);
}

static int read_stream(void *ud, uint64_t off, void *dst, size_t len)
{
	salvo_send_session *c = ud;
	char msg[512];
	int err =
	    salvo_reader_read(&c->reader, off, dst, len, msg, sizeof(msg));
	if (err)
		salvo_send_session_fail(c, err, msg);
	return err;
}

/* Lock held: once per session, the stream bytes the receiver holds
 * (resumed blocks: never sent) are read here and hashed, so the digests
 * cover every byte of the files sent (files not sent whole are skipped
 * by the hasher).  The ranges are copied under the lock and read outside
 * it, by the first block-sender to see the session prepared. */
static void fill_held(salvo_send_session *c)
{
	uint32_t session = salvo_sender_session(c->core);
	if (c->filled_session == session || !salvo_sender_is_prepared(c->core))
		return;
	c->filled_session = session;
	size_t n = 0;
	uint64_t a, z;
	while (salvo_sender_held(c->core, n, &a, &z))
		n++;
	uint64_t *r = n ? malloc(n * 2 * sizeof(*r)) : NULL;
	uint8_t *buf = n ? malloc(1u << 20) : NULL;
	for (size_t k = 0; r && k < n; k++)
		salvo_sender_held(c->core, k, &r[2 * k], &r[2 * k + 1]);
	pthread_mutex_unlock(&c->lock);
	int err = n && (!r || !buf) ? SALVO_ERR_NOMEM : 0;
	for (size_t k = 0; !err && k < n; k++)
		err = salvo_hasher_fill(&c->hasher, r[2 * k],
					r[2 * k + 1] - r[2 * k], read_stream, c,
					buf, 1u << 20);
	if (err == SALVO_ERR_NOMEM)
		salvo_send_session_fail(c, err,
					"cannot hash the files: out of memory");
	free(r);
	free(buf);
	pthread_mutex_lock(&c->lock);
}

/* An IDLE poll's wait.  Only a thread whose deadline is earlier than
 * the one some idle thread already waits for waits with a timeout; the
 * others wait for a wake-up (a packet, work handed on, the end).  Every
 * idle thread timing out at the same deadline woke four threads for the
 * one that had something to do, at each heartbeat: a flow at 7 Mbit/s
 * switched threads 9,000 times in 5 s (5,900 now; docs/PERFORMANCE.md),
 * and 64 such senders on two cores take the CPU their receiver needs.  A
 * timed waiter that leaves clears the mark (timed_until) if it is still
 * its own, so that the next idle thread watches the deadline; one that
 * leaves with work wakes one more (salvo_send_session_kick). */
static void wait_idle(salvo_send_session *c, uint64_t deadline)
{
	if (c->timed_until && c->timed_until <= deadline) {
		pthread_cond_wait(&c->work, &c->lock);
		return;
	}
	c->timed_until = deadline;
	salvo_cond_wait_until(&c->work, &c->lock, deadline);
	if (c->timed_until == deadline)
		c->timed_until = 0;
}

/* The emitter's progress: the core marks what went (its losses can be
 * repaired before the rest of the block is out). */
static void progress(void *ud, const salvo_work *w, uint32_t block_crc,
		     uint32_t range, uint32_t off)
{
	salvo_send_session *c = ud;
	pthread_mutex_lock(&c->lock);
	salvo_sender_work_progress(c->core, w, block_crc, range, off,
				   salvo_now_ns());
	/* what went may open the window (the ratio) for an idle thread */
	if (salvo_sender_may_have_work(c->core))
		salvo_send_session_kick(c);
	pthread_mutex_unlock(&c->lock);
}

void *salvo_blocksender_main(void *arg)
{
	salvo_blocksender *b = arg;
	salvo_send_session *c = b->c;
	uint8_t ctl[SALVO_DATAGRAM_MAX_BYTES];
	salvo_work w;
	b->em.progress = progress;
	b->em.progress_ud = c;
	pthread_mutex_lock(&c->lock);
	while (!c->finished) {
		/* before any poll: a session whose every byte is held has no
		 * DATA work, only digests to wait for */
		skip_unsent(c);
		fill_held(c);
		int k = salvo_sender_poll(c->core, salvo_now_ns(), &w, ctl,
					  sizeof(ctl));
		if (k == SALVO_WORK_CONTROL) {
			salvo_send_session_control(c, ctl, w.len);
			continue;
		}
		if (k == SALVO_WORK_IDLE) {
			/* time without work is time compression did not
			 * cost (salvo_lz4auto): the window, not this
			 * thread, holds the transfer back */
			uint64_t t0 = salvo_now_ns();
			/* the control thread sends the heartbeats */
			wait_idle(c, w.data_deadline);
			b->em.idle_ns += salvo_now_ns() - t0;
			continue;
		}
		if (k != SALVO_WORK_DATA) {
			salvo_send_session_end(c);
			break;
		}
		/* there may be more: the next idle thread looks */
		salvo_send_session_kick(c);
		skip_unsent(c);
		uint32_t session = salvo_sender_session(c->core);
		/* the handshake is done: DATA comes after; a new session
		 * (the old one was lost) has new keys */
		if (!b->keyed || b->session != session) {
			b->keyed =
			    !salvo_sender_lane(c->core, b->lane, &b->aead);
			b->session = session;
			b->em.compress =
			    (salvo_sender_caps(c->core) & SALVO_CAP_LZ4)
				? c->o->compress
				: SALVO_COMPRESS_OFF;
		}
		pthread_mutex_unlock(&c->lock);
		int err = b->keyed ? read_work(b, &w) : SALVO_ERR_STATE;
		uint32_t crc = 0;
		if (!err)
			err = salvo_emitter_send_work(&b->em, &w, b->buf,
						      session, &b->aead,
						      (uint8_t)b->lane, &crc);
		if (err == SALVO_ERR_REKEY || err == SALVO_ERR_STATE)
			salvo_send_session_fail(
			    c, err,
			    err == SALVO_ERR_REKEY
				? "a sending lane used up its packet numbers "
				  "(2^62; keys rotate every 2^22 packets)"
				: "no sending key for a block-sender thread");
		pthread_mutex_lock(&c->lock);
		if (!err) {
			uint64_t now = salvo_now_ns();
			salvo_sender_work_done(c->core, &w, crc, now);
			if (w.is_first)
				c->last_new_ns = now;
			/* the tail's second copies, a window the ratio
			 * opened: an idle thread takes them while this one
			 * hashes its block */
			if (salvo_sender_may_have_work(c->core))
				salvo_send_session_kick(c);
		}
		if (!err && w.is_first) {
			pthread_mutex_unlock(&c->lock);
			hash_block(b, &w);
			pthread_mutex_lock(&c->lock);
		}
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}
