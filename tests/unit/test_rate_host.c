/*
 * fair, high and low beside a receiver that cannot keep up: its sockets
 * drop datagrams (FEEDBACK.host_drops) while no queue shows in the RTT
 * samples (they are timed by the kernel, from when a packet reached the
 * host, so the time it waits in the receiver's socket is not in them).
 * Such drops are congestion: start-up ends, the rate falls to beta x
 * and stays under a ceiling that grows back slowly; without drops the
 * ceiling goes.  Before host_drops, fair took them for random loss and
 * start-up grew on (64 senders to one loopback receiver: 40 % of the
 * bytes sent again).  And many equal flows into one receiver, in the
 * model (tests/helpers/flowsim.h, host_queue), must share it equally.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/rate.h"
#include "tests/helpers/flowsim.h"

#define MS 1000000ull
#define MBIT 1000000ull
#define PAYLOAD 1424u

/* A path of 100 us whose receiver takes cap_bps: feedback every ms with
 * an RTT sample at the lowest RTT (no queue shows), the receiver holding
 * what the rate sent up to cap_bps, and dropping the rest (counted in
 * host_drops, reported lost) when drops is set. */
typedef struct host_path {
	const salvo_rate_ops *ops;
	salvo_rate_state st;
	uint64_t now, held, lost, sent, recvd, drops;
	/* a receiver with a socket buffer of sock datagrams (0: none, what
	 * it cannot take is dropped at once): backlog waits there, and
	 * the wait is reported when wait is set */
	uint64_t sock, backlog;
	int wait;
	/* every spike_every-th ms the wait reads spike_ns more: the
	 * receiver's thread did not run for a while (a busy host), not a
	 * queue our rate built; 0 none */
	uint64_t spike_every, spike_ns;
	double sent_frac, held_frac; /* datagrams not yet whole */
} host_path;

static void path_init(host_path *p, const salvo_rate_ops *ops)
{
	memset(p, 0, sizeof(*p));
	p->ops = ops;
	p->now = 1000 * MS;
	ops->init(&p->st, SALVO_RATE_NO_CEILING_BPS, 0, PAYLOAD, p->now);
	if (ops->seed)
		ops->seed(&p->st, 0, 100000, p->now);
}

/* one millisecond: returns the rate after it */
static uint64_t path_ms(host_path *p, uint64_t cap_bps, int drops)
{
	uint64_t r = p->ops->pacing_rate(&p->st);
	double n = (double)r / 8 / (PAYLOAD + 64) / 1000 + p->sent_frac;
	uint64_t k = (uint64_t)n;
	p->sent_frac = n - (double)k;
	double c = (double)cap_bps / 8 / (PAYLOAD + 64) / 1000 + p->held_frac;
	uint64_t room = (uint64_t)c;
	p->held_frac = c - (double)room;
	uint64_t in = p->backlog + k;
	uint64_t got = in < room ? in : room;
	uint64_t over = in - got > p->sock ? in - got - p->sock : 0;
	p->backlog = in - got - over;
	p->sent += k;
	p->recvd += got;
	p->held += got * PAYLOAD;
	if (over) {
		p->lost += over * PAYLOAD;
		if (drops)
			p->drops += over;
	}
	p->now += MS;
	/* the backlog's wait at the receiver's rate */
	uint64_t wait = p->wait && room ? p->backlog * MS / room : 0;
	if (p->wait && got && !wait)
		wait = 20000; /* read at once: a few us */
	if (p->spike_every && (p->now / MS) % p->spike_every == 0)
		wait += p->spike_ns;
	salvo_rate_sample s = {
	    p->now,  100000,  100000,  100000, got * PAYLOAD, p->sent, p->recvd,
	    p->held, p->lost, PAYLOAD, 0,      p->drops,      wait};
	p->ops->on_feedback(&p->st, &s);
	return p->ops->pacing_rate(&p->st);
}

/* what share of the datagrams sent from ms a to b were lost */
static void run(host_path *p, uint64_t cap_bps, int drops, int ms)
{
	for (int i = 0; i < ms; i++)
		path_ms(p, cap_bps, drops);
}

