/*
 * test_bgp_fsm.c - the RFC 4271 8.2.2 state machine (src/bgp/bgp_fsm.c), cell
 * by cell: every implemented event in every state, written out here again
 * from the RFC's paragraphs (not from the implementation's table), with the
 * deviations bgp_fsm.c documents; then the passive override, the zero hold
 * time, the ConnectRetryCounter, RFC 6608 subcodes, whole session walks, and
 * collision resolution (RFC 4271 6.8, RFC 6286 2.3).
 *
 * Action letters: I init, N notify, X delete routes, s ConnectRetryTimer
 * stop, S ConnectRetryTimer start, D drop TCP, R release, C connect, O send
 * OPEN, L hold large, K send KEEPALIVE, H HoldTimer start, k KeepaliveTimer
 * start, P process, 2 second connection, d damp (IdleHoldTimer), U up, W down.
 * Counter: '=' kept, '0' zeroed, '+' incremented.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bgp/bgp_fsm.h"
#include "bgp/bgp_wire.h"

static const uint8_t events[] = {
    BGP_EV_MANUAL_START,
    BGP_EV_MANUAL_STOP,
    BGP_EV_AUTO_START,
    BGP_EV_MANUAL_START_PASSIVE,
    BGP_EV_AUTO_START_PASSIVE,
    BGP_EV_AUTO_STOP,
    BGP_EV_CONNECT_RETRY_EXPIRES,
    BGP_EV_HOLD_EXPIRES,
    BGP_EV_KEEPALIVE_EXPIRES,
    BGP_EV_IDLE_HOLD_EXPIRES,
    BGP_EV_TCP_CR_INVALID,
    BGP_EV_TCP_CR_ACKED,
    BGP_EV_TCP_CONFIRMED,
    BGP_EV_TCP_FAILS,
    BGP_EV_OPEN,
    BGP_EV_HEADER_ERR,
    BGP_EV_OPEN_ERR,
    BGP_EV_COLLISION_DUMP,
    BGP_EV_NOTIF_VER_ERR,
    BGP_EV_NOTIF,
    BGP_EV_KEEPALIVE,
    BGP_EV_UPDATE,
    BGP_EV_UPDATE_ERR,
    BGP_EV_ROUTE_REFRESH,
};
#define NEV (sizeof(events) / sizeof(events[0]))

struct row {
	uint8_t ev, to;
	const char *act;
	uint8_t nk; /* enum bgp_notify_kind */
	char crc;
};

static uint32_t
acts(const char *s)
{
	static const struct {
		char c;
		uint32_t bit;
	} m[] = {
	    {'I', BGP_ACT_INIT},       {'N', BGP_ACT_SEND_NOTIFY}, {'X', BGP_ACT_DELETE_ROUTES},
	    {'s', BGP_ACT_CRT_STOP},   {'S', BGP_ACT_CRT_START},   {'D', BGP_ACT_DROP},
	    {'R', BGP_ACT_RELEASE},    {'C', BGP_ACT_CONNECT},     {'O', BGP_ACT_SEND_OPEN},
	    {'L', BGP_ACT_HOLD_LARGE}, {'K', BGP_ACT_SEND_KA},     {'H', BGP_ACT_HOLD_START},
	    {'k', BGP_ACT_KA_START},   {'P', BGP_ACT_PROCESS},     {'2', BGP_ACT_SECOND},
	    {'d', BGP_ACT_DAMP},       {'U', BGP_ACT_UP},          {'W', BGP_ACT_DOWN},
	};
	uint32_t a = 0;
	for (; *s; s++) {
		size_t i;
		for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
			if (m[i].c == *s)
				break;
		if (i == sizeof(m) / sizeof(m[0]))
			fail_msg("bad action letter '%c'", *s);
		a |= m[i].bit;
	}
	return a;
}

