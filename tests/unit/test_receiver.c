/*
 * The receiver core, packet by packet, on a virtual clock.  A harness
 * records every callback (packets sent, prepare, writes, verify_block,
 * finalize_file, session_end) and answers verifications as the test
 * says, so each rule of receiver.h is checked where it is decided:
 *
 *   handshake   no state before a valid cookie; a RETRY, and every other
 *               answer to an unvalidated address, at most 3x the bytes
 *               received (a table of inputs); ACCEPT, and the same ACCEPT
 *               for a repeated HELLO; expired and forged cookies; the
 *               session table's limit.
 *   manifest    accepted (prepare, FEEDBACK in the data phase) or refused
 *               (a table: unsafe path, disagreeing with HELLO, prepare
 *               failing), each with its error code to the sender.
 *   data        a table of DATA datagrams: which are written (once) and
 *               which are dropped as duplicates or out of place.
 *   feedback    the vector of missing ranges once the sender vouched for
 *               the bytes and the reordering allowance passed.
 *   blocks      verify_block -> block_result ok, or failed -> the block's
 *               bytes reported missing again, written again, verified
 *               again; failing repeatedly ends the session.
 *   files       finalize_file -> file_result: COMPLETE, or a verification
 *               error naming the file.
 *   timers      an idle session ends with SALVO_ERR_TIMEOUT.
 *
 * Allocations go through cmocka's allocator: a leak fails the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/blake3.h"
#include "common/core/crc32c.h"
#include "common/core/error.h"
#include "common/core/manifest.h"
#include "common/core/wire.h"
#include "receiver/core/receiver.h"
#include "tests/helpers/testmem.h"

#define MS 1000000ull
#define SEC (1000 * MS)
#define DATAGRAM 1024
#define PAYLOAD (DATAGRAM - SALVO_DATA_HDR_BYTES) /* 1000 */
#define BLOCK 2000				  /* two datagrams */
#define SIZE_A 3500
#define SIZE_B 1500
#define TOTAL (SIZE_A + SIZE_B) /* blocks: [a] [a|b] [b] */
#define NBLOCKS 3
#define IDLE_NS (5 * SEC)
#define MAX_OUT 64

/* ------------------------------------------------------------ harness */

typedef struct out {
	uint8_t buf[SALVO_DATAGRAM_MAX_BYTES];
	size_t len;
	salvo_addr to;
} out;

typedef struct harness {
	salvo_mem mem;
	salvo_receiver *r;
	uint64_t now;
	out *out; /* packets the core sent, since the last take */
	size_t nout;
	int prepares, prepare_rc;
	int writes;
	uint8_t stream[TOTAL]; /* what the core wrote, in stream order */
	int nwritten[TOTAL];   /* times each byte was written */
	struct {
		uint32_t session, block, len, crc;
		uint64_t start;
	} verify[16];
	int nverify;
	struct {
		uint32_t session, file;
		uint8_t digest[32];
	} final[8];
	int nfinal;
	int ends, end_result;
	char end_msg[SALVO_ERROR_MSG_MAX + 1];
	const salvo_manifest *m; /* the session's, from prepare */
} harness;

static void cb_send(void *ud, const salvo_addr *a, const void *buf, size_t len)
{
	harness *h = ud;
	assert_true(h->nout < MAX_OUT);
	assert_true(len <= sizeof(h->out[0].buf));
	memcpy(h->out[h->nout].buf, buf, len);
	h->out[h->nout].len = len;
	h->out[h->nout++].to = *a;
}

static int cb_prepare(void *ud, salvo_rsess *s, const salvo_manifest *m,
		      char *err, size_t errlen)
{
	harness *h = ud;
	(void)s;
	h->prepares++;
	h->m = m;
	if (h->prepare_rc)
		snprintf(err, errlen, "cannot create 'a': disk on fire");
	return h->prepare_rc;
}

static int cb_write(void *ud, salvo_rsess *s, uint32_t file, uint64_t off,
		    const void *data, size_t len, char *err, size_t errlen)
{
	harness *h = ud;
	(void)err;
	(void)errlen;
	const salvo_entry *e = &salvo_rsess_manifest(s)->entries[file];
	assert_true(off + len <= e->size);
	memcpy(h->stream + e->stream_offset + off, data, len);
	for (size_t i = 0; i < len; i++)
		h->nwritten[e->stream_offset + off + i]++;
	h->writes++;
	return 0;
}

