/*
 * The effective configuration, written out: YAML for people (human units,
 * each value followed by a comment naming its source, and readable back by
 * the loader) or JSON for programs (integers in base units, key names
 * carrying the unit, sources in a separate object).  Both walk the key
 * table in order, so a new key appears here without code.
 */
#include <errno.h>
#include <string.h>

#include "conf/keys.h"

/* The code point of the UTF-8 sequence at s and its length in *len;
 * -1 (and *len 1) for a byte that does not start a valid sequence. */
static long utf8_at(const unsigned char *s, size_t *len)
{
	long cp;
	size_t n;

	*len = 1;
	if (s[0] < 0x80)
		return s[0];
	if ((s[0] & 0xe0) == 0xc0)
		cp = s[0] & 0x1f, n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		cp = s[0] & 0x0f, n = 3;
	else if ((s[0] & 0xf8) == 0xf0)
		cp = s[0] & 0x07, n = 4;
	else
		return -1;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	*len = n;
	return cp;
}

/* Characters YAML refuses raw or reads as line breaks, and controls. */
static int needs_escape(long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0xfeff || cp == 0xfffe || cp == 0xffff;
}

/* JSON string escaping; its output is also a valid YAML double-quoted
 * scalar. */
static void put_quoted(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t len;

	fputc('"', out);
	for (; *s; s += len) {
		long cp = utf8_at(s, &len);
		if (cp == '"' || cp == '\\')
			fprintf(out, "\\%c", (int)cp);
		else if (cp >= 0 && needs_escape(cp))
			fprintf(out, "\\u%04lx", cp);
		else
			fwrite(s, 1, len, out);
	}
	fputc('"', out);
}

static int is_text(enum salvo_conf_type t)
{
	return t == SALVO_CONF_T_STRING || t == SALVO_CONF_T_SUBDIR ||
	       t == SALVO_CONF_T_ADDR || t == SALVO_CONF_T_HOSTPORT ||
	       t == SALVO_CONF_T_FILE || t == SALVO_CONF_T_PUBKEY;
}

static const char *unit_suffix(enum salvo_conf_type t)
{
	switch (t) {
	case SALVO_CONF_T_SIZE:
	case SALVO_CONF_T_BYTES:
		return "_bytes";
	case SALVO_CONF_T_RATE:
		return "_bps";
	case SALVO_CONF_T_TIME:
		return "_ns";
	case SALVO_CONF_T_LOSS:
		return "_ppm";
	case SALVO_CONF_T_FACTOR:
		return "_milli";
	default:
		return "";
	}
}

static void put_globs_yaml(FILE *out, const struct salvo_conf_strv *sv)
{
	fputc('[', out);
	for (size_t i = 0; i < sv->n; i++) {
		if (i)
			fputs(", ", out);
		put_quoted(out, sv->v[i]);
	}
	fputc(']', out);
}

/* "  key: value" for YAML, '"key_unit": value' for JSON. */
static void put_value(FILE *out, const struct salvo_conf_keydesc *d,
		      const void *base, const char *name, int json)
{
	char buf[4200];

	if (json)
		fprintf(out, "\"%s%s\": ", name, unit_suffix(d->type));
	else
		fprintf(out, "%s: ", name);
	if (d->type == SALVO_CONF_T_GLOBS) {
		put_globs_yaml(
		    out, (const struct salvo_conf_strv *)((const char *)base +
							  d->off));
		return;
	}
	salvo_conf_key_format(d, base, buf, sizeof(buf));
	if (is_text(d->type) || (json && d->type == SALVO_CONF_T_ENUM))
		put_quoted(out, buf);
	else if (json && d->type != SALVO_CONF_T_BOOL)
		fprintf(out, "%llu",
			(unsigned long long)salvo_conf_key_get(d, base));
	else
		fputs(buf, out);
}

/* put_value padded to a column, so the source comments line up. */
static void put_value_padded(FILE *out, const struct salvo_conf_keydesc *d,
			     const void *base, const char *name)
{
	char line[8192] = "";
	FILE *m = fmemopen(line, sizeof(line), "w");

	if (!m) {
		put_value(out, d, base, name, 0);
		return;
	}
	put_value(m, d, base, name, 0);
	fclose(m);
	fprintf(out, "%-28s", line);
}

