/*
 * Report text and numbers (see report.h).  A local failure (a file that
 * cannot be read) wins over what the core says, since the core only saw
 * an abort; the core's failures get a sentence a person can act on.
 *
 * The per-entry results take the scan's strings over instead of copying
 * them: a million-entry list costs one array more, not a million
 * allocations.  The protocol confirms a session's files as a whole (a
 * count, not which ones), so a failed session's entries are
 * "unconfirmed", never guessed to be sent.
 */
#include "sender/engine/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "common/core/error.h"
#include "common/core/path.h"
#include "common/crypto/keys.h"
#include "common/io/sys.h"

/* c->verdict of a file this sender abandoned (its receiver's verdict is
 * failed): the report keeps the core's answer after the core is gone */
#define VERDICT_ABANDONED (SALVO_VERDICT_MAX + 1)

void salvo_send_report_settings(salvo_send_report *r, const salvo_send_opts *o)
{
	r->block_bytes = o->block_bytes;
	r->datagram_bytes = o->datagram_bytes;
	r->threads = o->threads;
	r->sockets = o->sockets;
	r->batch = o->batch;
	r->rate_bps = o->rate_bps;
	r->window_bytes = o->window_bytes;
	r->rate_policy = o->rate_policy;
}

/* The folder to suggest for this sender's line in the receiver's
 * authorised keys: the remote folder asked for, else this host's name. */
static void suggest_dir(const salvo_send_session *c, char *out, size_t cap)
{
	const char *rd = c->o->remote_dir;
	char host[256];
	if (rd && *rd && !salvo_path_check(rd, strlen(rd), NULL)) {
		snprintf(out, cap, "%s", rd);
		return;
	}
	if (!gethostname(host, sizeof(host)) &&
	    (host[sizeof(host) - 1] = 0, host[0]) && !strchr(host, ' ') &&
	    !salvo_path_check(host, strlen(host), NULL))
		snprintf(out, cap, "%s", host);
	else
		snprintf(out, cap, "incoming");
}

/* The receiver refused this sender's key (a refusal it signed): say why
 * and what its owner can do. */
static void key_refused(const salvo_send_session *c, salvo_send_report *r,
			const char *where)
{
	char line[200], fp[SALVO_FINGERPRINT_SIZE], dir[300];
	if (!c->o->has_key) {
		snprintf(r->message, sizeof(r->message),
			 "receiver %s accepts only senders it knows, and this "
			 "one has no key: make one with 'salvo keygen', then "
			 "have its public key line added to the receiver's "
			 "authorised keys",
			 where);
		return;
	}
	salvo_key_fingerprint(fp, c->key_public);
	if (salvo_key_public_text(line, sizeof(line), c->key_public, NULL) < 0)
		line[0] = 0;
	suggest_dir(c, dir, sizeof(dir));
	snprintf(r->message, sizeof(r->message),
		 "receiver %s does not know this sender's key %s; add this "
		 "line to its authorised keys: %s dir=%s",
		 where, fp, line, dir);
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
		if (peer_code == SALVO_ERR_KEY) {
			key_refused(c, r, where);
			break;
		}
		snprintf(r->message, sizeof(r->message), "receiver %s: %s",
			 where, peer_msg);
		break;
	case SALVO_ERR_KEY: /* pin() refused the receiver's key */
		snprintf(r->message, sizeof(r->message), "receiver %s: %s",
			 where, peer_msg);
		break;
	case SALVO_ERR_REKEY:
		snprintf(r->message, sizeof(r->message),
			 "%s (a lane used up its 2^62 packet numbers: no "
			 "session of any real length reaches this)",
			 salvo_strerror(res));
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
	r->reconnects = st.reconnects;
	r->srtt_ns = st.srtt_ns;
	r->final_rate_bps = st.rate_bps;
	/* threads joined: no lock needed for the two times */
	r->tail_ns = c->last_new_ns && c->end_ns > c->last_new_ns
			 ? c->end_ns - c->last_new_ns
			 : 0;
	r->gso_segments = atomic_load(&c->net.gso_segs);
	r->bytes = r->result ? st.bytes_acked : st.total_bytes - st.bytes_held;
	r->held_bytes = st.bytes_held;
	size_t n = c->scan.n ? c->scan.n : 1;
	c->verdict = malloc(n);
	c->verdict_err = malloc(n * sizeof(*c->verdict_err));
	for (uint32_t i = 0; c->verdict && c->verdict_err && i < c->scan.n;
	     i++) {
		int err = 0;
		c->verdict[i] = (int8_t)salvo_sender_verdict(c->core, i, &err);
		if (c->verdict[i] == SALVO_VERDICT_FAILED &&
		    salvo_sender_is_abandoned(c->core, i))
			c->verdict[i] = VERDICT_ABANDONED;
		c->verdict_err[i] = err;
	}
	for (uint32_t i = 0; i < c->scan.n; i++) {
		if (c->scan.entries[i].type != SALVO_ENTRY_FILE)
			continue;
		switch (salvo_sender_verdict(c->core, i, NULL)) {
		case SALVO_VERDICT_IDENTICAL:
			r->files_identical++;
			break;
		case SALVO_VERDICT_EXISTS:
			r->files_exists++;
			break;
		case SALVO_VERDICT_NOT_NEWER:
			r->files_not_newer++;
			break;
		case SALVO_VERDICT_REFUSED:
			r->files_refused++;
			break;
		case SALVO_VERDICT_FAILED:
			if (salvo_sender_is_abandoned(c->core, i))
				r->files_abandoned++;
			else
				r->files_failed++;
			break;
		default:
			r->files_sent += !r->result;
		}
	}
	r->compress = c->o->compress;
	r->compress_agreed = (salvo_sender_caps(c->core) & SALVO_CAP_LZ4) != 0;
	r->data_stream_bytes = atomic_load(&c->net.data_stream);
	r->data_wire_bytes = atomic_load(&c->net.data_wire);
	r->lz4_datagrams = atomic_load(&c->net.lz4_datagrams);
	r->peak_rss_bytes = salvo_peak_rss();
	return r->result;
}

