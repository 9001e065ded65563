/*
 * Manifest codec.  Decoding copies the names into one allocation (so the
 * packet buffers that carried the manifest can go) and checks every field
 * an attacker controls: types, modes, sizes (their sum must not overflow
 * the stream limit) and paths (path.h).  locate() is a binary search over
 * stream offsets, which encode/decode compute as a prefix sum.
 *
 * Digests (--checksum) are all or nothing: the decoder refuses a manifest
 * where some files carry one and others do not, so one pointer (NULL, or
 * count digests) says what the receiver may compare, and a manifest
 * without them allocates nothing for them.
 */
#include "common/core/manifest.h"

#include <string.h>

#include "common/core/bytes.h"
#include "common/core/error.h"
#include "common/core/path.h"
#include "common/core/policy.h"
#include "common/core/wire.h"

uint64_t salvo_manifest_encoded_size(const salvo_entry *e, uint32_t n)
{
	uint64_t sz = SALVO_MANIFEST_HDR_BYTES;
	for (uint32_t i = 0; i < n; i++)
		sz += SALVO_ENTRY_FIXED_BYTES + e[i].path_len;
	return sz;
}

uint64_t salvo_manifest_digests_size(const salvo_entry *e, uint32_t n)
{
	uint64_t sz = 0;
	for (uint32_t i = 0; i < n; i++)
		if (e[i].type == SALVO_ENTRY_FILE)
			sz += SALVO_ENTRY_DIGEST_BYTES;
	return sz;
}

static int entry_ok(const salvo_entry *e, const char **why)
{
	if (e->type != SALVO_ENTRY_FILE && e->type != SALVO_ENTRY_DIR) {
		*why = "unknown entry type";
		return SALVO_ERR_MALFORMED;
	}
	if (e->mode > 07777) {
		*why = "mode out of range";
		return SALVO_ERR_MALFORMED;
	}
	if (e->type == SALVO_ENTRY_DIR && e->size) {
		*why = "directory with a size";
		return SALVO_ERR_MALFORMED;
	}
	return salvo_path_check(e->path, e->path_len, why);
}

int64_t salvo_manifest_write(const salvo_entry *e, uint32_t n,
			     const uint8_t (*digests)[SALVO_ENTRY_DIGEST_BYTES],
			     void *buf, size_t cap, uint64_t *total_bytes)
{
	salvo_wr w;
	const char *why;
	uint64_t off = 0;
	if (n > SALVO_FILES_MAX)
		return SALVO_ERR_TOOBIG;
	salvo_wr_init(&w, buf, cap);
	salvo_wr_u32(&w, n);
	salvo_wr_u32(&w, 0);
	for (uint32_t i = 0; i < n; i++) {
		int err = entry_ok(&e[i], &why);
		if (err)
			return err == SALVO_ERR_PATH ? err : SALVO_ERR_INVAL;
		if (e[i].size > SALVO_TOTAL_MAX_BYTES - off)
			return SALVO_ERR_TOOBIG;
		off += e[i].size;
		int dig = digests && e[i].type == SALVO_ENTRY_FILE;
		salvo_wr_u8(&w, e[i].type);
		salvo_wr_u8(&w, dig ? SALVO_ENTRY_F_DIGEST : 0);
		salvo_wr_u16(&w, e[i].path_len);
		salvo_wr_u32(&w, e[i].mode);
		salvo_wr_u64(&w, e[i].size);
		salvo_wr_u64(&w, (uint64_t)e[i].mtime_ns);
		salvo_wr_copy(&w, e[i].path, e[i].path_len);
		if (dig)
			salvo_wr_copy(&w, digests[i], SALVO_ENTRY_DIGEST_BYTES);
	}
	if (!salvo_wr_ok(&w) || w.pos > SALVO_MANIFEST_MAX_BYTES)
		return SALVO_ERR_TOOBIG;
	*total_bytes = off;
	return (int64_t)w.pos;
}

int64_t salvo_manifest_encode(salvo_entry *e, uint32_t n, void *buf, size_t cap,
			      uint64_t *total_bytes)
{
	int64_t len = salvo_manifest_write(e, n, NULL, buf, cap, total_bytes);
	uint64_t off = 0;
	for (uint32_t i = 0; len >= 0 && i < n; i++) {
		e[i].stream_offset = off;
		off += e[i].size;
	}
	return len;
}

