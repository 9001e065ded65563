/*
 * Internal to conf/: the table that describes every key once (name, flag,
 * the subcommands that take the flag, type, storage, range, zero keyword,
 * default), and the one function that turns text into a stored,
 * range-checked value.  The YAML loader, the flag setter, the defaults, the
 * subcommands' flag sets and `config show` all go through it, so a key
 * added here is loaded, flagged, shown and documented in one line.  It is
 * the only place that holds a default, a unit or a range; the ranges that
 * the engines share are the constants of common/core/limits.h.
 */
#ifndef SALVO_CONF_KEYS_H
#define SALVO_CONF_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"

enum salvo_conf_type {
	SALVO_CONF_T_COUNT,    /* plain integer */
	SALVO_CONF_T_SIZE,     /* bytes, "4MiB" */
	SALVO_CONF_T_BYTES,    /* bytes as a plain number, "1500" (or 1500B) */
	SALVO_CONF_T_RATE,     /* bit/s, "200mbit" */
	SALVO_CONF_T_TIME,     /* ns, "100ms" */
	SALVO_CONF_T_LOSS,     /* ppm, "0.5%" */
	SALVO_CONF_T_FACTOR,   /* thousandths, "4.5" */
	SALVO_CONF_T_STRING,   /* char *, min = shortest length */
	SALVO_CONF_T_ADDR,     /* char *, an IPv4 or IPv6 literal */
	SALVO_CONF_T_HOSTPORT, /* char * at off, uint32_t port at off2 */
	SALVO_CONF_T_ENUM,     /* int, index into names */
	SALVO_CONF_T_SUBDIR,   /* char *, a relative folder, no '.' or '..' */
	SALVO_CONF_T_GLOBS,    /* struct salvo_conf_strv, appends */
	SALVO_CONF_T_FILE,     /* char *, a file name; zero_word: NULL */
	SALVO_CONF_T_PUBKEY,   /* char *, a public key line (checked) or a
				* file holding one; zero_word: NULL */
	SALVO_CONF_T_BOOL,     /* int, true or false */
	SALVO_CONF_T_PROFILES, /* the hot-folder list (loader-only) */
};

struct salvo_conf_keydesc {
	const char *key;  /* "transfer.block_size"; profile fields: "settle" */
	const char *flag; /* "--block-size" */
	unsigned cmds;	  /* SALVO_CONF_CMD_* that take the flag */
	enum salvo_conf_type type;
	size_t off, width; /* the field in the base struct */
	size_t off2;	   /* HOSTPORT: the port field (uint32_t) */
	uint64_t min,
	    max; /* numeric range, inclusive, of non-zero-word values */
	const char *zero_word;	  /* "auto", "none", "unlimited": stores 0
				   * (a NULL string for FILE, PUBKEY) */
	const char *const *names; /* ENUM: NULL-terminated */
	const char *def;	  /* default, as text; NULL: required */
	const char *help;	  /* one line for docs and messages */
};

/* The keys of one hot-folder profile, in table order. */
enum salvo_conf_profile_key {
	SALVO_CONF_PK_NAME = 0,
	SALVO_CONF_PK_DIR,
	SALVO_CONF_PK_HOST,
	SALVO_CONF_PK_REMOTE_DIR,
	SALVO_CONF_PK_INCLUDE,
	SALVO_CONF_PK_EXCLUDE,
	SALVO_CONF_PK_SETTLE,
	SALVO_CONF_PK_POST_ACTION,
	SALVO_CONF_PK_MOVE_TO,
	SALVO_CONF_PK_MAX_SESSIONS,
	SALVO_CONF_PK_RETRY_MIN,
	SALVO_CONF_PK_RETRY_MAX,
	SALVO_CONF_PK_KEY,
	SALVO_CONF_PK_RECEIVER_KEY,
	SALVO_CONF_PK_ALLOW_HARDLINKS,
	SALVO_CONF_PK_OVERWRITE,
	SALVO_CONF_PK_COMPRESSION,
	SALVO_CONF_PK_CHECKSUM,
	SALVO_CONF_PK_COUNT
};

