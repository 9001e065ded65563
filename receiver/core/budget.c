/*
 * A receiver session's bookkeeping, counted from the sizes of the tables
 * rdata.c allocates for it (see budget.h), so the two cannot drift apart
 * silently: a table added there belongs here.
 */
#include "receiver/core/budget.h"

#include "common/core/limits.h"
#include "common/core/wire.h"
#include "receiver/core/rsess.h"

/* start_data (rdata.c): bcrc, bstate, bfails */
#define PER_BLOCK (sizeof(uint32_t) + 1 + 1)
/* start_data: fpending, fstate, fhave, digest */
#define PER_ENTRY (sizeof(uint32_t) + 1 + 1 + SALVO_DIGEST_BYTES)

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

uint64_t salvo_rbudget_manifest_bytes(uint64_t count, uint64_t path_bytes)
{
	return add_sat(mul_sat(count, sizeof(salvo_entry) + 1), path_bytes);
}

uint64_t salvo_rbudget_session_bytes(const salvo_manifest *m,
				     uint32_t block_bytes)
{
	uint64_t paths = 0;
	for (uint32_t i = 0; i < m->count; i++)
		paths += m->entries[i].path_len;
	uint64_t blocks =
	    block_bytes ? salvo_block_count(m->total_bytes, block_bytes) : 0;
	uint64_t n = sizeof(salvo_rsess);
	n = add_sat(n, mul_sat(blocks, PER_BLOCK));
	n = add_sat(n, mul_sat(m->count, PER_ENTRY));
	return add_sat(n, salvo_rbudget_manifest_bytes(m->count, paths));
}
