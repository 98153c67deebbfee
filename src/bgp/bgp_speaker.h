/*
 * bgp_speaker.h - a BGP-4 speaker on a libuv loop: the API straitd uses.
 *
 * A speaker has a router id and an AS, and peers. Each peer is one eBGP or
 * iBGP session to one remote address, from one local address (which the
 * speaker listens on: one listening socket per local address and port, never
 * the wildcard), active (connects, and accepts) or passive (only accepts).
 * The session runs the RFC 4271 FSM (bgp_fsm.h) with collision detection,
 * 4-octet ASes, IPv4 and IPv6 unicast, route refresh, graceful restart as a
 * helper (RFC 4724), RFC 7606 error handling, maximum-prefix Cease (RFC 4486)
 * with an idle hold-down, shutdown communications (RFC 9003) and TCP MD5
 * (RFC 2385).
 *
 * Routes in: every change of a peer's Adj-RIB-In is reported through
 * on_route (a set, or NULL for a withdrawal), and the table can be walked
 * (bgp_peer_routes_in). There is no Loc-RIB or best-path selection: the
 * caller (the estate's routing engine) decides.
 * Routes out: bgp_peer_set_routes() gives the full set to advertise; the
 * speaker diffs it against what the peer has (Adj-RIB-Out) and sends only
 * the changes, batched per attribute set, within adv_delay_ms.
 *
 * Attribute sets are interned per speaker and refcounted: a route costs one
 * pointer. Sets handed to callbacks are valid during the callback; take a
 * reference (bgp_attrset_ref) to keep one. Every reference must be dropped
 * before bgp_speaker_free.
 *
 * Policy plugs in through hooks, which is how the provider edge (bgp_pe.h)
 * is meant to be wired: on_open (bgp_pe_open_check: Bad Peer AS), import
 * (bgp_pe_rewrite_in: customer communities dropped, private ASNs stripped),
 * accept (bgp_pe_accept: Microsoft peering's filters), max_prefix
 * (bgp_pe_max_prefixes), min_hold (BGP_PE_HOLD_MIN) and, outbound, sets
 * built by bgp_pe_attrs_out and interned here.
 *
 * Times: hold time in seconds (the protocol's unit), everything else in
 * milliseconds (tests run the same code with short timers).
 * Everything runs on the loop's thread; callbacks may call any function here
 * except bgp_speaker_free (bgp_peer_remove of the peer the callback is about
 * is fine: memory goes only when the loop has closed its handles).
 */
#ifndef STRAIT_BGP_SPEAKER_H
#define STRAIT_BGP_SPEAKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "bgp/bgp_fsm.h"
#include "bgp/bgp_msg.h"
#include "ip/ip.h"

struct bgp_speaker;
struct bgp_peer;
struct bgp_attrset;

/* ---- attribute sets ------------------------------------------------------- */

/* The interned set equal to a (canonicalized when needed), with a new
 * reference; NULL when a is not well-formed (a 2-octet path that cannot be
 * merged). A set whose next hop has af 0 means "next hop self" when sent. */
struct bgp_attrset *bgp_attrset_intern(struct bgp_speaker *s, const struct bgp_attrs *a);
struct bgp_attrset *bgp_attrset_ref(struct bgp_attrset *set);
void bgp_attrset_unref(struct bgp_attrset *set);
/* The attributes; spans point into the set (valid while it is referenced). */
void bgp_attrset_get(const struct bgp_attrset *set, struct bgp_attrs *out);
/* "nh 192.0.2.1 path 65001 65002 origin i med 5 comm 65001:1 lcomm 1:2:3"
 * into buf (truncated, always NUL-terminated); returns the full length. */
size_t bgp_attrset_fmt(const struct bgp_attrset *set, char *buf, size_t n);

/* ---- configuration ---------------------------------------------------------- */
#define BGP_PORT        179
#define BGP_MD5_MAX     80            /* TCP_MD5SIG_MAXKEYLEN */
#define BGP_IMPORT_ROOM (2u * 65536u) /* a rewritten canonical AS_PATH fits */

