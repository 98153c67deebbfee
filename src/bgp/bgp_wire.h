/*
 * bgp_wire.h - the BGP-4 wire format: every constant the codec and the
 * speaker use, named after the RFC that defines it.
 *
 * Every integer on the wire is big-endian. A message is a 19-byte header
 * (16-byte marker of all ones, u16 length, u8 type) and a body:
 *
 *   OPEN          u8 version | u16 my AS | u16 hold time | u32 BGP identifier |
 *                 u8 opt param len | params (RFC 4271 4.2; RFC 9072 when the
 *                 first param type is 255: u16 length and u16 param lengths)
 *   UPDATE        u16 withdrawn len | withdrawn | u16 attr len | attrs | NLRI
 *   NOTIFICATION  u8 code | u8 subcode | data
 *   KEEPALIVE     (empty)
 *   ROUTE-REFRESH u16 AFI | u8 subtype (RFC 7313; reserved in RFC 2918) | u8 SAFI
 *
 * A path attribute is u8 flags | u8 type | u8 or u16 length (u16 with the
 * EXTENDED flag) | value. A prefix is u8 length in bits | ceil(bits/8) bytes,
 * preceded by a u32 path identifier where ADD-PATH (RFC 7911) is in use.
 */
#ifndef STRAIT_BGP_WIRE_H
#define STRAIT_BGP_WIRE_H

/* ---- header and message sizes (RFC 4271 4.1, RFC 8654) ------------------ */
#define BGP_VERSION       4u
#define BGP_MARKER_LEN    16u
#define BGP_HDR_LEN       19u
#define BGP_MAX_MSG       4096u  /* without extended messages */
#define BGP_MAX_EXT_MSG   65535u /* RFC 8654; never for OPEN and KEEPALIVE */
#define BGP_OPEN_MIN      29u    /* header + 10 */
#define BGP_UPDATE_MIN    23u    /* header + two u16 lengths */
#define BGP_NOTIFY_MIN    21u    /* header + code + subcode */
#define BGP_KEEPALIVE_LEN 19u
#define BGP_RR_LEN        23u  /* header + AFI + subtype + SAFI */
#define BGP_OPEN_FIXED    10u  /* OPEN body before the optional parameters */
#define BGP_MAX_SHUTDOWN  255u /* RFC 9003: shutdown communication bytes */

/* message types */
#define BGP_OPEN          1u
#define BGP_UPDATE        2u
#define BGP_NOTIFICATION  3u
#define BGP_KEEPALIVE     4u
#define BGP_ROUTE_REFRESH 5u /* RFC 2918 */

/* ---- OPEN optional parameters (RFC 5492, RFC 9072) ---------------------- */
#define BGP_OPT_AUTH       1u /* deprecated (RFC 5492 removed it) */
#define BGP_OPT_CAPABILITY 2u
#define BGP_OPT_EXT_LEN    255u /* RFC 9072: Non-Ext OP Type marking the extended form */
#define BGP_OPT_MAX_NONEXT 255u /* longest optional parameters in the classic form */

/* capability codes (IANA "Capability Codes") */
#define BGP_CAP_MP            1u   /* RFC 4760: u16 AFI, u8 reserved, u8 SAFI */
#define BGP_CAP_ROUTE_REFRESH 2u   /* RFC 2918 */
#define BGP_CAP_EXT_NEXTHOP   5u   /* RFC 8950 */
#define BGP_CAP_EXT_MSG       6u   /* RFC 8654 */
#define BGP_CAP_ROLE          9u   /* RFC 9234 */
#define BGP_CAP_GR            64u  /* RFC 4724: u16 flags|time, (AFI, SAFI, flags)... */
#define BGP_CAP_AS4           65u  /* RFC 6793: u32 AS */
#define BGP_CAP_ADD_PATH      69u  /* RFC 7911: (u16 AFI, u8 SAFI, u8 send/receive)... */
#define BGP_CAP_ENHANCED_RR   70u  /* RFC 7313 */
#define BGP_CAP_LLGR          71u  /* RFC 9494 */
#define BGP_CAP_FQDN          73u  /* draft-walton-bgp-hostname: u8 len host, u8 len domain */
#define BGP_CAP_RR_OLD        128u /* pre-standard route refresh (Cisco) */

#define BGP_CAP_MP_LEN  4u
#define BGP_CAP_AS4_LEN 4u

