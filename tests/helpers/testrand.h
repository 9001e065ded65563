/*
 * A small seeded generator for randomized tests (splitmix64).  Every
 * randomized test takes its seed from testrand_seed(), prints it when it
 * fails, and replays with SALVO_TEST_SEED=<seed>.
 */
#ifndef SALVO_TESTS_TESTRAND_H
#define SALVO_TESTS_TESTRAND_H

#include <stdint.h>

typedef struct salvo_testrand {
	uint64_t s;
} salvo_testrand;

/* SALVO_TEST_SEED from the environment if set, else a fresh seed. */
uint64_t testrand_seed(void);

/* A test whose rows are tuned at one seed (make test): dflt, or
 * SALVO_TEST_SEED's, or a fresh one for SALVO_TEST_SEED=random;
 * printed under name, for replay. */
uint64_t testrand_fixed_seed(uint64_t dflt, const char *name);

static inline uint64_t testrand_next(salvo_testrand *r)
{
	uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform-enough in [0, n) for the small n tests use; n > 0. */
static inline uint64_t testrand_below(salvo_testrand *r, uint64_t n)
{
	return testrand_next(r) % n;
}

#endif
