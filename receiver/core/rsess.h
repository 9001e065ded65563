/*
 * Internal to the receiver core: the per-session state shared by
 * receiver.c (table, handshake, timers, feedback) and rdata.c (manifest,
 * data, blocks, files).
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

/* receiver.c */
void rs_send(salvo_rsess *s, const void *buf, size_t len);
void rs_feedback(salvo_rsess *s, uint64_t now);
void rs_schedule_feedback(salvo_rsess *s, uint64_t when);
void rs_fail(salvo_rsess *s, int code, int sys_errno, uint32_t file,
	     const char *msg, uint64_t now);
uint64_t rs_reorder_window(const salvo_rsess *s);
/* Feedback while data flows: about every RTT/4, at most every 1 ms. */
uint64_t rs_feedback_interval(const salvo_rsess *s);

/* rdata.c */
void rs_on_manifest(salvo_rsess *s, const salvo_pkt_manifest *m, uint64_t now);
void rs_on_data(salvo_rsess *s, const salvo_pkt *p, uint64_t now);
void rs_on_file_done(salvo_rsess *s, const salvo_pkt_file_done *f,
		     uint64_t now);
void rs_block_result(salvo_rsess *s, uint32_t block, int ok, uint64_t now);
void rs_file_result(salvo_rsess *s, uint32_t file, int result, const char *msg,
		    uint64_t now);
void rs_free_data(salvo_rsess *s);

/* Copies a C string into dst (cap bytes, NUL-terminated); cores have no
 * snprintf. */
size_t rs_strlcpy(char *dst, const char *src, size_t cap);
size_t rs_strlen(const char *s);
/* Appends src to dst (cap bytes). */
size_t rs_strlcat(char *dst, const char *src, size_t cap);

#endif
