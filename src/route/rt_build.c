/*
 * rt_build.c - the control plane of an estate: sessions, connections,
 * what each ExpressRoute gateway learns and advertises, what each
 * on-premises edge router learns.
 *
 * Order of work, each step reading only the ones before:
 *   1. failures: regions, locations, circuits, links, gateways, connections;
 *   2. circuits: a circuit carries traffic when provisioned, enabled and
 *      with private peering (azure-facts 1.3); a link's session is up unless
 *      failed; over the on-premises prefix limit both sessions drop
 *      (azure-facts 1.7);
 *   3. gateways and gateway transit: the gateway serving a VNet is its own
 *      ExpressRoute gateway, or the hub's when the VNet's peering uses remote
 *      gateways and the hub's reverse peering allows transit (azure-facts 2.6);
 *   4. advertisements: a gateway advertises its VNet's address spaces and
 *      those of every spoke it serves, with summarized_prefixes replacing
 *      the spoke prefixes they cover; over the VNet-prefix limit its
 *      connections go down (azure-facts 1.7);
 *   5. connections: up when enabled, on a usable circuit with a link up, to
 *      a gateway that is up and within its limit;
 *   6. gateway RIBs: every site prefix of every connected circuit, with the
 *      site's prepends; best by connection weight, then AS-path length, then
 *      ECMP over up to ecmp_circuits circuits (azure-facts 1.10); VNet routes
 *      of other gateways on the circuit only when both allow VNet transit
 *      (azure-facts 1.4: off by default);
 *   7. edge routers: each link's circuit brings the prefixes of every
 *      connected gateway (AS path 12076 65515) and, over Global Reach, the
 *      prefixes of the linked circuits' sites (not transitive, azure-facts
 *      1.13); best by local preference, then AS-path length (azure-facts
 *      1.10).
 */
#include "rt_internal.h"

#include "ip/lpm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct fails {
	bool *region, *location, *circuit, *gateway, *conn;
	uint8_t *link; /* per circuit: bit per side */
};

static void
apply_failures(const struct rt_net *n, const struct rt_fail *f, size_t nf, struct fails *F)
{
	const struct estate *e = n->e;
	struct lib_arena *a = (struct lib_arena *)&n->arena;
	F->region = lib_arena_alloc(a, e->regions.n + 1);
	F->location = lib_arena_alloc(a, e->locations.n + 1);
	F->circuit = lib_arena_alloc(a, e->circuits.n + 1);
	F->gateway = lib_arena_alloc(a, n->ngws + 1);
	F->conn = lib_arena_alloc(a, e->connections.n + 1);
	F->link = lib_arena_alloc(a, e->circuits.n + 1);
	for (size_t i = 0; i < nf; i++) {
		switch (f[i].kind) {
		case RT_FAIL_REGION:
			F->region[f[i].i] = true;
			break;
		case RT_FAIL_LOCATION:
			F->location[f[i].i] = true;
			break;
		case RT_FAIL_CIRCUIT:
			F->circuit[f[i].i] = true;
			break;
		case RT_FAIL_LINK:
			F->link[f[i].i] |= (uint8_t)(1u << f[i].j);
			break;
		case RT_FAIL_GATEWAY:
			F->gateway[rt_gw_index(n, f[i].i, f[i].j)] = true;
			break;
		case RT_FAIL_CONNECTION:
			F->conn[f[i].i] = true;
			break;
		}
	}
}

