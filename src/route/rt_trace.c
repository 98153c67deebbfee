/*
 * rt_trace.c - a packet's walk through the estate, hop by hop, each hop
 * naming the route that took it there.
 *
 * Inside Azure a packet is routed by the effective routes of the subnet it
 * is in (rt_subnet_lookup). VnetLocal delivers into the VNet; VNetPeering
 * crosses a connected peering and delivers in the peer (peering is not
 * transitive: the peer does not route it again); VirtualAppliance hands it
 * to the NVA with that IP, which must be in the same or a peered VNet and
 * forward IP, and which routes it again with its own subnet's routes;
 * VirtualNetworkGateway hands it to the serving ExpressRoute gateway, which
 * picks a circuit from its RIB and the provider edge passes it to the edge
 * router of the circuit's site. From on-premises, the site's edge routers
 * pick a circuit (local preference, then AS path), the provider edge hands
 * the packet to the gateway whose VNet advertises the destination, and the
 * gateway's VNet routes it with its GatewaySubnet's routes (where a UDR may
 * steer it to an NVA, the hub pattern).
 *
 * Peering flags (azure-facts 2.6): allow_virtual_network_access off on
 * either side blocks the crossing; a packet that did not originate in the
 * VNet it leaves (it was forwarded by an NVA, or came from on-premises
 * through an NVA) enters the other VNet only when that VNet's peering back
 * allows forwarded traffic. Traffic the gateway forwards directly to a spoke
 * that uses it (gateway transit) needs no such flag.
 */
#include "rt_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const verdicts[] = {"delivered", "dropped", "no route",
                                       "loop",      "blocked", "internet"};
static const char *const hop_names[] = {"host", "router", "link", "gateway", "subnet", "appliance"};

const char *
rt_verdict_name(int v)
{
	return v >= 0 && v < (int)LIB_ARRAY_LEN(verdicts) ? verdicts[v] : "?";
}

const char *
rt_hop_name(int kind)
{
	return kind >= 0 && kind < (int)LIB_ARRAY_LEN(hop_names) ? hop_names[kind] : "?";
}

static void hop(struct rt_trace *t, int kind, const char *name, const char *fmt, ...)
    LIB_PRINTF(4, 5);

static void
hop(struct rt_trace *t, int kind, const char *name, const char *fmt, ...)
{
	if (t->n >= RT_MAX_HOPS)
		return;
	struct rt_hop *h = &t->hops[t->n++];
	h->kind = (uint8_t)kind;
	snprintf(h->name, sizeof(h->name), "%s", name);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->how, sizeof(h->how), fmt, ap);
	va_end(ap);
}

static void end(struct rt_trace *t, int verdict, const char *fmt, ...) LIB_PRINTF(3, 4);

static void
end(struct rt_trace *t, int verdict, const char *fmt, ...)
{
	t->verdict = verdict;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->why, sizeof(t->why), fmt, ap);
	va_end(ap);
}

static bool
in_vnet(const struct est_vnet *v, const struct ip_addr *a)
{
	for (uint32_t k = 0; k < v->address_space.n; k++)
		if (ip_prefix_contains_addr(&v->address_space.v[k], a))
			return true;
	return false;
}

static uint32_t
subnet_of(const struct est_vnet *v, const struct ip_addr *a)
{
	for (uint32_t s = 0; s < v->subnets.n; s++)
		if (ip_prefix_contains_addr(&v->subnets.v[s].prefix, a))
			return s;
	return EST_NONE;
}

static bool
region_down(const struct rt_net *n, uint32_t vi)
{
	const struct est_ref *r = &n->e->vnets.v[vi].region;
	return est_resolved(r) && n->region_down[r->i];
}

/* ---- endpoints ---------------------------------------------------------- */

static bool
azure_endpoint(const struct estate *e, const struct ip_addr *a, struct rt_endpoint *out)
{
	for (uint32_t v = 0; v < e->vnets.n; v++) {
		if (!in_vnet(&e->vnets.v[v], a))
			continue;
		out->onprem = false;
		out->vnet = v;
		out->subnet = subnet_of(&e->vnets.v[v], a);
		return true;
	}
	return false;
}

