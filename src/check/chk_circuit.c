/*
 * chk_circuit.c - ExpressRoute rules ER001-ER010: circuits, peerings, ASNs,
 * SKU reach, Global Reach. Limits and the rest are in chk_erlimit.c.
 *
 * Design: every rule is a pure pass over the estate; rules that aggregate
 * (per VNet, per circuit, per gateway) build small heap tallies indexed like
 * the estate's arrays and free them before returning, so each rule stays
 * O(objects) or O(n log n) on large generated estates. Every numeric limit
 * comes from est_limit() (so `limits:` overrides apply) or from the platform
 * tables of est_tables.c. Messages name the objects and the numbers; the
 * first object of a finding is where output points.
 */
#include "chk_er.h"

#include <stdlib.h>
#include <string.h>

/* ---- ER001 -------------------------------------------------------------- */

/* ER001: two VNets with overlapping address space on one circuit (seeds:
 * "You can't connect two VNets with overlapping IP address space to the same
 * ExpressRoute circuit"). */
static void
er001(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t a = 0; a < e->connections.n; a++) {
		const struct est_connection *ca = &e->connections.v[a];
		if (!est_resolved(&ca->gateway) || !est_resolved(&ca->circuit))
			continue;
		for (uint32_t b = a + 1; b < e->connections.n; b++) {
			const struct est_connection *cb = &e->connections.v[b];
			if (!est_resolved(&cb->gateway) || !est_resolved(&cb->circuit) ||
			    ca->circuit.i != cb->circuit.i || ca->gateway.i == cb->gateway.i)
				continue;
			const struct est_vnet *va = &e->vnets.v[ca->gateway.i];
			const struct est_vnet *vb = &e->vnets.v[cb->gateway.i];
			for (uint32_t x = 0; x < va->address_space.n; x++)
				for (uint32_t y = 0; y < vb->address_space.n; y++) {
					if (!ip_prefix_overlaps(&va->address_space.v[x],
					                        &vb->address_space.v[y]))
						continue;
					char pa[IP_STRLEN], pb[IP_STRLEN];
					chk_report2(
					    c, CHK_O(EST_K_VNET, va), CHK_O(EST_K_VNET, vb),
					    "vnet '%s' address space %s overlaps vnet '%s' "
					    "(%s), both connected to circuit '%s'",
					    va->name, ip_prefix_fmt(&va->address_space.v[x], pa),
					    vb->name, ip_prefix_fmt(&vb->address_space.v[y], pb),
					    e->circuits.v[ca->circuit.i].name);
				}
		}
	}
}

/* ---- ER002: circuits per peering location per VNet ---------------------- */

struct vlc {
	uint32_t vnet, loc, circ;
};

static int
vlc_cmp(const void *a, const void *b)
{
	const struct vlc *x = a, *y = b;
	if (x->vnet != y->vnet)
		return x->vnet < y->vnet ? -1 : 1;
	if (x->loc != y->loc)
		return x->loc < y->loc ? -1 : 1;
	return x->circ < y->circ ? -1 : x->circ > y->circ;
}

static void
er002(const struct estate *e, struct chk_ctx *c)
{
	int64_t lim = est_limit(e, EST_LIM_CIRCUITS_PER_LOCATION_PER_VNET);
	struct vlc *t = lib_xcalloc(e->connections.n + 1, sizeof(*t));
	uint32_t n = 0;
	for (uint32_t i = 0; i < e->connections.n; i++) {
		const struct est_connection *cn = &e->connections.v[i];
		const struct est_circuit *ci = er_conn_circuit(e, cn);
		if (!ci || !er_conn_vnet(e, cn) || !er_circ_location(e, ci))
			continue;
		t[n++] = (struct vlc){cn->gateway.i, ci->location.i, cn->circuit.i};
	}
	qsort(t, n, sizeof(*t), vlc_cmp);
	for (uint32_t i = 0; i < n;) {
		uint32_t j = i, distinct = 0;
		for (; j < n && t[j].vnet == t[i].vnet && t[j].loc == t[i].loc; j++)
			distinct += j == i || t[j].circ != t[j - 1].circ;
		if (distinct > (uint64_t)lim) {
			const struct est_vnet *v = &e->vnets.v[t[i].vnet];
			const struct est_location *l = &e->locations.v[t[i].loc];
			struct chk_obj o[CHK_MAX_OBJS] = {CHK_O(EST_K_VNET, v),
			                                  CHK_O(EST_K_LOCATION, l)};
			uint32_t no = 2;
			struct lib_buf names = {0};
			for (uint32_t k = i; k < j; k++) {
				if (k > i && t[k].circ == t[k - 1].circ)
					continue;
				const struct est_circuit *ci = &e->circuits.v[t[k].circ];
				lib_buf_printf(&names, "%s'%s'", k > i ? ", " : "", ci->name);
				if (no < CHK_MAX_OBJS)
					o[no++] = CHK_O(EST_K_CIRCUIT, ci);
			}
			chk_reportf(
			    c, o, no,
			    "vnet '%s' is connected to %u circuits at peering location '%s' "
			    "(%s), over the limit of %s per location "
			    "(circuits_per_location_per_vnet)",
			    v->name, distinct, l->name, names.s, er_num((uint64_t)lim).s);
			lib_buf_free(&names);
		}
		i = j;
	}
	free(t);
}

