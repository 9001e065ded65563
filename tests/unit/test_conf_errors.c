/*
 * Every class of configuration error, with the exact line a person sees:
 * unknown key or section, wrong type, bad unit, out of range, missing
 * value, duplicates, YAML syntax, contradictions between keys, hot-folder
 * profile rules; several errors in one file all reported; a bad value
 * never replaced by a default.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/error.h"
#include "conf/config.h"
#include "conf/keys.h" /* salvo_conf_diag_add */

struct err_case {
	const char *yaml;
	const char *errors; /* the whole diag text */
};

static const struct err_case cases[] = {
    /* unknown key, unknown section */
    {"network:\n  prot: 1",
     "t.yaml:2:3: unknown key 'network.prot'; allowed in network: port, "
     "bind, mtu, datagram, send_sockets, recv_sockets, sndbuf, rcvbuf, "
     "batch, offload\n"},
    {"netwrk: {}",
     "t.yaml:1:1: unknown section 'netwrk'; allowed: network, transfer, "
     "memory, link, receiver, hotfolders, logging, security\n"},
    {"hotfolders:\n  - {name: a, dir: /a, host: h, bogus: 1}",
     "t.yaml:2:33: unknown key 'hotfolders[0].bogus'; allowed in a "
     "hot-folder profile: name, dir, host, remote_dir, include, exclude, "
     "settle, post_action, move_to, max_sessions, retry_min, retry_max, "
     "key, receiver_key, allow_hardlinks, overwrite, compression, "
     "checksum\n"},
    /* old spellings name the new one */
    {"hotfolders:\n  - {name: a, dir: /a, dest: h, dest_dir: x}",
     "t.yaml:2:24: hotfolders[0].dest: renamed; allowed: host (the same "
     "value)\n"
     "t.yaml:2:33: hotfolders[0].dest_dir: renamed; allowed: remote_dir "
     "(the same value)\n"
     "t.yaml:2:5: hotfolders[0]: missing key 'host' (receiver as "
     "host[:port]); allowed: host, host:port or [ipv6]:port\n"},
    {"hotfolders:\n  - {name: a, dir: /a, host: h, remote_dir: ../x}",
     "t.yaml:2:45: hotfolders[0].remote_dir: '../x' refused: '..' "
     "component; allowed: a relative folder below the receiver's root, "
     "without '.' or '..' components\n"},
    /* wrong type */
    {"transfer:\n  block_size: {a: 1}",
     "t.yaml:2:15: transfer.block_size: expected a single value, got a "
     "mapping; allowed: 548B..1GiB\n"},
    {"transfer:\n  threads: [1, 2]",
     "t.yaml:2:12: transfer.threads: expected a single value, got a list; "
     "allowed: 1..64\n"},
    {"network: 5",
     "t.yaml:1:10: network: expected a mapping of keys, got a single "
     "value; allowed keys: port, bind, mtu, datagram, send_sockets, "
     "recv_sockets, sndbuf, rcvbuf, batch, offload\n"},
    {"- a", "t.yaml:1:1: expected a mapping of sections, got a list; allowed: "
	    "network, transfer, memory, link, receiver, hotfolders, logging, "
	    "security\n"},
    {"hotfolders: {a: 1}",
     "t.yaml:1:13: hotfolders: expected a list of profiles, got a "
     "mapping\n"},
    {"hotfolders: [1]",
     "t.yaml:1:14: hotfolders[0]: expected a mapping of profile keys, got "
     "a single value\n"},
    {"[a]: 1", "t.yaml:1:1: keys must be plain names, got a list\n"},
    /* bad unit, bad value */
    {"transfer:\n  block_size: 4XB",
     "t.yaml:2:15: transfer.block_size: bad size '4XB': unknown unit; "
     "allowed: B, KiB, MiB, GiB, TiB, KB, MB, GB, TB (e.g. 4MiB)\n"},
    {"transfer:\n  rate: 200",
     "t.yaml:2:9: transfer.rate: bad rate '200': missing unit; allowed: "
     "bit, kbit, mbit, gbit, tbit, Mbps, Gbps, B/s, KB/s, MB/s, GB/s, "
     "KiB/s, MiB/s, GiB/s (e.g. 200mbit), or none\n"},
    {"transfer:\n  timeout: 10",
     "t.yaml:2:12: transfer.timeout: bad time '10': missing unit; "
     "allowed: ns, us, ms, s, min, h (e.g. 100ms)\n"},
    {"link:\n  loss: 0.5",
     "t.yaml:2:9: link.loss: bad loss '0.5': missing unit; allowed: a "
     "percentage (e.g. 0.5%)\n"},
    {"memory: banana",
     "t.yaml:1:9: memory: bad size 'banana': expected a number with a "
     "unit; allowed: B, KiB, MiB, GiB, TiB, KB, MB, GB, TB (e.g. 4MiB), "
     "or auto\n"},
    {"network:\n  bind: example.com",
     "t.yaml:2:9: network.bind: 'example.com' is not an address; allowed: "
     "an IPv4 or IPv6 address\n"},
    {"network:\n  offload: on",
     "t.yaml:2:12: network.offload: 'on' is not a known value; "
     "allowed: auto, off\n"},
    {"transfer:\n  compression: zstd",
     "t.yaml:2:16: transfer.compression: 'zstd' is not a known value; "
     "allowed: off, auto, lz4\n"},
    {"network:\n  bind: \"a\\0b\"",
     "t.yaml:2:9: network.bind: value contains a NUL byte\n"},
    /* out of range */
    {"transfer:\n  threads: 65",
     "t.yaml:2:12: transfer.threads: '65' is out of range; allowed: "
     "1..64\n"},
    {"network:\n  mtu: 575",
     "t.yaml:2:8: network.mtu: '575' is out of range; allowed: "
     "576..65535\n"},
    {"receiver:\n  max_file_size: 0",
     "t.yaml:2:18: receiver.max_file_size: '0' is out of range; allowed: "
     "1B..1024TiB or unlimited\n"},
    {"network:\n  datagram: 1.5B",
     "t.yaml:2:13: network.datagram: bad number of bytes '1.5B'; allowed: "
     "a whole number (e.g. 1500), or auto\n"},
    {"link:\n  loss: 60%",
     "t.yaml:2:9: link.loss: '60%' is out of range; allowed: 0%..50%\n"},
    {"logging:\n  file: \"\"",
     "t.yaml:2:9: logging.file: '' is too short; allowed: a string of "
     "1..4095 bytes\n"},
    /* missing value, duplicates, documents, syntax */
    {"network:\n  port:",
     "t.yaml:2:8: network.port: no value; allowed: 1..65535\n"},
    {"network:\n  port: 1\n  port: 2",
     "t.yaml:3:3: network.port: duplicate key (first set at line 2)\n"},
    {"network: {}\nnetwork: {}",
     "t.yaml:2:1: network: duplicate key (first set at line 1)\n"},
    {"network: {}\n---\nlink: {}",
     "t.yaml:3:1: a second YAML document; allowed: one document per "
     "file\n"},
    {"network: [1",
     "t.yaml:2:1: YAML syntax error: did not find expected ',' or ']' "
     "while parsing a flow sequence\n"},
    /* contradictions between keys */
    {"network:\n  mtu: 1500\n  datagram: 1473",
     "t.yaml:3:13: network.datagram: 1473 is larger than network.mtu 1500 "
     "minus 28 bytes of IPv4 and UDP headers; allowed: 548..1472 or "
     "auto\n"},
    {"transfer:\n  block_size: 1KiB",
     "t.yaml:2:15: transfer.block_size: 1KiB is smaller than one datagram "
     "(1472 bytes at network.mtu 1500); allowed: 1472B..1GiB\n"},
    {"network:\n  datagram: 1000\ntransfer:\n  block_size: 999B",
     "t.yaml:4:15: transfer.block_size: 999B is smaller than one datagram "
     "(1000 bytes at network.mtu 1500); allowed: 1000B..1GiB\n"},
    {"memory: 16MiB\ntransfer:\n  threads: 8\n  block_size: 4MiB",
     "t.yaml:3:12: transfer.threads: 8 threads x 4MiB blocks = 32MiB is "
     "more than memory.budget 16MiB; allowed: at most 4 threads of 4MiB, "
     "or a larger memory.budget\n"},
    {"transfer:\n  rate: 100mbit\n  min_rate: 200mbit",
     "t.yaml:3:13: transfer.min_rate: 200mbit is above transfer.rate "
     "100mbit; allowed: none..100mbit\n"},
    {"link:\n  rtt: 100ms",
     "t.yaml:2:8: link.rtt: given without link.bandwidth; allowed: both "
     "link.bandwidth and link.rtt, or neither\n"},
    {"transfer:\n  rate_policy: fixed",
     "t.yaml:2:16: transfer.rate_policy: 'fixed' needs transfer.rate "
     "(--rate), the rate to pace at; allowed: fixed with a rate (e.g. "
     "500mbit), or fair, high, low without one\n"},
    /* hot-folder profiles */
    {"hotfolders:\n  - name: x",
     "t.yaml:2:5: hotfolders[0]: missing key 'dir' (folder to watch); "
     "allowed: a string of 1..4095 bytes\n"
     "t.yaml:2:5: hotfolders[0]: missing key 'host' (receiver as "
     "host[:port]); allowed: host, host:port or [ipv6]:port\n"},
    {"hotfolders:\n"
     "  - {name: a, dir: /a, host: h, post_action: move}\n"
     "  - {name: a, dir: /b, host: \"h:0\", move_to: /x, retry_min: 1h, "
     "retry_max: 1min, include: [[1]]}",
     "t.yaml:2:46: hotfolders[0].post_action: move needs move_to; "
     "allowed: set move_to, or use delete or keep\n"
     "t.yaml:3:30: hotfolders[1].host: 'h:0' is not a destination; "
     "allowed: host, host:port or [ipv6]:port\n"
     "t.yaml:3:92: hotfolders[1].include: expected a glob, got a list; "
     "allowed: a string of 1..255 bytes\n"
     "t.yaml:3:46: hotfolders[1].move_to: only used with post_action "
     "move; allowed: remove move_to, or set post_action move\n"
     "t.yaml:3:61: hotfolders[1].retry_min: 1h is above retry_max 1min; "
     "allowed: retry_min <= retry_max\n"
     "t.yaml:3:5: hotfolders[1].name: 'a' is already used by "
     "hotfolders[0]; allowed: a unique name\n"},
    /* security */
    {"security:\n  allow_anonymous: maybe",
     "t.yaml:2:20: security.allow_anonymous: 'maybe' is not true or false; "
     "allowed: true or false\n"},
    {"security:\n  receiver_key: salvo-x25519 AAAA",
     "t.yaml:2:17: security.receiver_key: 'salvo-x25519 AAAA' is not a "
     "public key (the key is not 32 bytes of base64); allowed: a public key "
     "line "
     "(salvo-x25519 BASE64), a file holding one, or none\n"},
    {"security:\n  key: \"\"",
     "t.yaml:2:8: security.key: '' is too short; allowed: a file name, or "
     "auto\n"},
    {"hotfolders:\n  - {name: a, dir: /a, host: h, receiver_key: "
     "\"salvo-x25519 !\"}",
     "t.yaml:2:47: hotfolders[0].receiver_key: 'salvo-x25519 !' is not a "
     "public key (the key is not 32 bytes of base64); allowed: a public key "
     "line "
     "(salvo-x25519 BASE64), a file holding one, or default\n"},
    {"hotfolders:\n  - {name: a, dir: /a, host: \"1::2:80\"}",
     "t.yaml:2:30: hotfolders[0].host: '1::2:80' is not a destination; "
     "allowed: host, host:port or [ipv6]:port\n"},
};

