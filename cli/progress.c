/*
 * Output for people and programs, shared by salvo send and salvo recv.
 *
 * The rate on the progress line is measured over the last second of
 * samples (kept at least 100 ms apart, however often the engine reports)
 * rather than since the start, so a stall shows at once; it is then smoothed
 * with an even exponential average so that the number does not jitter from one
 * redraw to the next.  The ETA divides what is left by that smoothed rate.
 *
 * The one file-scope variable of the CLI lives here: the stop flag that the
 * SIGINT/SIGTERM handler sets.  A handler can reach nothing else.
 */
#include "cli/progress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/core/error.h"
#include "common/io/logsink.h"

#define DRAW_INTERVAL_NS 200000000ull /* about 4 redraws a second */
#define RATE_WINDOW_NS 1000000000ull  /* rate over the last second */
#define SAMPLE_GAP_NS 100000000ull    /* keep samples at least this apart */
#define BAR_WIDTH 20

static volatile sig_atomic_t stop_signal;

/* The first SIGINT/SIGTERM asks for a clean stop (the caller polls the
 * flag); a second one, while that stop is still running, ends the
 * process at once, as 128 + the signal (a second Ctrl-C: 130).  What is
 * on disk stays consistent either way: a receiver writes each part-file
 * before its map, and nothing takes a final name unverified. */
static void on_signal(int sig)
{
	if (stop_signal)
		_exit(128 + sig);
	stop_signal = sig;
}

volatile sig_atomic_t *salvo_progress_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		return NULL;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL))
		return NULL;
	return &stop_signal;
}

void salvo_progress_init(struct salvo_progress *p, FILE *out, int enabled,
			 const char *peer)
{
	memset(p, 0, sizeof(*p));
	p->out = out;
	p->enabled = enabled;
	p->peer = peer;
	p->rate_bps = -1;
}

char *salvo_progress_human(uint64_t bytes, char *buf, size_t n)
{
	static const char *const unit[] = {"B",	  "KiB", "MiB", "GiB",
					   "TiB", "PiB", "EiB"};
	double v = (double)bytes;
	unsigned u = 0;

	while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, n, "%llu B", (unsigned long long)bytes);
	else if (v < 10)
		snprintf(buf, n, "%.2f %s", v, unit[u]);
	else if (v < 100)
		snprintf(buf, n, "%.1f %s", v, unit[u]);
	else
		snprintf(buf, n, "%.0f %s", v, unit[u]);
	return buf;
}

double salvo_progress_retx_pct(uint64_t retx_bytes, uint64_t bytes)
{
	if (!retx_bytes)
		return 0;
	return 100.0 * (double)retx_bytes /
	       ((double)bytes + (double)retx_bytes);
}

double salvo_progress_mbps(uint64_t bytes, uint64_t elapsed_ns)
{
	if (!elapsed_ns)
		return 0;
	return (double)bytes * 8e3 / (double)elapsed_ns;
}

/* "1:05", "2:03:09"; "--:--" when unknown or absurd. */
static void format_eta(double seconds, char *buf, size_t n)
{
	unsigned long s;

	if (!(seconds >= 0) || seconds > 99 * 3600.0) {
		snprintf(buf, n, "--:--");
		return;
	}
	s = (unsigned long)(seconds + 0.5);
	if (s >= 3600)
		snprintf(buf, n, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60,
			 s % 60);
	else
		snprintf(buf, n, "%lu:%02lu", s / 60, s % 60);
}

static void add_sample(struct salvo_progress *p, uint64_t t_ns, uint64_t bytes)
{
	unsigned oldest, i;
	double inst;

	/* callbacks may come faster than asked; the ring must span a second */
	if (p->n &&
	    t_ns - p->ring[(p->head + p->n - 1) % SALVO_PROGRESS_SAMPLES].t_ns <
		SAMPLE_GAP_NS)
		return;
	i = (p->head + p->n) % SALVO_PROGRESS_SAMPLES;
	if (p->n == SALVO_PROGRESS_SAMPLES)
		p->head = (p->head + 1) % SALVO_PROGRESS_SAMPLES;
	else
		p->n++;
	p->ring[i].t_ns = t_ns;
	p->ring[i].bytes = bytes;
	if (p->n < 2)
		return;
	/* the oldest sample still inside the window, else the oldest kept */
	oldest = p->head;
	for (unsigned k = 0; k + 1 < p->n; k++) {
		unsigned j = (p->head + k) % SALVO_PROGRESS_SAMPLES;

		if (t_ns - p->ring[j].t_ns <= RATE_WINDOW_NS) {
			oldest = j;
			break;
		}
	}
	if (oldest == i || t_ns <= p->ring[oldest].t_ns)
		return;
	inst = (double)(bytes - p->ring[oldest].bytes) * 8e9 /
	       (double)(t_ns - p->ring[oldest].t_ns);
	p->rate_bps = p->rate_bps < 0 ? inst : 0.5 * p->rate_bps + 0.5 * inst;
}

