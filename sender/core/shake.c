/*
 * The sender's handshake and packet protection (protocol 3).
 *
 * Without a pinned receiver key the session first asks for it: KEY_REQ,
 * padded to the size of the KEY that answers, so a spoofed request
 * reflects no more bytes than it cost; the caller's pin() decides (trust
 * on first use, a known-hosts file).  With a key known_hosts pinned
 * before (confirm_key), the INIT goes at once and a KEY_REQ rides beside
 * it: a changed key then fails at once with pin()'s message instead of
 * after --timeout of unanswered INITs, and the common case costs no round
 * trip for the key.  Then one round trip of Noise IK:
 * INIT carries message 1 (our static key, encrypted, and the session's
 * parameters with a wall-clock stamp the receiver uses against replays)
 * and mac1/mac2 (cookie.h); RESP carries message 2 (the session id, the
 * suite chosen, or a refusal the receiver signed with its static key, so
 * "your key is unknown" cannot be forged by anyone else).  A COOKIE reply
 * (the receiver under load) makes the next INIT carry mac2.
 *
 * Each INIT is a fresh handshake (new ephemeral key, new stamp); the one
 * before stays readable, so a RESP slower than the retransmission still
 * completes, and which INIT a RESP answers is known exactly: its round
 * trip is the first RTT sample.  Once RESP is read, Split gives one key
 * per direction: lane 0 of ours seals the core's control packets, lanes
 * 1.. (salvo_sender_lane) the block-senders' DATA, each lane with its own
 * key and packet numbers; the receiver's packets are opened against a
 * replay window moved only by packets whose tag verified.
 */
#include <string.h>

#include "common/core/bytes.h"
#include "common/core/error.h"
#include "sender/core/ssess.h"

static const char prologue[] = SALVO_NOISE_PROLOGUE;

_Static_assert(SALVO_TAG_BYTES == SALVO_AEAD_TAG_BYTES, "one tag size");
_Static_assert(SALVO_INIT_MSG1_BYTES ==
		   SALVO_NOISE_MSG1_BYTES(SALVO_INIT_PAYLOAD_BYTES),
	       "INIT carries Noise message 1");
_Static_assert(SALVO_INIT_MACS_BYTES == SALVO_COOKIE_MACS_BYTES &&
		   SALVO_COOKIE_REPLY_WIRE_BYTES == SALVO_COOKIE_REPLY_BYTES,
	       "cookie sizes");
_Static_assert(SALVO_RESP_MIN_BYTES ==
		   SALVO_HS_HDR_BYTES + 4 +
		       SALVO_NOISE_MSG2_BYTES(SALVO_RESP_PAYLOAD_MIN_BYTES),
	       "RESP carries Noise message 2");

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void wipe(void *p, size_t n)
{
	volatile uint8_t *q = p;
	while (n--)
		*q++ = 0;
}

int ss_shake_start(salvo_sender *s, uint64_t now)
{
	s->cfg.random(s->cfg.random_ud, &s->index, sizeof(s->index));
	if (!s->index)
		s->index = 1;
	if (s->cfg.has_peer_key) {
		memcpy(s->peer_key, s->cfg.peer_key, sizeof(s->peer_key));
		salvo_cookie_maker_init(&s->cookie, s->peer_key);
		s->phase = PH_HANDSHAKE;
		s->confirm_key = s->cfg.confirm_key && s->cfg.pin;
	} else {
		s->phase = PH_KEY;
	}
	s->next_hs = now;
	s->hs_rto = s->cfg.initial_rto_ns;
	s->hs_deadline = now + s->cfg.timeout_ns;
	return 0;
}

void ss_shake_free(salvo_sender *s)
{
	for (int i = 0; i < SS_HANDSHAKES; i++)
		salvo_noise_wipe(&s->hs[i]);
	wipe(s->send_key, sizeof(s->send_key));
	wipe(&s->cfg.key_private, sizeof(s->cfg.key_private));
	salvo_aead_free(&s->tx);
	salvo_aead_free(&s->rx);
}

/* ------------------------------------------------------------ sending */

static int write_key_req(salvo_sender *s, uint8_t *buf, size_t cap)
{
	salvo_pkt p;
	memset(&p, 0, sizeof(p));
	p.hdr.type = SALVO_PKT_KEY_REQ;
	p.hdr.session = s->index;
	return salvo_wire_encode(buf, cap, &p);
}

