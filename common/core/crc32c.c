/*
 * CRC32C: the SSE4.2 crc32 instruction when the CPU has it (8 bytes per
 * instruction), otherwise slicing-by-8 tables.  Both paths are pure and
 * produce identical results; tests check them against each other and
 * against the RFC 3720 vectors.
 */
#include "common/core/crc32c.h"

#include <string.h>

#include "common/core/crc32c_table.h"

uint32_t salvo_crc32c_sw(uint32_t crc, const void *p, size_t len)
{
	const uint8_t *b = p;
	const uint32_t(*t)[256] = salvo_crc32c_table;
	crc = ~crc;
	while (len >= 8) {
		uint32_t lo =
		    crc ^ ((uint32_t)b[0] | (uint32_t)b[1] << 8 |
			   (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
		crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^
		      t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^ t[3][b[4]] ^
		      t[2][b[5]] ^ t[1][b[6]] ^ t[0][b[7]];
		b += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ t[0][(crc ^ *b++) & 0xff];
	return ~crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t
crc32c_hw(uint32_t crc, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t c = ~crc;
	while (len >= 8) {
		uint64_t v;
		memcpy(&v, b, 8);
		c = __builtin_ia32_crc32di(c, v);
		b += 8;
		len -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	while (len--)
		c32 = __builtin_ia32_crc32qi(c32, *b++);
	return ~c32;
}
#endif

uint32_t salvo_crc32c(uint32_t crc, const void *p, size_t len)
{
#if defined(__x86_64__)
	if (__builtin_cpu_supports("sse4.2"))
		return crc32c_hw(crc, p, len);
#endif
	return salvo_crc32c_sw(crc, p, len);
}
