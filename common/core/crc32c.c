/*
 * CRC32C: the SSE4.2 crc32 instruction when the CPU has it (8 bytes per
 * instruction, three streams at once), otherwise slicing-by-8 tables.  Both
 * paths are pure and produce identical results; tests check them against each
 * other and against the RFC 3720 vectors.
 *
 * Pieces in any order: a CRC register is a polynomial over GF(2) modulo P
 * (reflected: bit 31 is x^0), and running it over n zero bytes multiplies
 * it by x^(8n).  One multiply by a constant is a carry-less product
 * (pclmul, or 32 shifts in software) reduced by the CRC of its eight
 * bytes; shift_pow holds x^(8 d 16^i) for each hex digit d of n, divided
 * by the x^33 that this reduction leaves, so a shift over n bytes costs
 * one multiply per nonzero hex digit of n: at most eight below 4 GiB.
 */
#include "common/core/crc32c.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

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

/* x^(8 * d * 16^i - 33) mod P, reflected: [i][d] (d = 0 unused), by
 * square-and-multiply with x^-1 = (P + 1) / x.  tests/unit/test_crc32c.c
 * checks every entry against a bit-by-bit model and zero-byte runs. */
static const uint32_t shift_pow[16][16] = {
    {0x00000000u, 0xbf818109u, 0x780d5a4du, 0xfe2b5c35u, 0x05ec76f1u,
     0x01000000u, 0x00010000u, 0x00000100u, 0x00000001u, 0xf26b8303u,
     0x13a29877u, 0xa541927eu, 0xdd45aab8u, 0x38116facu, 0xef306b19u,
     0x68032cc8u},
    {0x00000000u, 0x493c7d27u, 0xba4fc28eu, 0xddc0152bu, 0x9e4addf8u,
     0x39d3b296u, 0x0715ce53u, 0x47db8317u, 0x0d3b6092u, 0xc96cfdc0u,
     0x878a92a7u, 0xdaece73eu, 0xab7aff2au, 0x2162d385u, 0x83348832u,
     0x299847d5u},
    {0x00000000u, 0xb9e02b86u, 0xdd7e3b0cu, 0xd7a4825cu, 0x170076fau,
     0xdd66cbbbu, 0x9ef68d35u, 0xaa7c7ad5u, 0xa51b6135u, 0xbedc6ba1u,
     0x22c3799fu, 0x8515c07fu, 0x359674f7u, 0x5f0e0438u, 0x96a1f19bu,
     0x23d5e7e5u},
    {0x00000000u, 0x82f89c77u, 0x54a86326u, 0xc1f19ee1u, 0x1dc403ccu,
     0x68bfa742u, 0x6a173fa1u, 0x0d435f26u, 0x5ae703abu, 0xa400fc17u,
     0xc71795ddu, 0x84c8538eu, 0x51e9168bu, 0x139f7c52u, 0x21c03effu,
     0x8f619e7du},
    {0x00000000u, 0xc5013a36u, 0xac2ac6ddu, 0x9edebb1bu, 0x9b4615a9u,
     0x846228ebu, 0xb0c8dc65u, 0xe8b232b8u, 0x688d1c61u, 0x5b33a5eeu,
     0x348ced70u, 0xa3905456u, 0xd270eff4u, 0x508dfe99u, 0x2985cfbcu,
     0x604d7164u},
    {0x00000000u, 0xf6af14e6u, 0xb6ffe386u, 0x412ba6cbu, 0xb717425bu,
     0x99358affu, 0xa1c3255du, 0xfe8a1ee0u, 0x478b0d30u, 0x1566bbccu,
     0x06e3c216u, 0xae567218u, 0x6888f894u, 0x33186375u, 0xfa8d7d58u,
     0xc0918c7au},
    {0x00000000u, 0x54cc62e5u, 0x7b2102eeu, 0x4205f0feu, 0x8a99adefu,
     0xe46fa6efu, 0x9eb63379u, 0xf43532c4u, 0xa7568c8fu, 0xbab529ebu,
     0xb315c6dau, 0xe7702e4bu, 0xd4e1d64du, 0xba1050d0u, 0x5c9400acu,
     0x32606c1bu},
    {0x00000000u, 0xd610d67eu, 0x6b086b3fu, 0xb7720ee7u, 0xd94f3c0bu,
     0xee51a57du, 0xf5dee9c6u, 0x7aef74e3u, 0xbf818109u, 0xdd36fbfcu,
     0x6e9b7dfeu, 0x374dbeffu, 0x9950e407u, 0xce5e497bu, 0xe5d91fc5u,
     0xf01ab49au},
    {0x00000000u, 0x780d5a4du, 0x05ec76f1u, 0x00010000u, 0x00000001u,
     0x13a29877u, 0xdd45aab8u, 0xef306b19u, 0x493c7d27u, 0xcb567ba5u,
     0x3171d430u, 0x54075546u, 0xf20c0dfeu, 0x0f69022bu, 0x3743f7bdu,
     0x5c15eeb4u},
    {0x00000000u, 0xba4fc28eu, 0x9e4addf8u, 0x0715ce53u, 0x0d3b6092u,
     0x878a92a7u, 0xab7aff2au, 0x83348832u, 0xb9e02b86u, 0xb6dd949bu,
     0xbac2fd7bu, 0xce7f39f4u, 0xd270f1a2u, 0x2b3cac5du, 0x1b03397fu,
     0xb3e32c28u},
    {0x00000000u, 0xdd7e3b0cu, 0x170076fau, 0x9ef68d35u, 0xa51b6135u,
     0x22c3799fu, 0x359674f7u, 0x96a1f19bu, 0x82f89c77u, 0x005bb964u,
     0xca110698u, 0xe3e0d8bfu, 0xb9d68d49u, 0x51c0477eu, 0xa9232e2bu,
     0xf7ac8f1fu},
    {0x00000000u, 0x54a86326u, 0x1dc403ccu, 0x6a173fa1u, 0x5ae703abu,
     0xc71795ddu, 0x51e9168bu, 0x21c03effu, 0xc5013a36u, 0x935f10a0u,
     0xa0535a61u, 0x4df55b09u, 0xec132beau, 0x65f99287u, 0x1a0e568cu,
     0x1af75504u},
    {0x00000000u, 0xac2ac6ddu, 0x9b4615a9u, 0xb0c8dc65u, 0x688d1c61u,
     0x348ced70u, 0xd270eff4u, 0x2985cfbcu, 0xf6af14e6u, 0xd9bd2133u,
     0xa7252d20u, 0x9fe10259u, 0xc27bece5u, 0xe7859bb3u, 0xdaf74213u,
     0x3d6a848du},
    {0x00000000u, 0xb6ffe386u, 0xb717425bu, 0xa1c3255du, 0x478b0d30u,
     0x06e3c216u, 0x6888f894u, 0xfa8d7d58u, 0x54cc62e5u, 0x666830c6u,
     0x39dfc944u, 0xd89cd382u, 0xbcf1eac6u, 0xc86ec40fu, 0x15bd00f3u,
     0x7db83957u},
    {0x00000000u, 0x7b2102eeu, 0x8a99adefu, 0x9eb63379u, 0xa7568c8fu,
     0xb315c6dau, 0xd4e1d64du, 0x5c9400acu, 0xd610d67eu, 0x3d908177u,
     0xc7baed8fu, 0xcdad22c4u, 0xd15d7d3fu, 0x598ae36du, 0xe886d05eu,
     0x2e4a0056u},
    {0x00000000u, 0x6b086b3fu, 0xd94f3c0bu, 0xf5dee9c6u, 0xbf818109u,
     0x6e9b7dfeu, 0x9950e407u, 0xe5d91fc5u, 0x780d5a4du, 0x5f784b2fu,
     0xd453340fu, 0xf699ebc7u, 0xfe2b5c35u, 0x7ef1cab1u, 0x5ec76f10u,
     0x17b1dbc4u},
};

