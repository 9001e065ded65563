/*
 * BLAKE3: the official test vectors (input bytes i mod 251, hash mode,
 * first 32 bytes of each output) under every instruction set the CPU
 * has; the SIMD chunk and parent kernels (consecutive counters and a
 * counter per chunk) against the portable ones; and
 * random inputs fed in random pieces equal to one shot, across every
 * instruction set, including runs of aligned 16-chunk subtrees, a last
 * chunk that is whole, and a copy of a running hash that goes on alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/blake3.h"
#include "common/core/blake3_impl.h"
#include "tests/helpers/testrand.h"

/* From test_vectors/test_vectors.json of the BLAKE3 reference. */
static const struct {
	size_t len;
	const char *hex;
} vectors[] = {
    {0, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"},
    {1, "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"},
    {1023, "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11"},
    {1024, "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7"},
    {1025, "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444"},
    {2048, "e776b6028c7cd22a4d0ba182a8bf62205d2ef576467e838ed6f2529b85fba24a"},
    {2049, "5f4d72f40d7a5f82b15ca2b2e44b1de3c2ef86c426c95c1af0b6879522563030"},
    {3072, "b98cb0ff3623be03326b373de6b9095218513e64f1ee2edd2525c7ad1e5cffd2"},
    {3073, "7124b49501012f81cc7f11ca069ec9226cecb8a2c850cfe644e327d22d3e1cd3"},
    {4096, "015094013f57a5277b59d8475c0501042c0b642e531b0a1c8f58d2163229e969"},
    {4097, "9b4052b38f1c5fc8b1f9ff7ac7b27cd242487b3d890d15c96a1c25b8aa0fb995"},
    {5120, "9cadc15fed8b5d854562b26a9536d9707cadeda9b143978f319ab34230535833"},
    {5121, "628bd2cb2004694adaab7bbd778a25df25c47b9d4155a55f8fbd79f2fe154cff"},
    {6144, "3e2e5b74e048f3add6d21faab3f83aa44d3b2278afb83b80b3c35164ebeca205"},
    {6145, "f1323a8631446cc50536a9f705ee5cb619424d46887f3c376c695b70e0f0507f"},
    {7168, "61da957ec2499a95d6b8023e2b0e604ec7f6b50e80a9678b89d2628e99ada77a"},
    {7169, "a003fc7a51754a9b3c7fae0367ab3d782dccf28855a03d435f8cfe74605e7817"},
    {8192, "aae792484c8efe4f19e2ca7d371d8c467ffb10748d8a5a1ae579948f718a2a63"},
    {8193, "bab6c09cb8ce8cf459261398d2e7aef35700bf488116ceb94a36d0f5f1b7bc3b"},
    {16384, "f875d6646de28985646f34ee13be9a576fd515f76b5b0a26bb324735041ddde4"},
    {31744, "62b6960e1a44bcc1eb1a611a8d6235b6b4b78f32e7abc4fb4c6cdcce94895c47"},
    {102400,
     "bc3e3d41a1146b069abffad3c0d44860cf664390afce4d9661f7902e7943e085"},
};

static const int isas[] = {SALVO_BLAKE3_ISA_PORTABLE, SALVO_BLAKE3_ISA_AVX2,
			   SALVO_BLAKE3_ISA_AVX512};

static void hex(const uint8_t d[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static const char *isa_name[] = {"portable", "avx2", "avx512"};

/* The ISA init would pick, limited to isa; -1 if the CPU lacks isa. */
static int usable(int isa)
{
	salvo_blake3 h;
	salvo_blake3_init(&h);
	return isa <= h.isa ? isa : -1;
}

/* Like usable, and says so when test skips isa. */
static int covered(int isa, const char *test)
{
	if (usable(isa) >= 0)
		return 1;
	printf("test_blake3: %s: %s SKIPPED, the CPU lacks it\n", test,
	       isa_name[isa]);
	return 0;
}

static void digest(int isa, const uint8_t *p, size_t len, uint8_t d[32])
{
	salvo_blake3 h;
	salvo_blake3_init(&h);
	salvo_blake3_limit_isa(&h, isa);
	salvo_blake3_update(&h, p, len);
	salvo_blake3_final(&h, d);
}

static void test_vectors(void **state)
{
	static uint8_t in[102400];
	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i % 251);
	for (size_t k = 0; k < sizeof(isas) / sizeof(isas[0]); k++) {
		if (!covered(isas[k], "test_vectors"))
			continue;
		for (size_t v = 0; v < sizeof(vectors) / sizeof(vectors[0]);
		     v++) {
			uint8_t d[32];
			char got[65];
			digest(isas[k], in, vectors[v].len, d);
			hex(d, got);
			if (strcmp(got, vectors[v].hex))
				fail_msg("isa %d, %zu bytes: %s, want %s",
					 isas[k], vectors[v].len, got,
					 vectors[v].hex);
		}
		/* one shot and byte-at-a-time agree on a few */
		for (size_t len = 0; len <= 3 * 1024 + 1; len += 1025) {
			salvo_blake3 h;
			uint8_t a[32], b[32];
			salvo_blake3_init(&h);
			salvo_blake3_limit_isa(&h, isas[k]);
			for (size_t i = 0; i < len; i++)
				salvo_blake3_update(&h, in + i, 1);
			salvo_blake3_final(&h, a);
			digest(isas[k], in, len, b);
			assert_memory_equal(a, b, 32);
		}
	}
}

static const struct {
	const char *name;
	int isa;
	void (*hash8)(const uint8_t *, uint64_t, uint32_t[8][8]);
	void (*hash8_at)(const uint8_t *, const uint64_t[8], uint32_t[8][8]);
	void (*parents8)(const uint32_t[8][16], uint32_t[8][8]);
} kernels[] = {
    {"avx2", SALVO_BLAKE3_ISA_AVX2, salvo_blake3_hash8_avx2,
     salvo_blake3_hash8_at_avx2, salvo_blake3_parents8_avx2},
    {"avx512", SALVO_BLAKE3_ISA_AVX512, salvo_blake3_hash8_avx512,
     salvo_blake3_hash8_at_avx512, salvo_blake3_parents8_avx512},
};

static void test_kernels_match_portable(void **state)
{
	uint64_t seed = testrand_seed();
	salvo_testrand rnd = {seed};
	static uint8_t in[16 * SALVO_BLAKE3_CHUNK_BYTES];
	uint32_t par[8][16], want[8][8], got[8][8], want16[16][8], got16[16][8];
	(void)state;
	for (int round = 0; round < 20; round++) {
		for (size_t i = 0; i < sizeof(in); i++)
			in[i] = (uint8_t)testrand_next(&rnd);
		for (int i = 0; i < 8; i++)
			for (int w = 0; w < 16; w++)
				par[i][w] = (uint32_t)testrand_next(&rnd);
		/* counters that carry into the high word; a counter per
		 * chunk for the gathering kernels */
		uint64_t ctr =
		    round % 2 ? testrand_next(&rnd) >> 20 : 0xfffffffcull;
		uint64_t ctrs[16];
		for (int i = 0; i < 16; i++)
			ctrs[i] = testrand_next(&rnd) >> 10;
		salvo_blake3_hash8_at_portable(in, ctrs, want16);
		salvo_blake3_hash8_at_portable(
		    in + 8 * SALVO_BLAKE3_CHUNK_BYTES, ctrs + 8, want16 + 8);
		for (int i = 0; i < 16; i++) {
			uint32_t one[8];
			salvo_blake3_chunk_cv(
			    in + (size_t)i * SALVO_BLAKE3_CHUNK_BYTES,
			    SALVO_BLAKE3_CHUNK_BYTES, ctrs[i], one);
			assert_memory_equal(one, want16[i], 32);
		}
		if (usable(SALVO_BLAKE3_ISA_AVX512) >= 0) {
			salvo_blake3_hash16_at_avx512(in, ctrs, got16);
			if (memcmp(got16, want16, sizeof(want16)))
				fail_msg("seed %llu: hash16_at avx512 differs",
					 (unsigned long long)seed);
		}
		for (size_t k = 0; k < sizeof(kernels) / sizeof(kernels[0]);
		     k++) {
			if (usable(kernels[k].isa) < 0)
				continue;
			kernels[k].hash8_at(in, ctrs, got);
			if (memcmp(got, want16, sizeof(got)))
				fail_msg("seed %llu: hash8_at %s differs",
					 (unsigned long long)seed,
					 kernels[k].name);
		}
		if (round ? usable(SALVO_BLAKE3_ISA_AVX512) >= 0
			  : covered(SALVO_BLAKE3_ISA_AVX512, "hash16")) {
			salvo_blake3_hash8_portable(in, ctr, want16);
			salvo_blake3_hash8_portable(
			    in + 8 * SALVO_BLAKE3_CHUNK_BYTES, ctr + 8,
			    want16 + 8);
			salvo_blake3_hash16_avx512(in, ctr, got16);
			if (memcmp(got16, want16, sizeof(want16)))
				fail_msg("seed %llu: hash16 avx512 differs",
					 (unsigned long long)seed);
		}
		for (size_t k = 0; k < sizeof(kernels) / sizeof(kernels[0]);
		     k++) {
			if (usable(kernels[k].isa) < 0) {
				if (!round)
					covered(kernels[k].isa,
						"hash8/parents8");
				continue;
			}
			salvo_blake3_hash8_portable(in, ctr, want);
			kernels[k].hash8(in, ctr, got);
			if (memcmp(got, want, sizeof(want)))
				fail_msg("seed %llu: hash8 %s differs",
					 (unsigned long long)seed,
					 kernels[k].name);
			salvo_blake3_parents8_portable(
			    (const uint32_t(*)[16])par, want);
			kernels[k].parents8((const uint32_t(*)[16])par, got);
			if (memcmp(got, want, sizeof(want)))
				fail_msg("seed %llu: parents8 %s differs",
					 (unsigned long long)seed,
					 kernels[k].name);
		}
	}
}

/* Random lengths up to 3 MiB (subtrees of 16 chunks, whole last chunks:
 * multiples of 1 KiB are drawn often), fed in random pieces (often
 * multiples of 1 KiB too) under every instruction set: all equal the
 * portable one-shot digest.  Halfway, a copy of the hash goes on alone
 * and must agree. */
static void test_pieces_equal_one_shot(void **state)
{
	uint64_t seed = testrand_seed();
	salvo_testrand rnd = {seed};
	enum { MAX = 3 << 20 };
	uint8_t *buf = malloc(MAX);
	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < MAX; i++)
		buf[i] = (uint8_t)testrand_next(&rnd);
	for (int round = 0; round < 24; round++) {
		size_t len = testrand_below(&rnd, MAX);
		if (round % 3 == 0)
			len -= len % SALVO_BLAKE3_CHUNK_BYTES;
		if (round < 3)
			len = (size_t)round * SALVO_BLAKE3_CHUNK_BYTES;
		uint8_t want[32];
		digest(SALVO_BLAKE3_ISA_PORTABLE, buf, len, want);
		for (size_t k = 0; k < sizeof(isas) / sizeof(isas[0]); k++) {
			if (usable(isas[k]) < 0) {
				if (!round)
					covered(isas[k], "pieces");
				continue;
			}
			salvo_blake3 h, fork;
			uint8_t got[32];
			int forked = 0;
			salvo_blake3_init(&h);
			salvo_blake3_limit_isa(&h, isas[k]);
			for (size_t off = 0; off < len;) {
				size_t n = testrand_below(&rnd, 1 << 19) + 1;
				if (testrand_below(&rnd, 2))
					n = (n / SALVO_BLAKE3_CHUNK_BYTES + 1) *
					    SALVO_BLAKE3_CHUNK_BYTES;
				if (n > len - off)
					n = len - off;
				salvo_blake3_update(&h, buf + off, n);
				off += n;
				if (!forked && off >= len / 2) {
					fork = h;
					forked = 1;
					salvo_blake3_update(&fork, buf + off,
							    len - off);
				}
			}
			salvo_blake3_final(&h, got);
			if (memcmp(got, want, 32))
				fail_msg("seed %llu: isa %d, %zu bytes in "
					 "pieces differ",
					 (unsigned long long)seed, isas[k],
					 len);
			if (forked) {
				salvo_blake3_final(&fork, got);
				if (memcmp(got, want, 32))
					fail_msg("seed %llu: isa %d, %zu "
						 "bytes: the copy differs",
						 (unsigned long long)seed,
						 isas[k], len);
			}
		}
	}
	free(buf);
}

int main(void)
{
	printf("test_blake3: instruction sets tested:");
	for (size_t k = 0; k < sizeof(isas) / sizeof(isas[0]); k++)
		if (usable(isas[k]) >= 0)
			printf(" %s", isa_name[isas[k]]);
	printf("; skipped (the CPU lacks them):");
	int skipped = 0;
	for (size_t k = 0; k < sizeof(isas) / sizeof(isas[0]); k++)
		if (usable(isas[k]) < 0)
			skipped += printf(" %s", isa_name[isas[k]]);
	printf("%s\n", skipped ? "" : " none");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_kernels_match_portable),
	    cmocka_unit_test(test_pieces_equal_one_shot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
