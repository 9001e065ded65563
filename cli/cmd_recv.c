/*
 * salvo recv --dir DIR [options]: the receiver as a foreground daemon.
 *
 * Settings come from the configuration layers with this command's flags on
 * top (receiver.root, network.port, network.bind, ...), like salvo send;
 * salvo_conf_recv_opts (conf/engine_opts.h) builds the engine's options.
 * Once the engine has bound its sockets it calls back and this prints
 * "listening on ADDR:PORT, writing below DIR" on stderr; scripts wait for
 * that line.  The engine's log events (a file received, a session failed)
 * go to the sink that logging.* describes (stderr text by default).
 * Before that it loads its identity (conf/identity.c): its key, made on
 * the first start, and the senders of its authorised-keys file; it says
 * which key and how many senders it serves, and warns when no sender can
 * connect or when anonymous senders are allowed.  A key or authorised-keys
 * file it cannot use stops it (exit 2) with the file and the fix.
 * SIGINT/SIGTERM set the stop flag; the engine finishes cleanly and the
 * command exits 0.  With --once it returns after the first session, with
 * that session's result as the exit code.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/identity.h"
#include "cli/progress.h"
#include "common/core/error.h"
#include "common/io/logsink.h"
#include "common/io/sys.h"
#include "conf/config.h"
#include "conf/engine_opts.h"
#include "conf/plan_out.h"
#include "receiver/engine/recv.h"

/* log_ud of the engine: its ready callback gets it too */
struct recv_ctx {
	const struct salvo_config *cfg;
	struct salvo_logsink *sink;
	int quiet;
};

static void usage(FILE *out)
{
	fputs(
	    "usage: salvo recv --dir DIR [options]\n"
	    "\n"
	    "Receives files from salvo senders into DIR (never outside it) "
	    "until SIGINT or\n"
	    "SIGTERM, or with --once until the first session ends.\n"
	    "\n"
	    "options (each also settable in salvo.yaml; docs/CONFIG.md):\n"
	    "  --dir, -d DIR         root folder; files land only below it "
	    "(receiver.root)\n"
	    "  --config FILE         read settings from FILE too\n"
	    "  --port, -p N          UDP port (default 7400)\n"
	    "  --bind ADDR           local address (default 0.0.0.0; IPv6 "
	    "literals too)\n"
	    "  --sockets, --recv-sockets N  sockets sharing the port, one "
	    "thread each (2)\n"
	    "  --rcvbuf SIZE         SO_RCVBUF per socket (auto)\n"
	    "  --batch N             datagrams per recvmmsg call (32)\n"
	    "  --offload auto|off    UDP GRO: datagram trains per call (auto)\n"
	    "  --max-sessions N      concurrent sessions (64)\n"
	    "  --max-file-size SIZE  largest file accepted (unlimited)\n"
	    "  --memory-budget SIZE  bookkeeping of all sessions; refuses a "
	    "manifest needing more (256MiB)\n"
	    "  --overwrite never|replace|rename  when the target exists "
	    "(never)\n"
	    "  --idle-timeout TIME   drop a silent sender's session after "
	    "TIME (1min)\n"
	    "  --partial-max-age TIME  remove resumable part-files older "
	    "than TIME at start (168h)\n"
	    "  --verify normal|paranoid  paranoid: also read each block and "
	    "file back from disk (normal)\n"
	    "  --compress auto|lz4|off  off: refuse LZ4 from senders (auto)\n"
	    "  --bandwidth RATE --rtt TIME  link hints: size --rcvbuf from "
	    "the plan\n"
	    "  --key FILE            this receiver's private key, made on the "
	    "first start\n"
	    "                        (~/.config/salvo/key; root: "
	    "/etc/salvo/key)\n"
	    "  --authorized-keys FILE  the senders served, with the folder "
	    "each may write\n"
	    "                        to (authorized_keys next to the key)\n"
	    "  --allow-anonymous     also serve senders not in it (labs "
	    "only; a warning)\n"
	    "  --log-level L         error, warn, info, debug, trace (info)\n"
	    "  --log-file F          append the log to F instead of stderr\n"
	    "  --log-format F        text or json: one object per line "
	    "(text)\n"
	    "  --once                exit after the first session, with "
	    "its result\n"
	    "  --json                at exit, print one JSON object with "
	    "the counters\n"
	    "  --quiet, -q           print only errors\n"
	    "  --help, -h            this text\n"
	    "\n"
	    "exit codes: 0 stopped cleanly (or, with --once, the session "
	    "succeeded);\n"
	    "  1 other failure (e.g. the port is taken); 2 bad usage; with "
	    "--once:\n"
	    "  4 verification failed, 5 I/O error writing a file, 7 the "
	    "sender went silent;\n"
	    "  6 DIR cannot be used.\n"
	    "\n"
	    "example: salvo recv --dir /srv/incoming --port 7400\n",
	    out);
}

static void on_log(void *ud, const salvo_log_event *ev)
{
	const struct recv_ctx *c = ud;

	salvo_logsink_event(c->sink, ev);
}

