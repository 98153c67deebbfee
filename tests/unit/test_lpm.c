/*
 * test_lpm.c - the longest-prefix-match table: edge cases by hand (empty
 * table, default route, host routes, nesting, IPv6, deletion, duplicates,
 * bad input, iteration order), then randomized cross-checks against the
 * reference binary trie (itself checked against a linear scan): a 100k-prefix
 * build with 1M lookups, and long runs of incremental inserts and deletes
 * that cross every resize threshold and force garbage rebuilds. Seeds are
 * fixed, so a failure reproduces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ip/lpm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static struct ip_prefix
P(const char *s) {
	struct ip_prefix p;
	assert_int_equal(ip_prefix_parse(s, &p), 0);
	return p;
}

static struct ip_addr
A(const char *s) {
	struct ip_addr a;
	assert_int_equal(ip_addr_parse(s, &a), 0);
	return a;
}

static uint32_t
L(const struct lpm *t, const char *addr)
{
	struct ip_addr a = A(addr);
	return lpm_lookup(t, &a);
}

static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static struct ip_addr
addr4(uint32_t x)
{
	struct ip_addr a = {.af = IP_V4};
	a.b[0] = (uint8_t)(x >> 24);
	a.b[1] = (uint8_t)(x >> 16);
	a.b[2] = (uint8_t)(x >> 8);
	a.b[3] = (uint8_t)x;
	return a;
}

static void
test_empty(void **state)
{
	struct lpm t;
	lpm_init(&t);
	assert_int_equal(L(&t, "10.1.2.3"), LPM_NONE);
	assert_int_equal(L(&t, "0.0.0.0"), LPM_NONE);
	assert_int_equal(L(&t, "255.255.255.255"), LPM_NONE);
	assert_int_equal(L(&t, "2001:db8::1"), LPM_NONE);
	assert_int_equal(lpm_lookup4(&t, 0x0a000001), LPM_NONE);
	struct ip_prefix p = P("10.0.0.0/8");
	assert_int_equal(lpm_get(&t, &p), LPM_NONE);
	assert_int_equal(lpm_delete(&t, &p), -ENOENT);
	assert_int_equal(lpm_count(&t), 0);
	struct lpm_iter it;
	struct lpm_route r;
	lpm_iter_init(&it, &t);
	assert_false(lpm_iter_next(&it, &r));
	struct ip_addr a = A("10.1.2.3");
	assert_false(lpm_match(&t, &a, &r));
	assert_int_equal(lpm_build(&t, NULL, 0), 0);
	assert_int_equal(L(&t, "10.1.2.3"), LPM_NONE);
	struct lpm_stats st;
	lpm_stats(&t, &st);
	assert_int_equal(st.n4 + st.n6, 0);
	assert_int_equal(st.fib_bytes, 0);
	lpm_free(&t);
}

static void
test_default_route(void **state)
{
	struct lpm t;
	lpm_init(&t);
	struct lpm_route r[] = {{P("0.0.0.0/0"), 7}, {P("10.0.0.0/8"), 8}};
	assert_int_equal(lpm_build(&t, r, 2), 0);
	assert_int_equal(L(&t, "0.0.0.0"), 7);
	assert_int_equal(L(&t, "9.255.255.255"), 7);
	assert_int_equal(L(&t, "10.0.0.0"), 8);
	assert_int_equal(L(&t, "10.255.255.255"), 8);
	assert_int_equal(L(&t, "11.0.0.0"), 7);
	assert_int_equal(L(&t, "255.255.255.255"), 7);
	assert_int_equal(L(&t, "::1"), LPM_NONE); /* the v4 default says nothing of v6 */
	struct ip_prefix d6 = P("::/0");
	assert_int_equal(lpm_insert(&t, &d6, 9), 0);
	assert_int_equal(L(&t, "::1"), 9);
	assert_int_equal(L(&t, "ffff::1"), 9);
	struct ip_prefix d4 = P("0.0.0.0/0");
	assert_int_equal(lpm_delete(&t, &d4), 0);
	assert_int_equal(L(&t, "11.0.0.0"), LPM_NONE);
	assert_int_equal(L(&t, "10.9.9.9"), 8);
	assert_int_equal(L(&t, "::1"), 9);
	lpm_free(&t);
}

