/*
 * bgp_attr.c - one path attribute at a time, under RFC 7606.
 *
 * Each recognised attribute has a row: the Optional/Transitive flags it must
 * carry, its length rule, what to do when it is malformed, and the RFC 4271
 * 6.3 subcode to send should the UPDATE end in a session reset. The row's
 * action follows RFC 7606 section 7 (and RFC 6793 6 for the AS4_*
 * attributes, RFC 8092 5 for large communities):
 *
 *   attribute          flags  length            malformed   eBGP
 *   ORIGIN              T     1, value 0..2      withdraw
 *   AS_PATH             T     segments (7.2)     withdraw
 *   NEXT_HOP            T     4                  withdraw
 *   MULTI_EXIT_DISC     O     4                  withdraw
 *   LOCAL_PREF          T     4                  withdraw    discard
 *   ATOMIC_AGGREGATE    T     0                  discard
 *   AGGREGATOR          OT    6 or 8 (AS4)       discard
 *   COMMUNITIES         OT    4n, n > 0          withdraw
 *   ORIGINATOR_ID       O     4                  withdraw    discard
 *   CLUSTER_LIST        O     4n, n > 0          withdraw    discard
 *   MP_REACH_NLRI       O     >= 5, NLRI (5.3)   reset
 *   MP_UNREACH_NLRI     O     >= 3, NLRI (5.3)   reset
 *   EXT_COMMUNITIES     OT    8n, n > 0          withdraw
 *   AS4_PATH            OT    segments           discard  (and from AS4 peers)
 *   AS4_AGGREGATOR      OT    8                  discard  (and from AS4 peers)
 *   LARGE_COMMUNITY     OT    12n, n > 0         withdraw
 *
 * Conflicting flags make the attribute malformed, handled by its row (RFC
 * 7606 3.c; for MP_* that is 5.3.c's reset). A second copy of an attribute is
 * discarded, a second MP_REACH/MP_UNREACH resets (3.g). An unrecognised
 * attribute marked well-known is treated as withdraw, as BIRD does (RFC 4271
 * would reset; no well-known attribute is unassigned, so it is an optional
 * one with a broken flag); an unrecognised optional transitive one is kept to
 * be passed on with Partial set; a non-transitive one is ignored.
 * AS 0 in AS_PATH withdraws, in AGGREGATOR or the AS4_* attributes discards
 * (RFC 7607 2). Checks that need the whole UPDATE (missing attributes, the
 * first AS, NEXT_HOP semantics) are in bgp_update.c.
 */
#include "bgp/bgp_int.h"

#include <string.h>

typedef const char *(*attr_fn)(struct bgp_upd_state *s, struct bgp_cur *v, uint16_t len);

struct attr_desc {
	const char *name;
	uint8_t flags; /* BGP_ATTR_OPTIONAL/TRANSITIVE it must carry */
	uint8_t fixed; /* exact length, when lenrule is LEN_FIXED */
	uint8_t lenrule;
	uint8_t malformed; /* enum bgp_verdict */
	uint8_t subcode;   /* for a reset */
	bool ebgp_discard; /* RFC 7606 7.5, 7.9, 7.10 */
	attr_fn decode;
};

enum { LEN_ANY, LEN_FIXED, LEN_MULT };

#define T  BGP_ATTR_TRANSITIVE
#define O  BGP_ATTR_OPTIONAL
#define OT (BGP_ATTR_OPTIONAL | BGP_ATTR_TRANSITIVE)

static void
set_has(struct bgp_upd_state *s, uint8_t type)
{
	s->u->attrs.has |= BGP_HAS(type);
}

static struct bgp_span
span_of(struct bgp_cur *v, uint16_t len)
{
	struct bgp_span sp = {bgp_cur_bytes(v, len), len};
	return sp;
}

static const char *
dec_origin(struct bgp_upd_state *s, struct bgp_cur *v, uint16_t len)
{
	uint8_t o = bgp_cur_u8(v);
	(void)len;
	if (o > BGP_ORIGIN_INCOMPLETE)
		return "unknown ORIGIN value";
	s->u->attrs.origin = o;
	set_has(s, BGP_ATTR_ORIGIN);
	return NULL;
}

