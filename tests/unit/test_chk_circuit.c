/*
 * test_chk_circuit.c - the ExpressRoute rules (ER0xx): for every rule an
 * estate built to break it (exact finding count and a key part of the
 * message) and a close variant that stays silent; the seeds' scenario
 * (examples/seed-two-circuits.yaml) trips no ER rule.
 *
 * Estates are small inline YAML texts assembled from the macros below; the
 * few that need hundreds of objects are generated into a lib_buf.
 */
#include "testutil.h"

#include <stdio.h>
#include <unistd.h>

#define HEAD                                                                                       \
	"estate: t\n"                                                                              \
	"regions:\n"                                                                               \
	"  - {name: eastasia, geo: asia}\n"                                                        \
	"  - {name: southeastasia, geo: asia}\n"                                                   \
	"  - {name: westeurope, geo: europe}\n"                                                    \
	"  - {name: usgovvirginia, geo: usgov, national: true}\n"                                  \
	"locations:\n"                                                                             \
	"  - {name: hong-kong, geo: asia, local_regions: [eastasia]}\n"                            \
	"  - {name: singapore, geo: asia, local_regions: [southeastasia]}\n"                       \
	"  - {name: amsterdam, geo: europe, local_regions: [westeurope]}\n"                        \
	"  - {name: no-local, geo: asia, local_tier: false}\n"

#define SITES "sites:\n  - {name: hq, asn: 65010, prefixes: [172.16.0.0/16]}\n"

#define PRIV "private_peering: {peer_asn: 65010, subnet: 192.168.100.0/29, vlan: 100}"

/* A 1 Gbps standard circuit of site hq with private peering; extra starts with ", ". */
#define CIRCUIT(name, loc, extra)                                                                  \
	"  - {name: " name ", site: hq, location: " loc ", bandwidth: 1Gbps, " PRIV extra "}\n"

#define VNET(name, region, space)                                                                  \
	"  - {name: " name ", region: " region ", address_space: [" space "]}\n"

#define HUB(name, region, space, gw)                                                               \
	"  - {name: " name ", region: " region ", address_space: [" space "],"                     \
	" gateways: [{name: " gw ", sku: ErGw1AZ}]}\n"

#define CONN(gw, circ) "  - {gateway: " gw ", circuit: " circ "}\n"

/* Runs rule id on yaml: exactly n findings, and (when given) substr in the messages. */
static void
expect(const char *yaml, const char *id, int n, const char *substr)
{
	char *msgs = NULL;
	int got = tu_findings(yaml, id, &msgs);
	bool ok = got == n && (!substr || (msgs && strstr(msgs, substr)));
	if (!ok)
		print_message("%s: %d findings (want %d%s%s):\n%s", id, got, n,
		              substr ? ", with " : "", substr ? substr : "", msgs ? msgs : "");
	free(msgs);
	assert_true(ok);
}

/* ---- ER001 -------------------------------------------------------------- */

static void
t_er001(void **state)
{
	const char *bad = HEAD SITES "circuits:\n" CIRCUIT("er-a", "hong-kong", "") "vnets:\n" HUB(
	    "h1", "eastasia", "10.0.0.0/16", "g1")
	    HUB("h2", "eastasia", "10.0.1.0/24", "g2") "connections:\n" CONN("g1", "er-a")
	        CONN("g2", "er-a");
	expect(bad, "ER001", 1, "vnet 'h1' address space 10.0.0.0/16 overlaps vnet 'h2'");
	const char *good = HEAD SITES "circuits:\n" CIRCUIT("er-a", "hong-kong", "") "vnets:\n" HUB(
	    "h1", "eastasia", "10.0.0.0/16", "g1")
	    HUB("h2", "eastasia", "10.1.0.0/24", "g2") "connections:\n" CONN("g1", "er-a")
	        CONN("g2", "er-a");
	expect(good, "ER001", 0, NULL);
}

/* ---- ER002 -------------------------------------------------------------- */

#define ER002(locb, lim)                                                                           \
	HEAD SITES "circuits:\n" CIRCUIT("er-a", "hong-kong", "")                                  \
	    CIRCUIT("er-b", locb, "") "vnets:\n" HUB("hub", "eastasia", "10.0.0.0/24", "gw")       \
	        VNET("spoke", "eastasia", "10.1.0.0/24") "connections:\n" CONN("gw", "er-a") CONN( \
	            "gw", "er-b") "peerings:\n"                                                    \
	                          "  - {from: spoke, to: hub, use_remote_gateways: true}\n"        \
	                          "  - {from: hub, to: spoke, allow_gateway_transit: true}\n" lim

