/*
 * Receiver core: the session table, opening sealed packets and
 * dispatching them, STATUS and FEEDBACK, timers and the end of sessions.
 * The handshake lives in rshake.c, data, manifest and file handling in
 * rdata.c, what a session sends in rsess.c (rsess.h shows the layers).
 *
 * A sealed packet is opened in place with its session's lane key before
 * anything reads its body: the tag covers the header too, the lane's
 * replay window moves only once the tag verified, and a packet that fails
 * is counted and dropped.  The engine may open outside its core lock
 * (salvo_receiver_lane_key, salvo_receiver_on_opened): then the commit
 * under the lock checks the key it used is still the lane's, and only
 * then counts the tag's verdict and moves the window.  So a host that can send
 * from the sender's address, or anywhere, cannot end, stall or feed a session:
 * spoofed CLOSE, ERROR, DATA and FILE_DONE all stop at the tag.  Replies go to
 * the address of the sender's newest control-lane packet (it may move, as
 * WireGuard's roaming), never to one a forged packet names.
 *
 * Ended sessions linger a little as tombstones that repeat COMPLETE or
 * the ERROR to a sender that missed it, so the sender learns the real
 * outcome rather than waiting for its timeout.
 */
#include "receiver/core/receiver.h"

#include <string.h>

#include "common/core/error.h"
#include "common/core/limits.h"
#include "receiver/core/rdata.h"
#include "receiver/core/rshake.h"
#include "receiver/core/rsess.h"

#define MS RS_MS

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

int salvo_receiver_new(salvo_receiver **out, const salvo_mem *mem,
		       const salvo_receiver_config *cfg,
		       const salvo_receiver_cb *cb)
{
	*out = NULL;
	if (!cfg->max_sessions || !cfg->idle_timeout_ns || !cb->random ||
	    !cb->authorize || !(cfg->suites & SALVO_SUITES_KNOWN))
		return SALVO_ERR_INVAL;
	salvo_receiver *r = salvo_mem_alloc(mem, sizeof(*r));
	if (!r)
		return SALVO_ERR_NOMEM;
	memset(r, 0, sizeof(*r));
	r->sess = salvo_mem_array(mem, cfg->max_sessions, sizeof(*r->sess));
	if (!r->sess) {
		salvo_mem_free(mem, r);
		return SALVO_ERR_NOMEM;
	}
	memset(r->sess, 0, cfg->max_sessions * sizeof(*r->sess));
	r->mem = mem;
	r->cfg = *cfg;
	r->cb = *cb;
	r->rng = cfg->seed ^ 0x9e3779b97f4a7c15ull;
	if (rshake_init(r)) {
		salvo_mem_free(mem, r->sess);
		salvo_mem_free(mem, r);
		return SALVO_ERR_NOMEM;
	}
	*out = r;
	return 0;
}

void rcv_free_session(salvo_receiver *r, uint32_t slot)
{
	salvo_rsess *s = r->sess[slot];
	if (s->half_open)
		r->half_open--;
	rdata_free(s);
	rsess_free_keys(s);
	salvo_mem_free(r->mem, s);
	r->sess[slot] = NULL;
	r->st.sessions--;
}

void salvo_receiver_del(salvo_receiver *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; i < r->cfg.max_sessions; i++) {
		salvo_rsess *s = r->sess[i];
		if (!s)
			continue;
		if (!s->half_open &&
		    (s->state == RS_MANIFEST || s->state == RS_DATA))
			r->cb.session_end(r->cb.ud, s, SALVO_ERR_ABORTED,
					  "receiver shutting down");
		rcv_free_session(r, i);
	}
	rshake_free(r);
	salvo_mem_free(r->mem, r->sess);
	salvo_mem_free(r->mem, r);
}

int rcv_find_slot(const salvo_receiver *r, uint32_t id)
{
	for (uint32_t i = 0; i < r->cfg.max_sessions; i++)
		if (r->sess[i] && r->sess[i]->id == id)
			return (int)i;
	return -1;
}

/* ------------------------------------------------------------ packets */

/* arrival: when the STATUS reached the host (<= now); the FEEDBACK's
 * echo_hold_us counts from there, so a socket thread that read it late
 * does not pass its wait to the sender as path delay. */
