/*
 * After the last layer: auto-sizing, then the checks between keys and the
 * refusal of values that are accepted by name but not built yet.
 *
 * Auto-sizing fills only what the user left to salvo (a key still at its
 * default, or set to "auto"), and stamps it with an AUTO origin that says
 * how it was derived, so `config show` and `send --json` can explain the
 * numbers.  A value the user set is never changed; if it contradicts
 * another, the checks below report it at the line or flag that set it.
 * Single-key ranges were already checked by the setter; these are the rules
 * that need two keys.
 */
#include <stdio.h>
#include <string.h>

#include "common/core/error.h"
#include "common/core/limits.h"
#include "conf/keys.h"
#include "conf/plan.h"
#include "conf/units.h"

#define SOCKBUF_FALLBACK_BYTES (8ULL * 1024 * 1024)

struct finisher {
	struct salvo_config *cfg;
	struct salvo_conf_diag *diag;
	int nomem;
};

static int is_user(const struct salvo_config *cfg, enum salvo_conf_key k)
{
	return cfg->origin[k].source != SALVO_CONF_FROM_DEFAULT;
}

static void set_auto(struct finisher *f, enum salvo_conf_key k, uint64_t v,
		     const char *why)
{
	struct salvo_conf_origin o = {SALVO_CONF_FROM_AUTO, NULL, 0, 0};
	if (!(o.name = salvo_conf_intern(f->cfg, why))) {
		f->nomem = 1;
		return;
	}
	salvo_conf_key_put(&salvo_conf_keys[k], f->cfg, v);
	f->cfg->origin[k] = o;
}

static uint64_t pow2_floor(uint64_t v)
{
	uint64_t p = 1;
	while (p <= v / 2)
		p <<= 1;
	return p;
}

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/*
 * Block size and threads for `memory` bytes, leaving a user-set one alone:
 * cover = 1 treats memory as a target to reach (from the plan), cover = 0
 * as a ceiling (an explicit budget).
 */
static void size_sender(struct finisher *f, uint64_t memory, int cover,
			const char *why)
{
	struct salvo_config *cfg = f->cfg;
	int ub = is_user(cfg, SALVO_CONF_TRANSFER_BLOCK_SIZE);
	int ut = is_user(cfg, SALVO_CONF_TRANSFER_THREADS);
	uint64_t block = cfg->transfer.block_size_bytes;
	uint64_t threads = cfg->transfer.threads;
	struct salvo_plan p;

	if (!ub && !ut) {
		if (cover)
			salvo_plan_size_memory(memory, &p);
		else
			salvo_plan_fit_memory(memory, &p);
		set_auto(f, SALVO_CONF_TRANSFER_BLOCK_SIZE, p.block_size_bytes,
			 why);
		set_auto(f, SALVO_CONF_TRANSFER_THREADS, p.threads, why);
	} else if (ub && !ut) {
		threads = cover ? (memory + block - 1) / block : memory / block;
		set_auto(f, SALVO_CONF_TRANSFER_THREADS,
			 clamp(threads, 1, SALVO_THREADS_MAX), why);
	} else if (!ub && ut) {
		block = pow2_floor(memory / threads);
		if (cover && block * threads < memory)
			block *= 2;
		set_auto(f, SALVO_CONF_TRANSFER_BLOCK_SIZE,
			 clamp(block, SALVO_PLAN_BLOCK_MIN_BYTES,
			       SALVO_BLOCK_MAX_BYTES),
			 why);
	}
}

