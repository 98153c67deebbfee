/*
 * bgp_speaker_drv.c - the strait BGP speaker (src/bgp/bgp_speaker.h) as a
 * standalone program, for interop tests against real routers
 * (tests/interop/bird.sh): peers from the command line, prefixes to announce,
 * commands on stdin, everything that happens printed as lines on stdout.
 *
 *   bgp_speaker_drv --id 127.0.10.1 --as 12076 [--port N] [--log]
 *       --peer local=IP,remote=IP,as=N[,passive][,md5=KEY][,hold=S][,min_hold=S]
 *              [,max4=N][,max6=N][,idle=MS][,restart=MS][,remote_port=N]...
 *       [--announce P,P,...] [--nh4 IP] [--nh6 IP] [--path "12076 65515"]
 *       [--comm "12076:50010 ..."] [--quiet] [--forward]
 *
 * --quiet: no "route" lines (a million routes printed cost more than the speaker
 * takes them in: bench/bgp.sh). --forward: every route a peer sends is advertised
 * to every other peer, as an eBGP router does: the speaker's AS prepended, next
 * hop self, MED and LOCAL_PREF not passed on; withdrawals too (bench/bgp.sh's
 * propagation). The announce and withdraw commands set the whole advertised set,
 * forwarded routes included: not for use with --forward.
 *
 * stdin, one command a line: announce P..., withdraw P..., stop [TEXT] (an
 * administrative shutdown with that RFC 9003 text), start, drop (TCP closed
 * without NOTIFICATION), stats, quit. stdout:
 *
 *   ready
 *   state PEER FROM TO [sent|received C/S "TEXT"]
 *   route PEER + PREFIX nh ... path ... origin ... comm ...
 *   route PEER - PREFIX
 *   stats PEER state=S rcvd4=N rcvd6=N adv4=N adv6=N in=N out=N last_error="..."
 *
 * SIGTERM or SIGINT: every peer removed (Cease), then exit 0. Exit 2 on a
 * bad command line, 1 when a peer cannot be added (bind, TCP MD5).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "bgp/bgp_speaker.h"
#include "lib/lib.h"

#define MAX_PEERS 16

static uv_loop_t *loop;
static struct bgp_speaker *spk;
static struct bgp_peer *peers[MAX_PEERS];
static int npeers;
static struct ip_prefix *ann;
static size_t nann, capann;
static struct bgp_attrset *set4, *set6;
static bool logging, quitting, quiet, forwarding;
static uint32_t as_local;
static uv_signal_t sig_term, sig_int;
static uv_pipe_t in_pipe;
static bool in_open;
static char inbuf[65536];
static size_t inlen;

static void
on_log(void *arg, struct bgp_peer *p, int level, const char *msg)
{
	(void)arg;
	(void)p;
	if (logging || level <= 1)
		fprintf(stderr, "bgp[%d] %s\n", level, msg);
}

static void
on_state(void *arg, struct bgp_peer *p, const struct bgp_state_change *c)
{
	(void)arg;
	printf("state %s %s %s", bgp_peer_name(p), bgp_state_name(c->from), bgp_state_name(c->to));
	if (c->notice)
		printf(" %s %u/%u \"%s\"", c->notice_sent ? "sent" : "received", c->notice->code,
		       c->notice->subcode, c->notice->text);
	printf("\n");
}

/* ---- forwarding: each received set and the set it is sent on as -------------------- */

struct fset {
	struct bgp_attrset *in, *out;
};
static struct fset *fsets; /* open addressing by the received set's address */
static size_t nfsets, capfsets;