const char *salvo_send_skip_name(int reason)
{
	static const char *const names[SALVO_SKIP_REASONS] = {
	    "symlink", "special", "unreadable", "bad_name"};
	return reason >= 0 && reason < SALVO_SKIP_REASONS ? names[reason]
							  : NULL;
}

void salvo_send_report_skips(salvo_send_session *c, salvo_send_report *r)
{
	const salvo_scan *sc = &c->scan;
	r->skipped = (uint32_t)sc->nskips;
	memcpy(r->skipped_by, sc->skipped_by, sizeof(r->skipped_by));
	if (!c->o->log)
		return;
	static const char *const words[SALVO_SKIP_REASONS] = {
	    "symlink", "special file", "unreadable", "bad name"};
	for (size_t i = 0; i < sc->nskips; i++) {
		const salvo_scan_skip *k = &sc->skips[i];
		char msg[1200];
		snprintf(msg, sizeof(msg), "skipped '%s': %s (%s)", k->local,
			 words[k->reason], k->detail);
		salvo_log_event ev = {.level = SALVO_LOG_WARN,
				      .event = "skipped",
				      .file = k->local,
				      .message = msg};
		c->o->log(c->o->log_ud, &ev);
	}
}

static void free_verdicts(salvo_send_session *c)
{
	free(c->verdict);
	free(c->verdict_err);
	c->verdict = NULL;
	c->verdict_err = NULL;
}

int salvo_send_report_results(salvo_send_session *c, salvo_send_report *r)
{
	salvo_scan *sc = &c->scan;
	int want = c->o->results;
	size_t n = want == SALVO_SEND_RESULTS_ALL ? sc->n : 0;
	if (want != SALVO_SEND_RESULTS_ALL &&
	    want != SALVO_SEND_RESULTS_SKIPPED) {
		free_verdicts(c);
		return 0;
	}
	salvo_send_result *v = calloc(n + sc->nskips + 1, sizeof(*v));
	if (!v) {
		free_verdicts(c);
		return -ENOMEM;
	}
	/* the strings change hands: the scan is freed next (it keeps no
	 * local path per entry: those are made here) */
	for (size_t i = 0; i < n; i++) {
		char *local = salvo_scan_local_dup(sc, i);
		if (!local) {
			r->results = v; /* what is made so far, for _free */
			r->nresults = i;
			free_verdicts(c);
			return -ENOMEM;
		}
		int ok = c->verdict && c->verdict_err;
		int err = ok ? c->verdict_err[i] : 0;
		int vd = ok ? c->verdict[i] : -1;
		int abandoned = vd == VERDICT_ABANDONED;
		if (abandoned) /* the receiver's verdict: failed */
			vd = SALVO_VERDICT_FAILED;
		int outcome =
		    r->result ? SALVO_SEND_UNCONFIRMED : SALVO_SEND_SENT;
		if (vd == SALVO_VERDICT_REFUSED || vd == SALVO_VERDICT_FAILED)
			outcome = SALVO_SEND_REFUSED;
		else if (vd > SALVO_VERDICT_SEND && vd < SALVO_VERDICT_REFUSED)
			outcome = SALVO_SEND_NOT_NEEDED;
		v[i] = (salvo_send_result){
		    .local = local,
		    .remote = (char *)sc->entries[i].path,
		    .outcome = outcome,
		    .is_dir = sc->entries[i].type == SALVO_ENTRY_DIR,
		    .verdict = vd,
		    .abandoned = abandoned,
		    .err = outcome == SALVO_SEND_REFUSED ? -err : r->result};
		sc->entries[i].path = NULL;
	}
	for (size_t i = 0; i < sc->nskips; i++) {
		salvo_scan_skip *k = &sc->skips[i];
		v[n + i] = (salvo_send_result){.local = k->local,
					       .outcome = SALVO_SEND_SKIPPED,
					       .verdict = -1,
					       .skip = k->reason,
					       .err = k->err,
					       .detail = k->detail};
		k->local = k->detail = NULL;
	}
	r->results = v;
	r->nresults = n + sc->nskips;
	free_verdicts(c);
	return 0;
}

void salvo_send_report_free(salvo_send_report *r)
{
	for (size_t i = 0; i < r->nresults; i++) {
		free(r->results[i].local);
		free(r->results[i].remote);
		free(r->results[i].detail);
	}
	free(r->results);
	r->results = NULL;
	r->nresults = 0;
}
