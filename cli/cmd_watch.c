/*
 * salvo watch DIR HOST[:PORT] [options]     one folder
 * salvo watch --config FILE [options]       every profile in FILE
 * salvo watch --status [DIR | --config FILE] [--state-dir D]
 *
 * The engine settings come from the configuration layers and this
 * command's flags, as for salvo send (the key table says which flags
 * watch takes); the one-folder form's profile is built from the profile
 * flags through the same table (salvo_conf_profile_take_flag), so its
 * defaults and ranges are the YAML profile's.  Every profile's sessions get
 * their engine options from salvo_conf_profile_send_opts, the function
 * salvo send uses.  The log goes to the sink logging.* describes.
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
#include "cli/progress.h"
#include "common/core/error.h"
#include "common/io/logsink.h"
#include "conf/config.h"
#include "conf/engine_opts.h"
#include "conf/units.h"
#include "hotfolder/hotfolder.h"
#include "sender/engine/ctl.h"

struct watch_args {
	struct salvo_hotfolder *hf; /* the one-folder profile, in cfg */
	const char *pos[2];
	int npos, status, verbose;
	const char *state_dir;
	uint64_t batch_files;
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
	    "  --remote-dir DIR    folder below the receiver's root\n"
	    "  --include GLOB      send only matching files (repeatable)\n"
	    "  --exclude GLOB      never send matching files (repeatable)\n"
	    "  --settle TIME       unchanged this long = complete (2s)\n"
	    "  --post delete|move|keep  after the receiver verified it (keep)\n"
	    "  --move-to DIR       where --post move puts sent files\n"
	    "  --max-sessions N    concurrent sessions (2)\n"
	    "  --retry-min TIME    first retry delay, doubled (1s)\n"
	    "  --retry-max TIME    longest retry delay (5min)\n"
	    "  --allow-hardlinks   send files that have other hard links "
	    "(refused by default)\n"
	    "other options:\n"
	    "  --state-dir DIR     journal and status in DIR/NAME (default "
	    "WATCHED/.salvo)\n"
	    "  --batch-files N     files per session at most (1000)\n"
	    "  --status            print the status of a running (or the last) "
	    "watcher\n"
	    "  --verbose, -v       one log line per file\n"
	    "  --log-level L, --log-file F, --log-format text|json: the log "
	    "(info, stderr, text)\n"
	    "  --events FILE       rate telemetry of each session: a JSON "
	    "line each RTT (-: stdout)\n"
	    "  --control PATH      a Unix socket for live control: salvo ctl "
	    "PATH rate 50mbit\n"
	    "                      (every session, running and later), rate "
	    "PROFILE 50mbit,\n"
	    "                      min-rate, status [PROFILE]\n"
	    "  --config FILE, --port N, --rate RATE, --rate-policy P, "
	    "--min-rate RATE,\n"
	    "  --timeout TIME, --block-size SIZE, --threads N, --sockets N, "
	    "--mtu BYTES,\n"
	    "  --datagram BYTES, --batch N, --offload auto|off, --sndbuf SIZE, "
	    "--memory SIZE,\n"
	    "  --bandwidth RATE, --rtt TIME, --loss PCT, --fudge N, --compress "
	    "auto|lz4|off:\n"
	    "  as for salvo send (a profile's compression: key overrides "
	    "--compress)\n"
	    "  --overwrite P, --checksum: as for salvo send (a profile's "
	    "overwrite: and\n"
	    "                      checksum: keys override them)\n"
	    "  --key FILE, --known-hosts FILE, --receiver-key KEY|FILE, "
	    "--anonymous: the\n"
	    "                      identity, as for salvo send (a profile's "
	    "key and\n"
	    "                      receiver_key override them in YAML)\n"
	    "\n"
	    "exit codes: 0 stopped by SIGINT/SIGTERM; 1 failure (a folder "
	    "cannot be\n"
	    "watched, another watcher holds the journal); 2 bad usage.\n",
	    out);
}

static int bad(const char *opt, const char *why)
{
	fprintf(stderr, "salvo watch: %s: %s\n", opt, why);
	return -1;
}

/* The one-folder profile, made on first need (it replaces the file's). */
static struct salvo_hotfolder *one_profile(struct salvo_config *cfg,
					   struct watch_args *a)
{
	if (!a->hf && !(a->hf = salvo_conf_profile_new(cfg)))
		bad("watch", "out of memory");
	return a->hf;
}

/* --state-dir, --batch-files: "--opt V" or "--opt=V"; 1 taken, 0 not
 * this option, -1 bad. */
