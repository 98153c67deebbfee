/*
 * chk_plan.c - recovery-plan membership rules (DR213, DR219-DR221).
 *
 * Who is in which plan group: plan size limits, a VM in two groups, VMs in a
 * plan that nothing protects, protected VMs no plan covers, and replication
 * groups cut across plan groups. A replication group shares one recovery
 * point and fails over as a whole (azure-facts 3.5: "you can't fail over one
 * VM of a group on its own"), so all of its VMs belong in one group of a
 * plan. The step-order rules are in chk_dr.c.
 */
#include "chk_internal.h"

#include <stdlib.h>
#include <string.h>

#define SEED_DR "seed: azure-vm-disaster-recovery-with-expressroute"

static void
dr213(const struct estate *e, struct chk_ctx *c)
{
	int64_t maxg = est_limit(e, EST_LIM_RECOVERY_PLAN_GROUPS);
	int64_t maxv = est_limit(e, EST_LIM_RECOVERY_PLAN_VMS);
	uint32_t *owner = lib_xcalloc(e->vms.n + 1, sizeof(*owner));
	for (uint32_t i = 0; i < e->recovery_plans.n; i++) {
		const struct est_plan *p = &e->recovery_plans.v[i];
		memset(owner, 0, (e->vms.n + 1) * sizeof(*owner));
		uint32_t nvm = 0;
		if ((int64_t)p->groups.n > maxg)
			chk_report1(c, CHK_O(EST_K_PLAN, p),
			            "recovery plan '%s' has %u groups, over the limit of %lld",
			            p->name, p->groups.n, (long long)maxg);
		for (uint32_t g = 0; g < p->groups.n; g++) {
			const struct est_plan_group *pg = &p->groups.v[g];
			char gb[32], gb2[32];
			for (uint32_t k = 0; k < pg->vms.n; k++) {
				const struct est_ref *r = &pg->vms.v[k];
				if (!est_resolved(r))
					continue;
				if (!owner[r->i]) {
					owner[r->i] = g + 1;
					nvm++;
				} else if (owner[r->i] == g + 1) {
					chk_report2(
					    c, chk_ref_obj(EST_K_VM, r), CHK_O(EST_K_PLAN, p),
					    "vm '%s' is listed twice in group '%s' of "
					    "recovery plan '%s'",
					    r->name, chk_group_name(p, g, gb, sizeof(gb)), p->name);
				} else {
					chk_report2(
					    c, chk_ref_obj(EST_K_VM, r), CHK_O(EST_K_PLAN, p),
					    "vm '%s' is in groups '%s' and '%s' of recovery "
					    "plan '%s'; a VM sits in one group of a plan",
					    r->name,
					    chk_group_name(p, owner[r->i] - 1, gb2, sizeof(gb2)),
					    chk_group_name(p, g, gb, sizeof(gb)), p->name);
				}
			}
		}
		if ((int64_t)nvm > maxv)
			chk_report1(c, CHK_O(EST_K_PLAN, p),
			            "recovery plan '%s' has %u VMs, over the limit of %lld",
			            p->name, nvm, (long long)maxv);
	}
	free(owner);
}

static void
dr219(const struct estate *e, struct chk_ctx *c)
{
	bool *prot = chk_protect_marks(e);
	for (uint32_t i = 0; i < e->recovery_plans.n; i++) {
		const struct est_plan *p = &e->recovery_plans.v[i];
		for (uint32_t g = 0; g < p->groups.n; g++)
			for (uint32_t k = 0; k < p->groups.v[g].vms.n; k++) {
				const struct est_ref *r = &p->groups.v[g].vms.v[k];
				if (est_resolved(r) && !prot[r->i])
					chk_report2(
					    c, chk_ref_obj(EST_K_VM, r), CHK_O(EST_K_PLAN, p),
					    "vm '%s' in recovery plan '%s' is not protected "
					    "by replication: the plan cannot fail it over",
					    r->name, p->name);
			}
	}
	free(prot);
}

