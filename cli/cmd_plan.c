/*
 * salvo plan: memory and tuning for a link.  The link comes from the
 * configuration layers (link.bandwidth, link.rtt, link.loss, network.mtu,
 * memory.fudge) overridden by this command's flags, so a plan can be made
 * for what salvo.yaml already says.  The arithmetic is conf/plan.c; the
 * wording conf/plan_out.c.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "conf/config.h"
#include "conf/plan_out.h"
#include "conf/units.h"

static void usage(FILE *out)
{
	fputs("usage: salvo plan --bandwidth RATE --rtt TIME [--loss PCT] "
	      "[--mtu BYTES] [--fudge N] [--json]\n"
	      "       salvo plan --table [--loss PCT] [--fudge N] "
	      "[--block-size SIZE] [--threads N] [--json]\n\n"
	      "Prints the minimum in-flight data, bandwidth x RTT / 8, the "
	      "recommended memory\n"
	      "(x a fudge factor: 3 up to 0.5% loss, rising to 10 at 10%), "
	      "and a block size,\n"
	      "thread count, socket buffers and datagram size that cover it.\n"
	      "--table prints the recommended memory for common links and "
	      "marks the cells\n"
	      "that block size x threads (default 5 x 4MiB) does not cover.\n\n"
	      "  RATE: 300mbit, 1gbit, 50MB/s   TIME: 150ms, 1s   "
	      "PCT: 0.5%   BYTES: 1500, 9000\n"
	      "  --config FILE  read link hints from FILE too "
	      "(precedence: defaults, /etc, ~/.config, FILE, flags)\n"
	      "  --batch N, --send-sockets N, --recv-sockets N, "
	      "--memory-budget SIZE  as the\n"
	      "                 peers will run: the process memory lines "
	      "follow them\n",
	      out);
}

static int table(const struct salvo_config *cfg, int json)
{
	char blk[32], label[96];
	struct salvo_plan_table_spec spec = {
	    cfg->link.loss_ppm, cfg->memory.fudge_milli,
	    cfg->transfer.block_size_bytes * cfg->transfer.threads, label};

	snprintf(label, sizeof(label), "%u threads x %s blocks",
		 cfg->transfer.threads,
		 salvo_units_format_size(cfg->transfer.block_size_bytes, blk,
					 sizeof(blk)));
	return salvo_plan_write_table(&spec, stdout, json) ? SALVO_EXIT_FAILURE
							   : SALVO_EXIT_OK;
}

static int plan(const struct salvo_config *cfg, int json)
{
	struct salvo_plan_input in = {cfg->link.bandwidth_bps,
				      cfg->link.rtt_ns,
				      cfg->link.loss_ppm,
				      cfg->memory.fudge_milli,
				      cfg->network.mtu_bytes,
				      cfg->network.send_sockets,
				      cfg->network.recv_sockets,
				      cfg->network.batch,
				      cfg->receiver.memory_budget_bytes};
	struct salvo_plan p;
	char note[512];

	if (!in.bandwidth_bps || !in.rtt_ns) {
		fprintf(stderr, "salvo plan: needs --bandwidth and --rtt "
				"(e.g. --bandwidth 300mbit --rtt 150ms), or "
				"--table\n");
		return SALVO_EXIT_USAGE;
	}
	if (salvo_plan_compute(&in, &p)) {
		fprintf(stderr, "salvo plan: cannot plan for this link\n");
		return SALVO_EXIT_USAGE;
	}
	if (salvo_plan_write(&in, &p, stdout, json))
		return SALVO_EXIT_FAILURE;
	if (!json &&
	    salvo_plan_sockbuf_note(NULL, p.sndbuf_bytes, p.rcvbuf_bytes, note,
				    sizeof(note)))
		fprintf(stdout, "\n%s", note);
	return SALVO_EXIT_OK;
}

int salvo_cmd_plan(int argc, char **argv)
{
	struct salvo_conf_diag diag;
	struct salvo_config *cfg;
	char **rest;
	int nrest, json = 0, want_table = 0, rc = SALVO_EXIT_USAGE;

	salvo_conf_diag_init(&diag);
	cfg = salvo_conf_new_from_args(&salvo_conf_cmd_plan, argc, argv, &rest,
				       &nrest, &diag);
	if (!cfg)
		return SALVO_EXIT_FAILURE;
	if (diag.count) {
		fputs(diag.text, stderr);
		goto fail_args;
	}
	for (int i = 0; i < nrest; i++) {
		if (!strcmp(rest[i], "--json")) {
			json = 1;
		} else if (!strcmp(rest[i], "--table")) {
			want_table = 1;
		} else if (!strcmp(rest[i], "--help") ||
			   !strcmp(rest[i], "-h")) {
			usage(stdout);
			rc = SALVO_EXIT_OK;
			goto fail_args;
		} else {
			fprintf(stderr, "salvo plan: unknown argument '%s'\n",
				rest[i]);
			usage(stderr);
			goto fail_args;
		}
	}
	rc = want_table ? table(cfg, json) : plan(cfg, json);
fail_args:
	salvo_conf_del(cfg);
	free(rest);
	return rc;
}
