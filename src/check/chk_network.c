/*
 * chk_network.c - virtual-network rules (NW1xx): GatewaySubnet, gateways,
 * peerings and their four flags, UDRs and NVAs, subnet and address rules,
 * platform limits.
 *
 * Design: every rule is a pure walk over the estate. Two indices are built
 * per rule run where needed, on the heap and freed before returning: the
 * peerings sorted by (from, to) and by (to, from), so "does the reverse
 * side exist" and "which VNets peer into the hub" are binary searches; and
 * the route-table attachments sorted by (table, vnet, subnet), so "which
 * VNets does this table apply to" is a range. Only resolved references are
 * followed: dangling ones were already reported by the loader. Objects a
 * recovery plan creates are not looked at here (those are the DR rules).
 * Facts cite ../shared/reference/azure-facts.md sections.
 */
#include "chk_internal.h"

#include <stdlib.h>
#include <string.h>

#define GW_SUBNET "GatewaySubnet"

/* Names the route table but points at the route's own line. */
#define RT_ROUTE(rt, r) ((struct chk_obj){EST_K_ROUTE_TABLE, (rt)->name, (r)->pos})
/* A private endpoint has no kind of its own: a plain object at its line. */
#define PE_O(pe) ((struct chk_obj){EST_K_NONE, (pe)->name, (pe)->pos})

/* ---- small helpers ------------------------------------------------------ */

static bool
is_gw_subnet(const struct est_subnet *s)
{
	return s->name && strcmp(s->name, GW_SUBNET) == 0;
}

static const struct est_subnet *
gw_subnet(const struct est_vnet *v)
{
	for (uint32_t i = 0; i < v->subnets.n; i++)
		if (is_gw_subnet(&v->subnets.v[i]))
			return &v->subnets.v[i];
	return NULL;
}

/* First gateway of a type in a VNet, or NULL. */
static const struct est_gateway *
vnet_gw(const struct est_vnet *v, int type)
{
	for (uint32_t i = 0; i < v->gateways.n; i++)
		if (v->gateways.v[i].type == type)
			return &v->gateways.v[i];
	return NULL;
}

static bool
gw_is_er(const struct est_gateway *g)
{
	return g->type == EST_GW_EXPRESSROUTE || est_sku_is_expressroute(g->sku);
}

/* "route 'name' (0.0.0.0/0 -> virtual_appliance 10.0.0.4)" */
static const char *
route_desc(const struct est_route *r, char *buf, size_t n)
{
	char p[IP_STRLEN], ip[IP_STRLEN] = "";
	ip_prefix_fmt(&r->prefix, p);
	if (r->ip.af) {
		ip[0] = ' ';
		ip_addr_fmt(&r->ip, ip + 1);
	}
	if (r->name)
		snprintf(buf, n, "route '%s' (%s -> %s%s)", r->name, p,
		         est_next_hop_name(r->next_hop), ip);
	else
		snprintf(buf, n, "route %s -> %s%s", p, est_next_hop_name(r->next_hop), ip);
	return buf;
}

/* The appliance whose IP is ip in VNet vi, or NULL. */
static const struct est_appliance *
nva_in(const struct estate *e, uint32_t vi, const struct ip_addr *ip)
{
	for (uint32_t i = 0; i < e->appliances.n; i++) {
		const struct est_appliance *a = &e->appliances.v[i];
		if (est_resolved(&a->subnet) && a->subnet.i == vi && ip_addr_cmp(&a->ip, ip) == 0)
			return a;
	}
	return NULL;
}

static bool
vnets_overlap(const struct est_vnet *a, const struct est_vnet *b, uint32_t *xa, uint32_t *xb)
{
	for (uint32_t x = 0; x < a->address_space.n; x++)
		for (uint32_t y = 0; y < b->address_space.n; y++)
			if (ip_prefix_overlaps(&a->address_space.v[x], &b->address_space.v[y])) {
				*xa = x;
				*xb = y;
				return true;
			}
	return false;
}

/* ---- peering index ------------------------------------------------------ */

struct pent {
	uint32_t a, b, p; /* by_from: a = from, b = to; by_to: a = to, b = from */
};

struct peers {
	struct pent *by_from, *by_to;
	uint32_t n;
};

static int
pent_cmp(const void *x, const void *y)
{
	const struct pent *p = x, *q = y;
	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	if (p->b != q->b)
		return p->b < q->b ? -1 : 1;
	return p->p < q->p ? -1 : p->p > q->p;
}

static void
peers_build(const struct estate *e, struct peers *ps)
{
	uint32_t cap = e->peerings.n ? e->peerings.n : 1;
	ps->by_from = lib_xcalloc(cap, sizeof(struct pent));
	ps->by_to = lib_xcalloc(cap, sizeof(struct pent));
	ps->n = 0;
	for (uint32_t i = 0; i < e->peerings.n; i++) {
		const struct est_vnet_peering *p = &e->peerings.v[i];
		if (!est_resolved(&p->from) || !est_resolved(&p->to))
			continue;
		ps->by_from[ps->n] = (struct pent){p->from.i, p->to.i, i};
		ps->by_to[ps->n] = (struct pent){p->to.i, p->from.i, i};
		ps->n++;
	}
	qsort(ps->by_from, ps->n, sizeof(struct pent), pent_cmp);
	qsort(ps->by_to, ps->n, sizeof(struct pent), pent_cmp);
}

static void
peers_free(struct peers *ps)
{
	free(ps->by_from);
	free(ps->by_to);
}

/* First entry of v[0..n) with key a, or n. */
static uint32_t
pent_lower(const struct pent *v, uint32_t n, uint32_t a, uint32_t b)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (v[mid].a < a || (v[mid].a == a && v[mid].b < b))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The peering from -> to (the first, if written twice), or NULL. */
static const struct est_vnet_peering *
peer_find(const struct estate *e, const struct peers *ps, uint32_t from, uint32_t to)
{
	uint32_t k = pent_lower(ps->by_from, ps->n, from, to);
	if (k < ps->n && ps->by_from[k].a == from && ps->by_from[k].b == to)
		return &e->peerings.v[ps->by_from[k].p];
	return NULL;
}

/* Range [*lo, *hi) of v whose key is a. */
static void
pent_range(const struct pent *v, uint32_t n, uint32_t a, uint32_t *lo, uint32_t *hi)
{
	*lo = pent_lower(v, n, a, 0);
	*hi = a == UINT32_MAX ? n : pent_lower(v, n, a + 1, 0);
}

/*
 * The appliance a UDR in VNet x reaches at ip: in x itself, else in a VNet
 * peered with x in both directions. *hv receives the appliance's VNet.
 */
static const struct est_appliance *
route_nva(const struct estate *e, const struct peers *ps, uint32_t x, const struct ip_addr *ip,
          uint32_t *hv)
{
	const struct est_appliance *a = nva_in(e, x, ip);
	if (a) {
		*hv = x;
		return a;
	}
	uint32_t lo, hi;
	pent_range(ps->by_from, ps->n, x, &lo, &hi);
	for (uint32_t k = lo; k < hi; k++) {
		uint32_t h = ps->by_from[k].b;
		if (h == x || (k > lo && ps->by_from[k - 1].b == h) || !peer_find(e, ps, h, x))
			continue;
		if ((a = nva_in(e, h, ip))) {
			*hv = h;
			return a;
		}
	}
	return NULL;
}

/* ---- route-table attachments -------------------------------------------- */

struct att {
	uint32_t rt, vi, si;
};

struct atts {
	struct att *v;
	uint32_t n;
	uint32_t *first; /* first[t] .. first[t + 1]: the attachments of table t */
};

static int
att_cmp(const void *x, const void *y)
{
	const struct att *p = x, *q = y;
	if (p->rt != q->rt)
		return p->rt < q->rt ? -1 : 1;
	if (p->vi != q->vi)
		return p->vi < q->vi ? -1 : 1;
	return p->si < q->si ? -1 : p->si > q->si;
}

