/*
 * jnl.c - the replication journal: segments, records, iterator, dirty bitmap and
 * activity log (see jnl.h for the format and the durability contract).
 *
 * Invariants:
 * - records are numbered 1, 2, 3... with no gap; a segment's name is the seq of its
 *   first record;
 * - a full segment is not synced when the next one is created (that would stall the
 *   writer on the disk at every rotation): it waits, open, in the pending list for
 *   the next sync (a FLUSH or FUA record, an activity-log eviction, close), or is
 *   released unsynced. Every sync makes the pending segments and the directory
 *   durable before the current segment, and before a FLUSH or FUA record is
 *   written: so a durable record implies every record before it is durable, and
 *   after a power cut only records after the last durable one can be torn;
 * - a write is acknowledged (jnl_append returns) only after its 4 MiB extent is in
 *   the persistent activity log; an extent leaves the activity log only after the
 *   journal, the dirty bitmap and (via opts.sync_disk) the disk were synced after
 *   its last write was appended (one sync serves every extent written before it:
 *   the epochs of al_touch). In
 *   bitmap mode a write's 64 KiB bit is set in memory and persisted by the next
 *   sync (an eviction, a flush, close), as DRBD does: until then its extent is in
 *   the activity log, so after a crash the extents jnl_recover reports cover it;
 * - the torn-tail rule: a record that runs to the end of its segment and does not
 *   verify, or zero bytes up to that end, or a missing segment, is where a crash cut
 *   the log when no verified FLUSH or FUA record follows it (in the last segment
 *   nothing can follow); jnl_open then truncates there and deletes the segments
 *   after. Any other bad record, or a gap in the sequence, is -EBADMSG;
 * - a released segment's deletion is made durable by the next sync (the directory
 *   is synced before any later durable record): until then a power cut may bring it
 *   back, torn or whole, which the torn-tail rule above takes as it takes any
 *   segment with nothing durable after it;
 * - the iterator reads the segments in large blocks (IT_BLOCK), not record by record;
 *   a kept one (jnl_iter_resume) reads only records below its limit, all complete
 *   (written before the limit was taken), and drops what it read ahead past them;
 * - numbering never reuses a seq: records after the last durable one may have been
 *   read (and shipped) before a power cut lost them, so after an unclean stop (the
 *   activity log not empty) jnl_open numbers on from past every seq it could have
 *   given: the highest it ever started from plus GAP_SEQS, in a new segment. The
 *   file "gaps" (written atomically before the first record of the new numbering)
 *   lists each jump as "prev next": the segment named next follows the record prev,
 *   and nothing lies between. GAP_SEQS (2^40) is more records than a journal can
 *   write between two durable records (each record is at least 40 bytes, and
 *   PEND_MAX + 1 segments at most wait for a sync).
 * Limits: jnl_open reads and verifies the whole journal (bounded by opts.capacity);
 * evicting extents from the activity log costs an fdatasync of the segment and
 * opts.sync_disk once per ring's worth of evictions at most (when the victim was
 * written since the last sync), as a DRBD activity-log transaction does; each
 * sync that follows a new bit writes the bitmap's changed 4 KiB blocks in place
 * (bmap.c). The activity log and the bitmap are preallocated at open (the bitmap
 * to opts.disk_size), so neither needs space after: with the journal's disk full,
 * an extent can still leave the activity log, and writes to new extents go on.
 * Sources: DRBD user guide (activity log of 4 MiB extents, quick-sync bitmap), NBD
 * proto.md (FLUSH and FUA durability), dm-log-writes (log in completion order).
 */
#include "repl/jnl.h"

#include "repl/bmap.h"

#include "lib/lib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <xxhash.h>

#define REC_MAGIC 0x314c4e4au /* "JNL1" */
#define AL_MAGIC  0x314c414au /* "JAL1" */
#define AL_SLOT   32u
#define IT_BLOCK  (1u << 20) /* the iterator's reads */
#define PEND_MAX  64u        /* full segments waiting for a sync */
#define GAP_SEQS  (1ull << 40)

struct hdr {
	uint32_t magic, flags;
	uint64_t seq, off;
	uint32_t len, dlen;
	uint64_t sum;
};
_Static_assert(sizeof(struct hdr) == JNL_HDR_SIZE, "header layout");

struct seg {
	uint64_t first;
	uint64_t size;
};

struct gap { /* the numbering jumps from record prev to next (see the invariants) */
	uint64_t prev, next;
};

struct pend { /* a full segment written since its last sync, still open */
	uint64_t first;
	int fd;
};

struct jnl {
	char *dir;
	struct jnl_opts o;
	int dirfd;
	struct seg *segs; /* sorted by first */
	uint32_t nseg, capseg;
	int fd;            /* last segment */
	uint64_t alloc;    /* bytes of it preallocated (seg_grow) */
	struct pend *pend; /* full segments not synced yet, oldest first */
	uint32_t npend;
	struct gap *gaps; /* oldest first */
	size_t ngaps;
	uint64_t next, durable, bytes;
	uint64_t barrier; /* seq of the last FLUSH record */
	bool dirty, dir_dirty;
	struct bmap *bm; /* dirty bitmap */
	/* activity log */
	int alfd;
	uint64_t *al; /* extent + 1 per slot, 0 = empty */
	uint64_t al_gen;
	uint64_t *al_ep;  /* per slot: the epoch of the extent's last write */
	uint32_t *al_ix;  /* extent -> slot + 1, open addressing (no scan per write) */
	uint32_t al_mask; /* al_ix's size - 1 */
	uint64_t epoch;   /* steps at the start of every sync_all */
	uint64_t clean;   /* writes of an epoch below it are durable (disk and journal) */
	/* Extents in the file's slots past the ring (a journal reopened with a smaller
	 * activity log after an unclean stop): reported, and kept in the file until a
	 * clean close, so a second crash before it reports them again. */
	uint64_t *al_old;
	size_t al_old_n, al_old_cap;
	/* recovery report found at open */
	uint64_t *rec_ext;
	size_t rec_n, rec_cap;
};

/* ---- helpers ---------------------------------------------------------------- */

/* The record's checksum; *dsum gets XXH3-64 of the data alone (its seed). */
static uint64_t
rec_sum(const struct hdr *h, const void *data, uint64_t *dsum)
{
	struct hdr c = *h;
	c.sum = 0;
	uint64_t seed = XXH3_64bits(data ? data : "", data ? h->dlen : 0);
	if (dsum)
		*dsum = seed;
	return XXH3_64bits_withSeed(&c, sizeof(c), seed);
}

