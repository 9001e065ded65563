/*
 * Rate control that needs no rate: "fair" (meant as the default), "high"
 * and "low".  One algorithm, three profiles; docs/PROTOCOL.md ("Rate
 * control: fair, high, low") gives the reasoning and what Copa, BBR and
 * LEDBAT taught it.
 *
 * Signals, all from the receiver's feedback: the RTT of each heartbeat
 * (standing RTT: the lowest of the last half RTT; queue dq: standing
 * minus the lowest seen), the payload the receiver holds (delivery
 * rate: what it newly holds over at least an eighth of a round, never
 * more than 1.25 x what the pacer let out over the same span one
 * standing RTT earlier, as BBR takes the longer of a sample's send and
 * ack intervals: feedback that arrives bunched is not a faster path;
 * 1/32 over in delay mode at our target while RTT samples read 1 ms
 * or more over the standing RTT on average: feedback that comes late;
 * with such feedback, also over the span between the feedbacks' times
 * with their lateness taken out, where that is longer),
 * the payload it reports lost, and what is in flight (datagrams sent
 * less those received or lost).  Random loss never lowers the rate:
 * the queue does, and in competitive mode so does a queue that
 * overflows.  Time runs in rounds of one min RTT (at least 4 ms).
 *
 *   START    from 120,000 bytes per RTT (within 5-20 Mbit/s) or half a
 *            link hint, x1.8 a round, smoothly, feedback by feedback;
 *            it ends when the queue passes 2 ms and the rate has reached
 *            the curve below (a newcomer climbs to its share first), when
 *            the queue passes an eighth of a round, when the delivery
 *            rate grew less than 1/4 in 3 rounds, when what arrived per
 *            what left one RTT earlier fell under 0.9 and 7 % below its
 *            own recent level (a pacer behind our rate delivers a steady part;
 * a bottleneck's part falls as we grow) over a window long enough for the
 * feedback's jitter (an eighth of a round, 64 datagrams, 8 x the jitter of the
 * arrivals, the lower of every feedback's and the echoes' alone: the receiver's
 *            follow-ups are no jitter) while the newest RTT sample
 *            shows 1 ms of queue (a round/32 if less), or when a
 *            round loses a fifth (and 3 x the random loss);
 *   DRAIN    half the delivery rate for as long as the queue we built
 *            takes to empty (what is in flight beyond one delivery-RTT);
 *   DELAY    pace at the delivery rate corrected by the queue's distance
 *            from our target delay, half of it per round, at most +1/8
 *            and -1/2:  t(r) = 10 ms * sqrt(w * 100 Mbit/s / r), capped
 *            at max(10 ms, round / 4).  One flow alone settles at its
 *            target (200 Mbit/s: 7 ms of queue; 1 Gbit/s: 3 ms).  Flows
 *            sharing a queue see one dq, and the smaller one's target
 *            is the longer, so it gains until both sit on the curve
 *            (w = 1: fair; 2: high, twice a fair share; 1/8: low).  A
 *            queue empty for rounds on end (every reading under target/4,
 *            or most and the lowest under target/16: noise does not
 *            build) means room: probe by 1/32 of the rate a round,
 *            doubling up to 1/2.  Velocity: from the third round in a
 *            row under our target the upward gain doubles (only where
 *            the target is at most a quarter of the round, not over an
 *            empty queue, not in "low").  Climb: after 3 clear rounds
 *            in a row (the lowest reading under target/4) the rate
 *            itself grows by 1/16 a round, doubling to 1/4 (1/8 with
 *            late feedback) each clear round whose delivery grew with
 *            it; it ends, back to the delivery rate, at two "arrivals
 *            short" windows or a queue over the target (Copa's
 *            velocity, BBR's re-probe: delay mode's own step lags the
 *            path a round and climbs a few per cent a round;
 *            rate_fair_climb.c).  Where the curve sits at its
 *            2 ms floor (rounds of 4 ms: loopback, a LAN) it tells no
 *            flow from another; there an additive step (2 Mbit/s a
 *            round by the weight, shrunk by (target / queue)^2) beside
 *            the queue's proportional correction makes AIMD, which
 *            brings the flows to equal shares;
 *   COMPETE  a buffer filler shares the path: the queue did not follow
 *            us down through two drains in a row (the drains delay mode
 *            takes to see the base RTT; one within 30 s of leaving this
 *            mode; the bar higher by twice the feedback's lateness,
 *            above), or no drain emptied it for 5 s while we hold
 *            under a fifth of the link (a TCP bound by its socket
 *            buffer: a standing queue, no loss; one drain), or it
 *            stayed at 3 x our target for 8 rounds while we did not
 *            gain.  Delay alone would hand the filler the link,
 *            so aim at our part of the link the drain measured (the
 *            queue fell by cut x span / link: fair half, high two
 *            thirds), then follow a CUBIC window in rate space around
 *            it, rate = W / (min RTT + half the deepest recent
 *            queue), that RTT fixed for the epoch (RFC 9438: C 0.4,
 *            beta 0.7; "high" as two flows: beta 0.85, C 0.8), cut
 *            only with the filler, once per loss episode: a round
 *            losing more than random loss explains (mean + 3 sd) with
 *            the queue full.  Over an empty queue probe by 1/64 of the
 *            rate a round, and climb as delay mode does after 15 clear
 *            rounds (a filler that left); never above twice the
 *            delivery rate (a window in rate space has no ACK clock to
 *            hold it back).
 *            Drain every 4 s; three drains in a row that empty the
 *            queue: the filler left, back to DELAY.  "low" never
 *            competes, and gives back a quarter a round whenever the
 *            queue passes 20 ms.
 *
 * A receiver that cannot keep up: its sockets' drops (FEEDBACK's
 * host_drops, all its sessions together) are congestion, not random
 * loss: its queue is the socket's, which RTT samples timed by the kernel
 * do not see.  At each new drop (once a round) a ceiling falls to beta x
 * the rate (start-up ends there); it grows back by 0.5 Mbit/s plus 1/64
 * a round (the fixed step brings flows that share the receiver
 * together, as AIMD does) and goes once it is twice the delivery.
 * The round's losses then do not count as random loss.  Its socket
 * wait (FEEDBACK's host_wait) adds to the queue, read standing as the
 * RTT is: the lowest of this half round and the one before, a 0 (none
 * of ours arrived) no reading.
 *
 * The rate stays within [floor, ceiling] (ceiling: --rate; floor:
 * --min-rate), and above 0.5 Mbit/s unless the ceiling is lower.
 *
 * This file measures, starts up, runs delay mode and the rounds; the
 * drains and competitive mode live in rate_fair_compete.c, the climb
 * into room in rate_fair_climb.c, and what they share in
 * rate_fair_impl.h.
 */
#include "common/core/rate.h"
#include "common/core/rate_fair_impl.h"

