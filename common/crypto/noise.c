/*
 * Noise IK over libsodium, following the spec's objects: a
 * SymmetricState (ck, h, and a CipherState k/n) is the only running
 * state; HASH is BLAKE2b-512, HMAC the RFC 2104 construction over it
 * (block 128 bytes), HKDF the spec's two- and three-output chain, the
 * cipher ChaCha20-Poly1305 (IETF) with the nonce 32 zero bits ‖ n
 * little-endian.  Each message is a fixed token list, written out as
 * straight-line code rather than a pattern interpreter: IK is the one
 * pattern salvo needs, and four short functions are easier to audit
 * against the spec than a table.  Reads run on a copy committed only on
 * success, so a forged message cannot derail a handshake in progress.
 */
#include "common/crypto/noise.h"

#include <sodium.h>
#include <string.h>

#include "common/core/error.h"

#define HASHLEN SALVO_NOISE_HASH_BYTES
#define BLOCKLEN 128

_Static_assert(sizeof(SALVO_NOISE_PROTOCOL) - 1 <= HASHLEN,
	       "the protocol name is padded, not hashed");

static void hmac(uint8_t out[HASHLEN], const uint8_t key[HASHLEN],
		 const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	uint8_t pad[BLOCKLEN], inner[HASHLEN];
	crypto_generichash_state st;

	memset(pad, 0x36, sizeof(pad));
	for (int i = 0; i < HASHLEN; i++)
		pad[i] ^= key[i];
	crypto_generichash_init(&st, NULL, 0, HASHLEN);
	crypto_generichash_update(&st, pad, sizeof(pad));
	crypto_generichash_update(&st, a, alen);
	if (blen)
		crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, inner, HASHLEN);
	memset(pad, 0x5c, sizeof(pad));
	for (int i = 0; i < HASHLEN; i++)
		pad[i] ^= key[i];
	crypto_generichash_init(&st, NULL, 0, HASHLEN);
	crypto_generichash_update(&st, pad, sizeof(pad));
	crypto_generichash_update(&st, inner, HASHLEN);
	crypto_generichash_final(&st, out, HASHLEN);
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
	sodium_memzero(&st, sizeof(st));
}

/* HKDF(ck, ikm) with two outputs (the spec's num_outputs = 2). */
static void hkdf2(uint8_t out1[HASHLEN], uint8_t out2[HASHLEN],
		  const uint8_t ck[HASHLEN], const uint8_t *ikm, size_t len)
{
	static const uint8_t one = 1, two = 2;
	uint8_t temp[HASHLEN];

	hmac(temp, ck, ikm, len, NULL, 0);
	hmac(out1, temp, &one, 1, NULL, 0);
	hmac(out2, temp, out1, HASHLEN, &two, 1);
	sodium_memzero(temp, sizeof(temp));
}

static void mix_hash(salvo_noise *ns, const uint8_t *data, size_t len)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, HASHLEN);
	crypto_generichash_update(&st, ns->h, HASHLEN);
	crypto_generichash_update(&st, data, len);
	crypto_generichash_final(&st, ns->h, HASHLEN);
}

static void mix_key(salvo_noise *ns, const uint8_t *ikm, size_t len)
{
	uint8_t ck[HASHLEN], k[HASHLEN];

	hkdf2(ck, k, ns->ck, ikm, len);
	memcpy(ns->ck, ck, HASHLEN);
	memcpy(ns->k, k, sizeof(ns->k)); /* truncated to 32 bytes */
	ns->has_k = 1;
	ns->n = 0;
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(k, sizeof(k));
}

#ifdef SALVO_NULL_CIPHER
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#error "SALVO_NULL_CIPHER removes all protection: fuzz builds only"
#endif
/* Fuzz builds only (common/crypto/aead.h): X25519 costs a fuzzer most of
 * each input (eight scalar multiplications per handshake, ~1,000
 * handshakes a second), so it is replaced by a stand-in that keeps the
 * one property the protocol relies on, DH(a, pub(b)) = DH(b, pub(a)):
 * the public key is the private key itself, and the shared secret is the
 * BLAKE2b of the two keys in byte order.  An all-zero public key stays
 * the refused low-order point. */
static int x25519(uint8_t out[32], const uint8_t priv[32],
		  const uint8_t pub[32])
{
	static const uint8_t zero[32];
	crypto_generichash_state st;
	int first = memcmp(priv, pub, 32) < 0;

	if (!memcmp(pub, zero, 32))
		return -1;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, first ? priv : pub, 32);
	crypto_generichash_update(&st, first ? pub : priv, 32);
	crypto_generichash_final(&st, out, 32);
	return 0;
}

static int x25519_base(uint8_t pub[32], const uint8_t priv[32])
{
	memcpy(pub, priv, 32);
	return 0;
}
#else
static int x25519(uint8_t out[32], const uint8_t priv[32],
		  const uint8_t pub[32])
{
	return crypto_scalarmult(out, priv, pub);
}

