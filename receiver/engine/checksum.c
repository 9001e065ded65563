/*
 * The checksum thread: --checksum compares the content of the files a
 * receiver already has with the digests in the manifest, before the
 * session's data phase, so an identical file moves no data even when its
 * mtime differs and a changed one is sent even when size and mtime agree.
 *
 * Hashing a large file takes seconds (about 1 GB/s): never under the core
 * lock, which every socket thread needs for every batch, nor on the
 * verifier, which commits every session's files.  prepare (session.c)
 * queues the session here with the files of the same size (esess.sum)
 * and answers SALVO_PREPARE_LATER; this thread hashes them one after the
 * other, then takes the core lock once to set their verdicts and start
 * the data phase (rsession_checked).  Meanwhile the core answers the
 * sender's STATUS, so the sender waits without timing out.  A session
 * that ends meanwhile, or a receiver that stops, cuts the hashing short.
 */
#include "receiver/engine/engine.h"

#include <errno.h>
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

static void *checksum_main(void *arg)
{
	rctx *c = arg;
	uint8_t *buf = malloc(PIECE_BYTES);
	rjob *j;
	while ((j = rqueue_pop(&c->sumq))) {
		esess *s = j->s;
		for (uint32_t k = 0; k < s->nsum && !cut_short(c, s); k++)
			s->sum[k].same =
			    buf && same_content(c, s, s->sum[k].idx, buf);
		pthread_mutex_lock(&c->lock);
		if (!atomic_load(&s->ended))
			rsession_checked(c, s);
		rsession_release(c, s);
		pthread_mutex_unlock(&c->lock);
		free(j);
	}
	free(buf);
	return NULL;
}

int rchecksum_queue(rctx *c, esess *s)
{
	rjob *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->kind = RJOB_CHECKSUM;
	j->s = s;
	s->refs++;
	rqueue_push(&c->sumq, j, j);
	return 0;
}

int rchecksum_start(rctx *c)
{
	return rqueue_start(&c->sumq, checksum_main, c);
}

void rchecksum_stop(rctx *c)
{
	rqueue_stop(&c->sumq);
}
