/*
 * Command-line flags: the top layer of the configuration.  Which
 * subcommand takes which flag is a column of the key table, so a key's
 * flag, its range and its default are written once; the subcommands only
 * add short aliases here.  A flag that is another subcommand's ("recv
 * --mtu") or an old spelling ("--dest") is refused with a message that
 * says what to use instead, never ignored.  The one-folder profile of
 * `salvo watch` takes the profile keys' flags through the same parser.
 */
#include <stdlib.h>
#include <string.h>

#include "common/core/error.h"
#include "conf/keys.h"

static const struct salvo_conf_flag send_aliases[] = {
    {"-p", "network.port"},
    {"-r", "transfer.rate"},
    {"--sockets", "network.send_sockets"},
    {NULL, NULL},
};
static const struct salvo_conf_flag recv_aliases[] = {
    {"--dir", "receiver.root"},
    {"-d", "receiver.root"},
    {"-p", "network.port"},
    {"--sockets", "network.recv_sockets"},
    {NULL, NULL},
};

const struct salvo_conf_cmd salvo_conf_cmd_send = {"send", SALVO_CONF_CMD_SEND,
						   send_aliases, 0};
const struct salvo_conf_cmd salvo_conf_cmd_recv = {"recv", SALVO_CONF_CMD_RECV,
						   recv_aliases, 0};
const struct salvo_conf_cmd salvo_conf_cmd_watch = {
    "watch", SALVO_CONF_CMD_WATCH, send_aliases, 1};
const struct salvo_conf_cmd salvo_conf_cmd_plan = {"plan", SALVO_CONF_CMD_PLAN,
						   NULL, 0};
static const struct salvo_conf_flag keygen_aliases[] = {
    {"--out", "security.key"},
    {NULL, NULL},
};
const struct salvo_conf_cmd salvo_conf_cmd_keygen = {
    "keygen", SALVO_CONF_CMD_KEYGEN, keygen_aliases, 0};
const struct salvo_conf_cmd salvo_conf_cmd_all = {"config", 0, NULL, 0};

static int same(const char *flag, const char *arg, size_t len)
{
	return flag && strlen(flag) == len && !strncmp(flag, arg, len);
}

/* The key of arg[0..len) among cmd's flags, or -1. */
static int cmd_key(const struct salvo_conf_cmd *cmd, const char *arg,
		   size_t len)
{
	for (int k = 0; k < SALVO_CONF_NKEYS; k++)
		if (same(salvo_conf_keys[k].flag, arg, len) &&
		    (!cmd->bit || (salvo_conf_keys[k].cmds & cmd->bit)))
			return k;
	for (const struct salvo_conf_flag *a = cmd->aliases; a && a->flag; a++)
		if (same(a->flag, arg, len))
			return salvo_conf_key_index(a->key);
	return -1;
}

/* The key whose own flag is arg[0..len), whoever takes it, or -1. */
static int any_key(const char *arg, size_t len)
{
	return cmd_key(&salvo_conf_cmd_all, arg, len);
}

/* The profile key whose flag is arg[0..len), or -1. */
static int profile_key(const char *arg, size_t len)
{
	for (size_t k = 0; k < salvo_conf_n_profile_keys; k++)
		if (same(salvo_conf_profile_keys[k].flag, arg, len))
			return (int)k;
	return -1;
}

int salvo_conf_cmd_takes(const struct salvo_conf_cmd *cmd,
			 enum salvo_conf_key k)
{
	const char *flag = salvo_conf_keys[k].flag;

	if (flag && cmd_key(cmd, flag, strlen(flag)) == (int)k)
		return 1;
	for (const struct salvo_conf_flag *a = cmd->aliases; a && a->flag; a++)
		if (!strcmp(a->key, salvo_conf_keys[k].key))
			return 1;
	return 0;
}

/* "send, watch and plan": the subcommands that take key k's flag. */
static char *takers(const struct salvo_conf_keydesc *d, char *buf, size_t n)
{
	static const char *const names[] = {"send", "recv", "watch", "plan",
					    "keygen"};
	const unsigned nb = sizeof(names) / sizeof(names[0]);
	size_t len = 0, count = 0, seen = 0;

	for (unsigned b = 0; b < nb; b++)
		count += (d->cmds >> b) & 1;
	buf[0] = '\0';
	for (unsigned b = 0; b < nb && len < n; b++) {
		if (!((d->cmds >> b) & 1))
			continue;
		seen++;
		len += (size_t)snprintf(buf + len, n - len, "%s%s",
					seen == 1	? ""
					: seen == count ? " and "
							: ", ",
					names[b]);
	}
	return buf;
}

/* The flag's value ("--flag=V" or "--flag V"; a true/false flag alone
 * is "true") into *value, or an error. */