static int write_init(salvo_sender *s, uint64_t now, uint8_t *buf, size_t cap)
{
	int slot = s->hs_tries % SS_HANDSHAKES;
	salvo_noise *ns = &s->hs[slot];
	uint8_t e[32], pl[SALVO_INIT_PAYLOAD_BYTES];
	uint8_t msg1[SALVO_INIT_MSG1_BYTES];
	size_t mlen;
	s->cfg.random(s->cfg.random_ud, e, sizeof(e));
	int err = salvo_noise_init(
	    ns, SALVO_NOISE_INITIATOR, (const uint8_t *)prologue,
	    sizeof(prologue) - 1, s->cfg.key_private, s->peer_key, e);
	wipe(e, sizeof(e));
	if (err)
		return err;
	salvo_init_payload ip = {.suites = (uint8_t)s->cfg.suites,
				 .lanes = (uint8_t)s->cfg.lanes,
				 .caps = s->cfg.caps & SALVO_CAP_KNOWN,
				 .datagram_bytes = s->cfg.datagram_bytes,
				 .block_bytes = s->cfg.block_bytes,
				 .total_bytes = s->data.total,
				 .file_count = s->file_count,
				 .manifest_bytes = s->manifest_len};
	salvo_wire_stamp(ip.stamp, now + s->cfg.realtime_offset_ns);
	if (salvo_wire_init_payload_encode(pl, &ip) < 0)
		return SALVO_ERR_INVAL;
	err = salvo_noise_write_msg1(ns, pl, sizeof(pl), msg1, sizeof(msg1),
				     &mlen);
	if (err)
		return err;
	salvo_pkt p;
	memset(&p, 0, sizeof(p));
	p.hdr.type = SALVO_PKT_INIT;
	p.hdr.session = s->index;
	p.u.init.msg1 = msg1;
	int n = salvo_wire_encode(buf, cap, &p);
	if (n < 0)
		return n;
	err = salvo_cookie_add_macs(
	    &s->cookie, buf, (size_t)n - SALVO_INIT_MACS_BYTES, cap, now);
	if (err)
		return err;
	s->hs_sent_at[slot] = now;
	return n;
}

int ss_shake_poll(salvo_sender *s, uint64_t now, void *buf, size_t cap,
		  uint64_t *deadline)
{
	uint64_t end = s->hs_deadline;
	if (now >= end) {
		ss_fail(s, SALVO_ERR_UNREACHABLE, 0);
		return SALVO_ERR_UNREACHABLE;
	}
	if (s->key_req_due) {
		s->key_req_due = 0;
		return write_key_req(s, buf, cap);
	}
	if (now < s->next_hs) {
		*deadline = min64(s->next_hs, end);
		return 0;
	}
	int n = s->phase == PH_KEY ? write_key_req(s, buf, cap)
				   : write_init(s, now, buf, cap);
	if (n < 0) {
		ss_fail(s, n, 0);
		return n;
	}
	s->hs_tries++;
	s->key_req_due = s->phase == PH_HANDSHAKE && s->confirm_key;
	s->next_hs = now + s->hs_rto;
	s->hs_rto = min64(2 * s->hs_rto, 4000 * SS_MS);
	return n;
}

/* ------------------------------------------------------ session loss */

void ss_shake_probe_start(salvo_sender *s, uint64_t now)
{
	s->cfg.random(s->cfg.random_ud, &s->index, sizeof(s->index));
	if (!s->index)
		s->index = 1;
	ss_shake_cancel(s);
	s->next_hs = now;
	s->hs_rto = s->cfg.initial_rto_ns;
}

int ss_shake_probe(salvo_sender *s, uint64_t now, void *buf, size_t cap,
		   uint64_t *deadline)
{
	if (now < s->next_hs) {
		*deadline = s->next_hs;
		return 0;
	}
	int n = write_init(s, now, buf, cap);
	if (n < 0)
		return n;
	s->hs_tries++;
	s->next_hs = now + s->hs_rto;
	/* every second at most: an outage ends at any time, and an INIT
	 * is small */
	s->hs_rto = min64(2 * s->hs_rto, 1000 * SS_MS);
	return n;
}