/* Step 2 (azure-facts 1.3, 1.7). */
static void
circuits(struct rt_net *n, const struct fails *F)
{
	const struct estate *e = n->e;
	for (uint32_t i = 0; i < e->circuits.n; i++) {
		const struct est_circuit *c = &e->circuits.v[i];
		struct rt_circuit_state *s = &n->circuits[i];
		s->usable = c->provider_state == EST_PS_PROVISIONED && c->state == EST_CS_ENABLED &&
		            c->private_peering;
		if (!s->usable) {
			s->why_down = !c->private_peering ? "no private peering"
			              : c->state != EST_CS_ENABLED
			                  ? "circuit disabled"
			                  : "not provisioned by the provider";
			continue;
		}
		if (est_resolved(&c->site)) {
			const struct est_site *site = &e->sites.v[c->site.i];
			int64_t lim = est_limit(e, c->tier == EST_TIER_PREMIUM
			                               ? EST_LIM_PRIVATE_V4_PREFIXES_PREMIUM
			                               : EST_LIM_PRIVATE_V4_PREFIXES);
			s->over_limit =
			    ip_count_af(site->prefixes.v, site->prefixes.n, IP_V4) > (uint64_t)lim;
			s->v6_over_limit = ip_count_af(site->prefixes.v, site->prefixes.n, IP_V6) >
			                   (uint64_t)est_limit(e, EST_LIM_PRIVATE_V6_PREFIXES);
		}
		bool loc_down = est_resolved(&c->location) && F->location[c->location.i];
		for (int side = 0; side < 2; side++) {
			bool up = !F->circuit[i] && !loc_down && !(F->link[i] & (1u << side)) &&
			          !s->over_limit;
			s->link_up[side] = up;
		}
		if (F->circuit[i])
			s->why_down = "circuit failed";
		else if (loc_down)
			s->why_down = "peering location failed";
		else if (s->over_limit)
			s->why_down = "on-premises prefixes over the private-peering limit: BGP "
			              "sessions down";
		else if (!s->link_up[0] || !s->link_up[1])
			s->why_down =
			    s->link_up[0] ? "secondary link failed" : "primary link failed";
	}
}

static bool
circuit_carries(const struct rt_net *n, uint32_t c)
{
	return n->circuits[c].usable && (n->circuits[c].link_up[0] || n->circuits[c].link_up[1]);
}

static int
er_gateway(const struct est_vnet *v)
{
	for (uint32_t g = 0; g < v->gateways.n; g++)
		if (v->gateways.v[g].type == EST_GW_EXPRESSROUTE &&
		    est_sku_is_expressroute(v->gateways.v[g].sku))
			return (int)g;
	return -1;
}

static uint32_t *
csr(struct lib_arena *a, uint32_t nkeys, uint32_t nitems, const uint32_t *key, uint32_t **list)
{
	uint32_t *first = lib_arena_alloc(a, sizeof(*first) * (nkeys + 2));
	*list = lib_arena_alloc(a, sizeof(**list) * (nitems + 1));
	for (uint32_t i = 0; i < nitems; i++)
		if (key[i] != EST_NONE)
			first[key[i] + 2]++;
	for (uint32_t k = 0; k < nkeys; k++)
		first[k + 2] += first[k + 1];
	for (uint32_t i = 0; i < nitems; i++)
		if (key[i] != EST_NONE)
			(*list)[first[key[i] + 1]++] = i;
	return first; /* first[k] .. first[k + 1] after the shift above */
}

static void
indexes(struct rt_net *n)
{
	const struct estate *e = n->e;
	uint32_t *key = lib_xcalloc(e->peerings.n + e->connections.n + 1, sizeof(*key));
	for (uint32_t k = 0; k < e->peerings.n; k++) {
		const struct est_vnet_peering *p = &e->peerings.v[k];
		key[k] = est_resolved(&p->from) && est_resolved(&p->to) ? p->from.i : EST_NONE;
	}
	n->peer_first = csr(&n->arena, e->vnets.n, e->peerings.n, key, &n->peer_list);
	for (uint32_t k = 0; k < e->connections.n; k++) {
		const struct est_connection *c = &e->connections.v[k];
		key[k] = est_resolved(&c->circuit) && est_resolved(&c->gateway) ? c->circuit.i
		                                                                : EST_NONE;
	}
	n->conn_first = csr(&n->arena, e->circuits.n, e->connections.n, key, &n->conn_list);
	for (uint32_t k = 0; k < e->connections.n; k++) {
		const struct est_connection *c = &e->connections.v[k];
		key[k] = est_resolved(&c->circuit) && est_resolved(&c->gateway)
		             ? rt_gw_index(n, c->gateway.i, c->gateway.j)
		             : EST_NONE;
	}
	n->gwconn_first = csr(&n->arena, n->ngws, e->connections.n, key, &n->gwconn_list);
	free(key);
}

uint32_t
rt_appliance_at(const struct rt_net *n, uint32_t vi, const struct ip_addr *ip)
{
	const struct estate *e = n->e;
	uint32_t peered = EST_NONE;
	for (uint32_t a = 0; a < e->appliances.n; a++) {
		const struct est_appliance *x = &e->appliances.v[a];
		if (!est_resolved(&x->subnet) || ip_addr_cmp(&x->ip, ip) != 0)
			continue;
		if (x->subnet.i == vi)
			return a;
		if (peered == EST_NONE && rt_peering(n, vi, x->subnet.i) &&
		    rt_peering(n, x->subnet.i, vi))
			peered = a;
	}
	return peered;
}