enum {
	I_ = BGP_IDLE,
	CN = BGP_CONNECT,
	AC = BGP_ACTIVE,
	OS = BGP_OPENSENT,
	OC = BGP_OPENCONFIRM,
	ES = BGP_ESTABLISHED
};
enum {
	NO = BGP_NK_NONE,
	CE = BGP_NK_CEASE,
	HO = BGP_NK_HOLD,
	FS = BGP_NK_FSM,
	ER = BGP_NK_ERR,
	CO = BGP_NK_COLLISION
};

/* ---- the RFC, state by state ---------------------------------------------- */

/* Idle: the starts; "any other event ... does not cause change". The
 * IdleHoldTimer's expiry is our AutomaticStart (documented deviation). */
static const struct row idle[] = {
    {BGP_EV_MANUAL_START, CN, "ISC", NO, '0'},
    {BGP_EV_MANUAL_STOP, I_, "", NO, '='},
    {BGP_EV_AUTO_START, CN, "ISC", NO, '0'},
    {BGP_EV_MANUAL_START_PASSIVE, AC, "IS", NO, '0'},
    {BGP_EV_AUTO_START_PASSIVE, AC, "IS", NO, '0'},
    {BGP_EV_AUTO_STOP, I_, "", NO, '='},
    {BGP_EV_CONNECT_RETRY_EXPIRES, I_, "", NO, '='},
    {BGP_EV_HOLD_EXPIRES, I_, "", NO, '='},
    {BGP_EV_KEEPALIVE_EXPIRES, I_, "", NO, '='},
    {BGP_EV_IDLE_HOLD_EXPIRES, CN, "ISC", NO, '='},
    {BGP_EV_TCP_CR_INVALID, I_, "", NO, '='},
    {BGP_EV_TCP_CR_ACKED, I_, "", NO, '='},
    {BGP_EV_TCP_CONFIRMED, I_, "", NO, '='},
    {BGP_EV_TCP_FAILS, I_, "", NO, '='},
    {BGP_EV_OPEN, I_, "", NO, '='},
    {BGP_EV_HEADER_ERR, I_, "", NO, '='},
    {BGP_EV_OPEN_ERR, I_, "", NO, '='},
    {BGP_EV_COLLISION_DUMP, I_, "", NO, '='},
    {BGP_EV_NOTIF_VER_ERR, I_, "", NO, '='},
    {BGP_EV_NOTIF, I_, "", NO, '='},
    {BGP_EV_KEEPALIVE, I_, "", NO, '='},
    {BGP_EV_UPDATE, I_, "", NO, '='},
    {BGP_EV_UPDATE_ERR, I_, "", NO, '='},
    {BGP_EV_ROUTE_REFRESH, I_, "", NO, '='},
};

/* Connect: ManualStop drops and zeroes; ConnectRetryTimer_Expires drops and
 * reconnects; TCP up sends OPEN with a large HoldTimer; TcpConnectionFails
 * (no DelayOpen) goes Idle; other events count, damp and go Idle. */
