/*
 * Internal to the receiver engine: the state its threads share and the
 * small API each engine file offers the others.  recv.h is the public
 * face; nothing outside receiver/engine includes this header.
 *
 * Files, each one concern, calling one way (down this list only):
 *
 *   recv.c      orchestration: options, root, sockets, threads, report
 *   socket.c    socket threads: recvmmsg, GRO trains cut into datagrams,
 *               the core fed under its lock once per batch
 *   writer.c    a batch's writes: collected under the lock, written
 *               (pwritev runs) and hashed after it is dropped
 *   verifier.c  the verifier thread: block and file checks, fsync, rename
 *   prepare.c   the prepare thread: the verdicts of a large manifest's
 *               files and --checksum's hashes of the files already
 *               here, outside the core lock, before the data phase
 *   session.c   the engine's per-session state: prepare, end, refcount,
 *               log events
 *   digest.c    what was written, hashed as written: per-block CRC32C
 *               accumulators, per-file BLAKE3 trees
 *   files.c     part-files and confinement below the root, with
 *   root.c      the private part-file folder and the budget, and
 *   fdcache.c   the bound on open descriptors (files.h)
 *
 * Locks: rctx.lock guards the core, the session list, every esess's refs
 * and the report; it is held while a socket thread feeds a batch, never
 * while it writes.  rctx.q.mu and rctx.prepq.mu guard the queues.  digest.c has
 * its own per-file and per-session locks (see there).
 */
#ifndef SALVO_RENGINE_H
#define SALVO_RENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/core/limits.h"
#include "common/core/log.h"
#include "receiver/core/receiver.h"
#include "receiver/engine/files.h"
#include "receiver/engine/recv.h"

/* ------------------------------------------------------------ digest.c */

/* One file's any-order BLAKE3 tree; created on the file's first write. */
typedef struct rdfile rdfile;

#define RDIGEST_LOCKS 64

/* The digests of one session's data, fed by the writers as they write. */
typedef struct rdigest {
	const salvo_manifest *m; /* borrowed from the esess */
	uint32_t block_bytes;
	uint64_t nblocks;
	/* per block: bytes collected but not yet written and hashed */
	_Atomic uint32_t *pending;
	/* per block: XOR of its pieces' CRC32C contributions */
	_Atomic uint32_t *acc;
	rdfile **file; /* per entry, or NULL */
	/* entry i's record is guarded by locks[i % RDIGEST_LOCKS]: a mutex
	 * per file would cost 40 bytes each of a million tiny files */
	pthread_mutex_t locks[RDIGEST_LOCKS];
	pthread_mutex_t mu;
	pthread_cond_t settled; /* a block's pending count reached 0 */
	atomic_int waiters;
} rdigest;

/* Sets up d for manifest m.  0 or -ENOMEM. */
int rdigest_init(rdigest *d, const salvo_manifest *m, uint32_t block_bytes);
void rdigest_free(rdigest *d);

/* Core lock held, when a write of entry i at file offset off, len bytes
 * (inside one block), is collected: counts the bytes as pending in their
 * block and creates the file's tree on its first piece.  0 or -ENOMEM
 * (nothing counted). */
int rdigest_expect(rdigest *d, uint32_t i, uint64_t off, size_t len);

/* Any thread, once bytes [off, off + len) of entry i (any blocks, each
 * byte expected before) are on disk, p their bytes in one buffer, or
 * failed (p NULL): folds them into their blocks' CRCs and their file's
 * tree, then settles them.  Long contiguous runs keep BLAKE3 on its SIMD
 * kernels. */
void rdigest_add(rdigest *d, uint32_t i, uint64_t off, const void *p,
		 size_t len);

/* Verifier: waits until every piece collected for block b is settled. */
void rdigest_wait_block(rdigest *d, uint64_t b);

/* 1 if the pieces added to block b make its CRC32C crc. */
int rdigest_block_ok(rdigest *d, uint64_t b, uint32_t crc);

/* Block b failed and will be fetched again: clears its accumulator and
 * marks the trees of the files it touches as unusable (they absorbed the
 * bad bytes; those files are re-read at finalize). */
void rdigest_block_failed(rdigest *d, uint64_t b);

/* Entry i's digest from its tree into out: 0, or 1 when the tree cannot
 * tell (no tree, marked unusable, incomplete): the caller re-reads the
 * file.  Frees the tree either way. */
int rdigest_file(rdigest *d, uint32_t i, uint8_t out[32]);

/* ----------------------------------------------------------- session.c */

