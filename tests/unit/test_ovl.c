/*
 * test_ovl.c - the drill overlay over a recovery point: a store with two
 * points of a disk captured from temp images (random chunks, zero chunks, a
 * hole, an unaligned tail); reads equal the point everywhere; writes at
 * unaligned offsets crossing blocks and chunks read back while untouched
 * ranges still read the point; zero and trim read back zeroes; the store's
 * files are byte-identical afterwards and the points restore as before; the
 * overlay is gone at close; readers racing a writer always see the point
 * where nothing was written; and the overlay served by a real NBD server on
 * a Unix socket, driven by a raw client.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/lib.h"
#include "repl/nbd.h"
#include "repl/nbd_wire.h"
#include "repl/ovl.h"
#include "repl/store.h"

#define CS      16384u                            /* chunk size: 4 blocks a chunk */
#define NCH     20u                               /* chunks; the last one is short */
#define SIZE    ((uint64_t)(NCH - 1) * CS + 5000) /* not a multiple of the block either */
#define NBLOCKS ((SIZE + OVL_BLOCK - 1) / OVL_BLOCK)
#define DISK    "vm1"

struct fx {
	char *root; /* temp dir: st/ (the store) and work/ (images, overlays, restores) */
	char store[256], work[256];
	struct store *st;
	uint8_t *p1, *p2; /* the two points' bytes */
};

static struct fx F;
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void
fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rng() >> 24);
}

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
wpath(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", F.work, name);
}

/* Writes an image of SIZE bytes from img, leaving the chunks in holes[] unwritten. */
static void
write_image(const char *path, const uint8_t *img, const bool *holes)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)SIZE), 0);
	for (uint32_t i = 0; i < NCH; i++) {
		uint64_t off = (uint64_t)i * CS, len = SIZE - off < CS ? SIZE - off : CS;
		if (!holes[i])
			assert_int_equal(lib_pwrite_all(fd, img + off, len, off), 0);
	}
	close(fd);
}

/* Chunk 3 and 7 zero (written), 12 a hole, 5 half zero, the rest random;
 * point 2: chunk 3 random, 4 zero, 8 and the tail changed. */
static int
group_setup(void **state)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	F.root = lib_xmalloc(strlen(base) + 32);
	sprintf(F.root, "%s/test_ovl.XXXXXX", base);
	if (!mkdtemp(F.root))
		return -1;
	snprintf(F.store, sizeof(F.store), "%s/st", F.root);
	snprintf(F.work, sizeof(F.work), "%s/work", F.root);
	if (mkdir(F.work, 0755) || store_open(F.store, &F.st))
		return -1;
	F.p1 = lib_xmalloc(SIZE);
	F.p2 = lib_xmalloc(SIZE);
	fill_random(F.p1, SIZE);
	memset(F.p1 + 3 * CS, 0, CS);
	memset(F.p1 + 7 * CS, 0, CS);
	memset(F.p1 + 12 * CS, 0, CS);
	memset(F.p1 + 5 * CS, 0, CS / 2);
	bool holes[NCH] = {false};
	holes[12] = true;
	char img[512];
	wpath(img, sizeof(img), "disk.img");
	write_image(img, F.p1, holes);
	uint64_t seq = 0;
	struct store_capture_stats sx;
	if (store_capture(F.st, DISK, img, 1000, STORE_CRASH, CS, &seq, &sx) || seq != 1 ||
	    sx.changed != NCH - 3)
		return -1;
	memcpy(F.p2, F.p1, SIZE);
	fill_random(F.p2 + 3 * CS, CS);
	memset(F.p2 + 4 * CS, 0, CS);
	fill_random(F.p2 + 8 * CS + 100, 50);
	fill_random(F.p2 + SIZE - 10, 10);
	write_image(img, F.p2, holes);
	if (store_capture(F.st, DISK, img, 2000, STORE_APP, CS, &seq, &sx) || seq != 2 ||
	    sx.changed != 4)
		return -1;
	unlink(img);
	*state = &F;
	return 0;
}

