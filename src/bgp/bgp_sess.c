/*
 * bgp_sess.c - the session: turns socket callbacks, timers and messages
 * into FSM events (bgp_fsm.h), carries out the actions the table answers,
 * and resolves connection collisions.
 *
 * Connections. A peer always has its primary connection (an FSM, with or
 * without a TCP socket). An incoming connection becomes the primary's when
 * the primary is in Active; otherwise (Connect, OpenSent, OpenConfirm,
 * Established) it gets a second connection of its own, which sends its OPEN
 * like the first: RFC 4271 6.8 tracks both until an OPEN arrives. When an
 * OPEN is received and the other connection is in OpenConfirm, the one
 * initiated by the side with the higher BGP Identifier stays
 * (bgp_collision_keep_outgoing), the other gets OpenCollisionDump. Against an
 * Established session the new connection is dumped, except when the peer
 * negotiated graceful restart: then the new OPEN means the peer restarted
 * (RFC 4724 4.2) and the old session ends as if its TCP connection failed.
 * An Idle connection beside a live one is disposed; an Established one makes
 * a sibling that has exchanged nothing pointless (disposed too).
 *
 * Idle. A connection that falls to Idle for any reason but a stop asks for
 * the IdleHoldTimer (BGP_ACT_DAMP): restart_ms after an error, doubled for
 * each failure since the session was last Established (up to 32 times, at
 * most 60 s: RFC 4271 8.1.1's DampPeerOscillations in its simplest form),
 * the configured hold-down after a maximum-prefix Cease; then
 * IdleHoldTimer_Expires starts it again. While the peer is Idle, incoming
 * connections are closed at once (RFC 4271 8.2.2: Idle refuses them).
 *
 * Reported state: the higher of the peer's connections, so a collision does
 * not show as a flap.
 */
#include "bgp/bgp_sess.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void
conn_closed(uv_handle_t *h)
{
	struct bgp_conn *c = h->data;
	struct bgp_speaker *spk = c->spk;
	if (--c->handles > 0)
		return;
	free(c);
	bgp_obj_gone(spk);
}

static void
on_crt(uv_timer_t *t)
{
	bgp_sess_event(t->data, BGP_EV_CONNECT_RETRY_EXPIRES, NULL);
}

static void
on_hold(uv_timer_t *t)
{
	struct bgp_conn *c = t->data;
	c->peer->down_reason = "hold timer expired";
	bgp_sess_event(c, BGP_EV_HOLD_EXPIRES, NULL);
}

static void
on_ka(uv_timer_t *t)
{
	bgp_sess_event(t->data, BGP_EV_KEEPALIVE_EXPIRES, NULL);
}

struct bgp_conn *
bgp_conn_new(struct bgp_peer *p)
{
	struct bgp_conn *c = lib_xcalloc(1, sizeof(*c));
	uv_loop_t *loop = p->spk->loop;

	c->peer = p;
	c->spk = p->spk;
	bgp_fsm_init(&c->fsm, p->cfg.passive);
	uv_timer_init(loop, &c->t_crt);
	uv_timer_init(loop, &c->t_hold);
	uv_timer_init(loop, &c->t_ka);
	c->t_crt.data = c->t_hold.data = c->t_ka.data = c;
	c->handles = 3;
	p->spk->live++;
	return c;
}

void
bgp_conn_dispose(struct bgp_conn *c)
{
	if (!c || c->disposed)
		return;
	c->disposed = true;
	if (c->sock)
		bgp_sock_close(c->sock, true);
	uv_close((uv_handle_t *)&c->t_crt, conn_closed);
	uv_close((uv_handle_t *)&c->t_hold, conn_closed);
	uv_close((uv_handle_t *)&c->t_ka, conn_closed);
}

uint8_t
bgp_peer_vis_state(const struct bgp_peer *p)
{
	uint8_t s = p->conn ? p->conn->fsm.state : BGP_IDLE;
	if (p->conn2 && p->conn2->fsm.state > s)
		s = p->conn2->fsm.state;
	return s;
}

