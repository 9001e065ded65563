/*
 * salvo's configuration: one struct that the send, receive and watch
 * engines read every tunable from, filled in layers, lowest precedence
 * first:
 *
 *   built-in defaults
 *   SYSCONFDIR/salvo/salvo.yaml   (SYSCONFDIR is /etc unless overridden)
 *   HOME/.config/salvo/salvo.yaml
 *   --config FILE
 *   command-line flags            (salvo_conf_set_flag / salvo_conf_take_flag)
 *   salvo_conf_finish             (auto-sizing from the plan, cross-checks)
 *
 * Every numeric field is an integer whose unit is in its name (_bytes,
 * _bps, _ns, _ppm, _milli); docs/CONFIG.md lists each key with its YAML
 * name, unit, range and default.  Each value remembers where it came from
 * (salvo_conf_origin_of) so `salvo config show` can say so and errors can
 * point at the line that set it.
 *
 * Errors: loading and checking never stop at the first problem; each one
 * appends a line "FILE:LINE:COLUMN: key: message; allowed: ..." (or
 * "--flag: ..." for a flag) to a caller-owned struct salvo_conf_diag and
 * the call returns SALVO_ERR_INVAL when it added any.  A bad value never
 * falls back to a default; the previous layer's value stays, and the caller
 * must not start a transfer.
 *
 * Threading: a config has one owner; after salvo_conf_finish it is only
 * read, and reading it from several threads is safe.
 */
#ifndef SALVO_CONF_CONFIG_H
#define SALVO_CONF_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/core/log.h"
#include "common/core/lz4piece.h"
#include "common/core/policy.h"

enum salvo_links { SALVO_LINKS_SKIP = 0, SALVO_LINKS_FOLLOW };
enum salvo_offload {
	SALVO_OFFLOAD_AUTO = 0, /* UDP GSO/GRO where kernel and path take it */
	SALVO_OFFLOAD_OFF,	/* one datagram per kernel send and receive */
};
enum salvo_post_action {
	SALVO_POST_DELETE = 0, /* delete the source once the peer verified it */
	SALVO_POST_MOVE,       /* move it below move_to */
	SALVO_POST_KEEP,       /* leave it; the journal remembers it was sent */
};
enum salvo_log_format { SALVO_LOG_TEXT = 0, SALVO_LOG_JSON };

/* Keywords that stand for 0 in some fields (see docs/CONFIG.md):
 * "auto" (sized by salvo_conf_finish), "none", "unlimited". */
#define SALVO_CONF_AUTO 0

struct salvo_conf_network {
	uint32_t port;		 /* UDP port; receiver listens, sender dials */
	char *bind_addr;	 /* IPv4/IPv6 literal to bind, "0.0.0.0" */
	uint32_t mtu_bytes;	 /* path MTU, 576..65535 (9000: jumbo) */
	uint32_t datagram_bytes; /* UDP payload, <= mtu − 28; 0 (auto): the
				  * sender derives it from the MTU and the
				  * receiver's address family */
	uint32_t send_sockets;	 /* sender UDP sockets */
	uint32_t recv_sockets;	 /* receiver sockets on the port (REUSEPORT) */
	uint64_t sndbuf_bytes;	 /* SO_SNDBUF per socket; finish: set */
	uint64_t rcvbuf_bytes;	 /* SO_RCVBUF per socket; finish: set */
	uint32_t batch;		 /* datagrams per sendmmsg/recvmmsg */
	enum salvo_offload offload;
};

struct salvo_conf_strv {
	char **v; /* owned by the config */
	size_t n;
};

