/*
 * What a session's writers wrote (see engine.h), hashed once, as written.
 *
 * Each piece a writer puts on disk is folded, from the receive buffer it
 * was written from, into (a) its block's CRC32C accumulator: the XOR of
 * every piece's contribution (salvo_crc32c_piece), complete whatever the
 * order the pieces came in, compared by the verifier with the block CRC
 * the sender put in every datagram; and (b) its file's BLAKE3 tree
 * (salvo_b3tree), which takes chunks in any order and gives the file's
 * digest once every byte is in.  So the verifier never reads a part-file
 * back to check it.  The accumulator is an atomic (XOR commutes); a
 * file's record is guarded by one of RDIGEST_LOCKS mutexes (by index),
 * because several socket threads write one file.  A record is made on
 * its file's first piece and freed at the file's check.
 *
 * Small files: a tree costs about 1.4 KiB, and a 4 MiB block holds half
 * a million 8-byte files, all of them waiting for their block's check at
 * once.  A file of at most one BLAKE3 chunk (1 KiB) is one chunk, its
 * own root, so it needs no tree: its record collects its bytes (for at
 * most 32 bytes, in the room its digest takes) and is hashed as its last
 * byte arrives, when the buffer becomes the digest.  A million tiny
 * files in flight then take about 48 MB instead of 1.4 GB.
 *
 * A block that fails its CRC is fetched again, and its bytes would go
 * into the trees a second time: the trees it touches are dropped, and
 * those files are read back for their digest at finalize (rare).
 *
 * Every piece the core hands to the engine is counted (in bytes) as
 * pending in its block when a socket thread collects it (under the core
 * lock) and settled when that thread has written and hashed it, after
 * dropping the lock.  A
 * block's verification waits for its count to reach zero: the core may
 * see a block complete in one socket thread's batch while another thread
 * is still writing an earlier piece of it.  The counts are atomics; a
 * verifier that finds one non-zero sleeps on `settled`, which a writer
 * signals only when a count reaches zero while someone waits.
 */
#include "receiver/engine/engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/b3tree.h"
#include "common/core/blake3.h"
#include "common/core/crc32c.h"
#include "common/core/limits.h"

#define SMALL_BYTES SALVO_BLAKE3_CHUNK_BYTES
#define DIGEST_BYTES 32

enum { RD_TREE, RD_SMALL, RD_HASHED, RD_BAD };

/* RD_BAD: unusable, the file is read back at finalize. */
struct rdfile {
	uint8_t kind;  /* RD_* */
	uint32_t have; /* RD_SMALL: bytes collected (each byte comes once) */
	union {
		salvo_b3tree *tree;	   /* RD_TREE */
		uint8_t buf[DIGEST_BYTES]; /* RD_SMALL: the file's bytes (the
					      record has room for them all);
					      RD_HASHED: its digest */
	} u;
};

static pthread_mutex_t *lock_of(rdigest *d, uint32_t i)
{
	return &d->locks[i % RDIGEST_LOCKS];
}

int rdigest_init(rdigest *d, const salvo_manifest *m, uint32_t block_bytes)
{
	memset(d, 0, sizeof(*d));
	d->m = m;
	d->block_bytes = block_bytes;
	d->nblocks = salvo_block_count(m->total_bytes, block_bytes);
	size_t nb = d->nblocks ? (size_t)d->nblocks : 1;
	size_t nf = m->count ? m->count : 1;
	d->pending = calloc(nb, sizeof(*d->pending));
	if (!d->pending)
		return -ENOMEM;
	d->acc = calloc(nb, sizeof(*d->acc));
	if (!d->acc)
		goto fail_pending;
	d->file = calloc(nf, sizeof(*d->file));
	if (!d->file)
		goto fail_acc;
	int k = 0;
	while (k < RDIGEST_LOCKS && !pthread_mutex_init(&d->locks[k], NULL))
		k++;
	if (k < RDIGEST_LOCKS)
		goto fail_locks;
	if (pthread_mutex_init(&d->mu, NULL))
		goto fail_locks;
	if (pthread_cond_init(&d->settled, NULL))
		goto fail_mu;
	return 0;
fail_mu:
	pthread_mutex_destroy(&d->mu);
fail_locks:
	while (k > 0)
		pthread_mutex_destroy(&d->locks[--k]);
	free(d->file);
fail_acc:
	free(d->acc);
fail_pending:
	free(d->pending);
	d->pending = NULL;
	return -ENOMEM;
}

static void drop_file(rdigest *d, uint32_t i)
{
	rdfile *f = d->file[i];
	if (!f)
		return;
	if (f->kind == RD_TREE)
		salvo_b3tree_del(f->u.tree);
	free(f);
	d->file[i] = NULL;
}

static void spoil(rdfile *f)
{
	if (f->kind == RD_TREE)
		salvo_b3tree_del(f->u.tree);
	f->kind = RD_BAD;
}

void rdigest_free(rdigest *d)
{
	if (!d->pending)
		return;
	for (uint32_t i = 0; i < d->m->count; i++)
		drop_file(d, i);
	pthread_cond_destroy(&d->settled);
	pthread_mutex_destroy(&d->mu);
	for (int k = 0; k < RDIGEST_LOCKS; k++)
		pthread_mutex_destroy(&d->locks[k]);
	free(d->file);
	free(d->acc);
	free(d->pending);
	memset(d, 0, sizeof(*d));
}

static uint64_t block_of(const rdigest *d, uint32_t i, uint64_t off)
{
	return (d->m->entries[i].stream_offset + off) / d->block_bytes;
}

/* A record for entry i: room for a small file's bytes, else a tree (if
 * the tree cannot be had, the file is read back at finalize instead). */