/* 200 Mbit/s of receiver: start-up must stop near it, and the drops
 * stay a small part of what is sent once it has (the same path without
 * the drop count loses over half: start-up never ends, no queue shows,
 * and the loss reads as random) */
static void check_receiver_bound(const salvo_rate_ops *ops)
{
	host_path p;
	path_init(&p, ops);
	run(&p, 200 * MBIT, 1, 500);
	uint64_t s0 = p.sent, l0 = p.lost / PAYLOAD;
	run(&p, 200 * MBIT, 1, 2000);
	uint64_t sent = p.sent - s0, lost = p.lost / PAYLOAD - l0;
	uint64_t r = ops->pacing_rate(&p.st);
	print_message("%s: rate %llu Mbit/s, lost %llu of %llu (%.2f %%)\n",
		      ops->name, (unsigned long long)(r / MBIT),
		      (unsigned long long)lost, (unsigned long long)sent,
		      100.0 * (double)lost / (double)sent);
	assert_true(r < 400 * MBIT);
	assert_true(lost * 100 < sent * 2); /* under 2 % resent */
	/* and most of the receiver used: 2000 ms at 200 Mbit/s */
	assert_true(sent - lost >
		    2000ull * 200 * MBIT / 8 / (PAYLOAD + 64) / 1000 * 6 / 10);
}

static void test_fair_receiver_bound(void **state)
{
	(void)state;
	check_receiver_bound(&salvo_rate_fair_ops);
}

static void test_high_receiver_bound(void **state)
{
	(void)state;
	check_receiver_bound(&salvo_rate_high_ops);
}

/* Random loss with no drops at the receiver still does not lower the
 * rate: the same receiver-bound loss, not counted as host drops, leaves
 * the rate far above what arrives (what fair did before for every
 * loss), so a WAN path's random loss stays ignored. */
static void test_loss_without_drops_ignored(void **state)
{
	host_path p;
	(void)state;
	path_init(&p, &salvo_rate_fair_ops);
	run(&p, 200 * MBIT, 0, 300);
	assert_true(salvo_rate_fair_ops.pacing_rate(&p.st) > 400 * MBIT);
}

/* Once the receiver keeps up again the ceiling grows and goes: the rate
 * reaches a faster receiver's 800 Mbit/s within a second. */
static void test_ceiling_goes(void **state)
{
	host_path p;
	(void)state;
	path_init(&p, &salvo_rate_fair_ops);
	run(&p, 100 * MBIT, 1, 500);
	assert_true(salvo_rate_fair_ops.pacing_rate(&p.st) < 200 * MBIT);
	run(&p, 800 * MBIT, 1, 1000);
	uint64_t r = salvo_rate_fair_ops.pacing_rate(&p.st);
	print_message("after a second at 800 Mbit/s: %llu Mbit/s\n",
		      (unsigned long long)(r / MBIT));
	assert_true(r > 500 * MBIT);
}

/* A receiver too busy to take anything in yet (64 handshakes, its
 * sockets full) still answers with RTT samples, and they show no queue:
 * start-up must not grow past 4 x what arrives, or its first rate while
 * nothing has.  Before, it grew x1.8 a round on the samples alone (to
 * 640 Mbit/s in 0.4 s on loopback) and dumped its whole window into the
 * full sockets. */
static void test_start_waits_for_delivery(void **state)
{
	host_path p;
	(void)state;
	path_init(&p, &salvo_rate_fair_ops);
	uint64_t r0 = salvo_rate_fair_ops.pacing_rate(&p.st);
	run(&p, 0, 0, 200);
	uint64_t r = salvo_rate_fair_ops.pacing_rate(&p.st);
	print_message("nothing delivered for 200 ms: %llu -> %llu Mbit/s\n",
		      (unsigned long long)(r0 / MBIT),
		      (unsigned long long)(r / MBIT));
	assert_true(r <= 5 * r0); /* 4 x, and the step that passed it */
	/* and it grows as soon as the receiver takes data in */
	run(&p, 1000 * MBIT, 0, 100);
	assert_true(salvo_rate_fair_ops.pacing_rate(&p.st) > 8 * r0);
}

