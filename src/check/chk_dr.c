/*
 * chk_dr.c - Site Recovery and DR-readiness rules (DR2xx).
 *
 * Design: every rule reads e->replication (NULL means nothing is replicated)
 * and e->recovery_plans. Three views are shared by the rules:
 *   - pairs: each source VNet with the VNet it fails over to, from
 *     network_mapping or, with auto_target_networks, Site Recovery's
 *     <vnet>-asr mirror (a planned VNet with the source's address space);
 *   - the ExpressRoute reach of a VNet: the gateway carrying its on-premises
 *     traffic (its own, or a hub's through use_remote_gateways), the circuits
 *     connected to that gateway and the sites of those circuits;
 *   - plan steps flattened in run order (plan before, group 1 before and
 *     after, ..., plan after), so a step can be compared with the one that
 *     creates what it uses. Steps that run only on failback are left out of
 *     the failover view.
 * Objects that exist only as plan output (EST_REF_PLANNED) are matched by
 * name. Facts: seeds 000-002 and azure-facts section 3.
 */
#include "chk_internal.h"

#include <stdlib.h>
#include <string.h>

#define SEED_DR "seed: azure-vm-disaster-recovery-with-expressroute"
#define SEED_ER "seed: concepts-expressroute-with-site-recovery"

/* ---- small helpers ------------------------------------------------------ */

static struct chk_obj
repl_obj(const struct est_replication *rp)
{
	return (struct chk_obj){EST_K_NONE, "replication", rp->pos};
}

static bool
is_a2a(const struct est_replication *rp)
{
	return rp->source.name && !rp->source_site.name;
}

static bool
is_onprem(const struct est_replication *rp)
{
	return rp->source_site.name && !rp->source.name;
}

static uint32_t
region_of_vnet(const struct estate *e, uint32_t vi)
{
	const struct est_ref *r = &e->vnets.v[vi].region;
	return est_resolved(r) ? r->i : EST_NONE;
}

static const char *
region_name(const struct estate *e, uint32_t ri)
{
	return ri == EST_NONE ? "?" : e->regions.v[ri].name;
}

static const char *
region_geo(const struct estate *e, uint32_t ri)
{
	return ri == EST_NONE || !e->regions.v[ri].geo ? "?" : e->regions.v[ri].geo;
}

/* Index of v's gateway of the given type, or -1. */
static int
vnet_gateway(const struct est_vnet *v, int type)
{
	for (uint32_t g = 0; g < v->gateways.n; g++)
		if (v->gateways.v[g].type == type)
			return (int)g;
	return -1;
}

/* First overlap of two address-space lists; fills the two prefixes. */
static bool
spaces_overlap(const struct est_vnet *a, const struct est_vnet *b, const struct ip_prefix **pa,
               const struct ip_prefix **pb)
{
	for (uint32_t x = 0; x < a->address_space.n; x++)
		for (uint32_t y = 0; y < b->address_space.n; y++)
			if (ip_prefix_overlaps(&a->address_space.v[x], &b->address_space.v[y])) {
				*pa = &a->address_space.v[x];
				*pb = &b->address_space.v[y];
				return true;
			}
	return false;
}

static bool
has_storage_endpoint(const struct est_subnet *s)
{
	for (uint32_t i = 0; i < s->service_endpoints.n; i++)
		if (s->service_endpoints.v[i] == EST_SE_STORAGE ||
		    s->service_endpoints.v[i] == EST_SE_STORAGE_GLOBAL)
			return true;
	return false;
}

/* ---- ExpressRoute reach ------------------------------------------------- */

/* The VNet whose ExpressRoute gateway carries vi's on-premises traffic: vi
 * itself, or a hub it uses through use_remote_gateways; EST_NONE if none. */
static uint32_t
er_vnet(const struct estate *e, uint32_t vi)
{
	if (vnet_gateway(&e->vnets.v[vi], EST_GW_EXPRESSROUTE) >= 0)
		return vi;
	for (uint32_t p = 0; p < e->peerings.n; p++) {
		const struct est_vnet_peering *pe = &e->peerings.v[p];
		if (pe->use_remote_gateways && est_resolved(&pe->from) && pe->from.i == vi &&
		    est_resolved(&pe->to) &&
		    vnet_gateway(&e->vnets.v[pe->to.i], EST_GW_EXPRESSROUTE) >= 0)
			return pe->to.i;
	}
	return EST_NONE;
}

/* er_vnet of every VNet at once, in one pass over the peerings (heap). */
static uint32_t *
serving_gateways(const struct estate *e)
{
	uint32_t *gv = lib_xcalloc(e->vnets.n + 1, sizeof(*gv));
	for (uint32_t v = 0; v < e->vnets.n; v++)
		gv[v] = vnet_gateway(&e->vnets.v[v], EST_GW_EXPRESSROUTE) >= 0 ? v : EST_NONE;
	for (uint32_t p = 0; p < e->peerings.n; p++) {
		const struct est_vnet_peering *pe = &e->peerings.v[p];
		if (pe->use_remote_gateways && est_resolved(&pe->from) && est_resolved(&pe->to) &&
		    gv[pe->from.i] == EST_NONE &&
		    vnet_gateway(&e->vnets.v[pe->to.i], EST_GW_EXPRESSROUTE) >= 0)
			gv[pe->from.i] = pe->to.i;
	}
	return gv;
}

/* Is c an ExpressRoute connection of a gateway in VNet gv? */
static bool
er_connection_of(const struct estate *e, const struct est_connection *c, uint32_t gv)
{
	return est_resolved(&c->gateway) && est_resolved(&c->circuit) && c->gateway.i == gv &&
	       e->vnets.v[gv].gateways.v[c->gateway.j].type == EST_GW_EXPRESSROUTE;
}

/* Marks (mark[circuit] = true) the circuits connected to the ExpressRoute
 * gateway serving vi; returns how many. The first connection goes to *conn. */
static uint32_t
vnet_circuits(const struct estate *e, uint32_t vi, bool *mark, const struct est_connection **conn)
{
	uint32_t gv = er_vnet(e, vi), n = 0;
	if (conn)
		*conn = NULL;
	if (gv == EST_NONE)
		return 0;
	for (uint32_t k = 0; k < e->connections.n; k++) {
		const struct est_connection *c = &e->connections.v[k];
		if (!er_connection_of(e, c, gv))
			continue;
		if (conn && !*conn)
			*conn = c;
		if (!mark[c->circuit.i])
			n++;
		mark[c->circuit.i] = true;
	}
	return n;
}

static uint32_t
site_circuit_count(const struct estate *e, uint32_t site)
{
	uint32_t n = 0;
	for (uint32_t c = 0; c < e->circuits.n; c++)
		if (est_resolved(&e->circuits.v[c].site) && e->circuits.v[c].site.i == site)
			n++;
	return n;
}

/* Can circuit c reach region ri by its tier (azure-facts 1.2)? Unknown
 * locations or regions count as reachable: other rules report them. */
static bool
circuit_reaches(const struct estate *e, const struct est_circuit *c, uint32_t ri)
{
	if (ri == EST_NONE || !est_resolved(&c->location) || c->tier == EST_TIER_PREMIUM)
		return true;
	const struct est_location *l = &e->locations.v[c->location.i];
	if (c->tier == EST_TIER_LOCAL) {
		for (uint32_t k = 0; k < l->local_regions.n; k++)
			if (est_resolved(&l->local_regions.v[k]) && l->local_regions.v[k].i == ri)
				return true;
		return false;
	}
	return l->geo && e->regions.v[ri].geo && strcmp(l->geo, e->regions.v[ri].geo) == 0;
}