static struct fset *
fset_slot(const struct bgp_attrset *in)
{
	size_t h = (size_t)(((uintptr_t)in >> 4) * 0x9e3779b97f4a7c15ull);
	for (size_t i = h & (capfsets - 1);; i = (i + 1) & (capfsets - 1))
		if (!fsets[i].in || fsets[i].in == in)
			return &fsets[i];
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The set a received one is sent on as (cached; the cache holds both). */
static struct bgp_attrset *
fwd_set(struct bgp_attrset *in)
{
	if (capfsets && fset_slot(in)->in)
		return fset_slot(in)->out;
	struct bgp_attrs a;
	bgp_attrset_get(in, &a);
	uint8_t buf[2 * 65536 + 8];
	const uint8_t *p = a.aspath.p;
	size_t n = 0;
	if (a.aspath.len >= 2 && p[0] == BGP_AS_SEQUENCE && p[1] < 255) {
		buf[n++] = BGP_AS_SEQUENCE, buf[n++] = (uint8_t)(p[1] + 1);
		put32(buf + n, as_local), n += 4;
		memcpy(buf + n, p + 2, a.aspath.len - 2u), n += a.aspath.len - 2u;
	} else {
		buf[n++] = BGP_AS_SEQUENCE, buf[n++] = 1;
		put32(buf + n, as_local), n += 4;
		memcpy(buf + n, p, a.aspath.len), n += a.aspath.len;
	}
	a.aspath = (struct bgp_span){buf, (uint16_t)n};
	a.aspath_wide = true;
	a.has |= BGP_HAS(BGP_ATTR_AS_PATH);
	a.has &= ~(BGP_HAS(BGP_ATTR_MED) | BGP_HAS(BGP_ATTR_LOCAL_PREF));
	a.nexthop.af = 0; /* next hop self */
	a.nexthop_ll.af = 0;
	struct bgp_attrset *out = bgp_attrset_intern(spk, &a);
	if (!out)
		return NULL;
	if ((nfsets + 1) * 2 > capfsets) { /* rehash into twice the room */
		struct fset *old = fsets;
		size_t oc = capfsets;
		capfsets = capfsets ? capfsets * 2 : 256;
		fsets = lib_xcalloc(capfsets, sizeof(*fsets));
		for (size_t i = 0; i < oc; i++)
			if (old[i].in)
				*fset_slot(old[i].in) = old[i];
		free(old);
	}
	*fset_slot(in) = (struct fset){bgp_attrset_ref(in), out};
	nfsets++;
	return out;
}

/* A route from p goes to every other peer, as one change of what each is sent. */
static void
forward(struct bgp_peer *p, const struct ip_prefix *pfx, struct bgp_attrset *set)
{
	struct bgp_attrset *out = set ? fwd_set(set) : NULL;
	if (set && !out)
		return;
	for (int k = 0; k < npeers; k++)
		if (peers[k] != p)
			bgp_peer_route(peers[k], pfx, out);
}

static void
fwd_free(void)
{
	for (size_t i = 0; i < capfsets; i++)
		if (fsets[i].in) {
			bgp_attrset_unref(fsets[i].in);
			bgp_attrset_unref(fsets[i].out);
		}
	free(fsets);
	fsets = NULL;
	nfsets = capfsets = 0;
}

static void
on_route(void *arg, struct bgp_peer *p, const struct ip_prefix *pfx, struct bgp_attrset *set)
{
	char ps[IP_STRLEN], as[1024];
	(void)arg;
	if (forwarding && !quitting)
		forward(p, pfx, set);
	if (quiet)
		return;
	ip_prefix_fmt(pfx, ps);
	if (!set) {
		printf("route %s - %s\n", bgp_peer_name(p), ps);
		return;
	}
	bgp_attrset_fmt(set, as, sizeof(as));
	printf("route %s + %s %s\n", bgp_peer_name(p), ps, as);
}

static void
push_routes(void)
{
	struct bgp_route *r = calloc(nann ? nann : 1, sizeof(*r));
	for (size_t i = 0; i < nann; i++) {
		r[i].pfx = ann[i];
		r[i].set = ann[i].a.af == IP_V4 ? set4 : set6;
	}
	for (int i = 0; i < npeers; i++)
		bgp_peer_set_routes(peers[i], r, nann);
	free(r);
}

static int
announce(const char *s, bool add)
{
	struct ip_prefix p;
	if (ip_prefix_parse(s, &p) != 0) {
		fprintf(stderr, "bad prefix '%s'\n", s);
		return -EINVAL;
	}
	for (size_t i = 0; i < nann; i++)
		if (ip_prefix_cmp(&ann[i], &p) == 0) {
			if (!add)
				ann[i] = ann[--nann];
			return 0;
		}
	if (!add)
		return 0;
	if (nann == capann) {
		capann = capann ? capann * 2 : 64;
		ann = lib_xrealloc(ann, capann * sizeof(*ann));
	}
	ann[nann++] = p;
	return 0;
}

static void
stats_line(struct bgp_peer *p)
{
	struct bgp_peer_stats st;
	bgp_peer_stats(p, &st);
	printf("stats %s state=%s rcvd4=%u rcvd6=%u adv4=%u adv6=%u in=%lu out=%lu "
	       "last_error=\"%s\"\n",
	       bgp_peer_name(p), bgp_state_name(st.state), st.pfx_rcvd[0], st.pfx_rcvd[1],
	       st.pfx_adv[0], st.pfx_adv[1], (unsigned long)st.msgs_in, (unsigned long)st.msgs_out,
	       st.last_error);
}

static void
shutdown_all(void)
{
	if (quitting)
		return;
	quitting = true;
	if (forwarding)
		fwd_free();
	bgp_attrset_unref(set4);
	bgp_attrset_unref(set6);
	set4 = set6 = NULL;
	for (int i = 0; i < npeers; i++)
		bgp_peer_remove(peers[i], NULL);
	npeers = 0;
	bgp_speaker_free(spk);
	uv_close((uv_handle_t *)&sig_term, NULL);
	uv_close((uv_handle_t *)&sig_int, NULL);
	if (in_open)
		uv_close((uv_handle_t *)&in_pipe, NULL);
	in_open = false;
}

static void
command(char *line)
{
	char *cmd = strtok(line, " \t"), *arg;
	bool changed = false;

	if (!cmd)
		return;
	if (strcmp(cmd, "announce") == 0 || strcmp(cmd, "withdraw") == 0) {
		while ((arg = strtok(NULL, " \t")))
			changed |= announce(arg, cmd[0] == 'a') == 0;
		if (changed)
			push_routes();
	} else if (strcmp(cmd, "stop") == 0) {
		arg = strtok(NULL, "");
		for (int i = 0; i < npeers; i++)
			bgp_peer_stop(peers[i], arg);
	} else if (strcmp(cmd, "start") == 0) {
		for (int i = 0; i < npeers; i++)
			bgp_peer_start(peers[i]);
	} else if (strcmp(cmd, "drop") == 0) {
		for (int i = 0; i < npeers; i++)
			bgp_peer_drop(peers[i]);
	} else if (strcmp(cmd, "stats") == 0) {
		for (int i = 0; i < npeers; i++)
			stats_line(peers[i]);
	} else if (strcmp(cmd, "quit") == 0) {
		shutdown_all();
	} else {
		fprintf(stderr, "unknown command '%s'\n", cmd);
	}
}

static void
in_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
	(void)h;
	(void)sz;
	b->base = inbuf + inlen;
	b->len = sizeof(inbuf) - inlen - 1;
}

