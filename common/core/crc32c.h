/*
 * CRC32C (Castagnoli), the per-block and per-datagram checksum.
 *
 * Chosen because x86-64 (SSE4.2) and ARMv8 compute it in hardware at many
 * GB/s, it detects all burst errors up to 32 bits, and iSCSI, ext4 and
 * SCTP use the same polynomial, so test vectors abound.  The hardware path
 * is picked at run time; the portable path is slicing-by-8.
 *
 * Pure: no allocation, no state; safe from any thread.
 */
#ifndef SALVO_CRC32C_H
#define SALVO_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends crc (0 to start) over len bytes at p and returns the new value.
 * salvo_crc32c(0, "123456789", 9) == 0xE3069283. */
uint32_t salvo_crc32c(uint32_t crc, const void *p, size_t len);

/* The portable implementation, exposed so tests can compare both paths. */
uint32_t salvo_crc32c_sw(uint32_t crc, const void *p, size_t len);

/*
 * A block's CRC32C from pieces that arrive in any order (each byte once):
 * CRC is linear over GF(2), so the CRC of a block is the XOR of each
 * piece's contribution, a piece's raw CRC shifted by the bytes that follow
 * it in the block, plus a constant that depends only on the block length.
 *
 *   acc = 0;
 *   for each piece (p, len) at offset off of a block of block_len bytes:
 *       acc ^= salvo_crc32c_piece(p, len, block_len - off - len);
 *   salvo_crc32c_pieces_final(acc, block_len) == salvo_crc32c(0, block,
 *                                                            block_len)
 *
 * salvo_crc32c_piece is the raw CRC of the piece (register from zero, no
 * inversion: ~salvo_crc32c(~0u, p, len)) multiplied by x^(8 bytes_after)
 * mod P, which costs a carry-less multiply per nonzero hex digit of
 * bytes_after on top of the CRC itself.  A piece of length 0 gives 0.
 * salvo_crc32c_pieces_final xors in salvo_crc32c(0, <block_len zero
 * bytes>), which covers the all-ones start and end of the CRC.  Pure, no
 * allocation, any thread.
 */
uint32_t salvo_crc32c_piece(const void *p, size_t len, uint64_t bytes_after);
uint32_t salvo_crc32c_pieces_final(uint32_t acc, uint64_t block_len);
/* salvo_crc32c_piece on the portable path only, for tests. */
uint32_t salvo_crc32c_piece_sw(const void *p, size_t len, uint64_t bytes_after);

#endif
