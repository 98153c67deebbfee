/*
 * bgp_adv.c - what a peer is sent: the Adj-RIB-Out and the UPDATEs that
 * change it.
 *
 * The caller states the whole set it wants advertised (want); the
 * Adj-RIB-Out (out) is what the peer has been sent on this session. A flush
 * compares them: prefixes in out and not in want are withdrawn; prefixes in
 * want with a set other than out's are announced, grouped by attribute set
 * (sorted by set, then family) so that each group is one bgp_update_split:
 * as few UPDATEs as the prefixes fit in. Flushes run adv_delay_ms after a
 * change (changes in between coalesce) and at once when the session comes
 * up, whose first flush ends with an End-of-RIB per family (RFC 4724 2).
 * After bgp_peer_route changes (and no whole set since), a flush compares
 * only the prefixes they named: its cost follows the changes, not the table.
 *
 * Next hops: a set without one (af 0) means "next hop self", the session's
 * local address; an IPv6 route with an IPv4 next hop (or self on an IPv4
 * session) gets the IPv4-mapped IPv6 address, as BIRD, FRR and GoBGP send
 * over IPv4 sessions. An IPv4 route with an IPv6 next hop cannot be sent
 * without RFC 8950, which we do not negotiate: such routes stay unsent.
 *
 * A ROUTE-REFRESH request re-sends the family's Adj-RIB-Out, between BoRR
 * and EoRR when enhanced route refresh was negotiated (RFC 7313 4).
 */
#include "bgp/bgp_sess.h"

#include <stdlib.h>
#include <string.h>

struct ann {
	struct ip_prefix pfx;
	struct bgp_attrset *set;
};

struct pvec {
	struct ip_prefix *v;
	size_t n, cap;
};

static void
pvec_push(struct pvec *pv, const struct ip_prefix *p)
{
	if (pv->n == pv->cap) {
		pv->cap = pv->cap ? pv->cap * 2 : 256;
		pv->v = lib_xrealloc(pv->v, pv->cap * sizeof(*pv->v));
	}
	pv->v[pv->n++] = *p;
}

static int
cmp_ann(const void *x, const void *y)
{
	const struct ann *a = x, *b = y;
	if (a->set != b->set)
		return (uintptr_t)a->set < (uintptr_t)b->set ? -1 : 1;
	return (int)a->pfx.a.af - (int)b->pfx.a.af;
}

static int
emit(void *arg, const uint8_t *msg, size_t len)
{
	bgp_sess_send(arg, msg, len);
	return 0;
}

/* The attributes set goes out with for fam; false when it cannot. */
static bool
out_attrs(const struct bgp_conn *c, struct bgp_attrset *set, uint8_t fam, struct bgp_attrs *a)
{
	const struct ip_addr *self = &c->peer->cfg.local;

	bgp_aset_get(set, a);
	if (a->nexthop.af == 0)
		a->nexthop = *self;
	if (fam == BGP_FAM_IPV4)
		return a->nexthop.af == IP_V4;
	if (a->nexthop.af == IP_V4) { /* ::ffff:a.b.c.d */
		uint8_t v4[4];
		memcpy(v4, a->nexthop.b, 4);
		memset(&a->nexthop, 0, sizeof(a->nexthop));
		a->nexthop.af = IP_V6;
		a->nexthop.b[10] = a->nexthop.b[11] = 0xff;
		memcpy(a->nexthop.b + 12, v4, 4);
	}
	return true;
}

static void
send_group(struct bgp_conn *c, struct bgp_attrset *set, uint8_t fam, const struct ip_prefix *v,
           size_t n)
{
	struct bgp_peer *p = c->peer;
	struct bgp_attrs a;
	int rc;

	if (set && !out_attrs(c, set, fam, &a))
		return;
	rc = bgp_update_split(&c->params, set ? &a : NULL, v, NULL, n, p->spk->tx,
	                      sizeof(p->spk->tx), emit, c);
	if (rc < 0)
		bgp_log(p, 1, "cannot encode %zu routes: %s", n, strerror(-rc));
}

/* Sends the announcements an[0..n) (sorted): each run of one set and family
 * as few UPDATEs; put: record them in the Adj-RIB-Out (else they are there
 * already, and those that cannot be sent are taken out). */
