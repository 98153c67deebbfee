/*
 * test_chk_network.c - the virtual-network rules (NW1xx): for each rule a
 * small estate built to break it (exact finding count, a message fragment)
 * and a close variant that must stay silent; and the seeds' scenario
 * (examples/seed-two-circuits.yaml), which no NW rule may flag.
 *
 * The YAML fixtures are kept out of clang-format, which would otherwise
 * reflow the concatenated lines of each estate beyond recognition.
 */
#include "testutil.h"

#include <stdio.h>

/* Runs rule id on yaml; expects n findings, one of whose messages holds sub. */
static void
expect(const char *yaml, const char *id, int n, const char *sub)
{
	char *msgs = NULL;
	int got = tu_findings(yaml, id, &msgs);
	if (got != n || (sub && (!msgs || !strstr(msgs, sub))))
		fprintf(stderr, "%s: got %d finding(s), want %d with \"%s\":\n%s", id, got, n,
		        sub ? sub : "", msgs ? msgs : "(load failed)\n");
	bool found = !sub || (msgs && strstr(msgs, sub));
	free(msgs); /* before asserting: a failed assertion jumps out */
	assert_int_equal(got, n);
	assert_true(found);
}

// clang-format off

#define HEAD "estate: t\nregions: [{name: ea, geo: asia}, {name: sea, geo: asia}]\n"

/* A hub with an NVA subnet, a GatewaySubnet (prefix and extra keys given) and
 * an ExpressRoute gateway. */
#define HUB_GW(gwsub, extra)                                                                       \
	"  - {name: hub, region: ea, address_space: [10.0.0.0/24],\n"                              \
	"     gateways: [{name: gw, type: expressroute, sku: ErGw1AZ}],\n"                         \
	"     subnets: [{name: nva, prefix: 10.0.0.0/26},\n"                                       \
	"               {name: GatewaySubnet, prefix: " gwsub extra "}]}\n"

#define SPOKE1                                                                                     \
	"  - {name: spoke1, region: ea, address_space: [10.1.0.0/24],\n"                           \
	"     subnets: [{name: app, prefix: 10.1.0.0/25}]}\n"
#define SPOKE2                                                                                     \
	"  - {name: spoke2, region: ea, address_space: [10.2.0.0/24],\n"                           \
	"     subnets: [{name: db, prefix: 10.2.0.0/25}]}\n"
#define SPOKE1_RT(rt)                                                                              \
	"  - {name: spoke1, region: ea, address_space: [10.1.0.0/24],\n"                           \
	"     subnets: [{name: app, prefix: 10.1.0.0/25, route_table: " rt "}]}\n"
#define SPOKE2_RT(rt)                                                                              \
	"  - {name: spoke2, region: ea, address_space: [10.2.0.0/24],\n"                           \
	"     subnets: [{name: db, prefix: 10.2.0.0/25, route_table: " rt "}]}\n"

/* The seed's hub-and-spoke peerings: both directions, forwarded traffic on. */
#define FWD "allow_forwarded_traffic: true"
#define PEERS_OK                                                                                   \
	"peerings:\n"                                                                              \
	"  - {from: spoke1, to: hub, " FWD ", use_remote_gateways: true}\n"                        \
	"  - {from: hub, to: spoke1, " FWD ", allow_gateway_transit: true}\n"                      \
	"  - {from: spoke2, to: hub, " FWD ", use_remote_gateways: true}\n"                        \
	"  - {from: hub, to: spoke2, " FWD ", allow_gateway_transit: true}\n"

#define NVA "appliances: [{name: nva1, subnet: hub/nva, ip: 10.0.0.4}]\n"
#define UDR(name, routes) "route_tables:\n  - {name: " name ", region: ea, routes: [" routes "]}\n"
#define DEFAULT_VIA_NVA "{name: dflt, prefix: 0.0.0.0/0, next_hop: virtual_appliance, ip: 10.0.0.4}"

/* The seed-like hub and spokes, clean for every NW rule. */
#define CLEAN                                                                                      \
	HEAD "vnets:\n" HUB_GW("10.0.0.224/27", "")                                                \
	SPOKE1_RT("spoke-udr") SPOKE2_RT("spoke-udr")                                              \
	PEERS_OK NVA UDR("spoke-udr", DEFAULT_VIA_NVA)

static void
test_clean_fixture(void **state)
{
	static const char *const ids[] = {
		"NW101", "NW102", "NW103", "NW104", "NW105", "NW106", "NW107", "NW108",
		"NW109", "NW110", "NW111", "NW112", "NW113", "NW114", "NW115", "NW116",
		"NW117", "NW118", "NW119", "NW120", "NW121", "NW122", "NW123", "NW124",
	};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		assert_non_null(chk_rule_find(ids[i]));
		expect(CLEAN, ids[i], 0, NULL);
	}
}