static int
write_full(int fd, const void *p, size_t n, off_t off)
{
	const char *c = p;
	while (n) {
		ssize_t w = pwrite(fd, c, n, off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

static ssize_t
read_full(int fd, void *p, size_t n, off_t off)
{
	char *c = p;
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, c + got, n - got, off + (off_t)got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int
cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* The segments of dir, sorted. */
static int
list_segs(const char *dir, struct seg **out, uint32_t *n, uint32_t *cap)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	struct dirent *de;
	*out = NULL;
	*n = *cap = 0;
	while ((de = readdir(d))) {
		uint64_t first;
		char tail[8];
		if (sscanf(de->d_name, "seg-%16" SCNx64 ".%7s", &first, tail) != 2 ||
		    strcmp(tail, "jnl") != 0 || strlen(de->d_name) != 24)
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		struct stat st;
		if (stat(path, &st) < 0)
			continue;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 8;
			*out = lib_xrealloc(*out, *cap * sizeof(**out));
		}
		(*out)[(*n)++] = (struct seg){first, (uint64_t)st.st_size};
	}
	closedir(d);
	if (*n)
		qsort(*out, *n, sizeof(**out), cmp_seg);
	return 0;
}

static void
seg_path(const char *dir, uint64_t first, char *buf, size_t n)
{
	snprintf(buf, n, "%s/seg-%016" PRIx64 ".jnl", dir, first);
}

/* The jumps of the numbering in dir's "gaps" file: none when there is no file. */
static int
gaps_load(const char *dir, struct gap **out, size_t *n)
{
	char path[4096], *txt;
	size_t len;
	snprintf(path, sizeof(path), "%s/gaps", dir);
	*out = NULL;
	*n = 0;
	int rc = lib_read_file(path, &txt, &len);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	size_t cap = 0;
	for (char *p = txt, *nl; *p; p = nl + 1) {
		struct gap g;
		if (!(nl = strchr(p, '\n')) ||
		    sscanf(p, "%" SCNu64 " %" SCNu64, &g.prev, &g.next) != 2 || g.next <= g.prev) {
			rc = -EBADMSG;
			break;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			*out = lib_xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[(*n)++] = g;
	}
	free(txt);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* A jump from record prev straight to next. */
static bool
gap_is(const struct gap *g, size_t n, uint64_t prev, uint64_t next)
{
	for (size_t i = 0; i < n; i++)
		if (g[i].prev == prev && g[i].next == next)
			return true;
	return false;
}

static void
add_u64(uint64_t **v, size_t *n, size_t *cap, uint64_t x)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = lib_xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[(*n)++] = x;
}

/* ---- iterator --------------------------------------------------------------- */

struct jnl_iter {
	char *dir;
	struct seg *segs;
	uint32_t nseg, cur;
	uint32_t nall;    /* segments listed (nseg drops those after a torn gap) */
	struct gap *gaps; /* the numbering's jumps, read when first needed (iter_gaps) */
	size_t ngaps;
	bool gaps_read;
	int fd;
	uint64_t pos, fsize, from, expect;
	uint8_t *buf; /* bytes [boff, boff + blen) of the current segment */
	size_t bufcap, blen;
	uint64_t boff;
	bool done;
	bool repair;      /* jnl_open's scan: a torn spot may lie before the last segment */
	uint64_t end_pos; /* where the clean part of the current segment ends */
	uint64_t limit;   /* jnl_iter_next stops before this seq */
};

int
jnl_iter_open(const char *dir, uint64_t from, struct jnl_iter **out)
{
	struct jnl_iter *it = lib_xcalloc(1, sizeof(*it));
	uint32_t cap;
	int rc = list_segs(dir, &it->segs, &it->nseg, &cap);
	if (rc < 0) {
		free(it);
		return rc;
	}
	it->dir = lib_xstrdup(dir);
	it->fd = -1;
	it->from = from;
	it->limit = UINT64_MAX;
	it->nall = it->nseg;
	/* Start at the last segment whose first seq is <= from. */
	it->cur = 0;
	for (uint32_t i = 0; i < it->nseg; i++)
		if (it->segs[i].first <= from)
			it->cur = i;
	it->expect = it->nseg ? it->segs[it->cur].first : 0;
	*out = it;
	return 0;
}

uint64_t
jnl_iter_seq(const struct jnl_iter *it)
{
	return it->expect > it->from ? it->expect : it->from;
}

/* Drops what the buffer holds from pos on: bytes not returned yet, read while a
 * record was being written or before a failed one was cut. */
static void
iter_trim(struct jnl_iter *it)
{
	if (it->pos >= it->boff && it->pos <= it->boff + it->blen) {
		it->blen = (size_t)(it->pos - it->boff);
	} else {
		it->boff = it->pos;
		it->blen = 0;
	}
}

/* The current segment was read through and records below the limit remain: list the
 * segments again and go on from it (iter_next_seg then takes the one after it). The current one
 * stays in the list when it is gone from the directory (released once every record
 * in it was acknowledged): the open descriptor still reads it. */
static int
iter_relist(struct jnl_iter *it)
{
	struct seg cur = it->segs[it->cur];
	struct seg *segs;
	uint32_t n, cap;
	int rc = list_segs(it->dir, &segs, &n, &cap);
	if (rc < 0)
		return rc;
	uint32_t i = 0;
	while (i < n && segs[i].first < cur.first)
		i++;
	if (i == n || segs[i].first != cur.first) {
		segs = lib_xrealloc(segs, (n + 1) * sizeof(*segs));
		memmove(segs + i + 1, segs + i, (n - i) * sizeof(*segs));
		segs[i] = cur;
		n++;
	}
	free(it->segs);
	it->segs = segs;
	it->nseg = it->nall = n;
	it->cur = i;
	return 0;
}

int
jnl_iter_resume(struct jnl_iter *it, uint64_t limit)
{
	it->limit = limit;
	it->done = false;
	iter_trim(it);
	if (jnl_iter_seq(it) >= limit)
		return 0; /* nothing to read */
	if (it->fd < 0)
		return it->nseg ? 0 : -ESTALE; /* the next call opens its segment; none listed */
	struct stat st;
	if (fstat(it->fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size < it->pos)
		return -ESTALE; /* cut below what was read */
	it->fsize = (uint64_t)st.st_size;
	return 0;
}

void
jnl_iter_idle(struct jnl_iter *it)
{
	it->boff = it->pos; /* nothing past pos is kept (iter_trim), nothing before is needed */
	it->blen = 0;
	free(it->buf);
	it->buf = NULL;
	it->bufcap = 0;
}

void
jnl_iter_close(struct jnl_iter *it)
{
	if (!it)
		return;
	if (it->fd >= 0)
		close(it->fd);
	free(it->segs);
	free(it->gaps);
	free(it->buf);
	free(it->dir);
	free(it);
}

static int
iter_open_seg(struct jnl_iter *it)
{
	char path[4096];
	seg_path(it->dir, it->segs[it->cur].first, path, sizeof(path));
	it->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (it->fd < 0)
		return -errno;
	struct stat st;
	if (fstat(it->fd, &st) < 0)
		return -errno;
	it->fsize = (uint64_t)st.st_size;
	it->pos = it->boff = 0;
	it->blen = 0;
	return 0;
}

/* Makes the buffer hold bytes [pos, pos + need) of the segment (need <= fsize - pos):
 * what it holds from pos on moves to the front, then one large read. */
static int
iter_fill(struct jnl_iter *it, size_t need)
{
	if (it->pos >= it->boff && it->pos + need <= it->boff + it->blen)
		return 0;
	size_t keep = 0;
	if (it->pos >= it->boff && it->pos < it->boff + it->blen) {
		keep = (size_t)(it->boff + it->blen - it->pos);
		memmove(it->buf, it->buf + (it->pos - it->boff), keep);
	}
	/* As large as the segment's bytes from pos on, up to IT_BLOCK: a kept iterator
	 * with a few records to read takes a few KiB, not IT_BLOCK. */
	uint64_t avail = it->fsize - it->pos;
	size_t cap = avail < IT_BLOCK ? (size_t)avail : IT_BLOCK;
	if (cap < need)
		cap = need;
	if (cap > it->bufcap) {
		it->buf = lib_xrealloc(it->buf, cap);
		it->bufcap = cap;
	}
	it->boff = it->pos;
	it->blen = keep;
	uint64_t left = it->fsize - (it->pos + keep);
	size_t want = it->bufcap - keep < left ? it->bufcap - keep : (size_t)left;
	ssize_t got = read_full(it->fd, it->buf + keep, want, (off_t)(it->pos + keep));
	if (got < 0)
		return (int)got;
	it->blen += (size_t)got;
	return it->blen >= need ? 0 : -EIO;
}

/* Bytes [pos, fsize) of the current segment are all zero. */
static bool
iter_rest_zero(struct jnl_iter *it)
{
	uint8_t b[4096];
	for (uint64_t p = it->pos; p < it->fsize;) {
		size_t n = it->fsize - p < sizeof(b) ? (size_t)(it->fsize - p) : sizeof(b);
		if (read_full(it->fd, b, n, (off_t)p) != (ssize_t)n)
			return false;
		for (size_t i = 0; i < n; i++)
			if (b[i])
				return false;
		p += n;
	}
	return true;
}

/* A verified FLUSH or FUA record in segment s: one written after a sync of
 * everything before it (see the invariants), so nothing before it can be torn. */
static bool
seg_durable(const char *dir, const struct seg *s)
{
	struct jnl_iter *it = lib_xcalloc(1, sizeof(*it));
	it->dir = lib_xstrdup(dir);
	it->segs = lib_xmalloc(sizeof(*s));
	it->segs[0] = *s;
	it->nseg = 1;
	it->fd = -1;
	it->expect = s->first;
	it->limit = UINT64_MAX;
	struct jnl_rec r;
	bool found = false;
	while (!found && jnl_iter_next(it, &r) > 0)
		found = r.flags & (JNL_F_FLUSH | JNL_F_FUA);
	jnl_iter_close(it);
	return found;
}

/* A segment from index i on holds a durable record. */
static bool
durable_from(const struct jnl_iter *it, uint32_t i)
{
	for (; i < it->nseg; i++)
		if (seg_durable(it->dir, &it->segs[i]))
			return true;
	return false;
}

/* The record at pos is bad: the end of the log if it is the torn tail (in the last
 * segment, or when repairing in one no durable record follows), else -EBADMSG. */
static int
iter_bad(struct jnl_iter *it, bool runs_to_end)
{
	bool last = it->cur + 1 == it->nseg;
	bool tail = last || (it->repair && !durable_from(it, it->cur + 1));
	if (tail && (runs_to_end || iter_rest_zero(it))) {
		it->done = true;
		it->end_pos = it->pos;
		return 0;
	}
	return -EBADMSG;
}

/* The jumps of the numbering, read once: only a reader that meets a segment not
 * following on needs them (a shipper's round reads no file for them). */
static int
iter_gaps(struct jnl_iter *it)
{
	if (it->gaps_read)
		return 0;
	int rc = gaps_load(it->dir, &it->gaps, &it->ngaps);
	it->gaps_read = rc == 0;
	return rc;
}

/* The current segment is read through: on to the next, or the end of the log. */
static int
iter_next_seg(struct jnl_iter *it)
{
	int rc = 0;
	if (it->cur + 1 == it->nseg && it->limit != UINT64_MAX && it->expect < it->limit)
		rc = iter_relist(it); /* a kept iterator: its listing is older than the limit */
	if (rc == 0 && it->cur + 1 < it->nseg && it->segs[it->cur + 1].first != it->expect)
		rc = iter_gaps(it);
	if (rc < 0)
		return rc;
	if (it->cur + 1 < it->nseg && it->segs[it->cur + 1].first != it->expect &&
	    gap_is(it->gaps, it->ngaps, it->expect - 1, it->segs[it->cur + 1].first)) {
		it->expect = it->segs[it->cur + 1].first; /* a jump of the numbering */
	} else if (it->cur + 1 < it->nseg && it->segs[it->cur + 1].first != it->expect) {
		/* A gap: a missing segment (a power cut before the directory was synced). */
		if (!it->repair || durable_from(it, it->cur + 1))
			return -EBADMSG;
		it->nseg = it->cur + 1;
	}
	if (it->cur + 1 == it->nseg) {
		it->end_pos = it->pos;
		it->done = true;
		return 0;
	}
	close(it->fd);
	it->fd = -1;
	it->cur++;
	return 1;
}

int
jnl_iter_next(struct jnl_iter *it, struct jnl_rec *rec)
{
	for (;;) {
		if (it->done || it->cur >= it->nseg || it->expect >= it->limit)
			return 0;
		if (it->fd < 0) {
			int rc = iter_open_seg(it);
			if (rc < 0)
				return rc;
		}
		if (it->pos == it->fsize) {
			int rc = iter_next_seg(it);
			if (rc <= 0)
				return rc;
			continue;
		}
		if (it->fsize - it->pos < sizeof(struct hdr))
			return iter_bad(it, true);
		int rc = iter_fill(it, sizeof(struct hdr));
		if (rc < 0)
			return rc;
		struct hdr h;
		memcpy(&h, it->buf + (it->pos - it->boff), sizeof(h));
		if (h.magic != REC_MAGIC || h.dlen > JNL_MAX_DATA)
			return iter_bad(it, false);
		uint64_t end = it->pos + sizeof(h) + h.dlen;
		if (end > it->fsize)
			return iter_bad(it, true);
		if ((rc = iter_fill(it, sizeof(h) + h.dlen)) < 0)
			return rc;
		const uint8_t *data = it->buf + (it->pos - it->boff) + sizeof(h);
		uint64_t dsum;
		if (rec_sum(&h, h.dlen ? data : NULL, &dsum) != h.sum)
			return iter_bad(it, end == it->fsize);
		if (h.seq != it->expect)
			return -EBADMSG;
		it->pos = end;
		it->expect++;
		if (h.seq < it->from)
			continue;
		*rec = (struct jnl_rec){.seq = h.seq,
		                        .off = h.off,
		                        .len = h.len,
		                        .flags = h.flags,
		                        .dlen = h.dlen,
		                        .sum = h.sum,
		                        .dsum = dsum,
		                        .data = h.dlen ? data : NULL};
		return 1;
	}
}

/* ---- activity log ---------------------------------------------------------- */

struct al_slot {
	uint32_t magic, pad;
	uint64_t gen, ext1; /* extent + 1; 0 = empty */
	uint64_t sum;
};
_Static_assert(sizeof(struct al_slot) == AL_SLOT, "al slot layout");

/* The ring's index: extent -> slot, linear probing, at most half full. */
static uint32_t
al_hash(const struct jnl *j, uint64_t ext)
{
	return (uint32_t)((ext * 0x9E3779B97F4A7C15ull) >> 32) & j->al_mask;
}

/* The slot holding ext, or -1. */
static int64_t
al_find(const struct jnl *j, uint64_t ext)
{
	for (uint32_t h = al_hash(j, ext);; h = (h + 1) & j->al_mask) {
		uint32_t v = j->al_ix[h];
		if (!v)
			return -1;
		if (j->al[v - 1] == ext + 1)
			return v - 1;
	}
}

static void
al_ix_put(struct jnl *j, uint64_t ext, uint32_t slot)
{
	uint32_t h = al_hash(j, ext);
	while (j->al_ix[h])
		h = (h + 1) & j->al_mask;
	j->al_ix[h] = slot + 1;
}

/* Removes ext (j->al still names it), shifting back the entries after it that
 * probed past its place (deletion without tombstones). */
static void
al_ix_del(struct jnl *j, uint64_t ext)
{
	uint32_t i = al_hash(j, ext);
	while (j->al_ix[i] && j->al[j->al_ix[i] - 1] != ext + 1)
		i = (i + 1) & j->al_mask;
	if (!j->al_ix[i])
		return;
	for (uint32_t k = i;;) {
		j->al_ix[i] = 0;
		for (;;) {
			k = (k + 1) & j->al_mask;
			if (!j->al_ix[k])
				return;
			uint32_t home = al_hash(j, j->al[j->al_ix[k] - 1] - 1);
			bool stays = i <= k ? (i < home && home <= k) : (i < home || home <= k);
			if (!stays)
				break;
		}
		j->al_ix[i] = j->al_ix[k];
		i = k;
	}
}

/* Reads the activity log: the ring's slots, and any past it (the file of a larger
 * ring: see al_old), in one read. */
static int
al_load(struct jnl *j)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/activity.log", j->dir);
	j->alfd = open(path, O_RDWR | O_CREAT | O_DSYNC | O_CLOEXEC, 0644);
	if (j->alfd < 0)
		return -errno;
	struct stat sb;
	if (fstat(j->alfd, &sb) < 0)
		return -errno;
	uint64_t fslots = (uint64_t)sb.st_size / AL_SLOT;
	uint32_t nslots = fslots > JNL_AL_MAX        ? JNL_AL_MAX
	                  : fslots > j->o.al_extents ? (uint32_t)fslots
	                                             : j->o.al_extents;
	/* Every slot's room now: writing the ring later never needs space (the
	 * journal's disk full is when it matters most). */
	if (fallocate(j->alfd, 0, 0, (off_t)j->o.al_extents * AL_SLOT) < 0 && errno != EOPNOTSUPP)
		return -errno;
	struct al_slot *file = lib_xcalloc(nslots, sizeof(*file));
	ssize_t got = read_full(j->alfd, file, (size_t)nslots * AL_SLOT, 0);
	if (got < 0) {
		free(file);
		return (int)got;
	}
	j->al = lib_xcalloc(j->o.al_extents, sizeof(*j->al));
	j->al_ep = lib_xcalloc(j->o.al_extents, sizeof(*j->al_ep)); /* 0: before any sync */
	uint32_t ix = 16;
	while (ix < 2 * j->o.al_extents)
		ix *= 2;
	j->al_ix = lib_xcalloc(ix, sizeof(*j->al_ix));
	j->al_mask = ix - 1;
	j->epoch = 1;
	uint64_t maxgen = 0;
	for (uint32_t i = 0; i < nslots && (size_t)i * AL_SLOT < (size_t)got; i++) {
		struct al_slot s = file[i]; /* a slot the read cut short fails its sum */
		if (s.magic != AL_MAGIC || XXH3_64bits(&s, 24) != s.sum || s.ext1 == 0)
			continue;
		if (s.gen > maxgen)
			maxgen = s.gen;
		if (al_find(j, s.ext1 - 1) >= 0) /* in two slots: one is enough */
			continue;
		if (i >= j->o.al_extents) { /* past the ring: reported (sorted and made
			                             unique later), not in it */
			add_u64(&j->al_old, &j->al_old_n, &j->al_old_cap, s.ext1 - 1);
			add_u64(&j->rec_ext, &j->rec_n, &j->rec_cap, s.ext1 - 1);
			continue;
		}
		j->al[i] = s.ext1;
		al_ix_put(j, s.ext1 - 1, i);
		add_u64(&j->rec_ext, &j->rec_n, &j->rec_cap, s.ext1 - 1);
	}
	free(file);
	j->al_gen = maxgen;
	/* A ring made smaller: slots past it that hold nothing go now; those holding
	 * extents stay until a clean close (jnl_close). */
	if (fslots > j->o.al_extents && !j->al_old_n &&
	    (ftruncate(j->alfd, (off_t)j->o.al_extents * AL_SLOT) < 0 || fsync(j->alfd) < 0))
		return -errno;
	return 0;
}

/* The full segments written since their last sync, oldest first, and the
 * directory: before the current segment is synced or a durable record written. */
static int
sync_pending(struct jnl *j)
{
	while (j->npend) {
		if (fdatasync(j->pend[0].fd) < 0)
			return -errno;
		close(j->pend[0].fd);
		memmove(j->pend, j->pend + 1, --j->npend * sizeof(*j->pend));
	}
	if (j->dir_dirty) {
		if (fsync(j->dirfd) < 0)
			return -errno;
		j->dir_dirty = false;
	}
	return 0;
}

/* Everything written so far durable: journal segments, then the disk. Writes
 * appended before it are then covered: their extents may leave the activity
 * log without another sync (al_touch). */
static int
sync_all(struct jnl *j)
{
	uint64_t start = ++j->epoch;
	int rc = sync_pending(j);
	if (rc < 0)
		return rc;
	if (j->dirty && j->fd >= 0) {
		if (fdatasync(j->fd) < 0)
			return -errno;
		j->dirty = false;
	}
	if (j->dir_dirty) {
		if (fsync(j->dirfd) < 0)
			return -errno;
		j->dir_dirty = false;
	}
	if (bmap_dirty(j->bm) && (rc = bmap_save(j->bm)) < 0)
		return rc;
	if (j->o.sync_disk && (rc = j->o.sync_disk(j->o.sync_arg)) < 0)
		return rc;
	j->clean = start;
	return 0;
}

/* A write to extent ext (before the disk's write, and again at its append, after
 * it): ext joins the ring, or its slot notes the write's epoch. A victim slot
 * leaves only when its writes are durable: when one came after the last
 * sync_all, that sync is made now. So with random writes over a large disk one
 * sync covers a ring's worth of evictions, not one (DRBD batches its activity-
 * log transactions the same way). */
static int
al_touch(struct jnl *j, uint64_t ext)
{
	int64_t have = al_find(j, ext);
	if (have >= 0) {
		j->al_ep[have] = j->epoch;
		return 0;
	}
	uint64_t gen = j->al_gen + 1;
	uint32_t slot = (uint32_t)(gen % j->o.al_extents);
	if (j->al[slot] && j->al_ep[slot] >= j->clean) {
		int rc = sync_all(j); /* the victim's writes must be durable first */
		if (rc < 0)
			return rc;
	}
	struct al_slot s = {.magic = AL_MAGIC, .gen = gen, .ext1 = ext + 1};
	s.sum = XXH3_64bits(&s, 24);
	int rc = write_full(j->alfd, &s, sizeof(s), (off_t)slot * AL_SLOT);
	if (rc < 0)
		return rc;
	if (j->al[slot])
		al_ix_del(j, j->al[slot] - 1);
	j->al[slot] = ext + 1;
	j->al_ep[slot] = j->epoch;
	al_ix_put(j, ext, slot);
	j->al_gen = gen;
	return 0;
}

static int
al_range(struct jnl *j, uint64_t off, uint32_t len)
{
	uint64_t last = len ? off + len - 1 : off;
	/* A write's own extents must all stay in the ring until it is acknowledged. */
	if ((last >> JNL_AL_SHIFT) - (off >> JNL_AL_SHIFT) >= j->o.al_extents)
		return -E2BIG;
	for (uint64_t e = off >> JNL_AL_SHIFT; e <= last >> JNL_AL_SHIFT; e++) {
		int rc = al_touch(j, e);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- dirty bitmap (bmap.c) ------------------------------------------------------ */

/* Set the bits of [off, off+len); a new one is persisted by the next sync (the
 * activity log covers its extent until then). */
static int
bm_mark(struct jnl *j, uint64_t off, uint32_t len)
{
	uint64_t last = (len ? off + len - 1 : off) >> JNL_BM_SHIFT;
	bmap_mark(j->bm, off >> JNL_BM_SHIFT, last);
	return 0;
}

/* In bitmap mode after a crash: the bits set since the bitmap was last persisted are
 * lost, and their extents are in the activity log (see the invariants): all of those
 * extents are dirty (DRBD applies its activity log to the bitmap the same way). */
static int
bm_apply_al(struct jnl *j)
{
	if (!bmap_mode(j->bm))
		return 0;
	for (uint32_t i = 0; i < j->o.al_extents; i++)
		if (j->al[i])
			bm_mark(j, (j->al[i] - 1) << JNL_AL_SHIFT, 1u << JNL_AL_SHIFT);
	for (size_t i = 0; i < j->al_old_n; i++)
		bm_mark(j, j->al_old[i] << JNL_AL_SHIFT, 1u << JNL_AL_SHIFT);
	return bmap_dirty(j->bm) ? bmap_save(j->bm) : 0;
}

bool
jnl_bitmap_mode(const struct jnl *j)
{
	return bmap_mode(j->bm);
}

uint64_t
jnl_bitmap_count(const struct jnl *j)
{
	return bmap_count(j->bm);
}

int
jnl_bitmap_next(const struct jnl *j, uint64_t from, uint64_t *ext)
{
	return bmap_next(j->bm, from, ext);
}

int
jnl_bitmap_add(struct jnl *j, uint64_t off, uint64_t len)
{
	bmap_set_mode(j->bm, true);
	for (uint64_t done = 0; done < len;) {
		uint32_t n = len - done > (1u << 30) ? (1u << 30) : (uint32_t)(len - done);
		bm_mark(j, off + done, n);
		done += n;
	}
	return 0;
}

int
jnl_bitmap_clear(struct jnl *j)
{
	bmap_clear(j->bm);
	bmap_set_mode(j->bm, false);
	return bmap_save(j->bm);
}

/* ---- open and close ---------------------------------------------------------- */

/* Temporaries lib_write_atomic left behind when a crash cut it short. */
static void
remove_stale(struct jnl *j)
{
	DIR *d = opendir(j->dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strncmp(de->d_name, "dirty.bitmap.tmp", 16) == 0)
			(void)!unlinkat(j->dirfd, de->d_name, 0);
	closedir(d);
}

/* Blocks for the current segment ahead of its records (KEEP_SIZE: the size still
 * says where the records end): appends then fill allocated blocks instead of
 * reserving them page by page. The allocation doubles as records reach it, from
 * SEG_ALLOC0 to the segment's size, so an idle disk's segment holds 1 MiB, not
 * 64 MiB (10,000 disks: 10 GB, not 640 GB). Where it is not supported, or fails
 * (no space: the append itself will say), nothing changes. */
#define SEG_ALLOC0 (1u << 20)

static void
seg_grow(struct jnl *j, uint64_t end)
{
	if (end <= j->alloc || j->alloc >= j->o.seg_size)
		return;
	uint64_t to = j->alloc ? j->alloc * 2 : SEG_ALLOC0;
	while (to < end)
		to *= 2;
	if (to > j->o.seg_size)
		to = j->o.seg_size;
	if (fallocate(j->fd, FALLOC_FL_KEEP_SIZE, (off_t)j->alloc, (off_t)(to - j->alloc)) == 0 ||
	    errno == EOPNOTSUPP)
		j->alloc = to;
}

static int
seg_create(struct jnl *j, uint64_t first)
{
	char path[4096];
	seg_path(j->dir, first, path, sizeof(path));
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (j->nseg == j->capseg) {
		j->capseg = j->capseg ? j->capseg * 2 : 8;
		j->segs = lib_xrealloc(j->segs, j->capseg * sizeof(*j->segs));
	}
	j->segs[j->nseg++] = (struct seg){first, 0};
	j->fd = fd;
	j->alloc = 0;
	seg_grow(j, 1);
	j->dir_dirty = true;
	return 0;
}

/* After an unclean stop: the numbering goes on past every seq the journal may have
 * given (see the invariants), in a new segment; the jump is durable in "gaps"
 * before any record uses it. Jumps before the first segment are forgotten (the new
 * one starts past them all). */
static int
gap_open(struct jnl *j)
{
	uint64_t base = j->next;
	if (j->ngaps && j->gaps[j->ngaps - 1].next > base)
		base = j->gaps[j->ngaps - 1].next;
	struct gap g = {j->next - 1, base + GAP_SEQS};
	uint64_t first = j->nseg ? j->segs[0].first : g.next;
	size_t k = 0;
	for (size_t i = 0; i < j->ngaps; i++)
		if (j->gaps[i].next >= first) /* still crossed by a reader */
			j->gaps[k++] = j->gaps[i];
	j->gaps = lib_xrealloc(j->gaps, (k + 1) * sizeof(*j->gaps));
	j->gaps[k++] = g;
	j->ngaps = k;
	struct lib_buf b = {0};
	for (size_t i = 0; i < k; i++)
		lib_buf_printf(&b, "%" PRIu64 " %" PRIu64 "\n", j->gaps[i].prev, j->gaps[i].next);
	char path[4096];
	snprintf(path, sizeof(path), "%s/gaps", j->dir);
	int rc = lib_write_atomic(path, b.s, b.n);
	free(b.s);
	if (rc < 0)
		return rc;
	j->next = g.next;
	return seg_create(j, g.next);
}

/* Read the whole log: next seq, durable point, records after it, clean end. */
static int
scan(struct jnl *j)
{
	struct jnl_iter *it;
	int rc = jnl_iter_open(j->dir, 0, &it);
	if (rc < 0)
		return rc;
	it->repair = true;
	struct jnl_rec r;
	uint64_t last = 0;
	size_t mark = j->rec_n; /* report entries after the last durable point */
	while ((rc = jnl_iter_next(it, &r)) > 0) {
		last = r.seq;
		if (r.flags & (JNL_F_FLUSH | JNL_F_FUA)) {
			j->durable = r.seq;
			if (r.flags & JNL_F_FLUSH) {
				j->rec_n = mark;
				j->barrier = r.seq;
			}
		} else if (!(r.flags & (JNL_F_SYNCED | JNL_F_MARK | JNL_F_CUT))) {
			uint64_t e1 = (r.len ? r.off + r.len - 1 : r.off) >> JNL_AL_SHIFT;
			for (uint64_t e = r.off >> JNL_AL_SHIFT; e <= e1; e++)
				add_u64(&j->rec_ext, &j->rec_n, &j->rec_cap, e);
		}
	}
	if (rc == 0 && it->nseg) {
		/* Cut the torn tail so appends continue at the clean end; the segments
		 * after a torn one hold nothing durable: they go. */
		uint32_t k = it->done ? it->cur : it->nseg - 1;
		struct seg *tail = &it->segs[k];
		uint64_t end = it->done ? it->end_pos : tail->size;
		char path[4096];
		seg_path(j->dir, tail->first, path, sizeof(path));
		if (end < tail->size && truncate(path, (off_t)end) < 0)
			rc = -errno;
		tail->size = end;
		for (uint32_t i = k + 1; i < it->nall && !rc; i++) {
			seg_path(j->dir, it->segs[i].first, path, sizeof(path));
			if (unlink(path) < 0 && errno != ENOENT)
				rc = -errno;
		}
		if (!rc && k + 1 < it->nall && fsync(j->dirfd) < 0)
			rc = -errno;
		j->segs = it->segs;
		j->nseg = k + 1;
		j->capseg = it->nall;
		it->segs = NULL;
		it->nseg = 0;
	}
	j->next = it->expect > last ? it->expect : last + 1;
	if (!j->next)
		j->next = 1;
	int grc = iter_gaps(it); /* the journal keeps them */
	if (!rc)
		rc = grc;
	j->gaps = it->gaps;
	j->ngaps = it->ngaps;
	it->gaps = NULL;
	jnl_iter_close(it);
	return rc;
}

int
jnl_open(const char *dir, const struct jnl_opts *opts, struct jnl **out)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	struct jnl *j = lib_xcalloc(1, sizeof(*j));
	if (opts)
		j->o = *opts;
	if (!j->o.seg_size)
		j->o.seg_size = 64u << 20;
	if (!j->o.al_extents)
		j->o.al_extents = 127;
	if (j->o.al_extents > JNL_AL_MAX) {
		free(j);
		return -EINVAL;
	}
	j->dir = lib_xstrdup(dir);
	j->fd = j->alfd = -1;
	j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = j->dirfd < 0 ? -errno : 0;
	bool unclean = false;
	if (!rc) {
		remove_stale(j);
		rc = al_load(j);
		unclean = j->rec_n > 0; /* a clean close empties the activity log */
	}
	if (!rc && fsync(j->dirfd) < 0) /* the activity log's name is durable */
		rc = -errno;
	if (!rc)
		rc = scan(j);
	if (!rc) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/dirty.bitmap", dir);
		uint64_t bits = (j->o.disk_size + (1u << JNL_BM_SHIFT) - 1) >> JNL_BM_SHIFT;
		rc = bmap_open(path, bits, &j->bm);
	}
	if (!rc)
		rc = bm_apply_al(j);
	if (!rc && unclean) {
		rc = gap_open(j);
	} else if (!rc && j->nseg) {
		char path[4096];
		struct seg *t = &j->segs[j->nseg - 1];
		seg_path(dir, t->first, path, sizeof(path));
		j->fd = open(path, O_RDWR | O_CLOEXEC);
		if (j->fd < 0)
			rc = -errno;
	} else if (!rc) {
		rc = seg_create(j, j->next);
	}
	if (rc < 0) {
		jnl_abandon(j);
		return rc;
	}
	for (uint32_t i = 0; i < j->nseg; i++)
		j->bytes += j->segs[i].size;
	if (j->rec_n) {
		qsort(j->rec_ext, j->rec_n, sizeof(*j->rec_ext), lib_cmp_u64);
		size_t k = 0;
		for (size_t i = 0; i < j->rec_n; i++)
			if (!k || j->rec_ext[k - 1] != j->rec_ext[i])
				j->rec_ext[k++] = j->rec_ext[i];
		j->rec_n = k;
	}
	*out = j;
	return 0;
}

void
jnl_abandon(struct jnl *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	for (uint32_t i = 0; i < j->npend; i++)
		close(j->pend[i].fd);
	free(j->pend);
	free(j->gaps);
	free(j->al_ix);
	free(j->al_ep);
	if (j->alfd >= 0)
		close(j->alfd);
	if (j->dirfd >= 0)
		close(j->dirfd);
	free(j->segs);
	bmap_close(j->bm);
	free(j->al);
	free(j->al_old);
	free(j->rec_ext);
	free(j->dir);
	free(j);
}

int
jnl_close(struct jnl *j)
{
	int rc = jnl_flush(j, NULL);
	if (!rc)
		rc = sync_all(j);
	if (!rc) { /* clean: nothing may differ any more (slots zeroed in place: no space needed) */
		size_t n = (size_t)j->o.al_extents * AL_SLOT;
		void *zero = lib_xcalloc(1, n);
		rc = write_full(j->alfd, zero, n, 0);
		free(zero);
		/* the slots past a ring made smaller: nothing in them may differ now */
		if (!rc && j->al_old_n && (ftruncate(j->alfd, (off_t)n) < 0 || fsync(j->alfd) < 0))
			rc = -errno;
	}
	jnl_abandon(j);
	return rc;
}

/* ---- writing ---------------------------------------------------------------- */

/* Rotation: the full segment waits, open, for the next sync (no wait for the disk
 * here); past PEND_MAX of them the oldest is synced now. */
static int
seg_retire(struct jnl *j)
{
	if (!j->dirty) {
		close(j->fd);
		j->fd = -1;
		return 0;
	}
	if (j->npend == PEND_MAX) {
		if (fdatasync(j->pend[0].fd) < 0)
			return -errno;
		close(j->pend[0].fd);
		memmove(j->pend, j->pend + 1, --j->npend * sizeof(*j->pend));
	}
	if (!j->pend)
		j->pend = lib_xmalloc(PEND_MAX * sizeof(*j->pend));
	j->pend[j->npend++] = (struct pend){j->segs[j->nseg - 1].first, j->fd};
	j->fd = -1;
	j->dirty = false;
	return 0;
}

static int
put(struct jnl *j, uint64_t off, uint32_t len, uint32_t flags, const void *data, uint32_t dlen,
    uint64_t *seq)
{
	struct seg *t = &j->segs[j->nseg - 1];
	uint64_t n = JNL_HDR_SIZE + dlen;
	if (t->size && t->size + n > j->o.seg_size) {
		int rc = seg_retire(j);
		if (rc == 0)
			rc = seg_create(j, j->next);
		if (rc < 0)
			return rc;
		t = &j->segs[j->nseg - 1];
	}
	struct hdr h = {REC_MAGIC, flags, j->next, off, len, dlen, 0};
	h.sum = rec_sum(&h, dlen ? data : NULL, NULL);
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)data, dlen}};
	off_t pos = (off_t)t->size;
	seg_grow(j, t->size + n);
	ssize_t w;
	do
		w = pwritev(j->fd, iov, dlen ? 2 : 1, pos);
	while (w < 0 && errno == EINTR);
	int rc = w < 0 ? -errno : 0;
	if (!rc && (size_t)w < n) { /* short write: finish header, then data */
		size_t done = (size_t)w;
		if (done < sizeof(h))
			rc = write_full(j->fd, (char *)&h + done, sizeof(h) - done,
			                pos + (off_t)done);
		size_t dd = done > sizeof(h) ? done - sizeof(h) : 0;
		if (!rc && dd < dlen)
			rc = write_full(j->fd, (const char *)data + dd, dlen - dd,
			                pos + (off_t)(sizeof(h) + dd));
	}
	if (rc < 0) {
		(void)!ftruncate(j->fd, pos); /* leave no partial record behind */
		return rc;
	}
	t->size += n;
	j->bytes += n;
	j->dirty = true;
	*seq = j->next++;
	return 0;
}