static const char *
dec_aspath(struct bgp_upd_state *s, struct bgp_cur *v, uint16_t len)
{
	struct bgp_attrs *a = &s->u->attrs;
	const uint8_t *p = bgp_cur_pos(v);
	const char *why = bgp_aspath_check(p, len, s->p->as4 ? 4 : 2, &s->path);

	if (why)
		return why;
	if (s->path.zero_as)
		return "AS 0 in the path (RFC 7607)";
	if (s->path.confed && s->p->ebgp)
		return "confederation segment from an eBGP peer (RFC 5065 5)";
	a->aspath = span_of(v, len);
	a->aspath_wide = s->p->as4;
	set_has(s, BGP_ATTR_AS_PATH);
	return NULL;
}

static const char *
dec_nexthop(struct bgp_upd_state *s, struct bgp_cur *v, uint16_t len)
{
	struct ip_addr *nh = &s->u->attrs.nexthop;
	(void)len;
	memset(nh, 0, sizeof(*nh));
	nh->af = IP_V4;
	bgp_cur_copy(v, nh->b, 4);
	set_has(s, BGP_ATTR_NEXT_HOP);
	return NULL;
}

static const char *
dec_u32(struct bgp_upd_state *s, struct bgp_cur *v, uint8_t type, uint32_t *out)
{
	*out = bgp_cur_u32(v);
	set_has(s, type);
	return NULL;
}

static const char *
dec_med(struct bgp_upd_state *s, struct bgp_cur *v, uint16_t len)
{
	(void)len;
	return dec_u32(s, v, BGP_ATTR_MED, &s->u->attrs.med);
}

static const char *
dec_local_pref(struct bgp_upd_state *s, struct bgp_cur *v, uint16_t len)
{
	(void)len;
	return dec_u32(s, v, BGP_ATTR_LOCAL_PREF, &s->u->attrs.local_pref);
}

static const char *
dec_originator(struct bgp_upd_state *s, struct bgp_cur *v, uint16_t len)
{
	(void)len;
	return dec_u32(s, v, BGP_ATTR_ORIGINATOR_ID, &s->u->attrs.originator_id);
}

static const char *
dec_atomic(struct bgp_upd_state *s, struct bgp_cur *v, uint16_t len)
{
	(void)v;
	(void)len;
	set_has(s, BGP_ATTR_ATOMIC_AGGREGATE);
	return NULL;
}

static const char *
dec_aggregator(struct bgp_upd_state *s, struct bgp_cur *v, uint16_t len)
{
	struct bgp_attrs *a = &s->u->attrs;
	unsigned asz = s->p->as4 ? 4 : 2;
	uint32_t as, id;

	if (len != asz + 4)
		return "wrong length for the session's AS size";
	as = bgp_cur_uint(v, asz);
	id = bgp_cur_u32(v);
	if (as == 0)
		return "AS 0 (RFC 7607)";
	a->aggr_as = as;
	a->aggr_id = id;
	set_has(s, BGP_ATTR_AGGREGATOR);
	return NULL;
}

static const char *
dec_span(struct bgp_upd_state *s, struct bgp_cur *v, uint16_t len, uint8_t type,
         struct bgp_span *out)
{
	*out = span_of(v, len);
	set_has(s, type);
	return NULL;
}

static const char *
dec_communities(struct bgp_upd_state *s, struct bgp_cur *v, uint16_t len)
{
	return dec_span(s, v, len, BGP_ATTR_COMMUNITIES, &s->u->attrs.communities);
}

static const char *
dec_cluster_list(struct bgp_upd_state *s, struct bgp_cur *v, uint16_t len)
{
	return dec_span(s, v, len, BGP_ATTR_CLUSTER_LIST, &s->u->attrs.cluster_list);
}

static const char *
dec_ext_communities(struct bgp_upd_state *s, struct bgp_cur *v, uint16_t len)
{
	return dec_span(s, v, len, BGP_ATTR_EXT_COMMUNITIES, &s->u->attrs.ext_communities);
}

static const char *
dec_large_communities(struct bgp_upd_state *s, struct bgp_cur *v, uint16_t len)
{
	return dec_span(s, v, len, BGP_ATTR_LARGE_COMMUNITY, &s->u->attrs.large_communities);
}

