/*
 * Competitive mode of "fair" and "high", and the drain test that enters
 * and leaves it (rate_fair.c's header gives the whole algorithm; these
 * are its COMPETE paragraph and the drains of DELAY).  A drain halves
 * the rate for a round: every flow on the queue sees the base RTT, and
 * whether the queue follows us down tells a buffer filler from flows
 * that aim at a delay.  Beside a filler the rate follows a CUBIC window
 * in rate space, cut only with the filler's own losses.
 */
#include "common/core/rate.h"
#include "common/core/rate_fair_impl.h"

static uint64_t icbrt(uint64_t v)
{
	uint64_t lo = 0, hi = 2642245; /* cbrt(2^64) */
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo + 1) / 2;
		if ((unsigned __int128)mid * mid * mid <= v)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* Competitive mode never paces above twice what the path delivers to
 * us: a window in rate space grows while the queue stays full (the
 * lab's 0 % runs paced up to 830 Mbit/s into 200, a flow that took its
 * own queue for a competitor's), where a TCP window is held back by its
 * ACKs' clock.  Twice still lets a flow that a competitor squeezed take
 * its share back within a round. */
static void compete_cap(salvo_rate_fair *f)
{
	uint64_t cap = capacity(f);
	if (cap && f->rate_bps > 2 * cap)
		f->rate_bps = clamp(f, 2 * cap);
}

/* The RTT a window turns into a rate by, fixed for an epoch (from a
 * cut, or the entry, to the next): the lowest plus half the deepest
 * recent queue, which at a cut is the full buffer.  A TCP flow's rate
 * is W / RTT with the queue in the RTT, and over its sawtooth the queue
 * swings between its floor after the cut and the full buffer: half of
 * it is about its mean.  With the lowest RTT alone the same window
 * paced up to five times faster than the filler's (4 BDP: 400 ms of
 * queue over 100) and fair took 60-71 % of the link beside one CUBIC
 * flow in the model once it cut as CUBIC does; with the standing RTT
 * of each moment (or part of it) every step the queue grew slowed us
 * while the filler's window grew on: 27-36 % at 4 BDP.  Fixed per epoch
 * and half the deepest: 42-59 % at 0.5, 1 and 4 BDP
 * (tests/unit/test_rate_compete.c, test_rate_fair.c's rows). */
static uint64_t rtt_scale(const salvo_rate_fair *f)
{
	return max64(f->min_rtt_ns + f->dq_max_ns / 2, MS);
}

void salvo_fair_enter(salvo_rate_fair *f, int mode, uint64_t now)
{
	f->mode = mode;
	f->empty_rounds = 0;
	f->probe_count = 0;
	if (mode == M_DELAY)
		f->drain_clear = now;
	if (mode == M_COMPETE) {
		/* take back at once the rate we held before yielding, or
		 * half the best the path gave us lately (one TCP flow's
		 * share), and hold it as CUBIC holds its last maximum */
		uint64_t before = max64(f->bw_peak / 2, f->share_bps);
		for (uint32_t k = 0; k < SALVO_RATE_FAIR_WATCH; k++)
			before = max64(before, f->rate_hist[k]);
		f->rate_bps = clamp(f, max64(f->rate_bps, before));
		f->epoch_rtt_ns = rtt_scale(f);
		f->w_max_bytes = (uint64_t)((unsigned __int128)f->rate_bps *
					    f->epoch_rtt_ns / 8000000000u);
		compete_cap(f);
		f->k_ms = 0;
		f->epoch = now;
		f->last_cut = now;
	}
}

/* Competitive mode's cut: as a TCP flow meeting its drop. */
void salvo_fair_compete_cut(salvo_rate_fair *f, uint64_t now)
{
	/* one cut per loss episode, as TCP takes one per recovery: the
	 * losses of a round that began within a smoothed RTT of the last
	 * cut are of datagrams sent before it (the queue overflowed once;
	 * its drops come back over the next RTT).  A cut per lossy round
	 * cut twice for one overflow (x0.49 where CUBIC took x0.7). */
	if (f->round_start < f->last_cut + f->srtt_ns)
		return;
	/* during a drain, from the rate it resumes: the drain's half is
	 * no window of ours, and cutting it (then the plateau from it)
	 * left under a third of the rate once the drain ended (the model
	 * beside CUBIC without HyStart, 0.5 BDP, seed 11: an overflow's
	 * losses came back in a drain from 136.8 Mbit/s; test_rate_compete's
	 * test_cut_in_drain) */
	uint64_t r = f->probe_until ? f->probe_rate : f->rate_bps;
	uint64_t pkt = f->datagram_bytes + SALVO_IPV4_UDP_OVERHEAD;
	uint64_t w =
	    (uint64_t)((unsigned __int128)r * f->epoch_rtt_ns / 8000000000u);
	/* fast convergence (RFC 9438 4.7): a window below the last
	 * maximum releases room; the plateau as a rate, then as a window
	 * at the new epoch's scale */
	uint64_t top =
	    w < f->w_max_bytes ? r / 2000 * (1000 + f->pr->beta_pm) : r;
	f->epoch_rtt_ns = rtt_scale(f);
	f->w_max_bytes =
	    (uint64_t)((unsigned __int128)top * f->epoch_rtt_ns / 8000000000u);
	uint64_t cut = clamp(f, r / 1000 * f->pr->beta_pm);
	if (f->probe_until) {
		f->probe_rate = cut;
		f->rate_bps = min64(f->rate_bps, cut);
	} else {
		f->rate_bps = cut;
	}
	/* K = cbrt(W_max (1 - beta) / C), in ms */
	unsigned __int128 num = (unsigned __int128)f->w_max_bytes *
				(1000 - f->pr->beta_pm) * 1000000000000ull;
	f->k_ms = icbrt((uint64_t)(num / (pkt * f->pr->cubic_c_pm) / 1000));
	f->epoch = now;
	f->last_cut = now;
}

/* The CUBIC window (and its Reno-friendly floor) as a rate; over an
 * empty queue, room: probe by 1/64 of the rate a round and hold the
 * new rate as the window's plateau.  A filler's cut with half a BDP of
 * queue leaves the link part idle for seconds, and CUBIC's plateau
 * would wait it out.  Not faster: the filler waits it out, and with
 * 1/32 doubling each round (delay mode's probe) that idle time went to
 * us alone, 63-70 % of the link at 0.5 BDP; with none, 38-48 %. */
static void compete_grow(salvo_rate_fair *f, const salvo_rate_sample *s,
			 uint64_t dt)
{
	uint64_t now = s->now, rnd = round_ns(f);
	if (f->empty_rounds > 1 && !s->app_limited &&
	    f->dq_ns <= salvo_fair_target_delay(f, f->rate_bps) / 4) {
		uint64_t gain = 1000000 / 64;
		f->rate_bps = clamp(
		    f, f->rate_bps +
			   (uint64_t)((unsigned __int128)f->rate_bps * gain *
				      min64(dt, rnd) / (1000000ull * rnd)));
		f->w_max_bytes = (uint64_t)((unsigned __int128)f->rate_bps *
					    f->epoch_rtt_ns / 8000000000u);
		f->k_ms = 0;
		f->epoch = now;
		return;
	}
	uint64_t pkt = f->datagram_bytes + SALVO_IPV4_UDP_OVERHEAD;
	uint64_t srtt = max64(f->epoch_rtt_ns, MS);
	int64_t t = (int64_t)((now - f->epoch + srtt) / MS) - (int64_t)f->k_ms;
	__int128 d = (__int128)t * t * t * (int64_t)pkt *
		     (int64_t)f->pr->cubic_c_pm / 1000000000000ll;
	__int128 w = (__int128)f->w_max_bytes + d;
	uint64_t beta = f->pr->beta_pm;
	unsigned __int128 reno =
	    (unsigned __int128)f->w_max_bytes * beta / 1000 +
	    (unsigned __int128)pkt * 3 * (1000 - beta) * (now - f->epoch) /
		((1000 + beta) * srtt);
	if (w < (__int128)reno)
		w = (__int128)reno;
	if (w < 2 * (__int128)pkt)
		w = 2 * (__int128)pkt;
	unsigned __int128 r = (unsigned __int128)w * 8000000000u / srtt;
	f->rate_bps =
	    clamp(f, r > UINT64_MAX / 4 ? UINT64_MAX / 4 : (uint64_t)r);
}

static int filler_lately(const salvo_rate_fair *f, uint64_t now)
{
	return f->compete_left && now - f->compete_left < 30 * SEC;
}

/* How long a drain at half rate lasts: a round (at least 10 ms), or in
 * delay mode, once the last drain emptied the queue, DRAIN_QUEUES x the
 * queue we see where that is shorter.  Halving a lone flow's rate
 * empties its queue dq in 2 x dq; the rest of a round's drain leaves
 * the link half idle: on the lab (200 Mbit/s, 100 ms) RTT noise held
 * the queue reading over the bar and drained every 2 s, a round each
 * over 10-18 ms of queue, 30-40 ms of the link's time lost a drain,
 * 1.5-2 % of a lone flow's goodput.  Four times the queue still takes it
 * all back when we hold half of it, and half when we hold a quarter,
 * which brings flows that hold only their targets between them under
 * the verdict's bar (probe_watch).  After a drain whose queue stayed
 * (a filler, or flows we could not read) a whole round again: the
 * verdict that enters competitive mode, and the link it measures there
 * (drain_link), come from a full drain (short ones alone took fair
 * beside CUBIC in the model from 58-63 % to 42-69 % of the link). */
#define DRAIN_QUEUES 4

static uint64_t drain_span(const salvo_rate_fair *f)
{
	uint64_t span = max64(round_ns(f), 10 * MS);
	if (f->mode != M_DELAY || !f->probe_emptied)
		return span;
	return min64(span, max64(DRAIN_QUEUES * f->dq_ns, 10 * MS));
}

/* The drain (half rate for a round, or drain_span's shorter one): every
 * flow on the queue sees the base RTT, and what the queue does meanwhile
 * tells a buffer filler (probe_watch).  A flow that started on a queue
 * takes it for the base and holds it on top of ours, so delay mode
 * drains when the queue stayed over our target (by 2 ms or a quarter)
 * for 3 rounds (a newcomer pushing, or a filler; 2 s apart at most) or
 * we have not seen the base for 10 s; competitive mode every 4 s, to see
 * whether the filler left.  Returns 1 while a drain runs or ends (the
 * mode's own step waits). */
int salvo_fair_probe_step(salvo_rate_fair *f, const salvo_rate_sample *s)
{
	uint64_t r = f->rate_bps, cap = capacity(f);
	if (f->probe_until) {
		if (s->now < f->probe_until)
			return 1;
		f->probe_until = 0;
		f->rate_bps = clamp(f, f->probe_rate);
		return 1;
	}
	uint64_t since = s->now - f->last_probe;
	int go =
	    f->mode == M_COMPETE
		? since >= 4 * SEC
		: (f->high_rounds >= 3 &&
		   since >= (f->probe_count || filler_lately(f, s->now)
				 ? SEC
				 : 2 * SEC)) ||
		      (s->now - f->base_seen >= 10 * SEC && since >= 10 * SEC);
	if (!go || !cap)
		return 0;
	f->probe_rate = r;
	f->probe_until = s->now + drain_span(f);
	f->probe_dq0 = f->dq_ns;
	f->probe_dq_min = UINT64_MAX;
	f->probe_seen = f->probe_until + f->srtt_ns + round_ns(f) / 2;
	f->last_probe = s->now;
	f->high_rounds = 0;
	f->rate_bps = clamp(f, min64(r, cap) / 2);
	f->probe_cut_bps = r - f->rate_bps;
	f->probe_ns = f->probe_until - s->now;
	return 1;
}

/* A flow beside a buffer filler: the queue stayed at three times what
 * we aim for, round after round, although we did not gain.  Flows that
 * aim by the same curve settle where the queue is each one's target (a
 * newcomer, whose lowest RTT includes the queue it found, pushes it
 * up to twice ours for a while); a loss-based flow keeps it above,
 * however far we yield. */
int salvo_fair_buffer_filler(const salvo_rate_fair *f)
{
	if (f->rounds < SALVO_RATE_FAIR_WATCH + 2)
		return 0;
	for (uint32_t k = 0; k < SALVO_RATE_FAIR_WATCH; k++) {
		uint64_t t = salvo_fair_target_delay(f, f->rate_hist[k]);
		if (f->dq_min_hist[k] <= 3 * t + 2 * MS)
			return 0;
	}
	uint32_t oldest = f->rounds % SALVO_RATE_FAIR_WATCH;
	return f->rate_bps <= f->rate_hist[oldest];
}

/* The link's rate from the drain: the queue fell by what we held back
 * over the drain, in the link's time (cut x span / link); the filler's
 * own growth meanwhile makes the fall smaller and the link look faster,
 * so at most 16 x what reaches us.  8 x held a flow that had yielded to
 * 17 Mbit/s on a 200 Mbit/s path (a CUBIC that slow-started into the
 * queue ahead of it) to a share of 70, and the CUBIC window climbs from
 * a low plateau only slowly: 27-39 % of the link at 4 BDP over 60 s
 * (test_rate_compete's overshoot rows), 44.6-54.0 % with 16 x.  Too
 * high an aim is cut back by the next overflow; too low is not. */
static uint64_t drain_link(const salvo_rate_fair *f)
{
	uint64_t fell =
	    f->probe_dq0 > f->probe_dq_min ? f->probe_dq0 - f->probe_dq_min : 0;
	uint64_t most =
	    max64(16 * max64(f->delivered_bps, f->probe_rate), f->bw_peak);
	uint64_t link = fell ? (uint64_t)((unsigned __int128)f->probe_cut_bps *
					  f->probe_ns / fell)
			     : most;
	return min64(link, most);
}

/* Competitive mode, aimed at our part of the link the drain measured,
 * w / (w + 1): half for fair. */
static void compete_at_share(salvo_rate_fair *f, uint64_t now)
{
	uint64_t link = drain_link(f);
	f->share_bps = (uint64_t)((unsigned __int128)link * f->pr->weight_num /
				  (f->pr->weight_num + f->pr->weight_den));
	salvo_fair_enter(f, M_COMPETE, now);
}

/* A queue that never leaves us, held by a flow that is bound by its
 * window: a TCP sender whose socket buffer holds less than its window
 * (Linux's tcp_wmem, 4 MiB: 3.2 MB in flight on the lab's 2.5 MB path)
 * keeps W - BDP queued whatever we do, never fills a deep queue and
 * never loses, and yields only as W / RTT.  Delay mode sits at its
 * target on top of that queue (the lab: 27 of 200 Mbit/s, 8-9 % at 1
 * and 4 BDP) and a drain sees the queue fall to our target, as it would
 * beside seven flows like us.  What tells it from two to four flows
 * like us (whose queue one flow's drain empties: they hold only their
 * targets): no drain of ours emptied the queue (to a quarter of our
 * target, or 2 ms; not raised for late feedback: with it the lab's
 * TCP queue read as emptied by every drain for 80 s) for 5 s, this one
 * included, and we hold less than a fifth of the link the drain
 * measured.  Not "the lowest RTT unseen
 * for 10 s": the lab's TCP queue dips to its own floor now and then,
 * and a sample there renewed it (one run entered only after 36 s).
 * Alone we hold the whole link; beside five or more flows like us this
 * can misjudge them (a known risk; they then compete as CUBIC flows
 * among themselves). */
static int standing_queue(salvo_rate_fair *f, uint64_t now)
{
	if (f->probe_emptied) {
		f->drain_clear = now;
		return 0;
	}
	return now - f->drain_clear >= 5 * SEC &&
	       5 * f->delivered_bps < drain_link(f);
}

/* After a drain, while the samples it shaped come back (one standing RTT
 * after it ended): did the queue follow us down?  Salvo flows hold only
 * their targets between them, so halving ours for a round empties most
 * of it; a loss-based flow's queue stays, or grows.  A quarter lower,
 * or down to twice our target: no filler. */
void salvo_fair_probe_watch(salvo_rate_fair *f, uint64_t now)
{
	f->probe_dq_min = min64(f->probe_dq_min, f->dq_ns);
	if (now < f->probe_seen)
		return;
	f->probe_seen = 0;
	uint64_t t = salvo_fair_target_delay(f, f->probe_rate);
	/* emptied: down to a quarter of our target (2 ms) */
	uint64_t low = max64(t / 4, 2 * MS);
	f->probe_emptied = f->probe_dq_min <= low;
	if (f->mode == M_COMPETE) {
		/* the filler left when the queue empties: three times in a
		 * row, as its own cut empties a shallow queue for a while
		 * (a fifth of CUBIC's cycle with half a BDP) */
		if (f->probe_dq0 <= low)
			return;
		f->probe_count = f->probe_emptied ? f->probe_count + 1 : 0;
		if (f->probe_count >= 3) {
			salvo_fair_enter(f, M_DELAY, now);
			f->compete_left = now;
		}
		return;
	}
	/* the receiver's own socket wait (host_queue) is no filler's */
	if (f->mode == M_DELAY && f->pr->compete && !host_queue(f) &&
	    standing_queue(f, now)) {
		compete_at_share(f, now);
		return;
	}
	if (f->probe_dq_min <= t + low + late_allowance(f) ||
	    f->mode != M_DELAY || !f->pr->compete || host_queue(f)) {
		f->probe_count = 0;
		return;
	}
	/* twice in a row: a newcomer's start-up also holds the queue up
	 * through one drain (four flows 5 s apart all went competitive);
	 * once within 30 s of leaving competitive mode (a filler with half
	 * a BDP of queue empties it for seconds after its cut, and delay
	 * mode then yields it the link again) */
	if (++f->probe_count < 2 && !filler_lately(f, now))
		return;
	compete_at_share(f, now);
}

void salvo_fair_compete_step(salvo_rate_fair *f, const salvo_rate_sample *s,
			     uint64_t dt)
{
	if (!salvo_fair_probe_step(f, s))
		compete_grow(f, s, dt);
	compete_cap(f);
}
