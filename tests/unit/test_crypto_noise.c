/*
 * The Noise IK handshake and the cookie layer: the published test vectors
 * (every handshake and transport byte, the split keys through the
 * transport messages they encrypt, the handshake hash), a handshake both
 * ways with fresh keys, every single-bit change of message 1 and 2
 * refused without disturbing the handshake, a wrong responder key, a
 * wrong prologue, a replayed message 1 caught by its stamp, the state
 * machine's refusals, and WireGuard-style cookies under load.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/core/error.h"
#include "common/crypto/cookie.h"
#include "common/crypto/noise.h"
#include "tests/unit/test_crypto_noise_vectors.h"

#define PROLOGUE ((const uint8_t *)SALVO_NOISE_PROLOGUE)
#define PROLOGUE_LEN (sizeof(SALVO_NOISE_PROLOGUE) - 1)

static int setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

/* hex into out (cap bytes); returns the length. */
static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = 0;
	assert_int_equal(
	    sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &n, NULL), 0);
	return n;
}

static void key32(uint8_t out[32], const char *hex)
{
	assert_int_equal(unhex(out, 32, hex), 32);
}

static void transport(const uint8_t key[32], uint64_t n, const uint8_t *plain,
		      size_t len, uint8_t *out)
{
	uint8_t nonce[12] = {0};
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, plain, len, NULL,
						  0, NULL, nonce, key);
}

static void run_vector(const struct vector *v)
{
	uint8_t prologue[128], is[32], ie[32], rs_pub[32], rs[32], re[32];
	uint8_t pub[32], payload[256], want[512], msg[512], got[256];
	uint8_t i_send[32], i_recv[32], r_send[32], r_recv[32];
	uint8_t i_hash[64], r_hash[64], hash[64];
	size_t plen, wlen, mlen, glen;
	salvo_noise ini, resp;

	size_t prolen = unhex(prologue, sizeof(prologue), v->prologue);
	key32(is, v->init_static);
	key32(ie, v->init_ephemeral);
	key32(rs_pub, v->init_remote_static);
	key32(rs, v->resp_static);
	key32(re, v->resp_ephemeral);
	assert_int_equal(salvo_noise_public_key(pub, rs), 0);
	assert_memory_equal(pub, rs_pub, 32);

	assert_int_equal(salvo_noise_init(&ini, SALVO_NOISE_INITIATOR, prologue,
					  prolen, is, rs_pub, ie),
			 0);
	assert_int_equal(salvo_noise_init(&resp, SALVO_NOISE_RESPONDER,
					  prologue, prolen, rs, NULL, re),
			 0);

	/* message 1 */
	plen = unhex(payload, sizeof(payload), v->msgs[0].payload);
	wlen = unhex(want, sizeof(want), v->msgs[0].ciphertext);
	assert_int_equal(salvo_noise_write_msg1(&ini, payload, plen, msg,
						sizeof(msg), &mlen),
			 0);
	assert_int_equal(mlen, wlen);
	assert_memory_equal(msg, want, wlen);
	assert_int_equal(
	    salvo_noise_read_msg1(&resp, msg, mlen, got, sizeof(got), &glen),
	    0);
	assert_int_equal(glen, plen);
	assert_memory_equal(got, payload, plen);
	assert_int_equal(salvo_noise_public_key(pub, is), 0);
	assert_memory_equal(salvo_noise_remote_static(&resp), pub, 32);

	/* message 2 */
	plen = unhex(payload, sizeof(payload), v->msgs[1].payload);
	wlen = unhex(want, sizeof(want), v->msgs[1].ciphertext);
	assert_int_equal(salvo_noise_write_msg2(&resp, payload, plen, msg,
						sizeof(msg), &mlen),
			 0);
	assert_int_equal(mlen, wlen);
	assert_memory_equal(msg, want, wlen);
	assert_int_equal(
	    salvo_noise_read_msg2(&ini, msg, mlen, got, sizeof(got), &glen), 0);
	assert_int_equal(glen, plen);
	assert_memory_equal(got, payload, plen);

	assert_int_equal(salvo_noise_split(&ini, i_send, i_recv, i_hash), 0);
	assert_int_equal(salvo_noise_split(&resp, r_send, r_recv, r_hash), 0);
	assert_memory_equal(i_send, r_recv, 32);
	assert_memory_equal(i_recv, r_send, 32);
	assert_memory_equal(i_hash, r_hash, 64);
	if (v->handshake_hash) {
		assert_int_equal(unhex(hash, sizeof(hash), v->handshake_hash),
				 64);
		assert_memory_equal(i_hash, hash, 64);
	}

	/* the split keys, through the transport messages they encrypt */
	for (int i = 2; i < v->nmsgs; i++) {
		int from_initiator = i % 2 == 0;
		plen = unhex(payload, sizeof(payload), v->msgs[i].payload);
		wlen = unhex(want, sizeof(want), v->msgs[i].ciphertext);
		assert_int_equal(wlen, plen + 16);
		transport(from_initiator ? i_send : r_send,
			  (uint64_t)(i - 2) / 2, payload, plen, msg);
		assert_memory_equal(msg, want, wlen);
	}
}

