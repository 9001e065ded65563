/*
 * BLAKE3 with AVX-512: the eight-lane body of blake3_x86.h on 256-bit
 * vectors with the rotate instruction (vprord) and 32 vector registers,
 * and sixteen chunks at once on 512-bit vectors.  Called only when the
 * CPU reports AVX-512F and VL.
 */
#if defined(__x86_64__)
#define B3_TARGET target("avx2,avx512f,avx512vl")
#define B3_SUFFIX avx512
#define B3_ROR(x, n) _mm256_ror_epi32(x, n)
#include "common/core/blake3_x86.h"

/* Sixteen chunks at once on 512-bit vectors: each block of a chunk is one
 * row of 16 words, and four shuffle stages turn 16 rows into 16 message
 * vectors (word w of every chunk). */
#ifdef __clang__ /* see blake3_x86.h */
#pragma clang attribute push(__attribute__((no_sanitize("pointer-overflow"))), \
			     apply_to = function)
#endif
#define B3_ZMM __attribute__((target("avx512f"), always_inline)) static inline

B3_ZMM void transpose16(__m512i r[16])
{
	__m512i a[16], b[16];
	for (int k = 0; k < 16; k += 2) {
		a[k] = _mm512_unpacklo_epi32(r[k], r[k + 1]);
		a[k + 1] = _mm512_unpackhi_epi32(r[k], r[k + 1]);
	}
	/* b[4k + j], 128-bit lane L: word 4L + j of rows 4k .. 4k+3 */
	for (int k = 0; k < 16; k += 4) {
		b[k] = _mm512_unpacklo_epi64(a[k], a[k + 2]);
		b[k + 1] = _mm512_unpackhi_epi64(a[k], a[k + 2]);
		b[k + 2] = _mm512_unpacklo_epi64(a[k + 1], a[k + 3]);
		b[k + 3] = _mm512_unpackhi_epi64(a[k + 1], a[k + 3]);
	}
	for (int j = 0; j < 4; j++) {
		__m512i c0 = _mm512_shuffle_i32x4(b[j], b[4 + j], 0x88);
		__m512i c1 = _mm512_shuffle_i32x4(b[j], b[4 + j], 0xdd);
		__m512i d0 = _mm512_shuffle_i32x4(b[8 + j], b[12 + j], 0x88);
		__m512i d1 = _mm512_shuffle_i32x4(b[8 + j], b[12 + j], 0xdd);
		r[j] = _mm512_shuffle_i32x4(c0, d0, 0x88);
		r[8 + j] = _mm512_shuffle_i32x4(c0, d0, 0xdd);
		r[4 + j] = _mm512_shuffle_i32x4(c1, d1, 0x88);
		r[12 + j] = _mm512_shuffle_i32x4(c1, d1, 0xdd);
	}
}

#define G(a, b, c, d, x, y)                                                    \
	do {                                                                   \
		v[a] = _mm512_add_epi32(_mm512_add_epi32(v[a], v[b]), x);      \
		v[d] = _mm512_ror_epi32(_mm512_xor_si512(v[d], v[a]), 16);     \
		v[c] = _mm512_add_epi32(v[c], v[d]);                           \
		v[b] = _mm512_ror_epi32(_mm512_xor_si512(v[b], v[c]), 12);     \
		v[a] = _mm512_add_epi32(_mm512_add_epi32(v[a], v[b]), y);      \
		v[d] = _mm512_ror_epi32(_mm512_xor_si512(v[d], v[a]), 8);      \
		v[c] = _mm512_add_epi32(v[c], v[d]);                           \
		v[b] = _mm512_ror_epi32(_mm512_xor_si512(v[b], v[c]), 7);      \
	} while (0)

/* Lane i hashes the chunk at in + i KiB with counter ctr[i]. */
B3_ZMM void hash16_lanes(const uint8_t *in, const uint64_t ctr[16],
			 uint32_t out[16][8])
{
	__m512i h[8], v[16], m[16];
	uint32_t lo[16], hi[16], cv[8][16];
	for (int i = 0; i < 8; i++)
		h[i] = _mm512_set1_epi32((int)b3_iv[i]);
	for (int i = 0; i < 16; i++) {
		lo[i] = (uint32_t)ctr[i];
		hi[i] = (uint32_t)(ctr[i] >> 32);
	}
	const __m512i clo = _mm512_loadu_si512(lo);
	const __m512i chi = _mm512_loadu_si512(hi);
	for (int b = 0; b < 16; b++) {
		for (int i = 0; i < 16; i++)
			m[i] = _mm512_loadu_si512(
			    in + (size_t)i * SALVO_BLAKE3_CHUNK_BYTES + 64 * b);
		transpose16(m);
		for (int i = 0; i < 8; i++)
			v[i] = h[i];
		for (int i = 0; i < 4; i++)
			v[8 + i] = _mm512_set1_epi32((int)b3_iv[i]);
		v[12] = clo;
		v[13] = chi;
		v[14] = _mm512_set1_epi32(64);
		v[15] = _mm512_set1_epi32((b == 0 ? B3_CHUNK_START : 0) |
					  (b == 15 ? B3_CHUNK_END : 0));
		B3_ROUNDS();
		for (int i = 0; i < 8; i++)
			h[i] = _mm512_xor_si512(v[i], v[i + 8]);
	}
	for (int w = 0; w < 8; w++)
		_mm512_storeu_si512(cv[w], h[w]);
	for (int i = 0; i < 16; i++)
		for (int w = 0; w < 8; w++)
			out[i][w] = cv[w][i];
}

__attribute__((target("avx512f"))) void
salvo_blake3_hash16_avx512(const uint8_t *in, uint64_t counter,
			   uint32_t out[16][8])
{
	uint64_t ctr[16];
	for (int i = 0; i < 16; i++)
		ctr[i] = counter + (uint64_t)i;
	hash16_lanes(in, ctr, out);
}

__attribute__((target("avx512f"))) void
salvo_blake3_hash16_at_avx512(const uint8_t *in, const uint64_t counters[16],
			      uint32_t out[16][8])
{
	hash16_lanes(in, counters, out);
}
#undef G
#ifdef __clang__
#pragma clang attribute pop
#endif
#else /* not x86: never selected, defined for the linker */
#include "common/core/blake3.h"
#include "common/core/blake3_impl.h"

void salvo_blake3_hash8_avx512(const uint8_t *in, uint64_t counter,
			       uint32_t out[8][8])
{
	salvo_blake3_hash8_portable(in, counter, out);
}

void salvo_blake3_parents8_avx512(const uint32_t in[8][16], uint32_t out[8][8])
{
	salvo_blake3_parents8_portable(in, out);
}

void salvo_blake3_hash16_avx512(const uint8_t *in, uint64_t counter,
				uint32_t out[16][8])
{
	salvo_blake3_hash8_portable(in, counter, out);
	salvo_blake3_hash8_portable(in + 8 * SALVO_BLAKE3_CHUNK_BYTES,
				    counter + 8, out + 8);
}

void salvo_blake3_hash8_at_avx512(const uint8_t *in, const uint64_t counters[8],
				  uint32_t out[8][8])
{
	salvo_blake3_hash8_at_portable(in, counters, out);
}

void salvo_blake3_hash16_at_avx512(const uint8_t *in,
				   const uint64_t counters[16],
				   uint32_t out[16][8])
{
	salvo_blake3_hash8_at_portable(in, counters, out);
	salvo_blake3_hash8_at_portable(in + 8 * SALVO_BLAKE3_CHUNK_BYTES,
				       counters + 8, out + 8);
}
#endif
