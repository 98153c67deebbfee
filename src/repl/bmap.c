/*
 * bmap.c - the journal's dirty bitmap, saved in place (see bmap.h for the
 * format and why).
 *
 * In memory: the bits of every block back to back (BMAP_BLOCK - 8 bytes per
 * block), a dirty flag per block, and the number of blocks the file has room
 * for (fblk; below nblk only after bmap_mark grew the map, until a save grows
 * the file). Sources: DRBD's on-disk bitmap (written in place, only the pages
 * that changed), the receiver log's two header slots (rlog.c).
 */
#include "repl/bmap.h"

#include "lib/lib.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define MAGIC1    0x314d424au /* "JBM1": the first format */
#define MAGIC2    0x324d424au /* "JBM2" */
#define SLOT_OFF  512u        /* the second header slot */
#define DATA_OFF  BMAP_BLOCK  /* the first block */
#define BLK_BYTES (BMAP_BLOCK - 8u)
#define RUN       64u /* blocks per pwrite at a save */

struct slot {
	uint32_t magic, mode;
	uint64_t bits, gen, sum;
};

struct bmap {
	int fd;
	bool mode, hdirty;
	uint64_t nblk, fblk, gen;
	uint8_t *bits;   /* nblk * BLK_BYTES */
	uint8_t *bdirty; /* nblk flags */
	uint32_t repaired;
};

static uint64_t
blocks_for(uint64_t bits)
{
	uint64_t n = (bits + BMAP_BLOCK_BITS - 1) / BMAP_BLOCK_BITS;
	return n ? n : 1;
}

