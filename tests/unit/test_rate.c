/*
 * Rate control through its callback table (common/core/rate.h): "fixed"
 * and "adaptive" driven with synthetic feedback in virtual time.
 *
 * The path is a fluid model stepped every 100 us: the sender pours its
 * pacing rate (IP bytes) into a FIFO of queue_bytes in front of a link of
 * link_bps, with random loss on the link; the propagation delay is half the
 * base RTT each way.  Every quarter RTT the sender gets a feedback sample
 * as the sender core builds it (sender/core/sender.c): the bytes the
 * receiver held and reported lost one RTT ago, and the RTT of the latest
 * heartbeat that made it back, queue included.  Scenarios, each with
 * concrete bounds:
 *
 *   start      the first rate from the first RTT sample (15,000 bytes per
 *              RTT within 5-10 Mbit/s), floors and ceilings;
 *   start-up   reaches 80 % of an unknown link within a few seconds;
 *   steady     0, 1 and 5 % random loss: the rate does not collapse (it
 *              holds at least 75 % of the link) and the queue stays short;
 *   queue      the link slows to a quarter mid-transfer, so the queue
 *              grows: the rate comes down within two seconds;
 *   delay      RTT samples that keep growing at a constant delivery rate
 *              cut the rate;
 *   timeout    halves the rate, down to the floor and never to zero.
 *
 * Every rate the algorithm returns is checked against [floor, ceiling].
 * Loss on the link is drawn from a seeded generator: failures print the
 * seed (SALVO_TEST_SEED replays).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/rate.h"
#include "tests/helpers/testrand.h"

#define US 1000ull
#define MS 1000000ull
#define SEC 1000000000ull
#define MBIT 1000000ull
#define TICK_NS (100 * US)
#define PAYLOAD 1448u /* a 1500-byte packet: 1448 + 24 + 28 */

/* ------------------------------------------------------- the path model */

typedef struct path_params {
	uint64_t link_bps;	/* IP bits per second */
	uint64_t rtt_ns;	/* base RTT */
	uint64_t queue_bytes;	/* bottleneck buffer */
	double loss;		/* random loss on the link */
	uint64_t slow_at_ns;	/* 0, or when the link slows to ... */
	uint64_t slow_link_bps; /* ... this */
} path_params;

typedef struct path {
	path_params p;
	const salvo_rate_ops *ops;
	salvo_rate_state st;
	uint64_t floor_bps, ceiling_bps;
	salvo_testrand rng;
	uint64_t seed;
	size_t ticks, n;	 /* ticks run, capacity */
	double *held, *lost;	 /* cumulative payload at the link exit */
	uint64_t *qdelay;	 /* queueing delay a byte sent then saw */
	uint64_t *rate;		 /* pacing rate at each tick */
	double queue, sent;	 /* bytes queued, payload sent */
	uint64_t next_fb;	 /* next feedback */
	uint64_t srtt, min_rtt;	 /* as the sender core keeps them */
	double held_fb, lost_fb; /* at the last feedback */
	int bad_range;		 /* a rate outside [floor, ceiling] */
	uint64_t bad_rate;
} path;

static void path_init(path *w, const salvo_rate_ops *ops, path_params p,
		      uint64_t ceiling, uint64_t floor, uint64_t seconds)
{
	memset(w, 0, sizeof(*w));
	w->p = p;
	w->ops = ops;
	w->ceiling_bps = ceiling;
	w->floor_bps = floor;
	w->seed = testrand_seed();
	w->rng.s = w->seed;
	w->n = (size_t)(seconds * SEC / TICK_NS) + 1;
	w->held = calloc(w->n, sizeof(*w->held));
	w->lost = calloc(w->n, sizeof(*w->lost));
	w->qdelay = calloc(w->n, sizeof(*w->qdelay));
	w->rate = calloc(w->n, sizeof(*w->rate));
	assert_non_null(w->held);
	assert_non_null(w->lost);
	assert_non_null(w->qdelay);
	assert_non_null(w->rate);
	w->next_fb = p.rtt_ns;
	ops->init(&w->st, ceiling, floor, PAYLOAD, 0);
}