/* a * b * x^33 mod P: the carry-less product of two reflected 32-bit
 * values is a 63-bit polynomial one place short of 64 bits, and the CRC
 * of v's eight bytes from a zero register is v * x^32 mod P. */
static uint32_t mul_sw(uint32_t a, uint32_t b)
{
	uint64_t r = 0;
	uint8_t v[8];
	for (int i = 0; i < 32; i++)
		r ^= (uint64_t)a << i & -(uint64_t)(b >> i & 1);
	for (int i = 0; i < 8; i++)
		v[i] = (uint8_t)(r >> 8 * i);
	return ~salvo_crc32c_sw(~0u, v, 8);
}

/* The raw register c run over n zero bytes. */
static uint32_t shift_sw(uint32_t c, uint64_t n)
{
	for (int i = 0; n && c; i++, n >>= 4)
		if (n & 15)
			c = mul_sw(c, shift_pow[i][n & 15]);
	return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2,pclmul"))) static uint32_t shift_hw(uint32_t c,
								  uint64_t n)
{
	for (int i = 0; n && c; i++, n >>= 4) {
		if (!(n & 15))
			continue;
		__m128i p = _mm_clmulepi64_si128(
		    _mm_cvtsi32_si128((int)c),
		    _mm_cvtsi32_si128((int)shift_pow[i][n & 15]), 0);
		c = (uint32_t)__builtin_ia32_crc32di(
		    0, (uint64_t)_mm_cvtsi128_si64(p));
	}
	return c;
}
#endif

static uint32_t shift_zeros(uint32_t c, uint64_t n)
{
#if defined(__x86_64__)
	if (__builtin_cpu_supports("sse4.2") &&
	    __builtin_cpu_supports("pclmul"))
		return shift_hw(c, n);
#endif
	return shift_sw(c, n);
}

/* The raw register (no inversions) of the piece alone is
 * ~salvo_crc32c(~0, piece): salvo_crc32c inverts on the way in and out. */
uint32_t salvo_crc32c_piece(const void *p, size_t len, uint64_t bytes_after)
{
	return shift_zeros(~salvo_crc32c(~0u, p, len), bytes_after);
}

uint32_t salvo_crc32c_piece_sw(const void *p, size_t len, uint64_t bytes_after)
{
	return shift_sw(~salvo_crc32c_sw(~0u, p, len), bytes_after);
}

/* The block's register is ~0 shifted over the block, xor every piece's
 * raw register shifted over what follows it; the CRC inverts it.  The
 * first and last terms together are salvo_crc32c of block_len zeros. */
uint32_t salvo_crc32c_pieces_final(uint32_t acc, uint64_t block_len)
{
	return acc ^ ~shift_zeros(~0u, block_len);
}