/* The engine's state for one session. */
typedef struct esess {
	uint32_t id;
	/* the engine's own copy: the core frees its manifest when the
	 * session ends, while a job may still be reading files */
	salvo_manifest m;
	int have_m;
	rfiles files;
	rdigest dig;
	int have_dig;
	atomic_int ended; /* set under the core lock, read anywhere */
	int refs;	  /* core lock: the core, batches and jobs holding it */
	uint32_t files_left; /* regular files not committed yet (verifier) */
	/* the first entry whose name prepare has not looked at: set by
	 * prepare, then moved on by the prepare thread alone */
	uint32_t look_next;
	/* --checksum: files here of the manifest's size, whose content the
	 * prepare thread compares before the data phase (prepare) */
	struct rsum {
		uint32_t idx;
		int same; /* set by the prepare thread */
		int64_t mtime_ns;
	} * sum;
	uint32_t nsum;
	int bound;	   /* enum salvo_overwrite for this session */
	salvo_rsess *sess; /* the core's, while not ended (core lock) */
	int finished;	   /* folders made durable (rfiles_finish) */
	char peer[80];
	uint64_t start_ns, bytes, files_done;
	struct esess *next;
} esess;

struct rctx;

/* Files whose names prepare looks at under the core lock before it
 * leaves the rest to the prepare thread, and how many that thread looks
 * at before it takes the lock to set their verdicts: at about 5 us an
 * fstatat, the lock is held some 10 ms for them. */
#define RSESSION_CHUNK_FILES 2048

/* What is at a file's final name, as its verdict needs it. */
typedef struct rlook {
	uint32_t idx;	  /* the entry */
	int rc;		  /* 0, -ENOENT, or -errno the look failed with */
	salvo_existing x; /* when rc is 0 */
} rlook;

/* Core callbacks.  prepare decides the first RSESSION_CHUNK_FILES
 * verdicts; more files, or --checksum's hashes, go to the prepare thread
 * (SALVO_PREPARE_LATER). */
int rsession_prepare(void *ud, salvo_rsess *sess, const salvo_manifest *m,
		     char *err, size_t errlen);
/* Any thread, no core lock needed (rfiles' own lock only), while a
 * reference to s is held: what is at regular-file entry i's final name
 * now, into *l (not looked at for a file this receiver refuses for its
 * size). */
void rsession_look(const struct rctx *c, esess *s, uint32_t i, rlook *l);
/* Core lock held, s not ended: sets entry l->idx's verdict from l (core,
 * report, log, files_left), or with --checksum keeps a file of the same
 * size in s->sum for hashing.  0, or -ENOMEM with err. */
int rsession_decide(struct rctx *c, esess *s, const rlook *l, char *err,
		    size_t errlen);
/* Core lock held, s not ended: ends a prepare that answered
 * SALVO_PREPARE_LATER.  rc 0: every name was looked at and s->sum
 * compared; sets their verdicts and starts the data phase.  rc -errno
 * (why, for a person): fails the session.  Either way through
 * salvo_receiver_prepared. */
void rsession_prepared(struct rctx *c, esess *s, int rc, const char *why);
void rsession_end(void *ud, salvo_rsess *sess, int result, const char *msg);

/* The engine state behind a core session (NULL before prepare). */
esess *rsession_of(salvo_rsess *sess);
/* Core lock held: drops one reference; frees at zero. */
void rsession_release(struct rctx *c, esess *s);
/* Core lock held (serialises the log callback): one log event. */
void rsession_log(struct rctx *c, const salvo_log_event *ev);
/* Core lock held: the "file_failed" event of entry i, which failed alone
 * after the data phase began (why: for a person, e.g. "the sender could
 * not read it (...)" or the commit's error).  The caller counts it. */
void rsession_file_failed(struct rctx *c, const esess *s, uint32_t i,
			  const char *why);
/* Frees every session state left (shutdown, no thread running). */
void rsession_free_all(struct rctx *c);

/* ----------------------------------------------------------- prepare.c */

/* Core lock held: queues the rest of s's prepare (the names from
 * s->look_next on, then s->sum) for the prepare thread, a reference
 * held.  0 or -ENOMEM. */
int rprepare_queue(struct rctx *c, esess *s);
/* Starts / stops the prepare thread.  start: 0 or -errno. */
int rprepare_start(struct rctx *c);
void rprepare_stop(struct rctx *c);

/* ---------------------------------------------------------- verifier.c */

/* Work for the verifier: check a block, or check and commit a file. */
typedef struct rjob {
	enum { RJOB_BLOCK, RJOB_FILE, RJOB_RESUME, RJOB_PREPARE } kind;
	esess *s; /* a reference held until the job is done */
	uint32_t idx, len, crc;
	int check_crc; /* 0: a partly held block, settled only */
	uint64_t start;
	uint8_t digest[SALVO_DIGEST_BYTES];
	struct rjob *next;
} rjob;

typedef struct rqueue {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	rjob *head, *tail;
	int stopping;
	pthread_t th;
} rqueue;

/* A job queue with its one thread (the verifier's, the prepare one's):
 * push from any thread; pop blocks until a job comes or stop was asked
 * (NULL then, once empty: jobs queued before stop are still handed
 * out).  start: 0 or -errno.  stop joins the thread. */
void rqueue_push(rqueue *q, rjob *head, rjob *tail);
rjob *rqueue_pop(rqueue *q);
int rqueue_start(rqueue *q, void *(*fn)(void *), void *arg);
void rqueue_stop(rqueue *q);

/* Core callbacks: make a job (kept in the current batch until its writes
 * are out, else queued at once). */
