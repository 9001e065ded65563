/*
 * Work item -> sealed datagrams (see emit.h).  A cursor walks the ranges
 * of the item; each call hands out at most one batch, so the caller
 * books the pacer, waits, sends and comes back with the same buffers:
 * memory per sender thread is one batch of datagrams, whatever the block
 * size.  Each datagram is copied once, from the block buffer into the
 * batch buffer, and encrypted there in place; the packet number is the
 * lane's next, so a retransmission is a new packet with a new number.
 * An LZ4 piece is compressed straight into its place in the batch
 * buffer; one that does not pay is overwritten by the raw datagram.
 */
#include "sender/core/emit.h"

#include <string.h>

#include "common/core/crc32c.h"
#include "common/core/error.h"
#include "common/core/limits.h"

uint32_t salvo_emit_batch_for_rate(uint32_t batch_max, uint64_t rate_bps,
				   uint32_t datagram_bytes, uint32_t overhead)
{
	if (!batch_max)
		batch_max = 1;
	if (!rate_bps)
		return batch_max;
	uint64_t wire = salvo_emit_wire_bytes(datagram_bytes, overhead);
	uint64_t fit = rate_bps / 8000 / wire;
	uint64_t floor = SALVO_EMIT_BATCH_MIN_BYTES / wire;
	if (fit < floor)
		fit = floor;
	if (!fit)
		fit = 1;
	return fit >= batch_max ? batch_max : (uint32_t)fit;
}

void salvo_emit_init(salvo_emit *e, const salvo_work *w, const void *buf,
		     uint32_t session, salvo_aead *aead, uint8_t lane,
		     uint32_t datagram_bytes, uint32_t overhead, uint32_t batch)
{
	*e = (salvo_emit){.w = w,
			  .buf = buf,
			  .aead = aead,
			  .lane = lane,
			  .session = session,
			  .datagram_bytes = datagram_bytes,
			  .payload = salvo_wire_payload_bytes(datagram_bytes),
			  .overhead = overhead,
			  .batch = batch ? batch : 1};
	if (w->is_new && w->nranges)
		e->block_crc = salvo_crc32c(0, buf, w->ranges[0].len);
}

static uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

void salvo_emit_compress(salvo_emit *e, int mode)
{
	e->compress = e->payload > 4 ? mode : SALVO_COMPRESS_OFF;
	e->raw_run = 0;
	e->probe_gap = 0;
	e->in_cap = min32(4 * e->payload, SALVO_DATA_LZ4_MAX_BYTES);
}

void salvo_emit_compress_level(salvo_emit *e, void *hc_state, int level)
{
	e->hc_state = level > 0 ? hc_state : NULL;
	e->hc_level = e->hc_state ? level : 0;
}

/* Tries to compress src[0, left) into q's LZ4 payload.  Returns the
 * piece's length (its stream bytes in *n), or 0 to send raw. */
static uint32_t try_piece(salvo_emit *e, const uint8_t *src, uint32_t left,
			  uint8_t *q, uint32_t *n)
{
	if (e->raw_run) {
		e->raw_run--;
		return 0;
	}
	uint32_t raw = min32(left, e->payload), used, c;
	uint8_t *dst = q + SALVO_DATA_LZ4_HDR_BYTES;
	/* after a miss, a small probe first: a fifth of the work on data
	 * that still does not compress */
	if (e->probe_gap && e->payload > 4 * SALVO_EMIT_PROBE_BYTES) {
		uint32_t p = min32(left, SALVO_EMIT_PROBE_BYTES);
		c = salvo_lz4piece_compress(src, min32(left, 4 * p), dst, p,
					    &used);
		if (!c || !salvo_lz4piece_pays(used, c, p))
			goto miss;
	}
	if (e->hc_level)
		c = salvo_lz4piece_compress_hc(e->hc_state, e->hc_level, src,
					       min32(left, e->in_cap), dst,
					       e->payload - 4, &used);
	else
		c = salvo_lz4piece_compress(src, min32(left, e->in_cap), dst,
					    e->payload - 4, &used);
	if (!c || !salvo_lz4piece_pays(used, c, raw)) {
	miss:
		/* LZ4 on incompressible input costs about the input it is
		 * offered: back to a few payloads' worth (zeros had grown
		 * it to 64 KiB) */
		e->in_cap = min32(4 * e->payload, SALVO_DATA_LZ4_MAX_BYTES);
		if (e->compress == SALVO_COMPRESS_AUTO) {
			e->probe_gap = e->probe_gap
					   ? min32(2 * e->probe_gap,
						   SALVO_EMIT_PROBE_MAX_DGRAMS)
					   : SALVO_EMIT_PROBE_MIN_DGRAMS;
			e->raw_run = e->probe_gap;
		}
		return 0;
	}
	e->probe_gap = 0;
	/* offer twice what this piece took: zeros ramp up to the limit,
	 * text settles near its ratio without paying for a long input */
	e->in_cap = min32(2 * used, SALVO_DATA_LZ4_MAX_BYTES);
	if (e->in_cap < e->payload)
		e->in_cap = e->payload;
	*n = used;
	return c;
}