/* ---- sending ------------------------------------------------------------------- */
void
bgp_sess_send(struct bgp_conn *c, const uint8_t *msg, size_t len)
{
	struct bgp_peer *p = c->peer;
	uint8_t type = msg[BGP_MARKER_LEN + 2];

	if (!c->sock)
		return;
	bgp_sock_send(c->sock, msg, len);
	p->st.msgs_out++;
	if (type < LIB_ARRAY_LEN(p->st.out_type))
		p->st.out_type[type]++;
	/* "Each time the local system sends a KEEPALIVE or UPDATE message, it
	 * restarts its KeepaliveTimer, unless the negotiated HoldTime value is
	 * zero." (RFC 4271 8.2.2) */
	if ((type == BGP_KEEPALIVE || type == BGP_UPDATE) && c->fsm.state >= BGP_OPENCONFIRM &&
	    c->fsm.hold)
		uv_timer_start(&c->t_ka, on_ka, (uint64_t)bgp_keepalive_time(c->fsm.hold) * 1000,
		               0);
}

static void
notice_fill(struct bgp_notice *n, uint8_t code, uint8_t subcode, const uint8_t *data, size_t len,
            uint64_t now)
{
	memset(n, 0, sizeof(*n));
	n->valid = true;
	n->code = code;
	n->subcode = subcode;
	n->len = (uint16_t)len;
	if (len)
		memcpy(n->data, data, len < sizeof(n->data) ? len : sizeof(n->data));
	n->at_ms = now;
	/* RFC 9003: Administrative Shutdown / Reset carry u8 length + UTF-8 */
	if (code == BGP_ERR_CEASE &&
	    (subcode == BGP_CEASE_ADMIN_SHUTDOWN || subcode == BGP_CEASE_ADMIN_RESET) && len > 0 &&
	    data[0] + 1u <= len && bgp_utf8_valid(data + 1, data[0])) {
		memcpy(n->text, data + 1, data[0]);
		n->text[data[0]] = 0;
	}
}

static void
send_notify(struct bgp_conn *c, const struct bgp_fsm_out *o)
{
	struct bgp_peer *p = c->peer;
	struct bgp_speaker *spk = p->spk;
	struct bgp_wr w = bgp_wr_make(spk->tx, sizeof(spk->tx));
	uint8_t code = o->code, sub = o->subcode;
	const uint8_t *data = NULL;
	size_t len = 0;

	if (o->notify == BGP_NK_CEASE && p->stop.code) {
		sub = p->stop.subcode;
		data = bgp_err_data(&p->stop);
		len = p->stop.len;
	} else if (o->notify == BGP_NK_ERR && c->err) {
		code = c->err->code;
		sub = c->err->subcode;
		data = bgp_err_data(c->err);
		len = c->err->len;
	}
	if (bgp_notify_encode(&w, code, sub, data, len) != 0)
		return;
	bgp_log(p, code == BGP_ERR_CEASE ? 2 : 1, "sending NOTIFICATION %u/%u (%s / %s)", code, sub,
	        bgp_err_code_name(code), bgp_err_subcode_name(code, sub));
	bgp_sess_send(c, w.p, w.len);
	notice_fill(&p->st.last_sent, code, sub, data, len, uv_now(spk->loop));
}

static void
send_open(struct bgp_conn *c)
{
	struct bgp_speaker *spk = c->peer->spk;
	struct bgp_wr w = bgp_wr_make(spk->tx, sizeof(spk->tx));
	if (bgp_open_encode(&w, &c->peer->open) == 0)
		bgp_sess_send(c, w.p, w.len);
}

static void
send_keepalive(struct bgp_conn *c)
{
	uint8_t m[BGP_KEEPALIVE_LEN];
	struct bgp_wr w = bgp_wr_make(m, sizeof(m));
	bgp_keepalive_encode(&w);
	bgp_sess_send(c, m, w.len);
}

