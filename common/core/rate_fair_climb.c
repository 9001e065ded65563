/*
 * "fair"'s climb into room (Copa's velocity, BBR's re-probe of the
 * bandwidth), in delay mode and in competitive mode's room
 * (rate_fair.c's header gives the whole algorithm).  Delay mode's own
 * step reaches for what the path delivers, corrected by the queue, and
 * so lags the path by a round: below the link it climbs a few per cent
 * a round, and with a pacer that lets out less than the rate (a busy
 * host) its reach is under the rate itself; its room probe waits for
 * rounds whose every reading is (nearly) empty, which late feedback and
 * a busy host's RTT noise deny (the lab: 33 RTTs from an early exit
 * near 100 Mbit/s to the link, and about 70 from 80 Mbit/s after a TCP
 * flow left).  So, after CLIMB_DELAY_ROUNDS clear rounds in a row
 * (CLIMB_COMPETE_ROUNDS in competitive mode), the rate itself grows by
 * a velocity a round, feedback by feedback, from 1/16; the velocity
 * doubles (to at most 1/4, 1/8 while the feedback comes late) at each
 * round's end that is clear and whose delivery grew by half the
 * velocity since the last doubling (the path took what we added: at
 * the link, an empty queue alone is no room, and the climb would cycle
 * there).
 *
 * A round is clear when its lowest queue reading stayed under a quarter
 * of our target (plus half the late-feedback allowance): one reading
 * near empty a round is what noise gives, a queue that builds lifts
 * them all.  Not in "low", not during a drain or the refill after it
 * (the queue a drain empties is not room), not app-limited.
 */
#include "common/core/rate.h"
#include "common/core/rate_fair_impl.h"

/* Its first growth a round, 1/16, and its most, 1/4 (1/2 overflowed
 * the one-BDP queue in two of test_rate_climb's rows: the queue shows
 * an RTT and a half-RTT standing window late), 1/8 with late feedback,
 * whose allowance hides that much more queue (the simulator's
 * rekey-epoch, 15 ms of jitter on 50 ms, overshot to 1.15x the link and
 * resent 1.2 % over its byte bound at 1/4); the clear rounds in a
 * row it waits for in delay mode (2 let a flow climb into the room a
 * partner's one-round drain leaves: high beside fair 1.85 -> 1.36x) and
 * in competitive mode, where a CUBIC filler's cut empties a shallow
 * queue for seconds (fair beside CUBIC at 0.5 BDP took 70-74 % of the
 * link with 6, 65 % with 10; 15 leaves the beside-CUBIC rows as they
 * were, and after a TCP flow leaves the climb then starts 1.5 s on). */
#define CLIMB_FIRST_PM 62500
#define CLIMB_MAX_PM 250000
#define CLIMB_DELAY_ROUNDS 3
#define CLIMB_COMPETE_ROUNDS 15

/* A round's end: count clear rounds, start or double the climb. */
void salvo_fair_climb_round(salvo_rate_fair *f, const salvo_rate_sample *s)
{
	uint64_t t = salvo_fair_target_delay(f, f->rate_bps);
	int steady =
	    (f->mode == M_DELAY || f->mode == M_COMPETE) && !f->probe_until &&
	    s->now - f->last_probe > f->probe_ns + f->srtt_ns + round_ns(f);
	int clear = steady && !f->pr->delay_cap_ns && !s->app_limited &&
		    f->round_n &&
		    f->round_dq_min <= t / 4 + late_allowance(f) / 2;
	if (!clear) {
		f->climb_pm = 0;
		f->climb_rounds = 0;
		return;
	}
	uint32_t wait =
	    f->mode == M_COMPETE ? CLIMB_COMPETE_ROUNDS : CLIMB_DELAY_ROUNDS;
	if (++f->climb_rounds < wait)
		return;
	if (!f->climb_pm) {
		f->climb_pm = CLIMB_FIRST_PM;
		f->climb_bw = f->delivered_bps;
	} else if (2 * f->round_bw >=
		   2 * f->climb_bw + f->climb_bw / 1000000 * f->climb_pm) {
		uint64_t most = f->fb_late_ns >= LATE_FB_NS ? CLIMB_MAX_PM / 2
							    : CLIMB_MAX_PM;
		f->climb_pm = (uint32_t)min64(2ull * f->climb_pm, most);
		f->climb_bw = f->round_bw;
	}
}

/* While the climb runs: the rate grows by climb_pm a round from r0,
 * where it was before this feedback's step, if that step gave less
 * (delay mode's step reaches for the delivery, a round behind).  It
 * pauses while what arrived falls short of what left (start-up's
 * "arrivals short" window, against our own part: a lagging pacer's
 * steady shortfall is not one) and ends at the first sign of the
 * path's queue: two such windows in a row (the bottleneck holding
 * back, an RTT before its queue shows), or a queue reading over our
 * target (plus the late-feedback allowance).  Ending, the rate falls to
 * what the path delivers: those signs come an RTT late, and the rate
 * has grown since (a first version that only stopped climbing peaked at
 * 1.7x the link from 80 Mbit/s and overflowed the one-BDP queue). */
void salvo_fair_climb_step(salvo_rate_fair *f, const salvo_rate_sample *s,
			   uint64_t dt, uint64_t r0)
{
	if (!f->climb_pm)
		return;
	uint64_t cap = capacity(f), rnd = round_ns(f);
	if ((f->mode != M_DELAY && f->mode != M_COMPETE) || f->probe_until) {
		f->climb_pm = 0;
		return;
	}
	if (f->short_windows >= 2 ||
	    f->dq_ns > salvo_fair_target_delay(f, r0) + late_allowance(f)) {
		f->climb_pm = 0;
		f->climb_rounds = 0;
		f->rate_bps = clamp(f, min64(f->rate_bps, max64(cap, 1)));
		return;
	}
	if (s->app_limited || f->short_windows || r0 >= 2 * cap)
		return;
	uint64_t up = r0 + (uint64_t)((unsigned __int128)r0 * f->climb_pm *
				      min64(dt, rnd) / (1000000ull * rnd));
	if (up > f->rate_bps)
		f->rate_bps = clamp(f, up);
}