static int
group_teardown(void **state)
{
	store_close(F.st);
	nftw(F.root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(F.root);
	free(F.p1);
	free(F.p2);
	return 0;
}

static struct ovl *
open_point(uint64_t seq, const char *name)
{
	char path[512];
	struct ovl *o = NULL;
	wpath(path, sizeof(path), name);
	assert_int_equal(ovl_open(F.st, DISK, seq, path, &o), 0);
	return o;
}

static void
check_read(struct ovl *o, const uint8_t *want, uint64_t off, uint64_t len)
{
	uint8_t *buf = lib_xmalloc(len);
	assert_int_equal(ovl_nbd_ops.pread(o, buf, (uint32_t)len, off), 0);
	assert_memory_equal(buf, want + off, len);
	free(buf);
}

/* A random range within [lo, hi), at most max bytes. */
static void
rand_range(uint64_t lo, uint64_t hi, uint64_t max, uint64_t *off, uint64_t *len)
{
	*off = lo + rng() % (hi - lo);
	uint64_t room = hi - *off;
	*len = 1 + rng() % (room < max ? room : max);
}

/* ---- reads ------------------------------------------------------------------------------ */

static void
t_reads_point(void **state)
{
	struct ovl *o = open_point(1, "reads.ovl");
	uint64_t w = 1, s = 0;
	assert_int_equal(ovl_size(o), SIZE);
	ovl_stats(o, &w, &s);
	assert_int_equal(w, 0);
	assert_int_equal(s, SIZE);
	check_read(o, F.p1, 0, SIZE); /* every chunk at once: zero, hole, data, the tail */
	for (int i = 0; i < 400; i++) {
		uint64_t off, len;
		rand_range(0, SIZE, 3 * CS, &off, &len);
		check_read(o, F.p1, off, len);
	}
	check_read(o, F.p1, SIZE - 1, 1);
	check_read(o, F.p1, SIZE - SIZE % OVL_BLOCK, SIZE % OVL_BLOCK); /* the short last block */
	check_read(o, F.p1, (NCH - 1) * CS - 3, 5000 + 3);              /* across into the tail */
	check_read(o, F.p1, 3 * CS - 1, CS + 2);                        /* a zero chunk's edges */
	uint8_t b[2];
	assert_int_equal(ovl_nbd_ops.pread(o, b, 2, SIZE - 1), -EINVAL);
	assert_int_equal(ovl_nbd_ops.pread(o, b, 1, SIZE), -EINVAL);
	ovl_stats(o, &w, NULL);
	assert_int_equal(w, 0);
	ovl_close(o);

	o = open_point(2, "reads2.ovl"); /* a delta point resolves */
	check_read(o, F.p2, 0, SIZE);
	ovl_close(o);
}

/* ---- writes ----------------------------------------------------------------------------- */

/* Applies a write (data NULL: zeroes) to the overlay and to the model, noting the blocks. */
static void
do_write(struct ovl *o, uint8_t *model, bool *touched, const uint8_t *data, uint64_t off,
         uint64_t len, int how)
{
	if (how == 0)
		assert_int_equal(ovl_nbd_ops.pwrite(o, data, (uint32_t)len, off, rng() % 8 == 0),
		                 0);
	else if (how == 1)
		assert_int_equal(ovl_nbd_ops.zero(o, off, (uint32_t)len, rng() % 2, rng() % 8 == 0),
		                 0);
	else
		assert_int_equal(ovl_nbd_ops.trim(o, off, (uint32_t)len, false), 0);
	if (how == 0)
		memcpy(model + off, data, len);
	else
		memset(model + off, 0, len);
	for (uint64_t b = off / OVL_BLOCK; b * OVL_BLOCK < off + len; b++)
		touched[b] = true;
}

static uint64_t
count_touched(const bool *touched)
{
	uint64_t n = 0;
	for (uint64_t b = 0; b < NBLOCKS; b++)
		n += touched[b];
	return n;
}

static void
t_writes(void **state)
{
	static const struct {
		uint64_t off, len;
	} cases[] = {
	    {0, 1},                                             /* one byte */
	    {OVL_BLOCK - 1, 2},                                 /* across a block boundary */
	    {CS - 100, 300},                                    /* across a chunk boundary */
	    {3 * CS - 1234, 2 * CS + 777},                      /* over a zero chunk, unaligned */
	    {2 * OVL_BLOCK, 2 * OVL_BLOCK},                     /* whole blocks */
	    {12 * CS + 10, 20},                                 /* inside the hole */
	    {SIZE - 1000, 1000},                                /* to the disk's end */
	    {SIZE - SIZE % OVL_BLOCK, SIZE % OVL_BLOCK},        /* exactly the short last block */
	    {(NCH - 1) * CS - OVL_BLOCK - 5, OVL_BLOCK + 5000}, /* into the tail */
	};
	struct ovl *o = open_point(1, "writes.ovl");
	uint8_t *model = lib_xmalloc(SIZE), *data = lib_xmalloc(4 * CS);
	bool *touched = lib_xcalloc(NBLOCKS, sizeof(bool));
	memcpy(model, F.p1, SIZE);
	for (size_t i = 0; i < LIB_ARRAY_LEN(cases); i++) {
		fill_random(data, cases[i].len);
		do_write(o, model, touched, data, cases[i].off, cases[i].len, 0);
		uint64_t lo = cases[i].off > 5000 ? cases[i].off - 5000 : 0,
		         hi = cases[i].off + cases[i].len + 5000;
		check_read(o, model, lo, (hi < SIZE ? hi : SIZE) - lo);
		uint64_t w;
		ovl_stats(o, &w, NULL);
		assert_int_equal(w, count_touched(touched));
	}
	/* untouched ranges still read the point */
	check_read(o, F.p1, 6 * CS, 6 * CS);
	for (int i = 0; i < 300; i++) {
		uint64_t off, len;
		rand_range(0, SIZE, 3 * CS, &off, &len);
		fill_random(data, len);
		do_write(o, model, touched, data, off, len, 0);
		rand_range(0, SIZE, 3 * CS, &off, &len);
		check_read(o, model, off, len);
	}
	check_read(o, model, 0, SIZE);
	uint64_t w;
	ovl_stats(o, &w, NULL);
	assert_int_equal(w, count_touched(touched));
	assert_int_equal(ovl_nbd_ops.flush(o), 0);
	assert_int_equal(ovl_nbd_ops.pwrite(o, data, 2, SIZE - 1, false), -ENOSPC);
	assert_int_equal(ovl_nbd_ops.zero(o, SIZE, 1, true, false), -ENOSPC);
	assert_int_equal(ovl_nbd_ops.trim(o, SIZE - 1, 2, false), -EINVAL);
	check_read(o, model, 0, SIZE);
	ovl_close(o);
	free(model);
	free(data);
	free(touched);
}

static void
t_zero_trim(void **state)
{
	struct ovl *o = open_point(1, "zero.ovl");
	uint8_t *model = lib_xmalloc(SIZE), *data = lib_xmalloc(6 * CS);
	bool *touched = lib_xcalloc(NBLOCKS, sizeof(bool));
	memcpy(model, F.p1, SIZE);
	memset(data, 0xaa, 6 * CS);
	do_write(o, model, touched, data, 0, 6 * CS, 0);
	do_write(o, model, touched, NULL, 100, 5000, 1);           /* written blocks */
	do_write(o, model, touched, NULL, 2 * CS + 3, CS + 10, 1); /* partial blocks both ends */
	do_write(o, model, touched, NULL, 9 * CS - 7, 2 * CS + 13,
	         2);                                                  /* trim of the point's data */
	do_write(o, model, touched, NULL, 14 * CS, 2 * OVL_BLOCK, 1); /* whole untouched blocks */
	do_write(o, model, touched, NULL, SIZE - 10, 10, 2);          /* the tail */
	check_read(o, model, 0, SIZE);
	static const uint8_t zero[3 * CS];
	assert_memory_equal(model + 9 * CS - 7, zero, 2 * CS + 13);
	/* a partial write into a zeroed block keeps the zeroes around it */
	fill_random(data, 3);
	do_write(o, model, touched, data, 9 * CS + 500, 3, 0);
	do_write(o, model, touched, data, 14 * CS + 4000, 3, 0);
	check_read(o, model, 8 * CS, 8 * CS);
	/* everything zero */
	do_write(o, model, touched, NULL, 0, SIZE, rng() % 2 ? 1 : 2);
	uint8_t *buf = lib_xmalloc(SIZE);
	assert_int_equal(ovl_nbd_ops.pread(o, buf, (uint32_t)SIZE, 0), 0);
	for (uint64_t i = 0; i < SIZE; i++)
		assert_int_equal(buf[i], 0);
	uint64_t w;
	ovl_stats(o, &w, NULL);
	assert_int_equal(w, NBLOCKS);
	ovl_close(o);
	free(buf);
	free(model);
	free(data);
	free(touched);
}

/* ---- the store stays as it was ---------------------------------------------------------- */

static struct lib_vec snap_lines; /* char *: "path size hash" */
static size_t snap_skip;

static int
snap_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	if (flag != FTW_F)
		return 0;
	char *data;
	size_t n;
	if (lib_read_file(path, &data, &n))
		return -1;
	struct lib_buf b = {0};
	lib_buf_printf(&b, "%s %zu %016llx %o", path + snap_skip, n,
	               (unsigned long long)lib_hash(data, n), (unsigned)sb->st_mode);
	free(data);
	*(char **)lib_vec_push(&snap_lines) = b.s;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file of the store: path, size, content hash and mode, sorted, one a line (heap). */
static char *
snapshot(void)
{
	lib_vec_init(&snap_lines, sizeof(char *));
	snap_skip = strlen(F.store);
	assert_int_equal(nftw(F.store, snap_cb, 16, FTW_PHYS), 0);
	char **v = snap_lines.v;
	qsort(v, snap_lines.n, sizeof(*v), cmp_str);
	struct lib_buf b = {0};
	for (uint32_t i = 0; i < snap_lines.n; i++) {
		lib_buf_printf(&b, "%s\n", v[i]);
		free(v[i]);
	}
	assert_true(snap_lines.n >= 2 + 2); /* a pack, its index and two manifests at least */
	lib_vec_free(&snap_lines);
	return b.s;
}

static void
check_restore(uint64_t seq, const uint8_t *want)
{
	char path[512];
	wpath(path, sizeof(path), "restore.img");
	unlink(path);
	assert_int_equal(store_restore(F.st, DISK, seq, path), 0);
	char *got;
	size_t n;
	assert_int_equal(lib_read_file(path, &got, &n), 0);
	assert_int_equal(n, SIZE);
	assert_memory_equal(got, want, SIZE);
	free(got);
	unlink(path);
}

static void
t_store_untouched(void **state)
{
	char *before = snapshot(), path[512];
	wpath(path, sizeof(path), "untouched.ovl");
	struct ovl *o = open_point(1, "untouched.ovl");
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, SIZE);
	assert_true(sb.st_blocks * 512 < (blkcnt_t)OVL_BLOCK * 2); /* sparse */
	/* the path is taken: refused, and the overlay in use is not touched */
	struct ovl *o2 = NULL;
	assert_int_equal(ovl_open(F.st, DISK, 1, path, &o2), -EEXIST);
	assert_null(o2);
	assert_int_equal(access(path, F_OK), 0);

	uint8_t *data = lib_xmalloc(2 * CS);
	for (int i = 0; i < 200; i++) {
		uint64_t off, len;
		rand_range(0, SIZE, 2 * CS, &off, &len);
		fill_random(data, len);
		if (i % 10 == 3)
			assert_int_equal(ovl_nbd_ops.zero(o, off, (uint32_t)len, i % 2, false), 0);
		else if (i % 10 == 7)
			assert_int_equal(ovl_nbd_ops.trim(o, off, (uint32_t)len, true), 0);
		else
			assert_int_equal(
			    ovl_nbd_ops.pwrite(o, data, (uint32_t)len, off, i % 5 == 0), 0);
	}
	assert_int_equal(ovl_nbd_ops.flush(o), 0);
	ovl_nbd_ops.close(o); /* as nbd_server_free does */
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(errno, ENOENT);

	char *after = snapshot();
	assert_string_equal(before, after);
	check_restore(1, F.p1);
	check_restore(2, F.p2);
	free(after);
	after = snapshot();
	assert_string_equal(before, after);

	/* no such point, or a bad disk name: an error and no overlay */
	assert_true(ovl_open(F.st, DISK, 9, path, &o2) < 0);
	assert_true(ovl_open(F.st, "nope", 1, path, &o2) < 0);
	assert_int_equal(ovl_open(F.st, "../x", 1, path, &o2), -EINVAL);
	assert_int_equal(access(path, F_OK), -1);
	wpath(path, sizeof(path), "no/such/dir.ovl");
	assert_int_equal(ovl_open(F.st, DISK, 1, path, &o2), -ENOENT);
	ovl_close(NULL);
	free(data);
	free(before);
	free(after);
}

