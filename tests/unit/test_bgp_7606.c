/*
 * test_bgp_7606.c - UPDATE error handling, table by table: the RFC 7606
 * matrix of bgp-anchors.md 2.7 (every row: the verdict, the attribute that
 * must not survive, and for a reset the NOTIFICATION code, subcode and data),
 * FRR's MP_REACH/MP_UNREACH segments (tests/bgpd/test_mp_attr.c), and the
 * RFC 6793 4.2.3 merge of AS4_PATH and AS4_AGGREGATOR on 2-octet sessions.
 * BGP_TEST_VERBOSE=1 prints each matrix row's verdict and reason.
 */
#include "bgp_testutil.h"

enum { EB4, EB2, IB4 }; /* eBGP 4-octet, eBGP 2-octet, iBGP */

struct mp_row {
	const char *name, *attr; /* the MP attribute (flags, type, len, value) */
	int rc;
	const char *prefixes;
	const char *nh, *ll;
};

/* FRR tests/bgpd/test_mp_attr.c segments, wrapped in attribute headers */
static const struct mp_row mp_rows[] = {
    {"IPv6 global next hop, 1 NLRI",
     "800e1a 000201 10 fffe0102aabbccdd03040506a1a2a3a4 00 20fffe0102", 0, "fffe:102::/32",
     "fffe:102:aabb:ccdd:304:506:a1a2:a3a4", NULL},
    {"IPv6 global+local next hops, 2 NLRIs + default",
     "800e34 000201 20 fffe0102aabbccdd03040506a1a2a3a4 fe800000000000000210 02ff01020304 00"
     " 20fffe0102 40fffe000100020003 00",
     0, "fffe:102::/32 fffe:1:2:3::/64 ::/0", "fffe:102:aabb:ccdd:304:506:a1a2:a3a4",
     "fe80::210:2ff:102:304"},
    {"IPv6 next hop length 4", "800e0e 000201 04 fffe0102 00 20fffe0102", -EBADMSG, NULL, NULL,
     NULL},
    {"IPv6 next hop length 5", "800e0f 000201 05 fffe0102aa 00 20fffe0102", -EBADMSG, NULL, NULL,
     NULL},
    {"IPv6 next hop overflow", "800e14 000201 20 fffe0102aabbccdd03040506a1a2a3a4", -EBADMSG, NULL,
     NULL, NULL},
    {"IPv6 NLRI bit length overflow",
     "800e1a 000201 10 fffe0102aabbccdd03040506a1a2a3a4 00 78fffe0102", -EBADMSG, NULL, NULL, NULL},
    {"IPv4 MP_REACH, 2 NLRIs + default", "800e11 000101 04 c0a80001 00 100a01 110a0203 00", 0,
     "10.1.0.0/16 10.2.0.0/17 0.0.0.0/0", "192.168.0.1", NULL},
    {"IPv4 MP_REACH next hop length 32", "800e11 000101 20 c0a80001 00 100a01 110a0203 00",
     -EBADMSG, NULL, NULL, NULL},
    {"IPv4 MP_REACH NLRI overflow", "800e0f 000101 04 c0a80001 00 100a01 1e0a00", -EBADMSG, NULL,
     NULL, NULL},
    {"IPv6 next hop, no NLRI (FRR bug 385 shape)",
     "800e25 000201 20 20010470000100060000000000000001 fe80000000000000020cdbfffefeeb00 00", 0, "",
     "2001:470:1:6::1", "fe80::20c:dbff:fefe:eb00"},
    {"IPv6 MP_UNREACH, 2 NLRIs + default", "800f12 000201 20fffe0102 40fffe000100020003 00", 0,
     "fffe:102::/32 fffe:1:2:3::/64 ::/0", NULL, NULL},
    {"IPv6 MP_UNREACH bit length overflow", "800f12 000201 78fffe0102 40fffe000100020003 00",
     -EBADMSG, NULL, NULL, NULL},
    {"IPv4 MP_UNREACH NLRI overflow", "800f09 000101 100a01 1e0a00", -EBADMSG, NULL, NULL, NULL},
    {"VPNv4 MP_REACH: located, not decoded",
     "800e1f 000180 0c 0000000000000000c0a80001 00 68 000102 0000000200ff0304 0a01", 0, "", NULL,
     NULL},
};

