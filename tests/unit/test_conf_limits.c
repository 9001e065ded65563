/*
 * Hostile configuration files: nesting depth is limited with an error at
 * the first level too deep, pathological shapes (200,000 levels deep, a
 * million items wide, many anchors) load or fail in linear time, and a
 * config file that is not a regular file, or is too large, is refused
 * without blocking.  The bound is on this thread's CPU time, not the wall
 * clock, so other jobs on a shared machine do not move it (a wall-clock
 * bound failed a loaded CI run at 26 s for an 8 s load); the quadratic
 * cases took tens of CPU seconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/core/error.h"
#include "conf/config.h"

/* The largest input here (9 MB) loads in about 2 CPU seconds in a release
 * build and 4-8 under ASan; the quadratic shapes took minutes.  Real files
 * are capped at 1 MiB. */
#if defined(__SANITIZE_ADDRESS__)
#define BOUND_NS 25000000000ULL
#else
#define BOUND_NS 5000000000ULL
#endif

static unsigned long long cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL +
	       (unsigned long long)ts.tv_nsec;
}

/* A growable text, for building large inputs. */
struct text {
	char *p;
	size_t len, cap;
};

static void add(struct text *t, const char *s)
{
	size_t n = strlen(s);
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		t->p = realloc(t->p, t->cap);
		assert_non_null(t->p);
	}
	memcpy(t->p + t->len, s, n + 1);
	t->len += n;
}

static void add_n(struct text *t, const char *s, size_t times)
{
	for (size_t i = 0; i < times; i++)
		add(t, s);
}

/* Loads t, checks the time bound, returns the load's code; d is filled. */
static int timed_load(const char *what, const struct text *t,
		      struct salvo_conf_diag *d)
{
	struct salvo_config *cfg = salvo_conf_new();
	unsigned long long t0, dt;
	int rc;

	assert_non_null(cfg);
	salvo_conf_diag_init(d);
	t0 = cpu_ns();
	rc = salvo_conf_load_buffer(cfg, "t.yaml", t->p, t->len, d);
	if (rc == 0)
		rc = salvo_conf_finish(cfg, d);
	dt = cpu_ns() - t0;
	salvo_conf_del(cfg);
	printf("  %-40s %8zu bytes %6.3f CPU s rc %d\n", what, t->len,
	       (double)dt / 1e9, rc);
	if (dt > BOUND_NS)
		fail_msg("%s: %.3f CPU s (bound %.1f s)", what,
			 (double)dt / 1e9, (double)BOUND_NS / 1e9);
	return rc;
}

static void deep(const char *what, const char *open, const char *close,
		 const char *prefix, size_t depth, const char *want)
{
	struct text t = {0};
	struct salvo_conf_diag d;

	add(&t, prefix);
	add_n(&t, open, depth);
	add_n(&t, close, depth);
	add(&t, "\n");
	assert_int_equal(timed_load(what, &t, &d), SALVO_ERR_INVAL);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.text, want);
	free(t.p);
}

static void test_deep_flow(void **state)
{
	(void)state;
	deep("200,000 [ deep", "[", "]", "", 200000,
	     "t.yaml:1:65: nesting deeper than 64 levels\n");
	deep("200,000 { deep", "{a: ", "}", "", 200000,
	     "t.yaml:1:257: nesting deeper than 64 levels\n");
	deep("200,000 deep under a key", "[", "]", "network:\n  port: ", 200000,
	     "t.yaml:2:71: nesting deeper than 64 levels\n");
	deep("200,000 deep block list", "- ", "", "", 200000,
	     "t.yaml:1:129: nesting deeper than 64 levels\n");
}

static void test_depth_limit_exact(void **state)
{
	struct text t = {0};
	struct salvo_conf_diag d;
	(void)state;

	/* 64 levels are allowed (the error is about the value, not depth) */
	add(&t, "network:\n  port: ");
	add_n(&t, "[", 62);
	add_n(&t, "]", 62);
	assert_int_equal(timed_load("64 levels", &t, &d), SALVO_ERR_INVAL);
	assert_null(strstr(d.text, "nesting"));
	t.len = 0;
	add(&t, "network:\n  port: ");
	add_n(&t, "[", 63);
	add_n(&t, "]", 63);
	assert_int_equal(timed_load("65 levels", &t, &d), SALVO_ERR_INVAL);
	assert_string_equal(d.text,
			    "t.yaml:2:71: nesting deeper than 64 levels\n");
	free(t.p);
}

static void test_wide(void **state)
{
	struct text t = {0};
	struct salvo_conf_diag d;
	char key[32];
	(void)state;

	add(&t, "network:\n  port: [");
	add_n(&t, "1, ", 1000000);
	add(&t, "1]\n");
	assert_int_equal(timed_load("1,000,000 wide list", &t, &d),
			 SALVO_ERR_INVAL);
	assert_int_equal(d.count, 1);

	t.len = 0;
	add(&t, "hotfolders:\n  - {name: a, dir: /a, host: h, include: [");
	add_n(&t, "\"*.x\", ", 1000000);
	add(&t, "\"*.y\"]}\n");
	assert_int_equal(timed_load("1,000,000 globs", &t, &d), 0);

	t.len = 0;
	add(&t, "network: {");
	for (int i = 0; i < 300000; i++) {
		snprintf(key, sizeof(key), "k%d: 1, ", i);
		add(&t, key);
	}
	add(&t, "port: 1}\n");
	assert_int_equal(timed_load("300,000 unknown keys", &t, &d),
			 SALVO_ERR_INVAL);
	assert_int_equal(d.count, 300000);

	t.len = 0;
	add(&t, "network: {");
	add_n(&t, "port: 1, ", 1000000);
	add(&t, "port: 1}\n");
	assert_int_equal(timed_load("1,000,000 duplicate keys", &t, &d),
			 SALVO_ERR_INVAL);

	t.len = 0;
	add_n(&t, "# a comment\n", 100000);
	add(&t, "network:\n  port: 7000\n");
	assert_int_equal(timed_load("100,000 comment lines", &t, &d), 0);
	free(t.p);
}