static const char *
circuit_geo(const struct estate *e, const struct est_circuit *c)
{
	if (!est_resolved(&c->location) || !e->locations.v[c->location.i].geo)
		return "?";
	return e->locations.v[c->location.i].geo;
}

/* ---- source -> target pairs --------------------------------------------- */

struct tgt {
	char name[128];
	const char *obj;    /* name for findings: lives as long as the estate */
	struct est_pos pos; /* where it is named (mapping target or source vnet) */
	uint32_t vi;        /* an existing VNet, or EST_NONE */
	uint32_t mirror_of; /* a planned <vnet>-asr mirror of this VNet, or EST_NONE */
};

struct pair {
	uint32_t si; /* source VNet */
	struct tgt t;
};

static struct chk_obj
tgt_obj(const struct tgt *t)
{
	return (struct chk_obj){EST_K_VNET, t->obj, t->pos};
}

/* The VNet whose address space t has: itself or the source it mirrors. */
static const struct est_vnet *
tgt_space(const struct estate *e, const struct tgt *t)
{
	if (t->vi != EST_NONE)
		return &e->vnets.v[t->vi];
	if (t->mirror_of != EST_NONE)
		return &e->vnets.v[t->mirror_of];
	return NULL;
}

static uint32_t
tgt_region(const struct estate *e, const struct est_replication *rp, const struct tgt *t)
{
	if (t->vi != EST_NONE)
		return region_of_vnet(e, t->vi);
	return est_resolved(&rp->target) ? rp->target.i : EST_NONE;
}

/* Describes a VNet reference that may be planned (a <vnet>-asr mirror). */
static void
tgt_from_ref(const struct estate *e, const struct est_ref *r, struct tgt *t)
{
	snprintf(t->name, sizeof(t->name), "%s", r->name ? r->name : "?");
	t->obj = r->name;
	t->pos = r->pos;
	t->vi = est_resolved(r) ? r->i : EST_NONE;
	t->mirror_of = EST_NONE;
	size_t n = strlen(t->name);
	if (t->vi == EST_NONE && n > 4 && strcmp(t->name + n - 4, "-asr") == 0) {
		char src[128];
		memcpy(src, t->name, n - 4);
		src[n - 4] = '\0';
		t->mirror_of = est_find(e, EST_K_VNET, src);
	}
}

/* Source VNets with their targets; *out is heap (free it). */
static uint32_t
collect_pairs(const struct estate *e, const struct est_replication *rp, struct pair **out)
{
	struct pair *p = lib_xcalloc(rp->network_mapping.n + e->vnets.n + 1, sizeof(*p));
	bool *seen = lib_xcalloc(e->vnets.n + 1, sizeof(*seen));
	uint32_t n = 0;
	for (uint32_t m = 0; m < rp->network_mapping.n; m++) {
		const struct est_net_map *nm = &rp->network_mapping.v[m];
		if (!est_resolved(&nm->source) || seen[nm->source.i] || !nm->target.name)
			continue;
		seen[nm->source.i] = true;
		p[n].si = nm->source.i;
		tgt_from_ref(e, &nm->target, &p[n].t);
		n++;
	}
	if (rp->auto_target_networks && is_a2a(rp) && est_resolved(&rp->source))
		for (uint32_t v = 0; v < e->vnets.n; v++) {
			if (seen[v] || region_of_vnet(e, v) != rp->source.i)
				continue;
			struct pair *q = &p[n++];
			q->si = v;
			snprintf(q->t.name, sizeof(q->t.name), "%s-asr", e->vnets.v[v].name);
			q->t.obj = e->vnets.v[v].name; /* the mirror is named after it */
			q->t.pos = e->vnets.v[v].pos;
			q->t.vi = est_find(e, EST_K_VNET, q->t.name);
			q->t.mirror_of = q->t.vi == EST_NONE ? v : EST_NONE;
		}
	free(seen);
	*out = p;
	return n;
}

/* ---- recovery-plan steps ------------------------------------------------ */

enum { AT_PLAN_BEFORE, AT_GROUP_BEFORE, AT_GROUP_AFTER, AT_PLAN_AFTER };

struct step {
	const struct est_action *a;
	uint8_t at;     /* AT_* */
	uint32_t group; /* for AT_GROUP_* */
	uint32_t nth;   /* 1-based within its list */
};

static bool
runs_on_failover(const struct est_action *a)
{
	if (a->direction == EST_DIR_FAILBACK)
		return false;
	if (a->types.n == 0)
		return true;
	for (uint32_t i = 0; i < a->types.n; i++)
		if (a->types.v[i] != EST_FO_TEST)
			return true;
	return false;
}

static void
push_steps(struct step *s, uint32_t *n, const struct est_action *v, uint32_t cnt, uint8_t at,
           uint32_t group)
{
	for (uint32_t i = 0; i < cnt; i++)
		if (runs_on_failover(&v[i]))
			s[(*n)++] = (struct step){&v[i], at, group, i + 1};
}

/* The failover steps of p in run order (heap). */
static struct step *
plan_steps(const struct est_plan *p, uint32_t *n)
{
	uint32_t cap = p->before.n + p->after.n + 1;
	for (uint32_t g = 0; g < p->groups.n; g++)
		cap += p->groups.v[g].before.n + p->groups.v[g].after.n;
	struct step *s = lib_xcalloc(cap, sizeof(*s));
	*n = 0;
	push_steps(s, n, p->before.v, p->before.n, AT_PLAN_BEFORE, 0);
	for (uint32_t g = 0; g < p->groups.n; g++) {
		const struct est_plan_group *pg = &p->groups.v[g];
		push_steps(s, n, pg->before.v, pg->before.n, AT_GROUP_BEFORE, g);
		push_steps(s, n, pg->after.v, pg->after.n, AT_GROUP_AFTER, g);
	}
	push_steps(s, n, p->after.v, p->after.n, AT_PLAN_AFTER, 0);
	return s;
}

/* "step 2 before group 'db' of plan 'p'" */
static const char *
step_where(const struct est_plan *p, const struct step *s, char *buf, size_t n)
{
	char gb[32];
	switch (s->at) {
	case AT_PLAN_BEFORE:
		snprintf(buf, n, "step %u before the groups of plan '%s'", s->nth, p->name);
		break;
	case AT_PLAN_AFTER:
		snprintf(buf, n, "step %u after the groups of plan '%s'", s->nth, p->name);
		break;
	default:
		snprintf(buf, n, "step %u %s group '%s' of plan '%s'", s->nth,
		         s->at == AT_GROUP_BEFORE ? "before" : "after",
		         chk_group_name(p, s->group, gb, sizeof(gb)), p->name);
	}
	return buf;
}

/* A step is named by its plan, positioned at the step. */
static struct chk_obj
step_obj(const struct est_plan *p, const struct est_action *a)
{
	return (struct chk_obj){EST_K_PLAN, p->name, a->pos};
}

/* Does step a create the object of kind k named name? */
static bool
step_creates(const struct est_action *a, enum est_kind k, const char *name)
{
	const char *n = NULL;
	if (k == EST_K_GATEWAY && a->kind == EST_ACT_CREATE_GATEWAY && a->create_gateway)
		n = a->create_gateway->name;
	else if (k == EST_K_CONNECTION && a->kind == EST_ACT_CONNECT && a->connect)
		n = a->connect->name;
	else if (k == EST_K_ROUTE_TABLE && a->kind == EST_ACT_CREATE_ROUTE_TABLE &&
	         a->create_route_table)
		n = a->create_route_table->name;
	else if (k == EST_K_PEERING && a->kind == EST_ACT_CREATE_PEERING && a->create_peering)
		n = a->create_peering->name;
	return n && name && strcmp(n, name) == 0;
}

