/*
 * The shared token bucket (see pacing.h).  One lock around one line of
 * arithmetic; the sleep is the caller's, outside that lock, so threads
 * book their batches in turn and wait for their slots side by side.  An
 * idle bucket banks at most one millisecond, the size of the largest
 * batch the emitter builds (salvo_emit_batch_for_rate).
 *
 * The sleep is a timed wait on a condition variable that
 * salvo_pacing_stop broadcasts, not a nanosleep: the waiter wakes at its
 * booked instant or at the stop, never to look at a flag.
 */
#include "sender/engine/pacing.h"

#include <time.h>

#include "common/core/error.h"
#include "common/io/sys.h"

int salvo_pacing_init(salvo_pacing *p, uint64_t rate_bps)
{
	int e = -salvo_cond_init_monotonic(&p->stop_cv);
	if (e)
		return -e;
	e = pthread_mutex_init(&p->stop_lock, NULL);
	if (e)
		goto fail_stop_lock;
	e = pthread_mutex_init(&p->lock, NULL);
	if (e)
		goto fail_lock;
	atomic_store(&p->stopped, 0);
	salvo_pacer_init(&p->pacer, rate_bps, SALVO_PACER_BURST_NS);
	return 0;

fail_lock:
	pthread_mutex_destroy(&p->stop_lock);
fail_stop_lock:
	pthread_cond_destroy(&p->stop_cv);
	return -e;
}

void salvo_pacing_free(salvo_pacing *p)
{
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->stop_lock);
	pthread_cond_destroy(&p->stop_cv);
}

static uint64_t book(salvo_pacing *p, uint64_t bytes, uint64_t now)
{
	pthread_mutex_lock(&p->lock);
	uint64_t t = salvo_pacer_reserve(&p->pacer, bytes, now);
	pthread_mutex_unlock(&p->lock);
	return t;
}

int salvo_pacing_wait(salvo_pacing *p, uint64_t bytes)
{
	uint64_t t = book(p, bytes, salvo_now_ns());
	if (atomic_load(&p->stopped))
		return SALVO_ERR_ABORTED;
	if (t <= salvo_now_ns())
		return 0;
	pthread_mutex_lock(&p->stop_lock);
	while (!atomic_load(&p->stopped) && salvo_now_ns() < t)
		salvo_cond_wait_until(&p->stop_cv, &p->stop_lock, t);
	int stopped = atomic_load(&p->stopped);
	pthread_mutex_unlock(&p->stop_lock);
	return stopped ? SALVO_ERR_ABORTED : 0;
}

void salvo_pacing_charge(salvo_pacing *p, uint64_t bytes)
{
	book(p, bytes, salvo_now_ns());
}

void salvo_pacing_stop(salvo_pacing *p)
{
	pthread_mutex_lock(&p->stop_lock);
	atomic_store(&p->stopped, 1);
	pthread_cond_broadcast(&p->stop_cv);
	pthread_mutex_unlock(&p->stop_lock);
}

void salvo_pacing_set_rate(salvo_pacing *p, uint64_t rate_bps)
{
	pthread_mutex_lock(&p->lock);
	p->pacer.rate_bps = rate_bps;
	pthread_mutex_unlock(&p->lock);
}

uint64_t salvo_pacing_rate(salvo_pacing *p)
{
	pthread_mutex_lock(&p->lock);
	uint64_t r = p->pacer.rate_bps;
	pthread_mutex_unlock(&p->lock);
	return r;
}