/* ---- GatewaySubnet ------------------------------------------------------- */

static void
test_nw101(void **state)
{
	expect(HEAD "vnets:\n"
	       "  - {name: hub, region: ea, address_space: [10.0.0.0/24],\n"
	       "     gateways: [{name: gw, type: expressroute, sku: ErGw1AZ}],\n"
	       "     subnets: [{name: gatewaysubnet, prefix: 10.0.0.224/27}]}\n",
	       "NW101", 1,
	       "vnet 'hub' has gateway 'gw' but no subnet named exactly GatewaySubnet "
	       "(subnet 'hub/gatewaysubnet'");
	expect(HEAD "vnets:\n"
	       "  - {name: hub, region: ea, address_space: [10.0.0.0/24],\n"
	       "     gateways: [{name: gw, type: expressroute, sku: ErGw1AZ}]}\n",
	       "NW101", 1, "vnet 'hub' has gateway 'gw' but no GatewaySubnet");
	/* silent: the subnet is there; or no gateway at all */
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.224/27", ""), "NW101", 0, NULL);
	expect(HEAD "vnets:\n" SPOKE1, "NW101", 0, NULL);
}

static void
test_nw102(void **state)
{
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.252/30", ""), "NW102", 1,
	       "hub/GatewaySubnet is 10.0.0.252/30 (/30): the smallest allowed is /29");
	/* ER and VPN coexisting need /27 */
	expect(HEAD "vnets:\n"
	       "  - {name: hub, region: ea, address_space: [10.0.0.0/24],\n"
	       "     gateways: [{name: er, type: expressroute, sku: ErGw1AZ},\n"
	       "                {name: vpn, type: vpn, sku: VpnGw1AZ}],\n"
	       "     subnets: [{name: GatewaySubnet, prefix: 10.0.0.240/28}]}\n",
	       "NW102", 1, "has both an ExpressRoute and a VPN gateway, which need /27 or larger");
	/* silent: /29 is the smallest allowed (NW103 warns instead) */
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.248/29", ""), "NW102", 0, NULL);
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.248/29", ""), "NW103", 1, "/27 or larger");
}

static void
test_nw103(void **state)
{
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.240/28", ""), "NW103", 1,
	       "hub/GatewaySubnet is 10.0.0.240/28 (/28): /27 or larger is recommended");
	/* silent: /27; /30 is NW102's; a lowered recommendation */
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.224/27", ""), "NW103", 0, NULL);
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.252/30", ""), "NW103", 0, NULL);
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.240/28", "")
	       "limits: {gateway_subnet_recommended_prefix_len: 28}\n",
	       "NW103", 0, NULL);
}

#define PE_IN_GWSUB ", private_endpoints: [{name: pe1, ip: 10.0.0.230, service: blob}]"

static void
test_nw104(void **state)
{
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.224/27", PE_IN_GWSUB)
	       "appliances: [{name: nva1, subnet: hub/GatewaySubnet, ip: 10.0.0.228}]\n"
	       "vms: [{name: vm1, subnet: hub/GatewaySubnet, ip: 10.0.0.229}]\n",
	       "NW104", 3, "vm 'vm1' is deployed in hub/GatewaySubnet");
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.224/27", PE_IN_GWSUB)
	       "appliances: [{name: nva1, subnet: hub/GatewaySubnet, ip: 10.0.0.228}]\n",
	       "NW104", 2, "private endpoint 'pe1' is deployed in hub/GatewaySubnet");
	/* silent: the same kind of objects in the nva subnet */
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.224/27", "") NVA
	       "vms: [{name: vm1, subnet: hub/nva, ip: 10.0.0.5}]\n",
	       "NW104", 0, NULL);
}

static void
test_nw105(void **state)
{
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.224/27", ", route_table: gw-udr") NVA
	       "route_tables:\n"
	       "  - {name: gw-udr, region: ea, propagate_gateway_routes: false,\n"
	       "     routes: [" DEFAULT_VIA_NVA "]}\n",
	       "NW105", 2,
	       "route 'dflt' (0.0.0.0/0 -> virtual_appliance 10.0.0.4) of table 'gw-udr' on "
	       "hub/GatewaySubnet is a default route");
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.224/27", ", route_table: gw-udr") NVA
	       "route_tables:\n"
	       "  - {name: gw-udr, region: ea, propagate_gateway_routes: false}\n",
	       "NW105", 1, "route table 'gw-udr' on hub/GatewaySubnet disables gateway route "
	       "propagation");
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.224/27", ", route_table: gw-udr")
	       UDR("gw-udr", "{prefix: 10.0.0.0/24, next_hop: none}"),
	       "NW105", 1, "drops traffic to the GatewaySubnet range 10.0.0.224/27");
	/* silent: the hub pattern, specific prefixes to the NVA */
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.224/27", ", route_table: gw-udr") SPOKE1 NVA
	       UDR("gw-udr", "{prefix: 10.1.0.0/24, next_hop: virtual_appliance, ip: 10.0.0.4}"),
	       "NW105", 0, NULL);
}

