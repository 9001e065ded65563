/*
 * OS helpers (see sys.h).  Kept deliberately thin: each wraps one system
 * facility and reports errno as -errno.
 */
#include "common/io/sys.h"

#include "common/core/blake3.h"
#include "common/core/error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

uint64_t salvo_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int salvo_cond_init_monotonic(pthread_cond_t *cv)
{
	pthread_condattr_t ca;
	int e = pthread_condattr_init(&ca);
	if (e)
		return -e;
	e = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!e)
		e = pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
	return -e;
}

void salvo_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t t)
{
	struct timespec ts = {(time_t)(t / 1000000000ull),
			      (long)(t % 1000000000ull)};
	pthread_cond_timedwait(cv, mu, &ts);
}

void salvo_sleep_until(uint64_t t)
{
	struct timespec ts = {(time_t)(t / 1000000000ull),
			      (long)(t % 1000000000ull)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

int salvo_resolve(const char *host, uint16_t port, int passive,
		  struct sockaddr_storage *ss, socklen_t *len, char *msg,
		  size_t msglen)
{
	struct addrinfo hints, *res = NULL;
	char portstr[8];
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	snprintf(portstr, sizeof(portstr), "%u", port);
	int rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc) {
		snprintf(msg, msglen, "cannot resolve '%s': %s",
			 host ? host : "*", gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

void salvo_format_addr(const struct sockaddr *sa, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, cap, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(buf, cap, "%s:%u", ip, ntohs(s4->sin_port));
	}
}

void salvo_addr_from_sockaddr(salvo_addr *a, const struct sockaddr *sa,
			      socklen_t len)
{
	memset(a, 0, sizeof(*a));
	a->len = len > sizeof(a->bytes) ? sizeof(a->bytes) : len;
	memcpy(a->bytes, sa, a->len);
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		a->host_len = 16;
		memcpy(a->host, &s6->sin6_addr, 16);
	} else {
		const struct sockaddr_in *s4 = (const void *)sa;
		a->host_len = 4;
		memcpy(a->host, &s4->sin_addr, 4);
	}
}

int salvo_socket_buffers(int fd, uint64_t snd, uint64_t rcv,
			 uint64_t *snd_granted, uint64_t *rcv_granted)
{
	int v;
	socklen_t l = sizeof(v);
	/* the FORCE options pass net.core.[wr]mem_max, for a process
	 * with CAP_NET_ADMIN; others get the plain ones, capped */
	if (snd) {
		v = snd > 0x3fffffff ? 0x3fffffff : (int)snd;
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) &&
		    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)))
			return -errno;
	}
	if (rcv) {
		v = rcv > 0x3fffffff ? 0x3fffffff : (int)rcv;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) &&
		    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)))
			return -errno;
	}
	if (snd_granted && !getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &l))
		*snd_granted = (uint64_t)v / 2;
	l = sizeof(v);
	if (rcv_granted && !getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &l))
		*rcv_granted = (uint64_t)v / 2;
	return 0;
}

int salvo_socket_buffers_uncapped(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), v = 65536;
	int ok = fd >= 0 &&
		 !setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v));
	if (fd >= 0)
		close(fd);
	return ok;
}

uint64_t salvo_peak_rss(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	uint64_t kb = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6)) {
			kb = strtoull(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kb * 1024;
}

void salvo_raise_fd_limit(void)
{
	struct rlimit rl;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int salvo_blake3_fd(int fd, uint64_t size, uint8_t out[32],
		    const atomic_int *cancel)
{
	enum { PIECE = 256 << 10 }; /* whole 16-chunk subtrees */
	/* a small file gets a small buffer (a 256 KiB malloc is an mmap and
	 * munmap per file: 100,000 of them for a tree of small files) */
	size_t cap = size < PIECE ? (size_t)size + 1 : (size_t)PIECE;
	uint8_t *buf = malloc(cap);
	salvo_blake3 *h = malloc(sizeof(*h));
	int err = 0;
	if (!buf || !h) {
		free(buf);
		free(h);
		return -ENOMEM;
	}
	salvo_blake3_init(h);
	for (uint64_t off = 0; off < size;) {
		if (cancel && atomic_load(cancel)) {
			err = SALVO_ERR_ABORTED;
			break;
		}
		size_t want = size - off < cap ? (size_t)(size - off) : cap;
		ssize_t n = pread(fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		salvo_blake3_update(h, buf, (size_t)n);
		off += (uint64_t)n;
	}
	if (!err)
		salvo_blake3_final(h, out);
	free(buf);
	free(h);
	return err;
}
