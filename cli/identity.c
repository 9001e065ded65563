/*
 * The identity part of --json (cli/identity.h).  Only public facts are
 * printed: fingerprints, the files and what the options say; the keys'
 * bytes stay in the options.
 */
#include "cli/identity.h"

#include "cli/progress.h"
#include "common/crypto/keys.h"
#include "conf/engine_opts.h"

/* A JSON string, or null for NULL. */
static void put_str(FILE *out, const char *s)
{
	if (s)
		salvo_progress_json_string(out, s);
	else
		fputs("null", out);
}

static void put_fp(FILE *out, int has, const uint8_t key[32])
{
	char fp[SALVO_FINGERPRINT_SIZE];

	if (!has) {
		fputs("null", out);
		return;
	}
	salvo_key_fingerprint(fp, key);
	salvo_progress_json_string(out, fp);
}

void salvo_cli_send_identity_json(FILE *out, const struct salvo_config *cfg,
				  const salvo_send_opts *o)
{
	const char *kh = NULL;
	char peer[300];

	fputs("\"identity\": {\"key\": ", out);
	put_str(out, o->has_key ? cfg->security.key : NULL);
	fputs(", \"fingerprint\": ", out);
	put_fp(out, o->has_key, o->key_public);
	fprintf(out, ", \"anonymous\": %s, \"receiver_key\": ",
		o->has_key ? "false" : "true");
	put_fp(out, o->has_peer_key, o->peer_key);
	fputs(", \"pin\": ", out);
	if (salvo_conf_pin_where(o, &kh, peer, sizeof(peer))) {
		fputs("null", out);
	} else {
		fputs("{\"known_hosts\": ", out);
		put_str(out, kh);
		fputs(", \"as\": ", out);
		salvo_progress_json_string(out, peer);
		fprintf(out, ", \"pinned\": %s}",
			o->has_pinned_key ? "true" : "false");
	}
	fputc('}', out);
}

void salvo_cli_recv_identity_json(FILE *out, const struct salvo_config *cfg,
				  const salvo_recv_opts *o)
{
	const salvo_authkeys *ak = o->authkeys;

	fputs("\"identity\": {\"key\": ", out);
	put_str(out, cfg->security.key);
	fputs(", \"fingerprint\": ", out);
	put_fp(out, 1, o->key_public);
	fputs(", \"authorized_keys\": ", out);
	put_str(out, cfg->security.authorized_keys);
	fprintf(out, ", \"authorized\": %zu, \"allow_anonymous\": %s}",
		ak ? ak->count : 0, o->allow_anonymous ? "true" : "false");
}
