/*
 * salvo's wire format, protocol version 3: every packet type, every limit,
 * in one header.  docs/PROTOCOL.md has the byte tables; change both
 * together.
 *
 * All integers are big-endian.  Two kinds of packet:
 *
 * Handshake packets (INIT, RESP, COOKIE, KEY_REQ, KEY) start with an
 * 8-byte header and carry Noise messages and cookies (common/crypto):
 *
 *   0  u8  version     SALVO_PROTOCOL_VERSION
 *   1  u8  type        SALVO_PKT_*
 *   2  u8  flags       0
 *   3  u8  reserved    0
 *   4  u32 index       the sender's random index for this attempt
 *
 * Sealed packets (everything after the handshake: DATA, MANIFEST,
 * FEEDBACK, STATUS, FILE_DONE, CLOSE, ERROR, VERDICT) start with a 16-byte
 * header, the AEAD's associated data, and end with a 16-byte tag:
 *
 *   0  u8  version
 *   1  u8  type
 *   2  u8  flags       per type; unknown bits are rejected
 *   3  u8  lane        the sealing lane (sender: 0 control, 1.. its
 *                      block-sender threads; receiver: 0)
 *   4  u32 session     the receiver's session id, never 0
 *   8  u64 pn          the lane's packet number: the AEAD nonce
 *   16 ... body        encrypted
 *   end-16  tag
 *
 * The tag replaces version 2's CRC32C trailers: a damaged or forged
 * packet fails its tag and is dropped before anything reads its body.
 *
 * Decoding is bounds-checked: salvo_wire_decode returns
 * SALVO_ERR_TRUNCATED, SALVO_ERR_MALFORMED, SALVO_ERR_VERSION or
 * SALVO_ERR_TOOBIG for any bad input and never reads outside [buf, buf +
 * len).  It reads a sealed packet's body as plaintext, so it must run on
 * a packet salvo_aead_open has opened in place (the tag bytes are then
 * skipped); salvo_wire_decode_header reads the header alone, which is
 * what the opener needs.  Decoded packets point into the caller's buffer
 * (payloads, ranges, messages, Noise messages): they live as long as it.
 */
#ifndef SALVO_WIRE_H
#define SALVO_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/limits.h"
#include "common/core/version.h"

/* ---- packet types ---- */
enum salvo_pkt_type {
	SALVO_PKT_DATA = 1,	 /* S->R sealed: file bytes of one block */
	SALVO_PKT_INIT = 2,	 /* S->R handshake message 1 (Noise IK) */
	SALVO_PKT_COOKIE = 3,	 /* R->S cookie reply (receiver under load) */
	SALVO_PKT_RESP = 4,	 /* R->S handshake message 2: session, suite */
	SALVO_PKT_MANIFEST = 5,	 /* S->R sealed: a chunk of the manifest */
	SALVO_PKT_FEEDBACK = 6,	 /* R->S sealed: cumulative point + holes */
	SALVO_PKT_STATUS = 7,	 /* S->R sealed: heartbeat */
	SALVO_PKT_FILE_DONE = 8, /* S->R sealed: whole-file digests */
	SALVO_PKT_CLOSE = 9,	 /* sealed, either way: session over */
	SALVO_PKT_ERROR = 10,	 /* sealed, either way: fatal error */
	SALVO_PKT_KEY_REQ = 11,	 /* S->R: which is your public key? */
	SALVO_PKT_KEY = 12,	 /* R->S: the receiver's public key */
	SALVO_PKT_VERDICT = 13,	 /* R->S sealed: held ranges, file verdicts */
	SALVO_PKT_TYPE_MAX = 13,
};

/* 1 for the types that travel sealed (16-byte header, tag). */
static inline int salvo_wire_is_sealed(uint8_t type)
{
	return type == SALVO_PKT_DATA || type == SALVO_PKT_VERDICT ||
	       (type >= SALVO_PKT_MANIFEST && type <= SALVO_PKT_ERROR);
}

