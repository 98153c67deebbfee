/*
 * bgp_fsm.h - the BGP-4 finite state machine of RFC 4271 section 8 as a pure
 * state x event table: no sockets, no timers, no clock. The session layer
 * (bgp_sess.c) turns TCP and timer callbacks and decoded messages into
 * events, runs bgp_fsm_step() and carries out the actions it answers with.
 *
 * One FSM per TCP connection (RFC 4271 8: "there is one FSM per BGP
 * connection"); a peer has one, and a second one only while a second
 * connection is in play for collision detection (6.8), see
 * bgp_collision_keep_outgoing().
 *
 * Events carry their RFC 4271 8.1 numbers. Not implemented, because the
 * optional session attributes they belong to are FALSE here: 6 and 7
 * (AutomaticStart with DampPeerOscillations: the IdleHoldTimer is used
 * instead, see BGP_ACT_DAMP), 12 and 20 (DelayOpen), 14 (TcpConnection_Valid,
 * the speaker matches connections to peers itself). Event 29 is ours: a
 * ROUTE-REFRESH message (RFC 2918), which RFC 4271 predates.
 */
#ifndef STRAIT_BGP_FSM_H
#define STRAIT_BGP_FSM_H

#include <stdbool.h>
#include <stdint.h>

enum bgp_state {
	BGP_IDLE = 0,
	BGP_CONNECT,
	BGP_ACTIVE,
	BGP_OPENSENT,
	BGP_OPENCONFIRM,
	BGP_ESTABLISHED,
	BGP_STATE_N
};

enum bgp_event {
	BGP_EV_MANUAL_START = 1,
	BGP_EV_MANUAL_STOP = 2,
	BGP_EV_AUTO_START = 3,
	BGP_EV_MANUAL_START_PASSIVE = 4, /* ManualStart_with_PassiveTcpEstablishment */
	BGP_EV_AUTO_START_PASSIVE = 5,   /* AutomaticStart_with_PassiveTcpEstablishment */
	BGP_EV_AUTO_STOP = 8,
	BGP_EV_CONNECT_RETRY_EXPIRES = 9,
	BGP_EV_HOLD_EXPIRES = 10,
	BGP_EV_KEEPALIVE_EXPIRES = 11,
	BGP_EV_IDLE_HOLD_EXPIRES = 13,
	BGP_EV_TCP_CR_INVALID = 15,
	BGP_EV_TCP_CR_ACKED = 16,   /* our connection attempt succeeded */
	BGP_EV_TCP_CONFIRMED = 17,  /* the peer's connection was accepted */
	BGP_EV_TCP_FAILS = 18,      /* TcpConnectionFails */
	BGP_EV_OPEN = 19,           /* BGPOpen: a valid OPEN, collision resolved */
	BGP_EV_HEADER_ERR = 21,     /* BGPHeaderErr */
	BGP_EV_OPEN_ERR = 22,       /* BGPOpenMsgErr */
	BGP_EV_COLLISION_DUMP = 23, /* OpenCollisionDump */
	BGP_EV_NOTIF_VER_ERR = 24,  /* NotifMsgVerErr */
	BGP_EV_NOTIF = 25,          /* NotifMsg */
	BGP_EV_KEEPALIVE = 26,      /* KeepAliveMsg */
	BGP_EV_UPDATE = 27,         /* UpdateMsg */
	BGP_EV_UPDATE_ERR = 28,     /* UpdateMsgErr */
	BGP_EV_ROUTE_REFRESH = 29,  /* not in RFC 4271: a ROUTE-REFRESH message */
	BGP_EV_N
};

