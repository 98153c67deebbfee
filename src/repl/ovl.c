/*
 * ovl.c - a recovery point as a writable disk for a drill: copy-on-write of
 * 4 KiB blocks over the point's chunks, served by ovl_nbd_ops.
 *
 * Design: the point's chunk map stays open (store_map_*). A bitmap, 1 bit per
 * 4 KiB block of the disk, says which blocks the drill has written; those are
 * read from the overlay, a sparse file of the disk's size, and every other
 * block from the point: zero chunks are zeroes without a read, other chunks
 * are decompressed and verified by store_map_read through a small LRU cache
 * (8 chunks, at most 64 MiB), since a guest reads a chunk in many small
 * requests. A write covering part of a block first reads the whole block
 * (from the overlay or the point), so the overlay only ever holds whole
 * blocks. Zeroing (WRITE_ZEROES and TRIM alike) punches whole blocks out of
 * the overlay and marks them: a punched range reads as zeroes, so the drill
 * reads zeroes afterwards; where punching is not supported, zeroes are
 * written.
 *
 * Concurrency: the NBD server calls the mutating functions one at a time
 * (wmu serializes them as well, for any other caller) and pread concurrently
 * with them. The bitmap's words are atomic; a block's bit is set (release)
 * only after the whole block is in the overlay and read (acquire) before the
 * block is read, so a reader sees a block either entirely from the point or
 * entirely from the overlay. Bits are never cleared, and the overlay's bytes
 * of an unmarked block are never read (a failed write may have left some).
 * mu guards the cache and every store_map_read: the store's decompression
 * context is shared, so decompression is serialized; cache hits are a copy.
 * Lock order: wmu, then mu.
 *
 * Limits: 1 bit per 4 KiB of disk (32 MiB for 1 TiB), allocated at open
 * (-ENOMEM when that fails); the overlay file takes what the drill writes.
 * The overlay is unlinked at close only: a killed drill leaves it in its
 * work directory.
 */
#include "repl/ovl.h"

#include "lib/lib.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OVL_CACHE_SLOTS 8u
#define OVL_CACHE_BYTES (64u << 20)
#define OVL_ZERO_BUF    (64u << 10)

struct ovl_slot {
	uint64_t idx;
	uint64_t used; /* tick of the last use; 0: empty */
	uint8_t *buf;  /* one chunk, allocated at first use */
};

struct ovl {
	struct store_map *map;
	uint64_t size, nblocks;
	uint32_t chunk; /* the point's chunk size (the disk's size when it has one chunk) */
	int fd;
	char *path;
	_Atomic uint64_t *bits; /* block b written: bit b % 64 of bits[b / 64] */
	atomic_uint_fast64_t written;
	pthread_mutex_t wmu; /* serializes the mutating calls */
	pthread_mutex_t mu;  /* the cache and store_map_read */
	struct ovl_slot slot[OVL_CACHE_SLOTS];
	unsigned nslots;
	uint64_t tick;
};

static bool
blk_has(const struct ovl *o, uint64_t b)
{
	return (atomic_load_explicit(&o->bits[b / 64], memory_order_acquire) >> (b % 64)) & 1;
}

/* Marks blocks [b, b + n) written, a word at a time. */
static void
blk_mark(struct ovl *o, uint64_t b, uint64_t n)
{
	while (n > 0) {
		unsigned sh = (unsigned)(b % 64), k = n < 64 - sh ? (unsigned)n : 64 - sh;
		uint64_t mask = (k == 64 ? ~0ull : ((1ull << k) - 1)) << sh;
		uint64_t old =
		    atomic_fetch_or_explicit(&o->bits[b / 64], mask, memory_order_release);
		atomic_fetch_add_explicit(&o->written, (uint64_t)__builtin_popcountll(mask & ~old),
		                          memory_order_relaxed);
		b += k, n -= k;
	}
}

/* Bytes of block b: OVL_BLOCK, or less for the disk's last block. */
static uint32_t
blk_len(const struct ovl *o, uint64_t b)
{
	uint64_t left = o->size - b * OVL_BLOCK;
	return left < OVL_BLOCK ? (uint32_t)left : OVL_BLOCK;
}

