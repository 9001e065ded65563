/*
 * Sender session core.  A session moves through these phases:
 *
 *   KEY        (only when the receiver's key is not pinned) KEY_REQ until
 *              a KEY answers; pin() decides whether to trust it.
 *   HANDSHAKE  INIT (Noise IK message 1) until a RESP (message 2)
 *              answers, with exponential backoff until the timeout; a
 *              COOKIE reply makes the next INIT carry mac2 (shake.c).
 *   MANIFEST   the encoded manifest goes out as MANIFEST chunks, repaired
 *              from FEEDBACK like data; the first FEEDBACK in the data
 *              phase says the receiver has it all and prepared the files.
 *              Once every chunk went out, a small first block (at most
 *              EARLY_DATA_BYTES) and its digests follow at once, without
 *              waiting for that FEEDBACK: a small transfer then takes two
 *              round trips, handshake included.
 *   DATA       new blocks and retransmissions (these first), STATUS every
 *              quarter RTT, FILE_DONE digests as the caller learns them.
 *              New data waits until the receiver's VERDICT packets (sent
 *              with that FEEDBACK) are all here: the bytes it already
 *              holds are never sent, files it skips need no digest
 *              (held.c).
 *   DONE       a FEEDBACK with COMPLETE arrived: send CLOSE, stop.
 *
 * The data itself never passes through here: poll() hands out work items
 * (block numbers and ranges) and the caller reads and sends the bytes.
 * Everything time-dependent is computed from `now` arguments, so a
 * simulator can run thousands of sessions in virtual time.
 */
#include "sender/core/sender.h"

#include <string.h>

#include "common/core/error.h"
#include "common/core/policy.h"
#include "common/core/rate.h"
#include "sender/core/ssess.h"

#define MAX_ACTIVE SS_MAX_ACTIVE
#define MS SS_MS

typedef ss_active active_work;

/* Data sent along with the manifest, before the receiver asks for it:
 * lost when the manifest is (the receiver drops data for files it does
 * not know yet), so a few datagrams at most. */
#define EARLY_DATA_BYTES (UINT64_C(8) << 10)
/* FILE_DONE packets in flight at least (fd_window). */
#define FD_WINDOW_MIN_PACKETS 64
/* Once the whole manifest is out, the receiver prepares the session (a
 * stat of every target, under its core lock) before it answers again:
 * up to this much per entry is not silence (a million files: 50 s). */
#define PREPARE_NS_PER_ENTRY UINT64_C(50000)
/* The tail's second copies of repairs: at most this share of the data
 * stream's bytes (1/256: 0.4 %). */
#define TAIL_DUP_SHARE 256
/* What went this recently when the last new data went is sent twice at
 * once (probe_last), at least. */
#define TAIL_PROBE_NS (5 * MS)

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

void ss_fail(salvo_sender *s, int err, int send_close)
{
	if (s->phase == PH_FAILED || s->phase == PH_DONE)
		return;
	s->phase = PH_FAILED;
	s->err = err;
	s->close_pending = send_close && s->session;
	s->close_reason = SALVO_CLOSE_ABORT;
}

/* adaptive is another name for fair (common/core/policy.h) */
static const salvo_rate_ops *rate_ops(enum salvo_rate_policy p)
{
	switch (p) {
	case SALVO_RATE_FIXED:
		return &salvo_rate_fixed_ops;
	case SALVO_RATE_HIGH:
		return &salvo_rate_high_ops;
	case SALVO_RATE_LOW:
		return &salvo_rate_low_ops;
	case SALVO_RATE_ADAPTIVE:
	case SALVO_RATE_FAIR:
		break;
	}
	return &salvo_rate_fair_ops;
}

static int config_ok(const salvo_sender_config *c)
{
	return c->datagram_bytes >= SALVO_DATAGRAM_MIN_BYTES &&
	       c->block_bytes >= salvo_wire_payload_bytes(c->datagram_bytes) &&
	       c->block_bytes <= SALVO_BLOCK_MAX_BYTES &&
	       (c->rate_bps > 0 || c->rate_policy != SALVO_RATE_FIXED) &&
	       c->timeout_ns > 0 && c->initial_rto_ns > 0 && c->random &&
	       c->overwrite >= 0 && c->overwrite <= SALVO_SEND_OVERWRITE_MAX &&
	       c->lanes >= 1 && c->lanes <= SALVO_LANES_MAX &&
	       (c->has_peer_key || c->pin) &&
	       (c->suites & SALVO_SUITES_KNOWN) &&
	       !(c->suites & ~SALVO_SUITES_KNOWN);
}

int salvo_sender_new(salvo_sender **out, const salvo_mem *mem,
		     const salvo_sender_config *cfg, const salvo_entry *e,
		     uint32_t n, uint64_t now)
{
	int err = SALVO_ERR_INVAL;
	*out = NULL;
	if (!config_ok(cfg) || n > SALVO_FILES_MAX)
		return err;
	err = SALVO_ERR_NOMEM;
	salvo_sender *s = salvo_mem_alloc(mem, sizeof(*s));
	if (!s)
		return err;
	memset(s, 0, sizeof(*s));
	s->mem = mem;
	s->cfg = *cfg;
	s->file_count = n;

	uint64_t msize = salvo_manifest_encoded_size(e, n) +
			 (cfg->digests ? salvo_manifest_digests_size(e, n) : 0);
	err = SALVO_ERR_TOOBIG;
	if (msize > SALVO_MANIFEST_MAX_BYTES)
		goto fail_sender;
	err = SALVO_ERR_NOMEM;
	s->manifest = salvo_mem_alloc(mem, msize);
	if (!s->manifest)
		goto fail_sender;
	uint64_t total;
	int64_t mlen = salvo_manifest_write(e, n, cfg->digests, s->manifest,
					    msize, &total);
	if (mlen < 0) {
		err = (int)mlen;
		goto fail_manifest;
	}
	s->manifest_len = (uint32_t)mlen;
	s->cfg.digests = NULL; /* borrowed for the manifest only */
	salvo_manifest_set_overwrite(s->manifest, (uint8_t)cfg->overwrite);
	err = SALVO_ERR_TOOBIG;
	if (total / cfg->block_bytes >= UINT32_MAX)
		goto fail_manifest;

	err = SALVO_ERR_NOMEM;
	s->nblocks = (total + cfg->block_bytes - 1) / cfg->block_bytes;
	s->block_crc = salvo_mem_array(mem, s->nblocks ? s->nblocks : 1, 4);
	s->is_dir = salvo_mem_alloc(mem, n ? n : 1);
	s->have_digest = salvo_mem_alloc(mem, n ? n : 1);
	s->digest = salvo_mem_array(mem, n ? n : 1, SALVO_DIGEST_BYTES);
	s->verdict = salvo_mem_alloc(mem, n ? n : 1);
	s->verdict_err = salvo_mem_array(mem, n ? n : 1, sizeof(int32_t));
	if (!s->block_crc || !s->is_dir || !s->have_digest || !s->digest ||
	    !s->verdict || !s->verdict_err)
		goto fail_arrays;
	salvo_rangeset_init(&s->held, mem);
	salvo_rangeset_init(&s->late_fd, mem);
	salvo_rangeset_init(&s->fd_spans, mem);
	salvo_rangeset_init(&s->parked, mem);
	for (uint32_t i = 0; i < n; i++) {
		s->is_dir[i] = e[i].type == SALVO_ENTRY_DIR;
		s->have_digest[i] = s->is_dir[i];
		memset(s->digest[i], 0, SALVO_DIGEST_BYTES);
	}
	while (s->digests_known < n && s->have_digest[s->digests_known])
		s->digests_known++;

	s->payload = salvo_wire_payload_bytes(cfg->datagram_bytes);
	s->chunk = cfg->datagram_bytes - SALVO_HDR_BYTES - 8 - SALVO_TAG_BYTES;
	salvo_txstream_init(&s->man, mem, s->manifest_len);
	salvo_txstream_init(&s->data, mem, total);
	salvo_rangeset_init(&s->dup, mem);
	s->dup_budget = total / TAIL_DUP_SHARE;
	s->st.total_bytes = total;
	s->st.file_count = n;
	s->start = now;
	s->last_rx = now;
	s->status_interval = 100 * MS;
	s->rate = rate_ops(cfg->rate_policy);
	s->ceiling_bps = cfg->rate_bps;
	s->floor_bps =
	    cfg->rate_policy == SALVO_RATE_FIXED ? 0 : cfg->min_rate_bps;
	s->rate->init(&s->rate_state,
		      cfg->rate_bps ? cfg->rate_bps : SALVO_RATE_NO_CEILING_BPS,
		      cfg->min_rate_bps, cfg->datagram_bytes, now);
	err = ss_shake_start(s, now);
	if (err) {
		salvo_sender_del(s);
		return err;
	}
	*out = s;
	return 0;

fail_arrays:
	salvo_mem_free(mem, s->verdict);
	salvo_mem_free(mem, s->verdict_err);
	salvo_mem_free(mem, s->block_crc);
	salvo_mem_free(mem, s->is_dir);
	salvo_mem_free(mem, s->have_digest);
	salvo_mem_free(mem, s->digest);
fail_manifest:
	salvo_mem_free(mem, s->manifest);
fail_sender:
	salvo_mem_free(mem, s);
	return err;
}

