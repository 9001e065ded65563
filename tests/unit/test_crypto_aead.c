/*
 * Packet protection and the replay window: round trips for both ciphers
 * at the sizes salvo sends, the nonce layout and lane keys checked against
 * libsodium called directly, every flipped bit of header, payload and tag
 * refused without moving the window, packet numbers that never repeat,
 * the rekey limits, the suite choice; the window in order, reordered,
 * too old, duplicated, after long jumps, and against a simple model on
 * random sequences (seeded: SALVO_TEST_SEED replays).  Last, seal+open
 * throughput of both ciphers on 1448- and 8972-byte payloads, printed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/core/error.h"
#include "common/crypto/aead.h"
#include "common/crypto/replay.h"
#include "tests/helpers/testrand.h"

static int setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

static const int suites[] = {SALVO_AEAD_CHACHA20_POLY1305,
			     SALVO_AEAD_AES256_GCM};

static int have(int suite)
{
	if (salvo_aead_local_suites() & SALVO_AEAD_MASK(suite))
		return 1;
	print_message("AES-256-GCM: no AES-NI on this CPU, not tested\n");
	return 0;
}

static void pair(salvo_aead *tx, salvo_aead *rx, int suite, uint64_t lane)
{
	uint8_t key[32];
	memset(key, 0x5a, sizeof(key));
	assert_int_equal(salvo_aead_init(tx, suite, key, lane), 0);
	assert_int_equal(salvo_aead_init(rx, suite, key, lane), 0);
}

static void test_round_trip(void **state)
{
	(void)state;
	static const size_t lens[] = {0, 1, 15, 16, 17, 1448, 8972};
	static uint8_t buf[9000], plain[9000];
	uint8_t hdr[24];

	for (size_t s = 0; s < 2; s++) {
		if (!have(suites[s]))
			continue;
		salvo_aead tx, rx;
		salvo_replay win;
		pair(&tx, &rx, suites[s], 3);
		salvo_replay_init(&win);
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			size_t len = lens[i], got = 0;
			uint64_t pn = salvo_aead_next_pn(&tx);
			for (size_t j = 0; j < len; j++)
				plain[j] = (uint8_t)(j * 7 + i);
			memcpy(buf, plain, len);
			memset(hdr, (int)i, sizeof(hdr));
			assert_int_equal(salvo_aead_seal(&tx, pn, hdr,
							 sizeof(hdr), buf, len),
					 0);
			if (len >= 16)
				assert_memory_not_equal(buf, plain, len);
			assert_int_equal(salvo_aead_open(&rx, &win, pn, hdr,
							 sizeof(hdr), buf,
							 len + 16, &got),
					 0);
			assert_int_equal(got, len);
			assert_memory_equal(buf, plain, len);
		}
		assert_int_equal(tx.packets, 7);
		assert_int_equal(rx.packets, 7);
		salvo_aead_free(&tx);
		salvo_aead_free(&rx);
	}
}

/* The lane key is crypto_kdf(key, lane, "salvo3pk") and the nonce the
 * packet number big-endian in bytes 4..11: checked by sealing the same
 * packet with libsodium directly. */
