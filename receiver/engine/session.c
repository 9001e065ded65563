/*
 * The engine's state for one session (struct esess, engine.h): made when
 * the core accepts a manifest (prepare), ended when the core ends the
 * session, freed when the last holder lets go.  Holders are the core
 * itself (until session_end), every write request of a socket thread's
 * batch (until the batch settles) and every verifier job (until done), so
 * a writer can write and a verifier can check outside the core lock while
 * the session ends under it.  The count is changed under the core lock
 * only.
 *
 * A sender's files land in the folder its authorised-keys entry names
 * (dir=, below the root: its paths are put below it in the engine's copy
 * of the manifest) under the overwrite policy the entry allows, else
 * never; an anonymous sender (only with allow_anonymous) writes below the
 * root itself.
 *
 * Before any data moves, each file gets its verdict (receiver/core
 * receiver.h, salvo_verdict_decide): what is at its name now, the
 * sender's overwrite request (in its manifest) and what this receiver
 * allows that sender decide whether it is sent, skipped (identical,
 * exists, not newer) or refused; a file over max_file_size is refused
 * alone, and the others still go.  The core tells the sender (VERDICT).
 *
 * Looking at a name costs an fstatat (about 5 us), and prepare runs under
 * the core lock, which every other session's datagrams wait for: a
 * re-send of a million files into an existing tree held it for seconds.
 * So prepare decides the first RSESSION_CHUNK_FILES files itself and
 * leaves the rest to the prepare thread (prepare.c), which looks at them
 * in chunks outside the lock (rsession_look) and takes the lock per chunk
 * only to set their verdicts (rsession_decide).  With --checksum (digests
 * in the manifest) a file here of the same size is compared by content:
 * its verdict also waits for the prepare thread, which hashes outside the
 * lock.  Either way prepare answers SALVO_PREPARE_LATER and the prepare
 * ends from there (rsession_prepared).
 *
 * Log events go out from here too, always under the core lock, which is
 * what serialises the log callback as recv.h promises.
 */
#include "receiver/engine/engine.h"
#include "receiver/engine/resume.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/core/error.h"
#include "common/core/path.h"
#include "common/core/policy.h"
#include "common/crypto/keys.h"
#include "common/io/sys.h"

esess *rsession_of(salvo_rsess *sess)
{
	return salvo_rsess_user(sess);
}

void rsession_log(rctx *c, const salvo_log_event *ev)
{
	if (c->o->log)
		c->o->log(c->o->log_ud, ev);
}

static void free_state(esess *s)
{
	free(s->sum);
	rfiles_free(&s->files, 1);
	if (s->have_dig)
		rdigest_free(&s->dig);
	if (s->have_m)
		salvo_manifest_free(&s->m);
	free(s);
}

