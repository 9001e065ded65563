/*
 * Batches and sessions.  Queued files go out together, up to batch_files
 * files and batch_bytes bytes per salvo_send_run call, at most
 * max_sessions calls at once per profile, each in a thread of its own; a
 * batch waits HF_LINGER_NS after its first file queued so that files that
 * settle close together share one handshake.
 *
 * Failures are sorted by their cause:
 *   receiver away (unreachable, silent) or stop  -> the whole batch is
 *     queued again and the profile backs off (exponential with jitter,
 *     retry_min..retry_max), sending one probe batch at a time meanwhile;
 *   anything else (the receiver could not write, a file unreadable here)
 *     -> the batch is split: each file goes alone, so only the file at
 *     fault fails, with its reason, and is retried with its own backoff.
 *
 * The session thread owns its items from start to end; it only stats and
 * hashes files and calls the engine.  The loop thread applies the results
 * to the jobs, makes the journal durable, then runs the post-actions.
 */
#include "hotfolder/profile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/core/error.h"
#include "common/io/sys.h"
#include "sender/engine/live.h"

static void stat_of(const struct stat *sb, struct salvo_hf_stat *st)
{
	st->size = (uint64_t)sb->st_size;
	st->mtime_ns =
	    (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
}

/* BLAKE3 of the file as it is; 0 with *st its stat if it did not change
 * while being read, else -1. */
static int hash_file(const char *path, struct salvo_hf_stat *st,
		     uint8_t out[32])
{
	struct stat a, b;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc = -1;

	if (fd < 0)
		return -1;
	if (!fstat(fd, &a) && S_ISREG(a.st_mode) &&
	    !salvo_blake3_fd(fd, (uint64_t)a.st_size, out, NULL) &&
	    !fstat(fd, &b) && a.st_size == b.st_size &&
	    a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
	    a.st_mtim.tv_nsec == b.st_mtim.tv_nsec) {
		stat_of(&a, st);
		rc = 0;
	}
	close(fd);
	return rc;
}

/*
 * Why the file may not be sent as it is at the start of its session, or
 * NULL: it became a link since it was queued, or a folder on its way was
 * replaced by a symbolic link (the path would lead out of the folder).
 * real_root: the watched folder with its own links resolved.
 */
static const char *refusal_now(const struct hf_profile *p,
			       const struct hf_item *it, const struct stat *sb,
			       const char *real_root)
{
	const char *why =
	    salvo_hf_refusal(S_ISLNK(sb->st_mode), (uint64_t)sb->st_nlink,
			     p->hf->allow_hardlinks);
	char *real;
	size_t n = real_root ? strlen(real_root) : 0;

	if (why || !real_root)
		return why;
	real = realpath(it->local, NULL);
	if (real && (strncmp(real, real_root, n) || real[n] != '/' ||
		     strcmp(real + n + 1, it->remote)))
		why = "a folder on its path is a symbolic link; salvo watch "
		      "never follows links";
	free(real);
	return why;
}

static int link_error(int rc)
{
	return rc == SALVO_ERR_UNREACHABLE || rc == SALVO_ERR_TIMEOUT ||
	       rc == SALVO_ERR_ABORTED;
}

/* After a failed send: the file is gone, or it failed (alone) or must be
 * retried alone (in a batch). */
static enum salvo_hf_outcome failed_one(struct hf_item *it, size_t m)
{
	struct stat sb;

	if (lstat(it->local, &sb) && errno == ENOENT)
		return SALVO_HF_VANISHED;
	return m > 1 ? SALVO_HF_SPLIT : SALVO_HF_FAIL;
}

/* The receiver's verdict on the file at local, as the report lists it:
 * its result, or NULL when the report has nothing to say of it (sent,
 * or none was refused, failed or found there already). */
static const salvo_send_result *verdict_on(const salvo_send_report *rep,
					   const char *local)
{
	if (!rep->files_refused && !rep->files_failed &&
	    !rep->files_abandoned && !rep->files_identical &&
	    !rep->files_exists && !rep->files_not_newer)
		return NULL;
	for (size_t i = 0; i < rep->nresults; i++)
		if ((rep->results[i].outcome == SALVO_SEND_REFUSED ||
		     rep->results[i].outcome == SALVO_SEND_NOT_NEEDED) &&
		    rep->results[i].local &&
		    !strcmp(rep->results[i].local, local))
			return &rep->results[i];
	return NULL;
}

static void *session_main(void *arg)
{
	struct hf_session *s = arg;
	struct hf_profile *p = s->p;
	struct hf_daemon *d = p->d;
	salvo_send_item *items = calloc(s->n, sizeof(*items));
	size_t *map = calloc(s->n, sizeof(*map)), m = 0;
	salvo_send_report *rep = calloc(1, sizeof(*rep));
	salvo_send_opts o;
	uint64_t one = 1;
	char *real_root = NULL;

	if (!items || !map || !rep) {
		s->rc = SALVO_ERR_NOMEM;
		snprintf(s->message, sizeof(s->message), "out of memory");
		for (size_t i = 0; i < s->n; i++)
			s->items[i].out = SALVO_HF_LINK;
		goto done;
	}
	real_root = realpath(p->root, NULL);
	for (size_t i = 0; i < s->n; i++) {
		struct hf_item *it = &s->items[i];
		struct stat sb;

		if (lstat(it->local, &sb) ||
		    (!S_ISREG(sb.st_mode) && !S_ISLNK(sb.st_mode))) {
			it->out = SALVO_HF_VANISHED;
			continue;
		}
		if ((it->why = refusal_now(p, it, &sb, real_root))) {
			stat_of(&sb, &it->after);
			it->out = SALVO_HF_REFUSE;
			continue;
		}
		stat_of(&sb, &it->after);
		if (it->check_hash &&
		    !hash_file(it->local, &it->after, it->hash) &&
		    !memcmp(it->hash, it->old_hash, 32)) {
			it->out = SALVO_HF_UNCHANGED;
			it->has_hash = 1;
			continue;
		}
		items[m].local = it->local;
		items[m].remote = it->remote;
		map[m++] = i;
	}
	if (!m)
		goto done;
	o = p->send;
	o.items = items;
	o.nitems = m;
	o.log = d->o->log;
	o.log_ud = d->o->log_ud;
	o.stop = &d->stop;
	o.results = SALVO_SEND_RESULTS_ALL;
	o.live = d->o->profile_live
		     ? &d->o->profile_live[p->hf - d->o->cfg->hotfolders]
		     : d->o->live;
	salvo_send_run(&o, rep);
	hf_session_event(p, &o, rep);
	s->rc = rep->result;
	s->sent_bytes = rep->bytes;
	s->elapsed_ns = rep->elapsed_ns;
	s->compressed[0] = 0;
	if (rep->lz4_datagrams && rep->data_wire_bytes && rep->elapsed_ns)
		snprintf(s->compressed, sizeof(s->compressed),
			 ", compressed %.2fx: %.1f Mbit/s of file data over "
			 "%.1f Mbit/s on the wire",
			 (double)rep->data_stream_bytes /
			     (double)rep->data_wire_bytes,
			 (double)rep->bytes * 8e3 / (double)rep->elapsed_ns,
			 (double)rep->wire_bytes * 8e3 /
			     (double)rep->elapsed_ns);
	snprintf(s->message, sizeof(s->message), "%s",
		 rep->message[0] ? rep->message : salvo_strerror(rep->result));
	for (size_t k = 0; k < m; k++) {
		struct hf_item *it = &s->items[map[k]];
		struct stat sb;

		const salvo_send_result *v =
		    s->rc == 0 ? verdict_on(rep, it->local) : NULL;
		if (v && v->outcome == SALVO_SEND_REFUSED) {
			/* its verdict: refused or not storable there; the
			 * others went.  A file the receiver had already
			 * (identical, or kept by the policy) is delivered */
			it->out = failed_one(it, 1);
		} else if (s->rc == 0) {
			it->out = SALVO_HF_OK;
			it->verdict = v ? v->verdict : SALVO_VERDICT_SEND;
			if (p->pol.keep)
				it->has_hash =
				    !hash_file(it->local, &it->after, it->hash);
			if (!it->has_hash && !lstat(it->local, &sb))
				stat_of(&sb, &it->after);
		} else if (link_error(s->rc)) {
			it->out = SALVO_HF_LINK;
		} else {
			it->out = failed_one(it, m);
		}
	}
done:
	free(real_root);
	free(items);
	free(map);
	if (rep)
		salvo_send_report_free(rep);
	free(rep);
	pthread_mutex_lock(&d->mu);
	s->next = d->done;
	d->done = s;
	pthread_mutex_unlock(&d->mu);
	if (write(d->evfd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow in practice; nothing to do */
	}
	return NULL;
}

static uint32_t batch_files(const struct hf_profile *p)
{
	return p->d->o->batch_files ? p->d->o->batch_files : 1000;
}

static unsigned limit_of(const struct hf_profile *p)
{
	/* while the receiver is away, one probe at a time */
	return p->link_attempts	     ? 1
	       : p->hf->max_sessions ? p->hf->max_sessions
				     : 1;
}

uint64_t hf_next_batch_ns(struct hf_profile *p)
{
	struct salvo_hf_entry *head = p->tab.lists[SALVO_HF_QUEUED].head;

	if (!head || p->lost || p->d->stop || p->active >= limit_of(p))
		return UINT64_MAX;
	if (p->link_attempts && p->link_next_ns > head->job.deadline_ns)
		return p->link_next_ns;
	if (p->tab.count[SALVO_HF_QUEUED] >= batch_files(p))
		return 0;
	return head->job.deadline_ns + HF_LINGER_NS;
}

static void free_session(struct hf_session *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i].local);
	free(s->items);
	free(s);
}

