/*
 * The simulation grid: seeded scenarios over a simulated bad network.
 *
 *   sim --grid [--count N]   every scenario of seeds [0, N) (default
 *                            1200), as cmocka tests of 100 seeds each
 *   sim --seed S [--verbose] one scenario, with a trace
 *
 * A scenario is a pure function of its seed (scenario()), so a failure's
 * seed is its whole bug report: `make sim SEED=S` replays it.  Seeds
 * cycle through twelve families (clean, random loss, burst loss,
 * reordering and jitter, duplication, corruption, a 5 s blackhole, a tree
 * of 1,000 small files, several senders at one receiver, everything at
 * once, and adaptive rate control over a WAN link it is not told, with
 * and without jitter) with RTT, rate, size, block size and thread count
 * drawn per seed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/wire.h"
#include "tests/sim/simnet.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define SLICE 100

static uint64_t pick(uint64_t *rng, const uint64_t *v, size_t n)
{
	return v[sim_rand(rng) % n];
}
#define PICK(rng, arr) pick(rng, arr, sizeof(arr) / sizeof(arr[0]))

static const char *const families[] = {
    "clean",	   "random loss", "burst loss", "reorder+jitter",
    "duplication", "corruption",  "blackhole",	"tree of 1000 files",
    "3 senders",   "everything",  "adaptive",	"adaptive, jitter",
};

static void scenario(uint64_t seed, sim_scenario *sc)
{
	static const uint64_t rtts_ms[] = {1,	2,   10,  30, 50,
					   100, 200, 300, 600};
	static const uint64_t rates_mbit[] = {10, 50, 100, 200, 500, 1000};
	static const uint64_t sizes[] = {0,	 1,	  1000,	   65536,
					 300000, 1 << 20, 4 << 20, 16 << 20};
	static const uint64_t blocks[] = {65536, 262144, 1 << 20, 4 << 20};
	static const uint64_t losses_ppm[] = {1000, 10000, 50000, 100000,
					      200000};
	uint64_t rng = seed * 0x9E3779B97F4A7C15ull + 12345;
	memset(sc, 0, sizeof(*sc));
	sc->seed = seed;
	int fam = (int)(seed % 12);
	snprintf(sc->name, sizeof(sc->name), "%s", families[fam]);
	uint64_t rtt = PICK(&rng, rtts_ms) * MS;
	uint64_t link = PICK(&rng, rates_mbit) * 1000000;
	sc->nsenders = 1;
	sc->file_bytes = PICK(&rng, sizes);
	if (seed % 97 == 13)
		sc->file_bytes = 64 << 20; /* the largest case, now and then */
	sc->block_bytes = (uint32_t)PICK(&rng, blocks);
	sc->datagram_bytes = sim_rand(&rng) % 5 == 0 ? 8972 : 1472;
	sc->lanes = 1 + (int)(sim_rand(&rng) % 4);
	sc->timeout_ns = 30 * SEC;
	simlink_params *f = &sc->fwd, *r = &sc->rev;
	f->delay_ns = r->delay_ns = rtt / 2;
	switch (fam) {
	case 1:
		f->loss = (double)PICK(&rng, losses_ppm) / 1e6;
		if (sim_rand(&rng) % 2)
			r->loss = f->loss;
		break;
	case 2: /* mean burst 1/p_bg packets */
		f->ge_p_gb = 0.002 + (double)(sim_rand(&rng) % 10) / 1000;
		f->ge_p_bg = 0.2 + (double)(sim_rand(&rng) % 60) / 100;
		f->ge_loss_bad = 0.5 + (double)(sim_rand(&rng) % 50) / 100;
		f->ge_loss_good = 0.001;
		break;
	case 3:
		f->jitter_ns = rtt / 40;
		f->reorder = 0.01 + (double)(sim_rand(&rng) % 5) / 100;
		f->reorder_ns = rtt / 20 > 500000 ? rtt / 20 : 500000;
		f->loss = 0.01;
		break;
	case 4:
		f->duplicate = 0.01 + (double)(sim_rand(&rng) % 5) / 100;
		r->duplicate = 0.02;
		f->loss = 0.005;
		break;
	case 5:
		f->corrupt = 0.001;
		r->corrupt = 0.001;
		f->loss = 0.01;
		break;
	case 6: /* 5 s outage both ways, one second into the transfer */
		sc->file_bytes = 16 << 20;
		link = 50000000;
		f->blackhole_start_ns = r->blackhole_start_ns = 2 * SEC;
		f->blackhole_end_ns = r->blackhole_end_ns = 7 * SEC;
		f->loss = 0.01;
		break;
	case 7:
		sc->tree = 1;
		sc->tree_files = 1000;
		f->loss = 0.01;
		break;
	case 8:
		sc->nsenders = 3;
		f->loss = (double)PICK(&rng, losses_ppm) / 1e6;
		break;
	case 9:
		f->loss = 0.05;
		r->loss = 0.02;
		f->jitter_ns = rtt / 50;
		f->reorder = 0.02;
		f->reorder_ns = rtt / 20 > 500000 ? rtt / 20 : 500000;
		f->duplicate = 0.01;
		f->corrupt = 0.001;
		break;
	case 10:
	case 11: {
		/* the sender is not told the link rate: ceiling 10 Gbit/s */
		static const uint64_t aloss_ppm[] = {0, 1000, 10000, 50000};
		static const uint64_t wan_ms[] = {10,  30,  50, 100,
						  200, 300, 600};
		/* validated on WAN paths; below 10 ms RTT set --rate */
		rtt = PICK(&rng, wan_ms) * MS;
		f->delay_ns = r->delay_ns = rtt / 2;
		sc->adaptive = 1;
		f->loss = (double)PICK(&rng, aloss_ppm) / 1e6;
		if (fam == 11) /* queueing delay must not be read into jitter */
			f->jitter_ns = rtt / 50;
		break;
	}
	default:
		break;
	}
	f->rate_bps = link;
	f->queue_bytes = 1 << 20;
	r->rate_bps = link;
	r->queue_bytes = 1 << 20;
	if (sc->adaptive) { /* a router buffer of one BDP, at least 64 KiB */
		uint64_t bdp = link / 8 * (rtt > MS ? rtt : MS) / SEC;
		f->queue_bytes = bdp > 65536 ? bdp : 65536;
	}
	/* pace just under the link: datagram over its IP/UDP frame */
	sc->rate_bps = link / 100 * 95 * (sc->datagram_bytes) /
		       (sc->datagram_bytes + 28) / (uint64_t)sc->nsenders;
	if (sc->adaptive)
		sc->rate_bps = 10000000000ull;
	/* keep every run's packet count modest: slow links get less data */
	uint64_t cap = link / 8 * 4; /* four seconds of link time */
	if (!sc->tree && sc->file_bytes > cap && fam != 6 &&
	    sc->file_bytes != (64 << 20))
		sc->file_bytes = cap;
}