/* A failover step of any plan for which pred holds; NULL when none. */
typedef bool (*step_pred)(const struct est_action *a, const void *arg);

static const struct est_action *
find_step(const struct estate *e, step_pred pred, const void *arg, const struct est_plan **pp)
{
	for (uint32_t i = 0; i < e->recovery_plans.n; i++) {
		const struct est_plan *p = &e->recovery_plans.v[i];
		uint32_t n;
		struct step *s = plan_steps(p, &n);
		const struct est_action *hit = NULL;
		for (uint32_t k = 0; k < n && !hit; k++)
			if (pred(s[k].a, arg))
				hit = s[k].a;
		free(s);
		if (hit) {
			if (pp)
				*pp = p;
			return hit;
		}
	}
	return NULL;
}

struct gw_in_vnet {
	const char *vnet;
	int type;
};

static bool
pred_create_gw_in(const struct est_action *a, const void *arg)
{
	const struct gw_in_vnet *q = arg;
	return a->kind == EST_ACT_CREATE_GATEWAY && a->create_gateway &&
	       a->create_gateway->type == q->type && a->create_gateway->vnet.name &&
	       strcmp(a->create_gateway->vnet.name, q->vnet) == 0;
}

static bool
pred_create_gw_named(const struct est_action *a, const void *arg)
{
	return step_creates(a, EST_K_GATEWAY, arg);
}

static bool
pred_connect_gw(const struct est_action *a, const void *arg)
{
	return a->kind == EST_ACT_CONNECT && a->connect && a->connect->gateway.name &&
	       strcmp(a->connect->gateway.name, arg) == 0;
}

static bool
pred_attach_subnet(const struct est_action *a, const void *arg)
{
	return a->kind == EST_ACT_ATTACH_ROUTE_TABLE && a->attach_route_table &&
	       a->attach_route_table->subnet.name &&
	       strcmp(a->attach_route_table->subnet.name, arg) == 0;
}

struct peer_ends {
	const char *from, *to;
};

static bool
pred_peering(const struct est_action *a, const void *arg)
{
	const struct peer_ends *q = arg;
	return a->kind == EST_ACT_CREATE_PEERING && a->create_peering &&
	       a->create_peering->from.name && a->create_peering->to.name &&
	       strcmp(a->create_peering->from.name, q->from) == 0 &&
	       strcmp(a->create_peering->to.name, q->to) == 0;
}

static bool
pred_disconnect(const struct est_action *a, const void *arg)
{
	return a->kind == EST_ACT_DISCONNECT && a->disconnect && a->disconnect->connection.name &&
	       strcmp(a->disconnect->connection.name, arg) == 0;
}

/* ---- DR201: replication through an NVA ---------------------------------- */

static const struct est_route *
default_route(const struct est_route_table *rt)
{
	for (uint32_t i = 0; i < rt->routes.n; i++) {
		const struct est_route *r = &rt->routes.v[i];
		if (r->prefix.a.af == IP_V4 && r->prefix.len == 0 &&
		    (r->next_hop == EST_NH_VIRTUAL_APPLIANCE ||
		     r->next_hop == EST_NH_VIRTUAL_NETWORK_GATEWAY))
			return r;
	}
	return NULL;
}

/* The subnet of protected VM i when it routes 0.0.0.0/0 away and has no
 * storage endpoint, with the route; NULL otherwise. */
static const struct est_subnet *
nva_subnet(const struct estate *e, uint32_t vm, const struct est_route **r)
{
	const struct est_subnet *sn = est_ref_subnet(e, &e->vms.v[vm].subnet);
	if (!sn || !est_resolved(&sn->route_table) || has_storage_endpoint(sn))
		return NULL;
	*r = default_route(&e->route_tables.v[sn->route_table.i]);
	return *r ? sn : NULL;
}

/* One finding per subnet, naming its protected VMs (work: protect list squared). */
static void
dr201(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp)
		return;
	bool *done = lib_xcalloc(e->vms.n + 1, sizeof(*done));
	for (uint32_t i = 0; i < rp->protect.n; i++) {
		const struct est_ref *pr = &rp->protect.v[i];
		const struct est_route *r;
		const struct est_subnet *sn;
		if (!est_resolved(pr) || done[pr->i] || !(sn = nva_subnet(e, pr->i, &r)))
			continue;
		const struct est_ref *at = &e->vms.v[pr->i].subnet;
		struct lib_buf vms = {0};
		uint32_t n = 0;
		for (uint32_t k = i; k < rp->protect.n; k++) {
			const struct est_ref *q = &rp->protect.v[k];
			if (!est_resolved(q) || done[q->i])
				continue;
			const struct est_ref *qs = &e->vms.v[q->i].subnet;
			if (!est_resolved(qs) || qs->i != at->i || qs->j != at->j)
				continue;
			done[q->i] = true;
			if (n < 3)
				lib_buf_printf(&vms, "%s'%s'", n ? ", " : "", q->name);
			n++;
		}
		if (n > 3)
			lib_buf_printf(&vms, " and %u more", n - 3);
		const struct est_route_table *rt = &e->route_tables.v[sn->route_table.i];
		char ip[IP_STRLEN], via[128];
		bool nva = r->next_hop == EST_NH_VIRTUAL_APPLIANCE;
		if (nva)
			snprintf(via, sizeof(via), "sends 0.0.0.0/0 to virtual appliance %s",
			         r->ip.af ? ip_addr_fmt(&r->ip, ip) : "?");
		else
			snprintf(via, sizeof(via),
			         "forces 0.0.0.0/0 to a virtual network gateway (on-premises)");
		chk_report2(c, CHK_O(EST_K_SUBNET, sn), chk_ref_obj(EST_K_VM, pr),
		            "subnet '%s' of protected vm%s %s has route table '%s' that %s and no "
		            "Microsoft.Storage service endpoint: %s carries all of their "
		            "replication traffic",
		            at->name, n == 1 ? "" : "s", vms.s, rt->name, via,
		            nva ? "the NVA" : "the gateway");
		lib_buf_free(&vms);
	}
	free(done);
}

/* ---- DR202, DR203: on-premises replication over ExpressRoute ------------ */

static void
dr202(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp || !is_onprem(rp) || rp->path != EST_RP_PRIVATE_PEERING ||
	    rp->vault.private_endpoints)
		return;
	chk_report2(c, repl_obj(rp), chk_ref_obj(EST_K_SITE, &rp->source_site),
	            "replication from site '%s' runs over private peering but vault '%s' has no "
	            "private endpoints: Site Recovery replicates over private peering only through "
	            "the vault's private endpoints",
	            rp->source_site.name, rp->vault.name ? rp->vault.name : "(unnamed)");
}

static bool
filter_has_storage(const struct est_peering_cfg *mp, uint32_t target)
{
	for (uint32_t f = 0; f < mp->route_filter.n; f++) {
		const struct est_filter_rule *fr = &mp->route_filter.v[f];
		if (fr->service == EST_SVC_AZURE_STORAGE && est_resolved(&fr->region) &&
		    fr->region.i == target)
			return true;
	}
	return false;
}

