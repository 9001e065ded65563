/*
 * Encoders and the one decoder for every packet type of protocol 3 (see
 * wire.h and docs/PROTOCOL.md).  Fields go through the salvo_rd/salvo_wr
 * cursors of bytes.h, so a short buffer turns into one failed flag checked
 * at the end instead of a length test per field.  The decoder validates
 * every field against the limits in wire.h: a packet that passes can be
 * used without further range checks (except session-specific ones, such
 * as a block index beyond the session's data, which only the core can
 * judge).
 *
 * No checksum lives here any more: sealed packets carry an AEAD tag that
 * the cores check (common/crypto/aead.h) before this decoder reads their
 * bodies, and handshake packets are Noise messages with MACs.  The codec
 * only lays out and checks fields; the tag bytes of a sealed packet are
 * left as zeros by the encoders and skipped by the decoder.
 */
#include "common/core/wire.h"

#include "common/core/bytes.h"
#include "common/core/error.h"

static void put_hs_hdr(salvo_wr *w, uint8_t type, uint32_t index)
{
	salvo_wr_u8(w, SALVO_PROTOCOL_VERSION);
	salvo_wr_u8(w, type);
	salvo_wr_u8(w, 0);
	salvo_wr_u8(w, 0);
	salvo_wr_u32(w, index);
}

static void put_hdr(salvo_wr *w, uint8_t type, uint8_t flags, uint8_t lane,
		    uint32_t session, uint64_t pn)
{
	salvo_wr_u8(w, SALVO_PROTOCOL_VERSION);
	salvo_wr_u8(w, type);
	salvo_wr_u8(w, flags);
	salvo_wr_u8(w, lane);
	salvo_wr_u32(w, session);
	salvo_wr_u64(w, pn);
}

void salvo_wire_stamp(uint8_t out[SALVO_STAMP_BYTES], uint64_t realtime_ns)
{
	salvo_wr w;
	salvo_wr_init(&w, out, SALVO_STAMP_BYTES);
	salvo_wr_u64(&w, (UINT64_C(1) << 62) + realtime_ns / 1000000000u);
	salvo_wr_u32(&w, (uint32_t)(realtime_ns % 1000000000u));
}

uint32_t salvo_wire_data_header(uint8_t *hdr, uint32_t session, uint8_t flags,
				uint8_t lane, uint64_t pn, uint32_t block,
				uint32_t offset, uint32_t block_crc,
				uint32_t stream_len)
{
	salvo_wr w;
	salvo_wr_init(&w, hdr, SALVO_DATA_LZ4_HDR_BYTES);
	put_hdr(&w, SALVO_PKT_DATA, flags, lane, session, pn);
	salvo_wr_u32(&w, block);
	salvo_wr_u32(&w, offset);
	salvo_wr_u32(&w, block_crc);
	if (flags & SALVO_DATA_F_LZ4)
		salvo_wr_u32(&w, stream_len);
	return (uint32_t)w.pos;
}

/* Reserves the tag of a sealed packet (zeros, filled by the seal). */
static int finish_sealed(salvo_wr *w)
{
	uint8_t *tag = salvo_wr_take(w, SALVO_TAG_BYTES);
	if (!tag)
		return SALVO_ERR_TOOBIG;
	memset(tag, 0, SALVO_TAG_BYTES);
	return (int)w->pos;
}

/* ------------------------------------------------- handshake payloads */

