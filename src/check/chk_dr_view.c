/*
 * chk_dr_view.c - the views the Site Recovery rules share (see chk_dr.h):
 * small estate helpers, the ExpressRoute reach of a VNet, source -> target
 * VNet pairs and recovery-plan steps in run order.
 */
#include "chk_dr.h"

#include <stdlib.h>
#include <string.h>

/* ---- small helpers ------------------------------------------------------ */

struct chk_obj
dr_repl_obj(const struct est_replication *rp)
{
	return (struct chk_obj){EST_K_NONE, "replication", rp->pos};
}

bool
dr_is_a2a(const struct est_replication *rp)
{
	return rp->source.name && !rp->source_site.name;
}

bool
dr_is_onprem(const struct est_replication *rp)
{
	return rp->source_site.name && !rp->source.name;
}

uint32_t
dr_region_of_vnet(const struct estate *e, uint32_t vi)
{
	const struct est_ref *r = &e->vnets.v[vi].region;
	return est_resolved(r) ? r->i : EST_NONE;
}

const char *
dr_region_name(const struct estate *e, uint32_t ri)
{
	return ri == EST_NONE ? "?" : e->regions.v[ri].name;
}

const char *
dr_region_geo(const struct estate *e, uint32_t ri)
{
	return ri == EST_NONE || !e->regions.v[ri].geo ? "?" : e->regions.v[ri].geo;
}

/* Index of v's gateway of the given type, or -1. */
int
dr_vnet_gateway(const struct est_vnet *v, int type)
{
	for (uint32_t g = 0; g < v->gateways.n; g++)
		if (v->gateways.v[g].type == type)
			return (int)g;
	return -1;
}

