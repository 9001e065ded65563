/*
 * The verifier thread: the checks the core asks for, and the commit.
 *
 * A block job waits until every piece of the block that a socket thread
 * collected is written and hashed (rdigest_wait_block), then compares
 * the block's CRC32C, accumulated from the pieces as they were written,
 * with the one the sender put in every datagram of the block.  No byte is
 * read back, unless verify: paranoid asks to check the disk too.  A block
 * that fails is fetched again: its accumulator is cleared, and the files
 * it touches lose their running BLAKE3 (it absorbed the bad bytes).
 *
 * A file job compares the file's BLAKE3 (from its tree, or read back when
 * the tree was lost or verify: paranoid) with the sender's digest, then
 * commits it: fsync, rename to its final name, and after a session's
 * last file, fsync of its folders, before the core hears the file is done
 * (and tells the sender COMPLETE).
 *
 * Blocking disk work stays here, off the socket threads and outside the
 * core lock, which the verifier takes only to report a result.
 */
#include "receiver/engine/engine.h"
#include "receiver/engine/resume.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/error.h"
#include "common/core/path.h"
#include "common/io/sys.h"

void rqueue_push(rqueue *q, rjob *head, rjob *tail)
{
	if (!head)
		return;
	pthread_mutex_lock(&q->mu);
	tail->next = NULL;
	if (q->tail)
		q->tail->next = head;
	else
		q->head = head;
	q->tail = tail;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->mu);
}

rjob *rqueue_pop(rqueue *q)
{
	pthread_mutex_lock(&q->mu);
	while (!q->head && !q->stopping)
		pthread_cond_wait(&q->cond, &q->mu);
	rjob *j = q->head;
	if (j) {
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
	}
	pthread_mutex_unlock(&q->mu);
	return j;
}

int rqueue_start(rqueue *q, void *(*fn)(void *), void *arg)
{
	int rc = pthread_mutex_init(&q->mu, NULL);
	if (rc)
		return -rc;
	rc = pthread_cond_init(&q->cond, NULL);
	if (rc)
		goto fail_mu;
	rc = pthread_create(&q->th, NULL, fn, arg);
	if (rc)
		goto fail_cond;
	return 0;
fail_cond:
	pthread_cond_destroy(&q->cond);
fail_mu:
	pthread_mutex_destroy(&q->mu);
	return -rc;
}

void rqueue_stop(rqueue *q)
{
	pthread_mutex_lock(&q->mu);
	q->stopping = 1;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->th, NULL);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->mu);
}

void rverifier_queue(rctx *c, rjob *head, rjob *tail)
{
	rqueue_push(&c->q, head, tail);
}

/* Core lock held: a job for the current batch (queued once its writes
 * are out), or for the verifier at once (asked from the verifier's own
 * report, which has no batch). */
static void push_job(rctx *c, esess *s, rjob *j)
{
	s->refs++;
	j->s = s;
	j->next = NULL;
	rbatch *b = c->cur;
	if (!b) {
		rverifier_queue(c, j, j);
		return;
	}
	if (b->jobs_tail)
		b->jobs_tail->next = j;
	else
		b->jobs = j;
	b->jobs_tail = j;
}

/* A job of kind about idx (a block or a file), or NULL (the session is
 * failed: out of memory). */
static rjob *new_job(rctx *c, esess *s, int kind, uint32_t idx)
{
	rjob *j = calloc(1, sizeof(*j));
	if (!j) {
		salvo_receiver_fail(c->core, s->id, SALVO_ERR_NOMEM, 0,
				    kind == RJOB_FILE ? idx
						      : SALVO_FILE_INDEX_NONE,
				    "receiver out of memory", salvo_now_ns());
		return NULL;
	}
	j->kind = kind;
	j->idx = idx;
	return j;
}

void rverifier_verify_block(void *ud, salvo_rsess *sess, uint32_t block,
			    uint64_t start, uint32_t len, uint32_t crc,
			    int check_crc)
{
	rctx *c = ud;
	esess *s = rsession_of(sess);
	rjob *j = new_job(c, s, RJOB_BLOCK, block);
	if (!j)
		return;
	j->start = start;
	j->len = len;
	j->crc = crc;
	j->check_crc = check_crc;
	push_job(c, s, j);
}

void rverifier_finalize(void *ud, salvo_rsess *sess, uint32_t file,
			const uint8_t digest[SALVO_DIGEST_BYTES])
{
	rctx *c = ud;
	esess *s = rsession_of(sess);
	rjob *j = new_job(c, s, RJOB_FILE, file);
	if (!j)
		return;
	memcpy(j->digest, digest, SALVO_DIGEST_BYTES);
	push_job(c, s, j);
}

void rverifier_resume(rctx *c, esess *s, uint32_t file)
{
	rjob *j = new_job(c, s, RJOB_RESUME, file);
	if (j)
		push_job(c, s, j);
}

/* 1 if block j->idx holds the bytes the sender's CRC says. */
static int check_block(rctx *c, const rjob *j)
{
	esess *s = j->s;
	rdigest_wait_block(&s->dig, j->idx);
	if (!j->check_crc) /* partly held: its written bytes are settled */
		return 1;
	int ok = rdigest_block_ok(&s->dig, j->idx, j->crc);
	if (ok && c->o->verify_paranoid) { /* and the disk has them too */
		uint32_t crc;
		ok = !rfiles_crc(&s->files, j->start, j->len, &crc) &&
		     crc == j->crc;
	}
	if (!ok)
		rdigest_block_failed(&s->dig, j->idx);
	else
		rresume_block_ok(s, j->start, j->len);
	return ok;
}