static int init_ok(const salvo_init_payload *h)
{
	if (!h->suites || (h->suites & ~SALVO_SUITES_KNOWN))
		return 0;
	if (h->lanes < 1 || h->lanes > SALVO_LANES_MAX)
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

int salvo_wire_init_payload_encode(uint8_t out[SALVO_INIT_PAYLOAD_BYTES],
				   const salvo_init_payload *ip)
{
	if (!init_ok(ip))
		return SALVO_ERR_TOOBIG;
	salvo_wr w;
	salvo_wr_init(&w, out, SALVO_INIT_PAYLOAD_BYTES);
	salvo_wr_copy(&w, ip->stamp, SALVO_STAMP_BYTES);
	salvo_wr_u8(&w, ip->suites);
	salvo_wr_u8(&w, ip->lanes);
	salvo_wr_u16(&w, ip->datagram_bytes);
	salvo_wr_u32(&w, ip->caps);
	salvo_wr_u32(&w, ip->block_bytes);
	salvo_wr_u64(&w, ip->total_bytes);
	salvo_wr_u32(&w, ip->file_count);
	salvo_wr_u32(&w, ip->manifest_bytes);
	return salvo_wr_ok(&w) ? (int)w.pos : SALVO_ERR_TOOBIG;
}

int salvo_wire_init_payload_decode(const uint8_t *buf, size_t len,
				   salvo_init_payload *ip)
{
	salvo_rd r;
	memset(ip, 0, sizeof(*ip));
	salvo_rd_init(&r, buf, len);
	salvo_rd_copy(&r, ip->stamp, SALVO_STAMP_BYTES);
	ip->suites = salvo_rd_u8(&r);
	ip->lanes = salvo_rd_u8(&r);
	ip->datagram_bytes = salvo_rd_u16(&r);
	ip->caps = salvo_rd_u32(&r);
	ip->block_bytes = salvo_rd_u32(&r);
	ip->total_bytes = salvo_rd_u64(&r);
	ip->file_count = salvo_rd_u32(&r);
	ip->manifest_bytes = salvo_rd_u32(&r);
	if (!salvo_rd_ok(&r))
		return SALVO_ERR_TRUNCATED;
	if (salvo_rd_left(&r) || !init_ok(ip))
		return SALVO_ERR_MALFORMED;
	return 0;
}

static int resp_ok(const salvo_resp_payload *rp)
{
	if (rp->status > 0 || rp->msg_len > SALVO_RESP_MSG_MAX ||
	    (rp->msg_len && memchr(rp->msg, 0, rp->msg_len)))
		return 0;
	if (rp->caps & ~(uint32_t)SALVO_CAP_KNOWN)
		return 0;
	/* accepted: one known suite; refused: none */
	if (rp->status == 0)
		return rp->suite < 8 &&
		       ((1u << rp->suite) & SALVO_SUITES_KNOWN) && !rp->msg_len;
	return rp->suite == 0;
}

int salvo_wire_resp_payload_encode(uint8_t *out, size_t cap,
				   const salvo_resp_payload *rp)
{
	if (!resp_ok(rp))
		return SALVO_ERR_TOOBIG;
	salvo_wr w;
	salvo_wr_init(&w, out, cap);
	salvo_wr_u32(&w, (uint32_t)rp->status);
	salvo_wr_u8(&w, rp->suite);
	salvo_wr_u32(&w, rp->caps);
	salvo_wr_u16(&w, rp->msg_len);
	salvo_wr_copy(&w, rp->msg, rp->msg_len);
	return salvo_wr_ok(&w) ? (int)w.pos : SALVO_ERR_TOOBIG;
}

int salvo_wire_resp_payload_decode(const uint8_t *buf, size_t len,
				   salvo_resp_payload *rp)
{
	salvo_rd r;
	memset(rp, 0, sizeof(*rp));
	salvo_rd_init(&r, buf, len);
	rp->status = (int32_t)salvo_rd_u32(&r);
	rp->suite = salvo_rd_u8(&r);
	rp->caps = salvo_rd_u32(&r);
	rp->msg_len = salvo_rd_u16(&r);
	rp->msg = (const char *)salvo_rd_take(&r, rp->msg_len);
	if (!salvo_rd_ok(&r))
		return SALVO_ERR_TRUNCATED;
	if (salvo_rd_left(&r) || !resp_ok(rp))
		return SALVO_ERR_MALFORMED;
	return 0;
}

/* ----------------------------------------------------------- encoding */

static int encode_handshake(salvo_wr *w, const salvo_pkt *p)
{
	put_hs_hdr(w, p->hdr.type, p->hdr.session);
	switch (p->hdr.type) {
	case SALVO_PKT_INIT:
		salvo_wr_copy(w, p->u.init.msg1, SALVO_INIT_MSG1_BYTES);
		uint8_t *macs = salvo_wr_take(w, SALVO_INIT_MACS_BYTES);
		if (macs)
			memset(macs, 0, SALVO_INIT_MACS_BYTES);
		break;
	case SALVO_PKT_RESP: {
		const salvo_pkt_resp *rs = &p->u.resp;
		if (rs->msg2_len <
			SALVO_RESP_MIN_BYTES - SALVO_HS_HDR_BYTES - 4 ||
		    rs->msg2_len >
			SALVO_RESP_MAX_BYTES - SALVO_HS_HDR_BYTES - 4)
			return SALVO_ERR_TOOBIG;
		salvo_wr_u32(w, rs->session);
		salvo_wr_copy(w, rs->msg2, rs->msg2_len);
		break;
	}
	case SALVO_PKT_COOKIE:
		salvo_wr_copy(w, p->u.cookie.reply,
			      SALVO_COOKIE_REPLY_WIRE_BYTES);
		break;
	case SALVO_PKT_KEY_REQ: {
		uint8_t *pad = salvo_wr_take(w, SALVO_KEY_BYTES_WIRE);
		if (pad)
			memset(pad, 0, SALVO_KEY_BYTES_WIRE);
		break;
	}
	case SALVO_PKT_KEY:
		salvo_wr_copy(w, p->u.key.key, SALVO_KEY_BYTES_WIRE);
		break;
	default:
		return SALVO_ERR_INVAL;
	}
	if (p->hdr.flags || p->hdr.lane || p->hdr.session == 0)
		return SALVO_ERR_TOOBIG;
	return salvo_wr_ok(w) ? (int)w->pos : SALVO_ERR_TOOBIG;
}

static int encode_sealed(salvo_wr *w, const salvo_pkt *p)
{
	put_hdr(w, p->hdr.type, p->hdr.flags, p->hdr.lane, p->hdr.session,
		p->hdr.pn);
	switch (p->hdr.type) {
	case SALVO_PKT_MANIFEST: {
		const salvo_pkt_manifest *m = &p->u.manifest;
		if (m->len == 0 || m->total > SALVO_MANIFEST_MAX_BYTES ||
		    m->offset > m->total || m->len > m->total - m->offset)
			return SALVO_ERR_TOOBIG;
		salvo_wr_u32(w, m->offset);
		salvo_wr_u32(w, m->total);
		salvo_wr_copy(w, m->bytes, m->len);
		break;
	}
	case SALVO_PKT_STATUS: {
		const salvo_pkt_status *s = &p->u.status;
		if (s->phase > SALVO_PHASE_DATA ||
		    s->sent_through > SALVO_TOTAL_MAX_BYTES ||
		    s->ranges_have > SALVO_VERDICT_RANGES_MAX ||
		    s->verdicts_have > SALVO_FILES_MAX)
			return SALVO_ERR_TOOBIG;
		salvo_wr_u8(w, s->phase);
		salvo_wr_u32(w, s->srtt_us);
		salvo_wr_u64(w, s->ts);
		salvo_wr_u64(w, s->sent_through);
		salvo_wr_u64(w, s->datagrams_sent);
		salvo_wr_u32(w, s->ranges_have);
		salvo_wr_u32(w, s->verdicts_have);
		break;
	}
	case SALVO_PKT_FILE_DONE: {
		const salvo_pkt_file_done *f = &p->u.file_done;
		if (f->count == 0 || f->first >= SALVO_FILES_MAX ||
		    f->count > SALVO_FILES_MAX - f->first)
			return SALVO_ERR_TOOBIG;
		salvo_wr_u32(w, f->first);
		salvo_wr_u16(w, f->count);
		salvo_wr_copy(w, f->digests,
			      (size_t)f->count * SALVO_DIGEST_BYTES);
		break;
	}
	case SALVO_PKT_CLOSE:
		if (p->u.close.reason > SALVO_CLOSE_ABORT)
			return SALVO_ERR_TOOBIG;
		salvo_wr_u8(w, p->u.close.reason);
		break;
	case SALVO_PKT_ERROR: {
		const salvo_pkt_error *e = &p->u.error;
		if (e->msg_len > SALVO_ERROR_MSG_MAX || e->code >= 0 ||
		    e->sys_errno < 0 || memchr(e->msg, 0, e->msg_len))
			return SALVO_ERR_TOOBIG;
		salvo_wr_u32(w, (uint32_t)e->code);
		salvo_wr_u32(w, (uint32_t)e->sys_errno);
		salvo_wr_u32(w, e->file_index);
		salvo_wr_u16(w, e->msg_len);
		salvo_wr_copy(w, e->msg, e->msg_len);
		break;
	}
	default: /* DATA and FEEDBACK have their own encoders */
		return SALVO_ERR_INVAL;
	}
	/* no packet encoded here defines a flag but an abandoned file's
	 * FILE_DONE */
	int fd_flag = p->hdr.type == SALVO_PKT_FILE_DONE &&
		      p->hdr.flags == SALVO_FD_F_ABANDONED &&
		      p->u.file_done.count == 1;
	if ((p->hdr.flags && !fd_flag) || p->hdr.session == 0 ||
	    p->hdr.lane >= SALVO_LANES_MAX)
		return SALVO_ERR_TOOBIG;
	return finish_sealed(w);
}

int salvo_wire_encode(void *buf, size_t cap, const salvo_pkt *p)
{
	salvo_wr w;
	salvo_wr_init(&w, buf, cap);
	if (p->hdr.type == 0 || p->hdr.type > SALVO_PKT_TYPE_MAX)
		return SALVO_ERR_INVAL;
	if (salvo_wire_is_sealed(p->hdr.type))
		return encode_sealed(&w, p);
	return encode_handshake(&w, p);
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

/* Range lists (FEEDBACK's missing ranges, VERDICT's held ones) travel as
 * (gap, length) varint pairs, each gap from the end of the range before,
 * the first from a base.  How many of r[0, n) (at most UINT16_MAX) fit in
 * room bytes past *used (grown by them) into *fit; SALVO_ERR_INVAL for a
 * range out of order, empty or past limit. */
static int ranges_fit(const salvo_range *r, size_t n, uint64_t base,
		      uint64_t limit, size_t room, size_t *used, size_t *fit)
{
	size_t k = 0;
	for (; k < n && k < UINT16_MAX; k++) {
		if (r[k].start < base || r[k].end <= r[k].start ||
		    r[k].end > limit)
			return SALVO_ERR_INVAL;
		size_t need = salvo_varint_len(r[k].start - base) +
			      salvo_varint_len(r[k].end - r[k].start);
		if (*used + need > room)
			break;
		*used += need;
		base = r[k].end;
	}
	*fit = k;
	return 0;
}

static void put_ranges(salvo_wr *w, const salvo_range *r, size_t n,
		       uint64_t base)
{
	for (size_t i = 0; i < n; i++) {
		salvo_wr_varint(w, r[i].start - base);
		salvo_wr_varint(w, r[i].end - r[i].start);
		base = r[i].end;
	}
}

/* The next range of a list already checked by check_range_list. */
static void read_range(salvo_rd *rd, uint64_t *prev_end, salvo_range *r)
{
	r->start = *prev_end + salvo_rd_varint(rd);
	r->end = r->start + salvo_rd_varint(rd);
	*prev_end = r->end;
}

/* Checks n ranges at rd: each non-empty, no overflow, all below limit.
 * 0, SALVO_ERR_TRUNCATED or SALVO_ERR_MALFORMED. */
static int check_range_list(salvo_rd *rd, unsigned n, uint64_t base,
			    uint64_t limit)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t gap = salvo_rd_varint(rd);
		uint64_t len = salvo_rd_varint(rd);
		if (!salvo_rd_ok(rd))
			return SALVO_ERR_TRUNCATED;
		if (len == 0 || gap > SALVO_TOTAL_MAX_BYTES ||
		    len > SALVO_TOTAL_MAX_BYTES || base + gap + len > limit)
			return SALVO_ERR_MALFORMED;
		base += gap + len;
	}
	return 0;
}

