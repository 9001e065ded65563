/*
 * Internal to the receiver core: the handshake side (rshake.c), called by
 * receiver.c for INIT and KEY_REQ, and the two table helpers receiver.c
 * lends it (to find a session, and to drop a half-open one that a newer
 * attempt replaces).
 */
#ifndef SALVO_RSHAKE_H
#define SALVO_RSHAKE_H

#include "receiver/core/rsess.h"

/* rshake.c */
/* Sets up the cookie checker, the stamp table and the load defaults.  0
 * or SALVO_ERR_NOMEM. */
int rshake_init(salvo_receiver *r);
void rshake_free(salvo_receiver *r);
/* A decoded INIT (buf[0, len) as it came, for its MACs): a cookie reply,
 * a signed refusal, a new half-open session with its RESP, or nothing
 * (counted). */
void rshake_on_init(salvo_receiver *r, const salvo_addr *a, const uint8_t *buf,
		    size_t len, const salvo_pkt *p, uint64_t now);
/* A KEY_REQ: the receiver's public key, rate-limited. */
void rshake_on_key_req(salvo_receiver *r, const salvo_addr *a, size_t len,
		       const salvo_pkt *p, uint64_t now);

/* receiver.c */
int rcv_find_slot(const salvo_receiver *r, uint32_t id);
/* Frees the session in slot (no callback: the caller ended it, or it
 * never got past half-open). */
void rcv_free_session(salvo_receiver *r, uint32_t slot);

#endif