static const struct row connect[] = {
    {BGP_EV_MANUAL_START, CN, "", NO, '='},
    {BGP_EV_MANUAL_STOP, I_, "sRD", NO, '0'},
    {BGP_EV_AUTO_START, CN, "", NO, '='},
    {BGP_EV_MANUAL_START_PASSIVE, CN, "", NO, '='},
    {BGP_EV_AUTO_START_PASSIVE, CN, "", NO, '='},
    {BGP_EV_AUTO_STOP, I_, "sRDd", NO, '+'},
    {BGP_EV_CONNECT_RETRY_EXPIRES, CN, "DSC", NO, '='},
    {BGP_EV_HOLD_EXPIRES, I_, "sRDd", NO, '+'},
    {BGP_EV_KEEPALIVE_EXPIRES, I_, "sRDd", NO, '+'},
    {BGP_EV_IDLE_HOLD_EXPIRES, I_, "sRDd", NO, '+'},
    {BGP_EV_TCP_CR_INVALID, CN, "", NO, '='},
    {BGP_EV_TCP_CR_ACKED, OS, "sOL", NO, '='},
    {BGP_EV_TCP_CONFIRMED, OS, "sOL", NO, '='},
    {BGP_EV_TCP_FAILS, I_, "sRDd", NO, '='},
    {BGP_EV_OPEN, I_, "sRDd", NO, '+'},
    {BGP_EV_HEADER_ERR, I_, "sRDd", NO, '+'},
    {BGP_EV_OPEN_ERR, I_, "sRDd", NO, '+'},
    {BGP_EV_COLLISION_DUMP, I_, "sRDd", NO, '+'},
    {BGP_EV_NOTIF_VER_ERR, I_, "sRDd", NO, '+'},
    {BGP_EV_NOTIF, I_, "sRDd", NO, '+'},
    {BGP_EV_KEEPALIVE, I_, "sRDd", NO, '+'},
    {BGP_EV_UPDATE, I_, "sRDd", NO, '+'},
    {BGP_EV_UPDATE_ERR, I_, "sRDd", NO, '+'},
    {BGP_EV_ROUTE_REFRESH, I_, "sRDd", NO, '+'},
};

/* Active: like Connect, but ConnectRetryTimer_Expires connects (to Connect)
 * and TcpConnectionFails counts. */
static const struct row active[] = {
    {BGP_EV_MANUAL_START, AC, "", NO, '='},
    {BGP_EV_MANUAL_STOP, I_, "sRD", NO, '0'},
    {BGP_EV_AUTO_START, AC, "", NO, '='},
    {BGP_EV_MANUAL_START_PASSIVE, AC, "", NO, '='},
    {BGP_EV_AUTO_START_PASSIVE, AC, "", NO, '='},
    {BGP_EV_AUTO_STOP, I_, "sRDd", NO, '+'},
    {BGP_EV_CONNECT_RETRY_EXPIRES, CN, "SC", NO, '='},
    {BGP_EV_HOLD_EXPIRES, I_, "sRDd", NO, '+'},
    {BGP_EV_KEEPALIVE_EXPIRES, I_, "sRDd", NO, '+'},
    {BGP_EV_IDLE_HOLD_EXPIRES, I_, "sRDd", NO, '+'},
    {BGP_EV_TCP_CR_INVALID, AC, "", NO, '='},
    {BGP_EV_TCP_CR_ACKED, OS, "sOL", NO, '='},
    {BGP_EV_TCP_CONFIRMED, OS, "sOL", NO, '='},
    {BGP_EV_TCP_FAILS, I_, "sRDd", NO, '+'},
    {BGP_EV_OPEN, I_, "sRDd", NO, '+'},
    {BGP_EV_HEADER_ERR, I_, "sRDd", NO, '+'},
    {BGP_EV_OPEN_ERR, I_, "sRDd", NO, '+'},
    {BGP_EV_COLLISION_DUMP, I_, "sRDd", NO, '+'},
    {BGP_EV_NOTIF_VER_ERR, I_, "sRDd", NO, '+'},
    {BGP_EV_NOTIF, I_, "sRDd", NO, '+'},
    {BGP_EV_KEEPALIVE, I_, "sRDd", NO, '+'},
    {BGP_EV_UPDATE, I_, "sRDd", NO, '+'},
    {BGP_EV_UPDATE_ERR, I_, "sRDd", NO, '+'},
    {BGP_EV_ROUTE_REFRESH, I_, "sRDd", NO, '+'},
};

/* OpenSent: stops send Cease, HoldTimer sends Hold Timer Expired, a second
 * connection is tracked, TcpConnectionFails goes back to Active, BGPOpen
 * sends KEEPALIVE and starts the negotiated timers, errors send their
 * NOTIFICATION, any other event an FSM Error (a NOTIFICATION is not
 * answered: deviation). */
