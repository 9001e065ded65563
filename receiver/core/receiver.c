/*
 * Receiver core: the session table, the handshake, STATUS and FEEDBACK,
 * timers and the end of sessions.  Data, manifest and file handling live
 * in rdata.c, what a session sends in rsess.c (rsess.h shows the layers).
 *
 * Handshake: a HELLO without a valid cookie gets a RETRY carrying one
 * (SipHash of the peer address, the sender's nonce and the issue time,
 * under a secret key) and nothing is remembered.  A HELLO with a valid
 * cookie proves the sender receives at its address; only then is a
 * session created.  A repeated HELLO (lost ACCEPT) maps to the existing
 * session by address and nonce and gets the same ACCEPT again.
 *
 * Ended sessions linger a little as tombstones that repeat COMPLETE or
 * the ERROR to a sender that missed it, so the sender learns the real
 * outcome rather than "unknown session".
 */
#include "receiver/core/receiver.h"

#include <string.h>

#include "common/core/bytes.h"
#include "common/core/error.h"
#include "common/core/siphash.h"
#include "receiver/core/rdata.h"
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
	if (!cfg->max_sessions || !cfg->idle_timeout_ns)
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
	if (!r->cfg.cookie_lifetime_ns)
		r->cfg.cookie_lifetime_ns = 60000 * MS;
	r->cb = *cb;
	r->rng = cfg->seed ^ 0x9e3779b97f4a7c15ull;
	*out = r;
	return 0;
}

static void free_session(salvo_receiver *r, uint32_t slot)
{
	salvo_rsess *s = r->sess[slot];
	rdata_free(s);
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
		if (s->state == RS_MANIFEST || s->state == RS_DATA)
			r->cb.session_end(r->cb.ud, s, SALVO_ERR_ABORTED,
					  "receiver shutting down");
		free_session(r, i);
	}
	salvo_mem_free(r->mem, r->sess);
	salvo_mem_free(r->mem, r);
}

