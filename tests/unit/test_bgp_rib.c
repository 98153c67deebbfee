/*
 * test_bgp_rib.c - interned attribute sets (src/bgp/bgp_attrset.c) and the
 * prefix tables of Adj-RIB-In/Out (src/bgp/bgp_rib.c):
 * - interning: the same attributes sent two ways (2-octet AS_PATH with
 *   AS4_PATH and 4-octet AS_PATH; NEXT_HOP vs MP_REACH; Partial flag and
 *   attribute order) are one set; different ones are not; the set reads
 *   back equal and re-encodes to the same UPDATE;
 * - references: every route holds one, the set is freed with the last;
 * - the table against a reference under 200,000 random operations (both
 *   families, deletions by backward shift);
 * - a million IPv4 routes with 300 distinct sets: bytes per route, and
 *   decode + intern + insert throughput of UPDATEs packed by the encoder
 *   (printed as TAP diagnostics; bounds asserted).
 */
#include "bgp_testutil.h"

#include <time.h>

#include "bgp/bgp_rib.h"

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Decodes one UPDATE and interns the attributes of its first NLRI. */
static struct bgp_attrset *
intern_update(struct bgp_atab *t, const struct bgp_params *p, const uint8_t *m, size_t n)
{
	struct bgp_update u;
	struct bgp_attrs a;
	int err;
	uint8_t *c = exact(m, n);
	assert_int_equal(bgp_update_decode(p, c, n, &u), 0);
	bgp_update_attrs(&u, u.nlri.count ? &u.nlri : &u.mp_reach, &a);
	struct bgp_attrset *s = bgp_atab_intern(t, &a, &err);
	assert_non_null(s);
	assert_int_equal(err, 0);
	free(c); /* the set owns its copy */
	return s;
}

static void
test_intern_dedup(void **state)
{
	struct bgp_atab t;
	uint8_t m[512];
	size_t n;
	struct bgp_params p4 = sess(65000, 65001, true), p2 = sess(65000, 65001, false);
	(void)state;

	bgp_atab_init(&t);
	/* 4-octet session: AS_PATH 65001 200000 */
	n = mk_update(m, sizeof(m), "", ORIGIN "40020a0202 0000fde9 00030d40 " NEXTHOP, PFX);
	struct bgp_attrset *a = intern_update(&t, &p4, m, n);
	/* 2-octet session: AS_PATH 65001 23456 + AS4_PATH 65001 200000 */
	n = mk_update(m, sizeof(m), "",
	              ORIGIN "4002060202 fde9 5ba0 " NEXTHOP "c0110a0202 0000fde9 00030d40", PFX);
	struct bgp_attrset *b = intern_update(&t, &p2, m, n);
	assert_ptr_equal(a, b);
	assert_int_equal(a->refs, 2);
	assert_int_equal(t.n, 1);

	/* communities with Partial set and after an unknown optional transitive
	 * attribute (order and flags are transport, not meaning) */
	n = mk_update(m, sizeof(m), "", BASE "c00804fde90001 c0630201 02", PFX);
	struct bgp_attrset *c = intern_update(&t, &p4, m, n);
	n = mk_update(m, sizeof(m), "", BASE "e0630201 02 e00804fde90001", PFX);
	struct bgp_attrset *d = intern_update(&t, &p4, m, n);
	assert_ptr_equal(c, d);
	assert_ptr_not_equal(a, c);

	/* a different MED is a different set */
	n = mk_update(m, sizeof(m), "", BASE "80040400000001", PFX);
	struct bgp_attrset *e = intern_update(&t, &p4, m, n);
	n = mk_update(m, sizeof(m), "", BASE "80040400000002", PFX);
	struct bgp_attrset *f = intern_update(&t, &p4, m, n);
	assert_ptr_not_equal(e, f);
	assert_int_equal(t.n, 4);

	/* IPv6 through MP_REACH: the next hop is part of the set */
	n = mk_update(m, sizeof(m), "", MP6 ORIGIN ASPATH, "");
	struct bgp_attrset *g = intern_update(&t, &p4, m, n);
	struct bgp_attrs ga;
	bgp_aset_get(g, &ga);
	assert_int_equal(ga.nexthop.af, IP_V6);
	assert_int_equal(ga.nexthop.b[15], 1);

	bgp_aset_unref(a);
	bgp_aset_unref(b);
	bgp_aset_unref(c);
	bgp_aset_unref(d);
	bgp_aset_unref(e);
	bgp_aset_unref(f);
	bgp_aset_unref(g);
	assert_int_equal(t.n, 0);
	bgp_atab_free(&t);
}