/* The delay-mode curve: a flow of w * R_REF holds D_REF of queue. */
#define R_REF_BPS 100000000ull
#define D_REF_NS (10 * MS)
/* Paths shorter than this shrink the curve (scaled()). */
#define SHORT_RTT_NS (20 * MS)
/* Start-up growth, per feedback: rate *=
 * 1 + START_PM/1000 * dt/round (four feedbacks a round: x1.8). */
#define START_PM 640
/* Arrivals short of what left end start-up only with this much queue in
 * the newest RTT sample: a full path's queue shows in the samples
 * within the same round (3.8 ms when the model's clean start leaves,
 * at 2x the link), but a pacer that lets out less than our rate (a
 * busy host) reads short with none: two of three 0 % lab runs left at
 * 150-200 Mbit/s pacing, 0.0-0.3 ms over the lowest RTT, and then
 * took 1.5 s in delay mode to reach the link (test_lagging_pacer_start:
 * 20.6 RTTs to 90 % with the pacer at 85 % of the rate, now 6.2).  A
 * 32nd of a round where that is less: a 10 ms path's 64 KiB queue
 * overflowed waiting for 1 ms (the 50 Mbit/s small-pipe start). */
#define START_SHORT_DQ_NS MS
/* A fixed part of the host ceiling's growth per round (with 1/64 of
 * it): flows into one receiver converge as AIMD does. */
#define HOST_STEP_BPS 500000ull
/* The additive step a round where the delay curve sits at its floor
 * (at_floor()): with the queue's multiplicative correction it makes
 * AIMD, which brings flows to equal shares whatever their targets.  The
 * step sets how fast (16 flows on a 1 ms path, Jain over 0.3-0.6 s after
 * the last start: 0.55 at 1 Mbit/s, 0.75 at 2, 0.93 at 4) and what
 * queue many small flows hold (64 into 100 Mbit/s: 6.6, 11 and 19 ms). */
#define FLOOR_STEP_BPS 2000000ull
/* The longest window of the receiver's socket wait (standing_wait()):
 * a real socket queue shows within two. */
#define HOST_WAIT_WIN_NS (16 * MS)

static const struct salvo_rate_profile fair_profile = {1, 1, 1, 700, 400, 0};
static const struct salvo_rate_profile high_profile = {2, 1, 1, 850, 800, 0};
static const struct salvo_rate_profile low_profile = {1,   8,	0,
						      700, 400, 20 * MS};

static uint64_t isqrt(unsigned __int128 v)
{
	uint64_t lo = 0, hi = UINT32_MAX;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo + 1) / 2;
		if ((unsigned __int128)mid * mid <= v)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* The curve scaled to the path: a path of less than SHORT_RTT_NS gets
 * its curve shrunk in proportion (10 ms: a quarter).  Routers' buffers
 * follow the RTT (one BDP, or less), and a 10 ms path with a 64 KiB
 * queue holds 10 ms at 50 Mbit/s: the curve's 10 ms there kept it full
 * and the random-loss runs lost 5-13 % more at the queue.  Flows with
 * the same RTT scale alike, so they still meet on the curve. */
static uint64_t scaled(const salvo_rate_fair *f, uint64_t d)
{
	uint64_t r = min64(round_ns(f), SHORT_RTT_NS);
	return (uint64_t)((unsigned __int128)d * r / SHORT_RTT_NS);
}

/* The delay-mode target rate for a standing queue of dq. */
static uint64_t target_rate(const salvo_rate_fair *f, uint64_t dq)
{
	unsigned __int128 k = (unsigned __int128)R_REF_BPS * D_REF_NS *
			      D_REF_NS * f->pr->weight_num / f->pr->weight_den;
	uint64_t s = scaled(f, SHORT_RTT_NS);
	dq = (uint64_t)((unsigned __int128)dq * SHORT_RTT_NS / (s ? s : 1));
	dq = max64(dq, 50000); /* 50 us: no queue */
	unsigned __int128 r = k / ((unsigned __int128)dq * dq);
	return r > UINT64_MAX / 4 ? UINT64_MAX / 4 : (uint64_t)r;
}

/* ... and its inverse: the queue a flow of rate r holds. */
uint64_t salvo_fair_target_delay(const salvo_rate_fair *f, uint64_t r)
{
	unsigned __int128 k = (unsigned __int128)R_REF_BPS * D_REF_NS *
			      D_REF_NS * f->pr->weight_num / f->pr->weight_den;
	uint64_t d = isqrt(k / (r ? r : 1));
	/* a starved flow does not settle for a deep queue */
	d = scaled(f, min64(d, max64(D_REF_NS, round_ns(f) / 4)));
	/* nor below what a busy host's timing shows with no queue */
	return max64(d, SALVO_RATE_QUEUE_TARGET_MIN_NS);
}

/* IP-level bits per second for `payload` bytes of DATA in dt. */
static uint64_t wire_bps(uint64_t payload, uint32_t per_dgram, uint64_t dt)
{
	return (uint64_t)((unsigned __int128)payload * 8000000000u *
			  (per_dgram + SALVO_DATA_OVERHEAD) / per_dgram /
			  (dt ? dt : 1));
}

static void fair_init_profile(salvo_rate_fair *f,
			      const struct salvo_rate_profile *pr,
			      uint64_t ceiling_bps, uint64_t floor_bps,
			      uint32_t datagram_bytes, uint64_t now)
{
	*f = (salvo_rate_fair){0};
	f->pr = pr;
	f->ceiling_bps = ceiling_bps;
	f->floor_bps = min64(floor_bps, ceiling_bps);
	f->datagram_bytes = datagram_bytes;
	f->mode = M_START;
	f->round_start = now;
	f->last_fb = now;
	f->empty_rounds = 0;
	f->round_dq_min = UINT64_MAX;
	f->rate_bps = clamp(f, SALVO_RATE_START_MIN_BPS);
	f->start_bps = f->rate_bps;
}

static void start_rate(salvo_rate_fair *f, uint64_t rtt_ns)
{
	uint64_t r = (uint64_t)SALVO_RATE_FAIR_START_BYTES * 8000000000u /
		     (rtt_ns ? rtt_ns : 1);
	r = max64(r, SALVO_RATE_START_MIN_BPS);
	f->rate_bps = clamp(f, min64(r, SALVO_RATE_FAIR_START_MAX_BPS));
}

static void fair_seed(void *state, uint64_t link_bps, uint64_t rtt_ns,
		      uint64_t now)
{
	salvo_rate_fair *f = state;
	(void)now;
	if (f->mode != M_START)
		return;
	if (rtt_ns)
		start_rate(f, rtt_ns);
	/* half the hint: start-up doubles it in one round if it is right,
	 * and an optimistic hint overshoots no more than start-up would */
	if (link_bps / 2 > f->rate_bps)
		f->rate_bps = clamp(f, link_bps / 2);
	f->hint_bps = link_bps;
	f->start_bps = f->rate_bps;
}

/* -------------------------------------------------------- measuring */

/* The standing RTT: the lowest sample of the last half RTT (always
 * the newest one). */
