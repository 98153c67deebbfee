/*
 * bgp_svc.c - the provider edge of the estate's circuits, live in straitd
 * (bgp_svc.h says what it does).
 *
 * Invariants:
 * - one session per (circuit name, peering, link); a reload keeps a session whose
 *   addresses, AS, key and tier are unchanged (it stays Established), and replaces
 *   the others;
 * - a session's peer udata points at its struct sess until the peer is removed;
 *   callbacks for a peer with no udata are ignored (it is going);
 * - learned prefixes live in arrays this service owns, one per site that has a
 *   listening private peering; the estate's site points at them (its declared
 *   prefixes are not used while the service runs), and every reload points the
 *   new estate's sites at them again;
 * - every change (route, session state, reload, test) marks the service dirty
 *   and arms one timer: the recompute runs at most every ADV_DELAY_MS, so a
 *   burst of a million routes costs one recompute, not a million.
 * Limits: the recompute walks every listening session's Adj-RIB-In and builds
 * the routing engine's control plane (rt_build): linear in the routes, tens of
 * milliseconds for a large estate.
 */
#include "bgp/bgp_svc.h"

#include "bgp/bgp_pe.h"
#include "bgp/bgp_speaker.h"
#include "lib/lib.h"
#include "route/rt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADV_DELAY_MS 20
#define PREPEND_MAX  10

static const char *const peering_names[] = {"private", "microsoft"};
static const char *const link_names[] = {"primary", "secondary"};

struct sess {
	char *circuit;
	int peering; /* enum bgp_pe_peering */
	int side;    /* enum est_link_side */
	struct ip_addr local, remote;
	struct ip_addr nexthop; /* of what it advertises: local, or the link's own address */
	uint32_t peer_as;
	char *md5;
	struct bgp_pe_cfg pe;
	uint32_t max4, max6;
	struct bgp_peer *p;
	uint32_t ci;   /* circuit index in the current estate */
	uint32_t site; /* its site's, EST_NONE when unresolved */
	bool keep;     /* reload: still wanted */
	bool test_down;
	unsigned test_prepend;
	char name[128];
};

struct site_pfx { /* the learned prefixes of one site */
	char *site;
	struct ip_prefix *v;
	uint32_t n;
};

struct bgp_svc {
	uv_loop_t *loop;
	struct estate *e;
	struct bgp_svc_opts o;
	struct bgp_speaker *spk;
	struct lib_vec sess;  /* struct sess * */
	struct lib_vec sites; /* struct site_pfx */
	uv_timer_t timer;
	bool dirty, stopping;
	uint64_t recomputes;
};

static void logf_(struct bgp_svc *s, const char *fmt, ...) LIB_PRINTF(2, 3);

static void
logf_(struct bgp_svc *s, const char *fmt, ...)
{
	if (!s->o.log)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->o.log(s->o.log_arg, msg);
}

static struct sess *
sess_at(const struct bgp_svc *s, size_t i)
{
	return ((struct sess **)s->sess.v)[i];
}

/* The link address (nth 1: the customer's, 2: the MSEE's) mapped into listen. */
static bool
map_addr(const struct est_peering_cfg *pc, int side, uint64_t nth, struct ip_addr *out)
{
	struct ip_addr a;
	if (!pc->link_net[side].a.af || !ip_prefix_nth(&pc->link_net[side], nth, &a))
		return false;
	*out = pc->listen.a;
	for (unsigned bit = pc->listen.len; bit < 32; bit++) {
		uint8_t m = (uint8_t)(0x80u >> (bit & 7));
		out->b[bit >> 3] = (uint8_t)((out->b[bit >> 3] & ~m) | (a.b[bit >> 3] & m));
	}
	return true;
}

/* ---- the recompute ---------------------------------------------------------------- */

static void arm(struct bgp_svc *s);

static struct site_pfx *
site_learned(struct bgp_svc *s, const char *site, bool add)
{
	struct site_pfx *v = s->sites.v;
	for (size_t i = 0; i < s->sites.n; i++)
		if (!strcmp(v[i].site, site))
			return &v[i];
	if (!add)
		return NULL;
	struct site_pfx *n = lib_vec_push(&s->sites);
	n->site = lib_xstrdup(site);
	return n;
}

