/*
 * Every key reaches the engine it configures.  For each key of the key
 * table the test sets a value other than the default, from YAML and from
 * the flag of every subcommand that takes it, and checks that the options
 * conf/engine_opts.c builds for that command's engine change: salvo send
 * (salvo_conf_send_opts), salvo recv (salvo_conf_recv_opts) and the
 * sessions of a hot-folder profile (salvo_conf_profile_send_opts, what
 * salvo watch runs).  A key that configures no engine must be listed below
 * as conf-only, with the reason (a key accepted by name but not built
 * yet would be refused by salvo_conf_finish: none is now); so a key
 * added later without a mapping fails here.  The original bug, `salvo watch
 * --rate-policy adaptive` accepted and ignored, has a test of its own.
 *
 * The security.* keys reach the options through the identity functions
 * the commands call beside them (salvo_conf_send_identity,
 * salvo_conf_recv_identity; a profile's come with its options), so build()
 * calls those too, on key files made in a scratch folder that the test
 * runs in: a key's bytes, the authorised senders, the receiver key and
 * where the pin callback pins are compared, not pointers.
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
#include "common/crypto/keyfile.h"
#include "conf/keys.h"
#include "tests/helpers/testdir.h"

/* A value other than the default, and what the key needs beside it. */
struct key_case {
	const char *key, *value;
	const char *base; /* YAML both runs start from, or NULL */
};

#define HINTS "link: {bandwidth: 100mbit, rtt: 100ms}\n"

static const struct key_case cases[] = {
    {"network.port", "7500", NULL},
    {"network.bind", "127.0.0.1", NULL},
    {"network.mtu", "9000", NULL},
    {"network.datagram", "1400", NULL},
    {"network.send_sockets", "2", NULL},
    {"network.recv_sockets", "4", NULL},
    {"network.sndbuf", "1MiB", NULL},
    {"network.rcvbuf", "2MiB", NULL},
    {"network.batch", "64", NULL},
    {"network.offload", "off", NULL},
    {"transfer.block_size", "1MiB", NULL},
    {"transfer.threads", "7", NULL},
    {"transfer.rate", "2gbit", NULL},
    {"transfer.min_rate", "1mbit", NULL},
    {"transfer.rate_policy", "adaptive", NULL},
    {"transfer.timeout", "3s", NULL},
    {"transfer.links", "follow", NULL},
    {"transfer.include", "report", NULL},
    {"transfer.exclude", "tmp", NULL},
    {"transfer.overwrite", "never", NULL},
    {"transfer.checksum", "true", NULL},
    {"transfer.compression", "off", NULL},
    {"memory.budget", "4MiB", NULL},
    {"memory.fudge", "5", HINTS},
    {"link.bandwidth", "1gbit", HINTS},
    {"link.rtt", "50ms", HINTS},
    {"link.loss", "5%", HINTS},
    {"receiver.root", "/srv/in", NULL},
    {"receiver.max_sessions", "3", NULL},
    {"receiver.max_file_size", "1GiB", NULL},
    {"receiver.memory_budget", "8MiB", NULL},
    {"receiver.overwrite", "replace", NULL},
    {"receiver.idle_timeout", "1h", NULL},
    {"receiver.partial_max_age", "48h", NULL},
    {"receiver.verify", "paranoid", NULL},
    {"logging.events", "ev.jsonl", NULL},
    /* the files below are made by setup() in the scratch folder */
    {"security.key", "other.key", NULL},
    {"security.authorized_keys", "ak1", NULL},
    {"security.known_hosts", "kh2", NULL},
    {"security.receiver_key", "rx.key.pub", NULL},
    {"security.allow_anonymous", "true", NULL},
    {"security.anonymous", "true", NULL},
};

/* Every config starts from this layer: the key files live in the
 * scratch folder, never in the machine's. */
#define SECURITY "security: {key: base.key, known_hosts: known_hosts}\n"

