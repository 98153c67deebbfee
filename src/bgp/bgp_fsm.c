/*
 * bgp_fsm.c - the RFC 4271 section 8.2.2 state machine, one cell per state
 * and event, with the optional session attributes all FALSE (no DelayOpen,
 * no SendNOTIFICATIONwithoutOPEN, no CollisionDetectEstablishedState) except
 * PassiveTcpEstablishment, which is per peer.
 *
 * Each row of the table is the RFC's paragraph for that state and event; the
 * events a state does not name fall to the state's "any other event"
 * paragraph (other_row). Where this table deviates from the letter of 8.2.2,
 * it says so in the cell, with the reason:
 *
 * - BGP_ACT_DAMP: the RFC leaves restarting a session that fell to Idle to
 *   "the local system" (AutomaticStart) and offers the IdleHoldTimer for
 *   damping. Here every cell that falls to Idle for any reason but a
 *   ManualStop asks for the IdleHoldTimer, and its expiry
 *   (IdleHoldTimer_Expires in Idle) is the AutomaticStart. The session layer
 *   picks the time: short after an error, the configured hold-down after a
 *   maximum-prefix Cease (RFC 4486).
 * - Passive peers (listen only) never connect: where a cell says connect,
 *   a passive FSM stays in (or goes to) Active with the ConnectRetryTimer
 *   restarted. The RFC's passive flag only delays the first connect; the
 *   provider edge must never dial a customer who did not ask.
 * - NotifMsg in OpenSent is answered by closing, not by an FSM Error
 *   NOTIFICATION: the peer has already closed (RFC 4271 6.4's spirit; BIRD
 *   and FRR do the same).
 * - BGPHeaderErr and BGPOpenMsgErr in Established send the error they carry
 *   (RFC 4271 6.1, 6.2), not the FSM Error of 8.2.2's "any other event".
 * - Active x TcpConnectionFails stops the ConnectRetryTimer instead of
 *   restarting it: it would only expire in Idle, where it is ignored.
 * - Hold time 0: HoldTimer and KeepaliveTimer actions are dropped.
 * - FSM Error subcodes are RFC 6608's for unexpected messages and 0
 *   (Unspecific) for unexpected timer events.
 */
#include "bgp/bgp_fsm.h"

#include <errno.h>
#include <stddef.h>

#include "bgp/bgp_wire.h"

struct cell {
	uint8_t valid; /* 0: the state's "any other event" row applies */
	uint8_t to;
	uint8_t notify;
	uint8_t crc; /* ConnectRetryCounter: CRC_KEEP, CRC_ZERO, CRC_INC */
	uint32_t act;
};

enum { CRC_KEEP, CRC_ZERO, CRC_INC };

#define A(x) BGP_ACT_##x

/* Shorthands for the paragraphs that recur. */
#define GO_IDLE      (A(CRT_STOP) | A(RELEASE) | A(DROP))
#define FAIL_IDLE    (GO_IDLE | A(DAMP))
#define EST_FAIL     (FAIL_IDLE | A(DELETE_ROUTES) | A(DOWN))
#define TO_OPENSENT  (A(CRT_STOP) | A(SEND_OPEN) | A(HOLD_LARGE))
#define START_ACTIVE (A(INIT) | A(CRT_START))
#define START_CONN   (A(INIT) | A(CRT_START) | A(CONNECT))

#define CELL(state, to, act, crc)                                                                  \
	{                                                                                          \
		1, BGP_##to, BGP_NK_NONE, crc, act                                                 \
	}
#define NCELL(state, to, nk, act, crc)                                                             \
	{                                                                                          \
		1, BGP_##to, nk, crc, (act) | A(SEND_NOTIFY)                                       \
	}
#define IGNORE(state)                                                                              \
	{                                                                                          \
		1, BGP_##state, BGP_NK_NONE, CRC_KEEP, 0                                           \
	}

