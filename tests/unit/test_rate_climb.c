/*
 * "fair"'s climb into room (common/core/rate_fair_climb.c) in the
 * model of a shared bottleneck
 * (tests/helpers/flowsim.h): 200 Mbit/s, 100 ms, a one-BDP drop-tail
 * queue, the lab's path.  Issue 11 wants the path's rate within 6 RTTs
 * of the start and an idle path filled; these are the cases where
 * start-up did not take the flow there and delay mode (or competitive
 * mode) has to, each to 90 % of the link within a bound of RTTs and
 * with no drop at the queue:
 *
 *   early_exit     start-up left early: forced by a timeout once the
 *                  rate passes 160 or 60 Mbit/s (delay mode from 80 or
 *                  30), or on its own, as on a busy host: the pacer
 *                  lets out 85 % of the rate, RTT samples carry 1.5-3.5
 *                  ms of scheduling noise in 40 % of 20 ms slots and
 *                  feedback comes up to 6 ms late.  On the lab such an
 *                  exit left near 100 Mbit/s and delay mode took 33
 *                  RTTs to the link (docs/PERFORMANCE.md, "At the
 *                  session's end"); here it never got there in 8 s
 *                  before the climb (seeds 3-6, 11; seeds 1-2 start
 *                  well, 6.35 RTTs), 17-39 RTTs after (27 for seed 11);
 *   steady_alone   alone at the link for 20 s: the climb must not
 *                  cycle there (late feedback: printed, a gap);
 *   ceiling_lifted the user's ceiling (salvo ctl) held the flow at 40 %
 *                  for 5 s, then goes;
 *   tcp_leaves     a TCP flow comes and goes (perf/arrive: CUBIC from
 *                  8 s to 28 s); fair is in competitive mode when it
 *                  leaves, whose room probe climbed linearly (lab: ~7 s
 *                  from 80 to 200 Mbit/s; here, seed 11, CUBIC 44 RTTs,
 *                  BBR 84 and 64 (4 s visit) before the climb, 33, 36
 *                  and 32 after: it waits 15 clear rounds there).
 *
 * Rows with bound 0 are printed, not asserted (known gaps).
 *
 * Seeded as test_rate_fair.c: each run prints its seed,
 * SALVO_TEST_SEED=<seed> replays it; make test uses seed 11.
 * SALVO_CLIMB_TRACE=1 prints the mode changes and each case's pacing
 * rate and queue, =2 every feedback; SALVO_CLIMB_CASE=N runs row N.
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
#include "tests/helpers/flowsim.h"
#include "tests/helpers/testrand.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define MBIT 1000000ull
#define LINK (200 * MBIT)
#define RTT (100 * MS)

#define DEFAULT_SEED 11

static uint64_t seed;

#define FAILS(fmt, ...)                                                        \
	fail_msg("seed %llu (SALVO_TEST_SEED replays): " fmt,                  \
		 (unsigned long long)seed, __VA_ARGS__)

static uint64_t bdp_bytes(uint64_t link, uint64_t rtt)
{
	return link / 8 * rtt / SEC;
}

static flowsim_flow salvo(const salvo_rate_ops *ops, uint64_t start)
{
	flowsim_flow f = {FLOWSIM_SALVO, ops, 0, 0, 0, RTT, start, 0};
	return f;
}

static void run(const flowsim_params *p, flowsim_result *r)
{
	flowsim_params q = *p;
	q.seed = seed;
	assert_int_equal(flowsim_run(&q, r), 0);
	for (size_t k = 0; k < q.nflows; k++)
		if (r->bad_rate[k])
			FAILS("flow %zu paced at %llu bit/s, outside its "
			      "[floor, ceiling]",
			      k, (unsigned long long)r->bad_rate[k]);
}

static void trace(const char *name, const flowsim_result *r, uint64_t from,
		  uint64_t to)
{
	if (!getenv("SALVO_CLIMB_TRACE"))
		return;
	uint64_t dt = r->p.sample_ns ? r->p.sample_ns : 10 * MS;
	for (size_t i = from / dt; i < r->nsamples && i * dt < to; i += 5)
		printf("trace %s %.2f s: rate %.1f Mbit/s, delivered %.1f, "
		       "queue %.1f ms\n",
		       name, (double)(i + 1) * dt / SEC,
		       (double)r->rate[0][i] / MBIT,
		       (double)flowsim_rate_bps(r, 0, i * dt, (i + 5) * dt) /
			   MBIT,
		       (double)r->qdelay[i] / MS);
}

/* RTTs from `from` until the flow's deliveries first reach 90 % of the
 * link over a quarter RTT (as the receiver sees them: half an RTT after
 * they leave the bottleneck); -1 if never. */
