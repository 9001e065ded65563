/*
 * Job table (see jobtab.h): chained hashing with FNV-1a, doubling at load
 * factor 1, and per-state lists threaded through the entries, so a job
 * costs one allocation however many structures it is in.
 */
#include "hotfolder/jobtab.h"

#include <stdlib.h>
#include <string.h>

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

int salvo_hf_tab_init(struct salvo_hf_tab *t)
{
	memset(t, 0, sizeof(*t));
	t->nbuckets = 1024;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	return t->buckets ? 0 : -1;
}

void salvo_hf_tab_free(struct salvo_hf_tab *t)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct salvo_hf_entry *e = t->buckets[i], *n;

		for (; e; e = n) {
			n = e->hnext;
			free(e);
		}
	}
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

struct salvo_hf_entry *salvo_hf_tab_find(const struct salvo_hf_tab *t,
					 const char *path)
{
	uint32_t h = fnv1a(path);
	struct salvo_hf_entry *e = t->buckets[h & (t->nbuckets - 1)];

	for (; e; e = e->hnext)
		if (e->hash == h && !strcmp(e->path, path))
			return e;
	return NULL;
}

static void grow(struct salvo_hf_tab *t)
{
	size_t nb = t->nbuckets * 2;
	struct salvo_hf_entry **b = calloc(nb, sizeof(*b));

	if (!b)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct salvo_hf_entry *e = t->buckets[i], *n;

		for (; e; e = n) {
			n = e->hnext;
			e->hnext = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

struct salvo_hf_entry *salvo_hf_tab_add(struct salvo_hf_tab *t,
					const char *path)
{
	size_t len = strlen(path);
	struct salvo_hf_entry *e;
	size_t b;

	if (len > 65535)
		return NULL;
	e = calloc(1, sizeof(*e) + len + 1);
	if (!e)
		return NULL;
	memcpy(e->path, path, len + 1);
	e->path_len = (uint16_t)len;
	e->hash = fnv1a(path);
	e->list = -1;
	e->job.state = SALVO_HF_IDLE;
	e->counted = SALVO_HF_IDLE;
	if (t->n >= t->nbuckets)
		grow(t);
	b = e->hash & (t->nbuckets - 1);
	e->hnext = t->buckets[b];
	t->buckets[b] = e;
	t->n++;
	t->count[SALVO_HF_IDLE]++;
	return e;
}

static int listed(int state)
{
	return state == SALVO_HF_SETTLING || state == SALVO_HF_QUEUED ||
	       state == SALVO_HF_FAILED;
}

static void unlink_list(struct salvo_hf_tab *t, struct salvo_hf_entry *e)
{
	struct salvo_hf_list *l;

	if (e->list < 0)
		return;
	l = &t->lists[e->list];
	if (e->prev)
		e->prev->next = e->next;
	else
		l->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	e->prev = e->next = NULL;
	e->list = -1;
}

static void insert(struct salvo_hf_tab *t, struct salvo_hf_entry *e)
{
	int s = e->job.state;
	struct salvo_hf_list *l = &t->lists[s];
	struct salvo_hf_entry *after = l->tail;

	if (s != SALVO_HF_QUEUED)
		while (after && after->job.deadline_ns > e->job.deadline_ns)
			after = after->prev;
	e->prev = after;
	e->next = after ? after->next : l->head;
	if (e->next)
		e->next->prev = e;
	else
		l->tail = e;
	if (after)
		after->next = e;
	else
		l->head = e;
	e->list = (int8_t)s;
}

void salvo_hf_tab_moved(struct salvo_hf_tab *t, struct salvo_hf_entry *e,
			int old)
{
	int s = e->job.state;

	(void)old; /* the entry remembers where it is counted */
	if (e->counted >= 0 && e->counted < SALVO_HF_NSTATES &&
	    t->count[e->counted])
		t->count[e->counted]--;
	if (s >= 0 && s < SALVO_HF_NSTATES)
		t->count[s]++;
	e->counted = (int8_t)s;
	/* a deadline may have moved within the same state */
	unlink_list(t, e);
	if (listed(s))
		insert(t, e);
}

void salvo_hf_tab_del(struct salvo_hf_tab *t, struct salvo_hf_entry *e)
{
	struct salvo_hf_entry **pp = &t->buckets[e->hash & (t->nbuckets - 1)];

	unlink_list(t, e);
	/* counted under the state it had before it went (e.g. FAILED), not
	 * under the state that made it go (GONE) */
	if (e->counted >= 0 && e->counted < SALVO_HF_NSTATES &&
	    t->count[e->counted])
		t->count[e->counted]--;
	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	t->n--;
	free(e);
}

struct salvo_hf_entry *salvo_hf_tab_next(const struct salvo_hf_tab *t,
					 const struct salvo_hf_entry *e)
{
	size_t b = 0;

	if (e) {
		if (e->hnext)
			return e->hnext;
		b = (e->hash & (t->nbuckets - 1)) + 1;
	}
	for (; b < t->nbuckets; b++)
		if (t->buckets[b])
			return t->buckets[b];
	return NULL;
}