/* Keys that configure no engine option, and why. */
static const struct {
	const char *key, *why;
} conf_only[] = {
    {"logging.level", "the log sink's filter (common/io/logsink.h), made "
		      "by salvo_conf_logsink_new; tests/integ/log_*.sh"},
    {"logging.file", "where the log sink writes; tests/integ/log_*.sh"},
    {"logging.format", "the log sink's line format; tests/integ/log_*.sh"},
    {"hotfolders", "the profiles themselves; test_profile_keys below"},
    {"transfer.control", "the control socket the command serves around the "
			 "engine (sender/engine/ctl.h; the engine sees its "
			 "salvo_send_live); tests/integ/send_control.sh"},
};

/* Keys of salvo send alone: a hot-folder profile sends the files its
 * watcher picked, one by one, by its own include and exclude. */
static const char *const send_only[] = {"transfer.links", "transfer.include",
					"transfer.exclude"};

static int is_send_only(const char *key)
{
	for (size_t i = 0; i < sizeof(send_only) / sizeof(*send_only); i++)
		if (!strcmp(send_only[i], key))
			return 1;
	return 0;
}

#define PROFILE "hotfolders:\n  - {name: p, dir: /d, host: rx}\n"

struct built {
	salvo_send_opts send, watch;
	salvo_recv_opts recv;
	struct salvo_conf_pin pin; /* send's pin callback's */
	salvo_authkeys ak;	   /* recv's authorised senders */
};

/* The three engines' options from cfg (finished here), as the commands
 * build them; built_free after. */
static void build(struct salvo_config *cfg, struct built *b)
{
	struct salvo_conf_diag d;
	char err[1200];

	salvo_conf_diag_init(&d);
	if (salvo_conf_finish(cfg, &d))
		fail_msg("finish: %s", d.text);
	assert_int_equal(salvo_conf_send_opts(cfg, &b->send, err, sizeof(err)),
			 0);
	if (salvo_conf_send_identity(cfg, &b->send, &b->pin, err, sizeof(err)))
		fail_msg("send identity: %s", err);
	assert_int_equal(salvo_conf_recv_opts(cfg, &b->recv, err, sizeof(err)),
			 0);
	salvo_authkeys_init(&b->ak);
	if (salvo_conf_recv_identity(cfg, &b->recv, &b->ak, err, sizeof(err)))
		fail_msg("recv identity: %s", err);
	assert_int_equal(cfg->n_hotfolders, 1);
	if (salvo_conf_profile_send_opts(cfg, &cfg->hotfolders[0], &b->watch,
					 err, sizeof(err)))
		fail_msg("profile: %s", err);
}

static void built_free(struct built *b)
{
	salvo_authkeys_free(&b->ak);
}

/* Where o's pin callback pins, as text ("none": it pins nothing). */
static void pin_target(const salvo_send_opts *o, char *buf, size_t n)
{
	const char *kh = NULL;
	char peer[300];

	if (salvo_conf_pin_where(o, &kh, peer, sizeof(peer)))
		snprintf(buf, n, "none");
	else
		snprintf(buf, n, "%s %s", kh ? kh : "(unresolved)", peer);
}

static int send_differs(const salvo_send_opts *a, const salvo_send_opts *b)
{
	salvo_send_opts x = *a, y = *b;
	char pa[600], pb[600];

	assert_string_equal(x.host ? x.host : "", y.host ? y.host : "");
	x.host = y.host = NULL;
	pin_target(a, pa, sizeof(pa));
	pin_target(b, pb, sizeof(pb));
	x.pin_ud = y.pin_ud = NULL; /* compared as pa and pb */
	return strcmp(pa, pb) || memcmp(&x, &y, sizeof(x)) != 0;
}

/* The authorised senders, compared by content. */
static int authkeys_differ(const salvo_authkeys *a, const salvo_authkeys *b)
{
	if (!a || !b)
		return a != b;
	if (a->count != b->count)
		return 1;
	for (size_t i = 0; i < a->count; i++)
		if (memcmp(a->keys[i].key, b->keys[i].key, 32) ||
		    strcmp(a->keys[i].dir, b->keys[i].dir))
			return 1;
	return 0;
}

