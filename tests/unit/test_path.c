/*
 * The path sanitizer: one table of accepted and rejected names, each
 * rejection with the exact reason a person will read, plus the length
 * limits at their boundaries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/error.h"
#include "common/core/path.h"

#define P(s) s, sizeof(s) - 1 /* a literal with its length, NULs included */

static const struct {
	const char *path;
	size_t len;
	const char *why; /* NULL: accepted */
} cases[] = {
    {P("a"), NULL},
    {P("dir/file.txt"), NULL},
    {P("a/b/c/d/e"), NULL},
    {P("with space/and  two"), NULL},
    {P(" leading and trailing "), NULL},
    {P("caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.txt"), NULL},
    {P("emoji \xf0\x9f\x98\x80"), NULL},
    {P("..."), NULL},
    {P(".hidden/..x/x.."), NULL},
    {P("a\\b"), NULL},
    {P("~/x"), NULL},
    {P("\x80\xff"), NULL}, /* bytes, not necessarily UTF-8 */
    {P(""), "empty path"},
    {P("/"), "absolute path"},
    {P("/etc/passwd"), "absolute path"},
    {P(".."), "'..' component"},
    {P("../x"), "'..' component"},
    {P("a/../b"), "'..' component"},
    {P("a/.."), "'..' component"},
    {P("."), "'.' component"},
    {P("./a"), "'.' component"},
    {P("a/./b"), "'.' component"},
    {P("a/."), "'.' component"},
    {P("a//b"), "empty path component"},
    {P("a/"), "empty path component"},
    {P("a/b/"), "empty path component"},
    {P("a\0b"), "NUL byte in path"},
    {P("a\0"), "NUL byte in path"},
    {P("\0"), "NUL byte in path"},
    {P("a\nb"), "control character in path"},
    {P("\x01"), "control character in path"},
    {P("a\x1f"), "control character in path"},
    {P("tab\there"), "control character in path"},
    {P("a\x7f"), "control character in path"},
    {P("esc\x1b[31m"), "control character in path"},
    /* the receiver's part-files live in .salvo/ below its root */
    {P(".salvo"), "'.salvo' is the receiver's private folder"},
    {P(".salvo/1-0a0b0c0d-0.part"),
     "'.salvo' is the receiver's private folder"},
    {P(".SALVO/x"), "'.salvo' is the receiver's private folder"},
    {P(".Salvo"), "'.salvo' is the receiver's private folder"},
    {P("a/.salvo"), NULL},
    {P("a/.salvo/x.part"), NULL},
    {P(".salvo-0a0b0c0d-0.part"), NULL},
    {P(".salvox/y"), NULL},
    {P("salvo"), NULL},
    {P(".salv"), NULL},
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = "untouched";
		int err = salvo_path_check(cases[i].path, cases[i].len, &why);
		if (!cases[i].why) {
			if (err)
				fail_msg("case %zu rejected: %s", i, why);
			continue;
		}
		if (err != SALVO_ERR_PATH)
			fail_msg("case %zu (want '%s') returned %d", i,
				 cases[i].why, err);
		if (strcmp(why, cases[i].why))
			fail_msg("case %zu: '%s' != '%s'", i, why,
				 cases[i].why);
		/* why may be NULL */
		assert_int_equal(
		    salvo_path_check(cases[i].path, cases[i].len, NULL),
		    SALVO_ERR_PATH);
	}
}

/* Builds n1 bytes of 'a', a '/', n2 bytes of 'b' (n2 == 0: no slash). */
static size_t build(char *buf, size_t n1, size_t n2)
{
	memset(buf, 'a', n1);
	if (!n2)
		return n1;
	buf[n1] = '/';
	memset(buf + n1 + 1, 'b', n2);
	return n1 + 1 + n2;
}

static void test_length_limits(void **state)
{
	static char buf[SALVO_PATH_MAX + 2];
	const char *why = NULL;
	(void)state;
	assert_int_equal(
	    salvo_path_check(buf, build(buf, SALVO_NAME_MAX, 0), &why), 0);
	assert_int_equal(
	    salvo_path_check(buf, build(buf, SALVO_NAME_MAX + 1, 0), &why),
	    SALVO_ERR_PATH);
	assert_string_equal(why, "path component too long");
	assert_int_equal(
	    salvo_path_check(buf, build(buf, 3, SALVO_NAME_MAX + 1), &why),
	    SALVO_ERR_PATH);
	assert_string_equal(why, "path component too long");

	/* 16 components of 255 bytes = 4095 with the slashes: the maximum */
	size_t len = 0;
	for (int i = 0; i < 16; i++) {
		if (i)
			buf[len++] = '/';
		memset(buf + len, 'a' + i, SALVO_NAME_MAX);
		len += SALVO_NAME_MAX;
	}
	assert_int_equal(len, SALVO_PATH_MAX);
	assert_int_equal(salvo_path_check(buf, len, &why), 0);
	buf[len++] = 'x'; /* the last component is now 256 bytes */
	assert_int_equal(salvo_path_check(buf, len, &why), SALVO_ERR_PATH);
	assert_string_equal(why, "path too long");
	buf[len - 1] = '/';
	assert_int_equal(salvo_path_check(buf, len, &why), SALVO_ERR_PATH);
	assert_string_equal(why, "path too long");
	/* the length is the caller's: a valid prefix of a bad buffer passes */
	assert_int_equal(salvo_path_check("ab/../x", 2, &why), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_length_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