static void
atts_build(const struct estate *e, struct atts *a)
{
	uint32_t n = 0;
	for (uint32_t v = 0; v < e->vnets.n; v++)
		for (uint32_t s = 0; s < e->vnets.v[v].subnets.n; s++)
			n += est_resolved(&e->vnets.v[v].subnets.v[s].route_table);
	a->v = lib_xcalloc(n ? n : 1, sizeof(struct att));
	a->n = 0;
	for (uint32_t v = 0; v < e->vnets.n; v++)
		for (uint32_t s = 0; s < e->vnets.v[v].subnets.n; s++) {
			const struct est_ref *r = &e->vnets.v[v].subnets.v[s].route_table;
			if (est_resolved(r) && r->i < e->route_tables.n)
				a->v[a->n++] = (struct att){r->i, v, s};
		}
	qsort(a->v, a->n, sizeof(struct att), att_cmp);
	a->first = lib_xcalloc((size_t)e->route_tables.n + 1, sizeof(uint32_t));
	for (uint32_t k = 0; k < a->n; k++)
		a->first[a->v[k].rt + 1]++;
	for (uint32_t t = 0; t < e->route_tables.n; t++)
		a->first[t + 1] += a->first[t];
}

static void
atts_free(struct atts *a)
{
	free(a->v);
	free(a->first);
}

/* True for the first attachment of table t in its VNet (one report per VNet). */
static bool
att_new_vnet(const struct atts *a, uint32_t t, uint32_t k)
{
	return k == a->first[t] || a->v[k - 1].vi != a->v[k].vi;
}

/* ---- NW101-NW105: GatewaySubnet ----------------------------------------- */

/* NW101: a gateway needs a subnet named exactly GatewaySubnet (azure-facts 1.9). */
static void
nw101(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->vnets.n; i++) {
		const struct est_vnet *v = &e->vnets.v[i];
		if (!v->gateways.n || gw_subnet(v))
			continue;
		const char *near = NULL;
		for (uint32_t s = 0; s < v->subnets.n && !near; s++)
			if (v->subnets.v[s].name &&
			    strcasecmp(v->subnets.v[s].name, GW_SUBNET) == 0)
				near = v->subnets.v[s].name;
		if (!near && v->subnets.n) {
			const char **names = lib_xcalloc(v->subnets.n, sizeof(*names));
			size_t n = 0;
			for (uint32_t s = 0; s < v->subnets.n; s++)
				if (v->subnets.v[s].name)
					names[n++] = v->subnets.v[s].name;
			near = lib_nearest(GW_SUBNET, names, n);
			free(names);
		}
		const struct est_gateway *g = &v->gateways.v[0];
		if (near)
			chk_report2(c, CHK_O(EST_K_VNET, v), CHK_O(EST_K_GATEWAY, g),
			            "vnet '%s' has gateway '%s' but no subnet named exactly "
			            "GatewaySubnet (subnet '%s/%s' is not that name)",
			            v->name, g->name, v->name, near);
		else
			chk_report2(c, CHK_O(EST_K_VNET, v), CHK_O(EST_K_GATEWAY, g),
			            "vnet '%s' has gateway '%s' but no GatewaySubnet", v->name,
			            g->name);
	}
}

static bool
gw_coexist(const struct est_vnet *v)
{
	return vnet_gw(v, EST_GW_EXPRESSROUTE) && vnet_gw(v, EST_GW_VPN);
}

/* NW102: GatewaySubnet under /29 (IPv6: under /64), or under /27 where an
 * ExpressRoute and a VPN gateway coexist (azure-facts 1.9). */
static void
nw102(const struct estate *e, struct chk_ctx *c)
{
	int64_t min = est_limit(e, EST_LIM_GATEWAY_SUBNET_MIN_LEN);
	int64_t rec = est_limit(e, EST_LIM_GATEWAY_SUBNET_WARN_LEN);
	for (uint32_t i = 0; i < e->vnets.n; i++) {
		const struct est_vnet *v = &e->vnets.v[i];
		const struct est_subnet *s = gw_subnet(v);
		if (!s || !s->prefix.a.af)
			continue;
		char p[IP_STRLEN];
		ip_prefix_fmt(&s->prefix, p);
		int64_t len = s->prefix.len;
		if (s->prefix.a.af == IP_V6) {
			if (len > 64)
				chk_report2(c, CHK_O(EST_K_SUBNET, s), CHK_O(EST_K_VNET, v),
				            "%s/GatewaySubnet is %s: an IPv6 GatewaySubnet must be "
				            "/64 or larger",
				            v->name, p);
		} else if (len > min) {
			chk_report2(c, CHK_O(EST_K_SUBNET, s), CHK_O(EST_K_VNET, v),
			            "%s/GatewaySubnet is %s (/%d): the smallest allowed is /%d",
			            v->name, p, (int)len, (int)min);
		} else if (len > rec && gw_coexist(v)) {
			chk_report2(c, CHK_O(EST_K_SUBNET, s), CHK_O(EST_K_VNET, v),
			            "%s/GatewaySubnet is %s (/%d), but vnet '%s' has both an "
			            "ExpressRoute and a VPN gateway, which need /%d or larger",
			            v->name, p, (int)len, v->name, (int)rec);
		}
	}
}

/* NW103: GatewaySubnet allowed but under the recommended /27 (azure-facts 1.9). */
static void
nw103(const struct estate *e, struct chk_ctx *c)
{
	int64_t min = est_limit(e, EST_LIM_GATEWAY_SUBNET_MIN_LEN);
	int64_t rec = est_limit(e, EST_LIM_GATEWAY_SUBNET_WARN_LEN);
	for (uint32_t i = 0; i < e->vnets.n; i++) {
		const struct est_vnet *v = &e->vnets.v[i];
		const struct est_subnet *s = gw_subnet(v);
		if (!s || s->prefix.a.af != IP_V4 || s->prefix.len <= rec || s->prefix.len > min ||
		    gw_coexist(v))
			continue;
		char p[IP_STRLEN];
		chk_report2(c, CHK_O(EST_K_SUBNET, s), CHK_O(EST_K_VNET, v),
		            "%s/GatewaySubnet is %s (/%d): /%d or larger is recommended, leaving "
		            "room for SKU upgrades and a coexisting VPN gateway",
		            v->name, ip_prefix_fmt(&s->prefix, p), (int)s->prefix.len, (int)rec);
	}
}

/* NW104: nothing but gateways in GatewaySubnet (azure-facts 1.9). */
static void
nw104(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->vms.n; i++) {
		const struct est_vm *m = &e->vms.v[i];
		const struct est_subnet *s = est_ref_subnet(e, &m->subnet);
		if (s && is_gw_subnet(s))
			chk_report2(c, CHK_O(EST_K_VM, m), CHK_O(EST_K_SUBNET, s),
			            "vm '%s' is deployed in %s/GatewaySubnet: only gateways may be "
			            "deployed there",
			            m->name, e->vnets.v[m->subnet.i].name);
	}
	for (uint32_t i = 0; i < e->appliances.n; i++) {
		const struct est_appliance *a = &e->appliances.v[i];
		const struct est_subnet *s = est_ref_subnet(e, &a->subnet);
		if (s && is_gw_subnet(s))
			chk_report2(c, CHK_O(EST_K_APPLIANCE, a), CHK_O(EST_K_SUBNET, s),
			            "appliance '%s' is deployed in %s/GatewaySubnet: only gateways "
			            "may be deployed there",
			            a->name, e->vnets.v[a->subnet.i].name);
	}
	for (uint32_t i = 0; i < e->vnets.n; i++) {
		const struct est_vnet *v = &e->vnets.v[i];
		const struct est_subnet *s = gw_subnet(v);
		for (uint32_t k = 0; s && k < s->private_endpoints.n; k++) {
			const struct est_private_endpoint *pe = &s->private_endpoints.v[k];
			chk_report2(c, PE_O(pe), CHK_O(EST_K_SUBNET, s),
			            "private endpoint '%s' is deployed in %s/GatewaySubnet: only "
			            "gateways may be deployed there",
			            pe->name, v->name);
		}
	}
}

