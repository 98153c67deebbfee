/*
 * bgp_speaker.c - the speaker's public face (bgp_speaker.h): speakers and
 * peers, their configuration checked once here, stats, route walks, and
 * attribute sets for callers.
 *
 * Configuration is validated at the edge (bgp_peer_add): address families
 * agree, hold times are 0 or at least 3 s (RFC 4271 4.2), the MD5 key fits
 * TCP_MD5SIG, no two peers share a local and remote address. Defaults are
 * the MSEE's where Azure has one (hold 180 s, keepalive 60 s: bgp-anchors
 * 3.3) and RFC 4271's elsewhere (ConnectRetryTimer 120 s).
 *
 * Teardown: removing a peer stops it (a NOTIFICATION when a session is up),
 * reports its routes withdrawn, and closes its handles; the peer's memory
 * goes with the last close callback. Freeing the speaker removes every peer
 * and frees the speaker itself when its last object is gone.
 */
#include "bgp/bgp_sess.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEF_HOLD          180u
#define DEF_CONNECT_RETRY 120000u
#define DEF_RESTART       1000u
#define DEF_MAXPFX_IDLE   60000u
#define DEF_GR_TIME       120u
#define DEF_GR_STALE      360000u
#define DEF_ADV_DELAY     50u

void
bgp_log(struct bgp_peer *p, int level, const char *fmt, ...)
{
	struct bgp_speaker *s = p->spk;
	char msg[512];
	int n;
	va_list ap;

	if (!s->cfg.on_log)
		return;
	n = snprintf(msg, sizeof(msg), "%s: ", p->cfg.name);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	s->cfg.on_log(s->cfg.arg, p, level, msg);
}

static void
speaker_release(struct bgp_speaker *s)
{
	bgp_atab_free(&s->atab);
	free(s);
}

void
bgp_obj_gone(struct bgp_speaker *s)
{
	if (--s->live == 0 && s->freeing)
		speaker_release(s);
}

int
bgp_speaker_new(uv_loop_t *loop, const struct bgp_speaker_cfg *cfg, struct bgp_speaker **out)
{
	struct bgp_speaker *s;

	if (!loop || !cfg || cfg->router_id == 0 || cfg->local_as == 0)
		return -EINVAL;
	s = lib_xcalloc(1, sizeof(*s));
	s->loop = loop;
	s->cfg = *cfg;
	if (!s->cfg.port)
		s->cfg.port = BGP_PORT;
	if (!s->cfg.adv_delay_ms)
		s->cfg.adv_delay_ms = DEF_ADV_DELAY;
	bgp_atab_init(&s->atab);
	*out = s;
	return 0;
}

void
bgp_speaker_free(struct bgp_speaker *s)
{
	if (!s)
		return;
	s->freeing = true;
	while (s->peers)
		bgp_peer_remove(s->peers, NULL);
	if (s->live == 0)
		speaker_release(s);
}

/* ---- peers ---------------------------------------------------------------------------- */
static int
check_cfg(const struct bgp_speaker *s, const struct bgp_peer_cfg *c)
{
	if ((c->local.af != IP_V4 && c->local.af != IP_V6) || c->local.af != c->remote.af)
		return -EINVAL;
	if ((c->hold && c->hold < 3) || (c->min_hold && c->min_hold < 3))
		return -EINVAL;
	if (c->md5_key && (strlen(c->md5_key) == 0 || strlen(c->md5_key) > BGP_MD5_MAX))
		return -EINVAL;
	if (c->fams & ~(BGP_FAM_BIT(BGP_FAM_IPV4) | BGP_FAM_BIT(BGP_FAM_IPV6)))
		return -EINVAL;
	for (const struct bgp_peer *p = s->peers; p; p = p->next)
		if (ip_addr_cmp(&p->cfg.local, &c->local) == 0 &&
		    ip_addr_cmp(&p->cfg.remote, &c->remote) == 0 &&
		    p->cfg.port == (c->port ? c->port : s->cfg.port))
			return -EEXIST;
	return 0;
}

