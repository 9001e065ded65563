/*
 * salvo watch DIR HOST[:PORT] [options]     one folder
 * salvo watch --config FILE [options]       every profile in FILE
 * salvo watch --status [DIR | --config FILE] [--state-dir D]
 *
 * The engine tunables come from the configuration layers and this
 * command's flags, as for salvo send; the profile of the one-folder form
 * is built from the options below with the defaults of docs/CONFIG.md.
 * SIGINT and SIGTERM are taken through a signalfd (blocked before any
 * thread starts, so only the loop sees them) and end the watcher cleanly:
 * exit 0.  The daemon itself is hotfolder/hotfolder.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli/commands.h"
#include "common/core/error.h"
#include "common/core/path.h"
#include "conf/config.h"
#include "conf/units.h"
#include "hotfolder/hotfolder.h"
#include "sender/engine/send.h"

struct watch_args {
	struct salvo_hotfolder hf; /* the one-folder profile */
	const char *pos[2];
	int npos, status, verbose;
	const char *state_dir;
	uint64_t batch_files;
	char host[256];
	char *inc[64], *exc[64];
};

static void usage(FILE *out)
{
	fputs(
	    "usage: salvo watch DIR HOST[:PORT] [options]\n"
	    "       salvo watch --config FILE [options]\n"
	    "       salvo watch --status [DIR | --config FILE] [--state-dir "
	    "D]\n"
	    "\n"
	    "Watches DIR (recursively) and sends every file that lands in it "
	    "to a salvo\n"
	    "receiver once it is complete: closed or moved in, then unchanged "
	    "for the\n"
	    "settle time.  With --config, every profile under 'hotfolders:' "
	    "is watched.\n"
	    "Names starting with '.' or '~' and ending in .part or .tmp are "
	    "never sent.\n"
	    "The receiver should run with --overwrite replace (a file sent "
	    "again replaces\n"
	    "its copy).  docs/HOTFOLDER.md explains the guarantees.\n"
	    "\n"
	    "profile options (one-folder form; in YAML for --config):\n"
	    "  --name NAME         profile name in logs and status (watch)\n"
	    "  --dest-dir SUBDIR   folder below the receiver's root\n"
	    "  --include GLOB      send only matching files (repeatable)\n"
	    "  --exclude GLOB      never send matching files (repeatable)\n"
	    "  --settle TIME       unchanged this long = complete (2s)\n"
	    "  --post delete|move|keep  after the receiver verified it (keep)\n"
	    "  --move-to DIR       where --post move puts sent files\n"
	    "  --max-sessions N    concurrent sessions (2)\n"
	    "  --retry-min TIME    first retry delay, doubled (1s)\n"
	    "  --retry-max TIME    longest retry delay (5min)\n"
	    "other options:\n"
	    "  --state-dir DIR     journal and status in DIR/NAME (default "
	    "WATCHED/.salvo)\n"
	    "  --batch-files N     files per session at most (1000)\n"
	    "  --status            print the status of a running (or the last) "
	    "watcher\n"
	    "  --verbose, -v       one log line per file\n"
	    "  --config FILE, --port N, --rate RATE, --timeout TIME, "
	    "--block-size SIZE,\n"
	    "  --threads N, --sockets N, --mtu BYTES, --memory SIZE: as for "
	    "salvo send\n"
	    "\n"
	    "exit codes: 0 stopped by SIGINT/SIGTERM; 1 failure (a folder "
	    "cannot be\n"
	    "watched, another watcher holds the journal); 2 bad usage.\n",
	    out);
}

/* HOST, HOST:PORT, [V6] or [V6]:PORT into a->host and hf.dest_port. */
static int parse_dest(struct watch_args *a, const char *t)
{
	const char *host = t, *port = NULL, *colon;
	size_t len;

	if (t[0] == '[') {
		const char *close = strchr(t, ']');

		if (!close || (close[1] && close[1] != ':'))
			return -1;
		host = t + 1;
		len = (size_t)(close - host);
		if (close[1] == ':')
			port = close + 2;
	} else if ((colon = strchr(t, ':')) && !strchr(colon + 1, ':')) {
		len = (size_t)(colon - t);
		port = colon + 1;
	} else {
		len = strlen(t);
	}
	if (!len || len >= sizeof(a->host))
		return -1;
	memcpy(a->host, host, len);
	a->host[len] = 0;
	a->hf.dest_host = a->host;
	if (port) {
		char *end;
		unsigned long p = strtoul(port, &end, 10);

		if (!*port || *end || p < 1 || p > 65535)
			return -1;
		a->hf.dest_port = (uint32_t)p;
	}
	return 0;
}

static int bad(const char *opt, const char *why)
{
	fprintf(stderr, "salvo watch: %s: %s\n", opt, why);
	return -1;
}