/* graceful restart (RFC 4724 3, RFC 8538) */
#define BGP_GR_RESTART_FLAG 0x8000u /* R: the sender has restarted */
#define BGP_GR_NOTIFY_FLAG  0x4000u /* N: RFC 8538 graceful NOTIFICATION */
#define BGP_GR_TIME_MASK    0x0fffu
#define BGP_GR_AF_FORWARD   0x80u /* F: forwarding state preserved for the AF */

/* ADD-PATH send/receive (RFC 7911 4) */
#define BGP_ADDPATH_RECV 1u
#define BGP_ADDPATH_SEND 2u
#define BGP_ADDPATH_BOTH 3u

/* ---- address families (IANA) -------------------------------------------- */
#define BGP_AFI_IPV4       1u
#define BGP_AFI_IPV6       2u
#define BGP_SAFI_UNICAST   1u
#define BGP_SAFI_MULTICAST 2u
#define BGP_SAFI_MPLS_VPN  128u
#define BGP_SAFI_FLOWSPEC  133u

/* ---- path attributes (RFC 4271 4.3, 5) ---------------------------------- */
#define BGP_ATTR_OPTIONAL   0x80u
#define BGP_ATTR_TRANSITIVE 0x40u
#define BGP_ATTR_PARTIAL    0x20u
#define BGP_ATTR_EXTENDED   0x10u /* u16 attribute length */
#define BGP_ATTR_FLAGS_OT   (BGP_ATTR_OPTIONAL | BGP_ATTR_TRANSITIVE)

#define BGP_ATTR_ORIGIN           1u
#define BGP_ATTR_AS_PATH          2u
#define BGP_ATTR_NEXT_HOP         3u
#define BGP_ATTR_MED              4u /* MULTI_EXIT_DISC */
#define BGP_ATTR_LOCAL_PREF       5u
#define BGP_ATTR_ATOMIC_AGGREGATE 6u
#define BGP_ATTR_AGGREGATOR       7u
#define BGP_ATTR_COMMUNITIES      8u  /* RFC 1997 */
#define BGP_ATTR_ORIGINATOR_ID    9u  /* RFC 4456 */
#define BGP_ATTR_CLUSTER_LIST     10u /* RFC 4456 */
#define BGP_ATTR_MP_REACH         14u /* RFC 4760 */
#define BGP_ATTR_MP_UNREACH       15u /* RFC 4760 */
#define BGP_ATTR_EXT_COMMUNITIES  16u /* RFC 4360 */
#define BGP_ATTR_AS4_PATH         17u /* RFC 6793 */
#define BGP_ATTR_AS4_AGGREGATOR   18u /* RFC 6793 */
#define BGP_ATTR_LARGE_COMMUNITY  32u /* RFC 8092 */

/* ORIGIN values */
#define BGP_ORIGIN_IGP        0u
#define BGP_ORIGIN_EGP        1u
#define BGP_ORIGIN_INCOMPLETE 2u

/* AS_PATH segment types (RFC 4271 4.3, RFC 5065 3) */
#define BGP_AS_SET             1u
#define BGP_AS_SEQUENCE        2u
#define BGP_AS_CONFED_SEQUENCE 3u
#define BGP_AS_CONFED_SET      4u
#define BGP_AS_SEG_MAX         255u /* ASes in one segment */

/* fixed attribute lengths */
#define BGP_ORIGIN_LEN          1u
#define BGP_NEXT_HOP_LEN        4u
#define BGP_MED_LEN             4u
#define BGP_LOCAL_PREF_LEN      4u
#define BGP_AGGREGATOR2_LEN     6u /* u16 AS, u32 address */
#define BGP_AGGREGATOR4_LEN     8u /* u32 AS, u32 address */
#define BGP_ORIGINATOR_LEN      4u
#define BGP_COMMUNITY_LEN       4u
#define BGP_EXT_COMMUNITY_LEN   8u
#define BGP_LARGE_COMMUNITY_LEN 12u
#define BGP_MP_REACH_MIN        5u /* AFI, SAFI, next hop length, reserved (RFC 7606 5.3) */
#define BGP_MP_UNREACH_MIN      3u /* AFI, SAFI */

/* ---- special AS numbers ------------------------------------------------- */
#define BGP_AS_TRANS 23456u /* RFC 6793 */

/* ---- well-known communities (IANA "BGP Well-known Communities") --------- */
#define BGP_COMM_GRACEFUL_SHUTDOWN   0xffff0000u /* RFC 8326 */
#define BGP_COMM_BLACKHOLE           0xffff029au /* RFC 7999 */
#define BGP_COMM_NO_EXPORT           0xffffff01u /* RFC 1997 */
#define BGP_COMM_NO_ADVERTISE        0xffffff02u
#define BGP_COMM_NO_EXPORT_SUBCONFED 0xffffff03u