/* ---- gateways ------------------------------------------------------------ */

#define RT_HUB(gws)                                                                                \
	"  - {name: hub, region: ea, address_space: [10.0.0.0/24], gateways: [" gws "],\n"         \
	"     subnets: [{name: app, prefix: 10.0.0.0/26, route_table: rt},\n"                      \
	"               {name: GatewaySubnet, prefix: 10.0.0.224/27}]}\n"
#define TO_ONPREM "{prefix: 172.16.0.0/16, next_hop: virtual_network_gateway}"

static void
test_nw106(void **state)
{
	/* next hop names the ExpressRoute gateway */
	expect(HEAD "vnets:\n" RT_HUB("{name: gw, type: expressroute, sku: ErGw1AZ}")
	       UDR("rt", "{name: onprem, prefix: 172.16.0.0/16, next_hop: virtual_network_gateway, "
			 "gateway: gw}"),
	       "NW106", 1,
	       "route 'onprem' (172.16.0.0/16 -> virtual_network_gateway) of table 'rt' has next "
	       "hop gateway 'gw', an ExpressRoute gateway (ErGw1AZ)");
	/* no gateway named, and only an ExpressRoute one in the VNet */
	expect(HEAD "vnets:\n" RT_HUB("{name: gw, type: expressroute, sku: ErGw1AZ}")
	       UDR("rt", TO_ONPREM),
	       "NW106", 1,
	       "(on hub/app) has next hop virtual_network_gateway, but vnet 'hub' has no VPN "
	       "gateway");
	/* ER and VPN coexisting */
	expect(HEAD "vnets:\n" RT_HUB("{name: gw, type: expressroute, sku: ErGw1AZ}, "
				      "{name: vpn, type: vpn, sku: VpnGw1AZ}")
	       UDR("rt", TO_ONPREM),
	       "NW106", 1, "has both ExpressRoute and VPN gateways");
	/* a VPN gateway of a VNet the subnet does not use */
	expect(HEAD "vnets:\n" RT_HUB("{name: vpn, type: vpn, sku: VpnGw1AZ}")
	       "  - {name: other, region: ea, address_space: [10.7.0.0/24],\n"
	       "     gateways: [{name: vpn2, type: vpn, sku: VpnGw1AZ}],\n"
	       "     subnets: [{name: GatewaySubnet, prefix: 10.7.0.224/27}]}\n"
	       UDR("rt", "{prefix: 172.16.0.0/16, next_hop: virtual_network_gateway, "
			 "gateway: vpn2}"),
	       "NW106", 1, "names gateway 'vpn2' in vnet 'other', but vnet 'hub' uses the gateways "
	       "of vnet 'hub'");
	/* silent: a VPN gateway, own or the hub's through use_remote_gateways */
	expect(HEAD "vnets:\n" RT_HUB("{name: vpn, type: vpn, sku: VpnGw1AZ}")
	       UDR("rt", "{prefix: 172.16.0.0/16, next_hop: virtual_network_gateway, "
			 "gateway: vpn}"),
	       "NW106", 0, NULL);
	expect(HEAD "vnets:\n"
	       "  - {name: hub, region: ea, address_space: [10.0.0.0/24],\n"
	       "     gateways: [{name: vpn, type: vpn, sku: VpnGw1AZ}],\n"
	       "     subnets: [{name: GatewaySubnet, prefix: 10.0.0.224/27}]}\n"
	       SPOKE1_RT("rt")
	       "peerings:\n"
	       "  - {from: spoke1, to: hub, use_remote_gateways: true}\n"
	       "  - {from: hub, to: spoke1, allow_gateway_transit: true}\n"
	       UDR("rt", TO_ONPREM),
	       "NW106", 0, NULL);
}

#define GW_VNET(gws)                                                                               \
	HEAD "vnets:\n"                                                                            \
	"  - {name: hub, region: ea, address_space: [10.0.0.0/24], gateways: [" gws "],\n"         \
	"     subnets: [{name: GatewaySubnet, prefix: 10.0.0.192/26}]}\n"

