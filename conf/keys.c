/*
 * The key table and the typed setter.  Each key is one line of a const
 * table; storage is an offset and width into the config (or into one
 * hot-folder profile), so the loader, the flags, the defaults and the
 * writer share one parse/format pair per type and never switch on key
 * names.  Strings are heap copies owned by the config; a set replaces the
 * old copy only after the new value parsed, so an error leaves the previous
 * layer's value in place.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/error.h"
#include "common/core/limits.h"
#include "common/core/path.h"
#include "common/crypto/keys.h"
#include "conf/keys.h"
#include "conf/units.h"

#define KiB 1024ULL
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)
#define SEC 1000000000ULL

#define C(sect, field)                                                         \
	offsetof(struct salvo_config, sect.field),                             \
	    sizeof(((struct salvo_config *)0)->sect.field)
#define P(field)                                                               \
	offsetof(struct salvo_hotfolder, field),                               \
	    sizeof(((struct salvo_hotfolder *)0)->field)

/* in enum salvo_rate_policy order */
static const char *const policy_names[] = {"fixed", "adaptive", "fair",
					   "high",  "low",	NULL};
/* in enum salvo_compress order; a profile's "default" comes first */
static const char *const compress_names[] = {"off", "auto", "lz4", NULL};
static const char *const profile_compress_names[] = {"default", "off", "auto",
						     "lz4", NULL};
static const char *const links_names[] = {"skip", "follow", NULL};
static const char *const offload_names[] = {"auto", "off", NULL};
static const char *const overwrite_names[] = {"never", "replace", "rename",
					      NULL};
/* a profile's: "default" (transfer.overwrite), then enum
 * salvo_send_overwrite + 1 */
static const char *const profile_overwrite_names[] = {
    "default", "if-different", "never", "if-newer", "always", NULL};
/* in enum salvo_send_overwrite order */
static const char *const send_overwrite_names[] = {"if-different", "never",
						   "if-newer", "always", NULL};
/* a profile's: "default" (transfer.checksum), then false, true */
static const char *const profile_checksum_names[] = {"default", "false", "true",
						     NULL};
static const char *const verify_names[] = {"normal", "paranoid", NULL};
static const char *const post_names[] = {"delete", "move", "keep", NULL};
static const char *const level_names[] = {"error", "warn",  "info",
					  "debug", "trace", NULL};
static const char *const format_names[] = {"text", "json", NULL};
/* false words at even, true words at odd indexes */
static const char *const bool_words[] = {"false", "true", "no", "yes",
					 "off",	  "on",	  NULL};

const char *const salvo_conf_sections[] = {
    "network",	  "transfer", "memory",	  "link", "receiver",
    "hotfolders", "logging",  "security", NULL,
};

/* Which subcommands take a key's flag. */
#define S SALVO_CONF_CMD_SEND
#define R SALVO_CONF_CMD_RECV
#define W SALVO_CONF_CMD_WATCH
#define PL SALVO_CONF_CMD_PLAN
#define KG SALVO_CONF_CMD_KEYGEN

