/*
 * test_trace.c - traces: every ending (delivered, dropped, no route, loop,
 * blocked, internet) on a small hub and spoke, with the reasoning beside
 * each expectation (azure-facts 2.4, 2.6).
 */
#include "testutil.h"

#include "route/rt.h"

/* hub 10.0.0.0/24 with an NVA at 10.0.0.4 and an ER gateway; spokes a and b;
 * site hq 172.16.0.0/16 over circuit c. FWD and AB fill in the flags and the
 * spokes' route table. */
#define ESTATE(fwd_a, fwd_b, rt_routes, nva_fwd)                                                   \
	"estate: t\n"                                                                              \
	"regions: [{name: r, geo: g}]\nlocations: [{name: l, geo: g}]\n"                           \
	"sites: [{name: hq, asn: 65010, prefixes: [172.16.0.0/16]}]\n"                             \
	"circuits: [{name: c, site: hq, location: l, bandwidth: 1Gbps,\n"                          \
	"            private_peering: {peer_asn: 65010, subnet: 192.168.0.0/29, vlan: 1}}]\n"      \
	"vnets:\n"                                                                                 \
	"  - {name: hub, region: r, address_space: [10.0.0.0/24],\n"                               \
	"     subnets: [{name: nva, prefix: 10.0.0.0/26}, {name: GatewaySubnet, prefix: "          \
	"10.0.0.224/27}],\n"                                                                       \
	"     gateways: [{name: gw, sku: ErGw1AZ}]}\n"                                             \
	"  - {name: a, region: r, address_space: [10.1.0.0/24], subnets: [{name: s, prefix: "      \
	"10.1.0.0/25, route_table: rt}]}\n"                                                        \
	"  - {name: b, region: r, address_space: [10.2.0.0/24], subnets: [{name: s, prefix: "      \
	"10.2.0.0/25, route_table: rt}]}\n"                                                        \
	"connections: [{gateway: gw, circuit: c}]\n"                                               \
	"peerings:\n"                                                                              \
	"  - {from: a, to: hub, use_remote_gateways: true, allow_forwarded_traffic: " fwd_a "}\n"  \
	"  - {from: hub, to: a, allow_gateway_transit: true}\n"                                    \
	"  - {from: b, to: hub, use_remote_gateways: true, allow_forwarded_traffic: " fwd_b "}\n"  \
	"  - {from: hub, to: b, allow_gateway_transit: true}\n"                                    \
	"route_tables: [{name: rt, routes: [" rt_routes "]}]\n"                                    \
	"appliances: [{name: fw, subnet: hub/nva, ip: 10.0.0.4, ip_forwarding: " nva_fwd "}]\n"    \
	"vms: [{name: va, subnet: a/s, ip: 10.1.0.4}, {name: vb, subnet: b/s, ip: 10.2.0.4}]\n"

#define VIA_NVA "{prefix: 10.0.0.0/8, next_hop: virtual_appliance, ip: 10.0.0.4}"

static struct rt_trace
trace(const char *yaml, const char *from, const char *to, const char *fail)
{
	struct estate *e = tu_load(yaml);
	assert_non_null(e);
	struct rt_endpoint f, t;
	char err[128];
	if (rt_endpoint_parse(e, from, &f, err, sizeof(err)) ||
	    rt_endpoint_parse(e, to, &t, err, sizeof(err)))
		fail_msg("%s", err);
	struct rt_fail fl;
	if (fail && rt_fail_parse(e, fail, &fl, err, sizeof(err)))
		fail_msg("%s", err);
	struct rt_net *n;
	rt_build(e, &fl, fail ? 1 : 0, &n);
	struct rt_trace tr;
	rt_trace(n, &f, &t, &tr);
	rt_free(n);
	est_free(e);
	return tr;
}

static bool
crosses(const struct rt_trace *t, int kind, const char *name)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->hops[i].kind == kind && strcmp(t->hops[i].name, name) == 0)
			return true;
	return false;
}

/* Spoke to spoke through the hub NVA: the UDR 10/8 beats the None 10/8 on
 * an equal prefix; the NVA delivers over the hub-b peering; the packet did
 * not originate in the hub, so b's peering to the hub must allow forwarded
 * traffic (2.6). */
static void
spoke_to_spoke(void **state)
{
	struct rt_trace t = trace(ESTATE("true", "true", VIA_NVA, "true"), "va", "vb", NULL);
	assert_int_equal(t.verdict, RT_DELIVERED);
	assert_true(crosses(&t, RT_HOP_APPLIANCE, "fw"));
	assert_true(crosses(&t, RT_HOP_SUBNET, "b/s"));
	assert_int_equal(t.napp, 1);
	t = trace(ESTATE("true", "false", VIA_NVA, "true"), "va", "vb", NULL);
	assert_int_equal(t.verdict, RT_BLOCKED);
	assert_non_null(strstr(t.why, "peering 'b-to-hub' does not allow forwarded traffic"));
	t = trace(ESTATE("true", "true", VIA_NVA, "false"), "va", "vb", NULL);
	assert_int_equal(t.verdict, RT_DROPPED);
	assert_non_null(strstr(t.why, "ip_forwarding off"));
}

