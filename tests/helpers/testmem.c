/* The failing and the counting allocators of testmem.h. */
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

/* Each block carries its size in front, so a free knows what it gives
 * back; 16 bytes keep the caller's pointer aligned. */
#define HDR 16

static void *peakmem_realloc(void *ud, void *p, size_t n)
{
	salvo_peakmem *pm = ud;
	size_t old = 0;
	char *h = p ? (char *)p - HDR : NULL;
	if (h)
		old = *(size_t *)h;
	if (!n) {
		pm->now -= old;
		pm->inner->realloc(pm->inner->ud, h, 0);
		return NULL;
	}
	char *q = pm->inner->realloc(pm->inner->ud, h, n + HDR);
	if (!q)
		return NULL;
	*(size_t *)q = n;
	pm->now = pm->now - old + n;
	if (pm->now > pm->peak)
		pm->peak = pm->now;
	return q + HDR;
}

void salvo_peakmem_init(salvo_peakmem *pm, const salvo_mem *inner)
{
	pm->mem = (salvo_mem){peakmem_realloc, pm};
	pm->inner = inner;
	pm->now = pm->peak = 0;
}
