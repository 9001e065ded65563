/*
 * The receiver's file side for one session: confinement below the root,
 * hidden part-files written in place, reading them back, and the durable
 * commit (fsync, rename, fsync of the directory).  Internal to the
 * receiver engine.  Threading per function below; what verifies a block
 * or a file is the verifier's (verifier.c), not this file's.
 */
#ifndef SALVO_RFILES_H
#define SALVO_RFILES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/core/manifest.h"

typedef struct rfiles {
	int root;		 /* fd of the receiver's root folder */
	const salvo_manifest *m; /* borrowed from the engine's session */
	uint32_t session;
	int overwrite; /* enum salvo_overwrite */
	uint64_t max_file_bytes;
	int *parent;	    /* per entry: index into dirs */
	int *fd;	    /* per entry: open part-file, or -1 */
	uint8_t *committed; /* per entry */
	uint8_t *buf;	    /* the verifier's read-back buffer */
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
		   uint32_t session, int overwrite, uint64_t max_file_bytes,
		   char *msg, size_t len);

/* Entry i's part-file, created on first use: the fd, or -errno with a
 * message.  Creating it changes f: one thread at a time (the engine calls
 * it under its core lock, before any write to the file). */
int rfiles_open(rfiles *f, uint32_t i, char *msg, size_t len);

/* pwritev of n buffers, back to back from off, into entry i's part-file;
 * iov is consumed.  0 or -errno with a message.  Any thread, once the
 * part-file is open. */
int rfiles_writev(rfiles *f, uint32_t i, uint64_t off, struct iovec *iov, int n,
		  char *msg, size_t msglen);

/* Reads data-stream bytes [start, start + len) back from the part-files
 * into *crc (CRC32C).  0 or -errno.  Verifier thread only (it owns buf). */
int rfiles_crc(rfiles *f, uint64_t start, uint32_t len, uint32_t *crc);

/* Reads entry i's part-file back for its BLAKE3 digest.  0 or -errno with
 * a message. */
int rfiles_digest(rfiles *f, uint32_t i, uint8_t out[32], char *msg,
		  size_t len);

/* Makes entry i durable under its final name: mode, mtime, fsync, then
 * rename per the overwrite policy.  Returns 0 or -errno (msg). */
int rfiles_commit(rfiles *f, uint32_t i, char *msg, size_t len);

/* After the last file: folder modes and mtimes, fsync every folder that
 * received a file.  0 or -errno. */
int rfiles_finish(rfiles *f, char *msg, size_t len);

/* Closes everything; with discard, removes the part-files left. */
void rfiles_free(rfiles *f, int discard);

#endif