/* ---- the session going up and down ------------------------------------------------ */
static void
session_up(struct bgp_conn *c)
{
	struct bgp_peer *p = c->peer;
	uint64_t now = uv_now(p->spk->loop);

	p->st.established_at_ms = now ? now : 1;
	p->st.established_count++;
	p->holddown = false;
	p->fails = 0;
	bgp_log(p, 2, "established: AS %u, id %u.%u.%u.%u, hold %u s", c->remote_as,
	        c->remote_id >> 24, (c->remote_id >> 16) & 0xff, (c->remote_id >> 8) & 0xff,
	        c->remote_id & 0xff, c->params.hold);
	bgp_recv_up(p, c);
	bgp_adv_up(p);
}

static void
session_down(struct bgp_conn *c)
{
	struct bgp_peer *p = c->peer;
	p->st.established_at_ms = 0;
	bgp_adv_down(p);
}

static void
run_actions(struct bgp_conn *c, uint8_t ev, const struct bgp_fsm_out *o)
{
	struct bgp_peer *p = c->peer;
	uint32_t a = o->act;

	if (a & BGP_ACT_INIT)
		c->got_open = false;
	if (a & BGP_ACT_SEND_NOTIFY)
		send_notify(c, o);
	if (a & BGP_ACT_DELETE_ROUTES)
		bgp_recv_down(p, c, ev == BGP_EV_TCP_FAILS || p->stop_graceful);
	if (a & BGP_ACT_CRT_STOP)
		uv_timer_stop(&c->t_crt);
	if (a & BGP_ACT_CRT_START)
		uv_timer_start(&c->t_crt, on_crt, p->cfg.connect_retry_ms, 0);
	if (a & BGP_ACT_DROP) {
		uv_timer_stop(&c->t_hold);
		uv_timer_stop(&c->t_ka);
		if (c->sock)
			bgp_sock_close(c->sock, (a & BGP_ACT_SEND_NOTIFY) != 0);
	}
	if (a & BGP_ACT_RELEASE)
		c->got_open = false;
	if ((a & BGP_ACT_CONNECT) && !c->sock)
		bgp_sock_connect(c); /* a failure waits for the ConnectRetryTimer */
	if (a & BGP_ACT_SEND_OPEN)
		send_open(c);
	if (a & BGP_ACT_HOLD_LARGE)
		uv_timer_start(&c->t_hold, on_hold, BGP_HOLD_LARGE * 1000ull, 0);
	if (a & BGP_ACT_SEND_KA)
		send_keepalive(c);
	if (a & BGP_ACT_HOLD_START)
		uv_timer_start(&c->t_hold, on_hold, c->fsm.hold * 1000ull, 0);
	if (a & BGP_ACT_KA_START)
		uv_timer_start(&c->t_ka, on_ka, bgp_keepalive_time(c->fsm.hold) * 1000ull, 0);
	if (a & BGP_ACT_PROCESS) {
		if (c->upd)
			bgp_recv_update(c, c->upd);
		else if (c->rr)
			bgp_adv_refresh(c, c->rr);
	}
	if (a & BGP_ACT_DAMP)
		c->damp = true;
	if (a & BGP_ACT_UP)
		session_up(c);
	if (a & BGP_ACT_DOWN)
		session_down(c);
}