/* NW105: no 0.0.0.0/0 UDR, no UDR dropping the GatewaySubnet range, and gateway
 * route propagation on, on the GatewaySubnet (azure-facts 1.9, 2.5). */
static void
nw105(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->vnets.n; i++) {
		const struct est_vnet *v = &e->vnets.v[i];
		const struct est_subnet *s = gw_subnet(v);
		if (!s || !est_resolved(&s->route_table) || s->route_table.i >= e->route_tables.n)
			continue;
		const struct est_route_table *rt = &e->route_tables.v[s->route_table.i];
		if (!rt->propagate_gateway_routes)
			chk_report2(c, CHK_O(EST_K_ROUTE_TABLE, rt), CHK_O(EST_K_SUBNET, s),
			            "route table '%s' on %s/GatewaySubnet disables gateway route "
			            "propagation: the gateway stops working",
			            rt->name, v->name);
		for (uint32_t k = 0; k < rt->routes.n; k++) {
			const struct est_route *r = &rt->routes.v[k];
			char d[256], p[IP_STRLEN];
			if (r->prefix.a.af && r->prefix.len == 0)
				chk_report2(
				    c, RT_ROUTE(rt, r), CHK_O(EST_K_SUBNET, s),
				    "%s of table '%s' on %s/GatewaySubnet is a default "
				    "route: no 0.0.0.0/0 UDR is allowed on the GatewaySubnet",
				    route_desc(r, d, sizeof(d)), rt->name, v->name);
			else if (r->next_hop == EST_NH_NONE &&
			         ip_prefix_overlaps(&r->prefix, &s->prefix))
				chk_report2(c, RT_ROUTE(rt, r), CHK_O(EST_K_SUBNET, s),
				            "%s of table '%s' on %s/GatewaySubnet drops traffic to "
				            "the GatewaySubnet range %s",
				            route_desc(r, d, sizeof(d)), rt->name, v->name,
				            ip_prefix_fmt(&s->prefix, p));
		}
	}
}

/* ---- NW106, NW107, NW121: gateways -------------------------------------- */

/* The VNet whose gateways VNet x uses: its own, else the remote side of its
 * use_remote_gateways peering; EST_NONE when it has none. */
static uint32_t
gateway_vnet(const struct estate *e, const struct peers *ps, uint32_t x)
{
	if (e->vnets.v[x].gateways.n)
		return x;
	uint32_t lo, hi;
	pent_range(ps->by_from, ps->n, x, &lo, &hi);
	for (uint32_t k = lo; k < hi; k++)
		if (e->peerings.v[ps->by_from[k].p].use_remote_gateways)
			return ps->by_from[k].b;
	return EST_NONE;
}

/* NW106: a virtual_network_gateway next hop must be a VPN gateway the subnet
 * can use, not an ExpressRoute one, and not where ER and VPN coexist
 * (azure-facts 2.3). */
static void
nw106(const struct estate *e, struct chk_ctx *c)
{
	struct peers ps;
	struct atts a;
	peers_build(e, &ps);
	atts_build(e, &a);
	for (uint32_t t = 0; t < e->route_tables.n; t++) {
		const struct est_route_table *rt = &e->route_tables.v[t];
		for (uint32_t k = 0; k < rt->routes.n; k++) {
			const struct est_route *r = &rt->routes.v[k];
			if (r->next_hop != EST_NH_VIRTUAL_NETWORK_GATEWAY)
				continue;
			char d[256];
			route_desc(r, d, sizeof(d));
			const struct est_gateway *g = est_ref_gateway(e, &r->gateway);
			if (g && gw_is_er(g)) {
				chk_report2(
				    c, RT_ROUTE(rt, r), CHK_O(EST_K_GATEWAY, g),
				    "%s of table '%s' has next hop gateway '%s', an "
				    "ExpressRoute gateway (%s): ExpressRoute routes come from "
				    "BGP and can't be a UDR next hop",
				    d, rt->name, g->name, est_sku_name(g->sku));
				continue;
			}
			for (uint32_t q = a.first[t]; q < a.first[t + 1]; q++) {
				if (!att_new_vnet(&a, t, q))
					continue;
				uint32_t x = a.v[q].vi;
				const struct est_vnet *xv = &e->vnets.v[x];
				const char *sn = xv->subnets.v[a.v[q].si].name;
				uint32_t gv = gateway_vnet(e, &ps, x);
				const struct est_vnet *G = gv == EST_NONE ? NULL : &e->vnets.v[gv];
				if (!G || !vnet_gw(G, EST_GW_VPN))
					chk_report2(
					    c, RT_ROUTE(rt, r), CHK_O(EST_K_VNET, xv),
					    "%s of table '%s' (on %s/%s) has next hop "
					    "virtual_network_gateway, but vnet '%s' has no VPN "
					    "gateway of its own or through use_remote_gateways",
					    d, rt->name, xv->name, sn, xv->name);
				else if (g && r->gateway.i != gv)
					chk_report2(
					    c, RT_ROUTE(rt, r), CHK_O(EST_K_GATEWAY, g),
					    "%s of table '%s' (on %s/%s) names gateway '%s' "
					    "in vnet '%s', but vnet '%s' uses the gateways of "
					    "vnet '%s'",
					    d, rt->name, xv->name, sn, g->name,
					    e->vnets.v[r->gateway.i].name, xv->name, G->name);
				else if (vnet_gw(G, EST_GW_EXPRESSROUTE))
					chk_report2(
					    c, RT_ROUTE(rt, r), CHK_O(EST_K_VNET, G),
					    "%s of table '%s' (on %s/%s) has next hop "
					    "virtual_network_gateway, but vnet '%s' has both "
					    "ExpressRoute and VPN gateways, where a UDR can't "
					    "use the gateway",
					    d, rt->name, xv->name, sn, G->name);
			}
		}
	}
	atts_free(&a);
	peers_free(&ps);
}

/* NW107: one gateway per type per VNet; type and SKU agree; ErGwScale has
 * scale units with min <= max (azure-facts 1.8, 2.7). */
static void
nw107(const struct estate *e, struct chk_ctx *c)
{
	static const char *const tname[] = {"expressroute", "vpn"};
	for (uint32_t i = 0; i < e->vnets.n; i++) {
		const struct est_vnet *v = &e->vnets.v[i];
		for (int type = EST_GW_EXPRESSROUTE; type <= EST_GW_VPN; type++) {
			const struct est_gateway *first = vnet_gw(v, type);
			for (uint32_t k = 0; first && k < v->gateways.n; k++) {
				const struct est_gateway *g = &v->gateways.v[k];
				if (g != first && g->type == type)
					chk_report2(
					    c, CHK_O(EST_K_GATEWAY, g), CHK_O(EST_K_VNET, v),
					    "vnet '%s' has a second %s gateway '%s' besides "
					    "'%s': at most one gateway per type",
					    v->name, tname[type], g->name, first->name);
			}
		}
		for (uint32_t k = 0; k < v->gateways.n; k++) {
			const struct est_gateway *g = &v->gateways.v[k];
			const char *sku = est_sku_name(g->sku);
			if (g->sku != EST_SKU_BASIC && g->type == EST_GW_EXPRESSROUTE &&
			    !est_sku_is_expressroute(g->sku))
				chk_report1(c, CHK_O(EST_K_GATEWAY, g),
				            "gateway '%s' in vnet '%s' is type expressroute (the "
				            "default) but SKU %s is a VPN SKU",
				            g->name, v->name, sku);
			if (g->type == EST_GW_VPN && est_sku_is_expressroute(g->sku))
				chk_report1(
				    c, CHK_O(EST_K_GATEWAY, g),
				    "gateway '%s' in vnet '%s' is type vpn but SKU %s is an "
				    "ExpressRoute SKU",
				    g->name, v->name, sku);
			if (g->sku != EST_SKU_ERGWSCALE)
				continue;
			if (!g->min_scale_units)
				chk_report1(c, CHK_O(EST_K_GATEWAY, g),
				            "gateway '%s' in vnet '%s' is ErGwScale without "
				            "min_scale_units (1-40)",
				            g->name, v->name);
			else if (g->max_scale_units && g->min_scale_units > g->max_scale_units)
				chk_report1(
				    c, CHK_O(EST_K_GATEWAY, g),
				    "gateway '%s' in vnet '%s' has min_scale_units %u above "
				    "max_scale_units %u",
				    g->name, v->name, g->min_scale_units, g->max_scale_units);
		}
	}
}

