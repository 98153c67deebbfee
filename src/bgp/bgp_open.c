/*
 * bgp_open.c - OPEN messages and capabilities (RFC 4271 4.2 and 6.2, RFC
 * 5492, RFC 9072), the local acceptance policy for a peer's OPEN, and the
 * session parameters two OPENs negotiate.
 *
 * Decoding answers with the OPEN Message Error subcode RFC 4271 6.2 names:
 * Unsupported Version Number (data: our version, 4, as a u16), Bad Peer AS
 * (AS 0 in My AS or in the AS4 capability, RFC 7607; the configured AS in
 * bgp_open_check), Bad BGP Identifier (zero, RFC 6286 2.2; an iBGP peer using
 * ours), Unsupported Optional Parameter (any parameter but capabilities),
 * Unacceptable Hold Time (1 or 2 s; below the policy's minimum), Unsupported
 * Capability (RFC 5492 5: data lists what we require). Framing errors inside
 * the parameters or the capabilities (a TLV running past its container, a
 * known capability of the wrong length) are OPEN Message Error / Unspecific,
 * as BIRD and OpenBGPD answer them; RFC 4271 names no subcode for them.
 *
 * RFC 9072: the extended form is recognised by a Non-Ext OP Type of 255 after
 * a non-zero Non-Ext OP Len (whose value is then ignored); its parameters
 * carry u16 lengths. The encoder uses it only when the parameters do not fit
 * in 255 bytes (or when asked to, for tests and interop).
 *
 * Capabilities are zero-copy: FQDN and unknown capability values point into
 * the message. Entries beyond the fixed arrays are counted in n_dropped; no
 * real speaker sends that many, and the session needs none of them.
 */
#include "bgp/bgp_msg.h"

#include <errno.h>
#include <string.h>

static const uint8_t bgp_version_data[2] = {0, BGP_VERSION};

/* ---- capabilities -------------------------------------------------------- */
static int
cap_bad(struct bgp_err *e, const char *why)
{
	return bgp_err_set(e, BGP_ERR_OPEN, BGP_SUB_UNSPECIFIC, NULL, 0, why);
}

static void
af_add(struct bgp_caps *caps, struct bgp_af *v, uint8_t *n, struct bgp_af af)
{
	for (unsigned i = 0; i < *n; i++)
		if (v[i].afi == af.afi && v[i].safi == af.safi) {
			v[i].flags = af.flags;
			return;
		}
	if (*n < BGP_CAPS_MAX_AF)
		v[(*n)++] = af;
	else
		caps->n_dropped++;
}

/* (u16 AFI, u8 SAFI, u8 flags) tuples: GR after its 2-byte header, ADD-PATH. */
static int
cap_af_list(struct bgp_cur *c, struct bgp_caps *caps, struct bgp_af *v, uint8_t *n,
            struct bgp_err *e)
{
	if (bgp_cur_left(c) % 4)
		return cap_bad(e, "per-family capability of the wrong length");
	while (!bgp_cur_done(c)) {
		struct bgp_af af;
		af.afi = bgp_cur_u16(c);
		af.safi = bgp_cur_u8(c);
		af.flags = bgp_cur_u8(c);
		af_add(caps, v, n, af);
	}
	return 0;
}

static void
cap_fqdn(struct bgp_cur c, struct bgp_caps *caps)
{
	/* draft-walton-bgp-hostname: u8 len, host, u8 len, domain; a malformed
	 * one is ignored: it names the peer, nothing depends on it */
	uint8_t hl = bgp_cur_u8(&c);
	const uint8_t *host = bgp_cur_bytes(&c, hl);
	uint8_t dl = bgp_cur_u8(&c);
	const uint8_t *dom = bgp_cur_bytes(&c, dl);
	if (c.bad)
		return;
	caps->has |= BGP_CAPF_FQDN;
	caps->host = host;
	caps->host_len = hl;
	caps->domain = dom;
	caps->domain_len = dl;
}

static void
cap_other(struct bgp_caps *caps, uint8_t code, uint8_t len, const uint8_t *val)
{
	if (caps->n_other == BGP_CAPS_MAX_OTHER) {
		caps->n_dropped++;
		return;
	}
	caps->other[caps->n_other++] = (struct bgp_cap_raw){code, len, val};
}

static int
cap_flag(struct bgp_cur *c, struct bgp_caps *caps, uint32_t flag, struct bgp_err *e)
{
	if (!bgp_cur_done(c))
		return cap_bad(e, "flag capability with a value");
	caps->has |= flag;
	return 0;
}