static uint64_t standing_rtt(const salvo_rate_fair *f, uint64_t now)
{
	uint64_t win = max64(f->srtt_ns / 2, MS), standing = UINT64_MAX;
	for (uint32_t k = 0; k < SALVO_RATE_FAIR_SAMPLES; k++) {
		if (!f->rtt_ns[k])
			continue;
		int newest = k == (f->rtt_next - 1) % SALVO_RATE_FAIR_SAMPLES;
		if (newest || now - f->rtt_at[k] <= win)
			standing = min64(standing, f->rtt_ns[k]);
	}
	return standing;
}

/* The receiver's socket queue, standing: the lowest wait FEEDBACK
 * reported in this window or the one before (windows of half a round,
 * at most HOST_WAIT_WIN_NS), as the standing RTT is the lowest sample
 * of the last half RTT.  A receiver short of CPU (64 senders on its two
 * cores) stops reading for 5-15 ms at a time; the FEEDBACK after such
 * a stall reports its wait, the next ones little, and each such
 * reading taken whole cut the rate by half a round (on the host the
 * rate swung 2-8 Mbit/s feedback by feedback and 64 flows moved about
 * half of what one flow gets; test_wait_spikes).  A queue that stands
 * reads in every window.  A wait of 0 means none of our DATA arrived
 * since the last FEEDBACK: no reading, not an empty queue (at a
 * datagram a feedback most read 0, and a flow climbed on them between
 * its spikes). */
static uint64_t standing_wait(salvo_rate_fair *f, const salvo_rate_sample *s)
{
	uint64_t win = min64(round_ns(f) / 2, HOST_WAIT_WIN_NS);
	uint64_t w = s->host_wait_ns;
	if (!w) /* none of our DATA arrived since the last FEEDBACK */
		return min64(f->hw_min, f->hw_prev_min);
	if (!f->hw_win_at || s->now - f->hw_win_at >= win) {
		f->hw_prev_min = f->hw_win_at && s->now - f->hw_win_at < 2 * win
				     ? f->hw_min
				     : w;
		f->hw_min = w;
		f->hw_win_at = s->now;
	}
	f->hw_min = min64(f->hw_min, w);
	return min64(f->hw_min, f->hw_prev_min);
}

static void rtt_update(salvo_rate_fair *f, const salvo_rate_sample *s)
{
	if (s->rtt_ns) {
		if (!f->min_rtt_ns) {
			if (f->mode == M_START &&
			    f->rate_bps <= SALVO_RATE_FAIR_START_MAX_BPS)
				start_rate(f, s->rtt_ns);
			f->round_start = s->now;
		}
		if (!f->min_rtt_ns || s->rtt_ns < f->min_rtt_ns)
			f->min_rtt_ns = s->rtt_ns;
		f->start_sample = s->now; /* the last RTT sample */
		if (s->rtt_ns <=
		    f->min_rtt_ns + max64(MS / 2, f->min_rtt_ns / 64))
			f->base_seen = s->now;
		uint32_t i = f->rtt_next++ % SALVO_RATE_FAIR_SAMPLES;
		f->rtt_at[i] = s->now;
		f->rtt_ns[i] = s->rtt_ns;
	}
	f->srtt_ns = s->srtt_ns ? s->srtt_ns : f->min_rtt_ns;
	if (!f->min_rtt_ns)
		return;
	uint64_t standing = standing_rtt(f, s->now);
	/* how far RTT samples read over the standing RTT: the feedback's
	 * own lateness, a busy host's or the receiver timer's */
	if (s->rtt_ns)
		f->fb_late_ns = (7 * f->fb_late_ns + s->rtt_ns - standing) / 8;
	/* start-up cannot wait half an RTT: each round doubles the rate.
	 * Its queue is the newest sample's, on a feedback without one too
	 * (the receiver's follow-up, srtt/16 after each echo): the
	 * half-RTT minimum read the queue away there, and an
	 * arrivals-short exit due on a follow-up waited for the next
	 * sample, 25 ms more at 1.8x a round (test_fair_start) */
	if (f->mode == M_START)
		standing =
		    f->rtt_ns[(f->rtt_next - 1) % SALVO_RATE_FAIR_SAMPLES];
	/* and the receiver's socket queue, which the kernel-timed RTT does
	 * not hold: flows into one busy receiver share it as they share a
	 * bottleneck's, and delay mode keeps it at the target instead of
	 * filling the sockets until they drop */
	f->host_wait_ns = standing_wait(f, s);
	f->dq_ns = standing - f->min_rtt_ns + f->host_wait_ns;
	f->round_dq_min = min64(f->round_dq_min, f->dq_ns);
	f->round_dq_max = max64(f->round_dq_max, f->dq_ns);
	if (s->rtt_ns) {
		f->round_n++;
		f->round_low_n +=
		    f->dq_ns <= salvo_fair_target_delay(f, f->rate_bps) / 4;
	}
	f->dq_max_ns = max64(f->dq_max_ns, f->dq_ns);
}

/* Datagrams the pacer had let out by time t (interpolated in the
 * history; 0 before it). */
static uint64_t paced_by(const salvo_rate_fair *f, uint64_t t)
{
	uint64_t best_t = 0, best_n = 0, next_t = UINT64_MAX, next_n = 0;
	for (uint32_t k = 0; k < SALVO_RATE_FAIR_PACED; k++) {
		uint64_t at = f->paced_at[k];
		if (!at)
			continue;
		if (at <= t && at >= best_t) {
			best_t = at;
			best_n = f->paced_n[k];
		} else if (at > t && at < next_t) {
			next_t = at;
			next_n = f->paced_n[k];
		}
	}
	if (!best_t || next_t == UINT64_MAX)
		return best_n;
	return best_n + (uint64_t)((unsigned __int128)(next_n - best_n) *
				   (t - best_t) / (next_t - best_t));
}

static void paced_record(salvo_rate_fair *f, uint64_t now)
{
	uint32_t last = (f->paced_next - 1) % SALVO_RATE_FAIR_PACED;
	if (f->paced_next && now - f->paced_at[last] < round_ns(f) / 16)
		return;
	uint32_t i = f->paced_next++ % SALVO_RATE_FAIR_PACED;
	f->paced_at[i] = now;
	f->paced_n[i] = f->paced_dgrams;
}

/* Wire bits per second the pacer let out over [a, b] (0: the history
 * does not reach back to a). */
static uint64_t paced_bps(const salvo_rate_fair *f, uint64_t a, uint64_t b)
{
	if (b <= a || !paced_by(f, a))
		return 0;
	uint64_t dgram = f->datagram_bytes + SALVO_IPV4_UDP_OVERHEAD;
	return (uint64_t)((unsigned __int128)(paced_by(f, b) - paced_by(f, a)) *
			  dgram * 8000000000u / (b - a));
}

