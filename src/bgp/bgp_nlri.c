/*
 * bgp_nlri.c - prefixes on the wire (RFC 4271 4.3, RFC 4760 5, RFC 7911 3).
 *
 * A prefix is u8 length in bits and the fewest bytes that hold them, with a
 * u32 path identifier in front where ADD-PATH is negotiated for the family.
 * The decoder validates a whole NLRI field once (RFC 7606 5.3: a length
 * beyond 32 or 128, or a prefix running past the field, makes it unparsable
 * and the session must reset) and keeps it in wire form; consumers walk it
 * with bgp_nlri_next(), which cannot fail on a validated field. Host bits
 * past the length are ignored (RFC 4271 4.3: "irrelevant") and cleared.
 */
#include "bgp/bgp_msg.h"

#include <errno.h>
#include <string.h>

static unsigned
fam_maxlen(uint8_t fam)
{
	return fam == BGP_FAM_IPV6 ? 128 : 32;
}

int
bgp_nlri_check(const uint8_t *p, size_t n, uint8_t fam, bool addpath, uint32_t *count)
{
	struct bgp_cur c = bgp_cur_make(p, n);
	unsigned max = fam_maxlen(fam);

	*count = 0;
	while (!bgp_cur_done(&c)) {
		uint8_t bits;
		if (addpath)
			bgp_cur_skip(&c, 4);
		bits = bgp_cur_u8(&c);
		if (bits > max)
			return -EBADMSG;
		bgp_cur_skip(&c, (bits + 7u) / 8);
		if (c.bad)
			return -EBADMSG;
		(*count)++;
	}
	return 0;
}

void
bgp_nlri_iter(const struct bgp_nlri *n, struct bgp_nlri_it *it)
{
	it->c = bgp_cur_make(n->p, n->fam == BGP_FAM_NONE ? 0 : n->len);
	it->fam = n->fam;
	it->addpath = n->addpath;
}

bool
bgp_nlri_next(struct bgp_nlri_it *it, struct ip_prefix *pfx, uint32_t *path_id)
{
	uint32_t id = 0;
	uint8_t bits;
	unsigned bytes;

	if (bgp_cur_done(&it->c) || it->c.bad)
		return false;
	if (it->addpath)
		id = bgp_cur_u32(&it->c);
	bits = bgp_cur_u8(&it->c);
	if (bits > fam_maxlen(it->fam))
		return bgp_cur_fail(&it->c);
	bytes = (bits + 7u) / 8;
	memset(pfx, 0, sizeof(*pfx));
	pfx->a.af = it->fam == BGP_FAM_IPV6 ? IP_V6 : IP_V4;
	pfx->len = bits;
	bgp_cur_copy(&it->c, pfx->a.b, bytes);
	if (it->c.bad)
		return false;
	if (bits % 8)
		pfx->a.b[bytes - 1] &= (uint8_t)(0xff << (8 - bits % 8));
	if (path_id)
		*path_id = id;
	return true;
}

size_t
bgp_prefix_wire_len(const struct ip_prefix *pfx, bool addpath)
{
	return (addpath ? 4u : 0u) + 1u + (pfx->len + 7u) / 8;
}

void
bgp_prefix_put(struct bgp_wr *w, const struct ip_prefix *pfx, bool addpath, uint32_t id)
{
	unsigned bytes = (pfx->len + 7u) / 8;
	uint8_t b[16];

	if (bytes > sizeof(b)) {
		w->over = true; /* not a prefix: the encoder validates lengths */
		return;
	}
	if (!bgp_wr_room(w, bgp_prefix_wire_len(pfx, addpath)))
		return;
	memcpy(b, pfx->a.b, bytes);
	if (pfx->len % 8)
		b[bytes - 1] &= (uint8_t)(0xff << (8 - pfx->len % 8));
	if (addpath)
		bgp_wr_u32(w, id);
	bgp_wr_u8(w, pfx->len);
	bgp_wr_bytes(w, b, bytes);
}
