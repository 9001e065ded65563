/*
 * "fair", "high" and "low" (common/core/rate_fair.c) in a model of a
 * shared bottleneck (tests/helpers/flowsim.h): flows through one
 * drop-tail queue in virtual time, random loss on data, heartbeats and
 * feedback, CUBIC and BBR v1 as cross traffic.  A model, not the lab:
 * the numbers say what the algorithm does against these models of the
 * path and of TCP.
 *
 * One named test per target of issue 11, each a table of scenarios with
 * concrete bounds:
 *
 *   start          the first rate (handshake RTT, link hint, floor,
 *                  ceiling) before any feedback;
 *   fills          an idle path with random loss: goodput >= 93 % of
 *                  the link x (1 - p) for p <= 5 %, >= 90 % at 10 %;
 *                  on four rows also what the drains may cost;
 *   fast_start     >= 90 % of the link within 6 RTTs of the first packet
 *                  on 200 Mbit/s x 100 ms, no drop at the queue at start
 *                  (a 64 KB queue on 20 Mbit/s x 10 ms overflows: a gap);
 *   jain           two flows >= 0.98 from 20 RTTs after the last one
 *                  starts, four >= 0.95.  Met for flows that start
 *                  together; staggered starts converge more slowly
 *                  (each row says what the model meets today; every row
 *                  prints both windows and must not starve a flow);
 *   beside_tcp     one CUBIC or BBR flow, queues of 0.5, 1, 4 BDP: the
 *                  target is 35-65 % of the link.  Met beside CUBIC
 *                  for most seeds (30-70 % asserted), missed beside
 *                  BBR v1 (printed; see
 *                  docs/PERFORMANCE.md); neither flow starves (>= 1 %);
 *   beside_cubic_late  the lab's order: CUBIC first, fair 5 s later,
 *                  30-70 % from 100 RTTs after it starts;
 *   beside_sndbuf_tcp  the lab's iperf3: CUBIC bound by its socket
 *                  buffer (3.2 MB in flight), a standing queue and no
 *                  loss; >= 30 % at 0.5 and 4 BDP, >= 20 % at 1 BDP;
 *   high           about twice a fair flow beside one (the model gives
 *                  1.2-1.8x: a gap; asserted > 1.15x), more than fair
 *                  beside CUBIC;
 *   low            TCP keeps >= 90 % of its rate alone; low alone adds
 *                  <= 25 ms of queue and still fills the link;
 *   bounds         --rate a ceiling, --min-rate a floor, always;
 *   timeout        halves, down to the floor, never to zero;
 *   lagging_pacer_start  a pacer that lets out 70-100 % of the rate
 *                  (a busy host): 90 % of the link within 6-8 RTTs, no
 *                  drop at start;
 *   noisy_start    that pacer (85-100 %) with a busy host's RTT noise
 *                  (1.5-3.5 ms in 40-70 % of 20 ms slots): 90 % of
 *                  the link within 7-9 RTTs, no drop at start;
 *   noisy_climb    delay mode from ~30 Mbit/s (a forced exit) with that
 *                  noise: 90 % of the link within 20 RTTs of the start;
 *   noisy_rtt_alone  fair alone on the lab's path with the lab's
 *                  timing: >= 93 % with feedback on time, >= 90 % with
 *                  it up to 6 ms late, never competitive, the delivery
 *                  estimate <= 107 % of the link with it 6-12 ms late
 *                  (12 and 20 ms late goodput, a busy host's RTT
 *                  stretches: printed, gaps).
 *
 * Loss and BBR's phase are drawn from a seeded generator: each run prints
 * its seed, SALVO_TEST_SEED=<seed> replays it; make test uses seed 11
 * (see main), SALVO_TEST_SEED=random a clock-drawn one.
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
#define LINK_PAYLOAD(bps) ((bps) / FLOWSIM_PACKET * FLOWSIM_PAYLOAD)

static uint64_t seed;

#define FAILS(fmt, ...)                                                        \
	fail_msg("seed %llu (SALVO_TEST_SEED replays): " fmt,                  \
		 (unsigned long long)seed, __VA_ARGS__)

static uint64_t bdp_bytes(uint64_t link, uint64_t rtt)
{
	return link / 8 * rtt / SEC;
}

static flowsim_flow salvo(const salvo_rate_ops *ops, uint64_t rtt,
			  uint64_t start)
{
	flowsim_flow f = {FLOWSIM_SALVO, ops, 0, 0, 0, rtt, start, 0};
	return f;
}

static flowsim_flow tcp(flowsim_kind kind, uint64_t rtt, uint64_t start)
{
	flowsim_flow f = {kind, NULL, 0, 0, 0, rtt, start, 0};
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

static double share(const flowsim_result *r, size_t k, uint64_t a, uint64_t b)
{
	double sum = 0;
	for (size_t i = 0; i < r->p.nflows; i++)
		sum += (double)flowsim_rate_bps(r, i, a, b);
	return sum > 0 ? (double)flowsim_rate_bps(r, k, a, b) / sum : 0;
}

/* ------------------------------------------------------------ start */

static void test_start(void **state)
{
	static const struct {
		const salvo_rate_ops *ops;
		uint64_t rtt, hint, ceiling, floor, want;
	} cases[] = {
	    /* 120,000 bytes per RTT within 5-20 Mbit/s */
	    {&salvo_rate_fair_ops, 100 * MS, 0, 10000 * MBIT, 0, 9600000},
	    {&salvo_rate_fair_ops, 10 * MS, 0, 10000 * MBIT, 0, 20 * MBIT},
	    {&salvo_rate_fair_ops, 600 * MS, 0, 10000 * MBIT, 0, 5 * MBIT},
	    {&salvo_rate_fair_ops, 0, 0, 10000 * MBIT, 0, 5 * MBIT},
	    /* a hint starts at half of it */
	    {&salvo_rate_fair_ops, 100 * MS, 200 * MBIT, 10000 * MBIT, 0,
	     100 * MBIT},
	    {&salvo_rate_fair_ops, 100 * MS, 4 * MBIT, 10000 * MBIT, 0,
	     9600000},
	    /* floor and ceiling rule */
	    {&salvo_rate_fair_ops, 100 * MS, 0, 10000 * MBIT, 50 * MBIT,
	     50 * MBIT},
	    {&salvo_rate_fair_ops, 100 * MS, 200 * MBIT, 30 * MBIT, 0,
	     30 * MBIT},
	    {&salvo_rate_fair_ops, 100 * MS, 0, 2 * MBIT, 3 * MBIT, 2 * MBIT},
	    {&salvo_rate_high_ops, 100 * MS, 0, 10000 * MBIT, 0, 9600000},
	    {&salvo_rate_low_ops, 100 * MS, 0, 10000 * MBIT, 0, 9600000},
	};
	(void)state;
	assert_string_equal(salvo_rate_fair_ops.name, "fair");
	assert_string_equal(salvo_rate_high_ops.name, "high");
	assert_string_equal(salvo_rate_low_ops.name, "low");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		salvo_rate_state st;
		cases[i].ops->init(&st, cases[i].ceiling, cases[i].floor, 1472,
				   0);
		cases[i].ops->seed(&st, cases[i].hint, cases[i].rtt, 0);
		uint64_t got = cases[i].ops->pacing_rate(&st);
		if (got != cases[i].want)
			fail_msg("case %zu (%s): first rate %llu, want %llu", i,
				 cases[i].ops->name, (unsigned long long)got,
				 (unsigned long long)cases[i].want);
	}
}

/* ------------------------------------------------------------ fills */

