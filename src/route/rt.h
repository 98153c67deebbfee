/*
 * rt.h - the routing engine: the control plane of an estate, computed from
 * the estate alone, and the questions asked of it.
 *
 * rt_build() turns an (immutable) estate plus a set of failures into a
 * struct rt_net: which BGP sessions are up, what each ExpressRoute gateway
 * learns and advertises, what each on-premises edge router learns. Subnet
 * effective routes are layered rather than copied: a subnet's table is its
 * VNet's system routes, the serving gateway's RIB (shared by the hub and
 * every spoke that uses it), its route table's UDRs (shared by every subnet
 * it is attached to) and its service endpoints. rt_subnet_routes() merges
 * the layers for display; rt_subnet_lookup() selects among them for one
 * destination the way Azure does (azure-facts 2.4):
 *   1. longest prefix;
 *   2. on an equal prefix, user (UDR) over gateway (BGP) over system;
 *   3. except that VNet, peering and service-endpoint system routes beat
 *      BGP routes even when the BGP route is more specific.
 * The module is pure: no I/O, no globals; one arena per rt_net.
 */
#ifndef STRAIT_RT_H
#define STRAIT_RT_H

#include "../estate/est.h"

/* ---- failures (what-if) ------------------------------------------------- */

enum rt_fail_kind {
	RT_FAIL_REGION,
	RT_FAIL_LOCATION,
	RT_FAIL_CIRCUIT,
	RT_FAIL_LINK, /* one link of a circuit: i = circuit, j = side */
	RT_FAIL_GATEWAY,
	RT_FAIL_CONNECTION,
};

struct rt_fail {
	enum rt_fail_kind kind;
	uint32_t i, j;
};

/* Parses "circuit:er-hk", "link:er-hk/primary", "region:eastasia" ... */
int rt_fail_parse(const struct estate *e, const char *spec, struct rt_fail *out, char *err,
                  size_t errlen);

/* ---- BGP paths and RIBs ------------------------------------------------- */

#define RT_ASN_MSEE    12076u
#define RT_ASN_GATEWAY 65515u

/* One path to a prefix, as a gateway or an edge router learned it. */
struct rt_path {
	uint32_t circuit;    /* the circuit it came over */
	uint32_t conn;       /* gateway side: the connection; EST_NONE on-premises */
	uint32_t weight;     /* gateway side: connection routing weight */
	uint32_t local_pref; /* on-premises side: the site's preference for the circuit */
	uint16_t aspath_len;
	uint8_t links;             /* links it is learned on: bit 0 primary, bit 1 secondary */
	uint8_t best;              /* selected (several when ECMP) */
	uint32_t origin_asn;       /* last AS of the path */
	enum est_kind origin_kind; /* EST_K_SITE or EST_K_VNET */
	uint32_t origin;           /* site or vnet index */
};

struct rt_bgp_route {
	struct ip_prefix p;
	uint32_t first, n; /* paths[first .. first+n) of the RIB */
	uint32_t nbest;
};

struct lpm;

/* Routes sorted by prefix; each with its candidate paths, best first. Large
 * RIBs also carry a Poptrie (src/ip/lpm.h) mapping addresses to routes. */
struct rt_rib {
	struct rt_bgp_route *routes;
	uint32_t n;
	struct rt_path *paths;
	uint32_t npaths;
	struct lpm *fib; /* NULL for small RIBs: binary search is enough */
};

const struct rt_bgp_route *rt_rib_find(const struct rt_rib *rib, const struct ip_prefix *p);
/* Longest matching route, or NULL. */
const struct rt_bgp_route *rt_rib_lookup(const struct rt_rib *rib, const struct ip_addr *a);

/* ---- the control plane -------------------------------------------------- */

struct rt_circuit_state {
	bool usable;     /* provisioned, enabled, private peering configured */
	bool link_up[2]; /* BGP session of each link (private peering, IPv4) */
	bool over_limit; /* on-premises IPv4 prefixes over the limit: sessions down */
	bool v6_over_limit;
	const char *why_down; /* NULL when both links are up */
};

