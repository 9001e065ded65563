/*
 * The sender core's state machine (sender/core/sender.h), driven packet
 * by packet on a virtual clock, with cmocka's allocator so a leak fails
 * the test.  A session of a folder, a file of three and a bit blocks and
 * an empty file goes through HELLO, RETRY (a wrong nonce ignored), HELLO
 * with the cookie, ACCEPT, the manifest, new blocks in order, FEEDBACK
 * with missing ranges (retransmissions before new data, not again within
 * the round trip unless asked after a later STATUS), FILE_DONE only once
 * the digests are set and only in file order, and COMPLETE -> CLOSE ->
 * DONE.  Then a table of the ways a session ends badly: no answer
 * (UNREACHABLE), silence mid-transfer (TIMEOUT), a local abort, an ERROR
 * and a CLOSE from the receiver, and a malformed packet that must not end
 * anything.  Last, ICMP refusals: a few in a row end a handshake, none
 * ends a transfer before its timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/error.h"
#include "sender/core/sender.h"
#include "tests/helpers/testmem.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define BLOCK 65536u
#define DGRAM 1472u
#define PAYLOAD (DGRAM - SALVO_DATA_HDR_BYTES)
#define FILE_A (3 * BLOCK + 3392) /* 200000 */
#define NONCE 0x1234567890abcdefull
#define SESSION 0xabcd0001u
#define TIMEOUT (10 * SEC)
#define RTO (1 * SEC)

typedef struct harness {
	salvo_mem mem;
	salvo_sender *s;
	uint64_t now;
	salvo_work w;
	uint8_t buf[SALVO_DATAGRAM_MAX_BYTES];
	salvo_pkt pkt; /* the last CONTROL packet, decoded */
	uint32_t fb_seq;
	uint64_t last_status_ts;
	int closes_abort; /* CLOSE(abort) packets polled */
} harness;

static const salvo_entry entries[] = {
    {.type = SALVO_ENTRY_DIR, .mode = 0755, .path = "d", .path_len = 1},
    {.type = SALVO_ENTRY_FILE,
     .mode = 0644,
     .size = FILE_A,
     .path = "d/a",
     .path_len = 3},
    {.type = SALVO_ENTRY_FILE, .mode = 0644, .path = "d/b", .path_len = 3},
};
#define NENTRIES 3

static void start(harness *h)
{
	memset(h, 0, sizeof(*h));
	h->mem = testmem_cmocka();
	h->now = 5 * SEC;
	salvo_sender_config cfg = {.block_bytes = BLOCK,
				   .datagram_bytes = DGRAM,
				   .rate_bps = 1000000000ull,
				   .timeout_ns = TIMEOUT,
				   .initial_rto_ns = RTO,
				   .nonce = NONCE};
	assert_int_equal(salvo_sender_new(&h->s, &h->mem, &cfg, entries,
					  NENTRIES, h->now),
			 0);
}

static void finish(harness *h)
{
	salvo_sender_del(h->s);
}

/* Polls once; a CONTROL packet is decoded into h->pkt. */
static int poll_once(harness *h)
{
	int k = salvo_sender_poll(h->s, h->now, &h->w, h->buf, sizeof(h->buf));
	if (k == SALVO_WORK_CONTROL) {
		assert_int_equal(salvo_wire_decode(h->buf, h->w.len, &h->pkt),
				 0);
		if (h->pkt.hdr.type == SALVO_PKT_STATUS)
			h->last_status_ts = h->pkt.u.status.ts;
		if (h->pkt.hdr.type == SALVO_PKT_CLOSE &&
		    h->pkt.u.close.reason == SALVO_CLOSE_ABORT)
			h->closes_abort++;
	}
	return k;
}

/* Polls until something other than a control packet of a type in skip
 * (a 0-terminated list) comes out. */
static int poll_past(harness *h, const uint8_t *skip)
{
	for (int i = 0; i < 1000; i++) {
		int k = poll_once(h);
		if (k != SALVO_WORK_CONTROL)
			return k;
		int skipped = 0;
		for (const uint8_t *t = skip; *t; t++)
			skipped |= h->pkt.hdr.type == *t;
		if (!skipped)
			return k;
	}
	fail_msg("poll never settled");
	return -1;
}

static void feed(harness *h, const salvo_pkt *p)
{
	uint8_t b[SALVO_DATAGRAM_MAX_BYTES];
	int n = salvo_wire_encode(b, sizeof(b), p);
	assert_true(n > 0);
	salvo_sender_on_packet(h->s, b, (size_t)n, h->now);
}

