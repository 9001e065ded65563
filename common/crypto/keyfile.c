/*
 * The I/O half of keys: opening, checking and writing key files.  Reads
 * go through one helper that opens without following a symlink and
 * without blocking (O_NONBLOCK, so a FIFO named as a key file is refused
 * rather than waited on), checks with fstat that the file is regular and
 * small, and reads it whole; parsing is keys.c's, on the buffer.  New key
 * files are created exclusively so an existing key, or a link planted
 * where one will be written, is never clobbered or followed.
 */
#include "common/crypto/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/error.h"
#include "common/crypto/noise.h"

#define MAX_KEY_FILE (4u << 20)

int salvo_crypto_init(void)
{
	return sodium_init() < 0 ? SALVO_ERR_IO : 0;
}

void salvo_crypto_random(void *buf, size_t n)
{
	randombytes_buf(buf, n);
}

void salvo_keyfile_generate(uint8_t priv[SALVO_KEY_BYTES],
			    uint8_t pub[SALVO_KEY_BYTES])
{
	/* X25519 clamps every scalar: no 32 bytes give the zero point */
	do
		randombytes_buf(priv, SALVO_KEY_BYTES);
	while (salvo_noise_public_key(pub, priv));
}

/* Reads path whole into *buf (malloc'd, NUL-terminated) after the checks
 * above; *st gets its fstat.  A missing file with missing_ok gives an
 * empty buffer. */
static int slurp(const char *path, char **buf, size_t *len, struct stat *st,
		 int missing_ok, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	int rc;

	*buf = NULL;
	*len = 0;
	if (fd < 0) {
		rc = -errno;
		if (rc == -ENOENT && missing_ok) {
			memset(st, 0, sizeof(*st));
			return (*buf = calloc(1, 1)) ? 0 : SALVO_ERR_NOMEM;
		}
		snprintf(err, errlen, "%s: %s%s", path, strerror(-rc),
			 rc == -ELOOP ? " (a symbolic link: name the file "
					"itself)"
				      : "");
		return rc;
	}
	if (fstat(fd, st)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		goto fail_fd;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		rc = SALVO_ERR_INVAL;
		goto fail_fd;
	}
	if (st->st_size > MAX_KEY_FILE) {
		snprintf(err, errlen, "%s: larger than %u bytes", path,
			 MAX_KEY_FILE);
		rc = SALVO_ERR_TOOBIG;
		goto fail_fd;
	}
	size_t cap = (size_t)st->st_size + 1;
	if (!(*buf = malloc(cap))) {
		rc = SALVO_ERR_NOMEM;
		goto fail_fd;
	}
	while (*len < cap - 1) {
		ssize_t n = read(fd, *buf + *len, cap - 1 - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
			goto fail_buf;
		}
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	(*buf)[*len] = '\0';
	close(fd);
	return 0;
fail_buf:
	free(*buf);
	*buf = NULL;
fail_fd:
	close(fd);
	return rc;
}

static int write_new(const char *path, const char *text, size_t len,
		     mode_t mode, char *err, size_t errlen)
{
	int fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	int rc = 0;

	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s%s", path, strerror(-rc),
			 rc == -EEXIST ? " (a key file is never overwritten: "
					 "move it away first)"
				       : "");
		return rc;
	}
	/* the umask may have taken bits away; never added any */
	if (fchmod(fd, mode))
		rc = -errno;
	for (size_t off = 0; !rc && off < len;) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = -errno;
		else
			off += (size_t)n;
	}
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		unlink(path);
	}
	return rc;
}

int salvo_keyfile_write_private(const char *path,
				const uint8_t priv[SALVO_KEY_BYTES], char *err,
				size_t errlen)
{
	char text[SALVO_KEY_PRIVATE_TEXT_SIZE];
	salvo_key_private_text(text, priv);
	int rc = write_new(path, text, strlen(text), 0600, err, errlen);
	sodium_memzero(text, sizeof(text));
	return rc;
}

int salvo_keyfile_write_public(const char *path,
			       const uint8_t pub[SALVO_KEY_BYTES],
			       const char *comment, char *err, size_t errlen)
{
	char line[1024];
	int n = salvo_key_public_text(line, sizeof(line) - 1, pub, comment);
	if (n < 0) {
		snprintf(err, errlen, "%s: comment too long", path);
		return n;
	}
	line[n++] = '\n';
	return write_new(path, line, (size_t)n, 0644, err, errlen);
}