struct rt_conn_state {
	bool up;
	const char *why_down;
};

struct rt_gateway {
	uint32_t vnet, idx;    /* the estate's gateway (vnets.v[vnet].gateways.v[idx]) */
	bool up;               /* not failed, region up */
	struct rt_rib learned; /* from the circuits of its up connections */
	EST_LIST(struct ip_prefix) advertised; /* own and transit spokes' spaces, summarised */
	uint32_t advertised_v4;
	bool over_limit; /* more VNet prefixes than the limit: its connections are down */
};

struct rt_link {
	uint32_t circuit;
	uint8_t side; /* enum est_link_side */
};

struct rt_router {
	uint32_t site;
	const char *name; /* the estate's router, or "edge" when the site lists none */
	EST_LIST(struct rt_link) links;
	struct rt_rib learned;
};

struct rt_net {
	const struct estate *e;
	struct lib_arena arena;
	struct rt_circuit_state *circuits; /* per estate circuit */
	struct rt_conn_state *conns;       /* per estate connection */
	uint32_t *gw_base;                 /* per vnet: index of its first gateway in gws */
	struct rt_gateway *gws;            /* every gateway of the estate */
	uint32_t ngws;
	uint32_t *serving_gw;      /* per vnet: the ER gateway its routes come from, or EST_NONE */
	bool *region_down;         /* per region */
	struct rt_router *routers; /* every on-premises edge router */
	uint32_t nrouters;
	/* indexes: peerings by their from-vnet, connections by circuit (CSR:
	 * the entries of x are list[first[x] .. first[x + 1])) */
	uint32_t *peer_first, *peer_list;
	uint32_t *conn_first, *conn_list;
	uint32_t *gwconn_first, *gwconn_list; /* connections by gateway */
	const struct rt_net *base;            /* a what-if shares untouched RIBs with its base */
	struct lib_vec fibs;                  /* struct lpm * this net built and frees */
	uint32_t rebuilt;                     /* RIBs built (not shared) by this rt_build */
};

int rt_build(const struct estate *e, const struct rt_fail *fails, size_t nfails,
             struct rt_net **out);
/* What circuit ci's provider edge advertises to the customer's router on one
 * link (side: enum est_link_side) of private peering: every connected
 * gateway's VNet prefixes (AS path 12076 65515) and, over Global Reach, the
 * linked circuits' sites' prefixes (12076, the site's AS and its prepends);
 * nothing when the circuit or the link does not carry traffic. One entry per
 * prefix, sorted; *out is the caller's (free). */
struct rt_adv {
	struct ip_prefix p;
	bool gateway;        /* a VNet prefix behind a gateway; else a Global Reach site's */
	uint32_t origin_asn; /* the site's AS (Global Reach) */
	uint16_t prepend;    /* the site's prepends (Global Reach) */
	uint32_t region;     /* the VNet's region (estate index), EST_NONE for a site's */
};
size_t rt_circuit_adv(const struct rt_net *n, uint32_t ci, int side, struct rt_adv **out);
/* The same estate under failures, rebuilding only the RIBs the failures
 * touch and sharing the rest with base (which must outlive the result). */
int rt_whatif(const struct rt_net *base, const struct rt_fail *fails, size_t nfails,
              struct rt_net **out);
void rt_free(struct rt_net *n);
/* The appliance a UDR next hop ip reaches from vnet vi: the one with that
 * address in vi itself, else in a VNet peered with vi both ways (an address
 * must be directly reachable, azure-facts 2.3); EST_NONE when none. */
uint32_t rt_appliance_at(const struct rt_net *n, uint32_t vi, const struct ip_addr *ip);
/* The peering from -> to, or NULL. */
const struct est_vnet_peering *rt_peering(const struct rt_net *n, uint32_t from, uint32_t to);