void salvo_sender_del(salvo_sender *s)
{
	if (!s)
		return;
	ss_shake_free(s);
	salvo_txstream_free(&s->man);
	salvo_txstream_free(&s->data);
	salvo_rangeset_free(&s->dup);
	salvo_rangeset_free(&s->held);
	salvo_rangeset_free(&s->late_fd);
	salvo_rangeset_free(&s->fd_spans);
	salvo_rangeset_free(&s->parked);
	salvo_mem_free(s->mem, s->verdict);
	salvo_mem_free(s->mem, s->verdict_err);
	salvo_mem_free(s->mem, s->block_crc);
	salvo_mem_free(s->mem, s->is_dir);
	salvo_mem_free(s->mem, s->have_digest);
	salvo_mem_free(s->mem, s->digest);
	salvo_mem_free(s->mem, s->manifest);
	salvo_mem_free(s->mem, s);
}

/* ------------------------------------------------------------ timing */

void ss_rate_seed(salvo_sender *s, uint64_t now)
{
	if (s->rate->seed)
		s->rate->seed(&s->rate_state, s->cfg.link_bps,
			      s->have_rtt ? s->srtt : 0, now);
}

void ss_rtt_sample(salvo_sender *s, uint64_t rtt)
{
	if (!rtt)
		rtt = 1;
	if (!s->have_rtt) {
		s->srtt = rtt;
		s->rttvar = rtt / 2;
		s->min_rtt = rtt;
		s->have_rtt = 1;
	} else {
		uint64_t d = rtt > s->srtt ? rtt - s->srtt : s->srtt - rtt;
		s->rttvar = (3 * s->rttvar + d) / 4;
		s->srtt = (7 * s->srtt + rtt) / 8;
		s->min_rtt = min64(s->min_rtt, rtt);
	}
}

/* A quarter RTT, but no more often than every 4 datagrams' worth of
 * pacing time, so heartbeats stay under 1 % of the bytes on slow links. */
static uint64_t base_status_interval(const salvo_sender *s)
{
	uint64_t srtt = s->have_rtt ? s->srtt : 100 * MS;
	uint64_t floor =
	    (uint64_t)((unsigned __int128)4 * s->cfg.datagram_bytes *
		       8000000000u / salvo_sender_pacing_rate(s));
	uint64_t t =
	    max64(srtt / 4, max64(floor, SALVO_STATUS_MIN_INTERVAL_NS));
	return min64(t, 250 * MS);
}

/* Bytes a range may be sent before the echoed STATUS and still count as
 * possibly in flight (reordering allowance). */
static uint64_t retx_margin(const salvo_sender *s)
{
	return max64(s->have_rtt ? s->srtt / 8 : 0, MS);
}

/* The time the window must cover: the RTT, or the STATUS interval when
 * that is longer.  The receiver acknowledges in answer to STATUS (and
 * about as often while data flows), so a byte waits up to an interval,
 * at least a millisecond, before a FEEDBACK can cover it.  On a long
 * path the interval is a quarter RTT and the RTT decides, as before.  On
 * loopback, RTT samples that end at the kernel's arrival and leave out
 * the receiver's hold read a few microseconds, and a window of 4 x srtt
 * held the sender to two blocks per FEEDBACK (1048-byte blocks: 16
 * Mbit/s).  The hold itself (the STATUS's wait in the receiver's socket
 * queue) stays out: the window is what keeps a receiver that falls
 * behind from being fed faster than it drains, and counting its queue
 * as loop would let the queue grow with itself until the socket drops
 * (defaults on loopback: 17-57 % of the bytes sent again). */
static uint64_t ack_loop(const salvo_sender *s)
{
	uint64_t rtt = s->have_rtt ? max64(s->srtt, s->min_rtt) : 100 * MS;
	return max64(rtt, base_status_interval(s));
}

static uint64_t window(const salvo_sender *s)
{
	if (s->cfg.window_bytes)
		return s->cfg.window_bytes;
	uint64_t rtt = ack_loop(s);
	unsigned __int128 bdp =
	    (unsigned __int128)salvo_sender_pacing_rate(s) * rtt / 8000000000u;
	/* the window counts stream bytes; compressed, a byte of the path
	 * carries cz_stream / cz_payload of them (at most 64) */
	if (s->cz_payload && s->cz_stream > s->cz_payload)
		bdp = bdp * min64(s->cz_stream, 64 * s->cz_payload) /
		      s->cz_payload;
	bdp *= 4;
	uint64_t w = bdp > UINT64_MAX / 2 ? UINT64_MAX / 2 : (uint64_t)bdp;
	return max64(w, 2ull * s->cfg.block_bytes);
}

static void probe_cancel(salvo_sender *s);
/* Stream bytes -> the DATA payload bytes that carry them at the recent
 * compression ratio (the same number when nothing is compressed): the
 * rate controllers reason in bytes that crossed the path. */
static uint64_t to_wire(const salvo_sender *s, uint64_t stream)
{
	if (!s->cz_payload || s->cz_stream <= s->cz_payload)
		return stream;
	return (uint64_t)((unsigned __int128)stream * s->cz_payload /
			  s->cz_stream);
}

/* ----------------------------------------------------------- packets */

/* The receiver host's drop total from a FEEDBACK (counted from the
 * session's start): its growth since the last one is added up for the
 * rate control.  A total that seems to go back (a reordered FEEDBACK:
 * the difference wraps past half the range) is skipped. */
static void note_host_drops(salvo_sender *s, uint32_t total)
{
	uint32_t d = total - s->drops_seen;
	if (d && d < UINT32_MAX / 2) {
		s->host_drops += d;
		s->drops_seen = total;
	}
}

/* arrival (<= now): when the FEEDBACK reached the host; the RTT sample
 * ends there, not when a thread got round to reading it. */
