/*
 * The wire format, packet by packet.  Each of the ten types is encoded
 * with a distinct non-zero value in every field, decoded, and compared
 * field by field; then every truncation, every single-bit flip, and every
 * field pushed just past its range (with the checksum re-sealed, so the
 * range check itself is what rejects it) must be refused with the
 * documented code.  Decoding always reads from a heap copy of exactly the
 * datagram's length, so ASan catches any read past it.  FEEDBACK adds its
 * range list: how many ranges fit a given capacity, truncation marking,
 * each varint length, and malformed lists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/bytes.h"
#include "common/core/crc32c.h"
#include "common/core/error.h"
#include "common/core/wire.h"

#define NTYPES SALVO_PKT_TYPE_MAX
#define SESSION 0x5e55101du
#define FB_FIXED (SALVO_HDR_BYTES + 60 + SALVO_CRC_BYTES)

static const uint8_t payload[] = "DATA payload bytes, 37 of them here..";
static const char errmsg[] = "disk full: dir/file";
static uint8_t digests[2 * SALVO_DIGEST_BYTES];
static uint8_t manifest_bytes[] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};

/* ranges of the sample FEEDBACK (cum 1000): gaps and lengths that take
 * varints of 1, 2, 4 and 8 bytes, each at the top of its size */
#define R1_END (1000 + 1 + 63)
#define R2_END (R1_END + 64 + 16383)
#define R3_END (R2_END + 16384 + (UINT64_C(1) << 30) - 1)
#define R4_END (R3_END + (UINT64_C(1) << 30) + (UINT64_C(1) << 40))
static const salvo_range fb_ranges[] = {
    {1000 + 1, R1_END},
    {R1_END + 64, R2_END},
    {R2_END + 16384, R3_END},
    {R3_END + (UINT64_C(1) << 30), R4_END},
};
#define FB_NRANGES (sizeof(fb_ranges) / sizeof(fb_ranges[0]))
#define FB_RANGES_BYTES (2 + 4 + 8 + 16)

/* ---- the sample packets ---- */

static void sample(uint8_t type, salvo_pkt *p)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < sizeof(digests); i++)
		digests[i] = (uint8_t)(0xd0 + i);
	p->hdr.type = type;
	p->hdr.session = SESSION;
	switch (type) {
	case SALVO_PKT_DATA:
		p->hdr.flags = SALVO_DATA_F_RETX;
		p->u.data = (salvo_pkt_data){0x0b10c001, 0x00c0ffee, 0xb1c0c5c5,
					     payload, sizeof(payload)};
		break;
	case SALVO_PKT_HELLO:
		p->hdr.session = 0;
		p->u.hello = (salvo_pkt_hello){SALVO_CAP_KNOWN,
					       UINT64_C(0x0123456789abcdef),
					       SALVO_COOKIE_BYTES,
					       {0},
					       1u << 20,
					       1472,
					       UINT64_C(0x123456789abc),
					       1000,
					       25 * 1000 + 8 + 4321};
		for (int i = 0; i < SALVO_COOKIE_BYTES; i++)
			p->u.hello.cookie[i] = (uint8_t)(0xc0 + i);
		break;
	case SALVO_PKT_RETRY:
		p->hdr.session = 0;
		p->u.retry.nonce = UINT64_C(0xfedcba9876543210);
		for (int i = 0; i < SALVO_COOKIE_BYTES; i++)
			p->u.retry.cookie[i] = (uint8_t)(0xa0 + i);
		break;
	case SALVO_PKT_ACCEPT:
		p->u.accept = (salvo_pkt_accept){UINT64_C(0x1122334455667788),
						 SALVO_CAP_RESUME};
		break;
	case SALVO_PKT_MANIFEST:
		p->u.manifest = (salvo_pkt_manifest){100, 200, manifest_bytes,
						     sizeof(manifest_bytes)};
		break;
	case SALVO_PKT_FEEDBACK:
		p->hdr.flags = SALVO_FB_F_COMPLETE;
		p->u.feedback =
		    (salvo_pkt_feedback){SALVO_PHASE_DATA,
					 0,
					 0x5e90001,
					 1000,
					 UINT64_C(1) << 50,
					 0xabcdef12345,
					 UINT64_C(0x7e57000012345678),
					 0x401d,
					 0xd1600,
					 0xf11e5,
					 UINT64_C(0xd6a7a6a5),
					 NULL,
					 0};
		break;
	case SALVO_PKT_STATUS:
		p->u.status = (salvo_pkt_status){
		    SALVO_PHASE_DATA, 12345, UINT64_C(0x7e57000012345678),
		    UINT64_C(0x00ab00cd00ef), UINT64_C(0x5e17)};
		break;
	case SALVO_PKT_FILE_DONE:
		p->u.file_done = (salvo_pkt_file_done){0x1234, 2, digests};
		break;
	case SALVO_PKT_CLOSE:
		p->u.close.reason = SALVO_CLOSE_ABORT;
		break;
	case SALVO_PKT_ERROR:
		p->u.error = (salvo_pkt_error){SALVO_ERR_IO, 28, 77,
					       sizeof(errmsg) - 1, errmsg};
		break;
	}
}

/* Encodes the sample of `type` into buf; returns its length. */
static size_t encode_sample(uint8_t type, uint8_t *buf, size_t cap)
{
	salvo_pkt p;
	size_t written;
	int n;
	sample(type, &p);
	switch (type) {
	case SALVO_PKT_DATA:
		salvo_wire_data_header(
		    buf, SESSION, p.hdr.flags, p.u.data.block, p.u.data.offset,
		    p.u.data.block_crc, payload, sizeof(payload));
		memcpy(buf + SALVO_DATA_HDR_BYTES, payload, sizeof(payload));
		return SALVO_DATA_HDR_BYTES + sizeof(payload);
	case SALVO_PKT_FEEDBACK:
		n = salvo_wire_encode_feedback(buf, cap, SESSION, p.hdr.flags,
					       &p.u.feedback, fb_ranges,
					       FB_NRANGES, &written);
		assert_int_equal(written, FB_NRANGES);
		break;
	default:
		n = salvo_wire_encode(buf, cap, &p);
	}
	if (n <= 0)
		fail_msg("type %d: encode returned %d", type, n);
	return (size_t)n;
}

/* Re-seals a datagram after its bytes were poked: the DATA datagram CRC
 * (computed with its own field zeroed) or a control packet's trailer. */
static void reseal(uint8_t *b, size_t len)
{
	if (b[1] == SALVO_PKT_DATA && len >= SALVO_DATA_HDR_BYTES) {
		memset(b + 20, 0, 4);
		salvo_put_u32(b + 20, salvo_crc32c(0, b, len));
	} else if (len >= SALVO_HDR_BYTES + SALVO_CRC_BYTES) {
		salvo_put_u32(b + len - 4, salvo_crc32c(0, b, len - 4));
	}
}

