/*
 * lpm.h - longest-prefix match over IPv4 and IPv6 routes, built for tables of
 * a million prefixes (an on-premises full table) as well as for the small
 * tables of one subnet.
 *
 * A table maps prefixes to 31-bit values (0..LPM_VMAX; callers store an index
 * into their own route array or a next-hop id). lpm_lookup answers the value
 * of the longest prefix that contains an address, or LPM_NONE. The table
 * keeps two parts per family:
 *
 *   - the RIB, the prefixes themselves, sorted in prefix order (address, then
 *     length): those no longer than the direct-table width s in one sorted
 *     array, the longer ones in one sorted bucket per /s block. It answers
 *     lpm_get, lpm_match and iteration, and is what the FIB is built from;
 *   - the FIB, a Poptrie (Asai and Ohara, SIGCOMM 2015): a direct table of
 *     2^s entries on the top s bits, each a value or a root; nodes of 6-bit
 *     strides, each with a 64-bit bitmap of child nodes and a 64-bit bitmap
 *     of leaf runs, so that children and leaves are found by popcount in
 *     contiguous arrays. Leaves are 16-bit while every value fits. IPv6
 *     uses the same structure over 128-bit keys (s up to 16, so up to 19
 *     node levels): the simple choice, one builder, one update path and one
 *     set of tests for both families; it costs memory and speed on large
 *     sparse IPv6 tables (see bench/bench_lpm.c), which estates do not have.
 *
 * s grows with the table: v4 6, 12 or 18 bits (strides end on /24, the most
 * common length), v6 8, 12 or 16. lpm_build replaces the whole table in
 * O(n) (radix sort, then one pass per level). lpm_insert and lpm_delete edit
 * the RIB and redo only what the prefix touches (the what-if contract):
 *
 *   - a prefix longer than s: a binary search in its bucket, then the nodes
 *     on its path, O(depth * (64 + log bucket)), plus rebuilding the subtrees
 *     below it that inherit its value, O(prefixes below it): ~2 us each on
 *     the 1M-prefix bench, 1/70,000 of a full build;
 *   - a prefix of length L <= s: 2^(s-L) direct entries repainted and the
 *     blocks under them whose inherited value changed rebuilt: a /16 under
 *     s = 18 touches 4 blocks, a /8 1,024, a default route all of them.
 *
 * Replaced nodes are garbage until they outweigh the live ones, then the FIB
 * is rebuilt from the RIB (amortised O(1) per replaced node); crossing a size
 * threshold changes s and rebuilds the family.
 *
 * Not thread-safe for updates; any number of readers may share a table
 * that nobody updates. An iterator is invalidated by an update.
 */
#ifndef STRAIT_LPM_H
#define STRAIT_LPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ip/ip.h"

#define LPM_NONE UINT32_MAX
#define LPM_VMAX 0x7fffffffu

struct lpm_route {
	struct ip_prefix p;
	uint32_t val;
};

/* ---- layout (shared by lpm*.c; callers use the functions) --------------- */

/* A prefix as a 128-bit key: IPv4 in the top 32 bits of hi, the rest zero. */
struct lpm_ent {
	uint64_t hi, lo;
	uint32_t val;
	uint8_t len;
};

/* One /s block's prefixes longer than s; cap == 0 means v points into bulk. */
struct lpm_bkt {
	struct lpm_ent *v;
	uint32_t n, cap;
};

/* A Poptrie node: 64 slots, each a child node or a leaf. */
struct lpm_node {
	uint64_t vec;     /* bit i: slot i is a child node */
	uint64_t leafvec; /* bit i: slot i starts a new run of leaf values */
	uint32_t base1;   /* first child in node[] */
	uint32_t base0;   /* first leaf in leaf[] */
};

struct lpm_fam {
	/*
	 * FIB: dir[i] is a value (<= LPM_VMAX or LPM_NONE), LPM_DNODE | node
	 * index, or LPM_DLNODE | lpool index of an lnode: a root without
	 * children (most roots: a /s block holding prefixes no longer than
	 * s+6), stored as its leafvec followed by its leaves, so that a lookup
	 * ending there reads the direct table and one place, nothing else.
	 */
	uint32_t *dir;
	struct lpm_node *node;
	void *leaf; /* uint16_t (LPM_NONE as 0xffff) while every value fits, else uint32_t */
	uint64_t *lpool;
	uint32_t nnode, capnode, nleaf, capleaf, nlpool, caplpool; /* lpool in 8-byte words */
	uint32_t gnode, gleaf, glpool; /* garbage left by rebuilds of subtrees */
	uint32_t nlnode;               /* live lnodes */
	uint8_t s, maxlen, wide;
	/* RIB */
	struct lpm_ent *shrt; /* prefixes of length <= s, sorted */
	uint32_t nshrt, capshrt;
	struct lpm_bkt *bkt;  /* 2^s buckets; NULL while the family is empty */
	struct lpm_ent *bulk; /* backing store of the buckets lpm_build filled */
	uint32_t nbulk, n;
	uint32_t *lencnt; /* prefixes per length (maxlen + 1; NULL while empty) */
};

#define LPM_DNODE  0x80000000u
#define LPM_DLNODE 0xc0000000u
#define LPM_DIDX   0x3fffffffu /* index part; all ones is LPM_NONE, never an index */

struct lpm {
	struct lpm_fam f4, f6;
	uint64_t nrebuild; /* full FIB rebuilds (build, growth, garbage) */
};

/* ---- API ---------------------------------------------------------------- */

void lpm_init(struct lpm *t);
void lpm_free(struct lpm *t);

