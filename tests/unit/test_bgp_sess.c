/*
 * test_bgp_sess.c - the speaker on real TCP over loopback (src/bgp/bgp_sess.c
 * and friends): two strait speakers peering with each other on one libuv
 * loop, and a scripted raw peer (a plain socket writing hand-built messages)
 * where a well-behaved speaker cannot play the part:
 *
 * - session up: OPEN/KEEPALIVE, negotiated hold (the lower), keepalive a
 *   third, capabilities; both sides active (collision detection, RFC 4271
 *   6.8) and one passive; an OPEN under the minimum hold time refused (6/...);
 * - hold timer expiry with a silent peer: NOTIFICATION 4/0 on the wire;
 * - UPDATEs both ways, IPv4 and IPv6 (IPv4-mapped next hop), changes sent as
 *   the minimal UPDATEs, withdrawals;
 * - maximum prefix: Cease 6/1 with AFI/SAFI/limit as the other side sees it,
 *   then the idle hold-down (connections refused), then up again;
 * - TCP MD5: same key up, different keys and one-sided key never up;
 * - administrative shutdown with an RFC 9003 text seen by the other side;
 * - RFC 7606 through the raw peer: treat-as-withdraw removes the prefix,
 *   attribute discard keeps it without the attribute, a bad NLRI resets
 *   with 3/10;
 * - graceful restart (helper): routes kept stale across a dropped
 *   connection, refreshed or removed at End-of-RIB;
 * - route refresh; and a bulk transfer whose rate is printed.
 *
 * Addresses: 127.N.M.1-3 with N from the pid, so parallel runs do not meet;
 * the port is derived from the pid too. Every test frees its speakers and
 * checks that the loop closes with no handle left.
 * TCP MD5 needs CAP_NET_ADMIN-free Linux with CONFIG_TCP_MD5SIG: a refusal is
 * a failure, not a skip.
 */
#include "bgp_testutil.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bgp/bgp_speaker.h"

#define MAXR 4096

struct side {
	const char *name;
	struct bgp_speaker *spk;
	struct bgp_peer *peer;
	uint8_t state;
	int ups, downs;
	struct bgp_notice last_notice;
	bool last_notice_sent;
	char reason[160];
	/* the routes it holds from its peer, as "prefix attrs" lines */
	char *routes[MAXR];
	uint32_t nroutes;
	uint64_t route_events;
	bool count_only; /* bulk: count events, keep no strings */
};

static uv_loop_t loop;
static struct side A, B;
static char addr_a[32], addr_b[32], addr_r[32];
static uint16_t port;
static int test_no;
static bool verbose;

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
on_log(void *arg, struct bgp_peer *p, int level, const char *msg)
{
	struct side *s = arg;
	(void)p;
	if (verbose || level == 0)
		fprintf(stderr, "# [%s] %s\n", s->name, msg);
}

static void
on_state(void *arg, struct bgp_peer *p, const struct bgp_state_change *c)
{
	struct side *s = arg;
	(void)p;
	s->state = c->to;
	if (c->to == BGP_ESTABLISHED)
		s->ups++;
	if (c->from == BGP_ESTABLISHED)
		s->downs++;
	if (c->notice) {
		s->last_notice = *c->notice;
		s->last_notice_sent = c->notice_sent;
	}
	if (c->reason)
		snprintf(s->reason, sizeof(s->reason), "%s", c->reason);
}

static int
route_find(struct side *s, const char *pfxs)
{
	size_t n = strlen(pfxs);
	for (uint32_t i = 0; i < s->nroutes; i++)
		if (strncmp(s->routes[i], pfxs, n) == 0 && s->routes[i][n] == ' ')
			return (int)i;
	return -1;
}

static void
on_route(void *arg, struct bgp_peer *p, const struct ip_prefix *pfx, struct bgp_attrset *set)
{
	struct side *s = arg;
	char ps[IP_STRLEN], line[512];
	int i;
	(void)p;
	s->route_events++;
	if (s->count_only)
		return;
	ip_prefix_fmt(pfx, ps);
	i = route_find(s, ps);
	if (!set) {
		assert_true(i >= 0); /* no withdrawal of what was never announced */
		free(s->routes[i]);
		s->routes[i] = s->routes[--s->nroutes];
		return;
	}
	size_t n = (size_t)snprintf(line, sizeof(line), "%s ", ps);
	bgp_attrset_fmt(set, line + n, sizeof(line) - n);
	if (i >= 0) {
		free(s->routes[i]);
		s->routes[i] = strdup(line);
	} else {
		assert_true(s->nroutes < MAXR);
		s->routes[s->nroutes++] = strdup(line);
	}
}

static void
side_clear(struct side *s)
{
	for (uint32_t i = 0; i < s->nroutes; i++)
		free(s->routes[i]);
	const char *name = s->name;
	memset(s, 0, sizeof(*s));
	s->name = name;
}

/* Policy hooks for the next speaker() (test_policy). */
static int (*next_import)(void *, struct bgp_peer *, struct bgp_attrs *, uint8_t *, size_t);
static bool (*next_accept)(void *, struct bgp_peer *, const struct ip_prefix *,
                           struct bgp_attrset *);

static struct bgp_speaker *
speaker(struct side *s, uint32_t id, uint32_t as)
{
	struct bgp_speaker_cfg c = {
	    .router_id = id,
	    .local_as = as,
	    .port = port,
	    .adv_delay_ms = 20,
	    .arg = s,
	    .on_state = on_state,
	    .on_route = on_route,
	    .on_log = on_log,
	    .import = next_import,
	    .accept = next_accept,
	};
	next_import = NULL;
	next_accept = NULL;
	struct bgp_speaker *spk;
	assert_int_equal(bgp_speaker_new(&loop, &c, &spk), 0);
	s->spk = spk;
	return spk;
}

static struct bgp_peer_cfg
pcfg(const char *local, const char *remote, uint32_t remote_as)
{
	struct bgp_peer_cfg c;
	memset(&c, 0, sizeof(c));
	c.local = addr(local);
	c.remote = addr(remote);
	c.remote_as = remote_as;
	c.restart_ms = 150;
	c.connect_retry_ms = 1000;
	return c;
}

static void
add_peer(struct side *s, const struct bgp_peer_cfg *c)
{
	int rc = bgp_peer_add(s->spk, c, &s->peer);
	if (rc != 0)
		fail_msg("%s: bgp_peer_add: %s", s->name, strerror(-rc));
}

static void
tick_cb(uv_timer_t *t)
{
	(void)t;
}

