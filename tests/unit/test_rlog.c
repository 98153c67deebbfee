/*
 * test_rlog.c - the recovery side's write-ahead log (src/repl/rlog.c): a round
 * trip of records of varied sizes (empty, odd, around the 256 KiB buffer and
 * past it, so both the buffered and the direct write) read back byte for byte
 * after a reopen, with rlog_used counting 48 + len padded to 8 per record;
 * appends that go on where a replay stopped (a torn record, a failing
 * callback) end the log there, older aligned records after them unchained;
 * replay after a seq skips what is at or below it yet positions the tail
 * after the last record read; a record damaged on disk ends the log there; a
 * reset makes every older record unreadable, including older records with
 * higher seqs lying right after the new ones, and the first reset after an
 * open steps the generation by two, so the generation of a newer header slot
 * that was torn is never reused; rlog_trim returns the blocks records
 * reached after a reset (and refuses once records follow); a full log (RLOG_FULL, used <= room)
 * until a reset; bad appends and too small files (-EINVAL); and a crash test: a child appends
 * records (0 - 64 KiB, contents derived from the seq), syncing every few and reporting each synced
 * seq through a pipe; it is SIGKILLed at random moments (10 trials, fixed seed, one log file, each
 * child going on after the last record it replays; odd trials also lose random pages written after
 * the last sync, as a power cut would), and after each kill the log must replay contiguous seqs
 * from 1, every record as written, through the last synced.
 *
 * The file layout (rlog.h) is used to damage records: records from RLOG_DATA,
 * each a 48-byte header then the payload padded to 8 bytes; header slot i at
 * i * 512 holds { le32 magic, pad; le64 generation; le64 checksum }.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "repl/rlog.h"

#define HDR     48u /* a record's header */
#define SLOT    512u
#define CAP     (64ull << 20)
#define CAP_MIN ((RLOG_DATA + HDR + XP_MAX_RECORD + 4095ull) / 4096 * 4096)

/* ---- helpers ---------------------------------------------------------------- */

struct tmp {
	char root[256];
	char path[300]; /* the log */
};

static void
tmp_make(struct tmp *t)
{
	snprintf(t->root, sizeof(t->root), "/tmp/test_rlog.XXXXXX");
	assert_non_null(mkdtemp(t->root));
	snprintf(t->path, sizeof(t->path), "%s/d.log", t->root);
}

static void
tmp_remove(struct tmp *t)
{
	unlink(t->path);
	rmdir(t->root);
}

static uint64_t
xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void
fill(uint8_t *b, size_t n, uint64_t seed)
{
	uint64_t x = seed | 1;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t v = xorshift(&x);
		memcpy(b + i, &v, 8);
	}
	uint64_t v = xorshift(&x);
	memcpy(b + i, &v, n - i);
}

/* Bytes a record of len takes in the log. */
static uint64_t
rsize(uint32_t len)
{
	return HDR + ((len + 7ull) & ~7ull);
}

/* The record seq of salt: offset, flags and payload derived from both. */
static void
make(struct xp_record *r, uint8_t *buf, uint64_t seq, uint64_t salt, uint32_t len)
{
	fill(buf, len, mix(seq ^ salt));
	*r = (struct xp_record){.seq = seq,
	                        .offset = mix(seq + salt) >> 1,
	                        .len = len,
	                        .flags = (uint32_t)mix(~seq ^ salt),
	                        .data = buf};
}

static uint8_t *scratch; /* XP_MAX_RECORD + 8 bytes: one record too long fits too */

static int
app(struct rlog *l, uint64_t seq, uint64_t salt, uint32_t len)
{
	struct xp_record r;
	make(&r, scratch, seq, salt, len);
	return rlog_append(l, &r);
}

/* What a replay gave: copies of the records. */
struct rec {
	uint64_t seq, offset;
	uint32_t len, flags;
	uint8_t *data;
};

struct got {
	struct rec *v;
	size_t n, cap;
	size_t stop; /* collect() returns 9 at the stop-th record; 0 never */
};

