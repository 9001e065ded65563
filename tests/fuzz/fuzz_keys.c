/*
 * libFuzzer target for the authorised-keys parser (and, on the same bytes,
 * the known-hosts check and the public-key line reader).  Besides the
 * sanitizers' checks it asserts the parser's promises: an error result
 * comes with at least one message and leaves no entries, a success
 * reports none; every message starts with the file name; no message
 * holds a byte outside printable ASCII and newline (so a hostile file
 * cannot put escapes in a log); every entry's dir passes the path rules
 * and its overwrite set is not empty; no key appears twice.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/error.h"
#include "common/core/path.h"
#include "common/crypto/keys.h"
#include "conf/units.h"

static void check_text(const char *t, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];
		if ((c < 0x20 && c != '\n') || c >= 0x7f) {
			fprintf(stderr, "%s: byte 0x%02x at %zu\n", what, c, i);
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	salvo_authkeys ak;
	salvo_keys_diag d;

	salvo_authkeys_init(&ak);
	salvo_keys_diag_init(&d);
	int rc = salvo_authkeys_parse(
	    &ak, "fz", buf, size, size % 2 ? salvo_units_parse_size : NULL, &d);
	if (rc == SALVO_ERR_NOMEM)
		return 0;
	if ((rc == 0) != (d.count == 0) || (rc && ak.count) ||
	    (rc && rc != SALVO_ERR_INVAL)) {
		fprintf(stderr, "rc %d, %u errors, %zu keys\n", rc, d.count,
			ak.count);
		abort();
	}
	if (d.count && !d.len && !d.dropped)
		abort();
	check_text(d.text, d.len, "diag");
	for (const char *p = d.text; p < d.text + d.len;) {
		if (strncmp(p, "fz:", 3))
			abort();
		p = strchr(p, '\n') + 1;
	}
	for (size_t i = 0; i < ak.count; i++) {
		const salvo_authkey *k = &ak.keys[i];
		if (salvo_path_check(k->dir, strlen(k->dir), NULL) ||
		    !k->overwrite || k->overwrite >= 8 || !k->comment)
			abort();
		if (salvo_authkeys_find(&ak, k->key) != k)
			abort();
	}
	salvo_authkeys_free(&ak);

	/* the sender's side on the same bytes */
	uint8_t key[SALVO_KEY_BYTES] = {1};
	char err[1024];
	rc = salvo_known_hosts_check("fz", buf, size, "h:1", key, err,
				     sizeof(err));
	if (rc != SALVO_KNOWN_MATCH && rc != SALVO_KNOWN_NEW &&
	    rc != SALVO_ERR_KEY && rc != SALVO_ERR_INVAL)
		abort();
	if (rc < 0)
		check_text(err, strlen(err), "known hosts");
	salvo_key_public_parse(buf, size, key, NULL);
	return 0;
}