static void
dr220(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp)
		return;
	bool *in = lib_xcalloc(e->vms.n + 1, sizeof(*in));
	for (uint32_t i = 0; i < e->recovery_plans.n; i++) {
		const struct est_plan *p = &e->recovery_plans.v[i];
		for (uint32_t g = 0; g < p->groups.n; g++)
			for (uint32_t k = 0; k < p->groups.v[g].vms.n; k++)
				if (est_resolved(&p->groups.v[g].vms.v[k]))
					in[p->groups.v[g].vms.v[k].i] = true;
	}
	for (uint32_t i = 0; i < rp->protect.n; i++) {
		const struct est_ref *r = &rp->protect.v[i];
		if (!est_resolved(r) || in[r->i])
			continue;
		in[r->i] = true; /* once per VM */
		chk_report1(c, chk_ref_obj(EST_K_VM, r),
		            "protected vm '%s' is in no recovery plan: it fails over alone, "
		            "without the plan's network steps",
		            r->name);
	}
	free(in);
}

/* ---- DR221: replication groups cut across plan groups ------------------ */

static void
dr221(const struct estate *e, struct chk_ctx *c)
{
	const struct est_replication *rp = e->replication;
	if (!rp || !rp->groups.n)
		return;
	/* where[vm] = 1 + plan group of the VM in the plan being looked at */
	uint32_t *where = lib_xcalloc(e->vms.n + 1, sizeof(*where));
	for (uint32_t i = 0; i < e->recovery_plans.n; i++) {
		const struct est_plan *p = &e->recovery_plans.v[i];
		memset(where, 0, (e->vms.n + 1) * sizeof(*where));
		for (uint32_t g = 0; g < p->groups.n; g++)
			for (uint32_t k = 0; k < p->groups.v[g].vms.n; k++)
				if (est_resolved(&p->groups.v[g].vms.v[k]))
					where[p->groups.v[g].vms.v[k].i] = g + 1;
		for (uint32_t r = 0; r < rp->groups.n; r++) {
			const struct est_repl_group *rg = &rp->groups.v[r];
			const struct est_ref *first = NULL, *other = NULL, *missing = NULL;
			for (uint32_t k = 0; k < rg->vms.n; k++) {
				const struct est_ref *v = &rg->vms.v[k];
				if (!est_resolved(v))
					continue;
				if (!where[v->i])
					missing = missing ? missing : v;
				else if (!first)
					first = v;
				else if (where[v->i] != where[first->i] && !other)
					other = v;
			}
			char ga[32], gb[32];
			if (first && other)
				chk_report2(c, CHK_O(EST_K_REPL_GROUP, rg), CHK_O(EST_K_PLAN, p),
				            "replication group '%s' is split across groups '%s' "
				            "('%s') and '%s' ('%s') of recovery plan '%s'; its VMs "
				            "share one recovery point and fail over together",
				            rg->name,
				            chk_group_name(p, where[first->i] - 1, ga, sizeof(ga)),
				            first->name,
				            chk_group_name(p, where[other->i] - 1, gb, sizeof(gb)),
				            other->name, p->name);
			if (first && missing)
				chk_report2(
				    c, CHK_O(EST_K_REPL_GROUP, rg), CHK_O(EST_K_PLAN, p),
				    "recovery plan '%s' fails over '%s' of replication group "
				    "'%s' but not '%s'; a replication group fails over whole",
				    p->name, first->name, rg->name, missing->name);
		}
	}
	free(where);
}

static const struct chk_rule rules[] = {
    {"DR213", LIB_SEV_ERROR, "Recovery plan too large or a VM in two groups", "azure-facts 3.6",
     "split the plan (at most 7 groups, 100 VMs) and put each VM in one group", dr213},
    {"DR219", LIB_SEV_WARNING, "Recovery plan names an unprotected VM", "azure-facts 3.6",
     "protect the VM, or remove it from the plan", dr219},
    {"DR220", LIB_SEV_INFO, "Protected VM in no recovery plan", SEED_DR "; azure-facts 3.6",
     "add the VM to a recovery plan so the network steps run with its failover", dr220},
    {"DR221", LIB_SEV_ERROR, "Replication group split by a recovery plan", "azure-facts 3.5, 3.6",
     "put every VM of the replication group in the same group of the plan", dr221},
};

CHK_SEGMENT(chk_seg_plan, rules);
