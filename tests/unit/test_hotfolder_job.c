/*
 * The hot folder's per-file state machine (hotfolder/job.c), driven in
 * virtual time: settling and its restarts, queueing, a send that succeeds,
 * one that finds the file changed, failures with back-off, the receiver
 * away, a split batch, the keep policy, the back-off arithmetic, and links:
 * which are refused, and a refused file that waits for a change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hotfolder/job.h"

#define S 1000000000ull

static const struct salvo_hf_policy pol = {2 * S, 1 * S, 60 * S, 0};
static const struct salvo_hf_policy keep = {2 * S, 1 * S, 60 * S, 1};

static struct salvo_hf_stat st(uint64_t size, int64_t mtime)
{
	struct salvo_hf_stat s = {size, mtime};
	return s;
}

static void test_settles_then_queues(void **state)
{
	struct salvo_hf_job j;
	struct salvo_hf_stat a = st(10, 100), b = st(20, 200);
	(void)state;

	salvo_hf_job_init(&j, &pol, &a, 0, 0);
	assert_int_equal(j.state, SALVO_HF_SETTLING);
	assert_int_equal(j.deadline_ns, 2 * S);
	/* written again at 1 s: the deadline moves */
	assert_int_equal(salvo_hf_job_touch(&j, &pol, &b, 1 * S, 0),
			 SALVO_HF_SETTLING);
	assert_int_equal(j.deadline_ns, 3 * S);
	/* at the deadline the stat differs (a writer that did not close) */
	assert_int_equal(salvo_hf_job_expire(&j, &pol, 1, &a, 3 * S),
			 SALVO_HF_SETTLING);
	assert_int_equal(j.deadline_ns, 5 * S);
	assert_int_equal(salvo_hf_job_expire(&j, &pol, 1, &a, 5 * S),
			 SALVO_HF_QUEUED);
}

static void test_aged_file_is_due_at_once(void **state)
{
	struct salvo_hf_job j;
	struct salvo_hf_stat a = st(10, 100);
	(void)state;

	salvo_hf_job_init(&j, &pol, &a, 7 * S, 1);
	assert_int_equal(j.deadline_ns, 7 * S);
	assert_int_equal(salvo_hf_job_expire(&j, &pol, 1, &a, 7 * S),
			 SALVO_HF_QUEUED);
	/* a rescan that finds it unchanged leaves it queued */
	assert_int_equal(salvo_hf_job_touch(&j, &pol, &a, 8 * S, 1),
			 SALVO_HF_QUEUED);
	/* a close-write event puts it back to settling */
	assert_int_equal(salvo_hf_job_touch(&j, &pol, &a, 8 * S, 0),
			 SALVO_HF_SETTLING);
}

static void test_vanished_while_settling(void **state)
{
	struct salvo_hf_job j;
	struct salvo_hf_stat a = st(10, 100);
	(void)state;

	salvo_hf_job_init(&j, &pol, &a, 0, 0);
	assert_int_equal(salvo_hf_job_expire(&j, &pol, 0, &a, 2 * S),
			 SALVO_HF_GONE);
}

static void queued(struct salvo_hf_job *j, const struct salvo_hf_policy *p,
		   struct salvo_hf_stat a)
{
	salvo_hf_job_init(j, p, &a, 0, 1);
	assert_int_equal(salvo_hf_job_expire(j, p, 1, &a, 0), SALVO_HF_QUEUED);
	assert_int_equal(salvo_hf_job_start(j), SALVO_HF_SENDING);
}

