/*
 * Keys and key files: text forms both ways, fingerprints, the
 * authorised-keys parser (every option, every error with its exact
 * FILE:LINE message, a file with any error kept whole from use), the
 * known-hosts check (pin, match, a changed key named with both
 * fingerprints), and the files themselves in a temporary folder: mode
 * 0600, never overwritten, a private key readable by others refused with
 * the fix, symlinks and FIFOs refused without blocking.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/core/error.h"
#include "common/core/policy.h"
#include "common/crypto/keyfile.h"
#include "common/crypto/keys.h"
#include "conf/units.h"

static int setup(void **state)
{
	(void)state;
	return salvo_crypto_init();
}

static void test_private_text(void **state)
{
	(void)state;
	uint8_t priv[32], back[32];
	char text[SALVO_KEY_PRIVATE_TEXT_SIZE];
	const char *why = NULL;

	for (int i = 0; i < 32; i++)
		priv[i] = (uint8_t)(i * 9);
	salvo_key_private_text(text, priv);
	assert_int_equal(strlen(text), sizeof(SALVO_KEY_PRIVATE_MAGIC) + 45);
	assert_string_equal(text, "salvo-private-key v1\n"
				  "AAkSGyQtNj9IUVpjbHV+h5CZoqu0vcbP2OHq8/wFDhc="
				  "\n");
	assert_int_equal(
	    salvo_key_private_parse(text, strlen(text), back, &why), 0);
	assert_memory_equal(priv, back, 32);
	/* without the final newline, with CRLF */
	assert_int_equal(
	    salvo_key_private_parse(text, strlen(text) - 1, back, NULL), 0);
	static const char *const bad[] = {
	    "salvo-private-key "
	    "v2\nAAkSGyQtNj9IUVpjbHV+h5CZoqu0vcbP2OHq8/wFDhc=\n",
	    "salvo-private-key "
	    "v1\nAAkSGyQtNj9IUVpjbHV+h5CZoqu0vcbP2OHq8/wFDg==\n",
	    "salvo-private-key "
	    "v1\nAAkSGyQtNj9IUVpjbHV+h5CZoqu0vcbP2OHq8/wFDhc\n",
	    "salvo-private-key v1\n\n",
	    "salvo-private-key v1",
	    "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(
		    salvo_key_private_parse(bad[i], strlen(bad[i]), back, &why),
		    SALVO_ERR_KEY);
		assert_non_null(why);
	}
}

#define FE40 "/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+"
#define FE FE40 "/v4=" /* 32 bytes of 0xfe */

