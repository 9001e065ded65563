/*
 * flowsim: a model of flows sharing one bottleneck, in virtual time, for
 * proving rate control (common/core/rate.h) against cross traffic.  A
 * model, not the lab: fluid bytes stepped every tick through one
 * drop-tail FIFO in front of a link of fixed rate, random loss on the
 * link and on the heartbeats and feedback both ways, a fixed propagation
 * delay per flow.
 *
 * Flow kinds:
 *   FLOWSIM_SALVO  paced by a salvo_rate_ops; fed the salvo_rate_sample
 *                  the sender core builds (sender/core/sender.c): one
 *                  feedback per heartbeat that comes back, with the
 *                  heartbeat's RTT (queue included), the payload the
 *                  receiver holds and the payload reported lost;
 *   FLOWSIM_CUBIC  a loss-based TCP window (RFC 9438: C 0.4, beta 0.7,
 *                  the Reno-friendly region, a delay-based slow-start
 *                  exit as HyStart unless no_hystart), not paced,
 *                  ack-clocked;
 *   FLOWSIM_RENO   the same with Reno's halving and linear growth;
 *   FLOWSIM_BBR    BBR v1 as in draft-cardwell-iccrg-bbr-congestion-
 *                  control-00: max-filtered delivery rate over 10
 *                  rounds, min RTT over 10 s, start-up gain 2.885,
 *                  drain, the 8-phase probe cycle, ProbeRTT, cwnd of
 *                  2 BDP; loss ignored.
 *
 * Everything is seeded (flowsim_params.seed); one run is deterministic.
 * Rates are IP-level bits per second; a salvo flow's goodput is its
 * payload.  Single-threaded; a result owns its arrays until
 * flowsim_result_free().
 */
#ifndef SALVO_TESTS_FLOWSIM_H
#define SALVO_TESTS_FLOWSIM_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/rate.h"

#define FLOWSIM_MAX_FLOWS 64
#define FLOWSIM_PACKET 1500 /* IP bytes per packet, every kind */
/* salvo payload per 1500-byte packet as the rate algorithms count it
 * (common/core/rate.h's SALVO_DATA_OVERHEAD): 1500 - 28 - 28, 1444.
 * Protocol 3's packet carries 1428 (the AEAD tag too), which they read
 * 1.1 % light on the lab; the model does not show that. */
#define FLOWSIM_PAYLOAD (FLOWSIM_PACKET - SALVO_DATA_OVERHEAD)

typedef enum flowsim_kind {
	FLOWSIM_SALVO = 0,
	FLOWSIM_CUBIC,
	FLOWSIM_RENO,
	FLOWSIM_BBR,
} flowsim_kind;

typedef struct flowsim_flow {
	flowsim_kind kind;
	const salvo_rate_ops *ops; /* FLOWSIM_SALVO */
	uint64_t ceiling_bps;	   /* salvo: 0 = 100 Gbit/s */
	uint64_t floor_bps;	   /* salvo: 0 none */
	uint64_t hint_bps;	   /* salvo: link hint for ops->seed, 0 none */
	uint64_t rtt_ns;	   /* propagation RTT */
	uint64_t start_ns;
	uint64_t stop_ns;     /* 0: runs to the end */
	uint64_t ahead_bytes; /* salvo: data the engine's block-senders hold,
			       * handed out by the core but not yet paced
			       * out (counted in datagrams_sent, as the
			       * core counts it) */
	uint64_t followup_ns; /* salvo: the receiver's follow-up FEEDBACK,
			       * this long after each echo of a heartbeat,
			       * with its counters then and no RTT sample
			       * (the engine's receiver: srtt/16); 0 none */
	uint64_t data_fb_ns;  /* salvo: the receiver's periodic FEEDBACK
			       * while data arrives, this often (the
			       * engine's receiver: max(srtt/4, 1 ms); on
			       * loopback every ms), with its counters then
			       * and no RTT sample; 0 none */
	uint64_t inflight_cap_bytes; /* TCP: most bytes in flight whatever
				      * the window, as a Linux sender's
				      * socket buffer holds it (tcp_wmem's
				      * 4 MiB: ~3.2 MB in flight on the
				      * lab); 0 none */
	int no_hystart; /* CUBIC, Reno: slow start ends only on loss (the
			 * lab's Linux CUBIC with 64 MiB buffers overshot
			 * into the queue and kept 40-70 ms standing when
			 * salvo started 5 s later); 0: HyStart's delay exit */
} flowsim_flow;

