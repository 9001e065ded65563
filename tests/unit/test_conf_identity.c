/*
 * Identities from the configuration (conf/identity.c), on real files in a
 * scratch folder: key files made on first use with the right modes and
 * never overwritten, unsafe ones refused with the fix, the key folder
 * (and only it) created, the receiver's authorised senders and what it
 * logs at start, and the sender's pin callback as the commands build it:
 * a receiver pinned on first use, accepted again, refused with both
 * fingerprints when its key changes, per HOST:PORT, for salvo send and for
 * a hot-folder profile alike.
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

#include "common/core/error.h"
#include "common/crypto/keyfile.h"
#include "conf/config.h"
#include "conf/engine_opts.h"
#include "tests/helpers/testdir.h"

static testdir scratch;

/* What the config's run-time log received. */
struct notes {
	char text[8192];
	unsigned warn;
};

static void on_log(void *ud, const salvo_log_event *ev)
{
	struct notes *n = ud;
	size_t len = strlen(n->text);

	snprintf(n->text + len, sizeof(n->text) - len, "%s %s: %s\n",
		 ev->level == SALVO_LOG_WARN ? "warn" : "info", ev->event,
		 ev->message);
	n->warn += ev->level == SALVO_LOG_WARN;
}

/* A finished config from yaml, its key folder home/.config/salvo. */
static struct salvo_config *config(const char *yaml, struct notes *n)
{
	struct salvo_conf_paths paths = {NULL, NULL, NULL, "home", 0};
	struct salvo_config *cfg = salvo_conf_new();
	struct salvo_conf_diag d;

	assert_non_null(cfg);
	salvo_conf_diag_init(&d);
	if (salvo_conf_load_buffer(cfg, "t.yaml", yaml, strlen(yaml), &d) ||
	    salvo_conf_set_key_dir(cfg, &paths) || salvo_conf_finish(cfg, &d))
		fail_msg("%s", d.text);
	memset(n, 0, sizeof(*n));
	cfg->log = on_log;
	cfg->log_ud = n;
	return cfg;
}