static void on_status(salvo_rsess *s, const salvo_pkt_status *st,
		      uint64_t arrival, uint64_t now)
{
	if (st->srtt_us)
		s->srtt_ns = (uint64_t)st->srtt_us * 1000;
	if (st->ts > s->status_ts) {
		s->status_ts = st->ts;
		s->status_at = arrival;
	}
	if (s->state == RS_FAILED) {
		rsess_send_error(s);
		return;
	}
	salvo_rxstream *x = NULL;
	if (s->state == RS_MANIFEST && st->phase == SALVO_PHASE_MANIFEST)
		x = &s->mrx;
	else if (s->state == RS_DATA && st->phase == SALVO_PHASE_DATA)
		x = &s->drx;
	if (x && salvo_rxstream_sent(x, st->sent_through, now)) {
		rsess_fail(s, SALVO_ERR_NOMEM, 0, SALVO_FILE_INDEX_NONE,
			   "receiver out of memory", now);
		return;
	}
	if (s->state == RS_DATA || s->state == RS_COMPLETE)
		rverdict_on_status(s, st, now);
	if (s->state == RS_DATA && s->late_n)
		rdata_maybe_complete(s, now); /* the sender holds them now? */
	rsess_feedback(s, now);
	if (x && x->missing.n)
		rsess_schedule_feedback(s, now + rsess_followup(s));
}

/* The session and lane of a sealed packet, or NULL (counted) when it is
 * for none of ours. */
static rs_lane *lane_of(salvo_receiver *r, const salvo_pkt_hdr *h,
			salvo_rsess **out)
{
	int slot = rcv_find_slot(r, h->session);
	if (slot < 0 || h->lane >= r->sess[slot]->nlanes) {
		r->st.unknown++;
		return NULL;
	}
	*out = r->sess[slot];
	return &(*out)->lanes[h->lane];
}

/* After the open: err is its outcome (salvo_aead_open's or
 * salvo_aead_commit's).  Decodes the opened packet: the session, or NULL
 * (counted) when the tag failed, the packet replays one seen, or is not
 * a sender's. */
static salvo_rsess *opened(salvo_receiver *r, salvo_rsess *s,
			   const salvo_addr *addr, uint8_t *buf, size_t len,
			   const salvo_pkt_hdr *h, salvo_pkt *p, int err,
			   uint64_t now)
{
	if (err == SALVO_ERR_REPLAY) {
		r->st.duplicates++;
		return NULL;
	}
	if (err == SALVO_ERR_REKEY) { /* 2^36 forgeries: give up the key */
		rsess_fail(s, SALVO_ERR_REKEY, 0, SALVO_FILE_INDEX_NONE,
			   "too many forged packets for this session", now);
		return NULL;
	}
	if (err == SALVO_ERR_STATE) { /* opened with a key no longer ours */
		r->st.unknown++;
		return NULL;
	}
	if (err) {
		r->st.auth_failures++;
		return NULL;
	}
	if (salvo_wire_decode(buf, len, p) ||
	    p->hdr.type == SALVO_PKT_FEEDBACK) {
		r->st.malformed++; /* authentic, so a broken sender */
		return NULL;
	}
	if (s->half_open) {
		s->half_open = 0;
		r->half_open--;
	}
	if (h->lane == 0 && h->pn >= s->peer_pn) {
		s->peer = *addr;
		s->peer_pn = h->pn + 1;
	}
	return s;
}

/* Opens a sealed packet in place with its session's lane key and
 * decodes it: the session, or NULL (counted). */
static salvo_rsess *open_sealed(salvo_receiver *r, const salvo_addr *addr,
				uint8_t *buf, size_t len,
				const salvo_pkt_hdr *h, salvo_pkt *p,
				uint64_t now)
{
	salvo_rsess *s;
	rs_lane *l = lane_of(r, h, &s);
	if (!l)
		return NULL;
	size_t plain;
	int err = salvo_aead_open(&l->a, &l->window, h->pn, buf,
				  SALVO_HDR_BYTES, buf + SALVO_HDR_BYTES,
				  len - SALVO_HDR_BYTES, &plain);
	return opened(r, s, addr, buf, len, h, p, err, now);
}

/* A DATA datagram that reached the host at arrival was read at now: the
 * longest such wait of this period and the last (rsess_reorder_window
 * waits that long for a hole to fill). */