static void cb_verify(void *ud, salvo_rsess *s, uint32_t block, uint64_t start,
		      uint32_t len, uint32_t crc)
{
	harness *h = ud;
	assert_true(h->nverify < 16);
	h->verify[h->nverify].session = salvo_rsess_id(s);
	h->verify[h->nverify].block = block;
	h->verify[h->nverify].start = start;
	h->verify[h->nverify].len = len;
	h->verify[h->nverify++].crc = crc;
}

static void cb_finalize(void *ud, salvo_rsess *s, uint32_t file,
			const uint8_t digest[32])
{
	harness *h = ud;
	assert_true(h->nfinal < 8);
	h->final[h->nfinal].session = salvo_rsess_id(s);
	h->final[h->nfinal].file = file;
	memcpy(h->final[h->nfinal++].digest, digest, 32);
}

static void cb_end(void *ud, salvo_rsess *s, int result, const char *msg)
{
	harness *h = ud;
	(void)s;
	h->ends++;
	h->end_result = result;
	snprintf(h->end_msg, sizeof(h->end_msg), "%s", msg);
}

/* A receiver with its harness; made and freed inside each test, so
 * cmocka's leak check covers the core's whole life. */
static harness *start(uint32_t max_sessions)
{
	harness *h = test_calloc(1, sizeof(*h));
	h->out = test_calloc(MAX_OUT, sizeof(*h->out));
	h->mem = testmem_cmocka();
	h->now = 1000 * SEC;
	salvo_receiver_config cfg = {.max_sessions = max_sessions,
				     .idle_timeout_ns = IDLE_NS,
				     .cookie_lifetime_ns = 60 * SEC,
				     .secret = {1, 2, 3, 4, 5, 6, 7, 8},
				     .seed = 42};
	salvo_receiver_cb cb = {cb_send,     cb_prepare, cb_write, cb_verify,
				cb_finalize, cb_end,	 h};
	assert_int_equal(salvo_receiver_new(&h->r, &h->mem, &cfg, &cb), 0);
	return h;
}

static void finish(harness *h)
{
	salvo_receiver_del(h->r);
	test_free(h->out);
	test_free(h);
}

static salvo_addr addr(uint8_t host, uint16_t port)
{
	salvo_addr a = {.len = 8, .host_len = 4};
	a.bytes[0] = host;
	a.bytes[1] = (uint8_t)(port >> 8);
	a.bytes[2] = (uint8_t)port;
	a.host[0] = host;
	return a;
}

static void feed(harness *h, const salvo_addr *a, const void *buf, size_t len)
{
	salvo_receiver_on_packet(h->r, a, buf, len, h->now);
}

static void feed_pkt(harness *h, const salvo_addr *a, const salvo_pkt *p)
{
	uint8_t buf[SALVO_DATAGRAM_MAX_BYTES];
	int n = salvo_wire_encode(buf, sizeof(buf), p);
	assert_true(n > 0);
	feed(h, a, buf, (size_t)n);
}

/* The k-th packet sent since the last clear, decoded. */
static salvo_pkt sent(const harness *h, size_t k)
{
	salvo_pkt p;
	assert_true(k < h->nout);
	assert_int_equal(salvo_wire_decode(h->out[k].buf, h->out[k].len, &p),
			 0);
	return p;
}

/* The type of the last packet sent (0 if none). */
static int last_type(const harness *h)
{
	return h->nout ? sent(h, h->nout - 1).hdr.type : 0;
}

static size_t out_bytes(const harness *h)
{
	size_t n = 0;
	for (size_t k = 0; k < h->nout; k++)
		n += h->out[k].len;
	return n;
}

static uint32_t sessions(const harness *h)
{
	salvo_receiver_stats st;
	salvo_receiver_get_stats(h->r, &st);
	return st.sessions;
}