static void path_free(path *w)
{
	free(w->held);
	free(w->lost);
	free(w->qdelay);
	free(w->rate);
}

static uint64_t now_of(size_t i)
{
	return (uint64_t)i * TICK_NS;
}

static uint64_t link_at(const path *w, uint64_t now)
{
	if (w->p.slow_at_ns && now >= w->p.slow_at_ns)
		return w->p.slow_link_bps;
	return w->p.link_bps;
}

/* The feedback a sender core would build at tick i (sender.c). */
static void feedback(path *w, size_t i)
{
	uint64_t now = now_of(i);
	size_t back = (size_t)(w->p.rtt_ns / TICK_NS);
	if (i < back)
		return;
	/* the heartbeat that came back last: sent at s, queued qdelay(s) */
	uint64_t sample = 0;
	for (size_t s = i - back + 1; s-- > 0;) {
		if (now_of(s) + w->qdelay[s] + w->p.rtt_ns <= now) {
			sample = w->p.rtt_ns + w->qdelay[s];
			break;
		}
	}
	if (!sample)
		return;
	if (!w->min_rtt || sample < w->min_rtt)
		w->min_rtt = sample;
	w->srtt = w->srtt ? (7 * w->srtt + sample) / 8 : sample;
	/* what the receiver held and reported lost half an RTT ago, which
	 * left the bottleneck an RTT ago (forward and back propagation) */
	size_t j = i - back;
	double held = w->held[j], lost = w->lost[j];
	salvo_rate_sample rs = {
	    now,
	    w->srtt,
	    w->min_rtt,
	    sample,
	    (uint64_t)(held - w->held_fb),
	    (uint64_t)(w->sent / PAYLOAD),
	    (uint64_t)(held / PAYLOAD),
	    (uint64_t)held,
	    (uint64_t)lost,
	    PAYLOAD,
	    0,
	};
	w->ops->on_feedback(&w->st, &rs);
	if (lost > w->lost_fb)
		w->ops->on_loss(&w->st, (uint64_t)(lost - w->lost_fb), now);
	w->held_fb = held;
	w->lost_fb = lost;
}

static void check_range(path *w, uint64_t r)
{
	uint64_t lo = w->floor_bps > 500000 ? w->floor_bps : 500000;
	if (lo > w->ceiling_bps)
		lo = w->ceiling_bps;
	if ((r < lo || r > w->ceiling_bps) && !w->bad_range) {
		w->bad_range = 1;
		w->bad_rate = r;
	}
}

/* Runs the path up to (not including) tick `until`. */
static void path_run(path *w, uint64_t until_ns)
{
	size_t end = (size_t)(until_ns / TICK_NS);
	if (end > w->n)
		end = w->n;
	for (size_t i = w->ticks; i < end; i++) {
		uint64_t now = now_of(i);
		if (now >= w->next_fb) {
			feedback(w, i);
			uint64_t iv = w->srtt ? w->srtt / 4 : w->p.rtt_ns / 4;
			w->next_fb = now + (iv > MS ? iv : MS);
		}
		uint64_t r = w->ops->pacing_rate(&w->st);
		check_range(w, r);
		w->rate[i] = r;
		/* pour, overflow, drain, random loss on the way out */
		double in = (double)r * TICK_NS / 8e9;
		double frac = (double)PAYLOAD / (PAYLOAD + SALVO_DATA_OVERHEAD);
		w->sent += in * frac;
		w->queue += in;
		double drop = 0;
		if (w->queue > (double)w->p.queue_bytes) {
			drop = w->queue - (double)w->p.queue_bytes;
			w->queue = (double)w->p.queue_bytes;
		}
		uint64_t link = link_at(w, now);
		double out = (double)link * TICK_NS / 8e9;
		if (out > w->queue)
			out = w->queue;
		w->queue -= out;
		double u = (double)testrand_below(&w->rng, 1000001) / 1e6;
		double rl = out * w->p.loss * 2 * u; /* mean: loss */
		double prev_h = i ? w->held[i - 1] : 0;
		double prev_l = i ? w->lost[i - 1] : 0;
		w->held[i] = prev_h + (out - rl) * frac;
		w->lost[i] = prev_l + (rl + drop) * frac;
		w->qdelay[i] = (uint64_t)(w->queue * 8e9 / (double)link);
	}
	if (end > w->ticks)
		w->ticks = end;
}