static void draw_data(struct salvo_progress *p, const salvo_send_progress *sp)
{
	char done[24], total[24], eta[24], bar[BAR_WIDTH + 1];
	double frac = sp->total_bytes
			  ? (double)sp->acked_bytes / (double)sp->total_bytes
			  : 1.0;
	unsigned fill;

	if (frac > 1)
		frac = 1;
	fill = (unsigned)(frac * BAR_WIDTH);
	memset(bar, '#', fill);
	memset(bar + fill, '.', BAR_WIDTH - fill);
	bar[BAR_WIDTH] = '\0';
	if (p->rate_bps > 0)
		format_eta((double)(sp->total_bytes - sp->acked_bytes) * 8 /
			       p->rate_bps,
			   eta, sizeof(eta));
	else
		format_eta(-1, eta, sizeof(eta));
	fprintf(p->out,
		"\r%5.1f%% [%s] %s / %s  %.1f Mbit/s  ETA %s  retx %.1f%%  "
		"files %u/%u",
		frac * 100, bar,
		salvo_progress_human(sp->acked_bytes, done, sizeof(done)),
		salvo_progress_human(sp->total_bytes, total, sizeof(total)),
		p->rate_bps > 0 ? p->rate_bps / 1e6 : 0.0, eta,
		salvo_progress_retx_pct(sp->retx_bytes, sp->sent_bytes),
		sp->files_done, sp->files);
	if (sp->skipped)
		fprintf(p->out, "  skipped %u", sp->skipped);
	double ratio =
	    salvo_progress_ratio(sp->data_stream_bytes, sp->data_wire_bytes);
	if (ratio >= 1.01)
		fprintf(
		    p->out, "  lz4 %.2fx, wire %.1f Mbit/s", ratio,
		    salvo_progress_mbps(sp->data_wire_bytes, sp->elapsed_ns));
	fputs("\033[K", p->out);
}

void salvo_progress_update(struct salvo_progress *p,
			   const salvo_send_progress *sp)
{
	if (!p->enabled)
		return;
	add_sample(p, sp->elapsed_ns, sp->acked_bytes);
	if (p->drawn && sp->elapsed_ns - p->last_draw_ns < DRAW_INTERVAL_NS &&
	    sp->phase != 3)
		return;
	p->last_draw_ns = sp->elapsed_ns;
	if (sp->phase == 0)
		fprintf(p->out, "\rconnecting to %s ... %.1f s\033[K",
			p->peer ? p->peer : "the receiver",
			(double)sp->elapsed_ns / 1e9);
	else if (sp->phase == 1)
		fprintf(p->out, "\rsending the list of %u files%s\033[K",
			sp->files, sp->skipped ? " (some skipped)" : "");
	else
		draw_data(p, sp);
	fflush(p->out);
	p->drawn = 1;
}

