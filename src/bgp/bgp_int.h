/*
 * bgp_int.h - what the codec's files share and nothing outside src/bgp
 * should call: the UPDATE decoder's state (bgp_update.c drives it,
 * bgp_attr.c fills it one attribute at a time) and the AS_PATH helpers the
 * encoder uses for 2-octet peers.
 */
#ifndef STRAIT_BGP_INT_H
#define STRAIT_BGP_INT_H

#include "bgp/bgp_msg.h"

/* One UPDATE being decoded. */
struct bgp_upd_state {
	const struct bgp_params *p;
	struct bgp_update *u;
	uint8_t seen[32]; /* bitmap of attribute types met, discarded ones too */
	struct bgp_aspath_info path, path4;
	bool has_as4_aggr;
	uint32_t as4_aggr_as, as4_aggr_id;
	bool not_only_unreach; /* an attribute other than MP_UNREACH (RFC 7606 5.2) */
};

/* One path attribute as framed: flags, type, the whole TLV and its value. */
struct bgp_attr_in {
	uint8_t flags, type;
	const uint8_t *whole;
	size_t whole_len;
	struct bgp_cur v;
	uint16_t len;
};

/* bgp_update.c: records an error; the strongest verdict wins (RFC 7606 3.f). */
void bgp_upd_note(struct bgp_update *u, enum bgp_verdict v, uint8_t attr, uint8_t subcode,
                  const uint8_t *data, size_t len, const char *why);

/* bgp_attr.c */
void bgp_attr_decode(struct bgp_upd_state *s, const struct bgp_attr_in *a);
/* RFC 6793 4.2.3 for AGGREGATOR/AS4_AGGREGATOR and whether AS4_PATH is used. */
void bgp_attr_merge_as4(struct bgp_upd_state *s);

/* bgp_aspath.c */
bool bgp_aspath_needs_as4(const struct bgp_span *p);
void bgp_aspath_put_narrow(const struct bgp_span *p, struct bgp_wr *w);
void bgp_aspath_put_as4(const struct bgp_span *p, struct bgp_wr *w);
size_t bgp_aspath_as4_len(const struct bgp_span *p);

#endif
