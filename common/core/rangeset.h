/*
 * A set of byte ranges [start, end) over u64 offsets, each range carrying a
 * u64 tag (a timestamp in practice: when the bytes were sent, or when a
 * hole became reportable).  Adjacent ranges merge only when their tags are
 * equal, so a set used without tags (all 0) is a plain range set.
 *
 * Storage is one sorted array: lookups are binary searches, edits move
 * the tail.  The sets salvo keeps (holes in flight, ranges queued for
 * retransmission) hold tens to thousands of ranges, where this beats a
 * tree on every count.  Single owner; not thread-safe.
 */
#ifndef SALVO_RANGESET_H
#define SALVO_RANGESET_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/mem.h"

typedef struct salvo_trange {
	uint64_t start, end, tag;
} salvo_trange;

typedef struct salvo_rangeset {
	const salvo_mem *mem; /* borrowed */
	salvo_trange *r;
	size_t n, cap;
	uint64_t bytes; /* sum of lengths */
} salvo_rangeset;

void salvo_rangeset_init(salvo_rangeset *rs, const salvo_mem *mem);
void salvo_rangeset_free(salvo_rangeset *rs);

/* Sets [start, end) to tag, replacing whatever covered it.  Empty ranges
 * are a no-op.  Returns 0 or SALVO_ERR_NOMEM (the set is unchanged). */
int salvo_rangeset_add(salvo_rangeset *rs, uint64_t start, uint64_t end,
		       uint64_t tag);

/* Removes [start, end).  Returns 0 or SALVO_ERR_NOMEM (a split needed
 * room; the set is unchanged). */
int salvo_rangeset_remove(salvo_rangeset *rs, uint64_t start, uint64_t end);

/* Removes everything below x (cannot fail). */
void salvo_rangeset_remove_below(salvo_rangeset *rs, uint64_t x);

/* Gives the ranges inside [start, end) whose tag equals old_tag the tag
 * new_tag.  Returns 0 or SALVO_ERR_NOMEM. */
int salvo_rangeset_retag(salvo_rangeset *rs, uint64_t start, uint64_t end,
			 uint64_t old_tag, uint64_t new_tag);

/* Index of the first range whose end is above x (n if none). */
size_t salvo_rangeset_lower_bound(const salvo_rangeset *rs, uint64_t x);

/* True when every byte of [start, end) is in the set. */
int salvo_rangeset_covers(const salvo_rangeset *rs, uint64_t start,
			  uint64_t end);

/* True when some byte of [start, end) is in the set. */
int salvo_rangeset_intersects(const salvo_rangeset *rs, uint64_t start,
			      uint64_t end);

/* Largest tag among the ranges meeting [start, end); 0 if none. */
uint64_t salvo_rangeset_max_tag(const salvo_rangeset *rs, uint64_t start,
				uint64_t end);

static inline int salvo_rangeset_is_empty(const salvo_rangeset *rs)
{
	return rs->n == 0;
}

#endif