/* Decodes from a heap copy of exactly len bytes. */
static int decode_exact(const uint8_t *b, size_t len, salvo_pkt *out)
{
	uint8_t *copy = test_malloc(len ? len : 1);
	memcpy(copy, b, len);
	int err = salvo_wire_decode(copy, len, out);
	/* pointers into the packet are checked while the copy lives */
	if (!err && out->hdr.type == SALVO_PKT_DATA)
		assert_memory_equal(out->u.data.payload, payload,
				    sizeof(payload));
	test_free(copy);
	return err;
}

static void expect_sample(uint8_t type, const salvo_pkt *got,
			  const uint8_t *wire)
{
	salvo_pkt w;
	sample(type, &w);
	assert_int_equal(got->hdr.version, SALVO_PROTOCOL_VERSION);
	assert_int_equal(got->hdr.type, type);
	assert_int_equal(got->hdr.flags, w.hdr.flags);
	assert_int_equal(got->hdr.tag_len, 0);
	assert_int_equal(got->hdr.session, w.hdr.session);
	switch (type) {
	case SALVO_PKT_DATA: {
		const salvo_pkt_data *a = &got->u.data, *b = &w.u.data;
		assert_int_equal(a->block, b->block);
		assert_int_equal(a->offset, b->offset);
		assert_int_equal(a->block_crc, b->block_crc);
		assert_ptr_equal(a->payload, wire + SALVO_DATA_HDR_BYTES);
		assert_int_equal(a->payload_len, b->payload_len);
		break;
	}
	case SALVO_PKT_HELLO: {
		const salvo_pkt_hello *a = &got->u.hello, *b = &w.u.hello;
		assert_int_equal(a->caps, b->caps);
		assert_int_equal(a->nonce, b->nonce);
		assert_int_equal(a->cookie_len, b->cookie_len);
		assert_memory_equal(a->cookie, b->cookie, SALVO_COOKIE_BYTES);
		assert_int_equal(a->block_bytes, b->block_bytes);
		assert_int_equal(a->datagram_bytes, b->datagram_bytes);
		assert_int_equal(a->total_bytes, b->total_bytes);
		assert_int_equal(a->file_count, b->file_count);
		assert_int_equal(a->manifest_bytes, b->manifest_bytes);
		break;
	}
	case SALVO_PKT_RETRY:
		assert_int_equal(got->u.retry.nonce, w.u.retry.nonce);
		assert_memory_equal(got->u.retry.cookie, w.u.retry.cookie,
				    SALVO_COOKIE_BYTES);
		break;
	case SALVO_PKT_ACCEPT:
		assert_int_equal(got->u.accept.nonce, w.u.accept.nonce);
		assert_int_equal(got->u.accept.caps, w.u.accept.caps);
		break;
	case SALVO_PKT_MANIFEST: {
		const salvo_pkt_manifest *a = &got->u.manifest;
		assert_int_equal(a->offset, w.u.manifest.offset);
		assert_int_equal(a->total, w.u.manifest.total);
		assert_int_equal(a->len, sizeof(manifest_bytes));
		assert_ptr_equal(a->bytes, wire + 16);
		assert_memory_equal(wire + 16, manifest_bytes,
				    sizeof(manifest_bytes));
		break;
	}
	case SALVO_PKT_FEEDBACK: {
		const salvo_pkt_feedback *a = &got->u.feedback,
					 *b = &w.u.feedback;
		assert_int_equal(a->phase, b->phase);
		assert_int_equal(a->nranges, FB_NRANGES);
		assert_int_equal(a->seq, b->seq);
		assert_int_equal(a->cum, b->cum);
		assert_int_equal(a->list_end, b->list_end);
		assert_int_equal(a->recv_above_cum, b->recv_above_cum);
		assert_int_equal(a->echo_ts, b->echo_ts);
		assert_int_equal(a->echo_hold_us, b->echo_hold_us);
		assert_int_equal(a->digests_have, b->digests_have);
		assert_int_equal(a->files_done, b->files_done);
		assert_int_equal(a->datagrams_received, b->datagrams_received);
		assert_ptr_equal(a->ranges, wire + FB_FIXED - 4);
		assert_int_equal(a->ranges_len, FB_RANGES_BYTES);
		salvo_fb_iter it;
		salvo_range r;
		salvo_wire_feedback_iter(&it, a);
		for (size_t i = 0; i < FB_NRANGES; i++) {
			assert_int_equal(salvo_wire_feedback_next(&it, &r), 1);
			assert_int_equal(r.start, fb_ranges[i].start);
			assert_int_equal(r.end, fb_ranges[i].end);
		}
		assert_int_equal(salvo_wire_feedback_next(&it, &r), 0);
		assert_int_equal(salvo_wire_feedback_next(&it, &r), 0);
		break;
	}
	case SALVO_PKT_STATUS: {
		const salvo_pkt_status *a = &got->u.status, *b = &w.u.status;
		assert_int_equal(a->phase, b->phase);
		assert_int_equal(a->srtt_us, b->srtt_us);
		assert_int_equal(a->ts, b->ts);
		assert_int_equal(a->sent_through, b->sent_through);
		assert_int_equal(a->datagrams_sent, b->datagrams_sent);
		break;
	}
	case SALVO_PKT_FILE_DONE:
		assert_int_equal(got->u.file_done.first, w.u.file_done.first);
		assert_int_equal(got->u.file_done.count, w.u.file_done.count);
		assert_ptr_equal(got->u.file_done.digests, wire + 14);
		assert_memory_equal(wire + 14, digests, sizeof(digests));
		break;
	case SALVO_PKT_CLOSE:
		assert_int_equal(got->u.close.reason, w.u.close.reason);
		break;
	case SALVO_PKT_ERROR: {
		const salvo_pkt_error *a = &got->u.error, *b = &w.u.error;
		assert_int_equal(a->code, b->code);
		assert_int_equal(a->sys_errno, b->sys_errno);
		assert_int_equal(a->file_index, b->file_index);
		assert_int_equal(a->msg_len, b->msg_len);
		assert_ptr_equal(a->msg, (const char *)wire + 22);
		assert_memory_equal(wire + 22, errmsg, sizeof(errmsg) - 1);
		break;
	}
	}
}

/* ---- every type: round trip, truncation, bit flips ---- */

static void test_round_trip_every_type(void **state)
{
	static const size_t lens[NTYPES + 1] = {
	    0,		24 + sizeof(payload),	    63, 36,	     24,
	    16 + 7 + 4, FB_FIXED + FB_RANGES_BYTES, 41, 14 + 64 + 4, 13,
	    26 + 19};
	(void)state;
	for (uint8_t t = 1; t <= NTYPES; t++) {
		uint8_t buf[256];
		salvo_pkt got;
		size_t len = encode_sample(t, buf, sizeof(buf));
		if (len != lens[t])
			fail_msg("type %d: %zu bytes, want %zu", t, len,
				 lens[t]);
		/* decode in place, so pointers into the packet can be checked
		 */
		assert_int_equal(salvo_wire_decode(buf, len, &got), 0);
		expect_sample(t, &got, buf);
		assert_int_equal(decode_exact(buf, len, &got), 0);
	}
}

