/*
 * est_schema.c - the field tables of every estate object.
 *
 * This file is the estate format. Order of fields here is the order of keys
 * in canonical output (strait fmt) and in docs/estate-format.md. Defaults
 * here are applied before a mapping is read, and omitted when printing.
 * Facts behind defaults and ranges cite ../shared/reference/azure-facts.md
 * sections (1.x ExpressRoute, 2.x VNet routing, 3.x Site Recovery).
 */
#include "est_schema.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

#define ENUM(id, label, ...)                                                                       \
	static const char *const id##_names[] = {__VA_ARGS__};                                     \
	const struct est_enum id = {label, id##_names, LIB_ARRAY_LEN(id##_names)}

#define SENUM(id, label, ...)                                                                      \
	static const char *const id##_names[] = {__VA_ARGS__};                                     \
	static const struct est_enum id = {label, id##_names, LIB_ARRAY_LEN(id##_names)}

/* Field shorthands; S is the struct type in scope. */
#define FLD(k, t, m, ...)                                                                          \
	{                                                                                          \
		.key = k, .type = t, .off = offsetof(S, m), __VA_ARGS__                            \
	}
#define ELEM(t, ...)           (&(const struct est_field){.type = t, __VA_ARGS__})
#define LIST(k, m, T, el, ...) FLD(k, EF_LIST, m, .elem = el, .esize = sizeof(T), __VA_ARGS__)
#define CLASS(id, label, T, fieldsarr, knd, namei, fl, docstr)                                     \
	const struct est_class id = {label,  sizeof(T), fieldsarr, LIB_ARRAY_LEN(fieldsarr),       \
	                             knd,    namei,     fl,        0,                              \
	                             docstr, NULL}

int
est_enum_lookup(const struct est_enum *e, const char *s)
{
	char want[64], have[64];
	size_t n = 0;
	for (const char *p = s; *p && n < sizeof(want) - 1; p++)
		if (*p != '_' && *p != '-' && *p != '.' && *p != ' ')
			want[n++] = (char)tolower((unsigned char)*p);
	want[n] = '\0';
	for (uint32_t i = 0; i < e->n; i++) {
		size_t m = 0;
		for (const char *p = e->names[i]; *p && m < sizeof(have) - 1; p++)
			if (*p != '_' && *p != '-' && *p != '.' && *p != ' ')
				have[m++] = (char)tolower((unsigned char)*p);
		have[m] = '\0';
		if (strcmp(want, have) == 0)
			return (int)i;
	}
	return -1;
}

/* ---- enumerations (order = the C enum in est.h) ------------------------- */

SENUM(est_enum_port, "port", "provider", "direct_10g", "direct_100g");
ENUM(est_enum_tier, "tier", "local", "standard", "premium");
SENUM(est_enum_billing, "billing", "metered", "unlimited");
SENUM(est_enum_pstate, "provider_state", "not_provisioned", "provisioning", "provisioned",
      "deprovisioning");
SENUM(est_enum_cstate, "circuit state", "enabled", "disabled");
SENUM(est_enum_pfxstate, "advertised prefix state", "configured", "validation_needed", "manual");
SENUM(est_enum_msvc, "route-filter service", "exchange", "sharepoint", "teams", "crm",
      "azure_global", "entra_id", "arm", "other_o365", "azure_regional", "azure_storage",
      "azure_sql", "azure_cosmos", "azure_backup");
SENUM(est_enum_svcep, "service endpoint", "Microsoft.Storage", "Microsoft.Storage.Global",
      "Microsoft.Sql", "Microsoft.AzureCosmosDB", "Microsoft.KeyVault", "Microsoft.ServiceBus",
      "Microsoft.EventHub", "Microsoft.Web", "Microsoft.ContainerRegistry",
      "Microsoft.CognitiveServices");
SENUM(est_enum_pe, "private endpoint service", "blob", "file", "sql", "keyvault", "site_recovery");
SENUM(est_enum_gwtype, "gateway type", "expressroute", "vpn");
ENUM(est_enum_sku, "gateway SKU", "Standard", "HighPerformance", "UltraPerformance", "ErGw1AZ",
     "ErGw2AZ", "ErGw3AZ", "ErGwScale", "VpnGw1", "VpnGw2", "VpnGw3", "VpnGw4", "VpnGw5",
     "VpnGw1AZ", "VpnGw2AZ", "VpnGw3AZ", "VpnGw4AZ", "VpnGw5AZ", "Basic");
ENUM(est_enum_next_hop, "next hop", "virtual_appliance", "vnet_local", "internet", "none",
     "virtual_network_gateway");
SENUM(est_enum_alloc, "IP allocation", "static", "dynamic");
SENUM(est_enum_disk, "disk type", "standard_hdd", "standard_ssd", "premium_ssd", "ultra");
SENUM(est_enum_rpath, "replication path", "backbone", "microsoft_peering", "private_peering",
      "internet");
ENUM(est_enum_action, "action", "create_gateway", "connect", "disconnect", "create_peering",
     "create_route_table", "attach_route_table", "set_preference", "manual", "script");
SENUM(est_enum_dir, "direction", "any", "failover", "failback");
SENUM(est_enum_fotype, "failover type", "test", "planned", "unplanned");

#define ASN_MAX 4294967295LL

/* ---- geography ---------------------------------------------------------- */

#define S struct est_region
static const struct est_field region_f[] = {
    FLD("name", EF_NAME, name, .flags = EF_REQ, .doc = "Region name, e.g. eastasia."),
    FLD("geo", EF_NAME, geo, .flags = EF_REQ,
        .doc = "Geopolitical region: the reach of a Standard circuit (azure-facts 1.14)."),
    FLD("national", EF_BOOL, national,
        .doc = "A national cloud: no commercial circuit reaches it."),
    FLD("zones", EF_BOOL, zones, .doc = "The region has availability zones."),
};
#undef S
CLASS(est_class_region, "region", struct est_region, region_f, EST_K_REGION, 0, 0,
      "An Azure region.");

#define S struct est_location
static const struct est_field location_f[] = {
    FLD("name", EF_NAME, name, .flags = EF_REQ, .doc = "Peering location, e.g. hong-kong."),
    FLD("geo", EF_NAME, geo, .flags = EF_REQ, .doc = "Geopolitical region of the location."),
    FLD("metro", EF_NAME, metro,
        .doc = "Metro area; two locations of one metro are distinct sites."),
    LIST("local_regions", local_regions, struct est_ref, ELEM(EF_REF, .kind = EST_K_REGION),
         .doc = "Regions a Local-tier circuit here reaches (azure-facts 1.2)."),
    FLD("local_tier", EF_BOOL, local_tier, .flags = EF_DEFAULT, .dflt = 1,
        .doc = "The Local tier is offered here."),
};
#undef S
CLASS(est_class_location, "location", struct est_location, location_f, EST_K_LOCATION, 0, 0,
      "An ExpressRoute peering location.");

#define S struct est_provider
static const struct est_field provider_f[] = {
    FLD("name", EF_NAME, name, .flags = EF_REQ, .doc = "Connectivity provider."),
    LIST("locations", locations, struct est_ref, ELEM(EF_REF, .kind = EST_K_LOCATION),
         .doc = "Peering locations the provider serves."),
};
#undef S
CLASS(est_class_provider, "provider", struct est_provider, provider_f, EST_K_PROVIDER, 0, 0,
      "A connectivity provider.");

/* ---- on-premises -------------------------------------------------------- */

#define S struct est_router
static const struct est_field router_f[] = {
    FLD("name", EF_NAME, name, .flags = EF_REQ, .doc = "Edge router name."),
    LIST("links", links, struct est_ref, ELEM(EF_REF, .kind = EST_K_LINK),
         .doc = "Circuit links it terminates: CIRCUIT/primary or CIRCUIT/secondary."),
};
#undef S
CLASS(est_class_router, "router", struct est_router, router_f, EST_K_ROUTER, 0, EC_SCOPED,
      "A customer edge router; named SITE/ROUTER elsewhere.");

#define S struct est_site_policy
static const struct est_field policy_f[] = {
    FLD("circuit", EF_REF, circuit, .flags = EF_REQ, .kind = EST_K_CIRCUIT,
        .doc = "The circuit this policy applies to."),
    FLD("local_pref", EF_U32, local_pref, .flags = EF_DEFAULT, .dflt = 100, .max = ASN_MAX,
        .doc = "BGP local preference for routes learned over it; higher wins (azure-facts 1.10)."),
    FLD("prepend", EF_U32, prepend, .max = 32,
        .doc = "Times the site prepends its ASN on routes it advertises over it."),
};
#undef S
CLASS(est_class_policy, "circuit policy", struct est_site_policy, policy_f, EST_K_NONE, -1, 0,
      "How a site prefers one circuit over another.");

#define S struct est_site
static const struct est_field site_f[] = {
    FLD("name", EF_NAME, name, .flags = EF_REQ, .doc = "Site name."),
    FLD("asn", EF_U32, asn, .flags = EF_REQ, .min = 1, .max = ASN_MAX,
        .doc = "The site's BGP AS number (2- or 4-octet)."),
    LIST("prefixes", prefixes, struct ip_prefix, ELEM(EF_PREFIX),
         .doc = "Prefixes the site advertises over private peering."),
    LIST("routers", routers, struct est_router, ELEM(EF_INLINE, .cls = &est_class_router),
         .doc = "Edge routers and the circuit links they terminate."),
    LIST("circuits", policy, struct est_site_policy, ELEM(EF_INLINE, .cls = &est_class_policy),
         .doc = "Per-circuit local preference and AS-path prepends."),
};
#undef S
CLASS(est_class_site, "site", struct est_site, site_f, EST_K_SITE, 0, 0,
      "An on-premises site (datacenter, branch).");

/* ---- circuits ----------------------------------------------------------- */

#define S struct est_filter_rule
static const struct est_field filter_f[] = {
    FLD("service", EF_ENUM, service, .flags = EF_REQ, .enm = &est_enum_msvc,
        .doc = "Service community to accept (azure-facts 1.7)."),
    FLD("region", EF_REF, region, .kind = EST_K_REGION,
        .doc = "For the regional services: which region."),
};
#undef S
CLASS(est_class_filter, "route filter rule", struct est_filter_rule, filter_f, EST_K_NONE, -1, 0,
      "One service community allowed by a Microsoft-peering route filter.");

#define S struct est_peering_cfg
static const struct est_field peering_cfg_f[] = {
    FLD("peer_asn", EF_U32, peer_asn, .flags = EF_REQ, .min = 1, .max = ASN_MAX,
        .doc = "Customer ASN on this peering."),
    FLD("subnet", EF_PREFIX, subnet,
        .doc = "One /29: first /30 for the primary link, second for the secondary."),
    FLD("primary", EF_PREFIX, primary, .doc = "Primary link /30."),
    FLD("secondary", EF_PREFIX, secondary, .doc = "Secondary link /30."),
    FLD("ipv6_primary", EF_PREFIX, ipv6_primary, .doc = "Primary link IPv6 /126."),
    FLD("ipv6_secondary", EF_PREFIX, ipv6_secondary, .doc = "Secondary link IPv6 /126."),
    FLD("vlan", EF_U32, vlan, .flags = EF_REQ, .min = 1, .max = 4094,
        .doc = "802.1Q VLAN, unique among a circuit's peerings."),
    FLD("md5_key", EF_STR, md5_key, .doc = "Optional BGP MD5 shared key (RFC 2385)."),
    FLD("listen", EF_PREFIX, listen,
        .doc = "straitd runs this peering's provider-edge BGP sessions on the link addresses "
               "mapped into this IPv4 prefix, host bits kept (127.0.0.0/8 puts 192.168.1.2 on "
               "127.168.1.2)."),
    LIST("advertised_prefixes", advertised_prefixes, struct ip_prefix, ELEM(EF_PREFIX),
         .doc = "Microsoft peering: public prefixes the customer advertises."),
    FLD("advertised_state", EF_ENUM, advertised_state, .enm = &est_enum_pfxstate,
        .doc = "Microsoft peering: validation state of the advertised prefixes."),
    LIST("route_filter", route_filter, struct est_filter_rule,
         ELEM(EF_INLINE, .cls = &est_class_filter),
         .doc = "Microsoft peering: service communities let through; none = nothing advertised."),
};
#undef S
CLASS(est_class_peering_cfg, "circuit peering", struct est_peering_cfg, peering_cfg_f, EST_K_NONE,
      -1, 0, "A routing domain of a circuit: a pair of eBGP sessions.");

#define S struct est_circuit
static const struct est_field circuit_f[] = {
    FLD("name", EF_NAME, name, .flags = EF_REQ, .doc = "Circuit name."),
    FLD("site", EF_REF, site, .flags = EF_REQ, .kind = EST_K_SITE,
        .doc = "The on-premises site it connects."),
    FLD("provider", EF_REF, provider, .kind = EST_K_PROVIDER, .doc = "Connectivity provider."),
    FLD("location", EF_REF, location, .flags = EF_REQ, .kind = EST_K_LOCATION,
        .doc = "Peering location."),
    FLD("bandwidth", EF_BANDWIDTH, bandwidth, .flags = EF_REQ,
        .doc = "50Mbps to 10Gbps; on ExpressRoute Direct ports also 40Gbps and 100Gbps."),
    FLD("port", EF_ENUM, port, .enm = &est_enum_port,
        .doc = "provider (through a partner) or an ExpressRoute Direct port pair."),
    FLD("tier", EF_ENUM, tier, .flags = EF_DEFAULT, .dflt = EST_TIER_STANDARD,
        .enm = &est_enum_tier, .doc = "SKU tier: reach and limits (azure-facts 1.2)."),
    FLD("billing", EF_ENUM, billing, .enm = &est_enum_billing, .doc = "SKU family."),
    FLD("provider_state", EF_ENUM, provider_state, .flags = EF_DEFAULT, .dflt = EST_PS_PROVISIONED,
        .enm = &est_enum_pstate, .doc = "Service-provider provisioning state (azure-facts 1.3)."),
    FLD("state", EF_ENUM, state, .enm = &est_enum_cstate, .doc = "Microsoft-side circuit state."),
    FLD("private_peering", EF_OBJ, private_peering, .cls = &est_class_peering_cfg,
        .doc = "Azure private peering: reaches VNets."),
    FLD("microsoft_peering", EF_OBJ, microsoft_peering, .cls = &est_class_peering_cfg,
        .doc = "Microsoft peering: Microsoft 365 and Azure PaaS public endpoints."),
    FLD("public_peering", EF_OBJ, public_peering, .cls = &est_class_peering_cfg,
        .doc = "Azure public peering: deprecated, loaded only to be reported."),
};
#undef S
CLASS(est_class_circuit, "circuit", struct est_circuit, circuit_f, EST_K_CIRCUIT, 0, 0,
      "An ExpressRoute circuit: two links from a site to a peering location.");

#define S struct est_global_reach
static const struct est_field gr_f[] = {
    FLD("name", EF_NAME, name, .doc = "Link name (default: the two circuits' names)."),
    LIST("circuits", circuits, struct est_ref, ELEM(EF_REF, .kind = EST_K_CIRCUIT), .flags = EF_REQ,
         .min = 2, .max = 2, .doc = "The two circuits linked."),
    FLD("subnet", EF_PREFIX, subnet, .doc = "Dedicated /29 for the link."),
};
#undef S
static const char *
gr_name(struct lib_arena *a, const void *obj)
{
	const struct est_global_reach *g = obj;
	if (g->circuits.n != 2 || !g->circuits.v[0].name || !g->circuits.v[1].name)
		return NULL;
	return lib_arena_printf(a, "%s+%s", g->circuits.v[0].name, g->circuits.v[1].name);
}
const struct est_class est_class_global_reach = {
    "global reach link",
    sizeof(struct est_global_reach),
    gr_f,
    LIB_ARRAY_LEN(gr_f),
    EST_K_GLOBAL_REACH,
    0,
    0,
    0,
    "A Global Reach link between two circuits' private peerings.",
    gr_name};

/* ---- virtual networks --------------------------------------------------- */

#define S struct est_private_endpoint
static const struct est_field pe_f[] = {
    FLD("name", EF_NAME, name, .flags = EF_REQ, .doc = "Endpoint name."),
    FLD("ip", EF_ADDR, ip, .flags = EF_REQ, .doc = "Its private IP in the subnet."),
    FLD("service", EF_ENUM, service, .flags = EF_REQ, .enm = &est_enum_pe,
        .doc = "The service it exposes (site_recovery: a vault's private endpoint)."),
};
#undef S
CLASS(est_class_pe, "private endpoint", struct est_private_endpoint, pe_f, EST_K_NONE, 0, 0,
      "A private endpoint in a subnet.");

#define S struct est_subnet
static const struct est_field subnet_f[] = {
    FLD("name", EF_NAME, name, .flags = EF_REQ,
        .doc = "Subnet name; GatewaySubnet holds the VNet's gateways."),
    FLD("prefix", EF_PREFIX, prefix, .flags = EF_REQ, .doc = "Inside the VNet address space."),
    FLD("route_table", EF_REF, route_table, .kind = EST_K_ROUTE_TABLE,
        .doc = "Route table (UDRs) attached to the subnet."),
    LIST("service_endpoints", service_endpoints, int, ELEM(EF_ENUM, .enm = &est_enum_svcep),
         .doc = "Service endpoints enabled on the subnet (azure-facts 2.8)."),
    LIST("private_endpoints", private_endpoints, struct est_private_endpoint,
         ELEM(EF_INLINE, .cls = &est_class_pe), .doc = "Private endpoints in the subnet."),
};
#undef S
CLASS(est_class_subnet, "subnet", struct est_subnet, subnet_f, EST_K_SUBNET, 0, EC_SCOPED,
      "A subnet; referenced elsewhere as VNET/SUBNET.");

#define S struct est_gateway
static const struct est_field gateway_f[] = {
    FLD("name", EF_NAME, name, .flags = EF_REQ, .doc = "Gateway name, unique in the estate."),
    FLD("type", EF_ENUM, type, .enm = &est_enum_gwtype, .doc = "expressroute or vpn."),
    FLD("sku", EF_ENUM, sku, .flags = EF_REQ, .enm = &est_enum_sku,
        .doc = "Gateway SKU (azure-facts 1.8)."),
    FLD("min_scale_units", EF_U32, min_scale_units, .max = 40,
        .doc = "ErGwScale: minimum scale units (1-40)."),
    FLD("max_scale_units", EF_U32, max_scale_units, .max = 40,
        .doc = "ErGwScale: maximum scale units (1-40)."),
    FLD("fastpath", EF_BOOL, fastpath, .doc = "FastPath enabled (UltraPerformance, ErGw3AZ)."),
    FLD("allow_vnet_transit", EF_BOOL, allow_vnet_transit,
        .doc = "Allow VNet-to-VNet traffic over ExpressRoute (off by default)."),
};
#undef S
CLASS(est_class_gateway, "gateway", struct est_gateway, gateway_f, EST_K_GATEWAY, 0, 0,
      "A virtual network gateway in the VNet's GatewaySubnet.");

#define S struct est_vnet
static const struct est_field vnet_f[] = {
    FLD("name", EF_NAME, name, .flags = EF_REQ, .doc = "VNet name."),
    FLD("region", EF_REF, region, .flags = EF_REQ, .kind = EST_K_REGION, .doc = "Its region."),
    LIST("address_space", address_space, struct ip_prefix, ELEM(EF_PREFIX), .flags = EF_REQ,
         .min = 1, .doc = "Address prefixes of the VNet."),
    LIST("subnets", subnets, struct est_subnet, ELEM(EF_INLINE, .cls = &est_class_subnet),
         .doc = "Subnets."),
    LIST("gateways", gateways, struct est_gateway, ELEM(EF_INLINE, .cls = &est_class_gateway),
         .doc = "Gateways: at most one ExpressRoute and one VPN."),
    LIST("summarized_prefixes", summarized_prefixes, struct ip_prefix, ELEM(EF_PREFIX),
         .doc = "Summaries the gateway advertises instead of the spokes they cover."),
};
#undef S
CLASS(est_class_vnet, "vnet", struct est_vnet, vnet_f, EST_K_VNET, 0, 0, "A virtual network.");

#define S struct est_connection
static const struct est_field conn_f[] = {
    FLD("name", EF_NAME, name, .doc = "Connection name (default GATEWAY-CIRCUIT)."),
    FLD("gateway", EF_REF, gateway, .flags = EF_REQ, .kind = EST_K_GATEWAY,
        .doc = "ExpressRoute gateway."),
    FLD("circuit", EF_REF, circuit, .flags = EF_REQ, .kind = EST_K_CIRCUIT,
        .doc = "The circuit it links."),
    FLD("weight", EF_U32, weight, .max = 32000,
        .doc = "Routing weight 0-32000; the gateway prefers the higher (azure-facts 1.10)."),
    FLD("authorization", EF_STR, authorization,
        .doc = "Authorization key for a circuit in another subscription."),
    FLD("enabled", EF_BOOL, enabled, .flags = EF_DEFAULT, .dflt = 1,
        .doc = "false keeps the object but takes the link down."),
};
#undef S
static const char *
conn_name(struct lib_arena *a, const void *obj)
{
	const struct est_connection *c = obj;
	if (!c->gateway.name || !c->circuit.name)
		return NULL;
	return lib_arena_printf(a, "%s-%s", c->gateway.name, c->circuit.name);
}
const struct est_class est_class_connection = {"connection",
                                               sizeof(struct est_connection),
                                               conn_f,
                                               LIB_ARRAY_LEN(conn_f),
                                               EST_K_CONNECTION,
                                               0,
                                               0,
                                               0,
                                               "A gateway's connection to a circuit.",
                                               conn_name};

#define S struct est_vnet_peering
static const struct est_field vpeer_f[] = {
    FLD("name", EF_NAME, name, .doc = "Peering name (default FROM-to-TO)."),
    FLD("from", EF_REF, from, .flags = EF_REQ, .kind = EST_K_VNET, .doc = "This side."),
    FLD("to", EF_REF, to, .flags = EF_REQ, .kind = EST_K_VNET, .doc = "The remote VNet."),
    FLD("allow_virtual_network_access", EF_BOOL, allow_virtual_network_access, .flags = EF_DEFAULT,
        .dflt = 1, .doc = "This VNet may reach the peer."),
    FLD("allow_forwarded_traffic", EF_BOOL, allow_forwarded_traffic,
        .doc = "Accept traffic that did not originate in the peer (e.g. from its NVA)."),
    FLD("allow_gateway_transit", EF_BOOL, allow_gateway_transit,
        .doc = "Let the peer use this VNet's gateway."),
    FLD("use_remote_gateways", EF_BOOL, use_remote_gateways,
        .doc = "Use the peer's gateway (the peer must allow gateway transit)."),
};
#undef S
static const char *
vpeer_name(struct lib_arena *a, const void *obj)
{
	const struct est_vnet_peering *p = obj;
	if (!p->from.name || !p->to.name)
		return NULL;
	return lib_arena_printf(a, "%s-to-%s", p->from.name, p->to.name);
}
const struct est_class est_class_vnet_peering = {
    "vnet peering",
    sizeof(struct est_vnet_peering),
    vpeer_f,
    LIB_ARRAY_LEN(vpeer_f),
    EST_K_PEERING,
    0,
    0,
    0,
    "One direction of a VNet peering, with its four flags.",
    vpeer_name};

#define S struct est_route
static const struct est_field route_f[] = {
    FLD("name", EF_NAME, name, .doc = "Route name."),
    FLD("prefix", EF_PREFIX, prefix, .flags = EF_REQ, .doc = "Destination prefix."),
    FLD("next_hop", EF_ENUM, next_hop, .flags = EF_REQ, .enm = &est_enum_next_hop,
        .doc = "Next hop type (azure-facts 2.3)."),
    FLD("ip", EF_ADDR, ip, .doc = "virtual_appliance: the appliance's IP."),
    FLD("gateway", EF_REF, gateway, .kind = EST_K_GATEWAY,
        .doc = "virtual_network_gateway: which gateway (only VPN gateways are valid)."),
};
#undef S
CLASS(est_class_route, "route", struct est_route, route_f, EST_K_NONE, 0, 0,
      "A user-defined route.");

#define S struct est_route_table
static const struct est_field rt_f[] = {
    FLD("name", EF_NAME, name, .flags = EF_REQ, .doc = "Route table name."),
    FLD("region", EF_REF, region, .kind = EST_K_REGION, .doc = "Its region."),
    FLD("propagate_gateway_routes", EF_BOOL, propagate_gateway_routes, .flags = EF_DEFAULT,
        .dflt = 1, .doc = "Add gateway (BGP) routes to the subnets it is attached to."),
    LIST("routes", routes, struct est_route, ELEM(EF_INLINE, .cls = &est_class_route),
         .doc = "User-defined routes."),
};
#undef S
CLASS(est_class_route_table, "route table", struct est_route_table, rt_f, EST_K_ROUTE_TABLE, 0, 0,
      "A route table; subnets attach it with route_table.");

#define S struct est_appliance
static const struct est_field nva_f[] = {
    FLD("name", EF_NAME, name, .flags = EF_REQ, .doc = "Appliance name."),
    FLD("subnet", EF_REF, subnet, .flags = EF_REQ, .kind = EST_K_SUBNET,
        .doc = "VNET/SUBNET it sits in."),
    FLD("ip", EF_ADDR, ip, .flags = EF_REQ, .doc = "Its private IP."),
    FLD("ip_forwarding", EF_BOOL, ip_forwarding, .flags = EF_DEFAULT, .dflt = 1,
        .doc = "IP forwarding enabled on its NIC."),
};
#undef S
CLASS(est_class_appliance, "appliance", struct est_appliance, nva_f, EST_K_APPLIANCE, 0, 0,
      "A network virtual appliance (NVA).");

/* ---- workloads ---------------------------------------------------------- */

#define S struct est_disk
static const struct est_field disk_f[] = {
    FLD("name", EF_NAME, name, .flags = EF_REQ, .doc = "Disk name."),
    FLD("size", EF_SIZE, size, .flags = EF_REQ, .doc = "Size, e.g. 32GiB."),
    FLD("type", EF_ENUM, type, .flags = EF_DEFAULT, .dflt = EST_DISK_PREMIUM_SSD,
        .enm = &est_enum_disk, .doc = "Managed disk type."),
    FLD("path", EF_STR, path, .doc = "Backing file or block device for live replication."),
    FLD("seed", EF_STR, seed,
        .doc = "The disk's old copy where replication now goes (written by a failover with "
               "--restore-dir): reprotect starts from it and sends only the differences."),
};
#undef S
CLASS(est_class_disk, "disk", struct est_disk, disk_f, EST_K_NONE, 0, 0, "A VM disk.");

#define S struct est_vm
static const struct est_field vm_f[] = {
    FLD("name", EF_NAME, name, .flags = EF_REQ, .doc = "VM name."),
    FLD("subnet", EF_REF, subnet, .kind = EST_K_SUBNET, .doc = "VNET/SUBNET of an Azure VM."),
    FLD("site", EF_REF, site, .kind = EST_K_SITE, .doc = "Or the site of an on-premises machine."),
    FLD("ip", EF_ADDR, ip, .doc = "Private IP."),
    FLD("allocation", EF_ENUM, allocation, .enm = &est_enum_alloc,
        .doc = "static or dynamic; kept after failover (azure-facts 3.2)."),
    FLD("size", EF_STR, size, .doc = "VM size, e.g. Standard_D2s_v5."),
    LIST("disks", disks, struct est_disk, ELEM(EF_INLINE, .cls = &est_class_disk), .doc = "Disks."),
};
#undef S
CLASS(est_class_vm, "vm", struct est_vm, vm_f, EST_K_VM, 0, 0,
      "A virtual machine (or an on-premises server).");

/* ---- Site Recovery ------------------------------------------------------ */

#define S struct est_repl_policy
static const struct est_field policy_rp_f[] = {
    FLD("crash_consistent_every", EF_DURATION, crash_consistent_every, .flags = EF_DEFAULT,
        .dflt = 300, .min = 1, .doc = "Crash-consistent point interval (Site Recovery: 5m)."),
    FLD("app_consistent_every", EF_DURATION, app_consistent_every,
        .doc = "App-consistent point interval; 0 = off (Site Recovery minimum 1h)."),
    FLD("retention", EF_DURATION, retention, .flags = EF_DEFAULT, .dflt = 86400,
        .doc = "How long points are kept (default 24h, at most 15 days)."),
};
#undef S
CLASS(est_class_repl_policy, "replication policy", struct est_repl_policy, policy_rp_f, EST_K_NONE,
      -1, 0, "Recovery-point frequency and retention (azure-facts 3.3).");

#define S struct est_repl_group
static const struct est_field rgroup_f[] = {
    FLD("name", EF_NAME, name, .flags = EF_REQ, .doc = "Group name."),
    LIST("vms", vms, struct est_ref, ELEM(EF_REF, .kind = EST_K_VM), .flags = EF_REQ,
         .doc = "Members: one consistent point across all their disks (at most 16)."),
};
#undef S
CLASS(est_class_repl_group, "replication group", struct est_repl_group, rgroup_f, EST_K_REPL_GROUP,
      0, 0, "A multi-VM consistency group.");

#define S struct est_net_map
static const struct est_field netmap_f[] = {
    FLD("source", EF_REF, source, .flags = EF_REQ, .kind = EST_K_VNET, .doc = "Source VNet."),
    FLD("target", EF_REF, target, .flags = EF_REQ, .kind = EST_K_VNET,
        .doc = "Target VNet in the recovery region."),
};
#undef S
CLASS(est_class_netmap, "network mapping", struct est_net_map, netmap_f, EST_K_NONE, -1, 0,
      "Source VNet to target VNet (Site Recovery also maps back).");

#define S struct est_vault
static const struct est_field vault_f[] = {
    FLD("name", EF_NAME, name, .doc = "Recovery Services vault."),
    FLD("private_endpoints", EF_BOOL, private_endpoints,
        .doc = "Vault private endpoints enabled (needed for replication over private peering)."),
};
#undef S
CLASS(est_class_vault, "vault", struct est_vault, vault_f, EST_K_NONE, -1, 0,
      "The Recovery Services vault.");

#define S struct est_replication
static const struct est_field repl_f[] = {
    FLD("source", EF_REF, source, .kind = EST_K_REGION, .doc = "Source region (Azure to Azure)."),
    FLD("source_site", EF_REF, source_site, .kind = EST_K_SITE,
        .doc = "Or the on-premises site (on-premises to Azure)."),
    FLD("target", EF_REF, target, .flags = EF_REQ, .kind = EST_K_REGION, .doc = "Recovery region."),
    FLD("path", EF_ENUM, path, .enm = &est_enum_rpath,
        .doc = "How replication traffic travels (azure-facts 3.9)."),
    FLD("policy", EF_INLINE, policy, .cls = &est_class_repl_policy, .doc = "Replication policy."),
    FLD("vault", EF_INLINE, vault, .cls = &est_class_vault, .doc = "The vault."),
    LIST("protect", protect, struct est_ref, ELEM(EF_REF, .kind = EST_K_VM),
         .doc = "Protected VMs."),
    LIST("groups", groups, struct est_repl_group, ELEM(EF_INLINE, .cls = &est_class_repl_group),
         .doc = "Replication (multi-VM consistency) groups."),
    LIST("network_mapping", network_mapping, struct est_net_map,
         ELEM(EF_INLINE, .cls = &est_class_netmap), .doc = "Source to target VNets."),
    FLD("target_network", EF_REF, target_network, .kind = EST_K_VNET,
        .doc = "On-premises to Azure: the VNet recovered servers are attached to."),
    FLD("auto_target_networks", EF_BOOL, auto_target_networks,
        .doc = "Site Recovery creates VNET-asr mirrors for unmapped source VNets."),
    FLD("test_network", EF_REF, test_network, .kind = EST_K_VNET,
        .doc = "Isolated VNet for test failovers (drills)."),
};
#undef S
CLASS(est_class_replication, "replication", struct est_replication, repl_f, EST_K_NONE, -1, 0,
      "Site Recovery replication: what is protected, where to, how.");

/* ---- recovery plans ----------------------------------------------------- */

#define S struct est_act_gateway
static const struct est_field actgw_f[] = {
    FLD("name", EF_NAME, name, .flags = EF_REQ, .doc = "Name of the gateway to create."),
    FLD("vnet", EF_REF, vnet, .flags = EF_REQ, .kind = EST_K_VNET, .doc = "Its VNet."),
    FLD("type", EF_ENUM, type, .enm = &est_enum_gwtype, .doc = "expressroute or vpn."),
    FLD("sku", EF_ENUM, sku, .flags = EF_DEFAULT, .dflt = EST_SKU_ERGW1AZ, .enm = &est_enum_sku,
        .doc = "SKU."),
    FLD("min_scale_units", EF_U32, min_scale_units, .max = 40, .doc = "ErGwScale minimum."),
    FLD("max_scale_units", EF_U32, max_scale_units, .max = 40, .doc = "ErGwScale maximum."),
};
#undef S
const struct est_class est_class_act_gateway = {"create_gateway",
                                                sizeof(struct est_act_gateway),
                                                actgw_f,
                                                LIB_ARRAY_LEN(actgw_f),
                                                EST_K_GATEWAY,
                                                0,
                                                0,
                                                0,
                                                "Create a gateway (about 45 minutes in Azure).",
                                                NULL};

#define S struct est_act_connect
static const struct est_field actconn_f[] = {
    FLD("name", EF_NAME, name, .doc = "Connection name (default GATEWAY-CIRCUIT)."),
    FLD("gateway", EF_REF, gateway, .flags = EF_REQ, .kind = EST_K_GATEWAY, .doc = "Gateway."),
    FLD("circuit", EF_REF, circuit, .flags = EF_REQ, .kind = EST_K_CIRCUIT, .doc = "Circuit."),
    FLD("weight", EF_U32, weight, .max = 32000, .doc = "Routing weight."),
    FLD("authorization", EF_STR, authorization, .doc = "Authorization key."),
};
#undef S
static const char *
actconn_name(struct lib_arena *a, const void *obj)
{
	const struct est_act_connect *c = obj;
	if (!c->gateway.name || !c->circuit.name)
		return NULL;
	return lib_arena_printf(a, "%s-%s", c->gateway.name, c->circuit.name);
}
const struct est_class est_class_act_connect = {"connect",
                                                sizeof(struct est_act_connect),
                                                actconn_f,
                                                LIB_ARRAY_LEN(actconn_f),
                                                EST_K_CONNECTION,
                                                0,
                                                0,
                                                0,
                                                "Connect a gateway to a circuit.",
                                                actconn_name};

#define S struct est_act_disconnect
static const struct est_field actdisc_f[] = {
    FLD("connection", EF_REF, connection, .flags = EF_REQ, .kind = EST_K_CONNECTION,
        .doc = "The connection to remove."),
};
#undef S
CLASS(est_class_act_disconnect, "disconnect", struct est_act_disconnect, actdisc_f, EST_K_NONE, -1,
      0, "Remove a gateway connection.");

#define S struct est_act_route_table
static const struct est_field actrt_f[] = {
    FLD("name", EF_NAME, name, .flags = EF_REQ, .doc = "Name of the table to create."),
    FLD("region", EF_REF, region, .kind = EST_K_REGION, .doc = "Its region."),
    FLD("copy_of", EF_REF, copy_of, .kind = EST_K_ROUTE_TABLE,
        .doc = "Copy the routes of this table (rewritten when the target space differs)."),
    FLD("propagate_gateway_routes", EF_BOOL, propagate_gateway_routes, .flags = EF_DEFAULT,
        .dflt = 1, .doc = "Gateway route propagation."),
    LIST("routes", routes, struct est_route, ELEM(EF_INLINE, .cls = &est_class_route),
         .doc = "Routes (when not copied)."),
};
#undef S
CLASS(est_class_act_rt, "create_route_table", struct est_act_route_table, actrt_f,
      EST_K_ROUTE_TABLE, 0, 0, "Create a route table.");

#define S struct est_act_attach
static const struct est_field actatt_f[] = {
    FLD("subnet", EF_REF, subnet, .flags = EF_REQ, .kind = EST_K_SUBNET, .doc = "VNET/SUBNET."),
    FLD("route_table", EF_REF, route_table, .flags = EF_REQ, .kind = EST_K_ROUTE_TABLE,
        .doc = "The table to attach."),
};
#undef S
CLASS(est_class_act_attach, "attach_route_table", struct est_act_attach, actatt_f, EST_K_NONE, -1,
      0, "Attach a route table to a subnet.");

#define S struct est_act_preference
static const struct est_field actpref_f[] = {
    FLD("site", EF_REF, site, .flags = EF_REQ, .kind = EST_K_SITE, .doc = "The site."),
    FLD("circuit", EF_REF, circuit, .flags = EF_REQ, .kind = EST_K_CIRCUIT, .doc = "Circuit."),
    FLD("local_pref", EF_U32, local_pref, .flags = EF_DEFAULT, .dflt = 100, .max = ASN_MAX,
        .doc = "New local preference."),
    FLD("prepend", EF_U32, prepend, .max = 32, .doc = "New AS-path prepend count."),
};
#undef S
CLASS(est_class_act_pref, "set_preference", struct est_act_preference, actpref_f, EST_K_NONE, -1, 0,
      "Change which circuit a site prefers.");

#define S struct est_act_script
static const struct est_field actscript_f[] = {
    FLD("run", EF_STR, run, .flags = EF_REQ, .doc = "Command line, run by /bin/sh."),
    FLD("timeout", EF_DURATION, timeout, .flags = EF_DEFAULT, .dflt = 600,
        .doc = "Time limit (default 10m, as Site Recovery scripts)."),
};
#undef S
CLASS(est_class_act_script, "script", struct est_act_script, actscript_f, EST_K_NONE, -1, 0,
      "Run a command.");

#define S struct est_action
static const struct est_field action_f[] = {
    FLD("create_gateway", EF_OBJ, create_gateway, .flags = EF_ARM, .cls = &est_class_act_gateway,
        .doc = "Create a gateway."),
    FLD("connect", EF_OBJ, connect, .flags = EF_ARM, .cls = &est_class_act_connect,
        .doc = "Connect a gateway to a circuit."),
    FLD("disconnect", EF_OBJ, disconnect, .flags = EF_ARM, .cls = &est_class_act_disconnect,
        .doc = "Remove a connection."),
    FLD("create_peering", EF_OBJ, create_peering, .flags = EF_ARM, .cls = &est_class_vnet_peering,
        .doc = "Create one direction of a VNet peering."),
    FLD("create_route_table", EF_OBJ, create_route_table, .flags = EF_ARM, .cls = &est_class_act_rt,
        .doc = "Create a route table."),
    FLD("attach_route_table", EF_OBJ, attach_route_table, .flags = EF_ARM,
        .cls = &est_class_act_attach, .doc = "Attach a route table to a subnet."),
    FLD("set_preference", EF_OBJ, set_preference, .flags = EF_ARM, .cls = &est_class_act_pref,
        .doc = "Change a site's circuit preference."),
    FLD("manual", EF_STR, manual, .flags = EF_ARM,
        .doc = "A manual step: the plan pauses until it is confirmed."),
    FLD("script", EF_OBJ, script, .flags = EF_ARM, .cls = &est_class_act_script,
        .doc = "Run a script."),
    FLD("direction", EF_ENUM, direction, .enm = &est_enum_dir,
        .doc = "Run on failover, failback or any (default)."),
    LIST("types", types, int, ELEM(EF_ENUM, .enm = &est_enum_fotype),
         .doc = "Failover types it runs for (default: all)."),
};
#undef S
const struct est_class est_class_action = {"action",
                                           sizeof(struct est_action),
                                           action_f,
                                           LIB_ARRAY_LEN(action_f),
                                           EST_K_NONE,
                                           -1,
                                           EC_ONEOF,
                                           offsetof(struct est_action, kind),
                                           "A recovery-plan step: exactly one of the action keys.",
                                           NULL};

#define S struct est_plan_group
static const struct est_field pgroup_f[] = {
    FLD("name", EF_NAME, name, .doc = "Group name (default: Group N)."),
    LIST("vms", vms, struct est_ref, ELEM(EF_REF, .kind = EST_K_VM),
         .doc = "VMs failed over in parallel in this group."),
    LIST("before", before, struct est_action, ELEM(EF_INLINE, .cls = &est_class_action),
         .doc = "Pre-steps."),
    LIST("after", after, struct est_action, ELEM(EF_INLINE, .cls = &est_class_action),
         .doc = "Post-steps."),
};
#undef S
CLASS(est_class_plan_group, "plan group", struct est_plan_group, pgroup_f, EST_K_NONE, -1, 0,
      "A recovery-plan group; group N+1 starts when N is done.");

#define S struct est_plan
static const struct est_field plan_f[] = {
    FLD("name", EF_NAME, name, .flags = EF_REQ, .doc = "Plan name."),
    LIST("before", before, struct est_action, ELEM(EF_INLINE, .cls = &est_class_action),
         .doc = "Steps before the first group."),
    LIST("groups", groups, struct est_plan_group, ELEM(EF_INLINE, .cls = &est_class_plan_group),
         .doc = "Ordered groups (at most 7)."),
    LIST("after", after, struct est_action, ELEM(EF_INLINE, .cls = &est_class_action),
         .doc = "Steps after the last group."),
};
#undef S
CLASS(est_class_plan, "recovery plan", struct est_plan, plan_f, EST_K_PLAN, 0, 0,
      "A recovery plan.");

/* ---- the estate --------------------------------------------------------- */

#define S struct estate
static const struct est_field estate_f[] = {
    FLD("estate", EF_NAME, name, .flags = EF_REQ, .doc = "Estate name."),
    FLD("description", EF_STR, description, .doc = "Free text."),
    LIST("regions", regions, struct est_region, ELEM(EF_INLINE, .cls = &est_class_region),
         .doc = "Azure regions."),
    LIST("locations", locations, struct est_location, ELEM(EF_INLINE, .cls = &est_class_location),
         .doc = "Peering locations."),
    LIST("providers", providers, struct est_provider, ELEM(EF_INLINE, .cls = &est_class_provider),
         .doc = "Connectivity providers."),
    LIST("sites", sites, struct est_site, ELEM(EF_INLINE, .cls = &est_class_site),
         .doc = "On-premises sites."),
    LIST("circuits", circuits, struct est_circuit, ELEM(EF_INLINE, .cls = &est_class_circuit),
         .doc = "ExpressRoute circuits."),
    LIST("global_reach", global_reach, struct est_global_reach,
         ELEM(EF_INLINE, .cls = &est_class_global_reach), .doc = "Global Reach links."),
    LIST("vnets", vnets, struct est_vnet, ELEM(EF_INLINE, .cls = &est_class_vnet),
         .doc = "Virtual networks."),
    LIST("connections", connections, struct est_connection,
         ELEM(EF_INLINE, .cls = &est_class_connection), .doc = "Gateway-to-circuit connections."),
    LIST("peerings", peerings, struct est_vnet_peering,
         ELEM(EF_INLINE, .cls = &est_class_vnet_peering),
         .doc = "VNet peerings, each direction its own entry."),
    LIST("route_tables", route_tables, struct est_route_table,
         ELEM(EF_INLINE, .cls = &est_class_route_table), .doc = "Route tables."),
    LIST("appliances", appliances, struct est_appliance,
         ELEM(EF_INLINE, .cls = &est_class_appliance), .doc = "Network virtual appliances."),
    LIST("vms", vms, struct est_vm, ELEM(EF_INLINE, .cls = &est_class_vm),
         .doc = "Virtual machines and on-premises servers."),
    FLD("replication", EF_OBJ, replication, .cls = &est_class_replication,
        .doc = "Site Recovery replication."),
    LIST("recovery_plans", recovery_plans, struct est_plan, ELEM(EF_INLINE, .cls = &est_class_plan),
         .doc = "Recovery plans."),
    FLD("limits", EF_LIMITS, limit_overrides,
        .doc = "Platform limits to override (see the limits table)."),
};
#undef S
CLASS(est_class_estate, "estate", struct estate, estate_f, EST_K_NONE, 0, 0,
      "The whole estate: one file.");

const struct est_class *const est_classes[] = {
    &est_class_estate,      &est_class_region,       &est_class_location,
    &est_class_provider,    &est_class_site,         &est_class_router,
    &est_class_policy,      &est_class_circuit,      &est_class_peering_cfg,
    &est_class_filter,      &est_class_global_reach, &est_class_vnet,
    &est_class_subnet,      &est_class_pe,           &est_class_gateway,
    &est_class_connection,  &est_class_vnet_peering, &est_class_route_table,
    &est_class_route,       &est_class_appliance,    &est_class_vm,
    &est_class_disk,        &est_class_replication,  &est_class_repl_policy,
    &est_class_vault,       &est_class_repl_group,   &est_class_netmap,
    &est_class_plan,        &est_class_plan_group,   &est_class_action,
    &est_class_act_gateway, &est_class_act_connect,  &est_class_act_disconnect,
    &est_class_act_rt,      &est_class_act_attach,   &est_class_act_pref,
    &est_class_act_script,
};
const uint32_t est_nclasses = LIB_ARRAY_LEN(est_classes);