static int recv_differs(const salvo_recv_opts *a, const salvo_recv_opts *b)
{
	salvo_recv_opts x = *a, y = *b;
	int strings = strcmp(x.dir, y.dir) || strcmp(x.bind, y.bind) ||
		      authkeys_differ(x.authkeys, y.authkeys);

	x.dir = y.dir = x.bind = y.bind = NULL;
	x.authkeys = y.authkeys = NULL;
	return strings || memcmp(&x, &y, sizeof(x)) != 0;
}

static struct salvo_config *from_yaml(const char *yaml)
{
	struct salvo_config *cfg = salvo_conf_new();
	struct salvo_conf_diag d;

	assert_non_null(cfg);
	salvo_conf_diag_init(&d);
	if (salvo_conf_load_buffer(cfg, "sec.yaml", SECURITY, strlen(SECURITY),
				   &d) ||
	    salvo_conf_load_buffer(cfg, "t.yaml", yaml, strlen(yaml), &d))
		fail_msg("%s\n%s", yaml, d.text);
	return cfg;
}

/* base, then "--flag value" as cmd takes it; with cmd watch, the
 * one-folder profile (the form `salvo watch DIR HOST` builds). */
static struct salvo_config *from_flag(const char *base,
				      const struct salvo_conf_cmd *cmd,
				      const char *flag, const char *value)
{
	struct salvo_config *cfg = from_yaml(base);
	struct salvo_conf_paths paths = {NULL, NULL, NULL};
	char joined[256];
	char *argv[] = {(char *)cmd->name, (char *)flag, (char *)value};
	char *rest[4], err[256];
	struct salvo_conf_diag d;
	int nrest, argc = 3;

	/* a true/false flag takes its value after '=' only */
	for (int k = 0; k < SALVO_CONF_NKEYS; k++)
		if (salvo_conf_keys[k].flag &&
		    !strcmp(salvo_conf_keys[k].flag, flag) &&
		    salvo_conf_keys[k].type == SALVO_CONF_T_BOOL) {
			snprintf(joined, sizeof(joined), "%s=%s", flag, value);
			argv[1] = joined;
			argc = 2;
		}
	salvo_conf_diag_init(&d);
	if (salvo_conf_from_args(cfg, &paths, cmd, argc, argv, rest, &nrest,
				 &d))
		fail_msg("salvo %s %s %s: %s", cmd->name, flag, value, d.text);
	assert_int_equal(nrest, 0);
	if (cmd == &salvo_conf_cmd_watch) {
		struct salvo_hotfolder *hf = salvo_conf_profile_new(cfg);
		assert_non_null(hf);
		assert_int_equal(salvo_conf_profile_set(cfg, hf, "dir", "/d",
							"DIR", err,
							sizeof(err)),
				 0);
		assert_int_equal(salvo_conf_profile_set(cfg, hf, "host", "rx",
							"HOST", err,
							sizeof(err)),
				 0);
	}
	return cfg;
}

static const struct key_case *case_of(const char *key)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!strcmp(cases[i].key, key))
			return &cases[i];
	return NULL;
}

static const char *conf_only_why(const char *key)
{
	for (size_t i = 0; i < sizeof(conf_only) / sizeof(conf_only[0]); i++)
		if (!strcmp(conf_only[i].key, key))
			return conf_only[i].why;
	return NULL;
}

/* One key from YAML: which engines it reaches, as a mask of
 * SALVO_CONF_CMD_SEND / RECV / WATCH. */
static unsigned reached_from_yaml(const struct key_case *c)
{
	const char *dot = strchr(c->key, '.');
	char base[512], yaml[256];
	struct built a, b;
	struct salvo_config *cfg, *cfg2;
	struct salvo_conf_diag d;
	unsigned mask = 0;

	snprintf(base, sizeof(base), "%s%s", c->base ? c->base : "", PROFILE);
	snprintf(yaml, sizeof(yaml), "%.*s:\n  %s: %s\n", (int)(dot - c->key),
		 c->key, dot + 1, c->value);
	/* the options borrow the configs' strings: both stay alive */
	cfg = from_yaml(base);
	build(cfg, &a);
	cfg2 = from_yaml(base); /* and the key as a second file layer */
	salvo_conf_diag_init(&d);
	if (salvo_conf_load_buffer(cfg2, "k.yaml", yaml, strlen(yaml), &d))
		fail_msg("%s\n%s", yaml, d.text);
	build(cfg2, &b);
	if (send_differs(&a.send, &b.send))
		mask |= SALVO_CONF_CMD_SEND;
	if (recv_differs(&a.recv, &b.recv))
		mask |= SALVO_CONF_CMD_RECV;
	if (send_differs(&a.watch, &b.watch))
		mask |= SALVO_CONF_CMD_WATCH;
	built_free(&a);
	built_free(&b);
	salvo_conf_del(cfg);
	salvo_conf_del(cfg2);
	return mask;
}

