/*
 * test_store.c - the replica store: round trips across many points, sparse images, corrupt
 * chunks, Site Recovery's pruning on a 12-day synthetic timeline (expected sets computed here
 * from the rules, independently of store_prune_select), group point atomicity under SIGKILL,
 * and the chunk GC.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/lib.h"
#include "repl/store.h"

#define HOUR 3600
#define DAY  86400

static uint64_t rng_state;

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
rm_tree(const char *dir)
{
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static char *
tmp_dir(void)
{
	/* tmpfs when there is one: fsync there is free, and the timeline has 3,457 points. */
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	char *p = lib_xmalloc(strlen(base) + 32);
	sprintf(p, "%s/test_store.XXXXXX", base);
	assert_non_null(mkdtemp(p));
	return p;
}

/* Restores disk@seq into a temp file and compares it with want (size bytes). */
static void
check_restore(struct store *st, const char *dir, const char *disk, uint64_t seq,
              const uint8_t *want, size_t size)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/restore.img", dir);
	unlink(path);
	assert_int_equal(store_restore(st, disk, seq, path), 0);
	char *got;
	size_t n;
	assert_int_equal(lib_read_file(path, &got, &n), 0);
	assert_int_equal(n, size);
	assert_memory_equal(got, want, size);
	free(got);
	unlink(path);
}

static int
count_cb(void *arg, const char *name)
{
	(*(size_t *)arg)++;
	return 0;
}

static size_t
count_objects(struct store *st, const char *prefix)
{
	void *be;
	const struct store_ops *ops = store_ops_of(st, &be);
	size_t n = 0;
	assert_int_equal(ops->list(be, prefix, count_cb, &n), 0);
	return n;
}

/* Distinct chunks the store holds. */
static size_t
count_chunks(struct store *st)
{
	uint64_t chunks, packs;
	assert_int_equal(store_packs_count(store_packs_of(st), &chunks, &packs), 0);
	return (size_t)chunks;
}

/* ---- round trip -------------------------------------------------------------------------- */

#define RT_CS   16384u
#define RT_NCH  38
#define RT_SIZE ((size_t)(RT_NCH - 1) * RT_CS + 5000)
/* Bytes of the store's pack files. */
static uint64_t
pack_bytes(const char *dir)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/packs", dir);
	DIR *d = opendir(path);
	assert_non_null(d);
	uint64_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		struct stat sb;
		char f[1024];
		snprintf(f, sizeof(f), "%s/%s", path, de->d_name);
		if (l > 5 && !strcmp(de->d_name + l - 5, ".pack") && stat(f, &sb) == 0)
			n += (uint64_t)sb.st_size;
	}
	closedir(d);
	return n;
}

/* Chunks that do not compress (random bytes) are stored as raw zstd blocks, not put
 * through the compressor: the packs hold them at their size plus a few bytes, a
 * compressible chunk still shrinks, and both restore exactly. */
static void
test_incompressible(void **state)
{
	enum { CS = 256u << 10, N = 4 };
	char *dir = tmp_dir();
	struct store *st;
	assert_int_equal(store_open(dir, &st), 0);
	uint8_t *img = malloc((size_t)N * CS);
	assert_non_null(img);
	rng_state = 0x5eed;
	fill_random(img, CS);           /* 0: random */
	for (size_t i = 0; i < CS; i++) /* 1: text */
		img[CS + i] = (uint8_t)("the quick brown fox jumps over the lazy dog "[i % 44]);
	fill_random(img + 2 * CS, CS);          /* 2: random, another */
	memcpy(img + 3 * CS, img + CS, CS / 2); /* 3: text then random */
	fill_random(img + 3 * CS + CS / 2, CS / 2);
	struct store_chunk ch[N];
	for (int i = 0; i < N; i++)
		ch[i] = (struct store_chunk){.index = (uint64_t)i, .data = img + (size_t)i * CS};
	struct store_write w = {.disk = "enc1",
	                        .disk_size = (uint64_t)N * CS,
	                        .chunk_size = CS,
	                        .time = 1000,
	                        .kind = STORE_CRASH,
	                        .chunks = ch,
	                        .nchunks = N};
	uint64_t seq;
	assert_int_equal(store_write_point(st, &w, &seq), 0);
	uint64_t packs = pack_bytes(dir);
	/* two random chunks whole, chunk 3's random half at least, the text next to nothing */
	assert_true(packs >= 2ull * CS + CS / 2);
	assert_true(packs < 3ull * CS + 4096);
	check_restore(st, dir, "enc1", seq, img, (size_t)N * CS);
	store_close(st);
	assert_int_equal(store_open(dir, &st), 0);
	check_restore(st, dir, "enc1", seq, img, (size_t)N * CS);
	store_close(st);
	free(img);
	rm_tree(dir);
	free(dir);
}

#define RT_POINTS 50

