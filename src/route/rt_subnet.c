/*
 * rt_subnet.c - a subnet's effective routes and the route one destination
 * takes, as Azure computes them (azure-facts 2.1-2.5, 2.8).
 *
 * Layers: system routes (each VNet address space to VnetLocal; each address
 * space of a connected peer to VNetPeering; 0.0.0.0/0 to Internet; the
 * reserved ranges to None unless an address space equals or contains them),
 * service-endpoint routes on the subnets that enable them, gateway routes
 * from the serving ExpressRoute gateway unless the route table disables
 * propagation, and the route table's UDRs.
 *
 * Selection (azure-facts 2.4): longest prefix; on an equal prefix user over
 * gateway over system; VNet, peering and service-endpoint system routes win
 * over gateway routes even when those are more specific, so a gateway route
 * inside a VNet or peered range never carries traffic and shows Invalid.
 */
#include "rt_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const src_names[] = {"Default", "User", "Virtual network gateway"};
static const char *const nh_names[] = {
    "VirtualNetwork", "VNetPeering",      "VirtualNetworkGateway",        "Internet",
    "None",           "VirtualAppliance", "VirtualNetworkServiceEndpoint"};

const char *
rt_src_name(int src)
{
	return src >= 0 && src < (int)LIB_ARRAY_LEN(src_names) ? src_names[src] : "?";
}

const char *
rt_nh_name(int nh)
{
	return nh >= 0 && nh < (int)LIB_ARRAY_LEN(nh_names) ? nh_names[nh] : "?";
}

static bool
link_addr(const struct est_circuit *c, int side, uint64_t nth, struct ip_addr *out)
{
	if (!c->private_peering || !c->private_peering->link_net[side].a.af)
		return false;
	return ip_prefix_nth(&c->private_peering->link_net[side], nth, out);
}

/* azure-facts 1.6: in each /30 the customer takes the 1st usable IP, Microsoft the 2nd. */
bool
rt_msee_addr(const struct est_circuit *c, int side, struct ip_addr *out)
{
	return link_addr(c, side, 2, out);
}

bool
rt_ce_addr(const struct est_circuit *c, int side, struct ip_addr *out)
{
	return link_addr(c, side, 1, out);
}

static const struct est_route_table *
subnet_table(const struct estate *e, const struct est_subnet *s)
{
	return est_resolved(&s->route_table) ? &e->route_tables.v[s->route_table.i] : NULL;
}

/* The reserved None ranges of azure-facts 2.1. */
static const char *const reserved[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                       "100.64.0.0/10"};

static struct rt_route *
push(struct lib_vec *v, const struct ip_prefix *p, int src, int nh, const char *why)
{
	struct rt_route *r = lib_vec_push(v);
	if (p)
		r->p = *p;
	r->src = (uint8_t)src;
	r->nh = (uint8_t)nh;
	r->active = true;
	r->why = why;
	r->peer_vnet = EST_NONE;
	return r;
}