static void
t_er002(void **state)
{
	/* one finding, for the hub: the spoke reaches both circuits through the hub's
	 * gateway (use_remote_gateways) and is not counted as connected */
	expect(ER002("hong-kong", ""), "ER002", 1,
	       "vnet 'hub' is connected to 2 circuits at peering location 'hong-kong' "
	       "('er-a', 'er-b'), over the limit of 1");
	expect(ER002("singapore", ""), "ER002", 0, NULL);
	/* newer docs allow 4: the limit can be lifted */
	expect(ER002("hong-kong", "limits: {circuits_per_location_per_vnet: 4}\n"), "ER002", 0,
	       NULL);
}

/* ---- ER003 -------------------------------------------------------------- */

static void
t_er003(void **state)
{
	expect(HEAD SITES "circuits:\n" CIRCUIT("er-a", "hong-kong", "")
	           CIRCUIT("er-b", "hong-kong", ""),
	       "ER003", 1,
	       "all 2 circuits of site 'hq' ('er-a', 'er-b') are at peering location "
	       "'hong-kong': a location outage takes them all");
	expect(HEAD SITES "circuits:\n" CIRCUIT("er-a", "hong-kong", ""), "ER003", 1,
	       "site 'hq' has a single circuit 'er-a'");
	expect(HEAD SITES "circuits:\n" CIRCUIT("er-a", "hong-kong", "")
	           CIRCUIT("er-b", "singapore", ""),
	       "ER003", 0, NULL);
	/* a site without circuits is not at risk from a location */
	expect(HEAD SITES, "ER003", 0, NULL);
}

/* ---- ER004 -------------------------------------------------------------- */

#define ER004(tier, region)                                                                        \
	HEAD SITES "circuits:\n" CIRCUIT("er-a", "hong-kong", ", tier: " tier) "vnets:\n" HUB(     \
	    "hub", region, "10.0.0.0/24", "gw") "connections:\n" CONN("gw", "er-a")

static void
t_er004(void **state)
{
	expect(ER004("local", "southeastasia"), "ER004", 1,
	       "to local circuit 'er-a' at 'hong-kong', which reaches only its local regions "
	       "('eastasia')");
	expect(ER004("local", "eastasia"), "ER004", 0, NULL);
	expect(ER004("standard", "westeurope"), "ER004", 1,
	       "vnet 'hub' in region 'westeurope' (geo 'europe') to standard circuit 'er-a' at "
	       "'hong-kong' (geo 'asia')");
	expect(ER004("standard", "southeastasia"), "ER004", 0, NULL);
	expect(ER004("premium", "westeurope"), "ER004", 0, NULL);
	expect(ER004("premium", "usgovvirginia"), "ER004", 1,
	       "national-cloud region 'usgovvirginia'");
}

/* ---- ER005 -------------------------------------------------------------- */

#define ER005(a, b)                                                                                \
	HEAD SITES "circuits:\n" a b                                                               \
	           "global_reach: [{circuits: [er-a, er-b], subnet: 192.168.200.0/29}]\n"

static void
t_er005(void **state)
{
	expect(ER005(CIRCUIT("er-a", "hong-kong", ""), CIRCUIT("er-b", "hong-kong", "")), "ER005",
	       1, "both at peering location 'hong-kong': Global Reach needs two different");
	expect(ER005(CIRCUIT("er-a", "hong-kong", ""), CIRCUIT("er-b", "singapore", "")), "ER005",
	       0, NULL);
	expect(
	    ER005(CIRCUIT("er-a", "hong-kong", ", tier: local"), CIRCUIT("er-b", "singapore", "")),
	    "ER005", 1, "circuit 'er-a' is on the local tier");
	expect(ER005(CIRCUIT("er-a", "hong-kong", ""),
	             CIRCUIT("er-b", "amsterdam", ", tier: premium")),
	       "ER005", 1,
	       "links circuit 'er-a' (standard, geo 'asia') and 'er-b' (premium, geo 'europe') "
	       "across geopolitical regions: both need the premium tier");
	expect(ER005(CIRCUIT("er-a", "hong-kong", ", tier: premium"),
	             CIRCUIT("er-b", "amsterdam", ", tier: premium")),
	       "ER005", 0, NULL);
	expect(ER005(CIRCUIT("er-a", "hong-kong", ""),
	             "  - {name: er-b, site: hq, location: singapore, bandwidth: 1Gbps}\n"),
	       "ER005", 1, "circuit 'er-b' has no private peering");
}

/* ---- ER006 -------------------------------------------------------------- */

static void
t_er006(void **state)
{
	expect(HEAD SITES "circuits:\n" CIRCUIT("er-a", "hong-kong",
	                                        ", public_peering: {peer_asn: 65010, subnet: "
	                                        "198.51.100.0/29, vlan: 300}"),
	       "ER006", 1, "circuit 'er-a' has Azure public peering, deprecated");
	expect(HEAD SITES "circuits:\n" CIRCUIT("er-a", "hong-kong", ""), "ER006", 0, NULL);
}

