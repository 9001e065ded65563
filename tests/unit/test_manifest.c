/*
 * The manifest codec: a round trip of files, directories, empty files and
 * unicode names with every field and the stream offsets compared;
 * salvo_manifest_locate for every byte of a stream with empty files and
 * directories between the others; and each rejection (truncation at every
 * length, every bad field poked into a valid encoding) with its code,
 * entry index and reason.  Decoding allocates through cmocka, so a leak on
 * any error path fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/bytes.h"
#include "common/core/error.h"
#include "common/core/manifest.h"
#include "common/core/wire.h"
#include "tests/helpers/testmem.h"

#define F(path, mode, size, mtime)                                             \
	{                                                                      \
		SALVO_ENTRY_FILE, sizeof(path) - 1, mode, size, mtime, path, 0 \
	}
#define D(path, mode, mtime)                                                   \
	{                                                                      \
		SALVO_ENTRY_DIR, sizeof(path) - 1, mode, 0, mtime, path, 0     \
	}

/* Files of 0, 1, 5 and more bytes, with empty files and directories
 * between them, at the start and at the end. */
static const salvo_entry sample[] = {
    F("empty-first", 0644, 0, 1),
    D("dir", 0755, 1700000000123456789),
    F("dir/a", 0600, 5, -1),
    F("dir/zero", 0644, 0, 0),
    D("dir/sub", 01777, 42),
    F("dir/sub/one", 04755, 1, INT64_MIN),
    F("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.txt", 07777, 3, INT64_MAX),
    F("z0", 0, 0, 7),
    F("z1", 0444, 0, 8),
    F("with space/b", 0640, 7, 9),
    F("last-empty", 0644, 0, 10),
};
#define NSAMPLE (sizeof(sample) / sizeof(sample[0]))
#define SAMPLE_TOTAL 16

typedef struct enc {
	salvo_entry e[NSAMPLE];
	uint8_t buf[1024];
	size_t len;
} enc;

static void encode_sample(enc *x)
{
	uint64_t total = 0;
	memcpy(x->e, sample, sizeof(sample));
	uint64_t want = salvo_manifest_encoded_size(x->e, NSAMPLE);
	int64_t n = salvo_manifest_encode(x->e, NSAMPLE, x->buf, sizeof(x->buf),
					  &total);
	assert_int_equal(n, want);
	assert_int_equal(total, SAMPLE_TOTAL);
	x->len = (size_t)n;
}

/* Offset of entry i in the encoding of sample. */
static size_t entry_at(size_t i)
{
	return (size_t)salvo_manifest_encoded_size(sample, (uint32_t)i);
}

/* m holds the sample's entries, paths NUL-terminated. */
static void assert_entries(const salvo_manifest *m, const salvo_entry *e)
{
	for (size_t i = 0; i < NSAMPLE; i++) {
		const salvo_entry *a = &m->entries[i], *b = &e[i];
		assert_int_equal(a->type, b->type);
		assert_int_equal(a->path_len, b->path_len);
		assert_int_equal(a->mode, b->mode);
		assert_int_equal(a->size, b->size);
		assert_true(a->mtime_ns == b->mtime_ns);
		assert_int_equal(a->stream_offset, b->stream_offset);
		assert_memory_equal(a->path, b->path, b->path_len);
		assert_int_equal(a->path[a->path_len], 0);
	}
}

static void test_round_trip(void **state)
{
	salvo_mem mem = testmem_cmocka();
	salvo_manifest m;
	enc x;
	(void)state;
	encode_sample(&x);
	uint64_t off = 0;
	for (size_t i = 0; i < NSAMPLE; i++) {
		assert_int_equal(x.e[i].stream_offset, off);
		off += x.e[i].size;
	}
	assert_int_equal(
	    salvo_manifest_decode(&m, &mem, x.buf, x.len, NULL, NULL), 0);
	assert_int_equal(m.count, NSAMPLE);
	assert_int_equal(m.total_bytes, SAMPLE_TOTAL);
	assert_entries(&m, x.e);
	/* the names are copies: the packet buffer may go */
	memset(x.buf, 0, sizeof(x.buf));
	assert_string_equal(m.entries[2].path, "dir/a");
	salvo_manifest_free(&m);
	salvo_manifest_free(&m);
}