static void test_fills_lossy_path(void **state)
{
	/* keep: a lone flow's drains (half rate, to see the base RTT) may
	 * cost no more than this share; 0: not asserted.  A drain that
	 * lasted a round whatever the queue left the link half idle once
	 * the queue was gone: 99.5 / 97.7 / 94.8 / 92.7 % on the four rows
	 * with a bar (seeds 11, 1-5: at most 99.5 / 98.6 / 94.8 / 94.6);
	 * drains of 4 x the queue: 99.8 / 99.0-99.1 / 97.6-98.3 /
	 * 96.0-97.2 (rate_fair_compete.c, drain_span) */
	static const struct {
		const salvo_rate_ops *ops;
		uint64_t link, rtt;
		double loss, min_share; /* of link payload x (1 - loss) */
		double keep;
	} cases[] = {
	    {&salvo_rate_fair_ops, 200 * MBIT, 100 * MS, 0, 0.93, 0.9965},
	    {&salvo_rate_fair_ops, 200 * MBIT, 100 * MS, 0.001, 0.93, 0},
	    {&salvo_rate_fair_ops, 200 * MBIT, 100 * MS, 0.01, 0.93, 0},
	    {&salvo_rate_fair_ops, 200 * MBIT, 100 * MS, 0.05, 0.93, 0.985},
	    {&salvo_rate_fair_ops, 200 * MBIT, 100 * MS, 0.10, 0.90, 0},
	    {&salvo_rate_fair_ops, 200 * MBIT, 20 * MS, 0.05, 0.93, 0},
	    {&salvo_rate_fair_ops, 200 * MBIT, 300 * MS, 0.05, 0.93, 0.97},
	    {&salvo_rate_fair_ops, 200 * MBIT, 600 * MS, 0.10, 0.90, 0.955},
	    {&salvo_rate_fair_ops, 1000 * MBIT, 100 * MS, 0.01, 0.93, 0},
	    {&salvo_rate_fair_ops, 20 * MBIT, 10 * MS, 0.01, 0.93, 0},
	    {&salvo_rate_high_ops, 200 * MBIT, 100 * MS, 0.05, 0.93, 0},
	    {&salvo_rate_low_ops, 200 * MBIT, 100 * MS, 0.05, 0.90, 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flowsim_params p = {0};
		p.link_bps = cases[i].link;
		p.queue_bytes = bdp_bytes(cases[i].link, cases[i].rtt);
		p.loss = cases[i].loss;
		p.duration_ns = 30 * SEC;
		p.nflows = 1;
		p.flow[0] = salvo(cases[i].ops, cases[i].rtt, 0);
		flowsim_result r;
		run(&p, &r);
		uint64_t got = flowsim_goodput_bps(&r, 0, 10 * SEC, 30 * SEC);
		double full =
		    (double)LINK_PAYLOAD(cases[i].link) * (1 - cases[i].loss);
		printf("fills: %s %llu Mbit/s %llu ms loss %.1f %%: goodput "
		       "%.1f Mbit/s (%.1f %% of link x (1 - p))\n",
		       cases[i].ops->name,
		       (unsigned long long)(cases[i].link / MBIT),
		       (unsigned long long)(cases[i].rtt / MS),
		       cases[i].loss * 100, (double)got / MBIT,
		       100 * (double)got / full);
		if ((double)got < full * cases[i].min_share)
			FAILS("case %zu: goodput %.1f Mbit/s, want >= %.1f", i,
			      (double)got / MBIT,
			      full * cases[i].min_share / MBIT);
		if ((double)got < full * cases[i].keep)
			FAILS("case %zu: goodput %.1f Mbit/s, want >= %.1f: "
			      "drains that idle the link",
			      i, (double)got / MBIT,
			      full * cases[i].keep / MBIT);
		flowsim_result_free(&r);
	}
}

/* ------------------------------------------------------- fast start */

/* The start-up exit a flow's snapshots reported last (on_sample). */
typedef struct {
	const char *why;
	uint64_t bps;
} start_exit_seen;

static void note_start_exit(void *ud, size_t flow, uint64_t now,
			    const salvo_rate_snapshot *snap)
{
	start_exit_seen *seen = ud;
	(void)flow;
	(void)now;
	seen->why = snap->start_exit;
	seen->bps = snap->start_exit_bps;
}

static void test_fast_start(void **state)
{
	static const struct {
		uint64_t link, rtt, queue, hint;
		uint32_t max_rtts; /* to 90 % of the link, from the start */
		int no_drop;	   /* the queue must not overflow */
		uint64_t ahead;	   /* handed to block-senders, not sent */
	} cases[] = {
	    /* the lab's path: 2 MiB drop-tail queue, and 1 BDP */
	    {200 * MBIT, 100 * MS, 2 << 20, 0, 6, 1, 0},
	    {200 * MBIT, 100 * MS, 2500000, 0, 6, 1, 0},
	    /* the engine hands out two 4 MiB blocks ahead of the pacer:
	     * datagrams handed out are not in flight (start-up left at 55
	     * Mbit/s, taking them for a queue, before the fix) */
	    {200 * MBIT, 100 * MS, 2500000, 0, 6, 1, 8 << 20},
	    /* a link hint seeds it */
	    {200 * MBIT, 100 * MS, 2 << 20, 200 * MBIT, 3, 1, 0},
	    /* elsewhere: fast, and no overflow with a BDP of queue */
	    {1000 * MBIT, 100 * MS, 12500000, 0, 9, 1, 0},
	    {1000 * MBIT, 100 * MS, 12500000, 0, 9, 1, 8 << 20},
	    {50 * MBIT, 300 * MS, 1875000, 0, 8, 1, 0},
	    {20 * MBIT, 10 * MS, 65536, 0, 8, 0, 0}, /* overflows: a gap */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flowsim_params p = {0};
		p.link_bps = cases[i].link;
		p.queue_bytes = cases[i].queue;
		p.duration_ns = 3 * SEC + 12 * cases[i].rtt;
		p.sample_ns = cases[i].rtt / 20;
		p.nflows = 1;
		p.flow[0] = salvo(&salvo_rate_fair_ops, cases[i].rtt, 0);
		p.flow[0].hint_bps = cases[i].hint;
		p.flow[0].ahead_bytes = cases[i].ahead;
		start_exit_seen seen = {0};
		p.on_sample = note_start_exit;
		p.on_sample_ud = &seen;
		flowsim_result r;
		run(&p, &r);
		/* telemetry (--events start_exit): a clean start says why it
		 * ended, and ended on the path filling, at or past the link */
		printf("fast start: left start-up on \"%s\" at %.1f Mbit/s\n",
		       seen.why ? seen.why : "(never)",
		       (double)seen.bps / MBIT);
		if (cases[i].no_drop &&
		    (!seen.why ||
		     (strcmp(seen.why, "queue") && strcmp(seen.why, "target") &&
		      strcmp(seen.why, "short")) ||
		     seen.bps < cases[i].link))
			FAILS("case %zu: start-up left on \"%s\" at %.1f "
			      "Mbit/s",
			      i, seen.why ? seen.why : "(never)",
			      (double)seen.bps / MBIT);
		/* arrivals at the bottleneck's exit over a quarter RTT; the
		 * receiver sees them half an RTT later */
		uint64_t t = flowsim_first_rate(&r, 0, 0, cases[i].rtt / 4,
						cases[i].link / 10 * 9);
		uint64_t at = t == UINT64_MAX ? t : t + cases[i].rtt / 2;
		printf("fast start: %llu Mbit/s %llu ms queue %llu B hint "
		       "%llu ahead %llu B: 90 %% after %.2f RTTs, first drop "
		       "%s\n",
		       (unsigned long long)(cases[i].link / MBIT),
		       (unsigned long long)(cases[i].rtt / MS),
		       (unsigned long long)cases[i].queue,
		       (unsigned long long)(cases[i].hint / MBIT),
		       (unsigned long long)cases[i].ahead,
		       at == UINT64_MAX ? -1.0
					: (double)at / (double)cases[i].rtt,
		       r.first_drop_ns == UINT64_MAX ? "none" : "yes");
		if (at == UINT64_MAX ||
		    at > (uint64_t)cases[i].max_rtts * cases[i].rtt)
			FAILS("case %zu: 90 %% of the link after %.2f RTTs, "
			      "want <= %u",
			      i,
			      at == UINT64_MAX
				  ? -1.0
				  : (double)at / (double)cases[i].rtt,
			      cases[i].max_rtts);
		if (cases[i].no_drop && r.first_drop_ns != UINT64_MAX)
			FAILS("case %zu: the queue overflowed at %.3f s", i,
			      (double)r.first_drop_ns / SEC);
		flowsim_result_free(&r);
	}
}

/* ------------------------------------------------------------- jain */

enum { GAP, AT_60, AT_20 };

static void test_jain(void **state)
{
	static const struct {
		size_t n;
		uint64_t link, rtt, stagger;
		double queue_bdp, min_jain;
		int meets;	/* what the model meets today */
		double floor60; /* a gap's floor over RTTs 60-100, 0 none */
	} cases[] = {
	    {2, 200 * MBIT, 100 * MS, 0, 1, 0.98, AT_20, 0},
	    {2, 200 * MBIT, 100 * MS, 10 * SEC, 1, 0.98, GAP, 0},
	    {2, 200 * MBIT, 20 * MS, 5 * SEC, 1, 0.98, AT_60, 0},
	    /* delay mode's upward velocity: 0.882 -> 0.919 (every seed) */
	    {2, 1000 * MBIT, 50 * MS, 5 * SEC, 1, 0.98, GAP, 0.90},
	    {2, 200 * MBIT, 100 * MS, 10 * SEC, 4, 0.98, GAP},
	    {4, 200 * MBIT, 100 * MS, 0, 1, 0.95, AT_20},
	    {4, 200 * MBIT, 100 * MS, 5 * SEC, 1, 0.95, AT_20},
	    {4, 200 * MBIT, 20 * MS, 2 * SEC, 1, 0.95, GAP},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flowsim_params p = {0};
		p.link_bps = cases[i].link;
		p.queue_bytes =
		    (uint64_t)(cases[i].queue_bdp *
			       (double)bdp_bytes(cases[i].link, cases[i].rtt));
		p.nflows = cases[i].n;
		uint64_t last = cases[i].stagger * (cases[i].n - 1);
		uint64_t rtt = cases[i].rtt;
		p.duration_ns = last + 100 * rtt + SEC;
		for (size_t k = 0; k < cases[i].n; k++)
			p.flow[k] = salvo(&salvo_rate_fair_ops, rtt,
					  cases[i].stagger * k);
		flowsim_result r;
		run(&p, &r);
		/* the target window, and the one the model meets today */
		double j20 = flowsim_jain(&r, last + 20 * rtt, last + 60 * rtt);
		double j60 =
		    flowsim_jain(&r, last + 60 * rtt, last + 100 * rtt);
		uint64_t total = 0;
		for (size_t k = 0; k < cases[i].n; k++)
			total += flowsim_rate_bps(&r, k, last + 60 * rtt,
						  last + 100 * rtt);
		int met = j20 >= cases[i].min_jain;
		printf("jain: %zu fair flows %llu Mbit/s %llu ms, starts "
		       "%.0f s apart: %.3f over RTTs 20-60 after the last "
		       "(target %.2f: %s), %.3f over RTTs 60-100, link %.0f "
		       "%% used\n",
		       cases[i].n, (unsigned long long)(cases[i].link / MBIT),
		       (unsigned long long)(rtt / MS),
		       (double)cases[i].stagger / SEC, j20, cases[i].min_jain,
		       met ? "met" : "MISSED, known gap", j60,
		       100.0 * (double)total / (double)cases[i].link);
		if (cases[i].meets == AT_20 && !met)
			FAILS("case %zu: Jain %.3f over RTTs 20-60, want >= "
			      "%.2f",
			      i, j20, cases[i].min_jain);
		if (j60 < cases[i].floor60)
			FAILS("case %zu: Jain %.3f over RTTs 60-100, want >= "
			      "%.2f (no slide back)",
			      i, j60, cases[i].floor60);
		if (cases[i].meets == AT_60 && j60 < cases[i].min_jain)
			FAILS("case %zu: Jain %.3f over RTTs 60-100, want >= "
			      "%.2f",
			      i, j60, cases[i].min_jain);
		/* whatever the gap: not one flow alone (Jain 1/n); the
		 * staggered cases vary with the seed (0.50-0.56 for four
		 * flows 2 s apart on 20 ms), so the floor has room */
		if (j60 < 1.0 / (double)cases[i].n + 0.15)
			FAILS("case %zu: Jain %.3f over RTTs 60-100", i, j60);
		if (total < cases[i].link / 100 * 90)
			FAILS("case %zu: the flows use %.0f %% of the link", i,
			      100.0 * (double)total / (double)cases[i].link);
		flowsim_result_free(&r);
	}
}

/* ------------------------------------------------------- beside TCP */

static void test_beside_tcp(void **state)
{
	static const struct {
		flowsim_kind kind;
		double queue_bdp;
		int meets; /* the model meets 35-65 % today */
	} cases[] = {
	    {FLOWSIM_CUBIC, 0.5, 1}, {FLOWSIM_CUBIC, 1, 1},
	    {FLOWSIM_CUBIC, 4, 1},   {FLOWSIM_BBR, 0.5, 0},
	    {FLOWSIM_BBR, 1, 0},     {FLOWSIM_BBR, 4, 0},
	};
	static const char *const names[] = {"", "CUBIC", "Reno", "BBR"};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t link = 200 * MBIT, rtt = 100 * MS;
		flowsim_params p = {0};
		p.link_bps = link;
		p.queue_bytes = (uint64_t)(cases[i].queue_bdp *
					   (double)bdp_bytes(link, rtt));
		p.duration_ns = 90 * SEC;
		p.nflows = 2;
		p.flow[0] = salvo(&salvo_rate_fair_ops, rtt, 0);
		p.flow[1] = tcp(cases[i].kind, rtt, 0);
		flowsim_result r;
		run(&p, &r);
		double s = share(&r, 0, 30 * SEC, 90 * SEC);
		int met = s >= 0.35 && s <= 0.65;
		printf("beside %s, queue %.1f BDP: fair gets %.1f %% of the "
		       "link (target 35-65 %%: %s)\n",
		       names[cases[i].kind], cases[i].queue_bdp, 100 * s,
		       met ? "met" : "MISSED, known gap");
		if (s < 0.01 || s > 0.99)
			FAILS("case %zu: one flow starves: fair %.1f %%", i,
			      100 * s);
		/* asserted with room for the seed: 30-70 % (the model's
		 * CUBIC cycles are 10 s long; one run of 60 s sees six) */
		if (cases[i].meets && (s < 0.30 || s > 0.70))
			FAILS("case %zu: fair %.1f %%, want 30-70 %%", i,
			      100 * s);
		flowsim_result_free(&r);
	}
}

