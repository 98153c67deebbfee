/*
 * bgp_pe.c - the provider edge's policy (see bgp_pe.h): Microsoft's MSEE as the customer's
 * router sees it.
 *
 * Sources: bgp-anchors.md 3.2 (ASNs: 12076 on every peering, 65515-65520 reserved, private
 * ASNs stripped on Microsoft peering, 64496-64511 never in a path), 3.3 (hold 180, at least
 * 10 s; MD5 keys of at most 25 alphanumerics), 3.4 (4,000 / 10,000 / 100 prefixes on
 * private peering, 200 / 200 on Microsoft peering; default route and RFC 1918 filtered on
 * Microsoft peering), 3.5 (customer communities not honoured; every route tagged with the
 * regional community 12076:500xx or 12076:510xx, the region table below) and 3.7.
 *
 * Deviation, by choice: Microsoft peering's registry validation of the customer's prefixes
 * (RIR/IRR) is the estate's advertised_state, checked by the rules, not here; this file
 * only refuses what is never public (the special-purpose blocks below).
 */
#include "bgp/bgp_pe.h"

#include "bgp/bgp_wire.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

bool
bgp_pe_asn_private(uint32_t as)
{
	return (as >= 64512 && as <= 65534) || (as >= 4200000000u && as <= 4294967294u);
}

int
bgp_pe_open_check(const struct bgp_pe_cfg *c, uint32_t as, uint32_t expected, const char **why)
{
	*why = NULL;
	if (expected && as != expected)
		*why = "not the peering's customer ASN";
	else if (as == 0 || as == 23456 || as == 65535 || as == 4294967295u)
		*why = "a reserved ASN (0, AS_TRANS 23456, 65535, 4294967295)";
	else if (as == BGP_PE_AS)
		*why = "Microsoft's own ASN 12076";
	else if (as >= 65515 && as <= 65520)
		*why = "an ASN Azure reserves (65515-65520)";
	else if (c->peering == BGP_PE_MICROSOFT && as >= 64496 && as <= 64511)
		*why = "a documentation ASN (64496-64511) on Microsoft peering";
	else if (c->peering == BGP_PE_MICROSOFT && bgp_pe_asn_private(as) &&
	         !c->private_asn_approved)
		*why = "a private ASN on Microsoft peering without validation";
	return *why ? -EPERM : 0;
}

uint32_t
bgp_pe_max_prefixes(const struct bgp_pe_cfg *c, int af)
{
	if (c->peering == BGP_PE_MICROSOFT)
		return 200;
	if (af == IP_V6)
		return 100;
	return c->premium ? 10000 : 4000;
}

/* ---- inbound ------------------------------------------------------------------------- */

/* Space that is never a customer's public prefix (RFC 6890 and friends), for Microsoft
 * peering; the default route is handled apart. */
static const char *const not_public[] = {
    "0.0.0.0/8",       "10.0.0.0/8",     "100.64.0.0/10", "127.0.0.0/8",    "169.254.0.0/16",
    "172.16.0.0/12",   "192.0.0.0/24",   "192.0.2.0/24",  "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3",   "::/8",           "fc00::/7",
    "fe80::/10",       "ff00::/8",       "2001:db8::/32",
};

#define NOT_PUBLIC_N (sizeof(not_public) / sizeof(not_public[0]))
static struct ip_prefix not_public_pfx[NOT_PUBLIC_N];
static pthread_once_t not_public_once = PTHREAD_ONCE_INIT;

static void
not_public_parse(void)
{
	for (size_t i = 0; i < NOT_PUBLIC_N; i++)
		if (ip_prefix_parse(not_public[i], &not_public_pfx[i]))
			not_public_pfx[i].a.af = 0; /* never: the table is checked by the tests */
}

static bool
is_not_public(const struct ip_prefix *p)
{
	pthread_once(&not_public_once, not_public_parse);
	for (size_t i = 0; i < NOT_PUBLIC_N; i++)
		if (not_public_pfx[i].a.af == p->a.af && ip_prefix_overlaps(&not_public_pfx[i], p))
			return true;
	return false;
}

