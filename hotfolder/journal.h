/*
 * The hot folder's journal: an append-only file of records that makes a
 * restart safe.  A record says what happened to one file (by its path
 * relative to the watched folder): queued, sending, sent (with size, mtime
 * and SHA-256), post-action done, forgotten.  Replay hands back every
 * record in order; the last record of a path wins.
 *
 * Layout: an 8-byte magic "SALVOHJ1", then records
 *
 *   u32 payload length | u32 CRC32C of the payload | payload
 *   payload: u8 type | u64 size | i64 mtime_ns | u8 has_hash | u8 hash[32]
 *            | path bytes (the rest, not NUL-terminated)
 *
 * integers little-endian.  A crash can tear only the last record; replay
 * stops at the first record whose length or CRC is wrong and truncates the
 * file there, so the next append starts clean.
 *
 * Durability: salvo_hf_journal_add only buffers; salvo_hf_journal_sync
 * writes the buffer and fsyncs, once per batch of state changes (group
 * commit).  The caller syncs before acting on a change (starting a session,
 * deleting or moving a file).  Compaction writes the live records to a new
 * file, fsyncs it, renames it over the journal and fsyncs the folder.
 *
 * Threading: one owner.  Errors: 0 or -errno; SALVO_ERR_MALFORMED for a
 * file that is not a journal; SALVO_ERR_BUSY if another process holds it.
 */
#ifndef SALVO_HOTFOLDER_JOURNAL_H
#define SALVO_HOTFOLDER_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

enum salvo_hf_rec_type {
	SALVO_HF_REC_QUEUED = 1,
	SALVO_HF_REC_SENDING = 2,
	SALVO_HF_REC_SENT = 3,
	SALVO_HF_REC_DONE = 4,	 /* post-action done (keep: still known) */
	SALVO_HF_REC_FORGET = 5, /* nothing to remember about the path */
};

#define SALVO_HF_JOURNAL_MAX_PATH 4096

struct salvo_hf_rec {
	int type; /* enum salvo_hf_rec_type */
	uint64_t size;
	int64_t mtime_ns;
	int has_hash;
	uint8_t hash[32];
	const char *path; /* borrowed; NUL-terminated */
	size_t path_len;
};

struct salvo_hf_journal {
	int fd;
	char *path;	    /* owned */
	unsigned char *buf; /* records not yet written */
	size_t len, cap;
	uint64_t records; /* appended since the last compaction */
	uint64_t file_bytes;
};

/* Opens (creating if missing) the journal at path, takes an exclusive
 * lock on it (SALVO_ERR_BUSY if another watcher holds it), replays every
 * good record through cb in order, and truncates a torn tail.  *torn is
 * set to the bytes cut off.  cb returning non-zero stops with that code.
 * A path that names something other than a regular file (a FIFO, a
 * device, a folder) is refused with -EINVAL before anything is read or
 * written. */
int salvo_hf_journal_open(struct salvo_hf_journal *j, const char *path,
			  int (*cb)(void *ud, const struct salvo_hf_rec *r),
			  void *ud, uint64_t *torn);

/* Whether a watcher holds the lock on the journal at path: 1 (it runs),
 * 0 (no watcher runs: the lock is free, or there is no journal), or
 * -errno (-EINVAL: not a regular file).  It takes a shared lock for a
 * moment to find out, and checks the path still names the file it
 * locked (a compaction moves the lock to a new file).  Unlike a pid, a
 * lock cannot be mistaken for another process that reused the number. */
int salvo_hf_journal_held(const char *path);

/* Buffers one record (not yet durable).  0 or -ENOMEM / -ENAMETOOLONG. */
int salvo_hf_journal_add(struct salvo_hf_journal *j,
			 const struct salvo_hf_rec *r);

/* Writes what is buffered and fsyncs.  0 or -errno. */
int salvo_hf_journal_sync(struct salvo_hf_journal *j);

/* Replaces the journal by the records that next() yields (it returns 0
 * with *r filled, 1 at the end); the buffer is dropped, since the live
 * set already contains it.  On failure the old journal stays in use. */
int salvo_hf_journal_compact(struct salvo_hf_journal *j,
			     int (*next)(void *ud, struct salvo_hf_rec *r),
			     void *ud);

/* Closes (after a final sync attempt).  Safe on a zeroed struct. */
void salvo_hf_journal_close(struct salvo_hf_journal *j);

#endif
