/*
 * Live limits and status: what a control socket (ctl.h) and running
 * sessions share.  A controller sets the rate's ceiling and floor here;
 * each session that was given the object (salvo_send_opts.live) applies a
 * change within 50 ms (its control thread looks every poll) and publishes
 * its rate, delivery rate and bytes back, so `status` can answer without
 * touching a session.
 *
 * Layers: a hot-folder profile's object has the watcher's as its parent.
 * A session obeys the nearest object whose limit was set (the profile's,
 * else the watcher's, else its options), and publishes into both, so the
 * watcher's status sums every session and a profile's sums its own.
 *
 * Thread-safe: every call takes the object's mutex (never held while
 * calling out).  Lifetime: the caller's; it must outlive every session
 * given it and every server serving it.
 */
#ifndef SALVO_SEND_LIVE_H
#define SALVO_SEND_LIVE_H

#include <pthread.h>
#include <stdint.h>

#include "common/core/rate.h"

/* One bound a controller may set. */
typedef struct salvo_live_limit {
	int set;      /* 0: not set here (the parent's, or the options') */
	uint64_t bps; /* 0: none */
} salvo_live_limit;

/* What `status` reports: the limits set here, and the sessions' sums. */
typedef struct salvo_live_status {
	salvo_live_limit ceiling, floor; /* set on this object */
	uint32_t sessions;		 /* running now */
	uint64_t rate_bps, delivery_bps;
	uint64_t acked_bytes, total_bytes; /* of every session so far */
	/* of the session that published last */
	char policy[16], state[16];
	uint64_t srtt_ns;
	uint64_t eff_ceiling_bps, eff_floor_bps; /* in force there, 0 none */
} salvo_live_status;

typedef struct salvo_send_live {
	pthread_mutex_t lock;
	struct salvo_send_live *parent; /* NULL: none */
	uint64_t gen; /* bumped by every change of a limit here */
	salvo_live_status st;
} salvo_send_live;

/* One session's share of what it published (salvo_send_live_publish
 * keeps the sums right as its numbers move); zeroed before the first. */
typedef struct salvo_live_share {
	int joined;
	uint64_t rate_bps, delivery_bps, acked_bytes, total_bytes;
} salvo_live_share;

/* Init with no limit set (parent may be NULL); 0 or -errno. */
int salvo_send_live_init(salvo_send_live *l, salvo_send_live *parent);
void salvo_send_live_free(salvo_send_live *l);

/* Sets (set 1) or clears (set 0: back to the parent's or the options')
 * the ceiling or the floor; bps 0 is "none".  Bumps gen here (a
 * session reads its object's gen plus its parent's). */
void salvo_send_live_set_ceiling(salvo_send_live *l, int set, uint64_t bps);
void salvo_send_live_set_floor(salvo_send_live *l, int set, uint64_t bps);

/* The change counter a session compares: its object's gen plus its
 * parent's. */
uint64_t salvo_send_live_gen(salvo_send_live *l);

/* The limits in force for a session whose options say opt_ceiling and
 * opt_floor: the nearest set ones.  0: none. */
void salvo_send_live_limits(salvo_send_live *l, uint64_t opt_ceiling,
			    uint64_t opt_floor, uint64_t *ceiling,
			    uint64_t *floor);

/* A session publishes its numbers (rs: the rate snapshot; acked, total:
 * its bytes), into l and its parent; leave 1 (its last call) takes its
 * rate out of the sums and counts it gone. */
void salvo_send_live_publish(salvo_send_live *l, salvo_live_share *me,
			     const char *policy, const salvo_rate_snapshot *rs,
			     uint64_t acked, uint64_t total, int leave);

/* A consistent copy of l's limits and numbers. */
void salvo_send_live_read(salvo_send_live *l, salvo_live_status *out);

#endif
