/*
 * The control socket's commands (sender/engine/ctlcmd.h), their effect on
 * the live limits (ctl.h salvo_ctl_execute, live.h), and the rate
 * algorithms' set_limits (common/core/rate.h): table-driven parses that
 * must pass with their values or fail with a reason a person can act on,
 * then the layering of a profile over its watcher and the sums sessions
 * publish.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/error.h"
#include "common/core/rate.h"
#include "sender/engine/ctl.h"
#include "sender/engine/ctlcmd.h"
#include "sender/engine/live.h"

struct ok_case {
	const char *line;
	int kind, value;
	uint64_t bps;
	const char *target;
};

static const struct ok_case oks[] = {
    {"rate 50mbit", SALVO_CTL_RATE, SALVO_CTL_VALUE_RATE, 50000000, ""},
    {"rate 50mbit\n", SALVO_CTL_RATE, SALVO_CTL_VALUE_RATE, 50000000, ""},
    {"  rate\t1gbit \r\n", SALVO_CTL_RATE, SALVO_CTL_VALUE_RATE, 1000000000,
     ""},
    {"rate 20MB/s", SALVO_CTL_RATE, SALVO_CTL_VALUE_RATE, 160000000, ""},
    {"rate none", SALVO_CTL_RATE, SALVO_CTL_VALUE_NONE, 0, ""},
    {"rate default", SALVO_CTL_RATE, SALVO_CTL_VALUE_DEFAULT, 0, ""},
    {"rate media 30mbit", SALVO_CTL_RATE, SALVO_CTL_VALUE_RATE, 30000000,
     "media"},
    {"min-rate 10mbit", SALVO_CTL_MIN_RATE, SALVO_CTL_VALUE_RATE, 10000000, ""},
    {"min-rate media none", SALVO_CTL_MIN_RATE, SALVO_CTL_VALUE_NONE, 0,
     "media"},
    {"status", SALVO_CTL_STATUS, 0, 0, ""},
    {"status media\n", SALVO_CTL_STATUS, 0, 0, "media"},
    {"help", SALVO_CTL_HELP, 0, 0, ""},
};

static void test_parse_ok(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(oks) / sizeof(*oks); i++) {
		salvo_ctl_cmd c;
		char err[600] = "";
		if (salvo_ctl_parse(oks[i].line, &c, err, sizeof(err)))
			fail_msg("'%s': %s", oks[i].line, err);
		assert_int_equal(c.kind, oks[i].kind);
		assert_int_equal(c.value, oks[i].value);
		assert_int_equal(c.bps, oks[i].bps);
		assert_string_equal(c.target, oks[i].target);
	}
}

/* A refusal and a phrase its reason must hold. */
static const struct {
	const char *line, *why;
} bads[] = {
    {"", "empty command"},
    {" \n", "empty command"},
    {"bogus", "unknown command 'bogus'"},
    {"rate", "needs one value"},
    {"rate a b c", "needs one value"},
    {"rate 40xyz", "allowed:"},
    {"rate 50", "allowed:"},	      /* a bare number has no unit */
    {"rate 0", "out of range"},	      /* 0 is not a ceiling: none is */
    {"rate 500gbit", "out of range"}, /* over transfer.rate's range */
    {"min-rate -1mbit", "allowed:"},
    {"status a b", "too many words"},
    {"help me", "too many words"},
    {"rate "
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     " 1mbit",
     "over 64 characters"},
};

static void test_parse_bad(void **state)
{
	char err[600], long_line[SALVO_CTL_LINE_MAX + 10];
	salvo_ctl_cmd c;
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(*bads); i++) {
		err[0] = 0;
		assert_int_equal(
		    salvo_ctl_parse(bads[i].line, &c, err, sizeof(err)),
		    SALVO_ERR_INVAL);
		if (!strstr(err, bads[i].why))
			fail_msg("'%s': '%s' lacks '%s'", bads[i].line, err,
				 bads[i].why);
	}
	memset(long_line, 'x', sizeof(long_line) - 1);
	long_line[sizeof(long_line) - 1] = 0;
	assert_int_equal(salvo_ctl_parse(long_line, &c, err, sizeof(err)),
			 SALVO_ERR_INVAL);
	assert_non_null(strstr(err, "longer than"));
}

static void run(const char *line, salvo_send_live *whole,
		const salvo_ctl_profile *p, size_t n, char *out, size_t len)
{
	salvo_ctl_cmd c;
	char err[600];
	if (salvo_ctl_parse(line, &c, err, sizeof(err)))
		fail_msg("'%s': %s", line, err);
	salvo_ctl_execute(&c, whole, p, n, out, len);
}

/* A profile's limit wins over the watcher's, which wins over the
 * options; default clears a layer; every change moves the counter a
 * session compares. */