int ss_shake_adopt(salvo_sender *s)
{
	int err = salvo_aead_init(&s->tx, s->next_suite, s->next_send_key, 0);
	if (!err)
		err =
		    salvo_aead_init(&s->rx, s->next_suite, s->next_recv_key, 0);
	memcpy(s->send_key, s->next_send_key, sizeof(s->send_key));
	salvo_replay_init(&s->rx_window);
	s->suite = s->next_suite;
	s->session = s->next_session;
	ss_shake_cancel(s);
	return err;
}

void ss_shake_cancel(salvo_sender *s)
{
	for (int i = 0; i < SS_HANDSHAKES; i++)
		salvo_noise_wipe(&s->hs[i]);
	wipe(s->next_send_key, sizeof(s->next_send_key));
	wipe(s->next_recv_key, sizeof(s->next_recv_key));
	s->pending = 0;
}

/* ---------------------------------------------------------- receiving */

/* Bounded, so the compiler does not make it a strlen call (the core
 * calls no libc function but mem*). */
static size_t msg_len(const char *p)
{
	size_t n = 0;
	while (n < SALVO_ERROR_MSG_MAX && p[n])
		n++;
	return n;
}

static int on_key(salvo_sender *s, const uint8_t key[32], uint64_t now)
{
	char why[SALVO_ERROR_MSG_MAX + 1];
	why[0] = 0;
	int rc = s->cfg.pin(s->cfg.pin_ud, key, why, sizeof(why));
	why[sizeof(why) - 1] = 0;
	if (rc) {
		ss_set_msg(s, why, msg_len(why));
		ss_fail(s, SALVO_ERR_KEY, 0);
		return SALVO_ERR_KEY;
	}
	if (s->hs_tries == 1)
		ss_rtt_sample(s, now - s->start);
	memcpy(s->peer_key, key, sizeof(s->peer_key));
	salvo_cookie_maker_init(&s->cookie, s->peer_key);
	s->phase = PH_HANDSHAKE;
	s->next_hs = now; /* INIT at once */
	s->hs_rto = s->cfg.initial_rto_ns;
	s->last_rx = now;
	return 0;
}

/* A KEY beside our INITs: the pinned key confirmed, or another one for
 * pin() to judge; if pin() takes it, the INITs made for the old key
 * cannot be answered, so the handshake starts again with the new one. */
static int on_key_confirm(salvo_sender *s, const uint8_t key[32], uint64_t now)
{
	s->confirm_key = 0;
	s->key_req_due = 0;
	if (!memcmp(key, s->peer_key, sizeof(s->peer_key)))
		return 0;
	for (int i = 0; i < SS_HANDSHAKES; i++)
		salvo_noise_wipe(&s->hs[i]);
	return on_key(s, key, now);
}

static int on_resp(salvo_sender *s, const salvo_pkt_resp *r, uint64_t now)
{
	uint8_t pl[SALVO_RESP_PAYLOAD_MIN_BYTES + SALVO_RESP_MSG_MAX];
	size_t plen = 0;
	int slot = -1;
	/* each read works on a copy: a forged RESP leaves both waiting */
	for (int i = 0; i < SS_HANDSHAKES && slot < 0; i++)
		if (s->hs[i].step == 1 &&
		    !salvo_noise_read_msg2(&s->hs[i], r->msg2, r->msg2_len, pl,
					   sizeof(pl), &plen))
			slot = i;
	if (slot < 0) {
		s->st.auth_failures++;
		return 0;
	}
	salvo_resp_payload rp;
	if (salvo_wire_resp_payload_decode(pl, plen, &rp) ||
	    (!rp.status && (!r->session || rp.suite >= 8 ||
			    !((1u << rp.suite) & s->cfg.suites)))) {
		salvo_noise_wipe(&s->hs[slot]);
		s->st.malformed++;
		return 0;
	}
	if (rp.status) { /* refused, and signed by the receiver's key */
		s->peer_code = rp.status;
		ss_set_msg(s, rp.msg, rp.msg_len);
		ss_fail(s, SALVO_ERR_PEER, 0);
		return SALVO_ERR_PEER;
	}
	if (s->reconnecting) { /* keys kept aside: the old session may live */
		int err = salvo_noise_split(&s->hs[slot], s->next_send_key,
					    s->next_recv_key, NULL);
		for (int i = 0; i < SS_HANDSHAKES; i++)
			salvo_noise_wipe(&s->hs[i]);
		if (err)
			return 0;
		s->next_suite = rp.suite;
		s->next_session = r->session;
		s->pending = 1;
		s->resp_at = now;
		s->next_status = now; /* ask the old session at once */
		ss_rtt_sample(s, now - s->hs_sent_at[slot]);
		return 0;
	}
	uint8_t recv_key[32];
	int err = salvo_noise_split(&s->hs[slot], s->send_key, recv_key, NULL);
	for (int i = 0; i < SS_HANDSHAKES; i++)
		salvo_noise_wipe(&s->hs[i]);
	if (!err)
		err = salvo_aead_init(&s->tx, rp.suite, s->send_key, 0);
	if (!err)
		err = salvo_aead_init(&s->rx, rp.suite, recv_key, 0);
	wipe(recv_key, sizeof(recv_key));
	if (err) {
		ss_fail(s, SALVO_ERR_INVAL, 0);
		return SALVO_ERR_INVAL;
	}
	salvo_replay_init(&s->rx_window);
	s->suite = rp.suite;
	s->caps = rp.caps & s->cfg.caps; /* never more than offered */
	s->session = r->session;
	ss_rtt_sample(s, now - s->hs_sent_at[slot]);
	ss_rate_seed(s, now);
	s->phase = PH_MANIFEST;
	s->last_rx = now;
	s->last_fb = now;
	s->next_status = now;
	return 0;
}