static void test_public_text(void **state)
{
	(void)state;
	uint8_t pub[32], back[32];
	char line[128], fp[SALVO_FINGERPRINT_SIZE], fp2[SALVO_FINGERPRINT_SIZE];
	const char *why;

	memset(pub, 0xfe, sizeof(pub));
	int n = salvo_key_public_text(line, sizeof(line), pub, "alice@lab\x1b");
	assert_string_equal(line, "salvo-x25519 " FE " alice@lab?");
	assert_int_equal(n, (int)strlen(line));
	assert_int_equal(salvo_key_public_parse(line, (size_t)n, back, &why),
			 0);
	assert_memory_equal(pub, back, 32);
	assert_int_equal(salvo_key_public_text(line, 20, pub, NULL),
			 SALVO_ERR_TOOBIG);
	assert_string_equal(line, "");
	assert_int_equal(salvo_key_public_text(line, 58, pub, NULL), 57);
	assert_int_equal(salvo_key_public_text(line, 59, pub, "x"),
			 SALVO_ERR_TOOBIG);
	static const char *const bad[] = {
	    "ssh-ed25519 " FE,
	    "salvo-x25519",
	    "salvo-x25519 " FE40 "/v4",	     /* no padding */
	    "salvo-x25519 " FE40 "/v7+/v4=", /* 35 bytes */
	    "salvo-x25519 " FE40 "/v7=",     /* 31 bytes and a bit */
	    "salvo-x25519 " FE " a\rb",	     /* control character */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    salvo_key_public_parse(bad[i], strlen(bad[i]), back, NULL),
		    SALVO_ERR_KEY);
	/* the fingerprint: "b2:" and base64 of BLAKE2b-256's first 16 */
	salvo_key_fingerprint(fp, pub);
	uint8_t h[32];
	crypto_generichash(h, 32, pub, 32, NULL, 0);
	memcpy(fp2, "b2:", 3);
	sodium_bin2base64(fp2 + 3, sizeof(fp2) - 3, h, 16,
			  sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	assert_string_equal(fp, fp2);
	assert_int_equal(strlen(fp), SALVO_FINGERPRINT_SIZE - 1);
}

/* ------------------------------------------------------ authorised keys */

#define K1 "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
#define K2 "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="

static int parse(salvo_authkeys *ak, const char *text, salvo_keys_diag *d)
{
	salvo_keys_diag_init(d);
	return salvo_authkeys_parse(ak, "keys", text, strlen(text),
				    salvo_units_parse_size, d);
}

static void test_authkeys_good(void **state)
{
	(void)state;
	salvo_authkeys ak;
	salvo_keys_diag d;
	uint8_t k2[32];

	salvo_authkeys_init(&ak);
	assert_int_equal(
	    parse(&ak,
		  "# senders of the lab\n"
		  "\n"
		  "   \t\n"
		  "salvo-x25519 " K1 " dir=lab/alice max-bytes=10GiB "
		  "max-files=1000 overwrite=replace,rename alice's laptop\r\n"
		  "\tsalvo-x25519  " K2 "\tdir=\"with space/b\"  # bob\n",
		  &d),
	    0);
	assert_int_equal(d.count, 0);
	assert_int_equal(ak.count, 2);
	assert_string_equal(ak.keys[0].dir, "lab/alice");
	assert_int_equal(ak.keys[0].max_bytes, UINT64_C(10) << 30);
	assert_int_equal(ak.keys[0].max_files, 1000);
	assert_int_equal(ak.keys[0].overwrite,
			 (1u << SALVO_OVERWRITE_REPLACE) |
			     (1u << SALVO_OVERWRITE_RENAME));
	assert_string_equal(ak.keys[0].comment, "alice's laptop");
	assert_int_equal(ak.keys[0].line, 4);
	assert_string_equal(ak.keys[1].dir, "with space/b");
	assert_int_equal(ak.keys[1].max_bytes, 0);
	assert_int_equal(ak.keys[1].max_files, 0);
	assert_int_equal(ak.keys[1].overwrite, 1u << SALVO_OVERWRITE_NEVER);
	assert_string_equal(ak.keys[1].comment, "# bob");
	memset(k2, 2, sizeof(k2));
	assert_ptr_equal(salvo_authkeys_find(&ak, k2), &ak.keys[1]);
	k2[31] ^= 1;
	assert_null(salvo_authkeys_find(&ak, k2));
	salvo_authkeys_free(&ak);
	salvo_authkeys_free(&ak); /* twice is harmless */

	/* an empty file authorises nobody, without error */
	assert_int_equal(parse(&ak, "", &d), 0);
	assert_int_equal(ak.count, 0);
	/* without a size parser: plain bytes */
	salvo_keys_diag_init(&d);
	const char *t = "salvo-x25519 " K1 " dir=a max-bytes=4096";
	assert_int_equal(
	    salvo_authkeys_parse(&ak, "keys", t, strlen(t), NULL, &d), 0);
	assert_int_equal(ak.keys[0].max_bytes, 4096);
	salvo_authkeys_free(&ak);
}

static const struct {
	const char *text;
	const char *want; /* the whole diag text */
} bad_lines[] = {
    {"ssh-ed25519 AAAA x", "keys:1: starts with 'ssh-ed25519'; expected "
			   "salvo-x25519 and a key (the line of a .pub file "
			   "from salvo keygen)\n"},
    {"salvo-x25519 AAAA dir=a",
     "keys:1: the key 'AAAA' is not 32 bytes of base64\n"},
    {"salvo-x25519", "keys:1: the key '' is not 32 bytes of base64\n"},
    {"salvo-x25519 " K1,
     "keys:1: no dir=FOLDER: each key needs the folder below the receiver's "
     "root it may write to\n"},
    {"salvo-x25519 " K1 " laptop dir=a",
     "keys:1: no dir=FOLDER: each key needs the folder below the receiver's "
     "root it may write to\n"},
    {"salvo-x25519 " K1 " dir=../etc",
     "keys:1: dir=../etc: '..' component; allowed: a folder below the "
     "receiver's root, relative, without '.', '..' or empty components\n"},
    {"salvo-x25519 " K1 " dir=/srv",
     "keys:1: dir=/srv: absolute path; allowed: a folder below the "
     "receiver's root, relative, without '.', '..' or empty components\n"},
    {"salvo-x25519 " K1 " dir=",
     "keys:1: dir=: empty path; allowed: a folder below the receiver's "
     "root, relative, without '.', '..' or empty components\n"},
    {"salvo-x25519 " K1 " dir=a max-byte=5",
     "keys:1: unknown option 'max-byte'; allowed: dir, max-bytes, "
     "max-files, overwrite (a comment may follow them, or start with #)\n"},
    {"salvo-x25519 " K1 " dir=a dir=b", "keys:1: dir given twice\n"},
    {"salvo-x25519 " K1 " dir=a max-bytes=0",
     "keys:1: max-bytes=0: not a size; allowed: a size of at least 1 byte "
     "(leave it out for no limit)\n"},
    {"salvo-x25519 " K1 " dir=a max-files=1e3",
     "keys:1: max-files=1e3: not a count; allowed: 1 or more (leave it out "
     "for no limit)\n"},
    {"salvo-x25519 " K1 " dir=a overwrite=replace,bogus",
     "keys:1: overwrite=replace,bogus: allowed: never, replace, rename, or "
     "several joined by commas\n"},
    {"salvo-x25519 " K1 " dir=a overwrite=",
     "keys:1: overwrite=: allowed: never, replace, rename, or several "
     "joined by commas\n"},
    {"salvo-x25519 " K1 " dir=\"a b",
     "keys:1: unterminated quote after dir=\n"},
    {"salvo-x25519 " K1 " dir=\"a\"b",
     "keys:1: dir=: a blank must follow the closing quote\n"},
    {"salvo-x25519 " K1 " dir=a\x1b[31m",
     "keys:1: control character 0x1b at column 64\n"},
    {"\x9b"
     "31m",
     "keys:1: starts with '?31m'; expected salvo-x25519 and "
     "a key (the line of a .pub file from salvo keygen)\n"},
    {"# ok\nsalvo-x25519 " K1 " dir=a\nsalvo-x25519 " K1 " dir=b\n",
     "keys:3: key b2:"},
    {"salvo-x25519 " K1 " dir=a\nbad\nsalvo-x25519 " K2 "\n",
     "keys:2: starts with 'bad'; expected salvo-x25519 and a key (the line "
     "of a .pub file from salvo keygen)\n"
     "keys:3: no dir=FOLDER: each key needs the folder below the receiver's "
     "root it may write to\n"},
};

static void test_authkeys_errors(void **state)
{
	(void)state;
	salvo_authkeys ak;
	salvo_keys_diag d;

	salvo_authkeys_init(&ak);
	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		salvo_keys_diag_init(&d);
		int rc = parse(&ak, bad_lines[i].text, &d);
		if (rc != SALVO_ERR_INVAL || ak.count != 0)
			fail_msg("case %zu: rc %d, %zu keys", i, rc, ak.count);
		if (strncmp(d.text, bad_lines[i].want,
			    strlen(bad_lines[i].want)))
			fail_msg("case %zu:\n got: %s\nwant: %s", i, d.text,
				 bad_lines[i].want);
	}
	/* a NUL inside a line is seen, not taken for the end */
	static const char nul[] = "salvo-x25519 " K1 " dir=a\0b";
	salvo_keys_diag_init(&d);
	assert_int_equal(
	    salvo_authkeys_parse(&ak, "keys", nul, sizeof(nul) - 1, NULL, &d),
	    SALVO_ERR_INVAL);
	assert_string_equal(d.text,
			    "keys:1: control character 0x00 at column 64\n");
	/* the duplicate's message names the first line */
	const char *dup =
	    "salvo-x25519 " K1 " dir=a\nsalvo-x25519 " K1 " dir=b\n";
	assert_int_equal(parse(&ak, dup, &d), SALVO_ERR_INVAL);
	assert_non_null(strstr(d.text, "is already authorised on line 1; "
				       "allowed: one line per key"));
	/* a size parser's own reason is quoted */
	assert_int_equal(
	    parse(&ak, "salvo-x25519 " K1 " dir=a max-bytes=10", &d),
	    SALVO_ERR_INVAL);
	assert_non_null(strstr(d.text, "keys:1: max-bytes=10: "));
	/* many errors: all counted, the text stays bounded */
	char *big = malloc(200 * 8 + 1);
	assert_non_null(big);
	for (int i = 0; i < 200; i++)
		memcpy(big + i * 8, "garbage\n", 8);
	big[200 * 8] = '\0';
	assert_int_equal(parse(&ak, big, &d), SALVO_ERR_INVAL);
	assert_int_equal(d.count, 200);
	assert_true(d.dropped > 0);
	assert_true(d.len < sizeof(d.text));
	free(big);
}

