/*
 * The security.* files that a config leaves to "auto", resolved once the
 * last layer is in, so that `config show` prints the paths a command will
 * use and says why (origin AUTO), the way it explains an auto-sized
 * buffer.  The key and the known hosts live in the key folder
 * (salvo_conf_set_key_dir); the authorised keys live next to the key,
 * wherever it is, so a receiver given another key (--key /srv/rx/key)
 * finds its senders beside it.  The known hosts stay in the key folder
 * whatever key a sender uses: they are the user's trust in receivers, not
 * a property of one key (ssh -i keeps ~/.ssh/known_hosts too).  A value
 * the user set is never changed.  Nothing here touches the disk: reading
 * and creating the files is conf/identity.c's, when a command runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/error.h"
#include "conf/keys.h"

/* field = text, origin AUTO (why); 0 or SALVO_ERR_NOMEM. */
static int set_auto_path(struct salvo_config *cfg, enum salvo_conf_key k,
			 char **field, const char *text, const char *why)
{
	struct salvo_conf_origin o = {SALVO_CONF_FROM_AUTO, NULL, 0, 0};
	char *copy = strdup(text);

	if (!copy || !(o.name = salvo_conf_intern(cfg, why))) {
		free(copy);
		return SALVO_ERR_NOMEM;
	}
	free(*field);
	*field = copy;
	cfg->origin[k] = o;
	return 0;
}

/* "DIR/name" for the folder of file (with its '/'), or "name". */
static int beside(const char *file, const char *name, char *out, size_t n)
{
	const char *slash = strrchr(file, '/');
	int len = slash ? (int)(slash - file) + 1 : 0;

	return (size_t)snprintf(out, n, "%.*s%s", len, file, name) >= n;
}

int salvo_conf_security_finish(struct salvo_config *cfg)
{
	struct salvo_conf_security *sec = &cfg->security;
	const char *why = "next to security.key";
	char path[4200];
	int rc;

	if (!sec->key && cfg->key_dir) {
		snprintf(path, sizeof(path), "%s/key", cfg->key_dir);
		if ((rc = set_auto_path(cfg, SALVO_CONF_SECURITY_KEY, &sec->key,
					path, cfg->key_dir_why)))
			return rc;
	}
	if (!sec->known_hosts && cfg->key_dir) {
		snprintf(path, sizeof(path), "%s/known_hosts", cfg->key_dir);
		if ((rc = set_auto_path(cfg, SALVO_CONF_SECURITY_KNOWN_HOSTS,
					&sec->known_hosts, path,
					cfg->key_dir_why)))
			return rc;
	}
	if (!sec->key)
		return 0; /* no folder: a command that needs one says so */
	if (!sec->authorized_keys &&
	    !beside(sec->key, "authorized_keys", path, sizeof(path)) &&
	    (rc = set_auto_path(cfg, SALVO_CONF_SECURITY_AUTHORIZED_KEYS,
				&sec->authorized_keys, path, why)))
		return rc;
	return 0;
}
