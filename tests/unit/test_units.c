/*
 * Human units: every suffix of every kind, fractions, zero, and each error
 * with its exact message; then formatting round-trips through parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/error.h"
#include "conf/units.h"

typedef int (*parse_fn)(const char *, uint64_t *, char *, size_t);

struct ok_case {
	parse_fn parse;
	const char *text;
	uint64_t want;
};

#define KiB 1024ULL
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)

static const struct ok_case ok_cases[] = {
    /* sizes: every suffix */
    {salvo_units_parse_size, "0", 0},
    {salvo_units_parse_size, "17B", 17},
    {salvo_units_parse_size, "512KiB", 512 * KiB},
    {salvo_units_parse_size, "4MiB", 4 * MiB},
    {salvo_units_parse_size, "1GiB", GiB},
    {salvo_units_parse_size, "2TiB", 2 * GiB *KiB},
    {salvo_units_parse_size, "3KB", 3000},
    {salvo_units_parse_size, "3kB", 3000},
    {salvo_units_parse_size, "20MB", 20000000},
    {salvo_units_parse_size, "1GB", 1000000000},
    {salvo_units_parse_size, "1TB", 1000000000000ULL},
    {salvo_units_parse_size, "1.5GiB", 3 * GiB / 2},
    {salvo_units_parse_size, "4 MiB", 4 * MiB},
    {salvo_units_parse_size, "0.5KiB", 512},
    /* rates: bit forms (any case), bps forms, byte forms */
    {salvo_units_parse_rate, "0", 0},
    {salvo_units_parse_rate, "200mbit", 200000000},
    {salvo_units_parse_rate, "1gbit", 1000000000},
    {salvo_units_parse_rate, "1Gbit", 1000000000},
    {salvo_units_parse_rate, "64kbit", 64000},
    {salvo_units_parse_rate, "9600bit", 9600},
    {salvo_units_parse_rate, "2tbit", 2000000000000ULL},
    {salvo_units_parse_rate, "100mbit/s", 100000000},
    {salvo_units_parse_rate, "1gbit/s", 1000000000},
    {salvo_units_parse_rate, "5kbit/s", 5000},
    {salvo_units_parse_rate, "5bit/s", 5},
    {salvo_units_parse_rate, "1tbit/s", 1000000000000ULL},
    {salvo_units_parse_rate, "100Mbps", 100000000},
    {salvo_units_parse_rate, "100mbps", 100000000},
    {salvo_units_parse_rate, "10Gbps", 10000000000ULL},
    {salvo_units_parse_rate, "10gbps", 10000000000ULL},
    {salvo_units_parse_rate, "1Tbps", 1000000000000ULL},
    {salvo_units_parse_rate, "56kbps", 56000},
    {salvo_units_parse_rate, "56Kbps", 56000},
    {salvo_units_parse_rate, "300bps", 300},
    {salvo_units_parse_rate, "50MB/s", 400000000},
    {salvo_units_parse_rate, "1GB/s", 8000000000ULL},
    {salvo_units_parse_rate, "2KB/s", 16000},
    {salvo_units_parse_rate, "2kB/s", 16000},
    {salvo_units_parse_rate, "3B/s", 24},
    {salvo_units_parse_rate, "1KiB/s", 8192},
    {salvo_units_parse_rate, "1MiB/s", 8 * MiB},
    {salvo_units_parse_rate, "1GiB/s", 8 * GiB},
    {salvo_units_parse_rate, "1.5gbit", 1500000000},
    /* times */
    {salvo_units_parse_time, "0", 0},
    {salvo_units_parse_time, "100ms", 100000000},
    {salvo_units_parse_time, "2s", 2000000000},
    {salvo_units_parse_time, "1.5s", 1500000000},
    {salvo_units_parse_time, "250us", 250000},
    {salvo_units_parse_time, "250\xc2\xb5s", 250000},
    {salvo_units_parse_time, "7ns", 7},
    {salvo_units_parse_time, "5min", 300000000000ULL},
    {salvo_units_parse_time, "1h", 3600000000000ULL},
    /* loss in ppm */
    {salvo_units_parse_loss, "0", 0},
    {salvo_units_parse_loss, "0%", 0},
    {salvo_units_parse_loss, "0.5%", 5000},
    {salvo_units_parse_loss, "10%", 100000},
    {salvo_units_parse_loss, "0.0001%", 1},
    {salvo_units_parse_loss, "100%", 1000000},
    /* counts and factors */
    {salvo_units_parse_count, "64", 64},
    {salvo_units_parse_count, "0", 0},
    {salvo_units_parse_count, "18446744073709551615", UINT64_MAX},
    {salvo_units_parse_factor, "3", 3000},
    {salvo_units_parse_factor, "4.5", 4500},
    {salvo_units_parse_factor, "0.125", 125},
};

