/*
 * Rate control: a small table of callbacks, one algorithm per file.  The
 * sender core calls them with what it learns (feedback, timeouts) and
 * asks pacing_rate() for the rate the engine's pacer should use.
 * "fixed" (rate_fixed.c) paces at the configured ceiling; "adaptive"
 * (rate_adaptive.c) finds the path's rate from queueing delay, ignoring
 * random loss; "fair", "high" and "low" (rate_fair.c) find it too, share
 * it with TCP and with each other, and need no rate at all (docs/
 * PROTOCOL.md, "Rate control: fair, high, low").  Pure arithmetic on the
 * samples: no clock, no I/O.  One owner thread per state.
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
	/* datagrams the receiver's host dropped for want of socket room,
	 * total seen (FEEDBACK.host_drops' growth): it cannot keep up */
	uint64_t host_drops;
	/* the receiver's socket queue: how long our DATA waited there on
	 * average since its last feedback (FEEDBACK.host_wait_us), ns */
	uint64_t host_wait_ns;
	/* the bottleneck's rate as the receiver's packet trains read it
	 * (FEEDBACK.train_kbps), IP bits/s; 0: none */
	uint64_t train_bps;
} salvo_rate_sample;

/* What a rate algorithm believes, for telemetry (--events): filled by
 * the optional snapshot callback; a field it does not know stays as the
 * caller set it (the sender core fills the RTTs and the rate first). */
typedef struct salvo_rate_snapshot {
	uint64_t rate_bps;     /* pacing rate now */
	uint64_t delivery_bps; /* delivery rate measured, IP bits/s; 0 none */
	uint64_t min_rtt_ns, srtt_ns;
	uint64_t queue_ns;    /* queueing delay: standing RTT - min RTT */
	uint32_t loss_ppm;    /* random loss measured, parts per million */
	const char *state;    /* static string: "start", "drain", "delay",
			       * "compete", "fixed", ... */
	uint64_t ceiling_bps; /* the ceiling in force (the caller's), 0:
			       * none */
	uint64_t floor_bps;   /* the floor in force, 0: none */
	uint64_t train_bps;   /* the receiver's latest packet-train
			       * reading, IP bits/s; 0: none */

	/* why start-up ended, a static string ("queue", "target",
	 * "plateau", "short", "heavy", "host", "timeout"; NULL while it
	 * runs or where there is none), and the pacing rate it ended at */
	const char *start_exit;
	uint64_t start_exit_bps;
} salvo_rate_snapshot;

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
	/* Optional (NULL: none), once after init and before any feedback:
	 * what the sender knows before data flows.  link_bps: the user's
	 * link hint (--bandwidth, link.bandwidth), 0 none; rtt_ns: the
	 * handshake's RTT, 0 none.  A hint only seeds the start; the
	 * algorithm still measures the path. */
	void (*seed)(void *state, uint64_t link_bps, uint64_t rtt_ns,
		     uint64_t now);
	/* Optional (NULL: the caller's values stand): the algorithm's view
	 * for telemetry.  Reads the state, never changes it. */
	void (*snapshot)(const void *state, salvo_rate_snapshot *out);
	/* Optional (NULL: the caller clamps the algorithm's rate to the new
	 * bounds itself, and a ceiling above init's is not reached): the
	 * user moved the ceiling or the floor while the transfer runs
	 * (salvo ctl).  Units as init's; ceiling_bps is never 0 (none:
	 * SALVO_RATE_NO_CEILING_BPS).  The algorithm keeps what it has
	 * measured and brings its rate within the new bounds at once, so
	 * the next pacing_rate() obeys them. */
	void (*set_limits)(void *state, uint64_t ceiling_bps,
			   uint64_t floor_bps, uint64_t now);
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

struct salvo_rate_profile; /* fair, high or low: rate_fair.c */

/* Recent RTT samples, for the standing RTT (the lowest of the last half
 * RTT: one late sample is noise, a queue lasts). */
#define SALVO_RATE_FAIR_SAMPLES 8
/* Rounds the queue must stay up while we yield before another flow is
 * taken for a buffer filler. */
#define SALVO_RATE_FAIR_WATCH 8
/* Entries of the pacing history (a round/16 apart: two rounds). */
#define SALVO_RATE_FAIR_PACED 32
/* Entries of the arrivals history (a round/32 apart at least: half a
 * round, start-up's longest window, and more). */
#define SALVO_RATE_FAIR_ARRIVED 16

