/*
 * BLAKE3, hash mode (see blake3.h).  The portable compression function,
 * the chunk state and the tree.  Chunk chaining values join lazily: a
 * new one merges with the stack while the count of chunks so far is
 * even, and the last chunk stays in the chunk state until more input
 * shows it is not the root, because only the root's compression carries
 * the ROOT flag.  Whole chunks from a chunk boundary skip the chunk state
 * and go eight at a time through the AVX2/AVX-512 kernels, aligned runs
 * of sixteen in one AVX-512 call with their first level of parents.
 */
#include "common/core/blake3.h"

#include <string.h>

#include "common/core/blake3_impl.h"

static uint32_t rotr(uint32_t x, int n)
{
	return x >> n | x << (32 - n);
}

static uint32_t load32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

#define G(a, b, c, d, x, y)                                                    \
	do {                                                                   \
		v[a] += v[b] + (x);                                            \
		v[d] = rotr(v[d] ^ v[a], 16);                                  \
		v[c] += v[d];                                                  \
		v[b] = rotr(v[b] ^ v[c], 12);                                  \
		v[a] += v[b] + (y);                                            \
		v[d] = rotr(v[d] ^ v[a], 8);                                   \
		v[c] += v[d];                                                  \
		v[b] = rotr(v[b] ^ v[c], 7);                                   \
	} while (0)

/* The compression function; out[0..8) is the next chaining value. */
static void compress(uint32_t out[16], const uint32_t cv[8],
		     const uint32_t m[16], uint64_t counter, uint32_t len,
		     uint32_t flags)
{
	uint32_t v[16];
	memcpy(v, cv, 32);
	memcpy(v + 8, b3_iv, 16);
	v[12] = (uint32_t)counter;
	v[13] = (uint32_t)(counter >> 32);
	v[14] = len;
	v[15] = flags;
	B3_ROUNDS();
	for (int i = 0; i < 8; i++) {
		out[i] = v[i] ^ v[i + 8];
		out[i + 8] = v[i + 8] ^ cv[i];
	}
}

static void words(uint32_t m[16], const uint8_t block[64])
{
	for (int i = 0; i < 16; i++)
		m[i] = load32(block + 4 * i);
}

/* Compresses one block into cv in place. */
static void step(uint32_t cv[8], const uint8_t block[64], uint64_t counter,
		 uint32_t len, uint32_t flags)
{
	uint32_t m[16], out[16];
	words(m, block);
	compress(out, cv, m, counter, len, flags);
	memcpy(cv, out, 32);
}

static void one_chunk(const uint8_t *c, uint64_t counter, uint32_t cv[8])
{
	salvo_blake3_chunk_cv(c, SALVO_BLAKE3_CHUNK_BYTES, counter, cv);
}

void salvo_blake3_chunk_cv(const uint8_t *in, size_t len, uint64_t counter,
			   uint32_t cv[8])
{
	size_t blocks = len ? (len + 63) / 64 : 1;
	memcpy(cv, b3_iv, 32);
	for (size_t b = 0; b < blocks; b++) {
		uint32_t flags = (b == 0 ? B3_CHUNK_START : 0) |
				 (b == blocks - 1 ? B3_CHUNK_END : 0);
		size_t n = len - 64 * b < 64 ? len - 64 * b : 64;
		if (n == 64) {
			step(cv, in + 64 * b, counter, 64, flags);
		} else { /* the last block, zero-padded */
			uint8_t last[64] = {0};
			memcpy(last, in + 64 * b, n);
			step(cv, last, counter, (uint32_t)n, flags);
		}
	}
}

void salvo_blake3_hash8_portable(const uint8_t *in, uint64_t counter,
				 uint32_t out[8][8])
{
	for (int i = 0; i < 8; i++)
		one_chunk(in + (size_t)i * SALVO_BLAKE3_CHUNK_BYTES,
			  counter + (uint64_t)i, out[i]);
}

void salvo_blake3_hash8_at_portable(const uint8_t *in,
				    const uint64_t counters[8],
				    uint32_t out[8][8])
{
	for (int i = 0; i < 8; i++)
		one_chunk(in + (size_t)i * SALVO_BLAKE3_CHUNK_BYTES,
			  counters[i], out[i]);
}