/* A line of this command's own, for the person and the log. */
static void say(const struct recv_ctx *c, enum salvo_log_level level,
		const char *event, const char *msg)
{
	salvo_log_event ev = {level, event, 0, NULL, NULL, 0, 0, 0, msg};

	/* msg may carry a sender's file name: escaped for the terminal */
	if (!c->quiet || level == SALVO_LOG_ERROR)
		salvo_logsink_printf(stderr, "%s%s",
				     level == SALVO_LOG_ERROR  ? "salvo recv: "
				     : level == SALVO_LOG_WARN ? "salvo recv: "
								 "warning: "
				     : strcmp(event, "listening")
					 ? "salvo recv: "
					 : "",
				     msg);
	salvo_progress_log(c->sink, &ev);
}

/* conf/'s notices (the key, the authorised senders): a person's lines. */
static void on_notice(void *ud, const salvo_log_event *ev)
{
	say(ud, ev->level, ev->event, ev->message);
}

static void on_ready(void *ud, uint16_t port)
{
	const struct recv_ctx *c = ud;
	const char *bind = c->cfg->network.bind_addr;
	char msg[4400];

	snprintf(msg, sizeof(msg),
		 strchr(bind, ':') ? "listening on [%s]:%u, writing below %s"
				   : "listening on %s:%u, writing below %s",
		 bind, (unsigned)port, c->cfg->receiver.root_dir);
	say(c, SALVO_LOG_INFO, "listening", msg);
}

/* A session's or the receiver's result as an exit code. */
static int exit_code(int rc)
{
	switch (rc) {
	case 0:
		return SALVO_EXIT_OK;
	case SALVO_ERR_INVAL:
		return SALVO_EXIT_USAGE;
	case SALVO_ERR_VERIFY:
		return SALVO_EXIT_VERIFY;
	case SALVO_ERR_IO:
		return SALVO_EXIT_REMOTE_IO;
	case SALVO_ERR_TIMEOUT:
		return SALVO_EXIT_TIMEOUT;
	case SALVO_ERR_ABORTED:
		return SALVO_EXIT_FAILURE;
	case -EADDRINUSE:
	case -EADDRNOTAVAIL:
		return SALVO_EXIT_FAILURE;
	default:
		return rc < 0 && rc > -4096 ? SALVO_EXIT_LOCAL_IO
					    : SALVO_EXIT_FAILURE;
	}
}

static void write_json(FILE *out, const salvo_recv_report *r, int rc,
		       const salvo_recv_opts *o, const struct salvo_config *cfg)
{
	fprintf(out, "{\"result\": \"%s\", \"error_code\": %d, \"message\": ",
		rc ? "error" : "ok", rc);
	salvo_progress_json_string(out, rc ? r->message : "");
	fputs(", \"dir\": ", out);
	salvo_progress_json_string(out, o->dir);
	fprintf(
	    out,
	    ", \"port\": %u, \"sessions_ok\": %llu, \"sessions_failed\": "
	    "%llu, \"files\": %llu, \"bytes\": %llu, \"malformed\": %llu, "
	    "\"files_skipped\": %llu, \"files_refused\": %llu, "
	    "\"files_abandoned\": %llu, "
	    "\"unknown\": %llu, \"duplicates\": %llu, \"lz4_pieces\": %llu, "
	    "\"lz4_bad\": %llu, \"peak_rss_bytes\": "
	    "%llu, \"last_session_result\": %d,\n",
	    (unsigned)o->port, (unsigned long long)r->sessions_ok,
	    (unsigned long long)r->sessions_failed,
	    (unsigned long long)r->files, (unsigned long long)r->bytes,
	    (unsigned long long)r->malformed,
	    (unsigned long long)r->files_skipped,
	    (unsigned long long)r->files_refused,
	    (unsigned long long)r->files_abandoned,
	    (unsigned long long)r->unknown, (unsigned long long)r->duplicates,
	    (unsigned long long)r->lz4_pieces, (unsigned long long)r->lz4_bad,
	    (unsigned long long)r->peak_rss_bytes, r->last_session_result);
	fprintf(out,
		" \"engine\": {\"sockets\": %u, \"batch\": %u, "
		"\"rcvbuf_bytes\": %llu, \"max_sessions\": %u, "
		"\"idle_timeout_ns\": %llu, \"max_file_bytes\": %llu, "
		"\"overwrite\": %d, \"offload\": \"%s\", "
		"\"verify\": \"%s\"",
		o->sockets, o->batch, (unsigned long long)o->rcvbuf_bytes,
		o->max_sessions, (unsigned long long)o->idle_timeout_ns,
		(unsigned long long)o->max_file_bytes, o->overwrite,
		o->offload ? "auto" : "off",
		o->verify_paranoid ? "paranoid" : "normal");
	fputs(", ", out);
	salvo_cli_recv_identity_json(out, cfg, o);
	fputs("},\n \"config\": ", out);
	if (salvo_progress_json_config(out, cfg))
		fputs("null", out);
	fputs("}\n", out);
	fflush(out);
}