/* Loads yaml over the defaults and finishes, as `config check` does. */
static void run(const char *yaml, struct salvo_conf_diag *d)
{
	struct salvo_config *cfg = salvo_conf_new();
	assert_non_null(cfg);
	salvo_conf_diag_init(d);
	salvo_conf_load_buffer(cfg, "t.yaml", yaml, strlen(yaml), d);
	salvo_conf_finish(cfg, d);
	salvo_conf_del(cfg);
}

static void test_each_error(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct salvo_conf_diag d;
		run(cases[i].yaml, &d);
		if (strcmp(d.text, cases[i].errors))
			fail_msg("case %zu:\n%s\ngot:\n%s\nwant:\n%s", i,
				 cases[i].yaml, d.text, cases[i].errors);
	}
}

static void test_return_codes(void **state)
{
	struct salvo_config *cfg = salvo_conf_new();
	struct salvo_conf_diag d;
	const char *bad = "transfer:\n  threads: 0";
	const char *clash = "transfer:\n  block_size: 1KiB";
	(void)state;
	salvo_conf_diag_init(&d);
	assert_int_equal(salvo_conf_load_buffer(cfg, "a", bad, strlen(bad), &d),
			 SALVO_ERR_INVAL);
	assert_int_equal(d.count, 1);
	salvo_conf_del(cfg);

	cfg = salvo_conf_new();
	salvo_conf_diag_init(&d);
	assert_int_equal(
	    salvo_conf_load_buffer(cfg, "a", clash, strlen(clash), &d), 0);
	assert_int_equal(salvo_conf_finish(cfg, &d), SALVO_ERR_INVAL);
	assert_int_equal(d.count, 1);
	salvo_conf_del(cfg);
}