static uint64_t
slot_sum(const struct slot *s)
{
	return XXH3_64bits(s, offsetof(struct slot, sum));
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Room for blocks [from, to) in the file, allocated now. */
static int
prealloc(int fd, uint64_t from, uint64_t to)
{
	off_t off = (off_t)(DATA_OFF + from * BMAP_BLOCK), len = (off_t)((to - from) * BMAP_BLOCK);
	if (len <= 0)
		return 0;
	if (fallocate(fd, 0, off, len) == 0)
		return 0;
	if (errno != EOPNOTSUPP)
		return -errno;
	static const uint8_t zero[BMAP_BLOCK]; /* no fallocate here: zeros, written */
	for (uint64_t b = from; b < to; b++) {
		int rc = lib_pwrite_all(fd, zero, sizeof(zero), DATA_OFF + b * BMAP_BLOCK);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Grows the map in memory to nblk blocks, the new ones clear and not dirty (a
 * file grown by prealloc reads as zeros, a valid empty block). */
static void
grow_mem(struct bmap *b, uint64_t nblk)
{
	b->bits = lib_xrealloc(b->bits, nblk * BLK_BYTES);
	b->bdirty = lib_xrealloc(b->bdirty, nblk);
	memset(b->bits + b->nblk * BLK_BYTES, 0, (nblk - b->nblk) * BLK_BYTES);
	memset(b->bdirty + b->nblk, 0, nblk - b->nblk);
	b->nblk = nblk;
	b->hdirty = true;
}

static int
write_header(struct bmap *b)
{
	uint8_t buf[64] = {0};
	struct slot s = {MAGIC2, b->mode, b->nblk * BMAP_BLOCK_BITS, b->gen + 1, 0};
	s.sum = slot_sum(&s);
	memcpy(buf, &s, sizeof(s));
	int rc = lib_pwrite_all(b->fd, buf, sizeof(buf), (s.gen % 2) * SLOT_OFF);
	if (rc == 0 && fdatasync(b->fd) < 0)
		rc = -errno;
	if (rc == 0) {
		b->gen = s.gen;
		b->hdirty = false;
	}
	return rc;
}

/* One block as stored: its bits and checksum, or all zeros when empty. */
static void
encode_block(const struct bmap *b, uint64_t i, uint8_t *out)
{
	const uint8_t *p = b->bits + i * BLK_BYTES;
	memcpy(out, p, BLK_BYTES);
	uint64_t sum = all_zero(p, BLK_BYTES) ? 0 : XXH3_64bits_withSeed(p, BLK_BYTES, i);
	memcpy(out + BLK_BYTES, &sum, 8);
}

int
bmap_save(struct bmap *b)
{
	int rc = 0;
	if (b->fblk < b->nblk) {
		if ((rc = prealloc(b->fd, b->fblk, b->nblk)) < 0)
			return rc;
		b->fblk = b->nblk;
	}
	uint8_t *buf = NULL; /* not static: thread-local storage would cost every thread */
	bool wrote = false;
	for (uint64_t i = 0; i < b->nblk && !rc;) {
		if (!b->bdirty[i]) {
			i++;
			continue;
		}
		if (!buf)
			buf = lib_xmalloc(RUN * BMAP_BLOCK);
		uint64_t n = 0;
		while (i + n < b->nblk && b->bdirty[i + n] && n < RUN) {
			encode_block(b, i + n, buf + n * BMAP_BLOCK);
			n++;
		}
		rc = lib_pwrite_all(b->fd, buf, n * BMAP_BLOCK, DATA_OFF + i * BMAP_BLOCK);
		wrote = true;
		i += n;
	}
	free(buf);
	if (rc < 0)
		return rc;
	if (wrote && fdatasync(b->fd) < 0)
		return -errno;
	memset(b->bdirty, 0, b->nblk);
	return b->hdirty ? write_header(b) : 0;
}

/* Reads the blocks; a torn one is taken as all set and rewritten at the next save. */
static int
load_blocks(struct bmap *b)
{
	uint8_t *buf = lib_xmalloc(RUN * BMAP_BLOCK);
	int rc = 0;
	for (uint64_t i = 0; i < b->nblk && !rc; i += RUN) {
		uint64_t n = b->nblk - i < RUN ? b->nblk - i : RUN;
		ssize_t got = pread(b->fd, buf, n * BMAP_BLOCK, (off_t)(DATA_OFF + i * BMAP_BLOCK));
		if (got < 0) {
			rc = -errno;
			break;
		}
		if ((size_t)got <
		    n * BMAP_BLOCK) /* past the end: empty (the file grows at a save) */
			memset(buf + got, 0, n * BMAP_BLOCK - (size_t)got);
		for (uint64_t k = 0; k < n; k++) {
			const uint8_t *p = buf + k * BMAP_BLOCK;
			uint8_t *dst = b->bits + (i + k) * BLK_BYTES;
			uint64_t sum;
			memcpy(&sum, p + BLK_BYTES, 8);
			if (all_zero(p, BMAP_BLOCK) ||
			    XXH3_64bits_withSeed(p, BLK_BYTES, i + k) == sum) {
				memcpy(dst, p, BLK_BYTES);
				continue;
			}
			memset(dst, 0xff, BLK_BYTES);
			b->bdirty[i + k] = 1;
			b->repaired++;
		}
	}
	free(buf);
	return rc;
}

/* The first format, read whole: the map and mode it holds, rewritten in the
 * new one (atomically: nothing in place over the old layout). */
static int
migrate(struct bmap *b, const char *path, uint64_t want)
{
	char *d;
	size_t n;
	int rc = lib_read_file(path, &d, &n);
	if (rc < 0)
		return rc;
	uint32_t magic, mode;
	uint64_t bits, sum;
	rc = -EBADMSG;
	if (n < 24)
		goto out;
	memcpy(&magic, d, 4);
	memcpy(&mode, d + 4, 4);
	memcpy(&bits, d + 8, 8);
	memcpy(&sum, d + n - 8, 8);
	if (magic != MAGIC1 || bits % 8 || n != 24 + bits / 8 || XXH3_64bits(d, n - 8) != sum)
		goto out;
	grow_mem(b, blocks_for(bits > want ? bits : want));
	memcpy(b->bits, d + 16, bits / 8);
	b->mode = mode != 0;
	uint64_t len = DATA_OFF + b->nblk * BMAP_BLOCK;
	uint8_t *img = lib_xcalloc(1, len);
	struct slot s = {MAGIC2, b->mode, b->nblk * BMAP_BLOCK_BITS, 1, 0};
	s.sum = slot_sum(&s);
	memcpy(img, &s, sizeof(s));
	for (uint64_t i = 0; i < b->nblk; i++)
		encode_block(b, i, img + DATA_OFF + i * BMAP_BLOCK);
	rc = lib_write_atomic(path, img, len);
	free(img);
	if (rc == 0) {
		b->gen = 1;
		b->fblk = b->nblk;
		b->hdirty = false;
		memset(b->bdirty, 0, b->nblk);
	}
out:
	free(d);
	return rc;
}

/* A new file (or one a crash left before its first header): preallocated, then
 * the header, durable with its name. */
static int
create(struct bmap *b, const char *path, uint64_t want)
{
	grow_mem(b, blocks_for(want));
	b->gen = 0;
	int rc = prealloc(b->fd, 0, b->nblk);
	if (rc == 0) {
		b->fblk = b->nblk;
		rc = write_header(b);
	}
	return rc ? rc : lib_sync_parent(path);
}

int
bmap_open(const char *path, uint64_t bits, struct bmap **out)
{
	struct bmap *b = lib_xcalloc(1, sizeof(*b));
	uint8_t head[SLOT_OFF + sizeof(struct slot)];
	int rc = 0;
	b->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (b->fd < 0) {
		rc = -errno;
		goto fail;
	}
	ssize_t got = pread(b->fd, head, sizeof(head), 0);
	if (got < 0) {
		rc = -errno;
		goto fail;
	}
	if ((size_t)got < sizeof(head))
		memset(head + got, 0, sizeof(head) - (size_t)got);
	uint32_t magic;
	memcpy(&magic, head, 4);
	if (magic == MAGIC1) {
		close(b->fd);
		b->fd = -1;
		if ((rc = migrate(b, path, bits)) < 0 ||
		    (b->fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
			rc = rc ? rc : -errno;
			goto fail;
		}
		*out = b;
		return 0;
	}
	struct slot s[2], *best = NULL;
	memcpy(&s[0], head, sizeof(s[0]));
	memcpy(&s[1], head + SLOT_OFF, sizeof(s[1]));
	for (int i = 0; i < 2; i++)
		if (s[i].magic == MAGIC2 && slot_sum(&s[i]) == s[i].sum &&
		    s[i].bits % BMAP_BLOCK_BITS == 0 && (!best || s[i].gen > best->gen))
			best = &s[i];
	if (!best) {
		if (!all_zero(head, sizeof(head))) {
			rc = -EBADMSG;
			goto fail;
		}
		if ((rc = create(b, path, bits)) < 0)
			goto fail;
		*out = b;
		return 0;
	}
	b->mode = best->mode != 0;
	b->gen = best->gen;
	grow_mem(b, best->bits / BMAP_BLOCK_BITS);
	b->hdirty = false;
	b->fblk = b->nblk;
	if ((rc = load_blocks(b)) < 0)
		goto fail;
	if (blocks_for(bits) > b->nblk) { /* the disk grew: the room now, not at a save */
		grow_mem(b, blocks_for(bits));
		if ((rc = bmap_save(b)) < 0)
			goto fail;
	}
	*out = b;
	return 0;
fail:
	bmap_close(b);
	return rc;
}

void
bmap_close(struct bmap *b)
{
	if (!b)
		return;
	if (b->fd >= 0)
		close(b->fd);
	free(b->bits);
	free(b->bdirty);
	free(b);
}

bool
bmap_mode(const struct bmap *b)
{
	return b->mode;
}

void
bmap_set_mode(struct bmap *b, bool on)
{
	if (b->mode != on) {
		b->mode = on;
		b->hdirty = true;
	}
}

bool
bmap_mark(struct bmap *b, uint64_t first, uint64_t last)
{
	if (last >= b->nblk * BMAP_BLOCK_BITS) {
		uint64_t n = b->nblk;
		while (n * BMAP_BLOCK_BITS <= last)
			n *= 2;
		grow_mem(b, n); /* the file grows at the next save */
	}
	bool changed = false;
	for (uint64_t e = first; e <= last; e++) {
		uint64_t blk = e / BMAP_BLOCK_BITS, in = e % BMAP_BLOCK_BITS;
		uint8_t *p = b->bits + blk * BLK_BYTES + in / 8, m = (uint8_t)(1u << (in % 8));
		if (!(*p & m)) {
			*p |= m;
			b->bdirty[blk] = 1;
			changed = true;
		}
	}
	return changed;
}

void
bmap_clear(struct bmap *b)
{
	for (uint64_t i = 0; i < b->nblk; i++)
		if (!all_zero(b->bits + i * BLK_BYTES, BLK_BYTES)) {
			memset(b->bits + i * BLK_BYTES, 0, BLK_BYTES);
			b->bdirty[i] = 1;
		}
}

bool
bmap_dirty(const struct bmap *b)
{
	if (b->hdirty || b->fblk < b->nblk)
		return true;
	for (uint64_t i = 0; i < b->nblk; i++)
		if (b->bdirty[i])
			return true;
	return false;
}

uint64_t
bmap_bits(const struct bmap *b)
{
	return b->nblk * BMAP_BLOCK_BITS;
}

uint64_t
bmap_count(const struct bmap *b)
{
	uint64_t c = 0;
	for (uint64_t i = 0; i < b->nblk * BLK_BYTES; i += 8) {
		uint64_t w;
		memcpy(&w, b->bits + i, 8);
		c += (uint64_t)__builtin_popcountll(w);
	}
	return c;
}

int
bmap_next(const struct bmap *b, uint64_t from, uint64_t *bit)
{
	for (uint64_t e = from; e < b->nblk * BMAP_BLOCK_BITS;) {
		uint64_t blk = e / BMAP_BLOCK_BITS, in = e % BMAP_BLOCK_BITS;
		uint8_t v = b->bits[blk * BLK_BYTES + in / 8] >> (in % 8);
		if (!v) { /* nothing left in this byte */
			e += 8 - in % 8;
			continue;
		}
		*bit = e + (uint64_t)__builtin_ctz(v);
		return 0;
	}
	return -ENOENT;
}

uint32_t
bmap_repaired(const struct bmap *b)
{
	return b->repaired;
}
