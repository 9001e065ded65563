/*
 * CRC32C: the SSE4.2 crc32 instruction when the CPU has it (8 bytes per
 * instruction, three streams at once), otherwise slicing-by-8 tables.  Both
 * paths are pure and produce identical results; tests check them against each
 * other and against the RFC 3720 vectors.
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
static uint32_t shift(const uint32_t (*t)[256], uint32_t c)
{
	return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^
	       t[3][c >> 24];
}

/* Three streams of n bytes side by side (the crc32 instruction takes
 * three cycles but can start one each cycle), joined by shifting: the
 * CRC of A then B is A's register shifted over |B| zero bytes, xor B's
 * register started from zero. */
__attribute__((target("sse4.2"))) static uint64_t
crc32c_3way(uint64_t c0, const uint8_t **pb, size_t *plen, size_t n,
	    const uint32_t (*t)[256])
{
	const uint8_t *b = *pb;
	size_t len = *plen;
	while (len >= 3 * n) {
		uint64_t c1 = 0, c2 = 0;
		for (const uint8_t *end = b + n; b < end; b += 8) {
			uint64_t v0, v1, v2;
			memcpy(&v0, b, 8);
			memcpy(&v1, b + n, 8);
			memcpy(&v2, b + 2 * n, 8);
			c0 = __builtin_ia32_crc32di(c0, v0);
			c1 = __builtin_ia32_crc32di(c1, v1);
			c2 = __builtin_ia32_crc32di(c2, v2);
		}
		c0 = shift(t, (uint32_t)c0) ^ c1;
		c0 = shift(t, (uint32_t)c0) ^ c2;
		b += 2 * n;
		len -= 3 * n;
	}
	*pb = b;
	*plen = len;
	return c0;
}

__attribute__((target("sse4.2"))) static uint32_t
crc32c_hw(uint32_t crc, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t c = ~crc;
	c = crc32c_3way(c, &b, &len, SALVO_CRC32C_LONG,
			salvo_crc32c_shift_long);
	c = crc32c_3way(c, &b, &len, SALVO_CRC32C_SHORT,
			salvo_crc32c_shift_short);
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