/* The same key through cmd's flag: does cmd's engine see it? */
static int reached_from_flag(const struct key_case *c,
			     const struct salvo_conf_cmd *cmd)
{
	const char *flag = salvo_conf_keys[salvo_conf_key_index(c->key)].flag;
	char base[512];
	struct salvo_config *cfg, *cfg2;
	struct built a, b;
	int differs;

	snprintf(base, sizeof(base), "%s%s", c->base ? c->base : "", PROFILE);
	cfg = from_yaml(base);
	if (cmd == &salvo_conf_cmd_watch) {
		salvo_conf_del(cfg);
		cfg = from_flag(c->base ? c->base : "", cmd, "--timeout",
				"10s"); /* the default: a base to compare */
	}
	build(cfg, &a);
	cfg2 = cmd == &salvo_conf_cmd_watch
		   ? from_flag(c->base ? c->base : "", cmd, flag, c->value)
		   : from_flag(base, cmd, flag, c->value);
	build(cfg2, &b);
	differs = cmd == &salvo_conf_cmd_send ? send_differs(&a.send, &b.send)
		  : cmd == &salvo_conf_cmd_recv
		      ? recv_differs(&a.recv, &b.recv)
		      : send_differs(&a.watch, &b.watch);
	built_free(&a);
	built_free(&b);
	salvo_conf_del(cfg);
	salvo_conf_del(cfg2);
	return differs;
}

static void test_every_key_reaches_its_engine(void **state)
{
	static const struct salvo_conf_cmd *const cmds[] = {
	    &salvo_conf_cmd_send, &salvo_conf_cmd_recv, &salvo_conf_cmd_watch};
	(void)state;
	for (int k = 0; k < SALVO_CONF_NKEYS; k++) {
		const char *key = salvo_conf_keys[k].key;
		const struct key_case *c = case_of(key);
		unsigned mask;

		if (conf_only_why(key)) {
			assert_null(c);
			continue;
		}
		if (!c) {
			fail_msg("%s: no engine mapping tested; add a case, or "
				 "list it as conf-only with the reason",
				 key);
			continue;
		}
		mask = reached_from_yaml(c);
		if (!mask)
			fail_msg("%s: %s from YAML changes no engine's options",
				 key, c->value);
		/* a sender key reaches salvo send and every profile alike,
		 * but for send's tree rules */
		if (is_send_only(key) ? mask != SALVO_CONF_CMD_SEND
				      : !(mask & SALVO_CONF_CMD_SEND) !=
					    !(mask & SALVO_CONF_CMD_WATCH))
			fail_msg("%s: reaches send %d, a hot-folder profile %d",
				 key, !!(mask & SALVO_CONF_CMD_SEND),
				 !!(mask & SALVO_CONF_CMD_WATCH));
		for (size_t i = 0; i < 3; i++) {
			int takes = salvo_conf_cmd_takes(cmds[i], k);
			if (!(mask & cmds[i]->bit)) {
				continue;
			}
			if (!takes)
				fail_msg("%s configures salvo %s's engine, but "
					 "salvo %s has no flag for it",
					 key, cmds[i]->name, cmds[i]->name);
			if (!reached_from_flag(c, cmds[i]))
				fail_msg("salvo %s %s %s: the engine's options "
					 "do not change",
					 cmds[i]->name, salvo_conf_keys[k].flag,
					 c->value);
		}
	}
}

/* The original bug: watch took --rate-policy adaptive and its sessions
 * paced at a fixed rate. */
