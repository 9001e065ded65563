/*
 * Cutting one DATA work item into datagrams and pacer bookings: the pure
 * step between the sender core (which decides what to send) and the
 * network (which the engine, or the simulator, drives).  Both the engine's
 * emitter and tests/sim/simnet.c call it, so the datagram layout and the
 * bytes charged to the pacer are one piece of code.
 *
 * The caller reads the work item's ranges back to back into one buffer
 * (range 0 at offset 0, range 1 right after it, ...).  Each range splits
 * into payload-size pieces from its start (payload = datagram - 44), the
 * last one possibly shorter.  With compression on (salvo_emit_compress)
 * a datagram may instead carry an LZ4 piece (common/core/lz4piece.h)
 * that stands for more stream bytes than it holds: as many as compress
 * into its payload, from where the previous datagram ended; the next
 * datagram starts after them.  So a datagram always covers one run of
 * stream bytes, and any run the receiver misses can be sent again by
 * emitting that run again.  In AUTO a range starts with a probe: a piece
 * that saves under 5 % sends the next datagrams raw before trying again,
 * 8 of them after the first miss, twice as many after each further miss
 * up to SALVO_EMIT_PROBE_MAX_DGRAMS, and a probe after a miss tries a
 * small piece (SALVO_EMIT_PROBE_BYTES) first: incompressible data costs
 * one small LZ4 attempt in 16 datagrams, and a compressible run after it
 * is found within 16 datagrams (23 KB at MTU 1500).  Each datagram is built
 * whole in the caller's batch buffer (header, block fields, a copy of the
 * payload) and sealed there on the caller's lane (common/crypto/aead.h): the
 * encryption needs a destination anyway, and the file bytes in the block
 * buffer stay in clear for the hasher.  Datagrams leave in batches; a
 * batch is booked at the pacer as one burst of the datagrams' bytes plus
 * the address family's IP and UDP headers per datagram, and is kept to
 * about one millisecond of the current rate so that slow paths are not
 * sent bursts they must queue.
 *
 * Pure: no allocation, no I/O.  One salvo_emit per work item, one owner;
 * the lane's salvo_aead belongs to the thread that emits.
 */
#ifndef SALVO_EMIT_H
#define SALVO_EMIT_H

#include <stdint.h>

#include "common/core/lz4piece.h"
#include "common/core/wire.h"
#include "common/crypto/aead.h"
#include "sender/core/sender.h"

/* One sealed datagram in the caller's batch buffer. */
typedef struct salvo_emit_dgram {
	uint32_t out_offset; /* where it starts in the batch buffer */
	uint32_t len;	     /* its bytes: 44 + payload, or 48 + LZ4 piece */
	uint32_t payload;    /* stream bytes it stands for: raw 1 ..
				datagram - 44, LZ4 up to
				SALVO_DATA_LZ4_MAX_BYTES */
} salvo_emit_dgram;

/* AUTO: raw datagrams after a piece that did not pay, before a probe:
 * from MIN, doubling with each miss in a row. */
#define SALVO_EMIT_PROBE_MIN_DGRAMS 8u
#define SALVO_EMIT_PROBE_MAX_DGRAMS 16u
/* A probe after a miss compresses into this many bytes first. */
#define SALVO_EMIT_PROBE_BYTES 256u

typedef struct salvo_emit {
	const salvo_work *w; /* borrowed for the emit's life */
	const uint8_t *buf;  /* the ranges' bytes, back to back */
	salvo_aead *aead;    /* the lane's, borrowed */
	uint8_t lane;
	int err; /* 0, or why emitting stopped (SALVO_ERR_REKEY) */
	uint32_t session;
	uint32_t datagram_bytes;
	uint32_t block_crc; /* new block: CRC32C of buf; else unused */
	uint32_t payload;   /* bytes per datagram after the header */
	uint32_t overhead;  /* IP + UDP bytes per datagram */
	uint32_t batch;	    /* datagrams per batch, >= 1 */
	uint32_t range;	    /* cursor: range index, */
	uint32_t off;	    /* bytes of it emitted, */
	uint32_t pos;	    /* and the range's offset in buf */
	int compress;	    /* enum salvo_compress, OFF unless set */
	uint32_t in_cap;    /* input offered to the next LZ4 attempt */
	uint32_t raw_run;   /* AUTO: raw datagrams left before a probe */
	uint32_t probe_gap; /* AUTO: the raw run after the last miss, 0 none */
	void *hc_state;	    /* LZ4 HC: the caller's state, or NULL */
	int hc_level;	    /* 0: fast LZ4; else HC at this level */
	/* what was emitted so far: datagrams, their UDP payload bytes, the
	 * stream bytes they stand for, and the LZ4 ones among them */
	uint64_t datagrams, wire_bytes, stream_bytes, lz4_datagrams;
} salvo_emit;

