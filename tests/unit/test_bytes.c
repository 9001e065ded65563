/*
 * The big-endian cursors and QUIC varints of common/core/bytes.h: exact
 * encodings at every varint length boundary, the 2^62 - 1 ceiling, and the
 * fail-sticky contract both cursors give the codecs (an overrun marks the
 * cursor failed, reads return zeros from then on, nothing is written past
 * the capacity).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/bytes.h"

static void test_fixed_width_round_trip(void **state)
{
	uint8_t buf[15];
	static const uint8_t want[15] = {0xa5, 0x12, 0x34, 0xde, 0xad,
					 0xbe, 0xef, 0x01, 0x23, 0x45,
					 0x67, 0x89, 0xab, 0xcd, 0xef};
	salvo_wr w;
	salvo_rd r;
	(void)state;
	salvo_wr_init(&w, buf, sizeof(buf));
	salvo_wr_u8(&w, 0xa5);
	salvo_wr_u16(&w, 0x1234);
	salvo_wr_u32(&w, 0xdeadbeef);
	salvo_wr_u64(&w, UINT64_C(0x0123456789abcdef));
	assert_true(salvo_wr_ok(&w));
	assert_int_equal(w.pos, sizeof(buf));
	assert_memory_equal(buf, want, sizeof(want));

	salvo_rd_init(&r, buf, sizeof(buf));
	assert_int_equal(salvo_rd_left(&r), 15);
	assert_int_equal(salvo_rd_u8(&r), 0xa5);
	assert_int_equal(salvo_rd_u16(&r), 0x1234);
	assert_int_equal(salvo_rd_u32(&r), 0xdeadbeef);
	assert_int_equal(salvo_rd_u64(&r), UINT64_C(0x0123456789abcdef));
	assert_true(salvo_rd_ok(&r));
	assert_int_equal(salvo_rd_left(&r), 0);
	assert_int_equal(salvo_get_u32(buf + 3), 0xdeadbeef);
}

static const struct {
	uint64_t v;
	size_t len;
	uint8_t first; /* the first encoded byte */
} varints[] = {
    {0, 1, 0x00},
    {1, 1, 0x01},
    {37, 1, 0x25},
    {63, 1, 0x3f},
    {64, 2, 0x40},
    {15293, 2, 0x7b},
    {16383, 2, 0x7f},
    {16384, 4, 0x80},
    {494878333, 4, 0x9d},
    {(UINT64_C(1) << 30) - 1, 4, 0xbf},
    {UINT64_C(1) << 30, 8, 0xc0},
    {UINT64_C(151288809941952652), 8, 0xc2},
    {SALVO_VARINT_MAX, 8, 0xff},
};

static void test_varint_boundaries(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(varints) / sizeof(varints[0]); i++) {
		uint8_t buf[9] = {0};
		salvo_wr w;
		salvo_rd r;
		assert_int_equal(salvo_varint_len(varints[i].v),
				 varints[i].len);
		salvo_wr_init(&w, buf, sizeof(buf));
		salvo_wr_varint(&w, varints[i].v);
		assert_true(salvo_wr_ok(&w));
		assert_int_equal(w.pos, varints[i].len);
		assert_int_equal(buf[0], varints[i].first);
		salvo_rd_init(&r, buf, varints[i].len);
		assert_int_equal(salvo_rd_varint(&r), varints[i].v);
		assert_true(salvo_rd_ok(&r));
		assert_int_equal(salvo_rd_left(&r), 0);
		/* one byte short of the encoding: the reader fails, returns 0
		 */
		salvo_rd_init(&r, buf, varints[i].len - 1);
		assert_int_equal(salvo_rd_varint(&r), 0);
		assert_false(salvo_rd_ok(&r));
		/* a writer one byte short fails and writes nothing */
		memset(buf, 0xee, sizeof(buf));
		salvo_wr_init(&w, buf, varints[i].len - 1);
		salvo_wr_varint(&w, varints[i].v);
		assert_false(salvo_wr_ok(&w));
		assert_int_equal(buf[0], 0xee);
	}
}

/* RFC 9000 appendix A.1 examples: non-minimal encodings decode too. */
static void test_varint_rfc9000_examples(void **state)
{
	static const uint8_t e8[] = {0xc2, 0x19, 0x7c, 0x5e,
				     0xff, 0x14, 0xe8, 0x8c};
	static const uint8_t e4[] = {0x9d, 0x7f, 0x3e, 0x7d};
	static const uint8_t e2[] = {0x7b, 0xbd};
	static const uint8_t e1[] = {0x25};
	static const uint8_t e2_37[] = {0x40, 0x25};
	static const struct {
		const uint8_t *b;
		size_t n;
		uint64_t v;
	} c[] = {
	    {e8, 8, UINT64_C(151288809941952652)},
	    {e4, 4, 494878333},
	    {e2, 2, 15293},
	    {e1, 1, 37},
	    {e2_37, 2, 37},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		salvo_rd r;
		salvo_rd_init(&r, c[i].b, c[i].n);
		assert_int_equal(salvo_rd_varint(&r), c[i].v);
		assert_true(salvo_rd_ok(&r));
		assert_int_equal(salvo_rd_left(&r), 0);
	}
}

