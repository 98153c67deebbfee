/*
 * test_chk_dr.c - the Site Recovery and DR-readiness rules (DR2xx).
 *
 * Each rule gets a small estate built to fire it (exact count and a piece of
 * the message) and a close variant that stays silent. Estates are assembled
 * from the fragments below: one site "hq", regions ea and sea (asia) and weu
 * (europe), a hub in ea with an ExpressRoute gateway connected to circuit
 * er-hk. The last test checks the seeds' two-circuit example as a whole.
 */
#include "testutil.h"

#include <stdio.h>

#define HEAD                                                                                       \
	"estate: t\n"                                                                              \
	"regions:\n"                                                                               \
	"  - {name: ea, geo: asia}\n"                                                              \
	"  - {name: sea, geo: asia}\n"                                                             \
	"  - {name: weu, geo: europe}\n"                                                           \
	"locations:\n"                                                                             \
	"  - {name: hk, geo: asia, local_regions: [ea]}\n"                                         \
	"  - {name: sg, geo: asia, local_regions: [sea]}\n"                                        \
	"sites:\n"                                                                                 \
	"  - {name: hq, asn: 65010}\n"

#define CIRC(name, loc, tier, n)                                                                   \
	"  - {name: " name ", site: hq, location: " loc ", bandwidth: 1Gbps, tier: " tier          \
	", private_peering: {peer_asn: 65010, subnet: 192.168." n ".0/29, vlan: " n "}}\n"

#define ONE_CIRCUIT  "circuits:\n" CIRC("er-hk", "hk", "standard", "100")
#define TWO_CIRCUITS ONE_CIRCUIT CIRC("er-sg", "sg", "standard", "101")

/* The source hub, with its gateway; further vnets follow as list items. */
#define HUB                                                                                        \
	"vnets:\n"                                                                                 \
	"  - name: hub\n"                                                                          \
	"    region: ea\n"                                                                         \
	"    address_space: [10.0.0.0/24]\n"                                                       \
	"    subnets: [{name: GatewaySubnet, prefix: 10.0.0.224/27}, {name: app, prefix: "         \
	"10.0.0.0/26}]\n"                                                                          \
	"    gateways: [{name: gw-ea, type: expressroute, sku: ErGw1AZ}]\n"

/* A target hub in region r with address space sp (a /24) and extra lines. */
#define TGT(name, r, sp)                                                                           \
	"  - name: " name "\n"                                                                     \
	"    region: " r "\n"                                                                      \
	"    address_space: [" sp "]\n"                                                            \
	"    subnets: [{name: app, prefix: " sp "}]\n"

#define CONN "connections:\n  - {gateway: gw-ea, circuit: er-hk}\n"
#define VM1  "vms:\n  - {name: vm1, subnet: hub/app}\n"

/* Azure to Azure, ea -> sea, hub mapped to tgt. */
#define REPL_BODY(target)                                                                          \
	"replication:\n"                                                                           \
	"  source: ea\n"                                                                           \
	"  target: " target "\n"                                                                   \
	"  protect: [vm1]\n"
#define MAP(s, t) "  network_mapping: [{source: " s ", target: " t "}]\n"

/* The usual estate: hub -> tgt (10.10.0.0/24 in sea), one circuit. */
#define BASE(circuits, tgt_space)                                                                  \
	HEAD circuits HUB TGT("tgt", "sea", tgt_space)                                             \
	CONN VM1

static void
expect(const char *yaml, const char *id, int n, const char *substr)
{
	char *m = NULL;
	int got = tu_findings(yaml, id, &m);
	if (got != n || (substr && (!m || !strstr(m, substr))))
		print_message("%s: expected %d finding(s) with \"%s\", got %d:\n%s", id, n,
		              substr ? substr : "", got, m ? m : "(estate did not load)\n");
	assert_int_equal(got, n);
	if (substr)
		assert_non_null(strstr(m, substr));
	free(m);
}

/* ---- DR201 -------------------------------------------------------------- */

#define NVA_RT                                                                                     \
	"route_tables:\n"                                                                          \
	"  - {name: rt0, region: ea, routes: [{name: d, prefix: 0.0.0.0/0, next_hop: "             \
	"virtual_appliance, ip: 10.0.0.4}]}\n"

#define DR201_VNETS(se)                                                                            \
	"vnets:\n"                                                                                 \
	"  - name: spoke\n"                                                                        \
	"    region: ea\n"                                                                         \
	"    address_space: [10.1.0.0/24]\n"                                                       \
	"    subnets: [{name: app, prefix: 10.1.0.0/25, route_table: rt0" se "}]\n"

#define DR201_REST                                                                                 \
	NVA_RT "vms:\n  - {name: a1, subnet: spoke/app}\n  - {name: a2, subnet: spoke/app}\n"      \
	       "  - {name: a3, subnet: spoke/app}\n"                                               \
	       "replication: {source: ea, target: sea, protect: [a1, a2]}\n"