static void
in_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	char *nl;
	(void)b;
	if (n < 0) { /* EOF: keep running until a signal */
		uv_close((uv_handle_t *)st, NULL);
		in_open = false;
		return;
	}
	inlen += (size_t)n;
	inbuf[inlen] = 0;
	while ((nl = strchr(inbuf, '\n'))) {
		*nl = 0;
		command(inbuf);
		if (quitting)
			return;
		inlen -= (size_t)(nl + 1 - inbuf);
		memmove(inbuf, nl + 1, inlen);
		inbuf[inlen] = 0;
	}
	if (inlen == sizeof(inbuf) - 1)
		inlen = 0; /* an absurd line: dropped */
}

static void
on_signal(uv_signal_t *s, int sig)
{
	(void)s;
	(void)sig;
	shutdown_all();
}

/* ---- command line ------------------------------------------------------------------ */
static int
parse_addr(const char *s, struct ip_addr *a)
{
	if (ip_addr_parse(s, a) != 0) {
		fprintf(stderr, "bad address '%s'\n", s);
		return -1;
	}
	return 0;
}

static int
parse_peer(char *spec, struct bgp_peer_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->restart_ms = 1000;
	c->connect_retry_ms = 5000;
	for (char *kv = strtok(spec, ","); kv; kv = strtok(NULL, ",")) {
		char *v = strchr(kv, '=');
		if (v)
			*v++ = 0;
		if (strcmp(kv, "local") == 0 && v) {
			if (parse_addr(v, &c->local))
				return -1;
		} else if (strcmp(kv, "remote") == 0 && v) {
			if (parse_addr(v, &c->remote))
				return -1;
		} else if (strcmp(kv, "as") == 0 && v) {
			c->remote_as = (uint32_t)strtoul(v, NULL, 10);
		} else if (strcmp(kv, "passive") == 0) {
			c->passive = true;
		} else if (strcmp(kv, "md5") == 0 && v) {
			c->md5_key = v;
		} else if (strcmp(kv, "hold") == 0 && v) {
			c->hold = (uint16_t)atoi(v);
		} else if (strcmp(kv, "min_hold") == 0 && v) {
			c->min_hold = (uint16_t)atoi(v);
		} else if (strcmp(kv, "max4") == 0 && v) {
			c->max_prefix[BGP_FAM_IPV4] = (uint32_t)atoi(v);
		} else if (strcmp(kv, "max6") == 0 && v) {
			c->max_prefix[BGP_FAM_IPV6] = (uint32_t)atoi(v);
		} else if (strcmp(kv, "idle") == 0 && v) {
			c->max_prefix_idle_ms = (uint32_t)atoi(v);
		} else if (strcmp(kv, "restart") == 0 && v) {
			c->restart_ms = (uint32_t)atoi(v);
		} else if (strcmp(kv, "remote_port") == 0 && v) {
			c->remote_port = (uint16_t)atoi(v);
		} else {
			fprintf(stderr, "bad peer option '%s'\n", kv);
			return -1;
		}
	}
	if (!c->local.af || !c->remote.af) {
		fprintf(stderr, "a peer needs local= and remote=\n");
		return -1;
	}
	return 0;
}

