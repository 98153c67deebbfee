/*
 * store_capture.c - a disk image into the store as a recovery point.
 *
 * Design: the image is walked chunk by chunk with pread (not mapped: a read
 * error on a mapping is SIGBUS, and reading a hole of a file on a full tmpfs
 * is one too). Ranges that SEEK_DATA reports as holes are zero chunks without
 * a read. Every other chunk is hashed (XXH3-128, the store's own chunk hash)
 * and compared with the newest point's resolved map; only chunks that differ
 * are handed to store_write_point, which reads them again (from the page
 * cache, usually) when it stores them, deduplicated by hash, before the
 * manifest. This is the initial copy (first point), the periodic
 * snapshot of a replica, and the checksum comparison that lets reprotect and
 * resync send only what differs.
 */
#include "repl/store.h"

#include "lib/lib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const uint8_t zero_hash[STORE_HASH_LEN];

/* The start of the next data at or after off; size when only a hole follows. */
static uint64_t
next_data(int fd, uint64_t off, uint64_t size)
{
	off_t d = lseek(fd, (off_t)off, SEEK_DATA);
	if (d < 0)
		return errno == ENXIO ? size : off; /* no SEEK_DATA: treat all as data */
	return (uint64_t)d;
}

struct reader {
	int fd;
	uint32_t chunk_size;
};

static int
read_chunk(void *arg, uint64_t index, void *buf, size_t len)
{
	const struct reader *r = arg;
	return lib_pread_all(r->fd, buf, len, index * r->chunk_size);
}

int
store_capture(struct store *st, const char *disk, const char *image, int64_t time,
              enum store_kind kind, uint32_t chunk_size, uint64_t *seq,
              struct store_capture_stats *stats)
{
	return store_capture_chunks(st, disk, image, time, kind, chunk_size, NULL, 0, seq, stats);
}

int
store_capture_chunks(struct store *st, const char *disk, const char *image, int64_t time,
                     enum store_kind kind, uint32_t chunk_size, const uint64_t *only, size_t nonly,
                     uint64_t *seq, struct store_capture_stats *stats)
{
	struct store_capture_stats sx = {0};
	int fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	off_t end = lseek(fd, 0, SEEK_END);
	if (end <= 0) {
		int rc = end < 0 ? -errno : -EINVAL;
		close(fd);
		return rc;
	}
	uint64_t size = (uint64_t)end;

	/* The newest point fixes the chunk size and is the base of the comparison. */
	struct store_point prev = {0};
	const uint8_t *old = NULL;
	int rc = store_newest(st, disk, &prev, &old);
	if (rc == 0 && prev.seq) {
		if (chunk_size && chunk_size != prev.chunk_size)
			rc = -EINVAL;
		if (prev.disk_size != size)
			rc = -EINVAL; /* resizing a protected disk is a new replication */
		chunk_size = prev.chunk_size;
	}
	if (!chunk_size)
		chunk_size = STORE_CHUNK_DEFAULT;
	if (rc == 0 && (chunk_size < STORE_CHUNK_MIN || chunk_size > STORE_CHUNK_MAX))
		rc = -EINVAL;
	if (rc == 0 && only && !old)
		rc = -EINVAL; /* the first point reads the whole image */
	if (rc) {
		close(fd);
		return rc;
	}

	/* A whole image is read in order; a delta's chunks are scattered: no readahead,
	 * which would bring in large folios around them that make later small writes
	 * to the image walk whole folios. */
	(void)posix_fadvise(fd, 0, 0, only ? POSIX_FADV_RANDOM : POSIX_FADV_SEQUENTIAL);
	uint8_t *zeros = lib_xcalloc(1, chunk_size), *buf = lib_xmalloc(chunk_size);
	struct lib_vec ch = {0}; /* struct store_chunk */
	lib_vec_init(&ch, sizeof(struct store_chunk));
	uint64_t nch = (size + chunk_size - 1) / chunk_size, data = next_data(fd, 0, size);
	uint8_t h[STORE_HASH_LEN];
	uint64_t lastidx = 0;
	for (uint64_t k = 0; only ? k < nonly : k < nch; k++) {
		uint64_t i = only ? only[k] : k;
		if (i >= nch || (only && k && i <= lastidx))
			continue; /* out of range, or not ascending: skipped */
		lastidx = i;
		uint64_t off = i * chunk_size,
		         len = size - off < chunk_size ? size - off : chunk_size;
		if (data < off)
			data = next_data(fd, off, size);
		bool hole = data >= off + len;
		if (hole) {
			memset(h, 0, sizeof(h));
			sx.holes++;
		} else if ((rc = lib_pread_all(fd, buf, (size_t)len, off)) != 0) {
			break;
		} else {
			store_chunk_hash(buf, (size_t)len, h);
		}
		const uint8_t *was = old ? old + i * STORE_HASH_LEN : zero_hash;
		if (!memcmp(h, was, STORE_HASH_LEN))
			continue;
		struct store_chunk *c = lib_vec_push(&ch);
		c->index = i;
		c->data = hole ? zeros : NULL; /* NULL: read again by read_chunk */
		sx.changed++;
		sx.bytes += len;
	}
	sx.chunks = nch;

	struct reader rd = {fd, chunk_size};
	struct store_write w = {
	    .disk = disk,
	    .disk_size = size,
	    .chunk_size = chunk_size,
	    .time = time,
	    .kind = kind,
	    .jseq = 0,
	    .chunks = ch.v,
	    .nchunks = ch.n,
	    .read = read_chunk,
	    .read_arg = &rd,
	};
	/* The first point of an all-zero disk still needs a manifest: one zero chunk. */
	struct store_chunk first = {.index = 0, .data = zeros};
	if (!old && ch.n == 0) {
		w.chunks = &first;
		w.nchunks = 1;
	}
	if (!rc)
		rc = store_write_point(st, &w, seq); /* old is the store's: not used past here */
	lib_vec_free(&ch);
	free(zeros);
	free(buf);
	/* After a whole read, drop the clean pages it brought in (large folios). */
	if (!only)
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	if (rc == 0 && stats)
		*stats = sx;
	return rc;
}