/* ---- sizes and limits (datagram, block, MTU: common/core/limits.h) ---- */
#define SALVO_HS_HDR_BYTES 8 /* handshake header */
#define SALVO_HDR_BYTES 16   /* sealed header: the associated data */
#define SALVO_TAG_BYTES 16   /* AEAD tag (common/crypto/aead.h) */
/* DATA: header, then block, offset and block CRC (encrypted), payload */
#define SALVO_DATA_HDR_BYTES (SALVO_HDR_BYTES + 12)
/* everything in a DATA datagram that is not file bytes: 44 */
#define SALVO_DATA_OVERHEAD_BYTES (SALVO_DATA_HDR_BYTES + SALVO_TAG_BYTES)
/* DATA with SALVO_DATA_F_LZ4: the header, then u32 stream_len (the
 * stream bytes the payload inflates to), then one independent LZ4 block
 * (no frame, no dictionary): 32 bytes of header, 48 of overhead. */
#define SALVO_DATA_LZ4_HDR_BYTES (SALVO_DATA_HDR_BYTES + 4)
#define SALVO_DATA_LZ4_OVERHEAD_BYTES                                          \
	(SALVO_DATA_LZ4_HDR_BYTES + SALVO_TAG_BYTES)
/* The most stream bytes one LZ4 datagram may stand for: what a receiver
 * inflates a piece into at most (a bomb stops here), and 64 KiB is
 * LZ4's own window, past which its matches cannot reach anyway. */
#define SALVO_DATA_LZ4_MAX_BYTES 65536u
#define SALVO_MANIFEST_MAX_BYTES (UINT32_C(64) << 20)
#define SALVO_DIGEST_BYTES 32 /* BLAKE3, hash mode */
#define SALVO_ERROR_MSG_MAX 512
#define SALVO_FILE_INDEX_NONE UINT32_MAX
/* Lanes a sender may seal on: its control lane and one per thread. */
#define SALVO_LANES_MAX (SALVO_THREADS_MAX + 1)

/* Handshake sizes.  The Noise layouts are common/crypto/noise.h's: message
 * 1 is 96 bytes + payload, message 2 is 48 + payload; mac1 and mac2 are
 * 16 bytes each (cookie.h), the cookie reply 56. */
#define SALVO_KEY_BYTES_WIRE 32
#define SALVO_STAMP_BYTES 12
#define SALVO_INIT_PAYLOAD_BYTES 40
#define SALVO_INIT_MSG1_BYTES (96 + SALVO_INIT_PAYLOAD_BYTES)
#define SALVO_INIT_MACS_BYTES 32
/* header, message 1, mac1, mac2: 176 bytes */
#define SALVO_INIT_BYTES                                                       \
	(SALVO_HS_HDR_BYTES + SALVO_INIT_MSG1_BYTES + SALVO_INIT_MACS_BYTES)
#define SALVO_RESP_PAYLOAD_MIN_BYTES 11
#define SALVO_RESP_MSG_MAX 96 /* a refusal's reason, for a person */
#define SALVO_RESP_MIN_BYTES                                                   \
	(SALVO_HS_HDR_BYTES + 4 + 48 + SALVO_RESP_PAYLOAD_MIN_BYTES)
#define SALVO_RESP_MAX_BYTES (SALVO_RESP_MIN_BYTES + SALVO_RESP_MSG_MAX)
#define SALVO_COOKIE_REPLY_WIRE_BYTES 56
#define SALVO_COOKIE_PKT_BYTES                                                 \
	(SALVO_HS_HDR_BYTES + SALVO_COOKIE_REPLY_WIRE_BYTES)
/* KEY_REQ is padded to the size of the KEY that answers it */
#define SALVO_KEY_PKT_BYTES (SALVO_HS_HDR_BYTES + SALVO_KEY_BYTES_WIRE)

/* ---- flags ---- */
#define SALVO_DATA_F_RETX 0x01 /* a retransmission (informational) */
#define SALVO_DATA_F_LZ4 0x02  /* stream_len, then an LZ4 block */
#define SALVO_DATA_F_KNOWN 0x03

#define SALVO_FB_F_COMPLETE 0x01  /* every file verified and committed */
#define SALVO_FB_F_TRUNCATED 0x02 /* more missing ranges past list_end */
#define SALVO_FB_F_KNOWN 0x03

