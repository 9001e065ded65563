/*
 * TCP cross traffic for flowsim: CUBIC and Reno windows, and BBR v1.
 *
 * The models follow the published algorithms closely enough to compete
 * the way they do on a real bottleneck, and no further.  CUBIC: RFC 9438
 * (C = 0.4, beta = 0.7, fast convergence, the Reno-friendly estimate),
 * a loss event at most once per RTT (recovery), slow start left when the
 * RTT rises by max(4 ms, min RTT / 8) as Linux's HyStart does, or on
 * loss.  BBR: draft-cardwell-iccrg-bbr-congestion-control-00 (v1), with
 * rounds counted in time (one smoothed RTT) and the delivery rate of a
 * round as its sample, which is what the max filter keeps anyway.
 * Lengths are IP bytes; ACKs arrive as cumulative counters from flowsim.c.
 */
#include "tests/helpers/flowsim_tcp.h"

#include <math.h>
#include <string.h>

#define MS 1000000ull
#define SEC 1000000000ull
#define PKT ((double)FLOWSIM_PACKET)

enum { BBR_STARTUP, BBR_DRAIN, BBR_PROBE_BW, BBR_PROBE_RTT };

static const double bbr_gain[8] = {1.25, 0.75, 1, 1, 1, 1, 1, 1};
#define BBR_HIGH_GAIN 2.885

void flowsim_tcp_init(flowsim_tcp *t, flowsim_kind kind, uint64_t rtt_ns,
		      uint64_t now, uint32_t phase_seed)
{
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->cwnd = 10 * PKT;
	t->ssthresh = 1e18;
	t->srtt = rtt_ns;
	t->min_rtt = rtt_ns;
	t->min_rtt_at = now;
	t->round_start = now;
	t->mode = BBR_STARTUP;
	t->pacing_gain = BBR_HIGH_GAIN;
	t->cwnd_gain = BBR_HIGH_GAIN;
	/* any phase but the draining one, as BBR picks at random */
	t->phase = (int)(phase_seed % 7);
	if (t->phase >= 1)
		t->phase++;
}

/* ------------------------------------------------------- CUBIC, Reno */

static void loss_event(flowsim_tcp *t, uint64_t now)
{
	if (t->kind == FLOWSIM_RENO) {
		t->cwnd = fmax(t->cwnd / 2, 2 * PKT);
	} else {
		double w = t->cwnd;
		/* fast convergence: release room for a newcomer */
		t->w_max = w < t->w_max ? w * (1 + 0.7) / 2 : w;
		t->cwnd = fmax(w * 0.7, 2 * PKT);
		t->k_s = cbrt(t->w_max / PKT * (1 - 0.7) / 0.4);
		t->epoch = now;
	}
	t->ssthresh = t->cwnd;
	t->recovery_until = now + t->srtt;
}

static void grow(flowsim_tcp *t, uint64_t now, double acked)
{
	if (t->cwnd < t->ssthresh) {
		t->cwnd += acked;
		return;
	}
	if (t->kind == FLOWSIM_RENO) {
		t->cwnd += PKT * acked / t->cwnd;
		return;
	}
	if (!t->epoch) { /* left slow start without a loss */
		t->epoch = now;
		t->w_max = t->cwnd;
		t->k_s = 0;
	}
	double s = (double)(now - t->epoch + t->srtt) / SEC - t->k_s;
	double cubic = PKT * 0.4 * s * s * s + t->w_max;
	double reno = t->w_max * 0.7 + PKT * 3 * (1 - 0.7) / (1 + 0.7) *
					   (double)(now - t->epoch) /
					   (double)t->srtt;
	double target = fmax(cubic, reno);
	if (target > t->cwnd)
		t->cwnd += (target - t->cwnd) * acked / t->cwnd;
	else
		t->cwnd += 0.01 * PKT * acked / t->cwnd;
}

/* ----------------------------------------------------------- BBR v1 */

static double bbr_bdp(const flowsim_tcp *t)
{
	return t->btl_bw * (double)t->min_rtt / SEC;
}

static void bbr_round(flowsim_tcp *t, uint64_t now)
{
	double dt = (double)(now - t->round_start) / SEC;
	double rate = (t->acked - t->round_acked) / dt;
	t->bw[t->round % 10] = rate;
	t->round++;
	t->btl_bw = 0;
	for (int i = 0; i < 10; i++)
		t->btl_bw = fmax(t->btl_bw, t->bw[i]);
	t->round_start = now;
	t->round_acked = t->acked;
	if (!t->filled) {
		if (t->btl_bw >= t->full_bw * 1.25) {
			t->full_bw = t->btl_bw;
			t->full_cnt = 0;
		} else if (++t->full_cnt >= 3) {
			t->filled = 1;
		}
	}
}

