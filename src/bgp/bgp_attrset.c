/*
 * bgp_attrset.c - attribute sets interned by content and counted by
 * reference, so that a route costs one pointer however long its AS_PATH and
 * community lists are, and a full table of a million routes with a few
 * hundred distinct sets holds a few hundred copies.
 *
 * A set is stored as one compact serialization of its canonical form (RFC
 * 6793 merged, 4-octet AS_PATH: bgp_attrs_canon) with only what the
 * attributes say, not how they travelled: the NEXT_HOP/MP_REACH distinction,
 * Partial and Extended Length flags and attribute order are gone, so two
 * UPDATEs that mean the same intern to the same set. The layout, every field
 * present only when its attribute is:
 *
 *   u32 has (high) | u32 has (low) | origin u8 | nexthop: af u8, 4 or 16 |
 *   link-local: af u8, 16 | MED u32 | LOCAL_PREF u32 | AGGREGATOR u32 u32 |
 *   ORIGINATOR_ID u32 | AS_PATH, COMMUNITIES, EXT_COMMUNITIES,
 *   LARGE_COMMUNITY, CLUSTER_LIST: u16 length + bytes |
 *   u8 n_other, each u8 type, u8 flags (O and T only), u16 length, bytes
 *
 * Equality is byte equality of the serialization, the hash XXH3 of it.
 * bgp_aset_get() reads it back into a struct bgp_attrs whose spans point into
 * the set. The table is chained (few hundred to a few hundred thousand sets)
 * and doubles its buckets when it holds as many sets as buckets.
 */
#include "bgp/bgp_rib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"

/* Bits of has that say how the attributes travelled, not what they are. */
#define TRANSPORT_BITS                                                                             \
	(BGP_HAS(BGP_ATTR_NEXT_HOP) | BGP_HAS(BGP_ATTR_MP_REACH) | BGP_HAS(BGP_ATTR_MP_UNREACH) |  \
	 BGP_HAS(BGP_ATTR_AS4_PATH) | BGP_HAS(BGP_ATTR_AS4_AGGREGATOR))

#define HAS(a, t) (((a)->has & BGP_HAS(t)) != 0)

static const uint8_t span_types[] = {
    BGP_ATTR_AS_PATH,         BGP_ATTR_COMMUNITIES,  BGP_ATTR_EXT_COMMUNITIES,
    BGP_ATTR_LARGE_COMMUNITY, BGP_ATTR_CLUSTER_LIST,
};

static struct bgp_span *
span_of(struct bgp_attrs *a, uint8_t type)
{
	switch (type) {
	case BGP_ATTR_AS_PATH:
		return &a->aspath;
	case BGP_ATTR_COMMUNITIES:
		return &a->communities;
	case BGP_ATTR_EXT_COMMUNITIES:
		return &a->ext_communities;
	case BGP_ATTR_LARGE_COMMUNITY:
		return &a->large_communities;
	default:
		return &a->cluster_list;
	}
}

static void
put_addr(struct bgp_wr *w, const struct ip_addr *ad)
{
	bgp_wr_u8(w, ad->af);
	if (ad->af == IP_V4)
		bgp_wr_bytes(w, ad->b, 4);
	else if (ad->af == IP_V6)
		bgp_wr_bytes(w, ad->b, 16);
}

