/*
 * est.h - the estate: every object of a hybrid network that strait reasons about.
 *
 * An estate is loaded once from YAML or JSON into one arena and is immutable
 * afterwards; engines (check, route, recover) read it and build what they
 * need beside it. Every schema-visible field below is described once in the
 * field tables of est_schema.c, which drive the loader, the canonical printer
 * (strait fmt), the JSON Schema and the format reference, so the four cannot
 * drift apart. Fields marked "derived" are computed after loading and are not
 * part of the file format.
 *
 * References between objects (a connection names a gateway and a circuit) are
 * struct est_ref: the name as written, where it was written, and after
 * resolution the index of the target. Nested objects have two indices:
 * a subnet is (vnet, subnet), a gateway (vnet, gateway), a circuit link
 * (circuit, side). A reference in a recovery plan may name an object that
 * the plan itself creates; it resolves as EST_REF_PLANNED.
 */
#ifndef STRAIT_EST_H
#define STRAIT_EST_H

#include "../ip/ip.h"
#include "../lib/lib.h"

#define EST_NONE UINT32_MAX

#define EST_LIST(T)                                                                                \
	struct {                                                                                   \
		T *v;                                                                              \
		uint32_t n;                                                                        \
	}

struct est_pos {
	uint32_t line, col; /* 1-based; 0 when the object was not read from a file */
};

enum est_kind {
	EST_K_NONE,
	EST_K_REGION,
	EST_K_LOCATION,
	EST_K_PROVIDER,
	EST_K_SITE,
	EST_K_ROUTER,
	EST_K_CIRCUIT,
	EST_K_LINK, /* circuit/primary, circuit/secondary */
	EST_K_GLOBAL_REACH,
	EST_K_VNET,
	EST_K_SUBNET, /* vnet/subnet */
	EST_K_GATEWAY,
	EST_K_CONNECTION,
	EST_K_PEERING,
	EST_K_ROUTE_TABLE,
	EST_K_APPLIANCE,
	EST_K_VM,
	EST_K_REPL_GROUP,
	EST_K_PLAN,
	EST_K__COUNT
};

enum est_ref_state { EST_REF_UNSET, EST_REF_RESOLVED, EST_REF_PLANNED, EST_REF_DANGLING };

struct est_ref {
	const char *name; /* as written; NULL when absent */
	struct est_pos pos;
	uint32_t i, j; /* target index (and nested index), EST_NONE when unresolved */
	uint8_t state; /* enum est_ref_state */
};

/* ---- geography ---------------------------------------------------------- */

struct est_region {
	struct est_pos pos;
	const char *name;
	const char *geo; /* geopolitical region: the Standard-tier boundary */
	bool national;   /* national cloud: commercial circuits cannot reach it */
	bool zones;      /* has availability zones */
};

struct est_location {
	struct est_pos pos;
	const char *name;
	const char *geo;
	const char *metro;
	EST_LIST(struct est_ref) local_regions; /* regions the Local tier reaches */
	bool local_tier;                        /* Local SKU offered here */
};

struct est_provider {
	struct est_pos pos;
	const char *name;
	EST_LIST(struct est_ref) locations;
};

/* ---- on-premises -------------------------------------------------------- */

struct est_router {
	struct est_pos pos;
	const char *name;
	EST_LIST(struct est_ref) links; /* circuit links it terminates (EST_K_LINK) */
};

struct est_site_policy {
	struct est_pos pos;
	struct est_ref circuit;
	uint32_t local_pref; /* on-prem -> Azure choice: higher wins (default 100) */
	uint32_t prepend;    /* AS-path prepends towards Microsoft on this circuit */
};

struct est_site {
	struct est_pos pos;
	const char *name;
	uint32_t asn;
	EST_LIST(struct ip_prefix) prefixes;
	EST_LIST(struct est_router) routers;
	EST_LIST(struct est_site_policy) policy;
};

/* ---- circuits ----------------------------------------------------------- */

