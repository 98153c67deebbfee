/*
 * test_route.c - the routing engine's rules, one estate per rule, each
 * expected answer worked out by hand from azure-facts.md (section cited).
 */
#include "testutil.h"

#include "route/rt.h"

/* Two regions, one site (AS 65010) with two circuits at two locations. */
#define BASE                                                                                       \
	"estate: t\n"                                                                              \
	"regions: [{name: ea, geo: asia}, {name: sea, geo: asia}]\n"                               \
	"locations: [{name: hk, geo: asia}, {name: sg, geo: asia}]\n"                              \
	"sites:\n"                                                                                 \
	"  - name: hq\n"                                                                           \
	"    asn: 65010\n"                                                                         \
	"    prefixes: [172.16.0.0/16, 172.17.0.0/16]\n"                                           \
	"    routers: [{name: r1, links: [hk1/primary, sg1/primary]},\n"                           \
	"              {name: r2, links: [hk1/secondary, sg1/secondary]}]\n"                       \
	"circuits:\n"                                                                              \
	"  - {name: hk1, site: hq, location: hk, bandwidth: 1Gbps,\n"                              \
	"     private_peering: {peer_asn: 65010, subnet: 192.168.100.128/29, vlan: 100}}\n"        \
	"  - {name: sg1, site: hq, location: sg, bandwidth: 1Gbps,\n"                              \
	"     private_peering: {peer_asn: 65010, subnet: 192.168.101.128/29, vlan: 200}}\n"

#define HUB_SPOKE(hubrt, spokert)                                                                  \
	"vnets:\n"                                                                                 \
	"  - name: hub\n"                                                                          \
	"    region: ea\n"                                                                         \
	"    address_space: [10.0.0.0/24]\n"                                                       \
	"    subnets: [{name: nva, prefix: 10.0.0.0/26},\n"                                        \
	"              {name: GatewaySubnet, prefix: 10.0.0.224/27" hubrt "}]\n"                   \
	"    gateways: [{name: gw, sku: ErGw1AZ}]\n"                                               \
	"  - name: spoke\n"                                                                        \
	"    region: ea\n"                                                                         \
	"    address_space: [10.1.0.0/24]\n"                                                       \
	"    subnets: [{name: app, prefix: 10.1.0.0/25" spokert "}]\n"                             \
	"peerings:\n"                                                                              \
	"  - {from: spoke, to: hub, allow_forwarded_traffic: true, use_remote_gateways: true}\n"   \
	"  - {from: hub, to: spoke, allow_forwarded_traffic: true, allow_gateway_transit: true}\n"

struct ctx {
	struct estate *e;
	struct rt_net *n;
};

static struct ctx
build(const char *yaml, const char *const *fails, size_t nfails)
{
	struct ctx c = {tu_load(yaml), NULL};
	assert_non_null(c.e);
	struct rt_fail f[8];
	for (size_t i = 0; i < nfails; i++) {
		char err[128];
		if (rt_fail_parse(c.e, fails[i], &f[i], err, sizeof(err)))
			fail_msg("%s", err);
	}
	assert_int_equal(rt_build(c.e, f, nfails, &c.n), 0);
	return c;
}

static void
done(struct ctx *c)
{
	rt_free(c->n);
	est_free(c->e);
}

/* The effective route for prefix p in subnet "vnet/subnet", or NULL; *cnt
 * counts the routes with that prefix. Returned pointer into r (caller frees r). */
static const struct rt_route *
route_of(struct ctx *c, const char *subnet, const char *prefix, int src, struct rt_route **all)
{
	uint32_t vi, n;
	const struct est_subnet *s = est_find_subnet(c->e, subnet, &vi);
	assert_non_null(s);
	*all = rt_subnet_routes(c->n, vi, (uint32_t)(s - c->e->vnets.v[vi].subnets.v), &n);
	struct ip_prefix p;
	assert_int_equal(ip_prefix_parse(prefix, &p), 0);
	for (uint32_t i = 0; i < n; i++)
		if ((*all)[i].p.a.af && ip_prefix_cmp(&(*all)[i].p, &p) == 0 &&
		    (*all)[i].src == src)
			return &(*all)[i];
	return NULL;
}

