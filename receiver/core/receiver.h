/*
 * The receiver protocol core: every session of one receiver, sans-I/O.
 *
 * Datagrams go in with their source address and `now`; out come packets
 * to send (through cb->send) and requests to the engine: prepare the
 * files of a manifest, write these bytes at this offset, verify this
 * block, finalize this file.  Verifications and finalizations are
 * asynchronous: the engine answers later with salvo_receiver_block_result
 * and salvo_receiver_file_result, from the same thread that owns the
 * core.
 *
 * Protocol 3 (docs/SECURITY.md): a session opens with Noise IK (INIT,
 * RESP); the engine's authorize callback decides on the sender's static
 * key before any state is kept.  Every later packet is sealed: the core
 * opens each in place (its tag checked before anything reads its body,
 * the lane's replay window moved only after) and seals what it sends, so
 * no unauthenticated packet changes a session.  An unauthenticated
 * answer (RESP refusal, COOKIE, KEY) is never larger than the packet
 * that asked and is rate-limited; under load (many half-open handshakes,
 * or one address sending INITs fast) INITs must carry a cookie first.
 *
 * Threading: one owner thread per salvo_receiver.  An engine with
 * several sockets either gives each its own receiver, steering sessions
 * to sockets, or serialises calls.
 */
#ifndef SALVO_RECEIVER_H
#define SALVO_RECEIVER_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/addr.h"
#include "common/core/manifest.h"
#include "common/core/mem.h"
#include "common/core/wire.h"
#include "common/crypto/aead.h"

typedef struct salvo_receiver salvo_receiver;
typedef struct salvo_rsess salvo_rsess;

/* What the engine allows one sender's key (salvo_authkeys_find). */
typedef struct salvo_receiver_auth {
	uint64_t max_bytes; /* per session; 0: no limit */
	uint64_t max_files; /* manifest entries per session; 0: no limit */
	const void *user;   /* the engine's entry (folder, policies), back
			       through salvo_rsess_auth; NULL: anonymous */
} salvo_receiver_auth;

typedef struct salvo_receiver_cb {
	/* Sends one packet to addr.  The core never sends to an address it
	 * has not heard from. */
	void (*send)(void *ud, const salvo_addr *addr, const void *buf,
		     size_t len);
	/* The manifest of sess arrived and passed validation: create the
	 * directories and get ready for the files.  Called before the core
	 * allocates the session's block and file tables, so the engine can
	 * refuse a manifest that would cost too much (receiver/core/budget.h).
	 * Returns 0, or -errno with a message (naming the path) in
	 * err[0..errlen), or SALVO_PREPARE_LATER: the engine has work to do
	 * first that must not run inside the core (--checksum hashes files
	 * already there); the session then waits in its manifest phase
	 * (answering STATUS, dropping early data) with verdicts still open
	 * (salvo_rsess_set_verdict) until salvo_receiver_prepared. */
	int (*prepare)(void *ud, salvo_rsess *sess, const salvo_manifest *m,
		       char *err, size_t errlen);
	/* Writes len bytes at offset of file `file` (stream order).  Returns
	 * 0 or -errno with a message in err. */
	int (*write)(void *ud, salvo_rsess *sess, uint32_t file,
		     uint64_t offset, const void *data, size_t len, char *err,
		     size_t errlen);
	/* Room for len (1 .. SALVO_DATA_LZ4_MAX_BYTES) bytes that an LZ4
	 * DATA piece inflates to, handed to write() and read by the engine
	 * as long as data passed to write() is; NULL when there is none (the
	 * piece is dropped, counted, and fetched again).  NULL callback:
	 * the receiver refuses compression (no SALVO_CAP_LZ4 in RESP). */
	uint8_t *(*inflate_buf)(void *ud, salvo_rsess *sess, size_t len);
	/* Block `block` ([stream_start, +len) of the data stream) has all
	 * its bytes: check its CRC32C against crc, then call
	 * salvo_receiver_block_result.  check_crc 0: some of the block's
	 * bytes were held before the session (salvo_rsess_mark_present) and
	 * never written in it, so its CRC cannot be checked from what was
	 * written: wait until the written bytes are settled and answer ok
	 * (each DATA datagram is protected by its AEAD tag, and each file
	 * sent is still checked whole against its BLAKE3). */
	void (*verify_block)(void *ud, salvo_rsess *sess, uint32_t block,
			     uint64_t stream_start, uint32_t len, uint32_t crc,
			     int check_crc);
	/* Every block of `file` verified: check the whole file against
	 * digest (BLAKE3), make it durable under its final name, then call
	 * salvo_receiver_file_result. */
	void (*finalize_file)(void *ud, salvo_rsess *sess, uint32_t file,
			      const uint8_t digest[SALVO_DIGEST_BYTES]);
	/* Optional: the sender abandoned `file` (its source changed or
	 * could not be read; err: the sender's errno) and every block of
	 * it is verified: remove its part-file, never commit it. */
	void (*drop_file)(void *ud, salvo_rsess *sess, uint32_t file, int err);
	/* The session is over: result 0 (every file committed) or a fatal
	 * SALVO_ERR_* (the engine removes the part-files).  sess is freed
	 * right after this returns. */
	void (*session_end)(void *ud, salvo_rsess *sess, int result,
			    const char *msg);
	/* n fresh random bytes: ephemeral keys, cookie secrets and nonces. */
	void (*random)(void *ud, void *buf, size_t n);
	/* May the sender with this static key open a session?  0 with *auth
	 * filled, or SALVO_ERR_KEY: the sender gets a signed refusal (RESP)
	 * and nothing is kept. */
	int (*authorize)(void *ud, const uint8_t key[32],
			 salvo_receiver_auth *auth);
	void *ud;
} salvo_receiver_cb;

