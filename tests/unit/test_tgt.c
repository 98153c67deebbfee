/*
 * test_tgt.c - the recovery region's side (tgt.c) with a real store and real
 * senders: a sender that says hello while its disk's point is being cut on the
 * point thread is turned away (EBUSY), not held on its receiving thread until
 * the point is done; once it is, the same hello is taken.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/lib.h"
#include "repl/jnl.h"
#include "repl/tgt.h"
#include "repl/xp.h"

#define MIB   (1u << 20)
#define NREC  128 /* records of 1 MiB: a first point reads and stores 128 MiB */
#define DISKN "d1"

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
run_main(void *arg)
{
	tgt_run(arg);
	return NULL;
}

/* The disk's first point is in the store (its manifest: not tgt_status, which
 * waits for the disk's mutex, held while the point is cut). */
static bool
pointed(const char *sdir)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/disks/" DISKN "/p0000000000000001", sdir);
	return access(p, F_OK) == 0;
}

/* A fresh directory root with the store's and the work's paths below it. */
static void
make_root(char *root, char *sdir, char *wdir)
{
	assert_non_null(mkdtemp(root));
	snprintf(sdir, 64, "%s/store", root);
	snprintf(wdir, 64, "%s/work", root);
}

static void
test_hello_during_point(void **state)
{
	(void)state;
	char root[] = "/tmp/test_tgt.XXXXXX", sdir[64], wdir[64];
	make_root(root, sdir, wdir);
	struct store *st;
	assert_int_equal(store_open(sdir, &st), 0);
	struct tgt_opts to = {.work = wdir, .st = st, .interval = 1};
	struct tgt *t;
	assert_int_equal(tgt_open(&to, &t), 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, run_main, t), 0);

	struct xp_sender_opts so = {.window = 256, .name = DISKN, .size = (uint64_t)NREC * MIB};
	struct xp_sender *tx;
	assert_int_equal(xp_sender_open("127.0.0.1", tgt_port(t), 1, &so, &tx), 0);
	uint8_t *buf = lib_xmalloc(MIB);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (uint64_t seq = 1; seq <= NREC; seq++) {
		for (size_t i = 0; i < MIB; i += 8) { /* random: every chunk stored whole */
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			memcpy(buf + i, &x, 8);
		}
		struct xp_record r = {.seq = seq,
		                      .offset = (seq - 1) * MIB,
		                      .len = MIB,
		                      .flags = JNL_F_RESYNC, /* the initial copy */
		                      .data = buf};
		assert_int_equal(xp_send(tx, &r), 0);
	}
	free(buf);
	struct xp_record synced = {.seq = NREC + 1, .flags = JNL_F_SYNCED};
	assert_int_equal(xp_send(tx, &synced), 0);
	/* Acked: durable, and the disk's first point is due (queued for the point thread). */
	assert_int_equal(xp_sender_flush(tx), 0);

	/* Hellos for the same disk while that point is cut: turned away at once. */
	int busy = 0, taken_before = 0;
	double slowest = 0, t_end = now_s() + 60;
	while (!pointed(sdir)) {
		if (now_s() > t_end)
			fail_msg("no point in 60 s");
		struct xp_sender_opts o2 = so;
		struct xp_sender *tx2 = NULL;
		double t0 = now_s();
		int rc = xp_sender_open("127.0.0.1", tgt_port(t), 1, &o2, &tx2);
		double took = now_s() - t0;
		slowest = took > slowest ? took : slowest;
		if (rc == 0) {
			if (busy && !pointed(sdir)) /* taken after a refusal, the point not done */
				taken_before++;
			xp_sender_close(tx2);
		} else if (strstr(o2.err, "busy")) {
			busy++;
		} else {
			fail_msg("unexpected refusal: %s", o2.err);
		}
		usleep(5000);
	}
	print_message("# %d hellos turned away during the point, the slowest answer %.3f s\n", busy,
	              slowest);
	assert_true(busy >= 1);
	assert_int_equal(taken_before, 0);
	assert_true(slowest < 0.25);

	/* The point done (its manifest is written just before the thread lets go), the
	 * same hello is taken. */
	struct xp_sender *tx3 = NULL;
	for (int i = 0; i < 200 && !tx3; i++) {
		struct xp_sender_opts o3 = so;
		if (xp_sender_open("127.0.0.1", tgt_port(t), 1, &o3, &tx3))
			usleep(10000);
	}
	assert_non_null(tx3);
	assert_int_equal(xp_sender_acked(tx3), NREC + 1);
	xp_sender_close(tx3);
	xp_sender_close(tx);
	tgt_stop(t);
	pthread_join(th, NULL);
	tgt_close(t);
	store_close(st);
	nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static size_t