static void test_empty_and_many(void **state)
{
	salvo_mem mem = testmem_cmocka();
	salvo_manifest m;
	static salvo_entry many[3000];
	static uint8_t buf[3000 * 40 + 8];
	static char names[3000][12];
	uint64_t total = 1;
	(void)state;
	assert_int_equal(salvo_manifest_encode(NULL, 0, buf, 8, &total), 8);
	assert_int_equal(total, 0);
	assert_int_equal(salvo_manifest_decode(&m, &mem, buf, 8, NULL, NULL),
			 0);
	assert_int_equal(m.count, 0);
	assert_int_equal(m.total_bytes, 0);
	salvo_manifest_free(&m);

	for (size_t i = 0; i < 3000; i++) {
		int k =
		    snprintf(names[i], sizeof(names[i]), "d%zu/f%zu", i % 7, i);
		many[i] = (salvo_entry){
		    SALVO_ENTRY_FILE, (uint16_t)k, 0644, i * 3 % 11,
		    (int64_t)i,	      names[i],	   0};
	}
	int64_t n = salvo_manifest_encode(many, 3000, buf, sizeof(buf), &total);
	assert_true(n > 0);
	assert_int_equal(
	    salvo_manifest_decode(&m, &mem, buf, (size_t)n, NULL, NULL), 0);
	assert_int_equal(m.count, 3000);
	assert_int_equal(m.total_bytes, total);
	for (size_t i = 0; i < 3000; i++) {
		assert_string_equal(m.entries[i].path, names[i]);
		assert_int_equal(m.entries[i].stream_offset,
				 many[i].stream_offset);
	}
	/* every byte of the stream is in the file that holds it */
	for (uint64_t off = 0; off < total; off++) {
		uint32_t i = salvo_manifest_locate(&m, off);
		const salvo_entry *e = &m.entries[i];
		if (!(e->size && e->stream_offset <= off &&
		      off < e->stream_offset + e->size))
			fail_msg("byte %llu located in entry %u",
				 (unsigned long long)off, i);
	}
	salvo_manifest_free(&m);
}

/* A decoded manifest holds its entries and its paths, nothing more: the
 * names of 3,000 short paths take their bytes and a NUL each, not the
 * whole encoding (41 MB instead of 17 for a million 16-byte names).
 * Failed before the names were counted: 87 KiB more than this. */
static void test_decode_memory(void **state)
{
	salvo_mem mem = testmem_cmocka();
	salvo_peakmem pm;
	salvo_manifest m;
	static salvo_entry many[3000];
	static uint8_t buf[3000 * 40 + 8];
	static char names[3000][12];
	uint64_t total = 0;
	size_t paths = 0;
	(void)state;
	for (size_t i = 0; i < 3000; i++) {
		int k = snprintf(names[i], sizeof(names[i]), "f%zu", i);
		many[i] = (salvo_entry){
		    SALVO_ENTRY_FILE, (uint16_t)k, 0644, 1, 0, names[i], 0};
		paths += (size_t)k + 1;
	}
	int64_t n =
	    salvo_manifest_write(many, 3000, NULL, buf, sizeof(buf), &total);
	assert_true(n > 0);
	assert_int_equal(total, 3000);
	assert_int_equal(many[2999].stream_offset, 0); /* write leaves e be */
	salvo_peakmem_init(&pm, &mem);
	assert_int_equal(
	    salvo_manifest_decode(&m, &pm.mem, buf, (size_t)n, NULL, NULL), 0);
	size_t want = 3000 * sizeof(salvo_entry) + paths + 1;
	if (pm.peak > want)
		fail_msg("decoding 3,000 entries took %zu bytes, want %zu",
			 pm.peak, want);
	assert_int_equal(m.entries[2999].stream_offset, 2999);
	salvo_manifest_free(&m);
	assert_int_equal(pm.now, 0);
}