/* A record of dlen data bytes past the capacity switches to bitmap mode. */
static int
cap_check(struct jnl *j, uint32_t dlen)
{
	if (bmap_mode(j->bm) || !j->o.capacity || j->bytes + JNL_HDR_SIZE + dlen <= j->o.capacity)
		return 0;
	/* Durable before the switch: the journal ends where the bitmap starts. */
	int rc = sync_all(j);
	if (rc < 0)
		return rc;
	bmap_set_mode(j->bm, true);
	return bmap_save(j->bm);
}

/* A client write the journal could not take (its filesystem full, a quota, an
 * I/O error): the journal goes to bitmap mode as at its capacity, after the
 * records before are durable, and the write's bits are set, so the write itself
 * succeeds and a resync follows. The mode and the bits are persisted by the
 * next sync; until then the write's extent is in the activity log, as for any
 * bitmap bit. RESYNC records are not client writes: their error stands (the
 * resync is retried). */
static bool
degradable(int rc, uint32_t flags)
{
	return !(flags & JNL_F_RESYNC) &&
	       (rc == -ENOSPC || rc == -EDQUOT || rc == -EFBIG || rc == -EIO);
}

static int
degrade(struct jnl *j)
{
	int rc = sync_all(j);
	if (rc < 0)
		return rc;
	bmap_set_mode(j->bm, true);
	return 0;
}

