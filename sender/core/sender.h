/*
 * The sender protocol core: one session, sans-I/O.
 *
 * It owns the session's state (handshake, manifest, block scheduler,
 * retransmission queue, RTT, rate) and decides what goes out next; the
 * caller (an engine, or the simulator) moves bytes.  Time is always passed
 * in as `now`, monotonic nanoseconds.  The core never touches a socket, a
 * file, a thread or a clock.
 *
 * Driving it:
 *   salvo_sender_new(...)
 *   loop:
 *     salvo_sender_poll(s, now, &w, buf, cap)
 *       CONTROL  send buf[0..w.len) to the receiver
 *       DATA     send the ranges of w (see salvo_work); then, once every
 *                datagram of it has been handed to the network,
 *                salvo_sender_work_done(s, &w, crc, now)
 *       IDLE     nothing now; call again at w.deadline or when a packet
 *                arrives
 *       DONE / FAILED   the session is over (salvo_sender_result)
 *     on each datagram from the receiver: salvo_sender_on_packet()
 *
 * The session opens with one round trip (Noise IK, common/crypto/noise.h:
 * INIT, RESP), after an extra one (KEY_REQ, KEY) when the receiver's key
 * is not pinned yet.  From RESP on every packet either way is sealed
 * (common/crypto/aead.h); the core seals its control packets on lane 0
 * and opens the receiver's, block-sender threads seal DATA on their own
 * lanes (salvo_sender_lane, sender/core/emit.h).  Randomness and the wall
 * clock come in through the config, like `now`.
 *
 * Several block-sender threads may hold DATA work at once; the core is
 * not thread-safe, so an engine serialises calls with one lock (calls are
 * per block or per batch of ranges, not per datagram).
 */
#ifndef SALVO_SENDER_H
#define SALVO_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/manifest.h"
#include "common/core/mem.h"
#include "common/core/policy.h"
#include "common/core/rate.h"
#include "common/core/wire.h"
#include "common/crypto/aead.h"

typedef struct salvo_sender salvo_sender;

typedef struct salvo_sender_config {
	uint32_t block_bytes;	 /* data block size */
	uint16_t datagram_bytes; /* UDP payload (MTU less IP+UDP headers) */
	uint64_t rate_bps;	 /* fixed: pacing rate, above 0; other
				  * policies: ceiling, 0 none */
	uint64_t min_rate_bps;	 /* not fixed: floor; 0 none */
	enum salvo_rate_policy rate_policy; /* rate.h; adaptive: fair */
	uint64_t link_bps;     /* link hint seeding the start; 0 none */
	uint64_t window_bytes; /* max unacknowledged bytes; 0: automatic */
	uint64_t timeout_ns;   /* handshake / silence limit (e.g. 10 s) */
	int overwrite;	       /* enum salvo_send_overwrite (policy.h), in the
				  manifest: what the receiver does with a file it
				  has already (its bound decides, VERDICT says) */
	/* --checksum: NULL, or one BLAKE3 per entry (n, a folder's
	 * ignored) that the manifest carries so the receiver compares
	 * content instead of size and mtime; read by salvo_sender_new only */
	const uint8_t (*digests)[SALVO_ENTRY_DIGEST_BYTES];
	uint64_t initial_rto_ns; /* first INIT retransmission (e.g. 1 s) */

	/* Identity and keys (docs/SECURITY.md).  key_private: this sender's
	 * static X25519 key.  peer_key: the receiver's public key when
	 * has_peer_key; otherwise the session starts by asking the receiver
	 * for it (KEY_REQ) and calls pin(), which returns 0 to trust it or
	 * a negative SALVO_ERR_* with a message in err to refuse (the
	 * session then fails with SALVO_ERR_KEY).  pin is required without
	 * has_peer_key.  confirm_key (with has_peer_key and pin): peer_key
	 * is what known_hosts pinned, not a key the user gave, so the INIT
	 * goes at once (no key round trip) and a KEY_REQ follows each INIT
	 * until a KEY answers: the same key confirms it; another goes to
	 * pin() (a changed key is reported at once, not as a timeout, and a
	 * second pinned key is taken).  A KEY after RESP is ignored: RESP
	 * already proved the receiver holds the pinned key. */
	uint8_t key_private[32];
	uint8_t peer_key[32];
	int has_peer_key;
	int confirm_key;
	int (*pin)(void *ud, const uint8_t key[32], char *err, size_t errlen);
	void *pin_ud;
	/* Lanes that seal packets: 0 is the core's own (control packets),
	 * 1 .. lanes - 1 the caller's block-sender threads
	 * (salvo_sender_lane).  1 .. SALVO_LANES_MAX. */
	uint32_t lanes;
	/* AEAD suites this machine offers (aead.h masks:
	 * salvo_aead_local_suites()). */
	unsigned suites;
	/* SALVO_CAP_* offered in INIT (SALVO_CAP_LZ4: this sender may
	 * compress); the receiver agrees to a subset (salvo_sender_caps). */
	uint32_t caps;
	/* Wall clock = now + realtime_offset_ns: INIT's stamp, which the
	 * receiver needs to grow from one handshake to the next. */
	uint64_t realtime_offset_ns;
	/* n fresh random bytes (ephemeral keys, the attempt's index). */
	void (*random)(void *ud, void *buf, size_t n);
	void *random_ud;
} salvo_sender_config;