static salvo_pkt hello_pkt(uint64_t nonce, uint32_t manifest_bytes)
{
	salvo_pkt p = {.hdr = {.type = SALVO_PKT_HELLO}};
	p.u.hello = (salvo_pkt_hello){.nonce = nonce,
				      .block_bytes = BLOCK,
				      .datagram_bytes = DATAGRAM,
				      .total_bytes = TOTAL,
				      .file_count = 2,
				      .manifest_bytes = manifest_bytes};
	return p;
}

/* HELLO p from a, then again with the RETRY's cookie; h->out holds the
 * answer to the second. */
static void hello_with_cookie(harness *h, const salvo_addr *a, salvo_pkt *p)
{
	h->nout = 0;
	feed_pkt(h, a, p);
	assert_int_equal(last_type(h), SALVO_PKT_RETRY);
	salvo_pkt q = sent(h, h->nout - 1);
	p->u.hello.cookie_len = SALVO_COOKIE_BYTES;
	memcpy(p->u.hello.cookie, q.u.retry.cookie, SALVO_COOKIE_BYTES);
	h->nout = 0;
	feed_pkt(h, a, p);
}

/* HELLO, RETRY, HELLO with the cookie, ACCEPT: the session id. */
static uint32_t open_session(harness *h, const salvo_addr *a, uint64_t nonce,
			     uint32_t manifest_bytes)
{
	salvo_pkt p = hello_pkt(nonce, manifest_bytes);
	hello_with_cookie(h, a, &p);
	assert_int_equal(last_type(h), SALVO_PKT_ACCEPT);
	salvo_pkt q = sent(h, h->nout - 1);
	assert_int_equal(q.u.accept.nonce, nonce);
	assert_int_not_equal(q.hdr.session, 0);
	return q.hdr.session;
}

/* --------------------------------------------------------- the sender */

static uint8_t data[TOTAL];
static uint8_t mbuf[256];
static uint32_t mlen;

static void make_data(void)
{
	for (size_t i = 0; i < TOTAL; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 11);
}

/* The manifest of a and b, a's path as given: the encoder refuses an
 * unsafe one, so a placeholder is encoded and its bytes replaced, as a
 * hostile sender would. */
static uint32_t encode_manifest(const char *path_a)
{
	static const char placeholder[] = "xxxxxxxxxxxxxxxx";
	size_t plen = strlen(path_a);
	salvo_entry e[2] = {
	    {SALVO_ENTRY_FILE, (uint16_t)plen, 0644, SIZE_A, 1, placeholder, 0},
	    {SALVO_ENTRY_FILE, 1, 0644, SIZE_B, 2, "b", 0},
	};
	assert_true(plen < sizeof(placeholder));
	uint64_t total;
	int64_t n = salvo_manifest_encode(e, 2, mbuf, sizeof(mbuf), &total);
	assert_true(n > 0);
	memcpy(mbuf + SALVO_MANIFEST_HDR_BYTES + SALVO_ENTRY_FIXED_BYTES,
	       path_a, plen);
	return mlen = (uint32_t)n;
}

static void send_manifest(harness *h, const salvo_addr *a, uint32_t sid)
{
	salvo_pkt p = {.hdr = {.type = SALVO_PKT_MANIFEST, .session = sid}};
	p.u.manifest = (salvo_pkt_manifest){0, mlen, mbuf, mlen};
	h->nout = 0;
	feed_pkt(h, a, &p);
}

static uint32_t block_len(uint32_t b)
{
	return TOTAL - b * BLOCK < BLOCK ? TOTAL - b * BLOCK : BLOCK;
}

/* DATA for stream bytes of block b at off, len bytes, with block CRC crc
 * (0: the true one). */
static void send_data_raw(harness *h, const salvo_addr *a, uint32_t sid,
			  uint32_t b, uint32_t off, size_t len, uint32_t crc)
{
	uint8_t buf[DATAGRAM + 64];
	const uint8_t *src = data + (uint64_t)b * BLOCK + off;
	if ((uint64_t)b * BLOCK + off + len > TOTAL)
		src = data; /* out-of-range cases: any bytes */
	if (!crc) /* past the last block: any byte (never read past data) */
		crc = b < NBLOCKS ? salvo_crc32c(0, data + (uint64_t)b * BLOCK,
						 block_len(b))
				  : salvo_crc32c(0, data, 1);
	memcpy(buf + SALVO_DATA_HDR_BYTES, src, len);
	salvo_wire_data_header(buf, sid, 0, b, off, crc,
			       buf + SALVO_DATA_HDR_BYTES, len);
	feed(h, a, buf, SALVO_DATA_HDR_BYTES + len);
}