static const struct cell table[BGP_STATE_N][BGP_EV_N] =
    {
        /* 8.2.2 Idle: any other event is ignored. */
        [BGP_IDLE] =
            {
                [BGP_EV_MANUAL_START] = CELL(IDLE, CONNECT, START_CONN, CRC_ZERO),
                [BGP_EV_AUTO_START] = CELL(IDLE, CONNECT, START_CONN, CRC_ZERO),
                [BGP_EV_MANUAL_START_PASSIVE] = CELL(IDLE, ACTIVE, START_ACTIVE, CRC_ZERO),
                [BGP_EV_AUTO_START_PASSIVE] = CELL(IDLE, ACTIVE, START_ACTIVE, CRC_ZERO),
                /* deviation: the damping hold-down ends in an AutomaticStart */
                [BGP_EV_IDLE_HOLD_EXPIRES] = CELL(IDLE, CONNECT, START_CONN, CRC_KEEP),
            },
        /* 8.2.2 Connect */
        [BGP_CONNECT] =
            {
                [BGP_EV_MANUAL_START] = IGNORE(CONNECT),
                [BGP_EV_AUTO_START] = IGNORE(CONNECT),
                [BGP_EV_MANUAL_START_PASSIVE] = IGNORE(CONNECT),
                [BGP_EV_AUTO_START_PASSIVE] = IGNORE(CONNECT),
                [BGP_EV_MANUAL_STOP] = CELL(CONNECT, IDLE, GO_IDLE, CRC_ZERO),
                [BGP_EV_CONNECT_RETRY_EXPIRES] =
                    CELL(CONNECT, CONNECT, A(DROP) | A(CRT_START) | A(CONNECT), CRC_KEEP),
                [BGP_EV_TCP_CR_INVALID] = IGNORE(CONNECT),
                [BGP_EV_TCP_CR_ACKED] = CELL(CONNECT, OPENSENT, TO_OPENSENT, CRC_KEEP),
                [BGP_EV_TCP_CONFIRMED] = CELL(CONNECT, OPENSENT, TO_OPENSENT, CRC_KEEP),
                /* the RFC neither counts nor damps here; DAMP restarts the session */
                [BGP_EV_TCP_FAILS] = CELL(CONNECT, IDLE, FAIL_IDLE, CRC_KEEP),
                [BGP_EV_HEADER_ERR] = CELL(CONNECT, IDLE, FAIL_IDLE, CRC_INC),
                [BGP_EV_OPEN_ERR] = CELL(CONNECT, IDLE, FAIL_IDLE, CRC_INC),
                [BGP_EV_NOTIF_VER_ERR] = CELL(CONNECT, IDLE, FAIL_IDLE, CRC_INC),
            },
        /* 8.2.2 Active */
        [BGP_ACTIVE] =
            {
                [BGP_EV_MANUAL_START] = IGNORE(ACTIVE),
                [BGP_EV_AUTO_START] = IGNORE(ACTIVE),
                [BGP_EV_MANUAL_START_PASSIVE] = IGNORE(ACTIVE),
                [BGP_EV_AUTO_START_PASSIVE] = IGNORE(ACTIVE),
                [BGP_EV_MANUAL_STOP] = CELL(ACTIVE, IDLE, GO_IDLE, CRC_ZERO),
                [BGP_EV_CONNECT_RETRY_EXPIRES] =
                    CELL(ACTIVE, CONNECT, A(CRT_START) | A(CONNECT), CRC_KEEP),
                [BGP_EV_TCP_CR_INVALID] = IGNORE(ACTIVE),
                [BGP_EV_TCP_CR_ACKED] = CELL(ACTIVE, OPENSENT, TO_OPENSENT, CRC_KEEP),
                [BGP_EV_TCP_CONFIRMED] = CELL(ACTIVE, OPENSENT, TO_OPENSENT, CRC_KEEP),
                [BGP_EV_TCP_FAILS] = CELL(ACTIVE, IDLE, FAIL_IDLE, CRC_INC),
                [BGP_EV_HEADER_ERR] = CELL(ACTIVE, IDLE, FAIL_IDLE, CRC_INC),
                [BGP_EV_OPEN_ERR] = CELL(ACTIVE, IDLE, FAIL_IDLE, CRC_INC),
                [BGP_EV_NOTIF_VER_ERR] = CELL(ACTIVE, IDLE, FAIL_IDLE, CRC_INC),
            },
        /* 8.2.2 OpenSent */
        [BGP_OPENSENT] =
            {
                [BGP_EV_MANUAL_START] = IGNORE(OPENSENT),
                [BGP_EV_AUTO_START] = IGNORE(OPENSENT),
                [BGP_EV_MANUAL_START_PASSIVE] = IGNORE(OPENSENT),
                [BGP_EV_AUTO_START_PASSIVE] = IGNORE(OPENSENT),
                [BGP_EV_MANUAL_STOP] = NCELL(OPENSENT, IDLE, BGP_NK_CEASE, GO_IDLE, CRC_ZERO),
                [BGP_EV_AUTO_STOP] = NCELL(OPENSENT, IDLE, BGP_NK_CEASE, FAIL_IDLE, CRC_INC),
                [BGP_EV_HOLD_EXPIRES] = NCELL(OPENSENT, IDLE, BGP_NK_HOLD, FAIL_IDLE, CRC_INC),
                [BGP_EV_TCP_CR_INVALID] = IGNORE(OPENSENT),
                [BGP_EV_TCP_CR_ACKED] = CELL(OPENSENT, OPENSENT, A(SECOND), CRC_KEEP),
                [BGP_EV_TCP_CONFIRMED] = CELL(OPENSENT, OPENSENT, A(SECOND), CRC_KEEP),
                /* "closes the BGP connection, restarts the ConnectRetryTimer,
                 * continues to listen" */
                [BGP_EV_TCP_FAILS] = CELL(OPENSENT, ACTIVE, A(DROP) | A(CRT_START), CRC_KEEP),
                [BGP_EV_OPEN] =
                    CELL(OPENSENT, OPENCONFIRM,
                         A(CRT_STOP) | A(SEND_KA) | A(KA_START) | A(HOLD_START), CRC_KEEP),
                [BGP_EV_HEADER_ERR] = NCELL(OPENSENT, IDLE, BGP_NK_ERR, FAIL_IDLE, CRC_INC),
                [BGP_EV_OPEN_ERR] = NCELL(OPENSENT, IDLE, BGP_NK_ERR, FAIL_IDLE, CRC_INC),
                [BGP_EV_COLLISION_DUMP] =
                    NCELL(OPENSENT, IDLE, BGP_NK_COLLISION, FAIL_IDLE, CRC_INC),
                /* the RFC neither counts nor damps here; DAMP restarts the session */
                [BGP_EV_NOTIF_VER_ERR] = CELL(OPENSENT, IDLE, FAIL_IDLE, CRC_KEEP),
                /* deviation: no FSM Error in answer to a NOTIFICATION */
                [BGP_EV_NOTIF] = CELL(OPENSENT, IDLE, FAIL_IDLE, CRC_INC),
            },
        /* 8.2.2 OpenConfirm */
        [BGP_OPENCONFIRM] =
            {
                [BGP_EV_MANUAL_START] = IGNORE(OPENCONFIRM),
                [BGP_EV_AUTO_START] = IGNORE(OPENCONFIRM),
                [BGP_EV_MANUAL_START_PASSIVE] = IGNORE(OPENCONFIRM),
                [BGP_EV_AUTO_START_PASSIVE] = IGNORE(OPENCONFIRM),
                [BGP_EV_MANUAL_STOP] = NCELL(OPENCONFIRM, IDLE, BGP_NK_CEASE, GO_IDLE, CRC_ZERO),
                [BGP_EV_AUTO_STOP] = NCELL(OPENCONFIRM, IDLE, BGP_NK_CEASE, FAIL_IDLE, CRC_INC),
                [BGP_EV_HOLD_EXPIRES] = NCELL(OPENCONFIRM, IDLE, BGP_NK_HOLD, FAIL_IDLE, CRC_INC),
                [BGP_EV_KEEPALIVE_EXPIRES] =
                    CELL(OPENCONFIRM, OPENCONFIRM, A(SEND_KA) | A(KA_START), CRC_KEEP),
                [BGP_EV_TCP_CR_INVALID] = IGNORE(OPENCONFIRM),
                [BGP_EV_TCP_CR_ACKED] = CELL(OPENCONFIRM, OPENCONFIRM, A(SECOND), CRC_KEEP),
                [BGP_EV_TCP_CONFIRMED] = CELL(OPENCONFIRM, OPENCONFIRM, A(SECOND), CRC_KEEP),
                [BGP_EV_TCP_FAILS] = CELL(OPENCONFIRM, IDLE, FAIL_IDLE, CRC_INC),
                [BGP_EV_NOTIF_VER_ERR] = CELL(OPENCONFIRM, IDLE, FAIL_IDLE, CRC_INC),
                [BGP_EV_NOTIF] = CELL(OPENCONFIRM, IDLE, FAIL_IDLE, CRC_INC),
                [BGP_EV_HEADER_ERR] = NCELL(OPENCONFIRM, IDLE, BGP_NK_ERR, FAIL_IDLE, CRC_INC),
                [BGP_EV_OPEN_ERR] = NCELL(OPENCONFIRM, IDLE, BGP_NK_ERR, FAIL_IDLE, CRC_INC),
                [BGP_EV_COLLISION_DUMP] =
                    NCELL(OPENCONFIRM, IDLE, BGP_NK_COLLISION, FAIL_IDLE, CRC_INC),
                [BGP_EV_KEEPALIVE] =
                    CELL(OPENCONFIRM, ESTABLISHED, A(HOLD_START) | A(UP), CRC_KEEP),
            },
        /* 8.2.2 Established */
        [BGP_ESTABLISHED] =
            {
                [BGP_EV_MANUAL_START] = IGNORE(ESTABLISHED),
                [BGP_EV_AUTO_START] = IGNORE(ESTABLISHED),
                [BGP_EV_MANUAL_START_PASSIVE] = IGNORE(ESTABLISHED),
                [BGP_EV_AUTO_START_PASSIVE] = IGNORE(ESTABLISHED),
                [BGP_EV_MANUAL_STOP] = NCELL(ESTABLISHED, IDLE, BGP_NK_CEASE,
                                             GO_IDLE | A(DELETE_ROUTES) | A(DOWN), CRC_ZERO),
                [BGP_EV_AUTO_STOP] = NCELL(ESTABLISHED, IDLE, BGP_NK_CEASE, EST_FAIL, CRC_INC),
                [BGP_EV_HOLD_EXPIRES] = NCELL(ESTABLISHED, IDLE, BGP_NK_HOLD, EST_FAIL, CRC_INC),
                [BGP_EV_KEEPALIVE_EXPIRES] =
                    CELL(ESTABLISHED, ESTABLISHED, A(SEND_KA) | A(KA_START), CRC_KEEP),
                [BGP_EV_TCP_CR_INVALID] = IGNORE(ESTABLISHED),
                [BGP_EV_TCP_CR_ACKED] = CELL(ESTABLISHED, ESTABLISHED, A(SECOND), CRC_KEEP),
                [BGP_EV_TCP_CONFIRMED] = CELL(ESTABLISHED, ESTABLISHED, A(SECOND), CRC_KEEP),
                [BGP_EV_COLLISION_DUMP] =
                    NCELL(ESTABLISHED, IDLE, BGP_NK_COLLISION, EST_FAIL, CRC_INC),
                [BGP_EV_TCP_FAILS] = CELL(ESTABLISHED, IDLE, EST_FAIL, CRC_INC),
                [BGP_EV_NOTIF_VER_ERR] = CELL(ESTABLISHED, IDLE, EST_FAIL, CRC_INC),
                [BGP_EV_NOTIF] = CELL(ESTABLISHED, IDLE, EST_FAIL, CRC_INC),
                [BGP_EV_KEEPALIVE] = CELL(ESTABLISHED, ESTABLISHED, A(HOLD_START), CRC_KEEP),
                [BGP_EV_UPDATE] =
                    CELL(ESTABLISHED, ESTABLISHED, A(PROCESS) | A(HOLD_START), CRC_KEEP),
                [BGP_EV_ROUTE_REFRESH] =
                    CELL(ESTABLISHED, ESTABLISHED, A(PROCESS) | A(HOLD_START), CRC_KEEP),
                [BGP_EV_UPDATE_ERR] = NCELL(ESTABLISHED, IDLE, BGP_NK_ERR, EST_FAIL, CRC_INC),
                /* deviation: the error they carry (RFC 4271 6.1, 6.2) */
                [BGP_EV_HEADER_ERR] = NCELL(ESTABLISHED, IDLE, BGP_NK_ERR, EST_FAIL, CRC_INC),
                [BGP_EV_OPEN_ERR] = NCELL(ESTABLISHED, IDLE, BGP_NK_ERR, EST_FAIL, CRC_INC),
            },
};

