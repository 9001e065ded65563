/*
 * One session's files (see files.h).
 *
 * Confinement: every folder is reached from the root one component at a
 * time with openat(O_DIRECTORY | O_NOFOLLOW), made with mkdirat when
 * missing, so neither '..' (already refused by the path check) nor a
 * symlink planted inside the root can lead a write outside it.  A folder
 * on another file system than the root, or one that is the private
 * folder under another name (a case-insensitive root), is refused.
 *
 * Part-files are ROOT/.salvo/PID-SESSION-INDEX.part (root.c), made with
 * O_EXCL, and reach their final name by one renameat() across folders
 * once verified: no manifest can name, replace or block them, a
 * part-file is never mistaken for a finished file, and a reader never
 * sees a torn one.  With overwrite never or rename the rename itself
 * refuses to replace (RENAME_NOREPLACE), so two sessions committing one
 * name cannot both win.
 *
 * Descriptors: a folder or a part-file is opened when needed and kept in
 * one of two small LRU caches (fdcache.c, rroot.fds each); a folder that
 * was closed is opened again from its nearest open ancestor.  f->mu
 * guards the caches and the states; it is held for opens and closes, and
 * never across a read, a write or an fsync (those use a pinned fd).
 *
 * Modes: files get the manifest's mode masked with rroot.mask; folders
 * this session created get theirs, masked, when it ends; folders that
 * existed before keep their mode (a peer never chmods them) and get only
 * the manifest's mtime.
 *
 * A session that fails removes its part-files (but the resumable ones,
 * which keep their maps: resume.c, unless a file failed verification)
 * and, deepest first, the folders it created that are still empty.
 */
#include "receiver/engine/files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/core/crc32c.h"
#include "common/core/error.h"
#include "common/core/path.h"
#include "common/core/policy.h"
#include "common/core/siphash.h"
#include "common/io/sys.h"
#include "receiver/core/budget.h"
#include "receiver/engine/engine.h"
#include "receiver/engine/resume.h"

enum { RF_NONE, RF_PART, RF_DONE };
#define ROOT_DIR (-1)

/* The engine's own share of a session, beside the core's. */
#define PER_BLOCK                                                              \
	(sizeof(*((rdigest *)0)->pending) + sizeof(*((rdigest *)0)->acc))
#define PER_ENTRY                                                              \
	(sizeof(*((rdigest *)0)->file) + sizeof(*((rfiles *)0)->state) +       \
	 sizeof(*((rfiles *)0)->parent))
/* a folder record and its share of the lookup table (at most half full) */
#define PER_DIR (sizeof(struct rdir) + 2 * sizeof(uint32_t))
#define FDS_SLOTS 66 /* fdcache: up to 64 and the pinned overflow */
#define PER_SESSION (sizeof(esess) + 2 * (FDS_SLOTS * sizeof(struct rfdslot)))

static const char *base_name(const char *path, uint32_t len)
{
	const char *s = memrchr(path, '/', len);
	return s ? s + 1 : path;
}

/* A resumable file's part-file is named after its identity (resume.c);
 * any other is unique to the session. */
static void part_name(const rfiles *f, uint32_t i, char *buf, size_t len)
{
	if (!rresume_part_name(f, i, buf, len))
		snprintf(buf, len, "%d-%08x-%u.part", f->r->pid, f->session, i);
}

uint64_t rfiles_bookkeeping(const salvo_manifest *m, uint32_t block_bytes)
{
	uint64_t paths = 0, n;
	for (uint32_t i = 0; i < m->count; i++)
		paths += m->entries[i].path_len;
	uint64_t blocks = salvo_block_count(m->total_bytes, block_bytes);
	/* the core's, and the engine's copy of the manifest */
	n = salvo_rbudget_session_bytes(m, block_bytes);
	n += salvo_rbudget_manifest_bytes(m->count, paths);
	if (blocks > (UINT64_MAX - n) / PER_BLOCK / 2)
		return UINT64_MAX;
	return n + blocks * PER_BLOCK + (uint64_t)m->count * PER_ENTRY +
	       PER_SESSION;
}

