/*
 * One hot-folder profile: its paths and filters, the journal replay and
 * start-up scan that rebuild the jobs after a restart, the settle and
 * retry deadlines, the post-actions and the status file.
 *
 * Restart rules (the journal's last record for a path, then the scan):
 *   SENT, file unchanged   -> the receiver has it: do the post-action only
 *   SENT, file gone        -> the post-action was done: forget it
 *   DONE (keep), unchanged -> nothing to do
 *   anything else          -> the file settles and is sent (again); if the
 *                             receiver already committed it, the re-send
 *                             replaces it by rename: one copy, as before
 */
#include "hotfolder/profile.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/core/error.h"
#include "conf/engine_opts.h"

/* "NAME: message" as an event to the daemon's log callback. */
uint64_t hf_rand(struct hf_profile *p)
{
	/* xorshift64*: jitter only, not security */
	p->rng ^= p->rng >> 12;
	p->rng ^= p->rng << 25;
	p->rng ^= p->rng >> 27;
	return p->rng * 2685821657736338717ull;
}

static int64_t mtime_of(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------ filters */

static int temp_name(const char *name)
{
	size_t l = strlen(name);

	return name[0] == '.' || name[0] == '~' ||
	       (l >= 5 && !strcmp(name + l - 5, ".part")) ||
	       (l >= 4 && !strcmp(name + l - 4, ".tmp"));
}

static int glob_hit(const struct salvo_conf_strv *v, const char *rel,
		    const char *base)
{
	for (size_t i = 0; i < v->n; i++) {
		const char *g = v->v[i];

		if (strchr(g, '/') ? !fnmatch(g, rel, FNM_PATHNAME)
				   : !fnmatch(g, base, 0))
			return 1;
	}
	return 0;
}

static int skip(void *ud, const char *rel, int is_dir)
{
	struct hf_profile *p = ud;
	const char *base = strrchr(rel, '/');

	base = base ? base + 1 : rel;
	if (temp_name(base))
		return 1;
	if (p->move_rel) {
		size_t l = strlen(p->move_rel);

		if (!strncmp(rel, p->move_rel, l) &&
		    (rel[l] == 0 || rel[l] == '/'))
			return 1;
	}
	if (is_dir)
		return 0;
	if (p->hf->include.n && !glob_hit(&p->hf->include, rel, base))
		return 1;
	return glob_hit(&p->hf->exclude, rel, base);
}

/* ------------------------------------------------------------ replay */

static int replay_rec(void *ud, const struct salvo_hf_rec *r)
{
	struct hf_profile *p = ud;
	struct salvo_hf_entry *e = salvo_hf_tab_find(&p->tab, r->path);

	if (r->type == SALVO_HF_REC_FORGET ||
	    (r->type == SALVO_HF_REC_DONE && !p->pol.keep)) {
		if (e)
			salvo_hf_tab_del(&p->tab, e);
		return 0;
	}
	if (!e && !(e = salvo_hf_tab_add(&p->tab, r->path)))
		return SALVO_ERR_NOMEM;
	e->journaled = (uint8_t)r->type;
	e->job.st.size = r->size;
	e->job.st.mtime_ns = r->mtime_ns;
	if (r->type == SALVO_HF_REC_DONE && r->has_hash) {
		e->job.sent = e->job.st;
		memcpy(e->job.hash, r->hash, 32);
		e->job.has_hash = 1;
	}
	return 0;
}

/* ------------------------------------------------------------ jobs */

static void settle_now(struct hf_profile *p, struct salvo_hf_entry *e,
		       const struct salvo_hf_stat *st, uint64_t now)
{
	int old = e->job.state;

	salvo_hf_job_expire(&e->job, &p->pol, 1, st, now);
	if (e->job.state == SALVO_HF_QUEUED)
		hf_journal(p, e, SALVO_HF_REC_QUEUED);
	hf_set_state(p, e, old);
}

/* A link in the folder: refused once, with its reason, and left alone
 * (not retried) until it is written again. */
static void refuse(struct hf_profile *p, struct salvo_hf_entry *e,
		   const char *rel, const struct salvo_hf_stat *st,
		   const char *why)
{
	int old;

	if (!e) {
		if (!(e = salvo_hf_tab_add(&p->tab, rel))) {
			hf_error(p, "out_of_memory", "out of memory for %s",
				 rel);
			return;
		}
		e->scan_gen = p->scan_gen;
	}
	old = e->job.state;
	if (old == SALVO_HF_REFUSED || old == SALVO_HF_SENDING)
		return; /* said once; a session checks again as it starts */
	salvo_hf_job_refuse(&e->job, st);
	hf_refused(p, rel, why);
	hf_set_state(p, e, old);
}

static void on_file(void *ud, const char *rel, const struct stat *sb, int scan)
{
	struct hf_profile *p = ud;
	struct salvo_hf_entry *e = salvo_hf_tab_find(&p->tab, rel);
	struct salvo_hf_stat st = {(uint64_t)sb->st_size, mtime_of(sb)};
	uint64_t now = now_ns();
	int aged = 0, old;
	const char *why =
	    salvo_hf_refusal(S_ISLNK(sb->st_mode), (uint64_t)sb->st_nlink,
			     p->hf->allow_hardlinks);

	if (e && scan)
		e->scan_gen = p->scan_gen;
	if (why) {
		refuse(p, e, rel, &st, why);
		return;
	}

	if (scan) {
		struct timespec ts;
		int64_t wall;

		clock_gettime(CLOCK_REALTIME, &ts);
		wall = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		aged = wall - st.mtime_ns >= (int64_t)p->pol.settle_ns;
	}
	if (!e) {
		if (!(e = salvo_hf_tab_add(&p->tab, rel))) {
			hf_error(p, "out_of_memory", "out of memory for %s",
				 rel);
			return;
		}
		e->scan_gen = p->scan_gen;
		salvo_hf_job_init(&e->job, &p->pol, &st, now, aged);
		hf_set_state(p, e, SALVO_HF_IDLE);
	} else {
		if (scan)
			e->scan_gen = p->scan_gen;
		old = e->job.state;
		if (old == SALVO_HF_IDLE && e->journaled == SALVO_HF_REC_SENT &&
		    salvo_hf_stat_eq(&st, &e->job.st)) {
			/* sent before a restart; only the post-action is
			 * left (hf_profile_start runs it) */
			e->job.state = SALVO_HF_SENT;
			hf_set_state(p, e, old);
			return;
		}
		salvo_hf_job_touch(&e->job, &p->pol, &st, now, aged);
		if (e->job.state != old || old == SALVO_HF_SETTLING)
			hf_set_state(p, e, old);
	}
	if (e->job.state == SALVO_HF_SETTLING && e->job.deadline_ns <= now)
		settle_now(p, e, &st, now);
}

static void on_lost(void *ud, const char *why)
{
	struct hf_profile *p = ud;

	p->lost = 1;
	hf_error(p, "folder_lost", "%s: %s; this profile stops", p->root, why);
}

static void expire_list(struct hf_profile *p, int state, uint64_t now)
{
	struct salvo_hf_entry *e;
	char path[PATH_MAX];

	while ((e = p->tab.lists[state].head) && e->job.deadline_ns <= now) {
		struct salvo_hf_stat st = {0, 0};
		struct stat sb;
		int old = e->job.state, exists;

		exists = snprintf(path, sizeof(path), "%s/%s", p->root,
				  e->path) < (int)sizeof(path) &&
			 !lstat(path, &sb) && S_ISREG(sb.st_mode);
		if (exists) {
			st.size = (uint64_t)sb.st_size;
			st.mtime_ns = mtime_of(&sb);
		}
		salvo_hf_job_expire(&e->job, &p->pol, exists, &st, now);
		if (e->job.state == SALVO_HF_QUEUED)
			hf_journal(p, e, SALVO_HF_REC_QUEUED);
		else if (e->job.state == SALVO_HF_GONE && p->d->o->verbose)
			hf_log(p, "file_vanished",
			       "%s vanished before it was sent", e->path);
		hf_set_state(p, e, old);
	}
}

void hf_expire(struct hf_profile *p, uint64_t now)
{
	expire_list(p, SALVO_HF_SETTLING, now);
	expire_list(p, SALVO_HF_FAILED, now);
}

/* ------------------------------------------------------------ set-up */

static char *absolute(const char *path)
{
	char cwd[PATH_MAX], *s = NULL;

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)) || asprintf(&s, "%s/%s", cwd, path) < 0)
		return NULL;
	return s;
}

