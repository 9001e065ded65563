/*
 * Receiver core, data path: reassembling the manifest, accepting DATA,
 * block and file completion, digests.
 *
 * A DATA datagram is accepted only if it fits the session exactly: a
 * block that exists, an offset on a datagram boundary, the exact length a
 * datagram at that offset must have, the same block CRC as the block's
 * other datagrams.  With compression agreed (SALVO_CAP_LZ4) a datagram
 * stands for any run [offset, offset + stream_len) inside its block
 * (pieces end where the compressor filled a datagram, and repairs start
 * where a lost piece started), raw ones at most a payload long; an LZ4
 * piece is inflated, only when some of its bytes are new, into the
 * engine's buffer of exactly the declared length, and one that does not
 * inflate to exactly that is dropped like a damaged datagram (the range
 * stays missing and is fetched again).  Then its bytes are new, partly
 * new (a repair overlapping a late original: only the missing runs are
 * written) or a duplicate; new bytes go to the engine (split across
 * files where small files share a block) and are marked arrived.  A block with
 * all its bytes goes to the engine for a CRC check; a file whose blocks all
 * verified and whose digest arrived goes to the engine to be hashed and
 * committed.
 */
#include <string.h>

#include "common/core/error.h"
#include "common/core/lz4piece.h"
#include "receiver/core/rdata.h"

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void oom(salvo_rsess *s, uint64_t now)
{
	rsess_fail(s, SALVO_ERR_NOMEM, 0, SALVO_FILE_INDEX_NONE,
		   "receiver out of memory", now);
}

void rdata_free(salvo_rsess *s)
{
	const salvo_mem *mem = s->r->mem;
	salvo_rxstream_free(&s->mrx);
	salvo_rxstream_free(&s->drx);
	salvo_mem_free(mem, s->mbuf);
	s->mbuf = NULL;
	if (s->have_manifest)
		salvo_manifest_free(&s->m);
	s->have_manifest = 0;
	salvo_mem_free(mem, s->bcrc);
	salvo_mem_free(mem, s->bstate);
	salvo_mem_free(mem, s->bfails);
	salvo_mem_free(mem, s->bpartial);
	salvo_mem_free(mem, s->fpending);
	salvo_mem_free(mem, s->fstate);
	salvo_mem_free(mem, s->fhave);
	salvo_mem_free(mem, s->digest);
	s->bcrc = NULL;
	s->bstate = s->bfails = s->bpartial = s->fstate = s->fhave = NULL;
	rverdict_free(s);
	s->fpending = NULL;
	s->digest = NULL;
}

static uint64_t block_len(const salvo_rsess *s, uint64_t b)
{
	uint64_t start = b * s->block_bytes;
	return min64(s->block_bytes, s->total - start);
}

static void advance_digests(salvo_rsess *s)
{
	while (s->digests_have < s->m.count && s->fhave[s->digests_have])
		s->digests_have++;
}

void rdata_maybe_complete(salvo_rsess *s, uint64_t now)
{
	if (s->state != RS_DATA)
		return;
	/* files that failed alone count once the sender knows of them */
	if (s->files_done + s->late_n < s->files_regular ||
	    !rverdict_late_held(s))
		return;
	/* the engine makes directories durable in session_end, before the
	 * sender hears COMPLETE */
	s->state = RS_COMPLETE;
	s->linger_until = now + RS_LINGER_NS;
	s->r->cb.session_end(s->r->cb.ud, s, 0, "");
	rsess_feedback(s, now);
}

/* The sender abandoned file i (FILE_DONE with SALVO_FD_F_ABANDONED)
 * and its every block is verified (the zeros it sent for the missing
 * bytes keep the blocks it shares with other files whole): it fails
 * alone, like a file that cannot be stored, its part-file dropped. */
