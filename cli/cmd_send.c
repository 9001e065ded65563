/*
 * salvo send [options] PATH... HOST[:PORT]
 *
 * Every tunable comes from the configuration layers (defaults, /etc,
 * ~/.config, --config FILE) with this command's flags on top (the key
 * table says which flags send takes); salvo_conf_finish sizes what was
 * left to "auto", and salvo_conf_send_opts (conf/engine_opts.h) turns the
 * finished config into the engine's options, the same function the hot
 * folder uses.  --json reports what was configured, what the engine was
 * given and what it used.
 *
 * What the CLI checks itself, before the engine runs: the receiver (HOST,
 * HOST:PORT, [IPv6]:PORT), that each PATH exists, and that --remote-dir is
 * a relative folder with no ".." (the receiver enforces confinement again;
 * refusing here gives a clear message without a round trip).
 *
 * The engine's log events go to the sink that logging.* describes (each
 * entry of a tree it skips is a warning there); the result is also
 * logged there when the log is a file or JSON.  Results map to the exit
 * codes of cli/commands.h in outcome_of(): a transfer that succeeded but
 * could not read entries of a tree here is "partial", exit 9 (entries it
 * skips on purpose, symlinks, special files and names the protocol
 * refuses, are reported and exit 0, as rsync); one where the receiver refused
 * or could not store some files (its verdicts, before any data moved) is
 * exit 10, and the others still went.  Files the receiver had already
 * (identical, or kept by --overwrite never / if-newer) are "skipped" and
 * exit 0.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/identity.h"
#include "cli/progress.h"
#include "common/core/error.h"
#include "common/core/path.h"
#include "common/core/wire.h"
#include "common/io/sys.h"
#include "common/io/logsink.h"
#include "conf/config.h"
#include "conf/engine_opts.h"
#include "conf/plan_out.h"
#include "conf/units.h"
#include "sender/engine/ctl.h"
#include "sender/engine/send.h"

struct send_args {
	const char **paths; /* into argv */
	int npaths;
	const char *target;	   /* HOST[:PORT] as given */
	const char *remote_dir;	   /* --remote-dir, NULL when none */
	int json, quiet, progress; /* progress: -1 auto, 0 off, 1 on */
	char host[256];
	unsigned port;	/* 0: from the config */
	char peer[300]; /* "HOST:PORT" or "[v6]:PORT", for messages */
};