enum est_port { EST_PORT_PROVIDER, EST_PORT_DIRECT_10G, EST_PORT_DIRECT_100G };
enum est_tier { EST_TIER_LOCAL, EST_TIER_STANDARD, EST_TIER_PREMIUM };
enum est_billing { EST_BILL_METERED, EST_BILL_UNLIMITED };
enum est_pstate {
	EST_PS_NOT_PROVISIONED,
	EST_PS_PROVISIONING,
	EST_PS_PROVISIONED,
	EST_PS_DEPROVISIONING
};
enum est_cstate { EST_CS_ENABLED, EST_CS_DISABLED };
enum est_prefix_state { EST_PFX_CONFIGURED, EST_PFX_VALIDATION_NEEDED, EST_PFX_MANUAL };
enum est_link_side { EST_LINK_PRIMARY, EST_LINK_SECONDARY };

/* Microsoft peering route-filter services (azure-facts 1.7 communities). */
enum est_msvc {
	EST_SVC_EXCHANGE,
	EST_SVC_SHAREPOINT,
	EST_SVC_TEAMS,
	EST_SVC_CRM,
	EST_SVC_AZURE_GLOBAL,
	EST_SVC_ENTRA_ID,
	EST_SVC_ARM,
	EST_SVC_OTHER_O365,
	EST_SVC_AZURE_REGIONAL, /* regional: need a region */
	EST_SVC_AZURE_STORAGE,
	EST_SVC_AZURE_SQL,
	EST_SVC_AZURE_COSMOS,
	EST_SVC_AZURE_BACKUP,
};

struct est_filter_rule {
	struct est_pos pos;
	int service;           /* enum est_msvc */
	struct est_ref region; /* for the regional services */
};

/* One routing domain on a circuit: a redundant pair of eBGP sessions. */
struct est_peering_cfg {
	struct est_pos pos;
	uint32_t peer_asn;
	struct ip_prefix subnet;  /* one /29 split in two /30s, or ... */
	struct ip_prefix primary; /* ... two /30s */
	struct ip_prefix secondary;
	struct ip_prefix ipv6_primary; /* /126s, optional */
	struct ip_prefix ipv6_secondary;
	uint32_t vlan;
	const char *md5_key;
	/* straitd runs the provider edge's sessions on the link addresses mapped into
	 * this prefix (their host bits kept); af 0: not run */
	struct ip_prefix listen;
	/* Microsoft (and public) peering */
	EST_LIST(struct ip_prefix) advertised_prefixes;
	int advertised_state; /* enum est_prefix_state */
	EST_LIST(struct est_filter_rule) route_filter;
	/* derived: the two link /30s (IPv4) after splitting subnet */
	struct ip_prefix link_net[2];
};

struct est_circuit {
	struct est_pos pos;
	const char *name;
	struct est_ref site;
	struct est_ref provider;
	struct est_ref location;
	uint64_t bandwidth; /* Mbps */
	int port;           /* enum est_port */
	int tier;           /* enum est_tier */
	int billing;        /* enum est_billing */
	int provider_state; /* enum est_pstate */
	int state;          /* enum est_cstate */
	struct est_peering_cfg *private_peering;
	struct est_peering_cfg *microsoft_peering;
	struct est_peering_cfg *public_peering; /* deprecated: loaded to be reported */
};

struct est_global_reach {
	struct est_pos pos;
	const char *name;
	EST_LIST(struct est_ref) circuits; /* exactly two */
	struct ip_prefix subnet;           /* dedicated /29 */
};

/* ---- virtual networks --------------------------------------------------- */

enum est_svc_ep {
	EST_SE_STORAGE,
	EST_SE_STORAGE_GLOBAL,
	EST_SE_SQL,
	EST_SE_COSMOS,
	EST_SE_KEYVAULT,
	EST_SE_SERVICEBUS,
	EST_SE_EVENTHUB,
	EST_SE_WEB,
	EST_SE_CONTAINER_REGISTRY,
	EST_SE_COGNITIVE,
};