static struct rt_route
lookup(struct ctx *c, const char *subnet, const char *addr)
{
	uint32_t vi;
	const struct est_subnet *s = est_find_subnet(c->e, subnet, &vi);
	struct ip_addr a;
	struct rt_route r;
	assert_int_equal(ip_addr_parse(addr, &a), 0);
	assert_true(
	    rt_subnet_lookup(c->n, vi, (uint32_t)(s - c->e->vnets.v[vi].subnets.v), &a, &r));
	return r;
}

/* azure-facts 2.1: address spaces to VnetLocal, 0/0 to Internet, reserved to
 * None unless an address space equals or contains the range. */
static void
system_routes(void **state)
{
	struct ctx c =
	    build("estate: t\nregions: [{name: r, geo: g}]\n"
	          "vnets: [{name: v, region: r, address_space: [10.0.0.0/8, 192.168.5.0/24],\n"
	          "         subnets: [{name: s, prefix: 10.1.0.0/24}]}]\n",
	          NULL, 0);
	struct rt_route *all;
	const struct rt_route *r = route_of(&c, "v/s", "10.0.0.0/8", RT_SRC_DEFAULT, &all);
	assert_non_null(r);
	assert_int_equal(r->nh, RT_NH_VNET_LOCAL); /* equal to the reserved range: no None */
	free(all);
	r = route_of(&c, "v/s", "192.168.0.0/16", RT_SRC_DEFAULT, &all);
	assert_non_null(r); /* a sub-range leaves the None /16 in place */
	assert_int_equal(r->nh, RT_NH_NONE);
	free(all);
	r = route_of(&c, "v/s", "0.0.0.0/0", RT_SRC_DEFAULT, &all);
	assert_int_equal(r->nh, RT_NH_INTERNET);
	free(all);
	assert_int_equal(lookup(&c, "v/s", "192.168.5.9").nh, RT_NH_VNET_LOCAL);
	assert_int_equal(lookup(&c, "v/s", "192.168.6.9").nh, RT_NH_NONE);
	assert_int_equal(lookup(&c, "v/s", "8.8.8.8").nh, RT_NH_INTERNET);
	assert_int_equal(lookup(&c, "v/s", "100.64.1.1").nh, RT_NH_NONE);
	done(&c);
}

/* azure-facts 2.2, 2.6: peering routes once both sides exist. */
static void
peering_routes(void **state)
{
	const char *y =
	    "estate: t\nregions: [{name: r, geo: g}]\n"
	    "vnets: [{name: a, region: r, address_space: [10.1.0.0/16], subnets: [{name: s, "
	    "prefix: 10.1.0.0/24}]},\n"
	    "        {name: b, region: r, address_space: [10.2.0.0/16, 10.3.0.0/16]}]\n"
	    "peerings: [{from: a, to: b}%s]\n";
	char buf[512];
	snprintf(buf, sizeof(buf), y, "");
	struct ctx c = build(buf, NULL, 0);
	struct rt_route *all;
	assert_null(route_of(&c, "a/s", "10.2.0.0/16", RT_SRC_DEFAULT, &all)); /* Initiated */
	free(all);
	done(&c);
	snprintf(buf, sizeof(buf), y, ", {from: b, to: a}");
	c = build(buf, NULL, 0);
	const struct rt_route *r = route_of(&c, "a/s", "10.3.0.0/16", RT_SRC_DEFAULT, &all);
	assert_non_null(r);
	assert_int_equal(r->nh, RT_NH_VNET_PEERING);
	assert_int_equal(r->peer_vnet, 1);
	free(all);
	done(&c);
}

/* azure-facts 1.7, 1.10, 2.2, 2.6: hub and spoke both get the site's prefixes
 * from the gateway; the gateway advertises hub and spoke. */
