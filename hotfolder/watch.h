/*
 * A recursive inotify watcher over one folder.  It reports regular files
 * that are complete candidates: written and closed (IN_CLOSE_WRITE) or
 * moved in (IN_MOVED_TO), and every file a scan finds.  New folders
 * (IN_CREATE, IN_MOVED_TO with IN_ISDIR) are watched as they appear and
 * scanned right after the watch is in place, so a file written between
 * mkdir and the watch is not missed.  IN_Q_OVERFLOW triggers a full
 * rescan; IN_DELETE_SELF / IN_IGNORED of the root reports the loss.
 *
 * Symbolic links (found by a scan, created or moved in) and regular files
 * that arrive with more than one hard link (IN_CREATE of `ln`) are
 * reported too, never followed: the caller refuses them or not.
 *
 * It does not decide anything: the skip callback filters names (temporary
 * names, globs, the state folder) and the file callback gets each
 * candidate with its lstat.
 *
 * Threading: one owner.  Memory: one path per watched folder.
 */
#ifndef SALVO_HOTFOLDER_WATCH_H
#define SALVO_HOTFOLDER_WATCH_H

#include <stddef.h>
#include <sys/stat.h>

struct salvo_hf_watch_cb {
	/* 1: leave rel (a file, or a folder and all below it) alone */
	int (*skip)(void *ud, const char *rel, int is_dir);
	/* a candidate file (a regular file or a symbolic link, st its
	 * lstat); scan: found by a scan rather than an event */
	void (*file)(void *ud, const char *rel, const struct stat *st,
		     int scan);
	/* the watched folder itself was deleted or moved away */
	void (*lost)(void *ud, const char *why);
	void *ud;
};

struct salvo_hf_wd {
	int wd;
	char *rel; /* "" for the root */
};

struct salvo_hf_watch {
	int fd; /* the inotify descriptor: wait for POLLIN on it */
	char *root;
	struct salvo_hf_watch_cb cb;
	struct salvo_hf_wd *wds; /* sorted by wd (the kernel hands them out
				    in increasing order) */
	size_t nwds, capwds;
	unsigned overflows, scans;
	int lost;
};

/* Opens the inotify instance and watches root (not yet scanned).  Returns
 * 0 or -errno (ENOSPC: raise fs.inotify.max_user_watches). */
int salvo_hf_watch_open(struct salvo_hf_watch *w, const char *root,
			const struct salvo_hf_watch_cb *cb);

/* Walks the whole tree, watching every folder and reporting every file
 * (scan = 1).  Returns 0 or the first -errno of a watch that failed; the
 * walk goes on past unreadable folders. */
int salvo_hf_watch_scan(struct salvo_hf_watch *w);

/* Reads and dispatches what inotify has (non-blocking).  0 or -errno. */
int salvo_hf_watch_read(struct salvo_hf_watch *w);

void salvo_hf_watch_close(struct salvo_hf_watch *w);

#endif