static void test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		print_message("vector: %s\n", vectors[i].source);
		run_vector(&vectors[i]);
	}
}

/* A fresh key pair from libsodium's generator. */
static void keypair(uint8_t priv[32], uint8_t pub[32])
{
	randombytes_buf(priv, 32);
	assert_int_equal(salvo_noise_public_key(pub, priv), 0);
}

typedef struct party {
	uint8_t s[32], s_pub[32];
} party;

static void start(salvo_noise *ini, salvo_noise *resp, const party *a,
		  const party *b, const uint8_t *b_pub_seen_by_a)
{
	uint8_t e[32];
	randombytes_buf(e, sizeof(e));
	assert_int_equal(salvo_noise_init(ini, SALVO_NOISE_INITIATOR, PROLOGUE,
					  PROLOGUE_LEN, a->s, b_pub_seen_by_a,
					  e),
			 0);
	randombytes_buf(e, sizeof(e));
	assert_int_equal(salvo_noise_init(resp, SALVO_NOISE_RESPONDER, PROLOGUE,
					  PROLOGUE_LEN, b->s, NULL, e),
			 0);
}

/* A complete handshake a -> b carrying payloads; checks both sides agree
 * and the keys work in both directions. */
static void handshake(const party *a, const party *b)
{
	salvo_noise ini, resp;
	uint8_t m1[256], m2[256], got[64];
	uint8_t is[32], ir[32], rs[32], rr[32];
	size_t l1, l2, gl;

	start(&ini, &resp, a, b, b->s_pub);
	assert_int_equal(salvo_noise_write_msg1(&ini, (const uint8_t *)"hi", 2,
						m1, sizeof(m1), &l1),
			 0);
	assert_int_equal(l1, SALVO_NOISE_MSG1_BYTES(2));
	assert_int_equal(
	    salvo_noise_read_msg1(&resp, m1, l1, got, sizeof(got), &gl), 0);
	assert_int_equal(gl, 2);
	assert_memory_equal(got, "hi", 2);
	assert_memory_equal(salvo_noise_remote_static(&resp), a->s_pub, 32);
	assert_int_equal(salvo_noise_write_msg2(&resp, (const uint8_t *)"ok", 2,
						m2, sizeof(m2), &l2),
			 0);
	assert_int_equal(l2, SALVO_NOISE_MSG2_BYTES(2));
	assert_int_equal(
	    salvo_noise_read_msg2(&ini, m2, l2, got, sizeof(got), &gl), 0);
	assert_memory_equal(got, "ok", 2);
	assert_int_equal(salvo_noise_split(&ini, is, ir, NULL), 0);
	assert_int_equal(salvo_noise_split(&resp, rs, rr, NULL), 0);
	assert_memory_equal(is, rr, 32);
	assert_memory_equal(ir, rs, 32);
	assert_memory_not_equal(is, ir, 32);
	/* split wiped the secrets */
	assert_int_equal(salvo_noise_split(&ini, is, ir, NULL),
			 SALVO_ERR_STATE);
}

