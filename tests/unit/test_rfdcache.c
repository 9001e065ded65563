/*
 * receiver/engine/fdcache.c, the bound on a session's open descriptors:
 * never more than cap unpinned, the least recently used closed first, a
 * pinned descriptor never closed under its user (the cache runs over cap
 * instead and shrinks back as pins are released), checked against the
 * process's own table of open descriptors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <unistd.h>

#include "receiver/engine/files.h"

static int is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static int new_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void test_lru(void **state)
{
	(void)state;
	rfdcache c;
	int fd[4];
	rfdcache_init(&c, 3);
	for (int k = 0; k < 3; k++) {
		fd[k] = new_fd();
		assert_int_equal(rfdcache_add(&c, k, fd[k]), 0);
		rfdcache_release(&c, k);
	}
	/* 0 used again: 1 is now the least recently used */
	assert_int_equal(rfdcache_take(&c, 0), fd[0]);
	rfdcache_release(&c, 0);
	fd[3] = new_fd();
	assert_int_equal(rfdcache_add(&c, 3, fd[3]), 0);
	rfdcache_release(&c, 3);
	assert_int_equal(c.n, 3);
	assert_int_equal(rfdcache_take(&c, 1), -1);
	assert_false(is_open(fd[1]));
	for (int k = 0; k < 4; k++)
		if (k != 1) {
			assert_int_equal(rfdcache_take(&c, k), fd[k]);
			rfdcache_release(&c, k);
		}
	rfdcache_free(&c);
	for (int k = 0; k < 4; k++)
		assert_false(is_open(fd[k]));
}

static void test_pinned_never_closed(void **state)
{
	(void)state;
	rfdcache c;
	int fd[5];
	rfdcache_init(&c, 2);
	for (int k = 0; k < 5; k++) { /* all pinned: over cap */
		fd[k] = new_fd();
		assert_int_equal(rfdcache_add(&c, k, fd[k]), 0);
	}
	assert_int_equal(c.n, 5);
	assert_int_equal(rfdcache_trim(&c), 0);
	rfdcache_drop(&c, 4); /* pinned: stays */
	assert_true(is_open(fd[4]));
	for (int k = 0; k < 5; k++)
		assert_true(is_open(fd[k]));
	/* released over cap: closed at once, down to cap */
	for (int k = 0; k < 5; k++)
		rfdcache_release(&c, k);
	assert_int_equal(c.n, 2);
	assert_int_equal(rfdcache_trim(&c), 2);
	assert_int_equal(c.n, 0);
	for (int k = 0; k < 5; k++)
		assert_false(is_open(fd[k]));
	rfdcache_free(&c);
}

static void test_drop(void **state)
{
	(void)state;
	rfdcache c;
	rfdcache_init(&c, 4);
	int fd = new_fd();
	assert_int_equal(rfdcache_add(&c, 7, fd), 0);
	rfdcache_release(&c, 7);
	rfdcache_drop(&c, 7);
	assert_false(is_open(fd));
	assert_int_equal(rfdcache_take(&c, 7), -1);
	rfdcache_drop(&c, 8); /* absent: nothing */
	rfdcache_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lru),
	    cmocka_unit_test(test_pinned_never_closed),
	    cmocka_unit_test(test_drop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