static void parent(uint32_t out[8], const uint32_t left[8],
		   const uint32_t right[8])
{
	uint32_t m[16], o[16];
	memcpy(m, left, 32);
	memcpy(m + 8, right, 32);
	compress(o, b3_iv, m, 0, 64, B3_PARENT);
	memcpy(out, o, 32);
}

void salvo_blake3_parents8_portable(const uint32_t in[8][16],
				    uint32_t out[8][8])
{
	for (int i = 0; i < 8; i++)
		parent(out[i], in[i], in[i] + 8);
}

/* Adds the root of a complete subtree of 2^level chunks that ends with
 * chunk number total-1 (total a multiple of 2^level) to the stack,
 * merging the larger subtrees it completes. */
static void push(salvo_blake3 *h, const uint32_t cv[8], uint64_t total,
		 int level)
{
	uint32_t c[8];
	memcpy(c, cv, 32);
	for (total >>= level; !(total & 1); total >>= 1)
		parent(c, h->stack[--h->stack_len], c);
	memcpy(h->stack[h->stack_len++], c, 32);
}

static void chunk_reset(salvo_blake3 *h)
{
	memcpy(h->cv, b3_iv, 32);
	memset(h->block, 0, sizeof(h->block));
	h->block_len = 0;
	h->blocks_done = 0;
}

int salvo_blake3_cpu_isa(void)
{
#if defined(__x86_64__)
	if (__builtin_cpu_supports("avx512vl") &&
	    __builtin_cpu_supports("avx512f"))
		return SALVO_BLAKE3_ISA_AVX512;
	if (__builtin_cpu_supports("avx2"))
		return SALVO_BLAKE3_ISA_AVX2;
#endif
	return SALVO_BLAKE3_ISA_PORTABLE;
}

void salvo_blake3_init(salvo_blake3 *h)
{
	memset(h, 0, sizeof(*h));
	chunk_reset(h);
	h->isa = (uint8_t)salvo_blake3_cpu_isa();
}

void salvo_blake3_limit_isa(salvo_blake3 *h, int isa)
{
	if (isa < h->isa)
		h->isa = (uint8_t)isa;
}

static void hash8(int isa, const uint8_t *in, uint64_t counter,
		  uint32_t out[8][8])
{
	if (isa == SALVO_BLAKE3_ISA_AVX512)
		salvo_blake3_hash8_avx512(in, counter, out);
	else if (isa == SALVO_BLAKE3_ISA_AVX2)
		salvo_blake3_hash8_avx2(in, counter, out);
	else
		salvo_blake3_hash8_portable(in, counter, out);
}

static void parents8(int isa, const uint32_t in[8][16], uint32_t out[8][8])
{
	if (isa == SALVO_BLAKE3_ISA_AVX512)
		salvo_blake3_parents8_avx512(in, out);
	else if (isa == SALVO_BLAKE3_ISA_AVX2)
		salvo_blake3_parents8_avx2(in, out);
	else
		salvo_blake3_parents8_portable(in, out);
}

/* The root of the 16 chunks at p, numbered from h->chunk: the leaves and
 * the first level of parents eight lanes at a time, the rest one by one. */
static void subtree16(const salvo_blake3 *h, const uint8_t *p, uint32_t root[8])
{
	uint32_t cvs[16][8], lv[8][8];
	if (h->isa == SALVO_BLAKE3_ISA_AVX512) {
		salvo_blake3_hash16_avx512(p, h->chunk, cvs);
	} else {
		hash8(h->isa, p, h->chunk, cvs);
		hash8(h->isa, p + 8 * SALVO_BLAKE3_CHUNK_BYTES, h->chunk + 8,
		      cvs + 8);
	}
	parents8(h->isa, (const uint32_t(*)[16])cvs, lv);
	for (int n = 8; n > 1; n /= 2)
		for (int i = 0; i < n / 2; i++)
			parent(lv[i], lv[2 * i], lv[2 * i + 1]);
	memcpy(root, lv[0], 32);
}

/* Adds the chaining value of chunk number total-1, or keeps it pending
 * if it is the last of the run (see whole_chunks). */
static void add_cv(salvo_blake3 *h, const uint32_t cv[8], uint64_t total,
		   int last)
{
	if (last) {
		memcpy(h->pending_cv, cv, 32);
		h->pending = 1;
	} else {
		push(h, cv, total, 0);
	}
}

