/*
 * bgp_aspath.c - AS_PATH and AS4_PATH: validation (RFC 7606 7.2, RFC 7607),
 * the path length used by route selection (RFC 4271 9.1.2.2: an AS_SET
 * counts one, confederation segments none), the 2-octet to 4-octet merge of
 * RFC 6793 4.2.3, and the reverse for 2-octet peers (RFC 6793 4.2.2).
 *
 * The canonical form, which the encoder and the RIB use, is the AS_PATH
 * attribute's value with 4-octet ASes. Merging AS_PATH (2-octet, AS_TRANS
 * where a 4-octet AS stood) with AS4_PATH takes the leading hops(AS_PATH) -
 * hops(AS4_PATH) ASes of AS_PATH, then all of AS4_PATH; where the junction
 * falls between two AS_SEQUENCEs they become one, so a path reads the same
 * whichever way it came.
 */
#include "bgp/bgp_int.h"

#include <errno.h>
#include <string.h>

const char *
bgp_aspath_check(const uint8_t *p, size_t n, unsigned asz, struct bgp_aspath_info *info)
{
	struct bgp_cur c = bgp_cur_make(p, n);

	memset(info, 0, sizeof(*info));
	for (bool lead = true; !bgp_cur_done(&c); lead = false) {
		uint8_t type, cnt;
		if (bgp_cur_left(&c) < 2)
			return "a segment header is cut short";
		type = bgp_cur_u8(&c);
		cnt = bgp_cur_u8(&c);
		if (type < BGP_AS_SET || type > BGP_AS_CONFED_SET)
			return "unknown segment type";
		if (cnt == 0)
			return "empty segment";
		if (bgp_cur_left(&c) < (size_t)cnt * asz)
			return "a segment runs past the attribute";
		for (unsigned i = 0; i < cnt; i++) {
			uint32_t as = bgp_cur_uint(&c, asz);
			if (as == 0)
				info->zero_as = true;
			if (lead && i == 0 && type == BGP_AS_SEQUENCE)
				info->first = as;
		}
		info->n_as += cnt;
		info->hops += type == BGP_AS_SEQUENCE ? cnt : type == BGP_AS_SET ? 1 : 0;
		info->confed |= type == BGP_AS_CONFED_SEQUENCE || type == BGP_AS_CONFED_SET;
		info->as_set |= type == BGP_AS_SET;
	}
	return NULL;
}

/* Copies cnt ASes of asz octets from c to w as 4-octet ones. */
static void
copy_wide(struct bgp_cur *c, unsigned asz, unsigned cnt, struct bgp_wr *w)
{
	for (unsigned i = 0; i < cnt; i++)
		bgp_wr_u32(w, bgp_cur_uint(c, asz));
}

static bool
is_confed(uint8_t type)
{
	return type == BGP_AS_CONFED_SEQUENCE || type == BGP_AS_CONFED_SET;
}

/*
 * Writes the leading `keep` hops of the 2-octet path p widened (all of it
 * when keep is UINT32_MAX); returns the offset of the last segment header
 * written when it is an AS_SEQUENCE, SIZE_MAX otherwise. Confederation
 * segments count no hops and cannot travel in AS4_PATH, so those leading the
 * path stay even when no hop is kept.
 */
static size_t
widen_lead(const struct bgp_span *p, uint32_t keep, struct bgp_wr *w)
{
	struct bgp_cur c = bgp_cur_make(p->p, p->len);
	size_t last_seq = SIZE_MAX;

	while (!bgp_cur_done(&c) && (keep > 0 || is_confed(c.p[c.off]))) {
		uint8_t type = bgp_cur_u8(&c), cnt = bgp_cur_u8(&c), take = cnt;
		if (type == BGP_AS_SEQUENCE && take > keep)
			take = (uint8_t)keep;
		last_seq = type == BGP_AS_SEQUENCE ? w->len : SIZE_MAX;
		bgp_wr_u8(w, type);
		bgp_wr_u8(w, take);
		copy_wide(&c, 2, take, w);
		bgp_cur_skip(&c, (size_t)(cnt - take) * 2);
		if (keep != UINT32_MAX)
			keep -= type == BGP_AS_SEQUENCE ? take : type == BGP_AS_SET ? 1 : 0;
	}
	return last_seq;
}

/* Appends AS4_PATH after the widened lead, joining two AS_SEQUENCEs. */
static void
append_as4(const struct bgp_span *as4, size_t last_seq, struct bgp_wr *w)
{
	struct bgp_cur c = bgp_cur_make(as4->p, as4->len);

	if (last_seq != SIZE_MAX && as4->len >= 2 && as4->p[0] == BGP_AS_SEQUENCE &&
	    w->p[last_seq + 1] + as4->p[1] <= BGP_AS_SEG_MAX && !w->over) {
		bgp_wr_patch8(w, last_seq + 1, (uint8_t)(w->p[last_seq + 1] + as4->p[1]));
		bgp_cur_skip(&c, 2);
	}
	bgp_wr_bytes(w, bgp_cur_pos(&c), bgp_cur_left(&c));
}

