/*
 * chk_er_util.c - helpers of the ExpressRoute rules: number and prefix
 * formatting for messages, a connection's circuit and VNet, a circuit's
 * location, site and peerings.
 */
#include "chk_er.h"

#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

/* 4012 -> "4,012" */
struct er_num
er_num(uint64_t n)
{
	struct er_num r;
	char tmp[32];
	int len = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)n);
	size_t o = 0;
	for (int i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			r.s[o++] = ',';
		r.s[o++] = tmp[i];
	}
	r.s[o] = '\0';
	return r;
}

struct er_bw
er_bw(uint64_t mbps)
{
	struct er_bw r;
	lib_fmt_bandwidth(mbps, r.s, sizeof(r.s));
	return r;
}

struct er_pfx
er_pfx(const struct ip_prefix *p)
{
	struct er_pfx r;
	ip_prefix_fmt(p, r.s);
	return r;
}

const char *
er_plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

const char *
er_nm(const char *s)
{
	return s ? s : "?";
}

const struct est_circuit *
er_conn_circuit(const struct estate *e, const struct est_connection *cn)
{
	return est_resolved(&cn->circuit) ? &e->circuits.v[cn->circuit.i] : NULL;
}

const struct est_vnet *
er_conn_vnet(const struct estate *e, const struct est_connection *cn)
{
	return est_resolved(&cn->gateway) ? &e->vnets.v[cn->gateway.i] : NULL;
}

const struct est_location *
er_circ_location(const struct estate *e, const struct est_circuit *ci)
{
	return est_resolved(&ci->location) ? &e->locations.v[ci->location.i] : NULL;
}

const struct est_site *
er_circ_site(const struct estate *e, const struct est_circuit *ci)
{
	return est_resolved(&ci->site) ? &e->sites.v[ci->site.i] : NULL;
}

uint32_t
er_circuit_peerings(const struct est_circuit *ci, struct er_peer out[3])
{
	uint32_t n = 0;
	if (ci->private_peering)
		out[n++] = (struct er_peer){ci->private_peering, "private peering"};
	if (ci->microsoft_peering)
		out[n++] = (struct er_peer){ci->microsoft_peering, "Microsoft peering"};
	if (ci->public_peering)
		out[n++] = (struct er_peer){ci->public_peering, "public peering"};
	return n;
}

/* A peering is located at its own position but named after its circuit. */
struct chk_obj
er_peer_obj(const struct est_circuit *ci, const struct est_peering_cfg *p)
{
	return (struct chk_obj){EST_K_CIRCUIT, ci->name, p->pos};
}

const char *
er_link_side(uint32_t side)
{
	return side == EST_LINK_PRIMARY ? "primary" : "secondary";
}

bool
er_is_set(const struct ip_prefix *p)
{
	return p->a.af != 0;
}
