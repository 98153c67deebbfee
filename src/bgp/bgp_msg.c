/*
 * bgp_msg.c - the framing every BGP message shares and the three small
 * messages: header (RFC 4271 4.1, 6.1), KEEPALIVE, NOTIFICATION (with the
 * RFC 9003 shutdown communication and the RFC 4486 maximum-prefix data),
 * ROUTE-REFRESH (RFC 2918, 7313), plus error and family helpers.
 *
 * The header check answers exactly as RFC 4271 6.1 asks: a marker that is
 * not all ones is Connection Not Synchronized; a length below 19, above the
 * session's maximum, or below the type's minimum (KEEPALIVE exactly 19) is
 * Bad Message Length with the length field as data; an unknown type is Bad
 * Message Type with the type as data. RFC 8654 keeps OPEN and KEEPALIVE at
 * 4096 bytes even where extended messages are negotiated.
 */
#include "bgp/bgp_msg.h"

#include <errno.h>
#include <string.h>

/* ---- families ------------------------------------------------------------ */
uint8_t
bgp_fam_of(uint16_t afi, uint8_t safi)
{
	if (safi != BGP_SAFI_UNICAST)
		return BGP_FAM_NONE;
	if (afi == BGP_AFI_IPV4)
		return BGP_FAM_IPV4;
	if (afi == BGP_AFI_IPV6)
		return BGP_FAM_IPV6;
	return BGP_FAM_NONE;
}

void
bgp_fam_afi(uint8_t fam, uint16_t *afi, uint8_t *safi)
{
	*afi = fam == BGP_FAM_IPV6 ? BGP_AFI_IPV6 : BGP_AFI_IPV4;
	*safi = BGP_SAFI_UNICAST;
}

uint8_t
bgp_fam_of_af(uint8_t ip_af)
{
	return ip_af == IP_V4 ? BGP_FAM_IPV4 : ip_af == IP_V6 ? BGP_FAM_IPV6 : BGP_FAM_NONE;
}

/* ---- errors -------------------------------------------------------------- */
const uint8_t *
bgp_err_data(const struct bgp_err *e)
{
	return e->ext ? e->ext : e->buf;
}

int
bgp_err_set(struct bgp_err *e, uint8_t code, uint8_t subcode, const void *data, size_t len,
            const char *why)
{
	if (len > sizeof(e->buf))
		len = sizeof(e->buf);
	e->code = code;
	e->subcode = subcode;
	e->ext = NULL;
	e->len = (uint16_t)len;
	if (len)
		memcpy(e->buf, data, len);
	e->why = why;
	return -EBADMSG;
}

int
bgp_err_ref(struct bgp_err *e, uint8_t code, uint8_t subcode, const uint8_t *data, size_t len,
            const char *why)
{
	/* a NOTIFICATION fits in 4096 bytes whatever was negotiated */
	size_t max = BGP_MAX_MSG - BGP_NOTIFY_MIN;
	e->code = code;
	e->subcode = subcode;
	e->ext = len ? data : NULL;
	e->len = (uint16_t)(len < max ? len : max);
	e->why = why;
	return -EBADMSG;
}

static const char *const code_names[] = {
    [BGP_ERR_HEADER] = "Message Header Error",    [BGP_ERR_OPEN] = "OPEN Message Error",
    [BGP_ERR_UPDATE] = "UPDATE Message Error",    [BGP_ERR_HOLD] = "Hold Timer Expired",
    [BGP_ERR_FSM] = "Finite State Machine Error", [BGP_ERR_CEASE] = "Cease",
    [BGP_ERR_RR] = "ROUTE-REFRESH Message Error", [BGP_ERR_SEND_HOLD] = "Send Hold Timer Expired",
};

static const char *const hdr_names[] = {
    [BGP_HDR_NOT_SYNC] = "Connection Not Synchronized",
    [BGP_HDR_BAD_LENGTH] = "Bad Message Length",
    [BGP_HDR_BAD_TYPE] = "Bad Message Type",
};

static const char *const open_names[] = {
    [BGP_OPEN_BAD_VERSION] = "Unsupported Version Number",
    [BGP_OPEN_BAD_PEER_AS] = "Bad Peer AS",
    [BGP_OPEN_BAD_ID] = "Bad BGP Identifier",
    [BGP_OPEN_UNSUP_PARAM] = "Unsupported Optional Parameter",
    [5] = "Authentication Failure",
    [BGP_OPEN_BAD_HOLD] = "Unacceptable Hold Time",
    [BGP_OPEN_UNSUP_CAP] = "Unsupported Capability",
    [BGP_OPEN_ROLE_MISMATCH] = "Role Mismatch",
};