/* "In response to any other event" of each state. */
static const struct cell other_row[BGP_STATE_N] = {
    [BGP_IDLE] = IGNORE(IDLE),
    [BGP_CONNECT] = CELL(CONNECT, IDLE, FAIL_IDLE, CRC_INC),
    [BGP_ACTIVE] = CELL(ACTIVE, IDLE, FAIL_IDLE, CRC_INC),
    [BGP_OPENSENT] = NCELL(OPENSENT, IDLE, BGP_NK_FSM, FAIL_IDLE, CRC_INC),
    [BGP_OPENCONFIRM] = NCELL(OPENCONFIRM, IDLE, BGP_NK_FSM, FAIL_IDLE, CRC_INC),
    [BGP_ESTABLISHED] = NCELL(ESTABLISHED, IDLE, BGP_NK_FSM, EST_FAIL, CRC_INC),
};

static bool
implemented(uint8_t ev)
{
	switch (ev) {
	case 6:  /* AutomaticStart_with_DampPeerOscillations */
	case 7:  /* ... and PassiveTcpEstablishment */
	case 12: /* DelayOpenTimer_Expires */
	case 14: /* TcpConnection_Valid */
	case 20: /* BGPOpen with DelayOpenTimer running */
		return false;
	}
	return ev >= BGP_EV_MANUAL_START && ev < BGP_EV_N;
}