static void
test_roundtrip(void **state)
{
	char *dir = tmp_dir();
	struct store *st;
	assert_int_equal(store_open(dir, &st), 0);
	store_set_checkpoint(st, 8);
	rng_state = 0x1234567;
	uint8_t *img = calloc(RT_POINTS, RT_SIZE);
	uint8_t cur[RT_SIZE];
	memset(cur, 0, sizeof(cur));
	struct store_chunk ch[RT_NCH];
	for (int p = 0; p < RT_POINTS; p++) {
		size_t n = 0;
		size_t k = p == 0 ? RT_NCH : 1 + rng() % 6;
		for (size_t j = 0; j < k; j++) {
			uint64_t idx = p == 0 ? j : rng() % RT_NCH;
			size_t len = idx == RT_NCH - 1 ? RT_SIZE - idx * RT_CS : RT_CS;
			uint8_t *c = cur + idx * RT_CS;
			unsigned what = (unsigned)(rng() % 8);
			if (what == 0)
				memset(c, 0, len); /* becomes zero */
			else if (what == 1 && idx != RT_NCH - 1 && idx > 0)
				memcpy(c, cur, len); /* a duplicate of chunk 0 */
			else
				fill_random(c, len);
			ch[n].index = idx;
			ch[n++].data = c;
		}
		memcpy(img + (size_t)p * RT_SIZE, cur, RT_SIZE);
		struct store_write w = {.disk = "web1-os",
		                        .disk_size = RT_SIZE,
		                        .chunk_size = RT_CS,
		                        .time = 1000 + p * 300,
		                        .kind = p % 10 == 0 ? STORE_APP : STORE_CRASH,
		                        .jseq = 100u + (uint64_t)p,
		                        .chunks = ch,
		                        .nchunks = n};
		uint64_t seq = 0;
		assert_int_equal(store_write_point(st, &w, &seq), 0);
		assert_int_equal(seq, (uint64_t)p + 1);
	}
	struct store_point *pts;
	size_t np;
	assert_int_equal(store_list_points(st, "web1-os", &pts, &np), 0);
	assert_int_equal(np, RT_POINTS);
	for (size_t i = 0; i < np; i++) {
		assert_int_equal(pts[i].seq, i + 1);
		assert_int_equal(pts[i].full, i % 8 == 0);
		assert_int_equal(pts[i].time, 1000 + (int64_t)i * 300);
		assert_int_equal(pts[i].jseq, 100 + i);
		assert_int_equal(pts[i].kind, i % 10 == 0 ? STORE_APP : STORE_CRASH);
		assert_int_equal(pts[i].chunk_size, RT_CS);
	}
	free(pts);
	for (int p = 0; p < RT_POINTS; p++)
		check_restore(st, dir, "web1-os", (uint64_t)p + 1, img + (size_t)p * RT_SIZE,
		              RT_SIZE);
	/* A reopened store reads the same. */
	store_close(st);
	assert_int_equal(store_open(dir, &st), 0);
	check_restore(st, dir, "web1-os", 37, img + 36 * RT_SIZE, RT_SIZE);

	/* Rejected writes. */
	struct store_chunk bad = {.index = RT_NCH, .data = cur};
	struct store_write w = {.disk = "web1-os",
	                        .disk_size = RT_SIZE,
	                        .chunk_size = RT_CS,
	                        .chunks = &bad,
	                        .nchunks = 1};
	assert_int_equal(store_write_point(st, &w, NULL), -EINVAL);
	bad.index = 0;
	w.chunk_size = 2 * RT_CS;
	assert_int_equal(store_write_point(st, &w, NULL), -EINVAL);
	w.chunk_size = RT_CS;
	w.disk = "../etc";
	assert_int_equal(store_write_point(st, &w, NULL), -EINVAL);
	w.disk = "a.tmp1";
	assert_int_equal(store_write_point(st, &w, NULL), -EINVAL);
	assert_int_equal(store_restore(st, "web1-os", 99, "/dev/null"), -ENOENT);

	/* The map API reads single chunks. */
	struct store_map *m;
	assert_int_equal(store_map_open(st, "web1-os", RT_POINTS, &m), 0);
	assert_int_equal(store_map_nchunks(m), RT_NCH);
	assert_int_equal(store_map_chunk_len(m, RT_NCH - 1), 5000);
	uint8_t buf[RT_CS];
	const uint8_t *last = img + (size_t)(RT_POINTS - 1) * RT_SIZE;
	assert_int_equal(store_map_read(m, RT_NCH - 1, buf), 0);
	assert_memory_equal(buf, last + (RT_NCH - 1) * RT_CS, 5000);
	assert_int_equal(store_map_read(m, RT_NCH, buf), -EINVAL);
	store_map_close(m);

	store_close(st);
	free(img);
	rm_tree(dir);
	free(dir);
}

/* ---- sparse ---------------------------------------------------------------------------- */

static void
test_sparse(void **state)
{
	char *dir = tmp_dir();
	struct store *st;
	assert_int_equal(store_open(dir, &st), 0);
	const uint64_t size = 64ull << 20, cs = 1u << 20;
	uint8_t *a = malloc(cs), *b = malloc(cs), *zero = calloc(1, cs);
	rng_state = 99;
	fill_random(a, cs);
	fill_random(b, cs);
	struct store_chunk ch[3] = {{5, a}, {40, b}, {41, zero}};
	struct store_write w = {
	    .disk = "db", .disk_size = size, .time = 1, .chunks = ch, .nchunks = 3};
	uint64_t seq;
	assert_int_equal(store_write_point(st, &w, &seq), 0);
	struct store_point p;
	assert_int_equal(store_point_info(st, "db", seq, &p), 0);
	assert_true(p.full);
	assert_int_equal(p.nentries, 2); /* zero chunks omitted */
	assert_int_equal(p.chunk_size, STORE_CHUNK_DEFAULT);
	assert_int_equal(count_chunks(st), 2);
	assert_int_equal(count_objects(st, "packs/"), 2); /* one pack and its index */

	char path[512];
	snprintf(path, sizeof(path), "%s/img", dir);
	assert_int_equal(store_restore(st, "db", seq, path), 0);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, size);
	assert_true((uint64_t)sb.st_blocks * 512 <= 4 * cs); /* holes for the zero chunks */
	char *got;
	size_t n;
	assert_int_equal(lib_read_file(path, &got, &n), 0);
	assert_memory_equal(got + 5 * cs, a, cs);
	assert_memory_equal(got + 40 * cs, b, cs);
	assert_memory_equal(got, zero, cs);
	assert_memory_equal(got + 63 * cs, zero, cs);
	free(got);

	/* A delta turning chunk 5 to zeros records a zero entry; restoring over a stale file
	 * leaves no old data behind. */
	struct store_chunk z = {5, zero};
	w.chunks = &z;
	w.nchunks = 1;
	w.time = 2;
	assert_int_equal(store_write_point(st, &w, &seq), 0);
	assert_int_equal(store_point_info(st, "db", seq, &p), 0);
	assert_false(p.full);
	assert_int_equal(p.nentries, 1);
	assert_int_equal(store_restore(st, "db", seq, path), 0);
	assert_int_equal(lib_read_file(path, &got, &n), 0);
	assert_int_equal(n, size);
	assert_memory_equal(got + 5 * cs, zero, cs);
	assert_memory_equal(got + 40 * cs, b, cs);
	free(got);
	store_close(st);
	free(a);
	free(b);
	free(zero);
	rm_tree(dir);
	free(dir);
}

/* ---- corruption ------------------------------------------------------------------------ */

static int
pack_cb(void *arg, const char *name)
{
	size_t n = strlen(name);
	if (n < 5 || strcmp(name + n - 5, ".pack"))
		return 0;
	snprintf(arg, 256, "%s", name);
	return 1;
}

