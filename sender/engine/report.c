/*
 * Report text and numbers (see report.h).  A local failure (a file that
 * cannot be read) wins over what the core says, since the core only saw
 * an abort; the core's failures get a sentence a person can act on.
 */
#include "sender/engine/report.h"

#include <stdio.h>
#include <string.h>

#include "common/core/error.h"
#include "common/io/sys.h"

void salvo_send_report_settings(salvo_send_report *r, const salvo_send_opts *o)
{
	r->block_bytes = o->block_bytes;
	r->datagram_bytes = o->datagram_bytes;
	r->threads = o->threads;
	r->sockets = o->sockets;
	r->batch = o->batch;
	r->rate_bps = o->rate_bps;
	r->window_bytes = o->window_bytes;
	r->adaptive = o->adaptive;
}

static void message(salvo_send_session *c, salvo_send_report *r,
		    const char *where, int refused)
{
	int peer_code = 0, peer_errno = 0;
	const char *peer_msg = "";
	int res =
	    salvo_sender_result(c->core, &peer_code, &peer_errno, &peer_msg);
	double secs = (double)c->o->timeout_ns / 1e9;
	if (c->local_err) {
		r->result = c->local_err;
		snprintf(r->message, sizeof(r->message), "%s", c->local_msg);
		return;
	}
	r->result = res;
	r->peer_code = peer_code;
	r->peer_errno = peer_errno;
	switch (res) {
	case 0:
		r->message[0] = 0;
		break;
	case SALVO_ERR_UNREACHABLE:
		if (refused) {
			snprintf(r->message, sizeof(r->message),
				 "connection refused by %s: is 'salvo recv' "
				 "running there?",
				 where);
			break;
		}
		snprintf(r->message, sizeof(r->message),
			 "no answer from %s within %g s (is 'salvo recv' "
			 "running there, and UDP port %u open?)",
			 where, secs, c->o->port);
		break;
	case SALVO_ERR_TIMEOUT:
		snprintf(r->message, sizeof(r->message),
			 "receiver %s went silent for %g s mid-transfer", where,
			 secs);
		break;
	case SALVO_ERR_PEER:
		snprintf(r->message, sizeof(r->message), "receiver %s: %s",
			 where, peer_msg);
		break;
	case SALVO_ERR_ABORTED:
		snprintf(r->message, sizeof(r->message), "%s",
			 c->o->stop && *c->o->stop ? "interrupted"
						   : "receiver aborted the "
						     "transfer");
		break;
	default:
		snprintf(r->message, sizeof(r->message), "%s",
			 salvo_strerror(res));
	}
}

int salvo_send_report_finish(salvo_send_session *c, salvo_send_report *r,
			     const char *where, uint64_t start)
{
	salvo_sender_stats st;
	salvo_sender_get_stats(c->core, &st);
	message(c, r, where, st.refused);
	r->elapsed_ns = salvo_now_ns() - start;
	r->datagrams = atomic_load(&c->net.datagrams);
	r->wire_bytes = atomic_load(&c->net.wire_bytes);
	r->retx_bytes = st.bytes_retx;
	r->srtt_ns = st.srtt_ns;
	r->final_rate_bps = st.rate_bps;
	r->gso_segments = atomic_load(&c->net.gso_segs);
	r->bytes = r->result ? st.bytes_acked : st.total_bytes;
	r->peak_rss_bytes = salvo_peak_rss();
	return r->result;
}