/* Indexed by enum salvo_conf_key. */
const struct salvo_conf_keydesc salvo_conf_keys[SALVO_CONF_NKEYS] = {
    {"network.port", "--port", S | R | W, SALVO_CONF_T_COUNT, C(network, port),
     0, 1, 65535, NULL, NULL, "7400", "UDP port of the receiver"},
    {"network.bind", "--bind", R, SALVO_CONF_T_ADDR, C(network, bind_addr), 0,
     0, 0, NULL, NULL, "0.0.0.0", "address the receiver binds"},
    {"network.mtu", "--mtu", S | W | PL, SALVO_CONF_T_BYTES,
     C(network, mtu_bytes), 0, SALVO_MTU_MIN_BYTES, SALVO_MTU_MAX_BYTES, NULL,
     NULL, "1500", "path MTU in bytes (9000: jumbo)"},
    {"network.datagram", "--datagram", S | W, SALVO_CONF_T_BYTES,
     C(network, datagram_bytes), 0, SALVO_DATAGRAM_MIN_BYTES,
     SALVO_DATAGRAM_MAX_BYTES, "auto", NULL, "auto",
     "UDP payload per datagram; auto: mtu - 28 (IPv4) or mtu - 48 (IPv6)"},
    {"network.send_sockets", "--send-sockets", S | W | PL, SALVO_CONF_T_COUNT,
     C(network, send_sockets), 0, 1, SALVO_SOCKETS_MAX, NULL, NULL, "4",
     "UDP sockets the sender spreads datagrams over"},
    {"network.recv_sockets", "--recv-sockets", R | PL, SALVO_CONF_T_COUNT,
     C(network, recv_sockets), 0, 1, SALVO_SOCKETS_MAX, NULL, NULL, "2",
     "receiver sockets sharing the port (SO_REUSEPORT)"},
    {"network.sndbuf", "--sndbuf", S | W, SALVO_CONF_T_SIZE,
     C(network, sndbuf_bytes), 0, 64 * KiB, 2 * GiB, "auto", NULL, "auto",
     "SO_SNDBUF per socket; auto: from the plan, else 8MiB"},
    {"network.rcvbuf", "--rcvbuf", R, SALVO_CONF_T_SIZE,
     C(network, rcvbuf_bytes), 0, 64 * KiB, 2 * GiB, "auto", NULL, "auto",
     "SO_RCVBUF per socket; auto: from the plan, else 8MiB"},
    {"network.batch", "--batch", S | R | W | PL, SALVO_CONF_T_COUNT,
     C(network, batch), 0, 1, SALVO_BATCH_MAX, NULL, NULL, "32",
     "datagrams per sendmmsg/recvmmsg call"},
    {"network.offload", "--offload", S | R | W, SALVO_CONF_T_ENUM,
     C(network, offload), 0, 0, 0, NULL, offload_names, "auto",
     "UDP GSO/GRO where kernel and path take them; off: never"},
    {"transfer.block_size", "--block-size", S | W | PL, SALVO_CONF_T_SIZE,
     C(transfer, block_size_bytes), 0, SALVO_DATAGRAM_MIN_BYTES,
     SALVO_BLOCK_MAX_BYTES, NULL, NULL, "4MiB",
     "bytes one block-sender thread reads and sends as a unit"},
    {"transfer.threads", "--threads", S | W | PL, SALVO_CONF_T_COUNT,
     C(transfer, threads), 0, 1, SALVO_THREADS_MAX, NULL, NULL, "5",
     "block-sender threads"},
    {"transfer.rate", "--rate", S | W, SALVO_CONF_T_RATE, C(transfer, rate_bps),
     0, 1000, 400000000000ULL, "none", NULL, "none",
     "ceiling (fair, high, low) or pacing rate (fixed, required)"},
    {"transfer.min_rate", "--min-rate", S | W, SALVO_CONF_T_RATE,
     C(transfer, min_rate_bps), 0, 1000, 400000000000ULL, "none", NULL, "none",
     "rate floor for fair, high and low"},
    {"transfer.rate_policy", "--rate-policy", S | W, SALVO_CONF_T_ENUM,
     C(transfer, rate_policy), 0, 0, 0, NULL, policy_names, "fair",
     "rate control: fair, high, low or fixed (adaptive: fair)"},
    {"transfer.timeout", "--timeout", S | W, SALVO_CONF_T_TIME,
     C(transfer, timeout_ns), 0, SEC / 10, 3600 * SEC, NULL, NULL, "10s",
     "give up when the peer is silent this long"},
    {"transfer.compression", "--compress", S | W | R, SALVO_CONF_T_ENUM,
     C(transfer, compression), 0, 0, 0, NULL, compress_names, "auto",
     "LZ4 on the fly: auto (where it saves, while it pays), lz4, off "
     "(a receiver with off refuses it)"},
    {"transfer.links", "--links", S, SALVO_CONF_T_ENUM, C(transfer, links), 0,
     0, 0, NULL, links_names, "skip",
     "symlinks inside sent folders: skip (reported) or follow"},
    {"transfer.include", "--include", S, SALVO_CONF_T_GLOBS,
     C(transfer, include), 0, 1, 255, NULL, NULL, "",
     "globs of files to send inside sent folders; none: all"},
    {"transfer.exclude", "--exclude", S, SALVO_CONF_T_GLOBS,
     C(transfer, exclude), 0, 1, 255, NULL, NULL, "",
     "globs of files and folders to leave out inside sent folders"},
    {"transfer.overwrite", "--overwrite", S | W, SALVO_CONF_T_ENUM,
     C(transfer, overwrite), 0, 0, 0, NULL, send_overwrite_names,
     "if-different",
     "a file the receiver has already: skip it when identical (size and "
     "mtime), never replace it, replace it when newer, or always; within "
     "what the receiver allows (receiver.overwrite)"},
    {"transfer.checksum", "--checksum", S | W, SALVO_CONF_T_BOOL,
     C(transfer, checksum), 0, 0, 0, NULL, NULL, "false",
     "compare a file the receiver has by content (BLAKE3, each file read "
     "once more before sending) instead of size and mtime"},
    {"transfer.control", "--control", S | W, SALVO_CONF_T_FILE,
     C(transfer, control), 0, 1, 107, "none", NULL, "none",
     "a Unix socket made while the command runs: salvo ctl PATH rate "
     "50mbit | min-rate R | status"},
    {"memory.budget", "--memory", S | W, SALVO_CONF_T_SIZE,
     C(memory, budget_bytes), 0, 256 * KiB, 1024 * GiB, "auto", NULL, "auto",
     "sender memory, block_size x threads; auto: from link hints"},
    {"memory.fudge", "--fudge", S | W | PL, SALVO_CONF_T_FACTOR,
     C(memory, fudge_milli), 0, 1000, 100000, "auto", NULL, "auto",
     "plan factor over bandwidth x RTT; auto: 3, up to 10 with loss"},
    {"link.bandwidth", "--bandwidth", S | R | W | PL, SALVO_CONF_T_RATE,
     C(link, bandwidth_bps), 0, 1000, 400000000000ULL, "none", NULL, "none",
     "expected path bandwidth (plan input)"},
    {"link.rtt", "--rtt", S | R | W | PL, SALVO_CONF_T_TIME, C(link, rtt_ns), 0,
     1000, 10 * SEC, "none", NULL, "none", "expected round-trip time"},
    {"link.loss", "--loss", S | W | PL, SALVO_CONF_T_LOSS, C(link, loss_ppm), 0,
     0, 500000, NULL, NULL, "0%", "expected random loss"},
    {"receiver.root", "--root", R, SALVO_CONF_T_STRING, C(receiver, root_dir),
     0, 1, 4095, NULL, NULL, ".", "folder the receiver writes below"},
    {"receiver.max_sessions", "--max-sessions", R, SALVO_CONF_T_COUNT,
     C(receiver, max_sessions), 0, 1, 4096, NULL, NULL, "64",
     "concurrent sessions"},
    {"receiver.max_file_size", "--max-file-size", R, SALVO_CONF_T_SIZE,
     C(receiver, max_file_size_bytes), 0, 1, 1024 * 1024 * GiB, "unlimited",
     NULL, "unlimited", "largest file accepted"},
    {"receiver.memory_budget", "--memory-budget", R | PL, SALVO_CONF_T_SIZE,
     C(receiver, memory_budget_bytes), 0, MiB, 1024 * GiB, "unlimited", NULL,
     "256MiB",
     "bookkeeping of all sessions; a manifest needing more is refused"},
    {"receiver.overwrite", "--overwrite", R, SALVO_CONF_T_ENUM,
     C(receiver, overwrite), 0, 0, 0, NULL, overwrite_names, "never",
     "when the target exists"},
    {"receiver.idle_timeout", "--idle-timeout", R, SALVO_CONF_T_TIME,
     C(receiver, idle_timeout_ns), 0, SEC, 24 * 3600 * SEC, NULL, NULL, "60s",
     "drop a session silent this long"},
    {"receiver.partial_max_age", "--partial-max-age", R, SALVO_CONF_T_TIME,
     C(receiver, partial_max_age_ns), 0, 60 * SEC, 3650 * 24 * 3600 * SEC, NULL,
     NULL, "168h",
     "part-files kept for resume this long after their last write"},
    {"receiver.verify", "--verify", R, SALVO_CONF_T_ENUM, C(receiver, verify),
     0, 0, 0, NULL, verify_names, "normal",
     "normal: hash as written; paranoid: also read back from disk"},
    {"logging.level", "--log-level", S | R | W, SALVO_CONF_T_ENUM,
     C(logging, level), 0, 0, 0, NULL, level_names, "info",
     "least severe event logged"},
    {"logging.file", "--log-file", S | R | W, SALVO_CONF_T_STRING,
     C(logging, file), 0, 1, 4095, NULL, NULL, "stderr",
     "stderr, or a file the log is appended to"},
    {"logging.format", "--log-format", S | R | W, SALVO_CONF_T_ENUM,
     C(logging, format), 0, 0, 0, NULL, format_names, "text",
     "text lines, or json: one object per line"},
    {"logging.events", "--events", S | W, SALVO_CONF_T_FILE, C(logging, events),
     0, 1, 4095, "none", NULL, "none",
     "rate telemetry, JSON lines each RTT (10-100 ms): a file, - stdout"},
    {"security.key", "--key", S | R | W | KG, SALVO_CONF_T_FILE,
     C(security, key), 0, 1, 4095, "auto", NULL, "auto",
     "private key file; auto: ~/.config/salvo/key, for root "
     "SYSCONFDIR/salvo/key"},
    {"security.authorized_keys", "--authorized-keys", R, SALVO_CONF_T_FILE,
     C(security, authorized_keys), 0, 1, 4095, "auto", NULL, "auto",
     "the senders the receiver serves; auto: next to security.key"},
    {"security.known_hosts", "--known-hosts", S | W, SALVO_CONF_T_FILE,
     C(security, known_hosts), 0, 1, 4095, "auto", NULL, "auto",
     "receivers' keys, pinned on first use; auto: in the key folder"},
    {"security.receiver_key", "--receiver-key", S | W, SALVO_CONF_T_PUBKEY,
     C(security, receiver_key), 0, 1, 4095, "none", NULL, "none",
     "the receiver's public key, or a file holding it; none: pin it on "
     "first use in known_hosts"},
    {"security.allow_anonymous", "--allow-anonymous", R, SALVO_CONF_T_BOOL,
     C(security, allow_anonymous), 0, 0, 0, NULL, NULL, "false",
     "also serve senders not in authorized_keys (labs only)"},
    {"security.anonymous", "--anonymous", S | W, SALVO_CONF_T_BOOL,
     C(security, anonymous), 0, 0, 0, NULL, NULL, "false",
     "send without a key (only a receiver that allows anonymous senders "
     "takes it)"},
    {"hotfolders", NULL, 0, SALVO_CONF_T_PROFILES, 0, 0, 0, 0, 0, NULL, NULL,
     NULL, "hot-folder profiles"},
};

