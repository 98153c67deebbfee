/*
 * bgp_msg.h - the BGP-4 message codec: decode and encode every message a
 * speaker exchanges, with no sockets and no state machine.
 *
 * Conventions:
 * - Decoders take a whole message (header included, as framed by
 *   bgp_hdr_decode) and never read outside it. They return 0, or -EBADMSG
 *   with a struct bgp_err holding the NOTIFICATION (code, subcode, data) the
 *   RFC says to send and a short reason for the log.
 * - Decoded structs are zero-copy: spans and pointers refer into the message
 *   and are valid while it is. A consumer that keeps anything copies it (the
 *   RIB interns attribute sets).
 * - Encoders append one complete message to a struct bgp_wr and return 0 or
 *   -EMSGSIZE (did not fit; nothing usable was written) or -EINVAL.
 * - Prefixes are struct ip_prefix (ip/ip.h): family, 16 address bytes, length.
 *
 * UPDATE error handling follows RFC 7606 (see bgp_update.c for the table):
 * bgp_update_decode() gives a verdict per UPDATE instead of failing it.
 */
#ifndef STRAIT_BGP_MSG_H
#define STRAIT_BGP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgp/bgp_cur.h"
#include "bgp/bgp_wire.h"
#include "ip/ip.h"

/* ---- address families this codec decodes NLRI for ------------------------ */
enum bgp_fam { BGP_FAM_IPV4 = 0, BGP_FAM_IPV6 = 1, BGP_FAM_N = 2, BGP_FAM_NONE = 0xff };
#define BGP_FAM_BIT(f) (1u << (f))

/* BGP_FAM_* for an AFI/SAFI pair, BGP_FAM_NONE for any other. */
uint8_t bgp_fam_of(uint16_t afi, uint8_t safi);
void bgp_fam_afi(uint8_t fam, uint16_t *afi, uint8_t *safi);
uint8_t bgp_fam_of_af(uint8_t ip_af); /* IP_V4 or IP_V6 */

/* ---- the NOTIFICATION a decoder asks for ---------------------------------- */
#define BGP_ERR_BUF 32
struct bgp_err {
	uint8_t code, subcode;
	uint16_t len;       /* data length */
	const uint8_t *ext; /* data inside the message, or NULL: data in buf */
	uint8_t buf[BGP_ERR_BUF];
	const char *why; /* static text for the log */
};

const uint8_t *bgp_err_data(const struct bgp_err *e);
/* Fills e (data copied into e->buf, at most BGP_ERR_BUF bytes); returns -EBADMSG. */
int bgp_err_set(struct bgp_err *e, uint8_t code, uint8_t subcode, const void *data, size_t len,
                const char *why);
/* As bgp_err_set, data referenced in place (the message outlives e). */
int bgp_err_ref(struct bgp_err *e, uint8_t code, uint8_t subcode, const uint8_t *data, size_t len,
                const char *why);
/* "Cease / Maximum Number of Prefixes Reached"-style names, for logs. */
const char *bgp_err_code_name(uint8_t code);
const char *bgp_err_subcode_name(uint8_t code, uint8_t subcode);
const char *bgp_msg_type_name(uint8_t type);

/* ---- header (RFC 4271 4.1, 6.1) ------------------------------------------ */
struct bgp_hdr {
	uint16_t len; /* whole message, header included */
	uint8_t type;
};

/*
 * Validates the first BGP_HDR_LEN bytes of p: marker, length (19..rx_max;
 * 4096 at most for OPEN and KEEPALIVE, RFC 8654), per-type minimum, type.
 * -EAGAIN when n < BGP_HDR_LEN; -EBADMSG with e set as RFC 4271 6.1 says.
 */
int bgp_hdr_decode(const uint8_t *p, size_t n, size_t rx_max, struct bgp_hdr *h, struct bgp_err *e);
/* Starts a message of type at w; bgp_msg_end() fills in its length. */
size_t bgp_msg_begin(struct bgp_wr *w, uint8_t type);
int bgp_msg_end(struct bgp_wr *w, size_t at, size_t max);

