/*
 * The --events writer (see events.h).  A line is built with one
 * fprintf and flushed at once, so `tail -f` and a plot script see each
 * round as it ends; at 100 lines a second the flush costs nothing next to
 * the datagrams.  The cadence follows the RTT the core reports: a round
 * is what the rate control reasons in, so a line per round shows each of
 * its steps, bounded to 10-100 ms so a LAN does not flood the file and a
 * satellite hop still shows its start.
 */
#include "sender/engine/events.h"

#include <errno.h>
#include <string.h>

#define MS 1000000ull
#define MIN_INTERVAL_NS (10 * MS)
#define MAX_INTERVAL_NS (100 * MS)

int salvo_events_open(salvo_events *e, const char *path, uint64_t start,
		      char *msg, size_t len)
{
	memset(e, 0, sizeof(*e));
	e->start = start;
	e->last_t = start;
	e->next = start;
	if (!path)
		return 0;
	if (!strcmp(path, "-")) {
		e->f = stdout;
		return 0;
	}
	e->f = fopen(path, "a");
	if (!e->f) {
		int err = errno;
		snprintf(msg, len, "--events %s: %s", path, strerror(err));
		return -err;
	}
	e->own = 1;
	return 0;
}

uint64_t salvo_events_due(const salvo_events *e)
{
	return e->f ? e->next : UINT64_MAX;
}

static double mbps(uint64_t bps)
{
	return (double)bps / 1e6;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* A bound in Mbit/s, or null for none. */
static const char *limit(uint64_t bps, char *buf, size_t n)
{
	if (!bps || bps >= SALVO_RATE_NO_CEILING_BPS)
		return "null";
	snprintf(buf, n, "%.3f", mbps(bps));
	return buf;
}

void salvo_events_write(salvo_events *e, uint64_t now,
			const salvo_rate_snapshot *rs,
			const salvo_sender_stats *st)
{
	char c[32], f[32];
	if (!e->f)
		return;
	uint64_t dt = now > e->last_t ? now - e->last_t : 0;
	uint64_t got = st->bytes_acked > e->last_acked
			   ? st->bytes_acked - e->last_acked
			   : 0;
	double goodput = dt ? (double)got * 8e3 / (double)dt : 0;
	fprintf(e->f,
		"{\"t\":%.4f,\"state\":\"%s\",\"rate_mbps\":%.3f,"
		"\"delivery_mbps\":%.3f,\"goodput_mbps\":%.3f,"
		"\"rtt_min_ms\":%.3f,\"srtt_ms\":%.3f,\"queue_ms\":%.3f,"
		"\"loss_pct\":%.3f,\"acked_bytes\":%llu,\"sent_bytes\":%llu,"
		"\"retx_bytes\":%llu,\"ceiling_mbps\":%s,\"floor_mbps\":%s,"
		"\"train_mbps\":%.3f,\"start_exit\":%s%s%s,"
		"\"start_exit_mbps\":%.3f}\n",
		(double)(now - e->start) / 1e9, rs->state ? rs->state : "",
		mbps(rs->rate_bps), mbps(rs->delivery_bps), goodput,
		ms(rs->min_rtt_ns), ms(rs->srtt_ns), ms(rs->queue_ns),
		(double)rs->loss_ppm / 1e4, (unsigned long long)st->bytes_acked,
		(unsigned long long)st->bytes_new,
		(unsigned long long)st->bytes_retx,
		limit(rs->ceiling_bps, c, sizeof(c)),
		limit(rs->floor_bps, f, sizeof(f)), mbps(rs->train_bps),
		rs->start_exit ? "\"" : "",
		rs->start_exit ? rs->start_exit : "null",
		rs->start_exit ? "\"" : "", mbps(rs->start_exit_bps));
	fflush(e->f);
	e->last_t = now;
	e->last_acked = st->bytes_acked;
	uint64_t iv = rs->srtt_ns ? rs->srtt_ns : MAX_INTERVAL_NS;
	iv = iv < MIN_INTERVAL_NS   ? MIN_INTERVAL_NS
	     : iv > MAX_INTERVAL_NS ? MAX_INTERVAL_NS
				    : iv;
	e->next = now + iv;
}

void salvo_events_close(salvo_events *e)
{
	if (e->f && e->own)
		fclose(e->f);
	else if (e->f)
		fflush(e->f);
	e->f = NULL;
}
