/*
 * chk_erlimit.c - ExpressRoute rules ER011-ER028: prefix and link limits,
 * Microsoft peering, routers and links, the provider, Global Reach subnets,
 * FastPath and gateway route counts. Same design as chk_circuit.c: pure
 * passes over the estate, limits from est_limit() and est_tables.c.
 */
#include "chk_er.h"

#include <stdlib.h>
#include <string.h>

/* ---- ER011: on-premises prefixes on private peering ---------------------- */

static void
er011(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->circuits.n; i++) {
		const struct est_circuit *ci = &e->circuits.v[i];
		const struct est_site *st = er_circ_site(e, ci);
		if (!st || !ci->private_peering)
			continue;
		bool prem = ci->tier == EST_TIER_PREMIUM;
		int64_t l4 = est_limit(e, prem ? EST_LIM_PRIVATE_V4_PREFIXES_PREMIUM
		                               : EST_LIM_PRIVATE_V4_PREFIXES);
		int64_t l6 = est_limit(e, EST_LIM_PRIVATE_V6_PREFIXES);
		uint32_t n4 = ip_count_af(st->prefixes.v, st->prefixes.n, IP_V4);
		uint32_t n6 = ip_count_af(st->prefixes.v, st->prefixes.n, IP_V6);
		if (n4 > l4)
			chk_report2(c, CHK_O(EST_K_CIRCUIT, ci), CHK_O(EST_K_SITE, st),
			            "circuit '%s' carries %s on-premises IPv4 prefixes from site "
			            "'%s', over the private-peering limit of %s (%s tier): the BGP "
			            "session drops until fewer are advertised",
			            ci->name, er_num(n4).s, st->name, er_num((uint64_t)l4).s,
			            est_tier_name(ci->tier));
		if (n6 > l6)
			chk_report2(c, CHK_O(EST_K_CIRCUIT, ci), CHK_O(EST_K_SITE, st),
			            "circuit '%s' carries %s on-premises IPv6 prefixes from site "
			            "'%s', over the private-peering limit of %s: the BGP session "
			            "drops until fewer are advertised",
			            ci->name, er_num(n6).s, st->name, er_num((uint64_t)l6).s);
	}
}

/* ---- ER012: Microsoft peering prefixes ----------------------------------- */

static void
er012(const struct estate *e, struct chk_ctx *c)
{
	int64_t lim = est_limit(e, EST_LIM_MICROSOFT_PREFIXES);
	for (uint32_t i = 0; i < e->circuits.n; i++) {
		const struct est_circuit *ci = &e->circuits.v[i];
		const struct est_peering_cfg *p = ci->microsoft_peering;
		if (!p)
			continue;
		static const uint8_t afs[2] = {IP_V4, IP_V6};
		for (int k = 0; k < 2; k++) {
			uint32_t n =
			    ip_count_af(p->advertised_prefixes.v, p->advertised_prefixes.n, afs[k]);
			if (n > lim)
				chk_report1(c, er_peer_obj(ci, p),
				            "circuit '%s' Microsoft peering advertises %s %s "
				            "prefixes, over the limit of %s per BGP session: the "
				            "session drops",
				            ci->name, er_num(n).s,
				            afs[k] == IP_V4 ? "IPv4" : "IPv6",
				            er_num((uint64_t)lim).s);
		}
	}
}

/* ---- ER013: VNet prefixes advertised to a circuit ----------------------- */

struct adv {
	uint32_t v4, v6, spokes;
};

/* A resolved VNet peering as (from, to, index), sortable by (from, to). */
struct vpeer {
	uint32_t from, to, i;
};

static int
vpeer_cmp(const void *a, const void *b)
{
	const struct vpeer *x = a, *y = b;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	return x->to < y->to ? -1 : x->to > y->to;
}

static struct vpeer *
peerings_sorted(const struct estate *e, uint32_t *n)
{
	struct vpeer *v = lib_xcalloc(e->peerings.n + 1, sizeof(*v));
	*n = 0;
	for (uint32_t i = 0; i < e->peerings.n; i++) {
		const struct est_vnet_peering *p = &e->peerings.v[i];
		if (est_resolved(&p->from) && est_resolved(&p->to))
			v[(*n)++] = (struct vpeer){p->from.i, p->to.i, i};
	}
	qsort(v, *n, sizeof(*v), vpeer_cmp);
	return v;
}

