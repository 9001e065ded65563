/*
 * Throughput of the any-order BLAKE3 tree against salvo_blake3_update on
 * the same bytes: 4 MiB blocks in order and shuffled (the sender), 1448-
 * and 8948-byte datagram payloads in order and with 1 % held back to the
 * end (the receiver), shuffled datagrams, blocks that are not whole
 * chunks.  Not a cmocka test (its name does not start with
 * test_); build and run by hand:
 *
 *   make -j2 build/release/libsalvo.a
 *   gcc -std=gnu11 -O2 -I. tests/unit/bench_b3tree.c \
 *       build/release/libsalvo.a -o build/release/bench_b3tree
 *   build/release/bench_b3tree [MiB] [isa]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/core/b3tree.h"
#include "common/core/blake3.h"

typedef struct piece {
	uint64_t off;
	size_t len;
} piece;

/* CPU time of this thread: on a shared machine, time spent waiting for
 * a core does not count. */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	return p;
}

static size_t cut(uint64_t size, size_t len, piece **out)
{
	size_t n = (size_t)((size + len - 1) / len);
	piece *v = xmalloc(n * sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		v[i].off = (uint64_t)i * len;
		v[i].len =
		    size - v[i].off < len ? (size_t)(size - v[i].off) : len;
	}
	*out = v;
	return n;
}

static void shuffle(piece *v, size_t n, uint64_t *s)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(rnd(s) % i);
		piece x = v[i - 1];
		v[i - 1] = v[j];
		v[j] = x;
	}
}

/* Every hundredth piece moved to the end. */
static void hold_back(piece *v, size_t n)
{
	piece *w = xmalloc(n * sizeof(*w));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (i % 100 != 50)
			w[k++] = v[i];
	for (size_t i = 0; i < n; i++)
		if (i % 100 == 50)
			w[k++] = v[i];
	memcpy(v, w, n * sizeof(*w));
	free(w);
}

static double best_of(int runs, double (*fn)(void *), void *arg)
{
	double best = 1e9;
	for (int i = 0; i < runs; i++) {
		double t = fn(arg);
		if (t < best)
			best = t;
	}
	return best;
}

typedef struct job {
	const uint8_t *buf;
	uint64_t size;
	const piece *v;
	size_t n;
	int isa;
	uint8_t digest[32];
} job;

static double run_tree(void *arg)
{
	job *j = arg;
	salvo_b3tree *t;
	double t0 = now();
	if (salvo_b3tree_new(&t, &salvo_mem_libc, j->size))
		exit(1);
	salvo_b3tree_limit_isa(t, j->isa);
	for (size_t i = 0; i < j->n; i++)
		if (salvo_b3tree_add(t, j->v[i].off, j->buf + j->v[i].off,
				     j->v[i].len))
			exit(1);
	if (salvo_b3tree_final(t, j->digest))
		exit(1);
	salvo_b3tree_del(t);
	return now() - t0;
}

static double run_update(void *arg)
{
	job *j = arg;
	salvo_blake3 h;
	double t0 = now();
	salvo_blake3_init(&h);
	salvo_blake3_limit_isa(&h, j->isa);
	for (size_t i = 0; i < j->n; i++)
		salvo_blake3_update(&h, j->buf + j->v[i].off, j->v[i].len);
	salvo_blake3_final(&h, j->digest);
	return now() - t0;
}

int main(int argc, char **argv)
{
	uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 0) : 256;
	int isa = argc > 2 ? atoi(argv[2]) : SALVO_BLAKE3_ISA_AVX512;
	uint64_t size = mib << 20, s = 42;
	uint8_t *buf = xmalloc((size_t)size), want[32];
	for (uint64_t i = 0; i < size; i += 8) {
		uint64_t r = rnd(&s);
		memcpy(buf + i, &r, size - i < 8 ? (size_t)(size - i) : 8);
	}
	salvo_blake3_hash(buf, (size_t)size, want);
	static const struct {
		const char *name;
		size_t len;
		int order; /* 0 in order, 1 shuffled, 2 1 % held back */
	} cases[] = {
	    {"4 MiB in order", 4 << 20, 0}, {"4 MiB shuffled", 4 << 20, 1},
	    {"1448 B in order", 1448, 0},   {"1448 B 1% held back", 1448, 2},
	    {"8948 B in order", 8948, 0},   {"8948 B 1% held back", 8948, 2},
	    {"1448 B shuffled", 1448, 1},   {"1e6 B in order", 1000000, 0},
	    {"1e6 B shuffled", 1000000, 1},
	};
	printf("%llu MiB, isa %d (0 portable, 1 avx2, 2 avx512), GB/s\n",
	       (unsigned long long)mib, isa);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		job j = {buf, size, NULL, 0, isa, {0}};
		piece *v;
		j.n = cut(size, cases[c].len, &v);
		if (cases[c].order == 1)
			shuffle(v, j.n, &s);
		if (cases[c].order == 2)
			hold_back(v, j.n);
		j.v = v;
		double tt = best_of(3, run_tree, &j);
		if (memcmp(j.digest, want, 32)) {
			printf("%s: WRONG DIGEST\n", cases[c].name);
			return 1;
		}
		/* the streaming hash, fed the same lengths in order */
		piece *u;
		j.n = cut(size, cases[c].len, &u);
		j.v = u;
		double tu = best_of(3, run_update, &j);
		printf("%-22s tree %6.3f   update %6.3f   ratio %.2f\n",
		       cases[c].name, (double)size / tt * 1e-9,
		       (double)size / tu * 1e-9, tu / tt);
		free(u);
		free(v);
	}
	free(buf);
	return 0;
}
