/*
 * The control socket's server (see ctl.h).  A stream socket, not a
 * datagram one, so that a client needs no address of its own to get its
 * answer and `socat - UNIX-CONNECT:PATH` works as well as `salvo ctl`.
 * One thread: poll() on the listening socket and a pipe that
 * salvo_ctl_close writes to; each client is served to its end, a line at
 * a time, before the next is accepted (commands are rare and instant: a
 * queue would buy nothing).  A command only sets numbers in a
 * salvo_send_live; the sessions' control threads pick them up within
 * their 50 ms poll, so the server never touches a running session.
 *
 * The path: a socket nobody answers on is what a killed salvo leaves, and
 * is replaced; a socket that answers belongs to a live process, and a
 * file of any other kind is the user's: both are refused.  At close the
 * socket is removed only if the path still names the one we made.
 */
#include "sender/engine/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/core/error.h"
#include "conf/units.h"

#define CLIENT_TIMEOUT_S 2

struct salvo_ctl {
	char *path;
	int fd;
	int wake[2]; /* salvo_ctl_close writes to [1] */
	dev_t dev;
	ino_t ino;
	salvo_send_live *whole;
	salvo_ctl_profile *profiles;
	size_t n;
	pthread_t th;
};

/* Appends s as a JSON string (quoted, escaped) at out[*at]. */
static void json_string(char *out, size_t len, size_t *at, const char *s)
{
	if (*at + 1 >= len)
		return;
	out[(*at)++] = '"';
	for (; *s && *at + 8 < len; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			*at +=
			    (size_t)snprintf(out + *at, len - *at, "\\%c", ch);
		else if (ch < 0x20)
			*at += (size_t)snprintf(out + *at, len - *at, "\\u%04x",
						ch);
		else
			out[(*at)++] = (char)ch;
	}
	out[(*at)++] = '"';
	out[*at] = 0;
}

static void answer_error(char *out, size_t len, const char *msg)
{
	size_t at = (size_t)snprintf(out, len, "{\"ok\":false,\"error\":");
	if (at >= len)
		return;
	json_string(out, len, &at, msg);
	snprintf(out + at, len - at, "}");
}

/* "50mbit", "none" or "default" for a limit set on an object. */
static const char *limit_text(const salvo_live_limit *l, char *buf, size_t n)
{
	if (!l->set)
		return "default";
	if (!l->bps)
		return "none";
	return salvo_units_format_rate(l->bps, buf, n);
}

static void answer_status(salvo_send_live *l, const char *profile, char *out,
			  size_t len)
{
	salvo_live_status st;
	char c[32], f[32];
	salvo_send_live_read(l, &st);
	size_t at = (size_t)snprintf(out, len, "{\"ok\":true,\"profile\":");
	if (at >= len)
		return;
	if (profile)
		json_string(out, len, &at, profile);
	else
		at += (size_t)snprintf(out + at, len - at, "null");
	if (at >= len)
		return;
	snprintf(out + at, len - at,
		 ",\"sessions\":%u,\"policy\":\"%s\",\"state\":\"%s\","
		 "\"rate_bps\":%llu,\"rate_mbps\":%.3f,"
		 "\"delivery_bps\":%llu,\"delivery_mbps\":%.3f,"
		 "\"ceiling_bps\":%llu,\"min_rate_bps\":%llu,"
		 "\"ceiling\":\"%s\",\"min_rate\":\"%s\",\"srtt_ms\":%.3f,"
		 "\"bytes_done\":%llu,\"bytes_total\":%llu}",
		 st.sessions, st.policy, st.state,
		 (unsigned long long)st.rate_bps, (double)st.rate_bps / 1e6,
		 (unsigned long long)st.delivery_bps,
		 (double)st.delivery_bps / 1e6,
		 (unsigned long long)st.eff_ceiling_bps,
		 (unsigned long long)st.eff_floor_bps,
		 limit_text(&st.ceiling, c, sizeof(c)),
		 limit_text(&st.floor, f, sizeof(f)), (double)st.srtt_ns / 1e6,
		 (unsigned long long)st.acked_bytes,
		 (unsigned long long)st.total_bytes);
}

/* What the fixed policy cannot take: it has a rate and no floor. */
static const char *fixed_refuses(const salvo_ctl_cmd *cmd, salvo_send_live *l)
{
	salvo_live_status st;
	salvo_send_live_read(l, &st);
	if (strcmp(st.policy, "fixed"))
		return NULL;
	if (cmd->kind == SALVO_CTL_RATE && cmd->value == SALVO_CTL_VALUE_NONE)
		return "rate none: the fixed policy paces at its rate; give "
		       "one (e.g. rate 100mbit)";
	if (cmd->kind == SALVO_CTL_MIN_RATE &&
	    cmd->value != SALVO_CTL_VALUE_DEFAULT)
		return "min-rate: the fixed policy has no floor (fair, high "
		       "and low have)";
	return NULL;
}