/* Global gateway index of the estate's vnets.v[vi].gateways.v[gi]. */
static inline uint32_t
rt_gw_index(const struct rt_net *n, uint32_t vi, uint32_t gi)
{
	return n->gw_base[vi] + gi;
}

/* ---- effective routes of a subnet --------------------------------------- */

enum rt_src { RT_SRC_DEFAULT, RT_SRC_USER, RT_SRC_GATEWAY };

enum rt_nh {
	RT_NH_VNET_LOCAL,
	RT_NH_VNET_PEERING,
	RT_NH_GATEWAY,
	RT_NH_INTERNET,
	RT_NH_NONE,
	RT_NH_APPLIANCE,
	RT_NH_SERVICE_ENDPOINT,
};

struct rt_route {
	struct ip_prefix p;      /* unset (af 0) for a service-endpoint route: see tag */
	const char *tag;         /* service endpoint: "Microsoft.Storage" */
	uint8_t src;             /* enum rt_src */
	uint8_t nh;              /* enum rt_nh */
	bool active;             /* false: "Invalid" in effective routes */
	const char *why;         /* why it is invalid, or where it comes from */
	struct ip_addr nh_ip[4]; /* appliance IP, or the MSEE addresses of the circuits */
	uint8_t nnh;
	uint32_t peer_vnet;             /* VNetPeering: the peer; EST_NONE otherwise */
	const struct rt_bgp_route *bgp; /* gateway routes: the RIB entry */
	const struct est_route *udr;    /* user routes: the estate's route */
};

/*
 * A subnet's effective routes in layers: its own routes (system, service
 * endpoint and user routes: few) with their states, and the serving
 * gateway's RIB shared by every subnet it serves, with the few gateway
 * routes this subnet's own routes invalidate. Computing it costs the own
 * routes times a binary search in the RIB, never the size of the RIB.
 */
struct rt_table {
	struct rt_route *own;
	uint32_t nown;
	const struct rt_rib *gw; /* NULL when no gateway routes reach the subnet */
	uint32_t *gw_invalid;    /* indices into gw->routes that show Invalid here */
	const char **gw_why;     /* and why */
	uint32_t ngw_invalid;
};

void rt_subnet_table(const struct rt_net *n, uint32_t vi, uint32_t si, struct rt_table *t);
void rt_table_free(struct rt_table *t);

/* All effective routes of vnets.v[vi].subnets.v[si], in Azure's order
 * (source, then prefix); heap array, free() it. */
struct rt_route *rt_subnet_routes(const struct rt_net *n, uint32_t vi, uint32_t si,
                                  uint32_t *count);

/* The route traffic from the subnet to a takes, or false when none does;
 * si == EST_NONE asks for the VNet's routes outside any subnet. */
bool rt_subnet_lookup(const struct rt_net *n, uint32_t vi, uint32_t si, const struct ip_addr *a,
                      struct rt_route *out);

/* ---- traces ------------------------------------------------------------- */

/* Where a packet starts or ends: an address in a VNet subnet, or a host of
 * an on-premises site. */
struct rt_endpoint {
	bool onprem;
	bool external; /* an address in no VNet and no site: the Internet */
	struct ip_addr ip;
	uint32_t vnet, subnet; /* Azure */
	uint32_t site;         /* on-premises */
	const char *label;     /* as given: a VM, a site, an IP */
};

/* "app1" (a VM), "hq" (a site: its first prefix's first host), "10.1.0.4" or
 * "172.16.5.5" (an address in a subnet or in a site's prefixes), or any other
 * address (external: a destination only). */
int rt_endpoint_parse(const struct estate *e, const char *spec, struct rt_endpoint *out, char *err,
                      size_t errlen);

enum rt_hop_kind {
	RT_HOP_HOST,
	RT_HOP_ROUTER,
	RT_HOP_LINK,
	RT_HOP_GATEWAY,
	RT_HOP_SUBNET,
	RT_HOP_APPLIANCE,
};

struct rt_hop {
	uint8_t kind;
	char name[96];
	char how[192]; /* the route that took the packet here */
};