static void
gateway_transit(void **state)
{
	struct ctx c =
	    build(BASE HUB_SPOKE("", "") "connections: [{gateway: gw, circuit: hk1}]\n", NULL, 0);
	struct rt_route *all;
	const struct rt_route *r = route_of(&c, "spoke/app", "172.16.0.0/16", RT_SRC_GATEWAY, &all);
	assert_non_null(r);
	assert_true(r->active);
	assert_int_equal(r->nnh, 1);
	char b[IP_STRLEN];
	assert_string_equal(ip_addr_fmt(&r->nh_ip[0], b), "192.168.100.130"); /* MSEE, primary */
	free(all);
	assert_non_null(route_of(&c, "hub/nva", "172.17.0.0/16", RT_SRC_GATEWAY, &all));
	free(all);
	const struct rt_gateway *gw = &c.n->gws[0];
	assert_int_equal(gw->advertised.n, 2);
	assert_string_equal(ip_prefix_fmt(&gw->advertised.v[0], b), "10.0.0.0/24");
	assert_string_equal(ip_prefix_fmt(&gw->advertised.v[1], b), "10.1.0.0/24");
	/* on-premises: both routers learn both VNets over hk1, AS path 12076 65515 */
	assert_int_equal(c.n->nrouters, 2);
	for (int k = 0; k < 2; k++) {
		const struct rt_rib *rib = &c.n->routers[k].learned;
		assert_int_equal(rib->n, 2);
		assert_int_equal(rib->paths[0].aspath_len, 2);
		assert_int_equal(rib->paths[0].links, k == 0 ? 1 : 2);
	}
	done(&c);
}

/* azure-facts 2.5: propagation off on the spoke's table drops gateway routes there. */
static void
propagation_disabled(void **state)
{
	struct ctx c = build(
	    BASE HUB_SPOKE("", ", route_table: rt") "connections: [{gateway: gw, circuit: hk1}]\n"
	                                            "route_tables: [{name: rt, "
	                                            "propagate_gateway_routes: false}]\n",
	    NULL, 0);
	struct rt_route *all;
	assert_null(route_of(&c, "spoke/app", "172.16.0.0/16", RT_SRC_GATEWAY, &all));
	free(all);
	assert_int_equal(lookup(&c, "spoke/app", "172.16.1.1").nh, RT_NH_NONE); /* 172.16/12 */
	assert_non_null(route_of(&c, "hub/nva", "172.16.0.0/16", RT_SRC_GATEWAY, &all));
	free(all);
	done(&c);
}

/* azure-facts 2.4: user over gateway over system on equal prefixes; a
 * gateway 0/0 (forced tunnelling) beats the system 0/0. */
static void
precedence(void **state)
{
	struct ctx c = build(
	    "estate: t\n"
	    "regions: [{name: ea, geo: asia}]\nlocations: [{name: hk, geo: asia}]\n"
	    "sites: [{name: hq, asn: 65010, prefixes: [0.0.0.0/0, 172.16.0.0/16, 10.0.0.128/25]}]\n"
	    "circuits: [{name: c, site: hq, location: hk, bandwidth: 1Gbps,\n"
	    "            private_peering: {peer_asn: 65010, subnet: 192.168.0.0/29, vlan: 1}}]\n"
	    "vnets: [{name: v, region: ea, address_space: [10.0.0.0/24],\n"
	    "         subnets: [{name: s, prefix: 10.0.0.0/26, route_table: rt},\n"
	    "                   {name: n, prefix: 10.0.0.64/26},\n"
	    "                   {name: GatewaySubnet, prefix: 10.0.0.224/27}],\n"
	    "         gateways: [{name: gw, sku: ErGw1AZ}]}]\n"
	    "connections: [{gateway: gw, circuit: c}]\n"
	    "appliances: [{name: fw, subnet: v/n, ip: 10.0.0.68}]\n"
	    "route_tables: [{name: rt, routes: [{name: u, prefix: 172.16.0.0/16, next_hop: "
	    "virtual_appliance, ip: 10.0.0.68}]}]\n",
	    NULL, 0);
	struct rt_route *all;
	const struct rt_route *r = route_of(&c, "v/s", "172.16.0.0/16", RT_SRC_GATEWAY, &all);
	assert_false(r->active);
	assert_string_equal(r->why, "overridden by a user route");
	free(all);
	r = route_of(&c, "v/s", "0.0.0.0/0", RT_SRC_DEFAULT, &all);
	assert_false(r->active);
	assert_string_equal(r->why, "overridden by a gateway route");
	free(all);
	/* the exception: 10.0.0.128/25 from on-premises is inside the VNet range */
	r = route_of(&c, "v/s", "10.0.0.128/25", RT_SRC_GATEWAY, &all);
	assert_false(r->active);
	free(all);
	assert_int_equal(lookup(&c, "v/s", "10.0.0.130").nh, RT_NH_VNET_LOCAL);
	assert_int_equal(lookup(&c, "v/s", "172.16.9.9").nh, RT_NH_APPLIANCE);
	assert_int_equal(lookup(&c, "v/s", "8.8.8.8").nh, RT_NH_GATEWAY);
	assert_int_equal(lookup(&c, "v/n", "172.16.9.9").nh, RT_NH_GATEWAY);
	done(&c);
}

