/*
 * libFuzzer target for the YAML loader: any bytes go through the loader
 * and the finisher as one configuration layer.  Besides the sanitizers'
 * checks it asserts two properties: a load that reports no error leaves a
 * config that `config show` writes and the loader reads back to the same
 * values, and an error always comes with a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/error.h"
#include "conf/config.h"

/* JSON values of cfg (sources cut), malloc'd; NULL when out of memory. */
static char *values(const struct salvo_config *cfg)
{
	char *text = NULL, *cut;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	if (!m)
		return NULL;
	salvo_conf_write(cfg, m, 1);
	fclose(m);
	if (text && (cut = strstr(text, ", \"sources\"")))
		*cut = '\0';
	return text;
}

static void round_trip(const struct salvo_config *cfg)
{
	struct salvo_config *again = salvo_conf_new();
	struct salvo_conf_diag diag;
	char *yaml = NULL, *a = NULL, *b = NULL;
	size_t len = 0;
	FILE *m;

	if (!again)
		return;
	if (!(m = open_memstream(&yaml, &len)))
		goto fail_stream;
	salvo_conf_write(cfg, m, 0);
	fclose(m);
	salvo_conf_diag_init(&diag);
	if (salvo_conf_load_buffer(again, "shown", yaml, len, &diag) ||
	    salvo_conf_finish(again, &diag)) {
		fprintf(stderr, "config show output does not load:\n%s\n%s",
			diag.text, yaml);
		abort();
	}
	a = values(cfg);
	b = values(again);
	if (a && b && strcmp(a, b)) {
		fprintf(stderr, "round trip differs:\n%s\n%s\n", a, b);
		abort();
	}
	free(a);
	free(b);
	free(yaml);
fail_stream:
	salvo_conf_del(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct salvo_config *cfg = salvo_conf_new();
	struct salvo_conf_diag diag;
	int rc;

	if (!cfg)
		return 0;
	salvo_conf_diag_init(&diag);
	rc = salvo_conf_load_buffer(cfg, "fuzz.yaml", (const char *)data, size,
				    &diag);
	if (rc != SALVO_ERR_NOMEM && salvo_conf_finish(cfg, &diag) == 0 &&
	    rc == 0)
		round_trip(cfg);
	if ((rc == SALVO_ERR_INVAL) != (diag.count > 0) && rc != 0) {
		fprintf(stderr, "rc %d with %u errors\n", rc, diag.count);
		abort();
	}
	if (diag.count && !diag.len) {
		fprintf(stderr, "errors without a message\n");
		abort();
	}
	salvo_conf_del(cfg);
	return 0;
}
