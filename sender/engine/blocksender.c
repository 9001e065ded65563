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

/* A new block, once sent, goes into its files' digests (hasher.h); a
 * retransmission was hashed when it was new. */
static void hash_block(salvo_blocksender *b, const salvo_work *w)
{
	int err = salvo_hasher_add(&b->c->hasher, w->ranges[0].stream_offset,
				   b->buf, w->ranges[0].len);
	if (err)
		salvo_send_session_fail(b->c, err,
					"cannot hash the files: out of memory");
}

static void wait_until(salvo_send_session *c, uint64_t deadline)
{
	salvo_cond_wait_until(&c->wake, &c->lock, deadline);
}

void *salvo_blocksender_main(void *arg)
{
	salvo_blocksender *b = arg;
	salvo_send_session *c = b->c;
	uint8_t ctl[SALVO_DATAGRAM_MAX_BYTES];
	salvo_work w;
	pthread_mutex_lock(&c->lock);
	while (!c->finished) {
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
			wait_until(c, w.deadline);
			b->em.idle_ns += salvo_now_ns() - t0;
			continue;
		}
		if (k != SALVO_WORK_DATA) {
			salvo_send_session_end(c);
			break;
		}
		uint32_t session = salvo_sender_session(c->core);
		if (!b->keyed) { /* the handshake is done: DATA comes after */
			b->keyed =
			    !salvo_sender_lane(c->core, b->lane, &b->aead);
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
				? "a sending lane's key reached its AEAD usage "
				  "limit (rekeying is not implemented yet: "
				  "send less per session, or with more "
				  "threads)"
				: "no sending key for a block-sender thread");
		pthread_mutex_lock(&c->lock);
		if (!err)
			salvo_sender_work_done(c->core, &w, crc,
					       salvo_now_ns());
		pthread_cond_broadcast(&c->wake);
		if (!err && w.is_new) {
			pthread_mutex_unlock(&c->lock);
			hash_block(b, &w);
			pthread_mutex_lock(&c->lock);
		}
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}
