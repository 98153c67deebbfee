/*
 * test_bgp_pe.c - the provider edge's policy (bgp_pe.c): which customer ASNs may peer, the
 * prefix limits, what Microsoft peering refuses, how received paths and communities are
 * rewritten, and the routes the edge advertises, checked on the wire through the codec
 * (encoded into an UPDATE, decoded back).
 */
#include "testutil.h"

#include "bgp/bgp_cur.h"
#include "bgp/bgp_pe.h"
#include "bgp/bgp_wire.h"

#include <string.h>

static const struct bgp_pe_cfg priv = {.peering = BGP_PE_PRIVATE};
static const struct bgp_pe_cfg priv_premium = {.peering = BGP_PE_PRIVATE, .premium = true};
static const struct bgp_pe_cfg msft = {.peering = BGP_PE_MICROSOFT};

static struct ip_prefix
pfx(const char *s)
{
	struct ip_prefix p;
	assert_int_equal(ip_prefix_parse(s, &p), 0);
	return p;
}

/* A canonical attribute set with the 4-octet AS path given (AS_SEQUENCE). */
static struct bgp_attrs
path_of(uint8_t *buf, const uint32_t *as, size_t n)
{
	struct bgp_attrs a = {0};
	buf[0] = BGP_AS_SEQUENCE;
	buf[1] = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		uint8_t *q = buf + 2 + 4 * i;
		q[0] = (uint8_t)(as[i] >> 24), q[1] = (uint8_t)(as[i] >> 16);
		q[2] = (uint8_t)(as[i] >> 8), q[3] = (uint8_t)as[i];
	}
	a.has = BGP_HAS(BGP_ATTR_ORIGIN) | BGP_HAS(BGP_ATTR_AS_PATH);
	a.aspath_wide = true;
	a.aspath = (struct bgp_span){buf, (uint16_t)(2 + 4 * n)};
	return a;
}

static size_t
path_as(const struct bgp_attrs *a, uint32_t *out, size_t cap)
{
	struct bgp_aspath_it it;
	bgp_aspath_iter(&it, &a->aspath, a->aspath_wide);
	uint8_t seg;
	uint32_t as;
	size_t n = 0;
	while (bgp_aspath_next(&it, &seg, &as) && n < cap)
		out[n++] = as;
	return n;
}

static void
t_open(void **state)
{
	(void)state;
	const char *why;
	assert_int_equal(bgp_pe_open_check(&priv, 65001, 0, &why), 0);
	assert_int_equal(bgp_pe_open_check(&priv, 4200000001u, 0, &why), 0); /* private: ok */
	assert_int_equal(bgp_pe_open_check(&priv, 131072, 131072, &why), 0); /* 4-octet */
	static const uint32_t bad[] = {0, 23456, 65535, 4294967295u, 12076, 65515, 65517, 65520};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(bgp_pe_open_check(&priv, bad[i], 0, &why), -EPERM);
		assert_non_null(why);
	}
	assert_int_equal(bgp_pe_open_check(&priv, 65002, 65001, &why), -EPERM);
	assert_non_null(strstr(why, "customer ASN"));
	/* Microsoft peering: documentation and (unvalidated) private ASNs too */
	assert_int_equal(bgp_pe_open_check(&msft, 8075, 0, &why), 0);
	assert_int_equal(bgp_pe_open_check(&msft, 64500, 0, &why), -EPERM);
	assert_int_equal(bgp_pe_open_check(&msft, 65001, 0, &why), -EPERM);
	struct bgp_pe_cfg approved = msft;
	approved.private_asn_approved = true;
	assert_int_equal(bgp_pe_open_check(&approved, 65001, 0, &why), 0);
	assert_int_equal(bgp_pe_open_check(&priv, 64500, 0, &why), 0);
}

static void
t_limits(void **state)
{
	(void)state;
	assert_int_equal(bgp_pe_max_prefixes(&priv, IP_V4), 4000);
	assert_int_equal(bgp_pe_max_prefixes(&priv_premium, IP_V4), 10000);
	assert_int_equal(bgp_pe_max_prefixes(&priv, IP_V6), 100);
	assert_int_equal(bgp_pe_max_prefixes(&priv_premium, IP_V6), 100);
	assert_int_equal(bgp_pe_max_prefixes(&msft, IP_V4), 200);
	assert_int_equal(bgp_pe_max_prefixes(&msft, IP_V6), 200);
}