/* How far over what the pacer let out one RTT earlier a delivery
 * sample may read, as 1/n.  A quarter: slack for the path's jitter,
 * and what lets a newcomer's max filter climb to its share.  But when
 * the feedback comes late (its RTT samples read LATE_FB_NS or more
 * over the standing RTT, on average) a sample that starts at a late
 * feedback and ends at a prompt one reads high, every round: the max
 * filter then holds 1.25 x what we paced, and delay mode pays for it
 * with the queue: it settles where its correction (half the queue's
 * distance from the target per round) cancels the excess, 2 x excess x
 * round over the target: 50 ms at 100 ms for a quarter, and the lab's
 * 20-60 ms, drains every 2 s and false competitive entries.  So, in
 * delay mode with late feedback, once the queue this round reached our
 * target (we are not climbing into room): a 32nd, 6 ms over the target
 * at 100 ms.  A 16th everywhere held 12 ms over it, near the
 * buffer-filler test's 3 x target, and slowed a newcomer's climb. */
static uint64_t slack_div(const salvo_rate_fair *f)
{
	if (f->mode == M_DELAY && f->fb_late_ns >= LATE_FB_NS &&
	    f->round_dq_max >= salvo_fair_target_delay(f, f->rate_bps))
		return 32;
	return 4;
}

/* A feedback's time with its lateness taken out: the echoed STATUS's
 * departure plus the receiver's hold (now less the RTT sample), plus
 * the standing RTT (the lowest of the last half RTT).  A feedback read
 * late (a busy host, the way back) has its RTT sample late by as much,
 * so this time is not; the standing RTT follows the forward queue as
 * it fills and drains.  0 for a feedback without an RTT sample. */
static uint64_t feedback_time(const salvo_rate_fair *f,
			      const salvo_rate_sample *s)
{
	if (!s->rtt_ns || s->rtt_ns >= s->now)
		return 0;
	return s->now - s->rtt_ns + standing_rtt(f, s->now);
}

static void delivery_update(salvo_rate_fair *f, const salvo_rate_sample *s)
{
	/* an eighth of a round, and at least 8 datagrams at our rate: on
	 * a 10 ms path with 9 KB datagrams an eighth held one or two, and
	 * the max filter kept their noise (72 Mbit/s on a 50 Mbit/s link) */
	uint64_t dgram = f->datagram_bytes + SALVO_IPV4_UDP_OVERHEAD;
	uint64_t rnd = round_ns(f), lag = f->min_rtt_ns;
	uint64_t dgram_ns = (uint64_t)((unsigned __int128)8 * dgram *
				       8000000000ull / max64(f->rate_bps, 1));
	uint64_t win = min64(max64(rnd / 8, dgram_ns), rnd);
	uint64_t dt = s->now - f->fb_at;
	uint64_t tau = feedback_time(f, s);
	if (f->fb_at && tau && s->held_bytes > f->fb_held && dt >= win) {
		uint64_t got = s->held_bytes - f->fb_held;
		uint64_t d = wire_bps(got, s->payload_bytes, dt);
		/* Late feedback (its RTT samples 1 ms or more over the
		 * standing RTT, on average): over the lateness-free span
		 * (feedback_time()) where that is longer, as BBR takes the
		 * longer of a sample's send and ack intervals.  The
		 * arrivals' spacing alone read 205-260 Mbit/s on the lab's
		 * 200: feedback read late, then several at once.  But
		 * never more than 1/16 below what we believe already: that
		 * span also stretches while a queue stops growing (its
		 * standing RTT catches up), and read low there ("low" alone
		 * swung its queue 0-40 ms in the model, at 83 % of the
		 * link); a max filter fed samples it cannot beat still
		 * comes down, a 16th a round. */
		if (f->fb_late_ns >= LATE_FB_NS && tau > f->fb_tau &&
		    tau - f->fb_tau > dt)
			d = max64(
			    wire_bps(got, s->payload_bytes, tau - f->fb_tau),
			    min64(d, f->delivered_bps));
		/* nothing arrives faster than it left (BBR's rule: a
		 * sample's rate is over the longer of its send and its
		 * ack interval).  The feedback's timing is the receiver's
		 * timer plus the path's jitter: two feedbacks 6 ms apart
		 * after one 19 ms late read 264 Mbit/s on the lab's 200,
		 * and a stalled receiver's burst 500-900; the max filter
		 * kept them, the rate followed and the queue overflowed.
		 * A quarter over what left one RTT earlier is slack for
		 * that RTT's own jitter (less with late feedback:
		 * slack_div()). */
		uint64_t back = lag + f->dq_ns;
		uint64_t sent = f->fb_at > back ? paced_bps(f, f->fb_at - back,
							    s->now - back)
						: 0;
		if (sent)
			d = min64(d, sent + sent / slack_div(f));
		f->round_bw = max64(f->round_bw, d);
		f->delivered_bps = max64(f->round_bw, f->prev_bw);
	}
	/* samples run between feedbacks with RTT samples (others have no
	 * lateness-free time) */
	if (tau && (!f->fb_at || dt >= win)) {
		f->fb_at = s->now;
		f->fb_held = s->held_bytes;
		f->fb_tau = tau;
	}
	/* Start-up's early exit: what arrived (or was lost on the way)
	 * against what the pacer let out one RTT earlier, over the window
	 * that ends at this feedback and reaches back to the newest one at
	 * least an eighth of a round, 8 datagrams and 8 x the feedback's
	 * jitter (the lower of every feedback's and the echoes':
	 * fair_on_feedback; at most half a round) earlier.  Short means the
	 * bottleneck holds the rest back in its queue, an RTT before that
	 * queue shows in the RTT samples.  Shorter windows read feedback
	 * jitter as a shortfall: one 0 % lab run left start-up at 10
	 * Mbit/s, another at 47.  The window slides with each feedback:
	 * back to back windows saw a shortfall up to a window late, the
	 * rate 1.8x a round higher by then (a 50 Mbit/s, 10 ms path with a
	 * one-BDP queue overflowed at 167 Mbit/s). */
	uint64_t sw_win = min64(max64(max64(rnd / 8, 8 * dgram_ns),
				      8 * min64(f->fb_jit, f->fb_all_jit)),
				rnd / 2);
	uint64_t total = s->held_bytes + s->lost_bytes, at = 0, was = 0;
	for (uint32_t k = 0; k < SALVO_RATE_FAIR_ARRIVED; k++) {
		uint64_t t = f->arrived_at[k];
		if (t && s->now - t >= sw_win && t > at) {
			at = t;
			was = f->arrived_n[k];
		}
	}
	uint32_t last = (f->arrived_next - 1) % SALVO_RATE_FAIR_ARRIVED;
	if (!f->arrived_next || s->now - f->arrived_at[last] >= rnd / 32) {
		uint32_t k = f->arrived_next++ % SALVO_RATE_FAIR_ARRIVED;
		f->arrived_at[k] = s->now;
		f->arrived_n[k] = total;
	}
	if (!at || at <= lag || !paced_by(f, at - lag) || total < was)
		return;
	uint64_t left = paced_by(f, s->now - lag) - paced_by(f, at - lag);
	/* enough datagrams that one more or less is noise: 64, or a
	 * quarter of what a round holds at our rate where a round holds
	 * fewer (half a round, the longest window, holds twice that: a
	 * fixed 64 kept the check off on a 50 Mbit/s, 10 ms path, 42
	 * datagrams a round, until the rate was three times the path's) */
	uint64_t per_round =
	    (uint64_t)((unsigned __int128)f->rate_bps * f->min_rtt_ns /
		       (8000000000ull * dgram));
	if (left < min64(64, max64(8, per_round / 4)))
		return;
	/* Short against this sender's own recent windows, not against
	 * all that left: a pacer behind our rate (a busy host) delivers a
	 * steady part of it, and with the host's RTT noise (1.3-3.4 ms on
	 * the lab at load 4-7) that steady shortfall passed as a queue and
	 * ended start-up at 27-65 Mbit/s (test_noisy_start: 33-36 RTTs to
	 * 90 % of the link, or never, with the pacer at 85-90 %).  A
	 * bottleneck's part falls as we grow, 14 % a quarter round, so a
	 * window 7 % under the smoothed part (a quarter per window, held
	 * while short) is the bottleneck.  10 % under came a window late
	 * with the pacer at 70 %, and the one-BDP queue overflowed. */
	uint64_t ratio = (uint64_t)((unsigned __int128)(total - was) * 1000 /
				    (left * s->payload_bytes));
	uint64_t eff = f->arrived_pm ? f->arrived_pm : min64(ratio, 1000);
	int short_rel = ratio * 100 < eff * 93;
	f->short_windows = ratio < 900 && short_rel ? f->short_windows + 1 : 0;
	if (!short_rel)
		f->arrived_pm = (uint32_t)min64((3 * eff + ratio) / 4, 1000);
}