static void
dr201_fires(void **state)
{
	(void)state;
	expect(HEAD DR201_VNETS("") DR201_REST, "DR201", 1,
	       "subnet 'spoke/app' of protected vms 'a1', 'a2' has route table 'rt0' that sends "
	       "0.0.0.0/0 to virtual appliance 10.0.0.4");
}

static void
dr201_silent(void **state)
{
	(void)state;
	expect(HEAD DR201_VNETS(", service_endpoints: [Microsoft.Storage]") DR201_REST, "DR201", 0,
	       NULL);
	/* the same subnet without protected VMs */
	expect(HEAD DR201_VNETS("") NVA_RT "vms:\n  - {name: a1, subnet: spoke/app}\n"
	                                   "replication: {source: ea, target: sea}\n",
	       "DR201", 0, NULL);
}

/* ---- DR202, DR203, DR216, DR217 ----------------------------------------- */

#define ONPREM(path, vault)                                                                        \
	HEAD ONE_CIRCUIT "vms:\n  - {name: srv1, site: hq}\n"                                      \
	                 "replication:\n  source_site: hq\n  target: sea\n" path vault             \
	                 "  protect: [srv1]\n"

static void
dr202_fires(void **state)
{
	(void)state;
	expect(ONPREM("  path: private_peering\n", ""), "DR202", 1,
	       "runs over private peering but vault '(unnamed)' has no private endpoints");
}

static void
dr202_silent(void **state)
{
	(void)state;
	expect(ONPREM("  path: private_peering\n", "  vault: {name: v, private_endpoints: true}\n"),
	       "DR202", 0, NULL);
	expect(ONPREM("  path: microsoft_peering\n", ""), "DR202", 0, NULL);
}

#define MS_CIRCUIT(region)                                                                         \
	"circuits:\n"                                                                              \
	"  - name: er-ms\n"                                                                        \
	"    site: hq\n"                                                                           \
	"    location: sg\n"                                                                       \
	"    bandwidth: 1Gbps\n"                                                                   \
	"    microsoft_peering:\n"                                                                 \
	"      peer_asn: 65010\n"                                                                  \
	"      primary: 203.0.113.0/30\n"                                                          \
	"      secondary: 203.0.113.4/30\n"                                                        \
	"      vlan: 300\n"                                                                        \
	"      advertised_prefixes: [203.0.113.128/27]\n"                                          \
	"      route_filter:\n"                                                                    \
	"        - {service: azure_storage, region: " region "}\n"                                 \
	"        - {service: azure_regional, region: sea}\n"

#define MS_REST                                                                                    \
	"vms:\n  - {name: srv1, site: hq}\n"                                                       \
	"replication: {source_site: hq, target: sea, path: microsoft_peering, protect: [srv1]}\n"

static void
dr203_fires(void **state)
{
	(void)state;
	expect(HEAD MS_CIRCUIT("ea") MS_REST, "DR203", 1,
	       "no route filter on its Microsoft peering ('er-ms') lets azure_storage for target "
	       "region 'sea' through");
	expect(HEAD ONE_CIRCUIT MS_REST, "DR203", 1,
	       "none of its 1 circuit has a Microsoft peering");
}

static void
dr203_silent(void **state)
{
	(void)state;
	expect(HEAD MS_CIRCUIT("sea") MS_REST, "DR203", 0, NULL);
}

static void
dr216_fires(void **state)
{
	(void)state;
	expect(ONPREM("", ""), "DR216", 1, "uses path backbone (the default)");
}

static void
dr216_silent(void **state)
{
	(void)state;
	expect(ONPREM("  path: microsoft_peering\n", ""), "DR216", 0, NULL);
	expect(BASE(ONE_CIRCUIT, "10.10.0.0/24") REPL_BODY("sea"), "DR216", 0, NULL);
}

static void
dr217_fires(void **state)
{
	(void)state;
	expect(BASE(ONE_CIRCUIT, "10.10.0.0/24") REPL_BODY("sea") "  path: private_peering\n",
	       "DR217", 1, "path private_peering is not used");
}

static void
dr217_silent(void **state)
{
	(void)state;
	expect(BASE(ONE_CIRCUIT, "10.10.0.0/24") REPL_BODY("sea") "  path: backbone\n", "DR217", 0,
	       NULL);
}

/* ---- DR204 -------------------------------------------------------------- */

static void
dr204_fires(void **state)
{
	(void)state;
	expect(BASE(ONE_CIRCUIT, "10.10.0.0/24") REPL_BODY("ea"), "DR204", 1,
	       "replication target region 'ea' is its source region");
	expect(BASE(ONE_CIRCUIT, "10.10.0.0/24") "replication: {target: sea}\n", "DR204", 1,
	       "names neither a source region");
	expect(BASE(ONE_CIRCUIT, "10.10.0.0/24") "replication: {source: ea, source_site: hq, "
	                                         "target: sea}\n",
	       "DR204", 1, "names both source region 'ea' and source site 'hq'");
	/* a mapping whose target sits in the wrong region */
	expect(HEAD ONE_CIRCUIT HUB TGT("tgt", "weu", "10.10.0.0/24") CONN VM1 REPL_BODY("sea")
	           MAP("hub", "tgt"),
	       "DR204", 1, "network mapping target vnet 'tgt' is in region 'weu'");
}

