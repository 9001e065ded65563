/*
 * Human units.  Each kind of quantity is a const table of suffixes with an
 * exact integer multiplier; one decimal reader turns "1.5" into a mantissa
 * and a power of ten, and the value is mantissa * multiplier / 10^digits,
 * computed in 128 bits so that overflow and inexact results are seen, not
 * rounded.  Formatting walks the same tables from the largest unit down and
 * takes the first that divides the value exactly, so what is printed parses
 * back to the same integer.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/core/error.h"
#include "conf/units.h"

struct unit {
	const char *suffix;
	uint64_t mult;
	int nocase; /* compare the suffix case-insensitively */
};

struct kind {
	const char *name;    /* "size", used in messages */
	const char *base;    /* "bytes" */
	const char *allowed; /* the suffixes, for messages */
	const char *example; /* "4MiB" */
	int bare_ok;	     /* a number without a unit is allowed */
	uint64_t max;	     /* largest accepted value */
	const struct unit *units;
	size_t nunits;
};

#define KI 1024ULL
#define NUNITS(a) (sizeof(a) / sizeof((a)[0]))

static const struct unit size_units[] = {
    {"TiB", KI *KI *KI *KI, 0},
    {"TB", 1000000000000ULL, 0},
    {"GiB", KI *KI *KI, 0},
    {"GB", 1000000000ULL, 0},
    {"MiB", KI *KI, 0},
    {"MB", 1000000ULL, 0},
    {"KiB", KI, 0},
    {"KB", 1000ULL, 0},
    {"kB", 1000ULL, 0},
    {"B", 1, 0},
};

static const struct unit rate_units[] = {
    {"tbit", 1000000000000ULL, 1},
    {"gbit", 1000000000ULL, 1},
    {"mbit", 1000000ULL, 1},
    {"kbit", 1000ULL, 1},
    {"bit", 1, 1},
    {"tbit/s", 1000000000000ULL, 1},
    {"gbit/s", 1000000000ULL, 1},
    {"mbit/s", 1000000ULL, 1},
    {"kbit/s", 1000ULL, 1},
    {"bit/s", 1, 1},
    {"Tbps", 1000000000000ULL, 0},
    {"Gbps", 1000000000ULL, 0},
    {"gbps", 1000000000ULL, 0},
    {"Mbps", 1000000ULL, 0},
    {"mbps", 1000000ULL, 0},
    {"kbps", 1000ULL, 0},
    {"Kbps", 1000ULL, 0},
    {"bps", 1, 0},
    {"GiB/s", 8 * KI *KI *KI, 0},
    {"GB/s", 8000000000ULL, 0},
    {"MiB/s", 8 * KI *KI, 0},
    {"MB/s", 8000000ULL, 0},
    {"KiB/s", 8 * KI, 0},
    {"KB/s", 8000ULL, 0},
    {"kB/s", 8000ULL, 0},
    {"B/s", 8, 0},
};

static const struct unit time_units[] = {
    {"h", 3600000000000ULL, 0},
    {"min", 60000000000ULL, 0},
    {"s", 1000000000ULL, 0},
    {"ms", 1000000ULL, 0},
    {"us", 1000ULL, 0},
    {"\xc2\xb5s", 1000ULL, 0},
    {"ns", 1, 0},
};

static const struct unit loss_units[] = {{"%", 10000, 0}};
static const struct unit plain_units[] = {{"", 1, 0}};
static const struct unit factor_units[] = {{"", 1000, 0}};

static const struct kind size_kind = {"size",
				      "bytes",
				      "B, KiB, MiB, GiB, TiB, KB, MB, GB, TB",
				      "4MiB",
				      0,
				      UINT64_MAX,
				      size_units,
				      NUNITS(size_units)};
static const struct kind rate_kind = {
    "rate",
    "bit/s",
    "bit, kbit, mbit, gbit, tbit, Mbps, Gbps, B/s, KB/s, MB/s, GB/s, "
    "KiB/s, MiB/s, GiB/s",
    "200mbit",
    0,
    UINT64_MAX,
    rate_units,
    NUNITS(rate_units)};