static int new_file(rdigest *d, uint32_t i)
{
	uint64_t size = d->m->entries[i].size;
	size_t extra = size <= SMALL_BYTES && size > DIGEST_BYTES
			   ? (size_t)size - DIGEST_BYTES
			   : 0;
	rdfile *f = calloc(1, sizeof(*f) + extra);
	if (!f)
		return -ENOMEM;
	f->kind = RD_SMALL;
	if (size > SMALL_BYTES) {
		f->kind = RD_TREE;
		if (salvo_b3tree_new(&f->u.tree, &salvo_mem_libc, size))
			f->kind = RD_BAD;
	}
	d->file[i] = f;
	return 0;
}

int rdigest_expect(rdigest *d, uint32_t i, uint64_t off, size_t len)
{
	if (!d->file[i] && new_file(d, i))
		return -ENOMEM;
	atomic_fetch_add(&d->pending[block_of(d, i, off)], (uint32_t)len);
	return 0;
}

/* Settles n bytes of block b; wakes a verifier waiting for the block. */
static void settle(rdigest *d, uint64_t b, uint32_t n)
{
	if (atomic_fetch_sub(&d->pending[b], n) == n &&
	    atomic_load(&d->waiters)) {
		/* under mu: a waiter between its check and its sleep holds
		 * it, so the signal cannot fall in that gap */
		pthread_mutex_lock(&d->mu);
		pthread_cond_broadcast(&d->settled);
		pthread_mutex_unlock(&d->mu);
	}
}

/* A small file's piece; its last byte turns the bytes into the digest
 * (a piece that is the whole file is hashed where it lies). */
static void add_small(rdfile *f, uint64_t size, uint64_t off, const void *p,
		      size_t len)
{
	if (off + len > size || f->have + len > size) {
		spoil(f); /* cannot happen: each byte comes once */
		return;
	}
	if (len == size) {
		salvo_blake3_hash(p, len, f->u.buf);
		f->kind = RD_HASHED;
		return;
	}
	memcpy(f->u.buf + off, p, len);
	f->have += (uint32_t)len;
	if (f->have == size) {
		uint8_t tmp[SMALL_BYTES];
		memcpy(tmp, f->u.buf, (size_t)size);
		salvo_blake3_hash(tmp, (size_t)size, f->u.buf);
		f->kind = RD_HASHED;
	}
}

/* Folds a piece (p NULL: a failed write) into entry i's record. */
static void add_file(rdigest *d, uint32_t i, uint64_t off, const void *p,
		     size_t len)
{
	rdfile *f = d->file[i];
	pthread_mutex_lock(lock_of(d, i));
	if (!p)
		spoil(f); /* those bytes never come: read back */
	else if (f->kind == RD_SMALL)
		add_small(f, d->m->entries[i].size, off, p, len);
	else if (f->kind == RD_TREE && salvo_b3tree_add(f->u.tree, off, p, len))
		spoil(f); /* no memory: read back instead */
	pthread_mutex_unlock(lock_of(d, i));
}

void rdigest_add(rdigest *d, uint32_t i, uint64_t off, const void *p,
		 size_t len)
{
	add_file(d, i, off, p, len);
	uint64_t at = d->m->entries[i].stream_offset + off;
	const uint8_t *q = p;
	while (len) {
		uint64_t b = at / d->block_bytes;
		uint64_t end =
		    salvo_block_start(b, d->block_bytes) +
		    salvo_block_len(b, d->block_bytes, d->m->total_bytes);
		uint32_t n = (uint32_t)(end - at < len ? end - at : len);
		if (q) {
			atomic_fetch_xor(
			    &d->acc[b], salvo_crc32c_piece(q, n, end - at - n));
			q += n;
		}
		settle(d, b, n);
		at += n;
		len -= n;
	}
}

void rdigest_wait_block(rdigest *d, uint64_t b)
{
	if (!atomic_load(&d->pending[b]))
		return;
	pthread_mutex_lock(&d->mu);
	atomic_fetch_add(&d->waiters, 1);
	while (atomic_load(&d->pending[b]))
		pthread_cond_wait(&d->settled, &d->mu);
	atomic_fetch_sub(&d->waiters, 1);
	pthread_mutex_unlock(&d->mu);
}

int rdigest_block_ok(rdigest *d, uint64_t b, uint32_t crc)
{
	uint32_t len = salvo_block_len(b, d->block_bytes, d->m->total_bytes);
	return salvo_crc32c_pieces_final(atomic_load(&d->acc[b]), len) == crc;
}

void rdigest_block_failed(rdigest *d, uint64_t b)
{
	uint64_t start = salvo_block_start(b, d->block_bytes);
	uint64_t end =
	    start + salvo_block_len(b, d->block_bytes, d->m->total_bytes);
	atomic_store(&d->acc[b], 0);
	for (uint32_t i = salvo_manifest_locate(d->m, start);
	     i < d->m->count && d->m->entries[i].stream_offset < end; i++) {
		rdfile *f = d->file[i];
		if (!f)
			continue;
		pthread_mutex_lock(lock_of(d, i));
		spoil(f);
		pthread_mutex_unlock(lock_of(d, i));
	}
}

int rdigest_file(rdigest *d, uint32_t i, uint8_t out[32])
{
	rdfile *f = d->file[i];
	int rc = 1;
	if (f && f->kind == RD_HASHED) {
		memcpy(out, f->u.buf, DIGEST_BYTES);
		rc = 0;
	} else if (f && f->kind == RD_TREE) {
		rc = !salvo_b3tree_is_complete(f->u.tree) ||
		     salvo_b3tree_final(f->u.tree, out);
	}
	drop_file(d, i);
	return rc;
}
