/*
 * The receiver engine (see recv.h).  Threads:
 *
 *   socket threads (opts.sockets)  one per SO_REUSEPORT socket: recvmmsg
 *       a batch, take the core lock once, feed every datagram, run due
 *       timers, then write the batch's payloads into part-files with one
 *       pwritev per run of adjacent bytes (straight from the receive
 *       buffers), queue the verification jobs that read them back, and
 *       drop the lock.  The core's packets go out on the socket of the
 *       thread that holds the lock.
 *   verifier  reads back completed blocks (CRC32C) and completed files
 *       (SHA-256, fsync, rename), then reports to the core.  Blocking disk
 *       work stays off the socket threads.
 *
 * Per-session engine state (struct esess) lives until the core ends the
 * session and no verifier job refers to it any more.
 */
#include "receiver/engine/recv.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/error.h"
#include "common/core/policy.h"
#include "common/io/sys.h"
#include "receiver/core/receiver.h"
#include "receiver/engine/files.h"

#define MAX_SOCKETS 64
#define SLOT_BYTES 65536 /* one UDP payload, or one GRO train of them */
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_GRO
#define UDP_GRO 104 /* linux/udp.h, Linux 5.0 */
#endif

typedef struct gro_cmsg {
	_Alignas(struct cmsghdr) char b[32]; /* >= CMSG_SPACE(sizeof(int)) */
} gro_cmsg;

typedef struct esess {
	uint32_t id;
	/* the engine's own copy: the core frees its manifest when the
	 * session ends, while a verifier job may still be reading files */
	salvo_manifest m;
	int have_m;
	rfiles files;
	int prepared, ended, refs;
	char peer[80];
	uint64_t start_ns, bytes, files_done;
	struct esess *next;
} esess;

typedef struct job {
	int kind; /* 0 block, 1 file */
	esess *s;
	uint32_t idx, len, crc;
	uint64_t start;
	uint8_t digest[32];
	struct job *next;
} job;

typedef struct rctx {
	const salvo_recv_opts *o;
	salvo_receiver *core;
	pthread_mutex_t lock; /* core, sessions, stats */
	int cur_fd;	      /* socket for the core's sends, under lock */
	struct sthread *cur;  /* socket thread holding the lock, or NULL */
	int fds[MAX_SOCKETS];
	uint32_t nsock;
	int root;
	esess *sessions;
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	job *qhead, *qtail;
	int stopping;
	int ended_sessions, last_result;
	salvo_recv_report *rep;
} rctx;

/* A write the core asked for, held until the end of the batch. */
typedef struct pwrite_req {
	esess *s;
	uint32_t file;
	uint64_t off;
	const void *p;
	size_t len;
} pwrite_req;

typedef struct sthread {
	rctx *c;
	int fd;
	pthread_t th;
	/* a batch's writes and verification jobs: the writes go out as
	 * pwritev calls (one per run of adjacent bytes of one file) once the
	 * batch is through the core, then the jobs, which read them back */
	pwrite_req *w;
	size_t nw, capw;
	job *jobs, *jobs_tail;
} sthread;

void salvo_recv_opts_default(salvo_recv_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->port = 7400;
	o->sockets = 2;
	o->batch = 32;
	o->offload = 1;
	o->max_sessions = 64;
	o->idle_timeout_ns = 10000000000ull;
	o->overwrite = SALVO_OVERWRITE_REPLACE;
}

