/*
 * Receiver core: the handshake (protocol 3, docs/SECURITY.md).
 *
 * An INIT is judged cheapest check first, and nothing is kept until it
 * passed them all:
 *
 *   1. mac1 (cookie.h): proves the sender knows our public key; junk and
 *      scanners stop here, before any Diffie-Hellman.
 *   2. Load: with many half-open sessions, or from an address sending
 *      INITs fast, mac2 must carry a cookie for the sender's address; if
 *      not, a 64-byte COOKIE reply goes back (rate-limited) and nothing
 *      is kept.  A sender that reads the reply at that address proves it.
 *   3. Noise message 1: authenticates the sender's static key.
 *   4. authorize(): the engine's verdict on that key.  A refusal goes
 *      back in a RESP whose Noise message 2 only we can write, so a
 *      sender can trust "your key is not authorised here"; it is
 *      rate-limited and keeps no state.
 *   5. The stamp: newer than what this key sent before (up to
 *      RS_STAMP_WINDOW_NS older is taken once each, for sessions one key
 *      opens side by side), so a replayed INIT opens nothing.
 *   6. Quotas, the table, a common suite: refusals as in 4.
 *
 * Then a session is made half-open with its keys, and RESP goes back.
 * Every answer to an INIT or a KEY_REQ is smaller than or as large as
 * the packet that asked (INIT 176 bytes: RESP at most 167, COOKIE 64;
 * KEY_REQ 40: KEY 40), so a spoofed source gains no amplification.
 */
#include "receiver/core/rshake.h"

#include <string.h>

#include "common/core/bytes.h"
#include "common/core/error.h"
#include "common/core/siphash.h"
#include "common/crypto/noise.h"

static const char prologue[] = SALVO_NOISE_PROLOGUE;

_Static_assert(SALVO_TAG_BYTES == SALVO_AEAD_TAG_BYTES, "one tag size");
_Static_assert(SALVO_RESP_MAX_BYTES <= SALVO_INIT_BYTES &&
		   SALVO_COOKIE_PKT_BYTES <= SALVO_INIT_BYTES,
	       "no answer to an INIT is larger than the INIT");

static void wipe(void *p, size_t n)
{
	volatile uint8_t *q = p;
	while (n--)
		*q++ = 0;
}

int rshake_init(salvo_receiver *r)
{
	r->stamps = salvo_mem_array(r->mem, RS_STAMP_KEYS, sizeof(*r->stamps));
	if (!r->stamps)
		return SALVO_ERR_NOMEM;
	memset(r->stamps, 0, RS_STAMP_KEYS * sizeof(*r->stamps));
	salvo_cookie_checker_init(&r->cookies, r->cfg.key_public);
	if (!r->cfg.load_half_open)
		r->cfg.load_half_open = SALVO_RECEIVER_DEFAULT_HALF_OPEN;
	if (!r->cfg.load_source_rate)
		r->cfg.load_source_rate = SALVO_RECEIVER_DEFAULT_SOURCE_RATE;
	if (!r->cfg.reply_rate)
		r->cfg.reply_rate = SALVO_RECEIVER_DEFAULT_REPLY_RATE;
	return 0;
}

void rshake_free(salvo_receiver *r)
{
	salvo_mem_free(r->mem, r->stamps);
	r->stamps = NULL;
	wipe(&r->cookies, sizeof(r->cookies));
	wipe(r->cfg.key_private, sizeof(r->cfg.key_private));
}

/* ------------------------------------------------------------- limits */

/* Takes a token from b (rate tokens a second, as many at once), full at
 * first.  1 if there was one. */
static int bucket_take(rs_bucket *b, uint32_t rate, uint64_t now)
{
	uint64_t cap = (uint64_t)rate * 1000;
	if (!b->at && !b->milli) {
		b->milli = cap;
	} else if (now > b->at) {
		uint64_t dt = now - b->at;
		if (dt > 10 * 1000 * RS_MS)
			dt = 10 * 1000 * RS_MS;
		b->milli += dt * rate / 1000000u;
		if (b->milli > cap)
			b->milli = cap;
	}
	b->at = now ? now : 1;
	if (b->milli < 1000)
		return 0;
	b->milli -= 1000;
	return 1;
}

