/*
 * nofile.c - the open-file limit raised to what the system allows.
 *
 * Why: replication keeps about ten descriptors per protected disk (the
 * source, the journal's directory, activity log, bitmap and segment, the
 * replica, its log and sequence file, the transport's sockets). The usual
 * soft limit, 1024, stops straitd at about a hundred disks with EMFILE in
 * the middle of its work. The soft limit is a default for programs that
 * might use select(2); strait does not, so it raises its own soft limit to
 * the hard one at start (as the Go runtime does), and a caller that knows
 * how many it needs asks lib_nofile_check for a clear error up front.
 */
#include "lib.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

uint64_t
lib_nofile_raise(void)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) < 0)
		return 0;
	if (r.rlim_cur < r.rlim_max) {
		rlim_t old = r.rlim_cur;
		r.rlim_cur = r.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &r) < 0)
			r.rlim_cur = old;
	}
	return r.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)r.rlim_cur;
}

int
lib_nofile_check(uint64_t need, const char *what, char *err, size_t errlen)
{
	uint64_t have = lib_nofile_raise();
	if (!have || have >= need)
		return 0;
	snprintf(err, errlen,
	         "%s needs about %llu open files, and the limit is %llu (raise the hard limit: "
	         "ulimit -Hn, or LimitNOFILE= for a service)",
	         what, (unsigned long long)need, (unsigned long long)have);
	return -EMFILE;
}