const struct est_vnet_peering *
rt_peering(const struct rt_net *n, uint32_t from, uint32_t to)
{
	const struct estate *e = n->e;
	for (uint32_t k = n->peer_first[from]; k < n->peer_first[from + 1]; k++)
		if (e->peerings.v[n->peer_list[k]].to.i == to)
			return &e->peerings.v[n->peer_list[k]];
	return NULL;
}

/* Step 3 (azure-facts 2.6). */
static void
gateways(struct rt_net *n, const struct fails *F)
{
	const struct estate *e = n->e;
	for (uint32_t v = 0; v < e->vnets.n; v++) {
		const struct est_vnet *vn = &e->vnets.v[v];
		bool rdown = est_resolved(&vn->region) && F->region[vn->region.i];
		for (uint32_t g = 0; g < vn->gateways.n; g++) {
			struct rt_gateway *gw = &n->gws[rt_gw_index(n, v, g)];
			gw->vnet = v;
			gw->idx = g;
			gw->up = !rdown && !F->gateway[rt_gw_index(n, v, g)];
		}
		int own = er_gateway(vn);
		n->serving_gw[v] = own >= 0 ? rt_gw_index(n, v, (uint32_t)own) : EST_NONE;
	}
	for (uint32_t k = 0; k < e->peerings.n; k++) {
		const struct est_vnet_peering *p = &e->peerings.v[k];
		if (!p->use_remote_gateways || !est_resolved(&p->from) || !est_resolved(&p->to))
			continue;
		uint32_t spoke = p->from.i, hub = p->to.i;
		if (er_gateway(&e->vnets.v[spoke]) >= 0 || n->serving_gw[spoke] != EST_NONE)
			continue; /* a VNet with its own gateway cannot use a remote one */
		const struct est_vnet_peering *back = rt_peering(n, hub, spoke);
		int hg = er_gateway(&e->vnets.v[hub]);
		if (back && back->allow_gateway_transit && hg >= 0)
			n->serving_gw[spoke] = rt_gw_index(n, hub, (uint32_t)hg);
	}
}

/* Step 4 (azure-facts 1.7): own and served spokes' spaces, summarised. */
static void
advertisements(struct rt_net *n)
{
	const struct estate *e = n->e;
	struct lib_vec *acc = lib_xcalloc(n->ngws + 1, sizeof(*acc));
	for (uint32_t g = 0; g < n->ngws; g++)
		lib_vec_init(&acc[g], sizeof(struct ip_prefix));
	for (uint32_t v = 0; v < e->vnets.n; v++) {
		uint32_t g = n->serving_gw[v];
		if (g == EST_NONE)
			continue;
		const struct est_vnet *vn = &e->vnets.v[v];
		const struct est_vnet *hub = &e->vnets.v[n->gws[g].vnet];
		for (uint32_t k = 0; k < vn->address_space.n; k++) {
			const struct ip_prefix *p = &vn->address_space.v[k];
			const struct ip_prefix *sum = NULL;
			for (uint32_t s = 0; v != n->gws[g].vnet && s < hub->summarized_prefixes.n;
			     s++)
				if (ip_prefix_contains(&hub->summarized_prefixes.v[s], p))
					sum = &hub->summarized_prefixes.v[s];
			*(struct ip_prefix *)lib_vec_push(&acc[g]) = sum ? *sum : *p;
		}
	}
	int64_t lim = est_limit(e, EST_LIM_VNET_PREFIXES_TO_CIRCUIT);
	for (uint32_t g = 0; g < n->ngws; g++) {
		struct ip_prefix *v = acc[g].v;
		uint32_t cnt = acc[g].n, out = 0;
		if (cnt > 1)
			qsort(v, cnt, sizeof(*v),
			      (int (*)(const void *, const void *))ip_prefix_cmp);
		for (uint32_t i = 0; i < cnt; i++)
			if (out == 0 || ip_prefix_cmp(&v[out - 1], &v[i]) != 0)
				v[out++] = v[i];
		acc[g].n = out;
		struct rt_gateway *gw = &n->gws[g];
		gw->advertised.n = out;
		gw->advertised.v = lib_vec_to_arena(&acc[g], &n->arena);
		gw->advertised_v4 = ip_count_af(gw->advertised.v, out, IP_V4);
		gw->over_limit = gw->advertised_v4 > (uint64_t)lim;
	}
	free(acc);
}

