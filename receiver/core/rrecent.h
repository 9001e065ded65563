/*
 * What a receiver committed recently, so that a file sent again after
 * its sender lost track (a hot folder killed after the receiver
 * committed a file and before its journal said so) is acknowledged
 * without a second commit: the sender hears the file is there, the
 * receiver's folder sees it arrive once.
 *
 * A record is keyed by the file's source identity (salvo_rmap_digest:
 * the sender's key or anonymous, the stored path, size and mtime) and
 * holds the file's BLAKE3 digest and what it was stored as (device,
 * inode, change time, and the suffix overwrite rename gave it).  The
 * engine matches a new commit against it only when the digest is the
 * same and the file at its name is still that inode, unchanged since
 * (size, mtime, ctime), so a match can only ever skip rewriting
 * identical bytes.
 *
 * Bounded: SALVO_RRECENT_SETS sets of SALVO_RRECENT_WAYS records (4,096,
 * 104 bytes each, allocated at the first add), a record found by its
 * identity's first bytes; a new record replaces the one of the same
 * identity, else an empty or expired one, else the set's oldest.
 * Records older than max_age are never found.  In memory only: a
 * receiver restart forgets.
 *
 * Pure: allocation through the salvo_mem given, time passed in; one
 * owner at a time (the engine holds its root's lock).
 */
#ifndef SALVO_RRECENT_H
#define SALVO_RRECENT_H

#include <stdint.h>

#include "common/core/mem.h"

#define SALVO_RRECENT_SETS 1024u
#define SALVO_RRECENT_WAYS 4u
#define SALVO_RRECENT_MAX_AGE_NS (UINT64_C(3600) * 1000000000)

typedef struct salvo_rrecent_rec {
	uint8_t id[32];	    /* the source identity's digest */
	uint8_t digest[32]; /* the file's BLAKE3 */
	/* what it was stored as, right after its rename */
	uint64_t dev, ino, ctime_ns;
	uint32_t suffix; /* 0: its own name; k: NAME.k */
	uint32_t used;	 /* 0: an empty slot */
	uint64_t at_ns;	 /* when it was committed */
} salvo_rrecent_rec;

typedef struct salvo_rrecent {
	const salvo_mem *mem; /* borrowed */
	uint64_t max_age_ns;
	salvo_rrecent_rec *slot; /* SETS x WAYS, or NULL before the first add */
} salvo_rrecent;

/* Empty table; nothing allocated yet.  max_age_ns 0: records never
 * expire (they are still replaced when their set is full). */
void salvo_rrecent_init(salvo_rrecent *t, const salvo_mem *mem,
			uint64_t max_age_ns);
void salvo_rrecent_free(salvo_rrecent *t);

/* Remembers rec (its used and at_ns are set here, to now).  0, or
 * SALVO_ERR_NOMEM (the first add allocates; the table stays empty). */
int salvo_rrecent_add(salvo_rrecent *t, const salvo_rrecent_rec *rec,
		      uint64_t now);

/* The record of identity id no older than max_age at now, or NULL.  The
 * pointer is valid until the next add or free. */
const salvo_rrecent_rec *salvo_rrecent_find(const salvo_rrecent *t,
					    const uint8_t id[32], uint64_t now);

#endif
