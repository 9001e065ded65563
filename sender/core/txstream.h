/*
 * The transmit side of one byte stream (the manifest, or the file data):
 * what was handed out, when it was last sent, what the receiver holds and
 * what must go again.  Internal to the sender core.
 *
 * The retransmission rule lives here.  A range whose only transmission
 * so far was its first is queued again as soon as the receiver reports
 * it missing: the receiver reports a hole only once it knows the range
 * was sent (a STATUS vouched for it, or a later datagram of the same
 * block arrived) and its reordering allowance has passed, so the report
 * is proof of loss, whatever STATUS it echoes.  A range sent again
 * (a repair) is queued once more only if that repair left at least
 * `margin` before the STATUS that the receiver echoes in the feedback:
 * the hole itself is old, so only the echo shows that the receiver saw a
 * later packet from us and the repair was still absent; a repair sent
 * after that STATUS may still be on its way and is left alone.  That is
 * "not twice within one RTT unless asked again" with no timer at all.
 */
#ifndef SALVO_TXSTREAM_H
#define SALVO_TXSTREAM_H

#include <stdint.h>

#include "common/core/rangeset.h"

/* Tag of a range that a work item holds and has not finished sending. */
#define SALVO_TX_PENDING UINT64_MAX

typedef struct salvo_txstream {
	uint64_t total;
	uint64_t next_new;    /* first byte never handed out */
	uint64_t cum;	      /* receiver holds every byte below */
	uint64_t recv_above;  /* and this many bytes at or above cum */
	salvo_rangeset retx;  /* to send again (tags unused) */
	salvo_rangeset sent;  /* [cum, next_new): last send time */
	salvo_rangeset again; /* of those, bytes sent more than once */
} salvo_txstream;

void salvo_txstream_init(salvo_txstream *t, const salvo_mem *mem,
			 uint64_t total);
void salvo_txstream_free(salvo_txstream *t);

/* Applies the cumulative part of a feedback (monotonic). */
void salvo_txstream_ack(salvo_txstream *t, uint64_t cum, uint64_t recv_above);

/* The receiver took bytes below the cumulative point back: an older
 * receiver counted a block's bytes in cum before checking its CRC, and a
 * failed check made them missing again.  The point moves back to cum
 * (a no-op unless below it) and [cum, old point) count as sent once, long
 * ago, so the holes reported there go again at once.  0 or
 * SALVO_ERR_NOMEM. */
int salvo_txstream_reopen(salvo_txstream *t, uint64_t cum);

/* Handles one reported-missing range; returns the bytes newly queued for
 * retransmission, or SALVO_ERR_NOMEM. */
int64_t salvo_txstream_missing(salvo_txstream *t, uint64_t start, uint64_t end,
			       uint64_t echo_ts, uint64_t margin);

/* Bytes handed out and not known to be held by the receiver. */
uint64_t salvo_txstream_unacked(const salvo_txstream *t);

/* Marks [start, end) as sent at tag (SALVO_TX_PENDING while in flight);
 * repair: it was sent before (a retransmission).  0 or SALVO_ERR_NOMEM. */
int salvo_txstream_mark(salvo_txstream *t, uint64_t start, uint64_t end,
			uint64_t tag, int repair);

#endif