/* ---- a writer and readers at once ------------------------------------------------------- */

#define WREGION (10u * CS) /* the writer's range; the readers check the rest */

struct race {
	struct ovl *o;
	const uint8_t *after; /* when each block is written once: the image after the writes */
	atomic_bool done;
	atomic_int bad;
	atomic_long reads;
};

struct reader_arg {
	struct race *r;
	unsigned seed;
};

/* Whole blocks [off, off + len) read while the writer runs: past WREGION the
 * point's; below it, when r->after is known, the point's or the written one,
 * never anything else (a block is read entirely from one side). */
static bool
blocks_ok(const struct race *r, const uint8_t *buf, uint64_t off, uint64_t len)
{
	for (uint64_t o = off; o < off + len; o += OVL_BLOCK) {
		uint64_t n = off + len - o < OVL_BLOCK ? off + len - o : OVL_BLOCK;
		const uint8_t *got = buf + (o - off);
		bool point = memcmp(got, F.p1 + o, n) == 0;
		if (o >= WREGION ? !point : r->after && !point && memcmp(got, r->after + o, n))
			return false;
	}
	return true;
}

static void *
reader(void *arg)
{
	struct reader_arg *ra = arg;
	struct race *r = ra->r;
	uint8_t *buf = lib_xmalloc(3 * CS);
	unsigned seed = ra->seed;
	while (!atomic_load(&r->done)) {
		/* unaligned, in the range nobody writes */
		uint64_t off = WREGION + rand_r(&seed) % (SIZE - WREGION);
		uint64_t room = SIZE - off,
		         len = 1 + rand_r(&seed) % (room < 2 * CS ? room : 2 * CS);
		if (ovl_nbd_ops.pread(r->o, buf, (uint32_t)len, off) ||
		    memcmp(buf, F.p1 + off, len))
			atomic_fetch_add(&r->bad, 1);
		/* whole blocks anywhere, written or not */
		off = rand_r(&seed) % NBLOCKS * OVL_BLOCK;
		room = SIZE - off;
		len = (1 + rand_r(&seed) % 12) * OVL_BLOCK;
		if (len > room)
			len = room;
		if (ovl_nbd_ops.pread(r->o, buf, (uint32_t)len, off) ||
		    !blocks_ok(r, buf, off, len))
			atomic_fetch_add(&r->bad, 1);
		atomic_fetch_add(&r->reads, 1);
	}
	free(buf);
	return NULL;
}