/* The d-th datagram of block b. */
static void send_dgram(harness *h, const salvo_addr *a, uint32_t sid,
		       uint32_t b, uint32_t d)
{
	uint32_t off = d * PAYLOAD;
	size_t len =
	    block_len(b) - off < PAYLOAD ? block_len(b) - off : PAYLOAD;
	send_data_raw(h, a, sid, b, off, len, 0);
}

static void send_status(harness *h, const salvo_addr *a, uint32_t sid,
			uint64_t sent_through)
{
	salvo_pkt p = {.hdr = {.type = SALVO_PKT_STATUS, .session = sid}};
	p.u.status = (salvo_pkt_status){.phase = SALVO_PHASE_DATA,
					.srtt_us = 10000,
					.ts = h->now,
					.sent_through = sent_through};
	h->nout = 0;
	feed_pkt(h, a, &p);
}

static void send_digests(harness *h, const salvo_addr *a, uint32_t sid)
{
	uint8_t d[64];
	salvo_blake3_hash(data, SIZE_A, d);
	salvo_blake3_hash(data + SIZE_A, SIZE_B, d + 32);
	salvo_pkt p = {.hdr = {.type = SALVO_PKT_FILE_DONE, .session = sid}};
	p.u.file_done = (salvo_pkt_file_done){0, 2, d};
	feed_pkt(h, a, &p);
}

/* A session in the data phase. */
static uint32_t data_session(harness *h, const salvo_addr *a)
{
	make_data();
	uint32_t sid = open_session(h, a, 77, encode_manifest("a"));
	send_manifest(h, a, sid);
	assert_int_equal(h->prepares, 1);
	return sid;
}

/* The missing ranges of the last FEEDBACK sent (phase DATA). */
static size_t last_ranges(const harness *h, salvo_range *r, size_t max)
{
	salvo_pkt p = sent(h, h->nout - 1);
	assert_int_equal(p.hdr.type, SALVO_PKT_FEEDBACK);
	salvo_fb_iter it;
	size_t n = 0;
	salvo_wire_feedback_iter(&it, &p.u.feedback);
	while (n < max && salvo_wire_feedback_next(&it, &r[n]))
		n++;
	return n;
}

/* --------------------------------------------------------- handshake */

