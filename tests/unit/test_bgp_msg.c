/*
 * test_bgp_msg.c - the BGP-4 codec (src/bgp): the header checks of RFC 4271
 * 6.1; KEEPALIVE, NOTIFICATION (RFC 9003 shutdown communication, RFC 4486
 * maximum-prefix data) and ROUTE-REFRESH (RFC 2918, 7313) byte for byte;
 * OPEN decode of a real capture, encode byte for byte, RFC 9072 extended
 * parameters, every OPEN error subcode, the acceptance policy and the
 * negotiated session; UPDATE decode of real captures and re-encoding them to
 * the same bytes, round trips of every attribute, RFC 6793 encoding for
 * 2-octet peers; every truncation of several messages in buffers of exactly
 * that size (ASan sees any overread), oversized ones; and the split of 10,000
 * prefixes into the fewest UPDATEs that fit. The RFC 7606 tables are in
 * test_bgp_7606.c.
 *
 * Vectors and where they come from:
 * - tehnerd/bgp2go bgp_msgs_test.go: an OPEN captured from a Cisco-style
 *   speaker (AS 65000, each capability in its own parameter, capability 128),
 *   two UPDATEs (iBGP: empty AS_PATH, LOCAL_PREF; a 4-octet AS_PATH of six
 *   ASes with a community), a NOTIFICATION (Cease / collision), a KEEPALIVE,
 *   an MP_REACH_NLRI with an AMS-IX next hop 2001:7f8:20:101::245:180.
 * - ze-software/ze's RFC 9072 test: an extended-form OPEN whose capability
 *   is the 4-octet AS 4200000001.
 * - RFC 4486 4 / bgp-anchors.md 3.4: Cease/1 data 0001 01 00000FA0.
 * - Hand-built from the RFC text where said (RFC 6793 4.2.2, RFC 7606).
 */
#include "bgp_testutil.h"

/* ---- header ----------------------------------------------------------------- */

static void
hdr_expect(const char *hex, size_t rx_max, int rc, uint8_t code, uint8_t sub, const char *data)
{
	uint8_t m[64];
	size_t n = hx(hex, m, sizeof(m));
	uint8_t *c = exact(m, n);
	struct bgp_hdr h;
	struct bgp_err e;
	memset(&e, 0, sizeof(e));
	int got = bgp_hdr_decode(c, n, rx_max, &h, &e);
	if (got != rc)
		fail_msg("header %s: rc %d, want %d", hex, got, rc);
	if (rc == -EBADMSG) {
		if (e.code != code || e.subcode != sub)
			fail_msg("header %s: NOTIFICATION %u/%u, want %u/%u", hex, e.code,
			         e.subcode, code, sub);
		assert_hex(bgp_err_data(&e), e.len, data, "header error data");
	}
	free(c);
}

static void
test_header(void **state)
{
	(void)state;
	hdr_expect(MARKER "001304", BGP_MAX_MSG, 0, 0, 0, "");
	hdr_expect(MARKER "00", BGP_MAX_MSG, -EAGAIN, 0, 0, "");
	hdr_expect("fffffffffffffffffffffffffffffffe001304", BGP_MAX_MSG, -EBADMSG, BGP_ERR_HEADER,
	           BGP_HDR_NOT_SYNC, "");
	hdr_expect(MARKER "001204", BGP_MAX_MSG, -EBADMSG, 1, 2, "0012");
	hdr_expect(MARKER "100102", BGP_MAX_MSG, -EBADMSG, 1, 2, "1001");     /* 4097 */
	hdr_expect(MARKER "100102", BGP_MAX_EXT_MSG, 0, 0, 0, "");            /* RFC 8654 */
	hdr_expect(MARKER "100101", BGP_MAX_EXT_MSG, -EBADMSG, 1, 2, "1001"); /* OPEN stays 4096 */
	hdr_expect(MARKER "001406", BGP_MAX_MSG, -EBADMSG, 1, 3, "06");
	hdr_expect(MARKER "001400", BGP_MAX_MSG, -EBADMSG, 1, 3, "00");
	hdr_expect(MARKER "001404", BGP_MAX_MSG, -EBADMSG, 1, 2, "0014"); /* KEEPALIVE != 19 */
	hdr_expect(MARKER "001c01", BGP_MAX_MSG, -EBADMSG, 1, 2, "001c"); /* OPEN < 29 */
	hdr_expect(MARKER "001602", BGP_MAX_MSG, -EBADMSG, 1, 2, "0016"); /* UPDATE < 23 */
	hdr_expect(MARKER "001403", BGP_MAX_MSG, -EBADMSG, 1, 2, "0014"); /* NOTIFICATION < 21 */
	hdr_expect(MARKER "001605", BGP_MAX_MSG, -EBADMSG, 1, 2, "0016"); /* RR < 23 */
	hdr_expect(MARKER "001d01", BGP_MAX_MSG, 0, 0, 0, "");
}

/* ---- KEEPALIVE, NOTIFICATION, ROUTE-REFRESH ------------------------------------ */

static void
test_keepalive(void **state)
{
	uint8_t b[64];
	struct bgp_wr w = bgp_wr_make(b, sizeof(b));
	(void)state;
	assert_int_equal(bgp_keepalive_encode(&w), 0);
	assert_hex(b, w.len, MARKER "001304", "KEEPALIVE (bgp2go hexKA)");
	w = bgp_wr_make(b, 18);
	assert_int_equal(bgp_keepalive_encode(&w), -EMSGSIZE);
}

