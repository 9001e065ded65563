/*
 * The sender's one token bucket (common/core/pacer.h), shared by every
 * block-sender thread and the control thread: booking a batch takes a
 * short lock, the wait for the booked instant happens outside it.  The
 * control thread moves the rate as the core's rate control decides.
 *
 * A wait ends at its booked instant or when the session stops
 * (salvo_pacing_stop), whichever comes first: at 1 kbit/s one datagram
 * books 12 s, a 4 MiB block at 1 Mbit/s 32 s, and Ctrl-C must not wait
 * for either.
 *
 * Thread-safe: every function may be called from any thread between
 * _init and _free.
 */
#ifndef SALVO_SEND_PACING_H
#define SALVO_SEND_PACING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "common/core/pacer.h"

typedef struct salvo_pacing {
	pthread_mutex_t lock; /* the bucket */
	salvo_pacer pacer;
	/* the stop, apart from the bucket's lock so a waking thread does
	 * not hold up the bookings */
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cv; /* CLOCK_MONOTONIC */
	atomic_int stopped;	/* written under stop_lock */
} salvo_pacing;

/* Returns 0 or -errno (a mutex or condition could not be made). */
int salvo_pacing_init(salvo_pacing *p, uint64_t rate_bps);
void salvo_pacing_free(salvo_pacing *p);

/* Books bytes on the wire and sleeps until they may leave.  Returns 0, or
 * SALVO_ERR_ABORTED once the pacing is stopped (at once, or from inside
 * the sleep): the caller sends nothing more. */
int salvo_pacing_wait(salvo_pacing *p, uint64_t bytes);

/* Books bytes without waiting: a small control packet jumps the queue
 * (its timestamp must not carry our own pacing delay) but still counts. */
void salvo_pacing_charge(salvo_pacing *p, uint64_t bytes);

/* Ends every wait now and makes every later one return at once: the
 * session is over (stopped, failed or done).  Idempotent. */
void salvo_pacing_stop(salvo_pacing *p);

void salvo_pacing_set_rate(salvo_pacing *p, uint64_t rate_bps);
uint64_t salvo_pacing_rate(salvo_pacing *p);

#endif
