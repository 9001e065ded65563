/*
 * Internal to the receiver core: the per-session state and the session's
 * outputs (rsess.c: packets to the peer, feedback, failure).
 *
 * The core's files depend one way only:
 *
 *   receiver.c  table, opening sealed packets, dispatch, timers
 *      |   \
 *      |    rshake.c  INIT, KEY_REQ: keys, cookies, stamps, limits
 *      |    rdata.c   manifest, data, blocks, files (rdata.h)
 *      |   /
 *   rsess.c     sealing and sending, feedback, failing a session (this
 *               header)
 *      |
 *   rxstream.c  one byte stream's holes
 *
 * rsess.c calls nothing above it; rdata.c calls only rsess.c and
 * rxstream.c; rshake.c creates sessions (rsess.c to set up their keys);
 * receiver.c calls all of them.
 */
#ifndef SALVO_RSESS_H
#define SALVO_RSESS_H

#include "common/crypto/aead.h"
#include "common/crypto/cookie.h"
#include "common/crypto/replay.h"
#include "receiver/core/receiver.h"
#include "receiver/core/rtrain.h"
#include "receiver/core/rxstream.h"

enum rs_state {
	RS_MANIFEST, /* collecting the manifest */
	RS_DATA,     /* collecting file data */
	RS_COMPLETE, /* every file committed; lingering to answer */
	RS_FAILED,   /* over with an error; lingering to repeat it */
};

enum { BLK_EMPTY, BLK_RECEIVING, BLK_VERIFYING, BLK_VERIFIED };
/* FILE_ABANDONED: the sender gave it up, it fails once its blocks are
 * verified (rdata.c) */
enum { FILE_PENDING, FILE_FINALIZING, FILE_DONE, FILE_ABANDONED };

#define RS_MAX_BLOCK_FAILURES 3
/* VERDICT packets sent at once; more follow each confirming STATUS. */
#define RS_VERDICT_BURST 16

/* One lane of the sender's: its key and its replay window. */
typedef struct rs_lane {
	salvo_aead a;
	salvo_replay window;
} rs_lane;

struct salvo_rsess {
	salvo_receiver *r;
	uint32_t id;
	salvo_addr peer; /* where replies go: lane 0's newest packet */
	int state;
	void *user;
	uint64_t last_rx;
	uint64_t linger_until;

	/* from the handshake */
	uint8_t peer_key[32];
	uint32_t sender_index;
	int half_open;	  /* no sealed packet from the sender yet */
	uint64_t created; /* when INIT made it */
	salvo_receiver_auth auth;
	int suite;
	uint32_t caps; /* agreed in RESP (SALVO_CAP_*) */
	uint32_t nlanes;
	rs_lane *lanes;	  /* the sender's, nlanes */
	salvo_aead tx;	  /* ours: lane 0 the other way */
	uint64_t peer_pn; /* lane 0: highest packet number seen + 1 */

	/* from INIT */
	uint32_t block_bytes, payload;
	uint16_t datagram_bytes;
	uint64_t total;
	uint32_t file_count, manifest_bytes;

	/* manifest */
	uint8_t *mbuf;
	salvo_rxstream mrx;
	salvo_manifest m;
	int have_manifest;

	/* prepared (rverdict.c): what the receiver held and decided, and
	 * how much of it the sender confirmed */
	salvo_rangeset held_set; /* filled by mark_present, then frozen */
	salvo_range *held;	 /* its ranges, for VERDICT packets */
	uint32_t nheld;
	uint8_t *verdict; /* per entry, NULL: all SEND */
	int32_t *verdict_err;
	int preparing; /* inside the prepare callback */
	uint32_t vd_ranges_echo, vd_files_echo; /* from STATUS */
	uint64_t vd_sent_at;
	/* files that failed alone after the data phase started (their
	 * commit): the verdict restated as FAILED from late_first on;
	 * late_echo: how many of them the sender holds (STATUS) */
	uint32_t late_n, late_first, late_echo;

