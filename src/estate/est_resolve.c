/*
 * est_resolve.c - names, references and derived data of a loaded estate.
 *
 * Named objects register under their kind while the file is read; scoped
 * kinds (subnets) register as <vnet>/<subnet>. After the whole file is read
 * every queued reference is looked up; a miss is an error that names the kind
 * and suggests the nearest existing name. Objects that a recovery plan
 * creates, and the <vnet>-asr mirrors Site Recovery creates when
 * auto_target_networks is on, are "planned": only references inside
 * recovery_plans and replication may use them.
 */
#include "est_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[EST_K__COUNT] = {
    [EST_K_NONE] = "object",
    [EST_K_REGION] = "region",
    [EST_K_LOCATION] = "location",
    [EST_K_PROVIDER] = "provider",
    [EST_K_SITE] = "site",
    [EST_K_ROUTER] = "router",
    [EST_K_CIRCUIT] = "circuit",
    [EST_K_LINK] = "circuit link",
    [EST_K_GLOBAL_REACH] = "global reach link",
    [EST_K_VNET] = "vnet",
    [EST_K_SUBNET] = "subnet",
    [EST_K_GATEWAY] = "gateway",
    [EST_K_CONNECTION] = "connection",
    [EST_K_PEERING] = "vnet peering",
    [EST_K_ROUTE_TABLE] = "route table",
    [EST_K_APPLIANCE] = "appliance",
    [EST_K_VM] = "vm",
    [EST_K_REPL_GROUP] = "replication group",
    [EST_K_PLAN] = "recovery plan",
};

const char *
est_kind_name(enum est_kind k)
{
	return k < EST_K__COUNT ? kind_names[k] : "object";
}

void
ld_init(struct ld *l)
{
	lib_vec_init(&l->regs, sizeof(struct ld_reg));
	lib_vec_init(&l->refs, sizeof(struct ld_ref));
	for (int k = 0; k < EST_K__COUNT; k++) {
		lib_map_init(&l->planned[k]);
		lib_map_init(&l->e->names[k]);
	}
}

void
ld_fini(struct ld *l)
{
	struct ld_ref *rv = l->refs.v;
	for (uint32_t i = 0; i < l->refs.n; i++)
		free(rv[i].path);
	lib_vec_free(&l->refs);
	lib_vec_free(&l->regs);
	for (int k = 0; k < EST_K__COUNT; k++)
		lib_map_free(&l->planned[k]);
}

static void
reg_add(struct ld *l, enum est_kind kind, const char *name, uint32_t i, uint32_t j,
        struct est_pos pos, bool planned)
{
	struct lib_map *m = planned ? &l->planned[kind] : &l->e->names[kind];
	uint32_t idx = l->regs.n;
	if (planned) {
		lib_map_put(m, name, idx); /* several plans may create the same thing */
	} else if (lib_map_put(m, name, idx) == -EEXIST) {
		uint64_t first;
		lib_map_get(m, name, &first);
		const struct ld_reg *r = &((struct ld_reg *)l->regs.v)[first];
		char hint[64];
		snprintf(hint, sizeof(hint), "first defined at line %u:%u", r->pos.line,
		         r->pos.col);
		ld_err(l, pos, hint, "duplicate %s '%s'", est_kind_name(kind), name);
		return;
	}
	struct ld_reg *r = lib_vec_push(&l->regs);
	*r = (struct ld_reg){name, kind, i, j, pos, planned};
}

void
ld_register(struct ld *l, const struct est_class *c, const char *name, struct est_pos pos)
{
	uint32_t own = l->nl ? l->lidx[l->nl - 1] : 0;
	uint32_t i = own, j = EST_NONE;
	if (l->nl >= 2) {
		i = l->lidx[l->nl - 2];
		j = own;
	}
	if (c->flags & EC_SCOPED) {
		const char *parent = l->nl >= 2 ? l->lname[l->nl - 2] : NULL;
		if (!parent)
			return;
		name = lib_arena_printf(&l->e->arena, "%s/%s", parent, name);
	}
	reg_add(l, c->kind, name, i, j, pos, l->in_plan);
}

void
ld_queue_ref(struct ld *l, struct est_ref *r, enum est_kind kind)
{
	struct ld_ref *q = lib_vec_push(&l->refs);
	q->ref = r;
	q->kind = kind;
	q->path = lib_xstrdup(l->path);
	q->planned_ok = l->in_plan || l->in_repl;
}