static void
system_routes(const struct rt_net *n, uint32_t vi, const struct est_subnet *s, struct lib_vec *v)
{
	const struct estate *e = n->e;
	const struct est_vnet *vn = &e->vnets.v[vi];
	bool v6 = false;
	for (uint32_t k = 0; k < vn->address_space.n; k++) {
		push(v, &vn->address_space.v[k], RT_SRC_DEFAULT, RT_NH_VNET_LOCAL, NULL);
		v6 |= vn->address_space.v[k].a.af == IP_V6;
	}
	/* Peered VNets, one route per range, once the peering is connected (2.2, 2.6). */
	for (uint32_t x = n->peer_first[vi]; x < n->peer_first[vi + 1]; x++) {
		const struct est_vnet_peering *p = &e->peerings.v[n->peer_list[x]];
		if (!rt_peering(n, p->to.i, vi))
			continue;
		const struct est_vnet *peer = &e->vnets.v[p->to.i];
		for (uint32_t a = 0; a < peer->address_space.n; a++)
			push(v, &peer->address_space.v[a], RT_SRC_DEFAULT, RT_NH_VNET_PEERING, NULL)
			    ->peer_vnet = p->to.i;
	}
	struct ip_prefix any;
	ip_prefix_parse("0.0.0.0/0", &any);
	push(v, &any, RT_SRC_DEFAULT, RT_NH_INTERNET, NULL);
	if (v6) {
		ip_prefix_parse("::/0", &any);
		push(v, &any, RT_SRC_DEFAULT, RT_NH_INTERNET, NULL);
	}
	/* Reserved ranges to None, unless an address space equals or contains one (2.1). */
	for (size_t r = 0; r < LIB_ARRAY_LEN(reserved); r++) {
		struct ip_prefix p;
		ip_prefix_parse(reserved[r], &p);
		bool covered = false;
		for (uint32_t k = 0; k < vn->address_space.n; k++)
			covered |= ip_prefix_contains(&vn->address_space.v[k], &p);
		if (!covered)
			push(v, &p, RT_SRC_DEFAULT, RT_NH_NONE, NULL);
	}
	/* Service endpoints: only on the subnet that enables them (2.2, 2.8). */
	for (uint32_t k = 0; s && k < s->service_endpoints.n; k++) {
		static const char *const svc[] = {
		    "Microsoft.Storage",
		    "Microsoft.Storage.Global",
		    "Microsoft.Sql",
		    "Microsoft.AzureCosmosDB",
		    "Microsoft.KeyVault",
		    "Microsoft.ServiceBus",
		    "Microsoft.EventHub",
		    "Microsoft.Web",
		    "Microsoft.ContainerRegistry",
		    "Microsoft.CognitiveServices",
		};
		int se = s->service_endpoints.v[k];
		struct rt_route *r = push(v, NULL, RT_SRC_DEFAULT, RT_NH_SERVICE_ENDPOINT, NULL);
		r->tag = se >= 0 && se < (int)LIB_ARRAY_LEN(svc) ? svc[se] : "?";
	}
}

/* Gateway routes of a RIB as effective routes, next hops the MSEE addresses
 * of the best paths' circuits. */
/* A gateway route as an effective route: next hops the MSEE addresses of the
 * best paths' circuits. */
static void
gateway_route(const struct rt_net *n, const struct rt_rib *rib, const struct rt_bgp_route *b,
              struct rt_route *r)
{
	memset(r, 0, sizeof(*r));
	r->p = b->p;
	r->src = RT_SRC_GATEWAY;
	r->nh = RT_NH_GATEWAY;
	r->active = true;
	r->peer_vnet = EST_NONE;
	r->bgp = b;
	for (uint32_t k = 0; k < b->n && r->nnh < LIB_ARRAY_LEN(r->nh_ip); k++) {
		const struct rt_path *p = &rib->paths[b->first + k];
		if (!p->best)
			continue;
		const struct est_circuit *c = &n->e->circuits.v[p->circuit];
		int side = (p->links & 1) ? 0 : 1;
		if (rt_msee_addr(c, side, &r->nh_ip[r->nnh]))
			r->nnh++;
	}
}

static void
gateway_rib_routes(const struct rt_net *n, const struct rt_rib *rib, struct lib_vec *v)
{
	for (uint32_t i = 0; i < rib->n; i++)
		gateway_route(n, rib, &rib->routes[i], lib_vec_push(v));
}

static void
user_routes(const struct rt_net *n, const struct est_subnet *s, struct lib_vec *v)
{
	const struct est_route_table *rt = s ? subnet_table(n->e, s) : NULL;
	for (uint32_t k = 0; rt && k < rt->routes.n; k++) {
		const struct est_route *u = &rt->routes.v[k];
		static const int map[] = {
		    [EST_NH_VIRTUAL_APPLIANCE] = RT_NH_APPLIANCE,
		    [EST_NH_VNET_LOCAL] = RT_NH_VNET_LOCAL,
		    [EST_NH_INTERNET] = RT_NH_INTERNET,
		    [EST_NH_NONE] = RT_NH_NONE,
		    [EST_NH_VIRTUAL_NETWORK_GATEWAY] = RT_NH_GATEWAY,
		};
		struct rt_route *r = push(v, &u->prefix, RT_SRC_USER, map[u->next_hop], u->name);
		r->udr = u;
		if (u->next_hop == EST_NH_VIRTUAL_APPLIANCE && u->ip.af)
			r->nh_ip[r->nnh++] = u->ip;
	}
}