typedef struct salvo_rate_fair {
	const struct salvo_rate_profile *pr;
	uint64_t ceiling_bps, floor_bps, rate_bps;
	uint32_t datagram_bytes;
	int mode;	  /* START, DRAIN, DELAY, COMPETE (rate_fair_impl.h) */
	uint64_t last_fb; /* time of the last feedback */
	uint64_t min_rtt_ns, srtt_ns;
	uint64_t rtt_at[SALVO_RATE_FAIR_SAMPLES],
	    rtt_ns[SALVO_RATE_FAIR_SAMPLES];
	uint32_t rtt_next;
	uint64_t dq_ns; /* standing RTT minus the lowest */
	/* rounds of one min RTT */
	uint64_t round_start, held0, lost0;
	uint64_t round_dq_min, round_dq_max;
	uint32_t round_n, round_low_n; /* dq readings this round; near empty */
	uint64_t round_rate0;	       /* rate when the round began */
	uint64_t dq_min_hist[SALVO_RATE_FAIR_WATCH]; /* per round */
	uint64_t rate_hist[SALVO_RATE_FAIR_WATCH];
	uint32_t rounds;
	uint64_t fb_held, fb_at;    /* at the last feedback, for delivery */
	uint64_t fb_tau;	    /* ... its time, lateness taken out */
	uint64_t round_bw, prev_bw; /* best delivery this round and last */
	uint64_t delivered_bps;	    /* best of the two, wire bits/s */
	uint64_t bw_peak;	    /* best delivery lately, slowly fading */
	uint64_t loss_ppm;	    /* random loss, measured with no queue */
	int have_loss;
	uint32_t empty_rounds; /* in a row with the queue (nearly) empty */
	uint64_t base_seen;    /* last RTT sample near the lowest */
	uint64_t last_probe;   /* last drain to see the base RTT */
	uint64_t probe_until;  /* a drain running until then, */
	uint64_t probe_rate;   /* ... and the rate to resume */
	/* the drain's test for a buffer filler: the queue when it began,
	 * the lowest since, watched until probe_seen */
	uint64_t probe_dq0, probe_dq_min, probe_seen;
	uint64_t probe_cut_bps, probe_ns; /* how far and how long it cut */
	uint64_t share_bps; /* competitive mode's aim: our part of the link */
	uint64_t compete_left; /* when competitive mode last ended, 0 never */
	uint64_t drain_clear;  /* last drain that emptied the queue, or
				* when delay mode began */
	int probe_emptied;     /* the last drain's queue fell to a quarter
				* of our target (2 ms): the queue was ours */
	uint32_t probe_count;  /* drains in a row that found a filler
				* (delay mode) or an empty queue (compete) */
	uint32_t high_rounds;  /* in a row, queue over 1.5 x ours */
	uint64_t hint_bps;     /* the link hint, 0 none */
	/* competitive mode: a CUBIC window in rate space */
	uint64_t dq_max_ns;    /* deepest recent standing queue */
	uint64_t w_max_bytes;  /* window at the last cut */
	uint64_t epoch, k_ms;  /* last cut; CUBIC's K */
	uint64_t epoch_rtt_ns; /* srtt then: the window's rate scale */
	uint64_t last_cut;
	uint64_t drain_until;  /* end of the drain after start-up */
	uint64_t paced_dgrams; /* datagrams the pacer let out, estimated */
	uint64_t paced_part;   /* ... and the part of the next one, bit-ns */
	/* what the pacer let out when: (time, datagrams), a round/16
	 * apart, to compare what arrives with what left one RTT before */
	uint64_t paced_at[SALVO_RATE_FAIR_PACED],
	    paced_n[SALVO_RATE_FAIR_PACED];
	uint32_t paced_next;
	/* what had arrived or been lost, by feedback: (time, bytes) */
	uint64_t arrived_at[SALVO_RATE_FAIR_ARRIVED];
	uint64_t arrived_n[SALVO_RATE_FAIR_ARRIVED];
	uint32_t arrived_next;
	uint32_t short_windows; /* in a row: arrived < 0.9 x what left
				 * and 7 % under arrived_pm */
	uint32_t arrived_pm;	/* what arrives per 1000 that left, smoothed */
	uint64_t fb_dt, fb_jit; /* echo spacing and its mean deviation */
	uint64_t fb_all_dt, fb_all_jit; /* ... over every feedback */
	uint64_t fb_late_ns;	 /* mean RTT sample over the standing RTT */
	int quiet;		 /* the last round's queue stayed low */
	uint64_t start_sample;	 /* the last RTT sample came then */
	uint64_t start_bps;	 /* start-up's first rate */
	uint64_t plateau_bw;	 /* start-up: delivery at the last growth */
	uint32_t plateau_rounds; /* ... and rounds since without +1/4 */
	/* delay mode: the velocity of the climb (rate_fair.c) */
	int64_t round_err;   /* this round's sum of target - queue */
	int err_sign;	     /* the last round's sign of it: 1, -1, 0 */
	uint32_t err_rounds; /* rounds in a row of that sign */
	/* the climb into room (rate_fair_climb.c): growth per round,
	 * ppm, doubling each clear round; 0 when not climbing */
	uint32_t climb_pm;
	uint32_t climb_rounds; /* clear rounds in a row */
	uint64_t climb_bw;     /* delivery when the velocity last doubled */
	/* a receiver that cannot keep up (its sockets drop): a ceiling cut
	 * to beta x the rate at each drop (once a round), growing back by
	 * a fixed step plus 1/64 a round, gone at twice the delivery */
	uint64_t host_drops;   /* sample's host_drops seen */
	uint64_t host_cap_bps; /* that ceiling, 0: none */
	uint64_t host_cut;     /* its last cut */
	int round_host_drop;   /* this round saw host drops */
	uint64_t host_wait_ns; /* the receiver's socket queue, lately */
	/* ... its lowest reading in this window and the one before (a
	 * round, at most HOST_WAIT_WIN_NS: rate_fair.c) */
	uint64_t hw_win_at, hw_min, hw_prev_min;
	uint64_t train_bps; /* the latest packet-train reading, 0: none */

	/* why start-up ended (NULL before) and the rate it ended at */
	const char *start_exit;
	uint64_t start_exit_bps;
} salvo_rate_fair;

