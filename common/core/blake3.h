/*
 * BLAKE3 (hash mode, 32-byte output): the strong whole-file digest of the
 * protocol.  The input is cut into 1 KiB chunks that hash independently
 * and join in a binary tree, so whole chunks go eight at a time through
 * AVX2 (blake3_avx2.c) or sixteen through AVX-512 (blake3_avx512.c)
 * where the CPU has them: 1.1 and 1.8 GB/s here, against 1.05 for
 * OpenSSL's SHA-256 with SHA-NI and 0.33 for the portable code.  Specification:
 * https://github.com/BLAKE3-team/BLAKE3-specs
 *
 * Pure: no allocation, no I/O.  A salvo_blake3 has one owner thread; it
 * may be copied by value (to fork a running hash).  Feed large pieces,
 * multiples of 16 KiB where possible: whole chunks of one update go
 * eight at a time, and aligned runs of sixteen join their subtree there.
 */
#ifndef SALVO_BLAKE3_H
#define SALVO_BLAKE3_H

#include <stddef.h>
#include <stdint.h>

#define SALVO_BLAKE3_BYTES 32
#define SALVO_BLAKE3_CHUNK_BYTES 1024
#define SALVO_BLAKE3_MAX_DEPTH 54 /* 2^54 chunks: 16 EiB */

typedef struct salvo_blake3 {
	uint32_t cv[8];	     /* chaining value of the current chunk */
	uint64_t chunk;	     /* index of the current chunk */
	uint8_t block[64];   /* its unhashed block, zero-padded */
	uint8_t block_len;   /* bytes in block */
	uint8_t blocks_done; /* blocks of the current chunk compressed */
	uint8_t stack_len;
	uint8_t pending; /* pending_cv holds chunk - 1, not yet pushed */
	uint8_t isa;	 /* SALVO_BLAKE3_ISA_*: the widest the CPU has */
	uint32_t pending_cv[8];
	uint32_t stack[SALVO_BLAKE3_MAX_DEPTH]
		      [8]; /* subtree roots, left first */
} salvo_blake3;

enum {
	SALVO_BLAKE3_ISA_PORTABLE = 0,
	SALVO_BLAKE3_ISA_AVX2,
	SALVO_BLAKE3_ISA_AVX512,
};

/* Sets up h with the widest instruction set the CPU has. */
void salvo_blake3_init(salvo_blake3 *h);
/* For tests and benchmarks: a narrower instruction set than init chose
 * (a wider one than the CPU has is ignored). */
void salvo_blake3_limit_isa(salvo_blake3 *h, int isa);
void salvo_blake3_update(salvo_blake3 *h, const void *p, size_t len);
/* The digest of everything fed so far; h is unchanged and may go on. */
void salvo_blake3_final(const salvo_blake3 *h, uint8_t out[SALVO_BLAKE3_BYTES]);
void salvo_blake3_hash(const void *p, size_t len,
		       uint8_t out[SALVO_BLAKE3_BYTES]);

#endif