static const struct est_vnet_peering *
peering_find(const struct estate *e, const struct vpeer *v, uint32_t n, uint32_t from, uint32_t to)
{
	struct vpeer key = {from, to, 0};
	const struct vpeer *hit = bsearch(&key, v, n, sizeof(*v), vpeer_cmp);
	return hit ? &e->peerings.v[hit->i] : NULL;
}

/* Per VNet: the prefixes its gateway advertises to a circuit, its own address
 * space plus the spokes that use its gateway (use_remote_gateways on the
 * spoke, allow_gateway_transit on the hub's side), where spoke prefixes
 * covered by a summarized prefix of the hub count as that summary once
 * (azure-facts 1.7). Heap array of e->vnets.n entries. */
static struct adv *
advertised(const struct estate *e)
{
	struct adv *a = lib_xcalloc(e->vnets.n + 1, sizeof(*a));
	uint32_t *soff = lib_xcalloc(e->vnets.n + 1, sizeof(*soff));
	for (uint32_t v = 0; v < e->vnets.n; v++) {
		const struct est_vnet *vn = &e->vnets.v[v];
		a[v].v4 = ip_count_af(vn->address_space.v, vn->address_space.n, IP_V4);
		a[v].v6 = ip_count_af(vn->address_space.v, vn->address_space.n, IP_V6);
		soff[v + 1] = soff[v] + vn->summarized_prefixes.n;
	}
	bool *used = lib_xcalloc(soff[e->vnets.n] + 1, sizeof(*used));
	uint32_t n;
	struct vpeer *ix = peerings_sorted(e, &n);
	for (uint32_t k = 0; k < n; k++) {
		const struct est_vnet_peering *p = &e->peerings.v[ix[k].i];
		if (!p->use_remote_gateways || p->from.i == p->to.i)
			continue;
		const struct est_vnet_peering *r = peering_find(e, ix, n, p->to.i, p->from.i);
		if (!r || !r->allow_gateway_transit)
			continue;
		uint32_t hub = p->to.i;
		const struct est_vnet *hv = &e->vnets.v[hub], *sv = &e->vnets.v[p->from.i];
		a[hub].spokes++;
		for (uint32_t x = 0; x < sv->address_space.n; x++) {
			const struct ip_prefix *sp = &sv->address_space.v[x];
			uint32_t s = 0;
			for (; s < hv->summarized_prefixes.n; s++)
				if (ip_prefix_contains(&hv->summarized_prefixes.v[s], sp))
					break;
			if (s < hv->summarized_prefixes.n) {
				if (!used[soff[hub] + s]) {
					used[soff[hub] + s] = true;
					a[hub].v4 += sp->a.af == IP_V4;
					a[hub].v6 += sp->a.af == IP_V6;
				}
			} else {
				a[hub].v4 += sp->a.af == IP_V4;
				a[hub].v6 += sp->a.af == IP_V6;
			}
		}
	}
	free(ix);
	free(used);
	free(soff);
	return a;
}

static void
er013(const struct estate *e, struct chk_ctx *c)
{
	int64_t l4 = est_limit(e, EST_LIM_VNET_PREFIXES_TO_CIRCUIT);
	int64_t l6 = est_limit(e, EST_LIM_VNET_V6_PREFIXES_TO_CIRCUIT);
	struct adv *a = advertised(e);
	struct adv *sum = lib_xcalloc(e->circuits.n + 1, sizeof(*sum));
	uint32_t *nconn = lib_xcalloc(e->circuits.n + 1, sizeof(*nconn));
	for (uint32_t i = 0; i < e->connections.n; i++) {
		const struct est_connection *cn = &e->connections.v[i];
		if (!cn->enabled || !er_conn_circuit(e, cn) || !er_conn_vnet(e, cn))
			continue;
		struct adv *s = &sum[cn->circuit.i];
		const struct adv *h = &a[cn->gateway.i];
		s->v4 += h->v4;
		s->v6 += h->v6;
		s->spokes += h->spokes;
		nconn[cn->circuit.i]++;
	}
	for (uint32_t i = 0; i < e->circuits.n; i++) {
		const struct est_circuit *ci = &e->circuits.v[i];
		const struct adv *s = &sum[i];
		static const char *const fam[2] = {"IPv4", "IPv6"};
		uint32_t got[2] = {s->v4, s->v6};
		int64_t lim[2] = {l4, l6};
		for (int k = 0; k < 2; k++)
			if (got[k] > lim[k])
				chk_report1(
				    c, CHK_O(EST_K_CIRCUIT, ci),
				    "circuit '%s' is advertised %s %s VNet prefixes by %u "
				    "connection%s (gateway VNets and %s spoke%s using gateway "
				    "transit), over the limit of %s: the connections go down, "
				    "spokes included, until fewer are advertised",
				    ci->name, er_num(got[k]).s, fam[k], nconn[i],
				    er_plural(nconn[i]), er_num(s->spokes).s, er_plural(s->spokes),
				    er_num((uint64_t)lim[k]).s);
	}
	free(nconn);
	free(sum);
	free(a);
}