static void test_every_truncation(void **state)
{
	(void)state;
	for (uint8_t t = 1; t <= NTYPES; t++) {
		uint8_t buf[256];
		salvo_pkt got;
		size_t len = encode_sample(t, buf, sizeof(buf));
		for (size_t n = 0; n < len; n++) {
			int err = decode_exact(buf, n, &got);
			if (err >= 0)
				fail_msg("type %d cut to %zu: %d", t, n, err);
			/* re-sealed at the cut, a control packet is
			 * checksummed but still short or inconsistent
			 * (except DATA and MANIFEST, whose last field takes
			 * the rest: cut and re-sealed, they are shorter) */
			if (t == SALVO_PKT_DATA || t == SALVO_PKT_MANIFEST)
				continue;
			uint8_t copy[256];
			memcpy(copy, buf, n);
			reseal(copy, n);
			err = decode_exact(copy, n, &got);
			if (err >= 0)
				fail_msg("type %d cut to %zu, resealed: %d", t,
					 n, err);
		}
		assert_int_equal(decode_exact(buf, 0, &got),
				 SALVO_ERR_TRUNCATED);
		assert_int_equal(decode_exact(buf, SALVO_HDR_BYTES - 1, &got),
				 SALVO_ERR_TRUNCATED);
	}
}

static void test_every_bit_flip(void **state)
{
	(void)state;
	for (uint8_t t = 1; t <= NTYPES; t++) {
		uint8_t buf[256];
		salvo_pkt got;
		size_t len = encode_sample(t, buf, sizeof(buf));
		for (size_t bit = 0; bit < len * 8; bit++) {
			buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			int err = decode_exact(buf, len, &got);
			if (err >= 0)
				fail_msg("type %d bit %zu flipped: accepted", t,
					 bit);
			/* past the header fields, the checksum is what
			 * catches it */
			if (bit >= 32)
				assert_int_equal(err, SALVO_ERR_CHECKSUM);
			buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		assert_int_equal(decode_exact(buf, len, &got), 0);
	}
}

/* ---- the common header ---- */

static void test_header_rejections(void **state)
{
	static const struct {
		size_t at;
		uint8_t v;
		int err;
	} c[] = {
	    {0, 0, SALVO_ERR_VERSION},
	    {0, SALVO_PROTOCOL_VERSION + 1, SALVO_ERR_VERSION},
	    {0, 0xff, SALVO_ERR_VERSION},
	    {1, 0, SALVO_ERR_MALFORMED},
	    {1, SALVO_PKT_TYPE_MAX + 1, SALVO_ERR_MALFORMED},
	    {1, 0xff, SALVO_ERR_MALFORMED},
	    {3, 1, SALVO_ERR_MALFORMED},
	    {3, 0x80, SALVO_ERR_MALFORMED},
	};
	(void)state;
	for (uint8_t t = 1; t <= NTYPES; t++)
		for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
			uint8_t buf[256];
			salvo_pkt got;
			size_t len = encode_sample(t, buf, sizeof(buf));
			buf[c[i].at] = c[i].v;
			reseal(buf, len);
			int err = decode_exact(buf, len, &got);
			if (err != c[i].err)
				fail_msg("type %d case %zu: %d", t, i, err);
		}
}

static void test_oversized(void **state)
{
	static uint8_t big[SALVO_DATAGRAM_MAX_BYTES + 1];
	salvo_pkt got;
	(void)state;
	/* a well-formed DATA of the largest size, and one byte more */
	salvo_wire_data_header(big, SESSION, 0, 1, 0, 0,
			       big + SALVO_DATA_HDR_BYTES,
			       SALVO_DATAGRAM_MAX_BYTES - SALVO_DATA_HDR_BYTES);
	assert_int_equal(salvo_wire_decode(big, SALVO_DATAGRAM_MAX_BYTES, &got),
			 0);
	assert_int_equal(got.u.data.payload_len,
			 SALVO_DATAGRAM_MAX_BYTES - SALVO_DATA_HDR_BYTES);
	reseal(big, sizeof(big));
	assert_int_equal(salvo_wire_decode(big, sizeof(big), &got),
			 SALVO_ERR_TOOBIG);
	assert_int_equal(salvo_wire_decode(big, SIZE_MAX, &got),
			 SALVO_ERR_TOOBIG);
	/* and a control packet */
	size_t len = encode_sample(SALVO_PKT_CLOSE, big, sizeof(big));
	assert_int_equal(salvo_wire_decode(big, len, &got), 0);
	reseal(big, sizeof(big));
	assert_int_equal(salvo_wire_decode(big, sizeof(big), &got),
			 SALVO_ERR_TOOBIG);
}

/* ---- every field just past its range ---- */

typedef struct poke {
	size_t at, width; /* width 0: none */
	uint64_t v;
} poke;

