/*
 * The stream reader on real files (sender/engine/reader.c): a file read
 * while it is written in place, one that shrinks and one that grows
 * after the scan.  A file written in place at its scanned size used to
 * be read on without a word, so its copy held two versions under one
 * digest (the digest is taken over what was read) and was committed
 * torn.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "sender/engine/reader.h"
#include "sender/engine/scan.h"
#include "sender/engine/send.h"

#define FILE_BYTES 8192u

typedef struct fixture {
	char dir[64];
	char path[2][96];
	salvo_send_opts o;
	const char *paths[1];
	salvo_scan scan;
	salvo_reader r;
	int abandons;
	uint32_t abandoned_file;
	char why[512];
	int grows;
} fixture;

static void write_file(const char *path, uint8_t fill, size_t n)
{
	uint8_t buf[FILE_BYTES];
	memset(buf, fill, sizeof(buf));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	close(fd);
}

/* Writes n bytes of fill at offset 0 without truncating, and moves the
 * mtime a second on so even a coarse clock sees the write. */
static void write_in_place(const char *path, uint8_t fill, size_t n)
{
	uint8_t buf[FILE_BYTES];
	memset(buf, fill, sizeof(buf));
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, buf, n, 0), (ssize_t)n);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	struct timespec ts[2] = {st.st_atim, st.st_mtim};
	ts[1].tv_sec += 1;
	assert_int_equal(futimens(fd, ts), 0);
	close(fd);
}

static int on_abandon(void *ud, uint32_t file, int err, const char *msg)
{
	fixture *f = ud;
	assert_int_equal(err, -EIO);
	f->abandons++;
	f->abandoned_file = file;
	snprintf(f->why, sizeof(f->why), "%s", msg);
	return 0;
}

static void on_grow(void *ud, uint32_t file, uint64_t scanned, uint64_t now)
{
	fixture *f = ud;
	(void)file;
	assert_true(now > scanned);
	f->grows++;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/salvo-reader-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path[0], sizeof(f->path[0]), "%s/a.bin", f->dir);
	snprintf(f->path[1], sizeof(f->path[1]), "%s/b.bin", f->dir);
	write_file(f->path[0], 'a', FILE_BYTES);
	write_file(f->path[1], 'b', FILE_BYTES);
	f->paths[0] = f->dir;
	f->o.paths = f->paths;
	f->o.npaths = 1;
	char err[256];
	assert_int_equal(salvo_scan_run(&f->scan, &f->o, err, sizeof(err)), 0);
	assert_int_equal(f->scan.files, 2);
	assert_int_equal(salvo_reader_init(&f->r, &f->scan, f->scan.total, 4),
			 0);
	f->r.on_abandon = on_abandon;
	f->r.abandon_ud = f;
	f->r.on_grow = on_grow;
	f->r.grow_ud = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	salvo_reader_free(&f->r);
	salvo_scan_free(&f->scan);
	unlink(f->path[0]);
	unlink(f->path[1]);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The stream offset of a.bin's bytes (entries come in scan order). */
static uint64_t offset_of(const fixture *f, const char *name)
{
	for (size_t i = 0; i < f->scan.n; i++) {
		const char *p = f->scan.entries[i].path;
		size_t n = strlen(p), k = strlen(name);
		if (n >= k && !strcmp(p + n - k, name))
			return f->scan.entries[i].stream_offset;
	}
	fail_msg("%s not scanned", name);
	return 0;
}

static int all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/* Reads n stream bytes at off into buf, which must succeed. */
static void read_ok(fixture *f, uint64_t off, uint8_t *buf, size_t n)
{
	char msg[256] = "";
	assert_int_equal(
	    salvo_reader_read(&f->r, off, buf, n, msg, sizeof(msg)), 0);
}

static void test_unchanged_reads_as_scanned(void **state)
{
	fixture *f = *state;
	uint8_t buf[FILE_BYTES];
	uint64_t a = offset_of(f, "a.bin");
	read_ok(f, a, buf, 4096);
	assert_true(all_bytes(buf, 4096, 'a'));
	assert_int_equal(f->abandons, 0);
}

/* Half of a.bin read, then a.bin rewritten in place at its size: the
 * next read gives it up (zeros, once told) instead of returning the new
 * version's bytes after the old one's; b.bin reads on. */
static void test_written_in_place_is_given_up(void **state)
{
	fixture *f = *state;
	uint8_t buf[FILE_BYTES];
	uint64_t a = offset_of(f, "a.bin");
	read_ok(f, a, buf, 4096);
	assert_true(all_bytes(buf, 4096, 'a'));
	write_in_place(f->path[0], 'A', FILE_BYTES);
	read_ok(f, a + 4096, buf, 4096);
	assert_int_equal(f->abandons, 1);
	assert_non_null(strstr(f->why, "a.bin' changed after the scan"));
	assert_true(all_bytes(buf, 4096, 0));
	/* again, the same zeros, and no second word */
	read_ok(f, a, buf, 4096);
	assert_true(all_bytes(buf, 4096, 0));
	assert_int_equal(f->abandons, 1);
	uint64_t b = offset_of(f, "b.bin");
	read_ok(f, b, buf, FILE_BYTES);
	assert_true(all_bytes(buf, FILE_BYTES, 'b'));
}

/* Without on_abandon the read fails, naming the file. */
static void test_written_in_place_fails_without_abandon(void **state)
{
	fixture *f = *state;
	uint8_t buf[FILE_BYTES];
	char msg[256] = "";
	f->r.on_abandon = NULL;
	write_in_place(f->path[0], 'A', FILE_BYTES);
	assert_int_equal(salvo_reader_read(&f->r, offset_of(f, "a.bin"), buf,
					   4096, msg, sizeof(msg)),
			 -EIO);
	assert_non_null(strstr(msg, "a.bin' changed after the scan"));
}

/* Shorter than scanned, even where the piece read still lies below the
 * new end: given up as shrunk. */
static void test_shrunk_below_piece_is_given_up(void **state)
{
	fixture *f = *state;
	uint8_t buf[FILE_BYTES];
	assert_int_equal(truncate(f->path[0], FILE_BYTES - 100), 0);
	read_ok(f, offset_of(f, "a.bin"), buf, 4096);
	assert_int_equal(f->abandons, 1);
	assert_non_null(strstr(f->why, "a.bin' shrank after the scan"));
}

/* Grown (appended): its scanned bytes still go, with one word. */
static void test_grown_reads_on(void **state)
{
	fixture *f = *state;
	uint8_t buf[FILE_BYTES];
	int fd = open(f->path[0], O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "more", 4), 4);
	close(fd);
	read_ok(f, offset_of(f, "a.bin"), buf, FILE_BYTES);
	assert_true(all_bytes(buf, FILE_BYTES, 'a'));
	assert_int_equal(f->abandons, 0);
	assert_int_equal(f->grows, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_unchanged_reads_as_scanned,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_written_in_place_is_given_up,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_written_in_place_fails_without_abandon, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shrunk_below_piece_is_given_up,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_grown_reads_on, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