static void
test_update_mp_frr(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(mp_rows) / sizeof(mp_rows[0]); i++) {
		const struct mp_row *r = &mp_rows[i];
		uint8_t m[512];
		char attrs[512], s[512], a[IP_STRLEN];
		struct bgp_params p = sess(12076, 65001, true);
		struct bgp_update u;
		snprintf(attrs, sizeof(attrs), "%s 40010100 4002060201 0000fde9", r->attr);
		size_t n = mk_update(m, sizeof(m), "", attrs, "");
		uint8_t *c = exact(m, n);
		int rc = bgp_update_decode(&p, c, n, &u);
		if (rc != r->rc)
			fail_msg("MP '%s': rc %d (%s), want %d", r->name, rc, u.why ? u.why : "-",
			         r->rc);
		if (rc) {
			if (u.verdict != BGP_VERDICT_RESET || u.err.code != BGP_ERR_UPDATE ||
			    u.err.subcode != BGP_UPD_OPTIONAL_ATTR)
				fail_msg("MP '%s': %u/%u, want 3/9", r->name, u.err.code,
				         u.err.subcode);
			free(c);
			continue;
		}
		const struct bgp_nlri *nl = u.mp_reach.present ? &u.mp_reach : &u.mp_unreach;
		nlri_str(nl, s, sizeof(s));
		if (strcmp(s, r->prefixes) != 0)
			fail_msg("MP '%s': prefixes '%s', want '%s'", r->name, s, r->prefixes);
		if (r->nh) {
			ip_addr_fmt(&u.mp_nh, a);
			assert_string_equal(a, r->nh);
		}
		if (r->ll) {
			ip_addr_fmt(&u.mp_nh_ll, a);
			assert_string_equal(a, r->ll);
		} else {
			assert_int_equal(u.mp_nh_ll.af, 0);
		}
		free(c);
	}
}

struct as4_row {
	const char *name, *attrs; /* after ORIGIN and NEXT_HOP, 2-octet session */
	const char *path;         /* canonical AS_PATH expected */
	uint32_t aggr;            /* expected AGGREGATOR AS, 0 if none */
	enum bgp_verdict v;
};

/* RFC 6793 4.2.3 on received UPDATEs (an iBGP 2-octet session) */
static const struct as4_row as4_rows[] = {
    {"AS4_PATH replaces the trailing ASes",
     "400208 0203 fde9 5ba0 5ba0 c0110a 0202 fa56ea01 fa56ea02", "0203 0000fde9 fa56ea01 fa56ea02",
     0, BGP_VERDICT_OK},
    {"AS_SET counts one", "40020e 0201 fde9 0102 0001 0002 0201 5ba0 c01106 0201 fa56ea01",
     "0201 0000fde9 0102 00000001 00000002 0201 fa56ea01", 0, BGP_VERDICT_OK},
    {"leading confederation segment kept", "40020a 0301 fde8 0202 fde9 5ba0 c01106 0201 fa56ea01",
     "0301 0000fde8 0202 0000fde9 fa56ea01", 0, BGP_VERDICT_OK},
    {"AS4_PATH longer than AS_PATH: ignored", "400204 0201 5ba0 c0110a 0202 fa56ea01 fa56ea02",
     "0201 00005ba0", 0, BGP_VERDICT_OK},
    {"AGGREGATOR not AS_TRANS: AS4_* ignored",
     "400206 0202 fde9 5ba0 c00706 fde9 c0000209 c0110a 0202 fa56ea01 fa56ea02 c01208 fa56ea02 "
     "c0000209",
     "0202 0000fde9 00005ba0", 65001, BGP_VERDICT_OK},
    {"AGGREGATOR AS_TRANS with AS4_AGGREGATOR",
     "400206 0202 fde9 5ba0 c00706 5ba0 c0000209 c0110a 0202 0000fde9 fa56ea01 c01208 fa56ea02 "
     "c0000209",
     "0202 0000fde9 fa56ea01", 4200000002u, BGP_VERDICT_OK},
    {"AS4_PATH with a confederation segment: discarded",
     "400204 0201 5ba0 c0110c 0301 0000fde8 0201 fa56ea01", "0201 00005ba0", 0,
     BGP_VERDICT_DISCARD},
    {"AS4_PATH with AS 0: discarded", "400204 0201 5ba0 c01106 0201 00000000", "0201 00005ba0", 0,
     BGP_VERDICT_DISCARD},
    {"AS4_AGGREGATOR of 6 bytes: discarded",
     "400204 0201 fde9 c00706 5ba0 c0000209 c01206 fde9 c0000209", "0201 0000fde9", BGP_AS_TRANS,
     BGP_VERDICT_DISCARD},
};