static void logf_(rctx *c, const char *fmt, ...)
{
	if (!c->o->log)
		return;
	char line[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	salvo_log_event ev = {.level = SALVO_LOG_INFO, .event = "receiver",
			      .message = line};
	c->o->log(c->o->log_ud, &ev);
}

static void queue_job(rctx *c, job *j)
{
	pthread_mutex_lock(&c->qlock);
	j->next = NULL;
	if (c->qtail)
		c->qtail->next = j;
	else
		c->qhead = j;
	c->qtail = j;
	pthread_cond_signal(&c->qcond);
	pthread_mutex_unlock(&c->qlock);
}

/* A job from a socket thread's batch waits for the batch's writes. */
static void push_job(rctx *c, job *j)
{
	sthread *t = c->cur;
	if (!t) {
		queue_job(c, j);
		return;
	}
	j->next = NULL;
	if (t->jobs_tail)
		t->jobs_tail->next = j;
	else
		t->jobs = j;
	t->jobs_tail = j;
}

/* Drops a reference; frees the session's engine state at zero.  Lock held. */
static void release(rctx *c, esess *s)
{
	if (--s->refs > 0)
		return;
	for (esess **p = &c->sessions; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	rfiles_free(&s->files, 1);
	if (s->have_m)
		salvo_manifest_free(&s->m);
	free(s);
}

/* ------------------------------------------------------ core callbacks */

static void cb_send(void *ud, const salvo_addr *a, const void *buf, size_t len)
{
	rctx *c = ud;
	sendto(c->cur_fd, buf, len, MSG_DONTWAIT,
	       (const struct sockaddr *)a->bytes, a->len);
}

static esess *eng(salvo_rsess *sess)
{
	return salvo_rsess_user(sess);
}

static int cb_prepare(void *ud, salvo_rsess *sess, const salvo_manifest *m,
		      char *err, size_t errlen)
{
	rctx *c = ud;
	esess *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "receiver out of memory");
		return -ENOMEM;
	}
	s->id = salvo_rsess_id(sess);
	s->refs = 1;
	s->start_ns = salvo_now_ns();
	const salvo_addr *a = salvo_rsess_peer(sess);
	salvo_format_addr((const struct sockaddr *)a->bytes, s->peer,
			  sizeof(s->peer));
	s->next = c->sessions;
	c->sessions = s;
	salvo_rsess_set_user(sess, s);
	if (salvo_manifest_copy(&s->m, m, &salvo_mem_libc)) {
		snprintf(err, errlen, "receiver out of memory");
		return -ENOMEM;
	}
	s->have_m = 1;
	int rc = rfiles_prepare(&s->files, c->root, &s->m, s->id,
				salvo_rsess_block_bytes(sess), c->o->overwrite,
				c->o->max_file_bytes, err, errlen);
	s->prepared = 1;
	if (!rc)
		logf_(c, "session %08x from %s: %u entries, %llu bytes", s->id,
		      s->peer, m->count, (unsigned long long)m->total_bytes);
	return rc;
}

static int grow_writes(sthread *t)
{
	size_t cap = t->capw ? 2 * t->capw : 256;
	pwrite_req *w = realloc(t->w, cap * sizeof(*w));
	if (!w)
		return -ENOMEM;
	t->w = w;
	t->capw = cap;
	return 0;
}

static int cb_write(void *ud, salvo_rsess *sess, uint32_t file, uint64_t offset,
		    const void *data, size_t len, char *err, size_t errlen)
{
	rctx *c = ud;
	esess *s = eng(sess);
	sthread *t = c->cur;
	if (!t || (t->nw == t->capw && grow_writes(t))) {
		struct iovec v = {(void *)data, len}; /* write at once */
		int rc =
		    rfiles_writev(&s->files, file, offset, &v, 1, err, errlen);
		if (!rc)
			s->bytes += len;
		return rc;
	}
	s->refs++; /* held until the batch's writes are out */
	t->w[t->nw++] = (pwrite_req){s, file, offset, data, len};
	s->bytes += len;
	return 0;
}

static void cb_verify(void *ud, salvo_rsess *sess, uint32_t block,
		      uint64_t start, uint32_t len, uint32_t crc)
{
	rctx *c = ud;
	esess *s = eng(sess);
	job *j = calloc(1, sizeof(*j));
	if (!j) {
		salvo_receiver_fail(c->core, s->id, SALVO_ERR_NOMEM, 0,
				    SALVO_FILE_INDEX_NONE,
				    "receiver out of memory", salvo_now_ns());
		return;
	}
	*j = (job){.kind = 0,
		   .s = s,
		   .idx = block,
		   .len = len,
		   .crc = crc,
		   .start = start};
	s->refs++;
	push_job(c, j);
}

static void cb_finalize(void *ud, salvo_rsess *sess, uint32_t file,
			const uint8_t digest[32])
{
	rctx *c = ud;
	esess *s = eng(sess);
	job *j = calloc(1, sizeof(*j));
	if (!j) {
		salvo_receiver_fail(c->core, s->id, SALVO_ERR_NOMEM, 0, file,
				    "receiver out of memory", salvo_now_ns());
		return;
	}
	*j = (job){.kind = 1, .s = s, .idx = file};
	memcpy(j->digest, digest, 32);
	s->refs++;
	push_job(c, j);
}