struct collect {
	struct lib_vec v; /* struct ip_prefix */
	const struct sess *x;
};

/* A route of the Adj-RIB-In the policy accepts (the walk shows rejected ones too). */
static void
collect_route(void *arg, const struct ip_prefix *pfx, struct bgp_attrset *set, bool stale)
{
	(void)stale;
	struct collect *c = arg;
	struct bgp_attrs a;
	const char *why;
	bgp_attrset_get(set, &a);
	if (bgp_pe_accept(&c->x->pe, pfx, &a, &why))
		*(struct ip_prefix *)lib_vec_push(&c->v) = *pfx;
}

static int
pfx_cmp(const void *a, const void *b)
{
	return ip_prefix_cmp(a, b);
}

/* Routes in: each listening site's prefixes are those its Established private
 * peering sessions hold, deduplicated. */
static void
learn(struct bgp_svc *s)
{
	struct site_pfx *sp = s->sites.v;
	for (size_t k = 0; k < s->sites.n; k++) {
		struct collect c;
		lib_vec_init(&c.v, sizeof(struct ip_prefix));
		for (size_t i = 0; i < s->sess.n; i++) {
			struct sess *x = sess_at(s, i);
			if (x->peering != BGP_PE_PRIVATE || x->site == EST_NONE ||
			    strcmp(s->e->sites.v[x->site].name, sp[k].site) ||
			    bgp_peer_state(x->p) != BGP_ESTABLISHED)
				continue;
			c.x = x;
			bgp_peer_routes_in(x->p, collect_route, &c);
		}
		struct ip_prefix *v = c.v.v;
		if (c.v.n)
			qsort(v, c.v.n, sizeof(*v), pfx_cmp);
		size_t n = 0;
		for (size_t i = 0; i < c.v.n; i++)
			if (!n || ip_prefix_cmp(&v[n - 1], &v[i]))
				v[n++] = v[i];
		free(sp[k].v);
		sp[k].v = v;
		sp[k].n = (uint32_t)n;
	}
}

/* Points the estate's listening sites at their learned prefixes. */
static void
install(struct bgp_svc *s)
{
	for (uint32_t i = 0; i < s->e->sites.n; i++) {
		struct est_site *site = &s->e->sites.v[i];
		struct site_pfx *sp = site_learned(s, site->name, false);
		if (sp) {
			site->prefixes.v = sp->v;
			site->prefixes.n = sp->n;
		}
	}
}

struct setcache {
	struct bgp_pe_out o;
	struct bgp_attrset *set;
};

static struct bgp_attrset *
out_set(struct bgp_svc *s, const struct sess *x, const struct bgp_pe_out *o, struct lib_vec *cache)
{
	struct setcache *c = cache->v;
	for (size_t i = 0; i < cache->n; i++)
		if (!memcmp(&c[i].o, o, sizeof(*o)))
			return c[i].set;
	struct bgp_attrs a;
	uint8_t buf[BGP_PE_OUT_ROOM];
	if (bgp_pe_attrs_out(&x->pe, o, &a, buf, sizeof(buf)))
		return NULL;
	struct setcache *n = lib_vec_push(cache);
	n->o = *o;
	n->set = bgp_attrset_intern(s->spk, &a);
	return n->set;
}