static void
test_nw107(void **state)
{
	expect(GW_VNET("{name: a, type: expressroute, sku: ErGw1AZ}, "
		       "{name: b, type: expressroute, sku: ErGw2AZ}"),
	       "NW107", 1, "vnet 'hub' has a second expressroute gateway 'b' besides 'a'");
	expect(GW_VNET("{name: a, type: vpn, sku: ErGw1AZ}"), "NW107", 1,
	       "gateway 'a' in vnet 'hub' is type vpn but SKU ErGw1AZ is an ExpressRoute SKU");
	expect(GW_VNET("{name: a, sku: VpnGw1}"), "NW107", 1,
	       "is type expressroute (the default) but SKU VpnGw1 is a VPN SKU");
	expect(GW_VNET("{name: a, type: expressroute, sku: ErGwScale}"), "NW107", 1,
	       "gateway 'a' in vnet 'hub' is ErGwScale without min_scale_units");
	expect(GW_VNET("{name: a, type: expressroute, sku: ErGwScale, min_scale_units: 5, "
		       "max_scale_units: 2}"),
	       "NW107", 1, "min_scale_units 5 above max_scale_units 2");
	/* silent: one of each type, types matching SKUs, scale units in order; Basic is NW121's */
	expect(GW_VNET("{name: a, type: expressroute, sku: ErGwScale, min_scale_units: 2, "
		       "max_scale_units: 4}, {name: b, type: vpn, sku: VpnGw1AZ}"),
	       "NW107", 0, NULL);
	expect(GW_VNET("{name: a, type: expressroute, sku: Basic}"), "NW107", 0, NULL);
}

static void
test_nw121(void **state)
{
	expect(GW_VNET("{name: a, type: expressroute, sku: Basic}"), "NW121", 1,
	       "gateway 'a' in vnet 'hub' uses the deprecated Basic SKU");
	expect(GW_VNET("{name: a, type: expressroute, sku: ErGw1AZ}"), "NW121", 0, NULL);
}

/* ---- peerings ------------------------------------------------------------ */

#define HS HEAD "vnets:\n" HUB_GW("10.0.0.224/27", "") SPOKE1 SPOKE2

static void
test_nw108(void **state)
{
	expect(HS "peerings:\n"
	       "  - {from: spoke1, to: hub, use_remote_gateways: true}\n"
	       "  - {from: hub, to: spoke1}\n",
	       "NW108", 1,
	       "peering 'spoke1-to-hub' (spoke1 -> hub) uses remote gateways, but the reverse "
	       "peering 'hub-to-spoke1' does not allow gateway transit");
	expect(HS "peerings: [{from: spoke1, to: spoke2, use_remote_gateways: true}]\n",
	       "NW108", 1,
	       "uses remote gateways, but vnet 'spoke2' has no gateway; the reverse peering "
	       "spoke2 -> spoke1 does not exist");
	expect(HS PEERS_OK, "NW108", 0, NULL);
}

static void
test_nw109(void **state)
{
	expect(HS "peerings:\n"
	       "  - {from: hub, to: spoke1, use_remote_gateways: true}\n"
	       "  - {from: spoke1, to: hub}\n",
	       "NW109", 1,
	       "vnet 'hub' has its own gateway 'gw' but its peering 'hub-to-spoke1' to 'spoke1' "
	       "uses remote gateways");
	expect(HS PEERS_OK, "NW109", 0, NULL);
}

static void
test_nw110(void **state)
{
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.224/27", "") SPOKE1
	       "  - {name: hub2, region: ea, address_space: [10.9.0.0/24],\n"
	       "     gateways: [{name: gw2, type: expressroute, sku: ErGw1AZ}],\n"
	       "     subnets: [{name: GatewaySubnet, prefix: 10.9.0.224/27}]}\n"
	       "peerings:\n"
	       "  - {from: spoke1, to: hub, use_remote_gateways: true}\n"
	       "  - {from: hub, to: spoke1, allow_gateway_transit: true}\n"
	       "  - {from: spoke1, to: hub2, use_remote_gateways: true}\n"
	       "  - {from: hub2, to: spoke1, allow_gateway_transit: true}\n",
	       "NW110", 1,
	       "vnet 'spoke1' has 2 peerings that use remote gateways ('spoke1-to-hub', "
	       "'spoke1-to-hub2'): at most one may");
	expect(HS PEERS_OK, "NW110", 0, NULL);
}

static void
test_nw111(void **state)
{
	/* the hub's /15 covers spoke1: reported once for the pair, not per direction */
	expect(HEAD "vnets:\n"
	       "  - {name: hub, region: ea, address_space: [10.0.0.0/15]}\n" SPOKE1
	       "peerings: [{from: hub, to: spoke1}, {from: spoke1, to: hub}]\n",
	       "NW111", 1, "peered vnets 'hub' (10.0.0.0/15) and 'spoke1' (10.1.0.0/24) overlap");
	/* two spokes of one hub overlap each other */
	expect(HEAD "vnets:\n"
	       "  - {name: hub, region: ea, address_space: [10.0.0.0/24]}\n" SPOKE1
	       "  - {name: spoke9, region: ea, address_space: [10.1.0.0/16]}\n"
	       "peerings: [{from: hub, to: spoke1}, {from: spoke1, to: hub},\n"
	       "           {from: hub, to: spoke9}, {from: spoke9, to: hub}]\n",
	       "NW111", 1,
	       "vnet 'hub' is peered with 'spoke1' (10.1.0.0/24) and 'spoke9' (10.1.0.0/16), "
	       "which overlap each other");
	/* silent: disjoint spokes; overlapping VNets that are not peered */
	expect(HS PEERS_OK, "NW111", 0, NULL);
	expect(HEAD "vnets:\n"
	       "  - {name: hub, region: ea, address_space: [10.0.0.0/24]}\n" SPOKE1
	       "  - {name: spoke9, region: ea, address_space: [10.1.0.0/16]}\n"
	       "peerings: [{from: hub, to: spoke1}, {from: spoke1, to: hub}]\n",
	       "NW111", 0, NULL);
}