static void cb_end(void *ud, salvo_rsess *sess, int result, const char *msg)
{
	rctx *c = ud;
	esess *s = eng(sess);
	c->ended_sessions++;
	if (!s) { /* failed before prepare (bad manifest...) */
		c->last_result = result;
		c->rep->sessions_failed++;
		logf_(c, "session %08x failed: %s", salvo_rsess_id(sess), msg);
		return;
	}
	char fmsg[512] = "";
	if (!result && rfiles_finish(&s->files, fmsg, sizeof(fmsg)))
		result = SALVO_ERR_IO;
	double secs = (double)(salvo_now_ns() - s->start_ns) / 1e9;
	if (!result) {
		c->rep->sessions_ok++;
		logf_(c,
		      "session %08x from %s complete: %llu files, %llu bytes "
		      "in %.2f s (%.1f Mbit/s)",
		      s->id, s->peer, (unsigned long long)s->files_done,
		      (unsigned long long)s->bytes, secs,
		      secs > 0 ? (double)s->bytes * 8 / secs / 1e6 : 0.0);
	} else {
		c->rep->sessions_failed++;
		logf_(c, "session %08x from %s failed: %s", s->id, s->peer,
		      fmsg[0] ? fmsg : msg);
	}
	c->last_result = result;
	s->ended = 1;
	salvo_rsess_set_user(sess, NULL);
	release(c, s);
}

/* ------------------------------------------------------------ verifier */

static void *verifier_main(void *arg)
{
	rctx *c = arg;
	for (;;) {
		pthread_mutex_lock(&c->qlock);
		while (!c->qhead && !c->stopping)
			pthread_cond_wait(&c->qcond, &c->qlock);
		job *j = c->qhead;
		if (j) {
			c->qhead = j->next;
			if (!c->qhead)
				c->qtail = NULL;
		}
		pthread_mutex_unlock(&c->qlock);
		if (!j)
			break;
		esess *s = j->s;
		char msg[512] = "";
		int rc = 0, ok = 0;
		/* the session may have ended meanwhile: then skip the work */
		pthread_mutex_lock(&c->lock);
		int ended = s->ended;
		pthread_mutex_unlock(&c->lock);
		if (!ended && j->kind == 0) {
			ok = rfiles_verify_block(&s->files, j->idx, j->start,
						 j->len, j->crc) == 1;
		} else if (!ended) {
			rc = rfiles_commit(&s->files, j->idx, j->digest, msg,
					   sizeof(msg));
		}
		pthread_mutex_lock(&c->lock);
		c->cur_fd = c->fds[0];
		uint64_t now = salvo_now_ns();
		if (!s->ended && j->kind == 0) {
			salvo_receiver_block_result(c->core, s->id, j->idx, ok,
						    now);
		} else if (!s->ended) {
			if (!rc) {
				const salvo_entry *e =
				    &s->files.m->entries[j->idx];
				s->files_done++;
				c->rep->files++;
				c->rep->bytes += e->size;
				logf_(c, "received %s (%llu bytes)", e->path,
				      (unsigned long long)e->size);
			}
			salvo_receiver_file_result(c->core, s->id, j->idx, rc,
						   msg, now);
		}
		release(c, s);
		pthread_mutex_unlock(&c->lock);
		free(j);
	}
	return NULL;
}

/* ------------------------------------------------------ socket threads */

/* The end of a batch, lock held: the held writes as pwritev runs of
 * adjacent bytes of one file, then the jobs that read them back. */
static void flush_batch(sthread *t, uint64_t now)
{
	rctx *c = t->c;
	struct iovec v[64];
	char msg[512];
	for (size_t k = 0; k < t->nw;) {
		const pwrite_req *r = &t->w[k];
		uint64_t end = r->off;
		int n = 0;
		for (; k < t->nw && n < 64 && t->w[k].s == r->s &&
		       t->w[k].file == r->file && t->w[k].off == end;
		     k++) {
			v[n++] = (struct iovec){(void *)t->w[k].p, t->w[k].len};
			end += t->w[k].len;
		}
		if (r->s->ended)
			continue; /* failed meanwhile: its part-files go */
		msg[0] = 0;
		int rc = rfiles_writev(&r->s->files, r->file, r->off, v, n, msg,
				       sizeof(msg));
		if (rc)
			salvo_receiver_fail(
			    c->core, r->s->id, SALVO_ERR_IO, rc, r->file,
			    msg[0] ? msg : "receiver write failed", now);
	}
	for (size_t k = 0; k < t->nw; k++)
		release(c, t->w[k].s);
	t->nw = 0;
	while (t->jobs) {
		job *j = t->jobs;
		t->jobs = j->next;
		queue_job(c, j);
	}
	t->jobs_tail = NULL;
}