/* ---- ER007 -------------------------------------------------------------- */

#define ER007(circ)                                                                                \
	HEAD SITES "circuits:\n" circ "vnets:\n" HUB("hub", "eastasia", "10.0.0.0/24",             \
	                                             "gw") "connections:\n" CONN("gw", "er-a")

static void
t_er007(void **state)
{
	expect(
	    ER007(CIRCUIT("er-a", "hong-kong", ", provider_state: provisioning, state: disabled")),
	    "ER007", 1,
	    "connection 'gw-er-a' uses circuit 'er-a', which cannot carry it: its provider "
	    "state is provisioning, not provisioned; it is disabled");
	expect(ER007("  - {name: er-a, site: hq, location: hong-kong, bandwidth: 1Gbps}\n"),
	       "ER007", 1, "it has no private peering");
	expect(ER007(CIRCUIT("er-a", "hong-kong", ", provider_state: provisioned, state: enabled")),
	       "ER007", 0, NULL);
	/* an unusable circuit with nothing connected is not this rule's business */
	expect(HEAD SITES "circuits:\n" CIRCUIT("er-a", "hong-kong", ", state: disabled"), "ER007",
	       0, NULL);
}

/* ---- ER008 -------------------------------------------------------------- */

static void
t_er008(void **state)
{
	expect(HEAD
	       "sites:\n  - {name: hq, asn: 65515}\n"
	       "circuits:\n"
	       "  - {name: er-a, site: hq, location: hong-kong, bandwidth: 1Gbps,\n"
	       "     private_peering: {peer_asn: 23456, subnet: 192.168.100.0/29, vlan: 100}}\n",
	       "ER008", 2, "site 'hq' uses ASN 65515: ASNs 65515-65520 are reserved by Azure");
	expect(HEAD
	       "sites:\n  - {name: hq, asn: 65010}\n"
	       "circuits:\n"
	       "  - {name: er-a, site: hq, location: hong-kong, bandwidth: 1Gbps,\n"
	       "     private_peering: {peer_asn: 23456, subnet: 192.168.100.0/29, vlan: 100}}\n",
	       "ER008", 1, "private peering uses peer ASN 23456: ASN 23456 is AS_TRANS");
	expect(HEAD SITES "circuits:\n" CIRCUIT("er-a", "hong-kong", ""), "ER008", 0, NULL);
}

/* ---- ER009 -------------------------------------------------------------- */

#define ER009(peering)                                                                             \
	HEAD SITES "circuits:\n"                                                                   \
	           "  - {name: er-a, site: hq, location: hong-kong, bandwidth: 1Gbps,\n"           \
	           "     private_peering: {peer_asn: 65010, vlan: 100" peering "}}\n"              \
	           "vnets:\n" VNET("v", "eastasia", "10.0.0.0/16")

static void
t_er009(void **state)
{
	expect(ER009(""), "ER009", 1, "has no link subnets");
	expect(ER009(", primary: 192.168.1.0/30"), "ER009", 1,
	       "has a primary but no secondary subnet");
	expect(ER009(", subnet: 192.168.1.0/29, primary: 192.168.2.0/30, secondary: "
	             "192.168.2.4/30"),
	       "ER009", 1, "gives both a /29 subnet and primary/secondary /30s");
	expect(ER009(", primary: 192.168.1.0/29, secondary: 192.168.2.0/30"), "ER009", 1,
	       "primary 192.168.1.0/29 is not an IPv4 /30");
	expect(ER009(", subnet: 192.168.1.0/28"), "ER009", 1,
	       "subnet 192.168.1.0/28 is not an IPv4 /29");
	expect(ER009(", primary: 192.168.1.0/30, secondary: 192.168.1.0/30"), "ER009", 1,
	       "primary and secondary are the same 192.168.1.0/30");
	expect(ER009(", subnet: 192.168.1.0/29, ipv6_primary: 'fd00::/64', ipv6_secondary: "
	             "'fd00:0:0:1::/126'"),
	       "ER009", 1, "ipv6_primary fd00::/64 is not an IPv6 /126");
	expect(ER009(", subnet: 10.0.8.0/29"), "ER009", 1,
	       "subnet 10.0.8.0/29 overlaps vnet 'v' address space 10.0.0.0/16");
	/* the valid forms: one /29, two /30s, with IPv6 /126s */
	expect(ER009(", subnet: 192.168.1.0/29"), "ER009", 0, NULL);
	expect(ER009(", primary: 192.168.1.0/30, secondary: 192.168.1.4/30, ipv6_primary: "
	             "'fd00::/126', ipv6_secondary: 'fd00::4/126'"),
	       "ER009", 0, NULL);
}