static const struct row opensent[] = {
    {BGP_EV_MANUAL_START, OS, "", NO, '='},
    {BGP_EV_MANUAL_STOP, I_, "NsRD", CE, '0'},
    {BGP_EV_AUTO_START, OS, "", NO, '='},
    {BGP_EV_MANUAL_START_PASSIVE, OS, "", NO, '='},
    {BGP_EV_AUTO_START_PASSIVE, OS, "", NO, '='},
    {BGP_EV_AUTO_STOP, I_, "NsRDd", CE, '+'},
    {BGP_EV_CONNECT_RETRY_EXPIRES, I_, "NsRDd", FS, '+'},
    {BGP_EV_HOLD_EXPIRES, I_, "NsRDd", HO, '+'},
    {BGP_EV_KEEPALIVE_EXPIRES, I_, "NsRDd", FS, '+'},
    {BGP_EV_IDLE_HOLD_EXPIRES, I_, "NsRDd", FS, '+'},
    {BGP_EV_TCP_CR_INVALID, OS, "", NO, '='},
    {BGP_EV_TCP_CR_ACKED, OS, "2", NO, '='},
    {BGP_EV_TCP_CONFIRMED, OS, "2", NO, '='},
    {BGP_EV_TCP_FAILS, AC, "DS", NO, '='},
    {BGP_EV_OPEN, OC, "sKkH", NO, '='},
    {BGP_EV_HEADER_ERR, I_, "NsRDd", ER, '+'},
    {BGP_EV_OPEN_ERR, I_, "NsRDd", ER, '+'},
    {BGP_EV_COLLISION_DUMP, I_, "NsRDd", CO, '+'},
    {BGP_EV_NOTIF_VER_ERR, I_, "sRDd", NO, '='},
    {BGP_EV_NOTIF, I_, "sRDd", NO, '+'},
    {BGP_EV_KEEPALIVE, I_, "NsRDd", FS, '+'},
    {BGP_EV_UPDATE, I_, "NsRDd", FS, '+'},
    {BGP_EV_UPDATE_ERR, I_, "NsRDd", FS, '+'},
    {BGP_EV_ROUTE_REFRESH, I_, "NsRDd", FS, '+'},
};

/* OpenConfirm: KeepaliveTimer sends KEEPALIVE, a KEEPALIVE establishes, a
 * NOTIFICATION or TCP failure goes Idle without one, an OPEN on this
 * connection is unexpected (a colliding one arrives as OpenCollisionDump). */
static const struct row openconfirm[] = {
    {BGP_EV_MANUAL_START, OC, "", NO, '='},
    {BGP_EV_MANUAL_STOP, I_, "NsRD", CE, '0'},
    {BGP_EV_AUTO_START, OC, "", NO, '='},
    {BGP_EV_MANUAL_START_PASSIVE, OC, "", NO, '='},
    {BGP_EV_AUTO_START_PASSIVE, OC, "", NO, '='},
    {BGP_EV_AUTO_STOP, I_, "NsRDd", CE, '+'},
    {BGP_EV_CONNECT_RETRY_EXPIRES, I_, "NsRDd", FS, '+'},
    {BGP_EV_HOLD_EXPIRES, I_, "NsRDd", HO, '+'},
    {BGP_EV_KEEPALIVE_EXPIRES, OC, "Kk", NO, '='},
    {BGP_EV_IDLE_HOLD_EXPIRES, I_, "NsRDd", FS, '+'},
    {BGP_EV_TCP_CR_INVALID, OC, "", NO, '='},
    {BGP_EV_TCP_CR_ACKED, OC, "2", NO, '='},
    {BGP_EV_TCP_CONFIRMED, OC, "2", NO, '='},
    {BGP_EV_TCP_FAILS, I_, "sRDd", NO, '+'},
    {BGP_EV_OPEN, I_, "NsRDd", FS, '+'},
    {BGP_EV_HEADER_ERR, I_, "NsRDd", ER, '+'},
    {BGP_EV_OPEN_ERR, I_, "NsRDd", ER, '+'},
    {BGP_EV_COLLISION_DUMP, I_, "NsRDd", CO, '+'},
    {BGP_EV_NOTIF_VER_ERR, I_, "sRDd", NO, '+'},
    {BGP_EV_NOTIF, I_, "sRDd", NO, '+'},
    {BGP_EV_KEEPALIVE, ES, "HU", NO, '='},
    {BGP_EV_UPDATE, I_, "NsRDd", FS, '+'},
    {BGP_EV_UPDATE_ERR, I_, "NsRDd", FS, '+'},
    {BGP_EV_ROUTE_REFRESH, I_, "NsRDd", FS, '+'},
};