/* Runs the loop until cond() or secs pass; returns cond(). */
static bool
run_until(bool (*cond)(void), double secs)
{
	double end = now_s() + secs;
	uv_timer_t tick;
	bool ok;
	uv_timer_init(&loop, &tick);
	uv_timer_start(&tick, tick_cb, 10, 10);
	while (!(ok = cond != NULL && cond()) && now_s() < end)
		uv_run(&loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&tick, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
	return ok;
}

static void
run_for(double secs)
{
	run_until(NULL, secs);
}

static bool
both_up(void)
{
	return A.state == BGP_ESTABLISHED && B.state == BGP_ESTABLISHED;
}

static bool
a_up(void)
{
	return A.state == BGP_ESTABLISHED;
}

static bool
a_idle(void)
{
	return A.state == BGP_IDLE && A.downs > 0;
}

/* ---- per-test setup ---------------------------------------------------------------- */
static int
setup(void **state)
{
	unsigned n = (unsigned)getpid() % 200 + 20;
	(void)state;
	test_no++;
	snprintf(addr_a, sizeof(addr_a), "127.%u.%u.1", n, test_no);
	snprintf(addr_b, sizeof(addr_b), "127.%u.%u.2", n, test_no);
	snprintf(addr_r, sizeof(addr_r), "127.%u.%u.3", n, test_no);
	port = (uint16_t)(30000 + (unsigned)getpid() % 20000);
	verbose = getenv("BGP_TEST_LOG") != NULL;
	assert_int_equal(uv_loop_init(&loop), 0);
	A.name = "A";
	B.name = "B";
	return 0;
}

static void
count_handles(uv_handle_t *h, void *arg)
{
	(void)h;
	(*(int *)arg)++;
}

static int
teardown(void **state)
{
	int left = 0;
	(void)state;
	if (A.spk)
		bgp_speaker_free(A.spk);
	if (B.spk)
		bgp_speaker_free(B.spk);
	for (int i = 0; i < 100 && uv_run(&loop, UV_RUN_NOWAIT); i++)
		usleep(1000);
	uv_walk(&loop, count_handles, &left);
	if (left)
		fail_msg("%d libuv handles left after freeing the speakers", left);
	assert_int_equal(uv_loop_close(&loop), 0);
	side_clear(&A);
	side_clear(&B);
	return 0;
}

/* A (AS 65001, id 1.1.1.1) and B (AS 65002, id 2.2.2.2) peering. */
static void
pair(struct bgp_peer_cfg *ca, struct bgp_peer_cfg *cb)
{
	speaker(&A, 0x01010101, 65001);
	speaker(&B, 0x02020202, 65002);
	add_peer(&A, ca);
	add_peer(&B, cb);
}

static void
pair_default(bool a_passive, bool b_passive)
{
	struct bgp_peer_cfg ca = pcfg(addr_a, addr_b, 65002), cb = pcfg(addr_b, addr_a, 65001);
	ca.passive = a_passive;
	cb.passive = b_passive;
	cb.hold = 90;
	pair(&ca, &cb);
}

/* A set: AS path (4-octet ASes), next hop, communities ("a:b ..."). */
static struct bgp_attrset *
mkattrs(struct bgp_speaker *s, const uint32_t *path, size_t n, const char *nh, const char *comms)
{
	uint8_t pb[2 + 4 * 16], cb[4 * 16];
	struct bgp_attrs a;
	size_t cn = 0;
	memset(&a, 0, sizeof(a));
	a.has = BGP_HAS(BGP_ATTR_ORIGIN) | BGP_HAS(BGP_ATTR_AS_PATH);
	a.origin = BGP_ORIGIN_IGP;
	a.aspath_wide = true;
	pb[0] = BGP_AS_SEQUENCE;
	pb[1] = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		pb[2 + 4 * i] = (uint8_t)(path[i] >> 24);
		pb[3 + 4 * i] = (uint8_t)(path[i] >> 16);
		pb[4 + 4 * i] = (uint8_t)(path[i] >> 8);
		pb[5 + 4 * i] = (uint8_t)path[i];
	}
	a.aspath = (struct bgp_span){pb, (uint16_t)(n ? 2 + 4 * n : 0)};
	if (nh)
		a.nexthop = addr(nh);
	for (const char *c = comms; c && *c;) {
		unsigned hi, lo;
		int used;
		if (sscanf(c, "%u:%u%n", &hi, &lo, &used) != 2)
			break;
		cb[cn++] = (uint8_t)(hi >> 8);
		cb[cn++] = (uint8_t)hi;
		cb[cn++] = (uint8_t)(lo >> 8);
		cb[cn++] = (uint8_t)lo;
		c += used;
		while (*c == ' ')
			c++;
	}
	if (cn) {
		a.has |= BGP_HAS(BGP_ATTR_COMMUNITIES);
		a.communities = (struct bgp_span){cb, (uint16_t)cn};
	}
	struct bgp_attrset *set = bgp_attrset_intern(s, &a);
	assert_non_null(set);
	return set;
}

/* ---- session up ------------------------------------------------------------------------ */
static void
test_up_passive(void **state)
{
	struct bgp_peer_stats st;
	(void)state;
	pair_default(false, true);
	assert_true(run_until(both_up, 5));
	bgp_peer_stats(A.peer, &st);
	assert_int_equal(st.hold, 90); /* min(180, 90) */
	assert_int_equal(st.keepalive, 30);
	assert_int_equal(st.remote_as, 65002);
	assert_int_equal(st.remote_id, 0x02020202);
	assert_int_equal(st.fams, 3);
	assert_true(st.as4 && st.route_refresh && st.graceful_restart);
	assert_int_equal(st.in_type[BGP_OPEN], 1);
	assert_true(st.in_type[BGP_KEEPALIVE] >= 1);
	assert_int_equal(st.established_count, 1);
	assert_string_equal(bgp_state_name(bgp_peer_state(B.peer)), "Established");
}

/* Both connect at once: RFC 4271 6.8 keeps one connection, on both sides
 * the same one (the one the higher identifier, B's, initiated), and neither
 * side flaps. The peers are stopped as soon as added, then started in the
 * same loop turn, so that both SYNs cross; a few rounds for the timing. */
static void
test_up_collision(void **state)
{
	int collisions = 0;
	(void)state;
	pair_default(false, false);
	bgp_peer_stop(A.peer, NULL);
	bgp_peer_stop(B.peer, NULL);
	run_for(0.1);
	for (int round = 0; round < 4; round++) {
		struct bgp_peer_stats sa, sb;
		int ups_a = A.ups, ups_b = B.ups;
		assert_int_equal(bgp_peer_start(A.peer), 0);
		assert_int_equal(bgp_peer_start(B.peer), 0);
		assert_true(run_until(both_up, 5));
		run_for(0.3);
		assert_true(both_up());
		assert_int_equal(A.ups, ups_a + 1);
		assert_int_equal(B.ups, ups_b + 1);
		bgp_peer_stats(A.peer, &sa);
		bgp_peer_stats(B.peer, &sb);
		if (sa.last_sent.valid && sa.last_sent.subcode == BGP_CEASE_COLLISION &&
		    sa.last_sent.at_ms + 1000 > uv_now(&loop))
			collisions++;
		else if (sb.last_sent.valid && sb.last_sent.subcode == BGP_CEASE_COLLISION &&
		         sb.last_sent.at_ms + 1000 > uv_now(&loop))
			collisions++;
		bgp_peer_stop(A.peer, NULL);
		bgp_peer_stop(B.peer, NULL);
		run_for(0.1);
	}
	print_message("# collision resolved with Cease 6/7 in %d of 4 rounds\n", collisions);
	assert_true(collisions > 0);
}