/* ------------------------------------------------------------ modes */

/* Velocity (after Copa's): a flow under its target round after round
 * climbs faster, the gain below doubled from the third such round on.
 * Flows apart sit with their targets on either side of the queue, and
 * the gain closes the gap between them by err / round: a few per cent
 * a round where the targets are small against a long round (200 Mbit/s
 * split 150/50 on 100 ms: targets 8 and 14 ms; the latecomer 10 s late
 * reached Jain 0.83 over RTTs 20-60).  Only upwards, only twice, only
 * where the target is at most a quarter of the round, never in "low":
 *  - downwards it also sped the yield beside a buffer filler, whose
 *    queue stays over our target: the filler test (3 x the target for
 *    8 rounds) then came with us starved, and competitive mode started
 *    from there (fair beside CUBIC with 4 BDP of queue: 53 -> 29 %);
 *  - 8 x overshot: a newcomer whose lowest RTT holds a few ms of the
 *    others' queue sees less queue than there is and climbs past its
 *    share (2 flows 5 s apart on 20 ms, Jain 0.98 -> 0.93 over RTTs
 *    60-100; 4 flows 5 s apart on 100 ms 0.97 -> 0.95);
 *  - on a short round the gain is fast enough, and a base error of a
 *    few ms is large against its targets;
 *  - a round with the queue empty is the room probe's (below): a lone
 *    flow on a lossy long path, its delivery estimate noisy, spends
 *    rounds under its target there, and doubling on top of the probe
 *    cost 200 Mbit/s at 300 ms and 5 % loss 1.6 % of its goodput
 *    (seed 5: 94.1 -> 92.5 % of the link, under the 93 % bar). */
static int64_t velocity(const salvo_rate_fair *f, int64_t err, uint64_t t_dq)
{
	if (err <= 0 || f->err_sign <= 0 || f->err_rounds < 2 ||
	    f->pr->delay_cap_ns || f->empty_rounds || 4 * t_dq > round_ns(f))
		return 1;
	return 2;
}

/* A round's end: how many rounds in a row the queue stayed on the same
 * side of our target (on average), counted in delay mode once a drain's
 * rounds (its own and the refill after it) are over. */
static void velocity_round(salvo_rate_fair *f, uint64_t now)
{
	int sign = f->round_err > 0 ? 1 : f->round_err < 0 ? -1 : 0;
	int steady =
	    f->mode == M_DELAY && !f->probe_until &&
	    now - f->last_probe > f->probe_ns + f->srtt_ns + round_ns(f);
	f->err_rounds =
	    sign && sign == f->err_sign && steady ? f->err_rounds + 1 : 0;
	f->err_sign = sign;
	f->round_err = 0;
}

/* The additive step a round at the floor: FLOOR_STEP_BPS by the
 * profile's weight (AIMD settles at shares in the ratio of the steps),
 * shrunk by (target / queue)^2 once the queue passes the target.  The
 * queue is the same for every flow that shares it, so the step stays
 * alike across them (a step in proportion to the rate would be one more
 * multiplicative term and keep flows as unequal as they are), and many
 * flows' steps together do not hold the queue far over the target (64
 * flows into a 100 Mbit/s receiver: 331 ms with a fixed 1 Mbit/s). */
static uint64_t floor_step(const salvo_rate_fair *f, uint64_t t_dq)
{
	uint64_t a = FLOOR_STEP_BPS * f->pr->weight_num / f->pr->weight_den;
	uint64_t dq = max64(f->dq_ns, t_dq);
	return (uint64_t)((unsigned __int128)a * t_dq / dq * t_dq / dq);
}

/* 1: the curve gives a flow of rate r no target of its own (it sits at
 * the floor, as at loopback RTTs whatever the rate), so it cannot tell
 * a smaller flow from a larger one. */
static int at_floor(const salvo_rate_fair *f, uint64_t r)
{
	return salvo_fair_target_delay(f, r / 2) <=
	       SALVO_RATE_QUEUE_TARGET_MIN_NS;
}

