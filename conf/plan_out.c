/*
 * The planner's results for people (labelled units, the formula spelled
 * out with the numbers put in) and for programs (JSON, integers in base
 * units plus the decimal-MB figures shown).  Decimal figures are printed
 * from integers (bytes / 10^6), never through floating point, so the text
 * is the exact value of the formula; table cells are rounded half up to two
 * decimals.  Also the one check of the OS limits on socket buffers, so the
 * CLI and the engines word it the same way.
 */
#include <errno.h>
#include <stdio.h>

#include "conf/plan.h"
#include "conf/plan_out.h"
#include "conf/units.h"

/* bytes as decimal MB, rounded half up to two decimals. */
static char *mb2(uint64_t bytes, char *buf, size_t n)
{
	uint64_t cents = bytes / 10000 + (bytes % 10000 >= 5000);
	snprintf(buf, n, "%llu.%02llu", (unsigned long long)(cents / 100),
		 (unsigned long long)(cents % 100));
	return buf;
}

static int done(FILE *out)
{
	if (fflush(out) || ferror(out))
		return errno ? -errno : -EIO;
	return 0;
}

/* The process-memory lines of the text plan (conf/plan.h). */
static void write_memory(const struct salvo_plan_input *in,
			 const struct salvo_plan *p, FILE *out)
{
	const struct salvo_plan_memory *m = &p->mem;
	char blk[32], th[32], snd[32], sock[32], rcv[32], budget[32];

	salvo_units_format_size(p->block_size_bytes, blk, sizeof(blk));
	mb2(m->sender_thread_bytes, th, sizeof(th));
	mb2(m->sender_bytes, snd, sizeof(snd));
	mb2(m->receiver_socket_bytes, sock, sizeof(sock));
	mb2(m->receiver_bytes, rcv, sizeof(rcv));
	if (in->recv_budget_bytes)
		salvo_units_format_size(in->recv_budget_bytes, budget,
					sizeof(budget));
	else
		snprintf(budget, sizeof(budget), "unlimited");
	fprintf(out,
		"process memory        sender: %llu x %s blocks + %llu x %s MB "
		"per thread\n"
		"                      (%llu datagrams, LZ4 HC state) = %s MB\n"
		"                      receiver: %llu sockets x %s MB (%llu x "
		"64KiB receive slots,\n"
		"                      4MiB of LZ4 inflate buffers) = %s MB, "
		"plus its sessions'\n"
		"                      bookkeeping, at most "
		"receiver.memory_budget (%s)\n\n",
		(unsigned long long)p->threads, blk,
		(unsigned long long)p->threads, th,
		(unsigned long long)(in->batch ? in->batch : 1), snd,
		(unsigned long long)in->recv_sockets, sock,
		(unsigned long long)(in->batch ? in->batch : 1), rcv, budget);
}

static void write_text(const struct salvo_plan_input *in,
		       const struct salvo_plan *p, FILE *out)
{
	char bw[32], rtt_s[32], rtt_ms[32], loss[32], fudge[32], minf[32],
	    rec[32], mem[32], blk[32], sb[32], rb[32];

	salvo_units_format_fixed(in->bandwidth_bps, 6, bw, sizeof(bw));
	salvo_units_format_fixed(in->rtt_ns, 9, rtt_s, sizeof(rtt_s));
	salvo_units_format_fixed(in->rtt_ns, 6, rtt_ms, sizeof(rtt_ms));
	salvo_units_format_loss(in->loss_ppm, loss, sizeof(loss));
	salvo_units_format_factor(p->fudge_milli, fudge, sizeof(fudge));
	salvo_units_format_fixed(p->min_inflight_bytes, 6, minf, sizeof(minf));
	salvo_units_format_fixed(p->recommended_bytes, 6, rec, sizeof(rec));
	salvo_units_format_fixed(p->memory_bytes, 6, mem, sizeof(mem));
	salvo_units_format_size(p->block_size_bytes, blk, sizeof(blk));
	salvo_units_format_size(p->sndbuf_bytes, sb, sizeof(sb));
	salvo_units_format_size(p->rcvbuf_bytes, rb, sizeof(rb));

	fprintf(out,
		"link: %s Mbit/s, RTT %s ms, loss %s, MTU %llu bytes "
		"(1 MB = 1,000,000 bytes)\n\n",
		bw, rtt_ms, loss, (unsigned long long)in->mtu_bytes);
	fprintf(out,
		"minimum in flight     bandwidth (Mbit/s) x RTT (s) / 8\n"
		"                      = %s x %s / 8 = %s MB\n",
		bw, rtt_s, minf);
	if (in->fudge_milli)
		fprintf(out, "fudge factor          %s (given)\n", fudge);
	else
		fprintf(out,
			"fudge factor          %s (3 up to 0.5%% loss, rising "
			"to 10 at 10%%; loss %s)\n",
			fudge, loss);
	fprintf(out, "recommended memory    %s MB x %s = %s MB\n\n", minf,
		fudge, rec);
	fprintf(out,
		"block size            %s (%llu bytes)\n"
		"block-sender threads  %llu (%llu x %s = %s MB%s)\n"
		"send socket buffer    %s per socket, %llu sockets\n"
		"recv socket buffer    %s per socket, %llu sockets\n"
		"datagram payload      %llu bytes over IPv4, %llu over IPv6 "
		"(MTU %llu - %d, - %d)\n\n",
		blk, (unsigned long long)p->block_size_bytes,
		(unsigned long long)p->threads, (unsigned long long)p->threads,
		blk, mem,
		p->covered ? ", covers the recommendation"
			   : ", BELOW the recommendation: at the 64-thread, "
			     "256MiB-block limit",
		sb, (unsigned long long)in->send_sockets, rb,
		(unsigned long long)in->recv_sockets,
		(unsigned long long)p->datagram_bytes,
		(unsigned long long)p->datagram6_bytes,
		(unsigned long long)in->mtu_bytes, SALVO_IPV4_UDP_OVERHEAD,
		SALVO_IPV6_UDP_OVERHEAD);
	write_memory(in, p, out);
	fprintf(out,
		"in salvo.yaml:\n"
		"  transfer: {block_size: %s, threads: %llu}\n"
		"  network: {sndbuf: %s, rcvbuf: %s, mtu: %llu}\n"
		"or let salvo size them: memory: auto, with link hints\n",
		blk, (unsigned long long)p->threads, sb, rb,
		(unsigned long long)in->mtu_bytes);
}

