/*
 * Identities from the configuration (docs/SECURITY.md, "Identities"): the
 * key files, the receiver's authorised senders and the sender's
 * known-hosts pin, turned into the engines' options.  This is the I/O
 * half of conf/engine_opts.h: it reads and, on first use, creates files,
 * the way sshd makes its host key on first start and ssh pins a host on
 * first connection.  Formats and file checks are common/crypto's
 * (keys.h, keyfile.h); this file decides when a file is made, where its
 * folder may be created, and what a person is told (cfg->log).
 *
 * A new key is written under a temporary name and linked into place, so
 * two processes that start at once (a receiver and a sender as root on
 * one host share SYSCONFDIR/salvo/key) never see half a key: one link
 * wins and the other reads the winner's key.
 *
 * Thread-safety: the pin callbacks run on the sender engine's threads,
 * several sessions at once; they share nothing but the known-hosts file,
 * where a line appended twice is harmless (both pin the same key).
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/error.h"
#include "common/crypto/keyfile.h"
#include "common/crypto/noise.h"
#include "conf/engine_opts.h"
#include "conf/units.h"

#define PATH_BYTES 4200

static void notice(const struct salvo_config *cfg, enum salvo_log_level level,
		   const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void notice(const struct salvo_config *cfg, enum salvo_log_level level,
		   const char *event, const char *fmt, ...)
{
	salvo_log_event ev = {level, event, 0, NULL, NULL, 0, 0, 0, NULL};
	char msg[2048];
	va_list ap;

	if (!cfg->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ev.message = msg;
	cfg->log(cfg->log_ud, &ev);
}

/* The folder of file, into out ("." for a bare name). */
static void folder_of(const char *file, char *out, size_t n)
{
	const char *slash = strrchr(file, '/');

	if (!slash)
		snprintf(out, n, ".");
	else if (slash == file)
		snprintf(out, n, "/");
	else
		snprintf(out, n, "%.*s", (int)(slash - file), file);
}

/*
 * Makes sure the folder of file exists.  Only the key folder that
 * salvo_conf_set_key_dir chose is created, with ~/.config for a user;
 * HOME and SYSCONFDIR themselves never are, nor a folder a person named,
 * so a mistyped path fails instead of growing a tree.  A user's
 * ~/.config/salvo is 0700; root's SYSCONFDIR/salvo is 0755, because it
 * also holds the system-wide salvo.yaml every user reads (the private
 * key in it is 0600 on its own).
 */
static int make_folder(const struct salvo_config *cfg, const char *file,
		       char *err, size_t errlen)
{
	char dir[PATH_BYTES], parent[PATH_BYTES];
	struct stat st;

	folder_of(file, dir, sizeof(dir));
	if (!stat(dir, &st))
		return 0;
	if (errno == ENOENT && cfg->key_dir && !strcmp(dir, cfg->key_dir)) {
		size_t len = strlen(dir), sub = strlen("/.config/salvo");
		int user =
		    len > sub && !strcmp(dir + len - sub, "/.config/salvo");
		if (!mkdir(dir, user ? 0700 : 0755))
			return 0;
		folder_of(dir, parent, sizeof(parent));
		if (errno == ENOENT && len > sub &&
		    !strcmp(dir + len - sub, "/.config/salvo") &&
		    !mkdir(parent, 0700) && !mkdir(dir, 0700))
			return 0;
	}
	snprintf(err, errlen, "%s: cannot use its folder %s: %s", file, dir,
		 strerror(errno));
	return -errno;
}

void salvo_conf_key_comment(char *out, size_t n)
{
	struct passwd *pw = getpwuid(geteuid());
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	snprintf(out, n, "%s@%s", pw && pw->pw_name ? pw->pw_name : "salvo",
		 *host ? host : "localhost");
}

/* path + suffix into out; 0 or SALVO_ERR_TOOBIG with a message. */
static int with_suffix(char *out, size_t n, const char *path,
		       const char *suffix, char *err, size_t errlen)
{
	if ((size_t)snprintf(out, n, "%s%s", path, suffix) < n)
		return 0;
	snprintf(err, errlen, "%s: name too long", path);
	return SALVO_ERR_TOOBIG;
}

