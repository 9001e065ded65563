/*
 * Per-direction packet protection for protocol 3.
 *
 * One salvo_aead protects one direction of one lane of a session: the
 * sender's packets on one socket, say.  Its key comes from the handshake
 * (salvo_noise_split) and the lane number, so lanes never share a nonce
 * space and need no shared counter.  The cipher is chosen once per session
 * (salvo_aead_choose): AES-256-GCM when both ends have AES-NI, else
 * ChaCha20-Poly1305 (IETF); both are libsodium's.
 *
 * Packet: header ‖ ciphertext ‖ 16-byte tag.  The header (which carries
 * the packet number) is the associated data, the payload is encrypted in
 * place, the nonce is the 64-bit packet number big-endian in the low 8
 * bytes of the 96-bit nonce, high 4 bytes zero.  A retransmission is a new
 * packet with a new number.
 *
 * Rekeying, by packet number (why: docs/SECURITY.md, "AEAD limits").
 * Each lane's packets are cut into epochs of SALVO_AEAD_EPOCH_PACKETS
 * numbers; epoch e + 1's key is a one-way step from epoch e's
 * (crypto_kdf with subkey id e + 1, context "salvo3rk"), and epoch 0's is
 * the lane key.  Both ends know the epoch from the packet number in the
 * clear header, so rekeying needs no message, no round trip and no
 * pause.  A sealer moves forward one epoch at a time as its numbers
 * cross a boundary and wipes the old key; an opener keeps the current
 * and the previous epoch's key (for packets reordered across the
 * boundary), moves forward only when a packet of the next epoch carries
 * a good tag, and refuses numbers further away.  An epoch of 2^22
 * packets of at most 64 KiB is under 2^34 AES blocks, so no key comes
 * near AES-GCM's confidentiality limit of 2^36 blocks (RFC 9001 §6.6),
 * and a key found in memory opens neither earlier epochs nor, for the
 * sealer, anything already sent under them.
 *
 * Limits that remain: SALVO_AEAD_HARD_PACKETS packet numbers per lane
 * (never reached: 2^62), the per-key GCM block count (a safety net:
 * seal refuses with SALVO_ERR_REKEY at SALVO_AEAD_GCM_HARD_BLOCKS, which
 * an epoch cannot reach), and failed opens across the session: past the
 * soft forgery limit salvo_aead_needs_rekey() turns true, past the hard
 * one open refuses with SALVO_ERR_REKEY (RFC 9001's integrity limits).
 *
 * Built with -DSALVO_NULL_CIPHER (fuzz builds only; a normal build with it
 * fails to compile), seal leaves the payload in clear and the "tag" is a
 * CRC32C of packet number, header and payload followed by 12 zero bytes,
 * so a fuzzer can forge any packet and reach the protocol below.
 *
 * Pure (libsodium's computing functions only); the process must have
 * called sodium_init() (salvo_crypto_init in keyfile.h) before the first
 * call.  One owner thread per salvo_aead.
 */
#ifndef SALVO_AEAD_H
#define SALVO_AEAD_H

#include <stddef.h>
#include <stdint.h>

#include "common/crypto/replay.h"

#define SALVO_AEAD_KEY_BYTES 32
#define SALVO_AEAD_TAG_BYTES 16

enum salvo_aead_suite {
	SALVO_AEAD_CHACHA20_POLY1305 = 1,
	SALVO_AEAD_AES256_GCM = 2,
};
/* Bit masks of suites, as offered in the handshake payload. */
#define SALVO_AEAD_MASK(suite) (1u << (suite))