/* A set reads back to the same attributes and re-encodes byte for byte. */
static void
test_roundtrip(void **state)
{
	struct bgp_atab t;
	uint8_t m[1024], out[4096];
	size_t n, done;
	struct bgp_params p = sess(65000, 65001, true);
	struct bgp_update u;
	struct bgp_attrs a, back;
	struct ip_prefix v = pfx("198.51.100.0/24");
	int err;
	(void)state;

	bgp_atab_init(&t);
	n = mk_update(m, sizeof(m), "",
	              BASE "80040400000007 400600 c00708 0000fde9 c0000201 "
	                   "c00808 fde90001 fde90002 c0100800020000fde90001 "
	                   "c0200c 0000fde9 00000001 00000002 c063020102",
	              PFX);
	assert_int_equal(bgp_update_decode(&p, m, n, &u), 0);
	assert_int_equal(u.verdict, BGP_VERDICT_OK);
	bgp_update_attrs(&u, &u.nlri, &a);
	struct bgp_attrset *s = bgp_atab_intern(&t, &a, &err);
	bgp_aset_get(s, &back);
	assert_true(bgp_attrs_equal(&a, &back));

	struct bgp_wr w1 = bgp_wr_make(out, sizeof(out));
	assert_int_equal(bgp_update_pack(&w1, &p, &a, &v, NULL, 1, &done), 0);
	uint8_t first[4096];
	size_t fn = w1.len;
	memcpy(first, out, fn);
	struct bgp_wr w2 = bgp_wr_make(out, sizeof(out));
	assert_int_equal(bgp_update_pack(&w2, &p, &back, &v, NULL, 1, &done), 0);
	assert_bytes(out, w2.len, first, fn, "re-encoded from the interned set");
	bgp_aset_unref(s);
	bgp_atab_free(&t);
}

/* A few distinct sets for the table tests. */
static struct bgp_attrset *
mkset(struct bgp_atab *t, uint32_t i)
{
	uint8_t path[10] = {BGP_AS_SEQUENCE, 2, 0, 0, 0xfd, 0xe9};
	struct bgp_attrs a;
	int err;
	memset(&a, 0, sizeof(a));
	path[6] = (uint8_t)(i >> 24);
	path[7] = (uint8_t)(i >> 16);
	path[8] = (uint8_t)(i >> 8);
	path[9] = (uint8_t)i;
	a.has = BGP_HAS(BGP_ATTR_ORIGIN) | BGP_HAS(BGP_ATTR_AS_PATH) | BGP_HAS(BGP_ATTR_NEXT_HOP);
	a.aspath_wide = true;
	a.aspath = (struct bgp_span){path, sizeof(path)};
	a.nexthop = addr("192.0.2.1");
	struct bgp_attrset *s = bgp_atab_intern(t, &a, &err);
	assert_non_null(s);
	return s;
}

static void
test_refcounts(void **state)
{
	struct bgp_atab t;
	struct bgp_rib r;
	struct ip_prefix p1 = pfx("10.0.0.0/8"), p2 = pfx("10.0.0.0/16"), p3 = pfx("2001:db8::/32");
	(void)state;

	bgp_atab_init(&t);
	bgp_rib_init(&r);
	struct bgp_attrset *a = mkset(&t, 1), *b = mkset(&t, 2);
	assert_null(bgp_rib_put(&r, &p1, a, 0));
	assert_null(bgp_rib_put(&r, &p2, a, 0));
	assert_null(bgp_rib_put(&r, &p3, a, BGP_RF_STALE));
	assert_int_equal(a->refs, 4);
	/* replacing hands the old reference back */
	struct bgp_attrset *old = bgp_rib_put(&r, &p2, b, 0);
	assert_ptr_equal(old, a);
	bgp_aset_unref(old);
	assert_int_equal(a->refs, 3);
	uint8_t fl;
	assert_ptr_equal(bgp_rib_get(&r, &p3, &fl), a);
	assert_int_equal(fl, BGP_RF_STALE);
	assert_true(bgp_rib_flag(&r, &p3, BGP_RF_STALE, 0));
	bgp_rib_get(&r, &p3, &fl);
	assert_int_equal(fl, 0);
	/* host bits are the caller's to clear: a different length is a different key */
	struct ip_prefix p4 = pfx("10.0.0.0/9");
	assert_null(bgp_rib_get(&r, &p4, NULL));
	bgp_aset_unref(bgp_rib_del(&r, &p1, NULL));
	assert_null(bgp_rib_del(&r, &p1, NULL));
	assert_int_equal(bgp_rib_total(&r), 2);
	bgp_aset_unref(a);
	bgp_aset_unref(b);
	assert_int_equal(t.n, 2); /* still referenced by routes */
	bgp_rib_free(&r);
	assert_int_equal(t.n, 0); /* the last references went with the routes */
	bgp_atab_free(&t);
}

/* ---- the table against a reference ---------------------------------------------- */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

#define REF_N 4096 /* a small key space, so operations hit existing keys */