static double rtts_to_90(const flowsim_result *r, uint64_t from)
{
	uint64_t t = flowsim_first_rate(r, 0, from, RTT / 4, LINK / 10 * 9);
	return t == UINT64_MAX ? -1.0 : (double)(t + RTT / 2 - from) / RTT;
}

/* ------------------------------------------------- an early exit */

/* The mode the flow was in as each feedback came (printed with
 * SALVO_CLIMB_TRACE when it changes). */
static const char *last_mode;
static uint64_t leave_ns;      /* the cross traffic leaves then, */
static const char *leave_mode; /* ... and we were in this mode */

static void mode_feedback(void *state, const salvo_rate_sample *s)
{
	salvo_rate_fair_ops.on_feedback(state, s);
	salvo_rate_snapshot snap = {0};
	salvo_rate_fair_ops.snapshot(state, &snap);
	if (snap.state != last_mode && getenv("SALVO_CLIMB_TRACE"))
		printf("mode %.3f s: %s, rate %.1f, delivery %.1f, queue %.1f "
		       "ms\n",
		       (double)s->now / SEC, snap.state,
		       (double)snap.rate_bps / MBIT,
		       (double)snap.delivery_bps / MBIT,
		       (double)snap.queue_ns / MS);
	last_mode = snap.state;
	if (leave_ns && s->now >= leave_ns && !leave_mode)
		leave_mode = snap.state;
	const char *tr = getenv("SALVO_CLIMB_TRACE");
	if (tr && !strcmp(tr, "2")) {
		const salvo_rate_fair *f = state;
		printf("fb %.3f s: %s rate %.1f delivery %.1f queue %.1f ms "
		       "climb %u empty %u\n",
		       (double)s->now / SEC, snap.state,
		       (double)snap.rate_bps / MBIT,
		       (double)snap.delivery_bps / MBIT,
		       (double)snap.queue_ns / MS, f->climb_pm,
		       f->empty_rounds);
	}
}

/* Start-up leaves early: a timeout once the rate passes 160 Mbit/s
 * halves it to ~80 and hands it to delay mode.  busy_pm / 1000 of the
 * 20 ms slots read 1.5-3.5 ms over the path (a busy host's
 * scheduling, as test_rate_fair.c's noisy_climb). */
static const salvo_rate_ops *base_ops = &salvo_rate_fair_ops;
static uint64_t busy_pm, fb_jit, force_above, lag_pct = 100;
static uint64_t forced_at, fb_last;

/* The lab's timing put between the path and fair (as test_rate_fair.c's
 * noisy_rtt_alone and noisy_climb): in busy_pm / 1000 of the 20 ms
 * slots each RTT sample reads 1.5-3.5 ms over the path's (else
 * 0-0.3 ms), and each feedback comes up to fb_jit late, its RTT sample
 * that much longer. */
static void noisy_feedback(void *state, const salvo_rate_sample *s)
{
	salvo_rate_sample t = *s;
	uint64_t late = 0;
	if (fb_jit) {
		salvo_testrand g = {seed * 31 + t.now};
		late = testrand_below(&g, fb_jit);
	}
	t.now = fb_last > t.now + late ? fb_last : t.now + late;
	fb_last = t.now;
	if (t.rtt_ns) {
		t.rtt_ns += late;
		if (busy_pm) {
			salvo_testrand g = {seed * 7919 + t.now / (20 * MS)};
			testrand_next(&g);
			t.rtt_ns += testrand_below(&g, 1000) < busy_pm
					? 1500000 + testrand_below(&g, 2000001)
					: testrand_below(&g, 300001);
		}
	}
	mode_feedback(state, &t);
}

/* A pacer that lets out lag_pct % of the rate (a busy host). */
static uint64_t lagging_pacing_rate(const void *state)
{
	return base_ops->pacing_rate(state) / 100 * lag_pct;
}

