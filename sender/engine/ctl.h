/*
 * The control socket: a Unix stream socket at a path the user names
 * (salvo send --control PATH, salvo watch --control PATH) through which a
 * person or a script changes the rate of running transfers and reads
 * their status (docs/CLI.md, "salvo ctl").  A client connects, writes
 * command lines (ctlcmd.h) and reads one JSON line per command:
 *
 *   {"ok":true,"ceiling":"50mbit","ceiling_bps":50000000}
 *   {"ok":true,"sessions":1,"policy":"fair","state":"delay",...}
 *   {"ok":false,"error":"rate: transfer.rate: ..."}
 *
 * Commands act on a salvo_send_live (live.h) that the sessions read: the
 * whole (the send, or the watcher with every profile), or one profile's.
 *
 * The server runs one thread of its own, serving one client at a time (a
 * client that sends nothing for 2 s is dropped).  It removes its socket
 * when closed; a socket left by a process that died is replaced, and
 * anything else at the path is refused, never removed.
 */
#ifndef SALVO_SEND_CTL_H
#define SALVO_SEND_CTL_H

#include <stddef.h>

#include "sender/engine/ctlcmd.h"
#include "sender/engine/live.h"

/* One hot-folder profile the server knows by name (borrowed). */
typedef struct salvo_ctl_profile {
	const char *name;
	salvo_send_live *live;
} salvo_ctl_profile;

typedef struct salvo_ctl salvo_ctl;

/* Creates the socket at path (mode 0600) and starts serving whole and
 * profiles[0..n) (copied; the names and objects are borrowed and must
 * outlive the server).  Returns 0, or with a sentence in err:
 *   SALVO_ERR_INVAL  path too long for a Unix socket
 *   SALVO_ERR_BUSY   a process answers on that socket already
 *   -EEXIST          something other than a socket is there
 *   -errno           the socket, bind, listen or thread failed */
int salvo_ctl_open(salvo_ctl **out, const char *path, salvo_send_live *whole,
		   const salvo_ctl_profile *profiles, size_t n, char *err,
		   size_t errlen);

/* Stops serving, closes and removes the socket (if it is still ours).
 * NULL: nothing.  Safe from a signal-free context only. */
void salvo_ctl_close(salvo_ctl *c);

/* Carries out one parsed command on whole or a profile and writes the
 * answer, one JSON line without its newline, into out.  The server's
 * step, public for tests. */
void salvo_ctl_execute(const salvo_ctl_cmd *cmd, salvo_send_live *whole,
		       const salvo_ctl_profile *profiles, size_t n, char *out,
		       size_t len);

#endif
