/*
 * bgp_upd_enc.c - UPDATE encoding: one attribute set with as many prefixes as
 * fit the session's maximum message size, End-of-RIB markers, and the split
 * of a prefix list into as few UPDATEs as possible.
 *
 * Layout: IPv4 unicast routes travel in the body (withdrawn routes field or
 * NLRI field with NEXT_HOP); IPv6 unicast in MP_REACH_NLRI/MP_UNREACH_NLRI
 * (RFC 4760), encoded first among the attributes as RFC 7606 5.1 recommends
 * and always with the extended length flag, as FRR and Junos send it, so the
 * attribute's size never changes its header. The other attributes follow in
 * ascending type order (RFC 4271 5), an unrecognized transitive one with
 * Partial set (RFC 4271 5). An attribute uses the extended length flag only
 * when it needs it.
 *
 * A 2-octet peer (no AS4 capability) gets AS_PATH and AGGREGATOR with
 * AS_TRANS for the ASes above 65535, and AS4_PATH (confederation segments
 * removed) / AS4_AGGREGATOR carrying the real ones, only when needed (RFC
 * 6793 4.2.2).
 *
 * Sizing runs the attribute encoder on a counting writer first; the prefixes
 * then fill what remains up to tx_max, in order (greedy packing of a fixed
 * order is the fewest messages a contiguous split can give).
 */
#include "bgp/bgp_int.h"

#include <errno.h>
#include <string.h>

static void
put_hdr(struct bgp_wr *w, uint8_t flags, uint8_t type, size_t len)
{
	if (len > 255) {
		bgp_wr_u8(w, flags | BGP_ATTR_EXTENDED);
		bgp_wr_u8(w, type);
		bgp_wr_u16(w, (uint16_t)len);
	} else {
		bgp_wr_u8(w, flags & (uint8_t)~BGP_ATTR_EXTENDED);
		bgp_wr_u8(w, type);
		bgp_wr_u8(w, (uint8_t)len);
	}
}

static void
put_span(struct bgp_wr *w, uint8_t flags, uint8_t type, const struct bgp_span *sp)
{
	put_hdr(w, flags, type, sp->len);
	bgp_wr_bytes(w, sp->p, sp->len);
}

static void
put_u32(struct bgp_wr *w, uint8_t flags, uint8_t type, uint32_t v)
{
	put_hdr(w, flags, type, 4);
	bgp_wr_u32(w, v);
}

static void
put_aspath(struct bgp_wr *w, const struct bgp_params *p, const struct bgp_attrs *a)
{
	struct bgp_wr cnt = bgp_wr_counter();

	if (p->as4) {
		put_span(w, BGP_ATTR_TRANSITIVE, BGP_ATTR_AS_PATH, &a->aspath);
		return;
	}
	bgp_aspath_put_narrow(&a->aspath, &cnt);
	put_hdr(w, BGP_ATTR_TRANSITIVE, BGP_ATTR_AS_PATH, cnt.len);
	bgp_aspath_put_narrow(&a->aspath, w);
}

static void
put_aggregator(struct bgp_wr *w, const struct bgp_params *p, const struct bgp_attrs *a)
{
	put_hdr(w, BGP_ATTR_FLAGS_OT, BGP_ATTR_AGGREGATOR,
	        p->as4 ? BGP_AGGREGATOR4_LEN : BGP_AGGREGATOR2_LEN);
	if (p->as4)
		bgp_wr_u32(w, a->aggr_as);
	else
		bgp_wr_u16(w, a->aggr_as > 0xffff ? BGP_AS_TRANS : (uint16_t)a->aggr_as);
	bgp_wr_u32(w, a->aggr_id);
}

static void
put_as4(struct bgp_wr *w, const struct bgp_params *p, const struct bgp_attrs *a, uint8_t type)
{
	if (p->as4)
		return;
	if (type == BGP_ATTR_AS4_PATH && (a->has & BGP_HAS(BGP_ATTR_AS_PATH)) &&
	    bgp_aspath_needs_as4(&a->aspath)) {
		put_hdr(w, BGP_ATTR_FLAGS_OT, BGP_ATTR_AS4_PATH, bgp_aspath_as4_len(&a->aspath));
		bgp_aspath_put_as4(&a->aspath, w);
	}
	if (type == BGP_ATTR_AS4_AGGREGATOR && (a->has & BGP_HAS(BGP_ATTR_AGGREGATOR)) &&
	    a->aggr_as > 0xffff) {
		put_hdr(w, BGP_ATTR_FLAGS_OT, BGP_ATTR_AS4_AGGREGATOR, BGP_AGGREGATOR4_LEN);
		bgp_wr_u32(w, a->aggr_as);
		bgp_wr_u32(w, a->aggr_id);
	}
}