/* Why the connection went Idle, for the state change and last_error. */
static void
note_down(struct bgp_conn *c, uint8_t ev, const struct bgp_fsm_out *o)
{
	struct bgp_peer *p = c->peer;
	char *e = p->st.last_error;
	size_t n = sizeof(p->st.last_error);

	if (o->act & BGP_ACT_SEND_NOTIFY) {
		const struct bgp_notice *s = &p->st.last_sent;
		snprintf(e, n, "sent NOTIFICATION %u/%u (%s / %s)%s%.100s%s", s->code, s->subcode,
		         bgp_err_code_name(s->code), bgp_err_subcode_name(s->code, s->subcode),
		         s->text[0] ? ": \"" : "", s->text, s->text[0] ? "\"" : "");
		p->ev_notice = s;
		p->ev_notice_sent = true;
	} else if (ev == BGP_EV_NOTIF || ev == BGP_EV_NOTIF_VER_ERR) {
		const struct bgp_notice *r = &p->st.last_rcvd;
		snprintf(e, n, "received NOTIFICATION %u/%u (%s / %s)%s%.100s%s", r->code,
		         r->subcode, bgp_err_code_name(r->code),
		         bgp_err_subcode_name(r->code, r->subcode), r->text[0] ? ": \"" : "",
		         r->text, r->text[0] ? "\"" : "");
		p->ev_notice = r;
		p->ev_notice_sent = false;
	} else if (ev == BGP_EV_TCP_FAILS && o->from != BGP_CONNECT) {
		snprintf(e, n, "%s", p->down_reason ? p->down_reason : "connection failed");
	} else if (ev == BGP_EV_MANUAL_STOP) {
		snprintf(e, n, "stopped");
	}
	p->ev_reason = e;
}

void
bgp_sess_event(struct bgp_conn *c, uint8_t ev, const struct bgp_err *err)
{
	struct bgp_peer *p = c->peer;
	struct bgp_fsm_out o;
	uint8_t next;

	if (c->disposed)
		return;
	c->err = err;
	if (bgp_fsm_step(&c->fsm, ev, &o) != 0)
		return;
	if (o.from != o.to)
		bgp_log(p, 3, "%s: %s -> %s%s", bgp_event_name(ev), bgp_state_name(o.from),
		        bgp_state_name(o.to), c == p->conn ? "" : " (second connection)");
	run_actions(c, ev, &o);
	c->err = NULL;
	if (o.to == BGP_IDLE && o.from != BGP_IDLE)
		note_down(c, ev, &o);
	if (c->fsm.state == BGP_IDLE)
		memset(&p->stop, 0, sizeof(p->stop));
	p->down_reason = NULL;
	bgp_peer_settle(p);
	next = c->next_ev;
	c->next_ev = 0;
	if (next && !c->disposed)
		bgp_sess_event(c, next, NULL);
}

static uint32_t
restart_backoff(uint32_t base, uint32_t fails)
{
	uint64_t ms = (uint64_t)base << (fails < 5 ? fails : 5);
	return ms > 60000 && base <= 60000 ? 60000 : (uint32_t)ms;
}

static void
on_idle(uv_timer_t *t)
{
	struct bgp_peer *p = t->data;
	p->holddown = false;
	if (!p->removed && !p->admin_down && p->conn->fsm.state == BGP_IDLE)
		bgp_sess_event(p->conn, BGP_EV_IDLE_HOLD_EXPIRES, NULL);
}