static void
test_nw112(void **state)
{
	expect(HS "peerings: [{from: spoke1, to: hub}]\n", "NW112", 1,
	       "peering 'spoke1-to-hub' (spoke1 -> hub) has no reverse peering hub -> spoke1");
	expect(HS "peerings: [{from: spoke1, to: hub}, {from: hub, to: spoke1}]\n", "NW112", 0,
	       NULL);
}

static void
test_nw113(void **state)
{
	expect(HS "peerings:\n"
	       "  - {from: spoke1, to: hub, allow_gateway_transit: true}\n"
	       "  - {from: hub, to: spoke1}\n",
	       "NW113", 1,
	       "peering 'spoke1-to-hub' allows gateway transit to 'hub', but vnet 'spoke1' has "
	       "no gateway");
	expect(HS PEERS_OK, "NW113", 0, NULL);
}

/* ---- forwarded traffic through the hub NVA ------------------------------- */

#define HUB_SPOKES_UDR                                                                             \
	HEAD "vnets:\n" HUB_GW("10.0.0.224/27", "")                                                \
	SPOKE1_RT("spoke-udr") SPOKE2_RT("spoke-udr")                                              \
	NVA UDR("spoke-udr", DEFAULT_VIA_NVA)

static void
test_nw114(void **state)
{
	/* spoke2's side does not accept what the NVA forwards from spoke1 */
	expect(HUB_SPOKES_UDR
	       "peerings:\n"
	       "  - {from: spoke1, to: hub, " FWD ", use_remote_gateways: true}\n"
	       "  - {from: hub, to: spoke1, allow_gateway_transit: true}\n"
	       "  - {from: spoke2, to: hub, use_remote_gateways: true}\n"
	       "  - {from: hub, to: spoke2, allow_gateway_transit: true}\n",
	       "NW114", 1,
	       "peering 'spoke2-to-hub' does not allow forwarded traffic, but NVA 'nva1' "
	       "(10.0.0.4) in vnet 'hub' forwards traffic from spoke1/app into 'spoke2'");
	/* one spoke only: its replies come back forwarded */
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.224/27", "") SPOKE1_RT("spoke-udr") NVA
	       UDR("spoke-udr", DEFAULT_VIA_NVA)
	       "peerings: [{from: spoke1, to: hub}, {from: hub, to: spoke1}]\n",
	       "NW114", 1,
	       "peering 'spoke1-to-hub' does not allow forwarded traffic, but spoke1/app sends "
	       "traffic through NVA 'nva1' (10.0.0.4) in vnet 'hub'");
	/* on-premises traffic steered from the GatewaySubnet through the NVA into spoke1 */
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.224/27", ", route_table: gw-udr") SPOKE1 NVA
	       UDR("gw-udr", "{name: s1, prefix: 10.1.0.0/24, next_hop: virtual_appliance, "
			     "ip: 10.0.0.4}")
	       "peerings: [{from: spoke1, to: hub}, {from: hub, to: spoke1}]\n",
	       "NW114", 1, "forwards traffic from hub/GatewaySubnet into 'spoke1'");
	/* silent: the seed's flags */
	expect(HUB_SPOKES_UDR PEERS_OK, "NW114", 0, NULL);
	/* silent: the flag matters on the spoke's side only (azure-facts 2.6) */
	expect(HUB_SPOKES_UDR
	       "peerings:\n"
	       "  - {from: spoke1, to: hub, allow_forwarded_traffic: true}\n"
	       "  - {from: hub, to: spoke1}\n"
	       "  - {from: spoke2, to: hub, allow_forwarded_traffic: true}\n"
	       "  - {from: hub, to: spoke2}\n",
	       "NW114", 0, NULL);
	/* silent: a hub subnet routing to its own NVA: the traffic originates in the hub */
	expect(HEAD "vnets:\n"
	       "  - {name: hub, region: ea, address_space: [10.0.0.0/24],\n"
	       "     subnets: [{name: nva, prefix: 10.0.0.0/26},\n"
	       "               {name: app, prefix: 10.0.0.64/26, route_table: hub-udr}]}\n"
	       SPOKE1 NVA
	       UDR("hub-udr", "{prefix: 10.1.0.0/24, next_hop: virtual_appliance, ip: 10.0.0.4}")
	       "peerings: [{from: spoke1, to: hub}, {from: hub, to: spoke1}]\n",
	       "NW114", 0, NULL);
	/* silent: spoke2 is peered with spoke1 directly; its /24 beats the default route */
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.224/27", "") SPOKE1_RT("spoke-udr") SPOKE2 NVA
	       UDR("spoke-udr", DEFAULT_VIA_NVA)
	       "peerings:\n"
	       "  - {from: spoke1, to: hub, allow_forwarded_traffic: true}\n"
	       "  - {from: hub, to: spoke1}\n"
	       "  - {from: spoke2, to: hub}\n"
	       "  - {from: hub, to: spoke2}\n"
	       "  - {from: spoke1, to: spoke2}\n"
	       "  - {from: spoke2, to: spoke1}\n",
	       "NW114", 0, NULL);
}