static void
test_update_as4_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(as4_rows) / sizeof(as4_rows[0]); i++) {
		const struct as4_row *r = &as4_rows[i];
		struct bgp_params p = sess(12076, 65001, false);
		uint8_t m[512], canon[512];
		char attrs[512];
		struct bgp_update u;
		p.ebgp = false; /* inside a confederation: confederation segments allowed */
		p.enforce_first_as = false;
		snprintf(attrs, sizeof(attrs), "40010100 400304c0000201 40050400000064 %s",
		         r->attrs);
		size_t n = mk_update(m, sizeof(m), "", attrs, "18c63364");
		if (bgp_update_decode(&p, m, n, &u) != 0 || u.verdict != r->v)
			fail_msg("AS4 '%s': verdict %d (%s), want %d", r->name, u.verdict,
			         u.why ? u.why : "-", r->v);
		assert_int_equal(bgp_attrs_canon(&u.attrs, canon, sizeof(canon)), 0);
		assert_hex(u.attrs.aspath.p, u.attrs.aspath.len, r->path, r->name);
		if (r->aggr)
			assert_int_equal(u.attrs.aggr_as, r->aggr);
	}
}

enum { X_NONE, X_ORIGIN0, X_OTHER1, X_OTHER0, X_EOR4, X_EOR6, X_WHY_MED, X_COMM };

struct upd_row {
	const char *name;
	int sess;
	const char *wd, *attrs, *nlri;
	const char *raw; /* the body after the header, instead of the three parts */
	enum bgp_verdict v;
	uint8_t sub;      /* UPDATE Message Error subcode, for RESET */
	const char *data; /* NOTIFICATION data, for RESET (NULL: not checked) */
	uint8_t absent;   /* attribute that must not survive */
	int extra;
};

