/*
 * Key files on disk (not yet wired in; docs/SECURITY.md): the process's
 * libsodium set-up and random bytes, key generation, private and public
 * key files, the authorised-keys file and the known-hosts file.  Formats
 * are keys.h's.
 *
 * Every function returns 0 or a negative code and, on failure, writes one
 * message for a person into err[0, errlen) that names the file, what is
 * wrong and what to do.  Files are opened with O_NOFOLLOW and must be
 * regular files (a FIFO or a device is refused, never waited on).
 * Thread-safe once salvo_crypto_init() returned.
 */
#ifndef SALVO_KEYFILE_H
#define SALVO_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "common/crypto/keys.h"

/* sodium_init(): call once at start-up, before any common/crypto call.
 * Returns 0 or SALVO_ERR_IO. */
int salvo_crypto_init(void);

/* n bytes from the kernel's generator (libsodium's randombytes_buf). */
void salvo_crypto_random(void *buf, size_t n);

/* A fresh X25519 key pair. */
void salvo_keyfile_generate(uint8_t priv[SALVO_KEY_BYTES],
			    uint8_t pub[SALVO_KEY_BYTES]);

/* Writes a new private key file at path with mode 0600 (O_CREAT|O_EXCL|
 * O_NOFOLLOW: an existing file or link is never overwritten), fsync'd.
 * Returns 0, SALVO_ERR_IO or -errno. */
int salvo_keyfile_write_private(const char *path,
				const uint8_t priv[SALVO_KEY_BYTES], char *err,
				size_t errlen);

/* Writes a new public key file (one line, mode 0644, O_EXCL) with an
 * optional comment. */
int salvo_keyfile_write_public(const char *path,
			       const uint8_t pub[SALVO_KEY_BYTES],
			       const char *comment, char *err, size_t errlen);

/* Reads a private key file.  Refuses (SALVO_ERR_KEY) one that group or
 * others may read or write, naming the file, its mode and the fix
 * (chmod 600), and one that is not in the format. */
int salvo_keyfile_read_private(const char *path, uint8_t priv[SALVO_KEY_BYTES],
			       char *err, size_t errlen);

/* Reads a public key file (its first line). */
int salvo_keyfile_read_public(const char *path, uint8_t pub[SALVO_KEY_BYTES],
			      char *err, size_t errlen);

/* Loads an authorised-keys file (at most 4 MiB) into ak; errors go to
 * diag as "FILE:LINE: message" (the file's own problems as "FILE: ...").
 * Returns 0, SALVO_ERR_INVAL, SALVO_ERR_NOMEM or -errno. */
int salvo_keyfile_load_authkeys(const char *path, salvo_authkeys *ak,
				salvo_size_parser parse_size,
				salvo_keys_diag *diag);

/*
 * The sender's check of a receiver's key against the known-hosts file at
 * path (a missing file is an empty one).  A host seen for the first time
 * is pinned when pin is non-zero (a line appended, the file created with
 * mode 0600 if needed) and refused otherwise.  Returns SALVO_KNOWN_MATCH,
 * SALVO_KNOWN_NEW (pinned now), SALVO_ERR_KEY (a changed key, or a new
 * host with pin 0), SALVO_ERR_INVAL (a malformed line), -errno.
 */
int salvo_keyfile_known_host(const char *path, const char *host,
			     const uint8_t key[SALVO_KEY_BYTES], int pin,
			     char *err, size_t errlen);

/* The key the known-hosts file path pins for host into key: 1, or 0 when
 * none does (or the file does not exist); a negative SALVO_ERR_* or
 * -errno with a message in err when it cannot be read or a line is
 * malformed. */
int salvo_keyfile_known_host_find(const char *path, const char *host,
				  uint8_t key[SALVO_KEY_BYTES], char *err,
				  size_t errlen);

#endif
