/*
 * `salvo plan` output: the plan for one link and the recommended-memory
 * table, as text for people or JSON for programs, into any stdio stream
 * (tests use open_memstream).  Writers return 0 or -errno from the stream.
 */
#ifndef SALVO_CONF_PLAN_OUT_H
#define SALVO_CONF_PLAN_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf/plan.h"

/* The plan for *in, as computed by salvo_plan_compute into *p. */
int salvo_plan_write(const struct salvo_plan_input *in,
		     const struct salvo_plan *p, FILE *out, int json);

struct salvo_plan_table_spec {
	uint64_t loss_ppm;    /* picks the fudge factor when fudge_milli is 0 */
	uint64_t fudge_milli; /* 0: from loss_ppm */
	uint64_t cover_bytes; /* cells above it are marked: block × threads */
	const char *cover_label; /* "5 threads x 4MiB blocks" */
};

/*
 * The table of salvo_plan_table_mbit × salvo_plan_table_ms: each cell the
 * recommended memory in decimal MB with two decimals (rounded half up from
 * the exact byte count), '*' after cells above cover_bytes (JSON:
 * "covered": false).
 */
int salvo_plan_write_table(const struct salvo_plan_table_spec *spec, FILE *out,
			   int json);

/*
 * Compares the planned socket buffers with the kernel's caps
 * (PROCDIR/sys/net/core/wmem_max and rmem_max; procdir NULL: "/proc").
 * When a cap is below the plan, writes one line per cap into buf saying so,
 * with the sysctl that raises it, and returns 1; else returns 0 with buf
 * empty.  An unreadable cap is not reported.
 */
int salvo_plan_sockbuf_note(const char *procdir, uint64_t sndbuf_bytes,
			    uint64_t rcvbuf_bytes, char *buf, size_t n);

#endif