/* Packets per key epoch (see above). */
#define SALVO_AEAD_EPOCH_SHIFT 22
#define SALVO_AEAD_EPOCH_PACKETS (UINT64_C(1) << SALVO_AEAD_EPOCH_SHIFT)
#define SALVO_AEAD_GCM_HARD_BLOCKS (UINT64_C(1) << 36)
#define SALVO_AEAD_SOFT_PACKETS (UINT64_C(1) << 40)
#define SALVO_AEAD_HARD_PACKETS (UINT64_C(1) << 62)
#define SALVO_AEAD_CHACHA_SOFT_FORGERIES (UINT64_C(1) << 30)
#define SALVO_AEAD_CHACHA_HARD_FORGERIES (UINT64_C(1) << 36)
#define SALVO_AEAD_GCM_SOFT_FORGERIES (UINT64_C(1) << 46)
#define SALVO_AEAD_GCM_HARD_FORGERIES (UINT64_C(1) << 52)

typedef struct salvo_aead_key {
	/* libsodium's expanded AES key (crypto_aead_aes256gcm_state: 512
	 * bytes, 16-byte aligned), first so the alignment holds */
	_Alignas(16) unsigned char aes[512];
	uint8_t key[SALVO_AEAD_KEY_BYTES];
} salvo_aead_key;

typedef struct salvo_aead {
	salvo_aead_key cur;  /* epoch `epoch`'s key */
	salvo_aead_key prev; /* epoch - 1's, opener only; valid if has_prev */
	int suite;
	int has_prev;
	uint64_t epoch;	    /* packet numbers [epoch, epoch + 1) << SHIFT */
	uint64_t next_pn;   /* seal: lowest number not used yet */
	uint64_t packets;   /* sealed or opened with a good tag */
	uint64_t blocks;    /* 16-byte blocks sealed under cur, +1 a packet */
	uint64_t forgeries; /* opens whose tag failed, whole session */
	uint64_t rekeys;    /* epochs moved forward */
} salvo_aead;

/* Mask of the suites this machine runs: ChaCha20-Poly1305 always,
 * AES-256-GCM when crypto_aead_aes256gcm_is_available(). */
unsigned salvo_aead_local_suites(void);

/* The responder's choice from the initiator's offered mask and its own:
 * AES-256-GCM when both have it, else ChaCha20-Poly1305.  Returns the
 * suite, or SALVO_ERR_AUTH when no suite is common (a peer that does not
 * offer ChaCha20-Poly1305 is refused). */
int salvo_aead_choose(unsigned offered, unsigned local);

/* Prepares a for suite with the lane's key: BLAKE2b-based crypto_kdf
 * of key (the handshake's 32-byte direction key) with subkey id lane and
 * context "salvo3pk".  The key is copied (wipe yours when done).  Returns
 * 0, or SALVO_ERR_INVAL for an unknown suite or AES-256-GCM on a CPU
 * without AES-NI. */
int salvo_aead_init(salvo_aead *a, int suite,
		    const uint8_t key[SALVO_AEAD_KEY_BYTES], uint64_t lane);

/* Wipes the keys. */
void salvo_aead_free(salvo_aead *a);

/* The number the next sealed packet should carry. */
static inline uint64_t salvo_aead_next_pn(const salvo_aead *a)
{
	return a->next_pn;
}

/* 1 once a soft limit is passed (2^40 packet numbers, or the soft
 * forgery limit): end the session and start a new one; sealing and
 * opening go on until the hard limit.  Epoch rekeys are automatic and do
 * not count. */
int salvo_aead_needs_rekey(const salvo_aead *a);

/*
 * Seals packet number pn: encrypts data[0, len) in place and writes the
 * tag to data[len, len + 16) (the caller's buffer has room); hdr[0,
 * hdr_len) is authenticated, not encrypted.  pn must be at least
 * salvo_aead_next_pn() (numbers only grow, so a nonce is never used
 * twice); the next number becomes pn + 1.  A pn in the next epoch moves
 * the key forward first.  Returns 0, SALVO_ERR_STATE for a pn already
 * used or more than one epoch ahead (nothing written), SALVO_ERR_REKEY
 * past a hard limit.
 */
int salvo_aead_seal(salvo_aead *a, uint64_t pn, const uint8_t *hdr,
		    size_t hdr_len, uint8_t *data, size_t len);

