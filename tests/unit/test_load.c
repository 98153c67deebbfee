/*
 * test_load.c - the loader: values, references, planned objects, and every
 * kind of error with its position, path and hint.
 */
#include "testutil.h"

#define HEAD                                                                                       \
	"estate: t\n"                                                                              \
	"regions: [{name: eastasia, geo: asia}, {name: southeastasia, geo: asia}]\n"               \
	"locations: [{name: hong-kong, geo: asia, local_regions: [eastasia]}]\n"                   \
	"sites: [{name: hq, asn: 65010, prefixes: [172.16.0.0/16]}]\n"

static void
test_minimal(void **state)
{
	struct estate *e = tu_load("estate: x\n");
	assert_non_null(e);
	assert_string_equal(e->name, "x");
	assert_int_equal(e->vnets.n, 0);
	assert_null(e->replication);
	assert_int_equal(est_limit(e, EST_LIM_CIRCUITS_PER_LOCATION_PER_VNET), 1);
	assert_int_equal(est_limit(e, EST_LIM_PRIVATE_V4_PREFIXES), 4000);
	est_free(e);
}

static void
test_values_and_refs(void **state)
{
	struct estate *e = tu_load(
	    HEAD
	    "circuits:\n"
	    "  - {name: er-hk, site: hq, location: hong-kong, bandwidth: 2Gbps, tier: Premium,\n"
	    "     private_peering: {peer_asn: 65010, subnet: 192.168.100.128/29, vlan: 100}}\n"
	    "vnets:\n"
	    "  - name: hub\n"
	    "    region: eastasia\n"
	    "    address_space: [10.0.0.0/24, 'fd00:1::/48']\n"
	    "    subnets: [{name: GatewaySubnet, prefix: 10.0.0.224/27}]\n"
	    "    gateways: [{name: gw, sku: ergw2az}]\n"
	    "connections: [{gateway: gw, circuit: er-hk, weight: 100}]\n"
	    "vms: [{name: a, subnet: hub/GatewaySubnet, disks: [{name: os, size: 1TiB}]}]\n"
	    "replication: {source: eastasia, target: southeastasia,\n"
	    "              policy: {crash_consistent_every: 30s, retention: 2d}}\n");
	assert_non_null(e);
	const struct est_circuit *c = &e->circuits.v[0];
	assert_true(c->bandwidth == 2000);
	assert_int_equal(c->tier, EST_TIER_PREMIUM);
	assert_int_equal(c->provider_state, EST_PS_PROVISIONED); /* default */
	assert_true(est_resolved(&c->site));
	assert_int_equal(c->site.i, 0);
	char b[IP_STRLEN];
	/* a /29 splits into the two link /30s */
	assert_string_equal(ip_prefix_fmt(&c->private_peering->link_net[0], b),
	                    "192.168.100.128/30");
	assert_string_equal(ip_prefix_fmt(&c->private_peering->link_net[1], b),
	                    "192.168.100.132/30");
	const struct est_vnet *v = &e->vnets.v[0];
	assert_int_equal(v->address_space.n, 2);
	assert_int_equal(v->address_space.v[1].a.af, IP_V6);
	assert_int_equal(v->gateways.v[0].sku, EST_SKU_ERGW2AZ);
	const struct est_connection *k = &e->connections.v[0];
	assert_string_equal(k->name, "gw-er-hk"); /* default name */
	assert_true(k->enabled);
	assert_int_equal(k->gateway.i, 0);
	assert_int_equal(k->gateway.j, 0);
	assert_non_null(est_ref_gateway(e, &k->gateway));
	const struct est_vm *vm = &e->vms.v[0];
	assert_int_equal(vm->subnet.i, 0);
	assert_int_equal(vm->subnet.j, 0);
	assert_true(vm->disks.v[0].size == 1ull << 40);
	assert_int_equal(e->replication->policy.crash_consistent_every, 30);
	assert_int_equal(e->replication->policy.retention, 172800);
	assert_int_equal(e->replication->policy.app_consistent_every, 0);
	uint32_t vi;
	assert_non_null(est_find_subnet(e, "hub/GatewaySubnet", &vi));
	assert_int_equal(vi, 0);
	assert_int_equal(est_find(e, EST_K_CIRCUIT, "er-hk"), 0);
	assert_int_equal(est_find(e, EST_K_CIRCUIT, "nope"), EST_NONE);
	est_free(e);
}

