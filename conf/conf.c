/*
 * The config's lifetime and its file layers: defaults from the key table,
 * then the three files in precedence order (command-line flags are
 * conf/flags.c).  Each layer writes over the same struct and stamps the
 * origin of what it set, so precedence is simply the order of the calls
 * and `config show` can say where each value came from.  The file
 * locations are parameters (with an environment helper) so tests never
 * read the machine's /etc or $HOME.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/core/error.h"
#include "conf/keys.h"

#define MAX_FILE_BYTES (1024 * 1024)

const struct salvo_conf_origin *
salvo_conf_origin_of(const struct salvo_config *cfg, enum salvo_conf_key key)
{
	return &cfg->origin[key];
}

struct salvo_config *salvo_conf_new(void)
{
	struct salvo_config *cfg = calloc(1, sizeof(*cfg));
	char err[256];

	if (!cfg)
		return NULL;
	for (int i = 0; i < SALVO_CONF_NKEYS; i++) {
		const struct salvo_conf_keydesc *d = &salvo_conf_keys[i];
		/* a default that does not parse is a bug the tests catch */
		if (d->def &&
		    salvo_conf_key_parse(d, cfg, d->def, err, sizeof(err)))
			goto fail_default;
	}
	return cfg;
fail_default:
	salvo_conf_del(cfg);
	return NULL;
}

void salvo_conf_del(struct salvo_config *cfg)
{
	if (!cfg)
		return;
	salvo_conf_keys_release(salvo_conf_keys, SALVO_CONF_NKEYS, cfg);
	salvo_conf_hotfolders_free(cfg->hotfolders, cfg->n_hotfolders);
	for (size_t i = 0; i < cfg->n_names; i++)
		free(cfg->names[i]);
	free(cfg->names);
	free(cfg);
}

int salvo_conf_load_file(struct salvo_config *cfg, const char *path,
			 int must_exist, struct salvo_conf_diag *diag)
{
	struct salvo_conf_origin o = {SALVO_CONF_FROM_FILE, path, 0, 0};
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (!(f = fopen(path, "rb"))) {
		if (errno == ENOENT && !must_exist)
			return 0;
		salvo_conf_diag_add(diag, &o, "cannot open: %s",
				    strerror(errno));
		return SALVO_ERR_INVAL;
	}
	if (!(buf = malloc(MAX_FILE_BYTES + 1))) {
		rc = SALVO_ERR_NOMEM;
		goto fail_buf;
	}
	len = fread(buf, 1, MAX_FILE_BYTES + 1, f);
	if (ferror(f) || len > MAX_FILE_BYTES) {
		salvo_conf_diag_add(diag, &o, "%s",
				    ferror(f) ? "cannot read the file"
					      : "larger than 1MiB; allowed: "
						"a configuration file up to "
						"1MiB");
		rc = SALVO_ERR_INVAL;
		goto fail_read;
	}
	rc = salvo_conf_load_buffer(cfg, path, buf, len, diag);
fail_read:
	free(buf);
fail_buf:
	fclose(f);
	return rc;
}

void salvo_conf_paths_from_env(struct salvo_conf_paths *paths)
{
	const char *sys = getenv("SALVO_SYSCONFDIR");
	const char *skip = getenv("SALVO_NO_USER_CONFIG");

	paths->sysconfdir = sys && *sys ? sys : "/etc";
	paths->home = skip && !strcmp(skip, "1") ? NULL : getenv("HOME");
	paths->config_file = NULL;
	paths->user_home = getenv("HOME");
	paths->root = geteuid() == 0;
}

int salvo_conf_set_key_dir(struct salvo_config *cfg,
			   const struct salvo_conf_paths *paths)
{
	const char *base = paths->root ? paths->sysconfdir : paths->user_home;
	char dir[4096];

	cfg->key_dir = cfg->key_dir_why = NULL;
	if (!base || !*base ||
	    (size_t)snprintf(dir, sizeof(dir), "%s%s", base,
			     paths->root ? "/salvo" : "/.config/salvo") >=
		sizeof(dir))
		return 0;
	if (!(cfg->key_dir = salvo_conf_intern(cfg, dir)) ||
	    !(cfg->key_dir_why = salvo_conf_intern(
		  cfg, paths->root ? "root: SYSCONFDIR/salvo"
				   : "~/.config/salvo")))
		return SALVO_ERR_NOMEM;
	return 0;
}

int salvo_conf_load_layers(struct salvo_config *cfg,
			   const struct salvo_conf_paths *paths,
			   struct salvo_conf_diag *diag)
{
	static const char *const rel[2] = {"/salvo/salvo.yaml",
					   "/.config/salvo/salvo.yaml"};
	const char *dirs[2] = {paths->sysconfdir, paths->home};
	int rc, worst = 0;

	for (int i = 0; i < 2; i++) {
		char path[4096];
		if (!dirs[i] || !*dirs[i])
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s%s", dirs[i],
				     rel[i]) >= sizeof(path))
			continue;
		if ((rc = salvo_conf_load_file(cfg, path, 0, diag)))
			worst = worst == SALVO_ERR_NOMEM ? worst : rc;
	}
	if (paths->config_file &&
	    (rc = salvo_conf_load_file(cfg, paths->config_file, 1, diag)))
		worst = worst == SALVO_ERR_NOMEM ? worst : rc;
	return worst;
}