int ss_shake_on_packet(salvo_sender *s, const salvo_pkt *p, size_t len,
		       uint64_t now)
{
	(void)len;
	if (p->hdr.session != s->index) {
		s->st.malformed++;
		return 0;
	}
	s->refused_in_row = 0; /* someone answers at that port */
	if (p->hdr.type == SALVO_PKT_KEY && s->phase == PH_KEY)
		return on_key(s, p->u.key.key, now);
	if (p->hdr.type == SALVO_PKT_KEY && s->phase == PH_HANDSHAKE &&
	    s->confirm_key)
		return on_key_confirm(s, p->u.key.key, now);
	if (p->hdr.type == SALVO_PKT_RESP &&
	    (s->phase == PH_HANDSHAKE || (s->reconnecting && !s->pending)))
		return on_resp(s, &p->u.resp, now);
	if (p->hdr.type == SALVO_PKT_COOKIE &&
	    (s->phase == PH_HANDSHAKE || (s->reconnecting && !s->pending))) {
		if (salvo_cookie_take_reply(&s->cookie, p->u.cookie.reply,
					    SALVO_COOKIE_REPLY_BYTES, now)) {
			s->st.auth_failures++;
			return 0;
		}
		s->next_hs = now; /* INIT again, with mac2 */
		s->hs_rto = s->cfg.initial_rto_ns;
		if (s->phase == PH_HANDSHAKE) /* not the old session's life */
			s->last_rx = now;
		return 0;
	}
	s->st.malformed++; /* well-formed, but not now */
	return 0;
}

/* ---------------------------------------------------- packet protection */

int ss_seal(salvo_sender *s, uint8_t *buf, size_t len)
{
	salvo_rd r;
	salvo_rd_init(&r, buf + 8, 8);
	uint64_t pn = salvo_rd_u64(&r);
	return salvo_aead_seal(&s->tx, pn, buf, SALVO_HDR_BYTES,
			       buf + SALVO_HDR_BYTES,
			       len - SALVO_HDR_BYTES - SALVO_TAG_BYTES);
}

int ss_open(salvo_sender *s, uint8_t *buf, size_t len, const salvo_pkt_hdr *h)
{
	size_t plain;
	if (s->phase < PH_MANIFEST || !s->suite || h->session != s->session ||
	    h->lane != 0)
		return SALVO_ERR_NOSESSION;
	return salvo_aead_open(&s->rx, &s->rx_window, h->pn, buf,
			       SALVO_HDR_BYTES, buf + SALVO_HDR_BYTES,
			       len - SALVO_HDR_BYTES, &plain);
}

int salvo_sender_lane(const salvo_sender *s, uint32_t lane, salvo_aead *a)
{
	if (lane == 0 || lane >= s->cfg.lanes)
		return SALVO_ERR_INVAL;
	if (!s->suite)
		return SALVO_ERR_STATE;
	return salvo_aead_init(a, s->suite, s->send_key, lane);
}
