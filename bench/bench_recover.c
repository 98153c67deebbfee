/*
 * bench_recover.c - simulate every recovery plan of an estate (strait-gen
 * --plans N): load once, run each plan's unplanned failover on the model
 * (every step, the VMs moved, the estate after written and loaded back to
 * check it), and report the time per plan and in all.
 *
 * Usage: bench_recover ESTATE [--runs N]
 */
#include "estate/est.h"
#include "recover/rec.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int
main(int argc, char **argv)
{
	const char *path = NULL;
	int runs = 3;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = atoi(argv[++i]);
		else
			path = argv[i];
	}
	if (!path) {
		fprintf(stderr, "usage: bench_recover ESTATE [--runs N]\n");
		return 2;
	}
	struct lib_diags d;
	struct estate *e;
	lib_diags_init(&d);
	double t0 = now_ms();
	if (est_load_file(path, &d, &e)) {
		lib_diags_print(&d, stderr);
		return 2;
	}
	double load = now_ms() - t0;
	lib_diags_free(&d);
	uint32_t nvms = 0;
	for (uint32_t p = 0; p < e->recovery_plans.n; p++)
		for (uint32_t g = 0; g < e->recovery_plans.v[p].groups.n; g++)
			nvms += e->recovery_plans.v[p].groups.v[g].vms.n;
	for (int mode = 0; mode < 2; mode++) {
		double best = 1e18;
		uint64_t steps = 0;
		for (int r = 0; r < runs; r++) {
			double t = now_ms();
			steps = 0;
			for (uint32_t p = 0; p < e->recovery_plans.n; p++) {
				struct rec_opts o;
				rec_opts_init(&o);
				o.plan = e->recovery_plans.v[p].name;
				o.no_estate = mode == 1;
				struct rec_result res;
				lib_diags_init(&d);
				if (rec_run(e, &o, &res, &d) || res.stopped) {
					lib_diags_print(&d, stderr);
					fprintf(stderr, "bench_recover: plan %s failed\n", o.plan);
					return 1;
				}
				steps += res.nsteps;
				lib_diags_free(&d);
				rec_result_free(&res);
			}
			t = now_ms() - t;
			best = t < best ? t : best;
		}
		if (mode == 0)
			printf("vnets=%u vms=%u plans=%u protected_in_plans=%u load_ms=%.1f\n",
			       e->vnets.n, e->vms.n, e->recovery_plans.n, nvms, load);
		printf("%s_ms=%.1f per_plan_ms=%.1f steps=%llu\n",
		       mode ? "simulate_timeline_only" : "simulate_with_estate_after", best,
		       best / (e->recovery_plans.n ? e->recovery_plans.n : 1),
		       (unsigned long long)steps);
	}
	est_free(e);
	return 0;
}