static struct hf_session *take_batch(struct hf_profile *p)
{
	uint64_t max_bytes =
	    p->d->o->batch_bytes ? p->d->o->batch_bytes : 4ull << 30;
	uint32_t max_files = batch_files(p);
	struct salvo_hf_entry *e = p->tab.lists[SALVO_HF_QUEUED].head, *next;
	struct hf_session *s = calloc(1, sizeof(*s));
	int solo = e->job.solo;

	if (!s || !(s->items = calloc(max_files, sizeof(*s->items)))) {
		free(s);
		return NULL;
	}
	s->p = p;
	for (; e && s->n < max_files; e = next) {
		struct hf_item *it = &s->items[s->n];
		int old = e->job.state;

		next = e->next;
		if (e->job.solo != solo)
			continue;
		if (s->n && s->bytes + e->job.st.size > max_bytes)
			break;
		if (asprintf(&it->local, "%s/%s", p->root, e->path) < 0)
			break;
		it->remote = it->local + strlen(p->root) + 1;
		it->e = e;
		it->st = e->job.st;
		if (p->pol.keep && e->job.has_hash &&
		    e->job.sent.size == e->job.st.size) {
			it->check_hash = 1;
			memcpy(it->old_hash, e->job.hash, 32);
		}
		salvo_hf_job_start(&e->job);
		hf_set_state(p, e, old);
		hf_journal(p, e, SALVO_HF_REC_SENDING);
		s->bytes += e->job.st.size;
		s->n++;
		if (solo)
			break;
	}
	return s;
}