static void test_parse_ok(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
		char err[256] = "";
		uint64_t v = 12345;
		int rc =
		    ok_cases[i].parse(ok_cases[i].text, &v, err, sizeof(err));
		if (rc || v != ok_cases[i].want)
			fail_msg("'%s': rc %d value %llu want %llu (%s)",
				 ok_cases[i].text, rc, (unsigned long long)v,
				 (unsigned long long)ok_cases[i].want, err);
	}
}

struct bad_case {
	parse_fn parse;
	const char *text;
	const char *message;
};

static const struct bad_case bad_cases[] = {
    {salvo_units_parse_size, "4XB",
     "bad size '4XB': unknown unit; allowed: B, KiB, MiB, GiB, TiB, KB, "
     "MB, GB, TB (e.g. 4MiB)"},
    {salvo_units_parse_size, "4096",
     "bad size '4096': missing unit; allowed: B, KiB, MiB, GiB, TiB, KB, "
     "MB, GB, TB (e.g. 4MiB)"},
    {salvo_units_parse_size, "",
     "bad size '': expected a number with a unit; allowed: B, KiB, MiB, "
     "GiB, TiB, KB, MB, GB, TB (e.g. 4MiB)"},
    {salvo_units_parse_size, "-1MiB",
     "bad size '-1MiB': expected a number with a unit; allowed: B, KiB, "
     "MiB, GiB, TiB, KB, MB, GB, TB (e.g. 4MiB)"},
    {salvo_units_parse_size, "4.MiB",
     "bad size '4.MiB': expected a number with a unit; allowed: B, KiB, "
     "MiB, GiB, TiB, KB, MB, GB, TB (e.g. 4MiB)"},
    {salvo_units_parse_size, "0.3B",
     "bad size '0.3B': not a whole number of bytes"},
    {salvo_units_parse_size, "4mib",
     "bad size '4mib': unknown unit; allowed: B, KiB, MiB, GiB, TiB, KB, "
     "MB, GB, TB (e.g. 4MiB)"},
    {salvo_units_parse_size, "16777216TiB",
     "bad size '16777216TiB': too large"},
    {salvo_units_parse_size, "99999999999999999999B",
     "bad size '99999999999999999999B': too large"},
    {salvo_units_parse_size, "1.0000000000001GiB",
     "bad size '1.0000000000001GiB': too many decimals"},
    {salvo_units_parse_rate, "200",
     "bad rate '200': missing unit; allowed: bit, kbit, mbit, gbit, tbit, "
     "Mbps, Gbps, B/s, KB/s, MB/s, GB/s, KiB/s, MiB/s, GiB/s (e.g. "
     "200mbit)"},
    {salvo_units_parse_rate, "50MBps",
     "bad rate '50MBps': unknown unit; allowed: bit, kbit, mbit, gbit, "
     "tbit, Mbps, Gbps, B/s, KB/s, MB/s, GB/s, KiB/s, MiB/s, GiB/s (e.g. "
     "200mbit)"},
    {salvo_units_parse_rate, "0.5bit",
     "bad rate '0.5bit': not a whole number of bit/s"},
    {salvo_units_parse_time, "100",
     "bad time '100': missing unit; allowed: ns, us, ms, s, min, h (e.g. "
     "100ms)"},
    {salvo_units_parse_time, "2m",
     "bad time '2m': unknown unit; allowed: ns, us, ms, s, min, h (e.g. "
     "100ms)"},
    {salvo_units_parse_time, "0.5ns",
     "bad time '0.5ns': not a whole number of nanoseconds"},
    {salvo_units_parse_loss, "0.5",
     "bad loss '0.5': missing unit; allowed: a percentage (e.g. 0.5%)"},
    {salvo_units_parse_loss, "101%", "bad loss '101%': too large"},
    {salvo_units_parse_loss, "0.00001%",
     "bad loss '0.00001%': not a whole number of ppm"},
    {salvo_units_parse_count, "1.5",
     "bad number '1.5': not a number; allowed: a whole number (e.g. 64)"},
    {salvo_units_parse_count, "12k",
     "bad number '12k': not a number; allowed: a whole number (e.g. 64)"},
    {salvo_units_parse_count, "18446744073709551616",
     "bad number '18446744073709551616': too large"},
    {salvo_units_parse_count, "",
     "bad number '': not a number; allowed: a whole number (e.g. 64)"},
    {salvo_units_parse_factor, "x3",
     "bad factor 'x3': not a number; allowed: a decimal number (e.g. 4.5)"},
    {salvo_units_parse_factor, "0.0001",
     "bad factor '0.0001': not a whole number of thousandths"},
};