/* ---- ER014: VNet links per circuit --------------------------------------- */

static void
er014(const struct estate *e, struct chk_ctx *c)
{
	uint32_t *nc = lib_xcalloc(e->circuits.n + 1, sizeof(*nc));
	uint32_t *ng = lib_xcalloc(e->circuits.n + 1, sizeof(*ng));
	for (uint32_t i = 0; i < e->connections.n; i++)
		if (est_resolved(&e->connections.v[i].circuit))
			nc[e->connections.v[i].circuit.i]++;
	for (uint32_t g = 0; g < e->global_reach.n; g++) {
		const struct est_global_reach *gr = &e->global_reach.v[g];
		for (uint32_t k = 0; k < gr->circuits.n; k++)
			if (est_resolved(&gr->circuits.v[k]) &&
			    (k == 0 || gr->circuits.v[k].i != gr->circuits.v[0].i))
				ng[gr->circuits.v[k].i]++;
	}
	for (uint32_t i = 0; i < e->circuits.n; i++) {
		const struct est_circuit *ci = &e->circuits.v[i];
		uint32_t lim = est_circuit_link_limit(ci->bandwidth, ci->tier);
		if (nc[i] + ng[i] > lim)
			chk_report1(
			    c, CHK_O(EST_K_CIRCUIT, ci),
			    "circuit '%s' (%s, %s) has %u VNet links (%u connection%s, %u "
			    "Global Reach link%s), over the limit of %u for its size and tier",
			    ci->name, er_bw(ci->bandwidth).s, est_tier_name(ci->tier),
			    nc[i] + ng[i], nc[i], er_plural(nc[i]), ng[i], er_plural(ng[i]), lim);
	}
	free(ng);
	free(nc);
}

/* ---- ER015: circuit connections per gateway ------------------------------ */

/* gateway (vnet i, gateway j) -> flat index */
static uint32_t *
gateway_offsets(const struct estate *e)
{
	uint32_t *off = lib_xcalloc(e->vnets.n + 1, sizeof(*off));
	for (uint32_t v = 0; v < e->vnets.n; v++)
		off[v + 1] = off[v] + e->vnets.v[v].gateways.n;
	return off;
}

static void
er015(const struct estate *e, struct chk_ctx *c)
{
	uint32_t *off = gateway_offsets(e);
	uint32_t *n = lib_xcalloc(off[e->vnets.n] + 1, sizeof(*n));
	for (uint32_t i = 0; i < e->connections.n; i++) {
		const struct est_ref *g = &e->connections.v[i].gateway;
		if (est_resolved(g))
			n[off[g->i] + g->j]++;
	}
	for (uint32_t v = 0; v < e->vnets.n; v++) {
		const struct est_vnet *vn = &e->vnets.v[v];
		for (uint32_t j = 0; j < vn->gateways.n; j++) {
			const struct est_gateway *g = &vn->gateways.v[j];
			if (g->type != EST_GW_EXPRESSROUTE || !est_sku_is_expressroute(g->sku))
				continue;
			uint32_t have = n[off[v] + j], lim = est_gateway_connection_limit(g);
			if (have > lim)
				chk_report2(c, CHK_O(EST_K_GATEWAY, g), CHK_O(EST_K_VNET, vn),
				            "gateway '%s' (%s) in vnet '%s' has %u circuit "
				            "connections, over the %u its SKU supports",
				            g->name, est_sku_name(g->sku), vn->name, have, lim);
		}
	}
	free(n);
	free(off);
}

/* ---- ER016: bandwidth for the port --------------------------------------- */

static void
er016(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->circuits.n; i++) {
		const struct est_circuit *ci = &e->circuits.v[i];
		if (est_bandwidth_valid(ci->bandwidth, ci->port))
			continue;
		const char *offered = ci->port == EST_PORT_DIRECT_10G ? "1, 2, 5 or 10 Gbps on a "
		                                                        "10 Gbps Direct port"
		                      : ci->port == EST_PORT_DIRECT_100G
		                          ? "5, 10, 40 or 100 Gbps on a 100 Gbps Direct port"
		                          : "50, 100, 200 or 500 Mbps or 1, 2, 5 or 10 Gbps "
		                            "through a provider";
		chk_report1(c, CHK_O(EST_K_CIRCUIT, ci),
		            "circuit '%s' bandwidth %s is not offered: circuits are %s", ci->name,
		            er_bw(ci->bandwidth).s, offered);
	}
}

