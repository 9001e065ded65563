/*
 * linkem: salvo's userspace link emulator, for kernels without sch_netem.
 *
 * It creates one TUN device on each side of a link (side A and side B, each
 * in its own network namespace), and forwards IP packets between them, one
 * thread per direction (fwd.c), shaping each direction with a pure link
 * model (model.c): delay, jitter, Bernoulli and Gilbert-Elliott loss, a rate
 * with a drop-tail byte queue, reordering, duplication and corruption.
 * Because it works on IP packets, TCP peers and salvo cross the same link.
 *
 * The main thread owns startup and shutdown only: it opens the devices,
 * writes the pid file once they exist (the lab waits for it), starts the two
 * direction threads with every signal blocked, and then sleeps in
 * sigtimedwait(): SIGUSR1 prints the counters, SIGINT/SIGTERM or the end of
 * --duration stop the threads and print the final counters, one line per
 * direction in key=value form so scripts can check that they add up:
 *   in_pkts + duplicated = out_pkts + drop_loss + drop_queue + drop_mem
 *                          + drop_write + held
 */
#include "perf/linkem/linkem.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct linkem {
	struct linkem_opts o;
	int fd[2];
	struct linkem_fwd *fwd[2];
};

static const char *const dir_names[2] = {"a>b", "b>a"};

static void print_params(const struct linkem *lm)
{
	for (int d = 0; d < 2; d++) {
		const struct linkem_params *p = &lm->o.dir[d];
		printf("linkem %s params delay=%.3fms jitter=%.3fms loss=%g%% "
		       "ge=%g%%,%g%%,%g%%,%g%% rate=%" PRIu64
		       "bit limit=%" PRIu64
		       "B reorder=%g%% reorder_delay=%.3fms duplicate=%g%% "
		       "corrupt=%g%%\n",
		       dir_names[d], p->delay_ns / 1e6, p->jitter_ns / 1e6,
		       p->loss * 100, p->ge_p * 100, p->ge_r * 100,
		       p->ge_loss_bad * 100, p->ge_loss_good * 100, p->rate_bps,
		       p->limit_bytes, p->reorder * 100, p->reorder_ns / 1e6,
		       p->duplicate * 100, p->corrupt * 100);
	}
}

static void print_counters(const struct linkem *lm, const char *when)
{
	for (int d = 0; d < 2; d++) {
		struct linkem_counters c;
		uint64_t held;
		linkem_fwd_snapshot(lm->fwd[d], &c, &held);
		printf("linkem %s %s in_pkts=%" PRIu64 " in_bytes=%" PRIu64
		       " out_pkts=%" PRIu64 " out_bytes=%" PRIu64
		       " drop_loss=%" PRIu64 " drop_queue=%" PRIu64
		       " drop_mem=%" PRIu64 " drop_write=%" PRIu64
		       " duplicated=%" PRIu64 " corrupted=%" PRIu64
		       " reordered=%" PRIu64 " ge_bursts=%" PRIu64
		       " held=%" PRIu64 "\n",
		       dir_names[d], when, c.in_pkts, c.in_bytes, c.out_pkts,
		       c.out_bytes, c.drop_loss, c.drop_queue, c.drop_mem,
		       c.drop_write, c.duplicated, c.corrupted, c.reordered,
		       c.ge_bursts, held);
	}
	fflush(stdout);
}

static int write_pidfile(const char *path, char *err, size_t errlen)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, errlen, "create pid file %.400s: %s", tmp,
			 strerror(errno));
		return -1;
	}
	fprintf(f, "%ld\n", (long)getpid());
	/* rename: whoever waits for the file never reads it half-written */
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		snprintf(err, errlen, "write pid file %.400s: %s", path,
			 strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Sleeps until a stop signal or the deadline, printing on SIGUSR1. */
static void wait_for_stop(const struct linkem *lm, const sigset_t *set)
{
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct timespec ts = {3600, 0}, *tp = &ts;
		if (lm->o.duration_s > 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			double left =
			    lm->o.duration_s -
			    (double)(now.tv_sec - start.tv_sec) -
			    (double)(now.tv_nsec - start.tv_nsec) / 1e9;
			if (left <= 0)
				return;
			ts.tv_sec = (time_t)left;
			ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		}
		int sig = sigtimedwait(set, NULL, tp);
		if (sig == SIGUSR1)
			print_counters(lm, "now");
		else if (sig == SIGINT || sig == SIGTERM)
			return;
	}
}

int main(int argc, char **argv)
{
	struct linkem lm = {.fd = {-1, -1}};
	char err[512];
	int rc = linkem_opts_parse(&lm.o, argc, argv, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "linkem: %s\n", err);
	if (rc)
		return rc < 0 ? 2 : 0;

	for (int s = 0; s < 2; s++) {
		lm.fd[s] = linkem_tun_open(lm.o.netns[s], lm.o.dev[s], lm.o.mtu,
					   lm.o.txqueuelen, err, sizeof(err));
		if (lm.fd[s] < 0)
			goto fail_tun;
	}

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	lm.fwd[LINKEM_AB] = linkem_fwd_start(LINKEM_AB, lm.fd[0], lm.fd[1],
					     &lm.o, err, sizeof(err));
	if (!lm.fwd[LINKEM_AB])
		goto fail_tun;
	lm.fwd[LINKEM_BA] = linkem_fwd_start(LINKEM_BA, lm.fd[1], lm.fd[0],
					     &lm.o, err, sizeof(err));
	if (!lm.fwd[LINKEM_BA])
		goto fail_fwd;
	if (lm.o.pidfile && write_pidfile(lm.o.pidfile, err, sizeof(err)) < 0)
		goto fail_fwd;

	printf("linkem pid=%ld a=%s/%s b=%s/%s mtu=%u seed=%" PRIu64 "\n",
	       (long)getpid(), lm.o.netns[0] ? lm.o.netns[0] : "-", lm.o.dev[0],
	       lm.o.netns[1] ? lm.o.netns[1] : "-", lm.o.dev[1], lm.o.mtu,
	       lm.o.seed);
	print_params(&lm);
	fflush(stdout);
	wait_for_stop(&lm, &set);

	rc = 0;
	for (int d = 0; d < 2; d++) {
		char derr[512];
		if (linkem_fwd_join(lm.fwd[d], derr, sizeof(derr)) < 0) {
			fprintf(stderr, "linkem: %s\n", derr);
			rc = 1;
		}
	}
	print_counters(&lm, "final");
	for (int d = 0; d < 2; d++)
		linkem_fwd_del(lm.fwd[d]);
	if (lm.o.pidfile)
		unlink(lm.o.pidfile);
	close(lm.fd[0]);
	close(lm.fd[1]);
	return rc;

fail_fwd:
	/* Either direction may be running; stop those that are. */
	for (int d = 0; d < 2; d++)
		if (lm.fwd[d]) {
			char derr[512];
			linkem_fwd_join(lm.fwd[d], derr, sizeof(derr));
			linkem_fwd_del(lm.fwd[d]);
		}
fail_tun:
	fprintf(stderr, "linkem: %s\n", err);
	for (int s = 0; s < 2; s++)
		if (lm.fd[s] >= 0)
			close(lm.fd[s]);
	return 1;
}