static const struct upd_row upd_rows[] = {
    {"well-formed", EB4, "", BASE, PFX, NULL, BGP_VERDICT_OK, 0, NULL, 0, X_NONE},
    /* NLRI that cannot be parsed: reset (RFC 7606 3.g, 5.3) */
    {"NLRI prefix length 33", EB4, "", BASE, "21c0000201ff", NULL, BGP_VERDICT_RESET,
     BGP_UPD_BAD_NETWORK, "", 0, X_NONE},
    {"NLRI prefix runs past the message", EB4, "", BASE, "18c633", NULL, BGP_VERDICT_RESET,
     BGP_UPD_BAD_NETWORK, "", 0, X_NONE},
    {"withdrawn prefix length 33", EB4, "21c000020100", "", "", NULL, BGP_VERDICT_RESET,
     BGP_UPD_BAD_NETWORK, "", 0, X_NONE},
    {"withdrawn length overruns the message", EB4, NULL, NULL, NULL, "0010 0000", BGP_VERDICT_RESET,
     BGP_UPD_MALFORMED_ATTRS, "", 0, X_NONE},
    {"total attribute length overruns the message", EB4, NULL, NULL, NULL, "0000 0010 40010100",
     BGP_VERDICT_RESET, BGP_UPD_MALFORMED_ATTRS, "", 0, X_NONE},
    /* attribute framing (RFC 7606 4): withdraw, unless no NLRI (5.2) */
    {"attribute length past the attributes", EB4, "", BASE "c00808 ffff0001", PFX, NULL,
     BGP_VERDICT_WITHDRAW, 0, NULL, 0, X_NONE},
    {"one byte left after the attributes", EB4, "", BASE "40", PFX, NULL, BGP_VERDICT_WITHDRAW, 0,
     NULL, 0, X_NONE},
    {"extended length cut short", EB4, "", BASE "d008", PFX, NULL, BGP_VERDICT_WITHDRAW, 0, NULL, 0,
     X_NONE},
    {"framing error without NLRI", EB4, PFX, ORIGIN "c008", "", NULL, BGP_VERDICT_RESET,
     BGP_UPD_MALFORMED_ATTRS, "", 0, X_NONE},
    /* MP_REACH / MP_UNREACH: reset (5.3, 7.11) */
    {"MP_REACH next hop length 4 for IPv6", EB4, "",
     ORIGIN ASPATH "800e0e 000201 04 20010db8 00 20 20010db8", "", NULL, BGP_VERDICT_RESET,
     BGP_UPD_OPTIONAL_ATTR, NULL, 0, X_NONE},
    {"MP_REACH next hop past the attribute", EB4, "", ORIGIN ASPATH "800e05 000201 10 00", "", NULL,
     BGP_VERDICT_RESET, BGP_UPD_OPTIONAL_ATTR, NULL, 0, X_NONE},
    {"MP_REACH shorter than 5", EB4, "", ORIGIN ASPATH "800e04 00020110", "", NULL,
     BGP_VERDICT_RESET, BGP_UPD_ATTR_LEN, "800e0400020110", 0, X_NONE},
    {"MP_REACH prefix length 129", EB4, "",
     ORIGIN ASPATH "800e17 000201 10 20010db8000000000000000000000001 00 8120", "", NULL,
     BGP_VERDICT_RESET, BGP_UPD_OPTIONAL_ATTR, NULL, 0, X_NONE},
    {"MP_UNREACH prefix runs past", EB4, "", "800f05 000201 3020", "", NULL, BGP_VERDICT_RESET,
     BGP_UPD_OPTIONAL_ATTR, "800f050002013020", 0, X_NONE},
    {"MP_UNREACH shorter than 3", EB4, "", "800f02 0002", "", NULL, BGP_VERDICT_RESET,
     BGP_UPD_ATTR_LEN, NULL, 0, X_NONE},
    {"MP_REACH twice", EB4, "", ORIGIN ASPATH MP6 MP6, "", NULL, BGP_VERDICT_RESET,
     BGP_UPD_MALFORMED_ATTRS, "", 0, X_NONE},
    {"MP_UNREACH twice", EB4, "", MPU6 MPU6, "", NULL, BGP_VERDICT_RESET, BGP_UPD_MALFORMED_ATTRS,
     "", 0, X_NONE},
    {"MP_REACH flagged transitive", EB4, "",
     ORIGIN ASPATH "c00e1c 000201 10 20010db8000000000000000000000001 00 30 20010db80001", "", NULL,
     BGP_VERDICT_RESET, BGP_UPD_ATTR_FLAGS, NULL, 0, X_NONE},
    /* duplicates (3.g): keep the first */
    {"ORIGIN twice", EB4, "", BASE "40010102", PFX, NULL, BGP_VERDICT_DISCARD, 0, NULL, 0,
     X_ORIGIN0},
    {"COMMUNITIES twice", EB4, "", BASE "c00804ffff0001 c00804ffff0002", PFX, NULL,
     BGP_VERDICT_DISCARD, 0, NULL, 0, X_COMM},
    /* flags (3.c): treat-as-withdraw, also where a bad length or value is discarded */
    {"ORIGIN flagged optional", EB4, "", "c0010100" ASPATH NEXTHOP, PFX, NULL, BGP_VERDICT_WITHDRAW,
     0, NULL, BGP_ATTR_ORIGIN, X_NONE},
    {"MED flagged transitive", EB4, "", BASE "c00404 00000001", PFX, NULL, BGP_VERDICT_WITHDRAW, 0,
     NULL, BGP_ATTR_MED, X_NONE},
    {"ATOMIC_AGGREGATE flagged optional", EB4, "", BASE "c00600", PFX, NULL, BGP_VERDICT_WITHDRAW,
     0, NULL, BGP_ATTR_ATOMIC_AGGREGATE, X_NONE},
    {"AGGREGATOR flagged well-known", EB4, "", BASE "400708 0000fde9 c0000201", PFX, NULL,
     BGP_VERDICT_WITHDRAW, 0, NULL, BGP_ATTR_AGGREGATOR, X_NONE},
    {"COMMUNITIES flagged non-transitive", EB4, "", BASE "800804 ffff0001", PFX, NULL,
     BGP_VERDICT_WITHDRAW, 0, NULL, BGP_ATTR_COMMUNITIES, X_NONE},
    /* missing well-known attributes with NLRI (3.d) */
    {"missing ORIGIN", EB4, "", ASPATH NEXTHOP, PFX, NULL, BGP_VERDICT_WITHDRAW, 0, NULL, 0,
     X_NONE},
    {"missing AS_PATH", EB4, "", ORIGIN NEXTHOP, PFX, NULL, BGP_VERDICT_WITHDRAW, 0, NULL, 0,
     X_NONE},
    {"missing NEXT_HOP", EB4, "", ORIGIN ASPATH, PFX, NULL, BGP_VERDICT_WITHDRAW, 0, NULL, 0,
     X_NONE},
    {"missing LOCAL_PREF from iBGP", IB4, "", ORIGIN IASPATH NEXTHOP, PFX, NULL,
     BGP_VERDICT_WITHDRAW, 0, NULL, 0, X_NONE},
    {"MP_REACH alone needs no NEXT_HOP", EB4, "", ORIGIN ASPATH MP6, "", NULL, BGP_VERDICT_OK, 0,
     NULL, 0, X_NONE},
    {"MP_REACH next hop ::", EB4, "",
     ORIGIN ASPATH "800e1c 000201 10 00000000000000000000000000000000 00 30 20010db80001", "", NULL,
     BGP_VERDICT_WITHDRAW, 0, NULL, 0, X_NONE},
    {"MP_REACH IPv4 next hop 0.0.0.0", EB4, "",
     ORIGIN ASPATH "800e0d 000101 04 00000000 00 18c63364", "", NULL, BGP_VERDICT_WITHDRAW, 0, NULL,
     0, X_NONE},
    {"withdrawals need no attributes", EB4, PFX, "", "", NULL, BGP_VERDICT_OK, 0, NULL, 0, X_NONE},
    /* per attribute (RFC 7606 7) */
    {"ORIGIN length 2", EB4, "", "4001020000" ASPATH NEXTHOP, PFX, NULL, BGP_VERDICT_WITHDRAW, 0,
     NULL, BGP_ATTR_ORIGIN, X_NONE},
    {"ORIGIN value 3", EB4, "", "40010103" ASPATH NEXTHOP, PFX, NULL, BGP_VERDICT_WITHDRAW, 0, NULL,
     BGP_ATTR_ORIGIN, X_NONE},
    {"AS_PATH unknown segment type", EB4, "", ORIGIN "400206 0501 0000fde9" NEXTHOP, PFX, NULL,
     BGP_VERDICT_WITHDRAW, 0, NULL, BGP_ATTR_AS_PATH, X_NONE},
    {"AS_PATH segment overrun", EB4, "", ORIGIN "400206 0202 0000fde9" NEXTHOP, PFX, NULL,
     BGP_VERDICT_WITHDRAW, 0, NULL, BGP_ATTR_AS_PATH, X_NONE},
    {"AS_PATH one byte left", EB4, "", ORIGIN "400207 0201 0000fde9 02" NEXTHOP, PFX, NULL,
     BGP_VERDICT_WITHDRAW, 0, NULL, BGP_ATTR_AS_PATH, X_NONE},
    {"AS_PATH empty segment", EB4, "", ORIGIN "400208 0201 0000fde9 0200" NEXTHOP, PFX, NULL,
     BGP_VERDICT_WITHDRAW, 0, NULL, BGP_ATTR_AS_PATH, X_NONE},
    {"AS_PATH with AS 0 (RFC 7607)", EB4, "", ORIGIN "40020a 0202 0000fde9 00000000" NEXTHOP, PFX,
     NULL, BGP_VERDICT_WITHDRAW, 0, NULL, BGP_ATTR_AS_PATH, X_NONE},
    {"AS_PATH confederation from eBGP", EB4, "",
     ORIGIN "40020c 0301 0000fde8 0201 0000fde9" NEXTHOP, PFX, NULL, BGP_VERDICT_WITHDRAW, 0, NULL,
     BGP_ATTR_AS_PATH, X_NONE},
    {"AS_PATH not starting with the peer's AS", EB4, "", ORIGIN "400206 0201 0000fdea" NEXTHOP, PFX,
     NULL, BGP_VERDICT_WITHDRAW, 0, NULL, 0, X_NONE},
    {"AS_PATH 2-octet on a 2-octet session", EB2, "", BASE2, PFX, NULL, BGP_VERDICT_OK, 0, NULL, 0,
     X_NONE},
    {"AS4_PATH malformed (RFC 6793 6)", EB2, "", BASE2 "c01106 0202 0000fde9", PFX, NULL,
     BGP_VERDICT_DISCARD, 0, NULL, BGP_ATTR_AS4_PATH, X_NONE},
    {"AS4_AGGREGATOR length 6", EB2, "", BASE2 "c01206 fde9 c0000201", PFX, NULL,
     BGP_VERDICT_DISCARD, 0, NULL, 0, X_NONE},
    {"AS4_PATH from a 4-octet peer", EB4, "", BASE "c01106 0201 0000fde9", PFX, NULL,
     BGP_VERDICT_DISCARD, 0, NULL, BGP_ATTR_AS4_PATH, X_NONE},
    {"NEXT_HOP length 5", EB4, "", ORIGIN ASPATH "400305 c000020101", PFX, NULL,
     BGP_VERDICT_WITHDRAW, 0, NULL, BGP_ATTR_NEXT_HOP, X_NONE},
    {"NEXT_HOP 0.0.0.0", EB4, "", ORIGIN ASPATH "400304 00000000", PFX, NULL, BGP_VERDICT_WITHDRAW,
     0, NULL, 0, X_NONE},
    {"NEXT_HOP multicast", EB4, "", ORIGIN ASPATH "400304 e0000001", PFX, NULL,
     BGP_VERDICT_WITHDRAW, 0, NULL, 0, X_NONE},
    {"MED length 3", EB4, "", BASE "800403 000001", PFX, NULL, BGP_VERDICT_WITHDRAW, 0, NULL,
     BGP_ATTR_MED, X_NONE},
    {"LOCAL_PREF from eBGP", EB4, "", BASE LPREF, PFX, NULL, BGP_VERDICT_DISCARD, 0, NULL,
     BGP_ATTR_LOCAL_PREF, X_NONE},
    {"LOCAL_PREF length 3 from iBGP", IB4, "", ORIGIN IASPATH NEXTHOP "400503 000064", PFX, NULL,
     BGP_VERDICT_WITHDRAW, 0, NULL, BGP_ATTR_LOCAL_PREF, X_NONE},
    {"ATOMIC_AGGREGATE length 1", EB4, "", BASE "40060100", PFX, NULL, BGP_VERDICT_DISCARD, 0, NULL,
     BGP_ATTR_ATOMIC_AGGREGATE, X_NONE},
    {"AGGREGATOR length 7", EB4, "", BASE "c00707 0000fde9 c00002", PFX, NULL, BGP_VERDICT_DISCARD,
     0, NULL, BGP_ATTR_AGGREGATOR, X_NONE},
    {"AGGREGATOR length 8 on a 2-octet session", EB2, "", BASE2 "c00708 0000fde9 c0000201", PFX,
     NULL, BGP_VERDICT_DISCARD, 0, NULL, BGP_ATTR_AGGREGATOR, X_NONE},
    {"AGGREGATOR AS 0", EB4, "", BASE "c00708 00000000 c0000201", PFX, NULL, BGP_VERDICT_DISCARD, 0,
     NULL, BGP_ATTR_AGGREGATOR, X_NONE},
    {"COMMUNITIES length 0", EB4, "", BASE "c00800", PFX, NULL, BGP_VERDICT_WITHDRAW, 0, NULL,
     BGP_ATTR_COMMUNITIES, X_NONE},
    {"COMMUNITIES length 5", EB4, "", BASE "c00805 ffff000101", PFX, NULL, BGP_VERDICT_WITHDRAW, 0,
     NULL, BGP_ATTR_COMMUNITIES, X_NONE},
    {"EXTENDED COMMUNITIES length 12", EB4, "", BASE "c0100c 00022f2c00000064 00000000", PFX, NULL,
     BGP_VERDICT_WITHDRAW, 0, NULL, BGP_ATTR_EXT_COMMUNITIES, X_NONE},
    {"LARGE_COMMUNITY length 8", EB4, "", BASE "c02008 00002f2c 00000001", PFX, NULL,
     BGP_VERDICT_WITHDRAW, 0, NULL, BGP_ATTR_LARGE_COMMUNITY, X_NONE},
    {"LARGE_COMMUNITY length 0", EB4, "", BASE "c02000", PFX, NULL, BGP_VERDICT_WITHDRAW, 0, NULL,
     BGP_ATTR_LARGE_COMMUNITY, X_NONE},
    {"ORIGINATOR_ID from eBGP", EB4, "", BASE "800904 c0000201", PFX, NULL, BGP_VERDICT_DISCARD, 0,
     NULL, BGP_ATTR_ORIGINATOR_ID, X_NONE},
    {"ORIGINATOR_ID length 3 from iBGP", IB4, "", IBASE "800903 c00002", PFX, NULL,
     BGP_VERDICT_WITHDRAW, 0, NULL, BGP_ATTR_ORIGINATOR_ID, X_NONE},
    {"CLUSTER_LIST from eBGP", EB4, "", BASE "800a04 c0000201", PFX, NULL, BGP_VERDICT_DISCARD, 0,
     NULL, BGP_ATTR_CLUSTER_LIST, X_NONE},
    {"CLUSTER_LIST length 6 from iBGP", IB4, "", IBASE "800a06 c0000201 0000", PFX, NULL,
     BGP_VERDICT_WITHDRAW, 0, NULL, BGP_ATTR_CLUSTER_LIST, X_NONE},
    {"iBGP keeps ORIGINATOR_ID and CLUSTER_LIST", IB4, "", IBASE "800904 c0000201 800a04 c0000201",
     PFX, NULL, BGP_VERDICT_OK, 0, NULL, 0, X_NONE},
    /* unrecognized attributes (RFC 4271 5) */
    {"unrecognized attribute marked well-known", EB4, "", BASE "406302 abcd", PFX, NULL,
     BGP_VERDICT_WITHDRAW, 0, NULL, 0, X_NONE},
    {"unrecognized optional transitive: kept", EB4, "", BASE "c06302 abcd", PFX, NULL,
     BGP_VERDICT_OK, 0, NULL, 0, X_OTHER1},
    {"unrecognized optional non-transitive: ignored", EB4, "", BASE "806302 abcd", PFX, NULL,
     BGP_VERDICT_OK, 0, NULL, 0, X_OTHER0},
    {"extended length on a short attribute", EB4, "", BASE "d0080004 ffff0001", PFX, NULL,
     BGP_VERDICT_OK, 0, NULL, 0, X_COMM},
    /* no reachable NLRI: anything past a discard resets (RFC 7606 5.2) */
    {"withdrawal with a malformed ORIGIN", EB4, PFX, "40010103", "", NULL, BGP_VERDICT_RESET,
     BGP_UPD_BAD_ORIGIN, "40010103", 0, X_NONE},
    {"MP_UNREACH with a malformed MED", EB4, "", MPU6 "800403 000001", "", NULL, BGP_VERDICT_RESET,
     BGP_UPD_ATTR_LEN, "800403000001", 0, X_NONE},
    {"withdrawal with a discarded attribute", EB4, PFX, "40060100", "", NULL, BGP_VERDICT_DISCARD,
     0, NULL, 0, X_NONE},
    /* the strongest action wins (3.f) */
    {"discard and withdraw: withdraw", EB4, "", BASE "40060100 800403 000001", PFX, NULL,
     BGP_VERDICT_WITHDRAW, 0, NULL, 0, X_WHY_MED},
    /* End-of-RIB (RFC 4724 2) */
    {"End-of-RIB IPv4", EB4, NULL, NULL, NULL, "0000 0000", BGP_VERDICT_OK, 0, NULL, 0, X_EOR4},
    {"End-of-RIB IPv6", EB4, "", MPU6, "", NULL, BGP_VERDICT_OK, 0, NULL, 0, X_EOR6},
    /* the shapes of public CVEs (bgp-anchors.md 2.6) */
    {"CVE-2023-46753: NLRI with only an unknown attribute", EB4, "", "c06302 abcd", PFX, NULL,
     BGP_VERDICT_WITHDRAW, 0, NULL, 0, X_NONE},
    {"CVE-2023-47234: MP_UNREACH + NLRI, no mandatory attribute", EB4, "", MPU6, PFX, NULL,
     BGP_VERDICT_WITHDRAW, 0, NULL, 0, X_NONE},
    {"CVE-2023-38802: malformed known optional transitive", EB4, "", BASE "c01007 0002fde9000000",
     PFX, NULL, BGP_VERDICT_WITHDRAW, 0, NULL, 0, X_NONE},
    {"IPv4 NLRI in MP_REACH", EB4, "", ORIGIN ASPATH "800e0d 000101 04 c0000201 00 18c63364", "",
     NULL, BGP_VERDICT_OK, 0, NULL, 0, X_NONE},
    {"MP_REACH of a family not negotiated: skipped", EB4, "",
     ORIGIN ASPATH "800e07 001946 00 00 0102", "", NULL, BGP_VERDICT_OK, 0, NULL, 0, X_NONE},
};