const struct salvo_conf_keydesc salvo_conf_profile_keys[SALVO_CONF_PK_COUNT] = {
    [SALVO_CONF_PK_NAME] = {"name", "--name", W, SALVO_CONF_T_STRING, P(name),
			    0, 1, 64, NULL, NULL, NULL, "profile name, unique"},
    [SALVO_CONF_PK_DIR] = {"dir", NULL, 0, SALVO_CONF_T_STRING, P(dir), 0, 1,
			   4095, NULL, NULL, NULL, "folder to watch"},
    [SALVO_CONF_PK_HOST] = {"host", NULL, 0, SALVO_CONF_T_HOSTPORT, P(host),
			    offsetof(struct salvo_hotfolder, port), 0, 0, NULL,
			    NULL, NULL, "receiver as host[:port]"},
    [SALVO_CONF_PK_REMOTE_DIR] = {"remote_dir", "--remote-dir", W,
				  SALVO_CONF_T_SUBDIR, P(remote_dir), 0, 0,
				  4095, NULL, NULL, "",
				  "folder below the receiver's root"},
    [SALVO_CONF_PK_INCLUDE] = {"include", "--include", W, SALVO_CONF_T_GLOBS,
			       P(include), 0, 1, 255, NULL, NULL, "",
			       "globs of files to send; none: all"},
    [SALVO_CONF_PK_EXCLUDE] = {"exclude", "--exclude", W, SALVO_CONF_T_GLOBS,
			       P(exclude), 0, 1, 255, NULL, NULL, "",
			       "globs of files to skip"},
    [SALVO_CONF_PK_SETTLE] = {"settle", "--settle", W, SALVO_CONF_T_TIME,
			      P(settle_ns), 0, SEC / 100, 3600 * SEC, NULL,
			      NULL, "2s", "quiet time before a file is sent"},
    [SALVO_CONF_PK_POST_ACTION] = {"post_action", "--post", W,
				   SALVO_CONF_T_ENUM, P(post_action), 0, 0, 0,
				   NULL, post_names, "keep",
				   "after a verified send"},
    [SALVO_CONF_PK_MOVE_TO] = {"move_to", "--move-to", W, SALVO_CONF_T_STRING,
			       P(move_to), 0, 0, 4095, NULL, NULL, "",
			       "folder for post_action move"},
    [SALVO_CONF_PK_MAX_SESSIONS] = {"max_sessions", "--max-sessions", W,
				    SALVO_CONF_T_COUNT, P(max_sessions), 0, 1,
				    64, NULL, NULL, "2", "concurrent sends"},
    [SALVO_CONF_PK_RETRY_MIN] = {"retry_min", "--retry-min", W,
				 SALVO_CONF_T_TIME, P(retry_min_ns), 0,
				 SEC / 10, 3600 * SEC, NULL, NULL, "1s",
				 "first retry delay"},
    [SALVO_CONF_PK_RETRY_MAX] = {"retry_max", "--retry-max", W,
				 SALVO_CONF_T_TIME, P(retry_max_ns), 0,
				 SEC / 10, 24 * 3600 * SEC, NULL, NULL, "5min",
				 "longest retry delay"},
    [SALVO_CONF_PK_KEY] = {"key", NULL, 0, SALVO_CONF_T_FILE, P(key), 0, 1,
			   4095, "default", NULL, "default",
			   "private key file; default: security.key"},
    [SALVO_CONF_PK_RECEIVER_KEY] = {"receiver_key", NULL, 0,
				    SALVO_CONF_T_PUBKEY, P(receiver_key), 0, 1,
				    4095, "default", NULL, "default",
				    "the receiver's public key, or a file "
				    "holding it; default: "
				    "security.receiver_key"},
    [SALVO_CONF_PK_ALLOW_HARDLINKS] = {"allow_hardlinks", "--allow-hardlinks",
				       W, SALVO_CONF_T_BOOL, P(allow_hardlinks),
				       0, 0, 0, NULL, NULL, "false",
				       "send files that have other hard "
				       "links"},
    [SALVO_CONF_PK_OVERWRITE] = {"overwrite", NULL, 0, SALVO_CONF_T_ENUM,
				 P(overwrite), 0, 0, 0, NULL,
				 profile_overwrite_names, "default",
				 "a file the receiver has already, for this "
				 "profile; default: transfer.overwrite"},
    [SALVO_CONF_PK_COMPRESSION] = {"compression", NULL, 0, SALVO_CONF_T_ENUM,
				   P(compression), 0, 0, 0, NULL,
				   profile_compress_names, "default",
				   "as transfer.compression, for this "
				   "folder; default: that key"},
    [SALVO_CONF_PK_CHECKSUM] = {"checksum", NULL, 0, SALVO_CONF_T_ENUM,
				P(checksum), 0, 0, 0, NULL,
				profile_checksum_names, "default",
				"as transfer.checksum, for this folder; "
				"default: that key"},
};
const size_t salvo_conf_n_profile_keys = SALVO_CONF_PK_COUNT;