static int watch_opt(struct watch_args *a, char **rest, int nrest, int *i)
{
	const char *s = rest[*i], *eq = strchr(s, '='), *v;
	size_t len = eq ? (size_t)(eq - s) : strlen(s);
	char err[200];
	int sd = len == 11 && !strncmp(s, "--state-dir", len);

	if (!sd && !(len == 13 && !strncmp(s, "--batch-files", len)))
		return 0;
	if (!eq && *i + 1 >= nrest)
		return bad(s, "needs a value");
	v = eq ? eq + 1 : rest[++*i];
	(*i)++;
	if (sd) {
		a->state_dir = v;
		return 1;
	}
	if (salvo_units_parse_count(v, &a->batch_files, err, sizeof(err)))
		return bad("--batch-files", err);
	if (a->batch_files < 1 || a->batch_files > 100000)
		return bad("--batch-files", "out of range; allowed: 1..100000");
	return 1;
}

static int parse_rest(struct salvo_config *cfg, struct watch_args *a,
		      char **rest, int nrest)
{
	char err[700];

	for (int i = 0; i < nrest;) {
		const char *s = rest[i];
		int rc;

		if (s[0] != '-' || !s[1]) {
			if (a->npos == 2)
				return bad(s, "unexpected argument");
			a->pos[a->npos++] = s;
			i++;
		} else if (!strcmp(s, "--status")) {
			a->status = 1;
			i++;
		} else if (!strcmp(s, "--verbose") || !strcmp(s, "-v")) {
			a->verbose = 1;
			i++;
		} else if (!strcmp(s, "--allow-hardlinks")) {
			/* the key's flag, without a value: true */
			if (!one_profile(cfg, a))
				return -1;
			if (salvo_conf_profile_set(cfg, a->hf,
						   "allow_hardlinks", "true", s,
						   err, sizeof(err))) {
				fprintf(stderr, "salvo watch: %s\n", err);
				return -1;
			}
			i++;
		} else if ((rc = watch_opt(a, rest, nrest, &i))) {
			if (rc < 0)
				return -1;
		} else {
			if (!one_profile(cfg, a))
				return -1;
			rc = salvo_conf_profile_take_flag(
			    cfg, a->hf, nrest, rest, &i, err, sizeof(err));
			if (rc == 0)
				return bad(s, "unknown option (salvo watch "
					      "--help)");
			if (rc < 0) {
				fprintf(stderr, "salvo watch: %s\n", err);
				return -1;
			}
		}
	}
	return 0;
}

/* DIR and HOST[:PORT] into the one-folder profile, then its checks. */
static int one_folder(struct salvo_config *cfg, struct watch_args *a)
{
	struct salvo_conf_diag diag;
	char err[700];

	if (!one_profile(cfg, a))
		return -1;
	if (a->npos < 2 && !a->status) {
		fprintf(stderr, "salvo watch: needs HOST[:PORT] after DIR\n");
		return -1;
	}
	if (salvo_conf_profile_set(cfg, a->hf, "dir", a->pos[0], "DIR", err,
				   sizeof(err)) ||
	    (a->npos == 2 &&
	     salvo_conf_profile_set(cfg, a->hf, "host", a->pos[1],
				    "HOST[:PORT]", err, sizeof(err)))) {
		fprintf(stderr, "salvo watch: %s\n", err);
		return -1;
	}
	salvo_conf_diag_init(&diag);
	if (salvo_conf_profile_finish(cfg, &diag)) {
		salvo_progress_print_diag(stderr, "salvo watch: ", &diag);
		return -1;
	}
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
				r == -ENOENT   ? "never started"
				: r == -EINVAL ? "the status file is not a "
						 "regular file"
					       : salvo_strerror(r));
			rc = SALVO_EXIT_FAILURE;
		}
	}
	return rc;
}

/* --control (transfer.control): live limits for the watcher and for
 * each profile (a profile's parent: the watcher's), served on a socket
 * while the daemon runs.  0, or a message printed and -1. */