static void
test_unknown_key(void **state)
{
	uint32_t n;
	char *s = tu_load_errors(HEAD "vnets:\n"
	                              "  - name: hub\n"
	                              "    region: eastasia\n"
	                              "    adress_space: [10.0.0.0/24]\n",
	                         &n);
	assert_int_equal(n, 2); /* unknown key, and the required one missing */
	assert_non_null(strstr(s, "test.yaml:8:5: error: vnets[hub].adress_space: unknown key "
	                          "'adress_space' in vnet (did you mean 'address_space'?)"));
	assert_non_null(strstr(s, "missing required key 'address_space' in vnet"));
	free(s);
}

static void
test_all_errors_reported(void **state)
{
	uint32_t n;
	char *s = tu_load_errors(
	    HEAD
	    "circuits:\n"
	    "  - {name: er-hk, site: hq, location: hong-kongg, bandwidth: 1 Gbps, tier: premuim}\n"
	    "vnets:\n"
	    "  - {name: a, region: eastasia, address_space: [10.1.0.1/16, 10.2.0.0/33]}\n"
	    "connections: [{gateway: gw, circuit: er-hk, weight: 40000}]\n",
	    &n);
	assert_int_equal(n, 7);
	assert_non_null(strstr(s,
	                       "test.yaml:6:39: error: circuits[er-hk].location: unknown location "
	                       "'hong-kongg' (did you mean 'hong-kong'?)"));
	assert_non_null(strstr(s, "bad bandwidth '1 Gbps'"));
	assert_non_null(strstr(s, "unknown tier 'premuim' (did you mean 'premium'?)"));
	assert_non_null(
	    strstr(s, "prefix '10.1.0.1/16' has host bits set (did you mean 10.1.0.0/16?)"));
	assert_non_null(strstr(s, "bad prefix '10.2.0.0/33'"));
	assert_non_null(strstr(s, "unknown gateway 'gw'"));
	assert_non_null(strstr(s, "bad value '40000' (expected an integer from 0 to 32000)"));
	free(s);
}

static void
test_wrong_types(void **state)
{
	uint32_t n;
	char *s = tu_load_errors("estate: [a, b]\n"
	                         "regions: {name: x}\n"
	                         "sites: [{name: hq, asn: -5, prefixes: 10.0.0.0/8}]\n"
	                         "vnets: [notamap]\n",
	                         &n);
	assert_int_equal(n, 5);
	assert_non_null(
	    strstr(s, "test.yaml:1:10: error: estate: expected a name, found a sequence"));
	assert_non_null(strstr(s, "regions: expected a sequence (a list), found a mapping"));
	assert_non_null(strstr(s, "sites[hq].asn: bad value '-5'"));
	assert_non_null(strstr(s, "sites[hq].prefixes: expected a sequence"));
	assert_non_null(strstr(s, "vnets[0]: expected a mapping (vnet), found a scalar"));
	free(s);
}

static void
test_duplicates(void **state)
{
	uint32_t n;
	char *s =
	    tu_load_errors(HEAD "vnets:\n"
	                        "  - {name: a, region: eastasia, address_space: [10.1.0.0/16],\n"
	                        "     subnets: [{name: s, prefix: 10.1.0.0/24},\n"
	                        "               {name: s, prefix: 10.1.1.0/24}]}\n"
	                        "  - {name: a, region: eastasia, address_space: [10.2.0.0/16]}\n",
	                   &n);
	assert_int_equal(n, 2);
	assert_non_null(strstr(s, "duplicate subnet 'a/s' (first defined at line 7:17)"));
	assert_non_null(strstr(s, "duplicate vnet 'a' (first defined at line 6:6)"));
	free(s);
}

