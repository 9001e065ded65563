/*
 * The null cipher of fuzz builds (-DSALVO_NULL_CIPHER): aead.c compiled
 * here in that mode, so the test proves what fuzzers rely on: the payload
 * stays in clear, a packet anyone builds with the right checksum opens,
 * a wrong checksum does not, and the replay window and packet-number
 * rules still hold.  (A build with SALVO_NULL_CIPHER but without the
 * fuzzing macro does not compile: see aead.c.)
 */
#define FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION 1
#define SALVO_NULL_CIPHER 1
#include "common/crypto/aead.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

static void test_null_cipher(void **state)
{
	(void)state;
	uint8_t key[32] = {0}, hdr[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	uint8_t pkt[20 + 16], nonce[12] = {0};
	salvo_aead tx, rx;
	salvo_replay win;
	size_t got;

	assert_int_equal(sodium_init() < 0, 0);
	assert_int_equal(
	    salvo_aead_init(&tx, SALVO_AEAD_CHACHA20_POLY1305, key, 0), 0);
	assert_int_equal(
	    salvo_aead_init(&rx, SALVO_AEAD_CHACHA20_POLY1305, key, 0), 0);
	salvo_replay_init(&win);
	memcpy(pkt, "plain text, in clear", 20);
	assert_int_equal(salvo_aead_seal(&tx, 7, hdr, 8, pkt, 20), 0);
	assert_memory_equal(pkt, "plain text, in clear", 20);

	/* a forger computes the same tag: CRC32C of nonce, header, data */
	uint8_t forged[36];
	memcpy(forged, "plain text, in clear", 20);
	nonce[11] = 7;
	uint32_t crc = salvo_crc32c(0, nonce, 12);
	crc = salvo_crc32c(crc, hdr, 8);
	crc = salvo_crc32c(crc, forged, 20);
	memset(forged + 20, 0, 16);
	salvo_put_u32(forged + 20, crc);
	assert_memory_equal(forged, pkt, sizeof(forged));

	assert_int_equal(
	    salvo_aead_open(&rx, &win, 7, hdr, 8, pkt, sizeof(pkt), &got), 0);
	assert_int_equal(got, 20);
	assert_int_equal(
	    salvo_aead_open(&rx, &win, 7, hdr, 8, forged, sizeof(forged), &got),
	    SALVO_ERR_REPLAY);
	forged[35] ^= 1;
	assert_int_equal(
	    salvo_aead_open(&rx, &win, 8, hdr, 8, forged, sizeof(forged), &got),
	    SALVO_ERR_AUTH);
	assert_int_equal(salvo_aead_seal(&tx, 7, hdr, 8, pkt, 20),
			 SALVO_ERR_STATE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_null_cipher),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