int salvo_wire_encode_feedback(void *buf, size_t cap, uint32_t session,
			       uint8_t flags, uint8_t lane, uint64_t pn,
			       const salvo_pkt_feedback *fb,
			       const salvo_range *ranges, size_t n,
			       size_t *written)
{
	enum { FIXED = SALVO_HDR_BYTES + SALVO_FEEDBACK_FIXED_BYTES };
	*written = 0;
	if (cap < FIXED + SALVO_TAG_BYTES || lane >= SALVO_LANES_MAX ||
	    !feedback_ok(fb, flags, session))
		return SALVO_ERR_TOOBIG;
	/* pick how many ranges fit, then write the fixed part knowing it */
	size_t room = cap - FIXED - SALVO_TAG_BYTES, used = 0, k;
	if (ranges_fit(ranges, n, fb->cum, fb->list_end, room, &used, &k))
		return SALVO_ERR_INVAL;
	uint64_t list_end = fb->list_end;
	if (k < n) {
		flags |= SALVO_FB_F_TRUNCATED;
		list_end = ranges[k].start;
	}
	salvo_wr w;
	salvo_wr_init(&w, buf, cap);
	put_hdr(&w, SALVO_PKT_FEEDBACK, flags, lane, session, pn);
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
	salvo_wr_u32(&w, fb->host_drops);
	salvo_wr_u32(&w, fb->host_wait_us);
	salvo_wr_u32(&w, fb->train_kbps);
	put_ranges(&w, ranges, k, fb->cum);
	*written = k;
	return finish_sealed(&w);
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
	read_range(&rd, &it->prev_end, r);
	it->pos = rd.pos;
	it->left--;
	return 1;
}

