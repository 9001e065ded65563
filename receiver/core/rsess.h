/*
 * Internal to the receiver core: the per-session state and the session's
 * outputs (rsess.c: packets to the peer, feedback, failure).
 *
 * The core's files depend one way only:
 *
 *   receiver.c  table, handshake, dispatch, timers
 *      |   \
 *      |    rdata.c  manifest, data, blocks, files (rdata.h)
 *      |   /
 *   rsess.c     sending, feedback, failing a session (this header)
 *      |
 *   rxstream.c  one byte stream's holes
 *
 * rsess.c calls nothing above it; rdata.c calls only rsess.c and
 * rxstream.c; receiver.c calls all of them.
 */
#ifndef SALVO_RSESS_H
#define SALVO_RSESS_H

#include "receiver/core/receiver.h"
#include "receiver/core/rxstream.h"

enum rs_state {
	RS_MANIFEST, /* collecting the manifest */
	RS_DATA,     /* collecting file data */
	RS_COMPLETE, /* every file committed; lingering to answer */
	RS_FAILED,   /* over with an error; lingering to repeat it */
};

enum { BLK_EMPTY, BLK_RECEIVING, BLK_VERIFYING, BLK_VERIFIED };
enum { FILE_PENDING, FILE_FINALIZING, FILE_DONE };

#define RS_MAX_BLOCK_FAILURES 3

struct salvo_rsess {
	salvo_receiver *r;
	uint32_t id;
	salvo_addr peer;
	uint64_t nonce;
	int state;
	void *user;
	uint64_t last_rx;
	uint64_t linger_until;

	/* from HELLO */
	uint32_t block_bytes, payload;
	uint16_t datagram_bytes;
	uint64_t total;
	uint32_t file_count, manifest_bytes;

	/* manifest */
	uint8_t *mbuf;
	salvo_rxstream mrx;
	salvo_manifest m;
	int have_manifest;

	/* data */
	salvo_rxstream drx;
	uint64_t nblocks;
	uint32_t *bcrc;
	uint8_t *bstate, *bfails;
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
	uint64_t datagrams;

	/* failure, repeated to the sender while lingering */
	int err_code, err_errno;
	uint32_t err_file;
	char err_msg[SALVO_ERROR_MSG_MAX + 1];
};

struct salvo_receiver {
	const salvo_mem *mem;
	salvo_receiver_config cfg;
	salvo_receiver_cb cb;
	salvo_rsess **sess;
	uint64_t rng;
	salvo_receiver_stats st;
};

#define RS_MS 1000000ull
#define RS_LINGER_NS (2000 * RS_MS) /* an ended session answers this long */

/* Sends one packet to the session's peer (counted in bytes_sent). */
void rsess_send(salvo_rsess *s, const void *buf, size_t len);
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
/* How long a hole may stay unreported in case it is reordering. */
uint64_t rsess_reorder_window(const salvo_rsess *s);
/* Feedback while data flows: about every RTT/4, at most every 1 ms. */
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
