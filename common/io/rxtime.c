/*
 * Kernel receive timestamps on the monotonic clock (see rxtime.h).  The
 * kernel stamps in CLOCK_REALTIME only (SO_TIMESTAMPNS; SO_TIMESTAMPING
 * is no better here), so the stamp's age is measured on the wall clock at
 * read time and subtracted from the monotonic clock read at the same
 * moment: the two reads are a few tens of ns apart, far below the waits
 * this corrects.
 */
#include "common/io/rxtime.h"

#include <errno.h>
#include <string.h>

#include "common/io/sys.h"

int salvo_rxtime_enable(int fd)
{
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)))
		return -errno;
	return 0;
}

static uint64_t ns_of(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

void salvo_rxclock_read(salvo_rxclock *c)
{
	struct timespec r;
	c->mono = salvo_now_ns();
	clock_gettime(CLOCK_REALTIME, &r);
	c->real = ns_of(&r);
}

uint64_t salvo_rxtime_arrival(const struct msghdr *h, const salvo_rxclock *c)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm;
	     cm = CMSG_NXTHDR((struct msghdr *)h, cm)) {
		struct timespec ts;
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_TIMESTAMPNS ||
		    cm->cmsg_len < CMSG_LEN(sizeof(ts)))
			continue;
		memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
		uint64_t stamp = ns_of(&ts);
		uint64_t age = c->real > stamp ? c->real - stamp : 0;
		if (age > SALVO_RXTIME_MAX_AGE_NS)
			age = SALVO_RXTIME_MAX_AGE_NS;
		return c->mono > age ? c->mono - age : 0;
	}
	return c->mono;
}
