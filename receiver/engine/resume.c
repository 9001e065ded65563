/*
 * Resume on the receiver (see resume.h): the maps on disk, who holds
 * which identity, and what a new session takes from an old one.
 *
 * The verified set of a file is kept in file offsets, not blocks: the
 * next session's stream (other files around it, another block size) cuts
 * blocks elsewhere, and a block shared by small files verifies pieces of
 * several.  Only whole blocks of the new stream whose every byte is in
 * the sets are premarked; the few bytes at a resumed file's edges that
 * share a block with unverified bytes are simply sent again.
 *
 * The map is replaced, never edited: written whole to r-HEX.map.tmp,
 * fsynced, renamed over r-HEX.map.  Its folder is fsynced after the
 * first map of a file, so a crash leaves the old map or the new one,
 * each true of the part-file (verified bytes never change: the core
 * drops data for blocks it verified).
 */
#include "receiver/engine/resume.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/core/error.h"
#include "common/core/path.h"
#include "common/io/sys.h"
#include "receiver/core/rmap.h"

#define CLAIM_BUCKETS 4096u
#define LOCK_NAME "resume.lock"
#define READ_BYTES (1u << 20)

typedef struct rrfile {
	uint32_t idx; /* manifest entry */
	char stem[SALVO_RMAP_STEM_BYTES + 1];
	uint8_t digest[32];
	salvo_rmap_id id;	  /* path into the session's manifest */
	salvo_rangeset verified;  /* file offsets: verified and written */
	salvo_rangeset resumed;	  /* premarked this session: fed back */
	uint64_t dirty, flushed;  /* bytes verified since, time of flush */
	uint8_t held, lost, done; /* claimed; taken over; committed */
	uint8_t have_map;	  /* a map is on disk */
} rrfile;

struct rresume {
	pthread_mutex_t mu;
	rroot *r;
	uint32_t session, block_bytes;
	rrfile *f;
	uint32_t n;
	int32_t *of; /* entry -> index into f, -1: not resumable */
	const salvo_manifest *m;
};

struct rclaim {
	uint8_t digest[32];
	struct rresume *owner;
	uint32_t k; /* into owner->f */
	struct rclaim *next;
};

static void log_line(const salvo_recv_opts *o, int level, const char *event,
		     uint32_t session, const char *msg)
{
	if (o && o->log)
		o->log(o->log_ud, &(salvo_log_event){.level = level,
						     .event = event,
						     .session = session,
						     .message = msg});
}

/* ---------------------------------------------------------- ownership */

/* The lock byte of an identity in resume.lock: its first 7 bytes. */
static off_t lock_at(const uint8_t digest[32])
{
	uint64_t v = 0;
	for (int i = 0; i < 7; i++)
		v = v << 8 | digest[i];
	return (off_t)v;
}

/* Takes (type F_WRLCK) or gives back (F_UNLCK) the identity's lock: 0,
 * or -EAGAIN when another receiver holds it.  Without a lock file every
 * claim succeeds (a read-only .salvo, where nothing resumes anyway). */
static int ofd_lock(const rroot *r, const uint8_t digest[32], short type)
{
	if (r->lockfd < 0)
		return 0;
	struct flock fl = {.l_type = type,
			   .l_whence = SEEK_SET,
			   .l_start = lock_at(digest),
			   .l_len = 1};
	return fcntl(r->lockfd, F_OFD_SETLK, &fl) ? -errno : 0;
}

/* 1 when another receiver holds the identity. */
static int held_elsewhere(const rroot *r, const uint8_t digest[32])
{
	if (r->lockfd < 0)
		return 0;
	struct flock fl = {.l_type = F_WRLCK,
			   .l_whence = SEEK_SET,
			   .l_start = lock_at(digest),
			   .l_len = 1};
	return !fcntl(r->lockfd, F_OFD_GETLK, &fl) && fl.l_type != F_UNLCK;
}

static struct rclaim **bucket(rroot *r, const uint8_t digest[32])
{
	return &r->claims[(digest[0] | (unsigned)digest[1] << 8) %
			  CLAIM_BUCKETS];
}