/* azure-facts 1.10: the gateway prefers the higher weight, then the shorter
 * AS path; equal ones share (ECMP). */
static void
gateway_selection(void **state)
{
	const char *fmt = BASE HUB_SPOKE("", "") "connections: [{gateway: gw, circuit: hk1, "
	                                         "weight: %d}, {gateway: gw, circuit: sg1}]\n";
	char y[4096];
	snprintf(y, sizeof(y), fmt, 10);
	struct ctx c = build(y, NULL, 0);
	const struct rt_rib *rib = &c.n->gws[0].learned;
	assert_int_equal(rib->n, 2);
	assert_int_equal(rib->routes[0].n, 2);
	assert_int_equal(rib->routes[0].nbest, 1);
	assert_string_equal(c.e->circuits.v[rib->paths[rib->routes[0].first].circuit].name, "hk1");
	done(&c);
	snprintf(y, sizeof(y), fmt, 0);
	c = build(y, NULL, 0);
	rib = &c.n->gws[0].learned;
	assert_int_equal(rib->routes[0].nbest, 2); /* ECMP over both circuits */
	done(&c);
	/* equal weights, the site prepends twice on sg1: hk1 wins on AS-path length */
	char *y2 = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&y2, &n);
	fprintf(f, fmt, 0);
	fclose(f);
	char *at = strstr(y2, "    routers:");
	assert_non_null(at);
	char y3[4096];
	snprintf(y3, sizeof(y3), "%.*s    circuits: [{circuit: sg1, prepend: 2}]\n%s",
	         (int)(at - y2), y2, at);
	free(y2);
	c = build(y3, NULL, 0);
	rib = &c.n->gws[0].learned;
	assert_int_equal(rib->routes[0].nbest, 1);
	assert_string_equal(c.e->circuits.v[rib->paths[rib->routes[0].first].circuit].name, "hk1");
	assert_int_equal(rib->paths[rib->routes[0].first + 1].aspath_len, 3);
	done(&c);
}

/* azure-facts 1.10: on-premises chooses by local preference, then AS path. */
static void
onprem_selection(void **state)
{
	char y[4096];
	snprintf(y, sizeof(y), "%s",
	         BASE HUB_SPOKE("", "") "connections: [{gateway: gw, circuit: hk1}, {gateway: gw, "
	                                "circuit: sg1}]\n");
	struct ctx c = build(y, NULL, 0);
	const struct rt_rib *rib = &c.n->routers[0].learned;
	assert_int_equal(rib->routes[0].nbest, 2); /* equal: both circuits */
	done(&c);
	char *at = strstr(y, "    routers:");
	char y2[4096];
	snprintf(y2, sizeof(y2), "%.*s    circuits: [{circuit: sg1, local_pref: 300}]\n%s",
	         (int)(at - y), y, at);
	c = build(y2, NULL, 0);
	rib = &c.n->routers[0].learned;
	assert_int_equal(rib->routes[0].nbest, 1);
	assert_string_equal(c.e->circuits.v[rib->paths[rib->routes[0].first].circuit].name, "sg1");
	assert_int_equal(rib->paths[rib->routes[0].first].local_pref, 300);
	done(&c);
}

/* azure-facts 1.7: over the on-premises prefix limit the sessions drop; over
 * the VNet prefix limit the connection goes down. */
static void
limits(void **state)
{
	char y[4096];
	snprintf(y, sizeof(y), "%slimits: {private_v4_prefixes: 1}\n",
	         BASE HUB_SPOKE("", "") "connections: [{gateway: gw, circuit: hk1}]\n");
	struct ctx c = build(y, NULL, 0);
	assert_true(c.n->circuits[0].over_limit);
	assert_false(c.n->conns[0].up);
	assert_int_equal(c.n->gws[0].learned.n, 0);
	assert_int_equal(c.n->routers[0].learned.n, 0);
	done(&c);
	snprintf(y, sizeof(y), "%slimits: {vnet_prefixes_to_circuit: 1}\n",
	         BASE HUB_SPOKE("", "") "connections: [{gateway: gw, circuit: hk1}]\n");
	c = build(y, NULL, 0);
	assert_true(c.n->gws[0].over_limit);
	assert_false(c.n->conns[0].up);
	assert_string_equal(c.n->conns[0].why_down,
	                    "VNet prefixes over the limit: connection down");
	done(&c);
}