static void test_sent_then_posted(void **state)
{
	struct salvo_hf_job j;
	struct salvo_hf_stat a = st(10, 100);
	(void)state;

	queued(&j, &pol, a);
	assert_int_equal(
	    salvo_hf_job_finish(&j, &pol, SALVO_HF_OK, &a, NULL, S, 0),
	    SALVO_HF_SENT);
	assert_int_equal(salvo_hf_job_posted(&j, &pol), SALVO_HF_GONE);

	queued(&j, &keep, a);
	salvo_hf_job_finish(&j, &keep, SALVO_HF_OK, &a,
			    (const uint8_t *)"0123456789abcdef0123456789abcdef",
			    S, 0);
	assert_int_equal(salvo_hf_job_posted(&j, &keep), SALVO_HF_IDLE);
	assert_true(j.has_hash);
	/* keep: the same file seen again is not sent again */
	assert_int_equal(salvo_hf_job_touch(&j, &keep, &a, 9 * S, 1),
			 SALVO_HF_IDLE);
	/* touched (new mtime): settles; back to the sent stat: idle */
	struct salvo_hf_stat t = st(10, 999);
	assert_int_equal(salvo_hf_job_touch(&j, &keep, &t, 9 * S, 0),
			 SALVO_HF_SETTLING);
	assert_int_equal(salvo_hf_job_expire(&j, &keep, 1, &a, 11 * S),
			 SALVO_HF_SETTLING);
	assert_int_equal(salvo_hf_job_expire(&j, &keep, 1, &a, 13 * S),
			 SALVO_HF_IDLE);
}

static void test_changed_while_sending_is_sent_again(void **state)
{
	struct salvo_hf_job j;
	struct salvo_hf_stat a = st(10, 100), b = st(30, 300);
	(void)state;

	/* seen by an event during the session */
	queued(&j, &pol, a);
	assert_int_equal(salvo_hf_job_touch(&j, &pol, &b, S, 0),
			 SALVO_HF_SENDING);
	assert_int_equal(
	    salvo_hf_job_finish(&j, &pol, SALVO_HF_OK, &b, NULL, 2 * S, 0),
	    SALVO_HF_SETTLING);
	assert_int_equal(j.deadline_ns, 4 * S);
	assert_false(j.dirty);
	/* seen only by the stat after the session */
	queued(&j, &pol, a);
	assert_int_equal(
	    salvo_hf_job_finish(&j, &pol, SALVO_HF_OK, &b, NULL, 2 * S, 0),
	    SALVO_HF_SETTLING);
	/* changed during a session that failed for the link: settles too */
	queued(&j, &pol, a);
	salvo_hf_job_touch(&j, &pol, &b, S, 0);
	assert_int_equal(
	    salvo_hf_job_finish(&j, &pol, SALVO_HF_LINK, NULL, NULL, 2 * S, 0),
	    SALVO_HF_SETTLING);
}

static void test_failure_backs_off(void **state)
{
	struct salvo_hf_job j;
	struct salvo_hf_stat a = st(10, 100);
	uint64_t base = S;
	(void)state;

	queued(&j, &pol, a);
	for (int i = 1; i <= 10; i++) {
		uint64_t d;

		assert_int_equal(salvo_hf_job_finish(&j, &pol, SALVO_HF_FAIL,
						     &a, NULL, 100 * S,
						     UINT64_MAX),
				 SALVO_HF_FAILED);
		assert_int_equal(j.attempts, i);
		/* doubled from retry_min, capped, jittered into [b/2, b] */
		d = j.deadline_ns - 100 * S;
		assert_true(d >= base / 2 && d <= base);
		base = base * 2 > 60 * S ? 60 * S : base * 2;
		assert_int_equal(
		    salvo_hf_job_expire(&j, &pol, 1, &a, j.deadline_ns),
		    SALVO_HF_QUEUED);
		salvo_hf_job_start(&j);
	}
	assert_int_equal(base, 60 * S);
	/* success resets the count */
	salvo_hf_job_finish(&j, &pol, SALVO_HF_OK, &a, NULL, 200 * S, 0);
	assert_int_equal(j.attempts, 0);
}

static void test_link_split_vanished(void **state)
{
	struct salvo_hf_job j;
	struct salvo_hf_stat a = st(10, 100);
	(void)state;

	queued(&j, &pol, a);
	assert_int_equal(
	    salvo_hf_job_finish(&j, &pol, SALVO_HF_LINK, &a, NULL, S, 0),
	    SALVO_HF_QUEUED);
	assert_int_equal(j.attempts, 0);
	salvo_hf_job_start(&j);
	assert_int_equal(
	    salvo_hf_job_finish(&j, &pol, SALVO_HF_SPLIT, &a, NULL, S, 0),
	    SALVO_HF_QUEUED);
	assert_true(j.solo);
	salvo_hf_job_start(&j);
	assert_int_equal(
	    salvo_hf_job_finish(&j, &pol, SALVO_HF_VANISHED, &a, NULL, S, 0),
	    SALVO_HF_GONE);
	/* finishing a job that is not sending changes nothing */
	assert_int_equal(
	    salvo_hf_job_finish(&j, &pol, SALVO_HF_OK, &a, NULL, S, 0),
	    SALVO_HF_GONE);
}

