/*
 * The hot folder's journal (hotfolder/journal.c) on a real temporary file:
 * records survive a close and replay in order; a torn last record (cut at
 * every byte) is cut off and the next append follows the last whole one;
 * a flipped byte ends the replay there; compaction keeps exactly the live
 * set; a second opener is refused while the first holds the lock; a file
 * that is not a journal is refused, and so is a FIFO, a device or a folder
 * in its place, with nothing written.  Also the job table (jobtab.c).
 */
#include <errno.h>
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
#include "hotfolder/jobtab.h"
#include "hotfolder/journal.h"

struct seen {
	int n;
	int type[64];
	char path[64][64];
	uint64_t size[64];
	int has_hash[64];
};

static int collect(void *ud, const struct salvo_hf_rec *r)
{
	struct seen *s = ud;

	if (s->n < 64) {
		s->type[s->n] = r->type;
		snprintf(s->path[s->n], sizeof(s->path[0]), "%s", r->path);
		s->size[s->n] = r->size;
		s->has_hash[s->n] = r->has_hash;
	}
	s->n++;
	return 0;
}

static char *tmp_journal(void)
{
	char *dir = strdup("/tmp/salvo-test-journal-XXXXXX"), *path = NULL;

	assert_non_null(mkdtemp(dir));
	assert_true(asprintf(&path, "%s/journal", dir) > 0);
	free(dir);
	return path;
}

static void cleanup(char *path)
{
	char *dir = strdup(path);

	unlink(path);
	*strrchr(dir, '/') = 0;
	rmdir(dir);
	free(dir);
	free(path);
}

static void add(struct salvo_hf_journal *j, int type, const char *path,
		uint64_t size)
{
	struct salvo_hf_rec r;

	memset(&r, 0, sizeof(r));
	r.type = type;
	r.path = path;
	r.path_len = strlen(path);
	r.size = size;
	r.mtime_ns = -5;
	if (type == SALVO_HF_REC_DONE) {
		r.has_hash = 1;
		memset(r.hash, 0xab, 32);
	}
	assert_int_equal(salvo_hf_journal_add(j, &r), 0);
}

static void write_three(const char *path)
{
	struct salvo_hf_journal j;
	uint64_t torn;

	assert_int_equal(salvo_hf_journal_open(&j, path, NULL, NULL, &torn), 0);
	add(&j, SALVO_HF_REC_QUEUED, "a", 1);
	add(&j, SALVO_HF_REC_SENT, "dir/b c", 2);
	assert_int_equal(salvo_hf_journal_sync(&j), 0);
	add(&j, SALVO_HF_REC_DONE, "é/ü", 3);
	salvo_hf_journal_close(&j); /* syncs what is buffered */
}

static void test_roundtrip(void **state)
{
	char *path = tmp_journal();
	struct salvo_hf_journal j;
	struct seen s;
	uint64_t torn;
	(void)state;

	write_three(path);
	memset(&s, 0, sizeof(s));
	assert_int_equal(salvo_hf_journal_open(&j, path, collect, &s, &torn),
			 0);
	assert_int_equal(torn, 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.type[0], SALVO_HF_REC_QUEUED);
	assert_string_equal(s.path[1], "dir/b c");
	assert_int_equal(s.size[2], 3);
	assert_string_equal(s.path[2], "é/ü");
	assert_true(s.has_hash[2]);
	assert_false(s.has_hash[1]);
	salvo_hf_journal_close(&j);
	cleanup(path);
}

static void test_torn_tail_every_cut(void **state)
{
	char *path = tmp_journal();
	struct stat st;
	off_t full, cut;
	(void)state;

	write_three(path);
	assert_int_equal(stat(path, &st), 0);
	full = st.st_size;
	/* the last record is 8 + 50 + strlen("é/ü") = 63 bytes long */
	for (cut = full - 1; cut > full - 63; cut--) {
		struct salvo_hf_journal j;
		struct seen s;
		uint64_t torn;

		/* write_three appends: rebuild from scratch */
		unlink(path);
		write_three(path);
		assert_int_equal(truncate(path, cut), 0);
		memset(&s, 0, sizeof(s));
		assert_int_equal(
		    salvo_hf_journal_open(&j, path, collect, &s, &torn), 0);
		assert_int_equal(s.n, 2);
		assert_int_equal(torn, (uint64_t)(cut - (full - 63)));
		/* the next record follows the last whole one */
		add(&j, SALVO_HF_REC_FORGET, "a", 0);
		salvo_hf_journal_close(&j);
		memset(&s, 0, sizeof(s));
		assert_int_equal(
		    salvo_hf_journal_open(&j, path, collect, &s, &torn), 0);
		assert_int_equal(torn, 0);
		assert_int_equal(s.n, 3);
		assert_int_equal(s.type[2], SALVO_HF_REC_FORGET);
		salvo_hf_journal_close(&j);
	}
	cleanup(path);
}

static void test_corrupt_byte_stops_replay(void **state)
{
	char *path = tmp_journal();
	struct salvo_hf_journal j;
	struct seen s;
	uint64_t torn;
	FILE *f;
	(void)state;

	write_three(path);
	/* a byte of the second record's payload */
	f = fopen(path, "r+");
	assert_non_null(f);
	fseek(f, 8 + 59 + 8 + 20, SEEK_SET);
	fputc(0x5a, f);
	fclose(f);
	memset(&s, 0, sizeof(s));
	assert_int_equal(salvo_hf_journal_open(&j, path, collect, &s, &torn),
			 0);
	assert_int_equal(s.n, 1);
	assert_true(torn > 0);
	salvo_hf_journal_close(&j);
	cleanup(path);
}

