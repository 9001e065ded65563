/*
 * Work item -> datagrams and pacer bookings (sender/core/emit.h), at
 * every edge: a block of exactly one datagram, one byte more and one
 * less, a 1-byte block, several retransmission ranges, the last short
 * datagram, the smallest and a jumbo datagram, batches cut by the batch
 * size, and bookings with the IPv4 and IPv6 overheads.  Each case runs
 * the emitter over a buffer of known bytes and checks every datagram
 * against a model: each opens with the lane's key (the receiver's side of
 * it) under the next packet number, its payload tiles its range in
 * order, its header decodes to the range's block, offset and block CRC,
 * batches hold min(batch, left) datagrams, each booking is the sum of
 * the datagrams' bytes + IP/UDP overhead, and the block buffer is left
 * in clear.  A lane whose key reaches its hard limit stops with
 * SALVO_ERR_REKEY.  Then the batch-per-rate rule and the datagram size
 * per MTU and address family, table by table.
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
#include "common/core/error.h"
#include "common/core/limits.h"
#include "common/crypto/keyfile.h"
#include "sender/core/emit.h"

#define SESSION 0x5e55101du
#define BLOCK (4u << 20)
#define LANE 3
#define P(dgram) ((dgram)-SALVO_DATA_OVERHEAD_BYTES)
#define P1472 P(1472) /* 1428 */

static const uint8_t lane_key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

typedef struct emit_case {
	const char *name;
	uint32_t dgram;
	int v6, is_new;
	uint32_t batch;
	uint32_t nranges;
	struct {
		uint32_t block, offset, len;
	} r[4];
	uint64_t want_dgrams;
	uint32_t want_last_len; /* payload of the last datagram */
} emit_case;

static const emit_case cases[] = {
    {"exactly one datagram", 1472, 0, 1, 32, 1, {{0, 0, P1472}}, 1, P1472},
    {"one byte more", 1472, 0, 1, 32, 1, {{0, 0, P1472 + 1}}, 2, 1},
    {"one byte less", 1472, 0, 1, 32, 1, {{3, 0, P1472 - 1}}, 1, P1472 - 1},
    {"one byte", 1472, 0, 1, 32, 1, {{9, 0, 1}}, 1, 1},
    {"last short datagram", 1472, 0, 1, 32, 1, {{1, 0, 10 * P1472 + 7}}, 11, 7},
    {"ranges",
     1472,
     0,
     0,
     32,
     3,
     {{2, 0, 2 * P1472}, {2, 5 * P1472, 10}, {7, 0, 3 * P1472}},
     6,
     P1472},
    {"ranges, one byte each",
     1472,
     0,
     0,
     2,
     4,
     {{0, 0, 1}, {0, P1472, 1}, {1, 0, 1}, {5, 7 * P1472, 1}},
     4,
     1},
    {"one byte more over IPv6", 1452, 1, 1, 32, 1, {{0, 0, P(1452) + 1}}, 2, 1},
    {"smallest datagram",
     SALVO_DATAGRAM_MIN_BYTES,
     0,
     1,
     32,
     1,
     {{0, 0, 3 * P(SALVO_DATAGRAM_MIN_BYTES) + 1}},
     4,
     1},
    {"jumbo",
     8972,
     0,
     1,
     32,
     1,
     {{4, 0, 1 << 20}},
     118,
     (1 << 20) - 117 * P(8972)},
    {"batches of 32", 1472, 0, 1, 32, 1, {{0, 0, 100 * P1472}}, 100, P1472},
    {"batches of 1", 1472, 1, 1, 1, 1, {{0, 0, 5 * P1472 - 3}}, 5, P1472 - 3},
    {"batch 0 counts as 1", 1472, 0, 1, 0, 1, {{0, 0, 3 * P1472}}, 3, P1472},
};