uint32_t salvo_emit_next(salvo_emit *e, uint8_t *out, salvo_emit_dgram *d,
			 uint64_t *booking)
{
	const salvo_work *w = e->w;
	uint32_t n = 0;
	uint64_t bytes = 0;
	uint8_t flags = w->is_new ? 0 : SALVO_DATA_F_RETX;
	while (!e->err && n < e->batch && e->range < w->nranges) {
		const salvo_work_range *r = &w->ranges[e->range];
		if (e->off >= r->len) {
			e->pos += r->len;
			e->range++;
			e->off = 0;
			if (e->compress == SALVO_COMPRESS_AUTO)
				e->raw_run = 0; /* a new range: probe it */
			continue;
		}
		uint32_t left = r->len - e->off;
		const uint8_t *src = e->buf + e->pos + e->off;
		uint8_t *q = out + (size_t)n * e->datagram_bytes;
		uint32_t len = min32(left, e->payload);
		uint32_t body =
		    e->compress ? try_piece(e, src, left, q, &len) : 0;
		uint64_t pn = salvo_aead_next_pn(e->aead);
		uint32_t hl = salvo_wire_data_header(
		    q, e->session, flags | (body ? SALVO_DATA_F_LZ4 : 0),
		    e->lane, pn, r->block, r->offset + e->off,
		    w->is_new ? e->block_crc : r->block_crc, len);
		if (!body) {
			memcpy(q + hl, src, len);
			body = len;
		} else {
			e->lz4_datagrams++;
		}
		e->err = salvo_aead_seal(e->aead, pn, q, SALVO_HDR_BYTES,
					 q + SALVO_HDR_BYTES,
					 hl - SALVO_HDR_BYTES + body);
		if (e->err)
			break;
		salvo_emit_dgram *g = &d[n++];
		g->out_offset = (uint32_t)(q - out);
		g->len = hl + body + SALVO_TAG_BYTES;
		g->payload = len;
		bytes += salvo_emit_wire_bytes(g->len, e->overhead);
		e->off += len;
		e->datagrams++;
		e->wire_bytes += g->len;
		e->stream_bytes += len;
	}
	*booking = bytes;
	return e->err ? 0 : n;
}

uint64_t salvo_emit_count(const salvo_work *w, uint32_t datagram_bytes)
{
	uint32_t payload = salvo_wire_payload_bytes(datagram_bytes);
	uint64_t n = 0;
	for (uint32_t i = 0; i < w->nranges; i++)
		n += (w->ranges[i].len + (uint64_t)payload - 1) / payload;
	return n;
}

int salvo_emit_pick_datagram(uint32_t asked, uint32_t mtu, int v6,
			     uint32_t *out)
{
	if (!mtu)
		mtu = SALVO_MTU_DEFAULT_BYTES;
	uint32_t fit = salvo_datagram_for_mtu(mtu, v6);
	*out = asked ? asked : fit;
	if (!*out || (v6 && asked > fit))
		return SALVO_ERR_INVAL;
	return 0;
}