const struct salvo_conf_renamed salvo_conf_renamed_profile_keys[] = {
    {"dest", "host"},
    {"dest_dir", "remote_dir"},
    {NULL, NULL},
};
const struct salvo_conf_renamed salvo_conf_renamed_flags[] = {
    {"--dest", "--remote-dir"},
    {"--compression", "--compress"},
    {"--dest-dir", "--remote-dir"},
    {NULL, NULL},
};

const char *salvo_conf_renamed_to(const struct salvo_conf_renamed *list,
				  const char *name, size_t len)
{
	for (; list->old_name; list++)
		if (strlen(list->old_name) == len &&
		    !strncmp(list->old_name, name, len))
			return list->new_name;
	return NULL;
}

int salvo_conf_table_index(const struct salvo_conf_keydesc *table, size_t n,
			   const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(table[i].key, key))
			return (int)i;
	return -1;
}

int salvo_conf_key_index(const char *key)
{
	return salvo_conf_table_index(salvo_conf_keys, SALVO_CONF_NKEYS, key);
}

uint64_t salvo_conf_key_get(const struct salvo_conf_keydesc *d,
			    const void *base)
{
	const char *p = (const char *)base + d->off;
	uint32_t v32;
	uint64_t v64;

	if (d->width == sizeof(v64)) {
		memcpy(&v64, p, sizeof(v64));
		return v64;
	}
	memcpy(&v32, p, sizeof(v32));
	return v32;
}