static void forced_feedback(void *state, const salvo_rate_sample *s)
{
	noisy_feedback(state, s);
	if (!forced_at && base_ops->pacing_rate(state) > force_above) {
		forced_at = s->now;
		base_ops->on_timeout(state, s->now);
	}
}

/* One fair flow alone on the path for duration, through the lab's
 * timing (busy_pm, fb_jit, lag_pct as above; start-up forced out once
 * the rate passes force_above, UINT64_MAX: never). */
static void run_alone(uint64_t force, uint64_t busy, uint64_t jit, uint64_t lag,
		      uint64_t duration, flowsim_result *r)
{
	static salvo_rate_ops ops;
	ops = salvo_rate_fair_ops;
	force_above = force;
	busy_pm = busy;
	fb_jit = jit;
	lag_pct = lag;
	forced_at = fb_last = 0;
	ops.on_feedback = forced_feedback;
	ops.pacing_rate = lagging_pacing_rate;
	last_mode = NULL;
	flowsim_params p = {0};
	p.link_bps = LINK;
	p.queue_bytes = bdp_bytes(LINK, RTT);
	p.duration_ns = duration;
	p.sample_ns = 5 * MS;
	p.nflows = 1;
	p.flow[0] = salvo(&ops, 0);
	run(&p, r);
}

static void test_early_exit(void **state)
{
	static const struct {
		uint64_t force_above, busy_pm, fb_jit, lag_pct, max_rtts;
	} cases[] = {
	    /* a clean path: from 80, and from 30 Mbit/s */
	    {160 * MBIT, 0, 0, 100, 7},
	    {60 * MBIT, 0, 0, 100, 11},
	    /* RTT noise alone (test_rate_fair.c's noisy_climb) */
	    {160 * MBIT, 700, 0, 100, 9},
	    /* a pacer behind the rate: start-up leaves on its own */
	    {UINT64_MAX, 0, 0, 85, 10},
	    /* ... with the noise and late feedback: the lab's slow climb
	     * (never within 8 s before) */
	    {UINT64_MAX, 400, 6 * MS, 85, 45},
	    {UINT64_MAX, 400, 6 * MS, 90, 0},
	    {UINT64_MAX, 400, 12 * MS, 85, 0},
	    {160 * MBIT, 400, 12 * MS, 100, 0},
	    {60 * MBIT, 400, 12 * MS, 100, 0},
	};
	size_t bad = 0;
	(void)state;
	const char *only = getenv("SALVO_CLIMB_CASE");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (only && (size_t)atoi(only) != i)
			continue;
		flowsim_result r;
		run_alone(cases[i].force_above, cases[i].busy_pm,
			  cases[i].fb_jit, cases[i].lag_pct, 8 * SEC, &r);
		double n = rtts_to_90(&r, forced_at);
		printf("early exit %s %llu Mbit/s, %llu %% of slots +1.5-3.5 "
		       "ms, feedback up to %llu ms late, pacer at %llu %%: 90 "
		       "%% of the link %.2f RTTs after it, first drop %s%s\n",
		       forced_at ? "forced at" : "on its own, under",
		       (unsigned long long)(forced_at ? cases[i].force_above /
							    2 / MBIT
						      : 80),
		       (unsigned long long)(cases[i].busy_pm / 10),
		       (unsigned long long)(cases[i].fb_jit / MS),
		       (unsigned long long)cases[i].lag_pct, n,
		       r.first_drop_ns == UINT64_MAX ? "none" : "yes",
		       cases[i].max_rtts ? "" : " (not asserted: a gap)");
		if (r.first_drop_ns != UINT64_MAX)
			printf("... first drop at %.3f s\n",
			       (double)r.first_drop_ns / SEC);
		trace("early", &r, 0, 4 * SEC);
		if (cases[i].max_rtts &&
		    (n < 0 || n > (double)cases[i].max_rtts ||
		     r.first_drop_ns != UINT64_MAX))
			bad = i + 1;
		flowsim_result_free(&r);
	}
	if (bad)
		FAILS("early exit case %zu: slower than its bound to 90 %% of "
		      "the link, or the queue overflowed",
		      bad - 1);
}

/* ------------------------------------------------- alone at the link */