static int
collect(void *arg, const struct xp_record *r)
{
	struct got *g = arg;
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		g->v = realloc(g->v, g->cap * sizeof(*g->v));
		assert_non_null(g->v);
	}
	struct rec *c = &g->v[g->n++];
	*c = (struct rec){r->seq, r->offset, r->len, r->flags, malloc(r->len + 1)};
	assert_non_null(c->data);
	memcpy(c->data, r->data, r->len);
	return g->stop && g->n == g->stop ? 9 : 0;
}

static void
got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->v[i].data);
	free(g->v);
	*g = (struct got){0};
}

/* Opens the log and replays it from after; the records in *g. */
static struct rlog *
open_replay(const char *path, uint64_t after, struct got *g)
{
	struct rlog *l;
	assert_int_equal(rlog_open(path, CAP, &l), 0);
	*g = (struct got){0};
	assert_int_equal(rlog_replay(l, after, collect, g), 0);
	return l;
}

/* g->v[i] is the record seq of salt and len, byte for byte. */
static void
expect_rec(const struct got *g, size_t i, uint64_t seq, uint64_t salt, uint32_t len)
{
	assert_true(i < g->n);
	const struct rec *c = &g->v[i];
	struct xp_record r;
	make(&r, scratch, seq, salt, len);
	assert_int_equal(c->seq, r.seq);
	assert_int_equal(c->offset, r.offset);
	assert_int_equal(c->len, r.len);
	assert_int_equal(c->flags, r.flags);
	if (len)
		assert_memory_equal(c->data, scratch, len);
}

static void
flip_byte(const char *path, uint64_t off)
{
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	uint8_t c;
	assert_int_equal(pread(fd, &c, 1, (off_t)off), 1);
	c ^= 0x20;
	assert_int_equal(pwrite(fd, &c, 1, (off_t)off), 1);
	close(fd);
}

/* ---- unit tests ------------------------------------------------------------ */

static void
test_round_trip(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	/* 262096 takes exactly the buffer (48 + 262096 = 256 KiB); 262097 and
	 * 300 KiB are written on their own, after what is buffered. */
	static const uint32_t lens[] = {0,  1,      4096, 100000, 307200, 7,     262096,
	                                13, 262097, 0,    65536,  8,      307200};
	enum { N = sizeof(lens) / sizeof(lens[0]) };
	uint64_t seqs[N], seq = 0, used = 0;
	struct rlog *l;
	struct got g;
	assert_int_equal(rlog_open(t.path, CAP, &l), 0);
	struct stat st;
	assert_int_equal(stat(t.path, &st), 0);
	assert_int_equal(st.st_size, CAP);
	assert_int_equal(rlog_room(l), CAP - RLOG_DATA);
	g = (struct got){0};
	assert_int_equal(rlog_replay(l, 0, collect, &g), 0); /* a new log is empty */
	assert_int_equal(g.n, 0);
	assert_int_equal(rlog_used(l), 0);
	for (int i = 0; i < N; i++) {
		seq += 1 + (i % 3 == 2 ? 1000 : 0); /* increasing, not contiguous */
		seqs[i] = seq;
		assert_int_equal(app(l, seq, 11, lens[i]), 0);
		used += rsize(lens[i]);
		assert_int_equal(rlog_used(l), used);
	}
	assert_int_equal(rlog_sync(l), 0);
	assert_int_equal(rlog_used(l), used);
	rlog_close(l);

	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, N);
	for (int i = 0; i < N; i++)
		expect_rec(&g, (size_t)i, seqs[i], 11, lens[i]);
	assert_int_equal(rlog_used(l), used);
	assert_int_equal(rlog_room(l), CAP - RLOG_DATA);
	got_free(&g);
	/* A callback's nonzero return stops the replay and is returned. */
	g = (struct got){.stop = 4};
	assert_int_equal(rlog_replay(l, 0, collect, &g), 9);
	assert_int_equal(g.n, 4);
	got_free(&g);
	rlog_close(l);

	/* Appends go on after the last record: one more, read back with the rest. */
	l = open_replay(t.path, 0, &g);
	got_free(&g);
	assert_int_equal(app(l, seq, 11, 5000), -EINVAL);
	assert_int_equal(app(l, seq + 1, 11, 5000), 0);
	assert_int_equal(rlog_used(l), used + rsize(5000));
	assert_int_equal(rlog_sync(l), 0);
	rlog_close(l);
	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, N + 1);
	expect_rec(&g, N - 1, seqs[N - 1], 11, lens[N - 1]);
	expect_rec(&g, N, seq + 1, 11, 5000);
	rlog_close(l);
	got_free(&g);
	tmp_remove(&t);
}

