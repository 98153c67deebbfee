/*
 * cli_reach.c - strait reach (the reachability matrix), strait whatif
 * (differential reachability under failures) and strait diff (between two
 * estates, such as before and after a failover; --fail applies to the second,
 * so the source region can be down after the failover).
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

struct reach_opts {
	bool json;
	const char *sel[64];
	size_t nsel;
	const char *fails[32];
	size_t nfails;
};

static int
parse(int argc, char **argv, struct reach_opts *o, int nargs)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"select", required_argument, NULL, 's'},
	    {"fail", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c == 'o' && (strcmp(optarg, "table") == 0 || strcmp(optarg, "json") == 0))
			o->json = strcmp(optarg, "json") == 0;
		else if (c == 'o')
			return cli_usage_error("unknown output '%s' (expected table or json)",
			                       optarg);
		else if (c == 's' && o->nsel < LIB_ARRAY_LEN(o->sel))
			o->sel[o->nsel++] = optarg;
		else if (c == 'f' && o->nfails < LIB_ARRAY_LEN(o->fails))
			o->fails[o->nfails++] = optarg;
		else
			return cli_usage_error("bad option");
	}
	if (argc - optind != nargs)
		return cli_usage_error("expected %d estate file%s", nargs, nargs == 1 ? "" : "s");
	return 0;
}

/* Builds the network of e under the given failures and its matrix. */
static int
matrix(const struct estate *e, const struct reach_opts *o, bool with_fails, struct rt_matrix *m)
{
	struct rt_fail f[32];
	char err[256];
	size_t nf = with_fails ? o->nfails : 0;
	for (size_t i = 0; i < nf; i++)
		if (rt_fail_parse(e, o->fails[i], &f[i], err, sizeof(err))) {
			fprintf(stderr, "strait: --fail: %s\n", err);
			return CLI_UNUSABLE;
		}
	struct rt_net *n;
	rt_build(e, f, nf, &n);
	int rc = rt_reach(n, o->sel, o->nsel, m, err, sizeof(err));
	rt_free(n);
	if (rc) {
		fprintf(stderr, "strait: --select: %s\n", err);
		return CLI_UNUSABLE;
	}
	return CLI_GOOD;
}

static void
print_matrix(const struct rt_matrix *m, bool json)
{
	if (json) {
		json_t *arr = json_array();
		for (uint32_t i = 0; i < m->ncells; i++) {
			const struct rt_cell *c = &m->cells[i];
			json_array_append_new(
			    arr, json_pack("{s:s, s:s, s:s, s:s, s:b, s:i, s:s}", "a",
			                   m->eps[c->a].label, "b", m->eps[c->b].label, "forward",
			                   rt_verdict_name(c->fwd), "return",
			                   rt_verdict_name(c->back), "symmetric", c->symmetric,
			                   "redundancy", (int)c->redundancy, "path", c->path));
		}
		cli_print_json(json_pack("{s:o, s:i, s:i}", "pairs", arr, "reachable",
		                         (int)m->ndelivered, "total", (int)m->ncells));
		return;
	}
	struct cli_table t;
	cli_table_init(&t, "From", "To", "Result", "Path (circuit link, appliances)", NULL);
	for (uint32_t i = 0; i < m->ncells; i++) {
		const struct rt_cell *c = &m->cells[i];
		bool ok = c->fwd == RT_DELIVERED && c->back == RT_DELIVERED;
		cli_table_row(&t, m->eps[c->a].label, m->eps[c->b].label,
		              ok ? "both ways" : "UNREACHABLE", c->path, NULL);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
	printf("%u of %u pairs reachable both ways\n", m->ndelivered, m->ncells);
}

int
cli_cmd_reach(int argc, char **argv)
{
	struct reach_opts o;
	int rc = parse(argc, argv, &o, 1);
	if (rc)
		return rc;
	struct estate *e = cli_load(argv[optind]);
	if (!e)
		return CLI_UNUSABLE;
	struct rt_matrix m;
	rc = matrix(e, &o, true, &m);
	if (rc == CLI_GOOD) {
		print_matrix(&m, o.json);
		rc = m.ndelivered == m.ncells ? CLI_GOOD : CLI_BAD;
		rt_matrix_free(&m);
	}
	est_free(e);
	return rc;
}

static int
print_changes(const struct rt_matrix *a, const struct rt_matrix *b, bool json)
{
	uint32_t n, lost = 0;
	struct rt_change *ch = rt_diff(a, b, &n);
	json_t *arr = json_array();
	struct cli_table t;
	cli_table_init(&t, "Change", "Between", "And", "Before", "After", NULL);
	for (uint32_t i = 0; i < n; i++) {
		lost += ch[i].kind == RT_LOST;
		cli_table_row(&t, rt_change_name(ch[i].kind), ch[i].a, ch[i].b, ch[i].before,
		              ch[i].after, NULL);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s}", "change",
		                                     rt_change_name(ch[i].kind), "a", ch[i].a, "b",
		                                     ch[i].b, "before", ch[i].before, "after",
		                                     ch[i].after));
	}
	if (json) {
		cli_print_json(json_pack("{s:o, s:i, s:i, s:i}", "changes", arr, "lost", (int)lost,
		                         "reachableBefore", (int)a->ndelivered, "reachableAfter",
		                         (int)b->ndelivered));
	} else {
		json_decref(arr);
		if (n)
			cli_table_print(&t, stdout);
		printf("%u change%s; reachable pairs %u of %u before, %u of %u after\n", n,
		       n == 1 ? "" : "s", a->ndelivered, a->ncells, b->ndelivered, b->ncells);
	}
	cli_table_free(&t);
	free(ch);
	return lost ? CLI_BAD : CLI_GOOD;
}