static void
dr204_silent(void **state)
{
	(void)state;
	expect(BASE(ONE_CIRCUIT, "10.10.0.0/24") REPL_BODY("sea") MAP("hub", "tgt"), "DR204", 0,
	       NULL);
}

/* ---- DR205 -------------------------------------------------------------- */

#define GROUP_VMS                                                                                  \
	HEAD "vnets:\n  - {name: v, region: ea, address_space: [10.1.0.0/24], subnets: [{name: "   \
	     "s, prefix: 10.1.0.0/24}]}\n"                                                         \
	     "vms:\n  - {name: a, subnet: v/s}\n  - {name: b, subnet: v/s}\n"                      \
	     "  - {name: c, subnet: v/s}\n"

static void
dr205_fires(void **state)
{
	(void)state;
	expect(GROUP_VMS "limits: {replication_group_vms: 2}\n"
	                 "replication: {source: ea, target: sea, protect: [a, b, c], groups: "
	                 "[{name: g, vms: [a, b, c]}]}\n",
	       "DR205", 1, "replication group 'g' has 3 VMs, over the limit of 2");
	expect(GROUP_VMS "replication: {source: ea, target: sea, protect: [a, b], groups: "
	                 "[{name: g, vms: [a, c]}]}\n",
	       "DR205", 1, "vm 'c' in replication group 'g' is not protected");
	expect(GROUP_VMS "replication: {source: ea, target: sea, protect: [a, b], groups: "
	                 "[{name: g1, vms: [a, b]}, {name: g2, vms: [b]}]}\n",
	       "DR205", 1, "vm 'b' is in replication groups 'g1' and 'g2'");
}

static void
dr205_silent(void **state)
{
	(void)state;
	expect(GROUP_VMS "replication: {source: ea, target: sea, protect: [a, b, c], groups: "
	                 "[{name: g1, vms: [a, b]}, {name: g2, vms: [c]}]}\n",
	       "DR205", 0, NULL);
}

/* ---- DR206 -------------------------------------------------------------- */

static void
dr206_fires(void **state)
{
	(void)state;
	expect(BASE(ONE_CIRCUIT, "10.0.0.0/24") REPL_BODY("sea") MAP("hub", "tgt"), "DR206", 1,
	       "target vnet 'tgt' (10.0.0.0/24) overlaps its source 'hub' (10.0.0.0/24) and site "
	       "'hq' has the single circuit 'er-hk'");
	expect(BASE(ONE_CIRCUIT, "10.0.0.0/24") REPL_BODY("sea") MAP("hub", "tgt"), "DR206", 1,
	       "(no recovery plan disconnects it)");
	/* Site Recovery's own mirror keeps the address space */
	expect(BASE(ONE_CIRCUIT, "10.10.0.0/24") REPL_BODY("sea") "  auto_target_networks: true\n",
	       "DR206", 1, "target vnet 'hub-asr' (10.0.0.0/24) overlaps its source 'hub'");
	expect(BASE(ONE_CIRCUIT, "10.0.0.0/24") REPL_BODY("sea") MAP(
	           "hub",
	           "tgt") "recovery_plans:\n  - name: p\n    before: [{disconnect: {connection: "
	                  "gw-ea-er-hk}}]\n",
	       "DR206", 1, "(recovery plan 'p' disconnects it)");
}

static void
dr206_silent(void **state)
{
	(void)state;
	/* a second circuit */
	expect(BASE(TWO_CIRCUITS, "10.0.0.0/24") REPL_BODY("sea") MAP("hub", "tgt"), "DR206", 0,
	       NULL);
	/* a different address space */
	expect(BASE(ONE_CIRCUIT, "10.10.0.0/24") REPL_BODY("sea") MAP("hub", "tgt"), "DR206", 0,
	       NULL);
}

/* ---- DR207 -------------------------------------------------------------- */

static void
dr207_fires(void **state)
{
	(void)state;
	expect(HEAD ONE_CIRCUIT HUB TGT("tgt", "weu", "10.10.0.0/24") CONN VM1 REPL_BODY("weu")
	           MAP("hub", "tgt"),
	       "DR207", 1,
	       "target region 'weu' (geo europe) is reachable from site 'hq' only through "
	       "circuits that cannot reach it: 'er-hk' (standard, geo asia)");
	/* the site has a premium circuit, but the plan connects the standard one */
	expect(HEAD ONE_CIRCUIT CIRC("er-p", "sg", "premium", "102")
	           HUB TGT("tgt", "weu", "10.10.0.0/24") CONN VM1 REPL_BODY("weu")
	               MAP("hub", "tgt") "recovery_plans:\n  - name: p\n    before:\n"
	                                 "      - create_gateway: {name: gw-t, vnet: tgt}\n"
	                                 "      - connect: {gateway: gw-t, circuit: er-hk}\n",
	       "DR207", 1,
	       "step 2 before the groups of plan 'p' connects gateway 'gw-t' in region 'weu' (geo "
	       "europe) to standard circuit 'er-hk' (geo asia), which cannot reach it");
}