void
bgp_peer_settle(struct bgp_peer *p)
{
	struct bgp_state_change ch;
	uint8_t vis;

	if (p->conn2 && p->conn2->fsm.state == BGP_IDLE) {
		bgp_conn_dispose(p->conn2);
		p->conn2 = NULL;
	}
	if (p->conn2 && p->conn->fsm.state == BGP_IDLE) {
		struct bgp_conn *old = p->conn;
		if (p->holddown) { /* a maximum-prefix hold-down: nothing comes up */
			bgp_conn_dispose(p->conn2);
		} else {
			p->conn = p->conn2;
			old->damp = false;
			bgp_conn_dispose(old);
			uv_timer_stop(&p->t_idle);
		}
		p->conn2 = NULL;
	}
	if (p->conn2 && p->conn2->fsm.state == BGP_ESTABLISHED) {
		struct bgp_conn *t = p->conn; /* the Established one is the primary */
		p->conn = p->conn2;
		p->conn2 = t;
	}
	if (p->conn2 && p->conn->fsm.state == BGP_ESTABLISHED &&
	    p->conn2->fsm.state <= BGP_ACTIVE) {
		bgp_conn_dispose(p->conn2);
		p->conn2 = NULL;
	}
	if (p->conn->fsm.state == BGP_IDLE && p->conn->damp) {
		p->conn->damp = false;
		if (!p->removed && !p->admin_down) {
			uint32_t ms = p->idle_ms_next;
			if (!p->holddown) /* 1x, 2x, 4x ... 32x restart_ms, at most 60 s */
				ms = restart_backoff(p->cfg.restart_ms, p->fails++);
			uv_timer_start(&p->t_idle, on_idle, ms, 0);
			bgp_log(p, p->holddown ? 2 : 3, "idle for %u ms", ms);
		}
		p->idle_ms_next = p->cfg.restart_ms;
	}
	vis = bgp_peer_vis_state(p);
	if (vis != p->vis_state) {
		ch.from = p->vis_state;
		ch.to = vis;
		ch.notice = vis == BGP_IDLE ? p->ev_notice : NULL;
		ch.notice_sent = p->ev_notice_sent;
		ch.reason = vis == BGP_IDLE ? p->ev_reason : NULL;
		p->vis_state = vis;
		if (vis == BGP_ESTABLISHED || ch.from == BGP_ESTABLISHED)
			bgp_log(p, 2, "%s -> %s%s%s", bgp_state_name(ch.from), bgp_state_name(vis),
			        ch.reason ? ": " : "", ch.reason ? ch.reason : "");
		if (p->spk->cfg.on_state && !p->removed)
			p->spk->cfg.on_state(p->spk->cfg.arg, p, &ch);
	}
	p->ev_notice = NULL;
	p->ev_reason = NULL;
}

/* ---- messages ---------------------------------------------------------------------- */
static void
open_policy(const struct bgp_peer *p, struct bgp_open_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->peer_as = p->cfg.remote_as;
	pol->local_as = p->local_as;
	pol->local_id = p->spk->cfg.router_id;
	pol->min_hold = p->cfg.min_hold < 3 ? 3 : p->cfg.min_hold;
	pol->reject_zero_hold = p->cfg.reject_zero_hold;
}

static void
keep_open(struct bgp_conn *c, const struct bgp_open *o)
{
	c->got_open = true;
	c->remote_id = o->id;
	c->remote_as = o->as;
	c->remote_caps = o->caps.has;
	c->gr_flags = o->caps.gr_flags;
	c->gr_time = o->caps.gr_time;
	c->gr_fams = c->gr_fwd = 0;
	for (unsigned i = 0; (o->caps.has & BGP_CAPF_GR) && i < o->caps.n_gr; i++) {
		uint8_t f = bgp_fam_of(o->caps.gr[i].afi, o->caps.gr[i].safi);
		if (f == BGP_FAM_NONE)
			continue;
		c->gr_fams |= (uint8_t)BGP_FAM_BIT(f);
		if (o->caps.gr[i].flags & BGP_GR_AF_FORWARD)
			c->gr_fwd |= (uint8_t)BGP_FAM_BIT(f);
	}
}

