/*
 * A peer address as the protocol cores see it: opaque bytes the engine
 * needs to reply (a sockaddr) and the host part that identifies the peer
 * (its IP address).  Lives in common/core so the I/O layer and both cores
 * can name it without depending on each other.
 */
#ifndef SALVO_ADDR_H
#define SALVO_ADDR_H

#include <stdint.h>

/* The cookie covers all of `bytes`, so the handshake validates one
 * address and port; a session then accepts its packets from any port of
 * that host, because a sender spreads data over several sockets. */
typedef struct salvo_addr {
	uint32_t len;
	uint8_t bytes[28];
	uint32_t host_len;
	uint8_t host[16];
} salvo_addr;

#endif