void salvo_ctl_execute(const salvo_ctl_cmd *cmd, salvo_send_live *whole,
		       const salvo_ctl_profile *profiles, size_t n, char *out,
		       size_t len)
{
	salvo_send_live *l = whole;
	const char *profile = NULL;
	char msg[300], b[32];
	if (cmd->target[0]) {
		l = NULL;
		for (size_t i = 0; i < n && !l; i++)
			if (!strcmp(profiles[i].name, cmd->target)) {
				l = profiles[i].live;
				profile = profiles[i].name;
			}
		if (!l) {
			snprintf(msg, sizeof(msg),
				 n ? "no profile named '%s' here"
				   : "'%s': this transfer has no profiles "
				     "(a profile is salvo watch's)",
				 cmd->target);
			answer_error(out, len, msg);
			return;
		}
	}
	const char *no = fixed_refuses(cmd, l);
	if (no) {
		answer_error(out, len, no);
		return;
	}
	int set = cmd->value != SALVO_CTL_VALUE_DEFAULT;
	uint64_t bps = cmd->value == SALVO_CTL_VALUE_RATE ? cmd->bps : 0;
	salvo_live_limit lim = {set, bps};
	switch (cmd->kind) {
	case SALVO_CTL_HELP: {
		size_t at =
		    (size_t)snprintf(out, len, "{\"ok\":true,\"help\":");
		if (at < len) {
			json_string(out, len, &at, salvo_ctl_usage());
			snprintf(out + at, len - at, "}");
		}
		return;
	}
	case SALVO_CTL_STATUS:
		answer_status(l, profile, out, len);
		return;
	case SALVO_CTL_RATE:
		salvo_send_live_set_ceiling(l, set, bps);
		snprintf(out, len,
			 "{\"ok\":true,\"ceiling\":\"%s\","
			 "\"ceiling_bps\":%llu}",
			 limit_text(&lim, b, sizeof(b)),
			 (unsigned long long)bps);
		return;
	case SALVO_CTL_MIN_RATE:
		salvo_send_live_set_floor(l, set, bps);
		snprintf(out, len,
			 "{\"ok\":true,\"min_rate\":\"%s\","
			 "\"min_rate_bps\":%llu}",
			 limit_text(&lim, b, sizeof(b)),
			 (unsigned long long)bps);
		return;
	}
	answer_error(out, len, "unknown command");
}

/* Reads lines from one client and answers each, until it closes, goes
 * quiet for CLIENT_TIMEOUT_S or sends a line too long. */
static void serve_client(salvo_ctl *c, int fd)
{
	char in[SALVO_CTL_LINE_MAX + 2], out[1024], err[600];
	size_t have = 0;
	struct timeval tv = {CLIENT_TIMEOUT_S, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (;;) {
		char *nl = memchr(in, '\n', have);
		if (!nl && have == sizeof(in) - 1) {
			answer_error(out, sizeof(out), "command line too long");
			strcat(out, "\n");
			(void)!send(fd, out, strlen(out), MSG_NOSIGNAL);
			return;
		}
		if (!nl) {
			ssize_t k =
			    recv(fd, in + have, sizeof(in) - 1 - have, 0);
			if (k <= 0) {
				if (k < 0 || !have)
					return;
				nl = in + have; /* a last line, no newline */
				have++;
			} else {
				have += (size_t)k;
				continue;
			}
		}
		*nl = 0;
		salvo_ctl_cmd cmd;
		if (salvo_ctl_parse(in, &cmd, err, sizeof(err)))
			answer_error(out, sizeof(out), err);
		else
			salvo_ctl_execute(&cmd, c->whole, c->profiles, c->n,
					  out, sizeof(out) - 1);
		strcat(out, "\n");
		if (send(fd, out, strlen(out), MSG_NOSIGNAL) < 0)
			return;
		size_t used = (size_t)(nl - in) + 1;
		memmove(in, in + used, have - used);
		have -= used;
	}
}

static void *serve(void *arg)
{
	salvo_ctl *c = arg;
	struct pollfd p[2] = {{c->fd, POLLIN, 0}, {c->wake[0], POLLIN, 0}};
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		int fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_client(c, fd);
		close(fd);
	}
	return NULL;
}