/* Routes out: what the routing engine says each session's circuit link carries. */
static void
advertise(struct bgp_svc *s)
{
	struct rt_net *n = NULL;
	if (rt_build(s->e, NULL, 0, &n)) {
		logf_(s, "bgp: the routing engine failed; advertisements unchanged");
		return;
	}
	for (size_t i = 0; i < s->sess.n; i++) {
		struct sess *x = sess_at(s, i);
		struct rt_adv *adv = NULL;
		size_t nadv = 0;
		if (x->peering == BGP_PE_PRIVATE && x->ci != EST_NONE)
			nadv = rt_circuit_adv(n, x->ci, x->side, &adv);
		struct bgp_route *r = nadv ? lib_xcalloc(nadv, sizeof(*r)) : NULL;
		struct lib_vec cache;
		lib_vec_init(&cache, sizeof(struct setcache));
		size_t k = 0;
		for (size_t j = 0; j < nadv; j++) {
			struct bgp_pe_out o;
			memset(&o, 0, sizeof(o)); /* compared whole: no stray padding */
			o.nexthop = x->nexthop;
			o.via_gateway = adv[j].gateway;
			o.prepend = x->test_prepend;
			o.region_xx = adv[j].region < s->e->regions.n
			                  ? bgp_pe_region_xx(s->e->regions.v[adv[j].region].name)
			                  : -1;
			if (!adv[j].gateway) {
				o.origin_as = adv[j].origin_asn;
				o.origin_prepend = adv[j].prepend;
			}
			struct bgp_attrset *set = out_set(s, x, &o, &cache);
			if (set)
				r[k++] = (struct bgp_route){adv[j].p, set};
		}
		if (bgp_peer_set_routes(x->p, r, k))
			logf_(s, "bgp %s: advertisements not set", x->name);
		struct setcache *c = cache.v;
		for (size_t j = 0; j < cache.n; j++)
			bgp_attrset_unref(c[j].set);
		lib_vec_free(&cache);
		free(r);
		free(adv);
	}
	rt_free(n);
}

static void
recompute(struct bgp_svc *s)
{
	s->dirty = false;
	learn(s);
	install(s);
	advertise(s);
	s->recomputes++;
}

static void
on_timer(uv_timer_t *t)
{
	struct bgp_svc *s = t->data;
	if (s->dirty && !s->stopping)
		recompute(s);
}

static void
arm(struct bgp_svc *s)
{
	s->dirty = true;
	if (!uv_is_active((uv_handle_t *)&s->timer))
		uv_timer_start(&s->timer, on_timer, ADV_DELAY_MS, 0);
}

/* ---- speaker hooks -------------------------------------------------------------------- */

static void
on_state(void *arg, struct bgp_peer *p, const struct bgp_state_change *c)
{
	struct bgp_svc *s = arg;
	struct sess *x = bgp_peer_udata(p);
	if (!x)
		return;
	if (c->to == BGP_ESTABLISHED || c->from == BGP_ESTABLISHED) {
		char why[320] = "";
		if (c->notice)
			snprintf(why, sizeof(why), " (%s NOTIFICATION %u/%u%s%s)",
			         c->notice_sent ? "sent" : "received", c->notice->code,
			         c->notice->subcode, c->notice->text[0] ? ": " : "",
			         c->notice->text);
		else if (c->reason)
			snprintf(why, sizeof(why), " (%s)", c->reason);
		logf_(s, "bgp %s: %s%s", x->name,
		      c->to == BGP_ESTABLISHED ? "Established" : "session down", why);
		arm(s);
	}
}

static void
on_route(void *arg, struct bgp_peer *p, const struct ip_prefix *pfx, struct bgp_attrset *set)
{
	(void)pfx;
	(void)set;
	struct sess *x = bgp_peer_udata(p);
	if (x && x->peering == BGP_PE_PRIVATE)
		arm(arg);
}

static int
hook_import(void *arg, struct bgp_peer *p, struct bgp_attrs *a, uint8_t *buf, size_t cap)
{
	(void)arg;
	struct sess *x = bgp_peer_udata(p);
	return x ? bgp_pe_rewrite_in(&x->pe, a, buf, cap) : 0;
}

static bool
hook_accept(void *arg, struct bgp_peer *p, const struct ip_prefix *pfx, struct bgp_attrset *set)
{
	(void)arg;
	struct sess *x = bgp_peer_udata(p);
	if (!x)
		return false;
	struct bgp_attrs a;
	bgp_attrset_get(set, &a);
	const char *why;
	return bgp_pe_accept(&x->pe, pfx, &a, &why);
}

static int
hook_open(void *arg, struct bgp_peer *p, const struct bgp_open *o, struct bgp_err *e)
{
	(void)arg;
	struct sess *x = bgp_peer_udata(p);
	if (!x)
		return 0;
	const char *why;
	if (bgp_pe_open_check(&x->pe, o->as, x->peer_as, &why) == 0)
		return 0;
	*e = (struct bgp_err){.code = BGP_ERR_OPEN, .subcode = BGP_OPEN_BAD_PEER_AS, .why = why};
	return -EBADMSG;
}

