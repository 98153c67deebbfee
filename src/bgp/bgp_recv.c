/*
 * bgp_recv.c - received UPDATEs into the peer's Adj-RIB-In, and the
 * Adj-RIB-In's life across sessions.
 *
 * RFC 7606 verdicts (the codec decides, bgp_update.c): OK and DISCARD
 * announce the NLRI with the attributes that are left (a discarded
 * attribute is simply absent from the interned set); WITHDRAW withdraws
 * every prefix of the UPDATE, the announced ones included; RESET never
 * reaches here (it is UpdateMsgErr: NOTIFICATION and close). Withdrawn
 * routes and MP_UNREACH_NLRI are always withdrawals. Prefixes of families
 * the session did not negotiate are ignored (RFC 4760 7).
 *
 * Attributes are interned once per NLRI field (not per prefix), after the
 * import hook (the provider edge's rewrite) had them; a prefix announced
 * again with the same set and flags is not reported again.
 *
 * Maximum prefix (RFC 4486): per family, counting what the Adj-RIB-In holds
 * (the limit protects memory; routes the import policy refuses count too).
 * The prefix that goes over the limit ends processing: the session sends
 * Cease / Maximum Number of Prefixes Reached with AFI, SAFI and the limit
 * (AutomaticStop) and holds Idle for max_prefix_idle_ms. A warning at 80%.
 *
 * Graceful restart, receiving side (RFC 4724 4.2): when the TCP connection
 * of a session whose peer listed families in its GR capability fails (or
 * the peer reconnects while we still think it Established), its routes of
 * those families are kept, marked stale, for the restart time it
 * advertised; routes of other families go at once. When the session comes
 * back: families the new OPEN lists with the Forwarding State bit keep their
 * stale routes until that family's End-of-RIB (or gr_stale_ms); the others
 * lose them at once. A route announced again is fresh. Any other end of a
 * session (NOTIFICATION, hold timer, stop) withdraws everything. The
 * Restart State bit (RFC 4724 3: the peer "MUST NOT wait for the
 * End-of-RIB marker from the speaker before advertising") is honoured by
 * construction: the Adj-RIB-Out goes out as soon as a session is up, never
 * waiting for the peer's End-of-RIB (bgp_adv.c).
 *
 * Enhanced route refresh (RFC 7313 4): between the peer's BoRR and EoRR for
 * a family, routes not announced again are removed at the EoRR.
 */
#include "bgp/bgp_sess.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FAMBIT(f) ((uint8_t)BGP_FAM_BIT(f))

static void
report(struct bgp_peer *p, const struct ip_prefix *pfx, struct bgp_attrset *set)
{
	if (p->spk->cfg.on_route)
		p->spk->cfg.on_route(p->spk->cfg.arg, p, pfx, set);
}

static void
count_flags(struct bgp_peer *p, uint8_t fam, uint8_t flags, int d)
{
	if (!(flags & BGP_RF_FILTERED))
		p->st.pfx_accepted[fam] += (uint32_t)d;
	if (flags & BGP_RF_STALE)
		p->st.pfx_stale[fam] += (uint32_t)d;
}

/* p announces pfx with set. */
static void
route_set(struct bgp_peer *p, const struct ip_prefix *pfx, struct bgp_attrset *set)
{
	struct bgp_speaker *spk = p->spk;
	uint8_t fam = bgp_fam_of_af(pfx->a.af), oflags = 0, flags;
	struct bgp_attrset *old = bgp_rib_get(&p->in, pfx, &oflags);
	bool acc = !spk->cfg.accept || spk->cfg.accept(spk->cfg.arg, p, pfx, set);

	flags = acc ? 0 : BGP_RF_FILTERED;
	if (old == set && (oflags & BGP_RF_FILTERED) == flags) {
		if (oflags != flags) { /* fresh again: no news for the consumer */
			count_flags(p, fam, oflags, -1);
			count_flags(p, fam, flags, 1);
			bgp_rib_flag(&p->in, pfx, 0xff, flags);
		}
		return;
	}
	old = bgp_rib_put(&p->in, pfx, set, flags);
	if (old)
		count_flags(p, fam, oflags, -1);
	count_flags(p, fam, flags, 1);
	if (acc)
		report(p, pfx, set);
	else if (old && !(oflags & BGP_RF_FILTERED))
		report(p, pfx, NULL);
	bgp_aset_unref(old);
}