/* ---- ER017: Microsoft peering without a route filter --------------------- */

static void
er017(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->circuits.n; i++) {
		const struct est_circuit *ci = &e->circuits.v[i];
		const struct est_peering_cfg *p = ci->microsoft_peering;
		if (p && p->route_filter.n == 0)
			chk_report1(c, er_peer_obj(ci, p),
			            "circuit '%s' Microsoft peering has no route filter: Microsoft "
			            "advertises no prefixes over it until one is attached",
			            ci->name);
	}
}

/* ---- ER018: private addresses on Microsoft peering ----------------------- */

static const char *const private_ranges[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                             "100.64.0.0/10", "fc00::/7"};

static const char *
private_range(const struct ip_prefix *p)
{
	for (size_t k = 0; k < LIB_ARRAY_LEN(private_ranges); k++) {
		struct ip_prefix r;
		if (ip_prefix_parse(private_ranges[k], &r) == 0 && ip_prefix_overlaps(p, &r))
			return private_ranges[k];
	}
	return NULL;
}

static void
er018(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->circuits.n; i++) {
		const struct est_circuit *ci = &e->circuits.v[i];
		const struct est_peering_cfg *p = ci->microsoft_peering;
		if (!p)
			continue;
		for (uint32_t k = 0; k < p->advertised_prefixes.n; k++) {
			const char *r = private_range(&p->advertised_prefixes.v[k]);
			if (r)
				chk_report1(
				    c, er_peer_obj(ci, p),
				    "circuit '%s' Microsoft peering advertises private "
				    "prefix %s (in %s): Microsoft peering accepts only public "
				    "prefixes you own",
				    ci->name, er_pfx(&p->advertised_prefixes.v[k]).s, r);
		}
		const struct {
			const char *key;
			const struct ip_prefix *p;
		} sn[] = {{"subnet", &p->subnet},
		          {"primary", &p->primary},
		          {"secondary", &p->secondary},
		          {"ipv6_primary", &p->ipv6_primary},
		          {"ipv6_secondary", &p->ipv6_secondary}};
		for (size_t k = 0; k < LIB_ARRAY_LEN(sn); k++) {
			const char *r = er_is_set(sn[k].p) ? private_range(sn[k].p) : NULL;
			if (r)
				chk_report1(
				    c, er_peer_obj(ci, p),
				    "circuit '%s' Microsoft peering %s %s is private (in %s): "
				    "Microsoft peering needs public link addresses you own",
				    ci->name, sn[k].key, er_pfx(sn[k].p).s, r);
		}
	}
}

/* ---- ER019: which routers terminate a circuit's links -------------------- */

static bool
router_has_link(const struct est_router *r, uint32_t circ, uint32_t side)
{
	for (uint32_t k = 0; k < r->links.n; k++)
		if (est_resolved(&r->links.v[k]) && r->links.v[k].i == circ &&
		    r->links.v[k].j == side)
			return true;
	return false;
}

static void
er019(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->circuits.n; i++) {
		const struct est_circuit *ci = &e->circuits.v[i];
		const struct est_site *st = er_circ_site(e, ci);
		if (!st || st->routers.n == 0)
			continue;
		for (uint32_t side = 0; side < 2; side++) {
			uint32_t n = 0;
			struct lib_buf names = {0};
			for (uint32_t r = 0; r < st->routers.n; r++)
				if (router_has_link(&st->routers.v[r], i, side))
					lib_buf_printf(&names, "%s'%s'", n++ ? ", " : "",
					               st->routers.v[r].name);
			if (n == 0)
				chk_report2(c, CHK_O(EST_K_CIRCUIT, ci), CHK_O(EST_K_SITE, st),
				            "link '%s/%s' is terminated by no router of site '%s'",
				            ci->name, er_link_side(side), st->name);
			else if (n > 1)
				chk_report2(c, CHK_O(EST_K_CIRCUIT, ci), CHK_O(EST_K_SITE, st),
				            "link '%s/%s' is terminated by %u routers of site '%s' "
				            "(%s): a link ends on one router",
				            ci->name, er_link_side(side), n, st->name, names.s);
			lib_buf_free(&names);
		}
	}
	for (uint32_t s = 0; s < e->sites.n; s++) {
		const struct est_site *st = &e->sites.v[s];
		for (uint32_t r = 0; r < st->routers.n; r++) {
			const struct est_router *ro = &st->routers.v[r];
			for (uint32_t k = 0; k < ro->links.n; k++) {
				const struct est_ref *l = &ro->links.v[k];
				if (!est_resolved(l))
					continue;
				const struct est_circuit *ci = &e->circuits.v[l->i];
				const struct est_site *other = er_circ_site(e, ci);
				if (other && ci->site.i != s)
					chk_report2(
					    c, CHK_O(EST_K_ROUTER, ro), CHK_O(EST_K_CIRCUIT, ci),
					    "router '%s' of site '%s' terminates link '%s', "
					    "but circuit '%s' belongs to site '%s'",
					    ro->name, st->name, l->name, ci->name, other->name);
			}
		}
	}
}

