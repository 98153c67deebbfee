/*
 * cli_trace.c - strait trace: the path from one endpoint to another and
 * back, hop by hop, flagging asymmetric paths (an NVA crossed one way only).
 * Exit 0 when both directions are delivered, 1 otherwise.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static json_t *
trace_json(const struct rt_trace *t)
{
	json_t *hops = json_array();
	for (uint32_t i = 0; i < t->n; i++)
		json_array_append_new(hops, json_pack("{s:s, s:s, s:s}", "kind",
		                                      rt_hop_name(t->hops[i].kind), "name",
		                                      t->hops[i].name, "how", t->hops[i].how));
	return json_pack("{s:o, s:s, s:s}", "hops", hops, "result", rt_verdict_name(t->verdict),
	                 "why", t->why);
}

static void
trace_print(const char *title, const struct rt_trace *t)
{
	printf("%s\n", title);
	for (uint32_t i = 0; i < t->n; i++)
		printf("%3u  %-9s %-28s %s\n", i + 1, rt_hop_name(t->hops[i].kind), t->hops[i].name,
		       t->hops[i].how);
	printf("     %s: %s\n", rt_verdict_name(t->verdict), t->why);
}

/* Appliances crossed in one direction only. */
static bool
asymmetric(const struct rt_trace *a, const struct rt_trace *b, const struct estate *e, char *buf,
           size_t n)
{
	buf[0] = '\0';
	size_t off = 0;
	for (int dir = 0; dir < 2; dir++) {
		const struct rt_trace *x = dir ? b : a, *y = dir ? a : b;
		for (uint32_t i = 0; i < x->napp; i++) {
			bool found = false;
			for (uint32_t k = 0; k < y->napp; k++)
				found |= x->appliances[i] == y->appliances[k];
			if (!found && off < n)
				off += (size_t)snprintf(buf + off, n - off, "%s%s (%s only)",
				                        off ? ", " : "",
				                        e->appliances.v[x->appliances[i]].name,
				                        dir ? "return" : "forward");
		}
	}
	return off > 0;
}

int
cli_cmd_trace(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"fail", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	const char *fmt = "table", *fails[32];
	size_t nfails = 0;
	int o;
	while ((o = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (o == 'o')
			fmt = optarg;
		else if (o == 'f' && nfails < LIB_ARRAY_LEN(fails))
			fails[nfails++] = optarg;
		else
			return cli_usage_error("bad option");
	}
	if (strcmp(fmt, "table") && strcmp(fmt, "json"))
		return cli_usage_error("unknown output '%s' (expected table or json)", fmt);
	if (optind != argc - 3)
		return cli_usage_error("expected an estate file, FROM and TO");
	struct estate *e = cli_load(argv[optind]);
	if (!e)
		return CLI_UNUSABLE;
	struct rt_endpoint from, to;
	struct rt_fail f[32];
	char err[256];
	int rc = CLI_UNUSABLE;
	if (rt_endpoint_parse(e, argv[optind + 1], &from, err, sizeof(err)) ||
	    rt_endpoint_parse(e, argv[optind + 2], &to, err, sizeof(err))) {
		fprintf(stderr, "strait: %s\n", err);
		goto out;
	}
	for (size_t i = 0; i < nfails; i++)
		if (rt_fail_parse(e, fails[i], &f[i], err, sizeof(err))) {
			fprintf(stderr, "strait: --fail: %s\n", err);
			goto out;
		}
	struct rt_net *net;
	rt_build(e, f, nfails, &net);
	struct rt_trace fwd, back;
	rt_trace(net, &from, &to, &fwd);
	rt_trace(net, &to, &from, &back);
	char asym[256];
	bool is_asym = fwd.verdict == RT_DELIVERED && back.verdict == RT_DELIVERED &&
	               asymmetric(&fwd, &back, e, asym, sizeof(asym));
	if (strcmp(fmt, "json") == 0) {
		cli_print_json(json_pack("{s:s, s:s, s:o, s:o, s:b, s:s?}", "from", from.label,
		                         "to", to.label, "forward", trace_json(&fwd), "return",
		                         trace_json(&back), "asymmetric", is_asym, "asymmetry",
		                         is_asym ? asym : NULL));
	} else {
		char title[256], fa[IP_STRLEN], ta[IP_STRLEN];
		snprintf(title, sizeof(title), "%s (%s) -> %s (%s)", from.label,
		         ip_addr_fmt(&from.ip, fa), to.label, ip_addr_fmt(&to.ip, ta));
		trace_print(title, &fwd);
		snprintf(title, sizeof(title), "\n%s -> %s (return)", to.label, from.label);
		trace_print(title, &back);
		if (is_asym)
			printf("\nasymmetric: %s\n", asym);
	}
	rc = fwd.verdict == RT_DELIVERED && back.verdict == RT_DELIVERED && !is_asym ? CLI_GOOD
	                                                                             : CLI_BAD;
	rt_free(net);
out:
	est_free(e);
	return rc;
}
