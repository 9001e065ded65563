/*
 * Interim hasher (see hasher.h).
 */
#include "sender/engine/hasher.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/core/error.h"
#include "common/io/sys.h"
#include "sender/engine/session.h"

void *salvo_hasher_main(void *arg)
{
	salvo_send_session *c = arg;
	for (uint32_t i = 0; i < c->scan.n; i++) {
		if (c->scan.entries[i].type != SALVO_ENTRY_FILE)
			continue;
		uint8_t d[32];
		int fd = open(c->scan.local[i], O_RDONLY | O_CLOEXEC);
		int err = fd < 0 ? -errno
				 : salvo_blake3_fd(fd, c->scan.entries[i].size,
						   d, &c->hasher.stop);
		if (fd >= 0)
			close(fd);
		if (err == SALVO_ERR_ABORTED)
			break;
		if (err) {
			char msg[512];
			snprintf(msg, sizeof(msg), "cannot read '%s': %s",
				 c->scan.local[i], strerror(-err));
			salvo_send_session_fail(c, err, msg);
			break;
		}
		pthread_mutex_lock(&c->lock);
		salvo_sender_set_digest(c->core, i, d);
		pthread_cond_broadcast(&c->wake);
		pthread_mutex_unlock(&c->lock);
	}
	return NULL;
}