void rsession_release(rctx *c, esess *s)
{
	if (--s->refs > 0)
		return;
	for (esess **p = &c->sessions; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	free_state(s);
}

void rsession_free_all(rctx *c)
{
	while (c->sessions) {
		esess *s = c->sessions;
		c->sessions = s->next;
		free_state(s);
	}
}

/* Puts every path of m below dir (the sender's authorised-keys folder,
 * which the keys parser checked like a manifest path): m is the engine's
 * copy, so the part-files, the commit and the logs all see "dir/path",
 * and the file layer makes dir's folders as it makes any path's,
 * confined below the root.  0, or -ENAMETOOLONG / -ENOMEM with msg. */
static int below_dir(salvo_manifest *m, const char *dir, char *err,
		     size_t errlen)
{
	size_t dlen = strlen(dir), names = 0;
	for (uint32_t i = 0; i < m->count; i++) {
		if (dlen + 1 + m->entries[i].path_len > SALVO_PATH_MAX) {
			snprintf(err, errlen,
				 "'%s' is too long below this sender's folder "
				 "'%s'",
				 m->entries[i].path, dir);
			return -ENAMETOOLONG;
		}
		names += dlen + 1 + m->entries[i].path_len + 1;
	}
	char *buf = salvo_mem_alloc(m->mem, names ? names : 1), *p = buf;
	if (!buf) {
		snprintf(err, errlen, "receiver out of memory");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < m->count; i++) {
		salvo_entry *e = &m->entries[i];
		memcpy(p, dir, dlen);
		p[dlen] = '/';
		memcpy(p + dlen + 1, e->path, e->path_len);
		e->path_len = (uint16_t)(dlen + 1 + e->path_len);
		p[e->path_len] = 0;
		e->path = p;
		p += e->path_len + 1;
	}
	salvo_mem_free(m->mem, m->names);
	m->names = buf;
	return 0;
}

/* The overwrite policy for a session: the receiver's, when the sender's
 * entry allows it, else never (which every entry allows). */
static int overwrite_for(int receiver_policy, const salvo_authkey *k)
{
	if (!k || (k->overwrite & (1u << receiver_policy)))
		return receiver_policy;
	return SALVO_OVERWRITE_NEVER;
}

static const char *const verdict_words[] = {
    [SALVO_VERDICT_SEND] = "sent",
    [SALVO_VERDICT_IDENTICAL] = "skipped: identical (same size and mtime)",
    [SALVO_VERDICT_EXISTS] =
	"skipped: it exists and the sender asked never to overwrite",
    [SALVO_VERDICT_NOT_NEWER] = "skipped: the copy here is as new or newer",
    [SALVO_VERDICT_REFUSED] = "refused",
    [SALVO_VERDICT_FAILED] = "failed",
    [SALVO_VERDICT_RESUME] = "resumed",
};

/* Entry i's verdict v (why: an errno) to the core, the report and the
 * log; a file to send is counted as left to commit.  0, or -ENOMEM with
 * err. */
static int apply_verdict(rctx *c, esess *s, uint32_t i, int v, int why,
			 const char *line, char *err, size_t errlen)
{
	const salvo_entry *e = &s->m.entries[i];
	if (v == SALVO_VERDICT_SEND) {
		s->files_left++;
		return 0;
	}
	if (salvo_rsess_set_verdict(s->sess, i, v, why)) {
		snprintf(err, errlen, "receiver out of memory");
		return -ENOMEM;
	}
	if (v == SALVO_VERDICT_REFUSED || v == SALVO_VERDICT_FAILED)
		c->rep->files_refused++;
	else
		c->rep->files_skipped++;
	rsession_log(c, &(salvo_log_event){.level = v >= SALVO_VERDICT_REFUSED
							? SALVO_LOG_WARN
							: SALVO_LOG_INFO,
					   .event = v >= SALVO_VERDICT_REFUSED
							? "file_refused"
							: "file_skipped",
					   .session = s->id,
					   .peer = s->peer,
					   .file = e->path,
					   .bytes = e->size,
					   .message = line});
	return 0;
}

/* The verdict for entry i given x, with its log line. */
static int decide_one(const esess *s, uint32_t i, const salvo_existing *x,
		      int *why, char *line, size_t len)
{
	const salvo_entry *e = &s->m.entries[i];
	int v = salvo_verdict_decide(s->m.overwrite, s->bound, e, x);
	*why = v == SALVO_VERDICT_FAILED ? EISDIR : 0;
	snprintf(line, len, "%s %s%s", e->path,
		 v == SALVO_VERDICT_IDENTICAL && x->compared
		     ? "skipped: identical (checksum)"
		     : verdict_words[v],
		 v == SALVO_VERDICT_REFUSED
		     ? ": it exists, differs, and this receiver does not "
		       "overwrite for this sender (receiver.overwrite)"
		 : v == SALVO_VERDICT_FAILED
		     ? ": something else than a file has that name"
		     : "");
	return v;
}

/* With --checksum, is the file at e's name (x) one to hash first: a file
 * of the same size, for a request that would skip it when identical? */
static int to_compare(const esess *s, const salvo_entry *e,
		      const salvo_existing *x)
{
	return s->m.digests && x->exists && x->is_file && x->size == e->size &&
	       (s->m.overwrite == SALVO_SEND_IF_DIFFERENT ||
		s->m.overwrite == SALVO_SEND_IF_NEWER);
}

void rsession_look(const rctx *c, esess *s, uint32_t i, rlook *l)
{
	const salvo_entry *e = &s->m.entries[i];
	struct stat st;
	*l = (rlook){.idx = i};
	if (c->fs.max_file_bytes && e->size > c->fs.max_file_bytes)
		return; /* refused whatever is there */
	l->rc = rfiles_stat_target(&s->files, i, &st);
	if (l->rc)
		return;
	l->x.exists = 1;
	l->x.is_file = S_ISREG(st.st_mode);
	l->x.size = (uint64_t)st.st_size;
	l->x.mtime_ns =
	    (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

int rsession_decide(rctx *c, esess *s, const rlook *l, char *err, size_t errlen)
{
	const salvo_entry *e = &s->m.entries[l->idx];
	char line[SALVO_PATH_MAX + 200];
	int v, why = 0;
	if (c->fs.max_file_bytes && e->size > c->fs.max_file_bytes) {
		v = SALVO_VERDICT_REFUSED;
		why = EFBIG;
		snprintf(line, sizeof(line),
			 "refused %s: %llu bytes, larger than this receiver "
			 "accepts (%llu bytes)",
			 e->path, (unsigned long long)e->size,
			 (unsigned long long)c->fs.max_file_bytes);
	} else if (l->rc && l->rc != -ENOENT) {
		v = SALVO_VERDICT_FAILED;
		why = -l->rc;
		snprintf(line, sizeof(line), "failed %s: %s", e->path,
			 strerror(why));
	} else if (to_compare(s, e, &l->x)) {
		if (!s->sum &&
		    !(s->sum = calloc(s->m.count, sizeof(*s->sum)))) {
			snprintf(err, errlen, "receiver out of memory");
			return -ENOMEM;
		}
		s->sum[s->nsum++] =
		    (struct rsum){.idx = l->idx, .mtime_ns = l->x.mtime_ns};
		return 0;
	} else {
		v = decide_one(s, l->idx, &l->x, &why, line, sizeof(line));
	}
	return apply_verdict(c, s, l->idx, v, why, line, err, errlen);
}

/* Decides the verdicts of the first RSESSION_CHUNK_FILES files, looking
 * at their names under the core lock; s->look_next tells where the
 * prepare thread goes on.  0, or -ENOMEM with err. */
static int decide_first(rctx *c, esess *s, char *err, size_t errlen)
{
	uint32_t files = 0;
	int rc = 0;
	s->files_left = 0;
	for (s->look_next = 0;
	     !rc && s->look_next < s->m.count && files < RSESSION_CHUNK_FILES;
	     s->look_next++) {
		if (s->m.entries[s->look_next].type != SALVO_ENTRY_FILE)
			continue;
		rlook l;
		rsession_look(c, s, s->look_next, &l);
		rc = rsession_decide(c, s, &l, err, errlen);
		files++;
	}
	return rc;
}

/* The rest of a prepare, once every verdict is set: the digests, the
 * resumed part-files, the log.  0 or -errno with err. */
static int prepare_rest(rctx *c, esess *s, char *err, size_t errlen)
{
	salvo_rsess *sess = s->sess;
	const salvo_authkey *k = salvo_rsess_auth(sess);
	if (rdigest_init(&s->dig, &s->m, salvo_rsess_block_bytes(sess))) {
		snprintf(err, errlen, "receiver out of memory");
		return -ENOMEM;
	}
	s->have_dig = 1;
	int rc = rresume_prepare(c, s, sess, err, errlen);
	if (rc)
		return rc;
	char line[300], fp[SALVO_FINGERPRINT_SIZE];
	salvo_key_fingerprint(fp, salvo_rsess_key(sess));
	snprintf(line, sizeof(line),
		 "session %08x from %s (%s %s%s%.60s): %u entries, %llu "
		 "bytes into %s%s",
		 s->id, s->peer, k ? "key" : "anonymous, key", fp,
		 k && k->comment[0] ? " " : "", k ? k->comment : "", s->m.count,
		 (unsigned long long)s->m.total_bytes, k ? k->dir : "the root",
		 s->nsum ? " (content compared: --checksum)" : "");
	rsession_log(c, &(salvo_log_event){.level = SALVO_LOG_INFO,
					   .event = "session_start",
					   .session = s->id,
					   .peer = s->peer,
					   .bytes = s->m.total_bytes,
					   .message = line});
	return 0;
}

int rsession_prepare(void *ud, salvo_rsess *sess, const salvo_manifest *m,
		     char *err, size_t errlen)
{
	rctx *c = ud;
	esess *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "receiver out of memory");
		return -ENOMEM;
	}
	s->id = salvo_rsess_id(sess);
	s->sess = sess;
	s->refs = 1; /* the core's, dropped in rsession_end */
	s->start_ns = salvo_now_ns();
	const salvo_addr *a = salvo_rsess_peer(sess);
	salvo_format_addr((const struct sockaddr *)a->bytes, s->peer,
			  sizeof(s->peer));
	/* linked at once: from here the core calls rsession_end, which
	 * frees whatever part of it exists */
	s->next = c->sessions;
	c->sessions = s;
	salvo_rsess_set_user(sess, s);
	if (salvo_manifest_copy(&s->m, m, &salvo_mem_libc)) {
		snprintf(err, errlen, "receiver out of memory");
		return -ENOMEM;
	}
	s->have_m = 1;
	const salvo_authkey *k = salvo_rsess_auth(sess);
	int rc = k ? below_dir(&s->m, k->dir, err, errlen) : 0;
	if (rc)
		return rc;
	/* first: it takes the session's memory from the budget, or refuses */
	rc = rfiles_prepare(&s->files, &c->fs, &s->m, s->id,
			    salvo_rsess_block_bytes(sess), err, errlen);
	if (rc)
		return rc;
	s->bound = overwrite_for(c->o->overwrite, k);
	s->files.overwrite = 1 + s->bound;
	/* whose files they are, as resume names them (recent.c) */
	s->files.anonymous = !k;
	if (k)
		memcpy(s->files.sender, salvo_rsess_key(sess), 32);
	rc = decide_first(c, s, err, errlen);
	if (rc)
		return rc;
	/* more names to look at, or files to hash: neither under the core
	 * lock, which every other session's datagrams wait for (prepare.c) */
	if (s->look_next < s->m.count || s->nsum) {
		if (rprepare_queue(c, s)) {
			snprintf(err, errlen, "receiver out of memory");
			return -ENOMEM;
		}
		return SALVO_PREPARE_LATER;
	}
	return prepare_rest(c, s, err, errlen);
}

void rsession_prepared(rctx *c, esess *s, int rc, const char *why)
{
	char err[SALVO_PATH_MAX + 200];
	snprintf(err, sizeof(err), "%s", rc ? why : "");
	for (uint32_t k = 0; !rc && k < s->nsum; k++) {
		uint32_t i = s->sum[k].idx;
		salvo_existing x = {.exists = 1,
				    .is_file = 1,
				    .size = s->m.entries[i].size,
				    .mtime_ns = s->sum[k].mtime_ns,
				    .compared = 1,
				    .same = s->sum[k].same};
		char line[SALVO_PATH_MAX + 200];
		int no, v = decide_one(s, i, &x, &no, line, sizeof(line));
		rc = apply_verdict(c, s, i, v, no, line, err, sizeof(err));
	}
	free(s->sum);
	s->sum = NULL;
	if (!rc)
		rc = prepare_rest(c, s, err, sizeof(err));
	salvo_receiver_prepared(c->core, s->id, rc, err, salvo_now_ns());
}

void rsession_file_failed(rctx *c, const esess *s, uint32_t i, const char *why)
{
	const salvo_entry *e = &s->m.entries[i];
	char line[SALVO_PATH_MAX + 700];
	snprintf(line, sizeof(line),
		 "failed %s: %s; the session goes on without it", e->path, why);
	rsession_log(c, &(salvo_log_event){.level = SALVO_LOG_WARN,
					   .event = "file_failed",
					   .session = s->id,
					   .peer = s->peer,
					   .file = e->path,
					   .bytes = e->size,
					   .message = line});
}

static void log_end(rctx *c, const esess *s, uint32_t id, int result,
		    const char *msg)
{
	char line[1200];
	uint64_t ns = s ? salvo_now_ns() - s->start_ns : 0;
	uint64_t rate =
	    ns ? (uint64_t)((double)s->bytes * 8e9 / (double)ns) : 0;
	if (!result)
		snprintf(line, sizeof(line),
			 "session %08x from %s complete: %llu files, %llu "
			 "bytes in %.2f s (%.1f Mbit/s)",
			 id, s->peer, (unsigned long long)s->files_done,
			 (unsigned long long)s->bytes, (double)ns / 1e9,
			 (double)rate / 1e6);
	else
		snprintf(line, sizeof(line), "session %08x%s%s failed: %s", id,
			 s ? " from " : "", s ? s->peer : "", msg);
	rsession_log(c, &(salvo_log_event){.level = result ? SALVO_LOG_ERROR
							   : SALVO_LOG_INFO,
					   .event = result ? "session_failed"
							   : "session_complete",
					   .session = id,
					   .peer = s ? s->peer : NULL,
					   .bytes = s ? s->bytes : 0,
					   .elapsed_ns = ns,
					   .rate_bps = result ? 0 : rate,
					   .message = line});
}

void rsession_end(void *ud, salvo_rsess *sess, int result, const char *msg)
{
	rctx *c = ud;
	esess *s = rsession_of(sess);
	c->ended_sessions++;
	c->last_result = result;
	if (!s) { /* failed before prepare (bad manifest...) */
		c->rep->sessions_failed++;
		log_end(c, NULL, salvo_rsess_id(sess), result, msg);
		return;
	}
	char fmsg[512] = "";
	/* the verifier made the folders durable after the last file; a
	 * session of folders only ends here without it */
	if (!result && !s->finished &&
	    rfiles_finish(&s->files, fmsg, sizeof(fmsg)))
		result = c->last_result = SALVO_ERR_IO;
	/* what failed verification is not kept for a resume */
	s->files.keep_partial =
	    result != SALVO_ERR_VERIFY && result != SALVO_ERR_SOURCE_CHANGED;
	if (!result)
		c->rep->sessions_ok++;
	else
		c->rep->sessions_failed++;
	log_end(c, s, s->id, result, fmsg[0] ? fmsg : msg);
	atomic_store(&s->ended, 1);
	salvo_rsess_set_user(sess, NULL);
	rsession_release(c, s);
}