static void test_watch_rate_policy_reaches_sessions(void **state)
{
	struct salvo_conf_paths paths = {NULL, NULL, NULL};
	char *argv[] = {"watch",  "--rate-policy", "adaptive", "--min-rate",
			"10mbit", "--rate",	   "300mbit",  "--bandwidth",
			"1gbit",  "--rtt",	   "20ms",     "--settle",
			"1s"};
	char *rest[16], err[256];
	int nrest;
	struct salvo_config *cfg = salvo_conf_new();
	struct salvo_conf_diag d;
	struct salvo_hotfolder *hf;
	struct salvo_conf_pin pin;
	salvo_send_opts o, s;
	char po[600], ps[600];
	(void)state;

	salvo_conf_diag_init(&d);
	assert_int_equal(salvo_conf_load_buffer(cfg, "sec.yaml", SECURITY,
						strlen(SECURITY), &d),
			 0);
	assert_int_equal(salvo_conf_from_args(cfg, &paths,
					      &salvo_conf_cmd_watch, 13, argv,
					      rest, &nrest, &d),
			 0);
	assert_int_equal(nrest, 2); /* --settle 1s: the profile's */
	hf = salvo_conf_profile_new(cfg);
	assert_non_null(hf);
	int i = 0;
	assert_int_equal(salvo_conf_profile_take_flag(cfg, hf, nrest, rest, &i,
						      err, sizeof(err)),
			 1);
	assert_int_equal(hf->settle_ns, 1000000000ull);
	assert_int_equal(salvo_conf_profile_set(cfg, hf, "host", "rx:7600",
						"HOST", err, sizeof(err)),
			 0);
	assert_int_equal(salvo_conf_profile_set(cfg, hf, "remote_dir", "in/x",
						"--remote-dir", err,
						sizeof(err)),
			 0);
	assert_int_equal(salvo_conf_finish(cfg, &d), 0);
	assert_int_equal(
	    salvo_conf_profile_send_opts(cfg, hf, &o, err, sizeof(err)), 0);
	assert_int_equal(o.rate_policy, SALVO_RATE_ADAPTIVE);
	assert_int_equal(o.min_rate_bps, 10000000);
	assert_int_equal(o.rate_bps, 300000000);
	assert_true(o.window_bytes > 0); /* from the link hints */
	assert_string_equal(o.host, "rx");
	assert_int_equal(o.port, 7600);
	assert_string_equal(o.remote_dir, "in/x");
	/* and exactly what salvo send would use, but for the receiver */
	assert_int_equal(salvo_conf_send_opts(cfg, &s, err, sizeof(err)), 0);
	s.host = o.host;
	s.port = o.port;
	s.remote_dir = o.remote_dir;
	assert_int_equal(
	    salvo_conf_send_identity(cfg, &s, &pin, err, sizeof(err)), 0);
	/* the same pin, through the profile's own callback */
	pin_target(&s, ps, sizeof(ps));
	pin_target(&o, po, sizeof(po));
	assert_string_equal(ps, po);
	assert_string_equal(po, "known_hosts rx:7600");
	s.pin = o.pin;
	s.pin_ud = o.pin_ud;
	assert_memory_equal(&s, &o, sizeof(o));
	salvo_conf_del(cfg);
}

/* Profile keys: the receiver and remote_dir reach the sessions' engine
 * options; the rest are the hot folder's own (hotfolder/), listed. */