static int under_load(salvo_receiver *r, const salvo_addr *a, uint64_t now)
{
	uint32_t n =
	    a->host_len <= sizeof(a->host) ? a->host_len : sizeof(a->host);
	uint64_t h = salvo_siphash(r->cfg.secret, a->host, n);
	int fast = !bucket_take(&r->sources[h % RS_SOURCES],
				r->cfg.load_source_rate, now);
	return fast || r->half_open >= r->cfg.load_half_open;
}

/* ------------------------------------------------------------- stamps */

/* A stamp as ns since 1970, 0 for one that cannot be. */
static uint64_t stamp_ns(const uint8_t st[SALVO_STAMP_BYTES])
{
	salvo_rd rd;
	salvo_rd_init(&rd, st, SALVO_STAMP_BYTES);
	uint64_t label = salvo_rd_u64(&rd);
	uint32_t ns = salvo_rd_u32(&rd);
	uint64_t secs = label - (UINT64_C(1) << 62);
	if (label < (UINT64_C(1) << 62) || ns >= 1000000000u ||
	    secs >= UINT64_MAX / 1000000000u - 1)
		return 0;
	return secs * 1000000000u + ns;
}

static rs_stamps *stamps_find(salvo_receiver *r, const uint8_t key[32])
{
	for (uint32_t i = 0; i < RS_STAMP_KEYS; i++)
		if (r->stamps[i].in_use && !memcmp(r->stamps[i].key, key, 32))
			return &r->stamps[i];
	return NULL;
}

/* A free entry for key, else the least recently used, anonymous keys'
 * first (a key evicted forgets its stamps: docs/SECURITY.md). */
static rs_stamps *stamps_make(salvo_receiver *r, const uint8_t key[32],
			      int authorised)
{
	rs_stamps *pick = NULL;
	for (uint32_t i = 0; i < RS_STAMP_KEYS; i++) {
		rs_stamps *e = &r->stamps[i];
		if (!e->in_use) {
			pick = e;
			break;
		}
		if (!pick || (pick->authorised && !e->authorised) ||
		    (pick->authorised == e->authorised && e->used < pick->used))
			pick = e;
	}
	memset(pick, 0, sizeof(*pick));
	memcpy(pick->key, key, 32);
	pick->in_use = 1;
	pick->authorised = authorised;
	return pick;
}

static int stamp_fresh(const rs_stamps *e, uint64_t t)
{
	if (!t)
		return 0;
	if (!e)
		return 1;
	uint64_t lo = e->floor;
	if (e->newest > RS_STAMP_WINDOW_NS &&
	    e->newest - RS_STAMP_WINDOW_NS > lo)
		lo = e->newest - RS_STAMP_WINDOW_NS;
	if (t <= lo)
		return 0;
	for (uint32_t i = 0; i < e->nrecent; i++)
		if (e->recent[i] == t)
			return 0;
	return 1;
}

/* Records an accepted stamp: the recent list keeps those inside the
 * window; one pushed out of a full list raises the floor, so it can never
 * be accepted again either. */
static void stamp_commit(rs_stamps *e, uint64_t t, uint64_t now)
{
	const uint32_t max = sizeof(e->recent) / sizeof(e->recent[0]);
	if (t > e->newest)
		e->newest = t;
	uint64_t lo =
	    e->newest > RS_STAMP_WINDOW_NS ? e->newest - RS_STAMP_WINDOW_NS : 0;
	uint32_t k = 0;
	for (uint32_t i = 0; i < e->nrecent; i++)
		if (e->recent[i] > lo)
			e->recent[k++] = e->recent[i];
	e->nrecent = k;
	if (e->nrecent == max) {
		uint32_t m = 0;
		for (uint32_t i = 1; i < max; i++)
			if (e->recent[i] < e->recent[m])
				m = i;
		if (e->recent[m] > e->floor)
			e->floor = e->recent[m];
		e->recent[m] = e->recent[--e->nrecent];
	}
	e->recent[e->nrecent++] = t;
	e->used = now;
}

/* ------------------------------------------------------------ answers */

