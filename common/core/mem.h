/*
 * The allocator handed to the cores.  One function, realloc-shaped (as in
 * Lua): realloc(ud, p, 0) frees p and returns NULL; realloc(ud, NULL, n)
 * allocates.  The cores never call malloc themselves, so tests can count
 * and fail allocations, and the core objects link without libc.
 */
#ifndef SALVO_MEM_H
#define SALVO_MEM_H

#include <stddef.h>

typedef struct salvo_mem {
	void *(*realloc)(void *ud, void *p, size_t n);
	void *ud;
} salvo_mem;

static inline void *salvo_mem_alloc(const salvo_mem *m, size_t n)
{
	return n ? m->realloc(m->ud, NULL, n) : NULL;
}

/* Like salvo_mem_alloc for count * size, NULL on overflow. */
static inline void *salvo_mem_array(const salvo_mem *m, size_t count,
				    size_t size)
{
	if (size && count > (size_t)-1 / size)
		return NULL;
	return salvo_mem_alloc(m, count * size);
}

static inline void *salvo_mem_realloc(const salvo_mem *m, void *p, size_t n)
{
	return m->realloc(m->ud, p, n);
}

static inline void salvo_mem_free(const salvo_mem *m, void *p)
{
	if (p)
		m->realloc(m->ud, p, 0);
}

/* The libc allocator (common/io/mem_libc.c). */
extern const salvo_mem salvo_mem_libc;

#endif
