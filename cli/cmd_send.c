/*
 * salvo send [options] PATH... HOST[:PORT]
 *
 * Every tunable comes from the configuration layers (defaults, /etc,
 * ~/.config, --config FILE) with this command's flags on top, one table
 * line per flag; salvo_conf_finish sizes what was left to "auto".  The
 * finished config fills salvo_send_opts field by field, so a YAML value and
 * a flag reach the engine the same way, and --json reports both what was
 * configured and what the engine used.
 *
 * What the CLI checks itself, before the engine runs: the destination
 * (HOST, HOST:PORT, [IPv6]:PORT), that each PATH exists, and that --dest
 * is a relative folder with no ".." (the receiver enforces confinement
 * again; refusing here gives a clear message without a round trip).
 *
 * Results map to the exit codes of cli/commands.h; see exit_code().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/progress.h"
#include "common/core/error.h"
#include "common/core/path.h"
#include "common/io/sys.h"
#include "conf/config.h"
#include "conf/plan.h"
#include "conf/plan_out.h"
#include "conf/units.h"
#include "sender/engine/send.h"

static const struct salvo_conf_flag send_flags[] = {
    {"--port", "network.port"},
    {"-p", "network.port"},
    {"--mtu", "network.mtu"},
    {"--datagram", "network.datagram"},
    {"--sockets", "network.send_sockets"},
    {"--sndbuf", "network.sndbuf"},
    {"--batch", "network.batch"},
    {"--offload", "network.offload"},
    {"--block-size", "transfer.block_size"},
    {"--threads", "transfer.threads"},
    {"--rate", "transfer.rate"},
    {"-r", "transfer.rate"},
    {"--rate-policy", "transfer.rate_policy"},
    {"--min-rate", "transfer.min_rate"},
    {"--timeout", "transfer.timeout"},
    {"--memory", "memory.budget"},
    {"--fudge", "memory.fudge"},
    {"--bandwidth", "link.bandwidth"},
    {"--rtt", "link.rtt"},
    {"--loss", "link.loss"},
    {NULL, NULL},
};

struct send_args {
	const char **paths; /* into argv */
	int npaths;
	const char *target;	   /* HOST[:PORT] as given */
	const char *dest;	   /* --dest, NULL when none */
	int json, quiet, progress; /* progress: -1 auto, 0 off, 1 on */
	char host[256];
	unsigned port;	/* 0: from the config */
	char peer[300]; /* "HOST:PORT" or "[v6]:PORT", for messages */
};

static void usage(FILE *out)
{
	fputs("usage: salvo send [options] PATH... HOST[:PORT]\n"
	      "\n"
	      "Sends files and folders (recursively) to a salvo receiver. "
	      "Each PATH lands\n"
	      "below the receiver's folder under its last name component. "
	      "HOST is a name or\n"
	      "an address; an IPv6 address with a port is written "
	      "[ADDR]:PORT.  Port 7400\n"
	      "unless given here or by --port.\n"
	      "\n"
	      "options (each also settable in salvo.yaml; docs/CONFIG.md):\n"
	      "  --config FILE      read settings from FILE too\n"
	      "  --port, -p N       receiver port (default 7400)\n"
	      "  --dest SUBDIR      folder below the receiver's root to send "
	      "into\n"
	      "  --block-size SIZE  bytes one sender thread reads and sends "
	      "as a unit (4MiB)\n"
	      "  --threads N        block-sender threads (5); memory = "
	      "block size x threads\n"
	      "  --memory SIZE      memory budget; sizes block and threads "
	      "(auto)\n"
	      "  --sockets N        UDP sockets (4)\n"
	      "  --mtu BYTES        path MTU (1500); datagram = MTU - 28\n"
	      "  --datagram BYTES   UDP payload per datagram (auto)\n"
	      "  --rate RATE, -r    pacing rate (fixed) or ceiling (adaptive), "
	      "e.g. 500mbit (1gbit)\n"
	      "  --rate-policy P    fixed: pace at --rate; adaptive: find the "
	      "path's rate\n"
	      "                     below --rate from queueing delay (fixed)\n"
	      "  --min-rate RATE    adaptive: never pace below this (none)\n"
	      "  --batch N          datagrams per sendmmsg call (32)\n"
	      "  --offload auto|off UDP GSO where the path takes it (auto)\n"
	      "  --sndbuf SIZE      SO_SNDBUF per socket (auto)\n"
	      "  --timeout TIME     give up after the receiver is silent "
	      "this long (10s)\n"
	      "  --bandwidth RATE --rtt TIME [--loss PCT] [--fudge N]\n"
	      "                     link hints: size memory and the window "
	      "from the plan\n"
	      "  --progress         show the progress line even when stderr "
	      "is no terminal\n"
	      "  --no-progress      never show it\n"
	      "  --json             print one JSON object with the result "
	      "and the settings\n"
	      "  --quiet, -q        print only errors\n"
	      "  --help, -h         this text\n"
	      "\n"
	      "exit codes:\n"
	      "  0   every file sent and verified by the receiver\n"
	      "  1   other failure\n"
	      "  2   bad usage or configuration\n"
	      "  3   no answer from HOST:PORT within --timeout\n"
	      "  4   a file failed verification\n"
	      "  5   the receiver could not write (its message names the "
	      "file)\n"
	      "  6   a local file could not be read (named)\n"
	      "  7   the receiver went silent mid-transfer\n"
	      "  130 interrupted (SIGINT, SIGTERM)\n"
	      "\n"
	      "example: salvo send --rate 500mbit --dest incoming "
	      "data/ report.pdf host:7400\n",
	      out);
}

