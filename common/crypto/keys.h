/*
 * Identities for protocol 3 (not yet wired in; docs/SECURITY.md): X25519
 * key pairs, their text forms, fingerprints, the receiver's
 * authorised-keys file and the sender's known-hosts file, all parsed from
 * buffers so they can be fuzzed.  File I/O lives in keyfile.h.
 *
 *   private key file   "salvo-private-key v1\n<base64 of 32 bytes>\n"
 *   public key line    "salvo-x25519 <base64 of 32 bytes> [comment]"
 *   fingerprint        "b2:" + base64 (no padding) of the first 16 bytes
 *                      of BLAKE2b-256 of the key: 25 printable characters
 *   authorised key     "salvo-x25519 <base64> dir=<folder> [max-bytes=SIZE]
 *                       [max-files=N] [overwrite=never|replace|rename[,..]]
 *                       [comment...]"
 *   known host         "<host> salvo-x25519 <base64> [comment]"
 *
 * Authorised keys: one key per line; blank lines and lines starting with
 * '#' are skipped.  Options follow the key as NAME=VALUE words; a value
 * may be double-quoted to hold spaces (dir="my folder").  The comment is
 * the rest of the line from the first word without '=' (or from '#').  A
 * word NAME=VALUE with an unknown NAME is an error, never a comment, so a
 * misspelt limit cannot be silently ignored.  dir is required and must
 * pass salvo_path_check (relative, normalised, no "..").  Defaults: no
 * byte or file limit, overwrite=never.  Every error is reported as
 * "FILE:LINE: message" and a file with any error is refused as a whole.
 *
 * Thread-safe (no shared state); the parsers allocate with malloc.
 */
#ifndef SALVO_KEYS_H
#define SALVO_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define SALVO_KEY_BYTES 32
#define SALVO_KEY_TYPE "salvo-x25519"
#define SALVO_KEY_PRIVATE_MAGIC "salvo-private-key v1"
/* base64 of 32 bytes with padding, and the NUL */
#define SALVO_KEY_B64_SIZE 45
#define SALVO_KEY_PRIVATE_TEXT_SIZE (sizeof(SALVO_KEY_PRIVATE_MAGIC) + 44 + 2)
#define SALVO_FINGERPRINT_SIZE 26 /* "b2:" + 22 characters + NUL */

/* Wrapped text of a private key (the file's whole content), NUL-
 * terminated; out has SALVO_KEY_PRIVATE_TEXT_SIZE bytes. */
void salvo_key_private_text(char out[SALVO_KEY_PRIVATE_TEXT_SIZE],
			    const uint8_t priv[SALVO_KEY_BYTES]);

/* Reads a private key file's content.  Returns 0 or SALVO_ERR_KEY with a
 * static reason in *why (may be NULL). */
int salvo_key_private_parse(const char *text, size_t len,
			    uint8_t priv[SALVO_KEY_BYTES], const char **why);

/* "salvo-x25519 <base64>[ comment]" into out[0, cap), NUL-terminated,
 * no newline.  comment may be NULL; control characters in it become '?'.
 * Returns the length, or SALVO_ERR_TOOBIG (out then holds "").  */
int salvo_key_public_text(char *out, size_t cap,
			  const uint8_t pub[SALVO_KEY_BYTES],
			  const char *comment);

/* Reads the key of a public key line (surrounding blanks, a trailing
 * comment and newline allowed).  Returns 0 or SALVO_ERR_KEY with a static
 * reason in *why. */
int salvo_key_public_parse(const char *text, size_t len,
			   uint8_t pub[SALVO_KEY_BYTES], const char **why);

/* The fingerprint "b2:XXXXXXXXXXXXXXXXXXXXXX" of a public key. */
void salvo_key_fingerprint(char out[SALVO_FINGERPRINT_SIZE],
			   const uint8_t pub[SALVO_KEY_BYTES]);