/* ---- ER020: site policy and peer ASN consistency ------------------------- */

static void
er020(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t s = 0; s < e->sites.n; s++) {
		const struct est_site *st = &e->sites.v[s];
		for (uint32_t k = 0; k < st->policy.n; k++) {
			const struct est_site_policy *p = &st->policy.v[k];
			if (!est_resolved(&p->circuit))
				continue;
			const struct est_circuit *ci = &e->circuits.v[p->circuit.i];
			const struct est_site *other = er_circ_site(e, ci);
			if (other && ci->site.i != s)
				chk_report2(c, (struct chk_obj){EST_K_SITE, st->name, p->pos},
				            CHK_O(EST_K_CIRCUIT, ci),
				            "site '%s' sets a preference for circuit '%s', which "
				            "belongs to site '%s': the policy has no effect",
				            st->name, ci->name, other->name);
		}
	}
	for (uint32_t i = 0; i < e->circuits.n; i++) {
		const struct est_circuit *ci = &e->circuits.v[i];
		const struct est_site *st = er_circ_site(e, ci);
		if (st && ci->private_peering && ci->private_peering->peer_asn != st->asn)
			chk_report2(c, er_peer_obj(ci, ci->private_peering), CHK_O(EST_K_SITE, st),
			            "circuit '%s' private peering peer ASN %u differs from site "
			            "'%s' ASN %u",
			            ci->name, ci->private_peering->peer_asn, st->name, st->asn);
	}
}

/* ---- ER021: connection through a gateway that is not ExpressRoute -------- */

static void
er021(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->connections.n; i++) {
		const struct est_connection *cn = &e->connections.v[i];
		const struct est_gateway *g = est_ref_gateway(e, &cn->gateway);
		if (!g || (g->type == EST_GW_EXPRESSROUTE && est_sku_is_expressroute(g->sku)))
			continue;
		chk_report2(c, CHK_O(EST_K_CONNECTION, cn), CHK_O(EST_K_GATEWAY, g),
		            "connection '%s' uses gateway '%s' (%s, %s): only an ExpressRoute "
		            "gateway connects a circuit",
		            cn->name, g->name, g->type == EST_GW_VPN ? "vpn" : "expressroute",
		            est_sku_name(g->sku));
	}
}

/* ---- ER022: Microsoft peering prefixes not validated --------------------- */

static void
er022(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->circuits.n; i++) {
		const struct est_circuit *ci = &e->circuits.v[i];
		const struct est_peering_cfg *p = ci->microsoft_peering;
		if (p && p->advertised_state != EST_PFX_CONFIGURED)
			chk_report1(
			    c, er_peer_obj(ci, p),
			    "circuit '%s' Microsoft peering advertised prefixes are %s, not "
			    "configured: the BGP session is not enabled until they are "
			    "validated",
			    ci->name,
			    p->advertised_state == EST_PFX_VALIDATION_NEEDED
			        ? "validation_needed"
			        : "awaiting manual validation");
	}
}

/* ---- ER023: Local tier where it is not offered --------------------------- */

static void
er023(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->circuits.n; i++) {
		const struct est_circuit *ci = &e->circuits.v[i];
		const struct est_location *l = er_circ_location(e, ci);
		if (l && ci->tier == EST_TIER_LOCAL && !l->local_tier)
			chk_report2(
			    c, CHK_O(EST_K_CIRCUIT, ci), CHK_O(EST_K_LOCATION, l),
			    "circuit '%s' is on the local tier, which peering location '%s' "
			    "does not offer",
			    ci->name, l->name);
	}
}