/* One run of equal verdicts from entry i: its length (at most max). */
static uint32_t run_len(const uint8_t *verdict, const int32_t *err, uint32_t i,
			uint32_t max)
{
	uint32_t k = 1;
	while (k < max && verdict[i + k] == verdict[i] &&
	       (!err || verdict[i] != SALVO_VERDICT_FAILED ||
		err[i + k] == err[i]))
		k++;
	return k;
}

int salvo_wire_encode_verdict(void *buf, size_t cap, uint32_t session,
			      uint64_t pn, const salvo_range *ranges,
			      uint32_t ranges_total, uint32_t first_range,
			      const uint8_t *verdict, const int32_t *err,
			      uint32_t nfiles, uint32_t first_file,
			      uint32_t *ranges_written, uint32_t *files_written)
{
	enum { FIXED = SALVO_HDR_BYTES + SALVO_VERDICT_FIXED_BYTES };
	*ranges_written = *files_written = 0;
	if (cap < FIXED + SALVO_TAG_BYTES || !session ||
	    ranges_total > SALVO_VERDICT_RANGES_MAX ||
	    first_range > ranges_total || nfiles > SALVO_FILES_MAX ||
	    first_file > nfiles)
		return SALVO_ERR_TOOBIG;
	size_t room = cap - FIXED - SALVO_TAG_BYTES, used = 0, fit;
	uint32_t nr, nu = 0, nf = 0;
	/* no ranges may come as NULL: NULL + 0 is undefined */
	const salvo_range *from = ranges ? ranges + first_range : NULL;
	if (ranges_fit(from, ranges_total - first_range, 0,
		       SALVO_TOTAL_MAX_BYTES, room, &used, &fit))
		return SALVO_ERR_INVAL;
	nr = (uint32_t)fit;
	for (uint32_t i = first_file + nf;
	     first_range + nr == ranges_total && i < nfiles && nu < UINT16_MAX;
	     nu++) {
		if (verdict[i] > SALVO_VERDICT_MAX)
			return SALVO_ERR_TOOBIG;
		uint32_t k = run_len(verdict, err, i, nfiles - i);
		size_t need = salvo_varint_len(k) + 1;
		if (verdict[i] == SALVO_VERDICT_FAILED)
			need += salvo_varint_len(
			    err && err[i] > 0 ? (uint64_t)err[i] : 0);
		if (used + need > room)
			break;
		used += need;
		nf += k;
		i += k;
	}
	salvo_wr w;
	salvo_wr_init(&w, buf, cap);
	put_hdr(&w, SALVO_PKT_VERDICT, 0, 0, session, pn);
	salvo_wr_u32(&w, ranges_total);
	salvo_wr_u32(&w, first_range);
	salvo_wr_u32(&w, first_file);
	salvo_wr_u16(&w, (uint16_t)nr);
	salvo_wr_u16(&w, (uint16_t)nu);
	put_ranges(&w, from, nr, 0);
	for (uint32_t i = first_file; i < first_file + nf;) {
		uint32_t k = run_len(verdict, err, i, first_file + nf - i);
		salvo_wr_varint(&w, k);
		salvo_wr_u8(&w, verdict[i]);
		if (verdict[i] == SALVO_VERDICT_FAILED)
			salvo_wr_varint(&w, err && err[i] > 0 ? (uint64_t)err[i]
							      : 0);
		i += k;
	}
	*ranges_written = nr;
	*files_written = nf;
	return finish_sealed(&w);
}

