/*
 * cli_plan.c - strait plan: the recovery plans of an estate and their
 * readiness (what the target still lacks, the RTO of a failover now), a plan
 * generated for the estate's topology (--generate), or a plan's network
 * steps as az CLI commands for a runbook (--emit az).
 */
#include "cli.h"
#include "recover/rec.h"
#include "recover/rec_emit.h"
#include "recover/rec_gen.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const struct est_plan *
plan_named(const struct estate *e, const char *name)
{
	for (uint32_t i = 0; i < e->recovery_plans.n; i++)
		if (!name || strcmp(e->recovery_plans.v[i].name, name) == 0)
			return &e->recovery_plans.v[i];
	return NULL;
}

/* The plans, what the readiness rules say, and the RTO of a failover now. */
static int
overview(const struct estate *e)
{
	static const char *const ready[] = {"DR206", "DR207", "DR208", "DR209",
	                                    "DR210", "DR211", "DR215", "DR221"};
	struct chk_result r;
	chk_run(e, ready, LIB_ARRAY_LEN(ready), &r);
	for (uint32_t i = 0; i < e->recovery_plans.n; i++) {
		const struct est_plan *p = &e->recovery_plans.v[i];
		struct rec_opts o;
		rec_opts_init(&o);
		o.plan = p->name;
		o.no_estate = true;
		struct rec_result res;
		struct lib_diags d;
		lib_diags_init(&d);
		rec_run(e, &o, &res, &d);
		lib_diags_free(&d);
		uint32_t nvm = 0;
		for (uint32_t g = 0; g < p->groups.n; g++)
			nvm += p->groups.v[g].vms.n;
		printf("plan %s: %u group%s, %u VM%s, %u step%s; unplanned failover now: RTO "
		       "%lld:%02lld\n",
		       p->name, p->groups.n, p->groups.n == 1 ? "" : "s", nvm, nvm == 1 ? "" : "s",
		       res.nsteps, res.nsteps == 1 ? "" : "s", (long long)(res.rto / 3600),
		       (long long)(res.rto / 60 % 60));
		for (uint32_t k = 0; k < res.nsteps; k++)
			printf("  %2u. %s%s%s\n", k + 1, res.steps[k].what,
			       res.steps[k].state == REC_SKIPPED ? " (done already)" : "",
			       res.steps[k].end > res.steps[k].start + 30 * 60 ? "  <- long" : "");
		rec_result_free(&res);
	}
	if (!e->recovery_plans.n)
		printf("no recovery plans (strait plan --generate writes one)\n");
	printf("\nStill missing before failover:\n");
	chk_print_table(e, &r, stdout);
	int rc = r.nerr ? CLI_BAD : CLI_GOOD;
	chk_result_free(&r);
	return rc;
}

int
cli_cmd_plan(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"generate", no_argument, NULL, 'g'},   {"preprovision", no_argument, NULL, 'p'},
	    {"name", required_argument, NULL, 'n'}, {"emit", required_argument, NULL, 'e'},
	    {"plan", required_argument, NULL, 'P'}, {"failback", no_argument, NULL, 'b'},
	    {"type", required_argument, NULL, 't'}, {NULL, 0, NULL, 0},
	};
	bool gen = false, pre = false, failback = false;
	const char *name = NULL, *emit = NULL, *plan = NULL, *type = "unplanned";
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			gen = true;
			break;
		case 'p':
			pre = true;
			break;
		case 'n':
			name = optarg;
			break;
		case 'e':
			emit = optarg;
			break;
		case 'P':
			plan = optarg;
			break;
		case 'b':
			failback = true;
			break;
		case 't':
			type = optarg;
			break;
		default:
			return cli_usage_error("bad option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("expected one estate file");
	if (gen && emit)
		return cli_usage_error("--generate and --emit do not go together");
	if (emit && strcmp(emit, "az"))
		return cli_usage_error("--emit: only az is known");
	int ft = strcmp(type, "test") == 0        ? EST_FO_TEST
	         : strcmp(type, "planned") == 0   ? EST_FO_PLANNED
	         : strcmp(type, "unplanned") == 0 ? EST_FO_UNPLANNED
	                                          : -1;
	if (ft < 0)
		return cli_usage_error("--type: expected test, planned or unplanned");
	struct estate *e = cli_load(argv[optind]);
	if (!e)
		return CLI_UNUSABLE;
	int rc = CLI_GOOD;
	struct lib_diags d;
	lib_diags_init(&d);
	if (gen) {
		struct rec_gen_opts o = {.preprovision = pre, .name = name};
		struct lib_buf y = {0}, rep = {0};
		if (rec_generate(e, &o, &y, &rep, &d)) {
			rc = CLI_UNUSABLE;
		} else {
			/* the report as YAML comments, so the output is a valid fragment */
			for (const char *l = rep.s ? rep.s : ""; *l;) {
				const char *nl = strchr(l, '\n');
				size_t n = nl ? (size_t)(nl - l) : strlen(l);
				printf("#%s%.*s\n", n ? " " : "", (int)n, l);
				l += n + (nl ? 1 : 0);
			}
			printf("recovery_plans:\n%s", y.s ? y.s : "");
		}
		lib_buf_free(&y);
		lib_buf_free(&rep);
	} else if (emit) {
		const struct est_plan *p = plan_named(e, plan);
		struct lib_buf out = {0};
		if (!p) {
			fprintf(stderr, "strait: %s\n",
			        plan ? "no such recovery plan" : "the estate has no recovery plan");
			rc = CLI_UNUSABLE;
		} else if (rec_emit_az(e, p, failback ? EST_DIR_FAILBACK : EST_DIR_FAILOVER, ft,
		                       &out, &d)) {
			rc = CLI_UNUSABLE;
		} else {
			fputs(out.s ? out.s : "", stdout);
		}
		lib_buf_free(&out);
	} else {
		rc = overview(e);
	}
	lib_diags_sort(&d);
	lib_diags_print(&d, stderr);
	lib_diags_free(&d);
	est_free(e);
	return rc;
}
