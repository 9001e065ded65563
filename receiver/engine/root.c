/*
 * What every session of one receiver shares on the file side (files.h).
 *
 * Part-files live in ROOT/.salvo (SALVO_PATH_PRIVATE), a folder no
 * manifest path, --remote-dir or authorised-keys folder may begin with
 * (common/core/path.c), so no peer can name, replace or block another
 * session's part-file, and a finished file only ever appears by rename.
 * The folder is made 0700 and opened with O_NOFOLLOW; a symlink, a file
 * or another user's folder in its place stops the receiver from starting
 * rather than be trusted.
 *
 * Stale part-files: every receiver holds a shared flock on .salvo while
 * it runs.  At start, part-files and their resume maps older than
 * receiver.partial_max_age are removed (unless another live receiver
 * holds them: resume.c), and one that can take the lock exclusively is
 * alone on the root, so the part-files nothing can resume (session-
 * unique names, resumable ones without a map) belong to receivers that
 * died mid-session and go too; the counts are logged.  Session-unique
 * part-file names carry the receiver's pid, and resumable ones are held
 * through resume.lock, so receivers that share a root never collide.
 *
 * Modes a sender asks for are masked with 07000 | the process umask,
 * read once at start: nothing arrives setuid, setgid or sticky, or with
 * bits the receiver's own umask would not give (group and world write
 * under the usual 022).
 *
 * Descriptors: each session may keep rroot.fds folders and as many
 * part-files open, so that max_sessions sessions fit in RLIMIT_NOFILE
 * beside the sockets; at least 2, at most 64.
 *
 * Memory: sessions reserve their bookkeeping (rfiles_bookkeeping) from
 * one budget before anything is allocated for them, under the core lock.
 */
#include "receiver/engine/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/error.h"
#include "common/core/path.h"
#include "receiver/engine/resume.h"

#define FDS_MIN 2
#define FDS_MAX 64
#define FDS_SPARE 16 /* std streams, log file, verifier read-back... */

/* The process umask, without changing it where /proc can tell. */
static mode_t read_umask(void)
{
	FILE *fp = fopen("/proc/self/status", "re");
	char line[128];
	unsigned m;
	while (fp && fgets(line, sizeof(line), fp))
		if (sscanf(line, "Umask: %o", &m) == 1) {
			fclose(fp);
			return (mode_t)(m & 0777);
		}
	if (fp)
		fclose(fp);
	mode_t old = umask(022);
	umask(old);
	return old;
}

/* Folders and part-files each session may keep open. */
static uint32_t fds_per_session(int root, const salvo_recv_opts *o)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return FDS_MAX;
	int low = fcntl(root, F_DUPFD_CLOEXEC, 0); /* about as many in use */
	if (low >= 0)
		close(low);
	uint64_t used = (uint64_t)(low > 0 ? low : 3) + o->sockets + FDS_SPARE;
	uint64_t avail = rl.rlim_cur > used ? rl.rlim_cur - used : 0;
	uint64_t per = avail / (o->max_sessions ? o->max_sessions : 1) / 2;
	return per < FDS_MIN   ? FDS_MIN
	       : per > FDS_MAX ? FDS_MAX
			       : (uint32_t)per;
}

static void log_line(const salvo_recv_opts *o, int level, const char *event,
		     const char *msg)
{
	if (o->log)
		o->log(o->log_ud, &(salvo_log_event){.level = level,
						     .event = event,
						     .message = msg});
}

/* Opens ROOT/.salvo, making it if missing: the fd, or -errno with msg
 * (-EROFS and the like: it cannot be made now). */
static int open_parts(rroot *r, char *msg, size_t len)
{
	const char *name = SALVO_PATH_PRIVATE;
	if (mkdirat(r->root, name, 0700) && errno != EEXIST) {
		int e = errno;
		snprintf(msg, len, "cannot make the part-file folder '%s': %s",
			 name, strerror(e));
		return -e;
	}
	int fd = openat(r->root, name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		int e = errno;
		snprintf(msg, len,
			 e == ELOOP || e == ENOTDIR
			     ? "'%s' below the root is not a folder (a symlink "
			       "or a file): salvo keeps its part-files there; "
			       "move it away"
			     : "cannot open the part-file folder '%s': %s",
			 name, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	if (st.st_uid != geteuid()) {
		snprintf(msg, len,
			 "the part-file folder '%s' below the root belongs to "
			 "another user (uid %u): move it away",
			 name, (unsigned)st.st_uid);
		close(fd);
		return -EPERM;
	}
	if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700)) {
		int e = errno;
		snprintf(msg, len, "cannot make '%s' private (0700): %s", name,
			 strerror(e));
		close(fd);
		return -e;
	}
	r->dev = st.st_dev;
	r->parts_ino = st.st_ino;
	struct statx sx;
	r->have_mnt = !statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) &&
		      (sx.stx_mask & STATX_MNT_ID);
	r->mnt = r->have_mnt ? sx.stx_mnt_id : 0;
	return fd;
}

