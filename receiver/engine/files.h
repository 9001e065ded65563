/*
 * The receiver's file side: confinement below the root, part-files in the
 * receiver's private folder, reading them back, the durable commit (fsync,
 * rename into place, fsync of the folder), and what a session may hold
 * while it runs (descriptors, bookkeeping memory).  Internal to the
 * receiver engine.  Threading per function below; what verifies a block
 * or a file is the verifier's (verifier.c), not this file's.
 *
 *   root.c     rroot: one per receiver.  The private folder ROOT/.salvo
 *              (SALVO_PATH_PRIVATE, which no manifest path may begin
 *              with), stale part-files cleaned at start, the mode mask,
 *              the descriptor bound per session, the memory budget.
 *   fdcache.c  rfdcache: a small LRU of open descriptors, pinned while in
 *              use, so a session holds a bounded number open whatever its
 *              manifest.
 *   files.c    rfiles: one per session.  Its folders, its part-files, the
 *              commit, and on failure the removal of what it created.
 *   recent.c   what the commits of the last hour stored, so that a file
 *              sent again (a hot folder restarted after a crash) is not
 *              committed twice.
 */
#ifndef SALVO_RFILES_H
#define SALVO_RFILES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "common/core/manifest.h"
#include "receiver/core/rrecent.h"
#include "receiver/engine/recv.h"

/* ------------------------------------------------------------- root.c */

/* Receiver-wide file state: made before the threads start, freed after
 * they stopped.  Fields are read-only once made, except parts (made late
 * under mu when the root was read-only at start) and used (core lock). */
typedef struct rroot {
	int root;	  /* the receiver's root folder (borrowed) */
	atomic_int parts; /* ROOT/.salvo, or -1 until it can be made */
	pthread_mutex_t mu;
	dev_t dev;	 /* file system every folder of a session must be on */
	ino_t parts_ino; /* .salvo itself, which no folder may alias */
	uint64_t mnt;	 /* mount of .salvo (statx), where files must go */
	int have_mnt;	 /* 0: the kernel does not say (rename says EXDEV) */
	mode_t mask;	 /* never given: 07000 | the process umask */
	int overwrite;	 /* enum salvo_overwrite */
	uint64_t max_file_bytes;
	uint32_t fds;	 /* per session: folders (and part-files) open */
	uint64_t budget; /* bookkeeping bytes all sessions may hold */
	uint64_t used;	 /* held by live sessions (core lock) */
	int pid;	 /* in part-file names: receivers sharing a root */
	uint8_t key[16]; /* keys the folder lookup against collisions */
	/* resume (resume.c): .salvo/resume.lock, whose bytes are the
	 * identities live receivers hold (OFD locks), or -1; the
	 * identities this process holds, under mu; part-files older than
	 * max_age are removed at start (0: never) */
	int lockfd;
	struct rclaim **claims;
	uint64_t max_age_ns;
	salvo_rrecent recent; /* recent.c: the commits of the last hour, mu */
} rroot;

/* Makes r for the receiver whose root is the open folder root: creates
 * ROOT/.salvo (mode 0700, never through a symlink) or finds it, takes its
 * shared lock and, when no other receiver holds it, removes the
 * part-files crashed receivers left there, logging how many through
 * o->log.  A root where .salvo cannot be made (read-only) still serves:
 * part-files then fail with the reason, and .salvo is tried again.
 * Returns 0 or -errno with msg (.salvo is a symlink, a file, another
 * user's...). */
int rroot_init(rroot *r, int root, const salvo_recv_opts *o, char *msg,
	       size_t len);
void rroot_free(rroot *r);

/* The part-file folder's fd, made now if it could not be before: the fd,
 * or -errno with msg.  Any thread. */
int rroot_parts(rroot *r, char *msg, size_t len);

/* Core lock held: takes more bytes from the budget for a session that
 * holds held already.  0, or SALVO_ERR_TOOBIG with msg (what the session
 * needs, what is left, what to do). */
