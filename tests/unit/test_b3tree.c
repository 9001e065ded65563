/*
 * The any-order BLAKE3 tree against salvo_blake3_hash of the whole file:
 * sizes at every chunk and subtree edge and random ones up to 9 MiB, cut
 * into pieces of fixed and random lengths (many ending mid-chunk), fed
 * in order, reversed and shuffled, under every instruction set the CPU
 * has; refused pieces and early finals; failed allocations that leave
 * the tree unchanged; memory that stays small while pieces come in
 * order.  Random cases print their seed; SALVO_TEST_SEED=<seed> replays.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/b3tree.h"
#include "common/core/blake3.h"
#include "common/core/blake3_impl.h"
#include "common/core/error.h"
#include "tests/helpers/testmem.h"
#include "tests/helpers/testrand.h"

#define KIB 1024u
#define MIB (1024u * 1024u)
#define MAX_FILE (9 * MIB)

/* SWAPPED: neighbours trade places (datagrams a little out of order);
 * HELD: every seventh piece comes last (losses sent again) */
enum order { FORWARD, REVERSED, SHUFFLED, SWAPPED, HELD, ORDERS };
static const char *order_name[] = {"forward", "reversed", "shuffled", "swapped",
				   "held back"};

typedef struct piece {
	uint64_t off;
	size_t len;
} piece;

static uint64_t seed;
static uint8_t *file; /* MAX_FILE random bytes */

static int setup(void **state)
{
	(void)state;
	seed = testrand_seed();
	printf("test_b3tree: seed %llu (replay: SALVO_TEST_SEED=%llu)\n",
	       (unsigned long long)seed, (unsigned long long)seed);
	static const char *names[] = {"portable", "avx2", "avx512"};
	printf("test_b3tree: instruction sets tested:");
	for (int isa = 0; isa <= SALVO_BLAKE3_ISA_AVX512; isa++)
		if (isa <= salvo_blake3_cpu_isa())
			printf(" %s", names[isa]);
	printf("; skipped (the CPU lacks them):%s",
	       salvo_blake3_cpu_isa() == SALVO_BLAKE3_ISA_AVX512 ? " none"
								 : "");
	for (int isa = salvo_blake3_cpu_isa() + 1;
	     isa <= SALVO_BLAKE3_ISA_AVX512; isa++)
		printf(" %s", names[isa]);
	printf("\n");
	salvo_testrand r = {seed};
	file = malloc(MAX_FILE);
	if (!file)
		return -1;
	for (size_t i = 0; i < MAX_FILE; i++)
		file[i] = (uint8_t)testrand_next(&r);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(file);
	return 0;
}

/* The instruction sets the CPU has, narrowest first; *n of them. */
static int cpu_isas(int isas[3])
{
	int n = 0;
	for (int isa = SALVO_BLAKE3_ISA_PORTABLE;
	     isa <= SALVO_BLAKE3_ISA_AVX512; isa++)
		if (isa <= salvo_blake3_cpu_isa())
			isas[n++] = isa;
	return n;
}

/* Cuts [0, size) into pieces of len bytes, or of random lengths in
 * [1, -len] when len is negative; returns how many (in *out, malloc'd). */
static size_t cut(uint64_t size, long len, salvo_testrand *r, piece **out)
{
	size_t n = 0, cap = 16;
	piece *v = malloc(cap * sizeof(*v));
	assert_non_null(v);
	for (uint64_t off = 0; off < size;) {
		uint64_t l = len > 0 ? (uint64_t)len
				     : testrand_below(r, (uint64_t)-len) + 1;
		if (l > size - off)
			l = size - off;
		if (n == cap) {
			cap *= 2;
			v = realloc(v, cap * sizeof(*v));
			assert_non_null(v);
		}
		v[n++] = (piece){off, (size_t)l};
		off += l;
	}
	*out = v;
	return n;
}

static void arrange(piece *v, size_t n, enum order o, salvo_testrand *r)
{
	if (o == REVERSED)
		for (size_t i = 0; i < n / 2; i++) {
			piece x = v[i];
			v[i] = v[n - 1 - i];
			v[n - 1 - i] = x;
		}
	if (o == SHUFFLED)
		for (size_t i = n; i > 1; i--) {
			size_t j = (size_t)testrand_below(r, i);
			piece x = v[i - 1];
			v[i - 1] = v[j];
			v[j] = x;
		}
	if (o == SWAPPED)
		for (size_t i = 0; i + 1 < n; i += 2 + testrand_below(r, 2)) {
			piece x = v[i];
			v[i] = v[i + 1];
			v[i + 1] = x;
		}
	if (o == HELD) {
		piece *w = malloc(n * sizeof(*w));
		size_t k = 0;
		assert_non_null(w);
		for (size_t i = 0; i < n; i++)
			if (i % 7 != 3)
				w[k++] = v[i];
		for (size_t i = 0; i < n; i++)
			if (i % 7 == 3)
				w[k++] = v[i];
		memcpy(v, w, n * sizeof(*w));
		free(w);
	}
}