static const struct fcase {
	const char *name;
	uint8_t type;
	poke p[2];
	int err; /* 0: the boundary value itself, accepted */
} fields[] = {
#define T_(t) SALVO_PKT_##t
    /* flags and session, as each type defines them */
    {"DATA flag LZ4 (reserved)",
     T_(DATA),
     {{2, 1, SALVO_DATA_F_LZ4}},
     SALVO_ERR_MALFORMED},
    {"DATA flag 0x80", T_(DATA), {{2, 1, 0x80}}, SALVO_ERR_MALFORMED},
    {"DATA flags 0", T_(DATA), {{2, 1, 0}}, 0},
    {"DATA session 0", T_(DATA), {{4, 4, 0}}, SALVO_ERR_MALFORMED},
    {"DATA offset at the block limit",
     T_(DATA),
     {{12, 4, SALVO_BLOCK_MAX_BYTES}},
     SALVO_ERR_MALFORMED},
    {"DATA offset max", T_(DATA), {{12, 4, UINT32_MAX}}, SALVO_ERR_MALFORMED},
    {"DATA offset below the limit",
     T_(DATA),
     {{12, 4, SALVO_BLOCK_MAX_BYTES - 1}},
     0},
    {"DATA block max", T_(DATA), {{8, 4, UINT32_MAX}}, 0},
    {"HELLO flags", T_(HELLO), {{2, 1, 1}}, SALVO_ERR_MALFORMED},
    {"HELLO session", T_(HELLO), {{4, 4, 1}}, SALVO_ERR_MALFORMED},
    {"HELLO unknown cap",
     T_(HELLO),
     {{8, 4, SALVO_CAP_KNOWN + 1}},
     SALVO_ERR_MALFORMED},
    {"HELLO cap bit 31", T_(HELLO), {{8, 4, 0x80000000u}}, SALVO_ERR_MALFORMED},
    {"HELLO cookie_len 1", T_(HELLO), {{20, 1, 1}}, SALVO_ERR_MALFORMED},
    {"HELLO cookie_len 15", T_(HELLO), {{20, 1, 15}}, SALVO_ERR_MALFORMED},
    {"HELLO cookie_len 17", T_(HELLO), {{20, 1, 17}}, SALVO_ERR_MALFORMED},
    {"HELLO cookie_len 255", T_(HELLO), {{20, 1, 255}}, SALVO_ERR_MALFORMED},
    {"HELLO datagram below minimum",
     T_(HELLO),
     {{41, 2, SALVO_DATAGRAM_MIN_BYTES - 1}},
     SALVO_ERR_MALFORMED},
    {"HELLO datagram minimum",
     T_(HELLO),
     {{41, 2, SALVO_DATAGRAM_MIN_BYTES}},
     0},
    {"HELLO datagram above maximum",
     T_(HELLO),
     {{41, 2, SALVO_DATAGRAM_MAX_BYTES + 1}},
     SALVO_ERR_MALFORMED},
    {"HELLO datagram 0", T_(HELLO), {{41, 2, 0}}, SALVO_ERR_MALFORMED},
    {"HELLO datagram maximum",
     T_(HELLO),
     {{41, 2, SALVO_DATAGRAM_MAX_BYTES}},
     0},
    {"HELLO block below one payload",
     T_(HELLO),
     {{37, 4, 1472 - 24 - 1}},
     SALVO_ERR_MALFORMED},
    {"HELLO block of one payload",
     T_(HELLO),
     {{37, 4, 1472 - 24}, {43, 8, 1448 * UINT64_C(1000)}},
     0},
    {"HELLO block 0", T_(HELLO), {{37, 4, 0}}, SALVO_ERR_MALFORMED},
    {"HELLO block above maximum",
     T_(HELLO),
     {{37, 4, SALVO_BLOCK_MAX_BYTES + 1}},
     SALVO_ERR_MALFORMED},
    {"HELLO block maximum", T_(HELLO), {{37, 4, SALVO_BLOCK_MAX_BYTES}}, 0},
    {"HELLO total above maximum",
     T_(HELLO),
     {{37, 4, SALVO_BLOCK_MAX_BYTES}, {43, 8, SALVO_TOTAL_MAX_BYTES + 1}},
     SALVO_ERR_MALFORMED},
    {"HELLO total maximum",
     T_(HELLO),
     {{37, 4, SALVO_BLOCK_MAX_BYTES}, {43, 8, SALVO_TOTAL_MAX_BYTES}},
     0},
    {"HELLO total max u64",
     T_(HELLO),
     {{43, 8, UINT64_MAX}},
     SALVO_ERR_MALFORMED},
    {"HELLO block count at u32 max",
     T_(HELLO),
     {{37, 4, 1u << 20}, {43, 8, (UINT64_C(1) << 20) * UINT32_MAX}},
     SALVO_ERR_MALFORMED},
    {"HELLO block count below u32 max",
     T_(HELLO),
     {{37, 4, 1u << 20}, {43, 8, (UINT64_C(1) << 20) * UINT32_MAX - 1}},
     0},
    {"HELLO total 0", T_(HELLO), {{43, 8, 0}}, 0},
    {"HELLO files above maximum",
     T_(HELLO),
     {{51, 4, SALVO_FILES_MAX + 1}},
     SALVO_ERR_MALFORMED},
    {"HELLO manifest above maximum",
     T_(HELLO),
     {{55, 4, SALVO_MANIFEST_MAX_BYTES + 1}},
     SALVO_ERR_MALFORMED},
    {"HELLO manifest maximum",
     T_(HELLO),
     {{55, 4, SALVO_MANIFEST_MAX_BYTES}},
     0},
    {"HELLO manifest too short for its files",
     T_(HELLO),
     {{55, 4, 1000 * 25 + 8 - 1}},
     SALVO_ERR_MALFORMED},
    {"HELLO manifest just long enough", T_(HELLO), {{55, 4, 1000 * 25 + 8}}, 0},
    {"HELLO no files, empty manifest", T_(HELLO), {{51, 4, 0}, {55, 4, 8}}, 0},
    {"HELLO no files, manifest under its header",
     T_(HELLO),
     {{51, 4, 0}, {55, 4, 7}},
     SALVO_ERR_MALFORMED},
    {"HELLO most files",
     T_(HELLO),
     {{51, 4, SALVO_FILES_MAX}, {55, 4, SALVO_MANIFEST_MAX_BYTES}},
     SALVO_ERR_MALFORMED},
    {"RETRY flags", T_(RETRY), {{2, 1, 1}}, SALVO_ERR_MALFORMED},
    {"RETRY session", T_(RETRY), {{4, 4, 1}}, SALVO_ERR_MALFORMED},
    {"ACCEPT flags", T_(ACCEPT), {{2, 1, 1}}, SALVO_ERR_MALFORMED},
    {"ACCEPT session 0", T_(ACCEPT), {{4, 4, 0}}, SALVO_ERR_MALFORMED},
    {"ACCEPT unknown cap",
     T_(ACCEPT),
     {{16, 4, SALVO_CAP_KNOWN + 1}},
     SALVO_ERR_MALFORMED},
    {"ACCEPT all caps", T_(ACCEPT), {{16, 4, SALVO_CAP_KNOWN}}, 0},
    {"MANIFEST flags", T_(MANIFEST), {{2, 1, 1}}, SALVO_ERR_MALFORMED},
    {"MANIFEST total above maximum",
     T_(MANIFEST),
     {{8, 4, 0}, {12, 4, SALVO_MANIFEST_MAX_BYTES + 1}},
     SALVO_ERR_MALFORMED},
    {"MANIFEST total maximum",
     T_(MANIFEST),
     {{8, 4, SALVO_MANIFEST_MAX_BYTES - 7}, {12, 4, SALVO_MANIFEST_MAX_BYTES}},
     0},
    {"MANIFEST offset past total",
     T_(MANIFEST),
     {{8, 4, 201}},
     SALVO_ERR_MALFORMED},
    {"MANIFEST chunk past total",
     T_(MANIFEST),
     {{8, 4, 200 - 7 + 1}},
     SALVO_ERR_MALFORMED},
    {"MANIFEST chunk ends at total", T_(MANIFEST), {{8, 4, 200 - 7}}, 0},
    {"MANIFEST offset max",
     T_(MANIFEST),
     {{8, 4, UINT32_MAX}},
     SALVO_ERR_MALFORMED},
    {"FEEDBACK unknown flag",
     T_(FEEDBACK),
     {{2, 1, SALVO_FB_F_KNOWN + 1}},
     SALVO_ERR_MALFORMED},
    {"FEEDBACK all flags", T_(FEEDBACK), {{2, 1, SALVO_FB_F_KNOWN}}, 0},
    {"FEEDBACK session 0", T_(FEEDBACK), {{4, 4, 0}}, SALVO_ERR_MALFORMED},
    {"FEEDBACK phase 2", T_(FEEDBACK), {{8, 1, 2}}, SALVO_ERR_MALFORMED},
    {"FEEDBACK phase manifest",
     T_(FEEDBACK),
     {{8, 1, SALVO_PHASE_MANIFEST}},
     0},
    {"FEEDBACK reserved byte", T_(FEEDBACK), {{9, 1, 1}}, SALVO_ERR_MALFORMED},
    {"FEEDBACK one range more",
     T_(FEEDBACK),
     {{10, 2, FB_NRANGES + 1}},
     SALVO_ERR_TRUNCATED},
    {"FEEDBACK one range less",
     T_(FEEDBACK),
     {{10, 2, FB_NRANGES - 1}},
     SALVO_ERR_MALFORMED},
    {"FEEDBACK cum above maximum",
     T_(FEEDBACK),
     {{16, 8, SALVO_TOTAL_MAX_BYTES + 1}, {24, 8, SALVO_TOTAL_MAX_BYTES + 1}},
     SALVO_ERR_MALFORMED},
    {"FEEDBACK list_end above maximum",
     T_(FEEDBACK),
     {{24, 8, SALVO_TOTAL_MAX_BYTES + 1}},
     SALVO_ERR_MALFORMED},
    {"FEEDBACK list_end maximum",
     T_(FEEDBACK),
     {{24, 8, SALVO_TOTAL_MAX_BYTES}},
     0},
    {"FEEDBACK list_end below cum",
     T_(FEEDBACK),
     {{10, 2, 0}, {24, 8, 999}},
     SALVO_ERR_MALFORMED},
    {"FEEDBACK list_end at the last range's end",
     T_(FEEDBACK),
     {{24, 8, R4_END}},
     0},
    {"FEEDBACK list_end inside the last range",
     T_(FEEDBACK),
     {{24, 8, R4_END - 1}},
     SALVO_ERR_MALFORMED},
    {"FEEDBACK recv_above_cum above maximum",
     T_(FEEDBACK),
     {{32, 8, SALVO_TOTAL_MAX_BYTES + 1}},
     SALVO_ERR_MALFORMED},
    {"FEEDBACK recv_above_cum maximum",
     T_(FEEDBACK),
     {{32, 8, SALVO_TOTAL_MAX_BYTES}},
     0},
    {"FEEDBACK digests_have above maximum",
     T_(FEEDBACK),
     {{52, 4, SALVO_FILES_MAX + 1}},
     SALVO_ERR_MALFORMED},
    {"FEEDBACK digests_have maximum",
     T_(FEEDBACK),
     {{52, 4, SALVO_FILES_MAX}},
     0},
    {"FEEDBACK files_done above maximum",
     T_(FEEDBACK),
     {{56, 4, SALVO_FILES_MAX + 1}},
     SALVO_ERR_MALFORMED},
    {"FEEDBACK files_done maximum",
     T_(FEEDBACK),
     {{56, 4, SALVO_FILES_MAX}},
     0},
    {"FEEDBACK zero-length range",
     T_(FEEDBACK),
     {{69, 1, 0}},
     SALVO_ERR_MALFORMED},
    {"FEEDBACK range gap 0", T_(FEEDBACK), {{68, 1, 0}}, 0},
    {"STATUS flags", T_(STATUS), {{2, 1, 1}}, SALVO_ERR_MALFORMED},
    {"STATUS session 0", T_(STATUS), {{4, 4, 0}}, SALVO_ERR_MALFORMED},
    {"STATUS phase 2", T_(STATUS), {{8, 1, 2}}, SALVO_ERR_MALFORMED},
    {"STATUS phase 255", T_(STATUS), {{8, 1, 255}}, SALVO_ERR_MALFORMED},
    {"STATUS sent_through above maximum",
     T_(STATUS),
     {{21, 8, SALVO_TOTAL_MAX_BYTES + 1}},
     SALVO_ERR_MALFORMED},
    {"STATUS sent_through maximum",
     T_(STATUS),
     {{21, 8, SALVO_TOTAL_MAX_BYTES}},
     0},
    {"FILE_DONE flags", T_(FILE_DONE), {{2, 1, 1}}, SALVO_ERR_MALFORMED},
    {"FILE_DONE session 0", T_(FILE_DONE), {{4, 4, 0}}, SALVO_ERR_MALFORMED},
    {"FILE_DONE first at the file limit",
     T_(FILE_DONE),
     {{8, 4, SALVO_FILES_MAX}},
     SALVO_ERR_MALFORMED},
    {"FILE_DONE last past the file limit",
     T_(FILE_DONE),
     {{8, 4, SALVO_FILES_MAX - 1}},
     SALVO_ERR_MALFORMED},
    {"FILE_DONE last at the file limit",
     T_(FILE_DONE),
     {{8, 4, SALVO_FILES_MAX - 2}},
     0},
    {"FILE_DONE count 0", T_(FILE_DONE), {{12, 2, 0}}, SALVO_ERR_MALFORMED},
    {"FILE_DONE count one less",
     T_(FILE_DONE),
     {{12, 2, 1}},
     SALVO_ERR_MALFORMED},
    {"FILE_DONE count one more",
     T_(FILE_DONE),
     {{12, 2, 3}},
     SALVO_ERR_TRUNCATED},
    {"FILE_DONE count max",
     T_(FILE_DONE),
     {{12, 2, UINT16_MAX}},
     SALVO_ERR_TRUNCATED},
    {"CLOSE flags", T_(CLOSE), {{2, 1, 1}}, SALVO_ERR_MALFORMED},
    {"CLOSE reason 2",
     T_(CLOSE),
     {{8, 1, SALVO_CLOSE_ABORT + 1}},
     SALVO_ERR_MALFORMED},
    {"CLOSE reason done", T_(CLOSE), {{8, 1, SALVO_CLOSE_DONE}}, 0},
    {"CLOSE session 0", T_(CLOSE), {{4, 4, 0}}, 0},
    {"ERROR flags", T_(ERROR), {{2, 1, 1}}, SALVO_ERR_MALFORMED},
    {"ERROR code 0", T_(ERROR), {{8, 4, 0}}, SALVO_ERR_MALFORMED},
    {"ERROR code positive",
     T_(ERROR),
     {{8, 4, 0x7fffffff}},
     SALVO_ERR_MALFORMED},
    {"ERROR code -1", T_(ERROR), {{8, 4, UINT32_MAX}}, 0},
    {"ERROR errno negative",
     T_(ERROR),
     {{12, 4, UINT32_MAX}},
     SALVO_ERR_MALFORMED},
    {"ERROR errno 0", T_(ERROR), {{12, 4, 0}}, 0},
    {"ERROR no file", T_(ERROR), {{16, 4, SALVO_FILE_INDEX_NONE}}, 0},
    {"ERROR msg_len one more",
     T_(ERROR),
     {{20, 2, sizeof(errmsg)}},
     SALVO_ERR_TRUNCATED},
    {"ERROR msg_len one less",
     T_(ERROR),
     {{20, 2, sizeof(errmsg) - 2}},
     SALVO_ERR_MALFORMED},
    {"ERROR NUL in message", T_(ERROR), {{22 + 4, 1, 0}}, SALVO_ERR_MALFORMED},
    {"ERROR NUL at message end",
     T_(ERROR),
     {{22 + sizeof(errmsg) - 2, 1, 0}},
     SALVO_ERR_MALFORMED},
    {"ERROR session 0", T_(ERROR), {{4, 4, 0}}, 0},
#undef T_
};