static void make_work(const emit_case *c, salvo_work *w)
{
	memset(w, 0, sizeof(*w));
	w->kind = SALVO_WORK_DATA;
	w->is_new = c->is_new;
	w->nranges = c->nranges;
	for (uint32_t i = 0; i < c->nranges; i++) {
		salvo_work_range *r = &w->ranges[i];
		r->block = c->r[i].block;
		r->offset = c->r[i].offset;
		r->len = c->r[i].len;
		r->stream_offset = (uint64_t)r->block * BLOCK + r->offset;
		r->block_crc = 0xc0000000u + r->block;
	}
}

static void run_case(const emit_case *c)
{
	salvo_work w;
	make_work(c, &w);
	size_t total = 0;
	for (uint32_t i = 0; i < w.nranges; i++)
		total += w.ranges[i].len;
	uint8_t *buf = malloc(total), *copy = malloc(total);
	for (size_t i = 0; i < total; i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	memcpy(copy, buf, total);
	uint32_t over = salvo_ip_udp_overhead(c->v6);
	uint32_t payload = P(c->dgram);
	uint32_t batch = c->batch ? c->batch : 1;
	salvo_emit_dgram *d = calloc(batch, sizeof(*d));
	uint8_t *out = malloc((size_t)batch * c->dgram);
	salvo_aead tx, rx;
	salvo_replay win;
	assert_int_equal(
	    salvo_aead_init(&tx, SALVO_AEAD_CHACHA20_POLY1305, lane_key, LANE),
	    0);
	assert_int_equal(
	    salvo_aead_init(&rx, SALVO_AEAD_CHACHA20_POLY1305, lane_key, LANE),
	    0);
	salvo_replay_init(&win);
	salvo_emit e;
	salvo_emit_init(&e, &w, buf, SESSION, &tx, LANE, c->dgram, over,
			c->batch);
	if (c->is_new)
		assert_int_equal(e.block_crc,
				 salvo_crc32c(0, buf, w.ranges[0].len));

	uint32_t ri = 0, roff = 0, pos = 0, last = 0;
	uint64_t count = 0, booking;
	uint32_t n;
	while ((n = salvo_emit_next(&e, out, d, &booking))) {
		uint64_t left = salvo_emit_count(&w, c->dgram) - count;
		assert_int_equal(n, left < batch ? left : batch);
		uint64_t want_booking = 0;
		for (uint32_t i = 0; i < n; i++) {
			const salvo_work_range *r = &w.ranges[ri];
			uint32_t want =
			    r->len - roff < payload ? r->len - roff : payload;
			assert_int_equal(d[i].out_offset, (size_t)i * c->dgram);
			assert_int_equal(d[i].payload, want);
			assert_int_equal(d[i].len,
					 SALVO_DATA_OVERHEAD_BYTES + want);
			assert_true(d[i].len <= c->dgram);
			uint8_t *pkt = out + d[i].out_offset;
			salvo_pkt_hdr h;
			assert_int_equal(
			    salvo_wire_decode_header(pkt, d[i].len, &h), 0);
			assert_int_equal(h.pn,
					 count + i); /* one each, in order */
			assert_int_equal(h.lane, LANE);
			size_t plain;
			assert_int_equal(
			    salvo_aead_open(&rx, &win, h.pn, pkt,
					    SALVO_HDR_BYTES,
					    pkt + SALVO_HDR_BYTES,
					    d[i].len - SALVO_HDR_BYTES, &plain),
			    0);
			salvo_pkt p;
			assert_int_equal(salvo_wire_decode(pkt, d[i].len, &p),
					 0);
			assert_int_equal(p.hdr.type, SALVO_PKT_DATA);
			assert_int_equal(p.hdr.session, SESSION);
			assert_int_equal(p.u.data.payload_len, want);
			assert_memory_equal(p.u.data.payload, copy + pos + roff,
					    want);
			assert_int_equal(p.hdr.flags,
					 c->is_new ? 0 : SALVO_DATA_F_RETX);
			assert_int_equal(p.u.data.block, r->block);
			assert_int_equal(p.u.data.offset, r->offset + roff);
			assert_int_equal(p.u.data.block_crc,
					 c->is_new ? e.block_crc
						   : r->block_crc);
			want_booking += SALVO_DATA_OVERHEAD_BYTES + want + over;
			last = want;
			roff += want;
			if (roff == r->len) {
				pos += r->len;
				roff = 0;
				ri++;
			}
		}
		assert_int_equal(booking, want_booking);
		count += n;
	}
	assert_int_equal(ri, w.nranges);
	assert_int_equal(count, c->want_dgrams);
	assert_int_equal(salvo_emit_count(&w, c->dgram), c->want_dgrams);
	assert_int_equal(last, c->want_last_len);
	/* done stays done, the block in clear */
	assert_int_equal(salvo_emit_next(&e, out, d, &booking), 0);
	assert_int_equal(booking, 0);
	assert_int_equal(e.err, 0);
	assert_memory_equal(buf, copy, total);
	salvo_aead_free(&tx);
	salvo_aead_free(&rx);
	free(out);
	free(d);
	free(buf);
	free(copy);
}

/* A lane's key past its hard limit seals nothing more: emitting stops
 * with SALVO_ERR_REKEY, the session must end (no nonce is ever used
 * twice). */
static void test_rekey_stops(void **state)
{
	(void)state;
	salvo_work w = {.kind = SALVO_WORK_DATA, .is_new = 1, .nranges = 1};
	w.ranges[0].len = 3 * P1472;
	uint8_t *buf = calloc(1, w.ranges[0].len);
	uint8_t out[4 * 1472];
	salvo_emit_dgram d[4];
	salvo_aead tx;
	assert_int_equal(
	    salvo_aead_init(&tx, SALVO_AEAD_CHACHA20_POLY1305, lane_key, 1), 0);
	tx.next_pn = SALVO_AEAD_HARD_PACKETS - 1; /* one number left */
	tx.epoch = tx.next_pn >> SALVO_AEAD_EPOCH_SHIFT;
	salvo_emit e;
	uint64_t booking;
	salvo_emit_init(&e, &w, buf, SESSION, &tx, 1, 1472, 28, 4);
	assert_int_equal(salvo_emit_next(&e, out, d, &booking), 0);
	assert_int_equal(e.err, SALVO_ERR_REKEY);
	assert_int_equal(salvo_emit_next(&e, out, d, &booking), 0);
	salvo_aead_free(&tx);
	free(buf);
}

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		printf("  case: %s\n", cases[i].name);
		run_case(&cases[i]);
	}
}