static void
dr207_silent(void **state)
{
	(void)state;
	expect(HEAD ONE_CIRCUIT CIRC("er-p", "sg", "premium", "102")
	           HUB TGT("tgt", "weu", "10.10.0.0/24") CONN VM1 REPL_BODY("weu")
	               MAP("hub", "tgt") "recovery_plans:\n  - name: p\n    before:\n"
	                                 "      - create_gateway: {name: gw-t, vnet: tgt}\n"
	                                 "      - connect: {gateway: gw-t, circuit: er-p}\n",
	       "DR207", 0, NULL);
	/* within the geopolitical region a standard circuit is enough */
	expect(BASE(ONE_CIRCUIT, "10.10.0.0/24") REPL_BODY("sea") MAP("hub", "tgt"), "DR207", 0,
	       NULL);
}

/* ---- DR208, DR209 ------------------------------------------------------- */

/* Target hub with its own gateway gw-t. */
#define TGT_GW                                                                                     \
	"  - name: tgt\n"                                                                          \
	"    region: sea\n"                                                                        \
	"    address_space: [10.10.0.0/24]\n"                                                      \
	"    subnets: [{name: GatewaySubnet, prefix: 10.10.0.224/27}, {name: app, prefix: "        \
	"10.10.0.0/26}]\n"                                                                         \
	"    gateways: [{name: gw-t, type: expressroute, sku: ErGw1AZ}]\n"

#define PLAN_GW_CONNECT                                                                            \
	"recovery_plans:\n  - name: p\n    before:\n"                                              \
	"      - create_gateway: {name: gw-t, vnet: tgt}\n"                                        \
	"      - connect: {gateway: gw-t, circuit: er-sg}\n"

static void
dr208_fires(void **state)
{
	(void)state;
	const char *none = BASE(TWO_CIRCUITS, "10.10.0.0/24") REPL_BODY("sea") MAP("hub", "tgt");
	expect(none, "DR208", 1,
	       "target hub 'tgt' (for 'hub') has no ExpressRoute gateway and nothing creates it");
	expect(BASE(TWO_CIRCUITS, "10.10.0.0/24") REPL_BODY("sea") MAP("hub", "tgt")
	           PLAN_GW_CONNECT,
	       "DR208", 1,
	       "recovery plan 'p' creates 'gw-t' during failover, adding about 45 minutes to the "
	       "RTO");
	expect(BASE(TWO_CIRCUITS,
	            "10.10.0.0/24") "limits: {gateway_create_minutes: 60}\n" REPL_BODY("sea")
	           MAP("hub", "tgt") PLAN_GW_CONNECT,
	       "DR208", 1, "adding about 60 minutes");
	/* a failback-only step does not count for failover */
	expect(
	    BASE(TWO_CIRCUITS, "10.10.0.0/24") REPL_BODY("sea") MAP(
	        "hub",
	        "tgt") "recovery_plans:\n  - name: p\n    before:\n"
	               "      - {create_gateway: {name: gw-t, vnet: tgt}, direction: failback}\n",
	    "DR208", 1, "nothing creates it");
}

static void
dr208_silent(void **state)
{
	(void)state;
	expect(HEAD TWO_CIRCUITS HUB TGT_GW CONN VM1 REPL_BODY("sea") MAP("hub", "tgt"), "DR208", 0,
	       NULL);
	/* a source without a gateway has no target hub */
	expect(HEAD TWO_CIRCUITS "vnets:\n" TGT("src", "ea", "10.1.0.0/24")
	           TGT("tgt", "sea",
	               "10.10.0.0/24") "vms:\n  - {name: vm1, subnet: src/app}\n" REPL_BODY("sea")
	               MAP("src", "tgt"),
	       "DR208", 0, NULL);
}

static void
dr209_fires(void **state)
{
	(void)state;
	expect(HEAD TWO_CIRCUITS HUB TGT_GW CONN VM1 REPL_BODY("sea") MAP("hub", "tgt"), "DR209", 1,
	       "has no connection to a circuit and nothing connects gateway 'gw-t'");
	expect(BASE(TWO_CIRCUITS, "10.10.0.0/24") REPL_BODY("sea") MAP("hub", "tgt")
	           PLAN_GW_CONNECT,
	       "DR209", 1, "recovery plan 'p' connects 'gw-t' to 'er-sg' during failover");
	expect(BASE(TWO_CIRCUITS, "10.10.0.0/24") REPL_BODY("sea") MAP("hub", "tgt"), "DR209", 1,
	       "nothing connects one");
	/* single circuit, same space: the plan is the only place it can happen */
	expect(BASE(ONE_CIRCUIT, "10.0.0.0/24") REPL_BODY("sea")
	           MAP("hub", "tgt") "recovery_plans:\n  - name: p\n    before:\n"
	                             "      - disconnect: {connection: gw-ea-er-hk}\n"
	                             "      - create_gateway: {name: gw-t, vnet: tgt}\n"
	                             "      - connect: {gateway: gw-t, circuit: er-hk}\n",
	       "DR209", 1, "it cannot be connected earlier");
}

