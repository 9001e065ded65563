/*
 * Kernel receive timestamps on the monotonic clock (common/io/rxtime.h):
 * a datagram that waited 50 ms in its socket arrives 50 ms before it was
 * read; a message with no stamp arrives when it was read; stamps from the
 * future or older than a second are clamped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/io/rxtime.h"
#include "common/io/sys.h"

#define MS 1000000ull
#define WAIT_NS (50 * MS)

/* A bound loopback socket (stamped if stamp) and a sender connected to
 * it; the datagram "x" sent, WAIT_NS waited, then read: how long before
 * the read it arrived. */
static uint64_t age_of_waiting(int stamp)
{
	int rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(rx >= 0 && tx >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	assert_int_equal(bind(rx, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(rx, (struct sockaddr *)&a, &len), 0);
	if (stamp)
		assert_int_equal(salvo_rxtime_enable(rx), 0);
	assert_int_equal(connect(tx, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(send(tx, "x", 1, 0), 1);
	uint64_t sent = salvo_now_ns();
	while (salvo_now_ns() < sent + WAIT_NS)
		usleep(2000);
	char b[8];
	_Alignas(struct cmsghdr) char ctl[SALVO_RXTIME_CMSG_BYTES];
	struct iovec iov = {b, sizeof(b)};
	struct msghdr h = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = ctl,
			   .msg_controllen = sizeof(ctl)};
	assert_int_equal(recvmsg(rx, &h, 0), 1);
	salvo_rxclock c;
	salvo_rxclock_read(&c);
	uint64_t arrival = salvo_rxtime_arrival(&h, &c);
	close(rx);
	close(tx);
	assert_true(arrival <= c.mono);
	return c.mono - arrival;
}

/* The kernel switches receive stamping on lazily, from a deferred work
 * item after the first SO_TIMESTAMPNS on the host: until it runs, a
 * datagram is stamped when it is read.  A stamped socket kept open for
 * the whole test holds the switch on; the first tries may still miss it. */
static void test_waited_in_socket(void **state)
{
	(void)state;
	int keeper = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(keeper >= 0);
	assert_int_equal(salvo_rxtime_enable(keeper), 0);
	uint64_t age = 0;
	for (int try = 0; try < 5 && age < WAIT_NS; try++) {
		age = age_of_waiting(1);
		print_message("arrival %llu us before the read\n",
			      (unsigned long long)(age / 1000));
	}
	close(keeper);
	assert_true(age >= WAIT_NS);
	assert_true(age < WAIT_NS + SALVO_RXTIME_MAX_AGE_NS / 2);
}

static void test_no_stamp_is_read_time(void **state)
{
	(void)state;
	assert_int_equal(age_of_waiting(0), 0);
}

/* A message carrying the stamp at real time t. */
static uint64_t arrival_of(uint64_t t, const salvo_rxclock *c)
{
	_Alignas(struct cmsghdr) char ctl[SALVO_RXTIME_CMSG_BYTES];
	struct msghdr h = {.msg_control = ctl, .msg_controllen = sizeof(ctl)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&h);
	struct timespec ts = {(time_t)(t / 1000000000ull),
			      (long)(t % 1000000000ull)};
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_TIMESTAMPNS;
	cm->cmsg_len = CMSG_LEN(sizeof(ts));
	memcpy(CMSG_DATA(cm), &ts, sizeof(ts));
	return salvo_rxtime_arrival(&h, c);
}

static void test_clamped(void **state)
{
	(void)state;
	salvo_rxclock c = {.mono = 7000 * MS, .real = 1700000000000 * MS};
	assert_int_equal(arrival_of(c.real - 3 * MS, &c), c.mono - 3 * MS);
	assert_int_equal(arrival_of(c.real, &c), c.mono);
	/* the wall clock stepped back while it waited: not in the future */
	assert_int_equal(arrival_of(c.real + 40 * MS, &c), c.mono);
	/* or forward: at most a second back */
	assert_int_equal(arrival_of(c.real - 9000 * MS, &c),
			 c.mono - SALVO_RXTIME_MAX_AGE_NS);
	salvo_rxclock early = {.mono = 200 * MS, .real = c.real};
	assert_int_equal(arrival_of(c.real - 900 * MS, &early), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_waited_in_socket),
	    cmocka_unit_test(test_no_stamp_is_read_time),
	    cmocka_unit_test(test_clamped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