/* First overlap of two address-space lists; fills the two prefixes. */
bool
dr_spaces_overlap(const struct est_vnet *a, const struct est_vnet *b, const struct ip_prefix **pa,
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

bool
dr_has_storage_endpoint(const struct est_subnet *s)
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
uint32_t
dr_er_vnet(const struct estate *e, uint32_t vi)
{
	if (dr_vnet_gateway(&e->vnets.v[vi], EST_GW_EXPRESSROUTE) >= 0)
		return vi;
	for (uint32_t p = 0; p < e->peerings.n; p++) {
		const struct est_vnet_peering *pe = &e->peerings.v[p];
		if (pe->use_remote_gateways && est_resolved(&pe->from) && pe->from.i == vi &&
		    est_resolved(&pe->to) &&
		    dr_vnet_gateway(&e->vnets.v[pe->to.i], EST_GW_EXPRESSROUTE) >= 0)
			return pe->to.i;
	}
	return EST_NONE;
}

/* dr_er_vnet of every VNet at once, in one pass over the peerings (heap). */
uint32_t *
dr_serving_gateways(const struct estate *e)
{
	uint32_t *gv = lib_xcalloc(e->vnets.n + 1, sizeof(*gv));
	for (uint32_t v = 0; v < e->vnets.n; v++)
		gv[v] = dr_vnet_gateway(&e->vnets.v[v], EST_GW_EXPRESSROUTE) >= 0 ? v : EST_NONE;
	for (uint32_t p = 0; p < e->peerings.n; p++) {
		const struct est_vnet_peering *pe = &e->peerings.v[p];
		if (pe->use_remote_gateways && est_resolved(&pe->from) && est_resolved(&pe->to) &&
		    gv[pe->from.i] == EST_NONE &&
		    dr_vnet_gateway(&e->vnets.v[pe->to.i], EST_GW_EXPRESSROUTE) >= 0)
			gv[pe->from.i] = pe->to.i;
	}
	return gv;
}

/* Is c an ExpressRoute connection of a gateway in VNet gv? */
bool
dr_er_connection_of(const struct estate *e, const struct est_connection *c, uint32_t gv)
{
	return est_resolved(&c->gateway) && est_resolved(&c->circuit) && c->gateway.i == gv &&
	       e->vnets.v[gv].gateways.v[c->gateway.j].type == EST_GW_EXPRESSROUTE;
}

/* Marks (mark[circuit] = true) the circuits connected to the ExpressRoute
 * gateway serving vi; returns how many. The first connection goes to *conn. */
uint32_t
dr_vnet_circuits(const struct estate *e, uint32_t vi, bool *mark,
                 const struct est_connection **conn)
{
	uint32_t gv = dr_er_vnet(e, vi), n = 0;
	if (conn)
		*conn = NULL;
	if (gv == EST_NONE)
		return 0;
	for (uint32_t k = 0; k < e->connections.n; k++) {
		const struct est_connection *c = &e->connections.v[k];
		if (!dr_er_connection_of(e, c, gv))
			continue;
		if (conn && !*conn)
			*conn = c;
		if (!mark[c->circuit.i])
			n++;
		mark[c->circuit.i] = true;
	}
	return n;
}

uint32_t
dr_site_circuit_count(const struct estate *e, uint32_t site)
{
	uint32_t n = 0;
	for (uint32_t c = 0; c < e->circuits.n; c++)
		if (est_resolved(&e->circuits.v[c].site) && e->circuits.v[c].site.i == site)
			n++;
	return n;
}

const char *
dr_circuit_geo(const struct estate *e, const struct est_circuit *c)
{
	if (!est_resolved(&c->location) || !e->locations.v[c->location.i].geo)
		return "?";
	return e->locations.v[c->location.i].geo;
}

/* ---- source -> target pairs --------------------------------------------- */

struct chk_obj
dr_tgt_obj(const struct dr_tgt *t)
{
	return (struct chk_obj){EST_K_VNET, t->obj, t->pos};
}

/* The VNet whose address space t has: itself or the source it mirrors. */
const struct est_vnet *
dr_tgt_space(const struct estate *e, const struct dr_tgt *t)
{
	if (t->vi != EST_NONE)
		return &e->vnets.v[t->vi];
	if (t->mirror_of != EST_NONE)
		return &e->vnets.v[t->mirror_of];
	return NULL;
}

uint32_t
dr_tgt_region(const struct estate *e, const struct est_replication *rp, const struct dr_tgt *t)
{
	if (t->vi != EST_NONE)
		return dr_region_of_vnet(e, t->vi);
	return est_resolved(&rp->target) ? rp->target.i : EST_NONE;
}

/* Describes a VNet reference that may be planned (a <vnet>-asr mirror). */
void
dr_tgt_from_ref(const struct estate *e, const struct est_ref *r, struct dr_tgt *t)
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
uint32_t
dr_collect_pairs(const struct estate *e, const struct est_replication *rp, struct dr_pair **out)
{
	struct dr_pair *p = lib_xcalloc(rp->network_mapping.n + e->vnets.n + 1, sizeof(*p));
	bool *seen = lib_xcalloc(e->vnets.n + 1, sizeof(*seen));
	uint32_t n = 0;
	for (uint32_t m = 0; m < rp->network_mapping.n; m++) {
		const struct est_net_map *nm = &rp->network_mapping.v[m];
		if (!est_resolved(&nm->source) || seen[nm->source.i] || !nm->target.name)
			continue;
		seen[nm->source.i] = true;
		p[n].si = nm->source.i;
		dr_tgt_from_ref(e, &nm->target, &p[n].t);
		n++;
	}
	if (rp->auto_target_networks && dr_is_a2a(rp) && est_resolved(&rp->source))
		for (uint32_t v = 0; v < e->vnets.n; v++) {
			if (seen[v] || dr_region_of_vnet(e, v) != rp->source.i)
				continue;
			struct dr_pair *q = &p[n++];
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

bool
dr_runs_on_failover(const struct est_action *a)
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

void
dr_push_steps(struct dr_step *s, uint32_t *n, const struct est_action *v, uint32_t cnt, uint8_t at,
              uint32_t group)
{
	for (uint32_t i = 0; i < cnt; i++)
		if (dr_runs_on_failover(&v[i]))
			s[(*n)++] = (struct dr_step){&v[i], at, group, i + 1};
}

/* The failover steps of p in run order (heap). */
struct dr_step *
dr_plan_steps(const struct est_plan *p, uint32_t *n)
{
	uint32_t cap = p->before.n + p->after.n + 1;
	for (uint32_t g = 0; g < p->groups.n; g++)
		cap += p->groups.v[g].before.n + p->groups.v[g].after.n;
	struct dr_step *s = lib_xcalloc(cap, sizeof(*s));
	*n = 0;
	dr_push_steps(s, n, p->before.v, p->before.n, DR_AT_PLAN_BEFORE, 0);
	for (uint32_t g = 0; g < p->groups.n; g++) {
		const struct est_plan_group *pg = &p->groups.v[g];
		dr_push_steps(s, n, pg->before.v, pg->before.n, DR_AT_GROUP_BEFORE, g);
		dr_push_steps(s, n, pg->after.v, pg->after.n, DR_AT_GROUP_AFTER, g);
	}
	dr_push_steps(s, n, p->after.v, p->after.n, DR_AT_PLAN_AFTER, 0);
	return s;
}

/* "step 2 before group 'db' of plan 'p'" */
const char *
dr_step_where(const struct est_plan *p, const struct dr_step *s, char *buf, size_t n)
{
	char gb[32];
	switch (s->at) {
	case DR_AT_PLAN_BEFORE:
		snprintf(buf, n, "step %u before the groups of plan '%s'", s->nth, p->name);
		break;
	case DR_AT_PLAN_AFTER:
		snprintf(buf, n, "step %u after the groups of plan '%s'", s->nth, p->name);
		break;
	default:
		snprintf(buf, n, "step %u %s group '%s' of plan '%s'", s->nth,
		         s->at == DR_AT_GROUP_BEFORE ? "before" : "after",
		         chk_group_name(p, s->group, gb, sizeof(gb)), p->name);
	}
	return buf;
}

/* A step is named by its plan, positioned at the step. */
struct chk_obj
dr_step_obj(const struct est_plan *p, const struct est_action *a)
{
	return (struct chk_obj){EST_K_PLAN, p->name, a->pos};
}

/* Does step a create the object of kind k named name? */
bool
dr_step_creates(const struct est_action *a, enum est_kind k, const char *name)
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

const struct est_action *
dr_find_step(const struct estate *e, dr_step_pred pred, const void *arg, const struct est_plan **pp)
{
	for (uint32_t i = 0; i < e->recovery_plans.n; i++) {
		const struct est_plan *p = &e->recovery_plans.v[i];
		uint32_t n;
		struct dr_step *s = dr_plan_steps(p, &n);
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

bool
dr_pred_create_gw_in(const struct est_action *a, const void *arg)
{
	const struct dr_gw_in_vnet *q = arg;
	return a->kind == EST_ACT_CREATE_GATEWAY && a->create_gateway &&
	       a->create_gateway->type == q->type && a->create_gateway->vnet.name &&
	       strcmp(a->create_gateway->vnet.name, q->vnet) == 0;
}

bool
dr_pred_create_gw_named(const struct est_action *a, const void *arg)
{
	return dr_step_creates(a, EST_K_GATEWAY, arg);
}

bool
dr_pred_connect_gw(const struct est_action *a, const void *arg)
{
	return a->kind == EST_ACT_CONNECT && a->connect && a->connect->gateway.name &&
	       strcmp(a->connect->gateway.name, arg) == 0;
}

bool
dr_pred_attach_subnet(const struct est_action *a, const void *arg)
{
	return a->kind == EST_ACT_ATTACH_ROUTE_TABLE && a->attach_route_table &&
	       a->attach_route_table->subnet.name &&
	       strcmp(a->attach_route_table->subnet.name, arg) == 0;
}

bool
dr_pred_peering(const struct est_action *a, const void *arg)
{
	const struct dr_peer_ends *q = arg;
	return a->kind == EST_ACT_CREATE_PEERING && a->create_peering &&
	       a->create_peering->from.name && a->create_peering->to.name &&
	       strcmp(a->create_peering->from.name, q->from) == 0 &&
	       strcmp(a->create_peering->to.name, q->to) == 0;
}

bool
dr_pred_disconnect(const struct est_action *a, const void *arg)
{
	return a->kind == EST_ACT_DISCONNECT && a->disconnect && a->disconnect->connection.name &&
	       strcmp(a->disconnect->connection.name, arg) == 0;
}