static bool
is_message(uint8_t ev)
{
	return ev >= BGP_EV_OPEN && ev != BGP_EV_COLLISION_DUMP;
}

void
bgp_fsm_init(struct bgp_fsm *f, bool passive)
{
	f->state = BGP_IDLE;
	f->passive = passive;
	f->hold = 0;
	f->connect_retry_count = 0;
}

/*
 * The transitions (only the main ones; every cell is in the table above):
 *
 *                      ManualStop (from any state: Cease once TCP is up)
 *        +---------------------------------------------------------------+
 *        v                                                               |
 *   +--------+ Start           +---------+ Tcp_CR_Acked      +----------+|
 *   |  Idle  |---------------->| Connect |------------------>| OpenSent ||
 *   +--------+                 +---------+   (send OPEN)     +----------+|
 *     |  ^  ^ Start/passive     | ConnectRetry  ^   ^ TcpConnectionConfirmed
 *     |  |  |                   v   expires     |   |  BGPOpen (send KEEPALIVE)
 *     |  |  |                 +--------+        |   |        v            |
 *     |  |  +-----------------| Active |--------+   |  +-------------+    |
 *     |  |      errors        +--------+  ConnectRetry | OpenConfirm |----+
 *     |  |                        ^   (passive: stays) +-------------+
 *     |  |                        | TcpConnectionFails       | KeepAliveMsg
 *     |  |                        +--------- OpenSent        v
 *     |  |  errors, HoldTimer, NOTIFICATION,          +-------------+
 *     |  +--------------------------------------------| Established |<-+
 *     |     collision dump, AutomaticStop (max-prefix) +-------------+  |
 *     |                                                  |  KeepAlive, |
 *     +-- IdleHoldTimer_Expires: AutomaticStart          +--UPDATE, ---+
 *         (after BGP_ACT_DAMP)                              KeepaliveTimer
 *
 * bgp_fsm_step looks the cell up (the state's "any other event" row when the
 * table has none), applies the passive override and the zero hold time,
 * updates the ConnectRetryCounter and answers the actions.
 */