/* Our OPEN: 4-octet AS, IPv4/IPv6 unicast, route refresh, graceful restart
 * as a helper (no families unless configured), enhanced route refresh when
 * asked. */
static void
build_open(struct bgp_peer *p)
{
	struct bgp_open *o = &p->open;
	struct bgp_caps *c = &o->caps;

	memset(o, 0, sizeof(*o));
	o->version = BGP_VERSION;
	o->as = p->local_as;
	o->my_as = p->local_as > 0xffff ? BGP_AS_TRANS : (uint16_t)p->local_as;
	o->hold = p->cfg.hold;
	o->id = p->spk->cfg.router_id;
	c->has = BGP_CAPF_MP | BGP_CAPF_RR | BGP_CAPF_AS4;
	c->as4 = p->local_as;
	for (uint8_t f = 0; f < BGP_FAM_N; f++) {
		if (!(p->cfg.fams & BGP_FAM_BIT(f)))
			continue;
		bgp_fam_afi(f, &c->mp[c->n_mp].afi, &c->mp[c->n_mp].safi);
		c->n_mp++;
	}
	if (!p->cfg.no_graceful_restart) {
		c->has |= BGP_CAPF_GR;
		c->gr_time = p->cfg.gr_time;
		for (uint8_t f = 0; f < BGP_FAM_N; f++) {
			if (!(p->cfg.gr_fams & BGP_FAM_BIT(f)))
				continue;
			bgp_fam_afi(f, &c->gr[c->n_gr].afi, &c->gr[c->n_gr].safi);
			c->gr[c->n_gr++].flags = BGP_GR_AF_FORWARD;
		}
	}
	if (p->cfg.enhanced_rr)
		c->has |= BGP_CAPF_ENHANCED_RR;
}

static void
peer_closed(uv_handle_t *h)
{
	struct bgp_peer *p = h->data;
	struct bgp_speaker *s = p->spk;
	if (--p->handles > 0)
		return;
	free((char *)p->cfg.name);
	free((char *)p->cfg.md5_key);
	free(p);
	bgp_obj_gone(s);
}