/* Actions, in the order the session carries them out. */
#define BGP_ACT_INIT          (1u << 0)  /* initialize the BGP resources */
#define BGP_ACT_SEND_NOTIFY   (1u << 1)  /* NOTIFICATION (struct bgp_fsm_out.notify) */
#define BGP_ACT_DELETE_ROUTES (1u << 2)  /* delete the routes of the connection */
#define BGP_ACT_CRT_STOP      (1u << 3)  /* ConnectRetryTimer stopped, set to zero */
#define BGP_ACT_CRT_START     (1u << 4)  /* ConnectRetryTimer (re)started */
#define BGP_ACT_DROP          (1u << 5)  /* drop the TCP connection (and its timers) */
#define BGP_ACT_RELEASE       (1u << 6)  /* release the BGP resources */
#define BGP_ACT_CONNECT       (1u << 7)  /* initiate a TCP connection */
#define BGP_ACT_SEND_OPEN     (1u << 8)  /* complete the initialization, send OPEN */
#define BGP_ACT_HOLD_LARGE    (1u << 9)  /* HoldTimer to BGP_HOLD_LARGE */
#define BGP_ACT_SEND_KA       (1u << 10) /* send a KEEPALIVE */
#define BGP_ACT_HOLD_START    (1u << 11) /* HoldTimer (re)started with the negotiated time */
#define BGP_ACT_KA_START      (1u << 12) /* KeepaliveTimer (re)started */
#define BGP_ACT_PROCESS       (1u << 13) /* process the UPDATE or ROUTE-REFRESH */
#define BGP_ACT_SECOND        (1u << 14) /* a second connection: its own FSM tracks it */
#define BGP_ACT_DAMP          (1u << 15) /* hold Idle for the IdleHoldTimer, then restart */
#define BGP_ACT_UP            (1u << 16) /* the session is Established */
#define BGP_ACT_DOWN          (1u << 17) /* the session left Established */

/* Which NOTIFICATION BGP_ACT_SEND_NOTIFY sends. */
enum bgp_notify_kind {
	BGP_NK_NONE = 0,
	BGP_NK_CEASE,     /* Cease with the subcode and data the stop event came with */
	BGP_NK_HOLD,      /* Hold Timer Expired */
	BGP_NK_FSM,       /* Finite State Machine Error (RFC 6608 subcode) */
	BGP_NK_ERR,       /* the error the event carries (header, OPEN, UPDATE) */
	BGP_NK_COLLISION, /* Cease / Connection Collision Resolution */
};

#define BGP_HOLD_LARGE 240u /* s: "a large value; 4 minutes is suggested" (8.2.2) */

struct bgp_fsm {
	uint8_t state;                /* enum bgp_state */
	bool passive;                 /* listen only: never initiate a connection */
	uint16_t hold;                /* negotiated hold time (s); set before BGP_EV_OPEN */
	uint32_t connect_retry_count; /* ConnectRetryCounter */
};

struct bgp_fsm_out {
	uint8_t from, to;      /* enum bgp_state */
	uint32_t act;          /* BGP_ACT_* */
	uint8_t notify;        /* enum bgp_notify_kind when act has BGP_ACT_SEND_NOTIFY */
	uint8_t code, subcode; /* filled in for BGP_NK_HOLD, _FSM and _COLLISION */
};

void bgp_fsm_init(struct bgp_fsm *f, bool passive);
/* Runs one event; 0, or -EINVAL for an event this table does not have. */
int bgp_fsm_step(struct bgp_fsm *f, uint8_t ev, struct bgp_fsm_out *out);

const char *bgp_state_name(uint8_t state); /* "Idle", ..., "Established" */
const char *bgp_event_name(uint8_t ev);    /* "ManualStart", ... */

/*
 * RFC 4271 6.8, RFC 6286 2.3: of two colliding connections, the one the
 * speaker with the higher BGP Identifier initiated survives (identifiers as
 * unsigned integers; equal ones: the higher AS). True when that is ours.
 */
bool bgp_collision_keep_outgoing(uint32_t local_id, uint32_t local_as, uint32_t remote_id,
                                 uint32_t remote_as);

/* Keepalive interval for a negotiated hold time: a third of it, 0 for 0. */
static inline uint16_t
bgp_keepalive_time(uint16_t hold)
{
	return (uint16_t)(hold / 3);
}

#endif