static void delay_step(salvo_rate_fair *f, const salvo_rate_sample *s,
		       uint64_t dt)
{
	uint64_t r = f->rate_bps, rnd = round_ns(f), cap = capacity(f);
	uint64_t t_dq = salvo_fair_target_delay(f, r), dq = f->dq_ns;
	uint64_t span = min64(dt, rnd);
	if (!cap)
		return;
	if (salvo_fair_probe_step(f, s))
		return;
	if (f->pr->delay_cap_ns && dq > f->pr->delay_cap_ns) {
		/* low: over its cap, give back a quarter per round */
		uint64_t cut =
		    (uint64_t)((unsigned __int128)(r / 4) * span / rnd);
		f->rate_bps = clamp(f, r - cut);
		return;
	}
	/* pace at what the path delivers, corrected by half the queue's
	 * distance from our target per round: the queue settles at the
	 * target, and a smaller flow (a longer target) gains on a larger
	 * one until both sit on the curve */
	int64_t err = (int64_t)t_dq - (int64_t)dq;
	f->round_err += err;
	int64_t gain_ppm = err * 500000 * velocity(f, err, t_dq) / (int64_t)rnd;
	if (gain_ppm > 125000)
		gain_ppm = 125000;
	if (gain_ppm < -500000)
		gain_ppm = -500000;
	/* a queue that stays empty: room on the path; probe, faster each
	 * round it stays so (1/32 of the rate, doubling, up to 1/2) */
	if (dq <= t_dq / 4 && f->empty_rounds > 1)
		gain_ppm +=
		    (int64_t)(1000000 >> (6 - min64(f->empty_rounds, 5)));
	if (gain_ppm > 0 && s->app_limited)
		gain_ppm = 0;
	uint64_t want =
	    (uint64_t)((__int128)cap * (1000000 + gain_ppm) / 1000000);
	/* move there over the round, feedback by feedback */
	if (want > r)
		r += (uint64_t)((unsigned __int128)(want - r) * span / rnd);
	else
		r -= (uint64_t)((unsigned __int128)(r - want) * span / rnd);
	if (!s->app_limited && at_floor(f, r))
		r += (uint64_t)((unsigned __int128)floor_step(f, t_dq) * span /
				rnd);
	f->rate_bps = clamp(f, r);
}

static void end_round(salvo_rate_fair *f, const salvo_rate_sample *s)
{
	uint64_t got = s->held_bytes - f->held0;
	uint64_t lost = s->lost_bytes - f->lost0;
	uint64_t quiet = max64(salvo_fair_target_delay(f, f->rate_bps) / 2,
			       SALVO_RATE_QUEUE_TARGET_MIN_NS);
	/* random loss: what a round loses with no queue to overflow, in
	 * this round or the one before (losses are reported a round late:
	 * the round after an overflow drained the queue but hears of its
	 * drops, which read as 3-4 % random loss on the lab's 1 % path) */
	int was_quiet = f->quiet;
	f->quiet = f->round_dq_max < quiet;
	if (got + lost >= 32ull * s->payload_bytes && f->quiet && was_quiet &&
	    !f->round_host_drop) {
		uint64_t l = lost * 1000000 / (got + lost);
		f->loss_ppm = f->have_loss ? (7 * f->loss_ppm + l) / 8 : l;
		f->have_loss = 1;
	}
	/* competitive mode: a round losing more than the random loss
	 * explains (its mean and three standard deviations, in datagrams),
	 * the queue full: overflow, which the loss-based flow beside us
	 * answers with a cut, and so do we.  A looser bar (half a per cent
	 * over the random loss) let CUBIC take every cut alone and gave us
	 * 70 % of the link in the model. */
	uint64_t n = (got + lost) / max64(s->payload_bytes, 1);
	/* the random loss: as measured in quiet rounds, or over the whole
	 * transfer where that is more (a lab path whose RTT noise holds
	 * the measured queue up has no quiet rounds: at 1 % loss every
	 * round read as overflow and cut the rate each RTT) */
	uint64_t all = s->held_bytes + s->lost_bytes;
	uint64_t base = max64(
	    f->loss_ppm,
	    all ? (uint64_t)((unsigned __int128)s->lost_bytes * 1000000 / all)
		: 0);
	uint64_t expect = n * base / 1000000;
	if (f->mode == M_COMPETE && n >= 32 &&
	    lost / max64(s->payload_bytes, 1) >
		expect + 3 * isqrt(expect) + 1 &&
	    f->dq_ns * 2 >= f->dq_max_ns && s->now - f->last_cut >= f->srtt_ns)
		salvo_fair_compete_cut(f, s->now);
	velocity_round(f, s->now);
	salvo_fair_climb_round(f, s);
	uint32_t i = f->rounds % SALVO_RATE_FAIR_WATCH;
	f->dq_min_hist[i] = f->round_dq_min;
	f->rate_hist[i] = f->round_rate0;
	f->rounds++;
	uint64_t t_now = salvo_fair_target_delay(f, f->rate_bps);
	f->high_rounds = f->round_dq_min > t_now + max64(t_now / 4, 2 * MS)
			     ? f->high_rounds + 1
			     : 0;
	/* rounds in a row with the queue (nearly) empty: every reading,
	 * or, over a busy host's RTT noise, most of them and the lowest
	 * at none.  Noise comes and goes and does not build; with every
	 * reading asked for, 1.5-3.5 ms of it in 40-70 % of 20 ms slots
	 * denied the probe above ~60 Mbit/s (target/4 under the noise),
	 * and delay mode climbed from an early exit at about 1.06x a round
	 * (test_noisy_climb: 17-41 RTTs to 90 % of the link, 13 clean).
	 * "Most" of at least 4 readings: on a 10 Mbit/s, 50 ms path with
	 * 9 KB datagrams (fewer readings a round) it probed into its own
	 * jitter and took 10.6 s where 6.7 was usual (sim adaptive-jitter
	 * seed 287). */
	uint64_t t_empty = salvo_fair_target_delay(f, f->rate_bps) / 4;
	if (f->round_dq_max <= t_empty ||
	    (f->round_n >= 4 && f->round_dq_min <= t_empty / 4 &&
	     2 * f->round_low_n > f->round_n))
		f->empty_rounds++;
	else
		f->empty_rounds = 0;
	if (f->mode == M_START && !s->app_limited && f->round_bw) {
		if (f->round_bw >= f->plateau_bw + f->plateau_bw / 4) {
			f->plateau_bw = f->round_bw;
			f->plateau_rounds = 0;
		} else {
			f->plateau_rounds++;
		}
	}
	f->dq_max_ns -= f->dq_max_ns / (f->mode == M_COMPETE ? 512 : 64);
	f->bw_peak = max64(f->bw_peak - f->bw_peak / 256, f->round_bw);
	f->prev_bw = f->round_bw;
	f->round_bw = 0;
	if (f->mode == M_DELAY && f->pr->compete && !host_queue(f) &&
	    salvo_fair_buffer_filler(f))
		salvo_fair_enter(f, M_COMPETE, s->now);
	f->round_start = s->now;
	f->held0 = s->held_bytes;
	f->lost0 = s->lost_bytes;
	f->round_dq_min = UINT64_MAX;
	f->round_dq_max = 0;
	f->round_n = f->round_low_n = 0;
	f->round_rate0 = f->rate_bps;
	f->round_host_drop = 0;
}

/* For telemetry (--events start_exit): the test that ended start-up,
 * and the pacing rate it ended at. */
static void note_start_exit(salvo_rate_fair *f, const char *why)
{
	f->start_exit = why;
	f->start_exit_bps = f->rate_bps;
}

/* Start-up is over (the path is full): half the delivery rate until
 * the queue we built has drained.  why: the test that ended it. */