void salvo_conf_key_put(const struct salvo_conf_keydesc *d, void *base,
			uint64_t v)
{
	char *p = (char *)base + d->off;
	uint32_t v32 = (uint32_t)v;

	if (d->width == sizeof(v))
		memcpy(p, &v, sizeof(v));
	else
		memcpy(p, &v32, sizeof(v32));
}

static char *fmt_num(enum salvo_conf_type t, uint64_t v, char *buf, size_t n)
{
	switch (t) {
	case SALVO_CONF_T_SIZE:
		return salvo_units_format_size(v, buf, n);
	case SALVO_CONF_T_RATE:
		return salvo_units_format_rate(v, buf, n);
	case SALVO_CONF_T_TIME:
		return salvo_units_format_time(v, buf, n);
	case SALVO_CONF_T_LOSS:
		return salvo_units_format_loss(v, buf, n);
	case SALVO_CONF_T_FACTOR:
		return salvo_units_format_factor(v, buf, n);
	default:
		snprintf(buf, n, "%llu", (unsigned long long)v);
		return buf;
	}
}

static int parse_num(enum salvo_conf_type t, const char *text, uint64_t *v,
		     char *err, size_t errlen)
{
	switch (t) {
	case SALVO_CONF_T_SIZE:
		return salvo_units_parse_size(text, v, err, errlen);
	case SALVO_CONF_T_RATE:
		return salvo_units_parse_rate(text, v, err, errlen);
	case SALVO_CONF_T_TIME:
		return salvo_units_parse_time(text, v, err, errlen);
	case SALVO_CONF_T_LOSS:
		return salvo_units_parse_loss(text, v, err, errlen);
	case SALVO_CONF_T_FACTOR:
		return salvo_units_parse_factor(text, v, err, errlen);
	case SALVO_CONF_T_BYTES:
		if (!salvo_units_parse_count(text, v, NULL, 0) ||
		    !salvo_units_parse_size(text, v, NULL, 0))
			return 0;
		if (errlen > 0)
			snprintf(err, errlen,
				 "bad number of bytes '%s'; allowed: a whole "
				 "number (e.g. 1500)",
				 text);
		return SALVO_ERR_INVAL;
	default:
		return salvo_units_parse_count(text, v, err, errlen);
	}
}