static int done_serving(rctx *c)
{
	if (c->o->stop && *c->o->stop)
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

static void *socket_main(void *arg)
{
	sthread *t = arg;
	rctx *c = t->c;
	uint32_t batch = c->o->batch;
	uint8_t *bufs = malloc((size_t)batch * SLOT_BYTES);
	struct mmsghdr *m = calloc(batch, sizeof(*m));
	struct iovec *iov = calloc(batch, sizeof(*iov));
	struct sockaddr_storage *from = calloc(batch, sizeof(*from));
	gro_cmsg *ctl = calloc(batch, sizeof(*ctl));
	if (!bufs || !m || !iov || !from || !ctl)
		goto out;
	for (;;) {
		pthread_mutex_lock(&c->lock);
		int stop = c->stopping || done_serving(c);
		if (stop)
			c->stopping = 1;
		uint64_t next = salvo_receiver_next_timer(c->core);
		pthread_mutex_unlock(&c->lock);
		if (stop)
			break;
		uint64_t now = salvo_now_ns();
		int wait_ms = 100;
		if (next != UINT64_MAX)
			wait_ms = next <= now ? 0
				  : (next - now) / 1000000 < 100
				      ? (int)((next - now + 999999) / 1000000)
				      : 100;
		struct pollfd p = {t->fd, POLLIN, 0};
		int pr = poll(&p, 1, wait_ms);
		int n = 0;
		if (pr > 0) {
			for (uint32_t i = 0; i < batch; i++) {
				iov[i] = (struct iovec){
				    bufs + (size_t)i * SLOT_BYTES, SLOT_BYTES};
				m[i].msg_hdr = (struct msghdr){
				    .msg_name = &from[i],
				    .msg_namelen = sizeof(from[i]),
				    .msg_iov = &iov[i],
				    .msg_iovlen = 1,
				    .msg_control = ctl[i].b,
				    .msg_controllen = sizeof(ctl[i].b)};
			}
			n = recvmmsg(t->fd, m, batch, MSG_DONTWAIT, NULL);
		}
		pthread_mutex_lock(&c->lock);
		c->cur_fd = t->fd;
		c->cur = t;
		now = salvo_now_ns();
		for (int i = 0; i < n; i++) {
			salvo_addr a;
			salvo_addr_from_sockaddr(&a,
						 (struct sockaddr *)&from[i],
						 m[i].msg_hdr.msg_namelen);
			/* with GRO, one message is a train of datagrams of
			 * one size (the last may be shorter) */
			size_t seg = gro_size(&m[i].msg_hdr);
			const uint8_t *dg = iov[i].iov_base;
			for (size_t off = 0, len = m[i].msg_len; off < len;
			     off += seg) {
				size_t l = len - off < seg ? len - off : seg;
				salvo_receiver_on_packet(c->core, &a, dg + off,
							 l, now);
			}
		}
		if (salvo_receiver_next_timer(c->core) <= now)
			salvo_receiver_on_timer(c->core, now);
		flush_batch(t, now);
		c->cur = NULL;
		pthread_mutex_unlock(&c->lock);
	}
out:
	free(t->w);
	free(bufs);
	free(m);
	free(iov);
	free(from);
	free(ctl);
	return NULL;
}

static int open_socket(rctx *c, const struct sockaddr_storage *ss,
		       socklen_t len, char *msg, size_t mlen)
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
	/* GRO: trains of datagrams in one message (a kernel without it
	 * hands them one by one, which the socket threads also take) */
	if (c->o->offload)
		(void)setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one));
	return fd;
}

