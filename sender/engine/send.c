/*
 * The sender engine (see send.h).  Threads:
 *
 *   block-senders (opts.threads)  each loops: take the core lock, poll a
 *       work item, drop the lock; read the block (or the ranges to
 *       retransmit) with pread into its own buffer, compute the block
 *       CRC32C, build one 24-byte header per datagram and send batches of
 *       header+payload iovecs with sendmmsg on its own socket, pacing each
 *       batch through the shared token bucket; then report the item done.
 *       Control packets a poll returns go out on socket 0, whose address
 *       the receiver answers to.
 *   receive      reads socket 0 and feeds the core; wakes the senders.
 *   hasher       BLAKE3 of each file in order, handed to the core as the
 *       file's digest (sent in FILE_DONE).
 *   caller       reports progress, watches the stop flag, joins.
 *
 * The core is shared under one mutex, taken per work item or packet,
 * never per datagram.  Memory: one block buffer per block-sender.
 */
#include "sender/engine/send.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/core/crc32c.h"
#include "common/core/error.h"
#include "common/core/pacer.h"
#include "common/io/sys.h"
#include "sender/core/sender.h"
#include "sender/engine/scan.h"

#define MAX_SOCKETS 64
#define MAX_BATCH 1024
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* linux/udp.h, Linux 4.18 */
#endif
#define GSO_MAX_SEGMENTS 64  /* the kernel's UDP_MAX_SEGMENTS */
#define GSO_MAX_BYTES 65507u /* one UDP payload over IPv4 */

typedef struct sctx {
	const salvo_send_opts *o;
	salvo_scan scan;
	salvo_manifest view; /* entries of scan, for salvo_manifest_locate */
	salvo_sender *core;
	pthread_mutex_t lock; /* core, finished, local error */
	pthread_cond_t wake;
	pthread_mutex_t pace_lock;
	salvo_pacer pacer;
	int fds[MAX_SOCKETS];
	uint32_t nsock;
	pthread_mutex_t fd_lock;
	int *file_fd;
	int finished;
	int local_err;
	char local_msg[512];
	atomic_uint_fast64_t datagrams, wire_bytes;
	atomic_uint gso_segs; /* datagrams per GSO message; 0: plain */
	atomic_int hash_stop; /* the session is over: the hasher stops */
	uint64_t sndbuf_granted;
} sctx;

void salvo_send_opts_default(salvo_send_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->port = 7400;
	o->block_bytes = 4u << 20;
	o->datagram_bytes = 1472;
	o->rate_bps = 1000000000ull;
	o->threads = 5;
	o->sockets = 4;
	o->batch = 32;
	o->offload = 1;
	o->timeout_ns = 10000000000ull;
	o->progress_interval_ns = 250000000ull;
}

/* Records the first local failure and aborts the session. */
static void local_fail(sctx *c, int err, const char *fmt, const char *what)
{
	pthread_mutex_lock(&c->lock);
	if (!c->local_err) {
		c->local_err = err;
		snprintf(c->local_msg, sizeof(c->local_msg), fmt, what,
			 strerror(err < 0 && err > -4096 ? -err : EIO));
		salvo_sender_abort(c->core);
	}
	pthread_cond_broadcast(&c->wake);
	pthread_mutex_unlock(&c->lock);
}

