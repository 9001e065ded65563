/*
 * Memory planning from bandwidth × latency: pure integer arithmetic, no I/O.
 *
 *   minimum in flight  = bandwidth (bit/s) × RTT (s) / 8        bytes
 *   recommended memory = minimum in flight × fudge factor
 *
 * 300 Mbit/s at 150 ms: 300e6 × 0.150 / 8 = 5 625 000 bytes = 5.625 MB
 * (decimal MB), × 3 = 16.875 MB.  The fudge factor covers retransmissions
 * and feedback delay: 3 on links with up to 0.5 % loss, rising linearly
 * with loss to 10 at 10 % loss, and 10 beyond.
 *
 * Sender memory is block size × block-sender threads (retransmissions are
 * re-read from the file), so the plan picks the pair that covers the
 * recommended memory: the block is the power of two at or above 1/8 of it,
 * between 256 KiB and 256 MiB, and the thread count is what covers the rest
 * (1..64).  Socket buffers hold one minimum in-flight window spread over the
 * sockets, as a power of two between 1 MiB and 256 MiB per socket.
 *
 * Process memory adds what each thread or socket holds beside that: a
 * block-sender thread one batch of datagrams and LZ4 HC's state (256 KiB);
 * a receive socket one 64 KiB slot per datagram of a batch and the 4 MiB
 * of LZ4 inflate buffers it keeps.  The receiver's bookkeeping of its
 * sessions (per block and per file) comes on top, capped as a whole by
 * receiver.memory_budget.
 */
#ifndef SALVO_CONF_PLAN_H
#define SALVO_CONF_PLAN_H

#include <stdint.h>

#include "common/core/limits.h"

#define SALVO_PLAN_BLOCK_MIN_BYTES (256ULL * 1024)
#define SALVO_PLAN_BLOCK_MAX_BYTES (256ULL * 1024 * 1024)
#define SALVO_PLAN_SOCKBUF_MIN_BYTES (1024ULL * 1024)
#define SALVO_PLAN_SOCKBUF_MAX_BYTES (256ULL * 1024 * 1024)
#define SALVO_PLAN_FUDGE_MIN_MILLI 3000	 /* at or below 0.5 % loss */
#define SALVO_PLAN_FUDGE_MAX_MILLI 10000 /* at or above 10 % loss */

struct salvo_plan_input {
	uint64_t bandwidth_bps; /* > 0 */
	uint64_t rtt_ns;	/* > 0 */
	uint64_t loss_ppm;	/* 0..1000000 (0.5 % = 5000) */
	uint64_t fudge_milli;	/* 0: from the loss; else the factor × 1000 */
	uint64_t mtu_bytes;	/* 576..65535 */
	uint64_t send_sockets;	/* >= 1 */
	uint64_t recv_sockets;	/* >= 1 */
	uint64_t batch;		/* datagrams per system call; 0: 1 */
	uint64_t recv_budget_bytes; /* receiver.memory_budget; 0: unlimited */
};

/* What the processes hold (see the top comment). */
struct salvo_plan_memory {
	uint64_t sender_thread_bytes;	/* per block-sender, beside its block */
	uint64_t sender_bytes;		/* blocks + threads × the above */
	uint64_t receiver_socket_bytes; /* per receive socket */
	uint64_t receiver_bytes;	/* sockets × the above */
};

struct salvo_plan {
	uint64_t min_inflight_bytes; /* bandwidth × RTT / 8, rounded up */
	uint64_t fudge_milli;	     /* the factor used, × 1000 */
	uint64_t recommended_bytes;  /* min_inflight × fudge, rounded up */
	uint64_t block_size_bytes;
	uint64_t threads;
	uint64_t memory_bytes;	      /* block_size × threads */
	int covered;		      /* memory_bytes >= recommended_bytes */
	uint64_t sndbuf_bytes;	      /* per send socket */
	uint64_t rcvbuf_bytes;	      /* per receive socket */
	uint64_t datagram_bytes;      /* over IPv4: mtu − 28 */
	uint64_t datagram6_bytes;     /* over IPv6: mtu − 48 */
	struct salvo_plan_memory mem; /* for the input's batch */
};

/* The fudge factor × 1000 for a loss rate in ppm (see the top comment). */
uint64_t salvo_plan_fudge_milli(uint64_t loss_ppm);

/* bandwidth × RTT / 8 × fudge / 1000 in bytes, rounded up; saturates at
 * UINT64_MAX.  The figure one cell of the table shows. */
uint64_t salvo_plan_recommended_bytes(uint64_t bandwidth_bps, uint64_t rtt_ns,
				      uint64_t fudge_milli);

/* p->mem from the plan p's threads, blocks and datagrams, for batch
 * datagrams per system call (0: 1) and recv_sockets receive sockets. */
void salvo_plan_memory(const struct salvo_plan *p, uint64_t batch,
		       uint64_t recv_sockets, struct salvo_plan_memory *out);

/*
 * Fills *out from *in.  Returns 0, or SALVO_ERR_INVAL (and leaves *out
 * untouched) when bandwidth or RTT is zero, a socket count is zero, or the
 * MTU is outside 576..65535.
 */
int salvo_plan_compute(const struct salvo_plan_input *in,
		       struct salvo_plan *out);

/*
 * Block size and threads that cover memory_bytes: sets block_size_bytes,
 * threads, memory_bytes and covered in *out; leaves the rest alone.
 * covered is 0 only past 64 × 256 MiB.
 */
void salvo_plan_size_memory(uint64_t memory_bytes, struct salvo_plan *out);

/*
 * The largest block size × threads within budget_bytes (a ceiling, not a
 * target): the block is the power of two at or below 1/8 of the budget,
 * between 256 KiB and 256 MiB, and threads = budget / block, 1..64.  Sets
 * the same fields as salvo_plan_size_memory; covered says whether the
 * result fits (0 only for budgets below 256 KiB).
 */
void salvo_plan_fit_memory(uint64_t budget_bytes, struct salvo_plan *out);

/* The bandwidths (Mbit/s) and latencies (ms) of `salvo plan --table`. */
#define SALVO_PLAN_TABLE_ROWS 17
#define SALVO_PLAN_TABLE_COLS 13
extern const uint64_t salvo_plan_table_mbit[SALVO_PLAN_TABLE_ROWS];
extern const uint64_t salvo_plan_table_ms[SALVO_PLAN_TABLE_COLS];

#endif