/* r->mu held: the claim of digest in this process, or NULL. */
static struct rclaim *claim_find(rroot *r, const uint8_t digest[32])
{
	for (struct rclaim *c = *bucket(r, digest); c; c = c->next)
		if (!memcmp(c->digest, digest, 32))
			return c;
	return NULL;
}

/* r->mu held: forgets the claim of rr->f[k] if rr still holds it. */
static void claim_drop(struct rresume *rr, uint32_t k)
{
	rroot *r = rr->r;
	for (struct rclaim **p = bucket(r, rr->f[k].digest); *p;
	     p = &(*p)->next)
		if ((*p)->owner == rr && (*p)->k == k) {
			struct rclaim *c = *p;
			*p = c->next;
			free(c);
			ofd_lock(r, rr->f[k].digest, F_UNLCK);
			return;
		}
}

/* ---------------------------------------------------------- map files */

/* write(2) until all of buf went: 0 or -errno. */
static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void name_of(const rrfile *f, const char *ext, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", f->stem, ext);
}

static int parts_fd(rroot *r)
{
	return atomic_load(&r->parts);
}

/* rr->mu held.  Makes the map of f true as of now: fsync of the part-file
 * (its bytes first), then the map, replaced whole.  0 or -errno. */
static int flush(struct rresume *rr, rrfile *f)
{
	int dfd = parts_fd(rr->r);
	if (dfd < 0)
		return -ENOENT;
	char part[64], tmp[64], map[64];
	name_of(f, ".part", part, sizeof(part));
	name_of(f, ".map.tmp", tmp, sizeof(tmp));
	name_of(f, ".map", map, sizeof(map));
	int fd = openat(dfd, part, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) ? -errno : 0;
	close(fd);
	if (rc)
		return rc;
	salvo_range *rg =
	    malloc((f->verified.n ? f->verified.n : 1) * sizeof(*rg));
	size_t need = salvo_rmap_size(&f->id, f->verified.n);
	uint8_t *buf = malloc(need);
	if (!rg || !buf) {
		free(rg);
		free(buf);
		return -ENOMEM;
	}
	for (size_t i = 0; i < f->verified.n; i++)
		rg[i] =
		    (salvo_range){f->verified.r[i].start, f->verified.r[i].end};
	int64_t n = salvo_rmap_encode(buf, need, &f->id, rr->block_bytes, rg,
				      f->verified.n);
	free(rg);
	rc = n < 0 ? -EINVAL : 0;
	fd = rc ? -1
		: openat(dfd, tmp,
			 O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
			 0600);
	if (!rc && fd < 0)
		rc = -errno;
	if (!rc)
		rc = write_all(fd, buf, (size_t)n);
	if (!rc && fsync(fd))
		rc = -errno;
	if (fd >= 0)
		close(fd);
	free(buf);
	if (!rc && renameat(dfd, tmp, dfd, map))
		rc = -errno;
	if (rc) {
		unlinkat(dfd, tmp, 0);
		return rc;
	}
	if (!f->have_map && fsync(dfd))
		rc = -errno;
	f->have_map = 1;
	f->dirty = 0;
	f->flushed = salvo_now_ns();
	return rc;
}

static void remove_files(rroot *r, const char *stem)
{
	int dfd = parts_fd(r);
	char name[64];
	if (dfd < 0)
		return;
	static const char *const ext[] = {".part", ".map", ".map.tmp"};
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(name, sizeof(name), "%s%s", stem, ext[i]);
		unlinkat(dfd, name, 0);
	}
}

/* Reads the whole map file of f into a buffer (free it): NULL with *rc
 * -ENOENT (no map) or another -errno. */