void salvo_wire_verdict_iter(salvo_verdict_iter *it, const salvo_pkt_verdict *v)
{
	it->v = v;
	it->rpos = it->upos = 0;
	it->prev_end = 0;
	it->rleft = v->nranges;
	it->uleft = v->nruns;
}

int salvo_wire_verdict_next_range(salvo_verdict_iter *it, salvo_range *r)
{
	if (!it->rleft)
		return 0;
	salvo_rd rd;
	salvo_rd_init(&rd, it->v->ranges, it->v->ranges_len);
	rd.pos = it->rpos;
	read_range(&rd, &it->prev_end, r);
	it->rpos = rd.pos;
	it->rleft--;
	return 1;
}

int salvo_wire_verdict_next_run(salvo_verdict_iter *it, uint32_t *count,
				uint8_t *verdict, int32_t *err)
{
	if (!it->uleft)
		return 0;
	salvo_rd rd;
	salvo_rd_init(&rd, it->v->runs, it->v->runs_len);
	rd.pos = it->upos;
	*count = (uint32_t)salvo_rd_varint(&rd);
	*verdict = salvo_rd_u8(&rd);
	*err = *verdict == SALVO_VERDICT_FAILED ? (int32_t)salvo_rd_varint(&rd)
						: 0;
	it->upos = rd.pos;
	it->uleft--;
	return 1;
}

