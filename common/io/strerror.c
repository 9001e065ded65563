/*
 * salvo_strerror: names for SALVO_ERR_* codes and negated errno values.
 * Lives in io/ (not core/) because errno names come from libc.
 */
#include <string.h>

#include "common/core/error.h"

static const struct {
	int code;
	const char *text;
} names[] = {
    {SALVO_OK, "success"},
    {SALVO_ERR_TRUNCATED, "packet truncated"},
    {SALVO_ERR_MALFORMED, "malformed packet"},
    {SALVO_ERR_VERSION, "protocol version not supported"},
    {SALVO_ERR_CHECKSUM, "checksum mismatch"},
    {SALVO_ERR_TOOBIG, "too big"},
    {SALVO_ERR_NOMEM, "out of memory"},
    {SALVO_ERR_INVAL, "invalid argument"},
    {SALVO_ERR_NOSESSION, "no such session"},
    {SALVO_ERR_COOKIE, "invalid address-validation cookie"},
    {SALVO_ERR_BUSY, "receiver busy (session table full)"},
    {SALVO_ERR_STATE, "unexpected packet for the session state"},
    {SALVO_ERR_PATH, "unsafe or invalid path"},
    {SALVO_ERR_AUTH, "authentication failed"},
    {SALVO_ERR_REPLAY, "replayed or too old packet"},
    {SALVO_ERR_KEY, "key refused (unknown, changed, malformed or unsafe)"},
    {SALVO_ERR_TIMEOUT, "peer silent past the timeout"},
    {SALVO_ERR_UNREACHABLE, "peer unreachable"},
    {SALVO_ERR_VERIFY, "verification failed"},
    {SALVO_ERR_PEER, "error reported by the peer"},
    {SALVO_ERR_ABORTED, "transfer aborted"},
    {SALVO_ERR_IO, "I/O error"},
    {SALVO_ERR_SOURCE_CHANGED, "source changed during transfer"},
    {SALVO_ERR_REKEY, "key used up: rekey needed"},
};

const char *salvo_strerror(int err)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == err)
			return names[i].text;
	if (err < 0 && err > -4096)
		return strerror(-err);
	return "unknown error";
}