/* ------------------------------------------------------------ folders */

static uint32_t hash_of(const rfiles *f, const char *p, uint32_t len)
{
	return (uint32_t)salvo_siphash(f->r->key, p, len);
}

/* Index of the folder path[0..len), or -1. */
static int32_t dir_find(const rfiles *f, const char *p, uint32_t len)
{
	if (!f->index_len)
		return -1;
	uint32_t mask = f->index_len - 1;
	for (uint32_t h = hash_of(f, p, len) & mask;; h = (h + 1) & mask) {
		uint32_t v = f->index[h];
		if (!v)
			return -1;
		const struct rdir *d = &f->dirs[v - 1];
		if (d->len == len && !memcmp(d->path, p, len))
			return (int32_t)(v - 1);
	}
}

static void index_put(rfiles *f, uint32_t k)
{
	uint32_t mask = f->index_len - 1;
	uint32_t h = hash_of(f, f->dirs[k].path, f->dirs[k].len) & mask;
	while (f->index[h])
		h = (h + 1) & mask;
	f->index[h] = k + 1;
}

/* Room for one more folder, its cost taken from the budget. */
static int dir_room(rfiles *f, char *msg, size_t len)
{
	if (f->ndirs < f->cap)
		return 0;
	uint32_t cap = f->cap ? 2 * f->cap : 16;
	uint64_t more = (uint64_t)(cap - f->cap) * PER_DIR;
	int rc = rroot_reserve(f->r, f->reserved, more, msg, len);
	if (rc)
		return rc;
	f->reserved += more;
	struct rdir *d = realloc(f->dirs, cap * sizeof(*d));
	uint32_t *ix = calloc((size_t)cap * 2, sizeof(*ix));
	if (!d || !ix) {
		free(ix);
		if (d)
			f->dirs = d;
		snprintf(msg, len, "receiver out of memory");
		return -ENOMEM;
	}
	f->dirs = d;
	f->cap = cap;
	free(f->index);
	f->index = ix;
	f->index_len = cap * 2;
	for (uint32_t k = 0; k < f->ndirs; k++)
		index_put(f, k);
	return 0;
}

static void mark_dirty(rfiles *f, int32_t k)
{
	if (k >= 0)
		f->dirs[k].dirty = 1;
	else
		f->root_dirty = 1;
}

/* openat that, out of descriptors, closes the session's idle ones and
 * tries once more. */
static int open_at(rfiles *f, int dfd, const char *name, int flags, mode_t mode)
{
	int fd = openat(dfd, name, flags, mode);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE) &&
	    rfdcache_trim(&f->dirfd) + rfdcache_trim(&f->partfd))
		fd = openat(dfd, name, flags, mode);
	return fd;
}

static int dir_get(rfiles *f, int32_t k, int create, char *msg, size_t len);

static void dir_put(rfiles *f, int32_t k)
{
	if (k >= 0)
		rfdcache_release(&f->dirfd, k);
}

/* Opens folder k inside its parent's pfd (making it with create): the
 * fd, or -errno with msg. */
