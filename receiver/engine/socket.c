/*
 * Socket threads: one per SO_REUSEPORT socket on the receiver's port.
 *
 * Each turn of the loop takes the core lock once: settle the previous
 * batch's writes (writer.c), feed every datagram of the new batch to the
 * core, run due timers, note when to wake next, drop the lock; then write
 * the batch's payloads (outside the lock), wait for the next batch with
 * poll + recvmmsg, and open its sealed datagrams, still outside the lock
 * (opener.h: the core commits each one when it is fed, and only then
 * reads it), so socket threads decrypt in parallel.  The core's packets
 * go out on the socket of the thread that holds the lock.
 *
 * With UDP_GRO a message is a train of datagrams of one size (the last
 * may be shorter), its size in a cmsg; the thread cuts the train before
 * the core sees it.  A kernel without GRO hands datagrams one by one,
 * which is the same loop with trains of one.
 *
 * Each message also carries the kernel's receive timestamp
 * (common/io/rxtime.h), taken to the monotonic clock right after the
 * batch is read: the core times a STATUS's hold from the moment it reached
 * the host, not from when this thread got the lock, so a starved thread
 * does not add its wait to the sender's RTT samples.
 *
 * And the socket's drop count (SO_RXQ_OVFL: datagrams the kernel dropped
 * because the receive buffer was full, a running total per socket): the
 * growth since the last batch goes to the core, which reports it in
 * every FEEDBACK, so the senders treat a receiver that cannot keep up as
 * a congested path instead of taking its drops for random loss.
 *
 * LZ4 pieces inflate, while the core holds them (after their tag
 * verified), into the batch's arena: the writes point there as they
 * point into the receive slots, and the arena is reused once they are
 * out.
 */
#include "receiver/engine/engine.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/io/rxtime.h"
#include "common/io/sys.h"
#include "receiver/engine/opener.h"

#define SLOT_BYTES SALVO_RECV_SLOT_BYTES /* a payload, or a GRO train */
#define WAIT_MAX_MS 100 /* wake up this often to notice a stop */
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_GRO
#define UDP_GRO 104 /* linux/udp.h, Linux 5.0 */
#endif
#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL 40 /* asm-generic/socket.h, Linux 2.6.33 */
#endif

/* Room for UDP_GRO's segment size, the receive timestamp and the drop
 * count. */
typedef struct rx_cmsg {
	_Alignas(struct cmsghdr) char b[CMSG_SPACE(sizeof(int)) +
					SALVO_RXTIME_CMSG_BYTES +
					CMSG_SPACE(sizeof(uint32_t))];
} rx_cmsg;

struct rsocket {
	rctx *c;
	int fd;
	pthread_t th;
	uint32_t batch;
	uint8_t *bufs; /* batch slots of SLOT_BYTES */
	struct mmsghdr *m;
	struct iovec *iov;
	struct sockaddr_storage *from;
	rx_cmsg *ctl;
	uint64_t *arrival; /* per message of the batch read */
	uint32_t ovfl;	   /* the socket's SO_RXQ_OVFL total seen last */
	uint32_t drops;	   /* its growth in the batch read, for the core */
	rbatch writes;
	ropener open;
};

uint8_t *rsocket_inflate_buf(void *ud, salvo_rsess *sess, size_t len)
{
	rctx *c = ud;
	(void)sess;
	if (!c->cur || len > RARENA_CHUNK_BYTES)
		return NULL;
	rarena *a = &c->cur->inflate;
	if (a->chunk[a->cur] && a->used + len > RARENA_CHUNK_BYTES) {
		if (a->cur + 1 == RARENA_CHUNKS)
			return NULL;
		a->cur++;
		a->used = 0;
	}
	if (!a->chunk[a->cur] &&
	    !(a->chunk[a->cur] = malloc(RARENA_CHUNK_BYTES)))
		return NULL;
	uint8_t *p = a->chunk[a->cur] + a->used;
	a->used += len;
	return p;
}

/* The batch's writes are out: its inflated pieces are no longer read.
 * The first RARENA_KEEP chunks stay for the next batch; a burst of zeros
 * (64 KiB a datagram) does not keep its memory. */