/* ---- KEEPALIVE, NOTIFICATION, ROUTE-REFRESH -------------------------------- */
int bgp_keepalive_encode(struct bgp_wr *w);

struct bgp_notification {
	uint8_t code, subcode;
	uint16_t len;
	const uint8_t *data;
	/* RFC 9003 shutdown communication (Cease / Administrative Shutdown or
	 * Reset): valid UTF-8 of shut_len bytes; shut_bad when malformed. */
	const uint8_t *shut;
	uint8_t shut_len;
	bool shut_bad;
};
int bgp_notify_decode(const uint8_t *msg, size_t len, struct bgp_notification *nt);
int bgp_notify_encode(struct bgp_wr *w, uint8_t code, uint8_t subcode, const void *data,
                      size_t len);
int bgp_notify_encode_err(struct bgp_wr *w, const struct bgp_err *e);
/* Cease with a shutdown communication (RFC 9003): -EINVAL when msg is longer
 * than 255 bytes or not UTF-8. */
int bgp_notify_encode_shutdown(struct bgp_wr *w, uint8_t subcode, const char *msg);
/* Cease / Maximum Number of Prefixes Reached with AFI, SAFI, limit (RFC 4486 4). */
int bgp_notify_encode_max_prefix(struct bgp_wr *w, uint16_t afi, uint8_t safi, uint32_t limit);
bool bgp_utf8_valid(const uint8_t *s, size_t n);

struct bgp_rr {
	uint16_t afi;
	uint8_t safi, subtype;
};
/* 0; -ENOENT for a subtype to ignore (RFC 7313 5); -EBADMSG (BoRR/EoRR of the
 * wrong length: ROUTE-REFRESH Message Error with the whole message). */
int bgp_rr_decode(const uint8_t *msg, size_t len, struct bgp_rr *rr, struct bgp_err *e);
int bgp_rr_encode(struct bgp_wr *w, uint16_t afi, uint8_t safi, uint8_t subtype);

/* ---- OPEN and capabilities (RFC 4271 4.2, 5492, 9072) --------------------- */
#define BGP_CAPS_MAX_AF    8
#define BGP_CAPS_MAX_OTHER 8

/* capabilities present (struct bgp_caps.has) */
#define BGP_CAPF_MP          (1u << 0)
#define BGP_CAPF_RR          (1u << 1)
#define BGP_CAPF_EXT_MSG     (1u << 2)
#define BGP_CAPF_GR          (1u << 3)
#define BGP_CAPF_AS4         (1u << 4)
#define BGP_CAPF_ADD_PATH    (1u << 5)
#define BGP_CAPF_ENHANCED_RR (1u << 6)
#define BGP_CAPF_FQDN        (1u << 7)
#define BGP_CAPF_RR_OLD      (1u << 8)

struct bgp_af {
	uint16_t afi;
	uint8_t safi;
	uint8_t flags; /* GR: BGP_GR_AF_FORWARD; ADD-PATH: BGP_ADDPATH_* */
};

struct bgp_cap_raw {
	uint8_t code, len;
	const uint8_t *val;
};

struct bgp_caps {
	uint32_t has;               /* BGP_CAPF_* */
	uint32_t as4;               /* 4-octet AS (RFC 6793) */
	uint16_t gr_flags, gr_time; /* RFC 4724: R/N flags, restart time in s */
	uint8_t n_mp, n_gr, n_addpath, n_other;
	struct bgp_af mp[BGP_CAPS_MAX_AF];
	struct bgp_af gr[BGP_CAPS_MAX_AF];
	struct bgp_af addpath[BGP_CAPS_MAX_AF];
	const uint8_t *host, *domain; /* FQDN capability, not NUL-terminated */
	uint8_t host_len, domain_len;
	struct bgp_cap_raw other[BGP_CAPS_MAX_OTHER]; /* unknown, kept opaque */
	uint16_t n_dropped; /* entries beyond the arrays above (counted only) */
};

