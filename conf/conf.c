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
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
		/* a default that does not parse is a bug the tests catch;
		 * a list of globs starts empty */
		if (d->def && d->type != SALVO_CONF_T_GLOBS &&
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

static const char *kind_of(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO (named pipe)";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

/* 1 (reported) if st is not a regular file of at most MAX_FILE_BYTES. */
static int refused(const struct stat *st, const struct salvo_conf_origin *o,
		   struct salvo_conf_diag *diag)
{
	if (!S_ISREG(st->st_mode)) {
		salvo_conf_diag_add(diag, o,
				    "is %s; allowed: a regular file, or a "
				    "symlink to one",
				    kind_of(st->st_mode));
		return 1;
	}
	if (st->st_size > MAX_FILE_BYTES) {
		salvo_conf_diag_add(diag, o,
				    "%lld bytes, larger than 1MiB; allowed: a "
				    "configuration file up to 1MiB",
				    (long long)st->st_size);
		return 1;
	}
	return 0;
}

/*
 * A config file is looked at before it is opened, so a FIFO never blocks
 * the open and a device is never opened at all; the open is non-blocking
 * and checked again with fstat, in case the name changed in between.
 * Symlinks are followed: a config linked from elsewhere is common.
 */
int salvo_conf_load_file(struct salvo_config *cfg, const char *path,
			 int must_exist, struct salvo_conf_diag *diag)
{
	struct salvo_conf_origin o = {SALVO_CONF_FROM_FILE, path, 0, 0};
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, rc = SALVO_ERR_INVAL;

	if (stat(path, &st)) {
		if (errno == ENOENT && !must_exist)
			return 0;
		salvo_conf_diag_add(diag, &o, "cannot open: %s",
				    strerror(errno));
		return SALVO_ERR_INVAL;
	}
	if (refused(&st, &o, diag))
		return SALVO_ERR_INVAL;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		salvo_conf_diag_add(diag, &o, "cannot open: %s",
				    strerror(errno));
		return SALVO_ERR_INVAL;
	}
	if (fstat(fd, &st) || refused(&st, &o, diag) ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK))
		goto fail_open;
	if (!(buf = malloc(MAX_FILE_BYTES + 1))) {
		rc = SALVO_ERR_NOMEM;
		goto fail_open;
	}
	while (len <= MAX_FILE_BYTES) {
		ssize_t n = read(fd, buf + len, MAX_FILE_BYTES + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			salvo_conf_diag_add(diag, &o, "cannot read: %s",
					    strerror(errno));
			goto fail_read;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > MAX_FILE_BYTES) { /* it grew after the fstat */
		salvo_conf_diag_add(diag, &o,
				    "larger than 1MiB; allowed: a "
				    "configuration file up to 1MiB");
		goto fail_read;
	}
	rc = salvo_conf_load_buffer(cfg, path, buf, len, diag);
fail_read:
	free(buf);
fail_open:
	close(fd);
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
	    !(cfg->key_dir_why =
		  salvo_conf_intern(cfg, paths->root ? "root: SYSCONFDIR/salvo"
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
