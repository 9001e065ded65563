/*
 * Encoders and the one decoder for every packet type (see wire.h and
 * docs/PROTOCOL.md).  Fields go through the salvo_rd/salvo_wr cursors of
 * bytes.h, so a short buffer turns into one failed flag checked at the
 * end instead of a length test per field.  The decoder validates every
 * field against the limits in wire.h: a packet that passes can be used
 * without further range checks (except session-specific ones, such as a
 * block index beyond the session's data, which only the core can judge).
 */
#include "common/core/wire.h"

#include "common/core/bytes.h"
#include "common/core/crc32c.h"
#include "common/core/error.h"

/* Fuzzing builds accept bad checksums so that mutated inputs reach the
 * field checks behind them (the libFuzzer convention). */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define IGNORE_CHECKSUMS 1
#else
#define IGNORE_CHECKSUMS 0
#endif

static void put_hdr(salvo_wr *w, uint8_t type, uint8_t flags, uint32_t session)
{
	salvo_wr_u8(w, SALVO_PROTOCOL_VERSION);
	salvo_wr_u8(w, type);
	salvo_wr_u8(w, flags);
	salvo_wr_u8(w, 0);
	salvo_wr_u32(w, session);
}

void salvo_wire_data_header(uint8_t *hdr, uint32_t session, uint8_t flags,
			    uint32_t block, uint32_t offset, uint32_t block_crc,
			    const void *payload, size_t payload_len)
{
	salvo_wr w;
	salvo_wr_init(&w, hdr, SALVO_DATA_HDR_BYTES);
	put_hdr(&w, SALVO_PKT_DATA, flags, session);
	salvo_wr_u32(&w, block);
	salvo_wr_u32(&w, offset);
	salvo_wr_u32(&w, block_crc);
	salvo_wr_u32(&w, 0);
	uint32_t crc = salvo_crc32c(0, hdr, SALVO_DATA_HDR_BYTES);
	crc = salvo_crc32c(crc, payload, payload_len);
	salvo_put_u32(hdr + 20, crc);
}

/* Appends the CRC32C trailer of a control packet. */
static int seal(salvo_wr *w)
{
	if (!salvo_wr_ok(w))
		return SALVO_ERR_TOOBIG;
	uint32_t crc = salvo_crc32c(0, w->p, w->pos);
	salvo_wr_u32(w, crc);
	return salvo_wr_ok(w) ? (int)w->pos : SALVO_ERR_TOOBIG;
}

static int hello_ok(const salvo_pkt_hello *h)
{
	if (h->cookie_len != 0 && h->cookie_len != SALVO_COOKIE_BYTES)
		return 0;
	if (h->caps & ~(uint32_t)SALVO_CAP_KNOWN)
		return 0;
	if (h->datagram_bytes < SALVO_DATAGRAM_MIN_BYTES ||
	    h->datagram_bytes > SALVO_DATAGRAM_MAX_BYTES)
		return 0;
	if (h->block_bytes < salvo_wire_payload_bytes(h->datagram_bytes) ||
	    h->block_bytes > SALVO_BLOCK_MAX_BYTES)
		return 0;
	if (h->total_bytes > SALVO_TOTAL_MAX_BYTES)
		return 0;
	if (h->total_bytes / h->block_bytes >= UINT32_MAX)
		return 0;
	if (h->file_count > SALVO_FILES_MAX ||
	    h->manifest_bytes > SALVO_MANIFEST_MAX_BYTES)
		return 0;
	/* every entry takes at least 24 + 1 bytes in the manifest, after an
	 * 8-byte header (manifest.h) */
	if ((uint64_t)h->file_count * 25 + 8 > h->manifest_bytes)
		return 0;
	return 1;
}

