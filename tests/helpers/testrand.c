/* Seeds for randomized tests: replayable from the environment. */
#include "tests/helpers/testrand.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t testrand_seed(void)
{
	const char *s = getenv("SALVO_TEST_SEED");
	if (s && *s)
		return strtoull(s, NULL, 0);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000007u + (uint64_t)ts.tv_nsec;
}

uint64_t testrand_fixed_seed(uint64_t dflt, const char *name)
{
	const char *env = getenv("SALVO_TEST_SEED");
	uint64_t seed = dflt;
	if (env && !strcmp(env, "random")) {
		unsetenv("SALVO_TEST_SEED");
		seed = testrand_seed();
	} else if (env && *env) {
		seed = testrand_seed();
	}
	printf("%s: seed %llu (SALVO_TEST_SEED replays)\n", name,
	       (unsigned long long)seed);
	return seed;
}
