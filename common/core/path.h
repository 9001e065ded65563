/*
 * Validation of relative paths received from the network.
 *
 * A path that passes is relative, '/'-separated, has no empty, "." or ".."
 * component, no NUL or control character (0x01-0x1f, 0x7f), at most
 * SALVO_PATH_MAX bytes and components of at most SALVO_NAME_MAX bytes,
 * and does not begin with the receiver's private folder SALVO_PATH_PRIVATE
 * (compared without regard to ASCII case, for roots on case-insensitive
 * file systems): the receiver keeps its part-files there, where no
 * manifest may reach them.
 * That is necessary, not sufficient, for confinement: the receiver engine
 * also opens every component without following symlinks (see
 * receiver/engine).  Pure; thread-safe.
 */
#ifndef SALVO_PATH_H
#define SALVO_PATH_H

#include <stddef.h>

#define SALVO_PATH_MAX 4095
#define SALVO_NAME_MAX 255
/* The folder directly below a receiver's root that holds its part-files. */
#define SALVO_PATH_PRIVATE ".salvo"

/* Returns 0 when path[0..len) is acceptable, else SALVO_ERR_PATH and, when
 * why is not NULL, a static reason ("absolute path", "'..' component"...). */
int salvo_path_check(const char *path, size_t len, const char **why);

#endif
