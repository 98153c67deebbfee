/*
 * test_jnl.c - the replication journal (src/repl/jnl.c): append and iterate round
 * trip, a torn tail cut on reopen (short record, zero-filled tail), a corrupt middle
 * record and a missing segment giving -EBADMSG, releasing segments, the switch to
 * bitmap mode and its persistence, the activity log's recovery report, batched
 * appends (jnl_append_many across segments, past JNL_MANY records, into bitmap
 * mode), and a crash test: a child appends random writes (512 B - 128 KiB,
 * random FUA, periodic flushes) and reports each acknowledged record through a pipe; it is
 * SIGKILLed at random moments (10 trials, fixed seed) and after each kill the journal must read
 * back intact, in order, without a gap, with every durable record present.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
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
#include <xxhash.h>

#include "repl/bmap.h"
#include "repl/jnl.h"

/* ---- helpers ---------------------------------------------------------------- */

struct tmp {
	char root[256];
	char dir[300];
};

static void
tmp_make(struct tmp *t)
{
	snprintf(t->root, sizeof(t->root), "/tmp/test_jnl.XXXXXX");
	assert_non_null(mkdtemp(t->root));
	snprintf(t->dir, sizeof(t->dir), "%s/j", t->root);
}

static void
tmp_remove(struct tmp *t)
{
	DIR *d = opendir(t->dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			char p[600];
			snprintf(p, sizeof(p), "%s/%s", t->dir, de->d_name);
			unlink(p);
		}
		closedir(d);
		rmdir(t->dir);
	}
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

static void
fill(uint8_t *b, size_t n, uint64_t seed)
{
	uint64_t x = seed | 1;
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(xorshift(&x) >> 24);
}

static void
seg_name(const struct tmp *t, uint64_t first, char *buf, size_t n)
{
	snprintf(buf, n, "%s/seg-%016" PRIx64 ".jnl", t->dir, first);
}

static int
count_segs(const struct tmp *t)
{
	DIR *d = opendir(t->dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strncmp(de->d_name, "seg-", 4) == 0)
			n++;
	closedir(d);
	return n;
}

#define GAP (1ull << 40) /* the jump of the numbering after an unclean stop */

static off_t
file_size(const char *p)
{
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	return st.st_size;
}

/* Iterate dir from seq `from`: the number of records, checking order; the final rc. */
static int
iter_count(const char *dir, uint64_t from, uint64_t *n)
{
	struct jnl_iter *it;
	assert_int_equal(jnl_iter_open(dir, from, &it), 0);
	struct jnl_rec r;
	int rc;
	uint64_t prev = 0;
	*n = 0;
	while ((rc = jnl_iter_next(it, &r)) > 0) {
		if (prev) /* consecutive, or over a jump of the numbering */
			assert_true(r.seq == prev + 1 || r.seq >= prev + GAP);
		else
			assert_true(r.seq >= from);
		prev = r.seq;
		(*n)++;
	}
	jnl_iter_close(it);
	return rc;
}

/* ---- unit tests ------------------------------------------------------------ */

