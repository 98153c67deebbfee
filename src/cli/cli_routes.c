/*
 * cli_routes.c - strait routes: effective routes of a subnet, the tables of
 * an on-premises site's edge routers, and what a gateway learns and
 * advertises, as a table or JSON.
 */
#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void
aspath_text(const struct estate *e, const struct rt_path *p, bool gateway_side, char *buf, size_t n)
{
	size_t off = (size_t)snprintf(buf, n, "%u", RT_ASN_MSEE);
	if (!gateway_side && p->origin_kind == EST_K_VNET) {
		snprintf(buf + off, n - off, " %u", RT_ASN_GATEWAY);
		return;
	}
	/* the origin AS, then its prepends: aspath_len counts them past 12076 */
	uint32_t reps = gateway_side ? p->aspath_len : (uint32_t)(p->aspath_len - 1);
	for (uint32_t i = 0; i < reps && off < n; i++)
		off += (size_t)snprintf(buf + off, n - off, " %u", p->origin_asn);
	(void)e;
}

static const char *
links_text(uint8_t links)
{
	return links == 3   ? "primary+secondary"
	       : links == 1 ? "primary"
	       : links == 2 ? "secondary"
	                    : "-";
}

static int
subnet_routes(const struct estate *e, const struct rt_net *net, const char *path, bool json)
{
	uint32_t vi;
	const struct est_subnet *s = est_find_subnet(e, path, &vi);
	if (!s) {
		fprintf(stderr, "strait: unknown subnet '%s' (subnets are named VNET/SUBNET)\n",
		        path);
		return CLI_UNUSABLE;
	}
	uint32_t si = (uint32_t)(s - e->vnets.v[vi].subnets.v), n;
	struct rt_route *r = rt_subnet_routes(net, vi, si, &n);
	struct cli_table t;
	cli_table_init(&t, "Source", "State", "Address Prefixes", "Next Hop Type", "Next Hop IP",
	               "Note", NULL);
	json_t *arr = json_array();
	for (uint32_t i = 0; i < n; i++) {
		char pfx[IP_STRLEN], ips[5 * IP_STRLEN] = "";
		size_t off = 0;
		for (uint32_t k = 0; k < r[i].nnh; k++) {
			char a[IP_STRLEN];
			off += (size_t)snprintf(ips + off, sizeof(ips) - off, "%s%s", k ? ", " : "",
			                        ip_addr_fmt(&r[i].nh_ip[k], a));
		}
		const char *prefix = r[i].p.a.af ? ip_prefix_fmt(&r[i].p, pfx) : r[i].tag;
		const char *note = r[i].active ? (r[i].udr ? r[i].udr->name : NULL) : r[i].why;
		cli_table_row(&t, rt_src_name(r[i].src), r[i].active ? "Active" : "Invalid", prefix,
		              rt_nh_name(r[i].nh), ips[0] ? ips : "", note ? note : "", NULL);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "source",
		                                     rt_src_name(r[i].src), "state",
		                                     r[i].active ? "Active" : "Invalid", "prefix",
		                                     prefix, "nextHopType", rt_nh_name(r[i].nh),
		                                     "nextHopIp", ips, "note", note));
	}
	if (json) {
		cli_print_json(json_pack("{s:s, s:o}", "subnet", path, "routes", arr));
	} else {
		json_decref(arr);
		printf("Effective routes of subnet %s\n", path);
		cli_table_print(&t, stdout);
	}
	cli_table_free(&t);
	free(r);
	return CLI_GOOD;
}

