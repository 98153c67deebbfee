/*
 * rec_gen.c - generated recovery plans: the seeds' failover choreography for
 * the ExpressRoute topology an estate has (issue 4, item 3).
 *
 * Design. The generator works in three passes over a loaded estate, which it
 * never changes:
 *   1. pairs: each source VNet with its target (network_mapping, or the
 *      <vnet>-asr mirror Site Recovery creates with auto_target_networks);
 *   2. hubs: every paired source VNet with an ExpressRoute gateway. For each,
 *      the circuit serving the source (its first connection) and the circuit
 *      the target should use decide the topology:
 *        - another circuit of the same site at another peering location: two
 *          circuits at two locations; at the same location: two circuits at
 *          one location. The target connects to that secondary circuit,
 *          which can be done before failover, and after failover the site
 *          prefers it (local_pref 300) until failback restores its value;
 *        - no other circuit, target overlapping the source: a single circuit
 *          with the same IP space. Two overlapping VNets can't share a
 *          circuit, so the plan disconnects the source, then connects the
 *          target, at failover; failback reverses both after the VMs are back;
 *        - no other circuit, separate space: both can be connected at once;
 *   3. steps in run order: target gateways, connections that can exist in
 *      advance, peerings copied from the source pairs, route tables copied
 *      from the source tables and attached to the same-named target subnets,
 *      the disconnect/connect of the single-circuit case, the groups (one per
 *      replication group, since a replication group fails over whole, then
 *      the other protected VMs), then preference changes.
 * Invariants: everything that already exists in the estate (a target
 * gateway, connection, peering, attached route table) is left out; every
 * network step carries direction and types [planned, unplanned], so a drill
 * (test failover) never touches production and failback runs only the steps
 * meant for it. With opts->preprovision the steps that can be made before
 * failover leave the plan and are listed as prerequisites.
 * Durations for the RTO estimate (steps run one after another, as a plan's
 * before and after actions do): gateway creation est_limit(e,
 * EST_LIM_GATEWAY_CREATE_MINUTES) (45 minutes, azure-facts 1.8), connection
 * 5, disconnect 5, peering 1, route table 1, attach 1, preference change 5
 * (an operator on the edge routers), each plan group 10 (its VMs fail over
 * in parallel; azure-facts 3.6, 3.8). They match the defaults of the
 * executor's durations table (rec_dur_defs) so the estimate and a simulated
 * run agree; only the gateway follows the estate's limit.
 * Sources: seed 002 (azure-vm-disaster-recovery-with-expressroute: "Access
 * with two circuits", "Two circuits with single peering location", "Access
 * with a single circuit", "Failover example"), azure-facts 1.2, 1.8, 3.2,
 * 3.5, 3.6, 3.9.
 */
#include "rec_gen.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RG_MIN_CONNECT     5
#define RG_MIN_DISCONNECT  5
#define RG_MIN_PEERING     1
#define RG_MIN_ROUTE_TABLE 1
#define RG_MIN_ATTACH      1
#define RG_MIN_PREFERENCE  5
#define RG_MIN_GROUP       10
#define RG_PREFER_PREF     300 /* local_pref of the secondary after failover */

enum { RG_BEFORE, RG_AFTER };

struct rg_step {
	uint8_t at;       /* RG_BEFORE or RG_AFTER the groups */
	int direction;    /* enum est_direction */
	bool advance;     /* can be made before failover (--preprovision) */
	int64_t minutes;  /* failover duration; failback steps count 0 */
	const char *yaml; /* "create_gateway: {...}" */
	const char *what; /* for the report */
};

struct rg_pair {
	uint32_t si;                  /* source VNet */
	const char *tname;            /* target VNet as named (maybe planned) */
	uint32_t ti;                  /* existing target VNet, or EST_NONE */
	const struct est_vnet *space; /* target's VNet, or the source it mirrors */
};

struct rg_hub {
	const struct rg_pair *p;
	const struct est_gateway *sgw;
	const struct est_connection *sconn; /* the source's connection (primary) */
	uint32_t primary, tc;               /* circuits, or EST_NONE */
	const char *tgw;                    /* target gateway name */
	bool tgw_exists, tconn_exists;
	enum rec_topology topo;
	uint32_t dis_at, con_at; /* steps of the single-circuit swap, or EST_NONE */
};

struct rg_group {
	const char *name;
	struct lib_vec vms; /* uint32_t VM indices */
};

struct rg {
	const struct estate *e;
	const struct est_replication *rp;
	const struct rec_gen_opts *o;
	const char *region; /* target region */
	struct lib_arena a;
	struct lib_vec pairs;  /* struct rg_pair */
	uint32_t *by_src;      /* pair index + 1 by source VNet */
	struct lib_vec hubs;   /* struct rg_hub */
	struct lib_vec steps;  /* struct rg_step */
	struct lib_vec groups; /* struct rg_group */
	struct lib_buf topo;   /* report: the topology section */
	struct lib_buf notes;  /* report: warnings and limits */
	struct lib_diags *d;
	bool overlap; /* some target space overlaps some source space */
};

const char *
rec_topology_name(enum rec_topology t)
{
	switch (t) {
	case REC_TOPO_TWO_LOCATIONS:
		return "two circuits at two peering locations";
	case REC_TOPO_ONE_LOCATION:
		return "two circuits at one peering location";
	case REC_TOPO_SINGLE_SAME_IP:
		return "a single circuit, same IP space in the target";
	case REC_TOPO_SINGLE_DIFFERENT_IP:
		return "a single circuit, different IP space in the target";
	default:
		return "no ExpressRoute connection to plan for";
	}
}

/* ---- small helpers ------------------------------------------------------ */

/* A scalar YAML reads back as the same string in flow context, quoted if not. */
static void
put_str(struct lib_buf *b, const char *s)
{
	static const char *const words[] = {"true", "false", "yes", "no", "on",
	                                    "off",  "null",  "y",   "n",  "~"};
	bool plain = s[0] && s[0] != '-' && s[0] != '.';
	for (size_t i = 0; plain && i < LIB_ARRAY_LEN(words); i++)
		plain = strcasecmp(s, words[i]) != 0;
	for (const char *p = s; plain && *p; p++)
		plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		        (*p >= '0' && *p <= '9') || strchr("._/-", *p);
	if (plain) {
		char *end;
		strtod(s, &end);
		plain = *end != '\0';
	}
	if (plain) {
		lib_buf_puts(b, s);
		return;
	}
	json_t *js = json_string(s);
	char *enc = js ? json_dumps(js, JSON_ENCODE_ANY) : NULL;
	lib_buf_puts(b, enc ? enc : "\"\"");
	free(enc);
	json_decref(js);
}

