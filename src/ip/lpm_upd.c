/*
 * lpm_upd.c - incremental updates of the Poptrie: after one prefix p of
 * length L changed in the RIB, fix only the nodes on its path.
 *
 * Walking down from p's /s block, each node on the way keeps its shape
 * unless p's slot turns from leaf to child (the first prefix below it) or
 * back (the last one gone): then the node gets a new child array (siblings
 * are copied as 24-byte structs, their subtrees stay where they are) and new
 * leaves. At the node where p lands (d < L <= d+6), the slots p covers that
 * no more specific prefix of that node covers change from p's old effective
 * value to its new one: leaves are rewritten, child subtrees are rebuilt
 * with the new inherited value. Cost: O(depth * (64 + log bucket)) plus the
 * prefixes below p that must inherit its new value. Replaced nodes and leaves
 * are counted as garbage for lpm.c to collect with a full FIB rebuild.
 *
 * A root without children (an lnode) is rebuilt whole: its bucket holds at
 * most the 126 prefixes of lengths s+1 to s+6 of one block, and one more.
 */
#include "ip/lpm.h"

#include <stdbool.h>
#include <string.h>

static uint32_t
rank(uint64_t vec, unsigned j)
{
	return (uint32_t)__builtin_popcountll(vec << (63 - j)) - 1;
}

/* e lies in the block of k's first d bits. */
static bool
inside(const struct lpm_ent *e, const struct lpm_ent *k, unsigned d)
{
	uint64_t hi = e->hi ^ k->hi, lo = e->lo ^ k->lo;
	lpm_mask(&hi, &lo, d);
	return !hi && !lo;
}

/* k's first d bits, then slot j as the next 6 (bits past 128 dropped). */
static struct lpm_ent
block_of(const struct lpm_ent *k, unsigned d, unsigned j)
{
	struct lpm_ent c = {.hi = k->hi, .lo = k->lo, .len = (uint8_t)(d + 6)};
	lpm_mask(&c.hi, &c.lo, d);
	int sh = 122 - (int)d;
	if (sh >= 64)
		c.hi |= (uint64_t)j << (sh - 64);
	else if (sh > 58) {
		c.hi |= (uint64_t)j >> (64 - sh);
		c.lo |= (uint64_t)j << sh;
	} else if (sh >= 0)
		c.lo |= (uint64_t)j << sh;
	else
		c.lo |= (uint64_t)j >> -sh;
	return c;
}

/* The longest prefix in b containing k with a length in (lo, hi], or NULL. */
static const struct lpm_ent *
bkt_longest(const struct lpm_fam *f, const struct lpm_bkt *b, const struct lpm_ent *k, unsigned lo,
            unsigned hi)
{
	for (unsigned l = hi; l > lo; l--) {
		if (!f->lencnt[l])
			continue;
		struct lpm_ent q = {.hi = k->hi, .lo = k->lo, .len = (uint8_t)l};
		lpm_mask(&q.hi, &q.lo, l);
		uint32_t i = lpm_lower_bound(b->v, b->n, &q);
		if (i < b->n && lpm_ent_cmp(&b->v[i], &q) == 0)
			return &b->v[i];
	}
	return NULL;
}

/* Start of the run of prefixes longer than d in the block of k's first d bits. */
static uint32_t
run_start(const struct lpm_bkt *b, const struct lpm_ent *k, unsigned d)
{
	struct lpm_ent q = {.hi = k->hi, .lo = k->lo, .len = (uint8_t)(d + 1)};
	lpm_mask(&q.hi, &q.lo, d);
	return lpm_lower_bound(b->v, b->n, &q);
}

static void
expand(const struct lpm_fam *f, const struct lpm_node *x, uint32_t val[64])
{
	for (unsigned j = 0; j < 64; j++)
		if (!(x->vec >> j & 1))
			val[j] = lpm_leaf_get(f, x->base0 + rank(x->leafvec, j));
}

/* Rewrites the leaves of node at from val (its vec already final). */
static void
compress(struct lpm_fam *f, uint32_t at, const uint32_t val[64], uint32_t oldnl)
{
	uint32_t lv[64], nl = 0;
	uint64_t leafvec = 0, vec = f->node[at].vec;
	for (unsigned j = 0; j < 64; j++) {
		if (vec >> j & 1)
			continue;
		if (!nl || val[j] != lv[nl - 1]) {
			leafvec |= 1ull << j;
			lv[nl++] = val[j];
		}
	}
	uint32_t base0 = f->node[at].base0;
	if (nl != oldnl) {
		f->gleaf += oldnl;
		base0 = lpm_leaf_alloc(f, nl);
	}
	lpm_leaf_put(f, base0, lv, nl);
	f->node[at].leafvec = leafvec;
	f->node[at].base0 = base0;
}

/* Builds node `at` for block k (depth d) from the run of b in it. */
static void
build_block(struct lpm_fam *f, const struct lpm_bkt *b, uint32_t at, const struct lpm_ent *k,
            unsigned d, uint32_t inh)
{
	uint32_t st = run_start(b, k, d), n = 0;
	while (st + n < b->n && inside(&b->v[st + n], k, d))
		n++;
	lpm_build_node(f, b->v + st, n, d, inh, at);
}