/* Established: KEEPALIVE and UPDATE restart the HoldTimer, the
 * KeepaliveTimer sends KEEPALIVE, every way down deletes the routes. */
static const struct row established[] = {
    {BGP_EV_MANUAL_START, ES, "", NO, '='},
    {BGP_EV_MANUAL_STOP, I_, "NXsRDW", CE, '0'},
    {BGP_EV_AUTO_START, ES, "", NO, '='},
    {BGP_EV_MANUAL_START_PASSIVE, ES, "", NO, '='},
    {BGP_EV_AUTO_START_PASSIVE, ES, "", NO, '='},
    {BGP_EV_AUTO_STOP, I_, "NXsRDdW", CE, '+'},
    {BGP_EV_CONNECT_RETRY_EXPIRES, I_, "NXsRDdW", FS, '+'},
    {BGP_EV_HOLD_EXPIRES, I_, "NXsRDdW", HO, '+'},
    {BGP_EV_KEEPALIVE_EXPIRES, ES, "Kk", NO, '='},
    {BGP_EV_IDLE_HOLD_EXPIRES, I_, "NXsRDdW", FS, '+'},
    {BGP_EV_TCP_CR_INVALID, ES, "", NO, '='},
    {BGP_EV_TCP_CR_ACKED, ES, "2", NO, '='},
    {BGP_EV_TCP_CONFIRMED, ES, "2", NO, '='},
    {BGP_EV_TCP_FAILS, I_, "XsRDdW", NO, '+'},
    {BGP_EV_OPEN, I_, "NXsRDdW", FS, '+'},
    {BGP_EV_HEADER_ERR, I_, "NXsRDdW", ER, '+'},
    {BGP_EV_OPEN_ERR, I_, "NXsRDdW", ER, '+'},
    {BGP_EV_COLLISION_DUMP, I_, "NXsRDdW", CO, '+'},
    {BGP_EV_NOTIF_VER_ERR, I_, "XsRDdW", NO, '+'},
    {BGP_EV_NOTIF, I_, "XsRDdW", NO, '+'},
    {BGP_EV_KEEPALIVE, ES, "H", NO, '='},
    {BGP_EV_UPDATE, ES, "PH", NO, '='},
    {BGP_EV_UPDATE_ERR, I_, "NXsRDdW", ER, '+'},
    {BGP_EV_ROUTE_REFRESH, ES, "PH", NO, '='},
};

static const struct {
	const struct row *rows;
	size_t n;
} rfc[BGP_STATE_N] = {
    [BGP_IDLE] = {idle, sizeof(idle) / sizeof(idle[0])},
    [BGP_CONNECT] = {connect, sizeof(connect) / sizeof(connect[0])},
    [BGP_ACTIVE] = {active, sizeof(active) / sizeof(active[0])},
    [BGP_OPENSENT] = {opensent, sizeof(opensent) / sizeof(opensent[0])},
    [BGP_OPENCONFIRM] = {openconfirm, sizeof(openconfirm) / sizeof(openconfirm[0])},
    [BGP_ESTABLISHED] = {established, sizeof(established) / sizeof(established[0])},
};

