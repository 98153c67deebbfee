/*
 * chk_circuit.c - ExpressRoute rules (ER0xx): circuits, peerings, ASNs,
 * SKU reach, Global Reach, route and link limits.
 *
 * Design: every rule is a pure pass over the estate; rules that aggregate
 * (per VNet, per circuit, per gateway) build small heap tallies indexed like
 * the estate's arrays and free them before returning, so each rule stays
 * O(objects) or O(n log n) on large generated estates. Every numeric limit
 * comes from est_limit() (so `limits:` overrides apply) or from the platform
 * tables of est_tables.c. Messages name the objects and the numbers; the
 * first object of a finding is where output points.
 */
#include "chk_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

struct num {
	char s[32];
};

/* 4012 -> "4,012" */
static struct num
num(uint64_t n)
{
	struct num r;
	char tmp[32];
	int len = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)n);
	size_t o = 0;
	for (int i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			r.s[o++] = ',';
		r.s[o++] = tmp[i];
	}
	r.s[o] = '\0';
	return r;
}

struct bw {
	char s[32];
};

static struct bw
bw(uint64_t mbps)
{
	struct bw r;
	lib_fmt_bandwidth(mbps, r.s, sizeof(r.s));
	return r;
}

struct pfx {
	char s[IP_STRLEN];
};

static struct pfx
pfx(const struct ip_prefix *p)
{
	struct pfx r;
	ip_prefix_fmt(p, r.s);
	return r;
}

static const char *
plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static const char *
nm(const char *s)
{
	return s ? s : "?";
}

static const struct est_circuit *
conn_circuit(const struct estate *e, const struct est_connection *cn)
{
	return est_resolved(&cn->circuit) ? &e->circuits.v[cn->circuit.i] : NULL;
}

static const struct est_vnet *
conn_vnet(const struct estate *e, const struct est_connection *cn)
{
	return est_resolved(&cn->gateway) ? &e->vnets.v[cn->gateway.i] : NULL;
}

static const struct est_location *
circ_location(const struct estate *e, const struct est_circuit *ci)
{
	return est_resolved(&ci->location) ? &e->locations.v[ci->location.i] : NULL;
}

static const struct est_site *
circ_site(const struct estate *e, const struct est_circuit *ci)
{
	return est_resolved(&ci->site) ? &e->sites.v[ci->site.i] : NULL;
}

/* The peerings a circuit has, with their names for messages. */
struct peer {
	const struct est_peering_cfg *p;
	const char *what;
};

static uint32_t
circuit_peerings(const struct est_circuit *ci, struct peer out[3])
{
	uint32_t n = 0;
	if (ci->private_peering)
		out[n++] = (struct peer){ci->private_peering, "private peering"};
	if (ci->microsoft_peering)
		out[n++] = (struct peer){ci->microsoft_peering, "Microsoft peering"};
	if (ci->public_peering)
		out[n++] = (struct peer){ci->public_peering, "public peering"};
	return n;
}

/* A peering is located at its own position but named after its circuit. */
static struct chk_obj
peer_obj(const struct est_circuit *ci, const struct est_peering_cfg *p)
{
	return (struct chk_obj){EST_K_CIRCUIT, ci->name, p->pos};
}

static const char *
link_side(uint32_t side)
{
	return side == EST_LINK_PRIMARY ? "primary" : "secondary";
}

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
		const struct est_circuit *ci = conn_circuit(e, cn);
		if (!ci || !conn_vnet(e, cn) || !circ_location(e, ci))
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
			    v->name, distinct, l->name, names.s, num((uint64_t)lim).s);
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
			if (!est_resolved(&ci->site) || ci->site.i != s || !circ_location(e, ci))
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
		const struct est_circuit *ci = conn_circuit(e, cn);
		const struct est_vnet *v = conn_vnet(e, cn);
		const struct est_location *l = ci ? circ_location(e, ci) : NULL;
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
				lib_buf_printf(&lr, "%s'%s'", k ? ", " : "", nm(rr->name));
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
			if (strcmp(nm(r->geo), nm(l->geo)) != 0)
				chk_reportf(
				    c, o, 3,
				    "connection '%s' links vnet '%s' in region '%s' (geo '%s') "
				    "to standard circuit '%s' at '%s' (geo '%s'): a standard "
				    "circuit reaches only its own geopolitical region",
				    cn->name, v->name, r->name, nm(r->geo), ci->name, l->name,
				    nm(l->geo));
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
		const struct est_location *la = circ_location(e, ca), *lb = circ_location(e, cb);
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
		if (la && lb && strcmp(nm(la->geo), nm(lb->geo)) != 0 &&
		    (ca->tier != EST_TIER_PREMIUM || cb->tier != EST_TIER_PREMIUM))
			chk_reportf(c, o, 3,
			            "Global Reach '%s' links circuit '%s' (%s, geo '%s') and '%s' "
			            "(%s, geo '%s') across geopolitical regions: both need the "
			            "premium tier",
			            gr->name, ca->name, est_tier_name(ca->tier), nm(la->geo),
			            cb->name, est_tier_name(cb->tier), nm(lb->geo));
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
			    c, peer_obj(ci, ci->public_peering),
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
		const struct est_circuit *ci = conn_circuit(e, cn);
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
		struct peer p[3];
		uint32_t n = circuit_peerings(ci, p);
		for (uint32_t k = 0; k < n; k++) {
			const char *why = est_asn_reserved(p[k].p->peer_asn);
			if (why)
				chk_report1(c, peer_obj(ci, p[k].p),
				            "circuit '%s' %s uses peer ASN %u: %s", ci->name,
				            p[k].what, p[k].p->peer_asn, why);
		}
	}
}