static void test_locate_every_byte(void **state)
{
	/* the file holding each of the 16 bytes of sample's stream */
	static const uint32_t want[SAMPLE_TOTAL] = {2, 2, 2, 2, 2, 5, 6, 6,
						    6, 9, 9, 9, 9, 9, 9, 9};
	salvo_mem mem = testmem_cmocka();
	salvo_manifest m;
	enc x;
	(void)state;
	encode_sample(&x);
	assert_int_equal(
	    salvo_manifest_decode(&m, &mem, x.buf, x.len, NULL, NULL), 0);
	for (uint64_t off = 0; off < SAMPLE_TOTAL; off++)
		if (salvo_manifest_locate(&m, off) != want[off])
			fail_msg("byte %llu: entry %u, want %u",
				 (unsigned long long)off,
				 salvo_manifest_locate(&m, off), want[off]);
	salvo_manifest_free(&m);
}

static void test_every_truncation(void **state)
{
	salvo_mem mem = testmem_cmocka();
	salvo_manifest m;
	enc x;
	(void)state;
	encode_sample(&x);
	for (size_t len = 0; len < x.len; len++) {
		uint8_t *copy = test_malloc(len ? len : 1);
		memcpy(copy, x.buf, len); /* exact size: ASan sees overreads */
		uint32_t bad = 99;
		const char *why = NULL;
		int err =
		    salvo_manifest_decode(&m, &mem, copy, len, &bad, &why);
		if (err != SALVO_ERR_TRUNCATED && err != SALVO_ERR_MALFORMED)
			fail_msg("length %zu: %d", len, err);
		assert_non_null(why);
		assert_true(bad <= NSAMPLE);
		assert_null(m.entries);
		test_free(copy);
	}
}

/* Pokes a big-endian value of `width` bytes at `at`. */
static void poke(uint8_t *p, size_t at, uint64_t v, size_t width)
{
	for (size_t i = width; i-- > 0; v >>= 8)
		p[at + i] = (uint8_t)v;
}