static void note_wait(salvo_receiver *r, uint64_t arrival, uint64_t now)
{
	if (now - r->wait_at >= RS_WAIT_PERIOD_NS) {
		r->wait_prev_ns =
		    now - r->wait_at >= 2 * RS_WAIT_PERIOD_NS ? 0 : r->wait_ns;
		r->wait_ns = 0;
		r->wait_at = now;
	}
	if (now - arrival > r->wait_ns)
		r->wait_ns = now - arrival;
}

/* An opened packet of session s to its handler. */
static void dispatch(salvo_receiver *r, salvo_rsess *s, const salvo_pkt *p,
		     size_t len, uint64_t arrival, uint64_t now)
{
	s->last_rx = now;
	if (s->state == RS_COMPLETE || s->state == RS_FAILED)
		s->linger_until = now + RS_LINGER_NS;
	switch (p->hdr.type) {
	case SALVO_PKT_DATA:
		note_wait(r, arrival, now);
		s->wait_sum += now - arrival;
		s->wait_n++;
		rtrain_note(&s->train, arrival,
			    (uint32_t)len +
				salvo_ip_udp_overhead(s->peer.host_len == 16));
		if (s->state == RS_DATA)
			rdata_on_data(s, p, now);
		else if (s->state == RS_COMPLETE)
			r->st.duplicates++;
		else
			r->st.unknown++;
		return;
	case SALVO_PKT_MANIFEST:
		if (s->state == RS_MANIFEST)
			rdata_on_manifest(s, &p->u.manifest, now);
		else
			r->st.duplicates++;
		return;
	case SALVO_PKT_STATUS:
		on_status(s, &p->u.status, arrival, now);
		return;
	case SALVO_PKT_FILE_DONE:
		if (s->state == RS_DATA)
			rdata_on_file_done(s, &p->u.file_done,
					   p->hdr.flags & SALVO_FD_F_ABANDONED,
					   now);
		return;
	case SALVO_PKT_CLOSE: {
		uint32_t slot = (uint32_t)rcv_find_slot(r, s->id);
		if (s->state != RS_COMPLETE && s->state != RS_FAILED)
			rsess_fail(s, SALVO_ERR_ABORTED, 0,
				   SALVO_FILE_INDEX_NONE,
				   "sender aborted the transfer", now);
		rcv_free_session(r, slot);
		return;
	}
	case SALVO_PKT_ERROR:
		rsess_fail(s, SALVO_ERR_ABORTED, 0, SALVO_FILE_INDEX_NONE,
			   "sender reported an error", now);
		return;
	default:
		r->st.unknown++;
		return;
	}
}

void salvo_receiver_on_packet(salvo_receiver *r, const salvo_addr *addr,
			      void *buf, size_t len, uint64_t now)
{
	salvo_receiver_on_packet_at(r, addr, buf, len, now, now);
}

void salvo_receiver_on_packet_at(salvo_receiver *r, const salvo_addr *addr,
				 void *buf, size_t len, uint64_t arrival,
				 uint64_t now)
{
	salvo_pkt_hdr h;
	salvo_pkt p;
	if (salvo_wire_decode_header(buf, len, &h)) {
		r->st.malformed++;
		return;
	}
	if (!salvo_wire_is_sealed(h.type)) {
		if (salvo_wire_decode(buf, len, &p)) {
			r->st.malformed++;
			return;
		}
		if (p.hdr.type == SALVO_PKT_INIT)
			rshake_on_init(r, addr, buf, len, &p, now);
		else if (p.hdr.type == SALVO_PKT_KEY_REQ)
			rshake_on_key_req(r, addr, len, &p, now);
		else
			r->st.unknown++;
		return;
	}
	salvo_rsess *s = open_sealed(r, addr, buf, len, &h, &p, now);
	if (s)
		dispatch(r, s, &p, len, min64(arrival, now), now);
}

int salvo_receiver_lane_key(const salvo_receiver *r, uint32_t session,
			    uint8_t lane, uint64_t epoch, salvo_aead_key *out,
			    int *suite)
{
	int slot = rcv_find_slot(r, session);
	if (slot < 0 || lane >= r->sess[slot]->nlanes)
		return SALVO_ERR_STATE;
	const salvo_aead *a = &r->sess[slot]->lanes[lane].a;
	*suite = a->suite;
	return salvo_aead_key_for(a, epoch, out);
}

