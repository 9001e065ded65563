/*
 * The pacer (common/core/pacer.h): a token bucket in virtual time that
 * carries its debt.  A table of scripts (bookings at given instants, rate
 * changes between them) pins the exact instant each booking may leave:
 * back-to-back bookings queue behind each other, an idle pacer banks at
 * most burst_ns of credit, a rate change applies from the next booking and
 * keeps the debt already booked, rate 0 means unpaced.  A seeded random
 * walk then checks the bucket's promise over long runs: in any span, the
 * bytes let out are at most the rate times the span plus one burst, one
 * booking and the rounding of each booking to whole nanoseconds, and a sender
 * that is always ready gets the rate within a booking's time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "common/core/pacer.h"
#include "tests/helpers/testrand.h"

#define US 1000ull
#define MS 1000000ull
#define SEC 1000000000ull

/* One step of a script: set the rate (rate != 0 or set_rate), then book
 * bytes at now and expect the booking to start at want. */
typedef struct step {
	uint64_t now, bytes, want;
	uint64_t rate; /* with set_rate: the new rate before this booking */
	int set_rate;
} step;

typedef struct pcase {
	const char *name;
	uint64_t rate_bps, burst_ns;
	step steps[10];
	size_t n;
	uint64_t next_after; /* next_ns after the last step */
} pcase;

/* 8 Mbit/s is one byte per microsecond: 1000 bytes take 1 ms. */
static const pcase cases[] = {
    {"unpaced: every booking leaves at once, no debt",
     0,
     0,
     {{0, 1000, 0, 0, 0}, {0, 1 << 30, 0, 0, 0}, {5, 1, 5, 0, 0}},
     3,
     0},
    {"back to back: each booking waits for the one before",
     8000000,
     0,
     {{0, 1000, 0, 0, 0},
      {0, 1000, 1 * MS, 0, 0},
      {0, 1000, 2 * MS, 0, 0},
      {0, 500, 3 * MS, 0, 0}},
     4,
     3500 * US},
    {"debt is carried: booking late in the debt waits for all of it",
     8000000,
     0,
     {{0, 10000, 0, 0, 0}, {4 * MS, 1000, 10 * MS, 0, 0}},
     2,
     11 * MS},
    {"no burst: after idle, the booking starts now, not in the past",
     8000000,
     0,
     {{0, 1000, 0, 0, 0},
      {50 * MS, 1000, 50 * MS, 0, 0},
      {50 * MS, 1000, 51 * MS, 0, 0}},
     3,
     52 * MS},
    {"burst: an idle pacer banks at most burst_ns",
     8000000,
     2 * MS,
     {{10 * MS, 1000, 8 * MS, 0, 0},	/* 2 ms banked at the start */
      {10 * MS, 1000, 9 * MS, 0, 0},	/* still in the past: send */
      {10 * MS, 1000, 10 * MS, 0, 0},	/* now */
      {10 * MS, 1000, 11 * MS, 0, 0},	/* credit spent: wait */
      {100 * MS, 1000, 98 * MS, 0, 0},	/* idle long: 2 ms again */
      {100 * MS, 3000, 99 * MS, 0, 0}}, /* a big booking uses it */
     6,
     102 * MS},
    {"burst before the clock reaches burst_ns: floor at 0",
     8000000,
     5 * MS,
     {{1 * MS, 1000, 0, 0, 0}, {1 * MS, 1000, 1 * MS, 0, 0}},
     2,
     2 * MS},
    {"rate change applies to the next booking, keeps the debt booked",
     8000000,
     0,
     {{0, 1000, 0, 0, 0},
      {0, 1000, 1 * MS, 16000000, 1},	/* 1000 B now take 0.5 ms */
      {0, 1000, 1500 * US, 4000000, 1}, /* then 2 ms */
      {0, 1000, 3500 * US, 0, 0}},
     4,
     5500 * US},
    {"rate set to 0 mid-way: unpaced, the booked debt stays",
     8000000,
     0,
     {{0, 1000, 0, 0, 0}, {0, 1000, 0, 0, 1}, {0, 9999, 0, 0, 0}},
     3,
     1 * MS},
    {"slow rate, big booking: 64 KiB at 1 kbit/s is 524.288 s",
     1000,
     0,
     {{0, 65536, 0, 0, 0}, {0, 1, 524288 * MS, 0, 0}},
     2,
     524296 * MS},
    {"fast rate: 100 Gbit/s, 9000 B is 720 ns",
     100000000000ull,
     0,
     {{0, 9000, 0, 0, 0}, {0, 9000, 720, 0, 0}, {0, 1, 1440, 0, 0}},
     3,
     1440},
    {"1 GiB at 1 Mbit/s is 8589.934592 s, no overflow",
     1000000,
     0,
     {{0, 1ull << 30, 0, 0, 0}, {0, 1, 8589934592ull * US, 0, 0}},
     2,
     8589934592ull * US + 8 * US},
    {"truncation: 1 byte at 3 bit/s is 2666666666 ns per booking",
     3,
     0,
     {{0, 1, 0, 0, 0},
      {0, 1, 2666666666ull, 0, 0},
      {0, 1, 5333333332ull, 0, 0}},
     3,
     7999999998ull},
};

