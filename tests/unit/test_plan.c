/*
 * The planner: the worked example of the issue, the fudge curve, the
 * sizing rules, and every cell of `salvo plan --table` against the formula
 * computed here independently in floating point.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <lz4hc.h>

#include "common/core/error.h"
#include "conf/plan.h"
#include "conf/plan_out.h"

#define MiB (1024ULL * 1024)

static const struct salvo_plan_input example = {
    300000000, 150000000, 0, 0, 1500, 4, 2,
};

static void test_worked_example(void **state)
{
	struct salvo_plan p;
	(void)state;
	assert_int_equal(salvo_plan_compute(&example, &p), 0);
	assert_int_equal(p.min_inflight_bytes, 5625000); /* 5.625 MB */
	assert_int_equal(p.fudge_milli, 3000);
	assert_int_equal(p.recommended_bytes, 16875000);
	assert_int_equal(p.block_size_bytes, 4 * MiB);
	assert_int_equal(p.threads, 5);
	assert_int_equal(p.memory_bytes, 20 * MiB);
	assert_true(p.covered);
	assert_int_equal(p.sndbuf_bytes, 2 * MiB); /* 5.625 MB / 4 sockets */
	assert_int_equal(p.rcvbuf_bytes, 4 * MiB); /* 5.625 MB / 2 sockets */
	assert_int_equal(p.datagram_bytes, 1472);
	assert_int_equal(p.datagram6_bytes, 1452); /* IPv6: 1500 - 48 */
}

/* Process memory: each block-sender holds a batch of datagrams and LZ4
 * HC's state beside its block; each receive socket a 64 KiB slot per
 * datagram of a batch and 4 MiB of inflate buffers. */
static void test_process_memory(void **state)
{
	struct salvo_plan_input in = example;
	struct salvo_plan p;
	(void)state;
	in.batch = 32;
	in.recv_budget_bytes = 256 * MiB;
	assert_int_equal(salvo_plan_compute(&in, &p), 0);
	uint64_t th = 32 * 1472 + (uint64_t)LZ4_sizeofStateHC();
	assert_int_equal(p.mem.sender_thread_bytes, th);
	assert_int_equal(p.mem.sender_bytes, 20 * MiB + 5 * th);
	assert_int_equal(p.mem.receiver_socket_bytes, 32 * 64 * 1024 + 4 * MiB);
	assert_int_equal(p.mem.receiver_bytes, 2 * (2 * MiB + 4 * MiB));

	in.batch = 0; /* counts as 1 */
	assert_int_equal(salvo_plan_compute(&in, &p), 0);
	assert_int_equal(p.mem.sender_thread_bytes,
			 1472 + (uint64_t)LZ4_sizeofStateHC());
	assert_int_equal(p.mem.receiver_socket_bytes, 64 * 1024 + 4 * MiB);

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	in.batch = 32;
	assert_int_equal(salvo_plan_compute(&in, &p), 0);
	assert_int_equal(salvo_plan_write(&in, &p, f, 0), 0);
	fclose(f);
	assert_non_null(strstr(buf, "sender: 5 x 4MiB blocks + 5 x 0.31 MB "
				    "per thread"));
	assert_non_null(strstr(buf, "receiver: 2 sockets x 6.29 MB"));
	assert_non_null(strstr(buf, "receiver.memory_budget (256MiB)"));
	free(buf);
}

