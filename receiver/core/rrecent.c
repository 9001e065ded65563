/*
 * The receiver's recent commits (rrecent.h): a set-associative table.
 * The identity digest is BLAKE3 output, so its first four bytes pick a
 * set evenly; within a set the few records are compared whole.  A file
 * is forgotten early only when WAYS newer commits fall into its set, which
 * for the few thousand commits a re-send can lag behind is rare, and then
 * costs what it cost before the table: one more commit of identical
 * bytes.
 */
#include "receiver/core/rrecent.h"

#include <string.h>

#include "common/core/error.h"

static salvo_rrecent_rec *set_of(const salvo_rrecent *t, const uint8_t id[32])
{
	uint32_t h = (uint32_t)id[0] | (uint32_t)id[1] << 8 |
		     (uint32_t)id[2] << 16 | (uint32_t)id[3] << 24;
	return t->slot + (size_t)(h % SALVO_RRECENT_SETS) * SALVO_RRECENT_WAYS;
}

static int expired(const salvo_rrecent *t, const salvo_rrecent_rec *r,
		   uint64_t now)
{
	return t->max_age_ns && now > r->at_ns &&
	       now - r->at_ns > t->max_age_ns;
}

void salvo_rrecent_init(salvo_rrecent *t, const salvo_mem *mem,
			uint64_t max_age_ns)
{
	t->mem = mem;
	t->max_age_ns = max_age_ns;
	t->slot = NULL;
}

void salvo_rrecent_free(salvo_rrecent *t)
{
	if (t->slot)
		salvo_mem_free(t->mem, t->slot);
	t->slot = NULL;
}

int salvo_rrecent_add(salvo_rrecent *t, const salvo_rrecent_rec *rec,
		      uint64_t now)
{
	size_t n = (size_t)SALVO_RRECENT_SETS * SALVO_RRECENT_WAYS;
	if (!t->slot) {
		t->slot = salvo_mem_array(t->mem, n, sizeof(*t->slot));
		if (!t->slot)
			return SALVO_ERR_NOMEM;
		memset(t->slot, 0, n * sizeof(*t->slot));
	}
	/* the same identity's record, else a free one, else the oldest */
	salvo_rrecent_rec *set = set_of(t, rec->id), *same = NULL,
			  *spare = NULL, *old = NULL;
	for (unsigned w = 0; w < SALVO_RRECENT_WAYS && !same; w++) {
		salvo_rrecent_rec *r = &set[w];
		if (r->used && !memcmp(r->id, rec->id, sizeof(r->id)))
			same = r;
		else if (!r->used || expired(t, r, now))
			spare = spare ? spare : r;
		else if (!old || r->at_ns < old->at_ns)
			old = r;
	}
	salvo_rrecent_rec *to = same ? same : spare ? spare : old;
	*to = *rec;
	to->used = 1;
	to->at_ns = now;
	return 0;
}

const salvo_rrecent_rec *salvo_rrecent_find(const salvo_rrecent *t,
					    const uint8_t id[32], uint64_t now)
{
	if (!t->slot)
		return NULL;
	const salvo_rrecent_rec *set = set_of(t, id);
	for (unsigned w = 0; w < SALVO_RRECENT_WAYS; w++)
		if (set[w].used && !memcmp(set[w].id, id, 32))
			return expired(t, &set[w], now) ? NULL : &set[w];
	return NULL;
}