static void
on_log(void *arg, struct bgp_peer *p, int level, const char *msg)
{
	struct bgp_svc *s = arg;
	if (level <= 1)
		logf_(s, "bgp %s: %s", p ? bgp_peer_name(p) : "speaker", msg);
}

/* ---- sessions -------------------------------------------------------------------------- */

static void
sess_free(struct sess *x)
{
	free(x->circuit);
	free(x->md5);
	free(x);
}

static bool
sess_same(const struct sess *a, const struct sess *b)
{
	return !strcmp(a->circuit, b->circuit) && a->peering == b->peering && a->side == b->side &&
	       !ip_addr_cmp(&a->nexthop, &b->nexthop) && !ip_addr_cmp(&a->local, &b->local) &&
	       !ip_addr_cmp(&a->remote, &b->remote) && a->peer_as == b->peer_as &&
	       !strcmp(a->md5 ? a->md5 : "", b->md5 ? b->md5 : "") &&
	       a->pe.premium == b->pe.premium && a->max4 == b->max4 && a->max6 == b->max6;
}

static int
sess_add(struct bgp_svc *s, struct sess *x, char *err, size_t errlen)
{
	struct bgp_peer_cfg pc = {
	    .name = x->name,
	    .local = x->local,
	    .remote = x->remote,
	    .port = s->o.port,
	    .remote_as = x->peer_as,
	    .hold = BGP_PE_HOLD,
	    .min_hold = (uint16_t)(s->o.min_hold ? s->o.min_hold : BGP_PE_HOLD_MIN),
	    .md5_key = x->md5,
	    .fams = BGP_FAM_BIT(BGP_FAM_IPV4) | BGP_FAM_BIT(BGP_FAM_IPV6),
	    .max_prefix = {[BGP_FAM_IPV4] = x->max4, [BGP_FAM_IPV6] = x->max6},
	    .max_prefix_idle_ms = s->o.max_prefix_idle_ms,
	    .restart_ms = s->o.restart_ms,
	};
	int rc = bgp_peer_add(s->spk, &pc, &x->p);
	if (rc) {
		char l[IP_STRLEN];
		snprintf(err, errlen, "bgp %s: cannot run the session on %s port %u: %s", x->name,
		         ip_addr_fmt(&x->local, l), s->o.port ? s->o.port : BGP_PORT,
		         strerror(-rc));
		return rc;
	}
	bgp_peer_set_udata(x->p, x);
	if (x->test_down)
		bgp_peer_stop(x->p, "Azure BGP disconnect test");
	return 0;
}

static void
sess_remove(struct sess *x, const char *why)
{
	if (x->p) {
		bgp_peer_set_udata(x->p, NULL);
		bgp_peer_remove(x->p, why);
		x->p = NULL;
	}
	sess_free(x);
}

