/*
 * Path scanning for the sender (see scan.h).  Each command-line path
 * contributes its last component as the top name at the receiver, as cp
 * and rsync (without a trailing slash) do.  Remote names are checked with
 * the same validator the receiver uses, so a name the receiver would
 * refuse is reported here, before anything is sent.
 */
#include "sender/engine/scan.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/core/error.h"
#include "common/core/path.h"

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
		char **l = realloc(sc->local, cap * sizeof(*l));
		if (l)
			sc->local = l;
		if (!e || !l) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		sc->cap = cap;
	}
	char *lc = strdup(local), *rc = strdup(remote);
	if (!lc || !rc) {
		free(lc);
		free(rc);
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
	sc->local[sc->n++] = lc;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(salvo_scan *sc, const char *local, const char *remote,
		char *err, size_t errlen)
{
	DIR *d = opendir(local);
	if (!d) {
		int e = errno;
		snprintf(err, errlen, "cannot read folder '%s': %s", local,
			 strerror(e));
		return -e;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			char **nn = realloc(names, cap * sizeof(*nn));
			if (!nn) {
				rc = -ENOMEM;
				break;
			}
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (rc)
		snprintf(err, errlen, "out of memory");
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n && !rc; i++) {
		char *l = NULL, *r = NULL;
		if (asprintf(&l, "%s/%s", local, names[i]) < 0 ||
		    asprintf(&r, "%s/%s", remote, names[i]) < 0) {
			rc = -ENOMEM;
			snprintf(err, errlen, "out of memory");
		} else {
			struct stat st;
			if (lstat(l, &st)) {
				rc = -errno;
				snprintf(err, errlen, "cannot read '%s': %s", l,
					 strerror(errno));
			} else if (S_ISREG(st.st_mode)) {
				rc = add(sc, l, r, &st, err, errlen);
			} else if (S_ISDIR(st.st_mode)) {
				rc = add(sc, l, r, &st, err, errlen);
				if (!rc)
					rc = walk(sc, l, r, err, errlen);
			} else {
				sc->skipped++;
			}
		}
		free(l);
		free(r);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
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

static int scan_one(salvo_scan *sc, const char *local, const char *remote,
		    char *err, size_t errlen)
{
	struct stat st;
	if (stat(local, &st)) {
		int e = errno;
		snprintf(err, errlen, "cannot read '%s': %s", local,
			 strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen,
			 "cannot send '%s': not a regular file or folder",
			 local);
		return SALVO_ERR_INVAL;
	}
	int rc = add(sc, local, remote, &st, err, errlen);
	if (!rc && S_ISDIR(st.st_mode))
		rc = walk(sc, local, remote, err, errlen);
	return rc;
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

int salvo_scan_run(salvo_scan *sc, const char *const *paths, size_t npaths,
		   const salvo_send_item *items, size_t nitems,
		   const char *dest, char *err, size_t errlen)
{
	const char *why = NULL;
	memset(sc, 0, sizeof(*sc));
	if (dest && *dest && salvo_path_check(dest, strlen(dest), &why)) {
		snprintf(err, errlen, "bad destination folder '%s': %s", dest,
			 why);
		return SALVO_ERR_PATH;
	}
	size_t n = items ? nitems : npaths;
	for (size_t i = 0; i < n; i++) {
		const char *local = items ? items[i].local : paths[i];
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
	return check_unique(sc, err, errlen);
}

void salvo_scan_free(salvo_scan *sc)
{
	for (size_t i = 0; i < sc->n; i++) {
		free((char *)sc->entries[i].path);
		free(sc->local[i]);
	}
	free(sc->entries);
	free(sc->local);
	memset(sc, 0, sizeof(*sc));
}