/* Mean pacing rate and mean queueing delay over [from, to). */
static uint64_t mean_rate(const path *w, uint64_t from, uint64_t to)
{
	size_t a = (size_t)(from / TICK_NS), b = (size_t)(to / TICK_NS);
	unsigned __int128 sum = 0;
	for (size_t i = a; i < b; i++)
		sum += w->rate[i];
	return (uint64_t)(sum / (b - a));
}

static uint64_t mean_qdelay(const path *w, uint64_t from, uint64_t to)
{
	size_t a = (size_t)(from / TICK_NS), b = (size_t)(to / TICK_NS);
	unsigned __int128 sum = 0;
	for (size_t i = a; i < b; i++)
		sum += w->qdelay[i];
	return (uint64_t)(sum / (b - a));
}

/* First instant at or after `from` when the rate is at least (or, with
 * below, at most) `level`; UINT64_MAX if never. */
static uint64_t first_time(const path *w, uint64_t from, uint64_t level,
			   int below)
{
	for (size_t i = (size_t)(from / TICK_NS); i < w->ticks; i++)
		if (below ? w->rate[i] <= level : w->rate[i] >= level)
			return now_of(i);
	return UINT64_MAX;
}

#define FAILW(w, name, ...)                                                    \
	fail_msg("%s (seed %llu, SALVO_TEST_SEED): " __VA_ARGS__, name,        \
		 (unsigned long long)(w)->seed)

static void check_rate_bounds(path *w, const char *name)
{
	if (w->bad_range)
		FAILW(w, name,
		      "rate %llu bit/s outside [floor %llu, ceiling %llu]",
		      (unsigned long long)w->bad_rate,
		      (unsigned long long)w->floor_bps,
		      (unsigned long long)w->ceiling_bps);
}

/* ------------------------------------------------------------- fixed */

static void test_fixed_ignores_everything(void **state)
{
	(void)state;
	salvo_rate_state st;
	const salvo_rate_ops *o = &salvo_rate_fixed_ops;
	assert_string_equal(o->name, "fixed");
	o->init(&st, 196 * MBIT, 50 * MBIT, 1472, 0);
	assert_int_equal(o->pacing_rate(&st), 196 * MBIT);
	salvo_rate_sample s = {SEC, 400 * MS, 100 * MS, 500 * MS, 0, 1000,
			       10,  1000,     5000000,	1472,	  0};
	o->on_feedback(&st, &s);
	o->on_loss(&st, 5000000, SEC);
	o->on_timeout(&st, 2 * SEC);
	o->on_timeout(&st, 3 * SEC);
	assert_int_equal(o->pacing_rate(&st), 196 * MBIT);

	/* and over a lossy, congested path */
	path w;
	path_params p = {100 * MBIT, 50 * MS, 200000, 0.05, 0, 0};
	path_init(&w, o, p, 300 * MBIT, 0, 3);
	path_run(&w, 3 * SEC);
	assert_int_equal(mean_rate(&w, 0, 3 * SEC), 300 * MBIT);
	check_rate_bounds(&w, "fixed");
	path_free(&w);
}

/* ---------------------------------------------------------- adaptive */

/* The first rate: before any RTT 5 Mbit/s, then 15,000 bytes per RTT
 * within [5, 10] Mbit/s, then within the configured floor and ceiling. */