static uint8_t *read_map(rroot *r, const rrfile *f, size_t *len, int *rc)
{
	char map[64];
	name_of(f, ".map", map, sizeof(map));
	int fd = openat(parts_fd(r), map, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	uint8_t *buf = NULL;
	*rc = 0;
	if (fd < 0 || fstat(fd, &st)) {
		*rc = -errno;
	} else if (st.st_size < 8 || st.st_size > (64 << 20)) {
		*rc = -EINVAL;
	} else if (!(buf = malloc((size_t)st.st_size))) {
		*rc = -ENOMEM;
	} else if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
		*rc = -EIO;
	}
	if (fd >= 0)
		close(fd);
	if (*rc) {
		free(buf);
		return NULL;
	}
	*len = (size_t)st.st_size;
	return buf;
}

/* Loads f's map into f->verified.  0 (a valid map, whose part-file holds
 * every byte it names), 1 (none), or the reason it is refused (then the
 * part-file and the map are removed and why is logged). */
static int load(rctx *c, struct rresume *rr, rrfile *f)
{
	size_t len = 0;
	int rc;
	uint8_t *buf = read_map(rr->r, f, &len, &rc);
	if (rc == -ENOENT) {
		remove_files(rr->r, f->stem); /* a part without a map */
		return 1;
	}
	salvo_rmap m;
	if (!rc)
		rc = salvo_rmap_decode(buf, len, &f->id, &m);
	struct stat st;
	char part[64];
	name_of(f, ".part", part, sizeof(part));
	if (!rc && (fstatat(parts_fd(rr->r), part, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode)))
		rc = -ENOENT;
	for (uint32_t i = 0; !rc && i < m.nranges; i++) {
		salvo_range x = salvo_rmap_range(&m, i);
		if ((uint64_t)st.st_size < x.end)
			rc = -EIO; /* shorter than the map says */
		else if (salvo_rangeset_add(&f->verified, x.start, x.end, 0))
			rc = -ENOMEM;
	}
	free(buf);
	if (!rc) {
		f->have_map = 1;
		return 0;
	}
	salvo_rangeset_remove_below(&f->verified, UINT64_MAX);
	remove_files(rr->r, f->stem);
	char line[SALVO_PATH_MAX + 200];
	snprintf(line, sizeof(line),
		 "discarded the partial '%s' (%s/%s.map: %s); it is sent "
		 "again from the start",
		 f->id.path, SALVO_PATH_PRIVATE, f->stem, salvo_strerror(rc));
	log_line(c->o, SALVO_LOG_WARN, "resume_discarded", rr->session, line);
	return rc;
}

/* --------------------------------------------------------- the session */

static int is_resumable(const salvo_entry *e)
{
	return e->type == SALVO_ENTRY_FILE && e->size >= RRESUME_MIN_BYTES;
}

static void file_free(rrfile *f)
{
	salvo_rangeset_free(&f->verified);
	salvo_rangeset_free(&f->resumed);
}

static void resume_del(struct rresume *rr)
{
	if (!rr)
		return;
	for (uint32_t k = 0; k < rr->n; k++)
		file_free(&rr->f[k]);
	pthread_mutex_destroy(&rr->mu);
	free(rr->f);
	free(rr->of);
	free(rr);
}

/* r->mu held: rr->f[k] becomes rr's.  An older session of this process
 * holding it loses it (its map made current first) and is to be failed:
 * its id in *old (0: none).  -EAGAIN: another receiver holds it. */
static int claim(struct rresume *rr, uint32_t k, uint32_t *old)
{
	rroot *r = rr->r;
	rrfile *f = &rr->f[k];
	*old = 0;
	if (!r->claims)
		return -ENOMEM;
	struct rclaim *cl = claim_find(r, f->digest);
	if (cl) {
		struct rresume *o = cl->owner;
		pthread_mutex_lock(&o->mu);
		rrfile *of = &o->f[cl->k];
		if (of->verified.n)
			flush(o, of);
		of->lost = 1;
		of->held = 0;
		pthread_mutex_unlock(&o->mu);
		*old = o->session;
		cl->owner = rr;
		cl->k = k;
		f->held = 1;
		return 0;
	}
	if (ofd_lock(r, f->digest, F_WRLCK))
		return -EAGAIN;
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		ofd_lock(r, f->digest, F_UNLCK);
		return -ENOMEM;
	}
	memcpy(cl->digest, f->digest, 32);
	cl->owner = rr;
	cl->k = k;
	cl->next = *bucket(r, f->digest);
	*bucket(r, f->digest) = cl;
	f->held = 1;
	return 0;
}