enum rt_verdict { RT_DELIVERED, RT_DROPPED, RT_NO_ROUTE, RT_LOOP, RT_BLOCKED, RT_INTERNET };

#define RT_MAX_HOPS 32

struct rt_trace {
	struct rt_hop hops[RT_MAX_HOPS];
	uint32_t n;
	int verdict; /* enum rt_verdict */
	char why[192];
	uint32_t appliances[8]; /* appliances crossed, in order */
	uint32_t napp;
	uint32_t circuit; /* the circuit crossed, or EST_NONE */
};

void rt_trace(const struct rt_net *n, const struct rt_endpoint *from, const struct rt_endpoint *to,
              struct rt_trace *out);
const char *rt_verdict_name(int v); /* "delivered", "dropped", ... */
const char *rt_hop_name(int kind);  /* "host", "router", ... */

/* ---- reachability and differences -------------------------------------- */

/* One pair of endpoints, traced both ways. */
struct rt_cell {
	uint32_t a, b;       /* endpoint indices */
	int fwd, back;       /* enum rt_verdict of a -> b and b -> a */
	uint32_t circuit;    /* circuit the a -> b path crosses, or EST_NONE */
	bool symmetric;      /* same appliances both ways */
	uint32_t redundancy; /* circuit links that could carry it (site pairs) */
	char path[160];      /* "er-hk/primary, nva1" or the reason it fails */
};

struct rt_matrix {
	struct rt_endpoint *eps; /* sites first, then VMs */
	uint32_t neps;
	struct rt_cell *cells;
	uint32_t ncells;
	uint32_t ndelivered; /* cells delivered both ways */
};

/* Every site with every VM, and every pair of VMs; only the endpoints named
 * in select (sites or VMs) when nsel > 0. */
int rt_reach(const struct rt_net *n, const char *const *select, size_t nsel, struct rt_matrix *m,
             char *err, size_t errlen);
void rt_matrix_free(struct rt_matrix *m);

enum rt_change_kind { RT_LOST, RT_GAINED, RT_MOVED, RT_LOST_REDUNDANCY, RT_PATH_CHANGED };

struct rt_change {
	int kind;
	char a[96], b[96];
	char before[160], after[160];
};

/* Differences between two matrices, pairs matched by endpoint label (a VM
 * keeps its name across a failover). heap array, free() it. */
struct rt_change *rt_diff(const struct rt_matrix *before, const struct rt_matrix *after,
                          uint32_t *count);
const char *rt_change_name(int kind);

/* ---- replication paths -------------------------------------------------- */

enum rt_repl_class {
	RT_REPL_BACKBONE,             /* Azure backbone (service endpoint or the Internet route) */
	RT_REPL_NVA,                  /* through an appliance: it carries all replication traffic */
	RT_REPL_EXPRESSROUTE_PRIVATE, /* forced to on-premises, or over private peering */
	RT_REPL_MICROSOFT_PEERING,
	RT_REPL_INTERNET,
	RT_REPL_BROKEN, /* dropped, no route, no filter */
};

struct rt_repl_path {
	uint32_t vm;
	int cls; /* enum rt_repl_class */
	char how[256];
};

/* Where each protected VM's replication traffic goes on its way to the
 * target region's storage (seeds: concepts-expressroute-with-site-recovery,
 * azure-vm-disaster-recovery-with-expressroute; azure-facts 3.9). Heap array. */
struct rt_repl_path *rt_repl_paths(const struct rt_net *n, uint32_t *count);
const char *rt_repl_class_name(int cls);

const char *rt_src_name(int src); /* "Default", "User", "Virtual network gateway" */
const char *rt_nh_name(int nh);   /* "VirtualNetwork", "VNetPeering", ... */

/* The MSEE (provider-edge) address of a circuit link: the 2nd usable IP of its /30. */
bool rt_msee_addr(const struct est_circuit *c, int side, struct ip_addr *out);
bool rt_ce_addr(const struct est_circuit *c, int side, struct ip_addr *out);

#endif
