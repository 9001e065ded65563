/*
 * Flags: the flag sets the key table gives each subcommand, aliases, both
 * flag forms, errors that name the flag (a bad value, another command's
 * flag, an old spelling), and the path an engine takes: a value from YAML,
 * the same key overridden by a flag, both visible in the JSON `--json`
 * reports and in the options salvo_conf_send_opts builds for the engine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/core/error.h"
#include "conf/config.h"
#include "conf/engine_opts.h"

#define MiB (1024ULL * 1024)

#define send_flags (&salvo_conf_cmd_send)

static void test_set_flag(void **state)
{
	struct salvo_config *cfg = salvo_conf_new();
	char err[512];
	(void)state;
	assert_int_equal(salvo_conf_set_flag(cfg, "transfer.block_size", "8MiB",
					     "--block-size", err, sizeof(err)),
			 0);
	assert_int_equal(cfg->transfer.block_size_bytes, 8 * MiB);
	assert_int_equal(cfg->origin[SALVO_CONF_TRANSFER_BLOCK_SIZE].source,
			 SALVO_CONF_FROM_FLAG);

	assert_int_equal(salvo_conf_set_flag(cfg, "transfer.block_size", "8XB",
					     "--block-size", err, sizeof(err)),
			 SALVO_ERR_INVAL);
	assert_string_equal(err, "--block-size: transfer.block_size: bad size "
				 "'8XB': unknown unit; allowed: B, KiB, MiB, "
				 "GiB, TiB, KB, MB, GB, TB (e.g. 4MiB)");
	assert_int_equal(cfg->transfer.block_size_bytes, 8 * MiB);

	assert_int_equal(salvo_conf_set_flag(cfg, "transfer.threads", "0",
					     "--threads", err, sizeof(err)),
			 SALVO_ERR_INVAL);
	assert_string_equal(err, "--threads: transfer.threads: '0' is out of "
				 "range; allowed: 1..64");

	assert_int_equal(salvo_conf_set_flag(cfg, "transfer.nope", "1",
					     "--nope", err, sizeof(err)),
			 SALVO_ERR_INVAL);
	assert_string_equal(err, "--nope: unknown key 'transfer.nope'");
	assert_int_equal(salvo_conf_set_flag(cfg, "hotfolders", "x", "--hf",
					     err, sizeof(err)),
			 SALVO_ERR_INVAL);
	salvo_conf_del(cfg);
}

static void test_take_flag_forms(void **state)
{
	char *argv[] = {"send",		  "--block-size", "2MiB",
			"--rate=300mbit", "file.bin",	  "-r",
			"1gbit",	  "--threads",	  NULL};
	int argc = 8, i = 1;
	struct salvo_config *cfg = salvo_conf_new();
	char err[512];
	(void)state;
	assert_int_equal(salvo_conf_take_flag(cfg, send_flags, argc, argv, &i,
					      err, sizeof(err)),
			 1);
	assert_int_equal(i, 3);
	assert_int_equal(salvo_conf_take_flag(cfg, send_flags, argc, argv, &i,
					      err, sizeof(err)),
			 1);
	assert_int_equal(i, 4);
	assert_int_equal(cfg->transfer.rate_bps, 300000000);
	assert_int_equal(salvo_conf_take_flag(cfg, send_flags, argc, argv, &i,
					      err, sizeof(err)),
			 0); /* not a flag of the table */
	assert_int_equal(i, 4);
	i = 5;
	assert_int_equal(salvo_conf_take_flag(cfg, send_flags, argc, argv, &i,
					      err, sizeof(err)),
			 1); /* a short alias is one more table line */
	assert_int_equal(i, 7);
	assert_int_equal(cfg->transfer.rate_bps, 1000000000);
	assert_int_equal(salvo_conf_take_flag(cfg, send_flags, argc, argv, &i,
					      err, sizeof(err)),
			 SALVO_ERR_INVAL);
	assert_string_equal(err, "--threads: transfer.threads: needs a value; "
				 "allowed: 1..64");
	assert_int_equal(cfg->transfer.block_size_bytes, 2 * MiB);
	assert_string_equal(cfg->origin[SALVO_CONF_TRANSFER_RATE].name, "-r");
	salvo_conf_del(cfg);
}