static const char *
dec_as4path(struct bgp_upd_state *s, struct bgp_cur *v, uint16_t len)
{
	const char *why;

	if (s->p->as4)
		return "AS4_PATH from a 4-octet AS peer (RFC 6793 4.1)";
	why = bgp_aspath_check(bgp_cur_pos(v), len, 4, &s->path4);
	if (why)
		return why;
	if (len == 0)
		return "empty AS4_PATH";
	if (s->path4.zero_as)
		return "AS 0 in AS4_PATH (RFC 7607)";
	if (s->path4.confed)
		return "confederation segment in AS4_PATH (RFC 6793 6)";
	s->u->attrs.as4path = span_of(v, len);
	set_has(s, BGP_ATTR_AS4_PATH);
	return NULL;
}

static const char *
dec_as4_aggregator(struct bgp_upd_state *s, struct bgp_cur *v, uint16_t len)
{
	(void)len;
	if (s->p->as4)
		return "AS4_AGGREGATOR from a 4-octet AS peer (RFC 6793 4.1)";
	s->as4_aggr_as = bgp_cur_u32(v);
	s->as4_aggr_id = bgp_cur_u32(v);
	if (s->as4_aggr_as == 0)
		return "AS 0 in AS4_AGGREGATOR (RFC 7607)";
	s->has_as4_aggr = true;
	set_has(s, BGP_ATTR_AS4_AGGREGATOR);
	return NULL;
}

/* ---- MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760 3, 4; RFC 7606 7.11, 5.3) -- */
static bool
mp_nlri(struct bgp_upd_state *s, struct bgp_cur *v, uint16_t afi, uint8_t safi, struct bgp_nlri *n)
{
	uint8_t fam = bgp_fam_of(afi, safi);

	if (fam != BGP_FAM_NONE && !(s->p->fams & BGP_FAM_BIT(fam)))
		fam = BGP_FAM_NONE; /* not negotiated: located, not decoded */
	n->present = true;
	n->afi = afi;
	n->safi = safi;
	n->fam = fam;
	n->addpath = fam != BGP_FAM_NONE && (s->p->addpath_rx & BGP_FAM_BIT(fam));
	n->len = (uint16_t)bgp_cur_left(v);
	n->p = bgp_cur_bytes(v, n->len);
	if (fam == BGP_FAM_NONE)
		return true;
	return bgp_nlri_check(n->p, n->len, fam, n->addpath, &n->count) == 0;
}

static bool
mp_nexthop(struct bgp_update *u, uint8_t fam, struct bgp_cur *nh, uint8_t nhlen)
{
	memset(&u->mp_nh, 0, sizeof(u->mp_nh));
	memset(&u->mp_nh_ll, 0, sizeof(u->mp_nh_ll));
	if (fam == BGP_FAM_NONE) {
		bgp_cur_skip(nh, nhlen);
		return true;
	}
	if (fam == BGP_FAM_IPV4 ? nhlen != 4 : nhlen != 16 && nhlen != 32)
		return false;
	u->mp_nh.af = fam == BGP_FAM_IPV4 ? IP_V4 : IP_V6;
	bgp_cur_copy(nh, u->mp_nh.b, fam == BGP_FAM_IPV4 ? 4 : 16);
	if (nhlen == 32) {
		u->mp_nh_ll.af = IP_V6;
		bgp_cur_copy(nh, u->mp_nh_ll.b, 16);
	}
	return true;
}

static const char *
dec_mp_reach(struct bgp_upd_state *s, struct bgp_cur *v, uint16_t len)
{
	uint16_t afi = bgp_cur_u16(v);
	uint8_t safi = bgp_cur_u8(v), nhlen = bgp_cur_u8(v);
	struct bgp_cur nh = bgp_cur_sub(v, nhlen);

	(void)len;
	bgp_cur_skip(v, 1); /* reserved (SNPAs in RFC 2858) */
	if (v->bad)
		return "next hop runs past the attribute";
	if (!mp_nexthop(s->u, bgp_fam_of(afi, safi), &nh, nhlen))
		return "next hop length wrong for the family (RFC 7606 7.11)";
	if (!mp_nlri(s, v, afi, safi, &s->u->mp_reach))
		return "prefixes cannot be parsed (RFC 7606 5.3)";
	if (s->u->mp_reach.fam == BGP_FAM_NONE)
		memset(&s->u->mp_nh, 0, sizeof(s->u->mp_nh));
	return NULL;
}

