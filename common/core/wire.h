/*
 * salvo's wire format: every packet type, every limit, in one header.
 * docs/PROTOCOL.md has the byte tables; change both together.
 *
 * All integers are big-endian.  Every packet starts with the same 8-byte
 * header:
 *
 *   0  u8  version     SALVO_PROTOCOL_VERSION
 *   1  u8  type        SALVO_PKT_*
 *   2  u8  flags       per type; unknown bits are rejected
 *   3  u8  tag_len     bytes of authentication tag at the very end
 *                      (reserved: must be 0 until authentication lands)
 *   4  u32 session     receiver-chosen session id; 0 in HELLO/RETRY
 *
 * DATA carries file bytes with a 24-byte header (1.6 % of a 1472-byte
 * datagram) that ends in a CRC32C of the whole datagram.  Every other
 * ("control") packet ends in a CRC32C of everything before it, so a
 * corrupted control packet is dropped, never misread.
 *
 * Decoding (salvo_wire_decode) is bounds-checked: it returns
 * SALVO_ERR_TRUNCATED, SALVO_ERR_MALFORMED, SALVO_ERR_VERSION,
 * SALVO_ERR_CHECKSUM or SALVO_ERR_TOOBIG for any bad input and never reads
 * outside [buf, buf + len).  Decoded packets point into the caller's
 * buffer (payloads, ranges, messages): they live as long as it does.
 */
#ifndef SALVO_WIRE_H
#define SALVO_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/limits.h"
#include "common/core/version.h"

/* ---- packet types ---- */
enum salvo_pkt_type {
	SALVO_PKT_DATA = 1,	/* S->R file bytes of one block */
	SALVO_PKT_HELLO = 2,	/* S->R open a session (with cookie: 2nd try) */
	SALVO_PKT_RETRY = 3,	/* R->S address-validation cookie */
	SALVO_PKT_ACCEPT = 4,	/* R->S session id */
	SALVO_PKT_MANIFEST = 5, /* S->R a chunk of the encoded manifest */
	SALVO_PKT_FEEDBACK = 6, /* R->S cumulative point + missing ranges */
	SALVO_PKT_STATUS = 7,	/* S->R heartbeat: timestamp, sent-through */
	SALVO_PKT_FILE_DONE = 8, /* S->R whole-file digests */
	SALVO_PKT_CLOSE = 9,	 /* either way: session over */
	SALVO_PKT_ERROR = 10,	 /* either way: fatal error with a message */
	SALVO_PKT_TYPE_MAX = 10,
};

/* ---- sizes and limits (datagram, block, MTU: common/core/limits.h) ---- */
#define SALVO_HDR_BYTES 8
#define SALVO_DATA_HDR_BYTES 24
#define SALVO_CRC_BYTES 4
#define SALVO_MANIFEST_MAX_BYTES (UINT32_C(64) << 20)
#define SALVO_COOKIE_BYTES 16
#define SALVO_DIGEST_BYTES 32 /* BLAKE3, hash mode */
#define SALVO_ERROR_MSG_MAX 512
#define SALVO_FILE_INDEX_NONE UINT32_MAX

/* ---- flags ---- */
#define SALVO_DATA_F_RETX 0x01 /* a retransmission (informational) */
#define SALVO_DATA_F_LZ4 0x02  /* reserved: payload is LZ4 (not in v1) */
#define SALVO_DATA_F_KNOWN SALVO_DATA_F_RETX

#define SALVO_FB_F_COMPLETE 0x01  /* every file verified and committed */
#define SALVO_FB_F_TRUNCATED 0x02 /* more missing ranges past list_end */
#define SALVO_FB_F_KNOWN 0x03

#define SALVO_CAP_LZ4 0x01    /* reserved for compression */
#define SALVO_CAP_AUTH 0x02   /* reserved for authentication tags */
#define SALVO_CAP_RESUME 0x04 /* reserved for resume maps */
#define SALVO_CAP_KNOWN 0x07

enum salvo_phase { SALVO_PHASE_MANIFEST = 0, SALVO_PHASE_DATA = 1 };
enum salvo_close_reason { SALVO_CLOSE_DONE = 0, SALVO_CLOSE_ABORT = 1 };

/* ---- decoded packets ---- */
typedef struct salvo_pkt_hdr {
	uint8_t version, type, flags, tag_len;
	uint32_t session;
} salvo_pkt_hdr;

typedef struct salvo_pkt_data {
	uint32_t block;	    /* block index in the session's data stream */
	uint32_t offset;    /* byte offset inside the block */
	uint32_t block_crc; /* CRC32C of the whole block */
	const uint8_t *payload;
	size_t payload_len; /* >= 1 */
} salvo_pkt_data;

typedef struct salvo_pkt_hello {
	uint32_t caps;	    /* SALVO_CAP_* the sender offers */
	uint64_t nonce;	    /* sender's attempt id, echoed back */
	uint8_t cookie_len; /* 0 or SALVO_COOKIE_BYTES */
	uint8_t cookie[SALVO_COOKIE_BYTES];
	uint32_t block_bytes;	 /* block size of the data stream */
	uint16_t datagram_bytes; /* max UDP payload the sender will send */
	uint64_t total_bytes;	 /* length of the data stream */
	uint32_t file_count;	 /* manifest entries */
	uint32_t manifest_bytes; /* length of the encoded manifest */
} salvo_pkt_hello;

typedef struct salvo_pkt_retry {
	uint64_t nonce;
	uint8_t cookie[SALVO_COOKIE_BYTES];
} salvo_pkt_retry;

