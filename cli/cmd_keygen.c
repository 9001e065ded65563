/*
 * salvo keygen [--out FILE] [--comment TEXT] [--force]
 * salvo keygen --show [--out FILE] [--dir FOLDER]
 *
 * Makes the key pair that salvo send, recv and watch use, or prints the
 * public half of an existing one.  FILE is security.key (the configuration
 * layers and --key/--out say which; default ~/.config/salvo/key, for root
 * SYSCONFDIR/salvo/key), so `salvo keygen` with no argument makes exactly
 * the key the other commands would make on first use, and says so.
 *
 * stdout carries only the key line, so it composes: `salvo keygen --show
 * --dir photos >>authorized_keys` on a receiver's behalf.  Everything for
 * the person (the files, the fingerprint, what to do next) goes to stderr.
 * An existing key is never replaced without --force: the senders that
 * pinned it, or the receivers that list it, would refuse the new one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/progress.h"
#include "common/core/error.h"
#include "common/crypto/keyfile.h"
#include "common/crypto/noise.h"
#include "conf/config.h"
#include "conf/engine_opts.h"

struct keygen_args {
	int show, force;
	const char *comment; /* NULL: user@host */
	const char *dir;     /* --show --dir: an authorised-keys line */
};

static void usage(FILE *out)
{
	fputs("usage: salvo keygen [--out FILE] [--comment TEXT] [--force]\n"
	      "       salvo keygen --show [--out FILE] [--dir FOLDER]\n"
	      "\n"
	      "Makes an X25519 key pair: FILE, the private key (mode 0600), "
	      "and FILE.pub,\n"
	      "its public line.  Prints the public line on stdout and the "
	      "fingerprint on\n"
	      "stderr.  With --show, prints the public line of an existing "
	      "key; with --dir,\n"
	      "as the line a receiver's authorized_keys needs to let this key "
	      "write below\n"
	      "FOLDER.  FILE is the key salvo send, recv and watch use "
	      "(security.key):\n"
	      "~/.config/salvo/key, for root /etc/salvo/key.\n"
	      "\n"
	      "options:\n"
	      "  --out, --key FILE  the private key file (security.key)\n"
	      "  --comment TEXT     comment of the public line (user@host)\n"
	      "  --force            replace an existing key (whoever pinned "
	      "or listed it will\n"
	      "                     refuse the new one)\n"
	      "  --show             print the public line of FILE; make "
	      "nothing\n"
	      "  --dir FOLDER       with --show: as an authorized_keys line "
	      "for FOLDER\n"
	      "  --config FILE      read settings from FILE too\n"
	      "  --help, -h         this text\n"
	      "\n"
	      "exit codes: 0 done; 1 the key cannot be read or written; 2 bad "
	      "usage, or FILE\n"
	      "exists (without --force).\n"
	      "\n"
	      "example, a new sender: salvo keygen --show --dir photos   # "
	      "send the output to\n"
	      "  the receiver's owner, who appends it to its "
	      "authorized_keys\n",
	      out);
}

/* "--opt V" or "--opt=V" of this command: 1 taken, 0 not it, -1 bad. */
static int opt_value(const char *name, char **rest, int nrest, int *i,
		     const char **value)
{
	size_t len = strlen(name);
	const char *s = rest[*i];

	if (strncmp(s, name, len) || (s[len] && s[len] != '='))
		return 0;
	if (s[len] == '=') {
		*value = s + len + 1;
		return 1;
	}
	if (*i + 1 >= nrest) {
		fprintf(stderr, "salvo keygen: %s needs a value\n", name);
		return -1;
	}
	*value = rest[++*i];
	return 1;
}

static int parse_rest(struct keygen_args *a, char **rest, int nrest)
{
	for (int i = 0; i < nrest; i++) {
		int rc;

		if (!strcmp(rest[i], "--show")) {
			a->show = 1;
		} else if (!strcmp(rest[i], "--force")) {
			a->force = 1;
		} else if ((rc = opt_value("--comment", rest, nrest, &i,
					   &a->comment)) ||
			   (rc =
				opt_value("--dir", rest, nrest, &i, &a->dir))) {
			if (rc < 0)
				return -1;
		} else {
			fprintf(stderr,
				"salvo keygen: %s '%s' (salvo keygen --help "
				"lists the options)\n",
				rest[i][0] == '-' ? "unknown option"
						  : "unexpected argument",
				rest[i]);
			return -1;
		}
	}
	if (a->dir && !a->show) {
		fprintf(stderr, "salvo keygen: --dir goes with --show\n");
		return -1;
	}
	if (a->show && (a->force || a->comment)) {
		fprintf(stderr, "salvo keygen: --show makes nothing; "
				"--force and --comment are for a new key\n");
		return -1;
	}
	return 0;
}

/* The comment of FILE.pub's line (after the key), or "". */
static void pub_comment(const char *path, char *out, size_t n)
{
	char pub[4200], line[1200], *p;
	FILE *f;

	out[0] = '\0';
	snprintf(pub, sizeof(pub), "%s.pub", path);
	if (!(f = fopen(pub, "r")))
		return;
	if (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		/* TYPE KEY comment */
		if ((p = strchr(line, ' ')) && (p = strchr(p + 1, ' ')))
			snprintf(out, n, "%s", p + 1 + strspn(p + 1, " "));
	}
	fclose(f);
}

/* The line for stdout: the public line, or with dir an authorised-keys
 * line ("salvo-x25519 KEY dir=FOLDER comment"). */
