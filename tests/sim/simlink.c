/*
 * Simulated link.  The rate queue is modelled by the time it stays busy:
 * a packet arriving while `busy_until - now` worth of bytes is queued
 * beyond the limit is dropped (drop-tail); otherwise it leaves at
 * max(now, busy_until) + its serialization time.  Arrivals then wait in a
 * binary heap ordered by (time, sequence).
 */
#include "tests/sim/simlink.h"

#include <stdlib.h>
#include <string.h>

uint64_t sim_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

double sim_rand01(uint64_t *s)
{
	return (double)(sim_rand(s) >> 11) / 9007199254740992.0;
}

void simlink_init(simlink *l, const simlink_params *p, uint64_t seed)
{
	memset(l, 0, sizeof(*l));
	l->p = *p;
	l->rng = seed;
}

void simlink_free(simlink *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->heap[i].data);
	free(l->heap);
	l->heap = NULL;
	l->n = l->cap = 0;
}

static int before(const simpkt *a, const simpkt *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void push(simlink *l, simpkt pk)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->heap = realloc(l->heap, l->cap * sizeof(*l->heap));
		if (!l->heap)
			abort();
	}
	size_t i = l->n++;
	while (i && before(&pk, &l->heap[(i - 1) / 2])) {
		l->heap[i] = l->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	l->heap[i] = pk;
}

int simlink_pop(simlink *l, simpkt *out)
{
	if (!l->n)
		return 0;
	*out = l->heap[0];
	simpkt last = l->heap[--l->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= l->n)
			break;
		if (c + 1 < l->n && before(&l->heap[c + 1], &l->heap[c]))
			c++;
		if (!before(&l->heap[c], &last))
			break;
		l->heap[i] = l->heap[c];
		i = c;
	}
	if (l->n)
		l->heap[i] = last;
	l->st.delivered++;
	return 1;
}

uint64_t simlink_next(const simlink *l)
{
	return l->n ? l->heap[0].at : UINT64_MAX;
}

static int lost(simlink *l)
{
	const simlink_params *p = &l->p;
	if (p->ge_p_gb > 0) {
		double u = sim_rand01(&l->rng);
		if (l->ge_bad ? u < p->ge_p_bg : u < p->ge_p_gb)
			l->ge_bad = !l->ge_bad;
		double pl = l->ge_bad ? p->ge_loss_bad : p->ge_loss_good;
		return sim_rand01(&l->rng) < pl;
	}
	return p->loss > 0 && sim_rand01(&l->rng) < p->loss;
}

static void deliver(simlink *l, int src, int dst, const void *data, size_t len,
		    uint64_t at)
{
	const simlink_params *p = &l->p;
	simpkt pk = {
	    .at = at, .seq = l->seq++, .src = src, .dst = dst, .len = len};
	if (p->jitter_ns)
		pk.at += sim_rand(&l->rng) % (p->jitter_ns + 1);
	if (p->reorder > 0 && sim_rand01(&l->rng) < p->reorder)
		pk.at += sim_rand(&l->rng) % (p->reorder_ns + 1);
	pk.data = malloc(len ? len : 1);
	if (!pk.data)
		abort();
	memcpy(pk.data, data, len);
	if (p->corrupt > 0 && len && sim_rand01(&l->rng) < p->corrupt) {
		uint64_t bit = sim_rand(&l->rng) % (len * 8);
		pk.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		l->st.corrupted++;
	}
	push(l, pk);
}

void simlink_send(simlink *l, int src, int dst, const void *data, size_t len,
		  uint64_t now)
{
	const simlink_params *p = &l->p;
	l->st.packets_in++;
	l->st.bytes_in += len;
	if (now >= p->blackhole_start_ns && now < p->blackhole_end_ns) {
		l->st.dropped_blackhole++;
		return;
	}
	uint64_t depart = now;
	if (p->rate_bps) {
		uint64_t start = l->busy_until > now ? l->busy_until : now;
		uint64_t queued = (uint64_t)((unsigned __int128)(start - now) *
					     p->rate_bps / 8000000000u);
		if (p->queue_bytes && queued + len > p->queue_bytes) {
			l->st.dropped_queue++;
			return;
		}
		depart = start + (uint64_t)((unsigned __int128)(len + 28) *
					    8000000000u / p->rate_bps);
		l->busy_until = depart;
	}
	if (lost(l)) {
		l->st.dropped_loss++;
		return;
	}
	deliver(l, src, dst, data, len, depart + p->delay_ns);
	if (p->duplicate > 0 && sim_rand01(&l->rng) < p->duplicate) {
		l->st.duplicated++;
		deliver(l, src, dst, data, len, depart + p->delay_ns);
	}
}