static void test_profile_keys(void **state)
{
	static const char *const hot_folder_only[] = {
	    "name",	 "dir",		"include",	   "exclude",
	    "settle",	 "post_action", "move_to",	   "max_sessions",
	    "retry_min", "retry_max",	"allow_hardlinks", NULL};
	struct salvo_config *cfg =
	    from_yaml("transfer: {overwrite: never, compression: lz4, "
		      "checksum: true}\n"
		      "hotfolders:\n  - {name: p, dir: /d, host: \"rx:7001\", "
		      "remote_dir: a/b, key: other.key, receiver_key: "
		      "rx.key.pub, overwrite: always, compression: off, "
		      "checksum: false}\n"
		      "  - {name: q, dir: /e, host: rx}\n");
	struct salvo_conf_diag d;
	salvo_send_opts o, q;
	uint8_t other[32], rx[32], base[32];
	char err[1200], where[600];
	(void)state;
	salvo_conf_diag_init(&d);
	assert_int_equal(salvo_conf_finish(cfg, &d), 0);
	if (salvo_conf_profile_send_opts(cfg, &cfg->hotfolders[0], &o, err,
					 sizeof(err)) ||
	    salvo_conf_profile_send_opts(cfg, &cfg->hotfolders[1], &q, err,
					 sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(o.host, "rx");
	assert_int_equal(o.port, 7001);
	assert_string_equal(o.remote_dir, "a/b");
	/* the profile's overwrite; the other profile's is transfer's */
	assert_int_equal(o.overwrite, SALVO_SEND_ALWAYS);
	assert_int_equal(q.overwrite, SALVO_SEND_NEVER);
	/* the profile's compression; the other profile's transfer.compression
	 */
	assert_int_equal(o.compress, SALVO_COMPRESS_OFF);
	assert_int_equal(q.compress, SALVO_COMPRESS_LZ4);
	/* the profile's checksum; the other profile's transfer.checksum */
	assert_int_equal(o.checksum, 0);
	assert_int_equal(q.checksum, 1);
	/* the profile's key and receiver key; the other profile's defaults */
	assert_int_equal(
	    salvo_keyfile_read_public("other.key.pub", other, err, sizeof(err)),
	    0);
	assert_int_equal(
	    salvo_keyfile_read_public("rx.key.pub", rx, err, sizeof(err)), 0);
	assert_int_equal(
	    salvo_keyfile_read_public("base.key.pub", base, err, sizeof(err)),
	    0);
	assert_int_equal(o.has_key, 1);
	assert_memory_equal(o.key_public, other, 32);
	assert_int_equal(o.has_peer_key, 1);
	assert_memory_equal(o.peer_key, rx, 32);
	assert_null(o.pin);
	assert_int_equal(q.has_key, 1);
	assert_memory_equal(q.key_public, base, 32);
	assert_int_equal(q.has_peer_key, 0);
	pin_target(&q, where, sizeof(where));
	assert_string_equal(where, "known_hosts rx:7400");
	for (size_t k = 0; k < salvo_conf_n_profile_keys; k++) {
		const char *key = salvo_conf_profile_keys[k].key;
		int listed =
		    !strcmp(key, "host") || !strcmp(key, "remote_dir") ||
		    !strcmp(key, "key") || !strcmp(key, "receiver_key") ||
		    !strcmp(key, "overwrite") || !strcmp(key, "compression") ||
		    !strcmp(key, "checksum");
		for (size_t j = 0; hot_folder_only[j]; j++)
			listed |= !strcmp(hot_folder_only[j], key);
		if (!listed)
			fail_msg("profile key %s: neither mapped nor listed",
				 key);
	}
	salvo_conf_del(cfg);
}

static testdir scratch;

/* A key pair written as name (name.pub beside it); its public key out. */
static void make_key(const char *name, uint8_t pub[32])
{
	uint8_t priv[32];
	char err[600];

	salvo_keyfile_generate(priv, pub);
	if (salvo_conf_key_write(name, priv, pub, "test", 0, err, sizeof(err)))
		fail_msg("%s", err);
}

/* The scratch folder the tests run in, and its key files: base.key (what
 * every config uses), other.key, rx.key (a receiver's), ak1 (authorises
 * other.key). */
static int setup(void **state)
{
	uint8_t pub[32];
	char line[200];
	FILE *f;
	(void)state;

	if (salvo_crypto_init() || testdir_enter(&scratch, "engine-opts"))
		return -1;
	make_key("base.key", pub);
	make_key("rx.key", pub);
	make_key("other.key", pub);
	salvo_key_public_text(line, sizeof(line), pub, NULL);
	if (!(f = fopen("ak1", "w")))
		return -1;
	fprintf(f, "%s dir=in/other\n", line);
	return fclose(f);
}

static int teardown(void **state)
{
	(void)state;
	return testdir_leave(&scratch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_key_reaches_its_engine),
	    cmocka_unit_test(test_watch_rate_policy_reaches_sessions),
	    cmocka_unit_test(test_profile_keys),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