typedef struct flowsim_params {
	uint64_t link_bps;
	uint64_t queue_bytes; /* drop-tail buffer */
	double loss;	      /* random loss on data, heartbeats, feedback */
	uint64_t duration_ns;
	uint64_t tick_ns;   /* 0: 100 us */
	uint64_t sample_ns; /* metrics interval; 0: 10 ms */
	uint64_t seed;
	int host_queue; /* the queue is the receiver's sockets: RTT samples
			 * leave it out, FEEDBACK reports its wait
			 * (host_wait_ns) and its drops (host_drops, all
			 * flows') */
	/* a receiver short of CPU (host_queue): the link stops for
	 * stall_ns at random moments, on average once each stall_every_ns,
	 * and then drains at its rate again; 0 none */
	uint64_t stall_ns, stall_every_ns;
	size_t nflows;
	flowsim_flow flow[FLOWSIM_MAX_FLOWS];
	/* optional: called for each running salvo flow at the end of each
	 * sample interval with its controller's snapshot (its mode as
	 * `state`), for traces; NULL none */
	void (*on_sample)(void *ud, size_t flow, uint64_t now,
			  const salvo_rate_snapshot *snap);
	void *on_sample_ud;
} flowsim_params;

typedef struct flowsim_result {
	flowsim_params p;
	size_t nsamples;
	/* per flow, at the end of each sample interval */
	double *held[FLOWSIM_MAX_FLOWS];      /* IP bytes that reached the
					       * receiver, cumulative */
	uint64_t *rate[FLOWSIM_MAX_FLOWS];    /* salvo: pacing rate */
	uint64_t *qdelay;		      /* queueing delay, ns */
	double dropped[FLOWSIM_MAX_FLOWS];    /* IP bytes dropped by the
					       * full queue */
	uint64_t first_drop_ns;		      /* UINT64_MAX: none */
	uint64_t bad_rate[FLOWSIM_MAX_FLOWS]; /* a pacing rate outside
					       * [floor, ceiling], else 0 */
} flowsim_result;

/* Runs the scenario.  0, or -1 when memory runs out. */
int flowsim_run(const flowsim_params *p, flowsim_result *r);
void flowsim_result_free(flowsim_result *r);

/* Mean IP-level delivery rate of flow f over [from, to), bits/s. */
uint64_t flowsim_rate_bps(const flowsim_result *r, size_t f, uint64_t from,
			  uint64_t to);
/* The same as goodput: payload bits/s for a salvo flow, IP for others. */
uint64_t flowsim_goodput_bps(const flowsim_result *r, size_t f, uint64_t from,
			     uint64_t to);
/* Mean queueing delay over [from, to), ns. */
uint64_t flowsim_qdelay_ns(const flowsim_result *r, uint64_t from, uint64_t to);
/* Highest queueing delay over [from, to), ns. */
uint64_t flowsim_qdelay_peak_ns(const flowsim_result *r, uint64_t from,
				uint64_t to);
/* Mean pacing rate of a salvo flow over [from, to). */
uint64_t flowsim_pacing_bps(const flowsim_result *r, size_t f, uint64_t from,
			    uint64_t to);
/* Jain's index of the flows' delivery rates over [from, to). */
double flowsim_jain(const flowsim_result *r, uint64_t from, uint64_t to);
/* First end of a window of `win` ns, at or after `from`, over which flow
 * f delivered at least `bps`; UINT64_MAX if never. */
uint64_t flowsim_first_rate(const flowsim_result *r, size_t f, uint64_t from,
			    uint64_t win, uint64_t bps);

#endif