static void feed_retry(harness *h, uint64_t nonce)
{
	salvo_pkt p = {.hdr = {.type = SALVO_PKT_RETRY}};
	p.u.retry.nonce = nonce;
	memset(p.u.retry.cookie, 0xc5, SALVO_COOKIE_BYTES);
	feed(h, &p);
}

static void feed_accept(harness *h)
{
	salvo_pkt p = {.hdr = {.type = SALVO_PKT_ACCEPT, .session = SESSION}};
	p.u.accept.nonce = NONCE;
	feed(h, &p);
}

/* A FEEDBACK echoing STATUS time echo, with the missing ranges given. */
static void feed_feedback(harness *h, uint8_t phase, uint8_t flags,
			  uint64_t cum, uint64_t echo, uint32_t digests,
			  const salvo_range *r, size_t n)
{
	salvo_pkt_feedback fb = {.phase = phase,
				 .seq = ++h->fb_seq,
				 .cum = cum,
				 .list_end = n ? r[n - 1].end : cum,
				 .echo_ts = echo,
				 .digests_have = digests};
	uint8_t b[SALVO_DATAGRAM_MAX_BYTES];
	size_t written;
	int len = salvo_wire_encode_feedback(b, DGRAM, SESSION, flags, &fb, r,
					     n, &written);
	assert_true(len > 0);
	assert_int_equal(written, n);
	salvo_sender_on_packet(h->s, b, (size_t)len, h->now);
}

/* HELLO, RETRY, HELLO+cookie, ACCEPT: the session is in MANIFEST. */
static void handshake(harness *h)
{
	assert_int_equal(poll_once(h), SALVO_WORK_CONTROL);
	assert_int_equal(h->pkt.hdr.type, SALVO_PKT_HELLO);
	assert_int_equal(h->pkt.u.hello.nonce, NONCE);
	assert_int_equal(h->pkt.u.hello.cookie_len, 0);
	assert_int_equal(h->pkt.u.hello.block_bytes, BLOCK);
	assert_int_equal(h->pkt.u.hello.datagram_bytes, DGRAM);
	assert_int_equal(h->pkt.u.hello.total_bytes, FILE_A);
	assert_int_equal(h->pkt.u.hello.file_count, NENTRIES);
	/* nothing more until the HELLO retransmission time */
	assert_int_equal(poll_once(h), SALVO_WORK_IDLE);
	assert_int_equal(h->w.deadline, h->now + RTO);

	feed_retry(h, NONCE + 1); /* not our attempt: ignored */
	assert_int_equal(poll_once(h), SALVO_WORK_IDLE);
	h->now += 3 * MS;
	feed_retry(h, NONCE);
	assert_int_equal(poll_once(h), SALVO_WORK_CONTROL);
	assert_int_equal(h->pkt.hdr.type, SALVO_PKT_HELLO);
	assert_int_equal(h->pkt.u.hello.cookie_len, SALVO_COOKIE_BYTES);
	assert_int_equal(h->pkt.u.hello.cookie[0], 0xc5);
	assert_int_equal(salvo_sender_session(h->s), 0);

	h->now += 3 * MS;
	feed_accept(h);
	assert_int_equal(salvo_sender_session(h->s), SESSION);
}

/* The manifest goes out; the receiver's DATA-phase feedback ends it. */
static void manifest(harness *h)
{
	static const uint8_t skip[] = {SALVO_PKT_STATUS, 0};
	int k = poll_past(h, skip);
	assert_int_equal(k, SALVO_WORK_CONTROL);
	assert_int_equal(h->pkt.hdr.type, SALVO_PKT_MANIFEST);
	assert_int_equal(h->pkt.hdr.session, SESSION);
	assert_int_equal(h->pkt.u.manifest.offset, 0);
	uint32_t total = h->pkt.u.manifest.total;
	assert_true(h->pkt.u.manifest.len == total); /* small: one chunk */
	/* no DATA work before the receiver has the manifest */
	assert_int_equal(poll_past(h, skip), SALVO_WORK_IDLE);
	h->now += 1 * MS;
	feed_feedback(h, SALVO_PHASE_DATA, 0, 0, 0, 0, NULL, 0);
}