/* The sessions e asks for, appended to want. */
static void
wanted(const struct estate *e, const struct bgp_svc_opts *o, struct lib_vec *want)
{
	for (uint32_t ci = 0; ci < e->circuits.n; ci++) {
		const struct est_circuit *c = &e->circuits.v[ci];
		const struct est_peering_cfg *pcs[2] = {c->private_peering, c->microsoft_peering};
		for (int k = 0; k < 2; k++) {
			const struct est_peering_cfg *pc = pcs[k];
			/* the loader refuses a listen that is not IPv4, /30 or shorter */
			if (!pc || pc->listen.a.af != IP_V4 || pc->listen.len > 30)
				continue;
			for (int side = 0; side < 2; side++) {
				struct sess *x = lib_xcalloc(1, sizeof(*x));
				if (!map_addr(pc, side, 2, &x->local) ||
				    !map_addr(pc, side, 1, &x->remote)) {
					free(x);
					continue; /* the link has no /30: the loader said so */
				}
				x->nexthop = x->local;
				if (o->nexthop_link)
					ip_prefix_nth(&pc->link_net[side], 2, &x->nexthop);
				x->circuit = lib_xstrdup(c->name);
				x->peering = k;
				x->side = side;
				x->peer_as = pc->peer_asn;
				x->md5 = pc->md5_key ? lib_xstrdup(pc->md5_key) : NULL;
				x->pe.peering = k;
				x->pe.premium = c->tier == EST_TIER_PREMIUM;
				x->max4 = bgp_pe_max_prefixes(&x->pe, IP_V4);
				x->max6 = bgp_pe_max_prefixes(&x->pe, IP_V6);
				if (k == BGP_PE_PRIVATE) {
					x->max4 = (uint32_t)est_limit(
					    e, x->pe.premium ? EST_LIM_PRIVATE_V4_PREFIXES_PREMIUM
					                     : EST_LIM_PRIVATE_V4_PREFIXES);
					x->max6 =
					    (uint32_t)est_limit(e, EST_LIM_PRIVATE_V6_PREFIXES);
				}
				x->ci = ci;
				x->site = est_resolved(&c->site) ? c->site.i : EST_NONE;
				snprintf(x->name, sizeof(x->name), "%s/%s/%s", c->name,
				         peering_names[k], link_names[side]);
				*(struct sess **)lib_vec_push(want) = x;
			}
		}
	}
}

/* The sites whose prefixes come from BGP: those with a listening private peering;
 * a site that no longer has one gets its declared prefixes back (its entry goes). */
static void
sites_for(struct bgp_svc *s)
{
	struct lib_vec keep;
	lib_vec_init(&keep, sizeof(struct site_pfx));
	struct site_pfx *sp = s->sites.v;
	for (size_t k = 0; k < s->sites.n; k++) {
		bool used = false;
		for (size_t i = 0; i < s->sess.n && !used; i++) {
			struct sess *x = sess_at(s, i);
			used = x->peering == BGP_PE_PRIVATE && x->site != EST_NONE &&
			       !strcmp(s->e->sites.v[x->site].name, sp[k].site);
		}
		if (used) {
			*(struct site_pfx *)lib_vec_push(&keep) = sp[k];
		} else {
			free(sp[k].site);
			free(sp[k].v);
		}
	}
	lib_vec_free(&s->sites);
	s->sites = keep;
	for (size_t i = 0; i < s->sess.n; i++) {
		struct sess *x = sess_at(s, i);
		if (x->peering == BGP_PE_PRIVATE && x->site != EST_NONE)
			site_learned(s, s->e->sites.v[x->site].name, true);
	}
}

int
bgp_svc_start(uv_loop_t *loop, struct estate *e, const struct bgp_svc_opts *o, struct bgp_svc **out,
              char *err, size_t errlen)
{
	*out = NULL;
	struct lib_vec want;
	lib_vec_init(&want, sizeof(struct sess *));
	wanted(e, o, &want);
	if (!want.n) {
		lib_vec_free(&want);
		return 0;
	}
	struct bgp_svc *s = lib_xcalloc(1, sizeof(*s));
	s->loop = loop;
	s->e = e;
	s->o = *o;
	s->sess = want;
	lib_vec_init(&s->sites, sizeof(struct site_pfx));
	struct sess *x0 = sess_at(s, 0);
	uint32_t id = o->router_id;
	if (!id)
		id = (uint32_t)x0->local.b[0] << 24 | (uint32_t)x0->local.b[1] << 16 |
		     (uint32_t)x0->local.b[2] << 8 | x0->local.b[3];
	struct bgp_speaker_cfg sc = {.router_id = id,
	                             .local_as = BGP_PE_AS,
	                             .port = o->port,
	                             .adv_delay_ms = ADV_DELAY_MS,
	                             .arg = s,
	                             .on_state = on_state,
	                             .on_route = on_route,
	                             .import = hook_import,
	                             .accept = hook_accept,
	                             .on_open = hook_open,
	                             .on_log = on_log};
	int rc = bgp_speaker_new(loop, &sc, &s->spk);
	if (rc) {
		snprintf(err, errlen, "bgp: the speaker did not start: %s", strerror(-rc));
		for (size_t i = 0; i < s->sess.n; i++)
			sess_free(sess_at(s, i));
		lib_vec_free(&s->sess);
		free(s);
		return rc;
	}
	uv_timer_init(loop, &s->timer);
	s->timer.data = s;
	for (size_t i = 0; i < s->sess.n && !rc; i++)
		rc = sess_add(s, sess_at(s, i), err, errlen);
	if (rc) {
		bgp_svc_stop(s);
		return rc;
	}
	sites_for(s);
	recompute(s);
	*out = s;
	return 0;
}