static int
src_rank(int src)
{
	return src == RT_SRC_USER ? 0 : src == RT_SRC_GATEWAY ? 1 : 2;
}

static bool
vnet_system(const struct rt_route *r)
{
	return r->src == RT_SRC_DEFAULT &&
	       (r->nh == RT_NH_VNET_LOCAL || r->nh == RT_NH_VNET_PEERING);
}

/* The gateway routes inside [lo, hi] of a sorted RIB: those contained in p. */
static void
rib_range(const struct rt_rib *rib, const struct ip_prefix *p, uint32_t *lo, uint32_t *hi)
{
	uint32_t a = 0, b = rib->n;
	while (a < b) { /* first route >= p */
		uint32_t m = a + (b - a) / 2;
		if (ip_prefix_cmp(&rib->routes[m].p, p) < 0)
			a = m + 1;
		else
			b = m;
	}
	*lo = a;
	while (a < rib->n && ip_prefix_contains(p, &rib->routes[a].p))
		a++;
	*hi = a;
}

static void
gw_invalidate(struct lib_vec *idx, struct lib_vec *why, uint32_t i, const char *reason)
{
	*(uint32_t *)lib_vec_push(idx) = i;
	*(const char **)lib_vec_push(why) = reason;
}

/* What Azure shows Invalid (2.4): equal prefixes lose to the higher source,
 * and gateway routes inside a VNet or peered range lose always. Own routes
 * are compared with each other and with the gateway RIB by binary search. */
static void
resolve(struct rt_table *t)
{
	struct rt_route *v = t->own;
	for (uint32_t i = 0; i < t->nown; i++)
		for (uint32_t k = 0; k < t->nown && v[i].active && v[i].p.a.af; k++)
			if (k != i && v[k].p.a.af && ip_prefix_cmp(&v[i].p, &v[k].p) == 0 &&
			    src_rank(v[k].src) < src_rank(v[i].src)) {
				v[i].active = false;
				v[i].why = "overridden by a user route";
			}
	if (!t->gw)
		return;
	struct lib_vec idx, why;
	lib_vec_init(&idx, sizeof(uint32_t));
	lib_vec_init(&why, sizeof(const char *));
	for (uint32_t i = 0; i < t->nown; i++) {
		if (!v[i].p.a.af)
			continue;
		if (vnet_system(&v[i])) {
			uint32_t lo, hi;
			rib_range(t->gw, &v[i].p, &lo, &hi);
			for (uint32_t g = lo; g < hi; g++)
				gw_invalidate(
				    &idx, &why, g,
				    "VNet and peering system routes win over gateway routes, "
				    "even more specific ones");
			continue;
		}
		const struct rt_bgp_route *b = rt_rib_find(t->gw, &v[i].p);
		if (!b)
			continue;
		if (v[i].src == RT_SRC_USER)
			gw_invalidate(&idx, &why, (uint32_t)(b - t->gw->routes),
			              "overridden by a user route");
		else if (v[i].active) {
			v[i].active = false;
			v[i].why = "overridden by a gateway route";
		}
	}
	t->ngw_invalid = idx.n;
	t->gw_invalid = idx.v;
	t->gw_why = why.v;
}

static int
route_order(const void *pa, const void *pb)
{
	const struct rt_route *a = pa, *b = pb;
	static const int order[] = {[RT_SRC_DEFAULT] = 0, [RT_SRC_GATEWAY] = 1, [RT_SRC_USER] = 2};
	if (a->src != b->src)
		return order[a->src] - order[b->src];
	if (!a->p.a.af || !b->p.a.af)
		return !a->p.a.af - !b->p.a.af;
	return ip_prefix_cmp(&a->p, &b->p);
}

static bool
propagates(const struct rt_net *n, uint32_t vi, const struct est_subnet *s)
{
	uint32_t g = n->serving_gw[vi];
	const struct est_route_table *rt = s ? subnet_table(n->e, s) : NULL;
	/* 2.5: propagation disabled on the subnet's table drops gateway routes */
	return g != EST_NONE && n->gws[g].up && (!rt || rt->propagate_gateway_routes);
}