static void test_nonce_and_lanes(void **state)
{
	(void)state;
	uint8_t key[32], sub[32], nonce[12] = {0}, a[64 + 16], b[64 + 16];
	uint8_t hdr[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	uint64_t pn = UINT64_C(0x3a0708); /* in epoch 0 */
	salvo_aead tx, other;

	randombytes_buf(key, sizeof(key));
	assert_int_equal(
	    salvo_aead_init(&tx, SALVO_AEAD_CHACHA20_POLY1305, key, 9), 0);
	crypto_kdf_derive_from_key(sub, 32, 9, "salvo3pk", key);
	memset(a, 0x33, 64);
	memcpy(b, a, 64);
	assert_int_equal(salvo_aead_seal(&tx, pn, hdr, 8, a, 64), 0);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(pn >> (56 - 8 * i));
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(
	    b, b + 64, NULL, b, 64, hdr, 8, NULL, nonce, sub);
	assert_memory_equal(a, b, sizeof(a));
	if (have(SALVO_AEAD_AES256_GCM)) {
		assert_int_equal(
		    salvo_aead_init(&tx, SALVO_AEAD_AES256_GCM, key, 9), 0);
		memset(a, 0x33, 64);
		memcpy(b, a, 64);
		assert_int_equal(salvo_aead_seal(&tx, pn, hdr, 8, a, 64), 0);
		crypto_aead_aes256gcm_encrypt_detached(
		    b, b + 64, NULL, b, 64, hdr, 8, NULL, nonce, sub);
		assert_memory_equal(a, b, sizeof(a));
	}
	/* epoch 1 (and 2): the key is one crypto_kdf step from the last,
	 * subkey id the new epoch, context "salvo3rk" */
	uint8_t ek[32];
	assert_int_equal(
	    salvo_aead_init(&tx, SALVO_AEAD_CHACHA20_POLY1305, key, 9), 0);
	memcpy(ek, sub, 32);
	for (uint64_t e = 1; e <= 2; e++) {
		uint64_t epn = (e << SALVO_AEAD_EPOCH_SHIFT) + 7;
		crypto_kdf_derive_from_key(ek, 32, e, "salvo3rk", ek);
		memset(a, 0x33, 64);
		memcpy(b, a, 64);
		assert_int_equal(salvo_aead_seal(&tx, epn, hdr, 8, a, 64), 0);
		for (int i = 0; i < 8; i++)
			nonce[4 + i] = (uint8_t)(epn >> (56 - 8 * i));
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(
		    b, b + 64, NULL, b, 64, hdr, 8, NULL, nonce, ek);
		assert_memory_equal(a, b, sizeof(a));
	}
	/* another lane: another key, the packet does not open */
	assert_int_equal(
	    salvo_aead_init(&tx, SALVO_AEAD_CHACHA20_POLY1305, key, 1), 0);
	assert_int_equal(
	    salvo_aead_init(&other, SALVO_AEAD_CHACHA20_POLY1305, key, 2), 0);
	size_t got;
	memset(a, 0x33, 64);
	assert_int_equal(salvo_aead_seal(&tx, 0, hdr, 8, a, 64), 0);
	assert_int_equal(salvo_aead_open(&other, NULL, 0, hdr, 8, a, 80, &got),
			 SALVO_ERR_AUTH);
	assert_int_equal(salvo_aead_init(&tx, 3, key, 1), SALVO_ERR_INVAL);
}

static void test_flipped_bits(void **state)
{
	(void)state;
	uint8_t hdr[24], pkt[64 + 16], sealed[64 + 16];
	size_t got;

	for (size_t s = 0; s < 2; s++) {
		if (!have(suites[s]))
			continue;
		salvo_aead tx, rx;
		salvo_replay win;
		pair(&tx, &rx, suites[s], 0);
		salvo_replay_init(&win);
		memset(hdr, 0xc3, sizeof(hdr));
		memset(sealed, 0x3c, 64);
		assert_int_equal(
		    salvo_aead_seal(&tx, 41, hdr, sizeof(hdr), sealed, 64), 0);
		/* bits of the header, then of ciphertext and tag */
		for (size_t bit = 0; bit < (sizeof(hdr) + sizeof(pkt)) * 8;
		     bit++) {
			uint8_t *p = bit < sizeof(hdr) * 8
					 ? hdr + bit / 8
					 : pkt + bit / 8 - sizeof(hdr);
			memcpy(pkt, sealed, sizeof(pkt));
			*p ^= (uint8_t)(1u << (bit % 8));
			int err =
			    salvo_aead_open(&rx, &win, 41, hdr, sizeof(hdr),
					    pkt, sizeof(pkt), &got);
			if (bit < sizeof(hdr) * 8)
				*p ^= (uint8_t)(1u << (bit % 8));
			if (err != SALVO_ERR_AUTH)
				fail_msg("suite %d bit %zu: %d", suites[s], bit,
					 err);
			/* no unverified plaintext is left behind */
			for (size_t i = 0; i < 64; i++)
				assert_int_equal(pkt[i], 0);
		}
		assert_int_equal(rx.forgeries, (sizeof(hdr) + sizeof(pkt)) * 8);
		/* another packet number is another nonce */
		memcpy(pkt, sealed, sizeof(pkt));
		assert_int_equal(salvo_aead_open(&rx, &win, 40, hdr,
						 sizeof(hdr), pkt, sizeof(pkt),
						 &got),
				 SALVO_ERR_AUTH);
		/* none of it moved the window: 41 is still fresh */
		assert_int_equal(win.top, 0);
		memcpy(pkt, sealed, sizeof(pkt));
		assert_int_equal(salvo_aead_open(&rx, &win, 41, hdr,
						 sizeof(hdr), pkt, sizeof(pkt),
						 &got),
				 0);
		/* and now it is a replay, refused before any crypto */
		memcpy(pkt, sealed, sizeof(pkt));
		uint64_t forgeries = rx.forgeries;
		assert_int_equal(salvo_aead_open(&rx, &win, 41, hdr,
						 sizeof(hdr), pkt, sizeof(pkt),
						 &got),
				 SALVO_ERR_REPLAY);
		assert_int_equal(rx.forgeries, forgeries);
		assert_int_equal(salvo_aead_open(&rx, &win, 42, hdr,
						 sizeof(hdr), pkt, 15, &got),
				 SALVO_ERR_TRUNCATED);
	}
}

/* A forged packet with a far-ahead number does not move the window, so
 * it cannot push real packets out as "too old". */
static void test_window_after_tag_only(void **state)
{
	(void)state;
	salvo_aead tx, rx;
	salvo_replay win;
	uint8_t hdr[4] = {0}, pkt[32 + 16];
	size_t got;

	pair(&tx, &rx, SALVO_AEAD_CHACHA20_POLY1305, 0);
	salvo_replay_init(&win);
	memset(pkt, 0, sizeof(pkt));
	assert_int_equal(
	    salvo_aead_open(&rx, &win, 1000000, hdr, 4, pkt, sizeof(pkt), &got),
	    SALVO_ERR_AUTH);
	memset(pkt, 1, 32);
	assert_int_equal(salvo_aead_seal(&tx, 5, hdr, 4, pkt, 32), 0);
	assert_int_equal(
	    salvo_aead_open(&rx, &win, 5, hdr, 4, pkt, sizeof(pkt), &got), 0);
}

static void test_pn_never_repeats(void **state)
{
	(void)state;
	salvo_aead tx, rx;
	uint8_t buf[32];

	pair(&tx, &rx, SALVO_AEAD_CHACHA20_POLY1305, 0);
	assert_int_equal(salvo_aead_seal(&tx, 5, NULL, 0, buf, 16), 0);
	assert_int_equal(salvo_aead_next_pn(&tx), 6);
	assert_int_equal(salvo_aead_seal(&tx, 5, NULL, 0, buf, 16),
			 SALVO_ERR_STATE);
	assert_int_equal(salvo_aead_seal(&tx, 0, NULL, 0, buf, 16),
			 SALVO_ERR_STATE);
	assert_int_equal(salvo_aead_seal(&tx, 6, NULL, 0, buf, 16), 0);
	assert_int_equal(tx.packets, 2);
}

static void test_limits(void **state)
{
	(void)state;
	salvo_aead tx, rx;
	uint8_t buf[64];
	size_t got;

	for (size_t s = 0; s < 2; s++) {
		if (!have(suites[s]))
			continue;
		int gcm = suites[s] == SALVO_AEAD_AES256_GCM;
		pair(&tx, &rx, suites[s], 0);
		assert_false(salvo_aead_needs_rekey(&tx));
		/* blocks: GCM only, a safety net epochs never reach */
		tx.blocks = SALVO_AEAD_GCM_HARD_BLOCKS - 5;
		assert_int_equal(salvo_aead_seal(&tx, 0, NULL, 0, buf, 64),
				 gcm ? SALVO_ERR_REKEY : 0);
		tx.blocks = 0;
		/* packet numbers (the epoch set by hand: sealing walks
		 * one epoch at a time) */
		tx.next_pn = SALVO_AEAD_SOFT_PACKETS;
		assert_true(salvo_aead_needs_rekey(&tx));
		tx.epoch =
		    (SALVO_AEAD_HARD_PACKETS - 1) >> SALVO_AEAD_EPOCH_SHIFT;
		assert_int_equal(salvo_aead_seal(&tx, SALVO_AEAD_HARD_PACKETS,
						 NULL, 0, buf, 16),
				 SALVO_ERR_REKEY);
		assert_int_equal(salvo_aead_seal(&tx,
						 SALVO_AEAD_HARD_PACKETS - 1,
						 NULL, 0, buf, 16),
				 0);
		assert_int_equal(salvo_aead_open(&rx, NULL,
						 SALVO_AEAD_HARD_PACKETS, NULL,
						 0, buf, 32, &got),
				 SALVO_ERR_REPLAY);
		/* forgeries */
		uint64_t soft = gcm ? SALVO_AEAD_GCM_SOFT_FORGERIES
				    : SALVO_AEAD_CHACHA_SOFT_FORGERIES;
		uint64_t hard = gcm ? SALVO_AEAD_GCM_HARD_FORGERIES
				    : SALVO_AEAD_CHACHA_HARD_FORGERIES;
		rx.forgeries = soft - 1;
		assert_false(salvo_aead_needs_rekey(&rx));
		rx.forgeries = soft;
		assert_true(salvo_aead_needs_rekey(&rx));
		rx.forgeries = hard;
		assert_int_equal(
		    salvo_aead_open(&rx, NULL, 0, NULL, 0, buf, 32, &got),
		    SALVO_ERR_REKEY);
	}
}

/* Seals packet pn of 40 bytes (payload byte = pn's low byte) into buf. */
static void seal_pn(salvo_aead *tx, uint64_t pn, uint8_t buf[56])
{
	uint8_t hdr[8];
	for (int i = 0; i < 8; i++)
		hdr[i] = (uint8_t)(pn >> (8 * i));
	memset(buf, (int)(pn & 0xff), 40);
	assert_int_equal(salvo_aead_seal(tx, pn, hdr, sizeof(hdr), buf, 40), 0);
}

static int open_pn(salvo_aead *rx, salvo_replay *w, uint64_t pn,
		   uint8_t buf[56])
{
	uint8_t hdr[8];
	size_t got = 0;
	for (int i = 0; i < 8; i++)
		hdr[i] = (uint8_t)(pn >> (8 * i));
	int err = salvo_aead_open(rx, w, pn, hdr, sizeof(hdr), buf, 56, &got);
	if (!err) {
		assert_int_equal(got, 40);
		for (int i = 0; i < 40; i++)
			assert_int_equal(buf[i], (uint8_t)(pn & 0xff));
	}
	return err;
}

/* Keys rotate every SALVO_AEAD_EPOCH_PACKETS packet numbers with no
 * message: a sender crossing two boundaries, a receiver that gets
 * packets reordered across them, refuses numbers two epochs away without
 * moving, and is not moved by a forged packet of the next epoch; the
 * epoch-1 key differs from the lane key (a packet sealed under one does
 * not open under the other); the sealer forgets old keys. */
static void test_epochs(void **state)
{
	(void)state;
	const uint64_t E = SALVO_AEAD_EPOCH_PACKETS;
	for (size_t s = 0; s < 2; s++) {
		if (!have(suites[s]))
			continue;
		salvo_aead tx, rx, stale;
		salvo_replay w;
		uint8_t a[56], b[56], c[56], d[56];
		salvo_replay_init(&w);
		pair(&tx, &rx, suites[s], 3);
		stale = tx;

		seal_pn(&tx, E - 2, a);
		seal_pn(&tx, E - 1, b);
		seal_pn(&tx, E, c); /* epoch 1 */
		assert_int_equal(tx.epoch, 1);
		assert_int_equal(tx.rekeys, 1);
		assert_false(tx.has_prev); /* the sealer keeps no old key */
		/* a forged packet claiming epoch 1 does not move rx */
		memcpy(d, c, sizeof(d));
		d[0] ^= 1;
		assert_int_equal(open_pn(&rx, &w, E, d), SALVO_ERR_AUTH);
		assert_int_equal(rx.epoch, 0);
		/* a real one does; then epoch 0 still opens, reordered */
		assert_int_equal(open_pn(&rx, &w, E, c), 0);
		assert_int_equal(rx.epoch, 1);
		assert_int_equal(open_pn(&rx, &w, E - 1, b), 0);
		assert_int_equal(open_pn(&rx, &w, E - 2, a), 0);

		/* two epochs ahead: refused, nothing moves */
		salvo_aead far = tx; /* epoch 1 */
		assert_int_equal(salvo_aead_seal(&far, 3 * E, NULL, 0, a, 40),
				 SALVO_ERR_STATE);
		assert_int_equal(far.epoch, 1);
		assert_int_equal(far.next_pn, E + 1);
		assert_int_equal(open_pn(&rx, &w, 3 * E, a), SALVO_ERR_REPLAY);
		assert_int_equal(rx.epoch, 1);

		/* into epoch 2: epoch 0 is forgotten, epoch 1 kept */
		seal_pn(&tx, 2 * E - 1, a);
		seal_pn(&tx, 2 * E + 5, b);
		assert_int_equal(tx.epoch, 2);
		assert_int_equal(open_pn(&rx, &w, 2 * E + 5, b), 0);
		assert_int_equal(rx.epoch, 2);
		assert_int_equal(open_pn(&rx, &w, 2 * E - 1, a), 0);
		seal_pn(&stale, E - 3, c); /* epoch 0, within the window */
		assert_int_equal(open_pn(&rx, &w, E - 3, c), SALVO_ERR_REPLAY);
		assert_int_equal(rx.rekeys, 2);
		assert_int_equal(rx.forgeries, 1);
		salvo_aead_free(&tx);
		salvo_aead_free(&rx);
		salvo_aead_free(&stale);
		salvo_aead_free(&far);
	}
}

static void test_choose(void **state)
{
	(void)state;
	unsigned c = SALVO_AEAD_MASK(SALVO_AEAD_CHACHA20_POLY1305);
	unsigned g = SALVO_AEAD_MASK(SALVO_AEAD_AES256_GCM);
	assert_int_equal(salvo_aead_choose(c | g, c | g),
			 SALVO_AEAD_AES256_GCM);
	assert_int_equal(salvo_aead_choose(c | g, c),
			 SALVO_AEAD_CHACHA20_POLY1305);
	assert_int_equal(salvo_aead_choose(c, c | g),
			 SALVO_AEAD_CHACHA20_POLY1305);
	assert_int_equal(salvo_aead_choose(g, c), SALVO_ERR_AUTH);
	assert_int_equal(salvo_aead_choose(0, c | g), SALVO_ERR_AUTH);
	assert_true(salvo_aead_local_suites() & c);
}

/* ------------------------------------------------------------- replay */

static void test_replay_basic(void **state)
{
	(void)state;
	salvo_replay r;
	salvo_replay_init(&r);
	/* in order */
	for (uint64_t n = 0; n < 100; n++)
		assert_int_equal(salvo_replay_update(&r, n), 0);
	/* duplicates */
	for (uint64_t n = 0; n < 100; n++)
		assert_int_equal(salvo_replay_update(&r, n), SALVO_ERR_REPLAY);
	/* reordered within the window */
	assert_int_equal(salvo_replay_update(&r, 5000), 0);
	assert_int_equal(salvo_replay_check(&r, 4000), 0);
	assert_int_equal(salvo_replay_update(&r, 4000), 0);
	assert_int_equal(salvo_replay_update(&r, 4000), SALVO_ERR_REPLAY);
	assert_int_equal(salvo_replay_update(&r, 100), 0);
	/* the window's edge: 5000 - 8127 is the oldest still accepted */
	assert_int_equal(salvo_replay_update(&r, 12000), 0);
	uint64_t oldest = 12000 + 1 - SALVO_REPLAY_WINDOW;
	assert_int_equal(salvo_replay_check(&r, oldest - 1), SALVO_ERR_REPLAY);
	assert_int_equal(salvo_replay_update(&r, oldest), 0);
	assert_int_equal(salvo_replay_update(&r, oldest), SALVO_ERR_REPLAY);
	assert_int_equal(salvo_replay_check(&r, 5000), SALVO_ERR_REPLAY);
	assert_true(SALVO_REPLAY_WINDOW >= 2048);
	/* a jump past the whole map clears it */
	assert_int_equal(salvo_replay_update(&r, 1000000), 0);
	for (uint64_t n = 1000000 - SALVO_REPLAY_WINDOW + 1; n < 1000000; n++)
		assert_int_equal(salvo_replay_check(&r, n), 0);
	assert_int_equal(salvo_replay_check(&r, 12000), SALVO_ERR_REPLAY);
	assert_int_equal(salvo_replay_check(&r, UINT64_MAX), SALVO_ERR_REPLAY);
	assert_int_equal(salvo_replay_update(&r, UINT64_MAX - 1), 0);
}

/* Random sequences against a model: a number is fresh iff never accepted
 * and within the window of the highest accepted. */
static void test_replay_model(void **state)
{
	(void)state;
	uint64_t seed = testrand_seed();
	salvo_testrand rnd = {seed};
	enum { SPAN = 40000 };
	static uint8_t seen[SPAN];
	salvo_replay r;

	for (int round = 0; round < 20; round++) {
		memset(seen, 0, sizeof(seen));
		salvo_replay_init(&r);
		uint64_t high = 0;
		int any = 0;
		uint64_t base = 0;
		for (int i = 0; i < 20000; i++) {
			uint64_t n;
			switch (testrand_below(&rnd, 4)) {
			case 0: /* next */
				n = any ? high + 1 : 0;
				break;
			case 1: /* a little back */
				n = high > 100
					? high - testrand_below(&rnd, 100)
					: 0;
				break;
			case 2: /* near the window's edge */
				n = high + 64 - testrand_below(&rnd, 8300);
				n = n > high + 64 ? 0 : n;
				break;
			default: /* ahead */
				n = high + testrand_below(&rnd, 300);
				break;
			}
			if (n - base >= SPAN)
				continue;
			int fresh =
			    !seen[n - base] && (!any || n > high ||
						high - n < SALVO_REPLAY_WINDOW);
			int err = salvo_replay_update(&r, n);
			if ((err == 0) != fresh)
				fail_msg("seed %llu round %d step %d: n %llu "
					 "high %llu: got %d",
					 (unsigned long long)seed, round, i,
					 (unsigned long long)n,
					 (unsigned long long)high, err);
			if (fresh) {
				seen[n - base] = 1;
				if (!any || n > high)
					high = n;
				any = 1;
			}
		}
	}
}

/* ---------------------------------------------------------- throughput */

/* Opening outside the owner's lock (key_for, open_with, commit): a good
 * packet commits once, moving the window; a tampered one is zeroed,
 * counted as a forgery and moves nothing; a replay is refused at the
 * commit; a key copy that is no longer the lane's (another lane's,
 * another epoch's, or the previous epoch's after two rekeys) is refused
 * without counting; a packet of the next epoch is not for the copy. */
static void test_open_outside_lock(void **state)
{
	(void)state;
	const uint64_t E = SALVO_AEAD_EPOCH_PACKETS;
	for (size_t s = 0; s < 2; s++) {
		if (!have(suites[s]))
			continue;
		salvo_aead tx, rx, other, otx;
		salvo_replay w;
		salvo_aead_key k, ko;
		uint8_t a[56], b[56], hdr[8] = {0};
		size_t got = 0;
		salvo_replay_init(&w);
		pair(&tx, &rx, suites[s], 1);
		pair(&otx, &other, suites[s], 2);
		assert_int_equal(salvo_aead_key_for(&rx, 0, &k), 0);
		assert_int_equal(salvo_aead_key_for(&rx, 1, &ko),
				 SALVO_ERR_STATE);
		assert_int_equal(salvo_aead_key_for(&other, 0, &ko), 0);

		seal_pn(&tx, 7, a);
		memcpy(b, a, sizeof(b));
		b[3] ^= 0x10; /* tampered body */
		for (int i = 0; i < 8; i++)
			hdr[i] = (uint8_t)(i ? 0 : 7); /* as seal_pn */
		int ra = salvo_aead_open_with(suites[s], &k, 0, 7, hdr, 8, a,
					      56, &got);
		int rb = salvo_aead_open_with(suites[s], &k, 0, 7, hdr, 8, b,
					      56, &got);
		assert_int_equal(ra, 0);
		assert_int_equal(got, 40);
		assert_int_equal(a[0], 7);
		assert_int_equal(rb, SALVO_ERR_AUTH);
		for (int i = 0; i < 40; i++)
			assert_int_equal(b[i], 0); /* never unverified bytes */
		/* the forgery first: counted, the window does not move */
		assert_int_equal(salvo_aead_commit(&rx, &w, 7, &k, rb),
				 SALVO_ERR_AUTH);
		assert_int_equal(rx.forgeries, 1);
		assert_int_equal(salvo_replay_check(&w, 7), 0);
		assert_int_equal(salvo_aead_commit(&rx, &w, 7, &k, ra), 0);
		assert_int_equal(rx.packets, 1);
		assert_int_equal(salvo_replay_check(&w, 7), SALVO_ERR_REPLAY);
		/* the same packet opened twice (two threads): once only */
		assert_int_equal(salvo_aead_commit(&rx, &w, 7, &k, 0),
				 SALVO_ERR_REPLAY);
		/* another lane's key: not this lane's, nothing counted */
		assert_int_equal(salvo_aead_commit(&rx, &w, 8, &ko, 0),
				 SALVO_ERR_STATE);
		assert_int_equal(
		    salvo_aead_commit(&rx, &w, 8, &ko, SALVO_ERR_AUTH),
		    SALVO_ERR_STATE);
		assert_int_equal(rx.forgeries, 1);
		assert_int_equal(salvo_replay_check(&w, 8), 0);
		/* a number of another epoch is not opened with this copy */
		assert_int_equal(salvo_aead_open_with(suites[s], &k, 0, E, hdr,
						      8, a, 56, &got),
				 SALVO_ERR_REPLAY);
		/* after two rekeys epoch 0's copy is stale */
		seal_pn(&tx, E, a);
		assert_int_equal(open_pn(&rx, &w, E, a), 0);
		/* epoch 0 is now the previous one: its copy still commits */
		assert_int_equal(salvo_aead_commit(&rx, &w, E - 5, &k, 0), 0);
		seal_pn(&tx, 2 * E, a);
		assert_int_equal(open_pn(&rx, &w, 2 * E, a), 0);
		assert_int_equal(salvo_aead_key_for(&rx, 0, &ko),
				 SALVO_ERR_STATE);
		assert_int_equal(salvo_aead_commit(&rx, &w, E - 4, &k, 0),
				 SALVO_ERR_STATE);
		assert_int_equal(rx.packets, 4);
		salvo_aead_free(&tx);
		salvo_aead_free(&rx);
		salvo_aead_free(&otx);
		salvo_aead_free(&other);
		sodium_memzero(&k, sizeof(k));
		sodium_memzero(&ko, sizeof(ko));
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_throughput(void **state)
{
	(void)state;
	static const size_t sizes[] = {1448, 8972};
	static uint8_t buf[8972 + 16];
	uint8_t hdr[24] = {0};

	for (size_t s = 0; s < 2; s++) {
		if (!have(suites[s]))
			continue;
		for (size_t z = 0; z < 2; z++) {
			salvo_aead tx, rx;
			size_t len = sizes[z], got;
			uint64_t bytes = 0, pn = 0;
			pair(&tx, &rx, suites[s], 0);
			memset(buf, 0x77, len);
			double t0 = now_s(), t;
			do {
				for (int i = 0; i < 256; i++, pn++) {
					salvo_aead_seal(&tx, pn, hdr,
							sizeof(hdr), buf, len);
					assert_int_equal(
					    salvo_aead_open(&rx, NULL, pn, hdr,
							    sizeof(hdr), buf,
							    len + 16, &got),
					    0);
					bytes += len;
				}
				t = now_s() - t0;
			} while (t < 0.25);
			print_message("%-18s %5zu-byte payloads: seal+open "
				      "%.2f GB/s (%.0f packets/s)\n",
				      suites[s] == SALVO_AEAD_AES256_GCM
					  ? "AES-256-GCM"
					  : "ChaCha20-Poly1305",
				      len, (double)bytes / t / 1e9,
				      (double)pn / t);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_nonce_and_lanes),
	    cmocka_unit_test(test_flipped_bits),
	    cmocka_unit_test(test_window_after_tag_only),
	    cmocka_unit_test(test_pn_never_repeats),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_epochs),
	    cmocka_unit_test(test_open_outside_lock),
	    cmocka_unit_test(test_choose),
	    cmocka_unit_test(test_replay_basic),
	    cmocka_unit_test(test_replay_model),
	    cmocka_unit_test(test_throughput),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
