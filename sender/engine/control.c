/*
 * The control thread (see session.h): socket 0's reader, and the
 * heartbeat.  It feeds each packet from the receiver to the core, moves
 * the pacing rate as the core's rate control decides, and sends the
 * timed control packets (STATUS, FILE_DONE, HELLO) when they fall due,
 * so they keep their pace even while every block-sender is busy with a
 * long block.  It waits in poll(), at most 50 ms, so it sees the end of
 * the session promptly.  An ICMP port unreachable shows up here as a
 * socket error (POLLERR, then ECONNREFUSED from recv) or as a failed send
 * of a control packet; either goes to the core, which fails a handshake
 * on a closed port after a few of them.
 *
 * A packet's arrival is the kernel's receive timestamp (common/io/rxtime.h)
 * rather than the time this thread read it: a FEEDBACK that waited for a
 * starved thread, or for the core lock, ends its RTT sample when it came.
 *
 * Also here: the session's local-failure rule and the digest hand-over,
 * shared by every thread.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>

#include "common/io/rxtime.h"
#include "common/io/sys.h"
#include "sender/engine/session.h"

void salvo_send_session_kick(salvo_send_session *c)
{
	pthread_cond_signal(&c->work);
}

void salvo_send_session_wake_all(salvo_send_session *c)
{
	pthread_cond_broadcast(&c->work);
	pthread_cond_broadcast(&c->wake);
}

void salvo_send_session_end(salvo_send_session *c)
{
	if (!c->finished)
		c->end_ns = salvo_now_ns();
	c->finished = 1;
	salvo_send_session_wake_all(c);
	salvo_pacing_stop(&c->pacing);
}

/* The kernel reported an ICMP port unreachable (a send or a receive
 * on a connected socket failed with ECONNREFUSED).  c->lock held. */
static void refused(salvo_send_session *c)
{
	salvo_sender_on_refused(c->core, salvo_now_ns());
	salvo_send_session_wake_all(c);
}

void salvo_send_session_control(salvo_send_session *c, const uint8_t *buf,
				size_t len)
{
	pthread_mutex_unlock(&c->lock);
	int err = salvo_emitter_send_control(&c->net, c->fds[0], buf, len);
	pthread_mutex_lock(&c->lock);
	if (err == -ECONNREFUSED)
		refused(c);
}

void salvo_send_session_fail(salvo_send_session *c, int err, const char *msg)
{
	pthread_mutex_lock(&c->lock);
	if (!c->local_err) {
		c->local_err = err;
		snprintf(c->local_msg, sizeof(c->local_msg), "%s", msg);
		salvo_sender_abort(c->core);
	}
	salvo_send_session_wake_all(c);
	pthread_mutex_unlock(&c->lock);
}

void salvo_send_session_digest(void *ud, uint32_t file,
			       const uint8_t digest[32])
{
	salvo_send_session *c = ud;
	pthread_mutex_lock(&c->lock);
	salvo_sender_set_digest(c->core, file, digest);
	salvo_send_session_wake_all(c);
	pthread_mutex_unlock(&c->lock);
}

/* How often the control thread publishes to the live object (and at
 * most how late it sees a change there: its poll is this long at most). */
#define LIVE_PUBLISH_NS 50000000ull

/* The live limits (salvo_send_opts.live): a change since the last look
 * goes to the core and the pacer at once; every LIVE_PUBLISH_NS, and at
 * the end (leave), the session's numbers go back for `status`. */
static void live_step(salvo_send_session *c, int leave)
{
	salvo_send_live *l = c->o->live;
	if (!l)
		return;
	uint64_t now = salvo_now_ns(), gen = salvo_send_live_gen(l);
	int changed = gen != c->live_gen;
	if (!changed && !leave && now - c->live_published < LIVE_PUBLISH_NS)
		return;
	uint64_t ceiling = 0, floor = 0, rate = 0;
	if (changed)
		salvo_send_live_limits(l, c->o->rate_bps, c->o->min_rate_bps,
				       &ceiling, &floor);
	salvo_rate_snapshot rs;
	salvo_sender_stats st;
	pthread_mutex_lock(&c->lock);
	if (changed) {
		/* the fixed policy refuses "none" and a floor: its rate
		 * stands (the control socket said so already) */
		(void)salvo_sender_set_rate_limits(c->core, ceiling, floor,
						   now);
		rate = salvo_sender_pacing_rate(c->core);
		salvo_send_session_kick(c);
	}
	salvo_sender_rate_snapshot(c->core, &rs);
	salvo_sender_get_stats(c->core, &st);
	pthread_mutex_unlock(&c->lock);
	if (changed)
		salvo_pacing_set_rate(&c->pacing, rate);
	c->live_gen = gen;
	c->live_published = now;
	salvo_send_live_publish(l, &c->live_share,
				salvo_rate_policy_name(c->o->rate_policy), &rs,
				st.bytes_acked, st.total_bytes, leave);
}

