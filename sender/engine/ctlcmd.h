/*
 * The control socket's commands (salvo send --control, salvo watch
 * --control; docs/CLI.md "salvo ctl"), one per line:
 *
 *   rate [PROFILE] RATE|none|default       the ceiling (fixed: the rate)
 *   min-rate [PROFILE] RATE|none|default   the floor (fair, high, low)
 *   status [PROFILE]                       one JSON line of numbers
 *   help                                   the list
 *
 * RATE is written as in salvo.yaml (transfer.rate: "50mbit", "1gbit",
 * "20MB/s") and parsed by the same code, so the same values pass and the
 * same reasons refuse the others.  none: no ceiling (no floor); default:
 * back to what the options or the watcher say.  PROFILE: a hot-folder
 * profile of salvo watch (the watcher's whole otherwise).
 *
 * Pure apart from the rate parser's allocation; safe from any thread.
 */
#ifndef SALVO_SEND_CTLCMD_H
#define SALVO_SEND_CTLCMD_H

#include <stddef.h>
#include <stdint.h>

enum salvo_ctl_kind {
	SALVO_CTL_RATE = 0,
	SALVO_CTL_MIN_RATE,
	SALVO_CTL_STATUS,
	SALVO_CTL_HELP,
};

enum salvo_ctl_value {
	SALVO_CTL_VALUE_RATE = 0, /* bps */
	SALVO_CTL_VALUE_NONE,	  /* no ceiling (floor) */
	SALVO_CTL_VALUE_DEFAULT,  /* the options' or the parent's */
};

/* A profile's name is at most this long (hotfolders[].name). */
#define SALVO_CTL_TARGET_MAX 64
/* A command line is at most this long, its newline included. */
#define SALVO_CTL_LINE_MAX 256

typedef struct salvo_ctl_cmd {
	int kind;			       /* enum salvo_ctl_kind */
	char target[SALVO_CTL_TARGET_MAX + 1]; /* "" : the whole */
	int value;			       /* enum salvo_ctl_value */
	uint64_t bps;			       /* VALUE_RATE: bits/s, > 0 */
} salvo_ctl_cmd;

/* Parses one line (a trailing "\n" or "\r\n" is fine).  Returns 0, or
 * SALVO_ERR_INVAL with a sentence for a person in err (the command, what
 * was wrong, what is allowed), SALVO_ERR_NOMEM. */
int salvo_ctl_parse(const char *line, salvo_ctl_cmd *out, char *err,
		    size_t errlen);

/* The help text: one line, no newline. */
const char *salvo_ctl_usage(void);

#endif