int
rt_endpoint_parse(const struct estate *e, const char *spec, struct rt_endpoint *out, char *err,
                  size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->label = spec;
	out->vnet = out->subnet = out->site = EST_NONE;
	uint32_t i = est_find(e, EST_K_VM, spec);
	if (i != EST_NONE) {
		const struct est_vm *vm = &e->vms.v[i];
		if (est_resolved(&vm->subnet) && vm->ip.af) {
			out->vnet = vm->subnet.i;
			out->subnet = vm->subnet.j;
			out->ip = vm->ip;
			return 0;
		}
		if (est_resolved(&vm->site) && vm->ip.af) {
			out->onprem = true;
			out->site = vm->site.i;
			out->ip = vm->ip;
			return 0;
		}
		snprintf(err, errlen, "vm '%s' has no IP address to trace from or to", spec);
		return -EINVAL;
	}
	i = est_find(e, EST_K_SITE, spec);
	if (i != EST_NONE) {
		const struct est_site *s = &e->sites.v[i];
		if (!s->prefixes.n) {
			snprintf(err, errlen, "site '%s' advertises no prefix", spec);
			return -EINVAL;
		}
		out->onprem = true;
		out->site = i;
		ip_prefix_nth(&s->prefixes.v[0],
		              s->prefixes.v[0].len < ip_maxlen(s->prefixes.v[0].a.af), &out->ip);
		return 0;
	}
	if (ip_addr_parse(spec, &out->ip) == 0) {
		if (azure_endpoint(e, &out->ip, out))
			return 0;
		for (uint32_t s = 0; s < e->sites.n; s++)
			for (uint32_t p = 0; p < e->sites.v[s].prefixes.n; p++)
				if (ip_prefix_contains_addr(&e->sites.v[s].prefixes.v[p],
				                            &out->ip)) {
					out->onprem = true;
					out->site = s;
					return 0;
				}
		out->external = true;
		return 0;
	}
	snprintf(err, errlen, "'%s' is no vm, site or IP address", spec);
	return -ENOENT;
}

/* ---- the walk ----------------------------------------------------------- */

struct walk {
	const struct rt_net *n;
	const struct rt_endpoint *from, *to;
	struct rt_trace *t;
	uint32_t seen[RT_MAX_HOPS]; /* states visited: vnet << 16 | subnet, for loops */
	uint32_t nseen;
};

static const char *
subnet_label(const struct estate *e, uint32_t vi, uint32_t si, char *buf, size_t n)
{
	if (si == EST_NONE)
		snprintf(buf, n, "%s", e->vnets.v[vi].name);
	else
		snprintf(buf, n, "%s/%s", e->vnets.v[vi].name, e->vnets.v[vi].subnets.v[si].name);
	return buf;
}

static void
route_text(const struct rt_route *r, char *buf, size_t n)
{
	char p[IP_STRLEN], ip[IP_STRLEN];
	int off =
	    snprintf(buf, n, "%s route %s%s%s -> %s", rt_src_name(r->src),
	             r->udr && r->udr->name ? r->udr->name : "", r->udr && r->udr->name ? " " : "",
	             r->p.a.af ? ip_prefix_fmt(&r->p, p) : r->tag, rt_nh_name(r->nh));
	if (r->nnh && off > 0 && (size_t)off < n)
		snprintf(buf + off, n - (size_t)off, " %s", ip_addr_fmt(&r->nh_ip[0], ip));
}

/* Delivery inside VNet vi: the destination must be in one of its subnets. */
static void
deliver(struct walk *w, uint32_t vi, const char *how)
{
	const struct estate *e = w->n->e;
	char lb[160];
	uint32_t si = subnet_of(&e->vnets.v[vi], &w->to->ip);
	if (region_down(w->n, vi)) {
		end(w->t, RT_DROPPED, "region of vnet '%s' is down", e->vnets.v[vi].name);
		return;
	}
	if (si == EST_NONE) {
		end(w->t, RT_DROPPED, "no subnet of vnet '%s' holds the destination",
		    e->vnets.v[vi].name);
		return;
	}
	hop(w->t, RT_HOP_SUBNET, subnet_label(e, vi, si, lb, sizeof(lb)), "%s", how);
	end(w->t, RT_DELIVERED, "delivered in %s", lb);
}