/* The bookings of one full datagram, by family: header + payload + 28 or
 * 48, the same for every batch size. */
static void test_booking_by_family(void **state)
{
	(void)state;
	static const struct {
		int v6;
		uint32_t dgram;
		uint64_t want;
	} t[] = {
	    {0, 1472, 1500}, {1, 1452, 1500}, {1, 1472, 1520},
	    {0, 8972, 9000}, {1, 8952, 9000},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		salvo_work w = {
		    .kind = SALVO_WORK_DATA, .is_new = 1, .nranges = 1};
		w.ranges[0].len = P(t[i].dgram);
		uint8_t *buf = calloc(1, w.ranges[0].len);
		uint8_t *out = malloc(t[i].dgram);
		salvo_aead tx;
		salvo_aead_init(&tx, SALVO_AEAD_CHACHA20_POLY1305, lane_key, 1);
		salvo_emit e;
		salvo_emit_dgram d[1];
		uint64_t booking;
		salvo_emit_init(&e, &w, buf, 1, &tx, 1, t[i].dgram,
				salvo_ip_udp_overhead(t[i].v6), 1);
		assert_int_equal(salvo_emit_next(&e, out, d, &booking), 1);
		assert_int_equal(d[0].len, t[i].dgram);
		assert_int_equal(booking, t[i].want);
		assert_int_equal(
		    salvo_emit_wire_bytes(100, salvo_ip_udp_overhead(t[i].v6)),
		    100 + (t[i].v6 ? 48 : 28));
		salvo_aead_free(&tx);
		free(out);
		free(buf);
	}
}