/* Errors for a person: lines "FILE:LINE: message\n", in order. */
#define SALVO_KEYS_DIAG_BYTES 4096
typedef struct salvo_keys_diag {
	char text[SALVO_KEYS_DIAG_BYTES]; /* NUL-terminated */
	size_t len;
	unsigned count;	  /* errors reported, including those not kept */
	unsigned dropped; /* lines that did not fit in text */
} salvo_keys_diag;

void salvo_keys_diag_init(salvo_keys_diag *d);

/* One authorised sender. */
typedef struct salvo_authkey {
	uint8_t key[SALVO_KEY_BYTES];
	char *dir;	    /* folder below the receiver root */
	uint64_t max_bytes; /* 0: no limit */
	uint64_t max_files; /* 0: no limit */
	unsigned overwrite; /* allowed: bits 1u << enum salvo_overwrite */
	char *comment;	    /* "" when none */
	unsigned line;	    /* where it was read */
} salvo_authkey;

typedef struct salvo_authkeys {
	salvo_authkey *keys;
	size_t count, cap;
} salvo_authkeys;

/* A size parser with the signature of conf/units.h's
 * salvo_units_parse_size, so the file reads sizes as the configuration
 * does ("10GiB") without this layer depending on conf/. */
typedef int (*salvo_size_parser)(const char *text, uint64_t *bytes, char *err,
				 size_t errlen);

void salvo_authkeys_init(salvo_authkeys *ak);
void salvo_authkeys_free(salvo_authkeys *ak);

/*
 * Parses an authorised-keys file's content buf[0, len) (need not be
 * NUL-terminated) named name in messages, into ak (which it empties
 * first).  parse_size reads max-bytes; NULL accepts plain digits (bytes).
 * Returns 0; SALVO_ERR_INVAL when it reported errors to diag (ak is then
 * empty); SALVO_ERR_NOMEM.
 */
int salvo_authkeys_parse(salvo_authkeys *ak, const char *name, const char *buf,
			 size_t len, salvo_size_parser parse_size,
			 salvo_keys_diag *diag);

/* The entry for key, or NULL (constant time in the key bytes). */
const salvo_authkey *salvo_authkeys_find(const salvo_authkeys *ak,
					 const uint8_t key[SALVO_KEY_BYTES]);

/*
 * The sender's known-hosts file, content buf[0, len) named name: looks up
 * host (as the user named the receiver, "host:port").  Returns
 * SALVO_KNOWN_MATCH (0) when a line pins this key, SALVO_KNOWN_NEW when
 * no line names the host (pin it: salvo_known_hosts_line), SALVO_ERR_KEY
 * when a line pins another key, SALVO_ERR_INVAL for a malformed line.
 * Errors go to err[0, errlen) as one message naming the file and line;
 * a changed key's message shows both fingerprints and how to fix it.
 */
#define SALVO_KNOWN_MATCH 0
#define SALVO_KNOWN_NEW 1
int salvo_known_hosts_check(const char *name, const char *buf, size_t len,
			    const char *host,
			    const uint8_t key[SALVO_KEY_BYTES], char *err,
			    size_t errlen);

/* The key the known-hosts content buf[0, len) pins for host (the first
 * line naming it) into key: 1, or 0 when no line names it;
 * SALVO_ERR_INVAL (a message in err) for a malformed line before it. */
int salvo_known_hosts_find(const char *name, const char *buf, size_t len,
			   const char *host, uint8_t key[SALVO_KEY_BYTES],
			   char *err, size_t errlen);

/* The line that pins key for host, newline-terminated, into out[0, cap).
 * Returns its length, or SALVO_ERR_INVAL when host is empty or holds a
 * blank or control character, SALVO_ERR_TOOBIG. */
int salvo_known_hosts_line(char *out, size_t cap, const char *host,
			   const uint8_t key[SALVO_KEY_BYTES]);

#endif
