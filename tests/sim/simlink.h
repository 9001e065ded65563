/*
 * A simulated one-way link on a virtual clock: a drop-tail queue drained
 * at a fixed rate, then a propagation delay with jitter, and on the way
 * Bernoulli or Gilbert-Elliott loss, reordering, duplication, bit
 * corruption and blackhole intervals.  Deterministic for a given seed.
 * Packets are copied in and released in arrival order by simlink_pop().
 */
#ifndef SALVO_SIMLINK_H
#define SALVO_SIMLINK_H

#include <stddef.h>
#include <stdint.h>

typedef struct simlink_params {
	uint64_t delay_ns;    /* one-way propagation delay */
	uint64_t jitter_ns;   /* uniform extra delay in [0, jitter] */
	uint64_t rate_bps;    /* 0: infinite */
	uint64_t queue_bytes; /* drop-tail limit of the rate queue */
	double loss;	      /* Bernoulli loss probability */
	/* Gilbert-Elliott: used when ge_p_gb > 0 */
	double ge_p_gb, ge_p_bg, ge_loss_bad, ge_loss_good;
	double reorder;	     /* probability of an extra delay ... */
	uint64_t reorder_ns; /* ... uniform in [0, reorder_ns] */
	double duplicate;    /* probability of a second copy */
	double corrupt;	     /* probability of one flipped bit */
	uint64_t blackhole_start_ns, blackhole_end_ns; /* drop everything */
} simlink_params;

typedef struct simlink_stats {
	uint64_t packets_in, bytes_in;
	uint64_t dropped_loss, dropped_queue, dropped_blackhole;
	uint64_t duplicated, corrupted, delivered;
} simlink_stats;

typedef struct simpkt {
	uint64_t at, seq;
	int dst; /* receiving endpoint id */
	int src; /* sending endpoint id */
	size_t len;
	uint8_t *data;
} simpkt;

typedef struct simlink {
	simlink_params p;
	uint64_t rng;
	int ge_bad;
	uint64_t busy_until; /* the rate queue drains until then */
	uint64_t seq;
	simpkt *heap;
	size_t n, cap;
	simlink_stats st;
} simlink;

void simlink_init(simlink *l, const simlink_params *p, uint64_t seed);
void simlink_free(simlink *l);
/* Offers a packet at time now (non-decreasing across calls). */
void simlink_send(simlink *l, int src, int dst, const void *data, size_t len,
		  uint64_t now);
/* Arrival time of the next packet, UINT64_MAX if none. */
uint64_t simlink_next(const simlink *l);
/* Takes the next packet (caller frees p->data). */
int simlink_pop(simlink *l, simpkt *p);

/* Deterministic PRNG shared by the simulator (splitmix64). */
uint64_t sim_rand(uint64_t *state);
double sim_rand01(uint64_t *state);

#endif