struct salvo_conf_transfer {
	uint64_t block_size_bytes; /* one datagram .. 1 GiB */
	uint32_t threads;	   /* block-sender threads, 1..64 */
	uint64_t rate_bps;	   /* pacing ceiling, > 0 */
	uint64_t min_rate_bps;	   /* floor for adaptive modes; 0 none */
	enum salvo_rate_policy rate_policy;
	uint64_t timeout_ns; /* no answer from the peer for this long */
	int compression;     /* enum salvo_compress (common/core/lz4piece.h) */
	enum salvo_links links;		     /* symlinks inside sent folders */
	struct salvo_conf_strv include;	     /* globs; empty: every file */
	struct salvo_conf_strv exclude;	     /* globs, after include */
	enum salvo_send_overwrite overwrite; /* a file the receiver has */
	int checksum;  /* 1: compare such files by content (BLAKE3) */
	char *control; /* send, watch: the control socket's path; NULL none */
};

struct salvo_conf_memory {
	uint64_t budget_bytes; /* sender memory; 0 (auto) until finish */
	uint64_t fudge_milli;  /* plan factor × 1000; 0: from link.loss */
};

struct salvo_conf_link {
	uint64_t bandwidth_bps; /* 0: unknown */
	uint64_t rtt_ns;	/* 0: unknown */
	uint64_t loss_ppm;	/* expected random loss, 0..500000 */
};

struct salvo_conf_receiver {
	char *root_dir;		      /* files land only below it */
	uint32_t max_sessions;	      /* concurrent sessions */
	uint64_t max_file_size_bytes; /* 0: unlimited */
	uint64_t memory_budget_bytes; /* sessions' bookkeeping, 0: unlimited */
	enum salvo_overwrite overwrite;
	uint64_t idle_timeout_ns;    /* a silent session is dropped after it */
	uint64_t partial_max_age_ns; /* older part-files: removed at start */
	enum salvo_verify verify;
};

/* Identities and authorisation (docs/SECURITY.md, "Identities").  A NULL
 * path is "auto" until salvo_conf_finish resolves it: key and known_hosts
 * in the key folder (salvo_conf_set_key_dir), authorized_keys next to
 * key. */
struct salvo_conf_security {
	char *key;	       /* private key file (send, recv, watch) */
	char *authorized_keys; /* receiver: the senders it serves */
	char *known_hosts;     /* sender: receivers' keys, pinned */
	char *receiver_key;    /* sender: a public key line or a file
				* holding one; NULL: pin on first use */
	int allow_anonymous;   /* receiver: serve senders not listed */
	int anonymous;	       /* sender: send without a key of its own */
};

struct salvo_conf_origin {
	enum salvo_conf_source {
		SALVO_CONF_FROM_DEFAULT = 0,
		SALVO_CONF_FROM_FILE, /* name: the file; line, col: 1-based */
		SALVO_CONF_FROM_FLAG, /* name: the flag, e.g. "--block-size" */
		SALVO_CONF_FROM_AUTO, /* name: how finish derived it */
	} source;
	const char *name; /* owned by the config; NULL for DEFAULT */
	unsigned line, col;
};

struct salvo_hotfolder {
	char *name;	  /* unique among profiles */
	char *dir;	  /* the folder watched */
	char *host;	  /* receiver host name or address */
	uint32_t port;	  /* 0: network.port */
	char *remote_dir; /* folder below the receiver's root, "" */
	struct salvo_conf_strv include; /* globs; empty: every file */
	struct salvo_conf_strv exclude; /* globs, applied after include */
	uint64_t settle_ns;		/* a file unchanged this long is sent */
	enum salvo_post_action post_action;
	char *move_to;	       /* post_action move only */
	uint32_t max_sessions; /* concurrent sends from this folder */
	uint64_t retry_min_ns; /* first retry delay, doubled up to max */
	uint64_t retry_max_ns;
	char *key;	     /* private key file; NULL: security.key */
	char *receiver_key;  /* as security.receiver_key; NULL: that key */
	int allow_hardlinks; /* 1: send files with more than one hard link */
	int overwrite;	     /* 0: transfer.overwrite; else enum
				salvo_send_overwrite + 1 */
	int compression;     /* 0: transfer.compression; else 1 + enum
				salvo_compress */
	int checksum;	     /* 0: transfer.checksum; 1 false, 2 true */
	struct salvo_conf_origin origin; /* where the profile starts */
	/* the config that holds the profile (its security keys and port
	 * for the profile's pin callback, conf/engine_opts.h) */
	const struct salvo_config *cfg;
};

