/*
 * What happens to a file once the receiver has verified and committed it
 * (post_action), and the status file.
 *
 * The caller has made the SENT record durable before hf_post runs, so a
 * crash between the two leaves a record that the restart resolves: the
 * file still there and unchanged gets only its post-action, a file gone
 * is forgotten.  move never overwrites: a name already taken below
 * move_to gets a timestamp suffix (and a counter if that is taken too),
 * and the rename is done with RENAME_NOREPLACE.
 */
#include "hotfolder/profile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/core/error.h"

/* rename without ever replacing: renameat2(NOREPLACE), or link + unlink
 * where the file system lacks it.  0 or -errno (-EEXIST: taken). */
static int rename_noreplace(const char *from, const char *to)
{
	if (!renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE))
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	if (link(from, to))
		return -errno;
	return unlink(from) ? -errno : 0;
}

/* to = move_to/rel, or with a suffix before the extension when taken:
 * "report.20240131-142501.pdf", then "report.20240131-142501-2.pdf". */
static int move_file(struct hf_profile *p, const char *from, const char *rel,
		     char *to, size_t n)
{
	char stamp[32], base[PATH_MAX];
	const char *slash, *dot;
	struct tm tm;
	time_t t = time(NULL);
	int rc;

	if (snprintf(to, n, "%s/%s", p->move_to, rel) >= (int)n)
		return -ENAMETOOLONG;
	if ((rc = hf_mkdirs(to, 1)))
		return rc;
	rc = rename_noreplace(from, to);
	if (rc != -EEXIST)
		return rc;
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(base, sizeof(base), "%s", to);
	slash = strrchr(base, '/');
	dot = strrchr(slash ? slash : base, '.');
	if (!dot || dot == slash + 1)
		dot = base + strlen(base);
	for (unsigned i = 1; i < 1000 && rc == -EEXIST; i++) {
		char count[16] = "";

		if (i > 1)
			snprintf(count, sizeof(count), "-%u", i);
		if (snprintf(to, n, "%.*s.%s%s%s", (int)(dot - base), base,
			     stamp, count, dot) >= (int)n)
			return -ENAMETOOLONG;
		rc = rename_noreplace(from, to);
	}
	return rc;
}

void hf_post(struct hf_profile *p, struct salvo_hf_entry *e)
{
	char from[PATH_MAX], to[PATH_MAX];
	int old = e->job.state, rc = 0;

	if (e->job.state != SALVO_HF_SENT)
		return;
	if (snprintf(from, sizeof(from), "%s/%s", p->root, e->path) >=
	    (int)sizeof(from))
		rc = -ENAMETOOLONG;
	else if (p->hf->post_action == SALVO_POST_DELETE)
		rc = unlink(from) && errno != ENOENT ? -errno : 0;
	else if (p->hf->post_action == SALVO_POST_MOVE) {
		rc = move_file(p, from, e->path, to, sizeof(to));
		if (rc == -ENOENT)
			rc = 0; /* gone already: nothing left to move */
		else if (!rc && p->d->o->verbose)
			hf_log(p, "file_moved", "moved %s to %s", e->path, to);
	}
	if (rc) {
		/* stays SENT: not sent again; retried after a restart */
		hf_error(p, "post_action_failed", "%s: post-action failed: %s",
			 e->path, salvo_strerror(rc));
		return;
	}
	hf_journal(p, e, SALVO_HF_REC_DONE);
	salvo_hf_job_posted(&e->job, &p->pol);
	hf_set_state(p, e, old);
}

int hf_mkdirs(const char *path, int parents_only)
{
	char buf[PATH_MAX];
	size_t l = strlen(path);

	if (l >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, l + 1);
	for (char *s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (!parents_only && mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}
