/*
 * BLAKE3 of one file whose bytes arrive in any order: each engine hashes
 * the bytes it already holds (the sender the block it read to send, the
 * receiver the payload it writes), so no file is read a second time for
 * its digest.  BLAKE3 cuts its input into 1 KiB chunks joined in a binary
 * tree; every full, aligned power-of-two run of chunks is a node of that
 * tree, so a chunk can be hashed as soon as its bytes are all here and
 * two sibling subtrees joined as soon as both are done, whatever the
 * order.  Bytes of a chunk that straddles two pieces wait in a 1 KiB
 * buffer until the rest arrives; memory is bounded by the pieces in
 * flight (holes), not by the file size: about 1.5 KiB and a few subtree
 * entries (40 bytes) per hole, plus up to four 32 KiB buffers where
 * pieces that follow one another gather to be hashed many chunks at
 * once and a 16 KiB queue of lone chunks (less for a file under
 * 128 KiB).  Pieces of any size work; the sender's blocks and the
 * receiver's datagram payloads, in order or with holes, run at the
 * speed of the SIMD kernels (tests/unit/bench_b3tree.c).
 *
 * Contract: the caller adds every byte of [0, size) exactly once (a byte
 * added twice corrupts the digest, and more bytes than size are refused;
 * memory stays safe either way: the receiver core drops duplicates before
 * they reach the engine).  The digest equals salvo_blake3_hash of the
 * whole file.
 *
 * Pure: allocation through the salvo_mem given; one owner thread.
 */
#ifndef SALVO_B3TREE_H
#define SALVO_B3TREE_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/mem.h"

typedef struct salvo_b3tree salvo_b3tree;

/* A tree for a file of size bytes.  Returns 0 or SALVO_ERR_NOMEM. */
int salvo_b3tree_new(salvo_b3tree **out, const salvo_mem *mem, uint64_t size);
/* Frees t; NULL is a no-op. */
void salvo_b3tree_del(salvo_b3tree *t);

/* Adds bytes [offset, offset + len) of the file; p is read during the
 * call only.  Returns 0, SALVO_ERR_INVAL if the piece runs past size or
 * would make more bytes than size, or
 * SALVO_ERR_NOMEM, after which the tree is as it was before the call
 * (the same piece may be added again). */
int salvo_b3tree_add(salvo_b3tree *t, uint64_t offset, const void *p,
		     size_t len);

/* Bytes added so far. */
uint64_t salvo_b3tree_bytes(const salvo_b3tree *t);

/* 1 when every byte of the file was added. */
int salvo_b3tree_is_complete(const salvo_b3tree *t);

/* For tests and benchmarks, before the first add: a narrower instruction
 * set (a SALVO_BLAKE3_ISA_*) than the CPU's widest, which new chose; a
 * wider one is ignored.  The digest does not change. */
void salvo_b3tree_limit_isa(salvo_b3tree *t, int isa);

/* The file's BLAKE3 digest.  Returns 0, or SALVO_ERR_INVAL while bytes
 * are missing. */
int salvo_b3tree_final(const salvo_b3tree *t, uint8_t out[32]);

#endif