static const char *
dec_mp_unreach(struct bgp_upd_state *s, struct bgp_cur *v, uint16_t len)
{
	uint16_t afi = bgp_cur_u16(v);
	uint8_t safi = bgp_cur_u8(v);

	(void)len;
	if (!mp_nlri(s, v, afi, safi, &s->u->mp_unreach))
		return "prefixes cannot be parsed (RFC 7606 5.3)";
	return NULL;
}

#define ROW(n, f, rule, fix, act, sub, eb, fn)                                                     \
	{                                                                                          \
		n, f, fix, rule, act, sub, eb, fn                                                  \
	}
#define WD BGP_VERDICT_WITHDRAW
#define DC BGP_VERDICT_DISCARD
#define RS BGP_VERDICT_RESET

static const struct attr_desc attr_table[] = {
    [BGP_ATTR_ORIGIN] = ROW("ORIGIN", T, LEN_FIXED, 1, WD, BGP_UPD_BAD_ORIGIN, false, dec_origin),
    [BGP_ATTR_AS_PATH] = ROW("AS_PATH", T, LEN_ANY, 0, WD, BGP_UPD_BAD_AS_PATH, false, dec_aspath),
    [BGP_ATTR_NEXT_HOP] =
        ROW("NEXT_HOP", T, LEN_FIXED, 4, WD, BGP_UPD_BAD_NEXT_HOP, false, dec_nexthop),
    [BGP_ATTR_MED] =
        ROW("MULTI_EXIT_DISC", O, LEN_FIXED, 4, WD, BGP_UPD_OPTIONAL_ATTR, false, dec_med),
    [BGP_ATTR_LOCAL_PREF] =
        ROW("LOCAL_PREF", T, LEN_FIXED, 4, WD, BGP_UPD_ATTR_LEN, true, dec_local_pref),
    [BGP_ATTR_ATOMIC_AGGREGATE] =
        ROW("ATOMIC_AGGREGATE", T, LEN_FIXED, 0, DC, BGP_UPD_ATTR_LEN, false, dec_atomic),
    [BGP_ATTR_AGGREGATOR] =
        ROW("AGGREGATOR", OT, LEN_ANY, 0, DC, BGP_UPD_OPTIONAL_ATTR, false, dec_aggregator),
    [BGP_ATTR_COMMUNITIES] =
        ROW("COMMUNITIES", OT, LEN_MULT, 4, WD, BGP_UPD_OPTIONAL_ATTR, false, dec_communities),
    [BGP_ATTR_ORIGINATOR_ID] =
        ROW("ORIGINATOR_ID", O, LEN_FIXED, 4, WD, BGP_UPD_OPTIONAL_ATTR, true, dec_originator),
    [BGP_ATTR_CLUSTER_LIST] =
        ROW("CLUSTER_LIST", O, LEN_MULT, 4, WD, BGP_UPD_OPTIONAL_ATTR, true, dec_cluster_list),
    [BGP_ATTR_MP_REACH] =
        ROW("MP_REACH_NLRI", O, LEN_ANY, 0, RS, BGP_UPD_OPTIONAL_ATTR, false, dec_mp_reach),
    [BGP_ATTR_MP_UNREACH] =
        ROW("MP_UNREACH_NLRI", O, LEN_ANY, 0, RS, BGP_UPD_OPTIONAL_ATTR, false, dec_mp_unreach),
    [BGP_ATTR_EXT_COMMUNITIES] = ROW("EXTENDED_COMMUNITIES", OT, LEN_MULT, 8, WD,
                                     BGP_UPD_OPTIONAL_ATTR, false, dec_ext_communities),
    [BGP_ATTR_AS4_PATH] =
        ROW("AS4_PATH", OT, LEN_ANY, 0, DC, BGP_UPD_OPTIONAL_ATTR, false, dec_as4path),
    [BGP_ATTR_AS4_AGGREGATOR] = ROW("AS4_AGGREGATOR", OT, LEN_FIXED, 8, DC, BGP_UPD_OPTIONAL_ATTR,
                                    false, dec_as4_aggregator),
    [BGP_ATTR_LARGE_COMMUNITY] = ROW("LARGE_COMMUNITY", OT, LEN_MULT, 12, WD, BGP_UPD_OPTIONAL_ATTR,
                                     false, dec_large_communities),
};

static const struct attr_desc *
desc_of(uint8_t type)
{
	if (type >= sizeof(attr_table) / sizeof(attr_table[0]) || !attr_table[type].name)
		return NULL;
	return &attr_table[type];
}