/* At most this many ranges in one DATA work item. */
#define SALVO_WORK_MAX_RANGES 64
/* Longest silence before the STATUS heartbeat backs off to its maximum. */
#define SALVO_STATUS_MAX_INTERVAL_NS 1000000000ull
#define SALVO_STATUS_MIN_INTERVAL_NS 1000000ull
/* A closed port fails a handshake after this many refusals in a row,
 * INITs this far apart: about 0.4 s (salvo_sender_on_refused). */
#define SALVO_REFUSED_LIMIT 3
#define SALVO_REFUSED_RETRY_NS 200000000ull

enum salvo_work_kind {
	SALVO_WORK_IDLE = 0,
	SALVO_WORK_CONTROL,
	SALVO_WORK_DATA,
	SALVO_WORK_DONE,
	SALVO_WORK_FAILED,
};

/* One contiguous range inside one block.  Without compression offset is a
 * multiple of the datagram payload size, so the range splits into whole
 * datagrams: each payload-size piece from offset, the last one possibly
 * shorter where the range (and then the block) ends.  With compression
 * (SALVO_CAP_LZ4) a datagram covers as many bytes as its LZ4 piece stands
 * for, so repairs start where a lost datagram started, anywhere in the
 * block (sender/core/emit.h). */
typedef struct salvo_work_range {
	uint32_t block;
	uint32_t offset; /* in the block */
	uint32_t len;
	uint64_t stream_offset; /* block * block_bytes + offset */
	uint32_t block_crc;	/* retransmissions: the block's CRC32C */
} salvo_work_range;

typedef struct salvo_work {
	int kind;	   /* enum salvo_work_kind */
	uint64_t deadline; /* IDLE: the next time the core wants a poll */
	/* IDLE: the same but for the heartbeat (STATUS), for the callers
	 * of salvo_sender_poll whose control thread sends those
	 * (salvo_sender_poll_control): new work comes with packets or at
	 * this time (the same as deadline in the handshake, and while a
	 * STATUS the tail brought forward, due a margin after a repair, has
	 * not gone yet) */
	uint64_t data_deadline;
	size_t len; /* CONTROL: bytes written into buf */
	/* DATA */
	uint32_t id; /* hand back to salvo_sender_work_done */
	int is_new;  /* first transmission of one whole block: the
			caller computes its CRC32C before sending */
	/* first transmission of every byte in ranges: the whole block
	 * (is_new), or the pieces of a block the receiver partly holds,
	 * widened to datagram boundaries (block_crc 0: the receiver checks
	 * no CRC for such blocks).  The caller hashes first transmissions
	 * into their files' digests, except files the receiver does not take
	 * whole (salvo_sender_verdict not SEND): bytes of those may be in
	 * the widened datagrams and are never all sent. */
	int is_first;
	/* DATA, filled in by the caller before salvo_sender_work_done when
	 * it compressed (0: sent raw, as cut): the datagrams it sent and
	 * their UDP payload bytes, so that datagram counts and the window
	 * follow what crossed the link; before salvo_sender_work_progress
	 * too (0 there: not reported), counting what went up to that
	 * progress, so that a compressed block's ratio is known while it
	 * paces out */
	uint64_t sent_datagrams, sent_wire_bytes;
	uint32_t nranges;
	salvo_work_range ranges[SALVO_WORK_MAX_RANGES];
} salvo_work;

