/*
 * bench_load.c - how long est_load_file takes and how much memory it holds.
 *
 * Loads one estate file N times (default 5), each load freed before the
 * next, and prints one line of key=value pairs that bench/run.sh reads:
 * the fastest and the median wall time of a load, the arena bytes the
 * estate reserved (e->arena.total) and handed out (e->arena.used), and the
 * peak resident set of the process (getrusage ru_maxrss), which bounds what
 * one load needs at its peak, parse tree included.
 */
#include "estate/est.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: bench_load ESTATE [RUNS]\n");
		return 2;
	}
	int runs = argc == 3 ? atoi(argv[2]) : 5;
	if (runs < 1 || runs > 1000) {
		fprintf(stderr, "bench_load: RUNS must be 1 to 1000\n");
		return 2;
	}
	double *ms = lib_xcalloc((size_t)runs, sizeof(*ms));
	size_t total = 0, used = 0;
	uint32_t nvnets = 0;
	for (int i = 0; i < runs; i++) {
		struct lib_diags d;
		struct estate *e = NULL;
		lib_diags_init(&d);
		double t0 = now_ms();
		int rc = est_load_file(argv[1], &d, &e);
		ms[i] = now_ms() - t0;
		if (rc) {
			lib_diags_sort(&d);
			lib_diags_print(&d, stderr);
			fprintf(stderr, "bench_load: %s: %u errors\n", argv[1], d.nerr);
			lib_diags_free(&d);
			free(ms);
			return 1;
		}
		total = e->arena.total;
		used = e->arena.used;
		nvnets = e->vnets.n;
		est_free(e);
		lib_diags_free(&d);
	}
	qsort(ms, (size_t)runs, sizeof(*ms), cmp_double);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("file=%s vnets=%u runs=%d load_min_ms=%.2f load_median_ms=%.2f arena_total=%zu "
	       "arena_used=%zu maxrss_kb=%ld\n",
	       argv[1], nvnets, runs, ms[0], ms[runs / 2], total, used, ru.ru_maxrss);
	free(ms);
	return 0;
}