/* The lab's order (perf/beside-cubic): CUBIC fills the path first, the
 * fair flow starts 5 s later on its standing queue.  Before the drain
 * test (does the queue follow when we halve for a round?) and the aim at
 * half the link the drain measures, delay mode yielded for 8 rounds of
 * standing queue and competitive mode grew from the yielded rate (seed
 * 11: 2.6, 8.6 and 4.3 % of the link over seconds 15-50 at 0.5, 1 and
 * 4 BDP; after: 34-52 % over seeds 11-20).  Target 35-65 % from 100
 * RTTs after it starts; asserted 30-70 %. */
static void test_beside_cubic_late(void **state)
{
	static const double queues[] = {0.5, 1, 4};
	(void)state;
	uint64_t link = 200 * MBIT, rtt = 100 * MS;
	for (size_t i = 0; i < sizeof(queues) / sizeof(queues[0]); i++) {
		flowsim_params p = {0};
		p.link_bps = link;
		p.queue_bytes =
		    (uint64_t)(queues[i] * (double)bdp_bytes(link, rtt));
		p.duration_ns = 50 * SEC;
		p.nflows = 2;
		p.flow[0] = salvo(&salvo_rate_fair_ops, rtt, 5 * SEC);
		p.flow[1] = tcp(FLOWSIM_CUBIC, rtt, 0);
		flowsim_result r;
		run(&p, &r);
		double s = share(&r, 0, 15 * SEC, 50 * SEC);
		printf("fair 5 s after CUBIC, queue %.1f BDP: %.1f %% of the "
		       "link over seconds 15-50\n",
		       queues[i], 100 * s);
		if (s < 0.30 || s > 0.70) /* room for the seed, as above */
			FAILS("queue %.1f BDP: fair %.1f %%, want 30-70 %%",
			      queues[i], 100 * s);
		flowsim_result_free(&r);
	}
}

/* The lab's TCP (perf/beside-cubic's iperf3) is bound by its socket
 * buffer, not by its window: Linux's tcp_wmem tops out at 4 MiB, about
 * 3.2 MB in flight, so on the 200 Mbit/s, 100 ms path (BDP 2.5 MB) it
 * holds 20-45 ms of queue alone, never fills a one-BDP queue and never
 * loses (iperf3 alone: 0 retransmits, cwnd 5.97 MB unused).  It is no
 * buffer filler a drain can see, nor a flow aiming at a delay: its rate
 * is W / RTT, so it yields only as the queue grows.  Fair stayed in
 * delay mode beside it, at its target on top of that queue: 8-9 % of
 * the link on the lab at 1 and 4 BDP (perf/fairness at c6e4d66), 8.3 /
 * 13.2 / 13.2 % here at 0.5 / 1 / 4 BDP before the standing-queue
 * verdict (rate_fair_compete.c), 57 / 24 / 51 % after (seeds 1-13:
 * 39.4-57.1 / 24.3-24.4 / 50.5-51.1).  At 1 BDP a flow that never
 * loses holds 3.2 MB of the 5 MB path, so without its losses the most
 * left is 72 Mbit/s (36 %), with the queue full all the time; the
 * 35-65 % target is not met there (asserted 20 %).  TCP starts 15 s
 * ahead: the model's HyStart leaves slow start at 140 Mbit/s and CUBIC
 * reaches the socket buffer's bound only after ~12 s (the lab's iperf3
 * reached it within 1 s). */