static struct bgp_params
row_sess(int kind)
{
	if (kind == IB4)
		return sess(65000, 65000, true);
	return sess(12076, 65001, kind == EB4);
}

static void
row_extra(const struct upd_row *r, const struct bgp_update *u)
{
	switch (r->extra) {
	case X_ORIGIN0:
		assert_int_equal(u->attrs.origin, 0);
		break;
	case X_OTHER1:
		assert_int_equal(u->attrs.n_other, 1);
		assert_int_equal(u->attrs.other[0].type, 0x63);
		break;
	case X_OTHER0:
		assert_int_equal(u->attrs.n_other, 0);
		break;
	case X_EOR4:
		assert_true(u->eor);
		assert_int_equal(u->eor_afi, 1);
		break;
	case X_EOR6:
		assert_true(u->eor);
		assert_int_equal(u->eor_afi, 2);
		break;
	case X_WHY_MED:
		assert_int_equal(u->why_attr, BGP_ATTR_MED);
		break;
	case X_COMM:
		assert_hex(u->attrs.communities.p, u->attrs.communities.len, "ffff0001", r->name);
		break;
	}
	if (r->extra != X_EOR4 && r->extra != X_EOR6)
		assert_false(u->eor);
}

static void
test_rfc7606_matrix(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(upd_rows) / sizeof(upd_rows[0]); i++) {
		const struct upd_row *r = &upd_rows[i];
		struct bgp_params p = row_sess(r->sess);
		uint8_t m[1024];
		size_t n = r->raw ? mk_msg(m, sizeof(m), BGP_UPDATE, r->raw)
		                  : mk_update(m, sizeof(m), r->wd, r->attrs, r->nlri);
		uint8_t *c = exact(m, n);
		struct bgp_update u;
		int rc = bgp_update_decode(&p, c, n, &u);

		if (u.verdict != r->v || rc != (r->v == BGP_VERDICT_RESET ? -EBADMSG : 0))
			fail_msg("RFC 7606 '%s': verdict %d rc %d (%s), want verdict %d", r->name,
			         u.verdict, rc, u.why ? u.why : "-", r->v);
		if (r->v != BGP_VERDICT_OK && !u.why)
			fail_msg("RFC 7606 '%s': no reason given", r->name);
		if (r->v == BGP_VERDICT_RESET &&
		    (u.err.code != BGP_ERR_UPDATE || u.err.subcode != r->sub))
			fail_msg("RFC 7606 '%s': NOTIFICATION %u/%u, want 3/%u", r->name,
			         u.err.code, u.err.subcode, r->sub);
		if (r->v == BGP_VERDICT_RESET && r->data)
			assert_hex(bgp_err_data(&u.err), u.err.len, r->data, r->name);
		if (r->absent && (u.attrs.has & BGP_HAS(r->absent)))
			fail_msg("RFC 7606 '%s': attribute %u survived", r->name, r->absent);
		row_extra(r, &u);
		if (getenv("BGP_TEST_VERBOSE"))
			print_message("# %-55s %d %s/%s\n", r->name, u.verdict,
			              u.why_attr ? bgp_attr_name(u.why_attr) : "-",
			              u.why ? u.why : "-");
		free(c);
	}
}

