/*
 * Whole-file BLAKE3 digests from the blocks the block-senders read to
 * send: each byte of a file is read once and hashed once.  A new block is
 * cut at file boundaries; a file wholly inside it is hashed at once, a
 * piece of a larger file goes into that file's any-order tree
 * (common/core/b3tree.h), since the blocks of one file are sent, and so
 * hashed, by several threads in any order.  When a file's last piece is
 * in, its digest goes to the caller's callback.  Retransmissions are not
 * hashed again: the caller adds each new block exactly once.
 *
 * Thread-safe: salvo_hasher_add may run in any number of threads; a
 * file's tree is guarded by one of a few striped locks, so threads
 * hashing different files do not wait on each other.  Memory: one tree
 * per file in progress (bounded by the blocks in flight, not file sizes).
 */
#ifndef SALVO_SEND_HASHER_H
#define SALVO_SEND_HASHER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/core/b3tree.h"
#include "common/core/manifest.h"
#include "common/core/rangeset.h"

#define SALVO_HASHER_STRIPES 16

/* Called once per file with its digest, from the thread whose block
 * completed it, with no hasher lock held. */
typedef void (*salvo_hasher_done_fn)(void *ud, uint32_t file,
				     const uint8_t digest[32]);

typedef struct salvo_hasher {
	salvo_manifest view; /* the session's entries, borrowed */
	salvo_b3tree **tree; /* per file: NULL until its first piece */
	atomic_uchar *skip;  /* per file: 1 once not hashed (not sent) */
	pthread_mutex_t stripe[SALVO_HASHER_STRIPES];
	salvo_hasher_done_fn done;
	void *ud;
	/* stream bytes hashed (or being hashed), under hashed_mu: a block
	 * sent again as new after a reconnect, or read for a resumed range,
	 * is never hashed twice */
	pthread_mutex_t hashed_mu;
	salvo_rangeset hashed;
} salvo_hasher;

/* Prepares hashing the n entries (with stream offsets; total stream
 * bytes).  Returns 0, -ENOMEM or -errno. */
int salvo_hasher_init(salvo_hasher *h, const salvo_entry *e, uint32_t n,
		      uint64_t total, salvo_hasher_done_fn done, void *ud);
void salvo_hasher_free(salvo_hasher *h);

/* File i is not sent whole (the receiver skips it, or resumes it): its
 * bytes are not hashed from here on, and its tree goes.  Any thread. */
void salvo_hasher_skip(salvo_hasher *h, uint32_t i);

/* Calls done for every empty file (no block holds a byte of them). */
void salvo_hasher_empty_files(salvo_hasher *h);

/* Hashes stream bytes [off, off + len) at p, those of them not hashed
 * before (a block sent as new again, on a new session after the first was
 * lost, adds nothing).  Returns 0 or SALVO_ERR_NOMEM / SALVO_ERR_INVAL. */
int salvo_hasher_add(salvo_hasher *h, uint64_t off, const uint8_t *p,
		     size_t len);

/* Reads stream bytes [off, off + len) with read (a reader's, into buf of
 * cap bytes, piece by piece) and hashes those not hashed yet: the ranges
 * a resuming receiver already holds, which are never sent but must be in
 * the digests.  Returns 0, SALVO_ERR_NOMEM, or read's error. */
typedef int (*salvo_hasher_read_fn)(void *ud, uint64_t off, void *dst,
				    size_t len);
int salvo_hasher_fill(salvo_hasher *h, uint64_t off, uint64_t len,
		      salvo_hasher_read_fn read, void *ud, uint8_t *buf,
		      size_t cap);

#endif