static void test_beside_sndbuf_tcp(void **state)
{
	static const struct {
		double queue_bdp, min_share;
	} cases[] = {{0.5, 0.30}, {1, 0.20}, {4, 0.30}};
	(void)state;
	uint64_t link = 200 * MBIT, rtt = 100 * MS;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flowsim_params p = {0};
		p.link_bps = link;
		p.queue_bytes = (uint64_t)(cases[i].queue_bdp *
					   (double)bdp_bytes(link, rtt));
		p.duration_ns = 60 * SEC;
		p.nflows = 2;
		p.flow[0] = salvo(&salvo_rate_fair_ops, rtt, 15 * SEC);
		p.flow[1] = tcp(FLOWSIM_CUBIC, rtt, 0);
		p.flow[1].inflight_cap_bytes = 3200000;
		flowsim_result r;
		run(&p, &r);
		double s = share(&r, 0, 25 * SEC, 60 * SEC);
		/* FLOWSIM_TRACE=1: each half second */
		for (uint64_t t = 0; getenv("FLOWSIM_TRACE") && t < 60 * SEC;
		     t += SEC / 2)
			printf("  %5.1f s pacing %6.1f fair %6.1f TCP %6.1f "
			       "Mbit/s queue %6.1f ms\n",
			       (double)t / SEC,
			       flowsim_pacing_bps(&r, 0, t, t + SEC / 2) / 1e6,
			       flowsim_rate_bps(&r, 0, t, t + SEC / 2) / 1e6,
			       flowsim_rate_bps(&r, 1, t, t + SEC / 2) / 1e6,
			       (double)flowsim_qdelay_ns(&r, t, t + SEC / 2) /
				   MS);
		printf("fair 15 s after a CUBIC flow with 3.2 MB in flight "
		       "at most, queue %.1f BDP: %.1f %% of the link over "
		       "seconds 25-60, queue %.1f ms\n",
		       cases[i].queue_bdp, 100 * s,
		       (double)flowsim_qdelay_ns(&r, 25 * SEC, 60 * SEC) / MS);
		if (s < cases[i].min_share || s > 0.70)
			FAILS("queue %.1f BDP: fair %.1f %%, want %.0f-70 %%",
			      cases[i].queue_bdp, 100 * s,
			      100 * cases[i].min_share);
		flowsim_result_free(&r);
	}
}

/* ------------------------------------------------------------- high */

static void test_high(void **state)
{
	(void)state;
	uint64_t link = 200 * MBIT, rtt = 100 * MS;
	flowsim_params p = {0};
	p.link_bps = link;
	p.queue_bytes = bdp_bytes(link, rtt);
	p.duration_ns = 40 * SEC;
	p.nflows = 2;
	p.flow[0] = salvo(&salvo_rate_high_ops, rtt, 0);
	p.flow[1] = salvo(&salvo_rate_fair_ops, rtt, 0);
	flowsim_result r;
	run(&p, &r);
	double ratio = (double)flowsim_rate_bps(&r, 0, 10 * SEC, 40 * SEC) /
		       (double)flowsim_rate_bps(&r, 1, 10 * SEC, 40 * SEC);
	printf("high: %.2f x a fair flow beside it\n", ratio);
	/* the target is about 2x; the model gives less today (a gap) */
	if (ratio < 1.15 || ratio > 2.5)
		FAILS("high takes %.2f x a fair flow, want 1.15-2.5", ratio);
	flowsim_result_free(&r);

	/* beside CUBIC, more than fair takes there */
	double got[2];
	const salvo_rate_ops *ops[2] = {&salvo_rate_fair_ops,
					&salvo_rate_high_ops};
	for (int k = 0; k < 2; k++) {
		p.duration_ns = 90 * SEC;
		p.flow[0] = salvo(ops[k], rtt, 0);
		p.flow[1] = tcp(FLOWSIM_CUBIC, rtt, 0);
		run(&p, &r);
		got[k] = share(&r, 0, 30 * SEC, 90 * SEC);
		flowsim_result_free(&r);
	}
	printf("high beside CUBIC: %.1f %% (fair: %.1f %%)\n", 100 * got[1],
	       100 * got[0]);
	if (got[1] <= got[0])
		FAILS("beside CUBIC high gets %.1f %%, fair %.1f %%",
		      100 * got[1], 100 * got[0]);
}

/* -------------------------------------------------------------- low */

static void test_low(void **state)
{
	static const double queues[] = {0.5, 1, 4};
	(void)state;
	uint64_t link = 200 * MBIT, rtt = 100 * MS;
	for (size_t i = 0; i < sizeof(queues) / sizeof(queues[0]); i++) {
		flowsim_params p = {0};
		p.link_bps = link;
		p.queue_bytes =
		    (uint64_t)(queues[i] * (double)bdp_bytes(link, rtt));
		p.duration_ns = 90 * SEC;
		p.nflows = 1;
		p.flow[0] = tcp(FLOWSIM_CUBIC, rtt, 0);
		flowsim_result r;
		run(&p, &r);
		uint64_t alone = flowsim_rate_bps(&r, 0, 30 * SEC, 90 * SEC);
		flowsim_result_free(&r);
		p.nflows = 2;
		p.flow[1] = salvo(&salvo_rate_low_ops, rtt, 0);
		run(&p, &r);
		uint64_t beside = flowsim_rate_bps(&r, 0, 30 * SEC, 90 * SEC);
		printf("low beside CUBIC, queue %.1f BDP: CUBIC keeps %.1f "
		       "%% of its rate alone\n",
		       queues[i], 100.0 * (double)beside / (double)alone);
		if (beside < alone / 100 * 90)
			FAILS("queue %.1f BDP: CUBIC %.1f Mbit/s beside low, "
			      "%.1f alone",
			      queues[i], (double)beside / MBIT,
			      (double)alone / MBIT);
		flowsim_result_free(&r);
	}
	/* alone: little queue, the link still used */
	flowsim_params p = {0};
	p.link_bps = link;
	p.queue_bytes = bdp_bytes(link, rtt);
	p.duration_ns = 30 * SEC;
	p.nflows = 1;
	p.flow[0] = salvo(&salvo_rate_low_ops, rtt, 0);
	flowsim_result r;
	run(&p, &r);
	uint64_t q = flowsim_qdelay_ns(&r, 5 * SEC, 30 * SEC);
	uint64_t got = flowsim_rate_bps(&r, 0, 5 * SEC, 30 * SEC);
	printf("low alone: %.1f ms of queue, %.0f %% of the link\n",
	       (double)q / MS, 100.0 * (double)got / (double)link);
	if (q > 25 * MS)
		FAILS("low alone holds %.1f ms of queue, want <= 25",
		      (double)q / MS);
	if (got < link / 100 * 90)
		FAILS("low alone uses %.0f %% of the link",
		      100.0 * (double)got / (double)link);
	flowsim_result_free(&r);
	/* beside fair it takes the smaller part */
	p.duration_ns = 40 * SEC;
	p.nflows = 2;
	p.flow[1] = salvo(&salvo_rate_fair_ops, rtt, 5 * SEC);
	run(&p, &r);
	double s = share(&r, 0, 15 * SEC, 40 * SEC);
	printf("low beside fair: %.1f %%\n", 100 * s);
	if (s > 0.35)
		FAILS("low takes %.1f %% beside fair, want <= 35", 100 * s);
	flowsim_result_free(&r);
}

/* ----------------------------------------------------------- bounds */

/* ---------------------------------------------------------- shallow */

/* Start-up where a round holds few datagrams (50 Mbit/s x 10 ms: 42 of
 * 1,500 bytes, a one-BDP 64 KiB queue: the simulator's adaptive seed
 * 1066) must see the queue hold arrivals back before the rate is far
 * past the link.  The early exit's count floor (64 datagrams) was more
 * than half a round holds there, so the check stayed off until the rate
 * was three times the link, and back to back windows saw the shortfall
 * up to a window late: the pacing rate peaked at 3.21x the link and the
 * queue dropped 87.6 kB before the fix (2.19x, nothing dropped after).
 * The 20 and 100 Mbit/s rows still overflow (3.7x and 2.9x: start-up
 * grows 1.8x a round and sees the queue a round late; a gap, printed,
 * not asserted). */
