/*
 * The sender engine (see send.h): the orchestration of one session.  The
 * work is done in files split by data path:
 *
 *   scan.c         the paths -> the manifest's entries and stream layout
 *   reader.c       stream ranges -> bytes (pread, bounded fd cache)
 *   hasher.c       new blocks -> per-file BLAKE3 -> the core (FILE_DONE)
 *   emitter.c      a work item -> datagrams -> sendmmsg / UDP GSO
 *   pacing.c       the token bucket every thread books its batches at
 *   blocksender.c  thread: poll work, read it, send it, report it done
 *   control.c      thread: socket 0 -> the core; timed control packets
 *   report.c       the result in words and numbers, per-entry results
 *
 * Threads: `threads` block-senders (each with its own socket's emitter
 * and one block buffer: sender memory is block size x threads; each
 * hashes the new blocks it sends), one control thread, and the caller's
 * thread, which reports
 * progress and watches the stop flag until the session ends.  The core
 * is shared under one mutex, taken per work item or packet, never per
 * datagram (session.h).
 *
 * salvo_send_run: check the options, scan, resolve the receiver and pick
 * the datagram size for its address family, open the sockets, make the
 * core and the shared parts, start the threads, wait, join, report, and
 * undo in reverse order.  A failure at any step is a report, not a leak
 * or a hang.
 */
#include "sender/engine/send.h"

#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/core/error.h"
#include "common/crypto/aead.h"
#include "common/crypto/keyfile.h"
#include "common/io/sys.h"
#include "sender/engine/events.h"
#include "sender/engine/report.h"
#include "sender/engine/session.h"

#define PROGRESS_INTERVAL_NS 250000000ull
#define FIRST_RTO_NS 1000000000ull
/* How often the caller's thread looks at the stop flag: with the rest of
 * the stop (a CLOSE, the threads joined), Ctrl-C ends a send in well
 * under half a second at any rate. */
#define STOP_CHECK_NS 50000000ull

static int opts_ok(const salvo_send_opts *o, char *msg, size_t len)
{
	if (!o->host || !*o->host)
		snprintf(msg, len, "no receiver host");
	else if (o->datagram_bytes &&
		 (o->datagram_bytes < SALVO_DATAGRAM_MIN_BYTES ||
		  o->datagram_bytes > SALVO_DATAGRAM_MAX_BYTES))
		snprintf(msg, len,
			 "network.datagram: %u bytes is out of range (%u..%u)",
			 o->datagram_bytes, SALVO_DATAGRAM_MIN_BYTES,
			 SALVO_DATAGRAM_MAX_BYTES);
	else if (o->mtu_bytes && (o->mtu_bytes < SALVO_MTU_MIN_BYTES ||
				  o->mtu_bytes > SALVO_MTU_MAX_BYTES))
		snprintf(msg, len, "network.mtu: %u is out of range (%u..%u)",
			 o->mtu_bytes, SALVO_MTU_MIN_BYTES,
			 SALVO_MTU_MAX_BYTES);
	else if (o->threads < 1 || o->threads > SALVO_THREADS_MAX)
		snprintf(msg, len, "transfer.threads must be 1..%u",
			 SALVO_THREADS_MAX);
	else if (o->sockets < 1 || o->sockets > SALVO_SOCKETS_MAX)
		snprintf(msg, len, "network.send_sockets must be 1..%u",
			 SALVO_SOCKETS_MAX);
	else if (o->batch < 1 || o->batch > SALVO_BATCH_MAX)
		snprintf(msg, len, "network.batch must be 1..%u",
			 SALVO_BATCH_MAX);
	else if (!o->rate_bps && o->rate_policy == SALVO_RATE_FIXED)
		snprintf(msg, len,
			 "transfer.rate must be above 0 with the fixed policy");
	else if (!o->timeout_ns)
		snprintf(msg, len, "transfer.timeout must be above 0");
	else if (!o->has_peer_key && !o->pin)
		snprintf(msg, len,
			 "no receiver key (security.receiver_key) and no way "
			 "to pin one");
	else
		return 1;
	return 0;
}

