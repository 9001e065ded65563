/*
 * The durable verified-block map of one part-file (resume), as bytes: the
 * pure half of receiver/engine/resume.c, which reads and writes the files.
 *
 * A map says which bytes of a part-file the receiver verified (their
 * block's CRC32C matched) and had on disk (fsynced before the map was
 * written), and for which file: the identity below.  A later session
 * whose manifest names a file with the same identity, from the same
 * sender identity, resumes from those bytes; the final BLAKE3 check of
 * the whole file still decides whether the result is kept.
 *
 * Identity: the sender's static public key (or "anonymous": every sender
 * the receiver serves without a listed key shares that one identity),
 * the file's path as the receiver stores it (below the sender's folder),
 * its size and its mtime in nanoseconds, all as the manifest says.  The
 * source-identity digest is BLAKE3 over those fields (the encoding in
 * salvo_rmap_digest); the part-file and the map are named after its
 * first 16 bytes, so a new session for the same file finds them.  The
 * source's inode is not part of it: the manifest does not carry one, and
 * a file replaced by another of the same size and nanosecond mtime is
 * caught by the whole-file digest (the session then fails, the part is
 * discarded, and a new send starts from nothing).
 *
 * File format, version 1, integers big-endian:
 *
 *   0   8   magic "SALVOMAP"
 *   8   u32 version (1); another version is refused, never guessed at
 *   12  u32 block_bytes of the session that wrote it (information)
 *   16  u64 size
 *   24  i64 mtime_ns
 *   32  u8  1 anonymous, 0 keyed
 *   33  32  sender key (zeros when anonymous)
 *   65  32  source-identity digest
 *   97  u16 path_len, then the path (no NUL)
 *   ..  u32 nranges, then nranges pairs (u64 start, u64 end): the
 *           verified bytes of the file, sorted, disjoint, not touching,
 *           inside [0, size) (the verified blocks, coalesced)
 *   ..  u32 CRC32C of every byte before it
 *
 * Anything that does not decode exactly (a short file, a bad CRC, a
 * range out of order, trailing bytes, another identity) is refused: the
 * engine then discards the part-file rather than trust it.
 *
 * Pure: no allocation, no I/O.
 */
#ifndef SALVO_RMAP_H
#define SALVO_RMAP_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/wire.h"

#define SALVO_RMAP_MAGIC "SALVOMAP"
#define SALVO_RMAP_VERSION 1u
#define SALVO_RMAP_FIXED_BYTES 99u /* through path_len */
#define SALVO_RMAP_RANGE_BYTES 16u
/* The name stem of a part-file and its map: "r-" and 32 hex digits. */
#define SALVO_RMAP_STEM_BYTES 34u

typedef struct salvo_rmap_id {
	int anonymous;
	uint8_t key[32]; /* ignored when anonymous */
	const char *path;
	uint16_t path_len;
	uint64_t size;
	int64_t mtime_ns;
} salvo_rmap_id;

/* What salvo_rmap_decode found: the ranges stay in the caller's buffer. */
typedef struct salvo_rmap {
	uint32_t block_bytes;
	uint32_t nranges;
	uint64_t bytes;	       /* verified bytes, the ranges' total */
	const uint8_t *ranges; /* nranges pairs, read with salvo_rmap_range */
} salvo_rmap;

/* The source-identity digest of id. */
void salvo_rmap_digest(const salvo_rmap_id *id, uint8_t out[32]);

/* "r-" and the first 16 bytes of the digest in hex, NUL-terminated
 * (out: SALVO_RMAP_STEM_BYTES + 1). */
void salvo_rmap_stem(const uint8_t digest[32], char *out);

/* Bytes a map of id with n ranges takes. */
size_t salvo_rmap_size(const salvo_rmap_id *id, size_t n);

/* Encodes the map of id (its n ranges, each [r[i].start, r[i].end),
 * sorted and disjoint) into buf.  Returns the length or SALVO_ERR_TOOBIG
 * (cap too small) / SALVO_ERR_INVAL (a range out of order or past the
 * size). */
int64_t salvo_rmap_encode(uint8_t *buf, size_t cap, const salvo_rmap_id *id,
			  uint32_t block_bytes, const salvo_range *r, size_t n);

/* Decodes buf[0..len) as the map of expect.  0 with *out filled;
 * SALVO_ERR_VERSION (another version), SALVO_ERR_CHECKSUM (damaged),
 * SALVO_ERR_TRUNCATED / SALVO_ERR_MALFORMED (does not decode),
 * SALVO_ERR_KEY (another sender's), SALVO_ERR_STATE (another file, or
 * the file changed: path, size, mtime or digest differ). */
int salvo_rmap_decode(const uint8_t *buf, size_t len,
		      const salvo_rmap_id *expect, salvo_rmap *out);

/* Range i of a decoded map. */
salvo_range salvo_rmap_range(const salvo_rmap *m, uint32_t i);

#endif