typedef struct salvo_sender_stats {
	uint64_t bytes_new;	/* data bytes handed out the first time */
	uint64_t bytes_held;	/* data bytes the receiver already held
				   (VERDICT), never sent */
	uint64_t bytes_retx;	/* data bytes handed out again */
	uint64_t bytes_control; /* control packet bytes */
	uint64_t bytes_acked;	/* data bytes the receiver holds (cum:
				   every block below it verified, so it
				   moves a block at a time) */
	uint64_t total_bytes;
	uint32_t files_done; /* files verified at the receiver */
	uint32_t file_count;
	uint64_t srtt_ns, min_rtt_ns, rttvar_ns;
	uint64_t malformed;	/* packets dropped as malformed */
	uint64_t auth_failures; /* packets whose tag or Noise message failed */
	uint32_t files_abandoned; /* salvo_sender_abandon */
	uint64_t datagrams;	  /* handed out, all kinds */
	uint64_t rate_bps;	  /* current pacing rate */
	uint64_t feedbacks;
	int phase;	   /* 0 handshake, 1 manifest, 2 data, 3 done */
	uint64_t refusals; /* salvo_sender_on_refused calls */
	int refused; /* the handshake ended on SALVO_REFUSED_LIMIT refusals */
	uint32_t reconnects; /* sessions lost and handshaken again */
} salvo_sender_stats;

/* Creates a session for the n entries (copied: e may go afterwards).
 * Returns 0, SALVO_ERR_INVAL (bad config or entries), SALVO_ERR_PATH,
 * SALVO_ERR_TOOBIG (manifest over the limit) or SALVO_ERR_NOMEM. */
int salvo_sender_new(salvo_sender **out, const salvo_mem *mem,
		     const salvo_sender_config *cfg, const salvo_entry *e,
		     uint32_t n, uint64_t now);
void salvo_sender_del(salvo_sender *s);

/* Feeds one datagram from the receiver; buf is opened (decrypted) in
 * place.  Malformed, unauthenticated or unexpected packets are counted
 * and dropped (returns 0): only an authenticated packet changes the
 * session.  Returns a fatal SALVO_ERR_* only when this packet ended the
 * session (a sealed ERROR or CLOSE, a refusal in RESP). */
int salvo_sender_on_packet(salvo_sender *s, void *buf, size_t len,
			   uint64_t now);
/* The same, for a datagram that reached the host at arrival (ns, the
 * clock of now; later than now counts as now): a FEEDBACK's RTT sample
 * ends there, so the time it waited for a busy reader is not taken for
 * path delay.  salvo_sender_on_packet is this with arrival = now. */
int salvo_sender_on_packet_at(salvo_sender *s, void *buf, size_t len,
			      uint64_t arrival, uint64_t now);

/* Decides the next thing to do; buf (cap >= datagram_bytes) receives a
 * CONTROL packet.  Returns w->kind. */
int salvo_sender_poll(salvo_sender *s, uint64_t now, salvo_work *w, void *buf,
		      size_t cap);

/* Like salvo_sender_poll, but never hands out DATA or MANIFEST work, nor
 * FILE_DONE (a full datagram that waits at the pacer): only the timed
 * control packets (INIT, STATUS, CLOSE), which never wait, so the thread
 * that reads the receiver's packets is not kept from them.  An
 * engine whose block-sender threads are all busy calls it from another
 * thread at the IDLE deadline, so heartbeats keep their pace however
 * long a block takes to send. */
int salvo_sender_poll_control(salvo_sender *s, uint64_t now, salvo_work *w,
			      void *buf, size_t cap);

/* The DATA work item w was fully handed to the network at now.  For new
 * blocks, block_crc is the CRC32C of the block the caller computed and
 * put in the datagrams' headers. */
void salvo_sender_work_done(salvo_sender *s, const salvo_work *w,
			    uint32_t block_crc, uint64_t now);

