/*
 * The config's lifetime and its layers: defaults from the key table, the
 * three files in precedence order, and command-line flags.  Each layer
 * writes over the same struct and stamps the origin of what it set, so
 * precedence is simply the order of the calls and `config show` can say
 * where each value came from.  The file locations are parameters (with an
 * environment helper) so tests never read the machine's /etc or $HOME.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/error.h"
#include "conf/keys.h"

#define MAX_FILE_BYTES (1024 * 1024)

int salvo_conf_key_index(const char *key)
{
	for (int i = 0; i < SALVO_CONF_NKEYS; i++)
		if (!strcmp(salvo_conf_keys[i].key, key))
			return i;
	return -1;
}

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

int salvo_conf_set_flag(struct salvo_config *cfg, const char *key,
			const char *value, const char *flag, char *err,
			size_t errlen)
{
	struct salvo_conf_origin o = {SALVO_CONF_FROM_FLAG, NULL, 0, 0};
	int idx = salvo_conf_key_index(key);
	char why[512];
	int rc;

	if (idx < 0 || idx == SALVO_CONF_HOTFOLDERS) {
		snprintf(err, errlen, "%s: unknown key '%s'", flag, key);
		return SALVO_ERR_INVAL;
	}
	if (!(o.name = salvo_conf_intern(cfg, flag)))
		return SALVO_ERR_NOMEM;
	rc = salvo_conf_key_parse(&salvo_conf_keys[idx], cfg, value, why,
				  sizeof(why));
	if (rc == SALVO_ERR_INVAL)
		snprintf(err, errlen, "%s: %s: %s", flag, key, why);
	if (rc)
		return rc;
	cfg->origin[idx] = o;
	return 0;
}

/* The key for flag in table (or in the key table when table is NULL). */
static const char *flag_key(const struct salvo_conf_flag *table,
			    const char *flag, size_t flen)
{
	if (!table) {
		for (int i = 0; i < SALVO_CONF_NKEYS; i++) {
			const char *f = salvo_conf_keys[i].flag;
			if (f && strlen(f) == flen && !strncmp(f, flag, flen))
				return salvo_conf_keys[i].key;
		}
		return NULL;
	}
	for (; table->flag; table++)
		if (strlen(table->flag) == flen &&
		    !strncmp(table->flag, flag, flen))
			return table->key;
	return NULL;
}

int salvo_conf_take_flag(struct salvo_config *cfg,
			 const struct salvo_conf_flag *table, int argc,
			 char **argv, int *i, char *err, size_t errlen)
{
	const char *arg = argv[*i], *eq = strchr(arg, '=');
	size_t flen = eq ? (size_t)(eq - arg) : strlen(arg);
	const char *key = flag_key(table, arg, flen);
	char flag[64];
	int rc;

	if (!key)
		return 0;
	snprintf(flag, sizeof(flag), "%.*s", (int)flen, arg);
	if (!eq && *i + 1 >= argc) {
		char allowed[160];
		int idx = salvo_conf_key_index(key);
		snprintf(err, errlen, "%s: %s: needs a value; allowed: %s",
			 flag, key,
			 idx < 0 ? "?"
				 : salvo_conf_key_allowed(&salvo_conf_keys[idx],
							  allowed,
							  sizeof(allowed)));
		return SALVO_ERR_INVAL;
	}
	rc = salvo_conf_set_flag(cfg, key, eq ? eq + 1 : argv[*i + 1], flag,
				 err, errlen);
	if (rc)
		return rc;
	*i += eq ? 1 : 2;
	return 1;
}

int salvo_conf_from_args(struct salvo_config *cfg,
			 const struct salvo_conf_paths *paths,
			 const struct salvo_conf_flag *table, int argc,
			 char **argv, char **rest, int *nrest,
			 struct salvo_conf_diag *diag)
{
	struct salvo_conf_paths p = *paths;
	unsigned before = diag->count;
	char err[600];
	int rc;

	*nrest = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			p.config_file = argv[++i];
		else if (!strncmp(argv[i], "--config=", 9))
			p.config_file = argv[i] + 9;
		else if (!strcmp(argv[i], "--config"))
			salvo_conf_diag_add(diag, NULL,
					    "--config: needs a file name");
	}
	if (salvo_conf_load_layers(cfg, &p, diag) == SALVO_ERR_NOMEM)
		return SALVO_ERR_NOMEM;
	for (int i = 1; i < argc;) {
		if (!strcmp(argv[i], "--config")) {
			i += 2;
			continue;
		}
		if (!strncmp(argv[i], "--config=", 9)) {
			i++;
			continue;
		}
		rc = salvo_conf_take_flag(cfg, table, argc, argv, &i, err,
					  sizeof(err));
		if (rc == SALVO_ERR_NOMEM)
			return rc;
		if (rc < 0) {
			salvo_conf_diag_add(diag, NULL, "%s", err);
			i += strchr(argv[i], '=') ? 1 : 2;
		} else if (rc == 0) {
			rest[(*nrest)++] = argv[i++];
		}
	}
	return diag->count != before ? SALVO_ERR_INVAL : 0;
}

struct salvo_config *
salvo_conf_new_from_args(const struct salvo_conf_flag *table, int argc,
			 char **argv, char ***rest, int *nrest,
			 struct salvo_conf_diag *diag)
{
	struct salvo_conf_paths paths;
	struct salvo_config *cfg;

	if (!(*rest = calloc((size_t)argc + 1, sizeof(**rest))))
		return NULL;
	if (!(cfg = salvo_conf_new()))
		goto fail_cfg;
	salvo_conf_paths_from_env(&paths);
	if (salvo_conf_from_args(cfg, &paths, table, argc, argv, *rest, nrest,
				 diag) == SALVO_ERR_NOMEM)
		goto fail_args;
	return cfg;
fail_args:
	salvo_conf_del(cfg);
fail_cfg:
	free(*rest);
	*rest = NULL;
	return NULL;
}