static int x25519_base(uint8_t pub[32], const uint8_t priv[32])
{
	return crypto_scalarmult_base(pub, priv);
}
#endif

/* MixKey(DH(priv, pub)); SALVO_ERR_KEY when the result is the zero point
 * (a low-order public key). */
static int mix_dh(salvo_noise *ns, const uint8_t priv[32],
		  const uint8_t pub[32])
{
	uint8_t shared[32];

	if (x25519(shared, priv, pub) != 0)
		return SALVO_ERR_KEY;
	mix_key(ns, shared, sizeof(shared));
	sodium_memzero(shared, sizeof(shared));
	return 0;
}

static void nonce_of(uint8_t nonce[12], uint64_t n)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

/* EncryptAndHash: out gets len + 16 bytes (every message has k set by
 * the time it carries encrypted fields). */
static void encrypt_and_hash(salvo_noise *ns, const uint8_t *plain, size_t len,
			     uint8_t *out)
{
	uint8_t nonce[12];

	nonce_of(nonce, ns->n++);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, plain, len, ns->h,
						  HASHLEN, NULL, nonce, ns->k);
	mix_hash(ns, out, len + SALVO_NOISE_TAG_BYTES);
}

static int decrypt_and_hash(salvo_noise *ns, const uint8_t *cipher, size_t len,
			    uint8_t *out)
{
	uint8_t nonce[12];

	nonce_of(nonce, ns->n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, cipher,
						      len, ns->h, HASHLEN,
						      nonce, ns->k) != 0)
		return SALVO_ERR_AUTH;
	ns->n++;
	mix_hash(ns, cipher, len);
	return 0;
}

int salvo_noise_public_key(uint8_t pub[32], const uint8_t priv[32])
{
	return x25519_base(pub, priv) == 0 ? 0 : SALVO_ERR_KEY;
}

int salvo_noise_init(salvo_noise *ns, int role, const uint8_t *prologue,
		     size_t prologue_len, const uint8_t s_priv[32],
		     const uint8_t rs[32], const uint8_t e_priv[32])
{
	memset(ns, 0, sizeof(*ns));
	if ((role != SALVO_NOISE_INITIATOR && role != SALVO_NOISE_RESPONDER) ||
	    (role == SALVO_NOISE_INITIATOR && !rs))
		return SALVO_ERR_INVAL;
	ns->role = role;
	memcpy(ns->s, s_priv, 32);
	memcpy(ns->e, e_priv, 32);
	if (salvo_noise_public_key(ns->s_pub, ns->s) ||
	    salvo_noise_public_key(ns->e_pub, ns->e)) {
		salvo_noise_wipe(ns);
		return SALVO_ERR_KEY;
	}
	memcpy(ns->h, SALVO_NOISE_PROTOCOL, sizeof(SALVO_NOISE_PROTOCOL) - 1);
	memcpy(ns->ck, ns->h, HASHLEN);
	mix_hash(ns, prologue, prologue_len);
	/* the pre-message "<- s": the responder's static key */
	if (role == SALVO_NOISE_INITIATOR) {
		memcpy(ns->rs, rs, 32);
		mix_hash(ns, ns->rs, 32);
	} else {
		mix_hash(ns, ns->s_pub, 32);
	}
	return 0;
}

static int check_out(size_t need, size_t cap)
{
	return need > cap || need > SALVO_NOISE_MAX_MSG ? SALVO_ERR_TOOBIG : 0;
}

int salvo_noise_write_msg1(salvo_noise *ns, const uint8_t *payload,
			   size_t payload_len, uint8_t *out, size_t cap,
			   size_t *out_len)
{
	size_t need = SALVO_NOISE_MSG1_BYTES(payload_len);
	int err;

	if (ns->role != SALVO_NOISE_INITIATOR || ns->step != 0)
		return SALVO_ERR_STATE;
	if ((err = check_out(need, cap)))
		return err;
	memcpy(out, ns->e_pub, 32); /* e */
	mix_hash(ns, ns->e_pub, 32);
	if ((err = mix_dh(ns, ns->e, ns->rs))) /* es */
		return err;
	encrypt_and_hash(ns, ns->s_pub, 32, out + 32); /* s */
	if ((err = mix_dh(ns, ns->s, ns->rs)))	       /* ss */
		return err;
	encrypt_and_hash(ns, payload, payload_len, out + 80);
	ns->step = 1;
	*out_len = need;
	return 0;
}

/* Reads into a copy of the state; commits it only when the message
 * verified. */