int
jnl_append(struct jnl *j, uint64_t off, uint32_t len, uint32_t flags, const void *data,
           uint64_t *seq)
{
	flags &= JNL_F_FUA | JNL_F_TRIM | JNL_F_ZERO | JNL_F_RESYNC;
	uint32_t dlen = (flags & (JNL_F_TRIM | JNL_F_ZERO)) ? 0 : len;
	if (dlen > JNL_MAX_DATA || (dlen && !data) || off + len < off)
		return -EINVAL;
	int rc = al_range(j, off, len);
	if (rc < 0)
		return rc;
	if ((rc = cap_check(j, dlen)) < 0)
		return rc;
	if (bmap_mode(j->bm)) {
		*seq = JNL_SEQ_BITMAP;
		return bm_mark(j, off, len);
	}
	/* A durable record may only follow durable ones. */
	if ((flags & JNL_F_FUA) && (rc = sync_pending(j)) < 0)
		return rc;
	rc = put(j, off, len, flags, data, dlen, seq);
	if (degradable(rc, flags) && (rc = degrade(j)) == 0) {
		*seq = JNL_SEQ_BITMAP;
		return bm_mark(j, off, len);
	}
	if (rc < 0)
		return rc;
	if (flags & JNL_F_FUA) {
		if (fdatasync(j->fd) < 0)
			return -errno;
		j->dirty = false;
		if (j->dir_dirty) {
			if (fsync(j->dirfd) < 0)
				return -errno;
			j->dir_dirty = false;
		}
		j->durable = *seq;
	}
	return 0;
}