static void test_every_key_has_a_flag(void **state)
{
	static const char *const flags[][2] = {
	    {"--port", "7500"},
	    {"--bind", "127.0.0.1"},
	    {"--mtu", "9000"},
	    {"--datagram", "1400"},
	    {"--send-sockets", "2"},
	    {"--recv-sockets", "4"},
	    {"--sndbuf", "1MiB"},
	    {"--rcvbuf", "2MiB"},
	    {"--batch", "64"},
	    {"--offload", "off"},
	    {"--block-size", "1MiB"},
	    {"--threads", "7"},
	    {"--rate", "2gbit"},
	    {"--min-rate", "1mbit"},
	    {"--rate-policy", "fixed"},
	    {"--timeout", "3s"},
	    {"--links", "follow"},
	    {"--include", "*.mov"},
	    {"--exclude", ".git"},
	    {"--compress", "lz4"},
	    {"--memory", "7MiB"},
	    {"--fudge", "5"},
	    {"--bandwidth", "1gbit"},
	    {"--rtt", "20ms"},
	    {"--loss", "1%"},
	    {"--root", "/r"},
	    {"--max-sessions", "3"},
	    {"--max-file-size", "1GiB"},
	    {"--memory-budget", "8MiB"},
	    {"--overwrite", "if-newer"}, /* send's (and watch's) */
	    {"--checksum", "x"},	 /* takes no value: x is left */
	    {"--idle-timeout", "1h"},
	    {"--verify", "paranoid"},
	    {"--partial-max-age", "48h"},
	    {"--log-level", "warn"},
	    {"--log-file", "/l"},
	    {"--log-format", "json"},
	    {"--events", "/e"},
	    {"--control", "/c"},
	    {"--key", "/k"},
	    {"--authorized-keys", "/ak"},
	    {"--known-hosts", "/kh"},
	    {"--receiver-key", "/rx.pub"},
	    {"--allow-anonymous", "x"}, /* takes no value: x is left */
	    {"--anonymous=true", "x"},
	};
	struct salvo_config *cfg = salvo_conf_new();
	char err[512];
	(void)state;
	for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
		char *argv[] = {"x", (char *)flags[f][0], (char *)flags[f][1]};
		int i = 1;
		if (salvo_conf_take_flag(cfg, &salvo_conf_cmd_all, 3, argv, &i,
					 err, sizeof(err)) != 1)
			fail_msg("%s %s: %s", flags[f][0], flags[f][1], err);
	}
	/* recv's --overwrite is another key than send's */
	{
		char *argv[] = {"x", "--overwrite", "replace"};
		int i = 1;
		if (salvo_conf_take_flag(cfg, &salvo_conf_cmd_recv, 3, argv, &i,
					 err, sizeof(err)) != 1)
			fail_msg("recv --overwrite replace: %s", err);
		assert_int_equal(cfg->receiver.overwrite,
				 SALVO_OVERWRITE_REPLACE);
		assert_int_equal(cfg->transfer.overwrite, SALVO_SEND_IF_NEWER);
	}
	for (int k = 0; k < SALVO_CONF_HOTFOLDERS; k++)
		if (cfg->origin[k].source != SALVO_CONF_FROM_FLAG)
			fail_msg("key %d has no flag", k);
	salvo_conf_del(cfg);
}

/* The JSON an engine prints with --json (salvo_conf_write). */
static char *json_of(const struct salvo_config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	assert_non_null(m);
	assert_int_equal(salvo_conf_write(cfg, m, 1), 0);
	fclose(m);
	return text;
}

