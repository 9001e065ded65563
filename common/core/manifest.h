/*
 * The manifest: every file and directory of a session, in one encoded
 * blob sent before the data.  File data forms one stream: the files'
 * bytes back to back in manifest order (directories add none), cut into
 * fixed-size blocks, so small files share blocks and need no round trip
 * each.
 *
 * Encoding (big-endian):
 *   u32 entry count, u8 overwrite (the sender's request, enum
 *   salvo_send_overwrite of policy.h), u8 + u16 reserved (0)
 *   per entry: u8 type (1 file, 2 directory), u8 flags,
 *              u16 path length (1..SALVO_PATH_MAX), u32 mode (permission
 *              bits, <= 07777), u64 size (0 for directories),
 *              i64 mtime (ns since the epoch), path bytes, and with flag
 *              SALVO_ENTRY_F_DIGEST the file's BLAKE3 (32 bytes)
 * so every entry takes at least 25 bytes (wire.h's HELLO check relies on
 * 24 + 1).  Digests come with --checksum only, on every file of the
 * manifest or on none (a folder never has one), so a manifest without
 * them costs no memory for them on either side.
 */
#ifndef SALVO_MANIFEST_H
#define SALVO_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/mem.h"

enum salvo_entry_type { SALVO_ENTRY_FILE = 1, SALVO_ENTRY_DIR = 2 };

#define SALVO_MANIFEST_HDR_BYTES 8
#define SALVO_ENTRY_FIXED_BYTES 24
#define SALVO_ENTRY_DIGEST_BYTES 32 /* BLAKE3 */
#define SALVO_ENTRY_F_DIGEST 0x01   /* the entry's content digest follows */

typedef struct salvo_entry {
	uint8_t type; /* enum salvo_entry_type */
	uint16_t path_len;
	uint32_t mode; /* permission bits */
	uint64_t size; /* bytes (files) */
	int64_t mtime_ns;
	const char *path;	/* path_len bytes, NUL-terminated in decoded
				   manifests; relative, '/'-separated */
	uint64_t stream_offset; /* filled by encode/decode: first byte's
				   offset in the data stream */
} salvo_entry;

typedef struct salvo_manifest {
	const salvo_mem *mem; /* borrowed */
	salvo_entry *entries;
	uint32_t count;
	uint64_t total_bytes; /* sum of file sizes = data stream length */
	char *names;	      /* decoded: storage for the paths */
	uint8_t overwrite;    /* decoded: the sender's request */
	/* NULL, or every entry's content digest (count entries; a folder's
	 * is zeros): the sender's --checksum */
	uint8_t (*digests)[SALVO_ENTRY_DIGEST_BYTES];
} salvo_manifest;

/* Bytes needed to encode n entries without digests (no overflow for
 * valid inputs). */
uint64_t salvo_manifest_encoded_size(const salvo_entry *e, uint32_t n);

/* What digests add to that: SALVO_ENTRY_DIGEST_BYTES per file. */
uint64_t salvo_manifest_digests_size(const salvo_entry *e, uint32_t n);

/* Encodes entries into buf (cap bytes; size from encoded_size), filling
 * each entry's stream_offset and *total_bytes.  Returns the length or
 * SALVO_ERR_TOOBIG / SALVO_ERR_PATH / SALVO_ERR_INVAL (a bad entry:
 * invalid path, mode, type, or a directory with a size). */
int64_t salvo_manifest_encode(salvo_entry *e, uint32_t n, void *buf, size_t cap,
			      uint64_t *total_bytes);

/* Like salvo_manifest_encode, but e stays as it is (stream_offset is not
 * filled): a sender encodes its caller's entries without a copy of them
 * (40 bytes an entry, 40 MB for a million files).  digests: NULL, or n
 * digests (entry i's at digests[i], a folder's ignored) that every file
 * entry carries (flag SALVO_ENTRY_F_DIGEST): cap must then also hold
 * salvo_manifest_digests_size. */
int64_t salvo_manifest_write(const salvo_entry *e, uint32_t n,
			     const uint8_t (*digests)[SALVO_ENTRY_DIGEST_BYTES],
			     void *buf, size_t cap, uint64_t *total_bytes);

/* Decodes and validates an encoded manifest into m (storage from mem).
 * Returns 0 or SALVO_ERR_MALFORMED / SALVO_ERR_TRUNCATED / SALVO_ERR_PATH
 * / SALVO_ERR_NOMEM; on error, *bad_entry (if not NULL) is the index of
 * the offending entry and *why a static reason.  m needs
 * salvo_manifest_free() after success only. */
int salvo_manifest_decode(salvo_manifest *m, const salvo_mem *mem,
			  const void *buf, size_t len, uint32_t *bad_entry,
			  const char **why);

void salvo_manifest_free(salvo_manifest *m);

/* Steps over one entry of an encoded manifest without decoding it: the
 * entry at buf + *pos (buf holding len bytes) gives its size and path
 * length, and *pos moves past it (its digest included).  Checks only
 * that the entry fits.  0, or SALVO_ERR_TRUNCATED (*pos unchanged). */
int salvo_manifest_skip_entry(const void *buf, size_t len, size_t *pos,
			      uint64_t *size, uint16_t *path_len);

/* Writes the sender's overwrite request (enum salvo_send_overwrite) into
 * an encoded manifest's header (buf at least SALVO_MANIFEST_HDR_BYTES). */
void salvo_manifest_set_overwrite(void *buf, uint8_t overwrite);

/* A deep copy of src (entries, paths and digests) into dst, storage from mem,
 * for a holder that must outlive src's owner.  Returns 0 or SALVO_ERR_NOMEM
 * (dst then needs no free). */
int salvo_manifest_copy(salvo_manifest *dst, const salvo_manifest *src,
			const salvo_mem *mem);

/* Index of the file holding stream byte `off` (the last entry whose
 * stream_offset <= off and whose size > 0).  off < total_bytes. */
uint32_t salvo_manifest_locate(const salvo_manifest *m, uint64_t off);

#endif