/* The MSEE's rule: hold time at least 10 s; a peer asking 5 is refused
 * with OPEN Message Error / Unacceptable Hold Time. */
static bool
b_refused(void)
{
	struct bgp_peer_stats st;
	bgp_peer_stats(B.peer, &st);
	return st.last_rcvd.valid;
}

static void
test_min_hold(void **state)
{
	struct bgp_peer_cfg ca = pcfg(addr_a, addr_b, 65002), cb = pcfg(addr_b, addr_a, 65001);
	struct bgp_peer_stats st;
	(void)state;
	ca.min_hold = 10;
	ca.passive = true;
	cb.hold = 5;
	pair(&ca, &cb);
	assert_true(run_until(b_refused, 5));
	bgp_peer_stats(B.peer, &st);
	assert_int_equal(st.last_rcvd.code, BGP_ERR_OPEN);
	assert_int_equal(st.last_rcvd.subcode, BGP_OPEN_BAD_HOLD);
	assert_int_equal(A.ups, 0);
	/* wrong AS: Bad Peer AS */
	teardown(NULL);
	setup(NULL);
	ca = pcfg(addr_a, addr_b, 65099);
	cb = pcfg(addr_b, addr_a, 65001);
	ca.passive = true;
	pair(&ca, &cb);
	assert_true(run_until(b_refused, 5));
	bgp_peer_stats(B.peer, &st);
	assert_int_equal(st.last_rcvd.code, BGP_ERR_OPEN);
	assert_int_equal(st.last_rcvd.subcode, BGP_OPEN_BAD_PEER_AS);
}

/* ---- a scripted peer ---------------------------------------------------------------------- */
static int
raw_connect(const char *local, const char *remote)
{
	struct sockaddr_in la = {.sin_family = AF_INET}, ra = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	inet_pton(AF_INET, local, &la.sin_addr);
	inet_pton(AF_INET, remote, &ra.sin_addr);
	ra.sin_port = htons(port);
	assert_int_equal(bind(fd, (struct sockaddr *)&la, sizeof(la)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&ra, sizeof(ra)), 0);
	return fd;
}

static void
raw_send(int fd, const uint8_t *m, size_t n)
{
	assert_int_equal(write(fd, m, n), (ssize_t)n);
}

/* OPEN (with the graceful restart capability for IPv4, Forwarding State
 * set, when gr_flags is not 0xffff) and a KEEPALIVE. */
static void
raw_open_gr(int fd, uint32_t as, uint16_t hold, uint32_t id, uint16_t gr_flags)
{
	uint8_t m[256];
	struct bgp_open o;
	struct bgp_wr w = bgp_wr_make(m, sizeof(m));
	memset(&o, 0, sizeof(o));
	if (gr_flags != 0xffff) {
		o.caps.has |= BGP_CAPF_GR;
		o.caps.gr_flags = gr_flags;
		o.caps.gr_time = 30;
		o.caps.n_gr = 1;
		o.caps.gr[0] = (struct bgp_af){BGP_AFI_IPV4, BGP_SAFI_UNICAST, BGP_GR_AF_FORWARD};
	}
	o.as = as;
	o.hold = hold;
	o.id = id;
	o.caps.has |= BGP_CAPF_MP | BGP_CAPF_AS4 | BGP_CAPF_RR;
	o.caps.as4 = as;
	o.caps.n_mp = 2;
	o.caps.mp[0] = (struct bgp_af){BGP_AFI_IPV4, BGP_SAFI_UNICAST, 0};
	o.caps.mp[1] = (struct bgp_af){BGP_AFI_IPV6, BGP_SAFI_UNICAST, 0};
	assert_int_equal(bgp_open_encode(&w, &o), 0);
	raw_send(fd, m, w.len);
	w = bgp_wr_make(m, sizeof(m));
	bgp_keepalive_encode(&w);
	raw_send(fd, m, w.len);
}

static void
raw_open(int fd, uint32_t as, uint16_t hold, uint32_t id)
{
	raw_open_gr(fd, as, hold, id, 0xffff);
}

/* Reads what the speaker sent until the connection closes or 0.3 s pass
 * quietly; returns the types in order as a string ("1 4 4 3") and the last
 * NOTIFICATION. */