/* A peering's listen: an IPv4 prefix the link /30s fit in, or the load fails. */
static void
test_peering_listen(void **state)
{
	struct estate *e = tu_load(
	    HEAD "circuits:\n"
	         "  - {name: er, site: hq, location: hong-kong, bandwidth: 1Gbps,\n"
	         "     private_peering: {peer_asn: 65010, subnet: 192.168.100.128/29, vlan: 100,\n"
	         "                       listen: 127.0.0.0/8}}\n");
	assert_non_null(e);
	char b[IP_STRLEN];
	assert_string_equal(ip_prefix_fmt(&e->circuits.v[0].private_peering->listen, b),
	                    "127.0.0.0/8");
	assert_null(e->circuits.v[0].microsoft_peering);
	est_free(e);
	uint32_t n;
	char *s = tu_load_errors(
	    HEAD "circuits:\n"
	         "  - {name: er, site: hq, location: hong-kong, bandwidth: 1Gbps,\n"
	         "     private_peering: {peer_asn: 65010, subnet: 192.168.100.128/29, vlan: 100,\n"
	         "                       listen: 127.0.0.0/31}}\n"
	         "  - {name: er2, site: hq, location: hong-kong, bandwidth: 1Gbps,\n"
	         "     private_peering: {peer_asn: 65010, subnet: 192.168.101.128/29, vlan: 100,\n"
	         "                       listen: 'fd00::/64'}}\n",
	    &n);
	assert_int_equal(n, 2);
	assert_non_null(strstr(s, "circuit er: listen 127.0.0.0/31 must be an IPv4 prefix of /30"));
	assert_non_null(strstr(s, "circuit er2: listen fd00::/64 must be an IPv4 prefix"));
	assert_non_null(strstr(s, "test.yaml:7:"));
	free(s);
}

static void
test_links_and_subnet_refs(void **state)
{
	uint32_t n;
	char *s = tu_load_errors(
	    HEAD "sites:\n"
	         "  - {name: hq2, asn: 65011, routers: [{name: r1, links: [er/primary, "
	         "er/tertiary, er]}]}\n"
	         "circuits: [{name: er, site: hq2, location: hong-kong, bandwidth: 1Gbps}]\n"
	         "vms: [{name: v, subnet: hub}]\n",
	    &n);
	/* 'sites' twice is a YAML duplicate key: libfyaml refuses the document */
	assert_true(n >= 1);
	free(s);
	s = tu_load_errors("estate: t\n"
	                   "regions: [{name: r, geo: g}]\n"
	                   "locations: [{name: l, geo: g}]\n"
	                   "sites:\n"
	                   "  - {name: hq, asn: 65011, routers: [{name: r1, links: [er/primary, "
	                   "er/tertiary, er]}]}\n"
	                   "circuits: [{name: er, site: hq, location: l, bandwidth: 1Gbps}]\n"
	                   "vms: [{name: v, subnet: hub}]\n",
	                   &n);
	assert_int_equal(n, 3);
	assert_non_null(strstr(s, "unknown link side 'tertiary' (expected primary or secondary)"));
	assert_non_null(strstr(s, "bad circuit link 'er'"));
	assert_non_null(strstr(s, "unknown subnet 'hub' (subnets are named VNET/SUBNET)"));
	free(s);
	struct estate *e =
	    tu_load("estate: t\n"
	            "regions: [{name: r, geo: g}]\n"
	            "locations: [{name: l, geo: g}]\n"
	            "sites: [{name: hq, asn: 65011, routers: [{name: r1, links: "
	            "[er/secondary]}]}]\n"
	            "circuits: [{name: er, site: hq, location: l, bandwidth: 1Gbps}]\n");
	assert_non_null(e);
	const struct est_ref *l = &e->sites.v[0].routers.v[0].links.v[0];
	assert_int_equal(l->state, EST_REF_RESOLVED);
	assert_int_equal(l->i, 0);
	assert_int_equal(l->j, EST_LINK_SECONDARY);
	est_free(e);
}