static void
race_start(struct race *r, pthread_t *th, struct reader_arg *ra)
{
	atomic_store(&r->done, false);
	long before = atomic_load(&r->reads);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, &ra[i]), 0);
	while (atomic_load(&r->reads) == before) /* the readers are running */
		sched_yield();
}

static void
race_stop(struct race *r, pthread_t *th)
{
	atomic_store(&r->done, true);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(atomic_load(&r->bad), 0);
}

struct plan_write {
	uint64_t off, len;
	int how; /* 0 write, 1 zero */
};

static void
t_concurrent(void **state)
{
	struct race r = {.o = open_point(1, "race.ovl")};
	atomic_init(&r.done, false);
	atomic_init(&r.bad, 0);
	atomic_init(&r.reads, 0);
	uint8_t *model = lib_xmalloc(SIZE), *data = lib_xmalloc(SIZE);
	bool *touched = lib_xcalloc(NBLOCKS, sizeof(bool));
	memcpy(model, F.p1, SIZE);
	pthread_t th[2];
	struct reader_arg ra[2] = {{&r, 77}, {&r, 78}};

	/* overlapping unaligned writes and zeroes in the writer's range */
	race_start(&r, th, ra);
	for (int i = 0; i < 1500; i++) {
		uint64_t off, len;
		rand_range(0, WREGION, 2 * CS, &off, &len);
		fill_random(data, len);
		do_write(r.o, model, touched, i % 9 == 4 ? NULL : data, off, len,
		         i % 9 == 4 ? 1 : 0);
		if (i % 8 == 0)
			sched_yield();
	}
	race_stop(&r, th);
	check_read(r.o, model, 0, SIZE);
	check_read(r.o, F.p1, WREGION, SIZE - WREGION);
	ovl_close(r.o);

	/* rounds over fresh overlays in which every block of the writer's range is
	 * written once (runs of whole blocks, zeroes, or part of a block), in a
	 * random order: a reader sees each block as the point's or as written */
	struct plan_write plan[WREGION / OVL_BLOCK];
	for (int round = 0; round < 40; round++) {
		size_t np = 0;
		memcpy(model, F.p1, SIZE);
		fill_random(data, SIZE);
		for (uint64_t b = 0; b < WREGION / OVL_BLOCK;) {
			uint64_t k = 1 + rng() % 3, left = WREGION / OVL_BLOCK - b;
			struct plan_write *w = &plan[np++];
			if (k > left)
				k = left;
			w->off = b * OVL_BLOCK, w->len = k * OVL_BLOCK, w->how = rng() % 6 == 0;
			if (rng() % 3 == 0) { /* part of one block */
				k = 1;
				w->off += 1 + rng() % (OVL_BLOCK - 2);
				w->len = 1 + rng() % ((b + 1) * OVL_BLOCK - w->off - 1);
			}
			if (w->how)
				memset(model + w->off, 0, w->len);
			else
				memcpy(model + w->off, data + w->off, w->len);
			b += k;
		}
		for (size_t i = np; i > 1; i--) { /* shuffle */
			size_t j = rng() % i;
			struct plan_write t = plan[i - 1];
			plan[i - 1] = plan[j], plan[j] = t;
		}
		char name[32];
		snprintf(name, sizeof(name), "race%d.ovl", round);
		r.o = open_point(1, name);
		r.after = model;
		race_start(&r, th, ra);
		for (size_t i = 0; i < np; i++) {
			if (plan[i].how)
				assert_int_equal(ovl_nbd_ops.zero(r.o, plan[i].off,
				                                  (uint32_t)plan[i].len, true,
				                                  false),
				                 0);
			else
				assert_int_equal(ovl_nbd_ops.pwrite(r.o, data + plan[i].off,
				                                    (uint32_t)plan[i].len,
				                                    plan[i].off, false),
				                 0);
			sched_yield();
		}
		race_stop(&r, th);
		check_read(r.o, model, 0, SIZE);
		r.after = NULL;
		ovl_close(r.o);
	}
	assert_true(atomic_load(&r.reads) >= 80);
	free(model);
	free(data);
	free(touched);
}

