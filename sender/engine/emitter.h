/*
 * The emitter: one DATA work item, already read into a buffer, out to the
 * network.  sender/core/emit.h cuts it into datagrams and pacer bookings;
 * this file books each batch at the shared pacer, waits for its slot and
 * hands it to the kernel with one sendmmsg, runs of full-size datagrams
 * as UDP GSO messages where the path takes them (the kernel cuts them),
 * plain datagrams otherwise and from the first refusal on.
 *
 * One salvo_emitter per block-sender thread (its arrays are one batch),
 * all of a session's emitters sharing one salvo_emitter_shared.
 */
#ifndef SALVO_SEND_EMITTER_H
#define SALVO_SEND_EMITTER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "sender/core/emit.h"
#include "sender/engine/pacing.h"

/* What a session's emitters share; the counters are the report's. */
typedef struct salvo_emitter_shared {
	salvo_pacing *pacing;	 /* borrowed */
	uint32_t datagram_bytes; /* UDP payload */
	uint32_t overhead;	 /* IP + UDP bytes of the family */
	uint32_t batch_max;	 /* datagrams per sendmmsg */
	atomic_uint gso_segs;	 /* datagrams per GSO message; 0: plain */
	atomic_uint_fast64_t datagrams, wire_bytes;
	/* DATA only: the stream bytes sent (new and again), the UDP payload
	 * bytes that carried them, and the datagrams with an LZ4 piece */
	atomic_uint_fast64_t data_stream, data_wire, lz4_datagrams;
} salvo_emitter_shared;

typedef struct salvo_emitter {
	salvo_emitter_shared *sh;
	int fd; /* a connected UDP socket, borrowed */
	salvo_emit_dgram *d;
	uint8_t *out;	   /* the sealed batch: batch_max datagrams */
	struct iovec *iov; /* one a datagram */
	struct mmsghdr *msg;
	uint8_t *segs; /* datagrams in each message */
	/* UDP_SEGMENT = the datagram size; >= CMSG_SPACE(2) */
	_Alignas(struct cmsghdr) char gso[32];
	int compress; /* enum salvo_compress for this session; OFF unless
			 the receiver agreed to SALVO_CAP_LZ4 */
	salvo_lz4auto autoc;
	void *hc_state;	  /* LZ4 HC's, allocated and initialised with the
			     emitter */
	uint64_t idle_ns; /* the thread waited for work since the last item
			     (the block-sender adds it; AUTO counts it as
			     waiting, like the pacer's) */
	/* Optional (NULL: none): after a batch went out, at most every
	 * SALVO_EMITTER_PROGRESS_NS, the item's progress for
	 * salvo_sender_work_progress (the emit cursor, and the block CRC);
	 * called from salvo_emitter_send_work's thread, no lock held. */
	void (*progress)(void *ud, const salvo_work *w, uint32_t block_crc,
			 uint32_t range, uint32_t off);
	void *progress_ud;
} salvo_emitter;

/* How often at most an item's progress is reported (the core's lock). */
#define SALVO_EMITTER_PROGRESS_NS 1000000ull

/* Datagrams per GSO message for this socket, or 0 for plain datagrams:
 * 0 when offload is off, when fewer than two datagrams fit one UDP
 * payload, or when a datagram exceeds the route's MTU (IP would fragment
 * it and the kernel refuses GSO). */
unsigned salvo_emitter_gso_plan(int fd, int v6, uint32_t datagram_bytes,
				int offload);

/* Allocates em's batch arrays (sh->batch_max).  Returns 0 or -ENOMEM. */
int salvo_emitter_init(salvo_emitter *em, salvo_emitter_shared *sh, int fd);
/* Frees the arrays; safe on a zeroed or half-made emitter. */
void salvo_emitter_free(salvo_emitter *em);

/* Sends every datagram of the DATA work item w, whose ranges' bytes lie
 * back to back in buf, sealed with aead as lane `lane` (the calling
 * thread's, salvo_sender_lane), paced, compressed as em->compress says
 * (in AUTO, salvo_lz4auto decides per item); *crc gets the block CRC32C
 * it put in the headers (new blocks; retransmissions carry the core's)
 * and w->sent_datagrams / sent_wire_bytes what went out.  Returns
 * 0, SALVO_ERR_ABORTED when the pacing was stopped part way (the rest of
 * w was not sent), or SALVO_ERR_REKEY when the lane's key reached its
 * AEAD limit (the session must end). */
int salvo_emitter_send_work(salvo_emitter *em, salvo_work *w,
			    const uint8_t *buf, uint32_t session,
			    salvo_aead *aead, uint8_t lane, uint32_t *crc);

/* Sends one control packet on fd: a small one at once, charged to the
 * pacer; a larger one (a manifest chunk) in its paced turn, or not at all
 * once the pacing is stopped.  Returns 0, SALVO_ERR_ABORTED (stopped), or
 * -errno when the kernel refused it: -ECONNREFUSED reports an ICMP port
 * unreachable that an earlier datagram on fd drew. */
int salvo_emitter_send_control(salvo_emitter_shared *sh, int fd,
			       const void *buf, size_t len);

#endif