static void
dr209_silent(void **state)
{
	(void)state;
	expect(HEAD TWO_CIRCUITS HUB TGT_GW
	       "connections:\n  - {gateway: gw-ea, circuit: er-hk}\n"
	       "  - {gateway: gw-t, circuit: er-sg}\n" VM1 REPL_BODY("sea") MAP("hub", "tgt"),
	       "DR209", 0, NULL);
}

/* ---- DR210 -------------------------------------------------------------- */

#define SPOKES(tpeer)                                                                              \
	HEAD TWO_CIRCUITS HUB "  - {name: sp, region: ea, address_space: [10.1.0.0/24], subnets: " \
	                      "[{name: app, prefix: 10.1.0.0/24}]}\n" TGT_GW                       \
	                      "  - {name: sp-t, region: sea, address_space: [10.11.0.0/24], "      \
	                      "subnets: [{name: app, prefix: 10.11.0.0/24}]}\n"                    \
	                      "connections:\n  - {gateway: gw-ea, circuit: er-hk}\n"               \
	                      "  - {gateway: gw-t, circuit: er-sg}\n"                              \
	                      "peerings:\n"                                                        \
	                      "  - {from: sp, to: hub, allow_forwarded_traffic: true, "            \
	                      "use_remote_gateways: true}\n"                                       \
	                      "  - {from: hub, to: sp, allow_forwarded_traffic: true, "            \
	                      "allow_gateway_transit: true}\n" tpeer VM1                           \
	                      "replication:\n  source: ea\n  target: sea\n  protect: [vm1]\n"      \
	                      "  network_mapping: [{source: hub, target: tgt}, {source: sp, "      \
	                      "target: sp-t}]\n"

#define TPEERS(fwd)                                                                                \
	"  - {from: sp-t, to: tgt, allow_forwarded_traffic: " fwd ", use_remote_gateways: true}\n" \
	"  - {from: tgt, to: sp-t, allow_forwarded_traffic: true, allow_gateway_transit: true}\n"

static void
dr210_fires(void **state)
{
	(void)state;
	expect(SPOKES(""), "DR210", 2,
	       "peering 'sp-to-hub' has no equivalent from 'sp-t' to 'tgt' in the target and "
	       "nothing creates it");
	expect(SPOKES(TPEERS("false")), "DR210", 1,
	       "target peering 'sp-t-to-tgt' sets allow_forwarded_traffic to false but source "
	       "peering 'sp-to-hub' sets it to true");
	expect(SPOKES("") "recovery_plans:\n  - name: p\n    before:\n"
	                  "      - create_peering: {from: sp-t, to: tgt, allow_forwarded_traffic: "
	                  "true, use_remote_gateways: true}\n"
	                  "      - create_peering: {from: tgt, to: sp-t, allow_forwarded_traffic: "
	                  "true, allow_gateway_transit: true}\n",
	       "DR210", 2, "recovery plan 'p' creates it during failover");
}

static void
dr210_silent(void **state)
{
	(void)state;
	expect(SPOKES(TPEERS("true")), "DR210", 0, NULL);
}

/* ---- DR211 -------------------------------------------------------------- */

#define UDR_HUB(tgt_rt, plan)                                                                      \
	HEAD TWO_CIRCUITS "vnets:\n"                                                               \
	                  "  - {name: hub, region: ea, address_space: [10.0.0.0/24], subnets: "    \
	                  "[{name: app, prefix: 10.0.0.0/26, route_table: rt-s}]}\n"               \
	                  "  - {name: tgt, region: sea, address_space: [10.10.0.0/24], subnets: "  \
	                  "[{name: app, prefix: 10.10.0.0/26" tgt_rt "}]}\n"                       \
	                  "route_tables:\n  - {name: rt-s, region: ea}\n"                          \
	                  "  - {name: rt-t, region: sea}\n" VM1 REPL_BODY("sea") MAP("hub", "tgt") \
	                      plan

static void
dr211_fires(void **state)
{
	(void)state;
	expect(UDR_HUB("", ""), "DR211", 1,
	       "subnet 'hub/app' has route table 'rt-s' but target subnet 'tgt/app' has none and "
	       "nothing attaches one");
	expect(UDR_HUB("", "recovery_plans:\n  - name: p\n    after: [{attach_route_table: "
	                   "{subnet: tgt/app, route_table: rt-t}}]\n"),
	       "DR211", 1, "recovery plan 'p' attaches 'rt-t' during failover");
}

static void
dr211_silent(void **state)
{
	(void)state;
	expect(UDR_HUB(", route_table: rt-t", ""), "DR211", 0, NULL);
}

/* ---- DR212, DR218 ------------------------------------------------------- */