int salvo_conf_key_write(const char *path, const uint8_t priv[32],
			 const uint8_t pub[32], const char *comment,
			 int replace, char *err, size_t errlen)
{
	char tmp[PATH_BYTES], pubfile[PATH_BYTES], pubtmp[PATH_BYTES];
	char tag[32];
	int rc;

	snprintf(tag, sizeof(tag), ".new-%ld", (long)getpid());
	if ((rc = with_suffix(tmp, sizeof(tmp), path, tag, err, errlen)) ||
	    (rc = with_suffix(pubfile, sizeof(pubfile), path, ".pub", err,
			      errlen)) ||
	    (rc = with_suffix(pubtmp, sizeof(pubtmp), pubfile, tag, err,
			      errlen)))
		return rc;
	unlink(tmp); /* a leftover of this pid's crash */
	unlink(pubtmp);
	if ((rc = salvo_keyfile_write_private(tmp, priv, err, errlen)))
		return rc;
	if ((rc =
		 salvo_keyfile_write_public(pubtmp, pub, comment, err, errlen)))
		goto fail_tmp;
	/* the private key is the authority: link it in first (fails when
	 * the name exists), or rename over the old one when replacing */
	if (replace ? rename(tmp, path) : link(tmp, path)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
			 errno == EEXIST ? " (salvo keygen --force replaces "
					   "a key)"
					 : "");
		goto fail_pubtmp;
	}
	if (rename(pubtmp, pubfile)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", pubfile, strerror(errno));
		goto fail_pubtmp;
	}
	if (!replace)
		unlink(tmp);
	return 0;
fail_pubtmp:
	unlink(pubtmp);
fail_tmp:
	unlink(tmp);
	return rc;
}

int salvo_conf_key_load_or_create(const struct salvo_config *cfg,
				  const char *path, const char *comment,
				  uint8_t priv[32], uint8_t pub[32],
				  int *created, char *err, size_t errlen)
{
	char who[300];
	int rc;

	*created = 0;
	if ((rc = salvo_crypto_init())) {
		snprintf(err, errlen, "cannot initialise libsodium");
		return rc;
	}
	rc = salvo_keyfile_read_private(path, priv, err, errlen);
	if (rc == -ENOENT) {
		if ((rc = make_folder(cfg, path, err, errlen)))
			return rc;
		salvo_keyfile_generate(priv, pub);
		salvo_conf_key_comment(who, sizeof(who));
		rc = salvo_conf_key_write(
		    path, priv, pub, comment ? comment : who, 0, err, errlen);
		if (!rc) {
			*created = 1;
			return 0;
		}
		if (rc != -EEXIST)
			return rc;
		/* another process made it first: use that one */
		rc = salvo_keyfile_read_private(path, priv, err, errlen);
	}
	if (rc)
		return rc;
	if (salvo_noise_public_key(pub, priv)) {
		snprintf(err, errlen, "%s: not a usable X25519 key", path);
		return SALVO_ERR_KEY;
	}
	return 0;
}

/* "security.key: auto, but ..." when a file was left unresolved. */
static int unresolved(const char *key, char *err, size_t errlen)
{
	snprintf(err, errlen,
		 "%s: auto, but there is no key folder (no $HOME); allowed: "
		 "a file name in %s or its flag",
		 key, key);
	return SALVO_ERR_INVAL;
}

/* The authorised-keys file into ak; a missing file is an empty list. */
static int load_authkeys(const char *path, salvo_authkeys *ak, int *exists,
			 char *err, size_t errlen)
{
	salvo_keys_diag diag;
	struct stat st;
	int rc;

	*exists = 0;
	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	*exists = 1;
	/* anyone who may write it may authorise themselves */
	if (S_ISREG(st.st_mode) && (st.st_mode & 022)) {
		snprintf(err, errlen,
			 "%s: writable by group or others (mode %04o), so "
			 "anyone could authorise themselves; fix: chmod 644 %s",
			 path, (unsigned)(st.st_mode & 07777), path);
		return SALVO_ERR_KEY;
	}
	salvo_keys_diag_init(&diag);
	rc = salvo_keyfile_load_authkeys(path, ak, salvo_units_parse_size,
					 &diag);
	if (rc) {
		while (diag.len && diag.text[diag.len - 1] == '\n')
			diag.text[--diag.len] = '\0';
		snprintf(err, errlen, "%s%s", diag.text,
			 diag.dropped ? " (more errors not shown)" : "");
	}
	return rc;
}