static void test_links_refused(void **state)
{
	struct salvo_hf_job j;
	struct salvo_hf_stat a = st(10, 100), b = st(11, 200);
	(void)state;

	/* what is refused */
	assert_null(salvo_hf_refusal(0, 1, 0));
	assert_non_null(strstr(salvo_hf_refusal(1, 1, 0), "symbolic link"));
	assert_non_null(strstr(salvo_hf_refusal(1, 1, 1), "symbolic link"));
	assert_non_null(strstr(salvo_hf_refusal(0, 2, 0), "hard links"));
	assert_non_null(strstr(salvo_hf_refusal(0, 2, 0), "allow_hardlinks"));
	assert_null(salvo_hf_refusal(0, 2, 1));

	/* a queued file refused: no deadline, nothing expires it */
	salvo_hf_job_init(&j, &pol, &a, 0, 1);
	assert_int_equal(salvo_hf_job_expire(&j, &pol, 1, &a, 0),
			 SALVO_HF_QUEUED);
	assert_int_equal(salvo_hf_job_refuse(&j, &a), SALVO_HF_REFUSED);
	assert_int_equal(salvo_hf_job_expire(&j, &pol, 1, &a, 100 * S),
			 SALVO_HF_REFUSED);
	assert_int_equal(salvo_hf_job_start(&j), SALVO_HF_REFUSED);
	/* written again (and acceptable then): it settles like a new file */
	assert_int_equal(salvo_hf_job_touch(&j, &pol, &b, 100 * S, 0),
			 SALVO_HF_SETTLING);
	assert_int_equal(j.deadline_ns, 102 * S);

	/* never taken out of a running session: the session decides */
	assert_int_equal(salvo_hf_job_expire(&j, &pol, 1, &b, 102 * S),
			 SALVO_HF_QUEUED);
	assert_int_equal(salvo_hf_job_start(&j), SALVO_HF_SENDING);
	assert_int_equal(salvo_hf_job_refuse(&j, &b), SALVO_HF_SENDING);
	/* the session found it a link as it started */
	assert_int_equal(salvo_hf_job_finish(&j, &pol, SALVO_HF_REFUSE, &b,
					     NULL, 103 * S, 0),
			 SALVO_HF_REFUSED);
	assert_string_equal(salvo_hf_state_name(SALVO_HF_REFUSED), "refused");
}

static void test_backoff_bounds(void **state)
{
	(void)state;
	/* attempt 1: [min/2, min] */
	assert_int_equal(salvo_hf_backoff_ns(1000, 100000, 1, 0), 500);
	assert_int_equal(salvo_hf_backoff_ns(1000, 100000, 1, 500), 1000);
	assert_int_equal(salvo_hf_backoff_ns(1000, 100000, 3, 2000), 4000);
	/* capped, and no overflow for huge attempt counts */
	assert_int_equal(salvo_hf_backoff_ns(1000, 5000, 40, 2500), 5000);
	assert_int_equal(
	    salvo_hf_backoff_ns(S, 300 * S, UINT32_MAX, UINT64_MAX) <= 300 * S,
	    1);
	assert_string_equal(salvo_hf_state_name(SALVO_HF_QUEUED), "queued");
	assert_string_equal(salvo_hf_state_name(99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_settles_then_queues),
	    cmocka_unit_test(test_aged_file_is_due_at_once),
	    cmocka_unit_test(test_vanished_while_settling),
	    cmocka_unit_test(test_sent_then_posted),
	    cmocka_unit_test(test_changed_while_sending_is_sent_again),
	    cmocka_unit_test(test_failure_backs_off),
	    cmocka_unit_test(test_link_split_vanished),
	    cmocka_unit_test(test_links_refused),
	    cmocka_unit_test(test_backoff_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