static void
dr212_fires(void **state)
{
	(void)state;
	expect(BASE(ONE_CIRCUIT, "10.10.0.0/24") REPL_BODY("sea")
	           MAP("hub", "tgt") "  test_network: tgt\n",
	       "DR212", 1, "test-failover network 'tgt' is the failover network of 'hub'");
	expect(BASE(ONE_CIRCUIT, "10.10.0.0/24") REPL_BODY("sea")
	           MAP("hub", "tgt") "  test_network: hub\n",
	       "DR212", 1, "test-failover network 'hub' is in region 'ea', not the target region");
}

#define DRILL(space)                                                                               \
	HEAD ONE_CIRCUIT HUB TGT("tgt", "sea", "10.10.0.0/24") TGT("drill", "sea", space)          \
	    CONN VM1 REPL_BODY("sea") MAP("hub", "tgt") "  test_network: drill\n"

static void
dr212_silent(void **state)
{
	(void)state;
	expect(DRILL("10.200.0.0/24"), "DR212", 0, NULL);
}

static void
dr218_fires(void **state)
{
	(void)state;
	expect(DRILL("10.0.0.0/24"), "DR218", 1,
	       "test-failover network 'drill' (10.0.0.0/24) overlaps production vnet 'hub' "
	       "(10.0.0.0/24), which reaches on-premises through circuit 'er-hk'");
}

static void
dr218_silent(void **state)
{
	(void)state;
	expect(DRILL("10.200.0.0/24"), "DR218", 0, NULL);
}

/* ---- DR213, DR219, DR220, DR214 ----------------------------------------- */

#define PLAN_VMS(limits, protect, groups)                                                          \
	GROUP_VMS limits "replication: {source: ea, target: sea, protect: [" protect "]}\n"        \
	                 "recovery_plans:\n  - name: p\n    groups:\n" groups

static void
dr213_fires(void **state)
{
	(void)state;
	expect(PLAN_VMS("limits: {recovery_plan_groups: 2}\n", "a, b, c",
	                "      - {name: g1, vms: [a]}\n      - {name: g2, vms: [b]}\n"
	                "      - {name: g3, vms: [c]}\n"),
	       "DR213", 1, "recovery plan 'p' has 3 groups, over the limit of 2");
	expect(PLAN_VMS("limits: {recovery_plan_vms: 2}\n", "a, b, c",
	                "      - {name: g1, vms: [a, b, c]}\n"),
	       "DR213", 1, "recovery plan 'p' has 3 VMs, over the limit of 2");
	expect(PLAN_VMS("", "a, b, c", "      - {name: g1, vms: [a, b]}\n      - {vms: [c, a]}\n"),
	       "DR213", 1, "vm 'a' is in groups 'g1' and 'Group 2' of recovery plan 'p'");
}

static void
dr213_silent(void **state)
{
	(void)state;
	expect(PLAN_VMS("", "a, b, c", "      - {name: g1, vms: [a, b]}\n      - {vms: [c]}\n"),
	       "DR213", 0, NULL);
}

static void
dr219_fires(void **state)
{
	(void)state;
	expect(PLAN_VMS("", "a, b", "      - {name: g1, vms: [a, b, c]}\n"), "DR219", 1,
	       "vm 'c' in recovery plan 'p' is not protected by replication");
}

static void
dr219_silent(void **state)
{
	(void)state;
	expect(PLAN_VMS("", "a, b, c", "      - {name: g1, vms: [a, b, c]}\n"), "DR219", 0, NULL);
}

static void
dr220_fires(void **state)
{
	(void)state;
	expect(PLAN_VMS("", "a, b, c", "      - {name: g1, vms: [a, b]}\n"), "DR220", 1,
	       "protected vm 'c' is in no recovery plan");
}

static void
dr220_silent(void **state)
{
	(void)state;
	expect(PLAN_VMS("", "a, b, c", "      - {name: g1, vms: [a, b, c]}\n"), "DR220", 0, NULL);
}

#define PLAN_RG(groups)                                                                            \
	GROUP_VMS "replication: {source: ea, target: sea, protect: [a, b, c],\n"                   \
	          "              groups: [{name: rg, vms: [a, b]}]}\n"                             \
	          "recovery_plans:\n  - name: p\n    groups:\n" groups

static void
dr221_fires(void **state)
{
	(void)state;
	expect(PLAN_RG("      - {name: g1, vms: [a]}\n      - {name: g2, vms: [b, c]}\n"), "DR221",
	       1,
	       "replication group 'rg' is split across groups 'g1' ('a') and 'g2' ('b') of "
	       "recovery plan 'p'");
	expect(PLAN_RG("      - {name: g1, vms: [a, c]}\n"), "DR221", 1,
	       "recovery plan 'p' fails over 'a' of replication group 'rg' but not 'b'");
}

static void
dr221_silent(void **state)
{
	(void)state;
	expect(PLAN_RG("      - {name: g1, vms: [a, b]}\n      - {name: g2, vms: [c]}\n"), "DR221",
	       0, NULL);
	/* a plan that leaves the whole group out does not split it */
	expect(PLAN_RG("      - {name: g1, vms: [c]}\n"), "DR221", 0, NULL);
}