/* Progress of the DATA work item w, before it is done: the bytes of its
 * ranges before (range, off) — a range index and an offset in that
 * range, as salvo_emit's cursor (e.range, e.off) stands after a batch —
 * were handed to the network at now; block_crc as for work_done (a new
 * block's CRC32C, in its datagrams' headers).  Optional
 * (salvo_sender_work_done alone marks everything), but it lets the
 * receiver's reports of losses early in a long item be repaired while the
 * rest is still being paced out (the repairs carry the block's CRC), and
 * STATUS vouch for what went: call it after each batch, or every
 * millisecond or so.  w's sent_datagrams and sent_wire_bytes, when set,
 * say what went so far (see salvo_work).  Progress never moves back; an
 * unknown w is ignored. */
void salvo_sender_work_progress(salvo_sender *s, const salvo_work *w,
				uint32_t block_crc, uint32_t range,
				uint32_t off, uint64_t now);

/* The whole-file digest (BLAKE3) of file i, once the caller knows it.
 * Directories need none.  Returns 0 or SALVO_ERR_INVAL. */
int salvo_sender_set_digest(salvo_sender *s, uint32_t i,
			    const uint8_t digest[SALVO_DIGEST_BYTES]);

/* The caller gave up reading file i (its source shrank, vanished or
 * could not be read after the scan; err: the -errno, e.g. -EIO for a
 * file that shrank) and sends its missing bytes as zeros, so every
 * block's CRC holds on both sides.  Its FILE_DONE goes alone with
 * SALVO_FD_F_ABANDONED and err instead of a digest (a later
 * salvo_sender_set_digest for it is ignored); the receiver fails the
 * file alone and its VERDICT says FAILED.  Blocks of it sent before
 * with its real bytes and repaired (re-read) since no longer match
 * their CRC: the receiver checks them by the other files' digests once
 * it has the flagged FILE_DONE, so no repair of the file's bytes is
 * handed out until its FEEDBACK acknowledges it (the FILE_DONE goes
 * again meanwhile, about every 1.5 RTO).  A file whose digest went out already
 * gets the flagged FILE_DONE too, again at growing intervals and ahead of the
 * next repair (at most one per half RTT), until the receiver restates it FAILED
 * (or the session ends: a receiver that verified it whole before keeps it, and
 * its verdict stays SEND). Returns 0, SALVO_ERR_INVAL (no such file, a folder)
 * or SALVO_ERR_NOMEM. */
int salvo_sender_abandon(salvo_sender *s, uint32_t i, int err);
/* 1 once file i was abandoned (salvo_sender_abandon). */
int salvo_sender_is_abandoned(const salvo_sender *s, uint32_t i);

/* The network refused a datagram to the receiver: ICMP port unreachable,
 * which a connected UDP socket reports as ECONNREFUSED on a later send or
 * receive.  During the handshake the INIT (or KEY_REQ) goes again after
 * SALVO_REFUSED_RETRY_NS (sooner than its backoff), and the
 * SALVO_REFUSED_LIMIT-th refusal in a row, with no answer between
 * them, fails the session with SALVO_ERR_UNREACHABLE (stats.refused 1):
 * one refusal is not enough, a receiver may be restarting.  After the
 * handshake a refusal while the receiver has been silent for a few RTOs
 * starts a new handshake at once (as the silence would a little later):
 * see "Session loss" below; it never fails the session. */
void salvo_sender_on_refused(salvo_sender *s, uint64_t now);

/* Session loss.  When the receiver's packets stop for a few RTOs (at
 * least 1.5 s) after the handshake, or a refusal comes while it is
 * silent, the session is taken as lost (the receiver restarted, or an
 * outage): the core runs the handshake again (a fresh INIT, every second
 * at most, the key already pinned; refusals then only hasten it) and,
 * from RESP on, the manifest and the data again on the new session,
 * whose receiver reports what it kept (resume).  The session id changes:
 * block-senders re-key their lanes (salvo_sender_lane).  Re-handshakes
 * are at most one per 2 s; the session fails with SALVO_ERR_TIMEOUT only
 * once the receiver has been silent for timeout_ns in all.
 * stats.reconnects counts them. */

