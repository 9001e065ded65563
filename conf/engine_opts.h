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
 * no stop flag).  What is not configuration stays the caller's: the
 * receiver host and the paths for send, the ready callback and once for
 * recv.  Pointers in the options borrow the config's strings: keep cfg
 * alive while the options are used.  Thread-safe for a finished config.
 */
#ifndef SALVO_CONF_ENGINE_OPTS_H
#define SALVO_CONF_ENGINE_OPTS_H

#include <stddef.h>

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
 * or network.port) and its remote_dir on top. */
int salvo_conf_profile_send_opts(const struct salvo_config *cfg,
				 const struct salvo_hotfolder *hf,
				 salvo_send_opts *o, char *err, size_t errlen);

/* The receiver's options from cfg: root, bind, port, sockets, batch,
 * offload, rcvbuf and the receiver.* limits. */
int salvo_conf_recv_opts(const struct salvo_config *cfg, salvo_recv_opts *o,
			 char *err, size_t errlen);

/* The log sink that the logging.* keys describe (common/io/logsink.h), or
 * NULL with "logging.file: cannot open ..." in err. */
struct salvo_logsink *salvo_conf_logsink_new(const struct salvo_config *cfg,
					     char *err, size_t errlen);

#endif
