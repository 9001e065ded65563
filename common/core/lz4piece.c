/*
 * LZ4 pieces (see lz4piece.h).  liblz4's block API is used as a pure
 * function: LZ4_compress_destSize keeps its 16 KiB state on the stack
 * (the library's default LZ4_HEAPMODE 0), LZ4 HC works in the caller's
 * stream state (initialised once, reset cheaply before each piece so that
 * each piece is a stream of its own), and LZ4_decompress_safe is bounded
 * by both lengths it is given; make check-core lists these (and
 * LZ4_sizeofStateHC) as the only liblz4 symbols the cores may call.
 */
#include "common/core/lz4piece.h"

#include <lz4.h>
#include <lz4hc.h>

#include "common/core/error.h"
#include "common/core/wire.h"

uint32_t salvo_lz4piece_compress(const uint8_t *src, uint32_t src_len,
				 uint8_t *dst, uint32_t dst_cap,
				 uint32_t *consumed)
{
	*consumed = 0;
	if (!src_len || src_len > INT32_MAX || dst_cap > INT32_MAX)
		return 0;
	int in = (int)src_len;
	int c = LZ4_compress_destSize((const char *)src, (char *)dst, &in,
				      (int)dst_cap);
	if (c <= 0 || in <= 0)
		return 0;
	*consumed = (uint32_t)in;
	return (uint32_t)c;
}

void salvo_lz4piece_hc_init(void *state)
{
	LZ4_initStreamHC(state, (size_t)LZ4_sizeofStateHC());
}

uint32_t salvo_lz4piece_compress_hc(void *state, int level, const uint8_t *src,
				    uint32_t src_len, uint8_t *dst,
				    uint32_t dst_cap, uint32_t *consumed)
{
	*consumed = 0;
	if (!src_len || src_len > INT32_MAX || dst_cap > INT32_MAX)
		return 0;
	/* a new stream of one block: no dictionary (what the last piece
	 * left in the tables lies behind the window), and no clearing of
	 * the 256 KiB of tables either, which LZ4_compress_HC_destSize does
	 * on every call: for 4 KiB of input that was half of HC's time */
	LZ4_resetStreamHC_fast(state, level);
	int in = (int)src_len;
	int c = LZ4_compress_HC_continue_destSize(
	    state, (const char *)src, (char *)dst, &in, (int)dst_cap);
	if (c <= 0 || in <= 0)
		return 0;
	*consumed = (uint32_t)in;
	return (uint32_t)c;
}

size_t salvo_lz4piece_hc_state_bytes(void)
{
	return (size_t)LZ4_sizeofStateHC();
}

int salvo_lz4piece_inflate(const uint8_t *src, size_t src_len, uint8_t *dst,
			   uint32_t n)
{
	if (!n || n > SALVO_DATA_LZ4_MAX_BYTES || !src_len ||
	    src_len > SALVO_DATAGRAM_MAX_BYTES)
		return SALVO_ERR_MALFORMED;
	int got = LZ4_decompress_safe((const char *)src, (char *)dst,
				      (int)src_len, (int)n);
	return got == (int)n ? 0 : SALVO_ERR_MALFORMED;
}

static uint64_t ewma(uint64_t old, uint64_t sample)
{
	return old ? (3 * old + sample) / 4 : sample;
}

void salvo_lz4auto_done(salvo_lz4auto *a, int compressed, int packed,
			uint64_t stream, uint64_t busy_ns, uint64_t wait_ns,
			uint64_t ran_ns)
{
	if (a->raw_left)
		a->raw_left--;
	if (!stream)
		return;
	uint64_t all = busy_ns + wait_ns;
	int was_hc = compressed && a->hc;
	/* ready to run for over half its busy time, yet not running: the
	 * machine's CPUs are taken, and a waiting thread waits for a link
	 * that CPU starvation may be what slows.  (A quarter was too strict:
	 * on the 2-core lab, where the sender shares the CPUs with the
	 * receiver and the link emulator, it kept HC off although HC ran
	 * text over the WAN 3.6 % faster.) */
	int starved =
	    busy_ns >= SALVO_LZ4AUTO_STARVED_MIN_NS && ran_ns * 2 < busy_ns;
	if (a->hc_hold)
		a->hc_hold--;
	if (compressed && packed && !a->hc_hold && !starved &&
	    wait_ns * 4 >= all * 3) {
		a->hc = 1; /* three quarters idle: room for HC */
	} else if (compressed && (!packed || starved || wait_ns * 5 < all)) {
		if (was_hc && packed) { /* HC made it CPU-bound */
			a->hc_hold = a->hc_backoff;
			if (a->hc_backoff < SALVO_LZ4AUTO_HC_HOLD_MAX)
				a->hc_backoff *= 2;
		}
		a->hc = 0;
	} else if (was_hc && wait_ns * 2 >= all) {
		a->hc_backoff = SALVO_LZ4AUTO_HC_HOLD_MIN; /* HC holds up */
	}
	/* HC made the thread CPU-bound: fast LZ4 next, whose cost is the
	 * one to weigh against raw sending */
	if (was_hc && !a->hc)
		return;
	/* waiting 5 % of the time or more: link-bound */
	if (wait_ns * 20 >= all) {
		/* raw sending was held back by the link: any compression
		 * beats it until a raw item is measured CPU-bound */
		if (!compressed)
			a->ps_raw = SALVO_LZ4AUTO_PS_LINK;
		a->since_raw = 0;
		a->backoff = SALVO_LZ4AUTO_BACKOFF_MIN;
		if (compressed)
			a->raw_left = 0;
		return;
	}
	uint64_t ps = (uint64_t)((unsigned __int128)busy_ns * 1000 / stream);
	if (!compressed) {
		a->ps_raw = ewma(
		    a->ps_raw == SALVO_LZ4AUTO_PS_LINK ? 0 : a->ps_raw, ps);
		return;
	}
	a->ps_lz4 = ewma(a->ps_lz4, ps);
	if (!a->ps_raw || ++a->since_raw >= SALVO_LZ4AUTO_REMEASURE) {
		a->since_raw = 0;
		a->raw_left = 1; /* measure raw sending once */
		return;
	}
	if (a->ps_lz4 > a->ps_raw + a->ps_raw / 10) {
		a->raw_left = a->backoff; /* compression is the bottleneck */
		if (a->backoff < SALVO_LZ4AUTO_BACKOFF_MAX)
			a->backoff *= 2;
		a->ps_lz4 = 0; /* measure it afresh next time */
	} else {
		a->backoff = SALVO_LZ4AUTO_BACKOFF_MIN;
	}
}