/* ---- ER010 -------------------------------------------------------------- */

#define ER010(vlan)                                                                                \
	HEAD SITES "circuits:\n" CIRCUIT("er-a", "hong-kong",                                      \
	                                 ", microsoft_peering: {peer_asn: 65010, subnet: "         \
	                                 "198.51.100.0/29, vlan: " vlan "}")

static void
t_er010(void **state)
{
	expect(ER010("100"), "ER010", 1,
	       "circuit 'er-a' Microsoft peering reuses VLAN 100 of its private peering");
	expect(ER010("200"), "ER010", 0, NULL);
}

/* ---- ER011 -------------------------------------------------------------- */

/* Site hq with n IPv4 /24s, one circuit of the tier. Heap string. */
static char *
er011_yaml(unsigned n, const char *tier)
{
	struct lib_buf b = {0};
	lib_buf_puts(&b, HEAD "sites:\n  - name: hq\n    asn: 65010\n    prefixes: [");
	for (unsigned i = 0; i < n; i++)
		lib_buf_printf(&b, "%s10.%u.%u.0/24", i ? ", " : "", i / 256, i % 256);
	lib_buf_printf(&b, "]\ncircuits:\n" CIRCUIT("er-a", "hong-kong", ", tier: %s"), tier);
	return b.s;
}

static void
t_er011(void **state)
{
	char *y = er011_yaml(4001, "standard");
	expect(y, "ER011", 1,
	       "circuit 'er-a' carries 4,001 on-premises IPv4 prefixes from site 'hq', over the "
	       "private-peering limit of 4,000 (standard tier): the BGP session drops");
	free(y);
	y = er011_yaml(4000, "standard");
	expect(y, "ER011", 0, NULL);
	free(y);
	y = er011_yaml(4001, "premium");
	expect(y, "ER011", 0, NULL);
	free(y);
	/* overrides, and IPv6 */
	expect(HEAD
	       "sites:\n  - {name: hq, asn: 65010, prefixes: [172.16.0.0/16, 172.17.0.0/16]}\n"
	       "circuits:\n" CIRCUIT("er-a", "hong-kong", "") "limits: {private_v4_prefixes: 1}\n",
	       "ER011", 1, "carries 2 on-premises IPv4 prefixes");
	expect(HEAD
	       "sites:\n  - {name: hq, asn: 65010, prefixes: ['fd01::/48', 'fd02::/48']}\n"
	       "circuits:\n" CIRCUIT("er-a", "hong-kong", "") "limits: {private_v6_prefixes: 1}\n",
	       "ER011", 1, "carries 2 on-premises IPv6 prefixes");
	/* without private peering the site advertises nothing to Azure */
	expect(HEAD "sites:\n  - {name: hq, asn: 65010, prefixes: [172.16.0.0/16, 172.17.0.0/16]}\n"
	            "circuits:\n  - {name: er-a, site: hq, location: hong-kong, bandwidth: 1Gbps}\n"
	            "limits: {private_v4_prefixes: 1}\n",
	       "ER011", 0, NULL);
}

/* ---- ER012 -------------------------------------------------------------- */

#define ER012(pfx)                                                                                 \
	HEAD SITES "circuits:\n" CIRCUIT("er-a", "hong-kong",                                      \
	                                 ", microsoft_peering: {peer_asn: 65010, subnet: "         \
	                                 "198.51.100.0/29, vlan: 200, advertised_prefixes: [" pfx  \
	                                 "]}") "limits: {microsoft_prefixes: 2}\n"

static void
t_er012(void **state)
{
	expect(ER012("203.0.113.0/26, 203.0.113.64/26, 203.0.113.128/26"), "ER012", 1,
	       "circuit 'er-a' Microsoft peering advertises 3 IPv4 prefixes, over the limit of 2");
	expect(ER012("203.0.113.0/26, 203.0.113.64/26, '2001:db8::/48'"), "ER012", 0, NULL);
}

/* ---- ER013 -------------------------------------------------------------- */