static void send_plain(salvo_receiver *r, const salvo_addr *a,
		       const salvo_pkt *p, size_t budget)
{
	uint8_t buf[SALVO_INIT_BYTES];
	int n = salvo_wire_encode(buf, sizeof(buf), p);
	if (n <= 0 || (size_t)n > budget)
		return;
	r->st.bytes_sent += (uint64_t)n;
	r->cb.send(r->cb.ud, a, buf, (size_t)n);
}

static void send_resp(salvo_receiver *r, const salvo_addr *a, uint32_t index,
		      uint32_t session, const uint8_t *msg2, size_t m2len,
		      size_t budget)
{
	salvo_pkt p;
	memset(&p, 0, sizeof(p));
	p.hdr.type = SALVO_PKT_RESP;
	p.hdr.session = index;
	p.u.resp.session = session;
	p.u.resp.msg2 = msg2;
	p.u.resp.msg2_len = m2len;
	send_plain(r, a, &p, budget);
}

/* A refusal signed with Noise message 2 (ns read message 1). */
static void refuse(salvo_receiver *r, salvo_noise *ns, const salvo_addr *a,
		   uint32_t index, int code, const char *why, size_t budget,
		   uint64_t now)
{
	if (!bucket_take(&r->replies, r->cfg.reply_rate, now))
		return;
	uint8_t pl[SALVO_RESP_PAYLOAD_MIN_BYTES + SALVO_RESP_MSG_MAX];
	uint8_t msg2[SALVO_NOISE_MSG2_BYTES(sizeof(pl))];
	size_t len = rsess_strlen(why), m2len;
	salvo_resp_payload rp = {.status = code,
				 .msg = why,
				 .msg_len =
				     (uint16_t)(len < SALVO_RESP_MSG_MAX
						    ? len
						    : SALVO_RESP_MSG_MAX)};
	int plen = salvo_wire_resp_payload_encode(pl, sizeof(pl), &rp);
	if (plen < 0 || salvo_noise_write_msg2(ns, pl, (size_t)plen, msg2,
					       sizeof(msg2), &m2len))
		return;
	r->st.refusals++;
	send_resp(r, a, index, 0, msg2, m2len, budget);
}

static void send_cookie(salvo_receiver *r, const salvo_addr *a, uint32_t index,
			const uint8_t *buf, size_t len, uint64_t now)
{
	if (!bucket_take(&r->replies, r->cfg.reply_rate, now))
		return;
	if (salvo_cookie_checker_needs_secret(&r->cookies, now)) {
		uint8_t secret[SALVO_COOKIE_SECRET_BYTES];
		r->cb.random(r->cb.ud, secret, sizeof(secret));
		salvo_cookie_checker_set_secret(&r->cookies, secret, now);
		wipe(secret, sizeof(secret));
	}
	uint8_t nonce[SALVO_COOKIE_NONCE_BYTES],
	    reply[SALVO_COOKIE_REPLY_BYTES];
	r->cb.random(r->cb.ud, nonce, sizeof(nonce));
	if (salvo_cookie_reply(&r->cookies, buf, len, a, now, nonce, reply))
		return;
	salvo_pkt p;
	memset(&p, 0, sizeof(p));
	p.hdr.type = SALVO_PKT_COOKIE;
	p.hdr.session = index;
	p.u.cookie.reply = reply;
	r->st.cookies_sent++;
	send_plain(r, a, &p, len);
}

void rshake_on_key_req(salvo_receiver *r, const salvo_addr *a, size_t len,
		       const salvo_pkt *p, uint64_t now)
{
	if (!bucket_take(&r->replies, r->cfg.reply_rate, now))
		return;
	salvo_pkt q;
	memset(&q, 0, sizeof(q));
	q.hdr.type = SALVO_PKT_KEY;
	q.hdr.session = p->hdr.session;
	memcpy(q.u.key.key, r->cfg.key_public, sizeof(q.u.key.key));
	send_plain(r, a, &q, len);
}

/* ----------------------------------------------------------- sessions */