static void on_feedback(salvo_sender *s, const salvo_pkt *p, uint64_t arrival,
			uint64_t now)
{
	const salvo_pkt_feedback *fb = &p->u.feedback;
	/* seq grows by one per FEEDBACK sent: a lower one was overtaken */
	int newer = !s->have_fb_seq || (int32_t)(fb->seq - s->fb_seq) > 0;
	if (newer) {
		s->fb_seq = fb->seq;
		s->have_fb_seq = 1;
	}
	s->st.feedbacks++;
	s->last_fb = now;
	note_host_drops(s, fb->host_drops);
	s->status_interval = base_status_interval(s);
	uint64_t sample = 0;
	if (fb->echo_ts && fb->echo_ts > s->last_echo &&
	    fb->echo_ts <= arrival) {
		uint64_t hold = (uint64_t)fb->echo_hold_us * 1000;
		uint64_t rtt = arrival - fb->echo_ts;
		if (rtt > hold) {
			sample = rtt - hold;
			ss_rtt_sample(s, sample);
		}
		s->last_echo = fb->echo_ts;
	}
	if (s->phase == PH_MANIFEST && fb->phase == SALVO_PHASE_DATA) {
		s->phase = PH_DATA; /* receiver has the manifest */
		s->next_status = now;
	}
	salvo_txstream *t;
	if (s->phase == PH_MANIFEST && fb->phase == SALVO_PHASE_MANIFEST)
		t = &s->man;
	else if (s->phase == PH_DATA && fb->phase == SALVO_PHASE_DATA)
		t = &s->data;
	else
		return; /* stale */
	/* a newer FEEDBACK below our point: the receiver took bytes back
	 * (salvo_txstream_reopen).  Ignoring it left the block unsent and
	 * the window full for good (send_file_shrink.sh's stall). */
	if (t == &s->data && newer && fb->cum < t->cum &&
	    salvo_txstream_reopen(t, fb->cum)) {
		ss_fail(s, SALVO_ERR_NOMEM, 1);
		return;
	}
	uint64_t before = t->cum;
	uint64_t above = fb->recv_above_cum;
	if (t == &s->data) {
		/* held bytes past the cursor are not in flight */
		uint64_t h = ss_held_above(s, max64(t->next_new, fb->cum));
		above = above > h ? above - h : 0;
	}
	salvo_txstream_ack(t, fb->cum, above);
	if (t == &s->data) {
		salvo_rangeset_remove_below(&s->dup, t->cum);
		salvo_rangeset_remove_below(&s->parked, t->cum);
	}
	salvo_fb_iter it;
	salvo_range r;
	salvo_wire_feedback_iter(&it, fb);
	uint64_t lost = 0;
	while (salvo_wire_feedback_next(&it, &r)) {
		int64_t added = salvo_txstream_missing(
		    t, r.start, r.end, fb->echo_ts, retx_margin(s));
		if (added < 0) {
			ss_fail(s, SALVO_ERR_NOMEM, 1);
			return;
		}
		lost += (uint64_t)added;
	}
	if (t == &s->data)
		s->lost_bytes += lost;
	if (t == &s->data) {
		if (fb->digests_have > s->digests_acked &&
		    fb->digests_have <= s->file_count) {
			s->digests_acked = fb->digests_have;
			s->fd_next = max64(s->fd_next, s->digests_acked);
			s->fd_backoff = 0;
			if (ss_unpark(s)) {
				ss_fail(s, SALVO_ERR_NOMEM, 1);
				return;
			}
		}
		if (fb->files_done <= s->file_count &&
		    fb->files_done > s->files_done)
			s->files_done = fb->files_done;
		s->st.bytes_acked = t->cum;
		/* delivered: the new DATA datagrams the receiver counts, each
		 * a full payload (what the rate paces; a short one reads
		 * long, and the delivery rate is capped at what left).  Not
		 * the stream bytes it holds at the recent ratio: blocks
		 * compress apart (zeros 200x in datagrams of 280 bytes, text
		 * 2.6x in full ones), and while one lane's block of zeros had
		 * gone and the text lanes' had not, every text byte read as a
		 * 70th of its wire cost: start-up left at once, and delay mode
		 * held 2 Mbit/s for most of a VM image (tests/sim: lz4-blocks)
		 */
		uint64_t dr = fb->datagrams_received;
		if (s->held_rebase) {
			/* a new session counts from its own start */
			s->dgrams_seen = dr;
			s->held_rebase = 0;
		} else if (dr > s->dgrams_seen) {
			s->held_wire += (dr - s->dgrams_seen) * s->payload;
			s->dgrams_seen = dr;
		}
		s->lost_wire += to_wire(s, lost);
		salvo_rate_sample rs = {now,
					s->srtt,
					s->min_rtt,
					sample,
					to_wire(s, t->cum - before),
					s->data_datagrams,
					fb->datagrams_received,
					s->held_wire,
					s->lost_wire,
					s->payload,
					s->app_limited,
					s->host_drops,
					(uint64_t)fb->host_wait_us * 1000,
					(uint64_t)fb->train_kbps * 1000};
		s->app_limited = 0;
		s->rate->on_feedback(&s->rate_state, &rs);
		if (lost)
			s->rate->on_loss(&s->rate_state, to_wire(s, lost), now);
		if ((p->hdr.flags & SALVO_FB_F_COMPLETE) &&
		    t->cum == t->total && s->digests_acked == s->file_count &&
		    ss_prepared(s)) {
			s->phase = PH_DONE;
			s->files_done = s->file_count;
			s->close_pending = 1;
			s->close_reason = SALVO_CLOSE_DONE;
		}
	}
}

void ss_set_msg(salvo_sender *s, const char *msg, size_t len)
{
	if (len > SALVO_ERROR_MSG_MAX)
		len = SALVO_ERROR_MSG_MAX;
	for (size_t i = 0; i < len; i++) {
		char c = msg[i];
		s->peer_msg[i] = (c < 0x20 || c == 0x7f) ? '?' : c;
	}
	s->peer_msg[len] = 0;
}

int salvo_sender_on_packet(salvo_sender *s, void *buf, size_t len, uint64_t now)
{
	return salvo_sender_on_packet_at(s, buf, len, now, now);
}

int salvo_sender_on_packet_at(salvo_sender *s, void *buf, size_t len,
			      uint64_t arrival, uint64_t now)
{
	salvo_pkt_hdr h;
	salvo_pkt p;
	if (s->phase == PH_DONE || s->phase == PH_FAILED)
		return 0;
	if (salvo_wire_decode_header(buf, len, &h)) {
		s->st.malformed++;
		return 0;
	}
	/* nothing below reads a sealed body before its tag checked */
	if (salvo_wire_is_sealed(h.type)) {
		int err = ss_open(s, buf, len, &h);
		if (err == SALVO_ERR_REKEY) {
			ss_fail(s, err, 0);
			return err;
		}
		if (err) {
			if (err == SALVO_ERR_AUTH)
				s->st.auth_failures++;
			else
				s->st.malformed++;
			return 0;
		}
	}
	if (salvo_wire_decode(buf, len, &p)) {
		s->st.malformed++;
		return 0;
	}
	switch (p.hdr.type) {
	case SALVO_PKT_RESP:
	case SALVO_PKT_COOKIE:
	case SALVO_PKT_KEY:
		return ss_shake_on_packet(s, &p, len, now);
	case SALVO_PKT_FEEDBACK:
		s->last_rx = now;
		probe_cancel(s); /* the old session lives */
		on_feedback(s, &p, min64(arrival, now), now);
		return 0;
	case SALVO_PKT_VERDICT:
		s->last_rx = now;
		/* confirm what arrived soon: the receiver repeats the rest
		 * from our STATUS */
		if (ss_on_verdict(s, &p.u.verdict))
			s->next_status = min64(s->next_status, now);
		return 0;
	case SALVO_PKT_ERROR:
		s->peer_code = p.u.error.code;
		s->peer_errno = p.u.error.sys_errno;
		ss_set_msg(s, p.u.error.msg, p.u.error.msg_len);
		ss_fail(s, SALVO_ERR_PEER, 0);
		return SALVO_ERR_PEER;
	case SALVO_PKT_CLOSE:
		ss_fail(s, SALVO_ERR_ABORTED, 0);
		return SALVO_ERR_ABORTED;
	default:
		break;
	}
	s->st.malformed++; /* well-formed but not for us */
	return 0;
}

/* -------------------------------------------------------------- poll */

static int counted(salvo_sender *s, salvo_work *w, size_t n)
{
	w->kind = SALVO_WORK_CONTROL;
	w->len = n;
	s->datagrams_sent++;
	s->st.bytes_control += (uint64_t)n;
	return w->kind;
}

/* Encodes and seals a control packet on lane 0. */
static int control(salvo_sender *s, salvo_work *w, void *buf, size_t cap,
		   salvo_pkt *p)
{
	p->hdr.session = s->session;
	p->hdr.lane = 0;
	p->hdr.pn = salvo_aead_next_pn(&s->tx);
	int n = salvo_wire_encode(buf, cap, p);
	if (n < 0) {
		ss_fail(s, SALVO_ERR_INVAL, 0);
		w->kind = SALVO_WORK_FAILED;
		return w->kind;
	}
	int err = ss_seal(s, buf, (size_t)n);
	if (err) {
		ss_fail(s, err, 0);
		w->kind = SALVO_WORK_FAILED;
		return w->kind;
	}
	return counted(s, w, (size_t)n);
}

/* Where a's progress stands in the stream: its bytes below went out
 * (salvo_sender_work_progress). */
static uint64_t progress_at(const active_work *a)
{
	if (a->prog_range >= a->nranges) {
		const salvo_work_range *r = &a->ranges[a->nranges - 1];
		return r->stream_offset + r->len;
	}
	return a->ranges[a->prog_range].stream_offset + a->prog_off;
}

static uint64_t sent_through(const salvo_sender *s)
{
	uint64_t st = s->data.next_new;
	for (int i = 0; i < MAX_ACTIVE; i++)
		if (s->active[i].in_use && s->active[i].is_first)
			st = min64(st, progress_at(&s->active[i]));
	return st;
}