/* Copies a heap buffer into the arena and frees it. */
static const char *
keep(struct rg *g, struct lib_buf *b)
{
	const char *s = lib_arena_strdup(&g->a, b->s ? b->s : "");
	lib_buf_free(b);
	return s;
}

static const char *fmt(struct rg *g, const char *f, ...) LIB_PRINTF(2, 3);

static const char *
fmt(struct rg *g, const char *f, ...)
{
	struct lib_buf b = {0};
	va_list ap;
	va_start(ap, f);
	lib_buf_vprintf(&b, f, ap);
	va_end(ap);
	return keep(g, &b);
}

static void
add_step(struct rg *g, uint8_t at, int dir, bool advance, int64_t minutes, const char *yaml,
         const char *what)
{
	struct rg_step *s = lib_vec_push(&g->steps);
	*s = (struct rg_step){at, dir, advance, dir == EST_DIR_FAILBACK ? 0 : minutes, yaml, what};
}

static void warn(struct rg *g, const char *f, ...) LIB_PRINTF(2, 3);

static void
warn(struct rg *g, const char *f, ...)
{
	struct lib_buf b = {0};
	va_list ap;
	va_start(ap, f);
	lib_buf_vprintf(&b, f, ap);
	va_end(ap);
	lib_buf_printf(&g->notes, "  warning: %s\n", b.s);
	if (g->d)
		lib_diag_add(g->d, LIB_SEV_WARNING, g->e->file, g->rp->pos.line, g->rp->pos.col,
		             "replication", NULL, "%s", b.s);
	lib_buf_free(&b);
}

static int
er_gateway(const struct est_vnet *v)
{
	for (uint32_t i = 0; i < v->gateways.n; i++)
		if (v->gateways.v[i].type == EST_GW_EXPRESSROUTE)
			return (int)i;
	return -1;
}

static bool
spaces_overlap(const struct est_vnet *a, const struct est_vnet *b)
{
	for (uint32_t x = 0; x < a->address_space.n; x++)
		for (uint32_t y = 0; y < b->address_space.n; y++)
			if (ip_prefix_overlaps(&a->address_space.v[x], &b->address_space.v[y]))
				return true;
	return false;
}

static const char *
location_of(const struct estate *e, uint32_t ci)
{
	const struct est_circuit *c = &e->circuits.v[ci];
	return est_resolved(&c->location) ? e->locations.v[c->location.i].name : "?";
}

static bool
same_location(const struct estate *e, uint32_t a, uint32_t b)
{
	const struct est_ref *la = &e->circuits.v[a].location, *lb = &e->circuits.v[b].location;
	if (est_resolved(la) && est_resolved(lb))
		return la->i == lb->i;
	return la->name && lb->name && strcmp(la->name, lb->name) == 0;
}

/* The site's policy for circuit ci: local_pref (default 100) and prepend. */
static void
site_pref(const struct estate *e, uint32_t site, uint32_t ci, uint32_t *pref, uint32_t *prepend)
{
	*pref = 100;
	*prepend = 0;
	if (site == EST_NONE)
		return;
	const struct est_site *s = &e->sites.v[site];
	for (uint32_t i = 0; i < s->policy.n; i++)
		if (est_resolved(&s->policy.v[i].circuit) && s->policy.v[i].circuit.i == ci) {
			*pref = s->policy.v[i].local_pref;
			*prepend = s->policy.v[i].prepend;
		}
}

static uint32_t
circuit_site(const struct estate *e, uint32_t ci)
{
	if (ci == EST_NONE)
		return EST_NONE;
	const struct est_ref *r = &e->circuits.v[ci].site;
	return est_resolved(r) ? r->i : EST_NONE;
}

/* ---- pass 1: source -> target pairs ------------------------------------- */

static void
add_pair(struct rg *g, uint32_t si, const char *tname, uint32_t ti)
{
	const struct estate *e = g->e;
	struct rg_pair *p = lib_vec_push(&g->pairs);
	p->si = si;
	p->tname = tname;
	p->ti = ti;
	if (ti != EST_NONE) {
		p->space = &e->vnets.v[ti];
	} else {
		/* a planned mirror: "<vnet>-asr" has the address space of <vnet> */
		size_t n = strlen(tname);
		if (n > 4 && strcmp(tname + n - 4, "-asr") == 0) {
			char *src = lib_arena_strndup(&g->a, tname, n - 4);
			uint32_t v = est_find(e, EST_K_VNET, src);
			p->space = v == EST_NONE ? NULL : &e->vnets.v[v];
		}
	}
	g->by_src[si] = g->pairs.n;
}

static void
collect_pairs(struct rg *g)
{
	const struct estate *e = g->e;
	const struct est_replication *rp = g->rp;
	for (uint32_t m = 0; m < rp->network_mapping.n; m++) {
		const struct est_net_map *nm = &rp->network_mapping.v[m];
		if (!est_resolved(&nm->source) || g->by_src[nm->source.i] || !nm->target.name)
			continue;
		add_pair(g, nm->source.i, nm->target.name,
		         est_resolved(&nm->target) ? nm->target.i : EST_NONE);
	}
	if (rp->auto_target_networks && est_resolved(&rp->source))
		for (uint32_t v = 0; v < e->vnets.n; v++) {
			const struct est_ref *r = &e->vnets.v[v].region;
			if (g->by_src[v] || !est_resolved(r) || r->i != rp->source.i)
				continue;
			const char *t = lib_arena_printf(&g->a, "%s-asr", e->vnets.v[v].name);
			add_pair(g, v, t, est_find(e, EST_K_VNET, t));
		}
	const struct rg_pair *p = g->pairs.v;
	for (uint32_t i = 0; i < g->pairs.n && !g->overlap; i++)
		for (uint32_t k = 0; k < g->pairs.n && !g->overlap; k++)
			g->overlap = p[k].space && spaces_overlap(&e->vnets.v[p[i].si], p[k].space);
}

/* ---- pass 2: hubs and their topology ------------------------------------ */

/* The ExpressRoute gateway a create_gateway step of v[0..n) makes in vnet. */
static const char *
created_gateway(const struct est_action *v, uint32_t n, const char *vnet)
{
	for (uint32_t k = 0; k < n; k++) {
		const struct est_act_gateway *cg = v[k].create_gateway;
		if (v[k].kind == EST_ACT_CREATE_GATEWAY && cg && cg->type == EST_GW_EXPRESSROUTE &&
		    cg->vnet.name && strcmp(cg->vnet.name, vnet) == 0)
			return cg->name;
	}
	return NULL;
}