#define ER013(hub_extra, transit, lim)                                                             \
	HEAD SITES "circuits:\n" CIRCUIT(                                                          \
	    "er-a", "hong-kong",                                                                   \
	    "") "vnets:\n"                                                                         \
	        "  - {name: hub, region: eastasia, address_space: [10.0.0.0/24],"                  \
	        " gateways: [{name: gw, sku: ErGw1AZ}]" hub_extra                                  \
	        "}\n" VNET("s1", "eastasia", "10.1.0.0/24")                                        \
	            VNET("s2", "eastasia", "10.2.0.0/24") "connections:\n" CONN(                   \
	                "gw", "er-a") "peerings:\n"                                                \
	                              "  - {from: s1, to: hub, use_remote_gateways: true}\n"       \
	                              "  - {from: hub, to: s1, allow_gateway_transit: " transit    \
	                              "}\n"                                                        \
	                              "  - {from: s2, to: hub, use_remote_gateways: true}\n"       \
	                              "  - {from: hub, to: s2, allow_gateway_transit: " transit    \
	                              "}\n"                                                        \
	                              "limits: {vnet_prefixes_to_circuit: " lim "}\n"

static void
t_er013(void **state)
{
	expect(ER013("", "true", "2"), "ER013", 1,
	       "circuit 'er-a' is advertised 3 IPv4 VNet prefixes by 1 connection (gateway VNets "
	       "and 2 spokes using gateway transit), over the limit of 2: the connections go down");
	expect(ER013("", "true", "3"), "ER013", 0, NULL);
	/* without gateway transit on the hub's side the spokes are not advertised */
	expect(ER013("", "false", "2"), "ER013", 0, NULL);
	/* a summary on the hub replaces the spokes it covers */
	expect(ER013(", summarized_prefixes: [10.0.0.0/8]", "true", "2"), "ER013", 0, NULL);
}

/* ---- ER014 -------------------------------------------------------------- */

/* n VNets with gateways, each connected to er-a (1 Gbps, of the tier); with
 * gr, er-a also has a Global Reach link to er-b. Heap string. */
static char *
er014_yaml(unsigned n, const char *tier, bool gr)
{
	struct lib_buf b = {0};
	lib_buf_printf(&b, HEAD SITES "circuits:\n" CIRCUIT("er-a", "hong-kong", ", tier: %s"),
	               tier);
	if (gr)
		lib_buf_puts(&b, CIRCUIT("er-b", "singapore",
		                         "") "global_reach: [{circuits: [er-a, er-b]}]\n");
	lib_buf_puts(&b, "vnets:\n");
	for (unsigned i = 0; i < n; i++)
		lib_buf_printf(&b,
		               "  - {name: v%u, region: eastasia, address_space: [10.%u.0.0/16],"
		               " gateways: [{name: g%u, sku: ErGw1AZ}]}\n",
		               i, i, i);
	lib_buf_puts(&b, "connections:\n");
	for (unsigned i = 0; i < n; i++)
		lib_buf_printf(&b, "  - {gateway: g%u, circuit: er-a}\n", i);
	return b.s;
}

static void
t_er014(void **state)
{
	char *y = er014_yaml(11, "standard", false);
	expect(y, "ER014", 1,
	       "circuit 'er-a' (1Gbps, standard) has 11 VNet links (11 connections, 0 Global "
	       "Reach links), over the limit of 10");
	free(y);
	y = er014_yaml(10, "standard", false);
	expect(y, "ER014", 0, NULL);
	free(y);
	y = er014_yaml(11, "premium", false);
	expect(y, "ER014", 0, NULL);
	free(y);
	/* a Global Reach link takes a slot too: 10 connections + 1 link */
	y = er014_yaml(10, "standard", true);
	expect(y, "ER014", 1, "has 11 VNet links (10 connections, 1 Global Reach link)");
	free(y);
}

/* ---- ER015 -------------------------------------------------------------- */

#define ER015(sku)                                                                                 \
	HEAD SITES "circuits:\n" CIRCUIT("c1", "hong-kong", "") CIRCUIT("c2", "singapore", "")     \
	    CIRCUIT("c3", "amsterdam", "") CIRCUIT("c4", "hong-kong", "")                          \
	        CIRCUIT("c5", "singapore",                                                         \
	                "") "vnets:\n"                                                             \
	                    "  - {name: hub, region: eastasia, address_space: [10.0.0.0/24],"      \
	                    " gateways: [{name: gw, sku: " sku "}]}\n"                             \
	                    "connections:\n" CONN("gw", "c1") CONN("gw", "c2") CONN("gw", "c3")    \
	                        CONN("gw", "c4") CONN("gw", "c5")

static void
t_er015(void **state)
{
	expect(ER015("ErGw1AZ"), "ER015", 1,
	       "gateway 'gw' (ErGw1AZ) in vnet 'hub' has 5 circuit connections, over the 4 its SKU "
	       "supports");
	expect(ER015("ErGw2AZ"), "ER015", 0, NULL);
}

/* ---- ER016 -------------------------------------------------------------- */

#define ER016(bw, port)                                                                            \
	HEAD SITES "circuits:\n"                                                                   \
	           "  - {name: er-a, site: hq, location: hong-kong, bandwidth: " bw                \
	           ", port: " port "}\n"