void hf_sessions_start(struct hf_profile *p, uint64_t now)
{
	struct hf_session *s;
	int rc;

	while (hf_next_batch_ns(p) <= now) {
		if (!(s = take_batch(p))) {
			hf_error(p, "out_of_memory",
				 "out of memory for a batch");
			return;
		}
		/* the SENDING records are durable before any byte leaves */
		hf_sync(p);
		s->started_ns = now;
		p->active++;
		p->d->active++;
		rc = pthread_create(&s->thread, NULL, session_main, s);
		if (rc) {
			hf_error(p, "session_error",
				 "cannot start a session thread: %s",
				 strerror(rc));
			for (size_t i = 0; i < s->n; i++) {
				int old = s->items[i].e->job.state;

				salvo_hf_job_finish(&s->items[i].e->job,
						    &p->pol, SALVO_HF_LINK,
						    NULL, NULL, now, 0);
				hf_set_state(p, s->items[i].e, old);
			}
			p->active--;
			p->d->active--;
			free_session(s);
			return;
		}
	}
}

static void link_result(struct hf_profile *p, struct hf_session *s,
			uint64_t now)
{
	if (s->rc == SALVO_ERR_ABORTED || p->d->stop)
		return;
	if (link_error(s->rc)) {
		uint64_t delay;

		p->link_attempts++;
		delay = salvo_hf_backoff_ns(p->pol.retry_min_ns,
					    p->pol.retry_max_ns,
					    p->link_attempts, hf_rand(p));
		p->link_next_ns = now + delay;
		hf_error(p, "receiver_unavailable",
			 "receiver %s unavailable: %s; %zu files queued, "
			 "retry %u in %.1f s",
			 p->peer, s->message,
			 p->tab.count[SALVO_HF_QUEUED] + s->n, p->link_attempts,
			 (double)delay / 1e9);
	} else if (p->link_attempts) {
		hf_log(p, "receiver_reachable",
		       "receiver %s reachable again after %u failed "
		       "attempts",
		       p->peer, p->link_attempts);
		p->link_attempts = 0;
		p->link_next_ns = 0;
	}
}