static void
test_host_routes(void **state)
{
	struct lpm t;
	lpm_init(&t);
	struct lpm_route r[] = {
	    {P("192.168.1.1/32"), 1},     {P("192.168.1.2/32"), 2}, {P("192.168.1.0/31"), 3},
	    {P("255.255.255.255/32"), 4}, {P("0.0.0.0/32"), 5},     {P("2001:db8::1/128"), 6},
	    {P("2001:db8::/127"), 7},
	};
	assert_int_equal(lpm_build(&t, r, LEN(r)), 0);
	assert_int_equal(L(&t, "192.168.1.0"), 3);
	assert_int_equal(L(&t, "192.168.1.1"), 1);
	assert_int_equal(L(&t, "192.168.1.2"), 2);
	assert_int_equal(L(&t, "192.168.1.3"), LPM_NONE);
	assert_int_equal(L(&t, "255.255.255.255"), 4);
	assert_int_equal(L(&t, "255.255.255.254"), LPM_NONE);
	assert_int_equal(L(&t, "0.0.0.0"), 5);
	assert_int_equal(L(&t, "0.0.0.1"), LPM_NONE);
	assert_int_equal(L(&t, "2001:db8::1"), 6);
	assert_int_equal(L(&t, "2001:db8::"), 7);
	assert_int_equal(L(&t, "2001:db8::2"), LPM_NONE);
	struct ip_prefix h = P("192.168.1.1/32");
	assert_int_equal(lpm_get(&t, &h), 1);
	assert_int_equal(lpm_count(&t), LEN(r));
	lpm_free(&t);
}

static void
test_nested(void **state)
{
	struct lpm t;
	lpm_init(&t);
	struct lpm_route r[] = {
	    {P("10.1.2.129/32"), 5}, {P("10.0.0.0/8"), 1},   {P("10.1.2.128/25"), 4},
	    {P("10.1.0.0/16"), 2},   {P("10.1.2.0/24"), 3},  {P("10.1.2.0/23"), 6},
	    {P("10.1.3.0/24"), 7},   {P("10.128.0.0/9"), 8},
	};
	assert_int_equal(lpm_build(&t, r, LEN(r)), 0);
	assert_int_equal(L(&t, "10.0.0.1"), 1);
	assert_int_equal(L(&t, "10.1.0.1"), 2);
	assert_int_equal(L(&t, "10.1.2.1"), 3);
	assert_int_equal(L(&t, "10.1.2.128"), 4);
	assert_int_equal(L(&t, "10.1.2.129"), 5);
	assert_int_equal(L(&t, "10.1.2.130"), 4);
	assert_int_equal(L(&t, "10.1.3.1"), 7);
	assert_int_equal(L(&t, "10.1.4.1"), 2);
	assert_int_equal(L(&t, "10.200.0.0"), 8);
	assert_int_equal(L(&t, "11.0.0.0"), LPM_NONE);
	/* lpm_match names the prefix that matched */
	struct ip_addr a = A("10.1.2.200");
	struct lpm_route m;
	char buf[IP_STRLEN];
	assert_true(lpm_match(&t, &a, &m));
	assert_string_equal(ip_prefix_fmt(&m.p, buf), "10.1.2.128/25");
	assert_int_equal(m.val, 4);
	a = A("10.1.9.9");
	assert_true(lpm_match(&t, &a, &m));
	assert_string_equal(ip_prefix_fmt(&m.p, buf), "10.1.0.0/16");
	/* an update in the middle of the nest, then its removal */
	struct ip_prefix q = P("10.1.2.0/26");
	assert_int_equal(lpm_insert(&t, &q, 9), 0);
	assert_int_equal(L(&t, "10.1.2.1"), 9);
	assert_int_equal(L(&t, "10.1.2.64"), 3);
	assert_int_equal(lpm_insert(&t, &q, 10), 1);
	assert_int_equal(L(&t, "10.1.2.1"), 10);
	assert_int_equal(lpm_delete(&t, &q), 0);
	assert_int_equal(L(&t, "10.1.2.1"), 3);
	/* a more specific with its parent's value changes no lookup */
	assert_int_equal(lpm_insert(&t, &q, 3), 0);
	assert_int_equal(L(&t, "10.1.2.1"), 3);
	assert_int_equal(lpm_get(&t, &q), 3);
	assert_int_equal(lpm_count(&t), LEN(r) + 1);
	assert_int_equal(lpm_delete(&t, &q), 0);
	assert_int_equal(L(&t, "10.1.2.1"), 3);
	struct ip_addr none = {.af = 0};
	assert_int_equal(lpm_lookup(&t, &none), LPM_NONE);
	assert_false(lpm_match(&t, &none, NULL));
	lpm_free(&t);
}