struct bgp_peer_cfg {
	const char *name;     /* for logs and stats; copied */
	struct ip_addr local; /* bound for listening and connecting */
	struct ip_addr remote;
	uint16_t port;                  /* listened on and connected to; 0: the speaker's */
	uint16_t remote_port;           /* connected to, when not port (tests, interop) */
	uint32_t local_as;              /* 0: the speaker's */
	uint32_t remote_as;             /* 0: any */
	uint16_t hold;                  /* offered hold time, s; 0 with hold_zero, else 180 */
	bool hold_zero;                 /* offer hold time 0 (no keepalives) */
	uint16_t min_hold;              /* smallest non-zero hold accepted (>= 3) */
	bool reject_zero_hold;          /* refuse a peer's hold time 0 */
	const char *md5_key;            /* TCP MD5 (RFC 2385) key or NULL; copied */
	bool passive;                   /* only accept connections */
	uint8_t fams;                   /* BGP_FAM_BIT()s to offer; 0: IPv4 and IPv6 */
	uint32_t max_prefix[BGP_FAM_N]; /* received prefixes per family; 0: no limit */
	uint32_t max_prefix_idle_ms;    /* idle hold after a max-prefix Cease (60 s) */
	uint32_t restart_ms;            /* idle hold after any other failure (1 s), doubling
	                                   while failures repeat (at most 60 s) */
	uint32_t connect_retry_ms;      /* ConnectRetryTimer (120 s, RFC 4271 10) */
	bool no_graceful_restart;       /* do not advertise the GR capability (helper) */
	uint16_t gr_time;               /* restart time we advertise, s (120) */
	uint8_t gr_fams;                /* families we claim to preserve (tests: the
	                                   restarting side); 0: helper only */
	uint32_t gr_stale_ms;           /* how long stale routes wait for End-of-RIB (360 s) */
	bool enhanced_rr;               /* advertise enhanced route refresh (RFC 7313) */
};

struct bgp_notice {
	bool valid;
	uint8_t code, subcode;
	uint8_t data[16]; /* the first bytes of the data */
	uint16_t len;     /* data length */
	char text[256];   /* RFC 9003 shutdown communication, "" if none */
	uint64_t at_ms;   /* uv_now */
};

struct bgp_state_change {
	uint8_t from, to; /* enum bgp_state */
	/* the NOTIFICATION that ended the session (sent or received), or NULL */
	const struct bgp_notice *notice;
	bool notice_sent;
	const char *reason; /* short text: "hold timer expired", "connection closed" */
};

struct bgp_speaker_cfg {
	uint32_t router_id; /* BGP Identifier, host order, non-zero */
	uint32_t local_as;
	uint16_t port;         /* 0: 179 */
	uint32_t adv_delay_ms; /* batching of advertisement changes (50) */
	void *arg;
	/* Peer state changes (the higher state of its connections). */
	void (*on_state)(void *arg, struct bgp_peer *p, const struct bgp_state_change *c);
	/* Adj-RIB-In changes: set is NULL for a withdrawal. stale: graceful
	 * restart kept the route from the previous session. */
	void (*on_route)(void *arg, struct bgp_peer *p, const struct ip_prefix *pfx,
	                 struct bgp_attrset *set);
	/* Inbound rewrite, once per attribute set of an UPDATE (not per route),
	 * before it is interned: a is canonical (4-octet AS_PATH); spans may be
	 * pointed into buf (cap bytes, BGP_IMPORT_ROOM). The Adj-RIB-In keeps
	 * the result. Non-zero treats the UPDATE's routes as withdrawn. NULL:
	 * kept as received. */
	int (*import)(void *arg, struct bgp_peer *p, struct bgp_attrs *a, uint8_t *buf, size_t cap);
	/* Import policy: false keeps the route out of on_route (it stays in the
	 * Adj-RIB-In, counted as received, not accepted). NULL accepts all. */
	bool (*accept)(void *arg, struct bgp_peer *p, const struct ip_prefix *pfx,
	               struct bgp_attrset *set);
	/* OPEN policy beyond AS and hold time: return -EBADMSG with e filled to
	 * refuse the peer (e.g. a reserved AS). NULL accepts. */
	int (*on_open)(void *arg, struct bgp_peer *p, const struct bgp_open *o, struct bgp_err *e);
	/* Log lines (level: 0 error, 1 warning, 2 info, 3 debug). NULL: silent. */
	void (*on_log)(void *arg, struct bgp_peer *p, int level, const char *msg);
};

/* ---- speaker and peers -------------------------------------------------------- */
int bgp_speaker_new(uv_loop_t *loop, const struct bgp_speaker_cfg *cfg, struct bgp_speaker **out);
/* Stops every peer (Cease / Peer De-configured) and closes everything; the
 * memory goes once the loop has run the close callbacks (uv_run). */