static void
t_accept(void **state)
{
	(void)state;
	uint8_t buf[64];
	static const uint32_t cust[] = {65001};
	struct bgp_attrs a = path_of(buf, cust, 1);
	const char *why;
	struct ip_prefix dflt = pfx("0.0.0.0/0"), r1918 = pfx("10.20.0.0/16"),
	                 pub = pfx("198.41.0.0/24"), v6pub = pfx("2a01:111::/48"),
	                 ula = pfx("fd00:1::/48"), inside = pfx("172.20.0.0/24");
	assert_true(bgp_pe_accept(&priv, &dflt, &a, &why)); /* private peering: default ok */
	assert_true(bgp_pe_accept(&priv, &r1918, &a, &why));
	assert_false(bgp_pe_accept(&msft, &dflt, &a, &why));
	assert_non_null(strstr(why, "default route"));
	assert_false(bgp_pe_accept(&msft, &r1918, &a, &why));
	assert_false(bgp_pe_accept(&msft, &inside, &a, &why)); /* inside 172.16/12 */
	assert_false(bgp_pe_accept(&msft, &ula, &a, &why));
	assert_true(bgp_pe_accept(&msft, &pub, &a, &why));
	assert_true(bgp_pe_accept(&msft, &v6pub, &a, &why));
	static const uint32_t doc[] = {8075, 64500};
	struct bgp_attrs d = path_of(buf, doc, 2);
	assert_false(bgp_pe_accept(&msft, &pub, &d, &why));
	assert_non_null(strstr(why, "64496-64511"));
	assert_true(bgp_pe_accept(&priv, &pub, &d, &why));
	/* our own routes sent back (65001 12076 65515): a loop, on both peerings */
	static const uint32_t loop[] = {65001, 12076, 65515};
	struct bgp_attrs l = path_of(buf, loop, 3);
	assert_false(bgp_pe_accept(&priv, &r1918, &l, &why));
	assert_non_null(strstr(why, "loop"));
	assert_false(bgp_pe_accept(&msft, &pub, &l, &why));
}

static void
t_rewrite(void **state)
{
	(void)state;
	uint8_t buf[64], out[64], comm[8] = {0x2f, 0x2c, 0x00, 0x64, 0xff, 0xff, 0xff, 0x01};
	static const uint32_t mixed[] = {8075, 65010, 3356};
	struct bgp_attrs a = path_of(buf, mixed, 3);
	a.has |= BGP_HAS(BGP_ATTR_COMMUNITIES);
	a.communities = (struct bgp_span){comm, sizeof(comm)};
	uint32_t got[8];
	/* private peering: communities dropped, the path as it was */
	struct bgp_attrs p = a;
	assert_int_equal(bgp_pe_rewrite_in(&priv, &p, out, sizeof(out)), 0);
	assert_false(p.has & BGP_HAS(BGP_ATTR_COMMUNITIES));
	assert_int_equal(p.communities.len, 0);
	assert_int_equal(path_as(&p, got, 8), 3);
	/* Microsoft peering, Cisco's rule: a mixed path keeps its private AS */
	struct bgp_attrs m = a;
	assert_int_equal(bgp_pe_rewrite_in(&msft, &m, out, sizeof(out)), 0);
	assert_int_equal(path_as(&m, got, 8), 3);
	/* ... the strict knob strips it wherever it stands */
	struct bgp_pe_cfg strict = msft;
	strict.strip = BGP_PE_STRIP_EVERY_PRIVATE;
	m = a;
	assert_int_equal(bgp_pe_rewrite_in(&strict, &m, out, sizeof(out)), 0);
	assert_int_equal(path_as(&m, got, 8), 2);
	assert_int_equal(got[0], 8075);
	assert_int_equal(got[1], 3356);
	assert_int_equal(m.aspath.len, 2 + 8);
	/* an all-private path vanishes under either rule */
	static const uint32_t allpriv[] = {65010, 4200000000u};
	struct bgp_attrs q = path_of(buf, allpriv, 2);
	assert_int_equal(bgp_pe_rewrite_in(&msft, &q, out, sizeof(out)), 0);
	assert_int_equal(path_as(&q, got, 8), 0);
	/* only canonical (4-octet) sets */
	struct bgp_attrs narrow = a;
	narrow.aspath_wide = false;
	assert_int_equal(bgp_pe_rewrite_in(&msft, &narrow, out, sizeof(out)), -EINVAL);
}

/* The advertised set through the real encoder and decoder. */
static void
roundtrip(const struct bgp_attrs *a, const char *prefix, struct bgp_update *u, uint8_t *msg,
          size_t cap)
{
	struct bgp_params par;
	bgp_params_default(&par, BGP_PE_AS, 65001);
	struct bgp_wr w = bgp_wr_make(msg, cap);
	struct ip_prefix p = pfx(prefix);
	size_t done = 0;
	assert_int_equal(bgp_update_pack(&w, &par, a, &p, NULL, 1, &done), 0);
	assert_int_equal(done, 1);
	struct bgp_params rx;
	bgp_params_default(&rx, 65001, BGP_PE_AS);
	assert_int_equal(bgp_update_decode(&rx, msg, w.len, u), 0);
	assert_int_equal(u->verdict, BGP_VERDICT_OK);
}

