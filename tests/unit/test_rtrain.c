/*
 * receiver/core/rtrain.c: packet trains.  A burst spaced by a bottleneck
 * reads as the bottleneck's rate; datagrams paced further apart than
 * the gap, trains too short or too brief, and arrivals out of order
 * read as nothing; a take reports the lower median of the trains since
 * the one before and forgets them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "receiver/core/rtrain.h"

#define US UINT64_C(1000)
#define IP_BYTES 1500u

/* n datagrams from t0, each `gap` ns after the one before; returns the
 * time of the last */
static uint64_t burst(rtrain *t, uint64_t t0, uint32_t n, uint64_t gap)
{
	for (uint32_t i = 0; i < n; i++)
		rtrain_note(t, t0 + i * gap, IP_BYTES);
	return t0 + (n - 1) * gap;
}

/* 1500 bytes every 60 us is 200 Mbit/s; a train ends at the next
 * train's first datagram, so the last one waits for a later arrival */
static void test_bottleneck_rate(void **state)
{
	(void)state;
	rtrain t = {0};
	uint64_t at = burst(&t, 1000 * US, 4, 60 * US);
	assert_int_equal(rtrain_take(&t), 0); /* still running */
	burst(&t, at + 5000 * US, 4, 60 * US);
	assert_int_equal(rtrain_take(&t), 200000);
	assert_int_equal(rtrain_take(&t), 0); /* forgotten */
}

/* paced singles 1.2 ms apart (9.6 Mbit/s) are no train; datagrams
 * closer than the gap but paced below the link read as their pace,
 * low, never high */
static void test_paced_reads_low_or_nothing(void **state)
{
	(void)state;
	rtrain t = {0};
	uint64_t at = 0;
	for (int i = 0; i < 50; i++)
		rtrain_note(&t, at += 1200 * US, IP_BYTES);
	assert_int_equal(rtrain_take(&t), 0);
	at = burst(&t, at + 1200 * US, 8, 240 * US); /* 50 Mbit/s */
	rtrain_note(&t, at + 10000 * US, IP_BYTES);
	assert_int_equal(rtrain_take(&t), 50000);
}

/* under RTRAIN_MIN_DGRAMS, or spanning under RTRAIN_MIN_SPAN_NS (stamped
 * at read time in one batch), or out of order: nothing */
static void test_too_short_or_disordered(void **state)
{
	(void)state;
	rtrain t = {0};
	uint64_t at = burst(&t, 1000 * US, RTRAIN_MIN_DGRAMS - 1, 60 * US);
	at = burst(&t, at + 5000 * US, 16, 1 * US); /* 15 us in all */
	rtrain_note(&t, at + 5000 * US, IP_BYTES);
	assert_int_equal(rtrain_take(&t), 0);
	/* a datagram stamped before the newest ends the train there */
	rtrain u = {0};
	at = burst(&u, 1000 * US, 3, 60 * US);
	rtrain_note(&u, at - 10 * US, IP_BYTES);
	burst(&u, at + 100 * US, 2, 60 * US);
	rtrain_note(&u, at + 9000 * US, IP_BYTES);
	assert_int_equal(rtrain_take(&u), 0);
}

/* the lower median: one train squeezed (a late wakeup released it in
 * a rush) or stretched does not move the reading */
static void test_lower_median(void **state)
{
	(void)state;
	static const uint64_t gaps_us[] = {60, 10, 60, 120, 60, 5};
	rtrain t = {0};
	uint64_t at = 0;
	for (size_t i = 0; i < sizeof(gaps_us) / sizeof(gaps_us[0]); i++)
		at = burst(&t, at + 5000 * US, 8, gaps_us[i] * US);
	/* 100, 200, 200, 200, 1200, 2400 Mbit/s: the third */
	at = burst(&t, at + 5000 * US, 4, 120 * US);
	assert_int_equal(rtrain_take(&t), 200000);
	/* two trains: the lower */
	at = burst(&t, at + 5000 * US, 4, 60 * US);
	rtrain_note(&t, at + 5000 * US, IP_BYTES);
	assert_int_equal(rtrain_take(&t), 100000);
}

/* more trains than RTRAIN_RATES between takes: the later ones go */
static void test_bounded(void **state)
{
	(void)state;
	rtrain t = {0};
	uint64_t at = 0;
	for (uint32_t i = 0; i < RTRAIN_RATES; i++)
		at = burst(&t, at + 5000 * US, 4, 60 * US);
	for (uint32_t i = 0; i < 3 * RTRAIN_RATES; i++)
		at = burst(&t, at + 5000 * US, 4, 30 * US);
	assert_int_equal(t.nrates, RTRAIN_RATES);
	assert_int_equal(rtrain_take(&t), 200000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bottleneck_rate),
	    cmocka_unit_test(test_paced_reads_low_or_nothing),
	    cmocka_unit_test(test_too_short_or_disordered),
	    cmocka_unit_test(test_lower_median),
	    cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
