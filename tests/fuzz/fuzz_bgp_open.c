/*
 * fuzz_bgp_open.c - libFuzzer target for the BGP codec's session messages
 * (src/bgp/bgp_msg.c, bgp_open.c): the input is one message, header
 * included, handed to the header check and to every session-message decoder
 * (OPEN, NOTIFICATION, ROUTE-REFRESH), whatever its type field says, so each
 * decoder meets every shape of input.
 *
 * Properties, each an abort when broken:
 *   - a decoder either succeeds or names a NOTIFICATION of its own code
 *     (header 1, OPEN 2, ROUTE-REFRESH 7) with a reason;
 *   - a decoded OPEN encodes (the capabilities in one parameter, RFC 9072
 *     form where needed) and decodes back to the same AS, hold time,
 *     identifier and capabilities;
 *   - the acceptance policy and the negotiation with a typical local OPEN
 *     give sane parameters (families both sides enabled, sizes 4096/65535);
 *   - a decoded shutdown communication is valid UTF-8 of at most 255 bytes.
 * ASan, UBSan and LeakSanitizer catch the rest (libFuzzer's buffer is sized
 * exactly, so any read past the message is reported).
 */
#include "bgp/bgp_msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
die(const char *why)
{
	fprintf(stderr, "fuzz_bgp_open: %s\n", why);
	abort();
}

static bool
af_list_eq(const struct bgp_af *x, const struct bgp_af *y, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (x[i].afi != y[i].afi || x[i].safi != y[i].safi || x[i].flags != y[i].flags)
			return false;
	return true;
}

static bool
bytes_eq(const uint8_t *x, const uint8_t *y, size_t n)
{
	return n == 0 || memcmp(x, y, n) == 0;
}

static void
same_caps(const struct bgp_caps *x, const struct bgp_caps *y)
{
	if (x->has != y->has)
		die("capability set changed in the round trip");
	if ((x->has & BGP_CAPF_AS4) && x->as4 != y->as4)
		die("AS4 capability changed");
	if ((x->has & BGP_CAPF_GR) && (x->gr_flags != y->gr_flags || x->gr_time != y->gr_time))
		die("graceful restart header changed");
	if (x->n_mp != y->n_mp || !af_list_eq(x->mp, y->mp, x->n_mp) || x->n_gr != y->n_gr ||
	    !af_list_eq(x->gr, y->gr, x->n_gr) || x->n_addpath != y->n_addpath ||
	    !af_list_eq(x->addpath, y->addpath, x->n_addpath))
		die("per-family capabilities changed");
	if ((x->has & BGP_CAPF_FQDN) &&
	    (x->host_len != y->host_len || x->domain_len != y->domain_len ||
	     !bytes_eq(x->host, y->host, x->host_len) ||
	     !bytes_eq(x->domain, y->domain, x->domain_len)))
		die("FQDN capability changed");
	if (x->n_other != y->n_other)
		die("unknown capabilities changed");
	for (unsigned i = 0; i < x->n_other; i++)
		if (x->other[i].code != y->other[i].code || x->other[i].len != y->other[i].len ||
		    !bytes_eq(x->other[i].val, y->other[i].val, x->other[i].len))
			die("an unknown capability changed");
}

static void
check_err(int rc, const struct bgp_err *e, uint8_t code)
{
	if (rc == 0 || rc == -ENOENT || rc == -EAGAIN)
		return;
	if (rc != -EBADMSG || e->code != code || !e->why || e->len > BGP_MAX_MSG)
		die("a failure without the right NOTIFICATION");
}

static void
negotiate(const struct bgp_open *o)
{
	struct bgp_open l;
	struct bgp_params p;
	struct bgp_err e;
	struct bgp_open_policy pol = {.peer_as = 65010,
	                              .local_as = 12076,
	                              .local_id = 1,
	                              .min_hold = 10,
	                              .require = BGP_CAPF_AS4,
	                              .require_fams = BGP_FAM_BIT(BGP_FAM_IPV4)};

	memset(&l, 0, sizeof(l));
	l.as = 12076;
	l.hold = 180;
	l.id = 1;
	l.caps.has = BGP_CAPF_MP | BGP_CAPF_AS4 | BGP_CAPF_RR | BGP_CAPF_EXT_MSG;
	l.caps.as4 = 12076;
	l.caps.n_mp = 2;
	l.caps.mp[0] = (struct bgp_af){1, 1, 0};
	l.caps.mp[1] = (struct bgp_af){2, 1, 0};
	check_err(bgp_open_check(o, &pol, &e), &e, BGP_ERR_OPEN);
	bgp_params_negotiate(&p, &l, o);
	if ((p.rx_max != BGP_MAX_MSG && p.rx_max != BGP_MAX_EXT_MSG) ||
	    (p.tx_max != BGP_MAX_MSG && p.tx_max != BGP_MAX_EXT_MSG) ||
	    (p.fams & ~(BGP_FAM_BIT(BGP_FAM_IPV4) | BGP_FAM_BIT(BGP_FAM_IPV6))) ||
	    (p.addpath_rx & ~p.fams) || (p.addpath_tx & ~p.fams) || p.hold > o->hold)
		die("negotiated parameters out of range");
}

static void
open_roundtrip(const struct bgp_open *o)
{
	static uint8_t buf[BGP_MAX_MSG];
	struct bgp_wr w = bgp_wr_make(buf, sizeof(buf));
	struct bgp_open d;
	struct bgp_err e;
	int rc = bgp_open_encode(&w, o);

	if (rc != 0)
		die("a decoded OPEN does not encode");
	if (bgp_open_decode(buf, w.len, &d, &e) != 0)
		die("an encoded OPEN does not decode");
	if (d.as != o->as || d.hold != o->hold || d.id != o->id || d.version != BGP_VERSION ||
	    (o->ext_params && !d.ext_params))
		die("OPEN fields changed in the round trip");
	same_caps(&o->caps, &d.caps);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bgp_hdr h;
	struct bgp_err e;
	struct bgp_open o;
	struct bgp_notification nt;
	struct bgp_rr rr;
	int rc;

	check_err(bgp_hdr_decode(data, size, BGP_MAX_MSG, &h, &e), &e, BGP_ERR_HEADER);
	check_err(bgp_hdr_decode(data, size, BGP_MAX_EXT_MSG, &h, &e), &e, BGP_ERR_HEADER);
	rc = bgp_open_decode(data, size, &o, &e);
	check_err(rc, &e, BGP_ERR_OPEN);
	if (rc == 0) {
		open_roundtrip(&o);
		negotiate(&o);
	}
	if (size >= BGP_NOTIFY_MIN && bgp_notify_decode(data, size, &nt) == 0 && nt.shut &&
	    (nt.shut_bad || !bgp_utf8_valid(nt.shut, nt.shut_len)))
		die("a shutdown communication that is not UTF-8");
	check_err(bgp_rr_decode(data, size, &rr, &e), &e, BGP_ERR_RR);
	return 0;
}
