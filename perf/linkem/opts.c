/*
 * linkem command line.
 *
 * Impairment flags are netem-like and table-driven: each names a field of
 * struct linkem_params and a unit parser.  "--delay 50ms" sets both
 * directions; "--ab-delay" and "--ba-delay" set one (a-b: packets leaving
 * side A).  Values take "--flag value" or "--flag=value".  Units are never
 * guessed: times need ns/us/ms/s, probabilities a "%", rates bit/kbit/mbit/
 * gbit (decimal, as in tc), sizes are bytes with an optional k/m/g
 * (binary).  A later flag overrides an earlier one, so "--loss 1%
 * --ba-loss 0%" is lossy one way only.
 */
#include "perf/linkem/linkem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum kind { K_TIME, K_PROB, K_RATE, K_BYTES, K_GE };

struct impair_flag {
	const char *name;
	enum kind kind;
	size_t off; /* into struct linkem_params */
	const char *help;
};

#define P(f) offsetof(struct linkem_params, f)
static const struct impair_flag impair_flags[] = {
    {"delay", K_TIME, P(delay_ns), "one-way delay (e.g. 50ms)"},
    {"jitter", K_TIME, P(jitter_ns),
     "uniform +-jitter on the delay, never reorders"},
    {"loss", K_PROB, P(loss), "random (Bernoulli) loss, e.g. 1%"},
    {"loss-ge", K_GE, P(ge_p),
     "Gilbert-Elliott burst loss P%,R%[,BAD%[,GOOD%]]: P good->bad, "
     "R bad->good, loss in bad (100%) and good (0%) state"},
    {"rate", K_RATE, P(rate_bps), "rate limit of IP bytes, e.g. 200mbit"},
    {"limit", K_BYTES, P(limit_bytes),
     "drop-tail queue before the rate, bytes (1m)"},
    {"reorder", K_PROB, P(reorder), "share of packets held back (overtaken)"},
    {"reorder-delay", K_TIME, P(reorder_ns),
     "extra delay of a held-back packet (1ms)"},
    {"duplicate", K_PROB, P(duplicate), "share of packets sent twice"},
    {"corrupt", K_PROB, P(corrupt),
     "share of packets with one bit flipped past the IP header"},
};
#undef P
#define NFLAGS (sizeof(impair_flags) / sizeof(impair_flags[0]))

void linkem_opts_usage(const char *prog)
{
	printf(
	    "usage: %s --a-dev NAME --b-dev NAME [--a-netns NS] [--b-netns "
	    "NS]\n"
	    "          [options] [impairments]\n"
	    "Bridges two TUN devices (side A, side B), shaping each "
	    "direction.\n\n"
	    "  --a-dev/--b-dev NAME   TUN device of each side (created)\n"
	    "  --a-netns/--b-netns NS namespace (name in /var/run/netns or "
	    "path)\n"
	    "  --mtu N                MTU of both devices (1500)\n"
	    "  --txqueuelen N         kernel queue of both devices (1000)\n"
	    "  --seed N               random seed (1); each direction its own "
	    "stream\n"
	    "  --duration SECONDS     stop after this long (default: at "
	    "SIGINT/SIGTERM)\n"
	    "  --max-mem BYTES        packet buffers per direction (256m)\n"
	    "  --pidfile PATH         written once the devices exist\n"
	    "  SIGUSR1 prints the counters; exit prints them per direction.\n\n"
	    "Impairments, both directions, or one with an ab-/ba- prefix\n"
	    "(--ab-loss: packets from A to B):\n",
	    prog);
	for (size_t i = 0; i < NFLAGS; i++)
		printf("  --%-14s %s\n", impair_flags[i].name,
		       impair_flags[i].help);
}

static int bad(char *err, size_t errlen, const char *flag, const char *val,
	       const char *why)
{
	snprintf(err, errlen, "--%s %s: %s", flag, val, why);
	return -1;
}