/* What send does: argv -> layers -> flags -> finish -> engine options. */
static void test_yaml_then_flag_reach_engine(void **state)
{
	char path[] = "/tmp/salvo-flags-XXXXXX";
	char cfgarg[64], *rest[8], *json;
	int fd = mkstemp(path), nrest;
	struct salvo_conf_paths paths = {NULL, NULL, NULL};
	struct salvo_conf_diag d;
	struct salvo_config *cfg;
	(void)state;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "transfer:\n  block_size: 8MiB\n", 29), 29);
	close(fd);
	snprintf(cfgarg, sizeof(cfgarg), "--config=%s", path);

	/* YAML alone */
	char *argv1[] = {"send", cfgarg, "file.bin"};
	cfg = salvo_conf_new();
	salvo_conf_diag_init(&d);
	assert_int_equal(salvo_conf_from_args(cfg, &paths, send_flags, 3, argv1,
					      rest, &nrest, &d),
			 0);
	assert_int_equal(salvo_conf_finish(cfg, &d), 0);
	assert_int_equal(nrest, 1);
	assert_string_equal(rest[0], "file.bin");
	json = json_of(cfg);
	assert_non_null(strstr(json, "\"block_size_bytes\": 8388608"));
	char want[128];
	snprintf(want, sizeof(want), "\"transfer.block_size\": \"%s:2:15\"",
		 path);
	assert_non_null(strstr(json, want));
	free(json);
	salvo_send_opts o;
	assert_int_equal(salvo_conf_send_opts(cfg, &o, want, sizeof(want)), 0);
	assert_int_equal(o.block_bytes, 8 * MiB);
	salvo_conf_del(cfg);

	/* the flag overrides it, wherever it stands */
	char *argv2[] = {"send",     "--block-size", "16MiB", "file.bin",
			 "--config", path,	     "--json"};
	cfg = salvo_conf_new();
	salvo_conf_diag_init(&d);
	assert_int_equal(salvo_conf_from_args(cfg, &paths, send_flags, 7, argv2,
					      rest, &nrest, &d),
			 0);
	assert_int_equal(salvo_conf_finish(cfg, &d), 0);
	assert_int_equal(nrest, 2);
	assert_string_equal(rest[1], "--json");
	assert_int_equal(cfg->transfer.block_size_bytes, 16 * MiB);
	json = json_of(cfg);
	assert_non_null(strstr(json, "\"block_size_bytes\": 16777216"));
	assert_non_null(
	    strstr(json, "\"transfer.block_size\": \"--block-size\""));
	/* memory.budget follows what the engine will use */
	assert_non_null(strstr(json, "\"budget_bytes\": 83886080"));
	free(json);
	assert_int_equal(salvo_conf_send_opts(cfg, &o, want, sizeof(want)), 0);
	assert_int_equal(o.block_bytes, 16 * MiB);
	salvo_conf_del(cfg);

	/* a bad flag value is reported with the others, not defaulted */
	char *argv3[] = {"send", "--threads", "99", "--rate", "x", cfgarg};
	cfg = salvo_conf_new();
	salvo_conf_diag_init(&d);
	assert_int_equal(salvo_conf_from_args(cfg, &paths, send_flags, 6, argv3,
					      rest, &nrest, &d),
			 SALVO_ERR_INVAL);
	assert_int_equal(d.count, 2);
	assert_string_equal(
	    d.text,
	    "--threads: transfer.threads: '99' is out of range; allowed: "
	    "1..64\n"
	    "--rate: transfer.rate: bad rate 'x': expected a number with a "
	    "unit; allowed: bit, kbit, mbit, gbit, tbit, Mbps, Gbps, B/s, "
	    "KB/s, MB/s, GB/s, KiB/s, MiB/s, GiB/s (e.g. 200mbit), or none\n");
	assert_int_equal(nrest, 0);
	salvo_conf_del(cfg);
	unlink(path);
}

static void test_new_from_args(void **state)
{
	char *argv[] = {"show", "--port", "7600", "--json", "--config"};
	struct salvo_conf_diag d;
	struct salvo_config *cfg;
	char **rest;
	int nrest;
	(void)state;
	setenv("SALVO_SYSCONFDIR", "/nonexistent", 1);
	setenv("SALVO_NO_USER_CONFIG", "1", 1);
	salvo_conf_diag_init(&d);
	cfg = salvo_conf_new_from_args(&salvo_conf_cmd_all, 5, argv, &rest,
				       &nrest, &d);
	assert_non_null(cfg);
	assert_int_equal(cfg->network.port, 7600);
	assert_int_equal(nrest, 1);
	assert_string_equal(rest[0], "--json");
	assert_string_equal(d.text, "--config: needs a file name\n");
	free(rest);
	salvo_conf_del(cfg);
}