int rroot_reserve(rroot *r, uint64_t held, uint64_t more, char *msg,
		  size_t len);
/* Core lock held: gives back what rroot_reserve took. */
void rroot_release(rroot *r, uint64_t bytes);

/* ---------------------------------------------------------- fdcache.c */

/* Open descriptors keyed by a non-negative int, at most cap of them
 * unpinned; the least recently used unpinned one is closed to make room.
 * A pinned descriptor is never closed under its user: it is in use
 * outside the owner's lock.  Not thread-safe: the owner's lock. */
typedef struct rfdcache {
	struct rfdslot {
		int32_t key;
		int fd;
		int pins;
		uint64_t used;
	} * slot;
	uint32_t n, len, cap;
	uint64_t tick;
} rfdcache;

void rfdcache_init(rfdcache *c, uint32_t cap);
/* key's descriptor, pinned, or -1 if it is not open. */
int rfdcache_take(rfdcache *c, int32_t key);
/* Stores fd for key, pinned, first closing least recently used unpinned
 * descriptors down to cap.  0, or -ENOMEM (fd closed). */
int rfdcache_add(rfdcache *c, int32_t key, int fd);
/* Unpins key; closes it if the cache is over cap or it was dropped. */
void rfdcache_release(rfdcache *c, int32_t key);
/* Closes key's descriptor unless someone else has it pinned. */
void rfdcache_drop(rfdcache *c, int32_t key);
/* Closes every unpinned descriptor; returns how many. */
uint32_t rfdcache_trim(rfdcache *c);
/* Closes everything (no pins may be held). */
void rfdcache_free(rfdcache *c);

/* ------------------------------------------------------------ files.c */

typedef struct rfiles {
	rroot *r;
	const salvo_manifest *m; /* borrowed from the engine's session */
	uint32_t session;
	uint64_t reserved;  /* budget bytes held, given back at free */
	pthread_mutex_t mu; /* caches, states, folder flags */
	int have_mu;
	uint8_t *state;	 /* per entry: RF_NONE, RF_PART, RF_DONE */
	int32_t *parent; /* per entry: its folder's index into dirs */
	struct rdir {
		const char *path; /* into a manifest path; "" for none */
		uint32_t len;
		int32_t up;    /* parent folder, -1: the root */
		int32_t entry; /* its DIR entry, -1: none */
		uint8_t created, dirty;
		uint8_t checked; /* can take files: writable, .salvo's mount */
	} * dirs;
	uint32_t ndirs, cap;
	uint32_t *index; /* open addressing over dirs: index + 1, 0 empty */
	uint32_t index_len;
	rfdcache dirfd, partfd;
	uint8_t *buf;	  /* the verifier's read-back buffer */
	int root_dirty;	  /* something was made or renamed in the root */
	int root_checked; /* the root can take files (check_target) */
	int finished;	  /* folders made durable: the session succeeded */
	int overwrite;	  /* 1 + enum salvo_overwrite for this session (its
			     sender's authorised policy); 0: the root's */
	struct rresume *resume; /* resume.c: NULL, none of its files */
	int keep_partial;	/* at free: resumable part-files stay */
	int anonymous;		/* the sender, for recent.c: anonymous, */
	uint8_t sender[32];	/* else its static key */
} rfiles;

/* Bookkeeping bytes a session for manifest m with blocks of block_bytes
 * holds, the core's tables and the engine's together (before its
 * folders, which rfiles_prepare counts as it finds them). */
uint64_t rfiles_bookkeeping(const salvo_manifest *m, uint32_t block_bytes);

/* Core lock held.  Takes the session's bookkeeping from the budget, then
 * creates its folders and checks every path (confinement, size limit,
 * one file system).  0 or -errno / SALVO_ERR_TOOBIG with a message naming
 * the path.  On failure f still needs rfiles_free. */
int rfiles_prepare(rfiles *f, rroot *r, const salvo_manifest *m,
		   uint32_t session, uint32_t block_bytes, char *msg,
		   size_t len);

