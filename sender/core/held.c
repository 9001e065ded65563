/*
 * Sender core: what the receiver already holds and what it decided per
 * file (VERDICT, wire.h), and new data around the held bytes.
 *
 * VERDICT packets are taken in order only: held ranges [0, n) and then
 * verdicts of entries [0, n), each list growing only from where it stands,
 * so a lost or reordered packet is simply sent again by the receiver
 * (STATUS tells it ranges_have and verdicts_have) and no gap has to be
 * tracked here.  Verdicts are taken only once every held range is here,
 * so a complete verdict list means a complete picture.
 *
 * Once the list is complete, a VERDICT from an earlier entry restates
 * it: a file the receiver could not store after all its bytes arrived
 * (its commit failed) turns from send or resume to failed, alone, and the
 * session goes on.  Nothing else may change; each such file counts once
 * in late_have, which STATUS reports as verdicts_have above the entry
 * count, so the receiver completes only once the sender knows.
 *
 * New data skips held bytes: the new-data cursor jumps over them, and a
 * block the receiver partly holds goes out as the pieces it lacks, each
 * widened to datagram boundaries (the receiver accepts only whole
 * datagrams at their places, and takes from them the bytes it lacks).
 * Such blocks carry block_crc 0; the receiver checks no CRC for them
 * (receiver.h, verify_block), the AEAD tag guards every datagram and the
 * file's BLAKE3 the whole file.  Widened ranges never overlap, within a
 * work item or across them (the cursor stays on a datagram boundary, or
 * a held range's end, whose datagram starts at or after it), so every
 * byte goes out new once and is hashed once.
 */
#include <string.h>

#include "common/core/error.h"
#include "sender/core/ssess.h"

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

int ss_prepared(const salvo_sender *s)
{
	return s->verdicts_have == s->file_count &&
	       s->ranges_have == s->ranges_total;
}

void ss_skip_held(salvo_sender *s)
{
	salvo_txstream *t = &s->data;
	for (;;) {
		size_t i = salvo_rangeset_lower_bound(&s->held, t->next_new);
		if (i == s->held.n || s->held.r[i].start > t->next_new)
			return;
		t->next_new = min64(s->held.r[i].end, t->total);
	}
}

uint64_t ss_held_above(const salvo_sender *s, uint64_t x)
{
	uint64_t n = 0;
	for (size_t i = salvo_rangeset_lower_bound(&s->held, x); i < s->held.n;
	     i++)
		n += s->held.r[i].end - max64(s->held.r[i].start, x);
	return n;
}

/* Entry i is not sent at all: its digest is not needed. */
static void leave_out(salvo_sender *s, uint32_t i)
{
	if (s->have_digest[i])
		return;
	s->have_digest[i] = 1;
	memset(s->digest[i], 0, SALVO_DIGEST_BYTES);
}

/* Returns 1 when the packet moved something. */
int ss_on_verdict(salvo_sender *s, const salvo_pkt_verdict *v)
{
	salvo_verdict_iter it;
	salvo_range r;
	int moved = 0;
	if (s->ranges_have && v->ranges_total != s->ranges_total) {
		s->st.malformed++; /* the receiver changed its mind */
		return 0;
	}
	salvo_wire_verdict_iter(&it, v);
	if (v->first_range == s->ranges_have && v->nranges) {
		s->ranges_total = v->ranges_total;
		while (salvo_wire_verdict_next_range(&it, &r)) {
			if (r.end > s->data.total ||
			    salvo_rangeset_add(&s->held, r.start, r.end, 0)) {
				s->st.malformed++;
				return moved;
			}
			s->ranges_have++;
		}
		moved = 1;
	} else if (!s->ranges_have) {
		s->ranges_total = v->ranges_total;
	}
	uint32_t count, i = v->first_file;
	uint8_t verdict;
	int32_t err;
	if (s->ranges_have == s->ranges_total &&
	    s->verdicts_have == s->file_count && v->nruns &&
	    v->first_file < s->file_count &&
	    v->nfiles <= s->file_count - v->first_file) {
		while (salvo_wire_verdict_next_run(&it, &count, &verdict, &err))
			for (uint32_t k = 0; k < count; k++, i++)
				if (verdict == SALVO_VERDICT_FAILED &&
				    (s->verdict[i] == SALVO_VERDICT_SEND ||
				     s->verdict[i] == SALVO_VERDICT_RESUME)) {
					s->verdict[i] = verdict;
					s->verdict_err[i] = err;
					s->late_have++;
					moved = 1;
				}
		return moved;
	}
	if (s->ranges_have != s->ranges_total ||
	    v->first_file != s->verdicts_have || !v->nruns ||
	    v->nfiles > s->file_count - s->verdicts_have)
		return moved;
	while (salvo_wire_verdict_next_run(&it, &count, &verdict, &err))
		for (uint32_t k = 0; k < count; k++, i++) {
			s->verdict[i] = verdict;
			s->verdict_err[i] = err;
			if (verdict != SALVO_VERDICT_SEND &&
			    verdict != SALVO_VERDICT_RESUME)
				leave_out(s, i);
		}
	s->verdicts_have = i;
	while (s->digests_known < s->file_count &&
	       s->have_digest[s->digests_known])
		s->digests_known++;
	if (ss_prepared(s)) {
		s->st.bytes_held = s->held.bytes;
		ss_skip_held(s);
	}
	return 1;
}