static void
test_round_trip(void **state)
{
	struct tmp t;
	tmp_make(&t);
	struct jnl *j;
	assert_int_equal(jnl_open(t.dir, NULL, &j), 0);
	assert_int_equal(jnl_next_seq(j), 1);
	assert_int_equal(jnl_first_seq(j), 0);
	static uint8_t buf[8][70000];
	uint32_t lens[8] = {512, 4096, 1, 65536, 70000, 0, 8192, 3000};
	uint32_t flags[8] = {0, JNL_F_FUA, 0, 0, 0, JNL_F_TRIM, JNL_F_ZERO, 0};
	for (int i = 0; i < 8; i++) {
		fill(buf[i], lens[i], (uint64_t)i + 7);
		uint64_t seq;
		assert_int_equal(jnl_append(j, (uint64_t)i << 20, lens[i], flags[i],
		                            flags[i] & (JNL_F_TRIM | JNL_F_ZERO) ? NULL : buf[i],
		                            &seq),
		                 0);
		assert_int_equal(seq, (uint64_t)i + 1);
		if (i == 1)
			assert_int_equal(jnl_durable_seq(j), 2);
	}
	uint64_t bseq;
	assert_int_equal(jnl_flush(j, &bseq), 0);
	assert_int_equal(bseq, 9);
	assert_int_equal(jnl_durable_seq(j), 9);
	/* Bad arguments. */
	uint64_t seq;
	assert_int_equal(jnl_append(j, 0, 10, 0, NULL, &seq), -EINVAL);
	assert_int_equal(jnl_append(j, UINT64_MAX - 5, 10, 0, buf[0], &seq), -EINVAL);
	assert_int_equal(jnl_close(j), 0);

	struct jnl_iter *it;
	assert_int_equal(jnl_iter_open(t.dir, 0, &it), 0);
	struct jnl_rec r;
	for (int i = 0; i < 8; i++) {
		assert_int_equal(jnl_iter_next(it, &r), 1);
		assert_int_equal(r.seq, (uint64_t)i + 1);
		assert_int_equal(r.off, (uint64_t)i << 20);
		assert_int_equal(r.len, lens[i]);
		assert_int_equal(r.flags, flags[i]);
		if (flags[i] & (JNL_F_TRIM | JNL_F_ZERO)) {
			assert_int_equal(r.dlen, 0);
			assert_null(r.data);
		} else {
			assert_int_equal(r.dlen, lens[i]);
			assert_memory_equal(r.data, buf[i], lens[i]);
			assert_int_equal(r.dsum, XXH3_64bits(buf[i], lens[i]));
		}
	}
	assert_int_equal(jnl_iter_next(it, &r), 1);
	assert_int_equal(r.seq, 9);
	assert_int_equal(r.flags, JNL_F_FLUSH);
	assert_int_equal(jnl_iter_next(it, &r), 0);
	assert_int_equal(jnl_iter_next(it, &r), 0);
	jnl_iter_close(it);

	/* From the middle. */
	uint64_t n;
	assert_int_equal(iter_count(t.dir, 4, &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(iter_count(t.dir, 100, &n), 0);
	assert_int_equal(n, 0);

	/* Reopen: numbering continues; a clean close left nothing to recover. */
	assert_int_equal(jnl_open(t.dir, NULL, &j), 0);
	assert_int_equal(jnl_next_seq(j), 10);
	assert_int_equal(jnl_first_seq(j), 1);
	assert_int_equal(jnl_durable_seq(j), 9);
	uint64_t *ext;
	size_t next;
	assert_int_equal(jnl_recover(j, &ext, &next), 0);
	assert_int_equal(next, 0);
	free(ext);
	assert_int_equal(jnl_append(j, 0, 512, 0, buf[0], &seq), 0);
	assert_int_equal(seq, 10);
	assert_int_equal(jnl_close(j), 0);
	assert_int_equal(iter_count(t.dir, 0, &n), 0);
	assert_int_equal(n, 11); /* 10 records and the close's barrier */

	/* A missing directory is an error for the iterator. */
	char nodir[400];
	snprintf(nodir, sizeof(nodir), "%s/none", t.root);
	assert_int_equal(jnl_iter_open(nodir, 0, &it), -ENOENT);
	tmp_remove(&t);
}

static void
append_n(struct jnl *j, int n, uint32_t len)
{
	uint8_t *b = malloc(len);
	assert_non_null(b);
	for (int i = 0; i < n; i++) {
		uint64_t seq;
		fill(b, len, (uint64_t)i);
		assert_int_equal(jnl_append(j, (uint64_t)i * len, len, 0, b, &seq), 0);
	}
	free(b);
}

static void
test_torn_tail(void **state)
{
	struct tmp t;
	tmp_make(&t);
	struct jnl *j;
	assert_int_equal(jnl_open(t.dir, NULL, &j), 0);
	append_n(j, 5, 1000);
	jnl_abandon(j);
	char seg[600];
	seg_name(&t, 1, seg, sizeof(seg));
	off_t full = file_size(seg);
	assert_int_equal(full, 5 * (JNL_HDR_SIZE + 1000));

	/* Cut the fifth record in its data: four records, then a clean end. */
	assert_int_equal(truncate(seg, full - 300), 0);
	uint64_t n;
	assert_int_equal(iter_count(t.dir, 0, &n), 0);
	assert_int_equal(n, 4);
	/* Cut inside the header too. */
	assert_int_equal(truncate(seg, 4 * (JNL_HDR_SIZE + 1000) + 10), 0);
	assert_int_equal(iter_count(t.dir, 0, &n), 0);
	assert_int_equal(n, 4);

	/* Reopen truncates the tail; the stop was unclean, so the numbering jumps
	 * past any seq the lost record may have had (it may have been shipped), in
	 * a new segment, and a reader goes over the jump. */
	assert_int_equal(jnl_open(t.dir, NULL, &j), 0);
	assert_int_equal(file_size(seg), 4 * (JNL_HDR_SIZE + 1000));
	const uint64_t g = 5 + GAP;
	assert_int_equal(jnl_next_seq(j), g);
	assert_int_equal(jnl_gap_skip(j, 4), g - 1);
	assert_int_equal(jnl_gap_skip(j, 5), g - 1);
	assert_int_equal(jnl_gap_skip(j, 3), 3);
	assert_int_equal(jnl_gap_skip(j, g), g);
	assert_int_equal(jnl_last_seq(j), 4); /* nothing after the jump yet */
	append_n(j, 2, 1000);
	assert_int_equal(jnl_next_seq(j), g + 2);
	assert_int_equal(jnl_last_seq(j), g + 1);
	assert_int_equal(jnl_first_seq(j), 1);
	assert_int_equal(jnl_close(j), 0); /* clean: the next open goes on at g + 2 */
	assert_int_equal(iter_count(t.dir, 0, &n), 0);
	assert_int_equal(n, 7); /* 1-4, g, g + 1 and the barrier of close */
	assert_int_equal(iter_count(t.dir, g, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(jnl_open(t.dir, NULL, &j), 0);
	assert_int_equal(jnl_next_seq(j), g + 3);
	jnl_abandon(j);

	/* A zero-filled tail (the size grew, the data never came) is the end too. */
	char segg[600];
	seg_name(&t, g, segg, sizeof(segg));
	off_t good = file_size(segg);
	assert_int_equal(truncate(segg, good + 5000), 0);
	assert_int_equal(iter_count(t.dir, 0, &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(jnl_open(t.dir, NULL, &j), 0);
	assert_int_equal(file_size(segg), good);
	jnl_abandon(j);

	/* A complete last record with a bad checksum is a torn tail as well. */
	int fd = open(segg, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, good - 1), 1);
	close(fd);
	assert_int_equal(iter_count(t.dir, 0, &n), 0);
	assert_int_equal(n, 6);
	/* The segment after a jump lost everything: the log ends at the jump. */
	assert_int_equal(truncate(segg, 0), 0);
	assert_int_equal(iter_count(t.dir, 0, &n), 0);
	assert_int_equal(n, 4);
	tmp_remove(&t);
}

static void
test_corrupt_middle(void **state)
{
	struct tmp t;
	tmp_make(&t);
	struct jnl *j;
	assert_int_equal(jnl_open(t.dir, NULL, &j), 0);
	append_n(j, 5, 1000);
	assert_int_equal(jnl_flush(j, NULL), 0);
	jnl_abandon(j);
	char seg[600];
	seg_name(&t, 1, seg, sizeof(seg));

	/* Flip a data byte of record 2. */
	int fd = open(seg, O_RDWR);
	assert_true(fd >= 0);
	off_t at = (JNL_HDR_SIZE + 1000) + JNL_HDR_SIZE + 17;
	uint8_t c;
	assert_int_equal(pread(fd, &c, 1, at), 1);
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	uint64_t n;
	assert_int_equal(iter_count(t.dir, 0, &n), -EBADMSG);
	assert_int_equal(n, 1);
	assert_int_equal(jnl_open(t.dir, NULL, &j), -EBADMSG);
	/* Garbage (not zeros) after a bad magic in the middle: also corruption. */
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	assert_int_equal(pwrite(fd, "garbage!", 8, JNL_HDR_SIZE + 1000), 8);
	assert_int_equal(iter_count(t.dir, 0, &n), -EBADMSG);
	assert_int_equal(n, 1);
	close(fd);
	tmp_remove(&t);

	/* A missing segment between two others is a gap. */
	tmp_make(&t);
	struct jnl_opts o = {.seg_size = 3 * (JNL_HDR_SIZE + 1000)};
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	append_n(j, 9, 1000);
	assert_int_equal(jnl_segments(j), 3);
	jnl_abandon(j);
	seg_name(&t, 4, seg, sizeof(seg));
	assert_int_equal(unlink(seg), 0);
	assert_int_equal(iter_count(t.dir, 0, &n), -EBADMSG);
	assert_int_equal(n, 3);
	tmp_remove(&t);
}

/* A full segment is synced only by a later FLUSH or FUA: after a power cut it may
 * be torn with later segments present. jnl_open cuts the log there when no durable
 * record follows (the later segments go), and calls it corruption when one does. */
static void
test_torn_segment(void **state)
{
	struct tmp t;
	tmp_make(&t);
	struct jnl *j;
	struct jnl_opts o = {.seg_size = 3 * (JNL_HDR_SIZE + 1000)};
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	append_n(j, 9, 1000); /* segments 1, 4 and 7 */
	assert_int_equal(jnl_segments(j), 3);
	jnl_abandon(j);
	char seg[600], seg7[600];
	seg_name(&t, 4, seg, sizeof(seg));
	seg_name(&t, 7, seg7, sizeof(seg7));
	assert_int_equal(truncate(seg, JNL_HDR_SIZE + 1000 + 10), 0); /* record 5 torn */
	uint64_t n;
	assert_int_equal(iter_count(t.dir, 0, &n), -EBADMSG); /* not the last segment */
	assert_int_equal(n, 4);
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	/* Cut after record 4; the numbering jumps (record 5 may have been shipped). */
	assert_int_equal(jnl_next_seq(j), 5 + GAP);
	assert_int_equal(jnl_segments(j), 3); /* 1, 4 and the jump's */
	assert_int_equal(access(seg7, F_OK), -1);
	append_n(j, 4, 1000);                    /* 5 + GAP to 8 + GAP */
	assert_int_equal(jnl_flush(j, NULL), 0); /* durable, and so is all before it */
	jnl_abandon(j);
	assert_int_equal(iter_count(t.dir, 0, &n), 0);
	assert_int_equal(n, 9);
	/* Now a torn record before that durable barrier is damage, not a torn tail. */
	assert_int_equal(truncate(seg, JNL_HDR_SIZE + 1000 + 10), 0);
	assert_int_equal(jnl_open(t.dir, &o, &j), -EBADMSG);
	tmp_remove(&t);

	/* A segment that vanished (its directory entry never synced) with nothing
	 * durable after it: the log ends before it. */
	tmp_make(&t);
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	append_n(j, 9, 1000);
	jnl_abandon(j);
	seg_name(&t, 4, seg, sizeof(seg));
	assert_int_equal(unlink(seg), 0);
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	assert_int_equal(jnl_next_seq(j), 4 + GAP);
	assert_int_equal(jnl_segments(j), 2);
	jnl_abandon(j);
	assert_int_equal(iter_count(t.dir, 0, &n), 0);
	assert_int_equal(n, 3);
	tmp_remove(&t);
}

static void
test_release(void **state)
{
	struct tmp t;
	tmp_make(&t);
	struct jnl *j;
	struct jnl_opts o = {.seg_size = 4 * (JNL_HDR_SIZE + 4096)};
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	append_n(j, 20, 4096); /* seqs 1..20 in segments 1, 5, 9, 13, 17 */
	assert_int_equal(jnl_segments(j), 5);
	assert_int_equal(count_segs(&t), 5);
	uint64_t bytes = jnl_bytes(j);
	assert_int_equal(bytes, 20 * (JNL_HDR_SIZE + 4096));

	/* seq 7 acknowledged: only the segment 1..4 lies entirely before it. */
	assert_int_equal(jnl_release(j, 7), 0);
	assert_int_equal(jnl_segments(j), 4);
	assert_int_equal(count_segs(&t), 4);
	assert_int_equal(jnl_first_seq(j), 5);
	assert_int_equal(jnl_bytes(j), bytes - 4 * (JNL_HDR_SIZE + 4096));
	/* seq 9: segment 5..8 goes. */
	assert_int_equal(jnl_release(j, 9), 0);
	assert_int_equal(jnl_first_seq(j), 9);
	uint64_t n;
	assert_int_equal(iter_count(t.dir, 0, &n), 0);
	assert_int_equal(n, 12);
	assert_int_equal(iter_count(t.dir, 15, &n), 0);
	assert_int_equal(n, 6);
	/* Everything: the current segment stays. */
	assert_int_equal(jnl_release(j, 1000), 0);
	assert_int_equal(jnl_segments(j), 1);
	assert_int_equal(jnl_first_seq(j), 17);
	assert_int_equal(jnl_close(j), 0);

	/* Reopen after release: numbering continues from the kept segment. */
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	assert_int_equal(jnl_first_seq(j), 17);
	assert_int_equal(jnl_next_seq(j), 22); /* 17..20 and the close's barrier */
	jnl_abandon(j);
	tmp_remove(&t);
}

/* Appends one record of len bytes at off, its data from seed. */
static uint64_t
append_seed(struct jnl *j, uint64_t off, uint32_t len, uint64_t seed)
{
	uint8_t b[4096];
	assert_true(len <= sizeof(b));
	fill(b, len, seed);
	uint64_t seq;
	assert_int_equal(jnl_append(j, off, len, 0, b, &seq), 0);
	return seq;
}

/* The next record is seq, with the data of seed. */
static void
expect_rec_at(struct jnl_iter *it, uint64_t seq, uint64_t seed, int line)
{
	struct jnl_rec r;
	uint8_t b[4096];
	int got = jnl_iter_next(it, &r);
	if (got != 1 || r.seq != seq)
		fail_msg("line %d: record %" PRIu64 " expected, got %d (seq %" PRIu64 ")", line,
		         seq, got, got == 1 ? r.seq : 0);
	fill(b, r.dlen, seed);
	assert_memory_equal(r.data, b, r.dlen);
}
#define expect_rec(it, seq, seed) expect_rec_at(it, seq, seed, __LINE__)

/* An iterator kept between reads (the shipper's): it stops at the limit, reads on
 * from there after more appends, across segments, over a released segment, and
 * with its buffer freed in between. */
static void
test_resume(void **state)
{
	struct tmp t;
	tmp_make(&t);
	struct jnl *j;
	struct jnl_opts o = {.seg_size = 4 * (JNL_HDR_SIZE + 4096)};
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	append_seed(j, 0, 4096, 101);
	append_seed(j, 4096, 4096, 102);
	append_seed(j, 8192, 4096, 103); /* written, not yet counted by the reader */
	struct jnl_iter *it;
	struct jnl_rec r;
	assert_int_equal(jnl_iter_open(t.dir, 1, &it), 0);
	assert_int_equal(jnl_iter_resume(it, 3), 0);
	expect_rec(it, 1, 101);
	expect_rec(it, 2, 102);
	assert_int_equal(jnl_iter_next(it, &r), 0); /* the limit, though 3 is there */
	assert_int_equal(jnl_iter_seq(it), 3);
	assert_int_equal(jnl_iter_resume(it, 4), 0);
	expect_rec(it, 3, 103);
	assert_int_equal(jnl_iter_next(it, &r), 0);
	jnl_iter_idle(it);

	/* 4 ends the first segment, 5..7 go to the second: the directory is listed again. */
	for (uint64_t s = 4; s <= 7; s++)
		assert_int_equal(append_seed(j, s * 4096, 4096, 100 + s), s);
	assert_int_equal(count_segs(&t), 2);
	assert_int_equal(jnl_iter_resume(it, jnl_next_seq(j)), 0);
	for (uint64_t s = 4; s <= 7; s++)
		expect_rec(it, s, 100 + s);
	assert_int_equal(jnl_iter_next(it, &r), 0);
	assert_int_equal(jnl_iter_seq(it), 8);

	/* Nothing new: a resume reads nothing. */
	assert_int_equal(jnl_iter_resume(it, jnl_next_seq(j)), 0);
	assert_int_equal(jnl_iter_next(it, &r), 0);

	/* The second segment filled (8), a third begun (9, 10); the first two released
	 * while the iterator sits at the second's end: it reads on through the third. */
	assert_int_equal(append_seed(j, 0, 4096, 108), 8);
	assert_int_equal(jnl_iter_resume(it, 9), 0);
	expect_rec(it, 8, 108);
	assert_int_equal(jnl_iter_next(it, &r), 0);
	assert_int_equal(append_seed(j, 0, 4096, 109), 9);
	assert_int_equal(append_seed(j, 0, 4096, 110), 10);
	assert_int_equal(jnl_release(j, 9), 0);
	assert_int_equal(count_segs(&t), 1);
	jnl_iter_idle(it);
	assert_int_equal(jnl_iter_resume(it, jnl_next_seq(j)), 0);
	expect_rec(it, 9, 109);
	expect_rec(it, 10, 110);
	assert_int_equal(jnl_iter_next(it, &r), 0);
	jnl_iter_close(it);

	/* Opened before the first segment existed: -ESTALE says open again. */
	struct tmp t2;
	tmp_make(&t2);
	assert_int_equal(mkdir(t2.dir, 0700), 0);
	assert_int_equal(jnl_iter_open(t2.dir, 1, &it), 0);
	assert_int_equal(jnl_iter_resume(it, 2), -ESTALE);
	jnl_iter_close(it);
	tmp_remove(&t2);

	assert_int_equal(jnl_close(j), 0);
	tmp_remove(&t);
}

/* What the iterator read ahead past its limit is not trusted on resume: bytes of a
 * record written in place since (here a second journal's record 2, copied over
 * the first's) are read again. */
static void
test_resume_reread(void **state)
{
	struct tmp a, b;
	tmp_make(&a);
	tmp_make(&b);
	struct jnl *ja, *jb;
	struct jnl_opts o = {0};
	assert_int_equal(jnl_open(a.dir, &o, &ja), 0);
	assert_int_equal(jnl_open(b.dir, &o, &jb), 0);
	append_seed(ja, 0, 4096, 1);
	append_seed(ja, 4096, 4096, 2);
	append_seed(jb, 0, 4096, 1);
	append_seed(jb, 4096, 4096, 4); /* fill's seeds 2 and 3 are the same */
	struct jnl_iter *it;
	struct jnl_rec r;
	assert_int_equal(jnl_iter_open(a.dir, 1, &it), 0);
	assert_int_equal(jnl_iter_resume(it, 2), 0);
	expect_rec(it, 1, 1); /* the read ahead took record 2 as well */
	assert_int_equal(jnl_iter_next(it, &r), 0);

	char pa[600], pb[600];
	seg_name(&a, 1, pa, sizeof(pa));
	seg_name(&b, 1, pb, sizeof(pb));
	off_t n = file_size(pb);
	assert_int_equal(file_size(pa), n);
	uint8_t *buf = malloc((size_t)n);
	assert_non_null(buf);
	int fb = open(pb, O_RDONLY), fa = open(pa, O_WRONLY);
	assert_true(fb >= 0 && fa >= 0);
	assert_int_equal(pread(fb, buf, (size_t)n, 0), n);
	assert_int_equal(pwrite(fa, buf, (size_t)n, 0), n);
	close(fa);
	close(fb);
	free(buf);

	assert_int_equal(jnl_iter_resume(it, 3), 0);
	expect_rec(it, 2, 4);
	jnl_iter_close(it);
	jnl_abandon(ja);
	jnl_abandon(jb);
	tmp_remove(&a);
	tmp_remove(&b);
}

static void
test_bitmap_mode(void **state)
{
	struct tmp t;
	tmp_make(&t);
	struct jnl *j;
	struct jnl_opts o = {.capacity = 10 * (JNL_HDR_SIZE + 4096)};
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	append_n(j, 10, 4096);
	assert_false(jnl_bitmap_mode(j));
	assert_int_equal(jnl_bitmap_count(j), 0);
	uint8_t b[200000];
	fill(b, sizeof(b), 3);
	uint64_t seq = 99;
	/* The 11th write does not fit: bitmap mode. 1 MiB + 200000 B spans 64 KiB
	 * extents 16..19. */
	assert_int_equal(jnl_append(j, 1 << 20, sizeof(b), 0, b, &seq), 0);
	assert_int_equal(seq, JNL_SEQ_BITMAP);
	assert_true(jnl_bitmap_mode(j));
	assert_int_equal(jnl_bitmap_count(j), 4);
	assert_int_equal(jnl_append(j, 1 << 20, 512, JNL_F_FUA, b, &seq), 0);
	assert_int_equal(jnl_bitmap_count(j), 4);
	/* A far extent grows the bitmap. */
	assert_int_equal(jnl_append(j, (uint64_t)1 << 36, 0, JNL_F_TRIM, NULL, &seq), 0);
	assert_int_equal(jnl_bitmap_count(j), 5);
	uint64_t flushed;
	assert_int_equal(jnl_flush(j, &flushed), 0);
	assert_int_equal(flushed, 0); /* no barrier since nothing durable was journaled */
	assert_int_equal(jnl_next_seq(j), 11);
	assert_int_equal(jnl_close(j), 0); /* clean: the bitmap is on disk, the log empty */

	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	assert_true(jnl_bitmap_mode(j));
	assert_int_equal(jnl_bitmap_count(j), 5);
	uint64_t e;
	assert_int_equal(jnl_bitmap_next(j, 0, &e), 0);
	assert_int_equal(e, 16);
	assert_int_equal(jnl_bitmap_next(j, 17, &e), 0);
	assert_int_equal(e, 17);
	assert_int_equal(jnl_bitmap_next(j, 20, &e), 0);
	assert_int_equal(e, (uint64_t)1 << 20);
	assert_int_equal(jnl_bitmap_next(j, e + 1, &e), -ENOENT);
	/* The journal kept its 10 records. */
	uint64_t n;
	assert_int_equal(iter_count(t.dir, 0, &n), 0);
	assert_int_equal(n, 10);

	/* A new bit is persisted by the next sync, not at once: after a crash its 4 MiB
	 * extent, in the activity log, comes back dirty whole (64 bits). */
	assert_int_equal(jnl_append(j, 64u << 20, 4096, 0, b, &seq), 0);
	assert_int_equal(jnl_bitmap_count(j), 6);
	jnl_abandon(j);
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	assert_true(jnl_bitmap_mode(j));
	assert_int_equal(jnl_bitmap_count(j), 5 + 64);
	assert_int_equal(jnl_bitmap_next(j, 20, &e), 0);
	assert_int_equal(e, 1024);
	assert_int_equal(jnl_bitmap_next(j, 1024 + 63, &e), 0);
	assert_int_equal(e, 1024 + 63);

	/* Resync done and journal released: back to journal mode. */
	assert_int_equal(jnl_bitmap_clear(j), 0);
	assert_false(jnl_bitmap_mode(j));
	assert_int_equal(jnl_bitmap_count(j), 0);
	jnl_abandon(j);
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	assert_false(jnl_bitmap_mode(j));
	assert_int_equal(jnl_bitmap_count(j), 0);
	jnl_abandon(j);

	/* A resync unfinished at a clean stop: its extents put in the bitmap, the
	 * journal in bitmap mode, both found again at the next open. */
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	assert_int_equal(jnl_bitmap_add(j, 8ull << 20, 4u << 20), 0); /* bits 128..191 */
	assert_true(jnl_bitmap_mode(j));
	assert_int_equal(jnl_close(j), 0);
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	assert_true(jnl_bitmap_mode(j));
	assert_int_equal(jnl_bitmap_count(j), 64);
	assert_int_equal(jnl_bitmap_next(j, 0, &e), 0);
	assert_int_equal(e, 128);
	assert_int_equal(jnl_bitmap_next(j, 192, &e), -ENOENT);
	assert_int_equal(jnl_bitmap_clear(j), 0);
	jnl_abandon(j);

	/* A bitmap block damaged (a torn save) comes back all set: a larger resync,
	 * never a missed one. Both header slots damaged refuse the open. */
	char p[600];
	snprintf(p, sizeof(p), "%s/dirty.bitmap", t.dir);
	int fd = open(p, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "\xff", 1, 4096 + 16), 1);
	close(fd);
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	assert_int_equal(jnl_bitmap_count(j), BMAP_BLOCK_BITS);
	jnl_abandon(j);
	fd = open(p, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "\xff", 1, 16), 1);
	assert_int_equal(pwrite(fd, "\xff", 1, 512 + 16), 1);
	close(fd);
	assert_int_equal(jnl_open(t.dir, &o, &j), -EBADMSG);
	tmp_remove(&t);
}

/* jnl_append_many: a batch numbered in order across segment rotations, more
 * records than one pwritev takes (JNL_MANY), read back byte for byte; a batch
 * that meets the capacity switches to bitmap mode in its middle; a bad write
 * in a batch appends nothing. */
static void
test_append_many(void **state)
{
	struct tmp t;
	tmp_make(&t);
	struct jnl *j;
	enum { N = 150, LEN = 1000 };
	uint64_t rec = JNL_HDR_SIZE + LEN;
	struct jnl_opts o = {.seg_size = 7 * rec + 5, .capacity = (N + 10) * rec};
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	static uint8_t buf[N + 20][LEN];
	struct jnl_write w[N + 20];
	uint64_t seqs[N + 20];
	for (int i = 0; i < N + 20; i++) {
		fill(buf[i], LEN, (uint64_t)i * 31 + 5);
		w[i] = (struct jnl_write){(uint64_t)(N + 20 - i) << 16, buf[i], LEN};
	}
	uint64_t seq;
	assert_int_equal(jnl_append(j, 0, LEN, 0, buf[0], &seq), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(jnl_append_many(j, w, N, seqs), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(seqs[i], (uint64_t)i + 2);
	assert_int_equal(jnl_next_seq(j), N + 2);
	assert_true(count_segs(&t) >= (N + 1) / 7);
	/* A bad write anywhere in a batch: nothing appended. */
	struct jnl_write bad[3] = {w[0], {0, NULL, 10}, w[1]};
	assert_int_equal(jnl_append_many(j, bad, 3, seqs), -EINVAL);
	assert_int_equal(jnl_next_seq(j), N + 2);
	/* 20 more: 9 fit in the capacity, the rest go to the bitmap. */
	assert_false(jnl_bitmap_mode(j));
	assert_int_equal(jnl_append_many(j, w + N, 20, seqs), 0);
	for (int i = 0; i < 9; i++)
		assert_int_equal(seqs[i], (uint64_t)N + 2 + i);
	for (int i = 9; i < 20; i++)
		assert_int_equal(seqs[i], JNL_SEQ_BITMAP);
	assert_true(jnl_bitmap_mode(j));
	assert_int_equal(jnl_bitmap_count(j),
	                 11); /* one 64 KiB bit each: 4 KiB apart, 16 per bit */
	assert_int_equal(jnl_close(j), 0);

	struct jnl_iter *it;
	assert_int_equal(jnl_iter_open(t.dir, 0, &it), 0);
	struct jnl_rec r;
	assert_int_equal(jnl_iter_next(it, &r), 1);
	assert_int_equal(r.seq, 1);
	for (int i = 0; i < N + 9; i++) {
		assert_int_equal(jnl_iter_next(it, &r), 1);
		assert_int_equal(r.seq, (uint64_t)i + 2);
		assert_int_equal(r.off, w[i].off);
		assert_int_equal(r.len, LEN);
		assert_int_equal(r.flags, 0);
		assert_memory_equal(r.data, buf[i], LEN);
	}
	jnl_iter_close(it);
	tmp_remove(&t);
}

static int syncs;
static int
count_sync(void *arg)
{
	(void)arg;
	syncs++;
	return 0;
}

static void
expect_ext(struct jnl *j, const uint64_t *want, size_t nwant)
{
	uint64_t *ext;
	size_t n;
	assert_int_equal(jnl_recover(j, &ext, &n), 0);
	assert_int_equal(n, nwant);
	if (nwant)
		assert_memory_equal(ext, want, nwant * sizeof(*want));
	free(ext);
}

/* Evictions from the activity log share syncs: a victim whose writes all came
 * before the last sync leaves without another; one written since forces one.
 * 127 slots: extents 0..126 fill the ring, 127 evicts 0 (a sync: every slot
 * clean), 128..252 evict 1..125 with no sync; 126 written again is dirty, so
 * 253 (evicting it) syncs; 254 evicts 127, written before that sync: none.
 * Then 2000 more extents cost one sync per ring's worth (15 or 16), not one
 * per extent (1873), and after a crash (the records flushed) the report is
 * exactly the ring's last 127 extents. */
static void
test_al_batch(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct jnl *j;
	struct jnl_opts o = {.al_extents = 127, .sync_disk = count_sync};
	const uint64_t M4 = 4u << 20;
	uint8_t b[4096];
	fill(b, sizeof(b), 5);
	uint64_t seq;
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	syncs = 0;
	for (uint64_t e = 0; e <= 126; e++)
		assert_int_equal(jnl_append(j, e * M4, 4096, 0, b, &seq), 0);
	assert_int_equal(syncs, 0);
	assert_int_equal(jnl_append(j, 127 * M4, 4096, 0, b, &seq), 0);
	assert_int_equal(syncs, 1);
	for (uint64_t e = 128; e <= 252; e++)
		assert_int_equal(jnl_append(j, e * M4, 4096, 0, b, &seq), 0);
	assert_int_equal(syncs, 1);
	assert_int_equal(jnl_hot(j, 126 * M4 + 8192, 4096), 0); /* before the disk's write */
	assert_int_equal(jnl_append(j, 126 * M4 + 8192, 4096, 0, b, &seq), 0);
	assert_int_equal(syncs, 1); /* in the ring already */
	assert_int_equal(jnl_append(j, 253 * M4, 4096, 0, b, &seq), 0);
	assert_int_equal(syncs, 2);
	assert_int_equal(jnl_append(j, 254 * M4, 4096, 0, b, &seq), 0);
	assert_int_equal(syncs, 2);
	for (uint64_t e = 1000; e < 3000; e++)
		assert_int_equal(jnl_append(j, e * M4, 4096, 0, b, &seq), 0);
	assert_true(syncs - 2 >= 15 && syncs - 2 <= 16);
	assert_int_equal(jnl_flush(j, NULL), 0); /* the records durable: the ring is the report */
	jnl_abandon(j);
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	uint64_t want[127];
	for (size_t i = 0; i < 127; i++)
		want[i] = 3000 - 127 + i;
	expect_ext(j, want, 127);
	jnl_abandon(j);
	tmp_remove(&t);
}

/* The activity log's size changes between runs. Shrunk after a crash (64 slots ->
 * 16): the report still holds all 40 extents written, through a second crash
 * before a clean close; the clean close then cuts the file to 16 slots, and a
 * reopen reports nothing. Grown (16 -> 64) after a crash: the 16 reported, the
 * file 64 slots, and 48 new extents cost one sync (the numbering goes on from
 * the old ring's, so it meets the 16 loaded slots; they leave after that one
 * sync, not one each). Beyond
 * JNL_AL_MAX: -EINVAL. */
static void
test_al_resize(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct jnl *j;
	const uint64_t M4 = 4u << 20;
	uint8_t b[4096];
	fill(b, sizeof(b), 9);
	uint64_t seq, want[64];
	char al[600];
	snprintf(al, sizeof(al), "%s/activity.log", t.dir);
	struct jnl_opts big = {.al_extents = 64, .sync_disk = count_sync},
	                small = {.al_extents = 16, .sync_disk = count_sync};

	assert_int_equal(jnl_open(t.dir, &big, &j), 0);
	for (uint64_t e = 0; e < 40; e++)
		assert_int_equal(jnl_append(j, e * M4, 4096, 0, b, &seq), 0);
	assert_int_equal(jnl_flush(j, NULL), 0);
	jnl_abandon(j); /* a crash */
	for (size_t i = 0; i < 40; i++)
		want[i] = i;
	assert_int_equal(jnl_open(t.dir, &small, &j), 0);
	expect_ext(j, want, 40);
	assert_int_equal(file_size(al), 64 * 32); /* slots past the ring kept */
	jnl_abandon(j);                           /* a second crash */
	assert_int_equal(jnl_open(t.dir, &small, &j), 0);
	expect_ext(j, want, 40);
	assert_int_equal(jnl_close(j), 0);
	assert_int_equal(file_size(al), 16 * 32);
	assert_int_equal(jnl_open(t.dir, &small, &j), 0);
	expect_ext(j, want, 0);

	for (uint64_t e = 100; e < 116; e++)
		assert_int_equal(jnl_append(j, e * M4, 4096, 0, b, &seq), 0);
	assert_int_equal(jnl_flush(j, NULL), 0);
	jnl_abandon(j);
	assert_int_equal(jnl_open(t.dir, &big, &j), 0);
	for (size_t i = 0; i < 16; i++)
		want[i] = 100 + i;
	expect_ext(j, want, 16);
	assert_int_equal(file_size(al), 64 * 32);
	syncs = 0;
	for (uint64_t e = 200; e < 248; e++)
		assert_int_equal(jnl_append(j, e * M4, 4096, 0, b, &seq), 0);
	assert_int_equal(syncs, 1);
	assert_int_equal(jnl_close(j), 0);

	/* A clean journal made smaller: its empty slots go at once. */
	assert_int_equal(jnl_open(t.dir, &small, &j), 0);
	expect_ext(j, want, 0);
	assert_int_equal(file_size(al), 16 * 32);
	assert_int_equal(jnl_close(j), 0);
	struct jnl_opts huge = {.al_extents = JNL_AL_MAX + 1};
	assert_int_equal(jnl_open(t.dir, &huge, &j), -EINVAL);
	tmp_remove(&t);
}

/* jnl_hot_many: a batch's new extents enter the activity log as one transaction,
 * wrapping around the ring's end; dirty victims cost one sync for the batch, clean
 * ones none; a batch with more new extents than the ring holds is -E2BIG and
 * changes nothing. Each step is checked through a crash's recovery report. */
static void
test_hot_many(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct jnl *j;
	struct jnl_opts o = {.al_extents = 8, .sync_disk = count_sync};
	const uint64_t M4 = 4u << 20;
	struct jnl_write w[9];
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	syncs = 0;
	for (int i = 0; i < 6; i++) /* extents 0..5, the last write across 4 and 5 */
		w[i] = (struct jnl_write){(uint64_t)i * M4 + (i == 4 ? M4 - 512 : 0), NULL, 1024};
	assert_int_equal(jnl_hot_many(j, w, 5), 0);
	assert_int_equal(syncs, 0);
	jnl_abandon(j);
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	expect_ext(j, (uint64_t[]){0, 1, 2, 3, 4, 5}, 6);
	/* Slots 6, 7, then 0, 1 (extents 0 and 1, found at the open: not known
	 * clean): one sync for both. */
	for (int i = 0; i < 4; i++)
		w[i] = (struct jnl_write){(uint64_t)(10 + i) * M4, NULL, 4096};
	assert_int_equal(jnl_hot_many(j, w, 4), 0);
	assert_int_equal(syncs, 1);
	/* Slots 2 and 3: extents 2 and 3, clean since that sync: no sync. */
	w[0] = (struct jnl_write){20 * M4, NULL, 4096};
	w[1] = (struct jnl_write){21 * M4 + 4096, NULL, 4096};
	w[2] = (struct jnl_write){10 * M4 + 8192, NULL, 4096}; /* in the ring already */
	assert_int_equal(jnl_hot_many(j, w, 3), 0);
	assert_int_equal(syncs, 1);
	/* Nine new extents do not fit in eight slots. */
	for (int i = 0; i < 9; i++)
		w[i] = (struct jnl_write){(uint64_t)(100 + i) * M4, NULL, 4096};
	assert_int_equal(jnl_hot_many(j, w, 9), -E2BIG);
	jnl_abandon(j);
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	expect_ext(j, (uint64_t[]){4, 5, 10, 11, 12, 13, 20, 21}, 8);
	jnl_abandon(j);
	tmp_remove(&t);
}

static void
test_recovery(void **state)
{
	struct tmp t;
	tmp_make(&t);
	struct jnl *j;
	struct jnl_opts o = {.al_extents = 4, .sync_disk = count_sync};
	const uint64_t M4 = 4u << 20;
	uint8_t b[8192];
	fill(b, sizeof(b), 1);
	uint64_t seq;
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	expect_ext(j, NULL, 0);
	/* Extents 0 and 3 (a write crossing 3/4 touches 4 too), flush, then extent 9. */
	assert_int_equal(jnl_append(j, 100, 512, 0, b, &seq), 0);
	assert_int_equal(jnl_append(j, 4 * M4 - 4096, 8192, 0, b, &seq), 0);
	assert_int_equal(jnl_flush(j, NULL), 0);
	assert_int_equal(jnl_append(j, 9 * M4, 4096, 0, b, &seq), 0);
	assert_int_equal(syncs, 0);
	jnl_abandon(j);
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	expect_ext(j, (uint64_t[]){0, 3, 4, 9}, 4);
	/* A fifth extent evicts the oldest slot, after syncing journal and disk. */
	assert_int_equal(jnl_append(j, 20 * M4, 4096, 0, b, &seq), 0);
	assert_int_equal(syncs, 1);
	/* Writes inside active extents write nothing more. */
	assert_int_equal(jnl_append(j, 20 * M4 + 8192, 4096, 0, b, &seq), 0);
	assert_int_equal(syncs, 1);
	jnl_abandon(j);
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	/* Activity log {3, 4, 9, 20}; unflushed records: extents 9 and 20. */
	expect_ext(j, (uint64_t[]){3, 4, 9, 20}, 4);
	jnl_abandon(j);

	/* Without the activity log, the records after the last barrier still count. */
	char p[600];
	snprintf(p, sizeof(p), "%s/activity.log", t.dir);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	expect_ext(j, (uint64_t[]){9, 20}, 2);
	/* A FUA write is durable but the extent may still differ on the disk. */
	assert_int_equal(jnl_append(j, 30 * M4, 512, JNL_F_FUA, b, &seq), 0);
	assert_int_equal(jnl_durable_seq(j), seq);
	/* A range wider than the activity log (4 extents) must be split by the caller. */
	assert_int_equal(jnl_append(j, 0, (16u << 20) + 1, JNL_F_TRIM, NULL, &seq), -E2BIG);
	assert_int_equal(jnl_append(j, 0, 16u << 20, JNL_F_TRIM, NULL, &seq), 0);
	/* A stale temporary of an interrupted bitmap write is removed at open. */
	snprintf(p, sizeof(p), "%s/dirty.bitmap.tmpAbCdEf", t.dir);
	int fd = open(p, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	/* A clean close: nothing to recover. */
	assert_int_equal(jnl_close(j), 0);
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	expect_ext(j, NULL, 0);
	jnl_abandon(j);
	/* An extent made hot before its disk write, then a crash before the record:
	 * it comes back for the resync; a range wider than the log is refused. */
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	assert_int_equal(jnl_hot(j, 40 * M4 + 100, 4096), 0);
	assert_int_equal(jnl_hot(j, 0, (16u << 20) + 1), -E2BIG);
	assert_int_equal(jnl_hot(j, UINT64_MAX - 10, 100), -EINVAL);
	jnl_abandon(j);
	assert_int_equal(jnl_open(t.dir, &o, &j), 0);
	expect_ext(j, (uint64_t[]){40}, 1);
	jnl_abandon(j);
	assert_int_equal(access(p, F_OK), -1);
	tmp_remove(&t);
}

/* ---- crash test -------------------------------------------------------------- */

#define CRASH_TRIALS 10

enum { MSG_APPEND = 0, MSG_FUA = 1, MSG_FLUSH = 2 };
struct msg {
	uint64_t seq, dsum;
	uint32_t kind, pad;
};

static _Noreturn void
crash_child(const char *dir, int wfd, uint64_t seed)
{
	struct jnl_opts o = {.seg_size = 1u << 20};
	struct jnl *j;
	if (jnl_open(dir, &o, &j) < 0)
		_exit(3);
	uint8_t *b = malloc(128 << 10);
	if (!b)
		_exit(4);
	uint64_t x = seed | 1;
	for (uint32_t i = 0; i < 200000; i++) {
		uint64_t r = xorshift(&x);
		uint32_t len = 512 + (uint32_t)(r % ((128u << 10) - 512 + 1));
		uint32_t flags = (r >> 32) % 8 == 0 ? JNL_F_FUA : 0;
		fill(b, len, r);
		struct msg m = {0};
		if (jnl_append(j, (r >> 20) % (512u << 20), len, flags, b, &m.seq) < 0)
			_exit(5);
		m.dsum = XXH3_64bits(b, len);
		m.kind = flags ? MSG_FUA : MSG_APPEND;
		if (write(wfd, &m, sizeof(m)) != (ssize_t)sizeof(m))
			_exit(6);
		if ((r >> 40) % 16 == 0) {
			struct msg f = {0};
			if (jnl_flush(j, &f.seq) < 0)
				_exit(7);
			f.kind = MSG_FLUSH;
			if (write(wfd, &f, sizeof(f)) != (ssize_t)sizeof(f))
				_exit(6);
		}
	}
	_exit(0);
}

/* What the children reported, in seq order: seqs only grow, across crashes too. */
struct acked {
	uint64_t seq, dsum;
	uint8_t kind; /* 1 append, 2 FUA, 3 flush barrier */
};

struct acks {
	struct acked *v;
	size_t n, cap;
	uint64_t reported; /* the highest seq ever reported (kept when lost) */
};

static const struct acked *
ack_find(const struct acks *a, uint64_t seq)
{
	size_t lo = 0, hi = a->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a->v[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < a->n && a->v[lo].seq == seq ? &a->v[lo] : NULL;
}

static void
crash_drain(int rfd, struct acks *ack, uint64_t *durable, int timeout_ms)
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
		struct msg m;
		ssize_t r = read(rfd, &m, sizeof(m));
		if (r <= 0)
			return;
		assert_int_equal(r, sizeof(m));
		assert_true(m.seq > ack->reported); /* never a seq given before */
		ack->reported = m.seq;
		if (ack->n == ack->cap) {
			ack->cap = ack->cap ? ack->cap * 2 : 1024;
			ack->v = realloc(ack->v, ack->cap * sizeof(*ack->v));
			assert_non_null(ack->v);
		}
		ack->v[ack->n++] = (struct acked){m.seq, m.dsum, (uint8_t)(m.kind + 1)};
		if ((m.kind == MSG_FLUSH || m.kind == MSG_FUA) && m.seq > *durable)
			*durable = m.seq;
	}
}

/* The segments of t, sorted by their first seq; *n of them. */
static uint64_t *
list_firsts(const struct tmp *t, size_t *n)
{
	DIR *d = opendir(t->dir);
	assert_non_null(d);
	uint64_t *v = NULL;
	*n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		uint64_t f;
		if (sscanf(de->d_name, "seg-%16" SCNx64, &f) != 1)
			continue;
		v = realloc(v, (*n + 1) * sizeof(*v));
		assert_non_null(v);
		size_t i = (*n)++;
		while (i && v[i - 1] > f) {
			v[i] = v[i - 1];
			i--;
		}
		v[i] = f;
	}
	closedir(d);
	assert_true(*n > 0);
	return v;
}

/* The last FLUSH or FUA record in the journal, reported or not (0: none): the writer
 * synced every segment before its own before writing it. */
static uint64_t
last_durable_record(const struct tmp *t)
{
	struct jnl_iter *it;
	assert_int_equal(jnl_iter_open(t->dir, 0, &it), 0);
	struct jnl_rec rec;
	uint64_t last = 0;
	while (jnl_iter_next(it, &rec) > 0)
		if (rec.flags & (JNL_F_FLUSH | JNL_F_FUA))
			last = rec.seq;
	jnl_iter_close(it);
	return last;
}

/* Power loss (odd trials): the bytes no fdatasync covered are those after the last
 * durable record, and they may be in any segment from the one that holds it (a full
 * segment is synced only by a later FLUSH or FUA), but not before the segment of
 * the last FLUSH or FUA record written (its write came after a sync of the ones
 * before, even when the kill came before its report). One of those segments is cut
 * at a random point past the durable prefix, or, when it holds no durable record
 * and the directory may not have been synced, vanishes; the segments after it stay
 * as the kernel may have written them back. Returns bytes cut. */
static uint64_t
crash_cut(const struct tmp *t, uint64_t durable, uint64_t r)
{
	size_t nseg;
	uint64_t *first = list_firsts(t, &nseg), fdur = last_durable_record(t);
	size_t k0 = 0, k1 = 0; /* the segments that hold records durable + 1 and fdur */
	while (k0 + 1 < nseg && first[k0 + 1] <= durable + 1)
		k0++;
	while (k1 + 1 < nseg && first[k1 + 1] <= fdur)
		k1++;
	size_t kmin = k0 > k1 ? k0 : k1;
	size_t k = kmin + (size_t)(r % (nseg - kmin));
	r /= nseg;
	uint64_t pos = 0; /* the durable prefix of segment k */
	if (k == k0) {
		struct jnl_iter *it;
		assert_int_equal(jnl_iter_open(t->dir, first[k], &it), 0);
		struct jnl_rec rec;
		while (jnl_iter_next(it, &rec) > 0 && rec.seq <= durable)
			pos += JNL_HDR_SIZE + rec.dlen;
		jnl_iter_close(it);
	}
	char seg[600];
	seg_name(t, first[k], seg, sizeof(seg));
	free(first);
	uint64_t size = (uint64_t)file_size(seg);
	if (pos == 0 && k > 0 && (r & 1)) {
		assert_int_equal(unlink(seg), 0);
		return size;
	}
	uint64_t cut = pos + (r >> 1) % (size - pos + 1);
	assert_int_equal(truncate(seg, (off_t)cut), 0);
	return size - cut;
}

static void
test_crash(void **state)
{
	struct tmp t;
	tmp_make(&t);
	uint64_t durable = 0, seed = 0x6a6e6c31u, total_kept = 0;
	struct acks ack = {0};
	for (int trial = 0; trial < CRASH_TRIALS; trial++) {
		int pfd[2];
		assert_int_equal(pipe(pfd), 0);
		uint64_t r = xorshift(&seed);
		int ms = 5 + (int)(r % 120);
		fflush(NULL);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			crash_child(t.dir, pfd[1], r);
		}
		close(pfd[1]);
		crash_drain(pfd[0], &ack, &durable, ms);
		kill(pid, SIGKILL);
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), SIGKILL);
		crash_drain(pfd[0], &ack, &durable, -1); /* what was reported before death */
		close(pfd[0]);
		bool power = trial & 1;
		uint64_t cut = power ? crash_cut(&t, durable, xorshift(&seed)) : 0;

		/* Reopen: a torn tail is cut (after a power cut it may start in an
		 * earlier segment); then every record intact, in order, consecutive, as
		 * acknowledged, and the journal numbers on past every seq it gave. */
		struct jnl *j;
		assert_int_equal(jnl_open(t.dir, NULL, &j), 0);
		struct jnl_iter *it;
		assert_int_equal(jnl_iter_open(t.dir, 0, &it), 0);
		struct jnl_rec rec;
		int rc;
		static uint64_t after[1 << 16];
		uint64_t last = 0, n = 0;
		size_t nafter = 0; /* 4 MiB extents written after the last barrier */
		while ((rc = jnl_iter_next(it, &rec)) > 0) {
			assert_true(rec.seq == last + 1 || rec.seq >= last + GAP); /* or a jump */
			last = rec.seq;
			n++;
			if (rec.flags & JNL_F_FLUSH)
				nafter = 0;
			else
				for (uint64_t e = rec.off >> 22; e <= (rec.off + rec.len - 1) >> 22;
				     e++)
					if (nafter < (sizeof(after) / sizeof(after[0])))
						after[nafter++] = e;
			const struct acked *a = ack_find(&ack, rec.seq);
			if (a) {
				if (rec.flags & JNL_F_FLUSH) {
					assert_int_equal(a->kind, 3);
				} else {
					assert_int_equal(XXH3_64bits(rec.data, rec.dlen), a->dsum);
					assert_int_equal(!!(rec.flags & JNL_F_FUA), a->kind == 2);
				}
			}
		}
		jnl_iter_close(it);
		assert_int_equal(rc, 0);
		/* Every durable record is present; after a plain SIGKILL the page cache
		 * survives, so every acknowledged record must be, durable or not. */
		assert_true(last >= durable);
		if (!power)
			assert_true(ack.reported <= last);
		while (ack.n && ack.v[ack.n - 1].seq > last)
			ack.n--; /* lost to the power cut */
		/* The numbering goes on past every seq given, lost ones included: a lost
		 * record may have been shipped, and a new one must not take its seq. */
		assert_true(jnl_next_seq(j) > ack.reported);
		assert_true(jnl_next_seq(j) >= last + GAP);
		/* Recovery is bounded. */
		assert_true(jnl_durable_seq(j) >= durable);
		uint64_t *ext;
		size_t next;
		assert_int_equal(jnl_recover(j, &ext, &next), 0);
		/* Bounded: the activity log's ring plus what came after the last barrier
		 * (a run between barriers is random: 1 in 16 records is one). */
		assert_true(nafter < (sizeof(after) / sizeof(after[0])));
		assert_true(next <= 127 + nafter);
		for (size_t a = 0; a < nafter; a++) {
			bool found = false;
			for (size_t k = 0; k < next; k++)
				found |= ext[k] == after[a];
			assert_true(found);
		}
		free(ext);
		jnl_abandon(j);
		printf("# trial %d: killed after %d ms%s, %" PRIu64 " bytes cut: %" PRIu64
		       " records, durable through %" PRIu64 ", %zu extents to resync\n",
		       trial, ms, power ? " with power loss" : "", cut, n, durable, next);
		total_kept = n;
	}
	assert_true(total_kept > 0);
	free(ack.v);
	tmp_remove(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),     cmocka_unit_test(test_torn_tail),
	    cmocka_unit_test(test_corrupt_middle), cmocka_unit_test(test_torn_segment),
	    cmocka_unit_test(test_release),        cmocka_unit_test(test_bitmap_mode),
	    cmocka_unit_test(test_recovery),       cmocka_unit_test(test_al_batch),
	    cmocka_unit_test(test_hot_many),       cmocka_unit_test(test_crash),
	    cmocka_unit_test(test_append_many),    cmocka_unit_test(test_al_resize),
	    cmocka_unit_test(test_resume),         cmocka_unit_test(test_resume_reread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
