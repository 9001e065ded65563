/*
 * receiver/core/rrecent.c: the receiver's memory of recent commits.  A
 * record is found by its identity until it expires or WAYS newer
 * identities of its set push it out (the oldest goes first); adding the
 * same identity again replaces its record; nothing is allocated before
 * the first add, and a failed first allocation leaves an empty table.
 * Checked against a simple model over a seeded walk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/error.h"
#include "receiver/core/rrecent.h"
#include "tests/helpers/testmem.h"
#include "tests/helpers/testrand.h"

#define SEC UINT64_C(1000000000)

/* an identity in set `set`, told apart by `n` */
static salvo_rrecent_rec rec_in(uint32_t set, uint32_t n)
{
	salvo_rrecent_rec r;
	memset(&r, 0, sizeof(r));
	uint32_t h = set + n * SALVO_RRECENT_SETS; /* same set, other bytes */
	for (int i = 0; i < 4; i++)
		r.id[i] = (uint8_t)(h >> (8 * i));
	r.id[31] = (uint8_t)n;
	r.digest[0] = (uint8_t)(n + 1);
	r.ino = 1000 + n;
	return r;
}

static void test_find_replace_expire(void **state)
{
	(void)state;
	salvo_mem mem = testmem_cmocka();
	salvo_rrecent t;
	salvo_rrecent_init(&t, &mem, 60 * SEC);
	salvo_rrecent_rec a = rec_in(7, 0);
	assert_null(salvo_rrecent_find(&t, a.id, 0)); /* nothing allocated */
	assert_null(t.slot);
	assert_int_equal(salvo_rrecent_add(&t, &a, 10 * SEC), 0);
	const salvo_rrecent_rec *f = salvo_rrecent_find(&t, a.id, 11 * SEC);
	assert_non_null(f);
	assert_int_equal(f->ino, 1000);
	assert_int_equal(f->at_ns, 10 * SEC);
	/* the same identity again: one record, the new one */
	a.ino = 5;
	assert_int_equal(salvo_rrecent_add(&t, &a, 20 * SEC), 0);
	f = salvo_rrecent_find(&t, a.id, 21 * SEC);
	assert_int_equal(f->ino, 5);
	/* another identity of the same set is not it */
	salvo_rrecent_rec b = rec_in(7, 1);
	assert_null(salvo_rrecent_find(&t, b.id, 21 * SEC));
	/* expired: 60 s after its add, not before */
	assert_non_null(salvo_rrecent_find(&t, a.id, 80 * SEC));
	assert_null(salvo_rrecent_find(&t, a.id, 80 * SEC + 1));
	salvo_rrecent_free(&t);
	salvo_rrecent_free(&t); /* twice is harmless */
}

static void test_oldest_goes_first(void **state)
{
	(void)state;
	salvo_mem mem = testmem_cmocka();
	salvo_rrecent t;
	salvo_rrecent_init(&t, &mem, 0); /* no expiry */
	for (uint32_t n = 0; n < SALVO_RRECENT_WAYS; n++) {
		salvo_rrecent_rec r = rec_in(3, n);
		assert_int_equal(salvo_rrecent_add(&t, &r, (10 - n) * SEC), 0);
	}
	/* the set is full; record WAYS - 1 is the oldest (added at the
	 * smallest now) and is the one replaced */
	salvo_rrecent_rec r = rec_in(3, 99);
	assert_int_equal(salvo_rrecent_add(&t, &r, 20 * SEC), 0);
	for (uint32_t n = 0; n < SALVO_RRECENT_WAYS; n++) {
		salvo_rrecent_rec q = rec_in(3, n);
		if (n == SALVO_RRECENT_WAYS - 1)
			assert_null(salvo_rrecent_find(&t, q.id, 20 * SEC));
		else
			assert_non_null(salvo_rrecent_find(&t, q.id, 20 * SEC));
	}
	assert_non_null(salvo_rrecent_find(&t, r.id, UINT64_MAX));
	/* other sets are untouched */
	salvo_rrecent_rec o = rec_in(4, 0);
	assert_null(salvo_rrecent_find(&t, o.id, 20 * SEC));
	salvo_rrecent_free(&t);
}

