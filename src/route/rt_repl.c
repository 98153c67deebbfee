/*
 * rt_repl.c - the path replication traffic takes from each protected VM to
 * the target region's storage.
 *
 * Azure to Azure (seed azure-vm-disaster-recovery-with-expressroute): the
 * endpoints are public, but the traffic stays on the backbone; a subnet with
 * a Microsoft.Storage service endpoint sends it there directly; otherwise it
 * follows the route of a public address: the system Internet route keeps it
 * on the backbone, a 0.0.0.0/0 UDR to an NVA sends all of it through the NVA
 * (the seeds warn it may be overloaded), and a 0.0.0.0/0 learned from
 * on-premises (forced tunnelling) sends it over ExpressRoute to the site.
 *
 * On-premises to Azure (seed concepts-expressroute-with-site-recovery):
 * Microsoft peering when a circuit of the site has one with a route filter
 * that lets the target region's storage through; private peering only with
 * vault private endpoints; otherwise the Internet.
 */
#include "rt_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const classes[] = {
    "backbone",          "through an NVA", "ExpressRoute private peering",
    "Microsoft peering", "internet",       "broken"};

const char *
rt_repl_class_name(int cls)
{
	return cls >= 0 && cls < (int)LIB_ARRAY_LEN(classes) ? classes[cls] : "?";
}

static bool
has_storage_endpoint(const struct est_subnet *s)
{
	for (uint32_t k = 0; k < s->service_endpoints.n; k++)
		if (s->service_endpoints.v[k] == EST_SE_STORAGE ||
		    s->service_endpoints.v[k] == EST_SE_STORAGE_GLOBAL)
			return true;
	return false;
}

/* A public address in no VNet and no site prefix stands for the storage
 * endpoint: what matters is which route a public address takes. */
static bool
public_addr(const struct estate *e, struct ip_addr *a)
{
	static const char *const cands[] = {"20.60.0.1", "52.239.0.1", "198.18.0.1"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(cands); i++) {
		ip_addr_parse(cands[i], a);
		bool used = false;
		for (uint32_t v = 0; v < e->vnets.n && !used; v++)
			for (uint32_t k = 0; k < e->vnets.v[v].address_space.n; k++)
				used |=
				    ip_prefix_contains_addr(&e->vnets.v[v].address_space.v[k], a);
		for (uint32_t s = 0; s < e->sites.n && !used; s++)
			for (uint32_t k = 0; k < e->sites.v[s].prefixes.n; k++)
				used |= e->sites.v[s].prefixes.v[k].len > 0 &&
				        ip_prefix_contains_addr(&e->sites.v[s].prefixes.v[k], a);
		if (!used)
			return true;
	}
	return false;
}

static void
azure_vm(const struct rt_net *n, const struct est_vm *vm, struct rt_repl_path *p)
{
	const struct estate *e = n->e;
	const struct est_subnet *s = est_ref_subnet(e, &vm->subnet);
	char tgt[64];
	snprintf(tgt, sizeof(tgt), "%s", e->replication->target.name);
	if (has_storage_endpoint(s)) {
		p->cls = RT_REPL_BACKBONE;
		snprintf(
		    p->how, sizeof(p->how),
		    "service endpoint Microsoft.Storage on %s/%s: straight to %s storage on the "
		    "backbone",
		    e->vnets.v[vm->subnet.i].name, s->name, tgt);
		return;
	}
	struct ip_addr a;
	struct rt_route r;
	if (!public_addr(e, &a) || !rt_subnet_lookup(n, vm->subnet.i, vm->subnet.j, &a, &r)) {
		p->cls = RT_REPL_BROKEN;
		snprintf(p->how, sizeof(p->how), "no route to a public endpoint");
		return;
	}
	char pfx[IP_STRLEN], ip[IP_STRLEN];
	ip_prefix_fmt(&r.p, pfx);
	switch (r.nh) {
	case RT_NH_INTERNET:
		p->cls = RT_REPL_BACKBONE;
		snprintf(p->how, sizeof(p->how),
		         "system route %s -> Internet: public endpoints of %s storage, on the "
		         "backbone",
		         pfx, tgt);
		return;
	case RT_NH_APPLIANCE: {
		uint32_t ai = r.nnh ? rt_appliance_at(n, vm->subnet.i, &r.nh_ip[0]) : EST_NONE;
		const char *name = ai == EST_NONE ? "?" : e->appliances.v[ai].name;
		p->cls = RT_REPL_NVA;
		snprintf(p->how, sizeof(p->how),
		         "user route %s -> appliance %s (%s): the NVA carries all replication "
		         "traffic; add a Microsoft.Storage service endpoint",
		         pfx, name, r.nnh ? ip_addr_fmt(&r.nh_ip[0], ip) : "?");
		return;
	}
	case RT_NH_GATEWAY:
		p->cls = RT_REPL_EXPRESSROUTE_PRIVATE;
		snprintf(p->how, sizeof(p->how),
		         "route %s -> VirtualNetworkGateway: forced over ExpressRoute to "
		         "on-premises; add a Microsoft.Storage service endpoint",
		         pfx);
		return;
	default:
		p->cls = RT_REPL_BROKEN;
		snprintf(p->how, sizeof(p->how), "route %s -> %s: replication traffic is dropped",
		         pfx, rt_nh_name(r.nh));
	}
}