static void
test_replay_after(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct rlog *l;
	struct got g;
	l = open_replay(t.path, 0, &g);
	uint64_t used = 0;
	for (uint64_t s = 1; s <= 6; s++) {
		assert_int_equal(app(l, s, 3, (uint32_t)(s * 777)), 0);
		used += rsize((uint32_t)(s * 777));
	}
	assert_int_equal(rlog_sync(l), 0);
	rlog_close(l);

	/* Only 4..6 given, but appends go on after 6. */
	l = open_replay(t.path, 3, &g);
	assert_int_equal(g.n, 3);
	for (size_t i = 0; i < 3; i++)
		expect_rec(&g, i, 4 + i, 3, (uint32_t)((4 + i) * 777));
	got_free(&g);
	assert_int_equal(rlog_used(l), used);
	assert_int_equal(app(l, 6, 3, 10), -EINVAL); /* 6 was read, though not given */
	assert_int_equal(app(l, 5, 3, 10), -EINVAL);
	assert_int_equal(rlog_used(l), used);
	assert_int_equal(app(l, 7, 3, 7 * 777), 0);
	assert_int_equal(rlog_sync(l), 0);
	rlog_close(l);

	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 7);
	for (size_t i = 0; i < 7; i++)
		expect_rec(&g, i, 1 + i, 3, (uint32_t)((1 + i) * 777));
	got_free(&g);
	rlog_close(l);

	/* After everything: nothing given, the tail still after 7. */
	l = open_replay(t.path, 1000, &g);
	assert_int_equal(g.n, 0);
	assert_int_equal(rlog_used(l), used + rsize(7 * 777));
	assert_int_equal(app(l, 7, 3, 1), -EINVAL);
	assert_int_equal(app(l, 8, 3, 8 * 777), 0);
	assert_int_equal(rlog_sync(l), 0);
	rlog_close(l);
	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 8);
	expect_rec(&g, 7, 8, 3, 8 * 777);
	got_free(&g);
	rlog_close(l);
	tmp_remove(&t);
}

static uint32_t
torn_len(uint64_t s)
{
	return (uint32_t)(s * 1001 + 3);
}

static void
test_torn_tail(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct rlog *l;
	struct got g;
	l = open_replay(t.path, 0, &g);
	uint64_t at8 = RLOG_DATA; /* where record 8 starts */
	for (uint64_t s = 1; s <= 10; s++) {
		assert_int_equal(app(l, s, 5, torn_len(s)), 0);
		if (s < 8)
			at8 += rsize(torn_len(s));
	}
	assert_int_equal(rlog_sync(l), 0);
	rlog_close(l);
	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 10);
	got_free(&g);
	rlog_close(l);

	/* A byte of record 8's payload: 1..7, the tail after 7. */
	flip_byte(t.path, at8 + HDR + torn_len(8) / 2);
	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 7);
	for (size_t i = 0; i < 7; i++)
		expect_rec(&g, i, 1 + i, 5, torn_len(1 + i));
	got_free(&g);
	assert_int_equal(rlog_used(l), at8 - RLOG_DATA);
	rlog_close(l);
	flip_byte(t.path, at8 + HDR + torn_len(8) / 2);
	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 10); /* repaired */
	got_free(&g);
	rlog_close(l);

	/* Its header (the seq), and its last payload byte. */
	flip_byte(t.path, at8 + 16);
	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 7);
	got_free(&g);
	rlog_close(l);
	flip_byte(t.path, at8 + 16);
	flip_byte(t.path, at8 + HDR + torn_len(8) - 1);
	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 7);
	got_free(&g);
	/* Appends go on where the log ends. */
	assert_int_equal(app(l, 7, 5, 100), -EINVAL);
	assert_int_equal(app(l, 8, 6, 100), 0);
	assert_int_equal(rlog_sync(l), 0);
	rlog_close(l);
	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 8);
	expect_rec(&g, 6, 7, 5, torn_len(7));
	expect_rec(&g, 7, 8, 6, 100);
	got_free(&g);
	rlog_close(l);
	tmp_remove(&t);
}

