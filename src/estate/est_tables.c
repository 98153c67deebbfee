/*
 * est_tables.c - platform limits and per-SKU tables, with their sources.
 *
 * Numbers come from ../shared/reference/azure-facts.md (section in each
 * entry). Where the seeds and newer docs disagree the default follows the
 * seeds: one circuit per peering location per VNet (seeds; newer docs: 4),
 * which an estate can lift with limits: {circuits_per_location_per_vnet: 4}.
 */
#include "est_schema.h"

#include <string.h>

const struct est_limit_def est_limit_defs[EST_LIM__COUNT] = {
    [EST_LIM_CIRCUITS_PER_LOCATION_PER_VNET] =
        {"circuits_per_location_per_vnet", 1, 1, 16,
         "Circuits from one peering location connected to one VNet.",
         "seeds (azure-vm-disaster-recovery-with-expressroute); newer docs: 4 (1.4)"},
    [EST_LIM_PRIVATE_V4_PREFIXES] = {"private_v4_prefixes", 4000, 1, 1000000,
                                     "IPv4 prefixes on-premises may advertise over private "
                                     "peering (Local/Standard).",
                                     "azure-facts 1.7"},
    [EST_LIM_PRIVATE_V4_PREFIXES_PREMIUM] = {"private_v4_prefixes_premium", 10000, 1, 1000000,
                                             "The same for Premium circuits.", "azure-facts 1.7"},
    [EST_LIM_PRIVATE_V6_PREFIXES] = {"private_v6_prefixes", 100, 1, 1000000,
                                     "IPv6 prefixes over private peering.", "azure-facts 1.7"},
    [EST_LIM_MICROSOFT_PREFIXES] = {"microsoft_prefixes", 200, 1, 1000000,
                                    "Prefixes per Microsoft-peering BGP session.",
                                    "azure-facts 1.5, 1.7"},
    [EST_LIM_VNET_PREFIXES_TO_CIRCUIT] = {"vnet_prefixes_to_circuit", 1000, 1, 1000000,
                                          "IPv4 VNet prefixes a gateway advertises to a "
                                          "circuit; above it the connection goes down.",
                                          "azure-facts 1.7"},
    [EST_LIM_VNET_V6_PREFIXES_TO_CIRCUIT] = {"vnet_v6_prefixes_to_circuit", 100, 1, 1000000,
                                             "IPv6 VNet prefixes advertised to a circuit.",
                                             "azure-facts 1.7"},
    [EST_LIM_GATEWAY_ROUTES] = {"gateway_routes", 11000, 1, 10000000,
                                "Routes an ExpressRoute gateway handles in total.",
                                "azure-facts 1.7"},
    [EST_LIM_ECMP_CIRCUITS] = {"ecmp_circuits", 4, 1, 16, "Circuits a gateway spreads flows over.",
                               "azure-facts 1.4, 1.10"},
    [EST_LIM_PEERINGS_PER_VNET] = {"peerings_per_vnet", 500, 1, 100000, "VNet peerings per VNet.",
                                   "azure-facts 2.7"},
    [EST_LIM_ROUTES_PER_TABLE] = {"routes_per_table", 400, 1, 100000, "Routes per route table.",
                                  "azure-facts 2.5"},
    [EST_LIM_SUBNETS_PER_VNET] = {"subnets_per_vnet", 3000, 1, 100000, "Subnets per VNet.",
                                  "azure-facts 2.7"},
    [EST_LIM_RECOVERY_PLAN_GROUPS] = {"recovery_plan_groups", 7, 1, 1000,
                                      "Groups per recovery plan.", "azure-facts 3.6"},
    [EST_LIM_RECOVERY_PLAN_VMS] = {"recovery_plan_vms", 100, 1, 100000,
                                   "Protected VMs per recovery plan.", "azure-facts 3.6"},
    [EST_LIM_REPLICATION_GROUP_VMS] = {"replication_group_vms", 16, 1, 1000,
                                       "VMs per replication (consistency) group.",
                                       "azure-facts 3.5"},
    [EST_LIM_GATEWAY_SUBNET_MIN_LEN] = {"gateway_subnet_max_prefix_len", 29, 8, 32,
                                        "Smallest GatewaySubnet allowed (/29).", "azure-facts 1.9"},
    [EST_LIM_GATEWAY_SUBNET_WARN_LEN] = {"gateway_subnet_recommended_prefix_len", 27, 8, 32,
                                         "GatewaySubnet size recommended (/27 or larger).",
                                         "azure-facts 1.9"},
    [EST_LIM_CONNECTION_WEIGHT_MAX] = {"connection_weight_max", 32000, 0, 32000,
                                       "Largest connection routing weight.", "azure-facts 1.10"},
    [EST_LIM_GATEWAY_CREATE_MINUTES] = {"gateway_create_minutes", 45, 1, 1440,
                                        "Minutes to create a virtual network gateway.",
                                        "azure-facts 1.8"},
};