/* Step 5. */
static void
connections(struct rt_net *n, const struct fails *F)
{
	const struct estate *e = n->e;
	for (uint32_t k = 0; k < e->connections.n; k++) {
		const struct est_connection *c = &e->connections.v[k];
		struct rt_conn_state *s = &n->conns[k];
		if (!est_resolved(&c->gateway) || !est_resolved(&c->circuit)) {
			s->why_down = "unresolved";
			continue;
		}
		const struct rt_gateway *gw = &n->gws[rt_gw_index(n, c->gateway.i, c->gateway.j)];
		const struct est_gateway *eg = est_ref_gateway(e, &c->gateway);
		if (!c->enabled)
			s->why_down = "connection disabled";
		else if (F->conn[k])
			s->why_down = "connection failed";
		else if (eg->type != EST_GW_EXPRESSROUTE || !est_sku_is_expressroute(eg->sku))
			s->why_down = "not an ExpressRoute gateway";
		else if (!gw->up)
			s->why_down = "gateway down";
		else if (gw->over_limit)
			s->why_down = "VNet prefixes over the limit: connection down";
		else if (!n->circuits[c->circuit.i].usable)
			s->why_down = n->circuits[c->circuit.i].why_down;
		else if (!circuit_carries(n, c->circuit.i))
			s->why_down = n->circuits[c->circuit.i].why_down;
		else
			s->up = true;
	}
}

static uint32_t
site_prepend(const struct est_site *s, uint32_t circuit, uint32_t *local_pref)
{
	*local_pref = 100;
	for (uint32_t i = 0; i < s->policy.n; i++)
		if (est_resolved(&s->policy.v[i].circuit) && s->policy.v[i].circuit.i == circuit) {
			*local_pref = s->policy.v[i].local_pref;
			return s->policy.v[i].prepend;
		}
	return 0;
}

static uint8_t
links_up(const struct rt_net *n, uint32_t c)
{
	return (uint8_t)((n->circuits[c].link_up[0] ? 1 : 0) | (n->circuits[c].link_up[1] ? 2 : 0));
}

/* azure-facts 1.10: weight (higher wins), then AS-path length, then ECMP. */
static int
gw_pref(const struct rt_path *a, const struct rt_path *b)
{
	if (a->weight != b->weight)
		return a->weight > b->weight ? -1 : 1;
	if (a->aspath_len != b->aspath_len)
		return a->aspath_len < b->aspath_len ? -1 : 1;
	return 0;
}

/* Step 6: the RIB of gateway g from its up connections. */
static void
gateway_rib(struct rt_net *n, uint32_t g)
{
	const struct estate *e = n->e;
	struct lib_vec cands;
	lib_vec_init(&cands, sizeof(struct rt_cand));
	for (uint32_t x = n->gwconn_first[g]; x < n->gwconn_first[g + 1]; x++) {
		uint32_t k = n->gwconn_list[x];
		if (!n->conns[k].up)
			continue;
		const struct est_connection *c = &e->connections.v[k];
		uint32_t ci = c->circuit.i;
		const struct est_circuit *circ = &e->circuits.v[ci];
		if (est_resolved(&circ->site)) {
			const struct est_site *s = &e->sites.v[circ->site.i];
			uint32_t lp, pre = site_prepend(s, ci, &lp);
			for (uint32_t p = 0; p < s->prefixes.n; p++) {
				const struct ip_prefix *px = &s->prefixes.v[p];
				if (px->a.af == IP_V6 && n->circuits[ci].v6_over_limit)
					continue;
				struct rt_cand *cd = lib_vec_push(&cands);
				cd->p = *px;
				cd->path = (struct rt_path){
				    .circuit = ci,
				    .conn = k,
				    .weight = c->weight,
				    .aspath_len = (uint16_t)(1 + pre),
				    .links = links_up(n, ci),
				    .origin_asn = s->asn,
				    .origin_kind = EST_K_SITE,
				    .origin = circ->site.i,
				};
			}
		}
		/* VNet-to-VNet over the circuit: both gateways must allow it (1.4). */
		if (!est_ref_gateway(e, &c->gateway)->allow_vnet_transit)
			continue;
		for (uint32_t y = n->conn_first[ci]; y < n->conn_first[ci + 1]; y++) {
			uint32_t k2 = n->conn_list[y];
			const struct est_connection *c2 = &e->connections.v[k2];
			if (k2 == k || !n->conns[k2].up)
				continue;
			uint32_t g2 = rt_gw_index(n, c2->gateway.i, c2->gateway.j);
			if (g2 == g || !est_ref_gateway(e, &c2->gateway)->allow_vnet_transit)
				continue;
			for (uint32_t p = 0; p < n->gws[g2].advertised.n; p++) {
				struct rt_cand *cd = lib_vec_push(&cands);
				cd->p = n->gws[g2].advertised.v[p];
				cd->path = (struct rt_path){
				    .circuit = ci,
				    .conn = k,
				    .weight = c->weight,
				    .aspath_len = 1,
				    .links = links_up(n, ci),
				    .origin_asn = RT_ASN_GATEWAY,
				    .origin_kind = EST_K_VNET,
				    .origin = n->gws[g2].vnet,
				};
			}
		}
	}
	rt_rib_build(&n->arena, &cands, gw_pref, (uint32_t)est_limit(e, EST_LIM_ECMP_CIRCUITS),
	             &n->gws[g].learned, &n->fibs);
	n->rebuilt++;
}

