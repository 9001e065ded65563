/*
 * CRC32C: the RFC 3720 (iSCSI) vectors on both implementations, the
 * hardware path against the portable slicing-by-8 one on random data of
 * every length 0..300 at every misalignment 0..7, and incremental
 * computation over any split equal to one shot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/crc32c.h"
#include "common/core/crc32c_table.h"
#include "tests/helpers/testrand.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static const struct {
	const char *name;
	crc_fn fn;
} impls[] = {{"dispatch", salvo_crc32c}, {"sw", salvo_crc32c_sw}};

static void test_rfc3720_vectors(void **state)
{
	uint8_t zeros[32], ones[32], inc[32], dec[32];
	(void)state;
	memset(zeros, 0, sizeof(zeros));
	memset(ones, 0xff, sizeof(ones));
	for (int i = 0; i < 32; i++) {
		inc[i] = (uint8_t)i;
		dec[i] = (uint8_t)(31 - i);
	}
	const struct {
		const void *p;
		size_t n;
		uint32_t want;
	} v[] = {
	    {zeros, 32, 0x8A9136AA},	  {ones, 32, 0x62A8AB43},
	    {inc, 32, 0x46DD794E},	  {dec, 32, 0x113FDB5C},
	    {"123456789", 9, 0xE3069283}, {"", 0, 0},
	};
	for (size_t k = 0; k < sizeof(impls) / sizeof(impls[0]); k++)
		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			uint32_t got = impls[k].fn(0, v[i].p, v[i].n);
			if (got != v[i].want)
				fail_msg("%s vector %zu: %08x != %08x",
					 impls[k].name, i, got, v[i].want);
		}
}

static void test_hw_matches_sw(void **state)
{
	uint64_t seed = testrand_seed();
	salvo_testrand rnd = {seed};
	uint8_t buf[300 + 8];
	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)testrand_next(&rnd);
	for (size_t align = 0; align < 8; align++)
		for (size_t len = 0; len + align <= sizeof(buf) && len <= 300;
		     len++) {
			uint32_t start = (uint32_t)testrand_next(&rnd);
			uint32_t hw = salvo_crc32c(start, buf + align, len);
			uint32_t sw = salvo_crc32c_sw(start, buf + align, len);
			if (hw != sw)
				fail_msg("seed %llu: len %zu align %zu: hw "
					 "%08x sw %08x",
					 (unsigned long long)seed, len, align,
					 hw, sw);
		}
}

/* Lengths about the three-stream rounds (3 x 128 and 3 x 8192 bytes)
 * and random ones across several rounds of both, at every alignment. */
static void test_hw_matches_sw_long(void **state)
{
	uint64_t seed = testrand_seed();
	salvo_testrand rnd = {seed};
	enum { MAX = 7 * 3 * SALVO_CRC32C_LONG };
	uint8_t *buf = malloc(MAX + 8);
	size_t lens[64], n = 0;
	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < MAX + 8; i++)
		buf[i] = (uint8_t)testrand_next(&rnd);
	for (size_t k = 1; k <= 7; k++)
		for (int d = -1; d <= 1; d++) {
			lens[n++] = k * 3 * SALVO_CRC32C_SHORT + (size_t)d;
			lens[n++] = k * 3 * SALVO_CRC32C_LONG + (size_t)d;
		}
	lens[n++] = 3 * SALVO_CRC32C_LONG + 3 * SALVO_CRC32C_SHORT + 7;
	while (n < sizeof(lens) / sizeof(lens[0]))
		lens[n++] = testrand_next(&rnd) % MAX;
	for (size_t i = 0; i < n; i++)
		for (size_t align = 0; align < 8; align++) {
			uint32_t start = (uint32_t)testrand_next(&rnd);
			uint32_t hw = salvo_crc32c(start, buf + align, lens[i]);
			uint32_t sw =
			    salvo_crc32c_sw(start, buf + align, lens[i]);
			if (hw != sw)
				fail_msg("seed %llu: len %zu align %zu: hw "
					 "%08x sw %08x",
					 (unsigned long long)seed, lens[i],
					 align, hw, sw);
		}
	free(buf);
}

static void test_incremental_equals_one_shot(void **state)
{
	uint64_t seed = testrand_seed();
	salvo_testrand rnd = {seed};
	uint8_t buf[200];
	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)testrand_next(&rnd);
	for (size_t k = 0; k < sizeof(impls) / sizeof(impls[0]); k++) {
		crc_fn fn = impls[k].fn;
		uint32_t whole = fn(0, buf, sizeof(buf));
		for (size_t cut = 0; cut <= sizeof(buf); cut++) {
			uint32_t c =
			    fn(fn(0, buf, cut), buf + cut, sizeof(buf) - cut);
			if (c != whole)
				fail_msg("seed %llu: %s split at %zu",
					 (unsigned long long)seed,
					 impls[k].name, cut);
		}
		/* byte by byte, and in three random pieces */
		uint32_t c = 0;
		for (size_t i = 0; i < sizeof(buf); i++)
			c = fn(c, buf + i, 1);
		assert_int_equal(c, whole);
		size_t a = testrand_below(&rnd, sizeof(buf) + 1);
		size_t b = a + testrand_below(&rnd, sizeof(buf) - a + 1);
		c = fn(fn(fn(0, buf, a), buf + a, b - a), buf + b,
		       sizeof(buf) - b);
		assert_int_equal(c, whole);
	}
	/* "123456789" in two pieces still gives the check value */
	assert_int_equal(salvo_crc32c(salvo_crc32c(0, "1234", 4), "56789", 5),
			 0xE3069283);
}

static void test_detects_single_bit_flips(void **state)
{
	uint8_t buf[64];
	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	uint32_t good = salvo_crc32c(0, buf, sizeof(buf));
	for (size_t bit = 0; bit < sizeof(buf) * 8; bit++) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_not_equal(salvo_crc32c(0, buf, sizeof(buf)), good);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc3720_vectors),
	    cmocka_unit_test(test_hw_matches_sw),
	    cmocka_unit_test(test_hw_matches_sw_long),
	    cmocka_unit_test(test_incremental_equals_one_shot),
	    cmocka_unit_test(test_detects_single_bit_flips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
