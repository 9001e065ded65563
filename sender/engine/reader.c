/*
 * The stream reader (see reader.h).  A small table of open descriptors
 * with an LRU list, found by file index through slot_of; the lock covers
 * the table, never a pread.  A descriptor is released after each file
 * piece, so a thread holds at most one at a time; when every slot is in
 * use (more threads than slots) the piece is read through a descriptor
 * opened for it alone.  An open that fails with EMFILE or ENFILE evicts
 * the least recently used idle descriptor, freezes the table at its size
 * and tries once more: the process's limit wins over our budget.
 */
#include "sender/engine/reader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* salvo_reader.abandoned's bits */
#define READER_GONE 1u
#define READER_GREW 2u

/* check_unchanged's verdicts besides 0 and -errno */
#define READER_SHRANK 1
#define READER_CHANGED 2

/* Descriptors this process has open now, or -1 without /proc. */
static int64_t fds_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	int64_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own */
}

uint32_t salvo_reader_fd_budget(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return SALVO_READER_OPEN_DEFAULT;
	int64_t open_now = fds_open();
	if (open_now < 0)
		open_now = SALVO_READER_FD_RESERVE;
	int64_t left =
	    (int64_t)rl.rlim_cur - open_now - (int64_t)SALVO_READER_FD_RESERVE;
	if (left / 2 >= (int64_t)SALVO_READER_OPEN_DEFAULT)
		return SALVO_READER_OPEN_DEFAULT;
	return left / 2 >= 1 ? (uint32_t)(left / 2) : 1;
}

int salvo_reader_init(salvo_reader *r, const salvo_scan *scan, uint64_t total,
		      uint32_t max_open)
{
	memset(r, 0, sizeof(*r));
	r->scan = scan;
	r->view.entries = scan->entries;
	r->view.count = (uint32_t)scan->n;
	r->view.total_bytes = total;
	r->cap = max_open ? max_open : 1;
	r->head = r->tail = -1;
	r->slot_of = malloc((scan->n ? scan->n : 1) * sizeof(*r->slot_of));
	r->slots = malloc(r->cap * sizeof(*r->slots));
	r->abandoned = calloc(scan->n ? scan->n : 1, 1);
	int e = ENOMEM;
	if (!r->slot_of || !r->slots || !r->abandoned)
		goto fail;
	for (size_t i = 0; i < scan->n; i++)
		r->slot_of[i] = -1;
	e = pthread_mutex_init(&r->lock, NULL);
	if (!e)
		return 0;
fail:
	free(r->slot_of);
	free(r->slots);
	free(r->abandoned);
	return -e;
}

void salvo_reader_free(salvo_reader *r)
{
	for (uint32_t i = 0; i < r->used; i++)
		if (r->slots[i].fd >= 0)
			close(r->slots[i].fd);
	free(r->slot_of);
	free(r->slots);
	free(r->abandoned);
	pthread_mutex_destroy(&r->lock);
}

static void unlink_slot(salvo_reader *r, int32_t s)
{
	salvo_reader_slot *x = &r->slots[s];
	if (x->prev >= 0)
		r->slots[x->prev].next = x->next;
	else
		r->head = x->next;
	if (x->next >= 0)
		r->slots[x->next].prev = x->prev;
	else
		r->tail = x->prev;
}

static void push_front(salvo_reader *r, int32_t s)
{
	r->slots[s].prev = -1;
	r->slots[s].next = r->head;
	if (r->head >= 0)
		r->slots[r->head].prev = s;
	r->head = s;
	if (r->tail < 0)
		r->tail = s;
}

/* The least recently used idle slot, its descriptor closed and the slot
 * out of the list, or -1 when every slot is in use. */
static int32_t evict(salvo_reader *r)
{
	for (int32_t s = r->tail; s >= 0; s = r->slots[s].prev) {
		if (r->slots[s].users)
			continue;
		unlink_slot(r, s);
		close(r->slots[s].fd);
		r->slots[s].fd = -1;
		r->slot_of[r->slots[s].file] = -1;
		return s;
	}
	return -1;
}