/* An AS of the path in [lo, hi]. */
static bool
path_has_as(const struct bgp_attrs *a, uint32_t lo, uint32_t hi)
{
	struct bgp_aspath_it it;
	bgp_aspath_iter(&it, &a->aspath, a->aspath_wide);
	uint8_t seg;
	uint32_t as;
	while (bgp_aspath_next(&it, &seg, &as))
		if (as >= lo && as <= hi)
			return true;
	return false;
}

bool
bgp_pe_accept(const struct bgp_pe_cfg *c, const struct ip_prefix *p, const struct bgp_attrs *a,
              const char **why)
{
	*why = NULL;
	if (path_has_as(a, BGP_PE_AS, BGP_PE_AS))
		*why = "AS 12076 in the AS path: a loop (RFC 4271 9.1.2)";
	else if (c->peering != BGP_PE_MICROSOFT)
		return true; /* private peering: the default route too */
	else if (p->len == 0)
		*why = "the default route is not accepted on Microsoft peering";
	else if (is_not_public(p))
		*why = "not public address space (RFC 1918 or another special-purpose block)";
	else if (path_has_as(a, 64496, 64511))
		*why = "a documentation ASN (64496-64511) in the AS path";
	return *why == NULL;
}

size_t
bgp_pe_rewrite_room(const struct bgp_attrs *a)
{
	return (size_t)a->aspath.len + 2;
}

/* Copies the (4-octet) path without private ASes into buf; segments left empty vanish. */
static int
strip_private(struct bgp_attrs *a, uint8_t *buf, size_t cap, bool only_if_all)
{
	struct bgp_aspath_it it;
	bgp_aspath_iter(&it, &a->aspath, true);
	uint8_t seg;
	uint32_t as;
	bool all = true, any = false;
	while (bgp_aspath_next(&it, &seg, &as)) {
		bool priv = bgp_pe_asn_private(as);
		all &= priv;
		any |= priv;
	}
	if (!any || (only_if_all && !all))
		return 0;
	size_t n = 0, seg_at = 0;
	uint8_t cur = 0;
	bgp_aspath_iter(&it, &a->aspath, true);
	while (bgp_aspath_next(&it, &seg, &as)) {
		if (bgp_pe_asn_private(as))
			continue;
		if (cur != seg || buf[seg_at + 1] == 255) {
			if (n + 2 > cap)
				return -ENOSPC;
			seg_at = n;
			buf[n++] = seg;
			buf[n++] = 0;
			cur = seg;
		}
		if (n + 4 > cap)
			return -ENOSPC;
		buf[n++] = (uint8_t)(as >> 24), buf[n++] = (uint8_t)(as >> 16);
		buf[n++] = (uint8_t)(as >> 8), buf[n++] = (uint8_t)as;
		buf[seg_at + 1]++;
	}
	a->aspath = (struct bgp_span){buf, (uint16_t)n};
	return 0;
}

int
bgp_pe_rewrite_in(const struct bgp_pe_cfg *c, struct bgp_attrs *a, uint8_t *buf, size_t cap)
{
	if (!a->aspath_wide || a->as4path.len)
		return -EINVAL; /* canonical sets only (bgp_attrs_canon) */
	a->has &= ~(BGP_HAS(BGP_ATTR_COMMUNITIES) | BGP_HAS(BGP_ATTR_EXT_COMMUNITIES) |
	            BGP_HAS(BGP_ATTR_LARGE_COMMUNITY));
	a->communities = a->ext_communities = a->large_communities = (struct bgp_span){0};
	if (c->peering != BGP_PE_MICROSOFT)
		return 0;
	return strip_private(a, buf, cap, c->strip == BGP_PE_STRIP_ALL_PRIVATE_ONLY);
}

/* ---- outbound ------------------------------------------------------------------------ */

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
	p[3] = (uint8_t)v;
}