#define PROTECT_WEU(protect)                                                                       \
	HEAD                                                                                       \
	    "vnets:\n"                                                                             \
	    "  - {name: v, region: ea, address_space: [10.1.0.0/24], subnets: [{name: s, prefix: " \
	    "10.1.0.0/24}]}\n"                                                                     \
	    "  - {name: w, region: weu, address_space: [10.2.0.0/24], subnets: [{name: s, "        \
	    "prefix: 10.2.0.0/24}]}\n"                                                             \
	    "vms:\n  - {name: a, subnet: v/s}\n  - {name: b, subnet: w/s}\n"                       \
	    "  - {name: c, site: hq}\n"                                                            \
	    "replication: {source: ea, target: sea, protect: [" protect "]}\n"

static void
dr214_fires(void **state)
{
	(void)state;
	expect(PROTECT_WEU("a, b"), "DR214", 1,
	       "protected vm 'b' is in region 'weu', not the source region 'ea'");
	expect(PROTECT_WEU("a, c"), "DR214", 1,
	       "protected vm 'c' is an on-premises machine at site 'hq'");
}

static void
dr214_silent(void **state)
{
	(void)state;
	expect(PROTECT_WEU("a"), "DR214", 0, NULL);
}

/* ---- DR215 -------------------------------------------------------------- */

#define STEPS(steps)                                                                               \
	BASE(TWO_CIRCUITS, "10.10.0.0/24")                                                         \
	REPL_BODY("sea") MAP("hub", "tgt") "recovery_plans:\n  - name: p\n" steps

static void
dr215_fires(void **state)
{
	(void)state;
	expect(STEPS("    before: [{connect: {gateway: gw-t, circuit: er-sg}}]\n"
	             "    groups:\n      - name: g1\n        vms: [vm1]\n"
	             "        after: [{create_gateway: {name: gw-t, vnet: tgt}}]\n"),
	       "DR215", 1,
	       "step 1 before the groups of plan 'p' (connect) uses gateway 'gw-t', which step 1 "
	       "after group 'g1' of plan 'p' creates only later");
	expect(STEPS("    before:\n"
	             "      - disconnect: {connection: gw-t-er-sg}\n"
	             "      - create_gateway: {name: gw-t, vnet: tgt}\n"
	             "      - connect: {gateway: gw-t, circuit: er-sg}\n"),
	       "DR215", 1, "(disconnect) uses connection 'gw-t-er-sg', which step 3");
	expect(STEPS("    before: [{create_gateway: {name: gw2, vnet: hub}}]\n"), "DR215", 1,
	       "creates ExpressRoute gateway 'gw2' in vnet 'hub', which already has ExpressRoute "
	       "gateway 'gw-ea'");
	expect(STEPS("    before:\n"
	             "      - create_peering: {from: hub, to: tgt, use_remote_gateways: true}\n"
	             "      - create_gateway: {name: gw-t, vnet: tgt}\n"),
	       "DR215", 1, "creates peering 'hub-to-tgt' using the remote gateways of 'tgt'");
	/* the gateway is created only by another plan */
	expect(STEPS("    before: [{create_gateway: {name: gw-t, vnet: tgt}}]\n"
	             "  - name: q\n    before: [{connect: {gateway: gw-t, circuit: er-sg}}]\n"),
	       "DR215", 1, "no earlier step of plan 'q' creates");
}

static void
dr215_silent(void **state)
{
	(void)state;
	expect(STEPS("    before:\n"
	             "      - create_gateway: {name: gw-t, vnet: tgt}\n"
	             "      - connect: {gateway: gw-t, circuit: er-sg}\n"
	             "      - create_peering: {from: hub, to: tgt, use_remote_gateways: true}\n"
	             "    after: [{disconnect: {connection: gw-t-er-sg}}]\n"),
	       "DR215", 0, NULL);
}

/* ---- the seeds' two-circuit example ------------------------------------- */

static const char *const seed_expected[] = {
    "DR208 target hub 'hub-sea' (for 'hub-ea') has no ExpressRoute gateway; recovery plan "
    "'contoso-failover' creates 'gw-sea' during failover, adding about 45 minutes to the RTO",
    "DR209 target hub 'hub-sea' (for 'hub-ea') has no connection to a circuit; recovery plan "
    "'contoso-failover' connects 'gw-sea' to 'er-sg' during failover",
    "DR210 peering 'spoke1-to-hub-ea' has no equivalent from 'spoke1-sea' to 'hub-sea' in the "
    "target; recovery plan 'contoso-failover' creates it during failover",
    "DR210 peering 'hub-ea-to-spoke1' has no equivalent from 'hub-sea' to 'spoke1-sea' in the "
    "target; recovery plan 'contoso-failover' creates it during failover",
    "DR210 peering 'spoke2-to-hub-ea' has no equivalent from 'spoke2-sea' to 'hub-sea' in the "
    "target; recovery plan 'contoso-failover' creates it during failover",
    "DR210 peering 'hub-ea-to-spoke2' has no equivalent from 'hub-sea' to 'spoke2-sea' in the "
    "target; recovery plan 'contoso-failover' creates it during failover",
    "DR211 subnet 'hub-ea/GatewaySubnet' has route table 'hub-gw-udr' but target subnet "
    "'hub-sea/GatewaySubnet' has none; recovery plan 'contoso-failover' attaches "
    "'hub-gw-udr-sea' during failover",
    "DR211 subnet 'spoke1/app' has route table 'spoke-udr' but target subnet 'spoke1-sea/app' "
    "has none; recovery plan 'contoso-failover' attaches 'spoke-udr-sea' during failover",
    "DR211 subnet 'spoke2/db' has route table 'spoke-udr' but target subnet 'spoke2-sea/db' "
    "has none; recovery plan 'contoso-failover' attaches 'spoke-udr-sea' during failover",
};

