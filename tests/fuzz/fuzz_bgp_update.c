/*
 * fuzz_bgp_update.c - libFuzzer target for UPDATE decoding under RFC 7606
 * (src/bgp/bgp_update.c, bgp_attr.c, bgp_nlri.c, bgp_aspath.c) and, through
 * round trips, the encoder (bgp_upd_enc.c).
 *
 * The first input byte picks the session: bit 0 4-octet ASes, bit 1 eBGP,
 * bit 2/3 ADD-PATH for IPv4/IPv6, bit 4 extended messages, bit 5
 * enforce-first-as. The rest is one UPDATE, header included (the decoder
 * does not look at the header; bgp_hdr_decode has its own target).
 *
 * Properties, each an abort when broken:
 *   - -EBADMSG comes with the RESET verdict and an UPDATE Message Error;
 *     any verdict but OK names its reason;
 *   - every decoded NLRI field walks to exactly its count of prefixes, each
 *     within its family's length with no host bits set;
 *   - bgp_attrs_canon succeeds in the room it asks for;
 *   - when the UPDATE stands (OK or DISCARD), each of its prefix sets is
 *     encoded again (bgp_update_split, as few UPDATEs as fit) and each
 *     message decodes OK to the same prefixes, path ids and attributes.
 *     Two cases RFC 6793 cannot carry to a 2-octet peer are compared without
 *     the AS path: a 4-octet AS in a confederation segment, and an
 *     AGGREGATOR whose 2-octet AS makes the receiver ignore AS4_PATH.
 */
#include "bgp/bgp_msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXP 65536

static struct ip_prefix want[MAXP];
static uint32_t want_id[MAXP];
static uint8_t canon_a[2 * BGP_MAX_EXT_MSG], canon_b[2 * BGP_MAX_EXT_MSG];
static uint8_t out[BGP_MAX_EXT_MSG];

static void
die(const char *why)
{
	fprintf(stderr, "fuzz_bgp_update: %s\n", why);
	abort();
}

static struct bgp_params
params(uint8_t mode)
{
	struct bgp_params p;
	bgp_params_default(&p, 12076, 65001);
	p.as4 = mode & 1;
	p.ebgp = mode & 2;
	if (mode & 4)
		p.addpath_rx |= BGP_FAM_BIT(BGP_FAM_IPV4);
	if (mode & 8)
		p.addpath_rx |= BGP_FAM_BIT(BGP_FAM_IPV6);
	p.addpath_tx = p.addpath_rx;
	if (mode & 16)
		p.rx_max = p.tx_max = BGP_MAX_EXT_MSG;
	p.enforce_first_as = mode & 32;
	return p;
}

/* Walks n into want[]; checks each prefix. */
static size_t
collect(const struct bgp_nlri *n)
{
	struct bgp_nlri_it it;
	struct ip_prefix p;
	uint32_t id;
	size_t k = 0;

	bgp_nlri_iter(n, &it);
	while (bgp_nlri_next(&it, &p, &id)) {
		struct ip_prefix m = p;
		if (k == MAXP || p.len > ip_maxlen(p.a.af))
			die("a prefix out of range");
		ip_prefix_mask(&m);
		if (ip_prefix_cmp(&m, &p) != 0)
			die("a prefix with host bits set");
		want[k] = p;
		want_id[k++] = n->addpath ? id : 0;
	}
	if (n->fam != BGP_FAM_NONE && k != n->count)
		die("an NLRI field walks to another count than decoded");
	return k;
}

static void
canon(struct bgp_attrs *a, uint8_t *buf)
{
	if (bgp_attrs_canon_room(a) > 2 * BGP_MAX_EXT_MSG ||
	    bgp_attrs_canon(a, buf, bgp_attrs_canon_room(a)) != 0)
		die("bgp_attrs_canon failed in the room it asked for");
}

struct check {
	const struct bgp_params *p;
	const struct bgp_attrs *a; /* NULL: withdrawals */
	bool lossy;                /* compare without the AS path */
	size_t next, total;
};

static const struct bgp_nlri *
section(const struct bgp_update *u, bool withdraw, uint8_t fam)
{
	if (withdraw)
		return fam == BGP_FAM_IPV4 && u->withdrawn.count ? &u->withdrawn : &u->mp_unreach;
	return fam == BGP_FAM_IPV4 && u->nlri.count ? &u->nlri : &u->mp_reach;
}