/* Why the receiver did not need a file (its verdict, not SEND). */
static const char *skip_words(int verdict)
{
	switch (verdict) {
	case SALVO_VERDICT_IDENTICAL:
		return "identical";
	case SALVO_VERDICT_EXISTS:
		return "exists, and --overwrite is never";
	case SALVO_VERDICT_NOT_NEWER:
		return "not newer, and --overwrite is if-newer";
	default:
		return "already there";
	}
}

/* One file's result; returns 1 if the job is now SENT (post-action due):
 * also a file the receiver had already (skipped there, no data moved),
 * counted in skipped_files and *skipped. */
static int apply(struct hf_profile *p, struct hf_session *s, struct hf_item *it,
		 uint64_t now, size_t *skipped)
{
	struct salvo_hf_entry *e = it->e;
	int old = e->job.state, st;

	st = salvo_hf_job_finish(&e->job, &p->pol, it->out, &it->after,
				 it->has_hash ? it->hash : NULL, now,
				 hf_rand(p));
	switch (st) {
	case SALVO_HF_SENT:
		p->sent_files++;
		if (!p->pol.keep)
			hf_journal(p, e, SALVO_HF_REC_SENT);
		if (it->out == SALVO_HF_OK &&
		    it->verdict != SALVO_VERDICT_SEND) {
			p->skipped_files++;
			(*skipped)++;
			if (p->d->o->verbose)
				hf_log(p, "file_skipped",
				       "%s not sent: the receiver had it (%s); "
				       "delivered",
				       e->path, skip_words(it->verdict));
			break;
		}
		p->sent_bytes += e->job.st.size;
		if (p->d->o->verbose)
			hf_file_event(p, "file_sent", e->path, e->job.st.size,
				      0, "sent %s (%llu bytes)", e->path,
				      (unsigned long long)e->job.st.size);
		break;
	case SALVO_HF_IDLE:
		hf_journal(p, e, SALVO_HF_REC_DONE);
		if (p->d->o->verbose)
			hf_log(p, "file_unchanged",
			       "%s unchanged since it was sent", e->path);
		break;
	case SALVO_HF_SETTLING:
		hf_log(p, "file_changed",
		       "%s changed while it was sent; it is sent again "
		       "once it settles",
		       e->path);
		break;
	case SALVO_HF_REFUSED:
		hf_refused(p, e->path, it->why ? it->why : "a link");
		break;
	case SALVO_HF_FAILED:
		p->failed_files++;
		hf_error(p, "file_failed", "%s failed: %s; retry %u in %.1f s",
			 e->path, s->message, e->job.attempts,
			 (double)(e->job.deadline_ns - now) / 1e9);
		break;
	default:
		break;
	}
	hf_set_state(p, e, old);
	if (st == SALVO_HF_GONE)
		it->e = NULL; /* freed */
	return st == SALVO_HF_SENT;
}

void hf_session_done(struct hf_session *s)
{
	struct hf_profile *p = s->p;
	uint64_t now = salvo_now_ns();
	size_t sent = 0, split = 0, skipped = 0;
	char also[96] = "";

	pthread_join(s->thread, NULL);
	p->active--;
	p->d->active--;
	link_result(p, s, now);
	for (size_t i = 0; i < s->n; i++) {
		split += s->items[i].out == SALVO_HF_SPLIT;
		sent += (size_t)apply(p, s, &s->items[i], now, &skipped);
	}
	/* SENT is durable before a source is deleted or moved */
	hf_sync(p);
	for (size_t i = 0; i < s->n; i++)
		if (s->items[i].e && s->items[i].e->job.state == SALVO_HF_SENT)
			hf_post(p, s->items[i].e);
	hf_sync(p);
	if (split)
		hf_error(p, "batch_split",
			 "a session of %zu files failed (%s); sending them "
			 "one by one",
			 split, s->message);
	if (skipped)
		snprintf(also, sizeof(also),
			 ", %zu of them skipped (the receiver had them)",
			 skipped);
	if (sent)
		hf_file_event(
		    p, "batch_sent", NULL, s->sent_bytes, s->elapsed_ns,
		    "sent %zu file%s (%llu bytes) to %s in %.2f s%s%s", sent,
		    sent == 1 ? "" : "s", (unsigned long long)s->sent_bytes,
		    p->peer, (double)s->elapsed_ns / 1e9, also, s->compressed);
	hf_maybe_compact(p);
	free_session(s);
}