	/* data */
	salvo_rxstream drx;
	uint64_t nblocks;
	uint32_t *bcrc;
	uint8_t *bstate, *bfails;
	uint8_t *bpartial; /* per block: some bytes held, no CRC check */
	/* blocks below all verified: FEEDBACK's cum stops at the next one
	 * (rsess_feedback), whose bytes a failed check may take back */
	uint64_t verified_below;
	uint32_t *fpending; /* unverified blocks per file */
	uint8_t *fstate, *fhave;
	uint8_t (*digest)[SALVO_DIGEST_BYTES];
	uint32_t digests_have, files_done, files_regular;

	/* feedback */
	uint32_t fb_seq;
	uint64_t next_fb, last_fb;
	int data_since_fb;
	uint64_t status_ts, status_at;
	uint64_t srtt_ns;
	/* the longest a first transmission arrived after its hole became
	 * reportable (reordering seen; rsess_reorder_window) */
	uint64_t reorder_ns;
	uint64_t datagrams;
	uint64_t drops0; /* the receiver's host_drops when this began */
	/* DATA's waits in the host's sockets since the last FEEDBACK:
	 * their sum and count */
	uint64_t wait_sum, wait_n;
	rtrain train; /* DATA's packet trains since the last FEEDBACK */

	/* failure, repeated to the sender while lingering */
	int err_code, err_errno;
	uint32_t err_file;
	char err_msg[SALVO_ERROR_MSG_MAX + 1];
};

/* The newest INIT stamps of one sender key (rshake.c). */
typedef struct rs_stamps {
	uint8_t key[32];
	int in_use, authorised;
	uint64_t used;	 /* now at the last accepted INIT: LRU */
	uint64_t floor;	 /* stamps at or below are refused */
	uint64_t newest; /* highest accepted */
	uint64_t recent[8];
	uint32_t nrecent;
} rs_stamps;

/* A token bucket, in thousandths of a token. */
typedef struct rs_bucket {
	uint64_t milli, at;
} rs_bucket;

#define RS_SOURCES 256	   /* per-address INIT counters (hashed) */
#define RS_STAMP_KEYS 1024 /* sender keys whose stamps are remembered */

struct salvo_receiver {
	const salvo_mem *mem;
	salvo_receiver_config cfg;
	salvo_receiver_cb cb;
	salvo_rsess **sess;
	uint64_t rng;
	uint32_t half_open; /* sessions still half-open */
	salvo_cookie_checker cookies;
	rs_stamps *stamps; /* RS_STAMP_KEYS */
	rs_bucket sources[RS_SOURCES];
	rs_bucket replies;
	/* how long DATA waited in the host's sockets before we read it
	 * (now - the kernel's arrival), the longest this period and the
	 * last: a hole may be a datagram still waiting in another socket */
	uint64_t wait_ns, wait_prev_ns, wait_at;
	salvo_receiver_stats st;
};

#define RS_MS 1000000ull
#define RS_LINGER_NS (2000 * RS_MS) /* an ended session answers this long */
/* A half-open session (RESP sent, nothing sealed back) lives this long,
 * or the idle timeout when shorter. */
#define RS_HALF_OPEN_NS (10000 * RS_MS)
/* Half-open sessions kept per (sender key, attempt): the INIT before a
 * retransmitted one may be the one whose RESP arrives. */
#define RS_HALF_OPEN_PER_ATTEMPT 2
/* A stamp may be this much older than the newest of its key and still
 * be accepted once (two sessions one key opens at once). */
#define RS_STAMP_WINDOW_NS (10000 * RS_MS)

/* Periods of the socket wait's longest (wait_ns above). */
#define RS_WAIT_PERIOD_NS (100 * RS_MS)
/* The most of it a reorder window takes. */
#define RS_WAIT_MAX_NS (200 * RS_MS)

/* The packet number the session's next sealed packet carries. */
uint64_t rsess_pn(const salvo_rsess *s);
/* Seals one encoded packet (its header carries rsess_pn) and sends it to
 * the session's peer (counted in bytes_sent). */