static void
rib_rows(const struct estate *e, const struct rt_rib *rib, bool gateway_side, struct cli_table *t,
         json_t *arr)
{
	for (uint32_t i = 0; i < rib->n; i++) {
		const struct rt_bgp_route *b = &rib->routes[i];
		char pfx[IP_STRLEN];
		ip_prefix_fmt(&b->p, pfx);
		for (uint32_t k = 0; k < b->n; k++) {
			const struct rt_path *p = &rib->paths[b->first + k];
			char asp[128], num[16];
			aspath_text(e, p, gateway_side, asp, sizeof(asp));
			const char *circ = e->circuits.v[p->circuit].name;
			const char *via =
			    gateway_side ? e->connections.v[p->conn].name : links_text(p->links);
			snprintf(num, sizeof(num), "%u", gateway_side ? p->weight : p->local_pref);
			cli_table_row(t, k ? "" : pfx, circ, via, num, asp, p->best ? "best" : "",
			              NULL);
			json_array_append_new(
			    arr, json_pack("{s:s, s:s, s:s, s:i, s:s, s:b}", "prefix", pfx,
			                   "circuit", circ, gateway_side ? "connection" : "links",
			                   via, gateway_side ? "weight" : "localPref",
			                   (int)(gateway_side ? p->weight : p->local_pref),
			                   "asPath", asp, "best", p->best));
		}
	}
}

static int
site_routes(const struct estate *e, const struct rt_net *net, const char *name, bool json)
{
	uint32_t si = est_find(e, EST_K_SITE, name);
	if (si == EST_NONE) {
		fprintf(stderr, "strait: unknown site '%s'\n", name);
		return CLI_UNUSABLE;
	}
	json_t *routers = json_array();
	for (uint32_t r = 0; r < net->nrouters; r++) {
		const struct rt_router *rt = &net->routers[r];
		if (rt->site != si)
			continue;
		struct cli_table t;
		cli_table_init(&t, "Prefix", "Circuit", "Links", "LocalPref", "AS Path", "Selected",
		               NULL);
		json_t *arr = json_array();
		rib_rows(e, &rt->learned, false, &t, arr);
		if (!json) {
			printf("Edge router %s of site %s\n", rt->name, name);
			cli_table_print(&t, stdout);
			printf("\n");
		}
		json_array_append_new(routers,
		                      json_pack("{s:s, s:o}", "router", rt->name, "routes", arr));
		cli_table_free(&t);
	}
	if (json)
		cli_print_json(json_pack("{s:s, s:o}", "site", name, "routers", routers));
	else
		json_decref(routers);
	return CLI_GOOD;
}

static int
gateway_routes(const struct estate *e, const struct rt_net *net, const char *name, bool json)
{
	uint32_t vi;
	const struct est_gateway *g = est_find_gateway(e, name, &vi);
	if (!g) {
		fprintf(stderr, "strait: unknown gateway '%s'\n", name);
		return CLI_UNUSABLE;
	}
	const struct rt_gateway *gw =
	    &net->gws[rt_gw_index(net, vi, (uint32_t)(g - e->vnets.v[vi].gateways.v))];
	json_t *conns = json_array(), *adv = json_array();
	for (uint32_t k = 0; k < e->connections.n; k++) {
		const struct est_connection *c = &e->connections.v[k];
		if (!est_resolved(&c->gateway) || est_ref_gateway(e, &c->gateway) != g)
			continue;
		const struct rt_conn_state *s = &net->conns[k];
		if (!json)
			printf("connection %s to circuit %s: %s%s%s\n", c->name, c->circuit.name,
			       s->up ? "up" : "down", s->up ? "" : ": ", s->up ? "" : s->why_down);
		json_array_append_new(conns, json_pack("{s:s, s:s, s:b, s:s?}", "connection",
		                                       c->name, "circuit", c->circuit.name, "up",
		                                       s->up, "reason", s->why_down));
	}
	struct cli_table t;
	cli_table_init(&t, "Prefix", "Circuit", "Connection", "Weight", "AS Path", "Selected",
	               NULL);
	json_t *learned = json_array();
	rib_rows(e, &gw->learned, true, &t, learned);
	for (uint32_t i = 0; i < gw->advertised.n; i++) {
		char p[IP_STRLEN];
		json_array_append_new(adv, json_string(ip_prefix_fmt(&gw->advertised.v[i], p)));
	}
	if (json) {
		cli_print_json(json_pack("{s:s, s:b, s:o, s:o, s:o, s:b}", "gateway", name, "up",
		                         gw->up, "connections", conns, "learned", learned,
		                         "advertised", adv, "overLimit", gw->over_limit));
	} else {
		printf("\nLearned routes of gateway %s\n", name);
		cli_table_print(&t, stdout);
		printf("\nAdvertised to its circuits (AS path %u %u): %u prefix%s%s\n", RT_ASN_MSEE,
		       RT_ASN_GATEWAY, gw->advertised.n, gw->advertised.n == 1 ? "" : "es",
		       gw->over_limit ? " - over the limit, connections down" : "");
		for (uint32_t i = 0; i < gw->advertised.n; i++) {
			char p[IP_STRLEN];
			printf("  %s\n", ip_prefix_fmt(&gw->advertised.v[i], p));
		}
		json_decref(conns);
		json_decref(learned);
		json_decref(adv);
	}
	cli_table_free(&t);
	return CLI_GOOD;
}