/* n >= 1 whole chunks at p; the chunk state is empty and nothing is
 * pending.  The last one's chaining value stays pending: if the input ends
 * there, it joins the root parent, which must carry the ROOT flag. */
static void whole_chunks(salvo_blake3 *h, const uint8_t *p, size_t n)
{
	uint32_t cvs[8][8];
	while (n) {
		size_t k;
		if (n > 16 && !(h->chunk % 16)) {
			subtree16(h, p, cvs[0]);
			push(h, cvs[0], h->chunk + 16, 4);
			k = 16;
		} else if (n >= 8) {
			hash8(h->isa, p, h->chunk, cvs);
			k = 8;
			for (size_t i = 0; i < k; i++)
				add_cv(h, cvs[i], h->chunk + i + 1,
				       n == k && i == k - 1);
		} else {
			one_chunk(p, h->chunk, cvs[0]);
			k = 1;
			add_cv(h, cvs[0], h->chunk + 1, n == 1);
		}
		h->chunk += k;
		p += k * SALVO_BLAKE3_CHUNK_BYTES;
		n -= k;
	}
}

void salvo_blake3_update(salvo_blake3 *h, const void *p, size_t len)
{
	const uint8_t *b = p;
	if (len && h->pending) { /* more input: not the last chunk */
		push(h, h->pending_cv, h->chunk, 0);
		h->pending = 0;
	}
	while (len) {
		size_t have = (size_t)h->blocks_done * 64 + h->block_len;
		if (have == SALVO_BLAKE3_CHUNK_BYTES) {
			/* more input: the full chunk is not the last */
			step(h->cv, h->block, h->chunk, 64,
			     B3_CHUNK_END |
				 (h->blocks_done ? 0 : B3_CHUNK_START));
			push(h, h->cv, h->chunk + 1, 0);
			h->chunk++;
			chunk_reset(h);
			have = 0;
		}
		/* whole chunks skip the chunk state, unless the input so
		 * far could be one chunk: that one is the root itself */
		if (!have && len >= SALVO_BLAKE3_CHUNK_BYTES &&
		    (h->chunk || len > SALVO_BLAKE3_CHUNK_BYTES)) {
			size_t n = len / SALVO_BLAKE3_CHUNK_BYTES;
			whole_chunks(h, b, n);
			b += n * SALVO_BLAKE3_CHUNK_BYTES;
			len -= n * SALVO_BLAKE3_CHUNK_BYTES;
			if (len) {
				push(h, h->pending_cv, h->chunk, 0);
				h->pending = 0;
			}
			continue;
		}
		if (h->block_len == 64) {
			step(h->cv, h->block, h->chunk, 64,
			     h->blocks_done ? 0 : B3_CHUNK_START);
			h->blocks_done++;
			memset(h->block, 0, sizeof(h->block));
			h->block_len = 0;
		}
		size_t take = 64u - h->block_len;
		if (take > len)
			take = len;
		memcpy(h->block + h->block_len, b, take);
		h->block_len = (uint8_t)(h->block_len + take);
		b += take;
		len -= take;
	}
}

static void digest(const uint32_t o[8], uint8_t out[SALVO_BLAKE3_BYTES])
{
	for (int k = 0; k < 8; k++) {
		out[4 * k] = (uint8_t)o[k];
		out[4 * k + 1] = (uint8_t)(o[k] >> 8);
		out[4 * k + 2] = (uint8_t)(o[k] >> 16);
		out[4 * k + 3] = (uint8_t)(o[k] >> 24);
	}
}

/* n whole chunks at in, numbered counter onwards or, if counters is
 * not NULL, counters[i]. */
