/*
 * receiver/core/rmap.c, the resume map's bytes: a map written is read
 * back exactly; every damaged byte, every truncation, another version,
 * another sender or another file is refused, never half-believed; the
 * stem names one identity.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "common/core/bytes.h"
#include "common/core/crc32c.h"
#include "common/core/error.h"
#include "receiver/core/rmap.h"

static salvo_rmap_id id_of(const char *path)
{
	salvo_rmap_id id = {.anonymous = 0,
			    .path = path,
			    .path_len = (uint16_t)strlen(path),
			    .size = 100u << 20,
			    .mtime_ns = 1765000000123456789LL};
	for (int i = 0; i < 32; i++)
		id.key[i] = (uint8_t)(i * 7 + 1);
	return id;
}

static const salvo_range ranges[] = {
    {0, 4u << 20}, {5u << 20, 9u << 20}, {(100u << 20) - 10, 100u << 20}};
#define NR (sizeof(ranges) / sizeof(ranges[0]))

static size_t encode(uint8_t *buf, size_t cap, const salvo_rmap_id *id)
{
	int64_t n = salvo_rmap_encode(buf, cap, id, 1u << 20, ranges, NR);
	assert_true(n > 0);
	assert_int_equal((size_t)n, salvo_rmap_size(id, NR));
	return (size_t)n;
}

static void test_round_trip(void **state)
{
	(void)state;
	salvo_rmap_id id = id_of("in/big.bin");
	uint8_t buf[512];
	size_t n = encode(buf, sizeof(buf), &id);
	salvo_rmap m;
	assert_int_equal(salvo_rmap_decode(buf, n, &id, &m), 0);
	assert_int_equal(m.block_bytes, 1u << 20);
	assert_int_equal(m.nranges, NR);
	uint64_t total = 0;
	for (uint32_t i = 0; i < NR; i++) {
		salvo_range r = salvo_rmap_range(&m, i);
		assert_int_equal(r.start, ranges[i].start);
		assert_int_equal(r.end, ranges[i].end);
		total += r.end - r.start;
	}
	assert_int_equal(m.bytes, total);
	/* an empty map (nothing verified yet) is a map too */
	int64_t e = salvo_rmap_encode(buf, sizeof(buf), &id, 4096, NULL, 0);
	assert_true(e > 0);
	assert_int_equal(salvo_rmap_decode(buf, (size_t)e, &id, &m), 0);
	assert_int_equal(m.nranges, 0);
	/* anonymous: the key is not written, and does not matter */
	id.anonymous = 1;
	n = encode(buf, sizeof(buf), &id);
	memset(id.key, 0xee, sizeof(id.key));
	assert_int_equal(salvo_rmap_decode(buf, n, &id, &m), 0);
}

static void test_every_damage_refused(void **state)
{
	(void)state;
	salvo_rmap_id id = id_of("a/b/c.dat");
	uint8_t buf[512], bad[512];
	size_t n = encode(buf, sizeof(buf), &id);
	salvo_rmap m;
	for (size_t i = 0; i < n; i++)
		for (int bit = 0; bit < 8; bit++) {
			memcpy(bad, buf, n);
			bad[i] ^= (uint8_t)(1u << bit);
			assert_true(salvo_rmap_decode(bad, n, &id, &m) < 0);
		}
	for (size_t len = 0; len < n; len++)
		assert_true(salvo_rmap_decode(buf, len, &id, &m) < 0);
	/* a byte more (a torn rewrite that left a tail) */
	memcpy(bad, buf, n);
	bad[n] = 0;
	assert_true(salvo_rmap_decode(bad, n + 1, &id, &m) < 0);
}

/* Rewrites the CRC after an edit, as a buggy or hostile writer would:
 * the fields themselves must still be checked. */
static void reseal(uint8_t *buf, size_t n)
{
	salvo_put_u32(buf + n - 4, salvo_crc32c(0, buf, n - 4));
}

