/*
 * The log sink (common/io/logsink.h): JSON string escaping (quotes,
 * backslashes, every control character C0 and C1, bytes that are not
 * UTF-8, a cut that stays a valid literal), the text escaper (the same
 * classes as visible \xHH, 0x9b alone and as U+009B), the JSON line's members
 * and its nulls, text lines that a control byte cannot split, the level filter,
 * append mode, an unopenable file named in the error, and whole lines from many
 * threads at once.
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
#include <pthread.h>

#include "common/io/logsink.h"

static void test_quote(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"plain", "\"plain\""},
	    {"a\"b\\c", "\"a\\\"b\\\\c\""},
	    {"nl\ntab\tcr\r", "\"nl\\ntab\\tcr\\r\""},
	    {"\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\""},
	    {"caf\xc3\xa9 \xe6\x97\xa5", "\"caf\xc3\xa9 \xe6\x97\xa5\""},
	    {"bad\xff\xc3(", "\"bad\\ufffd\\ufffd(\""},
	    {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""}, /* a surrogate */
	    /* C1: a lone 0x9b is not UTF-8; U+009B (C2 9B) is a control */
	    {"a\x9b"
	     "2Jb",
	     "\"a\\ufffd2Jb\""},
	    {"a\xc2\x9b"
	     "2J\xc2\x80\xc2\x9f\xc2\xa0",
	     "\"a\\u009b2J\\u0080\\u009f\xc2\xa0\""},
	    {"", "\"\""},
	};
	char buf[128];
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = salvo_logsink_quote(buf, sizeof(buf), cases[i].in);
		assert_string_equal(buf, cases[i].out);
		assert_int_equal(n, strlen(cases[i].out));
	}
	assert_int_equal(salvo_logsink_quote(buf, sizeof(buf), NULL), 2);
	assert_string_equal(buf, "\"\"");
	/* cut, never inside an escape: still a literal */
	salvo_logsink_quote(buf, 9, "ab\ncdefgh");
	assert_string_equal(buf, "\"ab\\ncd\"");
	salvo_logsink_quote(buf, 6, "ab\ncdefgh");
	assert_string_equal(buf, "\"ab\"");
}

/* The text escaper: every control and invalid byte visible as \xHH,
 * nothing else changed, cut only between characters. */
static void test_text(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"plain", "plain"},
	    {"nl\ntab\tesc\x1b[2J del\x7f",
	     "nl\\x0atab\\x09esc\\x1b[2J del\\x7f"},
	    {"csi\x9b"
	     "31m",
	     "csi\\x9b31m"}, /* 8-bit CSI, lone */
	    {"u+9b\xc2\x9b"
	     "31m",
	     "u+9b\\xc2\\x9b31m"}, /* C1 in UTF-8 */
	    {"\xc2\x80\xc2\x9f\xc2\xa0", "\\xc2\\x80\\xc2\\x9f\xc2\xa0"},
	    {"caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x9a\x80",
	     "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x9a\x80"},
	    {"bad\xff\xc3(", "bad\\xff\\xc3("},
	    {"\xe0\x80\xaf", "\\xe0\\x80\\xaf"}, /* overlong '/' */
	    {"\xed\xa0\x80", "\\xed\\xa0\\x80"}, /* a surrogate */
	    {"a\\x9b", "a\\\\x9b"}, /* a real backslash never reads as one */
	    {"", ""},
	};
	char buf[128];
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = salvo_logsink_text(buf, sizeof(buf), cases[i].in);
		assert_string_equal(buf, cases[i].out);
		assert_int_equal(n, strlen(cases[i].out));
		/* no byte a terminal acts on survives: no C0 or DEL, no
		 * U+0080-U+009F, no byte 0x80-0x9f outside a sequence */
		for (const unsigned char *u = (const unsigned char *)buf; *u;
		     u++)
			assert_false(
			    *u < 0x20 || *u == 0x7f ||
			    (*u == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f) ||
			    (*u >= 0x80 && *u <= 0x9f &&
			     (u == (const unsigned char *)buf ||
			      u[-1] < 0x80)));
	}
	assert_int_equal(salvo_logsink_text(buf, sizeof(buf), NULL), 0);
	assert_string_equal(buf, "");
	/* cut before an escape or a character that does not fit */
	assert_int_equal(salvo_logsink_text(buf, 5, "ab\x9b"), 2);
	assert_string_equal(buf, "ab");
	assert_int_equal(salvo_logsink_text(buf, 4, "ab\xc3\xa9"), 2);
	assert_string_equal(buf, "ab");
	assert_int_equal(salvo_logsink_text(buf, 1, "ab"), 0);
}

/* The sink's file as a string (caller frees). */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 23);
	assert_non_null(f);
	assert_non_null(buf);
	assert_true(fread(buf, 1, (1 << 23) - 1, f) < (1 << 23) - 1);
	fclose(f);
	return buf;
}