/* A non-negative decimal number and its suffix. */
static int number(const char *s, double *v, const char **suffix)
{
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	if (end == s || errno || *v < 0)
		return -1;
	*suffix = end;
	return 0;
}

struct unit {
	const char *name;
	double mult;
};

static const struct unit time_units[] = {
    {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"sec", 1e9}, {NULL, 0},
};
static const struct unit rate_units[] = {
    {"bit", 1}, {"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9}, {NULL, 0},
};

/* A number with one of the units (case-insensitive), in the base unit. */
static int parse_with_unit(const char *s, const struct unit *units,
			   uint64_t *out)
{
	double v;
	const char *u;
	if (number(s, &v, &u) < 0)
		return -1;
	for (; units->name; units++)
		if (!strcasecmp(u, units->name)) {
			*out = (uint64_t)(v * units->mult + 0.5);
			return 0;
		}
	return -1;
}

static int parse_prob(const char *s, double *p)
{
	double v;
	const char *u;
	if (number(s, &v, &u) < 0 || strcmp(u, "%") || v > 100)
		return -1;
	*p = v / 100;
	return 0;
}

static int parse_bytes(const char *s, uint64_t *bytes)
{
	double v;
	const char *u;
	if (number(s, &v, &u) < 0)
		return -1;
	double mult = 1;
	if (*u) {
		const char *p = strchr("kmg", u[0] | 0x20);
		if (!p || (u[1] && strcasecmp(u + 1, "b")))
			return -1;
		mult = (double)(1ull << (10 * (1 + (p - "kmg"))));
	}
	*bytes = (uint64_t)(v * mult + 0.5);
	return 0;
}

static int parse_ge(const char *s, struct linkem_params *p)
{
	double v[4] = {0, 0, 1, 0};
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", s);
	int n = 0;
	for (char *save, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == 4 || parse_prob(tok, &v[n]) < 0)
			return -1;
		n++;
	}
	if (n < 2 || (v[0] > 0 && v[1] <= 0))
		return -1;
	p->ge_p = v[0];
	p->ge_r = v[1];
	p->ge_loss_bad = v[2];
	p->ge_loss_good = v[3];
	return 0;
}

static int set_impairment(struct linkem_params *p, const struct impair_flag *f,
			  const char *val)
{
	char *field = (char *)p + f->off;
	switch (f->kind) {
	case K_TIME:
		return parse_with_unit(val, time_units, (uint64_t *)field);
	case K_PROB:
		return parse_prob(val, (double *)field);
	case K_RATE:
		return parse_with_unit(val, rate_units, (uint64_t *)field);
	case K_BYTES:
		return parse_bytes(val, (uint64_t *)field);
	case K_GE:
		return parse_ge(val, p);
	}
	return -1;
}

static const char *kind_hint(enum kind k)
{
	switch (k) {
	case K_TIME:
		return "want a time with a unit: ns, us, ms or s";
	case K_PROB:
		return "want a percentage in 0%..100%";
	case K_RATE:
		return "want a rate with a unit: bit, kbit, mbit or gbit";
	case K_BYTES:
		return "want bytes, optionally with k, m or g";
	case K_GE:
		return "want P%,R%[,BAD%[,GOOD%]] with R > 0";
	}
	return "bad value";
}

static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || *end || errno || v > max || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