static void
t_er016(void **state)
{
	expect(ER016("300Mbps", "provider"), "ER016", 1,
	       "circuit 'er-a' bandwidth 300Mbps is not offered");
	expect(ER016("500Mbps", "direct_10g"), "ER016", 1, "on a 10 Gbps Direct port");
	expect(ER016("500Mbps", "provider"), "ER016", 0, NULL);
	expect(ER016("40Gbps", "direct_100g"), "ER016", 0, NULL);
}

/* ---- ER017, ER018, ER022: Microsoft peering ------------------------------ */

#define MSP(extra)                                                                                 \
	HEAD SITES "circuits:\n" CIRCUIT(                                                          \
	    "er-a", "hong-kong", ", microsoft_peering: {peer_asn: 65010, vlan: 200" extra "}")

static void
t_er017(void **state)
{
	expect(MSP(", subnet: 198.51.100.0/29"), "ER017", 1,
	       "circuit 'er-a' Microsoft peering has no route filter");
	expect(MSP(", subnet: 198.51.100.0/29, route_filter: [{service: exchange}]"), "ER017", 0,
	       NULL);
	expect(HEAD SITES "circuits:\n" CIRCUIT("er-a", "hong-kong", ""), "ER017", 0, NULL);
}

static void
t_er018(void **state)
{
	expect(MSP(", subnet: 192.168.5.0/29, advertised_prefixes: [10.1.0.0/24, 203.0.113.0/24]"),
	       "ER018", 2, "advertises private prefix 10.1.0.0/24 (in 10.0.0.0/8)");
	expect(MSP(", subnet: 100.64.1.0/29"), "ER018", 1,
	       "Microsoft peering subnet 100.64.1.0/29 is private (in 100.64.0.0/10)");
	expect(MSP(", subnet: 198.51.100.0/29, advertised_prefixes: [203.0.113.0/24]"), "ER018", 0,
	       NULL);
}

static void
t_er022(void **state)
{
	expect(MSP(", subnet: 198.51.100.0/29, advertised_state: validation_needed"), "ER022", 1,
	       "advertised prefixes are validation_needed, not configured: the BGP session is not "
	       "enabled");
	expect(MSP(", subnet: 198.51.100.0/29, advertised_state: configured"), "ER022", 0, NULL);
}

/* ---- ER019, ER026: routers ----------------------------------------------- */

#define ROUTERS(r)                                                                                 \
	HEAD "sites:\n"                                                                            \
	     "  - {name: hq, asn: 65010, routers: [" r "]}\n"                                      \
	     "  - {name: branch, asn: 65020}\n"                                                    \
	     "circuits:\n" CIRCUIT(                                                                \
	         "er-a", "hong-kong",                                                              \
	         "") "  - {name: er-b, site: branch, location: singapore, bandwidth: 1Gbps}\n"

static void
t_er019(void **state)
{
	expect(ROUTERS("{name: r1, links: [er-a/primary]}"), "ER019", 1,
	       "link 'er-a/secondary' is terminated by no router of site 'hq'");
	expect(ROUTERS("{name: r1, links: [er-a/primary]}, "
	               "{name: r2, links: [er-a/primary, er-a/secondary]}"),
	       "ER019", 1,
	       "link 'er-a/primary' is terminated by 2 routers of site 'hq' ('r1', 'r2')");
	expect(ROUTERS("{name: r1, links: [er-a/primary, er-b/primary]}, "
	               "{name: r2, links: [er-a/secondary]}"),
	       "ER019", 1,
	       "router 'r1' of site 'hq' terminates link 'er-b/primary', but circuit 'er-b' "
	       "belongs to site 'branch'");
	expect(ROUTERS("{name: r1, links: [er-a/primary]}, {name: r2, links: [er-a/secondary]}"),
	       "ER019", 0, NULL);
	/* a site that declares no routers is not checked */
	expect(ROUTERS(""), "ER019", 0, NULL);
}

static void
t_er026(void **state)
{
	expect(ROUTERS("{name: r1, links: [er-a/primary, er-a/secondary]}"), "ER026", 1,
	       "router 'r1' of site 'hq' terminates both links of circuit 'er-a'");
	expect(ROUTERS("{name: r1, links: [er-a/primary]}, {name: r2, links: [er-a/secondary]}"),
	       "ER026", 0, NULL);
}

/* ---- ER020 -------------------------------------------------------------- */