/* Appends that went on where a replay stopped (a torn record, or the replay's
 * callback failing) end the log: older records of the same generation and
 * size lying after them, aligned with record boundaries, are not chained to
 * the new ones and never come back. */
static void
test_chain(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct rlog *l;
	struct got g;
	l = open_replay(t.path, 0, &g);
	for (uint64_t s = 1; s <= 10; s++)
		assert_int_equal(app(l, s, 5, 4096), 0);
	assert_int_equal(rlog_sync(l), 0);
	rlog_close(l);
	flip_byte(t.path, RLOG_DATA + 4 * rsize(4096) + HDR + 100); /* record 5 */
	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 4);
	got_free(&g);
	assert_int_equal(app(l, 5, 6, 4096), 0); /* a new 5, where the old one was */
	assert_int_equal(rlog_sync(l), 0);
	rlog_close(l);
	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 5);
	expect_rec(&g, 3, 4, 5, 4096);
	expect_rec(&g, 4, 5, 6, 4096);
	got_free(&g);
	rlog_close(l);

	/* The callback fails at record 3: appends go on after it, the rest is gone. */
	assert_int_equal(rlog_open(t.path, CAP, &l), 0);
	g = (struct got){.stop = 3};
	assert_int_equal(rlog_replay(l, 0, collect, &g), 9);
	got_free(&g);
	assert_int_equal(app(l, 4, 7, 4096), 0);
	assert_int_equal(rlog_sync(l), 0);
	rlog_close(l);
	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 4);
	expect_rec(&g, 2, 3, 5, 4096);
	expect_rec(&g, 3, 4, 7, 4096);
	got_free(&g);
	rlog_close(l);
	tmp_remove(&t);
}

static void
test_reset(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct rlog *l;
	struct got g;
	l = open_replay(t.path, 0, &g);
	/* Older records with seqs above the newer ones, laid out alike: after
	 * 50..55 comes 106, which only its generation keeps out. */
	for (uint64_t s = 100; s < 110; s++)
		assert_int_equal(app(l, s, 1, (uint32_t)(s - 100) * 3000 + 9), 0);
	assert_int_equal(rlog_sync(l), 0);
	assert_true(rlog_used(l) > 0);
	assert_int_equal(rlog_reset(l), 0);
	assert_int_equal(rlog_used(l), 0);
	assert_int_equal(rlog_room(l), CAP - RLOG_DATA);
	rlog_close(l);

	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 0);
	assert_int_equal(rlog_used(l), 0);
	uint64_t used = 0;
	for (uint64_t s = 50; s <= 55; s++) {
		assert_int_equal(app(l, s, 2, (uint32_t)(s - 50) * 3000 + 9), 0);
		used += rsize((uint32_t)(s - 50) * 3000 + 9);
	}
	assert_int_equal(rlog_sync(l), 0);
	rlog_close(l);
	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 6);
	for (size_t i = 0; i < 6; i++)
		expect_rec(&g, i, 50 + i, 2, (uint32_t)i * 3000 + 9);
	got_free(&g);
	assert_int_equal(rlog_used(l), used);

	/* A reset right after an open, one record, lower than all before it. */
	assert_int_equal(rlog_reset(l), 0);
	assert_int_equal(app(l, 1, 3, 9), 0);
	assert_int_equal(rlog_sync(l), 0);
	rlog_close(l);
	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 1);
	expect_rec(&g, 0, 1, 3, 9);
	got_free(&g);
	/* Reset without a sync, close, reopen: empty (the page cache has the slot). */
	assert_int_equal(rlog_reset(l), 0);
	rlog_close(l);
	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 0);
	rlog_close(l);
	tmp_remove(&t);
}