static void test_adaptive_start(void **state)
{
	static const struct {
		uint64_t rtt, ceiling, floor, want;
	} cases[] = {
	    {1 * MS, 10000 * MBIT, 0, 10 * MBIT},
	    {12 * MS, 10000 * MBIT, 0, 10 * MBIT},
	    {15 * MS, 10000 * MBIT, 0, 8 * MBIT},
	    {20 * MS, 10000 * MBIT, 0, 6 * MBIT},
	    {24 * MS, 10000 * MBIT, 0, 5 * MBIT},
	    {100 * MS, 10000 * MBIT, 0, 5 * MBIT},
	    {600 * MS, 10000 * MBIT, 0, 5 * MBIT},
	    {20 * MS, 10000 * MBIT, 50 * MBIT, 50 * MBIT}, /* floor */
	    {1 * MS, 2 * MBIT, 0, 2 * MBIT},		   /* ceiling */
	    {1 * MS, 2 * MBIT, 3 * MBIT, 2 * MBIT}, /* floor over ceiling */
	    {100 * MS, 100000, 0, 100000},	    /* below the minimum */
	};
	(void)state;
	const salvo_rate_ops *o = &salvo_rate_adaptive_ops;
	assert_string_equal(o->name, "adaptive");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		salvo_rate_state st;
		/* init and first sample at one instant: no round has ended,
		 * so this is the start rate alone, before any growth */
		o->init(&st, cases[i].ceiling, cases[i].floor, 1472,
			cases[i].rtt);
		uint64_t before = o->pacing_rate(&st);
		uint64_t want0 = 5 * MBIT;
		if (want0 < cases[i].floor)
			want0 = cases[i].floor;
		if (want0 > cases[i].ceiling)
			want0 = cases[i].ceiling;
		if (before != want0)
			fail_msg(
			    "case %zu: rate before any RTT %llu, want %llu", i,
			    (unsigned long long)before,
			    (unsigned long long)want0);
		salvo_rate_sample s = {cases[i].rtt,
				       cases[i].rtt,
				       cases[i].rtt,
				       cases[i].rtt,
				       0,
				       10,
				       0,
				       0,
				       0,
				       1472,
				       0};
		o->on_feedback(&st, &s);
		uint64_t got = o->pacing_rate(&st);
		if (got != cases[i].want)
			fail_msg("case %zu: RTT %llu ms: first rate %llu, want "
				 "%llu",
				 i, (unsigned long long)(cases[i].rtt / MS),
				 (unsigned long long)got,
				 (unsigned long long)cases[i].want);
	}
}

/* Start-up finds an unknown link: 80 % of it within the bound. */
static void test_adaptive_startup_finds_link(void **state)
{
	static const struct {
		uint64_t link, rtt, within;
	} cases[] = {
	    {200 * MBIT, 100 * MS, 3 * SEC}, /* ~10 rounds of x1.5 */
	    {1000 * MBIT, 30 * MS, 2 * SEC},
	    {50 * MBIT, 300 * MS, 5 * SEC},
	    {20 * MBIT, 10 * MS, 1 * SEC},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		path w;
		uint64_t bdp = cases[i].link / 8 * cases[i].rtt / SEC;
		path_params p = {cases[i].link,
				 cases[i].rtt,
				 bdp > 65536 ? bdp : 65536,
				 0,
				 0,
				 0};
		path_init(&w, &salvo_rate_adaptive_ops, p, 10000 * MBIT, 0,
			  cases[i].within / SEC + 1);
		path_run(&w, cases[i].within);
		uint64_t t = first_time(&w, 0, cases[i].link / 10 * 8, 0);
		if (t == UINT64_MAX)
			FAILW(
			    &w, "start-up",
			    "link %llu Mbit/s RTT %llu ms: never reached 80 %% "
			    "within %llu s (rate now %llu)",
			    (unsigned long long)(cases[i].link / MBIT),
			    (unsigned long long)(cases[i].rtt / MS),
			    (unsigned long long)(cases[i].within / SEC),
			    (unsigned long long)w.rate[w.ticks - 1]);
		check_rate_bounds(&w, "start-up");
		path_free(&w);
	}
}

