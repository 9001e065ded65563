/*
 * Loading: every key from YAML into its field, the layers in precedence
 * order with the source of each value, auto-sizing from link hints or a
 * budget, and `config show` output that loads back to the same values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/core/error.h"
#include "conf/config.h"
#include "conf/keys.h" /* the key table, to check the docs */

#define MiB (1024ULL * 1024)
#define SEC 1000000000ULL

#define RXKEY "salvo-x25519 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= rx"

static const char every_key[] = "network:\n"
				"  port: 7500\n"
				"  bind: \"::1\"\n"
				"  mtu: 9000\n"
				"  datagram: 8000\n"
				"  send_sockets: 8\n"
				"  recv_sockets: 3\n"
				"  sndbuf: 16MiB\n"
				"  rcvbuf: 32MiB\n"
				"  batch: 64\n"
				"  offload: off\n"
				"transfer:\n"
				"  block_size: 8MiB\n"
				"  threads: 6\n"
				"  rate: 500mbit\n"
				"  min_rate: 50mbit\n"
				"  rate_policy: fixed\n"
				"  timeout: 30s\n"
				"  links: follow\n"
				"  include: [\"*.mov\", \"*.mxf\"]\n"
				"  exclude: .git\n"
				"  overwrite: if-newer\n"
				"  checksum: true\n"
				"  compression: off\n"
				"  control: /run/salvo.ctl\n"
				"memory:\n"
				"  budget: 64MiB\n"
				"  fudge: 4.5\n"
				"link:\n"
				"  bandwidth: 300mbit\n"
				"  rtt: 150ms\n"
				"  loss: 0.5%\n"
				"receiver:\n"
				"  root: /srv/salvo\n"
				"  max_sessions: 16\n"
				"  max_file_size: 1TiB\n"
				"  memory_budget: 64MiB\n"
				"  overwrite: rename\n"
				"  idle_timeout: 5min\n"
				"  partial_max_age: 48h\n"
				"  verify: paranoid\n"
				"logging:\n"
				"  level: debug\n"
				"  file: /var/log/salvo.log\n"
				"  format: json\n"
				"  events: /var/log/ev.jsonl\n"
				"hotfolders:\n"
				"  - name: media\n"
				"    dir: /in/media\n"
				"    host: \"rx.example.com:7401\"\n"
				"    remote_dir: incoming\n"
				"    include: [\"*.mxf\", \"*.mov\"]\n"
				"    exclude: \"*.part\"\n"
				"    settle: 5s\n"
				"    post_action: move\n"
				"    move_to: /in/sent\n"
				"    max_sessions: 4\n"
				"    retry_min: 2s\n"
				"    retry_max: 10min\n"
				"  - name: v6\n"
				"    dir: /in/v6\n"
				"    host: \"[2001:db8::1]:9000\"\n"
				"    post_action: delete\n"
				"    key: /etc/salvo/v6.key\n"
				"    receiver_key: /etc/salvo/rx-v6.pub\n"
				"    checksum: false\n"
				"security:\n"
				"  key: /etc/salvo/k\n"
				"  authorized_keys: /etc/salvo/ak\n"
				"  known_hosts: /etc/salvo/kh\n"
				"  receiver_key: \"" RXKEY "\"\n"
				"  allow_anonymous: true\n"
				"  anonymous: yes\n";

static struct salvo_config *load(const char *yaml, int finish)
{
	struct salvo_config *cfg = salvo_conf_new();
	struct salvo_conf_diag d;
	assert_non_null(cfg);
	salvo_conf_diag_init(&d);
	if (salvo_conf_load_buffer(cfg, "t.yaml", yaml, strlen(yaml), &d) ||
	    (finish && salvo_conf_finish(cfg, &d)))
		fail_msg("unexpected errors:\n%s", d.text);
	return cfg;
}

