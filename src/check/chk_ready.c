/*
 * chk_ready.c - DR readiness (DR208-DR211, DR215): is the target network
 * ready before failover, and if a recovery plan builds it, in what order.
 * The seeds recommend provisioning the gateway (45 minutes or more),
 * connection, peerings and UDRs in the target before failover; what a plan
 * creates during failover costs RTO. Steps that run only on failback or only
 * on test failover do not count as creating anything for failover.
 */
#include "chk_dr.h"

#include <stdlib.h>
#include <string.h>

/* ---- DR208-DR211: target network readiness (RTO) ------------------------ */

static void
dr208(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp)
		return;
	struct dr_pair *p;
	uint32_t np = dr_collect_pairs(e, rp, &p);
	int64_t mins = est_limit(e, EST_LIM_GATEWAY_CREATE_MINUTES);
	for (uint32_t k = 0; k < np; k++) {
		const struct est_vnet *sv = &e->vnets.v[p[k].si];
		const struct dr_tgt *t = &p[k].t;
		if (dr_vnet_gateway(sv, EST_GW_EXPRESSROUTE) < 0 ||
		    (t->vi != EST_NONE &&
		     dr_vnet_gateway(&e->vnets.v[t->vi], EST_GW_EXPRESSROUTE) >= 0))
			continue;
		struct dr_gw_in_vnet q = {t->name, EST_GW_EXPRESSROUTE};
		const struct est_plan *pl;
		const struct est_action *a = dr_find_step(e, dr_pred_create_gw_in, &q, &pl);
		if (a)
			chk_report2(c, dr_tgt_obj(t), dr_step_obj(pl, a),
			            "target hub '%s' (for '%s') has no ExpressRoute gateway; "
			            "recovery plan '%s' creates '%s' during failover, adding about "
			            "%lld minutes to the RTO",
			            t->name, sv->name, pl->name, a->create_gateway->name,
			            (long long)mins);
		else
			chk_report2(
			    c, dr_tgt_obj(t), CHK_O(EST_K_VNET, sv),
			    "target hub '%s' (for '%s') has no ExpressRoute gateway and "
			    "nothing creates it: on-premises cannot reach the recovered VMs, "
			    "and creating one takes about %lld minutes",
			    t->name, sv->name, (long long)mins);
	}
	free(p);
}

