/*
 * BLAKE3 with AVX-512VL on 256-bit vectors: the body of blake3_x86.h with
 * the rotate instruction (vprord) and, with EVEX encoding, 32 vector
 * registers, so the state and the message stay in registers.  Called only
 * when the CPU reports AVX-512F and VL.
 */
#if defined(__x86_64__)
#define B3_TARGET target("avx2,avx512f,avx512vl")
#define B3_SUFFIX avx512
#define B3_ROR(x, n) _mm256_ror_epi32(x, n)
#include "common/core/blake3_x86.h"
#else
typedef int salvo_blake3_avx512_unused; /* ISO C: no empty unit */
#endif