/* State big enough for any algorithm. */
typedef union salvo_rate_state {
	salvo_rate_fixed fixed;
	salvo_rate_adaptive adaptive;
	salvo_rate_fair fair;
} salvo_rate_state;

extern const salvo_rate_ops salvo_rate_fixed_ops;
extern const salvo_rate_ops salvo_rate_adaptive_ops;
extern const salvo_rate_ops salvo_rate_fair_ops;
extern const salvo_rate_ops salvo_rate_high_ops;
extern const salvo_rate_ops salvo_rate_low_ops;

/* The ceiling of a policy that finds its rate when the user gave none:
 * the highest rate the configuration takes (400 Gbit/s). */
#define SALVO_RATE_NO_CEILING_BPS 400000000000ull

/* Below this much queueing delay a path counts as uncongested.  Not less:
 * on a LAN a busy host's late wake-ups add RTT samples of 0.3-1 ms with no
 * queue at all (with 0.5 ms, adaptive ran loopback at 0.3 Gbit/s where
 * the engine does 3). */
#define SALVO_RATE_QUEUE_TARGET_MIN_NS 2000000ull
/* DATA header plus IP and UDP headers, per datagram: an estimate for
 * turning payload rates into wire rates, so IPv4's (IPv6 adds 20 bytes,
 * 1.4 % of a 1500-byte packet).  It leaves out protocol 3's 16-byte
 * AEAD tag (SALVO_TAG_BYTES), so fair's and adaptive's delivery
 * estimates read 1.1 % under what the pacer books (1484 bytes for a
 * 1500-byte packet).  Counting the tag was tried and not kept: in the
 * lab four salvo flows 5 s apart then all went competitive in three
 * runs of fourteen, main's in none of sixteen (docs/PERFORMANCE.md),
 * so fair is tuned with this margin in it. */
#define SALVO_DATA_OVERHEAD (SALVO_DATA_HDR_BYTES + SALVO_IPV4_UDP_OVERHEAD)
/* The adaptive rate starts at 15,000 bytes per RTT (TCP's initial
 * window of ten 1500-byte packets), kept within these bounds, and before
 * any RTT is known at the lower one. */
#define SALVO_RATE_START_MIN_BPS 5000000ull
#define SALVO_RATE_START_MAX_BPS 10000000ull
#define SALVO_RATE_START_BYTES 15000
/* fair, high and low start at eight times that (a bulk transfer, and
 * start-up grows by 3/4 a round, not 2x), within 5-20 Mbit/s */
#define SALVO_RATE_FAIR_START_BYTES 120000
#define SALVO_RATE_FAIR_START_MAX_BPS 20000000ull

#endif
