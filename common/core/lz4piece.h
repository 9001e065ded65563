/*
 * LZ4 pieces: how a DATA datagram carries compressed file bytes
 * (docs/PROTOCOL.md, "Compression").
 *
 * A piece is one independent LZ4 block (no frame, no dictionary, no
 * checksum: the AEAD tag and the block CRC cover it) that inflates to a
 * declared run of stream bytes [offset, offset + n) of one block.  The
 * sender fills one datagram's payload from as much input as fits
 * (LZ4_compress_destSize), so a datagram still stands for a byte range of
 * the stream: a range the receiver reports missing is sent again by
 * compressing that range again, and the receiver writes what a piece
 * inflates to in place, like raw bytes.
 *
 * The policy for the sender's threads is here too, pure: which datagrams
 * to try (salvo_lz4piece_pays, the per-piece rule) and which work items
 * to compress at all (salvo_lz4auto: compression off when it, not the
 * link, is what limits the thread).
 *
 * Pure computation: liblz4's block functions allocate nothing (their
 * state is on the stack) and touch no file; no state here is shared.
 */
#ifndef SALVO_LZ4PIECE_H
#define SALVO_LZ4PIECE_H

#include <stddef.h>
#include <stdint.h>

/* --compress: what a sender tries. */
enum salvo_compress {
	SALVO_COMPRESS_OFF = 0,	 /* never */
	SALVO_COMPRESS_AUTO = 1, /* where it saves >= 5 %, while it pays */
	SALVO_COMPRESS_LZ4 = 2,	 /* every datagram it shrinks */
};

/* Compresses a prefix of src[0, src_len) into dst[0, dst_cap): as much
 * input as fits in dst_cap bytes of output.  Returns the compressed
 * length (1 .. dst_cap) with *consumed the input bytes it stands for
 * (1 .. src_len), or 0 when nothing could be compressed (src_len 0 or
 * over INT32_MAX, dst_cap too small).  Never writes past dst + dst_cap. */
uint32_t salvo_lz4piece_compress(const uint8_t *src, uint32_t src_len,
				 uint8_t *dst, uint32_t dst_cap,
				 uint32_t *consumed);

/* As salvo_lz4piece_compress, with LZ4 HC at level (1 .. 12) in the
 * caller's state (salvo_lz4piece_hc_state_bytes(), aligned as malloc
 * aligns, made ready once with salvo_lz4piece_hc_init; one thread at a
 * time): about 10 % more file bytes per datagram of text at a quarter
 * of the speed, the same block format for the receiver.  Each piece
 * stands alone (the state carries no dictionary from one to the next). */
uint32_t salvo_lz4piece_compress_hc(void *state, int level, const uint8_t *src,
				    uint32_t src_len, uint8_t *dst,
				    uint32_t dst_cap, uint32_t *consumed);
size_t salvo_lz4piece_hc_state_bytes(void);
/* Makes freshly allocated HC state ready for salvo_lz4piece_compress_hc. */
void salvo_lz4piece_hc_init(void *state);

/* The HC level AUTO moves to while the link, not the CPU, is the limit:
 * the lightest hash chain (two candidates a position).  On pieces of a
 * service log it packs 2.93x where level 9 packs 2.97x and fast LZ4
 * 2.69x, at 210 MB/s of input where level 9 runs 160 and fast LZ4 750
 * (one core of the lab's EPYC): nearly all of HC's gain at three
 * quarters of level 9's CPU. */
#define SALVO_LZ4_HC_LEVEL 2

/* 1 when a piece of c compressed bytes standing for `consumed` stream
 * bytes is worth sending instead of the raw datagram that would carry
 * `raw` bytes (raw >= 1): it must carry at least 5 % more stream bytes
 * than the raw datagram, after the 4 extra header bytes. */
static inline int salvo_lz4piece_pays(uint32_t consumed, uint32_t c,
				      uint32_t raw)
{
	if (consumed > raw)
		return (uint64_t)consumed * 20 >= (uint64_t)raw * 21;
	/* the tail of a range: both carry all of it; fewer bytes win */
	return consumed == raw && (uint64_t)(c + 4) * 20 <= (uint64_t)raw * 19;
}

/* Inflates the piece src[0, src_len) into dst, which has room for exactly
 * n bytes (1 .. SALVO_DATA_LZ4_MAX_BYTES).  Returns 0 when it inflates to
 * exactly n bytes, SALVO_ERR_MALFORMED otherwise (corrupt, truncated,
 * shorter or longer): liblz4's safe decoder never reads past src +
 * src_len nor writes past dst + n, so a hostile piece costs at most n
 * bytes of work.  dst's contents are unspecified after a failure. */