/* RFC 4271 6.8: 0 to go on with c, or c was dumped. */
static int
collide(struct bgp_conn *c, const struct bgp_open *o)
{
	struct bgp_peer *p = c->peer;
	struct bgp_conn *other = c == p->conn ? p->conn2 : p->conn;
	struct bgp_conn *loser;
	bool keep_out;

	if (!other || other->disposed)
		return 0;
	if (other->fsm.state == BGP_ESTABLISHED) {
		if (other->params.gr && other->gr_fams) {
			bgp_log(p, 2, "new OPEN while Established: the peer restarted (RFC 4724)");
			p->stop_graceful = true;
			p->down_reason = "the peer restarted";
			bgp_sess_event(other, BGP_EV_TCP_FAILS, NULL);
			p->stop_graceful = false;
			return 0;
		}
		bgp_log(p, 2, "collision with the Established session: closing the new connection");
		bgp_sess_event(c, BGP_EV_COLLISION_DUMP, NULL);
		return -1;
	}
	if (other->fsm.state != BGP_OPENCONFIRM)
		return 0;
	keep_out = bgp_collision_keep_outgoing(p->spk->cfg.router_id, p->local_as, o->id, o->as);
	loser = (c->sock && c->sock->outgoing == keep_out) ? other : c;
	if (c->sock && other->sock && c->sock->outgoing == other->sock->outgoing)
		loser = other; /* two of the peer's (or ours): it gave up the older one */
	bgp_log(p, 2, "collision: keeping the connection %s initiated",
	        keep_out ? "we" : "the peer");
	bgp_sess_event(loser, BGP_EV_COLLISION_DUMP, NULL);
	return loser == c ? -1 : 0;
}

static void
recv_open(struct bgp_conn *c, const uint8_t *msg, size_t len)
{
	struct bgp_peer *p = c->peer;
	struct bgp_open o;
	struct bgp_open_policy pol;
	struct bgp_err e;

	if (c->fsm.state != BGP_OPENSENT) {
		bgp_sess_event(c, BGP_EV_OPEN, NULL); /* unexpected: the table says what */
		return;
	}
	memset(&e, 0, sizeof(e));
	open_policy(p, &pol);
	if (bgp_open_decode(msg, len, &o, &e) != 0 || bgp_open_check(&o, &pol, &e) != 0 ||
	    (p->spk->cfg.on_open && p->spk->cfg.on_open(p->spk->cfg.arg, p, &o, &e) != 0)) {
		bgp_log(p, 1, "OPEN refused: %s", e.why ? e.why : "policy");
		if (!e.code)
			bgp_err_set(&e, BGP_ERR_OPEN, BGP_SUB_UNSPECIFIC, NULL, 0, "refused");
		bgp_sess_event(c, BGP_EV_OPEN_ERR, &e);
		return;
	}
	keep_open(c, &o);
	bgp_params_negotiate(&c->params, &p->open, &o);
	if (collide(c, &o) != 0)
		return;
	c->fsm.hold = c->params.hold;
	bgp_sess_event(c, BGP_EV_OPEN, NULL);
}

static void
recv_notify(struct bgp_conn *c, const uint8_t *msg, size_t len)
{
	struct bgp_peer *p = c->peer;
	struct bgp_notification nt;
	uint8_t ev = BGP_EV_NOTIF;

	if (bgp_notify_decode(msg, len, &nt) != 0)
		return;
	notice_fill(&p->st.last_rcvd, nt.code, nt.subcode, nt.data, nt.len, uv_now(p->spk->loop));
	bgp_log(p, nt.code == BGP_ERR_CEASE ? 2 : 1, "received NOTIFICATION %u/%u (%s / %s)%s%s%s",
	        nt.code, nt.subcode, bgp_err_code_name(nt.code),
	        bgp_err_subcode_name(nt.code, nt.subcode), p->st.last_rcvd.text[0] ? ": \"" : "",
	        p->st.last_rcvd.text, p->st.last_rcvd.text[0] ? "\"" : "");
	if (nt.code == BGP_ERR_OPEN && nt.subcode == BGP_OPEN_BAD_VERSION)
		ev = BGP_EV_NOTIF_VER_ERR;
	bgp_sess_event(c, ev, NULL);
}

static void
recv_update(struct bgp_conn *c, const uint8_t *msg, size_t len)
{
	struct bgp_update u;

	if (c->fsm.state != BGP_ESTABLISHED) {
		bgp_sess_event(c, BGP_EV_UPDATE, NULL);
		return;
	}
	if (bgp_update_decode(&c->params, msg, len, &u) != 0) {
		bgp_log(c->peer, 1, "UPDATE error: %s", u.why ? u.why : u.err.why);
		bgp_sess_event(c, BGP_EV_UPDATE_ERR, &u.err);
		return;
	}
	c->upd = &u;
	bgp_sess_event(c, BGP_EV_UPDATE, NULL);
	c->upd = NULL;
}