/* ---- ER009: peering subnets ---------------------------------------------- */

static bool
is_set(const struct ip_prefix *p)
{
	return p->a.af != 0;
}

static void
check_len(struct chk_ctx *c, const struct est_circuit *ci, const struct peer *pr, const char *key,
          const struct ip_prefix *p, uint8_t af, uint8_t len)
{
	if (!is_set(p) || (p->a.af == af && p->len == len))
		return;
	chk_report1(c, peer_obj(ci, pr->p), "circuit '%s' %s %s %s is not an %s /%u", ci->name,
	            pr->what, key, pfx(p).s, af == IP_V4 ? "IPv4" : "IPv6", len);
}

static void
check_pair(struct chk_ctx *c, const struct est_circuit *ci, const struct peer *pr, const char *k1,
           const struct ip_prefix *a, const char *k2, const struct ip_prefix *b)
{
	if (!is_set(a) || !is_set(b) || !ip_prefix_overlaps(a, b))
		return;
	if (ip_prefix_cmp(a, b) == 0)
		chk_report1(c, peer_obj(ci, pr->p), "circuit '%s' %s %s and %s are the same %s",
		            ci->name, pr->what, k1, k2, pfx(a).s);
	else
		chk_report1(c, peer_obj(ci, pr->p), "circuit '%s' %s %s %s overlaps %s %s",
		            ci->name, pr->what, k1, pfx(a).s, k2, pfx(b).s);
}

static void
check_vnet_overlap(const struct estate *e, struct chk_ctx *c, const struct est_circuit *ci,
                   const struct peer *pr, const char *key, const struct ip_prefix *p)
{
	if (!is_set(p))
		return;
	for (uint32_t v = 0; v < e->vnets.n; v++) {
		const struct est_vnet *vn = &e->vnets.v[v];
		for (uint32_t k = 0; k < vn->address_space.n; k++) {
			if (!ip_prefix_overlaps(p, &vn->address_space.v[k]))
				continue;
			chk_report2(c, peer_obj(ci, pr->p), CHK_O(EST_K_VNET, vn),
			            "circuit '%s' %s %s %s overlaps vnet '%s' address space %s",
			            ci->name, pr->what, key, pfx(p).s, vn->name,
			            pfx(&vn->address_space.v[k]).s);
			break;
		}
	}
}