static void chunk_cvs(int isa, const uint8_t *in, uint64_t counter,
		      const uint64_t *counters, size_t n, uint32_t (*out)[8])
{
	for (; isa == SALVO_BLAKE3_ISA_AVX512 && n >= 16; n -= 16) {
		if (counters)
			salvo_blake3_hash16_at_avx512(in, counters, out);
		else
			salvo_blake3_hash16_avx512(in, counter, out);
		in += 16 * SALVO_BLAKE3_CHUNK_BYTES;
		counter += 16;
		counters = counters ? counters + 16 : NULL;
		out += 16;
	}
	for (; n >= 8; n -= 8) {
		if (!counters)
			hash8(isa, in, counter, out);
		else if (isa == SALVO_BLAKE3_ISA_AVX512)
			salvo_blake3_hash8_at_avx512(in, counters, out);
		else if (isa == SALVO_BLAKE3_ISA_AVX2)
			salvo_blake3_hash8_at_avx2(in, counters, out);
		else
			salvo_blake3_hash8_at_portable(in, counters, out);
		in += 8 * SALVO_BLAKE3_CHUNK_BYTES;
		counter += 8;
		counters = counters ? counters + 8 : NULL;
		out += 8;
	}
	for (; n; n--) {
		one_chunk(in, counters ? *counters++ : counter++, *out++);
		in += SALVO_BLAKE3_CHUNK_BYTES;
	}
}

void salvo_blake3_chunk_cvs(int isa, const uint8_t *in, uint64_t counter,
			    size_t n, uint32_t (*out)[8])
{
	chunk_cvs(isa, in, counter, NULL, n, out);
}

void salvo_blake3_chunk_cvs_at(int isa, const uint8_t *in,
			       const uint64_t *counters, size_t n,
			       uint32_t (*out)[8])
{
	chunk_cvs(isa, in, 0, counters, n, out);
}

void salvo_blake3_parent_cvs(int isa, const uint32_t (*in)[16], size_t n,
			     uint32_t (*out)[8])
{
	uint32_t o[8][8];
	for (; n >= 8; n -= 8) {
		parents8(isa, in, o);
		memcpy(out, o, sizeof(o));
		in += 8;
		out += 8;
	}
	if (n > 1 && isa != SALVO_BLAKE3_ISA_PORTABLE) {
		/* two or more cost less in idle lanes than one by one */
		uint32_t pad[8][16] = {{0}};
		memcpy(pad, in, n * sizeof(in[0]));
		parents8(isa, (const uint32_t(*)[16])pad, o);
		memcpy(out, o, n * sizeof(o[0]));
		return;
	}
	for (; n; n--) {
		parent(o[0], in[0], in[0] + 8);
		memcpy(*out++, o[0], 32);
		in++;
	}
}

void salvo_blake3_parent_root(const uint32_t left[8], const uint32_t right[8],
			      uint8_t out[SALVO_BLAKE3_BYTES])
{
	uint32_t m[16], o[16];
	memcpy(m, left, 32);
	memcpy(m + 8, right, 32);
	compress(o, b3_iv, m, 0, 64, B3_PARENT | B3_ROOT);
	digest(o, out);
}

void salvo_blake3_final(const salvo_blake3 *h, uint8_t out[SALVO_BLAKE3_BYTES])
{
	/* the pending node: the last chunk (its last block still to
	 * compress, or its chaining value when whole chunks ended the
	 * input), then each parent up the stack; the last one compressed
	 * carries ROOT */
	uint32_t cv[8], m[16], o[16];
	uint64_t counter = h->chunk;
	uint32_t len = h->block_len;
	uint32_t flags = B3_CHUNK_END | (h->blocks_done ? 0 : B3_CHUNK_START);
	int i = h->stack_len;
	memcpy(cv, h->cv, 32);
	words(m, h->block);
	if (h->pending) { /* stack not empty: the root is a parent */
		memcpy(m, h->stack[--i], 32);
		memcpy(m + 8, h->pending_cv, 32);
		memcpy(cv, b3_iv, 32);
		counter = 0;
		len = 64;
		flags = B3_PARENT;
	}
	while (i-- > 0) {
		compress(o, cv, m, counter, len, flags);
		memcpy(m, h->stack[i], 32);
		memcpy(m + 8, o, 32);
		memcpy(cv, b3_iv, 32);
		counter = 0;
		len = 64;
		flags = B3_PARENT;
	}
	compress(o, cv, m, counter, len, flags | B3_ROOT);
	digest(o, out);
}

void salvo_blake3_hash(const void *p, size_t len,
		       uint8_t out[SALVO_BLAKE3_BYTES])
{
	salvo_blake3 h;
	salvo_blake3_init(&h);
	salvo_blake3_update(&h, p, len);
	salvo_blake3_final(&h, out);
}