/* k plain writes that fit in the last segment, with one pwritev; a short write
 * is taken back and the records go one by one (put finishes short writes).
 * *done gets the number journaled. */
static int
put_many(struct jnl *j, const struct jnl_write *w, size_t k, uint64_t *seqs, size_t *done)
{
	struct seg *t = &j->segs[j->nseg - 1];
	struct hdr h[JNL_MANY];
	struct iovec iov[2 * JNL_MANY];
	uint64_t total = 0;
	for (size_t i = 0; i < k; i++) {
		h[i] = (struct hdr){REC_MAGIC, 0, j->next + i, w[i].off, w[i].len, w[i].len, 0};
		h[i].sum = rec_sum(&h[i], w[i].data, NULL);
		iov[2 * i] = (struct iovec){&h[i], sizeof(h[i])};
		iov[2 * i + 1] = (struct iovec){(void *)w[i].data, w[i].len};
		total += JNL_HDR_SIZE + w[i].len;
	}
	off_t pos = (off_t)t->size;
	seg_grow(j, t->size + total);
	ssize_t n;
	do
		n = pwritev(j->fd, iov, (int)(2 * k), pos);
	while (n < 0 && errno == EINTR);
	*done = 0;
	if (n != (ssize_t)total) {
		int e = n < 0 && errno != ENOSPC && errno != EDQUOT ? -errno : 0;
		(void)!ftruncate(j->fd, pos); /* leave no partial record behind */
		for (size_t i = 0; i < k && !e; i++)
			if ((e = put(j, w[i].off, w[i].len, 0, w[i].data, w[i].len, &seqs[i])) == 0)
				(*done)++;
		return e;
	}
	*done = k;
	for (size_t i = 0; i < k; i++)
		seqs[i] = j->next++;
	t->size += total;
	j->bytes += total;
	j->dirty = true;
	return 0;
}

