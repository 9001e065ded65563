/*
 * One hot-folder profile: its defaults (from the profile key table), the
 * rules between its keys, and the one-folder profile that `salvo watch DIR
 * HOST` builds from flags.  A profile from YAML and one from flags are
 * checked by the same function; only the way a key is named in a message
 * differs ("hotfolders[0].post_action" at its line, or "--post").
 */
#include <stdlib.h>
#include <string.h>

#include "common/core/error.h"
#include "conf/keys.h"
#include "conf/units.h"

void salvo_conf_hotfolders_free(struct salvo_hotfolder *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		salvo_conf_keys_release(salvo_conf_profile_keys,
					salvo_conf_n_profile_keys, &list[i]);
	free(list);
}

int salvo_conf_profile_defaults(struct salvo_hotfolder *hf)
{
	char err[256];

	for (size_t k = 0; k < salvo_conf_n_profile_keys; k++) {
		const struct salvo_conf_keydesc *d =
		    &salvo_conf_profile_keys[k];
		/* a default that does not parse is a bug the tests catch */
		if (d->def && d->type != SALVO_CONF_T_GLOBS &&
		    salvo_conf_key_parse(d, hf, d->def, err, sizeof(err)))
			return SALVO_ERR_NOMEM;
	}
	return 0;
}

/* How profile key k is called in a message: the subject of the message
 * (prefix + key, or the flag) or a key it refers to (key, or the flag). */
static const char *pk_name(const char *prefix, int k, int subject, char *buf,
			   size_t n)
{
	const struct salvo_conf_keydesc *d = &salvo_conf_profile_keys[k];

	if (!prefix)
		snprintf(buf, n, "%s", d->flag ? d->flag : d->key);
	else
		snprintf(buf, n, "%s%s", subject ? prefix : "", d->key);
	return buf;
}

void salvo_conf_profile_check(const struct salvo_hotfolder *hf,
			      const char *prefix,
			      const struct salvo_conf_origin *where,
			      struct salvo_conf_diag *diag)
{
	int has_move = hf->move_to && *hf->move_to;
	char s[64], r1[64], r2[64], a[32], b[32];

#define AT(k) (where ? &where[k] : NULL)
	if (hf->post_action == SALVO_POST_MOVE && !has_move)
		salvo_conf_diag_add(
		    diag, AT(SALVO_CONF_PK_POST_ACTION),
		    "%s: move needs %s; allowed: set %s, or use delete or "
		    "keep",
		    pk_name(prefix, SALVO_CONF_PK_POST_ACTION, 1, s, 64),
		    pk_name(prefix, SALVO_CONF_PK_MOVE_TO, 0, r1, 64), r1);
	if (hf->post_action != SALVO_POST_MOVE && has_move)
		salvo_conf_diag_add(
		    diag, AT(SALVO_CONF_PK_MOVE_TO),
		    "%s: only used with %s move; allowed: remove %s, or set "
		    "%s move",
		    pk_name(prefix, SALVO_CONF_PK_MOVE_TO, 1, s, 64),
		    pk_name(prefix, SALVO_CONF_PK_POST_ACTION, 0, r1, 64),
		    pk_name(prefix, SALVO_CONF_PK_MOVE_TO, 0, r2, 64), r1);
	if (hf->retry_min_ns > hf->retry_max_ns)
		salvo_conf_diag_add(
		    diag, AT(SALVO_CONF_PK_RETRY_MIN),
		    "%s: %s is above %s %s; allowed: %s <= %s",
		    pk_name(prefix, SALVO_CONF_PK_RETRY_MIN, 1, s, 64),
		    salvo_units_format_time(hf->retry_min_ns, a, 32),
		    pk_name(prefix, SALVO_CONF_PK_RETRY_MAX, 0, r2, 64),
		    salvo_units_format_time(hf->retry_max_ns, b, 32),
		    pk_name(prefix, SALVO_CONF_PK_RETRY_MIN, 0, r1, 64), r2);
#undef AT
}

struct salvo_hotfolder *salvo_conf_profile_new(struct salvo_config *cfg)
{
	struct salvo_conf_origin o = {SALVO_CONF_FROM_FLAG, NULL, 0, 0};
	struct salvo_hotfolder *hf = calloc(1, sizeof(*hf));
	char err[64];

	if (!hf)
		return NULL;
	if (salvo_conf_profile_defaults(hf) ||
	    salvo_conf_key_parse(&salvo_conf_profile_keys[SALVO_CONF_PK_NAME],
				 hf, "watch", err, sizeof(err)) ||
	    !(o.name = salvo_conf_intern(cfg, "command line"))) {
		salvo_conf_hotfolders_free(hf, 1);
		return NULL;
	}
	hf->origin = o;
	hf->cfg = cfg;
	salvo_conf_hotfolders_free(cfg->hotfolders, cfg->n_hotfolders);
	cfg->hotfolders = hf;
	cfg->n_hotfolders = 1;
	cfg->origin[SALVO_CONF_HOTFOLDERS] = o;
	return hf;
}

int salvo_conf_profile_set(struct salvo_config *cfg, struct salvo_hotfolder *hf,
			   const char *key, const char *text, const char *where,
			   char *err, size_t errlen)
{
	int k = salvo_conf_table_index(salvo_conf_profile_keys,
				       salvo_conf_n_profile_keys, key);
	char why[512];
	int rc;

	(void)cfg;
	if (k < 0) {
		snprintf(err, errlen, "%s: unknown profile key '%s'", where,
			 key);
		return SALVO_ERR_INVAL;
	}
	rc = salvo_conf_key_parse(&salvo_conf_profile_keys[k], hf, text, why,
				  sizeof(why));
	if (rc == SALVO_ERR_INVAL)
		snprintf(err, errlen, "%s: %s: %s", where, key, why);
	return rc;
}

int salvo_conf_profile_finish(struct salvo_config *cfg,
			      struct salvo_conf_diag *diag)
{
	unsigned before = diag->count;

	for (size_t i = 0; i < cfg->n_hotfolders; i++)
		salvo_conf_profile_check(&cfg->hotfolders[i], NULL, NULL, diag);
	return diag->count != before ? SALVO_ERR_INVAL : 0;
}