static void test_small_pipe_start(void **state)
{
	static const struct {
		uint64_t link, rtt, queue;
		int gap; /* printed, not asserted */
	} cases[] = {
	    {50 * MBIT, 10 * MS, 65536, 0},
	    {20 * MBIT, 10 * MS, 65536, 1},
	    {100 * MBIT, 10 * MS, 131072, 1},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flowsim_params p = {0};
		p.link_bps = cases[i].link;
		p.queue_bytes = cases[i].queue;
		p.duration_ns = SEC;
		p.sample_ns = cases[i].rtt / 10;
		p.nflows = 1;
		p.flow[0] = salvo(&salvo_rate_fair_ops, cases[i].rtt, 0);
		flowsim_result r;
		run(&p, &r);
		uint64_t peak = 0;
		for (size_t k = 0; k < r.nsamples; k++)
			peak = r.rate[0][k] > peak ? r.rate[0][k] : peak;
		printf("small pipe start: %llu Mbit/s %llu ms queue %llu B: "
		       "peak pacing %.2f x the link, queue drops %.0f B\n",
		       (unsigned long long)(cases[i].link / MBIT),
		       (unsigned long long)(cases[i].rtt / MS),
		       (unsigned long long)cases[i].queue,
		       (double)peak / (double)cases[i].link, r.dropped[0]);
		if (!cases[i].gap &&
		    (peak * 2 > 5 * cases[i].link ||
		     r.dropped[0] * 4 > (double)cases[i].queue))
			FAILS("case %zu: start-up paced at %.2f x the link, "
			      "the queue dropped %.0f B",
			      i, (double)peak / (double)cases[i].link,
			      r.dropped[0]);
		flowsim_result_free(&r);
	}
}

/* A queue of about one RTT on a short path (the simulator's 10 ms paths
 * with 64 KiB): fair's delay target (10 ms at 50 Mbit/s) kept it full,
 * so the random-loss runs lost 5-13 % more at the queue.  After start-up
 * the queue must stay at most 60 % full on average (97 % before the
 * fix, about half after), and the queue's
 * drops stay under 1 % of what was sent. */
static void test_shallow_queue(void **state)
{
	static const struct {
		uint64_t link, rtt, queue;
		double loss;
	} cases[] = {
	    {50 * MBIT, 10 * MS, 65536, 0.01},
	    {50 * MBIT, 10 * MS, 65536, 0},
	    {10 * MBIT, 10 * MS, 65536, 0.01},
	    {200 * MBIT, 10 * MS, 250000, 0.01},
	    {1000 * MBIT, 10 * MS, 1250000, 0.001},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flowsim_params p = {0};
		p.link_bps = cases[i].link;
		p.queue_bytes = cases[i].queue;
		p.loss = cases[i].loss;
		p.duration_ns = 10 * SEC;
		p.nflows = 1;
		p.flow[0] = salvo(&salvo_rate_fair_ops, cases[i].rtt, 0);
		flowsim_result r;
		run(&p, &r);
		uint64_t q = flowsim_qdelay_ns(&r, 2 * SEC, 10 * SEC);
		uint64_t full = cases[i].queue * 8 * SEC / cases[i].link;
		double sent =
		    (double)flowsim_rate_bps(&r, 0, 0, 10 * SEC) / 8 * 10 +
		    r.dropped[0];
		double drop = r.dropped[0] / sent;
		uint64_t got = flowsim_goodput_bps(&r, 0, 2 * SEC, 10 * SEC);
		printf("shallow: %llu Mbit/s %llu ms queue %llu B (%.1f ms) "
		       "loss %.1f %%: queue %.2f ms, queue drops %.2f %%, "
		       "goodput %.1f %% of link x (1 - p)\n",
		       (unsigned long long)(cases[i].link / MBIT),
		       (unsigned long long)(cases[i].rtt / MS),
		       (unsigned long long)cases[i].queue, (double)full / MS,
		       cases[i].loss * 100, (double)q / MS, drop * 100,
		       100 * (double)got /
			   ((double)LINK_PAYLOAD(cases[i].link) *
			    (1 - cases[i].loss)));
		if (q * 5 > full * 3)
			FAILS("case %zu: the queue held %.2f ms of %.2f", i,
			      (double)q / MS, (double)full / MS);
		if (drop > 0.01)
			FAILS("case %zu: the queue dropped %.2f %% of the data",
			      i, drop * 100);
		if ((double)got < 0.85 * (double)LINK_PAYLOAD(cases[i].link) *
				      (1 - cases[i].loss))
			FAILS("case %zu: goodput %.1f Mbit/s", i,
			      (double)got / MBIT);
		flowsim_result_free(&r);
	}
}

static void test_bounds(void **state)
{
	static const struct {
		uint64_t ceiling, floor;
		flowsim_kind cross; /* FLOWSIM_SALVO: none */
		uint64_t want_lo, want_hi;
	} cases[] = {
	    /* a ceiling under the link: it is the rate */
	    {80 * MBIT, 0, FLOWSIM_SALVO, 78 * MBIT, 80 * MBIT},
	    /* a floor above what CUBIC would leave: held */
	    {10000 * MBIT, 120 * MBIT, FLOWSIM_CUBIC, 119 * MBIT, 200 * MBIT},
	    /* both */
	    {150 * MBIT, 100 * MBIT, FLOWSIM_CUBIC, 99 * MBIT, 150 * MBIT},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t link = 200 * MBIT, rtt = 50 * MS;
		flowsim_params p = {0};
		p.link_bps = link;
		p.queue_bytes = bdp_bytes(link, rtt);
		p.loss = 0.01;
		p.duration_ns = 40 * SEC;
		p.nflows = cases[i].cross == FLOWSIM_SALVO ? 1 : 2;
		p.flow[0] = salvo(&salvo_rate_fair_ops, rtt, 0);
		p.flow[0].ceiling_bps = cases[i].ceiling;
		p.flow[0].floor_bps = cases[i].floor;
		p.flow[1] = tcp(cases[i].cross, rtt, 0);
		flowsim_result r;
		run(&p, &r); /* checks every rate against the bounds */
		uint64_t got = flowsim_pacing_bps(&r, 0, 10 * SEC, 40 * SEC);
		if (got < cases[i].want_lo || got > cases[i].want_hi)
			FAILS("case %zu: paces at %.1f Mbit/s, want %.0f-%.0f",
			      i, (double)got / MBIT,
			      (double)cases[i].want_lo / MBIT,
			      (double)cases[i].want_hi / MBIT);
		flowsim_result_free(&r);
	}
}

/* ---------------------------------------------------------- timeout */

static void test_timeout(void **state)
{
	static const struct {
		uint64_t ceiling, floor, lowest;
	} cases[] = {
	    {1000 * MBIT, 0, 500000},
	    {1000 * MBIT, 20 * MBIT, 20 * MBIT},
	    {300000, 0, 300000},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		salvo_rate_state st;
		const salvo_rate_ops *o = &salvo_rate_fair_ops;
		o->init(&st, cases[i].ceiling, cases[i].floor, 1472, 0);
		o->seed(&st, cases[i].ceiling, 20 * MS, 0);
		uint64_t r = o->pacing_rate(&st);
		salvo_rate_snapshot snap = {0};
		o->snapshot(&st, &snap);
		assert_null(snap.start_exit); /* start-up runs */
		for (int k = 0; k < 40; k++) {
			o->on_timeout(&st, (uint64_t)(k + 1) * SEC);
			if (!k) { /* the first timeout ended start-up */
				o->snapshot(&st, &snap);
				assert_non_null(snap.start_exit);
				assert_string_equal(snap.start_exit, "timeout");
				assert_int_equal(snap.start_exit_bps, r);
			}
			uint64_t n = o->pacing_rate(&st);
			uint64_t want =
			    r / 2 > cases[i].lowest ? r / 2 : cases[i].lowest;
			if (n != want)
				fail_msg("case %zu timeout %d: %llu, want %llu",
					 i, k, (unsigned long long)n,
					 (unsigned long long)want);
			r = n;
		}
		assert_int_equal(r, cases[i].lowest);
	}
}

/* ------------------------------------------------------------ jitter */

/* Feedback as the lab's linkem and a busy host deliver it: generated
 * every 12.5 ms, one in four held back 12.45 ms so the next arrives
 * 0.05 ms after it, on a path that never holds anything back (50 ms each
 * way, no queue).  Each carries what the receiver held when it left.
 * Found in the lab's --events: start-up took the late one's short window
 * for a queue (left at 10-47 Mbit/s of 200), and the bunched pair read
 * 264-1,800 Mbit/s of delivery, which the max filter kept. */
