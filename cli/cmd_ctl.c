/*
 * salvo ctl PATH COMMAND...
 *
 * The client of the control socket that `salvo send --control PATH` and
 * `salvo watch --control PATH` serve (sender/engine/ctl.h): joins the
 * words into one command line, checks it with the server's own parser
 * first (so a bad rate is refused here, with the reason salvo.yaml would
 * give, before any connection), sends it, and prints the one JSON line
 * that answers.  Exit 0 when the answer says ok, 1 when the server
 * refused the command, 2 for bad usage, 3 when nothing serves PATH.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/commands.h"
#include "sender/engine/ctlcmd.h"

#define ANSWER_TIMEOUT_S 5

static void usage(FILE *out)
{
	fputs(
	    "usage: salvo ctl PATH COMMAND...\n"
	    "\n"
	    "Changes the rate of a running send or watch, or reads its "
	    "status, through the\n"
	    "control socket it was started with (--control PATH, or "
	    "transfer.control).\n"
	    "Prints the answer, one JSON line.\n"
	    "\n"
	    "commands:\n"
	    "  rate [PROFILE] RATE   the ceiling (fixed: the rate), e.g. "
	    "50mbit, 1gbit, 20MB/s\n"
	    "  rate [PROFILE] none   no ceiling\n"
	    "  rate [PROFILE] default  back to the configured one (a "
	    "profile: the watcher's)\n"
	    "  min-rate [PROFILE] RATE|none|default  the floor (fair, high, "
	    "low)\n"
	    "  status [PROFILE]      rate, delivery rate, ceiling, policy, "
	    "bytes done\n"
	    "  help                  the commands\n"
	    "PROFILE: a hot-folder profile of salvo watch; without it the "
	    "command acts on\nthe whole send or watcher.  Changes take effect "
	    "within 50 ms.\n"
	    "\n"
	    "exit codes: 0 ok, 1 the command was refused, 2 bad usage, 3 no "
	    "salvo serves PATH\n"
	    "\n"
	    "example: salvo send --control /tmp/s.ctl big.iso host & "
	    "salvo ctl /tmp/s.ctl rate 50mbit\n",
	    out);
}

/* Connects to path; -1 with the reason printed. */
static int connect_path(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "salvo ctl: %s: path too long for a socket\n",
			path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "salvo ctl: socket: %s\n", strerror(errno));
		return -1;
	}
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return fd;
	int e = errno;
	close(fd);
	if (e == ENOENT)
		fprintf(stderr,
			"salvo ctl: %s: no control socket there (is a salvo "
			"send or watch running with --control %s?)\n",
			path, path);
	else if (e == ECONNREFUSED)
		fprintf(stderr,
			"salvo ctl: %s: nothing serves this socket (the salvo "
			"that made it has ended)\n",
			path);
	else if (e == ENOTSOCK)
		fprintf(stderr, "salvo ctl: %s: not a control socket\n", path);
	else
		fprintf(stderr, "salvo ctl: %s: %s\n", path, strerror(e));
	return -1;
}

/* Sends line and prints the answer; the exit code. */
static int ask(int fd, const char *line)
{
	char in[2048];
	size_t have = 0;
	struct timeval tv = {ANSWER_TIMEOUT_S, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "salvo ctl: send: %s\n", strerror(errno));
		return SALVO_EXIT_FAILURE;
	}
	shutdown(fd, SHUT_WR);
	while (have < sizeof(in) - 1 && !memchr(in, '\n', have)) {
		ssize_t k = recv(fd, in + have, sizeof(in) - 1 - have, 0);
		if (k <= 0) {
			fprintf(stderr, "salvo ctl: no answer: %s\n",
				k ? strerror(errno) : "connection closed");
			return SALVO_EXIT_FAILURE;
		}
		have += (size_t)k;
	}
	in[have] = 0;
	char *nl = strchr(in, '\n');
	if (nl)
		nl[1] = 0;
	fputs(in, stdout);
	return strncmp(in, "{\"ok\":true", 10) ? SALVO_EXIT_FAILURE
					       : SALVO_EXIT_OK;
}

int salvo_cmd_ctl(int argc, char **argv)
{
	char line[SALVO_CTL_LINE_MAX + 2] = "", err[700];
	size_t at = 0;
	salvo_ctl_cmd cmd;
	if (argc >= 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return SALVO_EXIT_OK;
	}
	if (argc < 3) {
		usage(stderr);
		return SALVO_EXIT_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		int k = snprintf(line + at, sizeof(line) - at, "%s%s",
				 i > 2 ? " " : "", argv[i]);
		if (k < 0 || (size_t)k >= sizeof(line) - at - 1) {
			fprintf(stderr, "salvo ctl: command too long\n");
			return SALVO_EXIT_USAGE;
		}
		at += (size_t)k;
	}
	if (salvo_ctl_parse(line, &cmd, err, sizeof(err))) {
		fprintf(stderr, "salvo ctl: %s\n", err);
		return SALVO_EXIT_USAGE;
	}
	line[at++] = '\n';
	line[at] = 0;
	int fd = connect_path(argv[1]);
	if (fd < 0)
		return SALVO_EXIT_UNREACHABLE;
	int rc = ask(fd, line);
	close(fd);
	return rc;
}