static int run(struct salvo_config *cfg, int once, int quiet, int json,
	       struct salvo_logsink *sink)
{
	struct recv_ctx ctx = {cfg, sink, quiet};
	char msg[4600];
	salvo_authkeys ak;
	salvo_recv_opts o;
	salvo_recv_report rep, *r = &rep;
	volatile sig_atomic_t *stop;
	int rc;

	memset(r, 0, sizeof(*r));
	stop = salvo_progress_catch_signals();
	if (!stop) {
		fprintf(stderr, "salvo recv: cannot catch signals: %s\n",
			strerror(errno));
		return SALVO_EXIT_FAILURE;
	}
	salvo_conf_recv_opts(cfg, &o, msg, sizeof(msg));
	salvo_authkeys_init(&ak);
	cfg->log = on_notice;
	cfg->log_ud = &ctx;
	if (salvo_conf_recv_identity(cfg, &o, &ak, msg, sizeof(msg))) {
		say(&ctx, SALVO_LOG_ERROR, "identity", msg);
		salvo_authkeys_free(&ak);
		return SALVO_EXIT_USAGE;
	}
	o.once = once;
	o.log = on_log;
	o.log_ud = &ctx;
	o.ready = on_ready;
	o.stop = stop;

	char note[512];
	if (!quiet && !salvo_socket_buffers_uncapped() &&
	    salvo_plan_sockbuf_note(NULL, 0, o.rcvbuf_bytes, note,
				    sizeof(note)))
		fprintf(stderr, "salvo recv: %s", note);

	rc = salvo_recv_run(&o, r);
	if (*stop && (rc == 0 || rc == SALVO_ERR_ABORTED)) {
		rc = 0; /* asked to stop, and stopped cleanly */
		snprintf(msg, sizeof(msg), "stopped (%s)",
			 *stop == SIGTERM ? "SIGTERM" : "SIGINT");
		say(&ctx, SALVO_LOG_INFO, "stopped", msg);
	} else if (rc) {
		snprintf(msg, sizeof(msg), "%s%s",
			 once && rc == r->last_session_result
			     ? "the session failed: "
			     : "",
			 r->message[0] ? r->message : salvo_strerror(rc));
		say(&ctx, SALVO_LOG_ERROR, "recv_failed", msg);
	}
	if (json)
		write_json(stdout, r, rc, &o, cfg);
	salvo_authkeys_free(&ak);
	return exit_code(rc);
}

int salvo_cmd_recv(int argc, char **argv)
{
	struct salvo_conf_diag diag;
	struct salvo_config *cfg;
	struct salvo_logsink *sink;
	char **rest, err[700];
	int nrest, once = 0, quiet = 0, json = 0, rc = SALVO_EXIT_USAGE;

	salvo_conf_diag_init(&diag);
	cfg = salvo_conf_new_from_args(&salvo_conf_cmd_recv, argc, argv, &rest,
				       &nrest, &diag);
	if (!cfg) {
		fprintf(stderr, "salvo recv: out of memory\n");
		return SALVO_EXIT_FAILURE;
	}
	for (int i = 0; i < nrest; i++) {
		if (!strcmp(rest[i], "--help") || !strcmp(rest[i], "-h")) {
			usage(stdout);
			rc = SALVO_EXIT_OK;
			goto fail_args;
		} else if (!strcmp(rest[i], "--once")) {
			once = 1;
		} else if (!strcmp(rest[i], "--quiet") ||
			   !strcmp(rest[i], "-q")) {
			quiet = 1;
		} else if (!strcmp(rest[i], "--json")) {
			json = 1;
		} else {
			fprintf(stderr,
				"salvo recv: %s '%s' (salvo recv --help lists "
				"the options)\n",
				rest[i][0] == '-' ? "unknown option"
						  : "unexpected argument",
				rest[i]);
			goto fail_args;
		}
	}
	salvo_conf_finish(cfg, &diag);
	if (diag.count) {
		salvo_progress_print_diag(stderr, "salvo recv: ", &diag);
		goto fail_args;
	}
	if (salvo_conf_origin_of(cfg, SALVO_CONF_RECEIVER_ROOT)->source ==
	    SALVO_CONF_FROM_DEFAULT) {
		fprintf(stderr, "salvo recv: needs --dir DIR (or receiver.root "
				"in a config file): the folder to write "
				"into\n");
		goto fail_args;
	}
	if (!(sink = salvo_conf_logsink_new(cfg, err, sizeof(err)))) {
		salvo_logsink_printf(stderr, "salvo recv: %s", err);
		goto fail_args;
	}
	if (quiet)
		salvo_logsink_quiet(sink, SALVO_LOG_ERROR);
	rc = run(cfg, once, quiet, json, sink);
	salvo_logsink_del(sink);
fail_args:
	salvo_conf_del(cfg);
	free(rest);
	return rc;
}