static int open_child(rfiles *f, int pfd, int32_t k, int create, char *msg,
		      size_t len)
{
	struct rdir *d = &f->dirs[k];
	char comp[SALVO_NAME_MAX + 1];
	const char *b = base_name(d->path, d->len);
	size_t n = d->len - (size_t)(b - d->path);
	memcpy(comp, b, n);
	comp[n] = 0;
	int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int fd = open_at(f, pfd, comp, flags, 0);
	if (fd < 0 && errno == ENOENT && create) {
		if (!mkdirat(pfd, comp, 0777 & ~f->r->mask)) {
			d->created = 1;
			mark_dirty(f, d->up);
		} else if (errno != EEXIST) {
			int e = errno;
			snprintf(msg, len, "cannot create folder '%.*s': %s",
				 (int)d->len, d->path, strerror(e));
			return -e;
		}
		fd = open_at(f, pfd, comp, flags, 0);
	}
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		int e = errno;
		snprintf(msg, len,
			 e == ELOOP || e == ENOTDIR
			     ? "refusing '%.*s': not a folder (a symlink or a "
			       "file is in the way)"
			     : "cannot open folder '%.*s': %s",
			 (int)d->len, d->path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	const char *why = NULL;
	int err = 0;
	if (st.st_dev != f->r->dev) {
		why = "it is on another file system than the receiver's root, "
		      "and salvo renames finished files into place from "
		      "there, it does not copy";
		err = -EXDEV;
	} else if (d->up == ROOT_DIR && st.st_ino == f->r->parts_ino) {
		why = "it is the receiver's private folder under another name";
		err = -EPERM;
	}
	if (err) {
		snprintf(msg, len, "refusing '%.*s': %s", (int)d->len, d->path,
			 why);
		close(fd);
		return err;
	}
	return fd;
}

/* Folder k's fd, pinned (release with dir_put), opened from its nearest
 * open ancestor if it is not open; the root is never pinned.  f->mu held.
 * The fd, or -errno with msg. */
static int dir_get(rfiles *f, int32_t k, int create, char *msg, size_t len)
{
	if (k == ROOT_DIR)
		return f->r->root;
	int fd = rfdcache_take(&f->dirfd, k);
	if (fd >= 0)
		return fd;
	int32_t up = f->dirs[k].up;
	int pfd = dir_get(f, up, create, msg, len);
	if (pfd < 0)
		return pfd;
	fd = open_child(f, pfd, k, create, msg, len);
	dir_put(f, up);
	if (fd < 0)
		return fd;
	if (rfdcache_add(&f->dirfd, k, fd)) {
		snprintf(msg, len, "receiver out of memory");
		return -ENOMEM;
	}
	return fd;
}

/* The folder path[0..len) recorded, made and checked, its parents first:
 * its index (ROOT_DIR for ""), or an error with msg.  f->mu held. */
static int32_t dir_ensure(rfiles *f, const char *path, uint32_t len, char *msg,
			  size_t mlen)
{
	if (!len)
		return ROOT_DIR;
	int32_t k = dir_find(f, path, len);
	if (k >= 0)
		return k;
	const char *b = base_name(path, len);
	uint32_t plen = b > path ? (uint32_t)(b - path - 1) : 0;
	int32_t up = dir_ensure(f, path, plen, msg, mlen);
	if (up < ROOT_DIR)
		return up;
	int rc = dir_room(f, msg, mlen);
	if (rc)
		return rc;
	k = (int32_t)f->ndirs++;
	f->dirs[k] =
	    (struct rdir){.path = path, .len = len, .up = up, .entry = -1};
	index_put(f, (uint32_t)k);
	int fd = dir_get(f, k, 1, msg, mlen);
	if (fd < 0)
		return fd;
	dir_put(f, k);
	return k;
}

/* Folder k (ROOT_DIR: the root), which file entry i goes into, can take
 * files renamed from .salvo: writable, and on .salvo's mount (a rename
 * across mounts fails with EXDEV, even within one file system: a bind
 * mount).  Checked once per folder.  f->mu held.  0 or -errno with msg. */
static int check_target(rfiles *f, int32_t k, uint32_t i, char *msg, size_t len)
{
	if (k >= 0 ? f->dirs[k].checked : f->root_checked)
		return 0;
	int fd = dir_get(f, k, 1, msg, len);
	if (fd < 0)
		return fd;
	struct statvfs vfs;
	struct statx sx;
	int rc = 0;
	const char *path = f->m->entries[i].path;
	int flen = k >= 0 ? (int)f->dirs[k].len : 1;
	const char *folder = k >= 0 ? f->dirs[k].path : ".";
	if (!fstatvfs(fd, &vfs) && (vfs.f_flag & ST_RDONLY)) {
		snprintf(msg, len,
			 "cannot store '%s': folder '%.*s' is read-only (%s)",
			 path, flen, folder, strerror(EROFS));
		rc = -EROFS;
	} else if (f->r->have_mnt &&
		   !statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) &&
		   (sx.stx_mask & STATX_MNT_ID) && sx.stx_mnt_id != f->r->mnt) {
		snprintf(msg, len,
			 "cannot store '%s': folder '%.*s' is on another mount "
			 "than the receiver's root (salvo renames finished "
			 "files into place from %s/, it does not copy)",
			 path, flen, folder, SALVO_PATH_PRIVATE);
		rc = -EXDEV;
	}
	dir_put(f, k);
	if (!rc && k >= 0)
		f->dirs[k].checked = 1;
	else if (!rc)
		f->root_checked = 1;
	return rc;
}