static void test_defaults(void **state)
{
	struct salvo_config *cfg = salvo_conf_new();
	(void)state;
	assert_non_null(cfg);
	assert_int_equal(cfg->network.port, 7400);
	assert_string_equal(cfg->network.bind_addr, "0.0.0.0");
	assert_int_equal(cfg->network.mtu_bytes, 1500);
	assert_int_equal(cfg->network.datagram_bytes, SALVO_CONF_AUTO);
	assert_int_equal(cfg->network.send_sockets, 4);
	assert_int_equal(cfg->network.recv_sockets, 2);
	assert_int_equal(cfg->network.batch, 32);
	assert_int_equal(cfg->network.offload, SALVO_OFFLOAD_AUTO);
	assert_int_equal(cfg->transfer.block_size_bytes, 4 * MiB);
	assert_int_equal(cfg->transfer.threads, 5);
	assert_int_equal(cfg->transfer.rate_bps, 0); /* none: no ceiling */
	assert_int_equal(cfg->transfer.min_rate_bps, 0);
	assert_int_equal(cfg->transfer.rate_policy, SALVO_RATE_FAIR);
	assert_int_equal(cfg->transfer.timeout_ns, 10 * SEC);
	assert_int_equal(cfg->transfer.compression, SALVO_COMPRESS_AUTO);
	assert_int_equal(cfg->memory.budget_bytes, SALVO_CONF_AUTO);
	assert_int_equal(cfg->receiver.max_sessions, 64);
	assert_int_equal(cfg->receiver.overwrite, SALVO_OVERWRITE_NEVER);
	assert_int_equal(cfg->receiver.idle_timeout_ns, 60 * SEC);
	assert_string_equal(cfg->receiver.root_dir, ".");
	assert_int_equal(cfg->logging.level, SALVO_LOG_INFO);
	assert_string_equal(cfg->logging.file, "stderr");
	assert_int_equal(cfg->n_hotfolders, 0);
	for (int k = 0; k < SALVO_CONF_NKEYS; k++)
		assert_int_equal(salvo_conf_origin_of(cfg, k)->source,
				 SALVO_CONF_FROM_DEFAULT);
	salvo_conf_del(cfg);
	salvo_conf_del(NULL);
}

