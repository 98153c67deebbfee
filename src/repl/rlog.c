/*
 * rlog.c - the recovery side's write-ahead log (see rlog.h).
 *
 * Appends go through a 256 KiB buffer written at a sync or when full (a
 * record larger than the buffer is written on its own); replay reads through
 * a 4 MiB window. Header slot i (generation g in slot g % 2) sits at i * 512:
 * le32 magic, 4 spare, le64 generation, le64 XXH3-64 of the 16 bytes before.
 * Records are chained: each one's checksum is seeded with the one before it
 * (the first with the generation's seed), so where appends went on over a
 * torn record, or after a replay that stopped early, an older record of the
 * same generation lying after the new ones never verifies.
 */
#include "repl/rlog.h"

#include "lib/lib.h"
#include "repl/xp_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <xxhash.h>

#define SLOT_MAGIC 0x31474c52u /* "RLG1" */
#define REC_MAGIC  0x31434552u /* "REC1" */
#define REC_HDR    48u
#define SLOT       512u
#define WBUF       (256u << 10)
#define RWIN       (4u << 20)
#define MIN_CAP    (RLOG_DATA + REC_HDR + XP_MAX_RECORD)

struct rlog {
	int fd;
	uint64_t cap;   /* the file's size */
	uint64_t gen;   /* of the records appended now */
	uint64_t tail;  /* file offset after the last record appended */
	uint64_t last;  /* seq of the last record appended, 0 */
	uint64_t bump;  /* the next reset's step: 2 after an open (see rlog.h) */
	uint64_t chain; /* the last record's checksum, or the generation's seed */
	uint8_t *wb;    /* buffered bytes: file [tail - wn, tail) */
	size_t wn;
	uint64_t high; /* file offset records reached since the last trim (or the open) */
};

static uint64_t
pad8(uint64_t n)
{
	return (n + 7) & ~7ull;
}

static uint64_t
gen_seed(uint64_t gen)
{
	uint8_t b[8];
	lib_put_le64(b, gen);
	return XXH3_64bits(b, sizeof(b));
}

/* A record's checksum: its header's first 40 bytes and its payload, chained. */
static uint64_t
rec_sum(const uint8_t *h, const void *data, uint32_t len, uint64_t chain)
{
	return XXH3_64bits_withSeed(len ? data : "", len, XXH3_64bits_withSeed(h, 40, chain));
}

/* The record's header: le32 magic, le32 flags, le64 gen, seq, offset, le32
 * len, 4 spare, le64 checksum. */
static void
rec_encode(uint8_t *h, const struct rlog *l, const struct xp_record *r)
{
	memset(h, 0, REC_HDR);
	lib_put_le32(h, REC_MAGIC);
	lib_put_le32(h + 4, r->flags);
	lib_put_le64(h + 8, l->gen);
	lib_put_le64(h + 16, r->seq);
	lib_put_le64(h + 24, r->offset);
	lib_put_le32(h + 32, r->len);
	lib_put_le64(h + 40, rec_sum(h, r->data, r->len, l->chain));
}

static int
write_slot(struct rlog *l)
{
	uint8_t b[SLOT] = {0};
	lib_put_le32(b, SLOT_MAGIC);
	lib_put_le64(b + 8, l->gen);
	lib_put_le64(b + 16, XXH3_64bits(b, 16));
	return lib_pwrite_all(l->fd, b, SLOT, (l->gen % 2) * SLOT);
}

/* The generation in slot i, 0 when it does not verify. */
static uint64_t
read_slot(int fd, int i)
{
	uint8_t b[24];
	if (pread(fd, b, sizeof(b), (off_t)i * SLOT) != (ssize_t)sizeof(b) ||
	    lib_get_le32(b) != SLOT_MAGIC || lib_get_le64(b + 16) != XXH3_64bits(b, 16))
		return 0;
	return lib_get_le64(b + 8);
}

int
rlog_open(const char *path, uint64_t cap, struct rlog **out)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600), rc = 0;
	struct stat sb;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	struct rlog *l = lib_xcalloc(1, sizeof(*l));
	l->fd = fd;
	l->cap = (uint64_t)sb.st_size;
	bool created = l->cap == 0;
	if (created) { /* sparse: an idle disk's log takes no space (10,000 disks) */
		l->cap = cap;
		if (cap < MIN_CAP)
			rc = -EINVAL;
		else if (ftruncate(fd, (off_t)cap))
			rc = -errno;
	} else if (l->cap < MIN_CAP) {
		rc = -EINVAL;
	}
	for (int i = 0; i < 2 && !rc; i++) {
		uint64_t g = read_slot(fd, i);
		if (g > l->gen)
			l->gen = g;
	}
	if (!rc && l->gen == 0) { /* no header: nothing to replay */
		l->gen = 1;
		rc = write_slot(l);
		if (!rc && fdatasync(fd))
			rc = -errno;
		if (!rc && created)
			rc = lib_sync_parent(path);
	}
	if (rc) {
		close(fd);
		if (created) /* a file of the wrong size would fail every later open */
			unlink(path);
		free(l);
		return rc;
	}
	l->tail = RLOG_DATA;
	l->high = l->cap; /* what earlier runs left allocated is not known */
	l->bump = 2;
	l->chain = gen_seed(l->gen);
	*out = l;
	return 0;
}

struct win {
	int fd;
	uint64_t cap, start; /* file offset of b[0] */
	size_t n, bcap;
	uint8_t *b;
};

