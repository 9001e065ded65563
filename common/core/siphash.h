/*
 * SipHash-2-4 (Aumasson & Bernstein): a keyed 64-bit PRF, used for the
 * receiver's stateless address-validation cookies.  Pure; thread-safe.
 */
#ifndef SALVO_SIPHASH_H
#define SALVO_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t salvo_siphash(const uint8_t key[16], const void *data, size_t len);

#endif
