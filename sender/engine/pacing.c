/*
 * The shared token bucket (see pacing.h).  One lock around one line of
 * arithmetic; the sleep is the caller's, outside the lock, so threads
 * book their batches in turn and wait for their slots side by side.  An
 * idle bucket banks at most one millisecond, the size of the largest
 * batch the emitter builds (salvo_emit_batch_for_rate).
 */
#include "sender/engine/pacing.h"

#include "common/io/sys.h"

int salvo_pacing_init(salvo_pacing *p, uint64_t rate_bps)
{
	int e = pthread_mutex_init(&p->lock, NULL);
	if (e)
		return -e;
	salvo_pacer_init(&p->pacer, rate_bps, SALVO_PACER_BURST_NS);
	return 0;
}

void salvo_pacing_free(salvo_pacing *p)
{
	pthread_mutex_destroy(&p->lock);
}

static uint64_t book(salvo_pacing *p, uint64_t bytes, uint64_t now)
{
	pthread_mutex_lock(&p->lock);
	uint64_t t = salvo_pacer_reserve(&p->pacer, bytes, now);
	pthread_mutex_unlock(&p->lock);
	return t;
}

void salvo_pacing_wait(salvo_pacing *p, uint64_t bytes)
{
	uint64_t t = book(p, bytes, salvo_now_ns());
	if (t > salvo_now_ns())
		salvo_sleep_until(t);
}

void salvo_pacing_charge(salvo_pacing *p, uint64_t bytes)
{
	book(p, bytes, salvo_now_ns());
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