/* ---- served by a real NBD server -------------------------------------------------------- */

static void
xwrite(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		assert_true(w > 0);
		b += w, n -= (size_t)w;
	}
}

static void
xread(int fd, void *p, size_t n)
{
	uint8_t *b = p;
	while (n > 0) {
		ssize_t r = read(fd, b, n);
		assert_true(r > 0);
		b += r, n -= (size_t)r;
	}
}

static uint64_t
get_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Sends a request (with its payload for WRITE) and returns the reply's error;
 * a READ's data goes to rbuf. */
static uint32_t
request(int fd, uint16_t flags, uint16_t type, uint64_t off, uint32_t len, const void *wdata,
        void *rbuf)
{
	static uint64_t cookie = 1;
	uint8_t h[NBD_REQ_HDR_LEN], r[NBD_SIMPLE_REPLY_LEN];
	nbd_put_be(h, NBD_REQUEST_MAGIC, 4);
	nbd_put_be(h + 4, flags, 2);
	nbd_put_be(h + 6, type, 2);
	nbd_put_be(h + 8, ++cookie, 8);
	nbd_put_be(h + 16, off, 8);
	nbd_put_be(h + 24, len, 4);
	xwrite(fd, h, sizeof(h));
	if (wdata)
		xwrite(fd, wdata, len);
	xread(fd, r, sizeof(r));
	assert_int_equal(get_be(r, 4), NBD_SIMPLE_REPLY_MAGIC);
	assert_int_equal(get_be(r + 8, 8), cookie);
	uint32_t err = (uint32_t)get_be(r + 4, 4);
	if (err == 0 && rbuf)
		xread(fd, rbuf, len);
	return err;
}