int salvo_conf_recv_identity(const struct salvo_config *cfg, salvo_recv_opts *o,
			     salvo_authkeys *ak, char *err, size_t errlen)
{
	const struct salvo_conf_security *sec = &cfg->security;
	char fp[SALVO_FINGERPRINT_SIZE];
	int created, exists, rc;

	if (!sec->key)
		return unresolved("security.key", err, errlen);
	if (!sec->authorized_keys)
		return unresolved("security.authorized_keys", err, errlen);
	if ((rc = salvo_conf_key_load_or_create(cfg, sec->key, NULL,
						o->key_private, o->key_public,
						&created, err, errlen)))
		return rc;
	if ((rc =
		 load_authkeys(sec->authorized_keys, ak, &exists, err, errlen)))
		return rc;
	o->authkeys = ak;
	salvo_key_fingerprint(fp, o->key_public);
	if (created)
		notice(cfg, SALVO_LOG_WARN, "key_created",
		       "created the receiver key %s (mode 0600), fingerprint "
		       "%s; senders pin it on first use, or take %s.pub",
		       sec->key, fp, sec->key);
	else
		notice(cfg, SALVO_LOG_INFO, "key",
		       "receiver key %s, fingerprint %s", sec->key, fp);
	if (ak->count)
		notice(cfg, SALVO_LOG_INFO, "authorized_keys",
		       "serving %zu authorised sender%s from %s", ak->count,
		       ak->count == 1 ? "" : "s", sec->authorized_keys);
	else if (!sec->allow_anonymous)
		notice(cfg, SALVO_LOG_WARN, "no_senders",
		       "no sender can connect: %s %s. To authorise one, run "
		       "'salvo keygen --show --dir FOLDER' on the sender and "
		       "append the line it prints to %s, then restart; or "
		       "allow anonymous senders (--allow-anonymous, labs "
		       "only)",
		       sec->authorized_keys,
		       exists ? "lists no key" : "does not exist",
		       sec->authorized_keys);
	if (sec->allow_anonymous)
		notice(cfg, SALVO_LOG_WARN, "anonymous",
		       "ANONYMOUS senders allowed (security.allow_anonymous): "
		       "any host that reaches this port may write below %s",
		       cfg->receiver.root_dir);
	return 0;
}