/* Failures: a link takes one router's routes, a location the circuit's. */
static void
failures(void **state)
{
	const char *y = BASE HUB_SPOKE("", "") "connections: [{gateway: gw, circuit: hk1}, "
	                                       "{gateway: gw, circuit: sg1}]\n";
	const char *f1[] = {"link:hk1/primary"};
	struct ctx c = build(y, f1, 1);
	const struct rt_rib *r1 = &c.n->routers[0].learned, *r2 = &c.n->routers[1].learned;
	assert_int_equal(r1->routes[0].n, 1); /* r1 keeps sg1/primary only */
	assert_string_equal(c.e->circuits.v[r1->paths[r1->routes[0].first].circuit].name, "sg1");
	assert_int_equal(r2->routes[0].n, 2);
	assert_true(c.n->conns[0].up); /* the secondary link still carries hk1 */
	done(&c);
	const char *f2[] = {"location:hk"};
	c = build(y, f2, 1);
	assert_false(c.n->conns[0].up);
	assert_string_equal(c.n->conns[0].why_down, "peering location failed");
	assert_true(c.n->conns[1].up);
	assert_int_equal(c.n->gws[0].learned.routes[0].n, 1);
	done(&c);
	const char *f3[] = {"region:ea"};
	c = build(y, f3, 1);
	assert_false(c.n->gws[0].up);
	assert_false(c.n->conns[0].up);
	assert_int_equal(c.n->routers[0].learned.n, 0);
	done(&c);
	struct estate *e = tu_load(y);
	struct rt_fail f;
	char err[128];
	assert_int_equal(rt_fail_parse(e, "link:hk1/tertiary", &f, err, sizeof(err)), -EINVAL);
	assert_int_equal(rt_fail_parse(e, "circuit:nope", &f, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "unknown circuit 'nope'");
	assert_int_equal(rt_fail_parse(e, "gateway:gw", &f, err, sizeof(err)), 0);
	assert_int_equal(rt_fail_parse(e, "bogus", &f, err, sizeof(err)), -EINVAL);
	est_free(e);
}

/* azure-facts 1.13: Global Reach brings the linked circuit's site, not transitively. */
static void
global_reach(void **state)
{
	struct ctx c = build(
	    "estate: t\nregions: [{name: r, geo: g}]\n"
	    "locations: [{name: l1, geo: g}, {name: l2, geo: g}, {name: l3, geo: g}]\n"
	    "sites: [{name: a, asn: 65001, prefixes: [172.16.1.0/24]},\n"
	    "        {name: b, asn: 65002, prefixes: [172.16.2.0/24]},\n"
	    "        {name: c, asn: 65003, prefixes: [172.16.3.0/24]}]\n"
	    "circuits:\n"
	    "  - {name: ca, site: a, location: l1, bandwidth: 1Gbps, private_peering: {peer_asn: "
	    "65001, subnet: 192.168.1.0/29, vlan: 1}}\n"
	    "  - {name: cb, site: b, location: l2, bandwidth: 1Gbps, private_peering: {peer_asn: "
	    "65002, subnet: 192.168.2.0/29, vlan: 1}}\n"
	    "  - {name: cc, site: c, location: l3, bandwidth: 1Gbps, private_peering: {peer_asn: "
	    "65003, subnet: 192.168.3.0/29, vlan: 1}}\n"
	    "global_reach: [{circuits: [ca, cb]}, {circuits: [cb, cc]}]\n",
	    NULL, 0);
	/* routers: a/edge, b/edge, c/edge */
	assert_int_equal(c.n->routers[0].learned.n, 1); /* a learns b only, not c */
	assert_int_equal(c.n->routers[0].learned.paths[0].origin_asn, 65002);
	assert_int_equal(c.n->routers[1].learned.n, 2); /* b learns a and c */
	assert_int_equal(c.n->routers[2].learned.n, 1);
	done(&c);
}

/* azure-facts 1.7: summarized_prefixes replace the spoke prefixes they cover. */
static void
summarization(void **state)
{
	struct ctx c =
	    build("estate: t\nregions: [{name: r, geo: g}]\n"
	          "vnets:\n"
	          "  - {name: hub, region: r, address_space: [10.0.0.0/24],\n"
	          "     summarized_prefixes: [10.8.0.0/13], gateways: [{name: gw, sku: ErGw1AZ}]}\n"
	          "  - {name: s1, region: r, address_space: [10.8.0.0/24]}\n"
	          "  - {name: s2, region: r, address_space: [10.9.0.0/24]}\n"
	          "  - {name: s3, region: r, address_space: [10.20.0.0/24]}\n"
	          "peerings:\n"
	          "  - {from: s1, to: hub, use_remote_gateways: true}\n"
	          "  - {from: hub, to: s1, allow_gateway_transit: true}\n"
	          "  - {from: s2, to: hub, use_remote_gateways: true}\n"
	          "  - {from: hub, to: s2, allow_gateway_transit: true}\n"
	          "  - {from: s3, to: hub, use_remote_gateways: true}\n"
	          "  - {from: hub, to: s3, allow_gateway_transit: true}\n",
	          NULL, 0);
	const struct rt_gateway *gw = &c.n->gws[0];
	char b[IP_STRLEN];
	assert_int_equal(gw->advertised.n, 3);
	assert_string_equal(ip_prefix_fmt(&gw->advertised.v[0], b), "10.0.0.0/24");
	assert_string_equal(ip_prefix_fmt(&gw->advertised.v[1], b), "10.8.0.0/13");
	assert_string_equal(ip_prefix_fmt(&gw->advertised.v[2], b), "10.20.0.0/24");
	done(&c);
}

/* Replication paths (seeds; azure-facts 3.9): a service endpoint keeps the
 * traffic on the backbone; a 0/0 UDR sends it through the NVA; a 0/0 from
 * on-premises forces it over ExpressRoute; the system Internet route keeps
 * it on the backbone. */
static int
repl_class(const char *yaml)
{
	struct ctx c = build(yaml, NULL, 0);
	uint32_t n;
	struct rt_repl_path *p = rt_repl_paths(c.n, &n);
	assert_int_equal(n, 1);
	int cls = p[0].cls;
	free(p);
	done(&c);
	return cls;
}

#define REPL(prefixes, se, rt)                                                                     \
	"estate: t\n"                                                                              \
	"regions: [{name: ea, geo: asia}, {name: sea, geo: asia}]\nlocations: [{name: hk, geo: "   \
	"asia}]\n"                                                                                 \
	"sites: [{name: hq, asn: 65010, prefixes: [" prefixes "]}]\n"                              \
	"circuits: [{name: c, site: hq, location: hk, bandwidth: 1Gbps,\n"                         \
	"            private_peering: {peer_asn: 65010, subnet: 192.168.0.0/29, vlan: 1}}]\n"      \
	"vnets: [{name: v, region: ea, address_space: [10.0.0.0/24],\n"                            \
	"         subnets: [{name: s, prefix: 10.0.0.0/26" se rt "},\n"                            \
	"                   {name: n, prefix: 10.0.0.64/26},\n"                                    \
	"                   {name: GatewaySubnet, prefix: 10.0.0.224/27}],\n"                      \
	"         gateways: [{name: gw, sku: ErGw1AZ}]}]\n"                                        \
	"connections: [{gateway: gw, circuit: c}]\n"                                               \
	"appliances: [{name: fw, subnet: v/n, ip: 10.0.0.68}]\n"                                   \
	"route_tables: [{name: rt, routes: [{prefix: 0.0.0.0/0, next_hop: virtual_appliance, ip: " \
	"10.0.0.68}]}]\n"                                                                          \
	"vms: [{name: m, subnet: v/s, ip: 10.0.0.4}]\n"                                            \
	"replication: {source: ea, target: sea, protect: [m]}\n"

static void
replication_paths(void **state)
{
	assert_int_equal(repl_class(REPL("172.16.0.0/16", "", "")), RT_REPL_BACKBONE);
	assert_int_equal(repl_class(REPL("172.16.0.0/16", "", ", route_table: rt")), RT_REPL_NVA);
	assert_int_equal(
	    repl_class(REPL("172.16.0.0/16", ", service_endpoints: [Microsoft.Storage]",
	                    ", route_table: rt")),
	    RT_REPL_BACKBONE);
	assert_int_equal(repl_class(REPL("0.0.0.0/0", "", "")), RT_REPL_EXPRESSROUTE_PRIVATE);
}

/* ---- what-if: sharing untouched RIBs gives the same answer ------------- */

static void
rib_equal(const struct rt_rib *a, const struct rt_rib *b)
{
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->npaths, b->npaths);
	for (uint32_t i = 0; i < a->n; i++) {
		assert_int_equal(ip_prefix_cmp(&a->routes[i].p, &b->routes[i].p), 0);
		assert_int_equal(a->routes[i].nbest, b->routes[i].nbest);
	}
	for (uint32_t i = 0; i < a->npaths; i++) {
		const struct rt_path *x = &a->paths[i], *y = &b->paths[i];
		assert_int_equal(x->circuit, y->circuit);
		assert_int_equal(x->links, y->links);
		assert_int_equal(x->best, y->best);
		assert_int_equal(x->aspath_len, y->aspath_len);
	}
}

