/*
 * Packet-train rates for FEEDBACK (rtrain.h has the contract).  A train
 * ends at the first datagram too late for it, or one stamped before the
 * newest (another socket's thread read it late: order lost); a train
 * still running at a take waits for the next.  The lower median of a
 * handful of values: an insertion sort of at most RTRAIN_RATES.
 */
#include "receiver/core/rtrain.h"

static void train_end(rtrain *t)
{
	uint64_t span = t->last - t->first;
	if (t->n < RTRAIN_MIN_DGRAMS || span < RTRAIN_MIN_SPAN_NS ||
	    t->nrates >= RTRAIN_RATES)
		return;
	/* a train at the link's pace may run for as long as the transfer:
	 * its bytes x 8e6 pass 64 bits after 2.3 TB */
	unsigned __int128 k = (unsigned __int128)t->bytes * 8000000u / span;
	t->kbps[t->nrates++] = k > UINT64_MAX ? UINT64_MAX : (uint64_t)k;
}

void rtrain_note(rtrain *t, uint64_t arrival, uint32_t ip_bytes)
{
	if (t->n && arrival >= t->last && arrival - t->last <= RTRAIN_GAP_NS) {
		t->bytes += ip_bytes;
		t->last = arrival;
		t->n++;
		return;
	}
	if (t->n)
		train_end(t);
	t->first = t->last = arrival;
	t->bytes = 0;
	t->n = 1;
}

uint32_t rtrain_take(rtrain *t)
{
	uint32_t n = t->nrates;
	if (!n)
		return 0;
	for (uint32_t i = 1; i < n; i++) {
		uint64_t v = t->kbps[i];
		uint32_t j = i;
		for (; j && t->kbps[j - 1] > v; j--)
			t->kbps[j] = t->kbps[j - 1];
		t->kbps[j] = v;
	}
	uint64_t m = t->kbps[(n - 1) / 2];
	t->nrates = 0;
	return m > UINT32_MAX ? UINT32_MAX : (uint32_t)m;
}