/* FILE_DONE: the sender abandoned this one file (its source shrank,
 * vanished or could not be read after the scan; its missing bytes went
 * as zeros): count is 1 and the digest field holds the sender's errno
 * (u32, big-endian) then zeros.  The receiver fails the file alone. */
#define SALVO_FD_F_ABANDONED 0x01

#define SALVO_CAP_LZ4 0x01    /* DATA may carry SALVO_DATA_F_LZ4 */
#define SALVO_CAP_RESUME 0x04 /* reserved for resume maps */
#define SALVO_CAP_KNOWN 0x05

/* AEAD suites offered in INIT, chosen in RESP: bit 1 << suite of
 * common/crypto/aead.h (1 ChaCha20-Poly1305, 2 AES-256-GCM). */
#define SALVO_SUITES_KNOWN 0x06

enum salvo_phase { SALVO_PHASE_MANIFEST = 0, SALVO_PHASE_DATA = 1 };

/* ---- VERDICT: what the receiver decided when it prepared the files ----
 *
 * Sent by the receiver with its first data-phase FEEDBACK, before any
 * file data is asked for, and again (from what STATUS says the sender
 * holds: ranges_have, verdicts_have) until the sender has it all.  Two
 * lists, each cut over as many packets as it takes:
 *
 *  - held ranges: byte ranges of the data stream the receiver already
 *    has without their being sent (salvo_rsess_mark_present: files it
 *    skips, verified blocks of a part-file it resumes).  The sender
 *    never sends new data for them.  Ascending, disjoint, non-empty.
 *  - verdicts: one per manifest entry, run-length coded (a varint count,
 *    a u8 enum salvo_verdict, and for SALVO_VERDICT_FAILED a varint
 *    errno), so a tree sent whole costs one run.
 *
 * The sender hands out no new data in the data phase until it holds both
 * lists whole; only the early data (at most 8 KiB, sent with the
 * manifest) can precede them. */
enum salvo_verdict {
	SALVO_VERDICT_SEND = 0,	     /* the file will be sent (folders too) */
	SALVO_VERDICT_IDENTICAL = 1, /* skipped: same size and mtime there */
	SALVO_VERDICT_EXISTS = 2,    /* skipped: exists (sender asked never) */
	SALVO_VERDICT_NOT_NEWER = 3, /* skipped: the receiver's copy is as
					new or newer (sender asked if-newer) */
	SALVO_VERDICT_REFUSED = 4,   /* not sent: replacing it is more than
					the receiver allows this sender */
	SALVO_VERDICT_FAILED = 5,    /* not sent: the receiver cannot store
					it (an errno follows) */
	SALVO_VERDICT_RESUME = 6,    /* sent in part: the receiver holds some
					of its bytes (held ranges) */
	SALVO_VERDICT_MAX = 6,
};
/* Held ranges one session may announce (a part-file's verified blocks
 * are one range each at worst). */
#define SALVO_VERDICT_RANGES_MAX (UINT32_C(1) << 24)
/* VERDICT's fixed body: ranges_total, first_range, first_file (u32
 * each), nranges, nruns (u16 each). */
#define SALVO_VERDICT_FIXED_BYTES 16
/* FEEDBACK's fields after the header, before its ranges. */
#define SALVO_FEEDBACK_FIXED_BYTES 72
enum salvo_close_reason { SALVO_CLOSE_DONE = 0, SALVO_CLOSE_ABORT = 1 };

/* ---- decoded packets ---- */
typedef struct salvo_pkt_hdr {
	uint8_t version, type, flags;
	uint8_t lane;	  /* sealed packets only */
	uint32_t session; /* sealed: the session id; handshake: the sender's
			     index */
	uint64_t pn;	  /* sealed packets only */
} salvo_pkt_hdr;

typedef struct salvo_pkt_data {
	uint32_t block;	    /* block index in the session's data stream */
	uint32_t offset;    /* byte offset inside the block */
	uint32_t block_crc; /* CRC32C of the whole block */
	/* stream bytes [offset, offset + stream_len) of the block this
	 * datagram stands for: payload_len when raw; with
	 * SALVO_DATA_F_LZ4 the declared length, 1 ..
	 * SALVO_DATA_LZ4_MAX_BYTES, that the payload must inflate to
	 * exactly (the decoder cannot check that: it does not inflate) */
	uint32_t stream_len;
	const uint8_t *payload; /* raw bytes, or the LZ4 block */
	size_t payload_len;	/* >= 1 */
} salvo_pkt_data;

