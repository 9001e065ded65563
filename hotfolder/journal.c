/*
 * Append-only journal with group commit (see journal.h).  Records are
 * framed by length and CRC32C, so a torn final write (a kill -9 or a power
 * cut in the middle of write()) is recognised and cut off at replay;
 * nothing before it depends on it.  Replay reads the file in pieces of
 * 64 KiB, so a large journal costs no more memory than its longest record.
 */
#include "hotfolder/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/crc32c.h"
#include "common/core/error.h"

static const char magic[8] = {'S', 'A', 'L', 'V', 'O', 'H', 'J', '1'};

#define HDR 8u	  /* length + CRC */
#define FIXED 50u /* type, size, mtime, has_hash, hash */
#define CHUNK 65536u

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Encodes r into buf (room for HDR + FIXED + path_len). */
static size_t encode(unsigned char *buf, const struct salvo_hf_rec *r)
{
	unsigned char *p = buf + HDR;
	size_t plen = FIXED + r->path_len;

	p[0] = (unsigned char)r->type;
	put64(p + 1, r->size);
	put64(p + 9, (uint64_t)r->mtime_ns);
	p[17] = r->has_hash ? 1 : 0;
	if (r->has_hash)
		memcpy(p + 18, r->hash, 32);
	else
		memset(p + 18, 0, 32);
	memcpy(p + FIXED, r->path, r->path_len);
	put32(buf, (uint32_t)plen);
	put32(buf + 4, salvo_crc32c(0, p, plen));
	return HDR + plen;
}

int salvo_hf_journal_add(struct salvo_hf_journal *j,
			 const struct salvo_hf_rec *r)
{
	size_t need;

	if (r->path_len == 0 || r->path_len > SALVO_HF_JOURNAL_MAX_PATH)
		return -ENAMETOOLONG;
	need = j->len + HDR + FIXED + r->path_len;
	if (need > j->cap) {
		size_t cap = j->cap ? j->cap : 4096;
		unsigned char *b;

		while (cap < need)
			cap *= 2;
		b = realloc(j->buf, cap);
		if (!b)
			return -ENOMEM;
		j->buf = b;
		j->cap = cap;
	}
	j->len += encode(j->buf + j->len, r);
	j->records++;
	return 0;
}

int salvo_hf_journal_sync(struct salvo_hf_journal *j)
{
	int rc;

	if (!j->len)
		return 0;
	rc = write_all(j->fd, j->buf, j->len);
	if (rc) {
		/* a partial write is a torn tail: cut it so the next
		 * attempt appends after the last whole record */
		if (ftruncate(j->fd, (off_t)j->file_bytes) == 0)
			(void)lseek(j->fd, 0, SEEK_END);
		return rc;
	}
	if (fdatasync(j->fd))
		return -errno;
	j->file_bytes += j->len;
	j->len = 0;
	if (j->cap > (1u << 20)) {
		free(j->buf);
		j->buf = NULL;
		j->cap = 0;
	}
	return 0;
}

/* Reads and checks every record from offset 8; *good is the end of the
 * last good one. */
static int replay(int fd, int (*cb)(void *, const struct salvo_hf_rec *),
		  void *ud, uint64_t *good, uint64_t *count)
{
	size_t cap = CHUNK + HDR + FIXED + SALVO_HF_JOURNAL_MAX_PATH + 1;
	unsigned char *buf = malloc(cap);
	size_t have = 0, pos = 0;
	uint64_t off = sizeof(magic);
	int rc = 0, eof = 0;

	if (!buf)
		return -ENOMEM;
	*good = off;
	for (;;) {
		size_t plen;
		struct salvo_hf_rec r;
		unsigned char *p;
		char save;

		if (have - pos < HDR + FIXED + SALVO_HF_JOURNAL_MAX_PATH &&
		    !eof) {
			ssize_t n;

			memmove(buf, buf + pos, have - pos);
			have -= pos;
			pos = 0;
			n = pread(fd, buf + have, cap - have - 1,
				  (off_t)(off + have));
			if (n < 0) {
				rc = -errno;
				break;
			}
			eof = n == 0;
			have += (size_t)n;
			continue;
		}
		if (have - pos < HDR)
			break;
		plen = get32(buf + pos);
		if (plen < FIXED + 1 ||
		    plen > FIXED + SALVO_HF_JOURNAL_MAX_PATH ||
		    have - pos - HDR < plen)
			break;
		p = buf + pos + HDR;
		if (salvo_crc32c(0, p, plen) != get32(buf + pos + 4) ||
		    p[0] < SALVO_HF_REC_QUEUED || p[0] > SALVO_HF_REC_FORGET)
			break;
		memset(&r, 0, sizeof(r));
		r.type = p[0];
		r.size = get64(p + 1);
		r.mtime_ns = (int64_t)get64(p + 9);
		r.has_hash = p[17];
		memcpy(r.hash, p + 18, 32);
		r.path = (const char *)p + FIXED;
		r.path_len = plen - FIXED;
		if (memchr(r.path, 0, r.path_len))
			break;
		/* NUL-terminate in place for the callback */
		save = (char)p[plen];
		p[plen] = 0;
		rc = cb ? cb(ud, &r) : 0;
		p[plen] = (unsigned char)save;
		if (rc)
			break;
		pos += HDR + plen;
		off += HDR + plen;
		*good = off;
		(*count)++;
	}
	free(buf);
	return rc;
}