/* The name the estate's own recovery plans give the gateway of vnet, or NULL. */
static const char *
planned_gateway(const struct estate *e, const char *vnet)
{
	for (uint32_t i = 0; i < e->recovery_plans.n; i++) {
		const struct est_plan *p = &e->recovery_plans.v[i];
		const char *n = created_gateway(p->before.v, p->before.n, vnet);
		if (!n)
			n = created_gateway(p->after.v, p->after.n, vnet);
		for (uint32_t k = 0; k < p->groups.n && !n; k++) {
			const struct est_plan_group *pg = &p->groups.v[k];
			n = created_gateway(pg->before.v, pg->before.n, vnet);
			if (!n)
				n = created_gateway(pg->after.v, pg->after.n, vnet);
		}
		if (n)
			return n;
	}
	return NULL;
}

/* Is circuit ci connected to the ExpressRoute gateway of source VNet vi? */
static bool
serves(const struct estate *e, uint32_t vi, uint32_t ci)
{
	for (uint32_t k = 0; k < e->connections.n; k++) {
		const struct est_connection *c = &e->connections.v[k];
		if (est_resolved(&c->gateway) && c->gateway.i == vi && est_resolved(&c->circuit) &&
		    c->circuit.i == ci &&
		    e->vnets.v[vi].gateways.v[c->gateway.j].type == EST_GW_EXPRESSROUTE)
			return true;
	}
	return false;
}

/* Ranks a candidate secondary circuit: higher is better. */
static int
secondary_rank(const struct estate *e, uint32_t ci, uint32_t primary, uint32_t target_region)
{
	const struct est_circuit *c = &e->circuits.v[ci];
	int r = 0;
	if (!same_location(e, ci, primary))
		r += 4; /* survives the loss of the primary's peering location */
	if (est_circuit_reaches(e, &e->circuits.v[ci], target_region))
		r += 2;
	if (c->state == EST_CS_ENABLED && c->provider_state == EST_PS_PROVISIONED)
		r += 1;
	return r;
}

static void
find_circuits(struct rg *g, struct rg_hub *h, int sgw)
{
	const struct estate *e = g->e;
	uint32_t si = h->p->si;
	h->primary = h->tc = EST_NONE;
	for (uint32_t k = 0; k < e->connections.n && !h->sconn; k++) {
		const struct est_connection *c = &e->connections.v[k];
		if (est_resolved(&c->gateway) && c->gateway.i == si &&
		    c->gateway.j == (uint32_t)sgw && est_resolved(&c->circuit) && c->enabled) {
			h->sconn = c;
			h->primary = c->circuit.i;
		}
	}
	/* an existing target connection decides the target circuit */
	if (h->tgw_exists)
		for (uint32_t k = 0; k < e->connections.n && !h->tconn_exists; k++) {
			const struct est_connection *c = &e->connections.v[k];
			if (est_resolved(&c->gateway) && c->gateway.i == h->p->ti &&
			    strcmp(e->vnets.v[c->gateway.i].gateways.v[c->gateway.j].name,
			           h->tgw) == 0 &&
			    est_resolved(&c->circuit)) {
				h->tconn_exists = true;
				h->tc = c->circuit.i;
			}
		}
	if (h->primary == EST_NONE)
		return;
	uint32_t site = circuit_site(e, h->primary);
	uint32_t tr = est_resolved(&g->rp->target) ? g->rp->target.i : EST_NONE;
	if (h->tc == EST_NONE && site != EST_NONE) {
		int best = -1;
		for (uint32_t ci = 0; ci < e->circuits.n; ci++) {
			if (circuit_site(e, ci) != site || serves(e, si, ci))
				continue;
			int r = secondary_rank(e, ci, h->primary, tr);
			if (r > best) {
				best = r;
				h->tc = ci;
			}
		}
	}
	if (h->tc == EST_NONE)
		h->tc = h->primary;
	if (h->tc != h->primary)
		h->topo = same_location(e, h->tc, h->primary) ? REC_TOPO_ONE_LOCATION
		                                              : REC_TOPO_TWO_LOCATIONS;
	else
		h->topo = g->overlap ? REC_TOPO_SINGLE_SAME_IP : REC_TOPO_SINGLE_DIFFERENT_IP;
}

static void
describe_hub(struct rg *g, const struct rg_hub *h)
{
	const struct estate *e = g->e;
	const char *sv = e->vnets.v[h->p->si].name;
	struct lib_buf *t = &g->topo;
	if (h->topo == REC_TOPO_NONE) {
		lib_buf_printf(t,
		               "  %s -> %s: gateway '%s' has no connection to a circuit, so "
		               "on-premises does not reach the source over ExpressRoute; the plan "
		               "makes no gateway or connection for '%s'\n",
		               sv, h->p->tname, h->sgw->name, h->p->tname);
		return;
	}
	const char *pc = e->circuits.v[h->primary].name, *tc = e->circuits.v[h->tc].name;
	lib_buf_printf(t, "  %s -> %s: the source gateway '%s' is on circuit '%s' (%s); ", sv,
	               h->p->tname, h->sgw->name, pc, location_of(e, h->primary));
	if (h->tc != h->primary)
		lib_buf_printf(t,
		               "the target gateway '%s' connects to '%s' (%s), the circuit not "
		               "serving the source\n",
		               h->tgw, tc, location_of(e, h->tc));
	else
		lib_buf_printf(t, "the target gateway '%s' connects to the same circuit\n", h->tgw);
	uint32_t site = circuit_site(e, h->primary);
	const char *sn = site == EST_NONE ? "?" : e->sites.v[site].name;
	uint32_t pp, pprep, tp, tprep;
	site_pref(e, site, h->primary, &pp, &pprep);
	site_pref(e, site, h->tc, &tp, &tprep);
	switch (h->topo) {
	case REC_TOPO_ONE_LOCATION:
		lib_buf_printf(t,
		               "  - '%s' and '%s' are both at peering location '%s': this protects "
		               "against the loss of one circuit, not of the location, whose outage "
		               "takes both (seeds: Two circuits with single peering location)\n",
		               pc, tc, location_of(e, h->primary));
		lib_buf_printf(t,
		               "  - both circuits can't connect to the same VNet at one peering "
		               "location, so the source stays on '%s' only and the target goes "
		               "on '%s' only\n",
		               pc, tc);
		/* fall through */
	case REC_TOPO_TWO_LOCATIONS:
		lib_buf_printf(t,
		               "  - the target connection can exist beside the source one, so it "
		               "can be made before failover (seeds: Access with two circuits)\n");
		lib_buf_printf(t,
		               "  - after failover on-premises must use only the secondary: site "
		               "'%s' raises '%s' to local_pref %u (above '%s' at %u), and failback "
		               "puts it back to %u\n",
		               sn, tc, pp >= RG_PREFER_PREF ? pp + 100 : RG_PREFER_PREF, pc, pp,
		               tp);
		break;
	case REC_TOPO_SINGLE_SAME_IP:
		if (h->tconn_exists) {
			warn(g,
			     "target gateway '%s' is already connected to '%s' beside the "
			     "overlapping source: two VNets with overlapping address space can't "
			     "share a circuit (seeds: Access with a single circuit)",
			     h->tgw, pc);
			break;
		}
		lib_buf_printf(t,
		               "  - the target overlaps the source, and two VNets with overlapping "
		               "address space can't share a circuit: the plan disconnects '%s' "
		               "first, then connects '%s' (seeds: Access with a single circuit); "
		               "neither can be done before failover\n",
		               h->sconn->name, h->tgw);
		lib_buf_printf(t,
		               "  - the primary connection is terminated at once, as the plan's "
		               "first step, so it can't make packets drop when the primary region "
		               "comes back; failback disconnects the target, then reconnects the "
		               "source\n");
		lib_buf_printf(t,
		               "  - risk: if the primary region is down, the disconnect may fail, "
		               "which can hold up the target connection; a different IP space in "
		               "the target (or a second circuit) avoids it\n");
		break;
	case REC_TOPO_SINGLE_DIFFERENT_IP:
		lib_buf_printf(t,
		               "  - the address spaces don't overlap, so source and target can be "
		               "connected to the circuit at the same time (seeds: Access with a "
		               "single circuit): %s\n",
		               h->tconn_exists ? "the target is connected already"
		                               : "the target is connected at once, which can be "
		                                 "done before failover");
		break;
	default:
		break;
	}
}