void bgp_speaker_free(struct bgp_speaker *s);

/* Adds and starts a peer. -EINVAL (bad config), -EEXIST (a peer with the same
 * local and remote address), the listener's bind/listen error
 * (-EADDRINUSE...), or setsockopt(TCP_MD5SIG)'s when the kernel refuses the
 * key (-EPERM, -ENOPROTOOPT): a configured key is never silently dropped. */
int bgp_peer_add(struct bgp_speaker *s, const struct bgp_peer_cfg *cfg, struct bgp_peer **out);
/* Cease / Peer De-configured (or the shutdown text's Administrative
 * Shutdown when text is not NULL), routes withdrawn, the peer gone. */
void bgp_peer_remove(struct bgp_peer *p, const char *text);
/* ManualStop: Cease / Administrative Shutdown with the RFC 9003 text (NULL:
 * none; at most 255 bytes of UTF-8, else -EINVAL). The peer stays Idle. */
int bgp_peer_stop(struct bgp_peer *p, const char *text);
/* ManualStart of a stopped peer. */
int bgp_peer_start(struct bgp_peer *p);
/* Closes the TCP connection without a NOTIFICATION, as a crash or a cut
 * link would (graceful restart tests, BgpDisconnect drills). */
void bgp_peer_drop(struct bgp_peer *p);
/* Asks the peer to send its routes again (ROUTE-REFRESH); -ENOTCONN when not
 * Established, -EOPNOTSUPP when not negotiated. */
int bgp_peer_refresh(struct bgp_peer *p, uint8_t fam);

/* The routes to advertise: the whole set (prefix -> attribute set); a
 * prefix given twice keeps the last. The speaker takes its own references. */
struct bgp_route {
	struct ip_prefix pfx;
	struct bgp_attrset *set;
};
int bgp_peer_set_routes(struct bgp_peer *p, const struct bgp_route *v, size_t n);
/* One change of that set: pfx advertised with set, or withdrawn (set NULL). The next
 * flush sends just the prefixes changed this way (a router passing routes on costs
 * the changes, not the table). */
int bgp_peer_route(struct bgp_peer *p, const struct ip_prefix *pfx, struct bgp_attrset *set);

/* ---- what a peer is doing -------------------------------------------------------- */
struct bgp_peer_stats {
	uint8_t state; /* enum bgp_state */
	uint32_t remote_id, remote_as;
	uint16_t hold, keepalive; /* negotiated, s */
	uint8_t fams;             /* negotiated families */
	bool graceful_restart, route_refresh, as4;
	uint64_t msgs_in, msgs_out;
	uint64_t in_type[6], out_type[6];         /* by message type (1..5) */
	uint32_t pfx_rcvd[BGP_FAM_N];             /* Adj-RIB-In */
	uint32_t pfx_accepted[BGP_FAM_N];         /* of those, accepted by policy */
	uint32_t pfx_stale[BGP_FAM_N];            /* of those, stale (graceful restart) */
	uint32_t pfx_adv[BGP_FAM_N];              /* Adj-RIB-Out */
	uint64_t treat_as_withdraw, attr_discard; /* RFC 7606 verdicts */
	uint64_t established_at_ms, uptime_ms;    /* 0 when not Established */
	uint32_t established_count;               /* times it came up */
	struct bgp_notice last_sent, last_rcvd;
	char last_error[160]; /* why the last session ended, "" if never */
};
void bgp_peer_stats(const struct bgp_peer *p, struct bgp_peer_stats *st);
const char *bgp_peer_name(const struct bgp_peer *p);
uint8_t bgp_peer_state(const struct bgp_peer *p);
void bgp_peer_set_udata(struct bgp_peer *p, void *udata);
void *bgp_peer_udata(const struct bgp_peer *p);
/* Peers in the order they were added; NULL ends. */
struct bgp_peer *bgp_speaker_peer_next(struct bgp_speaker *s, struct bgp_peer *after);

typedef void (*bgp_route_fn)(void *arg, const struct ip_prefix *pfx, struct bgp_attrset *set,
                             bool stale);
void bgp_peer_routes_in(struct bgp_peer *p, bgp_route_fn fn, void *arg);
void bgp_peer_routes_out(struct bgp_peer *p, bgp_route_fn fn, void *arg);

/* Bytes the speaker's route tables and attribute sets take. */
size_t bgp_speaker_mem(const struct bgp_speaker *s);

#endif
