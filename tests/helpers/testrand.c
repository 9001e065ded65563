/* Seeds for randomized tests: replayable from the environment. */
#include "tests/helpers/testrand.h"

#include <stdlib.h>
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