static void
check_reach(struct rg *g, const struct rg_hub *h)
{
	const struct estate *e = g->e;
	const struct est_replication *rp = g->rp;
	if (h->topo == REC_TOPO_NONE || !est_resolved(&rp->target))
		return;
	uint32_t tr = rp->target.i;
	if (est_circuit_reaches(e, &e->circuits.v[h->tc], tr))
		return;
	const struct est_circuit *c = &e->circuits.v[h->tc];
	const char *rg = e->regions.v[tr].geo ? e->regions.v[tr].geo : "?";
	const char *lg = est_resolved(&c->location) && e->locations.v[c->location.i].geo
	                     ? e->locations.v[c->location.i].geo
	                     : "?";
	if (c->tier == EST_TIER_LOCAL && strcmp(rg, lg) == 0)
		warn(g,
		     "circuit '%s' is Local and its location does not serve target region '%s': "
		     "upgrade it to Standard or Premium",
		     c->name, rp->target.name);
	else
		warn(g,
		     "target region '%s' is in geopolitical region '%s' but circuit '%s' is at "
		     "'%s' (%s) and not Premium: enable ExpressRoute Premium on it (seeds; "
		     "azure-facts 1.2)",
		     rp->target.name, rg, c->name, location_of(e, h->tc), lg);
}

static void
collect_hubs(struct rg *g)
{
	const struct estate *e = g->e;
	const struct rg_pair *pv = g->pairs.v;
	for (uint32_t i = 0; i < g->pairs.n; i++) {
		const struct est_vnet *sv = &e->vnets.v[pv[i].si];
		int sgw = er_gateway(sv);
		if (sgw < 0)
			continue;
		struct rg_hub *h = lib_vec_push(&g->hubs);
		h->p = &pv[i];
		h->dis_at = h->con_at = EST_NONE;
		h->sgw = &sv->gateways.v[sgw];
		int tg = pv[i].ti != EST_NONE ? er_gateway(&e->vnets.v[pv[i].ti]) : -1;
		if (tg >= 0) {
			h->tgw = e->vnets.v[pv[i].ti].gateways.v[tg].name;
			h->tgw_exists = true;
		} else {
			h->tgw = planned_gateway(e, pv[i].tname);
			uint32_t vi;
			for (int k = 1; !h->tgw || est_find_gateway(e, h->tgw, &vi); k++)
				h->tgw = k == 1 ? fmt(g, "gw-%s", pv[i].tname)
				                : fmt(g, "gw-%s-%d", pv[i].tname, k);
		}
		find_circuits(g, h, sgw);
		describe_hub(g, h);
		check_reach(g, h);
		if (h->topo != REC_TOPO_NONE && !h->tgw_exists && pv[i].ti != EST_NONE) {
			const struct est_vnet *tv = &e->vnets.v[pv[i].ti];
			bool gws = false;
			for (uint32_t s = 0; s < tv->subnets.n && !gws; s++)
				gws = strcmp(tv->subnets.v[s].name, "GatewaySubnet") == 0;
			if (!gws)
				warn(
				    g,
				    "target hub '%s' has no GatewaySubnet: add one before the plan "
				    "creates gateway '%s' (a /27 or larger)",
				    tv->name, h->tgw);
		}
	}
}

/* ---- pass 3: steps ------------------------------------------------------ */

static void
gateway_steps(struct rg *g)
{
	const struct rg_hub *hv = g->hubs.v;
	int64_t gwmin = est_limit(g->e, EST_LIM_GATEWAY_CREATE_MINUTES);
	for (uint32_t i = 0; i < g->hubs.n; i++) {
		const struct rg_hub *h = &hv[i];
		if (h->topo == REC_TOPO_NONE)
			continue;
		if (!h->tgw_exists) {
			struct lib_buf y = {0};
			lib_buf_puts(&y, "create_gateway: {name: ");
			put_str(&y, h->tgw);
			lib_buf_puts(&y, ", vnet: ");
			put_str(&y, h->p->tname);
			lib_buf_printf(&y, ", sku: %s", est_sku_name(h->sgw->sku));
			if (h->sgw->min_scale_units || h->sgw->max_scale_units)
				lib_buf_printf(&y, ", min_scale_units: %u, max_scale_units: %u",
				               h->sgw->min_scale_units, h->sgw->max_scale_units);
			lib_buf_puts(&y, "}");
			add_step(g, RG_BEFORE, EST_DIR_FAILOVER, true, gwmin, keep(g, &y),
			         fmt(g, "create gateway %s in %s (%s, as %s)", h->tgw, h->p->tname,
			             est_sku_name(h->sgw->sku), h->sgw->name));
		}
		if (!h->tconn_exists && h->topo != REC_TOPO_SINGLE_SAME_IP) {
			const char *cn = g->e->circuits.v[h->tc].name;
			struct lib_buf y = {0};
			lib_buf_puts(&y, "connect: {gateway: ");
			put_str(&y, h->tgw);
			lib_buf_puts(&y, ", circuit: ");
			put_str(&y, cn);
			lib_buf_puts(&y, "}");
			add_step(
			    g, RG_BEFORE, EST_DIR_FAILOVER, true, RG_MIN_CONNECT, keep(g, &y),
			    fmt(g, "connect %s to %s (connection %s-%s)", h->tgw, cn, h->tgw, cn));
		}
	}
}

