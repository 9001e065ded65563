/*
 * The receiver's memory of what it committed (files.h, recent.c; the
 * table is receiver/core/rrecent.h).  Why: a hot folder that is killed
 * after the receiver committed a file and before its journal said so
 * sends the file again when it restarts.  Skip-if-identical (size and
 * mtime) already answers that re-send before its data moves, but not
 * when the sender asked --overwrite always, nor when the killed
 * session's commit lands just after the new session looked; then the
 * same bytes would be committed a second time, and whatever watches the
 * receiver's folder would see the file arrive twice.
 *
 * So each commit is remembered under the file's source identity (the
 * sender's key, or anonymous, as resume names it: path, size, mtime)
 * with its BLAKE3 and what it became (inode, ctime after the rename).
 * At the next commit of the same identity with the same digest, when the
 * file at that name is still the very inode, unchanged since (size and
 * ctime: any write, chmod, utime or rename changes ctime) and with the
 * mode this commit would give it, the new part-file is dropped and the
 * file counts as received: the
 * sender hears it is there, nothing is committed twice.  A match can
 * only ever skip rewriting bytes that are there, identical; when
 * anything differs the file is committed as always.
 *
 * The table lives in rroot under its mutex, which is held only for the
 * look-up and the update (never across a rename or a stat).
 */
#include "receiver/engine/files.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/io/sys.h"
#include "receiver/core/rmap.h"

static void identity(const rfiles *f, uint32_t i, uint8_t out[32])
{
	const salvo_entry *e = &f->m->entries[i];
	salvo_rmap_id id = {.anonymous = f->anonymous,
			    .path = e->path,
			    .path_len = e->path_len,
			    .size = e->size,
			    .mtime_ns = e->mtime_ns};
	memcpy(id.key, f->sender, sizeof(id.key));
	salvo_rmap_digest(&id, out);
}

static uint64_t ns_of(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000 + (uint64_t)t->tv_nsec;
}

static const char *base_of(const salvo_entry *e)
{
	const char *s = memrchr(e->path, '/', e->path_len);
	return s ? s + 1 : e->path;
}

int rrecent_match(rfiles *f, uint32_t i, const uint8_t digest[32], int dfd,
		  char *name, size_t nlen)
{
	const salvo_entry *e = &f->m->entries[i];
	uint8_t id[32];
	identity(f, i, id);
	salvo_rrecent_rec r;
	pthread_mutex_lock(&f->r->mu);
	const salvo_rrecent_rec *p =
	    salvo_rrecent_find(&f->r->recent, id, salvo_now_ns());
	if (p)
		r = *p;
	pthread_mutex_unlock(&f->r->mu);
	if (!p || memcmp(r.digest, digest, sizeof(r.digest)))
		return 0;
	if (r.suffix)
		snprintf(name, nlen, "%s.%u", base_of(e), r.suffix);
	else
		snprintf(name, nlen, "%s", base_of(e));
	struct stat st;
	return !fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) &&
	       S_ISREG(st.st_mode) && (uint64_t)st.st_dev == r.dev &&
	       (uint64_t)st.st_ino == r.ino &&
	       (uint64_t)st.st_size == e->size &&
	       ns_of(&st.st_ctim) == r.ctime_ns &&
	       (st.st_mode & 07777) == ((mode_t)e->mode & 07777 & ~f->r->mask);
}

void rrecent_note(rfiles *f, uint32_t i, const uint8_t digest[32], int dfd,
		  const char *name, ino_t ino)
{
	const salvo_entry *e = &f->m->entries[i];
	const char *base = base_of(e);
	size_t blen = strlen(base);
	struct stat st;
	/* what the rename made, unless someone replaced it already */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) || st.st_ino != ino)
		return;
	salvo_rrecent_rec r = {.dev = (uint64_t)st.st_dev,
			       .ino = (uint64_t)st.st_ino,
			       .ctime_ns = ns_of(&st.st_ctim)};
	if (strncmp(name, base, blen) || (name[blen] && name[blen] != '.'))
		return;
	r.suffix =
	    name[blen] ? (uint32_t)strtoul(name + blen + 1, NULL, 10) : 0;
	identity(f, i, r.id);
	memcpy(r.digest, digest, sizeof(r.digest));
	pthread_mutex_lock(&f->r->mu);
	/* out of memory: this file is not remembered, nothing worse */
	(void)salvo_rrecent_add(&f->r->recent, &r, salvo_now_ns());
	pthread_mutex_unlock(&f->r->mu);
}
