/*
 * The receive side of one byte stream (the manifest, or the file data):
 * which bytes arrived, which are missing, and since when each hole may be
 * reported.  Internal to the receiver core.
 *
 * A hole is reportable once the sender has said it sent those bytes
 * (STATUS.sent_through) and a reordering allowance has passed.  Holes the
 * sender has not yet vouched for (block-sender threads send blocks side
 * by side, so a later block's datagrams arrive while an earlier block is
 * still on its way) carry SALVO_RX_UNSENT and are never reported.
 */
#ifndef SALVO_RXSTREAM_H
#define SALVO_RXSTREAM_H

#include <stdint.h>

#include "common/core/rangeset.h"
#include "common/core/wire.h"

#define SALVO_RX_UNSENT UINT64_MAX

typedef struct salvo_rxstream {
	uint64_t total;
	uint64_t cum;		/* every byte below arrived */
	uint64_t known_end;	/* bytes at and above: not known to exist */
	uint64_t sent_through;	/* from the latest STATUS */
	salvo_rangeset missing; /* holes below known_end, tag: reportable
				   since (ns), or SALVO_RX_UNSENT */
} salvo_rxstream;

void salvo_rxstream_init(salvo_rxstream *x, const salvo_mem *mem,
			 uint64_t total);
void salvo_rxstream_free(salvo_rxstream *x);

/* True when [start, end) has not arrived yet (all of it). */
int salvo_rxstream_is_new(const salvo_rxstream *x, uint64_t start,
			  uint64_t end);

/* Records [start, end) as arrived at now.  Sets *new_gap when a hole
 * opened that will become reportable.  0 or SALVO_ERR_NOMEM. */
int salvo_rxstream_mark(salvo_rxstream *x, uint64_t start, uint64_t end,
			uint64_t now, int *new_gap);

/* Records [start, end) as missing again (a block failed verification),
 * reportable at once.  0 or SALVO_ERR_NOMEM. */
int salvo_rxstream_unmark(salvo_rxstream *x, uint64_t start, uint64_t end);

/* The longest any byte of [start, end) has been reportable missing at
 * now (0: none was): for a first transmission that arrives, how late
 * it came after its hole was reported or about to be (reordering). */
uint64_t salvo_rxstream_late(const salvo_rxstream *x, uint64_t start,
			     uint64_t end, uint64_t now);

/* The bytes of [from, to) were sent before a datagram that arrived at
 * now (the same block's earlier datagrams: a block's first transmission
 * goes out in order): its holes that waited for a STATUS are reportable
 * from now on (*new_gap set).  0 or SALVO_ERR_NOMEM. */
int salvo_rxstream_sent_before(salvo_rxstream *x, uint64_t from, uint64_t to,
			       uint64_t now, int *new_gap);

/* Applies STATUS.sent_through.  0 or SALVO_ERR_NOMEM. */
int salvo_rxstream_sent(salvo_rxstream *x, uint64_t sent_through, uint64_t now);

/* Bytes held at or above cum. */
uint64_t salvo_rxstream_above_cum(const salvo_rxstream *x);

/* Fills out[0..max) with the holes reportable at now (tag + wnd <= now),
 * ascending from index *from of the missing set; returns the count and
 * advances *from past the last hole examined. */
size_t salvo_rxstream_report(const salvo_rxstream *x, uint64_t now,
			     uint64_t wnd, size_t *from, salvo_range *out,
			     size_t max);

/* True when every byte of the stream arrived. */
static inline int salvo_rxstream_is_complete(const salvo_rxstream *x)
{
	return x->cum == x->total;
}

#endif