static void expect_range(const salvo_work_range *r, uint32_t block,
			 uint32_t offset, uint32_t len)
{
	assert_int_equal(r->block, block);
	assert_int_equal(r->offset, offset);
	assert_int_equal(r->len, len);
	assert_int_equal(r->stream_offset, (uint64_t)block * BLOCK + offset);
}

static void test_whole_session(void **state)
{
	static const uint8_t skip_status[] = {SALVO_PKT_STATUS, 0};
	static const uint8_t skip_timed[] = {SALVO_PKT_STATUS,
					     SALVO_PKT_FILE_DONE, 0};
	(void)state;
	harness h;
	start(&h);
	handshake(&h);
	manifest(&h);

	/* new blocks, in order; the last one short */
	salvo_work held[4];
	for (uint32_t b = 0; b < 4; b++) {
		assert_int_equal(poll_past(&h, skip_timed), SALVO_WORK_DATA);
		assert_true(h.w.is_new);
		assert_int_equal(h.w.nranges, 1);
		expect_range(&h.w.ranges[0], b, 0, b < 3 ? BLOCK : 3392);
		held[b] = h.w;
	}
	assert_int_equal(poll_past(&h, skip_timed), SALVO_WORK_IDLE);
	for (uint32_t b = 0; b < 4; b++)
		salvo_sender_work_done(h.s, &held[b], 0xb0c0 + b, h.now);

	/* the folder's (empty) digest may go; the file's may not yet */
	h.now += 10 * MS;
	for (int i = 0; i < 20; i++) {
		int k = poll_once(&h);
		if (k != SALVO_WORK_CONTROL)
			break;
		if (h.pkt.hdr.type == SALVO_PKT_FILE_DONE)
			assert_int_equal(h.pkt.u.file_done.first +
					     h.pkt.u.file_done.count,
					 1);
	}
	/* a STATUS after the sends, then a feedback echoing it that lists
	 * two lost ranges */
	h.now += 10 * MS;
	assert_int_equal(poll_once(&h), SALVO_WORK_CONTROL);
	assert_int_equal(h.pkt.hdr.type, SALVO_PKT_STATUS);
	uint64_t st1 = h.last_status_ts;
	h.now += 20 * MS;
	salvo_range lost[] = {{PAYLOAD, 2 * PAYLOAD},
			      {BLOCK + 5 * PAYLOAD, BLOCK + 6 * PAYLOAD}};
	feed_feedback(&h, SALVO_PHASE_DATA, 0, 0, st1, 1, lost, 2);

	/* retransmissions first, carrying the blocks' CRCs */
	assert_int_equal(poll_past(&h, skip_timed), SALVO_WORK_DATA);
	assert_false(h.w.is_new);
	assert_int_equal(h.w.nranges, 2);
	expect_range(&h.w.ranges[0], 0, PAYLOAD, PAYLOAD);
	expect_range(&h.w.ranges[1], 1, 5 * PAYLOAD, PAYLOAD);
	assert_int_equal(h.w.ranges[0].block_crc, 0xb0c0);
	assert_int_equal(h.w.ranges[1].block_crc, 0xb0c1);
	salvo_work retx = h.w;
	h.now += 1 * MS;
	salvo_sender_work_done(h.s, &retx, 0, h.now);

	/* the same report again, echoing the same (older) STATUS: the
	 * ranges were re-sent since, so nothing goes twice in one RTT */
	h.now += 1 * MS;
	feed_feedback(&h, SALVO_PHASE_DATA, 0, 0, st1, 1, lost, 2);
	assert_int_equal(poll_past(&h, skip_timed), SALVO_WORK_IDLE);

	/* asked again after a later STATUS: it goes again */
	h.now += 30 * MS;
	assert_int_equal(poll_past(&h, (const uint8_t[]){SALVO_PKT_FILE_DONE,
							 0}),
			 SALVO_WORK_CONTROL);
	assert_int_equal(h.pkt.hdr.type, SALVO_PKT_STATUS);
	uint64_t st2 = h.last_status_ts;
	h.now += 20 * MS;
	feed_feedback(&h, SALVO_PHASE_DATA, 0, 0, st2, 1, lost, 1);
	assert_int_equal(poll_past(&h, skip_timed), SALVO_WORK_DATA);
	assert_int_equal(h.w.nranges, 1);
	expect_range(&h.w.ranges[0], 0, PAYLOAD, PAYLOAD);
	salvo_sender_work_done(h.s, &h.w, 0, h.now);

	/* digests: the empty file's first (index 2) is held back behind
	 * index 1, then both go */
	uint8_t d1[SALVO_DIGEST_BYTES], d2[SALVO_DIGEST_BYTES];
	memset(d1, 0x11, sizeof(d1));
	memset(d2, 0x22, sizeof(d2));
	assert_int_equal(salvo_sender_set_digest(h.s, 0, d1), SALVO_ERR_INVAL);
	assert_int_equal(salvo_sender_set_digest(h.s, 3, d1), SALVO_ERR_INVAL);
	assert_int_equal(salvo_sender_set_digest(h.s, 2, d2), 0);
	h.now += 1 * MS;
	assert_int_equal(poll_past(&h, skip_status), SALVO_WORK_IDLE);
	assert_int_equal(salvo_sender_set_digest(h.s, 1, d1), 0);
	int k = poll_past(&h, skip_status);
	assert_int_equal(k, SALVO_WORK_CONTROL);
	assert_int_equal(h.pkt.hdr.type, SALVO_PKT_FILE_DONE);
	assert_int_equal(h.pkt.u.file_done.first + h.pkt.u.file_done.count,
			 3);
	assert_memory_equal(h.pkt.u.file_done.digests +
				(1 - h.pkt.u.file_done.first) *
				    SALVO_DIGEST_BYTES,
			    d1, SALVO_DIGEST_BYTES);
	assert_memory_equal(h.pkt.u.file_done.digests +
				(2 - h.pkt.u.file_done.first) *
				    SALVO_DIGEST_BYTES,
			    d2, SALVO_DIGEST_BYTES);

	/* COMPLETE, with everything held: CLOSE(done), then DONE */
	h.now += 5 * MS;
	feed_feedback(&h, SALVO_PHASE_DATA, SALVO_FB_F_COMPLETE, FILE_A, 0, 3,
		      NULL, 0);
	assert_int_equal(poll_once(&h), SALVO_WORK_CONTROL);
	assert_int_equal(h.pkt.hdr.type, SALVO_PKT_CLOSE);
	assert_int_equal(h.pkt.u.close.reason, SALVO_CLOSE_DONE);
	assert_int_equal(poll_once(&h), SALVO_WORK_DONE);
	assert_int_equal(salvo_sender_result(h.s, NULL, NULL, NULL), 0);
	salvo_sender_stats st;
	salvo_sender_get_stats(h.s, &st);
	assert_int_equal(st.bytes_new, FILE_A);
	assert_int_equal(st.bytes_retx, 3 * PAYLOAD);
	assert_int_equal(st.files_done, NENTRIES);
	finish(&h);
}