typedef struct grid_stats {
	int runs, failures;
	double worst_bytes, worst_time;
	uint64_t worst_bytes_seed, worst_time_seed;
	uint64_t datagrams;
} grid_stats;

static grid_stats G;

static int run_seed(uint64_t seed, int verbose)
{
	sim_scenario sc;
	sim_result res;
	char desc[512];
	scenario(seed, &sc);
	sim_describe(&sc, desc, sizeof(desc));
	if (verbose)
		fprintf(stderr, "%s\n", desc);
	int ok = sim_run(&sc, &res, verbose);
	double rb = (double)res.sent_bytes /
		    (double)(res.payload_bytes ? res.payload_bytes : 1) *
		    (1 - res.loss_eff);
	double rt = (double)res.time_ns / (double)res.bound_ns;
	G.runs++;
	G.datagrams += res.datagrams;
	int outage = sc.fwd.blackhole_end_ns > sc.fwd.blackhole_start_ns;
	if (!outage && res.payload_bytes > 100000 && rb > G.worst_bytes) {
		G.worst_bytes = rb;
		G.worst_bytes_seed = seed;
	}
	if (rt > G.worst_time) {
		G.worst_time = rt;
		G.worst_time_seed = seed;
	}
	if (verbose || !ok)
		fprintf(stderr,
			"%s %s\n  sent %llu B (bound %llu, payload %llu, "
			"retx %llu), %.3f s (bound %.3f s)%s%s\n"
			"  replay: make sim SEED=%llu\n",
			ok ? "ok" : "FAILED", desc,
			(unsigned long long)res.sent_bytes,
			(unsigned long long)res.bound_bytes,
			(unsigned long long)res.payload_bytes,
			(unsigned long long)res.retx_bytes, res.time_ns / 1e9,
			res.bound_ns / 1e9, ok ? "" : "\n  why: ", res.why,
			(unsigned long long)seed);
	if (!ok)
		G.failures++;
	return ok;
}

static uint64_t grid_count = 1200;

static void test_slice(void **state)
{
	uint64_t first = (uint64_t)(uintptr_t)*state;
	int bad = 0;
	for (uint64_t s = first; s < first + SLICE && s < grid_count; s++)
		bad += !run_seed(s, 0);
	assert_int_equal(bad, 0);
}

int main(int argc, char **argv)
{
	int verbose = 0, have_seed = 0;
	uint64_t seed = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--verbose"))
			verbose = 1;
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 10);
			have_seed = 1;
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			grid_count = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--grid")) {
			fprintf(stderr,
				"usage: sim --grid [--count N] | --seed S "
				"[--verbose]\n");
			return 2;
		}
	}
	if (have_seed)
		return run_seed(seed, verbose) ? 0 : 1;

	size_t nslices = (size_t)((grid_count + SLICE - 1) / SLICE);
	struct CMUnitTest *tests = calloc(nslices, sizeof(*tests));
	char(*names)[48] = calloc(nslices, 48);
	for (size_t i = 0; i < nslices; i++) {
		snprintf(names[i], 48, "seeds %zu-%zu", i * SLICE,
			 (size_t)((i + 1) * SLICE < grid_count
				      ? (i + 1) * SLICE - 1
				      : grid_count - 1));
		tests[i] = (struct CMUnitTest){names[i], test_slice, NULL, NULL,
					       (void *)(uintptr_t)(i * SLICE)};
	}
	int rc = _cmocka_run_group_tests("simulation grid", tests, nslices,
					 NULL, NULL);
	printf(
	    "sim: %d transfers, %d failed, %llu datagrams; worst bytes "
	    "sent / (payload / (1 - loss)) = %.4f (seed %llu; transfers over "
	    "100 kB, no outage); worst completion time / bound = %.3f "
	    "(seed %llu)\n",
	    G.runs, G.failures, (unsigned long long)G.datagrams, G.worst_bytes,
	    (unsigned long long)G.worst_bytes_seed, G.worst_time,
	    (unsigned long long)G.worst_time_seed);
	free(tests);
	free(names);
	return rc;
}