int
bgp_fsm_step(struct bgp_fsm *f, uint8_t ev, struct bgp_fsm_out *out)
{
	static const uint8_t fsm_sub[BGP_STATE_N] = {
	    [BGP_OPENSENT] = BGP_FSM_IN_OPENSENT,
	    [BGP_OPENCONFIRM] = BGP_FSM_IN_OPENCONFIRM,
	    [BGP_ESTABLISHED] = BGP_FSM_IN_ESTABLISHED,
	};
	struct cell c;

	out->from = out->to = f->state;
	out->act = 0;
	out->notify = BGP_NK_NONE;
	out->code = out->subcode = 0;
	if (!implemented(ev) || f->state >= BGP_STATE_N)
		return -EINVAL;
	c = table[f->state][ev];
	if (!c.valid)
		c = other_row[f->state];
	if (f->passive && (c.act & BGP_ACT_CONNECT)) {
		c.act &= ~(uint32_t)BGP_ACT_CONNECT;
		if (c.to == BGP_CONNECT)
			c.to = BGP_ACTIVE;
	}
	if (f->hold == 0 && c.to >= BGP_OPENCONFIRM)
		c.act &= ~(uint32_t)(BGP_ACT_HOLD_START | BGP_ACT_KA_START);
	if (c.crc == CRC_ZERO)
		f->connect_retry_count = 0;
	else if (c.crc == CRC_INC)
		f->connect_retry_count++;
	if (c.act & BGP_ACT_SEND_NOTIFY) {
		out->notify = c.notify;
		switch (c.notify) {
		case BGP_NK_HOLD:
			out->code = BGP_ERR_HOLD;
			break;
		case BGP_NK_FSM:
			out->code = BGP_ERR_FSM;
			out->subcode = is_message(ev) ? fsm_sub[f->state] : BGP_SUB_UNSPECIFIC;
			break;
		case BGP_NK_COLLISION:
			out->code = BGP_ERR_CEASE;
			out->subcode = BGP_CEASE_COLLISION;
			break;
		case BGP_NK_CEASE:
			out->code = BGP_ERR_CEASE;
			break;
		}
	}
	if (c.to == BGP_IDLE)
		f->hold = 0;
	f->state = c.to;
	out->to = c.to;
	out->act = c.act;
	return 0;
}