/* The serialization of a canonical a into w (a counter measures it). */
static void
serialize(const struct bgp_attrs *a, struct bgp_wr *w)
{
	struct bgp_attrs *m = (struct bgp_attrs *)a; /* span_of only reads through it */
	uint64_t has = a->has & ~(uint64_t)TRANSPORT_BITS;

	bgp_wr_u32(w, (uint32_t)(has >> 32));
	bgp_wr_u32(w, (uint32_t)has);
	if (HAS(a, BGP_ATTR_ORIGIN))
		bgp_wr_u8(w, a->origin);
	put_addr(w, &a->nexthop);
	put_addr(w, &a->nexthop_ll);
	if (HAS(a, BGP_ATTR_MED))
		bgp_wr_u32(w, a->med);
	if (HAS(a, BGP_ATTR_LOCAL_PREF))
		bgp_wr_u32(w, a->local_pref);
	if (HAS(a, BGP_ATTR_AGGREGATOR)) {
		bgp_wr_u32(w, a->aggr_as);
		bgp_wr_u32(w, a->aggr_id);
	}
	if (HAS(a, BGP_ATTR_ORIGINATOR_ID))
		bgp_wr_u32(w, a->originator_id);
	for (size_t i = 0; i < sizeof(span_types); i++) {
		const struct bgp_span *sp = span_of(m, span_types[i]);
		if (!HAS(a, span_types[i]))
			continue;
		bgp_wr_u16(w, sp->len);
		bgp_wr_bytes(w, sp->p, sp->len);
	}
	bgp_wr_u8(w, a->n_other);
	for (unsigned i = 0; i < a->n_other && i < BGP_MAX_OTHER_ATTR; i++) {
		bgp_wr_u8(w, a->other[i].type);
		bgp_wr_u8(w, a->other[i].flags & BGP_ATTR_FLAGS_OT);
		bgp_wr_u16(w, a->other[i].val.len);
		bgp_wr_bytes(w, a->other[i].val.p, a->other[i].val.len);
	}
}

static void
get_addr(struct bgp_cur *c, struct ip_addr *ad)
{
	memset(ad, 0, sizeof(*ad));
	ad->af = bgp_cur_u8(c);
	if (ad->af == IP_V4)
		bgp_cur_copy(c, ad->b, 4);
	else if (ad->af == IP_V6)
		bgp_cur_copy(c, ad->b, 16);
}

void
bgp_aset_get(const struct bgp_attrset *s, struct bgp_attrs *a)
{
	struct bgp_cur c = bgp_cur_make(s->blob, s->len);
	uint64_t hi;

	memset(a, 0, sizeof(*a));
	hi = bgp_cur_u32(&c);
	a->has = hi << 32 | bgp_cur_u32(&c);
	a->aspath_wide = true;
	if (HAS(a, BGP_ATTR_ORIGIN))
		a->origin = bgp_cur_u8(&c);
	get_addr(&c, &a->nexthop);
	get_addr(&c, &a->nexthop_ll);
	if (a->nexthop.af == IP_V4)
		a->has |= BGP_HAS(BGP_ATTR_NEXT_HOP);
	if (HAS(a, BGP_ATTR_MED))
		a->med = bgp_cur_u32(&c);
	if (HAS(a, BGP_ATTR_LOCAL_PREF))
		a->local_pref = bgp_cur_u32(&c);
	if (HAS(a, BGP_ATTR_AGGREGATOR)) {
		a->aggr_as = bgp_cur_u32(&c);
		a->aggr_id = bgp_cur_u32(&c);
	}
	if (HAS(a, BGP_ATTR_ORIGINATOR_ID))
		a->originator_id = bgp_cur_u32(&c);
	for (size_t i = 0; i < sizeof(span_types); i++) {
		struct bgp_span *sp = span_of(a, span_types[i]);
		if (!HAS(a, span_types[i]))
			continue;
		sp->len = bgp_cur_u16(&c);
		sp->p = bgp_cur_bytes(&c, sp->len);
	}
	a->n_other = bgp_cur_u8(&c);
	for (unsigned i = 0; i < a->n_other && i < BGP_MAX_OTHER_ATTR; i++) {
		a->other[i].type = bgp_cur_u8(&c);
		a->other[i].flags = bgp_cur_u8(&c);
		a->other[i].val.len = bgp_cur_u16(&c);
		a->other[i].val.p = bgp_cur_bytes(&c, a->other[i].val.len);
	}
}