static int time_opt(const char *opt, const char *v, uint64_t *ns)
{
	char err[200];

	if (salvo_units_parse_time(v, ns, err, sizeof(err)))
		return bad(opt, err);
	return 0;
}

static int count_opt(const char *opt, const char *v, uint64_t lo, uint64_t hi,
		     uint64_t *n)
{
	char err[200];

	if (salvo_units_parse_count(v, n, err, sizeof(err)))
		return bad(opt, err);
	if (*n < lo || *n > hi)
		return bad(opt, "out of range");
	return 0;
}

static int one_opt(struct watch_args *a, const char *s, const char *v)
{
	struct salvo_hotfolder *hf = &a->hf;
	uint64_t n;

	if (!strcmp(s, "--name"))
		hf->name = (char *)v;
	else if (!strcmp(s, "--dest-dir"))
		hf->dest_dir = (char *)v;
	else if (!strcmp(s, "--state-dir"))
		a->state_dir = v;
	else if (!strcmp(s, "--move-to"))
		hf->move_to = (char *)v;
	else if (!strcmp(s, "--include") || !strcmp(s, "--exclude")) {
		struct salvo_conf_strv *sv =
		    s[2] == 'i' ? &hf->include : &hf->exclude;

		if (sv->n >= 64)
			return bad(s, "at most 64 globs");
		sv->v[sv->n++] = (char *)v;
	} else if (!strcmp(s, "--settle"))
		return time_opt(s, v, &hf->settle_ns);
	else if (!strcmp(s, "--retry-min"))
		return time_opt(s, v, &hf->retry_min_ns);
	else if (!strcmp(s, "--retry-max"))
		return time_opt(s, v, &hf->retry_max_ns);
	else if (!strcmp(s, "--max-sessions")) {
		if (count_opt(s, v, 1, 64, &n))
			return -1;
		hf->max_sessions = (uint32_t)n;
	} else if (!strcmp(s, "--batch-files"))
		return count_opt(s, v, 1, 100000, &a->batch_files);
	else if (!strcmp(s, "--post")) {
		if (!strcmp(v, "delete"))
			hf->post_action = SALVO_POST_DELETE;
		else if (!strcmp(v, "move"))
			hf->post_action = SALVO_POST_MOVE;
		else if (!strcmp(v, "keep"))
			hf->post_action = SALVO_POST_KEEP;
		else
			return bad(s, "allowed: delete, move, keep");
	} else
		return 1;
	return 0;
}