int salvo_wire_encode(void *buf, size_t cap, const salvo_pkt *p)
{
	salvo_wr w;
	salvo_wr_init(&w, buf, cap);
	put_hdr(&w, p->hdr.type, p->hdr.flags, p->hdr.session);
	switch (p->hdr.type) {
	case SALVO_PKT_HELLO: {
		const salvo_pkt_hello *h = &p->u.hello;
		if (!hello_ok(h))
			return SALVO_ERR_TOOBIG;
		salvo_wr_u32(&w, h->caps);
		salvo_wr_u64(&w, h->nonce);
		salvo_wr_u8(&w, h->cookie_len);
		salvo_wr_copy(&w, h->cookie, h->cookie_len);
		salvo_wr_u32(&w, h->block_bytes);
		salvo_wr_u16(&w, h->datagram_bytes);
		salvo_wr_u64(&w, h->total_bytes);
		salvo_wr_u32(&w, h->file_count);
		salvo_wr_u32(&w, h->manifest_bytes);
		break;
	}
	case SALVO_PKT_RETRY:
		salvo_wr_u64(&w, p->u.retry.nonce);
		salvo_wr_copy(&w, p->u.retry.cookie, SALVO_COOKIE_BYTES);
		break;
	case SALVO_PKT_ACCEPT:
		if (p->u.accept.caps & ~(uint32_t)SALVO_CAP_KNOWN)
			return SALVO_ERR_TOOBIG;
		salvo_wr_u64(&w, p->u.accept.nonce);
		salvo_wr_u32(&w, p->u.accept.caps);
		break;
	case SALVO_PKT_MANIFEST: {
		const salvo_pkt_manifest *m = &p->u.manifest;
		if (m->len == 0 || m->total > SALVO_MANIFEST_MAX_BYTES ||
		    m->offset > m->total || m->len > m->total - m->offset)
			return SALVO_ERR_TOOBIG;
		salvo_wr_u32(&w, m->offset);
		salvo_wr_u32(&w, m->total);
		salvo_wr_copy(&w, m->bytes, m->len);
		break;
	}
	case SALVO_PKT_STATUS: {
		const salvo_pkt_status *s = &p->u.status;
		if (s->phase > SALVO_PHASE_DATA ||
		    s->sent_through > SALVO_TOTAL_MAX_BYTES)
			return SALVO_ERR_TOOBIG;
		salvo_wr_u8(&w, s->phase);
		salvo_wr_u32(&w, s->srtt_us);
		salvo_wr_u64(&w, s->ts);
		salvo_wr_u64(&w, s->sent_through);
		salvo_wr_u64(&w, s->datagrams_sent);
		break;
	}
	case SALVO_PKT_FILE_DONE: {
		const salvo_pkt_file_done *f = &p->u.file_done;
		if (f->count == 0 || f->first >= SALVO_FILES_MAX ||
		    f->count > SALVO_FILES_MAX - f->first)
			return SALVO_ERR_TOOBIG;
		salvo_wr_u32(&w, f->first);
		salvo_wr_u16(&w, f->count);
		salvo_wr_copy(&w, f->digests,
			      (size_t)f->count * SALVO_DIGEST_BYTES);
		break;
	}
	case SALVO_PKT_CLOSE:
		if (p->u.close.reason > SALVO_CLOSE_ABORT)
			return SALVO_ERR_TOOBIG;
		salvo_wr_u8(&w, p->u.close.reason);
		break;
	case SALVO_PKT_ERROR: {
		const salvo_pkt_error *e = &p->u.error;
		if (e->msg_len > SALVO_ERROR_MSG_MAX || e->code >= 0 ||
		    e->sys_errno < 0 || memchr(e->msg, 0, e->msg_len))
			return SALVO_ERR_TOOBIG;
		salvo_wr_u32(&w, (uint32_t)e->code);
		salvo_wr_u32(&w, (uint32_t)e->sys_errno);
		salvo_wr_u32(&w, e->file_index);
		salvo_wr_u16(&w, e->msg_len);
		salvo_wr_copy(&w, e->msg, e->msg_len);
		break;
	}
	default: /* DATA and FEEDBACK have their own encoders */
		return SALVO_ERR_INVAL;
	}
	if (p->hdr.flags) /* no packet encoded here defines a flag */
		return SALVO_ERR_TOOBIG;
	return seal(&w);
}

/* The fixed fields of a FEEDBACK, judged alike by encoder and decoder. */
static int feedback_ok(const salvo_pkt_feedback *f, uint8_t flags,
		       uint32_t session)
{
	return f->phase <= SALVO_PHASE_DATA && !(flags & ~SALVO_FB_F_KNOWN) &&
	       f->cum <= f->list_end && f->list_end <= SALVO_TOTAL_MAX_BYTES &&
	       f->recv_above_cum <= SALVO_TOTAL_MAX_BYTES &&
	       f->digests_have <= SALVO_FILES_MAX &&
	       f->files_done <= SALVO_FILES_MAX && session != 0;
}