struct salvo_conf_logging {
	enum salvo_log_level level;
	char *file; /* "stderr" or a path */
	enum salvo_log_format format;
	char *events; /* send: rate telemetry file, "-" stdout; NULL none */
};

/* Keys that carry an origin, in `config show` order. */
enum salvo_conf_key {
	SALVO_CONF_NETWORK_PORT = 0,
	SALVO_CONF_NETWORK_BIND,
	SALVO_CONF_NETWORK_MTU,
	SALVO_CONF_NETWORK_DATAGRAM,
	SALVO_CONF_NETWORK_SEND_SOCKETS,
	SALVO_CONF_NETWORK_RECV_SOCKETS,
	SALVO_CONF_NETWORK_SNDBUF,
	SALVO_CONF_NETWORK_RCVBUF,
	SALVO_CONF_NETWORK_BATCH,
	SALVO_CONF_NETWORK_OFFLOAD,
	SALVO_CONF_TRANSFER_BLOCK_SIZE,
	SALVO_CONF_TRANSFER_THREADS,
	SALVO_CONF_TRANSFER_RATE,
	SALVO_CONF_TRANSFER_MIN_RATE,
	SALVO_CONF_TRANSFER_RATE_POLICY,
	SALVO_CONF_TRANSFER_TIMEOUT,
	SALVO_CONF_TRANSFER_COMPRESSION,
	SALVO_CONF_TRANSFER_LINKS,
	SALVO_CONF_TRANSFER_INCLUDE,
	SALVO_CONF_TRANSFER_EXCLUDE,
	SALVO_CONF_TRANSFER_OVERWRITE,
	SALVO_CONF_TRANSFER_CHECKSUM,
	SALVO_CONF_TRANSFER_CONTROL,
	SALVO_CONF_MEMORY_BUDGET,
	SALVO_CONF_MEMORY_FUDGE,
	SALVO_CONF_LINK_BANDWIDTH,
	SALVO_CONF_LINK_RTT,
	SALVO_CONF_LINK_LOSS,
	SALVO_CONF_RECEIVER_ROOT,
	SALVO_CONF_RECEIVER_MAX_SESSIONS,
	SALVO_CONF_RECEIVER_MAX_FILE_SIZE,
	SALVO_CONF_RECEIVER_MEMORY_BUDGET,
	SALVO_CONF_RECEIVER_OVERWRITE,
	SALVO_CONF_RECEIVER_IDLE_TIMEOUT,
	SALVO_CONF_RECEIVER_PARTIAL_MAX_AGE,
	SALVO_CONF_RECEIVER_VERIFY,
	SALVO_CONF_LOGGING_LEVEL,
	SALVO_CONF_LOGGING_FILE,
	SALVO_CONF_LOGGING_FORMAT,
	SALVO_CONF_LOGGING_EVENTS,
	SALVO_CONF_SECURITY_KEY,
	SALVO_CONF_SECURITY_AUTHORIZED_KEYS,
	SALVO_CONF_SECURITY_KNOWN_HOSTS,
	SALVO_CONF_SECURITY_RECEIVER_KEY,
	SALVO_CONF_SECURITY_ALLOW_ANONYMOUS,
	SALVO_CONF_SECURITY_ANONYMOUS,
	SALVO_CONF_HOTFOLDERS, /* the list as a whole */
	SALVO_CONF_NKEYS
};

struct salvo_config {
	struct salvo_conf_network network;
	struct salvo_conf_transfer transfer;
	struct salvo_conf_memory memory;
	struct salvo_conf_link link;
	struct salvo_conf_receiver receiver;
	struct salvo_conf_logging logging;
	struct salvo_conf_security security;
	struct salvo_hotfolder
	    *hotfolders; /* a later layer replaces the list */
	size_t n_hotfolders;