/* ---- ER003: all of a site's circuits at one peering location ------------ */

static void
er003(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t s = 0; s < e->sites.n; s++) {
		const struct est_site *st = &e->sites.v[s];
		uint32_t n = 0, loc = EST_NONE;
		bool mixed = false;
		struct lib_buf names = {0};
		const struct est_circuit *first = NULL;
		for (uint32_t i = 0; i < e->circuits.n; i++) {
			const struct est_circuit *ci = &e->circuits.v[i];
			if (!est_resolved(&ci->site) || ci->site.i != s || !er_circ_location(e, ci))
				continue;
			if (n == 0) {
				loc = ci->location.i;
				first = ci;
			} else if (ci->location.i != loc) {
				mixed = true;
			}
			lib_buf_printf(&names, "%s'%s'", n ? ", " : "", ci->name);
			n++;
		}
		if (n > 0 && !mixed) {
			const struct est_location *l = &e->locations.v[loc];
			if (n == 1)
				chk_report2(
				    c, CHK_O(EST_K_SITE, st), CHK_O(EST_K_LOCATION, l),
				    "site '%s' has a single circuit %s, at peering location "
				    "'%s': an outage of that location cuts the site off",
				    st->name, names.s, l->name);
			else
				chk_reportf(
				    c,
				    (struct chk_obj[]){CHK_O(EST_K_SITE, st),
				                       CHK_O(EST_K_LOCATION, l),
				                       CHK_O(EST_K_CIRCUIT, first)},
				    3,
				    "all %u circuits of site '%s' (%s) are at peering location "
				    "'%s': a location outage takes them all",
				    n, st->name, names.s, l->name);
		}
		lib_buf_free(&names);
	}
}

/* ---- ER004: SKU reach ---------------------------------------------------- */

static void
er004(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->connections.n; i++) {
		const struct est_connection *cn = &e->connections.v[i];
		const struct est_circuit *ci = er_conn_circuit(e, cn);
		const struct est_vnet *v = er_conn_vnet(e, cn);
		const struct est_location *l = ci ? er_circ_location(e, ci) : NULL;
		if (!v || !l || !est_resolved(&v->region))
			continue;
		const struct est_region *r = &e->regions.v[v->region.i];
		struct chk_obj o[3] = {CHK_O(EST_K_CONNECTION, cn), CHK_O(EST_K_CIRCUIT, ci),
		                       CHK_O(EST_K_VNET, v)};
		if (ci->tier == EST_TIER_LOCAL) {
			bool ok = false;
			struct lib_buf lr = {0};
			for (uint32_t k = 0; k < l->local_regions.n; k++) {
				const struct est_ref *rr = &l->local_regions.v[k];
				ok |= est_resolved(rr) && rr->i == v->region.i;
				lib_buf_printf(&lr, "%s'%s'", k ? ", " : "", er_nm(rr->name));
			}
			if (!ok)
				chk_reportf(
				    c, o, 3,
				    "connection '%s' links vnet '%s' in region '%s' to local "
				    "circuit '%s' at '%s', which reaches only its local regions "
				    "(%s)",
				    cn->name, v->name, r->name, ci->name, l->name,
				    lr.s ? lr.s : "none");
			lib_buf_free(&lr);
		} else if (ci->tier == EST_TIER_STANDARD) {
			if (strcmp(er_nm(r->geo), er_nm(l->geo)) != 0)
				chk_reportf(
				    c, o, 3,
				    "connection '%s' links vnet '%s' in region '%s' (geo '%s') "
				    "to standard circuit '%s' at '%s' (geo '%s'): a standard "
				    "circuit reaches only its own geopolitical region",
				    cn->name, v->name, r->name, er_nm(r->geo), ci->name, l->name,
				    er_nm(l->geo));
		} else if (r->national) {
			chk_reportf(c, o, 3,
			            "connection '%s' links vnet '%s' in national-cloud region '%s' "
			            "to premium circuit '%s': no commercial circuit reaches a "
			            "national cloud",
			            cn->name, v->name, r->name, ci->name);
		}
	}
}

