/*
 * Packet trains: the bottleneck's rate, from how far apart datagrams
 * that left the sender back to back arrive (packet-pair dispersion).
 *
 * The sender's emitter sends each batch of DATA as one burst (at least
 * SALVO_EMIT_BATCH_MIN_BYTES, sender/core/emit.h), even while start-up
 * paces it at a few Mbit/s; the narrowest link on the path spaces a
 * burst's datagrams at its own rate, and the receiver's kernel stamps
 * each arrival.  A train is a run of DATA datagrams of one session, each
 * within RTRAIN_GAP_NS of the one before; its rate is the IP bytes after
 * the first over the time from the first arrival to the last.  A train
 * shorter than RTRAIN_MIN_DGRAMS or RTRAIN_MIN_SPAN_NS says nothing (a
 * path faster than the timestamps' grain, or arrivals stamped at read
 * time in one batch); a paced stream slower than the link reads as
 * its own pace, which is low, never high.  Each FEEDBACK reports the
 * lower median of the trains since the one before (train_kbps): one
 * train squeezed by a late wakeup somewhere on the path is not the path.
 *
 * Pure, one owner (the session's).
 */
#ifndef SALVO_RTRAIN_H
#define SALVO_RTRAIN_H

#include <stdint.h>

/* Arrivals further apart than this end a train: links of 48 Mbit/s and
 * faster space 1500-byte datagrams closer. */
#define RTRAIN_GAP_NS 250000ull
/* A train counts from this many datagrams spanning at least this long. */
#define RTRAIN_MIN_DGRAMS 4u
#define RTRAIN_MIN_SPAN_NS 30000ull
/* Train rates kept between two FEEDBACKs; later ones are dropped. */
#define RTRAIN_RATES 16u

typedef struct rtrain {
	uint64_t first, last; /* arrivals of the train's first and newest */
	uint64_t bytes;	      /* IP bytes after the first */
	uint32_t n;	      /* datagrams in the train */
	uint32_t nrates;
	uint64_t kbps[RTRAIN_RATES]; /* trains ended since the last take */
} rtrain;

/* A DATA datagram of ip_bytes (datagram + IP and UDP headers) reached
 * the host at arrival (ns). */
void rtrain_note(rtrain *t, uint64_t arrival, uint32_t ip_bytes);

/* The lower median of the trains ended since the last call, kbit/s of
 * IP bytes (at most UINT32_MAX), 0 if none; forgets them. */
uint32_t rtrain_take(rtrain *t);

#endif