/* An expired record is reused before a live one is pushed out. */
static void test_expired_reused_first(void **state)
{
	(void)state;
	salvo_mem mem = testmem_cmocka();
	salvo_rrecent t;
	salvo_rrecent_init(&t, &mem, 100 * SEC);
	for (uint32_t n = 0; n < SALVO_RRECENT_WAYS; n++) {
		salvo_rrecent_rec r = rec_in(9, n);
		/* record 2 is older than the expiry at 200 s; 0 the oldest
		 * live one */
		uint64_t at = n == 2 ? 50 * SEC : (120 + n) * SEC;
		assert_int_equal(salvo_rrecent_add(&t, &r, at), 0);
	}
	salvo_rrecent_rec r = rec_in(9, 50);
	assert_int_equal(salvo_rrecent_add(&t, &r, 200 * SEC), 0);
	for (uint32_t n = 0; n < SALVO_RRECENT_WAYS; n++) {
		salvo_rrecent_rec q = rec_in(9, n);
		if (n == 2)
			assert_null(salvo_rrecent_find(&t, q.id, 200 * SEC));
		else
			assert_non_null(
			    salvo_rrecent_find(&t, q.id, 200 * SEC));
	}
	salvo_rrecent_free(&t);
}

static void *fail_realloc(void *ud, void *p, size_t n)
{
	(void)ud;
	(void)n;
	(void)p;
	return NULL;
}

static void test_no_memory(void **state)
{
	(void)state;
	salvo_mem mem = {fail_realloc, NULL};
	salvo_rrecent t;
	salvo_rrecent_init(&t, &mem, 0);
	salvo_rrecent_rec r = rec_in(1, 1);
	assert_int_equal(salvo_rrecent_add(&t, &r, 1), SALVO_ERR_NOMEM);
	assert_null(salvo_rrecent_find(&t, r.id, 1));
	salvo_rrecent_free(&t);
}

/* A seeded walk against a model: per set, the live identities in the
 * order they were added; the table finds exactly the model's. */
static void test_model_walk(void **state)
{
	(void)state;
	uint64_t seed = testrand_seed();
	salvo_testrand rng = {seed};
	salvo_mem mem = testmem_cmocka();
	salvo_rrecent t;
	salvo_rrecent_init(&t, &mem, 0);
	enum { SETS = 4, IDS = 12 };
	uint64_t added[SETS][IDS]; /* when, 0: not in the table */
	memset(added, 0, sizeof(added));
	for (uint64_t now = 1; now < 4000; now++) {
		uint32_t s = (uint32_t)testrand_below(&rng, SETS);
		uint32_t n = (uint32_t)testrand_below(&rng, IDS);
		salvo_rrecent_rec r = rec_in(s, n);
		if (testrand_below(&rng, 3)) {
			assert_int_equal(salvo_rrecent_add(&t, &r, now), 0);
			if (!added[s][n]) { /* a new one: the oldest may go */
				uint32_t live = 0, old = 0;
				for (uint32_t k = 0; k < IDS; k++)
					if (added[s][k]) {
						live++;
						if (!added[s][old] ||
						    added[s][k] < added[s][old])
							old = k;
					}
				if (live == SALVO_RRECENT_WAYS)
					added[s][old] = 0;
			}
			added[s][n] = now;
		}
		const salvo_rrecent_rec *f = salvo_rrecent_find(&t, r.id, now);
		if (!added[s][n] != !f)
			fail_msg("seed %llu at %llu: set %u id %u %s",
				 (unsigned long long)seed,
				 (unsigned long long)now, s, n,
				 f ? "found, not in the model" : "lost");
		if (f)
			assert_int_equal(f->at_ns, added[s][n]);
	}
	salvo_rrecent_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_find_replace_expire),
	    cmocka_unit_test(test_oldest_goes_first),
	    cmocka_unit_test(test_expired_reused_first),
	    cmocka_unit_test(test_no_memory),
	    cmocka_unit_test(test_model_walk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
