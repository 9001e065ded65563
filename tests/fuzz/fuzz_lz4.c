/*
 * libFuzzer target: the LZ4 piece path (common/core/lz4piece.h), the one
 * place a receiver runs a decompressor on bytes from the network.
 *
 * Input: a u32 (big-endian) declared stream_len, then the piece.  The
 * piece is inflated into a heap buffer of exactly the declared length (up
 * to SALVO_DATA_LZ4_MAX_BYTES; a larger one must be refused before any
 * work), so a write past it, or a read past the piece, is an ASan error:
 * hostile declared lengths, truncated pieces, bombs.  Then the input as
 * plain data goes through salvo_lz4piece_compress into an output room
 * its first byte chooses, and must inflate back to the bytes consumed:
 * the sender's side, round trip.
 *
 * DATA packets with the LZ4 flag also reach the receiver core through
 * fuzz_wire.c, whose session agrees to SALVO_CAP_LZ4.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/bytes.h"
#include "common/core/error.h"
#include "common/core/lz4piece.h"
#include "common/core/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	uint32_t n = salvo_get_u32(data);
	const uint8_t *piece = data + 4;
	size_t plen = size - 4;
	if (n == 0 || n > SALVO_DATA_LZ4_MAX_BYTES) {
		uint8_t none[1];
		if (salvo_lz4piece_inflate(piece, plen, none, n) !=
		    SALVO_ERR_MALFORMED)
			abort(); /* refused before touching the room */
	} else {
		uint8_t *room = malloc(n);
		int err = salvo_lz4piece_inflate(piece, plen, room, n);
		if (err != 0 && err != SALVO_ERR_MALFORMED)
			abort();
		free(room);
	}

	/* round trip: compress a prefix of the input, inflate it back */
	uint32_t cap = 16 + (uint32_t)data[0] * 64; /* 16 .. 16336 bytes */
	uint32_t in = size > SALVO_DATA_LZ4_MAX_BYTES
			  ? SALVO_DATA_LZ4_MAX_BYTES
			  : (uint32_t)size;
	uint8_t *out = malloc(cap), *back = malloc(in);
	uint32_t used;
	uint32_t c = salvo_lz4piece_compress(data, in, out, cap, &used);
	if (c) {
		if (c > cap || used == 0 || used > in ||
		    salvo_lz4piece_inflate(out, c, back, used) ||
		    memcmp(back, data, used))
			abort();
	}
	free(out);
	free(back);
	return 0;
}