static void put_be(uint8_t *b, const poke *p)
{
	uint64_t v = p->v;
	for (size_t i = p->width; i-- > 0; v >>= 8)
		b[p->at + i] = (uint8_t)v;
}

static void test_field_ranges(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const struct fcase *c = &fields[i];
		uint8_t buf[256];
		salvo_pkt got;
		size_t len = encode_sample(c->type, buf, sizeof(buf));
		for (int k = 0; k < 2; k++)
			if (c->p[k].width)
				put_be(buf, &c->p[k]);
		/* unsealed, the checksum catches the change first */
		if (c->type != SALVO_PKT_DATA || c->p[0].at >= 8)
			assert_int_equal(decode_exact(buf, len, &got),
					 SALVO_ERR_CHECKSUM);
		reseal(buf, len);
		int err = decode_exact(buf, len, &got);
		if (err != c->err)
			fail_msg("%s: %d (%s), want %d", c->name, err,
				 salvo_strerror(err), c->err);
	}
}

/* Structural variants that change the length, re-sealed. */
static void test_lengths(void **state)
{
	uint8_t buf[1024];
	salvo_pkt got;
	size_t len;
	(void)state;
	/* a trailing byte before the trailer of each fixed-size type */
	static const uint8_t fixed[] = {SALVO_PKT_HELLO,  SALVO_PKT_RETRY,
					SALVO_PKT_ACCEPT, SALVO_PKT_FEEDBACK,
					SALVO_PKT_STATUS, SALVO_PKT_FILE_DONE,
					SALVO_PKT_CLOSE,  SALVO_PKT_ERROR};
	for (size_t i = 0; i < sizeof(fixed); i++) {
		len = encode_sample(fixed[i], buf, sizeof(buf));
		buf[len] = 0; /* the old CRC moves one on; re-sealed below */
		reseal(buf, len + 1);
		int err = decode_exact(buf, len + 1, &got);
		if (err != SALVO_ERR_MALFORMED)
			fail_msg("type %d with a trailing byte: %d", fixed[i],
				 err);
	}
	/* MANIFEST and DATA with no bytes at all */
	len = encode_sample(SALVO_PKT_MANIFEST, buf, sizeof(buf));
	reseal(buf, 16 + 4);
	assert_int_equal(decode_exact(buf, 16 + 4, &got), SALVO_ERR_MALFORMED);
	len = encode_sample(SALVO_PKT_DATA, buf, sizeof(buf));
	reseal(buf, SALVO_DATA_HDR_BYTES);
	assert_int_equal(decode_exact(buf, SALVO_DATA_HDR_BYTES, &got),
			 SALVO_ERR_TRUNCATED);
	/* a HELLO without a cookie is 16 bytes shorter and fine */
	salvo_pkt p;
	sample(SALVO_PKT_HELLO, &p);
	p.u.hello.cookie_len = 0;
	assert_int_equal(salvo_wire_encode(buf, sizeof(buf), &p), 63 - 16);
	assert_int_equal(decode_exact(buf, 63 - 16, &got), 0);
	assert_int_equal(got.u.hello.cookie_len, 0);
	assert_int_equal(got.u.hello.manifest_bytes, p.u.hello.manifest_bytes);
	/* ERROR messages: empty, the maximum, one more */
	char msg[SALVO_ERROR_MSG_MAX + 1];
	memset(msg, 'm', sizeof(msg));
	sample(SALVO_PKT_ERROR, &p);
	p.u.error.msg = msg;
	p.u.error.msg_len = 0;
	assert_int_equal(salvo_wire_encode(buf, sizeof(buf), &p), 26);
	assert_int_equal(decode_exact(buf, 26, &got), 0);
	assert_int_equal(got.u.error.msg_len, 0);
	p.u.error.msg_len = SALVO_ERROR_MSG_MAX;
	len = (size_t)salvo_wire_encode(buf, sizeof(buf), &p);
	assert_int_equal(len, 26 + SALVO_ERROR_MSG_MAX);
	assert_int_equal(decode_exact(buf, len, &got), 0);
	assert_memory_equal(got.u.error.msg, msg, SALVO_ERROR_MSG_MAX);
	p.u.error.msg_len = SALVO_ERROR_MSG_MAX + 1;
	assert_int_equal(salvo_wire_encode(buf, sizeof(buf), &p),
			 SALVO_ERR_TOOBIG);
	/* the encoded maximum grown by one byte of message, re-sealed */
	buf[20] = (uint8_t)((SALVO_ERROR_MSG_MAX + 1) >> 8);
	buf[21] = (uint8_t)(SALVO_ERROR_MSG_MAX + 1);
	buf[22 + SALVO_ERROR_MSG_MAX] = 'm';
	reseal(buf, len + 1);
	assert_int_equal(decode_exact(buf, len + 1, &got), SALVO_ERR_MALFORMED);
}