static int poll_status(salvo_sender *s, uint64_t now, salvo_work *w, void *buf,
		       size_t cap)
{
	salvo_pkt p;
	memset(&p, 0, sizeof(p));
	p.hdr.type = SALVO_PKT_STATUS;
	p.hdr.session = s->session;
	salvo_pkt_status *st = &p.u.status;
	st->phase =
	    s->phase == PH_MANIFEST ? SALVO_PHASE_MANIFEST : SALVO_PHASE_DATA;
	st->srtt_us =
	    s->have_rtt ? (uint32_t)min64(s->srtt / 1000, UINT32_MAX) : 0;
	st->ts = now ? now : 1;
	st->sent_through =
	    s->phase == PH_MANIFEST ? s->man.next_new : sent_through(s);
	st->datagrams_sent = 0;
	st->ranges_have = s->ranges_have;
	/* above the entry count: every verdict, and late failures */
	st->verdicts_have = s->verdicts_have;
	if (s->verdicts_have == s->file_count && s->late_have)
		st->verdicts_have = (uint32_t)min64(
		    (uint64_t)s->file_count + s->late_have, SALVO_FILES_MAX);
	/* back off while the receiver is silent, so an outage costs a
	 * heartbeat a second, not a flood */
	uint64_t base = base_status_interval(s);
	if (now - s->last_fb > 2 * (s->have_rtt ? s->srtt : 100 * MS) + base)
		s->status_interval = min64(max64(s->status_interval * 2, base),
					   SALVO_STATUS_MAX_INTERVAL_NS);
	else
		s->status_interval = base;
	s->next_status = now + s->status_interval;
	s->status_early = 0;
	return control(s, w, buf, cap, &p);
}

/* Digests one FILE_DONE carries. */
static uint32_t fd_room(const salvo_sender *s)
{
	return (uint32_t)((s->cfg.datagram_bytes - SALVO_HDR_BYTES - 6 -
			   SALVO_TAG_BYTES) /
			  SALVO_DIGEST_BYTES);
}

/* Digests sent and not yet acknowledged at most: two round trips of
 * FILE_DONE at the pacing rate, and FD_WINDOW_MIN_PACKETS.  Without a
 * bound, a million files' digests went out as one train of 22,000
 * packets, and the control thread, sending it, read none of the
 * receiver's FEEDBACK for minutes: the session ended as "receiver went
 * silent". */
static uint64_t fd_window(const salvo_sender *s)
{
	uint64_t rtt = s->have_rtt ? s->srtt : 100 * MS;
	unsigned __int128 bdp =
	    (unsigned __int128)salvo_sender_pacing_rate(s) * rtt / 8000000000u;
	uint64_t pkts = (uint64_t)min64(
	    (uint64_t)(2 * bdp / s->cfg.datagram_bytes), UINT32_MAX);
	return max64(pkts, FD_WINDOW_MIN_PACKETS) * fd_room(s);
}

/* How long the FILE_DONE packets out (sent, not acknowledged) take to
 * pace out at the pacing rate: each is a full datagram that waits its
 * turn there, so an acknowledgement can come that much later than an
 * RTT.  A tree of tiny files sends its digests with the rate the little
 * data left: on loopback (srtt 40 us) at 2.2 Mbit/s a FILE_DONE paced 5
 * ms apart was sent again after 1.5 RTT, the window again and again, and
 * a million files' digests took 14 minutes instead of two. */
static uint64_t fd_pacing_ns(const salvo_sender *s)
{
	uint64_t out =
	    s->fd_next > s->digests_acked ? s->fd_next - s->digests_acked : 0;
	uint64_t pkts = (out + fd_room(s) - 1) / fd_room(s);
	uint64_t rate = salvo_sender_pacing_rate(s);
	if (!pkts || !rate)
		return 0;
	unsigned __int128 ns = (unsigned __int128)pkts * s->cfg.datagram_bytes *
			       8000000000u / rate;
	/* room for the doubling back-off (at most 2^6) */
	return ns > UINT64_MAX / 128 ? UINT64_MAX / 128 : (uint64_t)ns;
}

/* FILE_DONE of files [first, first + count), flags as given. */
static int file_done(salvo_sender *s, uint32_t first, uint32_t count,
		     uint8_t flags, salvo_work *w, void *buf, size_t cap)
{
	salvo_pkt p;
	memset(&p, 0, sizeof(p));
	p.hdr.type = SALVO_PKT_FILE_DONE;
	p.hdr.flags = flags;
	p.u.file_done.first = first;
	p.u.file_done.count = (uint16_t)count;
	p.u.file_done.digests = s->digest[first];
	return control(s, w, buf, cap, &p);
}

static int poll_file_done(salvo_sender *s, uint64_t now, salvo_work *w,
			  void *buf, size_t cap)
{
	uint8_t flags = 0;
	uint64_t end = min64(s->digests_known, s->digests_acked + fd_window(s));
	uint32_t count = (uint32_t)min64(end - s->fd_next, fd_room(s));
	/* an abandoned file goes alone, flagged; a run stops before one */
	if (s->have_digest[s->fd_next] == SS_DIGEST_ABANDONED) {
		count = 1;
		flags = SALVO_FD_F_ABANDONED;
	}
	for (uint32_t k = 1; k < count; k++)
		if (s->have_digest[s->fd_next + k] == SS_DIGEST_ABANDONED)
			count = k;
	uint32_t first = s->fd_next;
	/* a flagged one goes twice in a row: until it lands, the receiver
	 * checks the file's blocks by their old CRCs, and one repaired
	 * with zeros fails each time it is fetched again (30 ms apart
	 * under send_file_shrink.sh, where one lost FILE_DONE let a block
	 * fail three times: the session failed, exit 5, 1 run in 60) */
	if (flags && s->fd_once != first + 1) {
		s->fd_once = first + 1;
	} else {
		s->fd_once = 0;
		s->fd_next += count;
	}
	if (!flags && first + count > s->fd_high)
		s->fd_high = first + count;
	s->fd_last_sent = now;
	return file_done(s, first, count, flags, w, buf, cap);
}

/* The next file abandoned after its digest went out (late_fd) whose
 * flagged FILE_DONE is due, or -1 (*due: when the next round is).  A
 * round sends each of them once, one per poll; rounds are wait apart,
 * doubling (at most 64 times), until the receiver restates the file
 * FAILED (its VERDICT: it dropped the part-file) or the session ends.
 * A receiver that had verified and committed the file before it heard
 * keeps it, and ignores them.  repair: a repair is next.  It may fetch
 * again a block of such a file that failed its old CRC (the receiver
 * holds the file's digest, so nothing acknowledges the flag and repairs
 * cannot wait for it): a round goes first unless one went within half
 * an RTT, so each fetch of the block has a copy of its own, and the
 * block fails three times only if three copies in a row are lost. */
static int64_t late_fd_take(salvo_sender *s, uint64_t now, uint64_t wait,
			    int repair, uint64_t *due)
{
	if (repair && now < s->late_fd_due &&
	    now - s->late_fd_sent >= s->srtt / 2) {
		s->late_fd_due = now;
		s->late_fd_next = 0;
	}
	while (!salvo_rangeset_is_empty(&s->late_fd)) {
		if (now < s->late_fd_due) {
			*due = min64(*due, s->late_fd_due);
			return -1;
		}
		size_t k =
		    salvo_rangeset_lower_bound(&s->late_fd, s->late_fd_next);
		if (k == s->late_fd.n) { /* the round is over */
			s->late_fd_next = 0;
			s->late_fd_due = now + (wait << s->late_fd_backoff);
			if (s->late_fd_backoff < 6)
				s->late_fd_backoff++;
			continue;
		}
		uint64_t i = max64(s->late_fd.r[k].start, s->late_fd_next);
		s->late_fd_next = i + 1;
		if (salvo_sender_verdict(s, (uint32_t)i, NULL) ==
			SALVO_VERDICT_FAILED &&
		    !salvo_rangeset_remove(&s->late_fd, i, i + 1))
			continue;
		s->late_fd_sent = now;
		return (int64_t)i;
	}
	return -1;
}

static int poll_manifest(salvo_sender *s, uint64_t now, salvo_work *w,
			 void *buf, size_t cap)
{
	salvo_txstream *t = &s->man;
	uint64_t start, end;
	int repair = !salvo_rangeset_is_empty(&t->retx);
	if (repair) {
		start = t->retx.r[0].start;
		end = min64(t->retx.r[0].end, start + s->chunk);
		salvo_rangeset_remove(&t->retx, start, end);
	} else if (t->next_new < t->total &&
		   (salvo_txstream_unacked(t) < window(s) ||
		    t->next_new == t->cum)) {
		start = t->next_new;
		end = min64(t->total, start + s->chunk);
		t->next_new = end;
	} else {
		return SALVO_WORK_IDLE;
	}
	if (salvo_txstream_mark(t, start, end, now, repair)) {
		ss_fail(s, SALVO_ERR_NOMEM, 1);
		return SALVO_WORK_FAILED;
	}
	salvo_pkt p;
	memset(&p, 0, sizeof(p));
	p.hdr.type = SALVO_PKT_MANIFEST;
	p.hdr.session = s->session;
	p.u.manifest.offset = (uint32_t)start;
	p.u.manifest.total = (uint32_t)t->total;
	p.u.manifest.bytes = s->manifest + start;
	p.u.manifest.len = (size_t)(end - start);
	return control(s, w, buf, cap, &p);
}