count_packs(const char *sdir)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/packs", sdir);
	DIR *d = opendir(p);
	size_t n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		n += strstr(de->d_name, ".pack") && !strstr(de->d_name, ".tmp");
	if (d)
		closedir(d);
	return n;
}

/* The receiver prunes and collects its store on its own (tgt_opts.prune): a disk gets a
 * point a round of writes, each round rewriting the same 1 MiB; with retention 0 only the
 * newest point stays, and the packs only the pruned points named are deleted. The store
 * is read through a second handle, as a reader may. */
static void
test_prune_and_collect(void **state)
{
	(void)state;
	char root[] = "/tmp/test_tgt.XXXXXX", sdir[64], wdir[64];
	make_root(root, sdir, wdir);
	struct store *st, *rd;
	assert_int_equal(store_open(sdir, &st), 0);
	assert_int_equal(store_lock(st), 0);
	assert_int_equal(store_open(sdir, &rd), 0);
	assert_int_equal(store_lock(rd), -EBUSY); /* one writer */
	struct tgt_opts to = {.work = wdir,
	                      .st = st,
	                      .interval = 1,
	                      .prune = true,
	                      .retention = 0,
	                      .prune_every = 1,
	                      .gc_every = 1};
	struct tgt *t;
	assert_int_equal(tgt_open(&to, &t), 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, run_main, t), 0);
	struct xp_sender_opts so = {.window = 256, .name = DISKN, .size = 4 * MIB};
	struct xp_sender *tx;
	assert_int_equal(xp_sender_open("127.0.0.1", tgt_port(t), 1, &so, &tx), 0);
	uint8_t *buf = lib_xmalloc(MIB);
	uint64_t x = 0x9e3779b97f4a7c15ull, seq = 0;
	for (int round = 0; round < 6; round++) {
		for (int k = 0; k < (round ? 1 : 4); k++) {
			for (size_t i = 0; i < MIB; i += 8) { /* random: chunks stored whole */
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				memcpy(buf + i, &x, 8);
			}
			struct xp_record r = {.seq = ++seq,
			                      .offset = (uint64_t)k * MIB,
			                      .len = MIB,
			                      .flags = round ? 0 : JNL_F_RESYNC,
			                      .data = buf};
			assert_int_equal(xp_send(tx, &r), 0);
		}
		if (!round) {
			struct xp_record synced = {.seq = ++seq, .flags = JNL_F_SYNCED};
			assert_int_equal(xp_send(tx, &synced), 0);
		}
		assert_int_equal(xp_sender_flush(tx), 0);
		usleep(1300 * 1000); /* past the interval: the next burst's sync cuts a point */
	}
	free(buf);
	/* The last round's point, then the prunes and the gc (each at most every second). */
	struct store_point *pts = NULL;
	size_t n = 0, packs = 0;
	for (double end = now_s() + 20; now_s() < end; usleep(100 * 1000)) {
		free(pts);
		pts = NULL;
		store_forget(rd, DISKN); /* the newest point is cached per handle */
		assert_int_equal(store_list_points(rd, DISKN, &pts, &n), 0);
		packs = count_packs(sdir);
		if (n == 1 && pts[0].seq >= 5 && packs <= 2)
			break;
	}
	print_message("# %zu point(s) left, the newest %llu; %zu packs\n", n,
	              n ? (unsigned long long)pts[n - 1].seq : 0ull, packs);
	assert_int_equal(n, 1);
	assert_true(pts[0].seq >= 5); /* four points or more pruned */
	/* The first point's pack is three quarters live (the disk's other 3 MiB) and stays;
	 * the rounds' packs went with their points, but for the newest. */
	assert_true(packs <= 2);
	free(pts);
	xp_sender_close(tx);
	tgt_stop(t);
	pthread_join(th, NULL);
	tgt_close(t);
	store_close(rd);
	store_close(st);
	nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hello_during_point),
	    cmocka_unit_test(test_prune_and_collect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