static const char *const update_names[] = {
    [BGP_UPD_MALFORMED_ATTRS] = "Malformed Attribute List",
    [BGP_UPD_UNKNOWN_WK] = "Unrecognized Well-known Attribute",
    [BGP_UPD_MISSING_WK] = "Missing Well-known Attribute",
    [BGP_UPD_ATTR_FLAGS] = "Attribute Flags Error",
    [BGP_UPD_ATTR_LEN] = "Attribute Length Error",
    [BGP_UPD_BAD_ORIGIN] = "Invalid ORIGIN Attribute",
    [BGP_UPD_BAD_NEXT_HOP] = "Invalid NEXT_HOP Attribute",
    [BGP_UPD_OPTIONAL_ATTR] = "Optional Attribute Error",
    [BGP_UPD_BAD_NETWORK] = "Invalid Network Field",
    [BGP_UPD_BAD_AS_PATH] = "Malformed AS_PATH",
};

static const char *const fsm_names[] = {
    [BGP_FSM_IN_OPENSENT] = "Receive Unexpected Message in OpenSent State",
    [BGP_FSM_IN_OPENCONFIRM] = "Receive Unexpected Message in OpenConfirm State",
    [BGP_FSM_IN_ESTABLISHED] = "Receive Unexpected Message in Established State",
};

static const char *const cease_names[] = {
    [BGP_CEASE_MAX_PREFIXES] = "Maximum Number of Prefixes Reached",
    [BGP_CEASE_ADMIN_SHUTDOWN] = "Administrative Shutdown",
    [BGP_CEASE_PEER_DECONFIG] = "Peer De-configured",
    [BGP_CEASE_ADMIN_RESET] = "Administrative Reset",
    [BGP_CEASE_REJECTED] = "Connection Rejected",
    [BGP_CEASE_CONFIG_CHANGE] = "Other Configuration Change",
    [BGP_CEASE_COLLISION] = "Connection Collision Resolution",
    [BGP_CEASE_NO_RESOURCES] = "Out of Resources",
    [BGP_CEASE_HARD_RESET] = "Hard Reset",
    [BGP_CEASE_BFD_DOWN] = "BFD Down",
};

#define NAME_IN(t, i) ((i) < sizeof(t) / sizeof(t[0]) && t[i] ? t[i] : NULL)

const char *
bgp_err_code_name(uint8_t code)
{
	const char *s = NAME_IN(code_names, code);
	return s ? s : "Unknown Error";
}

const char *
bgp_err_subcode_name(uint8_t code, uint8_t subcode)
{
	const char *s = NULL;
	if (subcode == BGP_SUB_UNSPECIFIC)
		return "Unspecific";
	switch (code) {
	case BGP_ERR_HEADER:
		s = NAME_IN(hdr_names, subcode);
		break;
	case BGP_ERR_OPEN:
		s = NAME_IN(open_names, subcode);
		break;
	case BGP_ERR_UPDATE:
		s = NAME_IN(update_names, subcode);
		break;
	case BGP_ERR_FSM:
		s = NAME_IN(fsm_names, subcode);
		break;
	case BGP_ERR_CEASE:
		s = NAME_IN(cease_names, subcode);
		break;
	case BGP_ERR_RR:
		s = subcode == BGP_RR_ERR_BAD_LENGTH ? "Invalid Message Length" : NULL;
		break;
	}
	return s ? s : "Unknown Subcode";
}

const char *
bgp_msg_type_name(uint8_t type)
{
	static const char *const names[] = {
	    [BGP_OPEN] = "OPEN",
	    [BGP_UPDATE] = "UPDATE",
	    [BGP_NOTIFICATION] = "NOTIFICATION",
	    [BGP_KEEPALIVE] = "KEEPALIVE",
	    [BGP_ROUTE_REFRESH] = "ROUTE-REFRESH",
	};
	const char *s = NAME_IN(names, type);
	return s ? s : "UNKNOWN";
}