int hf_profile_open(struct hf_daemon *d, struct hf_profile *p,
		    const struct salvo_hotfolder *hf, char *err, size_t errlen)
{
	char buf[PATH_MAX];
	int rc;

	memset(p, 0, sizeof(p[0]));
	p->d = d;
	p->hf = hf;
	p->jn.fd = -1;
	p->w.fd = -1;
	p->pol.settle_ns = hf->settle_ns;
	p->pol.retry_min_ns = hf->retry_min_ns;
	p->pol.retry_max_ns = hf->retry_max_ns;
	p->pol.keep = hf->post_action == SALVO_POST_KEEP;
	if ((rc = salvo_conf_profile_send_opts(d->o->cfg, hf, &p->send, err,
					       errlen)))
		return rc;
	p->rng =
	    now_ns() ^ ((uint64_t)(uintptr_t)p << 17) ^ 0x9e3779b97f4a7c15ull;
	snprintf(p->peer, sizeof(p->peer),
		 strchr(hf->host, ':') ? "[%s]:%u" : "%s:%u", hf->host,
		 (unsigned)p->send.port);
	if (!(p->root = realpath(hf->dir, NULL))) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot watch '%s': %s", hf->name,
			 hf->dir, strerror(errno));
		return rc;
	}
	if (salvo_hotfolder_state_path(hf, d->o->state_dir, buf, sizeof(buf)) ||
	    !(p->state = absolute(buf))) {
		snprintf(err, errlen, "%s: state folder name too long",
			 hf->name);
		return -ENAMETOOLONG;
	}
	if ((rc = hf_mkdirs(p->state, 0))) {
		snprintf(err, errlen, "%s: cannot create state folder '%s': %s",
			 hf->name, p->state, salvo_strerror(rc));
		return rc;
	}
	if (hf->post_action == SALVO_POST_MOVE) {
		size_t rl = strlen(p->root);

		if ((rc = hf_mkdirs(hf->move_to, 0)) ||
		    !(p->move_to = realpath(hf->move_to, NULL))) {
			rc = rc ? rc : -errno;
			snprintf(err, errlen, "%s: cannot use move_to '%s': %s",
				 hf->name, hf->move_to, salvo_strerror(rc));
			return rc;
		}
		if (!strcmp(p->move_to, p->root)) {
			snprintf(err, errlen,
				 "%s: move_to is the watched folder itself",
				 hf->name);
			return SALVO_ERR_INVAL;
		}
		if (!strncmp(p->move_to, p->root, rl) &&
		    p->move_to[rl] == '/' &&
		    !(p->move_rel = strdup(p->move_to + rl + 1)))
			return SALVO_ERR_NOMEM;
	}
	if (salvo_hf_tab_init(&p->tab)) {
		snprintf(err, errlen, "out of memory");
		return SALVO_ERR_NOMEM;
	}
	return 0;
}

