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
		hf_error(p, "post_action_failed", "%s: post-action failed: %s", e->path,
			 salvo_strerror(rc));
		return;
	}
	hf_journal(p, e, SALVO_HF_REC_DONE);
	salvo_hf_job_posted(&e->job, &p->pol);
	hf_set_state(p, e, old);
}

/* ------------------------------------------------------------ status */

void hf_status_touch(struct hf_daemon *d)
{
	if (!d->status_due_ns) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		d->status_due_ns = (uint64_t)ts.tv_sec * 1000000000ull +
				   (uint64_t)ts.tv_nsec + HF_STATUS_EVERY_NS;
	}
}

/* The error text on one line, quoted for the status file. */
static void quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		fputc(*s == '"' || *s == '\n' ? '\'' : *s, f);
	fputc('"', f);
}

void hf_status_write(struct hf_profile *p)
{
	char tmp[PATH_MAX], path[PATH_MAX], when[40];
	const size_t *c = p->tab.count;
	struct timespec ts;
	uint64_t now;
	time_t t = time(NULL);
	struct tm tm;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/status", p->state) >=
		(int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/status.new", p->state) >=
		(int)sizeof(tmp))
		return;
	if (!(f = fopen(tmp, "w")))
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", &tm);
	fprintf(f,
		"profile: %s\ndir: %s\nhost: %s\nremote_dir: %s\npid: "
		"%ld\nupdated: %s\n"
		"state: %s\nsettling: %zu\nqueued: %zu\nsending: %zu\n"
		"sent: %llu\nsent_bytes: %llu\nfailed: %zu\nknown: %zu\n"
		"sessions: %u\nretry_in_s: %.1f\nlast_error: ",
		p->hf->name, p->root, p->peer, p->hf->remote_dir,
		(long)getpid(), when,
		p->lost		   ? "lost"
		: p->d->stop	   ? "stopped"
		: p->link_attempts ? "receiver-unreachable"
				   : "running",
		c[SALVO_HF_SETTLING], c[SALVO_HF_QUEUED], c[SALVO_HF_SENDING],
		(unsigned long long)p->sent_files,
		(unsigned long long)p->sent_bytes, c[SALVO_HF_FAILED],
		c[SALVO_HF_IDLE], p->active,
		p->link_attempts && p->link_next_ns > now
		    ? (double)(p->link_next_ns - now) / 1e9
		    : 0.0);
	quoted(f, p->last_error);
	fputc('\n', f);
	if (fclose(f) || rename(tmp, path))
		unlink(tmp);
}

int salvo_hotfolder_print_status(const struct salvo_hotfolder *hf,
				 const char *state_dir, FILE *out)
{
	char dir[PATH_MAX], path[PATH_MAX + 8], buf[4096];
	FILE *f;
	size_t n;

	if (salvo_hotfolder_state_path(hf, state_dir, dir, sizeof(dir)))
		return -ENAMETOOLONG;
	snprintf(path, sizeof(path), "%s/status", dir);
	if (!(f = fopen(path, "r")))
		return -errno;
	while ((n = fread(buf, 1, sizeof(buf), f)))
		fwrite(buf, 1, n, out);
	fclose(f);
	return 0;
}