/*
 * Replaces the table with n routes (both families mixed). Host bits are
 * ignored; a prefix given twice keeps its last value. Returns 0, -EINVAL (bad
 * family or length) or -ERANGE (value above LPM_VMAX); on error the table is
 * unchanged.
 */
int lpm_build(struct lpm *t, const struct lpm_route *r, size_t n);
/* Adds or replaces: 0 added, 1 replaced, -EINVAL, -ERANGE. */
int lpm_insert(struct lpm *t, const struct ip_prefix *p, uint32_t val);
/* 0 or -ENOENT. */
int lpm_delete(struct lpm *t, const struct ip_prefix *p);

/* Exact match: the value stored for p, or LPM_NONE. */
uint32_t lpm_get(const struct lpm *t, const struct ip_prefix *p);
/* Longest match: the value, or LPM_NONE. */
uint32_t lpm_lookup(const struct lpm *t, const struct ip_addr *a);
uint32_t lpm_lookup4(const struct lpm *t, uint32_t a); /* a in host order */
uint32_t lpm_lookup6(const struct lpm *t, const uint8_t b[16]);
void lpm_lookup4_batch(const struct lpm *t, const uint32_t *a, uint32_t *out, size_t n);
/* Longest match with its prefix (from the RIB, slower); false when none. */
bool lpm_match(const struct lpm *t, const struct ip_addr *a, struct lpm_route *out);

size_t lpm_count(const struct lpm *t);

/* Iteration in prefix order: IPv4 first, each family by address then length. */
struct lpm_iter {
	const struct lpm *t;
	unsigned fam; /* 0 v4, 1 v6, 2 done */
	uint32_t si, bi, bj;
};
void lpm_iter_init(struct lpm_iter *it, const struct lpm *t);
bool lpm_iter_next(struct lpm_iter *it, struct lpm_route *out);

struct lpm_stats {
	size_t n4, n6;
	size_t fib_bytes;               /* lookup structure, as allocated */
	size_t fib_live;                /* lookup structure without garbage and spare capacity */
	size_t rib_bytes;               /* prefix store */
	uint32_t nodes, lnodes, leaves; /* live */
	uint8_t s4, s6;
	uint64_t nrebuild;
};
void lpm_stats(const struct lpm *t, struct lpm_stats *st);

/* ---- reference: a plain binary trie, one bit per level (tests, bench) --- */

struct lpm_ref_node {
	uint32_t c[2]; /* 0: none (node 0 is a root, never a child) */
	uint32_t val;
};

struct lpm_ref {
	struct lpm_ref_node *n;
	uint32_t nn, cap;
	size_t count;
};

void lpm_ref_init(struct lpm_ref *r);
void lpm_ref_free(struct lpm_ref *r);
int lpm_ref_insert(struct lpm_ref *r, const struct ip_prefix *p, uint32_t val); /* 0 or 1 */
int lpm_ref_delete(struct lpm_ref *r, const struct ip_prefix *p);               /* 0 or -ENOENT */
uint32_t lpm_ref_get(const struct lpm_ref *r, const struct ip_prefix *p);
uint32_t lpm_ref_lookup(const struct lpm_ref *r, const struct ip_addr *a);
uint32_t lpm_ref_lookup4(const struct lpm_ref *r, uint32_t a);
size_t lpm_ref_bytes(const struct lpm_ref *r);

/* ---- internal, between lpm.c, lpm_pop.c and lpm_upd.c ----------------- */

/* The direct table of an empty family (s of 6 or 8, all LPM_NONE). */
extern const uint32_t lpm_empty_dir[256];

/* A direct entry is a value when e+1 <= LPM_DNODE (values and LPM_NONE). */
#define LPM_IS_VALUE(e) ((uint32_t)((e) + 1u) <= LPM_DNODE)

/* lpm.c: keys and the sorted RIB */
void lpm_mask(uint64_t *hi, uint64_t *lo, unsigned len);
int lpm_ent_cmp(const struct lpm_ent *x, const struct lpm_ent *y);
uint32_t lpm_lower_bound(const struct lpm_ent *v, uint32_t n, const struct lpm_ent *key);

/* lpm_pop.c: building blocks */
unsigned lpm_slot6(const struct lpm_ent *e, unsigned d);
uint32_t lpm_node_alloc(struct lpm_fam *f, uint32_t k);
uint32_t lpm_leaf_alloc(struct lpm_fam *f, uint32_t k);
uint32_t lpm_leaf_get(const struct lpm_fam *f, uint32_t i);
void lpm_leaf_put(struct lpm_fam *f, uint32_t at, const uint32_t *v, uint32_t n);
/* Node at (depth d) from the n prefixes e inside its block, inheriting inh. */
void lpm_build_node(struct lpm_fam *f, const struct lpm_ent *e, uint32_t n, unsigned d,
                    uint32_t inh, uint32_t at);
/* Adds the nodes and array leaves of the subtree at to *nn and *nl. */
void lpm_count_subtree(const struct lpm_fam *f, uint32_t at, uint32_t *nn, uint32_t *nl);

void lpm_pop_build(struct lpm_fam *f); /* whole FIB */
size_t lpm_pop_bytes(const struct lpm_fam *f, bool live);
void lpm_pop_slot(struct lpm_fam *f, uint32_t i, uint32_t inherited); /* one /s block */

/* lpm_upd.c: after long prefix p changed in bucket i (already edited, not
 * empty), fixes the nodes on p's path. before and after are p's value
 * (LPM_NONE: absent), inherited block i's. */
void lpm_pop_update(struct lpm_fam *f, uint32_t i, const struct lpm_ent *p, uint32_t inherited,
                    uint32_t before, uint32_t after);

#endif
