/*
 * The CLI's stop flag (cli/progress.h), with real signals in a child
 * process: the first SIGINT or SIGTERM sets the flag to its number and
 * the process goes on (to stop cleanly); a second one, while the flag is
 * set, ends the process at once with 128 + its number.  Also the byte
 * units of the progress line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/progress.h"

/* Runs in a forked child: catches, raises first then (if again) second;
 * exits 0 after the first alone when the flag reads first, 1 when it
 * does not, 2 when the second signal returned. */
static int child_status(int first, int second)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		volatile sig_atomic_t *stop = salvo_progress_catch_signals();
		if (!stop || *stop)
			_exit(1);
		raise(first);
		if (*stop != first)
			_exit(1);
		if (!second)
			_exit(0);
		raise(second);
		_exit(2);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void test_first_signal_sets_the_flag(void **state)
{
	(void)state;
	assert_int_equal(child_status(SIGINT, 0), 0);
	assert_int_equal(child_status(SIGTERM, 0), 0);
}

static void test_second_signal_exits_at_once(void **state)
{
	(void)state;
	assert_int_equal(child_status(SIGINT, SIGINT), 128 + SIGINT);
	assert_int_equal(child_status(SIGINT, SIGTERM), 128 + SIGTERM);
	assert_int_equal(child_status(SIGTERM, SIGINT), 128 + SIGINT);
}

static void test_human_units(void **state)
{
	(void)state;
	char b[32];
	assert_string_equal(salvo_progress_human(0, b, sizeof(b)), "0 B");
	assert_string_equal(salvo_progress_human(1023, b, sizeof(b)), "1023 B");
	assert_string_equal(salvo_progress_human(1024, b, sizeof(b)),
			    "1.00 KiB");
	assert_string_equal(salvo_progress_human(15 << 20, b, sizeof(b)),
			    "15.0 MiB");
	assert_string_equal(
	    salvo_progress_human(UINT64_C(300) << 30, b, sizeof(b)), "300 GiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_signal_sets_the_flag),
	    cmocka_unit_test(test_second_signal_exits_at_once),
	    cmocka_unit_test(test_human_units),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