static int file_fd(sctx *c, uint32_t i)
{
	pthread_mutex_lock(&c->fd_lock);
	int fd = c->file_fd[i];
	if (fd < 0) {
		fd = open(c->scan.local[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
		else
			c->file_fd[i] = fd;
	}
	pthread_mutex_unlock(&c->fd_lock);
	return fd;
}

/* Reads stream bytes [off, off+len) into dst, across files. */
static int read_stream(sctx *c, uint64_t off, uint8_t *dst, size_t len)
{
	uint32_t i = salvo_manifest_locate(&c->view, off);
	while (len) {
		const salvo_entry *e = &c->scan.entries[i];
		if (!e->size || off >= e->stream_offset + e->size) {
			i++;
			continue;
		}
		int fd = file_fd(c, i);
		if (fd < 0) {
			local_fail(c, fd, "cannot read '%s': %s",
				   c->scan.local[i]);
			return fd;
		}
		uint64_t in = off - e->stream_offset;
		size_t n = e->size - in < len ? (size_t)(e->size - in) : len;
		while (n) {
			ssize_t r = pread(fd, dst, n, (off_t)in);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				int err = r < 0 ? -errno : -EIO;
				local_fail(c, err,
					   r < 0 ? "cannot read '%s': %s"
						 : "'%s' shrank during the "
						   "transfer (%s)",
					   c->scan.local[i]);
				return err;
			}
			dst += r;
			n -= (size_t)r;
			len -= (size_t)r;
			off += (uint64_t)r;
			in += (uint64_t)r;
		}
		i++;
	}
	return 0;
}

static void send_all(sctx *c, int fd, struct mmsghdr *m, const uint8_t *segs,
		     unsigned n);

/* The kernel refused a GSO message (a path it cannot segment for, an old
 * kernel): plain datagrams from now on, this message's included. */
static void gso_refused(sctx *c, int fd, const struct msghdr *h, unsigned k)
{
	struct mmsghdr one[GSO_MAX_SEGMENTS];
	atomic_store(&c->gso_segs, 0);
	for (unsigned j = 0; j < k; j++)
		one[j] =
		    (struct mmsghdr){.msg_hdr = {.msg_iov = h->msg_iov + 2 * j,
						 .msg_iovlen = 2}};
	send_all(c, fd, one, NULL, k);
}

/* Sends n messages; segs[i] datagrams in message i (NULL: one each). */
static void send_all(sctx *c, int fd, struct mmsghdr *m, const uint8_t *segs,
		     unsigned n)
{
	unsigned done = 0;
	while (done < n) {
		int k = sendmmsg(fd, m + done, n - done, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS || errno == EAGAIN) {
				salvo_sleep_until(salvo_now_ns() + 50000);
				continue;
			}
			if (segs && segs[done] > 1 &&
			    (errno == EINVAL || errno == EIO ||
			     errno == EMSGSIZE || errno == ENOPROTOOPT)) {
				gso_refused(c, fd, &m[done].msg_hdr,
					    segs[done]);
				done++;
				continue;
			}
			/* ECONNREFUSED from an earlier ICMP error and the
			 * like: the datagram is lost, as on any path */
			done++;
			continue;
		}
		uint64_t dgrams = 0, bytes = 0;
		for (int j = 0; j < k; j++) {
			unsigned i = done + (unsigned)j;
			bytes += m[i].msg_len;
			dgrams += segs ? segs[i] : 1;
		}
		atomic_fetch_add(&c->wire_bytes, bytes);
		atomic_fetch_add(&c->datagrams, dgrams);
		done += (unsigned)k;
	}
}

static void pace(sctx *c, uint64_t bytes)
{
	pthread_mutex_lock(&c->pace_lock);
	uint64_t t = salvo_pacer_reserve(&c->pacer, bytes, salvo_now_ns());
	pthread_mutex_unlock(&c->pace_lock);
	if (t > salvo_now_ns())
		salvo_sleep_until(t);
}

static void send_control(sctx *c, const uint8_t *buf, size_t len)
{
	if (len <= SALVO_CONTROL_UNPACED_BYTES) {
		pthread_mutex_lock(&c->pace_lock);
		salvo_pacer_reserve(&c->pacer, len + 28, salvo_now_ns());
		pthread_mutex_unlock(&c->pace_lock);
	} else {
		pace(c, len + 28);
	}
	struct iovec iov = {(void *)buf, len};
	struct mmsghdr m = {.msg_hdr = {.msg_iov = &iov, .msg_iovlen = 1}};
	send_all(c, c->fds[0], &m, NULL, 1);
}