	/* bookkeeping: read through the functions below */
	struct salvo_conf_origin origin[SALVO_CONF_NKEYS];
	char **names; /* interned origin names */
	size_t n_names;
	/* where "auto" key files live (interned; NULL: unknown, e.g. no
	 * $HOME) and how that was chosen, for `config show` */
	const char *key_dir, *key_dir_why;

	/* Not configuration: where conf/'s run-time notices go (a key file
	 * created on first use, a receiver key pinned on first use).  Set by
	 * the command once its log exists; NULL: nowhere.  Called from the
	 * sender's threads too, so it must be thread-safe (a logsink is). */
	salvo_log_fn log;
	void *log_ud;
};

/* Where errors go: lines "WHERE: message\n", in order. */
#define SALVO_CONF_DIAG_BYTES 8192
struct salvo_conf_diag {
	char text[SALVO_CONF_DIAG_BYTES]; /* NUL-terminated */
	size_t len;
	unsigned count;	  /* errors reported, including those not kept */
	unsigned dropped; /* lines that did not fit in text */
};

void salvo_conf_diag_init(struct salvo_conf_diag *d);

/* A config holding the built-in defaults, or NULL when out of memory.
 * salvo_conf_del(NULL) is a no-op. */
struct salvo_config *salvo_conf_new(void);
void salvo_conf_del(struct salvo_config *cfg);

/*
 * One layer from YAML text in memory (len bytes, need not be
 * NUL-terminated); name is used in messages and origins.  Every key found
 * is applied unless its value is bad; every bad one is reported.  Returns
 * 0, SALVO_ERR_INVAL when it reported errors, SALVO_ERR_NOMEM.
 */
int salvo_conf_load_buffer(struct salvo_config *cfg, const char *name,
			   const char *buf, size_t len,
			   struct salvo_conf_diag *diag);

/* The same from a file.  A missing file is an error when must_exist, else
 * the layer is skipped (returns 0).  Files over 1 MiB are refused. */
int salvo_conf_load_file(struct salvo_config *cfg, const char *path,
			 int must_exist, struct salvo_conf_diag *diag);

/* The files of the layers.  NULL members are skipped. */
struct salvo_conf_paths {
	const char *sysconfdir;	 /* reads SYSCONFDIR/salvo/salvo.yaml */
	const char *home;	 /* reads HOME/.config/salvo/salvo.yaml */
	const char *config_file; /* --config: must exist */
	/* the key folder (salvo_conf_set_key_dir): SYSCONFDIR/salvo for
	 * root, else USER_HOME/.config/salvo; NULL user_home: unknown */
	const char *user_home;
	int root;
};

/* sysconfdir from $SALVO_SYSCONFDIR, else "/etc"; home from $HOME (and
 * $SALVO_NO_USER_CONFIG=1 skips it); config_file NULL; user_home from
 * $HOME (whatever $SALVO_NO_USER_CONFIG says: keys are not settings);
 * root when the effective uid is 0.  Pointers borrow the environment. */
void salvo_conf_paths_from_env(struct salvo_conf_paths *paths);

/*
 * Where the key files that security.* leave to "auto" live, from paths:
 * root (a system service: recv and watch under systemd) keeps them with
 * the system configuration, SYSCONFDIR/salvo; any other user in
 * USER_HOME/.config/salvo, beside the user's salvo.yaml.  Without a
 * folder (a non-root user and no $HOME) they stay unresolved and a
 * command that needs one says so.  salvo_conf_from_args calls it.
 * Returns 0 or SALVO_ERR_NOMEM.
 */
int salvo_conf_set_key_dir(struct salvo_config *cfg,
			   const struct salvo_conf_paths *paths);

/* Loads the three file layers in order; reports errors from all of them. */
int salvo_conf_load_layers(struct salvo_config *cfg,
			   const struct salvo_conf_paths *paths,
			   struct salvo_conf_diag *diag);

