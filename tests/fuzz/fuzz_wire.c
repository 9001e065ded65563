/*
 * libFuzzer target: packet decoding, and the receiver and sender cores of
 * one live protocol 3 session fed arbitrary packets.
 *
 * Checks: the decoder never reads outside its input (ASan) and never
 * crashes; any packet it accepts re-encodes (all but DATA, FEEDBACK and
 * VERDICT, which have their own encoders; a VERDICT's runs need not be
 * maximal, so its bytes have no one encoding) to the same bytes (the tag of a sealed
 * packet, and INIT's MACs, aside); a receiver core and a sender core in
 * a session survive any sequence of packets without crashing, leaking
 * or misbehaving under UBSan.
 *
 * The two cores first run a real handshake (Noise IK) with each other.
 * Then the input is split into packets at 0xFF 0xFE markers; each
 * packet's first byte says where it goes (even: the receiver, odd: the
 * sender) and the rest is the packet.  The session agrees to LZ4, so
 * DATA with the LZ4 flag reaches the inflating path.  A sealed one gets the live
 * session's id and a fresh packet number on its lane and is sealed: the
 * build uses the null cipher (-DSALVO_NULL_CIPHER, common/crypto/aead.h),
 * so a fuzzer reaches the protocol below the cryptography.  Other packets
 * (handshake ones, junk) go as they are.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/bytes.h"
#include "common/core/error.h"
#include "common/core/wire.h"
#include "common/crypto/aead.h"
#include "common/crypto/noise.h"
#include "receiver/core/receiver.h"
#include "sender/core/sender.h"
#include "tests/fuzz/fuzz_cores.h"

#define LANES 3

static void roundtrip(const uint8_t *data, size_t size)
{
	salvo_pkt p, q;
	if (salvo_wire_decode(data, size, &p))
		return;
	if (p.hdr.type == SALVO_PKT_DATA || p.hdr.type == SALVO_PKT_FEEDBACK ||
	    p.hdr.type == SALVO_PKT_VERDICT)
		return;
	uint8_t buf[SALVO_DATAGRAM_MAX_BYTES];
	int n = salvo_wire_encode(buf, sizeof(buf), &p);
	if (n < 0)
		abort(); /* the decoder accepted what the encoder refuses */
	size_t same = size;
	if (salvo_wire_is_sealed(p.hdr.type))
		same -= SALVO_TAG_BYTES;
	else if (p.hdr.type == SALVO_PKT_INIT)
		same -= SALVO_INIT_MACS_BYTES;
	if (salvo_wire_decode(buf, (size_t)n, &q) || (size_t)n != size ||
	    memcmp(buf, data, same))
		abort();
}

/* Runs the sender's polls into the receiver until the handshake is done
 * (or gives up): the live session the fuzz input then talks to. */