/* NW121: the Basic gateway SKU is deprecated (azure-facts 1.8, 1.9). */
static void
nw121(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->vnets.n; i++) {
		const struct est_vnet *v = &e->vnets.v[i];
		for (uint32_t k = 0; k < v->gateways.n; k++) {
			const struct est_gateway *g = &v->gateways.v[k];
			if (g->sku == EST_SKU_BASIC)
				chk_report1(
				    c, CHK_O(EST_K_GATEWAY, g),
				    "gateway '%s' in vnet '%s' uses the deprecated Basic SKU",
				    g->name, v->name);
		}
	}
}

/* ---- NW108-NW113: peerings ---------------------------------------------- */

static bool
peering_ok(const struct est_vnet_peering *p)
{
	return est_resolved(&p->from) && est_resolved(&p->to);
}

/* NW108: use_remote_gateways needs a gateway in the peer and
 * allow_gateway_transit on the peer's side (azure-facts 2.6). */
static void
nw108(const struct estate *e, struct chk_ctx *c)
{
	struct peers ps;
	peers_build(e, &ps);
	for (uint32_t i = 0; i < e->peerings.n; i++) {
		const struct est_vnet_peering *p = &e->peerings.v[i];
		if (!p->use_remote_gateways || !peering_ok(p))
			continue;
		const struct est_vnet *a = &e->vnets.v[p->from.i], *b = &e->vnets.v[p->to.i];
		const struct est_vnet_peering *q = peer_find(e, &ps, p->to.i, p->from.i);
		struct lib_buf m = {0};
		if (!b->gateways.n)
			lib_buf_printf(&m, "; vnet '%s' has no gateway", b->name);
		if (!q)
			lib_buf_printf(&m, "; the reverse peering %s -> %s does not exist", b->name,
			               a->name);
		else if (!q->allow_gateway_transit)
			lib_buf_printf(&m,
			               "; the reverse peering '%s' does not allow gateway transit",
			               q->name);
		if (m.s)
			chk_report2(c, CHK_O(EST_K_PEERING, p), CHK_O(EST_K_VNET, b),
			            "peering '%s' (%s -> %s) uses remote gateways, but%s", p->name,
			            a->name, b->name, m.s + 1);
		lib_buf_free(&m);
	}
	peers_free(&ps);
}

/* NW109: a VNet with its own gateway can't use remote gateways (2.6). */
static void
nw109(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->peerings.n; i++) {
		const struct est_vnet_peering *p = &e->peerings.v[i];
		if (!p->use_remote_gateways || !peering_ok(p))
			continue;
		const struct est_vnet *a = &e->vnets.v[p->from.i];
		if (a->gateways.n)
			chk_report2(c, CHK_O(EST_K_PEERING, p), CHK_O(EST_K_VNET, a),
			            "vnet '%s' has its own gateway '%s' but its peering '%s' to "
			            "'%s' uses remote gateways",
			            a->name, a->gateways.v[0].name, p->name,
			            e->vnets.v[p->to.i].name);
	}
}

/* NW110: at most one peering per VNet uses remote gateways (2.6). */
static void
nw110(const struct estate *e, struct chk_ctx *c)
{
	struct peers ps;
	peers_build(e, &ps);
	for (uint32_t k = 0; k < ps.n;) {
		uint32_t x = ps.by_from[k].a, end = k, n = 0;
		struct lib_buf m = {0};
		const struct est_vnet_peering *second = NULL;
		for (; end < ps.n && ps.by_from[end].a == x; end++) {
			const struct est_vnet_peering *p = &e->peerings.v[ps.by_from[end].p];
			if (!p->use_remote_gateways)
				continue;
			lib_buf_printf(&m, "%s'%s'", n ? ", " : "", p->name);
			if (++n == 2)
				second = p;
		}
		if (n > 1)
			chk_report2(c, CHK_O(EST_K_VNET, &e->vnets.v[x]),
			            CHK_O(EST_K_PEERING, second),
			            "vnet '%s' has %u peerings that use remote gateways (%s): at "
			            "most one may",
			            e->vnets.v[x].name, n, m.s);
		lib_buf_free(&m);
		k = end;
	}
	peers_free(&ps);
}

struct vpair {
	uint32_t a, b; /* a < b */
};

static int
vpair_cmp(const void *x, const void *y)
{
	const struct vpair *p = x, *q = y;
	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	return p->b < q->b ? -1 : p->b > q->b;
}

/* NW111: peered VNets must not overlap, and a VNet's peers must not overlap
 * each other: Azure refuses the peering (azure-facts 2.6). */
static void
nw111(const struct estate *e, struct chk_ctx *c)
{
	/* Unordered pairs of peered VNets, each once. */
	struct vpair *pr = lib_xcalloc(e->peerings.n ? e->peerings.n : 1, sizeof(*pr));
	uint32_t n = 0;
	for (uint32_t i = 0; i < e->peerings.n; i++) {
		const struct est_vnet_peering *p = &e->peerings.v[i];
		if (!peering_ok(p) || p->from.i == p->to.i)
			continue;
		uint32_t x = p->from.i, y = p->to.i;
		pr[n++] = (struct vpair){x < y ? x : y, x < y ? y : x};
	}
	qsort(pr, n, sizeof(*pr), vpair_cmp);
	uint32_t u = 0;
	for (uint32_t i = 0; i < n; i++)
		if (!u || vpair_cmp(&pr[u - 1], &pr[i]))
			pr[u++] = pr[i];
	n = u;

	char pa[IP_STRLEN], pb[IP_STRLEN];
	uint32_t xa, xb;
	for (uint32_t i = 0; i < n; i++) {
		const struct est_vnet *a = &e->vnets.v[pr[i].a], *b = &e->vnets.v[pr[i].b];
		if (vnets_overlap(a, b, &xa, &xb))
			chk_report2(c, CHK_O(EST_K_VNET, a), CHK_O(EST_K_VNET, b),
			            "peered vnets '%s' (%s) and '%s' (%s) overlap", a->name,
			            ip_prefix_fmt(&a->address_space.v[xa], pa), b->name,
			            ip_prefix_fmt(&b->address_space.v[xb], pb));
	}

	/* Neighbours of each VNet: both orientations of every pair, sorted. */
	struct vpair *nb = lib_xcalloc(n ? 2 * (size_t)n : 1, sizeof(*nb));
	for (uint32_t i = 0; i < n; i++) {
		nb[2 * i] = pr[i];
		nb[2 * i + 1] = (struct vpair){pr[i].b, pr[i].a};
	}
	qsort(nb, 2 * (size_t)n, sizeof(*nb), vpair_cmp);
	for (uint32_t k = 0; k < 2 * n;) {
		uint32_t end = k;
		while (end < 2 * n && nb[end].a == nb[k].a)
			end++;
		const struct est_vnet *x = &e->vnets.v[nb[k].a];
		for (uint32_t p = k; p < end; p++)
			for (uint32_t q = p + 1; q < end; q++) {
				struct vpair key = {nb[p].b, nb[q].b}; /* nb[p].b < nb[q].b */
				if (bsearch(&key, pr, n, sizeof(*pr), vpair_cmp))
					continue; /* peered with each other: reported above */
				const struct est_vnet *a = &e->vnets.v[key.a];
				const struct est_vnet *b = &e->vnets.v[key.b];
				if (vnets_overlap(a, b, &xa, &xb))
					chk_report2(c, CHK_O(EST_K_VNET, x), CHK_O(EST_K_VNET, b),
					            "vnet '%s' is peered with '%s' (%s) and '%s' "
					            "(%s), which overlap each other: Azure refuses "
					            "the second peering",
					            x->name, a->name,
					            ip_prefix_fmt(&a->address_space.v[xa], pa),
					            b->name,
					            ip_prefix_fmt(&b->address_space.v[xb], pb));
			}
		k = end;
	}
	free(nb);
	free(pr);
}