static void
t_er020(void **state)
{
	expect(HEAD
	       "sites:\n"
	       "  - {name: hq, asn: 65010, circuits: [{circuit: er-b, local_pref: 200}]}\n"
	       "  - {name: branch, asn: 65020}\n"
	       "circuits:\n" CIRCUIT(
	           "er-a", "hong-kong",
	           "") "  - {name: er-b, site: branch, location: singapore, bandwidth: 1Gbps}\n",
	       "ER020", 1,
	       "site 'hq' sets a preference for circuit 'er-b', which belongs to site 'branch'");
	expect(HEAD "sites:\n  - {name: hq, asn: 65099}\n"
	            "circuits:\n" CIRCUIT("er-a", "hong-kong", ""),
	       "ER020", 1,
	       "circuit 'er-a' private peering peer ASN 65010 differs from site 'hq' ASN 65099");
	expect(HEAD "sites:\n"
	            "  - {name: hq, asn: 65010, circuits: [{circuit: er-a, local_pref: 200}]}\n"
	            "circuits:\n" CIRCUIT("er-a", "hong-kong", ""),
	       "ER020", 0, NULL);
}

/* ---- ER021 -------------------------------------------------------------- */

#define ER021(gw)                                                                                  \
	HEAD SITES "circuits:\n" CIRCUIT(                                                          \
	    "er-a", "hong-kong",                                                                   \
	    "") "vnets:\n"                                                                         \
	        "  - {name: hub, region: eastasia, address_space: [10.0.0.0/24], gateways: [" gw   \
	        "]}\n"                                                                             \
	        "connections:\n" CONN("gw", "er-a")

static void
t_er021(void **state)
{
	expect(
	    ER021("{name: gw, type: vpn, sku: VpnGw1}"), "ER021", 1,
	    "connection 'gw-er-a' uses gateway 'gw' (vpn, VpnGw1): only an ExpressRoute gateway");
	expect(ER021("{name: gw, type: expressroute, sku: ErGw2AZ}"), "ER021", 0, NULL);
}

/* ---- ER023, ER024 ---------------------------------------------------------- */

static void
t_er023(void **state)
{
	expect(HEAD SITES "circuits:\n" CIRCUIT("er-a", "no-local", ", tier: local"), "ER023", 1,
	       "circuit 'er-a' is on the local tier, which peering location 'no-local' does not "
	       "offer");
	expect(HEAD SITES "circuits:\n" CIRCUIT("er-a", "hong-kong", ", tier: local"), "ER023", 0,
	       NULL);
	expect(HEAD SITES "circuits:\n" CIRCUIT("er-a", "no-local", ""), "ER023", 0, NULL);
}

#define ER024(locs)                                                                                \
	HEAD "providers: [{name: p, locations: [" locs "]}]\n" SITES                               \
	     "circuits:\n" CIRCUIT("er-a", "hong-kong", ", provider: p")

static void
t_er024(void **state)
{
	expect(ER024("singapore"), "ER024", 1,
	       "circuit 'er-a' is at peering location 'hong-kong', which its provider 'p' does not "
	       "serve");
	expect(ER024("singapore, hong-kong"), "ER024", 0, NULL);
	expect(ER024(""), "ER024", 0, NULL); /* locations not listed: not checked */
}

/* ---- ER025 -------------------------------------------------------------- */

#define ER025(gr)                                                                                  \
	HEAD SITES "circuits:\n" CIRCUIT("er-a", "hong-kong", "")                                  \
	    CIRCUIT("er-b", "singapore", "") "global_reach: [{circuits: [er-a, er-b]" gr "}]\n"    \
	                                     "vnets:\n" VNET("v", "eastasia", "10.0.0.0/16")

static void
t_er025(void **state)
{
	expect(ER025(""), "ER025", 1, "Global Reach 'er-a+er-b' has no subnet");
	expect(ER025(", subnet: 192.168.200.0/28"), "ER025", 1,
	       "subnet 192.168.200.0/28 is not an IPv4 /29");
	expect(ER025(", subnet: 10.0.5.0/29"), "ER025", 1,
	       "subnet 10.0.5.0/29 overlaps vnet 'v' address space 10.0.0.0/16");
	expect(ER025(", subnet: 172.16.9.0/29"), "ER025", 1,
	       "overlaps site 'hq' prefix 172.16.0.0/16");
	expect(ER025(", subnet: 192.168.200.0/29"), "ER025", 0, NULL);
}

/* ---- ER027 -------------------------------------------------------------- */

#define ER027(sku)                                                                                 \
	HEAD "vnets:\n"                                                                            \
	     "  - {name: hub, region: eastasia, address_space: [10.0.0.0/24],"                     \
	     " gateways: [{name: gw, sku: " sku ", fastpath: true}]}\n"

static void
t_er027(void **state)
{
	expect(ER027("ErGw1AZ"), "ER027", 1, "gateway 'gw' enables FastPath on SKU ErGw1AZ");
	expect(ER027("ErGw3AZ"), "ER027", 0, NULL);
	expect(ER027("ErGwScale, min_scale_units: 2, max_scale_units: 4"), "ER027", 1,
	       "SKU ErGwScale");
	expect(ER027("ErGwScale, min_scale_units: 10, max_scale_units: 12"), "ER027", 0, NULL);
}