/* A slot to (re)use: a free one, else an evicted one, else -1. */
static int32_t take_slot(salvo_reader *r)
{
	if (r->used < r->cap)
		return (int32_t)r->used++;
	return evict(r);
}

/* Opens file i.  Out of descriptors, it gives one of the cache's back
 * (*freed: that slot, for the caller to fill) and tries again.  Returns
 * the fd or -errno. */
static int open_file(salvo_reader *r, uint32_t i, int32_t *freed)
{
	char path[PATH_MAX];
	*freed = -1;
	if (salvo_scan_local(r->scan, i, path, sizeof(path)) >= sizeof(path))
		return -ENAMETOOLONG;
	for (;;) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			return fd;
		int e = errno;
		if ((e != EMFILE && e != ENFILE) || *freed >= 0)
			return -e;
		r->cap = r->used; /* no more slots than we have now */
		*freed = evict(r);
		if (*freed < 0)
			return -e;
	}
}

/* The descriptor of file i, marked in use; *slot -1 means a private one
 * the caller closes.  Returns the fd or -errno. */
static int acquire(salvo_reader *r, uint32_t i, int32_t *slot)
{
	pthread_mutex_lock(&r->lock);
	int32_t s = r->slot_of[i];
	if (s >= 0) {
		r->slots[s].users++;
		unlink_slot(r, s);
		push_front(r, s);
		pthread_mutex_unlock(&r->lock);
		*slot = s;
		return r->slots[s].fd;
	}
	int fd = open_file(r, i, &s);
	if (fd < 0) {
		/* a slot evicted for nothing stays empty (fd -1, on no
		 * list): the table is one smaller, nothing leaks */
		pthread_mutex_unlock(&r->lock);
		return fd;
	}
	if (s < 0)
		s = take_slot(r);
	if (s >= 0) {
		r->slots[s] = (salvo_reader_slot){fd, i, 1, -1, -1};
		r->slot_of[i] = s;
		push_front(r, s);
	}
	pthread_mutex_unlock(&r->lock);
	*slot = s;
	return fd;
}

static void release(salvo_reader *r, int32_t slot, int fd)
{
	if (slot < 0) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&r->lock);
	r->slots[slot].users--;
	pthread_mutex_unlock(&r->lock);
}

/* Reads exactly n bytes at in; 0, -errno, or -EIO at a premature end. */
static int pread_all(int fd, uint8_t *dst, size_t n, uint64_t in, int *eof)
{
	while (n) {
		ssize_t k = pread(fd, dst, n, (off_t)in);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			*eof = k == 0;
			return k < 0 ? -errno : -EIO;
		}
		dst += k;
		n -= (size_t)k;
		in += (uint64_t)k;
	}
	return 0;
}

/* "VERB 'PATH': WHAT" (no VERB: "'PATH' WHAT") into msg. */
static void fail_msg(const salvo_reader *r, uint32_t i, const char *verb,
		     const char *what, char *msg, size_t msglen)
{
	char path[PATH_MAX];
	salvo_scan_local(r->scan, i, path, sizeof(path));
	if (*verb)
		snprintf(msg, msglen, "%s '%s': %s", verb, path, what);
	else
		snprintf(msg, msglen, "'%s' %s", path, what);
}

static int is_abandoned(salvo_reader *r, uint32_t i)
{
	pthread_mutex_lock(&r->lock);
	int a = r->abandoned[i] & READER_GONE;
	pthread_mutex_unlock(&r->lock);
	return a;
}

/* File i failed (err, msg): gives it up if the caller wants that (0),
 * else returns err.  The first thread to give it up tells the caller. */
static int give_up(salvo_reader *r, uint32_t i, int err, const char *msg)
{
	if (!r->on_abandon || err == -EMFILE || err == -ENFILE ||
	    err == -ENOMEM)
		return err;
	pthread_mutex_lock(&r->lock);
	int first = !(r->abandoned[i] & READER_GONE);
	r->abandoned[i] |= READER_GONE;
	pthread_mutex_unlock(&r->lock);
	if (first && r->on_abandon(r->abandon_ud, i, err, msg)) {
		pthread_mutex_lock(&r->lock);
		r->abandoned[i] &= (uint8_t)~READER_GONE;
		pthread_mutex_unlock(&r->lock);
		return err;
	}
	return 0;
}