/* "host:port" or "[v6]:port", as known_hosts names a receiver. */
static void peer_name(char *out, size_t n, const char *host, unsigned port)
{
	snprintf(out, n, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
}

static int pin_peer(const struct salvo_config *cfg, const char *peer,
		    const uint8_t key[32], char *err, size_t errlen)
{
	const char *file = cfg->security.known_hosts;
	char fp[SALVO_FINGERPRINT_SIZE];
	int rc;

	if (!file)
		return unresolved("security.known_hosts", err, errlen);
	if ((rc = make_folder(cfg, file, err, errlen)))
		return rc;
	rc = salvo_keyfile_known_host(file, peer, key, 1, err, errlen);
	if (rc == SALVO_KNOWN_NEW) {
		salvo_key_fingerprint(fp, key);
		notice(cfg, SALVO_LOG_WARN, "key_pinned",
		       "pinned the key of receiver %s, %s, in %s on first "
		       "use; a different key will be refused",
		       peer, fp, file);
		return 0;
	}
	return rc;
}

int salvo_conf_pin_check(void *ud, const uint8_t key[32], char *err,
			 size_t errlen)
{
	const struct salvo_conf_pin *p = ud;

	return pin_peer(p->cfg, p->peer, key, err, errlen);
}

/* The pin callback of a hot-folder profile: ud is the profile. */
static int profile_pin(void *ud, const uint8_t key[32], char *err,
		       size_t errlen)
{
	const struct salvo_hotfolder *hf = ud;
	char peer[sizeof(((struct salvo_conf_pin *)0)->peer)];

	peer_name(peer, sizeof(peer), hf->host,
		  hf->port ? hf->port : hf->cfg->network.port);
	return pin_peer(hf->cfg, peer, key, err, errlen);
}

int salvo_conf_pin_where(const salvo_send_opts *o, const char **known_hosts,
			 char *peer, size_t n)
{
	const struct salvo_config *cfg;

	if (o->has_peer_key)
		return SALVO_ERR_INVAL;
	if (o->pin == salvo_conf_pin_check) {
		const struct salvo_conf_pin *p = o->pin_ud;
		cfg = p->cfg;
		snprintf(peer, n, "%s", p->peer);
	} else if (o->pin == profile_pin) {
		const struct salvo_hotfolder *hf = o->pin_ud;
		cfg = hf->cfg;
		peer_name(peer, n, hf->host,
			  hf->port ? hf->port : cfg->network.port);
	} else {
		return SALVO_ERR_INVAL;
	}
	*known_hosts = cfg->security.known_hosts;
	return 0;
}

/* The receiver's key from a public key line or a file holding one. */
static int receiver_key(const char *text, const char *name, uint8_t key[32],
			char *err, size_t errlen)
{
	const char *why = NULL;

	if (strncmp(text, SALVO_KEY_TYPE, strlen(SALVO_KEY_TYPE)))
		return salvo_keyfile_read_public(text, key, err, errlen);
	if (!salvo_key_public_parse(text, strlen(text), key, &why))
		return 0;
	snprintf(err, errlen, "%s: not a public key: %s", name, why);
	return SALVO_ERR_KEY;
}

/* The sender's identity: key (keyfile) and receiver key (peer, NULL: pin
 * through pin/pin_ud). */
static int send_identity(const struct salvo_config *cfg, const char *keyfile,
			 const char *peer, const char *peer_name_,
			 salvo_send_opts *o, char *err, size_t errlen)
{
	char fp[SALVO_FINGERPRINT_SIZE];
	int created, rc;

	if (!cfg->security.anonymous) {
		if (!keyfile)
			return unresolved("security.key", err, errlen);
		if ((rc = salvo_conf_key_load_or_create(
			 cfg, keyfile, NULL, o->key_private, o->key_public,
			 &created, err, errlen)))
			return rc;
		o->has_key = 1;
		salvo_key_fingerprint(fp, o->key_public);
		if (created)
			notice(cfg, SALVO_LOG_WARN, "key_created",
			       "created the sender key %s (mode 0600), "
			       "fingerprint %s; a receiver serves it once its "
			       "authorized_keys lists it: 'salvo keygen --show "
			       "--dir FOLDER' prints that line",
			       keyfile, fp);
	}
	if (peer) {
		if ((rc = receiver_key(peer, peer_name_, o->peer_key, err,
				       errlen)))
			return rc;
		o->has_peer_key = 1;
		o->pin = NULL;
		o->pin_ud = NULL;
	}
	return 0;
}

/* Without a receiver key given, the key known_hosts already pins for
 * peer, if any, so the handshake need not ask for it first. */
static int pinned_key(const struct salvo_config *cfg, const char *peer,
		      salvo_send_opts *o, char *err, size_t errlen)
{
	const char *file = cfg->security.known_hosts;
	int rc;

	o->has_pinned_key = 0;
	if (o->has_peer_key || !file)
		return 0;
	rc = salvo_keyfile_known_host_find(file, peer, o->pinned_key, err,
					   errlen);
	if (rc < 0)
		return rc;
	o->has_pinned_key = rc;
	return 0;
}

int salvo_conf_send_identity(const struct salvo_config *cfg, salvo_send_opts *o,
			     struct salvo_conf_pin *pin, char *err,
			     size_t errlen)
{
	int rc;

	pin->cfg = cfg;
	peer_name(pin->peer, sizeof(pin->peer), o->host ? o->host : "",
		  o->port);
	o->pin = salvo_conf_pin_check;
	o->pin_ud = pin;
	rc = send_identity(cfg, cfg->security.key, cfg->security.receiver_key,
			   "security.receiver_key", o, err, errlen);
	return rc ? rc : pinned_key(cfg, pin->peer, o, err, errlen);
}

int salvo_conf_profile_identity(const struct salvo_config *cfg,
				const struct salvo_hotfolder *hf,
				salvo_send_opts *o, char *err, size_t errlen)
{
	char name[128];
	int rc;

	o->pin = profile_pin;
	o->pin_ud = (void *)hf; /* read only: profile_pin takes it const */
	snprintf(name, sizeof(name), "%s: receiver_key", hf->name);
	rc = send_identity(cfg, hf->key ? hf->key : cfg->security.key,
			   hf->receiver_key ? hf->receiver_key
					    : cfg->security.receiver_key,
			   name, o, err, errlen);
	if (!rc) {
		char peer[sizeof(((struct salvo_conf_pin *)0)->peer)];
		peer_name(peer, sizeof(peer), hf->host,
			  hf->port ? hf->port : cfg->network.port);
		rc = pinned_key(cfg, peer, o, err, errlen);
	}
	if (rc && !strstr(err, hf->name)) {
		char msg[1600];
		snprintf(msg, sizeof(msg), "%s: %s", hf->name, err);
		snprintf(err, errlen, "%s", msg);
	}
	return rc;
}