static int
replication_paths(const struct estate *e, const struct rt_net *net, bool json)
{
	uint32_t n;
	struct rt_repl_path *p = rt_repl_paths(net, &n);
	struct cli_table t;
	cli_table_init(&t, "VM", "Replication path", "How", NULL);
	json_t *arr = json_array();
	for (uint32_t i = 0; i < n; i++) {
		const char *vm = e->vms.v[p[i].vm].name, *cls = rt_repl_class_name(p[i].cls);
		cli_table_row(&t, vm, cls, p[i].how, NULL);
		json_array_append_new(
		    arr, json_pack("{s:s, s:s, s:s}", "vm", vm, "path", cls, "how", p[i].how));
	}
	if (json) {
		cli_print_json(json_pack("{s:o}", "replication", arr));
	} else {
		json_decref(arr);
		if (!e->replication)
			printf("the estate replicates nothing\n");
		else
			cli_table_print(&t, stdout);
	}
	cli_table_free(&t);
	free(p);
	return CLI_GOOD;
}

int
cli_cmd_routes(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"subnet", required_argument, NULL, 's'},
	    {"site", required_argument, NULL, 'S'},
	    {"gateway", required_argument, NULL, 'g'},
	    {"fail", required_argument, NULL, 'f'},
	    {"replication", no_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	const char *fmt = "table", *subnet = NULL, *site = NULL, *gw = NULL, *fails[32];
	size_t nfails = 0;
	bool repl = false;
	int o;
	while ((o = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (o) {
		case 'o':
			fmt = optarg;
			break;
		case 's':
			subnet = optarg;
			break;
		case 'S':
			site = optarg;
			break;
		case 'g':
			gw = optarg;
			break;
		case 'r':
			repl = true;
			break;
		case 'f':
			if (nfails < LIB_ARRAY_LEN(fails))
				fails[nfails++] = optarg;
			break;
		default:
			return cli_usage_error("bad option");
		}
	}
	if (strcmp(fmt, "table") && strcmp(fmt, "json"))
		return cli_usage_error("unknown output '%s' (expected table or json)", fmt);
	if (optind != argc - 1)
		return cli_usage_error("expected one estate file");
	if (!!subnet + !!site + !!gw + repl != 1)
		return cli_usage_error(
		    "give one of --subnet VNET/SUBNET, --site SITE, --gateway GW, --replication");
	struct estate *e = cli_load(argv[optind]);
	if (!e)
		return CLI_UNUSABLE;
	struct rt_fail f[32];
	for (size_t i = 0; i < nfails; i++) {
		char err[256];
		if (rt_fail_parse(e, fails[i], &f[i], err, sizeof(err))) {
			est_free(e);
			return cli_usage_error("--fail: %s", err);
		}
	}
	struct rt_net *net;
	rt_build(e, f, nfails, &net);
	bool json = strcmp(fmt, "json") == 0;
	int rc = repl     ? replication_paths(e, net, json)
	         : subnet ? subnet_routes(e, net, subnet, json)
	         : site   ? site_routes(e, net, site, json)
	                  : gateway_routes(e, net, gw, json);
	rt_free(net);
	est_free(e);
	return rc;
}