static void test_no_state_before_cookie(void **state)
{
	(void)state;
	harness *h = start(4);
	salvo_addr a = addr(10, 1000), b = addr(10, 1001);
	salvo_pkt p = hello_pkt(5, 64);
	feed_pkt(h, &a, &p);
	assert_int_equal(last_type(h), SALVO_PKT_RETRY);
	assert_int_equal(sessions(h), 0);
	salvo_pkt retry = sent(h, 0);
	assert_int_equal(retry.u.retry.nonce, 5);

	struct {
		const char *name;
		const salvo_addr *from;
		uint64_t nonce, later_ns;
		int flip; /* a cookie byte changed */
	} cases[] = {
	    {"forged cookie", &a, 5, 0, 1},
	    {"other address", &b, 5, 0, 0},
	    {"other nonce", &a, 6, 0, 0},
	    {"expired", &a, 5, 61 * SEC, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		salvo_pkt q = hello_pkt(cases[i].nonce, 64);
		q.u.hello.cookie_len = SALVO_COOKIE_BYTES;
		memcpy(q.u.hello.cookie, retry.u.retry.cookie,
		       SALVO_COOKIE_BYTES);
		q.u.hello.cookie[SALVO_COOKIE_BYTES - 1] ^=
		    (uint8_t)cases[i].flip;
		h->now += cases[i].later_ns;
		h->nout = 0;
		feed_pkt(h, cases[i].from, &q);
		h->now -= cases[i].later_ns;
		if (last_type(h) != SALVO_PKT_RETRY || sessions(h))
			fail_msg("%s: a session or no RETRY", cases[i].name);
	}
	/* the real cookie, within its lifetime */
	h->now += 30 * SEC;
	p.u.hello.cookie_len = SALVO_COOKIE_BYTES;
	memcpy(p.u.hello.cookie, retry.u.retry.cookie, SALVO_COOKIE_BYTES);
	h->nout = 0;
	feed_pkt(h, &a, &p);
	assert_int_equal(last_type(h), SALVO_PKT_ACCEPT);
	assert_int_equal(sessions(h), 1);
	finish(h);
}

static void test_amplification_limit(void **state)
{
	(void)state;
	harness *h = start(4);
	salvo_addr a = addr(10, 2000);
	uint8_t hello[256], status[256], version[64];
	salvo_pkt p = hello_pkt(9, 64);
	int nh = salvo_wire_encode(hello, sizeof(hello), &p);
	salvo_pkt s = {.hdr = {.type = SALVO_PKT_STATUS, .session = 1234}};
	s.u.status.phase = SALVO_PHASE_DATA;
	int ns = salvo_wire_encode(status, sizeof(status), &s);
	memset(version, 0, sizeof(version));
	version[0] = SALVO_PROTOCOL_VERSION + 1;
	version[1] = SALVO_PKT_HELLO;
	struct {
		const char *name;
		const uint8_t *buf;
		size_t len;
		int answered; /* 1 if some answer is expected */
	} cases[] = {
	    {"HELLO without cookie", hello, (size_t)nh, 1},
	    {"STATUS, unknown session", status, (size_t)ns, 1},
	    {"other version, 16 bytes", version, 16, 0},
	    {"other version, 60 bytes", version, 60, 1},
	    {"one byte", hello, 1, 0},
	    {"truncated HELLO", hello, (size_t)nh - 5, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		h->nout = 0;
		feed(h, &a, cases[i].buf, cases[i].len);
		size_t n = out_bytes(h);
		if (n > 3 * cases[i].len)
			fail_msg("%s: %zu bytes out for %zu in", cases[i].name,
				 n, cases[i].len);
		if (cases[i].answered != (n > 0))
			fail_msg("%s: %zu bytes out", cases[i].name, n);
	}
	assert_int_equal(sessions(h), 0);
	finish(h);
}

static void test_accept_repeated(void **state)
{
	(void)state;
	harness *h = start(4);
	salvo_addr a = addr(10, 3000);
	uint32_t sid = open_session(h, &a, 11, 64);
	/* our ACCEPT was lost: the same HELLO again gets the same session */
	salvo_pkt p = hello_pkt(11, 64);
	hello_with_cookie(h, &a, &p);
	assert_int_equal(last_type(h), SALVO_PKT_ACCEPT);
	assert_int_equal(sent(h, 0).hdr.session, sid);
	assert_int_equal(sessions(h), 1);
	finish(h);
}

static void test_max_sessions(void **state)
{
	(void)state;
	harness *h = start(2);
	salvo_addr a = addr(10, 4000), b = addr(10, 4001), c = addr(10, 4002);
	open_session(h, &a, 1, 64);
	open_session(h, &b, 2, 64);
	salvo_pkt p = hello_pkt(3, 64);
	hello_with_cookie(h, &c, &p);
	assert_int_equal(last_type(h), SALVO_PKT_ERROR);
	assert_int_equal(sent(h, 0).u.error.code, SALVO_ERR_BUSY);
	assert_int_equal(sessions(h), 2);
	finish(h);
}

/* ----------------------------------------------------------- manifest */

static void test_manifest_accepted(void **state)
{
	(void)state;
	harness *h = start(4);
	salvo_addr a = addr(10, 5000);
	data_session(h, &a);
	assert_int_equal(h->m->count, 2);
	assert_string_equal(h->m->entries[1].path, "b");
	salvo_pkt fb = sent(h, h->nout - 1);
	assert_int_equal(fb.hdr.type, SALVO_PKT_FEEDBACK);
	assert_int_equal(fb.u.feedback.phase, SALVO_PHASE_DATA);
	assert_int_equal(h->ends, 0);
	finish(h);
}

static void test_manifest_refused(void **state)
{
	(void)state;
	harness *h = start(4);
	struct {
		const char *name, *path;
		uint64_t hello_total;
		int prepare_rc, code;
		const char *msg;
	} cases[] = {
	    {"unsafe path", "../a", TOTAL, 0, SALVO_ERR_PATH,
	     "invalid manifest"},
	    {"absolute path", "/a", TOTAL, 0, SALVO_ERR_PATH,
	     "invalid manifest"},
	    {"total differs from HELLO", "a", TOTAL + 1000, 0,
	     SALVO_ERR_MALFORMED, "manifest disagrees with HELLO"},
	    {"prepare fails", "a", TOTAL, -28, SALVO_ERR_IO, "disk on fire"},
	};
	make_data();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		salvo_addr a = addr(11, (uint16_t)(100 + i));
		uint32_t len = encode_manifest(cases[i].path);
		salvo_pkt p = hello_pkt(500 + i, len);
		p.u.hello.total_bytes = cases[i].hello_total;
		hello_with_cookie(h, &a, &p);
		uint32_t sid = sent(h, 0).hdr.session;
		h->prepare_rc = cases[i].prepare_rc;
		h->ends = 0;
		send_manifest(h, &a, sid);
		h->prepare_rc = 0;
		salvo_pkt e = sent(h, h->nout - 1);
		if (e.hdr.type != SALVO_PKT_ERROR ||
		    e.u.error.code != cases[i].code || h->ends != 1 ||
		    h->end_result != cases[i].code ||
		    !strstr(h->end_msg, cases[i].msg))
			fail_msg("%s: type %d code %d ends %d result %d '%s'",
				 cases[i].name, e.hdr.type, e.u.error.code,
				 h->ends, h->end_result, h->end_msg);
	}
	finish(h);
}

/* --------------------------------------------------------------- data */

static void test_data_written_once(void **state)
{
	(void)state;
	harness *h = start(4);
	salvo_addr a = addr(10, 6000), other_host = addr(12, 6000);
	uint32_t sid = data_session(h, &a);
	uint32_t crc0 = salvo_crc32c(0, data, BLOCK);
	struct {
		const char *name;
		const salvo_addr *from;
		uint32_t block, off;
		size_t len;
		uint32_t crc; /* 0: true */
		int written;  /* new writes expected */
	} cases[] = {
	    {"first datagram", &a, 0, 0, PAYLOAD, 0, 1},
	    {"the same again", &a, 0, 0, PAYLOAD, 0, 0},
	    {"from another host", &other_host, 0, PAYLOAD, PAYLOAD, 0, 0},
	    {"past the last block", &a, NBLOCKS, 0, PAYLOAD, 0, 0},
	    {"offset off the grid", &a, 0, PAYLOAD / 2, PAYLOAD, 0, 0},
	    {"offset past the block", &a, 0, BLOCK, PAYLOAD, 0, 0},
	    {"short datagram", &a, 0, PAYLOAD, PAYLOAD - 1, 0, 0},
	    {"another block CRC", &a, 0, PAYLOAD, PAYLOAD, crc0 ^ 1, 0},
	    /* block 1 holds a's end and b's start: its second datagram
	       spans both, one write per file */
	    {"block 1, first half", &a, 1, 0, PAYLOAD, 0, 1},
	    {"spanning two files", &a, 1, PAYLOAD, PAYLOAD, 0, 2},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int before = h->writes;
		send_data_raw(h, cases[i].from, sid, cases[i].block,
			      cases[i].off, cases[i].len, cases[i].crc);
		if (h->writes - before != cases[i].written)
			fail_msg("%s: %d writes", cases[i].name,
				 h->writes - before);
	}
	for (size_t i = 0; i < TOTAL; i++) {
		int want = (i < PAYLOAD) || (i >= BLOCK && i < 2 * BLOCK);
		if (h->nwritten[i] != want)
			fail_msg("byte %zu written %d times", i,
				 h->nwritten[i]);
	}
	assert_memory_equal(h->stream + BLOCK, data + BLOCK, BLOCK);
	salvo_receiver_stats st;
	salvo_receiver_get_stats(h->r, &st);
	assert_int_equal(st.duplicates, 1);
	assert_int_equal(st.unknown, 6);
	/* block 1 complete: verification asked once, with its true CRC */
	assert_int_equal(h->nverify, 1);
	assert_int_equal(h->verify[0].block, 1);
	assert_int_equal(h->verify[0].start, BLOCK);
	assert_int_equal(h->verify[0].len, BLOCK);
	assert_int_equal(h->verify[0].crc,
			 salvo_crc32c(0, data + BLOCK, BLOCK));
	finish(h);
}

static void test_feedback_missing_ranges(void **state)
{
	(void)state;
	harness *h = start(4);
	salvo_addr a = addr(10, 7000);
	uint32_t sid = data_session(h, &a);
	/* datagrams 0, 2 and 4 of the stream arrive; 1 and 3 do not */
	send_dgram(h, &a, sid, 0, 0);
	send_dgram(h, &a, sid, 1, 0);
	send_dgram(h, &a, sid, 2, 0);
	send_status(h, &a, sid, TOTAL);
	salvo_range r[8];
	/* not yet: within the reordering allowance nothing is reported */
	assert_int_equal(last_ranges(h, r, 8), 0);
	h->now += 100 * MS;
	salvo_receiver_on_timer(h->r, h->now);
	send_status(h, &a, sid, TOTAL);
	size_t n = last_ranges(h, r, 8);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].start, PAYLOAD);
	assert_int_equal(r[0].end, BLOCK);
	assert_int_equal(r[1].start, BLOCK + PAYLOAD);
	assert_int_equal(r[1].end, 2 * BLOCK);
	salvo_pkt fb = sent(h, h->nout - 1);
	assert_int_equal(fb.u.feedback.cum, PAYLOAD);
	assert_int_equal(fb.u.feedback.list_end, TOTAL);
	assert_int_equal(fb.u.feedback.datagrams_received, 3);
	finish(h);
}