static void
test_ipv6(void **state)
{
	struct lpm t;
	lpm_init(&t);
	struct lpm_route r[] = {
	    {P("2001:db8::/32"), 1},
	    {P("2001:db8:1::/48"), 2},
	    {P("2001:db8:1:2::/64"), 3},
	    {P("2001:db8:1:2:8000::/65"), 4},
	    {P("2001:db8:1:2:abcd::/80"), 5},
	    {P("::1/128"), 6},
	    {P("fe80::/10"), 7},
	    {P("2001:db8:1:2:abcd:ef01:2345:6780/124"), 8},
	    {P("10.0.0.0/8"), 9},
	};
	assert_int_equal(lpm_build(&t, r, LEN(r)), 0);
	assert_int_equal(L(&t, "2001:db8:ffff::1"), 1);
	assert_int_equal(L(&t, "2001:db8:1:ffff::1"), 2);
	assert_int_equal(L(&t, "2001:db8:1:2::1"), 3);
	assert_int_equal(L(&t, "2001:db8:1:2:8000::1"), 4);
	assert_int_equal(L(&t, "2001:db8:1:2:abcd::1"), 5);
	assert_int_equal(L(&t, "2001:db8:1:2:abcd:ef01:2345:678f"), 8);
	assert_int_equal(L(&t, "2001:db8:1:2:abcd:ef01:2345:6790"), 5);
	assert_int_equal(L(&t, "::1"), 6);
	assert_int_equal(L(&t, "::2"), LPM_NONE);
	assert_int_equal(L(&t, "febf::1"), 7);
	assert_int_equal(L(&t, "fec0::1"), LPM_NONE);
	assert_int_equal(L(&t, "2001:db9::"), LPM_NONE);
	assert_int_equal(L(&t, "10.0.0.1"), 9); /* v4 and v6 are separate families */
	assert_int_equal(L(&t, "::a00:1"), LPM_NONE);
	struct ip_prefix q = P("2001:db8:1:2:8000::/65");
	assert_int_equal(lpm_delete(&t, &q), 0);
	assert_int_equal(L(&t, "2001:db8:1:2:8000::1"), 3);
	struct ip_addr a = A("2001:db8:1:2:abcd:ef01:2345:6781");
	struct lpm_route m;
	char buf[IP_STRLEN];
	assert_true(lpm_match(&t, &a, &m));
	assert_string_equal(ip_prefix_fmt(&m.p, buf), "2001:db8:1:2:abcd:ef01:2345:6780/124");
	lpm_free(&t);
}

