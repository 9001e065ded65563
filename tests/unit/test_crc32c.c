/*
 * CRC32C: the RFC 3720 (iSCSI) vectors on both implementations, the
 * hardware path against the portable slicing-by-8 one on random data of
 * every length 0..300 at every misalignment 0..7, and incremental
 * computation over any split equal to one shot.  Pieces in any order:
 * random blocks cut into random pieces (empty, single bytes, the whole
 * block) and shuffled give the block's CRC; each shift (every hex digit
 * of bytes_after, random 64-bit ones) equals a bit-by-bit model; pieces
 * followed by real zero runs up to 1 GiB agree.
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

/* The model: reflected GF(2) arithmetic modulo the Castagnoli
 * polynomial one bit at a time (bit 31 is x^0), as in zlib's multmodp. */
static uint32_t model_mul(uint32_t a, uint32_t b)
{
	uint32_t p = 0;
	for (uint32_t m = 1u << 31; m; m >>= 1) {
		if (a & m)
			p ^= b;
		b = b & 1 ? (b >> 1) ^ 0x82F63B78u : b >> 1;
	}
	return p;
}

/* c * x^(8 n) mod P by square-and-multiply on x^8. */
static uint32_t model_shift(uint32_t c, uint64_t n)
{
	uint32_t base = 1u << 23; /* x^8 */
	for (; n; n >>= 1) {
		if (n & 1)
			c = model_mul(c, base);
		base = model_mul(base, base);
	}
	return c;
}

typedef uint32_t (*piece_fn)(const void *, size_t, uint64_t);

static const struct {
	const char *name;
	piece_fn fn;
} piece_impls[] = {{"dispatch", salvo_crc32c_piece},
		   {"sw", salvo_crc32c_piece_sw}};

/* Every table entry (each hex digit at each place) and random 64-bit
 * distances, on both paths, against the model. */
static void test_piece_shift_matches_model(void **state)
{
	uint64_t seed = testrand_seed();
	salvo_testrand rnd = {seed};
	uint8_t buf[100];
	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)testrand_next(&rnd);
	for (int round = 0; round < 16 * 16 + 200; round++) {
		int place = round / 16 % 16, digit = round % 16;
		uint64_t n = round < 256 ? (uint64_t)digit << 4 * place
					 : testrand_next(&rnd) >>
					       testrand_below(&rnd, 64);
		size_t len = testrand_below(&rnd, sizeof(buf)) + 1;
		uint32_t raw = ~salvo_crc32c(~0u, buf, len);
		uint32_t want = model_shift(raw, n);
		for (size_t k = 0; k < 2; k++) {
			uint32_t got = piece_impls[k].fn(buf, len, n);
			if (got != want)
				fail_msg("seed %llu: %s piece of %zu, %llu "
					 "after: %08x, model %08x",
					 (unsigned long long)seed,
					 piece_impls[k].name, len,
					 (unsigned long long)n, got, want);
		}
	}
}

/* A piece then real zero bytes, up to 1 GiB: the piece's shift and the
 * final constant equal salvo_crc32c run over the zeros. */
static void test_piece_then_zero_runs(void **state)
{
	enum { RUN = 64 << 20 };
	static const uint64_t after[] = {
	    0, 1, 7, 15, 16, 255, 4096, 65539, 3 * RUN + 12345, 1ull << 30,
	};
	uint8_t *zeros = calloc(1, RUN);
	(void)state;
	assert_non_null(zeros);
	for (size_t i = 0; i < sizeof(after) / sizeof(after[0]); i++) {
		uint32_t c = salvo_crc32c(~0u, "123456789", 9); /* raw 0 */
		uint32_t z = 0;
		for (uint64_t left = after[i]; left;) {
			size_t n = left < RUN ? (size_t)left : RUN;
			c = salvo_crc32c(c, zeros, n);
			z = salvo_crc32c(z, zeros, n);
			left -= n;
		}
		for (size_t k = 0; k < 2; k++)
			if (piece_impls[k].fn("123456789", 9, after[i]) != ~c)
				fail_msg("%s: 9 bytes then %llu zeros",
					 piece_impls[k].name,
					 (unsigned long long)after[i]);
		assert_int_equal(salvo_crc32c_pieces_final(0, after[i]), z);
	}
	free(zeros);
}

/* Random blocks cut into random pieces (some empty, single bytes, or
 * the whole block) in random order give the block's CRC. */
static void test_pieces_any_order(void **state)
{
	uint64_t seed = testrand_seed();
	salvo_testrand rnd = {seed};
	enum { MAX = 300000, PIECES = 64 };
	uint8_t *buf = malloc(MAX);
	size_t off[PIECES + 1], order[PIECES];
	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < MAX; i++)
		buf[i] = (uint8_t)testrand_next(&rnd);
	for (int round = 0; round < 200; round++) {
		size_t len =
		    round < 2 ? (size_t)round : testrand_below(&rnd, MAX + 1);
		size_t n = testrand_below(&rnd, PIECES) + 1;
		if (round % 5 == 0)
			n = 1; /* the whole block */
		/* sorted random cuts; equal ones make empty pieces, and
		 * short blocks make single bytes */
		off[0] = 0;
		off[n] = len;
		for (size_t i = 1; i < n; i++)
			off[i] = testrand_below(&rnd, len + 1);
		for (size_t i = 1; i < n; i++)
			for (size_t j = i; j > 1 && off[j - 1] > off[j]; j--) {
				size_t x = off[j];
				off[j] = off[j - 1];
				off[j - 1] = x;
			}
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		for (size_t i = n; i > 1; i--) {
			size_t j = testrand_below(&rnd, i), x = order[i - 1];
			order[i - 1] = order[j];
			order[j] = x;
		}
		uint32_t want = salvo_crc32c(0, buf, len);
		for (size_t k = 0; k < 2; k++) {
			uint32_t acc = 0;
			for (size_t i = 0; i < n; i++) {
				size_t a = off[order[i]], b = off[order[i] + 1];
				acc ^=
				    piece_impls[k].fn(buf + a, b - a, len - b);
			}
			if (salvo_crc32c_pieces_final(acc, len) != want)
				fail_msg("seed %llu: %s: %zu bytes in %zu "
					 "pieces",
					 (unsigned long long)seed,
					 piece_impls[k].name, len, n);
		}
	}
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc3720_vectors),
	    cmocka_unit_test(test_hw_matches_sw),
	    cmocka_unit_test(test_hw_matches_sw_long),
	    cmocka_unit_test(test_incremental_equals_one_shot),
	    cmocka_unit_test(test_detects_single_bit_flips),
	    cmocka_unit_test(test_piece_shift_matches_model),
	    cmocka_unit_test(test_piece_then_zero_runs),
	    cmocka_unit_test(test_pieces_any_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