static void test_jittery_feedback(void **state)
{
	const salvo_rate_ops *o = &salvo_rate_fair_ops;
	const uint64_t owd = 50 * MS, step = 12500000, payload = 1472;
	salvo_rate_state st;
	(void)state;
	o->init(&st, 10000 * MBIT, 0, payload, 0);
	o->seed(&st, 0, 2 * owd, 0);
	/* what the pacer let out: the rate in force, 0.5 ms at a time */
	static uint64_t out_at[40000], rate_at[40000];
	uint64_t t = 0, sent = 0, n = 0;
	for (uint64_t k = 1; k < 400; k++) {
		uint64_t gen = k * step, arrive = gen + owd;
		if (k % 4 == 1)
			arrive += step - 50000;
		while (t + 500000 <= arrive && n < 40000) {
			t += 500000;
			out_at[n] = t;
			rate_at[n] = o->pacing_rate(&st);
			sent += rate_at[n] / 8 * 500000 / SEC;
			n++;
		}
		/* held: what left by gen - owd */
		uint64_t held = 0, peak = 0;
		for (uint64_t i = 0; i < n && out_at[i] <= gen - owd; i++)
			held += rate_at[i] / 8 * 500000 / SEC;
		held = held / payload * payload;
		for (uint64_t i = 0; i < n; i++)
			if (out_at[i] + 3 * owd >= arrive && rate_at[i] > peak)
				peak = rate_at[i];
		salvo_rate_sample rs = {arrive,
					2 * owd,
					2 * owd,
					2 * owd,
					0,
					sent / payload + 1,
					held / payload,
					held,
					0,
					(uint32_t)payload,
					0};
		o->on_feedback(&st, &rs);
		salvo_rate_snapshot sn = {0};
		o->snapshot(&st, &sn);
		if (sn.delivery_bps > peak + peak / 4 + peak / 16)
			fail_msg("feedback %llu: delivery %llu bit/s, the "
				 "pacer's peak over 1.5 RTT %llu",
				 (unsigned long long)k,
				 (unsigned long long)sn.delivery_bps,
				 (unsigned long long)peak);
		if (strcmp(sn.state, "start"))
			fail_msg("feedback %llu: left start-up (%s) at %llu "
				 "bit/s on a path that kept up",
				 (unsigned long long)k, sn.state,
				 (unsigned long long)sn.rate_bps);
		if (sn.rate_bps >= 400 * MBIT)
			return;
	}
	fail_msg("start-up stalled at %llu bit/s",
		 (unsigned long long)o->pacing_rate(&st));
}

/* The engine's pacer behind the core's rate: on a busy host (the
 * lab's two cores, linkem, both ends and other builds) the block-senders
 * let out less than the rate says, and start-up, which counts what
 * left by the rate, read arrivals short of it with no queue anywhere
 * (two of three 0 % lab runs left start-up at 150-200 Mbit/s pacing
 * but 20-40 Mbit/s arriving, RTT 0.0-0.3 ms over the lowest, then
 * climbed for 1.5 s in delay mode).  Here the pacer lets out
 * lag_pct % of the rate; a shortfall with no queue in the RTT samples
 * is the sender's own, not the path's. */
static const salvo_rate_ops *lag_base;
static uint64_t lag_pct;

static uint64_t lagging_pacing_rate(const void *state)
{
	return lag_base->pacing_rate(state) / 100 * lag_pct;
}

static void test_lagging_pacer_start(void **state)
{
	static const struct {
		uint64_t lag_pct, max_rtts;
	} cases[] = {
	    {100, 6}, /* the pacer keeps up: as test_fast_start */
	    {85, 7},
	    {70, 8},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		salvo_rate_ops ops = salvo_rate_fair_ops;
		lag_base = &salvo_rate_fair_ops;
		lag_pct = cases[i].lag_pct;
		ops.pacing_rate = lagging_pacing_rate;
		flowsim_params p = {0};
		p.link_bps = 200 * MBIT;
		p.queue_bytes = bdp_bytes(200 * MBIT, 100 * MS);
		p.duration_ns = 3 * SEC;
		p.sample_ns = 5 * MS;
		p.nflows = 1;
		p.flow[0] = salvo(&ops, 100 * MS, 0);
		/* two 4 MiB blocks handed out ahead, as the engine does: the
		 * core's datagram count does not hold the estimate back */
		p.flow[0].ahead_bytes = 8 << 20;
		flowsim_result r;
		run(&p, &r);
		uint64_t t = flowsim_first_rate(&r, 0, 0, 25 * MS, 180 * MBIT);
		uint64_t at = t == UINT64_MAX ? t : t + 50 * MS;
		printf(
		    "lagging pacer: %llu %% of the rate leaves: 90 %% of the "
		    "link after %.2f RTTs, first drop %s\n",
		    (unsigned long long)cases[i].lag_pct,
		    at == UINT64_MAX ? -1.0 : (double)at / (100 * MS),
		    r.first_drop_ns == UINT64_MAX ? "none" : "yes");
		if (at == UINT64_MAX || at > cases[i].max_rtts * 100 * MS)
			FAILS("lagging pacer case %zu: 90 %% of the link after "
			      "%.2f RTTs, want <= %llu",
			      i,
			      at == UINT64_MAX ? -1.0 : (double)at / (100 * MS),
			      (unsigned long long)cases[i].max_rtts);
		if (r.first_drop_ns != UINT64_MAX)
			FAILS("lagging pacer case %zu: the queue overflowed",
			      i);
		flowsim_result_free(&r);
	}
}

/* The lab's start-up on a loaded host (load 4-7; docs/PERFORMANCE.md,
 * "One flow alone"): the pacer lets out less than the rate, so
 * arrivals read short of what the core counts as left, and the RTT
 * samples carry the host's scheduling noise, 1.3-3.4 ms over the
 * lowest at times, with no queue anywhere.  Together they passed
 * start-up's "arrivals short, with 1 ms of queue" exit at 27-65
 * Mbit/s, and delay mode then climbed for 1.5-2.5 s (its "empty queue"
 * probe waits for a round whose every sample reads empty).  Here: the
 * pacer lets out lag_pct % of the rate, and in busy_pm / 1000 of the
 * 20 ms slots each RTT sample reads 1.5-3.5 ms over the path's (else
 * 0-0.3 ms). */
static uint64_t start_busy_pm;

static void noisy_start_feedback(void *state, const salvo_rate_sample *s)
{
	salvo_rate_sample t = *s;
	if (t.rtt_ns) {
		salvo_testrand r = {seed * 7919 + t.now / (20 * MS)};
		testrand_next(&r);
		t.rtt_ns += testrand_below(&r, 1000) < start_busy_pm
				? 1500000 + testrand_below(&r, 2000001)
				: testrand_below(&r, 300001);
	}
	lag_base->on_feedback(state, &t);
}

static void test_noisy_start(void **state)
{
	static const struct {
		uint64_t lag_pct, busy_pm, max_rtts;
	} cases[] = {
	    {100, 400, 7}, {90, 400, 8}, {85, 400, 8}, {85, 700, 9}, {70, 0, 8},
	};
	size_t bad = 0;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		salvo_rate_ops ops = salvo_rate_fair_ops;
		lag_base = &salvo_rate_fair_ops;
		lag_pct = cases[i].lag_pct;
		start_busy_pm = cases[i].busy_pm;
		ops.pacing_rate = lagging_pacing_rate;
		ops.on_feedback = noisy_start_feedback;
		flowsim_params p = {0};
		p.link_bps = 200 * MBIT;
		p.queue_bytes = bdp_bytes(200 * MBIT, 100 * MS);
		p.duration_ns = 4 * SEC;
		p.sample_ns = 5 * MS;
		p.nflows = 1;
		p.flow[0] = salvo(&ops, 100 * MS, 0);
		p.flow[0].ahead_bytes = 8 << 20;
		flowsim_result r;
		run(&p, &r);
		uint64_t t = flowsim_first_rate(&r, 0, 0, 25 * MS, 180 * MBIT);
		uint64_t at = t == UINT64_MAX ? t : t + 50 * MS;
		printf("noisy start: pacer at %llu %% of the rate, %llu %% of "
		       "slots +1.5-3.5 ms: 90 %% of the link after %.2f RTTs, "
		       "first drop %s\n",
		       (unsigned long long)cases[i].lag_pct,
		       (unsigned long long)(cases[i].busy_pm / 10),
		       at == UINT64_MAX ? -1.0 : (double)at / (100 * MS),
		       r.first_drop_ns == UINT64_MAX ? "none" : "yes");
		if (at == UINT64_MAX || at > cases[i].max_rtts * 100 * MS ||
		    r.first_drop_ns != UINT64_MAX)
			bad = i + 1;
		flowsim_result_free(&r);
	}
	if (bad)
		FAILS("noisy start case %zu: slower than its bound to 90 %% "
		      "of the link, or the queue overflowed",
		      bad - 1);
}

