/*
 * libFuzzer target: packet decoding, and the receiver and sender cores of
 * one live protocol 3 session fed arbitrary packets.
 *
 * Checks: the decoder never reads outside its input (ASan) and never
 * crashes; any packet it accepts re-encodes (all but DATA, FEEDBACK and
 * VERDICT, which have their own encoders; a VERDICT's runs need not be
 * maximal, so its bytes have no one encoding) to the same bytes (the tag of a
 * sealed packet, and INIT's MACs, aside); a receiver core and a sender core in
 * a session survive any sequence of packets without crashing, leaking
 * or misbehaving under UBSan.
 *
 * The two cores run a real handshake (Noise IK) with each other once per
 * process, in a snapshot arena (fuzz_cores.h) that every input starts
 * from again: each input meets the same fresh live session, cheaply.
 * The input is split into packets at 0xFF 0xFE markers; each packet's
 * first byte says where it goes (even: the receiver, odd: the sender)
 * and the rest is the packet.  The session agrees to LZ4, so DATA with
 * the LZ4 flag reaches the inflating path.  A sealed one gets the live
 * session's id and a fresh packet number on its lane and is sealed: the
 * build uses the null cipher (-DSALVO_NULL_CIPHER, common/crypto/aead.h),
 * so a fuzzer reaches the protocol below the cryptography.  Other packets
 * (handshake ones, junk) go as they are.  After the packets both cores
 * are deleted and must have freed every block.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/bytes.h"
#include "common/core/error.h"
#include "common/core/wire.h"
#include "common/crypto/aead.h"
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

/* The live session every input starts from, built by the first input
 * (file-scope: libFuzzer's entry point takes no context). */
typedef struct wire_fixture {
	int ready;
	fuzz_arena arena; /* both cores */
	fuzz_world w, w0;
	salvo_receiver *r;
	salvo_sender *s;
	uint32_t sid;
	uint64_t now0;
	/* the null cipher's tags take no key: one sealer per lane and way */
	salvo_aead seal[2][LANES], seal0[2][LANES];
} wire_fixture;

static wire_fixture fx;

static void setup(void)
{
	static const uint8_t any_key[32] = {7};
	salvo_receiver_config rc;
	salvo_sender_config sc;
	if (fuzz_arena_init(&fx.arena))
		abort();
	fx.w.rng = 7;
	f_receiver_config(&rc, SALVO_CAP_LZ4, 0);
	f_sender_config(&sc, &fx.w, LANES, SALVO_CAP_LZ4);
	fx.now0 = 1000;
	if (!(fx.r = f_receiver(&fx.w, &fx.arena.mem, &rc)) ||
	    salvo_sender_new(&fx.s, &fx.arena.mem, &sc, &fuzz_file, 1,
			     fx.now0) ||
	    !(fx.sid = f_handshake(fx.s, fx.r, &fx.w, &fx.now0))) {
		fprintf(stderr, "fuzz_wire: the handshake failed\n");
		abort();
	}
	for (int d = 0; d < 2; d++)
		for (int l = 0; l < LANES; l++) {
			salvo_aead_init(&fx.seal0[d][l],
					SALVO_AEAD_CHACHA20_POLY1305, any_key,
					(uint64_t)l);
			fx.seal0[d][l].next_pn =
			    1000; /* past the handshake's */
		}
	fuzz_arena_save(&fx.arena);
	fx.w0 = fx.w;
	fx.ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fx.ready) {
		if (!size)
			return 0; /* libFuzzer's probe: its coverage is not
				     counted, the handshake's should be */
		setup();
	}
	roundtrip(data, size);
	fuzz_arena_restore(&fx.arena);
	fx.w = fx.w0;
	memcpy(fx.seal, fx.seal0, sizeof(fx.seal));
	salvo_receiver *r = fx.r;
	salvo_sender *s = fx.s;
	uint32_t sid = fx.sid;
	uint64_t now = fx.now0;

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
			    salvo_wire_is_sealed(pkt[1])) {
				uint8_t lane =
				    to_sender ? 0 : (uint8_t)(pkt[3] % LANES);
				salvo_aead *x = &fx.seal[to_sender][lane];
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
			if (to_sender)
				salvo_sender_on_packet(s, pkt, len, now);
			else
				salvo_receiver_on_packet(r, &a, pkt, len, now);
		}
		f_answer(r, &fx.w, now);
		now += 1000000;
		salvo_receiver_on_timer(r, now);
		start = i + 2;
		i++;
	}
	f_answer(r, &fx.w, now);
	uint8_t buf[2048];
	salvo_work wk;
	for (int k = 0; k < 8; k++)
		salvo_sender_poll(s, now + (uint64_t)k * 1000000, &wk, buf,
				  sizeof(buf));
	salvo_sender_del(s);
	salvo_receiver_del(r);
	fuzz_arena_check_empty(&fx.arena);
	free(fx.w.inflate);
	return 0;
}