extern const struct salvo_conf_keydesc salvo_conf_keys[SALVO_CONF_NKEYS];
extern const struct salvo_conf_keydesc
    salvo_conf_profile_keys[SALVO_CONF_PK_COUNT];
extern const size_t salvo_conf_n_profile_keys;
extern const char *const salvo_conf_sections[]; /* NULL-terminated */

/* An old spelling that is refused with an error naming the new one. */
struct salvo_conf_renamed {
	const char *old_name, *new_name;
};
/* Profile keys ("dest" -> "host"), NULL-terminated. */
extern const struct salvo_conf_renamed salvo_conf_renamed_profile_keys[];
/* Flags ("--dest" -> "--remote-dir"), NULL-terminated. */
extern const struct salvo_conf_renamed salvo_conf_renamed_flags[];

/* The new name for a renamed one in list, or NULL (len: bytes of name). */
const char *salvo_conf_renamed_to(const struct salvo_conf_renamed *list,
				  const char *name, size_t len);

/* The index of key in table[0..n), or -1. */
int salvo_conf_table_index(const struct salvo_conf_keydesc *table, size_t n,
			   const char *key);

/*
 * Parses text for key d and stores it into base + d->off.  Returns 0, or
 * SALVO_ERR_INVAL with "reason; allowed: ..." in err (no key name: the
 * caller prefixes its own), SALVO_ERR_NOMEM.  Nothing is stored on error.
 */
int salvo_conf_key_parse(const struct salvo_conf_keydesc *d, void *base,
			 const char *text, char *err, size_t errlen);

/* The value of a non-list key as the text that parses back to it. */
char *salvo_conf_key_format(const struct salvo_conf_keydesc *d,
			    const void *base, char *buf, size_t n);

/* The numeric value of a numeric or enum key. */
uint64_t salvo_conf_key_get(const struct salvo_conf_keydesc *d,
			    const void *base);
void salvo_conf_key_put(const struct salvo_conf_keydesc *d, void *base,
			uint64_t v);

/* The allowed values of d as a phrase: "1..64", "1472B..1GiB or auto",
 * "fixed, adaptive, fair". */
char *salvo_conf_key_allowed(const struct salvo_conf_keydesc *d, char *buf,
			     size_t n);

/* Frees the strings and lists of one struct's keys (then zeroed). */
void salvo_conf_keys_release(const struct salvo_conf_keydesc *table, size_t n,
			     void *base);

/* Frees a hot-folder list and its profiles' strings. */
void salvo_conf_hotfolders_free(struct salvo_hotfolder *list, size_t n);

/* Stores the profile keys' defaults into hf (the globs stay empty).
 * Returns 0 or SALVO_ERR_NOMEM. */
int salvo_conf_profile_defaults(struct salvo_hotfolder *hf);

/*
 * The checks that need several keys of one profile (move needs move_to,
 * retry_min <= retry_max).  With prefix ("hotfolders[0].") a key is named
 * by prefix and key in messages; with NULL by its flag ("--post").
 * where[k] (NULL: none) is the origin to blame for profile key k.
 */
void salvo_conf_profile_check(const struct salvo_hotfolder *hf,
			      const char *prefix,
			      const struct salvo_conf_origin *where,
			      struct salvo_conf_diag *diag);

/* The finishing step of the security.* keys (conf/security.c): resolves
 * the files left to "auto" (salvo_conf_finish's contract).  Returns 0 or
 * SALVO_ERR_NOMEM. */
int salvo_conf_security_finish(struct salvo_config *cfg);

/* Interns a name in cfg (NULL when out of memory). */
const char *salvo_conf_intern(struct salvo_config *cfg, const char *name);

/* Appends "WHERE: message" (where NULL: the message alone) to d. */
void salvo_conf_diag_add(struct salvo_conf_diag *d,
			 const struct salvo_conf_origin *where, const char *fmt,
			 ...) __attribute__((format(printf, 3, 4)));

#endif
