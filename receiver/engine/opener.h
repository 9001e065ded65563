/*
 * A socket thread's packet opener: it opens a batch's sealed datagrams
 * outside the core lock, so the receiver's socket threads decrypt in
 * parallel and the lock is held for bookkeeping only.
 *
 * Protocol per batch (the thread's own ropener, no sharing):
 *   ropener_open (no lock) for each datagram in order: a sealed packet of
 *       a (session, lane, epoch) whose key the opener holds is opened in
 *       place (tag checked, body decrypted or zeroed); anything else is
 *       left as it came.
 *   ropener_feed (core lock held) for the same datagrams in the same
 *       order: an opened one goes to salvo_receiver_on_opened, which
 *       commits it (key still the lane's, tag verdict counted, replay
 *       window moved only for a good tag) before the core reads it; the
 *       rest to salvo_receiver_on_packet, after which the opener copies
 *       the key of a sealed packet's lane and epoch if the core holds it,
 *       for the next batches (into a slot no datagram of this batch
 *       still waits on).
 *   ropener_refresh (core lock held, every turn; it works at most every
 *       ROPENER_REFRESH_NS): keys the core no longer holds (session
 *       ended, epoch passed) are wiped.
 * So the opener never touches the core without the lock, a datagram
 * whose tag fails never reaches the core past the commit, and a session
 * may end while its packets are being opened: the commit notices.
 */
#ifndef SALVO_RECV_OPENER_H
#define SALVO_RECV_OPENER_H

#include <stddef.h>
#include <stdint.h>

#include "common/crypto/aead.h"
#include "receiver/core/receiver.h"

#define ROPENER_KEYS 16 /* lanes cached: 4 sessions of 4 lanes */
/* How often copies are checked against the core's keys: a stale copy only
 * wastes a decryption (the commit refuses it), so this is about wiping
 * ended sessions' keys soon, not about correctness; checking every turn
 * cost a receiver at 200 Mbit/s (a turn per datagram or two) about 1
 * CPU s/GiB. */
#define ROPENER_REFRESH_NS 100000000ull

typedef struct ropener_key {
	salvo_aead_key k;
	uint64_t epoch;
	uint32_t session; /* 0: free */
	uint8_t lane;
	int suite;
} ropener_key;

typedef struct ropener {
	ropener_key keys[ROPENER_KEYS];
	uint32_t victim; /* next key slot to reuse */
	/* per slot: datagrams of this batch opened with it and not yet
	 * fed; a slot in use is not reused until they are (their commit
	 * needs the key that opened them) */
	uint16_t pending[ROPENER_KEYS];
	int16_t *result;    /* per datagram: key slot, or -1 not opened */
	int *err;	    /* per opened datagram: salvo_aead_open_with's */
	size_t n, cap;	    /* datagrams opened this batch, room */
	size_t fed;	    /* datagrams fed this batch */
	int full;	    /* results could not grow: the rest unopened */
	uint64_t opened;    /* datagrams opened outside the lock, in all */
	uint64_t refreshed; /* when ropener_refresh last checked */
} ropener;

void ropener_init(ropener *o);
/* Wipes the keys and frees. */
void ropener_free(ropener *o);

/* A new batch. */
void ropener_begin(ropener *o);
/* No lock: the batch's next datagram (see above). */
void ropener_open(ropener *o, uint8_t *dg, size_t len);
/* Core lock held: the batch's next datagram to the core, which reached
 * the host at arrival (the kernel's stamp, salvo_rxtime_arrival). */
void ropener_feed(ropener *o, salvo_receiver *core, const salvo_addr *a,
		  uint8_t *dg, size_t len, uint64_t arrival, uint64_t now);
/* Core lock held: wipes the keys core no longer holds, if it has not
 * looked for ROPENER_REFRESH_NS. */
void ropener_refresh(ropener *o, const salvo_receiver *core, uint64_t now);

#endif
