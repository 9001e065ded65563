/*
 * A hand-driven protocol 3 peer (testpeer.h).  The handshake payloads and
 * packets are the wire codec's, the cryptography common/crypto's; the
 * only liberties are the ones a test needs: deterministic keys, and the
 * responder skipping the MAC check (the sender core's INIT is trusted to
 * carry the right ones; the receiver core's tests check MACs).
 */
#include "tests/helpers/testpeer.h"

#include <string.h>

#include "common/core/bytes.h"
#include "common/core/error.h"

static const char prologue[] = SALVO_NOISE_PROLOGUE;

void testpeer_keypair(uint8_t seed, uint8_t priv[32], uint8_t pub[32])
{
	for (int i = 0; i < 32; i++)
		priv[i] = (uint8_t)(seed * 31 + i * 7 + 1);
	salvo_noise_public_key(pub, priv);
}

void testpeer_new(testpeer *tp, uint8_t seed)
{
	memset(tp, 0, sizeof(*tp));
	tp->seed = seed;
	tp->suite = SALVO_AEAD_CHACHA20_POLY1305;
	testpeer_keypair(seed, tp->priv, tp->pub);
}

void testpeer_del(testpeer *tp)
{
	for (int i = 0; i < TESTPEER_LANES; i++) {
		salvo_aead_free(&tp->tx[i]);
		salvo_aead_free(&tp->rx[i]);
	}
	memset(tp, 0, sizeof(*tp));
}

static void ephemeral(testpeer *tp, uint8_t e[32])
{
	tp->eph++;
	for (int i = 0; i < 32; i++)
		e[i] = (uint8_t)(tp->seed * 17 + tp->eph * 101 + i * 3 + 5);
}

/* Keys from the finished handshake: lanes are set up when first used. */
static int split(testpeer *tp)
{
	memset(tp->tx_ready, 0, sizeof(tp->tx_ready));
	memset(tp->rx_ready, 0, sizeof(tp->rx_ready));
	int err = salvo_noise_split(&tp->ns, tp->send_key, tp->recv_key, NULL);
	tp->keyed = !err;
	return err;
}

int testpeer_init(testpeer *tp, const uint8_t rx_pub[32], uint32_t index,
		  const salvo_init_payload *ip, uint64_t realtime_ns,
		  uint8_t *out, size_t cap, uint64_t now)
{
	uint8_t e[32], pl[SALVO_INIT_PAYLOAD_BYTES];
	uint8_t msg1[SALVO_INIT_MSG1_BYTES];
	size_t mlen;
	if (memcmp(tp->remote, rx_pub, 32)) {
		memcpy(tp->remote, rx_pub, 32);
		salvo_cookie_maker_init(&tp->maker, rx_pub);
	}
	ephemeral(tp, e);
	int err = salvo_noise_init(&tp->ns, SALVO_NOISE_INITIATOR,
				   (const uint8_t *)prologue,
				   sizeof(prologue) - 1, tp->priv, rx_pub, e);
	if (err)
		return err;
	salvo_init_payload p = *ip;
	salvo_wire_stamp(p.stamp, realtime_ns);
	if ((err = salvo_wire_init_payload_encode(pl, &p)) < 0)
		return err;
	if ((err = salvo_noise_write_msg1(&tp->ns, pl, sizeof(pl), msg1,
					  sizeof(msg1), &mlen)))
		return err;
	salvo_pkt q = {.hdr = {.type = SALVO_PKT_INIT, .session = index}};
	q.u.init.msg1 = msg1;
	int n = salvo_wire_encode(out, cap, &q);
	if (n < 0)
		return n;
	tp->index = index;
	err = salvo_cookie_add_macs(
	    &tp->maker, out, (size_t)n - SALVO_INIT_MACS_BYTES, cap, now);
	return err ? err : n;
}

int testpeer_resp(testpeer *tp, const uint8_t *buf, size_t len,
		  salvo_resp_payload *rp)
{
	static uint8_t pl[SALVO_RESP_PAYLOAD_MIN_BYTES + SALVO_RESP_MSG_MAX];
	salvo_pkt p;
	size_t plen;
	int err = salvo_wire_decode(buf, len, &p);
	if (err)
		return err;
	if (p.hdr.type != SALVO_PKT_RESP || p.hdr.session != tp->index)
		return SALVO_ERR_STATE;
	err = salvo_noise_read_msg2(&tp->ns, p.u.resp.msg2, p.u.resp.msg2_len,
				    pl, sizeof(pl), &plen);
	if (err)
		return err;
	if ((err = salvo_wire_resp_payload_decode(pl, plen, rp)))
		return err;
	if (rp->status)
		return 0;
	tp->suite = rp->suite;
	tp->caps = rp->caps;
	tp->session = p.u.resp.session;
	return split(tp);
}

int testpeer_cookie(testpeer *tp, const uint8_t *buf, size_t len, uint64_t now)
{
	salvo_pkt p;
	int err = salvo_wire_decode(buf, len, &p);
	if (err)
		return err;
	if (p.hdr.type != SALVO_PKT_COOKIE)
		return SALVO_ERR_STATE;
	return salvo_cookie_take_reply(&tp->maker, p.u.cookie.reply,
				       SALVO_COOKIE_REPLY_BYTES, now);
}

