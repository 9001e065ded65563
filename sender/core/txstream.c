/*
 * Transmit-stream bookkeeping (see txstream.h for the retransmission
 * rule).  Both sets only ever hold bytes in [cum, next_new): everything
 * below cum is pruned on each ack, so their size tracks what is in
 * flight, not the size of the transfer.
 */
#include "sender/core/txstream.h"

#include "common/core/error.h"

void salvo_txstream_init(salvo_txstream *t, const salvo_mem *mem,
			 uint64_t total)
{
	t->total = total;
	t->next_new = 0;
	t->cum = 0;
	t->recv_above = 0;
	salvo_rangeset_init(&t->retx, mem);
	salvo_rangeset_init(&t->sent, mem);
	salvo_rangeset_init(&t->again, mem);
}

void salvo_txstream_free(salvo_txstream *t)
{
	salvo_rangeset_free(&t->retx);
	salvo_rangeset_free(&t->sent);
	salvo_rangeset_free(&t->again);
}

void salvo_txstream_ack(salvo_txstream *t, uint64_t cum, uint64_t recv_above)
{
	if (cum > t->next_new)
		cum = t->next_new; /* never trust an ack for bytes not sent */
	if (cum >= t->cum) {
		t->cum = cum;
		t->recv_above = recv_above;
	}
	if (t->recv_above > t->next_new - t->cum)
		t->recv_above = t->next_new - t->cum;
	salvo_rangeset_remove_below(&t->retx, t->cum);
	salvo_rangeset_remove_below(&t->sent, t->cum);
	salvo_rangeset_remove_below(&t->again, t->cum);
}

int salvo_txstream_reopen(salvo_txstream *t, uint64_t cum)
{
	if (cum >= t->cum)
		return 0;
	int err = salvo_rangeset_add(&t->sent, cum, t->cum, 1);
	if (!err) {
		t->cum = cum;
		t->recv_above = 0;
	}
	return err;
}

int64_t salvo_txstream_missing(salvo_txstream *t, uint64_t start, uint64_t end,
			       uint64_t echo_ts, uint64_t margin)
{
	if (start < t->cum)
		start = t->cum;
	if (end > t->next_new)
		end = t->next_new;
	if (start >= end)
		return 0;
	int64_t added = 0;
	size_t i = salvo_rangeset_lower_bound(&t->sent, start);
	for (; i < t->sent.n && t->sent.r[i].start < end; i++) {
		const salvo_trange *r = &t->sent.r[i];
		if (r->tag == SALVO_TX_PENDING)
			continue;
		uint64_t s = r->start > start ? r->start : start;
		uint64_t e = r->end < end ? r->end : end;
		if (salvo_rangeset_intersects(&t->again, s, e) &&
		    r->tag + margin > echo_ts)
			continue; /* a repair, maybe still on its way */
		if (salvo_rangeset_covers(&t->retx, s, e))
			continue;
		uint64_t before = t->retx.bytes;
		if (salvo_rangeset_add(&t->retx, s, e, 0))
			return SALVO_ERR_NOMEM;
		added += (int64_t)(t->retx.bytes - before);
	}
	return added;
}

uint64_t salvo_txstream_unacked(const salvo_txstream *t)
{
	uint64_t out = t->next_new - t->cum;
	return out > t->recv_above ? out - t->recv_above : 0;
}

int salvo_txstream_mark(salvo_txstream *t, uint64_t start, uint64_t end,
			uint64_t tag, int repair)
{
	if (start < t->cum)
		start = t->cum;
	if (start >= end)
		return 0;
	if (repair && salvo_rangeset_add(&t->again, start, end, 0))
		return SALVO_ERR_NOMEM;
	return salvo_rangeset_add(&t->sent, start, end, tag);
}