int rfiles_prepare(rfiles *f, rroot *r, const salvo_manifest *m,
		   uint32_t session, uint32_t block_bytes, char *msg,
		   size_t len)
{
	memset(f, 0, sizeof(*f));
	f->r = r;
	f->m = m;
	f->session = session;
	uint64_t need = rfiles_bookkeeping(m, block_bytes);
	int rc = rroot_reserve(r, 0, need, msg, len);
	if (rc)
		return rc;
	f->reserved = need;
	rfdcache_init(&f->dirfd, r->fds);
	rfdcache_init(&f->partfd, r->fds);
	if ((rc = pthread_mutex_init(&f->mu, NULL))) {
		snprintf(msg, len, "receiver cannot start a session: %s",
			 strerror(rc));
		return -rc;
	}
	f->have_mu = 1;
	size_t n = m->count ? m->count : 1;
	f->parent = calloc(n, sizeof(*f->parent));
	f->state = calloc(n, sizeof(*f->state));
	if (!f->parent || !f->state) {
		snprintf(msg, len, "receiver out of memory");
		return -ENOMEM;
	}
	pthread_mutex_lock(&f->mu);
	for (uint32_t i = 0; !rc && i < m->count; i++) {
		const salvo_entry *e = &m->entries[i];
		/* a file over max_file_bytes is refused alone (session.c) */
		const char *b = base_name(e->path, e->path_len);
		uint32_t plen = b > e->path ? (uint32_t)(b - e->path - 1) : 0;
		int32_t k = dir_ensure(f, e->path, plen, msg, len);
		if (k < ROOT_DIR) {
			rc = k;
			break;
		}
		f->parent[i] = k;
		if (e->type == SALVO_ENTRY_FILE &&
		    (rc = check_target(f, k, i, msg, len)))
			break;
		if (e->type == SALVO_ENTRY_DIR) {
			k = dir_ensure(f, e->path, e->path_len, msg, len);
			if (k < ROOT_DIR)
				rc = k;
			else if (k >= 0)
				f->dirs[k].entry = (int32_t)i;
		}
	}
	pthread_mutex_unlock(&f->mu);
	return rc;
}