void rsess_send(salvo_rsess *s, uint8_t *buf, size_t len);
/* Frees a session's keys and lanes (wiped). */
void rsess_free_keys(salvo_rsess *s);
/* Sends the session's ERROR (err_code, err_msg...) again. */
void rsess_send_error(salvo_rsess *s);
/* Sends FEEDBACK now (up to a few packets for a long missing list). */
void rsess_feedback(salvo_rsess *s, uint64_t now);
/* Brings the next feedback forward to `when` (never later). */
void rsess_schedule_feedback(salvo_rsess *s, uint64_t when);
/* Ends the session with an error: ERROR to the peer (unless it aborted
 * or went silent), session_end to the engine, then linger.  No-op on a
 * session already over. */
void rsess_fail(salvo_rsess *s, int code, int sys_errno, uint32_t file,
		const char *msg, uint64_t now);
/* rverdict.c: sets up held ranges and verdicts as the data phase
 * starts (0 or SALVO_ERR_NOMEM); sends VERDICT packets from what the
 * sender confirmed (force: now, else at most once per RTT); a STATUS's
 * echo; frees it all. */
int rverdict_start(salvo_rsess *s, uint64_t now);
void rverdict_send(salvo_rsess *s, uint64_t now, int force);
void rverdict_on_status(salvo_rsess *s, const salvo_pkt_status *st,
			uint64_t now);
void rverdict_free(salvo_rsess *s);
/* 1 when entry i sends nothing (a skip, a refusal, a failure). */
int rverdict_is_out(const salvo_rsess *s, uint32_t i);
/* Entry i, all its bytes in, could not be stored (errno err): its
 * verdict becomes FAILED and is restated to the sender, the session goes
 * on.  0, or SALVO_ERR_NOMEM. */
int rverdict_late_fail(salvo_rsess *s, uint32_t i, int err, uint64_t now);
/* 1 once the sender holds every late failure (or there is none). */
int rverdict_late_held(const salvo_rsess *s);

/* How long a hole may stay unreported in case it is reordering: a
 * little more than the reordering seen so far (reorder_ns), at least
 * 1 ms, at most srtt / 8 and 50 ms. */
uint64_t rsess_reorder_window(const salvo_rsess *s);
/* Feedback while data flows: about every RTT/4, at most every 1 ms. */
/* How long after a STATUS or a new hole the FEEDBACK that reports the
 * holes it made reportable goes: the reordering window once the sender
 * has sent every byte (the tail: each millisecond there is the
 * transfer's), else at least a sixteenth of the RTT (clamped to 1-50
 * ms).  Feedback closer together than that is what the rate controller
 * (common/core/rate_fair.c, which snapshots deliveries every 1/32 of a
 * round) was not tuned to: 1 ms, and 1/32 RTT, after the answer to a
 * STATUS made fair's start-up leave at a tenth of a 1 %-loss path's
 * rate (tests/sim tail-16m-1pct: 2.2 s instead of 1.5). */
uint64_t rsess_followup(const salvo_rsess *s);
uint64_t rsess_feedback_interval(const salvo_rsess *s);

/* The length of a C string, at most SALVO_ERROR_MSG_MAX. */
static inline size_t rsess_strlen(const char *s)
{
	size_t n = 0;
	while (n < SALVO_ERROR_MSG_MAX && s[n])
		n++;
	return n;
}

/* Copies a C string into dst (cap bytes, NUL-terminated); cores have no
 * snprintf.  Returns the bytes copied. */
static inline size_t rsess_strlcpy(char *dst, const char *src, size_t cap)
{
	size_t n = 0;
	if (!cap)
		return 0;
	while (src[n] && n + 1 < cap) {
		dst[n] = src[n];
		n++;
	}
	dst[n] = 0;
	return n;
}

/* Appends src to dst (cap bytes). */
static inline size_t rsess_strlcat(char *dst, const char *src, size_t cap)
{
	size_t n = 0;
	while (n < cap && dst[n])
		n++;
	return n + rsess_strlcpy(dst + n, src, cap - n);
}

#endif
