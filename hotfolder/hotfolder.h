/*
 * The hot folder daemon: watches the folders of the profiles of a config
 * (conf/config.h struct salvo_hotfolder) and sends what lands in them to
 * each profile's receiver with the sender engine, whose options come from
 * the config through salvo_conf_profile_send_opts (the mapping salvo send
 * uses: rate policy, window, everything), in batches, with a
 * journal that makes a restart (even after kill -9) lose nothing and send
 * nothing twice.  docs/HOTFOLDER.md describes the behaviour.
 *
 * One thread runs the loop: one epoll over each profile's inotify
 * descriptor, an eventfd that sessions signal when they end, and the
 * caller's stop descriptor; the epoll timeout is the next deadline (a
 * settle time, a retry, the batch linger or the status file), never a
 * fixed tick.  Each session (salvo_send_run) runs in a thread of its own,
 * at most max_sessions per profile.
 *
 * Files per profile, in its state folder (state_dir/NAME, or DIR/.salvo):
 *   journal   the records (hotfolder/journal.h)
 *   status    counts and the last error, rewritten as they change
 */
#ifndef SALVO_HOTFOLDER_H
#define SALVO_HOTFOLDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/core/log.h"
#include "conf/config.h"

struct salvo_hf_opts {
	/* borrowed, finished: the profiles (cfg->hotfolders) and every
	 * engine setting */
	const struct salvo_config *cfg;
	/* NULL: each profile keeps its state in DIR/.salvo; else in
	 * state_dir/NAME */
	const char *state_dir;
	/* one event per state change (message "NAME: ..."), also the
	 * engine's; called from the loop and the session threads at once
	 * (common/io/logsink.h is safe for that); NULL: none */
	salvo_log_fn log;
	void *log_ud;
	int verbose;	      /* also one event per file sent */
	int stop_fd;	      /* readable (e.g. a signalfd): stop */
	uint32_t batch_files; /* 0: 1000 files per session at most */
	uint64_t batch_bytes; /* 0: 4 GiB per session at most */
	/* live limits (sender/engine/live.h), e.g. from salvo watch
	 * --control: profile_live[i] for the sessions of cfg->hotfolders[i]
	 * (each with live as its parent), else live for all; NULL: none */
	struct salvo_send_live *live, *profile_live;
};

/*
 * Runs until stop_fd is readable (returns 0 once every session has ended
 * and the journals are synced) or every profile has lost its folder.
 * Returns 0, or a negative code with a sentence in err: a folder that
 * cannot be watched, a journal that cannot be opened (SALVO_ERR_BUSY:
 * another watcher runs on it), out of memory.
 */
int salvo_hotfolder_run(const struct salvo_hf_opts *o, char *err,
			size_t errlen);

/* The state folder of profile hf under opts (see above), into buf. */
int salvo_hotfolder_state_path(const struct salvo_hotfolder *hf,
			       const char *state_dir, char *buf, size_t n);

/* Copies the status file of hf to out.  0, or -errno (ENOENT: never
 * run; EINVAL: something other than a regular file has its name). */
int salvo_hotfolder_print_status(const struct salvo_hotfolder *hf,
				 const char *state_dir, FILE *out);

#endif