static void
route_del(struct bgp_peer *p, const struct ip_prefix *pfx)
{
	uint8_t flags;
	struct bgp_attrset *old = bgp_rib_del(&p->in, pfx, &flags);

	if (!old)
		return;
	count_flags(p, bgp_fam_of_af(pfx->a.af), flags, -1);
	if (!(flags & BGP_RF_FILTERED))
		report(p, pfx, NULL);
	bgp_aset_unref(old);
}

/* Removes the routes of fam that have any of flags (all when flags is 0). */
static uint32_t
sweep(struct bgp_peer *p, uint8_t fam, uint8_t flags)
{
	struct bgp_rib_it it;
	struct ip_prefix pfx, *v = NULL;
	struct bgp_attrset *set;
	uint8_t *fl;
	uint32_t n = 0, cap = 0;

	bgp_rib_iter(&it);
	it.fam = fam;
	while (bgp_rib_next(&p->in, &it, &pfx, &set, &fl) && it.fam == fam) {
		if (flags && !(*fl & flags))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			v = lib_xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = pfx;
	}
	/* backwards: a slot then has no later neighbours to shift back (linear
	 * probing; in table order a long run would move once per deletion) */
	for (uint32_t i = n; i-- > 0;)
		route_del(p, &v[i]);
	free(v);
	return n;
}

static void
mark(struct bgp_peer *p, uint8_t fam, uint8_t flag)
{
	struct bgp_rib_it it;
	struct ip_prefix pfx;
	struct bgp_attrset *set;
	uint8_t *fl;

	bgp_rib_iter(&it);
	it.fam = fam;
	while (bgp_rib_next(&p->in, &it, &pfx, &set, &fl) && it.fam == fam) {
		if (flag == BGP_RF_STALE && !(*fl & BGP_RF_STALE))
			count_flags(p, fam, BGP_RF_STALE, 1);
		*fl |= flag;
	}
}

/* ---- UPDATE ------------------------------------------------------------------------- */
static void
max_prefix(struct bgp_conn *c, uint8_t fam, uint32_t limit)
{
	struct bgp_peer *p = c->peer;
	uint8_t d[7];
	uint16_t afi;
	uint8_t safi;

	bgp_fam_afi(fam, &afi, &safi);
	d[0] = (uint8_t)(afi >> 8);
	d[1] = (uint8_t)afi;
	d[2] = safi;
	d[3] = (uint8_t)(limit >> 24);
	d[4] = (uint8_t)(limit >> 16);
	d[5] = (uint8_t)(limit >> 8);
	d[6] = (uint8_t)limit;
	bgp_err_set(&p->stop, BGP_ERR_CEASE, BGP_CEASE_MAX_PREFIXES, d, sizeof(d),
	            "maximum number of prefixes reached");
	bgp_log(p, 1, "%s prefixes over the limit of %u: Cease, idle for %u ms",
	        fam == BGP_FAM_IPV4 ? "IPv4" : "IPv6", limit, p->cfg.max_prefix_idle_ms);
	p->idle_ms_next = p->cfg.max_prefix_idle_ms;
	p->holddown = true;
	c->next_ev = BGP_EV_AUTO_STOP; /* after this UPDATE's event */
}

/* Announces (set non-NULL) or withdraws every prefix of n; false when the
 * maximum-prefix limit stopped it. */
