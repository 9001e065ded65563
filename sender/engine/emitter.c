/*
 * Work item -> sendmmsg (see emitter.h).  The datagram layout, the
 * sealing (each datagram built and encrypted in this thread's batch
 * buffer with this thread's lane key) and the pacer bookings come from
 * the core (salvo_emit_next); what is left here is the kernel's side: an
 * iovec per sealed datagram, GSO messages for runs of full-size
 * datagrams, and the error rules of
 * sendmmsg: a full socket buffer waits 50 us and tries again, an ICMP
 * error of an earlier datagram loses this one (as a lossy path would),
 * a GSO refusal turns GSO off for the session and resends plainly.
 */
#include "sender/engine/emitter.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/core/error.h"
#include "common/core/limits.h"
#include "common/io/sys.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* linux/udp.h, Linux 4.18 */
#endif
/* The kernel's UDP_MAX_SEGMENTS: datagrams in one GSO message. */
#define GSO_MAX_SEGMENTS 64

unsigned salvo_emitter_gso_plan(int fd, int v6, uint32_t datagram_bytes,
				int offload)
{
	unsigned k = SALVO_DATAGRAM_MAX_BYTES / datagram_bytes;
	if (!offload || k < 2)
		return 0;
	int mtu = 0;
	socklen_t l = sizeof(mtu);
	if (getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
		       v6 ? IPV6_MTU : IP_MTU, &mtu, &l) == 0 &&
	    datagram_bytes + salvo_ip_udp_overhead(v6) > (unsigned)mtu)
		return 0;
	return k < GSO_MAX_SEGMENTS ? k : GSO_MAX_SEGMENTS;
}

int salvo_emitter_init(salvo_emitter *em, salvo_emitter_shared *sh, int fd)
{
	size_t n = sh->batch_max;
	memset(em, 0, sizeof(*em));
	em->sh = sh;
	em->fd = fd;
	em->d = malloc(n * sizeof(*em->d));
	em->iov = malloc(n * sizeof(*em->iov));
	em->msg = malloc(n * sizeof(*em->msg));
	em->segs = malloc(n);
	em->out = malloc(n * sh->datagram_bytes);
	em->hc_state = malloc(salvo_lz4piece_hc_state_bytes());
	if (!em->d || !em->iov || !em->msg || !em->segs || !em->out ||
	    !em->hc_state) {
		salvo_emitter_free(em);
		return -ENOMEM;
	}
	salvo_lz4piece_hc_init(em->hc_state);
	salvo_lz4auto_init(&em->autoc);
	struct cmsghdr *cm = (struct cmsghdr *)em->gso;
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
	uint16_t gs = (uint16_t)sh->datagram_bytes;
	memcpy(CMSG_DATA(cm), &gs, sizeof(gs));
	return 0;
}

void salvo_emitter_free(salvo_emitter *em)
{
	free(em->d);
	free(em->iov);
	free(em->msg);
	free(em->segs);
	free(em->out);
	free(em->hc_state);
	em->hc_state = NULL;
	em->out = NULL;
	em->d = NULL;
	em->iov = NULL;
	em->msg = NULL;
	em->segs = NULL;
}

static int send_all(salvo_emitter_shared *sh, int fd, struct mmsghdr *m,
		    const uint8_t *segs, unsigned n);

/* The kernel refused a GSO message (a path it cannot segment for, an old
 * kernel): plain datagrams from now on, this message's included. */
static void gso_refused(salvo_emitter_shared *sh, int fd,
			const struct msghdr *h, unsigned k)
{
	struct mmsghdr one[GSO_MAX_SEGMENTS];
	atomic_store(&sh->gso_segs, 0);
	for (unsigned j = 0; j < k; j++)
		one[j] = (struct mmsghdr){
		    .msg_hdr = {.msg_iov = h->msg_iov + j, .msg_iovlen = 1}};
	send_all(sh, fd, one, NULL, k);
}

/* Sends n messages; segs[i] datagrams in message i (NULL: one each).
 * Returns 0, or -errno of the last message the kernel refused (lost). */
static int send_all(salvo_emitter_shared *sh, int fd, struct mmsghdr *m,
		    const uint8_t *segs, unsigned n)
{
	unsigned done = 0;
	int lost = 0;
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
				gso_refused(sh, fd, &m[done].msg_hdr,
					    segs[done]);
				done++;
				continue;
			}
			/* ECONNREFUSED from an earlier ICMP error and the
			 * like: the datagram is lost, as on any path */
			lost = -errno;
			done++;
			continue;
		}
		uint64_t dgrams = 0, bytes = 0;
		for (int j = 0; j < k; j++) {
			unsigned i = done + (unsigned)j;
			bytes += m[i].msg_len;
			dgrams += segs ? segs[i] : 1;
		}
		atomic_fetch_add(&sh->wire_bytes, bytes);
		atomic_fetch_add(&sh->datagrams, dgrams);
		done += (unsigned)k;
	}
	return lost;
}

/* Sends the batch's n datagrams (em->iov).  With GSO, each run of
 * full-size datagrams, which a short one may end, goes as one message the
 * kernel cuts into datagrams: one trip down the stack instead of many. */
