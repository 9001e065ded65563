/*
 * Turning the user's paths into a manifest: files and directories, each
 * with its local path, its name at the receiver, size, mode and mtime.
 * Folders are walked recursively in name order.
 *
 * Every entry found inside a folder is accounted for: it is sent, or it
 * is skipped with a reason (send.h, enum salvo_send_skip) and the walk
 * goes on: a symlink (not followed), a special file, a file that cannot
 * be opened or a folder that cannot be listed, a name the protocol
 * refuses.  A file is opened once here to know it is readable.  A path
 * the caller names (or an item) is different: if it cannot be sent, the
 * scan fails, naming it.
 */
#ifndef SALVO_SCAN_H
#define SALVO_SCAN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/core/manifest.h"
#include "sender/engine/send.h"

typedef struct salvo_scan_skip {
	char *local;  /* the path here */
	char *detail; /* for a person: an errno's text, "a FIFO", ... */
	int reason;   /* enum salvo_send_skip */
	int err;      /* unreadable: -errno; else 0 */
} salvo_scan_skip;

struct salvo_scan_dirid {
	dev_t dev;
	ino_t ino;
};

/* A path the caller named (or an item): every entry found below it is
 * local + its remote name past remote_len bytes, as the walk joins both
 * alike, so an entry keeps 4 bytes for its local path, not a copy. */
typedef struct salvo_scan_top {
	char *local;
	size_t remote_len;
} salvo_scan_top;

typedef struct salvo_scan {
	salvo_entry *entries; /* path = remote name */
	uint32_t *top;	      /* per entry: its named path in tops */
	size_t n, cap;
	salvo_scan_top *tops;
	size_t ntops, tops_cap;
	salvo_scan_skip *skips; /* in the order found */
	size_t nskips, skips_cap;
	uint32_t skipped_by[SALVO_SKIP_REASONS];
	uint32_t excluded; /* left out by an include or exclude glob */
	uint64_t total;	   /* stream bytes: every file, back to back */
	uint32_t files, dirs;
	/* o->checksum: every entry's BLAKE3 (a folder's zeros), from
	 * salvo_scan_run; else NULL */
	uint8_t (*digests)[SALVO_ENTRY_DIGEST_BYTES];
	/* the walk's own state */
	const salvo_send_opts *o; /* borrowed: the rules, *stop */
	size_t top_len; /* remote name length of the named folder walked */
	struct salvo_scan_dirid *ancestors; /* folders being walked */
	size_t depth, depth_cap;
} salvo_scan;

/* Scans o->paths (or, when o->items is not NULL, exactly those items)
 * under o's rules (links, include, exclude; send.h).  o->remote_dir,
 * if not NULL, prefixes every remote name.  Fills each entry's
 * stream_offset (files back to back in scan order), total, files and
 * dirs, and the skipped entries.  Returns 0 or a negative code with a
 * message naming the path in err: -errno for a named path that cannot be
 * read (or for running out of memory or descriptors), SALVO_ERR_PATH for
 * a named path whose name is refused, SALVO_ERR_INVAL for one that is
 * neither a file nor a folder or when two entries would arrive under one
 * name; SALVO_ERR_ABORTED once *o->stop (if not NULL) is set, looked at
 * before each entry, so Ctrl-C does not wait for a million-file walk.
 * With o->checksum it then reads every file once more for its BLAKE3
 * (sc->digests, 32 bytes a file, only then): a file that cannot be read
 * now fails the scan (-errno), and one whose size changed since is
 * hashed over its scanned size (its bytes past it are not sent either).
 * sc is to be freed either way. */
int salvo_scan_run(salvo_scan *sc, const salvo_send_opts *o, char *err,
		   size_t errlen);
void salvo_scan_free(salvo_scan *sc);

/* Entry i's local path into buf (cap > 0 bytes, NUL-terminated, cut when
 * short).  Returns its length, as snprintf does: >= cap means cut. */
size_t salvo_scan_local(const salvo_scan *sc, size_t i, char *buf, size_t cap);

/* Entry i's local path in a new string (the caller frees it), or NULL
 * when out of memory. */
char *salvo_scan_local_dup(const salvo_scan *sc, size_t i);

#endif