/* azure-facts 1.10: on-premises picks by local preference, then AS path. */
static int
ce_pref(const struct rt_path *a, const struct rt_path *b)
{
	if (a->local_pref != b->local_pref)
		return a->local_pref > b->local_pref ? -1 : 1;
	if (a->aspath_len != b->aspath_len)
		return a->aspath_len < b->aspath_len ? -1 : 1;
	return 0;
}

static void
router_links(struct rt_net *n, uint32_t si, const struct est_router *r, struct rt_router *out)
{
	const struct estate *e = n->e;
	struct lib_vec v;
	lib_vec_init(&v, sizeof(struct rt_link));
	if (r) {
		for (uint32_t k = 0; k < r->links.n; k++)
			if (est_resolved(&r->links.v[k]))
				*(struct rt_link *)lib_vec_push(&v) =
				    (struct rt_link){r->links.v[k].i, (uint8_t)r->links.v[k].j};
	} else {
		for (uint32_t c = 0; c < e->circuits.n; c++)
			if (est_resolved(&e->circuits.v[c].site) && e->circuits.v[c].site.i == si)
				for (uint8_t side = 0; side < 2; side++)
					*(struct rt_link *)lib_vec_push(&v) =
					    (struct rt_link){c, side};
	}
	out->site = si;
	out->name = r ? r->name : "edge";
	out->links.n = v.n;
	out->links.v = lib_vec_to_arena(&v, &n->arena);
}

/* Adds the candidates a circuit brings to a router over the links in mask
 * (bit 0 primary, bit 1 secondary) that the router terminates. */
static void
router_learn(const struct rt_net *n, const struct est_site *site, uint32_t ci, uint8_t mask,
             struct lib_vec *cands)
{
	const struct estate *e = n->e;
	mask &= links_up(n, ci);
	if (!n->circuits[ci].usable || !mask)
		return;
	uint32_t lp;
	site_prepend(site, ci, &lp);
	for (uint32_t x = n->conn_first[ci]; x < n->conn_first[ci + 1]; x++) {
		uint32_t k = n->conn_list[x];
		const struct est_connection *c = &e->connections.v[k];
		if (!n->conns[k].up)
			continue;
		const struct rt_gateway *gw = &n->gws[rt_gw_index(n, c->gateway.i, c->gateway.j)];
		for (uint32_t p = 0; p < gw->advertised.n; p++) {
			struct rt_cand *cd = lib_vec_push(cands);
			cd->p = gw->advertised.v[p];
			cd->path = (struct rt_path){
			    .circuit = ci,
			    .conn = EST_NONE,
			    .local_pref = lp,
			    .aspath_len = 2, /* 12076 65515 */
			    .links = mask,
			    .origin_asn = RT_ASN_GATEWAY,
			    .origin_kind = EST_K_VNET,
			    .origin = gw->vnet,
			};
		}
	}
	/* Global Reach: the sites of directly linked circuits, not transitive (1.13). */
	for (uint32_t g = 0; g < e->global_reach.n; g++) {
		const struct est_global_reach *gr = &e->global_reach.v[g];
		if (gr->circuits.n != 2 || !est_resolved(&gr->circuits.v[0]) ||
		    !est_resolved(&gr->circuits.v[1]))
			continue;
		uint32_t a = gr->circuits.v[0].i, b = gr->circuits.v[1].i;
		uint32_t other = a == ci ? b : b == ci ? a : EST_NONE;
		if (other == EST_NONE || other == ci || !circuit_carries(n, other) ||
		    !est_resolved(&e->circuits.v[other].site))
			continue;
		const struct est_site *s2 = &e->sites.v[e->circuits.v[other].site.i];
		uint32_t lp2, pre2 = site_prepend(s2, other, &lp2);
		for (uint32_t p = 0; p < s2->prefixes.n; p++) {
			struct rt_cand *cd = lib_vec_push(cands);
			cd->p = s2->prefixes.v[p];
			cd->path = (struct rt_path){
			    .circuit = ci,
			    .conn = EST_NONE,
			    .local_pref = lp,
			    .aspath_len = (uint16_t)(2 + pre2), /* 12076 S2 [prepends] */
			    .links = mask,
			    .origin_asn = s2->asn,
			    .origin_kind = EST_K_SITE,
			    .origin = e->circuits.v[other].site.i,
			};
		}
	}
}