/* The piece just read through fd ended at file i's scanned size: if the
 * file holds more now, says so once (on_grow).  The stream keeps the
 * scanned size: the manifest went out with it. */
static void check_growth(salvo_reader *r, uint32_t i, int fd)
{
	uint64_t size = r->scan->entries[i].size;
	uint8_t byte;
	if (!r->on_grow || pread(fd, &byte, 1, (off_t)size) != 1)
		return;
	pthread_mutex_lock(&r->lock);
	int first = !(r->abandoned[i] & READER_GREW);
	r->abandoned[i] |= READER_GREW;
	pthread_mutex_unlock(&r->lock);
	struct stat st;
	if (first)
		r->on_grow(r->grow_ud, i, size,
			   fstat(fd, &st) ? size + 1 : (uint64_t)st.st_size);
}

/* After a piece of file i was read through fd: 0 while the file is as
 * scanned (or only grew: check_growth), READER_SHRANK when it is shorter,
 * READER_CHANGED when it has its scanned size and another mtime (written
 * in place: the bytes read so far may belong to two versions), or
 * -errno.  The writer's mtime moves before its bytes do, so a write that
 * overlapped the pread is seen here. */
static int check_unchanged(const salvo_reader *r, uint32_t i, int fd)
{
	const salvo_entry *e = &r->scan->entries[i];
	struct stat st;
	if (fstat(fd, &st))
		return -errno;
	int64_t mtime =
	    (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	if ((uint64_t)st.st_size < e->size)
		return READER_SHRANK;
	if ((uint64_t)st.st_size == e->size && mtime != e->mtime_ns)
		return READER_CHANGED;
	return 0;
}

/* Reads n bytes of file i at in into p: 0 or -errno (msg).  A file that
 * shrank or changed in place since the scan fails with -EIO: its copy
 * would be torn, and the digest, taken over what was read, would not
 * tell. */
static int read_piece(salvo_reader *r, uint32_t i, uint8_t *p, size_t n,
		      uint64_t in, char *msg, size_t msglen)
{
	int32_t slot = -1;
	int fd = acquire(r, i, &slot);
	if (fd < 0) {
		fail_msg(r, i, "cannot read", strerror(-fd), msg, msglen);
		return fd;
	}
	int eof = 0;
	int err = pread_all(fd, p, n, in, &eof);
	if (!err)
		err = check_unchanged(r, i, fd);
	if (!err && in + n == r->scan->entries[i].size)
		check_growth(r, i, fd);
	release(r, slot, fd);
	if ((err == -EIO && eof) || err == READER_SHRANK)
		fail_msg(r, i, "", "shrank after the scan", msg, msglen);
	else if (err == READER_CHANGED)
		fail_msg(r, i, "",
			 "changed after the scan (its size as scanned, a "
			 "new modification time: written in place while "
			 "being sent)",
			 msg, msglen);
	else if (err)
		fail_msg(r, i, "cannot read", strerror(-err), msg, msglen);
	return err > 0 ? -EIO : err;
}

int salvo_reader_read(salvo_reader *r, uint64_t off, void *dst, size_t len,
		      char *msg, size_t msglen)
{
	uint8_t *p = dst;
	uint32_t i = salvo_manifest_locate(&r->view, off);
	for (; len; i++) {
		const salvo_entry *e = &r->scan->entries[i];
		if (!e->size || off >= e->stream_offset + e->size)
			continue;
		uint64_t in = off - e->stream_offset;
		size_t n = e->size - in < len ? (size_t)(e->size - in) : len;
		int gone = is_abandoned(r, i), err = 0;
		if (!gone && (err = read_piece(r, i, p, n, in, msg, msglen))) {
			err = give_up(r, i, err, msg);
			gone = !err;
		}
		if (err)
			return err;
		if (gone) /* given up: zeros, every time */
			memset(p, 0, n);
		p += n;
		len -= n;
		off += n;
	}
	return 0;
}
