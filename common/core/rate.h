/*
 * Rate control: a small table of callbacks, one algorithm per file.  The
 * sender core calls them with what it learns (feedback, timeouts) and
 * asks pacing_rate() for the rate the engine's pacer should use.
 * "fixed" (rate_fixed.c) paces at the configured ceiling; adaptive and
 * fair modes plug in here later without touching the core.
 */
#ifndef SALVO_RATE_H
#define SALVO_RATE_H

#include <stdint.h>

typedef struct salvo_rate_sample {
	uint64_t now;
	uint64_t srtt_ns, min_rtt_ns;
	uint64_t delivered_bytes;     /* newly acknowledged since last */
	uint64_t datagrams_sent;      /* totals so far */
	uint64_t datagrams_received;
} salvo_rate_sample;

typedef struct salvo_rate_ops {
	const char *name;
	void (*on_feedback)(void *state, const salvo_rate_sample *s);
	void (*on_loss)(void *state, uint64_t lost_bytes, uint64_t now);
	void (*on_timeout)(void *state, uint64_t now);
	uint64_t (*pacing_rate)(const void *state); /* bits per second */
} salvo_rate_ops;

typedef struct salvo_rate_fixed {
	uint64_t rate_bps;
} salvo_rate_fixed;

extern const salvo_rate_ops salvo_rate_fixed_ops;

#endif