/* Alone at the link for 20 s (from 5 s on), clean or with RTT noise:
 * the queue stays near delay mode's target (p90 under 15 ms), the rate
 * under 1.15x the link, the link filled (95 %).  With feedback up to
 * 6 ms late the rows are printed, not asserted (a gap): delay mode
 * swings there with or without the climb (queue p90 34-38 ms, peaks
 * 52-69 ms, 1.2x the link), as on the lab (perf/arrive at 406bb54:
 * the rate 160-263 Mbit/s about every second, the queue estimate to
 * 50 ms), and with the pacer at 85 % too the climb is what takes the
 * flow to the link (185 against 136 Mbit/s without it) but fills the
 * queue on the way (99.9 ms, the rate 1.9x the link at its peak). */
static void test_steady_alone(void **state)
{
	static const struct {
		uint64_t busy_pm, fb_jit, lag_pct;
		int asserted;
	} cases[] = {
	    {0, 0, 100, 1},
	    {700, 0, 100, 1},
	    {400, 6 * MS, 100, 0},
	    {400, 6 * MS, 85, 0},
	};
	size_t bad = 0;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flowsim_result r;
		run_alone(UINT64_MAX, cases[i].busy_pm, cases[i].fb_jit,
			  cases[i].lag_pct, 20 * SEC, &r);
		uint64_t dt = r.p.sample_ns, qs[4096], n = 0, top = 0, over = 0;
		for (size_t k = 5 * SEC / dt; k < r.nsamples && n < 4096; k++) {
			qs[n++] = r.qdelay[k];
			top = r.rate[0][k] > top ? r.rate[0][k] : top;
			over += r.rate[0][k] > LINK / 100 * 115;
		}
		for (size_t a = 1; a < n; a++)
			for (size_t b = a; b && qs[b - 1] > qs[b]; b--) {
				uint64_t t = qs[b];
				qs[b] = qs[b - 1];
				qs[b - 1] = t;
			}
		printf("alone, %llu %% of slots noisy, feedback up to %llu ms "
		       "late, pacer %llu %%: queue median %.1f p90 %.1f max "
		       "%.1f ms, rate max %.1f Mbit/s, %.1f %% of the time "
		       "over 1.15x the link, delivered %.1f%s\n",
		       (unsigned long long)(busy_pm / 10),
		       (unsigned long long)(fb_jit / MS),
		       (unsigned long long)lag_pct, (double)qs[n / 2] / MS,
		       (double)qs[n * 9 / 10] / MS, (double)qs[n - 1] / MS,
		       (double)top / MBIT, 100.0 * (double)over / (double)n,
		       (double)flowsim_rate_bps(&r, 0, 5 * SEC, 20 * SEC) /
			   MBIT,
		       cases[i].asserted ? "" : " (not asserted: a gap)");
		trace("alone", &r, 5 * SEC, 10 * SEC);
		if (cases[i].asserted &&
		    (qs[n * 9 / 10] > 15 * MS || over ||
		     flowsim_rate_bps(&r, 0, 5 * SEC, 20 * SEC) <
			 LINK / 100 * 95))
			bad = i + 1;
		flowsim_result_free(&r);
	}
	if (bad)
		FAILS("alone case %zu: the queue's p90 over 15 ms, the rate "
		      "over 1.15x the link or the link not filled",
		      bad - 1);
}

/* ------------------------------------------------- a ceiling lifted */

static uint64_t lift_at, held_bps;

static void ceiling_feedback(void *state, const salvo_rate_sample *s)
{
	if (s->now < lift_at)
		salvo_rate_fair_ops.set_limits(state, held_bps, 0, s->now);
	else
		salvo_rate_fair_ops.set_limits(state, SALVO_RATE_NO_CEILING_BPS,
					       0, s->now);
	mode_feedback(state, s);
}

static void test_ceiling_lifted(void **state)
{
	(void)state;
	salvo_rate_ops ops = salvo_rate_fair_ops;
	ops.on_feedback = ceiling_feedback;
	lift_at = getenv("SALVO_CLIMB_LIFT") ? 0 : 5 * SEC;
	held_bps = 80 * MBIT;
	flowsim_params p = {0};
	p.link_bps = LINK;
	p.queue_bytes = bdp_bytes(LINK, RTT);
	p.duration_ns = 10 * SEC;
	p.sample_ns = 5 * MS;
	p.nflows = 1;
	p.flow[0] = salvo(&ops, 0);
	flowsim_result r;
	run(&p, &r);
	double n = rtts_to_90(&r, lift_at);
	printf("ceiling 80 Mbit/s lifted at 5 s: 90 %% of the link %.2f RTTs "
	       "after, first drop %s\n",
	       n, r.first_drop_ns == UINT64_MAX ? "none" : "yes");
	trace("ceiling", &r, 4 * SEC, 8 * SEC);
	if (n < 0 || n > 6 || r.first_drop_ns != UINT64_MAX)
		FAILS("ceiling lifted: 90 %% after %.2f RTTs, drop %s", n,
		      r.first_drop_ns == UINT64_MAX ? "none" : "yes");
	flowsim_result_free(&r);
}