static int flag_value(const struct salvo_conf_keydesc *d, int argc, char **argv,
		      int i, const char *eq, const char **value)
{
	if (eq) {
		*value = eq + 1;
		return 0;
	}
	if (d->type == SALVO_CONF_T_BOOL) {
		*value = "true";
		return 0;
	}
	if (i + 1 >= argc)
		return SALVO_ERR_INVAL;
	*value = argv[i + 1];
	return 0;
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

int salvo_conf_take_flag(struct salvo_config *cfg,
			 const struct salvo_conf_cmd *cmd, int argc,
			 char **argv, int *i, char *err, size_t errlen)
{
	const char *arg = argv[*i], *eq = strchr(arg, '='), *value, *renamed;
	size_t flen = eq ? (size_t)(eq - arg) : strlen(arg);
	char flag[64], allowed[160], who[64];
	int k, rc;

	if (arg[0] != '-')
		return 0;
	snprintf(flag, sizeof(flag), "%.*s", (int)flen, arg);
	if ((renamed =
		 salvo_conf_renamed_to(salvo_conf_renamed_flags, arg, flen))) {
		snprintf(err, errlen,
			 "%s: renamed; allowed: %s (the same "
			 "value)",
			 flag, renamed);
		return SALVO_ERR_INVAL;
	}
	if ((k = cmd_key(cmd, arg, flen)) < 0) {
		if (cmd->profile && profile_key(arg, flen) >= 0)
			return 0; /* salvo_conf_profile_take_flag's */
		if ((k = any_key(arg, flen)) < 0)
			return 0;
		snprintf(err, errlen,
			 "%s: %s is a setting of salvo %s; salvo %s does not "
			 "take it",
			 flag, salvo_conf_keys[k].key,
			 takers(&salvo_conf_keys[k], who, sizeof(who)),
			 cmd->name);
		return SALVO_ERR_INVAL;
	}
	if (flag_value(&salvo_conf_keys[k], argc, argv, *i, eq, &value)) {
		snprintf(err, errlen, "%s: %s: needs a value; allowed: %s",
			 flag, salvo_conf_keys[k].key,
			 salvo_conf_key_allowed(&salvo_conf_keys[k], allowed,
						sizeof(allowed)));
		return SALVO_ERR_INVAL;
	}
	rc = salvo_conf_set_flag(cfg, salvo_conf_keys[k].key, value, flag, err,
				 errlen);
	if (rc)
		return rc;
	*i += eq || salvo_conf_keys[k].type == SALVO_CONF_T_BOOL ? 1 : 2;
	return 1;
}

int salvo_conf_profile_take_flag(struct salvo_config *cfg,
				 struct salvo_hotfolder *hf, int argc,
				 char **argv, int *i, char *err, size_t errlen)
{
	const char *arg = argv[*i], *eq = strchr(arg, '='), *value;
	size_t flen = eq ? (size_t)(eq - arg) : strlen(arg);
	int k = profile_key(arg, flen), rc;
	const struct salvo_conf_keydesc *d;
	char allowed[160], why[512];

	(void)cfg;
	if (k < 0)
		return 0;
	d = &salvo_conf_profile_keys[k];
	if (flag_value(d, argc, argv, *i, eq, &value)) {
		snprintf(err, errlen, "%s: %s: needs a value; allowed: %s",
			 d->flag, d->key,
			 salvo_conf_key_allowed(d, allowed, sizeof(allowed)));
		return SALVO_ERR_INVAL;
	}
	rc = salvo_conf_key_parse(d, hf, value, why, sizeof(why));
	if (rc == SALVO_ERR_INVAL)
		snprintf(err, errlen, "%s: %s: %s", d->flag, d->key, why);
	if (rc)
		return rc;
	*i += eq ? 1 : 2;
	return 1;
}

/* How many arguments a refused flag spans: its value is skipped with it,
 * except after '=' and for a true/false flag, which takes none. */
static int words_of(const char *arg)
{
	const char *eq = strchr(arg, '=');
	int k = any_key(arg, eq ? (size_t)(eq - arg) : strlen(arg));

	return eq || (k >= 0 && salvo_conf_keys[k].type == SALVO_CONF_T_BOOL)
		   ? 1
		   : 2;
}

int salvo_conf_from_args(struct salvo_config *cfg,
			 const struct salvo_conf_paths *paths,
			 const struct salvo_conf_cmd *cmd, int argc,
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
	if (salvo_conf_load_layers(cfg, &p, diag) == SALVO_ERR_NOMEM ||
	    salvo_conf_set_key_dir(cfg, &p))
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
		if (!strcmp(argv[i], "--")) {
			while (i < argc)
				rest[(*nrest)++] = argv[i++];
			break;
		}
		rc = salvo_conf_take_flag(cfg, cmd, argc, argv, &i, err,
					  sizeof(err));
		if (rc == SALVO_ERR_NOMEM)
			return rc;
		if (rc < 0) {
			salvo_conf_diag_add(diag, NULL, "%s", err);
			i += words_of(argv[i]);
		} else if (rc == 0) {
			rest[(*nrest)++] = argv[i++];
		}
	}
	return diag->count != before ? SALVO_ERR_INVAL : 0;
}

struct salvo_config *salvo_conf_new_from_args(const struct salvo_conf_cmd *cmd,
					      int argc, char **argv,
					      char ***rest, int *nrest,
					      struct salvo_conf_diag *diag)
{
	struct salvo_conf_paths paths;
	struct salvo_config *cfg;

	if (!(*rest = calloc((size_t)argc + 1, sizeof(**rest))))
		return NULL;
	if (!(cfg = salvo_conf_new()))
		goto fail_cfg;
	salvo_conf_paths_from_env(&paths);
	if (salvo_conf_from_args(cfg, &paths, cmd, argc, argv, *rest, nrest,
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