static int open_control(const struct salvo_config *cfg, struct salvo_hf_opts *o,
			salvo_ctl **ctl)
{
	size_t n = cfg->n_hotfolders, i = 0;
	salvo_ctl_profile *names = NULL;
	char err[600];
	if (!cfg->transfer.control)
		return 0;
	o->live = calloc(1, sizeof(*o->live));
	o->profile_live = calloc(n ? n : 1, sizeof(*o->profile_live));
	names = calloc(n ? n : 1, sizeof(*names));
	snprintf(err, sizeof(err), "out of memory");
	if (!o->live || !o->profile_live || !names ||
	    salvo_send_live_init(o->live, NULL))
		goto fail_alloc;
	for (; i < n; i++) {
		if (salvo_send_live_init(&o->profile_live[i], o->live))
			goto fail_init;
		names[i] = (salvo_ctl_profile){cfg->hotfolders[i].name,
					       &o->profile_live[i]};
	}
	if (salvo_ctl_open(ctl, cfg->transfer.control, o->live, names, n, err,
			   sizeof(err)))
		goto fail_init;
	free(names);
	return 0;
fail_init:
	while (i--)
		salvo_send_live_free(&o->profile_live[i]);
	salvo_send_live_free(o->live);
fail_alloc:
	salvo_logsink_printf(stderr, "salvo watch: %s", err);
	free(names);
	free(o->profile_live);
	free(o->live);
	o->live = o->profile_live = NULL;
	return -1;
}

static void close_control(const struct salvo_config *cfg,
			  struct salvo_hf_opts *o, salvo_ctl *ctl)
{
	if (!o->live)
		return;
	salvo_ctl_close(ctl);
	for (size_t i = 0; i < cfg->n_hotfolders; i++)
		salvo_send_live_free(&o->profile_live[i]);
	salvo_send_live_free(o->live);
	free(o->profile_live);
	free(o->live);
}

/* Runs the daemon until SIGINT/SIGTERM. */
static int run(const struct salvo_config *cfg, const struct watch_args *a,
	       struct salvo_logsink *sink)
{
	struct salvo_hf_opts o;
	salvo_ctl *ctl = NULL;
	sigset_t set;
	char err[1200];
	int sfd, rc;

	memset(&o, 0, sizeof(o));
	o.cfg = cfg;
	o.state_dir = a->state_dir;
	o.log = salvo_logsink_event;
	o.log_ud = sink;
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
	/* after the mask: the control thread takes no signal either */
	if (open_control(cfg, &o, &ctl)) {
		close(sfd);
		return SALVO_EXIT_USAGE;
	}
	rc = salvo_hotfolder_run(&o, err, sizeof(err));
	close_control(cfg, &o, ctl);
	close(sfd);
	if (rc) {
		salvo_log_event ev = {SALVO_LOG_ERROR,
				      "watch_failed",
				      0,
				      NULL,
				      NULL,
				      0,
				      0,
				      0,
				      err};
		salvo_logsink_printf(stderr, "salvo watch: %s", err);
		salvo_progress_log(sink, &ev);
		return SALVO_EXIT_FAILURE;
	}
	return SALVO_EXIT_OK;
}

int salvo_cmd_watch(int argc, char **argv)
{
	struct salvo_conf_diag diag;
	struct salvo_config *cfg;
	struct salvo_logsink *sink;
	struct watch_args a;
	char **rest = NULL, err[700];
	int nrest = 0, rc = SALVO_EXIT_USAGE;

	if (is_help(argc, argv)) {
		usage(stdout);
		return SALVO_EXIT_OK;
	}
	memset(&a, 0, sizeof(a));
	salvo_conf_diag_init(&diag);
	cfg = salvo_conf_new_from_args(&salvo_conf_cmd_watch, argc, argv, &rest,
				       &nrest, &diag);
	if (!cfg) {
		fprintf(stderr, "salvo watch: out of memory\n");
		return SALVO_EXIT_FAILURE;
	}
	salvo_conf_finish(cfg, &diag);
	if (diag.count) {
		salvo_progress_print_diag(stderr, "salvo watch: ", &diag);
		goto done;
	}
	if (parse_rest(cfg, &a, rest, nrest))
		goto done;
	if (a.hf && !a.npos) {
		fprintf(stderr, "salvo watch: profile options need DIR "
				"HOST[:PORT]; with --config, set them in the "
				"file's profiles\n");
		goto done;
	}
	if (!a.npos && !cfg->n_hotfolders) {
		fprintf(stderr, "salvo watch: needs DIR HOST[:PORT], or "
				"--config FILE with 'hotfolders:'\n");
		usage(stderr);
		goto done;
	}
	if (a.npos && one_folder(cfg, &a))
		goto done;
	if (a.status) {
		rc = show_status(cfg->hotfolders, cfg->n_hotfolders,
				 a.state_dir);
		goto done;
	}
	if (!(sink = salvo_conf_logsink_new(cfg, err, sizeof(err)))) {
		salvo_logsink_printf(stderr, "salvo watch: %s", err);
		goto done;
	}
	cfg->log = salvo_logsink_event; /* a key made, a receiver pinned */
	cfg->log_ud = sink;
	rc = run(cfg, &a, sink);
	salvo_logsink_del(sink);
done:
	salvo_conf_del(cfg);
	free(rest);
	return rc;
}