void
bgp_svc_reload(struct bgp_svc *s, struct estate *e)
{
	if (!s)
		return;
	s->e = e;
	struct lib_vec want;
	lib_vec_init(&want, sizeof(struct sess *));
	char err[512];
	wanted(e, &s->o, &want);
	struct lib_vec next;
	lib_vec_init(&next, sizeof(struct sess *));
	for (size_t i = 0; i < s->sess.n; i++)
		sess_at(s, i)->keep = false;
	for (size_t w = 0; w < want.n; w++) {
		struct sess *nx = ((struct sess **)want.v)[w], *old = NULL;
		for (size_t i = 0; i < s->sess.n && !old; i++)
			if (!sess_at(s, i)->keep && sess_same(sess_at(s, i), nx))
				old = sess_at(s, i);
		if (old) { /* kept as it runs, with the new estate's indexes */
			old->keep = true;
			old->ci = nx->ci;
			old->site = nx->site;
			sess_free(nx);
			*(struct sess **)lib_vec_push(&next) = old;
		} else {
			*(struct sess **)lib_vec_push(&next) = nx;
		}
	}
	lib_vec_free(&want);
	for (size_t i = 0; i < s->sess.n; i++)
		if (!sess_at(s, i)->keep) {
			logf_(s, "bgp %s: removed from the estate", sess_at(s, i)->name);
			sess_remove(sess_at(s, i), NULL);
		}
	lib_vec_free(&s->sess);
	s->sess = next;
	for (size_t i = 0; i < s->sess.n; i++) {
		struct sess *x = sess_at(s, i);
		if (!x->p && sess_add(s, x, err, sizeof(err)))
			logf_(s, "%s", err);
	}
	sites_for(s);
	recompute(s);
}

static void
on_closed(uv_handle_t *h)
{
	free(h->data);
}

void
bgp_svc_stop(struct bgp_svc *s)
{
	if (!s)
		return;
	s->stopping = true;
	for (uint32_t i = 0; i < s->e->sites.n; i++) /* no pointer into what goes now */
		if (site_learned(s, s->e->sites.v[i].name, false)) {
			s->e->sites.v[i].prefixes.v = NULL;
			s->e->sites.v[i].prefixes.n = 0;
		}
	for (size_t i = 0; i < s->sess.n; i++)
		sess_remove(sess_at(s, i), NULL);
	lib_vec_free(&s->sess);
	struct site_pfx *sp = s->sites.v;
	for (size_t i = 0; i < s->sites.n; i++) {
		free(sp[i].site);
		free(sp[i].v);
	}
	lib_vec_free(&s->sites);
	bgp_speaker_free(s->spk);
	/* the timer's memory is s: freed once the loop has closed it */
	uv_close((uv_handle_t *)&s->timer, on_closed);
}

size_t
bgp_svc_nsessions(const struct bgp_svc *s)
{
	return s ? s->sess.n : 0;
}

/* ---- what the API shows ------------------------------------------------------------------ */

static struct sess *
find(struct bgp_svc *s, const char *circuit, const char *peering, const char *link, char *err,
     size_t errlen)
{
	int k = !peering || !strcmp(peering, "private") ? 0
	        : !strcmp(peering, "microsoft")         ? 1
	                                                : -1;
	int side = !link || !strcmp(link, "primary") ? 0 : !strcmp(link, "secondary") ? 1 : -1;
	if (k < 0 || side < 0) {
		snprintf(err, errlen, "bad %s '%s' (expected %s)", k < 0 ? "peering" : "link",
		         k < 0 ? peering : link,
		         k < 0 ? "private or microsoft" : "primary or secondary");
		return NULL;
	}
	for (size_t i = 0; s && i < s->sess.n; i++) {
		struct sess *x = sess_at(s, i);
		if (circuit && !strcmp(x->circuit, circuit) && x->peering == k && x->side == side)
			return x;
	}
	snprintf(err, errlen,
	         "no BGP session for circuit '%s', %s peering, %s link (straitd runs "
	         "those of peerings with listen:)",
	         circuit ? circuit : "", peering_names[k], link_names[side]);
	return NULL;
}

