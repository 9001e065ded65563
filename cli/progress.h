/*
 * What `salvo send` and `salvo recv` print: the progress line, the summary,
 * JSON pieces, and the one signal flag of the process.
 *
 * The progress line is for a person at a terminal: it is redrawn in place
 * ("\r", clear to end of line) at most about 4 times a second and shows the
 * percent done, bytes done of the total in binary units, the rate over the
 * last second (smoothed), the time left, the share of bytes that were
 * retransmissions, files verified, and the entries skipped, if any.  Whether it
 * is shown at all (a terminal, --progress,
 * --quiet) is the caller's decision, passed to salvo_progress_init.
 *
 * Threading: a struct salvo_progress has one owner thread (the sender
 * engine calls its progress callback from the thread that called
 * salvo_send_run).  The signal flag is written by the handler only.
 */
#ifndef SALVO_CLI_PROGRESS_H
#define SALVO_CLI_PROGRESS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf/config.h"
#include "sender/engine/send.h"

#define SALVO_PROGRESS_SAMPLES 16

struct salvo_progress {
	FILE *out;	  /* borrowed; the line is written here (stderr) */
	int enabled;	  /* 0: every call is a no-op */
	int drawn;	  /* a line is on screen and must be cleared */
	const char *peer; /* "HOST:PORT", borrowed, for the handshake line */
	uint64_t last_draw_ns;
	/* (elapsed, acked) samples, oldest first in ring order */
	struct {
		uint64_t t_ns, bytes;
	} ring[SALVO_PROGRESS_SAMPLES];
	unsigned head, n;
	double rate_bps; /* smoothed; < 0 until the first measurement */
};

/* Prepares *p; nothing is drawn unless enabled. */
void salvo_progress_init(struct salvo_progress *p, FILE *out, int enabled,
			 const char *peer);

/* Takes one progress report (the engine's callback); redraws the line when
 * the last draw is at least 200 ms old. */
void salvo_progress_update(struct salvo_progress *p,
			   const salvo_send_progress *sp);

/* Erases the line, if one is drawn, so that the next output starts clean. */
void salvo_progress_clear(struct salvo_progress *p);

/* Binary units for people, three significant digits: "0 B", "512 B",
 * "1.50 KiB", "256 MiB", "1.00 GiB".  Returns buf. */
char *salvo_progress_human(uint64_t bytes, char *buf, size_t n);

/* Retransmitted bytes as a percentage of file bytes plus retransmissions;
 * 0 when nothing was sent. */
double salvo_progress_retx_pct(uint64_t retx_bytes, uint64_t bytes);

/* bytes × 8 / seconds / 10^6; 0 for an elapsed time of 0. */
double salvo_progress_mbps(uint64_t bytes, uint64_t elapsed_ns);

/* One line: "3 files, 1 folder, 256 MiB in 2.41 s: 891.2 Mbit/s goodput,
 * 0.1% retransmitted\n".  When entries were skipped, then "skipped 3: 2
 * symlinks, 1 unreadable\n" and, for each skipped entry in r->results
 * (the first SALVO_PROGRESS_SKIPS_LISTED), "  PATH: reason (detail)\n",
 * control characters in PATH written as \n, \t, \xHH. */
void salvo_progress_summary(FILE *out, const salvo_send_report *r);
/* Compression figures for --json: the mode, whether the receiver agreed,
 * DATA stream and wire bytes, their ratio, LZ4 datagrams, and goodput
 * in file bytes and in wire bytes; ends with ",\n". */
void salvo_progress_json_compress(FILE *out, const salvo_send_report *r);
/* File bytes per DATA wire byte (1 when nothing was sent). */
double salvo_progress_ratio(uint64_t stream, uint64_t wire);

#define SALVO_PROGRESS_SKIPS_LISTED 20

/* The skip counts by reason for people: "2 symlinks, 1 special file,
 * 1 unreadable, 3 bad names" (reasons with none left out).  Returns buf. */
char *salvo_progress_skip_counts(const salvo_send_report *r, char *buf,
				 size_t n);

/* s as a JSON string literal with its quotes.  Control characters, '"' and
 * '\\' are escaped; bytes that are not UTF-8 become U+FFFD, so the output is
 * valid JSON whatever a file name holds.  NULL writes "". */
void salvo_progress_json_string(FILE *out, const char *s);

/* The effective configuration as salvo_conf_write's JSON object, without
 * its trailing newline, so it can be a member of a larger object.
 * Returns 0 or a negative errno / SALVO_ERR_NOMEM. */
int salvo_progress_json_config(FILE *out, const struct salvo_config *cfg);

/* Each line of the configuration's error report, prefixed ("salvo send: "),
 * so that every error line says which command wrote it. */
void salvo_progress_print_diag(FILE *out, const char *prefix,
			       const struct salvo_conf_diag *diag);

struct salvo_logsink;

/* A command's own message (a result, "listening on") as a log event, to a
 * sink that is a file or JSON; a text sink on stderr is skipped, as the
 * person has read the command's own line there already. */
void salvo_progress_log(struct salvo_logsink *sink, const salvo_log_event *ev);

/*
 * Makes SIGINT and SIGTERM set the process's one stop flag, and a second
 * one, while the flag is set, end the process at once with 128 + its
 * number (a second Ctrl-C: 130); ignores SIGPIPE.  Returns the flag, to be
 * passed to an engine as opts.stop; it reads the number of the signal that
 * arrived, 0 while none has.  Returns NULL (errno set) if sigaction failed.
 */
volatile sig_atomic_t *salvo_progress_catch_signals(void);

#endif
