/*
 * Receiver core: what a session held and decided when the engine
 * prepared its files, and telling the sender (VERDICT, wire.h).
 *
 * During the prepare callback the engine marks stream ranges as already
 * held (salvo_rsess_mark_present) and gives files verdicts
 * (salvo_rsess_set_verdict); a verdict that sends nothing holds the
 * file's bytes.  When the data phase starts (rverdict_start) the held
 * ranges are frozen into an array, marked as arrived in the data stream
 * (so the first FEEDBACK's cum and counts include them), and the blocks
 * they cover are settled: wholly held blocks count as verified, partly
 * held ones are checked without their CRC (receiver.h, verify_block).
 *
 * VERDICT packets go out just before the first data-phase FEEDBACK (same
 * path, so usually first), then again from what each STATUS says the
 * sender holds, at most once per RTT, until it holds everything: a lost
 * VERDICT costs a round trip, never a wrong send.
 */
#include <string.h>

#include "common/core/error.h"
#include "common/core/policy.h"
#include "receiver/core/rsess.h"

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static int preparing(const salvo_rsess *s)
{
	return s->preparing && s->have_manifest && s->state == RS_MANIFEST;
}

int salvo_rsess_mark_present(salvo_rsess *s, uint64_t start, uint64_t end)
{
	if (!preparing(s) || start >= end || end > s->total)
		return SALVO_ERR_INVAL;
	if (s->held_set.n >= SALVO_VERDICT_RANGES_MAX)
		return SALVO_ERR_TOOBIG;
	return salvo_rangeset_add(&s->held_set, start, end, 0);
}

int rverdict_is_out(const salvo_rsess *s, uint32_t i)
{
	return s->verdict && s->verdict[i] != SALVO_VERDICT_SEND &&
	       s->verdict[i] != SALVO_VERDICT_RESUME;
}

int salvo_rsess_set_verdict(salvo_rsess *s, uint32_t i, int verdict, int err)
{
	const salvo_mem *mem = s->r->mem;
	if (!preparing(s) || i >= s->m.count || verdict < 0 ||
	    verdict > SALVO_VERDICT_MAX)
		return SALVO_ERR_INVAL;
	if (!s->verdict_err) {
		size_t n = s->m.count ? s->m.count : 1;
		s->verdict = salvo_mem_alloc(mem, n);
		s->verdict_err = salvo_mem_array(mem, n, sizeof(int32_t));
		if (!s->verdict || !s->verdict_err) {
			salvo_mem_free(mem, s->verdict);
			salvo_mem_free(mem, s->verdict_err);
			s->verdict = NULL;
			s->verdict_err = NULL;
			return SALVO_ERR_NOMEM;
		}
		memset(s->verdict, SALVO_VERDICT_SEND, n);
		memset(s->verdict_err, 0, n * sizeof(int32_t));
	}
	s->verdict[i] = (uint8_t)verdict;
	s->verdict_err[i] = err < 0 ? -err : err;
	const salvo_entry *e = &s->m.entries[i];
	if (rverdict_is_out(s, i) && e->size)
		return salvo_rsess_mark_present(s, e->stream_offset,
						e->stream_offset + e->size);
	return 0;
}

int salvo_rsess_verdict(const salvo_rsess *s, uint32_t i)
{
	return s->verdict && i < s->m.count ? s->verdict[i]
					    : SALVO_VERDICT_SEND;
}

/* Settles the blocks [first, last] that held range k touches. */
static void settle_blocks(salvo_rsess *s, uint64_t first, uint64_t last)
{
	for (uint64_t b = first; b <= last; b++) {
		if (s->bstate[b] == BLK_VERIFIED)
			continue;
		uint64_t bs = b * s->block_bytes;
		uint64_t be = bs + s->block_bytes < s->total
				  ? bs + s->block_bytes
				  : s->total;
		if (!salvo_rangeset_covers(&s->held_set, bs, be)) {
			s->bpartial[b] = 1;
			continue;
		}
		s->bstate[b] = BLK_VERIFIED;
		for (uint32_t i = salvo_manifest_locate(&s->m, bs);
		     i < s->m.count && s->m.entries[i].stream_offset < be;
		     i++) {
			const salvo_entry *e = &s->m.entries[i];
			if (e->size && e->stream_offset + e->size > bs &&
			    s->fpending[i])
				s->fpending[i]--;
		}
	}
}

int rverdict_start(salvo_rsess *s, uint64_t now)
{
	s->preparing = 0;
	if (!s->verdict) { /* every entry SEND; no errnos to keep */
		s->verdict =
		    salvo_mem_alloc(s->r->mem, s->m.count ? s->m.count : 1);
		if (!s->verdict)
			return SALVO_ERR_NOMEM;
		memset(s->verdict, SALVO_VERDICT_SEND, s->m.count);
	}
	uint32_t n = (uint32_t)s->held_set.n;
	if (!n)
		return 0;
	s->held = salvo_mem_array(s->r->mem, n, sizeof(*s->held));
	if (!s->held)
		return SALVO_ERR_NOMEM;
	s->nheld = n;
	uint64_t last_done = UINT64_MAX;
	for (uint32_t k = 0; k < n; k++) {
		const salvo_trange *t = &s->held_set.r[k];
		s->held[k] = (salvo_range){t->start, t->end};
		if (salvo_rxstream_mark(&s->drx, t->start, t->end, now, NULL))
			return SALVO_ERR_NOMEM;
		uint64_t first = t->start / s->block_bytes;
		uint64_t last = (t->end - 1) / s->block_bytes;
		if (first == last_done)
			first++;
		if (first <= last)
			settle_blocks(s, first, last);
		last_done = last;
	}
	return 0;
}