static void test_rejections(void **state)
{
	static const struct {
		const char *name;
		size_t entry; /* SIZE_MAX: header */
		size_t at;    /* offset in the entry (or the manifest) */
		uint64_t v;
		size_t width;
		int err;
		const char *why;
		uint32_t bad; /* header rows: the entry index reported */
	} c[] = {
	    {"reserved header", SIZE_MAX, 4, 1, 4, SALVO_ERR_MALFORMED,
	     "bad manifest header", 0},
	    {"count too big for the buffer", SIZE_MAX, 0, NSAMPLE + 20, 4,
	     SALVO_ERR_MALFORMED, "bad manifest header", 0},
	    {"count above the file limit", SIZE_MAX, 0,
	     (uint64_t)SALVO_FILES_MAX + 1, 4, SALVO_ERR_MALFORMED,
	     "bad manifest header", 0},
	    {"count larger by one", SIZE_MAX, 0, NSAMPLE + 1, 4,
	     SALVO_ERR_TRUNCATED, "truncated manifest entry", NSAMPLE},
	    {"count smaller by one", SIZE_MAX, 0, NSAMPLE - 1, 4,
	     SALVO_ERR_MALFORMED, "trailing bytes after the manifest",
	     NSAMPLE - 1},
	    {"type 0", 3, 0, 0, 1, SALVO_ERR_MALFORMED, "unknown entry type"},
	    {"type 3", 4, 0, 3, 1, SALVO_ERR_MALFORMED, "unknown entry type"},
	    {"type 255", 0, 0, 255, 1, SALVO_ERR_MALFORMED,
	     "unknown entry type"},
	    {"unknown entry flag", 6, 1, 0x80, 1, SALVO_ERR_MALFORMED,
	     "unknown entry flag"},
	    {"a folder with a digest", 4, 1, SALVO_ENTRY_F_DIGEST, 1,
	     SALVO_ERR_MALFORMED, "a folder with a digest"},
	    {"mode 010000", 2, 4, 010000, 4, SALVO_ERR_MALFORMED,
	     "mode out of range"},
	    {"mode all ones", 9, 4, UINT32_MAX, 4, SALVO_ERR_MALFORMED,
	     "mode out of range"},
	    {"directory with a size", 4, 8, 1, 8, SALVO_ERR_MALFORMED,
	     "directory with a size"},
	    {"size above the stream limit", 5, 8, SALVO_TOTAL_MAX_BYTES + 1, 8,
	     SALVO_ERR_MALFORMED, "sizes exceed the stream limit"},
	    {"sum above the stream limit", 9, 8, SALVO_TOTAL_MAX_BYTES - 8, 8,
	     SALVO_ERR_MALFORMED, "sizes exceed the stream limit"},
	    {"size wrapping around", 9, 8, UINT64_MAX - 5, 8,
	     SALVO_ERR_MALFORMED, "sizes exceed the stream limit"},
	    {"'..' in a path", 2, 24, 0x2e2e2f, 3, SALVO_ERR_PATH, /* ..//a */
	     "'..' component"},
	    {"absolute path", 7, 24, '/', 1, SALVO_ERR_PATH, "absolute path"},
	    {"NUL in a path", 10, 24 + 4, 0, 1, SALVO_ERR_PATH,
	     "NUL byte in path"},
	    {"control character", 0, 24, '\n', 1, SALVO_ERR_PATH,
	     "control character in path"},
	    {"DEL", 1, 24 + 2, 0x7f, 1, SALVO_ERR_PATH,
	     "control character in path"},
	    {"empty component", 5, 24 + 8, '/', 1, SALVO_ERR_PATH,
	     "empty path component"},
	    {"empty path", 8, 2, 0, 2, SALVO_ERR_PATH, "empty path"},
	};
	salvo_mem mem = testmem_cmocka();
	salvo_manifest m;
	enc x;
	(void)state;
	encode_sample(&x);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		uint8_t copy[sizeof(x.buf)];
		size_t len = x.len;
		memcpy(copy, x.buf, x.len);
		size_t base = c[i].entry == SIZE_MAX ? 0 : entry_at(c[i].entry);
		poke(copy, base + c[i].at, c[i].v, c[i].width);
		if (c[i].entry == 8 && c[i].at == 2) {
			/* drop the path's 2 bytes along with its length */
			memmove(copy + base + 24, copy + base + 26,
				len - base - 26);
			len -= 2;
		}
		uint32_t bad = 99;
		const char *why = NULL;
		int err =
		    salvo_manifest_decode(&m, &mem, copy, len, &bad, &why);
		uint32_t want_bad =
		    c[i].entry == SIZE_MAX ? c[i].bad : (uint32_t)c[i].entry;
		if (err != c[i].err || !why || strcmp(why, c[i].why) ||
		    bad != want_bad)
			fail_msg("%s: %d '%s' entry %u, want %d '%s' entry %u",
				 c[i].name, err, why ? why : "(null)", bad,
				 c[i].err, c[i].why, want_bad);
		assert_null(m.entries);
		assert_null(m.names);
	}
	/* a trailing byte */
	x.buf[x.len] = 0;
	uint32_t bad;
	const char *why;
	assert_int_equal(
	    salvo_manifest_decode(&m, &mem, x.buf, x.len + 1, &bad, &why),
	    SALVO_ERR_MALFORMED);
	assert_string_equal(why, "trailing bytes after the manifest");
}

static void test_stream_limit_exact(void **state)
{
	salvo_entry e[2] = {F("a", 0644, SALVO_TOTAL_MAX_BYTES - 1, 0),
			    F("b", 0644, 1, 0)};
	uint8_t buf[128];
	uint64_t total;
	salvo_mem mem = testmem_cmocka();
	salvo_manifest m;
	(void)state;
	int64_t n = salvo_manifest_encode(e, 2, buf, sizeof(buf), &total);
	assert_true(n > 0);
	assert_int_equal(total, SALVO_TOTAL_MAX_BYTES);
	assert_int_equal(
	    salvo_manifest_decode(&m, &mem, buf, (size_t)n, NULL, NULL), 0);
	assert_int_equal(m.total_bytes, SALVO_TOTAL_MAX_BYTES);
	assert_int_equal(salvo_manifest_locate(&m, SALVO_TOTAL_MAX_BYTES - 1),
			 1);
	assert_int_equal(salvo_manifest_locate(&m, SALVO_TOTAL_MAX_BYTES - 2),
			 0);
	salvo_manifest_free(&m);
	e[1].size = 2;
	assert_int_equal(salvo_manifest_encode(e, 2, buf, sizeof(buf), &total),
			 SALVO_ERR_TOOBIG);
}