static void write_json(const struct salvo_plan_input *in,
		       const struct salvo_plan *p, FILE *out)
{
	char minf[32], rec[32], mem[32];

	fprintf(out,
		"{\"input\": {\"bandwidth_bps\": %llu, \"rtt_ns\": %llu, "
		"\"loss_ppm\": %llu, \"mtu_bytes\": %llu, \"send_sockets\": "
		"%llu, \"recv_sockets\": %llu, \"fudge_given\": %s}, ",
		(unsigned long long)in->bandwidth_bps,
		(unsigned long long)in->rtt_ns,
		(unsigned long long)in->loss_ppm,
		(unsigned long long)in->mtu_bytes,
		(unsigned long long)in->send_sockets,
		(unsigned long long)in->recv_sockets,
		in->fudge_milli ? "true" : "false");
	fprintf(
	    out,
	    "\"min_inflight_bytes\": %llu, \"min_inflight_mb\": %s, "
	    "\"fudge_milli\": %llu, \"recommended_bytes\": %llu, "
	    "\"recommended_mb\": %s, \"block_size_bytes\": %llu, "
	    "\"threads\": %llu, \"memory_bytes\": %llu, \"memory_mb\": %s, "
	    "\"covered\": %s, \"sndbuf_bytes\": %llu, \"rcvbuf_bytes\": "
	    "%llu, \"datagram_bytes\": %llu, \"datagram6_bytes\": %llu, "
	    "\"batch\": %llu, \"sender_thread_bytes\": %llu, "
	    "\"sender_bytes\": %llu, \"receiver_socket_bytes\": %llu, "
	    "\"receiver_bytes\": %llu, \"receiver_budget_bytes\": %llu}\n",
	    (unsigned long long)p->min_inflight_bytes,
	    salvo_units_format_fixed(p->min_inflight_bytes, 6, minf, 32),
	    (unsigned long long)p->fudge_milli,
	    (unsigned long long)p->recommended_bytes,
	    salvo_units_format_fixed(p->recommended_bytes, 6, rec, 32),
	    (unsigned long long)p->block_size_bytes,
	    (unsigned long long)p->threads, (unsigned long long)p->memory_bytes,
	    salvo_units_format_fixed(p->memory_bytes, 6, mem, 32),
	    p->covered ? "true" : "false", (unsigned long long)p->sndbuf_bytes,
	    (unsigned long long)p->rcvbuf_bytes,
	    (unsigned long long)p->datagram_bytes,
	    (unsigned long long)p->datagram6_bytes,
	    (unsigned long long)(in->batch ? in->batch : 1),
	    (unsigned long long)p->mem.sender_thread_bytes,
	    (unsigned long long)p->mem.sender_bytes,
	    (unsigned long long)p->mem.receiver_socket_bytes,
	    (unsigned long long)p->mem.receiver_bytes,
	    (unsigned long long)in->recv_budget_bytes);
}

int salvo_plan_write(const struct salvo_plan_input *in,
		     const struct salvo_plan *p, FILE *out, int json)
{
	if (json)
		write_json(in, p, out);
	else
		write_text(in, p, out);
	return done(out);
}

static uint64_t cell_bytes(int r, int c, uint64_t fudge)
{
	return salvo_plan_recommended_bytes(salvo_plan_table_mbit[r] * 1000000,
					    salvo_plan_table_ms[c] * 1000000,
					    fudge);
}