/* ---- UDR next hops ------------------------------------------------------- */

static void
test_nw115(void **state)
{
	/* two subnets of one VNet share the table: one finding */
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.224/27", "")
	       "  - {name: spoke1, region: ea, address_space: [10.1.0.0/24],\n"
	       "     subnets: [{name: app, prefix: 10.1.0.0/25, route_table: rt},\n"
	       "               {name: web, prefix: 10.1.0.128/25, route_table: rt}]}\n" NVA
	       UDR("rt", "{name: d, prefix: 0.0.0.0/0, next_hop: virtual_appliance, ip: 10.0.0.9}")
	       "peerings: [{from: spoke1, to: hub}, {from: hub, to: spoke1}]\n",
	       "NW115", 1,
	       "route 'd' (0.0.0.0/0 -> virtual_appliance 10.0.0.9) of table 'rt' (on "
	       "spoke1/app): no appliance has that IP in vnet 'spoke1' or a vnet peered with it");
	/* the NVA exists, but the peering has one side only */
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.224/27", "") SPOKE1_RT("rt") NVA
	       UDR("rt", DEFAULT_VIA_NVA) "peerings: [{from: spoke1, to: hub}]\n",
	       "NW115", 1,
	       "appliance 'nva1' has that IP in vnet 'hub', which is not peered with 'spoke1' in "
	       "both directions");
	/* silent: peered both ways; a table attached nowhere */
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.224/27", "") SPOKE1_RT("rt") NVA
	       UDR("rt", DEFAULT_VIA_NVA)
	       "peerings: [{from: spoke1, to: hub}, {from: hub, to: spoke1}]\n",
	       "NW115", 0, NULL);
	expect(HEAD "vnets:\n" SPOKE1
	       UDR("rt", "{prefix: 0.0.0.0/0, next_hop: virtual_appliance, ip: 10.0.0.9}"),
	       "NW115", 0, NULL);
}

static void
test_nw122(void **state)
{
	/* two spokes use the table: one finding per route */
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.224/27", "") SPOKE1_RT("rt") SPOKE2_RT("rt")
	       UDR("rt", DEFAULT_VIA_NVA) PEERS_OK
	       "appliances: [{name: nva1, subnet: hub/nva, ip: 10.0.0.4, ip_forwarding: false}]\n",
	       "NW122", 1,
	       "appliance 'nva1' (10.0.0.4 in vnet 'hub'), next hop of route 'dflt' (0.0.0.0/0 "
	       "-> virtual_appliance 10.0.0.4) of table 'rt', has IP forwarding off");
	expect(CLEAN, "NW122", 0, NULL);
}

static void
test_nw120(void **state)
{
	expect(HEAD UDR("rt", "{name: d, prefix: 0.0.0.0/0, next_hop: virtual_appliance}"),
	       "NW120", 1,
	       "route 'd' (0.0.0.0/0 -> virtual_appliance) of table 'rt' has next hop "
	       "virtual_appliance but no ip");
	expect(HEAD UDR("rt", DEFAULT_VIA_NVA), "NW120", 0, NULL);
}

static void
test_nw124(void **state)
{
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.224/27", "")
	       UDR("rt", "{name: d, prefix: 0.0.0.0/0, next_hop: internet, ip: 10.0.0.4}, "
			 "{name: n, prefix: 10.9.0.0/16, next_hop: none, gateway: gw}"),
	       "NW124", 2,
	       "route 'd' (0.0.0.0/0 -> internet 10.0.0.4) of table 'rt' sets ip 10.0.0.4, but "
	       "next hop internet takes none");
	expect(HEAD "vnets:\n" HUB_GW("10.0.0.224/27", "")
	       UDR("rt", "{name: n, prefix: 10.9.0.0/16, next_hop: none, gateway: gw}"),
	       "NW124", 1, "names gateway 'gw', but next hop none takes none");
	expect(HEAD UDR("rt", DEFAULT_VIA_NVA ", {prefix: 10.9.0.0/16, next_hop: internet}"),
	       "NW124", 0, NULL);
}

