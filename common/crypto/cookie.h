/*
 * WireGuard-style MACs and cookies for handshake messages (not yet wired
 * in; docs/SECURITY.md).  Every handshake message ends with two 16-byte
 * MACs:
 *
 *   mac1 = BLAKE2b-128(key = BLAKE2b-256("mac1----" ‖ responder public
 *          key), message body): anyone who knows the responder's public key
 *          can make it, so it only spares the responder any DH work on
 *          junk and on senders who do not know whom they are talking to;
 *   mac2 = BLAKE2b-128(key = cookie, body ‖ mac1), or 16 zero bytes when
 *          the initiator holds no fresh cookie.
 *
 * A responder under load answers a message without a valid mac2 with a
 * cookie reply instead of a handshake, and keeps no state: the cookie is
 * BLAKE2b-128(key = a secret rotated every 2 minutes, the sender's
 * address and port), sent encrypted with XChaCha20-Poly1305 under
 * BLAKE2b-256("cookie--" ‖ responder public key) and a random 24-byte
 * nonce, the message's mac1 as associated data (so only the initiator who
 * sent that message can use the reply, and an off-path attacker cannot
 * make a victim address collect cookies).  The reply is 56 bytes, smaller
 * than the 128-byte message it answers: no amplification.  The initiator
 * resends its message with mac2; the cookie proves it receives at that
 * address.
 *
 * Pure: time comes in as now (ns, monotonic), randomness (the secret, the
 * nonce) from the caller.  One owner thread per object; the checker is
 * read-only in salvo_cookie_check and salvo_cookie_reply, so several
 * threads may share one once set.
 */
#ifndef SALVO_COOKIE_H
#define SALVO_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/addr.h"

#define SALVO_COOKIE_MAC_BYTES 16
#define SALVO_COOKIE_MACS_BYTES (2 * SALVO_COOKIE_MAC_BYTES)
#define SALVO_COOKIE_NONCE_BYTES 24
#define SALVO_COOKIE_REPLY_BYTES (SALVO_COOKIE_NONCE_BYTES + 16 + 16)
#define SALVO_COOKIE_SECRET_BYTES 32
/* The responder's secret lives 2 minutes; an initiator trusts a cookie
 * for 5 s less, so one it holds is never older than the secret. */
#define SALVO_COOKIE_SECRET_MAX_AGE_NS (UINT64_C(120) * 1000000000u)
#define SALVO_COOKIE_LATENCY_NS (UINT64_C(5) * 1000000000u)

/* The responder's side. */
typedef struct salvo_cookie_checker {
	uint8_t mac1_key[32];
	uint8_t cookie_key[32];
	uint8_t secret[SALVO_COOKIE_SECRET_BYTES];
	uint64_t secret_born_ns;
	int has_secret;
} salvo_cookie_checker;

/* The initiator's side, one per responder. */
typedef struct salvo_cookie_maker {
	uint8_t mac1_key[32];
	uint8_t cookie_key[32];
	uint8_t cookie[SALVO_COOKIE_MAC_BYTES];
	uint64_t cookie_born_ns;
	int has_cookie;
	uint8_t last_mac1[SALVO_COOKIE_MAC_BYTES]; /* of the last message */
	int has_mac1;
} salvo_cookie_maker;

/* Both sides derive their keys from the responder's public key. */
void salvo_cookie_checker_init(salvo_cookie_checker *c,
			       const uint8_t responder_pub[32]);
void salvo_cookie_maker_init(salvo_cookie_maker *m,
			     const uint8_t responder_pub[32]);

/* 1 when the checker has no secret or one older than
 * SALVO_COOKIE_SECRET_MAX_AGE_NS: give it 32 fresh random bytes with
 * salvo_cookie_checker_set_secret before answering with a cookie. */
int salvo_cookie_checker_needs_secret(const salvo_cookie_checker *c,
				      uint64_t now);
void salvo_cookie_checker_set_secret(
    salvo_cookie_checker *c, const uint8_t secret[SALVO_COOKIE_SECRET_BYTES],
    uint64_t now);

/*
 * Initiator: appends mac1 and mac2 to msg[0, body_len) (at msg +
 * body_len, 32 bytes, cap is the buffer's size) and remembers mac1 for
 * the reply.  mac2 uses the cookie when one younger than 115 s is held,
 * else it is zero.  Returns 0 or SALVO_ERR_TOOBIG.
 */
int salvo_cookie_add_macs(salvo_cookie_maker *m, uint8_t *msg, size_t body_len,
			  size_t cap, uint64_t now);

/*
 * Responder: checks the MACs at the end of msg[0, len) sent from `from`.
 * Returns 0 (go on with the handshake), SALVO_ERR_TRUNCATED (shorter
 * than the MACs), SALVO_ERR_AUTH (mac1 wrong: drop silently), or, only
 * when under_load is non-zero, SALVO_ERR_COOKIE (mac2 missing, stale or
 * wrong: answer with salvo_cookie_reply, do no DH, keep no state).
 */
int salvo_cookie_check(const salvo_cookie_checker *c, const uint8_t *msg,
		       size_t len, const salvo_addr *from, uint64_t now,
		       int under_load);

/*
 * Responder: the 56-byte cookie reply for msg (whose mac1 checked) from
 * `from`, with a fresh random nonce.  Returns 0, SALVO_ERR_TRUNCATED, or
 * SALVO_ERR_STATE when the secret needs renewing first.
 */
int salvo_cookie_reply(const salvo_cookie_checker *c, const uint8_t *msg,
		       size_t len, const salvo_addr *from, uint64_t now,
		       const uint8_t nonce[SALVO_COOKIE_NONCE_BYTES],
		       uint8_t out[SALVO_COOKIE_REPLY_BYTES]);

/*
 * Initiator: takes the cookie from a reply to its last message.  Returns
 * 0, SALVO_ERR_TRUNCATED (len is not 56), SALVO_ERR_STATE (no message
 * sent yet), SALVO_ERR_AUTH (not a reply to the last message, or forged).
 */
int salvo_cookie_take_reply(salvo_cookie_maker *m, const uint8_t *reply,
			    size_t len, uint64_t now);

#endif