/* A receiver whose sockets hold 4 MiB (about 170 ms at 200 Mbit/s) and
 * report how long data waits there: delay mode keeps that queue near
 * its target and the sockets never overflow.  Without the wait (as
 * before host_wait_us) the queue is invisible, the sockets fill and drop
 * (the drops then cut the rate) over and over. */
static void check_socket_queue(int wait, uint64_t *lost, uint64_t *sent)
{
	host_path p;
	path_init(&p, &salvo_rate_fair_ops);
	p.sock = (4u << 20) / PAYLOAD;
	p.wait = wait;
	run(&p, 200 * MBIT, 1, 500);
	uint64_t s0 = p.sent, l0 = p.lost / PAYLOAD;
	run(&p, 200 * MBIT, 1, 3000);
	*sent = p.sent - s0;
	*lost = p.lost / PAYLOAD - l0;
	print_message("wait %s: lost %llu of %llu, backlog %llu\n",
		      wait ? "reported" : "hidden", (unsigned long long)*lost,
		      (unsigned long long)*sent, (unsigned long long)p.backlog);
}

static void test_socket_queue_seen(void **state)
{
	uint64_t lost, sent;
	(void)state;
	check_socket_queue(1, &lost, &sent);
	assert_int_equal(lost, 0);
	/* and the receiver kept busy: 3 s at 200 Mbit/s, most of it */
	assert_true(sent >
		    3000ull * 200 * MBIT / 8 / (PAYLOAD + 64) / 1000 * 8 / 10);
	check_socket_queue(0, &lost, &sent);
	assert_true(lost > 0); /* what the wait spares */
}

/* A busy host's receiver stops reading now and then (64 senders on its
 * two cores): the FEEDBACK after such a stall reports 5-15 ms of socket
 * wait, the next ones little or none (0: none of ours arrived).  Fair
 * reads the receiver's queue as the lowest wait of this half round and
 * the one before, as it reads the standing RTT, and takes a 0 for no
 * reading: the spikes do not hold a flow back.  Before, each spike cut
 * the rate by half a round and a 0 read as an empty queue: 64 flows on
 * the host moved 560-810 Mbit/s together where the filtered reading
 * moves 930-1,460 (docs/PERFORMANCE.md). */
static void test_wait_spikes(void **state)
{
	static const struct {
		uint64_t every, spike;
	} cases[] = {
	    {5, 10 * MS},
	    {3, 5 * MS},
	    {10, 15 * MS},
	};
	(void)state;
	host_path q;
	path_init(&q, &salvo_rate_fair_ops);
	q.wait = 1;
	run(&q, 2000 * MBIT, 1, 600);
	uint64_t r0 = salvo_rate_fair_ops.pacing_rate(&q.st);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		host_path p;
		path_init(&p, &salvo_rate_fair_ops);
		p.wait = 1;
		p.spike_every = cases[i].every;
		p.spike_ns = cases[i].spike;
		run(&p, 2000 * MBIT, 1, 600);
		uint64_t r = salvo_rate_fair_ops.pacing_rate(&p.st);
		print_message("wait +%llu ms every %llu ms: %llu Mbit/s after "
			      "0.6 s (%llu without the spikes)\n",
			      (unsigned long long)(cases[i].spike / MS),
			      (unsigned long long)cases[i].every,
			      (unsigned long long)(r / MBIT),
			      (unsigned long long)(r0 / MBIT));
		if (r < r0 / 10 * 8)
			fail_msg("case %zu: %llu Mbit/s, %llu without spikes",
				 i, (unsigned long long)(r / MBIT),
				 (unsigned long long)(r0 / MBIT));
	}
}

/* Many equal flows into one receiver on loopback (issue 11: 64
 * senders, Jain >= 0.9), fed as the engine feeds them: besides the
 * echo of each heartbeat and its follow-up, the receiver's periodic
 * FEEDBACK every millisecond while data arrives.  At 10-40 Mbit/s a
 * flow paces one to three datagrams a millisecond, so what fair counts
 * as let out between two feedbacks is a datagram and a fraction; cut
 * to whole datagrams at each, a flow at 1.9 datagrams a feedback
 * counted 1 and read its delivery (capped at 1.25 x what left) at 66 %
 * of its rate, while a flow at 8 counted 7.5 of them and read it all:
 * the slow flows cut themselves and the fast ones took the receiver.
 * Jain's index over 1-3 s after the last start. */