/* The datagram size for the resolved family, and the block size that
 * must hold one datagram's payload. */
static int pick_datagram(salvo_send_session *c, char *msg, size_t len)
{
	const salvo_send_opts *o = c->o;
	uint32_t mtu = o->mtu_bytes ? o->mtu_bytes : SALVO_MTU_DEFAULT_BYTES;
	if (salvo_emit_pick_datagram(o->datagram_bytes, mtu, c->v6,
				     &c->datagram_bytes)) {
		if (o->datagram_bytes)
			snprintf(msg, len,
				 "network.datagram: %u bytes do not fit the "
				 "MTU of %u over IPv6 (at most %u)",
				 o->datagram_bytes, mtu,
				 salvo_datagram_for_mtu(mtu, 1));
		else
			snprintf(msg, len,
				 "network.mtu: %u bytes cannot carry a "
				 "datagram over IPv%d",
				 mtu, c->v6 ? 6 : 4);
		return SALVO_ERR_INVAL;
	}
	if (o->block_bytes < salvo_wire_payload_bytes(c->datagram_bytes) ||
	    o->block_bytes > SALVO_BLOCK_MAX_BYTES) {
		snprintf(msg, len,
			 "transfer.block_size must hold one datagram's "
			 "payload (%u bytes) and be at most %u bytes",
			 salvo_wire_payload_bytes(c->datagram_bytes),
			 SALVO_BLOCK_MAX_BYTES);
		return SALVO_ERR_INVAL;
	}
	return 0;
}

static int open_sockets(salvo_send_session *c,
			const struct sockaddr_storage *peer, socklen_t plen,
			char *msg, size_t len)
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

static void close_sockets(salvo_send_session *c)
{
	for (uint32_t i = 0; i < SALVO_SOCKETS_MAX; i++)
		if (c->fds[i] >= 0)
			close(c->fds[i]);
}

static void core_random(void *ud, void *buf, size_t n)
{
	(void)ud;
	salvo_crypto_random(buf, n);
}