typedef struct salvo_receiver_config {
	uint32_t max_sessions;
	uint64_t idle_timeout_ns; /* sender silent this long: drop session */
	uint64_t max_total_bytes; /* per session; 0: protocol limit */
	uint8_t key_private[32];  /* the receiver's static X25519 pair */
	uint8_t key_public[32];
	unsigned suites;    /* AEAD suites this machine runs (aead.h mask) */
	uint32_t caps;	    /* SALVO_CAP_* it agrees to (LZ4 needs
			       cb.inflate_buf) */
	uint8_t secret[16]; /* random key for the per-address counters */
	uint64_t seed;	    /* random seed for session ids */
	/* Load: from this many half-open handshakes on, or when one address
	 * sends INITs faster than load_source_rate per second, an INIT
	 * needs a cookie (mac2).  reply_rate caps the unauthenticated
	 * answers (COOKIE, KEY, refusals) per second.  0: the defaults
	 * below. */
	uint32_t load_half_open;
	uint32_t load_source_rate;
	uint32_t reply_rate;
} salvo_receiver_config;

#define SALVO_RECEIVER_DEFAULT_HALF_OPEN 8
#define SALVO_RECEIVER_DEFAULT_SOURCE_RATE 10 /* INITs a second, per host */
#define SALVO_RECEIVER_DEFAULT_REPLY_RATE 100 /* answers a second, in all */

typedef struct salvo_receiver_stats {
	uint64_t datagrams;  /* accepted into a session */
	uint64_t malformed;  /* failed decoding */
	uint64_t unknown;    /* for no session, or out of place */
	uint64_t duplicates; /* data already held */
	uint64_t bytes_sent; /* all packets we sent */
	uint64_t cookies_sent;
	uint64_t auth_failures; /* bad tag, MAC or Noise message: dropped */
	uint64_t replays;	/* INIT stamps seen before */
	uint64_t refusals;	/* signed refusals sent (key, quota, busy) */
	uint64_t block_failures;
	uint64_t inflated;    /* LZ4 pieces inflated */
	uint64_t inflate_bad; /* LZ4 pieces that did not inflate as declared */
	uint64_t host_drops;  /* datagrams the host's sockets dropped (full) */
	uint32_t sessions;    /* open now */
} salvo_receiver_stats;

int salvo_receiver_new(salvo_receiver **out, const salvo_mem *mem,
		       const salvo_receiver_config *cfg,
		       const salvo_receiver_cb *cb);
/* Ends every session (session_end with SALVO_ERR_ABORTED) and frees. */
void salvo_receiver_del(salvo_receiver *r);