/* ----------------------------------------------------------- decoding */

/* Checks the ranges of a FEEDBACK: count matches the bytes exactly, each
 * range non-empty, no overflow, all below list_end. */
static int check_ranges(const salvo_pkt_feedback *fb)
{
	salvo_rd rd;
	salvo_rd_init(&rd, fb->ranges, fb->ranges_len);
	int err = check_range_list(&rd, fb->nranges, fb->cum, fb->list_end);
	if (err)
		return err;
	return salvo_rd_left(&rd) ? SALVO_ERR_MALFORMED : 0;
}

/* Walks a VERDICT's ranges and runs (r after the fixed fields): every
 * range non-empty, ascending and below SALVO_TOTAL_MAX_BYTES, every run
 * of at least one entry with a known verdict, no entry past
 * SALVO_FILES_MAX, nothing left over.  Points v's lists into the packet
 * and counts v->nfiles. */
static int check_verdict(salvo_rd *r, salvo_pkt_verdict *v)
{
	size_t start = r->pos;
	int err = check_range_list(r, v->nranges, 0, SALVO_TOTAL_MAX_BYTES);
	if (err)
		return err;
	v->ranges = r->p + start;
	v->ranges_len = r->pos - start;
	start = r->pos;
	uint64_t files = 0;
	for (unsigned i = 0; i < v->nruns; i++) {
		uint64_t count = salvo_rd_varint(r);
		uint8_t verdict = salvo_rd_u8(r);
		uint64_t e =
		    verdict == SALVO_VERDICT_FAILED ? salvo_rd_varint(r) : 0;
		if (!salvo_rd_ok(r))
			return SALVO_ERR_TRUNCATED;
		if (count == 0 || count > SALVO_FILES_MAX ||
		    verdict > SALVO_VERDICT_MAX || e > INT32_MAX)
			return SALVO_ERR_MALFORMED;
		files += count;
	}
	if (files > SALVO_FILES_MAX - v->first_file)
		return SALVO_ERR_MALFORMED;
	v->nfiles = (uint32_t)files;
	v->runs = r->p + start;
	v->runs_len = r->pos - start;
	return 0;
}

int salvo_wire_decode_header(const void *buf, size_t len, salvo_pkt_hdr *h)
{
	salvo_rd r;
	memset(h, 0, sizeof(*h));
	if (len < SALVO_HS_HDR_BYTES)
		return SALVO_ERR_TRUNCATED;
	if (len > SALVO_DATAGRAM_MAX_BYTES)
		return SALVO_ERR_TOOBIG;
	salvo_rd_init(&r, buf, len);
	h->version = salvo_rd_u8(&r);
	h->type = salvo_rd_u8(&r);
	h->flags = salvo_rd_u8(&r);
	h->lane = salvo_rd_u8(&r);
	h->session = salvo_rd_u32(&r);
	if (h->version != SALVO_PROTOCOL_VERSION)
		return SALVO_ERR_VERSION;
	if (h->type == 0 || h->type > SALVO_PKT_TYPE_MAX)
		return SALVO_ERR_MALFORMED;
	if (!salvo_wire_is_sealed(h->type)) {
		/* flags and the reserved byte are zero, the index not */
		if (h->flags || h->lane || !h->session)
			return SALVO_ERR_MALFORMED;
		return 0;
	}
	if (len < SALVO_HDR_BYTES + SALVO_TAG_BYTES)
		return SALVO_ERR_TRUNCATED;
	h->pn = salvo_rd_u64(&r);
	if (h->lane >= SALVO_LANES_MAX || !h->session)
		return SALVO_ERR_MALFORMED;
	return 0;
}

