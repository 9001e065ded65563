/*
 * Fixed-rate control: pace at the configured rate whatever happens.
 * Random loss is not congestion, so on a dedicated or provisioned path
 * this is the fastest policy; it is also the baseline the adaptive mode
 * will be measured against.
 */
#include "common/core/rate.h"

static void fixed_init(void *state, uint64_t ceiling_bps, uint64_t floor_bps,
		       uint32_t datagram_bytes, uint64_t now)
{
	(void)floor_bps;
	(void)datagram_bytes;
	(void)now;
	((salvo_rate_fixed *)state)->rate_bps = ceiling_bps;
}

static void fixed_on_feedback(void *state, const salvo_rate_sample *s)
{
	(void)state;
	(void)s;
}

static void fixed_on_loss(void *state, uint64_t lost_bytes, uint64_t now)
{
	(void)state;
	(void)lost_bytes;
	(void)now;
}

static void fixed_on_timeout(void *state, uint64_t now)
{
	(void)state;
	(void)now;
}

static uint64_t fixed_pacing_rate(const void *state)
{
	return ((const salvo_rate_fixed *)state)->rate_bps;
}

/* A new rate from the user (salvo ctl): the ceiling is the rate.  "No
 * ceiling" means nothing to a fixed rate, so it keeps the one it has. */
static void fixed_set_limits(void *state, uint64_t ceiling_bps,
			     uint64_t floor_bps, uint64_t now)
{
	(void)floor_bps;
	(void)now;
	if (ceiling_bps && ceiling_bps != SALVO_RATE_NO_CEILING_BPS)
		((salvo_rate_fixed *)state)->rate_bps = ceiling_bps;
}

const salvo_rate_ops salvo_rate_fixed_ops = {
    .name = "fixed",
    .init = fixed_init,
    .on_feedback = fixed_on_feedback,
    .on_loss = fixed_on_loss,
    .on_timeout = fixed_on_timeout,
    .pacing_rate = fixed_pacing_rate,
    .set_limits = fixed_set_limits,
};