/* stat (fd NULL) or open read-only (*fd) what is at entry i's name */
static int at_target(rfiles *f, uint32_t i, struct stat *st, int *fd)
{
	const salvo_entry *e = &f->m->entries[i];
	char msg[8];
	pthread_mutex_lock(&f->mu);
	int32_t k = f->parent[i];
	if (k >= 0 && f->dirs[k].created &&
	    dir_find(f, e->path, e->path_len) < 0) {
		/* this session made the folder, empty: nothing is at the
		 * name but what another session put there since, a race the
		 * commit's no-replace rename settles as it settles one after
		 * this look.  A tree sent into a new folder so costs no
		 * fstatat per file under the core lock (prepare). */
		pthread_mutex_unlock(&f->mu);
		return -ENOENT;
	}
	int dfd = dir_get(f, k, 1, msg, sizeof(msg));
	int rc = dfd;
	if (dfd >= 0 && fd) {
		*fd = openat(dfd, base_name(e->path, e->path_len),
			     O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		rc = *fd < 0 ? -errno : 0;
		dir_put(f, k);
	} else if (dfd >= 0) {
		rc = fstatat(dfd, base_name(e->path, e->path_len), st,
			     AT_SYMLINK_NOFOLLOW)
			 ? -errno
			 : 0;
		dir_put(f, k);
	}
	pthread_mutex_unlock(&f->mu);
	return rc;
}

int rfiles_stat_target(rfiles *f, uint32_t i, struct stat *st)
{
	return at_target(f, i, st, NULL);
}

int rfiles_open_target(rfiles *f, uint32_t i)
{
	int fd = -1;
	int rc = at_target(f, i, NULL, &fd);
	return rc ? rc : fd;
}

/* --------------------------------------------------------- part-files */

/* Opens entry i's part-file (creating it with create): the fd, or
 * -errno with msg.  f->mu held. */
static int part_open(rfiles *f, uint32_t i, int create, char *msg, size_t len)
{
	int dfd = rroot_parts(f->r, msg, len);
	const char *path = f->m->entries[i].path;
	if (dfd < 0) {
		char why[400];
		snprintf(why, sizeof(why), "%s", msg);
		snprintf(msg, len, "cannot create '%s': %s", path, why);
		return dfd;
	}
	char name[64];
	part_name(f, i, name, sizeof(name));
	int flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC;
	if (create) /* a resumable one may be there already: it is ours */
		flags |= rresume_keeps(f, i) ? O_CREAT : O_CREAT | O_EXCL;
	int fd = open_at(f, dfd, name, flags, 0600);
	if (fd >= 0)
		return fd;
	int e = errno;
	if (e == EEXIST)
		snprintf(msg, len,
			 "cannot create '%s': its part-file %s/%s exists "
			 "(another receiver on this root?)",
			 path, SALVO_PATH_PRIVATE, name);
	else
		snprintf(msg, len, "cannot %s '%s': %s",
			 create ? "create" : "open", path, strerror(e));
	return -e;
}

/* Entry i's part-file, pinned (release with part_put), made if it does
 * not exist yet: the fd, or -errno with msg. */
static int part_get(rfiles *f, uint32_t i, char *msg, size_t len)
{
	pthread_mutex_lock(&f->mu);
	int fd = rfdcache_take(&f->partfd, (int32_t)i);
	if (fd < 0) {
		int create = f->state[i] == RF_NONE;
		fd = part_open(f, i, create, msg, len);
		if (fd >= 0 && create)
			f->state[i] = RF_PART;
		if (fd >= 0 && rfdcache_add(&f->partfd, (int32_t)i, fd)) {
			snprintf(msg, len, "receiver out of memory");
			fd = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&f->mu);
	return fd;
}

static void part_put(rfiles *f, uint32_t i)
{
	pthread_mutex_lock(&f->mu);
	rfdcache_release(&f->partfd, (int32_t)i);
	pthread_mutex_unlock(&f->mu);
}

int rfiles_open(rfiles *f, uint32_t i, char *msg, size_t len)
{
	pthread_mutex_lock(&f->mu);
	int made = f->state[i] != RF_NONE;
	pthread_mutex_unlock(&f->mu);
	if (made)
		return 0;
	int fd = part_get(f, i, msg, len);
	if (fd < 0)
		return fd;
	part_put(f, i);
	return 0;
}

int rfiles_writev(rfiles *f, uint32_t i, uint64_t off, struct iovec *iov, int n,
		  char *msg, size_t msglen)
{
	int fd = part_get(f, i, msg, msglen);
	if (fd < 0)
		return fd;
	int rc = 0;
	while (n > 0) {
		ssize_t w = pwritev(fd, iov, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;
			snprintf(msg, msglen, "cannot write '%s': %s",
				 f->m->entries[i].path, strerror(e));
			rc = -e;
			break;
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
	part_put(f, i);
	return rc;
}

enum { BUF_BYTES = 1 << 20 };

/* Reads [in, in + piece) of entry i into *crc. */
static int crc_piece(rfiles *f, uint32_t i, uint64_t in, uint64_t piece,
		     uint32_t *crc)
{
	char msg[8];
	int fd = part_get(f, i, msg, sizeof(msg));
	if (fd < 0)
		return fd;
	int rc = 0;
	for (uint64_t done = 0; done < piece;) {
		size_t want = piece - done < BUF_BYTES ? (size_t)(piece - done)
						       : BUF_BYTES;
		ssize_t n = pread(fd, f->buf, want, (off_t)(in + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			break;
		}
		*crc = salvo_crc32c(*crc, f->buf, (size_t)n);
		done += (uint64_t)n;
	}
	part_put(f, i);
	return rc;
}

int rfiles_crc(rfiles *f, uint64_t start, uint32_t len, uint32_t *crc)
{
	if (!f->buf && !(f->buf = malloc(BUF_BYTES)))
		return -ENOMEM;
	*crc = 0;
	for (uint32_t i = salvo_manifest_locate(f->m, start); len; i++) {
		const salvo_entry *e = &f->m->entries[i];
		if (!e->size || start >= e->stream_offset + e->size)
			continue;
		if (f->state[i] == RF_NONE)
			return -EIO; /* every byte was written: it must exist */
		uint64_t in = start - e->stream_offset;
		uint64_t piece = e->size - in < len ? e->size - in : len;
		int rc = crc_piece(f, i, in, piece, crc);
		if (rc)
			return rc;
		start += piece;
		len -= (uint32_t)piece;
	}
	return 0;
}

int rfiles_digest(rfiles *f, uint32_t i, uint8_t out[32], char *msg, size_t len)
{
	const salvo_entry *e = &f->m->entries[i];
	int fd = part_get(f, i, msg, len);
	if (fd < 0)
		return fd;
	int err = salvo_blake3_fd(fd, e->size, out, NULL);
	part_put(f, i);
	if (err)
		snprintf(msg, len, "cannot read back '%s': %s", e->path,
			 salvo_strerror(err));
	return err;
}

/* ------------------------------------------------------------- commit */

static int rename_error(const salvo_entry *e, int err, char *msg, size_t len)
{
	if (err == -EXDEV)
		snprintf(msg, len,
			 "cannot store '%s': its folder is on another mount "
			 "or file system than the receiver's root (salvo "
			 "renames finished files into place from %s/, it does "
			 "not copy)",
			 e->path, SALVO_PATH_PRIVATE);
	else
		snprintf(msg, len, "cannot rename '%s' into place: %s", e->path,
			 strerror(-err));
	return err;
}

/* renameat, never replacing with keep: 0, -EEXIST if the name is taken,
 * or -errno.  Where the file system cannot refuse atomically, it looks
 * first. */
static int move(int from, const char *part, int dfd, const char *name, int keep)
{
	if (keep && !renameat2(from, part, dfd, name, RENAME_NOREPLACE))
		return 0;
	if (keep && errno != EINVAL && errno != ENOSYS)
		return -errno;
	struct stat st;
	if (keep && !fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -EEXIST;
	return renameat(from, part, dfd, name) ? -errno : 0;
}

/* Renames entry i's part-file into folder dfd, per the overwrite
 * policy: 0 (with the name it chose in name) or -errno with msg. */
static int place(rfiles *f, uint32_t i, int dfd, char *name, size_t nlen,
		 char *msg, size_t len)
{
	const salvo_entry *e = &f->m->entries[i];
	const char *base = base_name(e->path, e->path_len);
	char part[64];
	part_name(f, i, part, sizeof(part));
	int from = atomic_load(&f->r->parts);
	struct stat st;
	if (!fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) &&
	    S_ISDIR(st.st_mode)) {
		snprintf(msg, len, "cannot store '%s': a folder has that name",
			 e->path);
		return -EISDIR;
	}
	int policy = f->overwrite ? f->overwrite - 1 : f->r->overwrite;
	for (unsigned k = 0; k < 10000; k++) {
		if (k)
			snprintf(name, nlen, "%s.%u", base, k);
		else
			snprintf(name, nlen, "%s", base);
		int rc = move(from, part, dfd, name,
			      policy != SALVO_OVERWRITE_REPLACE);
		if (rc != -EEXIST)
			return rc ? rename_error(e, rc, msg, len) : 0;
		if (policy == SALVO_OVERWRITE_NEVER) {
			snprintf(msg, len,
				 "'%s' already exists and the receiver does "
				 "not overwrite",
				 e->path);
			return -EEXIST;
		}
	}
	snprintf(msg, len, "no free name for '%s'", e->path);
	return -EEXIST;
}

int rfiles_commit(rfiles *f, uint32_t i, const uint8_t digest[32], char *stored,
		  size_t slen, char *msg, size_t len)
{
	const salvo_entry *e = &f->m->entries[i];
	int fd = part_get(f, i, msg, len);
	if (fd < 0)
		return fd;
	struct timespec ts[2] = {{0, UTIME_OMIT},
				 {(time_t)(e->mtime_ns / 1000000000),
				  (long)(e->mtime_ns % 1000000000)}};
	int rc = 0;
	struct stat pst;
	if (fchmod(fd, (mode_t)e->mode & 07777 & ~f->r->mask) ||
	    futimens(fd, ts) || fsync(fd) || fstat(fd, &pst)) {
		rc = -errno;
		snprintf(msg, len, "cannot finish '%s': %s", e->path,
			 strerror(-rc));
	}
	pthread_mutex_lock(&f->mu);
	rfdcache_release(&f->partfd, (int32_t)i);
	int32_t k = f->parent[i];
	int dfd = rc;
	if (!rc) {
		rfdcache_drop(&f->partfd, (int32_t)i);
		dfd = dir_get(f, k, 1, msg, len);
	}
	pthread_mutex_unlock(&f->mu);
	if (dfd < 0)
		return dfd;
	char name[SALVO_NAME_MAX + 16], part[64];
	if (rrecent_match(f, i, digest, dfd, name, sizeof(name))) {
		/* committed already, unchanged since: not again */
		part_name(f, i, part, sizeof(part));
		unlinkat(atomic_load(&f->r->parts), part, 0);
		rc = 1;
	} else {
		rc = place(f, i, dfd, name, sizeof(name), msg, len);
		if (!rc)
			rrecent_note(f, i, digest, dfd, name, pst.st_ino);
	}
	pthread_mutex_lock(&f->mu);
	if (rc >= 0) {
		const char *base = base_name(e->path, e->path_len);
		snprintf(stored, slen, "%.*s%s", (int)(base - e->path), e->path,
			 name);
		f->state[i] = RF_DONE;
		if (!rc)
			mark_dirty(f, k);
	}
	dir_put(f, k);
	pthread_mutex_unlock(&f->mu);
	return rc;
}

void rfiles_drop(rfiles *f, uint32_t i)
{
	char part[64];
	pthread_mutex_lock(&f->mu);
	rfdcache_drop(&f->partfd, (int32_t)i);
	if (f->state[i] == RF_PART) {
		part_name(f, i, part, sizeof(part));
		unlinkat(atomic_load(&f->r->parts), part, 0);
		f->state[i] = RF_NONE;
	}
	pthread_mutex_unlock(&f->mu);
}

/* Folder k's manifest mode (masked) when this session made it, and with
 * finish its manifest mtime, making it again if another session removed
 * it (empty) meanwhile.  f->mu held. */
static void set_meta(rfiles *f, int32_t k, int finish)
{
	const struct rdir *d = &f->dirs[k];
	if (d->entry < 0 || (!d->created && !finish))
		return;
	char msg[8];
	int fd = dir_get(f, k, finish, msg, sizeof(msg));
	if (fd < 0)
		return;
	const salvo_entry *e = &f->m->entries[d->entry];
	if (d->created)
		fchmod(fd, (mode_t)e->mode & 07777 & ~f->r->mask);
	if (finish) {
		struct timespec ts[2] = {{0, UTIME_OMIT},
					 {(time_t)(e->mtime_ns / 1000000000),
					  (long)(e->mtime_ns % 1000000000)}};
		futimens(fd, ts);
	}
	dir_put(f, k);
}

/* fsyncs folder k (ROOT_DIR: the root).  f->mu held.  0 or -errno. */
static int sync_dir(rfiles *f, int32_t k, char *msg, size_t len)
{
	int fd = dir_get(f, k, 1, msg, len);
	if (fd < 0)
		return fd;
	int rc = fsync(fd) ? -errno : 0;
	dir_put(f, k);
	if (rc)
		snprintf(msg, len, "cannot sync folder '%.*s': %s",
			 k >= 0 ? (int)f->dirs[k].len : 1,
			 k >= 0 ? f->dirs[k].path : ".", strerror(-rc));
	return rc;
}

int rfiles_finish(rfiles *f, char *msg, size_t len)
{
	int rc = 0;
	pthread_mutex_lock(&f->mu);
	for (uint32_t k = 0; k < f->ndirs; k++)
		if (f->dirs[k].entry >= 0) {
			set_meta(f, (int32_t)k, 1);
			f->dirs[k].dirty = 1;
		}
	for (uint32_t k = 0; !rc && k < f->ndirs; k++)
		if (f->dirs[k].dirty)
			rc = sync_dir(f, (int32_t)k, msg, len);
	if (!rc && f->root_dirty)
		rc = sync_dir(f, ROOT_DIR, msg, len);
	f->finished = !rc;
	pthread_mutex_unlock(&f->mu);
	return rc;
}

/* ------------------------------------------------------------ failure */

/* Removes the session's part-files, then the folders it made, deepest
 * (last made) first, that are still empty; a folder that is not gets its
 * mode as if the session had ended well. */
static void discard(rfiles *f)
{
	int pfd = atomic_load(&f->r->parts);
	rfdcache_free(&f->partfd);
	for (uint32_t i = 0; pfd >= 0 && i < f->m->count; i++)
		if (f->state[i] == RF_PART && !rresume_keeps(f, i)) {
			char part[64];
			part_name(f, i, part, sizeof(part));
			unlinkat(pfd, part, 0);
		}
	for (int32_t k = (int32_t)f->ndirs - 1; k >= 0; k--) {
		struct rdir *d = &f->dirs[k];
		if (!d->created)
			continue;
		char msg[8], comp[SALVO_NAME_MAX + 1];
		const char *b = base_name(d->path, d->len);
		size_t n = d->len - (size_t)(b - d->path);
		memcpy(comp, b, n);
		comp[n] = 0;
		rfdcache_drop(&f->dirfd, k);
		int up = dir_get(f, d->up, 0, msg, sizeof(msg));
		if (up < 0)
			continue;
		if (unlinkat(up, comp, AT_REMOVEDIR))
			set_meta(f, k, 0);
		dir_put(f, d->up);
	}
}

void rfiles_free(rfiles *f, int discard_left)
{
	if (!f->r)
		return;
	if (f->have_mu) {
		pthread_mutex_lock(&f->mu);
		if (discard_left && !f->finished && f->state)
			discard(f);
		rresume_free(f, f->keep_partial);
		rfdcache_free(&f->partfd);
		rfdcache_free(&f->dirfd);
		pthread_mutex_unlock(&f->mu);
		pthread_mutex_destroy(&f->mu);
	}
	rroot_release(f->r, f->reserved);
	free(f->dirs);
	free(f->index);
	free(f->parent);
	free(f->state);
	free(f->buf);
	memset(f, 0, sizeof(*f));
}