/*
 * Opens packet number pn: data[0, len) is ciphertext ‖ tag; on success it
 * is replaced by the plaintext, *plain_len = len - 16 and, when replay is
 * not NULL, pn is recorded in it.  Order: replay check (no crypto spent on
 * a replay), tag, then the window moves, so a forged packet never moves
 * it.  The key is the epoch's of pn: the current, the previous, or the
 * next one (which becomes current when its tag checks); a pn two epochs
 * or more away is SALVO_ERR_REPLAY.  Returns 0, SALVO_ERR_TRUNCATED (len
 * < 16), SALVO_ERR_REPLAY,
 * SALVO_ERR_AUTH (tag mismatch: data is zeroed), SALVO_ERR_REKEY past the
 * hard forgery limit.
 */
int salvo_aead_open(salvo_aead *a, salvo_replay *replay, uint64_t pn,
		    const uint8_t *hdr, size_t hdr_len, uint8_t *data,
		    size_t len, size_t *plain_len);

/*
 * Opening outside the owner's lock, in two steps (the receiver's socket
 * threads decrypt a batch in parallel, then commit it under the core
 * lock): salvo_aead_key_for copies, under the lock, the key that opens
 * packets of one epoch; salvo_aead_open_with checks the tag and decrypts
 * with that copy, touching nothing shared; salvo_aead_commit, under the
 * lock again, accepts the result only if the copy is still this lane's
 * key for the packet's epoch, counts a bad tag as a forgery, and only
 * for a good tag moves the replay window (which refuses a number seen
 * meanwhile).  Same guarantees as salvo_aead_open: nothing is used
 * before its tag checks, a forged packet never moves the window or the
 * key.  One difference: a replay costs one decryption (the window is not
 * read outside the lock), as a forged packet always does.
 */

/* Copies the key for packet numbers of `epoch` (the current or, when
 * held, the previous one) to *out.  Returns 0, or SALVO_ERR_STATE for
 * any other epoch (open such a packet with salvo_aead_open, which moves
 * to the next epoch when its tag checks).  Wipe *out when done. */
int salvo_aead_key_for(const salvo_aead *a, uint64_t epoch,
		       salvo_aead_key *out);

/* 1 when x and y are the same key (constant time). */
int salvo_aead_key_equal(const salvo_aead_key *x, const salvo_aead_key *y);

/* The epoch of packet number pn. */
static inline uint64_t salvo_aead_epoch_of(uint64_t pn)
{
	return pn >> SALVO_AEAD_EPOCH_SHIFT;
}

/* Opens packet pn with k, the key of `epoch` of suite (a copy from
 * salvo_aead_key_for): as salvo_aead_open, without window, counters or
 * key changes.  Returns 0 (plaintext in data, *plain_len = len - 16),
 * SALVO_ERR_TRUNCATED, SALVO_ERR_REPLAY (pn past the hard limit or not
 * of `epoch`: nothing done) or SALVO_ERR_AUTH (data zeroed). */
int salvo_aead_open_with(int suite, const salvo_aead_key *k, uint64_t epoch,
			 uint64_t pn, const uint8_t *hdr, size_t hdr_len,
			 uint8_t *data, size_t len, size_t *plain_len);

/* Records the outcome `opened` (salvo_aead_open_with's return) of packet
 * pn opened with k: SALVO_ERR_STATE when k is no longer a's key for pn's
 * epoch (the session's keys moved on or are another session's: drop the
 * packet, count nothing), SALVO_ERR_REKEY past the hard forgery limit,
 * SALVO_ERR_AUTH for a bad tag (counted as a forgery), SALVO_ERR_REPLAY
 * when the window refuses pn, else 0 (window moved, packet counted). */
int salvo_aead_commit(salvo_aead *a, salvo_replay *replay, uint64_t pn,
		      const salvo_aead_key *k, int opened);

#endif