/* The tree's digest of file[0, size) fed as v under isa, checking bytes
 * and is_complete along the way. */
static void tree_digest(const salvo_mem *mem, int isa, uint64_t size,
			const piece *v, size_t n, uint8_t out[32])
{
	salvo_b3tree *t;
	uint64_t bytes = 0;
	assert_int_equal(salvo_b3tree_new(&t, mem, size), 0);
	salvo_b3tree_limit_isa(t, isa);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(salvo_b3tree_is_complete(t), size == bytes);
		assert_int_equal(
		    salvo_b3tree_add(t, v[i].off, file + v[i].off, v[i].len),
		    0);
		bytes += v[i].len;
		assert_int_equal(salvo_b3tree_bytes(t), bytes);
	}
	assert_int_equal(salvo_b3tree_is_complete(t), 1);
	assert_int_equal(salvo_b3tree_final(t, out), 0);
	salvo_b3tree_del(t);
}

static void check(uint64_t size, long len, enum order o, salvo_testrand *r)
{
	uint8_t want[32], got[32];
	int isas[3], ni = cpu_isas(isas);
	salvo_mem mem = testmem_cmocka();
	piece *v;
	size_t n = cut(size, len, r, &v);
	arrange(v, n, o, r);
	salvo_blake3_hash(file, (size_t)size, want);
	for (int k = 0; k < ni; k++) {
		tree_digest(&mem, isas[k], size, v, n, got);
		if (memcmp(got, want, 32))
			fail_msg("seed %llu: %llu bytes in %zu pieces of %ld "
				 "(%s), isa %d: digest differs",
				 (unsigned long long)seed,
				 (unsigned long long)size, n, len,
				 order_name[o], isas[k]);
	}
	free(v);
}

/* Sizes at chunk and subtree edges, each cut several ways. */
static void test_edges(void **state)
{
	static const uint64_t sizes[] = {
	    0,
	    1,
	    1023,
	    1024,
	    1025,
	    2047,
	    2048,
	    2049,
	    3 * KIB,
	    4 * KIB + 1,
	    16 * KIB - 1,
	    16 * KIB,
	    16 * KIB + 1,
	    64 * KIB + 7,
	    MIB + 5,
	};
	static const long lens[] = {1, 100, 1000, 1024, 1448, 4096, -70000};
	salvo_testrand r = {seed ^ 1};
	(void)state;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
			for (int o = 0; o < ORDERS; o++) {
				/* single bytes only where quick */
				if (lens[l] == 1 && sizes[s] > 64 * KIB)
					continue;
				check(sizes[s], lens[l], (enum order)o, &r);
			}
}

/* Random sizes up to 9 MiB (some whole chunks, some power-of-two chunk
 * counts), random piece lengths up to 70 KiB and 4 MiB blocks. */
static void test_random(void **state)
{
	salvo_testrand r = {seed ^ 2};
	(void)state;
	for (int round = 0; round < 6; round++) {
		uint64_t size = testrand_below(&r, MAX_FILE) + 1;
		if (round == 1)
			size -= size % KIB;
		if (round == 2)
			size = 8 * MIB;
		check(size,
		      round % 2 ? -70000
				: -(long)testrand_below(&r, 8500) - 500,
		      (enum order)(round % ORDERS), &r);
		check(size, 4 * (long)MIB, SHUFFLED, &r);
	}
}