static void test_fudge_curve(void **state)
{
	static const struct {
		uint64_t loss_ppm, fudge_milli;
	} c[] = {
	    {0, 3000},	     {1000, 3000},    {5000, 3000},	{52500, 6500},
	    {100000, 10000}, {200000, 10000}, {1000000, 10000}, {24000, 4400},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		assert_int_equal(salvo_plan_fudge_milli(c[i].loss_ppm),
				 c[i].fudge_milli);
	/* monotonic between the ends */
	for (uint64_t ppm = 5000; ppm < 100000; ppm += 250)
		assert_true(salvo_plan_fudge_milli(ppm) <=
			    salvo_plan_fudge_milli(ppm + 250));
}

static void test_fudge_override_loss_and_jumbo(void **state)
{
	struct salvo_plan_input in = example;
	struct salvo_plan p;
	(void)state;
	in.fudge_milli = 4500;
	in.mtu_bytes = 9000;
	assert_int_equal(salvo_plan_compute(&in, &p), 0);
	assert_int_equal(p.recommended_bytes, 25312500); /* 5.625 × 4.5 MB */
	assert_int_equal(p.datagram_bytes, 8972);
	assert_int_equal(p.datagram6_bytes, 8952);
	in.fudge_milli = 0;
	in.loss_ppm = 100000; /* 10 % */
	assert_int_equal(salvo_plan_compute(&in, &p), 0);
	assert_int_equal(p.recommended_bytes, 56250000);
	assert_true(p.covered);
	assert_true(p.memory_bytes >= p.recommended_bytes);
}

static void test_invalid_input(void **state)
{
	struct salvo_plan p = {0}, in_p;
	struct salvo_plan_input in;
	(void)state;
	memset(&in_p, 0x5a, sizeof(in_p));
	p = in_p;
	in = example, in.bandwidth_bps = 0;
	assert_int_equal(salvo_plan_compute(&in, &p), SALVO_ERR_INVAL);
	in = example, in.rtt_ns = 0;
	assert_int_equal(salvo_plan_compute(&in, &p), SALVO_ERR_INVAL);
	in = example, in.mtu_bytes = 575;
	assert_int_equal(salvo_plan_compute(&in, &p), SALVO_ERR_INVAL);
	in = example, in.mtu_bytes = 65536;
	assert_int_equal(salvo_plan_compute(&in, &p), SALVO_ERR_INVAL);
	in = example, in.send_sockets = 0;
	assert_int_equal(salvo_plan_compute(&in, &p), SALVO_ERR_INVAL);
	in = example, in.recv_sockets = 0;
	assert_int_equal(salvo_plan_compute(&in, &p), SALVO_ERR_INVAL);
	assert_memory_equal(&p, &in_p, sizeof(p)); /* untouched */
}

static int is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static void test_sizing_rules(void **state)
{
	(void)state;
	for (uint64_t m = 1; m <= 64 * 256 * MiB; m = m * 3 + 7) {
		struct salvo_plan p = {0};
		salvo_plan_size_memory(m, &p);
		assert_true(is_pow2(p.block_size_bytes));
		assert_in_range(p.block_size_bytes, 256 * 1024, 256 * MiB);
		assert_in_range(p.threads, 1, 64);
		assert_int_equal(p.memory_bytes,
				 p.block_size_bytes * p.threads);
		assert_true(p.covered);
		assert_true(p.memory_bytes >= m);

		salvo_plan_fit_memory(m, &p);
		assert_true(is_pow2(p.block_size_bytes));
		assert_in_range(p.threads, 1, 64);
		if (m >= 256 * 1024 && m <= 64 * 256 * MiB) {
			assert_true(p.covered);
			assert_true(p.memory_bytes <= m);
		}
	}
	/* past 64 × 256 MiB the plan says it cannot cover */
	struct salvo_plan big = {0};
	salvo_plan_size_memory(64 * 256 * MiB + 1, &big);
	assert_false(big.covered);
	assert_int_equal(big.threads, 64);
}

/* Renders into a string with open_memstream. */
static char *render_table(const struct salvo_plan_table_spec *spec, int json)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	assert_non_null(m);
	assert_int_equal(salvo_plan_write_table(spec, m, json), 0);
	fclose(m);
	return text;
}

static void check_table(uint64_t loss_ppm, uint64_t fudge_milli, double fudge)
{
	static const double mbit[] = {1,    2,	  5,	10,   25,   50,
				      75,   100,  200,	300,  500,  750,
				      1000, 2000, 3000, 5000, 10000};
	static const double ms[] = {1,	 2,   5,   10,	25,  50, 75,
				    100, 150, 200, 250, 300, 350};
	const double cover_mb = 5.0 * 4 * 1048576 / 1e6;
	struct salvo_plan_table_spec spec = {loss_ppm, fudge_milli, 5 * 4 * MiB,
					     "5 x 4MiB"};
	char *text = render_table(&spec, 0), *line, *save = NULL;
	int row = -1, cells = 0, marked = 0;

	assert_non_null(strstr(text, "bandwidth (Mbit/s) x RTT (s) / 8"));
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (row < 0) {
			if (!strncmp(line, "Mbit/s", 6))
				row = 0;
			continue;
		}
		char *p = line, *end;
		double bw = strtod(p, &end);
		assert_true(end != p);
		assert_true(bw == mbit[row]);
		p = end;
		for (int c = 0; c < 13; c++) {
			double got = strtod(p, &end);
			assert_true(end != p);
			/* the formula, computed independently */
			double want =
			    mbit[row] * (ms[c] / 1000.0) / 8.0 * fudge;
			if (fabs(got - want) > 0.005 + 1e-9)
				fail_msg("%g Mbit/s x %g ms: printed %.2f, "
					 "formula %.6f",
					 mbit[row], ms[c], got, want);
			int mark = *end == '*';
			if (mark != (want > cover_mb))
				fail_msg("%g Mbit/s x %g ms: mark %d for %.4f",
					 mbit[row], ms[c], mark, want);
			marked += mark;
			p = end + 1;
			cells++;
		}
		row++;
	}
	assert_int_equal(row, 17);
	assert_int_equal(cells, 17 * 13);
	assert_true(marked > 0);
	free(text);
}

