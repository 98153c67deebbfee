/*
 * est_summary.c - a short account of an estate for people (strait summary,
 * the first screen of make demo): what is there and how it hangs together.
 */
#include "est.h"

#include <string.h>

char *
est_summary(const struct estate *e)
{
	struct lib_buf b = {0};
	char bw[32], ps[IP_STRLEN];
	uint32_t nsub = 0, ngw = 0, ndisk = 0;
	uint64_t bytes = 0;
	for (uint32_t i = 0; i < e->vnets.n; i++) {
		nsub += e->vnets.v[i].subnets.n;
		ngw += e->vnets.v[i].gateways.n;
	}
	/* disks of the protected VMs: what replication carries */
	for (uint32_t i = 0; e->replication && i < e->replication->protect.n; i++) {
		const struct est_ref *r = &e->replication->protect.v[i];
		for (uint32_t d = 0; est_resolved(r) && d < e->vms.v[r->i].disks.n; d++) {
			ndisk++;
			bytes += e->vms.v[r->i].disks.v[d].size;
		}
	}
	lib_buf_printf(&b, "estate %s (%s)\n", e->name, e->file);
	if (e->description)
		lib_buf_printf(&b, "  %s\n", e->description);
	const struct {
		uint32_t n;
		const char *one, *many;
	} counts[] = {
	    {e->regions.n, "region", "regions"},
	    {e->locations.n, "peering location", "peering locations"},
	    {e->sites.n, "site", "sites"},
	    {e->circuits.n, "circuit", "circuits"},
	    {e->vnets.n, "vnet", "vnets"},
	    {nsub, "subnet", "subnets"},
	    {ngw, "gateway", "gateways"},
	    {e->connections.n, "connection", "connections"},
	    {e->peerings.n, "vnet peering", "vnet peerings"},
	    {e->route_tables.n, "route table", "route tables"},
	    {e->appliances.n, "appliance", "appliances"},
	    {e->vms.n, "vm", "vms"},
	};
	lib_buf_puts(&b, " ");
	for (size_t i = 0; i < LIB_ARRAY_LEN(counts); i++)
		lib_buf_printf(&b, "%s %u %s", i ? "," : "", counts[i].n,
		               counts[i].n == 1 ? counts[i].one : counts[i].many);
	lib_buf_puts(&b, "\n");
	for (uint32_t i = 0; i < e->sites.n && i < 20; i++) {
		const struct est_site *s = &e->sites.v[i];
		lib_buf_printf(&b, "  site %s AS%u advertises", s->name, s->asn);
		for (uint32_t p = 0; p < s->prefixes.n && p < 4; p++)
			lib_buf_printf(&b, " %s", ip_prefix_fmt(&s->prefixes.v[p], ps));
		if (s->prefixes.n > 4)
			lib_buf_printf(&b, " (+%u)", s->prefixes.n - 4);
		lib_buf_puts(&b, "\n");
	}
	for (uint32_t i = 0; i < e->circuits.n && i < 20; i++) {
		const struct est_circuit *c = &e->circuits.v[i];
		uint32_t nconn = 0;
		for (uint32_t k = 0; k < e->connections.n; k++)
			if (e->connections.v[k].circuit.i == i &&
			    est_resolved(&e->connections.v[k].circuit))
				nconn++;
		lib_fmt_bandwidth(c->bandwidth, bw, sizeof(bw));
		lib_buf_printf(&b, "  circuit %s: %s at %s, %s %s, %u connection%s%s%s\n", c->name,
		               c->site.name, c->location.name, bw, est_tier_name(c->tier), nconn,
		               nconn == 1 ? "" : "s", c->private_peering ? ", private peering" : "",
		               c->microsoft_peering ? ", microsoft peering" : "");
	}
	if (e->circuits.n > 20)
		lib_buf_printf(&b, "  ... %u more circuits\n", e->circuits.n - 20);
	if (e->replication) {
		const struct est_replication *r = e->replication;
		char d[32];
		lib_fmt_duration(r->policy.crash_consistent_every, d, sizeof(d));
		lib_buf_printf(&b, "  replication %s -> %s: %u protected vm%s, %u disk%s, ",
		               r->source.name ? r->source.name : r->source_site.name,
		               r->target.name, r->protect.n, r->protect.n == 1 ? "" : "s", ndisk,
		               ndisk == 1 ? "" : "s");
		char sz[32];
		lib_fmt_size(bytes, sz, sizeof(sz));
		lib_buf_printf(&b, "%s in all, crash-consistent every %s\n", sz, d);
	}
	for (uint32_t i = 0; i < e->recovery_plans.n; i++) {
		const struct est_plan *p = &e->recovery_plans.v[i];
		uint32_t nact = p->before.n + p->after.n, nvm = 0;
		for (uint32_t g = 0; g < p->groups.n; g++) {
			nact += p->groups.v[g].before.n + p->groups.v[g].after.n;
			nvm += p->groups.v[g].vms.n;
		}
		lib_buf_printf(&b, "  recovery plan %s: %u group%s, %u vm%s, %u action%s\n",
		               p->name, p->groups.n, p->groups.n == 1 ? "" : "s", nvm,
		               nvm == 1 ? "" : "s", nact, nact == 1 ? "" : "s");
	}
	return b.s;
}