int
jnl_hot(struct jnl *j, uint64_t off, uint32_t len)
{
	if (off + len < off)
		return -EINVAL;
	return al_range(j, off, len);
}

/* The new extents of a batch enter the ring as one transaction: their slots are
 * the next ones in ring order (at most two runs, wrapping), written by one or two
 * O_DSYNC pwrites, not one each. Victims with writes since the last sync are
 * covered by one sync first. On a failed write, the victims (clean by then)
 * leave the ring in memory too and the new extents do not enter it: memory never
 * claims a slot the disk may not hold. */
int
jnl_hot_many(struct jnl *j, const struct jnl_write *w, size_t n)
{
	uint32_t cap = j->o.al_extents;
	uint64_t stack[128], *news = stack; /* a batch's new extents: few, most often none */
	uint32_t k = 0, room = 128;
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		uint64_t off = w[i].off, len = w[i].len, last = len ? off + len - 1 : off;
		if (off + len < off) {
			rc = -EINVAL;
			break;
		}
		for (uint64_t e = off >> JNL_AL_SHIFT; e <= last >> JNL_AL_SHIFT; e++) {
			int64_t have = al_find(j, e);
			if (have >= 0) {
				j->al_ep[have] = j->epoch;
				continue;
			}
			bool dup = false;
			for (uint32_t q = 0; q < k && !dup; q++)
				dup = news[q] == e;
			if (dup)
				continue;
			if (k == cap) { /* the batch's extents must all fit in the ring at once */
				rc = -E2BIG;
				break;
			}
			if (k == room) {
				room = cap;
				news = lib_xmalloc(room * sizeof(*news));
				memcpy(news, stack, sizeof(stack));
			}
			news[k++] = e;
		}
	}
	bool dirty = false;
	for (uint32_t q = 0; q < k && !rc; q++) {
		uint32_t slot = (uint32_t)((j->al_gen + 1 + q) % cap);
		dirty |= j->al[slot] && j->al_ep[slot] >= j->clean;
	}
	if (!rc && dirty)
		rc = sync_all(j); /* the victims' writes durable first */
	struct al_slot *sl = k && !rc ? lib_xmalloc(k * sizeof(*sl)) : NULL;
	for (uint32_t q = 0; q < k && !rc; q++) {
		sl[q] = (struct al_slot){
		    .magic = AL_MAGIC, .gen = j->al_gen + 1 + q, .ext1 = news[q] + 1};
		sl[q].sum = XXH3_64bits(&sl[q], 24);
	}
	uint32_t first = k ? (uint32_t)((j->al_gen + 1) % cap) : 0;
	uint32_t run1 = k && first + k > cap ? cap - first : k;
	if (!rc && k)
		rc = write_full(j->alfd, sl, run1 * sizeof(*sl), (off_t)first * AL_SLOT);
	if (!rc && k > run1)
		rc = write_full(j->alfd, sl + run1, (k - run1) * sizeof(*sl), 0);
	for (uint32_t q = 0; q < k && sl; q++) {
		uint32_t slot = (uint32_t)((j->al_gen + 1 + q) % cap);
		if (j->al[slot]) {
			al_ix_del(j, j->al[slot] - 1);
			j->al[slot] = 0;
		}
		if (rc)
			continue;
		j->al[slot] = news[q] + 1;
		j->al_ep[slot] = j->epoch;
		al_ix_put(j, news[q], slot);
	}
	if (!rc)
		j->al_gen += k;
	free(sl);
	if (news != stack)
		free(news);
	return rc;
}