/* The general (non-impairment) flags; returns 1 when name is not one. */
static int set_general(struct linkem_opts *o, const char *name, const char *val,
		       char *err, size_t errlen)
{
	uint64_t u;
	if (!strcmp(name, "a-dev") || !strcmp(name, "b-dev")) {
		o->dev[name[0] == 'b'] = val;
	} else if (!strcmp(name, "a-netns") || !strcmp(name, "b-netns")) {
		o->netns[name[0] == 'b'] = val;
	} else if (!strcmp(name, "mtu")) {
		if (parse_uint(val, 65535, &u) < 0 || u < 576)
			return bad(err, errlen, name, val, "want 576..65535");
		o->mtu = (unsigned)u;
	} else if (!strcmp(name, "txqueuelen")) {
		if (parse_uint(val, 1000000, &u) < 0)
			return bad(err, errlen, name, val, "want 0..1000000");
		o->txqueuelen = (unsigned)u;
	} else if (!strcmp(name, "seed")) {
		if (parse_uint(val, UINT64_MAX, &o->seed) < 0)
			return bad(err, errlen, name, val,
				   "want an unsigned integer");
	} else if (!strcmp(name, "duration")) {
		char *end;
		o->duration_s = strtod(val, &end);
		if (end == val || *end || o->duration_s <= 0)
			return bad(err, errlen, name, val, "want seconds > 0");
	} else if (!strcmp(name, "max-mem")) {
		if (parse_bytes(val, &o->max_mem_bytes) < 0 ||
		    o->max_mem_bytes < 65536)
			return bad(err, errlen, name, val, "want bytes >= 64k");
	} else if (!strcmp(name, "pidfile")) {
		o->pidfile = val;
	} else {
		return 1;
	}
	return 0;
}

static int set_flag(struct linkem_opts *o, const char *name, const char *val,
		    char *err, size_t errlen)
{
	int rc = set_general(o, name, val, err, errlen);
	if (rc <= 0)
		return rc;
	int from = 0, to = 2;
	const char *base = name;
	if (!strncmp(name, "ab-", 3) || !strncmp(name, "ba-", 3)) {
		from = name[0] == 'b';
		to = from + 1;
		base = name + 3;
	}
	for (size_t i = 0; i < NFLAGS; i++) {
		if (strcmp(base, impair_flags[i].name))
			continue;
		for (int d = from; d < to; d++)
			if (set_impairment(&o->dir[d], &impair_flags[i], val) <
			    0)
				return bad(err, errlen, name, val,
					   kind_hint(impair_flags[i].kind));
		return 0;
	}
	snprintf(err, errlen, "unknown option --%s (see --help)", name);
	return -1;
}

int linkem_opts_parse(struct linkem_opts *o, int argc, char **argv, char *err,
		      size_t errlen)
{
	memset(o, 0, sizeof(*o));
	o->mtu = 1500;
	o->txqueuelen = 1000;
	o->seed = 1;
	o->max_mem_bytes = 256ull << 20;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			linkem_opts_usage(argv[0]);
			return 1;
		}
		if (strncmp(a, "--", 2) || !a[2]) {
			snprintf(err, errlen,
				 "unexpected argument '%s' (see --help)", a);
			return -1;
		}
		char name[64];
		const char *val;
		const char *eq = strchr(a, '=');
		if (eq) {
			snprintf(name, sizeof(name), "%.*s", (int)(eq - a - 2),
				 a + 2);
			val = eq + 1;
		} else {
			snprintf(name, sizeof(name), "%s", a + 2);
			if (i + 1 >= argc) {
				snprintf(err, errlen, "option %s needs a value",
					 a);
				return -1;
			}
			val = argv[++i];
		}
		if (set_flag(o, name, val, err, errlen) < 0)
			return -1;
	}
	for (int d = 0; d < 2; d++) {
		/* The model applies the same defaults; set here so the log
		 * shows them. */
		if (o->dir[d].rate_bps && !o->dir[d].limit_bytes)
			o->dir[d].limit_bytes = LINKEM_DEFAULT_LIMIT_BYTES;
		if (!o->dir[d].reorder_ns)
			o->dir[d].reorder_ns = LINKEM_DEFAULT_REORDER_NS;
	}
	if (!o->dev[0] || !o->dev[1]) {
		snprintf(err, errlen,
			 "--a-dev and --b-dev are required (see --help)");
		return -1;
	}
	if (!o->netns[0] && !o->netns[1] && !strcmp(o->dev[0], o->dev[1])) {
		snprintf(err, errlen,
			 "--a-dev and --b-dev name the same device %s",
			 o->dev[0]);
		return -1;
	}
	return 0;
}
