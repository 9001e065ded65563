/*
 * Receiver file handling (see files.h).
 *
 * Confinement: every folder is reached from the root fd one component at
 * a time with openat(O_DIRECTORY | O_NOFOLLOW), creating it with mkdirat
 * when missing, so neither '..' (already refused by the path check) nor a
 * symlink planted inside the root can lead a write outside it.  Files are
 * only ever opened relative to such a folder fd, under a hidden name
 * (.salvo-SESSION-INDEX.part) that no manifest path can take, and reach
 * their final name by renameat() once verified: a part-file is never
 * mistaken for a finished file, and a reader never sees a torn one.
 */
#include "receiver/engine/files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/core/crc32c.h"
#include "common/core/error.h"
#include "common/core/policy.h"
#include "common/io/sys.h"

static void part_name(const rfiles *f, uint32_t i, char *buf, size_t len)
{
	snprintf(buf, len, ".salvo-%08x-%u.part", f->session, i);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Opens (creating) the folder `path` (relative, validated) below root. */
static int open_dir(int root, const char *path, size_t plen, char *msg,
		    size_t len)
{
	int fd = dup(root);
	if (fd < 0)
		return -errno;
	size_t i = 0;
	char comp[256];
	while (i < plen) {
		size_t j = i;
		while (j < plen && path[j] != '/')
			j++;
		size_t n = j - i < sizeof(comp) - 1 ? j - i : sizeof(comp) - 1;
		memcpy(comp, path + i, n);
		comp[n] = 0;
		if (mkdirat(fd, comp, 0755) && errno != EEXIST) {
			int e = errno;
			snprintf(msg, len, "cannot create folder '%.*s': %s",
				 (int)j, path, strerror(e));
			close(fd);
			return -e;
		}
		int nfd = openat(
		    fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0) {
			int e = errno;
			snprintf(msg, len,
				 e == ELOOP || e == ENOTDIR
				     ? "refusing '%.*s': not a folder (a "
				       "symlink or a file is in the way)"
				     : "cannot open folder '%.*s': %s",
				 (int)j, path, strerror(e));
			close(fd);
			return -e;
		}
		close(fd);
		fd = nfd;
		i = j + 1;
	}
	return fd;
}

/* Index of the folder holding entry path (its parent), opened once. */
static int dir_index(rfiles *f, const char *path, size_t plen, char *msg,
		     size_t len)
{
	if (f->ndirs && strlen(f->dirs[f->ndirs - 1].path) == plen &&
	    !strncmp(f->dirs[f->ndirs - 1].path, path, plen))
		return (int)f->ndirs - 1;
	for (size_t k = 0; k < f->ndirs; k++)
		if (strlen(f->dirs[k].path) == plen &&
		    !strncmp(f->dirs[k].path, path, plen))
			return (int)k;
	if (f->ndirs == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 16;
		struct rdir *d = realloc(f->dirs, cap * sizeof(*d));
		if (!d)
			return -ENOMEM;
		f->dirs = d;
		f->cap = cap;
	}
	int fd = open_dir(f->root, path, plen, msg, len);
	if (fd < 0)
		return fd;
	char *copy = strndup(path, plen);
	if (!copy) {
		close(fd);
		return -ENOMEM;
	}
	f->dirs[f->ndirs] = (struct rdir){copy, fd, 0};
	return (int)f->ndirs++;
}

int rfiles_prepare(rfiles *f, int root, const salvo_manifest *m,
		   uint32_t session, int overwrite, uint64_t max_file_bytes,
		   char *msg, size_t len)
{
	memset(f, 0, sizeof(*f));
	f->root = root;
	f->m = m;
	f->session = session;
	f->overwrite = overwrite;
	f->max_file_bytes = max_file_bytes;
	size_t n = m->count ? m->count : 1;
	f->parent = calloc(n, sizeof(int));
	f->fd = malloc(n * sizeof(int));
	f->committed = calloc(n, 1);
	if (!f->parent || !f->fd || !f->committed) {
		snprintf(msg, len, "receiver out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		f->fd[i] = -1;
	for (uint32_t i = 0; i < m->count; i++) {
		const salvo_entry *e = &m->entries[i];
		if (e->type == SALVO_ENTRY_FILE && max_file_bytes &&
		    e->size > max_file_bytes) {
			snprintf(msg, len,
				 "'%s' (%llu bytes) is larger than this "
				 "receiver accepts (%llu bytes)",
				 e->path, (unsigned long long)e->size,
				 (unsigned long long)max_file_bytes);
			return -EFBIG;
		}
		const char *b = base_name(e->path);
		size_t plen = b > e->path ? (size_t)(b - e->path - 1) : 0;
		int k = dir_index(f, e->path, plen, msg, len);
		if (k < 0)
			return k;
		f->parent[i] = k;
		if (e->type == SALVO_ENTRY_DIR) {
			int d = dir_index(f, e->path, e->path_len, msg, len);
			if (d < 0)
				return d;
		}
	}
	return 0;
}

int rfiles_open(rfiles *f, uint32_t i, char *msg, size_t len)
{
	if (f->fd[i] >= 0)
		return f->fd[i];
	char name[64];
	part_name(f, i, name, sizeof(name));
	int dfd = f->dirs[f->parent[i]].fd;
	int flags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(dfd, name, flags, 0600);
	if (fd < 0 && errno == EEXIST) { /* left by a crashed receiver */
		unlinkat(dfd, name, 0);
		fd = openat(dfd, name, flags, 0600);
	}
	if (fd < 0) {
		int e = errno;
		snprintf(msg, len, "cannot create '%s': %s",
			 f->m->entries[i].path, strerror(e));
		return -e;
	}
	return f->fd[i] = fd;
}

int rfiles_writev(rfiles *f, uint32_t i, uint64_t off, struct iovec *iov, int n,
		  char *msg, size_t msglen)
{
	int fd = rfiles_open(f, i, msg, msglen);
	if (fd < 0)
		return fd;
	while (n > 0) {
		ssize_t w = pwritev(fd, iov, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;
			snprintf(msg, msglen, "cannot write '%s': %s",
				 f->m->entries[i].path, strerror(e));
			return -e;
		}
		off += (uint64_t)w;
		/* a short write: step over what went */
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

enum { BUF_BYTES = 1 << 20 };

int rfiles_crc(rfiles *f, uint64_t start, uint32_t len, uint32_t *crc)
{
	if (!f->buf && !(f->buf = malloc(BUF_BYTES)))
		return -ENOMEM;
	*crc = 0;
	for (uint32_t i = salvo_manifest_locate(f->m, start); len; i++) {
		const salvo_entry *e = &f->m->entries[i];
		if (!e->size || start >= e->stream_offset + e->size)
			continue;
		if (f->fd[i] < 0)
			return -EIO; /* every byte was written: it must exist */
		uint64_t in = start - e->stream_offset;
		uint64_t piece = e->size - in < len ? e->size - in : len;
		for (uint64_t done = 0; done < piece;) {
			size_t want = piece - done < BUF_BYTES
					  ? (size_t)(piece - done)
					  : BUF_BYTES;
			ssize_t n =
			    pread(f->fd[i], f->buf, want, (off_t)(in + done));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return n < 0 ? -errno : -EIO;
			*crc = salvo_crc32c(*crc, f->buf, (size_t)n);
			done += (uint64_t)n;
		}
		start += piece;
		len -= (uint32_t)piece;
	}
	return 0;
}

int rfiles_digest(rfiles *f, uint32_t i, uint8_t out[32], char *msg, size_t len)
{
	const salvo_entry *e = &f->m->entries[i];
	int fd = rfiles_open(f, i, msg, len);
	if (fd < 0)
		return fd;
	int err = salvo_blake3_fd(fd, e->size, out, NULL);
	if (err)
		snprintf(msg, len, "cannot read back '%s': %s", e->path,
			 salvo_strerror(err));
	return err;
}

/* The final name to rename to, per the overwrite policy. */
static int final_name(rfiles *f, int dfd, const char *base, char *out,
		      size_t len, char *msg, size_t msglen, const char *path)
{
	struct stat st;
	snprintf(out, len, "%s", base);
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW))
		return 0; /* nothing there */
	if (S_ISDIR(st.st_mode)) {
		snprintf(msg, msglen,
			 "cannot store '%s': a folder has that name", path);
		return -EISDIR;
	}
	if (f->overwrite == SALVO_OVERWRITE_REPLACE)
		return 0;
	if (f->overwrite == SALVO_OVERWRITE_NEVER) {
		snprintf(msg, msglen,
			 "'%s' already exists and the receiver does not "
			 "overwrite",
			 path);
		return -EEXIST;
	}
	for (unsigned k = 1; k < 10000; k++) {
		snprintf(out, len, "%s.%u", base, k);
		if (fstatat(dfd, out, &st, AT_SYMLINK_NOFOLLOW))
			return 0;
	}
	snprintf(msg, msglen, "no free name for '%s'", path);
	return -EEXIST;
}

int rfiles_commit(rfiles *f, uint32_t i, char *msg, size_t len)
{
	const salvo_entry *e = &f->m->entries[i];
	int fd = rfiles_open(f, i, msg, len);
	if (fd < 0)
		return fd;
	struct timespec ts[2] = {{0, UTIME_OMIT},
				 {(time_t)(e->mtime_ns / 1000000000),
				  (long)(e->mtime_ns % 1000000000)}};
	if (fchmod(fd, (mode_t)e->mode) || futimens(fd, ts) || fsync(fd)) {
		int ee = errno;
		snprintf(msg, len, "cannot finish '%s': %s", e->path,
			 strerror(ee));
		return -ee;
	}
	close(fd);
	f->fd[i] = -1;
	struct rdir *dir = &f->dirs[f->parent[i]];
	char part[64], final[300];
	part_name(f, i, part, sizeof(part));
	int err = final_name(f, dir->fd, base_name(e->path), final,
			     sizeof(final), msg, len, e->path);
	if (!err && renameat(dir->fd, part, dir->fd, final)) {
		err = -errno;
		snprintf(msg, len, "cannot rename '%s' into place: %s", e->path,
			 strerror(-err));
	}
	if (err)
		return err;
	f->committed[i] = 1;
	dir->dirty = 1;
	return 0;
}

int rfiles_finish(rfiles *f, char *msg, size_t len)
{
	for (uint32_t i = 0; i < f->m->count; i++) {
		const salvo_entry *e = &f->m->entries[i];
		if (e->type != SALVO_ENTRY_DIR)
			continue;
		/* the folder itself: its own dirs[] entry */
		for (size_t k = 0; k < f->ndirs; k++) {
			if (strcmp(f->dirs[k].path, e->path))
				continue;
			struct timespec ts[2] = {
			    {0, UTIME_OMIT},
			    {(time_t)(e->mtime_ns / 1000000000),
			     (long)(e->mtime_ns % 1000000000)}};
			fchmod(f->dirs[k].fd, (mode_t)e->mode);
			futimens(f->dirs[k].fd, ts);
			f->dirs[k].dirty = 1;
		}
	}
	for (size_t k = 0; k < f->ndirs; k++)
		if (f->dirs[k].dirty && fsync(f->dirs[k].fd)) {
			int e = errno;
			snprintf(msg, len, "cannot sync folder '%s': %s",
				 f->dirs[k].path, strerror(e));
			return -e;
		}
	return 0;
}

void rfiles_free(rfiles *f, int discard)
{
	if (f->fd) {
		for (uint32_t i = 0; f->m && i < f->m->count; i++) {
			if (f->fd[i] >= 0)
				close(f->fd[i]);
			if (discard && !f->committed[i] &&
			    f->m->entries[i].type == SALVO_ENTRY_FILE &&
			    f->parent && (size_t)f->parent[i] < f->ndirs) {
				char part[64];
				part_name(f, i, part, sizeof(part));
				unlinkat(f->dirs[f->parent[i]].fd, part, 0);
			}
		}
	}
	for (size_t k = 0; k < f->ndirs; k++) {
		close(f->dirs[k].fd);
		free(f->dirs[k].path);
	}
	free(f->dirs);
	free(f->parent);
	free(f->fd);
	free(f->committed);
	free(f->buf);
	memset(f, 0, sizeof(*f));
}