/* Bytes the file holds on disk. */
static uint64_t
allocated(const char *path)
{
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	return (uint64_t)sb.st_blocks * 512;
}

/* rlog_trim after a reset returns the blocks records reached (the file keeps
 * its size), refuses once records follow the reset, and the log works on:
 * records appended after it replay as written. After an open it punches the
 * whole log: what an earlier run left is not known. */
static void
test_trim(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct rlog *l;
	struct got g;
	l = open_replay(t.path, 0, &g);
	for (uint64_t s = 1; s <= 64; s++) /* 8 MiB of records, then a reset: */
		assert_int_equal(app(l, s, 1, 128 * 1024), 0);
	assert_int_equal(rlog_sync(l), 0);
	assert_int_equal(rlog_reset(l), 0);
	assert_int_equal(app(l, 65, 1, 100), 0); /* the next run replays only this */
	assert_int_equal(rlog_sync(l), 0);
	rlog_close(l);
	assert_true(allocated(t.path) >= 8ull << 20);
	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 1);
	got_free(&g);
	assert_int_equal(rlog_reset(l), 0);
	assert_int_equal(rlog_trim(l), 0); /* the whole log: the blocks of the run before */
	assert_true(allocated(t.path) <= 64 * 1024); /* the header, at most a few blocks */

	for (uint64_t s = 66; s <= 128; s++) /* this run's own records: 7.9 MiB */
		assert_int_equal(app(l, s, 1, 128 * 1024), 0);
	assert_int_equal(rlog_sync(l), 0);
	assert_true(allocated(t.path) >= 7ull << 20);
	assert_int_equal(rlog_reset(l), 0);
	assert_int_equal(rlog_trim(l), 0);
	assert_true(allocated(t.path) <= 64 * 1024);
	struct stat sb;
	assert_int_equal(stat(t.path, &sb), 0);
	assert_int_equal((uint64_t)sb.st_size, CAP);

	assert_int_equal(app(l, 129, 2, 5000), 0);
	assert_int_equal(rlog_trim(l), -EBUSY);
	assert_int_equal(rlog_sync(l), 0);
	rlog_close(l);
	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 1);
	expect_rec(&g, 0, 129, 2, 5000);
	got_free(&g);
	rlog_close(l);
	tmp_remove(&t);
}

/* The generation in header slot i, 0 when the slot is not valid (by its magic). */
static uint64_t
slot_gen(const char *path, unsigned i)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	uint8_t b[24];
	assert_int_equal(pread(fd, b, sizeof(b), i * SLOT), (ssize_t)sizeof(b));
	close(fd);
	uint32_t magic;
	uint64_t gen;
	memcpy(&magic, b, 4);
	memcpy(&gen, b + 8, 8);
	return magic == 0x31474c52u ? gen : 0;
}

/* Records of a generation whose header slot was torn, lying at the start of
 * the log: the open falls back to the older slot, and the next generation
 * must not be the torn one's, or its records would come back after new ones. */
static void
test_reset_torn_slot(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct rlog *l;
	struct got g;
	l = open_replay(t.path, 0, &g);
	/* Resets until both slots are valid: the newer one is then the one torn. */
	for (int i = 0; i < 4 && !(slot_gen(t.path, 0) && slot_gen(t.path, 1)); i++)
		assert_int_equal(rlog_reset(l), 0);
	for (uint64_t s = 100; s < 110; s++)
		assert_int_equal(app(l, s, 1, 4096), 0);
	assert_int_equal(rlog_sync(l), 0);
	rlog_close(l);
	uint64_t g0 = slot_gen(t.path, 0), g1 = slot_gen(t.path, 1);
	assert_true(g0 && g1 && g0 != g1);
	unsigned newer = g0 > g1 ? 0 : 1;
	flip_byte(t.path, newer * SLOT + 8); /* torn: its checksum fails */

	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 0); /* 100..109 are of the lost generation */
	assert_int_equal(rlog_reset(l), 0);
	assert_int_equal(app(l, 100, 2, 4096), 0); /* sent again, other bytes */
	assert_int_equal(rlog_sync(l), 0);
	rlog_close(l);
	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 1); /* not 101..109 of the torn generation */
	expect_rec(&g, 0, 100, 2, 4096);
	got_free(&g);
	rlog_close(l);
	tmp_remove(&t);
}