/* Connects and negotiates the export with NBD_OPT_GO; returns the socket. */
static int
nbd_connect(const char *sock, uint64_t *size, uint16_t *tflags)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {10, 0};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	uint8_t g[NBD_GREETING_LEN], b[64];
	xread(fd, g, sizeof(g));
	assert_true(get_be(g, 8) == NBD_MAGIC && get_be(g + 8, 8) == NBD_IHAVEOPT);
	nbd_put_be(b, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES, 4);
	xwrite(fd, b, 4);
	uint32_t nl = (uint32_t)strlen(DISK), dl = 4 + nl + 2;
	nbd_put_be(b, NBD_IHAVEOPT, 8);
	nbd_put_be(b + 8, NBD_OPT_GO, 4);
	nbd_put_be(b + 12, dl, 4);
	nbd_put_be(b + 16, nl, 4);
	memcpy(b + 20, DISK, nl);
	nbd_put_be(b + 20 + nl, 0, 2);
	xwrite(fd, b, NBD_OPT_HDR_LEN + dl);
	/* REP_INFO (NBD_INFO_EXPORT: size, flags), then ACK */
	xread(fd, b, NBD_REP_HDR_LEN);
	assert_int_equal(get_be(b + 12, 4), NBD_REP_INFO);
	assert_int_equal(get_be(b + 16, 4), 12);
	xread(fd, b + NBD_REP_HDR_LEN, 12);
	assert_int_equal(get_be(b + NBD_REP_HDR_LEN, 2), NBD_INFO_EXPORT);
	*size = get_be(b + NBD_REP_HDR_LEN + 2, 8);
	*tflags = (uint16_t)get_be(b + NBD_REP_HDR_LEN + 10, 2);
	xread(fd, b, NBD_REP_HDR_LEN);
	assert_int_equal(get_be(b + 12, 4), NBD_REP_ACK);
	assert_int_equal(get_be(b + 16, 4), 0);
	return fd;
}