static int
file_read(int fd, uint8_t *p, uint64_t n, uint64_t off)
{
	while (n > 0) {
		ssize_t r = pread(fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		p += r, n -= (uint64_t)r, off += (uint64_t)r;
	}
	return 0;
}

/* Copies n bytes at in of chunk idx (not a zero chunk) into dst, through the cache. */
static int
chunk_copy(struct ovl *o, uint64_t idx, uint32_t in, uint32_t n, uint8_t *dst)
{
	struct ovl_slot *s = NULL, *victim = &o->slot[0];
	int rc = 0;

	pthread_mutex_lock(&o->mu);
	for (unsigned i = 0; i < o->nslots && !s; i++) {
		if (o->slot[i].used && o->slot[i].idx == idx)
			s = &o->slot[i];
		else if (o->slot[i].used < victim->used)
			victim = &o->slot[i];
	}
	if (!s) {
		s = victim;
		if (!s->buf)
			s->buf = lib_xmalloc(o->chunk);
		s->used = 0; /* empty until the read succeeds */
		s->idx = idx;
		rc = store_map_read(o->map, idx, s->buf);
	}
	if (rc == 0) {
		s->used = ++o->tick;
		memcpy(dst, s->buf + in, n);
	}
	pthread_mutex_unlock(&o->mu);
	return rc;
}

/* The point's bytes [off, off + len). */
static int
point_read(struct ovl *o, uint8_t *dst, uint64_t len, uint64_t off)
{
	while (len > 0) {
		uint64_t idx = off / o->chunk;
		uint32_t in = (uint32_t)(off % o->chunk), n = store_map_chunk_len(o->map, idx) - in;
		if (n > len)
			n = (uint32_t)len;
		if (store_map_is_zero(o->map, idx)) {
			memset(dst, 0, n);
		} else {
			int rc = chunk_copy(o, idx, in, n, dst);
			if (rc)
				return rc;
		}
		dst += n, off += n, len -= n;
	}
	return 0;
}

/* The drill's view of [off, off + len): runs of written blocks from the
 * overlay, runs of the others from the point. */
static int
ovl_read(struct ovl *o, uint8_t *dst, uint64_t len, uint64_t off)
{
	uint64_t end = off + len;
	while (off < end) {
		uint64_t b = off / OVL_BLOCK, run = (b + 1) * OVL_BLOCK;
		bool have = blk_has(o, b);
		while (run < end && blk_has(o, run / OVL_BLOCK) == have)
			run += OVL_BLOCK;
		uint64_t n = (run < end ? run : end) - off;
		int rc = have ? file_read(o->fd, dst, n, off) : point_read(o, dst, n, off);
		if (rc)
			return rc;
		dst += n, off += n;
	}
	return 0;
}

/* Zeroes [off, off + n) of the overlay: a hole when the file system punches. */
static int
file_zero(int fd, uint64_t off, uint64_t n)
{
	static const uint8_t zero[OVL_ZERO_BUF];
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)n) == 0 ||
	    fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)n) == 0)
		return 0;
	while (n > 0) {
		uint64_t k = n < sizeof(zero) ? n : sizeof(zero);
		int rc = lib_pwrite_all(fd, zero, (size_t)k, off);
		if (rc)
			return rc;
		off += k, n -= k;
	}
	return 0;
}

/* Writes data (NULL: zeroes) over [off, off + len) into the overlay and marks
 * the blocks. A block the range covers only in part is completed from what it
 * reads now (read-modify-write); runs of whole blocks go in one call. Runs
 * under wmu. */
static int
ovl_write(struct ovl *o, const uint8_t *data, uint64_t len, uint64_t off)
{
	uint64_t end = off + len;
	int rc = 0;
	while (off < end && rc == 0) {
		uint64_t b = off / OVL_BLOCK, start = b * OVL_BLOCK;
		uint32_t blen = blk_len(o, b);
		uint64_t n;
		if (off != start || end - off < blen) {
			uint8_t blk[OVL_BLOCK];
			uint32_t in = (uint32_t)(off - start);
			n = blen - in < end - off ? blen - in : end - off;
			rc = ovl_read(o, blk, blen, start);
			if (rc)
				break;
			if (data)
				memcpy(blk + in, data, n);
			else
				memset(blk + in, 0, n);
			rc = lib_pwrite_all(o->fd, blk, blen, start);
			if (rc == 0)
				blk_mark(o, b, 1);
		} else {
			/* whole blocks up to the last one the range covers entirely (the
			 * disk's short last block included) */
			uint64_t wend = end == o->size ? end : end / OVL_BLOCK * OVL_BLOCK;
			n = wend - off;
			rc = data ? lib_pwrite_all(o->fd, data, (size_t)n, off)
			          : file_zero(o->fd, off, n);
			if (rc == 0)
				blk_mark(o, b, (n + OVL_BLOCK - 1) / OVL_BLOCK);
		}
		off += n;
		if (data)
			data += n;
	}
	return rc;
}