static void bbr_update(flowsim_tcp *t, uint64_t now)
{
	if (now - t->round_start >= t->srtt)
		bbr_round(t, now);
	double inflight = t->sent - t->acked - t->lost;
	if (t->mode == BBR_STARTUP && t->filled) {
		t->mode = BBR_DRAIN;
		t->pacing_gain = 1 / BBR_HIGH_GAIN;
	}
	if (t->mode == BBR_DRAIN && inflight <= bbr_bdp(t)) {
		t->mode = BBR_PROBE_BW;
		t->phase_start = now;
	}
	if (t->mode == BBR_PROBE_BW) {
		t->cwnd_gain = 2;
		if (now - t->phase_start >= t->min_rtt) {
			t->phase = (t->phase + 1) % 8;
			t->phase_start = now;
		}
		t->pacing_gain = bbr_gain[t->phase];
	}
	/* ProbeRTT: the min RTT is 10 s old; 4 packets for 200 ms */
	if (t->mode != BBR_PROBE_RTT && now - t->min_rtt_at > 10 * SEC) {
		t->mode = BBR_PROBE_RTT;
		t->probe_rtt_until = 0;
	}
	if (t->mode == BBR_PROBE_RTT) {
		if (!t->probe_rtt_until && inflight <= 4 * PKT)
			t->probe_rtt_until = now + 200 * MS;
		if (t->probe_rtt_until && now >= t->probe_rtt_until) {
			t->min_rtt_at = now;
			t->mode = t->filled ? BBR_PROBE_BW : BBR_STARTUP;
			t->phase_start = now;
			t->pacing_gain = t->filled ? 1 : BBR_HIGH_GAIN;
			t->cwnd_gain = t->filled ? 2 : BBR_HIGH_GAIN;
		}
	}
}

static double bbr_send(flowsim_tcp *t, uint64_t tick_ns)
{
	double inflight = t->sent - t->acked - t->lost;
	double cwnd = t->btl_bw > 0 ? t->cwnd_gain * bbr_bdp(t) : 10 * PKT;
	if (cwnd < 4 * PKT)
		cwnd = 4 * PKT;
	if (t->mode == BBR_PROBE_RTT)
		cwnd = 4 * PKT;
	if (t->inflight_cap > 0 && cwnd > t->inflight_cap)
		cwnd = t->inflight_cap;
	double rate = t->btl_bw > 0
			  ? t->pacing_gain * t->btl_bw
			  : BBR_HIGH_GAIN * 10 * PKT * SEC / (double)t->srtt;
	t->pace_credit += rate * (double)tick_ns / SEC;
	if (t->pace_credit > 2 * PKT + rate * (double)tick_ns / SEC)
		t->pace_credit = 2 * PKT + rate * (double)tick_ns / SEC;
	double room = cwnd - inflight;
	double n = fmin(room, t->pace_credit);
	if (n <= 0)
		return 0;
	t->pace_credit -= n;
	return n;
}

/* ------------------------------------------------------------ common */

double flowsim_tcp_tick(flowsim_tcp *t, uint64_t now, uint64_t tick_ns,
			double acked, double lost, uint64_t rtt_ns)
{
	double newly_acked = acked - t->acked;
	double newly_lost = lost - t->lost;
	t->acked = acked;
	t->lost = lost;
	if (rtt_ns) {
		t->srtt = (7 * t->srtt + rtt_ns) / 8;
		if (rtt_ns <= t->min_rtt ||
		    (t->kind == FLOWSIM_BBR && now - t->min_rtt_at > 10 * SEC &&
		     t->mode == BBR_PROBE_RTT)) {
			t->min_rtt = rtt_ns;
			t->min_rtt_at = now;
		}
	}
	if (t->kind == FLOWSIM_BBR) {
		bbr_update(t, now);
		double n = bbr_send(t, tick_ns);
		t->sent += n;
		return n;
	}
	t->pending_loss += newly_lost;
	if (t->pending_loss >= PKT / 2) {
		if (now >= t->recovery_until)
			loss_event(t, now);
		t->pending_loss = 0;
	}
	if (newly_acked > 0) {
		/* HyStart's delay exit */
		uint64_t thresh =
		    t->min_rtt / 8 > 4 * MS ? t->min_rtt / 8 : 4 * MS;
		if (t->cwnd < t->ssthresh && rtt_ns && !t->no_hystart &&
		    rtt_ns > t->min_rtt + thresh)
			t->ssthresh = t->cwnd;
		grow(t, now, newly_acked);
	}
	double wnd = t->cwnd;
	/* the send buffer: a window past it is never used, so it never
	 * overflows a queue deeper than cap - BDP (the lab's iperf3 at 4
	 * MiB tcp_wmem: 0 retransmits, 20-45 ms of standing queue) */
	if (t->inflight_cap > 0 && wnd > t->inflight_cap)
		wnd = t->inflight_cap;
	double room = wnd - (t->sent - t->acked - t->lost);
	if (room <= 0)
		return 0;
	t->sent += room;
	return room;
}