static void
send_sorted(struct bgp_conn *c, struct ann *an, size_t n, bool put)
{
	struct bgp_peer *p = c->peer;
	struct pvec run = {0};
	struct bgp_attrs a;

	for (size_t i = 0; i < n;) {
		size_t j = i;
		uint8_t fam = bgp_fam_of_af(an[i].pfx.a.af);
		run.n = 0;
		while (j < n && an[j].set == an[i].set && an[j].pfx.a.af == an[i].pfx.a.af)
			pvec_push(&run, &an[j++].pfx);
		if (!out_attrs(c, an[i].set, fam, &a)) {
			bgp_log(p, 1, "%zu %s routes not sent: IPv6 next hop", run.n,
			        fam == BGP_FAM_IPV4 ? "IPv4" : "IPv6");
			for (size_t k = i; !put && k < j; k++) /* recorded early: not sent */
				bgp_aset_unref(bgp_rib_del(&p->out, &an[k].pfx, NULL));
			i = j;
			continue;
		}
		for (size_t k = i; put && k < j; k++)
			bgp_aset_unref(bgp_rib_put(&p->out, &an[k].pfx, an[k].set, 0));
		send_group(c, an[i].set, fam, run.v, run.n);
		i = j;
	}
	free(run.v);
}

static int
cmp_dirty(const void *x, const void *y)
{
	const struct bgp_dirty *a = x, *b = y;
	int c = ip_prefix_cmp(&a->pfx, &b->pfx);
	return c ? c : a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The flush of the prefixes bgp_peer_route named: each withdrawn or announced as
 * want and out differ. */
static void
flush_changes(struct bgp_peer *p)
{
	struct bgp_conn *c = p->conn;
	struct pvec wd[BGP_FAM_N] = {{0}};
	struct ann *an = NULL;
	size_t n = 0, cap = 0;

	if (p->ndirty)
		qsort(p->dirty, p->ndirty, sizeof(*p->dirty), cmp_dirty);
	for (size_t i = 0; i < p->ndirty; i++) /* out's slots on their way first */
		bgp_rib_prefetch(&p->out, &p->dirty[i].pfx);
	for (size_t i = 0; i < p->ndirty; i++) {
		/* a prefix's last change: its set is want's (no probe of want) */
		if (i + 1 < p->ndirty && !ip_prefix_cmp(&p->dirty[i + 1].pfx, &p->dirty[i].pfx))
			continue;
		const struct ip_prefix *q = &p->dirty[i].pfx;
		uint8_t fam = bgp_fam_of_af(q->a.af);
		/* one probe of out per prefix: the change made, the old set compared */
		struct bgp_attrset *w = p->dirty[i].set, *o;
		if (!w) {
			if ((o = bgp_rib_del(&p->out, q, NULL))) {
				pvec_push(&wd[fam], q);
				bgp_aset_unref(o);
			}
		} else if (c->params.fams & BGP_FAM_BIT(fam)) {
			o = bgp_rib_put(&p->out, q, w, 0);
			bgp_aset_unref(o);
			if (o == w)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				an = lib_xrealloc(an, cap * sizeof(*an));
			}
			an[n].pfx = *q;
			an[n++].set = w;
		}
	}
	p->ndirty = 0;
	for (uint8_t f = 0; f < BGP_FAM_N; f++) {
		if (wd[f].n)
			send_group(c, NULL, f, wd[f].v, wd[f].n);
		free(wd[f].v);
	}
	if (n)
		qsort(an, n, sizeof(*an), cmp_ann);
	send_sorted(c, an, n, false); /* out has them already */
	free(an);
}