static void table_json(const struct salvo_plan_table_spec *spec, uint64_t fudge,
		       FILE *out)
{
	char cell[32];

	fprintf(out,
		"{\"unit\": \"MB\", \"fudge_milli\": %llu, \"loss_ppm\": %llu, "
		"\"cover_bytes\": %llu, \"rtts_ms\": [",
		(unsigned long long)fudge, (unsigned long long)spec->loss_ppm,
		(unsigned long long)spec->cover_bytes);
	for (int c = 0; c < SALVO_PLAN_TABLE_COLS; c++)
		fprintf(out, "%s%llu", c ? ", " : "",
			(unsigned long long)salvo_plan_table_ms[c]);
	fputs("], \"rows\": [", out);
	for (int r = 0; r < SALVO_PLAN_TABLE_ROWS; r++) {
		fprintf(out, "%s{\"bandwidth_mbit\": %llu, \"cells\": [",
			r ? ", " : "",
			(unsigned long long)salvo_plan_table_mbit[r]);
		for (int c = 0; c < SALVO_PLAN_TABLE_COLS; c++) {
			uint64_t b = cell_bytes(r, c, fudge);
			fprintf(out,
				"%s{\"rtt_ms\": %llu, \"mb\": %s, \"covered\": "
				"%s}",
				c ? ", " : "",
				(unsigned long long)salvo_plan_table_ms[c],
				mb2(b, cell, sizeof(cell)),
				b > spec->cover_bytes ? "false" : "true");
		}
		fputs("]}", out);
	}
	fputs("]}\n", out);
}

static void table_text(const struct salvo_plan_table_spec *spec, uint64_t fudge,
		       FILE *out)
{
	char f[32], cover[32], cell[32], loss[32];

	fprintf(out,
		"recommended memory in MB (1 MB = 1,000,000 bytes)\n"
		"  = bandwidth (Mbit/s) x RTT (s) / 8 x fudge %s (loss %s)\n"
		"rows: bandwidth in Mbit/s; columns: RTT in ms\n"
		"*: more than %s MB, which %s does not cover\n\n%-8s",
		salvo_units_format_factor(fudge, f, sizeof(f)),
		salvo_units_format_loss(spec->loss_ppm, loss, sizeof(loss)),
		salvo_units_format_fixed(spec->cover_bytes, 6, cover,
					 sizeof(cover)),
		spec->cover_label, "Mbit/s");
	for (int c = 0; c < SALVO_PLAN_TABLE_COLS; c++)
		fprintf(out, "%9llu ",
			(unsigned long long)salvo_plan_table_ms[c]);
	fputc('\n', out);
	for (int r = 0; r < SALVO_PLAN_TABLE_ROWS; r++) {
		fprintf(out, "%-8llu",
			(unsigned long long)salvo_plan_table_mbit[r]);
		for (int c = 0; c < SALVO_PLAN_TABLE_COLS; c++) {
			uint64_t b = cell_bytes(r, c, fudge);
			fprintf(out, "%9s%c", mb2(b, cell, sizeof(cell)),
				b > spec->cover_bytes ? '*' : ' ');
		}
		fputc('\n', out);
	}
}

int salvo_plan_write_table(const struct salvo_plan_table_spec *spec, FILE *out,
			   int json)
{
	uint64_t fudge = spec->fudge_milli
			     ? spec->fudge_milli
			     : salvo_plan_fudge_milli(spec->loss_ppm);
	if (json)
		table_json(spec, fudge, out);
	else
		table_text(spec, fudge, out);
	return done(out);
}

int salvo_plan_sockbuf_note(const char *procdir, uint64_t sndbuf_bytes,
			    uint64_t rcvbuf_bytes, char *buf, size_t n)
{
	static const char *const name[2] = {"wmem_max", "rmem_max"};
	const uint64_t want[2] = {sndbuf_bytes, rcvbuf_bytes};
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < 2; i++) {
		char path[512];
		unsigned long long cap;
		FILE *f;
		int ok;

		snprintf(path, sizeof(path), "%s/sys/net/core/%s",
			 procdir ? procdir : "/proc", name[i]);
		if (!(f = fopen(path, "r")))
			continue;
		ok = fscanf(f, "%llu", &cap) == 1;
		fclose(f);
		if (!ok || cap >= want[i] || len >= n)
			continue;
		len += (size_t)snprintf(
		    buf + len, n - len,
		    "note: net.core.%s is %llu bytes, below the planned "
		    "%llu-byte %s buffer; the kernel will cap it. Raise "
		    "it with: sysctl -w net.core.%s=%llu\n",
		    name[i], cap, (unsigned long long)want[i],
		    i ? "receive" : "send", name[i],
		    (unsigned long long)want[i]);
	}
	return len > 0;
}