static void test_every_key(void **state)
{
	struct salvo_config *cfg = load(every_key, 1);
	const struct salvo_hotfolder *hf;
	(void)state;
	assert_int_equal(cfg->network.port, 7500);
	assert_string_equal(cfg->network.bind_addr, "::1");
	assert_int_equal(cfg->network.mtu_bytes, 9000);
	assert_int_equal(cfg->network.datagram_bytes, 8000);
	assert_int_equal(cfg->network.send_sockets, 8);
	assert_int_equal(cfg->network.recv_sockets, 3);
	assert_int_equal(cfg->network.sndbuf_bytes, 16 * MiB);
	assert_int_equal(cfg->network.rcvbuf_bytes, 32 * MiB);
	assert_int_equal(cfg->network.batch, 64);
	assert_int_equal(cfg->network.offload, SALVO_OFFLOAD_OFF);
	assert_int_equal(cfg->transfer.block_size_bytes, 8 * MiB);
	assert_int_equal(cfg->transfer.overwrite, SALVO_SEND_IF_NEWER);
	assert_int_equal(cfg->transfer.checksum, 1);
	assert_string_equal(cfg->transfer.control, "/run/salvo.ctl");
	assert_int_equal(cfg->transfer.threads, 6);
	assert_int_equal(cfg->transfer.rate_bps, 500000000);
	assert_int_equal(cfg->transfer.min_rate_bps, 50000000);
	assert_int_equal(cfg->transfer.rate_policy, SALVO_RATE_FIXED);
	assert_int_equal(cfg->transfer.timeout_ns, 30 * SEC);
	assert_int_equal(cfg->transfer.links, SALVO_LINKS_FOLLOW);
	assert_int_equal(cfg->transfer.include.n, 2);
	assert_string_equal(cfg->transfer.include.v[1], "*.mxf");
	assert_int_equal(cfg->transfer.exclude.n, 1);
	assert_string_equal(cfg->transfer.exclude.v[0], ".git");
	assert_int_equal(cfg->transfer.compression, SALVO_COMPRESS_OFF);
	assert_int_equal(cfg->memory.budget_bytes, 64 * MiB);
	assert_int_equal(cfg->memory.fudge_milli, 4500);
	assert_int_equal(cfg->link.bandwidth_bps, 300000000);
	assert_int_equal(cfg->link.rtt_ns, 150000000);
	assert_int_equal(cfg->link.loss_ppm, 5000);
	assert_string_equal(cfg->receiver.root_dir, "/srv/salvo");
	assert_int_equal(cfg->receiver.max_sessions, 16);
	assert_int_equal(cfg->receiver.max_file_size_bytes, 1024 * 1024 * MiB);
	assert_int_equal(cfg->receiver.memory_budget_bytes, 64 * MiB);
	assert_int_equal(cfg->receiver.overwrite, SALVO_OVERWRITE_RENAME);
	assert_int_equal(cfg->receiver.idle_timeout_ns, 300 * SEC);
	assert_int_equal(cfg->receiver.partial_max_age_ns, 48 * 3600 * SEC);
	assert_int_equal(cfg->receiver.verify, SALVO_VERIFY_PARANOID);
	assert_int_equal(cfg->logging.level, SALVO_LOG_DEBUG);
	assert_string_equal(cfg->logging.file, "/var/log/salvo.log");
	assert_int_equal(cfg->logging.format, SALVO_LOG_JSON);
	assert_string_equal(cfg->security.key, "/etc/salvo/k");
	assert_string_equal(cfg->security.authorized_keys, "/etc/salvo/ak");
	assert_string_equal(cfg->security.known_hosts, "/etc/salvo/kh");
	assert_string_equal(cfg->security.receiver_key, RXKEY);
	assert_int_equal(cfg->security.allow_anonymous, 1);
	assert_int_equal(cfg->security.anonymous, 1);

	assert_int_equal(cfg->n_hotfolders, 2);
	hf = &cfg->hotfolders[0];
	assert_string_equal(hf->name, "media");
	assert_string_equal(hf->dir, "/in/media");
	assert_string_equal(hf->host, "rx.example.com");
	assert_int_equal(hf->port, 7401);
	assert_string_equal(hf->remote_dir, "incoming");
	assert_int_equal(hf->include.n, 2);
	assert_string_equal(hf->include.v[0], "*.mxf");
	assert_string_equal(hf->include.v[1], "*.mov");
	assert_int_equal(hf->exclude.n, 1);
	assert_string_equal(hf->exclude.v[0], "*.part");
	assert_int_equal(hf->settle_ns, 5 * SEC);
	assert_int_equal(hf->post_action, SALVO_POST_MOVE);
	assert_string_equal(hf->move_to, "/in/sent");
	assert_int_equal(hf->max_sessions, 4);
	assert_int_equal(hf->retry_min_ns, 2 * SEC);
	assert_int_equal(hf->retry_max_ns, 600 * SEC);
	assert_int_equal(hf->origin.line, 48);
	hf = &cfg->hotfolders[1];
	assert_string_equal(hf->host, "2001:db8::1");
	assert_int_equal(hf->port, 9000);
	assert_int_equal(hf->post_action, SALVO_POST_DELETE);
	assert_int_equal(hf->settle_ns, 2 * SEC); /* profile defaults */
	assert_int_equal(hf->max_sessions, 2);
	assert_int_equal(hf->include.n, 0);
	assert_string_equal(hf->remote_dir, "");
	assert_string_equal(hf->key, "/etc/salvo/v6.key");
	assert_string_equal(hf->receiver_key, "/etc/salvo/rx-v6.pub");
	assert_int_equal(hf->checksum, 1);		  /* false: 1 + 0 */
	assert_int_equal(cfg->hotfolders[0].checksum, 0); /* default */
	assert_null(cfg->hotfolders[0].key); /* default: security.key */
	assert_null(cfg->hotfolders[0].receiver_key);
	assert_ptr_equal(hf->cfg, cfg);

	/* every key came from the file, at its line and column */
	for (int k = 0; k < SALVO_CONF_NKEYS; k++) {
		const struct salvo_conf_origin *o =
		    salvo_conf_origin_of(cfg, k);
		assert_int_equal(o->source, SALVO_CONF_FROM_FILE);
		assert_string_equal(o->name, "t.yaml");
	}
	assert_int_equal(cfg->origin[SALVO_CONF_NETWORK_PORT].line, 2);
	assert_int_equal(cfg->origin[SALVO_CONF_NETWORK_PORT].col, 9);
	assert_int_equal(cfg->origin[SALVO_CONF_LOGGING_FORMAT].line, 45);
	assert_string_equal(cfg->logging.events, "/var/log/ev.jsonl");
	salvo_conf_del(cfg);
}