static void
flush(struct bgp_peer *p)
{
	struct bgp_conn *c = p->conn;
	struct bgp_rib_it it;
	struct ip_prefix pfx;
	struct bgp_attrset *set;
	struct pvec wd[BGP_FAM_N] = {{0}};
	struct ann *an = NULL;
	size_t n = 0, cap = 0;

	if (!c || c->fsm.state != BGP_ESTABLISHED || !c->sock)
		return;
	uv_timer_stop(&p->t_flush);
	p->adv_pending = false;
	if (!p->want_whole && !p->need_eor) {
		flush_changes(p);
		return;
	}
	p->want_whole = false;
	p->ndirty = 0;

	bgp_rib_iter(&it);
	while (bgp_rib_next(&p->out, &it, &pfx, &set, NULL))
		if (!bgp_rib_get(&p->want, &pfx, NULL))
			pvec_push(&wd[it.fam], &pfx);
	for (uint8_t f = 0; f < BGP_FAM_N; f++) {
		for (size_t i = wd[f].n; i-- > 0;) /* backwards: see bgp_recv.c sweep */
			bgp_aset_unref(bgp_rib_del(&p->out, &wd[f].v[i], NULL));
		if (wd[f].n)
			send_group(c, NULL, f, wd[f].v, wd[f].n);
		free(wd[f].v);
	}

	bgp_rib_iter(&it);
	while (bgp_rib_next(&p->want, &it, &pfx, &set, NULL)) {
		if (!(c->params.fams & BGP_FAM_BIT(it.fam)) ||
		    bgp_rib_get(&p->out, &pfx, NULL) == set)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			an = lib_xrealloc(an, cap * sizeof(*an));
		}
		an[n].pfx = pfx;
		an[n++].set = set;
	}
	if (n)
		qsort(an, n, sizeof(*an), cmp_ann);
	send_sorted(c, an, n, true);
	free(an);

	if (p->need_eor) {
		p->need_eor = false;
		for (uint8_t f = 0; f < BGP_FAM_N; f++) {
			struct bgp_wr w = bgp_wr_make(p->spk->tx, sizeof(p->spk->tx));
			if ((c->params.fams & BGP_FAM_BIT(f)) && bgp_eor_encode(&w, f) == 0)
				bgp_sess_send(c, w.p, w.len);
		}
	}
}

void
bgp_adv_flush_timer(uv_timer_t *t)
{
	flush(t->data);
}

void
bgp_adv_schedule(struct bgp_peer *p)
{
	p->adv_pending = true;
	if (p->conn && p->conn->fsm.state == BGP_ESTABLISHED &&
	    !uv_is_active((uv_handle_t *)&p->t_flush))
		uv_timer_start(&p->t_flush, bgp_adv_flush_timer, p->spk->cfg.adv_delay_ms, 0);
}

#define ADV_BURST                                                                                  \
	256 /* changed prefixes that go out at once (the peer starts on them), not at the timer */

void
bgp_adv_changed(struct bgp_peer *p)
{
	if (p->ndirty >= ADV_BURST)
		flush(p);
	else
		bgp_adv_schedule(p);
}

void
bgp_adv_up(struct bgp_peer *p)
{
	p->need_eor = true;
	flush(p);
}

void
bgp_adv_down(struct bgp_peer *p)
{
	uv_timer_stop(&p->t_flush);
	bgp_rib_free(&p->out);
	p->need_eor = false;
}

void
bgp_adv_refresh(struct bgp_conn *c, const struct bgp_rr *rr)
{
	struct bgp_peer *p = c->peer;
	uint8_t fam = bgp_fam_of(rr->afi, rr->safi);
	struct bgp_rib_it it;
	struct ip_prefix pfx;
	struct bgp_attrset *set;
	struct ann *an = NULL;
	size_t n = 0, cap = 0;
	struct bgp_wr w;

	if (rr->subtype != BGP_RR_REQUEST) {
		bgp_recv_rr(c, rr);
		return;
	}
	if (fam == BGP_FAM_NONE || !(c->params.fams & BGP_FAM_BIT(fam)))
		return; /* RFC 2918 4: a family not negotiated is ignored */
	bgp_log(p, 2, "route refresh requested for %s", fam ? "IPv6" : "IPv4");
	if (c->params.enhanced_rr) {
		w = bgp_wr_make(p->spk->tx, sizeof(p->spk->tx));
		if (bgp_rr_encode(&w, rr->afi, rr->safi, BGP_RR_BORR) == 0)
			bgp_sess_send(c, w.p, w.len);
	}
	bgp_rib_iter(&it);
	it.fam = fam;
	while (bgp_rib_next(&p->out, &it, &pfx, &set, NULL) && it.fam == fam) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			an = lib_xrealloc(an, cap * sizeof(*an));
		}
		an[n].pfx = pfx;
		an[n++].set = set;
	}
	if (n)
		qsort(an, n, sizeof(*an), cmp_ann);
	send_sorted(c, an, n, false);
	free(an);
	if (c->params.enhanced_rr) {
		w = bgp_wr_make(p->spk->tx, sizeof(p->spk->tx));
		if (bgp_rr_encode(&w, rr->afi, rr->safi, BGP_RR_EORR) == 0)
			bgp_sess_send(c, w.p, w.len);
	}
}
