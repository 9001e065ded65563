/*
 * libFuzzer target: the handshake of protocol 3, past its cryptography.
 *
 * A fuzzer cannot forge a Noise message, so this harness wraps its input
 * in real ones: the first byte picks a mode, the rest is what the mode
 * puts inside.
 *
 *   0  the rest is INIT's payload: sealed into a valid Noise message 1
 *      with a valid mac1 and fed to a receiver core (the payload checks,
 *      authorisation, stamps, limits, half-open sessions, RESP), twice,
 *      so the replay check runs too; then the rest as a raw datagram.
 *   1  the rest is RESP's payload: sealed into a valid Noise message 2
 *      answering a sender core's INIT (status, suite, refusal messages);
 *      then the rest as a raw datagram to the sender.
 *   2  the rest goes raw to both cores, and to both payload decoders,
 *      whose accepted values must re-encode to the same bytes.
 *
 * Checks: no crash, leak or undefined behaviour (ASan, UBSan, the arena's
 * leak check), and the payload codecs agree with themselves.  Keys and
 * randomness are fixed, so every input replays.  The cores, and the Noise
 * states the modes start from, are built once per process in snapshot
 * arenas (fuzz_cores.h) and put back before each mode.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/error.h"
#include "common/core/wire.h"
#include "common/crypto/aead.h"
#include "common/crypto/cookie.h"
#include "common/crypto/noise.h"
#include "receiver/core/receiver.h"
#include "sender/core/sender.h"
#include "tests/fuzz/fuzz_cores.h"

static const char prologue[] = SALVO_NOISE_PROLOGUE;

/* What every input starts from, built by the first (file-scope:
 * libFuzzer's entry point takes no context): two receivers (without and
 * with a 1 GiB session limit), each in its arena with its world; a
 * sender that has sent its INIT; an initiator's Noise state ready for
 * message 1 and a responder's that has read the sender's message 1. */
typedef struct shake_fixture {
	int ready;
	fuzz_arena ra[2], sa;
	fuzz_world rw[2], rw0[2], sw, sw0;
	salvo_receiver *r[2];
	uint8_t rx_pub[32];
	salvo_noise initiator;
	salvo_cookie_maker maker;
	salvo_sender *s;
	uint32_t init_session; /* the sender's INIT header's */
	int responder_ok;
	salvo_noise responder;
} shake_fixture;

static shake_fixture fx;

static void setup(void)
{
	static const uint8_t e1[32] = {9}, e2[32] = {8};
	salvo_receiver_config rc;
	for (int i = 0; i < 2; i++) {
		f_receiver_config(&rc, 0, i ? 1u << 30 : 0);
		fx.rw[i].rng = 3;
		if (fuzz_arena_init(&fx.ra[i]) ||
		    !(fx.r[i] = f_receiver(&fx.rw[i], &fx.ra[i].mem, &rc)))
			abort();
		fuzz_arena_save(&fx.ra[i]);
		fx.rw0[i] = fx.rw[i];
	}
	memcpy(fx.rx_pub, rc.key_public, 32);
	if (salvo_noise_init(&fx.initiator, SALVO_NOISE_INITIATOR,
			     (const uint8_t *)prologue, sizeof(prologue) - 1,
			     fuzz_tx_priv, fx.rx_pub, e1))
		abort();
	salvo_cookie_maker_init(&fx.maker, fx.rx_pub);

	salvo_sender_config sc;
	fx.sw.rng = 5;
	f_sender_config(&sc, &fx.sw, 2, 0);
	uint8_t buf[SALVO_DATAGRAM_MAX_BYTES], got[SALVO_INIT_PAYLOAD_BYTES];
	salvo_work wk;
	salvo_pkt init;
	size_t glen;
	if (fuzz_arena_init(&fx.sa) ||
	    salvo_sender_new(&fx.s, &fx.sa.mem, &sc, &fuzz_file, 1, 1000) ||
	    salvo_sender_poll(fx.s, 1000, &wk, buf, sizeof(buf)) !=
		SALVO_WORK_CONTROL ||
	    salvo_wire_decode(buf, wk.len, &init) ||
	    init.hdr.type != SALVO_PKT_INIT)
		abort();
	fx.init_session = init.hdr.session;
	fx.responder_ok =
	    !salvo_noise_init(&fx.responder, SALVO_NOISE_RESPONDER,
			      (const uint8_t *)prologue, sizeof(prologue) - 1,
			      fuzz_rx_priv, NULL, e2) &&
	    !salvo_noise_read_msg1(&fx.responder, init.u.init.msg1,
				   SALVO_INIT_MSG1_BYTES, got, sizeof(got),
				   &glen);
	fuzz_arena_save(&fx.sa);
	fx.sw0 = fx.sw;
	fx.ready = 1;
}