/* Without the UDR, 10.2.0.4 from a matches the system route 10.0.0.0/8 ->
 * None (peering is not transitive): dropped. */
static void
no_transit_without_udr(void **state)
{
	struct rt_trace t = trace(ESTATE("true", "true", "", "true"), "va", "vb", NULL);
	assert_int_equal(t.verdict, RT_DROPPED);
	assert_non_null(strstr(t.why, "10.0.0.0/8 -> None"));
}

/* A UDR to an IP where no appliance is: dropped with the reason. */
static void
missing_appliance(void **state)
{
	struct rt_trace t =
	    trace(ESTATE("true", "true",
	                 "{prefix: 10.0.0.0/8, next_hop: virtual_appliance, ip: 10.0.0.9}", "true"),
	          "va", "vb", NULL);
	assert_int_equal(t.verdict, RT_DROPPED);
	assert_non_null(strstr(t.why, "no appliance has 10.0.0.9"));
}

/* On-premises to a spoke: site router, circuit link, gateway, then the hub's
 * GatewaySubnet routes: the peering route to a, gateway transit, no
 * forwarded-traffic flag needed. Back: the gateway route in a. */
static void
onprem(void **state)
{
	struct rt_trace t = trace(ESTATE("false", "false", "", "true"), "hq", "va", NULL);
	assert_int_equal(t.verdict, RT_DELIVERED);
	assert_true(crosses(&t, RT_HOP_LINK, "c/primary"));
	assert_true(crosses(&t, RT_HOP_GATEWAY, "gw"));
	assert_int_equal(t.circuit, 0);
	t = trace(ESTATE("false", "false", "", "true"), "va", "172.16.9.9", NULL);
	assert_int_equal(t.verdict, RT_DELIVERED);
	assert_non_null(strstr(t.why, "delivered at site hq"));
	/* the primary link down: the secondary carries it */
	t = trace(ESTATE("false", "false", "", "true"), "hq", "va", "link:c/primary");
	assert_int_equal(t.verdict, RT_DELIVERED);
	assert_true(crosses(&t, RT_HOP_LINK, "c/secondary"));
	/* the circuit down: no route at the site */
	t = trace(ESTATE("false", "false", "", "true"), "hq", "va", "circuit:c");
	assert_int_equal(t.verdict, RT_NO_ROUTE);
}

/* On-premises through a UDR on a's subnet to the NVA and back to the site:
 * 0.0.0.0/0 to the NVA in a; the NVA's subnet has the gateway route. */
static void
internet_and_loop(void **state)
{
	/* no UDR: 8.8.8.8 leaves by the system 0/0 */
	struct rt_trace t = trace(ESTATE("true", "true", "", "true"), "va", "8.8.8.8", NULL);
	assert_int_equal(t.verdict, RT_INTERNET);
	/* a's NVA route points at an appliance in a itself, whose subnet (with the
	 * same table) sends it back to itself: a loop */
	struct rt_trace l =
	    trace("estate: t\nregions: [{name: r, geo: g}]\n"
	          "vnets: [{name: a, region: r, address_space: [10.1.0.0/24],\n"
	          "         subnets: [{name: s, prefix: 10.1.0.0/25, route_table: rt},\n"
	          "                   {name: n, prefix: 10.1.0.128/25, route_table: rt}]}]\n"
	          "route_tables: [{name: rt, routes: [{prefix: 0.0.0.0/0, next_hop: "
	          "virtual_appliance, ip: 10.1.0.132}]}]\n"
	          "appliances: [{name: fw, subnet: a/n, ip: 10.1.0.132}]\n"
	          "vms: [{name: va, subnet: a/s, ip: 10.1.0.4}]\n",
	          "va", "8.8.8.8", NULL);
	assert_int_equal(l.verdict, RT_LOOP);
}

static void
endpoints(void **state)
{
	struct estate *e = tu_load(ESTATE("true", "true", "", "true"));
	struct rt_endpoint p;
	char err[128];
	assert_int_equal(rt_endpoint_parse(e, "hq", &p, err, sizeof(err)), 0);
	assert_true(p.onprem);
	char b[IP_STRLEN];
	assert_string_equal(ip_addr_fmt(&p.ip, b), "172.16.0.1");
	assert_int_equal(rt_endpoint_parse(e, "10.2.0.9", &p, err, sizeof(err)), 0);
	assert_false(p.onprem);
	assert_int_equal(p.vnet, 2);
	assert_int_equal(rt_endpoint_parse(e, "8.8.8.8", &p, err, sizeof(err)), 0);
	assert_true(p.external);
	assert_int_equal(rt_endpoint_parse(e, "nobody", &p, err, sizeof(err)), -ENOENT);
	est_free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(spoke_to_spoke),    cmocka_unit_test(no_transit_without_udr),
	    cmocka_unit_test(missing_appliance), cmocka_unit_test(onprem),
	    cmocka_unit_test(internet_and_loop), cmocka_unit_test(endpoints),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
