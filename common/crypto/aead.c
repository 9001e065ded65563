/*
 * Packet protection: libsodium's detached AEAD calls over a buffer the
 * caller owns, in place.  The AES key schedule is expanded once per lane
 * (crypto_aead_aes256gcm_beforenm) so sealing a datagram costs only the
 * cipher.  The counters exist for the limits: blocks for AES-GCM's
 * confidentiality bound, packets for the nonce space, forgeries for the
 * integrity bounds; each has a soft limit (rekey soon) and a hard one
 * (refuse).  Keys rotate by packet number (epochs, aead.h): the sealer
 * steps forward and forgets, the opener holds the current and previous
 * epoch and derives the next one only to try a packet that claims it,
 * keeping it only when the tag checks, so a forged number cannot move
 * the key.  The null cipher (fuzz builds) keeps every check but the
 * cryptography, so fuzzers see the same control flow.
 */
#include "common/crypto/aead.h"

#include <sodium.h>
#include <string.h>

#include "common/core/error.h"

#ifdef SALVO_NULL_CIPHER
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#error "SALVO_NULL_CIPHER removes all protection: fuzz builds only"
#endif
#include "common/core/bytes.h"
#include "common/core/crc32c.h"
#endif

_Static_assert(sizeof(crypto_aead_aes256gcm_state) <=
		   sizeof(((salvo_aead_key *)0)->aes),
	       "room for libsodium's AES-GCM state");
_Static_assert(crypto_aead_chacha20poly1305_IETF_NPUBBYTES == 12 &&
		   crypto_aead_aes256gcm_NPUBBYTES == 12,
	       "96-bit nonces");

static const char lane_context[crypto_kdf_CONTEXTBYTES] = "salvo3pk";
static const char epoch_context[crypto_kdf_CONTEXTBYTES] = "salvo3rk";

/* An epoch of the largest packets never reaches the hard block limit. */
#define MAX_PACKET_BLOCKS (65536 / 16 + 2)
_Static_assert(SALVO_AEAD_EPOCH_PACKETS *MAX_PACKET_BLOCKS <
		   SALVO_AEAD_GCM_HARD_BLOCKS,
	       "an epoch fits AES-GCM's block budget");

unsigned salvo_aead_local_suites(void)
{
	unsigned m = SALVO_AEAD_MASK(SALVO_AEAD_CHACHA20_POLY1305);
	if (crypto_aead_aes256gcm_is_available())
		m |= SALVO_AEAD_MASK(SALVO_AEAD_AES256_GCM);
	return m;
}

int salvo_aead_choose(unsigned offered, unsigned local)
{
	unsigned both = offered & local;
	if (both & SALVO_AEAD_MASK(SALVO_AEAD_AES256_GCM))
		return SALVO_AEAD_AES256_GCM;
	if (both & SALVO_AEAD_MASK(SALVO_AEAD_CHACHA20_POLY1305))
		return SALVO_AEAD_CHACHA20_POLY1305;
	return SALVO_ERR_AUTH;
}

static int is_gcm(const salvo_aead *a)
{
	return a->suite == SALVO_AEAD_AES256_GCM;
}

static void expand(const salvo_aead *a, salvo_aead_key *k)
{
	if (is_gcm(a))
		crypto_aead_aes256gcm_beforenm(
		    (crypto_aead_aes256gcm_state *)k->aes, k->key);
}

/* Epoch `epoch + 1`'s key from `from` (epoch `epoch`'s), into out. */
static void step(const salvo_aead *a, const salvo_aead_key *from,
		 uint64_t epoch, salvo_aead_key *out)
{
	crypto_kdf_derive_from_key(out->key, sizeof(out->key), epoch + 1,
				   epoch_context, from->key);
	expand(a, out);
}

/* Makes `next` (epoch a->epoch + 1) current; the old current becomes the
 * previous key when keep_prev, else is wiped. */
static void advance(salvo_aead *a, const salvo_aead_key *next, int keep_prev)
{
	if (keep_prev)
		a->prev = a->cur;
	else
		sodium_memzero(&a->prev, sizeof(a->prev));
	a->has_prev = keep_prev;
	a->cur = *next;
	a->epoch++;
	a->blocks = 0;
	a->rekeys++;
}

int salvo_aead_init(salvo_aead *a, int suite,
		    const uint8_t key[SALVO_AEAD_KEY_BYTES], uint64_t lane)
{
	memset(a, 0, sizeof(*a));
	if (suite != SALVO_AEAD_CHACHA20_POLY1305 &&
	    suite != SALVO_AEAD_AES256_GCM)
		return SALVO_ERR_INVAL;
	if (suite == SALVO_AEAD_AES256_GCM &&
	    !crypto_aead_aes256gcm_is_available())
		return SALVO_ERR_INVAL;
	a->suite = suite;
	crypto_kdf_derive_from_key(a->cur.key, sizeof(a->cur.key), lane,
				   lane_context, key);
	expand(a, &a->cur);
	return 0;
}

