/* The failing allocator of testmem.h. */
#include "tests/helpers/testmem.h"

static void *failmem_realloc(void *ud, void *p, size_t n)
{
	salvo_failmem *fm = ud;
	if (n) {
		fm->calls++;
		if (!fm->allow)
			return NULL;
		fm->allow--;
	}
	return fm->inner->realloc(fm->inner->ud, p, n);
}

void salvo_failmem_init(salvo_failmem *fm, const salvo_mem *inner, size_t allow)
{
	fm->mem = (salvo_mem){failmem_realloc, fm};
	fm->inner = inner;
	fm->allow = allow;
	fm->calls = 0;
}