static void test_encoder_refuses(void **state)
{
	static const struct {
		salvo_entry e;
		int err;
	} c[] = {
	    {{0, 1, 0644, 0, 0, "a", 0}, SALVO_ERR_INVAL},
	    {{3, 1, 0644, 0, 0, "a", 0}, SALVO_ERR_INVAL},
	    {F("a", 010000, 0, 0), SALVO_ERR_INVAL},
	    {{SALVO_ENTRY_DIR, 1, 0755, 1, 0, "d", 0}, SALVO_ERR_INVAL},
	    {F("../a", 0644, 0, 0), SALVO_ERR_PATH},
	    {F("/a", 0644, 0, 0), SALVO_ERR_PATH},
	    {F("", 0644, 0, 0), SALVO_ERR_PATH},
	    {F("a/", 0644, 0, 0), SALVO_ERR_PATH},
	    {F("a", 0644, SALVO_TOTAL_MAX_BYTES + 1, 0), SALVO_ERR_TOOBIG},
	};
	uint8_t buf[1024];
	uint64_t total;
	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		salvo_entry e[2] = {F("ok", 0644, 1, 0), c[i].e};
		if (salvo_manifest_encode(e, 2, buf, sizeof(buf), &total) !=
		    c[i].err)
			fail_msg("case %zu", i);
	}
	/* a buffer one byte short, and too many entries */
	salvo_entry e[NSAMPLE];
	memcpy(e, sample, sizeof(sample));
	size_t need = (size_t)salvo_manifest_encoded_size(e, NSAMPLE);
	assert_int_equal(
	    salvo_manifest_encode(e, NSAMPLE, buf, need - 1, &total),
	    SALVO_ERR_TOOBIG);
	assert_int_equal(salvo_manifest_encode(e, NSAMPLE, buf, need, &total),
			 need);
	assert_int_equal(salvo_manifest_encode(e, SALVO_FILES_MAX + 1, buf,
					       sizeof(buf), &total),
			 SALVO_ERR_TOOBIG);
}

static void test_nomem(void **state)
{
	salvo_mem mem = testmem_cmocka();
	salvo_failmem fm;
	salvo_manifest m;
	enc x;
	(void)state;
	encode_sample(&x);
	for (size_t allow = 0; allow < 2; allow++) {
		uint32_t bad;
		const char *why;
		salvo_failmem_init(&fm, &mem, allow);
		assert_int_equal(salvo_manifest_decode(&m, &fm.mem, x.buf,
						       x.len, &bad, &why),
				 SALVO_ERR_NOMEM);
		assert_string_equal(why, "out of memory");
		assert_null(m.entries);
	}
}

/* A copy outlives its source (the receiver engine keeps one while the
 * core frees its own), and a copy that cannot allocate leaves nothing. */
static void test_copy(void **state)
{
	salvo_mem mem = testmem_cmocka();
	salvo_failmem fm;
	salvo_manifest m, c;
	enc x;
	(void)state;
	encode_sample(&x);
	assert_int_equal(
	    salvo_manifest_decode(&m, &mem, x.buf, x.len, NULL, NULL), 0);
	for (size_t allow = 0; allow < 2; allow++) {
		salvo_failmem_init(&fm, &mem, allow);
		assert_int_equal(salvo_manifest_copy(&c, &m, &fm.mem),
				 SALVO_ERR_NOMEM);
		assert_null(c.entries);
	}
	assert_int_equal(salvo_manifest_copy(&c, &m, &mem), 0);
	salvo_manifest_free(&m);
	assert_int_equal(c.count, NSAMPLE);
	assert_int_equal(c.total_bytes, SAMPLE_TOTAL);
	assert_entries(&c, x.e);
	assert_int_equal(salvo_manifest_locate(&c, SAMPLE_TOTAL - 1), 9);
	salvo_manifest_free(&c);
}

/* --checksum: every file carries its BLAKE3 after its path (flag 1),
 * folders none; entry i's digest here is 32 bytes of i + 1. */
typedef struct denc {
	uint8_t d[NSAMPLE][SALVO_ENTRY_DIGEST_BYTES];
	uint8_t buf[2048];
	size_t len;
} denc;