int salvo_wire_encode_feedback(void *buf, size_t cap, uint32_t session,
			       uint8_t flags, const salvo_pkt_feedback *fb,
			       const salvo_range *ranges, size_t n,
			       size_t *written)
{
	enum { FIXED = SALVO_HDR_BYTES + 60 };
	*written = 0;
	if (cap < FIXED + SALVO_CRC_BYTES || !feedback_ok(fb, flags, session))
		return SALVO_ERR_TOOBIG;
	/* pick how many ranges fit, then write the fixed part knowing it */
	size_t room = cap - FIXED - SALVO_CRC_BYTES, used = 0, k = 0;
	uint64_t prev = fb->cum;
	for (; k < n && k < UINT16_MAX; k++) {
		if (ranges[k].start < prev ||
		    ranges[k].end <= ranges[k].start ||
		    ranges[k].end > fb->list_end)
			return SALVO_ERR_INVAL;
		size_t need = salvo_varint_len(ranges[k].start - prev) +
			      salvo_varint_len(ranges[k].end - ranges[k].start);
		if (used + need > room)
			break;
		used += need;
		prev = ranges[k].end;
	}
	uint64_t list_end = fb->list_end;
	if (k < n) {
		flags |= SALVO_FB_F_TRUNCATED;
		list_end = ranges[k].start;
	}
	salvo_wr w;
	salvo_wr_init(&w, buf, cap);
	put_hdr(&w, SALVO_PKT_FEEDBACK, flags, session);
	salvo_wr_u8(&w, fb->phase);
	salvo_wr_u8(&w, 0);
	salvo_wr_u16(&w, (uint16_t)k);
	salvo_wr_u32(&w, fb->seq);
	salvo_wr_u64(&w, fb->cum);
	salvo_wr_u64(&w, list_end);
	salvo_wr_u64(&w, fb->recv_above_cum);
	salvo_wr_u64(&w, fb->echo_ts);
	salvo_wr_u32(&w, fb->echo_hold_us);
	salvo_wr_u32(&w, fb->digests_have);
	salvo_wr_u32(&w, fb->files_done);
	salvo_wr_u64(&w, fb->datagrams_received);
	prev = fb->cum;
	for (size_t i = 0; i < k; i++) {
		salvo_wr_varint(&w, ranges[i].start - prev);
		salvo_wr_varint(&w, ranges[i].end - ranges[i].start);
		prev = ranges[i].end;
	}
	*written = k;
	return seal(&w);
}

void salvo_wire_feedback_iter(salvo_fb_iter *it, const salvo_pkt_feedback *fb)
{
	it->fb = fb;
	it->pos = 0;
	it->prev_end = fb->cum;
	it->left = fb->nranges;
}

int salvo_wire_feedback_next(salvo_fb_iter *it, salvo_range *r)
{
	if (!it->left)
		return 0;
	salvo_rd rd;
	salvo_rd_init(&rd, it->fb->ranges, it->fb->ranges_len);
	rd.pos = it->pos;
	r->start = it->prev_end + salvo_rd_varint(&rd);
	r->end = r->start + salvo_rd_varint(&rd);
	it->pos = rd.pos;
	it->prev_end = r->end;
	it->left--;
	return 1;
}

/* Checks the ranges of a FEEDBACK: count matches the bytes exactly, each
 * range non-empty, no overflow, all below list_end. */
static int check_ranges(const salvo_pkt_feedback *fb)
{
	salvo_rd rd;
	salvo_rd_init(&rd, fb->ranges, fb->ranges_len);
	uint64_t prev = fb->cum;
	for (unsigned i = 0; i < fb->nranges; i++) {
		uint64_t gap = salvo_rd_varint(&rd);
		uint64_t len = salvo_rd_varint(&rd);
		if (!salvo_rd_ok(&rd))
			return SALVO_ERR_TRUNCATED;
		if (len == 0 || gap > SALVO_TOTAL_MAX_BYTES ||
		    len > SALVO_TOTAL_MAX_BYTES ||
		    prev + gap + len > fb->list_end)
			return SALVO_ERR_MALFORMED;
		prev += gap + len;
	}
	return salvo_rd_left(&rd) ? SALVO_ERR_MALFORMED : 0;
}

