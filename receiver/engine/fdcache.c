/*
 * A session's open descriptors (files.h): folders and part-files, keyed
 * by their index, kept open while they are likely to be used again and
 * closed, least recently used first, past cap.  A manifest of 20,000
 * folders or files so costs at most cap descriptors per kind, not 20,000:
 * a receiver's descriptors are shared by every session it serves.
 *
 * A descriptor in use outside the owner's lock (a pwritev, an fsync) is
 * pinned and never closed, so it cannot be closed, reused by another
 * open and written to by mistake; the cache may then run over cap for a
 * moment (every slot pinned), and shrinks back as pins are released.  A
 * cap of 64 makes linear scans cheaper than any index.
 */
#include "receiver/engine/files.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void rfdcache_init(rfdcache *c, uint32_t cap)
{
	memset(c, 0, sizeof(*c));
	c->cap = cap ? cap : 1;
}

static int find(const rfdcache *c, int32_t key)
{
	for (uint32_t i = 0; i < c->n; i++)
		if (c->slot[i].key == key)
			return (int)i;
	return -1;
}

static void remove_slot(rfdcache *c, uint32_t i)
{
	close(c->slot[i].fd);
	c->slot[i] = c->slot[--c->n];
}

int rfdcache_take(rfdcache *c, int32_t key)
{
	int i = find(c, key);
	if (i < 0)
		return -1;
	c->slot[i].pins++;
	c->slot[i].used = ++c->tick;
	return c->slot[i].fd;
}

/* Closes the least recently used unpinned descriptor: 1, or 0 if every
 * one is pinned. */
static int evict(rfdcache *c)
{
	int best = -1;
	for (uint32_t i = 0; i < c->n; i++)
		if (!c->slot[i].pins &&
		    (best < 0 || c->slot[i].used < c->slot[best].used))
			best = (int)i;
	if (best < 0)
		return 0;
	remove_slot(c, (uint32_t)best);
	return 1;
}

int rfdcache_add(rfdcache *c, int32_t key, int fd)
{
	while (c->n >= c->cap && evict(c))
		;
	if (c->n == c->len) {
		uint32_t len = c->len ? 2 * c->len : c->cap + 2;
		struct rfdslot *s = realloc(c->slot, len * sizeof(*s));
		if (!s) {
			close(fd);
			return -ENOMEM;
		}
		c->slot = s;
		c->len = len;
	}
	c->slot[c->n++] = (struct rfdslot){
	    .key = key, .fd = fd, .pins = 1, .used = ++c->tick};
	return 0;
}

void rfdcache_release(rfdcache *c, int32_t key)
{
	int i = find(c, key);
	if (i < 0)
		return;
	if (--c->slot[i].pins == 0 && c->n > c->cap)
		remove_slot(c, (uint32_t)i);
}

void rfdcache_drop(rfdcache *c, int32_t key)
{
	int i = find(c, key);
	if (i >= 0 && !c->slot[i].pins)
		remove_slot(c, (uint32_t)i);
}

uint32_t rfdcache_trim(rfdcache *c)
{
	uint32_t closed = 0;
	while (evict(c))
		closed++;
	return closed;
}

void rfdcache_free(rfdcache *c)
{
	while (c->n)
		remove_slot(c, c->n - 1);
	free(c->slot);
	memset(c, 0, sizeof(*c));
}