static bool
peering_exists(const struct estate *e, const char *from, const char *to)
{
	for (uint32_t k = 0; k < e->peerings.n; k++) {
		const struct est_vnet_peering *q = &e->peerings.v[k];
		if (q->from.name && q->to.name && strcmp(q->from.name, from) == 0 &&
		    strcmp(q->to.name, to) == 0)
			return true;
	}
	return false;
}

static void
peering_steps(struct rg *g)
{
	const struct estate *e = g->e;
	const struct rg_pair *pv = g->pairs.v;
	for (uint32_t i = 0; i < e->peerings.n; i++) {
		const struct est_vnet_peering *sp = &e->peerings.v[i];
		if (!est_resolved(&sp->from) || !est_resolved(&sp->to) || !g->by_src[sp->from.i] ||
		    !g->by_src[sp->to.i])
			continue;
		const char *tf = pv[g->by_src[sp->from.i] - 1].tname;
		const char *tt = pv[g->by_src[sp->to.i] - 1].tname;
		if (peering_exists(e, tf, tt))
			continue;
		struct lib_buf y = {0};
		lib_buf_puts(&y, "create_peering: {from: ");
		put_str(&y, tf);
		lib_buf_puts(&y, ", to: ");
		put_str(&y, tt);
		if (!sp->allow_virtual_network_access)
			lib_buf_puts(&y, ", allow_virtual_network_access: false");
		if (sp->allow_forwarded_traffic)
			lib_buf_puts(&y, ", allow_forwarded_traffic: true");
		if (sp->allow_gateway_transit)
			lib_buf_puts(&y, ", allow_gateway_transit: true");
		if (sp->use_remote_gateways)
			lib_buf_puts(&y, ", use_remote_gateways: true");
		lib_buf_puts(&y, "}");
		add_step(g, RG_BEFORE, EST_DIR_FAILOVER, true, RG_MIN_PEERING, keep(g, &y),
		         fmt(g, "create peering %s-to-%s (flags of %s)", tf, tt, sp->name));
	}
}

/* The target subnet path for source subnet sub of pair p, or NULL when the
 * target has no such subnet or already has a route table (*why says which). */
static const char *
attach_target(struct rg *g, const struct rg_pair *p, const char *sub, bool *missing)
{
	*missing = false;
	if (p->ti != EST_NONE) {
		const struct est_vnet *tv = &g->e->vnets.v[p->ti];
		for (uint32_t s = 0; s < tv->subnets.n; s++)
			if (strcmp(tv->subnets.v[s].name, sub) == 0)
				return est_resolved(&tv->subnets.v[s].route_table)
				           ? NULL
				           : fmt(g, "%s/%s", p->tname, sub);
		*missing = true;
		return NULL;
	}
	if (!p->space) {
		*missing = true;
		return NULL;
	}
	return fmt(g, "%s/%s", p->tname, sub);
}

static void
route_table_steps(struct rg *g)
{
	const struct estate *e = g->e;
	const struct rg_pair *pv = g->pairs.v;
	for (uint32_t ri = 0; ri < e->route_tables.n; ri++) {
		const struct est_route_table *rt = &e->route_tables.v[ri];
		const char *name = fmt(g, "%s-%s", rt->name, g->region);
		bool created = est_find(e, EST_K_ROUTE_TABLE, name) != EST_NONE;
		for (uint32_t i = 0; i < g->pairs.n; i++) {
			const struct est_vnet *sv = &e->vnets.v[pv[i].si];
			for (uint32_t s = 0; s < sv->subnets.n; s++) {
				const struct est_subnet *ss = &sv->subnets.v[s];
				if (!est_resolved(&ss->route_table) || ss->route_table.i != ri)
					continue;
				bool missing;
				const char *path = attach_target(g, &pv[i], ss->name, &missing);
				if (missing)
					warn(g,
					     "target vnet '%s' has no subnet '%s': route table "
					     "'%s' of "
					     "'%s/%s' is not copied there",
					     pv[i].tname, ss->name, rt->name, sv->name, ss->name);
				if (!path)
					continue;
				if (!created) {
					struct lib_buf y = {0};
					lib_buf_puts(&y, "create_route_table: {name: ");
					put_str(&y, name);
					lib_buf_puts(&y, ", region: ");
					put_str(&y, g->region);
					lib_buf_puts(&y, ", copy_of: ");
					put_str(&y, rt->name);
					if (!rt->propagate_gateway_routes)
						lib_buf_puts(&y,
						             ", propagate_gateway_routes: false");
					lib_buf_puts(&y, "}");
					add_step(g, RG_BEFORE, EST_DIR_FAILOVER, true,
					         RG_MIN_ROUTE_TABLE, keep(g, &y),
					         fmt(g, "create route table %s, a copy of %s", name,
					             rt->name));
					created = true;
				}
				struct lib_buf y = {0};
				lib_buf_puts(&y, "attach_route_table: {subnet: ");
				put_str(&y, path);
				lib_buf_puts(&y, ", route_table: ");
				put_str(&y, name);
				lib_buf_puts(&y, "}");
				add_step(g, RG_BEFORE, EST_DIR_FAILOVER, true, RG_MIN_ATTACH,
				         keep(g, &y), fmt(g, "attach %s to %s", name, path));
			}
		}
	}
}

static const char *
connect_yaml(struct rg *g, const char *gw, const struct est_connection *like, const char *circuit)
{
	struct lib_buf y = {0};
	lib_buf_puts(&y, "connect: {");
	if (like && like->name && strcmp(like->name, fmt(g, "%s-%s", gw, circuit)) != 0) {
		lib_buf_puts(&y, "name: ");
		put_str(&y, like->name);
		lib_buf_puts(&y, ", ");
	}
	lib_buf_puts(&y, "gateway: ");
	put_str(&y, gw);
	lib_buf_puts(&y, ", circuit: ");
	put_str(&y, circuit);
	if (like && like->weight)
		lib_buf_printf(&y, ", weight: %u", like->weight);
	if (like && like->authorization) {
		lib_buf_puts(&y, ", authorization: ");
		put_str(&y, like->authorization);
	}
	lib_buf_puts(&y, "}");
	return keep(g, &y);
}

static bool
swaps(const struct rg_hub *h)
{
	return h->topo == REC_TOPO_SINGLE_SAME_IP && !h->tconn_exists;
}

