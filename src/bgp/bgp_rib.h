/*
 * bgp_rib.h - interned attribute sets and the per-peer route tables (Adj-RIB-In,
 * Adj-RIB-Out) of the speaker. Internal to src/bgp; bgp_speaker.h exposes
 * attribute sets to users as an opaque, refcounted type.
 *
 * Attribute sets (bgp_attrset.c): one copy per distinct canonical set, in a
 * table per speaker (struct bgp_atab), found by content (XXH3 of a compact
 * serialization), counted by reference. A route stores one pointer to its set.
 *
 * Route tables (bgp_rib.c): prefix -> (set, flags), one open-addressing hash
 * table per family with 16-byte IPv4 and 32-byte IPv6 slots. Exact match is
 * all a RIB of received or sent routes needs; longest-prefix match is the
 * routing engine's (ip/lpm.h), which this table does not duplicate.
 */
#ifndef STRAIT_BGP_RIB_H
#define STRAIT_BGP_RIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgp/bgp_msg.h"

/* ---- attribute sets ---------------------------------------------------------- */
struct bgp_atab;

struct bgp_attrset {
	struct bgp_attrset *next; /* hash chain */
	struct bgp_atab *tab;
	uint64_t hash;
	uint32_t refs;
	uint32_t len; /* of blob: the canonical serialization (bgp_attrset.c) */
	uint8_t blob[];
};

struct bgp_atab {
	struct bgp_attrset **b;
	uint32_t nb;      /* buckets, a power of two */
	uint32_t n;       /* distinct sets */
	size_t bytes;     /* sets and buckets */
	uint8_t *scratch; /* canonicalization and serialization */
	size_t scratch_cap;
};

void bgp_atab_init(struct bgp_atab *t);
/* Frees the table and every set still in it. */
void bgp_atab_free(struct bgp_atab *t);
/* The set equal to a (canonicalized here when it is not), with a new
 * reference; NULL with -EINVAL in *err when a cannot be made canonical. */
struct bgp_attrset *bgp_atab_intern(struct bgp_atab *t, const struct bgp_attrs *a, int *err);
struct bgp_attrset *bgp_aset_ref(struct bgp_attrset *s);
void bgp_aset_unref(struct bgp_attrset *s);
/* The set's attributes; spans point into s, valid while a reference is. */
void bgp_aset_get(const struct bgp_attrset *s, struct bgp_attrs *out);

/* ---- route tables ---------------------------------------------------------------- */
#define BGP_RF_STALE    0x01u /* graceful restart: kept from the last session */
#define BGP_RF_FILTERED 0x02u /* received, not accepted by the import policy */
#define BGP_RF_REFRESH  0x04u /* enhanced route refresh: not announced since BoRR */

struct bgp_rib_fam {
	void *v;       /* slots: struct rib4 / struct rib6 (bgp_rib.c) */
	uint32_t n;    /* routes */
	uint32_t cap;  /* slots */
	uint8_t fam;   /* BGP_FAM_IPV4 or _IPV6 */
	uint64_t seed; /* of the hash; a new one at each resize (bgp_rib.c) */
};

struct bgp_rib {
	struct bgp_rib_fam f[BGP_FAM_N];
};

void bgp_rib_init(struct bgp_rib *r);
/* Drops every route (their references) and the tables. */
void bgp_rib_free(struct bgp_rib *r);
void bgp_rib_clear_fam(struct bgp_rib *r, uint8_t fam);

/* Stores p -> set (taking a reference) with flags; returns the set p had,
 * whose reference passes to the caller, or NULL. p must be canonical. */
struct bgp_attrset *bgp_rib_put(struct bgp_rib *r, const struct ip_prefix *p,
                                struct bgp_attrset *set, uint8_t flags);
/* The set of p (no new reference) and its flags, or NULL. */
struct bgp_attrset *bgp_rib_get(const struct bgp_rib *r, const struct ip_prefix *p, uint8_t *flags);
/* Sets flags of p to (flags & ~clear) | set; false when p is absent. */
bool bgp_rib_flag(struct bgp_rib *r, const struct ip_prefix *p, uint8_t clear, uint8_t set);
/* Starts loading p's home slot into the cache: a batch of lookups prefetched first
 * waits for memory once, not once per prefix (a table of a million routes does not
 * fit in the cache). */
void bgp_rib_prefetch(const struct bgp_rib *r, const struct ip_prefix *p);
/* Removes p; returns its set (the reference passes to the caller) or NULL. */
struct bgp_attrset *bgp_rib_del(struct bgp_rib *r, const struct ip_prefix *p, uint8_t *flags);

uint32_t bgp_rib_count(const struct bgp_rib *r, uint8_t fam);
uint32_t bgp_rib_total(const struct bgp_rib *r);
/* Bytes of the tables (not of the sets, which are shared). */
size_t bgp_rib_bytes(const struct bgp_rib *r);
/* The longest distance of a route from its home slot, over both families: what a
 * lookup may probe (a scan of the table: for tests). */
uint32_t bgp_rib_max_probe(const struct bgp_rib *r);

/* Iteration in table order; no insertions or deletions meanwhile (flag
 * changes through the pointer are fine). */
struct bgp_rib_it {
	uint8_t fam;
	uint32_t i;
};
void bgp_rib_iter(struct bgp_rib_it *it);
bool bgp_rib_next(const struct bgp_rib *r, struct bgp_rib_it *it, struct ip_prefix *p,
                  struct bgp_attrset **set, uint8_t **flags);

#endif