static void autosize(struct finisher *f)
{
	struct salvo_config *cfg = f->cfg;
	const struct salvo_conf_link *ln = &cfg->link;
	struct salvo_plan plan = {0};
	char why[160], a[32], b[32], c[32];
	int has_link = ln->bandwidth_bps && ln->rtt_ns;

	if (has_link) {
		struct salvo_plan_input in = {ln->bandwidth_bps,
					      ln->rtt_ns,
					      ln->loss_ppm,
					      cfg->memory.fudge_milli,
					      cfg->network.mtu_bytes,
					      cfg->network.send_sockets,
					      cfg->network.recv_sockets};
		salvo_plan_compute(&in, &plan);
		snprintf(why, sizeof(why), "plan: %s x %s, fudge %s",
			 salvo_units_format_rate(ln->bandwidth_bps, a, 32),
			 salvo_units_format_time(ln->rtt_ns, b, 32),
			 salvo_units_format_factor(plan.fudge_milli, c, 32));
	}
	if (cfg->memory.budget_bytes) {
		size_sender(f, cfg->memory.budget_bytes, 0,
			    "fits memory.budget");
	} else {
		if (has_link)
			size_sender(f, plan.recommended_bytes, 1, why);
		set_auto(f, SALVO_CONF_MEMORY_BUDGET,
			 cfg->transfer.block_size_bytes * cfg->transfer.threads,
			 "block_size x threads");
	}
	if (!cfg->network.sndbuf_bytes)
		set_auto(f, SALVO_CONF_NETWORK_SNDBUF,
			 has_link ? plan.sndbuf_bytes : SOCKBUF_FALLBACK_BYTES,
			 has_link ? why : "no link hints: 8MiB");
	if (!cfg->network.rcvbuf_bytes)
		set_auto(f, SALVO_CONF_NETWORK_RCVBUF,
			 has_link ? plan.rcvbuf_bytes : SOCKBUF_FALLBACK_BYTES,
			 has_link ? why : "no link hints: 8MiB");
}

/* The origin to blame for a conflict between keys a and b: a's, unless a
 * was left at its default and b was not. */
static const struct salvo_conf_origin *blame(const struct salvo_config *cfg,
					     enum salvo_conf_key a,
					     enum salvo_conf_key b)
{
	if (cfg->origin[a].source == SALVO_CONF_FROM_DEFAULT ||
	    cfg->origin[a].source == SALVO_CONF_FROM_AUTO)
		if (cfg->origin[b].source != SALVO_CONF_FROM_DEFAULT)
			return &cfg->origin[b];
	return &cfg->origin[a];
}

static char *fmt(const struct salvo_config *cfg, enum salvo_conf_key k,
		 char *buf)
{
	return salvo_conf_key_format(&salvo_conf_keys[k], cfg, buf, 32);
}