/* After an early exit that still happens (a stall, a burst of noise):
 * delay mode's climb back with the same RTT noise.  Forced here by a
 * timeout once start-up passes 60 Mbit/s (the rate halves and delay
 * mode takes over at 30-35 Mbit/s, as the lab's exits left it); the
 * lab took 1.5-2.5 s (pace90 17-37 RTTs) to climb from there.  Its
 * "room" probe waited for a round whose every RTT sample read (nearly)
 * empty, which noise of 1.5-3.5 ms denies once the target is under
 * 4 x that (above ~60 Mbit/s). */
static int climb_forced;

static void forced_exit_feedback(void *state, const salvo_rate_sample *s)
{
	noisy_start_feedback(state, s);
	if (!climb_forced && lag_base->pacing_rate(state) > 60 * MBIT) {
		climb_forced = 1;
		lag_base->on_timeout(state, s->now);
	}
}

static void test_noisy_climb(void **state)
{
	static const struct {
		uint64_t busy_pm, max_rtts;
	} cases[] = {
	    {0, 20},
	    {400, 20},
	    {700, 20},
	};
	size_t bad = 0;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		salvo_rate_ops ops = salvo_rate_fair_ops;
		lag_base = &salvo_rate_fair_ops;
		start_busy_pm = cases[i].busy_pm;
		climb_forced = 0;
		ops.on_feedback = forced_exit_feedback;
		flowsim_params p = {0};
		p.link_bps = 200 * MBIT;
		p.queue_bytes = bdp_bytes(200 * MBIT, 100 * MS);
		p.duration_ns = 6 * SEC;
		p.sample_ns = 5 * MS;
		p.nflows = 1;
		p.flow[0] = salvo(&ops, 100 * MS, 0);
		flowsim_result r;
		run(&p, &r);
		uint64_t t = flowsim_first_rate(&r, 0, 0, 25 * MS, 180 * MBIT);
		uint64_t at = t == UINT64_MAX ? t : t + 50 * MS;
		printf("noisy climb: %llu %% of slots +1.5-3.5 ms, delay mode "
		       "from ~30 Mbit/s: 90 %% of the link after %.2f RTTs, "
		       "first drop %s\n",
		       (unsigned long long)(cases[i].busy_pm / 10),
		       at == UINT64_MAX ? -1.0 : (double)at / (100 * MS),
		       r.first_drop_ns == UINT64_MAX ? "none" : "yes");
		if (at == UINT64_MAX || at > cases[i].max_rtts * 100 * MS ||
		    r.first_drop_ns != UINT64_MAX)
			bad = i + 1;
		flowsim_result_free(&r);
	}
	if (bad)
		FAILS("noisy climb case %zu: slower than its bound to 90 %% "
		      "of the link, or the queue overflowed",
		      bad - 1);
}

/* Competitive mode follows a CUBIC window in rate space, which grows
 * while nothing cuts it; it never paces above twice what the path
 * delivers (the lab's 0 % runs paced up to 830 Mbit/s into 200). */
static void test_compete_cap(void **state)
{
	const salvo_rate_ops *o = &salvo_rate_fair_ops;
	salvo_rate_state st;
	(void)state;
	o->init(&st, 10000 * MBIT, 0, 1472, 0);
	o->seed(&st, 0, 100 * MS, 0);
	salvo_rate_fair *f = &st.fair;
	f->mode = 3; /* M_COMPETE (rate_fair.c) */
	f->min_rtt_ns = f->srtt_ns = 100 * MS;
	f->delivered_bps = f->round_bw = f->prev_bw = 200 * MBIT;
	f->w_max_bytes = 10000000; /* 800 Mbit/s at 100 ms */
	f->rate_bps = 200 * MBIT;
	for (int k = 1; k <= 28; k++) {
		uint64_t now = (uint64_t)k * 25 * MS;
		salvo_rate_sample rs = {now, 100 * MS, 100 * MS, 100 * MS,
					0,   1000000,  0,	 0,
					0,   1472,     0};
		o->on_feedback(&st, &rs);
		salvo_rate_snapshot sn = {0};
		o->snapshot(&st, &sn);
		assert_string_equal(sn.state, "compete");
		if (sn.rate_bps > 2 * sn.delivery_bps)
			fail_msg("feedback %d: compete paces %llu bit/s, "
				 "delivery %llu",
				 k, (unsigned long long)sn.rate_bps,
				 (unsigned long long)sn.delivery_bps);
	}
}

/* ------------------------------------------------------- noisy RTT */

/* The lab's timing, which the model's path lacks, put between the path
 * and fair: each feedback up to fb_jit late (its RTT sample that much
 * longer; the lab's feedback comes 6-19 ms apart around 12.5), and
 * stretches of a busy host (per slot of `slot` ns, with probability
 * busy_pm / 1000 the RTT reads busy_lo-busy_hi ns over the path's for
 * the whole slot, else 0-1 ms).  On the lab fair alone holds 20-60 ms
 * of queue, drains every 2 s and sometimes goes competitive
 * (docs/PERFORMANCE.md); late feedback reproduced that here (75-78 %
 * of link x (1 - p), competitive in each): its delivery samples read
 * high, the queue settled where delay mode's correction made up for
 * them.  Now delay mode trusts samples only a 32nd over what it paced
 * while the feedback is late and the queue at its target, and the
 * buffer-filler tests allow for the lateness in the queue they read. */
static struct {
	uint64_t slot, busy_pm, busy_lo, busy_hi, fb_jit;
	uint64_t last;	/* the last feedback's time, as fair saw it */
	int competed;	/* fair entered competitive mode */
	double del_sum; /* fair's delivery estimate after 5 s: sum, */
	uint64_t del_n; /* ... feedbacks */
} noise;

static salvo_rate_ops noisy_ops;

static uint64_t noise_at(uint64_t now)
{
	salvo_testrand r = {seed * 7919 + now / noise.slot};
	testrand_next(&r);
	if (testrand_below(&r, 1000) < noise.busy_pm)
		return noise.busy_lo +
		       testrand_below(&r, noise.busy_hi - noise.busy_lo + 1);
	return testrand_below(&r, MS);
}

static void noisy_feedback(void *state, const salvo_rate_sample *s)
{
	salvo_rate_sample t = *s;
	uint64_t late = 0;
	if (noise.fb_jit) {
		salvo_testrand r = {seed * 31 + t.now};
		late = testrand_below(&r, noise.fb_jit);
	}
	t.now = noise.last > t.now + late ? noise.last : t.now + late;
	noise.last = t.now;
	if (t.rtt_ns)
		t.rtt_ns += noise_at(t.now) + late;
	salvo_rate_fair_ops.on_feedback(state, &t);
	if (((salvo_rate_fair *)state)->mode == 3) /* M_COMPETE */
		noise.competed = 1;
	if (t.now > 5 * SEC) {
		salvo_rate_snapshot sn = {0};
		salvo_rate_fair_ops.snapshot(state, &sn);
		noise.del_sum += (double)sn.delivery_bps;
		noise.del_n++;
	}
}

/* Alone on the lab's path (200 Mbit/s, 100 ms, 1 BDP, 1 % loss) with
 * the lab's RTT noise: the goal's goodput (>= 93 % of the link x
 * (1 - p)) with feedback on time, >= 90 % with it up to 6 ms late
 * (about 55 seeds: 93.2-96.8 %), and never competitive mode: nobody
 * fills the buffer. */
