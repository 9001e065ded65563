/*
 * Tagged range sets.  Directed cases pin the merging rules (equal tags
 * merge when they touch, different tags stay apart, an add replaces what
 * it covers) and the queries; a seeded random walk of add / remove /
 * retag / remove_below over [0, 200) is checked after every step against a
 * byte-array model, whose maximal runs are the only valid representation
 * of the set; an allocator that fails proves a refused edit changes
 * nothing.  All allocations go through cmocka, so leaks fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/error.h"
#include "common/core/rangeset.h"
#include "tests/helpers/testmem.h"
#include "tests/helpers/testrand.h"

#define MAXR 8

/* One edit of a directed case. */
typedef struct op {
	char kind; /* 'a'dd, 'r'emove, 'b'elow, 't'retag */
	uint64_t s, e, tag, new_tag;
} op;

typedef struct rcase {
	const char *name;
	op ops[4];
	salvo_trange want[MAXR];
	size_t n;
} rcase;

static int apply(salvo_rangeset *rs, const op *o)
{
	switch (o->kind) {
	case 'a':
		return salvo_rangeset_add(rs, o->s, o->e, o->tag);
	case 'r':
		return salvo_rangeset_remove(rs, o->s, o->e);
	case 'b':
		salvo_rangeset_remove_below(rs, o->s);
		return 0;
	case 't':
		return salvo_rangeset_retag(rs, o->s, o->e, o->tag, o->new_tag);
	}
	return SALVO_ERR_INVAL;
}

static void expect_ranges(const char *name, const salvo_rangeset *rs,
			  const salvo_trange *want, size_t n)
{
	uint64_t bytes = 0;
	for (size_t i = 0; i < n; i++)
		bytes += want[i].end - want[i].start;
	if (rs->n != n)
		fail_msg("%s: %zu ranges, want %zu", name, rs->n, n);
	for (size_t i = 0; i < n; i++)
		if (rs->r[i].start != want[i].start ||
		    rs->r[i].end != want[i].end || rs->r[i].tag != want[i].tag)
			fail_msg("%s: range %zu is [%llu,%llu)@%llu, want "
				 "[%llu,%llu)@%llu",
				 name, i, (unsigned long long)rs->r[i].start,
				 (unsigned long long)rs->r[i].end,
				 (unsigned long long)rs->r[i].tag,
				 (unsigned long long)want[i].start,
				 (unsigned long long)want[i].end,
				 (unsigned long long)want[i].tag);
	if (rs->bytes != bytes)
		fail_msg("%s: bytes %llu, want %llu", name,
			 (unsigned long long)rs->bytes,
			 (unsigned long long)bytes);
	assert_int_equal(salvo_rangeset_is_empty(rs), n == 0);
}