struct bgp_open {
	uint8_t version;
	uint16_t my_as; /* the 2-octet field: AS_TRANS for a 4-octet AS */
	uint16_t hold;
	uint32_t id;
	uint32_t as;     /* the sender's AS: the AS4 capability when present */
	bool ext_params; /* RFC 9072 encoding (decoded) / forced (encoded) */
	struct bgp_caps caps;
};

/*
 * Checks only what the protocol defines (version, hold time 1 or 2, zero
 * identifier, AS 0 per RFC 7607, unknown optional parameters, framing);
 * bgp_open_check() applies the local policy.
 */
int bgp_open_decode(const uint8_t *msg, size_t len, struct bgp_open *o, struct bgp_err *e);
/* Encodes o (version 4, my AS from o->as, capabilities from o->caps); the
 * RFC 9072 form when the parameters exceed 255 bytes or o->ext_params. */
int bgp_open_encode(struct bgp_wr *w, const struct bgp_open *o);
bool bgp_caps_has_af(const struct bgp_caps *c, uint16_t afi, uint8_t safi);
/* ADD-PATH mode the caps advertise for (afi, safi), 0 if none. */
uint8_t bgp_caps_addpath(const struct bgp_caps *c, uint16_t afi, uint8_t safi);

struct bgp_open_policy {
	uint32_t peer_as;  /* expected AS, 0 for any */
	uint32_t local_as; /* ours: an OPEN from it is iBGP */
	uint32_t local_id; /* ours: an iBGP peer may not use it (RFC 6286 2.2) */
	uint16_t min_hold; /* smallest non-zero hold time accepted (>= 3) */
	bool reject_zero_hold;
	uint32_t require;     /* BGP_CAPF_* the peer must advertise */
	uint8_t require_fams; /* BGP_FAM_BIT()s the peer must advertise */
};
/* Bad Peer AS, Bad BGP Identifier, Unacceptable Hold Time, Unsupported
 * Capability (data: the capabilities required and missing, RFC 5492 5). */
int bgp_open_check(const struct bgp_open *o, const struct bgp_open_policy *pol, struct bgp_err *e);

/* ---- what the session agreed on ------------------------------------------- */
struct bgp_params {
	uint32_t local_as, peer_as;
	uint16_t rx_max, tx_max;        /* message size limits (RFC 8654) */
	uint16_t hold;                  /* negotiated hold time */
	uint8_t fams;                   /* BGP_FAM_BIT()s both sides enabled */
	uint8_t addpath_rx, addpath_tx; /* BGP_FAM_BIT()s with path identifiers */
	bool as4;                       /* 4-octet AS_PATH and AGGREGATOR (both sent AS4) */
	bool ebgp;                      /* the peer is in another AS (RFC 7606 discards) */
	bool enforce_first_as;          /* eBGP: AS_PATH must start with peer_as */
	bool route_refresh, enhanced_rr, gr;
};
/* A 4-octet, IPv4+IPv6, 4096-byte session between local_as and peer_as. */
void bgp_params_default(struct bgp_params *p, uint32_t local_as, uint32_t peer_as);
/* The session both OPENs describe (RFC 4760 6: no MP capability means IPv4). */
void bgp_params_negotiate(struct bgp_params *p, const struct bgp_open *local,
                          const struct bgp_open *remote);

/* ---- path attributes ------------------------------------------------------- */
struct bgp_span {
	const uint8_t *p; /* wire bytes (network order) */
	uint16_t len;
};

#define BGP_HAS(type)      (1ull << (type))
#define BGP_MAX_OTHER_ATTR 8

struct bgp_attr_raw {
	uint8_t flags, type;
	struct bgp_span val;
};