/* NW112: a peering without its reverse side stays Initiated (2.6). */
static void
nw112(const struct estate *e, struct chk_ctx *c)
{
	struct peers ps;
	peers_build(e, &ps);
	for (uint32_t i = 0; i < e->peerings.n; i++) {
		const struct est_vnet_peering *p = &e->peerings.v[i];
		if (!peering_ok(p) || peer_find(e, &ps, p->to.i, p->from.i))
			continue;
		const char *a = e->vnets.v[p->from.i].name, *b = e->vnets.v[p->to.i].name;
		chk_report1(c, CHK_O(EST_K_PEERING, p),
		            "peering '%s' (%s -> %s) has no reverse peering %s -> %s: it stays "
		            "Initiated and no traffic flows",
		            p->name, a, b, b, a);
	}
	peers_free(&ps);
}

/* NW113: allow_gateway_transit needs a gateway in this VNet (2.6). */
static void
nw113(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->peerings.n; i++) {
		const struct est_vnet_peering *p = &e->peerings.v[i];
		if (!p->allow_gateway_transit || !peering_ok(p))
			continue;
		const struct est_vnet *a = &e->vnets.v[p->from.i];
		if (!a->gateways.n)
			chk_report2(c, CHK_O(EST_K_PEERING, p), CHK_O(EST_K_VNET, a),
			            "peering '%s' allows gateway transit to '%s', but vnet '%s' "
			            "has no gateway",
			            p->name, e->vnets.v[p->to.i].name, a->name);
	}
}

/* ---- NW114: forwarded traffic through a hub NVA ------------------------- */

/*
 * azure-facts 2.6: allowForwardedTraffic on the peering object of VNet S
 * (S -> H) lets into S traffic that arrives over the peering from H but did
 * not originate in H, e.g. what an NVA in H forwards. It is S's side that
 * must accept, so the flag is checked on the peering whose `from` is the VNet
 * the traffic enters.
 *
 * A UDR in VNet X (on subnet X/sub) sends a prefix to NVA n in VNet H, which
 * is X or a VNet peered with X in both directions (else NW115 reports it):
 *
 *  (a) X != H: X's outbound traffic enters H from X, where it originated, so
 *      H's side needs nothing. But the replies the NVA hands back to X (from
 *      on-premises or another spoke) originate outside H: X -> H must allow
 *      forwarded traffic.
 *  (b) The traffic the NVA forwards onwards to another VNet S2 peered with H
 *      (both sides present; a one-sided peering carries nothing, NW112)
 *      enters S2 from H without originating there: S2 -> H must allow
 *      forwarded traffic. This holds when the traffic did not originate in H
 *      itself, i.e. X != H, or X/sub is H's GatewaySubnet (traffic from
 *      on-premises steered to the NVA, the hub pattern of azure-facts 1.9).
 *      S2 is reached through the NVA when the UDR prefix covers part of S2's
 *      address space and X has no peering route to S2 at least as specific
 *      (a direct X -> S2 peering adds a system route per S2 address space,
 *      which wins by longest prefix; on equal length the UDR wins, 2.4).
 *
 * An NVA that SNATs makes the traffic originate in H and the flag moot; the
 * estate does not model SNAT, hence a warning. Each peering is reported once.
 */
struct fwd {
	const struct estate *e;
	struct chk_ctx *c;
	const struct peers *ps;
	bool *done; /* per peering */
};

static void
fwd_report(struct fwd *f, const struct est_vnet_peering *q, const struct est_route_table *rt,
           const struct est_route *r, const struct est_appliance *n, uint32_t x, uint32_t si,
           bool back)
{
	uint32_t qi = (uint32_t)(q - f->e->peerings.v);
	if (q->allow_forwarded_traffic || f->done[qi])
		return;
	f->done[qi] = true;
	const struct estate *e = f->e;
	const char *xs = e->vnets.v[x].name, *sn = e->vnets.v[x].subnets.v[si].name;
	const char *s = e->vnets.v[q->from.i].name, *h = e->vnets.v[q->to.i].name;
	char d[256], ip[IP_STRLEN];
	route_desc(r, d, sizeof(d));
	ip_addr_fmt(&n->ip, ip);
	if (back)
		chk_report2(f->c, CHK_O(EST_K_PEERING, q), RT_ROUTE(rt, r),
		            "peering '%s' does not allow forwarded traffic, but %s/%s sends "
		            "traffic through NVA '%s' (%s) in vnet '%s' (%s of table '%s'): "
		            "replies the NVA forwards back into '%s' did not originate in '%s' "
		            "and are dropped",
		            q->name, xs, sn, n->name, ip, h, d, rt->name, s, h);
	else
		chk_report2(f->c, CHK_O(EST_K_PEERING, q), RT_ROUTE(rt, r),
		            "peering '%s' does not allow forwarded traffic, but NVA '%s' (%s) in "
		            "vnet '%s' forwards traffic from %s/%s into '%s' (%s of table '%s'): "
		            "it did not originate in '%s' and is dropped",
		            q->name, n->name, ip, h, xs, sn, s, d, rt->name, h);
}

/* Does X reach S2 at prefix p through the UDR rather than a peering route? */
static bool
via_udr(const struct estate *e, const struct peers *ps, uint32_t x, uint32_t s2,
        const struct ip_prefix *p)
{
	const struct est_vnet *v = &e->vnets.v[s2];
	bool direct = peer_find(e, ps, x, s2) != NULL;
	for (uint32_t k = 0; k < v->address_space.n; k++) {
		const struct ip_prefix *a = &v->address_space.v[k];
		if (ip_prefix_overlaps(p, a) && (!direct || p->len >= a->len))
			return true;
	}
	return false;
}

static void
nw114(const struct estate *e, struct chk_ctx *c)
{
	struct peers ps;
	struct atts a;
	peers_build(e, &ps);
	atts_build(e, &a);
	struct fwd f = {e, c, &ps, lib_xcalloc(e->peerings.n ? e->peerings.n : 1, sizeof(bool))};
	for (uint32_t k = 0; k < a.n; k++) {
		const struct est_route_table *rt = &e->route_tables.v[a.v[k].rt];
		uint32_t x = a.v[k].vi, si = a.v[k].si;
		bool gws = is_gw_subnet(&e->vnets.v[x].subnets.v[si]);
		for (uint32_t ri = 0; ri < rt->routes.n; ri++) {
			const struct est_route *r = &rt->routes.v[ri];
			uint32_t h;
			const struct est_appliance *n;
			if (r->next_hop != EST_NH_VIRTUAL_APPLIANCE || !r->ip.af ||
			    !(n = route_nva(e, &ps, x, &r->ip, &h)))
				continue;
			const struct est_vnet_peering *q;
			if (h != x && (q = peer_find(e, &ps, x, h)))
				fwd_report(&f, q, rt, r, n, x, si, true);
			if (h == x && !gws)
				continue;
			uint32_t lo, hi;
			pent_range(ps.by_to, ps.n, h, &lo, &hi);
			for (uint32_t t = lo; t < hi; t++) {
				uint32_t s2 = ps.by_to[t].b;
				if (s2 == x || s2 == h || !peer_find(e, &ps, h, s2) ||
				    !via_udr(e, &ps, x, s2, &r->prefix))
					continue;
				fwd_report(&f, &e->peerings.v[ps.by_to[t].p], rt, r, n, x, si,
				           false);
			}
		}
	}
	free(f.done);
	atts_free(&a);
	peers_free(&ps);
}

