/*
 * The MAC and cookie layer of WireGuard's handshake (its whitepaper,
 * section 5.4.4 and 5.4.7) with BLAKE2b for BLAKE2s: keyed BLAKE2b with
 * 16-byte output is the MAC, XChaCha20-Poly1305 (random nonces are safe
 * with its 192-bit nonce) carries the cookie.  Comparisons of MACs are
 * constant-time (crypto_verify_16).
 */
#include "common/crypto/cookie.h"

#include <sodium.h>
#include <string.h>

#include "common/core/error.h"

#define MAC SALVO_COOKIE_MAC_BYTES

static void label_key(uint8_t out[32], const char label[8],
		      const uint8_t pub[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)label, 8);
	crypto_generichash_update(&st, pub, 32);
	crypto_generichash_final(&st, out, 32);
}

static void mac(uint8_t out[MAC], const uint8_t *key, size_t key_len,
		const uint8_t *data, size_t len)
{
	crypto_generichash(out, MAC, data, len, key, key_len);
}

void salvo_cookie_checker_init(salvo_cookie_checker *c,
			       const uint8_t responder_pub[32])
{
	memset(c, 0, sizeof(*c));
	label_key(c->mac1_key, "mac1----", responder_pub);
	label_key(c->cookie_key, "cookie--", responder_pub);
}

void salvo_cookie_maker_init(salvo_cookie_maker *m,
			     const uint8_t responder_pub[32])
{
	memset(m, 0, sizeof(*m));
	label_key(m->mac1_key, "mac1----", responder_pub);
	label_key(m->cookie_key, "cookie--", responder_pub);
}

int salvo_cookie_checker_needs_secret(const salvo_cookie_checker *c,
				      uint64_t now)
{
	return !c->has_secret ||
	       now - c->secret_born_ns >= SALVO_COOKIE_SECRET_MAX_AGE_NS;
}

void salvo_cookie_checker_set_secret(
    salvo_cookie_checker *c, const uint8_t secret[SALVO_COOKIE_SECRET_BYTES],
    uint64_t now)
{
	memcpy(c->secret, secret, sizeof(c->secret));
	c->secret_born_ns = now;
	c->has_secret = 1;
}

static void cookie_for(const salvo_cookie_checker *c, const salvo_addr *from,
		       uint8_t out[MAC])
{
	uint32_t n =
	    from->len <= sizeof(from->bytes) ? from->len : sizeof(from->bytes);
	mac(out, c->secret, sizeof(c->secret), from->bytes, n);
}

int salvo_cookie_add_macs(salvo_cookie_maker *m, uint8_t *msg, size_t body_len,
			  size_t cap, uint64_t now)
{
	if (cap < body_len || cap - body_len < SALVO_COOKIE_MACS_BYTES)
		return SALVO_ERR_TOOBIG;
	uint8_t *mac1 = msg + body_len, *mac2 = mac1 + MAC;
	mac(mac1, m->mac1_key, sizeof(m->mac1_key), msg, body_len);
	memcpy(m->last_mac1, mac1, MAC);
	m->has_mac1 = 1;
	if (m->has_cookie &&
	    now - m->cookie_born_ns <
		SALVO_COOKIE_SECRET_MAX_AGE_NS - SALVO_COOKIE_LATENCY_NS)
		mac(mac2, m->cookie, MAC, msg, body_len + MAC);
	else
		memset(mac2, 0, MAC);
	return 0;
}

int salvo_cookie_check(const salvo_cookie_checker *c, const uint8_t *msg,
		       size_t len, const salvo_addr *from, uint64_t now,
		       int under_load)
{
	uint8_t want[MAC], cookie[MAC];

	if (len < SALVO_COOKIE_MACS_BYTES)
		return SALVO_ERR_TRUNCATED;
	size_t body = len - SALVO_COOKIE_MACS_BYTES;
	mac(want, c->mac1_key, sizeof(c->mac1_key), msg, body);
	if (crypto_verify_16(want, msg + body) != 0)
		return SALVO_ERR_AUTH;
	if (!under_load)
		return 0;
	if (salvo_cookie_checker_needs_secret(c, now))
		return SALVO_ERR_COOKIE;
	cookie_for(c, from, cookie);
	mac(want, cookie, MAC, msg, body + MAC);
	sodium_memzero(cookie, sizeof(cookie));
	return crypto_verify_16(want, msg + body + MAC) == 0 ? 0
							     : SALVO_ERR_COOKIE;
}

int salvo_cookie_reply(const salvo_cookie_checker *c, const uint8_t *msg,
		       size_t len, const salvo_addr *from, uint64_t now,
		       const uint8_t nonce[SALVO_COOKIE_NONCE_BYTES],
		       uint8_t out[SALVO_COOKIE_REPLY_BYTES])
{
	uint8_t cookie[MAC];

	if (len < SALVO_COOKIE_MACS_BYTES)
		return SALVO_ERR_TRUNCATED;
	if (salvo_cookie_checker_needs_secret(c, now))
		return SALVO_ERR_STATE;
	const uint8_t *mac1 = msg + len - SALVO_COOKIE_MACS_BYTES;
	cookie_for(c, from, cookie);
	memcpy(out, nonce, SALVO_COOKIE_NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	    out + SALVO_COOKIE_NONCE_BYTES, NULL, cookie, MAC, mac1, MAC, NULL,
	    nonce, c->cookie_key);
	sodium_memzero(cookie, sizeof(cookie));
	return 0;
}

int salvo_cookie_take_reply(salvo_cookie_maker *m, const uint8_t *reply,
			    size_t len, uint64_t now)
{
	uint8_t cookie[MAC];

	if (len != SALVO_COOKIE_REPLY_BYTES)
		return SALVO_ERR_TRUNCATED;
	if (!m->has_mac1)
		return SALVO_ERR_STATE;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		cookie, NULL, NULL, reply + SALVO_COOKIE_NONCE_BYTES,
		len - SALVO_COOKIE_NONCE_BYTES, m->last_mac1, MAC, reply,
		m->cookie_key) != 0)
		return SALVO_ERR_AUTH;
	memcpy(m->cookie, cookie, MAC);
	m->cookie_born_ns = now;
	m->has_cookie = 1;
	sodium_memzero(cookie, sizeof(cookie));
	return 0;
}