/* One known attribute of type t, if a has it. */
static void
put_known(struct bgp_wr *w, const struct bgp_params *p, const struct bgp_attrs *a, uint8_t t,
          bool body_nexthop)
{
	bool has = t < 64 && (a->has & BGP_HAS(t));

	switch (t) {
	case BGP_ATTR_ORIGIN:
		if (has) {
			put_hdr(w, BGP_ATTR_TRANSITIVE, t, BGP_ORIGIN_LEN);
			bgp_wr_u8(w, a->origin);
		}
		return;
	case BGP_ATTR_AS_PATH:
		if (has)
			put_aspath(w, p, a);
		return;
	case BGP_ATTR_NEXT_HOP:
		if (body_nexthop) {
			put_hdr(w, BGP_ATTR_TRANSITIVE, t, BGP_NEXT_HOP_LEN);
			bgp_wr_bytes(w, a->nexthop.b, 4);
		}
		return;
	case BGP_ATTR_MED:
		if (has)
			put_u32(w, BGP_ATTR_OPTIONAL, t, a->med);
		return;
	case BGP_ATTR_LOCAL_PREF:
		if (has)
			put_u32(w, BGP_ATTR_TRANSITIVE, t, a->local_pref);
		return;
	case BGP_ATTR_ATOMIC_AGGREGATE:
		if (has)
			put_hdr(w, BGP_ATTR_TRANSITIVE, t, 0);
		return;
	case BGP_ATTR_AGGREGATOR:
		if (has)
			put_aggregator(w, p, a);
		return;
	case BGP_ATTR_COMMUNITIES:
		if (has)
			put_span(w, BGP_ATTR_FLAGS_OT, t, &a->communities);
		return;
	case BGP_ATTR_ORIGINATOR_ID:
		if (has)
			put_u32(w, BGP_ATTR_OPTIONAL, t, a->originator_id);
		return;
	case BGP_ATTR_CLUSTER_LIST:
		if (has)
			put_span(w, BGP_ATTR_OPTIONAL, t, &a->cluster_list);
		return;
	case BGP_ATTR_EXT_COMMUNITIES:
		if (has)
			put_span(w, BGP_ATTR_FLAGS_OT, t, &a->ext_communities);
		return;
	case BGP_ATTR_AS4_PATH:
	case BGP_ATTR_AS4_AGGREGATOR:
		put_as4(w, p, a, t);
		return;
	case BGP_ATTR_LARGE_COMMUNITY:
		if (has)
			put_span(w, BGP_ATTR_FLAGS_OT, t, &a->large_communities);
		return;
	}
}

/* Every attribute but MP_*, ascending; other[] interleaved by type. */
static void
put_attrs(struct bgp_wr *w, const struct bgp_params *p, const struct bgp_attrs *a,
          bool body_nexthop)
{
	for (unsigned t = 0; t < 256; t++) {
		put_known(w, p, a, (uint8_t)t, body_nexthop);
		for (unsigned i = 0; i < a->n_other && i < BGP_MAX_OTHER_ATTR; i++)
			if (a->other[i].type == t)
				put_span(w, a->other[i].flags | BGP_ATTR_PARTIAL, a->other[i].type,
				         &a->other[i].val);
	}
}

/* The MP_* attribute's fixed part (after its 4-byte header). */
static size_t
mp_fixed(const struct bgp_attrs *a)
{
	if (!a)
		return 3; /* AFI, SAFI */
	return 3 + 1 + (a->nexthop_ll.af == IP_V6 ? 32u : 16u) + 1;
}

static void
put_mp_start(struct bgp_wr *w, const struct bgp_attrs *a, size_t *len_at)
{
	bgp_wr_u8(w, BGP_ATTR_OPTIONAL | BGP_ATTR_EXTENDED);
	bgp_wr_u8(w, a ? BGP_ATTR_MP_REACH : BGP_ATTR_MP_UNREACH);
	*len_at = bgp_wr_mark(w, 2);
	bgp_wr_u16(w, BGP_AFI_IPV6);
	bgp_wr_u8(w, BGP_SAFI_UNICAST);
	if (!a)
		return;
	bgp_wr_u8(w, a->nexthop_ll.af == IP_V6 ? 32 : 16);
	bgp_wr_bytes(w, a->nexthop.b, 16);
	if (a->nexthop_ll.af == IP_V6)
		bgp_wr_bytes(w, a->nexthop_ll.b, 16);
	bgp_wr_u8(w, 0); /* reserved */
}

static int
check_input(const struct bgp_params *p, const struct bgp_attrs *a, const struct ip_prefix *v,
            size_t n, uint8_t *fam)
{
	if (n == 0)
		return -EINVAL;
	*fam = bgp_fam_of_af(v[0].a.af);
	if (*fam == BGP_FAM_NONE || !(p->fams & BGP_FAM_BIT(*fam)))
		return -EINVAL;
	if (a && (!a->aspath_wide || a->as4path.len))
		return -EINVAL; /* not canonical: bgp_attrs_canon first */
	if (a && a->nexthop.af != v[0].a.af)
		return -EINVAL;
	return 0;
}