static void test_noisy_rtt_alone(void **state)
{
	static const struct {
		uint64_t slot, busy_pm, busy_lo, busy_hi, fb_jit;
		int gate;    /* % of link x (1 - p) asserted; 0: printed, a
			      * known gap */
		int del_pct; /* the delivery estimate's mean after 5 s, %
			      * of the link, at most; 0 not asserted */
	} cases[] = {
	    {100 * MS, 0, 0, 0, 0, 93, 101},
	    /* the lab's feedback spacing, 6-19 ms around 12.5 (all three
	     * failed before the late-feedback slack: 75-78 %,
	     * competitive).  Gaps still: 12 ms late went competitive
	     * for 1 seed in about 55 (1796542410548188956: 89 %); 20 ms
	     * late is 89-94 %, competitive for 2 seeds in 35 (105, 123) */
	    /* the delivery estimate: 215-219 Mbit/s on average on the
	     * 200 Mbit/s link with feedback 6-12 ms late (seeds 1-5, 11)
	     * before delivery samples took the lateness-free span; 210-214
	     * after */
	    {100 * MS, 0, 0, 0, 6 * MS, 90, 107},
	    {100 * MS, 0, 0, 0, 12 * MS, 0, 107},
	    {100 * MS, 0, 0, 0, 20 * MS, 0, 0},
	    /* stretches of a busy host */
	    {100 * MS, 200, 20 * MS, 60 * MS, 0, 0, 0},
	    {250 * MS, 300, 20 * MS, 60 * MS, 0, 0, 0},
	    {500 * MS, 300, 20 * MS, 60 * MS, 0, 0, 0},
	};
	size_t bad = 0;
	(void)state;
	noisy_ops = salvo_rate_fair_ops;
	noisy_ops.on_feedback = noisy_feedback;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		noise.slot = cases[i].slot;
		noise.busy_pm = cases[i].busy_pm;
		noise.busy_lo = cases[i].busy_lo;
		noise.busy_hi = cases[i].busy_hi;
		noise.fb_jit = cases[i].fb_jit;
		noise.last = 0;
		noise.competed = 0;
		noise.del_sum = 0;
		noise.del_n = 0;
		flowsim_params p = {0};
		p.link_bps = 200 * MBIT;
		p.queue_bytes = bdp_bytes(200 * MBIT, 100 * MS);
		p.loss = 0.01;
		p.duration_ns = 30 * SEC;
		p.nflows = 1;
		p.flow[0] = salvo(&noisy_ops, 100 * MS, 0);
		flowsim_result r;
		run(&p, &r);
		uint64_t got = flowsim_goodput_bps(&r, 0, 0, 30 * SEC);
		double want = (double)LINK_PAYLOAD(200 * MBIT) * 0.99;
		printf("noisy RTT alone: feedback up to %llu ms late, slot "
		       "%llu ms, busy %llu %% of slots +%llu-%llu ms: goodput "
		       "%.1f Mbit/s (%.1f %% of link x "
		       "(1 - p)), %s%s\n",
		       (unsigned long long)(cases[i].fb_jit / MS),
		       (unsigned long long)(cases[i].slot / MS),
		       (unsigned long long)(cases[i].busy_pm / 10),
		       (unsigned long long)(cases[i].busy_lo / MS),
		       (unsigned long long)(cases[i].busy_hi / MS),
		       (double)got / MBIT, 100 * (double)got / want,
		       noise.competed ? "went COMPETITIVE"
				      : "stayed out of "
					"competitive mode",
		       cases[i].gate ? "" : " (not asserted: known gap)");
		double del =
		    noise.del_n ? noise.del_sum / (double)noise.del_n : 0;
		printf("noisy RTT alone: ... delivery estimate after 5 s: "
		       "%.1f Mbit/s on average (%.1f %% of the link)%s\n",
		       del / MBIT, 100 * del / (double)(200 * MBIT),
		       cases[i].del_pct ? "" : " (not asserted)");
		if (cases[i].gate &&
		    ((double)got < cases[i].gate / 100.0 * want ||
		     noise.competed))
			bad = i + 1;
		if (cases[i].del_pct &&
		    del > cases[i].del_pct / 100.0 * (double)(200 * MBIT))
			bad = i + 1;
		flowsim_result_free(&r);
	}
	if (bad)
		FAILS("noisy case %zu: short of its goodput, went "
		      "competitive alone, or its delivery estimate read "
		      "over the link",
		      bad - 1);
}

/* make test runs the model with one fixed seed: the shares it asserts
 * are statistics of 60-90 s of modelled CUBIC cycles, and over seeds
 * they spread (beside CUBIC at 0.5 BDP: 40-73 %; 2 of 82 large seeds,
 * 987654321 and 1000013, gave fair 73.0 and 70.2 %, over the 70 %
 * asserted: a known gap, docs/PERFORMANCE.md), so a clock-drawn seed
 * failed one CI run in about forty.  SALVO_TEST_SEED=N runs seed N;
 * SALVO_TEST_SEED=random draws one from the clock, for exploring. */
#define DEFAULT_SEED 11

/* ------------------------------------------------ many, short RTT */

/* Many flows into one receiver at loopback RTTs (issue 11: 64 senders,
 * Jain >= 0.9): every flow's delay target sits at the 2 ms floor
 * whatever its rate, so the curve no longer hands a smaller flow a
 * longer target to gain with.  16 and 32 fair flows on a 1 ms path,
 * started 5 ms apart; Jain's index over the 2 s after a settling
 * second. */
static void test_many_short_rtt(void **state)
{
	static const struct {
		size_t n;
		uint64_t link, rtt, stagger;
		int host;
		uint64_t followup;
	} cases[] = {
	    {16, 1000 * MBIT, 1 * MS, 5 * MS, 1, 0},
	    {32, 2000 * MBIT, 1 * MS, 3 * MS, 1, 0},
	    /* under a datagram a round each, with the receiver's
	     * follow-up FEEDBACK */
	    {64, 100 * MBIT, 1 * MS, 1 * MS, 1, 100000},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flowsim_params p = {0};
		p.link_bps = cases[i].link;
		p.queue_bytes = 4 * 1024 * 1024; /* a receiver's sockets */
		p.host_queue = cases[i].host;
		p.nflows = cases[i].n;
		uint64_t last = cases[i].stagger * (cases[i].n - 1);
		p.duration_ns = last + 3 * SEC;
		for (size_t k = 0; k < cases[i].n; k++) {
			p.flow[k] = salvo(&salvo_rate_fair_ops, cases[i].rtt,
					  cases[i].stagger * k);
			p.flow[k].followup_ns = cases[i].followup;
		}
		flowsim_result r;
		run(&p, &r);
		double j = flowsim_jain(&r, last + SEC, last + 3 * SEC);
		uint64_t total = 0;
		for (size_t k = 0; k < cases[i].n; k++)
			total +=
			    flowsim_rate_bps(&r, k, last + SEC, last + 3 * SEC);
		printf(
		    "many: %zu fair flows %llu Mbit/s %.1f ms, %.0f ms "
		    "apart: Jain %.3f over 1-3 s after the last, link "
		    "%.0f %% used, queue %.2f ms\n",
		    cases[i].n, (unsigned long long)(cases[i].link / MBIT),
		    (double)cases[i].rtt / MS, (double)cases[i].stagger / MS, j,
		    100.0 * (double)total / (double)cases[i].link,
		    (double)flowsim_qdelay_ns(&r, last + SEC, last + 3 * SEC) /
			MS);
		if (j < 0.9)
			FAILS("case %zu: Jain %.3f, want >= 0.90", i, j);
		if (total < cases[i].link / 100 * 90)
			FAILS("case %zu: the flows use %.0f %% of the link", i,
			      100.0 * (double)total / (double)cases[i].link);
		flowsim_result_free(&r);
	}
}

int main(void)
{
	seed = testrand_fixed_seed(DEFAULT_SEED, "test_rate_fair");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_start),
	    cmocka_unit_test(test_fills_lossy_path),
	    cmocka_unit_test(test_fast_start),
	    cmocka_unit_test(test_jain),
	    cmocka_unit_test(test_beside_tcp),
	    cmocka_unit_test(test_beside_cubic_late),
	    cmocka_unit_test(test_beside_sndbuf_tcp),
	    cmocka_unit_test(test_high),
	    cmocka_unit_test(test_low),
	    cmocka_unit_test(test_small_pipe_start),
	    cmocka_unit_test(test_shallow_queue),
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_jittery_feedback),
	    cmocka_unit_test(test_lagging_pacer_start),
	    cmocka_unit_test(test_noisy_start),
	    cmocka_unit_test(test_noisy_climb),
	    cmocka_unit_test(test_compete_cap),
	    cmocka_unit_test(test_noisy_rtt_alone),
	    cmocka_unit_test(test_many_short_rtt),
	};
	/* SALVO_TEST_ONLY=PATTERN runs the matching tests alone */
	if (getenv("SALVO_TEST_ONLY"))
		cmocka_set_test_filter(getenv("SALVO_TEST_ONLY"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