static int any_active(const salvo_sender *s)
{
	for (int i = 0; i < MAX_ACTIVE; i++)
		if (s->active[i].in_use)
			return 1;
	return 0;
}

static active_work *new_active(salvo_sender *s)
{
	for (int i = 0; i < MAX_ACTIVE; i++)
		if (!s->active[i].in_use) {
			active_work *a = &s->active[i];
			memset(a, 0, sizeof(*a));
			a->in_use = 1;
			a->id = ++s->next_work_id;
			return a;
		}
	return NULL;
}

static void add_range(active_work *a, const salvo_sender *s, uint64_t start,
		      uint64_t end)
{
	salvo_work_range *r = &a->ranges[a->nranges++];
	uint32_t b = (uint32_t)(start / s->cfg.block_bytes);
	r->block = b;
	r->offset = (uint32_t)(start - (uint64_t)b * s->cfg.block_bytes);
	r->len = (uint32_t)(end - start);
	r->stream_offset = start;
	r->block_crc = s->block_crc[b];
}

/* Fills a with queued retransmissions from q (the retransmission queue,
 * or the tail's second copies): ascending, split at block ends, at most
 * one block's worth of bytes (the engine's buffer).  Those of an
 * abandoned file the receiver may not know of yet wait (abandon.c). */
static void take_retx(salvo_sender *s, active_work *a, salvo_rangeset *q)
{
	salvo_txstream *t = &s->data;
	uint64_t budget = s->cfg.block_bytes;
	while (a->nranges < SALVO_WORK_MAX_RANGES && budget &&
	       !salvo_rangeset_is_empty(q)) {
		uint64_t bstart =
		    q->r[0].start / s->cfg.block_bytes * s->cfg.block_bytes;
		uint64_t bend = min64(t->total, bstart + s->cfg.block_bytes);
		/* whole datagrams: a hole next to held bytes (held.c) may
		 * start or end inside one */
		uint64_t start =
		    bstart + (q->r[0].start - bstart) / s->payload * s->payload;
		uint64_t hole_end = min64(q->r[0].end, bend);
		uint64_t end = min64(hole_end, start + budget);
		/* keep whole datagrams: a budget cut falls on a boundary */
		if (end < hole_end) {
			uint64_t len = (end - start) / s->payload * s->payload;
			if (!len)
				break;
			end = start + len;
		} else {
			end = min64(bend,
				    bstart + (end - bstart + s->payload - 1) /
						 s->payload * s->payload);
		}
		if (ss_repair_waits(s, start, end)) {
			if (ss_park(s, q, start, end)) {
				ss_fail(s, SALVO_ERR_NOMEM, 1);
				return;
			}
			continue;
		}
		add_range(a, s, start, end);
		salvo_rangeset_remove(q, start, end);
		budget -= min64(budget, end - start);
	}
}

/* New data may go: the receiver prepared the files (its verdicts are
 * here) and the window has room, or nothing is unacknowledged. */
static int new_data_ok(const salvo_sender *s)
{
	const salvo_txstream *t = &s->data;
	return t->next_new < t->total &&
	       (s->phase == PH_MANIFEST || ss_prepared(s)) &&
	       (salvo_txstream_unacked(t) + s->cfg.block_bytes <= window(s) ||
		t->next_new == t->cum);
}

int salvo_sender_may_have_work(salvo_sender *s)
{
	if (s->phase != PH_DATA || s->close_pending || s->reconnecting)
		return 1;
	if (!salvo_rangeset_is_empty(&s->data.retx) ||
	    !salvo_rangeset_is_empty(&s->dup))
		return 1;
	if (s->fd_next < s->digests_known &&
	    s->fd_next < s->digests_acked + fd_window(s))
		return 1;
	if (new_data_ok(s))
		return 1;
	/* as an idle poll would have found: nothing is going out, and it
	 * is not the path's doing (poll_data) */
	if (!any_active(s))
		s->app_limited = 1;
	return 0;
}

static int poll_data(salvo_sender *s, salvo_work *w)
{
	salvo_txstream *t = &s->data;
	int have_dup = !salvo_rangeset_is_empty(&s->dup);
	int have_retx = !salvo_rangeset_is_empty(&t->retx) || have_dup;
	/* in the data phase, new data waits for the receiver's verdicts */
	int can_new = new_data_ok(s);
	active_work *a = have_retx || can_new ? new_active(s) : NULL;
	if (a && !salvo_rangeset_is_empty(&t->retx))
		take_retx(s, a, &t->retx);
	if (a && !a->nranges && have_dup) {
		take_retx(s, a, &s->dup);
		a->is_dup = 1;
	}
	if (a && !a->nranges && can_new) {
		a->is_dup = 0;
		ss_take_new(s, a);
	}
	if (s->phase == PH_FAILED)
		return SALVO_WORK_FAILED;
	if (!a || !a->nranges) {
		/* nothing to send (every repair waits, or none): not the
		 * path's doing, unless another block-sender is still pacing
		 * out its item (then the pacer, not the data, sets the rate:
		 * with 4 MiB blocks and five threads some thread always finds
		 * nothing) */
		if (a)
			a->in_use = 0;
		if (!any_active(s))
			s->app_limited = 1;
		return SALVO_WORK_IDLE;
	}
	for (uint32_t i = 0; i < a->nranges; i++) {
		const salvo_work_range *r = &a->ranges[i];
		if (salvo_txstream_mark(t, r->stream_offset,
					r->stream_offset + r->len,
					SALVO_TX_PENDING, !a->is_first)) {
			ss_fail(s, SALVO_ERR_NOMEM, 1);
			return SALVO_WORK_FAILED;
		}
		if (a->is_first)
			s->st.bytes_new += r->len;
		else
			s->st.bytes_retx += r->len;
		uint64_t nd = (r->len + s->payload - 1) / s->payload;
		s->datagrams_sent += nd;
		s->data_datagrams += nd;
	}
	w->kind = SALVO_WORK_DATA;
	w->id = a->id;
	w->sent_datagrams = w->sent_wire_bytes = 0; /* the caller's to fill */
	w->is_new = a->is_new;
	w->is_first = a->is_first;
	w->nranges = a->nranges;
	memcpy(w->ranges, a->ranges, a->nranges * sizeof(a->ranges[0]));
	return w->kind;
}

/* Early data: while the receiver may still be reading the manifest, the
 * sender goes on with the first blocks when they are small (a block sent
 * before the receiver knows the files is dropped there and sent again
 * after its FEEDBACK, so the bet is kept to EARLY_DATA_BYTES).  It saves
 * the round trip of waiting for the data phase: a small transfer then
 * completes in two round trips, handshake included. */
static int early_data_ok(const salvo_sender *s)
{
	const salvo_txstream *t = &s->data;
	return t->next_new < t->total && t->cum == 0 &&
	       min64(t->total, t->next_new + s->cfg.block_bytes) <=
		   EARLY_DATA_BYTES;
}

/* ------------------------------------------------------- session loss */

/* The receiver's packets stopped for this long in the manifest or data
 * phase: the session may be lost (the receiver restarted) or the path
 * down (an outage).  INITs then probe for a new session beside the old
 * one; a RESP proves a receiver is there, and its session is adopted
 * only if the old one still does not answer a STATUS within the grace
 * after it (a receiver that merely lost its path answers both, and the
 * old session goes on).  A few RTOs, at least SS_LOST_MIN_NS. */
#define SS_LOST_MIN_NS (1500 * MS)
/* One adoption at most this often. */
#define SS_RECONNECT_GAP_NS (2000 * MS)
/* A refusal mid-transfer starts the probe once the receiver was silent
 * this long: the port is closed, no need to wait for the silence.  An
 * ICMP refusal anyone can forge costs INITs, never the session. */
#define SS_REFUSED_SILENT_NS (250 * MS)