static int
cap_one(uint8_t code, struct bgp_cur v, struct bgp_caps *caps, struct bgp_err *e)
{
	uint8_t len = (uint8_t)bgp_cur_left(&v);
	struct bgp_af af;

	switch (code) {
	case BGP_CAP_MP:
		if (len != BGP_CAP_MP_LEN)
			return cap_bad(e, "multiprotocol capability of the wrong length");
		af.afi = bgp_cur_u16(&v);
		bgp_cur_skip(&v, 1); /* reserved */
		af.safi = bgp_cur_u8(&v);
		af.flags = 0;
		caps->has |= BGP_CAPF_MP;
		af_add(caps, caps->mp, &caps->n_mp, af);
		return 0;
	case BGP_CAP_ROUTE_REFRESH:
		return cap_flag(&v, caps, BGP_CAPF_RR, e);
	case BGP_CAP_RR_OLD:
		return cap_flag(&v, caps, BGP_CAPF_RR_OLD, e);
	case BGP_CAP_ENHANCED_RR:
		return cap_flag(&v, caps, BGP_CAPF_ENHANCED_RR, e);
	case BGP_CAP_EXT_MSG:
		return cap_flag(&v, caps, BGP_CAPF_EXT_MSG, e);
	case BGP_CAP_AS4:
		if (len != BGP_CAP_AS4_LEN)
			return cap_bad(e, "4-octet AS capability of the wrong length");
		caps->has |= BGP_CAPF_AS4;
		caps->as4 = bgp_cur_u32(&v);
		return 0;
	case BGP_CAP_GR:
		if (len < 2)
			return cap_bad(e, "graceful restart capability too short");
		caps->has |= BGP_CAPF_GR;
		caps->gr_flags = bgp_cur_u16(&v);
		caps->gr_time = caps->gr_flags & BGP_GR_TIME_MASK;
		caps->gr_flags &= (uint16_t)~BGP_GR_TIME_MASK;
		caps->n_gr = 0; /* only the last instance counts */
		return cap_af_list(&v, caps, caps->gr, &caps->n_gr, e);
	case BGP_CAP_ADD_PATH:
		caps->has |= BGP_CAPF_ADD_PATH;
		return cap_af_list(&v, caps, caps->addpath, &caps->n_addpath, e);
	case BGP_CAP_FQDN:
		cap_fqdn(v, caps);
		return 0;
	}
	cap_other(caps, code, len, bgp_cur_bytes(&v, len));
	return 0;
}

static int
caps_decode(struct bgp_cur c, struct bgp_caps *caps, struct bgp_err *e)
{
	while (!bgp_cur_done(&c)) {
		uint8_t code = bgp_cur_u8(&c);
		uint8_t len = bgp_cur_u8(&c);
		struct bgp_cur v = bgp_cur_sub(&c, len);
		if (c.bad)
			return cap_bad(e, "capability runs past its parameter");
		if (cap_one(code, v, caps, e) != 0)
			return -EBADMSG;
	}
	return 0;
}

/* ---- OPEN decode ------------------------------------------------------------- */
static int
params_decode(struct bgp_cur *c, bool ext, struct bgp_open *o, struct bgp_err *e)
{
	while (!bgp_cur_done(c)) {
		const uint8_t *start = bgp_cur_pos(c);
		uint8_t type = bgp_cur_u8(c);
		uint16_t len = ext ? bgp_cur_u16(c) : bgp_cur_u8(c);
		struct bgp_cur v = bgp_cur_sub(c, len);
		if (c->bad)
			return cap_bad(e, "optional parameter runs past the message");
		if (type != BGP_OPT_CAPABILITY)
			return bgp_err_ref(e, BGP_ERR_OPEN, BGP_OPEN_UNSUP_PARAM, start,
			                   (size_t)(v.n + (ext ? 3 : 2)),
			                   "unsupported optional parameter");
		if (caps_decode(v, &o->caps, e) != 0)
			return -EBADMSG;
	}
	return 0;
}

/* Locates the optional parameters (classic or RFC 9072) in c. */
static int
params_locate(struct bgp_cur *c, struct bgp_open *o, struct bgp_cur *params, struct bgp_err *e)
{
	uint8_t len = bgp_cur_u8(c);
	size_t plen = len;

	if (len != 0 && bgp_cur_left(c) >= 1 && c->p[c->off] == BGP_OPT_EXT_LEN) {
		bgp_cur_skip(c, 1);
		plen = bgp_cur_u16(c);
		o->ext_params = true;
	}
	if (c->bad || plen != bgp_cur_left(c))
		return cap_bad(e, "optional parameters length disagrees with the message");
	*params = bgp_cur_sub(c, plen);
	return 0;
}