enum est_pe_service { EST_PE_BLOB, EST_PE_FILE, EST_PE_SQL, EST_PE_KEYVAULT, EST_PE_SITE_RECOVERY };

struct est_private_endpoint {
	struct est_pos pos;
	const char *name;
	struct ip_addr ip;
	int service; /* enum est_pe_service */
};

struct est_subnet {
	struct est_pos pos;
	const char *name;
	struct ip_prefix prefix;
	struct est_ref route_table;
	EST_LIST(int) service_endpoints; /* enum est_svc_ep */
	EST_LIST(struct est_private_endpoint) private_endpoints;
};

enum est_gw_type { EST_GW_EXPRESSROUTE, EST_GW_VPN };
enum est_gw_sku {
	EST_SKU_STANDARD,
	EST_SKU_HIGH_PERFORMANCE,
	EST_SKU_ULTRA_PERFORMANCE,
	EST_SKU_ERGW1AZ,
	EST_SKU_ERGW2AZ,
	EST_SKU_ERGW3AZ,
	EST_SKU_ERGWSCALE,
	EST_SKU_VPNGW1,
	EST_SKU_VPNGW2,
	EST_SKU_VPNGW3,
	EST_SKU_VPNGW4,
	EST_SKU_VPNGW5,
	EST_SKU_VPNGW1AZ,
	EST_SKU_VPNGW2AZ,
	EST_SKU_VPNGW3AZ,
	EST_SKU_VPNGW4AZ,
	EST_SKU_VPNGW5AZ,
	EST_SKU_BASIC,
};

struct est_gateway {
	struct est_pos pos;
	const char *name;
	int type;                                  /* enum est_gw_type */
	int sku;                                   /* enum est_gw_sku */
	uint32_t min_scale_units, max_scale_units; /* ErGwScale only */
	bool fastpath;
	bool allow_vnet_transit; /* VNet-to-VNet over ER: off by default (azure-facts 1.4) */
};

struct est_vnet {
	struct est_pos pos;
	const char *name;
	struct est_ref region;
	EST_LIST(struct ip_prefix) address_space;
	EST_LIST(struct est_subnet) subnets;
	EST_LIST(struct est_gateway) gateways; /* at most one per type */
	EST_LIST(struct ip_prefix) summarized_prefixes;
};

struct est_connection {
	struct est_pos pos;
	const char *name; /* defaults to <gateway>-<circuit> */
	struct est_ref gateway;
	struct est_ref circuit;
	uint32_t weight; /* routing weight 0..32000, higher wins */
	const char *authorization;
	bool enabled;
};

struct est_vnet_peering {
	struct est_pos pos;
	const char *name; /* defaults to <from>-to-<to> */
	struct est_ref from, to;
	bool allow_virtual_network_access; /* default true */
	bool allow_forwarded_traffic;
	bool allow_gateway_transit;
	bool use_remote_gateways;
};

enum est_next_hop {
	EST_NH_VIRTUAL_APPLIANCE,
	EST_NH_VNET_LOCAL,
	EST_NH_INTERNET,
	EST_NH_NONE,
	EST_NH_VIRTUAL_NETWORK_GATEWAY,
};

struct est_route {
	struct est_pos pos;
	const char *name;
	struct ip_prefix prefix;
	int next_hop;           /* enum est_next_hop */
	struct ip_addr ip;      /* virtual_appliance */
	struct est_ref gateway; /* virtual_network_gateway: which one (optional) */
};

struct est_route_table {
	struct est_pos pos;
	const char *name;
	struct est_ref region;
	bool propagate_gateway_routes; /* default true */
	EST_LIST(struct est_route) routes;
};

struct est_appliance {
	struct est_pos pos;
	const char *name;
	struct est_ref subnet; /* vnet/subnet */
	struct ip_addr ip;
	bool ip_forwarding; /* default true */
};

/* ---- workloads ---------------------------------------------------------- */

