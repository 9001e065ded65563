/*
 * The control commands' parser (see ctlcmd.h).  Words split on blanks;
 * the verb picks how many words follow.  A rate goes through the config's
 * own setter for transfer.rate or transfer.min_rate on a scratch config,
 * so a value salvo.yaml takes is taken here with the same range, and a
 * refusal gives the same reason ("allowed: ...").  The scratch config
 * costs an allocation per command: commands come from a person or a
 * script, a few a second at most.
 */
#include "sender/engine/ctlcmd.h"

#include <stdio.h>
#include <string.h>

#include "common/core/error.h"
#include "conf/config.h"

#define USAGE                                                                  \
	"commands: rate [PROFILE] RATE|none|default, "                         \
	"min-rate [PROFILE] RATE|none|default, status [PROFILE], help "        \
	"(RATE as in salvo.yaml: 50mbit, 1gbit, 20MB/s)"

const char *salvo_ctl_usage(void)
{
	return USAGE;
}

#define MAX_WORDS 4

/* Splits s (modified) into at most MAX_WORDS words; returns how many,
 * MAX_WORDS meaning "too many". */
static int split(char *s, char **w)
{
	int n = 0;
	char *save = NULL;
	for (char *t = strtok_r(s, " \t\r\n", &save); t && n < MAX_WORDS;
	     t = strtok_r(NULL, " \t\r\n", &save))
		w[n++] = t;
	return n;
}

static int parse_value(const char *verb, const char *text, salvo_ctl_cmd *out,
		       char *err, size_t errlen)
{
	if (!strcmp(text, "none")) {
		out->value = SALVO_CTL_VALUE_NONE;
		return 0;
	}
	if (!strcmp(text, "default")) {
		out->value = SALVO_CTL_VALUE_DEFAULT;
		return 0;
	}
	struct salvo_config *cfg = salvo_conf_new();
	if (!cfg)
		return SALVO_ERR_NOMEM;
	const char *key =
	    out->kind == SALVO_CTL_RATE ? "transfer.rate" : "transfer.min_rate";
	int rc = salvo_conf_set_flag(cfg, key, text, verb, err, errlen);
	if (!rc) {
		out->value = SALVO_CTL_VALUE_RATE;
		out->bps = out->kind == SALVO_CTL_RATE
			       ? cfg->transfer.rate_bps
			       : cfg->transfer.min_rate_bps;
	}
	salvo_conf_del(cfg);
	return rc;
}

static int parse_target(const char *verb, const char *name, salvo_ctl_cmd *out,
			char *err, size_t errlen)
{
	if (strlen(name) > SALVO_CTL_TARGET_MAX) {
		snprintf(err, errlen,
			 "%s: profile name '%.20s...' is over %d "
			 "characters",
			 verb, name, SALVO_CTL_TARGET_MAX);
		return SALVO_ERR_INVAL;
	}
	snprintf(out->target, sizeof(out->target), "%s", name);
	return 0;
}

int salvo_ctl_parse(const char *line, salvo_ctl_cmd *out, char *err,
		    size_t errlen)
{
	char buf[SALVO_CTL_LINE_MAX + 1], *w[MAX_WORDS];
	memset(out, 0, sizeof(*out));
	if (strlen(line) > SALVO_CTL_LINE_MAX) {
		snprintf(err, errlen, "command longer than %d bytes; " USAGE,
			 SALVO_CTL_LINE_MAX);
		return SALVO_ERR_INVAL;
	}
	snprintf(buf, sizeof(buf), "%s", line);
	int n = split(buf, w);
	if (!n) {
		snprintf(err, errlen, "empty command; " USAGE);
		return SALVO_ERR_INVAL;
	}
	const char *verb = w[0];
	if (!strcmp(verb, "help") || !strcmp(verb, "status")) {
		out->kind = *verb == 'h' ? SALVO_CTL_HELP : SALVO_CTL_STATUS;
		if (n == 1)
			return 0;
		if (n == 2 && out->kind == SALVO_CTL_STATUS)
			return parse_target(verb, w[1], out, err, errlen);
		snprintf(err, errlen, "%s: too many words; " USAGE, verb);
		return SALVO_ERR_INVAL;
	}
	if (strcmp(verb, "rate") && strcmp(verb, "min-rate")) {
		snprintf(err, errlen, "unknown command '%.40s'; " USAGE, verb);
		return SALVO_ERR_INVAL;
	}
	out->kind = verb[0] == 'r' ? SALVO_CTL_RATE : SALVO_CTL_MIN_RATE;
	if (n == 1 || n > 3) {
		snprintf(err, errlen,
			 "%s needs one value (a rate such as 50mbit, none or "
			 "default), after a profile name for one profile",
			 verb);
		return SALVO_ERR_INVAL;
	}
	if (n == 3 && parse_target(verb, w[1], out, err, errlen))
		return SALVO_ERR_INVAL;
	return parse_value(verb, w[n - 1], out, err, errlen);
}
