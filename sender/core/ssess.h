/*
 * Internal to the sender core: the session's state, shared by sender.c
 * (phases, scheduling, feedback) and shake.c (the handshake and packet
 * protection).  sender.c calls shake.c for everything that touches a
 * key; shake.c calls back only ss_fail, ss_rtt_sample and
 * ss_rate_seed.
 */
#ifndef SALVO_SSESS_H
#define SALVO_SSESS_H

#include "common/core/rate.h"
#include "common/crypto/aead.h"
#include "common/crypto/cookie.h"
#include "common/crypto/noise.h"
#include "common/crypto/replay.h"
#include "sender/core/sender.h"
#include "sender/core/txstream.h"

enum { PH_KEY, PH_HANDSHAKE, PH_MANIFEST, PH_DATA, PH_DONE, PH_FAILED };

#define SS_MAX_ACTIVE 64
/* have_digest of a file the caller abandoned (salvo_sender_abandon) */
#define SS_DIGEST_ABANDONED 2
#define SS_MS 1000000ull
/* Handshakes kept at once: the one just sent and the one before, so a
 * RESP slower than the INIT retransmission still completes. */
#define SS_HANDSHAKES 2

typedef struct ss_active {
	uint32_t id;
	int in_use, is_new;
	int is_first; /* new data (a whole block or held-split pieces) */
	int is_dup;   /* the second copy of tail repairs (sender.c) */
	/* progress: ranges [0, prog_range) and prog_off bytes of the next
	 * went out (salvo_sender_work_progress, work_done) */
	uint32_t prog_range, prog_off;
	/* what account_sent took from the caller's reports so far: stream
	 * bytes, their raw datagram count, and what went for them */
	uint64_t acc_stream, acc_cut, acc_dg, acc_wire;
	uint32_t nranges;
	salvo_work_range ranges[SALVO_WORK_MAX_RANGES];
} ss_active;

struct salvo_sender {
	const salvo_mem *mem;
	salvo_sender_config cfg;
	int phase;
	int err, peer_code, peer_errno;
	char peer_msg[SALVO_ERROR_MSG_MAX + 1];
	int close_pending; /* CLOSE still to send */
	int close_reason;

	/* handshake (shake.c) */
	uint32_t index;	  /* ours, echoed in RESP, COOKIE and KEY */
	uint32_t session; /* the receiver's, from RESP */
	uint8_t peer_key[32];
	salvo_noise hs[SS_HANDSHAKES];
	uint64_t hs_sent_at[SS_HANDSHAKES];
	int hs_tries;	 /* INITs (or KEY_REQs) sent */
	int confirm_key; /* PH_HANDSHAKE: no KEY has confirmed peer_key */
	int key_req_due; /* a KEY_REQ goes right after the INIT sent */
	uint32_t refused_in_row; /* ICMP refusals since the last answer */
	int refused;		 /* they ended the handshake */
	salvo_cookie_maker cookie;
	uint64_t start, next_hs, hs_rto;
	uint64_t hs_deadline; /* no RESP by then: the handshake failed */
	/* session loss (sender.c): the receiver has been silent, and INITs
	 * probe for a new session beside the old one; pending: a RESP
	 * answered (at resp_at) and its keys wait in next_*, adopted only
	 * if the old session stays silent; reconnect_at: the last adoption
	 * (they are rate-limited) */
	int reconnecting, pending;
	uint64_t resp_at, reconnect_at;
	uint32_t next_session;
	int next_suite;
	uint8_t next_send_key[32], next_recv_key[32];

	/* packet protection, from RESP on */
	int suite;
	uint8_t send_key[32]; /* lanes' keys derive from it */
	salvo_aead tx;	      /* lane 0: our control packets */
	salvo_aead rx;	      /* the receiver's packets */
	salvo_replay rx_window;