static const struct kind time_kind = {
    "time",	"nanoseconds", "ns, us, ms, s, min, h", "100ms", 0,
    UINT64_MAX, time_units,    NUNITS(time_units)};
static const struct kind loss_kind = {
    "loss", "ppm",   "a percentage", "0.5%",
    0,	    1000000, loss_units,     NUNITS(loss_units)};
static const struct kind count_kind = {
    "number", "units",	  "a whole number", "64",
    1,	      UINT64_MAX, plain_units,	    NUNITS(plain_units)};
static const struct kind factor_kind = {
    "factor", "thousandths", "a decimal number", "4.5",
    1,	      UINT64_MAX,    factor_units,	 NUNITS(factor_units)};

static int fail(char *err, size_t errlen, const struct kind *k,
		const char *text, const char *reason, int list_allowed)
{
	if (errlen == 0)
		return SALVO_ERR_INVAL;
	if (list_allowed)
		snprintf(err, errlen, "bad %s '%s': %s; allowed: %s (e.g. %s)",
			 k->name, text, reason, k->allowed, k->example);
	else
		snprintf(err, errlen, "bad %s '%s': %s", k->name, text, reason);
	return SALVO_ERR_INVAL;
}

static const struct unit *find_unit(const struct kind *k, const char *s)
{
	for (size_t i = 0; i < k->nunits; i++) {
		const struct unit *u = &k->units[i];
		if (u->nocase ? !strcasecmp(s, u->suffix)
			      : !strcmp(s, u->suffix))
			return u;
	}
	return NULL;
}

static int parse(const struct kind *k, const char *text, uint64_t *out,
		 char *err, size_t errlen)
{
	unsigned __int128 mant = 0, scale = 1;
	int digits = 0, frac = 0;
	const char *p;

	if (!text)
		text = "";
	p = text;

	for (; *p >= '0' && *p <= '9'; p++, digits++)
		if ((mant = mant * 10 + (unsigned)(*p - '0')) > UINT64_MAX)
			return fail(err, errlen, k, text, "too large", 0);
	if (digits && *p == '.' && k != &count_kind) {
		for (p++; *p >= '0' && *p <= '9'; p++, frac++) {
			if (frac >= 12)
				return fail(err, errlen, k, text,
					    "too many decimals", 0);
			mant = mant * 10 + (unsigned)(*p - '0');
			scale *= 10;
			/* keeps mant * mult (mult < 2^44) inside 128 bits */
			if (mant >> 80)
				return fail(err, errlen, k, text, "too large",
					    0);
		}
		if (!frac)
			digits = 0; /* "4." is not a number */
	}
	if (!digits)
		return fail(err, errlen, k, text,
			    k->bare_ok ? "not a number"
				       : "expected a number with a unit",
			    1);
	if (*p == ' ' && !k->bare_ok)
		p++;
	const struct unit *u = find_unit(k, p);
	if (!u && !*p && mant == 0) {
		*out = 0; /* zero needs no unit */
		return 0;
	}
	if (!u)
		return fail(err, errlen, k, text,
			    k->bare_ok ? "not a number"
			    : *p       ? "unknown unit"
				       : "missing unit",
			    1);
	unsigned __int128 v = mant * u->mult;
	if (v % scale) {
		char reason[48];
		snprintf(reason, sizeof(reason), "not a whole number of %s",
			 k->base);
		return fail(err, errlen, k, text, reason, 0);
	}
	v /= scale;
	if (v > k->max)
		return fail(err, errlen, k, text, "too large", 0);
	*out = (uint64_t)v;
	return 0;
}

int salvo_units_parse_size(const char *text, uint64_t *bytes, char *err,
			   size_t errlen)
{
	return parse(&size_kind, text, bytes, err, errlen);
}

