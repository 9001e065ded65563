/*
 * The sender's digests (see hasher.h).  A small file inside one block
 * skips the tree: salvo_blake3_hash over the buffer, no lock, no
 * allocation.  A larger file gets its tree at its first piece; the
 * stripe lock of the file (file index mod SALVO_HASHER_STRIPES) guards
 * the tree pointer and the tree.  The thread that adds the last piece
 * takes the digest, frees the tree and reports, outside the lock.
 */
#include "sender/engine/hasher.h"

#include <errno.h>
#include <stdlib.h>

#include "common/core/blake3.h"
#include "common/core/error.h"

int salvo_hasher_init(salvo_hasher *h, const salvo_entry *e, uint32_t n,
		      uint64_t total, salvo_hasher_done_fn done, void *ud)
{
	*h = (salvo_hasher){.done = done, .ud = ud};
	h->view.entries = (salvo_entry *)e;
	h->view.count = n;
	h->view.total_bytes = total;
	h->tree = calloc(n ? n : 1, sizeof(*h->tree));
	h->skip = calloc(n ? n : 1, sizeof(*h->skip));
	if (!h->tree || !h->skip) {
		free(h->tree);
		free(h->skip);
		h->tree = NULL;
		h->skip = NULL;
		return -ENOMEM;
	}
	salvo_rangeset_init(&h->hashed, &salvo_mem_libc);
	int merr = pthread_mutex_init(&h->hashed_mu, NULL);
	if (merr) {
		free(h->tree);
		free(h->skip);
		h->tree = NULL;
		h->skip = NULL;
		return -merr;
	}
	for (int i = 0; i < SALVO_HASHER_STRIPES; i++) {
		int err = pthread_mutex_init(&h->stripe[i], NULL);
		if (err) {
			while (i--)
				pthread_mutex_destroy(&h->stripe[i]);
			pthread_mutex_destroy(&h->hashed_mu);
			free(h->tree);
			free(h->skip);
			h->tree = NULL;
			h->skip = NULL;
			return -err;
		}
	}
	return 0;
}

void salvo_hasher_free(salvo_hasher *h)
{
	if (!h->tree)
		return;
	for (uint32_t i = 0; i < h->view.count; i++)
		salvo_b3tree_del(h->tree[i]);
	free(h->tree);
	free(h->skip);
	h->tree = NULL;
	h->skip = NULL;
	for (int i = 0; i < SALVO_HASHER_STRIPES; i++)
		pthread_mutex_destroy(&h->stripe[i]);
	pthread_mutex_destroy(&h->hashed_mu);
	salvo_rangeset_free(&h->hashed);
}

void salvo_hasher_skip(salvo_hasher *h, uint32_t i)
{
	if (i >= h->view.count)
		return;
	atomic_store(&h->skip[i], 1);
	pthread_mutex_t *m = &h->stripe[i % SALVO_HASHER_STRIPES];
	pthread_mutex_lock(m);
	salvo_b3tree_del(h->tree[i]);
	h->tree[i] = NULL;
	pthread_mutex_unlock(m);
}

void salvo_hasher_empty_files(salvo_hasher *h)
{
	uint8_t d[32];
	salvo_blake3_hash("", 0, d);
	for (uint32_t i = 0; i < h->view.count; i++)
		if (h->view.entries[i].type == SALVO_ENTRY_FILE &&
		    !h->view.entries[i].size)
			h->done(h->ud, i, d);
}

/* Adds bytes [in, in + len) of file i; 1 when they completed it, with
 * the digest in d. */