static uint64_t rto(const salvo_sender *s)
{
	return s->have_rtt ? s->srtt + 4 * s->rttvar : 1000 * MS;
}

static uint64_t lost_after(const salvo_sender *s)
{
	return max64(4 * rto(s), SS_LOST_MIN_NS);
}

/* After a RESP: how long the old session has to answer. */
static uint64_t grace(const salvo_sender *s)
{
	return max64(2 * rto(s), 100 * MS);
}

/* The silence the receiver's prepare may add: from the manifest's last
 * chunk until the DATA phase.  Neither a failure nor a lost session
 * (probing then would only make the busy receiver prepare again). */
static uint64_t prepare_allowance(const salvo_sender *s)
{
	if (s->phase == PH_MANIFEST && s->man.next_new == s->man.total)
		return (uint64_t)s->file_count * PREPARE_NS_PER_ENTRY;
	return 0;
}

/* How long the receiver may be silent before the session fails. */
static uint64_t silence_limit(const salvo_sender *s)
{
	return s->cfg.timeout_ns + prepare_allowance(s);
}

static int may_probe(const salvo_sender *s, uint64_t now)
{
	return (s->phase == PH_MANIFEST || s->phase == PH_DATA) &&
	       !s->reconnecting && now - s->last_rx < silence_limit(s);
}

static void probe_start(salvo_sender *s, uint64_t now)
{
	s->reconnecting = 1;
	ss_shake_probe_start(s, now);
}

/* The old session answered: no new one. */
static void probe_cancel(salvo_sender *s)
{
	if (!s->reconnecting)
		return;
	s->reconnecting = 0;
	ss_shake_cancel(s);
}

/* The old session is gone: the pending one replaces it.  Everything the
 * receiver acknowledged belonged to the old one, so the streams start
 * over (a resuming receiver reports what it kept, and the scheduler skips
 * it); known digests stay, unsent.  Work the block-senders still hold
 * finishes against nothing (its id is forgotten).  The rate, the RTT
 * and the pinned key carry over. */
static void reconnect(salvo_sender *s, uint64_t now)
{
	s->reconnecting = 0;
	s->reconnect_at = now;
	s->st.reconnects++;
	if (ss_shake_adopt(s)) {
		ss_fail(s, SALVO_ERR_INVAL, 0);
		return;
	}
	salvo_txstream_free(&s->man);
	salvo_txstream_free(&s->data);
	salvo_txstream_init(&s->man, s->mem, s->manifest_len);
	salvo_txstream_init(&s->data, s->mem, s->st.total_bytes);
	for (int i = 0; i < MAX_ACTIVE; i++)
		s->active[i].in_use = 0;
	salvo_rangeset_remove_below(&s->dup, UINT64_MAX);
	salvo_rangeset_remove_below(&s->parked, UINT64_MAX);
	/* the new receiver session decides again what it holds */
	salvo_rangeset_remove_below(&s->held, UINT64_MAX);
	s->ranges_total = s->ranges_have = s->verdicts_have = 0;
	s->late_have = 0;
	s->digests_acked = s->fd_next = s->files_done = 0;
	s->fd_backoff = 0;
	s->fd_once = s->fd_high = 0;
	s->fd_last_sent = 0;
	/* FILE_DONE goes again from the first: abandoned ones flagged */
	salvo_rangeset_remove_below(&s->late_fd, UINT64_MAX);
	s->st.bytes_acked = 0;
	/* the rate samples pair our datagram count with the receiver's,
	 * which the new session starts from 0, and delivered bytes with
	 * what it holds */
	s->data_datagrams = 0;
	s->held_rebase = 1;
	s->drops_seen = 0; /* the new session counts from its start */
	s->have_fb_seq = 0;
	s->phase = PH_MANIFEST;
	s->last_rx = s->last_fb = now;
	s->next_status = now;
}

/* The probe's next step: an INIT due (its length), the adoption of a
 * pending session (-1: poll again), or 0 with *deadline. */
static int poll_probe(salvo_sender *s, uint64_t now, void *buf, size_t cap,
		      uint64_t *deadline)
{
	if (!s->pending)
		return ss_shake_probe(s, now, buf, cap, deadline);
	uint64_t at =
	    max64(s->resp_at + grace(s),
		  s->reconnect_at ? s->reconnect_at + SS_RECONNECT_GAP_NS : 0);
	if (now < at) {
		*deadline = at;
		return 0;
	}
	reconnect(s, now);
	return -1;
}

static int poll_any(salvo_sender *s, uint64_t now, salvo_work *w, void *buf,
		    size_t cap, int with_data);

int salvo_sender_poll(salvo_sender *s, uint64_t now, salvo_work *w, void *buf,
		      size_t cap)
{
	return poll_any(s, now, w, buf, cap, 1);
}

int salvo_sender_poll_control(salvo_sender *s, uint64_t now, salvo_work *w,
			      void *buf, size_t cap)
{
	return poll_any(s, now, w, buf, cap, 0);
}

static int poll_any(salvo_sender *s, uint64_t now, salvo_work *w, void *buf,
		    size_t cap, int with_data)
{
	memset(w, 0, offsetof(salvo_work, ranges));
	if (cap < s->cfg.datagram_bytes)
		return w->kind = SALVO_WORK_FAILED;
	if (s->close_pending) {
		salvo_pkt p;
		memset(&p, 0, sizeof(p));
		p.hdr.type = SALVO_PKT_CLOSE;
		p.hdr.session = s->session;
		p.u.close.reason = (uint8_t)s->close_reason;
		s->close_pending = 0;
		return control(s, w, buf, cap, &p);
	}
	if (s->phase == PH_DONE)
		return w->kind = SALVO_WORK_DONE;
	if (s->phase == PH_FAILED)
		return w->kind = SALVO_WORK_FAILED;

	if (s->phase == PH_KEY || s->phase == PH_HANDSHAKE) {
		int n = ss_shake_poll(s, now, buf, cap, &w->deadline);
		if (n > 0)
			return counted(s, w, (size_t)n);
		w->data_deadline = w->deadline; /* no heartbeats yet */
		return w->kind = n ? SALVO_WORK_FAILED : SALVO_WORK_IDLE;
	}
	if (now - s->last_rx >= silence_limit(s)) {
		ss_fail(s, SALVO_ERR_TIMEOUT, 1);
		return poll_any(s, now, w, buf, cap, with_data);
	}
	uint64_t probe_due = UINT64_MAX;
	if (now - s->last_rx >= lost_after(s) + prepare_allowance(s) &&
	    may_probe(s, now))
		probe_start(s, now);
	if (s->reconnecting) {
		int n = poll_probe(s, now, buf, cap, &probe_due);
		if (n < 0 && n != -1) {
			ss_fail(s, n, 0);
			return poll_any(s, now, w, buf, cap, with_data);
		}
		if (n == -1)
			return poll_any(s, now, w, buf, cap, with_data);
		if (n > 0)
			return counted(s, w, (size_t)n);
		/* the old session gets asked often while a RESP waits */
		if (s->pending && s->next_status > now + grace(s) / 4)
			s->next_status = now + grace(s) / 4;
	} else if (may_probe(s, now)) {
		probe_due = s->last_rx + lost_after(s) + prepare_allowance(s);
	}
	if (now >= s->next_status)
		return poll_status(s, now, w, buf, cap);

	uint64_t fd_due = UINT64_MAX;
	int man_sent = s->man.next_new == s->man.total;
	if (s->phase == PH_DATA || man_sent) {
		/* digests not acknowledged within ~1.5 RTT go again, and
		 * again after twice as long each time while none is: a
		 * FILE_DONE waits its turn at the pacer behind booked data,
		 * which an RTT measured by heartbeats does not show */
		uint64_t rtt = s->have_rtt ? s->srtt + 4 * s->rttvar : 200 * MS;
		/* (no doubling while repairs wait for them: abandon.c) */
		unsigned backoff =
		    salvo_rangeset_is_empty(&s->parked) ? s->fd_backoff : 0;
		uint64_t wait = (rtt + rtt / 2 + fd_pacing_ns(s)) << backoff;
		if (s->digests_acked < s->fd_next &&
		    now - s->fd_last_sent > wait) {
			s->fd_next = s->digests_acked;
			if (s->fd_backoff < 6)
				s->fd_backoff++;
		}
		if (s->fd_next < s->digests_known &&
		    s->fd_next < s->digests_acked + fd_window(s)) {
			/* FILE_DONE is a full datagram and waits at the
			 * pacer: the control thread leaves it to the
			 * block-senders, or the receiver's FEEDBACK would sit
			 * unread in its socket meanwhile, every RTT sample
			 * would grow by the wait, the rate would fall and the
			 * waits with it (a million files: srtt 23 s) */
			if (with_data)
				return poll_file_done(s, now, w, buf, cap);
		} else if (s->digests_acked < s->digests_known) {
			fd_due = s->fd_last_sent + wait + 1;
		}
		int repair = s->phase == PH_DATA &&
			     (!salvo_rangeset_is_empty(&s->data.retx) ||
			      !salvo_rangeset_is_empty(&s->dup));
		int64_t late = with_data ? late_fd_take(s, now, rtt + rtt / 2,
							repair, &fd_due)
					 : -1;
		if (late >= 0)
			return file_done(s, (uint32_t)late, 1,
					 SALVO_FD_F_ABANDONED, w, buf, cap);
	}
	if (with_data) {
		int k = s->phase == PH_MANIFEST
			    ? poll_manifest(s, now, w, buf, cap)
			    : poll_data(s, w);
		if (k == SALVO_WORK_IDLE && s->phase == PH_MANIFEST &&
		    man_sent && early_data_ok(s))
			k = poll_data(s, w);
		if (k != SALVO_WORK_IDLE)
			return k;
	}
	w->kind = SALVO_WORK_IDLE;
	w->data_deadline =
	    min64(fd_due, min64(s->last_rx + silence_limit(s), probe_due));
	w->deadline = min64(s->next_status, w->data_deadline);
	/* the tail: a repair's STATUS is due a margin after it went
	 * (tail_done), sooner than the control thread's wait may end */
	if (s->status_early)
		w->data_deadline = w->deadline;
	return w->kind;
}

