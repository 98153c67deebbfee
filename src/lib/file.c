/*
 * file.c - whole-file reads and the one durable-write helper.
 *
 * lib_write_atomic never leaves a half-written file behind: it writes a
 * temporary beside the target, fsyncs it, renames it over the target and
 * fsyncs the directory, so after a crash the path holds the old or the new
 * content, never a mix.
 */
#include "lib.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
lib_read_file(const char *path, char **data, size_t *n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return -EISDIR;
	}
	size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, len = 0;
	char *buf = lib_xmalloc(cap);
	for (;;) {
		if (len + 1 >= cap) {
			cap *= 2;
			buf = lib_xrealloc(buf, cap);
		}
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;
			free(buf);
			close(fd);
			return e;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	*data = buf;
	if (n)
		*n = len;
	return 0;
}

int
lib_write_all(int fd, const void *data, size_t n)
{
	const char *p = data;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
lib_pwrite_all(int fd, const void *data, size_t n, uint64_t off)
{
	const char *p = data;
	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

int
lib_pread_all(int fd, void *buf, size_t n, uint64_t off)
{
	char *p = buf;
	while (n) {
		ssize_t r = pread(fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

int
lib_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int
lib_sync_parent(const char *path)
{
	char *dcopy = lib_xstrdup(path);
	int dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
	free(dcopy);
	if (dfd < 0)
		return -errno;
	if (fsync(dfd) < 0)
		rc = -errno;
	close(dfd);
	return rc;
}

int
lib_write_atomic(const char *path, const void *data, size_t n)
{
	size_t plen = strlen(path);
	char *tmp = lib_xmalloc(plen + 16);
	snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
	int fd = mkstemp(tmp), rc = 0;
	if (fd < 0) {
		rc = -errno;
		goto out_free;
	}
	rc = lib_write_all(fd, data, n);
	if (rc)
		goto out_unlink;
	if (fchmod(fd, 0644) < 0 || fsync(fd) < 0) {
		rc = -errno;
		goto out_unlink;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = -errno;
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = -errno;
		goto out_unlink;
	}
	char *dcopy = lib_xstrdup(path);
	int dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dcopy);
	if (dfd >= 0) {
		if (fsync(dfd) < 0)
			rc = -errno;
		close(dfd);
	}
	goto out_free;
out_unlink:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out_free:
	free(tmp);
	return rc;
}

int
lib_mkdir_p(const char *dir)
{
	char *d = lib_xstrdup(dir);
	for (char *s = d + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(d, 0700) && errno != EEXIST) {
			int e = errno;
			free(d);
			return -e;
		}
		*s = '/';
	}
	int rc = mkdir(d, 0700) && errno != EEXIST ? -errno : 0;
	free(d);
	return rc;
}

int
lib_check_readable(const char *what, const char *path, char *err, size_t errlen)
{
	if (access(path, R_OK) == 0)
		return 0;
	int e = errno;
	snprintf(err, errlen, "%s: cannot read %s: %s", what, path, strerror(e));
	return -e;
}