static void
test_delete(void **state)
{
	struct lpm t;
	lpm_init(&t);
	struct lpm_route r[] = {
	    {P("0.0.0.0/0"), 0},   {P("10.0.0.0/8"), 1},  {P("10.1.0.0/16"), 2},
	    {P("10.1.2.0/24"), 3}, {P("10.1.2.3/32"), 4}, {P("172.16.0.0/12"), 5},
	    {P("fd00::/8"), 6},    {P("fd00:1::/32"), 7},
	};
	assert_int_equal(lpm_build(&t, r, LEN(r)), 0);
	struct ip_prefix p = P("10.1.2.0/24");
	assert_int_equal(lpm_delete(&t, &p), 0);
	assert_int_equal(lpm_delete(&t, &p), -ENOENT);
	assert_int_equal(lpm_get(&t, &p), LPM_NONE);
	assert_int_equal(L(&t, "10.1.2.1"), 2);
	assert_int_equal(L(&t, "10.1.2.3"), 4);
	p = P("10.0.0.0/8");
	assert_int_equal(lpm_delete(&t, &p), 0);
	assert_int_equal(L(&t, "10.2.0.0"), 0);
	assert_int_equal(L(&t, "10.1.0.0"), 2);
	p = P("10.0.0.0/15"); /* never inserted */
	assert_int_equal(lpm_delete(&t, &p), -ENOENT);
	assert_int_equal(lpm_count(&t), 6);
	for (size_t i = 0; i < LEN(r); i++)
		lpm_delete(&t, &r[i].p);
	assert_int_equal(lpm_count(&t), 0);
	assert_int_equal(L(&t, "10.1.2.3"), LPM_NONE);
	assert_int_equal(L(&t, "172.16.0.1"), LPM_NONE);
	assert_int_equal(L(&t, "fd00:1::1"), LPM_NONE);
	struct lpm_iter it;
	struct lpm_route x;
	lpm_iter_init(&it, &t);
	assert_false(lpm_iter_next(&it, &x));
	/* and the table works again after being emptied */
	p = P("10.1.2.0/24");
	assert_int_equal(lpm_insert(&t, &p, 11), 0);
	assert_int_equal(L(&t, "10.1.2.3"), 11);
	lpm_free(&t);
}

static void
test_duplicates_and_errors(void **state)
{
	struct lpm t;
	lpm_init(&t);
	struct ip_prefix odd = {.a = A("10.1.2.3"), .len = 16}; /* host bits set: ignored */
	struct lpm_route r[] = {
	    {P("10.1.0.0/16"), 1}, {P("10.2.0.0/16"), 2}, {P("10.1.0.0/16"), 3}, {odd, 4},
	    {P("fd00::/8"), 5},    {P("fd00::/8"), 6},
	};
	assert_int_equal(lpm_build(&t, r, LEN(r)), 0);
	assert_int_equal(lpm_count(&t), 3);
	assert_int_equal(L(&t, "10.1.9.9"), 4); /* the last of three wins */
	assert_int_equal(L(&t, "fd00::1"), 6);
	struct ip_prefix p = P("10.1.0.0/16");
	assert_int_equal(lpm_get(&t, &p), 4);
	assert_int_equal(lpm_insert(&t, &p, 4), 1); /* same value: nothing to do */
	assert_int_equal(lpm_insert(&t, &p, 5), 1);
	assert_int_equal(L(&t, "10.1.9.9"), 5);
	/* errors leave the table as it was */
	struct lpm_route bad[] = {{P("10.9.0.0/16"), 1}, {P("10.8.0.0/16"), LPM_VMAX + 1}};
	assert_int_equal(lpm_build(&t, bad, 2), -ERANGE);
	struct ip_prefix l33 = {.a = A("10.0.0.0"), .len = 33};
	struct lpm_route bad2[] = {{l33, 1}};
	assert_int_equal(lpm_build(&t, bad2, 1), -EINVAL);
	assert_int_equal(lpm_insert(&t, &l33, 1), -EINVAL);
	assert_int_equal(lpm_insert(&t, &p, LPM_NONE), -ERANGE);
	struct ip_prefix noaf = {.len = 8};
	assert_int_equal(lpm_insert(&t, &noaf, 1), -EINVAL);
	assert_int_equal(lpm_delete(&t, &noaf), -ENOENT);
	assert_int_equal(lpm_count(&t), 3);
	assert_int_equal(L(&t, "10.1.9.9"), 5);
	assert_int_equal(L(&t, "10.9.0.0"), LPM_NONE);
	/* LPM_VMAX itself is a value */
	assert_int_equal(lpm_insert(&t, &p, LPM_VMAX), 1);
	assert_int_equal(L(&t, "10.1.9.9"), LPM_VMAX);
	lpm_free(&t);
}