/* Another command's flag and an old spelling are refused, by name. */
static void test_refused_flags(void **state)
{
	struct salvo_config *cfg = salvo_conf_new();
	char *mtu[] = {"recv", "--mtu", "9000"};
	char *dest[] = {"send", "--dest=x"};
	char *ddir[] = {"watch", "--dest-dir", "x"};
	char *prof[] = {"watch", "--settle", "1s"};
	char err[512];
	int i = 1;
	(void)state;
	assert_int_equal(salvo_conf_take_flag(cfg, &salvo_conf_cmd_recv, 3, mtu,
					      &i, err, sizeof(err)),
			 SALVO_ERR_INVAL);
	assert_string_equal(err, "--mtu: network.mtu is a setting of salvo "
				 "send, watch and plan; salvo recv does not "
				 "take it");
	i = 1;
	assert_int_equal(salvo_conf_take_flag(cfg, send_flags, 2, dest, &i, err,
					      sizeof(err)),
			 SALVO_ERR_INVAL);
	assert_string_equal(err, "--dest: renamed; allowed: --remote-dir (the "
				 "same value)");
	i = 1;
	assert_int_equal(salvo_conf_take_flag(cfg, &salvo_conf_cmd_watch, 3,
					      ddir, &i, err, sizeof(err)),
			 SALVO_ERR_INVAL);
	assert_string_equal(err, "--dest-dir: renamed; allowed: --remote-dir "
				 "(the same value)");
	/* a profile flag is left for the profile */
	i = 1;
	assert_int_equal(salvo_conf_take_flag(cfg, &salvo_conf_cmd_watch, 3,
					      prof, &i, err, sizeof(err)),
			 0);
	assert_int_equal(i, 1);
	salvo_conf_del(cfg);
}

/* A true/false flag alone means true and takes no value, so the next
 * argument stays an argument; a value needs '='. */
static void test_bool_flags(void **state)
{
	struct salvo_conf_paths paths = {NULL, NULL, NULL};
	char *ok[] = {"recv", "--allow-anonymous", "--port", "7001", "rest"};
	char *off[] = {"recv", "--allow-anonymous=false"};
	char *bad[] = {"recv", "--allow-anonymous=maybe"};
	char *other[] = {"send", "--allow-anonymous", "kept"};
	char *rest[8];
	struct salvo_conf_diag d;
	struct salvo_config *cfg;
	int nrest;
	(void)state;

	cfg = salvo_conf_new();
	salvo_conf_diag_init(&d);
	assert_int_equal(salvo_conf_from_args(cfg, &paths, &salvo_conf_cmd_recv,
					      5, ok, rest, &nrest, &d),
			 0);
	assert_int_equal(cfg->security.allow_anonymous, 1);
	assert_int_equal(cfg->network.port, 7001);
	assert_int_equal(nrest, 1);
	assert_string_equal(rest[0], "rest");
	assert_int_equal(salvo_conf_from_args(cfg, &paths, &salvo_conf_cmd_recv,
					      2, off, rest, &nrest, &d),
			 0);
	assert_int_equal(cfg->security.allow_anonymous, 0);
	assert_int_equal(salvo_conf_from_args(cfg, &paths, &salvo_conf_cmd_recv,
					      2, bad, rest, &nrest, &d),
			 SALVO_ERR_INVAL);
	assert_string_equal(d.text, "--allow-anonymous: "
				    "security.allow_anonymous: 'maybe' is not "
				    "true or false; allowed: true or false\n");
	/* another command's true/false flag is refused without eating the
	 * argument after it */
	salvo_conf_diag_init(&d);
	assert_int_equal(salvo_conf_from_args(cfg, &paths, &salvo_conf_cmd_send,
					      3, other, rest, &nrest, &d),
			 SALVO_ERR_INVAL);
	assert_string_equal(d.text,
			    "--allow-anonymous: "
			    "security.allow_anonymous is a setting of "
			    "salvo recv; salvo send does not take it\n");
	assert_int_equal(nrest, 1);
	assert_string_equal(rest[0], "kept");
	salvo_conf_del(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_set_flag),
	    cmocka_unit_test(test_take_flag_forms),
	    cmocka_unit_test(test_every_key_has_a_flag),
	    cmocka_unit_test(test_yaml_then_flag_reach_engine),
	    cmocka_unit_test(test_new_from_args),
	    cmocka_unit_test(test_refused_flags),
	    cmocka_unit_test(test_bool_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