int
ovl_open(struct store *st, const char *disk, uint64_t seq, const char *overlay_path,
         struct ovl **out)
{
	struct store_map *m;
	int rc = store_map_open(st, disk, seq, &m);
	if (rc)
		return rc;
	uint64_t nch = store_map_nchunks(m);
	if (nch == 0) {
		store_map_close(m);
		return -EINVAL;
	}
	uint32_t cs = store_map_chunk_len(m, 0);
	uint64_t size = (nch - 1) * cs + store_map_chunk_len(m, nch - 1);
	uint64_t nblocks = (size + OVL_BLOCK - 1) / OVL_BLOCK;
	_Atomic uint64_t *bits = calloc((size_t)((nblocks + 63) / 64), sizeof(*bits));
	if (!bits) {
		store_map_close(m);
		return -ENOMEM;
	}
	int fd = open(overlay_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		rc = -errno;
		if (fd >= 0) {
			close(fd);
			unlink(overlay_path);
		}
		free(bits);
		store_map_close(m);
		return rc;
	}
	struct ovl *o = lib_xcalloc(1, sizeof(*o));
	o->map = m;
	o->size = size;
	o->nblocks = nblocks;
	o->chunk = cs;
	o->fd = fd;
	o->path = lib_xstrdup(overlay_path);
	o->bits = bits;
	atomic_init(&o->written, 0);
	pthread_mutex_init(&o->wmu, NULL);
	pthread_mutex_init(&o->mu, NULL);
	o->nslots = OVL_CACHE_BYTES / cs;
	if (o->nslots > OVL_CACHE_SLOTS)
		o->nslots = OVL_CACHE_SLOTS;
	if (o->nslots == 0)
		o->nslots = 1;
	*out = o;
	return 0;
}

void
ovl_close(struct ovl *o)
{
	if (!o)
		return;
	close(o->fd);
	unlink(o->path);
	for (unsigned i = 0; i < OVL_CACHE_SLOTS; i++)
		free(o->slot[i].buf);
	pthread_mutex_destroy(&o->mu);
	pthread_mutex_destroy(&o->wmu);
	store_map_close(o->map);
	free((void *)o->bits);
	free(o->path);
	free(o);
}

uint64_t
ovl_size(const struct ovl *o)
{
	return o->size;
}

void
ovl_stats(const struct ovl *o, uint64_t *blocks_written, uint64_t *size)
{
	if (blocks_written)
		*blocks_written = atomic_load_explicit(&o->written, memory_order_relaxed);
	if (size)
		*size = o->size;
}

/* ---- the NBD backend ---------------------------------------------------- */

static int
ovl_nbd_pread(void *arg, void *buf, uint32_t len, uint64_t off)
{
	struct ovl *o = arg;
	if (off > o->size || len > o->size - off)
		return -EINVAL;
	return ovl_read(o, buf, len, off);
}

static int
ovl_nbd_flush(void *arg)
{
	struct ovl *o = arg;
	return fdatasync(o->fd) < 0 ? -errno : 0;
}

static int
ovl_nbd_pwrite(void *arg, const void *buf, uint32_t len, uint64_t off, bool fua)
{
	struct ovl *o = arg;
	if (off > o->size || len > o->size - off)
		return -ENOSPC;
	pthread_mutex_lock(&o->wmu);
	int rc = ovl_write(o, buf, len, off);
	if (rc == 0 && fua)
		rc = ovl_nbd_flush(o);
	pthread_mutex_unlock(&o->wmu);
	return rc;
}

static int
ovl_nbd_zero(void *arg, uint64_t off, uint32_t len, bool may_trim, bool fua)
{
	struct ovl *o = arg;
	(void)may_trim; /* the overlay is scratch: a hole is as good as written zeroes */
	if (off > o->size || len > o->size - off)
		return -ENOSPC;
	pthread_mutex_lock(&o->wmu);
	int rc = ovl_write(o, NULL, len, off);
	if (rc == 0 && fua)
		rc = ovl_nbd_flush(o);
	pthread_mutex_unlock(&o->wmu);
	return rc;
}

/* A trim reads back as zeroes too: the drill never sees the point through it. */
static int
ovl_nbd_trim(void *arg, uint64_t off, uint32_t len, bool fua)
{
	struct ovl *o = arg;
	if (off > o->size || len > o->size - off)
		return -EINVAL;
	return ovl_nbd_zero(arg, off, len, true, fua);
}

static void
ovl_nbd_close(void *arg)
{
	ovl_close(arg);
}

const struct nbd_backend_ops ovl_nbd_ops = {
    .pread = ovl_nbd_pread,
    .pwrite = ovl_nbd_pwrite,
    .flush = ovl_nbd_flush,
    .trim = ovl_nbd_trim,
    .zero = ovl_nbd_zero,
    .close = ovl_nbd_close,
};