/* ---- ER028 -------------------------------------------------------------- */

#define ER028(lim)                                                                                 \
	HEAD "sites:\n  - {name: hq, asn: 65010, prefixes: [172.16.0.0/16, 172.17.0.0/16]}\n"      \
	     "circuits:\n" CIRCUIT("er-a", "hong-kong", "") CIRCUIT(                               \
	         "er-b", "singapore", "") "vnets:\n" HUB("hub", "eastasia", "10.0.0.0/24", "gw")   \
	         VNET("s1", "eastasia", "10.1.0.0/24") "connections:\n" CONN("gw", "er-a")         \
	             CONN("gw", "er-b") "peerings:\n"                                              \
	                                "  - {from: s1, to: hub, use_remote_gateways: true}\n"     \
	                                "  - {from: hub, to: s1, allow_gateway_transit: true}\n"   \
	                                "limits: {gateway_routes: " lim "}\n"

static void
t_er028(void **state)
{
	/* hub + spoke = 2 VNet prefixes; site hq's 2 prefixes counted once for both circuits */
	expect(ER028("3"), "ER028", 1,
	       "gateway 'gw' handles 4 routes (2 VNet prefixes of 'hub' and its peers, 2 "
	       "on-premises prefixes from 1 site), over the limit of 3");
	expect(ER028("4"), "ER028", 0, NULL);
}

/* ---- the table and the seeds' scenario ---------------------------------- */

static void
t_table(void **state)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < chk_rule_count(); i++) {
		const struct chk_rule *r = chk_rule_at(i);
		if (strncmp(r->id, "ER", 2) != 0)
			continue;
		char want[8];
		snprintf(want, sizeof(want), "ER%03u", ++n);
		assert_string_equal(r->id, want);
		assert_true(r->title && *r->title && r->source && *r->source && r->hint &&
		            *r->hint && r->fn);
		assert_ptr_equal(chk_rule_find(want), r);
	}
	assert_int_equal(n, 28);
}

static void
t_seed_example(void **state)
{
	static const char *const paths[] = {"../examples/seed-two-circuits.yaml",
	                                    "../../examples/seed-two-circuits.yaml"};
	const char *path = NULL;
	for (size_t i = 0; i < LIB_ARRAY_LEN(paths) && !path; i++)
		if (access(paths[i], R_OK) == 0)
			path = paths[i];
	if (!path)
		fail_msg("examples/seed-two-circuits.yaml not found from the test's working "
		         "directory (tried ../examples and ../../examples)");
	struct lib_diags d;
	struct estate *e = NULL;
	lib_diags_init(&d);
	int rc = est_load_file(path, &d, &e);
	if (rc != 0)
		lib_diags_print(&d, stderr);
	lib_diags_free(&d);
	assert_int_equal(rc, 0);
	assert_non_null(e);
	struct chk_result r;
	chk_run(e, NULL, 0, &r);
	unsigned er = 0;
	const struct chk_finding *f = r.findings.v;
	for (uint32_t i = 0; i < r.findings.n; i++)
		if (strncmp(f[i].rule->id, "ER", 2) == 0) {
			print_message("unexpected %s: %s\n", f[i].rule->id, f[i].msg);
			er++;
		}
	chk_result_free(&r);
	est_free(e);
	assert_int_equal(er, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_er001), cmocka_unit_test(t_er002), cmocka_unit_test(t_er003),
	    cmocka_unit_test(t_er004), cmocka_unit_test(t_er005), cmocka_unit_test(t_er006),
	    cmocka_unit_test(t_er007), cmocka_unit_test(t_er008), cmocka_unit_test(t_er009),
	    cmocka_unit_test(t_er010), cmocka_unit_test(t_er011), cmocka_unit_test(t_er012),
	    cmocka_unit_test(t_er013), cmocka_unit_test(t_er014), cmocka_unit_test(t_er015),
	    cmocka_unit_test(t_er016), cmocka_unit_test(t_er017), cmocka_unit_test(t_er018),
	    cmocka_unit_test(t_er019), cmocka_unit_test(t_er020), cmocka_unit_test(t_er021),
	    cmocka_unit_test(t_er022), cmocka_unit_test(t_er023), cmocka_unit_test(t_er024),
	    cmocka_unit_test(t_er025), cmocka_unit_test(t_er026), cmocka_unit_test(t_er027),
	    cmocka_unit_test(t_er028), cmocka_unit_test(t_table), cmocka_unit_test(t_seed_example),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
