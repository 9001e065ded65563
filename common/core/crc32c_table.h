#ifndef SALVO_CRC32C_TABLE_H
#define SALVO_CRC32C_TABLE_H
#include <stdint.h>
extern const uint32_t salvo_crc32c_table[8][256];
#endif