static void
test_every_cell(void **state)
{
	unsigned cells = 0;
	(void)state;
	for (uint8_t s = 0; s < BGP_STATE_N; s++) {
		assert_int_equal(rfc[s].n, NEV);
		for (size_t i = 0; i < rfc[s].n; i++) {
			const struct row *r = &rfc[s].rows[i];
			struct bgp_fsm f;
			struct bgp_fsm_out o;
			bgp_fsm_init(&f, false);
			f.state = s;
			f.hold = 90;
			f.connect_retry_count = 5;
			assert_int_equal(r->ev, events[i]);
			assert_int_equal(bgp_fsm_step(&f, r->ev, &o), 0);
			if (o.to != r->to || o.act != acts(r->act) ||
			    (o.act & BGP_ACT_SEND_NOTIFY ? o.notify : 0) != r->nk)
				fail_msg("%s x %s: got -> %s act %#x nk %u, want -> %s act %#x "
				         "nk %u",
				         bgp_state_name(s), bgp_event_name(r->ev),
				         bgp_state_name(o.to), o.act, o.notify,
				         bgp_state_name(r->to), acts(r->act), r->nk);
			assert_int_equal(f.state, r->to);
			assert_int_equal(o.from, s);
			assert_int_equal(f.connect_retry_count, r->crc == '0'   ? 0
			                                        : r->crc == '+' ? 6
			                                                        : 5);
			cells++;
		}
	}
	assert_int_equal(cells, BGP_STATE_N * NEV);
}

/* The events of optional attributes that are FALSE here, and no events. */
static void
test_unimplemented(void **state)
{
	static const uint8_t bad[] = {0, 6, 7, 12, 14, 20, BGP_EV_N, 200};
	(void)state;
	for (size_t i = 0; i < sizeof(bad); i++) {
		struct bgp_fsm f;
		struct bgp_fsm_out o;
		bgp_fsm_init(&f, false);
		f.state = BGP_ESTABLISHED;
		assert_int_equal(bgp_fsm_step(&f, bad[i], &o), -EINVAL);
		assert_int_equal(f.state, BGP_ESTABLISHED);
		assert_int_equal(o.act, 0);
	}
}

/* The NOTIFICATION codes the table resolves itself. */
static void
test_notify_codes(void **state)
{
	struct bgp_fsm f;
	struct bgp_fsm_out o;
	(void)state;

	bgp_fsm_init(&f, false);
	f.state = BGP_OPENSENT;
	bgp_fsm_step(&f, BGP_EV_KEEPALIVE, &o);
	assert_int_equal(o.code, BGP_ERR_FSM);
	assert_int_equal(o.subcode, BGP_FSM_IN_OPENSENT);

	f.state = BGP_OPENCONFIRM;
	bgp_fsm_step(&f, BGP_EV_UPDATE, &o);
	assert_int_equal(o.code, BGP_ERR_FSM);
	assert_int_equal(o.subcode, BGP_FSM_IN_OPENCONFIRM);

	f.state = BGP_ESTABLISHED;
	bgp_fsm_step(&f, BGP_EV_OPEN, &o);
	assert_int_equal(o.code, BGP_ERR_FSM);
	assert_int_equal(o.subcode, BGP_FSM_IN_ESTABLISHED);

	/* an unexpected timer is not a message: Unspecific (RFC 6608 3) */
	f.state = BGP_ESTABLISHED;
	bgp_fsm_step(&f, BGP_EV_CONNECT_RETRY_EXPIRES, &o);
	assert_int_equal(o.code, BGP_ERR_FSM);
	assert_int_equal(o.subcode, 0);

	f.state = BGP_OPENCONFIRM;
	bgp_fsm_step(&f, BGP_EV_HOLD_EXPIRES, &o);
	assert_int_equal(o.code, BGP_ERR_HOLD);
	assert_int_equal(o.subcode, 0);

	f.state = BGP_OPENSENT;
	bgp_fsm_step(&f, BGP_EV_COLLISION_DUMP, &o);
	assert_int_equal(o.code, BGP_ERR_CEASE);
	assert_int_equal(o.subcode, BGP_CEASE_COLLISION);

	f.state = BGP_ESTABLISHED;
	bgp_fsm_step(&f, BGP_EV_AUTO_STOP, &o);
	assert_int_equal(o.notify, BGP_NK_CEASE);
	assert_int_equal(o.code, BGP_ERR_CEASE);
}