static void
test_plans_and_planned_refs(void **state)
{
	const char *y = HEAD
	    "vnets: [{name: hub, region: eastasia, address_space: [10.0.0.0/24]},\n"
	    "        {name: tgt, region: southeastasia, address_space: [10.9.0.0/24]}]\n"
	    "circuits: [{name: er, site: hq, location: hong-kong, bandwidth: 1Gbps}]\n"
	    "replication: {source: eastasia, target: southeastasia, auto_target_networks: true}\n"
	    "recovery_plans:\n"
	    "  - name: p\n"
	    "    before:\n"
	    "      - create_gateway: {name: gw-t, vnet: tgt}\n"
	    "      - connect: {gateway: gw-t, circuit: er}\n"
	    "      - attach_route_table: {subnet: hub-asr/app, route_table: rt}\n"
	    "        direction: failover\n"
	    "        types: [planned, unplanned]\n"
	    "      - manual: check DNS\n"
	    "    groups: [{vms: []}]\n"
	    "    after:\n"
	    "      - disconnect: {connection: gw-t-er}\n";
	uint32_t n;
	/* hub-asr/app does not exist: the mirror has no subnet 'app', and rt is unknown */
	char *s = tu_load_errors(y, &n);
	assert_int_equal(n, 2);
	assert_non_null(strstr(s, "unknown subnet 'hub-asr/app'"));
	assert_non_null(strstr(s, "unknown route table 'rt'"));
	free(s);

	const char *ok = HEAD
	    "vnets: [{name: hub, region: eastasia, address_space: [10.0.0.0/24],\n"
	    "         subnets: [{name: app, prefix: 10.0.0.0/25}]},\n"
	    "        {name: tgt, region: southeastasia, address_space: [10.9.0.0/24]}]\n"
	    "circuits: [{name: er, site: hq, location: hong-kong, bandwidth: 1Gbps}]\n"
	    "route_tables: [{name: rt}]\n"
	    "replication: {source: eastasia, target: southeastasia, auto_target_networks: true,\n"
	    "              test_network: hub-asr}\n"
	    "recovery_plans:\n"
	    "  - name: p\n"
	    "    before:\n"
	    "      - create_gateway: {name: gw-t, vnet: tgt}\n"
	    "      - connect: {gateway: gw-t, circuit: er}\n"
	    "      - attach_route_table: {subnet: hub-asr/app, route_table: rt}\n"
	    "        direction: failover\n"
	    "        types: [planned, unplanned]\n"
	    "      - manual: check DNS\n"
	    "    after:\n"
	    "      - disconnect: {connection: gw-t-er}\n";
	struct estate *e = tu_load(ok);
	assert_non_null(e);
	const struct est_plan *p = &e->recovery_plans.v[0];
	assert_int_equal(p->before.n, 4);
	assert_int_equal(p->before.v[0].kind, EST_ACT_CREATE_GATEWAY);
	assert_int_equal(p->before.v[0].create_gateway->sku, EST_SKU_ERGW1AZ);
	assert_int_equal(p->before.v[1].kind, EST_ACT_CONNECT);
	assert_int_equal(p->before.v[1].connect->gateway.state, EST_REF_PLANNED);
	assert_int_equal(p->before.v[1].connect->circuit.state, EST_REF_RESOLVED);
	assert_int_equal(p->before.v[2].direction, EST_DIR_FAILOVER);
	assert_int_equal(p->before.v[2].types.n, 2);
	assert_int_equal(p->before.v[2].attach_route_table->subnet.state, EST_REF_PLANNED);
	assert_int_equal(p->before.v[3].kind, EST_ACT_MANUAL);
	assert_string_equal(p->before.v[3].manual, "check DNS");
	assert_int_equal(p->after.v[0].disconnect->connection.state, EST_REF_PLANNED);
	assert_int_equal(e->replication->test_network.state, EST_REF_PLANNED);
	/* planned objects are not real ones */
	assert_null(est_find_gateway(e, "gw-t", NULL));
	est_free(e);

	/* outside plans a planned name is unknown */
	s = tu_load_errors(
	    HEAD
	    "vnets: [{name: hub, region: eastasia, address_space: [10.0.0.0/24]}]\n"
	    "circuits: [{name: er, site: hq, location: hong-kong, bandwidth: 1Gbps}]\n"
	    "connections: [{gateway: gw-t, circuit: er}]\n"
	    "recovery_plans: [{name: p, before: [{create_gateway: {name: gw-t, vnet: hub}}]}]\n",
	    &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(s, "connections[0].gateway: unknown gateway 'gw-t'"));
	free(s);
}

static void
test_actions_one_of(void **state)
{
	uint32_t n;
	char *s = tu_load_errors("estate: t\n"
	                         "recovery_plans:\n"
	                         "  - name: p\n"
	                         "    before:\n"
	                         "      - {manual: a, script: {run: 'true'}}\n"
	                         "      - {direction: failover}\n"
	                         "      - {manul: typo}\n",
	                         &n);
	assert_int_equal(n, 4);
	assert_non_null(strstr(s, "both 'manual' and 'script' given"));
	assert_non_null(
	    strstr(s, "action names no kind (expected one of: create_gateway, connect"));
	assert_non_null(strstr(s, "unknown key 'manul' in action (did you mean 'manual'?)"));
	free(s);
}

