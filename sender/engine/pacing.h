/*
 * The sender's one token bucket (common/core/pacer.h), shared by every
 * block-sender thread and the control thread: booking a batch takes a
 * short lock, the wait for the booked instant happens outside it.  The
 * control thread moves the rate as the core's rate control decides.
 *
 * Thread-safe: every function may be called from any thread between
 * _init and _free.
 */
#ifndef SALVO_SEND_PACING_H
#define SALVO_SEND_PACING_H

#include <pthread.h>
#include <stdint.h>

#include "common/core/pacer.h"

typedef struct salvo_pacing {
	pthread_mutex_t lock;
	salvo_pacer pacer;
} salvo_pacing;

/* Returns 0 or -errno (the mutex could not be made). */
int salvo_pacing_init(salvo_pacing *p, uint64_t rate_bps);
void salvo_pacing_free(salvo_pacing *p);

/* Books bytes on the wire and sleeps until they may leave. */
void salvo_pacing_wait(salvo_pacing *p, uint64_t bytes);

/* Books bytes without waiting: a small control packet jumps the queue
 * (its timestamp must not carry our own pacing delay) but still counts. */
void salvo_pacing_charge(salvo_pacing *p, uint64_t bytes);

void salvo_pacing_set_rate(salvo_pacing *p, uint64_t rate_bps);
uint64_t salvo_pacing_rate(salvo_pacing *p);

#endif