static json_t *
notice_json(const struct bgp_notice *n)
{
	if (!n->valid)
		return json_null();
	json_t *o = json_pack("{s:i, s:i}", "code", n->code, "subcode", n->subcode);
	if (n->text[0])
		json_object_set_new(o, "text", json_string(n->text));
	return o;
}

json_t *
bgp_svc_summary(struct bgp_svc *s)
{
	json_t *arr = json_array();
	for (size_t i = 0; s && i < s->sess.n; i++) {
		struct sess *x = sess_at(s, i);
		struct bgp_peer_stats st;
		bgp_peer_stats(x->p, &st);
		char l[IP_STRLEN], r[IP_STRLEN];
		json_t *o = json_pack(
		    "{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
		    "s:I, s:s}",
		    "circuit", x->circuit, "peering", peering_names[x->peering], "link",
		    link_names[x->side], "local", ip_addr_fmt(&x->local, l), "remote",
		    ip_addr_fmt(&x->remote, r), "local_as", BGP_PE_AS, "peer_as", x->peer_as,
		    "state", bgp_state_name(st.state), "uptime_s",
		    (json_int_t)(st.uptime_ms / 1000), "received_v4",
		    (json_int_t)st.pfx_rcvd[BGP_FAM_IPV4], "received_v6",
		    (json_int_t)st.pfx_rcvd[BGP_FAM_IPV6], "accepted_v4",
		    (json_int_t)st.pfx_accepted[BGP_FAM_IPV4], "accepted_v6",
		    (json_int_t)st.pfx_accepted[BGP_FAM_IPV6], "advertised_v4",
		    (json_int_t)st.pfx_adv[BGP_FAM_IPV4], "advertised_v6",
		    (json_int_t)st.pfx_adv[BGP_FAM_IPV6], "established_count",
		    (json_int_t)st.established_count, "last_error", st.last_error);
		json_object_set_new(o, "hold_s", json_integer(st.hold));
		json_object_set_new(o, "max_prefixes_v4", json_integer(x->max4));
		json_object_set_new(o, "max_prefixes_v6", json_integer(x->max6));
		json_object_set_new(o, "md5", json_boolean(x->md5 != NULL));
		json_object_set_new(o, "last_notification_sent", notice_json(&st.last_sent));
		json_object_set_new(o, "last_notification_received", notice_json(&st.last_rcvd));
		json_t *t = json_object();
		if (x->test_down)
			json_object_set_new(t, "disconnect", json_true());
		if (x->test_prepend)
			json_object_set_new(t, "prepend", json_integer(x->test_prepend));
		json_object_set_new(o, "tests", t);
		json_array_append_new(arr, o);
	}
	return json_pack("{s:o, s:I}", "sessions", arr, "recomputes",
	                 (json_int_t)(s ? s->recomputes : 0));
}

struct jroute {
	struct ip_prefix p;
	json_t *o;
};

struct jwalk {
	struct lib_vec v;     /* struct jroute */
	const struct sess *x; /* received: whether the policy accepts each */
};

static int
jroute_cmp(const void *a, const void *b)
{
	return ip_prefix_cmp(&((const struct jroute *)a)->p, &((const struct jroute *)b)->p);
}

