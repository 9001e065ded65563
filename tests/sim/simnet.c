/*
 * The simulator's engines and event loop (see simnet.h).
 *
 * Sender side: per sender, a core, a pacer shared by all its lanes, a
 * FIFO of paced control packets and `lanes` block-sender lanes that each
 * hold one work item.  A lane cuts its item into datagrams and pacer
 * bookings with the engine's own code (sender/core/emit.h: the same
 * headers, batches, batch-per-rate rule and IP+UDP charge) and sends each
 * batch as one burst at the instant the pacer booked, as the engine's
 * emitter does after its sleep.  Byte o of sender k's stream is a
 * function of (seed, k, o), generated once, so the receiver's copy can be
 * checked at the end.  A file's digest reaches the core once every new
 * block holding a piece of it was sent, as the engine's block-senders
 * hash the blocks they send.
 *
 * Receiver side: one core; writes go to a per-session buffer; block CRC
 * checks and file BLAKE3 checks run as delayed events, as a verifier
 * thread would answer.
 *
 * Keys and packet protection are the real ones (protocol 3): every
 * sender and the receiver have key pairs drawn from the seed, the
 * handshake is Noise IK, each lane seals its datagrams with its own key
 * as the engine's block-senders do, and the receiver core opens them.
 * A corrupted datagram fails its tag; a duplicated one its replay window.
 *
 * The loop advances virtual time to the earliest pending event and
 * processes everything due then.  Nothing depends on the wall clock.
 */
#include "tests/sim/simnet.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/blake3.h"
#include "common/core/crc32c.h"
#include "common/core/error.h"
#include "common/core/limits.h"
#include "common/core/lz4piece.h"
#include "common/core/rate.h"
#include "common/core/pacer.h"
#include "common/core/rangeset.h"
#include "common/crypto/aead.h"
#include "common/crypto/noise.h"
#include "receiver/core/receiver.h"
#include "sender/core/emit.h"
#include "sender/core/sender.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define VERIFY_DELAY_NS 50000ull
#define SIM_BATCH_DEFAULT 32 /* the engine's default network.batch */
/* ChaCha20-Poly1305 on both sides: the same on every CPU */
#define SIM_SUITES SALVO_AEAD_MASK(SALVO_AEAD_CHACHA20_POLY1305)
#define SIM_V2_DATA_HDR_BYTES 24 /* what the byte bound was made for */
#define SIM_EPOCH_NS (UINT64_C(1700000000) * 1000000000u)

/* ------------------------------------------------------------ content */