size_t
bgp_attrs_canon_room(const struct bgp_attrs *a)
{
	if (a->aspath_wide && a->as4path.len == 0)
		return 0;
	return 2u * a->aspath.len + a->as4path.len;
}

int
bgp_attrs_canon(struct bgp_attrs *a, uint8_t *buf, size_t cap)
{
	struct bgp_aspath_info i2, i4;
	struct bgp_wr w = bgp_wr_make(buf, cap);
	size_t last;

	if (a->aspath_wide && a->as4path.len == 0)
		return 0;
	if (a->aspath_wide || cap < bgp_attrs_canon_room(a))
		return a->aspath_wide ? -EINVAL : -ENOSPC;
	if (a->as4path.len == 0) {
		widen_lead(&a->aspath, UINT32_MAX, &w);
	} else {
		/* the decoder only keeps an AS4_PATH that passes both checks */
		if (bgp_aspath_check(a->aspath.p, a->aspath.len, 2, &i2) ||
		    bgp_aspath_check(a->as4path.p, a->as4path.len, 4, &i4) || i2.hops < i4.hops)
			return -EINVAL;
		last = widen_lead(&a->aspath, i2.hops - i4.hops, &w);
		append_as4(&a->as4path, last, &w);
	}
	if (w.over)
		return -ENOSPC;
	a->aspath = (struct bgp_span){w.len ? buf : NULL, (uint16_t)w.len};
	a->aspath_wide = true;
	a->as4path = (struct bgp_span){NULL, 0};
	return 0;
}

/* ---- for 2-octet peers (RFC 6793 4.2.2) ----------------------------------- */
/* Whether AS4_PATH has anything to say: a 4-octet AS outside confederation
 * segments (those cannot travel in it, RFC 6793 3). */
bool
bgp_aspath_needs_as4(const struct bgp_span *p)
{
	struct bgp_aspath_it it;
	uint8_t type;
	uint32_t as;

	bgp_aspath_iter(&it, p, true);
	while (bgp_aspath_next(&it, &type, &as))
		if (as > 0xffff && !is_confed(type))
			return true;
	return false;
}

void
bgp_aspath_put_narrow(const struct bgp_span *p, struct bgp_wr *w)
{
	struct bgp_cur c = bgp_cur_make(p->p, p->len);

	while (!bgp_cur_done(&c) && !c.bad) {
		uint8_t type = bgp_cur_u8(&c), cnt = bgp_cur_u8(&c);
		bgp_wr_u8(w, type);
		bgp_wr_u8(w, cnt);
		for (unsigned i = 0; i < cnt; i++) {
			uint32_t as = bgp_cur_u32(&c);
			bgp_wr_u16(w, as > 0xffff ? BGP_AS_TRANS : (uint16_t)as);
		}
	}
}

/* AS4_PATH carries no confederation segments (RFC 6793 3). */
void
bgp_aspath_put_as4(const struct bgp_span *p, struct bgp_wr *w)
{
	struct bgp_cur c = bgp_cur_make(p->p, p->len);

	while (!bgp_cur_done(&c) && !c.bad) {
		uint8_t type = bgp_cur_u8(&c), cnt = bgp_cur_u8(&c);
		const uint8_t *v = bgp_cur_bytes(&c, (size_t)cnt * 4);
		if (is_confed(type))
			continue;
		bgp_wr_u8(w, type);
		bgp_wr_u8(w, cnt);
		bgp_wr_bytes(w, v, (size_t)cnt * 4);
	}
}

size_t
bgp_aspath_as4_len(const struct bgp_span *p)
{
	struct bgp_cur c = bgp_cur_make(p->p, p->len);
	size_t n = 0;

	while (!bgp_cur_done(&c) && !c.bad) {
		uint8_t type = bgp_cur_u8(&c), cnt = bgp_cur_u8(&c);
		bgp_cur_skip(&c, (size_t)cnt * 4);
		if (!is_confed(type))
			n += 2 + (size_t)cnt * 4;
	}
	return n;
}

/* ---- walking a path ---------------------------------------------------------- */
void
bgp_aspath_iter(struct bgp_aspath_it *it, const struct bgp_span *path, bool wide)
{
	it->c = bgp_cur_make(path->p, path->len);
	it->asz = wide ? 4 : 2;
	it->type = 0;
	it->left = 0;
}

bool
bgp_aspath_next(struct bgp_aspath_it *it, uint8_t *seg_type, uint32_t *as)
{
	while (it->left == 0) {
		if (bgp_cur_done(&it->c) || it->c.bad)
			return false;
		it->type = bgp_cur_u8(&it->c);
		it->left = bgp_cur_u8(&it->c);
	}
	*as = bgp_cur_uint(&it->c, it->asz);
	*seg_type = it->type;
	it->left--;
	return !it->c.bad;
}