static void *
run_server(void *arg)
{
	nbd_server_run(arg);
	return NULL;
}

static void
t_nbd(void **state)
{
	char sock[512], path[512];
	wpath(sock, sizeof(sock), "nbd.sock");
	wpath(path, sizeof(path), "nbd.ovl");
	struct nbd_server *s;
	assert_int_equal(nbd_server_new(NULL, NULL, &s), 0);
	struct ovl *o = open_point(1, "nbd.ovl");
	assert_int_equal(nbd_server_add_backend(s, DISK, ovl_size(o), false, &ovl_nbd_ops, o), 0);
	assert_int_equal(nbd_server_listen_unix(s, sock), 0);
	pthread_t tid;
	assert_int_equal(pthread_create(&tid, NULL, run_server, s), 0);

	uint64_t size;
	uint16_t tf;
	int fd = nbd_connect(sock, &size, &tf);
	assert_int_equal(size, SIZE);
	assert_true(tf & NBD_FLAG_SEND_WRITE_ZEROES);
	assert_false(tf & NBD_FLAG_READ_ONLY);
	uint8_t *model = lib_xmalloc(SIZE), *buf = lib_xmalloc(SIZE), data[10000];
	memcpy(model, F.p1, SIZE);
	for (uint64_t off = 0; off < SIZE; off += 65536) { /* the whole point, read by pieces */
		uint32_t n = SIZE - off < 65536 ? (uint32_t)(SIZE - off) : 65536;
		assert_int_equal(request(fd, 0, NBD_CMD_READ, off, n, NULL, buf + off), 0);
	}
	assert_memory_equal(buf, F.p1, SIZE);
	fill_random(data, sizeof(data));
	assert_int_equal(request(fd, 0, NBD_CMD_WRITE, 12345, sizeof(data), data, NULL), 0);
	memcpy(model + 12345, data, sizeof(data));
	assert_int_equal(
	    request(fd, NBD_CMD_FLAG_FUA, NBD_CMD_WRITE, SIZE - 7, 7, data + 100, NULL), 0);
	memcpy(model + SIZE - 7, data + 100, 7);
	assert_int_equal(request(fd, 0, NBD_CMD_WRITE_ZEROES, 50001, 3000, NULL, NULL), 0);
	memset(model + 50001, 0, 3000);
	assert_int_equal(request(fd, 0, NBD_CMD_TRIM, 9 * CS + 1, CS, NULL, NULL), 0);
	memset(model + 9 * CS + 1, 0, CS);
	assert_int_equal(request(fd, 0, NBD_CMD_FLUSH, 0, 0, NULL, NULL), 0);
	assert_int_equal(request(fd, 0, NBD_CMD_READ, 0, (uint32_t)SIZE, NULL, buf), 0);
	assert_memory_equal(buf, model, SIZE);
	assert_int_equal(request(fd, 0, NBD_CMD_WRITE, SIZE - 1, 2, data, NULL), NBD_ENOSPC);
	/* a second connection sees the first one's writes */
	int fd2 = nbd_connect(sock, &size, &tf);
	assert_int_equal(request(fd2, 0, NBD_CMD_READ, 12000, 1000, NULL, buf), 0);
	assert_memory_equal(buf, model + 12000, 1000);
	close(fd2);
	request(fd, 0, NBD_CMD_READ, 0, 1, NULL, buf); /* still served */
	uint8_t h[NBD_REQ_HDR_LEN] = {0};
	nbd_put_be(h, NBD_REQUEST_MAGIC, 4);
	nbd_put_be(h + 6, NBD_CMD_DISC, 2);
	xwrite(fd, h, sizeof(h));
	close(fd);

	nbd_server_stop(s);
	pthread_join(tid, NULL);
	assert_int_equal(access(path, F_OK), 0);
	nbd_server_free(s); /* closes the ovl: the overlay is deleted */
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(access(sock, F_OK), -1);
	free(model);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_reads_point), cmocka_unit_test(t_writes),
	    cmocka_unit_test(t_zero_trim),   cmocka_unit_test(t_store_untouched),
	    cmocka_unit_test(t_concurrent),  cmocka_unit_test(t_nbd),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