static void
test_full(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct rlog *l;
	assert_int_equal(rlog_open(t.path, CAP_MIN, &l), 0);
	struct got g = {0};
	assert_int_equal(rlog_replay(l, 0, collect, &g), 0);
	assert_int_equal(rlog_room(l), CAP_MIN - RLOG_DATA);
	const uint32_t M = 1u << 20;
	uint64_t seq = 0, n = 0;
	int rc;
	while ((rc = app(l, ++seq, 7, M)) == 0)
		n++;
	assert_int_equal(rc, RLOG_FULL);
	assert_int_equal(n, rlog_room(l) / rsize(M));
	assert_int_equal(rlog_used(l), n * rsize(M));
	assert_true(rlog_used(l) <= rlog_room(l));
	/* The failed append changed nothing: what is left still takes a record
	 * that fits, and the seq refused is free. */
	uint64_t left = rlog_room(l) - rlog_used(l);
	assert_true(left >= HDR && left < rsize(M));
	assert_int_equal(app(l, seq, 7, (uint32_t)(left - HDR) & ~7u), 0);
	assert_int_equal(rlog_used(l), rlog_room(l) - (left - HDR) % 8);
	assert_int_equal(app(l, seq + 1, 7, 0), RLOG_FULL);
	assert_int_equal(rlog_sync(l), 0);
	rlog_close(l);
	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, n + 1);
	expect_rec(&g, (size_t)n - 1, n, 7, M);
	got_free(&g);
	assert_int_equal(app(l, seq + 1, 7, M), RLOG_FULL);

	/* Reset: room again. */
	assert_int_equal(rlog_reset(l), 0);
	assert_int_equal(rlog_used(l), 0);
	assert_int_equal(app(l, seq + 1, 7, M), 0);
	assert_int_equal(rlog_used(l), rsize(M));
	rlog_close(l);
	tmp_remove(&t);

	/* The smallest log holds exactly one largest record. */
	tmp_make(&t);
	assert_int_equal(rlog_open(t.path, RLOG_DATA + HDR + XP_MAX_RECORD, &l), 0);
	assert_int_equal(rlog_replay(l, 0, collect, &g), 0);
	assert_int_equal(app(l, 1, 8, XP_MAX_RECORD), 0);
	assert_int_equal(rlog_used(l), rlog_room(l));
	assert_int_equal(app(l, 2, 8, 0), RLOG_FULL);
	assert_int_equal(rlog_sync(l), 0);
	rlog_close(l);
	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 1);
	expect_rec(&g, 0, 1, 8, XP_MAX_RECORD);
	got_free(&g);
	rlog_close(l);
	tmp_remove(&t);
}

