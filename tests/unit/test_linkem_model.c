/*
 * Unit tests of linkem's link model (perf/linkem/model.c), which is not part
 * of libsalvo: the source is included here.  Each case feeds a synthetic
 * packet trace on a virtual clock and checks the decisions: determinism per
 * seed, loss rates, the drop-tail byte queue and the serializer's spacing,
 * jitter that never reorders, held-back reordering, duplication and where a
 * corrupted bit lands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "perf/linkem/model.c"

#define MS 1000000ull
#define US 1000ull

static uint8_t ip_packet[1500];

static void setup_packet(void)
{
	memset(ip_packet, 0, sizeof(ip_packet));
	ip_packet[0] = 0x45; /* IPv4, 20-byte header */
}

/* Feeds n packets of len bytes spaced gap_ns apart; returns copies out. */
static uint64_t feed(struct linkem_dir *d, uint64_t n, uint32_t len,
		     uint64_t gap_ns)
{
	struct linkem_verdict v;
	uint64_t out = 0;
	for (uint64_t i = 0; i < n; i++) {
		linkem_model_decide(d, ip_packet, len, i * gap_ns, &v);
		out += v.ncopies;
	}
	return out;
}

static void test_same_seed_same_decisions(void **state)
{
	(void)state;
	struct linkem_params p = {.delay_ns = 10 * MS,
				  .jitter_ns = MS,
				  .loss = 0.1,
				  .reorder = 0.05,
				  .duplicate = 0.05,
				  .corrupt = 0.05};
	struct linkem_dir a, b, c;
	linkem_model_init(&a, &p, 42);
	linkem_model_init(&b, &p, 42);
	linkem_model_init(&c, &p, 43);
	int differs = 0;
	for (uint64_t i = 0; i < 10000; i++) {
		struct linkem_verdict va, vb, vc;
		linkem_model_decide(&a, ip_packet, 1500, i * 10 * US, &va);
		linkem_model_decide(&b, ip_packet, 1500, i * 10 * US, &vb);
		linkem_model_decide(&c, ip_packet, 1500, i * 10 * US, &vc);
		assert_int_equal(va.ncopies, vb.ncopies);
		assert_int_equal(va.flip_bit, vb.flip_bit);
		for (unsigned k = 0; k < va.ncopies; k++)
			assert_int_equal(va.copy[k].due_ns, vb.copy[k].due_ns);
		differs += va.ncopies != vc.ncopies;
	}
	assert_true(differs > 0);
}

static void test_no_impairment_passes_everything_after_delay(void **state)
{
	(void)state;
	struct linkem_params p = {.delay_ns = 25 * MS};
	struct linkem_dir d;
	linkem_model_init(&d, &p, 1);
	struct linkem_verdict v;
	linkem_model_decide(&d, ip_packet, 100, 5 * MS, &v);
	assert_int_equal(v.ncopies, 1);
	assert_int_equal(v.copy[0].due_ns, 30 * MS);
	assert_false(v.copy[0].reordered);
	assert_int_equal(v.flip_bit, -1);
	assert_int_equal(feed(&d, 1000, 1500, 0), 1000);
	assert_int_equal(d.c.in_pkts, 1001);
	assert_int_equal(d.c.in_bytes, 100 + 1500 * 1000);
}

static void test_bernoulli_loss_rate(void **state)
{
	(void)state;
	struct linkem_params p = {.loss = 0.01};
	struct linkem_dir d;
	linkem_model_init(&d, &p, 7);
	uint64_t n = 200000, out = feed(&d, n, 100, US);
	/* sigma = sqrt(n p (1-p)) = 44.5 packets */
	assert_in_range(n - out, 2000 - 5 * 45, 2000 + 5 * 45);
	assert_int_equal(d.c.drop_loss, n - out);
}

static void test_gilbert_elliott_mean_and_bursts(void **state)
{
	(void)state;
	struct linkem_params p = {
	    .ge_p = 0.01, .ge_r = 0.25, .ge_loss_bad = 1.0};
	struct linkem_dir d;
	linkem_model_init(&d, &p, 3);
	uint64_t n = 400000, lost = n - feed(&d, n, 100, US);
	/* mean loss p / (p + r) = 3.85 %; mean burst 1 / r = 4 packets */
	double rate = (double)lost / (double)n;
	assert_true(rate > 0.0385 * 0.9 && rate < 0.0385 * 1.1);
	double burst = (double)lost / (double)d.c.ge_bursts;
	assert_true(burst > 3.6 && burst < 4.4);
}

static void test_queue_limit_and_serializer_spacing(void **state)
{
	(void)state;
	/* 1 Gbit/s: a 1500-byte packet takes 12 us; the queue holds 10. */
	struct linkem_params p = {
	    .delay_ns = MS, .rate_bps = 1000000000ull, .limit_bytes = 15000};
	struct linkem_dir d;
	linkem_model_init(&d, &p, 1);
	struct linkem_verdict v;
	for (int i = 0; i < 10; i++) {
		linkem_model_decide(&d, ip_packet, 1500, 0, &v);
		assert_int_equal(v.ncopies, 1);
		assert_int_equal(v.copy[0].due_ns,
				 (uint64_t)(i + 1) * 12 * US + MS);
	}
	linkem_model_decide(&d, ip_packet, 1500, 0, &v);
	assert_int_equal(v.ncopies, 0);
	assert_int_equal(d.c.drop_queue, 1);
	/* After one packet time, one packet's room is free again. */
	linkem_model_decide(&d, ip_packet, 1500, 12 * US, &v);
	assert_int_equal(v.ncopies, 1);
	assert_int_equal(v.copy[0].due_ns, 11 * 12 * US + MS);
	/* An idle link starts serializing at arrival. */
	linkem_model_decide(&d, ip_packet, 1500, 10 * MS, &v);
	assert_int_equal(v.copy[0].due_ns, 10 * MS + 12 * US + MS);
}