int testpeer_accept(testpeer *tp, const uint8_t *init, size_t len,
		    uint32_t session, int32_t status, const char *msg,
		    uint8_t *out, size_t cap)
{
	uint8_t e[32], pl[SALVO_INIT_PAYLOAD_BYTES];
	uint8_t rpl[SALVO_RESP_PAYLOAD_MIN_BYTES + SALVO_RESP_MSG_MAX];
	uint8_t msg2[48 + sizeof(rpl)];
	size_t plen, m2len;
	salvo_pkt p;
	int err = salvo_wire_decode(init, len, &p);
	if (err)
		return err;
	if (p.hdr.type != SALVO_PKT_INIT)
		return SALVO_ERR_STATE;
	ephemeral(tp, e);
	if ((err = salvo_noise_init(&tp->ns, SALVO_NOISE_RESPONDER,
				    (const uint8_t *)prologue,
				    sizeof(prologue) - 1, tp->priv, NULL, e)) ||
	    (err = salvo_noise_read_msg1(&tp->ns, p.u.init.msg1,
					 SALVO_INIT_MSG1_BYTES, pl, sizeof(pl),
					 &plen)) ||
	    (err = salvo_wire_init_payload_decode(pl, plen, &tp->init)))
		return err;
	memcpy(tp->remote, salvo_noise_remote_static(&tp->ns), 32);
	tp->index = p.hdr.session;
	salvo_resp_payload rp = {.status = status};
	if (status) {
		rp.msg = msg;
		rp.msg_len = (uint16_t)strlen(msg);
	} else {
		rp.suite = (uint8_t)tp->suite;
	}
	int rlen = salvo_wire_resp_payload_encode(rpl, sizeof(rpl), &rp);
	if (rlen < 0)
		return rlen;
	if ((err = salvo_noise_write_msg2(&tp->ns, rpl, (size_t)rlen, msg2,
					  sizeof(msg2), &m2len)))
		return err;
	salvo_pkt q = {.hdr = {.type = SALVO_PKT_RESP, .session = tp->index}};
	q.u.resp.session = status ? 0 : session;
	q.u.resp.msg2 = msg2;
	q.u.resp.msg2_len = m2len;
	int n = salvo_wire_encode(out, cap, &q);
	if (n < 0 || status)
		return n;
	tp->session = session;
	err = split(tp);
	return err ? err : n;
}

static salvo_aead *tx_lane(testpeer *tp, uint8_t lane)
{
	if (!tp->keyed || lane >= TESTPEER_LANES)
		return NULL;
	if (!tp->tx_ready[lane]) {
		if (salvo_aead_init(&tp->tx[lane], tp->suite, tp->send_key,
				    lane))
			return NULL;
		tp->tx_ready[lane] = 1;
	}
	return &tp->tx[lane];
}

int testpeer_seal(testpeer *tp, uint8_t lane, uint8_t *buf, size_t len)
{
	salvo_aead *a = tx_lane(tp, lane);
	if (!a || len < SALVO_HDR_BYTES + SALVO_TAG_BYTES)
		return SALVO_ERR_STATE;
	uint64_t pn = salvo_aead_next_pn(a);
	buf[3] = lane;
	salvo_wr w;
	salvo_wr_init(&w, buf + 8, 8);
	salvo_wr_u64(&w, pn);
	return salvo_aead_seal(a, pn, buf, SALVO_HDR_BYTES,
			       buf + SALVO_HDR_BYTES,
			       len - SALVO_HDR_BYTES - SALVO_TAG_BYTES);
}

int testpeer_encode(testpeer *tp, uint8_t lane, salvo_pkt *p, uint8_t *out,
		    size_t cap)
{
	p->hdr.session = tp->session;
	p->hdr.lane = lane;
	int n = salvo_wire_encode(out, cap, p);
	if (n < 0)
		return n;
	int err = testpeer_seal(tp, lane, out, (size_t)n);
	return err ? err : n;
}

int testpeer_open(testpeer *tp, uint8_t *buf, size_t len, salvo_pkt *out)
{
	salvo_pkt_hdr h;
	size_t plain;
	int err = salvo_wire_decode_header(buf, len, &h);
	if (err)
		return err;
	if (!salvo_wire_is_sealed(h.type))
		return salvo_wire_decode(buf, len, out);
	if (!tp->keyed || h.lane >= TESTPEER_LANES)
		return SALVO_ERR_STATE;
	if (!tp->rx_ready[h.lane]) {
		if (salvo_aead_init(&tp->rx[h.lane], tp->suite, tp->recv_key,
				    h.lane))
			return SALVO_ERR_STATE;
		salvo_replay_init(&tp->rxw[h.lane]);
		tp->rx_ready[h.lane] = 1;
	}
	err = salvo_aead_open(&tp->rx[h.lane], &tp->rxw[h.lane], h.pn, buf,
			      SALVO_HDR_BYTES, buf + SALVO_HDR_BYTES,
			      len - SALVO_HDR_BYTES, &plain);
	return err ? err : salvo_wire_decode(buf, len, out);
}