static void
test_iter_order(void **state)
{
	struct lpm t;
	lpm_init(&t);
	const char *in[] = {"fd00::/8",       "10.1.0.0/16", "0.0.0.0/0",  "10.0.0.0/8",
	                    "192.168.0.0/24", "10.1.0.0/24", "10.0.0.0/9", "::/0",
	                    "10.1.0.128/25",  "9.0.0.0/8",   "fd00::/16",  "10.1.0.0/32"};
	const char *want[] = {"0.0.0.0/0",      "9.0.0.0/8",   "10.0.0.0/8",  "10.0.0.0/9",
	                      "10.1.0.0/16",    "10.1.0.0/24", "10.1.0.0/32", "10.1.0.128/25",
	                      "192.168.0.0/24", "::/0",        "fd00::/8",    "fd00::/16"};
	struct lpm_route r[LEN(in)];
	for (size_t i = 0; i < LEN(in); i++)
		r[i] = (struct lpm_route){P(in[i]), (uint32_t)i};
	assert_int_equal(lpm_build(&t, r, LEN(r)), 0);
	struct lpm_iter it;
	struct lpm_route x;
	char buf[IP_STRLEN];
	size_t k = 0;
	lpm_iter_init(&it, &t);
	while (lpm_iter_next(&it, &x)) {
		assert_true(k < LEN(want));
		assert_string_equal(ip_prefix_fmt(&x.p, buf), want[k]);
		struct ip_prefix w = P(want[k]);
		assert_int_equal(ip_prefix_cmp(&x.p, &w), 0);
		k++;
	}
	assert_int_equal(k, LEN(want));
	lpm_free(&t);
}

static void
test_wide_values_and_rebuild(void **state)
{
	/*
	 * Values below 0xffff use 16-bit leaves; the first larger one switches
	 * the family to 32-bit leaves (a full FIB rebuild). A second build
	 * replaces everything the first one held.
	 */
	struct lpm t;
	lpm_init(&t);
	struct lpm_route r[] = {
	    {P("10.0.0.0/8"), 1},  {P("10.1.0.0/24"), 0xfffe}, {P("10.1.0.128/25"), 3},
	    {P("10.1.0.0/20"), 4}, {P("10.1.0.64/26"), 5},     {P("2001:db8::/32"), 6},
	};
	assert_int_equal(lpm_build(&t, r, LEN(r)), 0);
	assert_false(t.f4.wide);
	assert_int_equal(L(&t, "10.1.0.1"), 0xfffe);
	assert_int_equal(L(&t, "10.1.0.200"), 3);
	struct ip_prefix q = P("10.1.0.192/27");
	assert_int_equal(lpm_insert(&t, &q, 0x12345678), 0);
	assert_true(t.f4.wide);
	assert_false(t.f6.wide);
	assert_int_equal(L(&t, "10.1.0.200"), 0x12345678);
	assert_int_equal(L(&t, "10.1.0.130"), 3);
	assert_int_equal(L(&t, "10.1.0.65"), 5);
	assert_int_equal(L(&t, "10.1.0.1"), 0xfffe);
	assert_int_equal(L(&t, "10.1.9.1"), 4);
	assert_int_equal(L(&t, "10.200.0.1"), 1);
	struct ip_prefix q2 = P("10.1.0.0/24");
	assert_int_equal(lpm_insert(&t, &q2, 0xffff), 1);
	assert_int_equal(L(&t, "10.1.0.1"), 0xffff);
	assert_int_equal(lpm_delete(&t, &q), 0);
	assert_int_equal(L(&t, "10.1.0.200"), 3);
	struct lpm_stats st;
	lpm_stats(&t, &st);
	assert_int_equal(st.n4, 5);
	assert_int_equal(st.n6, 1);
	assert_true(st.fib_live > 0 && st.fib_live <= st.fib_bytes);
	assert_true(st.rib_bytes > 0);
	/* a second build replaces the table */
	struct lpm_route r2[] = {{P("192.168.0.0/16"), 9}};
	assert_int_equal(lpm_build(&t, r2, 1), 0);
	assert_int_equal(lpm_count(&t), 1);
	assert_false(t.f4.wide);
	assert_int_equal(L(&t, "10.1.0.1"), LPM_NONE);
	assert_int_equal(L(&t, "2001:db8::1"), LPM_NONE);
	assert_int_equal(L(&t, "192.168.3.4"), 9);
	struct ip_prefix half = P("128.0.0.0/1"); /* a short prefix turns it wide */
	assert_int_equal(lpm_insert(&t, &half, 0x20000), 0);
	assert_true(t.f4.wide);
	assert_int_equal(L(&t, "192.168.3.4"), 9);
	assert_int_equal(L(&t, "192.169.3.4"), 0x20000);
	assert_int_equal(L(&t, "127.0.0.1"), LPM_NONE);
	lpm_free(&t);
}