/* Splits "HOST", "HOST:PORT", "[V6]", "[V6]:PORT" or a bare IPv6 literal
 * (more than one ':', no port).  Returns 0 or writes a reason to err. */
static int parse_target(struct send_args *a, char *err, size_t errlen)
{
	const char *t = a->target, *host = t, *port = NULL, *colon;
	size_t hostlen;

	if (t[0] == '[') {
		const char *close = strchr(t, ']');

		if (!close || (close[1] && close[1] != ':')) {
			snprintf(err, errlen,
				 "'%s': expected [IPv6-ADDRESS] or "
				 "[IPv6-ADDRESS]:PORT",
				 t);
			return -1;
		}
		host = t + 1;
		hostlen = (size_t)(close - host);
		if (close[1] == ':')
			port = close + 2;
	} else {
		colon = strchr(t, ':');
		if (colon && !strchr(colon + 1, ':')) {
			hostlen = (size_t)(colon - t);
			port = colon + 1;
		} else {
			hostlen = strlen(t);
		}
	}
	if (!hostlen || hostlen >= sizeof(a->host)) {
		snprintf(err, errlen, "'%s': no host name or address", t);
		return -1;
	}
	memcpy(a->host, host, hostlen);
	a->host[hostlen] = '\0';
	if (port) {
		char *end;
		unsigned long p;

		errno = 0;
		p = strtoul(port, &end, 10);
		if (!*port || *end || errno || p < 1 || p > 65535 ||
		    *port == '-' || *port == '+') {
			snprintf(err, errlen,
				 "'%s': bad port '%s'; allowed: 1..65535", t,
				 port);
			return -1;
		}
		a->port = (unsigned)p;
	}
	return 0;
}

/* --dest must name a folder below the receiver's root. */
static int check_dest(const char *dest, char *err, size_t errlen)
{
	size_t len = strlen(dest);
	const char *why = NULL;

	while (len > 1 && dest[len - 1] == '/')
		len--;
	if (dest[0] == '/')
		why = "absolute path";
	else if (salvo_path_check(dest, len, &why))
		why = why ? why : "unsafe path";
	if (!why)
		return 0;
	snprintf(err, errlen,
		 "--dest '%s' refused: %s; allowed: a relative folder below "
		 "the receiver's root, without '.' or '..' components",
		 dest, why);
	return -1;
}