/* splitmix64 */
static uint64_t next_random(salvo_receiver *r)
{
	uint64_t z = (r->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int find_slot(const salvo_receiver *r, uint32_t id)
{
	for (uint32_t i = 0; i < r->cfg.max_sessions; i++)
		if (r->sess[i] && r->sess[i]->id == id)
			return (int)i;
	return -1;
}

static int same_addr(const salvo_addr *a, const salvo_addr *b)
{
	return a->len == b->len && !memcmp(a->bytes, b->bytes, a->len);
}

static int same_host(const salvo_addr *a, const salvo_addr *b)
{
	return a->host_len == b->host_len &&
	       !memcmp(a->host, b->host, a->host_len);
}

/* ---------------------------------------------------------- handshake */

static uint64_t cookie_mac(const salvo_receiver *r, const salvo_addr *a,
			   uint64_t nonce, uint64_t issued_ms)
{
	uint8_t msg[sizeof(a->bytes) + 16];
	size_t n = a->len > sizeof(a->bytes) ? sizeof(a->bytes) : a->len;
	memcpy(msg, a->bytes, n);
	salvo_wr w;
	salvo_wr_init(&w, msg + n, 16);
	salvo_wr_u64(&w, nonce);
	salvo_wr_u64(&w, issued_ms);
	return salvo_siphash(r->cfg.secret, msg, n + 16);
}

static void make_cookie(const salvo_receiver *r, const salvo_addr *a,
			uint64_t nonce, uint64_t now, uint8_t *out)
{
	uint64_t ms = now / MS;
	salvo_wr w;
	salvo_wr_init(&w, out, SALVO_COOKIE_BYTES);
	salvo_wr_u64(&w, ms);
	salvo_wr_u64(&w, cookie_mac(r, a, nonce, ms));
}

static int cookie_ok(const salvo_receiver *r, const salvo_addr *a,
		     const salvo_pkt_hello *h, uint64_t now)
{
	salvo_rd rd;
	salvo_rd_init(&rd, h->cookie, SALVO_COOKIE_BYTES);
	uint64_t ms = salvo_rd_u64(&rd), mac = salvo_rd_u64(&rd);
	if (ms > now / MS || now / MS - ms > r->cfg.cookie_lifetime_ns / MS)
		return 0;
	return mac == cookie_mac(r, a, h->nonce, ms);
}

static void send_error_to(salvo_receiver *r, const salvo_addr *a,
			  uint32_t session, int code, const char *msg,
			  size_t budget)
{
	uint8_t buf[128];
	salvo_pkt p;
	memset(&p, 0, sizeof(p));
	p.hdr.type = SALVO_PKT_ERROR;
	p.hdr.session = session;
	p.u.error.code = code;
	p.u.error.file_index = SALVO_FILE_INDEX_NONE;
	p.u.error.msg = msg;
	p.u.error.msg_len = (uint16_t)rsess_strlen(msg);
	int n = salvo_wire_encode(buf, sizeof(buf), &p);
	if (n > 0 && (size_t)n <= budget) {
		r->st.bytes_sent += (uint64_t)n;
		r->cb.send(r->cb.ud, a, buf, (size_t)n);
	}
}

static void send_accept(salvo_rsess *s)
{
	uint8_t buf[64];
	salvo_pkt p;
	memset(&p, 0, sizeof(p));
	p.hdr.type = SALVO_PKT_ACCEPT;
	p.hdr.session = s->id;
	p.u.accept.nonce = s->nonce;
	int n = salvo_wire_encode(buf, sizeof(buf), &p);
	if (n > 0)
		rsess_send(s, buf, (size_t)n);
}

static void on_hello(salvo_receiver *r, const salvo_addr *a, const salvo_pkt *p,
		     size_t len, uint64_t now)
{
	const salvo_pkt_hello *h = &p->u.hello;
	if (!h->cookie_len || !cookie_ok(r, a, h, now)) {
		/* stateless: answer with a cookie, at most 3x what came in */
		uint8_t buf[64];
		salvo_pkt q;
		memset(&q, 0, sizeof(q));
		q.hdr.type = SALVO_PKT_RETRY;
		q.u.retry.nonce = h->nonce;
		make_cookie(r, a, h->nonce, now, q.u.retry.cookie);
		int n = salvo_wire_encode(buf, sizeof(buf), &q);
		if (n > 0 && (size_t)n <= 3 * len) {
			r->st.retries_sent++;
			r->st.bytes_sent += (uint64_t)n;
			r->cb.send(r->cb.ud, a, buf, (size_t)n);
		}
		return;
	}
	/* validated address from here on */
	int free_slot = -1;
	for (uint32_t i = 0; i < r->cfg.max_sessions; i++) {
		salvo_rsess *s = r->sess[i];
		if (!s) {
			if (free_slot < 0)
				free_slot = (int)i;
		} else if (s->nonce == h->nonce && same_addr(&s->peer, a)) {
			s->last_rx = now;
			send_accept(s); /* our ACCEPT was lost */
			return;
		}
	}
	if (free_slot < 0) {
		send_error_to(r, a, 0, SALVO_ERR_BUSY,
			      "receiver busy: too many sessions", 1024);
		return;
	}
	if (r->cfg.max_total_bytes && h->total_bytes > r->cfg.max_total_bytes) {
		send_error_to(r, a, 0, SALVO_ERR_TOOBIG,
			      "transfer larger than the receiver allows", 1024);
		return;
	}
	salvo_rsess *s = salvo_mem_alloc(r->mem, sizeof(*s));
	uint8_t *mbuf = salvo_mem_alloc(r->mem, h->manifest_bytes);
	if (!s || !mbuf) {
		salvo_mem_free(r->mem, s);
		salvo_mem_free(r->mem, mbuf);
		send_error_to(r, a, 0, SALVO_ERR_NOMEM,
			      "receiver out of memory", 1024);
		return;
	}
	memset(s, 0, sizeof(*s));
	s->r = r;
	do
		s->id = (uint32_t)next_random(r);
	while (s->id == 0 || find_slot(r, s->id) >= 0);
	s->peer = *a;
	s->nonce = h->nonce;
	s->state = RS_MANIFEST;
	s->last_rx = now;
	s->block_bytes = h->block_bytes;
	s->datagram_bytes = h->datagram_bytes;
	s->payload = salvo_wire_payload_bytes(h->datagram_bytes);
	s->total = h->total_bytes;
	s->file_count = h->file_count;
	s->manifest_bytes = h->manifest_bytes;
	s->mbuf = mbuf;
	s->next_fb = UINT64_MAX;
	s->srtt_ns = 100 * MS;
	salvo_rxstream_init(&s->mrx, r->mem, h->manifest_bytes);
	salvo_rxstream_init(&s->drx, r->mem, h->total_bytes);
	r->sess[free_slot] = s;
	r->st.sessions++;
	send_accept(s);
}

/* ------------------------------------------------------------ packets */

static void on_status(salvo_rsess *s, const salvo_pkt_status *st, uint64_t now)
{
	if (st->srtt_us)
		s->srtt_ns = (uint64_t)st->srtt_us * 1000;
	if (st->ts > s->status_ts) {
		s->status_ts = st->ts;
		s->status_at = now;
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
	rsess_feedback(s, now);
	if (x && x->missing.n)
		rsess_schedule_feedback(s, now + rsess_reorder_window(s));
}

void salvo_receiver_on_packet(salvo_receiver *r, const salvo_addr *addr,
			      const void *buf, size_t len, uint64_t now)
{
	salvo_pkt p;
	int err = salvo_wire_decode(buf, len, &p);
	if (err) {
		r->st.malformed++;
		if (err == SALVO_ERR_VERSION && len >= 16)
			send_error_to(r, addr, 0, SALVO_ERR_VERSION,
				      "protocol version not supported",
				      3 * len);
		return;
	}
	if (p.hdr.type == SALVO_PKT_HELLO) {
		on_hello(r, addr, &p, len, now);
		return;
	}
	int slot = find_slot(r, p.hdr.session);
	if (slot < 0 || !same_host(&r->sess[slot]->peer, addr)) {
		r->st.unknown++;
		if (p.hdr.type == SALVO_PKT_STATUS)
			send_error_to(
			    r, addr, p.hdr.session, SALVO_ERR_NOSESSION,
			    "unknown session (receiver restarted?)", 3 * len);
		return;
	}
	salvo_rsess *s = r->sess[slot];
	s->last_rx = now;
	if (s->state == RS_COMPLETE || s->state == RS_FAILED)
		s->linger_until = now + RS_LINGER_NS;
	switch (p.hdr.type) {
	case SALVO_PKT_DATA:
		if (s->state == RS_DATA)
			rdata_on_data(s, &p, now);
		else if (s->state == RS_COMPLETE)
			r->st.duplicates++;
		else
			r->st.unknown++;
		return;
	case SALVO_PKT_MANIFEST:
		if (s->state == RS_MANIFEST)
			rdata_on_manifest(s, &p.u.manifest, now);
		else
			r->st.duplicates++;
		return;
	case SALVO_PKT_STATUS:
		on_status(s, &p.u.status, now);
		return;
	case SALVO_PKT_FILE_DONE:
		if (s->state == RS_DATA)
			rdata_on_file_done(s, &p.u.file_done, now);
		return;
	case SALVO_PKT_CLOSE:
		if (s->state == RS_COMPLETE || s->state == RS_FAILED) {
			free_session(r, (uint32_t)slot);
			return;
		}
		rsess_fail(s, SALVO_ERR_ABORTED, 0, SALVO_FILE_INDEX_NONE,
			   "sender aborted the transfer", now);
		free_session(r, (uint32_t)slot);
		return;
	case SALVO_PKT_ERROR:
		rsess_fail(s, SALVO_ERR_ABORTED, 0, SALVO_FILE_INDEX_NONE,
			   "sender reported an error", now);
		return;
	default:
		r->st.unknown++;
		return;
	}
}

/* ------------------------------------------------------------- timers */

static uint64_t session_deadline(const salvo_receiver *r, const salvo_rsess *s)
{
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
		if (s->state == RS_COMPLETE || s->state == RS_FAILED) {
			if (now >= s->linger_until)
				free_session(r, i);
			continue;
		}
		if (now - s->last_rx >= r->cfg.idle_timeout_ns) {
			rsess_fail(s, SALVO_ERR_TIMEOUT, 0,
				   SALVO_FILE_INDEX_NONE,
				   "sender silent past the idle timeout", now);
			free_session(r, i);
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
	int slot = find_slot(r, id);
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

void salvo_receiver_get_stats(const salvo_receiver *r, salvo_receiver_stats *st)
{
	*st = r->st;
}