/* RFC 4271 6.3: a reset for a missing attribute names its type code. */
static void
test_missing_data(void **state)
{
	struct bgp_params p = sess(12076, 65001, true);
	uint8_t m[256];
	struct bgp_update u;
	(void)state;
	/* MP_UNREACH only + ORIGIN flagged wrong: escalates with ORIGIN's data */
	size_t n = mk_update(m, sizeof(m), PFX, "c0010100", "");
	assert_int_equal(bgp_update_decode(&p, m, n, &u), -EBADMSG);
	assert_int_equal(u.err.subcode, BGP_UPD_ATTR_FLAGS);
	assert_hex(bgp_err_data(&u.err), u.err.len, "c0010100", "flags error data");
	/* the verdict for a withdraw carries the type code for the log */
	n = mk_update(m, sizeof(m), "", ASPATH NEXTHOP, PFX);
	assert_int_equal(bgp_update_decode(&p, m, n, &u), 0);
	assert_int_equal(u.verdict, BGP_VERDICT_WITHDRAW);
	assert_int_equal(u.err.subcode, BGP_UPD_MISSING_WK);
	assert_hex(bgp_err_data(&u.err), u.err.len, "01", "missing ORIGIN data");
	assert_string_equal(bgp_attr_name(u.why_attr), "ORIGIN");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc7606_matrix),
	    cmocka_unit_test(test_missing_data),
	    cmocka_unit_test(test_update_mp_frr),
	    cmocka_unit_test(test_update_as4_decode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
