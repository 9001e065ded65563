/*
 * flowsim: flows through one drop-tail bottleneck, stepped in ticks of
 * virtual time (see flowsim.h for what is modelled).
 *
 * Each tick: every running flow offers bytes (a salvo flow its pacing
 * rate times the tick, a TCP flow what its window allows); the queue
 * admits what fits (the rest is dropped, each flow in proportion to what
 * it offered) and stores the tick's arrivals as one slice; the link
 * drains slices from the head at its rate, each flow's share of a slice
 * in proportion; random loss takes whole 1500-byte packets as they leave.
 * A byte leaving the queue at tick e reaches the receiver half an RTT
 * later and its news is back at the sender at e + RTT, so a sender at
 * tick t reads the receiver's counters as of exit tick t - RTT from a
 * ring of per-tick cumulative counters.  A dropped byte counts as lost at
 * the tick it would have left, since the receiver learns of the hole
 * when the bytes behind it arrive.
 *
 * A salvo flow's heartbeat is a zero-length marker in the FIFO: it leaves
 * when the bytes before it have, and the feedback it triggers reaches the
 * sender an RTT after that, carrying the counters at its exit and an RTT
 * of (exit - sent) + propagation.  Heartbeats go every quarter smoothed
 * RTT as in sender.c (base_status_interval), and the sample passed to
 * on_feedback is built field by field as sender.c's on_feedback() does.
 * With stall_ns the link (a receiver short of CPU) stops now and then.
 * With followup_ns, the receiver's follow-up FEEDBACK comes that long
 * after each echo: its counters as of then, and no RTT sample; with
 * data_fb_ns, the receiver's periodic FEEDBACK comes that often as well.
 */
#include "tests/helpers/flowsim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/helpers/flowsim_tcp.h"
#include "tests/helpers/testrand.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define MAX_HB 4096 /* heartbeats in flight per flow */

typedef struct slice {
	uint64_t tick;
	double bytes[FLOWSIM_MAX_FLOWS];
	double total;
} slice;

typedef struct heartbeat {
	uint64_t sent, back; /* ticks: sent, feedback at the sender */
	uint64_t exit;
} heartbeat;

typedef struct flow {
	flowsim_flow fp;
	int running, done;
	uint64_t rtt_ticks;
	/* rings indexed by tick % ring: cumulative IP bytes delivered and
	 * lost as of that exit tick; lost_future collects drops ahead */
	double *cum_held, *cum_lost, *lost_future;
	double held, lost;
	double exit_credit; /* fractional packet leaving, for random loss */
	/* salvo */
	salvo_rate_state st;
	double pace_credit, sent_ip;
	uint64_t next_hb, srtt, rttvar, min_rtt, last_echo;
	int have_rtt;
	heartbeat hb[MAX_HB];
	size_t hb_head, hb_n;
	double held_fb, lost_fb; /* payload at the last feedback */
	uint64_t fu_back;	 /* tick of the pending follow-up, 0: none */
	uint64_t dfb_next;	 /* tick of the next periodic FEEDBACK */
	/* tcp */
	flowsim_tcp tcp;
} flow;

typedef struct sim {
	const flowsim_params *p;
	flowsim_result *r;
	salvo_testrand rng;
	uint64_t tick_ns, ring;
	double link_per_tick, link_credit;
	slice *q;
	size_t q_cap, q_head, q_n;
	double q_bytes;
	uint64_t *soj; /* ring: sojourn of bytes leaving at that tick, ns */
	uint64_t stall_until; /* the link stopped until this tick */
	flow f[FLOWSIM_MAX_FLOWS];
} sim;

static double uniform(sim *s)
{
	return (double)(testrand_next(&s->rng) >> 11) / 9007199254740992.0;
}

static double payload_of(double ip)
{
	return ip * FLOWSIM_PAYLOAD / FLOWSIM_PACKET;
}

/* ------------------------------------------------------- salvo flows */