int
bgp_peer_add(struct bgp_speaker *s, const struct bgp_peer_cfg *cfg, struct bgp_peer **out)
{
	struct bgp_peer *p, **pp;
	char name[2 * IP_STRLEN];
	int rc;

	if (s->freeing)
		return -EINVAL;
	if ((rc = check_cfg(s, cfg)) != 0)
		return rc;
	p = lib_xcalloc(1, sizeof(*p));
	p->spk = s;
	p->cfg = *cfg;
	if (!cfg->name)
		ip_addr_fmt(&cfg->remote, name);
	p->cfg.name = lib_xstrdup(cfg->name ? cfg->name : name);
	p->cfg.md5_key = cfg->md5_key ? lib_xstrdup(cfg->md5_key) : NULL;
	if (!p->cfg.port)
		p->cfg.port = s->cfg.port;
	if (!p->cfg.remote_port)
		p->cfg.remote_port = p->cfg.port;
	if (!p->cfg.hold)
		p->cfg.hold = cfg->hold_zero ? 0 : DEF_HOLD;
	if (!p->cfg.fams)
		p->cfg.fams = BGP_FAM_BIT(BGP_FAM_IPV4) | BGP_FAM_BIT(BGP_FAM_IPV6);
	if (!p->cfg.max_prefix_idle_ms)
		p->cfg.max_prefix_idle_ms = DEF_MAXPFX_IDLE;
	if (!p->cfg.restart_ms)
		p->cfg.restart_ms = DEF_RESTART;
	if (!p->cfg.connect_retry_ms)
		p->cfg.connect_retry_ms = DEF_CONNECT_RETRY;
	if (!p->cfg.gr_time)
		p->cfg.gr_time = DEF_GR_TIME;
	if (!p->cfg.gr_stale_ms)
		p->cfg.gr_stale_ms = DEF_GR_STALE;
	p->local_as = cfg->local_as ? cfg->local_as : s->cfg.local_as;
	p->idle_ms_next = p->cfg.restart_ms;
	build_open(p);
	bgp_rib_init(&p->in);
	bgp_rib_init(&p->out);
	bgp_rib_init(&p->want);

	if ((rc = bgp_listener_get(s, &p->cfg.local, p->cfg.port, &p->lst)) != 0)
		goto fail;
	if (p->cfg.md5_key &&
	    (rc = bgp_md5_set(&p->lst->tcp, &p->cfg.remote, p->cfg.md5_key)) != 0) {
		bgp_log(p, 0, "TCP MD5 on the listening socket: %s", strerror(-rc));
		bgp_listener_put(p->lst);
		goto fail;
	}
	uv_timer_init(s->loop, &p->t_idle);
	uv_timer_init(s->loop, &p->t_flush);
	uv_timer_init(s->loop, &p->t_gr);
	p->t_idle.data = p->t_flush.data = p->t_gr.data = p;
	p->handles = 3;
	s->live++;
	p->conn = bgp_conn_new(p);
	for (pp = &s->peers; *pp; pp = &(*pp)->next)
		;
	*pp = p;
	if (out)
		*out = p;
	bgp_sess_event(p->conn, p->cfg.passive ? BGP_EV_MANUAL_START_PASSIVE : BGP_EV_MANUAL_START,
	               NULL);
	return 0;
fail:
	free((char *)p->cfg.name);
	free((char *)p->cfg.md5_key);
	free(p);
	return rc;
}

/* Cease with a shutdown communication, or the plain subcode. */
static int
set_stop(struct bgp_peer *p, uint8_t subcode, const char *text)
{
	uint8_t d[1 + BGP_MAX_SHUTDOWN];
	size_t n = text ? strlen(text) : 0;

	if (n > BGP_MAX_SHUTDOWN || !bgp_utf8_valid((const uint8_t *)text, n))
		return -EINVAL;
	memset(&p->stop, 0, sizeof(p->stop));
	if (!text) {
		bgp_err_set(&p->stop, BGP_ERR_CEASE, subcode, NULL, 0, "stopped");
		return 0;
	}
	d[0] = (uint8_t)n;
	memcpy(d + 1, text, n);
	/* the data can exceed bgp_err's buffer: referenced, p->stop_text keeps it */
	memcpy(p->stop_text, d, n + 1);
	bgp_err_ref(&p->stop, BGP_ERR_CEASE, subcode, p->stop_text, n + 1, "stopped");
	return 0;
}

static void
stop_conns(struct bgp_peer *p)
{
	struct bgp_err keep = p->stop;
	uv_timer_stop(&p->t_idle);
	if (p->conn2) {
		bgp_sess_event(p->conn2, BGP_EV_MANUAL_STOP, NULL);
		p->stop = keep; /* an event going Idle clears it */
	}
	bgp_sess_event(p->conn, BGP_EV_MANUAL_STOP, NULL);
}

int
bgp_peer_stop(struct bgp_peer *p, const char *text)
{
	int rc;
	if (p->removed)
		return -EINVAL;
	if ((rc = set_stop(p, BGP_CEASE_ADMIN_SHUTDOWN, text)) != 0)
		return rc;
	p->admin_down = true;
	stop_conns(p);
	return 0;
}

int
bgp_peer_start(struct bgp_peer *p)
{
	if (p->removed)
		return -EINVAL;
	p->admin_down = false;
	p->holddown = false;
	uv_timer_stop(&p->t_idle);
	bgp_sess_event(p->conn, p->cfg.passive ? BGP_EV_MANUAL_START_PASSIVE : BGP_EV_MANUAL_START,
	               NULL);
	return 0;
}