char *salvo_conf_key_allowed(const struct salvo_conf_keydesc *d, char *buf,
			     size_t n)
{
	char lo[32], hi[32];
	size_t len = 0;

	buf[0] = '\0';
	switch (d->type) {
	case SALVO_CONF_T_ENUM:
		for (size_t i = 0; d->names[i] && len < n; i++)
			len += (size_t)snprintf(buf + len, n - len, "%s%s",
						i ? ", " : "", d->names[i]);
		return buf;
	case SALVO_CONF_T_SUBDIR:
		snprintf(buf, n,
			 "a relative folder below the receiver's "
			 "root, without '.' or '..' components");
		return buf;
	case SALVO_CONF_T_STRING:
	case SALVO_CONF_T_GLOBS:
		snprintf(buf, n, "a string of %llu..%llu bytes",
			 (unsigned long long)d->min,
			 (unsigned long long)d->max);
		return buf;
	case SALVO_CONF_T_ADDR:
		snprintf(buf, n, "an IPv4 or IPv6 address");
		return buf;
	case SALVO_CONF_T_HOSTPORT:
		snprintf(buf, n, "host, host:port or [ipv6]:port");
		return buf;
	case SALVO_CONF_T_FILE:
		snprintf(buf, n, "a file name, or %s", d->zero_word);
		return buf;
	case SALVO_CONF_T_PUBKEY:
		snprintf(buf, n,
			 "a public key line (" SALVO_KEY_TYPE " BASE64), a "
			 "file holding one, or %s",
			 d->zero_word);
		return buf;
	case SALVO_CONF_T_BOOL:
		snprintf(buf, n, "true or false");
		return buf;
	default:
		snprintf(buf, n, "%s..%s%s%s", fmt_num(d->type, d->min, lo, 32),
			 fmt_num(d->type, d->max, hi, 32),
			 d->zero_word ? " or " : "",
			 d->zero_word ? d->zero_word : "");
		return buf;
	}
}

static int refuse(const struct salvo_conf_keydesc *d, char *err, size_t errlen,
		  const char *text, const char *what)
{
	char allowed[160];
	if (errlen > 0)
		snprintf(err, errlen, "'%s' %s; allowed: %s", text, what,
			 salvo_conf_key_allowed(d, allowed, sizeof(allowed)));
	return SALVO_ERR_INVAL;
}

/* host, host:port, [v6]:port -> heap host and a port (0: none given). */
static int parse_hostport(const char *text, char **host, uint32_t *port)
{
	const char *colon = NULL, *end;
	const char *h = text;
	uint64_t p = 0;

	if (text[0] == '[') {
		h = text + 1;
		end = strchr(h, ']');
		if (!end || (end[1] && end[1] != ':'))
			return SALVO_ERR_INVAL;
		colon = end[1] ? end + 1 : NULL;
	} else {
		colon = strchr(text, ':');
		if (colon && strchr(colon + 1, ':'))
			return SALVO_ERR_INVAL; /* bare IPv6 needs brackets */
		end = colon ? colon : text + strlen(text);
	}
	if (end == h || memchr(h, ' ', (size_t)(end - h)))
		return SALVO_ERR_INVAL;
	if (colon && (salvo_units_parse_count(colon + 1, &p, NULL, 0) ||
		      p < 1 || p > 65535))
		return SALVO_ERR_INVAL;
	*host = strndup(h, (size_t)(end - h));
	if (!*host)
		return SALVO_ERR_NOMEM;
	*port = (uint32_t)p;
	return 0;
}

static int set_string(char **field, const char *text)
{
	char *copy = strdup(text);
	if (!copy)
		return SALVO_ERR_NOMEM;
	free(*field);
	*field = copy;
	return 0;
}

/* The array doubles when n reaches a power of two (its capacity is n
 * rounded up to one), so a long list costs linear time, not a copy per
 * item. */
static int append_string(struct salvo_conf_strv *sv, const char *text)
{
	char **v = sv->v;
	if (!(sv->n & (sv->n - 1))) {
		if (!(v = realloc(sv->v, (sv->n ? 2 * sv->n : 1) * sizeof(*v))))
			return SALVO_ERR_NOMEM;
		sv->v = v;
	}
	if (!(v[sv->n] = strdup(text)))
		return SALVO_ERR_NOMEM;
	sv->n++;
	return 0;
}

int salvo_conf_check_remote_dir(const char *dir, char *err, size_t errlen)
{
	size_t len = strlen(dir);
	const char *why = NULL;

	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (!len)
		return 0; /* "": the root itself */
	if (dir[0] == '/')
		why = "absolute path";
	else if (salvo_path_check(dir, len, &why))
		why = why ? why : "unsafe path";
	if (!why)
		return 0;
	if (errlen > 0)
		snprintf(err, errlen,
			 "refused: %s; allowed: a relative folder below the "
			 "receiver's root, without '.' or '..' components",
			 why);
	return SALVO_ERR_INVAL;
}