static int decode_body(salvo_rd *r, salvo_pkt *out)
{
	switch (out->hdr.type) {
	case SALVO_PKT_HELLO: {
		salvo_pkt_hello *h = &out->u.hello;
		h->caps = salvo_rd_u32(r);
		h->nonce = salvo_rd_u64(r);
		h->cookie_len = salvo_rd_u8(r);
		if (h->cookie_len > SALVO_COOKIE_BYTES)
			return SALVO_ERR_MALFORMED;
		salvo_rd_copy(r, h->cookie, h->cookie_len);
		h->block_bytes = salvo_rd_u32(r);
		h->datagram_bytes = salvo_rd_u16(r);
		h->total_bytes = salvo_rd_u64(r);
		h->file_count = salvo_rd_u32(r);
		h->manifest_bytes = salvo_rd_u32(r);
		if (!salvo_rd_ok(r))
			return SALVO_ERR_TRUNCATED;
		if (!hello_ok(h) || out->hdr.flags || out->hdr.session)
			return SALVO_ERR_MALFORMED;
		return 0;
	}
	case SALVO_PKT_RETRY:
		out->u.retry.nonce = salvo_rd_u64(r);
		salvo_rd_copy(r, out->u.retry.cookie, SALVO_COOKIE_BYTES);
		if (!salvo_rd_ok(r))
			return SALVO_ERR_TRUNCATED;
		return out->hdr.flags || out->hdr.session ? SALVO_ERR_MALFORMED
							  : 0;
	case SALVO_PKT_ACCEPT:
		out->u.accept.nonce = salvo_rd_u64(r);
		out->u.accept.caps = salvo_rd_u32(r);
		if (!salvo_rd_ok(r))
			return SALVO_ERR_TRUNCATED;
		if (out->hdr.flags || out->hdr.session == 0 ||
		    (out->u.accept.caps & ~(uint32_t)SALVO_CAP_KNOWN))
			return SALVO_ERR_MALFORMED;
		return 0;
	case SALVO_PKT_MANIFEST: {
		salvo_pkt_manifest *m = &out->u.manifest;
		m->offset = salvo_rd_u32(r);
		m->total = salvo_rd_u32(r);
		m->len = salvo_rd_left(r);
		m->bytes = salvo_rd_take(r, m->len);
		if (!salvo_rd_ok(r))
			return SALVO_ERR_TRUNCATED;
		if (m->len == 0 || out->hdr.flags ||
		    m->total > SALVO_MANIFEST_MAX_BYTES ||
		    m->offset > m->total || m->len > m->total - m->offset)
			return SALVO_ERR_MALFORMED;
		return 0;
	}
	case SALVO_PKT_FEEDBACK: {
		salvo_pkt_feedback *f = &out->u.feedback;
		f->phase = salvo_rd_u8(r);
		uint8_t reserved = salvo_rd_u8(r);
		f->nranges = salvo_rd_u16(r);
		f->seq = salvo_rd_u32(r);
		f->cum = salvo_rd_u64(r);
		f->list_end = salvo_rd_u64(r);
		f->recv_above_cum = salvo_rd_u64(r);
		f->echo_ts = salvo_rd_u64(r);
		f->echo_hold_us = salvo_rd_u32(r);
		f->digests_have = salvo_rd_u32(r);
		f->files_done = salvo_rd_u32(r);
		f->datagrams_received = salvo_rd_u64(r);
		f->ranges_len = salvo_rd_left(r);
		f->ranges = salvo_rd_take(r, f->ranges_len);
		if (!salvo_rd_ok(r))
			return SALVO_ERR_TRUNCATED;
		if (reserved ||
		    !feedback_ok(f, out->hdr.flags, out->hdr.session))
			return SALVO_ERR_MALFORMED;
		return check_ranges(f);
	}
	case SALVO_PKT_STATUS: {
		salvo_pkt_status *s = &out->u.status;
		s->phase = salvo_rd_u8(r);
		s->srtt_us = salvo_rd_u32(r);
		s->ts = salvo_rd_u64(r);
		s->sent_through = salvo_rd_u64(r);
		s->datagrams_sent = salvo_rd_u64(r);
		if (!salvo_rd_ok(r))
			return SALVO_ERR_TRUNCATED;
		if (s->phase > SALVO_PHASE_DATA || out->hdr.flags ||
		    s->sent_through > SALVO_TOTAL_MAX_BYTES ||
		    out->hdr.session == 0)
			return SALVO_ERR_MALFORMED;
		return 0;
	}
	case SALVO_PKT_FILE_DONE: {
		salvo_pkt_file_done *f = &out->u.file_done;
		f->first = salvo_rd_u32(r);
		f->count = salvo_rd_u16(r);
		f->digests =
		    salvo_rd_take(r, (size_t)f->count * SALVO_DIGEST_BYTES);
		if (!salvo_rd_ok(r))
			return SALVO_ERR_TRUNCATED;
		if (f->count == 0 || out->hdr.flags ||
		    f->first >= SALVO_FILES_MAX ||
		    f->count > SALVO_FILES_MAX - f->first ||
		    out->hdr.session == 0)
			return SALVO_ERR_MALFORMED;
		return 0;
	}
	case SALVO_PKT_CLOSE:
		out->u.close.reason = salvo_rd_u8(r);
		if (!salvo_rd_ok(r))
			return SALVO_ERR_TRUNCATED;
		if (out->u.close.reason > SALVO_CLOSE_ABORT || out->hdr.flags)
			return SALVO_ERR_MALFORMED;
		return 0;
	case SALVO_PKT_ERROR: {
		salvo_pkt_error *e = &out->u.error;
		e->code = (int32_t)salvo_rd_u32(r);
		e->sys_errno = (int32_t)salvo_rd_u32(r);
		e->file_index = salvo_rd_u32(r);
		e->msg_len = salvo_rd_u16(r);
		e->msg = (const char *)salvo_rd_take(r, e->msg_len);
		if (!salvo_rd_ok(r))
			return SALVO_ERR_TRUNCATED;
		if (e->code >= 0 || e->sys_errno < 0 ||
		    e->msg_len > SALVO_ERROR_MSG_MAX || out->hdr.flags ||
		    memchr(e->msg, 0, e->msg_len))
			return SALVO_ERR_MALFORMED;
		return 0;
	}
	default:
		return SALVO_ERR_MALFORMED;
	}
}

