/*
 * linkem link model: the pure decision half of the userspace link emulator.
 *
 * One struct linkem_dir models one direction of a link.  For each packet that
 * enters the link, linkem_model_decide() takes the direction's state, the
 * packet bytes and the arrival time, and says what happens to it: dropped
 * (random loss, burst loss or a full queue), and otherwise when each copy
 * (one, or two when duplicated) leaves the link, whether it leaves out of
 * order, and which bit, if any, to flip.  It touches no clock, file, socket
 * or thread; randomness is a seeded xoshiro256** stream inside the state, so
 * a seed and a packet trace replay exactly.
 *
 * Threading: a struct linkem_dir has one owner thread.  The counters are
 * plain integers written by that owner; another thread may read a snapshot
 * with linkem_model_snapshot() (relaxed atomic loads: a snapshot is
 * consistent per field, not across fields).
 */
#ifndef LINKEM_MODEL_H
#define LINKEM_MODEL_H

#include <stdbool.h>
#include <stdint.h>

/* Parameters of one direction.  Probabilities are in [0, 1]. */
struct linkem_params {
	uint64_t delay_ns;  /* one-way propagation delay */
	uint64_t jitter_ns; /* delay varies uniformly in +-jitter_ns */
	double loss;	    /* Bernoulli loss probability */
	/* Gilbert-Elliott burst loss (netem "gemodel p r 1-h 1-k"): off when
	 * ge_p == 0.  ge_p: P(good -> bad) per packet; ge_r: P(bad -> good);
	 * ge_loss_bad / ge_loss_good: loss probability in each state. */
	double ge_p, ge_r, ge_loss_bad, ge_loss_good;
	uint64_t
	    rate_bps; /* serialization rate in bit/s of IP bytes, 0 = none */
	uint64_t
	    limit_bytes; /* drop-tail queue ahead of the rate, 0 = default */
	double reorder;	 /* P(packet is held back by reorder_ns extra) */
	uint64_t reorder_ns; /* extra delay of a reordered packet */
	double duplicate;    /* P(packet is sent twice) */
	double corrupt;	     /* P(one bit of the packet is flipped) */
};

/* Default queue limit when a rate is set and no limit given (bytes). */
#define LINKEM_DEFAULT_LIMIT_BYTES (1u << 20)
/* Default extra delay of a reordered packet. */
#define LINKEM_DEFAULT_REORDER_NS 1000000ull

struct linkem_counters {
	uint64_t in_pkts, in_bytes;   /* packets offered to the link */
	uint64_t out_pkts, out_bytes; /* copies delivered (I/O layer) */
	uint64_t drop_loss;	      /* Bernoulli + Gilbert-Elliott */
	uint64_t drop_queue;	      /* drop-tail queue full */
	uint64_t drop_mem;	      /* no buffer (I/O layer cap) */
	uint64_t drop_write;	      /* write to the device failed */
	uint64_t duplicated, corrupted, reordered;
	uint64_t ge_bursts; /* good -> bad transitions */
};

struct linkem_dir {
	struct linkem_params p;
	uint64_t rng[4];
	bool ge_bad;
	uint64_t
	    link_free_ns;     /* when the serializer finishes the last packet */
	uint64_t last_due_ns; /* in-order copies never leave before this */
	struct linkem_counters c;
};

#define LINKEM_MAX_COPIES 2

struct linkem_copy {
	uint64_t due_ns; /* when the copy leaves the link */
	bool reordered;	 /* due_ns may be later than a later packet's */
};

struct linkem_verdict {
	unsigned ncopies; /* 0: dropped */
	struct linkem_copy copy[LINKEM_MAX_COPIES];
	int64_t flip_bit; /* bit index to flip in every copy, -1 none */
};

/* Prepares d for parameters p (copied) and the random stream of seed. */
void linkem_model_init(struct linkem_dir *d, const struct linkem_params *p,
		       uint64_t seed);

/* Decides the fate of a packet of len bytes (pkt, borrowed, only read: the
 * IP header length picks where a corrupted bit goes) arriving at now_ns.
 * Updates the state and the model's counters (in, drops, duplicated,
 * corrupted, reordered); out/drop_mem/drop_write are the caller's.  Copies
 * that are not reordered have non-decreasing due_ns across calls. */
void linkem_model_decide(struct linkem_dir *d, const uint8_t *pkt, uint32_t len,
			 uint64_t now_ns, struct linkem_verdict *v);

/* A uniformly distributed 64-bit value from d's stream (for tests). */
uint64_t linkem_model_rand(struct linkem_dir *d);

/* Copies the counters of d, readable from a thread that does not own d. */
void linkem_model_snapshot(const struct linkem_dir *d,
			   struct linkem_counters *out);

/* Adds one to a counter; the owner's write pairs with the snapshot's load. */
static inline void linkem_count(uint64_t *ctr, uint64_t n)
{
	__atomic_store_n(ctr, *ctr + n, __ATOMIC_RELAXED);
}

#endif
