/*
 * bgp_pe.h - the provider edge's policy: what Microsoft's edge routers (MSEEs, AS 12076)
 * accept from a customer and what they send, per peering (bgp-anchors.md 3.2 to 3.7,
 * azure-facts 1.5 to 1.12).
 *
 * Pure functions over the codec's attribute sets (bgp_msg.h): no sessions, no sockets.
 * The speaker asks them at OPEN (which customer AS may peer), per received route (accept or
 * reject, and the attributes rewritten as the MSEE rewrites them) and for every route it
 * advertises (AS path, next hop, communities). Limits come from here too.
 */
#ifndef STRAIT_BGP_PE_H
#define STRAIT_BGP_PE_H

#include "bgp/bgp_msg.h"
#include "ip/ip.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BGP_PE_AS          12076u /* Microsoft's edge, every peering */
#define BGP_PE_GATEWAY_AS  65515u /* the ExpressRoute gateway */
#define BGP_PE_MD5_KEY_MAX 25     /* alphanumeric characters */
#define BGP_PE_HOLD        180u   /* seconds; keepalive 60 */
#define BGP_PE_HOLD_MIN    10u    /* the lowest hold a customer may ask for */

enum bgp_pe_peering { BGP_PE_PRIVATE, BGP_PE_MICROSOFT };

/* How private ASNs leave a path received on Microsoft peering: as Cisco's
 * remove-private-as (only when every AS of the path is private; what Azure was seen to do),
 * or every private AS wherever it stands. */
enum bgp_pe_strip { BGP_PE_STRIP_ALL_PRIVATE_ONLY, BGP_PE_STRIP_EVERY_PRIVATE };

struct bgp_pe_cfg {
	enum bgp_pe_peering peering;
	bool premium;              /* the circuit's tier: 10,000 IPv4 prefixes instead of 4,000 */
	enum bgp_pe_strip strip;   /* Microsoft peering */
	bool private_asn_approved; /* Microsoft peering: a private customer ASN validated */
};

/* The customer's AS at OPEN: 0, or -EPERM with why (the speaker answers OPEN Message
 * Error / Bad Peer AS). Reserved: 0, AS_TRANS (23456) as a real AS, 12076, 65515-65520,
 * 65535, 4294967295; on Microsoft peering also 64496-64511 and private ASNs unless
 * approved. expected: the peering's configured peer_asn (0: any). */
int bgp_pe_open_check(const struct bgp_pe_cfg *c, uint32_t peer_as, uint32_t expected,
                      const char **why);

/* Prefixes a customer may send on one session of the peering, per family (IP_V4,
 * IP_V6): private 4,000 (10,000 premium) and 100; Microsoft 200 and 200. The 4,001st
 * brings the session down with Cease / Maximum Number of Prefixes Reached. */
uint32_t bgp_pe_max_prefixes(const struct bgp_pe_cfg *c, int af);

/* One received route: true when the MSEE keeps it, else false with why. A path through
 * 12076 is a loop (the customer's router sent back what the MSEE advertised): rejected on
 * both peerings. Otherwise private peering accepts anything, the default route included;
 * Microsoft peering rejects the default route, RFC 1918 and other non-public space, and
 * paths through 64496-64511. */
bool bgp_pe_accept(const struct bgp_pe_cfg *c, const struct ip_prefix *p, const struct bgp_attrs *a,
                   const char **why);

/* The received route's attributes as the MSEE keeps them: the customer's communities
 * (standard, extended, large) are not honoured and dropped; on Microsoft peering private
 * ASNs are stripped from the (canonical, 4-octet) AS path. buf holds the rewritten path
 * (bgp_pe_rewrite_room bytes). */
size_t bgp_pe_rewrite_room(const struct bgp_attrs *a);
int bgp_pe_rewrite_in(const struct bgp_pe_cfg *c, struct bgp_attrs *a, uint8_t *buf, size_t cap);

/* A route the provider edge advertises: a VNet prefix behind a gateway (AS path
 * 12076 65515), another site's over Global Reach (12076 and the site's AS), or from
 * Microsoft peering's services (12076 alone). */
struct bgp_pe_out {
	struct ip_addr nexthop;  /* the MSEE's address on the link */
	bool via_gateway;        /* a VNet prefix: 65515 after 12076 */
	unsigned prepend;        /* extra 12076s (a connection's weight, the ASPathPrepend test) */
	uint32_t origin_as;      /* a site's prefix over Global Reach: its AS after 12076 ... */
	unsigned origin_prepend; /* ... and its own prepends; 0 for none */
	int region_xx;           /* the regional community's suffix, -1 for none */
	uint32_t extra[4];       /* more communities (a VNet's custom one, a service's), 0 ends */
};
/* Bytes of buf bgp_pe_attrs_out needs. */
#define BGP_PE_OUT_ROOM (2 + 4 * (2 + 255) + 4 * 5)
/* Fills a with ORIGIN IGP, the AS path, the next hop and the communities: the regional
 * one is 12076:500xx on private peering and 12076:510xx on Microsoft peering. */
int bgp_pe_attrs_out(const struct bgp_pe_cfg *c, const struct bgp_pe_out *o, struct bgp_attrs *a,
                     uint8_t *buf, size_t cap);

/* The regional community suffix of an Azure region (its short name, "eastasia" -> 10), -1
 * when the table does not know it. */
int bgp_pe_region_xx(const char *region);

/* An MD5 key the portal would take: 1 to 25 letters and digits. */
bool bgp_pe_md5_key_ok(const char *key);

/* Private ASNs (RFC 6996): 64512-65534 and 4200000000-4294967294. */
bool bgp_pe_asn_private(uint32_t as);

#endif