static void test_layers(void **state)
{
	salvo_send_live w, m;
	salvo_ctl_profile prof = {"media", &m};
	char out[1024];
	uint64_t c, f, g0;
	(void)state;
	assert_int_equal(salvo_send_live_init(&w, NULL), 0);
	assert_int_equal(salvo_send_live_init(&m, &w), 0);
	g0 = salvo_send_live_gen(&m);
	salvo_send_live_limits(&m, 7, 3, &c, &f);
	assert_int_equal(c, 7);
	assert_int_equal(f, 3);

	run("rate 20mbit", &w, &prof, 1, out, sizeof(out));
	assert_string_equal(out, "{\"ok\":true,\"ceiling\":\"20mbit\","
				 "\"ceiling_bps\":20000000}");
	assert_true(salvo_send_live_gen(&m) != g0);
	salvo_send_live_limits(&m, 7, 3, &c, &f);
	assert_int_equal(c, 20000000);
	assert_int_equal(f, 3);

	run("rate media 30mbit", &w, &prof, 1, out, sizeof(out));
	run("min-rate media none", &w, &prof, 1, out, sizeof(out));
	salvo_send_live_limits(&m, 7, 3, &c, &f);
	assert_int_equal(c, 30000000);
	assert_int_equal(f, 0);
	salvo_send_live_limits(&w, 7, 3, &c, &f); /* the watcher's own */
	assert_int_equal(c, 20000000);

	run("rate media default", &w, &prof, 1, out, sizeof(out));
	salvo_send_live_limits(&m, 7, 3, &c, &f);
	assert_int_equal(c, 20000000);
	run("rate none", &w, &prof, 1, out, sizeof(out));
	salvo_send_live_limits(&m, 7, 3, &c, &f);
	assert_int_equal(c, 0);

	run("rate nosuch 1mbit", &w, &prof, 1, out, sizeof(out));
	assert_non_null(strstr(out, "\"ok\":false"));
	assert_non_null(strstr(out, "no profile named 'nosuch'"));
	run("rate media 1mbit", &w, NULL, 0, out, sizeof(out));
	assert_non_null(strstr(out, "has no profiles"));
	salvo_send_live_free(&m);
	salvo_send_live_free(&w);
}

/* Sessions publish into their profile and the watcher; the sums follow
 * each session's latest numbers, and a session that leaves takes its
 * rate out but leaves its bytes.  The fixed policy refuses what it
 * cannot do. */
static void test_publish_status(void **state)
{
	salvo_send_live w, m;
	salvo_live_share a = {0}, b = {0};
	salvo_rate_snapshot rs = {.rate_bps = 10,
				  .delivery_bps = 8,
				  .state = "delay",
				  .ceiling_bps = 40};
	salvo_live_status st;
	char out[1024];
	(void)state;
	salvo_send_live_init(&w, NULL);
	salvo_send_live_init(&m, &w);
	salvo_send_live_publish(&m, &a, "fair", &rs, 100, 1000, 0);
	rs.rate_bps = 30;
	salvo_send_live_publish(&w, &b, "fair", &rs, 50, 500, 0);
	rs.rate_bps = 20;
	salvo_send_live_publish(&m, &a, "fair", &rs, 300, 1000, 0);
	salvo_send_live_read(&w, &st);
	assert_int_equal(st.sessions, 2);
	assert_int_equal(st.rate_bps, 50);
	assert_int_equal(st.acked_bytes, 350);
	assert_int_equal(st.total_bytes, 1500);
	salvo_send_live_read(&m, &st);
	assert_int_equal(st.sessions, 1);
	assert_int_equal(st.rate_bps, 20);
	salvo_send_live_publish(&m, &a, "fair", &rs, 1000, 1000, 1);
	salvo_send_live_read(&w, &st);
	assert_int_equal(st.sessions, 1);
	assert_int_equal(st.rate_bps, 30);
	assert_int_equal(st.acked_bytes, 1050);

	run("status", &w, NULL, 0, out, sizeof(out));
	assert_non_null(strstr(out, "{\"ok\":true,\"profile\":null,"
				    "\"sessions\":1,\"policy\":\"fair\""));
	assert_non_null(strstr(out, "\"bytes_done\":1050,"
				    "\"bytes_total\":1500}"));
	salvo_send_live_publish(&w, &b, "fixed", &rs, 60, 500, 0);
	run("rate none", &w, NULL, 0, out, sizeof(out));
	assert_non_null(strstr(out, "fixed policy paces at its rate"));
	run("min-rate 1mbit", &w, NULL, 0, out, sizeof(out));
	assert_non_null(strstr(out, "fixed policy has no floor"));
	run("rate 5mbit", &w, NULL, 0, out, sizeof(out));
	assert_non_null(strstr(out, "\"ok\":true"));
	run("help", &w, NULL, 0, out, sizeof(out));
	assert_non_null(strstr(out, "{\"ok\":true,\"help\":\"commands: rate"));
	salvo_send_live_free(&m);
	salvo_send_live_free(&w);
}

/* set_limits: the rate moves into the new bounds at once; the fixed
 * policy takes a new rate and keeps its own for "none". */
static void test_rate_set_limits(void **state)
{
	salvo_rate_state s;
	const salvo_rate_ops *fx = &salvo_rate_fixed_ops,
			     *ad = &salvo_rate_adaptive_ops;
	(void)state;
	fx->init(&s, 400000000, 0, 1472, 0);
	fx->set_limits(&s, 40000000, 0, 1);
	assert_int_equal(fx->pacing_rate(&s), 40000000);
	fx->set_limits(&s, SALVO_RATE_NO_CEILING_BPS, 0, 2);
	assert_int_equal(fx->pacing_rate(&s), 40000000);

	ad->init(&s, 400000000, 0, 1472, 0);
	s.adaptive.rate_bps = 300000000; /* as if it had grown */
	ad->set_limits(&s, 40000000, 0, 1);
	assert_int_equal(ad->pacing_rate(&s), 40000000);
	ad->set_limits(&s, SALVO_RATE_NO_CEILING_BPS, 60000000, 2);
	assert_int_equal(ad->pacing_rate(&s), 60000000);
	ad->set_limits(&s, 50000000, 60000000, 3); /* floor over ceiling */
	assert_int_equal(ad->pacing_rate(&s), 50000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_ok),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_layers),
	    cmocka_unit_test(test_publish_status),
	    cmocka_unit_test(test_rate_set_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