/* Single circuit, same IP space: the source connection goes first, as the
 * plan's first step (the seeds: terminate the primary connection at once). */
static void
disconnect_steps(struct rg *g)
{
	struct rg_hub *hv = g->hubs.v;
	for (uint32_t i = 0; i < g->hubs.n; i++) {
		struct rg_hub *h = &hv[i];
		if (!swaps(h))
			continue;
		struct lib_buf y = {0};
		lib_buf_puts(&y, "disconnect: {connection: ");
		put_str(&y, h->sconn->name);
		lib_buf_puts(&y, "}");
		h->dis_at = g->steps.n;
		add_step(g, RG_BEFORE, EST_DIR_FAILOVER, false, RG_MIN_DISCONNECT, keep(g, &y),
		         fmt(g, "disconnect %s (the source, first: it overlaps the target)",
		             h->sconn->name));
	}
}

/* ... then the target connects, once its gateway, peerings and UDRs are in
 * place; on failback the reverse, after the VMs are back. */
static void
swap_steps(struct rg *g)
{
	const struct estate *e = g->e;
	struct rg_hub *hv = g->hubs.v;
	for (uint32_t i = 0; i < g->hubs.n; i++) {
		struct rg_hub *h = &hv[i];
		if (!swaps(h))
			continue;
		const char *cn = e->circuits.v[h->tc].name;
		const char *tconn = fmt(g, "%s-%s", h->tgw, cn);
		h->con_at = g->steps.n;
		add_step(g, RG_BEFORE, EST_DIR_FAILOVER, false, RG_MIN_CONNECT,
		         connect_yaml(g, h->tgw, NULL, cn),
		         fmt(g, "connect %s to %s (connection %s)", h->tgw, cn, tconn));
		struct lib_buf y = {0};
		lib_buf_puts(&y, "disconnect: {connection: ");
		put_str(&y, tconn);
		lib_buf_puts(&y, "}");
		add_step(g, RG_AFTER, EST_DIR_FAILBACK, false, 0, keep(g, &y),
		         fmt(g, "disconnect %s (the target)", tconn));
		add_step(g, RG_AFTER, EST_DIR_FAILBACK, false, 0,
		         connect_yaml(g, h->sgw->name, h->sconn, cn),
		         fmt(g, "connect %s to %s again (connection %s)", h->sgw->name, cn,
		             h->sconn->name));
		if (g->o->preprovision && !h->tgw_exists)
			lib_buf_printf(
			    &g->notes,
			    "  note: the plan connects gateway '%s', made before failover: "
			    "add it to vnet '%s' in the estate once it exists\n",
			    h->tgw, h->p->tname);
	}
}

/* Two circuits: prefer the secondary after failover, restore on failback. */
static void
preference_steps(struct rg *g)
{
	const struct estate *e = g->e;
	const struct rg_hub *hv = g->hubs.v;
	for (int dir = EST_DIR_FAILOVER; dir <= EST_DIR_FAILBACK; dir++)
		for (uint32_t i = 0; i < g->hubs.n; i++) {
			const struct rg_hub *h = &hv[i];
			if (h->topo != REC_TOPO_TWO_LOCATIONS && h->topo != REC_TOPO_ONE_LOCATION)
				continue;
			bool dup = false;
			for (uint32_t k = 0; k < i && !dup; k++)
				dup = (hv[k].topo == REC_TOPO_TWO_LOCATIONS ||
				       hv[k].topo == REC_TOPO_ONE_LOCATION) &&
				      hv[k].tc == h->tc;
			uint32_t site = circuit_site(e, h->primary);
			if (dup || site == EST_NONE)
				continue;
			uint32_t pp, pprep, tp, tprep;
			site_pref(e, site, h->primary, &pp, &pprep);
			site_pref(e, site, h->tc, &tp, &tprep);
			uint32_t want = dir == EST_DIR_FAILOVER
			                    ? (pp >= RG_PREFER_PREF ? pp + 100 : RG_PREFER_PREF)
			                    : tp;
			uint32_t prep = dir == EST_DIR_FAILOVER ? 0 : tprep;
			const char *sn = e->sites.v[site].name, *cn = e->circuits.v[h->tc].name;
			struct lib_buf y = {0};
			lib_buf_puts(&y, "set_preference: {site: ");
			put_str(&y, sn);
			lib_buf_puts(&y, ", circuit: ");
			put_str(&y, cn);
			lib_buf_printf(&y, ", local_pref: %u", want);
			if (prep)
				lib_buf_printf(&y, ", prepend: %u", prep);
			lib_buf_puts(&y, "}");
			add_step(
			    g, RG_AFTER, dir, false, RG_MIN_PREFERENCE, keep(g, &y),
			    dir == EST_DIR_FAILOVER
			        ? fmt(g, "site %s prefers %s (local_pref %u)", sn, cn, want)
			        : fmt(g, "site %s puts %s back to local_pref %u", sn, cn, want));
		}
}

/* ---- groups ------------------------------------------------------------- */

static struct rg_group *
new_group(struct rg *g, const char *name)
{
	struct rg_group *gr = lib_vec_push(&g->groups);
	gr->name = name;
	lib_vec_init(&gr->vms, sizeof(uint32_t));
	return gr;
}

