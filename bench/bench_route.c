/*
 * bench_route.c - the routing engine at scale, on an estate file (from
 * strait-gen): the control plane (rt_build), every subnet's effective
 * routes, a reachability matrix over a number of endpoint pairs, and a
 * what-if after a single circuit failure as a ratio to a full recompute.
 *
 * Usage: bench_route ESTATE [--pairs N] [--runs N]
 * Prints key=value lines (bench/run-route.sh makes a table of them).
 */
#include "estate/est.h"
#include "route/rt.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long
peak_rss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

int
main(int argc, char **argv)
{
	const char *path = NULL;
	uint32_t pairs = 100000, runs = 3;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--pairs") == 0 && i + 1 < argc)
			pairs = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = (uint32_t)strtoul(argv[++i], NULL, 10);
		else
			path = argv[i];
	}
	if (!path) {
		fprintf(stderr, "usage: bench_route ESTATE [--pairs N] [--runs N]\n");
		return 2;
	}
	struct lib_diags d;
	struct estate *e;
	lib_diags_init(&d);
	if (est_load_file(path, &d, &e)) {
		lib_diags_print(&d, stderr);
		return 2;
	}
	lib_diags_free(&d);
	uint32_t nsub = 0, nconn = e->connections.n;
	for (uint32_t v = 0; v < e->vnets.n; v++)
		nsub += e->vnets.v[v].subnets.n;
	printf("vnets=%u subnets=%u circuits=%u connections=%u vms=%u\n", e->vnets.n, nsub,
	       e->circuits.n, nconn, e->vms.n);

	/* control plane, best of runs */
	double best = 1e18;
	struct rt_net *n = NULL;
	for (uint32_t r = 0; r < runs; r++) {
		if (n)
			rt_free(n);
		double t = now_ms();
		rt_build(e, NULL, 0, &n);
		t = now_ms() - t;
		best = t < best ? t : best;
	}
	printf("build_ms=%.1f build_arena_mb=%.1f ribs=%u\n", best, n->arena.total / 1048576.0,
	       n->rebuilt);
	fflush(stdout);

	/* every subnet's effective routes: own routes resolved against the
	 * shared gateway RIB (rt_subnet_table); gateway routes counted, not copied */
	double t = now_ms();
	uint64_t nown = 0, nshared = 0;
	for (uint32_t v = 0; v < e->vnets.n; v++)
		for (uint32_t s = 0; s < e->vnets.v[v].subnets.n; s++) {
			struct rt_table tb;
			rt_subnet_table(n, v, s, &tb);
			nown += tb.nown;
			nshared += tb.gw ? tb.gw->n : 0;
			rt_table_free(&tb);
		}
	double all = now_ms() - t;
	printf("all_routes_ms=%.1f own_routes=%llu gateway_routes=%llu all_with_build_ms=%.1f\n",
	       all, (unsigned long long)nown, (unsigned long long)nshared, all + best);
	fflush(stdout);

	/* reachability: the first k VMs pairwise, k(k-1)/2 ~ pairs */
	uint32_t k = 2;
	while ((uint64_t)k * (k - 1) / 2 < pairs && k < e->vms.n)
		k++;
	const char **sel = calloc(k, sizeof(*sel));
	for (uint32_t i = 0; i < k; i++)
		sel[i] = e->vms.v[i].name;
	struct rt_matrix m;
	char err[128];
	t = now_ms();
	if (rt_reach(n, sel, k, &m, err, sizeof(err))) {
		fprintf(stderr, "bench_route: %s\n", err);
		return 1;
	}
	double reach = now_ms() - t;
	printf("reach_pairs=%u reach_ms=%.1f reach_pairs_per_s=%.0f reachable=%u\n", m.ncells,
	       reach, m.ncells / (reach / 1e3), m.ndelivered);
	rt_matrix_free(&m);
	free(sel);

	/* a single circuit failure: incremental what-if against a full rebuild */
	struct rt_fail f = {RT_FAIL_CIRCUIT, 0, 0};
	double wbest = 1e18, fbest = 1e18;
	uint32_t rebuilt = 0;
	for (uint32_t r = 0; r < runs; r++) {
		struct rt_net *w, *full;
		t = now_ms();
		rt_whatif(n, &f, 1, &w);
		double tw = now_ms() - t;
		t = now_ms();
		rt_build(e, &f, 1, &full);
		double tf = now_ms() - t;
		rebuilt = w->rebuilt;
		wbest = tw < wbest ? tw : wbest;
		fbest = tf < fbest ? tf : fbest;
		rt_free(w);
		rt_free(full);
	}
	printf("whatif_ms=%.2f full_ms=%.1f whatif_speedup=%.1f ribs_rebuilt=%u of %u\n", wbest,
	       fbest, fbest / wbest, rebuilt, n->rebuilt);
	printf("peak_rss_mb=%.1f\n", peak_rss_kib() / 1024.0);
	rt_free(n);
	est_free(e);
	return 0;
}