static void
route_json(void *arg, const struct ip_prefix *pfx, struct bgp_attrset *set, bool stale)
{
	struct bgp_attrs a;
	bgp_attrset_get(set, &a);
	char p[IP_STRLEN], nh[IP_STRLEN] = "";
	json_t *path = json_array();
	struct bgp_aspath_it it;
	bgp_aspath_iter(&it, &a.aspath, a.aspath_wide);
	uint8_t seg;
	uint32_t as;
	while (bgp_aspath_next(&it, &seg, &as))
		json_array_append_new(path, json_integer(as));
	json_t *comm = json_array();
	for (uint16_t i = 0; i + 4 <= a.communities.len; i += 4) {
		const uint8_t *c = a.communities.p + i;
		char b[16];
		snprintf(b, sizeof(b), "%u:%u", (unsigned)(c[0] << 8 | c[1]),
		         (unsigned)(c[2] << 8 | c[3]));
		json_array_append_new(comm, json_string(b));
	}
	static const char *const origin[] = {"igp", "egp", "incomplete"};
	if (a.nexthop.af)
		ip_addr_fmt(&a.nexthop, nh);
	json_t *o = json_pack("{s:s, s:s, s:o, s:s, s:o}", "prefix", ip_prefix_fmt(pfx, p),
	                      "nexthop", nh, "as_path", path, "origin",
	                      a.origin < 3 ? origin[a.origin] : "?", "communities", comm);
	if (a.has & BGP_HAS(BGP_ATTR_MED))
		json_object_set_new(o, "med", json_integer(a.med));
	if (stale)
		json_object_set_new(o, "stale", json_true());
	struct jwalk *w = arg;
	if (w->x) {
		const char *why;
		bool ok = bgp_pe_accept(&w->x->pe, pfx, &a, &why);
		json_object_set_new(o, "accepted", json_boolean(ok));
		if (!ok)
			json_object_set_new(o, "why", json_string(why));
	}
	*(struct jroute *)lib_vec_push(&w->v) = (struct jroute){*pfx, o};
}

json_t *
bgp_svc_routes(struct bgp_svc *s, const char *circuit, const char *peering, const char *link,
               bool advertised, char *err, size_t errlen)
{
	struct sess *x = find(s, circuit, peering, link, err, errlen);
	if (!x)
		return NULL;
	struct jwalk w = {.x = advertised ? NULL : x};
	lib_vec_init(&w.v, sizeof(struct jroute));
	if (advertised)
		bgp_peer_routes_out(x->p, route_json, &w);
	else
		bgp_peer_routes_in(x->p, route_json, &w);
	struct jroute *r = w.v.v;
	if (w.v.n)
		qsort(r, w.v.n, sizeof(*r), jroute_cmp);
	json_t *arr = json_array();
	for (size_t i = 0; i < w.v.n; i++)
		json_array_append_new(arr, r[i].o);
	lib_vec_free(&w.v);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "circuit", x->circuit, "peering",
	                 peering_names[x->peering], "link", link_names[x->side], "direction",
	                 advertised ? "advertised" : "received", "state",
	                 bgp_state_name(bgp_peer_state(x->p)), "routes", arr);
}

int
bgp_svc_test(struct bgp_svc *s, const char *circuit, const char *peering, const char *link,
             const char *action, unsigned count, char *err, size_t errlen)
{
	struct sess *x = find(s, circuit, peering, link, err, errlen);
	if (!x)
		return -ENOENT;
	if (!action ||
	    (strcmp(action, "disconnect") && strcmp(action, "prepend") && strcmp(action, "stop"))) {
		snprintf(err, errlen, "bad test '%s' (expected disconnect, prepend or stop)",
		         action ? action : "");
		return -EINVAL;
	}
	if (!strcmp(action, "prepend") && (count < 1 || count > PREPEND_MAX)) {
		snprintf(err, errlen, "bad prepend count %u (expected 1 to %d)", count,
		         PREPEND_MAX);
		return -EINVAL;
	}
	if (!strcmp(action, "disconnect") && !x->test_down) {
		x->test_down = true;
		bgp_peer_stop(x->p, "Azure BGP disconnect test");
	} else if (!strcmp(action, "prepend")) {
		x->test_prepend = count;
	} else if (!strcmp(action, "stop")) {
		x->test_prepend = 0;
		if (x->test_down) {
			x->test_down = false;
			bgp_peer_start(x->p);
		}
	}
	logf_(s, "bgp %s: failover test %s%s", x->name, action,
	      !strcmp(action, "prepend") ? " (AS path prepended)" : "");
	recompute(s); /* now: the answer shows the link's advertisements after it */
	return 0;
}