/* INIT: the Noise message; its payload is a salvo_init_payload. */
typedef struct salvo_pkt_init {
	const uint8_t *msg1; /* SALVO_INIT_MSG1_BYTES */
} salvo_pkt_init;

/* RESP: the session (0 when refused) and Noise message 2, whose payload
 * is a salvo_resp_payload. */
typedef struct salvo_pkt_resp {
	uint32_t session;
	const uint8_t *msg2;
	size_t msg2_len; /* 48 + 11 .. 48 + 11 + SALVO_RESP_MSG_MAX */
} salvo_pkt_resp;

typedef struct salvo_pkt_cookie {
	const uint8_t *reply; /* SALVO_COOKIE_REPLY_WIRE_BYTES */
} salvo_pkt_cookie;

typedef struct salvo_pkt_key {
	uint8_t key[SALVO_KEY_BYTES_WIRE]; /* X25519 public key */
} salvo_pkt_key;

typedef struct salvo_pkt_manifest {
	uint32_t offset; /* byte offset in the encoded manifest */
	uint32_t total;	 /* its total length, as in INIT */
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
	/* datagrams the receiver host's sockets dropped for want of room
	 * (all sessions, since this session began; wraps): a receiver
	 * that cannot keep up, seen by the sender as congestion */
	uint32_t host_drops;
	/* how long this session's DATA waited in the receiver's sockets
	 * (read time - kernel arrival) since the last FEEDBACK, on average,
	 * us: a queue there, which kernel-timed RTTs do not show */
	uint32_t host_wait_us;
	/* the bottleneck's rate as packet trains read it: the lower median
	 * of the trains of DATA since the last FEEDBACK, kbit/s of IP
	 * bytes; 0: none (receiver/core/rtrain.h) */
	uint32_t train_kbps;
	const uint8_t *ranges; /* nranges (gap, length) varint pairs */
	size_t ranges_len;
} salvo_pkt_feedback;

typedef struct salvo_pkt_status {
	uint8_t phase;
	uint32_t srtt_us;      /* sender's smoothed RTT (0: unknown) */
	uint64_t ts;	       /* sender clock, ns, echoed in FEEDBACK */
	uint64_t sent_through; /* every byte below was sent at least once */
	uint64_t datagrams_sent;
	uint32_t ranges_have;	/* VERDICT held ranges [0, n) are here */
	uint32_t verdicts_have; /* VERDICT verdicts of entries [0, n) too */
} salvo_pkt_status;

/* VERDICT (see enum salvo_verdict).  ranges and runs point into the
 * packet; iterate them with salvo_wire_verdict_iter. */
typedef struct salvo_pkt_verdict {
	uint32_t ranges_total; /* held ranges in the whole list */
	uint32_t first_range;  /* index of this packet's first range */
	uint32_t first_file;   /* entry of this packet's first verdict */
	uint16_t nranges, nruns;
	uint32_t nfiles; /* entries the runs cover (decoded) */
	const uint8_t *ranges;
	size_t ranges_len;
	const uint8_t *runs;
	size_t runs_len;
} salvo_pkt_verdict;

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
		salvo_pkt_init init;
		salvo_pkt_resp resp;
		salvo_pkt_cookie cookie;
		salvo_pkt_key key;
		salvo_pkt_manifest manifest;
		salvo_pkt_feedback feedback;
		salvo_pkt_status status;
		salvo_pkt_file_done file_done;
		salvo_pkt_close close;
		salvo_pkt_error error;
		salvo_pkt_verdict verdict;
	} u;
} salvo_pkt;

/* ---- handshake payloads (inside the Noise messages) ---- */

/* INIT's payload: what version 2's HELLO carried, a stamp against
 * replays, the suites and the sender's lanes.  40 bytes. */
