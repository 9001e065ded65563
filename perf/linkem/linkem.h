/*
 * linkem: userspace link emulator between two TUN devices (internal API
 * shared by linkem.c, opts.c, fwd.c and tun.c).
 */
#ifndef LINKEM_H
#define LINKEM_H

#include <stddef.h>
#include <stdint.h>

#include "perf/linkem/model.h"

enum { LINKEM_AB = 0, LINKEM_BA = 1 };

/* Everything the command line sets. */
struct linkem_opts {
	const char *netns[2]; /* namespace of side A / B, NULL: current */
	const char *dev[2];   /* TUN device name of side A / B */
	unsigned mtu;	      /* set on both devices; also buffer size */
	unsigned txqueuelen;  /* of both devices, 0: kernel default */
	uint64_t seed;
	double duration_s;	/* 0: until SIGINT/SIGTERM */
	uint64_t max_mem_bytes; /* packet buffers per direction */
	const char *pidfile;	/* written once the devices exist */
	struct linkem_params dir[2];
};

/* Parses argv into o (defaults first).  Returns 0, 1 when help was printed
 * (to stdout), or -1 with a message naming the bad argument in err. */
int linkem_opts_parse(struct linkem_opts *o, int argc, char **argv, char *err,
		      size_t errlen);
void linkem_opts_usage(const char *prog);

/* Opens (creating) TUN device name (IFF_TUN|IFF_NO_PI, non-blocking) inside
 * network namespace netns (a name under /var/run/netns, an absolute path,
 * or NULL for the current one), and sets its MTU and txqueuelen (0 keeps
 * the default).  The calling thread returns to its own namespace.  Returns
 * the fd, or -errno with the failing step in err. */
int linkem_tun_open(const char *netns, const char *name, unsigned mtu,
		    unsigned txqueuelen, char *err, size_t errlen);

/* One direction of the emulator: reads packets from in_fd, lets the model
 * decide, holds them until due, writes them to out_fd.  Owned by its thread
 * between linkem_fwd_start() and linkem_fwd_join(). */
struct linkem_fwd;

/* Starts the thread of direction dir.  Returns NULL with err set on failure.
 * The fds stay the caller's. */
struct linkem_fwd *linkem_fwd_start(int dir, int in_fd, int out_fd,
				    const struct linkem_opts *o, char *err,
				    size_t errlen);
/* Counters so far (any thread) and packets held right now. */
void linkem_fwd_snapshot(const struct linkem_fwd *f, struct linkem_counters *c,
			 uint64_t *held);
/* Asks the thread to stop, waits, and returns 0 or the thread's -errno
 * (message in err).  The final counters stay readable until _del. */
int linkem_fwd_join(struct linkem_fwd *f, char *err, size_t errlen);
void linkem_fwd_del(struct linkem_fwd *f);

#endif