int salvo_keyfile_read_private(const char *path, uint8_t priv[SALVO_KEY_BYTES],
			       char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	size_t len;
	const char *why = NULL;
	int rc = slurp(path, &buf, &len, &st, 0, err, errlen);

	if (rc)
		return rc;
	if (st.st_mode & 077) {
		snprintf(err, errlen,
			 "%s: private key readable or writable by group or "
			 "others (mode %04o); fix: chmod 600 %s",
			 path, (unsigned)(st.st_mode & 07777), path);
		rc = SALVO_ERR_KEY;
	} else if (salvo_key_private_parse(buf, len, priv, &why)) {
		snprintf(err, errlen,
			 "%s: not a salvo private key: %s (salvo keygen "
			 "writes one)",
			 path, why);
		rc = SALVO_ERR_KEY;
	}
	sodium_memzero(buf, len);
	free(buf);
	return rc;
}

int salvo_keyfile_read_public(const char *path, uint8_t pub[SALVO_KEY_BYTES],
			      char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	size_t len;
	const char *why = NULL;
	int rc = slurp(path, &buf, &len, &st, 0, err, errlen);

	if (rc)
		return rc;
	const char *nl = memchr(buf, '\n', len);
	if (salvo_key_public_parse(buf, nl ? (size_t)(nl - buf) : len, pub,
				   &why)) {
		snprintf(err, errlen, "%s: not a salvo public key: %s", path,
			 why);
		rc = SALVO_ERR_KEY;
	}
	free(buf);
	return rc;
}

int salvo_keyfile_load_authkeys(const char *path, salvo_authkeys *ak,
				salvo_size_parser parse_size,
				salvo_keys_diag *diag)
{
	struct stat st;
	char *buf, err[512];
	size_t len;
	int rc = slurp(path, &buf, &len, &st, 0, err, sizeof(err));

	if (rc) {
		int w = snprintf(diag->text + diag->len,
				 sizeof(diag->text) - diag->len, "%s\n", err);
		if (w > 0 && (size_t)w < sizeof(diag->text) - diag->len)
			diag->len += (size_t)w;
		diag->count++;
		return rc;
	}
	rc = salvo_authkeys_parse(ak, path, buf, len, parse_size, diag);
	free(buf);
	return rc;
}

int salvo_keyfile_known_host_find(const char *path, const char *host,
				  uint8_t key[SALVO_KEY_BYTES], char *err,
				  size_t errlen)
{
	struct stat st;
	char *buf;
	size_t len;
	int rc = slurp(path, &buf, &len, &st, 1, err, errlen);

	if (rc)
		return rc;
	rc = salvo_known_hosts_find(path, buf, len, host, key, err, errlen);
	free(buf);
	return rc;
}

int salvo_keyfile_known_host(const char *path, const char *host,
			     const uint8_t key[SALVO_KEY_BYTES], int pin,
			     char *err, size_t errlen)
{
	struct stat st;
	char *buf, line[1200];
	size_t len;
	int rc = slurp(path, &buf, &len, &st, 1, err, errlen);

	if (rc)
		return rc;
	rc = salvo_known_hosts_check(path, buf, len, host, key, err, errlen);
	int ends_in_newline = len == 0 || buf[len - 1] == '\n';
	free(buf);
	if (rc != SALVO_KNOWN_NEW)
		return rc;
	char fp[SALVO_FINGERPRINT_SIZE];
	salvo_key_fingerprint(fp, key);
	if (!pin) {
		snprintf(err, errlen,
			 "%s: no key pinned for %s (it presents %s); check the "
			 "fingerprint with the receiver's owner, then connect "
			 "with pinning allowed or add its public key line",
			 path, host, fp);
		return SALVO_ERR_KEY;
	}
	int n = salvo_known_hosts_line(line + 1, sizeof(line) - 1, host, key);
	if (n < 0) {
		snprintf(err, errlen, "%s: cannot pin a key for host '%s'",
			 path, host);
		return n;
	}
	line[0] = '\n';
	const char *text = ends_in_newline ? line + 1 : line;
	size_t tlen = (size_t)n + !ends_in_newline;
	int fd = open(
	    path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	ssize_t w = write(fd, text, tlen);
	rc = w == (ssize_t)tlen ? 0 : w < 0 ? -errno : -EIO;
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	return SALVO_KNOWN_NEW;
}