static const rcase cases[] = {
    {"empty add is a no-op", {{'a', 5, 5, 1}, {'a', 7, 3, 1}}, {{0}}, 0},
    {"one range", {{'a', 10, 20, 3}}, {{10, 20, 3}}, 1},
    {"touching, same tag: merge",
     {{'a', 10, 20, 1}, {'a', 20, 30, 1}, {'a', 5, 10, 1}},
     {{5, 30, 1}},
     1},
    {"touching, different tags: apart",
     {{'a', 10, 20, 1}, {'a', 20, 30, 2}, {'a', 5, 10, 3}},
     {{5, 10, 3}, {10, 20, 1}, {20, 30, 2}},
     3},
    {"overlap, same tag: union",
     {{'a', 10, 20, 1}, {'a', 15, 25, 1}},
     {{10, 25, 1}},
     1},
    {"overlap, different tag: newer wins",
     {{'a', 10, 20, 1}, {'a', 15, 25, 2}},
     {{10, 15, 1}, {15, 25, 2}},
     2},
    {"inside, different tag: split in three",
     {{'a', 10, 40, 1}, {'a', 20, 30, 2}},
     {{10, 20, 1}, {20, 30, 2}, {30, 40, 1}},
     3},
    {"inside, same tag: unchanged",
     {{'a', 10, 40, 1}, {'a', 20, 30, 1}},
     {{10, 40, 1}},
     1},
    {"cover several: replaced, ends merge",
     {{'a', 0, 5, 7}, {'a', 10, 15, 2}, {'a', 20, 25, 3}, {'a', 5, 30, 7}},
     {{0, 30, 7}},
     1},
    {"bridge two equal tags",
     {{'a', 0, 10, 4}, {'a', 20, 30, 4}, {'a', 10, 20, 4}},
     {{0, 30, 4}},
     1},
    {"bridge, different tag keeps three",
     {{'a', 0, 10, 4}, {'a', 20, 30, 4}, {'a', 10, 20, 5}},
     {{0, 10, 4}, {10, 20, 5}, {20, 30, 4}},
     3},
    {"re-add the middle with the outer tag remerges",
     {{'a', 0, 30, 1}, {'a', 10, 20, 2}, {'a', 10, 20, 1}},
     {{0, 30, 1}},
     1},
    {"remove the middle",
     {{'a', 0, 30, 1}, {'r', 10, 20}},
     {{0, 10, 1}, {20, 30, 1}},
     2},
    {"remove across ranges",
     {{'a', 0, 10, 1}, {'a', 20, 30, 2}, {'a', 40, 50, 3}, {'r', 5, 45}},
     {{0, 5, 1}, {45, 50, 3}},
     2},
    {"remove nothing there",
     {{'a', 10, 20, 1}, {'r', 0, 10}, {'r', 20, 30}},
     {{10, 20, 1}},
     1},
    {"remove empty",
     {{'a', 10, 20, 1}, {'r', 15, 15}, {'r', 18, 12}},
     {{10, 20, 1}},
     1},
    {"remove_below inside a range",
     {{'a', 0, 10, 1}, {'a', 20, 30, 2}, {'b', 25}},
     {{25, 30, 2}},
     1},
    {"remove_below at a boundary",
     {{'a', 0, 10, 1}, {'a', 20, 30, 2}, {'b', 20}},
     {{20, 30, 2}},
     1},
    {"remove_below in a gap, and of everything",
     {{'a', 0, 10, 1}, {'a', 20, 30, 2}, {'b', 15}, {'b', 100}},
     {{0}},
     0},
    {"remove_below 0 keeps all", {{'a', 0, 10, 1}, {'b', 0}}, {{0, 10, 1}}, 1},
    {"retag part of a range",
     {{'a', 0, 30, 1}, {'t', 10, 20, 1, 2}},
     {{0, 10, 1}, {10, 20, 2}, {20, 30, 1}},
     3},
    {"retag only the old tag",
     {{'a', 0, 10, 1}, {'a', 10, 20, 2}, {'a', 20, 30, 1}, {'t', 5, 25, 1, 3}},
     {{0, 5, 1}, {5, 10, 3}, {10, 20, 2}, {20, 25, 3}, {25, 30, 1}},
     5},
    {"retag merges with a neighbour",
     {{'a', 0, 10, 2}, {'a', 10, 20, 1}, {'a', 20, 30, 2}, {'t', 0, 30, 1, 2}},
     {{0, 30, 2}},
     1},
    {"retag to the same tag, and of nothing",
     {{'a', 0, 10, 2}, {'t', 0, 10, 2, 2}, {'t', 0, 10, 5, 6}},
     {{0, 10, 2}},
     1},
    {"large offsets",
     {{'a', UINT64_MAX - 10, UINT64_MAX, 9}, {'a', 0, 1, 9}},
     {{0, 1, 9}, {UINT64_MAX - 10, UINT64_MAX, 9}},
     2},
};

static void test_directed(void **state)
{
	salvo_mem mem = testmem_cmocka();
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		salvo_rangeset rs;
		salvo_rangeset_init(&rs, &mem);
		for (size_t j = 0; j < 4 && cases[i].ops[j].kind; j++)
			assert_int_equal(apply(&rs, &cases[i].ops[j]), 0);
		expect_ranges(cases[i].name, &rs, cases[i].want, cases[i].n);
		salvo_rangeset_free(&rs);
		assert_int_equal(rs.n, 0);
		salvo_rangeset_free(&rs); /* twice is harmless */
	}
}

/* {0,10)@1 {10,20)@2 {30,40)@3 {50,60)@1 */
static void build_queries(salvo_rangeset *rs)
{
	assert_int_equal(salvo_rangeset_add(rs, 0, 10, 1), 0);
	assert_int_equal(salvo_rangeset_add(rs, 10, 20, 2), 0);
	assert_int_equal(salvo_rangeset_add(rs, 30, 40, 3), 0);
	assert_int_equal(salvo_rangeset_add(rs, 50, 60, 1), 0);
}