typedef struct salvo_init_payload {
	uint8_t stamp[SALVO_STAMP_BYTES]; /* salvo_wire_stamp of the sender's
					     wall clock */
	uint8_t suites;			  /* offered, SALVO_SUITES_KNOWN bits */
	uint8_t lanes;			  /* 1 .. SALVO_LANES_MAX */
	uint16_t datagram_bytes;	  /* max UDP payload the sender sends */
	uint32_t caps;			  /* SALVO_CAP_* offered */
	uint32_t block_bytes;		  /* block size of the data stream */
	uint64_t total_bytes;		  /* length of the data stream */
	uint32_t file_count;		  /* manifest entries */
	uint32_t manifest_bytes;	  /* length of the encoded manifest */
} salvo_init_payload;

/* RESP's payload: accepted (status 0, the suite chosen) or refused (a
 * negative SALVO_ERR_* and a short reason). */
typedef struct salvo_resp_payload {
	int32_t status;
	uint8_t suite;	  /* the AEAD suite (aead.h), 0 when refused */
	uint32_t caps;	  /* agreed: a subset of INIT's (SALVO_CAP_LZ4) */
	uint16_t msg_len; /* <= SALVO_RESP_MSG_MAX */
	const char *msg;  /* not NUL-terminated, no NUL inside */
} salvo_resp_payload;

/* The 12-byte stamp of a wall-clock time (ns since 1970): the TAI64
 * label 2^62 + seconds, then the nanoseconds, big-endian, so memcmp
 * orders stamps by time.  Full nanoseconds (unlike WireGuard's rounding)
 * keep two sessions a sender opens at once with one key distinct; the
 * stamp travels encrypted. */
void salvo_wire_stamp(uint8_t out[SALVO_STAMP_BYTES], uint64_t realtime_ns);

/* Writes the 40 bytes of an INIT payload.  Returns
 * SALVO_INIT_PAYLOAD_BYTES, or SALVO_ERR_TOOBIG when a field is out of
 * range (the same rules the decoder applies). */
int salvo_wire_init_payload_encode(uint8_t out[SALVO_INIT_PAYLOAD_BYTES],
				   const salvo_init_payload *ip);
/* Reads and checks an INIT payload of len bytes.  0, SALVO_ERR_TRUNCATED
 * or SALVO_ERR_MALFORMED (a field out of range, an inconsistent size). */
int salvo_wire_init_payload_decode(const uint8_t *buf, size_t len,
				   salvo_init_payload *ip);

/* Writes a RESP payload into out[0, cap): its length, or
 * SALVO_ERR_TOOBIG. */
int salvo_wire_resp_payload_encode(uint8_t *out, size_t cap,
				   const salvo_resp_payload *rp);
/* Reads a RESP payload (rp->msg points into buf).  0,
 * SALVO_ERR_TRUNCATED or SALVO_ERR_MALFORMED. */
int salvo_wire_resp_payload_decode(const uint8_t *buf, size_t len,
				   salvo_resp_payload *rp);

/* ---- decoding ---- */

/* Reads the header of buf[0, len): version, type, and the rest of the
 * header of that kind (sealed packets: at least header + tag long).
 * Returns 0, SALVO_ERR_TRUNCATED, SALVO_ERR_TOOBIG (over the largest
 * datagram), SALVO_ERR_VERSION or SALVO_ERR_MALFORMED (unknown type,
 * non-zero reserved byte, lane past SALVO_LANES_MAX, session 0). */
int salvo_wire_decode_header(const void *buf, size_t len, salvo_pkt_hdr *h);

/* Decodes one whole datagram: a handshake packet as it came, a sealed
 * packet once opened in place (its body is read as plaintext, the tag
 * skipped).  Returns 0 and fills *out, or a negative SALVO_ERR_* naming
 * the first problem.  Never reads outside buf. */
int salvo_wire_decode(const void *buf, size_t len, salvo_pkt *out);

/* ---- encoding ---- */