/* n bytes of the file from off, NULL when they cannot be read. */
static const uint8_t *
win_get(struct win *w, uint64_t off, size_t n)
{
	if (off >= w->start && off + n <= w->start + w->n)
		return w->b + (off - w->start);
	if (off + n > w->cap)
		return NULL;
	size_t want = n > RWIN ? n : RWIN;
	if (want > w->cap - off)
		want = (size_t)(w->cap - off); /* still at least n */
	if (want > w->bcap) {
		w->b = lib_xrealloc(w->b, want);
		w->bcap = want;
	}
	if (lib_pread_all(w->fd, w->b, want, off))
		return NULL;
	w->start = off, w->n = want;
	return w->b;
}

int
rlog_replay(struct rlog *l, uint64_t after, int (*fn)(void *arg, const struct xp_record *r),
            void *arg)
{
	struct win w = {l->fd, l->cap, 0, 0, 0, NULL};
	uint64_t pos = RLOG_DATA, prev = 0, chain = gen_seed(l->gen);
	int rc = 0;
	for (;;) {
		const uint8_t *h = win_get(&w, pos, REC_HDR);
		if (!h || lib_get_le32(h) != REC_MAGIC || lib_get_le64(h + 8) != l->gen)
			break;
		struct xp_record r = {.seq = lib_get_le64(h + 16),
		                      .offset = lib_get_le64(h + 24),
		                      .len = lib_get_le32(h + 32),
		                      .flags = lib_get_le32(h + 4)};
		uint64_t sum = lib_get_le64(h + 40), hs = XXH3_64bits_withSeed(h, 40, chain);
		if (r.seq <= prev || r.len > XP_MAX_RECORD)
			break;
		const uint8_t *p = win_get(&w, pos + REC_HDR, r.len);
		if (!p || XXH3_64bits_withSeed(r.len ? (const void *)p : "", r.len, hs) != sum)
			break;
		r.data = p;
		prev = r.seq;
		chain = sum;
		pos += REC_HDR + pad8(r.len);
		if (r.seq > after && (rc = fn(arg, &r)) != 0)
			break;
	}
	free(w.b);
	/* appends go on after the last record read; the chain keeps older ones out */
	l->tail = pos;
	l->last = prev;
	l->chain = chain;
	return rc;
}

static int
flush_buf(struct rlog *l)
{
	if (!l->wn)
		return 0;
	int rc = lib_pwrite_all(l->fd, l->wb, l->wn, l->tail - l->wn);
	if (rc == 0)
		l->wn = 0;
	return rc;
}

int
rlog_append(struct rlog *l, const struct xp_record *r)
{
	uint64_t need = REC_HDR + pad8(r->len);
	if (r->seq <= l->last || r->len > XP_MAX_RECORD)
		return -EINVAL;
	if (need > l->cap - l->tail)
		return RLOG_FULL;
	uint8_t h[REC_HDR];
	rec_encode(h, l, r);
	int rc = 0;
	if (need > WBUF - l->wn && (rc = flush_buf(l)) != 0)
		return rc;
	if (need > WBUF) { /* on its own, after what was buffered */
		static const uint8_t zero[8];
		struct iovec iov[3] = {{h, REC_HDR},
		                       {(void *)r->data, r->len},
		                       {(void *)zero, (size_t)(pad8(r->len) - r->len)}};
		ssize_t w = pwritev(l->fd, iov, 3, (off_t)l->tail);
		if (w != (ssize_t)need) /* short only on a full disk or an error */
			return w < 0 ? -errno : -ENOSPC;
	} else {
		if (!l->wb)
			l->wb = lib_xmalloc(WBUF);
		memcpy(l->wb + l->wn, h, REC_HDR);
		if (r->len)
			memcpy(l->wb + l->wn + REC_HDR, r->data, r->len);
		memset(l->wb + l->wn + REC_HDR + r->len, 0, (size_t)(pad8(r->len) - r->len));
		l->wn += (size_t)need;
	}
	l->tail += need;
	l->last = r->seq;
	l->chain = lib_get_le64(h + 40);
	return 0;
}

int
rlog_sync(struct rlog *l)
{
	int rc = flush_buf(l);
	if (rc == 0 && fdatasync(l->fd))
		rc = -errno;
	return rc;
}

uint64_t
rlog_used(const struct rlog *l)
{
	return l->tail - RLOG_DATA;
}

uint64_t
rlog_room(const struct rlog *l)
{
	return l->cap - RLOG_DATA;
}

int
rlog_reset(struct rlog *l)
{
	if (l->tail > l->high)
		l->high = l->tail;
	l->wn = 0; /* every record is in the replica now */
	l->gen += l->bump;
	l->bump = 1;
	l->tail = RLOG_DATA;
	l->last = 0;
	l->chain = gen_seed(l->gen);
	int rc = write_slot(l);
	free(l->wb); /* an idle disk keeps no buffer */
	l->wb = NULL;
	return rc;
}

int
rlog_trim(struct rlog *l)
{
	if (l->tail != RLOG_DATA || l->wn)
		return -EBUSY;
	uint64_t end = (l->high + 4095) & ~4095ull;
	if (end <= RLOG_DATA)
		return 0;
	if (fallocate(l->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, RLOG_DATA,
	              (off_t)(end - RLOG_DATA)) < 0)
		return errno == EOPNOTSUPP ? 0 : -errno;
	l->high = RLOG_DATA;
	return 0;
}

void
rlog_close(struct rlog *l)
{
	if (!l)
		return;
	close(l->fd);
	free(l->wb);
	free(l);
}
