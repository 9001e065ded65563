/*
 * Small OS helpers for the engines: the monotonic clock, sleeping until a
 * deadline, UDP addresses and sockets, BLAKE3 of files, peak RSS.
 * Functions return 0 or -errno captured at the failing call.
 */
#ifndef SALVO_SYS_H
#define SALVO_SYS_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/core/addr.h"

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t salvo_now_ns(void);

/* Initialises cv to time its waits on CLOCK_MONOTONIC (the clock of
 * salvo_now_ns), so pthread_cond_timedwait takes salvo_now_ns deadlines.
 * Returns 0 or -errno. */
int salvo_cond_init_monotonic(pthread_cond_t *cv);

/* Waits on cv (made by salvo_cond_init_monotonic; mu held) until it is
 * signalled or the monotonic time t (ns, salvo_now_ns) passes. */
void salvo_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t t);

/* Sleeps until the monotonic time t (returns at once if it passed). */
void salvo_sleep_until(uint64_t t);

/* Resolves host (name, IPv4 or IPv6 literal) and port into *ss.  Returns
 * 0 or a negative EAI-derived code; msg gets gai_strerror's text. */
int salvo_resolve(const char *host, uint16_t port, int passive,
		  struct sockaddr_storage *ss, socklen_t *len, char *msg,
		  size_t msglen);

/* "addr:port" or "[addr]:port" for a sockaddr. */
void salvo_format_addr(const struct sockaddr *sa, char *buf, size_t cap);

/* Converts a sockaddr into the core's salvo_addr (bytes and host). */
void salvo_addr_from_sockaddr(salvo_addr *a, const struct sockaddr *sa,
			      socklen_t len);

/* Sets SO_SNDBUF / SO_RCVBUF (0: leave) and returns the size the kernel
 * granted in *granted (doubled bookkeeping undone).  With CAP_NET_ADMIN
 * the sizes pass net.core.wmem_max / rmem_max (the FORCE options). */
int salvo_socket_buffers(int fd, uint64_t snd, uint64_t rcv,
			 uint64_t *snd_granted, uint64_t *rcv_granted);

/* 1 if this process may size socket buffers past the kernel's caps. */
int salvo_socket_buffers_uncapped(void);

/* Peak resident set size of this process (VmHWM), bytes; 0 if unknown. */
uint64_t salvo_peak_rss(void);

/* Raises RLIMIT_NOFILE's soft limit to the hard limit. */
void salvo_raise_fd_limit(void);

/* BLAKE3 of bytes [0, size) of fd (the protocol's file digest), read with
 * pread in 256 KiB pieces.  Returns 0, -ENOMEM, -errno (-EIO if the file
 * is shorter than size), or SALVO_ERR_ABORTED once *cancel (if not NULL)
 * becomes non-zero. */
int salvo_blake3_fd(int fd, uint64_t size, uint8_t out[32],
		    const atomic_int *cancel);

#endif