int salvo_hf_journal_open(struct salvo_hf_journal *j, const char *path,
			  int (*cb)(void *ud, const struct salvo_hf_rec *r),
			  void *ud, uint64_t *torn)
{
	struct stat st;
	char head[sizeof(magic)];
	uint64_t good = 0;
	int rc;

	memset(j, 0, sizeof(*j));
	j->fd = -1;
	*torn = 0;
	if (!(j->path = strdup(path)))
		return -ENOMEM;
	/* non-blocking until fstat says it is a regular file */
	j->fd = open(path, O_RDWR | O_CREAT | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
		     0600);
	if (j->fd < 0) {
		rc = errno == EISDIR || errno == ENXIO ? -EINVAL : -errno;
		goto fail_open;
	}
	if (fstat(j->fd, &st) ||
	    fcntl(j->fd, F_SETFL, fcntl(j->fd, F_GETFL) & ~O_NONBLOCK)) {
		rc = -errno;
		goto fail_lock;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto fail_lock;
	}
	if (flock(j->fd, LOCK_EX | LOCK_NB)) {
		rc = errno == EWOULDBLOCK ? SALVO_ERR_BUSY : -errno;
		goto fail_lock;
	}
	if (fstat(j->fd, &st)) { /* its size under the lock */
		rc = -errno;
		goto fail_lock;
	}
	if (st.st_size < (off_t)sizeof(magic)) {
		/* new, or torn before the magic was whole */
		if (ftruncate(j->fd, 0) ||
		    pwrite(j->fd, magic, sizeof(magic), 0) != sizeof(magic) ||
		    fsync(j->fd)) {
			rc = -errno;
			goto fail_lock;
		}
		good = sizeof(magic);
	} else {
		if (pread(j->fd, head, sizeof(head), 0) != sizeof(head)) {
			rc = -EIO;
			goto fail_lock;
		}
		if (memcmp(head, magic, sizeof(magic))) {
			rc = SALVO_ERR_MALFORMED;
			goto fail_lock;
		}
		rc = replay(j->fd, cb, ud, &good, &j->records);
		if (rc)
			goto fail_lock;
		if ((uint64_t)st.st_size > good) {
			*torn = (uint64_t)st.st_size - good;
			if (ftruncate(j->fd, (off_t)good) || fsync(j->fd)) {
				rc = -errno;
				goto fail_lock;
			}
		}
	}
	j->file_bytes = good;
	if (lseek(j->fd, 0, SEEK_END) < 0) {
		rc = -errno;
		goto fail_lock;
	}
	return 0;
fail_lock:
	close(j->fd);
	j->fd = -1;
fail_open:
	free(j->path);
	j->path = NULL;
	return rc;
}

int salvo_hf_journal_held(const char *path)
{
	/* a few tries: each fails only when a compaction replaced the file
	 * between the open and the lock, which only a live watcher does */
	for (int tries = 0; tries < 8; tries++) {
		struct stat st, now;
		int fd =
		    open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		int rc = 0;

		if (fd < 0)
			return errno == ENOENT ? 0 : -errno;
		if (fstat(fd, &st))
			rc = -errno;
		else if (!S_ISREG(st.st_mode))
			rc = -EINVAL;
		else if (flock(fd, LOCK_SH | LOCK_NB))
			rc = errno == EWOULDBLOCK ? 1 : -errno;
		else if (stat(path, &now) || now.st_ino != st.st_ino ||
			 now.st_dev != st.st_dev)
			rc = -EAGAIN; /* replaced meanwhile: look again */
		close(fd);
		if (rc != -EAGAIN)
			return rc;
	}
	return 1;
}

static int fsync_parent(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		rc = -errno;
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

int salvo_hf_journal_compact(struct salvo_hf_journal *j,
			     int (*next)(void *ud, struct salvo_hf_rec *r),
			     void *ud)
{
	unsigned char *buf =
	    malloc(CHUNK + HDR + FIXED + SALVO_HF_JOURNAL_MAX_PATH);
	char *tmp = NULL;
	struct salvo_hf_rec r;
	size_t len = sizeof(magic);
	uint64_t bytes = 0, records = 0;
	int fd = -1, rc = 0, more;

	if (!buf || asprintf(&tmp, "%s.new", j->path) < 0) {
		free(buf);
		return -ENOMEM;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto fail_tmp;
	}
	memcpy(buf, magic, sizeof(magic));
	while (!rc && (more = next(ud, &r)) == 0) {
		if (r.path_len == 0 || r.path_len > SALVO_HF_JOURNAL_MAX_PATH)
			continue;
		len += encode(buf + len, &r);
		records++;
		if (len >= CHUNK) {
			rc = write_all(fd, buf, len);
			bytes += len;
			len = 0;
		}
	}
	if (!rc)
		rc = write_all(fd, buf, len);
	bytes += len;
	if (!rc && fsync(fd))
		rc = -errno;
	/* the lock moves with the new file: take it before the rename */
	if (!rc && flock(fd, LOCK_EX | LOCK_NB))
		rc = -errno;
	if (!rc && rename(tmp, j->path))
		rc = -errno;
	if (rc) {
		close(fd);
		unlink(tmp);
		goto fail_tmp;
	}
	rc = fsync_parent(j->path);
	close(j->fd);
	j->fd = fd;
	if (lseek(fd, 0, SEEK_END) < 0 && !rc)
		rc = -errno;
	j->file_bytes = bytes;
	j->records = records;
	j->len = 0;
fail_tmp:
	free(tmp);
	free(buf);
	return rc;
}

void salvo_hf_journal_close(struct salvo_hf_journal *j)
{
	if (j->fd >= 0 && j->path) {
		(void)salvo_hf_journal_sync(j);
		close(j->fd);
	}
	free(j->buf);
	free(j->path);
	memset(j, 0, sizeof(*j));
	j->fd = -1;
}
