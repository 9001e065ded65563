/*
 * Recursive inotify watching (see watch.h).  A folder's watch is added
 * before the folder is read, so anything created after the read is seen as
 * an event and anything created before it is seen by the read; a file can
 * be reported twice, which the caller's state machine absorbs.  Paths are
 * rebuilt from a table wd -> relative folder; a folder moved inside the
 * tree keeps its wd, and the re-walk that its IN_MOVED_TO triggers renames
 * it (and its subfolders) in the table.
 */
#include "hotfolder/watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define DIR_MASK                                                               \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF |           \
	 IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

static struct salvo_hf_wd *wd_find(struct salvo_hf_watch *w, int wd)
{
	size_t lo = 0, hi = w->nwds;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (w->wds[mid].wd == wd)
			return &w->wds[mid];
		if (w->wds[mid].wd < wd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int wd_set(struct salvo_hf_watch *w, int wd, const char *rel)
{
	struct salvo_hf_wd *e = wd_find(w, wd);
	char *copy = strdup(rel);
	size_t i;

	if (!copy)
		return -ENOMEM;
	if (e) {
		free(e->rel);
		e->rel = copy;
		return 0;
	}
	if (w->nwds == w->capwds) {
		size_t cap = w->capwds ? 2 * w->capwds : 64;
		struct salvo_hf_wd *n = realloc(w->wds, cap * sizeof(*n));

		if (!n) {
			free(copy);
			return -ENOMEM;
		}
		w->wds = n;
		w->capwds = cap;
	}
	/* almost always the largest: insert from the end */
	for (i = w->nwds; i > 0 && w->wds[i - 1].wd > wd; i--)
		w->wds[i] = w->wds[i - 1];
	w->wds[i].wd = wd;
	w->wds[i].rel = copy;
	w->nwds++;
	return 0;
}

static void wd_del(struct salvo_hf_watch *w, int wd)
{
	struct salvo_hf_wd *e = wd_find(w, wd);
	size_t i;

	if (!e)
		return;
	i = (size_t)(e - w->wds);
	free(e->rel);
	memmove(&w->wds[i], &w->wds[i + 1],
		(w->nwds - i - 1) * sizeof(*w->wds));
	w->nwds--;
}

/* root + "/" + rel into buf. */
static int full_path(const struct salvo_hf_watch *w, const char *rel, char *buf,
		     size_t n)
{
	int len = snprintf(buf, n, "%s%s%s", w->root, *rel ? "/" : "", rel);

	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

static int join(char *buf, size_t n, const char *dir, const char *name)
{
	int len = snprintf(buf, n, "%s%s%s", dir, *dir ? "/" : "", name);

	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

/* Watches rel (a folder), then reads it: files are reported, folders
 * walked.  Returns the first watch error; goes on past others. */
static int walk(struct salvo_hf_watch *w, const char *rel)
{
	char path[PATH_MAX], child[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int wd, rc = 0, fd;

	if (full_path(w, rel, path, sizeof(path)))
		return -ENAMETOOLONG;
	wd = inotify_add_watch(w->fd, path, DIR_MASK);
	if (wd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	if (wd_set(w, wd, rel))
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	d = fdopendir(fd);
	if (!d) {
		rc = -errno;
		close(fd);
		return rc;
	}
	while ((de = readdir(d))) {
		struct stat st;
		int r;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (join(child, sizeof(child), rel, de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (w->cb.skip(w->cb.ud, child, 1))
				continue;
			r = walk(w, child);
			if (r && !rc)
				rc = r;
		} else if ((S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) &&
			   !w->cb.skip(w->cb.ud, child, 0)) {
			w->cb.file(w->cb.ud, child, &st, 1);
		}
	}
	closedir(d);
	return rc;
}

int salvo_hf_watch_open(struct salvo_hf_watch *w, const char *root,
			const struct salvo_hf_watch_cb *cb)
{
	int wd, rc;

	memset(w, 0, sizeof(*w));
	w->cb = *cb;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0)
		return -errno;
	if (!(w->root = strdup(root))) {
		rc = -ENOMEM;
		goto fail_root;
	}
	wd = inotify_add_watch(w->fd, root, DIR_MASK);
	if (wd < 0) {
		rc = -errno;
		goto fail_watch;
	}
	if ((rc = wd_set(w, wd, "")))
		goto fail_watch;
	return 0;
fail_watch:
	free(w->root);
fail_root:
	close(w->fd);
	w->fd = -1;
	return rc;
}

int salvo_hf_watch_scan(struct salvo_hf_watch *w)
{
	w->scans++;
	return walk(w, "");
}

static void one_event(struct salvo_hf_watch *w, const struct inotify_event *ev)
{
	struct salvo_hf_wd *e = wd_find(w, ev->wd);
	char rel[PATH_MAX], path[PATH_MAX];
	struct stat st;
	int is_root;

	if (!e)
		return;
	is_root = !*e->rel;
	if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
		if (is_root && !w->lost) {
			w->lost = 1;
			w->cb.lost(w->cb.ud,
				   ev->mask & IN_MOVE_SELF
				       ? "the watched folder was moved"
				       : "the watched folder was deleted");
		}
		if (ev->mask & IN_IGNORED)
			wd_del(w, ev->wd);
		return;
	}
	if (!ev->len || join(rel, sizeof(rel), e->rel, ev->name))
		return;
	if (ev->mask & IN_ISDIR) {
		if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) &&
		    !w->cb.skip(w->cb.ud, rel, 1))
			(void)walk(w, rel);
		return;
	}
	if (!(ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE)))
		return;
	if (w->cb.skip(w->cb.ud, rel, 0) ||
	    full_path(w, rel, path, sizeof(path)) || lstat(path, &st))
		return;
	/* a file being created is reported once closed; a link made by ln
	 * or symlink is complete at once and never gets a close */
	if (S_ISLNK(st.st_mode) ||
	    (S_ISREG(st.st_mode) &&
	     (!(ev->mask & IN_CREATE) || st.st_nlink > 1)))
		w->cb.file(w->cb.ud, rel, &st, 0);
}

int salvo_hf_watch_read(struct salvo_hf_watch *w)
{
	char buf[65536]
	    __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof(buf));
		int overflow = 0;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			if (ev->mask & IN_Q_OVERFLOW)
				overflow = 1;
			else
				one_event(w, ev);
			p += sizeof(*ev) + ev->len;
		}
		if (overflow) {
			/* events were lost: what is there now is the truth */
			w->overflows++;
			(void)salvo_hf_watch_scan(w);
		}
	}
}

void salvo_hf_watch_close(struct salvo_hf_watch *w)
{
	for (size_t i = 0; i < w->nwds; i++)
		free(w->wds[i].rel);
	free(w->wds);
	free(w->root);
	if (w->fd >= 0)
		close(w->fd);
	memset(w, 0, sizeof(*w));
	w->fd = -1;
}