static int digest_differs(const rjob *j, const uint8_t *d, char *msg,
			  size_t len)
{
	if (!memcmp(d, j->digest, SALVO_DIGEST_BYTES))
		return 0;
	snprintf(msg, len,
		 "'%s' failed verification (its BLAKE3 digest differs from "
		 "the sender's)",
		 j->s->m.entries[j->idx].path);
	return SALVO_ERR_VERIFY;
}

/* 1 when result (of check_file) fails its file alone: it could not be
 * stored here (-errno), which says nothing about the other files. */
static int fails_alone(int result)
{
	return result < 0 && result > -4096;
}

/* Checks file j->idx against the sender's digest and commits it: 0
 * (with the path it was stored under in stored), 1 (it was committed
 * already and is unchanged there: files.h), SALVO_ERR_VERIFY or -errno,
 * with msg.  A file that fails alone (-errno) loses its part-file, and
 * the others go on.  *fin: after the session's last file, 0 or the
 * -errno of making its folders durable (msg), which fails the session. */
static int check_file(rctx *c, const rjob *j, char *stored, size_t slen,
		      char *msg, size_t len, int *fin)
{
	esess *s = j->s;
	uint8_t d[SALVO_DIGEST_BYTES];
	int reread = rdigest_file(&s->dig, j->idx, d);
	int rc = reread ? 0 : digest_differs(j, d, msg, len);
	*fin = 0;
	if (!rc && (reread || c->o->verify_paranoid)) {
		rc = rfiles_digest(&s->files, j->idx, d, msg, len);
		if (!rc)
			rc = digest_differs(j, d, msg, len);
	}
	if (!rc)
		rc = rfiles_commit(&s->files, j->idx, j->digest, stored, slen,
				   msg, len);
	if (fails_alone(rc))
		rfiles_drop(&s->files, j->idx);
	if (rc >= 0 || fails_alone(rc)) {
		rresume_committed(s, j->idx);
		if (!--s->files_left) {
			char fmsg[512];
			*fin = rfiles_finish(&s->files, fmsg, sizeof(fmsg));
			s->finished = !*fin;
			if (*fin)
				snprintf(msg, len, "%s", fmsg);
		}
	}
	return rc;
}

/* Core lock held: the job's answer to the core.  stored: where a file
 * job's file went (another name than the sender's with overwrite
 * rename; the log names it, and why).  A file's result 1 (it was there
 * already, check_file) is a success for the core, logged as such. */
static void report(rctx *c, const rjob *j, int result, const char *stored,
		   const char *msg)
{
	esess *s = j->s;
	uint64_t now = salvo_now_ns();
	c->cur_fd = c->fds[0];
	if (j->kind == RJOB_BLOCK) {
		salvo_receiver_block_result(c->core, s->id, j->idx, result,
					    now);
		return;
	}
	if (result >= 0) {
		const salvo_entry *e = &s->m.entries[j->idx];
		char line[3 * SALVO_PATH_MAX];
		if (result == 1)
			snprintf(line, sizeof(line),
				 "already received %s (%llu bytes): committed "
				 "here within the hour from the same sender, "
				 "with the same digest, and unchanged since; "
				 "not committed again",
				 stored, (unsigned long long)e->size);
		else if (strcmp(stored, e->path))
			snprintf(line, sizeof(line),
				 "received %s (%llu bytes; sent as %s, renamed "
				 "because %s existed)",
				 stored, (unsigned long long)e->size, e->path,
				 e->path);
		else
			snprintf(line, sizeof(line), "received %s (%llu bytes)",
				 e->path, (unsigned long long)e->size);
		s->files_done++;
		if (result == 1) {
			c->rep->files_skipped++;
		} else {
			c->rep->files++;
			c->rep->bytes += e->size;
		}
		rsession_log(
		    c, &(salvo_log_event){.level = SALVO_LOG_INFO,
					  .event = result == 1
						       ? "file_already_received"
						       : "file_received",
					  .session = s->id,
					  .peer = s->peer,
					  .file = stored,
					  .bytes = e->size,
					  .message = line});
		result = 0;
	} else if (fails_alone(result)) {
		c->rep->files_refused++;
		rsession_file_failed(c, s, j->idx, msg);
	}
	salvo_receiver_file_result(c->core, s->id, j->idx, result, msg, now);
}

static void *verifier_main(void *arg)
{
	rctx *c = arg;
	rjob *j;
	while ((j = rqueue_pop(&c->q))) {
		char msg[512] = "", stored[SALVO_PATH_MAX + 16] = "";
		int result = 0, fin = 0;
		/* a session that ended meanwhile needs no more work */
		int ended = atomic_load(&j->s->ended);
		if (j->kind == RJOB_RESUME) { /* settles counts: even ended */
			rresume_feed(j->s, j->idx);
			pthread_mutex_lock(&c->lock);
			rsession_release(c, j->s);
			pthread_mutex_unlock(&c->lock);
			free(j);
			continue;
		}
		if (!ended && j->kind == RJOB_BLOCK)
			result = check_block(c, j);
		else if (!ended)
			result = check_file(c, j, stored, sizeof(stored), msg,
					    sizeof(msg), &fin);
		pthread_mutex_lock(&c->lock);
		if (!atomic_load(&j->s->ended) && fin)
			salvo_receiver_fail(c->core, j->s->id, SALVO_ERR_IO,
					    -fin, SALVO_FILE_INDEX_NONE, msg,
					    salvo_now_ns());
		else if (!atomic_load(&j->s->ended))
			report(c, j, result, stored, msg);
		rsession_release(c, j->s);
		pthread_mutex_unlock(&c->lock);
		free(j);
	}
	return NULL;
}

int rverifier_start(rctx *c)
{
	return rqueue_start(&c->q, verifier_main, c);
}

void rverifier_stop(rctx *c)
{
	rqueue_stop(&c->q);
}