/* The base network once; the failed one shares its untouched RIBs. */
int
cli_cmd_whatif(int argc, char **argv)
{
	struct reach_opts o;
	int rc = parse(argc, argv, &o, 1);
	if (rc)
		return rc;
	if (!o.nfails)
		return cli_usage_error("give at least one --fail KIND:NAME");
	struct estate *e = cli_load(argv[optind]);
	if (!e)
		return CLI_UNUSABLE;
	struct rt_fail f[32];
	char err[256];
	for (size_t i = 0; i < o.nfails; i++)
		if (rt_fail_parse(e, o.fails[i], &f[i], err, sizeof(err))) {
			fprintf(stderr, "strait: --fail: %s\n", err);
			est_free(e);
			return CLI_UNUSABLE;
		}
	struct rt_net *base, *failed;
	rt_build(e, NULL, 0, &base);
	rt_whatif(base, f, o.nfails, &failed);
	struct rt_matrix before, after;
	rc = CLI_UNUSABLE;
	if (rt_reach(base, o.sel, o.nsel, &before, err, sizeof(err)) == 0) {
		if (rt_reach(failed, o.sel, o.nsel, &after, err, sizeof(err)) == 0) {
			rc = print_changes(&before, &after, o.json);
			rt_matrix_free(&after);
		}
		rt_matrix_free(&before);
	}
	if (rc == CLI_UNUSABLE)
		fprintf(stderr, "strait: --select: %s\n", err);
	rt_free(failed);
	rt_free(base);
	est_free(e);
	return rc;
}

int
cli_cmd_diff(int argc, char **argv)
{
	struct reach_opts o;
	int rc = parse(argc, argv, &o, 2);
	if (rc)
		return rc;
	struct estate *a = cli_load(argv[optind]), *b = a ? cli_load(argv[optind + 1]) : NULL;
	if (!a || !b) {
		est_free(a);
		return CLI_UNUSABLE;
	}
	struct rt_matrix ma, mb;
	rc = matrix(a, &o, false, &ma); /* --fail describes the estate after */
	if (rc == CLI_GOOD) {
		rc = matrix(b, &o, true, &mb);
		if (rc == CLI_GOOD) {
			rc = print_changes(&ma, &mb, o.json);
			rt_matrix_free(&mb);
		}
		rt_matrix_free(&ma);
	}
	est_free(a);
	est_free(b);
	return rc;
}