/* ---------------------------------------------------- blocks and files */

static void send_all(harness *h, const salvo_addr *a, uint32_t sid)
{
	for (uint32_t b = 0; b < NBLOCKS; b++)
		for (uint32_t d = 0; d * PAYLOAD < block_len(b); d++)
			send_dgram(h, a, sid, b, d);
}

static void answer_blocks(harness *h, int ok_mask)
{
	int n = h->nverify;
	h->nverify = 0;
	for (int i = 0; i < n; i++)
		salvo_receiver_block_result(
		    h->r, h->verify[i].session, h->verify[i].block,
		    ok_mask >> h->verify[i].block & 1, h->now);
}

static void test_blocks_and_files_complete(void **state)
{
	(void)state;
	harness *h = start(4);
	salvo_addr a = addr(10, 8000);
	uint32_t sid = data_session(h, &a);
	send_all(h, &a, sid);
	send_digests(h, &a, sid);
	assert_int_equal(h->nverify, NBLOCKS);
	assert_int_equal(h->nfinal, 0); /* not before its blocks verified */
	answer_blocks(h, 0x7);
	assert_int_equal(h->nfinal, 2);
	uint8_t d[32];
	salvo_blake3_hash(data + SIZE_A, SIZE_B, d);
	assert_int_equal(h->final[1].file, 1);
	assert_memory_equal(h->final[1].digest, d, 32);
	salvo_receiver_file_result(h->r, sid, 0, 0, NULL, h->now);
	assert_int_equal(h->ends, 0);
	h->nout = 0;
	salvo_receiver_file_result(h->r, sid, 1, 0, NULL, h->now);
	assert_int_equal(h->ends, 1);
	assert_int_equal(h->end_result, 0);
	salvo_pkt fb = sent(h, h->nout - 1);
	assert_int_equal(fb.hdr.type, SALVO_PKT_FEEDBACK);
	assert_true(fb.hdr.flags & SALVO_FB_F_COMPLETE);
	assert_int_equal(fb.u.feedback.files_done, 2);
	assert_memory_equal(h->stream, data, TOTAL);
	finish(h);
}