/* Feeds one datagram from addr; buf is opened (decrypted) in place, and
 * DATA payloads reach the write callback pointing into it.  Never fails:
 * bad packets are counted. */
void salvo_receiver_on_packet(salvo_receiver *r, const salvo_addr *addr,
			      void *buf, size_t len, uint64_t now);
/* The same, for a datagram that reached the host at arrival (ns, the
 * clock of now; later than now counts as now): a STATUS's hold, reported
 * back as FEEDBACK.echo_hold_us, runs from there, not from now, so the
 * time the packet waited for a busy reader is not taken for path delay.
 * salvo_receiver_on_packet is this with arrival = now. */
void salvo_receiver_on_packet_at(salvo_receiver *r, const salvo_addr *addr,
				 void *buf, size_t len, uint64_t arrival,
				 uint64_t now);

/*
 * Opening outside the core lock (the engine's socket threads decrypt a
 * batch in parallel).  Under the lock, salvo_receiver_lane_key copies the
 * key that opens sealed packets of (session, lane, epoch) and names its
 * suite; outside it, salvo_aead_open_with opens a packet in place with
 * the copy; under the lock again, salvo_receiver_on_opened takes the
 * packet and open_result (salvo_aead_open_with's return): it commits
 * them (salvo_aead_commit: k must still be the lane's key for the
 * packet's epoch, a bad tag counts as a forgery and goes no further, the
 * replay window moves only for a good tag) and then does what
 * salvo_receiver_on_packet_at does after its own open (arrival as
 * there).  lane_key returns 0
 * or SALVO_ERR_STATE (no such session or lane, or an epoch the lane does
 * not hold: feed such packets to salvo_receiver_on_packet).  Wipe the
 * copies when done.
 */
int salvo_receiver_lane_key(const salvo_receiver *r, uint32_t session,
			    uint8_t lane, uint64_t epoch, salvo_aead_key *out,
			    int *suite);
void salvo_receiver_on_opened(salvo_receiver *r, const salvo_addr *addr,
			      void *buf, size_t len, const salvo_aead_key *k,
			      int open_result, uint64_t arrival, uint64_t now);

/* The engine's sockets dropped n more datagrams for want of room (their
 * receive buffers were full: SO_RXQ_OVFL).  Every FEEDBACK from then on
 * carries the total since its session began (host_drops), so each sender sees a
 * receiver that cannot keep up as congestion: the drops cannot be told apart by
 * session, and every flow into the full sockets is to slow down. */
void salvo_receiver_note_drops(salvo_receiver *r, uint64_t n);

/* Earliest time salvo_receiver_on_timer wants to run (UINT64_MAX: none). */
uint64_t salvo_receiver_next_timer(const salvo_receiver *r);
void salvo_receiver_on_timer(salvo_receiver *r, uint64_t now);

/* Answers to verify_block / finalize_file.  ok: 1 if the CRC matched.
 * result: 0, SALVO_ERR_VERIFY (digest mismatch) or -errno (with msg). */
void salvo_receiver_block_result(salvo_receiver *r, uint32_t session,
				 uint32_t block, int ok, uint64_t now);
void salvo_receiver_file_result(salvo_receiver *r, uint32_t session,
				uint32_t file, int result, const char *msg,
				uint64_t now);

#define SALVO_PREPARE_LATER 1

/* Finishes a prepare that answered SALVO_PREPARE_LATER: result 0 starts
 * the data phase with the verdicts set so far; -errno (msg) fails the
 * session as a failed prepare does.  Ignored for a session that is gone
 * or not waiting. */
void salvo_receiver_prepared(salvo_receiver *r, uint32_t session, int result,
			     const char *msg, uint64_t now);

/* Ends a session from the engine side (e.g. a writer thread failed):
 * sends ERROR with msg to the sender, calls session_end. */
void salvo_receiver_fail(salvo_receiver *r, uint32_t session, int code,
			 int sys_errno, uint32_t file, const char *msg,
			 uint64_t now);

void salvo_receiver_get_stats(const salvo_receiver *r,
			      salvo_receiver_stats *st);