/* ---- ER005: Global Reach ------------------------------------------------- */

static void
er005(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t g = 0; g < e->global_reach.n; g++) {
		const struct est_global_reach *gr = &e->global_reach.v[g];
		if (gr->circuits.n != 2 || !est_resolved(&gr->circuits.v[0]) ||
		    !est_resolved(&gr->circuits.v[1]))
			continue;
		const struct est_circuit *ca = &e->circuits.v[gr->circuits.v[0].i];
		const struct est_circuit *cb = &e->circuits.v[gr->circuits.v[1].i];
		const struct est_circuit *both[2] = {ca, cb};
		struct chk_obj o[3] = {CHK_O(EST_K_GLOBAL_REACH, gr), CHK_O(EST_K_CIRCUIT, ca),
		                       CHK_O(EST_K_CIRCUIT, cb)};
		const struct est_location *la = er_circ_location(e, ca),
		                          *lb = er_circ_location(e, cb);
		if (la && lb && ca->location.i == cb->location.i)
			chk_reportf(
			    c, o, 3,
			    "Global Reach '%s' links circuits '%s' and '%s', both at peering "
			    "location '%s': Global Reach needs two different peering "
			    "locations",
			    gr->name, ca->name, cb->name, la->name);
		for (int k = 0; k < 2; k++)
			if (both[k]->tier == EST_TIER_LOCAL)
				chk_report2(c, CHK_O(EST_K_GLOBAL_REACH, gr),
				            CHK_O(EST_K_CIRCUIT, both[k]),
				            "Global Reach '%s': circuit '%s' is on the local tier, "
				            "which does not offer Global Reach",
				            gr->name, both[k]->name);
		if (la && lb && strcmp(er_nm(la->geo), er_nm(lb->geo)) != 0 &&
		    (ca->tier != EST_TIER_PREMIUM || cb->tier != EST_TIER_PREMIUM))
			chk_reportf(c, o, 3,
			            "Global Reach '%s' links circuit '%s' (%s, geo '%s') and '%s' "
			            "(%s, geo '%s') across geopolitical regions: both need the "
			            "premium tier",
			            gr->name, ca->name, est_tier_name(ca->tier), er_nm(la->geo),
			            cb->name, est_tier_name(cb->tier), er_nm(lb->geo));
		for (int k = 0; k < 2; k++)
			if (!both[k]->private_peering)
				chk_report2(
				    c, CHK_O(EST_K_GLOBAL_REACH, gr), CHK_O(EST_K_CIRCUIT, both[k]),
				    "Global Reach '%s': circuit '%s' has no private peering, "
				    "which Global Reach links",
				    gr->name, both[k]->name);
	}
}

/* ---- ER006: public peering ---------------------------------------------- */

static void
er006(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->circuits.n; i++) {
		const struct est_circuit *ci = &e->circuits.v[i];
		if (ci->public_peering)
			chk_report1(
			    c, er_peer_obj(ci, ci->public_peering),
			    "circuit '%s' has Azure public peering, deprecated and retired on "
			    "31 March 2024",
			    ci->name);
	}
}

/* ---- ER007: connection on an unusable circuit ---------------------------- */

static const char *const pstate_names[] = {"not_provisioned", "provisioning", "provisioned",
                                           "deprovisioning"};

static void
er007(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->connections.n; i++) {
		const struct est_connection *cn = &e->connections.v[i];
		const struct est_circuit *ci = er_conn_circuit(e, cn);
		if (!ci)
			continue;
		struct lib_buf why = {0};
		if (ci->provider_state != EST_PS_PROVISIONED)
			lib_buf_printf(&why, "its provider state is %s, not provisioned",
			               ci->provider_state >= 0 && (size_t)ci->provider_state <
			                                              LIB_ARRAY_LEN(pstate_names)
			                   ? pstate_names[ci->provider_state]
			                   : "?");
		if (ci->state == EST_CS_DISABLED)
			lib_buf_printf(&why, "%sit is disabled", why.s ? "; " : "");
		if (!ci->private_peering)
			lib_buf_printf(&why, "%sit has no private peering", why.s ? "; " : "");
		if (why.s)
			chk_report2(c, CHK_O(EST_K_CONNECTION, cn), CHK_O(EST_K_CIRCUIT, ci),
			            "connection '%s' uses circuit '%s', which cannot carry it: %s",
			            cn->name, ci->name, why.s);
		lib_buf_free(&why);
	}
}