static void
plan_groups(struct rg *g)
{
	const struct estate *e = g->e;
	const struct est_replication *rp = g->rp;
	bool *prot = lib_xcalloc(e->vms.n + 1, sizeof(*prot));
	bool *used = lib_xcalloc(e->vms.n + 1, sizeof(*used));
	for (uint32_t i = 0; i < rp->protect.n; i++)
		if (est_resolved(&rp->protect.v[i]))
			prot[rp->protect.v[i].i] = true;
	for (uint32_t r = 0; r < rp->groups.n; r++) {
		const struct est_repl_group *rg = &rp->groups.v[r];
		struct rg_group *gr = NULL;
		for (uint32_t k = 0; k < rg->vms.n; k++) {
			const struct est_ref *v = &rg->vms.v[k];
			if (!est_resolved(v) || used[v->i])
				continue;
			if (!prot[v->i]) {
				warn(g,
				     "vm '%s' of replication group '%s' is not protected: it is "
				     "left "
				     "out of the plan",
				     v->name, rg->name);
				continue;
			}
			used[v->i] = true;
			if (!gr)
				gr = new_group(g, rg->name);
			*(uint32_t *)lib_vec_push(&gr->vms) = v->i;
		}
	}
	bool grouped = g->groups.n > 0;
	struct rg_group *rest = NULL;
	for (uint32_t i = 0; i < rp->protect.n; i++) {
		const struct est_ref *v = &rp->protect.v[i];
		if (!est_resolved(v) || used[v->i])
			continue;
		used[v->i] = true;
		if (!rest) {
			const char *name = grouped ? "other-vms" : "all-vms";
			struct rg_group *gv = g->groups.v;
			for (uint32_t k = 0; k < g->groups.n; k++)
				if (strcmp(gv[k].name, name) == 0)
					name = fmt(g, "%s-%u", name, g->groups.n + 1);
			rest = new_group(g, name);
		}
		*(uint32_t *)lib_vec_push(&rest->vms) = v->i;
	}
	int64_t maxg = est_limit(e, EST_LIM_RECOVERY_PLAN_GROUPS);
	if ((int64_t)g->groups.n > maxg) {
		struct rg_group *gv = g->groups.v;
		struct rg_group *last = &gv[maxg - 1];
		uint32_t merged = g->groups.n - (uint32_t)maxg + 1;
		warn(g,
		     "%u groups are needed but a recovery plan holds at most %lld: the last %u are "
		     "merged into group '%s'",
		     g->groups.n, (long long)maxg, merged, last->name);
		for (uint32_t k = (uint32_t)maxg; k < g->groups.n; k++) {
			const uint32_t *vv = gv[k].vms.v;
			for (uint32_t m = 0; m < gv[k].vms.n; m++)
				*(uint32_t *)lib_vec_push(&last->vms) = vv[m];
			lib_vec_free(&gv[k].vms);
		}
		g->groups.n = (uint32_t)maxg;
	}
	uint32_t nvm = 0;
	const struct rg_group *gv = g->groups.v;
	for (uint32_t k = 0; k < g->groups.n; k++)
		nvm += gv[k].vms.n;
	int64_t maxv = est_limit(e, EST_LIM_RECOVERY_PLAN_VMS);
	if ((int64_t)nvm > maxv)
		warn(g, "%u protected VMs exceed the %lld a recovery plan holds: split the plan",
		     nvm, (long long)maxv);
	free(prot);
	free(used);
}

/* ---- output ------------------------------------------------------------- */

static bool
in_plan(const struct rg *g, const struct rg_step *s)
{
	return !(g->o->preprovision && s->advance);
}

static void
yaml_actions(const struct rg *g, struct lib_buf *y, uint8_t at, const char *key)
{
	const struct rg_step *sv = g->steps.v;
	bool any = false;
	for (uint32_t i = 0; i < g->steps.n; i++) {
		if (sv[i].at != at || !in_plan(g, &sv[i]))
			continue;
		if (!any)
			lib_buf_printf(y, "    %s:\n", key);
		any = true;
		lib_buf_printf(y, "      - %s\n        direction: %s\n", sv[i].yaml,
		               sv[i].direction == EST_DIR_FAILBACK ? "failback" : "failover");
		lib_buf_puts(y, "        types: [planned, unplanned]\n");
	}
}

static const char *
plan_name(struct rg *g)
{
	return g->o->name ? g->o->name : fmt(g, "%s-failover", g->e->name ? g->e->name : "estate");
}

static const char *
topology_summary(struct rg *g)
{
	struct lib_buf b = {0};
	const struct rg_hub *hv = g->hubs.v;
	for (uint32_t i = 0; i < g->hubs.n; i++) {
		const char *t = rec_topology_name(hv[i].topo);
		bool seen = false;
		for (uint32_t k = 0; k < i && !seen; k++)
			seen = hv[k].topo == hv[i].topo;
		if (!seen)
			lib_buf_printf(&b, "%s%s", b.n ? "; " : "", t);
	}
	if (!b.n)
		lib_buf_puts(&b, g->rp->source_site.name
		                     ? "on-premises to Azure (no source hub to mirror)"
		                     : "no source VNet with an ExpressRoute gateway");
	return keep(g, &b);
}

static void
emit_yaml(struct rg *g, const char *name, const char *topo, struct lib_buf *y)
{
	lib_buf_printf(y, "  # generated by strait for estate %s: %s\n", g->e->name, topo);
	const struct rg_step *sv = g->steps.v;
	for (uint32_t i = 0; i < g->steps.n; i++)
		if (!in_plan(g, &sv[i]))
			lib_buf_printf(y, "  # before failover (--preprovision): %s\n", sv[i].what);
	lib_buf_puts(y, "  - name: ");
	put_str(y, name);
	lib_buf_puts(y, "\n");
	yaml_actions(g, y, RG_BEFORE, "before");
	const struct rg_group *gv = g->groups.v;
	if (g->groups.n)
		lib_buf_puts(y, "    groups:\n");
	for (uint32_t k = 0; k < g->groups.n; k++) {
		lib_buf_puts(y, "      - name: ");
		put_str(y, gv[k].name);
		lib_buf_puts(y, "\n        vms: [");
		const uint32_t *vv = gv[k].vms.v;
		for (uint32_t m = 0; m < gv[k].vms.n; m++) {
			if (m)
				lib_buf_puts(y, ", ");
			put_str(y, g->e->vms.v[vv[m]].name);
		}
		lib_buf_puts(y, "]\n");
	}
	yaml_actions(g, y, RG_AFTER, "after");
}

/* Failover minutes of the plan as generated with or without pre-provisioning. */
static int64_t
rto(const struct rg *g, bool pre)
{
	int64_t m = (int64_t)g->groups.n * RG_MIN_GROUP;
	const struct rg_step *sv = g->steps.v;
	for (uint32_t i = 0; i < g->steps.n; i++)
		if (sv[i].direction != EST_DIR_FAILBACK && !(pre && sv[i].advance))
			m += sv[i].minutes;
	return m;
}

static void
report_steps(const struct rg *g, struct lib_buf *r, uint8_t at)
{
	const struct rg_step *sv = g->steps.v;
	for (uint32_t i = 0; i < g->steps.n; i++)
		if (sv[i].at == at && sv[i].direction != EST_DIR_FAILBACK && in_plan(g, &sv[i]))
			lib_buf_printf(r, "  %3lld min  %s\n", (long long)sv[i].minutes,
			               sv[i].what);
}

