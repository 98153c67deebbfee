/*
 * bgp_svc.h - the provider edge of the estate's circuits, live in straitd.
 *
 * For every circuit peering that sets `listen:` (private or Microsoft peering),
 * straitd runs the MSEE's side of both links' eBGP sessions (AS 12076) on one
 * speaker (bgp_speaker.h) with the provider-edge policy (bgp_pe.h): the
 * customer's router peers with the estate on loopback, at the link /30's
 * addresses mapped into the listen prefix (host bits kept).
 *
 * Routes in: what a site's routers announce on private peering replaces the
 * site's declared prefixes in the estate the daemon holds (a live estate: the
 * routing engine, `strait routes`, traces and checks see what BGP says; a site
 * whose sessions are all down has no prefixes). Routes out: what the routing
 * engine says the circuit carries to the site (rt_circuit_adv: the connected
 * gateways' VNets with AS path 12076 65515 and the regional community,
 * Global Reach sites' prefixes). Both are recomputed within ADV_DELAY_MS of
 * a change: a route learned or lost, a session up or down, an estate
 * reloaded (a connection made or removed by a recovery plan).
 *
 * Microsoft peering: nothing is advertised (strait has no table of Microsoft's
 * service prefixes), received routes pass its filters but stay out of the
 * routing engine.
 *
 * Azure's per-link failover tests: a BGP disconnect (the session shut down,
 * Cease / Administrative Shutdown, until the test ends) and an AS-path prepend
 * (the link's advertisements carry extra 12076s).
 *
 * Everything runs on the daemon's loop thread.
 */
#ifndef STRAIT_BGP_SVC_H
#define STRAIT_BGP_SVC_H

#include "estate/est.h"

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

struct bgp_svc_opts {
	uint16_t port;               /* listened on and connected to; 0: 179 */
	uint32_t router_id;          /* host order; 0: the first session's local address */
	uint32_t min_hold;           /* 0: BGP_PE_HOLD_MIN (10 s); tests go lower */
	uint32_t restart_ms;         /* idle hold after a failure; 0: the speaker's (1 s) */
	uint32_t max_prefix_idle_ms; /* after a maximum-prefix Cease; 0: 60 s */
	/* the next hop of advertised routes: the link's MSEE address as the estate
	 * has it (192.168.100.130), not its loopback mapping (127.168.100.130) that
	 * the session runs on; for routers that drop a 127/8 next hop (GoBGP) */
	bool nexthop_link;
	void (*log)(void *arg, const char *msg);
	void *log_arg;
};

struct bgp_svc;

/* Peerings with `listen:` in e: 0 and *out (NULL when there are none), or a
 * negative errno with err (a session that cannot bind its address). */
int bgp_svc_start(uv_loop_t *loop, struct estate *e, const struct bgp_svc_opts *o,
                  struct bgp_svc **out, char *err, size_t errlen);
/* The estate was reloaded: sessions added, removed or kept, learned routes put
 * into the new estate, advertisements recomputed. */
void bgp_svc_reload(struct bgp_svc *s, struct estate *e);
/* Every session ends (Cease); the memory goes when the loop has run. */
void bgp_svc_stop(struct bgp_svc *s);
size_t bgp_svc_nsessions(const struct bgp_svc *s);

/* {"sessions": [...]} (bgp_svc.c says the fields). */
json_t *bgp_svc_summary(struct bgp_svc *s);
/* The routes of one session: received (Adj-RIB-In) or advertised
 * (Adj-RIB-Out). peering: "private" or "microsoft"; link: "primary" or
 * "secondary". NULL with err when there is no such session. */
json_t *bgp_svc_routes(struct bgp_svc *s, const char *circuit, const char *peering,
                       const char *link, bool advertised, char *err, size_t errlen);
/* A failover test on one link: "disconnect", "prepend" (count extra 12076s,
 * 1 to 10) or "stop" (every test of the link ends). 0, or -ENOENT / -EINVAL
 * with err. */
int bgp_svc_test(struct bgp_svc *s, const char *circuit, const char *peering, const char *link,
                 const char *action, unsigned count, char *err, size_t errlen);

#endif