/* Can a packet with source src leave vnet a into peered vnet b? (2.6) */
static bool
cross(struct walk *w, uint32_t a, uint32_t b, bool gateway_transit)
{
	const struct estate *e = w->n->e;
	const struct est_vnet_peering *ab = rt_peering(w->n, a, b), *ba = rt_peering(w->n, b, a);
	if (!ab || !ba) {
		end(w->t, RT_NO_ROUTE, "vnets '%s' and '%s' are not peered both ways",
		    e->vnets.v[a].name, e->vnets.v[b].name);
		return false;
	}
	if (!ab->allow_virtual_network_access || !ba->allow_virtual_network_access) {
		end(w->t, RT_BLOCKED, "peering '%s' does not allow virtual network access",
		    !ab->allow_virtual_network_access ? ab->name : ba->name);
		return false;
	}
	bool forwarded = !in_vnet(&e->vnets.v[a], &w->from->ip);
	if (forwarded && !gateway_transit && !ba->allow_forwarded_traffic) {
		end(w->t, RT_BLOCKED,
		    "peering '%s' does not allow forwarded traffic, and the packet from %s did not "
		    "originate in '%s'",
		    ba->name, w->from->label, e->vnets.v[a].name);
		return false;
	}
	return true;
}

/* The provider-edge hop of a circuit link, the side its paths use. */
static int
link_hop(struct walk *w, uint32_t ci, uint8_t links, char *name, size_t n)
{
	const struct est_circuit *c = &w->n->e->circuits.v[ci];
	int side = (links & 1) ? 0 : 1;
	char msee[IP_STRLEN] = "?";
	struct ip_addr a;
	if (rt_msee_addr(c, side, &a))
		ip_addr_fmt(&a, msee);
	snprintf(name, n, "%s/%s", c->name, side ? "secondary" : "primary");
	hop(w->t, RT_HOP_LINK, name, "provider edge %s (AS %u)", msee, RT_ASN_MSEE);
	w->t->circuit = ci;
	return side;
}

static void to_onprem(struct walk *w, uint32_t vi, const struct rt_route *r);

/* Routes the packet from subnet (vi, si); gw_in: it just came from the gateway. */
static void
from_subnet(struct walk *w, uint32_t vi, uint32_t si, bool gw_in)
{
	const struct estate *e = w->n->e;
	for (;;) {
		uint32_t state = vi << 16 | (si & 0xffff);
		for (uint32_t k = 0; k < w->nseen; k++)
			if (w->seen[k] == state) {
				char lb[160];
				end(w->t, RT_LOOP, "the packet returns to %s",
				    subnet_label(e, vi, si, lb, sizeof(lb)));
				return;
			}
		if (w->nseen >= RT_MAX_HOPS || w->t->n >= RT_MAX_HOPS - 2) {
			end(w->t, RT_LOOP, "more than %d hops", RT_MAX_HOPS);
			return;
		}
		w->seen[w->nseen++] = state;
		struct rt_route r;
		char how[192], lb[160];
		if (!rt_subnet_lookup(w->n, vi, si, &w->to->ip, &r)) {
			end(w->t, RT_NO_ROUTE, "no route in %s",
			    subnet_label(e, vi, si, lb, sizeof(lb)));
			return;
		}
		route_text(&r, how, sizeof(how));
		switch (r.nh) {
		case RT_NH_VNET_LOCAL:
			if (!in_vnet(&e->vnets.v[vi], &w->to->ip)) {
				end(w->t, RT_DROPPED, "%s, but the destination is outside the vnet",
				    how);
				return;
			}
			deliver(w, vi, how);
			return;
		case RT_NH_VNET_PEERING:
			if (!cross(w, vi, r.peer_vnet, gw_in))
				return;
			deliver(w, r.peer_vnet, how);
			return;
		case RT_NH_NONE:
			end(w->t, RT_DROPPED, "%s", how);
			return;
		case RT_NH_INTERNET:
			end(w->t, RT_INTERNET, "%s: leaves for the Internet", how);
			return;
		case RT_NH_GATEWAY:
			to_onprem(w, vi, &r);
			return;
		case RT_NH_APPLIANCE:
			break;
		default:
			end(w->t, RT_NO_ROUTE, "%s", how);
			return;
		}
		/* to the NVA with that IP, in this or a peered VNet */
		uint32_t ai = r.nnh ? rt_appliance_at(w->n, vi, &r.nh_ip[0]) : EST_NONE;
		char ip[IP_STRLEN];
		if (ai == EST_NONE) {
			end(w->t, RT_DROPPED, "%s: no appliance has %s", how,
			    r.nnh ? ip_addr_fmt(&r.nh_ip[0], ip) : "no IP");
			return;
		}
		const struct est_appliance *nva = &e->appliances.v[ai];
		uint32_t av = nva->subnet.i, as = nva->subnet.j;
		if (av != vi && !cross(w, vi, av, gw_in))
			return;
		if (region_down(w->n, av)) {
			end(w->t, RT_DROPPED, "appliance '%s' is in a region that is down",
			    nva->name);
			return;
		}
		hop(w->t, RT_HOP_APPLIANCE, nva->name, "%s", how);
		if (w->t->napp < LIB_ARRAY_LEN(w->t->appliances))
			w->t->appliances[w->t->napp++] = ai;
		if (!nva->ip_forwarding) {
			end(w->t, RT_DROPPED, "appliance '%s' does not forward (ip_forwarding off)",
			    nva->name);
			return;
		}
		vi = av;
		si = as;
		gw_in = false;
	}
}