static void test_table_every_cell(void **state)
{
	(void)state;
	check_table(0, 0, 3.0);
	check_table(5000, 0, 3.0);
	check_table(100000, 0, 10.0);
	check_table(52500, 0, 6.5);
	check_table(0, 4500, 4.5);
}

static void test_table_json(void **state)
{
	struct salvo_plan_table_spec spec = {0, 0, 20 * MiB, "x"};
	char *text = render_table(&spec, 1);
	int rows = 0;
	(void)state;
	for (char *p = text; (p = strstr(p, "\"bandwidth_mbit\"")); p++)
		rows++;
	assert_int_equal(rows, 17);
	/* 300 Mbit/s at 150 ms: 16.875 MB rounds half up */
	assert_non_null(strstr(text, "{\"rtt_ms\": 150, \"mb\": 16.88, "
				     "\"covered\": true}"));
	assert_non_null(strstr(text, "{\"rtt_ms\": 350, \"mb\": 1312.50, "
				     "\"covered\": false}"));
	free(text);
}

static void test_plan_text(void **state)
{
	struct salvo_plan p;
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	(void)state;
	assert_int_equal(salvo_plan_compute(&example, &p), 0);
	assert_int_equal(salvo_plan_write(&example, &p, m, 0), 0);
	fclose(m);
	assert_non_null(strstr(text, "bandwidth (Mbit/s) x RTT (s) / 8\n"));
	assert_non_null(strstr(text, "= 300 x 0.15 / 8 = 5.625 MB\n"));
	assert_non_null(strstr(text, "recommended memory    5.625 MB x 3 = "
				     "16.875 MB\n"));
	assert_non_null(strstr(text, "block size            4MiB (4194304 "
				     "bytes)\n"));
	assert_non_null(strstr(text, "block-sender threads  5 (5 x 4MiB = "
				     "20.97152 MB, covers the "
				     "recommendation)\n"));
	assert_non_null(strstr(text, "datagram payload      1472 bytes over "
				     "IPv4, 1452 over IPv6 (MTU 1500 - 28, - "
				     "48)\n"));
	free(text);

	m = open_memstream(&text, &len);
	assert_int_equal(salvo_plan_write(&example, &p, m, 1), 0);
	fclose(m);
	assert_non_null(strstr(text, "\"min_inflight_bytes\": 5625000, "
				     "\"min_inflight_mb\": 5.625"));
	assert_non_null(strstr(text, "\"recommended_mb\": 16.875"));
	free(text);
}

static void test_sockbuf_note(void **state)
{
	char dir[] = "/tmp/salvo-proc-XXXXXX", path[256], note[512];
	FILE *f;
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sys", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/sys/net", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/sys/net/core", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/sys/net/core/rmem_max", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("212992\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/sys/net/core/wmem_max", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("67108864\n", f);
	fclose(f);

	assert_int_equal(
	    salvo_plan_sockbuf_note(dir, 2 * MiB, 4 * MiB, note, sizeof(note)),
	    1);
	assert_string_equal(note,
			    "note: net.core.rmem_max is 212992 bytes, below "
			    "the planned 4194304-byte receive buffer; the "
			    "kernel will cap it. Raise it with: sysctl -w "
			    "net.core.rmem_max=4194304\n");
	assert_int_equal(
	    salvo_plan_sockbuf_note(dir, 2 * MiB, 200000, note, sizeof(note)),
	    0);
	assert_string_equal(note, "");

	unlink(path);
	snprintf(path, sizeof(path), "%s/sys/net/core/rmem_max", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sys/net/core", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/sys/net", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/sys", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_worked_example),
	    cmocka_unit_test(test_process_memory),
	    cmocka_unit_test(test_fudge_curve),
	    cmocka_unit_test(test_fudge_override_loss_and_jumbo),
	    cmocka_unit_test(test_invalid_input),
	    cmocka_unit_test(test_sizing_rules),
	    cmocka_unit_test(test_table_every_cell),
	    cmocka_unit_test(test_table_json),
	    cmocka_unit_test(test_plan_text),
	    cmocka_unit_test(test_sockbuf_note),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
