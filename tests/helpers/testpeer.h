/*
 * The other side of a protocol 3 session, by hand, for the cores' unit
 * tests and the fuzzers: a Noise IK initiator (to drive the receiver
 * core) or responder (to drive the sender core), and the packet
 * protection that follows, on a few lanes.  Built from the same
 * common/crypto blocks as the cores, so a test speaks the real protocol
 * and can still forge, replay or corrupt exactly what it wants.
 *
 * Keys come from a seed byte (tests are deterministic); every ephemeral
 * key too.  The process must have called sodium_init.
 */
#ifndef SALVO_TESTPEER_H
#define SALVO_TESTPEER_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/wire.h"
#include "common/crypto/aead.h"
#include "common/crypto/cookie.h"
#include "common/crypto/noise.h"
#include "common/crypto/replay.h"

#define TESTPEER_LANES 8

typedef struct testpeer {
	uint8_t priv[32], pub[32]; /* this peer's static pair */
	uint8_t remote[32];	   /* the other side's static key */
	uint8_t seed;
	uint32_t eph; /* ephemeral keys made */
	salvo_noise ns;
	salvo_cookie_maker maker;
	int suite;
	uint32_t caps;		 /* initiator: what the RESP agreed to */
	uint32_t index;		 /* the initiator's attempt index */
	uint32_t session;	 /* the receiver's session id */
	salvo_init_payload init; /* responder: what the INIT asked */
	uint8_t send_key[32], recv_key[32];
	int keyed;
	salvo_aead tx[TESTPEER_LANES];
	int tx_ready[TESTPEER_LANES];
	salvo_aead rx[TESTPEER_LANES];
	salvo_replay rxw[TESTPEER_LANES];
	int rx_ready[TESTPEER_LANES];
} testpeer;

/* A key pair from seed (its public key then in tp->pub). */
void testpeer_new(testpeer *tp, uint8_t seed);
void testpeer_del(testpeer *tp);

/* The key pair seed gives, without a testpeer. */
void testpeer_keypair(uint8_t seed, uint8_t priv[32], uint8_t pub[32]);

/* Initiator: an INIT for the receiver whose public key is rx_pub, asking
 * for ip (its stamp is set from realtime_ns), with mac1 (and mac2 once a
 * cookie was taken), into out.  Returns its length. */
int testpeer_init(testpeer *tp, const uint8_t rx_pub[32], uint32_t index,
		  const salvo_init_payload *ip, uint64_t realtime_ns,
		  uint8_t *out, size_t cap, uint64_t now);
/* Initiator: reads a RESP to the last INIT.  0 (rp filled; keys set when
 * rp->status is 0), or the error (SALVO_ERR_AUTH for a forgery). */
int testpeer_resp(testpeer *tp, const uint8_t *buf, size_t len,
		  salvo_resp_payload *rp);
/* Initiator: takes a COOKIE reply.  0 or the error. */
int testpeer_cookie(testpeer *tp, const uint8_t *buf, size_t len, uint64_t now);

/* Responder: reads an INIT (MACs not checked) and writes the RESP into
 * out: accepted with session and ChaCha20-Poly1305 when status is 0,
 * else refused with msg.  tp->init and tp->remote get what the INIT
 * carried.  Returns the RESP's length or an error. */
int testpeer_accept(testpeer *tp, const uint8_t *init, size_t len,
		    uint32_t session, int32_t status, const char *msg,
		    uint8_t *out, size_t cap);

/* Seals the encoded sealed packet buf[0, len) on our lane: the header's
 * lane and packet number are set to the lane's next first.  0 or the
 * error. */
int testpeer_seal(testpeer *tp, uint8_t lane, uint8_t *buf, size_t len);
/* Encodes p (session, lane and pn set here), then seals it: its length. */
int testpeer_encode(testpeer *tp, uint8_t lane, salvo_pkt *p, uint8_t *out,
		    size_t cap);
/* Opens a sealed packet from the other side in place and decodes it.
 * 0 or the error (SALVO_ERR_AUTH, SALVO_ERR_REPLAY...). */
int testpeer_open(testpeer *tp, uint8_t *buf, size_t len, salvo_pkt *out);

#endif