/* ---- header ---------------------------------------------------------------- */
static size_t
type_min(uint8_t type)
{
	switch (type) {
	case BGP_OPEN:
		return BGP_OPEN_MIN;
	case BGP_UPDATE:
		return BGP_UPDATE_MIN;
	case BGP_NOTIFICATION:
		return BGP_NOTIFY_MIN;
	case BGP_KEEPALIVE:
		return BGP_KEEPALIVE_LEN;
	case BGP_ROUTE_REFRESH:
		return BGP_RR_LEN;
	}
	return 0;
}

static size_t
type_max(uint8_t type, size_t rx_max)
{
	if (type == BGP_KEEPALIVE)
		return BGP_KEEPALIVE_LEN;
	if (type == BGP_OPEN && rx_max > BGP_MAX_MSG)
		return BGP_MAX_MSG;
	return rx_max;
}

int
bgp_hdr_decode(const uint8_t *p, size_t n, size_t rx_max, struct bgp_hdr *h, struct bgp_err *e)
{
	struct bgp_cur c = bgp_cur_make(p, n);
	const uint8_t *len_field;

	if (n < BGP_HDR_LEN)
		return -EAGAIN;
	if (rx_max < BGP_MAX_MSG || rx_max > BGP_MAX_EXT_MSG)
		rx_max = BGP_MAX_MSG;
	for (unsigned i = 0; i < BGP_MARKER_LEN; i++)
		if (bgp_cur_u8(&c) != 0xff)
			return bgp_err_set(e, BGP_ERR_HEADER, BGP_HDR_NOT_SYNC, NULL, 0,
			                   "marker is not all ones");
	len_field = bgp_cur_pos(&c);
	h->len = bgp_cur_u16(&c);
	h->type = bgp_cur_u8(&c);
	if (h->len < BGP_HDR_LEN || h->len > rx_max)
		return bgp_err_set(e, BGP_ERR_HEADER, BGP_HDR_BAD_LENGTH, len_field, 2,
		                   "message length out of bounds");
	if (type_min(h->type) == 0)
		return bgp_err_set(e, BGP_ERR_HEADER, BGP_HDR_BAD_TYPE, &h->type, 1,
		                   "unknown message type");
	if (h->len < type_min(h->type) || h->len > type_max(h->type, rx_max))
		return bgp_err_set(e, BGP_ERR_HEADER, BGP_HDR_BAD_LENGTH, len_field, 2,
		                   "message length wrong for its type");
	return 0;
}

size_t
bgp_msg_begin(struct bgp_wr *w, uint8_t type)
{
	static const uint8_t marker[BGP_MARKER_LEN] = {
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	size_t at = w->len;
	bgp_wr_bytes(w, marker, sizeof(marker));
	bgp_wr_u16(w, 0);
	bgp_wr_u8(w, type);
	return at;
}

int
bgp_msg_end(struct bgp_wr *w, size_t at, size_t max)
{
	size_t len = w->len - at;
	if (w->over || len > max || len > BGP_MAX_EXT_MSG) {
		w->len = at;
		w->over = true;
		return -EMSGSIZE;
	}
	bgp_wr_patch16(w, at + BGP_MARKER_LEN, (uint16_t)len);
	return 0;
}

/* ---- KEEPALIVE ---------------------------------------------------------------- */
int
bgp_keepalive_encode(struct bgp_wr *w)
{
	size_t at = bgp_msg_begin(w, BGP_KEEPALIVE);
	return bgp_msg_end(w, at, BGP_KEEPALIVE_LEN);
}

/* ---- NOTIFICATION -------------------------------------------------------------- */
/* RFC 3629 UTF-8: no overlongs, no surrogates, nothing above U+10FFFF. */
bool
bgp_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t b = s[i];
		unsigned k = b < 0x80                 ? 0
		             : b >= 0xc2 && b <= 0xdf ? 1
		             : (b & 0xf0) == 0xe0     ? 2
		             : b >= 0xf0 && b <= 0xf4 ? 3
		                                      : 4;
		if (k == 4 || n - i - 1 < k)
			return false;
		for (unsigned j = 1; j <= k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
		if ((b == 0xe0 && s[i + 1] < 0xa0) || (b == 0xed && s[i + 1] > 0x9f) ||
		    (b == 0xf0 && s[i + 1] < 0x90) || (b == 0xf4 && s[i + 1] > 0x8f))
			return false;
		i += k + 1;
	}
	return true;
}