static void test_scripts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const pcase *c = &cases[i];
		salvo_pacer p;
		salvo_pacer_init(&p, c->rate_bps, c->burst_ns);
		for (size_t k = 0; k < c->n; k++) {
			const step *s = &c->steps[k];
			if (s->set_rate || s->rate)
				p.rate_bps = s->rate;
			uint64_t t = salvo_pacer_reserve(&p, s->bytes, s->now);
			if (t != s->want)
				fail_msg("%s: step %zu (%llu B at %llu ns) may "
					 "leave at %llu ns, want %llu",
					 c->name, k,
					 (unsigned long long)s->bytes,
					 (unsigned long long)s->now,
					 (unsigned long long)t,
					 (unsigned long long)s->want);
		}
		if (p.next_ns != c->next_after)
			fail_msg("%s: next_ns %llu after the script, want %llu",
				 c->name, (unsigned long long)p.next_ns,
				 (unsigned long long)c->next_after);
	}
}

/* Time in ns that bytes take at rate (rounded up). */
static uint64_t wire_ns(uint64_t bytes, uint64_t rate)
{
	return (bytes * 8 * SEC + rate - 1) / rate;
}

/* A sender with random booking sizes and random idle gaps: whatever it
 * does, in any span [a, b] the bytes let out (when the pacer allows, or at
 * once when that is in the past) are at most rate x (b - a) + one burst +
 * one booking + the rounding of each booking's time to whole ns. */
static void test_random_walk_never_exceeds_rate(void **state)
{
	(void)state;
	uint64_t seed = testrand_seed();
	salvo_testrand r = {seed};
	enum { N = 4000 };
	static uint64_t at[N], len[N];
	for (int round = 0; round < 20; round++) {
		uint64_t rate = 1000000 + testrand_below(&r, 10000000000ull);
		uint64_t burst = testrand_below(&r, 3) * MS;
		salvo_pacer p;
		salvo_pacer_init(&p, rate, burst);
		uint64_t now = testrand_below(&r, SEC);
		uint64_t maxlen = 0;
		for (int i = 0; i < N; i++) {
			len[i] = 1 + testrand_below(&r, 64 * 1024);
			if (len[i] > maxlen)
				maxlen = len[i];
			if (testrand_below(&r, 10) == 0) /* idle a while */
				now += testrand_below(&r, 5 * MS);
			uint64_t t = salvo_pacer_reserve(&p, len[i], now);
			if (t > now) /* the sender waits, then books again */
				now = t;
			at[i] = now; /* when the bytes actually leave */
		}
		/* every span that begins at a booking */
		for (int a = 0; a < N; a += 37) {
			uint64_t bytes = 0;
			for (int b = a; b < N; b++) {
				bytes += len[b];
				uint64_t span = at[b] - at[a];
				uint64_t allow =
				    (uint64_t)((unsigned __int128)rate * span /
					       (8 * SEC)) +
				    (uint64_t)((unsigned __int128)rate * burst /
					       (8 * SEC)) +
				    maxlen + 1 +
				    /* each booking's time is truncated to
				     * whole ns: up to 1 ns early each */
				    (uint64_t)((unsigned __int128)rate *
					       (uint64_t)(b - a + 1) /
					       (8 * SEC)) +
				    1;
				if (bytes > allow)
					fail_msg("seed %llu (SALVO_TEST_SEED): "
						 "rate %llu burst %llu: %llu B "
						 "in %llu ns, allowed %llu",
						 (unsigned long long)seed,
						 (unsigned long long)rate,
						 (unsigned long long)burst,
						 (unsigned long long)bytes,
						 (unsigned long long)span,
						 (unsigned long long)allow);
			}
		}
	}
}

/* A sender that is always ready gets exactly the rate: N bookings span
 * the wire time of all but the last, within a nanosecond per booking. */
static void test_always_ready_gets_the_rate(void **state)
{
	static const uint64_t rates[] = {1000000, 196000000, 1000000000,
					 4000000000ull, 40000000000ull};
	static const uint64_t sizes[] = {548 + 24, 1472 + 52, 8972 + 52,
					 65507 + 52};
	(void)state;
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			salvo_pacer p;
			salvo_pacer_init(&p, rates[i], 1 * MS);
			uint64_t now = 5 * SEC, first = 0, last = 0;
			for (int n = 0; n < 1000; n++) {
				uint64_t t =
				    salvo_pacer_reserve(&p, sizes[k], now);
				if (n == 0)
					first = t;
				last = t;
				if (t > now)
					now = t;
			}
			uint64_t want = wire_ns(999 * sizes[k], rates[i]);
			uint64_t got = last - first;
			if (got + 1000 < want || got > want)
				fail_msg("rate %llu, %llu B x 1000: span %llu "
					 "ns, want %llu (-1000)",
					 (unsigned long long)rates[i],
					 (unsigned long long)sizes[k],
					 (unsigned long long)got,
					 (unsigned long long)want);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scripts),
	    cmocka_unit_test(test_random_walk_never_exceeds_rate),
	    cmocka_unit_test(test_always_ready_gets_the_rate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