static void
flip_byte(const char *path, off_t off)
{
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	uint8_t c;
	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

static void
test_corrupt(void **state)
{
	char *dir = tmp_dir();
	struct store *st;
	assert_int_equal(store_open(dir, &st), 0);
	const uint32_t cs = 8192;
	uint8_t data[8192];
	rng_state = 7;
	fill_random(data, sizeof(data));
	struct store_chunk ch = {1, data};
	struct store_write w = {
	    .disk = "d", .disk_size = 4 * cs, .chunk_size = cs, .chunks = &ch, .nchunks = 1};
	uint64_t seq;
	assert_int_equal(store_write_point(st, &w, &seq), 0);
	char img[512], name[256] = "", path[600];
	snprintf(img, sizeof(img), "%s/img", dir);
	assert_int_equal(store_restore(st, "d", seq, img), 0);

	void *be;
	const struct store_ops *ops = store_ops_of(st, &be);
	assert_int_equal(ops->list(be, "packs/", pack_cb, name), 1);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	flip_byte(path, sb.st_size / 2); /* inside the stored block */
	assert_int_equal(store_restore(st, "d", seq, img), -EBADMSG);
	struct store_map *m;
	uint8_t buf[8192];
	assert_int_equal(store_map_open(st, "d", seq, &m), 0);
	assert_int_equal(store_map_read(m, 1, buf), -EBADMSG);
	assert_int_equal(store_map_read(m, 0, buf), 0); /* zero chunks need no object */
	store_map_close(m);
	flip_byte(path, sb.st_size / 2);
	assert_int_equal(store_restore(st, "d", seq, img), 0);
	assert_int_equal(truncate(path, sb.st_size - 3), 0);
	assert_int_equal(store_restore(st, "d", seq, img), -EBADMSG);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(store_restore(st, "d", seq, img), -EBADMSG);

	/* A damaged manifest is refused too. */
	char man[600];
	snprintf(man, sizeof(man), "%s/disks/d/p%016llx", dir, (unsigned long long)seq);
	flip_byte(man, 20);
	assert_int_equal(store_restore(st, "d", seq, img), -EBADMSG);
	struct store_point *pts;
	size_t n;
	assert_int_equal(store_list_points(st, "d", &pts, &n), -EBADMSG);
	store_close(st);
	rm_tree(dir);
	free(dir);
}

/* ---- pruning --------------------------------------------------------------------------- */

#define PR_CS   4096u
#define PR_NCH  4
#define PR_STEP 300
#define PR_N    (12 * 288 + 1) /* every 5 minutes over 12 days, both ends */
#define PR_T0   ((int64_t)1800000000 / 14400 * 14400)

static void
pr_chunk(int i, uint8_t *c)
{
	memset(c, (uint8_t)(i * 7 + 1), PR_CS);
	memcpy(c, &i, sizeof(i));
}

/* The image at point i (0-based): chunk c last written by the newest j <= i with j%4 == c;
 * points with j%13 == 0 wrote zeros. */
static void
pr_image(int i, uint8_t *img)
{
	memset(img, 0, PR_CS * PR_NCH);
	for (int c = 0; c < PR_NCH; c++) {
		int j = i - ((i - c) % PR_NCH + PR_NCH) % PR_NCH;
		if (j >= 0 && j % 13 != 0)
			pr_chunk(j, img + c * PR_CS);
	}
}

/* The rules, restated for the synthetic timeline (aligned to 4 h, 5-minute steps). */
static bool
pr_expect_n(int i, int npts, int64_t ret)
{
	int64_t t = PR_T0 + (int64_t)i * PR_STEP, newest = PR_T0 + (int64_t)(npts - 1) * PR_STEP;
	int64_t age = newest - t;
	if (i == npts - 1)
		return true;
	if (ret == 0)
		return false;
	if (age <= 2 * HOUR)
		return true;
	if (age > ret)
		return false;
	int64_t every = ret <= DAY       ? HOUR
	                : ret <= 7 * DAY ? 2 * HOUR
	                : age <= 7 * DAY ? 2 * HOUR
	                                 : 4 * HOUR;
	return t % every == 0; /* the first point of each aligned hour / 2 h / 4 h */
}

static bool
pr_expect(int i, int64_t ret)
{
	return pr_expect_n(i, PR_N, ret);
}

static void
pr_write_timeline(const char *dir, int npts)
{
	struct store *st;
	assert_int_equal(store_open(dir, &st), 0);
	uint8_t c[PR_CS];
	for (int i = 0; i < npts; i++) {
		if (i % 13 == 0)
			memset(c, 0, sizeof(c));
		else
			pr_chunk(i, c);
		struct store_chunk ch = {(uint64_t)(i % PR_NCH), c};
		struct store_write w = {.disk = "vm1",
		                        .disk_size = PR_CS * PR_NCH,
		                        .chunk_size = PR_CS,
		                        .time = PR_T0 + (int64_t)i * PR_STEP,
		                        .kind = i % 12 == 0 ? STORE_APP : STORE_CRASH,
		                        .jseq = (uint64_t)i,
		                        .chunks = &ch,
		                        .nchunks = 1};
		assert_int_equal(store_write_point(st, &w, NULL), 0);
	}
	store_close(st);
}

static char *pr_base;

static int
pr_setup(void **state)
{
	pr_base = tmp_dir();
	pr_write_timeline(pr_base, PR_N);
	return 0;
}

static int
pr_teardown(void **state)
{
	rm_tree(pr_base);
	free(pr_base);
	return 0;
}

static char *
copy_store(const char *from)
{
	char *dir = tmp_dir();
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "cp -a '%s/.' '%s/'", from, dir);
	assert_int_equal(system(cmd), 0);
	return dir;
}

/* Every listed point restores to its image; returns how many points are listed. */
static size_t
pr_check_all(struct store *st, const char *dir)
{
	struct store_point *pts;
	size_t n;
	assert_int_equal(store_list_points(st, "vm1", &pts, &n), 0);
	uint8_t want[PR_CS * PR_NCH];
	for (size_t j = 0; j < n; j++) {
		pr_image((int)pts[j].seq - 1, want);
		check_restore(st, dir, "vm1", pts[j].seq, want, sizeof(want));
	}
	free(pts);
	return n;
}

static void
pr_child(const char *dir)
{
	struct store *st;
	if (store_open(dir, &st))
		_exit(2);
	if (store_prune(st, "vm1", DAY) < 0 || store_gc(st) < 0)
		_exit(3);
	store_close(st);
	_exit(0);
}

/* SIGKILL during prune + gc: every listed point still restores, and a second prune ends at
 * the expected set. */
static void
test_prune_crash(void **state)
{
	const int npts = 2 * 288 + 1;
	char *base = tmp_dir();
	pr_write_timeline(base, npts);
	size_t nexp = 0;
	for (int i = 0; i < npts; i++)
		nexp += pr_expect_n(i, npts, DAY);
	/* How long an uninterrupted prune takes, to spread the kills over it. */
	char *dir = copy_store(base);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		pr_child(dir);
	int ws;
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long budget = (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000;
	rm_tree(dir);
	free(dir);
	srand((unsigned)time(NULL) ^ 0x5eed);
	for (int trial = 0; trial < 10; trial++) {
		dir = copy_store(base);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			pr_child(dir);
		usleep((useconds_t)(rand() % (budget + 1)));
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &ws, 0), pid);
		struct store *st;
		assert_int_equal(store_open(dir, &st), 0);
		size_t n = pr_check_all(st, dir);
		assert_true(n >= nexp && n <= (size_t)npts);
		assert_true(store_prune(st, "vm1", DAY) >= 0);
		assert_true(store_gc(st) >= 0);
		assert_int_equal(pr_check_all(st, dir), nexp);
		store_close(st);
		rm_tree(dir);
		free(dir);
	}
	rm_tree(base);
	free(base);
}

