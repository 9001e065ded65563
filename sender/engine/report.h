/*
 * The sender's report (send.h's salvo_send_report): the settings the
 * engine used, the numbers of the session, and the result in words.
 */
#ifndef SALVO_SEND_REPORT_H
#define SALVO_SEND_REPORT_H

#include "sender/engine/session.h"

/* Records the settings of o as used (before auto-sizing). */
void salvo_send_report_settings(salvo_send_report *r, const salvo_send_opts *o);

/* After the scan: the skip counts, and a log event (SALVO_LOG_WARN,
 * "skipped") for each skipped entry. */
void salvo_send_report_skips(salvo_send_session *c, salvo_send_report *r);

/* At the end, whatever the result (r->result set): the per-entry list
 * c->o->results asks for, its strings taken over from c->scan.  Returns
 * 0 or -ENOMEM (then no list). */
int salvo_send_report_results(salvo_send_session *c, salvo_send_report *r);

/* After the threads are joined: result, message and numbers of the
 * session c that started at start (monotonic ns); where names the
 * receiver's address.  Returns r->result. */
int salvo_send_report_finish(salvo_send_session *c, salvo_send_report *r,
			     const char *where, uint64_t start);

#endif
