/*
 * chk_circuit.c - ExpressRoute rules (ER0xx): circuits, peerings, ASNs,
 * SKU reach, Global Reach, route and link limits.
 */
#include "chk_internal.h"

#include <string.h>

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
					chk_report2(c, CHK_O(EST_K_VNET, va), CHK_O(EST_K_VNET, vb),
						    "vnet '%s' address space %s overlaps vnet '%s' "
						    "(%s), both connected to circuit '%s'",
						    va->name, ip_prefix_fmt(&va->address_space.v[x], pa),
						    vb->name, ip_prefix_fmt(&vb->address_space.v[y], pb),
						    e->circuits.v[ca->circuit.i].name);
				}
		}
	}
}

static const struct chk_rule rules[] = {
	{"ER001", LIB_SEV_ERROR, "Overlapping VNets connected to one circuit",
	 "seed: azure-vm-disaster-recovery-with-expressroute; azure-facts 1.4",
	 "give the target VNet a different address space, or disconnect the source connection "
	 "before connecting the target",
	 er001},
};

CHK_SEGMENT(chk_seg_circuit, rules);