static void
er009(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->circuits.n; i++) {
		const struct est_circuit *ci = &e->circuits.v[i];
		struct peer pp[3];
		uint32_t n = circuit_peerings(ci, pp);
		for (uint32_t k = 0; k < n; k++) {
			const struct peer *pr = &pp[k];
			const struct est_peering_cfg *p = pr->p;
			bool sub = is_set(&p->subnet), pri = is_set(&p->primary),
			     sec = is_set(&p->secondary);
			if (!sub && !(pri && sec))
				chk_report1(
				    c, peer_obj(ci, p),
				    "circuit '%s' %s has %s: give primary and secondary /30s "
				    "or one /29 subnet",
				    ci->name, pr->what,
				    pri   ? "a primary but no secondary subnet"
				    : sec ? "a secondary but no primary subnet"
				          : "no link subnets");
			if (sub && (pri || sec))
				chk_report1(c, peer_obj(ci, p),
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
			bool v6p = is_set(&p->ipv6_primary), v6s = is_set(&p->ipv6_secondary);
			if (v6p != v6s)
				chk_report1(
				    c, peer_obj(ci, p),
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
		struct peer p[3];
		uint32_t n = circuit_peerings(ci, p);
		for (uint32_t a = 0; a < n; a++)
			for (uint32_t b = a + 1; b < n; b++)
				if (p[a].p->vlan == p[b].p->vlan)
					chk_report2(c, peer_obj(ci, p[b].p), peer_obj(ci, p[a].p),
					            "circuit '%s' %s reuses VLAN %u of its %s",
					            ci->name, p[b].what, p[b].p->vlan, p[a].what);
	}
}

/* ---- ER011: on-premises prefixes on private peering ---------------------- */

static void
er011(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t i = 0; i < e->circuits.n; i++) {
		const struct est_circuit *ci = &e->circuits.v[i];
		const struct est_site *st = circ_site(e, ci);
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
			            ci->name, num(n4).s, st->name, num((uint64_t)l4).s,
			            est_tier_name(ci->tier));
		if (n6 > l6)
			chk_report2(c, CHK_O(EST_K_CIRCUIT, ci), CHK_O(EST_K_SITE, st),
			            "circuit '%s' carries %s on-premises IPv6 prefixes from site "
			            "'%s', over the private-peering limit of %s: the BGP session "
			            "drops until fewer are advertised",
			            ci->name, num(n6).s, st->name, num((uint64_t)l6).s);
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
				chk_report1(c, peer_obj(ci, p),
				            "circuit '%s' Microsoft peering advertises %s %s "
				            "prefixes, over the limit of %s per BGP session: the "
				            "session drops",
				            ci->name, num(n).s, afs[k] == IP_V4 ? "IPv4" : "IPv6",
				            num((uint64_t)lim).s);
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
		if (!cn->enabled || !conn_circuit(e, cn) || !conn_vnet(e, cn))
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
				    ci->name, num(got[k]).s, fam[k], nconn[i], plural(nconn[i]),
				    num(s->spokes).s, plural(s->spokes), num((uint64_t)lim[k]).s);
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
			    ci->name, bw(ci->bandwidth).s, est_tier_name(ci->tier), nc[i] + ng[i],
			    nc[i], plural(nc[i]), ng[i], plural(ng[i]), lim);
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
		            bw(ci->bandwidth).s, offered);
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
			chk_report1(c, peer_obj(ci, p),
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
				    c, peer_obj(ci, p),
				    "circuit '%s' Microsoft peering advertises private "
				    "prefix %s (in %s): Microsoft peering accepts only public "
				    "prefixes you own",
				    ci->name, pfx(&p->advertised_prefixes.v[k]).s, r);
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
			const char *r = is_set(sn[k].p) ? private_range(sn[k].p) : NULL;
			if (r)
				chk_report1(
				    c, peer_obj(ci, p),
				    "circuit '%s' Microsoft peering %s %s is private (in %s): "
				    "Microsoft peering needs public link addresses you own",
				    ci->name, sn[k].key, pfx(sn[k].p).s, r);
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
		const struct est_site *st = circ_site(e, ci);
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
				            ci->name, link_side(side), st->name);
			else if (n > 1)
				chk_report2(c, CHK_O(EST_K_CIRCUIT, ci), CHK_O(EST_K_SITE, st),
				            "link '%s/%s' is terminated by %u routers of site '%s' "
				            "(%s): a link ends on one router",
				            ci->name, link_side(side), n, st->name, names.s);
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
				const struct est_site *other = circ_site(e, ci);
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
			const struct est_site *other = circ_site(e, ci);
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
		const struct est_site *st = circ_site(e, ci);
		if (st && ci->private_peering && ci->private_peering->peer_asn != st->asn)
			chk_report2(c, peer_obj(ci, ci->private_peering), CHK_O(EST_K_SITE, st),
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
			    c, peer_obj(ci, p),
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
		const struct est_location *l = circ_location(e, ci);
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
		const struct est_location *l = circ_location(e, ci);
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
		if (!is_set(p)) {
			chk_report1(
			    c, o,
			    "Global Reach '%s' has no subnet: it needs a dedicated IPv4 /29 "
			    "used by neither VNets nor on-premises",
			    gr->name);
			continue;
		}
		if (p->a.af != IP_V4 || p->len != 29)
			chk_report1(c, o, "Global Reach '%s' subnet %s is not an IPv4 /29",
			            gr->name, pfx(p).s);
		for (uint32_t v = 0; v < e->vnets.n; v++) {
			const struct est_vnet *vn = &e->vnets.v[v];
			for (uint32_t k = 0; k < vn->address_space.n; k++)
				if (ip_prefix_overlaps(p, &vn->address_space.v[k])) {
					chk_report2(
					    c, o, CHK_O(EST_K_VNET, vn),
					    "Global Reach '%s' subnet %s overlaps vnet '%s' "
					    "address space %s",
					    gr->name, pfx(p).s, vn->name,
					    pfx(&vn->address_space.v[k]).s);
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
					    gr->name, pfx(p).s, st->name,
					    pfx(&st->prefixes.v[k]).s);
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
		const struct est_circuit *ci = conn_circuit(e, cn);
		if (!ci || !est_resolved(&cn->gateway) || !circ_site(e, ci))
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
				            g->name, num(total).s, num(vnet_routes[v]).s, vn->name,
				            num(onprem[f]).s, nsites[f], plural(nsites[f]),
				            num((uint64_t)lim).s);
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

#define SEED "seed: azure-vm-disaster-recovery-with-expressroute"

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

CHK_SEGMENT(chk_seg_circuit, rules);