/* Key k as a prefix: distinct for every k (its bits survive the mask). */
static struct ip_prefix
key(uint32_t k)
{
	struct ip_prefix p;
	memset(&p, 0, sizeof(p));
	if (k & 1) {
		p.a.af = IP_V6;
		p.a.b[0] = 0x20;
		p.a.b[1] = 0x01;
		p.a.b[2] = (uint8_t)(k >> 8);
		p.a.b[3] = (uint8_t)k;
		p.len = (uint8_t)(48 + k % 3 * 8);
	} else {
		p.a.af = IP_V4;
		p.a.b[0] = (uint8_t)(10 + (k >> 8));
		p.a.b[1] = (uint8_t)k;
		p.a.b[2] = 7;
		p.len = (uint8_t)(16 + k % 3 * 8);
	}
	ip_prefix_mask(&p);
	return p;
}

static void
test_against_reference(void **state)
{
	struct bgp_atab t;
	struct bgp_rib r;
	struct bgp_attrset *sets[8], *ref[REF_N];
	(void)state;

	bgp_atab_init(&t);
	bgp_rib_init(&r);
	memset(ref, 0, sizeof(ref));
	for (int i = 0; i < 8; i++)
		sets[i] = mkset(&t, (uint32_t)i);
	for (int op = 0; op < 200000; op++) {
		uint32_t k = rnd() % REF_N;
		struct ip_prefix p = key(k);
		struct bgp_attrset *old;
		if (rnd() % 3) {
			struct bgp_attrset *s = sets[rnd() % 8];
			old = bgp_rib_put(&r, &p, s, 0);
			assert_ptr_equal(old, ref[k]);
			ref[k] = s;
		} else {
			old = bgp_rib_del(&r, &p, NULL);
			assert_ptr_equal(old, ref[k]);
			ref[k] = NULL;
		}
		bgp_aset_unref(old);
		if (op % 20000 == 0) { /* every route findable, the count right */
			uint32_t cnt = 0;
			for (uint32_t j = 0; j < REF_N; j++) {
				struct ip_prefix q = key(j);
				if (!ref[j])
					continue;
				cnt++;
				assert_ptr_equal(bgp_rib_get(&r, &q, NULL), ref[j]);
			}
			assert_int_equal(bgp_rib_total(&r), cnt);
			struct bgp_rib_it it;
			struct ip_prefix q;
			struct bgp_attrset *s;
			uint32_t seen = 0;
			bgp_rib_iter(&it);
			while (bgp_rib_next(&r, &it, &q, &s, NULL))
				seen++;
			assert_int_equal(seen, cnt);
		}
	}
	for (int i = 0; i < 8; i++)
		bgp_aset_unref(sets[i]);
	bgp_rib_free(&r);
	assert_int_equal(t.n, 0);
	bgp_atab_free(&t);
}

/* ---- a million routes ------------------------------------------------------------- */
#define MILLION 1000000u

#define NSETS 300u

/* A realistic length mix (mostly /24, then /22-/23, /16-/21), every prefix
 * distinct: the j-th prefix of length L is a bijection of j on L bits. */
static struct ip_prefix
table_prefix(uint32_t i)
{
	static const uint8_t lens[16] = {24, 24, 24, 24, 24, 24, 24, 24,
	                                 24, 23, 23, 22, 22, 21, 20, 16};
	static const uint8_t slot[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 1, 0, 0, 0};
	static const uint8_t per[16] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 2, 2, 2, 2, 1, 1, 1};
	struct ip_prefix p;
	uint8_t len = lens[i % 16];
	uint32_t j = (i / 16) * per[i % 16] + slot[i % 16];
	uint32_t mask = (uint32_t)((1ull << len) - 1);
	uint32_t x = j & mask;
	x = (x * 0x9e3779b1u) & mask; /* odd multiplier: a bijection mod 2^len */
	x ^= x >> (len / 2);
	x = (x * 0x85ebca6bu) & mask;
	uint32_t a = x << (32 - len);
	memset(&p, 0, sizeof(p));
	p.a.af = IP_V4;
	p.len = len;
	p.a.b[0] = (uint8_t)(a >> 24);
	p.a.b[1] = (uint8_t)(a >> 16);
	p.a.b[2] = (uint8_t)(a >> 8);
	p.a.b[3] = (uint8_t)a;
	return p;
}

struct sink {
	uint8_t *buf;
	size_t len, cap;
	uint32_t msgs;
};

static int
sink_emit(void *arg, const uint8_t *msg, size_t len)
{
	struct sink *s = arg;
	if (s->len + len > s->cap) {
		s->cap = (s->len + len) * 2;
		s->buf = realloc(s->buf, s->cap);
		assert_non_null(s->buf);
	}
	memcpy(s->buf + s->len, msg, len);
	s->len += len;
	s->msgs++;
	return 0;
}