int salvo_wire_decode(const void *buf, size_t len, salvo_pkt *out)
{
	salvo_rd r;
	memset(out, 0, sizeof(*out));
	if (len < SALVO_HDR_BYTES)
		return SALVO_ERR_TRUNCATED;
	if (len > SALVO_DATAGRAM_MAX_BYTES)
		return SALVO_ERR_TOOBIG;
	salvo_rd_init(&r, buf, len);
	out->hdr.version = salvo_rd_u8(&r);
	out->hdr.type = salvo_rd_u8(&r);
	out->hdr.flags = salvo_rd_u8(&r);
	out->hdr.tag_len = salvo_rd_u8(&r);
	out->hdr.session = salvo_rd_u32(&r);
	if (out->hdr.version != SALVO_PROTOCOL_VERSION)
		return SALVO_ERR_VERSION;
	if (out->hdr.type == 0 || out->hdr.type > SALVO_PKT_TYPE_MAX)
		return SALVO_ERR_MALFORMED;
	if (out->hdr.tag_len) /* authentication is not negotiated in v1 */
		return SALVO_ERR_MALFORMED;
	const uint8_t *b = buf;
	if (out->hdr.type == SALVO_PKT_DATA) {
		salvo_pkt_data *d = &out->u.data;
		if (len <= SALVO_DATA_HDR_BYTES)
			return SALVO_ERR_TRUNCATED;
		d->block = salvo_rd_u32(&r);
		d->offset = salvo_rd_u32(&r);
		d->block_crc = salvo_rd_u32(&r);
		uint32_t want = salvo_rd_u32(&r);
		uint8_t zero[4] = {0};
		uint32_t crc = salvo_crc32c(0, b, 20);
		crc = salvo_crc32c(crc, zero, 4);
		crc = salvo_crc32c(crc, b + SALVO_DATA_HDR_BYTES,
				   len - SALVO_DATA_HDR_BYTES);
		if (crc != want && !IGNORE_CHECKSUMS)
			return SALVO_ERR_CHECKSUM;
		if ((out->hdr.flags & ~SALVO_DATA_F_KNOWN) ||
		    out->hdr.session == 0 || d->offset >= SALVO_BLOCK_MAX_BYTES)
			return SALVO_ERR_MALFORMED;
		d->payload = b + SALVO_DATA_HDR_BYTES;
		d->payload_len = len - SALVO_DATA_HDR_BYTES;
		return 0;
	}
	if (len < SALVO_HDR_BYTES + SALVO_CRC_BYTES)
		return SALVO_ERR_TRUNCATED;
	if (salvo_crc32c(0, b, len - SALVO_CRC_BYTES) !=
		salvo_get_u32(b + len - SALVO_CRC_BYTES) &&
	    !IGNORE_CHECKSUMS)
		return SALVO_ERR_CHECKSUM;
	r.len = len - SALVO_CRC_BYTES;
	int err = decode_body(&r, out);
	if (err)
		return err;
	return salvo_rd_left(&r) ? SALVO_ERR_MALFORMED : 0;
}