void
bgp_peer_drop(struct bgp_peer *p)
{
	struct bgp_conn *c = p->conn;
	if (p->removed || !c->sock)
		return;
	bgp_log(p, 2, "dropping the TCP connection");
	bgp_sock_close(c->sock, false); /* no NOTIFICATION, nothing flushed */
	p->down_reason = "connection dropped";
	bgp_sess_event(c, BGP_EV_TCP_FAILS, NULL);
}

void
bgp_peer_remove(struct bgp_peer *p, const char *text)
{
	struct bgp_speaker *s = p->spk;
	struct bgp_peer **pp;

	if (p->removed)
		return;
	if (set_stop(p, text ? BGP_CEASE_ADMIN_SHUTDOWN : BGP_CEASE_PEER_DECONFIG, text) != 0)
		set_stop(p, BGP_CEASE_PEER_DECONFIG, NULL);
	p->admin_down = true;
	stop_conns(p);
	p->removed = true;
	bgp_recv_clear(p);
	bgp_rib_free(&p->in);
	bgp_rib_free(&p->out);
	bgp_rib_free(&p->want);
	free(p->dirty);
	p->dirty = NULL;
	p->ndirty = p->capdirty = 0;
	bgp_conn_dispose(p->conn2);
	bgp_conn_dispose(p->conn);
	for (pp = &s->peers; *pp && *pp != p; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = p->next;
	if (p->cfg.md5_key && p->lst)
		bgp_md5_set(&p->lst->tcp, &p->cfg.remote, NULL);
	bgp_listener_put(p->lst);
	uv_close((uv_handle_t *)&p->t_idle, peer_closed);
	uv_close((uv_handle_t *)&p->t_flush, peer_closed);
	uv_close((uv_handle_t *)&p->t_gr, peer_closed);
}

int
bgp_peer_refresh(struct bgp_peer *p, uint8_t fam)
{
	struct bgp_conn *c = p->conn;
	struct bgp_wr w = bgp_wr_make(p->spk->tx, sizeof(p->spk->tx));
	uint16_t afi;
	uint8_t safi;

	if (p->removed || c->fsm.state != BGP_ESTABLISHED)
		return -ENOTCONN;
	if (!c->params.route_refresh || fam >= BGP_FAM_N || !(c->params.fams & BGP_FAM_BIT(fam)))
		return -EOPNOTSUPP;
	bgp_fam_afi(fam, &afi, &safi);
	if (bgp_rr_encode(&w, afi, safi, BGP_RR_REQUEST) != 0)
		return -EINVAL;
	bgp_sess_send(c, w.p, w.len);
	return 0;
}

int
bgp_peer_set_routes(struct bgp_peer *p, const struct bgp_route *v, size_t n)
{
	struct bgp_rib want;

	if (p->removed)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!v[i].set || bgp_fam_of_af(v[i].pfx.a.af) == BGP_FAM_NONE ||
		    v[i].pfx.len > ip_maxlen(v[i].pfx.a.af))
			return -EINVAL;
	bgp_rib_init(&want);
	for (size_t i = 0; i < n; i++) {
		struct ip_prefix q = v[i].pfx;
		ip_prefix_mask(&q);
		bgp_aset_unref(bgp_rib_put(&want, &q, v[i].set, 0));
	}
	bgp_rib_free(&p->want);
	p->want = want;
	p->want_whole = true;
	p->ndirty = 0;
	bgp_adv_schedule(p);
	return 0;
}

