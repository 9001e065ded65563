/*
 * "fair" beside a buffer-filling TCP CUBIC flow (issue 11's goal: about
 * an equal share, 35-65 % of the link), in the flowsim model
 * (tests/helpers/flowsim.h): one drop-tail queue, CUBIC with no socket
 * buffer bound (a tuned host's TCP, --tcp-mem 64 MiB on the lab), so it
 * fills the queue and loses.  The lab's order: TCP first, fair 5 s
 * later; shares over a long window (60 s of model time, six or more of
 * CUBIC's cycles) once fair has settled.
 *
 *   beside_cubic      queues of 0.5, 1 and 4 BDP on 200 Mbit/s x 100 ms,
 *                     0 % loss: fair 35-65 % of the link, neither flow
 *                     starved;
 *                     (and >= 30 % over fair's first 20 s, the lab's
 *                     128 MiB run);
 *   beside_cubic_overshoot  the same with CUBIC's slow start run to
 *                     loss (the lab's: a standing queue when fair
 *                     starts): 35-65 % over the 60 s;
 *   beside_cubic_lossy  1 BDP with 1 % random loss on the link: CUBIC
 *                     keeps >= 80 % of what it gets alone there (~1.5
 *                     Mbit/s: it takes random loss for congestion),
 *                     fair fills >= 90 % of the rest (means of four
 *                     loss draws);
 *   entry_aim_noisy   the link competitive mode aims at on entry (1 BDP,
 *                     CUBIC without HyStart) with 0-4 ms of RTT noise:
 *                     within 30 % of the link;
 *   cut_in_drain      an overflow's losses in a drain cut the rate the
 *                     drain resumes, once (60-80 % of it after).
 *
 * FLOWSIM_TRACE=1 prints each second (pacing, both rates, the queue).
 * Seeded as test_rate_fair.c: SALVO_TEST_SEED=<seed> replays, make test
 * uses seed 11, SALVO_TEST_SEED=random draws one.
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
#include "common/core/rate_fair_impl.h"
#include "tests/helpers/flowsim.h"
#include "tests/helpers/testrand.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define MBIT 1000000ull
#define DEFAULT_SEED 11

static uint64_t seed;

#define FAILS(fmt, ...)                                                        \
	fail_msg("seed %llu (SALVO_TEST_SEED replays): " fmt,                  \
		 (unsigned long long)seed, __VA_ARGS__)

static const uint64_t link_bps = 200 * MBIT, rtt_ns = 100 * MS;

/* FLOWSIM_TRACE=1: each change of fair's state */
static void on_sample(void *ud, size_t flow, uint64_t now,
		      const salvo_rate_snapshot *snap)
{
	const char **last = ud;
	(void)flow;
	if (snap->state && (!*last || strcmp(*last, snap->state)))
		printf("  %6.2f s %s (rate %.1f, delivery %.1f Mbit/s, queue "
		       "%.1f ms)\n",
		       (double)now / SEC, snap->state,
		       (double)snap->rate_bps / 1e6,
		       (double)snap->delivery_bps / 1e6,
		       (double)snap->queue_ns / MS);
	*last = snap->state;
}

/* fair 5 s after one CUBIC flow, `bdp` BDPs of queue, random loss p;
 * overshoot: CUBIC's slow start runs to loss (no HyStart) */
static void beside(double bdp, double p_loss, uint64_t dur, int with_fair,
		   int overshoot, uint64_t draw, flowsim_result *r)
{
	flowsim_params p = {0};
	p.link_bps = link_bps;
	p.queue_bytes = (uint64_t)(bdp * (double)(link_bps / 8 * rtt_ns / SEC));
	p.loss = p_loss;
	p.duration_ns = dur;
	p.seed = seed + draw * 1000003;
	p.nflows = 2;
	p.flow[0] = (flowsim_flow){.kind = FLOWSIM_SALVO,
				   .stop_ns = with_fair ? 0 : 1,
				   .ops = &salvo_rate_fair_ops,
				   .rtt_ns = rtt_ns,
				   .start_ns = 5 * SEC};
	p.flow[1] = (flowsim_flow){
	    .kind = FLOWSIM_CUBIC, .rtt_ns = rtt_ns, .no_hystart = overshoot};
	const char *last = NULL;
	if (getenv("FLOWSIM_TRACE")) {
		p.on_sample = on_sample;
		p.on_sample_ud = &last;
	}
	assert_int_equal(flowsim_run(&p, r), 0);
	if (r->bad_rate[0])
		FAILS("fair paced at %llu bit/s, outside its bounds",
		      (unsigned long long)r->bad_rate[0]);
	for (uint64_t t = 0; getenv("FLOWSIM_TRACE") && t < dur; t += SEC)
		printf("  %3.0f s pacing %6.1f fair %6.1f TCP %6.1f Mbit/s "
		       "queue %6.1f ms\n",
		       (double)t / SEC,
		       (double)flowsim_pacing_bps(r, 0, t, t + SEC) / 1e6,
		       (double)flowsim_rate_bps(r, 0, t, t + SEC) / 1e6,
		       (double)flowsim_rate_bps(r, 1, t, t + SEC) / 1e6,
		       (double)flowsim_qdelay_ns(r, t, t + SEC) / MS);
}