/* ---- NW115, NW122: UDR next-hop appliances ------------------------------ */

/* NW115: a virtual_appliance next hop must be an NVA in the same VNet or a
 * VNet peered with it (azure-facts 2.3: directly reachable). */
static void
nw115(const struct estate *e, struct chk_ctx *c)
{
	struct peers ps;
	struct atts a;
	peers_build(e, &ps);
	atts_build(e, &a);
	for (uint32_t t = 0; t < e->route_tables.n; t++) {
		const struct est_route_table *rt = &e->route_tables.v[t];
		for (uint32_t ri = 0; ri < rt->routes.n; ri++) {
			const struct est_route *r = &rt->routes.v[ri];
			if (r->next_hop != EST_NH_VIRTUAL_APPLIANCE || !r->ip.af)
				continue;
			for (uint32_t k = a.first[t]; k < a.first[t + 1]; k++) {
				uint32_t x = a.v[k].vi, h;
				if (!att_new_vnet(&a, t, k) || route_nva(e, &ps, x, &r->ip, &h))
					continue;
				const struct est_vnet *xv = &e->vnets.v[x];
				char d[256];
				route_desc(r, d, sizeof(d));
				const struct est_appliance *other = NULL;
				for (uint32_t i = 0; i < e->appliances.n && !other; i++)
					if (est_resolved(&e->appliances.v[i].subnet) &&
					    !ip_addr_cmp(&e->appliances.v[i].ip, &r->ip))
						other = &e->appliances.v[i];
				if (other)
					chk_report2(
					    c, RT_ROUTE(rt, r), CHK_O(EST_K_VNET, xv),
					    "%s of table '%s' (on %s/%s): appliance '%s' has "
					    "that IP in vnet '%s', which is not peered with "
					    "'%s' in both directions",
					    d, rt->name, xv->name, xv->subnets.v[a.v[k].si].name,
					    other->name, e->vnets.v[other->subnet.i].name,
					    xv->name);
				else
					chk_report2(c, RT_ROUTE(rt, r), CHK_O(EST_K_VNET, xv),
					            "%s of table '%s' (on %s/%s): no appliance has "
					            "that IP in vnet '%s' or a vnet peered with it",
					            d, rt->name, xv->name,
					            xv->subnets.v[a.v[k].si].name, xv->name);
			}
		}
	}
	atts_free(&a);
	peers_free(&ps);
}

/* NW122: the next-hop NVA must have IP forwarding on (azure-facts 2.3). */
static void
nw122(const struct estate *e, struct chk_ctx *c)
{
	struct peers ps;
	struct atts a;
	peers_build(e, &ps);
	atts_build(e, &a);
	for (uint32_t t = 0; t < e->route_tables.n; t++) {
		const struct est_route_table *rt = &e->route_tables.v[t];
		for (uint32_t ri = 0; ri < rt->routes.n; ri++) {
			const struct est_route *r = &rt->routes.v[ri];
			if (r->next_hop != EST_NH_VIRTUAL_APPLIANCE || !r->ip.af)
				continue;
			const struct est_appliance *last = NULL;
			for (uint32_t k = a.first[t]; k < a.first[t + 1]; k++) {
				uint32_t h;
				const struct est_appliance *n =
				    route_nva(e, &ps, a.v[k].vi, &r->ip, &h);
				if (!n || n->ip_forwarding || n == last)
					continue;
				last = n;
				char d[256], ip[IP_STRLEN];
				chk_report2(c, RT_ROUTE(rt, r), CHK_O(EST_K_APPLIANCE, n),
				            "appliance '%s' (%s in vnet '%s'), next hop of %s of "
				            "table '%s', has IP forwarding off: it drops what it "
				            "should forward",
				            n->name, ip_addr_fmt(&n->ip, ip), e->vnets.v[h].name,
				            route_desc(r, d, sizeof(d)), rt->name);
			}
		}
	}
	atts_free(&a);
	peers_free(&ps);
}

/* ---- NW116-NW118: addresses --------------------------------------------- */

/* NW116: subnets inside their VNet, not overlapping, /29 or larger (IPv6
 * exactly /64) (azure-facts 2.7; GatewaySubnet sizes are NW102). */
static void
nw116(const struct estate *e, struct chk_ctx *c)
{
	char p[IP_STRLEN], q[IP_STRLEN];
	for (uint32_t i = 0; i < e->vnets.n; i++) {
		const struct est_vnet *v = &e->vnets.v[i];
		for (uint32_t k = 0; k < v->subnets.n; k++) {
			const struct est_subnet *s = &v->subnets.v[k];
			if (!s->prefix.a.af)
				continue;
			ip_prefix_fmt(&s->prefix, p);
			bool in = false;
			for (uint32_t x = 0; x < v->address_space.n && !in; x++)
				in = ip_prefix_contains(&v->address_space.v[x], &s->prefix);
			if (!in)
				chk_report2(
				    c, CHK_O(EST_K_SUBNET, s), CHK_O(EST_K_VNET, v),
				    "subnet %s/%s (%s) is outside the address space of vnet "
				    "'%s'",
				    v->name, s->name, p, v->name);
			if (!is_gw_subnet(s) && s->prefix.a.af == IP_V4 && s->prefix.len > 29)
				chk_report1(c, CHK_O(EST_K_SUBNET, s),
				            "subnet %s/%s is %s: the smallest IPv4 subnet is /29",
				            v->name, s->name, p);
			if (!is_gw_subnet(s) && s->prefix.a.af == IP_V6 && s->prefix.len != 64)
				chk_report1(c, CHK_O(EST_K_SUBNET, s),
				            "subnet %s/%s is %s: IPv6 subnets must be exactly /64",
				            v->name, s->name, p);
			for (uint32_t m = k + 1; m < v->subnets.n; m++) {
				const struct est_subnet *o = &v->subnets.v[m];
				if (o->prefix.a.af && ip_prefix_overlaps(&s->prefix, &o->prefix))
					chk_report2(c, CHK_O(EST_K_SUBNET, o),
					            CHK_O(EST_K_SUBNET, s),
					            "subnets %s/%s (%s) and %s/%s (%s) overlap",
					            v->name, s->name, p, v->name, o->name,
					            ip_prefix_fmt(&o->prefix, q));
			}
		}
	}
}

struct ipent {
	uint32_t vi;
	struct ip_addr ip;
	struct chk_obj obj;
	const char *what; /* "vm", "appliance", "private endpoint" */
	const struct est_subnet *s;
};

static int
ipent_cmp(const void *x, const void *y)
{
	const struct ipent *p = x, *q = y;
	if (p->vi != q->vi)
		return p->vi < q->vi ? -1 : 1;
	int r = ip_addr_cmp(&p->ip, &q->ip);
	if (r)
		return r;
	return p->obj.pos.line < q->obj.pos.line ? -1 : p->obj.pos.line > q->obj.pos.line;
}

/* NW117: every IP inside its subnet, not one of the five reserved, unique
 * within its VNet (azure-facts 2.7). */
