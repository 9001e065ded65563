/*
 * The Noise IK handshake, Noise_IK_25519_ChaChaPoly_BLAKE2b (Noise spec
 * revision 34), as a pure state machine over caller buffers.  Not yet
 * wired into the protocol (docs/SECURITY.md, "Building blocks").
 *
 *   <- s                          (the initiator knows the responder's key)
 *   -> e, es, s, ss, {payload}    message 1, 96 + payload bytes
 *   <- e, ee, se, {payload}       message 2, 48 + payload bytes
 *
 * One round trip gives mutual authentication and forward secrecy: the
 * responder learns and authenticates the initiator's static key from
 * message 1 (the caller checks it against the authorised keys before
 * answering), and message 2 proves the responder holds its private key.
 * salvo_noise_split() then gives one 32-byte key per direction.  The
 * prologue binds the protocol version: salvo passes SALVO_NOISE_PROLOGUE,
 * so a peer speaking another version fails message 1.  WireGuard runs the
 * same pattern (with BLAKE2s, a PSK and its own MACs, see cookie.h).
 *
 * Randomness is passed in: the caller draws each handshake's ephemeral
 * private key (32 random bytes) from its RNG.  Reading a message works on
 * a copy: a forged or damaged message leaves the state as it was, so the
 * real message can still be read after it.  Replays: message 1 is not
 * fresh by itself; salvo puts a salvo_noise_stamp() in its payload and the
 * responder keeps the newest stamp per initiator key (as WireGuard's
 * TAI64N timestamp).
 *
 * Pure (libsodium's X25519, BLAKE2b and ChaCha20-Poly1305, HMAC and HKDF
 * built from BLAKE2b as the Noise spec defines them); one owner thread per
 * handshake.  Secrets in the state are wiped by salvo_noise_split() and
 * salvo_noise_wipe().
 */
#ifndef SALVO_NOISE_H
#define SALVO_NOISE_H

#include <stddef.h>
#include <stdint.h>

#define SALVO_NOISE_PROTOCOL "Noise_IK_25519_ChaChaPoly_BLAKE2b"
#define SALVO_NOISE_PROLOGUE "salvo 3"
#define SALVO_NOISE_KEY_BYTES 32
#define SALVO_NOISE_HASH_BYTES 64
#define SALVO_NOISE_TAG_BYTES 16
#define SALVO_NOISE_MSG1_BYTES(payload) (32 + 32 + 16 + (payload) + 16)
#define SALVO_NOISE_MSG2_BYTES(payload) (32 + (payload) + 16)
#define SALVO_NOISE_MAX_MSG 65535 /* the Noise spec's limit */

enum salvo_noise_role {
	SALVO_NOISE_INITIATOR = 1,
	SALVO_NOISE_RESPONDER = 2,
};

typedef struct salvo_noise {
	int role;
	int step; /* messages done: 0, 1, 2; -1 after split or wipe */
	uint8_t ck[SALVO_NOISE_HASH_BYTES];
	uint8_t h[SALVO_NOISE_HASH_BYTES];
	uint8_t k[SALVO_NOISE_KEY_BYTES];
	int has_k;
	uint64_t n;
	uint8_t s[32], s_pub[32]; /* our static key pair */
	uint8_t e[32], e_pub[32]; /* our ephemeral key pair */
	uint8_t rs[32], re[32];	  /* the peer's static and ephemeral keys */
} salvo_noise;

/* pub = X25519(priv, base point).  Returns 0, or SALVO_ERR_KEY when priv
 * gives the all-zero point. */
int salvo_noise_public_key(uint8_t pub[32], const uint8_t priv[32]);

/*
 * Starts a handshake.  s_priv: our static private key; rs: the
 * responder's static public key (initiator; NULL for a responder);
 * e_priv: 32 fresh random bytes for this handshake's ephemeral key.
 * prologue[0, prologue_len): bytes both sides must agree on.  Returns 0,
 * SALVO_ERR_INVAL (bad role, missing rs), SALVO_ERR_KEY (a key gives the
 * zero point).
 */
