/*
 * When a datagram reached this host: the kernel's receive timestamp
 * (SO_TIMESTAMPNS), moved onto the engines' monotonic clock.
 *
 * A thread that reads its socket late (a loaded host, a lock held, a
 * stopped process) would otherwise stamp a packet with its own read time
 * and pass that wait to the rate control as network delay.  The kernel
 * stamps each datagram in CLOCK_REALTIME as it queues it; the reader takes
 * both clocks once per batch (salvo_rxclock_read, two vDSO calls, no
 * system call) and converts each stamp:
 *     arrival = mono - (real - stamp), clamped to [mono - 1 s, mono]
 * so a wall clock step during the wait cannot put an arrival in the future
 * or absurdly far back.  A message without the cmsg (the option refused,
 * an old kernel) arrives at mono: the read time, as before.
 *
 * Hot path: no allocation, no system call per datagram; the caller gives
 * each message of its recvmmsg batch SALVO_RXTIME_CMSG_BYTES of control
 * room (add it to any other cmsg room, e.g. UDP_GRO's).
 */
#ifndef SALVO_RXTIME_H
#define SALVO_RXTIME_H

#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

/* Control bytes one message needs for its timestamp. */
#define SALVO_RXTIME_CMSG_BYTES CMSG_SPACE(sizeof(struct timespec))
/* The oldest arrival believed: a stamp further back is clamped here. */
#define SALVO_RXTIME_MAX_AGE_NS 1000000000ull

/* Both clocks at one read time, nanoseconds. */
typedef struct salvo_rxclock {
	uint64_t mono; /* CLOCK_MONOTONIC (salvo_now_ns) */
	uint64_t real; /* CLOCK_REALTIME, the kernel stamp's clock */
} salvo_rxclock;

/* Asks the kernel to stamp fd's datagrams (SO_TIMESTAMPNS).  Returns 0 or
 * -errno; without it every arrival is the read time. */
int salvo_rxtime_enable(int fd);

/* Takes both clocks now; call right after the batch was read. */
void salvo_rxclock_read(salvo_rxclock *c);

/* The monotonic arrival time (ns) of the message h read at c: from its
 * SCM_TIMESTAMPNS cmsg, or c->mono when it has none. */
uint64_t salvo_rxtime_arrival(const struct msghdr *h, const salvo_rxclock *c);

#endif
