/*
 * The planner: bandwidth × RTT arithmetic in 128-bit integers so that every
 * figure is exact (bytes, rounded up once at the end) and the table a person
 * reads agrees with the formula printed above it.  Nothing here allocates,
 * prints or reads a file; plan_out.c renders the results.
 */
#include "common/core/error.h"
#include "common/core/lz4piece.h"
#include "conf/plan.h"

const uint64_t salvo_plan_table_mbit[SALVO_PLAN_TABLE_ROWS] = {
    1,	 2,   5,   10,	 25,   50,   75,   100,	  200,
    300, 500, 750, 1000, 2000, 3000, 5000, 10000,
};
const uint64_t salvo_plan_table_ms[SALVO_PLAN_TABLE_COLS] = {
    1, 2, 5, 10, 25, 50, 75, 100, 150, 200, 250, 300, 350,
};

uint64_t salvo_plan_fudge_milli(uint64_t loss_ppm)
{
	const uint64_t lo = 5000, hi = 100000; /* 0.5 % and 10 % */
	const uint64_t span =
	    SALVO_PLAN_FUDGE_MAX_MILLI - SALVO_PLAN_FUDGE_MIN_MILLI;

	if (loss_ppm <= lo)
		return SALVO_PLAN_FUDGE_MIN_MILLI;
	if (loss_ppm >= hi)
		return SALVO_PLAN_FUDGE_MAX_MILLI;
	return SALVO_PLAN_FUDGE_MIN_MILLI +
	       ((loss_ppm - lo) * span + (hi - lo) / 2) / (hi - lo);
}

static uint64_t div_up(unsigned __int128 num, unsigned __int128 den)
{
	unsigned __int128 q = (num + den - 1) / den;
	return q > UINT64_MAX ? UINT64_MAX : (uint64_t)q;
}

uint64_t salvo_plan_recommended_bytes(uint64_t bandwidth_bps, uint64_t rtt_ns,
				      uint64_t fudge_milli)
{
	/* bit/s × ns / (8 bit/byte × 1e9 ns/s) × fudge / 1000 */
	unsigned __int128 num = (unsigned __int128)bandwidth_bps * rtt_ns;
	if (num >> 100) /* no realistic link; keeps × fudge in range */
		return UINT64_MAX;
	return div_up(num * fudge_milli,
		      (unsigned __int128)8000000000ULL * 1000);
}

static uint64_t pow2_at_least(uint64_t v)
{
	uint64_t p = 1;
	while (p < v && p < (1ULL << 62))
		p <<= 1;
	return p;
}

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void salvo_plan_size_memory(uint64_t memory_bytes, struct salvo_plan *out)
{
	uint64_t block =
	    clamp(pow2_at_least(div_up(memory_bytes, 8)),
		  SALVO_PLAN_BLOCK_MIN_BYTES, SALVO_PLAN_BLOCK_MAX_BYTES);
	uint64_t threads =
	    clamp(div_up(memory_bytes, block), 1, SALVO_THREADS_MAX);

	out->block_size_bytes = block;
	out->threads = threads;
	out->memory_bytes = block * threads;
	out->covered = out->memory_bytes >= memory_bytes;
}

void salvo_plan_fit_memory(uint64_t budget_bytes, struct salvo_plan *out)
{
	uint64_t block = pow2_at_least(budget_bytes / 8 + 1) / 2;

	block = clamp(block, SALVO_PLAN_BLOCK_MIN_BYTES,
		      SALVO_PLAN_BLOCK_MAX_BYTES);
	out->block_size_bytes = block;
	out->threads = clamp(budget_bytes / block, 1, SALVO_THREADS_MAX);
	out->memory_bytes = block * out->threads;
	out->covered = out->memory_bytes <= budget_bytes;
}

static uint64_t sockbuf(uint64_t inflight, uint64_t sockets)
{
	return clamp(pow2_at_least(div_up(inflight, sockets)),
		     SALVO_PLAN_SOCKBUF_MIN_BYTES,
		     SALVO_PLAN_SOCKBUF_MAX_BYTES);
}

int salvo_plan_compute(const struct salvo_plan_input *in,
		       struct salvo_plan *out)
{
	struct salvo_plan p = {0};

	if (!in->bandwidth_bps || !in->rtt_ns || !in->send_sockets ||
	    !in->recv_sockets || in->mtu_bytes < 576 || in->mtu_bytes > 65535)
		return SALVO_ERR_INVAL;
	p.fudge_milli = in->fudge_milli ? in->fudge_milli
					: salvo_plan_fudge_milli(in->loss_ppm);
	p.min_inflight_bytes =
	    salvo_plan_recommended_bytes(in->bandwidth_bps, in->rtt_ns, 1000);
	p.recommended_bytes = salvo_plan_recommended_bytes(
	    in->bandwidth_bps, in->rtt_ns, p.fudge_milli);
	salvo_plan_size_memory(p.recommended_bytes, &p);
	p.sndbuf_bytes = sockbuf(p.min_inflight_bytes, in->send_sockets);
	p.rcvbuf_bytes = sockbuf(p.min_inflight_bytes, in->recv_sockets);
	p.datagram_bytes = salvo_datagram_for_mtu((uint32_t)in->mtu_bytes, 0);
	p.datagram6_bytes = salvo_datagram_for_mtu((uint32_t)in->mtu_bytes, 1);
	salvo_plan_memory(&p, in->batch, in->recv_sockets, &p.mem);
	*out = p;
	return 0;
}

void salvo_plan_memory(const struct salvo_plan *p, uint64_t batch,
		       uint64_t recv_sockets, struct salvo_plan_memory *out)
{
	if (!batch)
		batch = 1;
	out->sender_thread_bytes =
	    batch * p->datagram_bytes + salvo_lz4piece_hc_state_bytes();
	out->sender_bytes =
	    p->memory_bytes + p->threads * out->sender_thread_bytes;
	out->receiver_socket_bytes =
	    batch * SALVO_RECV_SLOT_BYTES +
	    (uint64_t)SALVO_RECV_INFLATE_KEEP * SALVO_RECV_INFLATE_CHUNK_BYTES;
	out->receiver_bytes = recv_sockets * out->receiver_socket_bytes;
}