/* Sorts the arguments that are not configuration flags. */
static int parse_rest(struct send_args *a, char **rest, int nrest)
{
	int npos = 0, dashdash = 0;

	for (int i = 0; i < nrest; i++) {
		const char *s = rest[i];

		if (dashdash || s[0] != '-' || !s[1]) {
			a->paths[npos++] = s;
		} else if (!strcmp(s, "--")) {
			dashdash = 1;
		} else if (!strcmp(s, "--json")) {
			a->json = 1;
		} else if (!strcmp(s, "--quiet") || !strcmp(s, "-q")) {
			a->quiet = 1;
		} else if (!strcmp(s, "--progress")) {
			a->progress = 1;
		} else if (!strcmp(s, "--no-progress")) {
			a->progress = 0;
		} else if (!strcmp(s, "--dest") && i + 1 < nrest) {
			a->dest = rest[++i];
		} else if (!strncmp(s, "--dest=", 7)) {
			a->dest = s + 7;
		} else if (!strcmp(s, "--dest")) {
			fprintf(stderr, "salvo send: --dest needs a folder "
					"name\n");
			return -1;
		} else {
			fprintf(stderr,
				"salvo send: unknown option '%s' (salvo send "
				"--help lists them)\n",
				s);
			return -1;
		}
	}
	if (npos < 2) {
		fprintf(stderr, "salvo send: needs at least one PATH and the "
				"receiver HOST[:PORT]\n");
		usage(stderr);
		return -1;
	}
	a->target = a->paths[npos - 1];
	a->npaths = npos - 1;
	return 0;
}

static int is_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	}
	return 0;
}

/* The in-flight window from link hints (bandwidth × RTT / 8 × fudge), or
 * 0 to let the engine choose. */
static uint64_t window_from_hints(const struct salvo_config *cfg)
{
	uint64_t fudge = cfg->memory.fudge_milli;

	if (!cfg->link.bandwidth_bps || !cfg->link.rtt_ns)
		return 0;
	if (!fudge)
		fudge = salvo_plan_fudge_milli(cfg->link.loss_ppm);
	return salvo_plan_recommended_bytes(cfg->link.bandwidth_bps,
					    cfg->link.rtt_ns, fudge);
}

static void fill_opts(salvo_send_opts *o, const struct salvo_config *cfg,
		      const struct send_args *a)
{
	salvo_send_opts_default(o);
	o->host = a->host;
	o->port = (uint16_t)(a->port ? a->port : cfg->network.port);
	o->paths = a->paths;
	o->npaths = (size_t)a->npaths;
	o->dest = a->dest && *a->dest ? a->dest : NULL;
	o->block_bytes = (uint32_t)cfg->transfer.block_size_bytes;
	o->datagram_bytes = cfg->network.datagram_bytes;
	o->rate_bps = cfg->transfer.rate_bps;
	o->adaptive = cfg->transfer.rate_policy == SALVO_RATE_ADAPTIVE;
	o->min_rate_bps = cfg->transfer.min_rate_bps;
	o->window_bytes = window_from_hints(cfg);
	o->threads = cfg->transfer.threads;
	o->sockets = cfg->network.send_sockets;
	o->batch = cfg->network.batch;
	o->offload = cfg->network.offload == SALVO_OFFLOAD_AUTO;
	o->sndbuf_bytes = cfg->network.sndbuf_bytes;
	o->timeout_ns = cfg->transfer.timeout_ns;
}

static void on_progress(void *ud, const salvo_send_progress *p)
{
	salvo_progress_update(ud, p);
}

struct outcome {
	int exit_code;
	const char *result; /* word for --json */
	char message[1400];
};

static int contains(const char *hay, const char *needle)
{
	return *needle && strstr(hay, needle) != NULL;
}

static void outcome_of(const salvo_send_report *r, const salvo_send_opts *o,
		       const struct send_args *a, int stopped,
		       struct outcome *oc)
{
	char t[32];
	int rc = r->result;
	const char *msg = r->message[0] ? r->message : salvo_strerror(rc);