int
bgp_notify_decode(const uint8_t *msg, size_t len, struct bgp_notification *nt)
{
	struct bgp_cur c = bgp_cur_make(msg, len);

	memset(nt, 0, sizeof(*nt));
	bgp_cur_skip(&c, BGP_HDR_LEN);
	nt->code = bgp_cur_u8(&c);
	nt->subcode = bgp_cur_u8(&c);
	if (c.bad)
		return -EBADMSG;
	nt->len = (uint16_t)bgp_cur_left(&c);
	nt->data = bgp_cur_pos(&c);
	if (nt->code != BGP_ERR_CEASE ||
	    (nt->subcode != BGP_CEASE_ADMIN_SHUTDOWN && nt->subcode != BGP_CEASE_ADMIN_RESET))
		return 0;
	if (nt->len == 0)
		return 0; /* no communication: RFC 4486 alone */
	nt->shut_len = bgp_cur_u8(&c);
	nt->shut = bgp_cur_bytes(&c, nt->shut_len);
	if (c.bad || !bgp_utf8_valid(nt->shut, nt->shut_len)) {
		nt->shut_bad = true; /* RFC 9003 4: log it as malformed, do not use it */
		nt->shut = NULL;
		nt->shut_len = 0;
	}
	return 0;
}

int
bgp_notify_encode(struct bgp_wr *w, uint8_t code, uint8_t subcode, const void *data, size_t len)
{
	size_t at = bgp_msg_begin(w, BGP_NOTIFICATION);
	bgp_wr_u8(w, code);
	bgp_wr_u8(w, subcode);
	bgp_wr_bytes(w, data, len);
	return bgp_msg_end(w, at, BGP_MAX_MSG);
}

int
bgp_notify_encode_err(struct bgp_wr *w, const struct bgp_err *e)
{
	return bgp_notify_encode(w, e->code, e->subcode, bgp_err_data(e), e->len);
}

int
bgp_notify_encode_shutdown(struct bgp_wr *w, uint8_t subcode, const char *msg)
{
	uint8_t buf[1 + BGP_MAX_SHUTDOWN];
	size_t n = msg ? strlen(msg) : 0;

	if (n > BGP_MAX_SHUTDOWN || !bgp_utf8_valid((const uint8_t *)msg, n))
		return -EINVAL;
	buf[0] = (uint8_t)n;
	if (n)
		memcpy(buf + 1, msg, n);
	return bgp_notify_encode(w, BGP_ERR_CEASE, subcode, buf, n + 1);
}

int
bgp_notify_encode_max_prefix(struct bgp_wr *w, uint16_t afi, uint8_t safi, uint32_t limit)
{
	uint8_t d[7];
	struct bgp_wr dw = bgp_wr_make(d, sizeof(d));
	bgp_wr_u16(&dw, afi);
	bgp_wr_u8(&dw, safi);
	bgp_wr_u32(&dw, limit);
	return bgp_notify_encode(w, BGP_ERR_CEASE, BGP_CEASE_MAX_PREFIXES, d, dw.len);
}

/* ---- ROUTE-REFRESH --------------------------------------------------------------- */
int
bgp_rr_decode(const uint8_t *msg, size_t len, struct bgp_rr *rr, struct bgp_err *e)
{
	struct bgp_cur c = bgp_cur_make(msg, len);

	bgp_cur_skip(&c, BGP_HDR_LEN);
	rr->afi = bgp_cur_u16(&c);
	rr->subtype = bgp_cur_u8(&c);
	rr->safi = bgp_cur_u8(&c);
	if (c.bad)
		return bgp_err_ref(e, BGP_ERR_RR, BGP_RR_ERR_BAD_LENGTH, msg, len,
		                   "ROUTE-REFRESH shorter than 23 bytes");
	if (rr->subtype > BGP_RR_EORR)
		return -ENOENT; /* RFC 7313 5: ignore unknown subtypes */
	/* a request may carry ORF entries (RFC 5291), which we do not use */
	if (rr->subtype != BGP_RR_REQUEST && !bgp_cur_done(&c))
		return bgp_err_ref(e, BGP_ERR_RR, BGP_RR_ERR_BAD_LENGTH, msg, len,
		                   "BoRR/EoRR longer than 23 bytes");
	return 0;
}

int
bgp_rr_encode(struct bgp_wr *w, uint16_t afi, uint8_t safi, uint8_t subtype)
{
	size_t at = bgp_msg_begin(w, BGP_ROUTE_REFRESH);
	bgp_wr_u16(w, afi);
	bgp_wr_u8(w, subtype);
	bgp_wr_u8(w, safi);
	return bgp_msg_end(w, at, BGP_RR_LEN);
}