/* Writes the DATA header for a payload the caller puts right after it:
 * the 16-byte sealed header (lane, packet number pn) and the block
 * fields; with SALVO_DATA_F_LZ4 in flags also stream_len (ignored
 * otherwise).  Returns the header's length, SALVO_DATA_HDR_BYTES (28) or
 * SALVO_DATA_LZ4_HDR_BYTES (32).  The caller then seals bytes [16, header
 * + payload) with the first 16 as associated data, the tag after them. */
uint32_t salvo_wire_data_header(uint8_t *hdr, uint32_t session, uint8_t flags,
				uint8_t lane, uint64_t pn, uint32_t block,
				uint32_t offset, uint32_t block_crc,
				uint32_t stream_len);

/*
 * Encoders for every other type: write a whole packet into buf (cap
 * bytes) and return its length, or SALVO_ERR_TOOBIG if it does not fit /
 * a field is out of range, SALVO_ERR_INVAL for DATA and FEEDBACK (their
 * own encoders).  p->hdr.session, flags, lane and pn are taken from p;
 * version and type are set by the encoder.  Sealed packets come out in
 * plaintext with SALVO_TAG_BYTES of zeros for the tag, counted in the
 * length: seal them in place.  INIT comes out with zero MACs
 * (salvo_cookie_add_macs fills them over the first
 * SALVO_INIT_BYTES - SALVO_INIT_MACS_BYTES bytes).
 */
int salvo_wire_encode(void *buf, size_t cap, const salvo_pkt *p);

/* FEEDBACK ranges are encoded separately because their count depends on
 * the room left.  salvo_wire_encode_feedback writes fb's fixed fields and
 * as many of the n ranges (ascending, non-overlapping, each start >=
 * fb->cum and end <= fb->list_end; else SALVO_ERR_INVAL) as fit in cap
 * (tag included), and stores that count in *written.  It sets
 * SALVO_FB_F_TRUNCATED and list_end to the start of the first range left
 * out when not all fit.  lane and pn go into the header. */
typedef struct salvo_range {
	uint64_t start, end; /* [start, end) */
} salvo_range;

int salvo_wire_encode_feedback(void *buf, size_t cap, uint32_t session,
			       uint8_t flags, uint8_t lane, uint64_t pn,
			       const salvo_pkt_feedback *fb,
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

/* VERDICT is encoded here because what fits depends on the room.  It
 * writes held ranges [first_range, ranges_total) of ranges (ascending,
 * disjoint, non-empty, below SALVO_TOTAL_MAX_BYTES; else SALVO_ERR_INVAL)
 * and then verdicts [first_file, nfiles) (verdict[i] per entry, err[i]
 * the errno of a FAILED one; err may be NULL), as many of each as fit in
 * cap (tag included), ranges first.  *ranges_written and *files_written
 * say how many went in.  Returns the length or SALVO_ERR_TOOBIG (not even
 * the fixed part fits, a bad verdict code). */
int salvo_wire_encode_verdict(void *buf, size_t cap, uint32_t session,
			      uint64_t pn, const salvo_range *ranges,
			      uint32_t ranges_total, uint32_t first_range,
			      const uint8_t *verdict, const int32_t *err,
			      uint32_t nfiles, uint32_t first_file,
			      uint32_t *ranges_written,
			      uint32_t *files_written);

/* Iterates a decoded VERDICT (already validated by salvo_wire_decode):
 * next_range returns 1 with the next held range, 0 after the last;
 * next_run returns 1 with the next run of count entries sharing a
 * verdict (and errno), 0 after the last. */
typedef struct salvo_verdict_iter {
	const salvo_pkt_verdict *v;
	size_t rpos, upos;
	uint64_t prev_end;
	unsigned rleft, uleft;
} salvo_verdict_iter;

void salvo_wire_verdict_iter(salvo_verdict_iter *it,
			     const salvo_pkt_verdict *v);
int salvo_wire_verdict_next_range(salvo_verdict_iter *it, salvo_range *r);
int salvo_wire_verdict_next_run(salvo_verdict_iter *it, uint32_t *count,
				uint8_t *verdict, int32_t *err);

/* Payload bytes per DATA datagram of the given size. */
static inline uint32_t salvo_wire_payload_bytes(uint32_t datagram_bytes)
{
	return datagram_bytes - SALVO_DATA_OVERHEAD_BYTES;
}

#endif
