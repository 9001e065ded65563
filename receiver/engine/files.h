/*
 * The receiver's file side for one session: confinement below the root,
 * hidden part-files written in place, verification, and the durable
 * commit (fsync, rename, fsync of the directory).  Internal to the
 * receiver engine; called with the engine's lock held, except the
 * verify/finalize functions, which the verifier thread calls alone.
 */
#ifndef SALVO_RFILES_H
#define SALVO_RFILES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/core/manifest.h"

typedef struct rfiles {
	int root;		 /* fd of the receiver's root folder */
	const salvo_manifest *m; /* borrowed from the core session */
	uint32_t session;
	int overwrite; /* enum salvo_overwrite */
	uint64_t max_file_bytes;
	int *parent;	    /* per entry: index into dirs */
	int *fd;	    /* per entry: open part-file, or -1 */
	uint8_t *committed; /* per entry */
	/* incremental BLAKE3: each file is hashed in order as its blocks
	 * verify, so the whole-file check at the end costs nothing extra */
	struct salvo_blake3 **md; /* per entry, lazily */
	uint64_t *hashed;	  /* per entry: bytes hashed so far */
	uint8_t *bver;		  /* per block: verified */
	uint32_t block_bytes;
	uint64_t nblocks;
	uint8_t *buf; /* the verifier's read buffer */
	struct rdir {
		char *path; /* "" for the root */
		int fd;
		int dirty; /* a rename happened inside */
	} * dirs;
	size_t ndirs, cap;
} rfiles;

/* Creates the session's folders and checks every path (confinement,
 * size limit).  Returns 0 or -errno with a message naming the path. */
int rfiles_prepare(rfiles *f, int root, const salvo_manifest *m,
		   uint32_t session, uint32_t block_bytes, int overwrite,
		   uint64_t max_file_bytes, char *msg, size_t len);

/* pwritev of n buffers, back to back from off, into entry i's part-file
 * (created on first use); iov is consumed.  0 or -errno with a message. */
int rfiles_writev(rfiles *f, uint32_t i, uint64_t off, struct iovec *iov, int n,
		  char *msg, size_t msglen);

/* Reads back data-stream bytes [start, start+len) of block `block` once:
 * checks their CRC32C against want_crc and, from the same read, extends
 * the running BLAKE3 of the files whose hash has reached this block (only
 * if the CRC matched).  Returns 1 (matched), 0 (did not) or -errno.
 * Verifier thread only. */
int rfiles_verify_block(rfiles *f, uint32_t block, uint64_t start, uint32_t len,
			uint32_t want_crc);

/* Hashes entry i (or finishes its running hash), compares with digest, then
 * fsync, mode, mtime, rename to the final name.  Returns 0, SALVO_ERR_VERIFY or
 * -errno (msg). */
int rfiles_commit(rfiles *f, uint32_t i, const uint8_t digest[32], char *msg,
		  size_t len);

/* After the last file: folder modes and mtimes, fsync every folder that
 * received a file.  0 or -errno. */
int rfiles_finish(rfiles *f, char *msg, size_t len);

/* Closes everything; with discard, removes the part-files left. */
void rfiles_free(rfiles *f, int discard);

#endif
