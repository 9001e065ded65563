/*
 * What the core fuzzers share (fuzz_wire.c, fuzz_handshake.c):
 *
 * - an engine's callbacks that keep the receiver's last packet, answer
 *   verifications as an engine would (after the call, alternately ok and
 *   failed), draw fixed random bytes and authorise keys;
 * - the fixed keys, configurations and file of the cores under test, and
 *   the handshake that brings a sender and a receiver core to a live
 *   session;
 * - a snapshot arena: an allocator for the cores whose whole state can be
 *   saved once and put back before every input.  Building a receiver and
 *   a sender and running their handshake costs far more than most inputs
 *   (and its coverage, the same for every input, swamps libFuzzer's
 *   feature bookkeeping), so a target builds them once per process, saves
 *   the arena, and restores it per input: a copy of a few hundred
 *   kilobytes.  The cores keep no pointer outside their arena but to the
 *   target's static state (mem, callbacks' worlds) and constant data, so
 *   the restored bytes are a live core again.
 *
 * The arena keeps ASan's view: each block sits between poisoned redzones,
 * a freed block stays poisoned until the next restore (no reuse, so a use
 * after free is always caught), a free of anything but a live block's
 * start aborts, and fuzz_arena_check_empty, called after the target has
 * deleted its cores, reports any block still live (a leak; LeakSanitizer
 * cannot see inside the arena).  Header-only: the fuzz builds link each
 * target with the library alone.
 */
#ifndef SALVO_FUZZ_CORES_H
#define SALVO_FUZZ_CORES_H

#include <sanitizer/asan_interface.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/core/error.h"
#include "common/core/mem.h"
#include "common/core/wire.h"
#include "common/crypto/aead.h"
#include "common/crypto/noise.h"
#include "receiver/core/receiver.h"
#include "sender/core/sender.h"

typedef struct fuzz_world {
	uint64_t rng;
	uint32_t sess[64], block[64]; /* verifications to answer */
	int n;
	uint8_t last[SALVO_DATAGRAM_MAX_BYTES]; /* the receiver's last send */
	size_t last_len;
	int refuse;	  /* authorise refuses keys whose first byte is odd */
	uint8_t *inflate; /* the last LZ4 room, exactly its size (ASan) */
} fuzz_world;

static inline void f_send(void *ud, const salvo_addr *a, const void *b,
			  size_t n)
{
	fuzz_world *w = ud;
	(void)a;
	if (n <= sizeof(w->last)) {
		memcpy(w->last, b, n);
		w->last_len = n;
	}
}

static inline int f_prepare(void *ud, salvo_rsess *s, const salvo_manifest *m,
			    char *e, size_t l)
{
	(void)ud, (void)s, (void)m, (void)e, (void)l;
	return 0;
}

static inline int f_write(void *ud, salvo_rsess *s, uint32_t f, uint64_t o,
			  const void *d, size_t n, char *e, size_t l)
{
	(void)ud, (void)s, (void)f, (void)o, (void)d, (void)n, (void)e, (void)l;
	return 0;
}

/* A room of exactly len bytes for an LZ4 piece; the previous one's write
 * is done (f_write keeps nothing).  The target frees the last. */
static inline uint8_t *f_inflate_buf(void *ud, salvo_rsess *s, size_t len)
{
	fuzz_world *w = ud;
	(void)s;
	free(w->inflate);
	return w->inflate = malloc(len);
}

static inline void f_verify(void *ud, salvo_rsess *s, uint32_t b, uint64_t st,
			    uint32_t n, uint32_t c, int check)
{
	fuzz_world *w = ud;
	(void)st, (void)n, (void)c, (void)check;
	if (w->n < 64) {
		w->sess[w->n] = salvo_rsess_id(s);
		w->block[w->n++] = b;
	}
}

static inline void f_answer(salvo_receiver *r, fuzz_world *w, uint64_t now)
{
	for (int i = 0; i < w->n; i++)
		salvo_receiver_block_result(r, w->sess[i], w->block[i],
					    (int)(w->block[i] & 1), now);
	w->n = 0;
}

static inline void f_final(void *ud, salvo_rsess *s, uint32_t f,
			   const uint8_t *d)
{
	(void)ud, (void)s, (void)f, (void)d;
}

static inline void f_end(void *ud, salvo_rsess *s, int r, const char *m)
{
	(void)ud, (void)s, (void)r, (void)m;
}

static inline void f_random(void *ud, void *buf, size_t n)
{
	fuzz_world *w = ud;
	uint8_t *p = buf;
	for (size_t i = 0; i < n; i++) {
		w->rng = w->rng * 6364136223846793005ull + 1;
		p[i] = (uint8_t)(w->rng >> 56);
	}
}

/* Key bytes pick the verdict and the quotas, so both are reached. */
static inline int f_authorize(void *ud, const uint8_t key[32],
			      salvo_receiver_auth *a)
{
	fuzz_world *w = ud;
	memset(a, 0, sizeof(*a));
	a->max_bytes = key[1] & 1 ? 1u << 20 : 0;
	a->max_files = key[2] & 1 ? 3 : 0;
	return w->refuse && (key[0] & 1) ? SALVO_ERR_KEY : 0;
}