/* The smallest paced batch in wire bytes (unless batch_max datagrams are
 * fewer): four 1500-byte frames.  Below 6 kB a millisecond (48 Mbit/s) a
 * batch spans more than a millisecond rather than costing one sleep, one
 * wake and one system call per datagram (64 senders on one machine spent
 * most of their CPU so).  6 kB is the burst Linux TCP's own pacing allows
 * at such rates (two or more segments per TSO burst, plus the ACK
 * clock's); a jumbo datagram is a batch of its own. */
#define SALVO_EMIT_BATCH_MIN_BYTES 6000u

/* Datagrams per batch: batch_max, but no more than about one millisecond
 * of rate_bps in datagrams of datagram_bytes + overhead on the wire, nor
 * fewer than SALVO_EMIT_BATCH_MIN_BYTES hold, and at least 1 (batch_max 0
 * counts as 1).  rate_bps 0 (unpaced) leaves batch_max. */
uint32_t salvo_emit_batch_for_rate(uint32_t batch_max, uint64_t rate_bps,
				   uint32_t datagram_bytes, uint32_t overhead);

/* Bytes one datagram of len UDP payload bytes costs at the pacer. */
static inline uint64_t salvo_emit_wire_bytes(uint64_t len, uint32_t overhead)
{
	return len + overhead;
}

/* Starts emitting the DATA work item w (kind SALVO_WORK_DATA) whose
 * ranges' bytes lie back to back in buf, sealed with aead (the lane's,
 * from salvo_sender_lane) as lane `lane`.  datagram_bytes is the UDP
 * payload size (SALVO_DATAGRAM_MIN_BYTES .. MAX), overhead the family's
 * IP + UDP header bytes (limits.h), batch the datagrams per batch (see
 * salvo_emit_batch_for_rate; 0 counts as 1).  For a new block the block
 * CRC32C is computed here from buf and kept in e->block_crc, for the
 * headers and salvo_sender_work_done.  w, buf and aead are borrowed until
 * the last salvo_emit_next. */
void salvo_emit_init(salvo_emit *e, const salvo_work *w, const void *buf,
		     uint32_t session, salvo_aead *aead, uint8_t lane,
		     uint32_t datagram_bytes, uint32_t overhead,
		     uint32_t batch);

/* Lets the datagrams still to emit carry LZ4 pieces: mode
 * SALVO_COMPRESS_LZ4 tries every datagram, AUTO probes (see above), OFF
 * none.  Only towards a receiver that agreed to SALVO_CAP_LZ4. */
void salvo_emit_compress(salvo_emit *e, int mode);

/* Full pieces with LZ4 HC at level (1 .. 12) in hc_state
 * (salvo_lz4piece_hc_state_bytes(), borrowed until the last
 * salvo_emit_next); level 0 or no state: fast LZ4.  Probes stay fast. */
void salvo_emit_compress_level(salvo_emit *e, void *hc_state, int level);

/* Builds and seals the next batch in out (room for e->batch datagrams of
 * datagram_bytes each), describes it in d[0 .. n) and returns n; 0 once
 * every datagram was emitted, or when sealing failed (e->err, e.g.
 * SALVO_ERR_REKEY past the lane's AEAD limit: the session must end).
 * *booking receives the bytes to reserve at the pacer for the batch. */
uint32_t salvo_emit_next(salvo_emit *e, uint8_t *out, salvo_emit_dgram *d,
			 uint64_t *booking);

/* The datagram size to use towards a receiver of this address family
 * (v6 non-zero for IPv6) on a path of mtu bytes (0: the default MTU):
 * asked, or when asked is 0 the largest that fits one packet
 * (salvo_datagram_for_mtu).  Returns 0 with *out set, or SALVO_ERR_INVAL
 * when the MTU cannot carry a datagram, or when an IPv6 datagram asked
 * for would not fit the MTU (IP would fragment every one).  IPv4 sizes
 * asked for are taken as they are (a jumbo path may be known to the
 * caller only). */
int salvo_emit_pick_datagram(uint32_t asked, uint32_t mtu, int v6,
			     uint32_t *out);

/* Datagrams the work item w cuts into at this datagram size, raw (with
 * compression, at most this many). */
uint64_t salvo_emit_count(const salvo_work *w, uint32_t datagram_bytes);

#endif