/*
 * One attribute set. Decoded: what the UPDATE carried, minus what RFC 7606
 * discarded. Encoded: what to send (the NEXT_HOP bit of has is ignored: the
 * next hop is nexthop, for the family of the routes it goes with).
 * A set is canonical when aspath holds 4-octet ASes and as4path is empty
 * (bgp_attrs_canon); the encoder and the RIB take canonical sets only.
 */
struct bgp_attrs {
	uint64_t has; /* BGP_HAS(type) for every attribute present */
	uint8_t origin;
	bool aspath_wide;                   /* aspath segments carry 4-octet ASes */
	struct bgp_span aspath;             /* AS_PATH segments */
	struct bgp_span as4path;            /* RFC 6793, still to merge (2-octet sessions) */
	struct ip_addr nexthop, nexthop_ll; /* ll: RFC 2545 link-local, af 0 if none */
	uint32_t med, local_pref;
	uint32_t aggr_as, aggr_id; /* AGGREGATOR (with AS4_AGGREGATOR merged) */
	uint32_t originator_id;
	struct bgp_span communities, ext_communities, large_communities, cluster_list;
	/* unrecognized optional transitive attributes, sorted by type */
	uint8_t n_other;
	struct bgp_attr_raw other[BGP_MAX_OTHER_ATTR];
};

bool bgp_attrs_equal(const struct bgp_attrs *x, const struct bgp_attrs *y);
const char *bgp_attr_name(uint8_t type); /* "AS_PATH"; "unknown attribute" */

/* ---- AS paths (bgp_aspath.c) ------------------------------------------------ */
struct bgp_aspath_info {
	uint32_t hops;  /* path length for route selection (RFC 4271 9.1.2.2) */
	uint32_t n_as;  /* AS numbers in all segments */
	uint32_t first; /* leftmost AS of a leading AS_SEQUENCE, 0 if none */
	bool confed, zero_as, as_set;
};

/* NULL when p is a well-formed AS_PATH of asz-octet ASes (RFC 7606 7.2),
 * else what is wrong with it. */
const char *bgp_aspath_check(const uint8_t *p, size_t n, unsigned asz,
                             struct bgp_aspath_info *info);
/* Bytes bgp_attrs_canon may need in buf for a. */
size_t bgp_attrs_canon_room(const struct bgp_attrs *a);
/* Makes a canonical: widens a 2-octet AS_PATH and merges AS4_PATH (RFC 6793
 * 4.2.3) into buf when needed; a->aspath then points into buf or stays. */
int bgp_attrs_canon(struct bgp_attrs *a, uint8_t *buf, size_t cap);

struct bgp_aspath_it {
	struct bgp_cur c;
	unsigned asz;
	uint8_t type, left;
};
void bgp_aspath_iter(struct bgp_aspath_it *it, const struct bgp_span *path, bool wide);
/* The next AS and the type of its segment; false at the end. */
bool bgp_aspath_next(struct bgp_aspath_it *it, uint8_t *seg_type, uint32_t *as);

/* ---- NLRI (bgp_nlri.c) -------------------------------------------------------- */
struct bgp_nlri {
	const uint8_t *p; /* prefixes in wire form, already validated */
	uint16_t len;
	uint16_t afi;
	uint8_t safi;
	uint8_t fam; /* BGP_FAM_NONE: a family this codec does not decode */
	bool addpath;
	bool present; /* the field or attribute was in the message */
	uint32_t count;
};

struct bgp_nlri_it {
	struct bgp_cur c;
	uint8_t fam;
	bool addpath;
};
void bgp_nlri_iter(const struct bgp_nlri *n, struct bgp_nlri_it *it);
/* The next prefix (host bits cleared) and its path id (0 without ADD-PATH). */
bool bgp_nlri_next(struct bgp_nlri_it *it, struct ip_prefix *pfx, uint32_t *path_id);
/* 0 and the count, or -EBADMSG: a length beyond the family's, or a prefix
 * running past the end (RFC 7606 5.3). */