/* The attribute set of the announced routes of one family. */
static struct bgp_attrset *
make_set(const char *path, const char *comm, const struct ip_addr *nh)
{
	uint8_t pb[2 + 4 * 64], cb[4 * 64];
	struct bgp_attrs a;
	size_t np = 0, nc = 0;
	char tmp[1024], *t;

	memset(&a, 0, sizeof(a));
	a.has = BGP_HAS(BGP_ATTR_ORIGIN) | BGP_HAS(BGP_ATTR_AS_PATH);
	a.origin = BGP_ORIGIN_IGP;
	a.aspath_wide = true;
	snprintf(tmp, sizeof(tmp), "%s", path ? path : "");
	for (t = strtok(tmp, " "); t && np < 64; t = strtok(NULL, " ")) {
		uint32_t as = (uint32_t)strtoul(t, NULL, 10);
		pb[2 + 4 * np] = (uint8_t)(as >> 24);
		pb[3 + 4 * np] = (uint8_t)(as >> 16);
		pb[4 + 4 * np] = (uint8_t)(as >> 8);
		pb[5 + 4 * np] = (uint8_t)as;
		np++;
	}
	pb[0] = BGP_AS_SEQUENCE;
	pb[1] = (uint8_t)np;
	a.aspath = (struct bgp_span){pb, (uint16_t)(np ? 2 + 4 * np : 0)};
	snprintf(tmp, sizeof(tmp), "%s", comm ? comm : "");
	for (t = strtok(tmp, " "); t && nc < sizeof(cb); t = strtok(NULL, " ")) {
		unsigned hi, lo;
		if (sscanf(t, "%u:%u", &hi, &lo) != 2)
			continue;
		cb[nc++] = (uint8_t)(hi >> 8);
		cb[nc++] = (uint8_t)hi;
		cb[nc++] = (uint8_t)(lo >> 8);
		cb[nc++] = (uint8_t)lo;
	}
	if (nc) {
		a.has |= BGP_HAS(BGP_ATTR_COMMUNITIES);
		a.communities = (struct bgp_span){cb, (uint16_t)nc};
	}
	if (nh)
		a.nexthop = *nh;
	return bgp_attrset_intern(spk, &a);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bgp_speaker_drv --id IPV4 --as N [--port N] [--log] --peer "
	                "local=IP,remote=IP,as=N[,...]... [--announce P,...] [--nh4 IP] [--nh6 IP] "
	                "[--path \"AS ...\"] [--comm \"a:b ...\"] [--quiet] [--forward]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct bgp_speaker_cfg sc = {.on_state = on_state, .on_route = on_route, .on_log = on_log};
	struct bgp_peer_cfg pc[MAX_PEERS];
	struct ip_addr id, nh4 = {0}, nh6 = {0};
	const char *path = NULL, *comm = NULL;
	char *anns = NULL;
	int np = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(o, "--log") == 0) {
			logging = true;
			continue;
		}
		if (strcmp(o, "--quiet") == 0) {
			quiet = true;
			continue;
		}
		if (strcmp(o, "--forward") == 0) {
			forwarding = true;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (strcmp(o, "--id") == 0) {
			if (parse_addr(v, &id) || id.af != IP_V4)
				usage();
			sc.router_id = bgp_get32(id.b);
		} else if (strcmp(o, "--as") == 0) {
			sc.local_as = (uint32_t)strtoul(v, NULL, 10);
		} else if (strcmp(o, "--port") == 0) {
			sc.port = (uint16_t)atoi(v);
		} else if (strcmp(o, "--peer") == 0) {
			if (np == MAX_PEERS || parse_peer(argv[i], &pc[np++]))
				usage();
		} else if (strcmp(o, "--announce") == 0) {
			anns = argv[i];
		} else if (strcmp(o, "--nh4") == 0) {
			if (parse_addr(v, &nh4))
				usage();
		} else if (strcmp(o, "--nh6") == 0) {
			if (parse_addr(v, &nh6))
				usage();
		} else if (strcmp(o, "--path") == 0) {
			path = v;
		} else if (strcmp(o, "--comm") == 0) {
			comm = v;
		} else {
			usage();
		}
	}
	if (!sc.router_id || !sc.local_as || np == 0)
		usage();
	loop = uv_default_loop();
	as_local = sc.local_as;
	if (forwarding)
		sc.adv_delay_ms = 1; /* a router passes routes on at once */
	if (bgp_speaker_new(loop, &sc, &spk) != 0)
		usage();
	set4 = make_set(path, comm, nh4.af ? &nh4 : NULL);
	set6 = make_set(path, comm, nh6.af ? &nh6 : nh4.af ? &nh4 : NULL);
	for (char *t = anns ? strtok(anns, ", ") : NULL; t; t = strtok(NULL, ", "))
		if (announce(t, true) != 0)
			usage();
	for (int i = 0; i < np; i++) {
		int rc = bgp_peer_add(spk, &pc[i], &peers[npeers]);
		if (rc != 0) {
			char ra[IP_STRLEN];
			fprintf(stderr, "peer %s: %s\n", ip_addr_fmt(&pc[i].remote, ra),
			        strerror(-rc));
			shutdown_all();
			uv_run(loop, UV_RUN_DEFAULT);
			return 1;
		}
		npeers++;
	}
	push_routes();
	uv_signal_init(loop, &sig_term);
	uv_signal_init(loop, &sig_int);
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	if (uv_pipe_init(loop, &in_pipe, 0) == 0) {
		if (uv_pipe_open(&in_pipe, 0) == 0 &&
		    uv_read_start((uv_stream_t *)&in_pipe, in_alloc, in_read) == 0)
			in_open = true;
		else
			uv_close((uv_handle_t *)&in_pipe, NULL);
	}
	printf("ready\n");
	uv_run(loop, UV_RUN_DEFAULT);
	free(ann);
	uv_loop_close(loop);
	return 0;
}