static void encode_digests(denc *x)
{
	uint64_t total = 0;
	uint32_t files = 0;
	for (size_t i = 0; i < NSAMPLE; i++) {
		memset(x->d[i], (int)i + 1, SALVO_ENTRY_DIGEST_BYTES);
		files += sample[i].type == SALVO_ENTRY_FILE;
	}
	assert_int_equal(salvo_manifest_digests_size(sample, NSAMPLE),
			 files * SALVO_ENTRY_DIGEST_BYTES);
	uint64_t want = salvo_manifest_encoded_size(sample, NSAMPLE) +
			salvo_manifest_digests_size(sample, NSAMPLE);
	int64_t n = salvo_manifest_write(sample, NSAMPLE, (const void *)x->d,
					 x->buf, sizeof(x->buf), &total);
	assert_int_equal(n, want);
	assert_int_equal(total, SAMPLE_TOTAL);
	x->len = (size_t)n;
	/* too small by one byte: refused */
	assert_int_equal(salvo_manifest_write(sample, NSAMPLE,
					      (const void *)x->d, x->buf,
					      (size_t)want - 1, &total),
			 SALVO_ERR_TOOBIG);
}

/* Offset of entry i in the encoding with digests. */
static size_t dentry_at(size_t i)
{
	return (size_t)(salvo_manifest_encoded_size(sample, (uint32_t)i) +
			salvo_manifest_digests_size(sample, (uint32_t)i));
}

static void assert_digests(const salvo_manifest *m, const denc *x)
{
	static const uint8_t zero[SALVO_ENTRY_DIGEST_BYTES];
	assert_non_null(m->digests);
	for (size_t i = 0; i < NSAMPLE; i++)
		assert_memory_equal(m->digests[i],
				    sample[i].type == SALVO_ENTRY_FILE ? x->d[i]
								       : zero,
				    SALVO_ENTRY_DIGEST_BYTES);
}

/* salvo_manifest_skip_entry walks an encoding entry by entry, with and
 * without digests, to its end; an entry cut short is refused and the
 * cursor stays. */
static void test_skip_entry(void **state)
{
	enc plain;
	denc x;
	(void)state;
	encode_sample(&plain);
	encode_digests(&x);
	const uint8_t *bufs[] = {plain.buf, x.buf};
	size_t lens[] = {plain.len, x.len};
	for (int d = 0; d < 2; d++) {
		size_t pos = SALVO_MANIFEST_HDR_BYTES;
		for (size_t i = 0; i < NSAMPLE; i++) {
			uint64_t size;
			uint16_t pl;
			assert_int_equal(
			    salvo_manifest_skip_entry(bufs[d], lens[d], &pos,
						      &size, &pl),
			    0);
			assert_int_equal(size, sample[i].size);
			assert_int_equal(pl, sample[i].path_len);
			assert_int_equal(pos, d ? dentry_at(i + 1)
						: entry_at(i + 1));
		}
		assert_int_equal(pos, lens[d]);
		uint64_t size = 7;
		uint16_t pl = 7;
		size_t last =
		    d ? dentry_at(NSAMPLE - 1) : entry_at(NSAMPLE - 1);
		pos = last;
		assert_int_equal(salvo_manifest_skip_entry(bufs[d], lens[d] - 1,
							   &pos, &size, &pl),
				 SALVO_ERR_TRUNCATED);
		assert_int_equal(pos, last);
		assert_int_equal(size, 7);
	}
}

static void test_digests_round_trip(void **state)
{
	salvo_mem mem = testmem_cmocka();
	salvo_manifest m, c;
	denc x;
	enc plain;
	(void)state;
	encode_digests(&x);
	/* the flag byte and the digest right after the path */
	size_t at = dentry_at(2); /* "dir/a" */
	assert_int_equal(x.buf[at + 1], SALVO_ENTRY_F_DIGEST);
	assert_int_equal(x.buf[at + SALVO_ENTRY_FIXED_BYTES + 5], 3);
	assert_int_equal(x.buf[dentry_at(1) + 1], 0); /* a folder: none */
	assert_int_equal(
	    salvo_manifest_decode(&m, &mem, x.buf, x.len, NULL, NULL), 0);
	assert_int_equal(m.count, NSAMPLE);
	assert_int_equal(m.total_bytes, SAMPLE_TOTAL);
	assert_digests(&m, &x);
	encode_sample(&plain);
	assert_entries(&m, plain.e);
	/* a copy keeps them, and re-encodes to the same bytes */
	assert_int_equal(salvo_manifest_copy(&c, &m, &mem), 0);
	salvo_manifest_free(&m);
	assert_digests(&c, &x);
	uint8_t again[sizeof(x.buf)];
	uint64_t total;
	assert_int_equal(salvo_manifest_write(c.entries, c.count,
					      (const void *)c.digests, again,
					      sizeof(again), &total),
			 x.len);
	assert_memory_equal(again, x.buf, x.len);
	salvo_manifest_free(&c);
	/* without digests: none allocated */
	assert_int_equal(
	    salvo_manifest_decode(&m, &mem, plain.buf, plain.len, NULL, NULL),
	    0);
	assert_null(m.digests);
	assert_int_equal(salvo_manifest_copy(&c, &m, &mem), 0);
	assert_null(c.digests);
	salvo_manifest_free(&c);
	salvo_manifest_free(&m);
}

