/*
 * Adaptive rate control: find the path's rate without being told, and
 * ignore random loss (it is not congestion).
 *
 * The signal is queueing delay: an RTT sample minus the lowest RTT seen
 * is the queue this sender keeps at the bottleneck.  Time is cut into
 * rounds of one minimum RTT (at least MIN_ROUND_NS, 4 ms).
 *
 *   start         15,000 bytes per RTT, as TCP's initial window;
 *   start-up      grow the rate by half every round while the queue
 *                 stays under target and three quarters of what we pace
 *                 arrives (doubling overshoots a one-BDP
 *                 buffer for the two rounds it takes to notice);
 *   growth        then add 1/32 of the rate per round while it stays
 *                 under target, doubling the step every three such
 *                 rounds up to 1/2 (a quick return after a false alarm);
 *   cut           when a sample shows the queue over target, when for
 *                 two rounds far less arrives than we pace, or when a
 *                 round loses far more than the random loss (at least
 *                 10 %, 5 points or 3x above it) (at most once
 *                 per two rounds: a cut shows only an RTT later): estimate the
 * capacity as what arrived in the last round corrected for the random loss,
 * pace one round below it by the queue's share of the RTT (so the queue
 * drains), then hold at 96 % of it and grow again.
 *
 * What arrived and what was lost come from the receiver's feedback (bytes
 * it holds, ranges it reports missing), so both carry the same delay.
 * Random loss is measured in rounds with no queue (nothing can have been
 * dropped for lack of room then) and only used to correct the capacity
 * estimate: loss alone never lowers the rate, so a path with 5 % random
 * loss runs at its bottleneck rate.  The target queue is
 * max(2 ms, min RTT / 10, four datagrams' time at the current rate); 2 ms
 * because a busy host's scheduling adds that much to LAN RTT samples.  The
 * rate stays within [floor, ceiling].
 */
#include "common/core/rate.h"

#define MIN_ROUND_NS 4000000ull
/* Never pace below this unless the configured floor or ceiling says so. */
#define MIN_RATE_BPS 500000ull

static uint64_t clamp(const salvo_rate_adaptive *a, uint64_t r)
{
	if (r > a->ceiling_bps)
		r = a->ceiling_bps;
	uint64_t floor =
	    a->floor_bps > MIN_RATE_BPS ? a->floor_bps : MIN_RATE_BPS;
	if (floor > a->ceiling_bps)
		floor = a->ceiling_bps;
	return r < floor ? floor : r;
}

static void adaptive_init(void *state, uint64_t ceiling_bps, uint64_t floor_bps,
			  uint32_t datagram_bytes, uint64_t now)
{
	salvo_rate_adaptive *a = state;
	*a = (salvo_rate_adaptive){0};
	a->ceiling_bps = ceiling_bps;
	a->floor_bps = floor_bps < ceiling_bps ? floor_bps : ceiling_bps;
	a->datagram_bytes = datagram_bytes;
	a->startup = 1;
	a->round_start = now;
	a->rate_bps = clamp(a, SALVO_RATE_START_MIN_BPS);
}

static uint64_t round_ns(const salvo_rate_adaptive *a)
{
	return a->min_rtt_ns > MIN_ROUND_NS ? a->min_rtt_ns : MIN_ROUND_NS;
}

/* IP-level bits per second for `payload` bytes of DATA in dt. */
static uint64_t bps(uint64_t payload, uint32_t per_dgram, uint64_t dt)
{
	return (uint64_t)((unsigned __int128)payload * 8000000000u *
			  (per_dgram + SALVO_DATA_OVERHEAD) / per_dgram /
			  (dt ? dt : 1));
}

/* Capacity from what arrived, corrected for random loss. */
static uint64_t capacity(const salvo_rate_adaptive *a, uint64_t delivered)
{
	uint64_t keep = 1000000 - (a->loss_ppm < 200000 ? a->loss_ppm : 200000);
	return (uint64_t)((unsigned __int128)delivered * 1000000 / keep);
}