/* The sessions to fail once the claims are made (not under r->mu: a
 * failed session may free its state, which takes r->mu). */
typedef struct olds {
	uint32_t id[8];
	uint32_t n;
} olds;

static void olds_add(olds *o, uint32_t id)
{
	for (uint32_t i = 0; i < o->n; i++)
		if (o->id[i] == id)
			return;
	if (o->n < 8)
		o->id[o->n++] = id;
}

/* 1 when every byte of stream block [bs, be) is verified in the files it
 * holds (at least one of them resumable). */
static int block_held(const struct rresume *rr, uint64_t bs, uint64_t be)
{
	const salvo_manifest *m = rr->m;
	int any = 0;
	for (uint32_t i = salvo_manifest_locate(m, bs);
	     i < m->count && m->entries[i].stream_offset < be; i++) {
		const salvo_entry *e = &m->entries[i];
		if (!e->size || e->stream_offset + e->size <= bs)
			continue;
		if (rr->of[i] < 0)
			return 0;
		const rrfile *f = &rr->f[rr->of[i]];
		uint64_t a = bs > e->stream_offset ? bs - e->stream_offset : 0;
		uint64_t z = be - e->stream_offset < e->size
				 ? be - e->stream_offset
				 : e->size;
		if (!salvo_rangeset_covers(&f->verified, a, z))
			return 0;
		any = 1;
	}
	return any;
}

/* Core lock held (prepare): the whole blocks of the new stream that are
 * verified already go to the core as held (the sender sends none of
 * them), into each file's resumed set, counted in the digest as
 * expected, and the verifier reads them back (RJOB_RESUME). */
static void premark(rctx *c, esess *s, salvo_rsess *sess, struct rresume *rr)
{
	const salvo_manifest *m = rr->m;
	uint64_t bb = rr->block_bytes, next = 0;
	for (uint32_t k = 0; k < rr->n; k++) {
		rrfile *f = &rr->f[k];
		if (!f->verified.n)
			continue;
		const salvo_entry *e = &m->entries[f->idx];
		uint64_t fs = e->stream_offset, fe = fs + e->size;
		/* files in stream order: a block shared with the file
		 * before was looked at with it */
		for (uint64_t b = fs / bb > next ? fs / bb : next; b * bb < fe;
		     b++) {
			uint64_t bs = b * bb;
			uint64_t be =
			    bs + bb < m->total_bytes ? bs + bb : m->total_bytes;
			next = b + 1;
			if (!block_held(rr, bs, be))
				continue;
			if (salvo_rsess_mark_present(sess, bs, be))
				return; /* sent again instead: harmless */
			for (uint32_t i = salvo_manifest_locate(m, bs);
			     i < m->count && m->entries[i].stream_offset < be;
			     i++) {
				const salvo_entry *x = &m->entries[i];
				if (!x->size ||
				    x->stream_offset + x->size <= bs)
					continue;
				rrfile *g = &rr->f[rr->of[i]];
				uint64_t a = bs > x->stream_offset
						 ? bs - x->stream_offset
						 : 0;
				uint64_t z = be - x->stream_offset < x->size
						 ? be - x->stream_offset
						 : x->size;
				/* a failure leaves the file's tree short: it
				 * is then read back whole at finalize */
				if (!rdigest_expect(&s->dig, i, a,
						    (size_t)(z - a)))
					salvo_rangeset_add(&g->resumed, a, z,
							   0);
			}
		}
	}
	char line[SALVO_PATH_MAX + 200];
	for (uint32_t k = 0; k < rr->n; k++) {
		rrfile *f = &rr->f[k];
		if (!f->resumed.n)
			continue;
		salvo_rsess_set_verdict(sess, f->idx, SALVO_VERDICT_RESUME, 0);
		rverifier_resume(c, s, f->idx);
		snprintf(line, sizeof(line),
			 "resuming '%s': %llu of %llu bytes verified before",
			 f->id.path, (unsigned long long)f->resumed.bytes,
			 (unsigned long long)f->id.size);
		log_line(c->o, SALVO_LOG_INFO, "resume", rr->session, line);
	}
}