/* Random loss is not congestion: the rate holds near the link. */
static void test_adaptive_steady_random_loss(void **state)
{
	static const double losses[] = {0, 0.001, 0.01, 0.05};
	static const uint64_t rtts[] = {20 * MS, 100 * MS, 300 * MS};
	(void)state;
	for (size_t i = 0; i < sizeof(losses) / sizeof(losses[0]); i++)
		for (size_t k = 0; k < sizeof(rtts) / sizeof(rtts[0]); k++) {
			path w;
			uint64_t link = 200 * MBIT, rtt = rtts[k];
			uint64_t bdp = link / 8 * rtt / SEC;
			path_params p = {link, rtt, bdp, losses[i], 0, 0};
			path_init(&w, &salvo_rate_adaptive_ops, p, 10000 * MBIT,
				  0, 20);
			path_run(&w, 20 * SEC);
			uint64_t r = mean_rate(&w, 10 * SEC, 20 * SEC);
			uint64_t q = mean_qdelay(&w, 10 * SEC, 20 * SEC);
			if (r < link / 4 * 3 || r > link / 100 * 115)
				FAILW(
				    &w, "steady",
				    "loss %.1f %% RTT %llu ms: mean rate %llu "
				    "Mbit/s over 10-20 s, want 150-230",
				    losses[i] * 100,
				    (unsigned long long)(rtt / MS),
				    (unsigned long long)(r / MBIT));
			/* the queue stays short: well under the BDP buffer */
			if (q > rtt / 2)
				FAILW(
				    &w, "steady",
				    "loss %.1f %% RTT %llu ms: mean queue %llu "
				    "ms, want <= RTT / 2",
				    losses[i] * 100,
				    (unsigned long long)(rtt / MS),
				    (unsigned long long)(q / MS));
			/* and it never collapses, even for a moment */
			uint64_t low = first_time(&w, 10 * SEC, link / 4, 1);
			if (low != UINT64_MAX)
				FAILW(&w, "steady",
				      "loss %.1f %% RTT %llu ms: rate fell to "
				      "a quarter of the link at %.2f s",
				      losses[i] * 100,
				      (unsigned long long)(rtt / MS),
				      (double)low / SEC);
			check_rate_bounds(&w, "steady");
			path_free(&w);
		}
}

/* The link slows to a quarter: the queue grows, the rate must follow. */
static void test_adaptive_growing_queue_cuts(void **state)
{
	static const uint64_t rtts[] = {20 * MS, 100 * MS, 300 * MS};
	(void)state;
	for (size_t k = 0; k < sizeof(rtts) / sizeof(rtts[0]); k++) {
		path w;
		uint64_t link = 400 * MBIT, slow = 100 * MBIT, rtt = rtts[k];
		uint64_t bdp = link / 8 * rtt / SEC;
		path_params p = {link, rtt, bdp, 0.001, 10 * SEC, slow};
		path_init(&w, &salvo_rate_adaptive_ops, p, 10000 * MBIT, 0, 20);
		path_run(&w, 20 * SEC);
		uint64_t before = mean_rate(&w, 6 * SEC, 10 * SEC);
		if (before < link / 4 * 3)
			FAILW(&w, "queue",
			      "RTT %llu ms: %llu Mbit/s before "
			      "the slow-down, want >= 300",
			      (unsigned long long)(rtt / MS),
			      (unsigned long long)(before / MBIT));
		/* down to 1.2x the new link within 2 s (plus one RTT) */
		uint64_t t = first_time(&w, 10 * SEC, slow / 10 * 12, 1);
		if (t == UINT64_MAX || t > 10 * SEC + 2 * SEC + rtt)
			FAILW(&w, "queue",
			      "RTT %llu ms: the rate came down to "
			      "120 Mbit/s only at %.2f s (link slowed at 10 s)",
			      (unsigned long long)(rtt / MS),
			      t == UINT64_MAX ? -1.0 : (double)t / SEC);
		/* and then settles on the new link, without collapsing */
		uint64_t after = mean_rate(&w, 15 * SEC, 20 * SEC);
		if (after < slow / 4 * 3 || after > slow / 100 * 115)
			FAILW(&w, "queue",
			      "RTT %llu ms: %llu Mbit/s on the "
			      "100 Mbit/s link after 15 s, want 75-115",
			      (unsigned long long)(rtt / MS),
			      (unsigned long long)(after / MBIT));
		check_rate_bounds(&w, "queue");
		path_free(&w);
	}
}