static double share(const flowsim_result *r, uint64_t a, uint64_t b)
{
	double s = (double)flowsim_rate_bps(r, 0, a, b);
	double t = (double)flowsim_rate_bps(r, 1, a, b);
	return s + t > 0 ? s / (s + t) : 0;
}

/* Over 60 s once fair has settled (seconds 15-75): 35-65 %.  And over
 * its first 20 s (seconds 5-25, the length of the lab's 128 MiB run,
 * whose share counts the start): at least 30 %; before competitive
 * mode cut once per loss episode and stayed while the filler did,
 * 25.7 % at 0.5 BDP (seed 11), the lab's 22-30 %. */
static void check_share(const flowsim_result *r, const char *what,
			int early_bar)
{
	double s = share(r, 15 * SEC, 75 * SEC);
	double early = share(r, 5 * SEC, 25 * SEC);
	printf("%s: fair %.1f %% of the link over seconds 15-75 "
	       "(fair %.1f, CUBIC %.1f Mbit/s, queue %.1f ms), %.1f %% over "
	       "seconds 5-25\n",
	       what, 100 * s,
	       (double)flowsim_rate_bps(r, 0, 15 * SEC, 75 * SEC) / 1e6,
	       (double)flowsim_rate_bps(r, 1, 15 * SEC, 75 * SEC) / 1e6,
	       (double)flowsim_qdelay_ns(r, 15 * SEC, 75 * SEC) / MS,
	       100 * early);
	if (s < 0.35 || s > 0.65)
		FAILS("%s: fair %.1f %% of the link, want 35-65 %%", what,
		      100 * s);
	if (early_bar && early < 0.30)
		FAILS("%s: fair %.1f %% of the link over its first 20 s, "
		      "want >= 30 %%",
		      what, 100 * early);
}

static void test_beside_cubic(void **state)
{
	static const double queues[] = {0.5, 1, 4};
	(void)state;
	for (size_t i = 0; i < sizeof(queues) / sizeof(queues[0]); i++) {
		char what[64];
		snprintf(what, sizeof(what), "beside CUBIC, %.1f BDP",
			 queues[i]);
		flowsim_result r;
		beside(queues[i], 0, 75 * SEC, 1, 0, 0, &r);
		check_share(&r, what, 1);
		flowsim_result_free(&r);
	}
}

/* The lab's Linux CUBIC with 64 MiB buffers slow-starts into the queue
 * and loses there, so when fair starts 5 s later the queue already
 * stands at 40-70 ms (fair's lowest RTT read 135-174 ms on a 100 ms
 * path).  The model's HyStart leaves slow start before the queue; here
 * it does not.  Fair starts on a queue it takes for the base and enters
 * competitive mode from a low rate, aimed at half a link it measured
 * at most 8 x what reached it (17 Mbit/s: 140 of 200): at 4 BDP 27-39 %
 * over seeds 1-13 with the window changes of rate_fair_compete.c, until
 * that bound went to 16 x (44.6-54.0 %).  The first 20 s are a known
 * gap (24-32 %, printed): delay mode yields for ~5 s before the
 * verdict. */
static void test_beside_cubic_overshoot(void **state)
{
	static const double queues[] = {0.5, 1, 4};
	(void)state;
	for (size_t i = 0; i < sizeof(queues) / sizeof(queues[0]); i++) {
		char what[64];
		snprintf(what, sizeof(what),
			 "beside CUBIC without HyStart, %.1f BDP", queues[i]);
		flowsim_result r;
		beside(queues[i], 0, 75 * SEC, 1, 1, 0, &r);
		check_share(&r, what, 0);
		flowsim_result_free(&r);
	}
}

/* At 1 % random loss CUBIC takes every loss for congestion and holds
 * ~1.5 Mbit/s on 100 ms (Mathis: 1.22 x MSS / (RTT sqrt(p))), so there
 * is no half to take: fair, which ignores random loss, must leave CUBIC
 * what it gets alone and fill the rest (>= 90 % of it).  Beside fair's
 * delay target (~9 ms of queue) CUBIC's RTT is that much longer and its
 * rate, 1 / RTT, that much lower: asserted >= 80 %.  CUBIC moves about
 * 125 datagrams a second here, and one 60 s window's loss draws put its
 * rate alone anywhere in 1.22-1.63 Mbit/s (seeds 1-15), so one draw
 * each failed the bar at 4 seeds of 15 (74-79 %) where the flows
 * behaved as meant; the means of LOSSY_DRAWS draws of each, seeded from
 * the test's seed, read 86-103 % over the same seeds. */