enum est_alloc { EST_ALLOC_STATIC, EST_ALLOC_DYNAMIC };
enum est_disk_type {
	EST_DISK_STANDARD_HDD,
	EST_DISK_STANDARD_SSD,
	EST_DISK_PREMIUM_SSD,
	EST_DISK_ULTRA
};

struct est_disk {
	struct est_pos pos;
	const char *name;
	uint64_t size;    /* bytes */
	int type;         /* enum est_disk_type */
	const char *path; /* backing file or device for live replication */
	const char *seed; /* the disk's old copy in the replication target (after a failover):
	                     reprotect starts from it and sends only the differences */
};

struct est_vm {
	struct est_pos pos;
	const char *name;
	struct est_ref subnet; /* an Azure VM: vnet/subnet */
	struct est_ref site;   /* or an on-premises machine */
	struct ip_addr ip;
	int allocation; /* enum est_alloc */
	const char *size;
	EST_LIST(struct est_disk) disks;
};

/* ---- Site Recovery ------------------------------------------------------ */

enum est_repl_path {
	EST_RP_BACKBONE,          /* Azure to Azure: stays on the backbone */
	EST_RP_MICROSOFT_PEERING, /* on-premises to Azure */
	EST_RP_PRIVATE_PEERING,   /* on-premises to Azure, needs vault private endpoints */
	EST_RP_INTERNET,
};

struct est_repl_policy {
	struct est_pos pos;
	int64_t crash_consistent_every; /* seconds */
	int64_t app_consistent_every;   /* 0 = off */
	int64_t retention;
};

struct est_repl_group {
	struct est_pos pos;
	const char *name;
	EST_LIST(struct est_ref) vms;
};

struct est_net_map {
	struct est_pos pos;
	struct est_ref source, target; /* vnets */
};

struct est_vault {
	struct est_pos pos;
	const char *name;
	bool private_endpoints;
};

struct est_replication {
	struct est_pos pos;
	struct est_ref source;      /* region (Azure to Azure) */
	struct est_ref source_site; /* or an on-premises site */
	struct est_ref target;      /* region */
	int path;                   /* enum est_repl_path */
	struct est_repl_policy policy;
	struct est_vault vault;
	EST_LIST(struct est_ref) protect; /* vms */
	EST_LIST(struct est_repl_group) groups;
	EST_LIST(struct est_net_map) network_mapping;
	struct est_ref target_network; /* on-premises to Azure: where servers land */
	bool auto_target_networks;     /* Site Recovery creates <vnet>-asr mirrors */
	struct est_ref test_network;   /* vnet for drills */
};

enum est_action_kind {
	EST_ACT_CREATE_GATEWAY,
	EST_ACT_CONNECT,
	EST_ACT_DISCONNECT,
	EST_ACT_CREATE_PEERING,
	EST_ACT_CREATE_ROUTE_TABLE,
	EST_ACT_ATTACH_ROUTE_TABLE,
	EST_ACT_SET_PREFERENCE,
	EST_ACT_MANUAL,
	EST_ACT_SCRIPT,
	EST_ACT__COUNT
};

enum est_direction { EST_DIR_ANY, EST_DIR_FAILOVER, EST_DIR_FAILBACK };
enum est_fo_type { EST_FO_TEST, EST_FO_PLANNED, EST_FO_UNPLANNED };

struct est_act_gateway {
	struct est_pos pos;
	const char *name;
	struct est_ref vnet;
	int type, sku;
	uint32_t min_scale_units, max_scale_units;
};

struct est_act_connect {
	struct est_pos pos;
	const char *name;
	struct est_ref gateway, circuit;
	uint32_t weight;
	const char *authorization;
};

struct est_act_disconnect {
	struct est_pos pos;
	struct est_ref connection;
};

struct est_act_route_table {
	struct est_pos pos;
	const char *name;
	struct est_ref region;
	struct est_ref copy_of; /* routes copied from this table */
	bool propagate_gateway_routes;
	EST_LIST(struct est_route) routes;
};

struct est_act_attach {
	struct est_pos pos;
	struct est_ref subnet, route_table;
};