/* What the caller reports it sent for a (w->sent_*: for the item's bytes
 * up to (range, off), cumulative) replaces the raw datagram count charged
 * at poll, and feeds the compression ratio.  Called as the item goes
 * (salvo_sender_work_progress) and when it is done: a compressed block
 * paces out for a while, and taken only at its end its ratio came late.
 * At the start of a compressed transfer the window (stream bytes at
 * that ratio) held two raw blocks, which text fills in a third of the
 * wire; start-up ran dry and, counting the raw datagrams as gone, read
 * the arrivals short and left at 70 % of the link (perf/alone --file
 * on a text log). */
static void account_sent(salvo_sender *s, active_work *a, const salvo_work *w,
			 uint32_t range, uint32_t off)
{
	uint64_t stream = 0, cut = 0;
	for (uint32_t j = 0; j < a->nranges && j <= range; j++) {
		uint64_t len =
		    j < range ? a->ranges[j].len : min64(off, a->ranges[j].len);
		stream += len;
		cut += (len + s->payload - 1) / s->payload;
	}
	if (stream < a->acc_stream)
		return; /* progress never goes back */
	uint64_t dg = w->sent_datagrams, wire = w->sent_wire_bytes;
	if (!dg || dg > cut || wire < dg * SALVO_DATA_OVERHEAD_BYTES) {
		dg = cut; /* raw, as cut (or a report that cannot be) */
		wire = stream + cut * SALVO_DATA_OVERHEAD_BYTES;
	}
	/* the raw count charged less what went: the part not charged yet */
	uint64_t saved = cut - dg, had = a->acc_cut - a->acc_dg;
	if (saved >= had) {
		s->datagrams_sent -= min64(s->datagrams_sent, saved - had);
		s->data_datagrams -= min64(s->data_datagrams, saved - had);
	} else {
		s->datagrams_sent += had - saved;
		s->data_datagrams += had - saved;
	}
	uint64_t pay = wire - dg * SALVO_DATA_OVERHEAD_BYTES;
	uint64_t pay0 = a->acc_wire - a->acc_dg * SALVO_DATA_OVERHEAD_BYTES;
	s->cz_stream += stream - a->acc_stream;
	s->cz_payload = pay >= pay0
			    ? s->cz_payload + (pay - pay0)
			    : s->cz_payload - min64(s->cz_payload, pay0 - pay);
	a->acc_stream = stream;
	a->acc_cut = cut;
	a->acc_dg = dg;
	a->acc_wire = wire;
	if (s->cz_stream > (64u << 20)) { /* keep the ratio recent */
		s->cz_stream /= 2;
		s->cz_payload /= 2;
	}
}

/* The last new data just went: what went in the last TAIL_PROBE_NS (or
 * an eighth of the RTT, if longer), newest first, goes a second time at
 * once, within half the tail's budget.  A loss there would be known an
 * RTT later at the earliest and cost two RTTs of tail; the copy is a
 * tail-loss probe sent before the loss could be known. */
static void probe_last(salvo_sender *s, uint64_t now)
{
	const salvo_rangeset *sent = &s->data.sent;
	uint64_t w = max64(TAIL_PROBE_NS, s->have_rtt ? s->srtt / 8 : 0);
	uint64_t budget = s->dup_budget / 2 / s->payload * s->payload;
	for (size_t i = sent->n; i-- > 0 && budget;) {
		const salvo_trange *r = &sent->r[i];
		if (r->tag == SALVO_TX_PENDING || r->tag + w < now)
			continue;
		/* the range's last whole datagrams (a block's last one may
		 * be short: it rides along, as take_retx sends it) */
		uint64_t len = min64(r->end - r->start, budget);
		uint64_t start = r->end - len;
		uint64_t bstart =
		    start / s->cfg.block_bytes * s->cfg.block_bytes;
		start = bstart + (start - bstart + s->payload - 1) /
				     s->payload * s->payload;
		if (start >= r->end)
			start =
			    max64(r->start, r->end - min64(r->end - r->start,
							   s->payload));
		if (salvo_rangeset_add(&s->dup, start, r->end, 0)) {
			ss_fail(s, SALVO_ERR_NOMEM, 1);
			return;
		}
		budget -= min64(budget, r->end - start);
		s->dup_budget -= min64(s->dup_budget, r->end - start);
	}
}

/* The tail: once no new data is left, the receiver hears soonest from a
 * STATUS what became of the last bytes.  One goes as each last new item
 * is done (its sent_through vouches for the block ends that no later
 * datagram follows), and one a reordering margin after each repair (the
 * FEEDBACK that echoes it shows whether the repair arrived), instead of
 * up to a quarter RTT later. */
static void tail_done(salvo_sender *s, const active_work *a, uint64_t now)
{
	if (s->phase != PH_DATA || s->data.next_new < s->data.total)
		return;
	uint64_t at = a->is_first ? now : now + retx_margin(s);
	s->next_status = min64(s->next_status, at);
	/* a repair's: the idle block-senders see that it goes (poll_any) */
	s->status_early |= !a->is_first;
	/* (every first transmission out: a small transfer hands out all its
	 * blocks at once, and its repairs while they go are no tail) */
	if (a->is_dup || sent_through(s) < s->data.total)
		return;
	if (a->is_first) {
		probe_last(s, now);
		return;
	}
	/* A repair lost in the tail costs a whole round more (its loss is
	 * known an RTT later), and the tail's repairs are few: each goes
	 * twice, the second copy as the next item, while the budget lasts
	 * (random loss: 1 % loses one of 70 repairs with p = 0.5, both
	 * copies of one with p = 0.007) */
	for (uint32_t j = 0; j < a->nranges && s->dup_budget; j++) {
		const salvo_work_range *r = &a->ranges[j];
		/* whole datagrams (take_retx sends no less) */
		uint64_t len =
		    min64(r->len, s->dup_budget / s->payload * s->payload);
		if (!len)
			break;
		if (r->stream_offset + len <= s->data.cum)
			continue;
		if (salvo_rangeset_add(&s->dup, r->stream_offset,
				       r->stream_offset + len, 0)) {
			ss_fail(s, SALVO_ERR_NOMEM, 1);
			return;
		}
		s->dup_budget -= min64(len, s->dup_budget);
	}
}

static active_work *find_active(salvo_sender *s, uint32_t id)
{
	for (int i = 0; i < MAX_ACTIVE; i++)
		if (s->active[i].in_use && s->active[i].id == id)
			return &s->active[i];
	return NULL;
}

/* Marks a's bytes from its progress up to (range, off) as sent at now and
 * moves its progress there (never back). */