static void
recv_rr(struct bgp_conn *c, const uint8_t *msg, size_t len)
{
	struct bgp_rr rr;
	struct bgp_err e;
	int rc;

	if (c->fsm.state != BGP_ESTABLISHED) {
		bgp_sess_event(c, BGP_EV_ROUTE_REFRESH, NULL);
		return;
	}
	rc = bgp_rr_decode(msg, len, &rr, &e);
	if (rc == -ENOENT)
		return; /* RFC 7313 5: unknown subtypes are ignored */
	if (rc != 0) {
		bgp_sess_event(c, BGP_EV_UPDATE_ERR, &e); /* same cell: send the error, reset */
		return;
	}
	c->rr = &rr;
	bgp_sess_event(c, BGP_EV_ROUTE_REFRESH, NULL);
	c->rr = NULL;
}

void
bgp_sess_message(struct bgp_conn *c, uint8_t type, const uint8_t *msg, size_t len)
{
	struct bgp_peer *p = c->peer;

	p->st.msgs_in++;
	if (type < LIB_ARRAY_LEN(p->st.in_type))
		p->st.in_type[type]++;
	switch (type) {
	case BGP_OPEN:
		recv_open(c, msg, len);
		break;
	case BGP_UPDATE:
		recv_update(c, msg, len);
		break;
	case BGP_NOTIFICATION:
		recv_notify(c, msg, len);
		break;
	case BGP_KEEPALIVE:
		bgp_sess_event(c, BGP_EV_KEEPALIVE, NULL);
		break;
	case BGP_ROUTE_REFRESH:
		recv_rr(c, msg, len);
		break;
	}
}

/* ---- connections ------------------------------------------------------------------- */
void
bgp_sess_tcp_up(struct bgp_conn *c)
{
	bgp_sess_event(c, BGP_EV_TCP_CR_ACKED, NULL);
}

static struct bgp_peer *
find_peer(struct bgp_speaker *s, const struct bgp_sock *sock, uint16_t port)
{
	for (struct bgp_peer *p = s->peers; p; p = p->next)
		if (!p->removed && p->cfg.port == port &&
		    ip_addr_cmp(&p->cfg.remote, &sock->remote) == 0 &&
		    ip_addr_cmp(&p->cfg.local, &sock->local) == 0)
			return p;
	return NULL;
}

void
bgp_sess_incoming(struct bgp_speaker *s, struct bgp_sock *sock, uint16_t port)
{
	struct bgp_peer *p = find_peer(s, sock, port);
	struct bgp_conn *c;
	char ra[IP_STRLEN];

	if (!p) {
		ip_addr_fmt(&sock->remote, ra);
		if (s->cfg.on_log) {
			char m[128];
			snprintf(m, sizeof(m), "connection from %s: no such peer", ra);
			s->cfg.on_log(s->cfg.arg, NULL, 1, m);
		}
		bgp_sock_close(sock, false);
		return;
	}
	if (p->admin_down || p->conn->fsm.state == BGP_IDLE) {
		bgp_log(p, 2, "connection refused: the peer is Idle");
		bgp_sock_close(sock, false);
		return;
	}
	if (p->conn->fsm.state == BGP_ACTIVE && !p->conn->sock) {
		c = p->conn;
	} else if (!p->conn2) {
		c = p->conn2 = bgp_conn_new(p);
		c->fsm.state = BGP_ACTIVE; /* a passive start for the second connection */
	} else {
		bgp_log(p, 2, "connection refused: two connections already");
		bgp_sock_close(sock, false);
		return;
	}
	bgp_sock_attach(c, sock);
	bgp_sess_event(c, BGP_EV_TCP_CONFIRMED, NULL);
}