/* ---- the snapshot arena ---- */

#define FA_CAP ((size_t)256 << 20) /* address space; touched lazily */
#define FA_RED 32		   /* poisoned bytes before each block */
#define FA_TRIM ((size_t)16 << 20) /* past the snapshot: give back above */

typedef struct fuzz_block {
	size_t off, len;
	int live;
} fuzz_block;

typedef struct fuzz_arena {
	salvo_mem mem; /* hand &mem to the core; ud is the arena */
	uint8_t *base;
	size_t used;	 /* bump offset */
	size_t high;	 /* most used since the last restore */
	fuzz_block *blk; /* by offset: bump order */
	size_t nblk, blk_cap, live;
	uint8_t *snap; /* fuzz_arena_save's copy of base[0, snap_used) */
	size_t snap_used;
	fuzz_block *snap_blk;
	size_t snap_nblk, snap_live;
} fuzz_arena;

static inline void fa_die(const char *what, size_t n)
{
	fprintf(stderr, "fuzz arena: %s (%zu)\n", what, n);
	abort();
}

static inline fuzz_block *fa_find(fuzz_arena *a, const void *p)
{
	size_t off = (size_t)((const uint8_t *)p - a->base), lo = 0,
	       hi = a->nblk;
	if ((const uint8_t *)p < a->base || off >= a->used)
		fa_die("free of a pointer outside the arena", off);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a->blk[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == a->nblk || a->blk[lo].off != off || !a->blk[lo].live)
		fa_die("free of a pointer that is no live block", off);
	return &a->blk[lo];
}

static inline void *fa_alloc(fuzz_arena *a, size_t n)
{
	size_t prev = a->used, off = (prev + FA_RED + 15) & ~(size_t)15;
	if (n > FA_CAP || off > FA_CAP - FA_RED - n)
		return NULL; /* the core sees an allocation failure */
	if (a->nblk == a->blk_cap) {
		size_t cap = a->blk_cap ? a->blk_cap * 2 : 256;
		fuzz_block *b = realloc(a->blk, cap * sizeof(*b));
		if (!b)
			fa_die("out of memory for the block table", cap);
		a->blk = b;
		a->blk_cap = cap;
	}
	a->blk[a->nblk++] = (fuzz_block){off, n, 1};
	a->live++;
	a->used = off + n;
	if (a->used > a->high)
		a->high = a->used;
	/* redzones both sides (space past the last block is not poisoned
	 * until a block lands before it) */
	ASAN_POISON_MEMORY_REGION(a->base + prev, off - prev);
	ASAN_UNPOISON_MEMORY_REGION(a->base + off, n);
	ASAN_POISON_MEMORY_REGION(a->base + off + n, FA_RED);
	return a->base + off;
}

static inline void fa_free(fuzz_arena *a, fuzz_block *b)
{
	b->live = 0;
	a->live--;
	ASAN_POISON_MEMORY_REGION(a->base + b->off, b->len);
}

/* salvo_mem's realloc over the arena: bump allocation, never reuse. */
static inline void *fa_realloc(void *ud, void *p, size_t n)
{
	fuzz_arena *a = ud;
	if (!p)
		return n ? fa_alloc(a, n) : NULL;
	fuzz_block *b = fa_find(a, p);
	if (!n) {
		fa_free(a, b);
		return NULL;
	}
	size_t i = (size_t)(b - a->blk), old = b->len;
	void *q = fa_alloc(a, n); /* may move a->blk */
	if (!q)
		return NULL; /* p stays live, as realloc leaves it */
	memcpy(q, p, old < n ? old : n);
	fa_free(a, &a->blk[i]);
	return q;
}

/* Maps the arena (a must stay at its address: a->mem points into it).
 * Returns 0 or SALVO_ERR_NOMEM. */
