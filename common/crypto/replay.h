/*
 * Sliding replay window for per-direction packet numbers (RFC 6479).
 *
 * A bitmap of SALVO_REPLAY_BITS bits in 64-bit words, used as a ring: the
 * word holding the highest number seen is the front, and words the front
 * moves past are cleared in one step each, so a jump forward costs at most
 * one pass over the map, never one per skipped number.  Numbers within
 * SALVO_REPLAY_WINDOW below the highest are accepted once each, in any
 * order; older ones are refused.  8,128 packets is about 12 MB of 1448-byte
 * datagrams: far more reordering than one sender socket (one lane) sees.
 *
 * Use: salvo_replay_check() before the tag is verified (cheap rejection,
 * no change), salvo_replay_update() only after the tag verified, so a
 * forged packet can never move the window.  Pure; one owner thread.
 */
#ifndef SALVO_REPLAY_H
#define SALVO_REPLAY_H

#include <stdint.h>

#define SALVO_REPLAY_BITS 8192u
#define SALVO_REPLAY_WORDS (SALVO_REPLAY_BITS / 64)
/* One word less than the map: the front word is only partly in use. */
#define SALVO_REPLAY_WINDOW (SALVO_REPLAY_BITS - 64)

typedef struct salvo_replay {
	uint64_t top; /* highest number accepted + 1; 0 before the first */
	uint64_t map[SALVO_REPLAY_WORDS];
} salvo_replay;

/* An empty window: every number from 0 up is fresh. */
void salvo_replay_init(salvo_replay *r);

/* 0 when packet number pn may be accepted (not seen, not too old);
 * SALVO_ERR_REPLAY when it was seen or is more than SALVO_REPLAY_WINDOW
 * below the highest seen, or is UINT64_MAX.  Changes nothing. */
int salvo_replay_check(const salvo_replay *r, uint64_t pn);

/* Records pn as seen (after its tag verified), moving the window forward
 * when pn is the new highest.  Same return values as salvo_replay_check;
 * on SALVO_ERR_REPLAY nothing changes. */
int salvo_replay_update(salvo_replay *r, uint64_t pn);

#endif