	/* manifest and files */
	uint8_t *manifest;
	uint32_t manifest_len;
	uint32_t file_count;
	uint8_t *is_dir;
	uint8_t (*digest)[SALVO_DIGEST_BYTES];
	uint8_t *have_digest;	/* 0, 1, or SS_DIGEST_ABANDONED */
	uint32_t digests_known; /* files [0, n) have digests */
	uint32_t digests_acked; /* receiver holds [0, n) */
	uint32_t fd_next;	/* next digest to send */
	uint64_t fd_last_sent;
	unsigned fd_backoff; /* FILE_DONE resends since digests last moved */
	uint32_t fd_once; /* 1 + the file whose flagged FILE_DONE went once */
	uint32_t fd_high; /* files [0, n) had their digests sent */
	/* abandoned files' bytes in the stream, tag file + 1, and the
	 * repairs of them parked until digests_acked passes the file
	 * (abandon.c); walk_*: the manifest entry last looked up there, its
	 * offset in the manifest and in the stream */
	salvo_rangeset fd_spans, parked;
	uint32_t walk_i;
	size_t walk_pos;
	uint64_t walk_off;
	/* files abandoned after their digest went out (salvo_sender_abandon):
	 * each [i, i+1); their FILE_DONE goes again, flagged, until the
	 * receiver restates them FAILED or the session completes */
	salvo_rangeset late_fd;
	uint64_t late_fd_next; /* the next of them to send this round */
	uint64_t late_fd_due;  /* the next round */
	unsigned late_fd_backoff;
	uint64_t late_fd_sent; /* when the last of them went */
	uint32_t files_done;

	/* streams */
	salvo_txstream man, data;
	uint32_t payload; /* bytes per DATA datagram */
	uint32_t chunk;	  /* bytes per MANIFEST packet */
	uint64_t nblocks;
	uint32_t *block_crc;
	ss_active active[SS_MAX_ACTIVE];

	/* what the receiver held and decided (VERDICT, wire.h) */
	salvo_rangeset held;	/* data-stream bytes never to send */
	uint32_t ranges_total;	/* held ranges announced */
	uint32_t ranges_have;	/* [0, n) of them here */
	uint32_t verdicts_have; /* entries [0, n) have their verdicts */
	uint32_t late_have;	/* entries that failed at the receiver later */
	uint8_t *verdict;	/* per entry */
	int32_t *verdict_err;
	uint32_t next_work_id;

	/* timing */
	uint64_t last_rx, last_fb, next_status, status_interval;
	/* tail_done set next_status a margin after a repair, likely before
	 * the control thread's wait ends: the idle block-senders watch it
	 * (poll_any) until it goes */
	int status_early;
	uint64_t srtt, rttvar, min_rtt, last_echo;
	/* the newest FEEDBACK's seq (have_fb_seq: one came this session) */
	uint32_t fb_seq;
	int have_fb_seq;
	int have_rtt;

	/* rate */
	salvo_rate_state rate_state;
	const salvo_rate_ops *rate;
	/* the bounds in force (ceiling 0: none); limits_moved: the user
	 * moved them (salvo_sender_set_rate_limits), so the rate is clamped
	 * here too, for algorithms without set_limits */
	uint64_t ceiling_bps, floor_bps;
	int limits_moved;
	uint64_t datagrams_sent; /* all packets handed out */
	uint64_t data_datagrams; /* DATA datagrams handed out */
	uint64_t lost_bytes;	 /* data reported lost, queued again */
	/* the tail: repairs sent once no new data is left go a second time
	 * (sender.c, tail_done), from dup, while dup_budget lasts */
	salvo_rangeset dup;
	uint64_t dup_budget;
	int app_limited; /* ran out of work since the last feedback */
	/* compression: stream bytes sent and the DATA payload bytes that
	 * carried them (both halved now and then: a recent ratio), and the
	 * rate samples' counters in payload bytes: delivered, the
	 * receiver's new datagrams (dgrams_seen its last count), each a
	 * full payload; lost, stream bytes at the ratio */
	uint32_t caps; /* agreed in RESP */
	uint64_t cz_stream, cz_payload;
	uint64_t dgrams_seen, held_wire, lost_wire;
	int held_rebase; /* a new session (reconnect): its first FEEDBACK
			    sets dgrams_seen, delivering nothing */
	/* FEEDBACK.host_drops: the last seen this session and the growth
	 * summed over the transfer */
	uint32_t drops_seen;
	uint64_t host_drops;

	salvo_sender_stats st;
};

/* sender.c */
void ss_fail(salvo_sender *s, int err, int send_close);
void ss_rtt_sample(salvo_sender *s, uint64_t rtt);
/* Once, when the handshake completes: tells the rate algorithm the link
 * hint and the handshake's RTT (rate.h, seed). */
