/*
 * TUN devices inside a network namespace.
 *
 * linkem opens each device from inside its namespace (setns on the calling
 * thread, open /dev/net/tun, TUNSETIFF, back), so the devices never exist in
 * the root namespace and two labs can use the same device names.  The
 * devices are not persistent: when linkem exits, even by SIGKILL, the kernel
 * deletes them, so a crashed lab leaves no device behind.
 */
#include "perf/linkem/linkem.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(char *err, size_t errlen, int e, const char *what,
		const char *name)
{
	snprintf(err, errlen, "%s %s: %s", what, name, strerror(e));
	return -e;
}

static int configure(int tun, const char *name, unsigned mtu,
		     unsigned txqueuelen, char *err, size_t errlen)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(tun, TUNSETIFF, &ifr) < 0)
		return fail(err, errlen, errno, "TUNSETIFF (create TUN device)",
			    name);
	int fl = fcntl(tun, F_GETFL);
	if (fl < 0 || fcntl(tun, F_SETFL, fl | O_NONBLOCK) < 0)
		return fail(err, errlen, errno, "O_NONBLOCK on", name);

	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return fail(err, errlen, errno, "socket for ioctls on", name);
	int rc = 0;
	ifr.ifr_mtu = (int)mtu;
	if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
		rc = fail(err, errlen, errno, "set MTU of", name);
	ifr.ifr_qlen = (int)txqueuelen;
	if (!rc && txqueuelen && ioctl(s, SIOCSIFTXQLEN, &ifr) < 0)
		rc = fail(err, errlen, errno, "set txqueuelen of", name);
	close(s);
	return rc;
}

int linkem_tun_open(const char *netns, const char *name, unsigned mtu,
		    unsigned txqueuelen, char *err, size_t errlen)
{
	int home = -1, ns = -1, rc;
	if (strlen(name) >= IFNAMSIZ) {
		snprintf(err, errlen, "device name %s longer than %d", name,
			 IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (netns) {
		char path[512];
		snprintf(path, sizeof(path), "%s%s",
			 netns[0] == '/' ? "" : "/var/run/netns/", netns);
		home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (home < 0)
			return fail(err, errlen, errno, "open",
				    "/proc/self/ns/net");
		ns = open(path, O_RDONLY | O_CLOEXEC);
		if (ns < 0) {
			rc = fail(err, errlen, errno, "open network namespace",
				  path);
			goto fail_home;
		}
		if (setns(ns, CLONE_NEWNET) < 0) {
			rc = fail(err, errlen, errno, "setns into", path);
			goto fail_ns;
		}
	}
	int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (tun < 0) {
		rc = fail(err, errlen, errno, "open", "/dev/net/tun");
		goto fail_setns;
	}
	rc = configure(tun, name, mtu, txqueuelen, err, errlen);
	if (rc < 0)
		close(tun);
	else
		rc = tun;
fail_setns:
	if (netns && setns(home, CLONE_NEWNET) < 0) {
		/* Staying in the wrong namespace would open the other side
		 * there. */
		if (rc >= 0)
			close(rc);
		rc = fail(err, errlen, errno, "setns back from", netns);
	}
fail_ns:
	if (ns >= 0)
		close(ns);
fail_home:
	if (home >= 0)
		close(home);
	return rc;
}