/* ---------------------------------------------------------- known hosts */

static void test_known_hosts(void **state)
{
	(void)state;
	uint8_t k1[32], k2[32];
	char err[1024], line[256];

	memset(k1, 1, 32);
	memset(k2, 2, 32);
	const char *file = "# pinned by salvo\n"
			   "other:7400 salvo-x25519 " K2 "\n"
			   "recv.lab:7400 salvo-x25519 " K1 " first use\n";
	assert_int_equal(salvo_known_hosts_check("kh", file, strlen(file),
						 "recv.lab:7400", k1, err,
						 sizeof(err)),
			 SALVO_KNOWN_MATCH);
	assert_int_equal(salvo_known_hosts_check("kh", file, strlen(file),
						 "new:7400", k1, err,
						 sizeof(err)),
			 SALVO_KNOWN_NEW);
	assert_int_equal(salvo_known_hosts_check("kh", file, strlen(file),
						 "recv.lab:7400", k2, err,
						 sizeof(err)),
			 SALVO_ERR_KEY);
	char fp1[SALVO_FINGERPRINT_SIZE], fp2[SALVO_FINGERPRINT_SIZE];
	salvo_key_fingerprint(fp1, k1);
	salvo_key_fingerprint(fp2, k2);
	print_message("%s\n", err);
	assert_non_null(strstr(err, "kh:3: the receiver recv.lab:7400"));
	assert_non_null(strstr(err, fp1));
	assert_non_null(strstr(err, fp2));
	assert_non_null(strstr(err, "delete line 3 of kh"));
	const char *bad = "recv.lab:7400 salvo-x25519 nope\n";
	assert_int_equal(salvo_known_hosts_check("kh", bad, strlen(bad), "x",
						 k1, err, sizeof(err)),
			 SALVO_ERR_INVAL);
	assert_non_null(strstr(err, "kh:1: "));

	/* find: the key a host is pinned to, none, a malformed line */
	uint8_t got[32];
	assert_int_equal(salvo_known_hosts_find("kh", file, strlen(file),
						"recv.lab:7400", got, err,
						sizeof(err)),
			 1);
	assert_memory_equal(got, k1, 32);
	assert_int_equal(salvo_known_hosts_find("kh", file, strlen(file),
						"other:7400", got, err,
						sizeof(err)),
			 1);
	assert_memory_equal(got, k2, 32);
	assert_int_equal(salvo_known_hosts_find("kh", file, strlen(file),
						"recv.lab:7401", got, err,
						sizeof(err)),
			 0);
	assert_int_equal(salvo_known_hosts_find("kh", bad, strlen(bad),
						"recv.lab:7400", got, err,
						sizeof(err)),
			 SALVO_ERR_INVAL);
	assert_non_null(strstr(err, "kh:1: "));

	int n = salvo_known_hosts_line(line, sizeof(line), "h:1", k1);
	assert_string_equal(line, "h:1 salvo-x25519 " K1 "\n");
	assert_int_equal(n, (int)strlen(line));
	assert_int_equal(salvo_known_hosts_line(line, sizeof(line), "a b", k1),
			 SALVO_ERR_INVAL);
	assert_int_equal(salvo_known_hosts_line(line, sizeof(line), "", k1),
			 SALVO_ERR_INVAL);
	assert_int_equal(salvo_known_hosts_line(line, 10, "h:1", k1),
			 SALVO_ERR_TOOBIG);
}