static void
test_errors(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct rlog *l;
	struct got g;
	l = open_replay(t.path, 0, &g);
	assert_int_equal(app(l, 0, 1, 10), -EINVAL); /* seqs are above 0 */
	assert_int_equal(app(l, 5, 1, 10), 0);
	assert_int_equal(app(l, 5, 1, 10), -EINVAL);
	assert_int_equal(app(l, 4, 1, 10), -EINVAL);
	assert_int_equal(app(l, 6, 1, XP_MAX_RECORD + 1), -EINVAL);
	assert_int_equal(rlog_used(l), rsize(10));
	assert_int_equal(app(l, 6, 1, 10), 0);
	assert_int_equal(rlog_sync(l), 0);
	rlog_close(l);
	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 2);
	expect_rec(&g, 0, 5, 1, 10);
	expect_rec(&g, 1, 6, 1, 10);
	got_free(&g);
	rlog_close(l);
	assert_int_equal(unlink(t.path), 0);

	/* An existing file too small for the largest record: refused, untouched. */
	int fd = open(t.path, O_CREAT | O_RDWR, 0600);
	assert_true(fd >= 0);
	uint8_t b[4096];
	memset(b, 'x', sizeof(b));
	for (int i = 0; i < 256; i++)
		assert_int_equal(write(fd, b, sizeof(b)), (ssize_t)sizeof(b));
	close(fd);
	l = NULL;
	assert_int_equal(rlog_open(t.path, CAP, &l), -EINVAL);
	assert_null(l);
	struct stat st;
	assert_int_equal(stat(t.path, &st), 0);
	assert_int_equal(st.st_size, 1 << 20);
	fd = open(t.path, O_RDONLY);
	assert_true(fd >= 0);
	uint8_t c[SLOT * 2];
	assert_int_equal(read(fd, c, sizeof(c)), (ssize_t)sizeof(c));
	close(fd);
	assert_memory_equal(c, b, sizeof(c));
	assert_int_equal(unlink(t.path), 0);

	/* A capacity below one largest record, for a new log: no file is left,
	 * so an open with a good capacity works. */
	assert_int_equal(rlog_open(t.path, RLOG_DATA + HDR + XP_MAX_RECORD - 8, &l), -EINVAL);
	assert_int_equal(stat(t.path, &st), -1);
	l = open_replay(t.path, 0, &g);
	assert_int_equal(g.n, 0);
	rlog_close(l);
	unlink(t.path);
	/* A directory that does not exist. */
	char p[400];
	snprintf(p, sizeof(p), "%s/none/d.log", t.root);
	assert_int_equal(rlog_open(p, CAP, &l), -ENOENT);
	tmp_remove(&t);
}

/* ---- crash test -------------------------------------------------------------- */

#define CRASH_TRIALS 10
#define CRASH_SALT   0x726c6f67u
#define CRASH_CAP    (256ull << 20)

static uint32_t
crash_len(uint64_t seq)
{
	return (uint32_t)(mix(seq ^ 0x5eed) % ((64u << 10) + 1));
}

static int
last_seq(void *arg, const struct xp_record *r)
{
	*(uint64_t *)arg = r->seq;
	return 0;
}

static void
report(int wfd, uint64_t seq)
{
	if (write(wfd, &seq, sizeof(seq)) != (ssize_t)sizeof(seq))
		_exit(6);
}

/* Appends from the last record in the log on, syncing every 1 - 16 records and
 * reporting each synced seq; a full log is synced and then waits for the kill. */
static _Noreturn void
crash_child(const char *path, int wfd, uint64_t seed)
{
	struct rlog *l;
	uint64_t last = 0, x = seed | 1;
	if (rlog_open(path, CRASH_CAP, &l) || rlog_replay(l, 0, last_seq, &last))
		_exit(3);
	uint8_t *b = malloc(64u << 10);
	if (!b)
		_exit(4);
	unsigned since = 0, every = 1 + (unsigned)(xorshift(&x) % 16);
	for (uint64_t seq = last + 1;; seq++) {
		struct xp_record r;
		make(&r, b, seq, CRASH_SALT, crash_len(seq));
		int rc = rlog_append(l, &r);
		if (rc == RLOG_FULL) {
			if (rlog_sync(l))
				_exit(5);
			report(wfd, seq - 1);
			for (;;)
				pause();
		}
		if (rc)
			_exit(5);
		if (++since >= every) {
			if (rlog_sync(l))
				_exit(5);
			report(wfd, seq);
			since = 0;
			every = 1 + (unsigned)(xorshift(&x) % 16);
		}
	}
}

/* Reads synced seqs from rfd for timeout_ms (-1: until the end); the highest in *synced. */
static void
crash_drain(int rfd, uint64_t *synced, int timeout_ms)
{
	struct pollfd p = {rfd, POLLIN, 0};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int left = timeout_ms;
		if (timeout_ms >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			long el =
			    (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
			if (el >= timeout_ms)
				return;
			left = timeout_ms - (int)el;
		}
		if (poll(&p, 1, left) <= 0)
			return;
		uint64_t s;
		ssize_t r = read(rfd, &s, sizeof(s));
		if (r <= 0)
			return;
		assert_int_equal(r, sizeof(s));
		assert_true(s >= *synced);
		*synced = s;
	}
}