int salvo_manifest_skip_entry(const void *buf, size_t len, size_t *pos,
			      uint64_t *size, uint16_t *path_len)
{
	salvo_rd r;
	if (*pos > len)
		return SALVO_ERR_TRUNCATED;
	salvo_rd_init(&r, (const uint8_t *)buf + *pos, len - *pos);
	salvo_rd_take(&r, 1); /* type */
	uint8_t flags = salvo_rd_u8(&r);
	uint16_t pl = salvo_rd_u16(&r);
	salvo_rd_take(&r, 4); /* mode */
	uint64_t sz = salvo_rd_u64(&r);
	salvo_rd_take(&r, 8); /* mtime */
	salvo_rd_take(&r, pl);
	if (flags & SALVO_ENTRY_F_DIGEST)
		salvo_rd_take(&r, SALVO_ENTRY_DIGEST_BYTES);
	if (!salvo_rd_ok(&r))
		return SALVO_ERR_TRUNCATED;
	*pos += r.pos;
	*size = sz;
	*path_len = pl;
	return 0;
}

/* The path bytes of the (at most n) entries that buf holds whole. */
static size_t path_bytes(const void *buf, size_t len, uint32_t n)
{
	size_t sum = 0, pos = SALVO_MANIFEST_HDR_BYTES;
	uint64_t size;
	uint16_t pl;
	for (uint32_t i = 0; i < n; i++) {
		if (salvo_manifest_skip_entry(buf, len, &pos, &size, &pl))
			break;
		sum += pl;
	}
	return sum;
}

/* Entry i's digest (flags: its flag byte) into m->digests, allocated at
 * the first file that has one; *with tracks that the files agree. */
static int take_digest(salvo_manifest *m, salvo_rd *r, uint32_t i, uint32_t n,
		       uint8_t flags, int *with, const char **why)
{
	int has = (flags & SALVO_ENTRY_F_DIGEST) != 0;
	if (m->entries[i].type != SALVO_ENTRY_FILE) {
		*why = "a folder with a digest";
		return has ? SALVO_ERR_MALFORMED : 0;
	}
	*why = "digests on some files only";
	if (*with >= 0 && *with != has)
		return SALVO_ERR_MALFORMED;
	*with = has;
	if (!has)
		return 0;
	const uint8_t *d = salvo_rd_take(r, SALVO_ENTRY_DIGEST_BYTES);
	*why = "truncated manifest entry";
	if (!salvo_rd_ok(r))
		return SALVO_ERR_TRUNCATED;
	if (!m->digests) {
		m->digests =
		    salvo_mem_array(m->mem, n, SALVO_ENTRY_DIGEST_BYTES);
		*why = "out of memory";
		if (!m->digests)
			return SALVO_ERR_NOMEM;
		memset(m->digests, 0, (size_t)n * SALVO_ENTRY_DIGEST_BYTES);
	}
	memcpy(m->digests[i], d, SALVO_ENTRY_DIGEST_BYTES);
	return 0;
}

int salvo_manifest_decode(salvo_manifest *m, const salvo_mem *mem,
			  const void *buf, size_t len, uint32_t *bad_entry,
			  const char **why)
{
	salvo_rd r;
	const char *reason = "truncated manifest";
	uint32_t i = 0;
	int err;
	memset(m, 0, sizeof(*m));
	m->mem = mem;
	salvo_rd_init(&r, buf, len);
	uint32_t n = salvo_rd_u32(&r);
	m->overwrite = salvo_rd_u8(&r);
	uint32_t reserved = salvo_rd_u8(&r);
	reserved |= salvo_rd_u16(&r);
	err = SALVO_ERR_TRUNCATED;
	if (!salvo_rd_ok(&r))
		goto fail;
	err = SALVO_ERR_MALFORMED;
	reason = "bad manifest header";
	if (reserved || n > SALVO_FILES_MAX ||
	    m->overwrite > SALVO_SEND_OVERWRITE_MAX ||
	    (uint64_t)n * (SALVO_ENTRY_FIXED_BYTES + 1) > len)
		goto fail;
	/* the paths, plus one NUL each (a million short names: 17 MB, not
	 * the 41 of the whole manifest) */
	size_t names_cap = path_bytes(buf, len, n) + n + 1;
	err = SALVO_ERR_NOMEM;
	reason = "out of memory";
	m->entries = salvo_mem_array(mem, n ? n : 1, sizeof(salvo_entry));
	m->names = salvo_mem_alloc(mem, names_cap);
	if (!m->entries || !m->names)
		goto fail_alloc;
	size_t used = 0;
	uint64_t off = 0;
	int with = -1; /* files seen so far carry digests: -1 none seen yet */
	for (i = 0; i < n; i++) {
		salvo_entry *e = &m->entries[i];
		e->type = salvo_rd_u8(&r);
		uint8_t flags = salvo_rd_u8(&r);
		e->path_len = salvo_rd_u16(&r);
		e->mode = salvo_rd_u32(&r);
		e->size = salvo_rd_u64(&r);
		e->mtime_ns = (int64_t)salvo_rd_u64(&r);
		const uint8_t *p = salvo_rd_take(&r, e->path_len);
		err = SALVO_ERR_TRUNCATED;
		reason = "truncated manifest entry";
		/* long paths early leave too few bytes for the entries
		 * still to come: the manifest is short */
		if (!salvo_rd_ok(&r) || e->path_len + 1u > names_cap - used)
			goto fail_alloc;
		memcpy(m->names + used, p, e->path_len);
		m->names[used + e->path_len] = 0;
		e->path = m->names + used;
		used += e->path_len + 1u;
		err = SALVO_ERR_MALFORMED;
		reason = "unknown entry flag";
		if (flags & ~SALVO_ENTRY_F_DIGEST)
			goto fail_alloc;
		err = entry_ok(e, &reason);
		if (err)
			goto fail_alloc;
		err = take_digest(m, &r, i, n, flags, &with, &reason);
		if (err)
			goto fail_alloc;
		err = SALVO_ERR_MALFORMED;
		reason = "sizes exceed the stream limit";
		if (e->size > SALVO_TOTAL_MAX_BYTES - off)
			goto fail_alloc;
		e->stream_offset = off;
		off += e->size;
	}
	err = SALVO_ERR_MALFORMED;
	reason = "trailing bytes after the manifest";
	if (salvo_rd_left(&r))
		goto fail_alloc;
	m->count = n;
	m->total_bytes = off;
	return 0;

fail_alloc:
	salvo_mem_free(mem, m->entries);
	salvo_mem_free(mem, m->names);
	salvo_mem_free(mem, m->digests);
	m->entries = NULL;
	m->names = NULL;
	m->digests = NULL;
fail:
	if (bad_entry)
		*bad_entry = i;
	if (why)
		*why = reason;
	return err;
}