static void put_source(FILE *out, const struct salvo_conf_origin *o)
{
	char buf[600];
	salvo_conf_origin_format(o, buf, sizeof(buf));
	if (o->source == SALVO_CONF_FROM_FLAG)
		fprintf(out, "  # flag %s\n", buf);
	else
		fprintf(out, "  # %s\n", buf);
}

static void put_profiles(FILE *out, const struct salvo_config *cfg, int json)
{
	for (size_t i = 0; i < cfg->n_hotfolders; i++) {
		const struct salvo_hotfolder *hf = &cfg->hotfolders[i];
		fputs(json ? (i ? ", {" : "{") : "", out);
		for (size_t k = 0; k < salvo_conf_n_profile_keys; k++) {
			const struct salvo_conf_keydesc *d =
			    &salvo_conf_profile_keys[k];
			if (json)
				fputs(k ? ", " : "", out);
			else
				fputs(k ? "    " : "  - ", out);
			if (json || k)
				put_value(out, d, hf, d->key, json);
			else
				put_value_padded(out, d, hf, d->key);
			if (!json && k == 0)
				put_source(out, &hf->origin);
			else if (!json)
				fputc('\n', out);
		}
		fputs(json ? "}" : "", out);
	}
}

static void write_yaml(const struct salvo_config *cfg, FILE *out)
{
	const char *section = "";

	fputs("# salvo: effective configuration; after each value, where it "
	      "came from\n",
	      out);
	for (int i = 0; i < SALVO_CONF_NKEYS; i++) {
		const struct salvo_conf_keydesc *d = &salvo_conf_keys[i];
		const char *dot = strchr(d->key, '.');
		if (i == SALVO_CONF_HOTFOLDERS)
			continue;
		if (strncmp(section, d->key, (size_t)(dot - d->key)) ||
		    section[dot - d->key] != '.') {
			fprintf(out, "%.*s:\n", (int)(dot - d->key), d->key);
			section = d->key;
		}
		fputs("  ", out);
		put_value_padded(out, d, cfg, dot + 1);
		put_source(out, &cfg->origin[i]);
	}
	fputs(cfg->n_hotfolders ? "hotfolders:" : "hotfolders: []", out);
	put_source(out, &cfg->origin[SALVO_CONF_HOTFOLDERS]);
	put_profiles(out, cfg, 0);
}

static void write_json(const struct salvo_config *cfg, FILE *out)
{
	const char *section = NULL;
	char buf[600];

	fputc('{', out);
	for (int i = 0; i < SALVO_CONF_NKEYS; i++) {
		const struct salvo_conf_keydesc *d = &salvo_conf_keys[i];
		const char *dot = strchr(d->key, '.');
		if (i == SALVO_CONF_HOTFOLDERS)
			continue;
		if (!section ||
		    strncmp(section, d->key, (size_t)(dot - d->key) + 1)) {
			fprintf(out, "%s\"%.*s\": {", section ? "}, " : "",
				(int)(dot - d->key), d->key);
			section = d->key;
		} else {
			fputs(", ", out);
		}
		put_value(out, d, cfg, dot + 1, 1);
	}
	fputs("}, \"hotfolders\": [", out);
	put_profiles(out, cfg, 1);
	fputs("], \"sources\": {", out);
	for (int i = 0; i < SALVO_CONF_NKEYS; i++) {
		fprintf(out, "%s\"%s\": ", i ? ", " : "",
			salvo_conf_keys[i].key);
		put_quoted(out, salvo_conf_origin_format(&cfg->origin[i], buf,
							 sizeof(buf)));
	}
	fputs("}}\n", out);
}

int salvo_conf_write(const struct salvo_config *cfg, FILE *out, int json)
{
	if (json)
		write_json(cfg, out);
	else
		write_yaml(cfg, out);
	if (fflush(out) || ferror(out))
		return errno ? -errno : -EIO;
	return 0;
}