static void test_shorthand_and_empty(void **state)
{
	struct salvo_config *cfg = load("memory: 32MiB\nnetwork:\n", 0);
	(void)state;
	assert_int_equal(cfg->memory.budget_bytes, 32 * MiB);
	salvo_conf_del(cfg);
	cfg = load("memory: auto\n", 0);
	assert_int_equal(cfg->memory.budget_bytes, SALVO_CONF_AUTO);
	assert_int_equal(cfg->origin[SALVO_CONF_MEMORY_BUDGET].source,
			 SALVO_CONF_FROM_FILE);
	salvo_conf_del(cfg);
	cfg = load("# only a comment\n", 1);
	assert_int_equal(cfg->transfer.threads, 5);
	salvo_conf_del(cfg);
	cfg = load("", 1);
	salvo_conf_del(cfg);
}

static const char *auto_why(const struct salvo_config *cfg,
			    enum salvo_conf_key k)
{
	const struct salvo_conf_origin *o = salvo_conf_origin_of(cfg, k);
	assert_int_equal(o->source, SALVO_CONF_FROM_AUTO);
	return o->name;
}

static void test_autosize(void **state)
{
	struct salvo_config *cfg;
	(void)state;
	/* no hints: defaults stand, budget is what they use */
	cfg = load("", 1);
	/* auto stays 0: the sender derives it from the MTU and the family */
	assert_int_equal(cfg->network.datagram_bytes, SALVO_CONF_AUTO);
	assert_int_equal(cfg->memory.budget_bytes, 20 * MiB);
	assert_int_equal(cfg->network.sndbuf_bytes, 8 * MiB);
	assert_string_equal(auto_why(cfg, SALVO_CONF_NETWORK_SNDBUF),
			    "no link hints: 8MiB");
	salvo_conf_del(cfg);

	/* memory: auto with link hints: the plan sizes everything */
	cfg = load("memory: auto\nlink: {bandwidth: 1gbit, rtt: 100ms, "
		   "loss: 1%}\nnetwork: {mtu: 9000}\n",
		   1);
	/* 1e9 x 0.1 / 8 = 12.5 MB; fudge at 1 %: 3.368 -> 42.1 MB */
	assert_int_equal(cfg->transfer.block_size_bytes, 8 * MiB);
	assert_int_equal(cfg->transfer.threads, 6);
	assert_int_equal(cfg->network.sndbuf_bytes, 4 * MiB);
	assert_int_equal(cfg->network.rcvbuf_bytes, 8 * MiB);
	assert_int_equal(cfg->network.datagram_bytes, SALVO_CONF_AUTO);
	assert_int_equal(cfg->memory.budget_bytes, 48 * MiB);
	assert_string_equal(auto_why(cfg, SALVO_CONF_TRANSFER_THREADS),
			    "plan: 1gbit x 100ms, fudge 3.368");
	salvo_conf_del(cfg);

	/* a block size the user set stays; threads cover the plan */
	cfg = load("link: {bandwidth: 300mbit, rtt: 150ms}\n"
		   "transfer: {block_size: 2MiB}\n",
		   1);
	assert_int_equal(cfg->transfer.block_size_bytes, 2 * MiB);
	assert_int_equal(cfg->transfer.threads, 9); /* 16.875 MB / 2 MiB */
	salvo_conf_del(cfg);

	/* threads set: the block grows to cover */
	cfg = load("link: {bandwidth: 300mbit, rtt: 150ms}\n"
		   "transfer: {threads: 2}\n",
		   1);
	assert_int_equal(cfg->transfer.block_size_bytes, 16 * MiB);
	salvo_conf_del(cfg);

	/* an explicit budget is a ceiling */
	cfg = load("memory: 20MB\n", 1);
	assert_int_equal(cfg->transfer.block_size_bytes, 2 * MiB);
	assert_int_equal(cfg->transfer.threads, 9);
	assert_string_equal(auto_why(cfg, SALVO_CONF_TRANSFER_BLOCK_SIZE),
			    "fits memory.budget");
	assert_int_equal(cfg->origin[SALVO_CONF_MEMORY_BUDGET].source,
			 SALVO_CONF_FROM_FILE);
	salvo_conf_del(cfg);
	cfg = load("memory: 64MiB\ntransfer: {block_size: 16MiB}\n", 1);
	assert_int_equal(cfg->transfer.threads, 4);
	salvo_conf_del(cfg);
}