static void new_round(salvo_rate_adaptive *a, const salvo_rate_sample *s)
{
	a->rate_before2 = a->rate_before;
	a->rate_before = a->rate_bps;
	a->round_start = s->now;
	a->held0 = s->held_bytes;
	a->lost0 = s->lost_bytes;
	a->rounds++;
}

static uint64_t held_delta(const salvo_rate_adaptive *a,
			   const salvo_rate_sample *s)
{
	return s->held_bytes > a->held0 ? s->held_bytes - a->held0 : 0;
}

static void cut(salvo_rate_adaptive *a, const salvo_rate_sample *s,
		uint64_t queue);

static void end_round(salvo_rate_adaptive *a, const salvo_rate_sample *s,
		      int quiet)
{
	uint64_t dt = s->now - a->round_start;
	uint64_t got = held_delta(a, s), lost = s->lost_bytes - a->lost0;
	if (got)
		a->delivered_bps = bps(got, s->payload_bytes, dt);
	int counted = got + lost >= 32ull * s->payload_bytes;
	uint64_t l = counted ? lost * 1000000 / (got + lost) : 0;
	/* heavy loss far above the random loss is a queue overflowing whose
	 * delay we never saw (its heartbeats drowned with the data); not in
	 * the tail, where little new data makes the repairs look heavy */
	uint64_t severe = 3 * a->loss_ppm;
	if (severe < a->loss_ppm + 50000)
		severe = a->loss_ppm + 50000;
	if (severe < 100000)
		severe = 100000;
	if (got + lost >= 64ull * s->payload_bytes && l > severe &&
	    !s->app_limited && !a->draining &&
	    s->now - a->last_cut >= 2 * round_ns(a)) {
		cut(a, s, 0);
		return;
	}
	if (a->draining) { /* the drain round is over: hold below capacity */
		a->draining = 0;
		a->rate_bps = clamp(a, a->capacity_bps - a->capacity_bps / 25);
	} else if (quiet) {
		/* the path keeps up when nearly all we pace arrives: then the
		 * loss seen is the path's random loss, and we may grow */
		/* what arrives now was paced one or two rounds ago (an RTT of
		 * flight, plus the round itself): compare with the lowest of
		 * the three rates */
		uint64_t paced =
		    a->rate_bps < a->rate_before ? a->rate_bps : a->rate_before;
		if (a->rate_before2 < paced)
			paced = a->rate_before2;
		int keeps_up = a->delivered_bps * 4 >= paced * 3;
		/* far less arriving than we pace, twice in a row, before any
		 * delay shows (the heartbeats queue behind the data): the
		 * bottleneck is at what arrives */
		a->behind =
		    !keeps_up && got && !s->app_limited ? a->behind + 1 : 0;
		if (a->behind >= 2 && a->rounds > 4 &&
		    s->now - a->last_cut >= 2 * round_ns(a)) {
			a->behind = 0;
			cut(a, s, 0);
			return;
		}
		if (counted && keeps_up) {
			a->loss_ppm =
			    a->have_loss ? (7 * a->loss_ppm + l) / 8 : l;
			a->have_loss = 1;
		}
		/* growth speeds up the longer the path stays quiet: 1/32 of
		 * the rate, doubling every three quiet rounds up to 1/2 */
		a->quiet_rounds = keeps_up ? a->quiet_rounds + 1 : 0;
		uint32_t k = a->quiet_rounds / 3 < 4 ? a->quiet_rounds / 3 : 4;
		if (keeps_up)
			a->rate_bps =
			    clamp(a, a->startup ? a->rate_bps * 3 / 2
						: a->rate_bps +
						      (a->rate_bps >> (5 - k)));
	}
	new_round(a, s);
}