int
bgp_pe_attrs_out(const struct bgp_pe_cfg *c, const struct bgp_pe_out *o, struct bgp_attrs *a,
                 uint8_t *buf, size_t cap)
{
	unsigned nas =
	    1 + o->prepend + (o->via_gateway ? 1 : 0) + (o->origin_as ? 1 + o->origin_prepend : 0);
	if (nas > 255 || cap < BGP_PE_OUT_ROOM || !o->nexthop.af)
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	a->has = BGP_HAS(BGP_ATTR_ORIGIN) | BGP_HAS(BGP_ATTR_AS_PATH) | BGP_HAS(BGP_ATTR_NEXT_HOP);
	a->origin = BGP_ORIGIN_IGP;
	a->aspath_wide = true;
	a->nexthop = o->nexthop;
	size_t n = 0;
	buf[n++] = BGP_AS_SEQUENCE;
	buf[n++] = (uint8_t)nas;
	for (unsigned i = 0; i < 1 + o->prepend; i++, n += 4)
		put_be32(buf + n, BGP_PE_AS);
	if (o->via_gateway) {
		put_be32(buf + n, BGP_PE_GATEWAY_AS);
		n += 4;
	}
	for (unsigned i = 0; o->origin_as && i < 1 + o->origin_prepend; i++, n += 4)
		put_be32(buf + n, o->origin_as);
	a->aspath = (struct bgp_span){buf, (uint16_t)n};
	size_t cstart = n;
	if (o->region_xx >= 0 && o->region_xx < 100) {
		uint32_t base = c->peering == BGP_PE_MICROSOFT ? 51000 : 50000;
		put_be32(buf + n, BGP_PE_AS << 16 | (base + (uint32_t)o->region_xx));
		n += 4;
	}
	for (size_t i = 0; i < 4 && o->extra[i]; i++, n += 4)
		put_be32(buf + n, o->extra[i]);
	if (n > cstart) {
		a->has |= BGP_HAS(BGP_ATTR_COMMUNITIES);
		a->communities = (struct bgp_span){buf + cstart, (uint16_t)(n - cstart)};
	}
	return 0;
}

/* ---- tables --------------------------------------------------------------------------- */

/* bgp-anchors.md 3.5 (the 2023-09 revision); the numbers change over time, so they are
 * data here, one place. */
static const struct {
	const char *region;
	int xx;
} regions[] = {
    {"westeurope", 2},
    {"northeurope", 3},
    {"eastus", 4},
    {"eastus2", 5},
    {"westus", 6},
    {"northcentralus", 7},
    {"southcentralus", 8},
    {"centralus", 9},
    {"eastasia", 10},
    {"southeastasia", 11},
    {"japaneast", 12},
    {"japanwest", 13},
    {"brazilsouth", 14},
    {"australiaeast", 15},
    {"australiasoutheast", 16},
    {"centralindia", 17},
    {"westindia", 18},
    {"southindia", 19},
    {"canadacentral", 20},
    {"canadaeast", 21},
    {"uksouth", 24},
    {"ukwest", 25},
    {"westus2", 26},
    {"westcentralus", 27},
    {"koreasouth", 28},
    {"koreacentral", 29},
    {"francecentral", 30},
    {"francesouth", 31},
    {"australiacentral", 32},
    {"australiacentral2", 33},
    {"southafricanorth", 34},
    {"southafricawest", 35},
    {"uaenorth", 36},
    {"uaecentral", 37},
    {"switzerlandnorth", 38},
    {"switzerlandwest", 39},
    {"germanynorth", 40},
    {"germanywestcentral", 41},
    {"norwayeast", 42},
    {"norwaywest", 43},
};

int
bgp_pe_region_xx(const char *region)
{
	for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++)
		if (!strcmp(regions[i].region, region))
			return regions[i].xx;
	return -1;
}

bool
bgp_pe_md5_key_ok(const char *key)
{
	size_t n = strlen(key);
	if (n == 0 || n > BGP_PE_MD5_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)key[i]))
			return false;
	return true;
}