static void test_block_fails_refetched(void **state)
{
	(void)state;
	harness *h = start(4);
	salvo_addr a = addr(10, 9000);
	uint32_t sid = data_session(h, &a);
	send_all(h, &a, sid);
	send_digests(h, &a, sid);
	answer_blocks(h, 0x5);		/* block 1 fails */
	assert_int_equal(h->nfinal, 0); /* a and b both wait for block 1 */
	/* its bytes are missing again, reported at once */
	send_status(h, &a, sid, TOTAL);
	salvo_range r[4];
	assert_int_equal(last_ranges(h, r, 4), 1);
	assert_int_equal(r[0].start, BLOCK);
	assert_int_equal(r[0].end, 2 * BLOCK);
	/* fetched again: written a second time, verified again */
	send_dgram(h, &a, sid, 1, 0);
	send_dgram(h, &a, sid, 1, 1);
	assert_int_equal(h->nwritten[BLOCK], 2);
	assert_int_equal(h->nwritten[0], 1);
	assert_int_equal(h->nverify, 1);
	answer_blocks(h, 0x2);
	assert_int_equal(h->nfinal, 2);
	salvo_receiver_stats st;
	salvo_receiver_get_stats(h->r, &st);
	assert_int_equal(st.block_failures, 1);
	finish(h);
}