static void
nw117(const struct estate *e, struct chk_ctx *c)
{
	size_t cap = (size_t)e->vms.n + e->appliances.n;
	for (uint32_t i = 0; i < e->vnets.n; i++)
		for (uint32_t k = 0; k < e->vnets.v[i].subnets.n; k++)
			cap += e->vnets.v[i].subnets.v[k].private_endpoints.n;
	struct ipent *v = lib_xcalloc(cap ? cap : 1, sizeof(*v));
	size_t n = 0;
	for (uint32_t i = 0; i < e->vms.n; i++) {
		const struct est_vm *m = &e->vms.v[i];
		const struct est_subnet *s = est_ref_subnet(e, &m->subnet);
		if (s && m->ip.af)
			v[n++] = (struct ipent){m->subnet.i, m->ip, CHK_O(EST_K_VM, m), "vm", s};
	}
	for (uint32_t i = 0; i < e->appliances.n; i++) {
		const struct est_appliance *a = &e->appliances.v[i];
		const struct est_subnet *s = est_ref_subnet(e, &a->subnet);
		if (s && a->ip.af)
			v[n++] = (struct ipent){a->subnet.i, a->ip, CHK_O(EST_K_APPLIANCE, a),
			                        "appliance", s};
	}
	for (uint32_t i = 0; i < e->vnets.n; i++)
		for (uint32_t k = 0; k < e->vnets.v[i].subnets.n; k++) {
			const struct est_subnet *s = &e->vnets.v[i].subnets.v[k];
			for (uint32_t m = 0; m < s->private_endpoints.n; m++) {
				const struct est_private_endpoint *pe = &s->private_endpoints.v[m];
				if (pe->ip.af)
					v[n++] = (struct ipent){i, pe->ip, PE_O(pe),
					                        "private endpoint", s};
			}
		}
	char ip[IP_STRLEN], p[IP_STRLEN];
	for (size_t k = 0; k < n; k++) {
		const struct ipent *x = &v[k];
		const char *vn = e->vnets.v[x->vi].name;
		ip_addr_fmt(&x->ip, ip);
		if (!x->s->prefix.a.af)
			continue;
		ip_prefix_fmt(&x->s->prefix, p);
		if (!ip_prefix_contains_addr(&x->s->prefix, &x->ip)) {
			chk_report2(c, x->obj, CHK_O(EST_K_SUBNET, x->s),
			            "%s '%s' has IP %s, outside its subnet %s/%s (%s)", x->what,
			            x->obj.name, ip, vn, x->s->name, p);
			continue;
		}
		if (x->ip.af != IP_V4)
			continue;
		uint64_t off = ip_prefix_offset(&x->s->prefix, &x->ip);
		uint64_t size = ip_prefix_size(&x->s->prefix);
		if (off <= 3 || off == size - 1)
			chk_report2(c, x->obj, CHK_O(EST_K_SUBNET, x->s),
			            "%s '%s' has IP %s, reserved in subnet %s/%s (%s): Azure keeps "
			            "the network address, the next three and the last",
			            x->what, x->obj.name, ip, vn, x->s->name, p);
	}
	qsort(v, n, sizeof(*v), ipent_cmp);
	for (size_t k = 1; k < n; k++) {
		const struct ipent *x = &v[k - 1], *y = &v[k];
		if (x->vi != y->vi || ip_addr_cmp(&x->ip, &y->ip))
			continue;
		chk_report2(c, y->obj, x->obj, "%s '%s' and %s '%s' both use %s in vnet '%s'",
		            x->what, x->obj.name, y->what, y->obj.name, ip_addr_fmt(&y->ip, ip),
		            e->vnets.v[y->vi].name);
	}
	free(v);
}

/* NW118: VNet address space outside the ranges Azure forbids, and its
 * prefixes not overlapping each other (azure-facts 2.7). */
static void
nw118(const struct estate *e, struct chk_ctx *c)
{
	static const struct {
		const char *p, *why;
	} bad[] = {
	    {"224.0.0.0/4", "multicast"},
	    {"255.255.255.255/32", "broadcast"},
	    {"127.0.0.0/8", "loopback"},
	    {"169.254.0.0/16", "link-local"},
	    {"168.63.129.16/32", "Azure DNS, DHCP and load-balancer probes"},
	};
	struct ip_prefix bp[LIB_ARRAY_LEN(bad)];
	for (size_t b = 0; b < LIB_ARRAY_LEN(bad); b++)
		ip_prefix_parse(bad[b].p, &bp[b]);
	char p[IP_STRLEN], q[IP_STRLEN];
	for (uint32_t i = 0; i < e->vnets.n; i++) {
		const struct est_vnet *v = &e->vnets.v[i];
		for (uint32_t k = 0; k < v->address_space.n; k++) {
			const struct ip_prefix *a = &v->address_space.v[k];
			ip_prefix_fmt(a, p);
			for (size_t b = 0; b < LIB_ARRAY_LEN(bad); b++)
				if (ip_prefix_overlaps(a, &bp[b])) {
					chk_report1(c, CHK_O(EST_K_VNET, v),
					            "vnet '%s' address space %s overlaps %s (%s), "
					            "which Azure does not allow",
					            v->name, p, bad[b].p, bad[b].why);
					break;
				}
			for (uint32_t m = k + 1; m < v->address_space.n; m++)
				if (ip_prefix_overlaps(a, &v->address_space.v[m]))
					chk_report1(c, CHK_O(EST_K_VNET, v),
					            "vnet '%s' address spaces %s and %s overlap",
					            v->name, p,
					            ip_prefix_fmt(&v->address_space.v[m], q));
		}
	}
}

/* ---- NW119, NW123: regions and limits ----------------------------------- */

/* NW119: a route table serves subnets of its own region (azure-facts 2.5). */
static void
nw119(const struct estate *e, struct chk_ctx *c)
{
	struct atts a;
	atts_build(e, &a);
	for (uint32_t t = 0; t < e->route_tables.n; t++) {
		const struct est_route_table *rt = &e->route_tables.v[t];
		if (!est_resolved(&rt->region))
			continue;
		for (uint32_t k = a.first[t]; k < a.first[t + 1]; k++) {
			const struct est_vnet *v = &e->vnets.v[a.v[k].vi];
			if (!att_new_vnet(&a, t, k) || !est_resolved(&v->region) ||
			    v->region.i == rt->region.i)
				continue;
			chk_report2(
			    c, CHK_O(EST_K_ROUTE_TABLE, rt), CHK_O(EST_K_VNET, v),
			    "route table '%s' (%s) is attached to %s/%s in vnet '%s' (%s): a "
			    "table serves subnets of its own region",
			    rt->name, e->regions.v[rt->region.i].name, v->name,
			    v->subnets.v[a.v[k].si].name, v->name, e->regions.v[v->region.i].name);
		}
	}
	atts_free(&a);
}

/* NW123: routes per table, peerings and subnets per VNet (2.5, 2.7). */
static void
nw123(const struct estate *e, struct chk_ctx *c)
{
	int64_t rmax = est_limit(e, EST_LIM_ROUTES_PER_TABLE);
	int64_t pmax = est_limit(e, EST_LIM_PEERINGS_PER_VNET);
	int64_t smax = est_limit(e, EST_LIM_SUBNETS_PER_VNET);
	for (uint32_t t = 0; t < e->route_tables.n; t++) {
		const struct est_route_table *rt = &e->route_tables.v[t];
		if (rt->routes.n > rmax)
			chk_report1(c, CHK_O(EST_K_ROUTE_TABLE, rt),
			            "route table '%s' has %u routes, over the limit of %lld",
			            rt->name, rt->routes.n, (long long)rmax);
	}
	uint32_t *np = lib_xcalloc(e->vnets.n ? e->vnets.n : 1, sizeof(*np));
	for (uint32_t i = 0; i < e->peerings.n; i++)
		if (est_resolved(&e->peerings.v[i].from) && e->peerings.v[i].from.i < e->vnets.n)
			np[e->peerings.v[i].from.i]++;
	for (uint32_t i = 0; i < e->vnets.n; i++) {
		const struct est_vnet *v = &e->vnets.v[i];
		if (np[i] > pmax)
			chk_report1(c, CHK_O(EST_K_VNET, v),
			            "vnet '%s' has %u peerings, over the limit of %lld", v->name,
			            np[i], (long long)pmax);
		if (v->subnets.n > smax)
			chk_report1(c, CHK_O(EST_K_VNET, v),
			            "vnet '%s' has %u subnets, over the limit of %lld", v->name,
			            v->subnets.n, (long long)smax);
	}
	free(np);
}

