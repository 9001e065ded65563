/*
 * Receive-stream bookkeeping.  The invariant: every byte in
 * [cum, known_end) is either in `missing` or has arrived; cum is the
 * first missing byte (or known_end).  Marking and STATUS only move
 * known_end forward, so the set holds just the holes in flight.
 */
#include "receiver/core/rxstream.h"

#include "common/core/error.h"

void salvo_rxstream_init(salvo_rxstream *x, const salvo_mem *mem,
			 uint64_t total)
{
	x->total = total;
	x->cum = x->known_end = x->sent_through = 0;
	salvo_rangeset_init(&x->missing, mem);
}

void salvo_rxstream_free(salvo_rxstream *x)
{
	salvo_rangeset_free(&x->missing);
}

static void update_cum(salvo_rxstream *x)
{
	x->cum = x->missing.n ? x->missing.r[0].start : x->known_end;
}

int salvo_rxstream_is_new(const salvo_rxstream *x, uint64_t start, uint64_t end)
{
	if (start >= x->known_end)
		return 1;
	if (end > x->known_end)
		return 0; /* straddles: cannot happen for aligned datagrams */
	return salvo_rangeset_covers(&x->missing, start, end);
}

/* Adds the hole [a, b) to missing: reportable now below sent_through,
 * unsent above it. */
static int add_hole(salvo_rxstream *x, uint64_t a, uint64_t b, uint64_t now,
		    int *new_gap)
{
	uint64_t mid = x->sent_through < a   ? a
		       : x->sent_through > b ? b
					     : x->sent_through;
	int err = salvo_rangeset_add(&x->missing, a, mid, now);
	if (!err)
		err = salvo_rangeset_add(&x->missing, mid, b, SALVO_RX_UNSENT);
	if (!err && mid > a && new_gap)
		*new_gap = 1;
	return err;
}

int salvo_rxstream_mark(salvo_rxstream *x, uint64_t start, uint64_t end,
			uint64_t now, int *new_gap)
{
	int err = 0;
	if (start >= x->known_end) {
		err = add_hole(x, x->known_end, start, now, new_gap);
		if (!err)
			x->known_end = end;
	} else {
		err = salvo_rangeset_remove(&x->missing, start, end);
	}
	update_cum(x);
	return err;
}

int salvo_rxstream_unmark(salvo_rxstream *x, uint64_t start, uint64_t end)
{
	int err = salvo_rangeset_add(&x->missing, start, end, 0);
	update_cum(x);
	return err;
}

uint64_t salvo_rxstream_late(const salvo_rxstream *x, uint64_t start,
			     uint64_t end, uint64_t now)
{
	uint64_t late = 0;
	size_t i = salvo_rangeset_lower_bound(&x->missing, start);
	for (; i < x->missing.n && x->missing.r[i].start < end; i++) {
		uint64_t t = x->missing.r[i].tag;
		if (t != SALVO_RX_UNSENT && t < now && now - t > late)
			late = now - t;
	}
	return late;
}

int salvo_rxstream_sent_before(salvo_rxstream *x, uint64_t from, uint64_t to,
			       uint64_t now, int *new_gap)
{
	/* below sent_through nothing waits for a STATUS */
	if (from < x->sent_through)
		from = x->sent_through;
	size_t i = salvo_rangeset_lower_bound(&x->missing, from);
	for (; i < x->missing.n && x->missing.r[i].start < to; i++)
		if (x->missing.r[i].tag == SALVO_RX_UNSENT) {
			if (new_gap)
				*new_gap = 1;
			return salvo_rangeset_retag(&x->missing, from, to,
						    SALVO_RX_UNSENT, now);
		}
	return 0;
}

int salvo_rxstream_sent(salvo_rxstream *x, uint64_t sent_through, uint64_t now)
{
	if (sent_through > x->total)
		sent_through = x->total;
	if (sent_through <= x->sent_through)
		return 0;
	int err = salvo_rangeset_retag(&x->missing, x->sent_through,
				       sent_through, SALVO_RX_UNSENT, now);
	x->sent_through = sent_through;
	if (!err && sent_through > x->known_end) {
		err = salvo_rangeset_add(&x->missing, x->known_end,
					 sent_through, now);
		if (!err)
			x->known_end = sent_through;
	}
	update_cum(x);
	return err;
}

uint64_t salvo_rxstream_above_cum(const salvo_rxstream *x)
{
	return x->known_end - x->cum - x->missing.bytes;
}

size_t salvo_rxstream_report(const salvo_rxstream *x, uint64_t now,
			     uint64_t wnd, size_t *from, salvo_range *out,
			     size_t max)
{
	size_t k = 0, i = *from;
	for (; i < x->missing.n && k < max; i++) {
		const salvo_trange *r = &x->missing.r[i];
		if (r->tag == SALVO_RX_UNSENT || r->tag + wnd > now)
			continue;
		if (k && out[k - 1].end == r->start)
			out[k - 1].end = r->end; /* tags differ, holes touch */
		else
			out[k++] = (salvo_range){r->start, r->end};
	}
	*from = i;
	return k;
}