static void arena_reset(rarena *a)
{
	for (uint32_t i = RARENA_KEEP; i <= a->cur && i < RARENA_CHUNKS; i++) {
		free(a->chunk[i]);
		a->chunk[i] = NULL;
	}
	a->cur = 0;
	a->used = 0;
}

static void arena_free(rarena *a)
{
	for (int i = 0; i < RARENA_CHUNKS; i++)
		free(a->chunk[i]);
	memset(a, 0, sizeof(*a));
}

void rsocket_send(void *ud, const salvo_addr *a, const void *buf, size_t len)
{
	rctx *c = ud;
	sendto(c->cur_fd, buf, len, MSG_DONTWAIT,
	       (const struct sockaddr *)a->bytes, a->len);
}

int rsocket_open(rctx *c, const struct sockaddr_storage *ss, socklen_t len,
		 char *msg, size_t mlen)
{
	int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)ss, len)) {
		int e = errno;
		char where[128];
		salvo_format_addr((const struct sockaddr *)ss, where,
				  sizeof(where));
		snprintf(msg, mlen, "cannot listen on UDP %s: %s", where,
			 strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	salvo_socket_buffers(fd, 0,
			     c->o->rcvbuf_bytes ? c->o->rcvbuf_bytes : 8u << 20,
			     NULL, NULL);
	if (c->o->offload)
		(void)setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one));
	(void)salvo_rxtime_enable(fd); /* without: arrivals are read times */
	(void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	return fd;
}

int rsocket_new(rsocket **out, rctx *c, int fd)
{
	uint32_t n = c->o->batch;
	rsocket *t = calloc(1, sizeof(*t));
	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->c = c;
	t->fd = fd;
	t->batch = n;
	ropener_init(&t->open);
	t->bufs = malloc((size_t)n * SLOT_BYTES);
	t->m = calloc(n, sizeof(*t->m));
	t->iov = calloc(n, sizeof(*t->iov));
	t->from = calloc(n, sizeof(*t->from));
	t->ctl = calloc(n, sizeof(*t->ctl));
	t->arrival = calloc(n, sizeof(*t->arrival));
	if (!t->bufs || !t->m || !t->iov || !t->from || !t->ctl ||
	    !t->arrival || rwriter_init(&t->writes)) {
		rsocket_del(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

void rsocket_del(rsocket *t)
{
	if (!t)
		return;
	arena_free(&t->writes.inflate); /* rwriter_free zeroes the batch */
	rwriter_free(&t->writes);
	ropener_free(&t->open);
	free(t->bufs);
	free(t->m);
	free(t->iov);
	free(t->from);
	free(t->ctl);
	free(t->arrival);
	free(t);
}

/* Core lock held: time to stop serving? */
static int done_serving(rctx *c)
{
	if (atomic_load(&c->stopping) || (c->o->stop && *c->o->stop))
		return 1;
	if (c->o->once && c->ended_sessions) {
		salvo_receiver_stats st;
		salvo_receiver_get_stats(c->core, &st);
		return st.sessions == 0; /* lingering tombstones gone */
	}
	return 0;
}

/* The datagram size of a GRO train, or SIZE_MAX for one datagram. */
static size_t gro_size(const struct msghdr *h)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm;
	     cm = CMSG_NXTHDR((struct msghdr *)h, cm)) {
		int v;
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(v))) {
			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			return v > 0 ? (size_t)v : SIZE_MAX;
		}
	}
	return SIZE_MAX;
}

/* The socket's drop total in h's cmsg, or the last seen when none (the
 * kernel adds it only once the socket has dropped). */
static uint32_t ovfl_total(const struct msghdr *h, uint32_t last)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm;
	     cm = CMSG_NXTHDR((struct msghdr *)h, cm)) {
		uint32_t v;
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SO_RXQ_OVFL &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(v))) {
			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			return v;
		}
	}
	return last;
}

/* Every datagram of the n messages, in order: with the core lock held
 * (locked) to the core, else to the opener. */
