/*
 * The one mapping from a finished configuration to the engines' options.
 * `salvo send`, every hot-folder profile of `salvo watch` and `salvo recv`
 * build their engine options here and nowhere else, so a key reaches the
 * engine the same way from YAML or a flag, in every command
 * (tests/unit/test_engine_opts.c walks the key table to prove it).  The
 * defaults come from the key table (conf/keys.c); an "auto" datagram stays
 * 0, for the sender to derive from network.mtu and the receiver's address
 * family.
 *
 * Only the configured fields are set; the rest are zero (NULL callbacks,
 * no stop flag).  The identities (keys, authorised senders, the receiver
 * key or its pin callback) need files: salvo_conf_send_identity and
 * salvo_conf_recv_identity below read them (conf/identity.c); a profile's
 * come with salvo_conf_profile_send_opts.  What is not configuration stays the
 * caller's: the receiver host and the paths for send, the ready callback and
 * once for recv.  Pointers in the options borrow the config's strings: keep cfg
 * alive while the options are used.  Thread-safe for a finished config.
 */
#ifndef SALVO_CONF_ENGINE_OPTS_H
#define SALVO_CONF_ENGINE_OPTS_H

#include <stddef.h>

#include "common/crypto/keys.h"
#include "conf/config.h"
#include "receiver/engine/recv.h"
#include "sender/engine/send.h"

struct salvo_logsink;

/*
 * The sender's options from cfg (after salvo_conf_finish): every network,
 * transfer, memory and link key that concerns the sender, the in-flight
 * window from link hints, the port.  Returns 0, or SALVO_ERR_INVAL with a
 * message that names the key in err (a config that did not pass
 * salvo_conf_finish).
 */
int salvo_conf_send_opts(const struct salvo_config *cfg, salvo_send_opts *o,
			 char *err, size_t errlen);

/* The same for hot-folder profile hf of cfg: its receiver (host, and port
 * or network.port) and its remote_dir on top, and its identity
 * (salvo_conf_profile_identity): the errors of that too, prefixed with the
 * profile's name. */
int salvo_conf_profile_send_opts(const struct salvo_config *cfg,
				 const struct salvo_hotfolder *hf,
				 salvo_send_opts *o, char *err, size_t errlen);

/* The receiver's options from cfg: root, bind, port, sockets, batch,
 * offload, rcvbuf and the receiver.* limits. */
int salvo_conf_recv_opts(const struct salvo_config *cfg, salvo_recv_opts *o,
			 char *err, size_t errlen);

/* ------------------------------------------------ identities (identity.c)
 *
 * Each function below returns 0, or a negative code with one message for
 * a person in err that names the file and the fix: a private key that
 * group or others may read (chmod 600), a malformed key or file, a folder
 * that cannot be used.  A key file that does not exist is made (mode
 * 0600, FILE.pub beside it) and announced on cfg->log; only the key folder
 * of salvo_conf_set_key_dir is created when missing (0700).  A file left
 * to "auto" without a key folder is SALVO_ERR_INVAL.
 */

/*
 * The receiver's identity into o: its key pair from security.key (made on
 * the first start), the senders of security.authorized_keys into ak (the
 * caller's, initialised; o->authkeys points at it: keep it alive while o
 * is used).  A missing authorised-keys file is an empty list; one that
 * group or others may write is refused (anyone could add a key); one with
 * errors is refused with every error as "FILE:LINE: message".  Logs at
 * start: the key and its fingerprint; "serving N authorised senders"; a
 * warning that no sender can connect, and how to add one, when none is
 * listed and anonymous senders are not allowed; a warning when they are.
 */
int salvo_conf_recv_identity(const struct salvo_config *cfg, salvo_recv_opts *o,
			     salvo_authkeys *ak, char *err, size_t errlen);

/* What the sender's pin callback checks: the caller's storage, alive
 * while the options are used; salvo_conf_send_identity fills it. */
struct salvo_conf_pin {
	const struct salvo_config *cfg;
	char peer[300]; /* the receiver as known_hosts names it:
			 * "host:port" or "[v6]:port" */
};

/*
 * The sender's identity into o, whose host and port are already set:
 * unless security.anonymous, its key pair from security.key (made on first
 * use, with a notice) and has_key; the receiver's key from
 * security.receiver_key (a public key line, or a file whose first line is
 * one) and has_peer_key, or else the pin callback salvo_conf_pin_check
 * with pin as its ud.
 */
int salvo_conf_send_identity(const struct salvo_config *cfg, salvo_send_opts *o,
			     struct salvo_conf_pin *pin, char *err,
			     size_t errlen);

/* The same for a hot-folder profile: its key (or security.key), its
 * receiver_key (or security.receiver_key), and a pin callback whose ud
 * is hf itself (which names the receiver; hf->cfg the known-hosts file). */
int salvo_conf_profile_identity(const struct salvo_config *cfg,
				const struct salvo_hotfolder *hf,
				salvo_send_opts *o, char *err, size_t errlen);

/*
 * The pin callback (sender/engine/send.h): key is what the receiver
 * presented.  Trust on first use through security.known_hosts: a line
 * that pins key for pin->peer returns 0; a receiver named for the first
 * time is pinned (the line appended, the file made 0600) with a notice on
 * cfg->log, and returns 0; a different key pinned for it returns
 * SALVO_ERR_KEY with both fingerprints, the file and line and the fix
 * (nothing may be sent); a malformed file SALVO_ERR_INVAL.  Thread-safe.
 */
int salvo_conf_pin_check(void *ud, const uint8_t key[32], char *err,
			 size_t errlen);

/* Where o's pin callback pins: the known-hosts file and the receiver's
 * name in it (into peer[0, n)).  Returns 0, or SALVO_ERR_INVAL when o
 * does not pin through this module (a configured receiver key). */
int salvo_conf_pin_where(const salvo_send_opts *o, const char **known_hosts,
			 char *peer, size_t n);

/*
 * The key pair in the private key file path, or, when path does not exist,
 * a new pair written there (*created 1) whose .pub carries comment (NULL:
 * "user@host").  Another process creating it at the same moment is fine:
 * the first link wins, the other reads it.
 */
int salvo_conf_key_load_or_create(const struct salvo_config *cfg,
				  const char *path, const char *comment,
				  uint8_t priv[32], uint8_t pub[32],
				  int *created, char *err, size_t errlen);

/*
 * Writes the private key file path (0600) and path.pub (0644, one line
 * with comment), each complete before it appears under its name.  An
 * existing path is refused (-EEXIST, with the hint) unless replace, which
 * swaps both files in atomically (salvo keygen --force).
 */
int salvo_conf_key_write(const char *path, const uint8_t priv[32],
			 const uint8_t pub[32], const char *comment,
			 int replace, char *err, size_t errlen);

/* "user@host", the comment of a new public key, into out. */
void salvo_conf_key_comment(char *out, size_t n);

/* The log sink that the logging.* keys describe (common/io/logsink.h), or
 * NULL with "logging.file: cannot open ..." in err. */
struct salvo_logsink *salvo_conf_logsink_new(const struct salvo_config *cfg,
					     char *err, size_t errlen);

#endif
