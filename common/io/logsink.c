/*
 * The log sink: one level filter, one line format, one descriptor.  A line
 * is built whole in a stack buffer and written with one write(2) under the
 * sink's mutex, so threads never interleave and a crash never leaves half
 * a record in the file.  The file is opened once with O_APPEND, so several
 * processes (a watcher and a receiver on one host) may share one log and
 * logrotate's copytruncate works; it is never reopened.  Formatting is
 * plain arithmetic on the event; only the clock and write(2) touch the OS.
 */
#include "common/io/logsink.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct salvo_logsink {
	pthread_mutex_t mu;
	int fd;
	int own_fd; /* a file we opened (not stderr) */
	int json;
	enum salvo_log_level level;
};

static const char *const level_names[] = {"error", "warn", "info", "debug",
					  "trace"};

const char *salvo_logsink_level_name(enum salvo_log_level level)
{
	return (unsigned)level < 5 ? level_names[level] : "trace";
}

struct salvo_logsink *salvo_logsink_new(const char *path,
					enum salvo_log_level level, int json,
					char *err, size_t errlen)
{
	struct salvo_logsink *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->level = level;
	s->json = json;
	s->fd = STDERR_FILENO;
	if (path && strcmp(path, "stderr")) {
		s->fd =
		    open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (s->fd < 0) {
			snprintf(err, errlen, "cannot open '%s': %s", path,
				 strerror(errno));
			free(s);
			return NULL;
		}
		s->own_fd = 1;
	}
	if (pthread_mutex_init(&s->mu, NULL)) {
		snprintf(err, errlen, "cannot create a lock");
		goto fail_mutex;
	}
	return s;
fail_mutex:
	if (s->own_fd)
		close(s->fd);
	free(s);
	return NULL;
}

void salvo_logsink_del(struct salvo_logsink *s)
{
	if (!s)
		return;
	if (s->own_fd)
		close(s->fd);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int salvo_logsink_wants(const struct salvo_logsink *s,
			enum salvo_log_level level)
{
	return s && level <= s->level;
}

int salvo_logsink_is_stderr_text(const struct salvo_logsink *s)
{
	return s && !s->own_fd && !s->json;
}

void salvo_logsink_quiet(struct salvo_logsink *s, enum salvo_log_level level)
{
	if (s && !s->own_fd && s->level > level)
		s->level = level;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is not one.
 * Overlong forms, surrogates and code points past U+10FFFF are invalid.
 * *cp gets the code point. */
static size_t utf8_len(const unsigned char *s, unsigned *cp)
{
	unsigned c = s[0];
	size_t len;

	*cp = c;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, *cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, *cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, *cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && *cp < 0x800) || (len == 4 && *cp < 0x10000) ||
	    (*cp >= 0xd800 && *cp <= 0xdfff) || *cp > 0x10ffff)
		return 0;
	return len;
}

/*
 * The one classifier both escapers share.  At s is either a character
 * to copy as it is, a control character (C0 U+0000-U+001F, DEL U+007F or
 * C1 U+0080-U+009F: a terminal acts on each of them, and on the lone byte
 * 0x9b as an 8-bit CSI), or a byte that is not part of valid UTF-8.
 * Returns the sequence's length (1..4); *cp is the code point, or the
 * byte when *bad.
 */
static size_t classify(const unsigned char *s, unsigned *cp, int *control,
		       int *bad)
{
	size_t len = utf8_len(s, cp);

	*bad = !len;
	if (*bad) {
		*cp = s[0];
		len = 1;
	}
	*control = !*bad && (*cp < 0x20 || (*cp >= 0x7f && *cp <= 0x9f));
	return len;
}