static void
seed_example(void **state)
{
	(void)state;
	static const char *const paths[] = {"../examples/seed-two-circuits.yaml",
	                                    "../../examples/seed-two-circuits.yaml"};
	const char *path = NULL;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]) && !path; i++) {
		FILE *f = fopen(paths[i], "r");
		if (f) {
			fclose(f);
			path = paths[i];
		}
	}
	if (!path)
		fail_msg("examples/seed-two-circuits.yaml not found from the working directory "
		         "(tried ../examples and ../../examples)");
	struct lib_diags d;
	struct estate *e = NULL;
	lib_diags_init(&d);
	int rc = est_load_file(path, &d, &e);
	if (rc)
		lib_diags_print(&d, stderr);
	lib_diags_free(&d);
	assert_int_equal(rc, 0);

	const char *ids[64];
	size_t n = 0;
	for (uint32_t i = 0; i < chk_rule_count() && n < 64; i++)
		if (strncmp(chk_rule_at(i)->id, "DR", 2) == 0)
			ids[n++] = chk_rule_at(i)->id;
	assert_true(n >= 15);
	struct chk_result r;
	chk_run(e, ids, n, &r);

	size_t nexp = sizeof(seed_expected) / sizeof(seed_expected[0]);
	bool *matched = calloc(nexp, sizeof(*matched));
	const struct chk_finding *f = r.findings.v;
	uint32_t unexpected = 0;
	for (uint32_t i = 0; i < r.findings.n; i++) {
		char line[1024];
		snprintf(line, sizeof(line), "%s %s", f[i].rule->id, f[i].msg);
		bool ok = false;
		for (size_t k = 0; k < nexp && !ok; k++)
			if (!matched[k] && strcmp(seed_expected[k], line) == 0)
				ok = matched[k] = true;
		if (!ok) {
			print_message("unexpected finding: %s\n", line);
			unexpected++;
		}
	}
	for (size_t k = 0; k < nexp; k++)
		if (!matched[k])
			print_message("missing finding: %s\n", seed_expected[k]);
	assert_int_equal(r.nerr, 0);
	assert_int_equal(r.nwarn, nexp);
	assert_int_equal(r.ninfo, 0);
	assert_int_equal(unexpected, 0);
	for (size_t k = 0; k < nexp; k++)
		assert_true(matched[k]);
	free(matched);
	chk_result_free(&r);
	est_free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(dr201_fires),  cmocka_unit_test(dr201_silent),
	    cmocka_unit_test(dr202_fires),  cmocka_unit_test(dr202_silent),
	    cmocka_unit_test(dr203_fires),  cmocka_unit_test(dr203_silent),
	    cmocka_unit_test(dr204_fires),  cmocka_unit_test(dr204_silent),
	    cmocka_unit_test(dr205_fires),  cmocka_unit_test(dr205_silent),
	    cmocka_unit_test(dr206_fires),  cmocka_unit_test(dr206_silent),
	    cmocka_unit_test(dr207_fires),  cmocka_unit_test(dr207_silent),
	    cmocka_unit_test(dr208_fires),  cmocka_unit_test(dr208_silent),
	    cmocka_unit_test(dr209_fires),  cmocka_unit_test(dr209_silent),
	    cmocka_unit_test(dr210_fires),  cmocka_unit_test(dr210_silent),
	    cmocka_unit_test(dr211_fires),  cmocka_unit_test(dr211_silent),
	    cmocka_unit_test(dr212_fires),  cmocka_unit_test(dr212_silent),
	    cmocka_unit_test(dr213_fires),  cmocka_unit_test(dr213_silent),
	    cmocka_unit_test(dr214_fires),  cmocka_unit_test(dr214_silent),
	    cmocka_unit_test(dr215_fires),  cmocka_unit_test(dr215_silent),
	    cmocka_unit_test(dr216_fires),  cmocka_unit_test(dr216_silent),
	    cmocka_unit_test(dr217_fires),  cmocka_unit_test(dr217_silent),
	    cmocka_unit_test(dr218_fires),  cmocka_unit_test(dr218_silent),
	    cmocka_unit_test(dr219_fires),  cmocka_unit_test(dr219_silent),
	    cmocka_unit_test(dr220_fires),  cmocka_unit_test(dr220_silent),
	    cmocka_unit_test(dr221_fires),  cmocka_unit_test(dr221_silent),
	    cmocka_unit_test(seed_example),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
