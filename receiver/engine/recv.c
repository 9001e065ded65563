/*
 * The receiver engine (see recv.h): orchestration only.  It checks the
 * options, opens the root and the sockets, starts the core and the
 * threads, waits for them and fills the report.  What the threads do
 * lives in one file each (engine.h has the map):
 *
 *   socket threads (opts.sockets)  socket.c: recvmmsg a batch, feed it
 *       to the core under the core lock, then write its payloads into
 *       part-files outside the lock (writer.c), hashing them as they are
 *       written (digest.c), and queue the verification jobs of the batch.
 *   verifier (one)  verifier.c: block CRCs and file digests compared
 *       with what the writers accumulated, fsync, rename, then the result
 *       to the core.
 *
 * Per-session engine state (session.c) lives until the core ends the
 * session and no batch or job refers to it any more.
 */
#include "receiver/engine/recv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/core/error.h"
#include "common/core/path.h"
#include "common/crypto/aead.h"
#include "common/crypto/keyfile.h"
#include "common/crypto/keys.h"
#include "common/io/sys.h"
#include "receiver/engine/engine.h"
#include "receiver/engine/resume.h"

/* May the sender with this key write here (the authorise callback of the
 * core)?  Its authorised-keys entry sets its folder, quotas and
 * policies; an unknown key only when anonymous senders are allowed. */
static int authorize(void *ud, const uint8_t key[32], salvo_receiver_auth *auth)
{
	rctx *c = ud;
	const salvo_authkey *k =
	    c->o->authkeys ? salvo_authkeys_find(c->o->authkeys, key) : NULL;
	memset(auth, 0, sizeof(*auth));
	if (k) {
		auth->max_bytes = k->max_bytes;
		auth->max_files = k->max_files;
		auth->user = k;
		return 0;
	}
	if (c->o->allow_anonymous)
		return 0;
	/* the person running the receiver learns who knocked, at most once
	 * a second (the core already rate-limits handshakes per host) */
	uint64_t now = salvo_now_ns();
	if (now - c->refusal_logged_ns >= 1000000000ull) {
		char fp[SALVO_FINGERPRINT_SIZE], line[120], msg[400];
		c->refusal_logged_ns = now;
		salvo_key_fingerprint(fp, key);
		salvo_key_public_text(line, sizeof(line), key, NULL);
		snprintf(msg, sizeof(msg),
			 "refused a sender with key %s: not in the authorised "
			 "keys (to serve it, add the line '%s dir=FOLDER' and "
			 "restart)",
			 fp, line);
		rsession_log(c, &(salvo_log_event){.level = SALVO_LOG_WARN,
						   .event = "sender_refused",
						   .message = msg});
	}
	return SALVO_ERR_KEY;
}

/* Core lock held: the sender abandoned a file (receiver.h drop_file):
 * its part-file goes, the resume map forgets it, the log says why. */
static void drop_file(void *ud, salvo_rsess *sess, uint32_t file, int err)
{
	rctx *c = ud;
	esess *s = rsession_of(sess);
	if (!s)
		return;
	rfiles_drop(&s->files, file);
	rresume_committed(s, file);
	char why[200];
	snprintf(why, sizeof(why), "the sender could not read it (%s)",
		 strerror(err));
	c->rep->files_abandoned++;
	rsession_file_failed(c, s, file, why);
}

static void core_random(void *ud, void *buf, size_t n)
{
	(void)ud;
	salvo_crypto_random(buf, n);
}

static int is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return !acc;
}

static int check_opts(const salvo_recv_opts *o, char *msg, size_t len)
{
	if (!o->dir || !o->dir[0]) {
		snprintf(msg, len, "no receiver folder given (receiver.root)");
		return SALVO_ERR_INVAL;
	}
	if (o->sockets < 1 || o->sockets > SALVO_SOCKETS_MAX) {
		snprintf(msg, len, "network.recv_sockets: %u is not in 1..%u",
			 o->sockets, SALVO_SOCKETS_MAX);
		return SALVO_ERR_INVAL;
	}
	if (o->batch < 1 || o->batch > SALVO_BATCH_MAX) {
		snprintf(msg, len, "network.batch: %u is not in 1..%u",
			 o->batch, SALVO_BATCH_MAX);
		return SALVO_ERR_INVAL;
	}
	if (is_zero(o->key_private, sizeof(o->key_private))) {
		snprintf(msg, len,
			 "no receiver key (security.key): 'salvo keygen' makes "
			 "one");
		return SALVO_ERR_KEY;
	}
	if (!o->max_sessions || !o->idle_timeout_ns) {
		snprintf(msg, len, "receiver.%s must be above 0",
			 o->max_sessions ? "idle_timeout" : "max_sessions");
		return SALVO_ERR_INVAL;
	}
	return 0;
}