struct est_act_preference {
	struct est_pos pos;
	struct est_ref site, circuit;
	uint32_t local_pref, prepend;
};

struct est_act_script {
	struct est_pos pos;
	const char *run;
	int64_t timeout;
};

struct est_action {
	struct est_pos pos;
	int kind;            /* enum est_action_kind: which one of the members below is set */
	int direction;       /* enum est_direction */
	EST_LIST(int) types; /* enum est_fo_type; empty = all */
	struct est_act_gateway *create_gateway;
	struct est_act_connect *connect;
	struct est_act_disconnect *disconnect;
	struct est_vnet_peering *create_peering;
	struct est_act_route_table *create_route_table;
	struct est_act_attach *attach_route_table;
	struct est_act_preference *set_preference;
	const char *manual;
	struct est_act_script *script;
};

struct est_plan_group {
	struct est_pos pos;
	const char *name;
	EST_LIST(struct est_ref) vms;
	EST_LIST(struct est_action) before, after;
};

struct est_plan {
	struct est_pos pos;
	const char *name;
	EST_LIST(struct est_action) before, after;
	EST_LIST(struct est_plan_group) groups;
};

/* ---- limits ------------------------------------------------------------- */

enum est_limit {
	EST_LIM_CIRCUITS_PER_LOCATION_PER_VNET,
	EST_LIM_PRIVATE_V4_PREFIXES,
	EST_LIM_PRIVATE_V4_PREFIXES_PREMIUM,
	EST_LIM_PRIVATE_V6_PREFIXES,
	EST_LIM_MICROSOFT_PREFIXES,
	EST_LIM_VNET_PREFIXES_TO_CIRCUIT,
	EST_LIM_VNET_V6_PREFIXES_TO_CIRCUIT,
	EST_LIM_GATEWAY_ROUTES,
	EST_LIM_ECMP_CIRCUITS,
	EST_LIM_PEERINGS_PER_VNET,
	EST_LIM_ROUTES_PER_TABLE,
	EST_LIM_SUBNETS_PER_VNET,
	EST_LIM_RECOVERY_PLAN_GROUPS,
	EST_LIM_RECOVERY_PLAN_VMS,
	EST_LIM_REPLICATION_GROUP_VMS,
	EST_LIM_GATEWAY_SUBNET_MIN_LEN,  /* longest prefix length allowed (/29) */
	EST_LIM_GATEWAY_SUBNET_WARN_LEN, /* recommended (/27) */
	EST_LIM_CONNECTION_WEIGHT_MAX,
	EST_LIM_GATEWAY_CREATE_MINUTES,
	EST_LIM__COUNT
};

struct est_limit_def {
	const char *key;
	int64_t dflt;
	int64_t min, max;
	const char *doc;
	const char *source;
};

extern const struct est_limit_def est_limit_defs[EST_LIM__COUNT];

struct est_limit_override {
	struct est_pos pos;
	const char *key;
	int64_t value;
};

/* ---- the estate --------------------------------------------------------- */

struct estate {
	struct est_pos pos; /* every schema class starts with its position */
	struct lib_arena arena;
	const char *file; /* where it was loaded from */
	const char *name;
	const char *description;
	EST_LIST(struct est_region) regions;
	EST_LIST(struct est_location) locations;
	EST_LIST(struct est_provider) providers;
	EST_LIST(struct est_site) sites;
	EST_LIST(struct est_circuit) circuits;
	EST_LIST(struct est_global_reach) global_reach;
	EST_LIST(struct est_vnet) vnets;
	EST_LIST(struct est_connection) connections;
	EST_LIST(struct est_vnet_peering) peerings;
	EST_LIST(struct est_route_table) route_tables;
	EST_LIST(struct est_appliance) appliances;
	EST_LIST(struct est_vm) vms;
	struct est_replication *replication;
	EST_LIST(struct est_plan) recovery_plans;
	EST_LIST(struct est_limit_override) limit_overrides;