void
rt_subnet_table(const struct rt_net *n, uint32_t vi, uint32_t si, struct rt_table *t)
{
	const struct est_subnet *s = &n->e->vnets.v[vi].subnets.v[si];
	struct lib_vec v;
	memset(t, 0, sizeof(*t));
	lib_vec_init(&v, sizeof(struct rt_route));
	system_routes(n, vi, s, &v);
	user_routes(n, s, &v);
	t->own = v.v;
	t->nown = v.n;
	if (propagates(n, vi, s))
		t->gw = &n->gws[n->serving_gw[vi]].learned;
	resolve(t);
}

void
rt_table_free(struct rt_table *t)
{
	free(t->own);
	free(t->gw_invalid);
	free(t->gw_why);
	memset(t, 0, sizeof(*t));
}

struct rt_route *
rt_subnet_routes(const struct rt_net *n, uint32_t vi, uint32_t si, uint32_t *count)
{
	struct rt_table t;
	rt_subnet_table(n, vi, si, &t);
	struct lib_vec v;
	lib_vec_init(&v, sizeof(struct rt_route));
	for (uint32_t i = 0; i < t.nown; i++)
		*(struct rt_route *)lib_vec_push(&v) = t.own[i];
	if (t.gw) {
		uint32_t first = v.n;
		gateway_rib_routes(n, t.gw, &v);
		struct rt_route *r = v.v;
		for (uint32_t k = 0; k < t.ngw_invalid; k++) {
			r[first + t.gw_invalid[k]].active = false;
			r[first + t.gw_invalid[k]].why = t.gw_why[k];
		}
	}
	rt_table_free(&t);
	if (v.n > 1)
		qsort(v.v, v.n, sizeof(struct rt_route), route_order);
	*count = v.n;
	return v.v ? v.v : lib_xcalloc(1, sizeof(struct rt_route));
}

/* One destination: system and user routes are few and scanned; the gateway
 * RIB can be large and is searched (rt_rib_lookup), never copied. */
bool
rt_subnet_lookup(const struct rt_net *n, uint32_t vi, uint32_t si, const struct ip_addr *a,
                 struct rt_route *out)
{
	const struct est_subnet *s = si == EST_NONE ? NULL : &n->e->vnets.v[vi].subnets.v[si];
	struct lib_vec v;
	lib_vec_init(&v, sizeof(struct rt_route));
	system_routes(n, vi, s, &v);
	user_routes(n, s, &v);
	struct rt_route *r = v.v, *best = NULL, gw;
	bool vnet_hit = false;
	for (uint32_t i = 0; i < v.n; i++)
		if (r[i].p.a.af && vnet_system(&r[i]) && ip_prefix_contains_addr(&r[i].p, a))
			vnet_hit = true;
	for (uint32_t i = 0; i < v.n; i++) {
		if (!r[i].p.a.af || !ip_prefix_contains_addr(&r[i].p, a))
			continue;
		if (!best || r[i].p.len > best->p.len ||
		    (r[i].p.len == best->p.len && src_rank(r[i].src) < src_rank(best->src)))
			best = &r[i];
	}
	/* The gateway's longest match competes unless a VNet route matched (2.4). */
	uint32_t g = n->serving_gw[vi];
	const struct est_route_table *rt = s ? subnet_table(n->e, s) : NULL;
	if (!vnet_hit && g != EST_NONE && n->gws[g].up && (!rt || rt->propagate_gateway_routes)) {
		const struct rt_bgp_route *b = rt_rib_lookup(&n->gws[g].learned, a);
		if (b &&
		    (!best || b->p.len > best->p.len ||
		     (b->p.len == best->p.len && src_rank(best->src) > src_rank(RT_SRC_GATEWAY)))) {
			gateway_route(n, &n->gws[g].learned, b, &gw);
			best = &gw;
		}
	}
	if (best)
		*out = *best;
	lib_vec_free(&v);
	return best != NULL;
}