/* sites s0..s3, circuits c0..c7 (two per site, at locations l0..l3), hubs
 * h0..h7 each connected to two circuits, two spokes per hub. */
static char *
mesh(void)
{
	char *y = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&y, &n);
	fprintf(f, "estate: mesh\nregions: [{name: r0, geo: g}, {name: r1, geo: g}]\n"
	           "locations: [{name: l0, geo: g}, {name: l1, geo: g}, {name: l2, geo: g}, "
	           "{name: l3, geo: g}]\nsites:\n");
	for (int s = 0; s < 4; s++)
		fprintf(
		    f,
		    "  - {name: s%d, asn: %d, prefixes: [172.%d.0.0/16, 172.%d.0.0/16],\n"
		    "     routers: [{name: a, links: [c%d/primary, c%d/primary]}, {name: b, links: "
		    "[c%d/secondary, c%d/secondary]}]}\n",
		    s, 65001 + s, 16 + s, 24 + s, 2 * s, 2 * s + 1, 2 * s, 2 * s + 1);
	fprintf(f, "circuits:\n");
	for (int c = 0; c < 8; c++)
		fprintf(
		    f,
		    "  - {name: c%d, site: s%d, location: l%d, bandwidth: 1Gbps, tier: premium,\n"
		    "     private_peering: {peer_asn: %d, subnet: 192.168.%d.0/29, vlan: 1}}\n",
		    c, c / 2, c % 4, 65001 + c / 2, c);
	fprintf(f, "global_reach: [{circuits: [c0, c3]}, {circuits: [c4, c7]}]\nvnets:\n");
	for (int h = 0; h < 8; h++) {
		fprintf(f,
		        "  - {name: h%d, region: r%d, address_space: [10.%d.0.0/24],\n"
		        "     gateways: [{name: g%d, sku: ErGw2AZ}]}\n",
		        h, h % 2, h * 3, h);
		for (int k = 1; k <= 2; k++)
			fprintf(f,
			        "  - {name: h%ds%d, region: r%d, address_space: [10.%d.0.0/24]}\n",
			        h, k, h % 2, h * 3 + k);
	}
	fprintf(f, "connections:\n");
	for (int h = 0; h < 8; h++)
		fprintf(f,
		        "  - {gateway: g%d, circuit: c%d, weight: %d}\n  - {gateway: g%d, circuit: "
		        "c%d}\n",
		        h, h, h % 3, h, (h + 3) % 8);
	fprintf(f, "peerings:\n");
	for (int h = 0; h < 8; h++)
		for (int k = 1; k <= 2; k++)
			fprintf(f,
			        "  - {from: h%ds%d, to: h%d, use_remote_gateways: true}\n"
			        "  - {from: h%d, to: h%ds%d, allow_gateway_transit: true}\n",
			        h, k, h, h, h, k);
	fclose(f);
	return y;
}

