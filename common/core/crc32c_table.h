#ifndef SALVO_CRC32C_TABLE_H
#define SALVO_CRC32C_TABLE_H
#include <stdint.h>
extern const uint32_t salvo_crc32c_table[8][256];
/* shift over SALVO_CRC32C_LONG and SALVO_CRC32C_SHORT zero bytes, one
 * table per byte of the register */
#define SALVO_CRC32C_LONG 8192
#define SALVO_CRC32C_SHORT 128
extern const uint32_t salvo_crc32c_shift_long[4][256];
extern const uint32_t salvo_crc32c_shift_short[4][256];
#endif