/* Clears the way for a new socket at path, or says why not. */
static int claim_path(const char *path, const struct sockaddr_un *sa, char *err,
		      size_t errlen)
{
	struct stat sb;
	if (lstat(path, &sb)) {
		if (errno == ENOENT)
			return 0;
		int e = errno;
		snprintf(err, errlen, "--control %s: %s", path, strerror(e));
		return -e;
	}
	if (!S_ISSOCK(sb.st_mode)) {
		snprintf(err, errlen,
			 "--control %s: exists and is not a socket; refusing "
			 "to replace it (name a new path)",
			 path);
		return -EEXIST;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "--control: socket: %s", strerror(e));
		return -e;
	}
	int rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	int e = errno;
	close(fd);
	if (!rc) {
		snprintf(err, errlen,
			 "--control %s: another process serves this socket",
			 path);
		return SALVO_ERR_BUSY;
	}
	if (e != ECONNREFUSED) {
		snprintf(err, errlen, "--control %s: %s", path, strerror(e));
		return -e;
	}
	if (unlink(path) && errno != ENOENT) { /* stale: its owner died */
		e = errno;
		snprintf(err, errlen, "--control %s: stale socket: %s", path,
			 strerror(e));
		return -e;
	}
	return 0;
}

/* Binds and listens at path; c->fd, c->dev and c->ino set. */
static int make_socket(salvo_ctl *c, const struct sockaddr_un *sa, char *err,
		       size_t errlen)
{
	struct stat sb;
	const char *what = "socket";
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	what = "bind";
	if (bind(c->fd, (const struct sockaddr *)sa, sizeof(*sa)))
		goto fail;
	what = "chmod";
	if (chmod(c->path, 0600) || lstat(c->path, &sb))
		goto fail_bound;
	c->dev = sb.st_dev;
	c->ino = sb.st_ino;
	what = "listen";
	if (listen(c->fd, 8))
		goto fail_bound;
	return 0;
fail_bound:;
	int e = errno;
	unlink(c->path);
	errno = e;
fail:
	e = errno;
	snprintf(err, errlen, "--control %s: %s: %s", c->path, what,
		 strerror(e));
	return -e;
}

int salvo_ctl_open(salvo_ctl **out, const char *path, salvo_send_live *whole,
		   const salvo_ctl_profile *profiles, size_t n, char *err,
		   size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int rc;
	*out = NULL;
	if (!*path || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen,
			 "--control %s: a socket path must be 1..%zu bytes",
			 path, sizeof(sa.sun_path) - 1);
		return SALVO_ERR_INVAL;
	}
	memcpy(sa.sun_path, path, strlen(path));
	salvo_ctl *c = calloc(1, sizeof(*c));
	if (!c)
		return SALVO_ERR_NOMEM;
	c->fd = c->wake[0] = c->wake[1] = -1;
	c->whole = whole;
	c->n = n;
	rc = SALVO_ERR_NOMEM;
	if (!(c->path = strdup(path)) ||
	    (n && !(c->profiles = calloc(n, sizeof(*profiles)))))
		goto fail_alloc;
	if (n)
		memcpy(c->profiles, profiles, n * sizeof(*profiles));
	if ((rc = claim_path(path, &sa, err, errlen)))
		goto fail_alloc;
	if ((rc = make_socket(c, &sa, err, errlen)))
		goto fail_socket;
	if (pipe2(c->wake, O_CLOEXEC)) {
		rc = -errno;
		snprintf(err, errlen, "--control: pipe: %s", strerror(-rc));
		goto fail_bound;
	}
	if ((rc = -pthread_create(&c->th, NULL, serve, c))) {
		snprintf(err, errlen, "--control: cannot start a thread: %s",
			 strerror(-rc));
		goto fail_pipe;
	}
	*out = c;
	return 0;
fail_pipe:
	close(c->wake[0]);
	close(c->wake[1]);
fail_bound:
	unlink(c->path);
fail_socket:
	if (c->fd >= 0)
		close(c->fd);
fail_alloc:
	free(c->profiles);
	free(c->path);
	free(c);
	return rc;
}

void salvo_ctl_close(salvo_ctl *c)
{
	struct stat sb;
	if (!c)
		return;
	(void)!write(c->wake[1], "x", 1);
	pthread_join(c->th, NULL);
	close(c->wake[0]);
	close(c->wake[1]);
	close(c->fd);
	if (!lstat(c->path, &sb) && sb.st_dev == c->dev && sb.st_ino == c->ino)
		unlink(c->path);
	free(c->profiles);
	free(c->path);
	free(c);
}