/* ---- ER024: provider does not serve the peering location ----------------- */

static void
er024(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->circuits.n; i++) {
		const struct est_circuit *ci = &e->circuits.v[i];
		const struct est_location *l = er_circ_location(e, ci);
		if (!l || !est_resolved(&ci->provider))
			continue;
		const struct est_provider *pv = &e->providers.v[ci->provider.i];
		if (pv->locations.n == 0)
			continue;
		bool ok = false;
		for (uint32_t k = 0; k < pv->locations.n; k++)
			ok |= est_resolved(&pv->locations.v[k]) &&
			      pv->locations.v[k].i == ci->location.i;
		if (!ok)
			chk_reportf(c,
			            (struct chk_obj[]){CHK_O(EST_K_CIRCUIT, ci),
			                               CHK_O(EST_K_PROVIDER, pv),
			                               CHK_O(EST_K_LOCATION, l)},
			            3,
			            "circuit '%s' is at peering location '%s', which its provider "
			            "'%s' does not serve",
			            ci->name, l->name, pv->name);
	}
}

/* ---- ER025: Global Reach subnet ------------------------------------------ */

static void
er025(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t g = 0; g < e->global_reach.n; g++) {
		const struct est_global_reach *gr = &e->global_reach.v[g];
		const struct ip_prefix *p = &gr->subnet;
		struct chk_obj o = CHK_O(EST_K_GLOBAL_REACH, gr);
		if (!er_is_set(p)) {
			chk_report1(
			    c, o,
			    "Global Reach '%s' has no subnet: it needs a dedicated IPv4 /29 "
			    "used by neither VNets nor on-premises",
			    gr->name);
			continue;
		}
		if (p->a.af != IP_V4 || p->len != 29)
			chk_report1(c, o, "Global Reach '%s' subnet %s is not an IPv4 /29",
			            gr->name, er_pfx(p).s);
		for (uint32_t v = 0; v < e->vnets.n; v++) {
			const struct est_vnet *vn = &e->vnets.v[v];
			for (uint32_t k = 0; k < vn->address_space.n; k++)
				if (ip_prefix_overlaps(p, &vn->address_space.v[k])) {
					chk_report2(
					    c, o, CHK_O(EST_K_VNET, vn),
					    "Global Reach '%s' subnet %s overlaps vnet '%s' "
					    "address space %s",
					    gr->name, er_pfx(p).s, vn->name,
					    er_pfx(&vn->address_space.v[k]).s);
					break;
				}
		}
		for (uint32_t s = 0; s < e->sites.n; s++) {
			const struct est_site *st = &e->sites.v[s];
			for (uint32_t k = 0; k < st->prefixes.n; k++)
				if (ip_prefix_overlaps(p, &st->prefixes.v[k])) {
					chk_report2(
					    c, o, CHK_O(EST_K_SITE, st),
					    "Global Reach '%s' subnet %s overlaps site '%s' "
					    "prefix %s",
					    gr->name, er_pfx(p).s, st->name,
					    er_pfx(&st->prefixes.v[k]).s);
					break;
				}
		}
	}
}

/* ---- ER026: both links of a circuit on one router ------------------------ */

static void
er026(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t s = 0; s < e->sites.n; s++) {
		const struct est_site *st = &e->sites.v[s];
		for (uint32_t r = 0; r < st->routers.n; r++) {
			const struct est_router *ro = &st->routers.v[r];
			for (uint32_t k = 0; k < ro->links.n; k++) {
				const struct est_ref *l = &ro->links.v[k];
				if (!est_resolved(l) || l->j != EST_LINK_PRIMARY ||
				    !router_has_link(ro, l->i, EST_LINK_SECONDARY))
					continue;
				const struct est_circuit *ci = &e->circuits.v[l->i];
				chk_report2(
				    c, CHK_O(EST_K_ROUTER, ro), CHK_O(EST_K_CIRCUIT, ci),
				    "router '%s' of site '%s' terminates both links of "
				    "circuit '%s': one router failure takes the circuit down",
				    ro->name, st->name, ci->name);
			}
		}
	}
}

/* ---- ER027: FastPath on a gateway SKU without it ------------------------- */

static bool
fastpath_sku(const struct est_gateway *g)
{
	if (g->sku == EST_SKU_ULTRA_PERFORMANCE || g->sku == EST_SKU_ERGW3AZ)
		return true;
	if (g->sku == EST_SKU_ERGWSCALE)
		return (g->max_scale_units ? g->max_scale_units : g->min_scale_units) >= 10;
	return false;
}