typedef struct worker {
	sctx *c;
	int fd;
	uint8_t *buf;
	uint8_t (*hdr)[SALVO_DATA_HDR_BYTES];
	struct iovec (*iov)[2]; /* header, payload: one pair a datagram */
	struct mmsghdr *msg;
	uint8_t *segs; /* datagrams in each message */
	/* UDP_SEGMENT = the datagram size; >= CMSG_SPACE(2) */
	_Alignas(struct cmsghdr) char gso[32];
	pthread_t th;
} worker;

/* Sends the batch's n datagrams (wk->iov pairs).  With GSO, each run of
 * full-size datagrams, which a short one may end, goes as one message the
 * kernel cuts into datagrams: one trip down the stack instead of many. */
static void send_batch(worker *wk, unsigned n)
{
	sctx *c = wk->c;
	unsigned max = atomic_load(&c->gso_segs);
	size_t full = c->o->datagram_bytes;
	unsigned nm = 0;
	for (unsigned i = 0; i < n;) {
		unsigned k = 1;
		while (k < max && i + k < n &&
		       wk->iov[i + k - 1][0].iov_len +
			       wk->iov[i + k - 1][1].iov_len ==
			   full)
			k++;
		struct msghdr *h = &wk->msg[nm].msg_hdr;
		*h = (struct msghdr){.msg_iov = wk->iov[i],
				     .msg_iovlen = 2 * (size_t)k};
		if (k > 1) {
			h->msg_control = wk->gso;
			h->msg_controllen = CMSG_SPACE(sizeof(uint16_t));
		}
		wk->segs[nm++] = (uint8_t)k;
		i += k;
	}
	send_all(c, wk->fd, wk->msg, wk->segs, nm);
}

/* Sends every datagram of w (payload already in wk->buf, ranges packed
 * back to back). */
static void send_work(worker *wk, const salvo_work *w, uint32_t crc)
{
	sctx *c = wk->c;
	uint32_t payload = salvo_wire_payload_bytes(c->o->datagram_bytes);
	uint32_t session = salvo_sender_session(c->core);
	/* a batch leaves as one burst: keep it within about a millisecond
	 * of the current rate, so slow paths are not sent bursts they must
	 * queue */
	pthread_mutex_lock(&c->pace_lock);
	uint64_t per_ms = c->pacer.rate_bps / 8000;
	pthread_mutex_unlock(&c->pace_lock);
	uint32_t batch = c->o->batch;
	uint64_t fit = per_ms / (c->o->datagram_bytes + 28);
	if (fit < batch)
		batch = fit ? (uint32_t)fit : 1;
	unsigned n = 0;
	uint64_t batch_bytes = 0;
	size_t pos = 0;
	for (uint32_t r = 0; r < w->nranges; r++) {
		const salvo_work_range *rg = &w->ranges[r];
		uint32_t bcrc = w->is_new ? crc : rg->block_crc;
		for (uint32_t off = 0; off < rg->len; off += payload) {
			uint32_t len =
			    rg->len - off < payload ? rg->len - off : payload;
			uint8_t *p = wk->buf + pos + off;
			salvo_wire_data_header(
			    wk->hdr[n], session,
			    w->is_new ? 0 : SALVO_DATA_F_RETX, rg->block,
			    rg->offset + off, bcrc, p, len);
			wk->iov[n][0] =
			    (struct iovec){wk->hdr[n], SALVO_DATA_HDR_BYTES};
			wk->iov[n][1] = (struct iovec){p, len};
			batch_bytes += SALVO_DATA_HDR_BYTES + len + 28;
			if (++n == batch) {
				pace(c, batch_bytes);
				send_batch(wk, n);
				n = 0;
				batch_bytes = 0;
			}
		}
		pos += rg->len;
	}
	if (n) {
		pace(c, batch_bytes);
		send_batch(wk, n);
	}
}