void salvo_progress_clear(struct salvo_progress *p)
{
	if (!p->enabled || !p->drawn)
		return;
	fputs("\r\033[K", p->out);
	fflush(p->out);
	p->drawn = 0;
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

char *salvo_progress_skip_counts(const salvo_send_report *r, char *buf,
				 size_t n)
{
	/* by enum salvo_send_skip: one, many */
	static const char *const words[SALVO_SKIP_REASONS][2] = {
	    {"symlink", "symlinks"},
	    {"special file", "special files"},
	    {"unreadable", "unreadable"},
	    {"bad name", "bad names"}};
	size_t len = 0;

	buf[0] = '\0';
	for (int k = 0; k < SALVO_SKIP_REASONS; k++) {
		uint32_t c = r->skipped_by[k];
		int w;

		if (!c || len >= n)
			continue;
		w = snprintf(buf + len, n - len, "%s%u %s", len ? ", " : "", c,
			     words[k][c != 1]);
		if (w > 0)
			len += (size_t)w;
	}
	return buf;
}

/* A path for a person on one line: control bytes (C0, DEL, C1) and
 * invalid UTF-8 escaped, as in the log (common/io/logsink.h). */
static void put_path(FILE *out, const char *s)
{
	char safe[SALVO_LOGSINK_LINE_MAX];

	salvo_logsink_text(safe, sizeof(safe), s ? s : "");
	fputs(safe, out);
}

static void summary_skips(FILE *out, const salvo_send_report *r)
{
	static const char *const words[SALVO_SKIP_REASONS] = {
	    "symlink", "special file", "unreadable", "bad name"};
	char by[200];
	uint32_t listed = 0;

	fprintf(out, "skipped %u: %s\n", r->skipped,
		salvo_progress_skip_counts(r, by, sizeof(by)));
	for (size_t i = 0; i < r->nresults; i++) {
		const salvo_send_result *e = &r->results[i];

		if (e->outcome != SALVO_SEND_SKIPPED)
			continue;
		if (listed++ == SALVO_PROGRESS_SKIPS_LISTED)
			break;
		fputs("  ", out);
		put_path(out, e->local);
		fprintf(out, ": %s (%s)\n", words[e->skip], e->detail);
	}
	if (r->skipped > SALVO_PROGRESS_SKIPS_LISTED)
		fprintf(out, "  ... and %u more (--json lists them all)\n",
			r->skipped - SALVO_PROGRESS_SKIPS_LISTED);
}

void salvo_progress_summary(FILE *out, const salvo_send_report *r)
{
	char size[24];

	fprintf(out, "%u %s", r->files, plural(r->files, "file", "files"));
	if (r->dirs)
		fprintf(out, ", %u %s", r->dirs,
			plural(r->dirs, "folder", "folders"));
	fprintf(out,
		", %s in %.2f s: %.1f Mbit/s goodput, %.2f%% "
		"retransmitted\n",
		salvo_progress_human(r->bytes, size, sizeof(size)),
		(double)r->elapsed_ns / 1e9,
		salvo_progress_mbps(r->bytes, r->elapsed_ns),
		salvo_progress_retx_pct(r->retx_bytes, r->bytes));
	if (r->lz4_datagrams)
		fprintf(out,
			"compressed %.2fx: %.1f Mbit/s of file data over "
			"%.1f Mbit/s on the wire\n",
			salvo_progress_ratio(r->data_stream_bytes,
					     r->data_wire_bytes),
			salvo_progress_mbps(r->bytes, r->elapsed_ns),
			salvo_progress_mbps(r->wire_bytes, r->elapsed_ns));
	if (r->skipped)
		summary_skips(out, r);
}

double salvo_progress_ratio(uint64_t stream, uint64_t wire)
{
	return wire ? (double)stream / (double)wire : 1.0;
}

void salvo_progress_json_compress(FILE *out, const salvo_send_report *r)
{
	static const char *const names[] = {"off", "auto", "lz4"};
	fprintf(out,
		" \"compress\": \"%s\", \"compress_agreed\": %s, "
		"\"data_stream_bytes\": %llu, \"data_wire_bytes\": %llu, "
		"\"lz4_datagrams\": %llu, \"compress_ratio\": %.4f, "
		"\"file_mbps\": %.3f, \"wire_mbps\": %.3f,\n",
		r->compress >= 0 && r->compress <= 2 ? names[r->compress] : "?",
		r->compress_agreed ? "true" : "false",
		(unsigned long long)r->data_stream_bytes,
		(unsigned long long)r->data_wire_bytes,
		(unsigned long long)r->lz4_datagrams,
		salvo_progress_ratio(r->data_stream_bytes, r->data_wire_bytes),
		salvo_progress_mbps(r->bytes, r->elapsed_ns),
		salvo_progress_mbps(r->wire_bytes, r->elapsed_ns));
}

void salvo_progress_json_string(FILE *out, const char *s)
{
	/* each byte becomes at most 6 ("\\u00XX") */
	size_t n = (s ? strlen(s) : 0) * 6 + 3;
	char small[512], *buf = n <= sizeof(small) ? small : malloc(n);

	if (!buf) {
		fputs("\"\"", out);
		return;
	}
	fwrite(buf, 1, salvo_logsink_quote(buf, n, s), out);
	if (buf != small)
		free(buf);
}

void salvo_progress_log(struct salvo_logsink *sink, const salvo_log_event *ev)
{
	if (!salvo_logsink_is_stderr_text(sink))
		salvo_logsink_event(sink, ev);
}

int salvo_progress_json_config(FILE *out, const struct salvo_config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	int rc;

	if (!mem)
		return SALVO_ERR_NOMEM;
	rc = salvo_conf_write(cfg, mem, 1);
	if (fclose(mem) && !rc)
		rc = -errno;
	if (!rc) {
		while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
			len--;
		if (fwrite(buf, 1, len, out) != len)
			rc = -EIO;
	}
	free(buf);
	return rc;
}

void salvo_progress_print_diag(FILE *out, const char *prefix,
			       const struct salvo_conf_diag *diag)
{
	const char *line = diag->text;

	while (*line) {
		const char *nl = strchr(line, '\n');
		int len = nl ? (int)(nl - line) : (int)strlen(line);

		fprintf(out, "%s%.*s\n", prefix, len, line);
		line += len + (nl ? 1 : 0);
	}
	if (diag->dropped)
		fprintf(out, "%s(%u more errors not shown)\n", prefix,
			diag->dropped);
}