/* sender.c rtt_sample() */
static void rtt_sample(flow *f, uint64_t rtt)
{
	if (!rtt)
		rtt = 1;
	if (!f->have_rtt) {
		f->srtt = rtt;
		f->rttvar = rtt / 2;
		f->min_rtt = rtt;
		f->have_rtt = 1;
		return;
	}
	uint64_t d = rtt > f->srtt ? rtt - f->srtt : f->srtt - rtt;
	f->rttvar = (3 * f->rttvar + d) / 4;
	f->srtt = (7 * f->srtt + rtt) / 8;
	if (rtt < f->min_rtt)
		f->min_rtt = rtt;
}

/* sender.c base_status_interval() */
static uint64_t status_interval(const flow *f, uint64_t rate)
{
	uint64_t srtt = f->have_rtt ? f->srtt : 100 * MS;
	uint64_t floor = (uint64_t)((unsigned __int128)4 * FLOWSIM_PACKET *
				    8000000000u / (rate ? rate : 1));
	uint64_t t = srtt / 4;
	if (t < floor)
		t = floor;
	if (t < MS)
		t = MS;
	return t < 250 * MS ? t : 250 * MS;
}

/* A feedback at the sender now: the receiver's counters as of exit tick
 * `exit`, with RTT sample `sample` (0: none). */
static void salvo_report(sim *s, flow *f, uint64_t exit, uint64_t sample,
			 uint64_t now)
{
	uint64_t i = exit % s->ring;
	double held = payload_of(f->cum_held[i]);
	double lost = payload_of(f->cum_lost[i]);
	salvo_rate_sample rs = {
	    now,
	    f->srtt,
	    f->min_rtt,
	    sample,
	    (uint64_t)(held - f->held_fb),
	    (uint64_t)((f->sent_ip + (double)f->fp.ahead_bytes) /
		       FLOWSIM_PACKET),
	    (uint64_t)(f->cum_held[i] / FLOWSIM_PACKET),
	    (uint64_t)held,
	    (uint64_t)lost,
	    FLOWSIM_PAYLOAD,
	    0};
	if (s->p->host_queue) {
		/* the receiver's sockets: their wait, and every flow's
		 * drops there, as FEEDBACK reports them */
		double drops = 0;
		for (size_t k = 0; k < s->p->nflows; k++)
			drops += s->r->dropped[k];
		rs.host_wait_ns = s->soj[i];
		/* as FEEDBACK's host_wait_us: 0 means none of ours arrived;
		 * ours read at once still waited a few us */
		double before = f->cum_held[(exit + s->ring - 1) % s->ring];
		if (!rs.host_wait_ns && f->cum_held[i] > before)
			rs.host_wait_ns = 20000;
		rs.host_drops = (uint64_t)(drops / FLOWSIM_PACKET);
	}
	f->fp.ops->on_feedback(&f->st, &rs);
	if ((uint64_t)lost > (uint64_t)f->lost_fb)
		f->fp.ops->on_loss(&f->st,
				   (uint64_t)lost - (uint64_t)f->lost_fb, now);
	f->held_fb = held;
	f->lost_fb = lost;
}

static void salvo_feedback(sim *s, flow *f, const heartbeat *h, uint64_t now)
{
	/* the kernel times a heartbeat as it reaches the receiver's
	 * socket: a socket queue (host_queue) is not in the sample */
	uint64_t rtt =
	    (s->p->host_queue ? 0 : (h->exit - h->sent) * s->tick_ns) +
	    f->fp.rtt_ns;
	uint64_t echo = h->sent * s->tick_ns + 1;
	uint64_t sample = 0;
	if (echo > f->last_echo) { /* sender.c: echo_ts > last_echo */
		sample = rtt;
		rtt_sample(f, sample);
		f->last_echo = echo;
	}
	salvo_report(s, f, h->exit, sample, now);
}

static void check_rate(sim *s, size_t k, uint64_t r)
{
	const flow *f = &s->f[k];
	uint64_t ceiling = f->fp.ceiling_bps;
	uint64_t lo = f->fp.floor_bps < ceiling ? f->fp.floor_bps : ceiling;
	if ((r > ceiling || r < lo || !r) && !s->r->bad_rate[k])
		s->r->bad_rate[k] = r ? r : 1;
}

