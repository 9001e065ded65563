/*
 * What the core fuzzers share (fuzz_wire.c, fuzz_handshake.c): an
 * engine's callbacks that keep the receiver's last packet, answer
 * verifications as an engine would (after the call, alternately ok and
 * failed), draw fixed random bytes and authorise keys.  Header-only: the
 * fuzz builds link each target with the library alone.
 */
#ifndef SALVO_FUZZ_CORES_H
#define SALVO_FUZZ_CORES_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/error.h"
#include "common/core/wire.h"
#include "receiver/core/receiver.h"

typedef struct fuzz_world {
	uint64_t rng;
	uint32_t sess[64], block[64]; /* verifications to answer */
	int n;
	uint8_t last[SALVO_DATAGRAM_MAX_BYTES]; /* the receiver's last send */
	size_t last_len;
	int refuse; /* authorise refuses keys whose first byte is odd */
	uint8_t *inflate; /* the last LZ4 room, exactly its size (ASan) */
} fuzz_world;

static inline void f_send(void *ud, const salvo_addr *a, const void *b,
			  size_t n)
{
	fuzz_world *w = ud;
	(void)a;
	if (n <= sizeof(w->last)) {
		memcpy(w->last, b, n);
		w->last_len = n;
	}
}

static inline int f_prepare(void *ud, salvo_rsess *s, const salvo_manifest *m,
			    char *e, size_t l)
{
	(void)ud, (void)s, (void)m, (void)e, (void)l;
	return 0;
}

static inline int f_write(void *ud, salvo_rsess *s, uint32_t f, uint64_t o,
			  const void *d, size_t n, char *e, size_t l)
{
	(void)ud, (void)s, (void)f, (void)o, (void)d, (void)n, (void)e, (void)l;
	return 0;
}

/* A room of exactly len bytes for an LZ4 piece; the previous one's write
 * is done (f_write keeps nothing).  The target frees the last. */
static inline uint8_t *f_inflate_buf(void *ud, salvo_rsess *s, size_t len)
{
	fuzz_world *w = ud;
	(void)s;
	free(w->inflate);
	return w->inflate = malloc(len);
}

static inline void f_verify(void *ud, salvo_rsess *s, uint32_t b, uint64_t st,
			    uint32_t n, uint32_t c, int check)
{
	fuzz_world *w = ud;
	(void)st, (void)n, (void)c, (void)check;
	if (w->n < 64) {
		w->sess[w->n] = salvo_rsess_id(s);
		w->block[w->n++] = b;
	}
}

static inline void f_answer(salvo_receiver *r, fuzz_world *w, uint64_t now)
{
	for (int i = 0; i < w->n; i++)
		salvo_receiver_block_result(r, w->sess[i], w->block[i],
					    (int)(w->block[i] & 1), now);
	w->n = 0;
}

static inline void f_final(void *ud, salvo_rsess *s, uint32_t f,
			   const uint8_t *d)
{
	(void)ud, (void)s, (void)f, (void)d;
}

static inline void f_end(void *ud, salvo_rsess *s, int r, const char *m)
{
	(void)ud, (void)s, (void)r, (void)m;
}

static inline void f_random(void *ud, void *buf, size_t n)
{
	fuzz_world *w = ud;
	uint8_t *p = buf;
	for (size_t i = 0; i < n; i++) {
		w->rng = w->rng * 6364136223846793005ull + 1;
		p[i] = (uint8_t)(w->rng >> 56);
	}
}

/* Key bytes pick the verdict and the quotas, so both are reached. */
static inline int f_authorize(void *ud, const uint8_t key[32],
			      salvo_receiver_auth *a)
{
	fuzz_world *w = ud;
	memset(a, 0, sizeof(*a));
	a->max_bytes = key[1] & 1 ? 1u << 20 : 0;
	a->max_files = key[2] & 1 ? 3 : 0;
	return w->refuse && (key[0] & 1) ? SALVO_ERR_KEY : 0;
}

/* A receiver core with every callback above, keys from priv. */
static inline salvo_receiver *f_receiver(fuzz_world *w,
					 salvo_receiver_config *rc)
{
	salvo_receiver *r = NULL;
	salvo_receiver_cb cb = {.send = f_send,
				.prepare = f_prepare,
				.write = f_write,
				.inflate_buf = f_inflate_buf,
				.verify_block = f_verify,
				.finalize_file = f_final,
				.session_end = f_end,
				.random = f_random,
				.authorize = f_authorize,
				.ud = w};
	return salvo_receiver_new(&r, &salvo_mem_libc, rc, &cb) ? NULL : r;
}

#endif