static void handshake(salvo_sender *s, salvo_receiver *r, fuzz_world *w,
		      uint64_t *now)
{
	uint8_t buf[SALVO_DATAGRAM_MAX_BYTES];
	salvo_addr a = {.len = 4, .host_len = 4};
	for (int i = 0; i < 4 && !salvo_sender_session(s); i++) {
		salvo_work wk;
		if (salvo_sender_poll(s, *now, &wk, buf, sizeof(buf)) !=
		    SALVO_WORK_CONTROL)
			break;
		w->last_len = 0;
		salvo_receiver_on_packet(r, &a, buf, wk.len, *now);
		if (w->last_len)
			salvo_sender_on_packet(s, w->last, w->last_len, *now);
		*now += 1000000;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	roundtrip(data, size);

	static const uint8_t rx_priv[32] = {1, 2, 3}, tx_priv[32] = {4, 5, 6};
	static const uint8_t any_key[32] = {7};
	fuzz_world w;
	memset(&w, 0, sizeof(w));
	w.rng = 7;
	salvo_receiver *r = NULL;
	salvo_receiver_config rc = {
	    .max_sessions = 2,
	    .idle_timeout_ns = 1000000000,
	    .suites = SALVO_AEAD_MASK(SALVO_AEAD_CHACHA20_POLY1305),
	    .caps = SALVO_CAP_LZ4};
	memcpy(rc.key_private, rx_priv, 32);
	salvo_noise_public_key(rc.key_public, rx_priv);
	if (!(r = f_receiver(&w, &rc)))
		return 0;
	salvo_entry e = {.type = SALVO_ENTRY_FILE,
			 .mode = 0644,
			 .size = 5000,
			 .path = "f",
			 .path_len = 1};
	salvo_sender_config sc = {
	    .block_bytes = 4096,
	    .datagram_bytes = 1472,
	    .rate_bps = 1000000000,
	    .timeout_ns = 1000000000,
	    .initial_rto_ns = 1000000,
	    .has_peer_key = 1,
	    .lanes = LANES,
	    .suites = SALVO_AEAD_MASK(SALVO_AEAD_CHACHA20_POLY1305),
	    .caps = SALVO_CAP_LZ4,
	    .realtime_offset_ns = UINT64_C(1700000000) * 1000000000u,
	    .random = f_random,
	    .random_ud = &w};
	memcpy(sc.key_private, tx_priv, 32);
	memcpy(sc.peer_key, rc.key_public, 32);
	salvo_sender *s = NULL;
	uint64_t now = 1000;
	salvo_sender_new(&s, &salvo_mem_libc, &sc, &e, 1, now);
	if (s)
		handshake(s, r, &w, &now);
	uint32_t sid = s ? salvo_sender_session(s) : 0;

	/* the null cipher's tags take no key: one sealer per lane and way */
	salvo_aead seal[2][LANES];
	for (int d = 0; d < 2; d++)
		for (int l = 0; l < LANES; l++) {
			salvo_aead_init(&seal[d][l],
					SALVO_AEAD_CHACHA20_POLY1305, any_key,
					(uint64_t)l);
			seal[d][l].next_pn = 1000; /* past the handshake's */
		}
	salvo_addr a = {.len = 4, .host_len = 4};
	uint8_t pkt[SALVO_DATAGRAM_MAX_BYTES];
	size_t start = 0;
	for (size_t i = 0; i <= size; i++) {
		int cut =
		    i + 1 < size && data[i] == 0xFF && data[i + 1] == 0xFE;
		if (!cut && i < size)
			continue;
		size_t len = i - start;
		if (len >= 1 && len - 1 <= sizeof(pkt)) {
			int to_sender = data[start] & 1;
			len--;
			memcpy(pkt, data + start + 1, len);
			if (len >= SALVO_HDR_BYTES + SALVO_TAG_BYTES &&
			    salvo_wire_is_sealed(pkt[1]) && sid) {
				uint8_t lane =
				    to_sender ? 0 : (uint8_t)(pkt[3] % LANES);
				salvo_aead *x = &seal[to_sender][lane];
				uint64_t pn = salvo_aead_next_pn(x);
				pkt[3] = lane;
				salvo_put_u32(pkt + 4, sid);
				for (int k = 0; k < 8; k++)
					pkt[8 + k] =
					    (uint8_t)(pn >> (56 - 8 * k));
				salvo_aead_seal(x, pn, pkt, SALVO_HDR_BYTES,
						pkt + SALVO_HDR_BYTES,
						len - SALVO_HDR_BYTES -
						    SALVO_TAG_BYTES);
			}
			if (to_sender && s)
				salvo_sender_on_packet(s, pkt, len, now);
			else if (!to_sender)
				salvo_receiver_on_packet(r, &a, pkt, len, now);
		}
		f_answer(r, &w, now);
		now += 1000000;
		salvo_receiver_on_timer(r, now);
		start = i + 2;
		i++;
	}
	f_answer(r, &w, now);
	if (s) {
		uint8_t buf[2048];
		salvo_work wk;
		for (int k = 0; k < 8; k++)
			salvo_sender_poll(s, now + (uint64_t)k * 1000000, &wk,
					  buf, sizeof(buf));
	}
	for (int d = 0; d < 2; d++)
		for (int l = 0; l < LANES; l++)
			salvo_aead_free(&seal[d][l]);
	salvo_sender_del(s);
	salvo_receiver_del(r);
	free(w.inflate);
	return 0;
}