/* ---- ER008: reserved ASNs ------------------------------------------------ */

static void
er008(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t s = 0; s < e->sites.n; s++) {
		const struct est_site *st = &e->sites.v[s];
		const char *why = est_asn_reserved(st->asn);
		if (why)
			chk_report1(c, CHK_O(EST_K_SITE, st), "site '%s' uses ASN %u: %s", st->name,
			            st->asn, why);
	}
	for (uint32_t i = 0; i < e->circuits.n; i++) {
		const struct est_circuit *ci = &e->circuits.v[i];
		struct er_peer p[3];
		uint32_t n = er_circuit_peerings(ci, p);
		for (uint32_t k = 0; k < n; k++) {
			const char *why = est_asn_reserved(p[k].p->peer_asn);
			if (why)
				chk_report1(c, er_peer_obj(ci, p[k].p),
				            "circuit '%s' %s uses peer ASN %u: %s", ci->name,
				            p[k].what, p[k].p->peer_asn, why);
		}
	}
}

/* ---- ER009: peering subnets ---------------------------------------------- */

static void
check_len(struct chk_ctx *c, const struct est_circuit *ci, const struct er_peer *pr,
          const char *key, const struct ip_prefix *p, uint8_t af, uint8_t len)
{
	if (!er_is_set(p) || (p->a.af == af && p->len == len))
		return;
	chk_report1(c, er_peer_obj(ci, pr->p), "circuit '%s' %s %s %s is not an %s /%u", ci->name,
	            pr->what, key, er_pfx(p).s, af == IP_V4 ? "IPv4" : "IPv6", len);
}

static void
check_pair(struct chk_ctx *c, const struct est_circuit *ci, const struct er_peer *pr,
           const char *k1, const struct ip_prefix *a, const char *k2, const struct ip_prefix *b)
{
	if (!er_is_set(a) || !er_is_set(b) || !ip_prefix_overlaps(a, b))
		return;
	if (ip_prefix_cmp(a, b) == 0)
		chk_report1(c, er_peer_obj(ci, pr->p), "circuit '%s' %s %s and %s are the same %s",
		            ci->name, pr->what, k1, k2, er_pfx(a).s);
	else
		chk_report1(c, er_peer_obj(ci, pr->p), "circuit '%s' %s %s %s overlaps %s %s",
		            ci->name, pr->what, k1, er_pfx(a).s, k2, er_pfx(b).s);
}

static void
check_vnet_overlap(const struct estate *e, struct chk_ctx *c, const struct est_circuit *ci,
                   const struct er_peer *pr, const char *key, const struct ip_prefix *p)
{
	if (!er_is_set(p))
		return;
	for (uint32_t v = 0; v < e->vnets.n; v++) {
		const struct est_vnet *vn = &e->vnets.v[v];
		for (uint32_t k = 0; k < vn->address_space.n; k++) {
			if (!ip_prefix_overlaps(p, &vn->address_space.v[k]))
				continue;
			chk_report2(c, er_peer_obj(ci, pr->p), CHK_O(EST_K_VNET, vn),
			            "circuit '%s' %s %s %s overlaps vnet '%s' address space %s",
			            ci->name, pr->what, key, er_pfx(p).s, vn->name,
			            er_pfx(&vn->address_space.v[k]).s);
			break;
		}
	}
}