int salvo_units_parse_rate(const char *text, uint64_t *bps, char *err,
			   size_t errlen)
{
	return parse(&rate_kind, text, bps, err, errlen);
}

int salvo_units_parse_time(const char *text, uint64_t *ns, char *err,
			   size_t errlen)
{
	return parse(&time_kind, text, ns, err, errlen);
}

int salvo_units_parse_loss(const char *text, uint64_t *ppm, char *err,
			   size_t errlen)
{
	return parse(&loss_kind, text, ppm, err, errlen);
}

int salvo_units_parse_count(const char *text, uint64_t *n, char *err,
			    size_t errlen)
{
	return parse(&count_kind, text, n, err, errlen);
}

int salvo_units_parse_factor(const char *text, uint64_t *milli, char *err,
			     size_t errlen)
{
	return parse(&factor_kind, text, milli, err, errlen);
}

/* The first unit (largest first) in the table that divides v exactly. */
static char *format(const struct unit *units, size_t nunits, uint64_t v,
		    char *buf, size_t n)
{
	if (v == 0) {
		snprintf(buf, n, "0");
		return buf;
	}
	for (size_t i = 0; i < nunits; i++)
		if (v % units[i].mult == 0) {
			snprintf(buf, n, "%llu%s",
				 (unsigned long long)(v / units[i].mult),
				 units[i].suffix);
			return buf;
		}
	snprintf(buf, n, "%llu", (unsigned long long)v);
	return buf;
}

char *salvo_units_format_size(uint64_t bytes, char *buf, size_t n)
{
	/* binary units first; decimal ones only from a megabyte up, so an
	 * MTU reads 9000B, not 9KB */
	static const struct unit s[] = {
	    {"TiB", KI * KI * KI * KI, 0}, {"GiB", KI * KI * KI, 0},
	    {"MiB", KI * KI, 0},	   {"KiB", KI, 0},
	    {"TB", 1000000000000ULL, 0},   {"GB", 1000000000ULL, 0},
	    {"MB", 1000000ULL, 0},	   {"B", 1, 0},
	};
	if (bytes && bytes < 1000000 && bytes % KI)
		return format(size_units + NUNITS(size_units) - 1, 1, bytes,
			      buf, n);
	return format(s, NUNITS(s), bytes, buf, n);
}

char *salvo_units_format_rate(uint64_t bps, char *buf, size_t n)
{
	/* Only the bit forms (the first five entries). */
	return format(rate_units, 5, bps, buf, n);
}

char *salvo_units_format_time(uint64_t ns, char *buf, size_t n)
{
	static const struct unit t[] = {
	    {"h", 3600000000000ULL, 0}, {"min", 60000000000ULL, 0},
	    {"s", 1000000000ULL, 0},	{"ms", 1000000ULL, 0},
	    {"us", 1000ULL, 0},		{"ns", 1, 0},
	};
	return format(t, NUNITS(t), ns, buf, n);
}

/* v / 10^decimals with its fraction written out, trailing zeros dropped. */
static char *format_fixed(uint64_t v, int decimals, const char *suffix,
			  char *buf, size_t n)
{
	uint64_t den = 1;
	char frac[24];
	for (int i = 0; i < decimals; i++)
		den *= 10;
	int len = snprintf(frac, sizeof(frac), "%0*llu", decimals,
			   (unsigned long long)(v % den));
	while (len > 0 && frac[len - 1] == '0')
		frac[--len] = '\0';
	snprintf(buf, n, "%llu%s%s%s", (unsigned long long)(v / den),
		 len ? "." : "", frac, suffix);
	return buf;
}

char *salvo_units_format_loss(uint64_t ppm, char *buf, size_t n)
{
	return format_fixed(ppm, 4, "%", buf, n);
}

char *salvo_units_format_factor(uint64_t milli, char *buf, size_t n)
{
	return format_fixed(milli, 3, "", buf, n);
}

char *salvo_units_format_fixed(uint64_t v, int decimals, char *buf, size_t n)
{
	return format_fixed(v, decimals, "", buf, n);
}