	snprintf(oc->message, sizeof(oc->message), "%s", msg);
	if (rc == 0) {
		oc->exit_code = SALVO_EXIT_OK;
		oc->result = "ok";
		oc->message[0] = '\0';
	} else if (rc == SALVO_ERR_ABORTED || stopped) {
		oc->exit_code = SALVO_EXIT_INTERRUPTED;
		oc->result = "interrupted";
		snprintf(oc->message, sizeof(oc->message), "interrupted");
	} else if (rc == SALVO_ERR_UNREACHABLE) {
		oc->exit_code = SALVO_EXIT_UNREACHABLE;
		oc->result = "unreachable";
		salvo_units_format_time(o->timeout_ns, t, sizeof(t));
		/* the message must name HOST:PORT whatever the engine said */
		if (!r->message[0])
			snprintf(oc->message, sizeof(oc->message),
				 "no answer from %s within %s", a->peer, t);
		else if (!contains(r->message, a->peer))
			snprintf(oc->message, sizeof(oc->message), "%s: %s",
				 a->peer, r->message);
	} else if (rc == SALVO_ERR_VERIFY ||
		   (rc == SALVO_ERR_PEER && r->peer_code == SALVO_ERR_VERIFY)) {
		oc->exit_code = SALVO_EXIT_VERIFY;
		oc->result = "verify";
	} else if (rc == SALVO_ERR_PEER) {
		oc->exit_code = SALVO_EXIT_REMOTE_IO;
		oc->result = "receiver_error";
		if (!contains(msg, "receiver"))
			snprintf(oc->message, sizeof(oc->message),
				 "receiver %s: %s", a->peer, msg);
	} else if (rc == SALVO_ERR_TIMEOUT) {
		oc->exit_code = SALVO_EXIT_TIMEOUT;
		oc->result = "timeout";
	} else if (rc == SALVO_ERR_INVAL) {
		oc->exit_code = SALVO_EXIT_USAGE;
		oc->result = "usage";
	} else if ((rc < 0 && rc > -4096) || rc == SALVO_ERR_IO ||
		   rc == SALVO_ERR_SOURCE_CHANGED) {
		oc->exit_code = SALVO_EXIT_LOCAL_IO;
		oc->result = "local_io";
	} else {
		oc->exit_code = SALVO_EXIT_FAILURE;
		oc->result = "failure";
	}
}

static void write_json(FILE *out, const salvo_send_report *r,
		       const struct outcome *oc, const struct send_args *a,
		       const struct salvo_config *cfg)
{
	fprintf(out,
		"{\"result\": \"%s\", \"exit_code\": %d, \"error_code\": %d, "
		"\"message\": ",
		oc->result, oc->exit_code, r->result);
	salvo_progress_json_string(out, oc->message);
	fputs(", \"host\": ", out);
	salvo_progress_json_string(out, a->host);
	fprintf(out,
		", \"port\": %u, \"files\": %u, \"dirs\": %u, \"bytes\": %llu, "
		"\"seconds\": %.6f, \"goodput_mbps\": %.3f, \"datagrams\": "
		"%llu, \"wire_bytes\": %llu, \"retx_bytes\": %llu, "
		"\"retx_pct\": %.4f, \"peak_rss_bytes\": %llu, \"srtt_ms\": "
		"%.3f, \"peer_code\": %d, \"peer_errno\": %d,\n",
		a->port ? a->port : cfg->network.port, r->files, r->dirs,
		(unsigned long long)r->bytes, (double)r->elapsed_ns / 1e9,
		salvo_progress_mbps(r->bytes, r->elapsed_ns),
		(unsigned long long)r->datagrams,
		(unsigned long long)r->wire_bytes,
		(unsigned long long)r->retx_bytes,
		salvo_progress_retx_pct(r->retx_bytes, r->bytes),
		(unsigned long long)r->peak_rss_bytes, (double)r->srtt_ns / 1e6,
		r->peer_code, r->peer_errno);
	fprintf(out,
		" \"engine\": {\"block_bytes\": %u, \"threads\": %u, "
		"\"sockets\": %u, \"datagram_bytes\": %u, \"batch\": %u, "
		"\"rate_bps\": %llu, \"rate_policy\": \"%s\", "
		"\"final_rate_bps\": %llu, \"window_bytes\": %llu, "
		"\"sndbuf_bytes\": %llu, \"gso_segments\": %u},\n "
		"\"config\": ",
		r->block_bytes, r->threads, r->sockets, r->datagram_bytes,
		r->batch, (unsigned long long)r->rate_bps,
		r->adaptive ? "adaptive" : "fixed",
		(unsigned long long)r->final_rate_bps,
		(unsigned long long)r->window_bytes,
		(unsigned long long)r->sndbuf_bytes, r->gso_segments);
	if (salvo_progress_json_config(out, cfg))
		fputs("null", out);
	fputs("}\n", out);
	fflush(out);
}