static double salvo_offer(sim *s, size_t k, uint64_t t)
{
	flow *f = &s->f[k];
	uint64_t now = t * s->tick_ns;
	uint64_t fu = f->fp.followup_ns / s->tick_ns;
	for (;;) {
		int hb = f->hb_n && f->hb[f->hb_head].back <= t;
		if (f->fu_back && f->fu_back <= t &&
		    (!hb || f->fu_back <= f->hb[f->hb_head].back)) {
			/* what reached the receiver by then, an RTT ago */
			salvo_report(s, f, f->fu_back - f->rtt_ticks, 0, now);
			f->fu_back = 0;
			continue;
		}
		if (f->fp.data_fb_ns && f->dfb_next <= t &&
		    (!hb || f->dfb_next <= f->hb[f->hb_head].back)) {
			/* the receiver's periodic FEEDBACK: what had
			 * left the queue an RTT ago, no RTT sample */
			if (f->dfb_next >= f->rtt_ticks)
				salvo_report(s, f, f->dfb_next - f->rtt_ticks,
					     0, now);
			f->dfb_next += f->fp.data_fb_ns > s->tick_ns
					   ? f->fp.data_fb_ns / s->tick_ns
					   : 1;
			continue;
		}
		if (!hb)
			break;
		heartbeat h = f->hb[f->hb_head];
		f->hb_head = (f->hb_head + 1) % MAX_HB;
		f->hb_n--;
		if (h.exit != UINT64_MAX) {
			salvo_feedback(s, f, &h, now);
			if (fu)
				f->fu_back = h.back + fu;
		}
	}
	uint64_t rate = f->fp.ops->pacing_rate(&f->st);
	check_rate(s, k, rate);
	double per_tick = (double)rate * (double)s->tick_ns / 8e9;
	f->pace_credit += per_tick;
	double n = f->pace_credit;
	f->pace_credit = 0;
	f->sent_ip += n;
	return n;
}

/* A heartbeat sent at tick t, after this tick's arrivals: dropped with
 * the tick's drop ratio, or at random on either way. */
static void salvo_heartbeat(sim *s, flow *f, uint64_t t, double drop_ratio)
{
	uint64_t now = t * s->tick_ns;
	if (now < f->next_hb || f->hb_n == MAX_HB)
		return;
	uint64_t rate = f->fp.ops->pacing_rate(&f->st);
	f->next_hb = now + status_interval(f, rate);
	heartbeat h = {t, 0, UINT64_MAX};
	double p = s->p->loss;
	int lost = uniform(s) < drop_ratio || uniform(s) < p || uniform(s) < p;
	uint64_t wait = (uint64_t)ceil(s->q_bytes / s->link_per_tick);
	if (!lost)
		h.exit = t + wait;
	h.back = t + wait + f->rtt_ticks;
	f->hb[(f->hb_head + f->hb_n) % MAX_HB] = h;
	f->hb_n++;
}

/* ------------------------------------------------------------ queue */

static int q_push(sim *s, uint64_t t, const double *bytes)
{
	if (s->q_n == s->q_cap) {
		size_t cap = s->q_cap ? s->q_cap * 2 : 1024;
		slice *q = malloc(cap * sizeof(*q));
		if (!q)
			return -1;
		for (size_t i = 0; i < s->q_n; i++)
			q[i] = s->q[(s->q_head + i) % s->q_cap];
		free(s->q);
		s->q = q;
		s->q_cap = cap;
		s->q_head = 0;
	}
	slice *sl = &s->q[(s->q_head + s->q_n) % s->q_cap];
	sl->tick = t;
	sl->total = 0;
	for (size_t k = 0; k < FLOWSIM_MAX_FLOWS; k++) {
		sl->bytes[k] = bytes[k];
		sl->total += bytes[k];
	}
	s->q_n++;
	return 0;
}

/* The link drains up to its rate; returns the sojourn of the last bytes
 * out, and each flow's departed bytes in out[]. */
