/*
 * Big-endian cursors for encoding and decoding wire formats.
 *
 * A reader never reads past its buffer: once a read would overrun, the
 * cursor is marked failed, returns zeros from then on, and the decoder
 * checks salvo_rd_ok() once at the end.  A writer likewise refuses to write
 * past its capacity.  This keeps every codec free of per-field length
 * checks and of structs cast over buffers.
 */
#ifndef SALVO_BYTES_H
#define SALVO_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct salvo_rd {
	const uint8_t *p;
	size_t len;
	size_t pos;
	int failed;
} salvo_rd;

typedef struct salvo_wr {
	uint8_t *p;
	size_t cap;
	size_t pos;
	int failed;
} salvo_wr;

static inline void salvo_rd_init(salvo_rd *r, const void *p, size_t len)
{
	r->p = (const uint8_t *)p;
	r->len = len;
	r->pos = 0;
	r->failed = 0;
}

static inline size_t salvo_rd_left(const salvo_rd *r)
{
	return r->failed ? 0 : r->len - r->pos;
}

static inline int salvo_rd_ok(const salvo_rd *r)
{
	return !r->failed;
}

/* Returns a pointer to the next n bytes and advances, or NULL (and fails). */
static inline const uint8_t *salvo_rd_take(salvo_rd *r, size_t n)
{
	if (r->failed || r->len - r->pos < n) {
		r->failed = 1;
		return NULL;
	}
	const uint8_t *q = r->p + r->pos;
	r->pos += n;
	return q;
}

static inline uint8_t salvo_rd_u8(salvo_rd *r)
{
	const uint8_t *q = salvo_rd_take(r, 1);
	return q ? q[0] : 0;
}

static inline uint16_t salvo_rd_u16(salvo_rd *r)
{
	const uint8_t *q = salvo_rd_take(r, 2);
	return q ? (uint16_t)((q[0] << 8) | q[1]) : 0;
}

static inline uint32_t salvo_rd_u32(salvo_rd *r)
{
	const uint8_t *q = salvo_rd_take(r, 4);
	return q ? ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) |
		       ((uint32_t)q[2] << 8) | q[3]
		 : 0;
}

/* One bounds check for all 8 bytes: two u32 reads would return the high
 * half of a u64 that overruns instead of the promised zero. */
static inline uint64_t salvo_rd_u64(salvo_rd *r)
{
	const uint8_t *q = salvo_rd_take(r, 8);
	uint64_t v = 0;
	for (unsigned i = 0; q && i < 8; i++)
		v = (v << 8) | q[i];
	return v;
}

static inline void salvo_rd_copy(salvo_rd *r, void *dst, size_t n)
{
	const uint8_t *q = salvo_rd_take(r, n);
	if (q)
		memcpy(dst, q, n);
	else
		memset(dst, 0, n);
}

/* QUIC-style variable-length integer: 2 high bits give the length (1, 2,
 * 4 or 8 bytes), the rest is the value, big-endian; max 2^62 - 1. */
static inline uint64_t salvo_rd_varint(salvo_rd *r)
{
	const uint8_t *q = salvo_rd_take(r, 1);
	if (!q)
		return 0;
	unsigned n = 1u << (q[0] >> 6);
	uint64_t v = q[0] & 0x3f;
	const uint8_t *rest = salvo_rd_take(r, n - 1);
	if (!rest)
		return 0;
	for (unsigned i = 0; i < n - 1; i++)
		v = (v << 8) | rest[i];
	return v;
}

static inline void salvo_wr_init(salvo_wr *w, void *p, size_t cap)
{
	w->p = (uint8_t *)p;
	w->cap = cap;
	w->pos = 0;
	w->failed = 0;
}

static inline int salvo_wr_ok(const salvo_wr *w)
{
	return !w->failed;
}

static inline uint8_t *salvo_wr_take(salvo_wr *w, size_t n)
{
	if (w->failed || w->cap - w->pos < n) {
		w->failed = 1;
		return NULL;
	}
	uint8_t *q = w->p + w->pos;
	w->pos += n;
	return q;
}

static inline void salvo_wr_u8(salvo_wr *w, uint8_t v)
{
	uint8_t *q = salvo_wr_take(w, 1);
	if (q)
		q[0] = v;
}

static inline void salvo_wr_u16(salvo_wr *w, uint16_t v)
{
	uint8_t *q = salvo_wr_take(w, 2);
	if (q) {
		q[0] = (uint8_t)(v >> 8);
		q[1] = (uint8_t)v;
	}
}

static inline void salvo_put_u32(uint8_t *q, uint32_t v)
{
	q[0] = (uint8_t)(v >> 24);
	q[1] = (uint8_t)(v >> 16);
	q[2] = (uint8_t)(v >> 8);
	q[3] = (uint8_t)v;
}

static inline uint32_t salvo_get_u32(const uint8_t *q)
{
	return ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) |
	       ((uint32_t)q[2] << 8) | q[3];
}

static inline void salvo_wr_u32(salvo_wr *w, uint32_t v)
{
	uint8_t *q = salvo_wr_take(w, 4);
	if (q)
		salvo_put_u32(q, v);
}

static inline void salvo_wr_u64(salvo_wr *w, uint64_t v)
{
	salvo_wr_u32(w, (uint32_t)(v >> 32));
	salvo_wr_u32(w, (uint32_t)v);
}

static inline void salvo_wr_copy(salvo_wr *w, const void *src, size_t n)
{
	uint8_t *q = salvo_wr_take(w, n);
	if (q && n)
		memcpy(q, src, n);
}

#define SALVO_VARINT_MAX ((UINT64_C(1) << 62) - 1)

static inline size_t salvo_varint_len(uint64_t v)
{
	return v < 64 ? 1 : v < 16384 ? 2 : v < (UINT64_C(1) << 30) ? 4 : 8;
}

static inline void salvo_wr_varint(salvo_wr *w, uint64_t v)
{
	if (v > SALVO_VARINT_MAX) {
		w->failed = 1;
		return;
	}
	size_t n = salvo_varint_len(v);
	uint8_t *q = salvo_wr_take(w, n);
	if (!q)
		return;
	for (size_t i = n; i-- > 0;) {
		q[i] = (uint8_t)v;
		v >>= 8;
	}
	q[0] |= (uint8_t)((n == 1 ? 0 : n == 2 ? 1 : n == 4 ? 2 : 3) << 6);
}

#endif