/* p (length in (d, d+6]) changed from before to after under node at. */
static void
land(struct lpm_fam *f, const struct lpm_bkt *b, uint32_t at, unsigned d, uint32_t inh,
     const struct lpm_ent *p, uint32_t before, uint32_t after)
{
	const struct lpm_ent *up = bkt_longest(f, b, p, d, p->len - 1u);
	uint32_t base = up ? up->val : inh;
	before = before == LPM_NONE ? base : before;
	after = after == LPM_NONE ? base : after;
	if (before == after)
		return;
	/* Slots under a more specific prefix of this level keep their value. */
	uint64_t covered = 0;
	for (uint32_t k = run_start(b, p, p->len); k < b->n && inside(&b->v[k], p, p->len); k++) {
		const struct lpm_ent *e = &b->v[k];
		if (e->len <= d + 6)
			covered |= (~0ull >> (64 - (1u << (d + 6 - e->len)))) << lpm_slot6(e, d);
	}
	uint32_t val[64];
	expand(f, &f->node[at], val);
	unsigned j = lpm_slot6(p, d), span = 1u << (d + 6 - p->len);
	for (unsigned k = j; k < j + span; k++) {
		if (covered >> k & 1)
			continue;
		struct lpm_node x = f->node[at];
		if (!(x.vec >> k & 1)) {
			val[k] = after;
			continue;
		}
		uint32_t c = x.base1 + rank(x.vec, k), nn = 0, nl = 0;
		lpm_count_subtree(f, c, &nn, &nl);
		f->gnode += nn - 1; /* the root's slot is reused */
		f->gleaf += nl;
		struct lpm_ent blk = block_of(p, d, k);
		build_block(f, b, c, &blk, d + 6, after);
	}
	compress(f, at, val, (uint32_t)__builtin_popcountll(f->node[at].leafvec));
}

/* p (longer than d) changed under node at (depth d, inherited value inh). */
static void
upd_node(struct lpm_fam *f, const struct lpm_bkt *b, uint32_t at, unsigned d, uint32_t inh,
         const struct lpm_ent *p, uint32_t before, uint32_t after)
{
	if (p->len <= d + 6) {
		land(f, b, at, d, inh, p, before, after);
		return;
	}
	unsigned j = lpm_slot6(p, d);
	struct lpm_node x = f->node[at];
	uint32_t nc = (uint32_t)__builtin_popcountll(x.vec), r = rank(x.vec | 1ull << j, j);
	struct lpm_ent blk = block_of(p, d, j);
	uint32_t st = run_start(b, &blk, d + 6);
	bool deeper = st < b->n && inside(&b->v[st], &blk, d + 6);
	if ((x.vec >> j & 1) && deeper) {
		const struct lpm_ent *up = bkt_longest(f, b, &blk, d, d + 6);
		upd_node(f, b, x.base1 + r, d + 6, up ? up->val : inh, p, before, after);
		return;
	}
	if (!(x.vec >> j & 1) && !deeper)
		return; /* nothing below this slot before or after */
	/* Slot j turns from leaf to child or back: new child array and leaves. */
	uint32_t val[64], oldnl = (uint32_t)__builtin_popcountll(x.leafvec);
	expand(f, &x, val);
	if (deeper) {
		uint32_t base1 = lpm_node_alloc(f, nc + 1);
		memcpy(f->node + base1, f->node + x.base1, r * sizeof(*f->node));
		memcpy(f->node + base1 + r + 1, f->node + x.base1 + r, (nc - r) * sizeof(*f->node));
		f->gnode += nc;
		f->node[at].vec = x.vec | 1ull << j;
		f->node[at].base1 = base1;
		build_block(f, b, base1 + r, &blk, d + 6, val[j]);
	} else {
		const struct lpm_ent *up = bkt_longest(f, b, &blk, d, d + 6);
		val[j] = up ? up->val : inh;
		uint32_t nn = 0, nl = 0, base1 = nc > 1 ? lpm_node_alloc(f, nc - 1) : 0;
		lpm_count_subtree(f, x.base1 + r, &nn, &nl);
		f->gnode += nn + nc - 1;
		f->gleaf += nl;
		memcpy(f->node + base1, f->node + x.base1, r * sizeof(*f->node));
		memcpy(f->node + base1 + r, f->node + x.base1 + r + 1,
		       (nc - r - 1) * sizeof(*f->node));
		f->node[at].vec = x.vec & ~(1ull << j);
		f->node[at].base1 = base1;
	}
	compress(f, at, val, oldnl);
}

void
lpm_pop_update(struct lpm_fam *f, uint32_t i, const struct lpm_ent *p, uint32_t inherited,
               uint32_t before, uint32_t after)
{
	uint32_t e = f->dir[i];
	if ((e & LPM_DLNODE) == LPM_DLNODE) /* no children: its bucket is small, rebuild */
		lpm_pop_slot(f, i, inherited);
	else
		upd_node(f, &f->bkt[i], e & LPM_DIDX, f->s, inherited, p, before, after);
}
