/*
 * Reading the data stream: byte o of a session is byte o - stream_offset
 * of the file whose range holds it.  A work item's range may cross many
 * small files; a big file is read by several block-senders at once.
 *
 * File descriptors are cached, least recently used first out, with at
 * most max_open open at a time, so a tree of a million files needs no
 * million descriptors; a descriptor in use by a thread is never closed
 * under it.  max_open comes from the process's descriptor limit
 * (salvo_reader_fd_budget), and should the process run out all the same
 * (another session, a log file), an open that fails with EMFILE closes
 * the least recently used idle descriptor, tries again and keeps the
 * cache at the size it had.
 *
 * Thread-safe: salvo_reader_read may run in any number of threads.
 */
#ifndef SALVO_SEND_READER_H
#define SALVO_SEND_READER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/core/manifest.h"
#include "sender/engine/scan.h"

typedef struct salvo_reader_slot {
	int fd;
	uint32_t file;
	uint32_t users;	    /* threads reading through fd now */
	int32_t prev, next; /* LRU list, most recent at head */
} salvo_reader_slot;

/* A file the reader gave up (see salvo_reader_read): err -errno (-EIO:
 * it shrank or changed in place), msg for a person.  Returns 0 to go on with
 * zeros, or an error to fail the read instead. */
typedef int (*salvo_reader_abandon_fn)(void *ud, uint32_t file, int err,
				       const char *msg);

/* A file that grew after the scan (found as its last scanned byte is
 * read): scanned and now are its sizes in bytes.  Told once per file;
 * the file is still sent at its scanned size. */
typedef void (*salvo_reader_grow_fn)(void *ud, uint32_t file, uint64_t scanned,
				     uint64_t now);

typedef struct salvo_reader {
	const salvo_scan *scan; /* borrowed; stream offsets filled in */
	salvo_manifest view;	/* scan's entries, for locating offsets */
	pthread_mutex_t lock;
	int32_t *slot_of; /* file -> slot, -1: not open */
	salvo_reader_slot *slots;
	uint32_t cap, used;
	int32_t head, tail;
	uint8_t *abandoned; /* per file: READER_GONE given up, read as
			     * zeros; READER_GREW its growth told */
	salvo_reader_abandon_fn on_abandon; /* NULL: a failure fails */
	void *abandon_ud;
	salvo_reader_grow_fn on_grow; /* NULL: growth goes unsaid */
	void *grow_ud;
} salvo_reader;

/* Descriptors the reader keeps open at most (see salvo_reader_init). */
#define SALVO_READER_OPEN_DEFAULT 256u
/* Descriptors left to the rest of the process by salvo_reader_fd_budget
 * (the threads' private descriptors, log files, the hot folder's
 * inotify and journal). */
#define SALVO_READER_FD_RESERVE 16u

/* How many descriptors a reader may cache: half of what RLIMIT_NOFILE
 * leaves beyond the descriptors open now and SALVO_READER_FD_RESERVE,
 * at most SALVO_READER_OPEN_DEFAULT and at least 1.  Under `ulimit -n 64`
 * with 4 sockets open, about 20.  Reads /proc/self/fd; without it
 * assumes SALVO_READER_FD_RESERVE descriptors are open. */
uint32_t salvo_reader_fd_budget(void);

/* Prepares reading the files of scan (whose entries carry their stream
 * offsets; total is the stream length), keeping at most max_open
 * descriptors (at least 1).  Returns 0 or -ENOMEM / -errno. */
int salvo_reader_init(salvo_reader *r, const salvo_scan *scan, uint64_t total,
		      uint32_t max_open);
/* Closes every descriptor. */
void salvo_reader_free(salvo_reader *r);

/* Reads stream bytes [off, off + len) into dst.  Returns 0, or -errno
 * with a message naming the file in msg (a file that cannot be opened or
 * read, or that shrank since the scan, or that has its scanned size and
 * another mtime, i.e. was written in place: -EIO).  With on_abandon set, such
 * a file (not a lack of descriptors or memory) is given up instead: the
 * callback hears it once, and its bytes (this read's and every later
 * one's) read as zeros, so each block holds the same bytes whenever it
 * is read again. */
int salvo_reader_read(salvo_reader *r, uint64_t off, void *dst, size_t len,
		      char *msg, size_t msglen);

#endif