/*
 * Sets one key ("transfer.block_size") from text in human units, as a
 * command-line flag: the origin records the flag's name.  Returns 0, or
 * SALVO_ERR_INVAL with "FLAG: key: reason; allowed: ..." in err (the value
 * is then unchanged).  Hot-folder profiles are not settable this way.
 */
int salvo_conf_set_flag(struct salvo_config *cfg, const char *key,
			const char *value, const char *flag, char *err,
			size_t errlen);

/* A second name for a key's flag: {"-p", "network.port"}.  A NULL flag
 * ends a list. */
struct salvo_conf_flag {
	const char *flag;
	const char *key;
};

/* The subcommands that take configuration flags (the key table says, for
 * each key, which of them take its flag). */
enum salvo_conf_cmd_bit {
	SALVO_CONF_CMD_SEND = 1u << 0,
	SALVO_CONF_CMD_RECV = 1u << 1,
	SALVO_CONF_CMD_WATCH = 1u << 2,
	SALVO_CONF_CMD_PLAN = 1u << 3,
	SALVO_CONF_CMD_KEYGEN = 1u << 4,
};

/*
 * The configuration flags of one subcommand: the own flag (the "flag"
 * column of docs/CONFIG.md) of every key whose table line names the
 * command, plus its aliases.  With profile set, the hot-folder profile
 * flags (--remote-dir, --settle, ...) are the command's too: they are
 * left in rest for salvo_conf_profile_take_flag.  bit 0 means every key
 * (salvo config show).
 */
struct salvo_conf_cmd {
	const char *name; /* "send", for messages */
	unsigned bit;	  /* one SALVO_CONF_CMD_*, or 0: every key */
	const struct salvo_conf_flag *aliases; /* may be NULL */
	int profile;
};
extern const struct salvo_conf_cmd salvo_conf_cmd_send, salvo_conf_cmd_recv,
    salvo_conf_cmd_watch, salvo_conf_cmd_plan, salvo_conf_cmd_keygen,
    salvo_conf_cmd_all;

/* Whether cmd takes the flag of key k (its own or an alias). */
int salvo_conf_cmd_takes(const struct salvo_conf_cmd *cmd,
			 enum salvo_conf_key k);

/*
 * Tries argv[*i] against cmd's flags: "--flag VALUE" or "--flag=VALUE"; a
 * true/false key's flag alone means true ("--allow-anonymous") and takes
 * a value only after '=' ("--allow-anonymous=false").  Returns 1 and advances
 * *i past what it used when the flag is cmd's and its value is good; 0 when
 * argv[*i] is not a configuration flag (*i unchanged); SALVO_ERR_INVAL with a
 * message in err for a bad or missing value, for an old spelling ("--dest:
 * renamed; use --remote-dir ..."), and for another key's flag that this command
 * does not take ("--mtu: network.mtu is a setting of send, watch, plan; salvo
 * recv does not take it").
 */
int salvo_conf_take_flag(struct salvo_config *cfg,
			 const struct salvo_conf_cmd *cmd, int argc,
			 char **argv, int *i, char *err, size_t errlen);

/*
 * The usual start of a subcommand, in precedence order: the files of
 * *paths, then --config FILE (or --config=FILE) found anywhere in argv,
 * then each of cmd's flags in argv order.  argv[0] is the subcommand's
 * name and is skipped.  Other arguments are copied, in order, to rest
 * (room for argc pointers) and counted in *nrest.  Every error goes to
 * diag.  Returns 0, SALVO_ERR_INVAL or SALVO_ERR_NOMEM.  Call
 * salvo_conf_finish afterwards.
 */
int salvo_conf_from_args(struct salvo_config *cfg,
			 const struct salvo_conf_paths *paths,
			 const struct salvo_conf_cmd *cmd, int argc,
			 char **argv, char **rest, int *nrest,
			 struct salvo_conf_diag *diag);