static void start_exit(salvo_rate_fair *f, const salvo_rate_sample *s,
		       const char *why)
{
	note_start_exit(f, why);
	/* what is in flight: sent, less what arrived or was lost by the
	 * latest feedback; known now, not an RTT late */
	uint64_t dgram = f->datagram_bytes + SALVO_IPV4_UDP_OVERHEAD;
	uint64_t back =
	    s->datagrams_received + s->lost_bytes / max64(s->payload_bytes, 1);
	uint64_t flight =
	    f->paced_dgrams > back ? (f->paced_dgrams - back) * dgram : 0;
	uint64_t cap = capacity(f);
	uint64_t pipe =
	    (uint64_t)((unsigned __int128)cap * f->min_rtt_ns / 8000000000u);
	if (!cap)
		cap = f->rate_bps / 2;
	uint64_t queue = flight > pipe ? flight - pipe : 0;
	uint64_t t =
	    (uint64_t)((unsigned __int128)queue * 2 * 8000000000u / cap);
	f->rate_bps = clamp(f, cap / 2);
	f->mode = M_DRAIN;
	f->last_cut = s->now;
	f->drain_until = s->now + min64(t, 2 * round_ns(f));
}

/* dt: the time since the feedback with the RTT sample before this
 * one's (since the last feedback if none came before), 0 when this one
 * has none */
static void start_step(salvo_rate_fair *f, const salvo_rate_sample *s,
		       uint64_t dt)
{
	uint64_t rnd = round_ns(f);
	uint64_t exit = SALVO_RATE_QUEUE_TARGET_MIN_NS;
	uint64_t short_dq = min64(START_SHORT_DQ_NS, rnd / 32);
	uint64_t got = s->held_bytes - f->held0;
	uint64_t lost = s->lost_bytes - f->lost0;
	/* a fifth lost, and three times the random loss: the queue
	 * overflowed before its delay showed */
	int heavy =
	    got + lost >= 64ull * s->payload_bytes &&
	    lost * 1000000 / (got + lost) > max64(200000, 3 * f->loss_ppm);
	/* leave when the queue shows, or when the delivery rate stopped
	 * growing (BBR's full pipe: three rounds without +1/4; end_round
	 * counts them).  Not on what is in flight against what the path
	 * delivers: while the rate grows 1.8x a round the delivery measured
	 * lags a round behind, and a path that is not full reads as one
	 * (the simulator left start-up at half the link). */
	const char *why =
	    f->dq_ns > exit && f->dq_ns > rnd / 8 ? "queue"
	    : f->dq_ns > exit && f->rate_bps >= target_rate(f, f->dq_ns)
		? "target"
	    : f->plateau_rounds >= 3			    ? "plateau"
	    : f->short_windows >= 1 && f->dq_ns >= short_dq ? "short"
	    : heavy					    ? "heavy"
							    : NULL;
	if (why) {
		start_exit(f, s, why);
		return;
	}
	/* grow on RTT samples only, by the time since the one before: a
	 * feedback without one (a gap report, the receiver's follow-up)
	 * says nothing of the queue.  Before the first RTT the heartbeats
	 * go 25 ms apart, so on a 10 ms path start-up grew 7x blind and
	 * overflowed the queue; and growing on the follow-ups too (srtt/16
	 * after each echo, two feedbacks per sample) compounded x1.8 a
	 * round into x1.85: 10 % more rate six rounds on, when the exit
	 * comes, 1.2-1.5 RTTs after the link is passed, and the lab's
	 * one-BDP queue overflowed at start (test_fair_start) */
	if (!dt)
		return;
	uint64_t r = f->rate_bps;
	/* nor past 4 x what arrives (the start rate before anything has):
	 * the delivery measured lags the rate by a round, under 2 x at
	 * x1.8 a round, but a receiver too busy to take our data in still
	 * answers with RTT samples, timed by its kernel and so without its
	 * wait (64 senders to one loopback receiver: start-up grew to 640
	 * Mbit/s with nothing delivered, and the receiver's full sockets
	 * dropped it all) */
	if (r >= 4 * max64(capacity(f), f->start_bps))
		return;
	/* past the hint, carefully: the user may be wrong */
	uint32_t pm = f->hint_bps && r >= f->hint_bps ? START_PM / 8 : START_PM;
	uint64_t add = (uint64_t)((unsigned __int128)r * pm * min64(dt, rnd) /
				  (1000 * rnd));
	f->rate_bps = clamp(f, r + add);
}

/* The receiver's host dropped datagrams: cut the ceiling, once a round;
 * else let it grow back (see the top of this file). */
static void host_step(salvo_rate_fair *f, const salvo_rate_sample *s,
		      uint64_t dt)
{
	uint64_t rnd = round_ns(f);
	if (s->host_drops > f->host_drops) {
		f->host_drops = s->host_drops;
		f->round_host_drop = 1;
		if (!f->host_cut ||
		    s->now - f->host_cut >= max64(rnd, f->srtt_ns)) {
			uint64_t r = f->host_cap_bps
					 ? min64(f->rate_bps, f->host_cap_bps)
					 : f->rate_bps;
			if (f->mode == M_START) /* as at a full queue */
				start_exit(f, s, "host");
			else if (f->mode == M_DRAIN)
				r = f->rate_bps; /* drains already */
			else
				r = r / 1000 * f->pr->beta_pm;
			f->host_cap_bps = clamp(f, min64(r, f->rate_bps));
			f->host_cut = s->now;
			f->empty_rounds = 0;
			f->err_rounds = 0;
			f->climb_pm = 0;
		}
	} else if (f->host_cap_bps) {
		uint64_t c = f->host_cap_bps;
		uint64_t add =
		    (uint64_t)((unsigned __int128)(HOST_STEP_BPS + c / 64) *
			       min64(dt, rnd) / rnd);
		c += add;
		f->host_cap_bps =
		    c > 2 * max64(capacity(f), f->rate_bps) ? 0 : c;
	}
	if (f->host_cap_bps && f->rate_bps > f->host_cap_bps)
		f->rate_bps = f->host_cap_bps;
}

/* The mean spacing of arrivals and its mean deviation, an eighth per
 * arrival; the first spacing seeds the mean. */
static void spacing_update(uint64_t *mean, uint64_t *dev, uint64_t d)
{
	if (!*mean) {
		*mean = d;
		return;
	}
	*dev = (7 * *dev + (d > *mean ? d - *mean : *mean - d)) / 8;
	*mean = (7 * *mean + d) / 8;
}