static int add_piece(salvo_hasher *h, uint32_t i, uint64_t in, const uint8_t *p,
		     size_t len, uint8_t d[32])
{
	uint64_t size = h->view.entries[i].size;
	if (atomic_load(&h->skip[i]))
		return 0;
	if (!in && len == size) {
		salvo_blake3_hash(p, len, d);
		return 1;
	}
	pthread_mutex_t *m = &h->stripe[i % SALVO_HASHER_STRIPES];
	pthread_mutex_lock(m);
	int rc = 0;
	if (atomic_load(&h->skip[i])) {
		pthread_mutex_unlock(m);
		return 0;
	}
	if (!h->tree[i])
		rc = salvo_b3tree_new(&h->tree[i], &salvo_mem_libc, size);
	if (!rc)
		rc = salvo_b3tree_add(h->tree[i], in, p, len);
	salvo_b3tree *full = NULL;
	if (!rc && salvo_b3tree_is_complete(h->tree[i])) {
		full = h->tree[i];
		h->tree[i] = NULL;
	}
	pthread_mutex_unlock(m);
	if (rc)
		return rc;
	if (!full)
		return 0;
	rc = salvo_b3tree_final(full, d);
	salvo_b3tree_del(full);
	return rc ? rc : 1;
}

/* Stream bytes [off, off + len) at p, each hashed once in all. */
static int add_span(salvo_hasher *h, uint64_t off, const uint8_t *p,
		    size_t len);

/* The first range of [*at, end) not hashed, claimed: 1 with it in
 * [*at, *gend), 0 when none is left, or SALVO_ERR_NOMEM. */
static int claim_unhashed(salvo_hasher *h, uint64_t *at, uint64_t end,
			  uint64_t *gend)
{
	int rc = 0;
	pthread_mutex_lock(&h->hashed_mu);
	while (*at < end) {
		salvo_rangeset *hs = &h->hashed;
		size_t i = salvo_rangeset_lower_bound(hs, *at);
		if (i < hs->n && hs->r[i].start <= *at) {
			*at = hs->r[i].end; /* hashed already */
			continue;
		}
		*gend =
		    i < hs->n && hs->r[i].start < end ? hs->r[i].start : end;
		rc =
		    salvo_rangeset_add(hs, *at, *gend, 0) ? SALVO_ERR_NOMEM : 1;
		break;
	}
	pthread_mutex_unlock(&h->hashed_mu);
	return rc;
}

int salvo_hasher_add(salvo_hasher *h, uint64_t off, const uint8_t *p,
		     size_t len)
{
	uint64_t at = off, end = off + len, gend;
	int rc;
	while ((rc = claim_unhashed(h, &at, end, &gend)) == 1) {
		rc = add_span(h, at, p + (at - off), (size_t)(gend - at));
		if (rc)
			return rc;
		at = gend;
	}
	return rc;
}

int salvo_hasher_fill(salvo_hasher *h, uint64_t off, uint64_t len,
		      salvo_hasher_read_fn read, void *ud, uint8_t *buf,
		      size_t cap)
{
	uint64_t at = off, end = off + len, gend;
	int rc;
	while ((rc = claim_unhashed(h, &at, end, &gend)) == 1) {
		while (at < gend) {
			size_t n = gend - at < cap ? (size_t)(gend - at) : cap;
			rc = read(ud, at, buf, n);
			if (!rc)
				rc = add_span(h, at, buf, n);
			if (rc)
				return rc;
			at += n;
		}
	}
	return rc;
}

static int add_span(salvo_hasher *h, uint64_t off, const uint8_t *p, size_t len)
{
	uint32_t i = salvo_manifest_locate(&h->view, off);
	for (; len && i < h->view.count; i++) {
		const salvo_entry *e = &h->view.entries[i];
		if (!e->size || off >= e->stream_offset + e->size)
			continue;
		uint64_t in = off - e->stream_offset;
		size_t n = e->size - in < len ? (size_t)(e->size - in) : len;
		uint8_t d[32];
		int rc = add_piece(h, i, in, p, n, d);
		if (rc < 0)
			return rc;
		if (rc)
			h->done(h->ud, i, d);
		p += n;
		off += n;
		len -= n;
	}
	return len ? SALVO_ERR_INVAL : 0;
}