static void
test_notification(void **state)
{
	uint8_t b[512], m[512];
	struct bgp_wr w = bgp_wr_make(b, sizeof(b));
	struct bgp_notification nt;
	size_t n;
	char longmsg[300];
	(void)state;

	/* bgp2go hexNotification: Cease / Connection Collision Resolution */
	n = hx(MARKER "0015030607", m, sizeof(m));
	assert_int_equal(bgp_notify_decode(m, n, &nt), 0);
	assert_int_equal(nt.code, BGP_ERR_CEASE);
	assert_int_equal(nt.subcode, BGP_CEASE_COLLISION);
	assert_int_equal(nt.len, 0);
	assert_int_equal(bgp_notify_encode(&w, BGP_ERR_CEASE, BGP_CEASE_COLLISION, NULL, 0), 0);
	assert_bytes(b, w.len, m, n, "NOTIFICATION collision");

	/* RFC 9003: u8 length + UTF-8 ("Maintenance — 10 min" has a 3-byte dash) */
	w = bgp_wr_make(b, sizeof(b));
	assert_int_equal(bgp_notify_encode_shutdown(&w, BGP_CEASE_ADMIN_SHUTDOWN,
	                                            "Maintenance \xe2\x80\x94 10 min"),
	                 0);
	assert_hex(b, w.len, MARKER "002c03 0602 16 4d61696e74656e616e636520e2809420313020 6d696e",
	           "shutdown communication");
	assert_int_equal(bgp_notify_decode(b, w.len, &nt), 0);
	assert_false(nt.shut_bad);
	assert_int_equal(nt.shut_len, 22);
	assert_memory_equal(nt.shut, "Maintenance \xe2\x80\x94 10 min", 22);
	assert_string_equal(bgp_err_subcode_name(nt.code, nt.subcode), "Administrative Shutdown");

	/* a length beyond the data, or invalid UTF-8: malformed, not used */
	n = mk_msg(m, sizeof(m), BGP_NOTIFICATION, "0604 09 6162");
	assert_int_equal(bgp_notify_decode(m, n, &nt), 0);
	assert_true(nt.shut_bad);
	assert_null(nt.shut);
	n = mk_msg(m, sizeof(m), BGP_NOTIFICATION, "0602 02 c328");
	assert_int_equal(bgp_notify_decode(m, n, &nt), 0);
	assert_true(nt.shut_bad);
	n = mk_msg(m, sizeof(m), BGP_NOTIFICATION, "0602");
	assert_int_equal(bgp_notify_decode(m, n, &nt), 0);
	assert_false(nt.shut_bad);
	assert_int_equal(nt.shut_len, 0);

	/* 255 bytes is the most; 256 and bad UTF-8 refused */
	memset(longmsg, 'x', sizeof(longmsg));
	longmsg[255] = 0;
	w = bgp_wr_make(b, sizeof(b));
	assert_int_equal(bgp_notify_encode_shutdown(&w, BGP_CEASE_ADMIN_RESET, longmsg), 0);
	assert_int_equal(w.len, 19 + 2 + 1 + 255);
	longmsg[255] = 'x';
	longmsg[256] = 0;
	assert_int_equal(bgp_notify_encode_shutdown(&w, BGP_CEASE_ADMIN_RESET, longmsg), -EINVAL);
	assert_int_equal(bgp_notify_encode_shutdown(&w, BGP_CEASE_ADMIN_RESET, "\xc0\xaf"),
	                 -EINVAL);
	assert_int_equal(bgp_notify_encode_shutdown(&w, BGP_CEASE_ADMIN_RESET, "\xed\xa0\x80"),
	                 -EINVAL);

	/* RFC 4486 4 as bgp-anchors.md 3.4 spells it: 0001 01 00000FA0 */
	w = bgp_wr_make(b, sizeof(b));
	assert_int_equal(bgp_notify_encode_max_prefix(&w, BGP_AFI_IPV4, BGP_SAFI_UNICAST, 4000), 0);
	assert_hex(b, w.len, MARKER "001c03 0601 0001 01 00000fa0", "max prefix Cease");
	assert_string_equal(bgp_err_code_name(6), "Cease");
	assert_string_equal(bgp_err_subcode_name(6, 1), "Maximum Number of Prefixes Reached");
	assert_string_equal(bgp_err_subcode_name(6, 6), "Other Configuration Change");
	assert_string_equal(bgp_err_subcode_name(6, 7), "Connection Collision Resolution");
	assert_string_equal(bgp_err_subcode_name(3, 11), "Malformed AS_PATH");
	assert_string_equal(bgp_err_subcode_name(2, 99), "Unknown Subcode");
	assert_string_equal(bgp_msg_type_name(5), "ROUTE-REFRESH");
}

static void
test_route_refresh(void **state)
{
	uint8_t b[64], m[64];
	struct bgp_wr w = bgp_wr_make(b, sizeof(b));
	struct bgp_rr rr;
	struct bgp_err e;
	size_t n;
	(void)state;

	assert_int_equal(bgp_rr_encode(&w, BGP_AFI_IPV6, BGP_SAFI_UNICAST, BGP_RR_REQUEST), 0);
	assert_hex(b, w.len, MARKER "0017 05 0002 00 01", "ROUTE-REFRESH IPv6");
	assert_int_equal(bgp_rr_decode(b, w.len, &rr, &e), 0);
	assert_int_equal(rr.afi, 2);
	assert_int_equal(rr.safi, 1);
	w = bgp_wr_make(b, sizeof(b));
	assert_int_equal(bgp_rr_encode(&w, BGP_AFI_IPV4, BGP_SAFI_UNICAST, BGP_RR_EORR), 0);
	assert_hex(b, w.len, MARKER "0017 05 0001 02 01", "EoRR IPv4");

	/* RFC 7313 5: BoRR longer than 23 -> 7/1 with the whole message */
	n = mk_msg(m, sizeof(m), BGP_ROUTE_REFRESH, "0001 01 01 00");
	assert_int_equal(bgp_rr_decode(m, n, &rr, &e), -EBADMSG);
	assert_int_equal(e.code, BGP_ERR_RR);
	assert_int_equal(e.subcode, BGP_RR_ERR_BAD_LENGTH);
	assert_bytes(bgp_err_data(&e), e.len, m, n, "ROUTE-REFRESH error data");
	/* a request with ORF entries: accepted, the entries ignored */
	n = mk_msg(m, sizeof(m), BGP_ROUTE_REFRESH, "0001 00 01 01 40 0000");
	assert_int_equal(bgp_rr_decode(m, n, &rr, &e), 0);
	/* unknown subtype: ignored */
	n = mk_msg(m, sizeof(m), BGP_ROUTE_REFRESH, "0001 03 01");
	assert_int_equal(bgp_rr_decode(m, n, &rr, &e), -ENOENT);
}

/* ---- OPEN --------------------------------------------------------------------- */

/* bgp2go hexOpenMsg: AS 65000, hold 90, id 10.0.0.2; MP IPv4, RR (128 and 2),
 * GR 120 s, AS4 65000, each in its own optional parameter. */
#define OPEN_CISCO                                                                                 \
	MARKER                                                                                     \
	"003b0104fde8005a0a0000021e02060104000100010202800002020200020440020078020641040000fd"     \
	"e8"

static void
test_open_real(void **state)
{
	uint8_t m[128];
	size_t n = hx(OPEN_CISCO, m, sizeof(m));
	struct bgp_open o;
	struct bgp_err e;
	struct bgp_hdr h;
	(void)state;

	assert_int_equal(bgp_hdr_decode(m, n, BGP_MAX_MSG, &h, &e), 0);
	assert_int_equal(h.type, BGP_OPEN);
	assert_int_equal(h.len, n);
	assert_int_equal(bgp_open_decode(m, n, &o, &e), 0);
	assert_int_equal(o.as, 65000);
	assert_int_equal(o.hold, 90);
	assert_int_equal(o.id, 0x0a000002);
	assert_false(o.ext_params);
	assert_int_equal(o.caps.has,
	                 BGP_CAPF_MP | BGP_CAPF_RR | BGP_CAPF_RR_OLD | BGP_CAPF_GR | BGP_CAPF_AS4);
	assert_int_equal(o.caps.n_mp, 1);
	assert_true(bgp_caps_has_af(&o.caps, 1, 1));
	assert_false(bgp_caps_has_af(&o.caps, 2, 1));
	assert_int_equal(o.caps.gr_time, 120);
	assert_int_equal(o.caps.n_gr, 0);
	assert_int_equal(o.caps.as4, 65000);
}

