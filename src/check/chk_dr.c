/*
 * chk_dr.c - Site Recovery rules (DR201-DR207, DR212, DR214, DR216-DR218):
 * what replicates from where, over which path, through which appliance, to
 * which region and circuit, and where drills run. Shared views (pairs,
 * ExpressRoute reach, plan steps) are in chk_dr_view.c. Facts: seeds 000-002
 * and azure-facts section 3.
 */
#include "chk_dr.h"

#include <stdlib.h>
#include <string.h>

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
	if (!sn || !est_resolved(&sn->route_table) || dr_has_storage_endpoint(sn))
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
	if (!rp || !dr_is_onprem(rp) || rp->path != EST_RP_PRIVATE_PEERING ||
	    rp->vault.private_endpoints)
		return;
	chk_report2(c, dr_repl_obj(rp), chk_ref_obj(EST_K_SITE, &rp->source_site),
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
	if (!rp || !dr_is_onprem(rp) || rp->path != EST_RP_MICROSOFT_PEERING ||
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
		chk_report2(c, dr_repl_obj(rp), chk_ref_obj(EST_K_SITE, &rp->source_site),
		            "replication from site '%s' runs over Microsoft peering but the site "
		            "has no circuit",
		            site);
	else if (nms == 0)
		chk_report2(c, dr_repl_obj(rp), chk_ref_obj(EST_K_SITE, &rp->source_site),
		            "replication from site '%s' runs over Microsoft peering but none of "
		            "its %u circuit%s has a Microsoft peering",
		            site, ncirc, ncirc == 1 ? "" : "s");
	else
		chk_report2(c, dr_repl_obj(rp), chk_ref_obj(EST_K_SITE, &rp->source_site),
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
		chk_report1(c, dr_repl_obj(rp),
		            "replication names neither a source region (Azure to Azure) nor a "
		            "source site (on-premises to Azure)");
		return;
	}
	if (rp->source.name && rp->source_site.name) {
		chk_report1(c, dr_repl_obj(rp),
		            "replication names both source region '%s' and source site '%s'; it "
		            "has exactly one source",
		            rp->source.name, rp->source_site.name);
		return;
	}
	if (!dr_is_a2a(rp) || !est_resolved(&rp->source) || !est_resolved(&rp->target))
		return;
	if (rp->source.i == rp->target.i)
		chk_report1(c, dr_repl_obj(rp),
		            "replication target region '%s' is its source region: a regional "
		            "outage takes both",
		            rp->target.name);
	for (uint32_t m = 0; m < rp->network_mapping.n; m++) {
		const struct est_net_map *nm = &rp->network_mapping.v[m];
		if (est_resolved(&nm->source) && dr_region_of_vnet(e, nm->source.i) != rp->source.i)
			chk_report1(c, chk_ref_obj(EST_K_VNET, &nm->source),
			            "network mapping source vnet '%s' is in region '%s', not the "
			            "source region '%s'",
			            nm->source.name,
			            dr_region_name(e, dr_region_of_vnet(e, nm->source.i)),
			            rp->source.name);
		if (est_resolved(&nm->target) && dr_region_of_vnet(e, nm->target.i) != rp->target.i)
			chk_report1(c, chk_ref_obj(EST_K_VNET, &nm->target),
			            "network mapping target vnet '%s' is in region '%s', not the "
			            "target region '%s'",
			            nm->target.name,
			            dr_region_name(e, dr_region_of_vnet(e, nm->target.i)),
			            rp->target.name);
	}
}

static void
dr214(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp || !(dr_is_a2a(rp) ? est_resolved(&rp->source)
	                           : dr_is_onprem(rp) && est_resolved(&rp->source_site)))
		return;
	bool *seen = lib_xcalloc(e->vms.n + 1, sizeof(*seen));
	for (uint32_t i = 0; i < rp->protect.n; i++) {
		const struct est_ref *pr = &rp->protect.v[i];
		if (!est_resolved(pr) || seen[pr->i])
			continue;
		seen[pr->i] = true;
		const struct est_vm *vm = &e->vms.v[pr->i];
		bool in_vnet = est_resolved(&vm->subnet), at_site = est_resolved(&vm->site);
		if (dr_is_a2a(rp)) {
			uint32_t r = in_vnet ? dr_region_of_vnet(e, vm->subnet.i) : EST_NONE;
			if (in_vnet && r != rp->source.i)
				chk_report1(c, chk_ref_obj(EST_K_VM, pr),
				            "protected vm '%s' is in region '%s', not the source "
				            "region '%s'",
				            vm->name, dr_region_name(e, r), rp->source.name);
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
	if (!rp || !dr_is_onprem(rp) || rp->path != EST_RP_BACKBONE)
		return;
	chk_report1(c, dr_repl_obj(rp),
	            "replication from on-premises site '%s' uses path backbone (the default), "
	            "which only Azure-to-Azure replication travels: choose microsoft_peering, "
	            "private_peering (with vault private endpoints) or internet",
	            rp->source_site.name);
}

static void
dr217(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp || !dr_is_a2a(rp) || rp->path == EST_RP_BACKBONE)
		return;
	chk_report1(c, dr_repl_obj(rp),
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
	if (!rp || !dr_is_a2a(rp))
		return;
	struct dr_pair *p;
	uint32_t np = dr_collect_pairs(e, rp, &p);
	bool *mark = lib_xcalloc(e->circuits.n + 1, sizeof(*mark));
	for (uint32_t k = 0; k < np; k++) {
		const struct est_vnet *sv = &e->vnets.v[p[k].si], *tv = dr_tgt_space(e, &p[k].t);
		const struct ip_prefix *ps, *pt;
		if (!tv || !dr_spaces_overlap(sv, tv, &ps, &pt))
			continue;
		memset(mark, 0, (e->circuits.n + 1) * sizeof(*mark));
		const struct est_connection *conn;
		if (dr_vnet_circuits(e, p[k].si, mark, &conn) == 0)
			continue;
		/* single: every site behind those circuits has one circuit in all */
		bool single = true;
		uint32_t one = EST_NONE;
		for (uint32_t ci = 0; ci < e->circuits.n && single; ci++) {
			if (!mark[ci])
				continue;
			const struct est_ref *s = &e->circuits.v[ci].site;
			if (!est_resolved(s) || dr_site_circuit_count(e, s->i) != 1)
				single = false;
			else if (one == EST_NONE)
				one = ci;
		}
		if (!single || one == EST_NONE)
			continue;
		const struct est_circuit *ci = &e->circuits.v[one];
		const struct est_plan *dp = NULL;
		bool disc = conn && dr_find_step(e, dr_pred_disconnect, conn->name, &dp);
		char a[IP_STRLEN], b[IP_STRLEN];
		chk_report2(
		    c, dr_tgt_obj(&p[k].t), CHK_O(EST_K_VNET, sv),
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
		return dr_region_of_vnet(e, cn->gateway.i);
	const struct est_action *cg =
	    dr_find_step(e, dr_pred_create_gw_named, cn->gateway.name, NULL);
	if (!cg)
		return EST_NONE;
	if (est_resolved(&cg->create_gateway->vnet))
		return dr_region_of_vnet(e, cg->create_gateway->vnet.i);
	return rp && est_resolved(&rp->target) ? rp->target.i : EST_NONE;
}

static void
dr207_plans(const struct estate *e, struct chk_ctx *c, const struct est_replication *rp)
{
	for (uint32_t i = 0; i < e->recovery_plans.n; i++) {
		const struct est_plan *p = &e->recovery_plans.v[i];
		uint32_t n;
		struct dr_step *s = dr_plan_steps(p, &n);
		for (uint32_t k = 0; k < n; k++) {
			const struct est_act_connect *cn = s[k].a->connect;
			if (s[k].a->kind != EST_ACT_CONNECT || !cn || !est_resolved(&cn->circuit))
				continue;
			const struct est_circuit *ci = &e->circuits.v[cn->circuit.i];
			uint32_t r = connect_region(e, rp, cn);
			if (est_circuit_reaches(e, ci, r))
				continue;
			char w[256];
			chk_report2(
			    c, dr_step_obj(p, s[k].a), CHK_O(EST_K_CIRCUIT, ci),
			    "%s connects gateway '%s' in region '%s' (geo %s) to %s circuit "
			    "'%s' (geo %s), which cannot reach it; a target in another "
			    "geopolitical region needs a premium circuit",
			    dr_step_where(p, &s[k], w, sizeof(w)), cn->gateway.name,
			    dr_region_name(e, r), dr_region_geo(e, r), est_tier_name(ci->tier),
			    ci->name, dr_circuit_geo(e, ci));
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
	if (dr_is_onprem(rp) && est_resolved(&rp->source_site)) {
		sites[rp->source_site.i] = true;
	} else if (dr_is_a2a(rp) && est_resolved(&rp->source)) {
		/* the gateways serving source VNets, then their circuits' sites */
		uint32_t *gv = dr_serving_gateways(e);
		bool *gwm = lib_xcalloc(e->vnets.n + 1, sizeof(*gwm));
		for (uint32_t v = 0; v < e->vnets.n; v++)
			if (gv[v] != EST_NONE && dr_region_of_vnet(e, v) == rp->source.i)
				gwm[gv[v]] = true;
		for (uint32_t k = 0; k < e->connections.n; k++) {
			const struct est_connection *cn = &e->connections.v[k];
			if (est_resolved(&cn->gateway) && gwm[cn->gateway.i] &&
			    dr_er_connection_of(e, cn, cn->gateway.i) &&
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
			reach = est_circuit_reaches(e, cc, tr);
			lib_buf_printf(&list, "%s'%s' (%s, geo %s)", n++ ? ", " : "", cc->name,
			               est_tier_name(cc->tier), dr_circuit_geo(e, cc));
		}
		if (!reach && n)
			chk_report2(
			    c, dr_repl_obj(rp), CHK_O(EST_K_SITE, &e->sites.v[s]),
			    "target region '%s' (geo %s) is reachable from site '%s' only "
			    "through circuits that cannot reach it: %s; a target in another "
			    "geopolitical region needs a premium circuit",
			    rp->target.name, dr_region_geo(e, tr), e->sites.v[s].name, list.s);
		lib_buf_free(&list);
	}
	free(sites);
	dr207_plans(e, c, rp);
}

/* ---- DR212, DR218: the test-failover network ---------------------------- */

static void
dr212(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp || !rp->test_network.name)
		return;
	struct dr_tgt tn;
	dr_tgt_from_ref(e, &rp->test_network, &tn);
	struct dr_pair *p;
	uint32_t np = dr_collect_pairs(e, rp, &p);
	for (uint32_t k = 0; k < np; k++)
		if (strcmp(p[k].t.name, tn.name) == 0) {
			chk_report2(c, dr_tgt_obj(&tn), CHK_O(EST_K_VNET, &e->vnets.v[p[k].si]),
			            "test-failover network '%s' is the failover network of '%s': "
			            "drills would run in the production recovery network",
			            tn.name, e->vnets.v[p[k].si].name);
			break;
		}
	free(p);
	uint32_t r = dr_tgt_region(e, rp, &tn);
	if (est_resolved(&rp->target) && r != EST_NONE && r != rp->target.i)
		chk_report1(c, dr_tgt_obj(&tn),
		            "test-failover network '%s' is in region '%s', not the target region "
		            "'%s' where test VMs are created",
		            tn.name, dr_region_name(e, r), rp->target.name);
}

static void
dr218(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp || !rp->test_network.name)
		return;
	struct dr_tgt tn;
	dr_tgt_from_ref(e, &rp->test_network, &tn);
	const struct est_vnet *ts = dr_tgt_space(e, &tn);
	uint32_t tr = dr_tgt_region(e, rp, &tn);
	if (!ts)
		return;
	bool *mark = lib_xcalloc(e->circuits.n + 1, sizeof(*mark));
	for (uint32_t v = 0; v < e->vnets.n; v++) {
		const struct ip_prefix *pt, *pv;
		if (v == tn.vi || !dr_spaces_overlap(ts, &e->vnets.v[v], &pt, &pv))
			continue;
		memset(mark, 0, (e->circuits.n + 1) * sizeof(*mark));
		if (dr_vnet_circuits(e, v, mark, NULL) == 0)
			continue;
		for (uint32_t ci = 0; ci < e->circuits.n; ci++) {
			if (!mark[ci] || !est_circuit_reaches(e, &e->circuits.v[ci], tr))
				continue;
			char a[IP_STRLEN], b[IP_STRLEN];
			chk_report2(
			    c, dr_tgt_obj(&tn), CHK_O(EST_K_VNET, &e->vnets.v[v]),
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
    {"DR212", LIB_SEV_ERROR, "Test-failover network is the failover network",
     SEED_DR " (Run regular disaster recovery drills); azure-facts 3.7",
     "use an isolated VNet in the target region, separate from the failover network", dr212},
    {"DR214", LIB_SEV_WARNING, "Protected VM outside the replication source", "azure-facts 3.1",
     "protect only VMs of the source region (or site); move others to their own replication",
     dr214},
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