/* COMPLETE before the receiver has every digest does not end it. */
static void test_complete_needs_digests(void **state)
{
	(void)state;
	harness h;
	start(&h);
	handshake(&h);
	manifest(&h);
	h.now += 1 * MS;
	feed_feedback(&h, SALVO_PHASE_DATA, SALVO_FB_F_COMPLETE, FILE_A, 0, 1,
		      NULL, 0);
	for (int i = 0; i < 50; i++)
		assert_int_not_equal(poll_once(&h), SALVO_WORK_DONE);
	finish(&h);
}

/* ---- the ways a session ends badly ---- */

enum stage { AT_HELLO, IN_DATA };
enum action {
	SILENCE,
	ABORT,
	PEER_ERROR,
	PEER_CLOSE,
	MALFORMED,
};

typedef struct end_case {
	const char *name;
	enum stage stage;
	enum action action;
	int result;	/* salvo_sender_result; 1: still running */
	int close_sent; /* a CLOSE(abort) goes out first */
} end_case;

static const end_case end_cases[] = {
    {"no answer to HELLO", AT_HELLO, SILENCE, SALVO_ERR_UNREACHABLE, 0},
    {"silent mid-transfer", IN_DATA, SILENCE, SALVO_ERR_TIMEOUT, 1},
    {"abort during the handshake", AT_HELLO, ABORT, SALVO_ERR_ABORTED, 0},
    {"abort mid-transfer", IN_DATA, ABORT, SALVO_ERR_ABORTED, 1},
    {"receiver error", IN_DATA, PEER_ERROR, SALVO_ERR_PEER, 0},
    {"receiver busy before ACCEPT", AT_HELLO, PEER_ERROR, SALVO_ERR_PEER, 0},
    {"receiver close", IN_DATA, PEER_CLOSE, SALVO_ERR_ABORTED, 0},
    {"malformed packet", IN_DATA, MALFORMED, 1, 0},
};

