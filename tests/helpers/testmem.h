/*
 * Allocators for unit tests, as salvo_mem values.
 *
 * testmem_cmocka() routes a core's allocations through cmocka's
 * test_realloc/test_free, so a block the code under test forgets to free
 * fails the test that leaked it.  It is static inline (and needs <cmocka.h>
 * included first) so the helper objects linked into every test binary and
 * the simulator carry no cmocka symbols.
 *
 * salvo_failmem wraps another salvo_mem and refuses every allocation or
 * growth after the first `allow` ones (frees always pass), to prove that a
 * failed allocation leaves an object unchanged.
 *
 * salvo_peakmem wraps another salvo_mem and counts the bytes held now and
 * at most, to bound what an object costs (a manifest of a million
 * entries must fit a budget).
 */
#ifndef SALVO_TESTS_TESTMEM_H
#define SALVO_TESTS_TESTMEM_H

#include <stddef.h>

#include "common/core/mem.h"

#ifdef cmocka_unit_test
static inline void *testmem_cmocka_realloc(void *ud, void *p, size_t n)
{
	(void)ud;
	if (n == 0) {
		if (p)
			test_free(p);
		return NULL;
	}
	return test_realloc(p, n);
}

static inline salvo_mem testmem_cmocka(void)
{
	return (salvo_mem){testmem_cmocka_realloc, NULL};
}
#endif

typedef struct salvo_failmem {
	salvo_mem mem; /* hand &fm.mem to the code under test */
	const salvo_mem *inner;
	size_t allow; /* allocations still allowed */
	size_t calls; /* allocations attempted */
} salvo_failmem;

void salvo_failmem_init(salvo_failmem *fm, const salvo_mem *inner,
			size_t allow);

typedef struct salvo_peakmem {
	salvo_mem mem; /* hand &pm.mem to the code under test */
	const salvo_mem *inner;
	size_t now, peak; /* bytes asked for (not counting our headers) */
} salvo_peakmem;

void salvo_peakmem_init(salvo_peakmem *pm, const salvo_mem *inner);

#endif