static void
prune_case(int64_t ret, size_t want_min, size_t want_max)
{
	char *dir = copy_store(pr_base);
	struct store *st;
	assert_int_equal(store_open(dir, &st), 0);
	size_t nexp = 0;
	for (int i = 0; i < PR_N; i++)
		nexp += pr_expect(i, ret);
	assert_true(nexp >= want_min && nexp <= want_max);
	size_t before = count_chunks(st);
	assert_int_equal(store_prune(st, "vm1", ret), PR_N - (int)nexp);
	struct store_point *pts;
	size_t n;
	assert_int_equal(store_list_points(st, "vm1", &pts, &n), 0);
	assert_int_equal(n, nexp);
	size_t k = 0;
	for (int i = 0; i < PR_N; i++) {
		if (!pr_expect(i, ret))
			continue;
		assert_int_equal(pts[k].seq, (uint64_t)i + 1);
		assert_int_equal(pts[k].time, PR_T0 + (int64_t)i * PR_STEP);
		assert_int_equal(pts[k].kind, i % 12 == 0 ? STORE_APP : STORE_CRASH);
		k++;
	}
	/* No new points: pruning again drops nothing. */
	assert_int_equal(store_prune(st, "vm1", ret), 0);
	int del = store_gc(st);
	assert_true(del >= 0);
	store_close(st); /* count what a fresh open finds */
	assert_int_equal(store_open(dir, &st), 0);
	assert_int_equal(count_chunks(st), before - (size_t)del);
	uint8_t want[PR_CS * PR_NCH];
	for (size_t j = 0; j < n; j++) {
		pr_image((int)pts[j].seq - 1, want);
		check_restore(st, dir, "vm1", pts[j].seq, want, sizeof(want));
	}
	free(pts);
	store_close(st);
	rm_tree(dir);
	free(dir);
}

static void
test_prune_0(void **state)
{
	prune_case(0, 1, 1);
}

static void
test_prune_1d(void **state)
{
	/* 25 points of the last 2 h (age 0..120 min) + one per hour for ages up to 1 day. */
	prune_case(DAY, 24 + 1 + 22, 24 + 1 + 23);
}

static void
test_prune_3d(void **state)
{
	prune_case(3 * DAY, 24 + 1 + 35, 24 + 1 + 36);
}

static void
test_prune_10d(void **state)
{
	prune_case(10 * DAY, 24 + 1 + 83 + 18, 24 + 1 + 83 + 18);
}

static void
test_prune_select_edges(void **state)
{
	/* Nothing but the newest when retention is 0; everything within 2 h otherwise. */
	int64_t t[4] = {0, 3600, 7000, 7200};
	bool keep[4];
	store_prune_select(t, 4, 0, keep);
	assert_false(keep[0] || keep[1] || keep[2]);
	assert_true(keep[3]);
	store_prune_select(t, 4, DAY, keep);
	assert_true(keep[0] && keep[1] && keep[2] && keep[3]);
	store_prune_select(t, 1, DAY, keep);
	assert_true(keep[0]);
}