int rresume_prepare(rctx *c, esess *s, salvo_rsess *sess, char *msg, size_t len)
{
	rfiles *fs = &s->files;
	rroot *r = fs->r;
	const salvo_manifest *m = &s->m;
	uint32_t n = 0;
	for (uint32_t i = 0; i < m->count; i++)
		n += is_resumable(&m->entries[i]);
	if (!n || parts_fd(r) < 0)
		return 0;
	struct rresume *rr = calloc(1, sizeof(*rr));
	if (!rr || pthread_mutex_init(&rr->mu, NULL)) {
		free(rr);
		snprintf(msg, len, "receiver out of memory");
		return -ENOMEM;
	}
	rr->r = r;
	rr->m = m;
	rr->session = s->id;
	rr->block_bytes = salvo_rsess_block_bytes(sess);
	rr->f = calloc(n, sizeof(*rr->f));
	rr->of = malloc((m->count ? m->count : 1) * sizeof(*rr->of));
	if (!rr->f || !rr->of) {
		resume_del(rr);
		snprintf(msg, len, "receiver out of memory");
		return -ENOMEM;
	}
	const void *auth = salvo_rsess_auth(sess);
	const uint8_t *key = salvo_rsess_key(sess);
	olds old = {.n = 0};
	pthread_mutex_lock(&r->mu);
	for (uint32_t i = 0; i < m->count; i++) {
		const salvo_entry *e = &m->entries[i];
		rr->of[i] = -1;
		if (!is_resumable(e))
			continue;
		rrfile *f = &rr->f[rr->n];
		f->idx = i;
		f->id = (salvo_rmap_id){.anonymous = !auth,
					.path = e->path,
					.path_len = e->path_len,
					.size = e->size,
					.mtime_ns = e->mtime_ns};
		if (auth)
			memcpy(f->id.key, key, 32);
		salvo_rangeset_init(&f->verified, &salvo_mem_libc);
		salvo_rangeset_init(&f->resumed, &salvo_mem_libc);
		salvo_rmap_digest(&f->id, f->digest);
		salvo_rmap_stem(f->digest, f->stem);
		uint32_t o;
		if (claim(rr, rr->n, &o)) {
			file_free(f);
			memset(f, 0, sizeof(*f));
			continue; /* another receiver's: session-unique */
		}
		if (o && o != s->id)
			olds_add(&old, o);
		rr->of[i] = (int32_t)rr->n++;
	}
	pthread_mutex_unlock(&r->mu);
	fs->resume = rr;
	for (uint32_t k = 0; k < rr->n; k++)
		load(c, rr, &rr->f[k]);
	for (uint32_t k = 0; k < old.n; k++) {
		char line[200];
		snprintf(line, sizeof(line),
			 "superseded by session %08x of the same sender, "
			 "which resumes its files",
			 s->id);
		salvo_receiver_fail(c->core, old.id[k], SALVO_ERR_ABORTED, 0,
				    SALVO_FILE_INDEX_NONE, line,
				    salvo_now_ns());
	}
	premark(c, s, sess, rr);
	return 0;
}

int rresume_part_name(const rfiles *f, uint32_t i, char *buf, size_t len)
{
	const struct rresume *rr = f->resume;
	if (!rr || i >= rr->m->count || rr->of[i] < 0)
		return 0;
	snprintf(buf, len, "%s.part", rr->f[rr->of[i]].stem);
	return 1;
}

int rresume_keeps(const rfiles *f, uint32_t i)
{
	return rresume_part_name(f, i, (char[64]){0}, 64);
}