/* A random IPv4 prefix, crowded into a few /8s so that prefixes nest;
 * shorts per mille are /0 to /18 (the direct table's repaint path). */
static struct ip_prefix
rand_prefix4(uint64_t *s, unsigned shorts)
{
	static const uint8_t tops[] = {10, 11, 100, 172, 192};
	uint64_t x = rnd(s);
	unsigned len;
	if (x % 1000 < shorts)
		len = (unsigned)(x >> 8) % 19; /* 0..18: the direct-table repaint path */
	else if (x % 100 < 60)
		len = 24;
	else
		len = 12 + (unsigned)(x >> 8) % 21;
	uint32_t a =
	    (uint32_t)(tops[(x >> 16) % LEN(tops)]) << 24 | ((uint32_t)(x >> 32) & 0x00ffffff);
	if (((x >> 24) & 7) == 0)
		a &= 0xff0fffff; /* a denser corner */
	struct ip_prefix p = {.a = addr4(a), .len = (uint8_t)len};
	ip_prefix_mask(&p);
	return p;
}

static struct ip_prefix
rand_prefix6(uint64_t *s)
{
	uint64_t x = rnd(s), y = rnd(s);
	struct ip_prefix p = {.a = {.af = IP_V6}, .len = (uint8_t)(x % 129)};
	p.a.b[0] = 0x20;
	p.a.b[1] = (uint8_t)(1 + (x >> 8) % 3);
	for (int i = 2; i < 16; i++)
		p.a.b[i] = (uint8_t)((i < 6 ? x : y) >> (8 * (i % 8)));
	if ((x >> 40) & 1)
		memset(p.a.b + 4, 0, 4); /* a denser corner */
	ip_prefix_mask(&p);
	return p;
}

/* An address inside p (random host bits), or anywhere in the family. */
static struct ip_addr
rand_addr(uint64_t *s, const struct ip_prefix *p, bool inside)
{
	struct ip_addr a = p->a;
	uint64_t x = rnd(s), y = rnd(s);
	unsigned max = ip_maxlen(p->a.af);
	for (unsigned bit = inside ? p->len : 0; bit < max; bit++) {
		uint64_t w = bit < 64 ? x : y;
		uint8_t m = (uint8_t)(0x80u >> (bit % 8));
		if (w >> (bit % 64) & 1)
			a.b[bit / 8] |= m;
		else
			a.b[bit / 8] &= (uint8_t)~m;
	}
	return a;
}

static void
test_ref_against_scan(void **state)
{
	/* The reference itself, against the definition: a linear scan. */
	uint64_t seed = 7;
	enum { N = 400, Q = 20000 };
	struct lpm_route *r = calloc(N, sizeof(*r));
	struct lpm_ref ref;
	lpm_ref_init(&ref);
	for (uint32_t i = 0; i < N; i++) {
		r[i].p = i % 4 ? rand_prefix4(&seed, 30) : rand_prefix6(&seed);
		r[i].val = i;
		lpm_ref_insert(&ref, &r[i].p, i);
	}
	for (uint32_t q = 0; q < Q; q++) {
		struct ip_addr a = rand_addr(&seed, &r[rnd(&seed) % N].p, q % 2);
		uint32_t best = LPM_NONE;
		int bestlen = -1;
		for (uint32_t i = 0; i < N; i++)
			if (ip_prefix_contains_addr(&r[i].p, &a) && (int)r[i].p.len >= bestlen) {
				best = r[i].val; /* later duplicates overwrite, as insert does */
				bestlen = r[i].p.len;
			}
		assert_int_equal(lpm_ref_lookup(&ref, &a), best);
		if (a.af == IP_V4)
			assert_int_equal(lpm_ref_lookup4(&ref, (uint32_t)a.b[0] << 24 |
			                                           (uint32_t)a.b[1] << 16 |
			                                           (uint32_t)a.b[2] << 8 | a.b[3]),
			                 best);
	}
	lpm_ref_free(&ref);
	free(r);
}

