/*
 * One direction of linkem: a thread that reads packets from one TUN device,
 * asks the link model what happens to each, holds them until their due time
 * and writes them to the other device.
 *
 * Each direction has its own thread, buffers and model, so the two share
 * nothing and need no locks; the counters are read by the main thread with
 * relaxed loads.  The thread blocks in epoll_pwait2() on the input device
 * and a stop eventfd, with a nanosecond timeout until the earliest due
 * packet: no busy polling, and timer slack is set to 1 ns so a 50 ms delay
 * is 50 ms, not 50.05.  In-order packets have non-decreasing due times (the
 * model guarantees it), so they wait in a FIFO; only reordered ones go
 * through a binary heap.  Reads come in batches of up to READ_BATCH per
 * wake-up with one timestamp.  Buffers are MTU-sized, kept on a free list,
 * and capped by --max-mem: past the cap a packet is read into a scratch
 * buffer and counted as drop_mem, never left in the device to stall it.
 */
#include "perf/linkem/linkem.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define READ_BATCH 64

struct pkt {
	struct pkt *next;
	uint64_t due_ns;
	uint32_t len;
	uint8_t data[];
};

struct linkem_fwd {
	int dir, in_fd, out_fd, stop_fd, ep;
	size_t bufsz;
	uint64_t nbufs, max_bufs;
	struct pkt *free_list;
	struct pkt *fifo_head, *fifo_tail;
	struct pkt **heap;
	size_t heap_len, heap_cap;
	uint64_t held;
	uint8_t *scratch;
	struct linkem_dir model;
	pthread_t thread;
	int err;
	char errmsg[256];
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct pkt *pkt_get(struct linkem_fwd *f)
{
	struct pkt *p = f->free_list;
	if (p) {
		f->free_list = p->next;
		return p;
	}
	if (f->nbufs >= f->max_bufs)
		return NULL;
	p = malloc(sizeof(*p) + f->bufsz);
	if (p)
		f->nbufs++;
	return p;
}

static void pkt_put(struct linkem_fwd *f, struct pkt *p)
{
	p->next = f->free_list;
	f->free_list = p;
}

static void heap_swap(struct pkt **h, size_t a, size_t b)
{
	struct pkt *t = h[a];
	h[a] = h[b];
	h[b] = t;
}

static int heap_push(struct linkem_fwd *f, struct pkt *p)
{
	if (f->heap_len == f->heap_cap) {
		size_t cap = f->heap_cap ? f->heap_cap * 2 : 256;
		struct pkt **h = realloc(f->heap, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		f->heap = h;
		f->heap_cap = cap;
	}
	size_t i = f->heap_len++;
	f->heap[i] = p;
	while (i && f->heap[(i - 1) / 2]->due_ns > f->heap[i]->due_ns) {
		heap_swap(f->heap, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	return 0;
}

static struct pkt *heap_pop(struct linkem_fwd *f)
{
	struct pkt **h = f->heap;
	struct pkt *top = h[0];
	h[0] = h[--f->heap_len];
	for (size_t i = 0;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < f->heap_len && h[l]->due_ns < h[m]->due_ns)
			m = l;
		if (l + 1 < f->heap_len && h[l + 1]->due_ns < h[m]->due_ns)
			m = l + 1;
		if (m == i)
			break;
		heap_swap(h, i, m);
		i = m;
	}
	return top;
}

static uint64_t next_due(const struct linkem_fwd *f)
{
	uint64_t t = UINT64_MAX;
	if (f->fifo_head)
		t = f->fifo_head->due_ns;
	if (f->heap_len && f->heap[0]->due_ns < t)
		t = f->heap[0]->due_ns;
	return t;
}

static void set_held(struct linkem_fwd *f, int64_t delta)
{
	__atomic_store_n(&f->held, f->held + (uint64_t)delta, __ATOMIC_RELAXED);
}

static void hold(struct linkem_fwd *f, struct pkt *p, bool reordered)
{
	if (reordered) {
		if (heap_push(f, p) < 0) {
			pkt_put(f, p);
			linkem_count(&f->model.c.drop_mem, 1);
			return;
		}
	} else {
		p->next = NULL;
		if (f->fifo_tail)
			f->fifo_tail->next = p;
		else
			f->fifo_head = p;
		f->fifo_tail = p;
	}
	set_held(f, 1);
}

static void release_due(struct linkem_fwd *f, uint64_t now)
{
	for (;;) {
		struct pkt *p;
		if (f->fifo_head && f->fifo_head->due_ns <= now &&
		    (!f->heap_len ||
		     f->fifo_head->due_ns <= f->heap[0]->due_ns)) {
			p = f->fifo_head;
			f->fifo_head = p->next;
			if (!f->fifo_head)
				f->fifo_tail = NULL;
		} else if (f->heap_len && f->heap[0]->due_ns <= now) {
			p = heap_pop(f);
		} else {
			return;
		}
		set_held(f, -1);
		if (write(f->out_fd, p->data, p->len) == (ssize_t)p->len) {
			linkem_count(&f->model.c.out_pkts, 1);
			linkem_count(&f->model.c.out_bytes, p->len);
		} else {
			linkem_count(&f->model.c.drop_write, 1);
		}
		pkt_put(f, p);
	}
}

static void fatal(struct linkem_fwd *f, int e, const char *what)
{
	f->err = -e;
	snprintf(f->errmsg, sizeof(f->errmsg), "direction %s: %s: %s",
		 f->dir == LINKEM_AB ? "a>b" : "b>a", what, strerror(e));
	/* The main thread waits in sigtimedwait(); this ends the run. */
	kill(getpid(), SIGTERM);
}

/* Reads up to READ_BATCH packets; returns -1 after a fatal error. */
static int read_batch(struct linkem_fwd *f)
{
	uint64_t now = now_ns();
	for (int i = 0; i < READ_BATCH; i++) {
		struct pkt *p = pkt_get(f);
		uint8_t *buf = p ? p->data : f->scratch;
		ssize_t n = read(f->in_fd, buf, f->bufsz);
		if (n < 0) {
			if (p)
				pkt_put(f, p);
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			fatal(f, errno, "read from TUN device");
			return -1;
		}
		if (!p) {
			linkem_count(&f->model.c.in_pkts, 1);
			linkem_count(&f->model.c.in_bytes, (uint64_t)n);
			linkem_count(&f->model.c.drop_mem, 1);
			continue;
		}
		struct linkem_verdict v;
		p->len = (uint32_t)n;
		linkem_model_decide(&f->model, p->data, p->len, now, &v);
		if (!v.ncopies) {
			pkt_put(f, p);
			continue;
		}
		if (v.flip_bit >= 0)
			p->data[v.flip_bit / 8] ^=
			    (uint8_t)(1u << (v.flip_bit % 8));
		for (unsigned c = 1; c < v.ncopies; c++) {
			struct pkt *dup = pkt_get(f);
			if (!dup) {
				linkem_count(&f->model.c.drop_mem, 1);
				continue;
			}
			memcpy(dup->data, p->data, p->len);
			dup->len = p->len;
			dup->due_ns = v.copy[c].due_ns;
			hold(f, dup, v.copy[c].reordered);
		}
		p->due_ns = v.copy[0].due_ns;
		hold(f, p, v.copy[0].reordered);
	}
	return 0;
}

static void *run(void *arg)
{
	struct linkem_fwd *f = arg;
	struct epoll_event evs[2];
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	for (;;) {
		uint64_t now = now_ns();
		release_due(f, now);
		struct timespec ts, *tp = NULL;
		uint64_t due = next_due(f);
		if (due != UINT64_MAX) {
			uint64_t wait = due - now;
			ts.tv_sec = (time_t)(wait / 1000000000ull);
			ts.tv_nsec = (long)(wait % 1000000000ull);
			tp = &ts;
		}
		int n = epoll_pwait2(f->ep, evs, 2, tp, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fatal(f, errno, "epoll_pwait2");
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == f->stop_fd)
				return NULL;
			if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
				fatal(f, EIO, "TUN device error or hang-up");
				return NULL;
			}
			if (read_batch(f) < 0)
				return NULL;
		}
	}
}

static int add_fd(int ep, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

struct linkem_fwd *linkem_fwd_start(int dir, int in_fd, int out_fd,
				    const struct linkem_opts *o, char *err,
				    size_t errlen)
{
	const char *what;
	struct linkem_fwd *f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "out of memory for a direction");
		return NULL;
	}
	f->dir = dir;
	f->in_fd = in_fd;
	f->out_fd = out_fd;
	f->bufsz = o->mtu;
	f->max_bufs = o->max_mem_bytes / (sizeof(struct pkt) + f->bufsz);
	linkem_model_init(&f->model, &o->dir[dir],
			  o->seed ^
			      (dir == LINKEM_AB ? 0 : 0x5bd1e9955bd1e995ull));
	f->stop_fd = f->ep = -1;
	what = "allocate the scratch buffer";
	errno = ENOMEM;
	f->scratch = malloc(f->bufsz);
	if (!f->scratch)
		goto fail;
	what = "eventfd";
	f->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (f->stop_fd < 0)
		goto fail;
	what = "epoll_create1";
	f->ep = epoll_create1(EPOLL_CLOEXEC);
	if (f->ep < 0)
		goto fail;
	what = "epoll_ctl";
	if (add_fd(f->ep, in_fd) < 0 || add_fd(f->ep, f->stop_fd) < 0)
		goto fail;
	int e = pthread_create(&f->thread, NULL, run, f);
	if (e) {
		errno = e;
		what = "pthread_create";
		goto fail;
	}
	return f;
fail:
	/* One label: every resource is marked unset (-1, NULL) until taken. */
	snprintf(err, errlen, "%s: %s", what, strerror(errno));
	if (f->ep >= 0)
		close(f->ep);
	if (f->stop_fd >= 0)
		close(f->stop_fd);
	free(f->scratch);
	free(f);
	return NULL;
}