static void test_rate_long_run_matches_limit(void **state)
{
	(void)state;
	/* Offer 2x the rate for one virtual second: out = rate, +- queue. */
	struct linkem_params p = {.rate_bps = 100000000ull,
				  .limit_bytes = 100000};
	struct linkem_dir d;
	linkem_model_init(&d, &p, 1);
	uint64_t gap = 60 * US; /* 1500 B / 60 us = 200 Mbit/s */
	uint64_t out = feed(&d, 1000000000ull / gap, 1500, gap);
	uint64_t want = 100000000ull / 8 / 1500;
	assert_in_range(out, want - 1, want + 100000 / 1500 + 1);
}

static void test_jitter_never_reorders(void **state)
{
	(void)state;
	struct linkem_params p = {.delay_ns = 10 * MS, .jitter_ns = 2 * MS};
	struct linkem_dir d;
	linkem_model_init(&d, &p, 9);
	uint64_t last = 0, lo = UINT64_MAX, hi = 0;
	for (uint64_t i = 0; i < 20000; i++) {
		struct linkem_verdict v;
		uint64_t now = i * MS; /* sparse: jitter visible */
		linkem_model_decide(&d, ip_packet, 100, now, &v);
		assert_true(v.copy[0].due_ns >= last);
		last = v.copy[0].due_ns;
		uint64_t delay = v.copy[0].due_ns - now;
		lo = delay < lo ? delay : lo;
		hi = delay > hi ? delay : hi;
	}
	assert_true(lo >= 8 * MS && lo < 8 * MS + 100 * US);
	assert_true(hi <= 12 * MS && hi > 12 * MS - 100 * US);
}

static void test_reorder_holds_back(void **state)
{
	(void)state;
	struct linkem_params p = {
	    .delay_ns = 5 * MS, .reorder = 0.1, .reorder_ns = 2 * MS};
	struct linkem_dir d;
	linkem_model_init(&d, &p, 5);
	uint64_t held = 0;
	for (uint64_t i = 0; i < 10000; i++) {
		struct linkem_verdict v;
		linkem_model_decide(&d, ip_packet, 100, i * 100 * US, &v);
		uint64_t base = i * 100 * US + 5 * MS;
		if (v.copy[0].reordered) {
			assert_int_equal(v.copy[0].due_ns, base + 2 * MS);
			held++;
		} else {
			assert_int_equal(v.copy[0].due_ns, base);
		}
	}
	assert_int_equal(held, d.c.reordered);
	assert_in_range(held, 850, 1150);
}

static void test_duplicate_and_counters_add_up(void **state)
{
	(void)state;
	struct linkem_params p = {.duplicate = 0.1,
				  .loss = 0.05,
				  .rate_bps = 10000000ull,
				  .limit_bytes = 30000};
	struct linkem_dir d;
	linkem_model_init(&d, &p, 11);
	uint64_t out = feed(&d, 50000, 1500, 600 * US);
	assert_in_range(d.c.duplicated, 4000, 6000);
	/* in + duplicated = out + drops, with out the copies the model let
	 * through (the I/O layer adds mem/write drops and held packets). */
	assert_int_equal(d.c.in_pkts + d.c.duplicated,
			 out + d.c.drop_loss + d.c.drop_queue);
	assert_true(d.c.drop_queue > 0);
}

static void test_corrupt_bit_lands_past_ip_header(void **state)
{
	(void)state;
	struct linkem_params p = {.corrupt = 1.0};
	struct linkem_dir d;
	linkem_model_init(&d, &p, 13);
	ip_packet[0] = 0x46; /* 24-byte header */
	for (int i = 0; i < 10000; i++) {
		struct linkem_verdict v;
		linkem_model_decide(&d, ip_packet, 100, 0, &v);
		assert_in_range(v.flip_bit, 24 * 8, 100 * 8 - 1);
	}
	setup_packet();
	assert_int_equal(d.c.corrupted, 10000);
}

int main(void)
{
	setup_packet();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_seed_same_decisions),
	    cmocka_unit_test(test_no_impairment_passes_everything_after_delay),
	    cmocka_unit_test(test_bernoulli_loss_rate),
	    cmocka_unit_test(test_gilbert_elliott_mean_and_bursts),
	    cmocka_unit_test(test_queue_limit_and_serializer_spacing),
	    cmocka_unit_test(test_rate_long_run_matches_limit),
	    cmocka_unit_test(test_jitter_never_reorders),
	    cmocka_unit_test(test_reorder_holds_back),
	    cmocka_unit_test(test_duplicate_and_counters_add_up),
	    cmocka_unit_test(test_corrupt_bit_lands_past_ip_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