static uint64_t q_drain(sim *s, uint64_t t, double *out)
{
	uint64_t soj = 0;
	if (s->p->stall_every_ns && t >= s->stall_until &&
	    uniform(s) < (double)s->tick_ns / (double)s->p->stall_every_ns)
		s->stall_until = t + s->p->stall_ns / s->tick_ns;
	if (t < s->stall_until)
		return 0;
	s->link_credit += s->link_per_tick;
	while (s->q_n && s->link_credit > 1e-9) {
		slice *sl = &s->q[s->q_head];
		double take =
		    sl->total < s->link_credit ? sl->total : s->link_credit;
		double frac = take / sl->total;
		for (size_t k = 0; k < s->p->nflows; k++) {
			double b = sl->bytes[k] * frac;
			out[k] += b;
			sl->bytes[k] -= b;
		}
		sl->total -= take;
		s->link_credit -= take;
		s->q_bytes -= take;
		soj = (t - sl->tick) * s->tick_ns;
		if (sl->total <= 1e-9) {
			s->q_head = (s->q_head + 1) % s->q_cap;
			s->q_n--;
		}
	}
	if (!s->q_n) {
		s->q_bytes = 0;
		s->link_credit = 0; /* an idle link banks nothing */
	}
	return soj;
}

/* -------------------------------------------------------------- run */

static int setup(sim *s, const flowsim_params *p, flowsim_result *r)
{
	memset(s, 0, sizeof(*s));
	memset(r, 0, sizeof(*r));
	r->p = *p;
	s->p = &r->p;
	s->r = r;
	s->rng.s = p->seed;
	s->tick_ns = p->tick_ns ? p->tick_ns : 100000;
	if (!r->p.sample_ns)
		r->p.sample_ns = 10 * MS;
	s->link_per_tick = (double)p->link_bps * (double)s->tick_ns / 8e9;
	uint64_t rtt_max = 0;
	for (size_t k = 0; k < p->nflows; k++)
		if (p->flow[k].rtt_ns > rtt_max)
			rtt_max = p->flow[k].rtt_ns;
	uint64_t q_ticks = (uint64_t)(p->queue_bytes / s->link_per_tick) + 2;
	s->ring = rtt_max / s->tick_ns + 2 * q_ticks + 16;
	s->soj = calloc(s->ring, sizeof(*s->soj));
	r->nsamples = p->duration_ns / r->p.sample_ns;
	r->qdelay = calloc(r->nsamples + 1, sizeof(*r->qdelay));
	r->first_drop_ns = UINT64_MAX;
	if (!s->soj || !r->qdelay)
		return -1;
	for (size_t k = 0; k < p->nflows; k++) {
		flow *f = &s->f[k];
		f->fp = p->flow[k];
		if (!f->fp.ceiling_bps)
			f->fp.ceiling_bps = 100000000000ull;
		f->rtt_ticks = f->fp.rtt_ns / s->tick_ns;
		f->cum_held = calloc(s->ring, sizeof(double));
		f->cum_lost = calloc(s->ring, sizeof(double));
		f->lost_future = calloc(s->ring, sizeof(double));
		r->held[k] = calloc(r->nsamples + 1, sizeof(double));
		r->rate[k] = calloc(r->nsamples + 1, sizeof(uint64_t));
		if (!f->cum_held || !f->cum_lost || !f->lost_future ||
		    !r->held[k] || !r->rate[k])
			return -1;
	}
	return 0;
}

static void start_flow(sim *s, size_t k, uint64_t t)
{
	flow *f = &s->f[k];
	uint64_t now = t * s->tick_ns;
	f->running = 1;
	if (f->fp.kind == FLOWSIM_SALVO) {
		f->fp.ops->init(&f->st, f->fp.ceiling_bps, f->fp.floor_bps,
				FLOWSIM_PACKET - SALVO_IPV4_UDP_OVERHEAD, now);
		/* the handshake gave the sender core one RTT sample */
		rtt_sample(f, f->fp.rtt_ns);
		if (f->fp.ops->seed)
			f->fp.ops->seed(&f->st, f->fp.hint_bps, f->fp.rtt_ns,
					now);
		f->next_hb = now;
		f->dfb_next = t + f->rtt_ticks;
	} else {
		flowsim_tcp_init(&f->tcp, f->fp.kind, f->fp.rtt_ns, now,
				 (uint32_t)testrand_next(&s->rng));
		f->tcp.inflight_cap = (double)f->fp.inflight_cap_bytes;
		f->tcp.no_hystart = f->fp.no_hystart;
	}
}