#define LOSSY_DRAWS 4

static void test_beside_cubic_lossy(void **state)
{
	(void)state;
	double tcp0 = 0, tcp = 0, fair = 0;
	for (uint64_t k = 0; k < LOSSY_DRAWS; k++) {
		flowsim_result alone, r;
		beside(1, 0.01, 75 * SEC, 0, 0, k, &alone);
		beside(1, 0.01, 75 * SEC, 1, 0, k, &r);
		tcp0 += (double)flowsim_rate_bps(&alone, 1, 15 * SEC, 75 * SEC);
		tcp += (double)flowsim_rate_bps(&r, 1, 15 * SEC, 75 * SEC);
		fair += (double)flowsim_rate_bps(&r, 0, 15 * SEC, 75 * SEC);
		flowsim_result_free(&alone);
		flowsim_result_free(&r);
	}
	tcp0 /= LOSSY_DRAWS;
	tcp /= LOSSY_DRAWS;
	fair /= LOSSY_DRAWS;
	printf("1 %% loss, 1 BDP, mean of %d draws: CUBIC alone %.2f, beside "
	       "fair %.2f Mbit/s; fair %.1f Mbit/s\n",
	       LOSSY_DRAWS, tcp0 / 1e6, tcp / 1e6, fair / 1e6);
	if (tcp < 0.8 * tcp0)
		FAILS("CUBIC keeps %.2f of its %.2f Mbit/s beside fair",
		      tcp / 1e6, tcp0 / 1e6);
	if (fair < 0.9 * ((double)link_bps - tcp0))
		FAILS("fair %.1f Mbit/s beside CUBIC at 1 %% loss", fair / 1e6);
}

/* RTT noise between the path and fair, as the lab's host adds it: each
 * RTT sample 0-jit ns long (drawn per feedback from the seed).  Records
 * the link competitive mode aimed at on entry (twice its share). */
static struct {
	uint64_t jit;
	uint64_t entry_link; /* 0 not yet */
	uint64_t entry_at;
} jit;

static void jit_feedback(void *state, const salvo_rate_sample *s)
{
	salvo_rate_sample t = *s;
	salvo_rate_fair *f = state;
	if (t.rtt_ns && jit.jit) {
		salvo_testrand r = {seed * 7919 + t.now};
		testrand_next(&r);
		t.rtt_ns += testrand_below(&r, jit.jit);
	}
	int was = f->mode;
	salvo_rate_fair_ops.on_feedback(state, &t);
	if (f->mode == 3 && was != 3 && !jit.entry_link) { /* M_COMPETE */
		jit.entry_link = 2 * f->share_bps;
		jit.entry_at = t.now;
	}
}

/* The aim on entry: the drain measures the link as cut x span / fall,
 * and on the lab fair drains at 17-25 Mbit/s beside a CUBIC that
 * overshot (a fall of about 7 ms on 200 Mbit/s, 100 ms) through 1-3 ms
 * of RTT noise; one traced lab entry, from 17 Mbit/s, aimed at 73 (a
 * link of 146).  The fall runs from the standing queue
 * before the drain (the lowest RTT of half a round) to the lowest
 * reading of the 2-3 rounds after it, so noise could read it deep.  In
 * the model it does not: 188 Mbit/s with none, 150-252 with 0-4 ms
 * of noise per RTT sample over seeds 1-13, as often high as low
 * (reading the bottom as the top is read, one RTT after the drain
 * ended, changed nothing here and left the lab at 25 %).  So the lab's
 * low aim is not plain RTT noise.  This keeps the model's aim within
 * 30 % of the link under such noise (1 BDP, CUBIC without HyStart, fair
 * 5 s after it). */