/* ---- addresses ----------------------------------------------------------- */

static void
test_nw116(void **state)
{
	expect(HEAD "vnets:\n"
	       "  - {name: v, region: ea, address_space: [10.0.0.0/16],\n"
	       "     subnets: [{name: a, prefix: 10.9.0.0/24}]}\n",
	       "NW116", 1, "subnet v/a (10.9.0.0/24) is outside the address space of vnet 'v'");
	expect(HEAD "vnets:\n"
	       "  - {name: v, region: ea, address_space: [10.0.0.0/16],\n"
	       "     subnets: [{name: a, prefix: 10.0.0.0/24},\n"
	       "               {name: b, prefix: 10.0.0.128/25}]}\n",
	       "NW116", 1, "subnets v/a (10.0.0.0/24) and v/b (10.0.0.128/25) overlap");
	expect(HEAD "vnets:\n"
	       "  - {name: v, region: ea, address_space: [10.0.0.0/16],\n"
	       "     subnets: [{name: a, prefix: 10.0.0.0/30}]}\n",
	       "NW116", 1, "subnet v/a is 10.0.0.0/30: the smallest IPv4 subnet is /29");
	/* silent: /29s side by side, a second address space; a /30 GatewaySubnet is NW102's */
	expect(HEAD "vnets:\n"
	       "  - {name: v, region: ea, address_space: [10.0.0.0/16, 10.5.0.0/16],\n"
	       "     subnets: [{name: a, prefix: 10.0.0.0/29}, {name: b, prefix: 10.0.0.8/29},\n"
	       "               {name: c, prefix: 10.5.0.0/24},\n"
	       "               {name: GatewaySubnet, prefix: 10.0.1.0/30}]}\n",
	       "NW116", 0, NULL);
}

#define V117(extra)                                                                                \
	HEAD "vnets:\n"                                                                            \
	"  - {name: v, region: ea, address_space: [10.1.0.0/24],\n"                                \
	"     subnets: [{name: app, prefix: 10.1.0.0/25" extra "},\n"                              \
	"               {name: web, prefix: 10.1.0.128/25}]}\n"

static void
test_nw117(void **state)
{
	expect(V117("") "vms: [{name: vm1, subnet: v/app, ip: 10.1.0.200}]\n", "NW117", 1,
	       "vm 'vm1' has IP 10.1.0.200, outside its subnet v/app (10.1.0.0/25)");
	expect(V117("")
	       "vms: [{name: vm1, subnet: v/app, ip: 10.1.0.1},\n"
	       "      {name: vm2, subnet: v/app, ip: 10.1.0.127}]\n",
	       "NW117", 2, "vm 'vm2' has IP 10.1.0.127, reserved in subnet v/app (10.1.0.0/25)");
	expect(V117(", private_endpoints: [{name: pe1, ip: 10.1.0.3, service: blob}]"), "NW117", 1,
	       "private endpoint 'pe1' has IP 10.1.0.3, reserved");
	expect(V117("")
	       "vms: [{name: vm1, subnet: v/app, ip: 10.1.0.4}]\n"
	       "appliances: [{name: nva1, subnet: v/app, ip: 10.1.0.4}]\n",
	       "NW117", 1, "vm 'vm1' and appliance 'nva1' both use 10.1.0.4 in vnet 'v'");
	/* silent: distinct free IPs; the same IP in two VNets */
	expect(V117(", private_endpoints: [{name: pe1, ip: 10.1.0.6, service: blob}]")
	       "vms: [{name: vm1, subnet: v/app, ip: 10.1.0.4},\n"
	       "      {name: vm2, subnet: v/web, ip: 10.1.0.132}]\n"
	       "appliances: [{name: nva1, subnet: v/app, ip: 10.1.0.5}]\n",
	       "NW117", 0, NULL);
	expect(HEAD "vnets:\n"
	       "  - {name: a, region: ea, address_space: [10.1.0.0/24],\n"
	       "     subnets: [{name: s, prefix: 10.1.0.0/25}]}\n"
	       "  - {name: b, region: sea, address_space: [10.1.0.0/24],\n"
	       "     subnets: [{name: s, prefix: 10.1.0.0/25}]}\n"
	       "vms: [{name: vm1, subnet: a/s, ip: 10.1.0.4},\n"
	       "      {name: vm2, subnet: b/s, ip: 10.1.0.4}]\n",
	       "NW117", 0, NULL);
}