static void
open_fill(struct bgp_open *o, uint32_t as, uint16_t hold, uint32_t id)
{
	memset(o, 0, sizeof(*o));
	o->version = 4;
	o->as = as;
	o->hold = hold;
	o->id = id;
	o->caps.has = BGP_CAPF_MP | BGP_CAPF_RR | BGP_CAPF_AS4 | BGP_CAPF_ENHANCED_RR;
	o->caps.n_mp = 2;
	o->caps.mp[0] = (struct bgp_af){1, 1, 0};
	o->caps.mp[1] = (struct bgp_af){2, 1, 0};
	o->caps.as4 = as;
}

static void
test_open_encode(void **state)
{
	uint8_t b[4096];
	struct bgp_wr w = bgp_wr_make(b, sizeof(b));
	struct bgp_open o, d;
	struct bgp_err e;
	(void)state;

	/* the capabilities in BIRD 2's order (MP, RR, AS4, ENHANCED_RR) in one
	 * parameter, hand-checked against RFC 5492 4 */
	open_fill(&o, 65001, 90, 0xc0000201);
	assert_int_equal(bgp_open_encode(&w, &o), 0);
	assert_hex(b, w.len,
	           MARKER "0035 01 04 fde9 005a c0000201 18 02 16"
	                  "01040001 0001 01040002 0001 0200 41040000fde9 4600",
	           "OPEN");
	assert_int_equal(bgp_open_decode(b, w.len, &d, &e), 0);
	assert_int_equal(d.as, 65001);
	assert_int_equal(d.caps.has, o.caps.has);

	/* a 4-octet AS: My AS is AS_TRANS; everything round trips */
	open_fill(&o, 4200000001u, 180, 0x0a000001);
	o.caps.has |= BGP_CAPF_GR | BGP_CAPF_ADD_PATH | BGP_CAPF_EXT_MSG | BGP_CAPF_FQDN;
	o.caps.gr_flags = BGP_GR_RESTART_FLAG;
	o.caps.gr_time = 120;
	o.caps.n_gr = 2;
	o.caps.gr[0] = (struct bgp_af){1, 1, BGP_GR_AF_FORWARD};
	o.caps.gr[1] = (struct bgp_af){2, 1, 0};
	o.caps.n_addpath = 1;
	o.caps.addpath[0] = (struct bgp_af){1, 1, BGP_ADDPATH_BOTH};
	o.caps.host = (const uint8_t *)"edge1";
	o.caps.host_len = 5;
	o.caps.domain = (const uint8_t *)"example.net";
	o.caps.domain_len = 11;
	o.caps.n_other = 1;
	o.caps.other[0] = (struct bgp_cap_raw){200, 3, (const uint8_t *)"abc"};
	w = bgp_wr_make(b, sizeof(b));
	assert_int_equal(bgp_open_encode(&w, &o), 0);
	assert_int_equal(b[20] << 8 | b[21], BGP_AS_TRANS);
	assert_int_equal(bgp_open_decode(b, w.len, &d, &e), 0);
	assert_int_equal(d.my_as, BGP_AS_TRANS);
	assert_int_equal(d.as, 4200000001u);
	assert_int_equal(d.hold, 180);
	assert_int_equal(d.caps.has, o.caps.has);
	assert_int_equal(d.caps.gr_flags, BGP_GR_RESTART_FLAG);
	assert_int_equal(d.caps.gr_time, 120);
	assert_int_equal(d.caps.n_gr, 2);
	assert_int_equal(d.caps.gr[0].flags, BGP_GR_AF_FORWARD);
	assert_int_equal(bgp_caps_addpath(&d.caps, 1, 1), BGP_ADDPATH_BOTH);
	assert_int_equal(d.caps.host_len, 5);
	assert_memory_equal(d.caps.domain, "example.net", 11);
	assert_int_equal(d.caps.n_other, 1);
	assert_int_equal(d.caps.other[0].code, 200);
	assert_memory_equal(d.caps.other[0].val, "abc", 3);
}

static void
test_open_rfc9072(void **state)
{
	uint8_t m[4096], raw[300];
	struct bgp_wr w = bgp_wr_make(m, sizeof(m));
	struct bgp_open o, d;
	struct bgp_err e;
	size_t n;
	(void)state;

	/* ze's vector: Non-Ext OP Len 255, Non-Ext OP Type 255, Extended Opt.
	 * Parm. Length 9, one Capabilities parameter (u16 length 6): AS4 4200000001 */
	n = mk_msg(m, sizeof(m), BGP_OPEN, "045BA000B4C0000201 FF FF 0009 02 0006 4104FA56EA01");
	assert_int_equal(bgp_open_decode(m, n, &d, &e), 0);
	assert_true(d.ext_params);
	assert_int_equal(d.as, 4200000001u);
	assert_int_equal(d.hold, 180);
	/* the same capability in the classic form */
	n = mk_msg(m, sizeof(m), BGP_OPEN, "045BA000B4C0000201 08 02 06 4104FA56EA01");
	assert_int_equal(bgp_open_decode(m, n, &d, &e), 0);
	assert_false(d.ext_params);
	assert_int_equal(d.as, 4200000001u);

	/* more than 255 bytes of capabilities: the encoder switches by itself */
	open_fill(&o, 65010, 90, 1);
	memset(raw, 'q', sizeof(raw));
	o.caps.n_other = 2;
	o.caps.other[0] = (struct bgp_cap_raw){201, 200, raw};
	o.caps.other[1] = (struct bgp_cap_raw){202, 100, raw};
	assert_int_equal(bgp_open_encode(&w, &o), 0);
	assert_int_equal(m[28], 255);
	assert_int_equal(m[29], 255);
	assert_int_equal(bgp_open_decode(m, w.len, &d, &e), 0);
	assert_true(d.ext_params);
	assert_int_equal(d.caps.n_other, 2);
	assert_int_equal(d.caps.other[1].len, 100);
	/* and it can be forced for a short one */
	open_fill(&o, 65010, 90, 1);
	o.ext_params = true;
	w = bgp_wr_make(m, sizeof(m));
	assert_int_equal(bgp_open_encode(&w, &o), 0);
	assert_int_equal(bgp_open_decode(m, w.len, &d, &e), 0);
	assert_true(d.ext_params);
	assert_int_equal(d.caps.n_mp, 2);
}

struct open_row {
	const char *name, *body;
	uint8_t sub;      /* OPEN Message Error subcode expected */
	const char *data; /* NOTIFICATION data expected (hex) */
};