static void
whatif_matches_rebuild(void **state)
{
	char *y = mesh();
	struct estate *e = tu_load(y);
	assert_non_null(e);
	const char *fails[] = {"circuit:c0",      "circuit:c5",        "location:l1",
	                       "link:c2/primary", "link:c7/secondary", "gateway:g3",
	                       "region:r1",       "connection:g4-c4"};
	struct rt_net *base;
	rt_build(e, NULL, 0, &base);
	uint32_t full = base->rebuilt;
	assert_int_equal(full, 8 + 8); /* 8 gateways, 8 routers */
	for (size_t i = 0; i < LIB_ARRAY_LEN(fails); i++) {
		struct rt_fail f;
		char err[128];
		assert_int_equal(rt_fail_parse(e, fails[i], &f, err, sizeof(err)), 0);
		struct rt_net *a, *b;
		rt_build(e, &f, 1, &a);
		rt_whatif(base, &f, 1, &b);
		for (uint32_t g = 0; g < a->ngws; g++) {
			assert_int_equal(a->gws[g].up, b->gws[g].up);
			rib_equal(&a->gws[g].learned, &b->gws[g].learned);
		}
		for (uint32_t r = 0; r < a->nrouters; r++)
			rib_equal(&a->routers[r].learned, &b->routers[r].learned);
		for (uint32_t k = 0; k < e->connections.n; k++)
			assert_int_equal(a->conns[k].up, b->conns[k].up);
		/* only what the failure touched; a region here touches every circuit */
		if (strncmp(fails[i], "region:", 7) == 0)
			assert_true(b->rebuilt <= full);
		else
			assert_true(b->rebuilt < full);
		rt_free(a);
		rt_free(b);
	}
	rt_free(base);
	est_free(e);
	free(y);
}