static void usage(FILE *out)
{
	fputs(
	    "usage: salvo send [options] PATH... HOST[:PORT]\n"
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
	    "  --remote-dir DIR   folder below the receiver's root to send "
	    "into\n"
	    "  --block-size SIZE  bytes one sender thread reads and sends "
	    "as a unit (4MiB)\n"
	    "  --threads N        block-sender threads (5); memory = "
	    "block size x threads\n"
	    "  --memory SIZE      memory budget; sizes block and threads "
	    "(auto)\n"
	    "  --sockets, --send-sockets N  UDP sockets (4)\n"
	    "  --mtu BYTES        path MTU (1500); datagram = MTU - 28 over "
	    "IPv4, - 48 over IPv6\n"
	    "  --datagram BYTES   UDP payload per datagram (auto: from the "
	    "MTU)\n"
	    "  --rate RATE, -r    ceiling (fair, high, low) or pacing rate "
	    "(fixed),\n"
	    "                     e.g. 500mbit (none)\n"
	    "  --rate-policy P    fair: find the path's rate and share it "
	    "like TCP;\n"
	    "                     high: about twice that; low: yield to "
	    "TCP;\n"
	    "                     fixed: pace at --rate (needs --rate); "
	    "adaptive:\n"
	    "                     another name for fair (fair)\n"
	    "  --min-rate RATE    fair, high, low: never pace below this "
	    "(none)\n"
	    "  --batch N          datagrams per sendmmsg call (32)\n"
	    "  --offload auto|off UDP GSO where the path takes it (auto)\n"
	    "  --sndbuf SIZE      SO_SNDBUF per socket (auto)\n"
	    "  --timeout TIME     give up after the receiver is silent "
	    "this long (10s)\n"
	    "  --bandwidth RATE --rtt TIME [--loss PCT] [--fudge N]\n"
	    "                     link hints: size memory and the window "
	    "from the plan\n"
	    "  --compress M       auto (default: LZ4 where it saves, while it\n"
	    "                     pays), lz4 (always try), off\n"
	    "  --links skip|follow  symlinks inside folders: skip and "
	    "report, or follow (skip)\n"
	    "  --include GLOB, --exclude GLOB  inside folders: send only "
	    "matching files;\n"
	    "                     leave out matching files and folders "
	    "(repeat them)\n"
	    "  --overwrite P      a file the receiver has already: "
	    "if-different (skip it\n"
	    "                     when size and mtime match), never, "
	    "if-newer, always;\n"
	    "                     decided before any data moves, within "
	    "what the receiver\n"
	    "                     allows\n"
	    "  --checksum         with if-different and if-newer: compare "
	    "content (BLAKE3)\n"
	    "                     instead of size and mtime (each file is "
	    "read once more,\n"
	    "                     and the receiver hashes its copies of the "
	    "same size)\n"
	    "  --key FILE         this sender's private key, made on first "
	    "use\n"
	    "                     (~/.config/salvo/key; root: "
	    "/etc/salvo/key)\n"
	    "  --known-hosts FILE receivers' keys, pinned on first use "
	    "(next to the key)\n"
	    "  --receiver-key KEY|FILE  the receiver's public key: pinned "
	    "explicitly\n"
	    "  --anonymous        send without a key (the receiver must "
	    "allow anonymous)\n"
	    "  --log-level L      error, warn, info, debug, trace (info)\n"
	    "  --log-file F       append the log to F instead of stderr\n"
	    "  --log-format F     text or json: one object per line (text)\n"
	    "  --progress         show the progress line even when stderr "
	    "is no terminal\n"
	    "  --no-progress      never show it\n"
	    "  --json             print one JSON object with the result "
	    "and the settings\n"
	    "  --events FILE      rate telemetry: a JSON line each RTT, "
	    "appended to FILE (-: stdout)\n"
	    "  --control PATH     a Unix socket for live control while "
	    "the send runs:\n"
	    "                     salvo ctl PATH rate 50mbit | rate none | "
	    "min-rate R | status\n"
	    "  --quiet, -q        print only errors\n"
	    "  --help, -h         this text\n"
	    "\n"
	    "exit codes:\n"
	    "  0   every entry sent and verified by the receiver\n"
	    "  1   other failure\n"
	    "  2   bad usage or configuration\n"
	    "  3   no answer from HOST:PORT within --timeout, or the "
	    "port refused it\n"
	    "  4   a file failed verification\n"
	    "  5   the receiver could not write (its message names the "
	    "file)\n"
	    "  6   a local file could not be read (named)\n"
	    "  7   the receiver went silent mid-transfer\n"
	    "  9   partial: the rest was sent, but entries inside a folder "
	    "could not be\n"
	    "      read here (symlinks, special files and names the protocol "
	    "refuses are\n"
	    "      skipped and listed, exit 0)\n"
	    "  10  the receiver refused or could not store some files (the "
	    "others were\n"
	    "      sent or skipped); --json lists each file with its "
	    "reason\n"
	    "  130 interrupted (SIGINT, SIGTERM)\n"
	    "\n"
	    "example: salvo send --rate 500mbit --remote-dir incoming "
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

/* --remote-dir must name a folder below the receiver's root. */
static int check_remote_dir(const char *dir, char *err, size_t errlen)
{
	char why[300];

	if (!salvo_conf_check_remote_dir(dir, why, sizeof(why)))
		return 0;
	snprintf(err, errlen, "--remote-dir '%s' %s", dir, why);
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
		} else if (!strcmp(s, "--remote-dir") && i + 1 < nrest) {
			a->remote_dir = rest[++i];
		} else if (!strncmp(s, "--remote-dir=", 13)) {
			a->remote_dir = s + 13;
		} else if (!strcmp(s, "--remote-dir")) {
			fprintf(stderr,
				"salvo send: --remote-dir needs a folder "
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

static void fill_opts(salvo_send_opts *o, const struct salvo_config *cfg,
		      const struct send_args *a)
{
	char err[8];

	salvo_conf_send_opts(cfg, o, err, sizeof(err));
	o->host = a->host;
	if (a->port)
		o->port = (uint16_t)a->port;
	o->paths = a->paths;
	o->npaths = (size_t)a->npaths;
	o->remote_dir = a->remote_dir && *a->remote_dir ? a->remote_dir : NULL;
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
	uint32_t failed =
	    r->files_refused + r->files_failed + r->files_abandoned;
	if (rc == 0 && failed) {
		oc->exit_code = SALVO_EXIT_SOME_FAILED;
		oc->result = "some_failed";
		snprintf(oc->message, sizeof(oc->message),
			 "%u %s not stored (refused %u, failed %u at the "
			 "receiver, its log says why; unreadable here after "
			 "the scan %u); the others were sent or skipped",
			 failed, failed == 1 ? "file" : "files",
			 r->files_refused, r->files_failed, r->files_abandoned);
	} else if (rc == 0 && r->skipped_by[SALVO_SKIP_UNREADABLE]) {
		char by[200];

		oc->exit_code = SALVO_EXIT_PARTIAL;
		oc->result = "partial";
		salvo_progress_skip_counts(r, by, sizeof(by));
		snprintf(oc->message, sizeof(oc->message),
			 "sent all but %u %s (skipped %s)", r->skipped,
			 r->skipped == 1 ? "entry" : "entries", by);
	} else if (rc == 0) {
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

/* The entries left out: a count, the count by reason, and each path
 * with its reason and the detail; and how many a glob left out. */
static void write_json_skipped(FILE *out, const salvo_send_report *r)
{
	fprintf(out, " \"excluded\": %u,", r->excluded);
	fprintf(out, " \"skipped_count\": %u, \"skipped_by_reason\": {",
		r->skipped);
	for (int k = 0; k < SALVO_SKIP_REASONS; k++)
		fprintf(out, "%s\"%s\": %u", k ? ", " : "",
			salvo_send_skip_name(k), r->skipped_by[k]);
	fputs("},\n \"skipped\": [", out);
	for (size_t i = 0, n = 0; i < r->nresults; i++) {
		const salvo_send_result *e = &r->results[i];

		if (e->outcome != SALVO_SEND_SKIPPED)
			continue;
		fputs(n++ ? ",\n  {\"path\": " : "\n  {\"path\": ", out);
		salvo_progress_json_string(out, e->local);
		fprintf(out, ", \"reason\": \"%s\", \"detail\": ",
			salvo_send_skip_name(e->skip));
		salvo_progress_json_string(out, e->detail);
		fputs("}", out);
	}
	fputs("],\n", out);
}

static const char *verdict_name(int v)
{
	static const char *const names[] = {
	    [SALVO_VERDICT_SEND] = "sent",
	    [SALVO_VERDICT_IDENTICAL] = "identical",
	    [SALVO_VERDICT_EXISTS] = "exists",
	    [SALVO_VERDICT_NOT_NEWER] = "not_newer",
	    [SALVO_VERDICT_REFUSED] = "refused",
	    [SALVO_VERDICT_FAILED] = "failed",
	    [SALVO_VERDICT_RESUME] = "resumed"};
	return v >= 0 && v <= SALVO_VERDICT_MAX ? names[v] : "none";
}

/* Every entry of the session with what became of it, and the counts. */
static void write_json_files(FILE *out, const salvo_send_report *r)
{
	static const char *const outcomes[] = {
	    [SALVO_SEND_SENT] = "sent",
	    [SALVO_SEND_SKIPPED] = "skipped",
	    [SALVO_SEND_UNCONFIRMED] = "unconfirmed",
	    [SALVO_SEND_NOT_NEEDED] = "skipped",
	    [SALVO_SEND_REFUSED] = "failed"};
	uint32_t skipped =
	    r->files_identical + r->files_exists + r->files_not_newer;
	fprintf(out,
		" \"counts\": {\"sent\": %u, \"skipped\": %u, "
		"\"skipped_identical\": %u, \"skipped_exists\": %u, "
		"\"skipped_not_newer\": %u, \"failed\": %u, \"refused\": %u, "
		"\"failed_other\": %u, \"failed_unreadable\": %u, "
		"\"held_bytes\": %llu},\n \"file_results\": [",
		r->files_sent, skipped, r->files_identical, r->files_exists,
		r->files_not_newer,
		r->files_refused + r->files_failed + r->files_abandoned,
		r->files_refused, r->files_failed, r->files_abandoned,
		(unsigned long long)r->held_bytes);
	for (size_t i = 0, n = 0; i < r->nresults; i++) {
		const salvo_send_result *e = &r->results[i];
		if (e->outcome == SALVO_SEND_SKIPPED || e->is_dir)
			continue;
		fputs(n++ ? ",\n  {\"path\": " : "\n  {\"path\": ", out);
		salvo_progress_json_string(out, e->local);
		fputs(", \"remote\": ", out);
		salvo_progress_json_string(out, e->remote);
		fprintf(out, ", \"result\": \"%s\", \"reason\": \"%s\"",
			outcomes[e->outcome],
			e->outcome == SALVO_SEND_UNCONFIRMED ? "session_failed"
			: e->abandoned			     ? "unreadable"
				       : verdict_name(e->verdict));
		if (e->outcome == SALVO_SEND_REFUSED && e->err)
			fprintf(out, ", \"errno\": %d, \"error\": \"%s\"",
				-e->err, strerror(-e->err));
		fputs("}", out);
	}
	fputs("],\n", out);
}

/* What the engine was given: the options salvo_conf_send_opts built. */
static void write_json_options(FILE *out, const salvo_send_opts *o)
{
	fputs(" \"options\": {\"remote_dir\": ", out);
	salvo_progress_json_string(out, o->remote_dir);
	fprintf(out,
		", \"port\": %u, \"block_bytes\": %u, \"mtu_bytes\": %u, "
		"\"datagram_bytes\": %u, \"rate_bps\": %llu, "
		"\"min_rate_bps\": %llu, \"rate_policy\": \"%s\", "
		"\"window_bytes\": "
		"%llu, \"threads\": %u, \"sockets\": %u, \"batch\": %u, "
		"\"offload\": %d, \"sndbuf_bytes\": %llu, \"timeout_ns\": "
		"%llu},\n",
		(unsigned)o->port, o->block_bytes, o->mtu_bytes,
		o->datagram_bytes, (unsigned long long)o->rate_bps,
		(unsigned long long)o->min_rate_bps,
		salvo_rate_policy_name(o->rate_policy),
		(unsigned long long)o->window_bytes, o->threads, o->sockets,
		o->batch, o->offload, (unsigned long long)o->sndbuf_bytes,
		(unsigned long long)o->timeout_ns);
}

static void write_json(FILE *out, const salvo_send_report *r,
		       const struct outcome *oc, const struct send_args *a,
		       const struct salvo_config *cfg, const salvo_send_opts *o)
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
		"\"retx_pct\": %.4f, \"reconnects\": %u, \"peak_rss_bytes\": "
		"%llu, \"srtt_ms\": %.3f, \"tail_ms\": %.3f, \"tail_rtts\": "
		"%.2f, \"peer_code\": %d, \"peer_errno\": %d,\n",
		(unsigned)o->port, r->files, r->dirs,
		(unsigned long long)r->bytes, (double)r->elapsed_ns / 1e9,
		salvo_progress_mbps(r->bytes, r->elapsed_ns),
		(unsigned long long)r->datagrams,
		(unsigned long long)r->wire_bytes,
		(unsigned long long)r->retx_bytes,
		salvo_progress_retx_pct(r->retx_bytes, r->bytes), r->reconnects,
		(unsigned long long)r->peak_rss_bytes, (double)r->srtt_ns / 1e6,
		(double)r->tail_ns / 1e6,
		r->srtt_ns ? (double)r->tail_ns / (double)r->srtt_ns : 0.0,
		r->peer_code, r->peer_errno);
	salvo_progress_json_compress(out, r);
	write_json_skipped(out, r);
	write_json_files(out, r);
	write_json_options(out, o);
	fputc(' ', out);
	salvo_cli_send_identity_json(out, cfg, o);
	fputs(",\n", out);
	fprintf(out,
		" \"engine\": {\"block_bytes\": %u, \"threads\": %u, "
		"\"sockets\": %u, \"datagram_bytes\": %u, \"batch\": %u, "
		"\"rate_bps\": %llu, \"rate_policy\": \"%s\", "
		"\"final_rate_bps\": %llu, \"window_bytes\": %llu, "
		"\"sndbuf_bytes\": %llu, \"gso_segments\": %u},\n "
		"\"config\": ",
		r->block_bytes, r->threads, r->sockets, r->datagram_bytes,
		r->batch, (unsigned long long)r->rate_bps,
		salvo_rate_policy_name(r->rate_policy),
		(unsigned long long)r->final_rate_bps,
		(unsigned long long)r->window_bytes,
		(unsigned long long)r->sndbuf_bytes, r->gso_segments);
	if (salvo_progress_json_config(out, cfg))
		fputs("null", out);
	fputs("}\n", out);
	fflush(out);
}

/* The result as a log event (the log has the whole story when it is a
 * file or JSON; on stderr the person has read it already). */
static void log_result(struct salvo_logsink *sink, const salvo_send_report *r,
		       const struct outcome *oc, const struct send_args *a)
{
	char msg[2048];
	salvo_log_event ev = {
	    SALVO_LOG_INFO,
	    "send_done",
	    0,
	    a->peer,
	    NULL,
	    r->bytes,
	    r->elapsed_ns,
	    r->elapsed_ns
		? (uint64_t)((double)r->bytes * 8e9 / (double)r->elapsed_ns)
		: 0,
	    msg};

	if (oc->exit_code == SALVO_EXIT_OK) {
		char by[200] = "";

		if (r->skipped)
			salvo_progress_skip_counts(r, by, sizeof(by));
		snprintf(msg, sizeof(msg),
			 "sent %u files and %u folders to %s%s%s", r->files,
			 r->dirs, a->peer, by[0] ? "; skipped " : "", by);
	} else if (oc->exit_code == SALVO_EXIT_PARTIAL) {
		ev.level = SALVO_LOG_WARN;
		ev.event = "send_partial";
		snprintf(msg, sizeof(msg),
			 "sent %u files and %u folders to %s; %s (exit %d)",
			 r->files, r->dirs, a->peer, oc->message,
			 oc->exit_code);
	} else {
		ev.level = SALVO_LOG_ERROR;
		ev.event = "send_failed";
		snprintf(msg, sizeof(msg), "%s (exit %d)", oc->message,
			 oc->exit_code);
	}
	salvo_progress_log(sink, &ev);
}

/* sent N, skipped M (identical K, exists E, not newer W), failed F */
static void print_counts(FILE *out, const salvo_send_report *r)
{
	uint32_t skipped =
	    r->files_identical + r->files_exists + r->files_not_newer;
	fprintf(out, "sent %u, skipped %u", r->files_sent, skipped);
	if (skipped)
		fprintf(out, " (identical %u, exists %u, not newer %u)",
			r->files_identical, r->files_exists,
			r->files_not_newer);
	uint32_t failed =
	    r->files_refused + r->files_failed + r->files_abandoned;
	fprintf(out, ", failed %u", failed);
	if (failed)
		fprintf(out, " (refused %u, failed %u, unreadable %u)",
			r->files_refused, r->files_failed, r->files_abandoned);
	fputc('\n', out);
}

/* The live limits the engine reads, and --control's socket serving
 * them (none without --control).  0, or a message printed and -1. */
static int open_control(const struct salvo_config *cfg, salvo_send_opts *o,
			salvo_send_live *live, salvo_ctl **ctl)
{
	char err[600];
	int e = salvo_send_live_init(live, NULL);
	if (e) {
		fprintf(stderr, "salvo send: %s\n", strerror(-e));
		return -1;
	}
	if (cfg->transfer.control &&
	    salvo_ctl_open(ctl, cfg->transfer.control, live, NULL, 0, err,
			   sizeof(err))) {
		salvo_logsink_printf(stderr, "salvo send: %s", err);
		salvo_send_live_free(live);
		return -1;
	}
	o->live = live;
	return 0;
}

/* Runs the engine once the arguments are known good. */
static int run(const struct salvo_config *cfg, struct send_args *a,
	       struct salvo_logsink *sink)
{
	struct salvo_progress bar;
	struct salvo_conf_pin pin; /* the pin callback's, while o is used */
	char note[1200];
	salvo_send_opts o;
	salvo_send_report rep, *r = &rep;
	struct outcome oc;
	volatile sig_atomic_t *stop;
	salvo_send_live live;
	salvo_ctl *ctl = NULL;
	int show;

	memset(r, 0, sizeof(*r));
	fill_opts(&o, cfg, a);
	snprintf(a->peer, sizeof(a->peer),
		 strchr(a->host, ':') ? "[%s]:%u" : "%s:%u", a->host,
		 (unsigned)o.port);
	if (salvo_conf_send_identity(cfg, &o, &pin, note, sizeof(note))) {
		salvo_logsink_printf(stderr, "salvo send: %s", note);
		return SALVO_EXIT_USAGE;
	}
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
	o.log = salvo_logsink_event;
	o.log_ud = sink;
	o.results =
	    a->json ? SALVO_SEND_RESULTS_ALL : SALVO_SEND_RESULTS_SKIPPED;

	/* buffers sized from link hints above the kernel's cap: say so, with
	 * the sysctl that raises it (without hints the size is a default,
	 * and the receiver daemon reports its own cap at start-up) */
	if (!a->quiet && cfg->link.bandwidth_bps &&
	    !salvo_socket_buffers_uncapped() &&
	    salvo_plan_sockbuf_note(NULL, o.sndbuf_bytes, 0, note,
				    sizeof(note)))
		fprintf(stderr, "salvo send: %s", note);

	if (open_control(cfg, &o, &live, &ctl))
		return SALVO_EXIT_USAGE;
	salvo_send_run(&o, r);
	salvo_ctl_close(ctl);
	salvo_send_live_free(&live);
	salvo_progress_clear(&bar);
	outcome_of(r, &o, a, *stop != 0, &oc);
	if (oc.exit_code != SALVO_EXIT_OK)
		salvo_logsink_printf(stderr, "salvo send: %s", oc.message);
	log_result(sink, r, &oc, a);
	if (a->json)
		write_json(stdout, r, &oc, a, cfg, &o);
	else if (!a->quiet && (oc.exit_code == SALVO_EXIT_OK ||
			       oc.exit_code == SALVO_EXIT_PARTIAL ||
			       oc.exit_code == SALVO_EXIT_SOME_FAILED)) {
		salvo_progress_summary(stdout, r);
		print_counts(stdout, r);
	}
	salvo_send_report_free(r);
	return oc.exit_code;
}

/* Each PATH must exist here; the engine names read errors too, but this
 * says so before any packet leaves. */
static int check_paths(const struct send_args *a)
{
	struct stat st;

	for (int i = 0; i < a->npaths; i++) {
		if (lstat(a->paths[i], &st)) {
			salvo_logsink_printf(stderr, "salvo send: %s: %s",
					     a->paths[i], strerror(errno));
			return -1;
		}
	}
	return 0;
}

int salvo_cmd_send(int argc, char **argv)
{
	struct salvo_conf_diag diag;
	struct salvo_config *cfg;
	struct salvo_logsink *sink;
	struct send_args a;
	char **rest, err[700];
	int nrest, rc = SALVO_EXIT_USAGE;

	if (is_help(argc, argv)) {
		usage(stdout);
		return SALVO_EXIT_OK;
	}
	memset(&a, 0, sizeof(a));
	a.progress = -1;
	salvo_conf_diag_init(&diag);
	cfg = salvo_conf_new_from_args(&salvo_conf_cmd_send, argc, argv, &rest,
				       &nrest, &diag);
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
	    (a.remote_dir &&
	     check_remote_dir(a.remote_dir, err, sizeof(err)))) {
		salvo_logsink_printf(stderr, "salvo send: %s", err);
		goto fail_args;
	}
	if (check_paths(&a)) {
		rc = SALVO_EXIT_LOCAL_IO;
		goto fail_args;
	}
	if (!(sink = salvo_conf_logsink_new(cfg, err, sizeof(err)))) {
		salvo_logsink_printf(stderr, "salvo send: %s", err);
		goto fail_args;
	}
	if (a.quiet)
		salvo_logsink_quiet(sink, SALVO_LOG_ERROR);
	cfg->log = salvo_logsink_event; /* a key made, a receiver pinned */
	cfg->log_ud = sink;
	rc = run(cfg, &a, sink);
	salvo_logsink_del(sink);
fail_args:
	free(a.paths);
fail_paths:
	salvo_conf_del(cfg);
	free(rest);
	return rc;
}
