/*
 * Receiver core: what one session sends.  FEEDBACK (the cumulative point
 * and the vector of reportable holes of the stream in flight, split over
 * a few packets when the list is long), ERROR, and the end of a session
 * by failure.  Everything goes out sealed with the session's key for our
 * direction, each packet with the next packet number.  The bottom of the
 * core's files: it calls nothing in receiver.c, rshake.c or rdata.c (see
 * rsess.h).
 */
#include "receiver/core/rsess.h"

#include <string.h>

#include "common/core/bytes.h"
#include "common/core/error.h"

#define FB_BATCH 300	 /* ranges gathered per feedback packet */
#define FB_MAX_PACKETS 4 /* feedback packets per feedback event */

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t rsess_pn(const salvo_rsess *s)
{
	return salvo_aead_next_pn(&s->tx);
}

void rsess_send(salvo_rsess *s, uint8_t *buf, size_t len)
{
	salvo_rd r;
	salvo_rd_init(&r, buf + 8, 8);
	uint64_t pn = salvo_rd_u64(&r);
	/* sealing fails only past the key's hard limit, far beyond what a
	 * receiver sends in a session: the packet is then lost */
	if (salvo_aead_seal(&s->tx, pn, buf, SALVO_HDR_BYTES,
			    buf + SALVO_HDR_BYTES,
			    len - SALVO_HDR_BYTES - SALVO_TAG_BYTES))
		return;
	s->r->st.bytes_sent += len;
	s->r->cb.send(s->r->cb.ud, &s->peer, buf, len);
}

void rsess_free_keys(salvo_rsess *s)
{
	salvo_aead_free(&s->tx);
	for (uint32_t i = 0; s->lanes && i < s->nlanes; i++)
		salvo_aead_free(&s->lanes[i].a);
	salvo_mem_free(s->r->mem, s->lanes);
	s->lanes = NULL;
	s->nlanes = 0;
}

uint64_t rsess_reorder_window(const salvo_rsess *s)
{
	uint64_t cap = min64(max64(s->srtt_ns / 8, RS_MS), 50 * RS_MS);
	/* and as long as datagrams wait in the host's sockets lately: with
	 * several sockets, the hole may be one still waiting in another
	 * (a receiver starved of CPU by 64 senders on its host read one
	 * socket milliseconds after the other, and a quarter of what was
	 * sent again had arrived) */
	uint64_t wait =
	    min64(max64(s->r->wait_ns, s->r->wait_prev_ns), RS_WAIT_MAX_NS);
	return min64(max64(s->reorder_ns + s->reorder_ns / 4, RS_MS), cap) +
	       wait;
}

uint64_t rsess_followup(const salvo_rsess *s)
{
	if (s->state == RS_DATA && s->drx.sent_through >= s->drx.total)
		return rsess_reorder_window(s);
	return max64(rsess_reorder_window(s),
		     min64(max64(s->srtt_ns / 16, RS_MS), 50 * RS_MS));
}

uint64_t rsess_feedback_interval(const salvo_rsess *s)
{
	return max64(s->srtt_ns / 4, RS_MS);
}

void rsess_schedule_feedback(salvo_rsess *s, uint64_t when)
{
	if (when < s->next_fb)
		s->next_fb = when;
}

/* The cumulative point FEEDBACK advertises: the stream's, but never past
 * a block not yet verified.  Its bytes may all have arrived, and a check
 * that fails takes them back (rdata_block_result); a sender told they
 * arrived forgets them and ignores later reports below its point, so the
 * block was never sent again, and the transfer stalled with the window
 * full (send_file_shrink.sh: a block repaired with an abandoned file's
 * zeros under its old CRC failed after the sender's point had passed it).
 * The block's bytes count in recv_above_cum meanwhile. */
static uint64_t kept_cum(salvo_rsess *s, const salvo_rxstream *x)
{
	if (x != &s->drx || !s->bstate)
		return x->cum;
	while (s->verified_below < s->nblocks &&
	       s->bstate[s->verified_below] == BLK_VERIFIED)
		s->verified_below++;
	return min64(x->cum, s->verified_below * s->block_bytes);
}