static void send_batch(salvo_emitter *em, unsigned n)
{
	unsigned max = atomic_load(&em->sh->gso_segs);
	size_t full = em->sh->datagram_bytes;
	unsigned nm = 0;
	for (unsigned i = 0; i < n;) {
		unsigned k = 1;
		while (k < max && i + k < n &&
		       em->iov[i + k - 1].iov_len == full)
			k++;
		struct msghdr *h = &em->msg[nm].msg_hdr;
		*h = (struct msghdr){.msg_iov = &em->iov[i],
				     .msg_iovlen = (size_t)k};
		if (k > 1) {
			h->msg_control = em->gso;
			h->msg_controllen = CMSG_SPACE(sizeof(uint16_t));
		}
		em->segs[nm++] = (uint8_t)k;
		i += k;
	}
	send_all(em->sh, em->fd, em->msg, em->segs, nm);
}

/* This thread's CPU time, ns; 0 when the clock is not there. */
static uint64_t thread_cpu_ns(void)
{
	struct timespec t;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t))
		return 0;
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* What the item sent, for the core, the report and AUTO's choice. */
static void account(salvo_emitter *em, salvo_work *w, const salvo_emit *e,
		    int tried, uint64_t busy_ns, uint64_t wait_ns,
		    uint64_t ran_ns)
{
	salvo_emitter_shared *sh = em->sh;
	w->sent_datagrams = e->datagrams;
	w->sent_wire_bytes = e->wire_bytes;
	atomic_fetch_add(&sh->data_stream, e->stream_bytes);
	atomic_fetch_add(&sh->data_wire, e->wire_bytes);
	atomic_fetch_add(&sh->lz4_datagrams, e->lz4_datagrams);
	if (em->compress != SALVO_COMPRESS_OFF)
		salvo_lz4auto_done(&em->autoc, tried,
				   e->lz4_datagrams * 2 >= e->datagrams,
				   e->stream_bytes, busy_ns, wait_ns, ran_ns);
}

int salvo_emitter_send_work(salvo_emitter *em, salvo_work *w,
			    const uint8_t *buf, uint32_t session,
			    salvo_aead *aead, uint8_t lane, uint32_t *crc)
{
	salvo_emitter_shared *sh = em->sh;
	uint32_t batch = salvo_emit_batch_for_rate(
	    sh->batch_max, salvo_pacing_rate(sh->pacing), sh->datagram_bytes,
	    sh->overhead);
	salvo_emit e;
	salvo_emit_init(&e, w, buf, session, aead, lane, sh->datagram_bytes,
			sh->overhead, batch);
	int tried = em->compress == SALVO_COMPRESS_LZ4 ||
		    (em->compress == SALVO_COMPRESS_AUTO &&
		     salvo_lz4auto_want(&em->autoc));
	if (tried) {
		salvo_emit_compress(&e, em->compress);
		salvo_emit_compress_level(&e, em->hc_state,
					  salvo_lz4auto_level(&em->autoc));
	}
	uint64_t t0 = salvo_now_ns(), waited = 0, cpu0 = thread_cpu_ns();
	uint64_t last = t0;
	uint64_t booking;
	uint32_t n;
	while ((n = salvo_emit_next(&e, em->out, em->d, &booking))) {
		for (uint32_t i = 0; i < n; i++)
			em->iov[i] = (struct iovec){
			    em->out + em->d[i].out_offset, em->d[i].len};
		*crc = e.block_crc;
		uint64_t tw = salvo_now_ns();
		if (salvo_pacing_wait(sh->pacing, booking))
			return SALVO_ERR_ABORTED;
		uint64_t sent_at = salvo_now_ns();
		waited += sent_at - tw;
		send_batch(em, n);
		if (em->progress &&
		    sent_at - last >= SALVO_EMITTER_PROGRESS_NS) {
			/* what went so far, for the core's ratio and count */
			w->sent_datagrams = e.datagrams;
			w->sent_wire_bytes = e.wire_bytes;
			em->progress(em->progress_ud, w, e.block_crc, e.range,
				     e.off);
			last = sent_at;
		}
	}
	*crc = e.block_crc;
	uint64_t took = salvo_now_ns() - t0, cpu1 = thread_cpu_ns();
	uint64_t busy = took > waited ? took - waited : 0;
	/* the CPU the thread had while busy (a clock that failed: all) */
	account(em, w, &e, tried, busy, waited + em->idle_ns,
		cpu0 && cpu1 >= cpu0 ? cpu1 - cpu0 : busy);
	em->idle_ns = 0;
	return e.err;
}

int salvo_emitter_send_control(salvo_emitter_shared *sh, int fd,
			       const void *buf, size_t len)
{
	uint64_t wire = salvo_emit_wire_bytes(len, sh->overhead);
	if (len <= SALVO_CONTROL_UNPACED_BYTES)
		salvo_pacing_charge(sh->pacing, wire);
	else if (salvo_pacing_wait(sh->pacing, wire))
		return SALVO_ERR_ABORTED;
	struct iovec iov = {(void *)buf, len};
	struct mmsghdr m = {.msg_hdr = {.msg_iov = &iov, .msg_iovlen = 1}};
	return send_all(sh, fd, &m, NULL, 1);
}