static const struct open_row open_rows[] = {
    {"version 3", "03fde9005ac0000201 00", BGP_OPEN_BAD_VERSION, "0004"},
    {"version 5", "05fde9005ac0000201 00", BGP_OPEN_BAD_VERSION, "0004"},
    {"hold time 1", "04fde90001c0000201 00", BGP_OPEN_BAD_HOLD, ""},
    {"hold time 2", "04fde90002c0000201 00", BGP_OPEN_BAD_HOLD, ""},
    {"identifier 0", "04fde9005a00000000 00", BGP_OPEN_BAD_ID, ""},
    {"my AS 0 (RFC 7607)", "040000005ac0000201 00", BGP_OPEN_BAD_PEER_AS, ""},
    {"AS4 capability 0", "045ba0005ac0000201 08 0206 410400000000", BGP_OPEN_BAD_PEER_AS, ""},
    {"authentication parameter", "04fde9005ac0000201 04 0102abcd", BGP_OPEN_UNSUP_PARAM,
     "0102abcd"},
    {"unknown parameter type 7", "04fde9005ac0000201 03 070100", BGP_OPEN_UNSUP_PARAM, "070100"},
    {"parameter length past the message", "04fde9005ac0000201 04 0205 0100", 0, ""},
    {"parameters shorter than said", "04fde9005ac0000201 06 0202 0200", 0, ""},
    {"parameters longer than said", "04fde9005ac0000201 02 0202 0200", 0, ""},
    {"capability past its parameter", "04fde9005ac0000201 04 0202 0104", 0, ""},
    {"multiprotocol capability of 3 bytes", "04fde9005ac0000201 07 0205 0103000101", 0, ""},
    {"AS4 capability of 2 bytes", "04fde9005ac0000201 06 0204 4102fde9", 0, ""},
    {"route refresh with a value", "04fde9005ac0000201 05 0203 020100", 0, ""},
    {"graceful restart of 1 byte", "04fde9005ac0000201 05 0203 400100", 0, ""},
    {"add-path of 3 bytes", "04fde9005ac0000201 07 0205 4503000101", 0, ""},
    /* CVE-2022-43681: the OPEN ends right after the option length octet */
    {"ends after an option length of 255", "04fde9005ac0000201 ff", 0, ""},
    /* CVE-2022-40302 / 40318: extended length markers with nothing behind */
    {"RFC 9072 marker, no length", "04fde9005ac0000201 ff ff", 0, ""},
    {"RFC 9072 length 1, short", "04fde9005ac0000201 ff ff 00", 0, ""},
    {"RFC 9072 length past the message", "04fde9005ac0000201 ff ff 0010 02 0004", 0, ""},
    {"RFC 9072 parameter length past it", "04fde9005ac0000201 ff ff 0005 02 0009 0200", 0, ""},
};

static void
test_open_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(open_rows) / sizeof(open_rows[0]); i++) {
		const struct open_row *r = &open_rows[i];
		uint8_t m[512];
		size_t n = mk_msg(m, sizeof(m), BGP_OPEN, r->body);
		uint8_t *c = exact(m, n);
		struct bgp_open o;
		struct bgp_err e;
		int rc = bgp_open_decode(c, n, &o, &e);
		if (rc != -EBADMSG || e.code != BGP_ERR_OPEN || e.subcode != r->sub)
			fail_msg("OPEN '%s': rc %d, NOTIFICATION %u/%u; want 2/%u", r->name, rc,
			         e.code, e.subcode, r->sub);
		assert_hex(bgp_err_data(&e), e.len, r->data, r->name);
		assert_non_null(e.why);
		free(c);
	}
}

static void
test_open_policy(void **state)
{
	uint8_t b[512];
	struct bgp_wr w = bgp_wr_make(b, sizeof(b));
	struct bgp_open o;
	struct bgp_err e;
	struct bgp_open_policy pol = {.peer_as = 65010,
	                              .local_as = 12076,
	                              .local_id = 0x7f000001,
	                              .min_hold = 10,
	                              .require = BGP_CAPF_AS4,
	                              .require_fams =
	                                  BGP_FAM_BIT(BGP_FAM_IPV4) | BGP_FAM_BIT(BGP_FAM_IPV6)};
	(void)state;

	open_fill(&o, 65010, 90, 0x0a000001);
	assert_int_equal(bgp_open_check(&o, &pol, &e), 0);
	o.as = 65011;
	assert_int_equal(bgp_open_check(&o, &pol, &e), -EBADMSG);
	assert_int_equal(e.subcode, BGP_OPEN_BAD_PEER_AS);
	o.as = 65010;
	o.hold = 9;
	assert_int_equal(bgp_open_check(&o, &pol, &e), -EBADMSG);
	assert_int_equal(e.subcode, BGP_OPEN_BAD_HOLD);
	o.hold = 0;
	assert_int_equal(bgp_open_check(&o, &pol, &e), 0);
	pol.reject_zero_hold = true;
	assert_int_equal(bgp_open_check(&o, &pol, &e), -EBADMSG);
	assert_int_equal(e.subcode, BGP_OPEN_BAD_HOLD);
	o.hold = 10;
	/* RFC 5492 5: the data lists what we need: AS4 (ours) and MP IPv6 */
	o.caps.has &= ~BGP_CAPF_AS4;
	o.caps.n_mp = 1;
	assert_int_equal(bgp_open_check(&o, &pol, &e), -EBADMSG);
	assert_int_equal(e.subcode, BGP_OPEN_UNSUP_CAP);
	assert_hex(bgp_err_data(&e), e.len, "4104 00002f2c 0104 0002 00 01", "required caps");
	/* iBGP may not reuse our identifier (RFC 6286 2.2); eBGP may */
	open_fill(&o, 12076, 90, 0x7f000001);
	pol.peer_as = 0;
	assert_int_equal(bgp_open_check(&o, &pol, &e), -EBADMSG);
	assert_int_equal(e.subcode, BGP_OPEN_BAD_ID);
	open_fill(&o, 65010, 90, 0x7f000001);
	assert_int_equal(bgp_open_check(&o, &pol, &e), 0);
	/* the NOTIFICATION for it */
	assert_int_equal(bgp_notify_encode_err(&w, &e), 0);
}

static void
test_negotiate(void **state)
{
	struct bgp_open l, r;
	struct bgp_params p;
	(void)state;

	open_fill(&l, 12076, 180, 1);
	open_fill(&r, 65010, 90, 2);
	l.caps.has |= BGP_CAPF_EXT_MSG | BGP_CAPF_ADD_PATH;
	l.caps.n_addpath = 1;
	l.caps.addpath[0] = (struct bgp_af){1, 1, BGP_ADDPATH_RECV};
	r.caps.has |= BGP_CAPF_ADD_PATH;
	r.caps.n_addpath = 1;
	r.caps.addpath[0] = (struct bgp_af){1, 1, BGP_ADDPATH_BOTH};
	r.caps.n_mp = 1; /* IPv4 only */
	bgp_params_negotiate(&p, &l, &r);
	assert_true(p.as4);
	assert_true(p.ebgp);
	assert_true(p.enforce_first_as);
	assert_int_equal(p.hold, 90);
	assert_int_equal(p.rx_max, BGP_MAX_EXT_MSG);
	assert_int_equal(p.tx_max, BGP_MAX_MSG);
	assert_int_equal(p.fams, BGP_FAM_BIT(BGP_FAM_IPV4));
	assert_int_equal(p.addpath_rx, BGP_FAM_BIT(BGP_FAM_IPV4));
	assert_int_equal(p.addpath_tx, 0);
	assert_true(p.route_refresh);
	assert_true(p.enhanced_rr);
	/* no MP capability at all means IPv4 unicast (RFC 4760 6); no AS4 */
	r.caps.has = BGP_CAPF_RR;
	bgp_params_negotiate(&p, &l, &r);
	assert_false(p.as4);
	assert_int_equal(p.fams, BGP_FAM_BIT(BGP_FAM_IPV4));
	assert_int_equal(p.peer_as, 65010);
}