int salvo_recv_run(const salvo_recv_opts *o, salvo_recv_report *r)
{
	rctx c;
	int rc;
	memset(r, 0, sizeof(*r));
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.rep = r;
	if (!o->dir || o->sockets < 1 || o->sockets > MAX_SOCKETS ||
	    o->batch < 1 || o->batch > 1024 || !o->max_sessions) {
		snprintf(r->message, sizeof(r->message),
			 "bad receiver options (folder, 1..64 sockets, "
			 "1..1024 batch)");
		return r->result = SALVO_ERR_INVAL;
	}
	salvo_raise_fd_limit();
	c.root = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c.root < 0) {
		rc = -errno;
		snprintf(r->message, sizeof(r->message),
			 "cannot use folder '%s': %s", o->dir, strerror(-rc));
		return r->result = rc;
	}
	struct sockaddr_storage ss;
	socklen_t sl;
	rc = salvo_resolve(o->bind && *o->bind ? o->bind : NULL, o->port, 1,
			   &ss, &sl, r->message, sizeof(r->message));
	if (rc)
		goto fail_root;
	/* SO_REUSEPORT would let a second receiver share the port and
	 * steal half the traffic: first make sure nobody holds it, with a
	 * socket that does not ask to share */
	int probe = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && o->port &&
	    bind(probe, (const struct sockaddr *)&ss, sl) &&
	    errno == EADDRINUSE) {
		char where[128];
		salvo_format_addr((const struct sockaddr *)&ss, where,
				  sizeof(where));
		snprintf(
		    r->message, sizeof(r->message),
		    "cannot listen on UDP %s: port already in use (another "
		    "salvo recv?)",
		    where);
		close(probe);
		rc = -EADDRINUSE;
		goto fail_root;
	}
	if (probe >= 0)
		close(probe);
	c.nsock = o->sockets;
	for (uint32_t i = 0; i < c.nsock; i++)
		c.fds[i] = -1;
	for (uint32_t i = 0; i < c.nsock; i++) {
		int fd =
		    open_socket(&c, &ss, sl, r->message, sizeof(r->message));
		if (fd < 0) {
			rc = fd;
			goto fail_sockets;
		}
		c.fds[i] = fd;
		if (!i && !o->port) { /* port 0: bind the others to the same */
			getsockname(fd, (struct sockaddr *)&ss, &sl);
		}
	}
	salvo_receiver_config rc_cfg = {.max_sessions = o->max_sessions,
					.idle_timeout_ns = o->idle_timeout_ns,
					.cookie_lifetime_ns = 60000000000ull};
	if (getentropy(rc_cfg.secret, sizeof(rc_cfg.secret)) ||
	    getentropy(&rc_cfg.seed, sizeof(rc_cfg.seed))) {
		rc = -errno;
		snprintf(r->message, sizeof(r->message),
			 "no randomness for cookies: %s", strerror(-rc));
		goto fail_sockets;
	}
	salvo_receiver_cb cb = {cb_send,     cb_prepare, cb_write, cb_verify,
				cb_finalize, cb_end,	 &c};
	rc = salvo_receiver_new(&c.core, &salvo_mem_libc, &rc_cfg, &cb);
	if (rc) {
		snprintf(r->message, sizeof(r->message),
			 "cannot start the receiver: %s", salvo_strerror(rc));
		goto fail_sockets;
	}
	pthread_mutex_init(&c.lock, NULL);
	pthread_mutex_init(&c.qlock, NULL);
	pthread_cond_init(&c.qcond, NULL);
	if (o->ready) {
		struct sockaddr_storage b;
		socklen_t bl = sizeof(b);
		getsockname(c.fds[0], (struct sockaddr *)&b, &bl);
		o->ready(o->log_ud,
			 ntohs(((struct sockaddr_in *)&b)->sin_port));
	}
	pthread_t vth;
	sthread *ts = calloc(c.nsock, sizeof(*ts));
	pthread_create(&vth, NULL, verifier_main, &c);
	for (uint32_t i = 0; ts && i < c.nsock; i++) {
		ts[i] = (sthread){.c = &c, .fd = c.fds[i]};
		pthread_create(&ts[i].th, NULL, socket_main, &ts[i]);
	}
	for (uint32_t i = 0; ts && i < c.nsock; i++)
		pthread_join(ts[i].th, NULL);
	free(ts);
	pthread_mutex_lock(&c.qlock);
	c.stopping = 1;
	pthread_cond_broadcast(&c.qcond);
	pthread_mutex_unlock(&c.qlock);
	pthread_join(vth, NULL);

	salvo_receiver_stats st;
	salvo_receiver_get_stats(c.core, &st);
	r->malformed = st.malformed;
	r->unknown = st.unknown;
	r->duplicates = st.duplicates;
	pthread_mutex_lock(&c.lock);
	salvo_receiver_del(c.core); /* ends what is left */
	while (c.sessions) {	    /* states no job refers to any more */
		esess *s = c.sessions;
		c.sessions = s->next;
		rfiles_free(&s->files, 1);
		free(s);
	}
	pthread_mutex_unlock(&c.lock);
	pthread_mutex_destroy(&c.lock);
	pthread_mutex_destroy(&c.qlock);
	pthread_cond_destroy(&c.qcond);
	rc = 0;
	r->last_session_result = c.last_result;
	if (o->once)
		rc = c.ended_sessions ? c.last_result : SALVO_ERR_ABORTED;
	if (rc && !r->message[0])
		snprintf(r->message, sizeof(r->message), "%s",
			 salvo_strerror(rc));
fail_sockets:
	for (uint32_t i = 0; i < c.nsock; i++)
		if (c.fds[i] >= 0)
			close(c.fds[i]);
fail_root:
	close(c.root);
	r->peak_rss_bytes = salvo_peak_rss();
	return r->result = rc;
}
