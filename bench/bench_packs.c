/*
 * bench_packs.c - the store's table of chunks at scale: N chunk entries (random
 * hashes, 16-byte frames) in packs of 1,024 (a pack of 64 KiB chunks), a sync
 * every 64 packs; then the table dropped and loaded again from the indexes.
 * Reports the load's time, the memory the loaded table takes (anonymous
 * resident memory before and after, from /proc/self/status) per chunk, and
 * lookups a second: chunks not stored (a new chunk at a point: the common
 * case) and chunks stored (deduplication, restores: an index entry read).
 *
 * Usage: bench_packs [N] [DIR]   (default 4,000,000 chunks, a directory in /tmp)
 */
#include "lib/lib.h"
#include "repl/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PER_PACK 1024u
#define LOOKUPS  1000000u

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* RssAnon in bytes. */
static uint64_t
rss_anon(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	uint64_t kb = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %llu", (unsigned long long *)&kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb * 1024;
}

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The hash of chunk i (of run r: 0 stored, 1 never stored). */
static void
chunk_hash(uint8_t *h, uint64_t i, uint64_t r)
{
	uint64_t s = i * 2 + r;
	lib_put_le64(h, mix(s));
	lib_put_le64(h + 8, mix(s ^ 0x5bd1e9955bd1e995ull));
}

static int
rm_cb(void *arg, const char *name)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", (const char *)arg, name);
	unlink(p);
	return 0;
}

int
main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 4000000;
	char tmpl[] = "/tmp/bench_packs.XXXXXX";
	const char *dir = argc > 2 ? argv[2] : mkdtemp(tmpl);
	if (!dir || !n) {
		fprintf(stderr, "usage: bench_packs [N] [DIR]\n");
		return 2;
	}
	const struct store_ops *ops;
	void *be;
	if (store_dir_backend(dir, &ops, &be)) {
		fprintf(stderr, "bench_packs: cannot use %s\n", dir);
		return 1;
	}
	struct store_packs *pk = store_packs_new(ops, be);
	uint8_t h[STORE_HASH_LEN], z[16] = {0};
	double t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		chunk_hash(h, i, 0);
		lib_put_le64(z, i);
		int rc = store_packs_add(pk, h, z, sizeof(z), 65536);
		if (!rc && (i + 1) % PER_PACK == 0)
			rc = store_packs_flush(pk);
		if (!rc && ((i + 1) % (64 * PER_PACK) == 0 || i + 1 == n)) {
			rc = store_packs_flush(pk);
			if (!rc && !(rc = ops->sync(be)))
				store_packs_synced(pk);
		}
		if (rc) {
			fprintf(stderr, "bench_packs: add: %s\n", strerror(-rc));
			return 1;
		}
	}
	double t1 = now_s();
	store_packs_drop(pk);
	uint64_t before = rss_anon();
	double t2 = now_s();
	chunk_hash(h, 0, 1);
	if (store_packs_has(pk, h) != 0) {
		fprintf(stderr, "bench_packs: load failed\n");
		return 1;
	}
	double t3 = now_s();
	uint64_t after = rss_anon(), chunks, packs;
	store_packs_count(pk, &chunks, &packs);
	uint64_t miss = 0, hit = 0;
	double t4 = now_s();
	for (uint64_t i = 0; i < LOOKUPS; i++) {
		chunk_hash(h, i * 7919 % n, 1);
		miss += store_packs_has(pk, h) == 0;
	}
	double t5 = now_s();
	for (uint64_t i = 0; i < LOOKUPS; i++) {
		chunk_hash(h, i * 7919 % n, 0);
		hit += store_packs_has(pk, h) == 1;
	}
	double t6 = now_s();
	printf("%llu chunks in %llu packs, written in %.1f s\n", (unsigned long long)chunks,
	       (unsigned long long)packs, t1 - t0);
	printf("load: %.2f s, %.1f MB of memory, %.1f bytes a chunk\n", t3 - t2,
	       (double)(after - before) / 1e6, (double)(after - before) / (double)chunks);
	printf("lookups: %.2f M/s of chunks not stored (%llu of %u), %.2f M/s of chunks stored "
	       "(%llu of %u)\n",
	       LOOKUPS / (t5 - t4) / 1e6, (unsigned long long)miss, LOOKUPS,
	       LOOKUPS / (t6 - t5) / 1e6, (unsigned long long)hit, LOOKUPS);
	store_packs_free(pk);
	ops->list(be, "packs/", rm_cb, (void *)dir);
	ops->close(be);
	char p[4096];
	snprintf(p, sizeof(p), "%s/packs", dir);
	rmdir(p);
	rmdir(dir);
	return miss == LOOKUPS && hit == LOOKUPS ? 0 : 1;
}