/* ---- UPDATE: real captures -------------------------------------------------------- */

/* bgp2go hexUpdate1 and hexUpdate4 (iBGP; the second a 4-octet AS_PATH) */
#define UPD_IBGP                                                                                   \
	MARKER "00360200000015400101004002004003040a0000024005040000006420010101012001010102"
#define UPD_AS6                                                                                    \
	MARKER                                                                                     \
	"005102000000364001010240021a02060000000100000002000000030000000400000005000000064003"     \
	"040a00000240050400000064c00804ffff000118010b01"

static void
test_update_real(void **state)
{
	uint8_t m[512], b[512];
	size_t n = hx(UPD_IBGP, m, sizeof(m));
	struct bgp_params p = sess(65000, 65000, true);
	struct bgp_update u;
	struct bgp_attrs a;
	char s[256];
	uint8_t t;
	uint32_t as;
	struct bgp_aspath_it it;
	(void)state;

	assert_int_equal(bgp_update_decode(&p, m, n, &u), 0);
	assert_int_equal(u.verdict, BGP_VERDICT_OK);
	assert_int_equal(u.nlri.count, 2);
	nlri_str(&u.nlri, s, sizeof(s));
	assert_string_equal(s, "1.1.1.1/32 1.1.1.2/32");
	assert_int_equal(u.attrs.local_pref, 100);
	assert_int_equal(u.attrs.aspath.len, 0);
	assert_int_equal(u.attrs.nexthop.b[3], 2);

	n = hx(UPD_AS6, m, sizeof(m));
	assert_int_equal(bgp_update_decode(&p, m, n, &u), 0);
	assert_int_equal(u.verdict, BGP_VERDICT_OK);
	assert_int_equal(u.attrs.origin, BGP_ORIGIN_INCOMPLETE);
	bgp_aspath_iter(&it, &u.attrs.aspath, true);
	for (uint32_t want = 1; want <= 6; want++) {
		assert_true(bgp_aspath_next(&it, &t, &as));
		assert_int_equal(t, BGP_AS_SEQUENCE);
		assert_int_equal(as, want);
	}
	assert_false(bgp_aspath_next(&it, &t, &as));
	nlri_str(&u.nlri, s, sizeof(s));
	assert_string_equal(s, "1.11.1.0/24");
	assert_int_equal(u.attrs.communities.len, 4);

	/* our encoder writes the same bytes back */
	bgp_update_attrs(&u, &u.nlri, &a);
	struct ip_prefix v = pfx("1.11.1.0/24");
	struct bgp_wr w = bgp_wr_make(b, sizeof(b));
	size_t done;
	assert_int_equal(bgp_update_pack(&w, &p, &a, &v, NULL, 1, &done), 0);
	assert_int_equal(done, 1);
	assert_bytes(b, w.len, m, n, "re-encoded bgp2go hexUpdate4");
}

/* bgp2go hexIPv6_MP_REACH_NLRI_PA, with ORIGIN and AS_PATH around it */
#define MP6_AMSIX "900e001c00020110200107f800200101000000000245018000302a00bdc0e003"

static void
test_update_mp_real(void **state)
{
	uint8_t m[512], b[512];
	size_t n = mk_update(m, sizeof(m), "", MP6_AMSIX "40010100 4002060201 0000fde9", "");
	struct bgp_params p = sess(12076, 65001, true);
	struct bgp_update u;
	struct bgp_attrs a;
	char s[256];
	(void)state;

	assert_int_equal(bgp_update_decode(&p, m, n, &u), 0);
	assert_int_equal(u.verdict, BGP_VERDICT_OK);
	assert_int_equal(u.mp_reach.fam, BGP_FAM_IPV6);
	nlri_str(&u.mp_reach, s, sizeof(s));
	assert_string_equal(s, "2a00:bdc0:e003::/48");
	ip_addr_fmt(&u.mp_nh, s);
	assert_string_equal(s, "2001:7f8:20:101::245:180");
	assert_int_equal(u.mp_nh_ll.af, 0);
	/* re-encoded: MP_REACH first, extended length, as the capture */
	bgp_update_attrs(&u, &u.mp_reach, &a);
	struct ip_prefix v = pfx("2a00:bdc0:e003::/48");
	struct bgp_wr w = bgp_wr_make(b, sizeof(b));
	size_t done;
	assert_int_equal(bgp_update_pack(&w, &p, &a, &v, NULL, 1, &done), 0);
	assert_bytes(b, w.len, m, n, "re-encoded MP_REACH capture");
}

/* ---- UPDATE: round trips ------------------------------------------------------------ */

static void
full_attrs(struct bgp_attrs *a, uint8_t *pathbuf, const char *path_hex)
{
	static const uint8_t comm[] = {0x2f, 0x2c, 0xc3, 0x5a, 0xff, 0xff, 0xff, 0x01};
	static const uint8_t ext[] = {0x00, 0x02, 0x2f, 0x2c, 0x00, 0x00, 0x00, 0x64};
	static const uint8_t large[] = {0, 0, 0x2f, 0x2c, 0, 0, 0, 1, 0, 0, 0, 2,
	                                0, 0, 0x2f, 0x2c, 0, 0, 0, 3, 0, 0, 0, 4};
	static const uint8_t unk[] = {0xde, 0xad, 0xbe, 0xef};
	memset(a, 0, sizeof(*a));
	a->has = BGP_HAS(BGP_ATTR_ORIGIN) | BGP_HAS(BGP_ATTR_AS_PATH) | BGP_HAS(BGP_ATTR_MED) |
	         BGP_HAS(BGP_ATTR_ATOMIC_AGGREGATE) | BGP_HAS(BGP_ATTR_AGGREGATOR) |
	         BGP_HAS(BGP_ATTR_COMMUNITIES) | BGP_HAS(BGP_ATTR_EXT_COMMUNITIES) |
	         BGP_HAS(BGP_ATTR_LARGE_COMMUNITY);
	a->origin = BGP_ORIGIN_EGP;
	a->aspath_wide = true;
	a->aspath.len = (uint16_t)hx(path_hex, pathbuf, 512);
	a->aspath.p = pathbuf;
	a->med = 50;
	a->aggr_as = 4200000002u;
	a->aggr_id = 0xc0000209;
	a->communities = (struct bgp_span){comm, sizeof(comm)};
	a->ext_communities = (struct bgp_span){ext, sizeof(ext)};
	a->large_communities = (struct bgp_span){large, sizeof(large)};
	a->n_other = 1;
	a->other[0] = (struct bgp_attr_raw){BGP_ATTR_FLAGS_OT, 99, {unk, sizeof(unk)}};
}