/* A power cut: of the 4 KiB pages written after the end of record synced (the
 * next 2 MiB), each loses what follows that end with a chance of one in three. */
static unsigned
crash_lose(const char *path, uint64_t synced, uint64_t *seed)
{
	uint64_t end = RLOG_DATA;
	for (uint64_t s = 1; s <= synced; s++)
		end += rsize(crash_len(s));
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	static uint8_t zero[4096];
	unsigned lost = 0;
	for (uint64_t pg = end / 4096 * 4096; pg < end + (2u << 20) && pg < CRASH_CAP; pg += 4096) {
		if (xorshift(seed) % 3)
			continue;
		uint64_t from = pg > end ? pg : end;
		assert_int_equal(pwrite(fd, zero, pg + 4096 - from, (off_t)from),
		                 (ssize_t)(pg + 4096 - from));
		lost++;
	}
	close(fd);
	return lost;
}

struct check {
	uint64_t prev;
	uint8_t *buf;
};

/* Each record comes after the one before, as the child made it. */
static int
crash_check(void *arg, const struct xp_record *r)
{
	struct check *c = arg;
	assert_int_equal(r->seq, c->prev + 1);
	struct xp_record w;
	make(&w, c->buf, r->seq, CRASH_SALT, crash_len(r->seq));
	assert_int_equal(r->len, w.len);
	assert_int_equal(r->offset, w.offset);
	assert_int_equal(r->flags, w.flags);
	if (r->len)
		assert_memory_equal(r->data, w.data, r->len);
	c->prev = r->seq;
	return 0;
}

static void
test_crash(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	uint64_t seed = 0x726c6f6731ull, synced = 0, last = 0;
	struct check c = {0, malloc(64u << 10)};
	assert_non_null(c.buf);
	for (int trial = 0; trial < CRASH_TRIALS; trial++) {
		int pfd[2];
		assert_int_equal(pipe(pfd), 0);
		uint64_t r = xorshift(&seed);
		int ms = 20 + (int)(r % 150);
		fflush(NULL);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			crash_child(t.path, pfd[1], r);
		}
		close(pfd[1]);
		crash_drain(pfd[0], &synced, ms);
		kill(pid, SIGKILL);
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status))
			fail_msg("the child exited with %d", WEXITSTATUS(status));
		assert_int_equal(WTERMSIG(status), SIGKILL);
		crash_drain(pfd[0], &synced, -1); /* what was reported before death */
		close(pfd[0]);
		bool power = trial & 1;
		unsigned lost = power ? crash_lose(t.path, synced, &seed) : 0;

		struct rlog *l;
		assert_int_equal(rlog_open(t.path, CRASH_CAP, &l), 0);
		c.prev = 0;
		assert_int_equal(rlog_replay(l, 0, crash_check, &c), 0);
		assert_true(c.prev >= synced);
		assert_true(c.prev >= last || power); /* a kill alone loses nothing written */
		rlog_close(l);
		last = c.prev;
		printf("# trial %d: killed after %d ms%s (%u pages lost): records 1..%" PRIu64
		       ", synced through %" PRIu64 "\n",
		       trial, ms, power ? " with power loss" : "", lost, last, synced);
	}
	assert_true(synced > 0);
	free(c.buf);
	tmp_remove(&t);
}

static int
setup(void **state)
{
	(void)state;
	scratch = malloc(XP_MAX_RECORD + 8);
	return scratch ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	free(scratch);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),      cmocka_unit_test(test_replay_after),
	    cmocka_unit_test(test_torn_tail),       cmocka_unit_test(test_chain),
	    cmocka_unit_test(test_reset),           cmocka_unit_test(test_trim),
	    cmocka_unit_test(test_reset_torn_slot), cmocka_unit_test(test_full),
	    cmocka_unit_test(test_errors),          cmocka_unit_test(test_crash),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