static void
dr203(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp || !is_onprem(rp) || rp->path != EST_RP_MICROSOFT_PEERING ||
	    !est_resolved(&rp->source_site) || !est_resolved(&rp->target))
		return;
	uint32_t ncirc = 0, nms = 0;
	struct lib_buf names = {0};
	for (uint32_t i = 0; i < e->circuits.n; i++) {
		const struct est_circuit *ci = &e->circuits.v[i];
		if (!est_resolved(&ci->site) || ci->site.i != rp->source_site.i)
			continue;
		ncirc++;
		if (!ci->microsoft_peering)
			continue;
		if (filter_has_storage(ci->microsoft_peering, rp->target.i)) {
			lib_buf_free(&names);
			return;
		}
		lib_buf_printf(&names, "%s'%s'", nms++ ? ", " : "", ci->name);
	}
	const char *site = rp->source_site.name, *tr = rp->target.name;
	if (ncirc == 0)
		chk_report2(c, repl_obj(rp), chk_ref_obj(EST_K_SITE, &rp->source_site),
		            "replication from site '%s' runs over Microsoft peering but the site "
		            "has no circuit",
		            site);
	else if (nms == 0)
		chk_report2(c, repl_obj(rp), chk_ref_obj(EST_K_SITE, &rp->source_site),
		            "replication from site '%s' runs over Microsoft peering but none of "
		            "its %u circuit%s has a Microsoft peering",
		            site, ncirc, ncirc == 1 ? "" : "s");
	else
		chk_report2(c, repl_obj(rp), chk_ref_obj(EST_K_SITE, &rp->source_site),
		            "replication from site '%s' runs over Microsoft peering but no route "
		            "filter on its Microsoft peering (%s) lets azure_storage for target "
		            "region '%s' through: the replication endpoint is not advertised",
		            site, names.s, tr);
	lib_buf_free(&names);
}

/* ---- DR204, DR214, DR216, DR217: what replicates from where ------------- */

static void
dr204(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp)
		return;
	if (!rp->source.name && !rp->source_site.name) {
		chk_report1(c, repl_obj(rp),
		            "replication names neither a source region (Azure to Azure) nor a "
		            "source site (on-premises to Azure)");
		return;
	}
	if (rp->source.name && rp->source_site.name) {
		chk_report1(c, repl_obj(rp),
		            "replication names both source region '%s' and source site '%s'; it "
		            "has exactly one source",
		            rp->source.name, rp->source_site.name);
		return;
	}
	if (!is_a2a(rp) || !est_resolved(&rp->source) || !est_resolved(&rp->target))
		return;
	if (rp->source.i == rp->target.i)
		chk_report1(c, repl_obj(rp),
		            "replication target region '%s' is its source region: a regional "
		            "outage takes both",
		            rp->target.name);
	for (uint32_t m = 0; m < rp->network_mapping.n; m++) {
		const struct est_net_map *nm = &rp->network_mapping.v[m];
		if (est_resolved(&nm->source) && region_of_vnet(e, nm->source.i) != rp->source.i)
			chk_report1(c, chk_ref_obj(EST_K_VNET, &nm->source),
			            "network mapping source vnet '%s' is in region '%s', not the "
			            "source region '%s'",
			            nm->source.name,
			            region_name(e, region_of_vnet(e, nm->source.i)),
			            rp->source.name);
		if (est_resolved(&nm->target) && region_of_vnet(e, nm->target.i) != rp->target.i)
			chk_report1(c, chk_ref_obj(EST_K_VNET, &nm->target),
			            "network mapping target vnet '%s' is in region '%s', not the "
			            "target region '%s'",
			            nm->target.name,
			            region_name(e, region_of_vnet(e, nm->target.i)),
			            rp->target.name);
	}
}

static void
dr214(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp || !(is_a2a(rp) ? est_resolved(&rp->source)
	                        : is_onprem(rp) && est_resolved(&rp->source_site)))
		return;
	bool *seen = lib_xcalloc(e->vms.n + 1, sizeof(*seen));
	for (uint32_t i = 0; i < rp->protect.n; i++) {
		const struct est_ref *pr = &rp->protect.v[i];
		if (!est_resolved(pr) || seen[pr->i])
			continue;
		seen[pr->i] = true;
		const struct est_vm *vm = &e->vms.v[pr->i];
		bool in_vnet = est_resolved(&vm->subnet), at_site = est_resolved(&vm->site);
		if (is_a2a(rp)) {
			uint32_t r = in_vnet ? region_of_vnet(e, vm->subnet.i) : EST_NONE;
			if (in_vnet && r != rp->source.i)
				chk_report1(c, chk_ref_obj(EST_K_VM, pr),
				            "protected vm '%s' is in region '%s', not the source "
				            "region '%s'",
				            vm->name, region_name(e, r), rp->source.name);
			else if (!in_vnet && at_site)
				chk_report1(
				    c, chk_ref_obj(EST_K_VM, pr),
				    "protected vm '%s' is an on-premises machine at site '%s' "
				    "but replication is Azure to Azure from '%s'",
				    vm->name, vm->site.name, rp->source.name);
		} else {
			if (at_site && vm->site.i != rp->source_site.i)
				chk_report1(
				    c, chk_ref_obj(EST_K_VM, pr),
				    "protected vm '%s' is at site '%s', not the source site "
				    "'%s'",
				    vm->name, vm->site.name, rp->source_site.name);
			else if (!at_site && in_vnet)
				chk_report1(
				    c, chk_ref_obj(EST_K_VM, pr),
				    "protected vm '%s' is an Azure VM in '%s' but replication "
				    "is from on-premises site '%s'",
				    vm->name, vm->subnet.name, rp->source_site.name);
		}
	}
	free(seen);
}

static const char *const path_names[] = {"backbone", "microsoft_peering", "private_peering",
                                         "internet"};

static const char *
path_name(int p)
{
	return p >= 0 && (size_t)p < LIB_ARRAY_LEN(path_names) ? path_names[p] : "?";
}

static void
dr216(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp || !is_onprem(rp) || rp->path != EST_RP_BACKBONE)
		return;
	chk_report1(c, repl_obj(rp),
	            "replication from on-premises site '%s' uses path backbone (the default), "
	            "which only Azure-to-Azure replication travels: choose microsoft_peering, "
	            "private_peering (with vault private endpoints) or internet",
	            rp->source_site.name);
}

static void
dr217(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp || !is_a2a(rp) || rp->path == EST_RP_BACKBONE)
		return;
	chk_report1(c, repl_obj(rp),
	            "Azure-to-Azure replication from '%s' always stays on the Azure backbone; "
	            "path %s is not used (ExpressRoute is neither needed nor used for it)",
	            rp->source.name, path_name(rp->path));
}

/* ---- DR205: replication groups ------------------------------------------ */

static void
dr205(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp)
		return;
	int64_t lim = est_limit(e, EST_LIM_REPLICATION_GROUP_VMS);
	/* owner[vm] = group index + 1 of the first group naming it */
	uint32_t *owner = lib_xcalloc(e->vms.n + 1, sizeof(*owner));
	bool *prot = chk_protect_marks(e);
	for (uint32_t g = 0; g < rp->groups.n; g++) {
		const struct est_repl_group *rg = &rp->groups.v[g];
		if ((int64_t)rg->vms.n > lim)
			chk_report1(c, CHK_O(EST_K_REPL_GROUP, rg),
			            "replication group '%s' has %u VMs, over the limit of %lld",
			            rg->name, rg->vms.n, (long long)lim);
		for (uint32_t k = 0; k < rg->vms.n; k++) {
			const struct est_ref *r = &rg->vms.v[k];
			if (!est_resolved(r))
				continue;
			if (!prot[r->i])
				chk_report2(c, chk_ref_obj(EST_K_VM, r),
				            CHK_O(EST_K_REPL_GROUP, rg),
				            "vm '%s' in replication group '%s' is not protected",
				            r->name, rg->name);
			if (owner[r->i] == g + 1)
				chk_report2(c, chk_ref_obj(EST_K_VM, r),
				            CHK_O(EST_K_REPL_GROUP, rg),
				            "vm '%s' is listed twice in replication group '%s'",
				            r->name, rg->name);
			else if (owner[r->i])
				chk_report2(c, chk_ref_obj(EST_K_VM, r),
				            CHK_O(EST_K_REPL_GROUP, rg),
				            "vm '%s' is in replication groups '%s' and '%s'; a VM "
				            "joins one group",
				            r->name, rp->groups.v[owner[r->i] - 1].name, rg->name);
			else
				owner[r->i] = g + 1;
		}
	}
	free(prot);
	free(owner);
}

