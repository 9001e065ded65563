/*
 * The status file of a profile (state folder/status: counts, the last
 * error, the receiver), rewritten at most every HF_STATUS_EVERY_NS by the
 * loop and read by `salvo watch --status`, and where the state folder is.
 * Written to a temporary name and renamed, so a reader never sees half.
 *
 * A watcher killed with -9 leaves its last status behind, "running" with
 * its pid.  The reader asks the journal's lock whether a watcher still
 * runs (a live one always holds it; a pid may have been reused) and, when
 * none does, prints the state as not running, naming the gone pid.
 */
#include "hotfolder/profile.h"

#include "common/io/logsink.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int salvo_hotfolder_state_path(const struct salvo_hotfolder *hf,
			       const char *state_dir, char *buf, size_t n)
{
	int l = state_dir ? snprintf(buf, n, "%s/%s", state_dir, hf->name)
			  : snprintf(buf, n, "%s/.salvo", hf->dir);

	return l < 0 || (size_t)l >= n ? -ENAMETOOLONG : 0;
}

void hf_status_touch(struct hf_daemon *d)
{
	if (!d->status_due_ns) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		d->status_due_ns = (uint64_t)ts.tv_sec * 1000000000ull +
				   (uint64_t)ts.tv_nsec + HF_STATUS_EVERY_NS;
	}
}

/* The error text on one line, quoted for the status file: it may carry a
 * file name from the folder or a receiver's message, so controls and
 * bytes that are not UTF-8 are escaped (a person cats this file). */
static void quoted(FILE *f, const char *s)
{
	char safe[4 * sizeof(((struct hf_profile *)0)->last_error)];

	salvo_logsink_text(safe, sizeof(safe), s);
	fputc('"', f);
	for (char *c = safe; *c; c++)
		fputc(*c == '"' ? '\'' : *c, f);
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
		"sent: %llu\nskipped: %llu\nsent_bytes: %llu\nfailed: "
		"%zu\nrefused: %zu\n"
		"known: %zu\n"
		"sessions: %u\nretry_in_s: %.1f\nlast_error: ",
		p->hf->name, p->root, p->peer, p->hf->remote_dir,
		(long)getpid(), when,
		p->lost		   ? "lost"
		: p->d->stop	   ? "stopped"
		: p->link_attempts ? "receiver-unreachable"
				   : "running",
		c[SALVO_HF_SETTLING], c[SALVO_HF_QUEUED], c[SALVO_HF_SENDING],
		(unsigned long long)p->sent_files,
		(unsigned long long)p->skipped_files,
		(unsigned long long)p->sent_bytes, c[SALVO_HF_FAILED],
		c[SALVO_HF_REFUSED], c[SALVO_HF_IDLE], p->active,
		p->link_attempts && p->link_next_ns > now
		    ? (double)(p->link_next_ns - now) / 1e9
		    : 0.0);
	quoted(f, p->last_error);
	fputc('\n', f);
	if (fclose(f) || rename(tmp, path))
		unlink(tmp);
}

/* The state line of a status that no live watcher backs: the watcher
 * that wrote it is gone unless it stopped cleanly. */
static void print_stale_state(FILE *out, const char *buf, const char *line,
			      int len)
{
	const char *pid = strstr(buf, "\npid: ");
	int plen = 0;

	if (len == (int)strlen("state: stopped") &&
	    !strncmp(line, "state: stopped", (size_t)len)) {
		salvo_logsink_printf(out, "%.*s", len, line);
		return;
	}
	if (pid) {
		pid += strlen("\npid: ");
		plen = (int)strspn(pid, "0123456789");
	}
	salvo_logsink_printf(out,
			     "state: not running (stale status from pid %.*s, "
			     "which is gone)",
			     plen ? plen : 1, plen ? pid : "?");
}

int salvo_hotfolder_print_status(const struct salvo_hotfolder *hf,
				 const char *state_dir, FILE *out)
{
	char dir[PATH_MAX], path[PATH_MAX + 8], buf[16384];
	struct stat st;
	size_t len = 0;
	int fd, held;

	if (salvo_hotfolder_state_path(hf, state_dir, dir, sizeof(dir)))
		return -ENAMETOOLONG;
	snprintf(path, sizeof(path), "%s/status", dir);
	/* non-blocking, so a FIFO in its place cannot hang the reader */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	while (len < sizeof(buf) - 1) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	snprintf(path, sizeof(path), "%s/journal", dir);
	held = salvo_hf_journal_held(path);
	/* each line escaped for the terminal, whatever the file holds */
	for (char *line = buf, *end; *line; line = end + (*end == '\n')) {
		end = line + strcspn(line, "\n");
		if (!held && !strncmp(line, "state: ", strlen("state: ")))
			print_stale_state(out, buf, line, (int)(end - line));
		else
			salvo_logsink_printf(out, "%.*s", (int)(end - line),
					     line);
	}
	return 0;
}