static int
open_fixed(struct bgp_cur *c, struct bgp_open *o, struct bgp_err *e)
{
	o->version = bgp_cur_u8(c);
	o->my_as = bgp_cur_u16(c);
	o->hold = bgp_cur_u16(c);
	o->id = bgp_cur_u32(c);
	if (c->bad)
		return cap_bad(e, "OPEN shorter than its fixed part");
	if (o->version != BGP_VERSION)
		return bgp_err_set(e, BGP_ERR_OPEN, BGP_OPEN_BAD_VERSION, bgp_version_data, 2,
		                   "unsupported BGP version");
	if (o->hold == 1 || o->hold == 2)
		return bgp_err_set(e, BGP_ERR_OPEN, BGP_OPEN_BAD_HOLD, NULL, 0,
		                   "hold time of 1 or 2 seconds");
	if (o->id == 0)
		return bgp_err_set(e, BGP_ERR_OPEN, BGP_OPEN_BAD_ID, NULL, 0,
		                   "BGP identifier is zero");
	return 0;
}

int
bgp_open_decode(const uint8_t *msg, size_t len, struct bgp_open *o, struct bgp_err *e)
{
	struct bgp_cur c = bgp_cur_make(msg, len), params = {NULL, 0, 0, false};

	memset(o, 0, sizeof(*o));
	bgp_cur_skip(&c, BGP_HDR_LEN);
	if (open_fixed(&c, o, e) != 0 || params_locate(&c, o, &params, e) != 0 ||
	    params_decode(&params, o->ext_params, o, e) != 0)
		return -EBADMSG;
	o->as = (o->caps.has & BGP_CAPF_AS4) ? o->caps.as4 : o->my_as;
	if (o->my_as == 0 || o->as == 0)
		return bgp_err_set(e, BGP_ERR_OPEN, BGP_OPEN_BAD_PEER_AS, NULL, 0,
		                   "peer AS is 0 (RFC 7607)");
	return 0;
}

bool
bgp_caps_has_af(const struct bgp_caps *c, uint16_t afi, uint8_t safi)
{
	for (unsigned i = 0; i < c->n_mp; i++)
		if (c->mp[i].afi == afi && c->mp[i].safi == safi)
			return true;
	return false;
}

uint8_t
bgp_caps_addpath(const struct bgp_caps *c, uint16_t afi, uint8_t safi)
{
	for (unsigned i = 0; i < c->n_addpath; i++)
		if (c->addpath[i].afi == afi && c->addpath[i].safi == safi)
			return c->addpath[i].flags & BGP_ADDPATH_BOTH;
	return 0;
}

/* ---- OPEN encode -------------------------------------------------------------- */
static void
put_cap_hdr(struct bgp_wr *w, uint8_t code, uint8_t len)
{
	bgp_wr_u8(w, code);
	bgp_wr_u8(w, len);
}

static void
put_af_caps(struct bgp_wr *w, uint8_t code, const struct bgp_af *v, unsigned n)
{
	put_cap_hdr(w, code, (uint8_t)(4 * n));
	for (unsigned i = 0; i < n; i++) {
		bgp_wr_u16(w, v[i].afi);
		bgp_wr_u8(w, v[i].safi);
		bgp_wr_u8(w, v[i].flags);
	}
}

static void
put_flag_cap(struct bgp_wr *w, const struct bgp_caps *c, uint32_t flag, uint8_t code)
{
	if (c->has & flag)
		put_cap_hdr(w, code, 0);
}