int salvo_conf_key_parse(const struct salvo_conf_keydesc *d, void *base,
			 const char *text, char *err, size_t errlen)
{
	char *field = (char *)base + d->off;
	unsigned char addr[16];
	size_t len = strlen(text);
	uint64_t v;

	switch (d->type) {
	case SALVO_CONF_T_ENUM:
		for (size_t i = 0; d->names[i]; i++)
			if (!strcmp(text, d->names[i])) {
				salvo_conf_key_put(d, base, i);
				return 0;
			}
		return refuse(d, err, errlen, text, "is not a known value");
	case SALVO_CONF_T_ADDR:
		if (inet_pton(AF_INET, text, addr) != 1 &&
		    inet_pton(AF_INET6, text, addr) != 1)
			return refuse(d, err, errlen, text,
				      "is not an address");
		return set_string((char **)field, text);
	case SALVO_CONF_T_HOSTPORT: {
		char *host = NULL;
		uint32_t port;
		int rc = parse_hostport(text, &host, &port);
		if (rc == SALVO_ERR_INVAL)
			return refuse(d, err, errlen, text,
				      "is not a destination");
		if (rc)
			return rc;
		free(*(char **)field);
		*(char **)field = host;
		memcpy((char *)base + d->off2, &port, sizeof(port));
		return 0;
	}
	case SALVO_CONF_T_SUBDIR: {
		char why[200];
		if (salvo_conf_check_remote_dir(text, why, sizeof(why))) {
			if (errlen > 0)
				snprintf(err, errlen, "'%s' %s", text, why);
			return SALVO_ERR_INVAL;
		}
		return set_string((char **)field, text);
	}
	case SALVO_CONF_T_BOOL:
		for (size_t i = 0; bool_words[i]; i++)
			if (!strcmp(text, bool_words[i])) {
				salvo_conf_key_put(d, base, i % 2);
				return 0;
			}
		return refuse(d, err, errlen, text, "is not true or false");
	case SALVO_CONF_T_FILE:
	case SALVO_CONF_T_PUBKEY:
		if (!strcmp(text, d->zero_word)) {
			free(*(char **)field);
			*(char **)field = NULL;
			return 0;
		}
		if (d->type == SALVO_CONF_T_PUBKEY &&
		    !strncmp(text, SALVO_KEY_TYPE, strlen(SALVO_KEY_TYPE))) {
			uint8_t key[SALVO_KEY_BYTES];
			const char *why = NULL;
			char what[128];
			if (salvo_key_public_parse(text, len, key, &why)) {
				snprintf(what, sizeof(what),
					 "is not a public key (%s)", why);
				return refuse(d, err, errlen, text, what);
			}
		}
		/* a name or a key line: checked for length as a string */
		/* fall through */
	case SALVO_CONF_T_STRING:
	case SALVO_CONF_T_GLOBS:
		if (len < d->min)
			return refuse(d, err, errlen, text, "is too short");
		if (len > d->max)
			return refuse(d, err, errlen, "...", "is too long");
		if (d->type == SALVO_CONF_T_GLOBS)
			return append_string((struct salvo_conf_strv *)field,
					     text);
		return set_string((char **)field, text);
	default:
		break;
	}
	if (d->zero_word && !strcmp(text, d->zero_word)) {
		salvo_conf_key_put(d, base, 0);
		return 0;
	}
	if (parse_num(d->type, text, &v, err, errlen)) {
		if (d->zero_word && errlen > 0) {
			size_t l = strlen(err);
			snprintf(err + l, errlen - l, ", or %s", d->zero_word);
		}
		return SALVO_ERR_INVAL;
	}
	if (v < d->min || v > d->max || (d->width < 8 && v > UINT32_MAX))
		return refuse(d, err, errlen, text, "is out of range");
	salvo_conf_key_put(d, base, v);
	return 0;
}