static void
test_no_new_points(void **state)
{
	char *dir = tmp_dir();
	struct store *st;
	assert_int_equal(store_open(dir, &st), 0);
	store_set_checkpoint(st, 4);
	uint8_t c[PR_CS];
	/* 30 points over the last 115 minutes: nothing to prune, however old they are. */
	for (int i = 0; i < 24; i++) {
		pr_chunk(i, c);
		struct store_chunk ch = {(uint64_t)(i % PR_NCH), c};
		struct store_write w = {.disk = "x",
		                        .disk_size = PR_CS * PR_NCH,
		                        .chunk_size = PR_CS,
		                        .time = 1000 + i * 300,
		                        .chunks = &ch,
		                        .nchunks = 1};
		assert_int_equal(store_write_point(st, &w, NULL), 0);
	}
	assert_int_equal(store_prune(st, "x", DAY), 0);
	assert_int_equal(store_prune(st, "x", HOUR), 0);
	/* A new point 3 days later: the old ones are now beyond a 1-day retention. */
	pr_chunk(24, c);
	struct store_chunk ch = {0, c};
	struct store_write w = {.disk = "x",
	                        .disk_size = PR_CS * PR_NCH,
	                        .chunk_size = PR_CS,
	                        .time = 1000 + 23 * 300 + 3 * DAY,
	                        .chunks = &ch,
	                        .nchunks = 1};
	uint64_t seq;
	assert_int_equal(store_write_point(st, &w, &seq), 0);
	assert_int_equal(store_prune(st, "x", DAY), 24);
	struct store_point *pts;
	size_t n;
	assert_int_equal(store_list_points(st, "x", &pts, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pts[0].seq, seq);
	assert_true(pts[0].full); /* its base chain was pruned: rewritten as a full map */
	free(pts);
	uint8_t want[PR_CS * PR_NCH];
	pr_image(24, want);
	check_restore(st, dir, "x", seq, want, sizeof(want));
	assert_int_equal(store_prune(st, "nope", DAY), 0);
	store_close(st);
	rm_tree(dir);
	free(dir);
}

/* ---- groups: crash atomicity ----------------------------------------------------------- */

#define GR_CS  4096u
#define GR_NCH 8
static const char *const gr_disks[3] = {"app-os", "app-data", "db-data"};

static void
gr_apply(uint64_t g, uint8_t *img, struct store_chunk *ch, size_t *n)
{
	uint64_t save = rng_state;
	rng_state = g * 0x9e3779b97f4a7c15ull + 1;
	size_t k = 1 + rng() % 3;
	if (n)
		*n = k;
	for (size_t i = 0; i < k; i++) {
		uint64_t idx = rng() % GR_NCH;
		fill_random(img + idx * GR_CS, GR_CS);
		if (ch) {
			ch[i].index = idx;
			ch[i].data = img + idx * GR_CS;
		}
	}
	rng_state = save;
}

static _Noreturn void
gr_child(const char *dir)
{
	struct store *st;
	if (store_open(dir, &st))
		_exit(2);
	uint8_t img[GR_CS * GR_NCH];
	memset(img, 0, sizeof(img));
	for (uint64_t g = 1; g < 100000; g++) {
		struct store_chunk ch[3];
		size_t n;
		gr_apply(g, img, ch, &n);
		struct store_member mem[3];
		for (int d = 0; d < 3; d++) {
			struct store_write w = {.disk = gr_disks[d],
			                        .disk_size = sizeof(img),
			                        .chunk_size = GR_CS,
			                        .time = (int64_t)g * 60,
			                        .jseq = g,
			                        .chunks = ch,
			                        .nchunks = n};
			if (store_write_point(st, &w, &mem[d].point))
				_exit(3);
			snprintf(mem[d].disk, sizeof(mem[d].disk), "%s", gr_disks[d]);
		}
		if (store_write_group(st, "grp", mem, 3, (int64_t)g * 60, STORE_CRASH, NULL))
			_exit(4);
	}
	_exit(0);
}

static void
test_group_crash(void **state)
{
	srand((unsigned)time(NULL));
	size_t total = 0;
	for (int trial = 0; trial < 10; trial++) {
		char *dir = tmp_dir();
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			gr_child(dir);
		usleep(20000 + (useconds_t)(rand() % 150000));
		kill(pid, SIGKILL);
		int ws;
		assert_int_equal(waitpid(pid, &ws, 0), pid);
		assert_true(WIFSIGNALED(ws));

		struct store *st;
		assert_int_equal(store_open(dir, &st), 0);
		struct store_group_point *gps = NULL;
		size_t ng = 0;
		assert_int_equal(store_list_groups(st, "grp", &gps, &ng), 0);
		total += ng;
		uint8_t img[GR_CS * GR_NCH];
		memset(img, 0, sizeof(img));
		uint64_t g = 0;
		for (size_t i = 0; i < ng; i++) {
			assert_int_equal(gps[i].seq, i + 1);
			assert_int_equal(gps[i].nmembers, 3);
			while (g < gps[i].seq)
				gr_apply(++g, img, NULL, NULL);
			for (int d = 0; d < 3; d++) {
				assert_string_equal(gps[i].members[d].disk, gr_disks[d]);
				check_restore(st, dir, gr_disks[d], gps[i].members[d].point, img,
				              sizeof(img));
			}
		}
		/* Every listed disk point is complete too (point s holds generation s). */
		for (int d = 0; d < 3; d++) {
			struct store_point *pts;
			size_t n;
			assert_int_equal(store_list_points(st, gr_disks[d], &pts, &n), 0);
			assert_true(n >= ng && n <= ng + 1);
			memset(img, 0, sizeof(img));
			for (size_t i = 0; i < n; i++) {
				gr_apply(i + 1, img, NULL, NULL);
				assert_int_equal(pts[i].seq, i + 1);
				check_restore(st, dir, gr_disks[d], pts[i].seq, img, sizeof(img));
			}
			free(pts);
		}
		assert_true(store_gc(st) >= 0);
		store_groups_free(gps, ng);
		store_close(st);
		rm_tree(dir);
		free(dir);
	}
	assert_true(total > 0);
}

static void
test_group_rules(void **state)
{
	char *dir = tmp_dir();
	struct store *st;
	assert_int_equal(store_open(dir, &st), 0);
	uint8_t c[PR_CS];
	pr_chunk(1, c);
	struct store_chunk ch = {0, c};
	uint64_t s1, s2;
	struct store_write w = {.disk = "a",
	                        .disk_size = PR_CS,
	                        .chunk_size = PR_CS,
	                        .time = 0,
	                        .chunks = &ch,
	                        .nchunks = 1};
	assert_int_equal(store_write_point(st, &w, &s1), 0);
	w.disk = "b";
	assert_int_equal(store_write_point(st, &w, &s2), 0);
	struct store_member m[2] = {{"a", s1}, {"b", 7}};
	assert_int_equal(store_write_group(st, "g", m, 2, 0, STORE_APP, NULL), -ENOENT);
	m[1] = (struct store_member){"a", s1};
	assert_int_equal(store_write_group(st, "g", m, 2, 0, STORE_APP, NULL), -EINVAL);
	m[1] = (struct store_member){"b", s2};
	uint64_t gs;
	assert_int_equal(store_write_group(st, "g", m, 2, 0, STORE_APP, &gs), 0);
	assert_int_equal(gs, 1);
	/* Pruning keeps points a group point names, even with retention 0. */
	for (int i = 1; i <= 3; i++) {
		w.disk = "a";
		w.time = i * DAY;
		assert_int_equal(store_write_point(st, &w, NULL), 0);
	}
	assert_int_equal(store_prune(st, "a", 0), 2);
	struct store_point *pts;
	size_t n;
	assert_int_equal(store_list_points(st, "a", &pts, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pts[0].seq, s1);
	assert_int_equal(pts[1].seq, 4);
	free(pts);
	struct store_group_point *gps;
	size_t ng;
	assert_int_equal(store_list_groups(st, "g", &gps, &ng), 0);
	assert_int_equal(ng, 1);
	assert_int_equal(gps[0].kind, STORE_APP);
	check_restore(st, dir, "a", gps[0].members[0].point, c, PR_CS);
	store_groups_free(gps, ng);
	store_close(st);
	rm_tree(dir);
	free(dir);
}

/* ---- gc ---------------------------------------------------------------------------------- */

/* The pack table directly: 20,000 chunks over 40 packs (a sync after every other pack, so
 * lookups meet indexes still in memory and indexes read back from the backend), the table
 * doubling on the way; every chunk found and read back, through a reload too; two hashes
 * alike in the table's 64 placing bits and 32 matching bits told apart by their index
 * entries (a table trusting its 32 bits would take the second for stored); and the table's
 * memory per chunk. */
#define TB_N     20000
#define TB_PACKS 40

static void
tb_hash(uint8_t *h, uint32_t i)
{
	for (int k = 0; k < STORE_HASH_LEN; k++)
		h[k] = (uint8_t)(i * 2654435761u >> (k % 4 * 8)) ^ (uint8_t)(k * 37 + i);
	lib_put_le32(h + 12, i);
}

static void
tb_check(struct store_packs *pk)
{
	uint8_t h[STORE_HASH_LEN];
	for (uint32_t i = 0; i < TB_N; i++) {
		tb_hash(h, i);
		void *z;
		size_t zn;
		uint32_t len;
		assert_int_equal(store_packs_get(pk, h, &z, &zn, &len), 0);
		assert_int_equal(zn, sizeof(i));
		assert_int_equal(len, i + 1);
		assert_int_equal(lib_get_le32(z), i);
		free(z);
	}
	tb_hash(h, TB_N);
	assert_int_equal(store_packs_has(pk, h), 0);
}

static void
test_pack_table(void **state)
{
	char *dir = tmp_dir();
	const struct store_ops *ops;
	void *be;
	assert_int_equal(store_dir_backend(dir, &ops, &be), 0);
	struct store_packs *pk = store_packs_new(ops, be);
	uint8_t h[STORE_HASH_LEN], z[4];
	for (uint32_t i = 0; i < TB_N; i++) {
		tb_hash(h, i);
		lib_put_le32(z, i);
		assert_int_equal(store_packs_add(pk, h, z, sizeof(z), i + 1), 0);
		if ((i + 1) % (TB_N / TB_PACKS) == 0) {
			assert_int_equal(store_packs_flush(pk), 0);
			if ((i + 1) % (2 * TB_N / TB_PACKS) == 0) {
				assert_int_equal(ops->sync(be), 0);
				store_packs_synced(pk);
			}
		}
	}
	/* The same hashes again: known, nothing staged. */
	for (uint32_t i = 0; i < TB_N; i += 97) {
		tb_hash(h, i);
		assert_int_equal(store_packs_has(pk, h), 1);
		assert_int_equal(store_packs_add(pk, h, "xxxx", 4, 9), 0);
	}
	assert_int_equal(store_packs_flush(pk), 0); /* nothing staged: no pack */
	uint64_t chunks, packs;
	assert_int_equal(store_packs_count(pk, &chunks, &packs), 0);
	assert_int_equal(chunks, TB_N);
	assert_int_equal(packs, TB_PACKS);
	tb_check(pk);
	assert_int_equal(ops->sync(be), 0);
	store_packs_synced(pk);

	/* Alike in the 64 bits that place a slot and the 32 the slot keeps. */
	uint8_t a[STORE_HASH_LEN], b[STORE_HASH_LEN];
	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	b[15] ^= 1;
	assert_int_equal(store_packs_add(pk, a, "aaaa", 4, 1), 0);
	assert_int_equal(store_packs_has(pk, a), 1);
	assert_int_equal(store_packs_has(pk, b), 0);
	assert_int_equal(store_packs_add(pk, b, "bbbb", 4, 2), 0);
	assert_int_equal(store_packs_flush(pk), 0);
	assert_int_equal(ops->sync(be), 0);
	store_packs_synced(pk);
	void *zz;
	size_t zn;
	uint32_t len;
	assert_int_equal(store_packs_get(pk, b, &zz, &zn, &len), 0);
	assert_memory_equal(zz, "bbbb", 4);
	assert_int_equal(len, 2);
	free(zz);

	/* Reloaded from what is stored: sized once for what the indexes hold. */
	store_packs_drop(pk);
	tb_check(pk);
	assert_int_equal(store_packs_get(pk, a, &zz, &zn, &len), 0);
	assert_memory_equal(zz, "aaaa", 4);
	free(zz);
	assert_int_equal(store_packs_count(pk, &chunks, &packs), 0);
	assert_int_equal(chunks, TB_N + 2);
	/* 12-byte slots at most 80% full, after a load at least 40%: 15-30 bytes a chunk
	 * (whole entries took 46-92). */
	uint64_t bytes = store_packs_table_bytes(pk);
	print_message("# table: %llu bytes for %llu chunks (%.1f a chunk)\n",
	              (unsigned long long)bytes, (unsigned long long)chunks,
	              (double)bytes / (double)chunks);
	assert_true(bytes <= 31 * chunks);
	store_packs_free(pk);
	ops->close(be);
	rm_tree(dir);
	free(dir);
}

/* The cache of the disks' newest maps under a budget of one map: three disks captured in
 * turn, each capture drops the others' maps and resolves its own again from the manifests
 * (a full map every third point); every capture still stores just the chunk that changed,
 * and every point restores to its image. */
#define MB_CS  4096u
#define MB_NCH 16u

static void
test_map_budget(void **state)
{
	char *dir = tmp_dir();
	struct store *st;
	assert_int_equal(store_open(dir, &st), 0);
	store_set_checkpoint(st, 3);
	store_set_map_budget(st, MB_NCH * STORE_HASH_LEN);
	static uint8_t img[3][MB_CS * MB_NCH];
	char path[3][512], name[3][8];
	rng_state = 11;
	for (int d = 0; d < 3; d++) {
		fill_random(img[d], sizeof(img[d]));
		snprintf(path[d], sizeof(path[d]), "%s/m%d.img", dir, d);
		snprintf(name[d], sizeof(name[d]), "m%d", d);
		assert_int_equal(lib_write_atomic(path[d], img[d], sizeof(img[d])), 0);
		uint64_t seq;
		assert_int_equal(
		    store_capture(st, name[d], path[d], d, STORE_CRASH, MB_CS, &seq, NULL), 0);
		assert_int_equal(seq, 1);
	}
	assert_int_equal(store_map_cache_bytes(st), MB_NCH * STORE_HASH_LEN);
	for (int round = 1; round <= 7; round++) {
		for (int d = 0; d < 3; d++) {
			size_t blk = rng() % MB_NCH;
			fill_random(img[d] + blk * MB_CS, MB_CS);
			assert_int_equal(lib_write_atomic(path[d], img[d], sizeof(img[d])), 0);
			uint64_t seq;
			struct store_capture_stats cs;
			assert_int_equal(store_capture(st, name[d], path[d], round * 10 + d,
			                               STORE_CRASH, MB_CS, &seq, &cs),
			                 0);
			assert_int_equal(seq, (uint64_t)round + 1);
			assert_int_equal(cs.changed, 1);
			assert_true(store_map_cache_bytes(st) <= MB_NCH * STORE_HASH_LEN);
			check_restore(st, dir, name[d], seq, img[d], sizeof(img[d]));
		}
	}
	/* Unbounded, the three maps stay. */
	store_set_map_budget(st, STORE_MAP_BUDGET);
	for (int d = 0; d < 3; d++) {
		struct store_point p;
		const uint8_t *h;
		assert_int_equal(store_newest(st, name[d], &p, &h), 0);
		assert_int_equal(p.seq, 8);
	}
	assert_int_equal(store_map_cache_bytes(st), 3 * MB_NCH * STORE_HASH_LEN);
	store_close(st);
	rm_tree(dir);
	free(dir);
}

static void
test_gc(void **state)
{
	char *dir = tmp_dir();
	struct store *st;
	assert_int_equal(store_open(dir, &st), 0);
	uint8_t img[PR_CS * PR_NCH];
	rng_state = 5;
	fill_random(img, sizeof(img));
	struct store_chunk ch[PR_NCH];
	for (int i = 0; i < PR_NCH; i++)
		ch[i] = (struct store_chunk){(uint64_t)i, img + i * PR_CS};
	struct store_write w = {.disk = "g1",
	                        .disk_size = sizeof(img),
	                        .chunk_size = PR_CS,
	                        .time = 0,
	                        .chunks = ch,
	                        .nchunks = PR_NCH};
	assert_int_equal(store_write_point(st, &w, NULL), 0);
	for (int p = 1; p <= 3; p++) {
		fill_random(img + PR_CS, PR_CS); /* chunk 1 changes each time */
		w.time = p * DAY;
		w.nchunks = 2;
		assert_int_equal(store_write_point(st, &w, NULL), 0);
	}
	assert_int_equal(count_chunks(st), 4 + 3);
	assert_int_equal(count_objects(st, "packs/"), 2 * 4); /* a pack and an index per point */
	/* An orphan pack (as a crash before its index leaves), an orphan index and a stray
	 * temporary. */
	void *be;
	const struct store_ops *ops = store_ops_of(st, &be);
	assert_int_equal(ops->put_object(be, "packs/00000000000000ab.pack", "x", 1, 0), 0);
	assert_int_equal(ops->put_object(be, "packs/00000000000000cd.idx", "x", 1, 0), 0);
	assert_int_equal(ops->put_object(be, "disks/g1/p0000000000000001.tmpQWERTY", "x", 1, 0), 0);
	assert_int_equal(ops->has_object(be, "packs/00000000000000ab.pack"), 1);
	assert_int_equal(ops->sync(be), 0); /* the batch under its names */
	assert_int_equal(store_gc(st), 3);
	assert_int_equal(count_chunks(st), 7);
	assert_int_equal(count_objects(st, "packs/"), 2 * 4);
	assert_int_equal(store_gc(st), 0);
	/* Retention 0 keeps the newest point only: the older versions of chunk 1 go. The packs
	 * of points 2 and 3 held only those and are deleted; the first pack is 3/4 live and
	 * stays as it is. */
	assert_int_equal(store_prune(st, "g1", 0), 3);
	assert_int_equal(store_gc(st), 2);
	assert_int_equal(count_chunks(st), 5);
	assert_int_equal(count_objects(st, "packs/"), 2 * 2);
	check_restore(st, dir, "g1", 4, img, sizeof(img));
	/* Chunks 0 and 2 change: after pruning, the first pack is 1/4 live and compacted (its
	 * live chunk copied into a new pack, the old pack deleted). */
	fill_random(img, PR_CS);
	fill_random(img + 2 * PR_CS, PR_CS);
	struct store_chunk ch2[2] = {{0, img}, {2, img + 2 * PR_CS}};
	w.chunks = ch2;
	w.time = 5 * DAY;
	assert_int_equal(store_write_point(st, &w, NULL), 0);
	assert_int_equal(store_prune(st, "g1", 0), 1);
	assert_int_equal(store_gc(st), 3);
	assert_int_equal(count_chunks(st), 4);
	assert_int_equal(count_objects(st, "packs/"), 2 * 3);
	check_restore(st, dir, "g1", 5, img, sizeof(img));
	store_close(st);
	assert_int_equal(store_open(dir, &st), 0);
	check_restore(st, dir, "g1", 5, img, sizeof(img));
	store_close(st);
	rm_tree(dir);
	free(dir);
}

/* ---- deltas ------------------------------------------------------------------------------
 *
 * Small writes into a few chunks, 20 points in a row: the changed chunks are stored as their
 * changed 4 KiB blocks against their previous version, so the packs grow by far less than
 * the whole chunks; a chain is cut by a whole chunk every 9 versions; every point restores
 * exactly, also after pruning all but the newest (the bases of its deltas kept by the sweep)
 * and a reopen. A chunk with most of its blocks changed is stored whole. */
#define DT_CS   65536u
#define DT_NCH  12
#define DT_SIZE ((size_t)(DT_NCH - 1) * DT_CS + 5000)
#define DT_PTS  21

static void
test_deltas(void **state)
{
	char *dir = tmp_dir();
	struct store *st;
	assert_int_equal(store_open(dir, &st), 0);
	uint8_t *img[DT_PTS + 1];
	img[1] = lib_xmalloc(DT_SIZE);
	rng_state = 11;
	fill_random(img[1], DT_SIZE);
	struct store_chunk ch[DT_NCH];
	for (int i = 0; i < DT_NCH; i++)
		ch[i] = (struct store_chunk){(uint64_t)i, img[1] + (size_t)i * DT_CS};
	struct store_write w = {.disk = "d1",
	                        .disk_size = DT_SIZE,
	                        .chunk_size = DT_CS,
	                        .chunks = ch,
	                        .nchunks = DT_NCH};
	assert_int_equal(store_write_point(st, &w, NULL), 0);
	uint64_t first = pack_bytes(dir), whole = 0;
	static const int hot[] = {0, 3, 7, DT_NCH - 1};
	for (int p = 2; p <= DT_PTS; p++) {
		img[p] = lib_xmalloc(DT_SIZE);
		memcpy(img[p], img[p - 1], DT_SIZE);
		for (int k = 0; k < 4; k++) {
			size_t base = (size_t)hot[k] * DT_CS,
			       clen = hot[k] == DT_NCH - 1 ? 5000 : DT_CS;
			size_t n = 1 + rng() % 3000, off = rng() % (clen - n);
			fill_random(img[p] + base + off, n);
			ch[k] = (struct store_chunk){(uint64_t)hot[k], img[p] + base};
			whole += clen;
		}
		w.chunks = ch;
		w.nchunks = 4;
		w.time = p;
		assert_int_equal(store_write_point(st, &w, NULL), 0);
	}
	uint64_t grown = pack_bytes(dir) - first;
	/* Random bytes are stored raw: whole chunks would add `whole` bytes. The chains of the
	 * three full-size chunks are cut twice (versions 10 and 19). */
	assert_true(grown * 3 < whole);
	assert_true(grown >= 2 * 3 * (uint64_t)DT_CS);
	for (int p = 1; p <= DT_PTS; p++)
		check_restore(st, dir, "d1", (uint64_t)p, img[p], DT_SIZE);

	/* Most of chunk 5's blocks change: stored whole. */
	uint64_t before = pack_bytes(dir);
	fill_random(img[DT_PTS] + 5 * DT_CS, 9 * 4096);
	ch[0] = (struct store_chunk){5, img[DT_PTS] + 5 * DT_CS};
	w.nchunks = 1;
	w.time = DT_PTS + 1;
	assert_int_equal(store_write_point(st, &w, NULL), 0);
	assert_true(pack_bytes(dir) - before >= DT_CS);

	/* Only the newest point is kept: the chunks it names directly are a few, the rest of
	 * its chains is kept through the deltas. */
	assert_true(store_prune(st, "d1", 0) > 0);
	assert_true(store_gc(st) > 0);
	check_restore(st, dir, "d1", DT_PTS + 1, img[DT_PTS], DT_SIZE);
	store_close(st);
	assert_int_equal(store_open(dir, &st), 0);
	assert_int_equal(store_gc(st), 0);
	check_restore(st, dir, "d1", DT_PTS + 1, img[DT_PTS], DT_SIZE);
	store_close(st);
	for (int p = 1; p <= DT_PTS; p++)
		free(img[p]);
	rm_tree(dir);
	free(dir);
}

/* A disk whose chunks are rewritten whole stops paying for delta tries: at its next point
 * one changed chunk in 16 is tried (the rest stored whole, though a delta would do), and
 * once those tries pay again every chunk is tried. */
static void
test_delta_probe(void **state)
{
	char *dir = tmp_dir();
	struct store *st;
	assert_int_equal(store_open(dir, &st), 0);
	enum { N = 128 };
	uint8_t *img = lib_xmalloc((size_t)N * DT_CS);
	rng_state = 17;
	fill_random(img, (size_t)N * DT_CS);
	struct store_chunk ch[N];
	for (int i = 0; i < N; i++)
		ch[i] = (struct store_chunk){(uint64_t)i, img + (size_t)i * DT_CS};
	struct store_write w = {.disk = "p",
	                        .disk_size = (uint64_t)N * DT_CS,
	                        .chunk_size = DT_CS,
	                        .chunks = ch,
	                        .nchunks = N};
	uint64_t grown[5], before;
	for (int p = 1; p <= 4; p++) {
		if (p == 2)
			fill_random(img, (size_t)N * DT_CS); /* every chunk rewritten whole */
		else if (p > 2)
			for (int i = 0; i < N; i++) /* one block of every chunk */
				fill_random(img + (size_t)i * DT_CS + 4096 * (size_t)(p + 1), 4096);
		before = p == 1 ? 0 : pack_bytes(dir);
		w.time = p;
		assert_int_equal(store_write_point(st, &w, NULL), 0);
		grown[p] = pack_bytes(dir) - before;
		check_restore(st, dir, "p", (uint64_t)p, img, (size_t)N * DT_CS);
	}
	print_message("# point 3 (probing) added %llu bytes, point 4 %llu\n",
	              (unsigned long long)grown[3], (unsigned long long)grown[4]);
	assert_true(grown[3] >= (uint64_t)(N - N / 16) * DT_CS); /* 120 chunks whole */
	assert_true(grown[3] < (uint64_t)N * DT_CS);             /* 8 as deltas */
	assert_true(grown[4] < (uint64_t)N * 8192);              /* all as deltas */
	store_close(st);
	free(img);
	rm_tree(dir);
	free(dir);
}

struct two_packs {
	int n;
	char name[2][256];
};

static int
packs_cb(void *arg, const char *name)
{
	struct two_packs *tp = arg;
	size_t n = strlen(name);
	if (n > 5 && !strcmp(name + n - 5, ".pack") && tp->n++ < 2)
		snprintf(tp->name[tp->n - 1], sizeof(tp->name[0]), "%s", name);
	return 0;
}

/* A damaged base under a delta, or a damaged delta, reads as a damaged chunk (-EBADMSG),
 * never as wrong bytes; the whole version under it still reads. */
static void
test_delta_damage(void **state)
{
	char *dir = tmp_dir();
	struct store *st;
	assert_int_equal(store_open(dir, &st), 0);
	static uint8_t v1[DT_CS], v2[DT_CS];
	rng_state = 13;
	fill_random(v1, sizeof(v1));
	memcpy(v2, v1, sizeof(v2));
	fill_random(v2 + 3 * 4096 + 100, 100); /* block 3 */
	struct store_chunk ch = {0, v1};
	struct store_write w = {
	    .disk = "d", .disk_size = DT_CS, .chunk_size = DT_CS, .chunks = &ch, .nchunks = 1};
	assert_int_equal(store_write_point(st, &w, NULL), 0);
	ch.data = v2;
	w.time = 1;
	assert_int_equal(store_write_point(st, &w, NULL), 0);
	check_restore(st, dir, "d", 2, v2, DT_CS);

	struct two_packs tp = {0};
	char whole[600], delta[600], img[600];
	void *be;
	const struct store_ops *ops = store_ops_of(st, &be);
	assert_int_equal(ops->list(be, "packs/", packs_cb, &tp), 0);
	assert_int_equal(tp.n, 2); /* a pack a point */
	struct stat a, b;
	snprintf(whole, sizeof(whole), "%s/%s", dir, tp.name[0]);
	snprintf(delta, sizeof(delta), "%s/%s", dir, tp.name[1]);
	assert_int_equal(stat(whole, &a), 0);
	assert_int_equal(stat(delta, &b), 0);
	if (a.st_size < b.st_size) {
		char t[600];
		memcpy(t, whole, sizeof(t)), memcpy(whole, delta, sizeof(t)),
		    memcpy(delta, t, sizeof(t));
		struct stat u = a;
		a = b, b = u;
	}
	assert_true(b.st_size < 8192); /* the delta: one block and its header */
	snprintf(img, sizeof(img), "%s/img", dir);
	flip_byte(whole, a.st_size - 100); /* in block 15, which the delta does not cover */
	assert_int_equal(store_restore(st, "d", 2, img), -EBADMSG);
	assert_int_equal(store_restore(st, "d", 1, img), -EBADMSG);
	flip_byte(whole, a.st_size - 100);
	check_restore(st, dir, "d", 2, v2, DT_CS);
	flip_byte(delta, STORE_HASH_LEN); /* the delta's header */
	assert_int_equal(store_restore(st, "d", 2, img), -EBADMSG);
	check_restore(st, dir, "d", 1, v1, DT_CS);
	flip_byte(delta, STORE_HASH_LEN);
	flip_byte(delta, 3); /* the base's hash: no such chunk */
	assert_int_equal(store_restore(st, "d", 2, img), -EBADMSG);
	store_close(st);
	rm_tree(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_incompressible),
	    cmocka_unit_test(test_sparse),
	    cmocka_unit_test(test_corrupt),
	    cmocka_unit_test(test_prune_select_edges),
	    cmocka_unit_test(test_prune_0),
	    cmocka_unit_test(test_prune_1d),
	    cmocka_unit_test(test_prune_3d),
	    cmocka_unit_test(test_prune_10d),
	    cmocka_unit_test(test_no_new_points),
	    cmocka_unit_test(test_prune_crash),
	    cmocka_unit_test(test_group_rules),
	    cmocka_unit_test(test_group_crash),
	    cmocka_unit_test(test_gc),
	    cmocka_unit_test(test_deltas),
	    cmocka_unit_test(test_delta_damage),
	    cmocka_unit_test(test_delta_probe),
	    cmocka_unit_test(test_pack_table),
	    cmocka_unit_test(test_map_budget),
	};
	return cmocka_run_group_tests(tests, pr_setup, pr_teardown);
}