int salvo_sender_verdict(const salvo_sender *s, uint32_t i, int *err)
{
	if (err)
		*err = 0;
	if (i >= s->file_count || i >= s->verdicts_have)
		return -1;
	if (err)
		*err = s->verdict_err[i];
	return s->verdict[i];
}

int salvo_sender_is_prepared(const salvo_sender *s)
{
	return ss_prepared(s);
}

/* Appends [start, end) (inside one block) to a's ranges, merged with the
 * last one when they touch. */
static void put_range(ss_active *a, const salvo_sender *s, uint64_t start,
		      uint64_t end)
{
	if (a->nranges) {
		salvo_work_range *l = &a->ranges[a->nranges - 1];
		if (l->stream_offset + l->len >= start) {
			l->len = (uint32_t)(end - l->stream_offset);
			return;
		}
	}
	uint32_t b = (uint32_t)(start / s->cfg.block_bytes);
	salvo_work_range *r = &a->ranges[a->nranges++];
	r->block = b;
	r->offset = (uint32_t)(start - (uint64_t)b * s->cfg.block_bytes);
	r->len = (uint32_t)(end - start);
	r->stream_offset = start;
	r->block_crc = 0;
}

void ss_take_new(salvo_sender *s, ss_active *a)
{
	salvo_txstream *t = &s->data;
	uint64_t bb = s->cfg.block_bytes, p = s->payload;
	uint64_t cur = t->next_new;
	uint64_t bstart = cur / bb * bb, bend = min64(t->total, bstart + bb);
	a->is_first = 1;
	if (cur == bstart && !salvo_rangeset_intersects(&s->held, cur, bend)) {
		put_range(a, s, cur, bend);
		a->is_new = 1;
		t->next_new = bend;
		ss_skip_held(s);
		return;
	}
	/* the pieces of [cur, bend) not held, widened to whole datagrams.
	 * Below the cursor's datagram everything went already; between
	 * that datagram's start and the cursor (a held range's end) every
	 * byte is held, so the widened datagram sends nothing twice. */
	uint64_t end = bstart + (cur - bstart) / p * p;
	while (cur < bend) {
		size_t i = salvo_rangeset_lower_bound(&s->held, cur);
		if (i < s->held.n && s->held.r[i].start <= cur) {
			cur = min64(s->held.r[i].end, bend);
			continue;
		}
		uint64_t x =
		    i < s->held.n ? min64(s->held.r[i].start, bend) : bend;
		uint64_t lo = max64(bstart + (cur - bstart) / p * p, end);
		uint64_t hi =
		    min64(bend, bstart + (x - bstart + p - 1) / p * p);
		if (lo < hi) {
			if (a->nranges == SALVO_WORK_MAX_RANGES &&
			    a->ranges[a->nranges - 1].stream_offset +
				    a->ranges[a->nranges - 1].len <
				lo) {
				cur = end; /* no room: from here next time */
				break;
			}
			put_range(a, s, lo, hi);
			end = hi;
		}
		cur = x;
	}
	t->next_new = cur < bend ? cur : bend;
	ss_skip_held(s);
}
