/* The libc-backed salvo_mem, for engines and tools. */
#include <stdlib.h>

#include "common/core/mem.h"

static void *libc_realloc(void *ud, void *p, size_t n)
{
	(void)ud;
	if (n == 0) {
		free(p);
		return NULL;
	}
	return realloc(p, n);
}

const salvo_mem salvo_mem_libc = {libc_realloc, NULL};