static void
check_lookups(const struct lpm *t, const struct lpm_ref *ref, const struct lpm_route *r, size_t n,
              uint64_t *seed, size_t q)
{
	uint32_t batch_in[64], batch_out[64], want[64];
	size_t nb = 0;
	for (size_t i = 0; i < q; i++) {
		const struct ip_prefix *p = &r[rnd(seed) % n].p;
		struct ip_addr a = rand_addr(seed, p, i % 2);
		uint32_t w = lpm_ref_lookup(ref, &a), got = lpm_lookup(t, &a);
		if (got != w) {
			char b1[IP_STRLEN];
			fail_msg("lookup %s: got %u, want %u", ip_addr_fmt(&a, b1), got, w);
		}
		if (a.af == IP_V4) {
			batch_in[nb] = (uint32_t)a.b[0] << 24 | (uint32_t)a.b[1] << 16 |
			               (uint32_t)a.b[2] << 8 | a.b[3];
			want[nb++] = w;
			if (nb == LEN(batch_in)) {
				lpm_lookup4_batch(t, batch_in, batch_out, nb);
				assert_memory_equal(batch_out, want, sizeof(want));
				nb = 0;
			}
		}
	}
}

static void
test_random_build(void **state)
{
	/* 100k prefixes (90% v4, realistic crowding, duplicates), 1M lookups. */
	enum { N = 100000, Q = 1000000 };
	uint64_t seed = 42;
	struct lpm_route *r = calloc(N, sizeof(*r));
	struct lpm_ref ref;
	struct lpm t;
	lpm_ref_init(&ref);
	lpm_init(&t);
	for (uint32_t i = 0; i < N; i++) {
		r[i].p = i % 10 ? rand_prefix4(&seed, 30) : rand_prefix6(&seed);
		r[i].val = (uint32_t)(rnd(&seed) % 5000); /* shared values, as next hops are */
		lpm_ref_insert(&ref, &r[i].p, r[i].val);
	}
	assert_int_equal(lpm_build(&t, r, N), 0);
	assert_int_equal(lpm_count(&t), ref.count);
	assert_true(ref.count < N); /* the input had duplicates */
	check_lookups(&t, &ref, r, N, &seed, Q);
	/* exact get for every input prefix, and iteration agrees with the reference */
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(lpm_get(&t, &r[i].p), lpm_ref_get(&ref, &r[i].p));
	struct lpm_iter it;
	struct lpm_route x, prev;
	size_t k = 0;
	lpm_iter_init(&it, &t);
	while (lpm_iter_next(&it, &x)) {
		assert_int_equal(lpm_ref_get(&ref, &x.p), x.val);
		if (k)
			assert_true(ip_prefix_cmp(&prev.p, &x.p) < 0);
		prev = x;
		k++;
	}
	assert_int_equal(k, ref.count);
	struct lpm_stats st;
	lpm_stats(&t, &st);
	assert_int_equal(st.s4, 18);
	assert_int_equal(st.n4 + st.n6, ref.count);
	lpm_free(&t);
	lpm_ref_free(&ref);
	free(r);
}