/* Session accessors for the engine's callbacks. */
uint32_t salvo_rsess_id(const salvo_rsess *s);
const salvo_manifest *salvo_rsess_manifest(const salvo_rsess *s);
const salvo_addr *salvo_rsess_peer(const salvo_rsess *s);
uint32_t salvo_rsess_block_bytes(const salvo_rsess *s);
void *salvo_rsess_user(const salvo_rsess *s);
/* The authorize callback's entry for this session's sender (NULL:
 * anonymous), and the sender's static public key. */
const void *salvo_rsess_auth(const salvo_rsess *s);
const uint8_t *salvo_rsess_key(const salvo_rsess *s);
void salvo_rsess_set_user(salvo_rsess *s, void *user);

/*
 * What the receiver already holds, and what it decided per file: called
 * from the prepare callback only (the manifest is decoded, nothing of the
 * data phase exists yet).  The core tells the sender in VERDICT packets
 * (wire.h) sent with its first data-phase FEEDBACK and repeated until the
 * sender confirms them in STATUS; the sender sends no new data for held
 * bytes, and its first FEEDBACK already counts them as received.
 *
 * salvo_rsess_mark_present: stream bytes [start, end) are already here
 * (a resumed part-file's verified blocks, written by an earlier session),
 * with no data sent for them.  A block wholly held counts as verified at
 * once; a block partly held gets no CRC check (verify_block's check_crc
 * 0).  Files with held bytes are still finalized as usual: finalize_file
 * must then hash the held bytes too (they never went through the write
 * callback).  Ranges may overlap and come in any order.  Returns 0,
 * SALVO_ERR_INVAL (past the stream, empty, or not from prepare),
 * SALVO_ERR_TOOBIG (more than SALVO_VERDICT_RANGES_MAX ranges) or
 * SALVO_ERR_NOMEM.
 *
 * salvo_rsess_set_verdict: entry i's verdict (enum salvo_verdict; the
 * default is SALVO_VERDICT_SEND).  A verdict that sends nothing
 * (IDENTICAL, EXISTS, NOT_NEWER, REFUSED, FAILED with err an errno) also
 * holds the file's bytes, and the file leaves the session's work: no
 * writes, no finalize_file, and the session completes without it.
 * RESUME is informational (held ranges say what is held).  Returns 0,
 * SALVO_ERR_INVAL (bad index or verdict, not from prepare) or
 * SALVO_ERR_NOMEM.
 */
int salvo_rsess_mark_present(salvo_rsess *s, uint64_t start, uint64_t end);
int salvo_rsess_set_verdict(salvo_rsess *s, uint32_t i, int verdict, int err);
/* Entry i's verdict as set (SALVO_VERDICT_SEND by default). */
int salvo_rsess_verdict(const salvo_rsess *s, uint32_t i);

/* What is at a file's final name at the receiver. */
typedef struct salvo_existing {
	int exists;	  /* 0: nothing there */
	int is_file;	  /* a regular file (else a folder, a link...) */
	uint64_t size;	  /* bytes */
	int64_t mtime_ns; /* ns since the epoch */
	int compared;	  /* --checksum: its BLAKE3 was compared with the
			     manifest's digest (same size only) */
	int same;	  /* compared, and equal */
} salvo_existing;

/* The verdict for file e given what is at its name (x), the sender's
 * request (enum salvo_send_overwrite, the manifest's) and the receiver's
 * bound (enum salvo_overwrite, for this sender):
 *   nothing there                        SEND
 *   same size and mtime (not ALWAYS)     IDENTICAL
 *     (compared: same size and content, whatever the mtimes)
 *   NEVER                                EXISTS
 *   IF_NEWER, e not newer than x         NOT_NEWER
 *   otherwise the sender wants it replaced: the bound never ->
 *   REFUSED; replace or rename -> SEND (rename keeps both).
 * Something else than a file there (a folder) is FAILED (the engine
 * says EISDIR).  mtimes are equal when their nanoseconds are, or when
 * the receiver's has none (a file system of whole seconds) and the
 * seconds are. */
int salvo_verdict_decide(int request, int bound, const salvo_entry *e,
			 const salvo_existing *x);

#endif