/* ---- DR206: single circuit, same address space -------------------------- */

static void
dr206(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp || !is_a2a(rp))
		return;
	struct pair *p;
	uint32_t np = collect_pairs(e, rp, &p);
	bool *mark = lib_xcalloc(e->circuits.n + 1, sizeof(*mark));
	for (uint32_t k = 0; k < np; k++) {
		const struct est_vnet *sv = &e->vnets.v[p[k].si], *tv = tgt_space(e, &p[k].t);
		const struct ip_prefix *ps, *pt;
		if (!tv || !spaces_overlap(sv, tv, &ps, &pt))
			continue;
		memset(mark, 0, (e->circuits.n + 1) * sizeof(*mark));
		const struct est_connection *conn;
		if (vnet_circuits(e, p[k].si, mark, &conn) == 0)
			continue;
		/* single: every site behind those circuits has one circuit in all */
		bool single = true;
		uint32_t one = EST_NONE;
		for (uint32_t ci = 0; ci < e->circuits.n && single; ci++) {
			if (!mark[ci])
				continue;
			const struct est_ref *s = &e->circuits.v[ci].site;
			if (!est_resolved(s) || site_circuit_count(e, s->i) != 1)
				single = false;
			else if (one == EST_NONE)
				one = ci;
		}
		if (!single || one == EST_NONE)
			continue;
		const struct est_circuit *ci = &e->circuits.v[one];
		const struct est_plan *dp = NULL;
		bool disc = conn && find_step(e, pred_disconnect, conn->name, &dp);
		char a[IP_STRLEN], b[IP_STRLEN];
		chk_report2(
		    c, tgt_obj(&p[k].t), CHK_O(EST_K_VNET, sv),
		    "target vnet '%s' (%s) overlaps its source '%s' (%s) and site '%s' has "
		    "the single circuit '%s': they cannot both be connected to it, so the source "
		    "connection '%s' must be removed before the target connects, which may "
		    "fail in a regional outage (%s%s%s)",
		    p[k].t.name, ip_prefix_fmt(pt, b), sv->name, ip_prefix_fmt(ps, a),
		    ci->site.name, ci->name, conn ? conn->name : "?",
		    disc ? "recovery plan '" : "no recovery plan disconnects it",
		    disc ? dp->name : "", disc ? "' disconnects it" : "");
	}
	free(mark);
	free(p);
}

/* ---- DR207: target outside the reach of the circuits -------------------- */

/* Region of the gateway a connect step names: existing, or created by a plan
 * in an existing VNet or a Site Recovery mirror in the target region. */
static uint32_t
connect_region(const struct estate *e, const struct est_replication *rp,
               const struct est_act_connect *cn)
{
	if (est_resolved(&cn->gateway))
		return region_of_vnet(e, cn->gateway.i);
	const struct est_action *cg = find_step(e, pred_create_gw_named, cn->gateway.name, NULL);
	if (!cg)
		return EST_NONE;
	if (est_resolved(&cg->create_gateway->vnet))
		return region_of_vnet(e, cg->create_gateway->vnet.i);
	return rp && est_resolved(&rp->target) ? rp->target.i : EST_NONE;
}

static void
dr207_plans(const struct estate *e, struct chk_ctx *c, const struct est_replication *rp)
{
	for (uint32_t i = 0; i < e->recovery_plans.n; i++) {
		const struct est_plan *p = &e->recovery_plans.v[i];
		uint32_t n;
		struct step *s = plan_steps(p, &n);
		for (uint32_t k = 0; k < n; k++) {
			const struct est_act_connect *cn = s[k].a->connect;
			if (s[k].a->kind != EST_ACT_CONNECT || !cn || !est_resolved(&cn->circuit))
				continue;
			const struct est_circuit *ci = &e->circuits.v[cn->circuit.i];
			uint32_t r = connect_region(e, rp, cn);
			if (circuit_reaches(e, ci, r))
				continue;
			char w[256];
			chk_report2(
			    c, step_obj(p, s[k].a), CHK_O(EST_K_CIRCUIT, ci),
			    "%s connects gateway '%s' in region '%s' (geo %s) to %s circuit "
			    "'%s' (geo %s), which cannot reach it; a target in another "
			    "geopolitical region needs a premium circuit",
			    step_where(p, &s[k], w, sizeof(w)), cn->gateway.name, region_name(e, r),
			    region_geo(e, r), est_tier_name(ci->tier), ci->name,
			    circuit_geo(e, ci));
		}
		free(s);
	}
}

static void
dr207(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp || !est_resolved(&rp->target))
		return;
	uint32_t tr = rp->target.i;
	bool *sites = lib_xcalloc(e->sites.n + 1, sizeof(*sites));
	if (is_onprem(rp) && est_resolved(&rp->source_site)) {
		sites[rp->source_site.i] = true;
	} else if (is_a2a(rp) && est_resolved(&rp->source)) {
		/* the gateways serving source VNets, then their circuits' sites */
		uint32_t *gv = serving_gateways(e);
		bool *gwm = lib_xcalloc(e->vnets.n + 1, sizeof(*gwm));
		for (uint32_t v = 0; v < e->vnets.n; v++)
			if (gv[v] != EST_NONE && region_of_vnet(e, v) == rp->source.i)
				gwm[gv[v]] = true;
		for (uint32_t k = 0; k < e->connections.n; k++) {
			const struct est_connection *cn = &e->connections.v[k];
			if (est_resolved(&cn->gateway) && gwm[cn->gateway.i] &&
			    er_connection_of(e, cn, cn->gateway.i) &&
			    est_resolved(&e->circuits.v[cn->circuit.i].site))
				sites[e->circuits.v[cn->circuit.i].site.i] = true;
		}
		free(gwm);
		free(gv);
	}
	for (uint32_t s = 0; s < e->sites.n; s++) {
		if (!sites[s])
			continue;
		struct lib_buf list = {0};
		bool reach = false;
		uint32_t n = 0;
		for (uint32_t ci = 0; ci < e->circuits.n && !reach; ci++) {
			const struct est_circuit *cc = &e->circuits.v[ci];
			if (!est_resolved(&cc->site) || cc->site.i != s)
				continue;
			reach = circuit_reaches(e, cc, tr);
			lib_buf_printf(&list, "%s'%s' (%s, geo %s)", n++ ? ", " : "", cc->name,
			               est_tier_name(cc->tier), circuit_geo(e, cc));
		}
		if (!reach && n)
			chk_report2(
			    c, repl_obj(rp), CHK_O(EST_K_SITE, &e->sites.v[s]),
			    "target region '%s' (geo %s) is reachable from site '%s' only "
			    "through circuits that cannot reach it: %s; a target in another "
			    "geopolitical region needs a premium circuit",
			    rp->target.name, region_geo(e, tr), e->sites.v[s].name, list.s);
		lib_buf_free(&list);
	}
	free(sites);
	dr207_plans(e, c, rp);
}

/* ---- DR208-DR211: target network readiness (RTO) ------------------------ */