void rverifier_verify_block(void *ud, salvo_rsess *sess, uint32_t block,
			    uint64_t start, uint32_t len, uint32_t crc,
			    int check_crc);
void rverifier_finalize(void *ud, salvo_rsess *sess, uint32_t file,
			const uint8_t digest[SALVO_DIGEST_BYTES]);
/* Core lock held (prepare): a job reading entry file's resumed bytes
 * back into its digest (resume.c), after the batch's writes. */
void rverifier_resume(struct rctx *c, esess *s, uint32_t file);
/* Queues a chain of jobs for the verifier thread. */
void rverifier_queue(struct rctx *c, rjob *head, rjob *tail);
/* Starts / stops (after the queue drained) the verifier thread.  start:
 * 0 or -errno. */
int rverifier_start(struct rctx *c);
void rverifier_stop(struct rctx *c);

/* ------------------------------------------------------------ writer.c */

/* A write the core asked for, held until the batch leaves the lock. */
typedef struct rwrite {
	esess *s; /* a reference held until the batch is settled */
	uint32_t file;
	uint64_t off;
	const void *p; /* in the socket thread's receive buffers */
	size_t len;
} rwrite;

/* A write that failed, reported to the core when the batch settles. */
typedef struct rwerr {
	uint32_t session, file;
	int rc;
	char msg[256];
} rwerr;

/* Where a batch's LZ4 pieces inflate: chunks taken in turn, kept for
 * the next batch, all free again once the batch's writes are out. */
#define RARENA_CHUNK_BYTES SALVO_RECV_INFLATE_CHUNK_BYTES
#define RARENA_CHUNKS 64 /* a batch inflates at most 64 MiB */
#define RARENA_KEEP SALVO_RECV_INFLATE_KEEP /* kept for the next batch */
typedef struct rarena {
	uint8_t *chunk[RARENA_CHUNKS];
	uint32_t cur; /* chunk in use */
	size_t used;  /* bytes of it taken */
} rarena;

/* One socket thread's batch. */
typedef struct rbatch {
	rarena inflate;
	rwrite *w;
	size_t n, cap;
	uint8_t *stage;		/* a run's payloads back to back, for hashing */
	rjob *jobs, *jobs_tail; /* queued once the writes are out */
	rwerr err[4];
	int nerr;
} rbatch;

/* Core callback: collects the write into the current batch. */
int rwriter_write(void *ud, salvo_rsess *sess, uint32_t file, uint64_t off,
		  const void *data, size_t len, char *err, size_t errlen);
/* Lock NOT held: writes the batch (pwritev per run of adjacent bytes of
 * one file), hashes what it wrote, then queues the batch's jobs. */
void rwriter_flush(struct rctx *c, rbatch *b);
/* Core lock held: reports the flushed batch's write errors to the core
 * and drops its session references. */
void rwriter_settle(struct rctx *c, rbatch *b, uint64_t now);
/* Sets up / frees a batch.  init: 0 or -ENOMEM. */
int rwriter_init(rbatch *b);
void rwriter_free(rbatch *b);

/* ------------------------------------------------------------ socket.c */

typedef struct rsocket rsocket;

/* Core callback (salvo_receiver_cb.inflate_buf): len bytes in the
 * current batch's arena, valid until the batch is flushed; NULL when the
 * arena is full or out of memory. */
uint8_t *rsocket_inflate_buf(void *ud, salvo_rsess *sess, size_t len);

/* Core callback: sends on the socket of the thread holding the lock. */
void rsocket_send(void *ud, const salvo_addr *a, const void *buf, size_t len);
/* A socket bound to ss with SO_REUSEPORT (and UDP_GRO with offload):
 * the fd, or -errno with msg. */
int rsocket_open(struct rctx *c, const struct sockaddr_storage *ss,
		 socklen_t len, char *msg, size_t mlen);
/* A socket thread's state with its receive buffers.  0 or -ENOMEM. */
int rsocket_new(rsocket **out, struct rctx *c, int fd);
void rsocket_del(rsocket *t);
/* Starts / joins the thread.  start: 0 or -errno. */
int rsocket_start(rsocket *t);
void rsocket_join(rsocket *t);

/* -------------------------------------------------------------- recv.c */

typedef struct rctx {
	const salvo_recv_opts *o;
	salvo_recv_report *rep;
	salvo_receiver *core;
	pthread_mutex_t lock; /* the core, sessions, refs, report */
	int cur_fd;	      /* socket for the core's sends, under lock */
	rbatch *cur;	      /* batch of the socket thread feeding the core */
	int fds[SALVO_SOCKETS_MAX];
	uint32_t nsock;
	int root;
	rroot fs; /* the private folder, limits, budget (files.h) */
	esess *sessions;
	uint64_t refusal_logged_ns; /* last "unknown key" log line */
	int ended_sessions, last_result;
	atomic_int stopping;
	rqueue q;     /* the verifier's */
	rqueue prepq; /* the prepare thread's (prepare.c) */
} rctx;

#endif