void rresume_block_ok(esess *s, uint64_t start, uint32_t len)
{
	struct rresume *rr = s->files.resume;
	if (!rr)
		return;
	const salvo_manifest *m = rr->m;
	uint64_t end = start + len, now = salvo_now_ns();
	pthread_mutex_lock(&rr->mu);
	for (uint32_t i = salvo_manifest_locate(m, start);
	     i < m->count && m->entries[i].stream_offset < end; i++) {
		const salvo_entry *e = &m->entries[i];
		if (rr->of[i] < 0 || e->stream_offset + e->size <= start)
			continue;
		rrfile *f = &rr->f[rr->of[i]];
		if (f->lost || f->done)
			continue;
		uint64_t a =
		    start > e->stream_offset ? start - e->stream_offset : 0;
		uint64_t b = end - e->stream_offset < e->size
				 ? end - e->stream_offset
				 : e->size;
		if (salvo_rangeset_add(&f->verified, a, b, 0))
			continue; /* out of memory: the map lags, no harm */
		f->dirty += b - a;
		if (!f->flushed)
			f->flushed = now;
		if (f->dirty >= RRESUME_FLUSH_BYTES ||
		    now - f->flushed >= RRESUME_FLUSH_NS)
			flush(rr, f);
	}
	pthread_mutex_unlock(&rr->mu);
}

void rresume_committed(esess *s, uint32_t i)
{
	struct rresume *rr = s->files.resume;
	if (!rr || rr->of[i] < 0)
		return;
	rrfile *f = &rr->f[rr->of[i]];
	pthread_mutex_lock(&rr->mu);
	int mine = !f->lost;
	f->done = 1;
	pthread_mutex_unlock(&rr->mu);
	if (!mine)
		return;
	char map[64];
	name_of(f, ".map", map, sizeof(map));
	int dfd = parts_fd(rr->r);
	if (dfd >= 0)
		unlinkat(dfd, map, 0);
	pthread_mutex_lock(&rr->r->mu);
	claim_drop(rr, (uint32_t)rr->of[i]);
	pthread_mutex_unlock(&rr->r->mu);
}