static void test_queries(void **state)
{
	static const struct {
		uint64_t s, e;
		int covers, intersects;
		uint64_t max_tag;
	} q[] = {
	    {0, 20, 1, 1, 2}, /* across two touching ranges */
	    {5, 15, 1, 1, 2},  {0, 10, 1, 1, 1},   {9, 10, 1, 1, 1},
	    {10, 11, 1, 1, 2}, {19, 21, 0, 1, 2},  {20, 30, 0, 0, 0},
	    {15, 35, 0, 1, 3}, {20, 31, 0, 1, 3},  {29, 30, 0, 0, 0},
	    {40, 50, 0, 0, 0}, {60, 100, 0, 0, 0}, {0, 60, 0, 1, 3},
	    {35, 55, 0, 1, 3}, {55, 56, 1, 1, 1},  {7, 7, 1, 0, 0},
	};
	static const struct {
		uint64_t x;
		size_t idx;
	} lb[] = {{0, 0},  {9, 0},  {10, 1}, {19, 1}, {20, 2},	      {25, 2},
		  {39, 2}, {40, 3}, {59, 3}, {60, 4}, {UINT64_MAX, 4}};
	salvo_mem mem = testmem_cmocka();
	salvo_rangeset rs;
	(void)state;
	salvo_rangeset_init(&rs, &mem);
	salvo_rangeset_remove_below(&rs, 5); /* nothing allocated yet */
	assert_int_equal(salvo_rangeset_remove(&rs, 0, 5), 0);
	assert_int_equal(salvo_rangeset_retag(&rs, 0, 5, 0, 1), 0);
	assert_int_equal(salvo_rangeset_lower_bound(&rs, 5), 0);
	assert_false(salvo_rangeset_intersects(&rs, 0, 100));
	assert_false(salvo_rangeset_covers(&rs, 0, 1));
	assert_true(salvo_rangeset_covers(&rs, 3, 3));
	assert_int_equal(salvo_rangeset_max_tag(&rs, 0, 100), 0);
	build_queries(&rs);
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		if (salvo_rangeset_covers(&rs, q[i].s, q[i].e) != q[i].covers ||
		    salvo_rangeset_intersects(&rs, q[i].s, q[i].e) !=
			q[i].intersects)
			fail_msg("query %zu [%llu,%llu)", i,
				 (unsigned long long)q[i].s,
				 (unsigned long long)q[i].e);
		if (q[i].s < q[i].e)
			assert_int_equal(
			    salvo_rangeset_max_tag(&rs, q[i].s, q[i].e),
			    q[i].max_tag);
	}
	for (size_t i = 0; i < sizeof(lb) / sizeof(lb[0]); i++)
		assert_int_equal(salvo_rangeset_lower_bound(&rs, lb[i].x),
				 lb[i].idx);
	salvo_rangeset_free(&rs);
}

/* ---- randomized comparison against a byte-array model ---- */

#define SPAN 200
#define NO_TAG (-1)

static void check_model(const salvo_rangeset *rs, const int *model,
			uint64_t seed, unsigned step)
{
	salvo_trange want[SPAN];
	size_t n = 0;
	for (int i = 0; i < SPAN; i++) {
		if (model[i] == NO_TAG)
			continue;
		if (n && want[n - 1].end == (uint64_t)i &&
		    want[n - 1].tag == (uint64_t)model[i])
			want[n - 1].end++;
		else
			want[n++] = (salvo_trange){(uint64_t)i, (uint64_t)i + 1,
						   (uint64_t)model[i]};
	}
	char name[64];
	snprintf(name, sizeof(name), "seed %llu step %u",
		 (unsigned long long)seed, step);
	/* the model's maximal runs are the one representation meeting the
	 * invariants (sorted, non-empty, disjoint, touching => tags differ) */
	expect_ranges(name, rs, want, n);
}

static void check_queries(const salvo_rangeset *rs, const int *model,
			  uint64_t s, uint64_t e, uint64_t seed)
{
	int covers = 1, meets = 0, max = 0;
	for (uint64_t i = s; i < e; i++) {
		covers &= model[i] != NO_TAG;
		meets |= model[i] != NO_TAG;
		if (model[i] > max)
			max = model[i];
	}
	size_t lb = salvo_rangeset_lower_bound(rs, s);
	if (salvo_rangeset_covers(rs, s, e) != covers ||
	    salvo_rangeset_intersects(rs, s, e) != (s < e && meets) ||
	    (s < e && salvo_rangeset_max_tag(rs, s, e) != (uint64_t)max) ||
	    (lb < rs->n && rs->r[lb].end <= s) ||
	    (lb > 0 && rs->r[lb - 1].end > s))
		fail_msg("seed %llu: query [%llu,%llu)",
			 (unsigned long long)seed, (unsigned long long)s,
			 (unsigned long long)e);
}