int
bgp_peer_route(struct bgp_peer *p, const struct ip_prefix *pfx, struct bgp_attrset *set)
{
	if (p->removed || bgp_fam_of_af(pfx->a.af) == BGP_FAM_NONE ||
	    pfx->len > ip_maxlen(pfx->a.af))
		return -EINVAL;
	struct ip_prefix q = *pfx;
	ip_prefix_mask(&q);
	if (set)
		bgp_aset_unref(bgp_rib_put(&p->want, &q, set, 0));
	else
		bgp_aset_unref(bgp_rib_del(&p->want, &q, NULL));
	if (!p->want_whole) {
		/* more changes than routes: comparing everything costs less */
		if (p->ndirty >= 1024 && p->ndirty > bgp_rib_count(&p->want, BGP_FAM_IPV4) +
		                                         bgp_rib_count(&p->want, BGP_FAM_IPV6)) {
			p->want_whole = true;
			p->ndirty = 0;
		} else {
			if (p->ndirty == p->capdirty) {
				p->capdirty = p->capdirty ? p->capdirty * 2 : 256;
				p->dirty = lib_xrealloc(p->dirty, p->capdirty * sizeof(*p->dirty));
			}
			p->dirty[p->ndirty] = (struct bgp_dirty){q, (uint32_t)p->ndirty, set};
			p->ndirty++;
		}
	}
	bgp_adv_changed(p);
	return 0;
}

/* ---- reading ------------------------------------------------------------------------ */
void
bgp_peer_stats(const struct bgp_peer *p, struct bgp_peer_stats *st)
{
	const struct bgp_conn *c = p->conn;

	*st = p->st;
	st->state = bgp_peer_vis_state(p);
	for (uint8_t f = 0; f < BGP_FAM_N; f++) {
		st->pfx_rcvd[f] = bgp_rib_count(&p->in, f);
		st->pfx_adv[f] = bgp_rib_count(&p->out, f);
	}
	if (c && c->got_open) {
		st->remote_id = c->remote_id;
		st->remote_as = c->remote_as;
		st->hold = c->params.hold;
		st->keepalive = bgp_keepalive_time(c->params.hold);
		st->fams = c->params.fams;
		st->graceful_restart = c->params.gr;
		st->route_refresh = c->params.route_refresh;
		st->as4 = c->params.as4;
	}
	if (st->established_at_ms && c->fsm.state == BGP_ESTABLISHED)
		st->uptime_ms = uv_now(p->spk->loop) - st->established_at_ms;
	else
		st->established_at_ms = st->uptime_ms = 0;
}

const char *
bgp_peer_name(const struct bgp_peer *p)
{
	return p->cfg.name;
}

uint8_t
bgp_peer_state(const struct bgp_peer *p)
{
	return bgp_peer_vis_state(p);
}

void
bgp_peer_set_udata(struct bgp_peer *p, void *udata)
{
	p->udata = udata;
}

void *
bgp_peer_udata(const struct bgp_peer *p)
{
	return p->udata;
}

struct bgp_peer *
bgp_speaker_peer_next(struct bgp_speaker *s, struct bgp_peer *after)
{
	return after ? after->next : s->peers;
}

static void
walk(struct bgp_rib *r, bgp_route_fn fn, void *arg, bool filtered_too)
{
	struct bgp_rib_it it;
	struct ip_prefix pfx;
	struct bgp_attrset *set;
	uint8_t *fl;

	bgp_rib_iter(&it);
	while (bgp_rib_next(r, &it, &pfx, &set, &fl))
		if (filtered_too || !(*fl & BGP_RF_FILTERED))
			fn(arg, &pfx, set, (*fl & BGP_RF_STALE) != 0);
}

void
bgp_peer_routes_in(struct bgp_peer *p, bgp_route_fn fn, void *arg)
{
	walk(&p->in, fn, arg, false);
}

void
bgp_peer_routes_out(struct bgp_peer *p, bgp_route_fn fn, void *arg)
{
	walk(&p->out, fn, arg, true);
}

size_t
bgp_speaker_mem(const struct bgp_speaker *s)
{
	size_t b = s->atab.bytes;
	for (const struct bgp_peer *p = s->peers; p; p = p->next)
		b += bgp_rib_bytes(&p->in) + bgp_rib_bytes(&p->out) + bgp_rib_bytes(&p->want);
	return b;
}

