/*
 * What salvo send and salvo recv report about identities in their --json
 * output: fingerprints and files, never a private key.  The keys
 * themselves come from conf/engine_opts.h (salvo_conf_*_identity).
 */
#ifndef SALVO_CLI_IDENTITY_H
#define SALVO_CLI_IDENTITY_H

#include <stdio.h>

#include "conf/config.h"
#include "receiver/engine/recv.h"
#include "sender/engine/send.h"

/* '"identity": {...}' for the sender's options o: its key (or
 * anonymous), the receiver key given, or where it will be pinned. */
void salvo_cli_send_identity_json(FILE *out, const struct salvo_config *cfg,
				  const salvo_send_opts *o);

/* The same for the receiver: key, authorised senders, anonymous. */
void salvo_cli_recv_identity_json(FILE *out, const struct salvo_config *cfg,
				  const salvo_recv_opts *o);

#endif