/* A large RIB answers through its Poptrie; the answers equal the binary
 * search over the sorted routes. */
static void
large_rib(void **state)
{
	char *y = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&y, &len);
	fprintf(f, "estate: t\nregions: [{name: r, geo: g}]\nlocations: [{name: l, geo: g}]\n"
	           "sites: [{name: hq, asn: 65010, prefixes: [");
	for (int i = 0; i < 300; i++) /* nested: /16s with /24s inside some of them */
		fprintf(f, "%s172.%d.%d.0/%d", i ? ", " : "", 16 + i % 16, i / 16 * 8,
		        i % 3 ? 24 : 21);
	fprintf(f, "]}]\ncircuits: [{name: c, site: hq, location: l, bandwidth: 1Gbps, tier: "
	           "premium,\n  private_peering: {peer_asn: 65010, subnet: 192.168.0.0/29, vlan: "
	           "1}}]\n"
	           "vnets: [{name: v, region: r, address_space: [10.0.0.0/24], gateways: [{name: "
	           "gw, sku: ErGw1AZ}]}]\n"
	           "connections: [{gateway: gw, circuit: c}]\n");
	fclose(f);
	struct ctx c = build(y, NULL, 0);
	free(y);
	const struct rt_rib *rib = &c.n->gws[0].learned;
	assert_int_equal(rib->n, 300);
	assert_non_null(rib->fib);
	struct rt_rib plain = *rib;
	plain.fib = NULL;
	uint64_t x = 12345;
	for (int i = 0; i < 20000; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		struct ip_addr a = {.af = IP_V4};
		uint32_t v = (uint32_t)(x >> 32);
		v = (v & 0x000fffffu) | 0xac000000u; /* 172.0.0.0/12-ish: many hits */
		a.b[0] = (uint8_t)(v >> 24);
		a.b[1] = (uint8_t)(v >> 16);
		a.b[2] = (uint8_t)(v >> 8);
		a.b[3] = (uint8_t)v;
		assert_ptr_equal(rt_rib_lookup(rib, &a), rt_rib_lookup(&plain, &a));
	}
	done(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(system_routes),
	    cmocka_unit_test(peering_routes),
	    cmocka_unit_test(gateway_transit),
	    cmocka_unit_test(propagation_disabled),
	    cmocka_unit_test(precedence),
	    cmocka_unit_test(gateway_selection),
	    cmocka_unit_test(onprem_selection),
	    cmocka_unit_test(limits),
	    cmocka_unit_test(failures),
	    cmocka_unit_test(global_reach),
	    cmocka_unit_test(summarization),
	    cmocka_unit_test(replication_paths),
	    cmocka_unit_test(whatif_matches_rebuild),
	    cmocka_unit_test(large_rib),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