/* How many of v fit in budget bytes; -EINVAL for a prefix of another family. */
static int
count_fit(const struct ip_prefix *v, size_t n, bool addpath, size_t budget, size_t *k,
          size_t *bytes)
{
	size_t used = 0, i;
	for (i = 0; i < n; i++) {
		size_t l = bgp_prefix_wire_len(&v[i], addpath);
		if (v[i].a.af != v[0].a.af || v[i].len > ip_maxlen(v[i].a.af))
			return -EINVAL;
		if (used + l > budget)
			break;
		used += l;
	}
	*k = i;
	*bytes = used;
	return 0;
}

static void
put_prefixes(struct bgp_wr *w, const struct ip_prefix *v, const uint32_t *ids, size_t k,
             bool addpath)
{
	for (size_t i = 0; i < k; i++)
		bgp_prefix_put(w, &v[i], addpath, ids ? ids[i] : 0);
}

static void
put_body(struct bgp_wr *w, const struct bgp_params *p, const struct bgp_attrs *a, uint8_t fam,
         const struct ip_prefix *v, const uint32_t *ids, size_t k)
{
	bool addpath = p->addpath_tx & BGP_FAM_BIT(fam);
	size_t at, mp_at = 0;

	if (fam == BGP_FAM_IPV4 && !a) {
		at = bgp_wr_mark(w, 2);
		put_prefixes(w, v, ids, k, addpath);
		bgp_wr_patch16(w, at, (uint16_t)(w->len - at - 2));
		bgp_wr_u16(w, 0);
		return;
	}
	bgp_wr_u16(w, 0); /* no withdrawn routes */
	at = bgp_wr_mark(w, 2);
	if (fam == BGP_FAM_IPV6) {
		put_mp_start(w, a, &mp_at);
		put_prefixes(w, v, ids, k, addpath);
		bgp_wr_patch16(w, mp_at, (uint16_t)(w->len - mp_at - 2));
	}
	if (a)
		put_attrs(w, p, a, fam == BGP_FAM_IPV4);
	bgp_wr_patch16(w, at, (uint16_t)(w->len - at - 2));
	if (fam == BGP_FAM_IPV4)
		put_prefixes(w, v, ids, k, addpath);
}

int
bgp_update_pack(struct bgp_wr *w, const struct bgp_params *p, const struct bgp_attrs *a,
                const struct ip_prefix *v, const uint32_t *ids, size_t n, size_t *done)
{
	struct bgp_wr cnt = bgp_wr_counter();
	size_t fixed, k, bytes, at;
	uint8_t fam;
	int rc;

	*done = 0;
	if ((rc = check_input(p, a, v, n, &fam)) != 0)
		return rc;
	if (a)
		put_attrs(&cnt, p, a, fam == BGP_FAM_IPV4);
	fixed = BGP_UPDATE_MIN + cnt.len + (fam == BGP_FAM_IPV6 ? 4 + mp_fixed(a) : 0);
	if (fixed >= p->tx_max)
		return -EMSGSIZE;
	rc = count_fit(v, n, p->addpath_tx & BGP_FAM_BIT(fam), p->tx_max - fixed, &k, &bytes);
	if (rc != 0)
		return rc;
	if (k == 0)
		return -EMSGSIZE;
	at = bgp_msg_begin(w, BGP_UPDATE);
	put_body(w, p, a, fam, v, ids, k);
	if ((rc = bgp_msg_end(w, at, p->tx_max)) != 0)
		return rc;
	*done = k;
	return 0;
}

int
bgp_update_split(const struct bgp_params *p, const struct bgp_attrs *a, const struct ip_prefix *v,
                 const uint32_t *ids, size_t n, uint8_t *buf, size_t cap, bgp_emit_fn emit,
                 void *arg)
{
	int msgs = 0, rc;

	while (n > 0) {
		struct bgp_wr w = bgp_wr_make(buf, cap);
		size_t done;
		if ((rc = bgp_update_pack(&w, p, a, v, ids, n, &done)) != 0)
			return rc;
		if ((rc = emit(arg, buf, w.len)) < 0)
			return rc;
		msgs++;
		v += done;
		ids = ids ? ids + done : NULL;
		n -= done;
	}
	return msgs;
}

int
bgp_eor_encode(struct bgp_wr *w, uint8_t fam)
{
	size_t at = bgp_msg_begin(w, BGP_UPDATE), len_at;
	uint16_t afi;
	uint8_t safi;

	bgp_wr_u16(w, 0);
	if (fam == BGP_FAM_IPV4) {
		bgp_wr_u16(w, 0);
	} else {
		bgp_fam_afi(fam, &afi, &safi);
		bgp_wr_u16(w, 7);
		bgp_wr_u8(w, BGP_ATTR_OPTIONAL | BGP_ATTR_EXTENDED);
		bgp_wr_u8(w, BGP_ATTR_MP_UNREACH);
		len_at = bgp_wr_mark(w, 2);
		bgp_wr_u16(w, afi);
		bgp_wr_u8(w, safi);
		bgp_wr_patch16(w, len_at, 3);
	}
	return bgp_msg_end(w, at, BGP_MAX_MSG);
}
