/*
 * RFC 6479 replay window, the shape WireGuard uses: numbers are stored
 * plus one so that 0 means "nothing yet", the word index of a number is
 * n >> 6 modulo the map, and moving the front clears the words between the
 * old and the new front (all of them at most once, when the jump is larger
 * than the map).  Checking and recording are separate calls because the
 * AEAD tag is verified between them.
 */
#include "common/crypto/replay.h"

#include <string.h>

#include "common/core/error.h"

void salvo_replay_init(salvo_replay *r)
{
	memset(r, 0, sizeof(*r));
}

static uint64_t bit_of(uint64_t n)
{
	return UINT64_C(1) << (n & 63);
}

static uint64_t word_of(uint64_t n)
{
	return (n >> 6) % SALVO_REPLAY_WORDS;
}

int salvo_replay_check(const salvo_replay *r, uint64_t pn)
{
	if (pn == UINT64_MAX)
		return SALVO_ERR_REPLAY;
	uint64_t n = pn + 1;
	if (n > r->top)
		return 0;
	if (r->top - n >= SALVO_REPLAY_WINDOW)
		return SALVO_ERR_REPLAY;
	return r->map[word_of(n)] & bit_of(n) ? SALVO_ERR_REPLAY : 0;
}

int salvo_replay_update(salvo_replay *r, uint64_t pn)
{
	int err = salvo_replay_check(r, pn);
	if (err)
		return err;
	uint64_t n = pn + 1;
	if (n > r->top) {
		uint64_t from = r->top >> 6, to = n >> 6;
		uint64_t words = to - from;
		if (words > SALVO_REPLAY_WORDS)
			words = SALVO_REPLAY_WORDS;
		for (uint64_t i = 1; i <= words; i++)
			r->map[(from + i) % SALVO_REPLAY_WORDS] = 0;
		r->top = n;
	}
	r->map[word_of(n)] |= bit_of(n);
	return 0;
}
