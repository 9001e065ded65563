/*
 * The per-file state machine of the hot folder (see job.h).  Everything
 * here is arithmetic on the job: the caller owns the clock, the file
 * system and the journal, which keeps every transition unit-testable.
 *
 * Completeness is "closed or moved in, then unchanged in size and mtime for
 * settle_ns": each touch pushes the deadline out, and expiry re-checks the
 * stat the caller took, so a writer that closes and reopens is not caught
 * between two writes.
 */
#include "hotfolder/job.h"

#include <string.h>

static void settle(struct salvo_hf_job *j, const struct salvo_hf_policy *p,
		   const struct salvo_hf_stat *st, uint64_t now, int aged)
{
	j->state = SALVO_HF_SETTLING;
	j->st = *st;
	j->deadline_ns = aged ? now : now + p->settle_ns;
}

void salvo_hf_job_init(struct salvo_hf_job *j, const struct salvo_hf_policy *p,
		       const struct salvo_hf_stat *st, uint64_t now, int aged)
{
	memset(j, 0, sizeof(*j));
	settle(j, p, st, now, aged);
}

int salvo_hf_job_touch(struct salvo_hf_job *j, const struct salvo_hf_policy *p,
		       const struct salvo_hf_stat *st, uint64_t now, int aged)
{
	switch (j->state) {
	case SALVO_HF_SENDING:
		/* the session decides when it ends */
		j->dirty = 1;
		break;
	case SALVO_HF_IDLE:
		if (j->has_hash && salvo_hf_stat_eq(st, &j->sent))
			break;
		settle(j, p, st, now, aged);
		break;
	case SALVO_HF_QUEUED:
		if (salvo_hf_stat_eq(st, &j->st) && aged)
			break;
		settle(j, p, st, now, aged);
		break;
	case SALVO_HF_SENT:
		/* changed before its post-action: not that version any more */
		if (salvo_hf_stat_eq(st, &j->st))
			break;
		settle(j, p, st, now, aged);
		break;
	case SALVO_HF_FAILED:
		if (salvo_hf_stat_eq(st, &j->st))
			break;
		settle(j, p, st, now, aged);
		break;
	case SALVO_HF_GONE:
		memset(j, 0, sizeof(*j));
		settle(j, p, st, now, aged);
		break;
	case SALVO_HF_REFUSED:
		j->attempts = 0;
		settle(j, p, st, now, aged);
		break;
	default: /* SETTLING */
		if (salvo_hf_stat_eq(st, &j->st) && aged)
			break;
		settle(j, p, st, now, aged);
		break;
	}
	return j->state;
}

int salvo_hf_job_expire(struct salvo_hf_job *j, const struct salvo_hf_policy *p,
			int exists, const struct salvo_hf_stat *st,
			uint64_t now)
{
	if (j->state != SALVO_HF_SETTLING && j->state != SALVO_HF_FAILED)
		return j->state;
	if (!exists) {
		j->state = SALVO_HF_GONE;
	} else if (!salvo_hf_stat_eq(st, &j->st)) {
		settle(j, p, st, now, 0);
	} else if (j->state == SALVO_HF_SETTLING && p->keep && j->has_hash &&
		   salvo_hf_stat_eq(st, &j->sent)) {
		j->state = SALVO_HF_IDLE; /* back as it was when last sent */
	} else {
		j->state = SALVO_HF_QUEUED;
	}
	return j->state;
}

const char *salvo_hf_refusal(int is_symlink, uint64_t nlink,
			     int allow_hardlinks)
{
	if (is_symlink)
		return "a symbolic link; salvo watch never follows links";
	if (nlink > 1 && !allow_hardlinks)
		return "it has other hard links (it may be a file from "
		       "outside the folder); allow_hardlinks: true "
		       "(--allow-hardlinks) sends it";
	return NULL;
}

int salvo_hf_job_refuse(struct salvo_hf_job *j, const struct salvo_hf_stat *st)
{
	if (j->state != SALVO_HF_SENDING) {
		j->state = SALVO_HF_REFUSED;
		j->st = *st;
		j->solo = 0;
		j->deadline_ns = 0;
	}
	return j->state;
}

int salvo_hf_job_start(struct salvo_hf_job *j)
{
	if (j->state == SALVO_HF_QUEUED) {
		j->state = SALVO_HF_SENDING;
		j->dirty = 0;
	}
	return j->state;
}

int salvo_hf_job_finish(struct salvo_hf_job *j, const struct salvo_hf_policy *p,
			enum salvo_hf_outcome out,
			const struct salvo_hf_stat *after, const uint8_t *hash,
			uint64_t now, uint64_t rnd)
{
	if (j->state != SALVO_HF_SENDING)
		return j->state;
	switch (out) {
	case SALVO_HF_OK:
	case SALVO_HF_UNCHANGED:
		if (j->dirty || !salvo_hf_stat_eq(after, &j->st)) {
			/* what the receiver holds may be a mix of two
			 * versions; the settled one replaces it */
			settle(j, p, after, now, 0);
			break;
		}
		j->attempts = 0;
		j->solo = 0;
		j->sent = j->st;
		if (hash) {
			memcpy(j->hash, hash, sizeof(j->hash));
			j->has_hash = 1;
		}
		j->state = out == SALVO_HF_OK ? SALVO_HF_SENT : SALVO_HF_IDLE;
		break;
	case SALVO_HF_LINK:
		j->state = SALVO_HF_QUEUED;
		break;
	case SALVO_HF_SPLIT:
		j->solo = 1;
		j->state = SALVO_HF_QUEUED;
		break;
	case SALVO_HF_REFUSE:
		j->state = SALVO_HF_REFUSED;
		if (after)
			j->st = *after;
		j->solo = 0;
		break;
	case SALVO_HF_FAIL:
		if (j->attempts < UINT32_MAX)
			j->attempts++;
		j->state = SALVO_HF_FAILED;
		j->deadline_ns =
		    now + salvo_hf_backoff_ns(p->retry_min_ns, p->retry_max_ns,
					      j->attempts, rnd);
		break;
	default: /* VANISHED */
		j->state = SALVO_HF_GONE;
		break;
	}
	if (j->dirty && j->state == SALVO_HF_QUEUED)
		settle(j, p, after ? after : &j->st, now, 0);
	j->dirty = 0;
	return j->state;
}

int salvo_hf_job_posted(struct salvo_hf_job *j, const struct salvo_hf_policy *p)
{
	if (j->state == SALVO_HF_SENT)
		j->state = p->keep ? SALVO_HF_IDLE : SALVO_HF_GONE;
	return j->state;
}

uint64_t salvo_hf_backoff_ns(uint64_t min_ns, uint64_t max_ns, uint32_t attempt,
			     uint64_t rnd)
{
	uint64_t d = min_ns ? min_ns : 1;

	if (max_ns < d)
		max_ns = d;
	for (uint32_t i = 1; i < attempt && d < max_ns; i++)
		d = d > max_ns / 2 ? max_ns : d * 2;
	if (d > max_ns)
		d = max_ns;
	return d - d / 2 + rnd % (d / 2 + 1);
}

const char *salvo_hf_state_name(int state)
{
	static const char *const names[SALVO_HF_NSTATES] = {
	    "idle", "settling", "queued",  "sending",
	    "sent", "failed",	"refused", "gone"};

	return state >= 0 && state < SALVO_HF_NSTATES ? names[state] : "?";
}