static bool
apply(struct bgp_conn *c, const struct bgp_nlri *n, struct bgp_attrset *set)
{
	struct bgp_peer *p = c->peer;
	struct bgp_nlri_it it;
	struct ip_prefix pfx;
	uint32_t id, limit;

	if (!n->present || n->fam == BGP_FAM_NONE || !(c->params.fams & FAMBIT(n->fam)))
		return true;
	limit = p->cfg.max_prefix[n->fam];
	bgp_nlri_iter(n, &it); /* the UPDATE's slots on their way first */
	while (bgp_nlri_next(&it, &pfx, &id))
		bgp_rib_prefetch(&p->in, &pfx);
	bgp_nlri_iter(n, &it);
	while (bgp_nlri_next(&it, &pfx, &id)) {
		if (p->removed) /* a callback removed the peer */
			return false;
		if (!set) {
			route_del(p, &pfx);
			continue;
		}
		route_set(p, &pfx, set);
		if (limit && bgp_rib_count(&p->in, n->fam) > limit) {
			max_prefix(c, n->fam, limit);
			return false;
		}
	}
	if (limit && !p->warned[n->fam] && bgp_rib_count(&p->in, n->fam) * 5ull > limit * 4ull) {
		p->warned[n->fam] = true;
		bgp_log(p, 1, "%u %s prefixes: over 80%% of the limit %u",
		        bgp_rib_count(&p->in, n->fam), n->fam == BGP_FAM_IPV4 ? "IPv4" : "IPv6",
		        limit);
	}
	return true;
}

static bool
announce(struct bgp_conn *c, const struct bgp_update *u, const struct bgp_nlri *n)
{
	struct bgp_peer *p = c->peer;
	struct bgp_speaker *spk = p->spk;
	struct bgp_attrs a;
	struct bgp_attrset *set;
	bool go;
	int err;

	if (!n->count || n->fam == BGP_FAM_NONE || !(c->params.fams & FAMBIT(n->fam)))
		return true;
	bgp_update_attrs(u, n, &a);
	if (spk->cfg.import) {
		if (bgp_attrs_canon(&a, spk->canon, bgp_attrs_canon_room(&a)) != 0 ||
		    spk->cfg.import(spk->cfg.arg, p, &a, spk->import, sizeof(spk->import)) != 0) {
			p->st.treat_as_withdraw++;
			return apply(c, n, NULL);
		}
	}
	set = bgp_atab_intern(&spk->atab, &a, &err);
	if (!set) { /* the codec keeps only mergeable paths: should not happen */
		bgp_log(p, 1, "attributes cannot be made canonical: routes treated as withdrawn");
		return apply(c, n, NULL);
	}
	go = apply(c, n, set);
	bgp_aset_unref(set);
	return go;
}

static void
eor(struct bgp_peer *p, uint8_t fam)
{
	uint32_t n;
	if (fam == BGP_FAM_NONE || !(p->gr_stale & FAMBIT(fam)))
		return;
	n = sweep(p, fam, BGP_RF_STALE);
	p->gr_stale &= (uint8_t)~FAMBIT(fam);
	if (!p->gr_stale)
		uv_timer_stop(&p->t_gr);
	bgp_log(p, 2, "End-of-RIB for %s: %u stale routes removed", fam ? "IPv6" : "IPv4", n);
}

void
bgp_recv_update(struct bgp_conn *c, const struct bgp_update *u)
{
	struct bgp_peer *p = c->peer;
	bool withdraw = u->verdict == BGP_VERDICT_WITHDRAW;

	if (u->verdict == BGP_VERDICT_DISCARD) {
		p->st.attr_discard++;
		bgp_log(p, 1, "UPDATE: attribute discarded (RFC 7606): %s", u->why);
	} else if (withdraw) {
		p->st.treat_as_withdraw++;
		bgp_log(p, 1, "UPDATE treated as withdraw (RFC 7606): %s", u->why);
	}
	apply(c, &u->withdrawn, NULL);
	apply(c, &u->mp_unreach, NULL);
	if (withdraw) {
		apply(c, &u->nlri, NULL);
		apply(c, &u->mp_reach, NULL);
	} else if (!announce(c, u, &u->nlri) || !announce(c, u, &u->mp_reach)) {
		return;
	}
	if (u->eor)
		eor(p, bgp_fam_of(u->eor_afi, u->eor_safi));
}