static double offer(sim *s, size_t k, uint64_t t)
{
	flow *f = &s->f[k];
	uint64_t now = t * s->tick_ns;
	if (!f->running && !f->done && now >= f->fp.start_ns)
		start_flow(s, k, t);
	if (f->running && f->fp.stop_ns && now >= f->fp.stop_ns) {
		f->running = 0;
		f->done = 1;
	}
	if (!f->running)
		return 0;
	if (f->fp.kind == FLOWSIM_SALVO)
		return salvo_offer(s, k, t);
	uint64_t back = t >= f->rtt_ticks ? t - f->rtt_ticks : 0;
	uint64_t i = back % s->ring;
	uint64_t rtt = f->fp.rtt_ns + s->soj[i];
	return flowsim_tcp_tick(&f->tcp, now, s->tick_ns, f->cum_held[i],
				f->cum_lost[i], rtt);
}

static int step(sim *s, uint64_t t)
{
	size_t n = s->p->nflows;
	double in[FLOWSIM_MAX_FLOWS] = {0}, out[FLOWSIM_MAX_FLOWS] = {0};
	double total = 0;
	for (size_t k = 0; k < n; k++)
		total += in[k] = offer(s, k, t);
	double room = (double)s->p->queue_bytes - s->q_bytes;
	double admit = total <= room ? 1 : (room > 0 ? room / total : 0);
	uint64_t wait = (uint64_t)ceil(s->q_bytes / s->link_per_tick);
	for (size_t k = 0; k < n; k++) {
		double drop = in[k] * (1 - admit);
		in[k] -= drop;
		if (drop > 0) {
			s->f[k].lost_future[(t + wait) % s->ring] += drop;
			s->r->dropped[k] += drop;
			if (s->r->first_drop_ns == UINT64_MAX && drop > 1)
				s->r->first_drop_ns = t * s->tick_ns;
		}
	}
	if (total * admit > 0) {
		if (q_push(s, t, in))
			return -1;
		s->q_bytes += total * admit;
	}
	for (size_t k = 0; k < n; k++)
		if (s->f[k].running && s->f[k].fp.kind == FLOWSIM_SALVO)
			salvo_heartbeat(s, &s->f[k], t, 1 - admit);
	uint64_t soj = q_drain(s, t, out);
	s->soj[t % s->ring] = soj;
	for (size_t k = 0; k < n; k++) {
		flow *f = &s->f[k];
		/* random loss: whole packets as they leave */
		f->exit_credit += out[k];
		double lost = 0;
		while (f->exit_credit >= FLOWSIM_PACKET) {
			f->exit_credit -= FLOWSIM_PACKET;
			if (uniform(s) < s->p->loss)
				lost += FLOWSIM_PACKET;
		}
		uint64_t i = t % s->ring;
		f->held += out[k] - lost;
		f->lost += lost + f->lost_future[i];
		f->lost_future[i] = 0;
		f->cum_held[i] = f->held;
		f->cum_lost[i] = f->lost;
	}
	return 0;
}

static void sample(sim *s, size_t j)
{
	flowsim_result *r = s->r;
	r->qdelay[j] =
	    (uint64_t)(s->q_bytes / s->link_per_tick * (double)s->tick_ns);
	for (size_t k = 0; k < s->p->nflows; k++) {
		flow *f = &s->f[k];
		r->held[k][j] = f->held;
		if (f->running && f->fp.kind == FLOWSIM_SALVO) {
			r->rate[k][j] = f->fp.ops->pacing_rate(&f->st);
			if (s->p->on_sample && f->fp.ops->snapshot) {
				salvo_rate_snapshot snap = {0};
				f->fp.ops->snapshot(&f->st, &snap);
				s->p->on_sample(s->p->on_sample_ud, k,
						(j + 1) * r->p.sample_ns,
						&snap);
			}
		}
	}
}

static void teardown(sim *s)
{
	free(s->q);
	free(s->soj);
	for (size_t k = 0; k < FLOWSIM_MAX_FLOWS; k++) {
		free(s->f[k].cum_held);
		free(s->f[k].cum_lost);
		free(s->f[k].lost_future);
	}
}

