/*
 * What a session's writers wrote (see engine.h).
 *
 * Every piece the core hands to the engine is counted as pending in its
 * block when a socket thread collects it (under the core lock) and
 * settled when that thread has written it, after dropping the lock.  A
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

#include "common/core/limits.h"

int rdigest_init(rdigest *d, const salvo_manifest *m, uint32_t block_bytes)
{
	memset(d, 0, sizeof(*d));
	d->m = m;
	d->block_bytes = block_bytes;
	d->nblocks = salvo_block_count(m->total_bytes, block_bytes);
	size_t nb = d->nblocks ? (size_t)d->nblocks : 1;
	d->pending = calloc(nb, sizeof(*d->pending));
	if (!d->pending)
		return -ENOMEM;
	if (pthread_mutex_init(&d->mu, NULL))
		goto fail_pending;
	if (pthread_cond_init(&d->settled, NULL))
		goto fail_mu;
	return 0;
fail_mu:
	pthread_mutex_destroy(&d->mu);
fail_pending:
	free(d->pending);
	d->pending = NULL;
	return -ENOMEM;
}

void rdigest_free(rdigest *d)
{
	if (!d->pending)
		return;
	pthread_cond_destroy(&d->settled);
	pthread_mutex_destroy(&d->mu);
	free(d->pending);
	memset(d, 0, sizeof(*d));
}

static uint64_t block_of(const rdigest *d, uint32_t i, uint64_t off)
{
	return (d->m->entries[i].stream_offset + off) / d->block_bytes;
}

int rdigest_expect(rdigest *d, uint32_t i, uint64_t off)
{
	atomic_fetch_add(&d->pending[block_of(d, i, off)], 1);
	return 0;
}

void rdigest_add(rdigest *d, uint32_t i, uint64_t off, const void *p,
		 size_t len)
{
	(void)p;
	(void)len;
	uint64_t b = block_of(d, i, off);
	if (atomic_fetch_sub(&d->pending[b], 1) == 1 &&
	    atomic_load(&d->waiters)) {
		/* under mu: a waiter between its check and its sleep holds
		 * it, so the signal cannot fall in that gap */
		pthread_mutex_lock(&d->mu);
		pthread_cond_broadcast(&d->settled);
		pthread_mutex_unlock(&d->mu);
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