/* Takes the shared lock on .salvo; first removes what crashed or idle
 * sessions left there (resume.c): by age always, and what nothing can
 * resume when no other receiver uses the root. */
static void lock_parts(rroot *r, int fd, const salvo_recv_opts *o)
{
	char line[300];
	int alone = !flock(fd, LOCK_EX | LOCK_NB);
	if (!alone) {
		snprintf(line, sizeof(line),
			 "another receiver uses %s: only its part-files older "
			 "than receiver.partial_max_age are removed from %s/%s",
			 o->dir, o->dir, SALVO_PATH_PRIVATE);
		log_line(o, SALVO_LOG_INFO, "shared_root", line);
	}
	int dup_fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dup_fd >= 0)
		rresume_root_start(r, dup_fd, alone, o);
	flock(fd, LOCK_SH); /* converts the exclusive lock, or waits */
}

int rroot_init(rroot *r, int root, const salvo_recv_opts *o, char *msg,
	       size_t len)
{
	memset(r, 0, sizeof(*r));
	r->root = root;
	atomic_init(&r->parts, -1);
	r->lockfd = -1;
	r->max_age_ns = o->partial_max_age_ns;
	r->mask = 07000 | read_umask();
	r->overwrite = o->overwrite;
	r->max_file_bytes = o->max_file_bytes;
	r->budget = o->memory_budget_bytes;
	r->fds = fds_per_session(root, o);
	r->pid = (int)getpid();
	salvo_rrecent_init(&r->recent, &salvo_mem_libc,
			   SALVO_RRECENT_MAX_AGE_NS);
	if (getrandom(r->key, sizeof(r->key), 0) != (ssize_t)sizeof(r->key)) {
		int e = errno;
		snprintf(msg, len, "no randomness: %s", strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(root, &st)) {
		int e = errno;
		snprintf(msg, len, "cannot use the root: %s", strerror(e));
		return -e;
	}
	r->dev = st.st_dev;
	int rc = pthread_mutex_init(&r->mu, NULL);
	if (rc) {
		snprintf(msg, len, "cannot start: %s", strerror(rc));
		return -rc;
	}
	int fd = open_parts(r, msg, len);
	if (fd == -EROFS || fd == -EACCES || fd == -ENOSPC || fd == -EDQUOT) {
		/* a root that cannot take files yet: each file will say so */
		log_line(o, SALVO_LOG_WARN, "no_part_folder", msg);
		msg[0] = 0;
		return 0;
	}
	if (fd < 0) {
		pthread_mutex_destroy(&r->mu);
		return fd;
	}
	lock_parts(r, fd, o);
	atomic_store(&r->parts, fd);
	return 0;
}

void rroot_free(rroot *r)
{
	int fd = atomic_load(&r->parts);
	rresume_root_free(r);
	salvo_rrecent_free(&r->recent);
	if (fd >= 0)
		close(fd); /* and with it the lock */
	pthread_mutex_destroy(&r->mu);
	memset(r, 0, sizeof(*r));
	atomic_init(&r->parts, -1);
}

int rroot_parts(rroot *r, char *msg, size_t len)
{
	int fd = atomic_load(&r->parts);
	if (fd >= 0)
		return fd;
	pthread_mutex_lock(&r->mu);
	fd = atomic_load(&r->parts);
	if (fd < 0) {
		fd = open_parts(r, msg, len);
		if (fd >= 0) {
			flock(fd, LOCK_SH);
			atomic_store(&r->parts, fd);
		}
	}
	pthread_mutex_unlock(&r->mu);
	return fd;
}

/* "1.5 GiB", "12 KiB", "900 B". */
static void human(uint64_t n, char *out, size_t len)
{
	static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)n;
	int u = 0;
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(out, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

int rroot_reserve(rroot *r, uint64_t held, uint64_t more, char *msg, size_t len)
{
	uint64_t left = r->used < r->budget ? r->budget - r->used : 0;
	if (!r->budget || more <= left) { /* no budget: count only */
		r->used += more;
		return 0;
	}
	char n[32], l[32], b[32];
	human(held + more > held ? held + more : UINT64_MAX, n, sizeof(n));
	human(left + held, l, sizeof(l));
	human(r->budget, b, sizeof(b));
	snprintf(msg, len,
		 "receiver memory budget: this manifest needs %s of "
		 "bookkeeping, %s left (receiver.memory_budget %s); use "
		 "larger blocks%s",
		 n, l, b,
		 left < r->budget ? ", or send when other sessions ended" : "");
	return SALVO_ERR_TOOBIG;
}

void rroot_release(rroot *r, uint64_t bytes)
{
	r->used = bytes < r->used ? r->used - bytes : 0;
}