/* Runs the engine once the arguments are known good. */
static int run(const struct salvo_config *cfg, struct send_args *a)
{
	struct salvo_progress bar;
	salvo_send_opts o;
	salvo_send_report rep, *r = &rep;
	struct outcome oc;
	volatile sig_atomic_t *stop;
	int show;

	memset(r, 0, sizeof(*r));
	fill_opts(&o, cfg, a);
	snprintf(a->peer, sizeof(a->peer),
		 strchr(a->host, ':') ? "[%s]:%u" : "%s:%u", a->host,
		 (unsigned)o.port);
	show = a->quiet		  ? 0
	       : a->progress >= 0 ? a->progress
				  : isatty(STDERR_FILENO);
	salvo_progress_init(&bar, stderr, show, a->peer);
	o.progress = on_progress;
	o.progress_ud = &bar;
	o.progress_interval_ns = 250000000ull;
	stop = salvo_progress_catch_signals();
	if (!stop) {
		fprintf(stderr, "salvo send: cannot catch signals: %s\n",
			strerror(errno));
		return SALVO_EXIT_FAILURE;
	}
	o.stop = stop;

	/* buffers sized from link hints above the kernel's cap: say so, with
	 * the sysctl that raises it (without hints the size is a default,
	 * and the receiver daemon reports its own cap at start-up) */
	char note[512];
	if (!a->quiet && cfg->link.bandwidth_bps &&
	    !salvo_socket_buffers_uncapped() &&
	    salvo_plan_sockbuf_note(NULL, o.sndbuf_bytes, 0, note,
				    sizeof(note)))
		fprintf(stderr, "salvo send: %s", note);

	salvo_send_run(&o, r);
	salvo_progress_clear(&bar);
	outcome_of(r, &o, a, *stop != 0, &oc);
	if (oc.exit_code != SALVO_EXIT_OK)
		fprintf(stderr, "salvo send: %s\n", oc.message);
	if (a->json)
		write_json(stdout, r, &oc, a, cfg);
	else if (!a->quiet && oc.exit_code == SALVO_EXIT_OK)
		salvo_progress_summary(stdout, r);
	return oc.exit_code;
}

/* Each PATH must exist here; the engine names read errors too, but this
 * says so before any packet leaves. */
static int check_paths(const struct send_args *a)
{
	struct stat st;

	for (int i = 0; i < a->npaths; i++) {
		if (lstat(a->paths[i], &st)) {
			fprintf(stderr, "salvo send: %s: %s\n", a->paths[i],
				strerror(errno));
			return -1;
		}
	}
	return 0;
}

int salvo_cmd_send(int argc, char **argv)
{
	struct salvo_conf_diag diag;
	struct salvo_config *cfg;
	struct send_args a;
	char **rest, err[600];
	int nrest, rc = SALVO_EXIT_USAGE;

	if (is_help(argc, argv)) {
		usage(stdout);
		return SALVO_EXIT_OK;
	}
	memset(&a, 0, sizeof(a));
	a.progress = -1;
	salvo_conf_diag_init(&diag);
	cfg = salvo_conf_new_from_args(send_flags, argc, argv, &rest, &nrest,
				       &diag);
	if (!cfg) {
		fprintf(stderr, "salvo send: out of memory\n");
		return SALVO_EXIT_FAILURE;
	}
	a.paths = calloc((size_t)nrest + 1, sizeof(*a.paths));
	if (!a.paths) {
		fprintf(stderr, "salvo send: out of memory\n");
		rc = SALVO_EXIT_FAILURE;
		goto fail_paths;
	}
	salvo_conf_finish(cfg, &diag);
	if (diag.count) {
		salvo_progress_print_diag(stderr, "salvo send: ", &diag);
		goto fail_args;
	}
	if (parse_rest(&a, rest, nrest))
		goto fail_args;
	if (parse_target(&a, err, sizeof(err)) ||
	    (a.dest && check_dest(a.dest, err, sizeof(err)))) {
		fprintf(stderr, "salvo send: %s\n", err);
		goto fail_args;
	}
	if (check_paths(&a)) {
		rc = SALVO_EXIT_LOCAL_IO;
		goto fail_args;
	}
	rc = run(cfg, &a);
fail_args:
	free(a.paths);
fail_paths:
	salvo_conf_del(cfg);
	free(rest);
	return rc;
}
