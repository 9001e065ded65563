/*
 * Turning the user's paths into a manifest: files and directories, each
 * with its local path, its name at the receiver, size, mode and mtime.
 * Folders are walked recursively in name order; symlinks and special
 * files inside a tree are skipped and counted.
 */
#ifndef SALVO_SCAN_H
#define SALVO_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/manifest.h"
#include "sender/engine/send.h"

typedef struct salvo_scan {
	salvo_entry *entries; /* path = remote name */
	char **local;	      /* local path of each entry */
	size_t n, cap;
	size_t skipped; /* symlinks, sockets... left out */
	uint64_t total;	/* stream bytes: every file, back to back */
	uint32_t files, dirs;
} salvo_scan;

/* Scans paths (or, when items is not NULL, exactly those items).  dest,
 * if not NULL, prefixes every remote name.  Fills each entry's
 * stream_offset (files back to back in scan order), total, files and
 * dirs.  Returns 0 or a negative code with a message naming the path in
 * err; SALVO_ERR_INVAL when two entries would arrive under one name. */
int salvo_scan_run(salvo_scan *sc, const char *const *paths, size_t npaths,
		   const salvo_send_item *items, size_t nitems,
		   const char *dest, char *err, size_t errlen);
void salvo_scan_free(salvo_scan *sc);

#endif