static void test_entry_aim_noisy(void **state)
{
	static const uint64_t jits[] = {0, 2 * MS, 3 * MS, 4 * MS};
	salvo_rate_ops ops = salvo_rate_fair_ops;
	(void)state;
	ops.on_feedback = jit_feedback;
	for (size_t i = 0; i < sizeof(jits) / sizeof(jits[0]); i++) {
		flowsim_params p = {0};
		flowsim_result r;
		jit.jit = jits[i];
		jit.entry_link = 0;
		p.link_bps = link_bps;
		p.queue_bytes = link_bps / 8 * rtt_ns / SEC;
		p.duration_ns = 30 * SEC;
		p.seed = seed;
		p.nflows = 2;
		p.flow[0] = (flowsim_flow){.kind = FLOWSIM_SALVO,
					   .ops = &ops,
					   .rtt_ns = rtt_ns,
					   .start_ns = 5 * SEC};
		p.flow[1] = (flowsim_flow){
		    .kind = FLOWSIM_CUBIC, .rtt_ns = rtt_ns, .no_hystart = 1};
		assert_int_equal(flowsim_run(&p, &r), 0);
		printf("RTT noise 0-%.0f ms: competitive at %.1f s aimed at a "
		       "link of %.1f Mbit/s (the model's: 200); fair %.1f %% "
		       "over seconds 5-25\n",
		       (double)jits[i] / MS, (double)jit.entry_at / SEC,
		       (double)jit.entry_link / 1e6,
		       100 * share(&r, 5 * SEC, 25 * SEC));
		flowsim_result_free(&r);
		if (!jit.entry_link)
			FAILS("RTT noise 0-%.0f ms: never competitive",
			      (double)jits[i] / MS);
		if (jit.entry_link < link_bps * 7 / 10 ||
		    jit.entry_link > link_bps * 13 / 10)
			FAILS("RTT noise 0-%.0f ms: aimed at a link of %.1f "
			      "Mbit/s, want 140-260",
			      (double)jits[i] / MS,
			      (double)jit.entry_link / 1e6);
	}
}

/* An overflow's losses that come back while a drain runs (the drain
 * halves the rate for a round, salvo_fair_probe_step()) cut the rate
 * the drain resumes, once, as they would have outside it.  Cutting the
 * drain's half, and taking the CUBIC plateau from it, left 31 % of the
 * rate here once the drain ended; in test_beside_cubic_overshoot (0.5
 * BDP, seeds 2 and 11) a drain from 137 Mbit/s met such losses, and
 * with delay mode's curve steeper below its knee (tried) a drain at 4
 * BDP took fair from 88 to 27 Mbit/s. */
static void test_cut_in_drain(void **state)
{
	const salvo_rate_ops *o = &salvo_rate_fair_ops;
	const uint32_t pay = salvo_wire_payload_bytes(1472); /* DATA payload */
	salvo_rate_state st;
	(void)state;
	o->init(&st, 10000 * MBIT, 0, 1472, 0);
	o->seed(&st, 0, rtt_ns, 0);
	salvo_rate_fair *f = &st.fair;
	uint64_t now = 10 * SEC, r0 = 100 * MBIT;
	f->min_rtt_ns = f->srtt_ns = f->epoch_rtt_ns = rtt_ns;
	f->delivered_bps = f->round_bw = f->prev_bw = r0;
	f->rate_bps = r0;
	salvo_fair_enter(f, M_COMPETE, now);
	f->last_cut = f->last_probe = 0;
	f->round_start = now;
	salvo_rate_sample s = {.now = now,
			       .srtt_ns = rtt_ns,
			       .min_rtt_ns = rtt_ns,
			       .rtt_ns = rtt_ns,
			       .payload_bytes = pay};
	assert_int_equal(salvo_fair_probe_step(f, &s), 1);
	assert_true(f->probe_until > now);
	uint64_t resume = f->probe_rate;
	salvo_fair_compete_cut(f, now + 20 * MS);
	/* after the drain, one feedback a 40th of a second over an empty
	 * queue at the rate delivered */
	uint64_t sent = 0, got = 0, end = f->probe_until;
	for (now = end; now < end + 100 * MS; now += 25 * MS) {
		uint64_t b = f->rate_bps / 8 / 40;
		sent += b / pay;
		got += b / pay;
		s = (salvo_rate_sample){.now = now,
					.srtt_ns = rtt_ns,
					.min_rtt_ns = rtt_ns,
					.rtt_ns = rtt_ns,
					.delivered_bytes = b,
					.datagrams_sent = sent,
					.datagrams_received = got,
					.held_bytes = got * pay,
					.payload_bytes = pay};
		o->on_feedback(&st, &s);
	}
	salvo_rate_snapshot sn = {0};
	o->snapshot(&st, &sn);
	double kept = (double)sn.rate_bps / (double)resume;
	printf("cut in a drain: %.1f Mbit/s resumed after it, %.0f %% of "
	       "the rate before\n",
	       (double)sn.rate_bps / 1e6, 100 * kept);
	assert_string_equal(sn.state, "compete");
	if (kept < 0.6 || kept > 0.8)
		FAILS("cut in a drain: resumed at %.0f %% of the rate before, "
		      "want one cut (60-80 %%)",
		      100 * kept);
}

int main(void)
{
	seed = testrand_fixed_seed(DEFAULT_SEED, "test_rate_compete");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_beside_cubic),
	    cmocka_unit_test(test_beside_cubic_overshoot),
	    cmocka_unit_test(test_beside_cubic_lossy),
	    cmocka_unit_test(test_entry_aim_noisy),
	    cmocka_unit_test(test_cut_in_drain),
	};
	if (getenv("SALVO_TEST_ONLY"))
		cmocka_set_test_filter(getenv("SALVO_TEST_ONLY"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
