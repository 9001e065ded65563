/*
 * flowsim's window-based senders (CUBIC, Reno, BBR v1): what flowsim.c
 * needs from flowsim_tcp.c.  Each tick flowsim.c hands a sender what its
 * ACKs say (bytes delivered and lost so far, as of one RTT ago, and the
 * RTT they saw) and asks how many bytes it may send now.
 */
#ifndef SALVO_TESTS_FLOWSIM_TCP_H
#define SALVO_TESTS_FLOWSIM_TCP_H

#include <stdint.h>

#include "tests/helpers/flowsim.h"

typedef struct flowsim_tcp {
	flowsim_kind kind;
	double cwnd, ssthresh; /* bytes */
	double inflight_cap;   /* the socket buffer's bound; 0 none */
	int no_hystart;	       /* slow start ends only on loss */
	double sent;	       /* IP bytes handed to the queue */
	double acked, lost;    /* as the ACKs tell, cumulative */
	double pending_loss;   /* lost bytes not yet acted on */
	uint64_t recovery_until;
	uint64_t srtt, min_rtt, min_rtt_at;
	/* CUBIC */
	double w_max, k_s; /* window before the last cut; K in seconds */
	uint64_t epoch;
	/* BBR v1 */
	int mode;
	double btl_bw; /* bytes per second, max of bw[] */
	double bw[10]; /* delivery rate of the last 10 rounds */
	uint32_t round;
	uint64_t round_start;
	double round_acked; /* acked at round start */
	double full_bw;
	int full_cnt, filled;
	int phase;
	uint64_t phase_start;
	uint64_t probe_rtt_until;
	double pacing_gain, cwnd_gain;
	double pace_credit;
} flowsim_tcp;

void flowsim_tcp_init(flowsim_tcp *t, flowsim_kind kind, uint64_t rtt_ns,
		      uint64_t now, uint32_t phase_seed);
/* ACK state now: cumulative bytes delivered and lost as the ACKs report
 * them, and an RTT sample (0: none).  Returns bytes to send this tick. */
double flowsim_tcp_tick(flowsim_tcp *t, uint64_t now, uint64_t tick_ns,
			double acked, double lost, uint64_t rtt_ns);

#endif