/*
 * What a subcommand calls first: a new config, the files named by the
 * environment (salvo_conf_paths_from_env), then salvo_conf_from_args.
 * *rest is allocated (the caller frees it) and holds the arguments that
 * are not configuration.  Errors go to diag and the config is returned
 * anyway, so that every error can be shown; NULL only when out of memory.
 */
struct salvo_config *salvo_conf_new_from_args(const struct salvo_conf_cmd *cmd,
					      int argc, char **argv,
					      char ***rest, int *nrest,
					      struct salvo_conf_diag *diag);

/*
 * The one-folder form of salvo watch: replaces cfg's profile list with one
 * profile holding the profile defaults and the name "watch", and returns it
 * (owned by cfg), or NULL when out of memory.  Fill it with
 * salvo_conf_profile_take_flag and salvo_conf_profile_set, then check it
 * with salvo_conf_profile_finish.
 */
struct salvo_hotfolder *salvo_conf_profile_new(struct salvo_config *cfg);

/*
 * Tries argv[*i] against the profile flags (--name, --remote-dir,
 * --include, --exclude, --settle, --post, --move-to, --max-sessions,
 * --retry-min, --retry-max), as salvo_conf_take_flag does for keys.
 */
int salvo_conf_profile_take_flag(struct salvo_config *cfg,
				 struct salvo_hotfolder *hf, int argc,
				 char **argv, int *i, char *err, size_t errlen);

/* Sets profile key ("dir", "host") of hf from text, as where says
 * (e.g. "DIR").  Returns 0, or SALVO_ERR_INVAL with "where: key:
 * reason; allowed: ..." in err. */
int salvo_conf_profile_set(struct salvo_config *cfg, struct salvo_hotfolder *hf,
			   const char *key, const char *text, const char *where,
			   char *err, size_t errlen);

/* The checks between one-folder profile keys, named by their flags
 * ("--post move needs --move-to").  0 or SALVO_ERR_INVAL. */
int salvo_conf_profile_finish(struct salvo_config *cfg,
			      struct salvo_conf_diag *diag);

/*
 * A folder below the receiver's root (send --remote-dir, a profile's
 * remote_dir): relative, '/'-separated, no '.' or '..' component.  Returns
 * 0, or SALVO_ERR_INVAL with "reason; allowed: ..." in err.
 */
int salvo_conf_check_remote_dir(const char *dir, char *err, size_t errlen);

/*
 * Completes the config after the last layer: derives the "auto" values
 * (memory.budget, sndbuf, rcvbuf, and block size and threads when link
 * hints or a budget ask for it and the user did not set them; an auto
 * network.datagram stays 0: the sender derives it from the MTU and the
 * receiver's address family) and checks the keys against each other
 * (datagram within MTU − 28, block at least one datagram, block × threads
 * within the budget, floor below ceiling) and refuses what is not built
 * yet (rate_policy fair, compression lz4).  The security.* files left to
 * "auto" become paths (origin AUTO): key and known_hosts in the key
 * folder, authorized_keys next to key.  Every error names the key.  Returns 0
 * or SALVO_ERR_INVAL.
 */
int salvo_conf_finish(struct salvo_config *cfg, struct salvo_conf_diag *diag);

/* Looks a key up by name; returns its index or -1. */
int salvo_conf_key_index(const char *key);
/* Where a key's value came from; never NULL. */
const struct salvo_conf_origin *
salvo_conf_origin_of(const struct salvo_config *cfg, enum salvo_conf_key key);

/* "default", "FILE:LINE:COL", "flag --x" or "auto (...)", into buf. */
char *salvo_conf_origin_format(const struct salvo_conf_origin *o, char *buf,
			       size_t n);

/*
 * Writes the effective configuration: as YAML in human units, each value
 * followed by "# source", that salvo_conf_load_buffer reads back to the same
 * values; or (json != 0) as one JSON object with integer values in base
 * units (keys get _bytes, _bps, _ns, _ppm, _milli) and a "sources" object.
 * Returns 0 or -errno from the stream.
 */
int salvo_conf_write(const struct salvo_config *cfg, FILE *out, int json);

#endif