/* Names of one kind, for "did you mean". */
static const char **
kind_cands(struct ld *l, enum est_kind kind, bool planned, size_t *n)
{
	const struct lib_map *ms[2] = {&l->e->names[kind], planned ? &l->planned[kind] : NULL};
	size_t cap = ms[0]->n + (ms[1] ? ms[1]->n : 0), k = 0;
	const char **c = lib_xcalloc(cap ? cap : 1, sizeof(*c));
	for (int m = 0; m < 2; m++) {
		if (!ms[m])
			continue;
		for (uint32_t s = 0; s < ms[m]->cap; s++)
			if (ms[m]->slots[s].key)
				c[k++] = ms[m]->slots[s].key;
	}
	*n = k;
	return c;
}

static void
ref_error(struct ld *l, struct ld_ref *q, const char *lookup, enum est_kind kind, const char *extra)
{
	size_t n;
	const char **cands = kind_cands(l, kind, q->planned_ok, &n);
	const char *near = lib_nearest(lookup, cands, n);
	char hint[256];
	const char *h = extra;
	if (near) {
		snprintf(hint, sizeof(hint), "did you mean '%s'?", near);
		h = hint;
	}
	size_t old = l->plen;
	snprintf(l->path, sizeof(l->path), "%s", q->path);
	l->plen = strlen(l->path);
	ld_err(l, q->ref->pos, h, "unknown %s '%s'", est_kind_name(kind), lookup);
	l->plen = old;
	l->path[0] = '\0';
	free(cands);
}

static bool
lookup(struct ld *l, struct ld_ref *q, enum est_kind kind, const char *name)
{
	uint64_t idx;
	struct est_ref *r = q->ref;
	if (lib_map_get(&l->e->names[kind], name, &idx)) {
		const struct ld_reg *g = &((struct ld_reg *)l->regs.v)[idx];
		r->i = g->i;
		r->j = g->j;
		r->state = EST_REF_RESOLVED;
		return true;
	}
	if (q->planned_ok && lib_map_get(&l->planned[kind], name, &idx)) {
		r->state = EST_REF_PLANNED;
		return true;
	}
	return false;
}

static void
resolve_one(struct ld *l, struct ld_ref *q)
{
	struct est_ref *r = q->ref;
	if (q->kind == EST_K_LINK) {
		const char *slash = strrchr(r->name, '/');
		char circ[96];
		if (!slash || (size_t)(slash - r->name) >= sizeof(circ)) {
			r->state = EST_REF_DANGLING;
			snprintf(l->path, sizeof(l->path), "%s", q->path);
			l->plen = strlen(l->path);
			ld_err(l, r->pos, "expected CIRCUIT/primary or CIRCUIT/secondary",
			       "bad circuit link '%s'", r->name);
			l->plen = 0;
			l->path[0] = '\0';
			return;
		}
		memcpy(circ, r->name, (size_t)(slash - r->name));
		circ[slash - r->name] = '\0';
		int side = strcmp(slash + 1, "primary") == 0     ? EST_LINK_PRIMARY
		           : strcmp(slash + 1, "secondary") == 0 ? EST_LINK_SECONDARY
		                                                 : -1;
		if (side < 0) {
			r->state = EST_REF_DANGLING;
			snprintf(l->path, sizeof(l->path), "%s", q->path);
			l->plen = strlen(l->path);
			ld_err(l, r->pos, "expected primary or secondary", "unknown link side '%s'",
			       slash + 1);
			l->plen = 0;
			l->path[0] = '\0';
			return;
		}
		if (!lookup(l, q, EST_K_CIRCUIT, circ)) {
			r->state = EST_REF_DANGLING;
			ref_error(l, q, circ, EST_K_CIRCUIT, NULL);
			return;
		}
		r->j = (uint32_t)side;
		return;
	}
	if (lookup(l, q, q->kind, r->name))
		return;
	r->state = EST_REF_DANGLING;
	/* Removing what is gone is harmless: a plan's disconnect of a connection
	 * that no longer exists (a failover already removed it) is a warning. */
	const char *suffix = ".disconnect.connection";
	size_t pl = strlen(q->path), sl = strlen(suffix);
	if (q->kind == EST_K_CONNECTION && pl > sl && strcmp(q->path + pl - sl, suffix) == 0) {
		lib_diag_add(l->diags, LIB_SEV_WARNING, l->file, r->pos.line, r->pos.col, q->path,
		             "the step will be skipped", "connection '%s' does not exist", r->name);
		return;
	}
	ref_error(l, q, r->name, q->kind,
	          q->kind == EST_K_SUBNET && !strchr(r->name, '/') ? "subnets are named VNET/SUBNET"
	                                                           : NULL);
}

