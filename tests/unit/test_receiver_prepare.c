/*
 * A receiver serving many senders is not stopped by one sender's
 * prepare (issue 13): every file's verdict looks at its final name (an
 * fstatat, ~5 us), and a re-send of a large tree into an existing one
 * used to do them all under the core lock, while no socket thread could
 * feed any session.
 *
 * The real engines, in one process: sender A re-sends a tree of N empty
 * files that the receiver has already (transfer.overwrite never: every
 * one is skipped), and once the receiver is well into looking at A's
 * names, sender B sends one small file to the same receiver.  Each look
 * at one of A's names is made slow (this file's fstatat, which the
 * engine's calls bind to, sleeps first), so A's prepare takes seconds
 * whatever the machine: B must complete while A's names are still being
 * looked at.  Before, B's handshake waited for the whole prepare: B
 * ended after the last of A's looks.  A then ends with all N skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/core/error.h"
#include "common/core/policy.h"
#include "common/crypto/keyfile.h"
#include "common/io/sys.h"
#include "receiver/engine/recv.h"
#include "sender/engine/send.h"
#include "tests/helpers/testpeer.h"

#define N 20000	    /* A's files */
#define SLOW_US 100 /* each look at one of them */
#define B_AFTER                                                                \
	4000	       /* looks before B starts: past what prepare             \
			  itself looks at (2,048) */
#define PREFIX "many-" /* A's names, the ones made slow */
#define RX_SEED 1
#define TX_SEED 2
#define DEADLINE_NS 60000000000ull

static atomic_uint looks; /* at A's names, so far */

/* The engine's fstatat (files.c) binds to this one: a look at one of A's
 * names is counted and made slow. */
int fstatat(int fd, const char *name, struct stat *st, int flags)
{
	if (!strncmp(name, PREFIX, strlen(PREFIX))) {
		atomic_fetch_add(&looks, 1);
		usleep(SLOW_US);
	}
	return (int)syscall(SYS_newfstatat, fd, name, st, flags);
}

typedef struct rx {
	salvo_recv_opts o;
	salvo_recv_report rep;
	int rc;
	pthread_t th;
	volatile sig_atomic_t stop;
	atomic_int port; /* 0 until ready, -1 failed */
	int compared;	 /* a session_start said --checksum compared */
} rx;

/* Under the core lock (recv.h serialises the log callback). */
static void on_log(void *ud, const salvo_log_event *ev)
{
	rx *r = ud;
	if (!strcmp(ev->event, "session_start") &&
	    strstr(ev->message, "(content compared: --checksum)"))
		r->compared++;
}

static void on_ready(void *ud, uint16_t port)
{
	atomic_store(&((rx *)ud)->port, port);
}

static void *rx_main(void *arg)
{
	rx *r = arg;
	r->rc = salvo_recv_run(&r->o, &r->rep);
	atomic_store(&r->port, -1);
	return NULL;
}

typedef struct tx {
	salvo_send_opts o;
	salvo_send_report rep;
	const char *paths[1];
	int rc;
	uint64_t done_ns;
	unsigned looks_at_end; /* A's names looked at when it ended */
} tx;

static void tx_init(tx *t, const rx *r, const char *path)
{
	memset(t, 0, sizeof(*t));
	t->paths[0] = path;
	t->o = (salvo_send_opts){.host = "127.0.0.1",
				 .port = (uint16_t)atomic_load(&r->port),
				 .paths = t->paths,
				 .npaths = 1,
				 .block_bytes = 1 << 20,
				 .mtu_bytes = 1500,
				 .rate_bps = 100000000,
				 .threads = 2,
				 .sockets = 1,
				 .batch = 32,
				 .offload = 1,
				 .timeout_ns = 20000000000ull,
				 .overwrite = SALVO_SEND_NEVER,
				 .has_key = 1,
				 .has_peer_key = 1};
	testpeer_keypair(TX_SEED, t->o.key_private, t->o.key_public);
	memcpy(t->o.peer_key, r->o.key_public, 32);
}

static void tx_run(tx *t)
{
	t->rc = salvo_send_run(&t->o, &t->rep);
	t->done_ns = salvo_now_ns();
	t->looks_at_end = atomic_load(&looks);
}

static void *tx_main(void *arg)
{
	tx_run(arg);
	return NULL;
}

