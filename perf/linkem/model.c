/*
 * linkem link model (see model.h for the contract).
 *
 * Order of events for a packet, as on a real path and as netem does it:
 * loss first (the Gilbert-Elliott chain steps once per packet, then a
 * Bernoulli draw), then the drop-tail queue in front of the serializer, then
 * the propagation delay with its jitter.  The queue needs no list: with a
 * fixed rate, the bytes still queued at time t are exactly
 * (link_free_ns - t) * rate, so the state is one timestamp.  A packet that
 * would push the backlog past the limit is dropped (an empty queue always
 * takes one packet, so a limit below the MTU still passes traffic).
 *
 * Jitter never reorders: a copy never leaves before the copy before it
 * (last_due_ns), which is how queueing jitter behaves on a FIFO path.  At
 * packet rates far above 1/jitter the delay therefore sits near
 * delay + jitter.  Reordering is its own knob: a reordered packet is held
 * back by reorder_ns on top of its due time, so later packets overtake it.
 * This keeps in-order copies monotonic, so the I/O layer can hold them in a
 * FIFO and only reordered ones in a heap.
 */
#include "perf/linkem/model.h"

#include <string.h>

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t linkem_model_rand(struct linkem_dir *d)
{
	uint64_t *s = d->rng;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* True with probability p; draws nothing when p is 0 or 1, so a knob that
 * is off does not shift the stream seen by the other knobs. */
static bool chance(struct linkem_dir *d, double p)
{
	if (p <= 0.0)
		return false;
	if (p >= 1.0)
		return true;
	return (double)(linkem_model_rand(d) >> 11) * 0x1.0p-53 < p;
}

void linkem_model_init(struct linkem_dir *d, const struct linkem_params *p,
		       uint64_t seed)
{
	memset(d, 0, sizeof(*d));
	d->p = *p;
	if (d->p.rate_bps && !d->p.limit_bytes)
		d->p.limit_bytes = LINKEM_DEFAULT_LIMIT_BYTES;
	if (!d->p.reorder_ns)
		d->p.reorder_ns = LINKEM_DEFAULT_REORDER_NS;
	for (int i = 0; i < 4; i++)
		d->rng[i] = splitmix64(&seed);
}

static bool is_lost(struct linkem_dir *d)
{
	if (d->p.ge_p > 0.0) {
		if (!d->ge_bad) {
			if (chance(d, d->p.ge_p)) {
				d->ge_bad = true;
				linkem_count(&d->c.ge_bursts, 1);
			}
		} else if (chance(d, d->p.ge_r)) {
			d->ge_bad = false;
		}
		if (chance(d, d->ge_bad ? d->p.ge_loss_bad : d->p.ge_loss_good))
			return true;
	}
	return chance(d, d->p.loss);
}

/* Passes len bytes through the drop-tail queue and the serializer; returns
 * false when the queue is full, else sets *done_ns to when the last bit has
 * been sent. */
static bool enqueue(struct linkem_dir *d, uint32_t len, uint64_t now_ns,
		    uint64_t *done_ns)
{
	if (!d->p.rate_bps) {
		*done_ns = now_ns;
		return true;
	}
	uint64_t start = now_ns;
	if (d->link_free_ns > now_ns) {
		uint64_t backlog =
		    (uint64_t)((unsigned __int128)(d->link_free_ns - now_ns) *
			       d->p.rate_bps / 8000000000ull);
		if (backlog + len > d->p.limit_bytes)
			return false;
		start = d->link_free_ns;
	}
	uint64_t tx_ns =
	    (uint64_t)((unsigned __int128)len * 8000000000ull / d->p.rate_bps);
	d->link_free_ns = start + tx_ns;
	*done_ns = d->link_free_ns;
	return true;
}

static uint64_t jittered(struct linkem_dir *d, uint64_t t_ns)
{
	uint64_t due = t_ns + d->p.delay_ns;
	uint64_t j = d->p.jitter_ns;
	if (j) {
		uint64_t r = linkem_model_rand(d) % (2 * j + 1);
		if (r >= j)
			due += r - j;
		else
			due = (due - t_ns > j - r) ? due - (j - r) : t_ns;
	}
	return due;
}

static int64_t pick_flip_bit(struct linkem_dir *d, const uint8_t *pkt,
			     uint32_t len)
{
	uint32_t hdr = 0;
	if (len >= 20 && (pkt[0] >> 4) == 4)
		hdr = (uint32_t)(pkt[0] & 0x0f) * 4;
	else if (len >= 40 && (pkt[0] >> 4) == 6)
		hdr = 40;
	if (hdr >= len)
		hdr = 0;
	/* Past the IP header: the packet still reaches its transport, whose
	 * checksum catches it, as on a real path with a bad link. */
	uint64_t span = (uint64_t)(len - hdr) * 8;
	return (int64_t)(hdr * 8ull + linkem_model_rand(d) % span);
}

void linkem_model_decide(struct linkem_dir *d, const uint8_t *pkt, uint32_t len,
			 uint64_t now_ns, struct linkem_verdict *v)
{
	v->ncopies = 0;
	v->flip_bit = -1;
	linkem_count(&d->c.in_pkts, 1);
	linkem_count(&d->c.in_bytes, len);
	if (!len)
		return;
	if (is_lost(d)) {
		linkem_count(&d->c.drop_loss, 1);
		return;
	}
	unsigned want = 1;
	if (chance(d, d->p.duplicate)) {
		/* Counted when decided: a copy the queue then refuses is a
		 * queue drop, so in + duplicated = out + drops + held holds. */
		want = 2;
		linkem_count(&d->c.duplicated, 1);
	}
	for (unsigned i = 0; i < want; i++) {
		uint64_t sent_ns;
		if (!enqueue(d, len, now_ns, &sent_ns)) {
			linkem_count(&d->c.drop_queue, 1);
			continue;
		}
		struct linkem_copy *cp = &v->copy[v->ncopies++];
		cp->due_ns = jittered(d, sent_ns);
		cp->reordered = chance(d, d->p.reorder);
		if (cp->reordered) {
			cp->due_ns += d->p.reorder_ns;
			linkem_count(&d->c.reordered, 1);
		} else {
			if (cp->due_ns < d->last_due_ns)
				cp->due_ns = d->last_due_ns;
			d->last_due_ns = cp->due_ns;
		}
	}
	if (v->ncopies && chance(d, d->p.corrupt)) {
		v->flip_bit = pick_flip_bit(d, pkt, len);
		linkem_count(&d->c.corrupted, 1);
	}
}

void linkem_model_snapshot(const struct linkem_dir *d,
			   struct linkem_counters *out)
{
	const uint64_t *src = (const uint64_t *)&d->c;
	uint64_t *dst = (uint64_t *)out;
	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