static void test_all_errors_reported(void **state)
{
	const char *yaml = "network:\n"
			   "  port: 0\n"
			   "  mtu: big\n"
			   "  nope: 1\n"
			   "transfer:\n"
			   "  threads: 100\n"
			   "  rate: fast\n"
			   "  min_rate: 2gbit\n"
			   "link:\n"
			   "  bandwidth: 1gbit\n";
	struct salvo_conf_diag d;
	(void)state;
	run(yaml, &d);
	assert_int_equal(d.count, 6); /* rate none: min_rate has no bound */
	assert_string_equal(
	    d.text,
	    "t.yaml:2:9: network.port: '0' is out of range; allowed: "
	    "1..65535\n"
	    "t.yaml:3:8: network.mtu: bad number of bytes 'big'; allowed: a "
	    "whole number (e.g. 1500)\n"
	    "t.yaml:4:3: unknown key 'network.nope'; allowed in network: "
	    "port, bind, mtu, datagram, send_sockets, recv_sockets, sndbuf, "
	    "rcvbuf, batch, offload\n"
	    "t.yaml:6:12: transfer.threads: '100' is out of range; allowed: "
	    "1..64\n"
	    "t.yaml:7:9: transfer.rate: bad rate 'fast': expected a number "
	    "with a unit; allowed: bit, kbit, mbit, gbit, tbit, Mbps, Gbps, "
	    "B/s, KB/s, MB/s, GB/s, KiB/s, MiB/s, GiB/s (e.g. 200mbit), or "
	    "none\n"
	    "t.yaml:10:14: link.bandwidth: given without link.rtt; allowed: "
	    "both link.bandwidth and link.rtt, or neither\n");
}