static void act(harness *h, const end_case *c)
{
	salvo_pkt p;
	memset(&p, 0, sizeof(p));
	uint32_t session = c->stage == AT_HELLO ? 0 : SESSION;
	switch (c->action) {
	case SILENCE: /* a HELLO goes out at each backoff; nothing answers */
		for (uint64_t end = h->now + TIMEOUT; h->now <= end;
		     h->now += 100 * MS)
			if (poll_once(h) == SALVO_WORK_FAILED ||
			    h->closes_abort)
				break;
		return;
	case ABORT:
		salvo_sender_abort(h->s);
		return;
	case PEER_ERROR:
		p.hdr.type = SALVO_PKT_ERROR;
		p.hdr.session = session;
		p.u.error.code = SALVO_ERR_IO;
		p.u.error.sys_errno = 28;
		p.u.error.file_index = SALVO_FILE_INDEX_NONE;
		p.u.error.msg = "disk full";
		p.u.error.msg_len = 9;
		feed(h, &p);
		return;
	case PEER_CLOSE:
		p.hdr.type = SALVO_PKT_CLOSE;
		p.hdr.session = session;
		p.u.close.reason = SALVO_CLOSE_ABORT;
		feed(h, &p);
		return;
	case MALFORMED: {
		uint8_t junk[40] = {1, 2, 3};
		salvo_sender_on_packet(h->s, junk, sizeof(junk), h->now);
		return;
	}
	}
}

static void run_end_case(const end_case *c)
{
	harness h;
	start(&h);
	if (c->stage == AT_HELLO) {
		assert_int_equal(poll_once(&h), SALVO_WORK_CONTROL);
		assert_int_equal(h.pkt.hdr.type, SALVO_PKT_HELLO);
	} else {
		handshake(&h);
		manifest(&h);
	}
	act(&h, c);
	int k = SALVO_WORK_CONTROL;
	for (int i = 0; i < 20 && k == SALVO_WORK_CONTROL; i++)
		k = poll_once(&h);
	if (c->result == 1) {
		assert_int_not_equal(k, SALVO_WORK_FAILED);
		salvo_sender_stats st;
		salvo_sender_get_stats(h.s, &st);
		assert_true(st.malformed >= 1);
	} else {
		assert_int_equal(k, SALVO_WORK_FAILED);
		int code = 0, err = 0;
		const char *msg = NULL;
		assert_int_equal(salvo_sender_result(h.s, &code, &err, &msg),
				 c->result);
		assert_int_equal(h.closes_abort, c->close_sent);
		if (c->action == PEER_ERROR) {
			assert_int_equal(code, SALVO_ERR_IO);
			assert_int_equal(err, 28);
			assert_string_equal(msg, "disk full");
		}
		/* once over, it stays over */
		assert_int_equal(poll_once(&h), SALVO_WORK_FAILED);
	}
	finish(&h);
}

static void test_endings(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(end_cases) / sizeof(end_cases[0]); i++) {
		printf("  case: %s\n", end_cases[i].name);
		run_end_case(&end_cases[i]);
	}
}

/* ICMP port unreachable (salvo_sender_on_refused): in the handshake each
 * refusal brings the HELLO forward to SALVO_REFUSED_RETRY_NS, the
 * SALVO_REFUSED_LIMIT-th in a row fails the session with UNREACHABLE and
 * stats.refused; an answer (RETRY) between them starts the count again;
 * mid-transfer refusals change nothing until the timeout. */