/* The JSON values (sources cut off) of a config. */
static char *json_values(const struct salvo_config *cfg)
{
	char *text = NULL, *cut;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	assert_non_null(m);
	assert_int_equal(salvo_conf_write(cfg, m, 1), 0);
	fclose(m);
	assert_non_null(cut = strstr(text, ", \"sources\""));
	*cut = '\0';
	return text;
}

/* Writes cfg as YAML, loads that back, and checks the values match;
 * returns the YAML (the caller frees it). */
static char *assert_round_trip(const struct salvo_config *cfg)
{
	struct salvo_config *again;
	char *yaml = NULL, *a, *b;
	size_t len = 0;
	FILE *m = open_memstream(&yaml, &len);

	assert_non_null(m);
	assert_int_equal(salvo_conf_write(cfg, m, 0), 0);
	fclose(m);
	again = load(yaml, 1);
	a = json_values(cfg);
	b = json_values(again);
	assert_string_equal(a, b);
	free(a);
	free(b);
	salvo_conf_del(again);
	return yaml;
}

static void test_show_round_trip(void **state)
{
	struct salvo_config *cfg = load(every_key, 1);
	char *yaml = assert_round_trip(cfg), *json = json_values(cfg);
	(void)state;
	assert_non_null(strstr(yaml, "  port: 7500"));
	assert_non_null(strstr(yaml, "# t.yaml:2:9\n"));
	assert_non_null(strstr(yaml, "  block_size: 8MiB"));
	assert_non_null(strstr(yaml, "    include: [\"*.mxf\", \"*.mov\"]\n"));
	assert_non_null(strstr(json, "\"block_size_bytes\": 8388608"));
	assert_non_null(strstr(json, "\"host\": \"rx.example.com:7401\""));
	assert_non_null(strstr(json, "\"host\": \"[2001:db8::1]:9000\""));
	free(json);
	free(yaml);
	salvo_conf_del(cfg);

	/* the defaults, finished, round-trip too */
	cfg = load("", 1);
	yaml = assert_round_trip(cfg);
	assert_non_null(strstr(yaml, "datagram: auto"));
	assert_non_null(strstr(yaml, "# auto (no link hints: 8MiB)\n"));
	free(yaml);
	salvo_conf_del(cfg);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_layers_precedence(void **state)
{
	char root[] = "/tmp/salvo-conf-XXXXXX", p[6][128];
	struct salvo_conf_paths paths;
	struct salvo_conf_diag d;
	struct salvo_config *cfg;
	char buf[1024];
	(void)state;

	assert_non_null(mkdtemp(root));
	snprintf(p[0], sizeof(p[0]), "%s/etc/salvo", root);
	snprintf(p[1], sizeof(p[1]), "%s/home/.config/salvo", root);
	snprintf(p[2], sizeof(p[2]), "%s/etc/salvo/salvo.yaml", root);
	snprintf(p[3], sizeof(p[3]), "%s/home/.config/salvo/salvo.yaml", root);
	snprintf(p[4], sizeof(p[4]), "%s/cli.yaml", root);
	snprintf(buf, sizeof(buf), "mkdir -p %s %s", p[0], p[1]);
	assert_int_equal(system(buf), 0);
	write_file(p[2],
		   "transfer: {threads: 2, rate: 100mbit}\n"
		   "network: {port: 7001}\nreceiver: {root: /etc-root}\n");
	write_file(p[3], "transfer: {threads: 3}\nnetwork: {port: 7002}\n");
	write_file(p[4], "transfer: {threads: 4}\n");

	snprintf(p[0], sizeof(p[0]), "%s/etc", root);
	snprintf(p[1], sizeof(p[1]), "%s/home", root);
	paths.sysconfdir = p[0];
	paths.home = p[1];
	paths.config_file = p[4];
	cfg = salvo_conf_new();
	salvo_conf_diag_init(&d);
	assert_int_equal(salvo_conf_load_layers(cfg, &paths, &d), 0);
	assert_int_equal(cfg->transfer.threads, 4);
	assert_string_equal(cfg->origin[SALVO_CONF_TRANSFER_THREADS].name,
			    p[4]);
	assert_int_equal(cfg->network.port, 7002);
	assert_string_equal(cfg->origin[SALVO_CONF_NETWORK_PORT].name, p[3]);
	assert_int_equal(cfg->transfer.rate_bps, 100000000);
	assert_string_equal(cfg->origin[SALVO_CONF_TRANSFER_RATE].name, p[2]);
	assert_string_equal(cfg->receiver.root_dir, "/etc-root");
	assert_int_equal(cfg->origin[SALVO_CONF_TRANSFER_TIMEOUT].source,
			 SALVO_CONF_FROM_DEFAULT);
	assert_int_equal(salvo_conf_set_flag(cfg, "transfer.threads", "6",
					     "--threads", buf, sizeof(buf)),
			 0);
	assert_int_equal(cfg->transfer.threads, 6);
	assert_string_equal(
	    salvo_conf_origin_format(&cfg->origin[SALVO_CONF_TRANSFER_THREADS],
				     buf, sizeof(buf)),
	    "--threads");
	salvo_conf_del(cfg);

	/* a missing --config file is an error; missing layers are not */
	paths.config_file = "/nonexistent/salvo.yaml";
	paths.home = "/nonexistent";
	cfg = salvo_conf_new();
	salvo_conf_diag_init(&d);
	assert_int_equal(salvo_conf_load_layers(cfg, &paths, &d),
			 SALVO_ERR_INVAL);
	assert_string_equal(d.text, "/nonexistent/salvo.yaml: cannot open: "
				    "No such file or directory\n");
	assert_int_equal(cfg->transfer.threads, 2); /* /etc still loaded */
	salvo_conf_del(cfg);

	snprintf(buf, sizeof(buf), "rm -rf %s", root);
	assert_int_equal(system(buf), 0);
}

static void test_paths_from_env(void **state)
{
	struct salvo_conf_paths paths;
	(void)state;
	setenv("SALVO_SYSCONFDIR", "/opt/etc", 1);
	setenv("HOME", "/home/x", 1);
	unsetenv("SALVO_NO_USER_CONFIG");
	salvo_conf_paths_from_env(&paths);
	assert_string_equal(paths.sysconfdir, "/opt/etc");
	assert_string_equal(paths.home, "/home/x");
	assert_null(paths.config_file);
	setenv("SALVO_NO_USER_CONFIG", "1", 1);
	unsetenv("SALVO_SYSCONFDIR");
	salvo_conf_paths_from_env(&paths);
	assert_string_equal(paths.sysconfdir, "/etc");
	assert_null(paths.home);
	/* keys are not settings: $HOME locates them all the same */
	assert_string_equal(paths.user_home, "/home/x");
	assert_int_equal(paths.root, geteuid() == 0);
}

/* The key files left to "auto": the key in the key folder (root:
 * SYSCONFDIR/salvo, else ~/.config/salvo), its companions next to it
 * wherever it is, each with an AUTO origin; without a folder they stay
 * auto (shown as such) for the command to report. */
static void test_key_files_auto(void **state)
{
	struct salvo_conf_paths paths = {"/opt/etc", NULL, NULL, "/home/x", 0};
	struct salvo_conf_diag d;
	struct salvo_config *cfg;
	char buf[256];
	(void)state;

	cfg = salvo_conf_new();
	assert_int_equal(salvo_conf_set_key_dir(cfg, &paths), 0);
	salvo_conf_diag_init(&d);
	assert_int_equal(salvo_conf_finish(cfg, &d), 0);
	assert_string_equal(cfg->security.key, "/home/x/.config/salvo/key");
	assert_string_equal(auto_why(cfg, SALVO_CONF_SECURITY_KEY),
			    "~/.config/salvo");
	assert_string_equal(cfg->security.authorized_keys,
			    "/home/x/.config/salvo/authorized_keys");
	assert_string_equal(cfg->security.known_hosts,
			    "/home/x/.config/salvo/known_hosts");
	assert_string_equal(auto_why(cfg, SALVO_CONF_SECURITY_KNOWN_HOSTS),
			    "~/.config/salvo");
	assert_string_equal(auto_why(cfg, SALVO_CONF_SECURITY_AUTHORIZED_KEYS),
			    "next to security.key");
	assert_null(cfg->security.receiver_key);
	salvo_conf_del(cfg);

	paths.root = 1; /* root keeps them with the system configuration */
	cfg = load("security: {key: /srv/k/rx.key, known_hosts: kh}\n", 0);
	assert_int_equal(salvo_conf_set_key_dir(cfg, &paths), 0);
	assert_int_equal(salvo_conf_finish(cfg, &d), 0);
	assert_string_equal(cfg->key_dir, "/opt/etc/salvo");
	assert_string_equal(cfg->security.key, "/srv/k/rx.key");
	assert_string_equal(cfg->security.authorized_keys,
			    "/srv/k/authorized_keys");
	assert_string_equal(cfg->security.known_hosts, "kh");
	assert_int_equal(cfg->origin[SALVO_CONF_SECURITY_KNOWN_HOSTS].source,
			 SALVO_CONF_FROM_FILE);
	salvo_conf_del(cfg);
	cfg = salvo_conf_new();
	assert_int_equal(salvo_conf_set_key_dir(cfg, &paths), 0);
	assert_int_equal(salvo_conf_finish(cfg, &d), 0);
	assert_string_equal(cfg->security.key, "/opt/etc/salvo/key");
	assert_string_equal(auto_why(cfg, SALVO_CONF_SECURITY_KEY),
			    "root: SYSCONFDIR/salvo");
	salvo_conf_del(cfg);
	/* a sender with its own key keeps the user's known hosts */
	cfg = load("security: {key: /srv/k/tx.key}\n", 0);
	assert_int_equal(salvo_conf_set_key_dir(cfg, &paths), 0);
	assert_int_equal(salvo_conf_finish(cfg, &d), 0);
	assert_string_equal(cfg->security.known_hosts,
			    "/opt/etc/salvo/known_hosts");
	salvo_conf_del(cfg);

	/* no $HOME for a user: unresolved, shown as auto */
	paths.root = 0;
	paths.user_home = NULL;
	cfg = salvo_conf_new();
	assert_int_equal(salvo_conf_set_key_dir(cfg, &paths), 0);
	assert_int_equal(salvo_conf_finish(cfg, &d), 0);
	assert_null(cfg->security.key);
	assert_null(cfg->security.authorized_keys);
	assert_string_equal(
	    salvo_conf_key_format(&salvo_conf_keys[SALVO_CONF_SECURITY_KEY],
				  cfg, buf, sizeof(buf)),
	    "auto");
	salvo_conf_del(cfg);
}

/* conf/salvo.yaml sets every key to its default: it loads without an
 * error, names every key, and changes no value. */
static void test_example_file_is_the_defaults(void **state)
{
	struct salvo_config *ex = salvo_conf_new(), *def = salvo_conf_new();
	struct salvo_conf_diag d;
	char *a, *b;
	(void)state;
	salvo_conf_diag_init(&d);
	if (salvo_conf_load_file(ex, "conf/salvo.yaml", 1, &d) ||
	    salvo_conf_finish(ex, &d) || salvo_conf_finish(def, &d))
		fail_msg("%s", d.text);
	for (int k = 0; k < SALVO_CONF_NKEYS; k++) {
		const struct salvo_conf_origin *o = salvo_conf_origin_of(ex, k);
		if (o->source == SALVO_CONF_FROM_DEFAULT)
			fail_msg("conf/salvo.yaml lacks key %d", k);
	}
	a = json_values(ex);
	b = json_values(def);
	assert_string_equal(a, b);
	free(a);
	free(b);
	salvo_conf_del(ex);
	salvo_conf_del(def);
}

/* docs/CONFIG.md names every key and its flag (the key table is the
 * truth). */
static void test_docs_name_every_key(void **state)
{
	FILE *f = fopen("docs/CONFIG.md", "r");
	char *doc = calloc(1, 1 << 20), want[128];
	(void)state;
	assert_non_null(f);
	assert_non_null(doc);
	assert_true(fread(doc, 1, (1 << 20) - 1, f) > 0);
	fclose(f);
	for (int k = 0; k < SALVO_CONF_NKEYS; k++) {
		const struct salvo_conf_keydesc *d = &salvo_conf_keys[k];
		snprintf(want, sizeof(want), "`%s`", d->key);
		if (!strstr(doc, want))
			fail_msg("docs/CONFIG.md does not name %s", d->key);
		snprintf(want, sizeof(want), "`%s`", d->flag ? d->flag : "");
		if (d->flag && !strstr(doc, want))
			fail_msg("docs/CONFIG.md does not name %s", d->flag);
	}
	for (size_t k = 0; k < salvo_conf_n_profile_keys; k++) {
		snprintf(want, sizeof(want), "| `%s` |",
			 salvo_conf_profile_keys[k].key);
		if (!strstr(doc, want))
			fail_msg("docs/CONFIG.md does not name %s",
				 salvo_conf_profile_keys[k].key);
		snprintf(want, sizeof(want), "`%s`",
			 salvo_conf_profile_keys[k].flag
			     ? salvo_conf_profile_keys[k].flag
			     : "");
		if (salvo_conf_profile_keys[k].flag && !strstr(doc, want))
			fail_msg("docs/CONFIG.md does not name %s",
				 salvo_conf_profile_keys[k].flag);
	}
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_every_key),
	    cmocka_unit_test(test_shorthand_and_empty),
	    cmocka_unit_test(test_autosize),
	    cmocka_unit_test(test_show_round_trip),
	    cmocka_unit_test(test_layers_precedence),
	    cmocka_unit_test(test_paths_from_env),
	    cmocka_unit_test(test_key_files_auto),
	    cmocka_unit_test(test_example_file_is_the_defaults),
	    cmocka_unit_test(test_docs_name_every_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