/* A handshake packet after its header: fixed lengths, so anything else
 * is refused before any cryptography looks at it. */
static int decode_handshake(salvo_rd *r, salvo_pkt *out)
{
	size_t left = salvo_rd_left(r);
	switch (out->hdr.type) {
	case SALVO_PKT_INIT:
		if (left != SALVO_INIT_BYTES - SALVO_HS_HDR_BYTES)
			return left < SALVO_INIT_BYTES - SALVO_HS_HDR_BYTES
				   ? SALVO_ERR_TRUNCATED
				   : SALVO_ERR_MALFORMED;
		out->u.init.msg1 = salvo_rd_take(r, SALVO_INIT_MSG1_BYTES);
		salvo_rd_take(r, SALVO_INIT_MACS_BYTES);
		return 0;
	case SALVO_PKT_RESP:
		if (left < SALVO_RESP_MIN_BYTES - SALVO_HS_HDR_BYTES)
			return SALVO_ERR_TRUNCATED;
		if (left > SALVO_RESP_MAX_BYTES - SALVO_HS_HDR_BYTES)
			return SALVO_ERR_MALFORMED;
		out->u.resp.session = salvo_rd_u32(r);
		out->u.resp.msg2_len = salvo_rd_left(r);
		out->u.resp.msg2 = salvo_rd_take(r, out->u.resp.msg2_len);
		return 0;
	case SALVO_PKT_COOKIE:
		if (left != SALVO_COOKIE_REPLY_WIRE_BYTES)
			return left < SALVO_COOKIE_REPLY_WIRE_BYTES
				   ? SALVO_ERR_TRUNCATED
				   : SALVO_ERR_MALFORMED;
		out->u.cookie.reply =
		    salvo_rd_take(r, SALVO_COOKIE_REPLY_WIRE_BYTES);
		return 0;
	case SALVO_PKT_KEY_REQ:
	case SALVO_PKT_KEY:
		if (left != SALVO_KEY_BYTES_WIRE)
			return left < SALVO_KEY_BYTES_WIRE
				   ? SALVO_ERR_TRUNCATED
				   : SALVO_ERR_MALFORMED;
		salvo_rd_copy(r, out->u.key.key, SALVO_KEY_BYTES_WIRE);
		if (out->hdr.type == SALVO_PKT_KEY_REQ) {
			/* the padding is zero, so it can carry nothing */
			for (int i = 0; i < SALVO_KEY_BYTES_WIRE; i++)
				if (out->u.key.key[i])
					return SALVO_ERR_MALFORMED;
		}
		return 0;
	default:
		return SALVO_ERR_MALFORMED;
	}
}