static void
er009(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->circuits.n; i++) {
		const struct est_circuit *ci = &e->circuits.v[i];
		struct er_peer pp[3];
		uint32_t n = er_circuit_peerings(ci, pp);
		for (uint32_t k = 0; k < n; k++) {
			const struct er_peer *pr = &pp[k];
			const struct est_peering_cfg *p = pr->p;
			bool sub = er_is_set(&p->subnet), pri = er_is_set(&p->primary),
			     sec = er_is_set(&p->secondary);
			if (!sub && !(pri && sec))
				chk_report1(
				    c, er_peer_obj(ci, p),
				    "circuit '%s' %s has %s: give primary and secondary /30s "
				    "or one /29 subnet",
				    ci->name, pr->what,
				    pri   ? "a primary but no secondary subnet"
				    : sec ? "a secondary but no primary subnet"
				          : "no link subnets");
			if (sub && (pri || sec))
				chk_report1(c, er_peer_obj(ci, p),
				            "circuit '%s' %s gives both a /29 subnet and %s: give "
				            "one or the other",
				            ci->name, pr->what,
				            pri && sec ? "primary/secondary /30s"
				            : pri      ? "a primary /30"
				                       : "a secondary /30");
			check_len(c, ci, pr, "primary", &p->primary, IP_V4, 30);
			check_len(c, ci, pr, "secondary", &p->secondary, IP_V4, 30);
			check_len(c, ci, pr, "subnet", &p->subnet, IP_V4, 29);
			check_pair(c, ci, pr, "primary", &p->primary, "secondary", &p->secondary);
			bool v6p = er_is_set(&p->ipv6_primary), v6s = er_is_set(&p->ipv6_secondary);
			if (v6p != v6s)
				chk_report1(
				    c, er_peer_obj(ci, p),
				    "circuit '%s' %s has an %s but no %s: IPv6 needs both /126s",
				    ci->name, pr->what, v6p ? "ipv6_primary" : "ipv6_secondary",
				    v6p ? "ipv6_secondary" : "ipv6_primary");
			check_len(c, ci, pr, "ipv6_primary", &p->ipv6_primary, IP_V6, 126);
			check_len(c, ci, pr, "ipv6_secondary", &p->ipv6_secondary, IP_V6, 126);
			check_pair(c, ci, pr, "ipv6_primary", &p->ipv6_primary, "ipv6_secondary",
			           &p->ipv6_secondary);
			check_vnet_overlap(e, c, ci, pr, "subnet", &p->subnet);
			check_vnet_overlap(e, c, ci, pr, "primary", &p->primary);
			check_vnet_overlap(e, c, ci, pr, "secondary", &p->secondary);
			check_vnet_overlap(e, c, ci, pr, "ipv6_primary", &p->ipv6_primary);
			check_vnet_overlap(e, c, ci, pr, "ipv6_secondary", &p->ipv6_secondary);
		}
	}
}

/* ---- ER010: VLAN reuse --------------------------------------------------- */

static void
er010(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->circuits.n; i++) {
		const struct est_circuit *ci = &e->circuits.v[i];
		struct er_peer p[3];
		uint32_t n = er_circuit_peerings(ci, p);
		for (uint32_t a = 0; a < n; a++)
			for (uint32_t b = a + 1; b < n; b++)
				if (p[a].p->vlan == p[b].p->vlan)
					chk_report2(c, er_peer_obj(ci, p[b].p),
					            er_peer_obj(ci, p[a].p),
					            "circuit '%s' %s reuses VLAN %u of its %s",
					            ci->name, p[b].what, p[b].p->vlan, p[a].what);
	}
}

static const struct chk_rule rules[] = {
    {"ER001", LIB_SEV_ERROR, "Overlapping VNets connected to one circuit", SEED "; azure-facts 1.4",
     "give the target VNet a different address space, or disconnect the source connection "
     "before connecting the target",
     er001},
    {"ER002", LIB_SEV_ERROR, "Too many circuits from one peering location on one VNet",
     SEED "; azure-facts 1.4 (newer docs: 4)",
     "connect circuits from different peering locations, or raise "
     "limits.circuits_per_location_per_vnet if the platform allows it",
     er002},
    {"ER003", LIB_SEV_WARNING, "All of a site's circuits at one peering location",
     SEED "; azure-facts 1.4",
     "add a circuit at a second peering location so that a location outage leaves a path", er003},
    {"ER004", LIB_SEV_ERROR, "Connection outside the circuit's SKU reach", "azure-facts 1.2, 1.14",
     "use a circuit at a location in the VNet's geopolitical region, or move the circuit to "
     "the standard or premium tier",
     er004},
    {"ER005", LIB_SEV_ERROR, "Global Reach link not possible", "azure-facts 1.13",
     "link circuits at different peering locations, off the local tier, both premium when "
     "their geopolitical regions differ, each with private peering",
     er005},
    {"ER006", LIB_SEV_WARNING, "Deprecated public peering", "azure-facts 1.5",
     "move the public prefixes to Microsoft peering with a route filter and remove public "
     "peering",
     er006},
    {"ER007", LIB_SEV_ERROR, "Connection on a circuit that is not usable", "azure-facts 1.3",
     "have the provider provision the circuit, enable it and configure private peering before "
     "connecting gateways",
     er007},
    {"ER008", LIB_SEV_ERROR, "Reserved ASN", "azure-facts 1.6",
     "use a public ASN you own or a private one outside 65515-65520", er008},
    {"ER009", LIB_SEV_ERROR, "Bad peering link subnets", "azure-facts 1.6",
     "give two distinct /30s (or one /29) and IPv6 /126s that no VNet uses", er009},
    {"ER010", LIB_SEV_ERROR, "VLAN reused within a circuit", "azure-facts 1.6",
     "give each peering of the circuit its own VLAN", er010},
};

CHK_SEGMENT(chk_seg_circuit, rules);
