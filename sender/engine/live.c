/*
 * Live limits and status (see live.h).  The sums are kept by deltas: a
 * session remembers what it last added (salvo_live_share) and adds only
 * the difference, so any number of sessions can publish in any order
 * and the sums stay exact without a list of them.  The objects are two
 * levels deep at most (a profile and its watcher), each locked on its
 * own, child before parent, never both at once.
 */
#include "sender/engine/live.h"

#include <stdio.h>
#include <string.h>

int salvo_send_live_init(salvo_send_live *l, salvo_send_live *parent)
{
	memset(l, 0, sizeof(*l));
	l->parent = parent;
	int e = pthread_mutex_init(&l->lock, NULL);
	return -e;
}

void salvo_send_live_free(salvo_send_live *l)
{
	pthread_mutex_destroy(&l->lock);
}

static void set_limit(salvo_send_live *l, salvo_live_limit *lim, int set,
		      uint64_t bps)
{
	pthread_mutex_lock(&l->lock);
	lim->set = set;
	lim->bps = set ? bps : 0;
	l->gen++;
	pthread_mutex_unlock(&l->lock);
}

void salvo_send_live_set_ceiling(salvo_send_live *l, int set, uint64_t bps)
{
	set_limit(l, &l->st.ceiling, set, bps);
}

void salvo_send_live_set_floor(salvo_send_live *l, int set, uint64_t bps)
{
	set_limit(l, &l->st.floor, set, bps);
}

uint64_t salvo_send_live_gen(salvo_send_live *l)
{
	uint64_t g = 0;
	for (; l; l = l->parent) {
		pthread_mutex_lock(&l->lock);
		g += l->gen;
		pthread_mutex_unlock(&l->lock);
	}
	return g;
}

void salvo_send_live_limits(salvo_send_live *l, uint64_t opt_ceiling,
			    uint64_t opt_floor, uint64_t *ceiling,
			    uint64_t *floor)
{
	int have_c = 0, have_f = 0;
	*ceiling = opt_ceiling;
	*floor = opt_floor;
	for (; l; l = l->parent) {
		pthread_mutex_lock(&l->lock);
		if (!have_c && l->st.ceiling.set) {
			*ceiling = l->st.ceiling.bps;
			have_c = 1;
		}
		if (!have_f && l->st.floor.set) {
			*floor = l->st.floor.bps;
			have_f = 1;
		}
		pthread_mutex_unlock(&l->lock);
	}
}

static uint64_t moved(uint64_t sum, uint64_t old, uint64_t now)
{
	return sum - old + now; /* old is part of sum */
}

void salvo_send_live_publish(salvo_send_live *l, salvo_live_share *me,
			     const char *policy, const salvo_rate_snapshot *rs,
			     uint64_t acked, uint64_t total, int leave)
{
	salvo_live_share now = {.joined = !leave,
				.rate_bps = leave ? 0 : rs->rate_bps,
				.delivery_bps = leave ? 0 : rs->delivery_bps,
				.acked_bytes = acked,
				.total_bytes = total};
	for (; l; l = l->parent) {
		pthread_mutex_lock(&l->lock);
		salvo_live_status *st = &l->st;
		if (!me->joined && !leave)
			st->sessions++;
		else if (me->joined && leave && st->sessions)
			st->sessions--;
		st->rate_bps = moved(st->rate_bps, me->rate_bps, now.rate_bps);
		st->delivery_bps =
		    moved(st->delivery_bps, me->delivery_bps, now.delivery_bps);
		st->acked_bytes =
		    moved(st->acked_bytes, me->acked_bytes, now.acked_bytes);
		st->total_bytes =
		    moved(st->total_bytes, me->total_bytes, now.total_bytes);
		snprintf(st->policy, sizeof(st->policy), "%s",
			 policy ? policy : "");
		snprintf(st->state, sizeof(st->state), "%s",
			 rs->state ? rs->state : "");
		st->srtt_ns = rs->srtt_ns;
		st->eff_ceiling_bps = rs->ceiling_bps;
		st->eff_floor_bps = rs->floor_bps;
		pthread_mutex_unlock(&l->lock);
	}
	*me = now;
}

void salvo_send_live_read(salvo_send_live *l, salvo_live_status *out)
{
	pthread_mutex_lock(&l->lock);
	*out = l->st;
	pthread_mutex_unlock(&l->lock);
}