/* Step 7: the RIB of one edge router, one pass per circuit with the sides
 * it terminates. */
static void
router_rib(struct rt_net *n, struct rt_router *rt)
{
	const struct estate *e = n->e;
	const struct est_site *site = &e->sites.v[rt->site];
	struct lib_vec cands;
	lib_vec_init(&cands, sizeof(struct rt_cand));
	for (uint32_t l = 0; l < rt->links.n; l++) {
		uint32_t ci = rt->links.v[l].circuit;
		uint8_t mask = 0;
		bool seen = false;
		for (uint32_t k = 0; k < rt->links.n; k++) {
			if (rt->links.v[k].circuit != ci)
				continue;
			if (k < l)
				seen = true;
			mask |= (uint8_t)(1u << rt->links.v[k].side);
		}
		if (!seen)
			router_learn(n, site, ci, mask, &cands);
	}
	rt_rib_build(&n->arena, &cands, ce_pref, (uint32_t)est_limit(e, EST_LIM_ECMP_CIRCUITS),
	             &rt->learned, &n->fibs);
	n->rebuilt++;
}

static int
adv_cmp(const void *a, const void *b)
{
	const struct rt_cand *x = a, *y = b;
	int c = ip_prefix_cmp(&x->p, &y->p);
	if (c)
		return c;
	return x->path.aspath_len < y->path.aspath_len ? -1
	                                               : x->path.aspath_len > y->path.aspath_len;
}

size_t
rt_circuit_adv(const struct rt_net *n, uint32_t ci, int side, struct rt_adv **out)
{
	const struct estate *e = n->e;
	*out = NULL;
	if (ci >= e->circuits.n || !est_resolved(&e->circuits.v[ci].site))
		return 0;
	struct lib_vec cands;
	lib_vec_init(&cands, sizeof(struct rt_cand));
	router_learn(n, &e->sites.v[e->circuits.v[ci].site.i], ci, (uint8_t)(1u << side), &cands);
	struct rt_cand *c = cands.v;
	if (cands.n)
		qsort(c, cands.n, sizeof(*c), adv_cmp);
	struct rt_adv *v = cands.n ? lib_xcalloc(cands.n, sizeof(*v)) : NULL;
	size_t k = 0;
	for (size_t i = 0; i < cands.n; i++) {
		if (k && ip_prefix_cmp(&v[k - 1].p, &c[i].p) == 0)
			continue; /* the shortest path of a prefix two gateways advertise */
		bool gw = c[i].path.origin_kind == EST_K_VNET;
		v[k++] = (struct rt_adv){.p = c[i].p,
		                         .gateway = gw,
		                         .origin_asn = c[i].path.origin_asn,
		                         .prepend = (uint16_t)(c[i].path.aspath_len - 2),
		                         .region =
		                             gw ? e->vnets.v[c[i].path.origin].region.i : EST_NONE};
	}
	lib_vec_free(&cands);
	*out = v;
	return k;
}

static void
routers(struct rt_net *n)
{
	const struct estate *e = n->e;
	uint32_t total = 0;
	for (uint32_t s = 0; s < e->sites.n; s++)
		total += e->sites.v[s].routers.n ? e->sites.v[s].routers.n : 1;
	n->routers = lib_arena_alloc(&n->arena, sizeof(*n->routers) * (total + 1));
	for (uint32_t s = 0; s < e->sites.n; s++) {
		const struct est_site *site = &e->sites.v[s];
		uint32_t nr = site->routers.n ? site->routers.n : 1;
		for (uint32_t r = 0; r < nr; r++)
			router_links(n, s, site->routers.n ? &site->routers.v[r] : NULL,
			             &n->routers[n->nrouters++]);
	}
}