static void
roundtrip(struct bgp_params *p, struct bgp_attrs *a, const char *const *pfxs, size_t n,
          const char *what)
{
	struct ip_prefix v[16];
	uint8_t b[4096], canon[1024];
	struct bgp_wr w = bgp_wr_make(b, sizeof(b));
	struct bgp_update u;
	struct bgp_attrs d;
	size_t done;
	char s[512], want[512] = "";

	for (size_t i = 0; i < n; i++) {
		v[i] = pfx(pfxs[i]);
		strcat(want, i ? " " : "");
		strcat(want, pfxs[i]);
	}
	assert_int_equal(bgp_update_pack(&w, p, a, v, NULL, n, &done), 0);
	assert_int_equal(done, n);
	uint8_t *c = exact(b, w.len);
	if (bgp_update_decode(p, c, w.len, &u) != 0 || u.verdict != BGP_VERDICT_OK)
		fail_msg("%s: decoded with verdict %d (%s)", what, u.verdict, u.why ? u.why : "-");
	const struct bgp_nlri *nl = a ? (v[0].a.af == IP_V4 ? &u.nlri : &u.mp_reach)
	                              : (v[0].a.af == IP_V4 ? &u.withdrawn : &u.mp_unreach);
	nlri_str(nl, s, sizeof(s));
	assert_string_equal(s, want);
	if (a) {
		bgp_update_attrs(&u, nl, &d);
		assert_int_equal(bgp_attrs_canon(&d, canon, sizeof(canon)), 0);
		d.has &= ~BGP_HAS(BGP_ATTR_NEXT_HOP);
		if (!bgp_attrs_equal(&d, a))
			fail_msg("%s: attributes differ after the round trip", what);
	}
	free(c);
}

static void
test_update_roundtrip(void **state)
{
	uint8_t path[512];
	struct bgp_attrs a;
	struct bgp_params p = sess(12076, 65001, true);
	const char *v4[] = {"198.51.100.0/24", "10.0.0.0/8", "0.0.0.0/0", "192.0.2.128/25",
	                    "203.0.113.7/32"};
	const char *v6[] = {"2001:db8::/32", "2001:db8:1::/48", "::/0", "2001:db8::1/128"};
	(void)state;

	full_attrs(&a, path, "0203 0000fde9 fa56ea01 0000fdea 0102 0000fdeb 0000fdec");
	a.nexthop = addr("192.0.2.1");
	roundtrip(&p, &a, v4, 5, "IPv4, every attribute, 4-octet session");
	a.nexthop = addr("2001:db8::1");
	a.nexthop_ll = addr("fe80::1");
	roundtrip(&p, &a, v6, 4, "IPv6 with a link-local next hop");
	a.nexthop_ll.af = 0;
	roundtrip(&p, &a, v6, 4, "IPv6, global next hop only");
	roundtrip(&p, NULL, v4, 5, "IPv4 withdrawals");
	roundtrip(&p, NULL, v6, 4, "IPv6 withdrawals");
	/* the same over a 2-octet session: AS_TRANS + AS4_PATH + AS4_AGGREGATOR */
	p = sess(12076, 65001, false);
	a.nexthop = addr("192.0.2.1");
	roundtrip(&p, &a, v4, 5, "IPv4 over a 2-octet session");
	/* ADD-PATH both ways */
	p = sess(12076, 65001, true);
	p.addpath_rx = p.addpath_tx = BGP_FAM_BIT(BGP_FAM_IPV4);
	roundtrip(&p, &a, v4, 5, "IPv4 with ADD-PATH");
	/* iBGP keeps LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST */
	p = sess(65000, 65000, true);
	a.has |= BGP_HAS(BGP_ATTR_LOCAL_PREF) | BGP_HAS(BGP_ATTR_ORIGINATOR_ID) |
	         BGP_HAS(BGP_ATTR_CLUSTER_LIST);
	a.local_pref = 150;
	a.originator_id = 0x0a000001;
	a.cluster_list = (struct bgp_span){(const uint8_t *)"\x0a\x00\x00\x02", 4};
	roundtrip(&p, &a, v4, 5, "iBGP attributes");
}

/* RFC 6793 4.2.2, built by hand: a 2-octet peer gets AS_TRANS in AS_PATH and
 * AGGREGATOR, the real ASes in AS4_PATH and AS4_AGGREGATOR. */
static void
test_update_as4_encode(void **state)
{
	uint8_t path[64], b[512], canon[256];
	struct bgp_attrs a, d;
	struct bgp_params p = sess(12076, 65001, false);
	struct ip_prefix v = pfx("198.51.100.0/24");
	struct bgp_wr w = bgp_wr_make(b, sizeof(b));
	struct bgp_update u;
	size_t done;
	(void)state;

	memset(&a, 0, sizeof(a));
	a.has = BGP_HAS(BGP_ATTR_ORIGIN) | BGP_HAS(BGP_ATTR_AS_PATH) | BGP_HAS(BGP_ATTR_AGGREGATOR);
	a.aspath_wide = true;
	a.aspath = (struct bgp_span){
	    path, (uint16_t)hx("0203 0000fde9 fa56ea01 0000fdea", path, sizeof(path))};
	a.aggr_as = 4200000002u;
	a.aggr_id = 0xc0000209;
	a.nexthop = addr("192.0.2.1");
	assert_int_equal(bgp_update_pack(&w, &p, &a, &v, NULL, 1, &done), 0);
	assert_hex(b, w.len,
	           MARKER "0056 02 0000 003b"
	                  "40010100"
	                  "400208 0203 fde9 5ba0 fdea"
	                  "400304 c0000201"
	                  "c00706 5ba0 c0000209"
	                  "c0110e 0203 0000fde9 fa56ea01 0000fdea"
	                  "c01208 fa56ea02 c0000209"
	                  "18c63364",
	           "RFC 6793 encoding");
	/* and a 2-octet session decodes it back to the 4-octet path */
	assert_int_equal(bgp_update_decode(&p, b, w.len, &u), 0);
	assert_int_equal(u.verdict, BGP_VERDICT_OK);
	d = u.attrs;
	assert_false(d.aspath_wide);
	assert_true(bgp_attrs_canon_room(&d) <= sizeof(canon));
	assert_int_equal(bgp_attrs_canon(&d, canon, sizeof(canon)), 0);
	assert_true(d.aspath_wide);
	assert_hex(d.aspath.p, d.aspath.len, "0203 0000fde9 fa56ea01 0000fdea", "merged path");
	assert_int_equal(d.aggr_as, 4200000002u);
}

/* ---- truncated and oversized input ------------------------------------------------- */

/* Decodes the first len bytes of m (length field patched) from a buffer of
 * exactly that size; returns the decoder's verdict and fills e. */