/* All capabilities, in code order as BIRD sends them, into one parameter. */
static void
caps_encode(struct bgp_wr *w, const struct bgp_caps *c)
{
	for (unsigned i = 0; (c->has & BGP_CAPF_MP) && i < c->n_mp; i++) {
		put_cap_hdr(w, BGP_CAP_MP, BGP_CAP_MP_LEN);
		bgp_wr_u16(w, c->mp[i].afi);
		bgp_wr_u8(w, 0);
		bgp_wr_u8(w, c->mp[i].safi);
	}
	put_flag_cap(w, c, BGP_CAPF_RR, BGP_CAP_ROUTE_REFRESH);
	put_flag_cap(w, c, BGP_CAPF_EXT_MSG, BGP_CAP_EXT_MSG);
	if (c->has & BGP_CAPF_GR) {
		put_cap_hdr(w, BGP_CAP_GR, (uint8_t)(2 + 4 * c->n_gr));
		bgp_wr_u16(w, (uint16_t)((c->gr_flags & ~BGP_GR_TIME_MASK) |
		                         (c->gr_time & BGP_GR_TIME_MASK)));
		for (unsigned i = 0; i < c->n_gr; i++) {
			bgp_wr_u16(w, c->gr[i].afi);
			bgp_wr_u8(w, c->gr[i].safi);
			bgp_wr_u8(w, c->gr[i].flags);
		}
	}
	if (c->has & BGP_CAPF_AS4) {
		put_cap_hdr(w, BGP_CAP_AS4, BGP_CAP_AS4_LEN);
		bgp_wr_u32(w, c->as4);
	}
	if (c->has & BGP_CAPF_ADD_PATH)
		put_af_caps(w, BGP_CAP_ADD_PATH, c->addpath, c->n_addpath);
	put_flag_cap(w, c, BGP_CAPF_ENHANCED_RR, BGP_CAP_ENHANCED_RR);
	if (c->has & BGP_CAPF_FQDN) {
		put_cap_hdr(w, BGP_CAP_FQDN, (uint8_t)(2 + c->host_len + c->domain_len));
		bgp_wr_u8(w, c->host_len);
		bgp_wr_bytes(w, c->host, c->host_len);
		bgp_wr_u8(w, c->domain_len);
		bgp_wr_bytes(w, c->domain, c->domain_len);
	}
	put_flag_cap(w, c, BGP_CAPF_RR_OLD, BGP_CAP_RR_OLD);
	for (unsigned i = 0; i < c->n_other; i++) {
		put_cap_hdr(w, c->other[i].code, c->other[i].len);
		bgp_wr_bytes(w, c->other[i].val, c->other[i].len);
	}
}

int
bgp_open_encode(struct bgp_wr *w, const struct bgp_open *o)
{
	uint8_t caps[BGP_MAX_MSG];
	struct bgp_wr cw = bgp_wr_make(caps, sizeof(caps));
	size_t at;

	caps_encode(&cw, &o->caps);
	if ((o->caps.has & BGP_CAPF_FQDN) && o->caps.host_len + o->caps.domain_len > 253)
		return -EINVAL;
	if (cw.over)
		return -EMSGSIZE;
	at = bgp_msg_begin(w, BGP_OPEN);
	bgp_wr_u8(w, BGP_VERSION);
	bgp_wr_u16(w, o->as > 0xffff ? BGP_AS_TRANS : (uint16_t)o->as);
	bgp_wr_u16(w, o->hold);
	bgp_wr_u32(w, o->id);
	if (cw.len == 0 && !o->ext_params) {
		bgp_wr_u8(w, 0);
	} else if (cw.len + 2 <= BGP_OPT_MAX_NONEXT && !o->ext_params) {
		bgp_wr_u8(w, (uint8_t)(cw.len + 2));
		bgp_wr_u8(w, BGP_OPT_CAPABILITY);
		bgp_wr_u8(w, (uint8_t)cw.len);
	} else {
		bgp_wr_u8(w, BGP_OPT_MAX_NONEXT); /* Non-Ext OP Len: any non-zero */
		bgp_wr_u8(w, BGP_OPT_EXT_LEN);
		bgp_wr_u16(w, (uint16_t)(cw.len + 3));
		bgp_wr_u8(w, BGP_OPT_CAPABILITY);
		bgp_wr_u16(w, (uint16_t)cw.len);
	}
	bgp_wr_bytes(w, caps, cw.len);
	return bgp_msg_end(w, at, BGP_MAX_MSG);
}

/* ---- local policy ---------------------------------------------------------------- */
/* The required capabilities the peer lacks, as capability TLVs (RFC 5492 5). */
static size_t
missing_caps(const struct bgp_open *o, const struct bgp_open_policy *pol, uint8_t *buf, size_t cap)
{
	struct bgp_wr w = bgp_wr_make(buf, cap);
	uint32_t miss = pol->require & ~o->caps.has;

	if (miss & BGP_CAPF_AS4) {
		put_cap_hdr(&w, BGP_CAP_AS4, BGP_CAP_AS4_LEN);
		bgp_wr_u32(&w, pol->local_as);
	}
	for (uint8_t f = 0; f < BGP_FAM_N; f++) {
		uint16_t afi;
		uint8_t safi;
		bgp_fam_afi(f, &afi, &safi);
		if (!(pol->require_fams & BGP_FAM_BIT(f)) || bgp_caps_has_af(&o->caps, afi, safi))
			continue;
		put_cap_hdr(&w, BGP_CAP_MP, BGP_CAP_MP_LEN);
		bgp_wr_u16(&w, afi);
		bgp_wr_u8(&w, 0);
		bgp_wr_u8(&w, safi);
	}
	if (miss & BGP_CAPF_RR)
		put_cap_hdr(&w, BGP_CAP_ROUTE_REFRESH, 0);
	if (miss & BGP_CAPF_EXT_MSG)
		put_cap_hdr(&w, BGP_CAP_EXT_MSG, 0);
	if (miss & BGP_CAPF_ENHANCED_RR)
		put_cap_hdr(&w, BGP_CAP_ENHANCED_RR, 0);
	return w.over ? cap : w.len;
}