/* After the start-up scan: forget what is gone, finish interrupted
 * post-actions, and compact the journal down to what is live. */
static void after_first_scan(struct hf_profile *p)
{
	struct salvo_hf_entry *e, *next;
	size_t forgotten = 0, posts = 0;

	for (e = salvo_hf_tab_next(&p->tab, NULL); e; e = next) {
		next = salvo_hf_tab_next(&p->tab, e);
		if (e->scan_gen != p->scan_gen) {
			/* a SENT file gone: its post-action was done */
			salvo_hf_tab_del(&p->tab, e);
			forgotten++;
		}
	}
	hf_compact(p);
	/* SENT jobs are in no list: walk the table for them */
	for (e = salvo_hf_tab_next(&p->tab, NULL); e; e = next) {
		next = salvo_hf_tab_next(&p->tab, e);
		if (e->job.state == SALVO_HF_SENT) {
			hf_post(p, e);
			posts++;
		}
	}
	hf_sync(p);
	if (forgotten || posts)
		hf_log(p, "journal_replayed",
		       "journal: %zu post-actions finished after a restart, "
		       "%zu entries of files gone forgotten",
		       posts, forgotten);
}

int hf_profile_start(struct hf_profile *p, char *err, size_t errlen)
{
	struct salvo_hf_watch_cb cb = {skip, on_file, on_lost, p};
	char path[PATH_MAX];
	uint64_t torn = 0, t0 = now_ns();
	int rc;

	snprintf(path, sizeof(path), "%s/journal", p->state);
	rc = salvo_hf_journal_open(&p->jn, path, replay_rec, p, &torn);
	if (rc) {
		snprintf(err, errlen, "%s: journal %s: %s", p->hf->name, path,
			 rc == SALVO_ERR_BUSY ? "another salvo watch uses it"
			 : rc == -EINVAL      ? "not a regular file"
					      : salvo_strerror(rc));
		return rc;
	}
	if (torn)
		hf_log(p, "journal_repaired",
		       "journal: cut a torn last record (%llu bytes)",
		       (unsigned long long)torn);
	rc = salvo_hf_watch_open(&p->w, p->root, &cb);
	if (rc) {
		snprintf(err, errlen, "%s: cannot watch %s: %s%s", p->hf->name,
			 p->root, salvo_strerror(rc),
			 rc == -ENOSPC ? " (raise fs.inotify.max_user_watches)"
				       : "");
		return rc;
	}
	p->scan_gen = 1;
	rc = salvo_hf_watch_scan(&p->w);
	if (rc)
		hf_error(p, "scan_error", "start-up scan of %s: %s%s", p->root,
			 salvo_strerror(rc),
			 rc == -ENOSPC ? " (raise fs.inotify.max_user_watches)"
				       : "");
	after_first_scan(p);
	hf_log(p, "watching",
	       "watching %s (%zu folders) -> %s%s%s, post-action %s; "
	       "start-up scan: %zu files in %.2f s, %zu queued",
	       p->root, p->w.nwds, p->peer, *p->hf->remote_dir ? "/" : "",
	       p->hf->remote_dir,
	       p->hf->post_action == SALVO_POST_DELETE ? "delete"
	       : p->hf->post_action == SALVO_POST_MOVE ? "move"
						       : "keep",
	       p->tab.n, (double)(now_ns() - t0) / 1e9,
	       p->tab.count[SALVO_HF_QUEUED]);
	return 0;
}

void hf_profile_close(struct hf_profile *p)
{
	if (p->jn.path)
		salvo_hf_journal_close(&p->jn);
	if (p->w.root)
		salvo_hf_watch_close(&p->w);
	if (p->tab.buckets)
		salvo_hf_tab_free(&p->tab);
	free(p->root);
	free(p->state);
	free(p->move_to);
	free(p->move_rel);
}