void salvo_manifest_free(salvo_manifest *m)
{
	if (!m->mem)
		return;
	salvo_mem_free(m->mem, m->entries);
	salvo_mem_free(m->mem, m->names);
	salvo_mem_free(m->mem, m->digests);
	m->entries = NULL;
	m->names = NULL;
	m->digests = NULL;
	m->count = 0;
}

int salvo_manifest_copy(salvo_manifest *dst, const salvo_manifest *src,
			const salvo_mem *mem)
{
	size_t names = 0;
	for (uint32_t i = 0; i < src->count; i++)
		names += (size_t)src->entries[i].path_len + 1;
	memset(dst, 0, sizeof(*dst));
	dst->entries = salvo_mem_alloc(mem, (src->count ? src->count : 1) *
						sizeof(salvo_entry));
	dst->names = salvo_mem_alloc(mem, names ? names : 1);
	if (src->digests)
		dst->digests = salvo_mem_array(mem, src->count ? src->count : 1,
					       SALVO_ENTRY_DIGEST_BYTES);
	if (!dst->entries || !dst->names || (src->digests && !dst->digests)) {
		salvo_mem_free(mem, dst->entries);
		salvo_mem_free(mem, dst->names);
		salvo_mem_free(mem, dst->digests);
		dst->entries = NULL;
		dst->names = NULL;
		dst->digests = NULL;
		return SALVO_ERR_NOMEM;
	}
	if (src->digests)
		memcpy(dst->digests, src->digests,
		       (size_t)src->count * SALVO_ENTRY_DIGEST_BYTES);
	dst->mem = mem;
	dst->count = src->count;
	dst->total_bytes = src->total_bytes;
	dst->overwrite = src->overwrite;
	char *p = dst->names;
	for (uint32_t i = 0; i < src->count; i++) {
		const salvo_entry *e = &src->entries[i];
		dst->entries[i] = *e;
		memcpy(p, e->path, e->path_len);
		p[e->path_len] = 0;
		dst->entries[i].path = p;
		p += e->path_len + 1;
	}
	return 0;
}

uint32_t salvo_manifest_locate(const salvo_manifest *m, uint64_t off)
{
	/* last entry with stream_offset <= off and size > 0: binary search
	 * for the last stream_offset <= off, then step back over entries
	 * that hold no bytes (they share the offset of the next file) */
	uint32_t lo = 0, hi = m->count;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (m->entries[mid].stream_offset <= off)
			lo = mid;
		else
			hi = mid;
	}
	while (lo > 0 &&
	       (m->entries[lo].size == 0 || m->entries[lo].stream_offset > off))
		lo--;
	return lo;
}

void salvo_manifest_set_overwrite(void *buf, uint8_t overwrite)
{
	((uint8_t *)buf)[4] = overwrite;
}
