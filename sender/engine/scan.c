/*
 * Path scanning for the sender (see scan.h).  Each command-line path
 * contributes its last component as the top name at the receiver, as cp
 * and rsync (without a trailing slash) do.  Remote names are checked with
 * the same validator the receiver uses, so a name the receiver would
 * refuse is found here, before anything is sent: an error for a named
 * path, a skip inside a folder.
 *
 * A folder is listed (and closed) before its entries are visited, so the
 * walk holds one descriptor at a time however deep the tree; a file is
 * opened and closed once to know it is readable (cheap next to sending
 * it: a million files cost about a second of opens).  Running out of
 * memory or descriptors ends the scan; any other error of an entry
 * inside a folder skips that entry.
 *
 * Following symlinks (o->follow_links) stats the target instead of the
 * link; the folders on the current walk path are kept by (device,
 * inode), so a link back to one of them is skipped as a loop instead of
 * walked forever.  Include and exclude globs apply below the named
 * paths only, like rsync's filters: what the user names is sent.
 */
#include "sender/engine/scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/error.h"
#include "common/core/path.h"
#include "common/io/sys.h"

/* local is the top's local path joined with remote's tail, as walk()
 * makes both. */
static int add(salvo_scan *sc, const char *local, const char *remote,
	       const struct stat *st, char *err, size_t errlen)
{
	const char *why = NULL;
	size_t rl = strlen(remote);
	if (salvo_path_check(remote, rl, &why)) {
		snprintf(err, errlen, "cannot send '%s': %s", local, why);
		return SALVO_ERR_PATH;
	}
	if (sc->n == sc->cap) {
		size_t cap = sc->cap ? 2 * sc->cap : 64;
		salvo_entry *e = realloc(sc->entries, cap * sizeof(*e));
		if (e)
			sc->entries = e;
		uint32_t *t = realloc(sc->top, cap * sizeof(*t));
		if (t)
			sc->top = t;
		if (!e || !t) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		sc->cap = cap;
	}
	char *rc = strdup(remote);
	if (!rc) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	salvo_entry *e = &sc->entries[sc->n];
	memset(e, 0, sizeof(*e));
	e->type = S_ISDIR(st->st_mode) ? SALVO_ENTRY_DIR : SALVO_ENTRY_FILE;
	e->mode = st->st_mode & 07777;
	e->size = S_ISDIR(st->st_mode) ? 0 : (uint64_t)st->st_size;
	e->mtime_ns =
	    (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	e->path = rc;
	e->path_len = (uint16_t)rl;
	sc->top[sc->n++] = (uint32_t)(sc->ntops - 1);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The names in folder local, sorted, into *names / *n.  Returns 0,
 * -ENOMEM, or -errno of opendir (nothing to free then). */
static int list_dir(const char *local, char ***names, size_t *n)
{
	DIR *d = opendir(local);
	if (!d)
		return -errno;
	char **v = NULL;
	size_t k = 0, cap = 0;
	struct dirent *de;
	int rc = 0;
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (k == cap) {
			cap = cap ? 2 * cap : 32;
			char **nv = realloc(v, cap * sizeof(*nv));
			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			v = nv;
		}
		if (!(v[k] = strdup(de->d_name))) {
			rc = -ENOMEM;
			break;
		}
		k++;
	}
	if (!rc && errno)
		rc = -errno; /* readdir failed part way */
	closedir(d);
	if (rc) {
		free_names(v, k);
		return rc;
	}
	if (k)
		qsort(v, k, sizeof(*v), by_name);
	*names = v;
	*n = k;
	return 0;
}

/* Errors that are the process's, not the entry's: they end the scan. */
static int is_fatal(int err)
{
	return err == -ENOMEM || err == -EMFILE || err == -ENFILE;
}

/* Records local as skipped.  Returns 0 or -ENOMEM. */
static int skip(salvo_scan *sc, const char *local, int reason, int err,
		const char *detail)
{
	if (sc->nskips == sc->skips_cap) {
		size_t cap = sc->skips_cap ? 2 * sc->skips_cap : 16;
		salvo_scan_skip *v = realloc(sc->skips, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		sc->skips = v;
		sc->skips_cap = cap;
	}
	salvo_scan_skip *k = &sc->skips[sc->nskips];
	k->local = strdup(local);
	k->detail = strdup(detail);
	k->reason = reason;
	k->err = err;
	if (!k->local || !k->detail) {
		free(k->local);
		free(k->detail);
		return -ENOMEM;
	}
	sc->nskips++;
	sc->skipped_by[reason]++;
	return 0;
}

static const char *special_kind(mode_t m)
{
	return S_ISFIFO(m)   ? "a FIFO"
	       : S_ISSOCK(m) ? "a socket"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
			     : "not a file or folder";
}

/* Opens the regular file local to know it is readable, and takes its
 * stat from the descriptor (what will be read, not what lstat saw).
 * follow: local may be a symlink to it.  Returns 0 or -errno. */
static int check_readable(const char *local, struct stat *st, int follow)
{
	int fd = open(local, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
				 (follow ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return -errno;
	int rc = fstat(fd, st) ? -errno : 0;
	close(fd);
	if (!rc && !S_ISREG(st->st_mode))
		rc = -EINVAL; /* replaced since the lstat */
	return rc;
}

static int walk(salvo_scan *sc, const char *local, const char *remote,
		const struct stat *dir, char **names, size_t n, char *err,
		size_t errlen);

static int glob_hit(const char *const *v, size_t n, const char *rel,
		    const char *base)
{
	for (size_t i = 0; i < n; i++)
		if (strchr(v[i], '/') ? !fnmatch(v[i], rel, FNM_PATHNAME)
				      : !fnmatch(v[i], base, 0))
			return 1;
	return 0;
}

/* 1 when the globs leave remote name r out (r is below a named folder). */
static int excluded(const salvo_scan *sc, const char *r, int is_dir)
{
	const salvo_send_opts *o = sc->o;
	const char *rel = r + sc->top_len + 1;
	const char *base = strrchr(r, '/');
	base = base ? base + 1 : r;
	if (!is_dir && o->n_include &&
	    !glob_hit(o->include, o->n_include, rel, base))
		return 1;
	return glob_hit(o->exclude, o->n_exclude, rel, base);
}

/* 1 when folder st is one being walked (a symlink loop). */
static int is_ancestor(const salvo_scan *sc, const struct stat *st)
{
	for (size_t i = 0; i < sc->depth; i++)
		if (sc->ancestors[i].dev == st->st_dev &&
		    sc->ancestors[i].ino == st->st_ino)
			return 1;
	return 0;
}

/* One entry inside a walked folder: sent (a folder walked into), or
 * skipped with its reason, or left out by a glob.  Returns 0, or an
 * error that ends the scan. */
static int visit(salvo_scan *sc, const char *l, const char *r, char *err,
		 size_t errlen)
{
	struct stat st;
	const char *why = NULL;
	int follow = sc->o->follow_links;
	int e = 0, dangling = 0;
	if (lstat(l, &st))
		e = -errno;
	else if (S_ISLNK(st.st_mode) && follow)
		dangling = stat(l, &st) != 0; /* what it points to, if any */
	/* globs first: what they leave out is neither sent nor skipped (a
	 * link not followed counts as a file) */
	if (!e && excluded(sc, r, S_ISDIR(st.st_mode))) {
		sc->excluded++;
		return 0;
	}
	if (e)
		; /* reported below */
	else if (S_ISLNK(st.st_mode) && !follow)
		return skip(sc, l, SALVO_SKIP_SYMLINK, 0, "not followed");
	else if (dangling)
		return skip(sc, l, SALVO_SKIP_SYMLINK, 0,
			    "points nowhere (--links follow)");
	else if (S_ISDIR(st.st_mode) && follow && is_ancestor(sc, &st))
		return skip(sc, l, SALVO_SKIP_SYMLINK, 0,
			    "leads back to a folder being sent (a loop)");
	else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return skip(sc, l, SALVO_SKIP_SPECIAL, 0,
			    special_kind(st.st_mode));
	else if (salvo_path_check(r, strlen(r), &why))
		return skip(sc, l, SALVO_SKIP_BAD_NAME, 0, why);
	else if (S_ISREG(st.st_mode))
		e = check_readable(l, &st, follow);
	if (!e && S_ISREG(st.st_mode))
		return add(sc, l, r, &st, err, errlen);
	char **names = NULL;
	size_t n = 0;
	if (!e)
		e = list_dir(l, &names, &n);
	if (e) {
		if (!is_fatal(e))
			return skip(sc, l, SALVO_SKIP_UNREADABLE, e,
				    strerror(-e));
		snprintf(err, errlen, "cannot read '%s': %s", l, strerror(-e));
		return e;
	}
	e = add(sc, l, r, &st, err, errlen);
	if (e) {
		free_names(names, n);
		return e;
	}
	return walk(sc, l, r, &st, names, n, err, errlen);
}

/* Visits each of the n names (taken over) of folder local (stat dir),
 * sent as remote. */
static int walk(salvo_scan *sc, const char *local, const char *remote,
		const struct stat *dir, char **names, size_t n, char *err,
		size_t errlen)
{
	int rc = 0;
	if (sc->depth == sc->depth_cap) {
		size_t cap = sc->depth_cap ? 2 * sc->depth_cap : 16;
		struct salvo_scan_dirid *v =
		    realloc(sc->ancestors, cap * sizeof(*v));
		if (!v) {
			free_names(names, n);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		sc->ancestors = v;
		sc->depth_cap = cap;
	}
	sc->ancestors[sc->depth].dev = dir->st_dev;
	sc->ancestors[sc->depth].ino = dir->st_ino;
	sc->depth++;
	/* one pair of path buffers per folder, not per entry: a million
	 * short-lived allocations between the kept names fragmented the
	 * heap by 68 MB */
	size_t longest = 0;
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) > longest)
			longest = strlen(names[i]);
	size_t ll = strlen(local) + longest + 2,
	       rl = strlen(remote) + longest + 2;
	char *l = n ? malloc(ll) : NULL, *r = n ? malloc(rl) : NULL;
	if (n && (!l || !r))
		rc = -ENOMEM;
	for (size_t i = 0; i < n && !rc; i++) {
		snprintf(l, ll, "%s/%s", local, names[i]);
		snprintf(r, rl, "%s/%s", remote, names[i]);
		rc = visit(sc, l, r, err, errlen);
		if (!rc && sc->o->stop && *sc->o->stop) {
			snprintf(err, errlen, "interrupted");
			rc = SALVO_ERR_ABORTED;
		}
	}
	free(l);
	free(r);
	sc->depth--;
	free_names(names, n);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return rc;
}

/* The last component of path, without trailing slashes. */
static char *top_name(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return NULL;
	size_t l = strlen(copy);
	while (l > 1 && copy[l - 1] == '/')
		copy[--l] = 0;
	char *slash = strrchr(copy, '/');
	char *name = strdup(slash ? slash + 1 : copy);
	free(copy);
	return name;
}

/* Records a path the caller named as the top of what follows. */
static int add_top(salvo_scan *sc, const char *local, const char *remote)
{
	if (sc->ntops == sc->tops_cap) {
		size_t cap = sc->tops_cap ? 2 * sc->tops_cap : 8;
		salvo_scan_top *v = realloc(sc->tops, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		sc->tops = v;
		sc->tops_cap = cap;
	}
	char *l = strdup(local);
	if (!l)
		return -ENOMEM;
	sc->tops[sc->ntops++] = (salvo_scan_top){l, strlen(remote)};
	return 0;
}

size_t salvo_scan_local(const salvo_scan *sc, size_t i, char *buf, size_t cap)
{
	const salvo_scan_top *t = &sc->tops[sc->top[i]];
	const char *tail = sc->entries[i].path + t->remote_len;
	int n = snprintf(buf, cap, "%s%s", t->local, tail);
	return n < 0 ? cap : (size_t)n;
}

char *salvo_scan_local_dup(const salvo_scan *sc, size_t i)
{
	char c;
	size_t n = salvo_scan_local(sc, i, &c, 1);
	char *p = malloc(n + 1);
	if (p)
		salvo_scan_local(sc, i, p, n + 1);
	return p;
}

/* A path the caller named: what cannot be sent is an error. */
static int scan_one(salvo_scan *sc, const char *local, const char *remote,
		    char *err, size_t errlen)
{
	struct stat st;
	int e = stat(local, &st) ? -errno : 0;
	if (!e && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen,
			 "cannot send '%s': not a regular file or folder",
			 local);
		return SALVO_ERR_INVAL;
	}
	char **names = NULL;
	size_t n = 0;
	if (!e)
		e = S_ISREG(st.st_mode) ? check_readable(local, &st, 1)
					: list_dir(local, &names, &n);
	if (e) {
		snprintf(err, errlen, "cannot read '%s': %s", local,
			 strerror(-e));
		return e;
	}
	e = add_top(sc, local, remote);
	if (e) {
		free_names(names, n);
		snprintf(err, errlen, "out of memory");
		return e;
	}
	e = add(sc, local, remote, &st, err, errlen);
	if (e || !S_ISDIR(st.st_mode)) {
		free_names(names, n);
		return e;
	}
	sc->top_len = strlen(remote);
	return walk(sc, local, remote, &st, names, n, err, errlen);
}

static int by_remote(const void *a, const void *b)
{
	return strcmp(**(const char *const *const *)a,
		      **(const char *const *const *)b);
}

/* Two entries with one remote name would write one file twice. */
static int check_unique(const salvo_scan *s, char *msg, size_t len)
{
	const char ***v = malloc((s->n ? s->n : 1) * sizeof(*v));
	if (!v) {
		snprintf(msg, len, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n; i++)
		v[i] = &s->entries[i].path;
	qsort(v, s->n, sizeof(*v), by_remote);
	int rc = 0;
	for (size_t i = 1; i < s->n && !rc; i++)
		if (!strcmp(*v[i], *v[i - 1])) {
			snprintf(msg, len,
				 "two sources would both arrive as '%s'",
				 *v[i]);
			rc = SALVO_ERR_INVAL;
		}
	free(v);
	return rc;
}

/* Files back to back in scan order: each file's first stream byte. */
static void layout(salvo_scan *sc)
{
	uint64_t off = 0;
	for (size_t i = 0; i < sc->n; i++) {
		sc->entries[i].stream_offset = off;
		off += sc->entries[i].size;
		if (sc->entries[i].type == SALVO_ENTRY_FILE)
			sc->files++;
		else
			sc->dirs++;
	}
	sc->total = off;
}

/* --checksum: each file's BLAKE3 over its scanned size, read once
 * more here (the receiver compares it before any data moves). */
static int hash_files(salvo_scan *sc, char *err, size_t errlen)
{
	sc->digests = calloc(sc->n ? sc->n : 1, sizeof(*sc->digests));
	if (!sc->digests) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < sc->n; i++) {
		const salvo_entry *e = &sc->entries[i];
		if (e->type != SALVO_ENTRY_FILE)
			continue;
		if (sc->o->stop && *sc->o->stop) {
			snprintf(err, errlen, "stopped");
			return SALVO_ERR_ABORTED;
		}
		char *local = salvo_scan_local_dup(sc, i);
		int rc = -ENOMEM;
		if (local) {
			int fd = open(local, O_RDONLY | O_CLOEXEC);
			rc = fd < 0 ? -errno
				    : salvo_blake3_fd(fd, e->size,
						      sc->digests[i], NULL);
			if (fd >= 0)
				close(fd);
		}
		if (rc) {
			snprintf(err, errlen,
				 "cannot read '%s' for --checksum: %s",
				 local ? local : e->path, strerror(-rc));
			free(local);
			return rc;
		}
		free(local);
	}
	return 0;
}

int salvo_scan_run(salvo_scan *sc, const salvo_send_opts *o, char *err,
		   size_t errlen)
{
	const char *why = NULL;
	const salvo_send_item *items = o->items;
	const char *dest = o->remote_dir;
	memset(sc, 0, sizeof(*sc));
	sc->o = o;
	if (dest && *dest && salvo_path_check(dest, strlen(dest), &why)) {
		snprintf(err, errlen, "bad destination folder '%s': %s", dest,
			 why);
		return SALVO_ERR_PATH;
	}
	size_t n = items ? o->nitems : o->npaths;
	for (size_t i = 0; i < n; i++) {
		const char *local = items ? items[i].local : o->paths[i];
		char *name = items ? strdup(items[i].remote) : top_name(local);
		char *remote = NULL;
		int rc = 0;
		if (!name ||
		    (dest && *dest ? asprintf(&remote, "%s/%s", dest, name) < 0
				   : !(remote = strdup(name)))) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
		} else {
			rc = scan_one(sc, local, remote, err, errlen);
		}
		free(name);
		free(remote);
		if (rc)
			return rc;
	}
	layout(sc);
	int rc = check_unique(sc, err, errlen);
	if (!rc && o->checksum)
		rc = hash_files(sc, err, errlen);
	return rc;
}

void salvo_scan_free(salvo_scan *sc)
{
	for (size_t i = 0; i < sc->n; i++)
		free((char *)sc->entries[i].path);
	for (size_t i = 0; i < sc->ntops; i++)
		free(sc->tops[i].local);
	for (size_t i = 0; i < sc->nskips; i++) {
		free(sc->skips[i].local);
		free(sc->skips[i].detail);
	}
	free(sc->skips);
	free(sc->digests);
	free(sc->ancestors);
	free(sc->entries);
	free(sc->top);
	free(sc->tops);
	memset(sc, 0, sizeof(*sc));
}