int salvo_noise_init(salvo_noise *ns, int role, const uint8_t *prologue,
		     size_t prologue_len, const uint8_t s_priv[32],
		     const uint8_t rs[32], const uint8_t e_priv[32]);

/*
 * Message 1 (initiator): writes SALVO_NOISE_MSG1_BYTES(payload_len) bytes
 * to out.  Returns 0, SALVO_ERR_STATE (not an initiator at step 0),
 * SALVO_ERR_TOOBIG (cap too small or the message over 65535 bytes),
 * SALVO_ERR_KEY (a DH gave the zero point).
 */
int salvo_noise_write_msg1(salvo_noise *ns, const uint8_t *payload,
			   size_t payload_len, uint8_t *out, size_t cap,
			   size_t *out_len);

/*
 * Message 1 (responder): authenticates msg[0, len), decrypts its payload
 * into payload (len - 96 bytes, *payload_len set) and learns the
 * initiator's static key (salvo_noise_remote_static).  Returns 0,
 * SALVO_ERR_STATE, SALVO_ERR_TRUNCATED (len < 96), SALVO_ERR_TOOBIG
 * (payload does not fit cap), SALVO_ERR_AUTH (wrong responder key, wrong
 * prologue, or a changed byte: the state is unchanged).
 */
int salvo_noise_read_msg1(salvo_noise *ns, const uint8_t *msg, size_t len,
			  uint8_t *payload, size_t cap, size_t *payload_len);

/* The peer's static public key: the responder's (initiator) or, after
 * message 1, the initiator's (responder).  Check it before answering. */
const uint8_t *salvo_noise_remote_static(const salvo_noise *ns);

/* Message 2 (responder, after reading message 1): as write_msg1, with
 * SALVO_NOISE_MSG2_BYTES(payload_len) bytes. */
int salvo_noise_write_msg2(salvo_noise *ns, const uint8_t *payload,
			   size_t payload_len, uint8_t *out, size_t cap,
			   size_t *out_len);

/* Message 2 (initiator, after writing message 1): as read_msg1, with
 * msg at least 48 bytes. */
int salvo_noise_read_msg2(salvo_noise *ns, const uint8_t *msg, size_t len,
			  uint8_t *payload, size_t cap, size_t *payload_len);

/*
 * After message 2: the two transport keys, oriented for this side (the
 * initiator sends with the first key of Noise's Split, the responder
 * receives with it), and the handshake hash h (SALVO_NOISE_HASH_BYTES,
 * may be NULL) that names the session for both sides.  Wipes every other
 * secret in the state.  Returns 0 or SALVO_ERR_STATE.
 */
int salvo_noise_split(salvo_noise *ns, uint8_t send_key[32],
		      uint8_t recv_key[32], uint8_t *hash);

/* Wipes the state (safe at any step). */
void salvo_noise_wipe(salvo_noise *ns);

/*
 * A 12-byte TAI64N-like stamp of a wall-clock time (ns since 1970): the
 * TAI64 label 2^62 + seconds, big-endian, then the nanoseconds rounded
 * down to a multiple of 2^24 (about 17 ms, so the stamp does not reveal
 * the sender's clock precisely, as in WireGuard), big-endian.  Byte order
 * is time order: memcmp compares two stamps.
 */
#define SALVO_NOISE_STAMP_BYTES 12
void salvo_noise_stamp(uint8_t out[SALVO_NOISE_STAMP_BYTES],
		       uint64_t realtime_ns);

/* 1 when stamp is later than last (the newest accepted from this key):
 * the message 1 carrying it is fresh; 0 for a replay or an older one. */
int salvo_noise_stamp_is_newer(const uint8_t stamp[SALVO_NOISE_STAMP_BYTES],
			       const uint8_t last[SALVO_NOISE_STAMP_BYTES]);

#endif