static int
decode_prefix(const uint8_t *m, size_t len, struct bgp_err *e, struct bgp_update *u)
{
	uint8_t *c = exact(m, len);
	struct bgp_params p = sess(65000, 65000, true);
	struct bgp_hdr h;
	struct bgp_open o;
	struct bgp_notification nt;
	struct bgp_rr rr;
	int rc;

	if (len >= BGP_HDR_LEN) {
		c[16] = (uint8_t)(len >> 8);
		c[17] = (uint8_t)len;
	}
	rc = bgp_hdr_decode(c, len, BGP_MAX_MSG, &h, e);
	if (rc == 0) {
		switch (h.type) {
		case BGP_OPEN:
			rc = bgp_open_decode(c, len, &o, e);
			break;
		case BGP_UPDATE:
			rc = bgp_update_decode(&p, c, len, u);
			*e = u->err;
			e->ext = NULL; /* c is freed below */
			break;
		case BGP_NOTIFICATION:
			rc = bgp_notify_decode(c, len, &nt);
			break;
		case BGP_ROUTE_REFRESH:
			rc = bgp_rr_decode(c, len, &rr, e);
			e->ext = NULL;
			break;
		}
	} else {
		e->ext = NULL;
	}
	free(c);
	return rc;
}

static void
test_truncated(void **state)
{
	uint8_t m[512];
	struct bgp_err e;
	struct bgp_update u;
	size_t n;
	(void)state;

	/* every prefix of the real OPEN: 1/2 below 29 bytes, 2/0 after */
	n = hx(OPEN_CISCO, m, sizeof(m));
	for (size_t l = 0; l < n; l++) {
		int rc = decode_prefix(m, l, &e, &u);
		if (l < BGP_HDR_LEN) {
			assert_int_equal(rc, -EAGAIN);
			continue;
		}
		if (rc != -EBADMSG)
			fail_msg("OPEN cut at %zu: rc %d", l, rc);
		if (l < BGP_OPEN_MIN ? (e.code != 1 || e.subcode != 2)
		                     : (e.code != 2 || e.subcode != 0))
			fail_msg("OPEN cut at %zu: %u/%u", l, e.code, e.subcode);
	}
	assert_int_equal(decode_prefix(m, n, &e, &u), 0);

	/* every prefix of hexUpdate4: 1/2, then 3/1 while the attributes are
	 * cut, a valid UPDATE with no NLRI, then 3/10 inside the prefix */
	n = hx(UPD_AS6, m, sizeof(m));
	for (size_t l = BGP_HDR_LEN; l < n; l++) {
		int rc = decode_prefix(m, l, &e, &u);
		size_t attrs_end = BGP_UPDATE_MIN + 0x36;
		if (l < BGP_UPDATE_MIN) {
			assert_int_equal(rc, -EBADMSG);
			assert_int_equal(e.code, 1);
			assert_int_equal(e.subcode, 2);
		} else if (l < attrs_end) {
			if (rc != -EBADMSG || e.code != 3 || e.subcode != 1)
				fail_msg("UPDATE cut at %zu: rc %d %u/%u", l, rc, e.code,
				         e.subcode);
		} else if (l == attrs_end) {
			assert_int_equal(rc, 0);
			assert_int_equal(u.verdict, BGP_VERDICT_OK);
			assert_int_equal(u.nlri.count, 0);
		} else {
			if (rc != -EBADMSG || e.code != 3 || e.subcode != 10)
				fail_msg("UPDATE cut at %zu: rc %d %u/%u", l, rc, e.code,
				         e.subcode);
		}
	}

	/* an MP_REACH UPDATE, a NOTIFICATION and a ROUTE-REFRESH: never a crash,
	 * never a success on a cut MP_REACH */
	n = mk_update(m, sizeof(m), "", MP6_AMSIX "40010100 4002060201 0000fde9", "");
	for (size_t l = 0; l < n; l++) {
		int rc = decode_prefix(m, l, &e, &u);
		assert_true(rc == -EAGAIN || rc == -EBADMSG);
	}
	n = hx(MARKER "001c03 0601 0001 01 00000fa0", m, sizeof(m));
	for (size_t l = 0; l <= n; l++)
		assert_int_equal(decode_prefix(m, l, &e, &u), l < BGP_HDR_LEN      ? -EAGAIN
		                                              : l < BGP_NOTIFY_MIN ? -EBADMSG
		                                                                   : 0);
	n = hx(MARKER "0017 05 0001 01 01", m, sizeof(m));
	for (size_t l = 0; l <= n; l++)
		assert_int_equal(decode_prefix(m, l, &e, &u), l < BGP_HDR_LEN  ? -EAGAIN
		                                              : l < BGP_RR_LEN ? -EBADMSG
		                                                               : 0);
}

static void
test_oversized(void **state)
{
	struct bgp_params p = sess(12076, 65001, true);
	uint8_t *m = calloc(1, BGP_MAX_EXT_MSG);
	struct bgp_update u;
	char attrs[64];
	size_t n;
	(void)state;
	assert_non_null(m);

	/* an attribute claiming 65535 bytes in a short message: framing */
	n = mk_update(m, BGP_MAX_EXT_MSG, "", BASE "d008ffff", PFX);
	assert_int_equal(bgp_update_decode(&p, m, n, &u), 0);
	assert_int_equal(u.verdict, BGP_VERDICT_WITHDRAW);
	/* a 65535-byte UPDATE of /32s decodes whole on an extended session */
	snprintf(attrs, sizeof(attrs), "%s", BASE);
	n = mk_update(m, BGP_MAX_EXT_MSG, "", attrs, "");
	size_t k = (BGP_MAX_EXT_MSG - n) / 5;
	for (size_t i = 0; i < k; i++) {
		m[n + 5 * i] = 32;
		m[n + 5 * i + 1] = 10;
		m[n + 5 * i + 2] = (uint8_t)(i >> 16);
		m[n + 5 * i + 3] = (uint8_t)(i >> 8);
		m[n + 5 * i + 4] = (uint8_t)i;
	}
	n += 5 * k;
	m[16] = (uint8_t)(n >> 8);
	m[17] = (uint8_t)n;
	struct bgp_hdr h;
	struct bgp_err e;
	assert_int_equal(bgp_hdr_decode(m, n, BGP_MAX_MSG, &h, &e), -EBADMSG);
	assert_int_equal(bgp_hdr_decode(m, n, BGP_MAX_EXT_MSG, &h, &e), 0);
	assert_int_equal(bgp_update_decode(&p, m, n, &u), 0);
	assert_int_equal(u.verdict, BGP_VERDICT_OK);
	assert_int_equal(u.nlri.count, k);
	free(m);
}

/* ---- splitting ------------------------------------------------------------------------ */

struct sink {
	struct bgp_params *p;
	size_t msgs, prefixes, max;
	const struct ip_prefix *want;
	bool withdraw;
};

static int
sink_emit(void *arg, const uint8_t *msg, size_t len)
{
	struct sink *s = arg;
	struct bgp_update u;
	struct bgp_nlri_it it;
	struct ip_prefix got;
	uint32_t id;
	if (len > s->max)
		fail_msg("UPDATE of %zu bytes over the %zu maximum", len, s->max);
	assert_int_equal(bgp_update_decode(s->p, msg, len, &u), 0);
	assert_int_equal(u.verdict, BGP_VERDICT_OK);
	const struct bgp_nlri *n = s->withdraw ? (u.withdrawn.count ? &u.withdrawn : &u.mp_unreach)
	                                       : (u.nlri.count ? &u.nlri : &u.mp_reach);
	bgp_nlri_iter(n, &it);
	while (bgp_nlri_next(&it, &got, &id)) {
		if (ip_prefix_cmp(&got, &s->want[s->prefixes]) != 0)
			fail_msg("prefix %zu out of order", s->prefixes);
		s->prefixes++;
	}
	/* the fewest: the next prefix would not have fitted */
	if (s->want[s->prefixes].len &&
	    len + bgp_prefix_wire_len(&s->want[s->prefixes], false) <= s->max)
		fail_msg("UPDATE %zu stopped with room for the next prefix", s->msgs);
	s->msgs++;
	return 0;
}