static void test_bad_value_keeps_previous_layer(void **state)
{
	struct salvo_config *cfg = salvo_conf_new();
	struct salvo_conf_diag d;
	const char *one = "transfer:\n  threads: 8\n";
	const char *two = "transfer:\n  threads: 99\n";
	(void)state;
	salvo_conf_diag_init(&d);
	assert_int_equal(
	    salvo_conf_load_buffer(cfg, "one", one, strlen(one), &d), 0);
	assert_int_equal(
	    salvo_conf_load_buffer(cfg, "two", two, strlen(two), &d),
	    SALVO_ERR_INVAL);
	assert_int_equal(cfg->transfer.threads, 8); /* never a default */
	assert_string_equal(
	    salvo_conf_origin_of(cfg, SALVO_CONF_TRANSFER_THREADS)->name,
	    "one");
	salvo_conf_del(cfg);
}

static void test_many_errors_overflow(void **state)
{
	char yaml[40000];
	size_t len = 0;
	struct salvo_conf_diag d;
	(void)state;
	len += (size_t)snprintf(yaml + len, sizeof(yaml) - len, "network:\n");
	for (int i = 0; i < 500; i++)
		len += (size_t)snprintf(yaml + len, sizeof(yaml) - len,
					"  k%d: 1\n", i);
	run(yaml, &d);
	assert_int_equal(d.count, 500);
	assert_true(d.dropped > 0);
	assert_true(d.len < sizeof(d.text));
	assert_non_null(strstr(d.text, "more errors not shown)\n"));
	assert_non_null(strstr(d.text, "t.yaml:2:3: unknown key 'network.k0'"));
}

/* a short line after a dropped long one must not overwrite the "more"
 * line: the text always ends with it once anything was dropped */
static void test_dropped_stays_last(void **state)
{
	struct salvo_conf_diag d;
	char longmsg[900];
	(void)state;
	memset(longmsg, 'x', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	salvo_conf_diag_init(&d);
	while (!d.dropped)
		salvo_conf_diag_add(&d, NULL, "%s", longmsg);
	salvo_conf_diag_add(&d, NULL, "short");
	assert_int_equal(d.dropped, 2);
	assert_null(strstr(d.text, "short"));
	assert_non_null(strstr(d.text, "x\n(2 more errors not shown)\n"));
	assert_int_equal(d.text[strlen(d.text) - 1], '\n');
}

static void test_missing_and_unreadable_files(void **state)
{
	struct salvo_config *cfg = salvo_conf_new();
	struct salvo_conf_diag d;
	(void)state;
	salvo_conf_diag_init(&d);
	assert_int_equal(
	    salvo_conf_load_file(cfg, "/nonexistent/x.yaml", 0, &d), 0);
	assert_int_equal(d.count, 0);
	assert_int_equal(
	    salvo_conf_load_file(cfg, "/nonexistent/x.yaml", 1, &d),
	    SALVO_ERR_INVAL);
	assert_string_equal(d.text, "/nonexistent/x.yaml: cannot open: No "
				    "such file or directory\n");
	salvo_conf_del(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_each_error),
	    cmocka_unit_test(test_return_codes),
	    cmocka_unit_test(test_all_errors_reported),
	    cmocka_unit_test(test_bad_value_keeps_previous_layer),
	    cmocka_unit_test(test_many_errors_overflow),
	    cmocka_unit_test(test_dropped_stays_last),
	    cmocka_unit_test(test_missing_and_unreadable_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