static inline int fuzz_arena_init(fuzz_arena *a)
{
	memset(a, 0, sizeof(*a));
	void *m = mmap(NULL, FA_CAP, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return SALVO_ERR_NOMEM;
	a->base = m;
	a->mem = (salvo_mem){fa_realloc, a};
	return 0;
}

/* Saves the arena as it is now: fuzz_arena_restore goes back to it. */
static inline void fuzz_arena_save(fuzz_arena *a)
{
	free(a->snap);
	free(a->snap_blk);
	a->snap = malloc(a->used ? a->used : 1);
	a->snap_blk = malloc((a->nblk ? a->nblk : 1) * sizeof(fuzz_block));
	if (!a->snap || !a->snap_blk)
		fa_die("out of memory for the snapshot", a->used);
	ASAN_UNPOISON_MEMORY_REGION(a->base, a->used);
	memcpy(a->snap, a->base, a->used);
	ASAN_POISON_MEMORY_REGION(a->base, a->used + FA_RED);
	for (size_t i = 0; i < a->nblk; i++)
		if (a->blk[i].live)
			ASAN_UNPOISON_MEMORY_REGION(a->base + a->blk[i].off,
						    a->blk[i].len);
	memcpy(a->snap_blk, a->blk, a->nblk * sizeof(fuzz_block));
	a->snap_used = a->used;
	a->snap_nblk = a->nblk;
	a->snap_live = a->live;
}

/* Puts back the saved bytes, blocks and poisoning. */
static inline void fuzz_arena_restore(fuzz_arena *a)
{
	if (a->high > a->snap_used + FA_TRIM) {
		size_t from = (a->snap_used + 4095) & ~(size_t)4095;
		madvise(a->base + from, a->high - from, MADV_DONTNEED);
	}
	ASAN_UNPOISON_MEMORY_REGION(a->base, a->snap_used);
	memcpy(a->base, a->snap, a->snap_used);
	ASAN_POISON_MEMORY_REGION(a->base, a->high + FA_RED);
	for (size_t i = 0; i < a->snap_nblk; i++)
		if (a->snap_blk[i].live)
			ASAN_UNPOISON_MEMORY_REGION(
			    a->base + a->snap_blk[i].off, a->snap_blk[i].len);
	memcpy(a->blk, a->snap_blk, a->snap_nblk * sizeof(fuzz_block));
	a->nblk = a->snap_nblk;
	a->live = a->snap_live;
	a->used = a->high = a->snap_used;
}

/* After the target deleted every core in a: aborts, naming the blocks,
 * if any is still live (a leak). */
static inline void fuzz_arena_check_empty(fuzz_arena *a)
{
	if (!a->live)
		return;
	for (size_t i = 0; i < a->nblk; i++)
		if (a->blk[i].live)
			fprintf(stderr,
				"fuzz arena: leak: block %zu of %zu bytes\n", i,
				a->blk[i].len);
	fa_die("blocks leaked", a->live);
}

/* ---- the cores under test ---- */

static const uint8_t fuzz_rx_priv[32] = {1, 2, 3}, fuzz_tx_priv[32] = {4, 5, 6};

/* The receiver: at most two sessions, 1 s idle timeout, ChaCha20-Poly1305
 * (the null cipher in fuzz builds), the fixed key pair, caps as given. */
static inline void f_receiver_config(salvo_receiver_config *rc, uint32_t caps,
				     uint64_t max_total_bytes)
{
	memset(rc, 0, sizeof(*rc));
	rc->max_sessions = 2;
	rc->idle_timeout_ns = 1000000000;
	rc->max_total_bytes = max_total_bytes;
	rc->suites = SALVO_AEAD_MASK(SALVO_AEAD_CHACHA20_POLY1305);
	rc->caps = caps;
	memcpy(rc->key_private, fuzz_rx_priv, 32);
	salvo_noise_public_key(rc->key_public, fuzz_rx_priv);
}

/* The one file every sender core sends: 5000 bytes, two 4 KiB blocks. */
static const salvo_entry fuzz_file = {.type = SALVO_ENTRY_FILE,
				      .mode = 0644,
				      .size = 5000,
				      .path = "f",
				      .path_len = 1};

/* The sender: 1 Gbit/s fixed, 1472-byte datagrams, the receiver's key
 * pinned, randomness from w. */
static inline void f_sender_config(salvo_sender_config *sc, fuzz_world *w,
				   uint32_t lanes, uint32_t caps)
{
	memset(sc, 0, sizeof(*sc));
	sc->block_bytes = 4096;
	sc->datagram_bytes = 1472;
	sc->rate_bps = 1000000000;
	sc->timeout_ns = 1000000000;
	sc->initial_rto_ns = 1000000;
	sc->has_peer_key = 1;
	sc->lanes = lanes;
	sc->suites = SALVO_AEAD_MASK(SALVO_AEAD_CHACHA20_POLY1305);
	sc->caps = caps;
	sc->realtime_offset_ns = UINT64_C(1700000000) * 1000000000u;
	sc->random = f_random;
	sc->random_ud = w;
	memcpy(sc->key_private, fuzz_tx_priv, 32);
	salvo_noise_public_key(sc->peer_key, fuzz_rx_priv);
}

/* A receiver core on mem with every callback above. */
static inline salvo_receiver *f_receiver(fuzz_world *w, const salvo_mem *mem,
					 const salvo_receiver_config *rc)
{
	salvo_receiver *r = NULL;
	salvo_receiver_cb cb = {.send = f_send,
				.prepare = f_prepare,
				.write = f_write,
				.inflate_buf = f_inflate_buf,
				.verify_block = f_verify,
				.finalize_file = f_final,
				.session_end = f_end,
				.random = f_random,
				.authorize = f_authorize,
				.ud = w};
	return salvo_receiver_new(&r, mem, rc, &cb) ? NULL : r;
}

/* Runs the sender's polls into the receiver until the handshake is done
 * (or gives up), *now stepping 1 ms a round.  Returns the session id, 0
 * if none came up. */
static inline uint32_t f_handshake(salvo_sender *s, salvo_receiver *r,
				   fuzz_world *w, uint64_t *now)
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
	return salvo_sender_session(s);
}

#endif
