/*
 * libFuzzer target: packet decoding, and the receiver and sender cores
 * fed arbitrary datagrams.
 *
 * Checks: the decoder never reads outside its input (ASan) and never
 * crashes; any packet it accepts re-encodes (control packets) to bytes
 * that decode to the same fields; a receiver core and a sender core
 * survive any sequence of datagrams (the input is split into datagrams
 * at 0xFF 0xFE markers) without crashing, leaking or misbehaving under
 * UBSan.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/error.h"
#include "common/core/wire.h"
#include "receiver/core/receiver.h"
#include "sender/core/sender.h"

static void f_send(void *ud, const salvo_addr *a, const void *b, size_t n)
{
	(void)ud;
	(void)a;
	(void)b;
	(void)n;
}

static int f_prepare(void *ud, salvo_rsess *s, const salvo_manifest *m, char *e,
		     size_t l)
{
	(void)ud;
	(void)s;
	(void)m;
	(void)e;
	(void)l;
	return 0;
}

static int f_write(void *ud, salvo_rsess *s, uint32_t f, uint64_t o,
		   const void *d, size_t n, char *e, size_t l)
{
	(void)ud;
	(void)s;
	(void)f;
	(void)o;
	(void)d;
	(void)n;
	(void)e;
	(void)l;
	return 0;
}

/* Verification requests are answered after the core call returns, as
 * an engine would: alternately ok and failed, to reach both paths. */
typedef struct pending {
	uint32_t sess[64], block[64];
	int n;
} pending;

static void f_verify(void *ud, salvo_rsess *s, uint32_t b, uint64_t st,
		     uint32_t n, uint32_t c)
{
	pending *p = ud;
	(void)st;
	(void)n;
	(void)c;
	if (p->n < 64) {
		p->sess[p->n] = salvo_rsess_id(s);
		p->block[p->n++] = b;
	}
}

static void answer(salvo_receiver *r, pending *p, uint64_t now)
{
	for (int i = 0; i < p->n; i++)
		salvo_receiver_block_result(r, p->sess[i], p->block[i],
					    (int)(p->block[i] & 1), now);
	p->n = 0;
}

static void f_final(void *ud, salvo_rsess *s, uint32_t f, const uint8_t *d)
{
	(void)ud;
	(void)s;
	(void)f;
	(void)d;
}

static void f_end(void *ud, salvo_rsess *s, int r, const char *m)
{
	(void)ud;
	(void)s;
	(void)r;
	(void)m;
}

static void roundtrip(const uint8_t *data, size_t size)
{
	salvo_pkt p, q;
	if (salvo_wire_decode(data, size, &p))
		return;
	if (p.hdr.type == SALVO_PKT_DATA || p.hdr.type == SALVO_PKT_FEEDBACK)
		return;
	uint8_t buf[SALVO_DATAGRAM_MAX_BYTES];
	int n = salvo_wire_encode(buf, sizeof(buf), &p);
	if (n < 0)
		abort(); /* the decoder accepted what the encoder refuses */
	/* the fuzzing build ignores checksums (wire.c), so compare all but
	 * the CRC trailer */
	if (salvo_wire_decode(buf, (size_t)n, &q) || (size_t)n != size ||
	    memcmp(buf, data, size - SALVO_CRC_BYTES))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	roundtrip(data, size);

	salvo_receiver *r = NULL;
	salvo_receiver_config rc = {.max_sessions = 2,
				    .idle_timeout_ns = 1000000000};
	pending pend = {.n = 0};
	salvo_receiver_cb cb = {f_send,	 f_prepare, f_write, f_verify,
				f_final, f_end,	    &pend};
	if (salvo_receiver_new(&r, &salvo_mem_libc, &rc, &cb))
		return 0;
	salvo_entry e = {.type = SALVO_ENTRY_FILE,
			 .mode = 0644,
			 .size = 5000,
			 .path = "f",
			 .path_len = 1};
	salvo_sender_config sc = {.block_bytes = 4096,
				  .datagram_bytes = 1472,
				  .rate_bps = 1000000000,
				  .timeout_ns = 1000000000,
				  .initial_rto_ns = 1000000,
				  .nonce = 7};
	salvo_sender *s = NULL;
	salvo_sender_new(&s, &salvo_mem_libc, &sc, &e, 1, 1);
	salvo_addr a = {.len = 4, .host_len = 4};
	uint64_t now = 1000;
	size_t start = 0;
	for (size_t i = 0; i <= size; i++) {
		int cut =
		    i + 1 < size && data[i] == 0xFF && data[i + 1] == 0xFE;
		if (!cut && i < size)
			continue;
		salvo_receiver_on_packet(r, &a, data + start, i - start, now);
		if (s)
			salvo_sender_on_packet(s, data + start, i - start, now);
		answer(r, &pend, now);
		now += 1000000;
		salvo_receiver_on_timer(r, now);
		start = i + 2;
		i++;
	}
	answer(r, &pend, now);
	if (s) {
		uint8_t buf[2048];
		salvo_work w;
		for (int k = 0; k < 8; k++)
			salvo_sender_poll(s, now + (uint64_t)k * 1000000, &w,
					  buf, sizeof(buf));
	}
	salvo_sender_del(s);
	salvo_receiver_del(r);
	return 0;
}
