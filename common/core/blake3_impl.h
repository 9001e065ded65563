/* Shared by blake3.c and blake3_avx2.c: constants of the specification. */
#ifndef SALVO_BLAKE3_IMPL_H
#define SALVO_BLAKE3_IMPL_H

#include <stddef.h>
#include <stdint.h>

enum {
	B3_CHUNK_START = 1,
	B3_CHUNK_END = 2,
	B3_PARENT = 4,
	B3_ROOT = 8,
};

/* the SHA-256 IV; the hash mode's key */
static const uint32_t b3_iv[8] = {0x6A09E667, 0xBB67AE85, 0x3C6EF372,
				  0xA54FF53A, 0x510E527F, 0x9B05688C,
				  0x1F83D9AB, 0x5BE0CD19};

/* message word order of each of the 7 rounds (the permutation applied r
 * times); visible here so that unrolled rounds index with constants */
static const uint8_t b3_schedule[7][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8},
    {3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1},
    {10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6},
    {12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4},
    {9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7},
    {11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13},
};

/* One round on state v with message m (arrays of 16 words or vectors),
 * through the caller's G(a, b, c, d, x, y). */
#define B3_ROUND(r)                                                            \
	do {                                                                   \
		const uint8_t *s_ = b3_schedule[r];                            \
		G(0, 4, 8, 12, m[s_[0]], m[s_[1]]);                            \
		G(1, 5, 9, 13, m[s_[2]], m[s_[3]]);                            \
		G(2, 6, 10, 14, m[s_[4]], m[s_[5]]);                           \
		G(3, 7, 11, 15, m[s_[6]], m[s_[7]]);                           \
		G(0, 5, 10, 15, m[s_[8]], m[s_[9]]);                           \
		G(1, 6, 11, 12, m[s_[10]], m[s_[11]]);                         \
		G(2, 7, 8, 13, m[s_[12]], m[s_[13]]);                          \
		G(3, 4, 9, 14, m[s_[14]], m[s_[15]]);                          \
	} while (0)

#define B3_ROUNDS()                                                            \
	do {                                                                   \
		B3_ROUND(0);                                                   \
		B3_ROUND(1);                                                   \
		B3_ROUND(2);                                                   \
		B3_ROUND(3);                                                   \
		B3_ROUND(4);                                                   \
		B3_ROUND(5);                                                   \
		B3_ROUND(6);                                                   \
	} while (0)

/* Eight whole chunks at in (8 KiB) numbered counter.. counter+7, or
 * eight parent nodes (left and right chaining values), to their chaining
 * values; one version per instruction set, all giving the same result. */
void salvo_blake3_hash8_portable(const uint8_t *in, uint64_t counter,
				 uint32_t out[8][8]);
void salvo_blake3_hash8_avx2(const uint8_t *in, uint64_t counter,
			     uint32_t out[8][8]);
void salvo_blake3_hash8_avx512(const uint8_t *in, uint64_t counter,
			       uint32_t out[8][8]);
/* Sixteen whole chunks at in (16 KiB) with 512-bit vectors. */
void salvo_blake3_hash16_avx512(const uint8_t *in, uint64_t counter,
				uint32_t out[16][8]);
/* The same with a counter per chunk (chunks gathered from anywhere). */
void salvo_blake3_hash8_at_portable(const uint8_t *in,
				    const uint64_t counters[8],
				    uint32_t out[8][8]);
void salvo_blake3_hash8_at_avx2(const uint8_t *in, const uint64_t counters[8],
				uint32_t out[8][8]);
void salvo_blake3_hash8_at_avx512(const uint8_t *in, const uint64_t counters[8],
				  uint32_t out[8][8]);
void salvo_blake3_hash16_at_avx512(const uint8_t *in,
				   const uint64_t counters[16],
				   uint32_t out[16][8]);
void salvo_blake3_parents8_portable(const uint32_t in[8][16],
				    uint32_t out[8][8]);
void salvo_blake3_parents8_avx2(const uint32_t in[8][16], uint32_t out[8][8]);
void salvo_blake3_parents8_avx512(const uint32_t in[8][16], uint32_t out[8][8]);

/*
 * For the tree of common/core/b3tree.c, which hashes a file's chunks in
 * any order and joins its subtrees itself.  isa is a SALVO_BLAKE3_ISA_*
 * no wider than salvo_blake3_cpu_isa().  None of these is the root,
 * except salvo_blake3_parent_root.
 */
/* The widest instruction set the CPU has (what salvo_blake3_init picks). */
int salvo_blake3_cpu_isa(void);
/* Chaining values of the n whole chunks at in (n KiB), numbered counter
 * onwards: sixteen or eight at a time where the instruction set allows. */
void salvo_blake3_chunk_cvs(int isa, const uint8_t *in, uint64_t counter,
			    size_t n, uint32_t (*out)[8]);
/* The same for n whole chunks at in with counters[i] for chunk i. */
void salvo_blake3_chunk_cvs_at(int isa, const uint8_t *in,
			       const uint64_t *counters, size_t n,
			       uint32_t (*out)[8]);
/* Chaining value of one chunk of len (1 ..  1024) bytes: a file's last
 * chunk may be short. */
void salvo_blake3_chunk_cv(const uint8_t *in, size_t len, uint64_t counter,
			   uint32_t cv[8]);
/* n parent chaining values: in[i] holds the left then the right child's.
 * out may be in itself (out[i] overwrites the first half of in[i]). */
void salvo_blake3_parent_cvs(int isa, const uint32_t (*in)[16], size_t n,
			     uint32_t (*out)[8]);
/* The digest when the root is the parent of left and right. */
void salvo_blake3_parent_root(const uint32_t left[8], const uint32_t right[8],
			      uint8_t out[32]);

#endif