/* Sends the control packets due now; returns the next deadline, or 0
 * once the session is over. */
static uint64_t send_due(salvo_send_session *c, uint8_t *buf, size_t cap)
{
	salvo_work w;
	uint64_t deadline = 0;
	pthread_mutex_lock(&c->lock);
	while (!c->finished) {
		int k = salvo_sender_poll_control(c->core, salvo_now_ns(), &w,
						  buf, cap);
		if (k == SALVO_WORK_CONTROL) {
			salvo_send_session_control(c, buf, w.len);
			continue;
		}
		if (k == SALVO_WORK_IDLE) {
			deadline = w.deadline;
		} else {
			salvo_send_session_end(c);
		}
		break;
	}
	if (c->finished)
		deadline = 0;
	pthread_mutex_unlock(&c->lock);
	return deadline;
}

/* One datagram from socket 0 into buf, and when it reached the host:
 * its length, or -errno. */
static ssize_t receive(int fd, uint8_t *buf, size_t cap, uint64_t *arrival)
{
	_Alignas(struct cmsghdr) char ctl[SALVO_RXTIME_CMSG_BYTES];
	struct iovec iov = {buf, cap};
	struct msghdr h = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = ctl,
			   .msg_controllen = sizeof(ctl)};
	ssize_t n = recvmsg(fd, &h, MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	salvo_rxclock clk;
	salvo_rxclock_read(&clk);
	*arrival = salvo_rxtime_arrival(&h, &clk);
	return n;
}

/* Lock held: the receiver's verdicts are all here and no block-sender
 * has yet done what a session does once they are (the hasher skips the
 * files not sent whole, and hashes the bytes the receiver holds): with
 * every byte held there is no data to wake one for, and the digests
 * would wait for the silence deadline. */
static int setup_due(const salvo_send_session *c)
{
	return salvo_sender_is_prepared(c->core) &&
	       (!c->verdicts_seen ||
		c->filled_session != salvo_sender_session(c->core));
}

void *salvo_control_main(void *arg)
{
	salvo_send_session *c = arg;
	uint8_t buf[SALVO_DATAGRAM_MAX_BYTES];
	uint64_t deadline;
	(void)salvo_rxtime_enable(c->fds[0]); /* without: read times */
	while ((deadline = send_due(c, buf, sizeof(buf)))) {
		live_step(c, 0);
		uint64_t now = salvo_now_ns();
		int ms = deadline <= now ? 0
			 : deadline - now >= 50000000ull
			     ? 50
			     : (int)((deadline - now + 999999) / 1000000);
		struct pollfd p = {c->fds[0], POLLIN, 0};
		if (poll(&p, 1, ms) <= 0)
			continue;
		uint64_t arrival = 0;
		ssize_t n = receive(c->fds[0], buf, sizeof(buf), &arrival);
		if (n < 0) {
			if (n == -ECONNREFUSED) {
				pthread_mutex_lock(&c->lock);
				refused(c);
				pthread_mutex_unlock(&c->lock);
			}
			continue;
		}
		pthread_mutex_lock(&c->lock);
		salvo_sender_on_packet_at(c->core, buf, (size_t)n, arrival,
					  salvo_now_ns());
		uint64_t rate = salvo_sender_pacing_rate(c->core);
		/* an idle block-sender wakes only for work: most FEEDBACK
		 * acknowledges what is still being paced out, and a flow
		 * of a few Mbit/s hears one a millisecond on a LAN */
		if (salvo_sender_may_have_work(c->core) || setup_due(c))
			salvo_send_session_kick(c);
		pthread_mutex_unlock(&c->lock);
		salvo_pacing_set_rate(&c->pacing, rate);
	}
	live_step(c, 1);
	return NULL;
}