char *salvo_conf_key_format(const struct salvo_conf_keydesc *d,
			    const void *base, char *buf, size_t n)
{
	const char *field = (const char *)base + d->off;
	uint64_t v;

	switch (d->type) {
	case SALVO_CONF_T_STRING:
	case SALVO_CONF_T_SUBDIR:
	case SALVO_CONF_T_ADDR: {
		const char *str = *(char *const *)field;
		snprintf(buf, n, "%s", str ? str : "");
		return buf;
	}
	case SALVO_CONF_T_HOSTPORT: {
		const char *host = *(char *const *)field;
		uint32_t port;
		memcpy(&port, (const char *)base + d->off2, sizeof(port));
		if (!host)
			host = "";
		if (!port)
			snprintf(buf, n, "%s", host);
		else if (strchr(host, ':'))
			snprintf(buf, n, "[%s]:%u", host, port);
		else
			snprintf(buf, n, "%s:%u", host, port);
		return buf;
	}
	case SALVO_CONF_T_FILE:
	case SALVO_CONF_T_PUBKEY: {
		const char *str = *(char *const *)field;
		snprintf(buf, n, "%s", str ? str : d->zero_word);
		return buf;
	}
	case SALVO_CONF_T_BOOL:
		snprintf(buf, n, "%s",
			 salvo_conf_key_get(d, base) ? "true" : "false");
		return buf;
	case SALVO_CONF_T_GLOBS:
		buf[0] = '\0';
		return buf;
	default:
		break;
	}
	v = salvo_conf_key_get(d, base);
	if (d->type == SALVO_CONF_T_ENUM) {
		snprintf(buf, n, "%s", d->names[v]);
		return buf;
	}
	if (v == 0 && d->zero_word) {
		snprintf(buf, n, "%s", d->zero_word);
		return buf;
	}
	return fmt_num(d->type, v, buf, n);
}

void salvo_conf_keys_release(const struct salvo_conf_keydesc *table, size_t n,
			     void *base)
{
	for (size_t i = 0; i < n; i++) {
		char *field = (char *)base + table[i].off;
		switch (table[i].type) {
		case SALVO_CONF_T_STRING:
		case SALVO_CONF_T_SUBDIR:
		case SALVO_CONF_T_ADDR:
		case SALVO_CONF_T_HOSTPORT:
		case SALVO_CONF_T_FILE:
		case SALVO_CONF_T_PUBKEY:
			free(*(char **)field);
			*(char **)field = NULL;
			break;
		case SALVO_CONF_T_GLOBS: {
			struct salvo_conf_strv *sv = (void *)field;
			for (size_t j = 0; j < sv->n; j++)
				free(sv->v[j]);
			free(sv->v);
			sv->v = NULL;
			sv->n = 0;
			break;
		}
		default:
			break;
		}
	}
}

const char *salvo_conf_intern(struct salvo_config *cfg, const char *name)
{
	char **names;

	for (size_t i = 0; i < cfg->n_names; i++)
		if (!strcmp(cfg->names[i], name))
			return cfg->names[i];
	names = realloc(cfg->names, (cfg->n_names + 1) * sizeof(*names));
	if (!names)
		return NULL;
	cfg->names = names;
	if (!(names[cfg->n_names] = strdup(name)))
		return NULL;
	return names[cfg->n_names++];
}

void salvo_conf_diag_init(struct salvo_conf_diag *d)
{
	d->text[0] = '\0';
	d->len = 0;
	d->count = 0;
	d->dropped = 0;
}

char *salvo_conf_origin_format(const struct salvo_conf_origin *o, char *buf,
			       size_t n)
{
	switch (o->source) {
	case SALVO_CONF_FROM_FILE:
		if (o->line)
			snprintf(buf, n, "%s:%u:%u", o->name, o->line, o->col);
		else
			snprintf(buf, n, "%s", o->name);
		break;
	case SALVO_CONF_FROM_FLAG:
		snprintf(buf, n, "%s", o->name);
		break;
	case SALVO_CONF_FROM_AUTO:
		snprintf(buf, n, "auto (%s)", o->name);
		break;
	default:
		snprintf(buf, n, "default");
		break;
	}
	return buf;
}

void salvo_conf_diag_add(struct salvo_conf_diag *d,
			 const struct salvo_conf_origin *where, const char *fmt,
			 ...)
{
	char line[1024], at[512];
	va_list ap;
	int len;

	d->count++;
	/* once a line was dropped every later one is too: the "N more" line
	 * stays last and is never overwritten, and a flood of errors from a
	 * hostile file costs no formatting */
	if (d->dropped)
		goto drop;
	len = where ? snprintf(line, sizeof(line), "%s: ",
			       salvo_conf_origin_format(where, at, sizeof(at)))
		    : 0;
	va_start(ap, fmt);
	vsnprintf(line + len, sizeof(line) - (size_t)len, fmt, ap);
	va_end(ap);
	len = (int)strlen(line);
	/* keep room for the closing "N more" line */
	if (d->len + (size_t)len + 2 + 48 > sizeof(d->text))
		goto drop;
	memcpy(d->text + d->len, line, (size_t)len);
	d->len += (size_t)len;
	d->text[d->len++] = '\n';
	d->text[d->len] = '\0';
	return;
drop:
	d->dropped++;
	snprintf(d->text + d->len, sizeof(d->text) - d->len,
		 "(%u more errors not shown)\n", d->dropped);
}
