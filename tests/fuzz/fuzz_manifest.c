/*
 * libFuzzer target: the manifest codec (common/core/manifest.h), the
 * blob a receiver decodes from a peer's MANIFEST packets before it
 * creates a single file.
 *
 * Checks, besides ASan and UBSan: the decoder reads only its input (the
 * input sits in a buffer of exactly its size); a decoded manifest keeps
 * its promises (paths NUL-terminated and passing the path rules, stream
 * offsets a prefix sum of the sizes, the total within the stream limit);
 * digests on every file or on none, a folder's zero; it re-encodes to
 * the very bytes it came from (the overwrite byte set
 * by salvo_manifest_set_overwrite); a deep copy holds the same entries;
 * salvo_manifest_locate finds, for the first and last byte of each file
 * that has any, that file.  Allocation is counted: every block is freed.
 * A rejected input must come with a reason and leave nothing allocated.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/error.h"
#include "common/core/limits.h"
#include "common/core/manifest.h"
#include "common/core/mem.h"
#include "common/core/path.h"
#include "common/core/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* malloc that counts live blocks, so a leak aborts at once */
static void *counted(void *ud, void *p, size_t n)
{
	long *live = ud;
	if (!n) {
		if (p)
			--*live;
		free(p);
		return NULL;
	}
	void *q = realloc(p, n);
	if (q && !p)
		++*live;
	return q;
}

static void fail(const char *what, uint32_t i)
{
	fprintf(stderr, "fuzz_manifest: %s (entry %u)\n", what, i);
	abort();
}

static void check_decoded(const salvo_manifest *m)
{
	uint64_t off = 0;
	const char *why;
	for (uint32_t i = 0; i < m->count; i++) {
		const salvo_entry *e = &m->entries[i];
		if (e->path[e->path_len] || strlen(e->path) != e->path_len)
			fail("path not NUL-terminated at its length", i);
		if (salvo_path_check(e->path, e->path_len, &why))
			fail("a path the rules refuse was accepted", i);
		if (e->stream_offset != off)
			fail("stream offset is not the prefix sum", i);
		if (e->type == SALVO_ENTRY_DIR && e->size)
			fail("directory with a size", i);
		static const uint8_t zero[SALVO_ENTRY_DIGEST_BYTES];
		if (m->digests && e->type == SALVO_ENTRY_DIR &&
		    memcmp(m->digests[i], zero, sizeof(zero)))
			fail("a folder's digest is not zero", i);
		off += e->size;
	}
	if (off != m->total_bytes || off > SALVO_TOTAL_MAX_BYTES)
		fail("total bytes", m->count);
	for (uint32_t i = 0; i < m->count; i++) {
		const salvo_entry *e = &m->entries[i];
		if (!e->size)
			continue;
		if (salvo_manifest_locate(m, e->stream_offset) != i ||
		    salvo_manifest_locate(m, e->stream_offset + e->size - 1) !=
			i)
			fail("locate missed the file", i);
	}
}

static void roundtrip(const salvo_manifest *m, const salvo_mem *mem,
		      const uint8_t *data, size_t size)
{
	salvo_manifest c;
	if (salvo_manifest_copy(&c, m, mem))
		fail("copy out of memory", 0);
	if (c.count != m->count || c.total_bytes != m->total_bytes ||
	    c.overwrite != m->overwrite)
		fail("copy differs", 0);
	uint64_t need =
	    salvo_manifest_encoded_size(c.entries, c.count) +
	    (c.digests ? salvo_manifest_digests_size(c.entries, c.count) : 0);
	if (need != size)
		fail("encoded size differs from the input's", c.count);
	uint8_t *buf = malloc(size);
	uint64_t total = 0;
	if (!buf)
		fail("out of memory", 0);
	int64_t n = salvo_manifest_write(
	    c.entries, c.count, (const void *)c.digests, buf, size, &total);
	if (n < 0 && size <= SALVO_MANIFEST_MAX_BYTES)
		fail("the encoder refuses what the decoder accepted", 0);
	if (n >= 0) {
		salvo_manifest_set_overwrite(buf, m->overwrite);
		if ((size_t)n != size || memcmp(buf, data, size) ||
		    total != m->total_bytes)
			fail("re-encoding differs from the input", 0);
	}
	for (uint32_t i = 0; i < c.count; i++)
		if (c.entries[i].stream_offset != m->entries[i].stream_offset ||
		    c.entries[i].path_len != m->entries[i].path_len ||
		    memcmp(c.entries[i].path, m->entries[i].path,
			   c.entries[i].path_len + 1u))
			fail("copy entry differs", i);
	free(buf);
	salvo_manifest_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long live = 0;
	salvo_mem mem = {counted, &live};
	salvo_manifest m;
	uint32_t bad = UINT32_MAX;
	const char *why = NULL;
	int err = salvo_manifest_decode(&m, &mem, data, size, &bad, &why);
	if (err) {
		if (!why || !*why || bad == UINT32_MAX || live)
			fail("a refusal without a reason, or with blocks", bad);
		return 0;
	}
	check_decoded(&m);
	roundtrip(&m, &mem, data, size);
	salvo_manifest_free(&m);
	if (live)
		fail("blocks leaked", (uint32_t)live);
	return 0;
}