int salvo_noise_read_msg1(salvo_noise *ns, const uint8_t *msg, size_t len,
			  uint8_t *payload, size_t cap, size_t *payload_len)
{
	salvo_noise t;
	int err;

	if (ns->role != SALVO_NOISE_RESPONDER || ns->step != 0)
		return SALVO_ERR_STATE;
	if (len < SALVO_NOISE_MSG1_BYTES(0))
		return SALVO_ERR_TRUNCATED;
	if (len - SALVO_NOISE_MSG1_BYTES(0) > cap)
		return SALVO_ERR_TOOBIG;
	t = *ns;
	memcpy(t.re, msg, 32); /* e */
	mix_hash(&t, t.re, 32);
	if ((err = mix_dh(&t, t.s, t.re)) ||			/* es */
	    (err = decrypt_and_hash(&t, msg + 32, 48, t.rs)) || /* s */
	    (err = mix_dh(&t, t.s, t.rs)) ||			/* ss */
	    (err = decrypt_and_hash(&t, msg + 80, len - 80, payload)))
		goto fail;
	t.step = 1;
	*ns = t;
	*payload_len = len - SALVO_NOISE_MSG1_BYTES(0);
	sodium_memzero(&t, sizeof(t));
	return 0;
fail:
	sodium_memzero(&t, sizeof(t));
	return err == SALVO_ERR_KEY ? SALVO_ERR_AUTH : err;
}

const uint8_t *salvo_noise_remote_static(const salvo_noise *ns)
{
	return ns->rs;
}

int salvo_noise_write_msg2(salvo_noise *ns, const uint8_t *payload,
			   size_t payload_len, uint8_t *out, size_t cap,
			   size_t *out_len)
{
	size_t need = SALVO_NOISE_MSG2_BYTES(payload_len);
	int err;

	if (ns->role != SALVO_NOISE_RESPONDER || ns->step != 1)
		return SALVO_ERR_STATE;
	if ((err = check_out(need, cap)))
		return err;
	memcpy(out, ns->e_pub, 32); /* e */
	mix_hash(ns, ns->e_pub, 32);
	if ((err = mix_dh(ns, ns->e, ns->re)) || /* ee */
	    (err = mix_dh(ns, ns->e, ns->rs)))	 /* se */
		return err;
	encrypt_and_hash(ns, payload, payload_len, out + 32);
	ns->step = 2;
	*out_len = need;
	return 0;
}

int salvo_noise_read_msg2(salvo_noise *ns, const uint8_t *msg, size_t len,
			  uint8_t *payload, size_t cap, size_t *payload_len)
{
	salvo_noise t;
	int err;

	if (ns->role != SALVO_NOISE_INITIATOR || ns->step != 1)
		return SALVO_ERR_STATE;
	if (len < SALVO_NOISE_MSG2_BYTES(0))
		return SALVO_ERR_TRUNCATED;
	if (len - SALVO_NOISE_MSG2_BYTES(0) > cap)
		return SALVO_ERR_TOOBIG;
	t = *ns;
	memcpy(t.re, msg, 32); /* e */
	mix_hash(&t, t.re, 32);
	if ((err = mix_dh(&t, t.e, t.re)) || /* ee */
	    (err = mix_dh(&t, t.s, t.re)) || /* se */
	    (err = decrypt_and_hash(&t, msg + 32, len - 32, payload)))
		goto fail;
	t.step = 2;
	*ns = t;
	*payload_len = len - SALVO_NOISE_MSG2_BYTES(0);
	sodium_memzero(&t, sizeof(t));
	return 0;
fail:
	sodium_memzero(&t, sizeof(t));
	return err == SALVO_ERR_KEY ? SALVO_ERR_AUTH : err;
}

int salvo_noise_split(salvo_noise *ns, uint8_t send_key[32],
		      uint8_t recv_key[32], uint8_t *hash)
{
	uint8_t k1[HASHLEN], k2[HASHLEN];

	if (ns->step != 2)
		return SALVO_ERR_STATE;
	hkdf2(k1, k2, ns->ck, NULL, 0);
	int init = ns->role == SALVO_NOISE_INITIATOR;
	memcpy(send_key, init ? k1 : k2, 32);
	memcpy(recv_key, init ? k2 : k1, 32);
	if (hash)
		memcpy(hash, ns->h, HASHLEN);
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));
	salvo_noise_wipe(ns);
	return 0;
}

void salvo_noise_wipe(salvo_noise *ns)
{
	sodium_memzero(ns, sizeof(*ns));
	ns->step = -1;
}

void salvo_noise_stamp(uint8_t out[SALVO_NOISE_STAMP_BYTES],
		       uint64_t realtime_ns)
{
	uint64_t label = (UINT64_C(1) << 62) + realtime_ns / 1000000000u;
	uint32_t nsec = (uint32_t)(realtime_ns % 1000000000u) & ~0xffffffu;

	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(label >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(nsec >> (24 - 8 * i));
}

int salvo_noise_stamp_is_newer(const uint8_t stamp[SALVO_NOISE_STAMP_BYTES],
			       const uint8_t last[SALVO_NOISE_STAMP_BYTES])
{
	return memcmp(stamp, last, SALVO_NOISE_STAMP_BYTES) > 0;
}