static void test_version_and_fields(void **state)
{
	(void)state;
	salvo_rmap_id id = id_of("f");
	uint8_t buf[512];
	size_t n = encode(buf, sizeof(buf), &id);
	salvo_rmap m;
	salvo_put_u32(buf + 8, 2); /* version 2: not guessed at */
	reseal(buf, n);
	assert_int_equal(salvo_rmap_decode(buf, n, &id, &m), SALVO_ERR_VERSION);
	n = encode(buf, sizeof(buf), &id);
	buf[7] = 'X';
	assert_int_equal(salvo_rmap_decode(buf, n, &id, &m),
			 SALVO_ERR_MALFORMED);
	/* ranges out of order, touching, empty, past the size */
	size_t at = SALVO_RMAP_FIXED_BYTES + id.path_len + 4;
	const uint64_t cases[][2] = {{9u << 20, 4u << 20}, /* backwards */
				     {4u << 20, 4u << 20}, /* empty */
				     {3u << 20, 6u << 20}, /* overlaps */
				     {4u << 20, 9u << 20}};
	for (size_t k = 0; k < 4; k++) {
		n = encode(buf, sizeof(buf), &id);
		salvo_wr w;
		salvo_wr_init(&w, buf + at + 16, 16);
		salvo_wr_u64(&w, cases[k][0]);
		salvo_wr_u64(&w, cases[k][1]);
		reseal(buf, n);
		assert_int_equal(salvo_rmap_decode(buf, n, &id, &m),
				 SALVO_ERR_MALFORMED);
	}
	/* the encoder refuses what the decoder would */
	const salvo_range past[] = {{0, (100u << 20) + 1}};
	assert_int_equal(salvo_rmap_encode(buf, sizeof(buf), &id, 1, past, 1),
			 SALVO_ERR_INVAL);
	assert_int_equal(salvo_rmap_encode(buf, salvo_rmap_size(&id, NR) - 1,
					   &id, 1, ranges, NR),
			 SALVO_ERR_TOOBIG);
}

static void test_other_identity_refused(void **state)
{
	(void)state;
	salvo_rmap_id id = id_of("dir/file.bin");
	uint8_t buf[512];
	size_t n = encode(buf, sizeof(buf), &id);
	salvo_rmap m;
	salvo_rmap_id x = id;
	x.key[5] ^= 1; /* another sender */
	assert_int_equal(salvo_rmap_decode(buf, n, &x, &m), SALVO_ERR_KEY);
	x = id;
	x.anonymous = 1;
	assert_int_equal(salvo_rmap_decode(buf, n, &x, &m), SALVO_ERR_KEY);
	x = id;
	x.size++; /* the file changed */
	assert_int_equal(salvo_rmap_decode(buf, n, &x, &m), SALVO_ERR_STATE);
	x = id;
	x.mtime_ns++;
	assert_int_equal(salvo_rmap_decode(buf, n, &x, &m), SALVO_ERR_STATE);
	x = id_of("dir/file.bim");
	assert_int_equal(salvo_rmap_decode(buf, n, &x, &m), SALVO_ERR_STATE);
}

static void test_stem(void **state)
{
	(void)state;
	salvo_rmap_id a = id_of("x"), b = id_of("y");
	uint8_t da[32], db[32], again[32];
	char sa[SALVO_RMAP_STEM_BYTES + 1], sb[SALVO_RMAP_STEM_BYTES + 1];
	salvo_rmap_digest(&a, da);
	salvo_rmap_digest(&a, again);
	salvo_rmap_digest(&b, db);
	assert_memory_equal(da, again, 32);
	assert_memory_not_equal(da, db, 32);
	salvo_rmap_stem(da, sa);
	salvo_rmap_stem(db, sb);
	assert_int_equal(strlen(sa), SALVO_RMAP_STEM_BYTES);
	assert_true(!strncmp(sa, "r-", 2));
	assert_string_not_equal(sa, sb);
	/* "ab" + "c" and "a" + "bc" style ambiguity: the path's length is
	 * part of the input, and the key of an anonymous id is not */
	a.anonymous = 1;
	b = a;
	memset(b.key, 0x55, 32);
	salvo_rmap_digest(&a, da);
	salvo_rmap_digest(&b, db);
	assert_memory_equal(da, db, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_every_damage_refused),
	    cmocka_unit_test(test_version_and_fields),
	    cmocka_unit_test(test_other_identity_refused),
	    cmocka_unit_test(test_stem),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