/* ---- across sessions ------------------------------------------------------------------ */
void
bgp_recv_clear(struct bgp_peer *p)
{
	for (uint8_t f = 0; f < BGP_FAM_N; f++)
		sweep(p, f, 0);
	p->gr_stale = 0;
	uv_timer_stop(&p->t_gr);
	memset(p->warned, 0, sizeof(p->warned));
}

void
bgp_recv_gr_timer(uv_timer_t *t)
{
	struct bgp_peer *p = t->data;
	uint32_t n = 0;
	for (uint8_t f = 0; f < BGP_FAM_N; f++)
		if (p->gr_stale & FAMBIT(f))
			n += sweep(p, f, BGP_RF_STALE);
	bgp_log(p, 2, "graceful restart: %s timer expired, %u stale routes removed",
	        p->gr_waiting ? "restart" : "stale", n);
	p->gr_stale = 0;
}

void
bgp_recv_down(struct bgp_peer *p, struct bgp_conn *c, bool graceful)
{
	uint8_t keep = graceful && c->params.gr ? (uint8_t)(c->gr_fams & c->params.fams) : 0;
	uint32_t kept = 0;

	if (!keep || c->gr_time == 0) {
		bgp_recv_clear(p);
		return;
	}
	for (uint8_t f = 0; f < BGP_FAM_N; f++) {
		if (!(keep & FAMBIT(f))) {
			sweep(p, f, 0);
			continue;
		}
		mark(p, f, BGP_RF_STALE);
		kept += bgp_rib_count(&p->in, f);
	}
	p->gr_stale |= keep;
	p->gr_waiting = true;
	uv_timer_start(&p->t_gr, bgp_recv_gr_timer, c->gr_time * 1000ull, 0);
	bgp_log(p, 2, "graceful restart: %u routes kept stale for %u s", kept, c->gr_time);
}

void
bgp_recv_up(struct bgp_peer *p, struct bgp_conn *c)
{
	memset(p->warned, 0, sizeof(p->warned));
	if (!p->gr_stale)
		return;
	uv_timer_stop(&p->t_gr);
	for (uint8_t f = 0; f < BGP_FAM_N; f++) {
		uint8_t b = FAMBIT(f);
		if (!(p->gr_stale & b))
			continue;
		if (!c->params.gr || !(c->gr_fams & b) || !(c->gr_fwd & b)) {
			bgp_log(p, 2,
			        "graceful restart: %s forwarding state not kept, stale routes "
			        "removed",
			        f ? "IPv6" : "IPv4");
			sweep(p, f, BGP_RF_STALE);
			p->gr_stale &= (uint8_t)~b;
		}
	}
	if (p->gr_stale) {
		p->gr_waiting = false;
		uv_timer_start(&p->t_gr, bgp_recv_gr_timer, p->cfg.gr_stale_ms, 0);
	}
}

/* The peer's BoRR / EoRR (RFC 7313 4). */
void
bgp_recv_rr(struct bgp_conn *c, const struct bgp_rr *rr)
{
	uint8_t fam = bgp_fam_of(rr->afi, rr->safi);
	if (fam == BGP_FAM_NONE)
		return;
	if (rr->subtype == BGP_RR_BORR)
		mark(c->peer, fam, BGP_RF_REFRESH);
	else if (rr->subtype == BGP_RR_EORR)
		sweep(c->peer, fam, BGP_RF_REFRESH);
}