static void
test_random_updates(void **state)
{
	/*
	 * From empty: inserts and deletes one at a time, crossing the resize
	 * thresholds (s 6 -> 12 -> 18 at 1,024 and 65,536 prefixes, back down
	 * on the way out) and the garbage rebuild, checked against the
	 * reference at every phase.
	 */
	enum { N = 90000 };
	uint64_t seed = 99;
	struct lpm_route *r = calloc(N, sizeof(*r));
	struct lpm_ref ref;
	struct lpm t;
	lpm_ref_init(&ref);
	lpm_init(&t);
	for (uint32_t i = 0; i < N; i++) {
		r[i].p = i % 32 ? rand_prefix4(&seed, 5) : rand_prefix6(&seed);
		r[i].val = i;
		int want = lpm_ref_insert(&ref, &r[i].p, i);
		assert_int_equal(lpm_insert(&t, &r[i].p, i), want);
		if (i == 500 || i == 5000 || i == N - 1)
			check_lookups(&t, &ref, r, i + 1, &seed, 50000);
	}
	struct lpm_stats st;
	lpm_stats(&t, &st);
	assert_int_equal(lpm_count(&t), ref.count);
	assert_int_equal(st.s4, 18);
	assert_true(st.nrebuild >= 2);
	/* churn: delete and re-add with new values, as a what-if would */
	for (uint32_t i = 0; i < N; i += 3) {
		int want = lpm_ref_delete(&ref, &r[i].p);
		assert_int_equal(lpm_delete(&t, &r[i].p), want);
	}
	for (uint32_t i = 0; i < N; i += 7)
		assert_int_equal(lpm_insert(&t, &r[i].p, i + N),
		                 lpm_ref_insert(&ref, &r[i].p, i + N));
	assert_true(t.f4.wide); /* values passed 0xffff on the way */
	check_lookups(&t, &ref, r, N, &seed, 100000);
	/* and back down to nothing */
	for (uint32_t i = 0; i < N; i++) {
		int want = lpm_ref_delete(&ref, &r[i].p);
		assert_int_equal(lpm_delete(&t, &r[i].p), want);
		if (i == N / 2 || i == N - 500)
			check_lookups(&t, &ref, r, N, &seed, 20000);
	}
	assert_int_equal(lpm_count(&t), 0);
	lpm_stats(&t, &st);
	assert_int_equal(st.s4, 6);
	assert_int_equal(L(&t, "10.1.2.3"), LPM_NONE);
	lpm_free(&t);
	lpm_ref_free(&ref);
	free(r);
}

static void
test_short_prefix_updates(void **state)
{
	/* Short prefixes over a full direct table: repaint, inherit, nest. */
	uint64_t seed = 5;
	enum { N = 70000 };
	struct lpm_route *r = calloc(N + 64, sizeof(*r));
	struct lpm_ref ref;
	struct lpm t;
	lpm_ref_init(&ref);
	lpm_init(&t);
	for (uint32_t i = 0; i < N; i++) {
		r[i].p = rand_prefix4(&seed, 0);
		r[i].val = i;
		lpm_ref_insert(&ref, &r[i].p, i);
	}
	assert_int_equal(lpm_build(&t, r, N), 0);
	const char *sh[] = {"0.0.0.0/0",    "10.0.0.0/8",  "10.0.0.0/12",   "10.0.0.0/18",
	                    "10.64.0.0/10", "192.0.0.0/2", "172.16.0.0/16", "11.0.0.0/9"};
	for (size_t k = 0; k < LEN(sh); k++) {
		r[N + k].p = P(sh[k]);
		r[N + k].val = 1000000 + (uint32_t)k;
		assert_int_equal(lpm_insert(&t, &r[N + k].p, r[N + k].val),
		                 lpm_ref_insert(&ref, &r[N + k].p, r[N + k].val));
		check_lookups(&t, &ref, r, N + k + 1, &seed, 20000);
	}
	for (size_t k = 0; k < LEN(sh); k += 2) {
		assert_int_equal(lpm_delete(&t, &r[N + k].p), lpm_ref_delete(&ref, &r[N + k].p));
		check_lookups(&t, &ref, r, N + LEN(sh), &seed, 20000);
	}
	lpm_free(&t);
	lpm_ref_free(&ref);
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_default_route),
	    cmocka_unit_test(test_host_routes),
	    cmocka_unit_test(test_nested),
	    cmocka_unit_test(test_ipv6),
	    cmocka_unit_test(test_delete),
	    cmocka_unit_test(test_duplicates_and_errors),
	    cmocka_unit_test(test_iter_order),
	    cmocka_unit_test(test_wide_values_and_rebuild),
	    cmocka_unit_test(test_ref_against_scan),
	    cmocka_unit_test(test_random_build),
	    cmocka_unit_test(test_random_updates),
	    cmocka_unit_test(test_short_prefix_updates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
