/*
 * Sender core: repairs that wait for an abandoned file's FILE_DONE.
 *
 * A file the caller gives up (salvo_sender_abandon) is read as zeros
 * from then on.  Its bytes that went out before went under the CRC of
 * their real bytes, and a repair of them now carries zeros under that
 * CRC: until the receiver has the file's flagged FILE_DONE it checks
 * the block by that CRC, the block fails, is fetched again whole, fails
 * again, and the third failure ends the session.  Once the receiver has
 * it, the file's blocks are checked no more by their CRC.  So a repair
 * that carries any byte of such a file waits until FEEDBACK's
 * digests_have passes the file (the receiver holds its flagged
 * FILE_DONE, or a digest it sent before, which the receiver replaces
 * while the file waits: "late", sender.c).  Repairs of other bytes,
 * also in the same blocks, go on: with the file's bytes as first sent
 * their blocks are whole.
 *
 * The core keeps no per-file stream offsets (a million files' would be
 * 8 MB): an abandoned file's span is read off the encoded manifest,
 * walking on from the last entry looked up.  The spans are kept by
 * stream offset with tag file + 1; files lie in the stream in manifest
 * order and digests_have is a prefix, so a range waits when the largest
 * tag it meets is above digests_have.  Waiting repairs are parked out
 * of the retransmission queue as they come to its front (take_retx),
 * and all go back when digests_have moves; those still waiting are
 * parked again.  The wait needs no data to end: the digests before the
 * file belong to bytes sent before its own, and the receiver counts
 * FILE_DONE as it takes them.
 */
#include "common/core/error.h"
#include "common/core/manifest.h"
#include "sender/core/ssess.h"

/* File i's size and first byte in the stream (*off).  The encoded
 * manifest is the sender's own and holds entry i. */
static uint64_t file_span(salvo_sender *s, uint32_t i, uint64_t *off)
{
	if (i < s->walk_i || !s->walk_pos) {
		s->walk_i = 0;
		s->walk_pos = SALVO_MANIFEST_HDR_BYTES;
		s->walk_off = 0;
	}
	for (;;) {
		size_t pos = s->walk_pos;
		uint64_t size = 0;
		uint16_t path_len;
		if (salvo_manifest_skip_entry(s->manifest, s->manifest_len,
					      &pos, &size, &path_len) ||
		    s->walk_i == i) {
			*off = s->walk_off;
			return size;
		}
		s->walk_pos = pos;
		s->walk_off += size;
		s->walk_i++;
	}
}

int ss_abandon_span(salvo_sender *s, uint32_t i)
{
	uint64_t off, size = file_span(s, i, &off);
	return salvo_rangeset_add(&s->fd_spans, off, off + size,
				  (uint64_t)i + 1);
}

int ss_repair_waits(const salvo_sender *s, uint64_t start, uint64_t end)
{
	return salvo_rangeset_max_tag(&s->fd_spans, start, end) >
	       s->digests_acked;
}

int ss_park(salvo_sender *s, salvo_rangeset *q, uint64_t start, uint64_t end)
{
	if (q == &s->data.retx && salvo_rangeset_add(&s->parked, start, end, 0))
		return SALVO_ERR_NOMEM;
	return salvo_rangeset_remove(q, start, end);
}

int ss_unpark(salvo_sender *s)
{
	salvo_rangeset_remove_below(&s->parked, s->data.cum);
	for (size_t k = 0; k < s->parked.n; k++)
		if (salvo_rangeset_add(&s->data.retx, s->parked.r[k].start,
				       s->parked.r[k].end, 0))
			return SALVO_ERR_NOMEM;
	salvo_rangeset_remove_below(&s->parked, UINT64_MAX);
	return 0;
}