const char *
bgp_attr_name(uint8_t type)
{
	const struct attr_desc *d = desc_of(type);
	return d ? d->name : "unknown attribute";
}

/* The minimum lengths of MP_* are what lets their fields be read at all. */
static const char *
length_fault(const struct attr_desc *d, uint8_t type, uint16_t len)
{
	if (d->lenrule == LEN_FIXED && len != d->fixed)
		return "wrong length";
	if (d->lenrule == LEN_MULT && (len == 0 || len % d->fixed))
		return "length not a non-zero multiple of its element";
	if (type == BGP_ATTR_MP_REACH && len < BGP_MP_REACH_MIN)
		return "shorter than 5 bytes (RFC 7606 5.3)";
	if (type == BGP_ATTR_MP_UNREACH && len < BGP_MP_UNREACH_MIN)
		return "shorter than 3 bytes (RFC 7606 5.3)";
	return NULL;
}

static void
unknown_attr(struct bgp_upd_state *s, const struct bgp_attr_in *a)
{
	struct bgp_attrs *at = &s->u->attrs;

	if (!(a->flags & BGP_ATTR_OPTIONAL)) {
		bgp_upd_note(s->u, BGP_VERDICT_WITHDRAW, a->type, BGP_UPD_UNKNOWN_WK, a->whole,
		             a->whole_len, "unrecognized attribute marked well-known");
		return;
	}
	if (!(a->flags & BGP_ATTR_TRANSITIVE))
		return; /* RFC 4271 5: quietly ignored, not passed on */
	if (at->n_other == BGP_MAX_OTHER_ATTR) {
		bgp_upd_note(s->u, BGP_VERDICT_DISCARD, a->type, BGP_UPD_OPTIONAL_ATTR, NULL, 0,
		             "too many unrecognized attributes; discarded");
		return;
	}
	/* kept sorted by type, the order the encoder writes them in */
	struct bgp_cur v = a->v;
	unsigned i = at->n_other++;
	for (; i > 0 && at->other[i - 1].type > a->type; i--)
		at->other[i] = at->other[i - 1];
	at->other[i].flags = a->flags;
	at->other[i].type = a->type;
	at->other[i].val = span_of(&v, a->len);
}

static bool
seen_once(struct bgp_upd_state *s, uint8_t type)
{
	uint8_t bit = (uint8_t)(1u << (type % 8));
	bool was = s->seen[type / 8] & bit;
	s->seen[type / 8] |= bit;
	return was;
}

void
bgp_attr_decode(struct bgp_upd_state *s, const struct bgp_attr_in *a)
{
	const struct attr_desc *d = desc_of(a->type);
	uint8_t sub;
	const char *why;
	struct bgp_cur v = a->v;

	if (a->type != BGP_ATTR_MP_UNREACH)
		s->not_only_unreach = true;
	if (seen_once(s, a->type)) {
		if (a->type == BGP_ATTR_MP_REACH || a->type == BGP_ATTR_MP_UNREACH)
			bgp_upd_note(s->u, BGP_VERDICT_RESET, a->type, BGP_UPD_MALFORMED_ATTRS,
			             NULL, 0, "appears twice (RFC 7606 3.g)");
		else
			bgp_upd_note(s->u, BGP_VERDICT_DISCARD, a->type, BGP_UPD_MALFORMED_ATTRS,
			             NULL, 0, "duplicate discarded (RFC 7606 3.g)");
		return;
	}
	if (!d) {
		unknown_attr(s, a);
		return;
	}
	if (d->ebgp_discard && s->p->ebgp) {
		bgp_upd_note(s->u, BGP_VERDICT_DISCARD, a->type, d->subcode, NULL, 0,
		             "from an eBGP peer; discarded");
		return;
	}
	sub = BGP_UPD_ATTR_FLAGS;
	why = (a->flags & BGP_ATTR_FLAGS_OT) != d->flags ? "attribute flags conflict" : NULL;
	if (!why) {
		sub = BGP_UPD_ATTR_LEN;
		why = length_fault(d, a->type, a->len);
	}
	if (!why) {
		sub = d->subcode;
		why = d->decode(s, &v, a->len);
	}
	/* RFC 7606 3.c: conflicting Optional/Transitive flags are treat-as-withdraw
	 * unless the attribute's own rules say otherwise; those of ATOMIC_AGGREGATE,
	 * AGGREGATOR and the AS4_* attributes (7.6, 7.7, RFC 6793) speak of their
	 * length and contents only, so their discard is for those. MP_REACH and
	 * MP_UNREACH keep their session reset. */
	enum bgp_verdict verdict = (enum bgp_verdict)d->malformed;
	if (why && sub == BGP_UPD_ATTR_FLAGS && verdict == BGP_VERDICT_DISCARD)
		verdict = BGP_VERDICT_WITHDRAW;
	if (why)
		bgp_upd_note(s->u, verdict, a->type, sub, a->whole, a->whole_len, why);
}