void rresume_feed(esess *s, uint32_t i)
{
	struct rresume *rr = s->files.resume;
	if (!rr || rr->of[i] < 0)
		return;
	rrfile *f = &rr->f[rr->of[i]];
	char part[64];
	name_of(f, ".part", part, sizeof(part));
	int fd =
	    openat(parts_fd(rr->r), part, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	uint8_t *buf = fd >= 0 ? malloc(READ_BYTES) : NULL;
	uint64_t bb = rr->block_bytes, base = s->m.entries[i].stream_offset;
	for (size_t k = 0; k < f->resumed.n; k++) {
		uint64_t a = f->resumed.r[k].start, b = f->resumed.r[k].end;
		while (a < b) {
			/* one piece per stream block, as rdigest_expect
			 * counted them */
			uint64_t bend = ((base + a) / bb + 1) * bb - base;
			size_t want = (size_t)(b < bend ? b - a : bend - a);
			if (want > READ_BYTES)
				want = READ_BYTES;
			ssize_t got = buf ? pread(fd, buf, want, (off_t)a) : -1;
			/* a short read settles the count without a hash: the
			 * tree stays incomplete and the file is read back */
			rdigest_add(&s->dig, i, a,
				    got == (ssize_t)want ? buf : NULL, want);
			a += want;
		}
	}
	free(buf);
	if (fd >= 0)
		close(fd);
}

void rresume_free(rfiles *fs, int keep)
{
	struct rresume *rr = fs->resume;
	if (!rr)
		return;
	rroot *r = rr->r;
	pthread_mutex_lock(&r->mu);
	pthread_mutex_lock(&rr->mu);
	for (uint32_t k = 0; k < rr->n; k++) {
		rrfile *f = &rr->f[k];
		if (!f->held || f->lost || f->done)
			continue;
		if (keep && f->verified.n)
			flush(rr, f);
		else
			remove_files(r, f->stem);
		claim_drop(rr, k);
	}
	pthread_mutex_unlock(&rr->mu);
	pthread_mutex_unlock(&r->mu);
	fs->resume = NULL;
	resume_del(rr);
}

/* -------------------------------------------------------- root start */

/* "r-" and 32 hex digits, then ext: 1 with the digest's first bytes. */
static int parse_stem(const char *name, const char **ext, uint8_t d[32])
{
	if (strncmp(name, "r-", 2))
		return 0;
	memset(d, 0, 32);
	for (int i = 0; i < 32; i++) {
		char ch = name[2 + i];
		int v = ch >= '0' && ch <= '9'	 ? ch - '0'
			: ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
						 : -1;
		if (v < 0)
			return 0;
		d[i / 2] = (uint8_t)(d[i / 2] << 4 | v);
	}
	*ext = name + SALVO_RMAP_STEM_BYTES;
	return 1;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

/* Whether the file name in .salvo goes at start, and into which count:
 * 0 keep, 1 too old, 2 nothing can resume it. */
static int stale(rroot *r, int dfd, const char *name, const struct stat *st,
		 int alone, uint64_t now_s)
{
	const char *ext;
	uint8_t d[32];
	int resumable = parse_stem(name, &ext, d);
	if (resumable && held_elsewhere(r, d))
		return 0; /* a live receiver's */
	uint64_t age =
	    now_s > (uint64_t)st->st_mtime ? now_s - (uint64_t)st->st_mtime : 0;
	if (r->max_age_ns && age >= r->max_age_ns / 1000000000u)
		return 1;
	if (!alone)
		return 0;
	if (!resumable || !strcmp(ext, ".map.tmp"))
		return 2;
	if (!strcmp(ext, ".part")) { /* resumable only with its map */
		char map[64];
		struct stat ms;
		snprintf(map, sizeof(map), "%.*s.map",
			 (int)SALVO_RMAP_STEM_BYTES, name);
		return fstatat(dfd, map, &ms, AT_SYMLINK_NOFOLLOW) ? 2 : 0;
	}
	return 0;
}

void rresume_root_start(rroot *r, int dfd, int alone, const salvo_recv_opts *o)
{
	r->claims = calloc(CLAIM_BUCKETS, sizeof(*r->claims));
	r->lockfd = openat(dfd, LOCK_NAME,
			   O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	unsigned old = 0, orphans = 0;
	uint64_t bytes = 0, now_s = (uint64_t)time(NULL);
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		if (!ends_with(n, ".part") && !ends_with(n, ".map") &&
		    !ends_with(n, ".map.tmp"))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		int why = stale(r, dirfd(d), n, &st, alone, now_s);
		if (!why || unlinkat(dirfd(d), n, 0))
			continue;
		if (ends_with(n, ".part")) {
			old += why == 1;
			orphans += why == 2;
			bytes += (uint64_t)st.st_size;
		}
	}
	closedir(d);
	char line[600];
	if (old) {
		snprintf(line, sizeof(line),
			 "removed %u stale part-file%s (%llu bytes) older than "
			 "receiver.partial_max_age (%llu s) from %s/%s",
			 old, old == 1 ? "" : "s", (unsigned long long)bytes,
			 (unsigned long long)(r->max_age_ns / 1000000000u),
			 o->dir, SALVO_PATH_PRIVATE);
		log_line(o, SALVO_LOG_WARN, "stale_parts", 0, line);
	}
	if (orphans) {
		snprintf(line, sizeof(line),
			 "removed %u stale part-file%s from %s/%s (left by "
			 "a receiver that stopped mid-session; nothing can "
			 "resume them)",
			 orphans, orphans == 1 ? "" : "s", o->dir,
			 SALVO_PATH_PRIVATE);
		log_line(o, SALVO_LOG_WARN, "stale_parts", 0, line);
	}
}

void rresume_root_free(rroot *r)
{
	for (uint32_t b = 0; r->claims && b < CLAIM_BUCKETS; b++)
		while (r->claims[b]) {
			struct rclaim *c = r->claims[b];
			r->claims[b] = c->next;
			free(c);
		}
	free(r->claims);
	r->claims = NULL;
	if (r->lockfd >= 0)
		close(r->lockfd);
	r->lockfd = -1;
}