static void *worker_main(void *arg)
{
	worker *wk = arg;
	sctx *c = wk->c;
	uint8_t ctl[SALVO_DATAGRAM_MAX_BYTES];
	salvo_work w;
	pthread_mutex_lock(&c->lock);
	while (!c->finished) {
		int k = salvo_sender_poll(c->core, salvo_now_ns(), &w, ctl,
					  sizeof(ctl));
		if (k == SALVO_WORK_CONTROL) {
			pthread_mutex_unlock(&c->lock);
			send_control(c, ctl, w.len);
			pthread_mutex_lock(&c->lock);
			continue;
		}
		if (k == SALVO_WORK_IDLE) {
			struct timespec ts = {
			    (time_t)(w.deadline / 1000000000ull),
			    (long)(w.deadline % 1000000000ull)};
			pthread_cond_timedwait(&c->wake, &c->lock, &ts);
			continue;
		}
		if (k != SALVO_WORK_DATA) {
			c->finished = 1;
			pthread_cond_broadcast(&c->wake);
			break;
		}
		pthread_mutex_unlock(&c->lock);
		size_t pos = 0;
		int err = 0;
		for (uint32_t r = 0; r < w.nranges && !err; r++) {
			err = read_stream(c, w.ranges[r].stream_offset,
					  wk->buf + pos, w.ranges[r].len);
			pos += w.ranges[r].len;
		}
		uint32_t crc = 0;
		if (!err) {
			if (w.is_new)
				crc = salvo_crc32c(0, wk->buf, w.ranges[0].len);
			send_work(wk, &w, crc);
		}
		pthread_mutex_lock(&c->lock);
		if (!err)
			salvo_sender_work_done(c->core, &w, crc,
					       salvo_now_ns());
		pthread_cond_broadcast(&c->wake);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* Socket 0's reader, and the heartbeat: it also sends the timed control
 * packets (STATUS, FILE_DONE, HELLO) when they fall due, so they keep
 * their pace even while every block-sender is busy with a long block. */
static void *receive_main(void *arg)
{
	sctx *c = arg;
	uint8_t buf[SALVO_DATAGRAM_MAX_BYTES];
	salvo_work w;
	for (;;) {
		uint64_t deadline = UINT64_MAX;
		pthread_mutex_lock(&c->lock);
		while (!c->finished) {
			int k = salvo_sender_poll_control(
			    c->core, salvo_now_ns(), &w, buf, sizeof(buf));
			if (k == SALVO_WORK_CONTROL) {
				pthread_mutex_unlock(&c->lock);
				send_control(c, buf, w.len);
				pthread_mutex_lock(&c->lock);
				continue;
			}
			if (k == SALVO_WORK_IDLE)
				deadline = w.deadline;
			else {
				c->finished = 1;
				pthread_cond_broadcast(&c->wake);
			}
			break;
		}
		int done = c->finished;
		pthread_mutex_unlock(&c->lock);
		if (done)
			break;
		uint64_t now = salvo_now_ns();
		int ms = deadline <= now ? 0
			 : deadline - now >= 50000000ull
			     ? 50
			     : (int)((deadline - now + 999999) / 1000000);
		struct pollfd p = {c->fds[0], POLLIN, 0};
		if (poll(&p, 1, ms) <= 0)
			continue;
		ssize_t n = recv(c->fds[0], buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			continue; /* ECONNREFUSED: no receiver (yet) */
		pthread_mutex_lock(&c->lock);
		salvo_sender_on_packet(c->core, buf, (size_t)n, salvo_now_ns());
		uint64_t rate = salvo_sender_pacing_rate(c->core);
		pthread_cond_broadcast(&c->wake);
		pthread_mutex_unlock(&c->lock);
		pthread_mutex_lock(&c->pace_lock);
		c->pacer.rate_bps = rate; /* adaptive control moves it */
		pthread_mutex_unlock(&c->pace_lock);
	}
	return NULL;
}

static void *hasher_main(void *arg)
{
	sctx *c = arg;
	for (uint32_t i = 0; i < c->scan.n; i++) {
		if (c->scan.entries[i].type != SALVO_ENTRY_FILE)
			continue;
		uint8_t d[32];
		int fd = open(c->scan.local[i], O_RDONLY | O_CLOEXEC);
		int err = fd < 0 ? -errno
				 : salvo_blake3_fd(fd, c->scan.entries[i].size,
						   d, &c->hash_stop);
		if (fd >= 0)
			close(fd);
		if (err == SALVO_ERR_ABORTED)
			break;
		if (err) {
			local_fail(c, err, "cannot read '%s': %s",
				   c->scan.local[i]);
			break;
		}
		pthread_mutex_lock(&c->lock);
		salvo_sender_set_digest(c->core, i, d);
		pthread_cond_broadcast(&c->wake);
		pthread_mutex_unlock(&c->lock);
	}
	return NULL;
}

static int opts_ok(const salvo_send_opts *o, char *msg, size_t len)
{
	const char *bad = NULL;
	if (!o->host || !*o->host)
		bad = "no receiver host";
	else if (o->datagram_bytes < SALVO_DATAGRAM_MIN_BYTES ||
		 o->datagram_bytes > SALVO_DATAGRAM_MAX_BYTES)
		bad = "datagram size out of range (548..65507 bytes)";
	else if (o->block_bytes < salvo_wire_payload_bytes(o->datagram_bytes) ||
		 o->block_bytes > SALVO_BLOCK_MAX_BYTES)
		bad = "block size must hold a datagram and be at most 1 GiB";
	else if (o->threads < 1 || o->threads > 64)
		bad = "threads must be 1..64";
	else if (o->sockets < 1 || o->sockets > MAX_SOCKETS)
		bad = "sockets must be 1..64";
	else if (o->batch < 1 || o->batch > MAX_BATCH)
		bad = "batch must be 1..1024";
	else if (!o->rate_bps)
		bad = "rate must be above 0";
	else if (!o->timeout_ns)
		bad = "timeout must be above 0";
	if (bad)
		snprintf(msg, len, "%s", bad);
	return !bad;
}

static int by_remote(const void *a, const void *b)
{
	return strcmp(**(const char *const *const *)a,
		      **(const char *const *const *)b);
}

/* Two entries with one remote name would write one file twice. */
static int check_unique(const salvo_scan *s, char *msg, size_t len)
{
	const char ***v = malloc((s->n ? s->n : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		v[i] = &s->entries[i].path;
	qsort(v, s->n, sizeof(*v), by_remote);
	int rc = 0;
	for (size_t i = 1; i < s->n && !rc; i++)
		if (!strcmp(*v[i], *v[i - 1])) {
			snprintf(msg, len,
				 "two sources would both arrive as '%s'",
				 *v[i]);
			rc = SALVO_ERR_INVAL;
		}
	free(v);
	return rc;
}

static int open_sockets(sctx *c, const struct sockaddr_storage *peer,
			socklen_t plen, char *msg, size_t len)
{
	for (uint32_t i = 0; i < c->nsock; i++) {
		int fd = socket(peer->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			int e = errno;
			snprintf(msg, len, "cannot open a UDP socket: %s",
				 strerror(e));
			return -e;
		}
		c->fds[i] = fd;
		uint64_t got = 0;
		salvo_socket_buffers(fd, c->o->sndbuf_bytes, 1 << 20, &got,
				     NULL);
		if (!i)
			c->sndbuf_granted = got;
		if (connect(fd, (const struct sockaddr *)peer, plen)) {
			int e = errno;
			snprintf(msg, len, "cannot reach %s: %s", c->o->host,
				 strerror(e));
			return -e;
		}
	}
	return 0;
}

/* Datagrams per GSO message, or 0 for plain datagrams: off when asked,
 * when fewer than two fit in one UDP payload, or when a datagram exceeds
 * the route's MTU (IP would fragment it; the kernel refuses GSO then).
 * Other refusals are caught at the first send (gso_refused). */
static unsigned gso_plan(const sctx *c, int family)
{
	unsigned k = GSO_MAX_BYTES / c->o->datagram_bytes;
	if (!c->o->offload || k < 2)
		return 0;
	int mtu = 0;
	socklen_t l = sizeof(mtu);
	int v6 = family == AF_INET6;
	if (getsockopt(c->fds[0], v6 ? IPPROTO_IPV6 : IPPROTO_IP,
		       v6 ? IPV6_MTU : IP_MTU, &mtu, &l) == 0 &&
	    c->o->datagram_bytes + (v6 ? 48u : 28u) > (unsigned)mtu)
		return 0;
	return k < GSO_MAX_SEGMENTS ? k : GSO_MAX_SEGMENTS;
}

static void fill_report(sctx *c, salvo_send_report *r, uint64_t start)
{
	salvo_sender_stats st;
	salvo_sender_get_stats(c->core, &st);
	r->elapsed_ns = salvo_now_ns() - start;
	r->datagrams = atomic_load(&c->datagrams);
	r->wire_bytes = atomic_load(&c->wire_bytes);
	r->retx_bytes = st.bytes_retx;
	r->srtt_ns = st.srtt_ns;
	r->final_rate_bps = st.rate_bps;
	r->gso_segments = atomic_load(&c->gso_segs);
	r->bytes = r->result ? st.bytes_acked : st.total_bytes;
	r->peak_rss_bytes = salvo_peak_rss();
}

static void finish_message(sctx *c, salvo_send_report *r, const char *where)
{
	int peer_code = 0, peer_errno = 0;
	const char *peer_msg = "";
	int res =
	    salvo_sender_result(c->core, &peer_code, &peer_errno, &peer_msg);
	double secs = (double)c->o->timeout_ns / 1e9;
	if (c->local_err) {
		r->result = c->local_err;
		snprintf(r->message, sizeof(r->message), "%s", c->local_msg);
		return;
	}
	r->result = res;
	r->peer_code = peer_code;
	r->peer_errno = peer_errno;
	switch (res) {
	case 0:
		r->message[0] = 0;
		break;
	case SALVO_ERR_UNREACHABLE:
		snprintf(r->message, sizeof(r->message),
			 "no answer from %s within %g s (is 'salvo recv' "
			 "running there, and UDP port %u open?)",
			 where, secs, c->o->port);
		break;
	case SALVO_ERR_TIMEOUT:
		snprintf(r->message, sizeof(r->message),
			 "receiver %s went silent for %g s mid-transfer", where,
			 secs);
		break;
	case SALVO_ERR_PEER:
		snprintf(r->message, sizeof(r->message), "receiver %s: %s",
			 where, peer_msg);
		break;
	case SALVO_ERR_ABORTED:
		snprintf(r->message, sizeof(r->message), "%s",
			 c->o->stop && *c->o->stop ? "interrupted"
						   : "receiver aborted the "
						     "transfer");
		break;
	default:
		snprintf(r->message, sizeof(r->message), "%s",
			 salvo_strerror(res));
	}
}

int salvo_send_run(const salvo_send_opts *o, salvo_send_report *r)
{
	sctx c;
	int rc;
	uint64_t start = salvo_now_ns();
	memset(r, 0, sizeof(*r));
	memset(&c, 0, sizeof(c));
	c.o = o;
	for (int i = 0; i < MAX_SOCKETS; i++)
		c.fds[i] = -1;
	r->block_bytes = o->block_bytes;
	r->datagram_bytes = o->datagram_bytes;
	r->threads = o->threads;
	r->sockets = o->sockets;
	r->batch = o->batch;
	r->rate_bps = o->rate_bps;
	r->window_bytes = o->window_bytes;
	r->adaptive = o->adaptive;
	if (!opts_ok(o, r->message, sizeof(r->message)))
		return r->result = SALVO_ERR_INVAL;
	salvo_raise_fd_limit();

	rc = salvo_scan_run(&c.scan, o->paths, o->npaths, o->items, o->nitems,
			    o->dest, r->message, sizeof(r->message));
	if (!rc)
		rc = check_unique(&c.scan, r->message, sizeof(r->message));
	if (rc)
		goto fail_scan;
	uint64_t off = 0;
	for (size_t i = 0; i < c.scan.n; i++) {
		c.scan.entries[i].stream_offset = off;
		off += c.scan.entries[i].size;
		if (c.scan.entries[i].type == SALVO_ENTRY_FILE)
			r->files++;
		else
			r->dirs++;
	}
	c.view.entries = c.scan.entries;
	c.view.count = (uint32_t)c.scan.n;
	c.view.total_bytes = off;

	struct sockaddr_storage peer;
	socklen_t plen;
	char where[300];
	rc = salvo_resolve(o->host, o->port, 0, &peer, &plen, r->message,
			   sizeof(r->message));
	if (rc) {
		rc = SALVO_ERR_UNREACHABLE;
		goto fail_scan;
	}
	salvo_format_addr((struct sockaddr *)&peer, where, sizeof(where));
	c.nsock = o->sockets;
	rc = open_sockets(&c, &peer, plen, r->message, sizeof(r->message));
	if (rc)
		goto fail_sockets;
	r->sndbuf_bytes = c.sndbuf_granted;
	atomic_store(&c.gso_segs, gso_plan(&c, peer.ss_family));

	uint8_t nonce_bytes[8];
	uint64_t nonce = 0;
	if (getentropy(nonce_bytes, sizeof(nonce_bytes)) == 0)
		memcpy(&nonce, nonce_bytes, sizeof(nonce));
	nonce ^= start;
	salvo_sender_config cfg = {.block_bytes = o->block_bytes,
				   .datagram_bytes =
				       (uint16_t)o->datagram_bytes,
				   .rate_bps = o->rate_bps,
				   .min_rate_bps = o->min_rate_bps,
				   .adaptive = o->adaptive,
				   .window_bytes = o->window_bytes,
				   .timeout_ns = o->timeout_ns,
				   .initial_rto_ns = 1000000000ull,
				   .nonce = nonce};
	rc = salvo_sender_new(&c.core, &salvo_mem_libc, &cfg, c.scan.entries,
			      (uint32_t)c.scan.n, start);
	if (rc) {
		snprintf(r->message, sizeof(r->message),
			 "cannot start the session: %s", salvo_strerror(rc));
		goto fail_sockets;
	}
	c.file_fd = malloc((c.scan.n ? c.scan.n : 1) * sizeof(int));
	if (!c.file_fd) {
		rc = -ENOMEM;
		snprintf(r->message, sizeof(r->message), "out of memory");
		goto fail_core;
	}
	for (size_t i = 0; i < c.scan.n; i++)
		c.file_fd[i] = -1;
	salvo_pacer_init(&c.pacer, o->rate_bps, 1000000);

	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c.wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&c.lock, NULL);
	pthread_mutex_init(&c.pace_lock, NULL);
	pthread_mutex_init(&c.fd_lock, NULL);

	uint32_t nw = o->threads;
	worker *ws = calloc(nw, sizeof(*ws));
	int started = 0;
	pthread_t rx_th, hash_th;
	rc = -ENOMEM;
	if (!ws)
		goto fail_threads;
	for (uint32_t i = 0; i < nw; i++) {
		ws[i].c = &c;
		ws[i].fd = c.fds[i % c.nsock];
		ws[i].buf = malloc(o->block_bytes);
		ws[i].hdr = malloc((size_t)o->batch * SALVO_DATA_HDR_BYTES);
		ws[i].iov = malloc((size_t)o->batch * sizeof(*ws[i].iov));
		ws[i].msg = malloc((size_t)o->batch * sizeof(*ws[i].msg));
		ws[i].segs = malloc(o->batch);
		if (!ws[i].buf || !ws[i].hdr || !ws[i].iov || !ws[i].msg ||
		    !ws[i].segs)
			goto fail_threads;
		struct cmsghdr *cm = (struct cmsghdr *)ws[i].gso;
		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		uint16_t gs = (uint16_t)o->datagram_bytes;
		memcpy(CMSG_DATA(cm), &gs, sizeof(gs));
	}
	rc = 0;
	pthread_create(&rx_th, NULL, receive_main, &c);
	pthread_create(&hash_th, NULL, hasher_main, &c);
	for (uint32_t i = 0; i < nw; i++)
		pthread_create(&ws[i].th, NULL, worker_main, &ws[i]);
	started = 1;

	/* the caller's thread: progress and the stop flag */
	uint64_t interval =
	    o->progress_interval_ns ? o->progress_interval_ns : 250000000ull;
	pthread_mutex_lock(&c.lock);
	uint64_t next_progress = salvo_now_ns() + interval;
	while (!c.finished) {
		struct timespec ts = {(time_t)(next_progress / 1000000000ull),
				      (long)(next_progress % 1000000000ull)};
		pthread_cond_timedwait(&c.wake, &c.lock, &ts);
		if (o->stop && *o->stop)
			salvo_sender_abort(c.core);
		if (salvo_now_ns() < next_progress)
			continue; /* woken early (a packet): not time yet */
		next_progress += interval;
		if (o->progress) {
			salvo_sender_stats st;
			salvo_sender_get_stats(c.core, &st);
			salvo_send_progress p = {
			    st.total_bytes,	    st.bytes_acked,
			    st.bytes_new,	    st.bytes_retx,
			    st.file_count,	    st.files_done,
			    salvo_now_ns() - start, st.phase};
			pthread_mutex_unlock(&c.lock);
			o->progress(o->progress_ud, &p);
			pthread_mutex_lock(&c.lock);
		}
		pthread_cond_broadcast(&c.wake);
	}
	pthread_mutex_unlock(&c.lock);

fail_threads:
	atomic_store(&c.hash_stop, 1);
	if (started) {
		for (uint32_t i = 0; i < nw; i++)
			pthread_join(ws[i].th, NULL);
		pthread_join(rx_th, NULL);
		pthread_join(hash_th, NULL);
	}
	for (uint32_t i = 0; ws && i < nw; i++) {
		free(ws[i].buf);
		free(ws[i].hdr);
		free(ws[i].iov);
		free(ws[i].msg);
		free(ws[i].segs);
	}
	free(ws);
	if (started) {
		finish_message(&c, r, where);
		rc = r->result;
		fill_report(&c, r, start);
	} else {
		snprintf(r->message, sizeof(r->message), "out of memory");
	}
	for (size_t i = 0; i < c.scan.n; i++)
		if (c.file_fd[i] >= 0)
			close(c.file_fd[i]);
	free(c.file_fd);
	pthread_mutex_destroy(&c.lock);
	pthread_mutex_destroy(&c.pace_lock);
	pthread_mutex_destroy(&c.fd_lock);
	pthread_cond_destroy(&c.wake);
fail_core:
	salvo_sender_del(c.core);
fail_sockets:
	for (uint32_t i = 0; i < c.nsock; i++)
		if (c.fds[i] >= 0)
			close(c.fds[i]);
fail_scan:
	salvo_scan_free(&c.scan);
	r->result = rc;
	if (!r->peak_rss_bytes)
		r->peak_rss_bytes = salvo_peak_rss();
	return rc;
}