/* A batch is about 1 ms of the rate, at least 6,000 wire bytes' worth
 * of datagrams and at least 1, at most max. */
static void test_batch_for_rate(void **state)
{
	(void)state;
	static const struct {
		uint32_t max;
		uint64_t rate;
		uint32_t dgram;
		int v6;
		uint32_t want;
	} t[] = {
	    {32, 0, 1472, 0, 32},	      /* unpaced */
	    {0, 0, 1472, 0, 1},		      /* max 0 counts as 1 */
	    {32, 1000000000ull, 1472, 0, 32}, /* 83 fit: max */
	    {1024, 1000000000ull, 1472, 0, 83},
	    {1024, 1000000000ull, 1452, 1, 83},
	    {32, 100000000ull, 1472, 0, 8},
	    {32, 10000000ull, 1472, 0, 4}, /* under one: 6000 B, 4 */
	    {32, 24080000ull, 1472, 0, 4}, /* 3010 B/ms: 2, the floor */
	    {32, 24080000ull, 1472, 1, 3}, /* 6000 B: 3 x 1520 (IPv6) */
	    {2, 24080000ull, 1472, 0, 2},  /* max below the floor */
	    {32, 60160000ull, 1472, 0, 5}, /* 7520 B/ms: 5 x 1500 */
	    {32, 60160000ull, 1472, 1, 4}, /* but 4 x 1520 over IPv6 */
	    {32, 10000000ull, 8972, 0, 1}, /* a jumbo is its own batch */
	    {64, 10000000000ull, 8972, 0, 64},
	    {64, 1000000000ull, 8972, 0, 13},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(
		    salvo_emit_batch_for_rate(t[i].max, t[i].rate, t[i].dgram,
					      salvo_ip_udp_overhead(t[i].v6)),
		    t[i].want);
}

/* The datagram follows the MTU and the family; an IPv6 datagram asked for
 * beyond mtu - 48 is refused. */
static void test_pick_datagram(void **state)
{
	(void)state;
	static const struct {
		uint32_t asked, mtu;
		int v6, rc;
		uint32_t want;
	} t[] = {
	    {0, 1500, 0, 0, 1472},
	    {0, 1500, 1, 0, 1452},
	    {0, 0, 1, 0, 1452}, /* 0: the default MTU */
	    {0, 0, 0, 0, SALVO_DATAGRAM_DEFAULT_BYTES},
	    {0, 9000, 1, 0, 8952},
	    {0, 9000, 0, 0, 8972},
	    {0, 576, 0, 0, 548},
	    {0, 576, 1, SALVO_ERR_INVAL, 0}, /* 528 < the smallest */
	    {0, 65535, 0, 0, SALVO_DATAGRAM_MAX_BYTES},
	    {0, 65535, 1, 0, 65487},
	    {1452, 1500, 1, 0, 1452},
	    {1453, 1500, 1, SALVO_ERR_INVAL, 1453},
	    {1472, 1500, 1, SALVO_ERR_INVAL, 1472},
	    {1472, 0, 1, SALVO_ERR_INVAL, 1472},
	    {8952, 9000, 1, 0, 8952},
	    {8972, 1500, 0, 0, 8972}, /* IPv4: taken as asked */
	    {1000, 1500, 0, 0, 1000},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint32_t got = 0;
		int rc = salvo_emit_pick_datagram(t[i].asked, t[i].mtu, t[i].v6,
						  &got);
		assert_int_equal(rc, t[i].rc);
		assert_int_equal(got, t[i].want);
	}
}

int main(void)
{
	if (salvo_crypto_init())
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_rekey_stops),
	    cmocka_unit_test(test_booking_by_family),
	    cmocka_unit_test(test_batch_for_rate),
	    cmocka_unit_test(test_pick_datagram),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
