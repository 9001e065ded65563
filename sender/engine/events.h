/*
 * Rate telemetry (`salvo send --events FILE|-`): one JSON object per line,
 * every round trip but at most every 100 ms and at least 10 ms apart,
 * written from the rate control's snapshot (salvo_sender_rate_snapshot)
 * and the session's counters.  The core computes; this file only formats
 * and writes.  A line:
 *
 *   {"t":1.234,"state":"delay","rate_mbps":196.1,"delivery_mbps":195.0,
 *    "goodput_mbps":188.2,"rtt_min_ms":100.2,"srtt_ms":104.9,
 *    "queue_ms":4.1,"loss_pct":1.02,"acked_bytes":..., "sent_bytes":...,
 *    "retx_bytes":...,"ceiling_mbps":50.000,"floor_mbps":null,
 *    "train_mbps":201.3,"start_exit":"short","start_exit_mbps":380.2}
 *
 * t: seconds since the send began; rate: the pacing rate; delivery: what
 * the rate control measured arriving (IP bits); goodput: file bytes the
 * receiver gained since the last line; queue: the standing RTT above the
 * lowest; loss: the random loss the rate control measured; ceiling and
 * floor: the bounds in force (--rate, --min-rate, or as a control
 * socket moved them), null for none; start_exit: why start-up ended
 * (null while it runs, or for a policy without one) and the pacing
 * rate it ended at.
 *
 * One owner thread (the engine's watcher); not thread-safe.
 */
#ifndef SALVO_SEND_EVENTS_H
#define SALVO_SEND_EVENTS_H

#include <stdint.h>
#include <stdio.h>

#include "common/core/rate.h"
#include "sender/core/sender.h"

typedef struct salvo_events {
	FILE *f; /* NULL: off */
	int own; /* f is ours to close (not stdout) */
	uint64_t start;
	uint64_t next; /* when the next line is due */
	uint64_t last_t, last_acked;
} salvo_events;

/* Opens path for appending ("-": standard output; NULL: events off, and
 * every other call does nothing).  start: the session's start on the
 * monotonic clock.  0, or -errno with a message in msg. */
int salvo_events_open(salvo_events *e, const char *path, uint64_t start,
		      char *msg, size_t len);

/* When the next line is due (UINT64_MAX: off). */
uint64_t salvo_events_due(const salvo_events *e);

/* Writes a line at now and schedules the next one from the RTT.  Errors
 * of the write are ignored: telemetry never ends a transfer. */
void salvo_events_write(salvo_events *e, uint64_t now,
			const salvo_rate_snapshot *rs,
			const salvo_sender_stats *st);

/* Flushes and closes (a file, not standard output).  Safe when off. */
void salvo_events_close(salvo_events *e);

#endif
