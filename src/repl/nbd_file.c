/*
 * nbd_file.c - the backend of exports served from a local file or block
 * device (nbd_server_add_export): arg is the open descriptor.
 *
 * Every access is positional (pread/pwrite/fallocate), so connections share
 * the descriptor without a lock around reads. Extents come from
 * lseek(SEEK_DATA/SEEK_HOLE): a hole reads as zeroes, so it is reported
 * NBD_STATE_HOLE | NBD_STATE_ZERO. lseek moves the shared file offset, which
 * nothing else uses. Where SEEK_DATA is not supported (block devices answer
 * EINVAL) everything is reported as data, which is always true.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "lib/lib.h"
#include "repl/nbd_internal.h"
#include "repl/nbd_wire.h"

static int
file_pread(void *arg, void *buf, uint32_t len, uint64_t off)
{
	int fd = (int)(intptr_t)arg;
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t r = pread(fd, p, len, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0) { /* file shrank under us: the rest reads as zeroes */
			memset(p, 0, len);
			return 0;
		}
		p += r, len -= (uint32_t)r, off += (uint64_t)r;
	}
	return 0;
}

static int
file_flush(void *arg)
{
	return fdatasync((int)(intptr_t)arg) < 0 ? -errno : 0;
}

static int
file_pwrite(void *arg, const void *buf, uint32_t len, uint64_t off, bool fua)
{
	int rc = lib_pwrite_all((int)(intptr_t)arg, buf, len, off);
	return rc == 0 && fua ? file_flush(arg) : rc;
}

static int
file_trim(void *arg, uint64_t off, uint32_t len, bool fua)
{
	/* advisory: a file system without hole punching keeps the data */
	fallocate((int)(intptr_t)arg, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, len);
	return fua ? file_flush(arg) : 0;
}

static int
file_zero(void *arg, uint64_t off, uint32_t len, bool may_trim, bool fua)
{
	static const uint8_t zero[NBD_DISCARD_CHUNK];
	int fd = (int)(intptr_t)arg, rc = 0;

	if (may_trim &&
	    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, len) == 0)
		return fua ? file_flush(arg) : 0;
	if (fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off, len) == 0)
		return fua ? file_flush(arg) : 0;
	while (len > 0 && rc == 0) { /* fallback: write zeroes */
		uint32_t n = len < sizeof(zero) ? len : (uint32_t)sizeof(zero);
		rc = lib_pwrite_all(fd, zero, n, off);
		off += n, len -= n;
	}
	return rc == 0 && fua ? file_flush(arg) : rc;
}

static void
file_close(void *arg)
{
	close((int)(intptr_t)arg);
}

/* Walks data and holes from off until len bytes are described or the list is
 * full. Past the end of the file (an export larger than a shrunk file)
 * SEEK_DATA answers ENXIO: the rest is a hole, as pread reads it. */
static int
file_extents(void *arg, uint64_t off, uint32_t len, struct nbd_extents *out)
{
	int fd = (int)(intptr_t)arg, rc = 0;
	uint64_t pos = off, end = off + len;

	while (pos < end && rc == 0) {
		off_t d = lseek(fd, (off_t)pos, SEEK_DATA), h;
		if (d < 0 && errno == ENXIO)
			return nbd_extents_add(out, end - pos, NBD_STATE_HOLE | NBD_STATE_ZERO) < 0
			           ? -ENOMEM
			           : 0;
		if (d < 0 && errno == EINVAL) /* no SEEK_DATA here: all data */
			return nbd_extents_add(out, end - pos, 0) < 0 ? -ENOMEM : 0;
		if (d < 0)
			return -errno;
		if ((uint64_t)d > pos) {
			uint64_t n = (uint64_t)d < end ? (uint64_t)d - pos : end - pos;
			rc = nbd_extents_add(out, n, NBD_STATE_HOLE | NBD_STATE_ZERO);
			pos += n;
			continue;
		}
		/* the end of the file counts as a hole; a file that shrank in
		 * between is called data to the end, which is always safe */
		h = lseek(fd, (off_t)pos, SEEK_HOLE);
		if (h < 0 || (uint64_t)h <= pos)
			h = (off_t)end;
		uint64_t n = (uint64_t)h < end ? (uint64_t)h - pos : end - pos;
		rc = nbd_extents_add(out, n, 0);
		pos += n;
	}
	return rc < 0 ? rc : 0;
}

const struct nbd_backend_ops nbd_file_ops = {
    .pread = file_pread,
    .pwrite = file_pwrite,
    .flush = file_flush,
    .trim = file_trim,
    .zero = file_zero,
    .close = file_close,
    .extents = file_extents,
};