void ss_rate_seed(salvo_sender *s, uint64_t now);
/* Copies a message (len bytes, not NUL-terminated) into peer_msg with
 * control characters replaced by '?'. */
void ss_set_msg(salvo_sender *s, const char *msg, size_t len);

/* held.c: VERDICT and new data around held bytes */
/* Every held range and verdict is here. */
int ss_prepared(const salvo_sender *s);
/* Moves the new-data cursor past held bytes it stands on. */
void ss_skip_held(salvo_sender *s);
/* Held bytes at or above stream offset x. */
uint64_t ss_held_above(const salvo_sender *s, uint64_t x);
/* A decoded VERDICT: 1 when it added something, else 0. */
int ss_on_verdict(salvo_sender *s, const salvo_pkt_verdict *v);
/* Fills a (fresh) with the next new data: one whole block, or the
 * pieces of a partly held block; moves the cursor. */
void ss_take_new(salvo_sender *s, ss_active *a);

/* abandon.c: repairs that wait for an abandoned file's FILE_DONE */
/* File i was abandoned: its bytes' repairs wait from now on.  0 or
 * SALVO_ERR_NOMEM. */
int ss_abandon_span(salvo_sender *s, uint32_t i);
/* [start, end) of the data stream holds bytes of an abandoned file the
 * receiver's digests_have has not passed: a repair of it waits. */
int ss_repair_waits(const salvo_sender *s, uint64_t start, uint64_t end);
/* Takes [start, end) out of q (the retransmission queue or the tail's
 * second copies); a retransmission waits in parked, a copy is dropped.
 * 0 or SALVO_ERR_NOMEM. */
int ss_park(salvo_sender *s, salvo_rangeset *q, uint64_t start, uint64_t end);
/* digests_acked moved: every parked repair goes back to the queue (those
 * still waiting are parked again as they come up).  0 or
 * SALVO_ERR_NOMEM. */
int ss_unpark(salvo_sender *s);

/* shake.c */
/* Draws the index and sets up the cookie maker.  0 or SALVO_ERR_INVAL. */
int ss_shake_start(salvo_sender *s, uint64_t now);
/* PH_KEY / PH_HANDSHAKE: writes the next KEY_REQ or INIT into buf when
 * one is due and returns its length; else 0 with *deadline set (when to
 * poll again), or a negative code once the session failed (the
 * timeout). */
int ss_shake_poll(salvo_sender *s, uint64_t now, void *buf, size_t cap,
		  uint64_t *deadline);
/* A decoded RESP, COOKIE or KEY.  Returns 0 or the fatal error that
 * ended the session (a refusal). */
int ss_shake_on_packet(salvo_sender *s, const salvo_pkt *p, size_t len,
		       uint64_t now);
/* Session loss (sender.c).  probe_start: INITs for a new session from
 * now (a fresh index), while the old session's keys stay in use; a RESP
 * then fills next_* and sets pending.  probe: the next such INIT when due
 * (its length), else 0 with *deadline.  adopt: the pending session's keys
 * become the session's.  cancel: the probe ends (the old session
 * answered), its handshake state and pending keys wiped. */
void ss_shake_probe_start(salvo_sender *s, uint64_t now);
int ss_shake_probe(salvo_sender *s, uint64_t now, void *buf, size_t cap,
		   uint64_t *deadline);
int ss_shake_adopt(salvo_sender *s);
void ss_shake_cancel(salvo_sender *s);
/* Seals the encoded control packet buf[0, len) (pn already in its header)
 * on lane 0.  0 or SALVO_ERR_REKEY. */
int ss_seal(salvo_sender *s, uint8_t *buf, size_t len);
/* Opens a sealed packet from the receiver in place, after its header h
 * was read.  0, or the reason it is dropped (SALVO_ERR_AUTH,
 * SALVO_ERR_REPLAY, SALVO_ERR_NOSESSION, SALVO_ERR_REKEY). */
int ss_open(salvo_sender *s, uint8_t *buf, size_t len, const salvo_pkt_hdr *h);
/* Wipes every key. */
void ss_shake_free(salvo_sender *s);

#endif