static int decode_body(salvo_rd *r, salvo_pkt *out)
{
	uint8_t flags = out->hdr.flags;
	switch (out->hdr.type) {
	case SALVO_PKT_DATA: {
		salvo_pkt_data *d = &out->u.data;
		d->block = salvo_rd_u32(r);
		d->offset = salvo_rd_u32(r);
		d->block_crc = salvo_rd_u32(r);
		if (flags & SALVO_DATA_F_LZ4)
			d->stream_len = salvo_rd_u32(r);
		d->payload_len = salvo_rd_left(r);
		d->payload = salvo_rd_take(r, d->payload_len);
		if (!salvo_rd_ok(r) || d->payload_len == 0)
			return SALVO_ERR_TRUNCATED;
		if (!(flags & SALVO_DATA_F_LZ4))
			d->stream_len = (uint32_t)d->payload_len;
		if ((flags & ~SALVO_DATA_F_KNOWN) ||
		    d->offset >= SALVO_BLOCK_MAX_BYTES ||
		    d->stream_len > SALVO_DATA_LZ4_MAX_BYTES ||
		    d->stream_len == 0)
			return SALVO_ERR_MALFORMED;
		return 0;
	}
	case SALVO_PKT_MANIFEST: {
		salvo_pkt_manifest *m = &out->u.manifest;
		m->offset = salvo_rd_u32(r);
		m->total = salvo_rd_u32(r);
		m->len = salvo_rd_left(r);
		m->bytes = salvo_rd_take(r, m->len);
		if (!salvo_rd_ok(r))
			return SALVO_ERR_TRUNCATED;
		if (m->len == 0 || flags ||
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
		f->host_drops = salvo_rd_u32(r);
		f->host_wait_us = salvo_rd_u32(r);
		f->train_kbps = salvo_rd_u32(r);
		f->ranges_len = salvo_rd_left(r);
		f->ranges = salvo_rd_take(r, f->ranges_len);
		if (!salvo_rd_ok(r))
			return SALVO_ERR_TRUNCATED;
		if (reserved || !feedback_ok(f, flags, out->hdr.session))
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
		s->ranges_have = salvo_rd_u32(r);
		s->verdicts_have = salvo_rd_u32(r);
		if (!salvo_rd_ok(r))
			return SALVO_ERR_TRUNCATED;
		if (s->phase > SALVO_PHASE_DATA || flags ||
		    s->sent_through > SALVO_TOTAL_MAX_BYTES ||
		    s->ranges_have > SALVO_VERDICT_RANGES_MAX ||
		    s->verdicts_have > SALVO_FILES_MAX)
			return SALVO_ERR_MALFORMED;
		return 0;
	}
	case SALVO_PKT_VERDICT: {
		salvo_pkt_verdict *v = &out->u.verdict;
		v->ranges_total = salvo_rd_u32(r);
		v->first_range = salvo_rd_u32(r);
		v->first_file = salvo_rd_u32(r);
		v->nranges = salvo_rd_u16(r);
		v->nruns = salvo_rd_u16(r);
		if (!salvo_rd_ok(r))
			return SALVO_ERR_TRUNCATED;
		if (flags || v->ranges_total > SALVO_VERDICT_RANGES_MAX ||
		    v->first_range > v->ranges_total ||
		    v->nranges > v->ranges_total - v->first_range ||
		    v->first_file > SALVO_FILES_MAX)
			return SALVO_ERR_MALFORMED;
		return check_verdict(r, v);
	}
	case SALVO_PKT_FILE_DONE: {
		salvo_pkt_file_done *f = &out->u.file_done;
		f->first = salvo_rd_u32(r);
		f->count = salvo_rd_u16(r);
		f->digests =
		    salvo_rd_take(r, (size_t)f->count * SALVO_DIGEST_BYTES);
		if (!salvo_rd_ok(r))
			return SALVO_ERR_TRUNCATED;
		if (f->count == 0 || (flags & ~SALVO_FD_F_ABANDONED) ||
		    ((flags & SALVO_FD_F_ABANDONED) && f->count != 1) ||
		    f->first >= SALVO_FILES_MAX ||
		    f->count > SALVO_FILES_MAX - f->first)
			return SALVO_ERR_MALFORMED;
		return 0;
	}
	case SALVO_PKT_CLOSE:
		out->u.close.reason = salvo_rd_u8(r);
		if (!salvo_rd_ok(r))
			return SALVO_ERR_TRUNCATED;
		if (out->u.close.reason > SALVO_CLOSE_ABORT || flags)
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
		    e->msg_len > SALVO_ERROR_MSG_MAX || flags ||
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
	memset(out, 0, sizeof(*out));
	int err = salvo_wire_decode_header(buf, len, &out->hdr);
	if (err)
		return err;
	salvo_rd r;
	if (!salvo_wire_is_sealed(out->hdr.type)) {
		salvo_rd_init(&r, buf, len);
		r.pos = SALVO_HS_HDR_BYTES;
		return decode_handshake(&r, out);
	}
	/* the body, without the tag (decode_header checked it is there) */
	salvo_rd_init(&r, buf, len - SALVO_TAG_BYTES);
	r.pos = SALVO_HDR_BYTES;
	err = decode_body(&r, out);
	if (err)
		return err;
	return salvo_rd_left(&r) ? SALVO_ERR_MALFORMED : 0;
}