/* The wall clock less the monotonic one, for INIT's stamp. */
static uint64_t realtime_offset(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t rt =
	    (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	uint64_t mono = salvo_now_ns();
	return rt > mono ? rt - mono : 0;
}

static int make_core(salvo_send_session *c)
{
	const salvo_send_opts *o = c->o;
	salvo_sender_config cfg = {
	    .block_bytes = o->block_bytes,
	    .datagram_bytes = (uint16_t)c->datagram_bytes,
	    .rate_bps = o->rate_bps,
	    .min_rate_bps = o->min_rate_bps,
	    .rate_policy = o->rate_policy,
	    .link_bps = o->link_bps,
	    .window_bytes = o->window_bytes,
	    .timeout_ns = o->timeout_ns,
	    .overwrite = o->overwrite,
	    .digests = (const void *)c->scan.digests,
	    .initial_rto_ns = FIRST_RTO_NS,
	    .has_peer_key = o->has_peer_key || o->has_pinned_key,
	    .confirm_key = !o->has_peer_key && o->has_pinned_key,
	    .pin = o->pin,
	    .pin_ud = o->pin_ud,
	    .lanes = o->threads + 1,
	    .suites = salvo_aead_local_suites(),
	    .caps = o->compress != SALVO_COMPRESS_OFF ? SALVO_CAP_LZ4 : 0,
	    .realtime_offset_ns = realtime_offset(),
	    .random = core_random};
	/* without a key of its own the sender is anonymous: a throwaway
	 * pair, which only a receiver that allows anonymous senders takes */
	if (o->has_key) {
		memcpy(cfg.key_private, o->key_private, 32);
		memcpy(c->key_public, o->key_public, 32);
	} else {
		salvo_keyfile_generate(cfg.key_private, c->key_public);
	}
	memcpy(cfg.peer_key, o->has_peer_key ? o->peer_key : o->pinned_key, 32);
	/* the core's clock (the handshake's timeout) starts now, not when
	 * the scan began: a million files take longer to walk than the
	 * default timeout */
	int rc =
	    salvo_sender_new(&c->core, &salvo_mem_libc, &cfg, c->scan.entries,
			     (uint32_t)c->scan.n, salvo_now_ns());
	sodium_memzero(cfg.key_private, sizeof(cfg.key_private));
	free(c->scan.digests); /* in the manifest now */
	c->scan.digests = NULL;
	return rc;
}

/* The session lock and its condition variable on the monotonic clock. */
static int make_locks(salvo_send_session *c)
{
	int e = salvo_cond_init_monotonic(&c->wake);
	if (e)
		return e;
	e = salvo_cond_init_monotonic(&c->work);
	if (e)
		goto fail_work;
	e = -pthread_mutex_init(&c->lock, NULL);
	if (e)
		goto fail_lock;
	return 0;

fail_lock:
	pthread_cond_destroy(&c->work);
fail_work:
	pthread_cond_destroy(&c->wake);
	return e;
}

static void free_blocksenders(salvo_blocksender *bs, uint32_t n)
{
	for (uint32_t i = 0; bs && i < n; i++) {
		salvo_emitter_free(&bs[i].em);
		salvo_aead_free(&bs[i].aead);
		free(bs[i].buf);
	}
	free(bs);
}

static salvo_blocksender *make_blocksenders(salvo_send_session *c)
{
	uint32_t n = c->o->threads;
	salvo_blocksender *bs = calloc(n, sizeof(*bs));
	for (uint32_t i = 0; bs && i < n; i++) {
		bs[i].c = c;
		bs[i].lane = i + 1; /* lane 0 is the core's */
		bs[i].buf = malloc(c->o->block_bytes);
		if (!bs[i].buf || salvo_emitter_init(&bs[i].em, &c->net,
						     c->fds[i % c->nsock])) {
			free_blocksenders(bs, n);
			return NULL;
		}
	}
	return bs;
}

/* Ends the session for every thread (after a failure to start one). */
static void finish(salvo_send_session *c)
{
	pthread_mutex_lock(&c->lock);
	salvo_send_session_end(c);
	pthread_mutex_unlock(&c->lock);
}

/* Starts the control thread and the block-senders into
 * th[0 .. *started).  On a failure the session is failed and ended, so
 * the threads started return; the caller joins them. */
static void start_threads(salvo_send_session *c, salvo_blocksender *bs,
			  pthread_t *th, uint32_t *started)
{
	uint32_t n = c->o->threads + 1;
	for (*started = 0; *started < n; (*started)++) {
		uint32_t i = *started;
		void *(*fn)(void *) =
		    i ? salvo_blocksender_main : salvo_control_main;
		void *arg = i ? (void *)&bs[i - 1] : (void *)c;
		int e = pthread_create(&th[i], NULL, fn, arg);
		if (e) {
			char msg[128];
			snprintf(msg, sizeof(msg), "cannot start a thread: %s",
				 strerror(e));
			salvo_send_session_fail(c, -e, msg);
			finish(c);
			return;
		}
	}
}

/* The stop flag was set: the core aborts (the next thread to poll it
 * sends the CLOSE(abort) and ends the session) and every pacing sleep
 * ends now.  Called with c->lock held. */
static void stop(salvo_send_session *c)
{
	salvo_sender_abort(c->core);
	salvo_send_session_wake_all(c);
	salvo_pacing_stop(&c->pacing);
}

/* One --events line from the core's snapshot; c->lock held, dropped
 * for the write. */
static void write_event(salvo_send_session *c, salvo_events *ev)
{
	salvo_rate_snapshot rs;
	salvo_sender_stats st;
	salvo_sender_rate_snapshot(c->core, &rs);
	salvo_sender_get_stats(c->core, &st);
	pthread_mutex_unlock(&c->lock);
	salvo_events_write(ev, salvo_now_ns(), &rs, &st);
	pthread_mutex_lock(&c->lock);
}

/* The caller's thread until the session ends: progress and the stop
 * flag.  A signal handler can set the flag but wake nothing, so with a
 * flag to watch the thread also looks every STOP_CHECK_NS. */
static void watch(salvo_send_session *c, uint64_t start, salvo_events *ev)
{
	const salvo_send_opts *o = c->o;
	uint64_t interval = o->progress_interval_ns ? o->progress_interval_ns
						    : PROGRESS_INTERVAL_NS;
	int stopped = 0;
	pthread_mutex_lock(&c->lock);
	uint64_t next = salvo_now_ns() + interval;
	while (!c->finished) {
		uint64_t until =
		    next < salvo_events_due(ev) ? next : salvo_events_due(ev);
		if (o->stop && !stopped &&
		    salvo_now_ns() + STOP_CHECK_NS < until)
			until = salvo_now_ns() + STOP_CHECK_NS;
		salvo_cond_wait_until(&c->wake, &c->lock, until);
		if (o->stop && *o->stop && !stopped) {
			stopped = 1;
			stop(c);
		}
		if (salvo_now_ns() >= salvo_events_due(ev))
			write_event(c, ev);
		if (salvo_now_ns() < next)
			continue; /* woken early (the end, a stop): not time yet
				   */
		next += interval;
		if (o->progress) {
			salvo_sender_stats st;
			salvo_sender_get_stats(c->core, &st);
			salvo_send_progress p = {
			    .total_bytes = st.total_bytes,
			    .acked_bytes = st.bytes_acked,
			    .sent_bytes = st.bytes_new,
			    .retx_bytes = st.bytes_retx,
			    .data_stream_bytes =
				atomic_load(&c->net.data_stream),
			    .data_wire_bytes = atomic_load(&c->net.data_wire),
			    .files = st.file_count,
			    .files_done = st.files_done,
			    .skipped = (uint32_t)c->scan.nskips,
			    .elapsed_ns = salvo_now_ns() - start,
			    .phase = st.phase};
			pthread_mutex_unlock(&c->lock);
			o->progress(o->progress_ud, &p);
			pthread_mutex_lock(&c->lock);
		}
		/* a safety net, once an interval: every idle thread looks */
		pthread_cond_broadcast(&c->work);
	}
	pthread_mutex_unlock(&c->lock);
}

/* Resolves the receiver, picks the datagram size for its family and
 * opens the sockets. */
static int connect_receiver(salvo_send_session *c, char *where, size_t wlen,
			    char *msg, size_t len)
{
	struct sockaddr_storage peer;
	socklen_t plen;
	if (salvo_resolve(c->o->host, c->o->port, 0, &peer, &plen, msg, len))
		return SALVO_ERR_UNREACHABLE;
	salvo_format_addr((struct sockaddr *)&peer, where, wlen);
	c->v6 = peer.ss_family == AF_INET6;
	int rc = pick_datagram(c, msg, len);
	if (rc)
		return rc;
	c->nsock = c->o->sockets;
	rc = open_sockets(c, &peer, plen, msg, len);
	if (rc)
		return rc;
	atomic_store(&c->net.gso_segs,
		     salvo_emitter_gso_plan(c->fds[0], c->v6, c->datagram_bytes,
					    c->o->offload));
	return 0;
}

int salvo_send_run(const salvo_send_opts *o, salvo_send_report *r)
{
	salvo_send_session c;
	char where[300] = "";
	uint64_t start = salvo_now_ns();
	char *msg = r->message;
	size_t mlen = sizeof(r->message);
	int rc;
	memset(r, 0, sizeof(*r));
	memset(&c, 0, sizeof(c));
	c.o = o;
	for (uint32_t i = 0; i < SALVO_SOCKETS_MAX; i++)
		c.fds[i] = -1;
	salvo_send_report_settings(r, o);
	if (!opts_ok(o, msg, mlen))
		return r->result = SALVO_ERR_INVAL;
	if (salvo_crypto_init()) {
		snprintf(msg, mlen, "cannot start libsodium");
		return r->result = SALVO_ERR_IO;
	}
	salvo_events ev;
	if (salvo_events_open(&ev, o->events_path, start, msg, mlen))
		return r->result = SALVO_ERR_IO;
	salvo_raise_fd_limit();

	rc = salvo_scan_run(&c.scan, o, msg, mlen);
	r->files = c.scan.files;
	r->dirs = c.scan.dirs;
	r->excluded = c.scan.excluded;
	if (rc)
		goto fail_scan;
	salvo_send_report_skips(&c, r);
	rc = connect_receiver(&c, where, sizeof(where), msg, mlen);
	r->datagram_bytes = c.datagram_bytes;
	r->sndbuf_bytes = c.sndbuf_granted;
	if (rc)
		goto fail_sockets;
	rc = make_core(&c);
	if (rc) {
		snprintf(msg, mlen, "cannot start the session: %s",
			 salvo_strerror(rc));
		goto fail_sockets;
	}
	rc = salvo_reader_init(&c.reader, &c.scan, c.scan.total,
			       salvo_reader_fd_budget());
	if (rc)
		goto fail_reader;
	c.reader.on_abandon = salvo_send_session_abandon;
	c.reader.abandon_ud = &c;
	c.reader.on_grow = salvo_send_session_grew;
	c.reader.grow_ud = &c;
	rc = salvo_hasher_init(&c.hasher, c.scan.entries, (uint32_t)c.scan.n,
			       c.scan.total, salvo_send_session_digest, &c);
	if (rc)
		goto fail_hasher;
	rc = salvo_pacing_init(&c.pacing, salvo_sender_pacing_rate(c.core));
	if (rc)
		goto fail_pacing;
	c.net =
	    (salvo_emitter_shared){.pacing = &c.pacing,
				   .datagram_bytes = c.datagram_bytes,
				   .overhead = salvo_ip_udp_overhead(c.v6),
				   .batch_max = o->batch,
				   .gso_segs = atomic_load(&c.net.gso_segs)};
	rc = make_locks(&c);
	if (rc)
		goto fail_locks;
	rc = -ENOMEM;
	salvo_blocksender *bs = make_blocksenders(&c);
	pthread_t *th = calloc(o->threads + 1, sizeof(*th));
	if (!bs || !th)
		goto fail_threads;

	uint32_t started;
	salvo_hasher_empty_files(&c.hasher);
	start_threads(&c, bs, th, &started);
	if (started == o->threads + 1)
		watch(&c, start, &ev);
	for (uint32_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	rc = salvo_send_report_finish(&c, r, where, start);

fail_threads:
	if (rc == -ENOMEM && !r->message[0])
		snprintf(msg, mlen, "out of memory");
	free(th);
	free_blocksenders(bs, o->threads);
	pthread_mutex_destroy(&c.lock);
	pthread_cond_destroy(&c.work);
	pthread_cond_destroy(&c.wake);
fail_locks:
	salvo_pacing_free(&c.pacing);
fail_pacing:
	salvo_hasher_free(&c.hasher);
fail_hasher:
	salvo_reader_free(&c.reader);
fail_reader:
	if (rc && !msg[0])
		snprintf(msg, mlen, "cannot start the session: %s",
			 salvo_strerror(rc));
	salvo_sender_del(c.core);
fail_sockets:
	close_sockets(&c);
	r->result = rc;
	if (salvo_send_report_results(&c, r) && !rc) {
		snprintf(msg, mlen, "out of memory (the list of results)");
		rc = r->result = -ENOMEM;
	}
fail_scan:
	salvo_scan_free(&c.scan);
	r->result = rc;
	if (!r->peak_rss_bytes)
		r->peak_rss_bytes = salvo_peak_rss();
	salvo_events_close(&ev);
	return rc;
}