int flowsim_run(const flowsim_params *p, flowsim_result *r)
{
	sim *s = malloc(sizeof(*s));
	if (!s)
		return -1;
	int err = -1;
	if (p->nflows > FLOWSIM_MAX_FLOWS || setup(s, p, r))
		goto done;
	uint64_t ticks = p->duration_ns / s->tick_ns;
	uint64_t per_sample = r->p.sample_ns / s->tick_ns;
	for (uint64_t t = 0; t < ticks; t++) {
		if (step(s, t))
			goto done;
		if ((t + 1) % per_sample == 0 &&
		    (t + 1) / per_sample <= r->nsamples)
			sample(s, (t + 1) / per_sample - 1);
	}
	err = 0;
done:
	teardown(s);
	free(s);
	return err;
}

void flowsim_result_free(flowsim_result *r)
{
	free(r->qdelay);
	for (size_t k = 0; k < FLOWSIM_MAX_FLOWS; k++) {
		free(r->held[k]);
		free(r->rate[k]);
	}
	memset(r, 0, sizeof(*r));
}

/* ---------------------------------------------------------- metrics */

/* Sample index of the interval ending at or before t (t >= one sample). */
static size_t idx(const flowsim_result *r, uint64_t t)
{
	size_t j = (size_t)(t / r->p.sample_ns);
	if (j > r->nsamples)
		j = r->nsamples;
	return j;
}

static double held_at(const flowsim_result *r, size_t f, uint64_t t)
{
	size_t j = idx(r, t);
	return j ? r->held[f][j - 1] : 0;
}

uint64_t flowsim_rate_bps(const flowsim_result *r, size_t f, uint64_t from,
			  uint64_t to)
{
	double b = held_at(r, f, to) - held_at(r, f, from);
	return (uint64_t)(b * 8e9 / (double)(to - from));
}

uint64_t flowsim_goodput_bps(const flowsim_result *r, size_t f, uint64_t from,
			     uint64_t to)
{
	uint64_t b = flowsim_rate_bps(r, f, from, to);
	if (r->p.flow[f].kind != FLOWSIM_SALVO)
		return b;
	return (uint64_t)payload_of((double)b);
}

uint64_t flowsim_qdelay_ns(const flowsim_result *r, uint64_t from, uint64_t to)
{
	size_t a = idx(r, from), b = idx(r, to);
	double sum = 0;
	for (size_t j = a; j < b; j++)
		sum += (double)r->qdelay[j];
	return b > a ? (uint64_t)(sum / (double)(b - a)) : 0;
}

uint64_t flowsim_qdelay_peak_ns(const flowsim_result *r, uint64_t from,
				uint64_t to)
{
	uint64_t peak = 0;
	for (size_t j = idx(r, from), b = idx(r, to); j < b; j++)
		if (r->qdelay[j] > peak)
			peak = r->qdelay[j];
	return peak;
}

uint64_t flowsim_pacing_bps(const flowsim_result *r, size_t f, uint64_t from,
			    uint64_t to)
{
	size_t a = idx(r, from), b = idx(r, to);
	double sum = 0;
	for (size_t j = a; j < b; j++)
		sum += (double)r->rate[f][j];
	return b > a ? (uint64_t)(sum / (double)(b - a)) : 0;
}

double flowsim_jain(const flowsim_result *r, uint64_t from, uint64_t to)
{
	double sum = 0, sq = 0;
	size_t n = r->p.nflows;
	for (size_t k = 0; k < n; k++) {
		double x = (double)flowsim_rate_bps(r, k, from, to);
		sum += x;
		sq += x * x;
	}
	return sq > 0 ? sum * sum / ((double)n * sq) : 0;
}

uint64_t flowsim_first_rate(const flowsim_result *r, size_t f, uint64_t from,
			    uint64_t win, uint64_t bps)
{
	for (uint64_t t = from + win; t <= r->p.duration_ns;
	     t += r->p.sample_ns)
		if (flowsim_rate_bps(r, f, t - win, t) >= bps)
			return t;
	return UINT64_MAX;
}