/* n files prefix%05d in dir (made): empty, or with tag their number
 * after the letter tag, except every differ-th (from the 7th) which gets
 * 'z': as large, other content. */
static void make_tree(const char *dir, const char *prefix, int n, char tag,
		      int differ)
{
	char p[256], body[16];
	assert_int_equal(mkdir(dir, 0755), 0);
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%s%05d", dir, prefix, i);
		int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
		assert_true(fd >= 0);
		int len = snprintf(body, sizeof(body), "%c%05d",
				   differ && i % differ == 7 ? 'z' : tag, i);
		if (tag)
			assert_int_equal(write(fd, body, (size_t)len), len);
		close(fd);
	}
}

/* 1 if dir/prefix%05d holds tag and its number. */
static int holds(const char *dir, const char *prefix, int i, char tag)
{
	char p[512], want[16], got[16] = "";
	snprintf(p, sizeof(p), "%s/%s%05d", dir, prefix, i);
	snprintf(want, sizeof(want), "%c%05d", tag, i);
	int fd = open(p, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, got, sizeof(got) - 1);
	close(fd);
	return n == (ssize_t)strlen(want) && !memcmp(got, want, (size_t)n);
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	char p[512];
	for (struct dirent *e; d && (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR)
			remove_tree(p);
		else
			unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

/* A new temporary folder into buf: in memory where there is one (40,000
 * files made and removed on a disk take seconds under load). */
static void temp_dir(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "%s/salvo-prep-%s-XXXXXX",
		 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm", what);
	assert_non_null(mkdtemp(buf));
}

/* A receiver into a new temporary folder, anonymous senders welcome. */
static void rx_start(rx *r)
{
	static salvo_authkeys none;
	memset(r, 0, sizeof(*r));
	char dir[64];
	temp_dir(dir, sizeof(dir), "rx");
	r->o = (salvo_recv_opts){.dir = strdup(dir),
				 .bind = "127.0.0.1",
				 .sockets = 2,
				 .batch = 8,
				 .offload = 1,
				 .max_sessions = 4,
				 .idle_timeout_ns = 20000000000ull,
				 .overwrite = SALVO_OVERWRITE_REPLACE,
				 .authkeys = &none,
				 .allow_anonymous = 1,
				 .log = on_log,
				 .log_ud = r,
				 .ready = on_ready,
				 .stop = &r->stop};
	testpeer_keypair(RX_SEED, r->o.key_private, r->o.key_public);
	assert_int_equal(pthread_create(&r->th, NULL, rx_main, r), 0);
	while (!atomic_load(&r->port))
		usleep(1000);
	assert_true(atomic_load(&r->port) > 0);
}

static void rx_stop(rx *r)
{
	r->stop = 1;
	assert_int_equal(pthread_join(r->th, NULL), 0);
	assert_int_equal(r->rc, 0);
}

static void test_prepare_leaves_others_served(void **state)
{
	(void)state;
	char src[64], p[256], small[256];
	static rx r;
	static tx a, b;
	temp_dir(src, sizeof(src), "src");
	rx_start(&r);
	const char *rdir = r.o.dir;
	snprintf(p, sizeof(p), "%s/tree", src);
	make_tree(p, PREFIX, N, 0, 0);
	snprintf(p, sizeof(p), "%s/tree", rdir); /* what A re-sends */
	make_tree(p, PREFIX, N, 0, 0);
	snprintf(small, sizeof(small), "%s/small", src);
	int fd = open(small, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(write(fd, "a small file\n", 13), 13);
	close(fd);

	snprintf(p, sizeof(p), "%s/tree", src);
	tx_init(&a, &r, p);
	pthread_t ath;
	uint64_t t0 = salvo_now_ns();
	assert_int_equal(pthread_create(&ath, NULL, tx_main, &a), 0);
	while (atomic_load(&looks) < B_AFTER && !a.done_ns &&
	       salvo_now_ns() - t0 < DEADLINE_NS)
		usleep(1000);
	assert_true(atomic_load(&looks) >= B_AFTER);

	tx_init(&b, &r, small);
	uint64_t b0 = salvo_now_ns();
	tx_run(&b);
	assert_int_equal(pthread_join(ath, NULL), 0);
	printf("  A: %u names looked at when B ended (%.2f s after it "
	       "began), all %u after %.2f s\n",
	       b.looks_at_end, (double)(b.done_ns - b0) / 1e9, a.looks_at_end,
	       (double)(a.done_ns - t0) / 1e9);
	assert_int_equal(b.rc, 0);
	assert_int_equal(a.rc, 0);
	/* the point: B was served while A's names were still looked at */
	assert_true(b.looks_at_end < N);
	assert_true(b.done_ns < a.done_ns);
	assert_int_equal(a.looks_at_end, N); /* each looked at once */

	rx_stop(&r);
	assert_int_equal(r.rep.sessions_ok, 2);
	assert_int_equal(r.rep.sessions_failed, 0);
	assert_int_equal(r.rep.files_skipped, N);
	assert_int_equal(r.rep.files_refused, 0);
	snprintf(p, sizeof(p), "%s/small", rdir);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 13);
	remove_tree(src);
	remove_tree(rdir);
	free((char *)rdir);
}

/* --checksum over more files than prepare looks at itself, so their
 * verdicts are set by the prepare thread, chunk by chunk, and their
 * hashes after that: every DIFFER-th file, changed here (same size), is
 * sent again, the others are skipped as identical, and the session ends
 * (its count of files to commit was right). */
#define M 5000
#define DIFFER 1000 /* so files 7, 1007, ... 4007 differ here */
static void test_checksum_many(void **state)
{
	(void)state;
	char src[64], p[256];
	static rx r;
	static tx a;
	temp_dir(src, sizeof(src), "src");
	rx_start(&r);
	snprintf(p, sizeof(p), "%s/tree", src);
	make_tree(p, "sum-", M, 'a', 0);
	snprintf(p, sizeof(p), "%s/tree", r.o.dir);
	make_tree(p, "sum-", M, 'a', DIFFER);
	snprintf(p, sizeof(p), "%s/tree", src);
	tx_init(&a, &r, p);
	a.o.overwrite = SALVO_SEND_IF_DIFFERENT;
	a.o.checksum = 1;
	tx_run(&a);
	assert_int_equal(a.rc, 0);
	rx_stop(&r);
	assert_int_equal(r.rep.sessions_ok, 1);
	assert_int_equal(r.rep.files_skipped, M - M / DIFFER);
	assert_int_equal(r.compared, 1); /* the log says how it compared */
	assert_int_equal(r.rep.files_refused, 0);
	snprintf(p, sizeof(p), "%s/tree", r.o.dir);
	for (int i = 0; i < M; i++)
		assert_true(holds(p, "sum-", i, 'a'));
	remove_tree(src);
	remove_tree(r.o.dir);
	free((char *)r.o.dir);
}

/* A receiver that stops while its prepare thread looks at a session's
 * names cuts the looking short (the session fails: "the receiver is
 * stopping") instead of finishing them first, and frees everything. */
static void test_stop_while_preparing(void **state)
{
	(void)state;
	char src[64], p[256];
	static rx r;
	static tx a;
	temp_dir(src, sizeof(src), "src");
	rx_start(&r);
	snprintf(p, sizeof(p), "%s/tree", src);
	make_tree(p, PREFIX, N, 0, 0);
	snprintf(p, sizeof(p), "%s/tree", r.o.dir);
	make_tree(p, PREFIX, N, 0, 0);
	snprintf(p, sizeof(p), "%s/tree", src);
	tx_init(&a, &r, p);
	a.o.timeout_ns = 2000000000ull;
	unsigned before = atomic_load(&looks);
	pthread_t ath;
	assert_int_equal(pthread_create(&ath, NULL, tx_main, &a), 0);
	uint64_t t0 = salvo_now_ns();
	while (atomic_load(&looks) - before < B_AFTER &&
	       salvo_now_ns() - t0 < DEADLINE_NS)
		usleep(1000);
	rx_stop(&r);
	unsigned seen = atomic_load(&looks) - before;
	assert_int_equal(pthread_join(ath, NULL), 0);
	printf("  stopped after %u of %u names\n", seen, N);
	assert_true(seen < N);
	assert_int_not_equal(a.rc, 0);
	assert_int_equal(r.rep.sessions_ok, 0);
	remove_tree(src);
	remove_tree(r.o.dir);
	free((char *)r.o.dir);
}

int main(void)
{
	if (salvo_crypto_init())
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_prepare_leaves_others_served),
	    cmocka_unit_test(test_checksum_many),
	    cmocka_unit_test(test_stop_while_preparing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
