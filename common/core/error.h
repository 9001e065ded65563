/*
 * Error codes shared by every layer.
 *
 * Functions return 0 on success or a negative SALVO_ERR_* code.  The I/O
 * layer returns -errno (captured at once) for operating-system failures;
 * salvo_strerror() names both kinds, so a caller can print any int it got.
 * Codes at or below SALVO_ERR_FATAL_BELOW end a session; the others are
 * local (a packet dropped, a call refused).
 */
#ifndef SALVO_ERROR_H
#define SALVO_ERROR_H

enum {
	SALVO_OK = 0,
	/* local: the call or the packet is refused, the session goes on */
	SALVO_ERR_TRUNCATED = -1000, /* packet shorter than its fields */
	SALVO_ERR_MALFORMED = -1001, /* a field out of range or inconsistent */
	SALVO_ERR_VERSION = -1002,   /* protocol version not supported */
	SALVO_ERR_CHECKSUM = -1003,  /* packet or block checksum mismatch */
	SALVO_ERR_TOOBIG = -1004,    /* does not fit the buffer or a limit */
	SALVO_ERR_NOMEM = -1005,     /* allocation failed */
	SALVO_ERR_INVAL = -1006,     /* bad argument from the caller */
	SALVO_ERR_NOSESSION = -1007, /* packet for a session we do not hold */
	SALVO_ERR_COOKIE = -1008,    /* address-validation cookie invalid */
	SALVO_ERR_BUSY = -1009,	     /* session table full */
	SALVO_ERR_STATE = -1010,     /* packet not valid in this state */
	SALVO_ERR_PATH = -1011,	     /* path unsafe or invalid */
	/* security (common/crypto), in their own range */
	SALVO_ERR_AUTH = -1020,	  /* tag, MAC or handshake did not verify */
	SALVO_ERR_REPLAY = -1021, /* packet number seen before or too old */
	SALVO_ERR_KEY = -1022, /* key unknown, changed, malformed or unsafe */
	/* fatal: the session ends */
	SALVO_ERR_FATAL_BELOW = -1100,
	SALVO_ERR_TIMEOUT = -1101,	  /* peer silent for the idle timeout */
	SALVO_ERR_UNREACHABLE = -1102,	  /* no answer to the handshake */
	SALVO_ERR_VERIFY = -1103,	  /* whole-file hash mismatch */
	SALVO_ERR_PEER = -1104,		  /* the peer reported an error */
	SALVO_ERR_ABORTED = -1105,	  /* the peer or the user aborted */
	SALVO_ERR_IO = -1106,		  /* file I/O failed (see message) */
	SALVO_ERR_SOURCE_CHANGED = -1107, /* block failed again and again */
	SALVO_ERR_REKEY = -1120, /* a key reached its AEAD limit: rekey */
};

/* Returns a static, human-readable name for any code: a SALVO_ERR_* or a
 * negated errno.  Never NULL. */
const char *salvo_strerror(int err);

/* True when err ends a session. */
static inline int salvo_err_is_fatal(int err)
{
	return err <= SALVO_ERR_FATAL_BELOW;
}

#endif