/* libyaml's loader searches a list of anchors for each anchor and alias */
static void test_anchors(void **state)
{
	struct text t = {0};
	struct salvo_conf_diag d;
	char name[32];
	(void)state;

	add(&t, "x: [");
	for (int i = 0; i < 300000; i++) {
		snprintf(name, sizeof(name), "&a%d 1, ", i);
		add(&t, name);
	}
	add(&t, "1]\n");
	assert_int_equal(timed_load("300,000 anchors", &t, &d),
			 SALVO_ERR_INVAL);
	assert_string_equal(d.text, "t.yaml:1:1047: more than 128 anchors; "
				    "allowed: at most 128\n");

	/* the most anchors allowed, a million aliases of the last one */
	t.len = 0;
	add(&t, "x: [");
	for (int i = 0; i < 128; i++) {
		snprintf(name, sizeof(name), "&a%d 1, ", i);
		add(&t, name);
	}
	add_n(&t, "*a127, ", 1000000);
	add(&t, "1]\n");
	assert_int_equal(timed_load("128 anchors, 1,000,000 aliases", &t, &d),
			 SALVO_ERR_INVAL);
	assert_string_equal(d.text, "t.yaml:1:1: unknown section 'x'; allowed: "
				    "network, transfer, memory, link, "
				    "receiver, hotfolders, logging, "
				    "security\n");

	/* an anchor in a real config works */
	t.len = 0;
	add(&t, "transfer: {rate: &r 100mbit, min_rate: *r}\n");
	assert_int_equal(timed_load("an alias", &t, &d), 0);

	free(t.p);
}

/* Loads path as a config layer; an alarm ends the test if it blocks. */
static int load_path(const char *path, int must_exist,
		     struct salvo_conf_diag *d)
{
	struct salvo_config *cfg = salvo_conf_new();
	int rc;

	assert_non_null(cfg);
	salvo_conf_diag_init(d);
	alarm(10); /* the default action kills a test that blocks */
	rc = salvo_conf_load_file(cfg, path, must_exist, d);
	alarm(0);
	salvo_conf_del(cfg);
	return rc;
}

static void expect_refused(const char *path, const char *want)
{
	struct salvo_conf_diag d;
	char full[512];

	snprintf(full, sizeof(full), "%s: %s\n", path, want);
	assert_int_equal(load_path(path, 1, &d), SALVO_ERR_INVAL);
	assert_string_equal(d.text, full);
	/* a system or user layer that exists but is not a file is an error
	 * too, not a layer silently skipped */
	assert_int_equal(load_path(path, 0, &d), SALVO_ERR_INVAL);
	assert_string_equal(d.text, full);
}

static void test_not_a_regular_file(void **state)
{
	char dir[] = "/tmp/salvo-conf-XXXXXX", path[256], link[256];
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct salvo_conf_diag d;
	int sock;
	FILE *f;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	expect_refused(path, "is a FIFO (named pipe); allowed: a regular "
			     "file, or a symlink to one");
	snprintf(link, sizeof(link), "%s/link-to-fifo", dir);
	assert_int_equal(symlink(path, link), 0);
	expect_refused(link, "is a FIFO (named pipe); allowed: a regular "
			     "file, or a symlink to one");
	unlink(link);
	unlink(path);

	expect_refused(dir, "is a directory; allowed: a regular file, or a "
			    "symlink to one");
	expect_refused("/dev/null", "is a character device; allowed: a "
				    "regular file, or a symlink to one");

	snprintf(path, sizeof(path), "%s/sock", dir);
	assert_true(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	sock = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(sock >= 0);
	assert_int_equal(bind(sock, (struct sockaddr *)&sun, sizeof(sun)), 0);
	expect_refused(path, "is a socket; allowed: a regular file, or a "
			     "symlink to one");
	close(sock);
	unlink(path);

	/* a symlink to a regular file is a config like any other */
	snprintf(path, sizeof(path), "%s/salvo.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("network:\n  port: 7000\n", f);
	fclose(f);
	snprintf(link, sizeof(link), "%s/link.yaml", dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(load_path(link, 1, &d), 0);
	unlink(link);

	/* larger than 1 MiB: refused from its size, before reading */
	assert_int_equal(truncate(path, 1024 * 1024 + 1), 0);
	expect_refused(path, "1048577 bytes, larger than 1MiB; allowed: a "
			     "configuration file up to 1MiB");
	assert_int_equal(truncate(path, 1024 * 1024), 0);
	assert_int_equal(load_path(path, 1, &d), SALVO_ERR_INVAL);
	assert_null(strstr(d.text, "larger"));
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_deep_flow),
	    cmocka_unit_test(test_depth_limit_exact),
	    cmocka_unit_test(test_wide),
	    cmocka_unit_test(test_anchors),
	    cmocka_unit_test(test_not_a_regular_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