	/* derived */
	int64_t limits[EST_LIM__COUNT];     /* defaults with overrides applied */
	struct lib_map names[EST_K__COUNT]; /* name -> (i << 32 | j) */
};

/* ---- loading and printing ----------------------------------------------- */

enum est_fmt { EST_FMT_AUTO, EST_FMT_YAML, EST_FMT_JSON };

/*
 * Load an estate. Every problem of the input is added to diags with its
 * position; returns 0 and *out on success, -EINVAL when the input had errors
 * (nothing in *out), or another negative errno when the file could not be read.
 */
int est_load_file(const char *path, struct lib_diags *diags, struct estate **out);
int est_load_string(const char *name, const char *text, size_t len, struct lib_diags *diags,
                    struct estate **out);
void est_free(struct estate *e);

/* Canonical form: keys in schema order, defaults omitted, units spelled out. */
char *est_emit(const struct estate *e, enum est_fmt fmt); /* heap string */

/* The canonical form as a jansson tree (json_decref it), and a tree printed
 * the same way: engines that transform an estate (recover/) edit the tree
 * and load the result, so every produced estate passes the loader. */
typedef struct json_t json_t;
json_t *est_to_json(const struct estate *e);
char *est_json_emit(json_t *root, enum est_fmt fmt);

/* The format as JSON Schema and as a Markdown reference (heap strings). */
char *est_json_schema(void);
char *est_markdown_reference(void);

/* A short human summary: counts, circuits, gateways, replication (heap). */
char *est_summary(const struct estate *e);

/* ---- lookups ------------------------------------------------------------ */

/* Index of a named top-level object, or EST_NONE. */
uint32_t est_find(const struct estate *e, enum est_kind k, const char *name);
/* Subnet by "vnet/subnet", or NULL. */
const struct est_subnet *est_find_subnet(const struct estate *e, const char *path, uint32_t *vi);
const struct est_gateway *est_find_gateway(const struct estate *e, const char *name, uint32_t *vi);

static inline const struct est_subnet *
est_ref_subnet(const struct estate *e, const struct est_ref *r)
{
	return r->state == EST_REF_RESOLVED ? &e->vnets.v[r->i].subnets.v[r->j] : NULL;
}

static inline const struct est_gateway *
est_ref_gateway(const struct estate *e, const struct est_ref *r)
{
	return r->state == EST_REF_RESOLVED ? &e->vnets.v[r->i].gateways.v[r->j] : NULL;
}

static inline bool
est_resolved(const struct est_ref *r)
{
	return r->state == EST_REF_RESOLVED;
}

int64_t est_limit(const struct estate *e, enum est_limit l);

/* ---- names of enumerations (canonical spelling, as in the file) --------- */

const char *est_kind_name(enum est_kind k);
const char *est_tier_name(int tier);
const char *est_sku_name(int sku);
const char *est_next_hop_name(int nh);
const char *est_action_name(int kind);

/* ---- platform tables (azure-facts.md) ----------------------------------- */

/* VNet links allowed per circuit by bandwidth and tier (1.4). */
uint32_t est_circuit_link_limit(uint64_t mbps, int tier);
/* Circuit connections per gateway SKU (1.8); scale units matter for ErGwScale. */
uint32_t est_gateway_connection_limit(const struct est_gateway *g);
/* True for an ExpressRoute SKU. */
bool est_sku_is_expressroute(int sku);
/* Reserved or forbidden peer ASNs (1.6): returns why, or NULL when allowed. */
const char *est_asn_reserved(uint32_t asn);
/* Private ASN (RFC 6996). */
bool est_asn_private(uint32_t asn);
/* Can circuit c reach region ri by its tier (1.2): local to the location's
 * local regions, standard within its geopolitical region, premium anywhere
 * but national clouds? Unknown locations or regions count as reachable:
 * other rules report them. */
bool est_circuit_reaches(const struct estate *e, const struct est_circuit *c, uint32_t ri);
/* Valid provider-circuit or Direct bandwidths (1.1). */
bool est_bandwidth_valid(uint64_t mbps, int port);

#endif