static uint64_t mix(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Fills out with bytes [off, off+len) of the stream keyed by key: byte o
 * is byte o%8 (little-endian) of mix(key ^ (o/8) * golden). */
static void gen(uint64_t key, uint64_t off, uint8_t *out, size_t len)
{
	while (len && off % 8) {
		uint64_t w = mix(key ^ (off / 8) * 0x9e3779b97f4a7c15ull);
		*out++ = (uint8_t)(w >> (8 * (off % 8)));
		off++;
		len--;
	}
	for (; len >= 8; len -= 8, off += 8, out += 8) {
		uint64_t w = mix(key ^ (off / 8) * 0x9e3779b97f4a7c15ull);
		uint8_t b[8];
		for (int i = 0; i < 8; i++)
			b[i] = (uint8_t)(w >> (8 * i));
		memcpy(out, b, 8);
	}
	for (uint64_t w = mix(key ^ (off / 8) * 0x9e3779b97f4a7c15ull); len;
	     len--, off++)
		*out++ = (uint8_t)(w >> (8 * (off % 8)));
}

/* --------------------------------------------------------------- world */

/* A block-sender: one work item at a time, read into its buffer and sent
 * a batch at a time at the instants the shared pacer books, as the
 * engine's emitter does (both cut the item with sender/core/emit.h). */
typedef struct lane {
	int busy;
	salvo_work w;
	uint8_t *buf;	 /* one block: the item's ranges back to back */
	salvo_aead aead; /* this lane's key, once the handshake is done */
	int keyed;
	salvo_emit e;
	uint8_t *out;	     /* the sealed batch */
	salvo_emit_dgram *d; /* the batch waiting for next_at */
	uint32_t n;
	uint64_t next_at;
} lane;

typedef struct ctlpkt {
	uint8_t *buf;
	size_t len;
	uint64_t at;
} ctlpkt;

typedef struct simsender {
	int idx;
	uint64_t key;
	salvo_sender *core;
	salvo_pacer pacer;
	lane lanes[SIM_MAX_LANES];
	salvo_work backlog;
	int has_backlog, need_poll;
	uint64_t poll_at;
	ctlpkt *ctl;
	size_t nctl, ctl_head, ctl_cap;
	salvo_entry *entries;
	char **names;
	uint32_t nentries;
	uint8_t (*digest)[32];
	uint32_t next_digest;
	uint8_t *block_sent;   /* new blocks whose every datagram left */
	uint8_t *block_failed; /* sc->verify_fail: first check failed */
	/* sc->shrink: the first file shrank; flagged FILE_DONE lost */
	int shrunk;
	uint32_t fd_lost;
	uint64_t hashed; /* the stream prefix those blocks cover */
	uint64_t total;
	uint8_t *content; /* the stream: gen(key, 0, ..., total) */
	int finished, result;
	uint64_t finished_at;
	uint64_t last_new_at; /* the last first transmission left (tail) */
	uint64_t sent_bytes, datagrams;
	/* what the receiver holds before the session (sc->held) */
	salvo_rangeset held;
	uint8_t *skipped; /* per entry: verdict IDENTICAL */
	uint32_t files_skipped;
	/* receiver's copy */
	uint8_t *rx;
	int rx_ended, rx_result;
	uint32_t files_committed;
} simsender;

typedef struct rxevent {
	uint64_t at;
	int kind; /* 0 block, 1 file */
	uint32_t session, idx;
	int sender;
	uint64_t start;
	uint32_t len, crc;
	int check_crc;
	uint8_t digest[32];
} rxevent;

typedef struct world {
	const sim_scenario *sc;
	int verbose;
	uint64_t now;
	uint64_t rng; /* the cores' randomness: keys, indexes, cookies */
	uint8_t rx_priv[32], rx_pub[32];
	uint8_t room[SALVO_DATA_LZ4_MAX_BYTES]; /* LZ4 pieces inflate here:
						   rx_write copies at once */
	simlink fwd, rev;
	salvo_receiver *rcv;
	simsender s[SIM_MAX_SENDERS];
	rxevent *ev;
	size_t nev, ev_head, ev_cap;
	char err[512];
} world;

static void trace(world *w, const char *fmt, ...)
{
	if (!w->verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "[%10.3f ms] ", (double)w->now / 1e6);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void failf(world *w, const char *fmt, ...)
{
	if (w->err[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p)
		abort();
	return p;
}

/* ------------------------------------------------------- receiver cbs */

static void sim_random(void *ud, void *buf, size_t n)
{
	world *w = ud;
	uint8_t *p = buf;
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)sim_rand(&w->rng);
}

/* Every sender here is anonymous and allowed. */
static int rx_authorize(void *ud, const uint8_t key[32],
			salvo_receiver_auth *auth)
{
	(void)ud;
	(void)key;
	memset(auth, 0, sizeof(*auth));
	return 0;
}

/* A key pair from the seed. */
static void sim_keypair(world *w, uint8_t priv[32], uint8_t pub[32])
{
	do
		sim_random(w, priv, 32);
	while (salvo_noise_public_key(pub, priv));
}

static int sender_of(const salvo_rsess *sess)
{
	return salvo_rsess_peer(sess)->bytes[0];
}

static void rx_send(void *ud, const salvo_addr *a, const void *buf, size_t len)
{
	world *w = ud;
	simlink_send(&w->rev, -1, a->bytes[0], buf, len, w->now);
}

static int rx_prepare(void *ud, salvo_rsess *sess, const salvo_manifest *m,
		      char *err, size_t errlen)
{
	world *w = ud;
	(void)err;
	(void)errlen;
	simsender *s = &w->s[sender_of(sess)];
	if (s->rx)
		failf(w, "sender %d: prepared twice", s->idx);
	s->rx = xcalloc(m->total_bytes, 1);
	trace(w, "rx: session %08x prepared %u entries", salvo_rsess_id(sess),
	      m->count);
	/* what it holds is on its disk already, and it says so */
	for (uint32_t i = 0; i < s->nentries; i++)
		if (s->skipped[i] && salvo_rsess_set_verdict(
					 sess, i, SALVO_VERDICT_IDENTICAL, 0))
			failf(w, "set_verdict refused");
	for (size_t k = 0; k < s->held.n; k++) {
		const salvo_trange *r = &s->held.r[k];
		memcpy(s->rx + r->start, s->content + r->start,
		       r->end - r->start);
		if (salvo_rsess_mark_present(sess, r->start, r->end))
			failf(w, "mark_present refused");
	}
	return 0;
}

static int rx_write(void *ud, salvo_rsess *sess, uint32_t file, uint64_t offset,
		    const void *data, size_t len, char *err, size_t errlen)
{
	world *w = ud;
	(void)err;
	(void)errlen;
	const salvo_manifest *m = salvo_rsess_manifest(sess);
	simsender *s = &w->s[sender_of(sess)];
	const salvo_entry *e = &m->entries[file];
	if (offset + len > e->size) {
		failf(w, "write past the end of file %u", file);
		return -5;
	}
	memcpy(s->rx + e->stream_offset + offset, data, len);
	return 0;
}

static uint8_t *rx_inflate_buf(void *ud, salvo_rsess *sess, size_t len)
{
	world *w = ud;
	(void)sess;
	return len <= sizeof(w->room) ? w->room : NULL;
}

/* Compressible content for compression runs: runs of 2^shift bytes
 * (64 KiB unless the scenario says) of random bytes, zeros, and a
 * repeated line with a few random bytes in it. */
static void make_compressible(uint8_t *p, uint64_t n, uint32_t shift)
{
	static const char line[] = "2026-12-06 INFO request done status=200\n";
	if (!shift)
		shift = 16;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t run = (i >> shift) % 3;
		if (run == 1)
			p[i] = 0;
		else if (run == 0 && p[i] >= 16)
			p[i] = (uint8_t)line[i % (sizeof(line) - 1)];
	}
}

static void push_event(world *w, rxevent ev)
{
	if (w->nev == w->ev_cap) {
		w->ev_cap = w->ev_cap ? 2 * w->ev_cap : 64;
		w->ev = realloc(w->ev, w->ev_cap * sizeof(*w->ev));
		if (!w->ev)
			abort();
	}
	w->ev[w->nev++] = ev;
}

static void rx_verify(void *ud, salvo_rsess *sess, uint32_t block,
		      uint64_t start, uint32_t len, uint32_t crc, int check_crc)
{
	world *w = ud;
	rxevent ev = {.at = w->now + (w->sc->verify_fail ? SIM_VERIFY_LATE_NS
							 : VERIFY_DELAY_NS),
		      .kind = 0,
		      .session = salvo_rsess_id(sess),
		      .idx = block,
		      .sender = sender_of(sess),
		      .start = start,
		      .len = len,
		      .crc = crc,
		      .check_crc = check_crc};
	push_event(w, ev);
}

static void rx_finalize(void *ud, salvo_rsess *sess, uint32_t file,
			const uint8_t digest[32])
{
	world *w = ud;
	const salvo_entry *e = &salvo_rsess_manifest(sess)->entries[file];
	rxevent ev = {.at = w->now + VERIFY_DELAY_NS,
		      .kind = 1,
		      .session = salvo_rsess_id(sess),
		      .idx = file,
		      .sender = sender_of(sess),
		      .start = e->stream_offset,
		      .len = 0};
	memcpy(ev.digest, digest, 32);
	/* the length may exceed u32: recomputed from the manifest below */
	push_event(w, ev);
}

static void rx_end(void *ud, salvo_rsess *sess, int result, const char *msg)
{
	world *w = ud;
	simsender *s = &w->s[sender_of(sess)];
	s->rx_ended = 1;
	s->rx_result = result;
	trace(w, "rx: session %08x ended: %d %s", salvo_rsess_id(sess), result,
	      msg);
}

static void run_event(world *w, const rxevent *ev)
{
	simsender *s = &w->s[ev->sender];
	if (ev->kind == 0) {
		uint32_t crc = salvo_crc32c(0, s->rx + ev->start, ev->len);
		int ok = !ev->check_crc || crc == ev->crc;
		uint32_t every = w->sc->verify_fail;
		if (every && ev->idx % every == 0 &&
		    !s->block_failed[ev->idx]) {
			s->block_failed[ev->idx] = 1;
			ok = 0;
		}
		salvo_receiver_block_result(w->rcv, ev->session, ev->idx, ok,
					    w->now);
		return;
	}
	const salvo_entry *e = &s->entries[ev->idx];
	uint8_t d[32];
	salvo_blake3_hash(s->rx + e->stream_offset, (size_t)e->size, d);
	int ok = !memcmp(d, ev->digest, 32);
	if (ok)
		s->files_committed++;
	salvo_receiver_file_result(w->rcv, ev->session, ev->idx,
				   ok ? 0 : SALVO_ERR_VERIFY, NULL, w->now);
}

/* --------------------------------------------------------- sender side */

static void send_fwd(world *w, simsender *s, const void *buf, size_t len,
		     uint64_t at)
{
	s->sent_bytes += len;
	simlink_send(&w->fwd, s->idx, -1, buf, len, at);
}

static void ctl_push(simsender *s, const void *buf, size_t len, uint64_t at)
{
	if (s->nctl == s->ctl_cap) {
		s->ctl_cap = s->ctl_cap ? 2 * s->ctl_cap : 16;
		s->ctl = realloc(s->ctl, s->ctl_cap * sizeof(*s->ctl));
		if (!s->ctl)
			abort();
	}
	uint8_t *copy = malloc(len);
	if (!copy)
		abort();
	memcpy(copy, buf, len);
	s->ctl[s->nctl++] = (ctlpkt){copy, len, at};
}

static uint32_t batch_max(const world *w)
{
	return w->sc->batch ? w->sc->batch : SIM_BATCH_DEFAULT;
}

static uint32_t overhead(const world *w)
{
	return salvo_ip_udp_overhead(w->sc->v6);
}

/* Books the lane's next batch, or ends its work item. */
static void lane_next(world *w, simsender *s, lane *l)
{
	uint64_t booking;
	l->n = salvo_emit_next(&l->e, l->out, l->d, &booking);
	if (l->n) {
		l->next_at = salvo_pacer_reserve(&s->pacer, booking, w->now);
		return;
	}
	if (l->e.err) {
		failf(w, "sender %d: sealing failed: %s", s->idx,
		      salvo_strerror(l->e.err));
		salvo_sender_abort(s->core);
	}
	l->w.sent_datagrams = l->e.datagrams;
	l->w.sent_wire_bytes = l->e.wire_bytes;
	salvo_sender_work_done(s->core, &l->w, l->e.block_crc, w->now);
	if (l->w.is_new) /* the engine hashes a new block once it is sent */
		s->block_sent[l->w.ranges[0].block] = 1;
	if (l->w.is_first) /* as the engine's last_new_ns */
		s->last_new_at = w->now;
	trace(w, "sender %d lane %d: %s done, %u ranges from %llu", s->idx,
	      (int)(l - s->lanes), l->w.is_first ? "new" : "repair",
	      l->w.nranges, (unsigned long long)l->w.ranges[0].stream_offset);
	l->busy = 0;
	s->need_poll = 1;
}

/* No datagram of bytes the receiver holds goes out, but the early data
 * (sent before the sender can know) and retransmissions it asked for. */
static void check_not_held(world *w, simsender *s, const salvo_work *wk)
{
	uint32_t p = salvo_wire_payload_bytes(w->sc->datagram_bytes);
	for (uint32_t i = 0; i < wk->nranges; i++) {
		const salvo_work_range *r = &wk->ranges[i];
		for (uint64_t o = 0; o < r->len; o += p) {
			uint64_t a = r->stream_offset + o;
			uint64_t b = a + (r->len - o < p ? r->len - o : p);
			if (b > (8u << 10) &&
			    salvo_rangeset_covers(&s->held, a, b))
				failf(w,
				      "sender %d sent held bytes [%llu, %llu)",
				      s->idx, (unsigned long long)a,
				      (unsigned long long)b);
		}
	}
}

/* sc->shrink: the first file's source shrinks to SIM_SHRINK_KEEP
 * bytes.  Every read from now on finds zeros past them, and the sender
 * gives the file up, as the engine's reader does. */
static void shrink(world *w, simsender *s)
{
	const salvo_entry *e = &s->entries[0];
	s->shrunk = 1;
	memset(s->content + e->stream_offset + SIM_SHRINK_KEEP, 0,
	       e->size - SIM_SHRINK_KEEP);
	int err = salvo_sender_abandon(s->core, 0, -EIO);
	if (err)
		failf(w, "sender %d: abandon: %s", s->idx, salvo_strerror(err));
	trace(w, "sender %d: file 0 shrank, abandoned", s->idx);
}

/* sc->shrink: the link loses the first flagged FILE_DONE packets. */
static int shrink_loses(world *w, simsender *s, const ctlpkt *c)
{
	if (!w->sc->shrink || s->fd_lost >= w->sc->shrink ||
	    c->buf[1] != SALVO_PKT_FILE_DONE ||
	    !(c->buf[2] & SALVO_FD_F_ABANDONED))
		return 0;
	s->fd_lost++;
	trace(w, "sender %d: flagged FILE_DONE lost", s->idx);
	return 1;
}

static void lane_start(world *w, simsender *s, lane *l)
{
	l->busy = 1;
	l->w = s->backlog;
	check_not_held(w, s, &l->w);
	if (w->sc->shrink && !s->shrunk && l->w.is_first &&
	    l->w.ranges[0].stream_offset >= s->entries[0].size / 4)
		shrink(w, s);
	s->has_backlog = 0;
	s->need_poll = 1;
	size_t pos = 0;
	for (uint32_t i = 0; i < l->w.nranges; i++) {
		const salvo_work_range *r = &l->w.ranges[i];
		memcpy(l->buf + pos, s->content + r->stream_offset, r->len);
		pos += r->len;
	}
	uint32_t batch =
	    salvo_emit_batch_for_rate(batch_max(w), s->pacer.rate_bps,
				      w->sc->datagram_bytes, overhead(w));
	if (!l->keyed) {
		int err = salvo_sender_lane(
		    s->core, (uint32_t)(l - s->lanes) + 1, &l->aead);
		if (err)
			failf(w, "sender %d: no lane key: %s", s->idx,
			      salvo_strerror(err));
		l->keyed = !err;
		l->aead.next_pn = w->sc->lane_pn_start;
	}
	salvo_emit_init(&l->e, &l->w, l->buf, salvo_sender_session(s->core),
			&l->aead, (uint8_t)(l - s->lanes + 1),
			w->sc->datagram_bytes, overhead(w), batch);
	if (salvo_sender_caps(s->core) & SALVO_CAP_LZ4)
		salvo_emit_compress(&l->e, w->sc->compress);
	lane_next(w, s, l);
}

static void lane_send(world *w, simsender *s, lane *l)
{
	for (uint32_t i = 0; i < l->n; i++) {
		const salvo_emit_dgram *g = &l->d[i];
		send_fwd(w, s, l->out + g->out_offset, g->len, w->now);
		s->datagrams++;
	}
	/* as the engine's emitter: the batch is out, and what it cost */
	l->w.sent_datagrams = l->e.datagrams;
	l->w.sent_wire_bytes = l->e.wire_bytes;
	salvo_sender_work_progress(s->core, &l->w, l->e.block_crc, l->e.range,
				   l->e.off, w->now);
	lane_next(w, s, l);
}

static void sender_poll(world *w, simsender *s)
{
	uint8_t buf[SALVO_DATAGRAM_MAX_BYTES];
	salvo_sender_stats st;
	uint64_t rate = salvo_sender_pacing_rate(s->core);
	if (rate != s->pacer.rate_bps && s->pacer.rate_bps)
		trace(w, "sender %d: rate %.1f Mbit/s", s->idx,
		      (double)rate / 1e6);
	s->pacer.rate_bps = rate;
	while (!s->finished && !s->has_backlog) {
		salvo_work wk;
		int k =
		    salvo_sender_poll(s->core, w->now, &wk, buf, sizeof(buf));
		if (k == SALVO_WORK_CONTROL) {
			/* small control packets jump the pacing queue (they
			 * carry the timestamps RTT is measured with) but are
			 * still charged to it; manifest chunks wait their turn
			 */
			uint64_t at = salvo_pacer_reserve(
			    &s->pacer,
			    salvo_emit_wire_bytes(wk.len, overhead(w)), w->now);
			ctl_push(s, buf, wk.len,
				 wk.len <= SALVO_CONTROL_UNPACED_BYTES ? w->now
								       : at);
			continue;
		}
		if (k == SALVO_WORK_DATA) {
			s->backlog = wk;
			s->has_backlog = 1;
			break;
		}
		if (k == SALVO_WORK_IDLE) {
			s->poll_at = wk.deadline;
			break;
		}
		s->finished = 1;
		s->finished_at = w->now;
		s->result = salvo_sender_result(s->core, NULL, NULL, NULL);
		salvo_sender_get_stats(s->core, &st);
		trace(w,
		      "sender %d: %s (%s) srtt %.2f ms; control %llu B, data "
		      "%llu new + %llu again",
		      s->idx, k == SALVO_WORK_DONE ? "DONE" : "FAILED",
		      salvo_strerror(s->result), (double)st.srtt_ns / 1e6,
		      (unsigned long long)st.bytes_control,
		      (unsigned long long)st.bytes_new,
		      (unsigned long long)st.bytes_retx);
	}
	/* lanes busy: the control thread still sends heartbeats on time */
	while (!s->finished && s->has_backlog && w->now >= s->poll_at) {
		salvo_work wk;
		int k = salvo_sender_poll_control(s->core, w->now, &wk, buf,
						  sizeof(buf));
		if (k == SALVO_WORK_CONTROL) {
			salvo_pacer_reserve(
			    &s->pacer,
			    salvo_emit_wire_bytes(wk.len, overhead(w)), w->now);
			ctl_push(s, buf, wk.len, w->now);
			continue;
		}
		s->poll_at = k == SALVO_WORK_IDLE ? wk.deadline : UINT64_MAX;
		break;
	}
	s->need_poll = 0;
	/* a file's digest is known once every new block holding a piece of
	 * it was sent (and so hashed, by the engine's block-senders) */
	uint64_t nblocks = salvo_block_count(s->total, w->sc->block_bytes);
	uint64_t b = s->hashed / w->sc->block_bytes;
	while (b < nblocks && s->block_sent[b])
		s->hashed = salvo_block_start(++b, w->sc->block_bytes);
	while (s->next_digest < s->nentries) {
		const salvo_entry *e = &s->entries[s->next_digest];
		if (e->type == SALVO_ENTRY_FILE) {
			if (e->size && e->stream_offset + e->size > s->hashed)
				break;
			salvo_sender_set_digest(s->core, s->next_digest,
						s->digest[s->next_digest]);
			s->need_poll = 1;
		}
		s->next_digest++;
	}
}

static void sender_step(world *w, simsender *s)
{
	while (s->ctl_head < s->nctl && s->ctl[s->ctl_head].at <= w->now) {
		ctlpkt *c = &s->ctl[s->ctl_head++];
		if (shrink_loses(w, s, c))
			s->sent_bytes += c->len;
		else
			send_fwd(w, s, c->buf, c->len, w->now);
		free(c->buf);
	}
	if (s->ctl_head == s->nctl)
		s->ctl_head = s->nctl = 0;
	for (int i = 0; i < w->sc->lanes && !s->finished; i++) {
		lane *l = &s->lanes[i];
		while (l->busy && l->next_at <= w->now)
			lane_send(w, s, l);
	}
	for (int round = 0; round < 4; round++) {
		if (s->need_poll || w->now >= s->poll_at)
			sender_poll(w, s);
		for (int i = 0; i < w->sc->lanes && s->has_backlog; i++)
			if (!s->lanes[i].busy)
				lane_start(w, s, &s->lanes[i]);
		if (!s->need_poll)
			break;
	}
}

static uint64_t sender_next(const world *w, const simsender *s)
{
	uint64_t t = UINT64_MAX;
	if (s->ctl_head < s->nctl)
		t = s->ctl[s->ctl_head].at;
	/* a finished session's lanes stop (the engine's pacer does), even
	 * with the tail's second copies still in hand */
	if (s->finished)
		return t;
	for (int i = 0; i < w->sc->lanes; i++)
		if (s->lanes[i].busy && s->lanes[i].next_at < t)
			t = s->lanes[i].next_at;
	if (s->need_poll)
		return w->now;
	if (s->poll_at < t)
		t = s->poll_at;
	return t;
}

/* ------------------------------------------------------------- set-up */

static const char *const tree_names[] = {
    "report", "data set",  "été",	   "日本語", "a b c",
    "x",      "notes.txt", "img_0001.raw", "-dash",  "Ünïcødé",
};

/* What the receiver holds (sc->held), decided from the sender's key. */
static void choose_held(world *w, simsender *s)
{
	const sim_scenario *sc = w->sc;
	uint32_t bb = sc->block_bytes;
	salvo_rangeset_init(&s->held, &salvo_mem_libc);
	s->skipped = xcalloc(s->nentries, 1);
	if (sc->held == 1)
		for (uint32_t i = 0; i < s->nentries; i++) {
			const salvo_entry *e = &s->entries[i];
			if (e->type != SALVO_ENTRY_FILE ||
			    mix(s->key ^ (i + 1)) % 5 >= 2)
				continue;
			s->skipped[i] = 1;
			s->files_skipped++;
			if (e->size &&
			    salvo_rangeset_add(&s->held, e->stream_offset,
					       e->stream_offset + e->size, 0))
				abort();
		}
	if (sc->held == 2) {
		uint64_t nb = salvo_block_count(s->total, bb);
		for (uint64_t b = 0; b < nb; b++)
			if (mix(s->key ^ (b + 7)) % 3 == 0 &&
			    salvo_rangeset_add(
				&s->held, salvo_block_start(b, bb),
				salvo_block_start(b, bb) +
				    salvo_block_len(b, bb, s->total),
				0))
				abort();
		uint64_t a = s->total / 3 + 17, n = s->total / 10;
		if (n && salvo_rangeset_add(&s->held, a, a + n, 0))
			abort();
	}
}

static void make_entries(world *w, simsender *s, uint64_t *rng)
{
	const sim_scenario *sc = w->sc;
	uint32_t n = sc->tree ? sc->tree_files : sc->shrink ? 2 : 1;
	uint32_t ndirs = sc->tree ? 12 : 0;
	s->nentries = n + ndirs;
	s->entries = xcalloc(s->nentries, sizeof(*s->entries));
	s->names = xcalloc(s->nentries, sizeof(char *));
	s->digest = xcalloc(s->nentries, 32);
	uint32_t k = 0;
	char name[256];
	for (uint32_t d = 0; d < ndirs; d++) {
		/* nested folders, and two that stay empty */
		if (d < 4)
			snprintf(name, sizeof(name), "dir%u", d);
		else if (d < 10)
			snprintf(name, sizeof(name), "dir%u/%s %u", d % 4,
				 tree_names[d % 10], d);
		else
			snprintf(name, sizeof(name), "empty%u", d);
		s->names[k] = strdup(name);
		s->entries[k] =
		    (salvo_entry){.type = SALVO_ENTRY_DIR,
				  .mode = 0755,
				  .mtime_ns = 1700000000000000000,
				  .path = s->names[k],
				  .path_len = (uint16_t)strlen(name)};
		k++;
	}
	for (uint32_t f = 0; f < n; f++) {
		uint64_t size = sc->file_bytes;
		if (sc->tree) {
			uint32_t r = (uint32_t)sim_rand(rng);
			size = r % 7 == 0 ? 0 : 1 + r % 16384;
			snprintf(name, sizeof(name), "dir%u/%s %u.bin", f % 4,
				 tree_names[f % 10], f);
		} else if (f) { /* sc->shrink: the file after */
			size = SIM_SHRINK_AFTER_BYTES;
			snprintf(name, sizeof(name), "after-%d.bin", s->idx);
		} else {
			snprintf(name, sizeof(name), "file-%d.bin", s->idx);
		}
		s->names[k] = strdup(name);
		s->entries[k] =
		    (salvo_entry){.type = SALVO_ENTRY_FILE,
				  .mode = 0644,
				  .size = size,
				  .mtime_ns = 1700000000000000000,
				  .path = s->names[k],
				  .path_len = (uint16_t)strlen(name)};
		s->entries[k].stream_offset = s->total;
		s->total += size;
		k++;
	}
	s->content = xcalloc(s->total, 1);
	gen(s->key, 0, s->content, s->total);
	if (w->sc->compress)
		make_compressible(s->content, s->total,
				  w->sc->compress_run_shift);
	choose_held(w, s);
	for (uint32_t i = 0; i < s->nentries; i++)
		if (s->entries[i].type == SALVO_ENTRY_FILE)
			salvo_blake3_hash(
			    s->content + s->entries[i].stream_offset,
			    (size_t)s->entries[i].size, s->digest[i]);
}

static double effective_loss(const simlink_params *p)
{
	double l = p->loss;
	if (p->ge_p_gb > 0) {
		double pb = p->ge_p_gb / (p->ge_p_gb + p->ge_p_bg);
		l = pb * p->ge_loss_bad + (1 - pb) * p->ge_loss_good;
	}
	return 1 - (1 - l) * (1 - p->corrupt);
}

/* Bounds: bytes sent <= payload / (1 - loss) * 1.05 + allowance, where
 * the allowance holds the handshake, a statistical margin for the loss a
 * finite transfer may see beyond the mean (4 sigma; bursts widen it),
 * and, with an outage, one in-flight window.  Completion time <= the
 * serialization time at the loss-adjusted rate, plus per-round RTTs for
 * the repair rounds the loss makes likely, handshake retries and the
 * outage. */
static void bounds(const world *w, sim_result *res, uint64_t manifest_bytes,
		   uint64_t window)
{
	const sim_scenario *sc = w->sc;
	double p = effective_loss(&sc->fwd);
	double prev = effective_loss(&sc->rev);
	double dg = sc->datagram_bytes;
	double npk =
	    (double)res->payload_bytes / (dg - SALVO_DATA_OVERHEAD_BYTES) + 4;
	double burst = sc->fwd.ge_p_gb > 0 ? 1 / sc->fwd.ge_p_bg : 1;
	double sigma = sqrt(npk * p * (1 - p) * burst) * burst;
	double slack = 4 * sigma * dg / (1 - p);
	double allow = 16384.0 + 2048.0 * sc->nsenders + slack +
		       0.002 * (double)manifest_bytes;
	/* a held range's edges fall inside datagrams that must go whole:
	 * at most a datagram of held bytes rides along at each edge */
	for (int i = 0; i < sc->nsenders; i++)
		allow += 2.0 * (dg - SALVO_DATA_OVERHEAD_BYTES) *
			 (double)w->s[i].held.n / (1 - p);
	uint64_t outage = sc->fwd.blackhole_end_ns - sc->fwd.blackhole_start_ns;
	if (outage)
		allow += (double)window * sc->nsenders;
	/* verify_fail: each failing block goes once more, whole */
	double refetch = 0;
	for (int i = 0; sc->verify_fail && i < sc->nsenders; i++)
		refetch += (double)sc->block_bytes *
			   (double)((salvo_block_count(w->s[i].total,
						       sc->block_bytes) +
				     sc->verify_fail - 1) /
				    sc->verify_fail);
	allow += refetch / (1 - p);
	res->loss_eff = p;
	/* protocol 2's 24-byte DATA header hid inside the 5 %; protocol 3's
	 * DATA costs SALVO_DATA_OVERHEAD_BYTES (header and AEAD tag): the
	 * difference is counted with the payload, so the rest of the slack
	 * is what it was */
	double extra =
	    npk * (SALVO_DATA_OVERHEAD_BYTES - SIM_V2_DATA_HDR_BYTES);
	res->bound_bytes =
	    (uint64_t)(((double)res->payload_bytes + extra) / (1 - p) * 1.05 +
		       allow);

	double rtt =
	    (double)(sc->fwd.delay_ns + sc->rev.delay_ns + sc->fwd.jitter_ns +
		     sc->rev.jitter_ns + sc->fwd.reorder_ns);
	if (rtt < 1e6)
		rtt = 1e6;
	double rate = (double)sc->rate_bps * sc->nsenders;
	double startup = 0;
	if (sc->policy != SALVO_RATE_FIXED) {
		/* the path's rate (payload share of the link, 85 % of it as the
		 * controller oscillates under the queue target), after the
		 * start-up steps (fair, rate_fair.c: x1.8 a round from
		 * 120,000 bytes per RTT within 5-20 Mbit/s), one round each */
		rate = (double)sc->fwd.rate_bps * 0.85 * (dg / (dg + 28));
		double start =
		    SALVO_RATE_FAIR_START_BYTES * 8e9 / (rtt > 1e6 ? rtt : 1e6);
		start = start < SALVO_RATE_START_MIN_BPS
			    ? SALVO_RATE_START_MIN_BPS
			: start > SALVO_RATE_FAIR_START_MAX_BPS
			    ? SALVO_RATE_FAIR_START_MAX_BPS
			    : start;
		double rounds =
		    ceil(log((double)sc->fwd.rate_bps / start) / log(1.8)) + 3;
		startup = (rounds > 3 ? rounds : 3) * (rtt > 10e6 ? rtt : 10e6);
		/* each sender's last start-up step overshoots by up to one
		 * BDP, or by its initial rate over the two rounds it takes to
		 * notice a link slower than that */
		double round = rtt > 4e6 ? rtt : 4e6;
		double bdp = (double)sc->fwd.rate_bps / 8 * round / 1e9;
		double first = start / 8 * 2 * round / 1e9;
		res->bound_bytes +=
		    (uint64_t)((bdp > first ? bdp : first) * sc->nsenders);
	}
	double ser =
	    ((double)res->payload_bytes + npk * SALVO_DATA_OVERHEAD_BYTES) *
		8e9 / (rate * (1 - p)) +
	    4 * sigma * dg * 8e9 / rate;
	double pl = p > prev ? p : prev;
	double rounds = pl > 0 ? ceil(log(npk + 1) / log(1 / pl)) + 2 : 1;
	if (sc->fwd.ge_p_gb > 0)
		rounds *= burst;
	/* a repair round: RTT, the STATUS cadence, reordering allowance */
	double pace = sc->rate_bps ? (double)sc->rate_bps : rate;
	double per_round = 2 * rtt + 64 * dg * 8e9 / pace;
	/* INIT retries: enough consecutive round-trip losses that all
	 * senders' handshakes exceed them with probability below 1e-4,
	 * each costing its backoff (500 ms doubling, at most 4 s) */
	double prt = 1 - (1 - p) * (1 - prev);
	double handshake = 0;
	if (prt > 0) {
		double k = ceil(log(1e-4 / (3.0 * sc->nsenders)) / log(prt));
		for (int i = 0; i < (int)k; i++)
			handshake += i < 3 ? 0.5e9 * (1 << i) : 4e9;
	}
	/* fixed rounds: the handshake (one RTT, half a round, since protocol
	 * 3; protocol 2's took a whole one), the manifest, start and end */
	double t =
	    1.10 * ser + (7.5 + rounds) * per_round + handshake + startup;
	if (outage)
		t += (double)outage + 2e9 + 4 * per_round;
	/* the refetches, and the last block's two late checks */
	if (refetch > 0)
		t += refetch * 8e9 / (rate * (1 - p)) + 2 * per_round +
		     2.0 * SIM_VERIFY_LATE_NS;
	res->bound_ns = (uint64_t)t;
}

void sim_describe(const sim_scenario *sc, char *buf, size_t cap)
{
	snprintf(
	    buf, cap,
	    "seed=%llu %s: senders=%d %s%llu B%s block=%u dgram=%u "
	    "rate=%.1fMbit link=%.0fMbit%s%s lanes=%d rtt=%.1fms jitter=%.1fms "
	    "loss=%.3f "
	    "ge=%.3f/%.3f reorder=%.3f dup=%.3f corrupt=%.4f "
	    "blackhole=%.1fs rev-loss=%.3f%s",
	    (unsigned long long)sc->seed, sc->name, sc->nsenders,
	    sc->tree ? "tree of " : "file ",
	    (unsigned long long)(sc->tree ? sc->tree_files : sc->file_bytes),
	    sc->tree ? " files" : "", sc->block_bytes, sc->datagram_bytes,
	    (double)sc->rate_bps / 1e6, (double)sc->fwd.rate_bps / 1e6,
	    sc->policy ? " " : "",
	    sc->policy ? salvo_rate_policy_name(sc->policy) : "", sc->lanes,
	    (double)(sc->fwd.delay_ns + sc->rev.delay_ns) / 1e6,
	    (double)sc->fwd.jitter_ns / 1e6, sc->fwd.loss, sc->fwd.ge_p_gb,
	    sc->fwd.ge_p_bg, sc->fwd.reorder, sc->fwd.duplicate,
	    sc->fwd.corrupt,
	    (double)(sc->fwd.blackhole_end_ns - sc->fwd.blackhole_start_ns) /
		1e9,
	    sc->rev.loss,
	    sc->compress == SALVO_COMPRESS_LZ4	  ? " compress=lz4"
	    : sc->compress == SALVO_COMPRESS_AUTO ? " compress=auto"
						  : "");
	if (sc->verify_fail) {
		size_t n = strlen(buf);
		snprintf(buf + n, cap > n ? cap - n : 0, " verify-fail=1/%u",
			 sc->verify_fail);
	}
	if (sc->shrink) {
		size_t n = strlen(buf);
		snprintf(buf + n, cap > n ? cap - n : 0,
			 " shrink=%u-flagged-lost", sc->shrink);
	}
	if (sc->held) {
		size_t n = strlen(buf);
		snprintf(buf + n, cap > n ? cap - n : 0, " held=%s",
			 sc->held == 1 ? "files" : "blocks");
	}
}

static void deliver_all(world *w, simlink *l)
{
	simpkt pk;
	while (simlink_next(l) <= w->now && simlink_pop(l, &pk)) {
		if (pk.dst < 0) {
			salvo_addr a = {.len = 1, .host_len = 1};
			a.bytes[0] = a.host[0] = (uint8_t)pk.src;
			salvo_receiver_on_packet(w->rcv, &a, pk.data, pk.len,
						 w->now);
		} else {
			simsender *s = &w->s[pk.dst];
			if (!s->finished) {
				salvo_sender_on_packet(s->core, pk.data, pk.len,
						       w->now);
				s->need_poll = 1;
			}
		}
		free(pk.data);
	}
}

static uint64_t next_time(const world *w)
{
	uint64_t t = simlink_next(&w->fwd);
	uint64_t u = simlink_next(&w->rev);
	if (u < t)
		t = u;
	u = salvo_receiver_next_timer(w->rcv);
	if (u < t)
		t = u;
	if (w->ev_head < w->nev && w->ev[w->ev_head].at < t)
		t = w->ev[w->ev_head].at;
	for (int i = 0; i < w->sc->nsenders; i++) {
		u = sender_next(w, &w->s[i]);
		if (u < t)
			t = u;
	}
	return t;
}

static int all_finished(const world *w)
{
	for (int i = 0; i < w->sc->nsenders; i++)
		if (!w->s[i].finished || w->s[i].ctl_head < w->s[i].nctl)
			return 0;
	return 1;
}

static void check(world *w, sim_result *res)
{
	for (int i = 0; i < w->sc->nsenders && !w->err[0]; i++) {
		simsender *s = &w->s[i];
		if (s->result) {
			failf(w, "sender %d failed: %s", i,
			      salvo_strerror(s->result));
			break;
		}
		if (!s->rx && s->total) {
			failf(w, "sender %d: receiver never prepared", i);
			break;
		}
		/* sc->shrink: the first file is not compared; it fails */
		uint64_t from = s->shrunk ? s->entries[0].size : 0;
		if (s->total &&
		    memcmp(s->content + from, s->rx + from, s->total - from)) {
			uint64_t off = from;
			while (s->content[off] == s->rx[off])
				off++;
			failf(w, "sender %d: data differs at byte %llu", i,
			      (unsigned long long)off);
		}
		uint32_t regular = 0;
		for (uint32_t k = 0; k < s->nentries; k++)
			regular += s->entries[k].type == SALVO_ENTRY_FILE;
		regular -= s->files_skipped + (uint32_t)s->shrunk;
		if (w->sc->shrink && !s->shrunk)
			failf(w, "sender %d: the file never shrank", i);
		int v = salvo_sender_verdict(s->core, 0, NULL);
		if (s->shrunk && v != SALVO_VERDICT_FAILED)
			failf(w, "sender %d: the shrunk file's verdict is %d",
			      i, v);
		if (s->files_committed != regular)
			failf(w, "sender %d: %u of %u files committed", i,
			      s->files_committed, regular);
		else if (!s->rx_ended || s->rx_result)
			failf(w, "sender %d: receiver session result %d", i,
			      s->rx_result);
	}
	for (int i = 0; i < w->sc->nsenders && w->sc->lane_pn_start; i++)
		for (int k = 0; k < w->sc->lanes && !w->err[0]; k++)
			if (w->s[i].lanes[k].aead.rekeys < 1)
				failf(w, "sender %d lane %d never changed key",
				      i, k + 1);
	if (!w->err[0] && res->sent_bytes > res->bound_bytes)
		failf(w, "sent %llu bytes > bound %llu (payload %llu)",
		      (unsigned long long)res->sent_bytes,
		      (unsigned long long)res->bound_bytes,
		      (unsigned long long)res->payload_bytes);
	if (!w->err[0] && res->time_ns > res->bound_ns)
		failf(w, "took %.3f s > bound %.3f s", res->time_ns / 1e9,
		      res->bound_ns / 1e9);
	if (!w->err[0] && w->sc->deadline_ns &&
	    res->time_ns > w->sc->deadline_ns)
		failf(w, "took %.3f ms > the promised %.3f ms",
		      res->time_ns / 1e6, w->sc->deadline_ns / 1e6);
}

int sim_run(const sim_scenario *sc, sim_result *res, int verbose)
{
	world *w = xcalloc(1, sizeof(*w));
	uint64_t rng = sc->seed * 0x2545F4914F6CDD1Dull + 1;
	const uint64_t t0 = SEC;
	memset(res, 0, sizeof(*res));
	w->sc = sc;
	w->verbose = verbose;
	w->now = t0;
	simlink_init(&w->fwd, &sc->fwd, sim_rand(&rng));
	simlink_init(&w->rev, &sc->rev, sim_rand(&rng));
	w->rng = sim_rand(&rng);
	salvo_receiver_config rc = {.max_sessions = 8,
				    .idle_timeout_ns = sc->timeout_ns,
				    .suites = SIM_SUITES,
				    .caps = SALVO_CAP_LZ4,
				    .seed = sim_rand(&rng)};
	for (int i = 0; i < 16; i++)
		rc.secret[i] = (uint8_t)sim_rand(&rng);
	sim_keypair(w, w->rx_priv, w->rx_pub);
	memcpy(rc.key_private, w->rx_priv, 32);
	memcpy(rc.key_public, w->rx_pub, 32);
	salvo_receiver_cb cb = {.send = rx_send,
				.prepare = rx_prepare,
				.write = rx_write,
				.inflate_buf = rx_inflate_buf,
				.verify_block = rx_verify,
				.finalize_file = rx_finalize,
				.session_end = rx_end,
				.random = sim_random,
				.authorize = rx_authorize,
				.ud = w};
	if (salvo_receiver_new(&w->rcv, &salvo_mem_libc, &rc, &cb))
		abort();
	uint64_t manifest_bytes = 0, window = 0;
	for (int i = 0; i < sc->nsenders; i++) {
		simsender *s = &w->s[i];
		s->idx = i;
		s->key = sim_rand(&rng);
		make_entries(w, s, &rng);
		salvo_sender_config cfg = {.block_bytes = sc->block_bytes,
					   .datagram_bytes = sc->datagram_bytes,
					   .rate_bps = sc->rate_bps,
					   .rate_policy = sc->policy,
					   .window_bytes = sc->window_bytes,
					   .timeout_ns = sc->timeout_ns,
					   .initial_rto_ns = 500 * MS,
					   .has_peer_key = 1,
					   .lanes = (uint32_t)sc->lanes + 1,
					   .suites = SIM_SUITES,
					   .caps =
					       sc->compress ? SALVO_CAP_LZ4 : 0,
					   .realtime_offset_ns = SIM_EPOCH_NS,
					   .random = sim_random,
					   .random_ud = w};
		uint8_t pub[32];
		sim_keypair(w, cfg.key_private, pub);
		memcpy(cfg.peer_key, w->rx_pub, 32);
		int err = salvo_sender_new(&s->core, &salvo_mem_libc, &cfg,
					   s->entries, s->nentries, w->now);
		if (err) {
			failf(w, "salvo_sender_new: %s", salvo_strerror(err));
			goto out;
		}
		salvo_pacer_init(&s->pacer, salvo_sender_pacing_rate(s->core),
				 SALVO_PACER_BURST_NS);
		s->block_sent =
		    xcalloc(salvo_block_count(s->total, sc->block_bytes), 1);
		s->block_failed =
		    xcalloc(salvo_block_count(s->total, sc->block_bytes), 1);
		for (int k = 0; k < sc->lanes; k++) {
			s->lanes[k].buf = xcalloc(sc->block_bytes, 1);
			s->lanes[k].d =
			    xcalloc(batch_max(w), sizeof(salvo_emit_dgram));
			s->lanes[k].out =
			    xcalloc(batch_max(w), sc->datagram_bytes);
		}
		s->need_poll = 1;
		manifest_bytes +=
		    salvo_manifest_encoded_size(s->entries, s->nentries);
		/* held bytes are not to be sent: the bound is on the rest */
		res->payload_bytes += s->total - s->held.bytes;
		if (sc->held) { /* digests known up front (a pre-pass) */
			for (uint32_t k = 0; k < s->nentries; k++)
				if (s->entries[k].type == SALVO_ENTRY_FILE)
					salvo_sender_set_digest(s->core, k,
								s->digest[k]);
			s->next_digest = s->nentries;
		}
		uint64_t rtt = sc->fwd.delay_ns + sc->rev.delay_ns +
			       sc->fwd.jitter_ns + sc->fwd.reorder_ns;
		uint64_t bdp = (uint64_t)((unsigned __int128)sc->rate_bps *
					  (rtt > MS ? rtt : MS) / 8000000000u);
		uint64_t wnd = sc->window_bytes ? sc->window_bytes
						: 4 * bdp * 5 / 4 + 4096;
		if (wnd < 2ull * sc->block_bytes)
			wnd = 2ull * sc->block_bytes;
		window = wnd > window ? wnd : window;
	}
	res->payload_bytes += manifest_bytes;
	bounds(w, res, manifest_bytes, window);
	uint64_t limit = t0 + 3 * res->bound_ns + 60 * SEC;

	while (!all_finished(w)) {
		uint64_t t = next_time(w);
		if (t == UINT64_MAX || t > limit) {
			failf(w, "stalled: nothing to do at %.3f s",
			      (double)(w->now - t0) / 1e9);
			break;
		}
		if (t > w->now)
			w->now = t;
		deliver_all(w, &w->fwd);
		deliver_all(w, &w->rev);
		while (w->ev_head < w->nev && w->ev[w->ev_head].at <= w->now)
			run_event(w, &w->ev[w->ev_head++]);
		if (w->ev_head == w->nev)
			w->ev_head = w->nev = 0;
		if (salvo_receiver_next_timer(w->rcv) <= w->now)
			salvo_receiver_on_timer(w->rcv, w->now);
		for (int i = 0; i < sc->nsenders; i++)
			sender_step(w, &w->s[i]);
	}
	/* let the receiver see the CLOSE packets and linger out */
	uint64_t end = w->now;
	for (int i = 0; i < sc->nsenders; i++) {
		res->sent_bytes += w->s[i].sent_bytes;
		res->datagrams += w->s[i].datagrams;
		salvo_sender_stats st;
		salvo_sender_get_stats(w->s[i].core, &st);
		res->retx_bytes += st.bytes_retx;
		if (!i && w->s[i].last_new_at &&
		    w->s[i].finished_at > w->s[i].last_new_at) {
			res->tail_ns =
			    w->s[i].finished_at - w->s[i].last_new_at;
			res->srtt_ns = st.srtt_ns;
		}
		if (w->s[i].finished_at > end)
			end = w->s[i].finished_at;
	}
	res->time_ns = end - t0;
	while (!w->err[0]) {
		uint64_t t = next_time(w);
		if (t == UINT64_MAX || t > end + 10 * SEC)
			break;
		w->now = t > w->now ? t : w->now;
		deliver_all(w, &w->fwd);
		deliver_all(w, &w->rev);
		while (w->ev_head < w->nev && w->ev[w->ev_head].at <= w->now)
			run_event(w, &w->ev[w->ev_head++]);
		if (salvo_receiver_next_timer(w->rcv) <= w->now)
			salvo_receiver_on_timer(w->rcv, w->now);
	}
	check(w, res);
out:
	res->ok = !w->err[0];
	snprintf(res->why, sizeof(res->why), "%s", w->err);
	salvo_receiver_del(w->rcv);
	for (int i = 0; i < sc->nsenders; i++) {
		simsender *s = &w->s[i];
		salvo_sender_del(s->core);
		for (uint32_t k = 0; k < s->nentries; k++)
			free(s->names[k]);
		for (size_t k = s->ctl_head; k < s->nctl; k++)
			free(s->ctl[k].buf);
		free(s->ctl);
		free(s->names);
		free(s->entries);
		free(s->digest);
		free(s->rx);
		free(s->content);
		free(s->block_sent);
		free(s->block_failed);
		free(s->skipped);
		salvo_rangeset_free(&s->held);
		for (int k = 0; k < SIM_MAX_LANES; k++) {
			free(s->lanes[k].buf);
			free(s->lanes[k].d);
			free(s->lanes[k].out);
			salvo_aead_free(&s->lanes[k].aead);
		}
	}
	free(w->ev);
	simlink_free(&w->fwd);
	simlink_free(&w->rev);
	free(w);
	return res->ok;
}