static void
auto_target_networks(struct ld *l)
{
	struct estate *e = l->e;
	const struct est_replication *rp = e->replication;
	if (!rp || !rp->auto_target_networks || !rp->source.name)
		return;
	for (uint32_t i = 0; i < e->vnets.n; i++) {
		const struct est_vnet *v = &e->vnets.v[i];
		if (!v->name || !v->region.name || strcmp(v->region.name, rp->source.name) != 0)
			continue;
		const char *t = lib_arena_printf(&e->arena, "%s-asr", v->name);
		if (!lib_map_get(&e->names[EST_K_VNET], t, NULL))
			reg_add(l, EST_K_VNET, t, EST_NONE, EST_NONE, v->pos, true);
		for (uint32_t s = 0; s < v->subnets.n; s++) {
			if (!v->subnets.v[s].name)
				continue;
			const char *sn =
			    lib_arena_printf(&e->arena, "%s/%s", t, v->subnets.v[s].name);
			if (!lib_map_get(&e->names[EST_K_SUBNET], sn, NULL))
				reg_add(l, EST_K_SUBNET, sn, EST_NONE, EST_NONE, v->pos, true);
		}
	}
}

static void
derive_peering(struct est_peering_cfg *p)
{
	if (!p)
		return;
	if (p->subnet.a.af && p->subnet.len <= ip_maxlen(p->subnet.a.af) - 1) {
		p->link_net[0] = p->subnet;
		p->link_net[0].len++;
		p->link_net[1] = p->link_net[0];
		ip_prefix_nth(&p->subnet, ip_prefix_size(&p->link_net[0]), &p->link_net[1].a);
	}
	if (p->primary.a.af)
		p->link_net[0] = p->primary;
	if (p->secondary.a.af)
		p->link_net[1] = p->secondary;
}

void
ld_finish(struct ld *l)
{
	struct estate *e = l->e;
	auto_target_networks(l);
	struct ld_ref *rv = l->refs.v;
	for (uint32_t i = 0; i < l->refs.n; i++)
		resolve_one(l, &rv[i]);

	/* From here on e->names maps to indices rather than registration slots. */
	const struct ld_reg *regs = l->regs.v;
	for (int k = 0; k < EST_K__COUNT; k++) {
		struct lib_map *m = &e->names[k];
		for (uint32_t s = 0; s < m->cap; s++) {
			if (!m->slots[s].key)
				continue;
			const struct ld_reg *g = &regs[m->slots[s].val];
			m->slots[s].val = (uint64_t)g->i << 32 | g->j;
		}
	}

	for (int i = 0; i < EST_LIM__COUNT; i++)
		e->limits[i] = est_limit_defs[i].dflt;
	for (uint32_t i = 0; i < e->limit_overrides.n; i++)
		for (int k = 0; k < EST_LIM__COUNT; k++)
			if (strcmp(e->limit_overrides.v[i].key, est_limit_defs[k].key) == 0)
				e->limits[k] = e->limit_overrides.v[i].value;

	for (uint32_t i = 0; i < e->circuits.n; i++) {
		struct est_circuit *c = &e->circuits.v[i];
		derive_peering(c->private_peering);
		derive_peering(c->microsoft_peering);
		derive_peering(c->public_peering);
		struct est_peering_cfg *pcs[2] = {c->private_peering, c->microsoft_peering};
		for (int k = 0; k < 2; k++) {
			const struct est_peering_cfg *pc = pcs[k];
			if (!pc || !pc->listen.a.af ||
			    (pc->listen.a.af == IP_V4 && pc->listen.len <= 30))
				continue;
			char b[IP_STRLEN];
			lib_diag_add(
			    l->diags, LIB_SEV_ERROR, l->file, pc->pos.line, pc->pos.col,
			    k ? "microsoft_peering.listen" : "private_peering.listen",
			    "such as 127.0.0.0/8: the link /30s are mapped into it",
			    "circuit %s: listen %s must be an IPv4 prefix of /30 or shorter",
			    c->name, ip_prefix_fmt(&pc->listen, b));
		}
	}
}

uint32_t
est_find(const struct estate *e, enum est_kind k, const char *name)
{
	uint64_t v;
	if (k >= EST_K__COUNT || !lib_map_get(&e->names[k], name, &v))
		return EST_NONE;
	return (uint32_t)(v >> 32);
}

const struct est_subnet *
est_find_subnet(const struct estate *e, const char *path, uint32_t *vi)
{
	uint64_t v;
	if (!lib_map_get(&e->names[EST_K_SUBNET], path, &v))
		return NULL;
	if (vi)
		*vi = (uint32_t)(v >> 32);
	return &e->vnets.v[v >> 32].subnets.v[(uint32_t)v];
}

const struct est_gateway *
est_find_gateway(const struct estate *e, const char *name, uint32_t *vi)
{
	uint64_t v;
	if (!lib_map_get(&e->names[EST_K_GATEWAY], name, &v))
		return NULL;
	if (vi)
		*vi = (uint32_t)(v >> 32);
	return &e->vnets.v[v >> 32].gateways.v[(uint32_t)v];
}

int64_t
est_limit(const struct estate *e, enum est_limit l)
{
	return e->limits[l];
}