static void test_varint_above_max_refused(void **state)
{
	static const uint64_t bad[] = {SALVO_VARINT_MAX + 1, UINT64_C(1) << 63,
				       UINT64_MAX};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t buf[16];
		salvo_wr w;
		memset(buf, 0xee, sizeof(buf));
		salvo_wr_init(&w, buf, sizeof(buf));
		salvo_wr_varint(&w, bad[i]);
		assert_false(salvo_wr_ok(&w));
		assert_int_equal(buf[0], 0xee);
		/* and the writer stays failed */
		salvo_wr_u8(&w, 1);
		assert_false(salvo_wr_ok(&w));
		assert_int_equal(buf[0], 0xee);
	}
}

static void test_reader_fail_sticky(void **state)
{
	static const uint8_t buf[6] = {1, 2, 3, 4, 5, 6};
	uint8_t dst[4] = {9, 9, 9, 9};
	salvo_rd r;
	(void)state;
	salvo_rd_init(&r, buf, sizeof(buf));
	assert_int_equal(salvo_rd_u16(&r), 0x0102);
	/* 4 bytes left: a u64 overruns and fails the cursor */
	assert_int_equal(salvo_rd_u64(&r), 0);
	assert_false(salvo_rd_ok(&r));
	assert_int_equal(salvo_rd_left(&r), 0);
	/* reads that would fit now still fail and return zeros */
	assert_int_equal(salvo_rd_u8(&r), 0);
	assert_int_equal(salvo_rd_u16(&r), 0);
	assert_int_equal(salvo_rd_u32(&r), 0);
	assert_null(salvo_rd_take(&r, 0));
	salvo_rd_copy(&r, dst, sizeof(dst));
	assert_memory_equal(dst, "\0\0\0\0", 4);
	assert_false(salvo_rd_ok(&r));

	/* an exact fit is fine; one byte past fails, even take(n) of 0 after */
	salvo_rd_init(&r, buf, sizeof(buf));
	assert_non_null(salvo_rd_take(&r, 6));
	assert_non_null(salvo_rd_take(&r, 0));
	assert_true(salvo_rd_ok(&r));
	assert_null(salvo_rd_take(&r, 1));
	assert_false(salvo_rd_ok(&r));

	/* a huge length cannot wrap around the bounds check */
	salvo_rd_init(&r, buf, sizeof(buf));
	salvo_rd_u8(&r);
	assert_null(salvo_rd_take(&r, SIZE_MAX));
	assert_false(salvo_rd_ok(&r));

	/* a varint whose tail is missing fails the cursor */
	static const uint8_t tail[] = {0xc0, 0, 0};
	salvo_rd_init(&r, tail, sizeof(tail));
	assert_int_equal(salvo_rd_varint(&r), 0);
	assert_false(salvo_rd_ok(&r));
}

static void test_writer_fail_sticky(void **state)
{
	uint8_t buf[8];
	salvo_wr w;
	(void)state;
	memset(buf, 0xee, sizeof(buf));
	salvo_wr_init(&w, buf, 6);
	salvo_wr_u32(&w, 0x01020304);
	salvo_wr_u32(&w, 0x05060708); /* 2 bytes of room: refused whole */
	assert_false(salvo_wr_ok(&w));
	assert_int_equal(w.pos, 4);
	assert_memory_equal(buf, "\x01\x02\x03\x04\xee\xee\xee\xee", 8);
	salvo_wr_u8(&w, 0x55); /* would fit, but the writer is failed */
	salvo_wr_u16(&w, 0x5555);
	salvo_wr_copy(&w, "x", 1);
	assert_int_equal(buf[4], 0xee);
	assert_false(salvo_wr_ok(&w));

	salvo_wr_init(&w, buf, 4);
	salvo_wr_u64(&w, 1); /* the high half fits; the writer still fails */
	assert_false(salvo_wr_ok(&w));
	salvo_wr_init(&w, buf, 4);
	salvo_wr_copy(&w, NULL, 0); /* empty copies are fine */
	salvo_wr_copy(&w, "abcd", 4);
	assert_true(salvo_wr_ok(&w));
	assert_null(salvo_wr_take(&w, SIZE_MAX));
	assert_false(salvo_wr_ok(&w));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fixed_width_round_trip),
	    cmocka_unit_test(test_varint_boundaries),
	    cmocka_unit_test(test_varint_rfc9000_examples),
	    cmocka_unit_test(test_varint_above_max_refused),
	    cmocka_unit_test(test_reader_fail_sticky),
	    cmocka_unit_test(test_writer_fail_sticky),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
