/*
 * The jobs of one profile: a hash table by relative path, and one intrusive
 * list per waiting state: SETTLING and FAILED ordered by deadline (so the
 * next deadline is the head), QUEUED in arrival order.  Moving a job
 * between states is O(1) except for the sorted insert, which walks from the
 * tail (settle deadlines arrive nearly in order).
 *
 * Memory: one allocation per job, about 130 bytes plus its path.
 * Threading: one owner (the watcher's thread).
 */
#ifndef SALVO_HOTFOLDER_JOBTAB_H
#define SALVO_HOTFOLDER_JOBTAB_H

#include <stddef.h>
#include <stdint.h>

#include "hotfolder/job.h"

struct salvo_hf_entry {
	struct salvo_hf_job job;
	struct salvo_hf_entry *hnext;	    /* hash chain */
	struct salvo_hf_entry *prev, *next; /* list of its state */
	uint32_t hash;
	uint32_t scan_gen; /* last full scan that saw the file */
	int8_t list;	   /* the state whose list holds it, or -1 */
	int8_t counted;	   /* the state it is counted under in count[] */
	uint8_t journaled; /* the journal holds a record for it */
	uint16_t path_len;
	char path[]; /* relative to the watched folder */
};

struct salvo_hf_list {
	struct salvo_hf_entry *head, *tail;
};

struct salvo_hf_tab {
	struct salvo_hf_entry **buckets;
	size_t nbuckets, n;
	struct salvo_hf_list lists[SALVO_HF_NSTATES];
	size_t count[SALVO_HF_NSTATES]; /* jobs in each state */
};

int salvo_hf_tab_init(struct salvo_hf_tab *t);
void salvo_hf_tab_free(struct salvo_hf_tab *t);

struct salvo_hf_entry *salvo_hf_tab_find(const struct salvo_hf_tab *t,
					 const char *path);

/* A new entry for path (not present), state IDLE, in no list; NULL when
 * out of memory or the path is longer than 65535 bytes. */
struct salvo_hf_entry *salvo_hf_tab_add(struct salvo_hf_tab *t,
					const char *path);

/* Call after changing e->job.state (from old): moves e to the list of its
 * new state and keeps the counts. */
void salvo_hf_tab_moved(struct salvo_hf_tab *t, struct salvo_hf_entry *e,
			int old);

/* Removes e from its list and the table and frees it. */
void salvo_hf_tab_del(struct salvo_hf_tab *t, struct salvo_hf_entry *e);

/* Every entry, in no useful order: pass NULL first, then the last one;
 * e may be deleted after next was taken. */
struct salvo_hf_entry *salvo_hf_tab_next(const struct salvo_hf_tab *t,
					 const struct salvo_hf_entry *e);

#endif