static void
split_case(struct bgp_params *p, const struct bgp_attrs *a, struct ip_prefix *v, size_t n,
           size_t max, bool withdraw, size_t *msgs)
{
	uint8_t *buf = malloc(BGP_MAX_EXT_MSG);
	struct sink s = {p, 0, 0, max, v, withdraw};
	assert_non_null(buf);
	p->tx_max = (uint16_t)max;
	int rc = bgp_update_split(p, a, v, NULL, n, buf, BGP_MAX_EXT_MSG, sink_emit, &s);
	assert_int_equal(rc, (int)s.msgs);
	assert_int_equal(s.prefixes, n);
	*msgs = s.msgs;
	free(buf);
}

static void
test_split(void **state)
{
	enum { N = 10000 };
	struct ip_prefix *v = calloc(N + 1, sizeof(*v)); /* v[N] zeroed: the end */
	uint8_t path[64];
	struct bgp_attrs a;
	struct bgp_params p = sess(12076, 65001, true);
	size_t m4, m64, mw, m6;
	(void)state;
	assert_non_null(v);

	full_attrs(&a, path, "0202 0000fde9 0000fdea");
	a.nexthop = addr("192.0.2.1");
	for (size_t i = 0; i < N; i++) {
		v[i].a.af = IP_V4;
		v[i].a.b[0] = 10;
		v[i].a.b[1] = (uint8_t)(i >> 8);
		v[i].a.b[2] = (uint8_t)i;
		v[i].len = 24;
	}
	p.rx_max = BGP_MAX_EXT_MSG;
	split_case(&p, &a, v, N, BGP_MAX_MSG, false, &m4);
	split_case(&p, &a, v, N, BGP_MAX_EXT_MSG, false, &m64);
	split_case(&p, NULL, v, N, BGP_MAX_MSG, true, &mw);
	/* 4 bytes a /24: about (4096 - 23 - attributes) / 4 a message */
	print_message("# 10000 /24: %zu UPDATEs at 4096, %zu at 65535, %zu withdrawals\n", m4, m64,
	              mw);
	assert_true(m4 >= 10 && m4 <= 11);
	assert_int_equal(m64, 1);
	assert_int_equal(mw, 10);
	for (size_t i = 0; i < N; i++) {
		memset(&v[i], 0, sizeof(v[i]));
		v[i].a.af = IP_V6;
		v[i].a.b[0] = 0x20;
		v[i].a.b[1] = 0x01;
		v[i].a.b[2] = 0x0d;
		v[i].a.b[3] = 0xb8;
		v[i].a.b[4] = (uint8_t)(i >> 8);
		v[i].a.b[5] = (uint8_t)i;
		v[i].len = 48;
	}
	a.nexthop = addr("2001:db8::1");
	split_case(&p, &a, v, N, BGP_MAX_MSG, false, &m6);
	assert_true(m6 >= 17 && m6 <= 19);
	split_case(&p, NULL, v, N, BGP_MAX_MSG, true, &m6);
	free(v);
}

static void
test_pack_errors(void **state)
{
	uint8_t b[4096], path[600];
	struct bgp_wr w = bgp_wr_make(b, sizeof(b));
	struct bgp_attrs a;
	struct bgp_params p = sess(12076, 65001, true);
	struct ip_prefix v[2] = {pfx("10.0.0.0/8"), pfx("2001:db8::/32")};
	size_t done;
	(void)state;

	full_attrs(&a, path, "0201 0000fde9");
	a.nexthop = addr("192.0.2.1");
	assert_int_equal(bgp_update_pack(&w, &p, &a, v, NULL, 0, &done), -EINVAL);
	assert_int_equal(bgp_update_pack(&w, &p, &a, v, NULL, 2, &done), -EINVAL); /* mixed */
	a.nexthop = addr("2001:db8::1");
	assert_int_equal(bgp_update_pack(&w, &p, &a, v, NULL, 1, &done), -EINVAL); /* nh family */
	a.nexthop = addr("192.0.2.1");
	a.aspath_wide = false;
	assert_int_equal(bgp_update_pack(&w, &p, &a, v, NULL, 1, &done), -EINVAL); /* canonical */
	a.aspath_wide = true;
	p.fams = BGP_FAM_BIT(BGP_FAM_IPV6);
	assert_int_equal(bgp_update_pack(&w, &p, &a, v, NULL, 1, &done), -EINVAL); /* family */
	p.fams = BGP_FAM_BIT(BGP_FAM_IPV4);
	/* attributes alone over the maximum */
	memset(path, 0, sizeof(path));
	for (unsigned i = 0; i < 16; i++) {
		path[i * 34] = BGP_AS_SEQUENCE;
		path[i * 34 + 1] = 8;
	}
	a.aspath = (struct bgp_span){path, 16 * 34};
	p.tx_max = 500;
	assert_int_equal(bgp_update_pack(&w, &p, &a, v, NULL, 1, &done), -EMSGSIZE);
	/* a writer too small */
	p.tx_max = BGP_MAX_MSG;
	w = bgp_wr_make(b, 30);
	a.aspath = (struct bgp_span){path, 6};
	assert_int_equal(bgp_update_pack(&w, &p, &a, v, NULL, 1, &done), -EMSGSIZE);
	/* End-of-RIB markers */
	w = bgp_wr_make(b, sizeof(b));
	assert_int_equal(bgp_eor_encode(&w, BGP_FAM_IPV4), 0);
	assert_hex(b, w.len, MARKER "0017 02 0000 0000", "EoR IPv4");
	w = bgp_wr_make(b, sizeof(b));
	assert_int_equal(bgp_eor_encode(&w, BGP_FAM_IPV6), 0);
	assert_hex(b, w.len, MARKER "001e 02 0000 0007 900f0003 0002 01", "EoR IPv6");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header),
	    cmocka_unit_test(test_keepalive),
	    cmocka_unit_test(test_notification),
	    cmocka_unit_test(test_route_refresh),
	    cmocka_unit_test(test_open_real),
	    cmocka_unit_test(test_open_encode),
	    cmocka_unit_test(test_open_rfc9072),
	    cmocka_unit_test(test_open_errors),
	    cmocka_unit_test(test_open_policy),
	    cmocka_unit_test(test_negotiate),
	    cmocka_unit_test(test_update_real),
	    cmocka_unit_test(test_update_mp_real),
	    cmocka_unit_test(test_update_roundtrip),
	    cmocka_unit_test(test_update_as4_encode),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_oversized),
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_pack_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