static int open_root(rctx *c)
{
	c->root = open(c->o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->root < 0) {
		int rc = -errno;
		snprintf(c->rep->message, sizeof(c->rep->message),
			 "cannot use folder '%s': %s", c->o->dir,
			 strerror(-rc));
		return rc;
	}
	char msg[512] = "";
	int rc = rroot_init(&c->fs, c->root, c->o, msg, sizeof(msg));
	if (rc) {
		snprintf(c->rep->message, sizeof(c->rep->message),
			 "cannot use folder '%s': %s", c->o->dir, msg);
		close(c->root);
	}
	return rc;
}

/* SO_REUSEPORT would let a second receiver share the port and steal half
 * the traffic: first make sure nobody holds it, with a socket that does
 * not ask to share. */
static int check_port_free(rctx *c, const struct sockaddr_storage *ss,
			   socklen_t sl)
{
	int probe = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return 0; /* the real sockets will say why */
	int busy = c->o->port && bind(probe, (const struct sockaddr *)ss, sl) &&
		   errno == EADDRINUSE;
	close(probe);
	if (!busy)
		return 0;
	char where[128];
	salvo_format_addr((const struct sockaddr *)ss, where, sizeof(where));
	snprintf(c->rep->message, sizeof(c->rep->message),
		 "cannot listen on UDP %s: port already in use (another "
		 "salvo recv?)",
		 where);
	return -EADDRINUSE;
}

static void close_sockets(rctx *c)
{
	for (uint32_t i = 0; i < c->nsock; i++)
		close(c->fds[i]);
	c->nsock = 0;
}

static int open_sockets(rctx *c)
{
	const salvo_recv_opts *o = c->o;
	char *msg = c->rep->message;
	size_t mlen = sizeof(c->rep->message);
	struct sockaddr_storage ss;
	socklen_t sl;
	int rc = salvo_resolve(o->bind && *o->bind ? o->bind : NULL, o->port, 1,
			       &ss, &sl, msg, mlen);
	if (!rc)
		rc = check_port_free(c, &ss, sl);
	for (uint32_t i = 0; !rc && i < o->sockets; i++) {
		int fd = rsocket_open(c, &ss, sl, msg, mlen);
		if (fd < 0) {
			rc = fd;
			break;
		}
		c->fds[c->nsock++] = fd;
		/* port 0: bind the others to the port the first got */
		if (!i && !o->port &&
		    getsockname(fd, (struct sockaddr *)&ss, &sl)) {
			rc = -errno;
			snprintf(msg, mlen, "getsockname: %s", strerror(-rc));
		}
	}
	if (rc)
		close_sockets(c);
	return rc;
}

static int start_core(rctx *c)
{
	salvo_receiver_config cfg = {.max_sessions = c->o->max_sessions,
				     .idle_timeout_ns = c->o->idle_timeout_ns,
				     .suites = salvo_aead_local_suites(),
				     .caps =
					 c->o->refuse_lz4 ? 0 : SALVO_CAP_LZ4};
	memcpy(cfg.key_private, c->o->key_private, 32);
	memcpy(cfg.key_public, c->o->key_public, 32);
	if (getentropy(cfg.secret, sizeof(cfg.secret)) ||
	    getentropy(&cfg.seed, sizeof(cfg.seed))) {
		int rc = -errno;
		snprintf(c->rep->message, sizeof(c->rep->message),
			 "no randomness for cookies: %s", strerror(-rc));
		return rc;
	}
	salvo_receiver_cb cb = {.send = rsocket_send,
				.prepare = rsession_prepare,
				.write = rwriter_write,
				.inflate_buf = rsocket_inflate_buf,
				.verify_block = rverifier_verify_block,
				.finalize_file = rverifier_finalize,
				.drop_file = drop_file,
				.session_end = rsession_end,
				.random = core_random,
				.authorize = authorize,
				.ud = c};
	int rc = salvo_receiver_new(&c->core, &salvo_mem_libc, &cfg, &cb);
	sodium_memzero(cfg.key_private, sizeof(cfg.key_private));
	if (!rc && (rc = -pthread_mutex_init(&c->lock, NULL))) {
		salvo_receiver_del(c->core);
		c->core = NULL;
	}
	if (rc)
		snprintf(c->rep->message, sizeof(c->rep->message),
			 "cannot start the receiver: %s", salvo_strerror(rc));
	return rc;
}

