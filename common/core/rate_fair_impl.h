/*
 * Shared by rate_fair.c (start-up, delay mode, the rounds),
 * rate_fair_compete.c (the drain test and competitive mode) and
 * rate_fair_climb.c (the climb into room): the modes, the profiles'
 * shape and the small arithmetic they use.  Not part of
 * the rate controllers' interface (rate.h is).
 */
#ifndef SALVO_RATE_FAIR_IMPL_H
#define SALVO_RATE_FAIR_IMPL_H

#include <stdint.h>

#include "common/core/rate.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define MIN_ROUND_NS (4 * MS)
#define MIN_RATE_BPS 500000ull

enum { M_START, M_DRAIN, M_DELAY, M_COMPETE };

struct salvo_rate_profile {
	uint32_t weight_num, weight_den; /* w: share of the delay target */
	int compete;			 /* may enter competitive mode */
	uint32_t beta_pm;		 /* competitive cut: rate kept */
	uint32_t cubic_c_pm;		 /* CUBIC's C, 1/1000 packet/s^3 */
	uint64_t delay_cap_ns;		 /* never hold more; 0 none */
};

static inline uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static inline uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Feedback counts as late when its RTT samples read this much over
 * the standing RTT, on average (rate_fair.c's slack_div()). */
#define LATE_FB_NS (1 * MS)

/* What late feedback adds to the standing queue we read: the standing
 * RTT is the lowest of a few samples, each late by up to the
 * feedback's lateness (its mean over the standing RTT is about a
 * quarter of the most; twice that mean is about the lowest sample's
 * lateness plus its spread).  0 unless the feedback counts as late: a
 * queue that grows (a filler's) also reads over the standing RTT, and
 * allowing for that kept "high" out of competitive mode beside CUBIC
 * (55-62 % of the link, less than fair).  The drain's verdict allows
 * for it. */
static inline uint64_t late_allowance(const salvo_rate_fair *f)
{
	return f->fb_late_ns >= LATE_FB_NS ? 2 * f->fb_late_ns : 0;
}

/* r within [floor, ceiling], and above MIN_RATE_BPS unless the ceiling
 * is lower */
static inline uint64_t clamp(const salvo_rate_fair *f, uint64_t r)
{
	uint64_t floor = max64(f->floor_bps, MIN_RATE_BPS);
	floor = min64(floor, f->ceiling_bps);
	return r < floor ? floor : min64(r, f->ceiling_bps);
}

/* one round: the lowest RTT, at least MIN_ROUND_NS */
static inline uint64_t round_ns(const salvo_rate_fair *f)
{
	return max64(f->min_rtt_ns, MIN_ROUND_NS);
}

/* The path's rate from what arrived, corrected for the random loss. */
static inline uint64_t capacity(const salvo_rate_fair *f)
{
	uint64_t keep = 1000000 - min64(f->loss_ppm, 200000);
	return (uint64_t)((unsigned __int128)f->delivered_bps * 1000000 / keep);
}

/* Most of the queue we see is the receiver's sockets' (host_wait_ns):
 * only flows into that receiver fill it, never a buffer filler on the
 * path, so it is no reason to compete (64 salvo flows into one busy
 * receiver each took the others for fillers). */
static inline int host_queue(const salvo_rate_fair *f)
{
	return 2 * f->host_wait_ns >= f->dq_ns && f->host_wait_ns;
}

/* rate_fair.c: the delay-mode target, the queue a flow of rate r holds. */
uint64_t salvo_fair_target_delay(const salvo_rate_fair *f, uint64_t r);

/* rate_fair_climb.c: the climb into room.  At a round's end (before
 * the round's history is kept): count clear rounds, start or double
 * the velocity, or end it. */
void salvo_fair_climb_round(salvo_rate_fair *f, const salvo_rate_sample *s);
/* After a feedback's mode step (r0: the rate before it): grow the rate
 * by the velocity, or end the climb at a sign of the path's queue. */
void salvo_fair_climb_step(salvo_rate_fair *f, const salvo_rate_sample *s,
			   uint64_t dt, uint64_t r0);

/* rate_fair_compete.c */
/* Enter a mode (competitive: take back the rate held before yielding,
 * and start a CUBIC epoch there). */
void salvo_fair_enter(salvo_rate_fair *f, int mode, uint64_t now);
/* Competitive mode's cut, as a TCP flow meeting its drop. */
void salvo_fair_compete_cut(salvo_rate_fair *f, uint64_t now);
/* One feedback in competitive mode: a drain when due, else the CUBIC
 * window; never above twice the delivery rate. */
void salvo_fair_compete_step(salvo_rate_fair *f, const salvo_rate_sample *s,
			     uint64_t dt);
/* Start, run or end a drain when due; 1 while one runs or ends (the
 * mode's own step then waits). */
int salvo_fair_probe_step(salvo_rate_fair *f, const salvo_rate_sample *s);
/* After a drain: did the queue follow us down?  Enters or leaves
 * competitive mode. */
void salvo_fair_probe_watch(salvo_rate_fair *f, uint64_t now);
/* 1: the queue stayed at 3 x our target for rounds while we did not
 * gain. */
int salvo_fair_buffer_filler(const salvo_rate_fair *f);

#endif