/* ---- encoders refuse what the decoder would reject ---- */

static void test_encoder_refuses(void **state)
{
	uint8_t buf[256];
	salvo_pkt p;
	(void)state;
#define REFUSES(type, edit, want)                                              \
	do {                                                                   \
		sample(SALVO_PKT_##type, &p);                                  \
		edit;                                                          \
		int n_ = salvo_wire_encode(buf, sizeof(buf), &p);              \
		if (n_ != (want))                                              \
			fail_msg("%s { %s }: %d", #type, #edit, n_);           \
	} while (0)
	REFUSES(DATA, (void)0, SALVO_ERR_INVAL);
	REFUSES(FEEDBACK, (void)0, SALVO_ERR_INVAL);
	REFUSES(HELLO, p.hdr.type = 0, SALVO_ERR_INVAL);
	REFUSES(HELLO, p.hdr.type = NTYPES + 1, SALVO_ERR_INVAL);
	REFUSES(HELLO, p.hdr.flags = 1, SALVO_ERR_TOOBIG);
	REFUSES(HELLO, p.u.hello.caps = SALVO_CAP_KNOWN + 1, SALVO_ERR_TOOBIG);
	REFUSES(HELLO, p.u.hello.cookie_len = 1, SALVO_ERR_TOOBIG);
	REFUSES(HELLO, p.u.hello.cookie_len = 17, SALVO_ERR_TOOBIG);
	REFUSES(HELLO, p.u.hello.datagram_bytes = 547, SALVO_ERR_TOOBIG);
	REFUSES(HELLO, p.u.hello.datagram_bytes = 65508, SALVO_ERR_TOOBIG);
	REFUSES(HELLO, p.u.hello.block_bytes = 1447, SALVO_ERR_TOOBIG);
	REFUSES(HELLO, p.u.hello.block_bytes = SALVO_BLOCK_MAX_BYTES + 1,
		SALVO_ERR_TOOBIG);
	REFUSES(HELLO, p.u.hello.total_bytes = SALVO_TOTAL_MAX_BYTES + 1,
		SALVO_ERR_TOOBIG);
	REFUSES(HELLO, p.u.hello.total_bytes = (UINT64_C(1) << 20) * UINT32_MAX,
		SALVO_ERR_TOOBIG);
	REFUSES(HELLO, p.u.hello.file_count = SALVO_FILES_MAX + 1,
		SALVO_ERR_TOOBIG);
	REFUSES(HELLO, p.u.hello.manifest_bytes = SALVO_MANIFEST_MAX_BYTES + 1,
		SALVO_ERR_TOOBIG);
	REFUSES(HELLO, p.u.hello.manifest_bytes = 1000 * 25 + 7,
		SALVO_ERR_TOOBIG);
	REFUSES(RETRY, p.hdr.flags = 1, SALVO_ERR_TOOBIG);
	REFUSES(ACCEPT, p.hdr.flags = 1, SALVO_ERR_TOOBIG);
	REFUSES(ACCEPT, p.u.accept.caps = 8, SALVO_ERR_TOOBIG);
	REFUSES(MANIFEST, p.hdr.flags = 1, SALVO_ERR_TOOBIG);
	REFUSES(MANIFEST, p.u.manifest.len = 0, SALVO_ERR_TOOBIG);
	REFUSES(MANIFEST, p.u.manifest.offset = 194, SALVO_ERR_TOOBIG);
	REFUSES(MANIFEST, p.u.manifest.offset = 201, SALVO_ERR_TOOBIG);
	REFUSES(MANIFEST, p.u.manifest.total = SALVO_MANIFEST_MAX_BYTES + 1,
		SALVO_ERR_TOOBIG);
	REFUSES(STATUS, p.hdr.flags = 1, SALVO_ERR_TOOBIG);
	REFUSES(STATUS, p.u.status.phase = 2, SALVO_ERR_TOOBIG);
	REFUSES(STATUS, p.u.status.sent_through = SALVO_TOTAL_MAX_BYTES + 1,
		SALVO_ERR_TOOBIG);
	REFUSES(FILE_DONE, p.hdr.flags = 1, SALVO_ERR_TOOBIG);
	REFUSES(FILE_DONE, p.u.file_done.count = 0, SALVO_ERR_TOOBIG);
	REFUSES(FILE_DONE, p.u.file_done.first = SALVO_FILES_MAX,
		SALVO_ERR_TOOBIG);
	REFUSES(FILE_DONE, p.u.file_done.first = SALVO_FILES_MAX - 1,
		SALVO_ERR_TOOBIG);
	REFUSES(FILE_DONE, p.u.file_done.count = 8, SALVO_ERR_TOOBIG);
	REFUSES(CLOSE, p.hdr.flags = 1, SALVO_ERR_TOOBIG);
	REFUSES(CLOSE, p.u.close.reason = 2, SALVO_ERR_TOOBIG);
	REFUSES(ERROR, p.hdr.flags = 1, SALVO_ERR_TOOBIG);
	REFUSES(ERROR, p.u.error.code = 0, SALVO_ERR_TOOBIG);
	REFUSES(ERROR, p.u.error.code = 1, SALVO_ERR_TOOBIG);
	REFUSES(ERROR, p.u.error.sys_errno = -1, SALVO_ERR_TOOBIG);
	REFUSES(ERROR, p.u.error.msg = "a\0b", SALVO_ERR_TOOBIG);
	REFUSES(ERROR, p.u.error.msg_len = SALVO_ERROR_MSG_MAX + 1,
		SALVO_ERR_TOOBIG);
#undef REFUSES
	/* every type: one byte short of room is refused, exact room is not */
	for (uint8_t t = SALVO_PKT_HELLO; t <= NTYPES; t++) {
		if (t == SALVO_PKT_FEEDBACK)
			continue;
		size_t len = encode_sample(t, buf, sizeof(buf));
		sample(t, &p);
		assert_int_equal(salvo_wire_encode(buf, len - 1, &p),
				 SALVO_ERR_TOOBIG);
		assert_int_equal(salvo_wire_encode(buf, len, &p), (int)len);
	}
}

/* ---- FEEDBACK ranges ---- */

static void test_feedback_varint_lengths(void **state)
{
	/* the sample's ranges use gaps and lengths of each varint size */
	static const uint8_t prefix[] = {0, 0, 1, 1, 2, 2, 3, 3};
	static const size_t at[] = {0, 1, 2, 4, 6, 10, 14, 22};
	uint8_t buf[256];
	(void)state;
	size_t len = encode_sample(SALVO_PKT_FEEDBACK, buf, sizeof(buf));
	const uint8_t *r = buf + FB_FIXED - SALVO_CRC_BYTES;
	assert_int_equal(len, FB_FIXED + FB_RANGES_BYTES);
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		if (r[at[i]] >> 6 != prefix[i])
			fail_msg("varint %zu: prefix %d", i, r[at[i]] >> 6);
}

static void test_feedback_capacity(void **state)
{
	enum { N = 20 };
	salvo_range ranges[N];
	salvo_pkt p, got;
	uint8_t buf[256];
	size_t written;
	(void)state;
	sample(SALVO_PKT_FEEDBACK, &p);
	for (uint64_t i = 0; i < N; i++) /* gap 1, length 1: 2 bytes each */
		ranges[i] = (salvo_range){p.u.feedback.cum + 2 * i + 1,
					  p.u.feedback.cum + 2 * i + 2};
	assert_int_equal(salvo_wire_encode_feedback(buf, FB_FIXED - 1, SESSION,
						    0, &p.u.feedback, ranges, N,
						    &written),
			 SALVO_ERR_TOOBIG);
	assert_int_equal(written, 0);
	for (size_t cap = FB_FIXED; cap <= FB_FIXED + 2 * N + 1; cap++) {
		size_t fit =
		    (cap - FB_FIXED) / 2 < N ? (cap - FB_FIXED) / 2 : N;
		int n = salvo_wire_encode_feedback(
		    buf, cap, SESSION, 0, &p.u.feedback, ranges, N, &written);
		if (n != (int)(FB_FIXED + 2 * fit) || written != fit)
			fail_msg("cap %zu: %d bytes, %zu ranges; want %zu", cap,
				 n, written, fit);
		assert_int_equal(decode_exact(buf, (size_t)n, &got), 0);
		assert_int_equal(salvo_wire_decode(buf, (size_t)n, &got), 0);
		const salvo_pkt_feedback *f = &got.u.feedback;
		assert_int_equal(f->nranges, fit);
		if (fit < N) {
			assert_int_equal(got.hdr.flags, SALVO_FB_F_TRUNCATED);
			assert_int_equal(f->list_end, ranges[fit].start);
		} else {
			assert_int_equal(got.hdr.flags, 0);
			assert_int_equal(f->list_end, p.u.feedback.list_end);
		}
		salvo_fb_iter it;
		salvo_range r;
		salvo_wire_feedback_iter(&it, f);
		for (size_t i = 0; i < fit; i++) {
			assert_int_equal(salvo_wire_feedback_next(&it, &r), 1);
			assert_int_equal(r.start, ranges[i].start);
			assert_int_equal(r.end, ranges[i].end);
		}
		assert_int_equal(salvo_wire_feedback_next(&it, &r), 0);
	}
	/* no ranges at all: list_end may equal cum */
	p.u.feedback.list_end = p.u.feedback.cum;
	int n = salvo_wire_encode_feedback(buf, sizeof(buf), SESSION, 0,
					   &p.u.feedback, NULL, 0, &written);
	assert_int_equal(n, FB_FIXED);
	assert_int_equal(decode_exact(buf, (size_t)n, &got), 0);
	assert_int_equal(got.u.feedback.nranges, 0);
}

static void test_feedback_encoder_refuses(void **state)
{
	static const struct {
		const char *name;
		salvo_range r[2];
		int err;
	} bad[] = {
	    {"start below cum", {{999, 1010}, {2000, 2001}}, SALVO_ERR_INVAL},
	    {"zero length", {{1001, 1001}, {2000, 2001}}, SALVO_ERR_INVAL},
	    {"reversed", {{1010, 1001}, {2000, 2001}}, SALVO_ERR_INVAL},
	    {"overlapping", {{1001, 1010}, {1005, 1020}}, SALVO_ERR_INVAL},
	    {"descending", {{2000, 2001}, {1001, 1010}}, SALVO_ERR_INVAL},
	    {"past list_end",
	     {{1001, 1010}, {UINT64_C(1) << 50, (UINT64_C(1) << 50) + 1}},
	     SALVO_ERR_INVAL},
	    {"touching is fine", {{1001, 1010}, {1010, 1020}}, 0},
	};
	salvo_pkt p;
	uint8_t buf[256];
	size_t written;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sample(SALVO_PKT_FEEDBACK, &p);
		int n = salvo_wire_encode_feedback(buf, sizeof(buf), SESSION, 0,
						   &p.u.feedback, bad[i].r, 2,
						   &written);
		if (bad[i].err ? n != bad[i].err : n <= 0)
			fail_msg("%s: %d", bad[i].name, n);
	}
#define REFUSES(edit, flags, session)                                          \
	do {                                                                   \
		sample(SALVO_PKT_FEEDBACK, &p);                                \
		edit;                                                          \
		int n_ = salvo_wire_encode_feedback(buf, sizeof(buf), session, \
						    flags, &p.u.feedback,      \
						    NULL, 0, &written);        \
		if (n_ != SALVO_ERR_TOOBIG)                                    \
			fail_msg("{ %s }: %d", #edit, n_);                     \
	} while (0)
	salvo_pkt_feedback *f = &p.u.feedback;
	REFUSES((void)0, SALVO_FB_F_KNOWN + 1, SESSION);
	REFUSES((void)0, 0, 0);
	REFUSES(f->phase = 2, 0, SESSION);
	REFUSES(f->cum = f->list_end + 1, 0, SESSION);
	REFUSES(f->list_end = SALVO_TOTAL_MAX_BYTES + 1, 0, SESSION);
	REFUSES(f->recv_above_cum = SALVO_TOTAL_MAX_BYTES + 1, 0, SESSION);
	REFUSES(f->digests_have = SALVO_FILES_MAX + 1, 0, SESSION);
	REFUSES(f->files_done = SALVO_FILES_MAX + 1, 0, SESSION);
#undef REFUSES
}

/* A FEEDBACK of one range given as raw varints, re-sealed. */
static int decode_raw_range(uint64_t gap, uint64_t length)
{
	uint8_t buf[256];
	salvo_pkt p, got;
	salvo_wr w;
	size_t written;
	sample(SALVO_PKT_FEEDBACK, &p);
	p.u.feedback.cum = 0;
	p.u.feedback.list_end = SALVO_TOTAL_MAX_BYTES;
	int n = salvo_wire_encode_feedback(buf, sizeof(buf), SESSION, 0,
					   &p.u.feedback, NULL, 0, &written);
	assert_int_equal(n, FB_FIXED);
	buf[11] = 1; /* nranges */
	salvo_wr_init(&w, buf + FB_FIXED - 4, 16);
	salvo_wr_varint(&w, gap);
	salvo_wr_varint(&w, length);
	assert_true(salvo_wr_ok(&w));
	size_t len = FB_FIXED + w.pos;
	reseal(buf, len);
	return decode_exact(buf, len, &got);
}

static void test_feedback_range_limits(void **state)
{
	const uint64_t max = SALVO_TOTAL_MAX_BYTES;
	(void)state;
	assert_int_equal(decode_raw_range(0, max), 0);
	assert_int_equal(decode_raw_range(max - 1, 1), 0);
	assert_int_equal(decode_raw_range(max, 1), SALVO_ERR_MALFORMED);
	assert_int_equal(decode_raw_range(0, max + 1), SALVO_ERR_MALFORMED);
	assert_int_equal(decode_raw_range(max + 1, 1), SALVO_ERR_MALFORMED);
	assert_int_equal(decode_raw_range(SALVO_VARINT_MAX, SALVO_VARINT_MAX),
			 SALVO_ERR_MALFORMED);
	assert_int_equal(decode_raw_range(5, 0), SALVO_ERR_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_every_type),
	    cmocka_unit_test(test_every_truncation),
	    cmocka_unit_test(test_every_bit_flip),
	    cmocka_unit_test(test_header_rejections),
	    cmocka_unit_test(test_oversized),
	    cmocka_unit_test(test_field_ranges),
	    cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_encoder_refuses),
	    cmocka_unit_test(test_feedback_varint_lengths),
	    cmocka_unit_test(test_feedback_capacity),
	    cmocka_unit_test(test_feedback_encoder_refuses),
	    cmocka_unit_test(test_feedback_range_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