struct live {
	const char *paths[3];
	int i;
};

static int next_live(void *ud, struct salvo_hf_rec *r)
{
	struct live *l = ud;

	if (l->i == 3)
		return 1;
	memset(r, 0, sizeof(*r));
	r->type = SALVO_HF_REC_DONE;
	r->path = l->paths[l->i++];
	r->path_len = strlen(r->path);
	return 0;
}

static void test_compact_lock_and_magic(void **state)
{
	char *path = tmp_journal();
	struct salvo_hf_journal j, k;
	struct live l = {{"x", "y", "z"}, 0};
	struct seen s;
	uint64_t torn;
	FILE *f;
	(void)state;

	assert_int_equal(salvo_hf_journal_open(&j, path, NULL, NULL, &torn), 0);
	for (int i = 0; i < 1000; i++)
		add(&j, SALVO_HF_REC_QUEUED, "many", (uint64_t)i);
	assert_int_equal(salvo_hf_journal_sync(&j), 0);
	assert_int_equal(salvo_hf_journal_open(&k, path, NULL, NULL, &torn),
			 SALVO_ERR_BUSY);
	assert_int_equal(salvo_hf_journal_compact(&j, next_live, &l), 0);
	assert_int_equal(j.records, 3);
	/* still locked after the rename */
	assert_int_equal(salvo_hf_journal_open(&k, path, NULL, NULL, &torn),
			 SALVO_ERR_BUSY);
	add(&j, SALVO_HF_REC_FORGET, "y", 0);
	salvo_hf_journal_close(&j);
	memset(&s, 0, sizeof(s));
	assert_int_equal(salvo_hf_journal_open(&j, path, collect, &s, &torn),
			 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.path[0], "x");
	assert_int_equal(s.type[3], SALVO_HF_REC_FORGET);
	salvo_hf_journal_close(&j);
	/* not a journal */
	f = fopen(path, "w");
	fputs("hello, world\n", f);
	fclose(f);
	assert_int_equal(salvo_hf_journal_open(&j, path, NULL, NULL, &torn),
			 SALVO_ERR_MALFORMED);
	cleanup(path);
}

static void test_not_a_regular_file(void **state)
{
	char *path = tmp_journal();
	struct salvo_hf_journal j;
	uint64_t torn;
	struct stat st;
	(void)state;

	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10); /* a blocked open ends the test */
	assert_int_equal(salvo_hf_journal_open(&j, path, NULL, NULL, &torn),
			 -EINVAL);
	alarm(0);
	assert_int_equal(j.fd, -1);
	unlink(path);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(salvo_hf_journal_open(&j, path, NULL, NULL, &torn),
			 -EINVAL);
	rmdir(path);
	/* a symlink to a device: refused before anything is written */
	assert_int_equal(symlink("/dev/null", path), 0);
	assert_int_equal(salvo_hf_journal_open(&j, path, NULL, NULL, &torn),
			 -EINVAL);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	cleanup(path);
}

static void test_jobtab(void **state)
{
	struct salvo_hf_tab t;
	struct salvo_hf_entry *e;
	char name[32];
	size_t n = 0;
	(void)state;

	assert_int_equal(salvo_hf_tab_init(&t), 0);
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "d%d/f%d", i % 7, i);
		e = salvo_hf_tab_add(&t, name);
		assert_non_null(e);
		e->job.state = SALVO_HF_SETTLING;
		e->job.deadline_ns = (uint64_t)(5000 - i); /* reversed */
		salvo_hf_tab_moved(&t, e, SALVO_HF_IDLE);
	}
	assert_int_equal(t.count[SALVO_HF_SETTLING], 5000);
	assert_int_equal(t.count[SALVO_HF_IDLE], 0);
	/* sorted by deadline */
	for (e = t.lists[SALVO_HF_SETTLING].head; e && e->next; e = e->next)
		assert_true(e->job.deadline_ns <= e->next->job.deadline_ns);
	assert_int_equal(t.lists[SALVO_HF_SETTLING].head->job.deadline_ns, 1);
	e = salvo_hf_tab_find(&t, "d6/f1000");
	assert_non_null(e);
	e->job.state = SALVO_HF_QUEUED;
	salvo_hf_tab_moved(&t, e, SALVO_HF_SETTLING);
	assert_ptr_equal(t.lists[SALVO_HF_QUEUED].head, e);
	salvo_hf_tab_del(&t, e);
	assert_null(salvo_hf_tab_find(&t, "d6/f1000"));
	assert_null(t.lists[SALVO_HF_QUEUED].head);
	for (e = salvo_hf_tab_next(&t, NULL); e; e = salvo_hf_tab_next(&t, e)) {
		n++;
	}
	assert_int_equal(n, 4999);
	/* a failed file that vanished leaves FAILED's count with it (the
	 * job's state already says GONE when the entry is deleted) */
	e = salvo_hf_tab_find(&t, "d0/f7");
	assert_non_null(e);
	e->job.state = SALVO_HF_FAILED;
	salvo_hf_tab_moved(&t, e, SALVO_HF_SETTLING);
	assert_int_equal(t.count[SALVO_HF_FAILED], 1);
	e->job.state = SALVO_HF_GONE;
	salvo_hf_tab_del(&t, e);
	assert_int_equal(t.count[SALVO_HF_FAILED], 0);
	assert_int_equal(t.count[SALVO_HF_SETTLING], 4998);
	salvo_hf_tab_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_torn_tail_every_cut),
	    cmocka_unit_test(test_corrupt_byte_stops_replay),
	    cmocka_unit_test(test_compact_lock_and_magic),
	    cmocka_unit_test(test_not_a_regular_file),
	    cmocka_unit_test(test_jobtab),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