/* Entry i's part-file, created on first use: 0, or -errno with a message.
 * The engine calls it under its core lock before any write to the file;
 * any thread may run the functions below meanwhile. */
int rfiles_open(rfiles *f, uint32_t i, char *msg, size_t len);

/* What is at entry i's final name now (not following a symlink there):
 * 0 with *st, -ENOENT, or -errno.  In a folder this session made (empty
 * then) -ENOENT without a look: no system call. */
int rfiles_stat_target(rfiles *f, uint32_t i, struct stat *st);
/* The file at entry i's final name opened to read (not following a
 * symlink; the caller closes it and checks it is a regular file): the
 * fd, or -errno.  Any thread while f lives. */
int rfiles_open_target(rfiles *f, uint32_t i);

/* pwritev of n buffers, back to back from off, into entry i's part-file;
 * iov is consumed.  0 or -errno with a message.  Any thread, once
 * rfiles_open made the part-file. */
int rfiles_writev(rfiles *f, uint32_t i, uint64_t off, struct iovec *iov, int n,
		  char *msg, size_t msglen);

/* Reads data-stream bytes [start, start + len) back from the part-files
 * into *crc (CRC32C).  0 or -errno.  Verifier thread only (it owns buf). */
int rfiles_crc(rfiles *f, uint64_t start, uint32_t len, uint32_t *crc);

/* Reads entry i's part-file back for its BLAKE3 digest.  0 or -errno with
 * a message. */
int rfiles_digest(rfiles *f, uint32_t i, uint8_t out[32], char *msg,
		  size_t len);

/* Makes entry i, verified with BLAKE3 digest, durable under its final
 * name: its mode (masked), mtime, fsync, then rename from the private
 * folder per the overwrite policy.  Returns 0 with the path it was
 * stored under in stored (relative to the root; with overwrite rename a
 * free name such as "a/one.bin.2" when the entry's own was taken); 1
 * when this very file was committed by this receiver within the hour
 * and is unchanged at that path (recent.c), in stored: its part-file is
 * removed, the file is not committed again; or -errno (msg). */
int rfiles_commit(rfiles *f, uint32_t i, const uint8_t digest[32], char *stored,
		  size_t slen, char *msg, size_t len);

/* Entry i failed alone (its commit): its part-file goes now, not at the
 * session's end, which may be a success.  Verifier thread. */
void rfiles_drop(rfiles *f, uint32_t i);

/* ----------------------------------------------------------- recent.c */

/* Entry i of f, verified with digest, is about to be renamed into folder
 * dfd: 1 when the same file (the sender's identity, path, size, mtime,
 * digest) was committed by this receiver within the hour and the file
 * at the name it got then is still that one, unchanged (inode, size,
 * ctime) and with the mode this commit would give it: that name in name;
 * else 0.  Any thread. */
int rrecent_match(rfiles *f, uint32_t i, const uint8_t digest[32], int dfd,
		  char *name, size_t nlen);

/* Entry i of f, verified with digest, was renamed into folder dfd as
 * name (its own base name, or NAME.k); ino: its inode before the rename.
 * Remembers what it is now, for rrecent_match.  Any thread. */
void rrecent_note(rfiles *f, uint32_t i, const uint8_t digest[32], int dfd,
		  const char *name, ino_t ino);

/* After the last file: the modes of the folders this session created
 * (masked), the mtimes of its folder entries, fsync of every folder that
 * changed.  0 or -errno. */
int rfiles_finish(rfiles *f, char *msg, size_t len);

/* Core lock held, nobody else using f (made by rfiles_prepare, or zeroed).
 * Closes everything and gives the budget back; with discard, unless
 * rfiles_finish succeeded, removes the part-files left and, deepest
 * first, the folders this session created that are still empty (those
 * that are not get their mode, as rfiles_finish would). */
void rfiles_free(rfiles *f, int discard);

#endif