/* Without a path model: steady delivery at 100 Mbit/s while each RTT
 * sample shows 2 ms more queue than the last.  The rate must come down,
 * and to no more than what arrives. */
static void test_adaptive_rising_delay_cuts(void **state)
{
	(void)state;
	const salvo_rate_ops *o = &salvo_rate_adaptive_ops;
	salvo_rate_state st;
	o->init(&st, 10000 * MBIT, 0, PAYLOAD, 0);
	uint64_t rtt = 50 * MS, now = 0, held = 0;
	uint64_t per_fb = 100 * MBIT / 8 * (rtt / 4) / SEC; /* IP bytes */
	per_fb = per_fb / (PAYLOAD + SALVO_DATA_OVERHEAD) * PAYLOAD;
	uint64_t peak = 0, last = 0;
	/* quiet first: grow from the start rate for 3 s */
	for (int i = 0; i < 240; i++) {
		now += rtt / 4;
		held += per_fb;
		salvo_rate_sample s = {now, rtt,  rtt, rtt,	per_fb, 0,
				       0,   held, 0,   PAYLOAD, 0};
		o->on_feedback(&st, &s);
		if (o->pacing_rate(&st) > peak)
			peak = o->pacing_rate(&st);
	}
	assert_true(peak > 100 * MBIT); /* it grew past what arrives */
	uint64_t q = 0;
	for (int i = 0; i < 40; i++) {
		now += rtt / 4;
		held += per_fb;
		q += 2 * MS;
		salvo_rate_sample s = {now, rtt + q, rtt, rtt + q, per_fb, 0,
				       0,   held,    0,	  PAYLOAD, 0};
		o->on_feedback(&st, &s);
		last = o->pacing_rate(&st);
	}
	if (last > 100 * MBIT)
		fail_msg("rising delay: rate %llu Mbit/s after 40 samples of "
			 "growing queue (peak %llu), want <= 100 delivered",
			 (unsigned long long)(last / MBIT),
			 (unsigned long long)(peak / MBIT));
	assert_true(last >= 25 * MBIT); /* a cut, not a collapse */
}

/* A timeout halves the rate, down to the floor or 0.5 Mbit/s, never 0. */
static void test_adaptive_timeout(void **state)
{
	static const struct {
		uint64_t ceiling, floor, lowest;
	} cases[] = {
	    {1000 * MBIT, 0, 500000},
	    {1000 * MBIT, 20 * MBIT, 20 * MBIT},
	    {300000, 0, 300000}, /* a ceiling under the minimum rules */
	};
	(void)state;
	const salvo_rate_ops *o = &salvo_rate_adaptive_ops;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		path w;
		path_params p = {cases[i].ceiling, 20 * MS, 1 << 20, 0, 0, 0};
		path_init(&w, o, p, cases[i].ceiling, cases[i].floor, 3);
		path_run(&w, 3 * SEC); /* grow to the ceiling */
		uint64_t r = o->pacing_rate(&w.st);
		for (int k = 0; k < 30; k++) {
			o->on_timeout(&w.st, 3 * SEC + (uint64_t)k * SEC);
			uint64_t n = o->pacing_rate(&w.st);
			uint64_t want =
			    r / 2 > cases[i].lowest ? r / 2 : cases[i].lowest;
			if (n != want)
				fail_msg("case %zu timeout %d: %llu bit/s, "
					 "want %llu (half of %llu, at least "
					 "%llu)",
					 i, k, (unsigned long long)n,
					 (unsigned long long)want,
					 (unsigned long long)r,
					 (unsigned long long)cases[i].lowest);
			r = n;
		}
		assert_int_equal(r, cases[i].lowest);
		path_free(&w);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fixed_ignores_everything),
	    cmocka_unit_test(test_adaptive_start),
	    cmocka_unit_test(test_adaptive_startup_finds_link),
	    cmocka_unit_test(test_adaptive_steady_random_loss),
	    cmocka_unit_test(test_adaptive_growing_queue_cuts),
	    cmocka_unit_test(test_adaptive_rising_delay_cuts),
	    cmocka_unit_test(test_adaptive_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