static int parse_rest(struct watch_args *a, char **rest, int nrest)
{
	for (int i = 0; i < nrest; i++) {
		const char *s = rest[i], *eq;
		char name[64];
		int rc;

		if (s[0] != '-' || !s[1]) {
			if (a->npos == 2)
				return bad(s, "unexpected argument");
			a->pos[a->npos++] = s;
			continue;
		}
		if (!strcmp(s, "--status")) {
			a->status = 1;
			continue;
		}
		if (!strcmp(s, "--verbose") || !strcmp(s, "-v")) {
			a->verbose = 1;
			continue;
		}
		if ((eq = strchr(s, '=')) && (size_t)(eq - s) < sizeof(name)) {
			memcpy(name, s, (size_t)(eq - s));
			name[eq - s] = 0;
			rc = one_opt(a, name, eq + 1);
		} else if (i + 1 < nrest) {
			rc = one_opt(a, s, rest[i + 1]);
			i += rc == 0;
		} else {
			rc = one_opt(a, s, "");
			if (rc == 0)
				return bad(s, "needs a value");
		}
		if (rc > 0)
			return bad(s, "unknown option (salvo watch --help)");
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int check_profile(const struct salvo_hotfolder *hf)
{
	const char *why = NULL;

	if (*hf->dest_dir &&
	    (hf->dest_dir[0] == '/' ||
	     salvo_path_check(hf->dest_dir, strlen(hf->dest_dir), &why)))
		return bad("--dest-dir", why ? why : "must be relative");
	if (hf->post_action == SALVO_POST_MOVE && !*hf->move_to)
		return bad("--post move", "needs --move-to DIR");
	if (hf->post_action != SALVO_POST_MOVE && *hf->move_to)
		return bad("--move-to", "only with --post move");
	if (hf->settle_ns < 10000000ull)
		return bad("--settle", "at least 10ms");
	if (!hf->retry_min_ns || hf->retry_min_ns > hf->retry_max_ns)
		return bad("--retry-min", "must be above 0 and at most "
					  "--retry-max");
	return 0;
}

static int is_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

static int show_status(const struct salvo_hotfolder *hfs, size_t n,
		       const char *state_dir)
{
	int rc = SALVO_EXIT_OK;

	for (size_t i = 0; i < n; i++) {
		int r =
		    salvo_hotfolder_print_status(&hfs[i], state_dir, stdout);

		if (i + 1 < n)
			fputc('\n', stdout);
		if (r) {
			fprintf(stderr, "salvo watch: %s: no status (%s)\n",
				hfs[i].name,
				r == -ENOENT ? "never started"
					     : salvo_strerror(r));
			rc = SALVO_EXIT_FAILURE;
		}
	}
	return rc;
}

/* Runs the daemon until SIGINT/SIGTERM. */
static int run(const struct salvo_config *cfg, const struct watch_args *a,
	       const struct salvo_hotfolder *hfs, size_t n)
{
	struct salvo_hf_opts o;
	sigset_t set;
	char err[1200];
	int sfd, rc;

	memset(&o, 0, sizeof(o));
	salvo_send_opts_default(&o.send);
	o.send.block_bytes = (uint32_t)cfg->transfer.block_size_bytes;
	o.send.datagram_bytes = cfg->network.datagram_bytes;
	o.send.rate_bps = cfg->transfer.rate_bps;
	o.send.threads = cfg->transfer.threads;
	o.send.sockets = cfg->network.send_sockets;
	o.send.batch = cfg->network.batch;
	o.send.offload = cfg->network.offload == SALVO_OFFLOAD_AUTO;
	o.send.sndbuf_bytes = cfg->network.sndbuf_bytes;
	o.send.timeout_ns = cfg->transfer.timeout_ns;
	o.default_port = (uint16_t)cfg->network.port;
	o.profiles = hfs;
	o.nprofiles = n;
	o.state_dir = a->state_dir;
	o.log = stderr;
	o.verbose = a->verbose;
	o.batch_files = (uint32_t)a->batch_files;

	/* blocked before any thread exists: sessions inherit the mask */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &set, NULL) ||
	    (sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		fprintf(stderr, "salvo watch: signals: %s\n", strerror(errno));
		return SALVO_EXIT_FAILURE;
	}
	o.stop_fd = sfd;
	rc = salvo_hotfolder_run(&o, err, sizeof(err));
	close(sfd);
	if (rc) {
		fprintf(stderr, "salvo watch: %s\n", err);
		return SALVO_EXIT_FAILURE;
	}
	return SALVO_EXIT_OK;
}

int salvo_cmd_watch(int argc, char **argv)
{
	struct salvo_conf_diag diag;
	struct salvo_config *cfg;
	struct watch_args a;
	char **rest = NULL;
	int nrest = 0, rc = SALVO_EXIT_USAGE;

	if (is_help(argc, argv)) {
		usage(stdout);
		return SALVO_EXIT_OK;
	}
	memset(&a, 0, sizeof(a));
	a.hf.name = "watch";
	a.hf.dest_dir = "";
	a.hf.move_to = "";
	a.hf.settle_ns = 2000000000ull;
	a.hf.post_action = SALVO_POST_KEEP;
	a.hf.max_sessions = 2;
	a.hf.retry_min_ns = 1000000000ull;
	a.hf.retry_max_ns = 300000000000ull;
	a.hf.include.v = a.inc;
	a.hf.exclude.v = a.exc;
	salvo_conf_diag_init(&diag);
	/* every key's own flag (docs/CONFIG.md), as salvo send's */
	cfg = salvo_conf_new_from_args(NULL, argc, argv, &rest, &nrest, &diag);
	if (!cfg) {
		fprintf(stderr, "salvo watch: out of memory\n");
		return SALVO_EXIT_FAILURE;
	}
	salvo_conf_finish(cfg, &diag);
	if (diag.count) {
		fputs(diag.text, stderr);
		goto done;
	}
	if (parse_rest(&a, rest, nrest))
		goto done;
	if (a.npos == 0 && !cfg->n_hotfolders) {
		fprintf(stderr, "salvo watch: needs DIR HOST[:PORT], or "
				"--config FILE with 'hotfolders:'\n");
		usage(stderr);
		goto done;
	}
	if (a.npos) {
		a.hf.dir = (char *)a.pos[0];
		if (a.npos < 2 && !a.status) {
			fprintf(stderr, "salvo watch: needs HOST[:PORT] after "
					"DIR\n");
			goto done;
		}
		if (a.npos == 2 && parse_dest(&a, a.pos[1])) {
			bad(a.pos[1], "expected HOST, HOST:PORT or [V6]:PORT");
			goto done;
		}
		if (!a.hf.dest_host)
			a.hf.dest_host = "";
		if (check_profile(&a.hf))
			goto done;
	}
	if (a.status)
		rc = a.npos ? show_status(&a.hf, 1, a.state_dir)
			    : show_status(cfg->hotfolders, cfg->n_hotfolders,
					  a.state_dir);
	else
		rc = a.npos ? run(cfg, &a, &a.hf, 1)
			    : run(cfg, &a, cfg->hotfolders, cfg->n_hotfolders);
done:
	salvo_conf_del(cfg);
	free(rest);
	return rc;
}