static void
test_million(void **state)
{
	struct bgp_atab t;
	struct bgp_rib r;
	struct bgp_params p = sess(65000, 65001, true);
	struct ip_prefix *v = malloc(MILLION * sizeof(*v));
	struct sink out = {0};
	uint8_t buf[BGP_MAX_MSG];
	double t0, t1;
	(void)state;

	assert_non_null(v);
	bgp_atab_init(&t);
	bgp_rib_init(&r);

	/* the feed: 300 attribute sets, each with its share of a million
	 * prefixes, packed by the encoder as a peer would send them */
	uint32_t per = MILLION / NSETS + 1, total = 0;
	for (uint32_t i = 0; i < MILLION; i++)
		v[i] = table_prefix(i);
	for (uint32_t s = 0; s < NSETS && total < MILLION; s++) {
		struct bgp_attrset *set = mkset(&t, 64512 + s);
		struct bgp_attrs a;
		uint32_t k = MILLION - total < per ? MILLION - total : per;
		bgp_aset_get(set, &a);
		assert_true(bgp_update_split(&p, &a, v + total, NULL, k, buf, sizeof(buf),
		                             sink_emit, &out) > 0);
		total += k;
		bgp_aset_unref(set);
	}
	assert_int_equal(t.n, 0);

	/* decode + intern + insert, as the session does */
	t0 = now_s();
	uint64_t announced = 0;
	for (size_t off = 0; off < out.len;) {
		size_t len = bgp_get16(out.buf + off + BGP_MARKER_LEN);
		struct bgp_update u;
		struct bgp_attrs a;
		struct bgp_nlri_it it;
		struct ip_prefix q;
		uint32_t id;
		int err;
		assert_int_equal(bgp_update_decode(&p, out.buf + off, len, &u), 0);
		bgp_update_attrs(&u, &u.nlri, &a);
		struct bgp_attrset *s = bgp_atab_intern(&t, &a, &err);
		bgp_nlri_iter(&u.nlri, &it);
		while (bgp_nlri_next(&it, &q, &id)) {
			bgp_aset_unref(bgp_rib_put(&r, &q, s, 0));
			announced++;
		}
		bgp_aset_unref(s);
		off += len;
	}
	t1 = now_s();
	assert_int_equal(announced, MILLION);
	uint32_t routes = bgp_rib_total(&r);
	assert_int_equal(routes, MILLION);
	size_t bytes = bgp_rib_bytes(&r) + t.bytes;
	double per_route = (double)bytes / routes;
	print_message("# 1M-route feed: %u UPDATEs, %zu bytes on the wire\n", out.msgs, out.len);
	print_message("# %u routes, %u sets: %zu bytes (table %zu, sets %zu) = %.1f bytes/route\n",
	              routes, t.n, bytes, bgp_rib_bytes(&r), t.bytes, per_route);
	print_message("# decode+intern+insert: %.2f s, %.0f prefixes/s (this build)\n", t1 - t0,
	              MILLION / (t1 - t0));
	assert_true(per_route < 40.0);
	assert_int_equal(t.n, NSETS);

	/* a session's sweep deletes in table order (the hash's order): the routes
	 * left, all at one end of the hash space, must not end up in one cluster when
	 * the table shrinks (a lookup would probe the whole table: quadratic) */
	struct bgp_rib_it it;
	struct ip_prefix pfx;
	struct bgp_attrset *set;
	uint32_t n = 0;
	bgp_rib_iter(&it);
	while (bgp_rib_next(&r, &it, &pfx, &set, NULL))
		v[n++] = pfx;
	assert_int_equal(n, MILLION);
	uint32_t worst = 0;
	t0 = now_s();
	for (uint32_t i = n; i-- > MILLION / 10;) {
		bgp_aset_unref(bgp_rib_del(&r, &v[i], NULL));
		if (i % 100000 == 0) {
			uint32_t m = bgp_rib_max_probe(&r);
			worst = m > worst ? m : worst;
		}
	}
	t1 = now_s();
	print_message("# 900,000 withdrawn in table order: %.2f s, longest probe %u slots\n",
	              t1 - t0, worst);
	assert_true(worst < 1000);

	/* withdraw the rest: the sets go with the last routes */
	t0 = now_s();
	for (uint32_t i = 0; i < MILLION; i++)
		bgp_aset_unref(bgp_rib_del(&r, &v[i], NULL));
	t1 = now_s();
	print_message("# withdraw the rest: %.2f s\n", t1 - t0);
	assert_int_equal(bgp_rib_total(&r), 0);
	assert_int_equal(t.n, 0);
	assert_int_equal(bgp_rib_bytes(&r), 0);
	bgp_rib_free(&r);
	bgp_atab_free(&t);
	free(out.buf);
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_intern_dedup), cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_refcounts),    cmocka_unit_test(test_against_reference),
	    cmocka_unit_test(test_million),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