/* ---- NW120, NW124: route fields ----------------------------------------- */

/* NW120: a virtual_appliance route without the appliance's IP (2.3). */
static void
nw120(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t t = 0; t < e->route_tables.n; t++) {
		const struct est_route_table *rt = &e->route_tables.v[t];
		for (uint32_t k = 0; k < rt->routes.n; k++) {
			const struct est_route *r = &rt->routes.v[k];
			char d[256];
			if (r->next_hop == EST_NH_VIRTUAL_APPLIANCE && !r->ip.af)
				chk_report1(
				    c, RT_ROUTE(rt, r),
				    "%s of table '%s' has next hop virtual_appliance but no "
				    "ip",
				    route_desc(r, d, sizeof(d)), rt->name);
		}
	}
}

/* NW124: ip only with virtual_appliance, gateway only with
 * virtual_network_gateway (2.3). */
static void
nw124(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t t = 0; t < e->route_tables.n; t++) {
		const struct est_route_table *rt = &e->route_tables.v[t];
		for (uint32_t k = 0; k < rt->routes.n; k++) {
			const struct est_route *r = &rt->routes.v[k];
			char d[256], ip[IP_STRLEN];
			if (r->ip.af && r->next_hop != EST_NH_VIRTUAL_APPLIANCE)
				chk_report1(c, RT_ROUTE(rt, r),
				            "%s of table '%s' sets ip %s, but next hop %s takes "
				            "none: only virtual_appliance does",
				            route_desc(r, d, sizeof(d)), rt->name,
				            ip_addr_fmt(&r->ip, ip),
				            est_next_hop_name(r->next_hop));
			if (r->gateway.name && r->next_hop != EST_NH_VIRTUAL_NETWORK_GATEWAY)
				chk_report1(c, RT_ROUTE(rt, r),
				            "%s of table '%s' names gateway '%s', but next hop %s "
				            "takes none: only virtual_network_gateway does",
				            route_desc(r, d, sizeof(d)), rt->name, r->gateway.name,
				            est_next_hop_name(r->next_hop));
		}
	}
}

/* ---- the table ---------------------------------------------------------- */

#define SEED "seed: azure-vm-disaster-recovery-with-expressroute"

static const struct chk_rule rules[] = {
    {"NW101", LIB_SEV_ERROR, "Gateway without a GatewaySubnet", "azure-facts 1.9",
     "add a subnet named exactly GatewaySubnet (/27 or larger) to the VNet", nw101},
    {"NW102", LIB_SEV_ERROR, "GatewaySubnet too small", "azure-facts 1.9",
     "enlarge GatewaySubnet to /27 or larger (at least /29; /27 when ExpressRoute and VPN "
     "gateways coexist); the gateway must be deleted to resize it",
     nw102},
    {"NW103", LIB_SEV_WARNING, "GatewaySubnet smaller than recommended", "azure-facts 1.9",
     "use /27 or larger for GatewaySubnet (/26 for 16 circuits)", nw103},
    {"NW104", LIB_SEV_ERROR, "Something other than a gateway in GatewaySubnet", "azure-facts 1.9",
     "move VMs, appliances and private endpoints to another subnet", nw104},
    {"NW105", LIB_SEV_ERROR, "Default route or disabled propagation on GatewaySubnet",
     "azure-facts 1.9, 2.5",
     "remove 0.0.0.0/0 and dropping routes from the GatewaySubnet's table and keep "
     "propagate_gateway_routes on; steer only specific prefixes to the NVA",
     nw105},
    {"NW106", LIB_SEV_ERROR, "UDR to an unusable virtual network gateway", "azure-facts 2.3",
     "use next hop virtual_network_gateway only towards a VPN gateway of the VNet (or of the "
     "hub it uses); ExpressRoute routes come from BGP",
     nw106},
    {"NW107", LIB_SEV_ERROR, "Gateway type, SKU or count invalid", "azure-facts 1.8, 2.7",
     "keep one ExpressRoute and one VPN gateway per VNet at most, match type and SKU "
     "(type: vpn for VpnGw SKUs), and give ErGwScale min_scale_units <= max_scale_units",
     nw107},
    {"NW108", LIB_SEV_ERROR, "use_remote_gateways without a gateway to use",
     "azure-facts 2.6; " SEED,
     "give the remote VNet a gateway and set allow_gateway_transit on its side of the "
     "peering",
     nw108},
    {"NW109", LIB_SEV_ERROR, "VNet with its own gateway uses remote gateways", "azure-facts 2.6",
     "turn use_remote_gateways off, or remove the VNet's own gateway", nw109},
    {"NW110", LIB_SEV_ERROR, "More than one peering uses remote gateways", "azure-facts 2.6",
     "keep use_remote_gateways on one peering of the VNet only", nw110},
    {"NW111", LIB_SEV_ERROR, "Overlapping peered VNets", "azure-facts 2.6, 2.7",
     "re-address one of the VNets; peered VNets, and the peers of one VNet, must not "
     "overlap",
     nw111},
    {"NW112", LIB_SEV_WARNING, "Peering without its reverse side", "azure-facts 2.6",
     "add the peering in the other direction", nw112},
    {"NW113", LIB_SEV_ERROR, "Gateway transit allowed without a gateway", "azure-facts 2.6",
     "turn allow_gateway_transit off, or create a gateway in the VNet", nw113},
    {"NW114", LIB_SEV_WARNING, "Traffic through a hub NVA without allow_forwarded_traffic",
     SEED "; azure-facts 2.6",
     "set allow_forwarded_traffic on the spoke's side of the peering to the NVA's VNet (both "
     "sides in the seed's hub-and-spoke pattern)",
     nw114},
    {"NW115", LIB_SEV_ERROR, "UDR next hop is no reachable appliance", "azure-facts 2.3",
     "point the route at an appliance's IP in the same VNet or a VNet peered with it in both "
     "directions",
     nw115},
    {"NW116", LIB_SEV_ERROR, "Subnet outside its VNet, overlapping or too small", "azure-facts 2.7",
     "keep subnets inside the VNet address space, disjoint, /29 or larger (IPv6 /64)", nw116},
    {"NW117", LIB_SEV_ERROR, "IP outside its subnet, reserved or duplicated", "azure-facts 2.7",
     "use a free IP inside the subnet, past the first four addresses and before the last", nw117},
    {"NW118", LIB_SEV_ERROR, "VNet address space forbidden or overlapping", "azure-facts 2.7",
     "use RFC 1918 ranges (or 100.64.0.0/10) and disjoint address spaces", nw118},
    {"NW119", LIB_SEV_WARNING, "Route table in another region than its subnets", "azure-facts 2.5",
     "create a route table in the VNet's region and attach that one", nw119},
    {"NW120", LIB_SEV_WARNING, "virtual_appliance route without an IP", "azure-facts 2.3",
     "set ip to the appliance's private IP", nw120},
    {"NW121", LIB_SEV_WARNING, "Deprecated Basic gateway SKU", "azure-facts 1.8, 1.9",
     "move to an AZ SKU (ErGw1AZ or VpnGw1AZ and up)", nw121},
    {"NW122", LIB_SEV_WARNING, "Next-hop appliance without IP forwarding", "azure-facts 2.3",
     "enable IP forwarding on the appliance's NIC (and in its OS)", nw122},
    {"NW123", LIB_SEV_ERROR, "Route, peering or subnet limit exceeded", "azure-facts 2.5, 2.7",
     "split the route table or VNet, or summarize routes", nw123},
    {"NW124", LIB_SEV_ERROR, "Route field that its next hop does not take", "azure-facts 2.3",
     "remove ip unless next_hop is virtual_appliance, gateway unless it is "
     "virtual_network_gateway",
     nw124},
};

CHK_SEGMENT(chk_seg_network, rules);
