/*
 * receiver/core/budget.c: a session's bookkeeping grows with its blocks
 * and entries exactly as rdata.c allocates them (6 bytes a block: CRC,
 * state, failures; 38 an entry: pending count, state, digest flag,
 * digest; plus the decoded manifest), and saturates instead of wrapping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/manifest.h"
#include "receiver/core/budget.h"

static salvo_manifest one_file(uint64_t size, salvo_entry *e, const char *p)
{
	memset(e, 0, sizeof(*e));
	e->type = SALVO_ENTRY_FILE;
	e->path = p;
	e->path_len = (uint16_t)strlen(p);
	e->size = size;
	return (salvo_manifest){.entries = e, .count = 1, .total_bytes = size};
}

static void test_grows_with_blocks_and_entries(void **state)
{
	(void)state;
	salvo_entry e[2];
	salvo_manifest m = one_file(0, e, "abc");
	uint64_t empty = salvo_rbudget_session_bytes(&m, 4096);
	m = one_file(4096 * 10, e, "abc");
	assert_int_equal(salvo_rbudget_session_bytes(&m, 4096) - empty, 10 * 6);
	m = one_file(4096 * 10 + 1, e, "abc"); /* a short 11th block */
	assert_int_equal(salvo_rbudget_session_bytes(&m, 4096) - empty, 11 * 6);
	/* one more entry: its tables, its manifest entry and its path */
	m = one_file(0, e, "abc");
	e[1] = e[0];
	e[1].path = "defgh";
	e[1].path_len = 5;
	m.count = 2;
	assert_int_equal(salvo_rbudget_session_bytes(&m, 4096) - empty,
			 38 + sizeof(salvo_entry) + 1 + 5);
	assert_int_equal(salvo_rbudget_manifest_bytes(2, 8),
			 2 * (sizeof(salvo_entry) + 1) + 8);
}

/* The finding: 140 GB in 524-byte blocks cost half a GiB of the core's
 * tables alone; the figure says so before anything is allocated. */
static void test_finding(void **state)
{
	(void)state;
	salvo_entry e;
	salvo_manifest m = one_file(140000000000ull, &e, "huge");
	uint64_t n = salvo_rbudget_session_bytes(&m, 524);
	assert_true(n > (1400ull << 20)); /* 267 million blocks x 6 */
	assert_true(n < (1700ull << 20));
}

static void test_saturates(void **state)
{
	(void)state;
	salvo_entry e;
	salvo_manifest m = one_file(UINT64_MAX, &e, "x");
	assert_int_equal(salvo_rbudget_session_bytes(&m, 1), UINT64_MAX);
	assert_int_equal(salvo_rbudget_manifest_bytes(UINT64_MAX, 1),
			 UINT64_MAX);
	assert_int_equal(salvo_rbudget_manifest_bytes(1, UINT64_MAX),
			 UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grows_with_blocks_and_entries),
	    cmocka_unit_test(test_finding),
	    cmocka_unit_test(test_saturates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