static void
same_attrs(struct check *c, const struct bgp_update *u, const struct bgp_nlri *n)
{
	struct bgp_attrs x = *c->a, y;

	bgp_update_attrs(u, n, &y);
	canon(&y, canon_b);
	x.has &= ~BGP_HAS(BGP_ATTR_NEXT_HOP);
	y.has &= ~BGP_HAS(BGP_ATTR_NEXT_HOP);
	if (c->lossy)
		x.aspath = y.aspath;
	if (!bgp_attrs_equal(&x, &y))
		die("attributes changed in the round trip");
}

static int
emit(void *arg, const uint8_t *msg, size_t len)
{
	struct check *c = arg;
	struct bgp_update u;
	struct bgp_nlri_it it;
	struct ip_prefix p;
	uint32_t id;

	if (len > c->p->tx_max)
		die("an UPDATE over the maximum size");
	if (bgp_update_decode(c->p, msg, len, &u) != 0 || u.verdict != BGP_VERDICT_OK) {
		fprintf(stderr, "re-decoded: %s\n", u.why ? u.why : "-");
		die("an encoded UPDATE does not decode cleanly");
	}
	const struct bgp_nlri *n = section(&u, c->a == NULL, bgp_fam_of_af(want[c->next].a.af));
	bgp_nlri_iter(n, &it);
	while (bgp_nlri_next(&it, &p, &id)) {
		if (c->next == c->total || ip_prefix_cmp(&p, &want[c->next]) != 0 ||
		    (n->addpath && id != want_id[c->next]))
			die("prefixes changed in the round trip");
		c->next++;
	}
	if (c->a)
		same_attrs(c, &u, n);
	return 0;
}

static bool
confed_wide(const struct bgp_attrs *a)
{
	struct bgp_aspath_it it;
	uint8_t t;
	uint32_t as;
	bgp_aspath_iter(&it, &a->aspath, true);
	while (bgp_aspath_next(&it, &t, &as))
		if (as > 0xffff && (t == BGP_AS_CONFED_SEQUENCE || t == BGP_AS_CONFED_SET))
			return true;
	return false;
}

/* RFC 6793 cannot carry these to a 2-octet peer exactly. */
static bool
lossy(const struct bgp_params *p, const struct bgp_attrs *a)
{
	if (p->as4)
		return false;
	return confed_wide(a) || ((a->has & BGP_HAS(BGP_ATTR_AGGREGATOR)) &&
	                          a->aggr_as != BGP_AS_TRANS && a->aggr_as <= 0xffff);
}

static void
roundtrip(const struct bgp_params *p, const struct bgp_update *u, const struct bgp_nlri *n)
{
	struct bgp_attrs a;
	struct check c = {p, NULL, false, 0, 0};
	bool withdraw = n == &u->withdrawn || n == &u->mp_unreach;
	int rc;

	if (n->fam == BGP_FAM_NONE || n->count == 0)
		return;
	c.total = collect(n);
	if (!withdraw) {
		bgp_update_attrs(u, n, &a);
		canon(&a, canon_a);
		c.a = &a;
		c.lossy = lossy(p, &a);
	}
	rc = bgp_update_split(p, c.a, want, n->addpath ? want_id : NULL, c.total, out, sizeof(out),
	                      emit, &c);
	if (rc == -EMSGSIZE)
		return; /* the attributes grew past the maximum (AS4_PATH, NEXT_HOP) */
	if (rc < 0)
		die("a decoded prefix set does not encode");
	if (c.next != c.total)
		die("prefixes lost in the round trip");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bgp_params p;
	struct bgp_update u;
	int rc;

	if (size == 0)
		return 0;
	p = params(data[0]);
	rc = bgp_update_decode(&p, data + 1, size - 1, &u);
	if ((rc == -EBADMSG) != (u.verdict == BGP_VERDICT_RESET) || (rc != 0 && rc != -EBADMSG))
		die("return code and verdict disagree");
	if (u.verdict == BGP_VERDICT_RESET && (u.err.code != BGP_ERR_UPDATE || !u.err.why))
		die("a reset without an UPDATE Message Error");
	if (u.verdict != BGP_VERDICT_OK && !u.why)
		die("a verdict without a reason");
	if (rc != 0)
		return 0;
	collect(&u.withdrawn);
	collect(&u.mp_unreach);
	collect(&u.nlri);
	collect(&u.mp_reach);
	if (u.verdict == BGP_VERDICT_WITHDRAW)
		return 0;
	roundtrip(&p, &u, &u.nlri);
	roundtrip(&p, &u, &u.mp_reach);
	roundtrip(&p, &u, &u.withdrawn);
	roundtrip(&p, &u, &u.mp_unreach);
	return 0;
}
