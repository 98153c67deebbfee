/*
 * chk_dr.h - shared views of the Site Recovery rules (chk_dr.c, chk_ready.c).
 *
 * Design: every rule reads e->replication (NULL means nothing is replicated)
 * and e->recovery_plans. Three views are shared by the rules:
 *   - pairs: each source VNet with the VNet it fails over to, from
 *     network_mapping or, with auto_target_networks, Site Recovery's
 *     <vnet>-asr mirror (a planned VNet with the source's address space);
 *   - the ExpressRoute reach of a VNet: the gateway carrying its on-premises
 *     traffic (its own, or a hub's through use_remote_gateways), the circuits
 *     connected to that gateway and the sites of those circuits;
 *   - plan steps flattened in run order (plan before, group 1 before and
 *     after, ..., plan after), so a step can be compared with the one that
 *     creates what it uses. Steps that run only on failback are left out of
 *     the failover view.
 * Objects that exist only as plan output (EST_REF_PLANNED) are matched by
 * name. Facts: seeds 000-002 and azure-facts section 3.
 */
#ifndef STRAIT_CHK_DR_H
#define STRAIT_CHK_DR_H

#include "chk_internal.h"

#define SEED_DR "seed: azure-vm-disaster-recovery-with-expressroute"
#define SEED_ER "seed: concepts-expressroute-with-site-recovery"

struct dr_tgt {
	char name[128];
	const char *obj;    /* name for findings: lives as long as the estate */
	struct est_pos pos; /* where it is named (mapping target or source vnet) */
	uint32_t vi;        /* an existing VNet, or EST_NONE */
	uint32_t mirror_of; /* a planned <vnet>-asr mirror of this VNet, or EST_NONE */
};

struct dr_pair {
	uint32_t si; /* source VNet */
	struct dr_tgt t;
};

enum { DR_AT_PLAN_BEFORE, DR_AT_GROUP_BEFORE, DR_AT_GROUP_AFTER, DR_AT_PLAN_AFTER };

struct dr_step {
	const struct est_action *a;
	uint8_t at;     /* DR_AT_* */
	uint32_t group; /* for AT_GROUP_* */
	uint32_t nth;   /* 1-based within its list */
};

typedef bool (*dr_step_pred)(const struct est_action *a, const void *arg);

struct dr_gw_in_vnet {
	const char *vnet;
	int type;
};

struct dr_peer_ends {
	const char *from, *to;
};

struct chk_obj dr_repl_obj(const struct est_replication *rp);
bool dr_is_a2a(const struct est_replication *rp);
bool dr_is_onprem(const struct est_replication *rp);
uint32_t dr_region_of_vnet(const struct estate *e, uint32_t vi);
const char *dr_region_name(const struct estate *e, uint32_t ri);
const char *dr_region_geo(const struct estate *e, uint32_t ri);
int dr_vnet_gateway(const struct est_vnet *v, int type);
bool dr_spaces_overlap(const struct est_vnet *a, const struct est_vnet *b,
                       const struct ip_prefix **pa, const struct ip_prefix **pb);
bool dr_has_storage_endpoint(const struct est_subnet *s);
uint32_t dr_er_vnet(const struct estate *e, uint32_t vi);
uint32_t *dr_serving_gateways(const struct estate *e);
bool dr_er_connection_of(const struct estate *e, const struct est_connection *c, uint32_t gv);
uint32_t dr_vnet_circuits(const struct estate *e, uint32_t vi, bool *mark,
                          const struct est_connection **conn);
uint32_t dr_site_circuit_count(const struct estate *e, uint32_t site);
const char *dr_circuit_geo(const struct estate *e, const struct est_circuit *c);
struct chk_obj dr_tgt_obj(const struct dr_tgt *t);
const struct est_vnet *dr_tgt_space(const struct estate *e, const struct dr_tgt *t);
uint32_t dr_tgt_region(const struct estate *e, const struct est_replication *rp,
                       const struct dr_tgt *t);
void dr_tgt_from_ref(const struct estate *e, const struct est_ref *r, struct dr_tgt *t);
uint32_t dr_collect_pairs(const struct estate *e, const struct est_replication *rp,
                          struct dr_pair **out);
bool dr_runs_on_failover(const struct est_action *a);
void dr_push_steps(struct dr_step *s, uint32_t *n, const struct est_action *v, uint32_t cnt,
                   uint8_t at, uint32_t group);
struct dr_step *dr_plan_steps(const struct est_plan *p, uint32_t *n);
const char *dr_step_where(const struct est_plan *p, const struct dr_step *s, char *buf, size_t n);
struct chk_obj dr_step_obj(const struct est_plan *p, const struct est_action *a);
bool dr_step_creates(const struct est_action *a, enum est_kind k, const char *name);
const struct est_action *dr_find_step(const struct estate *e, dr_step_pred pred, const void *arg,
                                      const struct est_plan **pp);
bool dr_pred_create_gw_in(const struct est_action *a, const void *arg);
bool dr_pred_create_gw_named(const struct est_action *a, const void *arg);
bool dr_pred_connect_gw(const struct est_action *a, const void *arg);
bool dr_pred_attach_subnet(const struct est_action *a, const void *arg);
bool dr_pred_peering(const struct est_action *a, const void *arg);
bool dr_pred_disconnect(const struct est_action *a, const void *arg);

#endif