void salvo_aead_free(salvo_aead *a)
{
	sodium_memzero(a, sizeof(*a));
}

int salvo_aead_needs_rekey(const salvo_aead *a)
{
	return a->next_pn >= SALVO_AEAD_SOFT_PACKETS ||
	       a->packets >= SALVO_AEAD_SOFT_PACKETS ||
	       a->forgeries >= (is_gcm(a) ? SALVO_AEAD_GCM_SOFT_FORGERIES
					  : SALVO_AEAD_CHACHA_SOFT_FORGERIES);
}

static void nonce_of(uint8_t nonce[12], uint64_t pn)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(pn >> (56 - 8 * i));
}

#ifdef SALVO_NULL_CIPHER
static void null_tag(uint8_t tag[SALVO_AEAD_TAG_BYTES], uint64_t pn,
		     const uint8_t *hdr, size_t hdr_len, const uint8_t *data,
		     size_t len)
{
	uint8_t n[12];
	nonce_of(n, pn);
	uint32_t crc = salvo_crc32c(0, n, sizeof(n));
	crc = salvo_crc32c(crc, hdr, hdr_len);
	crc = salvo_crc32c(crc, data, len);
	memset(tag, 0, SALVO_AEAD_TAG_BYTES);
	salvo_put_u32(tag, crc);
}
#endif

int salvo_aead_seal(salvo_aead *a, uint64_t pn, const uint8_t *hdr,
		    size_t hdr_len, uint8_t *data, size_t len)
{
	if (pn < a->next_pn)
		return SALVO_ERR_STATE;
	if (pn >= SALVO_AEAD_HARD_PACKETS)
		return SALVO_ERR_REKEY;
	uint64_t epoch = pn >> SALVO_AEAD_EPOCH_SHIFT;
	if (epoch > a->epoch + 1)
		return SALVO_ERR_STATE;
	if (epoch == a->epoch + 1) {
		salvo_aead_key next;
		step(a, &a->cur, a->epoch, &next);
		advance(a, &next, 0);
		sodium_memzero(&next, sizeof(next));
	}
	uint64_t blocks = (uint64_t)len / 16 + 2; /* +1 partial, +1 tag */
	if (is_gcm(a) && a->blocks + blocks > SALVO_AEAD_GCM_HARD_BLOCKS)
		return SALVO_ERR_REKEY;
	uint8_t nonce[12];
	nonce_of(nonce, pn);
#ifdef SALVO_NULL_CIPHER
	null_tag(data + len, pn, hdr, hdr_len, data, len);
#else
	if (is_gcm(a))
		crypto_aead_aes256gcm_encrypt_detached_afternm(
		    data, data + len, NULL, data, len, hdr, hdr_len, NULL,
		    nonce, (const crypto_aead_aes256gcm_state *)a->cur.aes);
	else
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(
		    data, data + len, NULL, data, len, hdr, hdr_len, NULL,
		    nonce, a->cur.key);
#endif
	a->next_pn = pn + 1;
	a->packets++;
	a->blocks += blocks;
	return 0;
}

/* 1 when the tag of data[0, n) ‖ data[n, n + 16) fails (data zeroed:
 * never hand out unverified plaintext), else 0 (data decrypted). */
static int decrypt(int suite, const salvo_aead_key *k, uint64_t pn,
		   const uint8_t *hdr, size_t hdr_len, uint8_t *data, size_t n)
{
	uint8_t nonce[12];
	nonce_of(nonce, pn);
#ifdef SALVO_NULL_CIPHER
	(void)suite;
	(void)k;
	uint8_t want[SALVO_AEAD_TAG_BYTES];
	null_tag(want, pn, hdr, hdr_len, data, n);
	int bad = memcmp(want, data + n, sizeof(want)) != 0;
#else
	int bad;
	if (suite == SALVO_AEAD_AES256_GCM)
		bad = crypto_aead_aes256gcm_decrypt_detached_afternm(
		    data, NULL, data, n, data + n, hdr, hdr_len, nonce,
		    (const crypto_aead_aes256gcm_state *)k->aes);
	else
		bad = crypto_aead_chacha20poly1305_ietf_decrypt_detached(
		    data, NULL, data, n, data + n, hdr, hdr_len, nonce, k->key);
#endif
	if (bad)
		memset(data, 0, n);
	return bad != 0;
}