static int print_line(const uint8_t pub[32], const char *comment,
		      const char *dir)
{
	char line[1400], why[300];
	int n = salvo_key_public_text(line, sizeof(line), pub, NULL);

	if (n < 0)
		return n;
	if (dir) {
		if (salvo_conf_check_remote_dir(dir, why, sizeof(why)) ||
		    !*dir) {
			fprintf(stderr, "salvo keygen: --dir '%s' %s\n", dir,
				*dir ? why
				     : "is empty; allowed: a folder below the "
				       "receiver's root");
			return SALVO_ERR_INVAL;
		}
		printf(strpbrk(dir, " \t\"") ? "%s dir=\"%s\"" : "%s dir=%s",
		       line, dir);
	} else {
		fputs(line, stdout);
	}
	/* a comment must not start with NAME=VALUE in authorized_keys */
	if (comment && *comment)
		printf(" %s%s", strchr(comment, '=') ? "# " : "", comment);
	putchar('\n');
	return fflush(stdout) ? -errno : 0;
}

static int show(const char *path, const struct keygen_args *a)
{
	uint8_t priv[32], pub[32];
	char err[1200], fp[SALVO_FINGERPRINT_SIZE], comment[1000];
	int rc = salvo_keyfile_read_private(path, priv, err, sizeof(err));

	if (rc == -ENOENT) {
		fprintf(stderr,
			"salvo keygen: %s: no key yet; 'salvo keygen' "
			"makes one\n",
			path);
		return SALVO_EXIT_USAGE;
	}
	if (!rc && salvo_noise_public_key(pub, priv)) {
		snprintf(err, sizeof(err), "%s: not a usable X25519 key", path);
		rc = SALVO_ERR_KEY;
	}
	if (rc) {
		fprintf(stderr, "salvo keygen: %s\n", err);
		return rc == SALVO_ERR_KEY ? SALVO_EXIT_USAGE
					   : SALVO_EXIT_FAILURE;
	}
	pub_comment(path, comment, sizeof(comment));
	if ((rc = print_line(pub, comment, a->dir)))
		return rc == SALVO_ERR_INVAL ? SALVO_EXIT_USAGE
					     : SALVO_EXIT_FAILURE;
	salvo_key_fingerprint(fp, pub);
	fprintf(stderr, "salvo keygen: %s, fingerprint %s\n", path, fp);
	return SALVO_EXIT_OK;
}

static int make(const struct salvo_config *cfg, const char *path,
		const struct keygen_args *a)
{
	uint8_t priv[32], pub[32];
	char err[1200], fp[SALVO_FINGERPRINT_SIZE], who[300];
	int created = 0, rc;

	if (!a->force && !access(path, F_OK)) {
		fprintf(stderr,
			"salvo keygen: %s exists; 'salvo keygen --show' prints "
			"its public line, --force replaces it (senders that "
			"pinned it and receivers that list it will refuse the "
			"new key)\n",
			path);
		return SALVO_EXIT_USAGE;
	}
	salvo_conf_key_comment(who, sizeof(who));
	if (a->force && !access(path, F_OK)) {
		salvo_keyfile_generate(priv, pub);
		rc = salvo_conf_key_write(path, priv, pub,
					  a->comment ? a->comment : who, 1, err,
					  sizeof(err));
	} else {
		rc = salvo_conf_key_load_or_create(cfg, path, a->comment, priv,
						   pub, &created, err,
						   sizeof(err));
		if (!rc && !created)
			snprintf(err, sizeof(err),
				 "%s appeared while this ran; not replaced",
				 path);
		rc = rc ? rc : created ? 0 : -EEXIST;
	}
	if (rc) {
		fprintf(stderr, "salvo keygen: %s\n", err);
		return SALVO_EXIT_FAILURE;
	}
	if ((rc = print_line(pub, a->comment ? a->comment : who, NULL)))
		return SALVO_EXIT_FAILURE;
	salvo_key_fingerprint(fp, pub);
	fprintf(stderr,
		"salvo keygen: wrote %s (private, mode 0600) and %s.pub; "
		"fingerprint %s\n"
		"  a receiver lets this key write below FOLDER with the line "
		"of 'salvo keygen --show --dir FOLDER' in its "
		"authorized_keys\n",
		path, path, fp);
	return SALVO_EXIT_OK;
}

int salvo_cmd_keygen(int argc, char **argv)
{
	struct salvo_conf_diag diag;
	struct salvo_config *cfg;
	struct keygen_args a = {0};
	char **rest;
	int nrest, rc = SALVO_EXIT_USAGE;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return SALVO_EXIT_OK;
		}
	salvo_conf_diag_init(&diag);
	cfg = salvo_conf_new_from_args(&salvo_conf_cmd_keygen, argc, argv,
				       &rest, &nrest, &diag);
	if (!cfg) {
		fprintf(stderr, "salvo keygen: out of memory\n");
		return SALVO_EXIT_FAILURE;
	}
	salvo_conf_finish(cfg, &diag);
	if (diag.count) {
		salvo_progress_print_diag(stderr, "salvo keygen: ", &diag);
		goto done;
	}
	if (parse_rest(&a, rest, nrest))
		goto done;
	if (!cfg->security.key) {
		fprintf(stderr, "salvo keygen: no key folder ($HOME is not "
				"set); name the key with --out FILE\n");
		goto done;
	}
	if (salvo_crypto_init()) {
		fprintf(stderr, "salvo keygen: cannot initialise libsodium\n");
		rc = SALVO_EXIT_FAILURE;
		goto done;
	}
	rc = a.show ? show(cfg->security.key, &a)
		    : make(cfg, cfg->security.key, &a);
done:
	salvo_conf_del(cfg);
	free(rest);
	return rc;
}