static void mark_upto(salvo_sender *s, active_work *a, uint32_t range,
		      uint32_t off, uint64_t now)
{
	uint64_t tag = now ? now : 1;
	while (a->prog_range < a->nranges && a->prog_range <= range) {
		const salvo_work_range *r = &a->ranges[a->prog_range];
		uint32_t to = a->prog_range < range
				  ? r->len
				  : (uint32_t)min64(off, r->len);
		if (to <= a->prog_off)
			break;
		if (r->stream_offset + to > s->data.cum &&
		    salvo_txstream_mark(
			&s->data, r->stream_offset + a->prog_off,
			r->stream_offset + to, tag, !a->is_first))
			ss_fail(s, SALVO_ERR_NOMEM, 1);
		a->prog_off = to;
		if (to < r->len)
			break;
		a->prog_range++;
		a->prog_off = 0;
	}
}

void salvo_sender_work_progress(salvo_sender *s, const salvo_work *w,
				uint32_t block_crc, uint32_t range,
				uint32_t off, uint64_t now)
{
	active_work *a = find_active(s, w->id);
	if (!a)
		return;
	/* repairs of the block's early datagrams may go before it is done */
	if (a->is_new)
		s->block_crc[a->ranges[0].block] = block_crc;
	if (w->sent_datagrams)
		account_sent(s, a, w, range, off);
	mark_upto(s, a, range, off, now);
}

void salvo_sender_work_done(salvo_sender *s, const salvo_work *w,
			    uint32_t block_crc, uint64_t now)
{
	active_work *a = find_active(s, w->id);
	if (!a)
		return;
	if (a->is_new)
		s->block_crc[a->ranges[0].block] = block_crc;
	account_sent(s, a, w, a->nranges, 0);
	mark_upto(s, a, a->nranges, 0, now);
	a->in_use = 0;
	tail_done(s, a, now);
}

int salvo_sender_set_digest(salvo_sender *s, uint32_t i,
			    const uint8_t digest[SALVO_DIGEST_BYTES])
{
	if (i >= s->file_count || s->is_dir[i])
		return SALVO_ERR_INVAL;
	if (s->have_digest[i] == SS_DIGEST_ABANDONED)
		return 0; /* the digest of its zeros says nothing */
	memcpy(s->digest[i], digest, SALVO_DIGEST_BYTES);
	s->have_digest[i] = 1;
	while (s->digests_known < s->file_count &&
	       s->have_digest[s->digests_known])
		s->digests_known++;
	return 0;
}

int salvo_sender_abandon(salvo_sender *s, uint32_t i, int err)
{
	if (i >= s->file_count || s->is_dir[i])
		return SALVO_ERR_INVAL;
	if (s->have_digest[i] == SS_DIGEST_ABANDONED)
		return 0;
	if (ss_abandon_span(s, i))
		return SALVO_ERR_NOMEM;
	/* its digest went out already (a repair re-read it short; fd_next
	 * may have gone back since): the flagged FILE_DONE goes again
	 * until the receiver has it */
	if (s->have_digest[i] && (i < s->fd_next || i < s->fd_high)) {
		if (salvo_rangeset_add(&s->late_fd, i, (uint64_t)i + 1, 0))
			return SALVO_ERR_NOMEM;
		s->late_fd_due = 0;
		s->late_fd_next = 0;
		s->late_fd_backoff = 0;
	}
	uint32_t e = (uint32_t)(err < 0 ? -err : err);
	memset(s->digest[i], 0, SALVO_DIGEST_BYTES);
	s->digest[i][0] = (uint8_t)(e >> 24);
	s->digest[i][1] = (uint8_t)(e >> 16);
	s->digest[i][2] = (uint8_t)(e >> 8);
	s->digest[i][3] = (uint8_t)e;
	s->have_digest[i] = SS_DIGEST_ABANDONED;
	s->st.files_abandoned++;
	while (s->digests_known < s->file_count &&
	       s->have_digest[s->digests_known])
		s->digests_known++;
	return 0;
}

int salvo_sender_is_abandoned(const salvo_sender *s, uint32_t i)
{
	return i < s->file_count && s->have_digest &&
	       s->have_digest[i] == SS_DIGEST_ABANDONED;
}

void salvo_sender_on_refused(salvo_sender *s, uint64_t now)
{
	s->st.refusals++;
	if (s->phase != PH_KEY && s->phase != PH_HANDSHAKE) {
		/* mid-transfer: nobody listens, if the receiver is silent
		 * too: probe for a new session now; a forged refusal costs
		 * INITs, never the session */
		if (now - s->last_rx >=
			max64(4 * rto(s), SS_REFUSED_SILENT_NS) &&
		    may_probe(s, now))
			probe_start(s, now);
		else if (s->reconnecting && !s->pending)
			s->next_hs =
			    min64(s->next_hs, now + SALVO_REFUSED_RETRY_NS);
		return;
	}
	if (!s->reconnecting && ++s->refused_in_row >= SALVO_REFUSED_LIMIT) {
		s->refused = 1;
		ss_fail(s, SALVO_ERR_UNREACHABLE, 0);
		return;
	}
	s->next_hs = min64(s->next_hs, now + SALVO_REFUSED_RETRY_NS);
}

void salvo_sender_abort(salvo_sender *s)
{
	ss_fail(s, SALVO_ERR_ABORTED, 1);
}

uint32_t salvo_sender_caps(const salvo_sender *s)
{
	return s->caps;
}

uint32_t salvo_sender_session(const salvo_sender *s)
{
	return s->session;
}

/* The algorithm's rate within the bounds the user moved to, for one
 * that cannot take them itself (its own bounds are init's). */
static uint64_t within_limits(const salvo_sender *s, uint64_t r)
{
	if (!s->limits_moved || s->rate->set_limits)
		return r;
	if (s->ceiling_bps && r > s->ceiling_bps)
		r = s->ceiling_bps;
	if (r < s->floor_bps)
		r = s->ceiling_bps && s->floor_bps > s->ceiling_bps
			? s->ceiling_bps
			: s->floor_bps;
	return r;
}

uint64_t salvo_sender_pacing_rate(const salvo_sender *s)
{
	return within_limits(s, s->rate->pacing_rate(&s->rate_state));
}

int salvo_sender_set_rate_limits(salvo_sender *s, uint64_t ceiling_bps,
				 uint64_t floor_bps, uint64_t now)
{
	int fixed = s->rate == &salvo_rate_fixed_ops;
	if (fixed && !ceiling_bps)
		return SALVO_ERR_INVAL;
	if (fixed)
		floor_bps = 0; /* it has none */
	if (ceiling_bps > SALVO_RATE_NO_CEILING_BPS)
		ceiling_bps = SALVO_RATE_NO_CEILING_BPS;
	s->ceiling_bps = ceiling_bps;
	s->floor_bps = floor_bps;
	s->limits_moved = 1;
	if (s->rate->set_limits)
		s->rate->set_limits(&s->rate_state,
				    ceiling_bps ? ceiling_bps
						: SALVO_RATE_NO_CEILING_BPS,
				    floor_bps, now);
	return 0;
}

void salvo_sender_rate_snapshot(const salvo_sender *s, salvo_rate_snapshot *out)
{
	*out = (salvo_rate_snapshot){.rate_bps = salvo_sender_pacing_rate(s),
				     .min_rtt_ns = s->min_rtt,
				     .srtt_ns = s->srtt,
				     .state = s->rate->name,
				     .ceiling_bps = s->ceiling_bps,
				     .floor_bps = s->floor_bps};
	if (s->rate->snapshot)
		s->rate->snapshot(&s->rate_state, out);
	out->rate_bps = within_limits(s, out->rate_bps);
}

void salvo_sender_get_stats(const salvo_sender *s, salvo_sender_stats *st)
{
	*st = s->st;
	st->files_done = s->files_done;
	st->srtt_ns = s->srtt;
	st->min_rtt_ns = s->min_rtt;
	st->rttvar_ns = s->rttvar;
	st->phase = s->phase == PH_FAILED      ? 4
		    : s->phase <= PH_HANDSHAKE ? 0
					       : s->phase - 1;
	st->refused = s->refused;
	st->datagrams = s->datagrams_sent;
	st->rate_bps = salvo_sender_pacing_rate(s);
}

int salvo_sender_result(const salvo_sender *s, int *peer_code, int *peer_errno,
			const char **msg)
{
	if (peer_code)
		*peer_code = s->peer_code;
	if (peer_errno)
		*peer_errno = s->peer_errno;
	if (msg)
		*msg = s->peer_msg;
	return s->err;
}

int salvo_sender_held(const salvo_sender *s, size_t k, uint64_t *start,
		      uint64_t *end)
{
	if (k >= s->held.n)
		return 0;
	*start = s->held.r[k].start;
	*end = s->held.r[k].end;
	return 1;
}