void linkem_fwd_snapshot(const struct linkem_fwd *f, struct linkem_counters *c,
			 uint64_t *held)
{
	linkem_model_snapshot(&f->model, c);
	*held = __atomic_load_n(&f->held, __ATOMIC_RELAXED);
}

int linkem_fwd_join(struct linkem_fwd *f, char *err, size_t errlen)
{
	uint64_t one = 1;
	if (write(f->stop_fd, &one, sizeof(one)) < 0) {
		/* Cannot happen for a fresh eventfd; the join would hang. */
		int e = errno;
		snprintf(err, errlen, "stop the direction thread: %s",
			 strerror(e));
		return -e;
	}
	pthread_join(f->thread, NULL);
	if (f->err)
		snprintf(err, errlen, "%s", f->errmsg);
	return f->err;
}

void linkem_fwd_del(struct linkem_fwd *f)
{
	if (!f)
		return;
	while (f->fifo_head) {
		struct pkt *p = f->fifo_head;
		f->fifo_head = p->next;
		free(p);
	}
	for (size_t i = 0; i < f->heap_len; i++)
		free(f->heap[i]);
	while (f->free_list) {
		struct pkt *p = f->free_list;
		f->free_list = p->next;
		free(p);
	}
	free(f->heap);
	free(f->scratch);
	close(f->ep);
	close(f->stop_fd);
	free(f);
}