static void check(struct finisher *f)
{
	const struct salvo_config *cfg = f->cfg;
	const struct salvo_conf_network *net = &cfg->network;
	const struct salvo_conf_transfer *tr = &cfg->transfer;
	/* an explicit datagram must fit the MTU over IPv4 (the sender
	 * refuses it over IPv6 past mtu - 48); auto is the IPv4 size at
	 * most, which is what a block must hold */
	uint64_t max_dgram = salvo_datagram_for_mtu(net->mtu_bytes, 0);
	uint64_t dgram = net->datagram_bytes ? net->datagram_bytes : max_dgram;
	char a[32], b[32], c[32], d[32];

	if (!cfg->link.bandwidth_bps != !cfg->link.rtt_ns) {
		int has_bw = cfg->link.bandwidth_bps != 0;
		salvo_conf_diag_add(
		    f->diag,
		    &cfg->origin[has_bw ? SALVO_CONF_LINK_BANDWIDTH
					: SALVO_CONF_LINK_RTT],
		    "%s: given without %s; allowed: both link.bandwidth "
		    "and link.rtt, or neither",
		    has_bw ? "link.bandwidth" : "link.rtt",
		    has_bw ? "link.rtt" : "link.bandwidth");
	}
	if (net->datagram_bytes > max_dgram)
		salvo_conf_diag_add(
		    f->diag,
		    blame(cfg, SALVO_CONF_NETWORK_DATAGRAM,
			  SALVO_CONF_NETWORK_MTU),
		    "network.datagram: %s is larger than network.mtu %s "
		    "minus %d bytes of IPv4 and UDP headers; allowed: "
		    "%d..%llu or auto",
		    fmt(cfg, SALVO_CONF_NETWORK_DATAGRAM, a),
		    fmt(cfg, SALVO_CONF_NETWORK_MTU, b),
		    SALVO_IPV4_UDP_OVERHEAD, SALVO_DATAGRAM_MIN_BYTES,
		    (unsigned long long)max_dgram);
	if (tr->block_size_bytes < dgram)
		salvo_conf_diag_add(
		    f->diag,
		    blame(cfg, SALVO_CONF_TRANSFER_BLOCK_SIZE,
			  net->datagram_bytes ? SALVO_CONF_NETWORK_DATAGRAM
					      : SALVO_CONF_NETWORK_MTU),
		    "transfer.block_size: %s is smaller than one datagram "
		    "(%llu bytes at network.mtu %s); allowed: %lluB..%s",
		    fmt(cfg, SALVO_CONF_TRANSFER_BLOCK_SIZE, a),
		    (unsigned long long)dgram,
		    fmt(cfg, SALVO_CONF_NETWORK_MTU, b),
		    (unsigned long long)dgram,
		    salvo_units_format_size(SALVO_BLOCK_MAX_BYTES, c,
					    sizeof(c)));
	if (is_user(cfg, SALVO_CONF_MEMORY_BUDGET) &&
	    cfg->memory.budget_bytes &&
	    tr->block_size_bytes * tr->threads > cfg->memory.budget_bytes) {
		uint64_t fit = cfg->memory.budget_bytes / tr->block_size_bytes;
		salvo_conf_diag_add(
		    f->diag,
		    blame(cfg, SALVO_CONF_TRANSFER_THREADS,
			  SALVO_CONF_TRANSFER_BLOCK_SIZE),
		    "transfer.threads: %u threads x %s blocks = %s is "
		    "more than memory.budget %s; allowed: at most %llu "
		    "threads of %s, or a larger memory.budget",
		    tr->threads, fmt(cfg, SALVO_CONF_TRANSFER_BLOCK_SIZE, a),
		    salvo_units_format_size(tr->block_size_bytes * tr->threads,
					    b, sizeof(b)),
		    fmt(cfg, SALVO_CONF_MEMORY_BUDGET, c),
		    (unsigned long long)fit, a);
	}
	if (tr->rate_bps && tr->min_rate_bps > tr->rate_bps)
		salvo_conf_diag_add(
		    f->diag,
		    blame(cfg, SALVO_CONF_TRANSFER_MIN_RATE,
			  SALVO_CONF_TRANSFER_RATE),
		    "transfer.min_rate: %s is above transfer.rate %s; "
		    "allowed: none..%s",
		    fmt(cfg, SALVO_CONF_TRANSFER_MIN_RATE, a),
		    fmt(cfg, SALVO_CONF_TRANSFER_RATE, b),
		    fmt(cfg, SALVO_CONF_TRANSFER_RATE, d));
	if (tr->rate_policy == SALVO_RATE_FIXED && !tr->rate_bps)
		salvo_conf_diag_add(
		    f->diag, &cfg->origin[SALVO_CONF_TRANSFER_RATE_POLICY],
		    "transfer.rate_policy: 'fixed' needs transfer.rate "
		    "(--rate), the rate to pace at; allowed: fixed with a "
		    "rate (e.g. 500mbit), or fair, high, low without one");
}

int salvo_conf_finish(struct salvo_config *cfg, struct salvo_conf_diag *diag)
{
	struct finisher f = {cfg, diag, 0};
	unsigned before = diag->count;

	autosize(&f);
	check(&f);
	if (salvo_conf_security_finish(cfg))
		f.nomem = 1;
	if (f.nomem)
		return SALVO_ERR_NOMEM;
	return diag->count != before ? SALVO_ERR_INVAL : 0;
}
