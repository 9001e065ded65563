/*
 * Rate control: a small table of callbacks, one algorithm per file.  The
 * sender core calls them with what it learns (feedback, timeouts) and
 * asks pacing_rate() for the rate the engine's pacer should use.
 * "fixed" (rate_fixed.c) paces at the configured ceiling; "adaptive"
 * (rate_adaptive.c) finds the path's rate from queueing delay, ignoring
 * random loss.  Pure arithmetic on the samples: no clock, no I/O.
 */
#ifndef SALVO_RATE_H
#define SALVO_RATE_H

#include <stdint.h>

#include "common/core/wire.h"

typedef struct salvo_rate_sample {
	uint64_t now;
	uint64_t srtt_ns, min_rtt_ns;
	uint64_t rtt_ns;	  /* this feedback's RTT sample, 0: none */
	uint64_t delivered_bytes; /* newly acknowledged since last */
	uint64_t datagrams_sent;  /* totals so far */
	uint64_t datagrams_received;
	uint64_t held_bytes;	/* payload the receiver holds, total */
	uint64_t lost_bytes;	/* payload reported lost, total */
	uint32_t payload_bytes; /* per DATA datagram */
	int app_limited;	/* the sender ran short of data to send */
} salvo_rate_sample;

typedef struct salvo_rate_ops {
	const char *name;
	/* ceiling and floor in bits per second (floor 0: none); datagram
	 * size in bytes */
	void (*init)(void *state, uint64_t ceiling_bps, uint64_t floor_bps,
		     uint32_t datagram_bytes, uint64_t now);
	void (*on_feedback)(void *state, const salvo_rate_sample *s);
	void (*on_loss)(void *state, uint64_t lost_bytes, uint64_t now);
	void (*on_timeout)(void *state, uint64_t now);
	uint64_t (*pacing_rate)(const void *state); /* bits per second */
} salvo_rate_ops;

typedef struct salvo_rate_fixed {
	uint64_t rate_bps;
} salvo_rate_fixed;

typedef struct salvo_rate_adaptive {
	uint64_t ceiling_bps, floor_bps, rate_bps;
	uint32_t datagram_bytes;
	int startup, draining;
	uint64_t min_rtt_ns;   /* lowest RTT seen */
	uint64_t queue_ns;     /* latest RTT minus the lowest */
	uint64_t round_start;  /* current round began */
	uint64_t held0, lost0; /* byte counters then */
	uint64_t last_cut;     /* last decrease */
	uint64_t capacity_bps; /* estimate at the last cut */
	uint64_t loss_ppm;     /* loss while the queue is empty */
	int have_loss;
	uint64_t delivered_bps; /* last full round */
	uint32_t rounds;
	uint32_t behind;       /* rounds delivering < 3/4 */
	uint64_t rate_before;  /* rate when this round began */
	uint64_t rate_before2; /* ... and the round before */
	uint32_t quiet_rounds; /* in a row, path keeping up */
} salvo_rate_adaptive;

/* State big enough for any algorithm. */
typedef union salvo_rate_state {
	salvo_rate_fixed fixed;
	salvo_rate_adaptive adaptive;
} salvo_rate_state;

extern const salvo_rate_ops salvo_rate_fixed_ops;
extern const salvo_rate_ops salvo_rate_adaptive_ops;

/* Below this much queueing delay a path counts as uncongested.  Not less:
 * on a LAN a busy host's late wake-ups add RTT samples of 0.3-1 ms with no
 * queue at all (with 0.5 ms, adaptive ran loopback at 0.3 Gbit/s where
 * the engine does 3). */
#define SALVO_RATE_QUEUE_TARGET_MIN_NS 2000000ull
/* DATA header plus IP and UDP headers, per datagram: an estimate for
 * turning payload rates into wire rates, so IPv4's (IPv6 adds 20 bytes,
 * 1.4 % of a 1500-byte packet). */
#define SALVO_DATA_OVERHEAD (SALVO_DATA_HDR_BYTES + SALVO_IPV4_UDP_OVERHEAD)
/* The adaptive rate starts at 15,000 bytes per RTT (TCP's initial
 * window of ten 1500-byte packets), kept within these bounds, and before
 * any RTT is known at the lower one. */
#define SALVO_RATE_START_MIN_BPS 5000000ull
#define SALVO_RATE_START_MAX_BPS 10000000ull
#define SALVO_RATE_START_BYTES 15000

#endif