static struct rt_net *
net_alloc(const struct estate *e)
{
	struct rt_net *n = lib_xcalloc(1, sizeof(*n));
	n->e = e;
	lib_arena_init(&n->arena);
	lib_vec_init(&n->fibs, sizeof(struct lpm *));
	n->circuits = lib_arena_alloc(&n->arena, sizeof(*n->circuits) * (e->circuits.n + 1));
	n->conns = lib_arena_alloc(&n->arena, sizeof(*n->conns) * (e->connections.n + 1));
	n->gw_base = lib_arena_alloc(&n->arena, sizeof(*n->gw_base) * (e->vnets.n + 1));
	for (uint32_t v = 0; v < e->vnets.n; v++) {
		n->gw_base[v] = n->ngws;
		n->ngws += e->vnets.v[v].gateways.n;
	}
	n->gws = lib_arena_alloc(&n->arena, sizeof(*n->gws) * (n->ngws + 1));
	return n;
}

int
rt_build(const struct estate *e, const struct rt_fail *fails, size_t nfails, struct rt_net **out)
{
	struct rt_net *n = net_alloc(e);
	n->serving_gw = lib_arena_alloc(&n->arena, sizeof(*n->serving_gw) * (e->vnets.n + 1));
	indexes(n);
	struct fails F;
	apply_failures(n, fails, nfails, &F);
	n->region_down = F.region;
	circuits(n, &F);
	gateways(n, &F);
	advertisements(n);
	connections(n, &F);
	for (uint32_t g = 0; g < n->ngws; g++)
		gateway_rib(n, g);
	routers(n);
	for (uint32_t r = 0; r < n->nrouters; r++)
		router_rib(n, &n->routers[r]);
	*out = n;
	return 0;
}

/*
 * A what-if rebuilds only what the failures touch. A circuit is touched when
 * its state or that of one of its connections differs from the base; a
 * gateway when it went down or one of its connections is on a touched
 * circuit; an edge router when one of its links, or a Global Reach partner of
 * one, is on a touched circuit. Everything else (serving gateways,
 * advertisements, indexes, untouched RIBs) is shared with the base.
 */
int
rt_whatif(const struct rt_net *base, const struct rt_fail *fails, size_t nfails,
          struct rt_net **out)
{
	const struct estate *e = base->e;
	struct rt_net *n = net_alloc(e);
	n->base = base;
	n->serving_gw = base->serving_gw;
	n->peer_first = base->peer_first;
	n->peer_list = base->peer_list;
	n->conn_first = base->conn_first;
	n->conn_list = base->conn_list;
	n->gwconn_first = base->gwconn_first;
	n->gwconn_list = base->gwconn_list;
	struct fails F;
	apply_failures(n, fails, nfails, &F);
	n->region_down = F.region;
	circuits(n, &F);
	for (uint32_t g = 0; g < n->ngws; g++) {
		n->gws[g] = base->gws[g]; /* advertisements and RIB shared until rebuilt */
		n->gws[g].up =
		    !F.gateway[g] && !(est_resolved(&e->vnets.v[n->gws[g].vnet].region) &&
		                       F.region[e->vnets.v[n->gws[g].vnet].region.i]);
	}
	connections(n, &F);
	bool *tc = lib_xcalloc(e->circuits.n + 1, sizeof(*tc));
	for (uint32_t c = 0; c < e->circuits.n; c++) {
		const struct rt_circuit_state *a = &base->circuits[c], *b = &n->circuits[c];
		tc[c] = a->usable != b->usable || a->link_up[0] != b->link_up[0] ||
		        a->link_up[1] != b->link_up[1];
	}
	for (uint32_t k = 0; k < e->connections.n; k++)
		if (base->conns[k].up != n->conns[k].up &&
		    est_resolved(&e->connections.v[k].circuit))
			tc[e->connections.v[k].circuit.i] = true;
	for (uint32_t g = 0; g < n->ngws; g++) {
		bool touched = base->gws[g].up != n->gws[g].up;
		for (uint32_t x = n->gwconn_first[g]; x < n->gwconn_first[g + 1] && !touched; x++)
			touched = tc[e->connections.v[n->gwconn_list[x]].circuit.i];
		if (touched)
			gateway_rib(n, g);
	}
	n->routers = lib_arena_alloc(&n->arena, sizeof(*n->routers) * (base->nrouters + 1));
	n->nrouters = base->nrouters;
	for (uint32_t r = 0; r < n->nrouters; r++) {
		n->routers[r] = base->routers[r];
		bool touched = false;
		for (uint32_t l = 0; l < n->routers[r].links.n && !touched; l++) {
			uint32_t ci = n->routers[r].links.v[l].circuit;
			touched = tc[ci];
			for (uint32_t gr = 0; gr < e->global_reach.n && !touched; gr++) {
				const struct est_global_reach *x = &e->global_reach.v[gr];
				if (x->circuits.n != 2 || !est_resolved(&x->circuits.v[0]) ||
				    !est_resolved(&x->circuits.v[1]))
					continue;
				uint32_t a = x->circuits.v[0].i, b = x->circuits.v[1].i;
				touched = (a == ci && tc[b]) || (b == ci && tc[a]);
			}
		}
		if (touched)
			router_rib(n, &n->routers[r]);
	}
	free(tc);
	*out = n;
	return 0;
}

