/*
 * The prepare thread: the part of a session's prepare that must not run
 * under the core lock, which every socket thread needs for every batch
 * of every session.
 *
 * Each file's verdict looks at what is at its final name (an fstatat,
 * about 5 us): a re-send of a million files into an existing tree would
 * hold the lock for seconds, while every other session's datagrams wait
 * (their senders see the delay as queueing and slow down, or time out).
 * prepare (session.c) decides the first RSESSION_CHUNK_FILES files and
 * queues the session here; this thread looks at the rest a chunk at a
 * time with no lock held but rfiles' own, and takes the core lock once
 * per chunk only to set the chunk's verdicts.  A session with more
 * chunks to go goes back to the end of the queue, so sessions preparing
 * at once take turns.
 *
 * --checksum compares the content of the files a receiver already has
 * with the digests in the manifest, so an identical file moves no data
 * even when its mtime differs and a changed one is sent even when size
 * and mtime agree.  Hashing a large file takes seconds (about 1 GB/s):
 * never under the core lock, nor on the verifier, which commits every
 * session's files.  Once every name is looked at, this thread hashes the
 * files of the same size (esess.sum) one after the other, then takes the
 * core lock once to set their verdicts and start the data phase
 * (rsession_prepared).
 *
 * Meanwhile prepare has answered SALVO_PREPARE_LATER and the core answers
 * the sender's STATUS, so the sender waits without timing out.  A session
 * that ends meanwhile cuts the work short; so does a receiver that stops,
 * which fails the prepare if names were left unseen.
 */
#include "receiver/engine/engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/blake3.h"
#include "common/io/sys.h"

#define PIECE_BYTES (256u * 1024)

static int cut_short(rctx *c, const esess *s)
{
	return atomic_load(&s->ended) || atomic_load(&c->stopping);
}

/* 1 if the file at entry i's name holds exactly the bytes of digest. */
static int same_content(rctx *c, esess *s, uint32_t i, uint8_t *buf)
{
	const salvo_entry *e = &s->m.entries[i];
	int fd = rfiles_open_target(&s->files, i);
	if (fd < 0)
		return 0;
	struct stat st;
	int same = 0;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != e->size)
		goto out;
	salvo_blake3 h;
	salvo_blake3_init(&h);
	uint64_t off = 0;
	while (off < e->size && !cut_short(c, s)) {
		size_t want = e->size - off < PIECE_BYTES
				  ? (size_t)(e->size - off)
				  : PIECE_BYTES;
		ssize_t n = pread(fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		salvo_blake3_update(&h, buf, (size_t)n);
		off += (uint64_t)n;
	}
	if (off == e->size) {
		uint8_t d[SALVO_BLAKE3_BYTES];
		salvo_blake3_final(&h, d);
		same = !memcmp(d, s->m.digests[i], sizeof(d));
	}
out:
	close(fd);
	return same;
}

/* Looks at the next chunk of s's names with no core lock held, then
 * takes the lock to set their verdicts.  0, or -ENOMEM with err. */
static int look_turn(rctx *c, esess *s, rlook *l, char *err, size_t errlen)
{
	if (!l) {
		snprintf(err, errlen, "receiver out of memory");
		return -ENOMEM;
	}
	uint32_t n = 0;
	for (; s->look_next < s->m.count && n < RSESSION_CHUNK_FILES &&
	       !cut_short(c, s);
	     s->look_next++)
		if (s->m.entries[s->look_next].type == SALVO_ENTRY_FILE)
			rsession_look(c, s, s->look_next, &l[n++]);
	int rc = 0;
	pthread_mutex_lock(&c->lock);
	for (uint32_t k = 0; !rc && k < n && !atomic_load(&s->ended); k++)
		rc = rsession_decide(c, s, &l[k], err, errlen);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static void *prepare_main(void *arg)
{
	rctx *c = arg;
	uint8_t *buf = malloc(PIECE_BYTES);
	rlook *l = malloc(RSESSION_CHUNK_FILES * sizeof(*l));
	rjob *j;
	while ((j = rqueue_pop(&c->prepq))) {
		esess *s = j->s;
		char err[256] = "";
		int rc = 0;
		if (s->look_next < s->m.count) {
			rc = look_turn(c, s, l, err, sizeof(err));
			if (!rc && s->look_next < s->m.count &&
			    !cut_short(c, s)) {
				/* the other sessions' turn first */
				rqueue_push(&c->prepq, j, j);
				continue;
			}
		}
		if (!rc && s->look_next < s->m.count) { /* cut short */
			snprintf(err, sizeof(err), "the receiver is stopping");
			rc = -ECANCELED;
		}
		for (uint32_t k = 0; !rc && k < s->nsum && !cut_short(c, s);
		     k++)
			s->sum[k].same =
			    buf && same_content(c, s, s->sum[k].idx, buf);
		pthread_mutex_lock(&c->lock);
		if (!atomic_load(&s->ended))
			rsession_prepared(c, s, rc, err);
		rsession_release(c, s);
		pthread_mutex_unlock(&c->lock);
		free(j);
	}
	free(l);
	free(buf);
	return NULL;
}

int rprepare_queue(rctx *c, esess *s)
{
	rjob *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->kind = RJOB_PREPARE;
	j->s = s;
	s->refs++;
	rqueue_push(&c->prepq, j, j);
	return 0;
}

int rprepare_start(rctx *c)
{
	return rqueue_start(&c->prepq, prepare_main, c);
}

void rprepare_stop(rctx *c)
{
	rqueue_stop(&c->prepq);
}