static void test_digests_rejected(void **state)
{
	salvo_mem mem = testmem_cmocka();
	salvo_failmem fm;
	salvo_manifest m;
	denc x;
	uint32_t bad;
	const char *why;
	(void)state;
	encode_digests(&x);
	/* every truncation, with ASan watching the exact-size buffer */
	for (size_t len = 0; len < x.len; len++) {
		uint8_t *copy = test_malloc(len ? len : 1);
		memcpy(copy, x.buf, len);
		int err =
		    salvo_manifest_decode(&m, &mem, copy, len, &bad, &why);
		if (err != SALVO_ERR_TRUNCATED && err != SALVO_ERR_MALFORMED)
			fail_msg("length %zu: %d", len, err);
		assert_null(m.entries);
		assert_null(m.digests);
		test_free(copy);
	}
	/* the last file without its digest: digests on some files only */
	uint8_t copy[sizeof(x.buf)];
	size_t last = dentry_at(NSAMPLE - 1);
	memcpy(copy, x.buf, x.len);
	copy[last + 1] = 0;
	assert_int_equal(salvo_manifest_decode(&m, &mem, copy,
					       x.len - SALVO_ENTRY_DIGEST_BYTES,
					       &bad, &why),
			 SALVO_ERR_MALFORMED);
	assert_string_equal(why, "digests on some files only");
	assert_int_equal(bad, NSAMPLE - 1);
	assert_null(m.digests);
	/* a digest on the first file of a manifest without them: its
	 * second file has none (or the entries no longer line up) */
	enc plain;
	encode_sample(&plain);
	plain.buf[SALVO_MANIFEST_HDR_BYTES + 1] = SALVO_ENTRY_F_DIGEST;
	assert_true(salvo_manifest_decode(&m, &mem, plain.buf, plain.len, &bad,
					  &why) < 0);
	assert_null(m.digests);
	/* out of memory at the digests (the third allocation) */
	salvo_failmem_init(&fm, &mem, 2);
	assert_int_equal(
	    salvo_manifest_decode(&m, &fm.mem, x.buf, x.len, &bad, &why),
	    SALVO_ERR_NOMEM);
	assert_string_equal(why, "out of memory");
	assert_null(m.entries);
	assert_null(m.digests);
	/* and a copy that cannot allocate them leaves nothing */
	salvo_manifest c;
	assert_int_equal(
	    salvo_manifest_decode(&m, &mem, x.buf, x.len, NULL, NULL), 0);
	salvo_failmem_init(&fm, &mem, 2);
	assert_int_equal(salvo_manifest_copy(&c, &m, &fm.mem), SALVO_ERR_NOMEM);
	assert_null(c.entries);
	assert_null(c.digests);
	salvo_manifest_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_empty_and_many),
	    cmocka_unit_test(test_decode_memory),
	    cmocka_unit_test(test_locate_every_byte),
	    cmocka_unit_test(test_every_truncation),
	    cmocka_unit_test(test_rejections),
	    cmocka_unit_test(test_stream_limit_exact),
	    cmocka_unit_test(test_encoder_refuses),
	    cmocka_unit_test(test_nomem),
	    cmocka_unit_test(test_copy),
	    cmocka_unit_test(test_skip_entry),
	    cmocka_unit_test(test_digests_round_trip),
	    cmocka_unit_test(test_digests_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