static void
er027(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t v = 0; v < e->vnets.n; v++) {
		const struct est_vnet *vn = &e->vnets.v[v];
		for (uint32_t j = 0; j < vn->gateways.n; j++) {
			const struct est_gateway *g = &vn->gateways.v[j];
			if (g->type == EST_GW_EXPRESSROUTE && g->fastpath && !fastpath_sku(g))
				chk_report1(
				    c, CHK_O(EST_K_GATEWAY, g),
				    "gateway '%s' enables FastPath on SKU %s, which does not "
				    "support it (UltraPerformance, ErGw3AZ or ErGwScale with "
				    "10 or more scale units): traffic still goes through the "
				    "gateway",
				    g->name, est_sku_name(g->sku));
		}
	}
}

/* ---- ER028: routes an ExpressRoute gateway handles ----------------------- */

struct pair {
	uint32_t a, b;
};

static int
pair_cmp(const void *x, const void *y)
{
	const struct pair *p = x, *q = y;
	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	return p->b < q->b ? -1 : p->b > q->b;
}

/* Sorted unique pairs; returns the count. */
static uint32_t
pairs_unique(struct pair *v, uint32_t n)
{
	qsort(v, n, sizeof(*v), pair_cmp);
	uint32_t m = 0;
	for (uint32_t i = 0; i < n; i++)
		if (m == 0 || pair_cmp(&v[m - 1], &v[i]) != 0)
			v[m++] = v[i];
	return m;
}

static void
er028(const struct estate *e, struct chk_ctx *c)
{
	int64_t lim = est_limit(e, EST_LIM_GATEWAY_ROUTES);
	uint32_t *off = gateway_offsets(e);
	uint32_t ng = off[e->vnets.n];
	uint64_t *vnet_routes = lib_xcalloc(e->vnets.n + 1, sizeof(*vnet_routes));
	uint64_t *onprem = lib_xcalloc(ng + 1, sizeof(*onprem));
	uint32_t *nsites = lib_xcalloc(ng + 1, sizeof(*nsites));

	/* VNet prefixes: own address space plus every VNet peered with it. */
	struct pair *pv = lib_xcalloc(2 * (size_t)e->peerings.n + 1, sizeof(*pv));
	uint32_t np = 0;
	for (uint32_t i = 0; i < e->peerings.n; i++) {
		const struct est_vnet_peering *p = &e->peerings.v[i];
		if (!est_resolved(&p->from) || !est_resolved(&p->to) || p->from.i == p->to.i)
			continue;
		pv[np++] = (struct pair){p->from.i, p->to.i};
		pv[np++] = (struct pair){p->to.i, p->from.i};
	}
	np = pairs_unique(pv, np);
	for (uint32_t v = 0; v < e->vnets.n; v++)
		vnet_routes[v] = e->vnets.v[v].address_space.n;
	for (uint32_t i = 0; i < np; i++)
		vnet_routes[pv[i].a] += e->vnets.v[pv[i].b].address_space.n;

	/* On-premises prefixes: each distinct site behind the gateway's circuits. */
	struct pair *gs = lib_xcalloc(e->connections.n + 1, sizeof(*gs));
	uint32_t ngs = 0;
	for (uint32_t i = 0; i < e->connections.n; i++) {
		const struct est_connection *cn = &e->connections.v[i];
		const struct est_circuit *ci = er_conn_circuit(e, cn);
		if (!ci || !est_resolved(&cn->gateway) || !er_circ_site(e, ci))
			continue;
		gs[ngs++] = (struct pair){off[cn->gateway.i] + cn->gateway.j, ci->site.i};
	}
	ngs = pairs_unique(gs, ngs);
	for (uint32_t i = 0; i < ngs; i++) {
		onprem[gs[i].a] += e->sites.v[gs[i].b].prefixes.n;
		nsites[gs[i].a]++;
	}

	for (uint32_t v = 0; v < e->vnets.n; v++) {
		const struct est_vnet *vn = &e->vnets.v[v];
		for (uint32_t j = 0; j < vn->gateways.n; j++) {
			const struct est_gateway *g = &vn->gateways.v[j];
			uint32_t f = off[v] + j;
			if (g->type != EST_GW_EXPRESSROUTE || nsites[f] == 0)
				continue;
			uint64_t total = vnet_routes[v] + onprem[f];
			if (total > (uint64_t)lim)
				chk_report2(c, CHK_O(EST_K_GATEWAY, g), CHK_O(EST_K_VNET, vn),
				            "gateway '%s' handles %s routes (%s VNet prefixes of "
				            "'%s' and its peers, %s on-premises prefixes from %u "
				            "site%s), over the limit of %s (gateway_routes)",
				            g->name, er_num(total).s, er_num(vnet_routes[v]).s,
				            vn->name, er_num(onprem[f]).s, nsites[f],
				            er_plural(nsites[f]), er_num((uint64_t)lim).s);
		}
	}
	free(gs);
	free(pv);
	free(nsites);
	free(onprem);
	free(vnet_routes);
	free(off);
}