/* Pieces past the end, a final too early, an empty piece. */
static void test_refusals(void **state)
{
	salvo_mem mem = testmem_cmocka();
	salvo_b3tree *t;
	uint8_t d[32];
	(void)state;
	for (uint64_t size = 0; size < 4 * KIB; size += 1000) {
		assert_int_equal(salvo_b3tree_new(&t, &mem, size), 0);
		assert_int_equal(salvo_b3tree_add(t, size, file, 1),
				 SALVO_ERR_INVAL);
		assert_int_equal(salvo_b3tree_add(t, 0, file, size + 1),
				 SALVO_ERR_INVAL);
		assert_int_equal(salvo_b3tree_add(t, UINT64_MAX, file, 2),
				 SALVO_ERR_INVAL);
		assert_int_equal(salvo_b3tree_add(t, size, file, 0), 0);
		assert_int_equal(salvo_b3tree_bytes(t), 0);
		assert_int_equal(salvo_b3tree_is_complete(t), size == 0);
		if (size) {
			assert_int_equal(salvo_b3tree_final(t, d),
					 SALVO_ERR_INVAL);
			assert_int_equal(
			    salvo_b3tree_add(t, 1, file + 1, size - 1), 0);
			assert_int_equal(salvo_b3tree_final(t, d),
					 SALVO_ERR_INVAL);
			assert_int_equal(salvo_b3tree_is_complete(t), 0);
			assert_int_equal(salvo_b3tree_add(t, 0, file, 1), 0);
		}
		uint8_t want[32];
		salvo_blake3_hash(file, (size_t)size, want);
		assert_int_equal(salvo_b3tree_final(t, d), 0);
		assert_memory_equal(d, want, 32);
		salvo_b3tree_del(t);
	}
	salvo_b3tree_del(NULL);
	/* bytes added twice: refused once they would pass size, and never
	 * a read or write out of bounds (ASan) on the way */
	uint64_t size = 40 * KIB + 3;
	for (uint64_t dup = 0; dup + 1500 <= size; dup += 4000) {
		assert_int_equal(salvo_b3tree_new(&t, &mem, size), 0);
		assert_int_equal(salvo_b3tree_add(t, dup, file + dup, 1500), 0);
		assert_int_equal(salvo_b3tree_add(t, dup, file + dup, 1500), 0);
		for (uint64_t off = 0; off < size; off += 700) {
			uint64_t n = size - off < 700 ? size - off : 700;
			int err = salvo_b3tree_add(t, off, file + off, n);
			assert_true(err == 0 || err == SALVO_ERR_INVAL);
		}
		assert_true(salvo_b3tree_bytes(t) <= size);
		uint8_t d2[32];
		if (salvo_b3tree_final(t, d2) == 0) /* a wrong digest */
			assert_int_equal(salvo_b3tree_is_complete(t), 1);
		salvo_b3tree_del(t);
	}
	/* random pieces that overlap at will, small and large files: every
	 * call returns, nothing leaks, ASan sees no stray access */
	salvo_testrand rr = {seed ^ 5};
	for (int round = 0; round < 40; round++) {
		uint64_t fsize =
		    testrand_below(&rr, round % 2 ? 300 * KIB : 5000);
		assert_int_equal(salvo_b3tree_new(&t, &mem, fsize), 0);
		for (int i = 0; i < 400; i++) {
			uint64_t off = testrand_below(&rr, fsize + 1);
			uint64_t n = testrand_below(&rr, 9000);
			if (n > fsize - off)
				n = fsize - off;
			int err = salvo_b3tree_add(t, off, file + off, n);
			assert_true(err == 0 || err == SALVO_ERR_INVAL);
		}
		int err = salvo_b3tree_final(t, d);
		assert_true(err == 0 || err == SALVO_ERR_INVAL);
		salvo_b3tree_del(t);
	}
	/* abandoned half way, with partial chunks, runs and nodes held:
	 * cmocka's allocator finds any leak */
	assert_int_equal(salvo_b3tree_new(&t, &mem, 100 * KIB), 0);
	for (uint64_t off = 100; off < 90 * KIB; off += 3000)
		assert_int_equal(salvo_b3tree_add(t, off, file + off, 1500), 0);
	salvo_b3tree_del(t);
}

/* Every allocation refused in turn: new fails cleanly, and an add that
 * fails leaves the tree as it was, so the same piece added again once
 * memory is back gives the right digest. */