static void test_many_equal_flows(void **state)
{
	static const struct {
		size_t n;
		uint64_t link, stagger;
		uint64_t stall, stall_every; /* the receiver's stalls */
	} cases[] = {
	    {64, 800 * MBIT, 1 * MS, 0, 0},
	    {32, 800 * MBIT, 2 * MS, 0, 0},
	    {16, 400 * MBIT, 5 * MS, 0, 0},
	    /* a receiver that stops reading for ms at a time (printed,
	     * not asserted: a known gap; the flows' rates walk apart
	     * multiplicatively as the queue swings across their target) */
	    {64, 1600 * MBIT, 1 * MS, 10 * MS, 10 * MS},
	    {64, 2000 * MBIT, 1 * MS, 5 * MS, 20 * MS},
	    {64, 1000 * MBIT, 1 * MS, 8 * MS, 40 * MS},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flowsim_params p = {0};
		p.link_bps = cases[i].link;
		p.queue_bytes = 4 * 1024 * 1024; /* the receiver's sockets */
		p.host_queue = 1;
		p.seed = 11;
		p.nflows = cases[i].n;
		p.stall_ns = cases[i].stall;
		p.stall_every_ns = cases[i].stall_every;
		/* what the receiver takes on average */
		uint64_t link = cases[i].link;
		if (cases[i].stall)
			link = link / (cases[i].stall + cases[i].stall_every) *
			       cases[i].stall_every;
		uint64_t last = cases[i].stagger * (cases[i].n - 1);
		p.duration_ns = last + 3 * 1000 * MS;
		for (size_t k = 0; k < cases[i].n; k++) {
			flowsim_flow f = {0};
			f.kind = FLOWSIM_SALVO;
			f.ops = &salvo_rate_fair_ops;
			f.rtt_ns = 100000; /* loopback, kernel-timed */
			f.start_ns = cases[i].stagger * k;
			f.followup_ns = 1 * MS; /* the reorder floor */
			f.data_fb_ns = 1 * MS;
			p.flow[k] = f;
		}
		flowsim_result r;
		assert_int_equal(flowsim_run(&p, &r), 0);
		uint64_t a = last + 1000 * MS, b = last + 3000 * MS;
		double j = flowsim_jain(&r, a, b);
		uint64_t total = 0, lo = UINT64_MAX, hi = 0;
		for (size_t k = 0; k < cases[i].n; k++) {
			uint64_t x = flowsim_rate_bps(&r, k, a, b);
			total += x;
			lo = x < lo ? x : lo;
			hi = x > hi ? x : hi;
		}
		print_message("many equal: %zu fair flows into %llu Mbit/s "
			      "(stalls of %llu ms, one each %llu ms), %llu ms "
			      "apart: Jain %.3f, flows %.1f-%.1f Mbit/s, "
			      "receiver %.0f %% used, queue %.2f ms\n",
			      cases[i].n,
			      (unsigned long long)(cases[i].link / MBIT),
			      (unsigned long long)(cases[i].stall / MS),
			      (unsigned long long)(cases[i].stall_every / MS),
			      (unsigned long long)(cases[i].stagger / MS), j,
			      (double)lo / MBIT, (double)hi / MBIT,
			      100.0 * (double)total / (double)link,
			      (double)flowsim_qdelay_ns(&r, a, b) / MS);
		/* with stalls: printed, a known gap (docs/PERFORMANCE.md) */
		int ok =
		    cases[i].stall || (j >= 0.9 && total >= link / 100 * 85);
		flowsim_result_free(&r);
		if (!ok)
			fail_msg("case %zu: Jain %.3f (want >= 0.9) or the "
				 "receiver under 85 %% used",
				 i, j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fair_receiver_bound),
	    cmocka_unit_test(test_high_receiver_bound),
	    cmocka_unit_test(test_loss_without_drops_ignored),
	    cmocka_unit_test(test_ceiling_goes),
	    cmocka_unit_test(test_start_waits_for_delivery),
	    cmocka_unit_test(test_socket_queue_seen),
	    cmocka_unit_test(test_wait_spikes),
	    cmocka_unit_test(test_many_equal_flows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
