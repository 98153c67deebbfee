/*
 * bgp_sess.h - the speaker's inside, shared by its files and nothing else:
 *
 *   bgp_speaker.c  the public API: speaker, peers, stats, attribute sets
 *   bgp_conn.c     sockets: listeners, connect, MD5, read framing, write queue
 *   bgp_sess.c     the FSM driven by sockets, timers and messages; OPEN;
 *                  collision detection
 *   bgp_recv.c     UPDATEs into the Adj-RIB-In: RFC 7606 verdicts,
 *                  maximum-prefix, graceful restart (helper)
 *   bgp_adv.c      the Adj-RIB-Out: diff, UPDATE batching, End-of-RIB,
 *                  route refresh
 *
 * Lifetimes. Every object that embeds libuv handles (listener, socket,
 * connection, peer) is freed only from the close callback of its last
 * handle, so a pointer stays valid until the loop turns, whatever a callback
 * does meanwhile. A socket belongs to at most one connection (sock->conn);
 * dropping it detaches it and lets it flush and close on its own. A
 * connection is one FSM (RFC 4271 8: one per TCP connection); a peer has its
 * primary connection always and a second one while a collision is being
 * resolved. The speaker goes when its last object has.
 */
#ifndef STRAIT_BGP_SESS_H
#define STRAIT_BGP_SESS_H

#include "bgp/bgp_rib.h"
#include "bgp/bgp_speaker.h"
#include "lib/lib.h"

#define BGP_RX_INIT 65536u

struct bgp_obuf {
	uint8_t *p;
	size_t len, cap;
	bool busy; /* being written */
	uv_write_t req;
};

struct bgp_sock {
	uv_tcp_t tcp;
	uv_connect_t creq;
	uv_shutdown_t sreq;
	uv_timer_t linger;
	struct bgp_speaker *spk;
	struct bgp_conn *conn; /* NULL once detached */
	uint8_t *rx;
	size_t rx_len, rx_cap;
	struct bgp_obuf out[2];
	uint8_t cur; /* out[cur] takes new messages */
	bool outgoing, connected, closing;
	int handles;
	struct ip_addr local, remote;
};

struct bgp_conn {
	struct bgp_peer *peer; /* not to be used once disposed: the peer may be gone */
	struct bgp_speaker *spk;
	struct bgp_fsm fsm;
	struct bgp_sock *sock;
	uv_timer_t t_crt, t_hold, t_ka;
	int handles;
	bool disposed;
	bool damp; /* the session asked for the IdleHoldTimer */
	/* the peer's OPEN, what we keep of it */
	bool got_open;
	uint32_t remote_id, remote_as, remote_caps;
	uint16_t gr_flags, gr_time;
	uint8_t gr_fams, gr_fwd; /* families in its GR capability; with F set */
	struct bgp_params params;
	uint8_t next_ev; /* an event to run once the current one is done */
	/* the event being handled: its message and error */
	const struct bgp_update *upd;
	const struct bgp_rr *rr;
	const struct bgp_err *err;
};

struct bgp_listener {
	struct bgp_listener *next;
	struct bgp_speaker *spk;
	uv_tcp_t tcp;
	struct ip_addr addr;
	uint16_t port;
	int refs;
};

/* One bgp_peer_route change. Its set (NULL: withdrawn) is what want holds while it
 * is the prefix's last change, so a flush reads it here instead of probing want;
 * seq orders a prefix's changes. */
struct bgp_dirty {
	struct ip_prefix pfx;
	uint32_t seq;
	struct bgp_attrset *set;
};

struct bgp_peer {
	struct bgp_peer *next;
	struct bgp_speaker *spk;
	struct bgp_peer_cfg cfg; /* name and md5_key point to owned copies */
	uint32_t local_as;
	struct bgp_open open; /* the OPEN we send */
	struct bgp_listener *lst;
	struct bgp_conn *conn, *conn2;
	uv_timer_t t_idle, t_flush, t_gr;
	int handles;
	bool removed, admin_down;
	uint8_t vis_state; /* last state reported through on_state */
	uint32_t idle_ms_next;
	uint32_t fails; /* sessions failed since the last Established (backoff) */
	struct bgp_rib in, out, want;
	bool adv_pending;        /* want changed since the last flush */
	bool want_whole;         /* want replaced whole (set_routes): the next flush compares all */
	struct bgp_dirty *dirty; /* else the changes bgp_peer_route made since the flush */
	size_t ndirty, capdirty;
	bool need_eor;          /* the first flush of a session ends with End-of-RIB */
	uint8_t gr_stale;       /* families whose Adj-RIB-In routes are stale */
	bool gr_waiting;        /* t_gr: restart timer (true) or stale timer */
	bool holddown;          /* idle after a maximum-prefix Cease */
	bool warned[BGP_FAM_N]; /* the 80% maximum-prefix warning was logged */
	struct bgp_err stop;    /* the Cease a stop event sends */
	uint8_t stop_text[1 + BGP_MAX_SHUTDOWN]; /* its RFC 9003 data */
	bool stop_graceful;                      /* the next DELETE_ROUTES may keep routes (GR) */
	const char *down_reason;                 /* why the TCP connection failed (this event) */
	/* for the state change the current event causes */
	const struct bgp_notice *ev_notice;
	bool ev_notice_sent;
	const char *ev_reason;
	struct bgp_peer_stats st;
	void *udata;
};