void
rt_free(struct rt_net *n)
{
	if (!n)
		return;
	struct lpm **f = n->fibs.v;
	for (uint32_t i = 0; i < n->fibs.n; i++) {
		lpm_free(f[i]);
		free(f[i]);
	}
	lib_vec_free(&n->fibs);
	lib_arena_free(&n->arena);
	free(n);
}

int
rt_fail_parse(const struct estate *e, const char *spec, struct rt_fail *out, char *err,
              size_t errlen)
{
	static const struct {
		const char *name;
		enum rt_fail_kind kind;
		enum est_kind est;
	} kinds[] = {
	    {"region", RT_FAIL_REGION, EST_K_REGION},
	    {"location", RT_FAIL_LOCATION, EST_K_LOCATION},
	    {"circuit", RT_FAIL_CIRCUIT, EST_K_CIRCUIT},
	    {"link", RT_FAIL_LINK, EST_K_CIRCUIT},
	    {"gateway", RT_FAIL_GATEWAY, EST_K_GATEWAY},
	    {"connection", RT_FAIL_CONNECTION, EST_K_CONNECTION},
	};
	const char *colon = strchr(spec, ':');
	size_t kl = colon ? (size_t)(colon - spec) : 0;
	for (size_t i = 0; colon && i < LIB_ARRAY_LEN(kinds); i++) {
		if (strlen(kinds[i].name) != kl || strncmp(spec, kinds[i].name, kl) != 0)
			continue;
		const char *name = colon + 1;
		char buf[128];
		out->kind = kinds[i].kind;
		out->j = 0;
		if (kinds[i].kind == RT_FAIL_LINK) {
			const char *slash = strrchr(name, '/');
			if (!slash || (size_t)(slash - name) >= sizeof(buf) ||
			    (strcmp(slash + 1, "primary") && strcmp(slash + 1, "secondary"))) {
				snprintf(err, errlen,
				         "expected link:CIRCUIT/primary or "
				         "link:CIRCUIT/secondary, got '%s'",
				         spec);
				return -EINVAL;
			}
			memcpy(buf, name, (size_t)(slash - name));
			buf[slash - name] = '\0';
			out->j = strcmp(slash + 1, "primary") == 0 ? 0 : 1;
			name = buf;
		}
		if (kinds[i].kind == RT_FAIL_GATEWAY) {
			uint32_t vi;
			const struct est_gateway *g = est_find_gateway(e, name, &vi);
			if (!g) {
				snprintf(err, errlen, "unknown gateway '%s'", name);
				return -ENOENT;
			}
			out->i = vi;
			out->j = (uint32_t)(g - e->vnets.v[vi].gateways.v);
			return 0;
		}
		out->i = est_find(e, kinds[i].est, name);
		if (out->i == EST_NONE) {
			snprintf(err, errlen, "unknown %s '%s'", est_kind_name(kinds[i].est), name);
			return -ENOENT;
		}
		return 0;
	}
	snprintf(err, errlen,
	         "expected KIND:NAME with KIND one of region, location, circuit, link, gateway, "
	         "connection; got '%s'",
	         spec);
	return -EINVAL;
}