int
jnl_append_many(struct jnl *j, const struct jnl_write *w, size_t n, uint64_t *seqs)
{
	for (size_t i = 0; i < n; i++)
		if (w[i].len > JNL_MAX_DATA || (w[i].len && !w[i].data) ||
		    w[i].off + w[i].len < w[i].off)
			return -EINVAL;
	/* Every extent in the activity log first: an eviction syncs only older records. */
	for (size_t i = 0; i < n; i++) {
		int rc = al_range(j, w[i].off, w[i].len);
		if (rc < 0)
			return rc;
	}
	size_t i = 0;
	while (i < n) {
		int rc = cap_check(j, w[i].len);
		if (rc < 0)
			return rc;
		if (bmap_mode(j->bm)) {
			seqs[i] = JNL_SEQ_BITMAP;
			if ((rc = bm_mark(j, w[i].off, w[i].len)) < 0)
				return rc;
			i++;
			continue;
		}
		/* the records from i that fit in the segment and the capacity */
		const struct seg *t = &j->segs[j->nseg - 1];
		uint64_t bytes = JNL_HDR_SIZE + w[i].len;
		size_t k = 1;
		while (i + k < n && k < JNL_MANY) {
			uint64_t b = JNL_HDR_SIZE + w[i + k].len;
			if (t->size + bytes + b > j->o.seg_size ||
			    (j->o.capacity && j->bytes + bytes + b > j->o.capacity))
				break;
			bytes += b;
			k++;
		}
		size_t done = 0;
		if (k == 1) { /* put rotates the segment when the record does not fit */
			rc = put(j, w[i].off, w[i].len, 0, w[i].data, w[i].len, &seqs[i]);
			done = rc == 0;
		} else {
			rc = put_many(j, w + i, k, seqs + i, &done);
		}
		i += done;
		if (degradable(rc, 0) && (rc = degrade(j)) == 0)
			continue; /* the rest go to the bitmap */
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
jnl_append_marker(struct jnl *j, uint32_t flags, uint64_t off, uint32_t len, const void *data,
                  uint32_t dlen, uint64_t *seq)
{
	flags &= JNL_F_SYNCED | JNL_F_MARK | JNL_F_CUT;
	if (dlen > 4096 || (dlen && !data))
		return -EINVAL;
	return put(j, off, len, flags, data, dlen, seq);
}

int
jnl_flush(struct jnl *j, uint64_t *seq)
{
	int rc;
	if (bmap_mode(j->bm)) {
		rc = sync_all(j);
		/* a bitmap that cannot be saved (no space) waits in memory, its extents
		 * in the activity log: the client's flush is not replication's to fail */
		if (rc == -ENOSPC || rc == -EDQUOT)
			rc = 0;
		if (!rc && seq)
			*seq = j->durable;
		return rc;
	}
	uint64_t s = j->next - 1;
	if ((rc = sync_pending(j)) < 0) /* a durable record may only follow durable ones */
		return rc;
	if (j->barrier != s || !s) { /* no second barrier with nothing between */
		rc = put(j, 0, 0, JNL_F_FLUSH, NULL, 0, &s);
		if (rc < 0)
			return rc;
	}
	if (fdatasync(j->fd) < 0)
		return -errno;
	j->dirty = false;
	if (j->dir_dirty) {
		if (fsync(j->dirfd) < 0)
			return -errno;
		j->dir_dirty = false;
	}
	j->durable = j->barrier = s;
	if (seq)
		*seq = s;
	return 0;
}

int
jnl_release(struct jnl *j, uint64_t seq)
{
	uint32_t k = 0;
	while (k + 1 < j->nseg && j->segs[k + 1].first <= seq) {
		char path[4096];
		seg_path(j->dir, j->segs[k].first, path, sizeof(path));
		if (unlink(path) < 0 && errno != ENOENT)
			break;
		if (j->npend && j->pend[0].first == j->segs[k].first) { /* no sync needed */
			close(j->pend[0].fd);
			memmove(j->pend, j->pend + 1, --j->npend * sizeof(*j->pend));
		}
		j->bytes -= j->segs[k].size;
		k++;
	}
	if (k) {
		memmove(j->segs, j->segs + k, (j->nseg - k) * sizeof(*j->segs));
		j->nseg -= k;
		j->dir_dirty = true; /* durable with the next sync, before any durable record */
	}
	return 0;
}

uint64_t
jnl_first_seq(const struct jnl *j)
{
	uint64_t f = j->segs[0].first;
	if (j->next <= f)
		return 0;
	for (size_t i = 0; i < j->ngaps; i++)
		if (j->gaps[i].next == f) /* nothing between prev and f: held as well */
			return j->gaps[i].prev + 1;
	return f;
}

uint64_t
jnl_last_seq(const struct jnl *j)
{
	for (size_t i = 0; i < j->ngaps; i++)
		if (j->gaps[i].next == j->next) /* nothing after the jump yet */
			return j->gaps[i].prev;
	return j->next - 1;
}

uint64_t
jnl_gap_skip(const struct jnl *j, uint64_t seq)
{
	for (size_t i = 0; i < j->ngaps; i++)
		if (j->gaps[i].prev <= seq && seq < j->gaps[i].next)
			return j->gaps[i].next - 1;
	return seq;
}

uint64_t
jnl_next_seq(const struct jnl *j)
{
	return j->next;
}

uint64_t
jnl_durable_seq(const struct jnl *j)
{
	return j->durable;
}

uint64_t
jnl_bytes(const struct jnl *j)
{
	return j->bytes;
}

uint32_t
jnl_segments(const struct jnl *j)
{
	return j->nseg;
}

int
jnl_recover(const struct jnl *j, uint64_t **ext, size_t *n)
{
	*n = j->rec_n;
	*ext = lib_xmalloc((j->rec_n ? j->rec_n : 1) * sizeof(**ext));
	if (j->rec_n)
		memcpy(*ext, j->rec_ext, j->rec_n * sizeof(**ext));
	return 0;
}