void rverdict_send(salvo_rsess *s, uint64_t now, int force)
{
	uint32_t r = s->vd_ranges_echo, f = s->vd_files_echo;
	/* late failures the sender lacks: restated from the first */
	if (r >= s->nheld && f >= s->m.count && !rverdict_late_held(s))
		f = s->late_first;
	if (!s->verdict || (r >= s->nheld && f >= s->m.count))
		return;
	if (!force && now < s->vd_sent_at + max64(s->srtt_ns, RS_MS))
		return;
	s->vd_sent_at = now ? now : 1;
	uint8_t buf[SALVO_DATAGRAM_MAX_BYTES];
	/* a burst of at most RS_VERDICT_BURST packets; the rest follows
	 * the STATUS that confirms them */
	for (int k = 0; k < RS_VERDICT_BURST; k++) {
		uint32_t rw, fw;
		int len = salvo_wire_encode_verdict(
		    buf, s->datagram_bytes, s->id, rsess_pn(s), s->held,
		    s->nheld, r, s->verdict, s->verdict_err, s->m.count, f, &rw,
		    &fw);
		if (len < 0 || (!rw && !fw))
			return;
		rsess_send(s, buf, (size_t)len);
		r += rw;
		f += fw;
		if (r >= s->nheld && f >= s->m.count)
			return;
	}
}

void rverdict_on_status(salvo_rsess *s, const salvo_pkt_status *st,
			uint64_t now)
{
	if (st->phase != SALVO_PHASE_DATA || !s->verdict)
		return;
	if (st->ranges_have <= s->nheld && st->ranges_have > s->vd_ranges_echo)
		s->vd_ranges_echo = st->ranges_have;
	if (st->verdicts_have <= s->m.count &&
	    st->verdicts_have > s->vd_files_echo)
		s->vd_files_echo = st->verdicts_have;
	/* above the count: all of them, and that many late failures */
	if (st->verdicts_have > s->m.count &&
	    st->verdicts_have - s->m.count <= s->late_n &&
	    st->verdicts_have - s->m.count > s->late_echo)
		s->late_echo = st->verdicts_have - s->m.count;
	rverdict_send(s, now, 0);
}

int rverdict_late_held(const salvo_rsess *s)
{
	return s->late_echo >= s->late_n;
}

int rverdict_late_fail(salvo_rsess *s, uint32_t i, int err, uint64_t now)
{
	if (!s->verdict_err) { /* every entry SEND so far: no errnos yet */
		const salvo_mem *mem = s->r->mem;
		size_t n = s->m.count ? s->m.count : 1;
		s->verdict_err = salvo_mem_array(mem, n, sizeof(int32_t));
		if (!s->verdict_err)
			return SALVO_ERR_NOMEM;
		memset(s->verdict_err, 0, n * sizeof(int32_t));
	}
	s->verdict[i] = SALVO_VERDICT_FAILED;
	s->verdict_err[i] = err < 0 ? -err : err;
	if (!s->late_n++ || i < s->late_first)
		s->late_first = i;
	rverdict_send(s, now, 1);
	return 0;
}

void rverdict_free(salvo_rsess *s)
{
	const salvo_mem *mem = s->r->mem;
	salvo_rangeset_free(&s->held_set);
	salvo_mem_free(mem, s->held);
	salvo_mem_free(mem, s->verdict);
	salvo_mem_free(mem, s->verdict_err);
	s->held = NULL;
	s->verdict = NULL;
	s->verdict_err = NULL;
	s->nheld = 0;
}

static int same_mtime(int64_t a, int64_t b)
{
	const int64_t sec = 1000000000;
	if (a == b)
		return 1;
	return b % sec == 0 && a / sec == b / sec;
}

int salvo_verdict_decide(int request, int bound, const salvo_entry *e,
			 const salvo_existing *x)
{
	if (!x->exists)
		return SALVO_VERDICT_SEND;
	if (!x->is_file)
		return SALVO_VERDICT_FAILED;
	int identical =
	    x->size == e->size &&
	    (x->compared ? x->same : same_mtime(e->mtime_ns, x->mtime_ns));
	if (identical && request != SALVO_SEND_ALWAYS)
		return SALVO_VERDICT_IDENTICAL;
	if (request == SALVO_SEND_NEVER)
		return SALVO_VERDICT_EXISTS;
	if (request == SALVO_SEND_IF_NEWER && e->mtime_ns <= x->mtime_ns)
		return SALVO_VERDICT_NOT_NEWER;
	return bound == SALVO_OVERWRITE_NEVER ? SALVO_VERDICT_REFUSED
					      : SALVO_VERDICT_SEND;
}