bool
bgp_collision_keep_outgoing(uint32_t local_id, uint32_t local_as, uint32_t remote_id,
                            uint32_t remote_as)
{
	if (local_id != remote_id)
		return local_id > remote_id;
	return local_as > remote_as;
}

const char *
bgp_state_name(uint8_t state)
{
	static const char *const names[BGP_STATE_N] = {
	    "Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established",
	};
	return state < BGP_STATE_N ? names[state] : "?";
}

const char *
bgp_event_name(uint8_t ev)
{
	static const char *const names[BGP_EV_N] = {
	    [BGP_EV_MANUAL_START] = "ManualStart",
	    [BGP_EV_MANUAL_STOP] = "ManualStop",
	    [BGP_EV_AUTO_START] = "AutomaticStart",
	    [BGP_EV_MANUAL_START_PASSIVE] = "ManualStart_with_PassiveTcpEstablishment",
	    [BGP_EV_AUTO_START_PASSIVE] = "AutomaticStart_with_PassiveTcpEstablishment",
	    [BGP_EV_AUTO_STOP] = "AutomaticStop",
	    [BGP_EV_CONNECT_RETRY_EXPIRES] = "ConnectRetryTimer_Expires",
	    [BGP_EV_HOLD_EXPIRES] = "HoldTimer_Expires",
	    [BGP_EV_KEEPALIVE_EXPIRES] = "KeepaliveTimer_Expires",
	    [BGP_EV_IDLE_HOLD_EXPIRES] = "IdleHoldTimer_Expires",
	    [BGP_EV_TCP_CR_INVALID] = "Tcp_CR_Invalid",
	    [BGP_EV_TCP_CR_ACKED] = "Tcp_CR_Acked",
	    [BGP_EV_TCP_CONFIRMED] = "TcpConnectionConfirmed",
	    [BGP_EV_TCP_FAILS] = "TcpConnectionFails",
	    [BGP_EV_OPEN] = "BGPOpen",
	    [BGP_EV_HEADER_ERR] = "BGPHeaderErr",
	    [BGP_EV_OPEN_ERR] = "BGPOpenMsgErr",
	    [BGP_EV_COLLISION_DUMP] = "OpenCollisionDump",
	    [BGP_EV_NOTIF_VER_ERR] = "NotifMsgVerErr",
	    [BGP_EV_NOTIF] = "NotifMsg",
	    [BGP_EV_KEEPALIVE] = "KeepAliveMsg",
	    [BGP_EV_UPDATE] = "UpdateMsg",
	    [BGP_EV_UPDATE_ERR] = "UpdateMsgErr",
	    [BGP_EV_ROUTE_REFRESH] = "RouteRefreshMsg",
	};
	return ev < BGP_EV_N && names[ev] ? names[ev] : "?";
}