static void test_block_fails_repeatedly(void **state)
{
	(void)state;
	harness *h = start(4);
	salvo_addr a = addr(10, 9100);
	uint32_t sid = data_session(h, &a);
	send_all(h, &a, sid);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(h->ends, 0);
		answer_blocks(h, 0x5);
		send_dgram(h, &a, sid, 1, 0);
		send_dgram(h, &a, sid, 1, 1);
	}
	assert_int_equal(h->ends, 1);
	assert_int_equal(h->end_result, SALVO_ERR_SOURCE_CHANGED);
	finish(h);
}

static void test_file_fails_verification(void **state)
{
	(void)state;
	harness *h = start(4);
	salvo_addr a = addr(10, 9200);
	uint32_t sid = data_session(h, &a);
	send_all(h, &a, sid);
	send_digests(h, &a, sid);
	answer_blocks(h, 0x7);
	h->nout = 0;
	salvo_receiver_file_result(h->r, sid, 1, SALVO_ERR_VERIFY, NULL,
				   h->now);
	assert_int_equal(h->ends, 1);
	assert_int_equal(h->end_result, SALVO_ERR_VERIFY);
	salvo_pkt e = sent(h, h->nout - 1);
	assert_int_equal(e.hdr.type, SALVO_PKT_ERROR);
	assert_int_equal(e.u.error.code, SALVO_ERR_VERIFY);
	assert_int_equal(e.u.error.file_index, 1);
	assert_non_null(strstr(h->end_msg, "b"));
	/* the tombstone repeats the error to a sender that missed it */
	send_status(h, &a, sid, TOTAL);
	assert_int_equal(last_type(h), SALVO_PKT_ERROR);
	finish(h);
}

/* ------------------------------------------------------------- timers */

static void test_idle_timeout(void **state)
{
	(void)state;
	harness *h = start(4);
	salvo_addr a = addr(10, 9300);
	data_session(h, &a);
	uint64_t t = salvo_receiver_next_timer(h->r);
	assert_true(t <= h->now + IDLE_NS);
	h->now += IDLE_NS - MS;
	salvo_receiver_on_timer(h->r, h->now);
	assert_int_equal(h->ends, 0);
	h->now += MS;
	h->nout = 0;
	salvo_receiver_on_timer(h->r, h->now);
	assert_int_equal(h->ends, 1);
	assert_int_equal(h->end_result, SALVO_ERR_TIMEOUT);
	assert_int_equal(h->nout, 0); /* nobody to tell */
	assert_int_equal(sessions(h), 0);
	finish(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_state_before_cookie),
	    cmocka_unit_test(test_amplification_limit),
	    cmocka_unit_test(test_accept_repeated),
	    cmocka_unit_test(test_max_sessions),
	    cmocka_unit_test(test_manifest_accepted),
	    cmocka_unit_test(test_manifest_refused),
	    cmocka_unit_test(test_data_written_once),
	    cmocka_unit_test(test_feedback_missing_ranges),
	    cmocka_unit_test(test_blocks_and_files_complete),
	    cmocka_unit_test(test_block_fails_refetched),
	    cmocka_unit_test(test_block_fails_repeatedly),
	    cmocka_unit_test(test_file_fails_verification),
	    cmocka_unit_test(test_idle_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