/* ------------------------------------------------------------ the files */

static char dir[64];

static const char *at(const char *name)
{
	static char path[4][128];
	static int i;
	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", dir, name);
	return path[i];
}

static void test_files(void **state)
{
	(void)state;
	uint8_t priv[32], pub[32], back[32];
	char err[512];
	struct stat st;

	snprintf(dir, sizeof(dir), "/tmp/salvo-keys-XXXXXX");
	assert_non_null(mkdtemp(dir));
	salvo_keyfile_generate(priv, pub);

	umask(0);
	assert_int_equal(
	    salvo_keyfile_write_private(at("id"), priv, err, sizeof(err)), 0);
	assert_int_equal(stat(at("id"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	umask(022);
	assert_int_equal(
	    salvo_keyfile_write_private(at("id"), priv, err, sizeof(err)),
	    -EEXIST);
	assert_non_null(strstr(err, "never overwritten"));
	assert_int_equal(
	    salvo_keyfile_read_private(at("id"), back, err, sizeof(err)), 0);
	assert_memory_equal(priv, back, 32);

	/* readable by others: refused, with the fix */
	assert_int_equal(chmod(at("id"), 0640), 0);
	assert_int_equal(
	    salvo_keyfile_read_private(at("id"), back, err, sizeof(err)),
	    SALVO_ERR_KEY);
	print_message("%s\n", err);
	char want[256];
	snprintf(want, sizeof(want),
		 "%s: private key readable or writable by group or others "
		 "(mode 0640); fix: chmod 600 %s",
		 at("id"), at("id"));
	assert_string_equal(err, want);
	assert_int_equal(chmod(at("id"), 0600), 0);

	/* a symlink is not followed, a FIFO not waited on */
	assert_int_equal(symlink(at("id"), at("link")), 0);
	assert_int_equal(
	    salvo_keyfile_read_private(at("link"), back, err, sizeof(err)),
	    -ELOOP);
	assert_non_null(strstr(err, "symbolic link"));
	assert_int_equal(
	    salvo_keyfile_write_private(at("link"), priv, err, sizeof(err)),
	    -EEXIST);
	assert_int_equal(mkfifo(at("fifo"), 0600), 0);
	assert_int_equal(
	    salvo_keyfile_read_private(at("fifo"), back, err, sizeof(err)),
	    SALVO_ERR_INVAL);
	assert_non_null(strstr(err, "not a regular file"));
	/* not a key */
	FILE *f = fopen(at("junk"), "w");
	assert_non_null(f);
	fputs("hello\n", f);
	fclose(f);
	assert_int_equal(chmod(at("junk"), 0600), 0);
	assert_int_equal(
	    salvo_keyfile_read_private(at("junk"), back, err, sizeof(err)),
	    SALVO_ERR_KEY);
	assert_non_null(strstr(err, "not a salvo private key"));

	/* public key file */
	assert_int_equal(salvo_keyfile_write_public(at("id.pub"), pub, "me",
						    err, sizeof(err)),
			 0);
	assert_int_equal(stat(at("id.pub"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(
	    salvo_keyfile_read_public(at("id.pub"), back, err, sizeof(err)), 0);
	assert_memory_equal(pub, back, 32);

	/* an authorised-keys file */
	char line[128];
	salvo_key_public_text(line, sizeof(line), pub, NULL);
	f = fopen(at("authorized"), "w");
	assert_non_null(f);
	fprintf(f, "%s dir=in max-files=3\n", line);
	fclose(f);
	salvo_authkeys ak;
	salvo_keys_diag d;
	salvo_authkeys_init(&ak);
	salvo_keys_diag_init(&d);
	assert_int_equal(salvo_keyfile_load_authkeys(
			     at("authorized"), &ak, salvo_units_parse_size, &d),
			 0);
	assert_non_null(salvo_authkeys_find(&ak, pub));
	salvo_authkeys_free(&ak);
	assert_int_equal(salvo_keyfile_load_authkeys(at("fifo"), &ak, NULL, &d),
			 SALVO_ERR_INVAL);
	assert_non_null(strstr(d.text, "fifo: not a regular file"));

	/* known hosts: pinned on first use, matched, a change refused */
	uint8_t other[32];
	memset(other, 9, sizeof(other));
	assert_int_equal(salvo_keyfile_known_host(at("known"), "r:7400", pub, 0,
						  err, sizeof(err)),
			 SALVO_ERR_KEY);
	assert_non_null(strstr(err, "no key pinned for r:7400"));
	assert_int_equal(salvo_keyfile_known_host(at("known"), "r:7400", pub, 1,
						  err, sizeof(err)),
			 SALVO_KNOWN_NEW);
	assert_int_equal(stat(at("known"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(salvo_keyfile_known_host(at("known"), "r:7400", pub, 1,
						  err, sizeof(err)),
			 SALVO_KNOWN_MATCH);
	assert_int_equal(salvo_keyfile_known_host(at("known"), "s:7400", other,
						  1, err, sizeof(err)),
			 SALVO_KNOWN_NEW);
	assert_int_equal(salvo_keyfile_known_host(at("known"), "r:7400", other,
						  1, err, sizeof(err)),
			 SALVO_ERR_KEY);
	assert_non_null(strstr(err, "known:1: the receiver r:7400"));

	static const char *const names[] = {
	    "id", "link", "fifo", "junk", "id.pub", "authorized", "known"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(at(names[i]));
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_private_text),
	    cmocka_unit_test(test_public_text),
	    cmocka_unit_test(test_authkeys_good),
	    cmocka_unit_test(test_authkeys_errors),
	    cmocka_unit_test(test_known_hosts),
	    cmocka_unit_test(test_files),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