static void cut(salvo_rate_adaptive *a, const salvo_rate_sample *s,
		uint64_t queue)
{
	uint64_t dt = s->now - a->round_start;
	/* what arrived: this partial round if long enough, else the last */
	uint64_t got = held_delta(a, s);
	uint64_t delivered = dt >= round_ns(a) / 2 && got
				 ? bps(got, s->payload_bytes, dt)
				 : a->delivered_bps;
	if (!delivered) /* nothing measured yet: halve */
		delivered = a->rate_bps / 2;
	a->startup = 0;
	a->capacity_bps = capacity(a, delivered);
	uint64_t rtt = round_ns(a);
	uint64_t share = queue < rtt ? queue * 1000 / rtt : 1000;
	if (share > 500)
		share = 500;
	a->rate_bps = clamp(a, a->capacity_bps / 1000 * (1000 - share));
	a->draining = 1;
	a->quiet_rounds = 0;
	a->last_cut = s->now;
	new_round(a, s);
}

static void adaptive_on_feedback(void *state, const salvo_rate_sample *s)
{
	salvo_rate_adaptive *a = state;
	if (s->rtt_ns) {
		if (!a->min_rtt_ns) { /* first sample: the initial window */
			uint64_t r = (uint64_t)SALVO_RATE_START_BYTES *
				     8000000000u / s->rtt_ns;
			if (r < SALVO_RATE_START_MIN_BPS)
				r = SALVO_RATE_START_MIN_BPS;
			if (r > SALVO_RATE_START_MAX_BPS)
				r = SALVO_RATE_START_MAX_BPS;
			a->rate_bps = clamp(a, r);
		}
		if (!a->min_rtt_ns || s->rtt_ns < a->min_rtt_ns)
			a->min_rtt_ns = s->rtt_ns;
		a->queue_ns = s->rtt_ns - a->min_rtt_ns;
	}
	uint64_t queue = a->queue_ns; /* from the latest sample */
	if (!a->min_rtt_ns) {
		a->round_start = s->now;
		return;
	}
	/* the target: a tenth of the RTT, but at least a few datagrams'
	 * serialization at the current rate (one datagram is a queue too) */
	uint64_t target = a->min_rtt_ns / 10;
	uint64_t ser =
	    (uint64_t)((unsigned __int128)4 *
		       (a->datagram_bytes + SALVO_IPV4_UDP_OVERHEAD) *
		       8000000000u / a->rate_bps);
	if (target < ser)
		target = ser;
	if (target < SALVO_RATE_QUEUE_TARGET_MIN_NS)
		target = SALVO_RATE_QUEUE_TARGET_MIN_NS;
	if (queue > target && !a->draining &&
	    s->now - a->last_cut >= 2 * round_ns(a)) {
		cut(a, s, queue);
		return;
	}
	if (s->now - a->round_start >= round_ns(a))
		end_round(a, s, queue <= target);
}

static void adaptive_on_loss(void *state, uint64_t lost_bytes, uint64_t now)
{
	(void)state;
	(void)lost_bytes;
	(void)now;
}

static void adaptive_on_timeout(void *state, uint64_t now)
{
	salvo_rate_adaptive *a = state;
	a->rate_bps = clamp(a, a->rate_bps / 2);
	a->round_start = now;
}

static uint64_t adaptive_pacing_rate(const void *state)
{
	return ((const salvo_rate_adaptive *)state)->rate_bps;
}

/* New bounds from the user (salvo ctl): what was measured stands, the
 * rate moves into the bounds now and grows or falls from there. */
static void adaptive_set_limits(void *state, uint64_t ceiling_bps,
				uint64_t floor_bps, uint64_t now)
{
	salvo_rate_adaptive *a = state;
	(void)now;
	a->ceiling_bps = ceiling_bps;
	a->floor_bps = floor_bps < ceiling_bps ? floor_bps : ceiling_bps;
	a->rate_bps = clamp(a, a->rate_bps);
}

const salvo_rate_ops salvo_rate_adaptive_ops = {
    .name = "adaptive",
    .init = adaptive_init,
    .on_feedback = adaptive_on_feedback,
    .on_loss = adaptive_on_loss,
    .on_timeout = adaptive_on_timeout,
    .pacing_rate = adaptive_pacing_rate,
    .set_limits = adaptive_set_limits,
};