static void test_refused(void **state)
{
	(void)state;
	harness h;
	salvo_sender_stats st;

	/* a closed port: three refusals, 2 x SALVO_REFUSED_RETRY_NS */
	start(&h);
	uint64_t t0 = h.now;
	for (uint32_t i = 0; i < SALVO_REFUSED_LIMIT; i++) {
		assert_int_equal(poll_once(&h), SALVO_WORK_CONTROL);
		assert_int_equal(h.pkt.hdr.type, SALVO_PKT_HELLO);
		h.now += 100 * 1000; /* the ICMP answer, 0.1 ms later */
		salvo_sender_on_refused(h.s, h.now);
		if (i + 1 == SALVO_REFUSED_LIMIT)
			break;
		assert_int_equal(poll_once(&h), SALVO_WORK_IDLE);
		assert_int_equal(h.w.deadline,
				 h.now + SALVO_REFUSED_RETRY_NS);
		h.now = h.w.deadline;
	}
	assert_int_equal(poll_once(&h), SALVO_WORK_FAILED);
	assert_int_equal(salvo_sender_result(h.s, NULL, NULL, NULL),
			 SALVO_ERR_UNREACHABLE);
	assert_true(h.now - t0 < 1 * SEC);
	salvo_sender_get_stats(h.s, &st);
	assert_int_equal(st.refused, 1);
	assert_int_equal(st.refusals, SALVO_REFUSED_LIMIT);
	assert_int_equal(h.closes_abort, 0); /* no session to close */
	finish(&h);

	/* a receiver coming up: a RETRY between refusals resets the count */
	start(&h);
	for (uint32_t i = 0; i + 1 < SALVO_REFUSED_LIMIT; i++) {
		assert_int_equal(poll_once(&h), SALVO_WORK_CONTROL);
		salvo_sender_on_refused(h.s, h.now);
		h.now += SALVO_REFUSED_RETRY_NS;
	}
	feed_retry(&h, NONCE);
	for (uint32_t i = 0; i + 1 < SALVO_REFUSED_LIMIT; i++) {
		assert_int_equal(poll_once(&h), SALVO_WORK_CONTROL);
		assert_int_equal(h.pkt.hdr.type, SALVO_PKT_HELLO);
		salvo_sender_on_refused(h.s, h.now);
		h.now += SALVO_REFUSED_RETRY_NS;
	}
	assert_int_equal(poll_once(&h), SALVO_WORK_CONTROL);
	assert_int_equal(h.pkt.hdr.type, SALVO_PKT_HELLO);
	feed_accept(&h);
	manifest(&h);
	salvo_sender_get_stats(h.s, &st);
	assert_int_equal(st.refused, 0);

	/* mid-transfer: many refusals, no failure before the timeout */
	uint64_t quiet_from = h.now;
	for (int i = 0; i < 50; i++) {
		salvo_sender_on_refused(h.s, h.now);
		h.now += 100 * MS;
		int k = poll_once(&h);
		assert_int_not_equal(k, SALVO_WORK_FAILED);
		if (k == SALVO_WORK_DATA)
			salvo_sender_work_done(h.s, &h.w, 0, h.now);
	}
	assert_true(h.now - quiet_from < TIMEOUT);
	h.now = quiet_from + TIMEOUT;
	int k = SALVO_WORK_CONTROL;
	for (int i = 0; i < 20 && k == SALVO_WORK_CONTROL; i++)
		k = poll_once(&h);
	assert_int_equal(k, SALVO_WORK_FAILED);
	assert_int_equal(salvo_sender_result(h.s, NULL, NULL, NULL),
			 SALVO_ERR_TIMEOUT);
	finish(&h);
}

/* Bad configurations are refused, and a failed allocation leaks
 * nothing. */
static void test_new_refuses(void **state)
{
	(void)state;
	salvo_mem mem = testmem_cmocka();
	static const salvo_sender_config good = {.block_bytes = BLOCK,
						 .datagram_bytes = DGRAM,
						 .rate_bps = 1,
						 .timeout_ns = 1,
						 .initial_rto_ns = 1};
	salvo_sender_config bad[] = {good, good, good, good, good};
	bad[0].datagram_bytes = SALVO_DATAGRAM_MIN_BYTES - 1;
	bad[1].block_bytes = PAYLOAD - 1;
	bad[2].rate_bps = 0;
	bad[3].timeout_ns = 0;
	bad[4].initial_rto_ns = 0;
	salvo_sender *s;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    salvo_sender_new(&s, &mem, &bad[i], entries, NENTRIES, 0),
		    SALVO_ERR_INVAL);
		assert_null(s);
	}
	for (size_t allow = 0; allow < 12; allow++) {
		salvo_failmem fm;
		salvo_failmem_init(&fm, &mem, allow);
		int rc = salvo_sender_new(&s, &fm.mem, &good, entries,
					  NENTRIES, 0);
		if (!rc) {
			salvo_sender_del(s);
			break;
		}
		assert_int_equal(rc, SALVO_ERR_NOMEM);
	}
	salvo_sender_del(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_whole_session),
	    cmocka_unit_test(test_complete_needs_digests),
	    cmocka_unit_test(test_endings),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_new_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
