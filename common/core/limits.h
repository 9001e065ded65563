/*
 * Every size limit of salvo and the arithmetic on blocks, in one place:
 * the wire codec, both cores, both engines, the configuration checker and
 * the planner include this header instead of spelling a number.
 *
 * A datagram is the UDP payload: the path MTU less the IP and UDP headers
 * of the address family (IPv4 20 + 8, IPv6 40 + 8).  The data stream of a
 * session (every file of the manifest, back to back) is cut into blocks of
 * block_bytes; the last block may be short.
 *
 * Pure: no I/O, no allocation.
 */
#ifndef SALVO_LIMITS_H
#define SALVO_LIMITS_H

#include <stdint.h>

/* IP + UDP header bytes per datagram, by address family. */
#define SALVO_IPV4_UDP_OVERHEAD 28
#define SALVO_IPV6_UDP_OVERHEAD 48

#define SALVO_MTU_MIN_BYTES 576u   /* the IPv4 minimum every host takes */
#define SALVO_MTU_MAX_BYTES 65535u /* largest IPv4 datagram */
#define SALVO_MTU_DEFAULT_BYTES 1500u
/* UDP payload: 576 - 28 .. 65535 - 28 (the largest IPv4 UDP payload) */
#define SALVO_DATAGRAM_MIN_BYTES 548
#define SALVO_DATAGRAM_MAX_BYTES 65507
#define SALVO_DATAGRAM_DEFAULT_BYTES 1472 /* MTU 1500 over IPv4 */

/* A block holds at least one datagram's payload and at most 1 GiB. */
#define SALVO_BLOCK_MAX_BYTES (UINT32_C(1) << 30)
#define SALVO_BLOCK_DEFAULT_BYTES (UINT32_C(4) << 20)
#define SALVO_TOTAL_MAX_BYTES (UINT64_C(1) << 56) /* 64 PiB per session */
#define SALVO_FILES_MAX (UINT32_C(1) << 24)

/* Block-sender threads, sockets and datagrams per mmsg call. */
#define SALVO_THREADS_MAX 64u
#define SALVO_SOCKETS_MAX 64u
#define SALVO_BATCH_MAX 1024u

/* The receiver's buffers per receive socket: one slot per datagram of a
 * batch (a UDP payload, or a GRO train of them), and the LZ4 inflate
 * chunks it keeps from one batch to the next (receiver/engine/socket.c;
 * a batch of pieces inflating to more takes more chunks for itself and
 * gives them back). */
#define SALVO_RECV_SLOT_BYTES 65536u
#define SALVO_RECV_INFLATE_CHUNK_BYTES (1u << 20)
#define SALVO_RECV_INFLATE_KEEP 4u

/* IP + UDP overhead for an address family: v6 non-zero for IPv6. */
static inline uint32_t salvo_ip_udp_overhead(int v6)
{
	return v6 ? SALVO_IPV6_UDP_OVERHEAD : SALVO_IPV4_UDP_OVERHEAD;
}

/* The datagram (UDP payload) that fills one packet of this MTU, or 0 when
 * the MTU cannot carry the smallest datagram. */
static inline uint32_t salvo_datagram_for_mtu(uint32_t mtu, int v6)
{
	uint32_t o = salvo_ip_udp_overhead(v6);
	if (mtu < o || mtu - o < SALVO_DATAGRAM_MIN_BYTES)
		return 0;
	return mtu - o > SALVO_DATAGRAM_MAX_BYTES ? SALVO_DATAGRAM_MAX_BYTES
						  : mtu - o;
}

/* Blocks of block_bytes (> 0) in a stream of total bytes. */
static inline uint64_t salvo_block_count(uint64_t total, uint32_t block_bytes)
{
	return total / block_bytes + (total % block_bytes != 0);
}

/* First stream byte of block b. */
static inline uint64_t salvo_block_start(uint64_t b, uint32_t block_bytes)
{
	return b * block_bytes;
}

/* Length of block b of a stream of total bytes (0 past the end, however
 * far: b * block_bytes is not formed until b is known to be in range). */
static inline uint32_t salvo_block_len(uint64_t b, uint32_t block_bytes,
				       uint64_t total)
{
	if (b >= salvo_block_count(total, block_bytes))
		return 0;
	uint64_t start = b * block_bytes;
	return total - start < block_bytes ? (uint32_t)(total - start)
					   : block_bytes;
}

#endif
