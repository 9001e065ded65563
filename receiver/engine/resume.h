/*
 * Resume on the receiver: durable verified-block maps beside the
 * part-files, so an interrupted transfer continues where it stopped.
 * Internal to the receiver engine.
 *
 * A regular file of at least RRESUME_MIN_BYTES is resumable.  Its
 * part-file and map are named after its identity (receiver/core/rmap.h:
 * sender key or anonymous, stored path, size, mtime), .salvo/r-HEX.part
 * and .salvo/r-HEX.map, so the next session for the same file finds
 * them.  Other files keep the session-unique PID-SESSION-INDEX.part.
 *
 * Durability: as blocks verify, their bytes join the file's verified set;
 * at most every RRESUME_FLUSH_NS or RRESUME_FLUSH_BYTES of newly verified
 * bytes, whichever comes first, the part-file is fsynced, then the map
 * is written to r-HEX.map.tmp, fsynced and renamed over r-HEX.map.  So
 * the map never names a byte that is not on disk, and a crash loses at
 * most that interval.  A session that ends without committing the file
 * (sender gone, timeout, abort, another file's error) writes the map a
 * last time and keeps both; a verification failure (the file differs
 * from the sender's digest, or its source changes) removes both.
 *
 * Ownership: an identity is held by one session at a time.  In this
 * process the claims table of rroot says by whom; across receivers on
 * one root, an OFD lock on byte (digest) of .salvo/resume.lock.  A new
 * session for an identity an older session of this process holds (the
 * same sender restarted its send, or reconnected after losing its
 * session) takes it over: the older session's map is brought up to date
 * first, then that session is failed (its sender is gone or superseded).
 * An identity another receiver holds is not resumed: that session uses
 * a session-unique part-file.
 *
 * Resuming: whole blocks of the new session's data stream whose every
 * byte lies in the verified sets are handed to the core as already
 * verified (premarked), so the sender sends only the rest; the
 * verifier reads the resumed bytes back once (RJOB_RESUME) into the
 * file's BLAKE3 tree, so the final check still covers every byte.
 *
 * Threading: rresume_prepare and rresume_free run under the core lock;
 * rresume_block_ok, rresume_committed and rresume_feed in the verifier.
 * A session's state has its own mutex (a takeover from another session's
 * prepare touches it).  Lock order: core lock, rroot.mu, rresume.mu.
 */
#ifndef SALVO_RRESUME_H
#define SALVO_RRESUME_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/rangeset.h"
#include "receiver/engine/engine.h"

#define RRESUME_MIN_BYTES (UINT64_C(1) << 20)
#define RRESUME_FLUSH_NS UINT64_C(1000000000)
#define RRESUME_FLUSH_BYTES (UINT64_C(64) << 20)

/* Root start: opens .salvo/resume.lock (r->lockfd, -1 when it cannot)
 * and removes what crashed or idle sessions left in .salvo (dfd, which
 * this call consumes): part-files and maps older than r->max_age_ns,
 * unless another receiver holds them; and, when alone is set (no other
 * receiver uses the root), part-files nothing can resume (session-unique
 * ones, resumable ones without a map, unfinished map writes).  Logs what
 * it removed through o->log. */
void rresume_root_start(rroot *r, int dfd, int alone, const salvo_recv_opts *o);
/* Root end: the claims table and the lock file. */
void rresume_root_free(rroot *r);

/* Core lock held, after rfiles_prepare and rdigest_init: claims the
 * session's resumable files, loads their maps (a damaged or foreign map
 * and its part-file are removed and logged), tells the core which whole
 * blocks are verified already (premark) and queues the read-back of the
 * resumed bytes.  0, or -ENOMEM with msg. */
int rresume_prepare(rctx *c, esess *s, salvo_rsess *sess, char *msg,
		    size_t len);

/* Entry i's part-file name when it is resumable: 1 with the name in buf,
 * else 0.  Any thread (the state is fixed once prepared). */
int rresume_part_name(const rfiles *f, uint32_t i, char *buf, size_t len);

/* 1 when entry i's part-file is resumable and stays when the session
 * fails (rfiles_free then leaves it alone). */
int rresume_keeps(const rfiles *f, uint32_t i);

/* Verifier: data-stream bytes [start, start + len) verified. */
void rresume_block_ok(esess *s, uint64_t start, uint32_t len);

/* Verifier: entry i was committed under its final name (its part-file
 * is gone): its map goes too, and its identity is free. */
void rresume_committed(esess *s, uint32_t i);

/* Verifier (RJOB_RESUME): reads entry i's resumed bytes back from its
 * part-file into the session's digest.  A read error leaves the file's
 * tree incomplete: it is then read back whole at finalize. */
void rresume_feed(esess *s, uint32_t i);

/* Core lock held, nobody else using the session (rfiles_free): each
 * resumable file not committed keeps its part-file with a final map
 * (keep) or loses both (a verification failure); its identity is freed.
 * Frees f->resume. */
void rresume_free(rfiles *f, int keep);

#endif