/* ---- NOTIFICATION error codes and subcodes ------------------------------ */
#define BGP_ERR_HEADER    1u /* Message Header Error */
#define BGP_ERR_OPEN      2u /* OPEN Message Error */
#define BGP_ERR_UPDATE    3u /* UPDATE Message Error */
#define BGP_ERR_HOLD      4u /* Hold Timer Expired */
#define BGP_ERR_FSM       5u /* Finite State Machine Error (RFC 6608 subcodes) */
#define BGP_ERR_CEASE     6u /* RFC 4486 subcodes */
#define BGP_ERR_RR        7u /* ROUTE-REFRESH Message Error (RFC 7313) */
#define BGP_ERR_SEND_HOLD 8u /* Send Hold Timer Expired (RFC 9687) */

#define BGP_SUB_UNSPECIFIC 0u

/* Message Header Error */
#define BGP_HDR_NOT_SYNC   1u /* Connection Not Synchronized */
#define BGP_HDR_BAD_LENGTH 2u /* data: the erroneous u16 Length */
#define BGP_HDR_BAD_TYPE   3u /* data: the erroneous u8 Type */

/* OPEN Message Error */
#define BGP_OPEN_BAD_VERSION   1u /* data: u16 largest supported version */
#define BGP_OPEN_BAD_PEER_AS   2u
#define BGP_OPEN_BAD_ID        3u
#define BGP_OPEN_UNSUP_PARAM   4u
#define BGP_OPEN_BAD_HOLD      6u  /* (5, Authentication Failure, is deprecated) */
#define BGP_OPEN_UNSUP_CAP     7u  /* RFC 5492: data: the capabilities required */
#define BGP_OPEN_ROLE_MISMATCH 11u /* RFC 9234 */

/* UPDATE Message Error */
#define BGP_UPD_MALFORMED_ATTRS 1u  /* Malformed Attribute List */
#define BGP_UPD_UNKNOWN_WK      2u  /* Unrecognized Well-known Attribute */
#define BGP_UPD_MISSING_WK      3u  /* Missing Well-known Attribute */
#define BGP_UPD_ATTR_FLAGS      4u  /* Attribute Flags Error */
#define BGP_UPD_ATTR_LEN        5u  /* Attribute Length Error */
#define BGP_UPD_BAD_ORIGIN      6u  /* Invalid ORIGIN Attribute */
#define BGP_UPD_BAD_NEXT_HOP    8u  /* Invalid NEXT_HOP Attribute */
#define BGP_UPD_OPTIONAL_ATTR   9u  /* Optional Attribute Error */
#define BGP_UPD_BAD_NETWORK     10u /* Invalid Network Field */
#define BGP_UPD_BAD_AS_PATH     11u /* Malformed AS_PATH */

/* FSM Error (RFC 6608) */
#define BGP_FSM_IN_OPENSENT    1u
#define BGP_FSM_IN_OPENCONFIRM 2u
#define BGP_FSM_IN_ESTABLISHED 3u

/* Cease (RFC 4486, RFC 8203/9003) */
#define BGP_CEASE_MAX_PREFIXES   1u /* data: u16 AFI, u8 SAFI, u32 limit */
#define BGP_CEASE_ADMIN_SHUTDOWN 2u /* data: RFC 9003 shutdown communication */
#define BGP_CEASE_PEER_DECONFIG  3u
#define BGP_CEASE_ADMIN_RESET    4u  /* data: RFC 9003 shutdown communication */
#define BGP_CEASE_REJECTED       5u  /* Connection Rejected */
#define BGP_CEASE_CONFIG_CHANGE  6u  /* Other Configuration Change */
#define BGP_CEASE_COLLISION      7u  /* Connection Collision Resolution */
#define BGP_CEASE_NO_RESOURCES   8u  /* Out of Resources */
#define BGP_CEASE_HARD_RESET     9u  /* RFC 8538 */
#define BGP_CEASE_BFD_DOWN       10u /* RFC 9384 */

/* ROUTE-REFRESH Message Error (RFC 7313 5) */
#define BGP_RR_ERR_BAD_LENGTH 1u /* data: the whole ROUTE-REFRESH message */

/* ROUTE-REFRESH subtypes (RFC 7313 3.2) */
#define BGP_RR_REQUEST 0u
#define BGP_RR_BORR    1u /* beginning of route refresh */
#define BGP_RR_EORR    2u /* end of route refresh */

#endif