struct bgp_speaker {
	uv_loop_t *loop;
	struct bgp_speaker_cfg cfg;
	struct bgp_atab atab;
	struct bgp_peer *peers;
	struct bgp_listener *lsts;
	uint32_t live; /* listeners, sockets, connections, peers not yet freed */
	bool freeing;
	uint8_t tx[BGP_MAX_EXT_MSG];        /* one message being built */
	uint8_t canon[3 * BGP_MAX_EXT_MSG]; /* a received AS_PATH made canonical */
	uint8_t import[BGP_IMPORT_ROOM];    /* the import hook's rewrites */
};

/* bgp_speaker.c */
void bgp_log(struct bgp_peer *p, int level, const char *fmt, ...) LIB_PRINTF(3, 4);
void bgp_obj_gone(struct bgp_speaker *s); /* an object was freed */

/* bgp_conn.c */
int bgp_listener_get(struct bgp_speaker *s, const struct ip_addr *a, uint16_t port,
                     struct bgp_listener **out);
void bgp_listener_put(struct bgp_listener *l);
int bgp_md5_set(uv_tcp_t *t, const struct ip_addr *remote, const char *key);
int bgp_sock_connect(struct bgp_conn *c);
/* Gives an accepted socket to c and starts reading. */
void bgp_sock_attach(struct bgp_conn *c, struct bgp_sock *s);
void bgp_sock_send(struct bgp_sock *s, const uint8_t *msg, size_t len);
/* Detaches s from its connection and closes it, after what is queued when
 * flush (a NOTIFICATION) is set. */
void bgp_sock_close(struct bgp_sock *s, bool flush);
size_t bgp_sock_queued(const struct bgp_sock *s);

/* bgp_sess.c */
void bgp_sess_event(struct bgp_conn *c, uint8_t ev, const struct bgp_err *e);
void bgp_sess_message(struct bgp_conn *c, uint8_t type, const uint8_t *msg, size_t len);
void bgp_sess_incoming(struct bgp_speaker *s, struct bgp_sock *sock, uint16_t port);
void bgp_sess_tcp_up(struct bgp_conn *c); /* our connect succeeded */
struct bgp_conn *bgp_conn_new(struct bgp_peer *p);
void bgp_conn_dispose(struct bgp_conn *c);
void bgp_sess_send(struct bgp_conn *c, const uint8_t *msg, size_t len);
/* The peer's state as reported: the higher of its connections'. */
uint8_t bgp_peer_vis_state(const struct bgp_peer *p);
void bgp_peer_settle(struct bgp_peer *p);

/* bgp_recv.c */
void bgp_recv_update(struct bgp_conn *c, const struct bgp_update *u);
void bgp_recv_down(struct bgp_peer *p, struct bgp_conn *c, bool graceful);
void bgp_recv_up(struct bgp_peer *p, struct bgp_conn *c);
void bgp_recv_clear(struct bgp_peer *p); /* every route, reported withdrawn */
void bgp_recv_gr_timer(uv_timer_t *t);
void bgp_recv_rr(struct bgp_conn *c, const struct bgp_rr *rr); /* BoRR, EoRR */

/* bgp_adv.c */
void bgp_adv_schedule(struct bgp_peer *p);
/* Flushes now when enough changes wait (a long burst goes out while it comes in). */
void bgp_adv_changed(struct bgp_peer *p);
void bgp_adv_flush_timer(uv_timer_t *t);
void bgp_adv_up(struct bgp_peer *p);
void bgp_adv_down(struct bgp_peer *p);
void bgp_adv_refresh(struct bgp_conn *c, const struct bgp_rr *rr);

#endif