static void each(rsocket *t, int n, int locked, uint64_t now)
{
	if (!locked)
		ropener_begin(&t->open);
	for (int i = 0; i < n; i++) {
		salvo_addr a;
		if (locked)
			salvo_addr_from_sockaddr(&a,
						 (struct sockaddr *)&t->from[i],
						 t->m[i].msg_hdr.msg_namelen);
		size_t seg = gro_size(&t->m[i].msg_hdr);
		uint8_t *dg = t->iov[i].iov_base;
		for (size_t off = 0, len = t->m[i].msg_len; off < len;
		     off += seg) {
			size_t l = len - off < seg ? len - off : seg;
			if (locked)
				ropener_feed(&t->open, t->c->core, &a, dg + off,
					     l, t->arrival[i], now);
			else
				ropener_open(&t->open, dg + off, l);
		}
	}
}

/* Waits for datagrams until the core's next timer (at most WAIT_MAX_MS)
 * and reads a batch: the message count, 0 if none. */
static int receive(rsocket *t, uint64_t next_timer)
{
	uint64_t now = salvo_now_ns();
	int wait_ms = WAIT_MAX_MS;
	if (next_timer <= now)
		wait_ms = 0;
	else if ((next_timer - now) / 1000000 < WAIT_MAX_MS)
		wait_ms = (int)((next_timer - now + 999999) / 1000000);
	struct pollfd p = {t->fd, POLLIN, 0};
	if (poll(&p, 1, wait_ms) <= 0)
		return 0;
	for (uint32_t i = 0; i < t->batch; i++) {
		t->iov[i] = (struct iovec){t->bufs + (size_t)i * SLOT_BYTES,
					   SLOT_BYTES};
		t->m[i].msg_hdr =
		    (struct msghdr){.msg_name = &t->from[i],
				    .msg_namelen = sizeof(t->from[i]),
				    .msg_iov = &t->iov[i],
				    .msg_iovlen = 1,
				    .msg_control = t->ctl[i].b,
				    .msg_controllen = sizeof(t->ctl[i].b)};
	}
	int n = recvmmsg(t->fd, t->m, t->batch, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return 0;
	salvo_rxclock clk;
	salvo_rxclock_read(&clk);
	uint32_t ovfl = t->ovfl;
	for (int i = 0; i < n; i++) {
		t->arrival[i] = salvo_rxtime_arrival(&t->m[i].msg_hdr, &clk);
		ovfl = ovfl_total(&t->m[i].msg_hdr, ovfl);
	}
	t->drops += ovfl - t->ovfl; /* unsigned: the kernel's total wraps */
	t->ovfl = ovfl;
	return n;
}

static void *socket_main(void *arg)
{
	rsocket *t = arg;
	rctx *c = t->c;
	int n = 0;
	for (;;) {
		pthread_mutex_lock(&c->lock);
		uint64_t now = salvo_now_ns();
		rwriter_settle(c, &t->writes, now);
		c->cur_fd = t->fd;
		c->cur = &t->writes;
		if (t->drops) {
			salvo_receiver_note_drops(c->core, t->drops);
			t->drops = 0;
		}
		each(t, n, 1, now);
		if (salvo_receiver_next_timer(c->core) <= now)
			salvo_receiver_on_timer(c->core, now);
		ropener_refresh(&t->open, c->core, now);
		c->cur = NULL;
		int stop = done_serving(c);
		uint64_t next = salvo_receiver_next_timer(c->core);
		pthread_mutex_unlock(&c->lock);
		rwriter_flush(c, &t->writes);
		arena_reset(&t->writes.inflate);
		if (stop)
			break;
		n = receive(t, next);
		each(t, n, 0, 0);
	}
	atomic_store(&c->stopping, 1);
	pthread_mutex_lock(&c->lock);
	rwriter_settle(c, &t->writes, salvo_now_ns());
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int rsocket_start(rsocket *t)
{
	return -pthread_create(&t->th, NULL, socket_main, t);
}

void rsocket_join(rsocket *t)
{
	pthread_join(t->th, NULL);
}