static void
test_limits(void **state)
{
	struct estate *e = tu_load("estate: t\nlimits: {circuits_per_location_per_vnet: 4, "
	                           "recovery_plan_groups: 9}\n");
	assert_non_null(e);
	assert_int_equal(est_limit(e, EST_LIM_CIRCUITS_PER_LOCATION_PER_VNET), 4);
	assert_int_equal(est_limit(e, EST_LIM_RECOVERY_PLAN_GROUPS), 9);
	assert_int_equal(est_limit(e, EST_LIM_RECOVERY_PLAN_VMS), 100);
	est_free(e);
	uint32_t n;
	char *s = tu_load_errors("estate: t\nlimits: {circuits_per_location_per_vent: 4, "
	                         "recovery_plan_groups: -1, ecmp_circuits: 99}\n",
	                         &n);
	assert_int_equal(n, 3);
	assert_non_null(strstr(s, "unknown limit 'circuits_per_location_per_vent' (did you mean "
	                          "'circuits_per_location_per_vnet'?)"));
	assert_non_null(strstr(s, "limits.recovery_plan_groups: bad value '-1'"));
	assert_non_null(
	    strstr(s, "limits.ecmp_circuits: bad value '99' (expected an integer from 1 to 16)"));
	free(s);
}

static void
test_syntax_and_json(void **state)
{
	uint32_t n;
	char *s = tu_load_errors("estate: t\nvnets: [{name: a\n", &n);
	assert_true(n >= 1);
	assert_non_null(strstr(s, "test.yaml:"));
	assert_null(strstr(s, "test.yaml: error")); /* has a position */
	free(s);
	s = tu_load_errors("", &n);
	assert_int_equal(n, 1);
	free(s);
	const char *j = "{\"estate\": \"j\", \"regions\": [{\"name\": \"r\", \"geo\": \"g\"}],\n"
	                " \"vnets\": [{\"name\": \"v\", \"region\": \"r\", \"address_space\": "
	                "[\"10.0.0.0/16\"]}]}";
	struct lib_diags d;
	struct estate *e = NULL;
	lib_diags_init(&d);
	assert_int_equal(est_load_string("x.json", j, strlen(j), &d, &e), 0);
	assert_non_null(e);
	assert_int_equal(e->vnets.n, 1);
	assert_true(est_resolved(&e->vnets.v[0].region));
	est_free(e);
	lib_diags_free(&d);
	s = tu_load_errors("{\"estate\": \"j\", \"vnets\": [{\"name\": 5, \"regoin\": \"r\"}]}",
	                   &n);
	assert_int_equal(n, 3);
	assert_non_null(strstr(s, "test.yaml:1:40: error: vnets[5].regoin: unknown key 'regoin' in "
	                          "vnet (did you mean 'region'?)"));
	free(s);
}

static void
test_nulls_and_defaults(void **state)
{
	struct estate *e = tu_load("estate: t\n"
	                           "description:\n"
	                           "regions: [{name: r, geo: g}]\n"
	                           "vnets: [{name: a, region: r, address_space: [10.0.0.0/16]}, "
	                           "{name: b, region: r, address_space: [10.1.0.0/16]}]\n"
	                           "peerings: [{from: a, to: b}]\n"
	                           "route_tables: [{name: t}]\n");
	assert_non_null(e);
	assert_null(e->description);
	assert_true(e->peerings.v[0].allow_virtual_network_access);
	assert_false(e->peerings.v[0].allow_forwarded_traffic);
	assert_string_equal(e->peerings.v[0].name, "a-to-b");
	assert_true(e->route_tables.v[0].propagate_gateway_routes);
	est_free(e);
	uint32_t n;
	char *s = tu_load_errors("estate:\n", &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(s, "missing required key 'estate' in estate"));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_minimal),
	    cmocka_unit_test(test_values_and_refs),
	    cmocka_unit_test(test_unknown_key),
	    cmocka_unit_test(test_all_errors_reported),
	    cmocka_unit_test(test_wrong_types),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_links_and_subnet_refs),
	    cmocka_unit_test(test_plans_and_planned_refs),
	    cmocka_unit_test(test_actions_one_of),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_peering_listen),
	    cmocka_unit_test(test_syntax_and_json),
	    cmocka_unit_test(test_nulls_and_defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