static bool
filter_has_storage(const struct est_peering_cfg *mp, uint32_t target)
{
	for (uint32_t k = 0; mp && k < mp->route_filter.n; k++)
		if (mp->route_filter.v[k].service == EST_SVC_AZURE_STORAGE &&
		    est_resolved(&mp->route_filter.v[k].region) &&
		    mp->route_filter.v[k].region.i == target)
			return true;
	return false;
}

static void
onprem_vm(const struct rt_net *n, const struct est_vm *vm, struct rt_repl_path *p)
{
	const struct estate *e = n->e;
	const struct est_replication *rp = e->replication;
	uint32_t site = vm->site.i, target = rp->target.i;
	switch (rp->path) {
	case EST_RP_MICROSOFT_PEERING:
		for (uint32_t c = 0; c < e->circuits.n; c++) {
			const struct est_circuit *ci = &e->circuits.v[c];
			if (!est_resolved(&ci->site) || ci->site.i != site ||
			    !ci->microsoft_peering)
				continue;
			if (!n->circuits[c].usable ||
			    (!n->circuits[c].link_up[0] && !n->circuits[c].link_up[1]))
				continue;
			if (filter_has_storage(ci->microsoft_peering, target)) {
				p->cls = RT_REPL_MICROSOFT_PEERING;
				snprintf(
				    p->how, sizeof(p->how),
				    "Microsoft peering of circuit %s; its route filter lets %s "
				    "storage through",
				    ci->name, rp->target.name);
				return;
			}
		}
		p->cls = RT_REPL_INTERNET;
		snprintf(p->how, sizeof(p->how),
		         "no circuit of site %s has a working Microsoft peering whose route filter "
		         "includes %s storage: replication goes over the Internet",
		         e->sites.v[site].name, rp->target.name);
		return;
	case EST_RP_PRIVATE_PEERING:
		if (!rp->vault.private_endpoints) {
			p->cls = RT_REPL_BROKEN;
			snprintf(
			    p->how, sizeof(p->how),
			    "private peering needs the vault's private endpoints, which are off");
			return;
		}
		p->cls = RT_REPL_EXPRESSROUTE_PRIVATE;
		snprintf(p->how, sizeof(p->how),
		         "private peering to the vault's private endpoints in %s", rp->target.name);
		return;
	default:
		p->cls = RT_REPL_INTERNET;
		snprintf(p->how, sizeof(p->how), "over the Internet to %s storage",
		         rp->target.name);
	}
}

struct rt_repl_path *
rt_repl_paths(const struct rt_net *n, uint32_t *count)
{
	const struct estate *e = n->e;
	const struct est_replication *rp = e->replication;
	uint32_t cnt = rp ? rp->protect.n : 0, k = 0;
	struct rt_repl_path *out = lib_xcalloc(cnt + 1, sizeof(*out));
	for (uint32_t i = 0; i < cnt; i++) {
		const struct est_ref *r = &rp->protect.v[i];
		if (!est_resolved(r) || !est_resolved(&rp->target))
			continue;
		const struct est_vm *vm = &e->vms.v[r->i];
		struct rt_repl_path *p = &out[k];
		p->vm = r->i;
		if (est_resolved(&vm->subnet))
			azure_vm(n, vm, p);
		else if (est_resolved(&vm->site))
			onprem_vm(n, vm, p);
		else
			continue;
		k++;
	}
	*count = k;
	return out;
}