static void
dr208(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp)
		return;
	struct pair *p;
	uint32_t np = collect_pairs(e, rp, &p);
	int64_t mins = est_limit(e, EST_LIM_GATEWAY_CREATE_MINUTES);
	for (uint32_t k = 0; k < np; k++) {
		const struct est_vnet *sv = &e->vnets.v[p[k].si];
		const struct tgt *t = &p[k].t;
		if (vnet_gateway(sv, EST_GW_EXPRESSROUTE) < 0 ||
		    (t->vi != EST_NONE &&
		     vnet_gateway(&e->vnets.v[t->vi], EST_GW_EXPRESSROUTE) >= 0))
			continue;
		struct gw_in_vnet q = {t->name, EST_GW_EXPRESSROUTE};
		const struct est_plan *pl;
		const struct est_action *a = find_step(e, pred_create_gw_in, &q, &pl);
		if (a)
			chk_report2(c, tgt_obj(t), step_obj(pl, a),
			            "target hub '%s' (for '%s') has no ExpressRoute gateway; "
			            "recovery plan '%s' creates '%s' during failover, adding about "
			            "%lld minutes to the RTO",
			            t->name, sv->name, pl->name, a->create_gateway->name,
			            (long long)mins);
		else
			chk_report2(
			    c, tgt_obj(t), CHK_O(EST_K_VNET, sv),
			    "target hub '%s' (for '%s') has no ExpressRoute gateway and "
			    "nothing creates it: on-premises cannot reach the recovered VMs, "
			    "and creating one takes about %lld minutes",
			    t->name, sv->name, (long long)mins);
	}
	free(p);
}

/* Would connecting the target to cn's circuit now clash with the source? */
static bool
connect_blocked(const struct estate *e, const struct pair *pr, const struct est_act_connect *cn)
{
	const struct est_vnet *tv = tgt_space(e, &pr->t);
	const struct ip_prefix *a, *b;
	if (!tv || !est_resolved(&cn->circuit) || !spaces_overlap(&e->vnets.v[pr->si], tv, &a, &b))
		return false;
	bool *mark = lib_xcalloc(e->circuits.n + 1, sizeof(*mark));
	vnet_circuits(e, pr->si, mark, NULL);
	bool hit = mark[cn->circuit.i];
	free(mark);
	return hit;
}

static void
dr209(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp)
		return;
	struct pair *p;
	uint32_t np = collect_pairs(e, rp, &p);
	for (uint32_t k = 0; k < np; k++) {
		const struct est_vnet *sv = &e->vnets.v[p[k].si];
		const struct tgt *t = &p[k].t;
		if (vnet_gateway(sv, EST_GW_EXPRESSROUTE) < 0)
			continue;
		const char *gw = NULL;
		if (t->vi != EST_NONE) {
			int g = vnet_gateway(&e->vnets.v[t->vi], EST_GW_EXPRESSROUTE);
			if (g >= 0) {
				gw = e->vnets.v[t->vi].gateways.v[g].name;
				bool conn = false;
				for (uint32_t i = 0; i < e->connections.n && !conn; i++) {
					const struct est_ref *r = &e->connections.v[i].gateway;
					conn =
					    est_resolved(r) && r->i == t->vi && r->j == (uint32_t)g;
				}
				if (conn)
					continue;
			}
		}
		if (!gw) {
			struct gw_in_vnet q = {t->name, EST_GW_EXPRESSROUTE};
			const struct est_action *cg = find_step(e, pred_create_gw_in, &q, NULL);
			gw = cg ? cg->create_gateway->name : NULL;
		}
		const struct est_plan *pl;
		const struct est_action *a = gw ? find_step(e, pred_connect_gw, gw, &pl) : NULL;
		if (a)
			chk_report2(c, tgt_obj(t), step_obj(pl, a),
			            "target hub '%s' (for '%s') has no connection to a circuit; "
			            "recovery plan '%s' connects '%s' to '%s' during failover%s",
			            t->name, sv->name, pl->name, gw, a->connect->circuit.name,
			            connect_blocked(e, &p[k], a->connect)
			                ? " (it cannot be connected earlier: the target overlaps "
			                  "the source, which holds that circuit)"
			                : "");
		else
			chk_report2(
			    c, tgt_obj(t), CHK_O(EST_K_VNET, sv),
			    "target hub '%s' (for '%s') has no connection to a circuit and "
			    "nothing connects %s%s%s: on-premises cannot reach the recovered "
			    "VMs",
			    t->name, sv->name, gw ? "gateway '" : "one", gw ? gw : "",
			    gw ? "'" : "");
	}
	free(p);
}

/* by_src[vnet] = its pair's index + 1, or 0 (heap). */
static uint32_t *
pairs_by_source(const struct estate *e, const struct pair *p, uint32_t np)
{
	uint32_t *by = lib_xcalloc(e->vnets.n + 1, sizeof(*by));
	for (uint32_t k = 0; k < np; k++)
		by[p[k].si] = k + 1;
	return by;
}

/* Names the first of the four flags on which two peerings differ. */
static const char *
peering_diff(const struct est_vnet_peering *a, const struct est_vnet_peering *b, bool *va)
{
	const bool fa[] = {a->allow_virtual_network_access, a->allow_forwarded_traffic,
	                   a->allow_gateway_transit, a->use_remote_gateways};
	const bool fb[] = {b->allow_virtual_network_access, b->allow_forwarded_traffic,
	                   b->allow_gateway_transit, b->use_remote_gateways};
	static const char *const names[] = {"allow_virtual_network_access",
	                                    "allow_forwarded_traffic", "allow_gateway_transit",
	                                    "use_remote_gateways"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(names); i++)
		if (fa[i] != fb[i]) {
			*va = fa[i];
			return names[i];
		}
	return NULL;
}

static void
dr210(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp)
		return;
	struct pair *p;
	uint32_t np = collect_pairs(e, rp, &p);
	uint32_t *by = pairs_by_source(e, p, np);
	for (uint32_t i = 0; i < e->peerings.n; i++) {
		const struct est_vnet_peering *sp = &e->peerings.v[i];
		if (!est_resolved(&sp->from) || !est_resolved(&sp->to))
			continue;
		if (!by[sp->from.i] || !by[sp->to.i])
			continue;
		const struct tgt *tf = &p[by[sp->from.i] - 1].t, *tt = &p[by[sp->to.i] - 1].t;
		const struct est_vnet_peering *tp = NULL;
		for (uint32_t k = 0; k < e->peerings.n && !tp; k++) {
			const struct est_vnet_peering *q = &e->peerings.v[k];
			if (q->from.name && q->to.name && strcmp(q->from.name, tf->name) == 0 &&
			    strcmp(q->to.name, tt->name) == 0)
				tp = q;
		}
		const struct est_plan *pl = NULL;
		const struct est_action *a = NULL;
		if (!tp) {
			struct peer_ends q = {tf->name, tt->name};
			a = find_step(e, pred_peering, &q, &pl);
			tp = a ? a->create_peering : NULL;
		}
		if (!tp) {
			chk_report2(
			    c, CHK_O(EST_K_PEERING, sp), tgt_obj(tf),
			    "peering '%s' has no equivalent from '%s' to '%s' in the target "
			    "and nothing creates it",
			    sp->name, tf->name, tt->name);
			continue;
		}
		if (a)
			chk_report2(
			    c, CHK_O(EST_K_PEERING, sp), step_obj(pl, a),
			    "peering '%s' has no equivalent from '%s' to '%s' in the target; "
			    "recovery plan '%s' creates it during failover",
			    sp->name, tf->name, tt->name, pl->name);
		bool sv;
		const char *d = peering_diff(sp, tp, &sv);
		if (d)
			chk_report2(
			    c, CHK_O(EST_K_PEERING, tp), CHK_O(EST_K_PEERING, sp),
			    "target peering '%s' sets %s to %s but source peering '%s' sets "
			    "it to %s",
			    tp->name, d, sv ? "false" : "true", sp->name, sv ? "true" : "false");
	}
	free(by);
	free(p);
}