static void test_out_of_memory(void **state)
{
	salvo_mem inner = testmem_cmocka();
	salvo_testrand r = {seed ^ 3};
	uint64_t size = 300 * KIB + 17;
	uint8_t want[32], got[32];
	piece *v;
	size_t n = cut(size, -3000, &r, &v);
	(void)state;
	arrange(v, n, SHUFFLED, &r);
	salvo_blake3_hash(file, (size_t)size, want);
	for (size_t allow = 0; allow < 40; allow++) {
		salvo_failmem fm;
		salvo_b3tree *t;
		size_t failures = 0;
		salvo_failmem_init(&fm, &inner, allow);
		if (salvo_b3tree_new(&t, &fm.mem, size)) {
			assert_int_equal(allow, 0);
			continue;
		}
		for (size_t i = 0; i < n;) {
			uint64_t before = salvo_b3tree_bytes(t);
			int err = salvo_b3tree_add(t, v[i].off, file + v[i].off,
						   v[i].len);
			if (err) {
				assert_int_equal(err, SALVO_ERR_NOMEM);
				assert_int_equal(salvo_b3tree_bytes(t), before);
				fm.allow = 1 + failures++ % 3;
				continue;
			}
			i++;
		}
		assert_int_equal(salvo_b3tree_final(t, got), 0);
		if (memcmp(got, want, 32))
			fail_msg("seed %llu: allow %zu: digest differs",
				 (unsigned long long)seed, allow);
		salvo_b3tree_del(t);
	}
	free(v);

	/* the file's tail first, refused at each allocation in turn and
	 * added again with one more: it hashes lone chunks at once, so
	 * every buffer must be there after a retry */
	for (size_t allow = 1; allow < 12; allow++) {
		salvo_failmem fm;
		salvo_b3tree *t;
		uint64_t tail = size - 5000;
		salvo_failmem_init(&fm, &inner, allow);
		assert_int_equal(salvo_b3tree_new(&t, &fm.mem, size), 0);
		while (salvo_b3tree_add(t, tail, file + tail, 5000))
			fm.allow = 1;
		fm.allow = 1000;
		assert_int_equal(salvo_b3tree_add(t, 0, file, tail), 0);
		assert_int_equal(salvo_b3tree_final(t, got), 0);
		assert_memory_equal(got, want, 32);
		salvo_b3tree_del(t);
	}
}

/* A counting allocator: live and peak bytes. */
typedef struct counting {
	size_t live, peak;
} counting;

static void *counting_realloc(void *ud, void *p, size_t n)
{
	counting *c = ud;
	size_t *h = p ? (size_t *)p - 1 : NULL;
	if (h)
		c->live -= *h;
	if (!n) {
		free(h);
		return NULL;
	}
	size_t *q = realloc(h, n + sizeof(size_t));
	if (!q) {
		if (h)
			c->live += *h;
		return NULL;
	}
	*q = n;
	c->live += n;
	if (c->live > c->peak)
		c->peak = c->live;
	return q + 1;
}

/* Datagram-sized pieces in order, then with every hundredth held back
 * to the end: memory follows the holes, not the file. */
static void test_memory_bounded(void **state)
{
	counting c = {0, 0};
	salvo_mem mem = {counting_realloc, &c};
	salvo_testrand r = {seed ^ 4};
	uint64_t size = MAX_FILE;
	uint8_t want[32], got[32];
	piece *v;
	size_t n = cut(size, 1448, &r, &v);
	(void)state;
	salvo_blake3_hash(file, (size_t)size, want);
	tree_digest(&mem, salvo_blake3_cpu_isa(), size, v, n, got);
	assert_memory_equal(got, want, 32);
	printf("test_b3tree: %zu pieces in order: peak %zu bytes\n", n, c.peak);
	assert_true(c.peak < 256 * KIB);
	assert_int_equal(c.live, 0);

	/* every hundredth piece last: about two chunk buffers per hole */
	size_t held = 0;
	piece *w = malloc(n * sizeof(*w));
	assert_non_null(w);
	for (size_t i = 0, k = 0; i < n; i++)
		if (i % 100 == 50)
			held++;
		else
			w[k++] = v[i];
	for (size_t i = 0, k = n - held; i < n; i++)
		if (i % 100 == 50)
			w[k++] = v[i];
	c.peak = 0;
	tree_digest(&mem, salvo_blake3_cpu_isa(), size, w, n, got);
	assert_memory_equal(got, want, 32);
	printf("test_b3tree: %zu held back of %zu: peak %zu bytes\n", held, n,
	       c.peak);
	assert_true(c.peak < 256 * KIB + held * 3 * KIB);
	free(w);
	free(v);

	/* a small file costs a small multiple of its size: a run, partial
	 * chunks (at worst all), the queue */
	for (uint64_t small = 2 * KIB + 1; small < 64 * KIB; small *= 3) {
		n = cut(small, 1000, &r, &v);
		arrange(v, n, SHUFFLED, &r);
		c.peak = 0;
		tree_digest(&mem, salvo_blake3_cpu_isa(), small, v, n, got);
		salvo_blake3_hash(file, (size_t)small, want);
		assert_memory_equal(got, want, 32);
		printf("test_b3tree: %llu bytes shuffled: peak %zu bytes\n",
		       (unsigned long long)small, c.peak);
		assert_true(c.peak < 3 * small + 16 * KIB);
		free(v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_edges),
	    cmocka_unit_test(test_random),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_out_of_memory),
	    cmocka_unit_test(test_memory_bounded),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