static void abandon_file(salvo_rsess *s, uint32_t i, uint64_t now)
{
	const uint8_t *d = s->digest[i];
	int err = (int)(((uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
			 (uint32_t)d[2] << 8 | d[3]) &
			0xfff);
	s->fstate[i] = FILE_DONE;
	if (s->r->cb.drop_file)
		s->r->cb.drop_file(s->r->cb.ud, s, i, err ? err : 5);
	if (rverdict_late_fail(s, i, err ? -err : -5, now))
		rsess_fail(s, SALVO_ERR_NOMEM, 0, i, "receiver out of memory",
			   now);
	else
		rdata_maybe_complete(s, now);
}

/* File i is abandoned: the sender cannot read its bytes again, and sends
 * zeros for them, so a block of it sent whole before and repaired (or
 * fetched again) since no longer matches the CRC its datagrams carry.
 * Its blocks not yet verified are checked no more by their CRC: the
 * bytes of the other files in them are checked by those files' digests
 * when they commit, and this file is never committed. */
static void skip_block_crcs(salvo_rsess *s, uint32_t i)
{
	const salvo_entry *e = &s->m.entries[i];
	if (!e->size)
		return;
	uint64_t first = e->stream_offset / s->block_bytes;
	uint64_t last = (e->stream_offset + e->size - 1) / s->block_bytes;
	for (uint64_t b = first; b <= last; b++)
		if (s->bstate[b] != BLK_VERIFIED) {
			s->bpartial[b] = 1;
			s->bfails[b] = 0;
		}
}

static void maybe_finalize(salvo_rsess *s, uint32_t i, uint64_t now)
{
	if (s->m.entries[i].type != SALVO_ENTRY_FILE || s->fpending[i] ||
	    !s->fhave[i])
		return;
	if (s->fstate[i] == FILE_ABANDONED) {
		abandon_file(s, i, now);
		return;
	}
	if (s->fstate[i] != FILE_PENDING)
		return;
	s->fstate[i] = FILE_FINALIZING;
	s->r->cb.finalize_file(s->r->cb.ud, s, i, s->digest[i]);
}

/* Sets up the data phase once the manifest is decoded.  Returns 0 or an
 * error (and fails the session). */
static int start_data(salvo_rsess *s, uint64_t now)
{
	const salvo_mem *mem = s->r->mem;
	uint32_t n = s->m.count ? s->m.count : 1;
	s->nblocks = (s->total + s->block_bytes - 1) / s->block_bytes;
	size_t nb = s->nblocks ? (size_t)s->nblocks : 1;
	s->bcrc = salvo_mem_array(mem, nb, sizeof(uint32_t));
	s->bstate = salvo_mem_alloc(mem, nb);
	s->bfails = salvo_mem_alloc(mem, nb);
	s->bpartial = salvo_mem_alloc(mem, nb);
	s->fpending = salvo_mem_array(mem, n, sizeof(uint32_t));
	s->fstate = salvo_mem_alloc(mem, n);
	s->fhave = salvo_mem_alloc(mem, n);
	s->digest = salvo_mem_array(mem, n, SALVO_DIGEST_BYTES);
	if (!s->bcrc || !s->bstate || !s->bfails || !s->bpartial ||
	    !s->fpending || !s->fstate || !s->fhave || !s->digest) {
		oom(s, now);
		return SALVO_ERR_NOMEM;
	}
	memset(s->bstate, BLK_EMPTY, nb);
	memset(s->bfails, 0, nb);
	memset(s->bpartial, 0, nb);
	s->files_regular = 0;
	for (uint32_t i = 0; i < s->m.count; i++) {
		const salvo_entry *e = &s->m.entries[i];
		/* a file the verdict leaves out is done as it is */
		int dir = e->type == SALVO_ENTRY_DIR || rverdict_is_out(s, i);
		s->fhave[i] = (uint8_t)dir;
		s->fstate[i] = dir ? FILE_DONE : FILE_PENDING;
		s->fpending[i] = 0;
		if (!dir)
			s->files_regular++;
		if (e->size) {
			uint64_t first = e->stream_offset / s->block_bytes;
			uint64_t last =
			    (e->stream_offset + e->size - 1) / s->block_bytes;
			s->fpending[i] = (uint32_t)(last - first + 1);
		}
	}
	if (rverdict_start(s, now)) {
		oom(s, now);
		return SALVO_ERR_NOMEM;
	}
	advance_digests(s);
	s->state = RS_DATA;
	return 0;
}

void rdata_on_manifest(salvo_rsess *s, const salvo_pkt_manifest *m,
		       uint64_t now)
{
	salvo_rxstream *x = &s->mrx;
	if (s->have_manifest) { /* decoded; waiting for the engine */
		s->r->st.duplicates++;
		return;
	}
	if (m->total != s->manifest_bytes) {
		s->r->st.unknown++;
		return;
	}
	/* allocated with the first chunk, so a half-open session (RESP
	 * sent, nothing back yet) holds no manifest buffer */
	if (!s->mbuf && !(s->mbuf = salvo_mem_alloc(s->r->mem, m->total))) {
		oom(s, now);
		return;
	}
	uint64_t start = m->offset, end = start + m->len;
	if (!salvo_rxstream_is_new(x, start, end)) {
		s->r->st.duplicates++;
		return;
	}
	/* chunks may not line up with earlier ones only if the sender is
	 * broken; copying is idempotent, so overlap is harmless */
	memcpy(s->mbuf + start, m->bytes, m->len);
	int gap = 0;
	if (salvo_rxstream_mark(x, start, end, now, &gap)) {
		oom(s, now);
		return;
	}
	s->data_since_fb = 1;
	if (gap)
		rsess_schedule_feedback(s, now + rsess_reorder_window(s));
	if (!salvo_rxstream_is_complete(x))
		return;

	uint32_t bad = 0;
	const char *why = NULL;
	int err = salvo_manifest_decode(&s->m, s->r->mem, s->mbuf,
					s->manifest_bytes, &bad, &why);
	char msg[SALVO_ERROR_MSG_MAX];
	if (err) {
		rsess_strlcpy(msg, "invalid manifest: ", sizeof(msg));
		rsess_strlcat(msg, why, sizeof(msg));
		rsess_fail(s, err == SALVO_ERR_NOMEM ? err : SALVO_ERR_PATH, 0,
			   bad, msg, now);
		return;
	}
	s->have_manifest = 1;
	salvo_mem_free(s->r->mem, s->mbuf);
	s->mbuf = NULL;
	if (s->m.count != s->file_count || s->m.total_bytes != s->total) {
		rsess_fail(s, SALVO_ERR_MALFORMED, 0, SALVO_FILE_INDEX_NONE,
			   "manifest disagrees with INIT", now);
		return;
	}
	/* the engine first: it may refuse the manifest (its memory budget,
	 * receiver/core/budget.h) before the block tables are allocated */
	msg[0] = 0;
	s->preparing = 1;
	err = s->r->cb.prepare(s->r->cb.ud, s, &s->m, msg, sizeof(msg));
	if (err != SALVO_PREPARE_LATER) /* else salvo_receiver_prepared */
		rdata_prepared(s, err, msg, now);
}

void rdata_prepared(salvo_rsess *s, int err, const char *msg, uint64_t now)
{
	s->preparing = 0;
	if (err) {
		rsess_fail(s, SALVO_ERR_IO, err, SALVO_FILE_INDEX_NONE,
			   msg && msg[0] ? msg
					 : "receiver could not prepare files",
			   now);
		return;
	}
	if (start_data(s, now))
		return;
	for (uint32_t i = 0; i < s->m.count; i++)
		maybe_finalize(s, i, now);
	/* what is held and decided first, then phase DATA tells the
	 * sender to go on */
	rverdict_send(s, now, 1);
	rsess_feedback(s, now);
	if (s->state == RS_DATA)
		rdata_maybe_complete(s, now);
}

/* Writes payload (stream bytes [off, off+len)) to the files it spans. */
static int write_stream(salvo_rsess *s, uint64_t off, const uint8_t *p,
			size_t len, uint64_t now)
{
	uint32_t i = salvo_manifest_locate(&s->m, off);
	while (len) {
		const salvo_entry *e = &s->m.entries[i];
		if (e->size == 0 || off >= e->stream_offset + e->size) {
			i++;
			continue;
		}
		uint64_t in = off - e->stream_offset;
		size_t n = (size_t)min64(len, e->size - in);
		char msg[SALVO_ERROR_MSG_MAX];
		msg[0] = 0;
		int err = s->r->cb.write(s->r->cb.ud, s, i, in, p, n, msg,
					 sizeof(msg));
		if (err) {
			rsess_fail(s, SALVO_ERR_IO, err, i,
				   msg[0] ? msg : "receiver write failed", now);
			return err;
		}
		off += n;
		p += n;
		len -= n;
		i++;
	}
	return 0;
}

/* Does d fit block of blen bytes, as this session's datagrams must? */
static int data_fits(const salvo_rsess *s, const salvo_pkt_data *d, int lz4,
		     uint64_t blen)
{
	if (!(s->caps & SALVO_CAP_LZ4))
		return !lz4 && d->offset % s->payload == 0 &&
		       d->offset < blen &&
		       d->payload_len == min64(s->payload, blen - d->offset);
	if (d->offset >= blen || d->stream_len > blen - d->offset)
		return 0;
	return lz4 ? d->payload_len <= s->payload - 4
		   : d->payload_len <= s->payload;
}

/* Writes the bytes of [start, end) (p: their bytes) that have not
 * arrived and marks them.  0, or an error (the session failed). */
static int take_new(salvo_rsess *s, uint64_t start, uint64_t end,
		    const uint8_t *p, uint64_t now, int *gap)
{
	salvo_rxstream *x = &s->drx;
	uint64_t pos = start;
	while (pos < end) {
		uint64_t a, b;
		if (pos >= x->known_end) {
			a = pos;
			b = end;
		} else {
			size_t i = salvo_rangeset_lower_bound(&x->missing, pos);
			if (i < x->missing.n && x->missing.r[i].start < end) {
				const salvo_trange *r = &x->missing.r[i];
				a = r->start > pos ? r->start : pos;
				b = min64(r->end, end);
			} else if (end > x->known_end) {
				a = x->known_end;
				b = end;
			} else {
				break;
			}
		}
		if (write_stream(s, a, p + (a - start), (size_t)(b - a), now))
			return SALVO_ERR_IO;
		if (salvo_rxstream_mark(x, a, b, now, gap)) {
			oom(s, now);
			return SALVO_ERR_NOMEM;
		}
		pos = b;
	}
	return 0;
}

/* The piece's bytes have some not arrived yet? */
static int has_new(const salvo_rxstream *x, uint64_t start, uint64_t end)
{
	if (end > x->known_end)
		return 1;
	return salvo_rangeset_intersects(&x->missing, start, end);
}

void rdata_on_data(salvo_rsess *s, const salvo_pkt *p, uint64_t now)
{
	const salvo_pkt_data *d = &p->u.data;
	salvo_receiver_stats *st = &s->r->st;
	int lz4 = (p->hdr.flags & SALVO_DATA_F_LZ4) != 0;
	if (d->block >= s->nblocks) {
		st->unknown++;
		return;
	}
	uint64_t blen = block_len(s, d->block);
	if (!data_fits(s, d, lz4, blen)) {
		st->unknown++;
		return;
	}
	uint8_t *bs = &s->bstate[d->block];
	if (*bs == BLK_VERIFYING || *bs == BLK_VERIFIED) {
		st->duplicates++;
		return;
	}
	if (s->bpartial[d->block]) {
		/* partly held: its CRC covers bytes never written here, and
		 * the sender may send its rest with another CRC than the
		 * early data had (or none) */
		*bs = BLK_RECEIVING;
	} else if (*bs == BLK_EMPTY) {
		s->bcrc[d->block] = d->block_crc;
		*bs = BLK_RECEIVING;
	} else if (s->bcrc[d->block] != d->block_crc) {
		st->unknown++; /* not the block we are assembling */
		return;
	}
	uint64_t bstart = (uint64_t)d->block * s->block_bytes;
	uint64_t start = bstart + d->offset, end = start + d->stream_len;
	if (!has_new(&s->drx, start, end)) {
		st->duplicates++;
		return;
	}
	const uint8_t *bytes = d->payload;
	if (lz4) {
		uint8_t *buf =
		    s->r->cb.inflate_buf(s->r->cb.ud, s, d->stream_len);
		if (!buf || salvo_lz4piece_inflate(d->payload, d->payload_len,
						   buf, d->stream_len)) {
			st->inflate_bad++;
			return;
		}
		st->inflated++;
		bytes = buf;
	}
	/* a block's first transmission goes out in order: what arrives late
	 * after its hole was reportable is reordering, and the block's bytes
	 * before it were sent */
	int first = !(p->hdr.flags & SALVO_DATA_F_RETX);
	if (first) {
		uint64_t late = salvo_rxstream_late(&s->drx, start, end, now);
		if (late > s->reorder_ns)
			s->reorder_ns = late;
	}
	int gap = 0;
	if (salvo_rxstream_is_new(&s->drx, start, end)) {
		if (write_stream(s, start, bytes, d->stream_len, now))
			return;
		if (salvo_rxstream_mark(&s->drx, start, end, now, &gap)) {
			oom(s, now);
			return;
		}
	} else if (take_new(s, start, end, bytes, now, &gap)) {
		return;
	}
	if (first &&
	    salvo_rxstream_sent_before(&s->drx, bstart, start, now, &gap)) {
		oom(s, now);
		return;
	}
	st->datagrams++;
	s->datagrams++;
	s->data_since_fb = 1;
	rsess_schedule_feedback(s, s->last_fb + rsess_feedback_interval(s));
	if (gap)
		rsess_schedule_feedback(s, now + rsess_followup(s));
	if (s->drx.known_end >= bstart + blen &&
	    !salvo_rangeset_intersects(&s->drx.missing, bstart,
				       bstart + blen)) {
		*bs = BLK_VERIFYING;
		s->r->cb.verify_block(s->r->cb.ud, s, d->block, bstart,
				      (uint32_t)blen, s->bcrc[d->block],
				      !s->bpartial[d->block]);
	}
}

void rdata_block_result(salvo_rsess *s, uint32_t block, int ok, uint64_t now)
{
	if (block >= s->nblocks || s->bstate[block] != BLK_VERIFYING)
		return;
	uint64_t bstart = (uint64_t)block * s->block_bytes;
	uint64_t bend = bstart + block_len(s, block);
	/* its CRC stopped counting while it was checked (skip_block_crcs) */
	if (!ok && s->bpartial[block])
		ok = 1;
	if (!ok) {
		s->r->st.block_failures++;
		if (++s->bfails[block] >= RS_MAX_BLOCK_FAILURES) {
			rsess_fail(s, SALVO_ERR_SOURCE_CHANGED, 0,
				   salvo_manifest_locate(&s->m, bstart),
				   "a block failed verification repeatedly "
				   "(source changing during transfer?)",
				   now);
			return;
		}
		s->bstate[block] = BLK_RECEIVING;
		if (salvo_rxstream_unmark(&s->drx, bstart, bend))
			oom(s, now);
		rsess_schedule_feedback(s, now);
		return;
	}
	s->bstate[block] = BLK_VERIFIED;
	for (uint32_t i = salvo_manifest_locate(&s->m, bstart);
	     i < s->m.count && s->m.entries[i].stream_offset < bend; i++) {
		const salvo_entry *e = &s->m.entries[i];
		if (!e->size || e->stream_offset + e->size <= bstart)
			continue;
		if (s->fpending[i])
			s->fpending[i]--;
		maybe_finalize(s, i, now);
		if (s->state != RS_DATA)
			return;
	}
}

void rdata_on_file_done(salvo_rsess *s, const salvo_pkt_file_done *f,
			int abandoned, uint64_t now)
{
	for (uint32_t k = 0; k < f->count; k++) {
		uint32_t i = f->first + k;
		if (i >= s->m.count)
			break;
		if (s->m.entries[i].type != SALVO_ENTRY_FILE)
			continue;
		/* a digest held already: only a later abandon (a repair
		 * re-read the source short) replaces it, while the file
		 * waits for its blocks; one whose blocks all verified is
		 * checked by that digest (and committed if it matches) */
		if (s->fhave[i] && (!abandoned || s->fstate[i] != FILE_PENDING))
			continue;
		memcpy(s->digest[i],
		       f->digests + (size_t)k * SALVO_DIGEST_BYTES,
		       SALVO_DIGEST_BYTES);
		s->fhave[i] = 1;
		if (abandoned && s->fstate[i] == FILE_PENDING) {
			s->fstate[i] = FILE_ABANDONED;
			skip_block_crcs(s, i);
		}
		maybe_finalize(s, i, now);
		if (s->state != RS_DATA)
			return;
	}
	advance_digests(s);
}

void rdata_file_result(salvo_rsess *s, uint32_t file, int result,
		       const char *msg, uint64_t now)
{
	if (file >= s->m.count || s->fstate[file] != FILE_FINALIZING)
		return;
	if (result && result != SALVO_ERR_VERIFY && result < 0 &&
	    result > -4096) {
		/* this file alone could not be stored (-errno): the others
		 * go on, the sender hears its verdict FAILED */
		s->fstate[file] = FILE_DONE;
		if (rverdict_late_fail(s, file, result, now))
			rsess_fail(s, SALVO_ERR_NOMEM, 0, file,
				   "receiver out of memory", now);
		else
			rdata_maybe_complete(s, now);
		return;
	}
	if (result) {
		char buf[SALVO_ERROR_MSG_MAX];
		if (msg && msg[0]) {
			rsess_strlcpy(buf, msg, sizeof(buf));
		} else {
			rsess_strlcpy(
			    buf, "file failed verification: ", sizeof(buf));
			rsess_strlcat(buf, s->m.entries[file].path,
				      sizeof(buf));
		}
		rsess_fail(s,
			   result == SALVO_ERR_VERIFY ? SALVO_ERR_VERIFY
						      : SALVO_ERR_IO,
			   result == SALVO_ERR_VERIFY ? 0 : result, file, buf,
			   now);
		return;
	}
	s->fstate[file] = FILE_DONE;
	s->files_done++;
	rdata_maybe_complete(s, now);
}