/* ---- the table ------------------------------------------------------------------ */
#define ATAB_MIN_BUCKETS 64u

void
bgp_atab_init(struct bgp_atab *t)
{
	memset(t, 0, sizeof(*t));
	t->nb = ATAB_MIN_BUCKETS;
	t->b = lib_xcalloc(t->nb, sizeof(*t->b));
	t->bytes = t->nb * sizeof(*t->b);
}

void
bgp_atab_free(struct bgp_atab *t)
{
	for (uint32_t i = 0; t->b && i < t->nb; i++) {
		struct bgp_attrset *s = t->b[i], *next;
		for (; s; s = next) {
			next = s->next;
			free(s);
		}
	}
	free(t->b);
	free(t->scratch);
	memset(t, 0, sizeof(*t));
}

static void
grow(struct bgp_atab *t)
{
	uint32_t nb = t->nb * 2;
	struct bgp_attrset **b = lib_xcalloc(nb, sizeof(*b));

	for (uint32_t i = 0; i < t->nb; i++) {
		struct bgp_attrset *s = t->b[i], *next;
		for (; s; s = next) {
			next = s->next;
			s->next = b[s->hash & (nb - 1)];
			b[s->hash & (nb - 1)] = s;
		}
	}
	free(t->b);
	t->bytes += (nb - t->nb) * sizeof(*b);
	t->b = b;
	t->nb = nb;
}

static uint8_t *
scratch(struct bgp_atab *t, size_t n)
{
	if (t->scratch_cap < n) {
		free(t->scratch);
		t->scratch_cap = n < 4096 ? 4096 : n;
		t->scratch = lib_xmalloc(t->scratch_cap);
	}
	return t->scratch;
}

struct bgp_attrset *
bgp_atab_intern(struct bgp_atab *t, const struct bgp_attrs *a, int *err)
{
	struct bgp_attrs c = *a;
	struct bgp_wr cnt = bgp_wr_counter(), w;
	size_t room = bgp_attrs_canon_room(a);
	uint8_t *buf;
	uint64_t h;
	struct bgp_attrset *s;

	*err = 0;
	serialize(a, &cnt); /* canonicalizing can only double AS_PATH: room bounds it */
	buf = scratch(t, room + cnt.len + room);
	if (bgp_attrs_canon(&c, buf, room) != 0) {
		*err = -EINVAL;
		return NULL;
	}
	w = bgp_wr_make(buf + room, cnt.len + room);
	serialize(&c, &w);
	if (w.over) {
		*err = -EINVAL;
		return NULL;
	}
	h = lib_hash(w.p, w.len);
	for (s = t->b[h & (t->nb - 1)]; s; s = s->next)
		if (s->hash == h && s->len == w.len && memcmp(s->blob, w.p, w.len) == 0) {
			s->refs++;
			return s;
		}
	s = lib_xmalloc(sizeof(*s) + w.len);
	s->tab = t;
	s->hash = h;
	s->refs = 1;
	s->len = (uint32_t)w.len;
	memcpy(s->blob, w.p, w.len);
	s->next = t->b[h & (t->nb - 1)];
	t->b[h & (t->nb - 1)] = s;
	t->n++;
	t->bytes += sizeof(*s) + w.len;
	if (t->n > t->nb)
		grow(t);
	return s;
}

struct bgp_attrset *
bgp_aset_ref(struct bgp_attrset *s)
{
	if (s)
		s->refs++;
	return s;
}

void
bgp_aset_unref(struct bgp_attrset *s)
{
	struct bgp_atab *t;
	struct bgp_attrset **pp;

	if (!s || --s->refs > 0)
		return;
	t = s->tab;
	for (pp = &t->b[s->hash & (t->nb - 1)]; *pp != s; pp = &(*pp)->next)
		;
	*pp = s->next;
	t->n--;
	t->bytes -= sizeof(*s) + s->len;
	free(s);
}
