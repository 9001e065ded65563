/*
 * Interim: the whole-file BLAKE3 digests, read from the files by a thread
 * of their own.  (Replaced by hashing the block-senders' buffers.)
 */
#ifndef SALVO_SEND_HASHER_H
#define SALVO_SEND_HASHER_H

#include <stdatomic.h>

typedef struct salvo_hasher {
	atomic_int stop; /* the session is over */
} salvo_hasher;

/* Thread main; arg: the salvo_send_session. */
void *salvo_hasher_main(void *arg);

#endif