/* Out through the serving ExpressRoute gateway to the edge router of a site. */
static void
to_onprem(struct walk *w, uint32_t vi, const struct rt_route *r)
{
	const struct estate *e = w->n->e;
	const struct rt_net *n = w->n;
	char how[192];
	route_text(r, how, sizeof(how));
	uint32_t g = n->serving_gw[vi];
	if (!r->bgp || g == EST_NONE) {
		end(w->t, RT_NO_ROUTE, "%s, but no ExpressRoute gateway serves the vnet", how);
		return;
	}
	const struct rt_gateway *gw = &n->gws[g];
	const struct rt_bgp_route *b = r->bgp;
	const struct rt_path *p = &gw->learned.paths[b->first];
	const struct est_gateway *eg = &e->vnets.v[gw->vnet].gateways.v[gw->idx];
	hop(w->t, RT_HOP_GATEWAY, eg->name, "%s (of %u best path%s: connection '%s', weight %u)",
	    how, b->nbest, b->nbest == 1 ? "" : "s", e->connections.v[p->conn].name, p->weight);
	char name[96];
	int side = link_hop(w, p->circuit, p->links, name, sizeof(name));
	/* the edge router terminating that link */
	for (uint32_t k = 0; k < n->nrouters; k++) {
		const struct rt_router *rt = &n->routers[k];
		for (uint32_t l = 0; l < rt->links.n; l++) {
			if (rt->links.v[l].circuit != p->circuit || rt->links.v[l].side != side)
				continue;
			const struct est_site *s = &e->sites.v[rt->site];
			char rn[96];
			snprintf(rn, sizeof(rn), "%s/%s", s->name, rt->name);
			bool own = w->to->onprem && w->to->site == rt->site;
			hop(w->t, RT_HOP_ROUTER, rn, "%s",
			    own ? "the destination is in the site's own prefixes"
			        : "the site advertised the route and forwards the packet on");
			end(w->t, RT_DELIVERED, "%s site %s", own ? "delivered at" : "handed to",
			    s->name);
			return;
		}
	}
	end(w->t, RT_DROPPED, "no edge router terminates %s", name);
}