static void test_json_line(void **state)
{
	char path[] = "/tmp/salvo-logsink-XXXXXX", err[256], *text;
	int fd = mkstemp(path);
	struct salvo_logsink *s;
	salvo_log_event full = {
	    SALVO_LOG_WARN,  "file_received", 7,
	    "10.0.0.2:4711", "a/\"b\".bin",   2000000,
	    250000000,	     64000000,	      "line one\nline two"};
	salvo_log_event bare = {
	    SALVO_LOG_INFO, "x", 0, NULL, NULL, 0, 0, 0, "m"};
	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "kept\n", 5), 5);
	close(fd);
	s = salvo_logsink_new(path, SALVO_LOG_INFO, 1, err, sizeof(err));
	assert_non_null(s);
	assert_false(salvo_logsink_is_stderr_text(s));
	salvo_logsink_event(s, &full);
	salvo_logsink_event(s, &bare);
	bare.level = SALVO_LOG_DEBUG; /* filtered */
	salvo_logsink_event(s, &bare);
	salvo_logsink_del(s);
	text = slurp(path);
	/* kept, then two lines; the time is the only variable part */
	assert_memory_equal(text, "kept\n{\"time\": \"", 15);
	char *l1 = strchr(text, '\n') + 1, *l2 = strchr(l1, '\n') + 1;
	assert_string_equal(strchr(l2, '\n') + 1, "");
	assert_true(strstr(l1,
			   "Z\", \"level\": \"warn\", \"event\": "
			   "\"file_received\", \"session\": 7, \"peer\": "
			   "\"10.0.0.2:4711\", \"file\": \"a/\\\"b\\\".bin\", "
			   "\"bytes\": 2000000, \"seconds\": 0.250000, "
			   "\"rate\": 64000000, \"message\": \"line "
			   "one\\nline two\"}\n") != NULL);
	assert_true(strstr(l2,
			   "\"level\": \"info\", \"event\": \"x\", "
			   "\"session\": null, \"peer\": null, \"file\": "
			   "null, \"bytes\": null, \"seconds\": null, "
			   "\"rate\": null, \"message\": \"m\"}\n") != NULL);
	free(text);
	unlink(path);
}

static void test_text_line_and_long_message(void **state)
{
	char path[] = "/tmp/salvo-logsink-XXXXXX", err[256], *text, *big;
	int fd = mkstemp(path);
	struct salvo_logsink *s;
	salvo_log_event ev = {SALVO_LOG_ERROR,
			      "oops",
			      0,
			      NULL,
			      NULL,
			      0,
			      0,
			      0,
			      "a\nforged line\x1b[2J \x9b"
			      "2J \xc2\x9b"
			      "2J"};
	(void)state;
	assert_true(fd >= 0);
	close(fd);
	s = salvo_logsink_new(path, SALVO_LOG_ERROR, 0, err, sizeof(err));
	assert_non_null(s);
	salvo_logsink_event(s, &ev);
	big = malloc(20000);
	assert_non_null(big);
	memset(big, '"', 19999);
	big[19999] = '\0';
	ev.message = big;
	salvo_logsink_event(s, &ev); /* cut to one line */
	salvo_logsink_del(s);
	text = slurp(path);
	assert_non_null(strstr(text, " error oops: a\\x0aforged "
				     "line\\x1b[2J \\x9b2J \\xc2\\x9b2J\n"));
	assert_int_equal(strchr(strchr(text, '\n') + 1, '\n') -
			     strchr(text, '\n'),
			 SALVO_LOGSINK_LINE_MAX - 1);
	free(text);

	/* JSON, cut: still one object */
	s = salvo_logsink_new(path, SALVO_LOG_ERROR, 1, err, sizeof(err));
	salvo_logsink_event(s, &ev);
	salvo_logsink_del(s);
	text = slurp(path);
	char *last = strrchr(text, '{'), *end = strchr(last, '\n');
	assert_non_null(end);
	assert_memory_equal(end - 2, "\"}\n", 3);
	assert_true(end - last < SALVO_LOGSINK_LINE_MAX);
	free(text);
	free(big);
	unlink(path);
}

static void test_open_error_and_quiet(void **state)
{
	char err[256];
	struct salvo_logsink *s;
	(void)state;
	assert_null(salvo_logsink_new("/nonexistent/dir/x.log", SALVO_LOG_INFO,
				      0, err, sizeof(err)));
	assert_string_equal(err, "cannot open '/nonexistent/dir/x.log': No "
				 "such file or directory");
	s = salvo_logsink_new("stderr", SALVO_LOG_DEBUG, 0, err, sizeof(err));
	assert_non_null(s);
	assert_true(salvo_logsink_is_stderr_text(s));
	assert_true(salvo_logsink_wants(s, SALVO_LOG_DEBUG));
	salvo_logsink_quiet(s, SALVO_LOG_ERROR);
	assert_false(salvo_logsink_wants(s, SALVO_LOG_WARN));
	assert_true(salvo_logsink_wants(s, SALVO_LOG_ERROR));
	salvo_logsink_del(s);
	salvo_logsink_del(NULL);
}

#define THREADS 8
#define EVENTS 1000

static void *writer(void *sink)
{
	char msg[200];
	salvo_log_event ev = {SALVO_LOG_INFO, "t", 0, NULL, NULL, 0, 0, 0, msg};
	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	for (int i = 0; i < EVENTS; i++)
		salvo_logsink_event(sink, &ev);
	return NULL;
}

static void test_threads_write_whole_lines(void **state)
{
	char path[] = "/tmp/salvo-logsink-XXXXXX", err[256], *text;
	int fd = mkstemp(path), lines = 0;
	pthread_t t[THREADS];
	struct salvo_logsink *s;
	(void)state;
	assert_true(fd >= 0);
	close(fd);
	s = salvo_logsink_new(path, SALVO_LOG_INFO, 1, err, sizeof(err));
	assert_non_null(s);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, s), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	salvo_logsink_del(s);
	text = slurp(path);
	for (char *l = text; *l; l = strchr(l, '\n') + 1) {
		char *end = strchr(l, '\n');
		assert_non_null(end);
		assert_int_equal(l[0], '{');
		assert_memory_equal(end - 2, "\"}", 2);
		lines++;
	}
	assert_int_equal(lines, THREADS * EVENTS);
	free(text);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_quote),
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_json_line),
	    cmocka_unit_test(test_text_line_and_long_message),
	    cmocka_unit_test(test_open_error_and_quiet),
	    cmocka_unit_test(test_threads_write_whole_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
