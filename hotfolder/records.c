/*
 * A job's state changes and the journal records that make them durable:
 * a record per change (hf_journal), an fsync before anything irreversible
 * (hf_sync), and compaction down to what a restart needs.  The table's
 * lists follow each change (hf_set_state), and the status file is marked
 * due.
 */
#include "hotfolder/profile.h"

#include <string.h>

#include "common/core/error.h"
#include "common/io/sys.h"

void hf_journal(struct hf_profile *p, struct salvo_hf_entry *e, int type)
{
	struct salvo_hf_rec r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.type = type;
	r.path = e->path;
	r.path_len = e->path_len;
	r.size = e->job.st.size;
	r.mtime_ns = e->job.st.mtime_ns;
	if (type == SALVO_HF_REC_DONE && e->job.has_hash) {
		r.size = e->job.sent.size;
		r.mtime_ns = e->job.sent.mtime_ns;
		r.has_hash = 1;
		memcpy(r.hash, e->job.hash, 32);
	}
	rc = salvo_hf_journal_add(&p->jn, &r);
	if (rc)
		hf_error(p, "journal_error", "journal: cannot record %s: %s",
			 e->path, salvo_strerror(rc));
	e->journaled = (uint8_t)type;
}

void hf_sync(struct hf_profile *p)
{
	int rc = salvo_hf_journal_sync(&p->jn);

	if (rc)
		hf_error(p, "journal_error", "journal %s: %s", p->jn.path,
			 salvo_strerror(rc));
}

struct compact_it {
	struct hf_profile *p;
	struct salvo_hf_entry *e;
	int started;
};

/* Live records: what a restart needs (SENT awaiting a post-action, and
 * for keep what was sent). */
static int compact_next(void *ud, struct salvo_hf_rec *r)
{
	struct compact_it *it = ud;

	for (;;) {
		it->e =
		    salvo_hf_tab_next(&it->p->tab, it->started ? it->e : NULL);
		it->started = 1;
		if (!it->e)
			return 1;
		memset(r, 0, sizeof(*r));
		r->path = it->e->path;
		r->path_len = it->e->path_len;
		if (it->e->job.state == SALVO_HF_SENT) {
			r->type = SALVO_HF_REC_SENT;
			r->size = it->e->job.st.size;
			r->mtime_ns = it->e->job.st.mtime_ns;
			return 0;
		}
		if (it->p->pol.keep && it->e->job.has_hash) {
			r->type = SALVO_HF_REC_DONE;
			r->size = it->e->job.sent.size;
			r->mtime_ns = it->e->job.sent.mtime_ns;
			r->has_hash = 1;
			memcpy(r->hash, it->e->job.hash, 32);
			return 0;
		}
	}
}

void hf_compact(struct hf_profile *p)
{
	struct compact_it it = {p, NULL, 0};
	int rc;

	hf_sync(p);
	rc = salvo_hf_journal_compact(&p->jn, compact_next, &it);
	if (rc)
		hf_error(p, "journal_error",
			 "journal compaction failed: %s (journal kept)",
			 salvo_strerror(rc));
}

void hf_maybe_compact(struct hf_profile *p)
{
	if (p->jn.records > HF_COMPACT_MIN && p->jn.records > 4 * p->tab.n)
		hf_compact(p);
}

void hf_set_state(struct hf_profile *p, struct salvo_hf_entry *e, int old)
{
	if (e->job.state == SALVO_HF_QUEUED && old != SALVO_HF_QUEUED)
		e->job.deadline_ns =
		    salvo_now_ns(); /* queued at: batch linger */
	if (e->job.state == SALVO_HF_GONE) {
		/* DONE already means "forget" unless the policy is keep */
		if (e->journaled && e->journaled != SALVO_HF_REC_FORGET &&
		    (p->pol.keep || e->journaled != SALVO_HF_REC_DONE))
			hf_journal(p, e, SALVO_HF_REC_FORGET);
		salvo_hf_tab_del(&p->tab, e);
	} else {
		salvo_hf_tab_moved(&p->tab, e, old);
	}
	hf_status_touch(p->d);
}

/* settle deadline already passed (an aged file): decide now */