/* Ends what is left (no thread runs any more) and frees the core. */
static void stop_core(rctx *c)
{
	salvo_receiver_stats st;
	salvo_receiver_get_stats(c->core, &st);
	c->rep->malformed = st.malformed;
	c->rep->unknown = st.unknown;
	c->rep->duplicates = st.duplicates;
	c->rep->lz4_pieces = st.inflated;
	c->rep->lz4_bad = st.inflate_bad;
	c->rep->auth_failures = st.auth_failures;
	pthread_mutex_lock(&c->lock);
	salvo_receiver_del(c->core);
	rsession_free_all(c);
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_destroy(&c->lock);
}

static void announce(rctx *c)
{
	struct sockaddr_storage b;
	socklen_t bl = sizeof(b);
	if (!c->o->ready || getsockname(c->fds[0], (struct sockaddr *)&b, &bl))
		return;
	/* sin_port and sin6_port sit at the same offset */
	c->o->ready(c->o->log_ud, ntohs(((struct sockaddr_in *)&b)->sin_port));
}

/* Runs one thread per socket until they stop.  0, or -errno if a thread
 * could not start (those that did are stopped and joined). */
static int serve(rctx *c)
{
	rsocket *t[SALVO_SOCKETS_MAX] = {0};
	uint32_t made = 0, started = 0;
	int rc = 0;
	while (!rc && made < c->nsock)
		if (!(rc = rsocket_new(&t[made], c, c->fds[made])))
			made++;
	while (!rc && started < made)
		if (!(rc = rsocket_start(t[started])))
			started++;
	if (rc) {
		atomic_store(&c->stopping, 1);
		snprintf(c->rep->message, sizeof(c->rep->message),
			 "cannot start a socket thread: %s",
			 salvo_strerror(rc));
	}
	for (uint32_t i = 0; i < started; i++)
		rsocket_join(t[i]);
	for (uint32_t i = 0; i < made; i++)
		rsocket_del(t[i]);
	return rc;
}

int salvo_recv_run(const salvo_recv_opts *o, salvo_recv_report *r)
{
	rctx c;
	memset(r, 0, sizeof(*r));
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.rep = r;
	int rc = check_opts(o, r->message, sizeof(r->message));
	if (rc)
		return r->result = rc;
	if (salvo_crypto_init()) {
		snprintf(r->message, sizeof(r->message),
			 "cannot start libsodium");
		return r->result = SALVO_ERR_IO;
	}
	salvo_raise_fd_limit();
	rc = open_root(&c);
	if (rc)
		goto out;
	rc = open_sockets(&c);
	if (rc)
		goto fail_root;
	rc = start_core(&c);
	if (rc)
		goto fail_sockets;
	rc = rverifier_start(&c);
	if (rc) {
		snprintf(r->message, sizeof(r->message),
			 "cannot start the verifier thread: %s",
			 salvo_strerror(rc));
		goto fail_core;
	}
	rc = rprepare_start(&c);
	if (rc) {
		snprintf(r->message, sizeof(r->message),
			 "cannot start the prepare thread: %s",
			 salvo_strerror(rc));
		rverifier_stop(&c);
		goto fail_core;
	}
	announce(&c);
	rc = serve(&c);
	rprepare_stop(&c);
	rverifier_stop(&c);
	r->last_session_result = c.last_result;
	if (!rc && o->once)
		rc = c.ended_sessions ? c.last_result : SALVO_ERR_ABORTED;
	if (rc && !r->message[0])
		snprintf(r->message, sizeof(r->message), "%s",
			 salvo_strerror(rc));
fail_core:
	stop_core(&c);
fail_sockets:
	close_sockets(&c);
fail_root:
	rroot_free(&c.fs);
	close(c.root);
out:
	r->peak_rss_bytes = salvo_peak_rss();
	return r->result = rc;
}