static void fair_on_feedback(void *state, const salvo_rate_sample *s)
{
	salvo_rate_fair *f = state;
	uint64_t dt = s->now - f->last_fb;
	uint64_t prev_sample = f->start_sample;
	uint64_t r0 = f->rate_bps;
	f->last_fb = s->now;
	/* how regular the feedback's arrivals are (the receiver's timer,
	 * the reverse path's jitter, a busy host): over every feedback,
	 * and over the echoes alone (the feedbacks with an RTT sample, one
	 * per STATUS); the arrivals-short window takes the lower.  Over
	 * every feedback the receiver's follow-ups (srtt/16 after each
	 * echo: 6.25 then 18.75 ms apart on the lab) read as 6 ms of
	 * jitter, the window sat at half a round, start-up left at
	 * 2.3-2.5 x the link and the lab's one-BDP queue overflowed at
	 * start in every clean run (test_late_followup_start).  The echoes
	 * alone, where feedback is dense (gap follow-ups at 1 % loss),
	 * read a path's jitter wider than before and the simulator's
	 * rekey-epoch (15 ms of jitter on 50 ms) sent 0.5 % over its
	 * byte bound. */
	if (f->fb_all_dt || f->min_rtt_ns)
		spacing_update(&f->fb_all_dt, &f->fb_all_jit, dt);
	if (s->rtt_ns && prev_sample)
		spacing_update(&f->fb_dt, &f->fb_jit, s->now - prev_sample);
	/* What left: the core counts datagrams when it hands a block to a
	 * block-sender, whose pacer lets them out at our rate over the next
	 * second or so (two 4 MiB blocks hold 0.34 s at 200 Mbit/s); taken
	 * for in flight they read as a queue and end start-up at a quarter
	 * of the path.  So: what the rate let out since, at most what was
	 * handed out; the part of a datagram carried to the next feedback.
	 * Cut to whole datagrams at each, a flow at a few Mbit/s with
	 * feedback every ms (loopback) counted 1 of 1.9, read its delivery
	 * (capped at 1.25 x what left) at 66 % of its rate and followed it
	 * down, while a fast flow lost a few per cent: 64 equal senders to
	 * one receiver spread 10-115 Mbit/s (test_many_equal_flows). */
	uint64_t dgram = f->datagram_bytes + SALVO_IPV4_UDP_OVERHEAD;
	unsigned __int128 bits =
	    (unsigned __int128)f->rate_bps * dt + f->paced_part;
	uint64_t whole = (uint64_t)(bits / (8000000000ull * dgram));
	f->paced_dgrams += whole;
	f->paced_part =
	    (uint64_t)(bits - (unsigned __int128)whole * 8000000000ull * dgram);
	if (f->paced_dgrams >= s->datagrams_sent) {
		f->paced_dgrams = s->datagrams_sent;
		f->paced_part = 0;
	}
	paced_record(f, s->now);
	/* for telemetry only: start-up does not act on it (PROTOCOL.md,
	 * "Packet trains": every use tried moved the model's shares) */
	if (s->train_bps)
		f->train_bps = s->train_bps;
	rtt_update(f, s);
	if (!f->min_rtt_ns)
		return;
	delivery_update(f, s);
	if (f->probe_seen && !f->probe_until)
		salvo_fair_probe_watch(f, s->now);
	switch (f->mode) {
	case M_START:
		start_step(f, s,
			   !s->rtt_ns	 ? 0
			   : prev_sample ? s->now - prev_sample
					 : dt);
		break;
	case M_DRAIN:
		if (s->now >= f->drain_until) {
			uint64_t cap = capacity(f);
			f->rate_bps = clamp(f, cap - cap / 16);
			salvo_fair_enter(f, M_DELAY, s->now);
		}
		break;
	case M_DELAY:
		delay_step(f, s, dt);
		break;
	case M_COMPETE:
		/* one cut per filling of the queue, as TCP takes one per
		 * loss episode: again once the queue fell to 3/4 of its
		 * depth (after the competitor's own cut) */
		salvo_fair_compete_step(f, s, dt);
		break;
	}
	salvo_fair_climb_step(f, s, dt, r0);
	host_step(f, s, dt);
	if (s->now - f->round_start >= round_ns(f))
		end_round(f, s);
}

static void fair_on_loss(void *state, uint64_t lost_bytes, uint64_t now)
{
	(void)state;
	(void)lost_bytes;
	(void)now;
}

static void fair_on_timeout(void *state, uint64_t now)
{
	salvo_rate_fair *f = state;
	if (f->mode == M_START)
		note_start_exit(f, "timeout");
	f->rate_bps = clamp(f, f->rate_bps / 2);
	if (f->mode == M_START || f->mode == M_DRAIN)
		f->mode = M_DELAY;
	f->empty_rounds = 0;
	f->climb_pm = 0;
	f->round_start = now;
	f->last_fb = now;
}

static uint64_t fair_pacing_rate(const void *state)
{
	return ((const salvo_rate_fair *)state)->rate_bps;
}

static void fair_snapshot(const void *state, salvo_rate_snapshot *out)
{
	static const char *const names[] = {"start", "drain", "delay",
					    "compete"};
	const salvo_rate_fair *f = state;
	out->rate_bps = f->rate_bps;
	out->delivery_bps = f->delivered_bps;
	if (f->min_rtt_ns)
		out->min_rtt_ns = f->min_rtt_ns;
	out->queue_ns = f->dq_ns;
	out->loss_ppm = (uint32_t)min64(f->loss_ppm, 1000000);
	out->state = f->probe_until ? "probe" : names[f->mode];
	out->train_bps = f->train_bps;
	out->start_exit = f->start_exit;
	out->start_exit_bps = f->start_exit_bps;
}

/* New bounds from the user (salvo ctl): what was measured stands; the
 * rate, and a drain's rate to resume, move into the bounds now. */
static void fair_set_limits(void *state, uint64_t ceiling_bps,
			    uint64_t floor_bps, uint64_t now)
{
	salvo_rate_fair *f = state;
	(void)now;
	f->ceiling_bps = ceiling_bps;
	f->floor_bps = min64(floor_bps, ceiling_bps);
	f->rate_bps = clamp(f, f->rate_bps);
	if (f->probe_rate)
		f->probe_rate = clamp(f, f->probe_rate);
}

#define PROFILE_INIT(fn, profile)                                              \
	static void fn(void *state, uint64_t ceiling_bps, uint64_t floor_bps,  \
		       uint32_t datagram_bytes, uint64_t now)                  \
	{                                                                      \
		fair_init_profile(state, &profile, ceiling_bps, floor_bps,     \
				  datagram_bytes, now);                        \
	}
PROFILE_INIT(fair_init, fair_profile)
PROFILE_INIT(high_init, high_profile)
PROFILE_INIT(low_init, low_profile)

const salvo_rate_ops salvo_rate_fair_ops = {
    "fair",	  fair_init,	   fair_on_feedback,
    fair_on_loss, fair_on_timeout, fair_pacing_rate,
    fair_seed,	  fair_snapshot,   fair_set_limits,
};
const salvo_rate_ops salvo_rate_high_ops = {
    "high",	  high_init,	   fair_on_feedback,
    fair_on_loss, fair_on_timeout, fair_pacing_rate,
    fair_seed,	  fair_snapshot,   fair_set_limits,
};
const salvo_rate_ops salvo_rate_low_ops = {
    "low",	  low_init,	   fair_on_feedback,
    fair_on_loss, fair_on_timeout, fair_pacing_rate,
    fair_seed,	  fair_snapshot,   fair_set_limits,
};