/* The subnet Site Recovery picks in target VNet tv for source subnet name:
 * the same name, else the alphabetically first (azure-facts 3.2). */
static const struct est_subnet *
target_subnet(const struct est_vnet *tv, const char *name)
{
	const struct est_subnet *first = NULL;
	for (uint32_t s = 0; s < tv->subnets.n; s++) {
		const struct est_subnet *sn = &tv->subnets.v[s];
		if (strcmp(sn->name, name) == 0)
			return sn;
		if (!first || strcmp(sn->name, first->name) < 0)
			first = sn;
	}
	return first;
}

static void
dr211(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp)
		return;
	struct pair *p;
	uint32_t np = collect_pairs(e, rp, &p);
	for (uint32_t k = 0; k < np; k++) {
		const struct est_vnet *sv = &e->vnets.v[p[k].si];
		const struct tgt *t = &p[k].t;
		for (uint32_t s = 0; s < sv->subnets.n; s++) {
			const struct est_subnet *ss = &sv->subnets.v[s];
			if (!est_resolved(&ss->route_table))
				continue;
			char path[256];
			if (t->vi != EST_NONE) {
				const struct est_subnet *ts =
				    target_subnet(&e->vnets.v[t->vi], ss->name);
				if (!ts || est_resolved(&ts->route_table))
					continue;
				snprintf(path, sizeof(path), "%s/%s", t->name, ts->name);
			} else {
				snprintf(path, sizeof(path), "%s/%s", t->name, ss->name);
			}
			const char *rt = e->route_tables.v[ss->route_table.i].name;
			const struct est_plan *pl;
			const struct est_action *a = find_step(e, pred_attach_subnet, path, &pl);
			if (a)
				chk_report2(
				    c, CHK_O(EST_K_SUBNET, ss), step_obj(pl, a),
				    "subnet '%s/%s' has route table '%s' but target subnet "
				    "'%s' has none; recovery plan '%s' attaches '%s' during "
				    "failover",
				    sv->name, ss->name, rt, path, pl->name,
				    a->attach_route_table->route_table.name);
			else
				chk_report2(c, CHK_O(EST_K_SUBNET, ss), tgt_obj(t),
				            "subnet '%s/%s' has route table '%s' but target subnet "
				            "'%s' has none and nothing attaches one",
				            sv->name, ss->name, rt, path);
		}
	}
	free(p);
}

/* ---- DR212, DR218: the test-failover network ---------------------------- */

static void
dr212(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp || !rp->test_network.name)
		return;
	struct tgt tn;
	tgt_from_ref(e, &rp->test_network, &tn);
	struct pair *p;
	uint32_t np = collect_pairs(e, rp, &p);
	for (uint32_t k = 0; k < np; k++)
		if (strcmp(p[k].t.name, tn.name) == 0) {
			chk_report2(c, tgt_obj(&tn), CHK_O(EST_K_VNET, &e->vnets.v[p[k].si]),
			            "test-failover network '%s' is the failover network of '%s': "
			            "drills would run in the production recovery network",
			            tn.name, e->vnets.v[p[k].si].name);
			break;
		}
	free(p);
	uint32_t r = tgt_region(e, rp, &tn);
	if (est_resolved(&rp->target) && r != EST_NONE && r != rp->target.i)
		chk_report1(c, tgt_obj(&tn),
		            "test-failover network '%s' is in region '%s', not the target region "
		            "'%s' where test VMs are created",
		            tn.name, region_name(e, r), rp->target.name);
}

static void
dr218(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp || !rp->test_network.name)
		return;
	struct tgt tn;
	tgt_from_ref(e, &rp->test_network, &tn);
	const struct est_vnet *ts = tgt_space(e, &tn);
	uint32_t tr = tgt_region(e, rp, &tn);
	if (!ts)
		return;
	bool *mark = lib_xcalloc(e->circuits.n + 1, sizeof(*mark));
	for (uint32_t v = 0; v < e->vnets.n; v++) {
		const struct ip_prefix *pt, *pv;
		if (v == tn.vi || !spaces_overlap(ts, &e->vnets.v[v], &pt, &pv))
			continue;
		memset(mark, 0, (e->circuits.n + 1) * sizeof(*mark));
		if (vnet_circuits(e, v, mark, NULL) == 0)
			continue;
		for (uint32_t ci = 0; ci < e->circuits.n; ci++) {
			if (!mark[ci] || !circuit_reaches(e, &e->circuits.v[ci], tr))
				continue;
			char a[IP_STRLEN], b[IP_STRLEN];
			chk_report2(
			    c, tgt_obj(&tn), CHK_O(EST_K_VNET, &e->vnets.v[v]),
			    "test-failover network '%s' (%s) overlaps production vnet '%s' "
			    "(%s), which reaches on-premises through circuit '%s': the drill "
			    "network cannot be connected to '%s' while production is; give "
			    "drills a different address space",
			    tn.name, ip_prefix_fmt(pt, a), e->vnets.v[v].name, ip_prefix_fmt(pv, b),
			    e->circuits.v[ci].name, e->circuits.v[ci].name);
			break;
		}
	}
	free(mark);
}

/* ---- DR215: recovery-plan step order ------------------------------------ */

/* Index of the step of s[0..n) creating (k, name), or n when none. */
static uint32_t
creator(const struct step *s, uint32_t n, enum est_kind k, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (step_creates(s[i].a, k, name))
			return i;
	return n;
}

/* A planned reference used by step i must be created by an earlier step. */
static void
check_use(struct chk_ctx *c, const struct est_plan *p, const struct step *s, uint32_t n, uint32_t i,
          enum est_kind k, const struct est_ref *r)
{
	if (r->state != EST_REF_PLANNED)
		return;
	uint32_t at = creator(s, n, k, r->name);
	if (at < i)
		return;
	char w[256], w2[256];
	step_where(p, &s[i], w, sizeof(w));
	if (at < n)
		chk_report2(c, step_obj(p, s[i].a), step_obj(p, s[at].a),
		            "%s (%s) uses %s '%s', which %s creates only later", w,
		            est_action_name(s[i].a->kind), est_kind_name(k), r->name,
		            step_where(p, &s[at], w2, sizeof(w2)));
	else
		chk_report1(c, step_obj(p, s[i].a),
		            "%s (%s) uses %s '%s', which does not exist yet: no earlier step of "
		            "plan '%s' creates it",
		            w, est_action_name(s[i].a->kind), est_kind_name(k), r->name, p->name);
}

static void
check_gateway_step(const struct estate *e, struct chk_ctx *c, const struct est_plan *p,
                   const struct step *s, uint32_t i)
{
	const struct est_act_gateway *g = s[i].a->create_gateway;
	const char *type = g->type == EST_GW_VPN ? "VPN" : "ExpressRoute";
	char w[256], w2[256];
	step_where(p, &s[i], w, sizeof(w));
	if (est_resolved(&g->vnet)) {
		const struct est_vnet *v = &e->vnets.v[g->vnet.i];
		int have = vnet_gateway(v, g->type);
		if (have >= 0) {
			chk_report2(c, step_obj(p, s[i].a), CHK_O(EST_K_VNET, v),
			            "%s creates %s gateway '%s' in vnet '%s', which already has "
			            "%s gateway '%s'",
			            w, type, g->name, v->name, type, v->gateways.v[have].name);
			return;
		}
	}
	for (uint32_t k = 0; k < i; k++) {
		const struct est_act_gateway *o = s[k].a->create_gateway;
		if (s[k].a->kind == EST_ACT_CREATE_GATEWAY && o && o->type == g->type &&
		    o->vnet.name && g->vnet.name && strcmp(o->vnet.name, g->vnet.name) == 0) {
			chk_report2(c, step_obj(p, s[i].a), step_obj(p, s[k].a),
			            "%s creates %s gateway '%s' in vnet '%s', where %s already "
			            "created '%s'",
			            w, type, g->name, g->vnet.name,
			            step_where(p, &s[k], w2, sizeof(w2)), o->name);
			return;
		}
	}
}