static void
test_nw118(void **state)
{
	expect(HEAD "vnets: [{name: v, region: ea, address_space: [169.254.0.0/16]}]\n", "NW118",
	       1, "vnet 'v' address space 169.254.0.0/16 overlaps 169.254.0.0/16 (link-local)");
	expect(HEAD "vnets: [{name: v, region: ea, address_space: [168.63.128.0/22]}]\n", "NW118",
	       1, "overlaps 168.63.129.16/32 (Azure DNS");
	expect(HEAD "vnets: [{name: v, region: ea, address_space: [10.0.0.0/16, 10.0.1.0/24]}]\n",
	       "NW118", 1, "vnet 'v' address spaces 10.0.0.0/16 and 10.0.1.0/24 overlap");
	expect(HEAD "vnets: [{name: v, region: ea, address_space: [10.0.0.0/16, 100.64.0.0/16]}]\n",
	       "NW118", 0, NULL);
}

/* ---- regions and limits -------------------------------------------------- */

static void
test_nw119(void **state)
{
	expect(HEAD "vnets:\n" SPOKE1_RT("rt")
	       "route_tables: [{name: rt, region: sea, routes: [" DEFAULT_VIA_NVA "]}]\n",
	       "NW119", 1,
	       "route table 'rt' (sea) is attached to spoke1/app in vnet 'spoke1' (ea)");
	expect(HEAD "vnets:\n" SPOKE1_RT("rt")
	       "route_tables: [{name: rt, region: ea, routes: [" DEFAULT_VIA_NVA "]}]\n",
	       "NW119", 0, NULL);
}

#define TWO_ROUTES DEFAULT_VIA_NVA ", {prefix: 10.9.0.0/16, next_hop: none}"

static void
test_nw123(void **state)
{
	expect(HS PEERS_OK UDR("rt", TWO_ROUTES)
	       "limits: {routes_per_table: 1, peerings_per_vnet: 1, subnets_per_vnet: 1}\n",
	       "NW123", 3, "route table 'rt' has 2 routes, over the limit of 1");
	expect(HS PEERS_OK "limits: {peerings_per_vnet: 1}\n", "NW123", 1,
	       "vnet 'hub' has 2 peerings, over the limit of 1");
	expect(HS PEERS_OK "limits: {subnets_per_vnet: 1}\n", "NW123", 1,
	       "vnet 'hub' has 2 subnets, over the limit of 1");
	expect(HS PEERS_OK UDR("rt", TWO_ROUTES)
	       "limits: {routes_per_table: 2, peerings_per_vnet: 2, subnets_per_vnet: 2}\n",
	       "NW123", 0, NULL);
}

// clang-format on

/* ---- the seeds' scenario ------------------------------------------------- */

static void
test_seed_example_clean(void **state)
{
	static const char *const paths[] = {"../examples/seed-two-circuits.yaml",
	                                    "../../examples/seed-two-circuits.yaml"};
	char *text = NULL;
	size_t len = 0;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]) && !text; i++)
		if (lib_read_file(paths[i], &text, &len) != 0)
			text = NULL;
	if (!text)
		fail_msg("examples/seed-two-circuits.yaml not found from the working directory "
		         "(tried ../examples and ../../examples)");
	struct estate *e = tu_load(text);
	free(text);
	assert_non_null(e);
	struct chk_result r;
	chk_run(e, NULL, 0, &r);
	const struct chk_finding *f = r.findings.v;
	int nw = 0;
	for (uint32_t i = 0; i < r.findings.n; i++)
		if (strncmp(f[i].rule->id, "NW", 2) == 0) {
			fprintf(stderr, "unexpected %s: %s\n", f[i].rule->id, f[i].msg);
			nw++;
		}
	chk_result_free(&r);
	est_free(e);
	assert_int_equal(nw, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clean_fixture), cmocka_unit_test(test_nw101),
	    cmocka_unit_test(test_nw102),         cmocka_unit_test(test_nw103),
	    cmocka_unit_test(test_nw104),         cmocka_unit_test(test_nw105),
	    cmocka_unit_test(test_nw106),         cmocka_unit_test(test_nw107),
	    cmocka_unit_test(test_nw108),         cmocka_unit_test(test_nw109),
	    cmocka_unit_test(test_nw110),         cmocka_unit_test(test_nw111),
	    cmocka_unit_test(test_nw112),         cmocka_unit_test(test_nw113),
	    cmocka_unit_test(test_nw114),         cmocka_unit_test(test_nw115),
	    cmocka_unit_test(test_nw116),         cmocka_unit_test(test_nw117),
	    cmocka_unit_test(test_nw118),         cmocka_unit_test(test_nw119),
	    cmocka_unit_test(test_nw120),         cmocka_unit_test(test_nw121),
	    cmocka_unit_test(test_nw122),         cmocka_unit_test(test_nw123),
	    cmocka_unit_test(test_nw124),         cmocka_unit_test(test_seed_example_clean),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
