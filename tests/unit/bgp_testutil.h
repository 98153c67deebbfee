/*
 * bgp_testutil.h - helpers shared by the BGP codec tests (test_bgp_msg.c,
 * test_bgp_7606.c): hex vectors, buffers of exactly a message's size (so
 * ASan reports any overread), message builders, prefix lists as text, and
 * the attribute snippets the tables are written in.
 */
#ifndef STRAIT_BGP_TESTUTIL_H
#define STRAIT_BGP_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/bgp_msg.h"

/* ---- helpers ----------------------------------------------------------- */

#define MARKER "ffffffffffffffffffffffffffffffff"

static inline size_t
hx(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;
	for (; *s; s++) {
		int v = 0;
		if (*s == ' ' || *s == '\n' || *s == ':')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			fail_msg("bad hex character '%c'", *s);
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == cap)
			fail_msg("hex vector longer than %zu bytes", cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		fail_msg("odd number of hex digits");
	return n;
}

/* A copy in a buffer of exactly n bytes, so ASan catches any overread. */
static inline uint8_t *
exact(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);
	assert_non_null(c);
	if (n)
		memcpy(c, p, n);
	return c;
}

static inline void
assert_bytes(const uint8_t *got, size_t gn, const uint8_t *want, size_t wn, const char *what)
{
	if (gn == wn && memcmp(got, want, gn) == 0)
		return;
	print_message("%s: got %zu bytes, want %zu\n  got  ", what, gn, wn);
	for (size_t i = 0; i < gn; i++)
		print_message("%02x", got[i]);
	print_message("\n  want ");
	for (size_t i = 0; i < wn; i++)
		print_message("%02x", want[i]);
	print_message("\n");
	fail_msg("%s: bytes differ", what);
}

static inline void
assert_hex(const uint8_t *got, size_t gn, const char *want, const char *what)
{
	uint8_t w[8192];
	size_t wn = hx(want, w, sizeof(w));
	assert_bytes(got, gn, w, wn, what);
}

/* An UPDATE from its three parts in hex; lengths filled in. */
static inline size_t
mk_update(uint8_t *out, size_t cap, const char *wd, const char *attrs, const char *nlri)
{
	uint8_t w[4096], a[4096], n[4096];
	size_t wn = hx(wd, w, sizeof(w)), an = hx(attrs, a, sizeof(a)), nn = hx(nlri, n, sizeof(n));
	struct bgp_wr o = bgp_wr_make(out, cap);
	size_t at = bgp_msg_begin(&o, BGP_UPDATE);
	bgp_wr_u16(&o, (uint16_t)wn);
	bgp_wr_bytes(&o, w, wn);
	bgp_wr_u16(&o, (uint16_t)an);
	bgp_wr_bytes(&o, a, an);
	bgp_wr_bytes(&o, n, nn);
	assert_int_equal(bgp_msg_end(&o, at, BGP_MAX_EXT_MSG), 0);
	return o.len;
}

/* A message from a hex body (header filled in). */
static inline size_t
mk_msg(uint8_t *out, size_t cap, uint8_t type, const char *body)
{
	uint8_t b[8192];
	size_t bn = hx(body, b, sizeof(b));
	struct bgp_wr o = bgp_wr_make(out, cap);
	size_t at = bgp_msg_begin(&o, type);
	bgp_wr_bytes(&o, b, bn);
	assert_int_equal(bgp_msg_end(&o, at, BGP_MAX_EXT_MSG), 0);
	return o.len;
}

static inline struct ip_prefix
pfx(const char *s)
{
	struct ip_prefix p;
	if (ip_prefix_parse(s, &p) != 0)
		fail_msg("bad prefix %s", s);
	return p;
}

static inline struct ip_addr
addr(const char *s)
{
	struct ip_addr a;
	if (ip_addr_parse(s, &a) != 0)
		fail_msg("bad address %s", s);
	return a;
}

/* The prefixes of n as "a b c". */
static inline void
nlri_str(const struct bgp_nlri *n, char *out, size_t cap)
{
	struct bgp_nlri_it it;
	struct ip_prefix p;
	uint32_t id;
	size_t len = 0;
	out[0] = 0;
	bgp_nlri_iter(n, &it);
	while (bgp_nlri_next(&it, &p, &id)) {
		char b[IP_STRLEN];
		ip_prefix_fmt(&p, b);
		len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? " " : "", b);
		assert_true(len < cap);
	}
}

static inline struct bgp_params
sess(uint32_t local, uint32_t peer, bool as4)
{
	struct bgp_params p;
	bgp_params_default(&p, local, peer);
	p.as4 = as4;
	return p;
}

/* ---- attribute snippets (hex): eBGP from AS 65001, 4-octet unless said ---- */

#define ORIGIN  "40010100 "
#define ASPATH  "4002060201 0000fde9 "
#define ASPATH2 "4002040201 fde9 "
#define IASPATH "400200 "
#define NEXTHOP "400304 c0000201 "
#define LPREF   "40050400000064 "
#define BASE    ORIGIN ASPATH NEXTHOP
#define BASE2   ORIGIN ASPATH2 NEXTHOP
#define IBASE   ORIGIN IASPATH NEXTHOP LPREF
#define PFX     "18c63364"
#define MP6     "800e1c 000201 10 20010db8000000000000000000000001 00 30 20010db80001 "
#define MPU6    "800f03 000201 "

#endif
