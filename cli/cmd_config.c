/*
 * salvo config show|check: the configuration as salvo will use it.
 * `show` loads every layer (defaults, /etc, ~/.config, --config FILE, then
 * any key's flag, e.g. --block-size 8MiB), completes it as the engines do,
 * and prints each value with its source.  `check FILE` validates one file
 * on top of the defaults only, so the verdict does not depend on the
 * machine it runs on.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "common/core/error.h"
#include "common/io/logsink.h"
#include "conf/config.h"

static void usage(FILE *out)
{
	fputs("usage: salvo config show [--config FILE] [--json] [--KEY-FLAG "
	      "VALUE ...]\n"
	      "       salvo config check FILE...\n\n"
	      "show   prints the effective configuration as YAML, each value "
	      "followed by its\n"
	      "       source (default, FILE:LINE:COLUMN, a flag, or auto); "
	      "--json for programs.\n"
	      "       Every key has a flag (docs/CONFIG.md), e.g. "
	      "--block-size 8MiB --rate 500mbit.\n"
	      "check  validates each FILE over the built-in defaults and "
	      "reports every error.\n",
	      out);
}

static int show(int argc, char **argv)
{
	struct salvo_conf_diag diag;
	struct salvo_config *cfg;
	char **rest;
	int nrest, json = 0, rc = SALVO_EXIT_USAGE;

	salvo_conf_diag_init(&diag);
	cfg = salvo_conf_new_from_args(&salvo_conf_cmd_all, argc, argv, &rest,
				       &nrest, &diag);
	if (!cfg)
		return SALVO_EXIT_FAILURE;
	for (int i = 0; i < nrest; i++) {
		if (!strcmp(rest[i], "--json")) {
			json = 1;
		} else if (!strcmp(rest[i], "--help")) {
			usage(stdout);
			rc = SALVO_EXIT_OK;
			goto fail_args;
		} else {
			fprintf(stderr,
				"salvo config show: unknown argument "
				"'%s'\n",
				rest[i]);
			goto fail_args;
		}
	}
	/* contradictions are reported even when a layer had errors */
	salvo_conf_finish(cfg, &diag);
	if (diag.count) {
		fputs(diag.text, stderr);
		goto fail_args;
	}
	rc = salvo_conf_write(cfg, stdout, json) ? SALVO_EXIT_FAILURE
						 : SALVO_EXIT_OK;
fail_args:
	salvo_conf_del(cfg);
	free(rest);
	return rc;
}

static int check(int argc, char **argv)
{
	int rc = SALVO_EXIT_OK, first = 1;

	/* options come before the files; "--" ends them, so a file whose
	 * name starts with '-' can still be checked */
	for (; first < argc && argv[first][0] == '-'; first++) {
		if (!strcmp(argv[first], "--")) {
			first++;
			break;
		}
		if (!strcmp(argv[first], "--help") ||
		    !strcmp(argv[first], "-h")) {
			usage(stdout);
			return SALVO_EXIT_OK;
		}
		salvo_logsink_printf(stderr,
				     "salvo config check: unknown option '%s' "
				     "(a file whose name starts with '-': "
				     "./%s, or put -- before it)",
				     argv[first], argv[first]);
		return SALVO_EXIT_USAGE;
	}
	if (first >= argc) {
		usage(stderr);
		return SALVO_EXIT_USAGE;
	}
	for (int i = first; i < argc; i++) {
		struct salvo_config *cfg = salvo_conf_new();
		struct salvo_conf_diag diag;

		if (!cfg)
			return SALVO_EXIT_FAILURE;
		salvo_conf_diag_init(&diag);
		if (salvo_conf_load_file(cfg, argv[i], 1, &diag) !=
		    SALVO_ERR_NOMEM)
			salvo_conf_finish(cfg, &diag);
		if (diag.count) {
			fprintf(stderr, "%s%s: %u error%s\n", diag.text,
				argv[i], diag.count,
				diag.count == 1 ? "" : "s");
			rc = SALVO_EXIT_USAGE;
		} else {
			printf("%s: ok\n", argv[i]);
		}
		salvo_conf_del(cfg);
	}
	return rc;
}

int salvo_cmd_config(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "show"))
		return show(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return check(argc - 1, argv + 1);
	if (argc >= 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return SALVO_EXIT_OK;
	}
	usage(stderr);
	return SALVO_EXIT_USAGE;
}