/* Mode 0: an INIT whose Noise message carries payload[0, len). */
static void init_mode(const uint8_t *pl, size_t len)
{
	int i = len > 1 && (pl[1] & 1);
	fuzz_arena_restore(&fx.ra[i]);
	fuzz_world *w = &fx.rw[i];
	*w = fx.rw0[i];
	w->refuse = len && (pl[0] & 1);
	salvo_receiver *r = fx.r[i];
	salvo_noise ns = fx.initiator;
	uint8_t msg1[SALVO_INIT_MSG1_BYTES];
	size_t mlen;
	/* Noise message 1 is a fixed size: the payload is cut or padded to
	 * it (the fuzzer varies its 40 bytes; mode 2 varies the length) */
	uint8_t p40[SALVO_INIT_PAYLOAD_BYTES] = {0};
	memcpy(p40, pl, len < sizeof(p40) ? len : sizeof(p40));
	if (!salvo_noise_write_msg1(&ns, p40, sizeof(p40), msg1, sizeof(msg1),
				    &mlen)) {
		uint8_t pkt[SALVO_INIT_BYTES];
		salvo_pkt p = {.hdr = {.type = SALVO_PKT_INIT, .session = 77}};
		p.u.init.msg1 = msg1;
		salvo_cookie_maker mk = fx.maker;
		int n = salvo_wire_encode(pkt, sizeof(pkt), &p);
		salvo_addr a = {.len = 4, .host_len = 4};
		if (n > 0 && !salvo_cookie_add_macs(&mk, pkt, (size_t)n - 32,
						    sizeof(pkt), 1000)) {
			uint8_t copy[SALVO_INIT_BYTES];
			memcpy(copy, pkt, sizeof(copy));
			salvo_receiver_on_packet(r, &a, copy, (size_t)n, 1000);
			if (w->last_len > (size_t)n)
				abort(); /* amplification */
			memcpy(copy, pkt, sizeof(copy));
			salvo_receiver_on_packet(r, &a, copy, (size_t)n, 2000);
		}
	}
	salvo_noise_wipe(&ns);
	uint8_t raw[SALVO_DATAGRAM_MAX_BYTES];
	salvo_addr b = {.len = 4, .host_len = 4, .bytes = {1}};
	if (len <= sizeof(raw)) {
		memcpy(raw, pl, len);
		salvo_receiver_on_packet(r, &b, raw, len, 3000);
	}
	salvo_receiver_on_timer(r, 20000000000ull);
	salvo_receiver_del(r);
	fuzz_arena_check_empty(&fx.ra[i]);
}

/* Mode 1: a RESP whose Noise message 2 carries payload[0, len), answering
 * the sender core's INIT. */
static void resp_mode(const uint8_t *pl, size_t len)
{
	fuzz_arena_restore(&fx.sa);
	fx.sw = fx.sw0;
	salvo_sender *s = fx.s;
	uint8_t buf[SALVO_DATAGRAM_MAX_BYTES];
	salvo_work wk;
	salvo_noise ns = fx.responder;
	uint8_t msg2[48 + 256];
	size_t m2len;
	if (fx.responder_ok && len <= 256 &&
	    !salvo_noise_write_msg2(&ns, pl, len, msg2, sizeof(msg2), &m2len)) {
		salvo_pkt p = {.hdr = {.type = SALVO_PKT_RESP,
				       .session = fx.init_session}};
		p.u.resp.session = len > 4 ? pl[len - 1] : 0;
		p.u.resp.msg2 = msg2;
		p.u.resp.msg2_len = m2len;
		uint8_t pkt[SALVO_DATAGRAM_MAX_BYTES];
		int n = salvo_wire_encode(pkt, sizeof(pkt), &p);
		if (n > 0)
			salvo_sender_on_packet(s, pkt, (size_t)n, 2000);
	}
	salvo_noise_wipe(&ns);
	if (len <= sizeof(buf)) {
		memcpy(buf, pl, len);
		salvo_sender_on_packet(s, buf, len, 3000);
	}
	for (int k = 0; k < 4; k++)
		salvo_sender_poll(s, 4000 + (uint64_t)k * 1000000, &wk, buf,
				  sizeof(buf));
	salvo_sender_del(s);
	fuzz_arena_check_empty(&fx.sa);
}

/* Mode 2: the payload codecs must agree with themselves. */
static void codecs(const uint8_t *d, size_t len)
{
	salvo_init_payload ip;
	uint8_t out[SALVO_RESP_PAYLOAD_MIN_BYTES + SALVO_RESP_MSG_MAX];
	if (!salvo_wire_init_payload_decode(d, len, &ip) &&
	    (salvo_wire_init_payload_encode(out, &ip) != (int)len ||
	     memcmp(out, d, len)))
		abort();
	salvo_resp_payload rp;
	if (!salvo_wire_resp_payload_decode(d, len, &rp) &&
	    (salvo_wire_resp_payload_encode(out, sizeof(out), &rp) !=
		 (int)len ||
	     memcmp(out, d, len)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fx.ready) {
		if (!size)
			return 0; /* libFuzzer's probe: its coverage is not
				     counted, the setup's should be */
		setup();
	}
	if (!size)
		return 0;
	const uint8_t *rest = data + 1;
	size_t n = size - 1;
	switch (data[0] % 3) {
	case 0:
		init_mode(rest, n);
		break;
	case 1:
		resp_mode(rest, n);
		break;
	default:
		codecs(rest, n);
		init_mode(rest, n);
		resp_mode(rest, n);
	}
	return 0;
}