static unsigned mode_of(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void write_file(const char *path, const char *text, unsigned mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void key_line(const char *pubfile, char *line, size_t n)
{
	uint8_t pub[32];
	char err[600];

	assert_int_equal(
	    salvo_keyfile_read_public(pubfile, pub, err, sizeof(err)), 0);
	assert_true(salvo_key_public_text(line, n, pub, NULL) > 0);
}

/* The key is made on first use in the key folder (created 0700, with
 * ~/.config), 0600 with a 0644 .pub; then read, never made again. */
static void test_key_made_once(void **state)
{
	struct notes n;
	struct salvo_config *cfg = config("", &n);
	uint8_t priv[32], pub[32], priv2[32], pub2[32], filepub[32];
	char err[1200];
	int created;
	(void)state;

	assert_int_equal(mkdir("home", 0755), 0);
	assert_string_equal(cfg->security.key, "home/.config/salvo/key");
	assert_int_equal(
	    salvo_conf_key_load_or_create(cfg, cfg->security.key, NULL, priv,
					  pub, &created, err, sizeof(err)),
	    0);
	assert_int_equal(created, 1);
	assert_int_equal(mode_of("home/.config"), 0700);
	assert_int_equal(mode_of("home/.config/salvo"), 0700);
	assert_int_equal(mode_of("home/.config/salvo/key"), 0600);
	assert_int_equal(mode_of("home/.config/salvo/key.pub"), 0644);
	assert_int_equal(salvo_keyfile_read_public("home/.config/salvo/key.pub",
						   filepub, err, sizeof(err)),
			 0);
	assert_memory_equal(filepub, pub, 32);
	assert_int_equal(
	    salvo_conf_key_load_or_create(cfg, cfg->security.key, NULL, priv2,
					  pub2, &created, err, sizeof(err)),
	    0);
	assert_int_equal(created, 0);
	assert_memory_equal(priv2, priv, 32);
	assert_memory_equal(pub2, pub, 32);
	/* nothing left under the temporary names */
	snprintf(err, sizeof(err), "home/.config/salvo/key.new-%ld",
		 (long)getpid());
	assert_int_equal(access(err, F_OK), -1);
	snprintf(err, sizeof(err), "home/.config/salvo/key.pub.new-%ld",
		 (long)getpid());
	assert_int_equal(access(err, F_OK), -1);
	salvo_conf_del(cfg);
}

/* A folder a person named is never created; a 0644 key is refused with
 * the fix; an existing key is not overwritten without replace. */
static void test_key_refusals(void **state)
{
	struct notes n;
	struct salvo_config *cfg = config("", &n);
	uint8_t priv[32], pub[32], priv2[32], pub2[32];
	char err[1200];
	int created;
	(void)state;

	assert_int_equal(salvo_conf_key_load_or_create(cfg, "nowhere/k", NULL,
						       priv, pub, &created, err,
						       sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "nowhere/k: cannot use its folder "
				    "nowhere"));
	assert_int_equal(access("nowhere", F_OK), -1);

	salvo_keyfile_generate(priv, pub);
	assert_int_equal(
	    salvo_conf_key_write("k1", priv, pub, "c", 0, err, sizeof(err)), 0);
	assert_int_equal(chmod("k1", 0644), 0);
	assert_int_equal(salvo_conf_key_load_or_create(cfg, "k1", NULL, priv2,
						       pub2, &created, err,
						       sizeof(err)),
			 SALVO_ERR_KEY);
	assert_string_equal(err, "k1: private key readable or writable by "
				 "group or others (mode 0644); fix: chmod 600 "
				 "k1");
	assert_int_equal(chmod("k1", 0600), 0);

	salvo_keyfile_generate(priv2, pub2);
	assert_int_equal(
	    salvo_conf_key_write("k1", priv2, pub2, "c", 0, err, sizeof(err)),
	    -EEXIST);
	assert_non_null(strstr(err, "salvo keygen --force replaces a key"));
	assert_int_equal(salvo_conf_key_load_or_create(cfg, "k1", NULL, priv2,
						       pub2, &created, err,
						       sizeof(err)),
			 0);
	assert_memory_equal(pub2, pub, 32); /* still the first key */
	/* replace swaps in both files */
	salvo_keyfile_generate(priv2, pub2);
	assert_int_equal(
	    salvo_conf_key_write("k1", priv2, pub2, "c", 1, err, sizeof(err)),
	    0);
	assert_int_equal(
	    salvo_keyfile_read_public("k1.pub", pub, err, sizeof(err)), 0);
	assert_memory_equal(pub, pub2, 32);
	assert_int_equal(mode_of("k1"), 0600);
	salvo_conf_del(cfg);
}

/* The receiver at start: its key, then who may connect, said clearly. */
static void test_recv_identity(void **state)
{
	struct notes n;
	struct salvo_config *cfg;
	salvo_recv_opts o;
	salvo_authkeys ak;
	char err[2000], line[200], text[400];
	(void)state;

	assert_int_equal(mkdir("rx", 0700), 0);
	/* nobody authorised, not anonymous: it says so and how to fix it */
	cfg = config("security: {key: rx/key}\n", &n);
	memset(&o, 0, sizeof(o));
	salvo_authkeys_init(&ak);
	assert_int_equal(
	    salvo_conf_recv_identity(cfg, &o, &ak, err, sizeof(err)), 0);
	assert_ptr_equal(o.authkeys, &ak);
	assert_int_equal(ak.count, 0);
	assert_int_equal(mode_of("rx/key"), 0600);
	assert_non_null(strstr(n.text, "warn key_created: created the "
				       "receiver key rx/key (mode 0600), "
				       "fingerprint b2:"));
	assert_non_null(strstr(n.text, "warn no_senders: no sender can "
				       "connect: rx/authorized_keys does not "
				       "exist. To authorise one, run 'salvo "
				       "keygen --show --dir FOLDER' on the "
				       "sender and append the line it prints "
				       "to rx/authorized_keys"));
	assert_null(strstr(n.text, "ANONYMOUS"));
	salvo_authkeys_free(&ak);
	salvo_conf_del(cfg);

	/* one sender; the key is read, not made again */
	salvo_keyfile_generate(o.key_private, o.key_public);
	salvo_key_public_text(line, sizeof(line), o.key_public, NULL);
	snprintf(text, sizeof(text), "# ours\n%s dir=in/a max-files=3 c\n",
		 line);
	write_file("rx/authorized_keys", text, 0644);
	cfg = config("security: {key: rx/key}\n", &n);
	salvo_authkeys_init(&ak);
	assert_int_equal(
	    salvo_conf_recv_identity(cfg, &o, &ak, err, sizeof(err)), 0);
	assert_int_equal(ak.count, 1);
	assert_string_equal(ak.keys[0].dir, "in/a");
	assert_non_null(strstr(n.text, "info key: receiver key rx/key, "
				       "fingerprint b2:"));
	assert_non_null(strstr(n.text, "info authorized_keys: serving 1 "
				       "authorised sender from "
				       "rx/authorized_keys\n"));
	assert_int_equal(n.warn, 0);
	salvo_authkeys_free(&ak);
	salvo_conf_del(cfg);

	/* anonymous senders allowed: a warning at start */
	cfg = config("security: {key: rx/key, allow_anonymous: true}\n"
		     "receiver: {root: /srv/in}\n",
		     &n);
	salvo_authkeys_init(&ak);
	assert_int_equal(salvo_conf_recv_opts(cfg, &o, err, sizeof(err)), 0);
	assert_int_equal(o.allow_anonymous, 1);
	assert_int_equal(
	    salvo_conf_recv_identity(cfg, &o, &ak, err, sizeof(err)), 0);
	assert_non_null(strstr(n.text, "warn anonymous: ANONYMOUS senders "
				       "allowed (security.allow_anonymous): "
				       "any host that reaches this port may "
				       "write below /srv/in\n"));
	salvo_authkeys_free(&ak);
	salvo_conf_del(cfg);
}

/* A bad authorised-keys file stops the receiver: every error at its
 * FILE:LINE; a file others may write is refused with the fix. */
static void test_recv_authkeys_refused(void **state)
{
	struct notes n;
	struct salvo_config *cfg =
	    config("security: {key: rx/key, authorized_keys: rx/ak}\n", &n);
	salvo_recv_opts o;
	salvo_authkeys ak;
	char err[2000], line[200], text[600];
	uint8_t priv[32], pub[32];
	(void)state;

	salvo_keyfile_generate(priv, pub);
	salvo_key_public_text(line, sizeof(line), pub, NULL);
	snprintf(text, sizeof(text),
		 "%s dir=ok\n\nsalvo-x25519 nonsense dir=a\n%s max-byte=5 "
		 "dir=b\n",
		 line, line);
	write_file("rx/ak", text, 0644);
	memset(&o, 0, sizeof(o));
	salvo_authkeys_init(&ak);
	assert_int_equal(
	    salvo_conf_recv_identity(cfg, &o, &ak, err, sizeof(err)),
	    SALVO_ERR_INVAL);
	assert_non_null(strstr(err, "rx/ak:3: "));
	assert_non_null(strstr(err, "rx/ak:4: "));
	assert_int_equal(ak.count, 0);

	write_file("rx/ak", "", 0666);
	assert_int_equal(
	    salvo_conf_recv_identity(cfg, &o, &ak, err, sizeof(err)),
	    SALVO_ERR_KEY);
	assert_string_equal(err, "rx/ak: writable by group or others (mode "
				 "0666), so anyone could authorise "
				 "themselves; fix: chmod 644 rx/ak");
	salvo_authkeys_free(&ak);
	salvo_conf_del(cfg);
}

/* Trust on first use through the callback salvo send gets. */
static void test_pin_callback(void **state)
{
	struct notes n;
	struct salvo_config *cfg =
	    config("security: {key: tx/key, known_hosts: tx/kh}\n", &n);
	struct salvo_conf_pin pin;
	salvo_send_opts o;
	uint8_t a[32], b[32], priv[32];
	char err[2000], fa[SALVO_FINGERPRINT_SIZE], fb[SALVO_FINGERPRINT_SIZE];
	char want[600], peer[300];
	const char *kh;
	(void)state;

	assert_int_equal(mkdir("tx", 0700), 0);
	salvo_keyfile_generate(priv, a);
	salvo_keyfile_generate(priv, b);
	salvo_key_fingerprint(fa, a);
	salvo_key_fingerprint(fb, b);
	assert_int_equal(salvo_conf_send_opts(cfg, &o, err, sizeof(err)), 0);
	o.host = "rx.example";
	o.port = 7400;
	assert_int_equal(
	    salvo_conf_send_identity(cfg, &o, &pin, err, sizeof(err)), 0);
	assert_int_equal(o.has_key, 1);
	assert_int_equal(o.has_peer_key, 0);
	assert_non_null(o.pin);
	assert_int_equal(salvo_conf_pin_where(&o, &kh, peer, sizeof(peer)), 0);
	assert_string_equal(kh, "tx/kh");
	assert_string_equal(peer, "rx.example:7400");
	assert_non_null(strstr(n.text, "warn key_created: created the sender "
				       "key tx/key"));

	/* first use: pinned, with a notice */
	n.text[0] = '\0';
	assert_int_equal(o.pin(o.pin_ud, a, err, sizeof(err)), 0);
	snprintf(want, sizeof(want),
		 "warn key_pinned: pinned the key of receiver rx.example:7400, "
		 "%s, in tx/kh on first use; a different key will be refused\n",
		 fa);
	assert_string_equal(n.text, want);
	assert_int_equal(mode_of("tx/kh"), 0600);
	/* the same key again: trusted, nothing new */
	n.text[0] = '\0';
	assert_int_equal(o.pin(o.pin_ud, a, err, sizeof(err)), 0);
	assert_string_equal(n.text, "");
	/* a changed key: refused with both fingerprints and the fix */
	assert_int_equal(o.pin(o.pin_ud, b, err, sizeof(err)), SALVO_ERR_KEY);
	assert_non_null(strstr(err, fa));
	assert_non_null(strstr(err, fb));
	assert_non_null(strstr(err, "tx/kh:1: the receiver rx.example:7400 "
				    "presents key"));
	assert_non_null(strstr(err, "delete line 1 of tx/kh"));
	/* another port is another receiver */
	o.port = 7401;
	assert_int_equal(
	    salvo_conf_send_identity(cfg, &o, &pin, err, sizeof(err)), 0);
	assert_int_equal(o.pin(o.pin_ud, b, err, sizeof(err)), 0);

	/* a hot-folder profile pins through the same file, under its
	 * host:port (network.port when it names none) */
	salvo_conf_del(cfg);
	cfg = config("security: {key: tx/key, known_hosts: tx/kh}\n"
		     "hotfolders:\n  - {name: p, dir: /d, host: rx.example}\n"
		     "  - {name: q, dir: /d, host: \"[::1]:9\"}\n",
		     &n);
	assert_int_equal(salvo_conf_profile_send_opts(cfg, &cfg->hotfolders[0],
						      &o, err, sizeof(err)),
			 0);
	assert_int_equal(o.pin(o.pin_ud, a, err, sizeof(err)), 0);
	assert_int_equal(o.pin(o.pin_ud, b, err, sizeof(err)), SALVO_ERR_KEY);
	assert_int_equal(salvo_conf_profile_send_opts(cfg, &cfg->hotfolders[1],
						      &o, err, sizeof(err)),
			 0);
	assert_int_equal(salvo_conf_pin_where(&o, &kh, peer, sizeof(peer)), 0);
	assert_string_equal(peer, "[::1]:9");
	assert_int_equal(o.pin(o.pin_ud, a, err, sizeof(err)), 0);
	assert_non_null(strstr(n.text, "pinned the key of receiver [::1]:9"));
	salvo_conf_del(cfg);
}

/* An explicit receiver key (a line or a file) replaces the pin; an
 * anonymous sender makes no key file. */
static void test_receiver_key_and_anonymous(void **state)
{
	struct notes n;
	struct salvo_config *cfg;
	struct salvo_conf_pin pin;
	salvo_send_opts o;
	uint8_t priv[32], pub[32];
	char err[1200], yaml[400], line[200];
	(void)state;

	assert_int_equal(mkdir("an", 0700), 0);
	salvo_keyfile_generate(priv, pub);
	assert_int_equal(
	    salvo_conf_key_write("an/rx", priv, pub, "rx", 0, err, sizeof(err)),
	    0);
	key_line("an/rx.pub", line, sizeof(line));
	snprintf(yaml, sizeof(yaml),
		 "security: {key: an/key, anonymous: true, receiver_key: "
		 "\"%s\"}\n",
		 line);
	cfg = config(yaml, &n);
	assert_int_equal(salvo_conf_send_opts(cfg, &o, err, sizeof(err)), 0);
	o.host = "h";
	assert_int_equal(
	    salvo_conf_send_identity(cfg, &o, &pin, err, sizeof(err)), 0);
	assert_int_equal(o.has_key, 0);
	assert_int_equal(access("an/key", F_OK), -1);
	assert_int_equal(o.has_peer_key, 1);
	assert_memory_equal(o.peer_key, pub, 32);
	assert_null(o.pin);
	assert_int_equal(salvo_conf_pin_where(&o, NULL, NULL, 0),
			 SALVO_ERR_INVAL);
	salvo_conf_del(cfg);

	/* from the receiver's .pub file; a file that is no key is refused */
	cfg = config("security: {key: an/key, receiver_key: an/rx.pub}\n", &n);
	assert_int_equal(salvo_conf_send_opts(cfg, &o, err, sizeof(err)), 0);
	assert_int_equal(
	    salvo_conf_send_identity(cfg, &o, &pin, err, sizeof(err)), 0);
	assert_memory_equal(o.peer_key, pub, 32);
	assert_int_equal(o.has_key, 1);
	salvo_conf_del(cfg);
	cfg = config("security: {key: an/key, receiver_key: an/key}\n", &n);
	assert_int_equal(salvo_conf_send_opts(cfg, &o, err, sizeof(err)), 0);
	assert_int_equal(
	    salvo_conf_send_identity(cfg, &o, &pin, err, sizeof(err)),
	    SALVO_ERR_KEY);
	assert_non_null(strstr(err, "an/key: not a salvo public key"));
	salvo_conf_del(cfg);
}

/* No key folder (no $HOME) and nothing set: refused, with what to set. */
static void test_unresolved(void **state)
{
	struct salvo_config *cfg = salvo_conf_new();
	struct salvo_conf_diag d;
	struct salvo_conf_pin pin;
	salvo_send_opts o;
	char err[600];
	(void)state;

	salvo_conf_diag_init(&d);
	assert_int_equal(salvo_conf_finish(cfg, &d), 0);
	assert_int_equal(salvo_conf_send_opts(cfg, &o, err, sizeof(err)), 0);
	assert_int_equal(
	    salvo_conf_send_identity(cfg, &o, &pin, err, sizeof(err)),
	    SALVO_ERR_INVAL);
	assert_string_equal(err, "security.key: auto, but there is no key "
				 "folder (no $HOME); allowed: a file name in "
				 "security.key or its flag");
	salvo_conf_del(cfg);
}

static int setup(void **state)
{
	(void)state;
	if (salvo_crypto_init() || testdir_enter(&scratch, "identity"))
		return -1;
	umask(022);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return testdir_leave(&scratch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_made_once),
	    cmocka_unit_test(test_key_refusals),
	    cmocka_unit_test(test_recv_identity),
	    cmocka_unit_test(test_recv_authkeys_refused),
	    cmocka_unit_test(test_pin_callback),
	    cmocka_unit_test(test_receiver_key_and_anonymous),
	    cmocka_unit_test(test_unresolved),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