static void test_parse_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		char err[256] = "";
		uint64_t v = 777;
		int rc =
		    bad_cases[i].parse(bad_cases[i].text, &v, err, sizeof(err));
		assert_int_equal(rc, SALVO_ERR_INVAL);
		assert_int_equal(v, 777); /* untouched on error */
		assert_string_equal(err, bad_cases[i].message);
	}
}

static void test_null_and_small_buffers(void **state)
{
	char tiny[8];
	uint64_t v;
	(void)state;
	assert_int_equal(salvo_units_parse_size(NULL, &v, tiny, sizeof(tiny)),
			 SALVO_ERR_INVAL);
	assert_string_equal(tiny, "bad siz");
	assert_int_equal(salvo_units_parse_size("x", &v, NULL, 0),
			 SALVO_ERR_INVAL);
}

struct fmt_case {
	char *(*format)(uint64_t, char *, size_t);
	parse_fn parse;
	uint64_t value;
	const char *text;
};

static const struct fmt_case fmt_cases[] = {
    {salvo_units_format_size, salvo_units_parse_size, 0, "0"},
    {salvo_units_format_size, salvo_units_parse_size, 4 * MiB, "4MiB"},
    {salvo_units_format_size, salvo_units_parse_size, 20 * MiB, "20MiB"},
    {salvo_units_format_size, salvo_units_parse_size, 20000000, "20MB"},
    {salvo_units_format_size, salvo_units_parse_size, 1500, "1500B"},
    {salvo_units_format_size, salvo_units_parse_size, 9000, "9000B"},
    {salvo_units_format_size, salvo_units_parse_size, 1000001, "1000001B"},
    {salvo_units_format_size, salvo_units_parse_size, 3 * GiB, "3GiB"},
    {salvo_units_format_size, salvo_units_parse_size, 512 * KiB, "512KiB"},
    {salvo_units_format_rate, salvo_units_parse_rate, 1000000000, "1gbit"},
    {salvo_units_format_rate, salvo_units_parse_rate, 300000000, "300mbit"},
    {salvo_units_format_rate, salvo_units_parse_rate, 400000000, "400mbit"},
    {salvo_units_format_rate, salvo_units_parse_rate, 1500, "1500bit"},
    {salvo_units_format_rate, salvo_units_parse_rate, 64000, "64kbit"},
    {salvo_units_format_time, salvo_units_parse_time, 150000000, "150ms"},
    {salvo_units_format_time, salvo_units_parse_time, 10000000000ULL, "10s"},
    {salvo_units_format_time, salvo_units_parse_time, 60000000000ULL, "1min"},
    {salvo_units_format_time, salvo_units_parse_time, 7200000000000ULL, "2h"},
    {salvo_units_format_time, salvo_units_parse_time, 1500000000, "1500ms"},
    {salvo_units_format_time, salvo_units_parse_time, 1001, "1001ns"},
    {salvo_units_format_time, salvo_units_parse_time, 3000, "3us"},
    {salvo_units_format_loss, salvo_units_parse_loss, 5000, "0.5%"},
    {salvo_units_format_loss, salvo_units_parse_loss, 0, "0%"},
    {salvo_units_format_loss, salvo_units_parse_loss, 1, "0.0001%"},
    {salvo_units_format_loss, salvo_units_parse_loss, 100000, "10%"},
    {salvo_units_format_factor, salvo_units_parse_factor, 3000, "3"},
    {salvo_units_format_factor, salvo_units_parse_factor, 4500, "4.5"},
    {salvo_units_format_factor, salvo_units_parse_factor, 3737, "3.737"},
};

static void test_format_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(fmt_cases) / sizeof(fmt_cases[0]); i++) {
		char buf[32], err[256];
		uint64_t back = 0;
		fmt_cases[i].format(fmt_cases[i].value, buf, sizeof(buf));
		assert_string_equal(buf, fmt_cases[i].text);
		assert_int_equal(
		    fmt_cases[i].parse(buf, &back, err, sizeof(err)), 0);
		assert_int_equal(back, fmt_cases[i].value);
	}
}

static void test_format_fixed(void **state)
{
	char buf[32];
	(void)state;
	assert_string_equal(salvo_units_format_fixed(5625000, 6, buf, 32),
			    "5.625");
	assert_string_equal(salvo_units_format_fixed(16875000, 6, buf, 32),
			    "16.875");
	assert_string_equal(salvo_units_format_fixed(300000000, 6, buf, 32),
			    "300");
	assert_string_equal(salvo_units_format_fixed(150000000, 9, buf, 32),
			    "0.15");
	assert_string_equal(salvo_units_format_fixed(7, 0, buf, 32), "7");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_ok),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_null_and_small_buffers),
	    cmocka_unit_test(test_format_round_trip),
	    cmocka_unit_test(test_format_fixed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