/* From an on-premises site into Azure. */
static void
from_onprem(struct walk *w)
{
	const struct estate *e = w->n->e;
	const struct rt_net *n = w->n;
	const struct rt_router *best_rt = NULL;
	const struct rt_bgp_route *best = NULL;
	const struct rt_path *bp = NULL;
	for (uint32_t k = 0; k < n->nrouters; k++) {
		const struct rt_router *rt = &n->routers[k];
		if (rt->site != w->from->site)
			continue;
		const struct rt_bgp_route *b = rt_rib_lookup(&rt->learned, &w->to->ip);
		if (!b)
			continue;
		const struct rt_path *p = &rt->learned.paths[b->first];
		if (!best || b->p.len > best->p.len ||
		    (b->p.len == best->p.len &&
		     (p->local_pref > bp->local_pref ||
		      (p->local_pref == bp->local_pref && p->aspath_len < bp->aspath_len)))) {
			best = b;
			bp = p;
			best_rt = rt;
		}
	}
	if (!best) {
		end(w->t, RT_NO_ROUTE, "no edge router of site %s has a route to %s",
		    e->sites.v[w->from->site].name, w->to->label);
		return;
	}
	char pfx[IP_STRLEN], rn[96];
	const struct est_circuit *c = &e->circuits.v[bp->circuit];
	snprintf(rn, sizeof(rn), "%s/%s", e->sites.v[w->from->site].name, best_rt->name);
	hop(w->t, RT_HOP_ROUTER, rn,
	    "BGP route %s via circuit %s (local preference %u, AS path %s)",
	    ip_prefix_fmt(&best->p, pfx), c->name, bp->local_pref,
	    bp->origin_kind == EST_K_VNET ? "12076 65515" : "12076 and the linked site");
	char name[96];
	link_hop(w, bp->circuit, bp->links, name, sizeof(name));
	/* the provider edge hands it to the gateway advertising the longest match */
	const struct rt_gateway *gw = NULL;
	const struct est_connection *conn = NULL;
	int blen = -1;
	for (uint32_t x = n->conn_first[bp->circuit]; x < n->conn_first[bp->circuit + 1]; x++) {
		uint32_t k = n->conn_list[x];
		const struct est_connection *cn = &e->connections.v[k];
		if (!n->conns[k].up)
			continue;
		const struct rt_gateway *g = &n->gws[rt_gw_index(n, cn->gateway.i, cn->gateway.j)];
		for (uint32_t p = 0; p < g->advertised.n; p++)
			if (ip_prefix_contains_addr(&g->advertised.v[p], &w->to->ip) &&
			    (int)g->advertised.v[p].len > blen) {
				blen = g->advertised.v[p].len;
				gw = g;
				conn = cn;
			}
	}
	if (!gw) {
		end(w->t, RT_NO_ROUTE, "no gateway connected to %s advertises %s", c->name,
		    w->to->label);
		return;
	}
	const struct est_vnet *hub = &e->vnets.v[gw->vnet];
	hop(w->t, RT_HOP_GATEWAY, hub->gateways.v[gw->idx].name,
	    "connection '%s'; the gateway advertises vnet '%s' and the spokes it serves",
	    conn->name, hub->name);
	uint32_t gs = EST_NONE;
	for (uint32_t s = 0; s < hub->subnets.n; s++)
		if (strcmp(hub->subnets.v[s].name, "GatewaySubnet") == 0)
			gs = s;
	from_subnet(w, gw->vnet, gs, true);
}

void
rt_trace(const struct rt_net *n, const struct rt_endpoint *from, const struct rt_endpoint *to,
         struct rt_trace *out)
{
	memset(out, 0, sizeof(*out));
	out->circuit = EST_NONE;
	struct walk w = {n, from, to, out, {0}, 0};
	const struct estate *e = n->e;
	char ip[IP_STRLEN], lb[160];
	ip_addr_fmt(&from->ip, ip);
	if (from->external) {
		hop(out, RT_HOP_HOST, from->label, "%s", ip);
		end(out, RT_NO_ROUTE,
		    "%s is in no VNet and no site: traces start inside the estate", ip);
		return;
	}
	if (from->onprem) {
		hop(out, RT_HOP_HOST, from->label, "%s at site %s", ip,
		    e->sites.v[from->site].name);
		if (to->onprem) {
			end(out, to->site == from->site ? RT_DELIVERED : RT_NO_ROUTE, "%s",
			    to->site == from->site ? "same site"
			                           : "between sites: Global Reach is "
			                             "not traced yet");
			return;
		}
		from_onprem(&w);
		return;
	}
	hop(out, RT_HOP_HOST, from->label, "%s in %s", ip,
	    subnet_label(e, from->vnet, from->subnet, lb, sizeof(lb)));
	if (region_down(n, from->vnet)) {
		end(out, RT_DROPPED, "the source's region is down");
		return;
	}
	from_subnet(&w, from->vnet, from->subnet, false);
}
