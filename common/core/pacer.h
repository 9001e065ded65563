/*
 * Pacing as arithmetic: a token bucket in virtual time that carries its
 * debt.  reserve() books `bytes` at the configured rate and returns the
 * instant they may leave; the caller sleeps until then (or sends at once
 * if it is not later than now).  Up to burst_ns of unused time is banked,
 * so an idle sender may send a short burst (a sendmmsg batch) at once.
 *
 * Not thread-safe by itself: engines that share one pacer between threads
 * hold a lock around reserve() (one call per batch, not per datagram).
 */
#ifndef SALVO_PACER_H
#define SALVO_PACER_H

#include <stdint.h>

/* Control packets up to this size are sent at once and only charged to
 * the pacer: a STATUS that waited behind booked data would measure the
 * sender's own queue into the RTT. */
#define SALVO_CONTROL_UNPACED_BYTES 256

/* Credit an idle sender banks: one batch, which the emitter keeps to
 * about a millisecond of the rate (sender/core/emit.h). */
#define SALVO_PACER_BURST_NS 1000000ull

typedef struct salvo_pacer {
	uint64_t rate_bps; /* bits per second; 0 means unpaced */
	uint64_t next_ns;  /* earliest start of the next booking */
	uint64_t burst_ns; /* credit an idle pacer may bank */
} salvo_pacer;

static inline void salvo_pacer_init(salvo_pacer *p, uint64_t rate_bps,
				    uint64_t burst_ns)
{
	p->rate_bps = rate_bps;
	p->next_ns = 0;
	p->burst_ns = burst_ns;
}

/* Books bytes; returns the time (ns) at which they may be sent. */
static inline uint64_t salvo_pacer_reserve(salvo_pacer *p, uint64_t bytes,
					   uint64_t now)
{
	if (!p->rate_bps)
		return now;
	uint64_t floor = now > p->burst_ns ? now - p->burst_ns : 0;
	uint64_t t = p->next_ns > floor ? p->next_ns : floor;
	/* bytes * 8e9 / rate, without overflow for any realistic size */
	unsigned __int128 d = (unsigned __int128)bytes * 8000000000u;
	p->next_ns = t + (uint64_t)(d / p->rate_bps);
	return t;
}

#endif
