/*
 * BLAKE3 with AVX2: eight chunks (or eight parent nodes) at once, one per
 * 32-bit lane; the body is blake3_x86.h.  Rotations by 16 and 8 are byte
 * shuffles, by 12 and 7 two shifts and an or.  Built with a target
 * attribute, so the rest of salvo needs no -mavx2; blake3.c calls it only
 * when the CPU reports AVX2.
 */
#if defined(__x86_64__)
#define B3_TARGET target("avx2")
#define B3_SUFFIX avx2
#define B3_ROR(x, n)                                                           \
	((n) == 16                                                             \
	     ? _mm256_shuffle_epi8(                                            \
		   x, _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9,   \
				       14, 15, 12, 13, 2, 3, 0, 1, 6, 7, 4, 5, \
				       10, 11, 8, 9, 14, 15, 12, 13))          \
	 : (n) == 8                                                            \
	     ? _mm256_shuffle_epi8(                                            \
		   x, _mm256_setr_epi8(1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8,   \
				       13, 14, 15, 12, 1, 2, 3, 0, 5, 6, 7, 4, \
				       9, 10, 11, 8, 13, 14, 15, 12))          \
	     : _mm256_or_si256(_mm256_srli_epi32(x, n),                        \
			       _mm256_slli_epi32(x, 32 - (n))))
#include "common/core/blake3_x86.h"
#else /* not x86: never selected, defined for the linker */
#include "common/core/blake3.h"
#include "common/core/blake3_impl.h"

void salvo_blake3_hash8_avx2(const uint8_t *in, uint64_t counter,
			     uint32_t out[8][8])
{
	salvo_blake3_hash8_portable(in, counter, out);
}

void salvo_blake3_hash8_at_avx2(const uint8_t *in, const uint64_t counters[8],
				uint32_t out[8][8])
{
	salvo_blake3_hash8_at_portable(in, counters, out);
}

void salvo_blake3_parents8_avx2(const uint32_t in[8][16], uint32_t out[8][8])
{
	salvo_blake3_parents8_portable(in, out);
}
#endif