/* VNet links per circuit (azure-facts 1.4): Local/Standard 10; Premium by size. */
uint32_t
est_circuit_link_limit(uint64_t mbps, int tier)
{
	static const struct {
		uint64_t mbps;
		uint32_t premium;
	} t[] = {
	    {50, 20},   {100, 25},  {200, 25},  {500, 40},
	    {1000, 50}, {2000, 60}, {5000, 75}, {10000, 100},
	};
	if (tier != EST_TIER_PREMIUM)
		return 10;
	for (size_t i = 0; i < LIB_ARRAY_LEN(t); i++)
		if (mbps <= t[i].mbps)
			return t[i].premium;
	return 100;
}

bool
est_sku_is_expressroute(int sku)
{
	return sku <= EST_SKU_ERGWSCALE;
}

/* Circuit connections per gateway (azure-facts 1.8, per-SKU table). */
uint32_t
est_gateway_connection_limit(const struct est_gateway *g)
{
	switch (g->sku) {
	case EST_SKU_STANDARD:
	case EST_SKU_ERGW1AZ:
		return 4;
	case EST_SKU_HIGH_PERFORMANCE:
	case EST_SKU_ERGW2AZ:
		return 8;
	case EST_SKU_ULTRA_PERFORMANCE:
	case EST_SKU_ERGW3AZ:
		return 16;
	case EST_SKU_ERGWSCALE: {
		uint32_t su = g->max_scale_units ? g->max_scale_units : g->min_scale_units;
		return su >= 10 ? 16 : su >= 2 ? 8 : 4;
	}
	default:
		return 0; /* VPN gateways connect no circuit */
	}
}

/* azure-facts 1.6: Azure-reserved and IANA-reserved ASNs. */
const char *
est_asn_reserved(uint32_t asn)
{
	if (asn == 0)
		return "ASN 0 is reserved (RFC 7607)";
	if (asn >= 65515 && asn <= 65520)
		return "ASNs 65515-65520 are reserved by Azure";
	if (asn == 8074 || asn == 8075 || asn == 8076 || asn == 12076)
		return "Microsoft's public ASNs (8074, 8075, 8076, 12076) are reserved";
	if (asn == 23456)
		return "ASN 23456 is AS_TRANS (RFC 6793)";
	if (asn >= 64496 && asn <= 64511)
		return "ASNs 64496-64511 are reserved for documentation (RFC 5398)";
	if (asn >= 65535 && asn <= 65551)
		return "ASNs 65535-65551 are reserved by IANA";
	if (asn == 4294967295u)
		return "ASN 4294967295 is reserved (RFC 7300)";
	return NULL;
}

bool
est_asn_private(uint32_t asn)
{
	return (asn >= 64512 && asn <= 65534) || (asn >= 4200000000u && asn <= 4294967294u);
}

/* azure-facts 1.1: provider circuits 50 Mbps-10 Gbps; Direct 10G ports carry
 * 1, 2, 5, 10 Gbps circuits, Direct 100G ports 5, 10, 40, 100 Gbps. */
bool
est_bandwidth_valid(uint64_t mbps, int port)
{
	static const uint64_t provider[] = {50, 100, 200, 500, 1000, 2000, 5000, 10000};
	static const uint64_t d10[] = {1000, 2000, 5000, 10000};
	static const uint64_t d100[] = {5000, 10000, 40000, 100000};
	const uint64_t *t = provider;
	size_t n = LIB_ARRAY_LEN(provider);
	if (port == EST_PORT_DIRECT_10G) {
		t = d10;
		n = LIB_ARRAY_LEN(d10);
	} else if (port == EST_PORT_DIRECT_100G) {
		t = d100;
		n = LIB_ARRAY_LEN(d100);
	}
	for (size_t i = 0; i < n; i++)
		if (t[i] == mbps)
			return true;
	return false;
}

const char *
est_tier_name(int tier)
{
	return tier >= 0 && (uint32_t)tier < est_enum_tier.n ? est_enum_tier.names[tier] : "?";
}

const char *
est_sku_name(int sku)
{
	return sku >= 0 && (uint32_t)sku < est_enum_sku.n ? est_enum_sku.names[sku] : "?";
}

const char *
est_next_hop_name(int nh)
{
	return nh >= 0 && (uint32_t)nh < est_enum_next_hop.n ? est_enum_next_hop.names[nh] : "?";
}

const char *
est_action_name(int kind)
{
	return kind >= 0 && (uint32_t)kind < est_enum_action.n ? est_enum_action.names[kind] : "?";
}

bool
est_circuit_reaches(const struct estate *e, const struct est_circuit *c, uint32_t ri)
{
	if (ri == EST_NONE || !est_resolved(&c->location))
		return true;
	if (c->tier == EST_TIER_PREMIUM)
		return !e->regions.v[ri].national;
	const struct est_location *l = &e->locations.v[c->location.i];
	if (c->tier == EST_TIER_LOCAL) {
		for (uint32_t k = 0; k < l->local_regions.n; k++)
			if (est_resolved(&l->local_regions.v[k]) && l->local_regions.v[k].i == ri)
				return true;
		return false;
	}
	const char *rg = e->regions.v[ri].geo;
	return !l->geo || !rg || strcmp(l->geo, rg) == 0;
}