int bgp_nlri_check(const uint8_t *p, size_t n, uint8_t fam, bool addpath, uint32_t *count);
size_t bgp_prefix_wire_len(const struct ip_prefix *pfx, bool addpath);
void bgp_prefix_put(struct bgp_wr *w, const struct ip_prefix *pfx, bool addpath, uint32_t id);

/* ---- UPDATE (bgp_update.c, bgp_attr.c) ------------------------------------------ */
enum bgp_verdict {
	BGP_VERDICT_OK = 0,
	BGP_VERDICT_DISCARD,  /* attributes dropped, the routes stand */
	BGP_VERDICT_WITHDRAW, /* treat-as-withdraw: every NLRI of the UPDATE is withdrawn */
	BGP_VERDICT_RESET,    /* send err and close the session */
};

struct bgp_update {
	struct bgp_nlri withdrawn, nlri;      /* the body's IPv4 fields */
	struct bgp_nlri mp_reach, mp_unreach; /* RFC 4760 */
	struct ip_addr mp_nh, mp_nh_ll;       /* MP_REACH next hop(s) */
	struct bgp_attrs attrs;               /* nexthop: the NEXT_HOP attribute */
	bool eor;                             /* End-of-RIB (RFC 4724 2) for eor_afi/eor_safi */
	uint16_t eor_afi;
	uint8_t eor_safi;
	/* RFC 7606 */
	enum bgp_verdict verdict; /* the strongest action any error asked for */
	const char *why;          /* the first error of that strength, for the log */
	uint8_t why_attr;         /* its attribute type, 0 if none */
	uint16_t n_errors;
	struct bgp_err err; /* RESET: the NOTIFICATION to send */
};

/* Decodes msg under the session's params. 0 with a verdict (OK, DISCARD,
 * WITHDRAW), or -EBADMSG with verdict RESET and u->err to send. */
int bgp_update_decode(const struct bgp_params *p, const uint8_t *msg, size_t len,
                      struct bgp_update *u);
/* The attribute set of the routes in n (one of u's NLRI): u->attrs with the
 * next hop of n's family (NEXT_HOP for the body, MP_REACH's otherwise). */
void bgp_update_attrs(const struct bgp_update *u, const struct bgp_nlri *n, struct bgp_attrs *out);

/* ---- UPDATE encoding (bgp_upd_enc.c) -------------------------------------------- */
/*
 * Appends one UPDATE carrying as many of v[0..n) (one family, path ids ids[]
 * or NULL) as fit in p->tx_max: announced with a (canonical) when a is not
 * NULL, withdrawn otherwise. IPv4 unicast goes in the body, IPv6 in
 * MP_REACH/MP_UNREACH. *done is how many were packed (>= 1 on success).
 * 2-octet sessions get AS_TRANS with AS4_PATH/AS4_AGGREGATOR (RFC 6793 4.2.2).
 */
int bgp_update_pack(struct bgp_wr *w, const struct bgp_params *p, const struct bgp_attrs *a,
                    const struct ip_prefix *v, const uint32_t *ids, size_t n, size_t *done);

typedef int (*bgp_emit_fn)(void *arg, const uint8_t *msg, size_t len);
/* Packs all of v into as few UPDATEs as fit, each built in buf (cap >=
 * p->tx_max is enough) and handed to emit; returns the number of messages,
 * or the first negative error (emit's included). */
int bgp_update_split(const struct bgp_params *p, const struct bgp_attrs *a,
                     const struct ip_prefix *v, const uint32_t *ids, size_t n, uint8_t *buf,
                     size_t cap, bgp_emit_fn emit, void *arg);
/* End-of-RIB for fam: the empty UPDATE for IPv4, an empty MP_UNREACH else. */
int bgp_eor_encode(struct bgp_wr *w, uint8_t fam);

#endif