typedef struct salvo_pkt_accept {
	uint64_t nonce;
	uint32_t caps; /* SALVO_CAP_* the receiver agreed to */
} salvo_pkt_accept;

typedef struct salvo_pkt_manifest {
	uint32_t offset; /* byte offset in the encoded manifest */
	uint32_t total;	 /* its total length, as in HELLO */
	const uint8_t *bytes;
	size_t len; /* >= 1, offset + len <= total */
} salvo_pkt_manifest;

typedef struct salvo_pkt_feedback {
	uint8_t phase; /* enum salvo_phase: which stream ranges refer to */
	uint16_t nranges;
	uint32_t seq;	   /* increases by one per feedback sent */
	uint64_t cum;	   /* every byte below has arrived */
	uint64_t list_end; /* ranges list every reportable hole below this */
	uint64_t recv_above_cum; /* bytes held at or above cum */
	uint64_t echo_ts; /* timestamp of the latest STATUS seen (0: none) */
	uint32_t echo_hold_us; /* time between that STATUS and this packet */
	uint32_t digests_have; /* files [0, n) have their digests */
	uint32_t files_done;   /* files verified and committed, a count */
	uint64_t datagrams_received;
	const uint8_t *ranges; /* nranges (gap, length) varint pairs */
	size_t ranges_len;
} salvo_pkt_feedback;

typedef struct salvo_pkt_status {
	uint8_t phase;
	uint32_t srtt_us;      /* sender's smoothed RTT (0: unknown) */
	uint64_t ts;	       /* sender clock, ns, echoed in FEEDBACK */
	uint64_t sent_through; /* every byte below was sent at least once */
	uint64_t datagrams_sent;
} salvo_pkt_status;

typedef struct salvo_pkt_file_done {
	uint32_t first;		/* index of the first file */
	uint16_t count;		/* digests that follow, >= 1 */
	const uint8_t *digests; /* count * SALVO_DIGEST_BYTES */
} salvo_pkt_file_done;

typedef struct salvo_pkt_close {
	uint8_t reason; /* enum salvo_close_reason */
} salvo_pkt_close;

typedef struct salvo_pkt_error {
	int32_t code;	     /* SALVO_ERR_* (negative) */
	int32_t sys_errno;   /* errno at the peer, 0 if none */
	uint32_t file_index; /* or SALVO_FILE_INDEX_NONE */
	uint16_t msg_len;
	const char *msg; /* not NUL-terminated; no NUL inside */
} salvo_pkt_error;

typedef struct salvo_pkt {
	salvo_pkt_hdr hdr;
	union {
		salvo_pkt_data data;
		salvo_pkt_hello hello;
		salvo_pkt_retry retry;
		salvo_pkt_accept accept;
		salvo_pkt_manifest manifest;
		salvo_pkt_feedback feedback;
		salvo_pkt_status status;
		salvo_pkt_file_done file_done;
		salvo_pkt_close close;
		salvo_pkt_error error;
	} u;
} salvo_pkt;

/* Decodes one datagram.  Returns 0 and fills *out, or a negative
 * SALVO_ERR_* naming the first problem.  Never reads outside buf. */
int salvo_wire_decode(const void *buf, size_t len, salvo_pkt *out);

/* Writes the 24-byte DATA header for payload (which the caller sends right
 * after it, e.g. as a second iovec), including the datagram CRC over
 * header and payload.  hdr must hold SALVO_DATA_HDR_BYTES. */
void salvo_wire_data_header(uint8_t *hdr, uint32_t session, uint8_t flags,
			    uint32_t block, uint32_t offset, uint32_t block_crc,
			    const void *payload, size_t payload_len);

/* Control encoders: write a whole packet into buf (cap bytes) and return
 * its length, or SALVO_ERR_TOOBIG if it does not fit / a field is out of
 * range.  p->hdr.session and p->hdr.flags are taken from p; version, type
 * and tag_len are set by the encoder. */
int salvo_wire_encode(void *buf, size_t cap, const salvo_pkt *p);

/* FEEDBACK ranges are encoded separately because their count depends on
 * the room left.  salvo_wire_encode_feedback writes fb's fixed fields and
 * as many of the n ranges (ascending, non-overlapping, each start >=
 * fb->cum and end <= fb->list_end; else SALVO_ERR_INVAL) as fit in cap,
 * and stores that count in *written.  It sets
 * SALVO_FB_F_TRUNCATED and list_end to the start of the first range left
 * out when not all fit. */
typedef struct salvo_range {
	uint64_t start, end; /* [start, end) */
} salvo_range;

int salvo_wire_encode_feedback(void *buf, size_t cap, uint32_t session,
			       uint8_t flags, const salvo_pkt_feedback *fb,
			       const salvo_range *ranges, size_t n,
			       size_t *written);

/* Iterates a decoded FEEDBACK's ranges: init, then next() returns 1 and
 * fills *r while ranges remain, 0 at the end.  salvo_wire_decode already
 * validated them (ascending, non-empty, no overflow). */
typedef struct salvo_fb_iter {
	const salvo_pkt_feedback *fb;
	size_t pos;
	uint64_t prev_end;
	unsigned left;
} salvo_fb_iter;

void salvo_wire_feedback_iter(salvo_fb_iter *it, const salvo_pkt_feedback *fb);
int salvo_wire_feedback_next(salvo_fb_iter *it, salvo_range *r);

/* Payload bytes per DATA datagram of the given size. */
static inline uint32_t salvo_wire_payload_bytes(uint32_t datagram_bytes)
{
	return datagram_bytes - SALVO_DATA_HDR_BYTES;
}

#endif
