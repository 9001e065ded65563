/*
 * Limits and block arithmetic (common/core/limits.h).  One table of MTUs
 * per address family pins salvo_datagram_for_mtu at the usual sizes and at
 * every edge (below the headers, one under and at the minimum datagram,
 * the largest IPv4 datagram, past it); the named constants are checked
 * against each other so a range cannot drift from the overheads it is
 * derived from.  One table of streams (empty, one byte, exact multiples,
 * one byte over, 1 GiB blocks, a 2^56-byte session) checks block count,
 * starts and lengths, and that consecutive blocks tile the stream exactly:
 * the first two and the last two blocks of every case, and every block of
 * the small ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "common/core/limits.h"

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)

typedef struct mtu_case {
	uint32_t mtu;
	int v6;
	uint32_t want; /* 0: this MTU cannot carry a datagram */
} mtu_case;

static const mtu_case mtu_cases[] = {
    /* the usual links */
    {1500, 0, 1472},
    {1500, 1, 1452},
    {9000, 0, 8972},
    {9000, 1, 8952},
    {1280, 1, 1232}, /* the IPv6 minimum MTU */
    {1492, 0, 1464}, /* PPPoE */
    /* nothing, or not even the headers */
    {0, 0, 0},
    {0, 1, 0},
    {27, 0, 0},
    {28, 0, 0},
    {47, 1, 0},
    {48, 1, 0},
    /* the smallest datagram: 548 bytes of UDP payload */
    {575, 0, 0},
    {576, 0, 548},
    {577, 0, 549},
    {576, 1, 0},
    {595, 1, 0},
    {596, 1, 548},
    /* the largest: 65,507 bytes, whatever the MTU says beyond it */
    {65534, 0, 65506},
    {65535, 0, 65507},
    {65536, 0, 65507},
    {65535, 1, 65487},
    {65555, 1, 65507},
    {65556, 1, 65507},
    {UINT32_MAX, 0, 65507},
    {UINT32_MAX, 1, 65507},
};

static void test_datagram_for_mtu(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(mtu_cases) / sizeof(mtu_cases[0]); i++) {
		const mtu_case *c = &mtu_cases[i];
		uint32_t got = salvo_datagram_for_mtu(c->mtu, c->v6);
		if (got != c->want)
			fail_msg("datagram_for_mtu(%u, %s) = %u, want %u",
				 c->mtu, c->v6 ? "IPv6" : "IPv4", got, c->want);
		if (got) { /* a datagram fits its packet and is in range */
			assert_true(got + salvo_ip_udp_overhead(c->v6) <=
				    c->mtu);
			assert_in_range(got, SALVO_DATAGRAM_MIN_BYTES,
					SALVO_DATAGRAM_MAX_BYTES);
		}
	}
}

/* The ranges are derived from the overheads: a change to one shows here. */
static void test_constants_agree(void **state)
{
	(void)state;
	assert_int_equal(salvo_ip_udp_overhead(0), 20 + 8);
	assert_int_equal(salvo_ip_udp_overhead(1), 40 + 8);
	assert_int_equal(salvo_ip_udp_overhead(7), SALVO_IPV6_UDP_OVERHEAD);
	assert_int_equal(SALVO_DATAGRAM_MIN_BYTES,
			 SALVO_MTU_MIN_BYTES - SALVO_IPV4_UDP_OVERHEAD);
	assert_int_equal(SALVO_DATAGRAM_MAX_BYTES,
			 SALVO_MTU_MAX_BYTES - SALVO_IPV4_UDP_OVERHEAD);
	assert_int_equal(SALVO_DATAGRAM_DEFAULT_BYTES,
			 salvo_datagram_for_mtu(SALVO_MTU_DEFAULT_BYTES, 0));
	assert_int_equal(salvo_datagram_for_mtu(SALVO_MTU_MIN_BYTES, 0),
			 SALVO_DATAGRAM_MIN_BYTES);
	assert_int_equal(salvo_datagram_for_mtu(SALVO_MTU_MAX_BYTES, 0),
			 SALVO_DATAGRAM_MAX_BYTES);
	assert_true(SALVO_BLOCK_DEFAULT_BYTES <= SALVO_BLOCK_MAX_BYTES);
	assert_true(SALVO_BLOCK_DEFAULT_BYTES % SALVO_DATAGRAM_DEFAULT_BYTES !=
		    0); /* the last datagram of a block is short: tested */
	assert_int_equal(SALVO_BLOCK_MAX_BYTES, GIB);
	assert_true(SALVO_TOTAL_MAX_BYTES == UINT64_C(1) << 56);
	/* the largest session in the largest blocks still counts in 64 bits
	 * with room for the arithmetic on block starts */
	assert_true(salvo_block_count(SALVO_TOTAL_MAX_BYTES, 1) ==
		    SALVO_TOTAL_MAX_BYTES);
}

typedef struct block_case {
	uint64_t total;
	uint32_t block;
	uint64_t count;
	uint32_t last_len; /* length of block count - 1 (if count) */
} block_case;