/* Asks the core to abort: the next poll returns a CLOSE(abort), then
 * FAILED with SALVO_ERR_ABORTED. */
void salvo_sender_abort(salvo_sender *s);

/* The capabilities the receiver agreed to in RESP (SALVO_CAP_*), 0
 * before: DATA may carry LZ4 pieces only with SALVO_CAP_LZ4. */
uint32_t salvo_sender_caps(const salvo_sender *s);

/* The session id (0 before RESP) for DATA headers. */
uint32_t salvo_sender_session(const salvo_sender *s);

/* Prepares a (caller-owned, one thread) to seal DATA on lane 1 .. lanes -
 * 1 once the handshake is done: each block-sender thread seals its own
 * datagrams with its own key and packet numbers, no lock per datagram.
 * Returns 0, SALVO_ERR_STATE (no keys yet) or SALVO_ERR_INVAL (lane 0 or
 * past lanes).  Call it once per lane and session. */
int salvo_sender_lane(const salvo_sender *s, uint32_t lane, salvo_aead *a);

/* Entry i's verdict from the receiver (enum salvo_verdict, wire.h), with
 * *err its errno for SALVO_VERDICT_FAILED; -1 while it is not known (the
 * receiver tells with its first data-phase FEEDBACK; a session that
 * ended before has none).  err may be NULL. */
int salvo_sender_verdict(const salvo_sender *s, uint32_t i, int *err);
/* 1 once every verdict and held range is known: from then on every DATA
 * work item respects them. */
int salvo_sender_is_prepared(const salvo_sender *s);

/* Held range k of the data stream (what the receiver said it holds, in
 * order; a resuming receiver's verified blocks): 1 with it in
 * [*start, *end), 0 past the last.  The caller hashes the held bytes of
 * the files it sends (SEND, RESUME) from its own copy: they never go out,
 * and the file's digest must cover them. */
int salvo_sender_held(const salvo_sender *s, size_t k, uint64_t *start,
		      uint64_t *end);

/* Pacing rate for the engine's pacer, bits per second. */
uint64_t salvo_sender_pacing_rate(const salvo_sender *s);

/* Whether salvo_sender_poll may now hand out work it would not have
 * before (repairs, a new block the window admits, a FILE_DONE, the end,
 * any phase but DATA): 0 only when it surely has none beyond what timed
 * deadlines bring, and then, with no item out, the next rate sample is
 * marked application-limited, as an idle poll marks it.  The engine asks
 * after each packet, and after a block-sender's progress, before it
 * wakes an idle block-sender. */
int salvo_sender_may_have_work(salvo_sender *s);

/* Moves the rate's bounds while the session runs (salvo ctl): ceiling_bps
 * (0: none; the fixed policy's rate) and floor_bps (0: none), bits per
 * second; the next salvo_sender_pacing_rate obeys them.  The fixed
 * policy has no floor (floor_bps is ignored) and needs a rate: 0 there
 * returns SALVO_ERR_INVAL and changes nothing.  Else returns 0. */
int salvo_sender_set_rate_limits(salvo_sender *s, uint64_t ceiling_bps,
				 uint64_t floor_bps, uint64_t now);

void salvo_sender_get_stats(const salvo_sender *s, salvo_sender_stats *st);

/* The rate control's view for telemetry (--events): pacing rate, the
 * session's RTTs, and what the algorithm measures (delivery rate, queue,
 * loss, its state).  Pure: the engine writes it out. */
void salvo_sender_rate_snapshot(const salvo_sender *s,
				salvo_rate_snapshot *out);

/* After DONE/FAILED: 0 or the fatal SALVO_ERR_*.  For SALVO_ERR_PEER,
 * *peer_code is the code the receiver sent (e.g. SALVO_ERR_IO, or
 * SALVO_ERR_KEY when it refused this sender's key in RESP), *peer_errno
 * its errno, and *msg its message (NUL-terminated, owned by the core);
 * for SALVO_ERR_KEY (pin() refused the receiver's key) *msg is pin()'s
 * message.  Any out-pointer may be NULL. */
int salvo_sender_result(const salvo_sender *s, int *peer_code, int *peer_errno,
			const char **msg);

#endif