/* Would connecting the target to cn's circuit now clash with the source? */
static bool
connect_blocked(const struct estate *e, const struct dr_pair *pr, const struct est_act_connect *cn)
{
	const struct est_vnet *tv = dr_tgt_space(e, &pr->t);
	const struct ip_prefix *a, *b;
	if (!tv || !est_resolved(&cn->circuit) ||
	    !dr_spaces_overlap(&e->vnets.v[pr->si], tv, &a, &b))
		return false;
	bool *mark = lib_xcalloc(e->circuits.n + 1, sizeof(*mark));
	dr_vnet_circuits(e, pr->si, mark, NULL);
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
	struct dr_pair *p;
	uint32_t np = dr_collect_pairs(e, rp, &p);
	for (uint32_t k = 0; k < np; k++) {
		const struct est_vnet *sv = &e->vnets.v[p[k].si];
		const struct dr_tgt *t = &p[k].t;
		if (dr_vnet_gateway(sv, EST_GW_EXPRESSROUTE) < 0)
			continue;
		const char *gw = NULL;
		if (t->vi != EST_NONE) {
			int g = dr_vnet_gateway(&e->vnets.v[t->vi], EST_GW_EXPRESSROUTE);
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
			struct dr_gw_in_vnet q = {t->name, EST_GW_EXPRESSROUTE};
			const struct est_action *cg =
			    dr_find_step(e, dr_pred_create_gw_in, &q, NULL);
			gw = cg ? cg->create_gateway->name : NULL;
		}
		const struct est_plan *pl;
		const struct est_action *a =
		    gw ? dr_find_step(e, dr_pred_connect_gw, gw, &pl) : NULL;
		if (a)
			chk_report2(c, dr_tgt_obj(t), dr_step_obj(pl, a),
			            "target hub '%s' (for '%s') has no connection to a circuit; "
			            "recovery plan '%s' connects '%s' to '%s' during failover%s",
			            t->name, sv->name, pl->name, gw, a->connect->circuit.name,
			            connect_blocked(e, &p[k], a->connect)
			                ? " (it cannot be connected earlier: the target overlaps "
			                  "the source, which holds that circuit)"
			                : "");
		else
			chk_report2(
			    c, dr_tgt_obj(t), CHK_O(EST_K_VNET, sv),
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
pairs_by_source(const struct estate *e, const struct dr_pair *p, uint32_t np)
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
	struct dr_pair *p;
	uint32_t np = dr_collect_pairs(e, rp, &p);
	uint32_t *by = pairs_by_source(e, p, np);
	for (uint32_t i = 0; i < e->peerings.n; i++) {
		const struct est_vnet_peering *sp = &e->peerings.v[i];
		if (!est_resolved(&sp->from) || !est_resolved(&sp->to))
			continue;
		if (!by[sp->from.i] || !by[sp->to.i])
			continue;
		const struct dr_tgt *tf = &p[by[sp->from.i] - 1].t, *tt = &p[by[sp->to.i] - 1].t;
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
			struct dr_peer_ends q = {tf->name, tt->name};
			a = dr_find_step(e, dr_pred_peering, &q, &pl);
			tp = a ? a->create_peering : NULL;
		}
		if (!tp) {
			chk_report2(
			    c, CHK_O(EST_K_PEERING, sp), dr_tgt_obj(tf),
			    "peering '%s' has no equivalent from '%s' to '%s' in the target "
			    "and nothing creates it",
			    sp->name, tf->name, tt->name);
			continue;
		}
		if (a)
			chk_report2(
			    c, CHK_O(EST_K_PEERING, sp), dr_step_obj(pl, a),
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
	struct dr_pair *p;
	uint32_t np = dr_collect_pairs(e, rp, &p);
	for (uint32_t k = 0; k < np; k++) {
		const struct est_vnet *sv = &e->vnets.v[p[k].si];
		const struct dr_tgt *t = &p[k].t;
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
			const struct est_action *a =
			    dr_find_step(e, dr_pred_attach_subnet, path, &pl);
			if (a)
				chk_report2(
				    c, CHK_O(EST_K_SUBNET, ss), dr_step_obj(pl, a),
				    "subnet '%s/%s' has route table '%s' but target subnet "
				    "'%s' has none; recovery plan '%s' attaches '%s' during "
				    "failover",
				    sv->name, ss->name, rt, path, pl->name,
				    a->attach_route_table->route_table.name);
			else
				chk_report2(c, CHK_O(EST_K_SUBNET, ss), dr_tgt_obj(t),
				            "subnet '%s/%s' has route table '%s' but target subnet "
				            "'%s' has none and nothing attaches one",
				            sv->name, ss->name, rt, path);
		}
	}
	free(p);
}

/* ---- DR215: recovery-plan step order ------------------------------------ */

/* Index of the step of s[0..n) creating (k, name), or n when none. */
static uint32_t
creator(const struct dr_step *s, uint32_t n, enum est_kind k, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (dr_step_creates(s[i].a, k, name))
			return i;
	return n;
}

/* A planned reference used by step i must be created by an earlier step. */
static void
check_use(struct chk_ctx *c, const struct est_plan *p, const struct dr_step *s, uint32_t n,
          uint32_t i, enum est_kind k, const struct est_ref *r)
{
	if (r->state != EST_REF_PLANNED)
		return;
	uint32_t at = creator(s, n, k, r->name);
	if (at < i)
		return;
	char w[256], w2[256];
	dr_step_where(p, &s[i], w, sizeof(w));
	if (at < n)
		chk_report2(c, dr_step_obj(p, s[i].a), dr_step_obj(p, s[at].a),
		            "%s (%s) uses %s '%s', which %s creates only later", w,
		            est_action_name(s[i].a->kind), est_kind_name(k), r->name,
		            dr_step_where(p, &s[at], w2, sizeof(w2)));
	else
		chk_report1(c, dr_step_obj(p, s[i].a),
		            "%s (%s) uses %s '%s', which does not exist yet: no earlier step of "
		            "plan '%s' creates it",
		            w, est_action_name(s[i].a->kind), est_kind_name(k), r->name, p->name);
}

static void
check_gateway_step(const struct estate *e, struct chk_ctx *c, const struct est_plan *p,
                   const struct dr_step *s, uint32_t i)
{
	const struct est_act_gateway *g = s[i].a->create_gateway;
	const char *type = g->type == EST_GW_VPN ? "VPN" : "ExpressRoute";
	char w[256], w2[256];
	dr_step_where(p, &s[i], w, sizeof(w));
	if (est_resolved(&g->vnet)) {
		const struct est_vnet *v = &e->vnets.v[g->vnet.i];
		int have = dr_vnet_gateway(v, g->type);
		if (have >= 0) {
			chk_report2(c, dr_step_obj(p, s[i].a), CHK_O(EST_K_VNET, v),
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
			chk_report2(c, dr_step_obj(p, s[i].a), dr_step_obj(p, s[k].a),
			            "%s creates %s gateway '%s' in vnet '%s', where %s already "
			            "created '%s'",
			            w, type, g->name, g->vnet.name,
			            dr_step_where(p, &s[k], w2, sizeof(w2)), o->name);
			return;
		}
	}
}

/* use_remote_gateways needs the remote VNet's gateway to exist. */
static void
check_peering_step(const struct estate *e, struct chk_ctx *c, const struct est_plan *p,
                   const struct dr_step *s, uint32_t n, uint32_t i)
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
	dr_step_where(p, &s[i], w, sizeof(w));
	if (at < n)
		chk_report2(c, dr_step_obj(p, s[i].a), dr_step_obj(p, s[at].a),
		            "%s creates peering '%s' using the remote gateways of '%s', whose "
		            "gateway %s creates only later",
		            w, pe->name, pe->to.name, dr_step_where(p, &s[at], w2, sizeof(w2)));
	else
		chk_report1(c, dr_step_obj(p, s[i].a),
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
		struct dr_step *s = dr_plan_steps(p, &n);
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
    {"DR215", LIB_SEV_WARNING, "Recovery-plan steps out of order", SEED_DR "; azure-facts 3.6",
     "create gateways, connections and route tables in steps before the ones that use them", dr215},
};

CHK_SEGMENT(chk_seg_ready, rules);