static void test_random_against_model(void **state)
{
	uint64_t seed = testrand_seed();
	salvo_testrand rnd = {seed};
	salvo_mem mem = testmem_cmocka();
	salvo_rangeset rs;
	int model[SPAN];
	(void)state;
	for (int i = 0; i < SPAN; i++)
		model[i] = NO_TAG;
	salvo_rangeset_init(&rs, &mem);
	for (unsigned step = 0; step < 20000; step++) {
		uint64_t s = testrand_below(&rnd, SPAN + 1);
		uint64_t e = testrand_below(&rnd, SPAN + 1);
		if (e < s && testrand_below(&rnd, 8)) { /* mostly ordered */
			uint64_t t = s;
			s = e;
			e = t;
		}
		int tag = (int)testrand_below(&rnd, 4) + 1;
		int new_tag = (int)testrand_below(&rnd, 4) + 1;
		int err = 0;
		switch (testrand_below(&rnd, 10)) {
		case 0:
		case 1:
		case 2:
		case 3:
			err = salvo_rangeset_add(&rs, s, e, (uint64_t)tag);
			for (uint64_t i = s; i < e; i++)
				model[i] = tag;
			break;
		case 4:
		case 5:
			err = salvo_rangeset_remove(&rs, s, e);
			for (uint64_t i = s; i < e; i++)
				model[i] = NO_TAG;
			break;
		case 6:
		case 7:
			err = salvo_rangeset_retag(&rs, s, e, (uint64_t)tag,
						   (uint64_t)new_tag);
			for (uint64_t i = s; i < e; i++)
				if (model[i] == tag)
					model[i] = new_tag;
			break;
		case 8:
			/* rarely: keep the set populated */
			if (testrand_below(&rnd, 4) == 0) {
				salvo_rangeset_remove_below(&rs, s);
				for (uint64_t i = 0; i < s; i++)
					model[i] = NO_TAG;
			}
			break;
		default:
			check_queries(&rs, model, s, e, seed);
			break;
		}
		if (err)
			fail_msg("seed %llu step %u: error %d",
				 (unsigned long long)seed, step, err);
		check_model(&rs, model, seed, step);
	}
	salvo_rangeset_free(&rs);
}

/* ---- allocation failure ---- */

static void snapshot(const salvo_rangeset *rs, salvo_trange *copy, size_t *n)
{
	*n = rs->n;
	memcpy(copy, rs->r, rs->n * sizeof(*copy));
}

static void test_nomem_leaves_set_unchanged(void **state)
{
	salvo_mem mem = testmem_cmocka();
	salvo_failmem fm;
	salvo_rangeset rs;
	salvo_trange before[16];
	size_t n;
	(void)state;
	salvo_failmem_init(&fm, &mem, 1); /* the first array of 8 only */
	salvo_rangeset_init(&rs, &fm.mem);
	for (uint64_t i = 0; i < 8; i++)
		assert_int_equal(salvo_rangeset_add(&rs, i * 10, i * 10 + 5, i),
				 0);
	assert_int_equal(fm.calls, 1);
	assert_int_equal(rs.n, rs.cap);
	snapshot(&rs, before, &n);

	/* a ninth range needs room */
	assert_int_equal(salvo_rangeset_add(&rs, 100, 105, 1), SALVO_ERR_NOMEM);
	expect_ranges("add", &rs, before, n);
	/* splitting one range in three, or in two by remove or retag */
	assert_int_equal(salvo_rangeset_add(&rs, 21, 23, 9), SALVO_ERR_NOMEM);
	expect_ranges("add inside", &rs, before, n);
	assert_int_equal(salvo_rangeset_remove(&rs, 31, 33), SALVO_ERR_NOMEM);
	expect_ranges("remove", &rs, before, n);
	assert_int_equal(salvo_rangeset_retag(&rs, 41, 43, 4, 9),
			 SALVO_ERR_NOMEM);
	expect_ranges("retag", &rs, before, n);
	assert_int_equal(fm.calls, 5);

	/* edits that need no room still work */
	assert_int_equal(salvo_rangeset_add(&rs, 5, 10, 0), 0);
	assert_int_equal(salvo_rangeset_remove(&rs, 70, 75), 0);
	assert_int_equal(salvo_rangeset_retag(&rs, 60, 65, 6, 9), 0);
	assert_int_equal(salvo_rangeset_add(&rs, 100, 105, 1), 0);
	assert_int_equal(fm.calls, 5);
	static const salvo_trange after[] = {
	    {0, 10, 0},	 {10, 15, 1}, {20, 25, 2}, {30, 35, 3},
	    {40, 45, 4}, {50, 55, 5}, {60, 65, 9}, {100, 105, 1},
	};
	expect_ranges("after", &rs, after, 8);

	/* and growth resumes once memory is back */
	fm.allow = 1;
	assert_int_equal(salvo_rangeset_add(&rs, 200, 205, 1), 0);
	assert_int_equal(rs.n, 9);
	salvo_rangeset_free(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_directed),
	    cmocka_unit_test(test_queries),
	    cmocka_unit_test(test_random_against_model),
	    cmocka_unit_test(test_nomem_leaves_set_unchanged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