int salvo_aead_open(salvo_aead *a, salvo_replay *replay, uint64_t pn,
		    const uint8_t *hdr, size_t hdr_len, uint8_t *data,
		    size_t len, size_t *plain_len)
{
	if (len < SALVO_AEAD_TAG_BYTES)
		return SALVO_ERR_TRUNCATED;
	if (a->forgeries >= (is_gcm(a) ? SALVO_AEAD_GCM_HARD_FORGERIES
				       : SALVO_AEAD_CHACHA_HARD_FORGERIES))
		return SALVO_ERR_REKEY;
	int err = replay ? salvo_replay_check(replay, pn) : 0;
	if (err)
		return err;
	if (pn >= SALVO_AEAD_HARD_PACKETS)
		return SALVO_ERR_REPLAY;
	uint64_t epoch = pn >> SALVO_AEAD_EPOCH_SHIFT;
	salvo_aead_key next;
	const salvo_aead_key *k;
	if (epoch == a->epoch)
		k = &a->cur;
	else if (epoch + 1 == a->epoch && a->has_prev)
		k = &a->prev;
	else if (epoch == a->epoch + 1) {
		step(a, &a->cur, a->epoch, &next);
		k = &next;
	} else
		return SALVO_ERR_REPLAY;
	size_t n = len - SALVO_AEAD_TAG_BYTES;
	int bad = decrypt(a->suite, k, pn, hdr, hdr_len, data, n);
	if (k == &next) {
		if (!bad)
			advance(a, &next, 1);
		sodium_memzero(&next, sizeof(next));
	}
	if (bad) {
		a->forgeries++;
		return SALVO_ERR_AUTH;
	}
	if (replay)
		salvo_replay_update(replay, pn);
	a->packets++;
	*plain_len = n;
	return 0;
}

/* ------------------------------------------- opening outside the lock */

int salvo_aead_key_equal(const salvo_aead_key *x, const salvo_aead_key *y)
{
	/* constant time, and cheaper per packet than sodium_memcmp's byte
	 * loop */
	uint64_t d = 0;
	for (size_t i = 0; i < sizeof(x->key); i += 8) {
		uint64_t u, v;
		memcpy(&u, x->key + i, 8);
		memcpy(&v, y->key + i, 8);
		d |= u ^ v;
	}
	return d == 0;
}

static const salvo_aead_key *key_of_epoch(const salvo_aead *a, uint64_t epoch)
{
	if (epoch == a->epoch)
		return &a->cur;
	if (epoch + 1 == a->epoch && a->has_prev)
		return &a->prev;
	return NULL;
}

int salvo_aead_key_for(const salvo_aead *a, uint64_t epoch, salvo_aead_key *out)
{
	const salvo_aead_key *k = key_of_epoch(a, epoch);
	if (!k)
		return SALVO_ERR_STATE;
	*out = *k;
	return 0;
}

int salvo_aead_open_with(int suite, const salvo_aead_key *k, uint64_t epoch,
			 uint64_t pn, const uint8_t *hdr, size_t hdr_len,
			 uint8_t *data, size_t len, size_t *plain_len)
{
	if (len < SALVO_AEAD_TAG_BYTES)
		return SALVO_ERR_TRUNCATED;
	if (pn >= SALVO_AEAD_HARD_PACKETS || salvo_aead_epoch_of(pn) != epoch)
		return SALVO_ERR_REPLAY;
	size_t n = len - SALVO_AEAD_TAG_BYTES;
	if (decrypt(suite, k, pn, hdr, hdr_len, data, n))
		return SALVO_ERR_AUTH;
	*plain_len = n;
	return 0;
}

int salvo_aead_commit(salvo_aead *a, salvo_replay *replay, uint64_t pn,
		      const salvo_aead_key *k, int opened)
{
	const salvo_aead_key *mine = key_of_epoch(a, salvo_aead_epoch_of(pn));
	if (!mine || !salvo_aead_key_equal(mine, k))
		return SALVO_ERR_STATE;
	if (a->forgeries >= (is_gcm(a) ? SALVO_AEAD_GCM_HARD_FORGERIES
				       : SALVO_AEAD_CHACHA_HARD_FORGERIES))
		return SALVO_ERR_REKEY;
	if (opened == SALVO_ERR_AUTH) {
		a->forgeries++;
		return SALVO_ERR_AUTH;
	}
	if (opened)
		return opened;
	int err = replay ? salvo_replay_update(replay, pn) : 0;
	if (err)
		return err;
	a->packets++;
	return 0;
}