void rsess_feedback(salvo_rsess *s, uint64_t now)
{
	const salvo_rxstream *x = s->state == RS_MANIFEST ? &s->mrx : &s->drx;
	salvo_pkt_feedback fb;
	memset(&fb, 0, sizeof(fb));
	fb.phase =
	    s->state == RS_MANIFEST ? SALVO_PHASE_MANIFEST : SALVO_PHASE_DATA;
	fb.cum = kept_cum(s, x);
	fb.list_end = x->known_end;
	fb.recv_above_cum = salvo_rxstream_above_cum(x) + (x->cum - fb.cum);
	fb.echo_ts = s->status_ts;
	fb.echo_hold_us =
	    s->status_ts && now > s->status_at
		? (uint32_t)min64((now - s->status_at) / 1000, UINT32_MAX)
		: 0;
	fb.digests_have = s->digests_have;
	fb.files_done = s->files_done;
	fb.datagrams_received = s->datagrams;
	/* since this session began; wraps, as on the wire */
	fb.host_drops = (uint32_t)(s->r->st.host_drops - s->drops0);
	fb.host_wait_us =
	    s->wait_n
		? (uint32_t)min64(s->wait_sum / s->wait_n / 1000, UINT32_MAX)
		: 0;
	fb.train_kbps = rtrain_take(&s->train);
	uint8_t flags = s->state == RS_COMPLETE ? SALVO_FB_F_COMPLETE : 0;

	salvo_range ranges[FB_BATCH];
	uint8_t buf[SALVO_DATAGRAM_MAX_BYTES];
	size_t cap = s->datagram_bytes, from = 0;
	uint64_t wnd = rsess_reorder_window(s);
	for (int k = 0; k < FB_MAX_PACKETS; k++) {
		size_t n =
		    salvo_rxstream_report(x, now, wnd, &from, ranges, FB_BATCH);
		size_t written;
		fb.seq = ++s->fb_seq;
		int len = salvo_wire_encode_feedback(buf, cap, s->id, flags, 0,
						     rsess_pn(s), &fb, ranges,
						     n, &written);
		if (len < 0)
			break;
		rsess_send(s, buf, (size_t)len);
		if (written < n) /* resume at the first range left out */
			from = salvo_rangeset_lower_bound(
			    &x->missing, ranges[written].start);
		else if (from >= x->missing.n)
			break;
	}
	s->last_fb = now;
	s->data_since_fb = 0;
	s->next_fb = UINT64_MAX;
	s->wait_sum = s->wait_n = 0;
}

void rsess_send_error(salvo_rsess *s)
{
	uint8_t buf[SALVO_ERROR_MSG_MAX + 64];
	salvo_pkt p;
	memset(&p, 0, sizeof(p));
	p.hdr.type = SALVO_PKT_ERROR;
	p.hdr.session = s->id;
	p.hdr.pn = rsess_pn(s);
	p.u.error.code = s->err_code;
	p.u.error.sys_errno = s->err_errno;
	p.u.error.file_index = s->err_file;
	p.u.error.msg = s->err_msg;
	p.u.error.msg_len = (uint16_t)rsess_strlen(s->err_msg);
	int n = salvo_wire_encode(buf, sizeof(buf), &p);
	if (n > 0)
		rsess_send(s, buf, (size_t)n);
}

void rsess_fail(salvo_rsess *s, int code, int sys_errno, uint32_t file,
		const char *msg, uint64_t now)
{
	if (s->state == RS_FAILED || s->state == RS_COMPLETE)
		return;
	s->err_code = code;
	s->err_errno = sys_errno < 0 ? -sys_errno : sys_errno;
	s->err_file = file;
	rsess_strlcpy(s->err_msg, msg, sizeof(s->err_msg));
	s->state = RS_FAILED;
	s->linger_until = now + RS_LINGER_NS;
	s->next_fb = UINT64_MAX;
	if (code != SALVO_ERR_ABORTED && code != SALVO_ERR_TIMEOUT)
		rsess_send_error(s);
	s->r->cb.session_end(s->r->cb.ud, s, code, s->err_msg);
}

/* ------------------------------------------- accessors for the engine */

uint32_t salvo_rsess_id(const salvo_rsess *s)
{
	return s->id;
}

const salvo_manifest *salvo_rsess_manifest(const salvo_rsess *s)
{
	return s->have_manifest ? &s->m : NULL;
}

const salvo_addr *salvo_rsess_peer(const salvo_rsess *s)
{
	return &s->peer;
}

uint32_t salvo_rsess_block_bytes(const salvo_rsess *s)
{
	return s->block_bytes;
}

void *salvo_rsess_user(const salvo_rsess *s)
{
	return s->user;
}

void salvo_rsess_set_user(salvo_rsess *s, void *user)
{
	s->user = user;
}

const void *salvo_rsess_auth(const salvo_rsess *s)
{
	return s->auth.user;
}

const uint8_t *salvo_rsess_key(const salvo_rsess *s)
{
	return s->peer_key;
}