static void test_both_ways(void **state)
{
	(void)state;
	party a, b;
	keypair(a.s, a.s_pub);
	keypair(b.s, b.s_pub);
	handshake(&a, &b);
	handshake(&b, &a);
}

/* Every single-bit change of message 1 is refused, and the responder can
 * still read the real message after all of them. */
static void test_tampered_msg1(void **state)
{
	(void)state;
	party a, b;
	salvo_noise ini, resp;
	uint8_t m1[128], got[32];
	size_t l1, gl;

	keypair(a.s, a.s_pub);
	keypair(b.s, b.s_pub);
	start(&ini, &resp, &a, &b, b.s_pub);
	assert_int_equal(salvo_noise_write_msg1(&ini, (const uint8_t *)"x", 1,
						m1, sizeof(m1), &l1),
			 0);
	for (size_t bit = 0; bit < l1 * 8; bit++) {
		m1[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int err =
		    salvo_noise_read_msg1(&resp, m1, l1, got, sizeof(got), &gl);
		m1[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (err != SALVO_ERR_AUTH)
			fail_msg("bit %zu of message 1: %d", bit, err);
	}
	assert_int_equal(
	    salvo_noise_read_msg1(&resp, m1, l1 - 1, got, sizeof(got), &gl),
	    SALVO_ERR_AUTH);
	assert_int_equal(
	    salvo_noise_read_msg1(&resp, m1, 95, got, sizeof(got), &gl),
	    SALVO_ERR_TRUNCATED);
	assert_int_equal(
	    salvo_noise_read_msg1(&resp, m1, l1, got, sizeof(got), &gl), 0);
}

static void test_tampered_msg2(void **state)
{
	(void)state;
	party a, b;
	salvo_noise ini, resp;
	uint8_t m1[128], m2[128], got[32], k1[32], k2[32];
	size_t l1, l2, gl;

	keypair(a.s, a.s_pub);
	keypair(b.s, b.s_pub);
	start(&ini, &resp, &a, &b, b.s_pub);
	assert_int_equal(
	    salvo_noise_write_msg1(&ini, NULL, 0, m1, sizeof(m1), &l1), 0);
	assert_int_equal(
	    salvo_noise_read_msg1(&resp, m1, l1, got, sizeof(got), &gl), 0);
	assert_int_equal(salvo_noise_write_msg2(&resp, (const uint8_t *)"y", 1,
						m2, sizeof(m2), &l2),
			 0);
	for (size_t bit = 0; bit < l2 * 8; bit++) {
		m2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int err =
		    salvo_noise_read_msg2(&ini, m2, l2, got, sizeof(got), &gl);
		m2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (err != SALVO_ERR_AUTH)
			fail_msg("bit %zu of message 2: %d", bit, err);
	}
	assert_int_equal(
	    salvo_noise_read_msg2(&ini, m2, 47, got, sizeof(got), &gl),
	    SALVO_ERR_TRUNCATED);
	/* a forged message 2 from someone else's handshake */
	salvo_noise other_i, other_r;
	uint8_t om1[128], om2[128];
	size_t ol1, ol2;
	start(&other_i, &other_r, &a, &b, b.s_pub);
	assert_int_equal(
	    salvo_noise_write_msg1(&other_i, NULL, 0, om1, sizeof(om1), &ol1),
	    0);
	assert_int_equal(
	    salvo_noise_read_msg1(&other_r, om1, ol1, got, sizeof(got), &gl),
	    0);
	assert_int_equal(
	    salvo_noise_write_msg2(&other_r, NULL, 0, om2, sizeof(om2), &ol2),
	    0);
	assert_int_equal(
	    salvo_noise_read_msg2(&ini, om2, ol2, got, sizeof(got), &gl),
	    SALVO_ERR_AUTH);
	/* the real one still completes the handshake */
	assert_int_equal(
	    salvo_noise_read_msg2(&ini, m2, l2, got, sizeof(got), &gl), 0);
	assert_int_equal(salvo_noise_split(&ini, k1, k2, NULL), 0);
}

static void test_wrong_responder_key(void **state)
{
	(void)state;
	party a, b, c;
	salvo_noise ini, resp;
	uint8_t m1[128], got[32];
	size_t l1, gl;

	keypair(a.s, a.s_pub);
	keypair(b.s, b.s_pub);
	keypair(c.s, c.s_pub);
	/* a believes b's key is c's */
	start(&ini, &resp, &a, &b, c.s_pub);
	assert_int_equal(
	    salvo_noise_write_msg1(&ini, NULL, 0, m1, sizeof(m1), &l1), 0);
	assert_int_equal(
	    salvo_noise_read_msg1(&resp, m1, l1, got, sizeof(got), &gl),
	    SALVO_ERR_AUTH);
}

static void test_wrong_prologue(void **state)
{
	(void)state;
	party a, b;
	salvo_noise ini, resp;
	uint8_t m1[128], got[32], e[32];
	size_t l1, gl;

	keypair(a.s, a.s_pub);
	keypair(b.s, b.s_pub);
	randombytes_buf(e, sizeof(e));
	assert_int_equal(salvo_noise_init(&ini, SALVO_NOISE_INITIATOR,
					  (const uint8_t *)"salvo 4", 7, a.s,
					  b.s_pub, e),
			 0);
	randombytes_buf(e, sizeof(e));
	assert_int_equal(salvo_noise_init(&resp, SALVO_NOISE_RESPONDER,
					  PROLOGUE, PROLOGUE_LEN, b.s, NULL, e),
			 0);
	assert_int_equal(
	    salvo_noise_write_msg1(&ini, NULL, 0, m1, sizeof(m1), &l1), 0);
	assert_int_equal(
	    salvo_noise_read_msg1(&resp, m1, l1, got, sizeof(got), &gl),
	    SALVO_ERR_AUTH);
}

/* As WireGuard: message 1 carries a stamp; the responder keeps the newest
 * per initiator key and refuses one that is not newer, so a recorded
 * message 1 replayed later (which Noise itself accepts) opens nothing. */
static int respond(const party *b, const uint8_t *m1, size_t l1,
		   uint8_t last[SALVO_NOISE_STAMP_BYTES])
{
	salvo_noise resp;
	uint8_t e[32], got[64];
	size_t gl;
	randombytes_buf(e, sizeof(e));
	assert_int_equal(salvo_noise_init(&resp, SALVO_NOISE_RESPONDER,
					  PROLOGUE, PROLOGUE_LEN, b->s, NULL,
					  e),
			 0);
	int err = salvo_noise_read_msg1(&resp, m1, l1, got, sizeof(got), &gl);
	salvo_noise_wipe(&resp);
	if (err)
		return err;
	assert_int_equal(gl, SALVO_NOISE_STAMP_BYTES);
	if (!salvo_noise_stamp_is_newer(got, last))
		return SALVO_ERR_REPLAY;
	memcpy(last, got, SALVO_NOISE_STAMP_BYTES);
	return 0;
}

static size_t initiate(const party *a, const party *b, uint64_t wall_ns,
		       uint8_t *m1, size_t cap)
{
	salvo_noise ini;
	uint8_t e[32], stamp[SALVO_NOISE_STAMP_BYTES];
	size_t l1;
	randombytes_buf(e, sizeof(e));
	assert_int_equal(salvo_noise_init(&ini, SALVO_NOISE_INITIATOR, PROLOGUE,
					  PROLOGUE_LEN, a->s, b->s_pub, e),
			 0);
	salvo_noise_stamp(stamp, wall_ns);
	assert_int_equal(
	    salvo_noise_write_msg1(&ini, stamp, sizeof(stamp), m1, cap, &l1),
	    0);
	salvo_noise_wipe(&ini);
	return l1;
}

static void test_replayed_msg1(void **state)
{
	(void)state;
	party a, b;
	uint8_t m1[128], m1b[128], last[SALVO_NOISE_STAMP_BYTES] = {0};
	uint64_t t = UINT64_C(1754000000) * 1000000000u; /* 2025 */

	keypair(a.s, a.s_pub);
	keypair(b.s, b.s_pub);
	size_t l1 = initiate(&a, &b, t, m1, sizeof(m1));
	assert_int_equal(respond(&b, m1, l1, last), 0);
	assert_int_equal(respond(&b, m1, l1, last), SALVO_ERR_REPLAY);
	/* within the stamp's 2^24 ns granularity: not newer either */
	size_t l1b = initiate(&a, &b, t + 1000000, m1b, sizeof(m1b));
	assert_int_equal(respond(&b, m1b, l1b, last), SALVO_ERR_REPLAY);
	l1b = initiate(&a, &b, t + 20000000, m1b, sizeof(m1b));
	assert_int_equal(respond(&b, m1b, l1b, last), 0);
	/* the older one, replayed after the newer, stays refused */
	assert_int_equal(respond(&b, m1, l1, last), SALVO_ERR_REPLAY);
}

static void test_stamp(void **state)
{
	(void)state;
	uint8_t a[12], b[12];
	salvo_noise_stamp(a, 0);
	assert_int_equal(a[0], 0x40); /* TAI64 label 2^62 */
	salvo_noise_stamp(a, UINT64_C(1) * 1000000000u + 999999999u);
	salvo_noise_stamp(b, UINT64_C(2) * 1000000000u);
	assert_true(salvo_noise_stamp_is_newer(b, a));
	assert_false(salvo_noise_stamp_is_newer(a, b));
	assert_false(salvo_noise_stamp_is_newer(a, a));
	/* nanoseconds rounded down to 2^24 */
	salvo_noise_stamp(a, (1u << 24) - 1);
	salvo_noise_stamp(b, 0);
	assert_memory_equal(a, b, 12);
	salvo_noise_stamp(a, 1u << 24);
	assert_true(salvo_noise_stamp_is_newer(a, b));
}

static void test_state_machine(void **state)
{
	(void)state;
	party a, b;
	salvo_noise ini, resp;
	uint8_t m[256], got[64], k1[32], k2[32], zero[32] = {0};
	size_t l, gl;

	keypair(a.s, a.s_pub);
	keypair(b.s, b.s_pub);
	assert_int_equal(salvo_noise_init(&ini, SALVO_NOISE_INITIATOR, PROLOGUE,
					  PROLOGUE_LEN, a.s, NULL, a.s),
			 SALVO_ERR_INVAL);
	assert_int_equal(
	    salvo_noise_init(&ini, 7, PROLOGUE, PROLOGUE_LEN, a.s, NULL, a.s),
	    SALVO_ERR_INVAL);
	/* X25519 clamps, so no private key gives the zero point; a
	 * low-order peer key (here: zero) fails the DH */
	start(&ini, &resp, &a, &b, zero);
	assert_int_equal(
	    salvo_noise_write_msg1(&ini, NULL, 0, m, sizeof(m), &l),
	    SALVO_ERR_KEY);

	start(&ini, &resp, &a, &b, b.s_pub);
	assert_int_equal(
	    salvo_noise_write_msg2(&resp, NULL, 0, m, sizeof(m), &l),
	    SALVO_ERR_STATE);
	assert_int_equal(
	    salvo_noise_read_msg2(&ini, m, 48, got, sizeof(got), &gl),
	    SALVO_ERR_STATE);
	assert_int_equal(
	    salvo_noise_read_msg1(&ini, m, 96, got, sizeof(got), &gl),
	    SALVO_ERR_STATE);
	assert_int_equal(
	    salvo_noise_write_msg1(&resp, NULL, 0, m, sizeof(m), &l),
	    SALVO_ERR_STATE);
	assert_int_equal(salvo_noise_split(&ini, k1, k2, NULL),
			 SALVO_ERR_STATE);
	assert_int_equal(salvo_noise_write_msg1(&ini, NULL, 0, m, 95, &l),
			 SALVO_ERR_TOOBIG);
	assert_int_equal(
	    salvo_noise_write_msg1(&ini, m, 65535 - 95, m, (size_t)-1, &l),
	    SALVO_ERR_TOOBIG);
	assert_int_equal(salvo_noise_write_msg1(&ini, (const uint8_t *)"abcd",
						4, m, sizeof(m), &l),
			 0);
	assert_int_equal(
	    salvo_noise_write_msg1(&ini, NULL, 0, m + 128, 128, &l),
	    SALVO_ERR_STATE);
	/* payload larger than the caller's buffer */
	assert_int_equal(salvo_noise_read_msg1(&resp, m, 100, got, 3, &gl),
			 SALVO_ERR_TOOBIG);
	assert_int_equal(salvo_noise_read_msg1(&resp, m, 100, got, 4, &gl), 0);
	assert_int_equal(salvo_noise_read_msg1(&resp, m, 100, got, 4, &gl),
			 SALVO_ERR_STATE);
	salvo_noise_wipe(&ini);
	assert_int_equal(salvo_noise_read_msg2(&ini, m, 48, got, 4, &gl),
			 SALVO_ERR_STATE);
}

/* ------------------------------------------------------------ cookies */

static salvo_addr addr_of(uint8_t last)
{
	salvo_addr a = {0};
	a.len = 6;
	a.bytes[0] = 192;
	a.bytes[1] = 0;
	a.bytes[2] = 2;
	a.bytes[3] = last;
	a.bytes[4] = 0x1c;
	a.bytes[5] = 0xe8;
	a.host_len = 4;
	memcpy(a.host, a.bytes, 4);
	return a;
}

#define S_NS UINT64_C(1000000000)

static void test_cookie_mac1(void **state)
{
	(void)state;
	party b, c;
	salvo_cookie_checker chk;
	salvo_cookie_maker mk, wrong;
	uint8_t msg[128 + SALVO_COOKIE_MACS_BYTES];
	salvo_addr from = addr_of(7);

	keypair(b.s, b.s_pub);
	keypair(c.s, c.s_pub);
	salvo_cookie_checker_init(&chk, b.s_pub);
	salvo_cookie_maker_init(&mk, b.s_pub);
	salvo_cookie_maker_init(&wrong, c.s_pub);
	memset(msg, 0xab, 128);
	assert_int_equal(salvo_cookie_add_macs(&mk, msg, 128, 159, 0),
			 SALVO_ERR_TOOBIG);
	assert_int_equal(salvo_cookie_add_macs(&mk, msg, 128, sizeof(msg), 0),
			 0);
	/* no cookie yet: mac2 is zero */
	for (int i = 0; i < 16; i++)
		assert_int_equal(msg[128 + 16 + i], 0);
	assert_int_equal(
	    salvo_cookie_check(&chk, msg, sizeof(msg), &from, 0, 0), 0);
	/* any changed byte of the body or mac1 fails mac1 */
	for (size_t i = 0; i < 128 + 16; i++) {
		msg[i] ^= 0x20;
		assert_int_equal(
		    salvo_cookie_check(&chk, msg, sizeof(msg), &from, 0, 0),
		    SALVO_ERR_AUTH);
		msg[i] ^= 0x20;
	}
	assert_int_equal(salvo_cookie_check(&chk, msg, 31, &from, 0, 0),
			 SALVO_ERR_TRUNCATED);
	/* made for another responder's key */
	assert_int_equal(
	    salvo_cookie_add_macs(&wrong, msg, 128, sizeof(msg), 0), 0);
	assert_int_equal(
	    salvo_cookie_check(&chk, msg, sizeof(msg), &from, 0, 0),
	    SALVO_ERR_AUTH);
}

static void test_cookie_under_load(void **state)
{
	(void)state;
	party b;
	salvo_cookie_checker chk;
	salvo_cookie_maker mk;
	uint8_t msg[100 + SALVO_COOKIE_MACS_BYTES], reply[56], nonce[24];
	uint8_t secret[32];
	salvo_addr from = addr_of(7), other = addr_of(8);
	uint64_t now = 1000 * S_NS;

	keypair(b.s, b.s_pub);
	salvo_cookie_checker_init(&chk, b.s_pub);
	salvo_cookie_maker_init(&mk, b.s_pub);
	memset(msg, 0x11, 100);
	assert_int_equal(salvo_cookie_add_macs(&mk, msg, 100, sizeof(msg), now),
			 0);
	/* no secret yet: a cookie is needed, and a reply needs a secret */
	assert_true(salvo_cookie_checker_needs_secret(&chk, now));
	assert_int_equal(
	    salvo_cookie_check(&chk, msg, sizeof(msg), &from, now, 1),
	    SALVO_ERR_COOKIE);
	randombytes_buf(nonce, sizeof(nonce));
	assert_int_equal(salvo_cookie_reply(&chk, msg, sizeof(msg), &from, now,
					    nonce, reply),
			 SALVO_ERR_STATE);
	randombytes_buf(secret, sizeof(secret));
	salvo_cookie_checker_set_secret(&chk, secret, now);
	assert_false(salvo_cookie_checker_needs_secret(&chk, now));
	assert_int_equal(
	    salvo_cookie_check(&chk, msg, sizeof(msg), &from, now, 1),
	    SALVO_ERR_COOKIE);
	assert_int_equal(salvo_cookie_reply(&chk, msg, sizeof(msg), &from, now,
					    nonce, reply),
			 0);
	assert_true(SALVO_COOKIE_REPLY_BYTES < sizeof(msg)); /* no amplif. */

	/* a forged or altered reply is refused */
	for (size_t i = 0; i < sizeof(reply); i++) {
		reply[i] ^= 1;
		assert_int_equal(
		    salvo_cookie_take_reply(&mk, reply, sizeof(reply), now),
		    SALVO_ERR_AUTH);
		reply[i] ^= 1;
	}
	assert_int_equal(salvo_cookie_take_reply(&mk, reply, 55, now),
			 SALVO_ERR_TRUNCATED);
	assert_int_equal(
	    salvo_cookie_take_reply(&mk, reply, sizeof(reply), now), 0);

	/* the message again, now with mac2: accepted under load */
	now += S_NS;
	assert_int_equal(salvo_cookie_add_macs(&mk, msg, 100, sizeof(msg), now),
			 0);
	assert_int_equal(
	    salvo_cookie_check(&chk, msg, sizeof(msg), &from, now, 1), 0);
	/* from another address (port or host), the cookie does not fit */
	assert_int_equal(
	    salvo_cookie_check(&chk, msg, sizeof(msg), &other, now, 1),
	    SALVO_ERR_COOKIE);
	/* a cookie reply for another message cannot be used */
	salvo_cookie_maker mk2;
	salvo_cookie_maker_init(&mk2, b.s_pub);
	uint8_t msg2[100 + 32];
	memset(msg2, 0x22, 100);
	assert_int_equal(
	    salvo_cookie_take_reply(&mk2, reply, sizeof(reply), now),
	    SALVO_ERR_STATE);
	assert_int_equal(
	    salvo_cookie_add_macs(&mk2, msg2, 100, sizeof(msg2), now), 0);
	assert_int_equal(
	    salvo_cookie_take_reply(&mk2, reply, sizeof(reply), now),
	    SALVO_ERR_AUTH);

	/* after the secret's 2 minutes it must be renewed; the old cookie
	 * then fails and the initiator stops using it after 115 s */
	now += SALVO_COOKIE_SECRET_MAX_AGE_NS;
	assert_true(salvo_cookie_checker_needs_secret(&chk, now));
	randombytes_buf(secret, sizeof(secret));
	salvo_cookie_checker_set_secret(&chk, secret, now);
	assert_int_equal(salvo_cookie_add_macs(&mk, msg, 100, sizeof(msg), now),
			 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(msg[100 + 16 + i], 0);
	assert_int_equal(
	    salvo_cookie_check(&chk, msg, sizeof(msg), &from, now, 1),
	    SALVO_ERR_COOKIE);
	/* not under load, mac1 alone suffices */
	assert_int_equal(
	    salvo_cookie_check(&chk, msg, sizeof(msg), &from, now, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_both_ways),
	    cmocka_unit_test(test_tampered_msg1),
	    cmocka_unit_test(test_tampered_msg2),
	    cmocka_unit_test(test_wrong_responder_key),
	    cmocka_unit_test(test_wrong_prologue),
	    cmocka_unit_test(test_replayed_msg1),
	    cmocka_unit_test(test_stamp),
	    cmocka_unit_test(test_state_machine),
	    cmocka_unit_test(test_cookie_mac1),
	    cmocka_unit_test(test_cookie_under_load),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