/* A passive FSM never connects: starts go to Active, ConnectRetryTimer
 * expiry in Active keeps it there, the damping restart too. */
static void
test_passive(void **state)
{
	struct bgp_fsm f;
	struct bgp_fsm_out o;
	(void)state;

	bgp_fsm_init(&f, true);
	assert_int_equal(bgp_fsm_step(&f, BGP_EV_MANUAL_START, &o), 0);
	assert_int_equal(o.to, BGP_ACTIVE);
	assert_int_equal(o.act, BGP_ACT_INIT | BGP_ACT_CRT_START);
	assert_int_equal(bgp_fsm_step(&f, BGP_EV_CONNECT_RETRY_EXPIRES, &o), 0);
	assert_int_equal(o.to, BGP_ACTIVE);
	assert_int_equal(o.act, BGP_ACT_CRT_START);
	bgp_fsm_step(&f, BGP_EV_TCP_CONFIRMED, &o);
	assert_int_equal(o.to, BGP_OPENSENT);
	bgp_fsm_step(&f, BGP_EV_HOLD_EXPIRES, &o);
	assert_int_equal(o.to, BGP_IDLE);
	assert_true(o.act & BGP_ACT_DAMP);
	bgp_fsm_step(&f, BGP_EV_IDLE_HOLD_EXPIRES, &o);
	assert_int_equal(o.to, BGP_ACTIVE);
	assert_false(o.act & BGP_ACT_CONNECT);
}

/* Hold time 0: no HoldTimer, no KeepaliveTimer (RFC 4271 4.2, 8.2.2). */
static void
test_hold_zero(void **state)
{
	struct bgp_fsm f;
	struct bgp_fsm_out o;
	(void)state;

	bgp_fsm_init(&f, false);
	bgp_fsm_step(&f, BGP_EV_MANUAL_START, &o);
	bgp_fsm_step(&f, BGP_EV_TCP_CR_ACKED, &o);
	assert_true(o.act & BGP_ACT_HOLD_LARGE);
	f.hold = 0;
	bgp_fsm_step(&f, BGP_EV_OPEN, &o);
	assert_int_equal(o.to, BGP_OPENCONFIRM);
	assert_int_equal(o.act, BGP_ACT_CRT_STOP | BGP_ACT_SEND_KA);
	bgp_fsm_step(&f, BGP_EV_KEEPALIVE, &o);
	assert_int_equal(o.to, BGP_ESTABLISHED);
	assert_int_equal(o.act, BGP_ACT_UP);
	bgp_fsm_step(&f, BGP_EV_UPDATE, &o);
	assert_int_equal(o.act, BGP_ACT_PROCESS);

	/* with a hold time the timers run; going Idle forgets it */
	bgp_fsm_init(&f, false);
	f.state = BGP_OPENSENT;
	f.hold = 9;
	bgp_fsm_step(&f, BGP_EV_OPEN, &o);
	assert_true(o.act & BGP_ACT_HOLD_START);
	assert_true(o.act & BGP_ACT_KA_START);
	bgp_fsm_step(&f, BGP_EV_TCP_FAILS, &o);
	assert_int_equal(f.hold, 0);
	assert_int_equal(bgp_keepalive_time(180), 60);
	assert_int_equal(bgp_keepalive_time(10), 3);
	assert_int_equal(bgp_keepalive_time(0), 0);
}