/* use_remote_gateways needs the remote VNet's gateway to exist. */
static void
check_peering_step(const struct estate *e, struct chk_ctx *c, const struct est_plan *p,
                   const struct step *s, uint32_t n, uint32_t i)
{
	const struct est_vnet_peering *pe = s[i].a->create_peering;
	if (!pe->use_remote_gateways || !pe->to.name)
		return;
	if (est_resolved(&pe->to) && e->vnets.v[pe->to.i].gateways.n > 0)
		return;
	uint32_t at = n;
	for (uint32_t k = 0; k < n && at == n; k++)
		if (s[k].a->kind == EST_ACT_CREATE_GATEWAY && s[k].a->create_gateway &&
		    s[k].a->create_gateway->vnet.name &&
		    strcmp(s[k].a->create_gateway->vnet.name, pe->to.name) == 0)
			at = k;
	if (at < i)
		return;
	char w[256], w2[256];
	step_where(p, &s[i], w, sizeof(w));
	if (at < n)
		chk_report2(c, step_obj(p, s[i].a), step_obj(p, s[at].a),
		            "%s creates peering '%s' using the remote gateways of '%s', whose "
		            "gateway %s creates only later",
		            w, pe->name, pe->to.name, step_where(p, &s[at], w2, sizeof(w2)));
	else
		chk_report1(c, step_obj(p, s[i].a),
		            "%s creates peering '%s' using the remote gateways of '%s', which has "
		            "no gateway and no earlier step of plan '%s' creates one",
		            w, pe->name, pe->to.name, p->name);
}

static void
dr215(const struct estate *e, struct chk_ctx *c)
{
	for (uint32_t pi = 0; pi < e->recovery_plans.n; pi++) {
		const struct est_plan *p = &e->recovery_plans.v[pi];
		uint32_t n;
		struct step *s = plan_steps(p, &n);
		for (uint32_t i = 0; i < n; i++) {
			const struct est_action *a = s[i].a;
			switch (a->kind) {
			case EST_ACT_CONNECT:
				if (a->connect)
					check_use(c, p, s, n, i, EST_K_GATEWAY,
					          &a->connect->gateway);
				break;
			case EST_ACT_DISCONNECT:
				if (a->disconnect)
					check_use(c, p, s, n, i, EST_K_CONNECTION,
					          &a->disconnect->connection);
				break;
			case EST_ACT_ATTACH_ROUTE_TABLE:
				if (a->attach_route_table)
					check_use(c, p, s, n, i, EST_K_ROUTE_TABLE,
					          &a->attach_route_table->route_table);
				break;
			case EST_ACT_CREATE_ROUTE_TABLE:
				if (a->create_route_table)
					check_use(c, p, s, n, i, EST_K_ROUTE_TABLE,
					          &a->create_route_table->copy_of);
				break;
			case EST_ACT_CREATE_GATEWAY:
				if (a->create_gateway)
					check_gateway_step(e, c, p, s, i);
				break;
			case EST_ACT_CREATE_PEERING:
				if (a->create_peering)
					check_peering_step(e, c, p, s, n, i);
				break;
			default:
				break;
			}
		}
		free(s);
	}
}

/* ---- the table ---------------------------------------------------------- */

static const struct chk_rule rules[] = {
    {"DR201", LIB_SEV_WARNING, "Replication traffic forced through an NVA",
     SEED_DR "; " SEED_ER "; azure-facts 3.9",
     "add a Microsoft.Storage service endpoint to the subnet so replication bypasses the "
     "appliance",
     dr201},
    {"DR202", LIB_SEV_ERROR,
     "On-premises replication over private peering without private "
     "endpoints",
     SEED_ER "; azure-facts 3.9",
     "enable private endpoints on the vault, or replicate over Microsoft peering", dr202},
    {"DR203", LIB_SEV_ERROR, "Microsoft peering does not carry the target region's storage",
     SEED_ER "; azure-facts 1.7, 3.9",
     "add {service: azure_storage, region: TARGET} to the route filter of the site's "
     "Microsoft peering",
     dr203},
    {"DR204", LIB_SEV_ERROR, "Replication source or target is wrong",
     SEED_ER "; azure-facts 3.1, 3.10",
     "name exactly one source (region or site) and a different target region; map source "
     "VNets of the source region to VNets of the target region",
     dr204},
    {"DR205", LIB_SEV_ERROR, "Replication group too large or inconsistent", "azure-facts 3.5",
     "keep groups at or under the limit (16 VMs), with protected VMs, each VM in one group", dr205},
    {"DR206", LIB_SEV_WARNING, "Single circuit with the target in the same address space",
     SEED_DR " (Access with a single circuit); azure-facts 3.2",
     "give the target VNet a different address space, or add a second circuit at another "
     "peering location; otherwise disconnect the source connection first in the plan",
     dr206},
    {"DR207", LIB_SEV_ERROR, "Target region out of reach of the circuits",
     SEED_DR "; " SEED_ER "; azure-facts 1.2, 3.2",
     "upgrade a circuit to premium, or add a circuit in the target's geopolitical region", dr207},
    {"DR208", LIB_SEV_WARNING, "No ExpressRoute gateway in the target hub before failover",
     SEED_DR " (General recommendations); azure-facts 3.1, 3.9",
     "create the target gateway before failover: it takes about 45 minutes", dr208},
    {"DR209", LIB_SEV_WARNING, "No target connection to a circuit before failover",
     SEED_DR " (Access with two circuits); azure-facts 3.9",
     "connect the target gateway to the secondary circuit ahead of time, or script it in "
     "the recovery plan",
     dr209},
    {"DR210", LIB_SEV_WARNING, "Source peerings missing or different in the target",
     SEED_DR " (Failover example, step c); azure-facts 3.1",
     "create the same peerings, with the same flags, between the target VNets before "
     "failover",
     dr210},
    {"DR211", LIB_SEV_WARNING, "Source UDRs missing in the target",
     SEED_DR " (Failover example, step d); azure-facts 3.1",
     "attach equivalent route tables to the target subnets before failover", dr211},
    {"DR212", LIB_SEV_ERROR, "Test-failover network is the failover network",
     SEED_DR " (Run regular disaster recovery drills); azure-facts 3.7",
     "use an isolated VNet in the target region, separate from the failover network", dr212},
    {"DR214", LIB_SEV_WARNING, "Protected VM outside the replication source", "azure-facts 3.1",
     "protect only VMs of the source region (or site); move others to their own replication",
     dr214},
    {"DR215", LIB_SEV_WARNING, "Recovery-plan steps out of order", SEED_DR "; azure-facts 3.6",
     "create gateways, connections and route tables in steps before the ones that use them", dr215},
    {"DR216", LIB_SEV_WARNING, "On-premises replication on the Azure backbone path",
     SEED_ER "; azure-facts 3.9",
     "set path to microsoft_peering (recommended), private_peering or internet", dr216},
    {"DR217", LIB_SEV_INFO, "Azure-to-Azure replication does not use ExpressRoute",
     SEED_ER "; azure-facts 3.9", "set path to backbone", dr217},
    {"DR218", LIB_SEV_WARNING, "Test-failover network overlaps production on a circuit",
     SEED_DR " (Use different IP address spaces); azure-facts 3.7",
     "give the drill network an address space that no connected VNet uses", dr218},
};

CHK_SEGMENT(chk_seg_dr, rules);
