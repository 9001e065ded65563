/*
 * Config -> engine options, once for each engine (see engine_opts.h).  The
 * values were range-checked when they were set and against each other by
 * salvo_conf_finish, so this file only copies and converts; it never
 * checks a value again nor holds a default of its own.  The in-flight
 * window is the one derived value: bandwidth x RTT / 8 x fudge from the
 * link hints, or 0 (the engine sizes it) without them.  Identities need
 * files and live in conf/identity.c.
 */
#include <stdio.h>
#include <string.h>

#include "common/core/error.h"
#include "common/io/logsink.h"
#include "conf/engine_opts.h"
#include "conf/plan.h"

static uint64_t window_from_hints(const struct salvo_config *cfg)
{
	uint64_t fudge = cfg->memory.fudge_milli;

	if (!cfg->link.bandwidth_bps || !cfg->link.rtt_ns)
		return 0;
	if (!fudge)
		fudge = salvo_plan_fudge_milli(cfg->link.loss_ppm);
	return salvo_plan_recommended_bytes(cfg->link.bandwidth_bps,
					    cfg->link.rtt_ns, fudge);
}

int salvo_conf_send_opts(const struct salvo_config *cfg, salvo_send_opts *o,
			 char *err, size_t errlen)
{
	const struct salvo_conf_network *net = &cfg->network;
	const struct salvo_conf_transfer *tr = &cfg->transfer;

	(void)err;
	(void)errlen;
	memset(o, 0, sizeof(*o));
	o->port = (uint16_t)net->port;
	o->mtu_bytes = net->mtu_bytes;
	o->datagram_bytes = net->datagram_bytes; /* 0: from mtu and family */
	o->sockets = net->send_sockets;
	o->sndbuf_bytes = net->sndbuf_bytes;
	o->batch = net->batch;
	o->offload = net->offload == SALVO_OFFLOAD_AUTO;
	o->block_bytes = (uint32_t)tr->block_size_bytes;
	o->threads = tr->threads;
	o->rate_bps = tr->rate_bps;
	o->min_rate_bps = tr->min_rate_bps;
	o->rate_policy = tr->rate_policy;
	o->link_bps = cfg->link.bandwidth_bps;
	o->timeout_ns = tr->timeout_ns;
	o->overwrite = (int)tr->overwrite;
	o->checksum = tr->checksum;
	o->compress = tr->compression;
	o->window_bytes = window_from_hints(cfg);
	o->events_path = cfg->logging.events;
	o->follow_links = tr->links == SALVO_LINKS_FOLLOW;
	o->include = (const char *const *)tr->include.v;
	o->n_include = tr->include.n;
	o->exclude = (const char *const *)tr->exclude.v;
	o->n_exclude = tr->exclude.n;
	return 0;
}

int salvo_conf_profile_send_opts(const struct salvo_config *cfg,
				 const struct salvo_hotfolder *hf,
				 salvo_send_opts *o, char *err, size_t errlen)
{
	int rc = salvo_conf_send_opts(cfg, o, err, errlen);

	if (rc)
		return rc;
	if (!hf->host || !*hf->host) {
		snprintf(err, errlen,
			 "%s: host: no receiver; allowed: host, "
			 "host:port or [ipv6]:port",
			 hf->name);
		return SALVO_ERR_INVAL;
	}
	/* a profile sends the files its watcher picked, one by one, by its
	 * own include/exclude: send's tree rules are not its */
	o->follow_links = 0;
	o->include = o->exclude = NULL;
	o->n_include = o->n_exclude = 0;
	if (hf->overwrite)
		o->overwrite = hf->overwrite - 1;
	o->host = hf->host;
	if (hf->port)
		o->port = (uint16_t)hf->port;
	o->remote_dir =
	    hf->remote_dir && *hf->remote_dir ? hf->remote_dir : NULL;
	if (hf->compression)
		o->compress = hf->compression - 1;
	if (hf->checksum)
		o->checksum = hf->checksum - 1;
	return salvo_conf_profile_identity(cfg, hf, o, err, errlen);
}

int salvo_conf_recv_opts(const struct salvo_config *cfg, salvo_recv_opts *o,
			 char *err, size_t errlen)
{
	const struct salvo_conf_network *net = &cfg->network;
	const struct salvo_conf_receiver *rx = &cfg->receiver;

	(void)err;
	(void)errlen;
	memset(o, 0, sizeof(*o));
	o->dir = rx->root_dir;
	o->bind = net->bind_addr;
	o->port = (uint16_t)net->port;
	o->sockets = net->recv_sockets;
	o->batch = net->batch;
	o->offload = net->offload == SALVO_OFFLOAD_AUTO;
	o->rcvbuf_bytes = net->rcvbuf_bytes;
	o->max_sessions = rx->max_sessions;
	o->idle_timeout_ns = rx->idle_timeout_ns;
	o->partial_max_age_ns = rx->partial_max_age_ns;
	o->max_file_bytes = rx->max_file_size_bytes;
	o->memory_budget_bytes = rx->memory_budget_bytes;
	o->overwrite = (int)rx->overwrite;
	o->verify_paranoid = rx->verify == SALVO_VERIFY_PARANOID;
	o->allow_anonymous = cfg->security.allow_anonymous;
	o->refuse_lz4 = cfg->transfer.compression == SALVO_COMPRESS_OFF;
	return 0;
}

struct salvo_logsink *salvo_conf_logsink_new(const struct salvo_config *cfg,
					     char *err, size_t errlen)
{
	char why[600];
	struct salvo_logsink *s = salvo_logsink_new(
	    cfg->logging.file, cfg->logging.level,
	    cfg->logging.format == SALVO_LOG_JSON, why, sizeof(why));

	if (!s)
		snprintf(err, errlen, "logging.file: %s", why);
	return s;
}