/* Whole sessions: the usual one, a failure and restart, a stop. */
static void
test_walks(void **state)
{
	static const struct {
		uint8_t ev, to;
	} walk[] = {
	    {BGP_EV_MANUAL_START, BGP_CONNECT},
	    {BGP_EV_TCP_FAILS, BGP_IDLE},
	    {BGP_EV_IDLE_HOLD_EXPIRES, BGP_CONNECT},
	    {BGP_EV_CONNECT_RETRY_EXPIRES, BGP_CONNECT},
	    {BGP_EV_TCP_CR_ACKED, BGP_OPENSENT},
	    {BGP_EV_OPEN, BGP_OPENCONFIRM},
	    {BGP_EV_KEEPALIVE_EXPIRES, BGP_OPENCONFIRM},
	    {BGP_EV_KEEPALIVE, BGP_ESTABLISHED},
	    {BGP_EV_UPDATE, BGP_ESTABLISHED},
	    {BGP_EV_KEEPALIVE_EXPIRES, BGP_ESTABLISHED},
	    {BGP_EV_AUTO_STOP, BGP_IDLE},
	    {BGP_EV_IDLE_HOLD_EXPIRES, BGP_CONNECT},
	    {BGP_EV_TCP_CONFIRMED, BGP_OPENSENT},
	    {BGP_EV_TCP_FAILS, BGP_ACTIVE},
	    {BGP_EV_TCP_CONFIRMED, BGP_OPENSENT},
	    {BGP_EV_OPEN, BGP_OPENCONFIRM},
	    {BGP_EV_KEEPALIVE, BGP_ESTABLISHED},
	    {BGP_EV_MANUAL_STOP, BGP_IDLE},
	    {BGP_EV_IDLE_HOLD_EXPIRES, BGP_CONNECT},
	};
	struct bgp_fsm f;
	struct bgp_fsm_out o;
	(void)state;
	bgp_fsm_init(&f, false);
	for (size_t i = 0; i < sizeof(walk) / sizeof(walk[0]); i++) {
		f.hold = 90;
		assert_int_equal(bgp_fsm_step(&f, walk[i].ev, &o), 0);
		if (o.to != walk[i].to)
			fail_msg("step %zu (%s): %s, want %s", i, bgp_event_name(walk[i].ev),
			         bgp_state_name(o.to), bgp_state_name(walk[i].to));
	}
	/* ManualStop zeroed the counter; the others counted */
	assert_int_equal(f.connect_retry_count, 0);
}

/* RFC 4271 6.8: the connection the higher BGP Identifier initiated stays;
 * RFC 6286 2.3: equal identifiers, the higher AS. Both sides agree. */
static void
test_collision(void **state)
{
	(void)state;
	assert_true(bgp_collision_keep_outgoing(0x0a000002, 65001, 0x0a000001, 65002));
	assert_false(bgp_collision_keep_outgoing(0x0a000001, 65001, 0x0a000002, 65002));
	/* unsigned comparison: 200.0.0.1 > 10.0.0.1 */
	assert_true(bgp_collision_keep_outgoing(0xc8000001, 1, 0x0a000001, 2));
	assert_true(bgp_collision_keep_outgoing(7, 4200000000u, 7, 65000));
	assert_false(bgp_collision_keep_outgoing(7, 65000, 7, 4200000000u));
	for (uint32_t a = 1; a < 4; a++)
		for (uint32_t b = 1; b < 4; b++)
			if (a != b) /* exactly one side keeps its own */
				assert_true(bgp_collision_keep_outgoing(a, 1, b, 1) !=
				            bgp_collision_keep_outgoing(b, 1, a, 1));
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(bgp_state_name(BGP_OPENCONFIRM), "OpenConfirm");
	assert_string_equal(bgp_state_name(99), "?");
	for (size_t i = 0; i < NEV; i++)
		assert_string_not_equal(bgp_event_name(events[i]), "?");
	assert_string_equal(bgp_event_name(BGP_EV_COLLISION_DUMP), "OpenCollisionDump");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_cell),   cmocka_unit_test(test_unimplemented),
	    cmocka_unit_test(test_notify_codes), cmocka_unit_test(test_passive),
	    cmocka_unit_test(test_hold_zero),    cmocka_unit_test(test_walks),
	    cmocka_unit_test(test_collision),    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