size_t salvo_logsink_quote(char *buf, size_t n, const char *str)
{
	const unsigned char *u = (const unsigned char *)(str ? str : "");
	size_t o = 0;

	buf[o++] = '"';
	while (*u) {
		char esc[8];
		const char *piece = esc;
		unsigned cp;
		int control, bad;
		size_t len = classify(u, &cp, &control, &bad), plen;

		if (*u == '"' || *u == '\\')
			snprintf(esc, sizeof(esc), "\\%c", *u);
		else if (*u == '\n')
			piece = "\\n";
		else if (*u == '\t')
			piece = "\\t";
		else if (*u == '\r')
			piece = "\\r";
		else if (control)
			snprintf(esc, sizeof(esc), "\\u%04x", cp);
		else if (bad)
			piece = "\\ufffd";
		else
			piece = NULL;
		plen = piece ? strlen(piece) : len;
		if (o + plen + 2 > n)
			break; /* room for the closing quote and NUL */
		memcpy(buf + o, piece ? piece : (const char *)u, plen);
		o += plen;
		u += len;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return o;
}

size_t salvo_logsink_text(char *buf, size_t n, const char *str)
{
	const unsigned char *u = (const unsigned char *)(str ? str : "");
	size_t o = 0;

	while (*u) {
		char esc[12];
		const char *piece = esc;
		unsigned cp;
		int control, bad;
		size_t len = classify(u, &cp, &control, &bad), plen;

		if (*u == '\\')
			piece = "\\\\";
		else if (bad || (control && len == 1))
			snprintf(esc, sizeof(esc), "\\x%02x", *u);
		else if (control) /* C1 as UTF-8: both of its bytes */
			snprintf(esc, sizeof(esc), "\\x%02x\\x%02x", u[0],
				 u[1]);
		else
			piece = NULL;
		plen = piece ? strlen(piece) : len;
		if (o + plen + 1 > n)
			break; /* room for the NUL */
		memcpy(buf + o, piece ? piece : (const char *)u, plen);
		o += plen;
		u += len;
	}
	buf[o] = '\0';
	return o;
}

void salvo_logsink_printf(FILE *out, const char *fmt, ...)
{
	char raw[SALVO_LOGSINK_LINE_MAX], safe[SALVO_LOGSINK_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	salvo_logsink_text(safe, sizeof(safe), raw);
	fprintf(out, "%s\n", safe);
	fflush(out);
}

/* Appends printf output to line[*len..n), never past n - 1. */
static void put(char *line, size_t *len, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *line, size_t *len, size_t n, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*len >= n - 1)
		return;
	va_start(ap, fmt);
	w = vsnprintf(line + *len, n - *len, fmt, ap);
	va_end(ap);
	if (w > 0)
		*len = *len + (size_t)w < n - 1 ? *len + (size_t)w : n - 1;
}

/* A string member: "key": "value" or "key": null; the value takes at
 * most cap bytes, so the members after it keep their room. */
static void put_str(char *line, size_t *len, size_t n, const char *key,
		    const char *v, size_t cap)
{
	put(line, len, n, ", \"%s\": ", key);
	if (!v)
		put(line, len, n, "null");
	else if (*len + 3 < n)
		*len += salvo_logsink_quote(line + *len,
					    n - *len < cap ? n - *len : cap, v);
}

static void put_num(char *line, size_t *len, size_t n, const char *key,
		    unsigned long long v)
{
	if (v)
		put(line, len, n, ", \"%s\": %llu", key, v);
	else
		put(line, len, n, ", \"%s\": null", key);
}

/* "2024-05-01T12:00:00.123", in UTC or local time. */
static char *stamp(char *buf, size_t n, const struct timespec *ts, int utc)
{
	struct tm tm;
	size_t len;

	if (utc)
		gmtime_r(&ts->tv_sec, &tm);
	else
		localtime_r(&ts->tv_sec, &tm);
	len = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + len, n - len, ".%03ld", ts->tv_nsec / 1000000);
	return buf;
}

static size_t format_json(char *line, size_t n, const salvo_log_event *ev,
			  const struct timespec *ts)
{
	char when[40];
	size_t len = 0;

	put(line, &len, n, "{\"time\": \"%sZ\", \"level\": \"%s\"",
	    stamp(when, sizeof(when), ts, 1),
	    salvo_logsink_level_name(ev->level));
	put_str(line, &len, n, "event", ev->event, 128);
	put_num(line, &len, n, "session", ev->session);
	put_str(line, &len, n, "peer", ev->peer, 128);
	put_str(line, &len, n, "file", ev->file, n / 3);
	put_num(line, &len, n, "bytes", ev->bytes);
	if (ev->elapsed_ns)
		put(line, &len, n, ", \"seconds\": %.6f",
		    (double)ev->elapsed_ns / 1e9);
	else
		put(line, &len, n, ", \"seconds\": null");
	put_num(line, &len, n, "rate", ev->rate_bps);
	/* the message last: it is what gets cut when a line is too long;
	 * the brace and the newline always fit (n - 3 above) */
	put(line, &len, n, ", \"message\": ");
	len += salvo_logsink_quote(line + len, n - len, ev->message);
	line[len++] = '}';
	line[len++] = '\n';
	line[len] = '\0';
	return len;
}

/* Text never carries a raw control byte: a file name with a newline must
 * not forge a second log line, nor one with 0x9b or ESC drive the
 * terminal that shows the log. */
static void put_text(char *line, size_t *len, size_t n, const char *s)
{
	if (*len < n)
		*len += salvo_logsink_text(line + *len, n - *len, s);
}

static size_t format_text(char *line, size_t n, const salvo_log_event *ev,
			  const struct timespec *ts)
{
	char when[40];
	size_t len = 0;

	put(line, &len, n, "%s %s ", stamp(when, sizeof(when), ts, 0),
	    salvo_logsink_level_name(ev->level));
	if (ev->event && *ev->event) {
		put_text(line, &len, n - 2, ev->event);
		put(line, &len, n - 1, ": ");
	}
	put_text(line, &len, n - 1, ev->message ? ev->message : "");
	line[len++] = '\n';
	line[len] = '\0';
	return len;
}

void salvo_logsink_event(void *ud, const salvo_log_event *ev)
{
	struct salvo_logsink *s = ud;
	char line[SALVO_LOGSINK_LINE_MAX];
	struct timespec ts;
	size_t len;

	if (!salvo_logsink_wants(s, ev->level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	len = s->json ? format_json(line, sizeof(line) - 3, ev, &ts)
		      : format_text(line, sizeof(line), ev, &ts);
	pthread_mutex_lock(&s->mu);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(s->fd, line + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* a log that cannot be written is dropped */
		off += (size_t)w;
	}
	pthread_mutex_unlock(&s->mu);
}