/* splitmix64 */
static uint64_t next_random(salvo_receiver *r)
{
	uint64_t z = (r->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A slot for a new session from key's attempt index: a free one, after
 * dropping the oldest half-open session of the same attempt when it
 * already has RS_HALF_OPEN_PER_ATTEMPT (its RESP was lost; the sender
 * sent INIT again).  -1 when the table is full. */
static int make_room(salvo_receiver *r, const uint8_t key[32], uint32_t index)
{
	int free_slot = -1, oldest = -1, dups = 0;
	for (uint32_t i = 0; i < r->cfg.max_sessions; i++) {
		const salvo_rsess *s = r->sess[i];
		if (!s) {
			if (free_slot < 0)
				free_slot = (int)i;
			continue;
		}
		if (s->half_open && s->sender_index == index &&
		    !memcmp(s->peer_key, key, 32)) {
			dups++;
			if (oldest < 0 || s->created < r->sess[oldest]->created)
				oldest = (int)i;
		}
	}
	if (dups >= RS_HALF_OPEN_PER_ATTEMPT) {
		rcv_free_session(r, (uint32_t)oldest);
		if (free_slot < 0)
			free_slot = oldest;
	}
	return free_slot;
}

/* Why a session of ip may not be opened for auth, or NULL. */
static const char *over_limits(const salvo_receiver *r,
			       const salvo_init_payload *ip,
			       const salvo_receiver_auth *auth, int *code)
{
	*code = SALVO_ERR_TOOBIG;
	if (r->cfg.max_total_bytes && ip->total_bytes > r->cfg.max_total_bytes)
		return "transfer larger than the receiver allows";
	if (auth->max_bytes && ip->total_bytes > auth->max_bytes)
		return "transfer larger than this sender's key may send "
		       "(max-bytes)";
	if (auth->max_files && ip->file_count > auth->max_files)
		return "more files than this sender's key may send "
		       "(max-files)";
	return NULL;
}

/* Writes the accepting RESP's Noise message into msg2 and sets up the
 * session's keys from the handshake.  0 or an error (s then holds no
 * key). */
static int session_keys(salvo_rsess *s, salvo_noise *ns, uint8_t *msg2,
			size_t cap, size_t *m2len)
{
	uint8_t pl[SALVO_RESP_PAYLOAD_MIN_BYTES];
	salvo_resp_payload rp = {
	    .status = 0, .suite = (uint8_t)s->suite, .caps = s->caps};
	int plen = salvo_wire_resp_payload_encode(pl, sizeof(pl), &rp);
	if (plen < 0)
		return plen;
	int err =
	    salvo_noise_write_msg2(ns, pl, (size_t)plen, msg2, cap, m2len);
	uint8_t send_key[32], recv_key[32];
	if (!err)
		err = salvo_noise_split(ns, send_key, recv_key, NULL);
	if (err)
		return err;
	err = salvo_aead_init(&s->tx, s->suite, send_key, 0);
	for (uint32_t i = 0; !err && i < s->nlanes; i++) {
		err = salvo_aead_init(&s->lanes[i].a, s->suite, recv_key, i);
		salvo_replay_init(&s->lanes[i].window);
	}
	wipe(send_key, sizeof(send_key));
	wipe(recv_key, sizeof(recv_key));
	return err;
}

static salvo_rsess *new_session(salvo_receiver *r, const salvo_addr *a,
				uint32_t index, const uint8_t key[32],
				const salvo_init_payload *ip,
				const salvo_receiver_auth *auth, int suite,
				uint64_t now)
{
	salvo_rsess *s = salvo_mem_alloc(r->mem, sizeof(*s));
	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->lanes = salvo_mem_array(r->mem, ip->lanes, sizeof(*s->lanes));
	if (!s->lanes) {
		salvo_mem_free(r->mem, s);
		return NULL;
	}
	memset(s->lanes, 0, ip->lanes * sizeof(*s->lanes));
	s->r = r;
	s->drops0 = r->st.host_drops;
	do
		s->id = (uint32_t)next_random(r);
	while (s->id == 0 || rcv_find_slot(r, s->id) >= 0);
	s->peer = *a;
	memcpy(s->peer_key, key, 32);
	s->sender_index = index;
	s->half_open = 1;
	s->created = now;
	s->auth = *auth;
	s->suite = suite;
	s->caps =
	    ip->caps & r->cfg.caps & (r->cb.inflate_buf ? SALVO_CAP_LZ4 : 0);
	s->nlanes = ip->lanes;
	s->state = RS_MANIFEST;
	s->last_rx = now;
	s->block_bytes = ip->block_bytes;
	s->datagram_bytes = ip->datagram_bytes;
	s->payload = salvo_wire_payload_bytes(ip->datagram_bytes);
	s->total = ip->total_bytes;
	s->file_count = ip->file_count;
	s->manifest_bytes = ip->manifest_bytes;
	s->next_fb = UINT64_MAX;
	s->srtt_ns = 100 * RS_MS;
	salvo_rxstream_init(&s->mrx, r->mem, ip->manifest_bytes);
	salvo_rxstream_init(&s->drx, r->mem, ip->total_bytes);
	salvo_rangeset_init(&s->held_set, r->mem);
	return s;
}

void rshake_on_init(salvo_receiver *r, const salvo_addr *a, const uint8_t *buf,
		    size_t len, const salvo_pkt *p, uint64_t now)
{
	uint32_t index = p->hdr.session;
	int err = salvo_cookie_check(&r->cookies, buf, len, a, now,
				     under_load(r, a, now));
	if (err == SALVO_ERR_COOKIE) {
		send_cookie(r, a, index, buf, len, now);
		return;
	}
	if (err) {
		r->st.auth_failures++;
		return;
	}
	salvo_noise ns;
	uint8_t e[32], pl[SALVO_INIT_PAYLOAD_BYTES];
	size_t plen;
	r->cb.random(r->cb.ud, e, sizeof(e));
	err = salvo_noise_init(&ns, SALVO_NOISE_RESPONDER,
			       (const uint8_t *)prologue, sizeof(prologue) - 1,
			       r->cfg.key_private, NULL, e);
	wipe(e, sizeof(e));
	if (!err)
		err = salvo_noise_read_msg1(&ns, p->u.init.msg1,
					    SALVO_INIT_MSG1_BYTES, pl,
					    sizeof(pl), &plen);
	if (err) {
		r->st.auth_failures++;
		goto out;
	}
	salvo_init_payload ip;
	if (salvo_wire_init_payload_decode(pl, plen, &ip)) {
		r->st.malformed++;
		goto out;
	}
	uint8_t key[32];
	memcpy(key, salvo_noise_remote_static(&ns), sizeof(key));
	salvo_receiver_auth auth;
	memset(&auth, 0, sizeof(auth));
	if (r->cb.authorize(r->cb.ud, key, &auth)) {
		refuse(r, &ns, a, index, SALVO_ERR_KEY,
		       "this sender's key is not authorised here", len, now);
		goto out;
	}
	uint64_t t = stamp_ns(ip.stamp);
	if (!stamp_fresh(stamps_find(r, key), t)) {
		r->st.replays++;
		goto out;
	}
	int code;
	const char *why = over_limits(r, &ip, &auth, &code);
	int slot = why ? -1 : make_room(r, key, index);
	if (!why && slot < 0) {
		code = SALVO_ERR_BUSY;
		why = "receiver busy: too many sessions";
	}
	int suite = salvo_aead_choose(ip.suites, r->cfg.suites);
	if (!why && suite < 0) {
		code = SALVO_ERR_AUTH;
		why = "no cipher suite in common";
	}
	salvo_rsess *s =
	    why ? NULL : new_session(r, a, index, key, &ip, &auth, suite, now);
	if (!why && !s) {
		code = SALVO_ERR_NOMEM;
		why = "receiver out of memory";
	}
	if (why) {
		refuse(r, &ns, a, index, code, why, len, now);
		goto out;
	}
	uint8_t msg2[SALVO_NOISE_MSG2_BYTES(SALVO_RESP_PAYLOAD_MIN_BYTES)];
	size_t m2len;
	if (session_keys(s, &ns, msg2, sizeof(msg2), &m2len)) {
		rsess_free_keys(s);
		salvo_rxstream_free(&s->mrx);
		salvo_rxstream_free(&s->drx);
		salvo_mem_free(r->mem, s);
		goto out;
	}
	stamp_commit(stamps_find(r, key)
			 ? stamps_find(r, key)
			 : stamps_make(r, key, auth.user != NULL),
		     t, now);
	r->sess[slot] = s;
	r->st.sessions++;
	r->half_open++;
	send_resp(r, a, index, s->id, msg2, m2len, len);
out:
	salvo_noise_wipe(&ns);
}
