/*
 * chk_er.h - helpers shared by the ExpressRoute rules (chk_circuit.c ER001-ER010,
 * chk_erlimit.c ER011-ER028).
 *
 * Design: every rule is a pure pass over the estate; rules that aggregate
 * (per VNet, per circuit, per gateway) build small heap tallies indexed like
 * the estate's arrays and free them before returning, so each rule stays
 * O(objects) or O(n log n) on large generated estates. Every numeric limit
 * comes from est_limit() (so `limits:` overrides apply) or from the platform
 * tables of est_tables.c. Messages name the objects and the numbers; the
 * first object of a finding is where output points.
 */
#ifndef STRAIT_CHK_ER_H
#define STRAIT_CHK_ER_H

#include "chk_internal.h"

#define SEED "seed: azure-vm-disaster-recovery-with-expressroute"

struct er_num {
	char s[32];
};

struct er_bw {
	char s[32];
};

struct er_pfx {
	char s[IP_STRLEN];
};

/* The peerings a circuit has, with their names for messages. */
struct er_peer {
	const struct est_peering_cfg *p;
	const char *what;
};

struct er_num er_num(uint64_t n);
struct er_bw er_bw(uint64_t mbps);
struct er_pfx er_pfx(const struct ip_prefix *p);
const char *er_plural(uint64_t n);
const char *er_nm(const char *s);
const struct est_circuit *er_conn_circuit(const struct estate *e, const struct est_connection *cn);
const struct est_vnet *er_conn_vnet(const struct estate *e, const struct est_connection *cn);
const struct est_location *er_circ_location(const struct estate *e, const struct est_circuit *ci);
const struct est_site *er_circ_site(const struct estate *e, const struct est_circuit *ci);
uint32_t er_circuit_peerings(const struct est_circuit *ci, struct er_peer out[3]);
struct chk_obj er_peer_obj(const struct est_circuit *ci, const struct est_peering_cfg *p);
const char *er_link_side(uint32_t side);
bool er_is_set(const struct ip_prefix *p);

#endif
