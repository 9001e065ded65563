/*
 * The hot folder daemon's loop (see hotfolder.h).  One thread, one epoll:
 * inotify descriptors (one per profile), an eventfd that session threads
 * write when they end, and the caller's stop descriptor.  Between events
 * it sleeps exactly until the earliest deadline: a settle time, a retry, a
 * batch's linger, the receiver back-off or the status file.  There is no
 * periodic tick, so an idle watcher costs nothing.
 *
 * Stopping: the stop descriptor sets the flag the sessions' engines watch;
 * running sessions end (their files go back to the queue, and the journal
 * makes the next start send them), the loop waits for every session
 * thread, syncs the journals and returns.
 */
#include "hotfolder/hotfolder.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/core/error.h"
#include "common/io/sys.h"
#include "hotfolder/profile.h"

#define KEY_STOP (UINT64_MAX - 1)
#define KEY_DONE (UINT64_MAX - 2)

static int add_fd(int epfd, int fd, uint64_t key)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = key;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static void drain_done(struct hf_daemon *d)
{
	struct hf_session *s, *next;
	uint64_t v;

	if (read(d->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&d->mu);
	s = d->done;
	d->done = NULL;
	pthread_mutex_unlock(&d->mu);
	for (; s; s = next) {
		next = s->next;
		hf_session_done(s);
	}
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Runs what is due; returns the next deadline (UINT64_MAX: none). */
static uint64_t tick(struct hf_daemon *d, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < d->np; i++) {
		struct hf_profile *p = &d->p[i];
		struct salvo_hf_entry *h;

		if (p->lost)
			continue;
		hf_expire(p, now);
		if (!d->stop)
			hf_sessions_start(p, now);
		/* QUEUED records are made durable with the next batch */
		if ((h = p->tab.lists[SALVO_HF_SETTLING].head))
			next = min64(next, h->job.deadline_ns);
		if ((h = p->tab.lists[SALVO_HF_FAILED].head))
			next = min64(next, h->job.deadline_ns);
		next = min64(next, hf_next_batch_ns(p));
	}
	if (d->status_due_ns && d->status_due_ns <= now) {
		d->status_due_ns = 0;
		for (size_t i = 0; i < d->np; i++)
			hf_status_write(&d->p[i]);
	}
	if (d->status_due_ns)
		next = min64(next, d->status_due_ns);
	return next;
}

static int all_lost(const struct hf_daemon *d)
{
	for (size_t i = 0; i < d->np; i++)
		if (!d->p[i].lost)
			return 0;
	return 1;
}

static int loop(struct hf_daemon *d, char *err, size_t errlen)
{
	struct epoll_event evs[16];

	for (;;) {
		uint64_t now = salvo_now_ns(), next = tick(d, now);
		int timeout = -1, n;

		if (d->stop && !d->active)
			return 0;
		if (all_lost(d) && !d->active) {
			snprintf(err, errlen, "every watched folder is gone");
			return SALVO_ERR_IO;
		}
		if (next != UINT64_MAX) {
			uint64_t ms =
			    next > now ? (next - now + 999999) / 1000000 : 0;

			timeout = ms > INT_MAX ? INT_MAX : (int)ms;
		}
		n = epoll_wait(d->epfd, evs, 16, timeout);
		if (n < 0 && errno != EINTR) {
			snprintf(err, errlen, "epoll_wait: %s",
				 strerror(errno));
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			uint64_t key = evs[i].data.u64;

			if (key == KEY_STOP) {
				if (!d->stop) {
					d->stop = 1;
					for (size_t k = 0; k < d->np; k++)
						hf_log(&d->p[k], "stopping",
						       "stopping (%u sessions "
						       "to end)",
						       d->p[k].active);
				}
				/* level-triggered: stop watching it */
				epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->o->stop_fd,
					  NULL);
			} else if (key == KEY_DONE) {
				drain_done(d);
			} else if (key < d->np) {
				int rc = salvo_hf_watch_read(&d->p[key].w);

				if (rc)
					hf_error(&d->p[key], "watch_error",
						 "inotify: %s",
						 salvo_strerror(rc));
			}
		}
	}
}

int salvo_hotfolder_run(const struct salvo_hf_opts *o, char *err, size_t errlen)
{
	struct hf_daemon *d = calloc(1, sizeof(*d));
	size_t opened = 0;
	int rc = 0;

	size_t np = o->cfg->n_hotfolders;

	if (!d || !(d->p = calloc(np ? np : 1, sizeof(*d->p)))) {
		free(d);
		snprintf(err, errlen, "out of memory");
		return SALVO_ERR_NOMEM;
	}
	d->o = o;
	d->np = np;
	pthread_mutex_init(&d->mu, NULL);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->epfd < 0 || d->evfd < 0 ||
	    (rc = add_fd(d->epfd, d->evfd, KEY_DONE)) ||
	    (o->stop_fd >= 0 && (rc = add_fd(d->epfd, o->stop_fd, KEY_STOP)))) {
		rc = rc ? rc : -errno;
		snprintf(err, errlen, "epoll/eventfd: %s", salvo_strerror(rc));
		goto fail_loop;
	}
	for (; opened < d->np; opened++) {
		struct hf_profile *p = &d->p[opened];

		rc = hf_profile_open(d, p, &o->cfg->hotfolders[opened], err,
				     errlen);
		if (!rc)
			rc = hf_profile_start(p, err, errlen);
		if (!rc)
			rc = add_fd(d->epfd, p->w.fd, opened);
		if (rc) {
			opened++; /* close it too */
			goto fail_loop;
		}
		hf_status_write(p);
	}
	rc = loop(d, err, errlen);
	/* after an error in the loop: end the sessions before freeing */
	d->stop = 1;
	while (d->active) {
		struct pollfd pfd = {d->evfd, POLLIN, 0};

		if (poll(&pfd, 1, -1) > 0)
			drain_done(d);
	}
fail_loop:
	for (size_t i = 0; i < opened; i++) {
		hf_sync(&d->p[i]);
		hf_status_write(&d->p[i]);
		hf_profile_close(&d->p[i]);
	}
	if (d->evfd >= 0)
		close(d->evfd);
	if (d->epfd >= 0)
		close(d->epfd);
	pthread_mutex_destroy(&d->mu);
	free(d->p);
	free(d);
	return rc;
}
