/*
 * Where log events (common/core/log.h) end up: a sink filters them by
 * level and writes each as one line, text or JSON, to stderr or to a file
 * opened once in append mode.  `salvo send`, `recv` and `watch` make one
 * from the logging.* keys and pass salvo_logsink_event with the sink as
 * the engines' log callback.
 *
 * Text:  2024-05-01T12:00:00.123 info file_received: MESSAGE
 *        (local time; "event:" is left out when the event has no name;
 *        the message escaped by salvo_logsink_text, so no control byte
 *        reaches the file or the terminal)
 * JSON:  {"time": "2024-05-01T10:00:00.123Z", "level": "info",
 *         "event": "file_received", "session": 7, "peer": "10.0.0.2:4711",
 *         "file": "a/b.bin", "bytes": 1048576, "seconds": 0.25,
 *         "rate": 33554432, "message": "..."}
 *        one object per line; time in UTC; session, peer, file, bytes,
 *        seconds and rate are null when the event does not carry them
 *        (session 0, a NULL string, bytes/elapsed/rate 0); rate in bit/s.
 *        Strings are escaped as JSON requires: '"', '\\' and every control
 *        character (below U+0020, U+007F and the C1 controls U+0080 to
 *        U+009F) as an escape; bytes that are not UTF-8 as U+FFFD, so a
 *        line is valid JSON whatever a file name holds, and carries no
 *        byte a terminal would act on.
 *
 * Thread-safety: salvo_logsink_event may be called from any number of
 * threads at once; each event is one write(2) of one whole line, under
 * the sink's lock, so lines never interleave.  Lines longer than
 * SALVO_LOGSINK_LINE_MAX bytes have their message cut.
 */
#ifndef SALVO_LOGSINK_H
#define SALVO_LOGSINK_H

#include <stddef.h>
#include <stdio.h>

#include "common/core/log.h"

#define SALVO_LOGSINK_LINE_MAX 4096

struct salvo_logsink;

/*
 * A sink writing events at level or more severe (SALVO_LOG_INFO passes
 * error, warn and info) to path: "stderr", or a file created if needed
 * (mode 0644) and opened once with O_APPEND | O_CLOEXEC.  json selects the
 * JSON form.  Returns the sink, or NULL with "cannot open 'PATH': reason"
 * in err.  salvo_logsink_del closes the file (never stderr); NULL is a
 * no-op.
 */
struct salvo_logsink *salvo_logsink_new(const char *path,
					enum salvo_log_level level, int json,
					char *err, size_t errlen);
void salvo_logsink_del(struct salvo_logsink *s);

/* A salvo_log_fn: ud is the sink. */
void salvo_logsink_event(void *ud, const salvo_log_event *ev);

/* Whether an event of this level would be written. */
int salvo_logsink_wants(const struct salvo_logsink *s,
			enum salvo_log_level level);

/* Whether the sink writes text to stderr, where a command also prints its
 * own messages for the person at the terminal. */
int salvo_logsink_is_stderr_text(const struct salvo_logsink *s);

/* Lowers the sink to level when it is more verbose (--quiet on a
 * terminal); a file sink keeps its level. */
void salvo_logsink_quiet(struct salvo_logsink *s, enum salvo_log_level level);

/* "error", "warn", "info", "debug", "trace". */
const char *salvo_logsink_level_name(enum salvo_log_level level);

/*
 * s as a JSON string literal with its quotes, into buf (n > 2): escapes as
 * described above, cut (still a valid literal) when it does not fit.
 * NULL gives "".  Returns the length written, without the NUL.
 */
size_t salvo_logsink_quote(char *buf, size_t n, const char *s);

/*
 * s made safe for a text log or a terminal, into buf (n > 0), always
 * NUL-terminated: every byte of a control character (C0 0x00-0x1f, DEL
 * 0x7f, and C1 U+0080-U+009F, which UTF-8 writes as C2 80..C2 9F) and
 * every byte that is not part of valid UTF-8 (such as a lone 0x9b, the
 * 8-bit CSI) as \xHH; a backslash as \\, so an escape is never ambiguous;
 * valid UTF-8 otherwise as it is.  Cut before a character or an escape
 * that does not fit.  NULL gives "".  Returns the length written, without
 * the NUL.  Every path and every peer-supplied text that reaches a text
 * log line or the terminal goes through this (or salvo_logsink_quote).
 */
size_t salvo_logsink_text(char *buf, size_t n, const char *s);

/*
 * A line a command prints for the person at the terminal: printf's output
 * (cut at SALVO_LOGSINK_LINE_MAX bytes) through salvo_logsink_text, then a
 * newline, then fflush.  For any line that carries a path or a peer's
 * text.
 */
void salvo_logsink_printf(FILE *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