/* ------------------------------------------------- TCP leaves */

static void test_tcp_leaves(void **state)
{
	static const struct {
		flowsim_kind kind;
		uint64_t inflight_cap, start, stop, max_rtts;
	} cases[] = {
	    /* 44 RTTs before the climb; 33 with it over the old competitive
	     * mode, 41-42 (seeds 1-13) since competitive mode probes by a
	     * fixed 1/64 a round (h-comp): the climb waits 15 clear rounds
	     * there, and 13 or fewer gave CUBIC's cut at half a BDP to us */
	    {FLOWSIM_CUBIC, 0, 8 * SEC, 28 * SEC, 43},
	    /* the lab's iperf3, bound by its socket buffer */
	    {FLOWSIM_CUBIC, 3200000, 8 * SEC, 28 * SEC, 10},
	    {FLOWSIM_BBR, 0, 8 * SEC, 28 * SEC, 45},
	    {FLOWSIM_BBR, 0, 8 * SEC, 12 * SEC, 45},
	    /* gone before fair left delay mode */
	    {FLOWSIM_CUBIC, 0, 8 * SEC, 14 * SEC, 5},
	};
	size_t bad = 0;
	(void)state;
	const char *only = getenv("SALVO_CLIMB_CASE");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (only && (size_t)atoi(only) != i)
			continue;
		flowsim_params p = {0};
		p.link_bps = LINK;
		p.queue_bytes = bdp_bytes(LINK, RTT);
		p.duration_ns = cases[i].stop + 15 * SEC;
		p.sample_ns = 5 * MS;
		p.nflows = 2;
		salvo_rate_ops ops = salvo_rate_fair_ops;
		ops.on_feedback = mode_feedback;
		last_mode = leave_mode = NULL;
		leave_ns = cases[i].stop;
		p.flow[0] = salvo(&ops, 0);
		p.flow[1] =
		    (flowsim_flow){cases[i].kind,  NULL,	 0, 0, 0, RTT,
				   cases[i].start, cases[i].stop};
		p.flow[1].inflight_cap_bytes = cases[i].inflight_cap;
		flowsim_result r;
		run(&p, &r);
		double n = rtts_to_90(&r, cases[i].stop);
		printf(
		    "TCP (kind %d, in flight <= %llu B) from %.0f to %.0f s: "
		    "fair at %.1f Mbit/s before, %s, 90 %% of the link "
		    "%.2f RTTs after\n",
		    (int)cases[i].kind,
		    (unsigned long long)cases[i].inflight_cap,
		    (double)cases[i].start / SEC, (double)cases[i].stop / SEC,
		    (double)flowsim_rate_bps(&r, 0, cases[i].stop - 2 * SEC,
					     cases[i].stop) /
			MBIT,
		    leave_mode ? leave_mode : "?", n);
		trace("tcp", &r, cases[i].stop - SEC, cases[i].stop + 10 * SEC);
		if (n < 0 || n > (double)cases[i].max_rtts ||
		    r.first_drop_ns < cases[i].start)
			bad = i + 1;
		flowsim_result_free(&r);
	}
	leave_ns = 0;
	if (bad)
		FAILS("tcp leaves case %zu: slower than its bound to 90 %% of "
		      "the link, or a drop before TCP came",
		      bad - 1);
}

int main(void)
{
	seed = testrand_fixed_seed(DEFAULT_SEED, "test_rate_climb");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_early_exit),
	    cmocka_unit_test(test_steady_alone),
	    cmocka_unit_test(test_ceiling_lifted),
	    cmocka_unit_test(test_tcp_leaves),
	};
	if (getenv("SALVO_TEST_ONLY"))
		cmocka_set_test_filter(getenv("SALVO_TEST_ONLY"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