int
bgp_open_check(const struct bgp_open *o, const struct bgp_open_policy *pol, struct bgp_err *e)
{
	uint8_t miss[BGP_ERR_BUF];
	size_t n;
	bool ibgp = pol->local_as && o->as == pol->local_as;

	if (pol->peer_as && o->as != pol->peer_as)
		return bgp_err_set(e, BGP_ERR_OPEN, BGP_OPEN_BAD_PEER_AS, NULL, 0,
		                   "peer AS is not the configured one");
	if (ibgp && o->id == pol->local_id)
		return bgp_err_set(e, BGP_ERR_OPEN, BGP_OPEN_BAD_ID, NULL, 0,
		                   "iBGP peer uses our BGP identifier");
	if ((o->hold == 0 && pol->reject_zero_hold) || (o->hold && o->hold < pol->min_hold))
		return bgp_err_set(e, BGP_ERR_OPEN, BGP_OPEN_BAD_HOLD, NULL, 0,
		                   "hold time below the accepted minimum");
	n = missing_caps(o, pol, miss, sizeof(miss));
	if (n)
		return bgp_err_set(e, BGP_ERR_OPEN, BGP_OPEN_UNSUP_CAP, miss, n,
		                   "a required capability is missing");
	return 0;
}

/* ---- negotiation ---------------------------------------------------------------- */
void
bgp_params_default(struct bgp_params *p, uint32_t local_as, uint32_t peer_as)
{
	memset(p, 0, sizeof(*p));
	p->local_as = local_as;
	p->peer_as = peer_as;
	p->rx_max = p->tx_max = BGP_MAX_MSG;
	p->hold = 90;
	p->fams = BGP_FAM_BIT(BGP_FAM_IPV4) | BGP_FAM_BIT(BGP_FAM_IPV6);
	p->as4 = true;
	p->ebgp = local_as != peer_as;
	p->enforce_first_as = p->ebgp;
}

static bool
speaks(const struct bgp_caps *c, uint8_t fam)
{
	uint16_t afi;
	uint8_t safi;
	if (!(c->has & BGP_CAPF_MP))
		return fam == BGP_FAM_IPV4;
	bgp_fam_afi(fam, &afi, &safi);
	return bgp_caps_has_af(c, afi, safi);
}

void
bgp_params_negotiate(struct bgp_params *p, const struct bgp_open *local,
                     const struct bgp_open *remote)
{
	const struct bgp_caps *l = &local->caps, *r = &remote->caps;

	bgp_params_default(p, local->as, remote->as);
	p->fams = 0;
	p->as4 = (l->has & r->has & BGP_CAPF_AS4) != 0;
	p->hold = local->hold < remote->hold ? local->hold : remote->hold;
	p->rx_max = (l->has & BGP_CAPF_EXT_MSG) ? BGP_MAX_EXT_MSG : BGP_MAX_MSG;
	p->tx_max = (r->has & BGP_CAPF_EXT_MSG) ? BGP_MAX_EXT_MSG : BGP_MAX_MSG;
	p->route_refresh = (l->has & BGP_CAPF_RR) && (r->has & (BGP_CAPF_RR | BGP_CAPF_RR_OLD));
	p->enhanced_rr = (l->has & r->has & BGP_CAPF_ENHANCED_RR) != 0;
	p->gr = (l->has & r->has & BGP_CAPF_GR) != 0;
	for (uint8_t f = 0; f < BGP_FAM_N; f++) {
		uint16_t afi;
		uint8_t safi, lm, rm;
		if (!speaks(l, f) || !speaks(r, f))
			continue;
		p->fams |= (uint8_t)BGP_FAM_BIT(f);
		bgp_fam_afi(f, &afi, &safi);
		lm = bgp_caps_addpath(l, afi, safi);
		rm = bgp_caps_addpath(r, afi, safi);
		if ((lm & BGP_ADDPATH_RECV) && (rm & BGP_ADDPATH_SEND))
			p->addpath_rx |= (uint8_t)BGP_FAM_BIT(f);
		if ((lm & BGP_ADDPATH_SEND) && (rm & BGP_ADDPATH_RECV))
			p->addpath_tx |= (uint8_t)BGP_FAM_BIT(f);
	}
}
