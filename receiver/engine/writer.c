/*
 * A socket thread's writes, in three steps around the core lock.
 *
 *   collect (lock held, rwriter_write is the core's write callback): the
 *       request points into the thread's receive buffer; it takes a
 *       reference on the session, counts the piece as pending in its
 *       block, and opens the part-file if it is the file's first piece.
 *   flush (lock dropped): the requests sorted by place, one pwritev per
 *       run of adjacent pieces of one file, straight from the receive
 *       buffers; the run is then fed to
 *       the session's digests (block CRC, file BLAKE3) and settled;
 *       only then are the batch's verification jobs queued, so a job
 *       never looks at bytes still on their way to disk.
 *   settle (lock taken again, at the start of the thread's next batch):
 *       write errors go to the core, which fails their sessions, and the
 *       references are dropped.
 *
 * So no socket thread waits on another's disk writes, and a session can
 * end while its bytes are being written: the references keep its files
 * and digests alive until the batch settles.
 */
#include "receiver/engine/engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "common/core/error.h"

#define RUN_MAX 256	       /* iovecs per pwritev */
#define STAGE_BYTES (1u << 20) /* hashed at once: SIMD-sized runs */

static int grow(rbatch *b)
{
	size_t cap = b->cap ? 2 * b->cap : 256;
	rwrite *w = realloc(b->w, cap * sizeof(*w));
	if (!w)
		return -ENOMEM;
	b->w = w;
	b->cap = cap;
	return 0;
}

int rwriter_write(void *ud, salvo_rsess *sess, uint32_t file, uint64_t off,
		  const void *data, size_t len, char *err, size_t errlen)
{
	rctx *c = ud;
	esess *s = rsession_of(sess);
	rbatch *b = c->cur;
	if (!b) /* the core writes only while a socket thread feeds it */
		return -EINVAL;
	int fd = rfiles_open(&s->files, file, err, errlen);
	if (fd < 0)
		return fd;
	if ((b->n == b->cap && grow(b)) ||
	    rdigest_expect(&s->dig, file, off, len)) {
		snprintf(err, errlen, "receiver out of memory");
		return -ENOMEM;
	}
	s->refs++;
	b->w[b->n++] = (rwrite){s, file, off, data, len};
	s->bytes += len;
	return 0;
}

static void note_error(rbatch *b, const rwrite *w, int rc, const char *msg)
{
	for (int k = 0; k < b->nerr; k++)
		if (b->err[k].session == w->s->id)
			return; /* the first error fails the session */
	if (b->nerr == (int)(sizeof(b->err) / sizeof(b->err[0])))
		return;
	rwerr *e = &b->err[b->nerr++];
	e->session = w->s->id;
	e->file = w->file;
	e->rc = rc;
	snprintf(e->msg, sizeof(e->msg), "%s",
		 msg[0] ? msg : "receiver write failed");
}

/* Hashes the run w[0..n) (adjacent bytes of one file, written): the
 * payloads are copied back to back so the digests see long contiguous
 * pieces (BLAKE3's SIMD kernels hash many whole chunks at once; a
 * datagram holds one or two). */
static void hash_run(rbatch *b, const rwrite *w, int n)
{
	rdigest *d = &w->s->dig;
	uint64_t from = w->off;
	size_t have = 0;
	for (int k = 0; k < n; k++) {
		if (have && have + w[k].len > STAGE_BYTES) {
			rdigest_add(d, w->file, from, b->stage, have);
			from += have;
			have = 0;
		}
		if (w[k].len > STAGE_BYTES) { /* cannot happen: datagrams */
			rdigest_add(d, w->file, from, w[k].p, w[k].len);
			from += w[k].len;
			continue;
		}
		memcpy(b->stage + have, w[k].p, w[k].len);
		have += w[k].len;
	}
	if (have)
		rdigest_add(d, w->file, from, b->stage, have);
}

/* Writes the run w[0..n) (adjacent bytes of one file) and settles its
 * bytes in the session's digests. */
static void write_run(rbatch *b, const rwrite *w, int n)
{
	esess *s = w->s;
	int rc = 0;
	if (!atomic_load(&s->ended)) { /* else its part-files go */
		struct iovec v[RUN_MAX];
		char msg[256] = "";
		for (int k = 0; k < n; k++)
			v[k] = (struct iovec){(void *)w[k].p, w[k].len};
		rc = rfiles_writev(&s->files, w->file, w->off, v, n, msg,
				   sizeof(msg));
		if (rc)
			note_error(b, w, rc, msg);
	} else {
		rc = SALVO_ERR_ABORTED;
	}
	if (!rc) {
		hash_run(b, w, n);
		return;
	}
	uint64_t len = 0;
	for (int k = 0; k < n; k++)
		len += w[k].len;
	rdigest_add(&s->dig, w->file, w->off, NULL, (size_t)len);
}

/* Orders requests by session, file and offset: a batch holds trains of
 * several blocks interleaved (the sender's threads send blocks side by
 * side), and sorted, each block's trains join into one long run. */
static int by_place(const void *x, const void *y)
{
	const rwrite *a = x, *b = y;
	if (a->s != b->s)
		return a->s < b->s ? -1 : 1;
	if (a->file != b->file)
		return a->file < b->file ? -1 : 1;
	return a->off < b->off ? -1 : a->off > b->off;
}

void rwriter_flush(rctx *c, rbatch *b)
{
	if (b->n > 1)
		qsort(b->w, b->n, sizeof(*b->w), by_place);
	for (size_t k = 0; k < b->n;) {
		const rwrite *r = &b->w[k];
		uint64_t end = r->off;
		size_t i = k;
		while (i < b->n && i - k < RUN_MAX && b->w[i].s == r->s &&
		       b->w[i].file == r->file && b->w[i].off == end) {
			end += b->w[i].len;
			i++;
		}
		write_run(b, r, (int)(i - k));
		k = i;
	}
	rverifier_queue(c, b->jobs, b->jobs_tail);
	b->jobs = b->jobs_tail = NULL;
}

void rwriter_settle(rctx *c, rbatch *b, uint64_t now)
{
	for (int k = 0; k < b->nerr; k++) {
		const rwerr *e = &b->err[k];
		salvo_receiver_fail(c->core, e->session, SALVO_ERR_IO, e->rc,
				    e->file, e->msg, now);
	}
	b->nerr = 0;
	for (size_t k = 0; k < b->n; k++)
		rsession_release(c, b->w[k].s);
	b->n = 0;
}

int rwriter_init(rbatch *b)
{
	memset(b, 0, sizeof(*b));
	b->stage = malloc(STAGE_BYTES);
	return b->stage ? 0 : -ENOMEM;
}

void rwriter_free(rbatch *b)
{
	free(b->stage);
	free(b->w);
	memset(b, 0, sizeof(*b));
}
