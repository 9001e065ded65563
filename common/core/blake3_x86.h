/*
 * The body of blake3_avx2.c and blake3_avx512.c: eight BLAKE3
 * compressions at once, one per 32-bit lane of a 256-bit vector.  The
 * including file defines B3_TARGET (the target attribute), B3_SUFFIX
 * (the function name suffix) and B3_ROR(x, n) (rotate each lane right;
 * AVX-512VL has an instruction for it, AVX2 shifts or shuffles).
 */
#include <immintrin.h>

#include "common/core/blake3.h"
#include "common/core/blake3_impl.h"

/* clang's pointer-overflow check on the fully unrolled rounds takes
 * 80 s to compile per file (the sanitizer builds); the kernels are
 * checked against the portable code by tests/unit/test_blake3.c */
#ifdef __clang__
#pragma clang attribute push(__attribute__((no_sanitize("pointer-overflow"))), \
			     apply_to = function)
#endif

#define B3_CAT2(a, b) a##b
#define B3_CAT(a, b) B3_CAT2(a, b)
#define B3_FN(name) B3_CAT(name, B3_SUFFIX)
#define B3_INLINE static inline __attribute__((B3_TARGET, always_inline))

#define G(a, b, c, d, x, y)                                                    \
	do {                                                                   \
		v[a] = _mm256_add_epi32(_mm256_add_epi32(v[a], v[b]), x);      \
		v[d] = B3_ROR(_mm256_xor_si256(v[d], v[a]), 16);               \
		v[c] = _mm256_add_epi32(v[c], v[d]);                           \
		v[b] = B3_ROR(_mm256_xor_si256(v[b], v[c]), 12);               \
		v[a] = _mm256_add_epi32(_mm256_add_epi32(v[a], v[b]), y);      \
		v[d] = B3_ROR(_mm256_xor_si256(v[d], v[a]), 8);                \
		v[c] = _mm256_add_epi32(v[c], v[d]);                           \
		v[b] = B3_ROR(_mm256_xor_si256(v[b], v[c]), 7);                \
	} while (0)

/* r[i] = 8 words of row i; afterwards r[w] = word w of each row. */
B3_INLINE void transpose8(__m256i r[8])
{
	__m256i t[8], u[8];
	for (int i = 0; i < 8; i += 2) {
		t[i] = _mm256_unpacklo_epi32(r[i], r[i + 1]);
		t[i + 1] = _mm256_unpackhi_epi32(r[i], r[i + 1]);
	}
	for (int i = 0; i < 8; i += 4) {
		u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);
		u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);
		u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);
		u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
	}
	for (int i = 0; i < 4; i++) {
		r[i] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x20);
		r[i + 4] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x31);
	}
}

/* One 64-byte block per lane: lane i's block at base + i * stride. */
B3_INLINE void compress8(__m256i h[8], const uint8_t *base, size_t stride,
			 __m256i clo, __m256i chi, uint32_t flags)
{
	__m256i v[16], m[16];
	for (int i = 0; i < 8; i++) {
		const uint8_t *p = base + (size_t)i * stride;
		m[i] = _mm256_loadu_si256((const __m256i *)p);
		m[i + 8] = _mm256_loadu_si256((const __m256i *)(p + 32));
	}
	transpose8(m);
	transpose8(m + 8);
	for (int i = 0; i < 8; i++)
		v[i] = h[i];
	for (int i = 0; i < 4; i++)
		v[8 + i] = _mm256_set1_epi32((int)b3_iv[i]);
	v[12] = clo;
	v[13] = chi;
	v[14] = _mm256_set1_epi32(64);
	v[15] = _mm256_set1_epi32((int)flags);
	B3_ROUNDS();
	for (int i = 0; i < 8; i++)
		h[i] = _mm256_xor_si256(v[i], v[i + 8]);
}

B3_INLINE void store8(__m256i h[8], uint32_t out[8][8])
{
	transpose8(h);
	for (int i = 0; i < 8; i++)
		_mm256_storeu_si256((__m256i *)out[i], h[i]);
}

/* Lane i hashes the chunk at in + i KiB with counter ctr[i]. */
B3_INLINE void hash8_lanes(const uint8_t *in, const uint64_t ctr[8],
			   uint32_t out[8][8])
{
	__m256i h[8];
	uint32_t lo[8], hi[8];
	for (int i = 0; i < 8; i++) {
		h[i] = _mm256_set1_epi32((int)b3_iv[i]);
		lo[i] = (uint32_t)ctr[i];
		hi[i] = (uint32_t)(ctr[i] >> 32);
	}
	const __m256i clo = _mm256_loadu_si256((const __m256i *)lo);
	const __m256i chi = _mm256_loadu_si256((const __m256i *)hi);
	for (int b = 0; b < 16; b++)
		compress8(h, in + 64 * b, SALVO_BLAKE3_CHUNK_BYTES, clo, chi,
			  (b == 0 ? B3_CHUNK_START : 0) |
			      (b == 15 ? B3_CHUNK_END : 0));
	store8(h, out);
}

__attribute__((B3_TARGET)) void B3_FN(salvo_blake3_hash8_)(const uint8_t *in,
							   uint64_t counter,
							   uint32_t out[8][8])
{
	uint64_t ctr[8];
	for (int i = 0; i < 8; i++)
		ctr[i] = counter + (uint64_t)i;
	hash8_lanes(in, ctr, out);
}

__attribute__((B3_TARGET)) void
B3_FN(salvo_blake3_hash8_at_)(const uint8_t *in, const uint64_t counters[8],
			      uint32_t out[8][8])
{
	hash8_lanes(in, counters, out);
}

__attribute__((B3_TARGET)) void
B3_FN(salvo_blake3_parents8_)(const uint32_t in[8][16], uint32_t out[8][8])
{
	__m256i h[8];
	for (int i = 0; i < 8; i++)
		h[i] = _mm256_set1_epi32((int)b3_iv[i]);
	compress8(h, (const uint8_t *)in, 64, _mm256_setzero_si256(),
		  _mm256_setzero_si256(), B3_PARENT);
	store8(h, out);
}

#undef G

#ifdef __clang__
#pragma clang attribute pop
#endif
