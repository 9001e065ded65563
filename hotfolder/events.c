/*
 * A profile's log events: one salvo_log_event per state change, with the
 * profile's name at the head of the message and the receiver as the peer,
 * handed to the daemon's log callback (the CLI's log sink).  An error is
 * also kept as the profile's last_error for the status file.  Called from
 * the loop thread; the callback must be thread-safe, as the sessions'
 * engines call it too.
 */
#include "hotfolder/profile.h"

#include <stdarg.h>
#include <stdio.h>

#include "conf/units.h"

static void vevent(struct hf_profile *p, enum salvo_log_level level,
		   const char *event, const char *file, uint64_t bytes,
		   uint64_t elapsed_ns, const char *fmt, va_list ap)
{
	const struct salvo_hf_opts *o = p->d->o;
	char msg[1400];
	int n;
	salvo_log_event ev = {level, event,	 0, p->peer, file,
			      bytes, elapsed_ns, 0, msg};

	if (!o->log)
		return;
	n = snprintf(msg, sizeof(msg), "%s: ", p->hf->name);
	if (n > 0 && (size_t)n < sizeof(msg))
		vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	if (bytes && elapsed_ns)
		ev.rate_bps =
		    (uint64_t)((double)bytes * 8e9 / (double)elapsed_ns);
	o->log(o->log_ud, &ev);
}

void hf_log(struct hf_profile *p, const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vevent(p, SALVO_LOG_INFO, event, NULL, 0, 0, fmt, ap);
	va_end(ap);
}

void hf_file_event(struct hf_profile *p, const char *event, const char *file,
		   uint64_t bytes, uint64_t elapsed_ns, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vevent(p, SALVO_LOG_INFO, event, file, bytes, elapsed_ns, fmt, ap);
	va_end(ap);
}

/* vevent with its arguments */
static void hf_file_log(struct hf_profile *p, enum salvo_log_level level,
			const char *event, const char *file, const char *fmt,
			...) __attribute__((format(printf, 5, 6)));
static void hf_file_log(struct hf_profile *p, enum salvo_log_level level,
			const char *event, const char *file, const char *fmt,
			...)
{
	va_list ap;

	va_start(ap, fmt);
	vevent(p, level, event, file, 0, 0, fmt, ap);
	va_end(ap);
}

void hf_error(struct hf_profile *p, const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->last_error, sizeof(p->last_error), fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	vevent(p, SALVO_LOG_ERROR, event, NULL, 0, 0, fmt, ap);
	va_end(ap);
	hf_status_touch(p->d);
}

void hf_refused(struct hf_profile *p, const char *file, const char *why)
{
	snprintf(p->last_error, sizeof(p->last_error), "%s refused: %s", file,
		 why);
	hf_file_log(p, SALVO_LOG_WARN, "file_refused", file,
		    "%s refused: %s; it stays and is not retried until it "
		    "changes",
		    file, why);
	hf_status_touch(p->d);
}

void hf_session_event(struct hf_profile *p, const salvo_send_opts *o,
		      const salvo_send_report *r)
{
	const struct salvo_hf_opts *ho = p->d->o;
	char msg[600], blk[32], rate[32], floor[32], fin[32], win[32];
	salvo_log_event ev = {
	    SALVO_LOG_DEBUG, "session_engine", 0, p->peer, NULL,
	    r->bytes,	     r->elapsed_ns,    0, msg};

	if (!ho->log)
		return;
	snprintf(
	    msg, sizeof(msg),
	    "%s: engine used block %s x %u threads, %u sockets, batch "
	    "%u, datagram %u (mtu %u), rate %s %s (floor %s, final %s), "
	    "window %s, timeout %.1f s",
	    p->hf->name,
	    salvo_units_format_size(r->block_bytes, blk, sizeof(blk)),
	    r->threads, r->sockets, r->batch, r->datagram_bytes, o->mtu_bytes,
	    salvo_units_format_rate(r->rate_bps, rate, sizeof(rate)),
	    salvo_rate_policy_name(r->rate_policy),
	    o->min_rate_bps
		? salvo_units_format_rate(o->min_rate_bps, floor, sizeof(floor))
		: "none",
	    salvo_units_format_rate(r->final_rate_bps, fin, sizeof(fin)),
	    r->window_bytes
		? salvo_units_format_size(r->window_bytes, win, sizeof(win))
		: "auto",
	    (double)o->timeout_ns / 1e9);
	ho->log(ho->log_ud, &ev);
}