/* ---- the table ----------------------------------------------------------- */

static const struct chk_rule rules[] = {
    {"ER011", LIB_SEV_ERROR, "Too many on-premises prefixes on private peering",
     "azure-facts 1.5, 1.7",
     "summarize the site's prefixes at the edge, or move the circuit to premium (10,000 IPv4)",
     er011},
    {"ER012", LIB_SEV_ERROR, "Too many prefixes on Microsoft peering", "azure-facts 1.5, 1.7",
     "summarize the public prefixes advertised over Microsoft peering", er012},
    {"ER013", LIB_SEV_ERROR, "Too many VNet prefixes advertised to a circuit", "azure-facts 1.7",
     "summarize spoke prefixes with summarized_prefixes on the hub, or merge address spaces",
     er013},
    {"ER014", LIB_SEV_ERROR, "Too many VNet links on a circuit", "azure-facts 1.4",
     "move the circuit to premium or a larger size, or link fewer VNets (peer them to a hub)",
     er014},
    {"ER015", LIB_SEV_ERROR, "Too many circuit connections on a gateway", "azure-facts 1.8",
     "upgrade the gateway SKU (or add scale units) or connect fewer circuits", er015},
    {"ER016", LIB_SEV_ERROR, "Bandwidth not offered for the port", "azure-facts 1.1",
     "pick one of the bandwidths offered for the circuit's port", er016},
    {"ER017", LIB_SEV_WARNING, "Microsoft peering without a route filter", "azure-facts 1.5",
     "attach a route filter with the service communities you need", er017},
    {"ER018", LIB_SEV_ERROR, "Private addresses on Microsoft peering", "azure-facts 1.5, 1.6",
     "use public prefixes and link subnets you own on Microsoft peering", er018},
    {"ER019", LIB_SEV_WARNING, "Circuit link not terminated by exactly one router of its site",
     "azure-facts 1.1, 1.6",
     "list each link CIRCUIT/primary and CIRCUIT/secondary under exactly one router of the "
     "circuit's own site",
     er019},
    {"ER020", LIB_SEV_WARNING, "Site policy or peer ASN inconsistent with the site",
     "azure-facts 1.6, 1.10",
     "set preferences only for the site's own circuits, and use the site's ASN as the private "
     "peering peer ASN",
     er020},
    {"ER021", LIB_SEV_ERROR, "Connection through a gateway that is not ExpressRoute",
     "azure-facts 1.8", "connect circuits through an ExpressRoute gateway (ErGw1AZ and up)", er021},
    {"ER022", LIB_SEV_ERROR, "Microsoft peering prefixes not validated", "azure-facts 1.3",
     "complete the validation of the advertised public prefixes (state configured)", er022},
    {"ER023", LIB_SEV_ERROR, "Local tier where the location does not offer it", "azure-facts 1.2",
     "use the standard tier, or a location that offers Local", er023},
    {"ER024", LIB_SEV_ERROR, "Provider does not serve the circuit's peering location",
     "azure-facts 1.1", "pick a provider that serves the location, or another location", er024},
    {"ER025", LIB_SEV_ERROR, "Global Reach subnet missing, wrong size or in use",
     "azure-facts 1.13", "give each Global Reach link a dedicated /29 used nowhere else", er025},
    {"ER026", LIB_SEV_WARNING, "Both links of a circuit on one router", "azure-facts 1.1, 1.6",
     "terminate the primary and secondary links on two different edge routers", er026},
    {"ER027", LIB_SEV_WARNING, "FastPath on a gateway SKU without it", "azure-facts 1.11",
     "use UltraPerformance, ErGw3AZ or ErGwScale with 10+ scale units for FastPath", er027},
    {"ER028", LIB_SEV_ERROR, "Too many routes on an ExpressRoute gateway", "azure-facts 1.7",
     "summarize on-premises and VNet prefixes, or split the VNets over several gateways", er028},
};

CHK_SEGMENT(chk_seg_erlimit, rules);