void salvo_receiver_on_opened(salvo_receiver *r, const salvo_addr *addr,
			      void *buf, size_t len, const salvo_aead_key *k,
			      int open_result, uint64_t arrival, uint64_t now)
{
	salvo_pkt_hdr h;
	salvo_pkt p;
	salvo_rsess *s;
	if (salvo_wire_decode_header(buf, len, &h) ||
	    !salvo_wire_is_sealed(h.type)) {
		r->st.malformed++;
		return;
	}
	rs_lane *l = lane_of(r, &h, &s);
	if (!l)
		return;
	int err = salvo_aead_commit(&l->a, &l->window, h.pn, k, open_result);
	s = opened(r, s, addr, buf, len, &h, &p, err, now);
	if (s)
		dispatch(r, s, &p, len, min64(arrival, now), now);
}

/* ------------------------------------------------------------- timers */

/* A half-open session (the sender never answered RESP) goes quietly
 * after this: nothing was prepared for it. */
static uint64_t half_open_until(const salvo_receiver *r, const salvo_rsess *s)
{
	return s->created + min64(RS_HALF_OPEN_NS, r->cfg.idle_timeout_ns);
}

static uint64_t session_deadline(const salvo_receiver *r, const salvo_rsess *s)
{
	if (s->half_open)
		return half_open_until(r, s);
	if (s->state == RS_COMPLETE || s->state == RS_FAILED)
		return s->linger_until;
	return min64(s->next_fb, s->last_rx + r->cfg.idle_timeout_ns);
}

uint64_t salvo_receiver_next_timer(const salvo_receiver *r)
{
	uint64_t t = UINT64_MAX;
	for (uint32_t i = 0; i < r->cfg.max_sessions; i++)
		if (r->sess[i])
			t = min64(t, session_deadline(r, r->sess[i]));
	return t;
}

void salvo_receiver_on_timer(salvo_receiver *r, uint64_t now)
{
	for (uint32_t i = 0; i < r->cfg.max_sessions; i++) {
		salvo_rsess *s = r->sess[i];
		if (!s)
			continue;
		if (s->half_open) {
			if (now >= half_open_until(r, s))
				rcv_free_session(r, i);
			continue;
		}
		if (s->state == RS_COMPLETE || s->state == RS_FAILED) {
			if (now >= s->linger_until)
				rcv_free_session(r, i);
			continue;
		}
		if (now - s->last_rx >= r->cfg.idle_timeout_ns) {
			rsess_fail(s, SALVO_ERR_TIMEOUT, 0,
				   SALVO_FILE_INDEX_NONE,
				   "sender silent past the idle timeout", now);
			rcv_free_session(r, i);
			continue;
		}
		if (now >= s->next_fb)
			rsess_feedback(s, now);
		/* periodic feedback while data flows (STATUS may be lost) */
		if (s->data_since_fb)
			rsess_schedule_feedback(
			    s, s->last_fb + rsess_feedback_interval(s));
	}
}

/* ------------------------------------------------- engine entry points */

static salvo_rsess *lookup(salvo_receiver *r, uint32_t id)
{
	int slot = rcv_find_slot(r, id);
	return slot < 0 ? NULL : r->sess[slot];
}

void salvo_receiver_block_result(salvo_receiver *r, uint32_t session,
				 uint32_t block, int ok, uint64_t now)
{
	salvo_rsess *s = lookup(r, session);
	if (s && s->state == RS_DATA)
		rdata_block_result(s, block, ok, now);
}

void salvo_receiver_file_result(salvo_receiver *r, uint32_t session,
				uint32_t file, int result, const char *msg,
				uint64_t now)
{
	salvo_rsess *s = lookup(r, session);
	if (s && s->state == RS_DATA)
		rdata_file_result(s, file, result, msg, now);
}

void salvo_receiver_fail(salvo_receiver *r, uint32_t session, int code,
			 int sys_errno, uint32_t file, const char *msg,
			 uint64_t now)
{
	salvo_rsess *s = lookup(r, session);
	if (s)
		rsess_fail(s, code, sys_errno, file, msg, now);
}

void salvo_receiver_prepared(salvo_receiver *r, uint32_t session, int result,
			     const char *msg, uint64_t now)
{
	salvo_rsess *s = lookup(r, session);
	if (s && s->preparing && s->have_manifest && s->state == RS_MANIFEST)
		rdata_prepared(s, result, msg, now);
}

void salvo_receiver_get_stats(const salvo_receiver *r, salvo_receiver_stats *st)
{
	*st = r->st;
}

void salvo_receiver_note_drops(salvo_receiver *r, uint64_t n)
{
	r->st.host_drops += n;
}