/*
 * RFC 6793 4.2.3 on a 2-octet session: AS4_AGGREGATOR replaces an AGGREGATOR
 * that says AS_TRANS; an AGGREGATOR that does not makes both AS4_AGGREGATOR
 * and AS4_PATH ignored; an AS4_PATH longer than AS_PATH is ignored.
 */
void
bgp_attr_merge_as4(struct bgp_upd_state *s)
{
	struct bgp_attrs *a = &s->u->attrs;
	bool aggr = a->has & BGP_HAS(BGP_ATTR_AGGREGATOR);

	if (s->p->as4)
		return;
	if (aggr && a->aggr_as != BGP_AS_TRANS) {
		a->as4path = (struct bgp_span){NULL, 0};
	} else if (aggr && s->has_as4_aggr) {
		a->aggr_as = s->as4_aggr_as;
		a->aggr_id = s->as4_aggr_id;
	}
	if (!(a->has & BGP_HAS(BGP_ATTR_AS_PATH)) || s->path.hops < s->path4.hops)
		a->as4path = (struct bgp_span){NULL, 0};
	a->has &= ~(BGP_HAS(BGP_ATTR_AS4_PATH) | BGP_HAS(BGP_ATTR_AS4_AGGREGATOR));
}

/* ---- comparing sets ----------------------------------------------------------- */
static bool
span_eq(const struct bgp_span *x, const struct bgp_span *y)
{
	return x->len == y->len && (x->len == 0 || memcmp(x->p, y->p, x->len) == 0);
}

static bool
addr_eq(const struct ip_addr *x, const struct ip_addr *y)
{
	return x->af == y->af && (x->af == 0 || memcmp(x->b, y->b, sizeof(x->b)) == 0);
}

/* Equal when present; Partial and Extended Length are how a copy travelled. */
static bool
others_eq(const struct bgp_attrs *x, const struct bgp_attrs *y)
{
	if (x->n_other != y->n_other)
		return false;
	for (unsigned i = 0; i < x->n_other && i < BGP_MAX_OTHER_ATTR; i++)
		if (x->other[i].type != y->other[i].type ||
		    (x->other[i].flags & BGP_ATTR_FLAGS_OT) !=
		        (y->other[i].flags & BGP_ATTR_FLAGS_OT) ||
		    !span_eq(&x->other[i].val, &y->other[i].val))
			return false;
	return true;
}

#define HAS(a, t) ((a)->has & BGP_HAS(t))

bool
bgp_attrs_equal(const struct bgp_attrs *x, const struct bgp_attrs *y)
{
	if (x->has != y->has || x->aspath_wide != y->aspath_wide ||
	    !addr_eq(&x->nexthop, &y->nexthop) || !addr_eq(&x->nexthop_ll, &y->nexthop_ll))
		return false;
	if ((HAS(x, BGP_ATTR_ORIGIN) && x->origin != y->origin) ||
	    (HAS(x, BGP_ATTR_MED) && x->med != y->med) ||
	    (HAS(x, BGP_ATTR_LOCAL_PREF) && x->local_pref != y->local_pref) ||
	    (HAS(x, BGP_ATTR_ORIGINATOR_ID) && x->originator_id != y->originator_id) ||
	    (HAS(x, BGP_ATTR_AGGREGATOR) && (x->aggr_as != y->aggr_as || x->aggr_id != y->aggr_id)))
		return false;
	return span_eq(&x->aspath, &y->aspath) && span_eq(&x->as4path, &y->as4path) &&
	       span_eq(&x->communities, &y->communities) &&
	       span_eq(&x->ext_communities, &y->ext_communities) &&
	       span_eq(&x->large_communities, &y->large_communities) &&
	       span_eq(&x->cluster_list, &y->cluster_list) && others_eq(x, y);
}