static void
t_out(void **state)
{
	(void)state;
	uint8_t buf[BGP_PE_OUT_ROOM], msg[4096];
	struct bgp_pe_out o = {.via_gateway = true, .region_xx = bgp_pe_region_xx("eastasia")};
	assert_int_equal(ip_addr_parse("192.168.100.130", &o.nexthop), 0);
	struct bgp_attrs a;
	assert_int_equal(bgp_pe_attrs_out(&priv, &o, &a, buf, sizeof(buf)), 0);
	struct bgp_update u;
	roundtrip(&a, "10.1.0.0/16", &u, msg, sizeof(msg));
	uint32_t got[8];
	assert_int_equal(path_as(&u.attrs, got, 8), 2);
	assert_int_equal(got[0], 12076);
	assert_int_equal(got[1], 65515);
	assert_int_equal(u.attrs.origin, BGP_ORIGIN_IGP);
	assert_int_equal(u.attrs.nexthop.b[3], 130);
	/* one community: 12076:50010 (East Asia, private peering) */
	assert_int_equal(u.attrs.communities.len, 4);
	const uint8_t *c = u.attrs.communities.p;
	assert_int_equal((c[0] << 8) | c[1], 12076);
	assert_int_equal((c[2] << 8) | c[3], 50010);

	/* Microsoft peering, Southeast Asia, two prepends (the ASPathPrepend test), an extra
	 * service community: 12076 12076 12076, 12076:51011 and 12076:5010 */
	o = (struct bgp_pe_out){.prepend = 2,
	                        .region_xx = bgp_pe_region_xx("southeastasia"),
	                        .extra = {12076u << 16 | 5010}};
	assert_int_equal(ip_addr_parse("203.0.113.2", &o.nexthop), 0);
	assert_int_equal(bgp_pe_attrs_out(&msft, &o, &a, buf, sizeof(buf)), 0);
	roundtrip(&a, "13.107.6.0/24", &u, msg, sizeof(msg));
	assert_int_equal(path_as(&u.attrs, got, 8), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(got[i], 12076);
	assert_int_equal(u.attrs.communities.len, 8);
	c = u.attrs.communities.p;
	assert_int_equal((c[2] << 8) | c[3], 51011);
	assert_int_equal((c[6] << 8) | c[7], 5010);
	/* no region, no community at all */
	o = (struct bgp_pe_out){.region_xx = -1};
	assert_int_equal(ip_addr_parse("192.168.100.130", &o.nexthop), 0);
	assert_int_equal(bgp_pe_attrs_out(&priv, &o, &a, buf, sizeof(buf)), 0);
	assert_false(a.has & BGP_HAS(BGP_ATTR_COMMUNITIES));
	/* bad input */
	o.nexthop.af = 0;
	assert_int_equal(bgp_pe_attrs_out(&priv, &o, &a, buf, sizeof(buf)), -EINVAL);
	o = (struct bgp_pe_out){.prepend = 300, .region_xx = -1};
	assert_int_equal(ip_addr_parse("192.168.100.130", &o.nexthop), 0);
	assert_int_equal(bgp_pe_attrs_out(&priv, &o, &a, buf, sizeof(buf)), -EINVAL);
}

static void
t_tables(void **state)
{
	(void)state;
	assert_int_equal(bgp_pe_region_xx("westeurope"), 2);
	assert_int_equal(bgp_pe_region_xx("eastasia"), 10);
	assert_int_equal(bgp_pe_region_xx("southeastasia"), 11);
	assert_int_equal(bgp_pe_region_xx("australiaeast"), 15);
	assert_int_equal(bgp_pe_region_xx("norwaywest"), 43);
	assert_int_equal(bgp_pe_region_xx("atlantis"), -1);
	assert_true(bgp_pe_md5_key_ok("s3cretKey"));
	assert_true(bgp_pe_md5_key_ok("abcdefghijklmnopqrstuvwxy"));   /* 25 */
	assert_false(bgp_pe_md5_key_ok("abcdefghijklmnopqrstuvwxyz")); /* 26 */
	assert_false(bgp_pe_md5_key_ok(""));
	assert_false(bgp_pe_md5_key_ok("with-dash"));
	assert_false(bgp_pe_md5_key_ok("sp ace"));
	assert_true(bgp_pe_asn_private(64512));
	assert_true(bgp_pe_asn_private(65534));
	assert_false(bgp_pe_asn_private(65535));
	assert_true(bgp_pe_asn_private(4294967294u));
	assert_false(bgp_pe_asn_private(4294967295u));
	assert_false(bgp_pe_asn_private(12076));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_open),    cmocka_unit_test(t_limits), cmocka_unit_test(t_accept),
	    cmocka_unit_test(t_rewrite), cmocka_unit_test(t_out),    cmocka_unit_test(t_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
