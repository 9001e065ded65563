/*
 * Encoding and checking resume maps (rmap.h).  The decoder trusts
 * nothing: a map is read from a folder only this receiver writes, but a
 * crash mid-write, a full disk or a stray edit must make it refused, not
 * half-believed, so every field is checked and the CRC32C covers all of
 * it.  The identity is compared field by field, then by digest, so a map
 * whose name collides with another file's stem is refused too.
 */
#include "receiver/core/rmap.h"

#include <string.h>

#include "common/core/blake3.h"
#include "common/core/bytes.h"
#include "common/core/crc32c.h"
#include "common/core/error.h"

/* The digest's input: a domain label, then each field with its length
 * fixed or given, so no two identities encode alike. */
void salvo_rmap_digest(const salvo_rmap_id *id, uint8_t out[32])
{
	static const char label[] = "salvo resume 1";
	uint8_t hdr[sizeof(label) + 1 + 32 + 8 + 8 + 2];
	salvo_wr w;
	salvo_wr_init(&w, hdr, sizeof(hdr));
	salvo_wr_copy(&w, label, sizeof(label));
	salvo_wr_u8(&w, id->anonymous ? 1 : 0);
	uint8_t zero[32] = {0};
	salvo_wr_copy(&w, id->anonymous ? zero : id->key, 32);
	salvo_wr_u64(&w, id->size);
	salvo_wr_u64(&w, (uint64_t)id->mtime_ns);
	salvo_wr_u16(&w, id->path_len);
	salvo_blake3 h;
	salvo_blake3_init(&h);
	salvo_blake3_update(&h, hdr, w.pos);
	salvo_blake3_update(&h, id->path, id->path_len);
	salvo_blake3_final(&h, out);
}

void salvo_rmap_stem(const uint8_t digest[32], char *out)
{
	static const char hex[] = "0123456789abcdef";
	out[0] = 'r';
	out[1] = '-';
	for (int i = 0; i < 16; i++) {
		out[2 + 2 * i] = hex[digest[i] >> 4];
		out[3 + 2 * i] = hex[digest[i] & 15];
	}
	out[SALVO_RMAP_STEM_BYTES] = 0;
}

size_t salvo_rmap_size(const salvo_rmap_id *id, size_t n)
{
	return SALVO_RMAP_FIXED_BYTES + id->path_len + 4 +
	       n * SALVO_RMAP_RANGE_BYTES + 4;
}

/* Ranges sorted, disjoint, not touching (a coalesced set), non-empty,
 * inside [0, size). */
static int ranges_ok(uint64_t prev_end, uint64_t start, uint64_t end,
		     uint64_t size, int first)
{
	return start < end && end <= size && (first || start > prev_end);
}

int64_t salvo_rmap_encode(uint8_t *buf, size_t cap, const salvo_rmap_id *id,
			  uint32_t block_bytes, const salvo_range *r, size_t n)
{
	if (n > UINT32_MAX)
		return SALVO_ERR_INVAL;
	for (size_t i = 0; i < n; i++)
		if (!ranges_ok(i ? r[i - 1].end : 0, r[i].start, r[i].end,
			       id->size, !i))
			return SALVO_ERR_INVAL;
	if (cap < salvo_rmap_size(id, n))
		return SALVO_ERR_TOOBIG;
	uint8_t digest[32], zero[32] = {0};
	salvo_rmap_digest(id, digest);
	salvo_wr w;
	salvo_wr_init(&w, buf, cap);
	salvo_wr_copy(&w, SALVO_RMAP_MAGIC, 8);
	salvo_wr_u32(&w, SALVO_RMAP_VERSION);
	salvo_wr_u32(&w, block_bytes);
	salvo_wr_u64(&w, id->size);
	salvo_wr_u64(&w, (uint64_t)id->mtime_ns);
	salvo_wr_u8(&w, id->anonymous ? 1 : 0);
	salvo_wr_copy(&w, id->anonymous ? zero : id->key, 32);
	salvo_wr_copy(&w, digest, 32);
	salvo_wr_u16(&w, id->path_len);
	salvo_wr_copy(&w, id->path, id->path_len);
	salvo_wr_u32(&w, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		salvo_wr_u64(&w, r[i].start);
		salvo_wr_u64(&w, r[i].end);
	}
	salvo_wr_u32(&w, salvo_crc32c(0, buf, w.pos));
	return salvo_wr_ok(&w) ? (int64_t)w.pos : SALVO_ERR_TOOBIG;
}

int salvo_rmap_decode(const uint8_t *buf, size_t len,
		      const salvo_rmap_id *expect, salvo_rmap *out)
{
	memset(out, 0, sizeof(*out));
	if (len < SALVO_RMAP_FIXED_BYTES + 8)
		return SALVO_ERR_TRUNCATED;
	if (memcmp(buf, SALVO_RMAP_MAGIC, 8))
		return SALVO_ERR_MALFORMED;
	salvo_rd r;
	salvo_rd_init(&r, buf + 8, len - 8);
	if (salvo_rd_u32(&r) != SALVO_RMAP_VERSION)
		return SALVO_ERR_VERSION;
	if (salvo_get_u32(buf + len - 4) != salvo_crc32c(0, buf, len - 4))
		return SALVO_ERR_CHECKSUM;
	uint32_t block_bytes = salvo_rd_u32(&r);
	uint64_t size = salvo_rd_u64(&r);
	int64_t mtime = (int64_t)salvo_rd_u64(&r);
	uint8_t anon = salvo_rd_u8(&r);
	const uint8_t *key = salvo_rd_take(&r, 32);
	const uint8_t *digest = salvo_rd_take(&r, 32);
	uint16_t plen = salvo_rd_u16(&r);
	const uint8_t *path = salvo_rd_take(&r, plen);
	uint32_t n = salvo_rd_u32(&r);
	if (!salvo_rd_ok(&r) || anon > 1)
		return SALVO_ERR_MALFORMED;
	/* what is left: the ranges and the CRC, exactly */
	if (salvo_rd_left(&r) != (uint64_t)n * SALVO_RMAP_RANGE_BYTES + 4)
		return SALVO_ERR_MALFORMED;
	const uint8_t *ranges = r.p + r.pos;
	uint64_t prev = 0, bytes = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t s = salvo_rd_u64(&r), e = salvo_rd_u64(&r);
		if (!ranges_ok(prev, s, e, size, !i))
			return SALVO_ERR_MALFORMED;
		prev = e;
		bytes += e - s;
	}
	uint8_t zero[32] = {0}, want[32];
	if (anon != (expect->anonymous ? 1 : 0) ||
	    memcmp(key, expect->anonymous ? zero : expect->key, 32))
		return SALVO_ERR_KEY;
	salvo_rmap_digest(expect, want);
	if (size != expect->size || mtime != expect->mtime_ns ||
	    plen != expect->path_len || memcmp(path, expect->path, plen) ||
	    memcmp(digest, want, 32))
		return SALVO_ERR_STATE;
	out->block_bytes = block_bytes;
	out->nranges = n;
	out->bytes = bytes;
	out->ranges = ranges;
	return 0;
}

salvo_range salvo_rmap_range(const salvo_rmap *m, uint32_t i)
{
	salvo_rd r;
	salvo_rd_init(&r, m->ranges + (size_t)i * SALVO_RMAP_RANGE_BYTES,
		      SALVO_RMAP_RANGE_BYTES);
	salvo_range x;
	x.start = salvo_rd_u64(&r);
	x.end = salvo_rd_u64(&r);
	return x;
}