static const block_case block_cases[] = {
    /* empty and one byte */
    {0, 4 * MIB, 0, 0},
    {0, 1, 0, 0},
    {1, 4 * MIB, 1, 1},
    {1, 1, 1, 1},
    /* exact multiples, one under, one over */
    {4 * MIB, 4 * MIB, 1, 4 * MIB},
    {4 * MIB - 1, 4 * MIB, 1, 4 * MIB - 1},
    {4 * MIB + 1, 4 * MIB, 2, 1},
    {12 * MIB, 4 * MIB, 3, 4 * MIB},
    {12 * MIB + 1000, 4 * MIB, 4, 1000},
    {5, 1, 5, 1},
    {1000, 548, 2, 452},
    {548, 548, 1, 548},
    {65536, 64 * KIB, 1, 64 * KIB},
    /* 1 GiB blocks */
    {GIB, GIB, 1, GIB},
    {GIB - 1, GIB, 1, GIB - 1},
    {GIB + 1, GIB, 2, 1},
    {10 * GIB, GIB, 10, GIB},
    {10 * GIB + 7, GIB, 11, 7},
    /* the largest session */
    {UINT64_C(1) << 56, GIB, UINT64_C(1) << 26, GIB},
    {(UINT64_C(1) << 56) - 1, GIB, UINT64_C(1) << 26, GIB - 1},
    {(UINT64_C(1) << 56) + 1, GIB, (UINT64_C(1) << 26) + 1, 1},
    {UINT64_C(1) << 56, 4 * MIB, UINT64_C(1) << 34, 4 * MIB},
    /* 2^56 = 548 * 131,491,959,923,226 + 88 */
    {UINT64_C(1) << 56, 548, UINT64_C(131491959923227), 88},
    {UINT64_C(1) << 56, 1, UINT64_C(1) << 56, 1},
    {UINT64_C(1) << 56, 3 * MIB, UINT64_C(22906492246), 1 * MIB},
};

/* Block b begins where b - 1 ended; its length is in (0, block]. */
static void check_block(const block_case *c, uint64_t b)
{
	uint64_t start = salvo_block_start(b, c->block);
	uint32_t len = salvo_block_len(b, c->block, c->total);
	if (start != b * (uint64_t)c->block)
		fail_msg("total %llu block %u: start(%llu) = %llu",
			 (unsigned long long)c->total, c->block,
			 (unsigned long long)b, (unsigned long long)start);
	if (len == 0 || len > c->block || start + len > c->total)
		fail_msg("total %llu block %u: len(%llu) = %u",
			 (unsigned long long)c->total, c->block,
			 (unsigned long long)b, len);
	if (b + 1 < c->count &&
	    salvo_block_start(b + 1, c->block) != start + len)
		fail_msg("total %llu block %u: block %llu does not follow "
			 "block %llu",
			 (unsigned long long)c->total, c->block,
			 (unsigned long long)b + 1, (unsigned long long)b);
	if (b + 1 < c->count && len != c->block)
		fail_msg("total %llu block %u: inner block %llu short (%u)",
			 (unsigned long long)c->total, c->block,
			 (unsigned long long)b, len);
}

static void test_block_arithmetic(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(block_cases) / sizeof(block_cases[0]);
	     i++) {
		const block_case *c = &block_cases[i];
		uint64_t n = salvo_block_count(c->total, c->block);
		if (n != c->count)
			fail_msg("block_count(%llu, %u) = %llu, want %llu",
				 (unsigned long long)c->total, c->block,
				 (unsigned long long)n,
				 (unsigned long long)c->count);
		if (n) {
			uint32_t last =
			    salvo_block_len(n - 1, c->block, c->total);
			if (last != c->last_len)
				fail_msg("total %llu block %u: last block "
					 "%u bytes, want %u",
					 (unsigned long long)c->total, c->block,
					 last, c->last_len);
			/* the last block ends the stream */
			assert_true(salvo_block_start(n - 1, c->block) + last ==
				    c->total);
		}
		if (n <= 4096) {
			uint64_t sum = 0;
			for (uint64_t b = 0; b < n; b++) {
				check_block(c, b);
				sum += salvo_block_len(b, c->block, c->total);
			}
			assert_true(sum == c->total);
		} else {
			check_block(c, 0);
			check_block(c, 1);
			check_block(c, n - 2);
			check_block(c, n - 1);
		}
		/* past the end: nothing */
		assert_int_equal(salvo_block_len(n, c->block, c->total), 0);
		assert_int_equal(salvo_block_len(n + 1, c->block, c->total), 0);
	}
}

/* A block index far past the end (a corrupted or hostile number) must not
 * wrap the start around 2^64 into the stream. */
static void test_block_len_far_past_end(void **state)
{
	static const struct {
		uint64_t b;
		uint32_t block;
		uint64_t total;
	} cases[] = {
	    {UINT64_C(1) << 34, GIB, UINT64_C(1) << 56}, /* start 2^64 */
	    {(UINT64_C(1) << 34) + 1, GIB, UINT64_C(1) << 56},
	    {UINT64_MAX, GIB, UINT64_C(1) << 56},
	    {UINT64_MAX, 4 * MIB, 100},
	    {UINT64_MAX, 1, UINT64_MAX},
	    {UINT64_C(1) << 54, 1024, 5000}, /* start 2^64 */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t len =
		    salvo_block_len(cases[i].b, cases[i].block, cases[i].total);
		if (len != 0)
			fail_msg("block_len(%llu, %u, %llu) = %u, want 0",
				 (unsigned long long)cases[i].b, cases[i].block,
				 (unsigned long long)cases[i].total, len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_datagram_for_mtu),
	    cmocka_unit_test(test_constants_agree),
	    cmocka_unit_test(test_block_arithmetic),
	    cmocka_unit_test(test_block_len_far_past_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