static void
emit_report(struct rg *g, const char *name, const char *topo, struct lib_buf *r)
{
	const struct estate *e = g->e;
	const struct est_replication *rp = g->rp;
	const char *src = rp->source.name ? rp->source.name : rp->source_site.name;
	lib_buf_printf(r, "Recovery plan '%s' for estate '%s': %s to %s\n", name, e->name,
	               src ? src : "?", rp->target.name ? rp->target.name : "?");
	lib_buf_printf(r, "Topology: %s\n", topo);
	if (g->topo.s)
		lib_buf_puts(r, g->topo.s);
	if (g->notes.s)
		lib_buf_puts(r, g->notes.s);

	const struct rg_step *sv = g->steps.v;
	uint32_t nadv = 0;
	int64_t madv = 0;
	for (uint32_t i = 0; i < g->steps.n; i++)
		if (sv[i].advance) {
			nadv++;
			madv += sv[i].minutes;
		}
	lib_buf_puts(r, "Before failover:\n");
	if (g->o->preprovision && nadv) {
		lib_buf_puts(r, "  done in advance with --preprovision, not in the plan:\n");
		for (uint32_t i = 0; i < g->steps.n; i++)
			if (sv[i].advance)
				lib_buf_printf(r, "  %3lld min  %s\n", (long long)sv[i].minutes,
				               sv[i].what);
	} else if (nadv) {
		lib_buf_printf(r,
		               "  nothing is made in advance: the plan builds the target network "
		               "during failover; --preprovision moves its %u network step%s (%lld "
		               "minutes) before failover, as the seeds recommend\n",
		               nadv, nadv == 1 ? "" : "s", (long long)madv);
	} else {
		lib_buf_puts(r, "  nothing to make in advance: what the plan could build ahead "
		                "(gateway, connection, peerings, route tables) is in place or not "
		                "needed\n");
	}

	lib_buf_puts(r, "Plan steps on failover, in order:\n");
	report_steps(g, r, RG_BEFORE);
	const struct rg_group *gv = g->groups.v;
	for (uint32_t k = 0; k < g->groups.n; k++) {
		lib_buf_printf(r, "  %3d min  group '%s': ", RG_MIN_GROUP, gv[k].name);
		const uint32_t *vv = gv[k].vms.v;
		for (uint32_t m = 0; m < gv[k].vms.n; m++)
			lib_buf_printf(r, "%s%s", m ? ", " : "", e->vms.v[vv[m]].name);
		lib_buf_puts(r, "\n");
	}
	report_steps(g, r, RG_AFTER);
	bool fb = false;
	for (uint32_t i = 0; i < g->steps.n; i++)
		if (sv[i].direction == EST_DIR_FAILBACK && in_plan(g, &sv[i])) {
			if (!fb)
				lib_buf_puts(r, "Plan steps on failback, after the groups:\n");
			fb = true;
			lib_buf_printf(r, "           %s\n", sv[i].what);
		}

	int64_t now = rto(g, g->o->preprovision), other = rto(g, !g->o->preprovision);
	lib_buf_printf(r, "Estimated RTO: %lld minutes\n", (long long)now);
	if (now == other)
		lib_buf_printf(r, "%s --preprovision: the same\n",
		               g->o->preprovision ? "Without" : "With");
	else if (g->o->preprovision)
		lib_buf_printf(r, "Without --preprovision: %lld minutes (%lld more)\n",
		               (long long)other, (long long)(other - now));
	else
		lib_buf_printf(r, "With --preprovision: %lld minutes (%lld less)\n",
		               (long long)other, (long long)(now - other));
	const struct rg_hub *hv = g->hubs.v;
	for (uint32_t i = 0; i < g->hubs.n; i++) {
		if (hv[i].dis_at == EST_NONE || hv[i].con_at == EST_NONE)
			continue;
		int64_t gap = 0, pre = 0;
		for (uint32_t k = hv[i].dis_at; k <= hv[i].con_at; k++) {
			gap += in_plan(g, &sv[k]) ? sv[k].minutes : 0;
			pre += sv[k].advance ? 0 : sv[k].minutes;
		}
		lib_buf_printf(
		    r,
		    "On-premises reaches neither '%s' nor '%s' from the disconnect until "
		    "the target connects: %lld minutes",
		    g->e->vnets.v[hv[i].p->si].name, hv[i].p->tname, (long long)gap);
		if (gap != pre)
			lib_buf_printf(r, " (%lld with --preprovision)", (long long)pre);
		lib_buf_puts(r, "\n");
	}
	lib_buf_printf(r,
	               "Durations: gateway %lld min, connection %d, disconnect %d, peering %d, "
	               "route table %d, attach %d, preference %d, %d per group; steps run one "
	               "after another\n",
	               (long long)est_limit(e, EST_LIM_GATEWAY_CREATE_MINUTES), RG_MIN_CONNECT,
	               RG_MIN_DISCONNECT, RG_MIN_PEERING, RG_MIN_ROUTE_TABLE, RG_MIN_ATTACH,
	               RG_MIN_PREFERENCE, RG_MIN_GROUP);
}

/* ---- entry point -------------------------------------------------------- */

int
rec_generate(const struct estate *e, const struct rec_gen_opts *o, struct lib_buf *yaml_out,
             struct lib_buf *report, struct lib_diags *d)
{
	static const struct rec_gen_opts defaults = {0};
	if (!e || !yaml_out || !report)
		return -EINVAL;
	if (!e->replication) {
		if (d)
			lib_diag_add(
			    d, LIB_SEV_ERROR, e->file, 0, 0, "replication",
			    "add a replication section: source, target, protect",
			    "estate '%s' replicates nothing, so there is no plan to generate",
			    e->name ? e->name : "?");
		return -EINVAL;
	}
	struct rg g = {.e = e, .rp = e->replication, .o = o ? o : &defaults, .d = d};
	g.region = g.rp->target.name ? g.rp->target.name : "target";
	lib_arena_init(&g.a);
	lib_vec_init(&g.pairs, sizeof(struct rg_pair));
	lib_vec_init(&g.hubs, sizeof(struct rg_hub));
	lib_vec_init(&g.steps, sizeof(struct rg_step));
	lib_vec_init(&g.groups, sizeof(struct rg_group));
	g.by_src = lib_xcalloc(e->vnets.n + 1, sizeof(*g.by_src));

	collect_pairs(&g);
	collect_hubs(&g);
	disconnect_steps(&g);
	gateway_steps(&g);
	peering_steps(&g);
	route_table_steps(&g);
	swap_steps(&g);
	preference_steps(&g);
	plan_groups(&g);

	const char *name = plan_name(&g), *topo = topology_summary(&g);
	emit_yaml(&g, name, topo, yaml_out);
	emit_report(&g, name, topo, report);

	struct rg_group *gv = g.groups.v;
	for (uint32_t k = 0; k < g.groups.n; k++)
		lib_vec_free(&gv[k].vms);
	lib_vec_free(&g.groups);
	lib_vec_free(&g.steps);
	lib_vec_free(&g.hubs);
	lib_vec_free(&g.pairs);
	lib_buf_free(&g.topo);
	lib_buf_free(&g.notes);
	free(g.by_src);
	lib_arena_free(&g.a);
	return 0;
}