int salvo_lz4piece_inflate(const uint8_t *src, size_t src_len, uint8_t *dst,
			   uint32_t n);

/*
 * Per thread, in AUTO: whether the next work item goes compressed.  The
 * engine reports each item it sent (compressed or raw, its stream bytes,
 * the nanoseconds the thread was busy with it and those it waited: for
 * the pacer, and for work since the previous item).  While the thread
 * waits, the link or the window (the receiver) is the bottleneck and
 * compression always pays; when the thread never waits it is CPU-bound, and
 * compression stays on only while its busy time per stream byte is no worse
 * than raw sending's (an item now and then goes raw to measure that).  A loss
 * backs off for 4, 8 .. 64 items.
 *
 * The level follows the same signal: while the thread waits three
 * quarters of its time and its data compresses, the CPU has room (HC
 * costs about three times fast LZ4's CPU per byte) and LZ4 HC
 * (SALVO_LZ4_HC_LEVEL) packs more file bytes into each datagram the link
 * carries; once it waits under a fifth of its time, or the data stops
 * compressing, back to fast LZ4, and HC waits 8 items before it may come
 * back, twice as many after each further fall-back (up to 128): on a
 * machine whose CPU others take, HC is not retried every other item.
 * Nor does HC start, and it falls back the same way, while the thread
 * ran less than half of its busy time (it was ready, the CPUs were
 * taken; SALVO_LZ4AUTO_STARVED_MIN_NS of busy time at least to judge):
 * there the wait is no proof of room (a receiver or a link
 * emulator on the same CPUs, starved, slows the "link" the thread
 * waits for), and HC's threefold CPU takes what they need.
 */
typedef struct salvo_lz4auto {
	uint64_t ps_lz4, ps_raw; /* busy ps per stream byte, EWMA; 0 unknown */
	uint32_t raw_left;	 /* items to send raw before trying again */
	uint32_t backoff;	 /* next raw run, items */
	uint32_t since_raw;  /* compressed CPU-bound items since a raw one */
	int hc;		     /* 1: the next compressed item uses LZ4 HC */
	uint32_t hc_hold;    /* items before HC may be chosen again */
	uint32_t hc_backoff; /* the next hold, items */
} salvo_lz4auto;

/* ps_raw of a raw item the link held back: costlier than any. */
#define SALVO_LZ4AUTO_PS_LINK (UINT64_MAX / 4)
#define SALVO_LZ4AUTO_HC_HOLD_MIN 8u
#define SALVO_LZ4AUTO_HC_HOLD_MAX 128u
/* Busy time below this says nothing about starvation (one time slice). */
#define SALVO_LZ4AUTO_STARVED_MIN_NS 4000000u

/* Items between raw measurements while CPU-bound and compressing. */
#define SALVO_LZ4AUTO_REMEASURE 64u
#define SALVO_LZ4AUTO_BACKOFF_MIN 4u
#define SALVO_LZ4AUTO_BACKOFF_MAX 64u

static inline void salvo_lz4auto_init(salvo_lz4auto *a)
{
	*a = (salvo_lz4auto){.backoff = SALVO_LZ4AUTO_BACKOFF_MIN,
			     .hc_backoff = SALVO_LZ4AUTO_HC_HOLD_MIN};
}

/* 1: compress the next item. */
static inline int salvo_lz4auto_want(const salvo_lz4auto *a)
{
	return a->raw_left == 0;
}

/* The LZ4 HC level for the next item, 0 for fast LZ4. */
static inline int salvo_lz4auto_level(const salvo_lz4auto *a)
{
	return a->hc ? SALVO_LZ4_HC_LEVEL : 0;
}

/* The item just sent: compressed (1: LZ4 was tried) or raw (0); packed
 * (1: at least half its datagrams carried pieces: HC is worth its cost
 * only then, never on data that does not compress); its stream bytes;
 * busy and waiting nanoseconds (wall clock), and of busy_ns those the
 * thread ran (its CPU clock; busy_ns when unknown). */
void salvo_lz4auto_done(salvo_lz4auto *a, int compressed, int packed,
			uint64_t stream, uint64_t busy_ns, uint64_t wait_ns,
			uint64_t ran_ns);

#endif