static void
raw_read(int fd, char *types, size_t cap, struct bgp_notification *nt, uint8_t *keep)
{
	static uint8_t buf[1 << 16];
	size_t len = 0, off = 0;
	types[0] = 0;
	for (;;) {
		struct pollfd pf = {fd, POLLIN, 0};
		if (poll(&pf, 1, 300) <= 0)
			break;
		ssize_t r = read(fd, buf + len, sizeof(buf) - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	while (len - off >= BGP_HDR_LEN) {
		uint16_t ml = bgp_get16(buf + off + 16);
		if (len - off < ml)
			break;
		size_t tl = strlen(types);
		snprintf(types + tl, cap - tl, "%s%u", tl ? " " : "", buf[off + 18]);
		if (buf[off + 18] == BGP_NOTIFICATION && nt) {
			memcpy(keep, buf + off, ml);
			assert_int_equal(bgp_notify_decode(keep, ml, nt), 0);
		}
		off += ml;
	}
}

/* A silent peer: after OPEN and one KEEPALIVE nothing more; the speaker's
 * hold timer (3 s negotiated) expires: NOTIFICATION 4/0, then close. */
static void
test_hold_expiry(void **state)
{
	struct bgp_peer_cfg ca = pcfg(addr_a, addr_r, 65003);
	struct bgp_notification nt;
	uint8_t keep[4096];
	char types[256];
	double t0;
	(void)state;
	speaker(&A, 0x01010101, 65001);
	ca.passive = true;
	ca.hold = 3;
	add_peer(&A, &ca);
	int fd = raw_connect(addr_r, addr_a);
	raw_open(fd, 65003, 3, 0x03030303);
	assert_true(run_until(a_up, 3));
	t0 = now_s();
	assert_true(run_until(a_idle, 6));
	double held = now_s() - t0;
	raw_read(fd, types, sizeof(types), &nt, keep);
	print_message("# silent peer: speaker sent \"%s\", Idle after %.1f s\n", types, held);
	assert_true(held > 1.5 && held < 4.5);
	assert_int_equal(nt.code, BGP_ERR_HOLD);
	assert_int_equal(nt.subcode, 0);
	assert_true(A.last_notice_sent);
	assert_int_equal(A.last_notice.code, BGP_ERR_HOLD);
	assert_string_equal(A.reason, "sent NOTIFICATION 4/0 (Hold Timer Expired / Unspecific)");
	/* OPEN, KEEPALIVE, End-of-RIB twice, keepalives every second (hold
	 * 3 / 3), the NOTIFICATION */
	if (strncmp(types, "1 4 2 2 4", 9) != 0 || !strstr(types, "4 4 3"))
		fail_msg("unexpected message sequence \"%s\"", types);
	close(fd);
}

/* ---- routes ------------------------------------------------------------------------------- */
static uint32_t want_b;
static bool
b_has(void)
{
	return B.nroutes == want_b;
}

static uint32_t want_a;
static bool
a_has(void)
{
	return A.nroutes == want_a;
}

static const char *
route_of(struct side *s, const char *pfxs)
{
	int i = route_find(s, pfxs);
	return i < 0 ? "(none)" : s->routes[i];
}

static uint64_t
updates_out(struct side *s)
{
	struct bgp_peer_stats st;
	bgp_peer_stats(s->peer, &st);
	return st.out_type[BGP_UPDATE];
}

static void
test_updates(void **state)
{
	static const uint32_t p1[] = {65001, 64512}, p2[] = {65001}, p3[] = {65001, 65010};
	char want[256];
	(void)state;
	pair_default(false, true);
	assert_true(run_until(both_up, 5));
	run_for(0.05);
	assert_int_equal(updates_out(&A), 2); /* End-of-RIB for IPv4 and IPv6 */
	uint64_t u0 = updates_out(&A);
	struct bgp_attrset *s1 = mkattrs(A.spk, p1, 2, "192.0.2.1", "65001:100 65001:200");
	struct bgp_attrset *s2 = mkattrs(A.spk, p2, 1, "2001:db8::1", NULL);
	struct bgp_attrset *s3 = mkattrs(A.spk, p3, 2, "192.0.2.1", NULL);
	struct bgp_route r[] = {
	    {pfx("10.1.0.0/16"), s1},     {pfx("10.2.0.0/16"), s1},     {pfx("10.3.0.0/24"), s1},
	    {pfx("2001:db8:1::/48"), s2}, {pfx("2001:db8:2::/48"), s3},
	};
	assert_int_equal(bgp_peer_set_routes(A.peer, r, 5), 0);
	want_b = 5;
	assert_true(run_until(b_has, 3));
	assert_string_equal(route_of(&B, "10.1.0.0/16"),
	                    "10.1.0.0/16 nh 192.0.2.1 path 65001 64512 origin i comm 65001:100 "
	                    "65001:200");
	assert_string_equal(route_of(&B, "2001:db8:1::/48"),
	                    "2001:db8:1::/48 nh 2001:db8::1 path 65001 origin i");
	/* an IPv4 next hop for IPv6 routes goes IPv4-mapped */
	assert_string_equal(route_of(&B, "2001:db8:2::/48"),
	                    "2001:db8:2::/48 nh ::ffff:192.0.2.1 path 65001 65010 origin i");
	run_for(0.1);
	/* one UPDATE per set and family */
	assert_int_equal(updates_out(&A) - u0, 3);

	/* a change: 10.2 to another set, 10.3 gone, 10.4 new: three UPDATEs,
	 * three events at B */
	uint64_t ev0 = B.route_events;
	u0 = updates_out(&A);
	r[1].set = s3;
	r[2].pfx = pfx("10.4.0.0/24");
	assert_int_equal(bgp_peer_set_routes(A.peer, r, 5), 0);
	run_for(0.3);
	assert_int_equal(updates_out(&A) - u0, 3);
	assert_int_equal(B.route_events - ev0, 3);
	assert_string_equal(route_of(&B, "10.3.0.0/24"), "(none)");
	assert_string_equal(route_of(&B, "10.2.0.0/16"),
	                    "10.2.0.0/16 nh 192.0.2.1 path 65001 65010 origin i");
	assert_string_equal(route_of(&B, "10.4.0.0/24"),
	                    "10.4.0.0/24 nh 192.0.2.1 path 65001 64512 origin i comm 65001:100 "
	                    "65001:200");
	/* the same set again: nothing sent */
	u0 = updates_out(&A);
	assert_int_equal(bgp_peer_set_routes(A.peer, r, 5), 0);
	run_for(0.2);
	assert_int_equal(updates_out(&A) - u0, 0);

	/* the other way, next hop self */
	struct bgp_attrset *sb = mkattrs(B.spk, (const uint32_t[]){65002}, 1, NULL, "65002:7");
	struct bgp_route rb = {pfx("172.16.0.0/12"), sb};
	assert_int_equal(bgp_peer_set_routes(B.peer, &rb, 1), 0);
	want_a = 1;
	assert_true(run_until(a_has, 3));
	snprintf(want, sizeof(want), "172.16.0.0/12 nh %s path 65002 origin i comm 65002:7",
	         addr_b);
	assert_string_equal(route_of(&A, "172.16.0.0/12"), want);

	/* one route at a time (bgp_peer_route): 10.5 added, 10.1 withdrawn, 10.2 to
	 * another set, then 10.5 added again with no change: three UPDATEs, three
	 * events at B, nothing for the repeat */
	ev0 = B.route_events;
	u0 = updates_out(&A);
	struct ip_prefix p5 = pfx("10.5.0.0/24"), p1x = pfx("10.1.0.0/16"),
	                 p2x = pfx("10.2.0.0/16");
	assert_int_equal(bgp_peer_route(A.peer, &p5, s3), 0);
	assert_int_equal(bgp_peer_route(A.peer, &p1x, NULL), 0);
	assert_int_equal(bgp_peer_route(A.peer, &p2x, s1), 0);
	run_for(0.3);
	assert_int_equal(B.route_events - ev0, 3);
	assert_int_equal(updates_out(&A) - u0, 3); /* a withdrawal, s3's, s1's */
	assert_string_equal(route_of(&B, "10.1.0.0/16"), "(none)");
	assert_string_equal(route_of(&B, "10.5.0.0/24"),
	                    "10.5.0.0/24 nh 192.0.2.1 path 65001 65010 origin i");
	assert_string_equal(route_of(&B, "10.2.0.0/16"),
	                    "10.2.0.0/16 nh 192.0.2.1 path 65001 64512 origin i comm 65001:100 "
	                    "65001:200");
	u0 = updates_out(&A);
	assert_int_equal(bgp_peer_route(A.peer, &p5, s3), 0);
	struct ip_prefix bad = pfx("10.5.0.0/24");
	bad.len = 33;
	assert_int_equal(bgp_peer_route(A.peer, &bad, s3), -EINVAL);
	run_for(0.2);
	assert_int_equal(updates_out(&A) - u0, 0);

	/* withdraw everything */
	assert_int_equal(bgp_peer_set_routes(A.peer, NULL, 0), 0);
	want_b = 0;
	assert_true(run_until(b_has, 3));
	struct bgp_peer_stats st;
	bgp_peer_stats(B.peer, &st);
	assert_int_equal(st.pfx_rcvd[0] + st.pfx_rcvd[1], 0);
	bgp_peer_stats(A.peer, &st);
	assert_int_equal(st.pfx_adv[0] + st.pfx_adv[1], 0);
	assert_int_equal(st.pfx_rcvd[0], 1);
	assert_int_equal(st.pfx_accepted[0], 1);
	bgp_attrset_unref(s1);
	bgp_attrset_unref(s2);
	bgp_attrset_unref(s3);
	bgp_attrset_unref(sb);
}

/* A 4-octet AS (RFC 6793; the codec puts AS_TRANS in My AS and the AS in
 * the capability, test_bgp_msg.c): the other side sees the real one, and a
 * path starting with it passes the first-AS check. */
static void
test_as4(void **state)
{
	struct bgp_peer_cfg ca = pcfg(addr_a, addr_b, 65002),
	                    cb = pcfg(addr_b, addr_a, 4200000001u);
	struct bgp_peer_stats st;
	(void)state;
	speaker(&A, 0x01010101, 4200000001u);
	speaker(&B, 0x02020202, 65002);
	ca.passive = true;
	add_peer(&A, &ca);
	add_peer(&B, &cb);
	assert_true(run_until(both_up, 5));
	bgp_peer_stats(B.peer, &st);
	assert_int_equal(st.remote_as, 4200000001u);
	assert_true(st.as4);
	struct bgp_attrset *s =
	    mkattrs(A.spk, (const uint32_t[]){4200000001u}, 1, "192.0.2.1", NULL);
	struct bgp_route r = {pfx("10.7.0.0/16"), s};
	bgp_peer_set_routes(A.peer, &r, 1);
	want_b = 1;
	assert_true(run_until(b_has, 2)); /* first AS is the peer's: accepted */
	assert_string_equal(route_of(&B, "10.7.0.0/16"),
	                    "10.7.0.0/16 nh 192.0.2.1 path 4200000001 origin i");
	bgp_attrset_unref(s);
}

/* A session over IPv6 (::1, one port each side), both families over it. */
static void
test_ipv6_session(void **state)
{
	struct bgp_peer_cfg ca = pcfg("::1", "::1", 65002), cb = pcfg("::1", "::1", 65001);
	(void)state;
	ca.port = port;
	ca.remote_port = (uint16_t)(port + 1);
	cb.port = (uint16_t)(port + 1);
	cb.remote_port = port;
	pair(&ca, &cb);
	assert_true(run_until(both_up, 5));
	struct bgp_attrset *s = mkattrs(A.spk, (const uint32_t[]){65001}, 1, NULL, NULL);
	struct bgp_route r[] = {{pfx("10.8.0.0/16"), s}, {pfx("2001:db8:8::/48"), s}};
	bgp_peer_set_routes(A.peer, r, 2);
	want_b = 1; /* an IPv4 route needs an IPv4 next hop: "self" is ::1 */
	assert_true(run_until(b_has, 2));
	assert_string_equal(route_of(&B, "2001:db8:8::/48"),
	                    "2001:db8:8::/48 nh ::1 path 65001 origin i");
	bgp_attrset_unref(s);
}

/* ---- import policy ----------------------------------------------------------------------- */
static int
drop_communities(void *arg, struct bgp_peer *p, struct bgp_attrs *a, uint8_t *buf, size_t cap)
{
	(void)arg;
	(void)p;
	(void)buf;
	(void)cap;
	a->has &= ~BGP_HAS(BGP_ATTR_COMMUNITIES);
	a->communities = (struct bgp_span){NULL, 0};
	return 0;
}

static bool
refuse_10_3(void *arg, struct bgp_peer *p, const struct ip_prefix *q, struct bgp_attrset *set)
{
	struct ip_prefix bad = pfx("10.3.0.0/16");
	(void)arg;
	(void)p;
	(void)set;
	return !ip_prefix_contains(&bad, q);
}

/* The hooks the provider edge plugs its policy into (bgp_pe.h): a rewrite
 * per attribute set, an accept per route. */
static void
test_policy(void **state)
{
	struct bgp_peer_cfg ca = pcfg(addr_a, addr_b, 65002), cb = pcfg(addr_b, addr_a, 65001);
	struct bgp_peer_stats st;
	(void)state;
	speaker(&A, 0x01010101, 65001);
	next_import = drop_communities;
	next_accept = refuse_10_3;
	speaker(&B, 0x02020202, 65002);
	cb.passive = true;
	add_peer(&A, &ca);
	add_peer(&B, &cb);
	assert_true(run_until(both_up, 5));
	struct bgp_attrset *s = mkattrs(A.spk, (const uint32_t[]){65001}, 1, "192.0.2.1", "1:2");
	struct bgp_route r[] = {
	    {pfx("10.1.0.0/16"), s}, {pfx("10.2.0.0/16"), s}, {pfx("10.3.0.0/24"), s}};
	assert_int_equal(bgp_peer_set_routes(A.peer, r, 3), 0);
	want_b = 2;
	assert_true(run_until(b_has, 2));
	run_for(0.1);
	assert_int_equal(B.nroutes, 2);
	assert_string_equal(route_of(&B, "10.1.0.0/16"),
	                    "10.1.0.0/16 nh 192.0.2.1 path 65001 origin i");
	bgp_peer_stats(B.peer, &st);
	assert_int_equal(st.pfx_rcvd[0], 3);
	assert_int_equal(st.pfx_accepted[0], 2);
	/* withdrawing the refused one reports nothing */
	uint64_t ev0 = B.route_events;
	assert_int_equal(bgp_peer_set_routes(A.peer, r, 2), 0);
	run_for(0.3);
	assert_int_equal(B.route_events, ev0);
	bgp_peer_stats(B.peer, &st);
	assert_int_equal(st.pfx_rcvd[0], 2);
	bgp_attrset_unref(s);
}

/* ---- maximum prefix ------------------------------------------------------------------------ */
static bool
a_down(void)
{
	return A.downs > 0 && A.state != BGP_ESTABLISHED;
}

static void
set_n(struct side *s, struct bgp_attrset *set, unsigned n)
{
	struct bgp_route r[16];
	char b[32];
	for (unsigned i = 0; i < n; i++) {
		snprintf(b, sizeof(b), "10.9.%u.0/24", i);
		r[i].pfx = pfx(b);
		r[i].set = set;
	}
	assert_int_equal(bgp_peer_set_routes(s->peer, r, n), 0);
}

static void
test_max_prefix(void **state)
{
	struct bgp_peer_cfg ca = pcfg(addr_a, addr_b, 65002), cb = pcfg(addr_b, addr_a, 65001);
	struct bgp_peer_stats st;
	(void)state;
	cb.passive = true;
	cb.max_prefix[BGP_FAM_IPV4] = 5;
	cb.max_prefix_idle_ms = 1500;
	pair(&ca, &cb);
	assert_true(run_until(both_up, 5));
	struct bgp_attrset *s = mkattrs(A.spk, (const uint32_t[]){65001}, 1, "192.0.2.1", NULL);
	set_n(&A, s, 6);
	assert_true(run_until(a_down, 3));
	/* A received Cease / Maximum Number of Prefixes Reached: IPv4 unicast, 5 */
	assert_false(A.last_notice_sent);
	assert_int_equal(A.last_notice.code, BGP_ERR_CEASE);
	assert_int_equal(A.last_notice.subcode, BGP_CEASE_MAX_PREFIXES);
	assert_int_equal(A.last_notice.len, 7);
	assert_hex(A.last_notice.data, 7, "0001 01 00000005", "Cease/1 data");
	bgp_peer_stats(B.peer, &st);
	assert_int_equal(st.last_sent.code, 6);
	assert_int_equal(st.last_sent.subcode, 1);
	assert_int_equal(bgp_peer_state(B.peer), BGP_IDLE);
	assert_int_equal(st.pfx_rcvd[0], 0); /* the routes went with the session */
	assert_int_equal(B.nroutes, 0);
	/* B holds idle for 1.5 s: A's reconnections are refused meanwhile */
	set_n(&A, s, 5);
	double t0 = now_s();
	assert_true(run_until(both_up, 5));
	double idle = now_s() - t0;
	print_message("# max-prefix: idle %.2f s before the session came back\n", idle);
	assert_true(idle >= 1.4);
	want_b = 5;
	assert_true(run_until(b_has, 2));
	run_for(0.3);
	assert_true(both_up());
	assert_int_equal(B.ups, 2);
	bgp_attrset_unref(s);
}

/* ---- TCP MD5 ----------------------------------------------------------------------------------
 */
static void
md5_pair(const char *ka, const char *kb)
{
	struct bgp_peer_cfg ca = pcfg(addr_a, addr_b, 65002), cb = pcfg(addr_b, addr_a, 65001);
	ca.md5_key = ka;
	cb.md5_key = kb;
	ca.connect_retry_ms = cb.connect_retry_ms = 300;
	pair(&ca, &cb);
}

static void
test_md5(void **state)
{
	(void)state;
	md5_pair("s3cret", "s3cret");
	assert_true(run_until(both_up, 5));
	teardown(NULL);
	setup(NULL);
	md5_pair("s3cret", "other");
	assert_false(run_until(both_up, 1.5));
	assert_int_equal(A.ups + B.ups, 0);
	assert_true(A.state != BGP_OPENSENT && A.state != BGP_OPENCONFIRM);
	teardown(NULL);
	setup(NULL);
	md5_pair("s3cret", NULL);
	assert_false(run_until(both_up, 1.5));
	assert_int_equal(A.ups + B.ups, 0);
}

/* ---- shutdown communication ----------------------------------------------------------------- */
static bool
b_down(void)
{
	return B.downs > 0 && B.state != BGP_ESTABLISHED;
}

static void
test_shutdown(void **state)
{
	const char *text = "maintenance \xe2\x80\x94 back in 10 min";
	(void)state;
	pair_default(false, false);
	assert_true(run_until(both_up, 5));
	assert_int_equal(bgp_peer_stop(A.peer, text), 0);
	assert_true(run_until(b_down, 2));
	assert_false(B.last_notice_sent);
	assert_int_equal(B.last_notice.code, BGP_ERR_CEASE);
	assert_int_equal(B.last_notice.subcode, BGP_CEASE_ADMIN_SHUTDOWN);
	assert_string_equal(B.last_notice.text, text);
	assert_non_null(strstr(B.reason, text));
	/* A stays down: B's reconnections are refused */
	run_for(0.6);
	assert_int_equal(bgp_peer_state(A.peer), BGP_IDLE);
	assert_int_equal(A.ups, 1);
	assert_int_equal(bgp_peer_start(A.peer), 0);
	assert_true(run_until(both_up, 5));
	/* too long a text is refused */
	char lng[300];
	memset(lng, 'x', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = 0;
	assert_int_equal(bgp_peer_stop(A.peer, lng), -EINVAL);
	assert_true(both_up());
}

/* ---- RFC 7606 through a raw peer --------------------------------------------------------------
 */
#define RAW_PATH "4002060201 0000fdeb " /* AS_SEQUENCE 65003 */

static void
raw_update(int fd, const char *attrs, const char *nlri)
{
	uint8_t m[4096];
	size_t n = mk_update(m, sizeof(m), "", attrs, nlri);
	raw_send(fd, m, n);
}

static void
test_rfc7606(void **state)
{
	struct bgp_peer_cfg ca = pcfg(addr_a, addr_r, 65003);
	struct bgp_peer_stats st;
	struct bgp_notification nt;
	uint8_t keep[4096];
	char types[256];
	(void)state;
	speaker(&A, 0x01010101, 65001);
	ca.passive = true;
	add_peer(&A, &ca);
	int fd = raw_connect(addr_r, addr_a);
	raw_open(fd, 65003, 90, 0x03030303);
	assert_true(run_until(a_up, 3));

	raw_update(fd, ORIGIN RAW_PATH NEXTHOP "80040400000064", "18c63364"); /* 198.51.100/24 */
	want_a = 1;
	assert_true(run_until(a_has, 2));
	assert_string_equal(route_of(&A, "198.51.100.0/24"),
	                    "198.51.100.0/24 nh 192.0.2.1 path 65003 origin i med 100");
	/* MED of 3 octets: treat-as-withdraw (RFC 7606 7.4) */
	raw_update(fd, ORIGIN RAW_PATH NEXTHOP "800403000064", "18c63364");
	want_a = 0;
	assert_true(run_until(a_has, 2));
	/* ATOMIC_AGGREGATE of length 1: attribute discard (7.6), the route stands */
	raw_update(fd, ORIGIN RAW_PATH NEXTHOP "40060100", "18c63365");
	want_a = 1;
	assert_true(run_until(a_has, 2));
	assert_string_equal(route_of(&A, "198.51.101.0/24"),
	                    "198.51.101.0/24 nh 192.0.2.1 path 65003 origin i");
	raw_update(fd, ORIGIN RAW_PATH NEXTHOP "400600", "18c63366");
	want_a = 2;
	assert_true(run_until(a_has, 2));
	assert_string_equal(route_of(&A, "198.51.102.0/24"),
	                    "198.51.102.0/24 nh 192.0.2.1 path 65003 origin i atomic");
	bgp_peer_stats(A.peer, &st);
	assert_int_equal(st.treat_as_withdraw, 1);
	assert_int_equal(st.attr_discard, 1);
	assert_int_equal(bgp_peer_state(A.peer), BGP_ESTABLISHED);
	/* an NLRI with a 33-bit IPv4 prefix cannot be parsed: 3/10 and reset */
	raw_update(fd, ORIGIN RAW_PATH NEXTHOP, "21c633640001");
	assert_true(run_until(a_idle, 2));
	raw_read(fd, types, sizeof(types), &nt, keep);
	assert_int_equal(nt.code, BGP_ERR_UPDATE);
	assert_int_equal(nt.subcode, BGP_UPD_BAD_NETWORK);
	assert_int_equal(A.nroutes, 0);
	close(fd);
}

/* Framing errors and a zero hold time, through the raw peer. */
static void
test_header_and_hold_zero(void **state)
{
	struct bgp_peer_cfg ca = pcfg(addr_a, addr_r, 65003);
	struct bgp_peer_stats st;
	struct bgp_notification nt;
	uint8_t keep[4096], m[64];
	char types[256];
	(void)state;
	speaker(&A, 0x01010101, 65001);
	ca.passive = true;
	ca.hold_zero = true;
	add_peer(&A, &ca);
	int fd = raw_connect(addr_r, addr_a);
	raw_open(fd, 65003, 0, 0x03030303); /* hold 0: no keepalives either way */
	assert_true(run_until(a_up, 3));
	bgp_peer_stats(A.peer, &st);
	assert_int_equal(st.hold, 0);
	assert_int_equal(st.keepalive, 0);
	run_for(1.2);
	assert_true(a_up());
	/* a marker that is not all ones: Message Header Error / Not Synchronized */
	size_t n = hx("fffffffffffffffffffffffffffffffe 0013 04", m, sizeof(m));
	raw_send(fd, m, n);
	assert_true(run_until(a_idle, 2));
	raw_read(fd, types, sizeof(types), &nt, keep);
	assert_int_equal(nt.code, BGP_ERR_HEADER);
	assert_int_equal(nt.subcode, BGP_HDR_NOT_SYNC);
	/* no KEEPALIVE after the first (hold 0) */
	assert_string_equal(types, "1 4 2 2 3");
	close(fd);
}

/* The configuration is checked where it comes in. */
static void
test_config(void **state)
{
	struct bgp_peer_cfg c = pcfg(addr_a, addr_b, 65002);
	struct bgp_speaker_cfg bad = {.router_id = 0, .local_as = 65001};
	struct bgp_speaker *s;
	struct bgp_peer *p;
	(void)state;
	assert_int_equal(bgp_speaker_new(&loop, &bad, &s), -EINVAL);
	speaker(&A, 0x01010101, 65001);
	c.remote = addr("::1");
	assert_int_equal(bgp_peer_add(A.spk, &c, &p), -EINVAL); /* families differ */
	c = pcfg(addr_a, addr_b, 65002);
	c.hold = 2;
	assert_int_equal(bgp_peer_add(A.spk, &c, &p), -EINVAL); /* RFC 4271 4.2 */
	c.hold = 0;
	c.md5_key = "0123456789012345678901234567890123456789012345678901234567890123456789"
	            "01234567890";
	assert_int_equal(bgp_peer_add(A.spk, &c, &p), -EINVAL); /* 81 > TCP_MD5SIG_MAXKEYLEN */
	c.md5_key = NULL;
	c.local = addr("192.0.2.77"); /* not an address of this host */
	assert_int_equal(bgp_peer_add(A.spk, &c, &p), UV_EADDRNOTAVAIL);
	c.local = addr(addr_a);
	assert_int_equal(bgp_peer_add(A.spk, &c, &p), 0);
	assert_int_equal(bgp_peer_add(A.spk, &c, &p), -EEXIST);
	assert_string_equal(bgp_peer_name(p), addr_b);
	assert_ptr_equal(bgp_speaker_peer_next(A.spk, NULL), p);
	assert_null(bgp_speaker_peer_next(A.spk, p));
	assert_int_equal(bgp_peer_refresh(p, BGP_FAM_IPV4), -ENOTCONN);
	struct bgp_route r = {pfx("10.0.0.0/8"), NULL};
	assert_int_equal(bgp_peer_set_routes(p, &r, 1), -EINVAL);
	bgp_peer_remove(p, NULL);
	assert_null(bgp_speaker_peer_next(A.spk, NULL));
	/* nobody listens: the attempts back off and nothing breaks */
	c.remote = addr(addr_r);
	c.restart_ms = 50;
	assert_int_equal(bgp_peer_add(A.spk, &c, &p), 0);
	A.peer = p;
	run_for(0.5);
	struct bgp_peer_stats st;
	bgp_peer_stats(p, &st);
	assert_int_equal(st.established_count, 0);
	assert_non_null(strstr(st.last_error, "connect"));
}

/* ---- graceful restart ------------------------------------------------------------------------ */
static bool
b_up_again(void)
{
	return both_up() && B.ups == 2 && A.ups == 2;
}

static void
test_graceful_restart(void **state)
{
	struct bgp_peer_cfg ca = pcfg(addr_a, addr_b, 65002), cb = pcfg(addr_b, addr_a, 65001);
	struct bgp_peer_stats st;
	(void)state;
	cb.gr_fams = BGP_FAM_BIT(BGP_FAM_IPV4) | BGP_FAM_BIT(BGP_FAM_IPV6); /* B "restarts" */
	cb.gr_time = 5;
	pair(&ca, &cb);
	assert_true(run_until(both_up, 5));
	struct bgp_attrset *s = mkattrs(B.spk, (const uint32_t[]){65002}, 1, "192.0.2.2", NULL);
	set_n(&B, s, 3);
	want_a = 3;
	assert_true(run_until(a_has, 2));
	uint64_t ev0 = A.route_events;

	/* B's connection dies without a NOTIFICATION: A keeps the routes stale */
	bgp_peer_drop(B.peer);
	assert_true(run_until(a_down, 2));
	bgp_peer_stats(A.peer, &st);
	assert_int_equal(st.pfx_stale[0], 3);
	assert_int_equal(A.nroutes, 3);
	assert_int_equal(A.route_events, ev0);
	/* B comes back with two of the three: the third goes at End-of-RIB, the
	 * two others are not reported again */
	set_n(&B, s, 2);
	assert_true(run_until(b_up_again, 5));
	want_a = 2;
	assert_true(run_until(a_has, 2));
	run_for(0.2);
	assert_int_equal(A.route_events - ev0, 1);
	bgp_peer_stats(A.peer, &st);
	assert_int_equal(st.pfx_stale[0], 0);
	assert_int_equal(st.pfx_rcvd[0], 2);

	/* a NOTIFICATION is no restart: everything goes */
	bgp_peer_stop(B.peer, NULL);
	want_a = 0;
	assert_true(run_until(a_has, 2));
	bgp_attrset_unref(s);
}

/* The peer restarts while our session still looks Established: a new
 * connection and OPEN (Restart State set) from it. RFC 4724 4.2: the old
 * session ends as a restart (routes stale, no NOTIFICATION), the new one
 * proceeds, End-of-RIB removes what did not come back. */
static bool
a_up_again(void)
{
	return A.state == BGP_ESTABLISHED && A.ups == 2;
}

static void
test_gr_new_open(void **state)
{
	struct bgp_peer_cfg ca = pcfg(addr_a, addr_r, 65003);
	struct bgp_peer_stats st;
	char types[256];
	uint8_t eor[64];
	(void)state;
	speaker(&A, 0x01010101, 65001);
	ca.passive = true;
	add_peer(&A, &ca);
	int fd1 = raw_connect(addr_r, addr_a);
	raw_open_gr(fd1, 65003, 90, 0x03030303, 0);
	assert_true(run_until(a_up, 3));
	raw_update(fd1, ORIGIN RAW_PATH NEXTHOP, "18c63364 18c63365");
	want_a = 2;
	assert_true(run_until(a_has, 2));
	uint64_t ev0 = A.route_events;

	int fd2 = raw_connect(addr_r, addr_a);
	raw_open_gr(fd2, 65003, 90, 0x03030303, BGP_GR_RESTART_FLAG);
	assert_true(run_until(a_up_again, 3));
	bgp_peer_stats(A.peer, &st);
	assert_int_equal(st.pfx_stale[0], 2);
	assert_int_equal(A.route_events, ev0);
	assert_int_equal(st.last_sent.valid, false);     /* no NOTIFICATION on the old one */
	raw_read(fd1, types, sizeof(types), NULL, NULL); /* closed by the speaker */
	raw_update(fd2, ORIGIN RAW_PATH NEXTHOP, "18c63364");
	raw_send(fd2, eor, mk_update(eor, sizeof(eor), "", "", ""));
	want_a = 1;
	assert_true(run_until(a_has, 2));
	bgp_peer_stats(A.peer, &st);
	assert_int_equal(st.pfx_stale[0], 0);
	assert_int_equal(A.route_events - ev0, 1);
	assert_string_equal(route_of(&A, "198.51.100.0/24"),
	                    "198.51.100.0/24 nh 192.0.2.1 path 65003 origin i");
	close(fd1);
	close(fd2);
}

/* ---- route refresh ----------------------------------------------------------------------------
 */
static void
test_route_refresh(void **state)
{
	struct bgp_peer_stats st0, st1;
	struct bgp_peer_cfg ca = pcfg(addr_a, addr_b, 65002), cb = pcfg(addr_b, addr_a, 65001);
	(void)state;
	ca.enhanced_rr = cb.enhanced_rr = true;
	cb.passive = true;
	pair(&ca, &cb);
	assert_true(run_until(both_up, 5));
	struct bgp_attrset *s = mkattrs(B.spk, (const uint32_t[]){65002}, 1, "192.0.2.2", NULL);
	set_n(&B, s, 4);
	want_a = 4;
	assert_true(run_until(a_has, 2));
	run_for(0.1);
	uint64_t ev0 = A.route_events;
	bgp_peer_stats(A.peer, &st0);
	assert_int_equal(bgp_peer_refresh(A.peer, BGP_FAM_IPV4), 0);
	run_for(0.3);
	bgp_peer_stats(A.peer, &st1);
	assert_int_equal(st1.out_type[BGP_ROUTE_REFRESH] - st0.out_type[BGP_ROUTE_REFRESH], 1);
	assert_int_equal(st1.in_type[BGP_UPDATE] - st0.in_type[BGP_UPDATE], 1);
	/* enhanced route refresh (RFC 7313): between BoRR and EoRR */
	assert_int_equal(st1.in_type[BGP_ROUTE_REFRESH] - st0.in_type[BGP_ROUTE_REFRESH], 2);
	assert_int_equal(A.route_events, ev0); /* the same routes: nothing new */
	assert_int_equal(st1.pfx_rcvd[0], 4);
	assert_int_equal(bgp_peer_refresh(A.peer, BGP_FAM_IPV6), 0);
	assert_int_equal(bgp_peer_refresh(A.peer, 7), -EOPNOTSUPP);
	bgp_attrset_unref(s);
}

/* ---- bulk ------------------------------------------------------------------------------------ */
static uint32_t bulk_n;
static bool
b_bulk(void)
{
	struct bgp_peer_stats st;
	bgp_peer_stats(B.peer, &st);
	return st.pfx_rcvd[0] == bulk_n;
}

static void
test_bulk(void **state)
{
	const char *env = getenv("BGP_TEST_BULK");
	struct bgp_route *r;
	struct bgp_attrset *sets[300];
	(void)state;
	bulk_n = env ? (uint32_t)atoi(env) : 100000;
	pair_default(false, true);
	assert_true(run_until(both_up, 5));
	B.count_only = true;
	r = malloc(bulk_n * sizeof(*r));
	assert_non_null(r);
	for (unsigned i = 0; i < 300; i++)
		sets[i] = mkattrs(A.spk, (const uint32_t[]){65001, 64512 + i, 3356}, 3, "192.0.2.1",
		                  "65001:1");
	for (uint32_t i = 0; i < bulk_n; i++) {
		memset(&r[i].pfx, 0, sizeof(r[i].pfx));
		r[i].pfx.a.af = IP_V4;
		r[i].pfx.len = 24;
		r[i].pfx.a.b[0] = (uint8_t)(1 + i / 65536);
		r[i].pfx.a.b[1] = (uint8_t)(i / 256);
		r[i].pfx.a.b[2] = (uint8_t)i;
		r[i].set = sets[i % 300];
	}
	double t0 = now_s();
	assert_int_equal(bgp_peer_set_routes(A.peer, r, bulk_n), 0);
	assert_true(run_until(b_bulk, 120));
	double dt = now_s() - t0;
	struct bgp_peer_stats st;
	bgp_peer_stats(B.peer, &st);
	print_message("# bulk: %u routes A -> B in %.2f s (%.0f routes/s, %lu UPDATEs), "
	              "B holds %zu bytes (%.1f bytes/route with its Adj-RIB-In)\n",
	              bulk_n, dt, bulk_n / dt, (unsigned long)st.in_type[BGP_UPDATE],
	              bgp_speaker_mem(B.spk), (double)bgp_speaker_mem(B.spk) / bulk_n);
	for (unsigned i = 0; i < 300; i++)
		bgp_attrset_unref(sets[i]);
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_up_passive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_up_collision, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_min_hold, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hold_expiry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_as4, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ipv6_session, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_updates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_max_prefix, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_md5, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rfc7606, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_header_and_hold_zero, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_graceful_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gr_new_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_route_refresh, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bulk, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