/* ---- attribute sets -------------------------------------------------------------------- */
struct bgp_attrset *
bgp_attrset_intern(struct bgp_speaker *s, const struct bgp_attrs *a)
{
	int err;
	return bgp_atab_intern(&s->atab, a, &err);
}

struct bgp_attrset *
bgp_attrset_ref(struct bgp_attrset *set)
{
	return bgp_aset_ref(set);
}

void
bgp_attrset_unref(struct bgp_attrset *set)
{
	bgp_aset_unref(set);
}

void
bgp_attrset_get(const struct bgp_attrset *set, struct bgp_attrs *out)
{
	bgp_aset_get(set, out);
}

static void
fmt_list(struct lib_buf *b, const char *label, const struct bgp_span *sp, unsigned w)
{
	if (!sp->len)
		return;
	lib_buf_printf(b, " %s", label);
	for (size_t i = 0; i + w <= sp->len; i += w) {
		const uint8_t *q = sp->p + i;
		if (w == 4)
			lib_buf_printf(b, " %u:%u", bgp_get16(q), bgp_get16(q + 2));
		else if (w == 12)
			lib_buf_printf(b, " %u:%u:%u", bgp_get32(q), bgp_get32(q + 4),
			               bgp_get32(q + 8));
		else
			lib_buf_printf(b, " 0x%08x%08x", bgp_get32(q), bgp_get32(q + 4));
	}
}

size_t
bgp_attrset_fmt(const struct bgp_attrset *set, char *buf, size_t n)
{
	struct bgp_attrs a;
	struct lib_buf b = {0};
	struct bgp_aspath_it it;
	char ab[IP_STRLEN];
	uint8_t seg, last = 0;
	uint32_t as;
	size_t len;

	bgp_aset_get(set, &a);
	lib_buf_printf(&b, "nh %s", a.nexthop.af ? ip_addr_fmt(&a.nexthop, ab) : "self");
	lib_buf_puts(&b, " path");
	bgp_aspath_iter(&it, &a.aspath, true);
	while (bgp_aspath_next(&it, &seg, &as)) {
		bool set_seg = seg == BGP_AS_SET || seg == BGP_AS_CONFED_SET;
		lib_buf_printf(&b, "%s%s%u", set_seg && last == seg ? "," : " ",
		               set_seg && last != seg ? "{" : "", as);
		if (set_seg && (it.left == 0))
			lib_buf_puts(&b, "}");
		last = seg;
	}
	if (a.has & BGP_HAS(BGP_ATTR_ORIGIN))
		lib_buf_printf(&b, " origin %c", "iec?"[a.origin < 3 ? a.origin : 3]);
	if (a.has & BGP_HAS(BGP_ATTR_MED))
		lib_buf_printf(&b, " med %u", a.med);
	if (a.has & BGP_HAS(BGP_ATTR_LOCAL_PREF))
		lib_buf_printf(&b, " localpref %u", a.local_pref);
	if (a.has & BGP_HAS(BGP_ATTR_ATOMIC_AGGREGATE))
		lib_buf_puts(&b, " atomic");
	if (a.has & BGP_HAS(BGP_ATTR_AGGREGATOR))
		lib_buf_printf(&b, " aggregator %u", a.aggr_as);
	fmt_list(&b, "comm", &a.communities, 4);
	fmt_list(&b, "lcomm", &a.large_communities, 12);
	fmt_list(&b, "ext", &a.ext_communities, 8);
	for (unsigned i = 0; i < a.n_other; i++)
		lib_buf_printf(&b, " attr%u/%u", a.other[i].type, a.other[i].val.len);
	len = b.n;
	if (n) {
		size_t k = len < n - 1 ? len : n - 1;
		memcpy(buf, b.s ? b.s : "", k);
		buf[k] = 0;
	}
	lib_buf_free(&b);
	return len;
}
