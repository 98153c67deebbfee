/*
 * lpm_pop.c - the lookup structure: a Poptrie built from the sorted RIB.
 *
 * The RIB is in prefix order (address, then length), which is the pre-order
 * of the binary trie: the prefixes inside any block are one contiguous run,
 * and a prefix comes before every prefix it contains. So a node at depth d
 * is built from its run in one pass: a prefix of length <= d+6 paints the
 * 2^(d+6-len) slots it covers (an ancestor paints first, a more specific one
 * overwrites it: longest match), a longer one marks its slot as a child and
 * extends the child's run. Slots that are leaves are run-length compressed:
 * leafvec has a bit where the value differs from the previous leaf slot.
 * The children of a node are allocated together before they are built, so
 * lookup finds child k at base1 + k, k = popcount of the bits up to the slot.
 *
 * Keys are 128 bits (hi, lo), IPv4 in the top of hi; bits past the key are
 * zero, so a 6-bit slot that runs past bit 32 (or 128) only ever sees zeros,
 * and a /32 covers the slots that agree on the real bits.
 *
 * Lookups need the popcnt instruction to reach 100M+/s; without
 * -mpopcnt gcc calls a library routine, so on x86-64 the lookup functions
 * are cloned for popcnt and chosen at load time (ifunc).
 */
#include "ip/lpm.h"

#include "lib/lib.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__POPCNT__)
#define LPM_HOT __attribute__((target_clones("popcnt", "default")))
#else
#define LPM_HOT
#endif

/* ---- building ----------------------------------------------------------- */

static unsigned
slot6(const struct lpm_ent *e, unsigned d)
{
	if (d <= 58)
		return (unsigned)(e->hi >> (58 - d)) & 63;
	if (d < 64)
		return (unsigned)((e->hi << (d - 58)) | (e->lo >> (122 - d))) & 63;
	if (d <= 122)
		return (unsigned)(e->lo >> (122 - d)) & 63;
	return (unsigned)(e->lo << (d - 122)) & 63;
}

static uint32_t
grow(void **p, uint32_t *n, uint32_t *cap, uint32_t k, size_t esz)
{
	if ((uint64_t)*n + k > LPM_VMAX)
		lib_oom();
	if (*n + k > *cap) {
		uint32_t c = *cap ? *cap : 64;
		while (c < *n + k)
			c = c > LPM_VMAX / 2 ? LPM_VMAX : c * 2;
		*p = lib_xrealloc(*p, (size_t)c * esz);
		*cap = c;
	}
	uint32_t at = *n;
	*n += k;
	return at;
}

static uint32_t
node_alloc(struct lpm_fam *f, uint32_t k)
{
	return grow((void **)&f->node, &f->nnode, &f->capnode, k, sizeof(*f->node));
}

static uint32_t
leaf_alloc(struct lpm_fam *f, uint32_t k)
{
	return grow((void **)&f->leaf, &f->nleaf, &f->capleaf, k, sizeof(*f->leaf));
}

/* Node `at` for the n prefixes e (all longer than d, inside one block). */
static void
build_node(struct lpm_fam *f, const struct lpm_ent *e, uint32_t n, unsigned d, uint32_t inh,
           uint32_t at)
{
	uint32_t val[64], start[64], cnt[64], lv[64];
	uint64_t vec = 0, leafvec = 0;
	for (unsigned j = 0; j < 64; j++)
		val[j] = inh;
	for (uint32_t i = 0; i < n; i++) {
		unsigned j = slot6(&e[i], d);
		if (e[i].len <= d + 6) {
			unsigned span = 1u << (d + 6 - e[i].len);
			for (unsigned k = 0; k < span; k++)
				val[j + k] = e[i].val;
		} else if (vec >> j & 1) {
			cnt[j]++;
		} else {
			vec |= 1ull << j;
			start[j] = i;
			cnt[j] = 1;
		}
	}
	uint32_t nl = 0;
	for (unsigned j = 0; j < 64; j++) {
		if (vec >> j & 1)
			continue;
		if (!nl || val[j] != lv[nl - 1]) {
			leafvec |= 1ull << j;
			lv[nl++] = val[j];
		}
	}
	uint32_t base0 = leaf_alloc(f, nl);
	if (nl)
		memcpy(f->leaf + base0, lv, nl * sizeof(*lv));
	uint32_t base1 = node_alloc(f, (uint32_t)__builtin_popcountll(vec));
	f->node[at] = (struct lpm_node){.vec = vec, .leafvec = leafvec, .base1 = base1, .base0 = base0};
	uint32_t k = base1;
	for (unsigned j = 0; j < 64; j++)
		if (vec >> j & 1)
			build_node(f, e + start[j], cnt[j], d + 6, val[j], k++);
}

static void
count_subtree(const struct lpm_fam *f, uint32_t at, uint32_t *nn, uint32_t *nl)
{
	const struct lpm_node *x = &f->node[at];
	uint32_t nc = (uint32_t)__builtin_popcountll(x->vec);
	*nn += 1;
	*nl += (uint32_t)__builtin_popcountll(x->leafvec);
	for (uint32_t k = 0; k < nc; k++)
		count_subtree(f, x->base1 + k, nn, nl);
}

void
lpm_pop_slot(struct lpm_fam *f, uint32_t i, uint32_t inherited)
{
	uint32_t old = f->dir[i];
	if (old != LPM_NONE && (old & LPM_DNODE))
		count_subtree(f, old & ~LPM_DNODE, &f->gnode, &f->gleaf);
	const struct lpm_bkt *b = &f->bkt[i];
	if (!b->n) {
		f->dir[i] = inherited;
		return;
	}
	uint32_t at = node_alloc(f, 1);
	build_node(f, b->v, b->n, f->s, inherited, at);
	f->dir[i] = LPM_DNODE | at;
}

void
lpm_pop_build(struct lpm_fam *f)
{
	size_t nd = (size_t)1 << f->s;
	if (f->dir == lpm_empty_dir)
		f->dir = NULL;
	f->dir = lib_xrealloc(f->dir, nd * sizeof(*f->dir));
	for (size_t i = 0; i < nd; i++)
		f->dir[i] = LPM_NONE;
	for (uint32_t k = 0; k < f->nshrt; k++) {
		const struct lpm_ent *e = &f->shrt[k];
		size_t i = e->len ? e->hi >> (64 - f->s) : 0, span = (size_t)1 << (f->s - e->len);
		for (size_t j = 0; j < span; j++)
			f->dir[i + j] = e->val;
	}
	f->nnode = f->nleaf = f->gnode = f->gleaf = 0;
	for (size_t i = 0; i < nd; i++)
		if (f->bkt[i].n)
			lpm_pop_slot(f, (uint32_t)i, f->dir[i]);
}

/* ---- lookup ------------------------------------------------------------- */

static inline uint32_t
walk4(const struct lpm_fam *f, uint32_t e, uint64_t k)
{
	const struct lpm_node *x = &f->node[e & ~LPM_DNODE];
	for (;;) {
		unsigned v = (unsigned)(k >> 58);
		if (x->vec >> v & 1) {
			x = &f->node[x->base1 + (uint32_t)__builtin_popcountll(x->vec << (63 - v)) - 1];
			k <<= 6;
		} else {
			return f->leaf[x->base0 +
			               (uint32_t)__builtin_popcountll(x->leafvec << (63 - v)) - 1];
		}
	}
}


LPM_HOT uint32_t
lpm_lookup4(const struct lpm *t, uint32_t a)
{
	const struct lpm_fam *f = &t->f4;
	uint32_t e = f->dir[a >> (32 - f->s)];
	if (LPM_IS_VALUE(e))
		return e;
	return walk4(f, e, (uint64_t)a << (32 + f->s));
}

LPM_HOT void
lpm_lookup4_batch(const struct lpm *t, const uint32_t *a, uint32_t *out, size_t n)
{
	const struct lpm_fam *f = &t->f4;
	const uint32_t *dir = f->dir;
	unsigned sh = 32 - f->s, s = f->s;
	for (size_t i = 0; i < n; i++) {
		uint32_t e = dir[a[i] >> sh];
		out[i] = LPM_IS_VALUE(e) ? e : walk4(f, e, (uint64_t)a[i] << (32 + s));
	}
}

LPM_HOT uint32_t
lpm_lookup6(const struct lpm *t, const uint8_t b[16])
{
	const struct lpm_fam *f = &t->f6;
	uint64_t hi = 0, lo = 0;
	for (int i = 0; i < 8; i++) {
		hi = hi << 8 | b[i];
		lo = lo << 8 | b[8 + i];
	}
	uint32_t e = f->dir[hi >> (64 - f->s)];
	if (LPM_IS_VALUE(e))
		return e;
	const struct lpm_node *x = &f->node[e & ~LPM_DNODE];
	hi = hi << f->s | lo >> (64 - f->s);
	lo <<= f->s;
	for (;;) {
		unsigned v = (unsigned)(hi >> 58);
		if (x->vec >> v & 1) {
			x = &f->node[x->base1 + (uint32_t)__builtin_popcountll(x->vec << (63 - v)) - 1];
			hi = hi << 6 | lo >> 58;
			lo <<= 6;
		} else {
			return f->leaf[x->base0 +
			               (uint32_t)__builtin_popcountll(x->leafvec << (63 - v)) - 1];
		}
	}
}

uint32_t
lpm_lookup(const struct lpm *t, const struct ip_addr *a)
{
	if (a->af == IP_V4)
		return lpm_lookup4(t, (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16 |
		                          (uint32_t)a->b[2] << 8 | a->b[3]);
	if (a->af == IP_V6)
		return lpm_lookup6(t, a->b);
	return LPM_NONE;
}

/* ---- incremental update ------------------------------------------------- */

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
bkt_longest(const struct lpm_fam *f, const struct lpm_bkt *b, const struct lpm_ent *k,
            unsigned lo, unsigned hi)
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
			val[j] = f->leaf[x->base0 + rank(x->leafvec, j)];
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
		base0 = leaf_alloc(f, nl);
	}
	if (nl)
		memcpy(f->leaf + base0, lv, nl * sizeof(*lv));
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
	build_node(f, b->v + st, n, d, inh, at);
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
			covered |= (~0ull >> (64 - (1u << (d + 6 - e->len)))) << slot6(e, d);
	}
	uint32_t val[64];
	expand(f, &f->node[at], val);
	unsigned j = slot6(p, d), span = 1u << (d + 6 - p->len);
	for (unsigned k = j; k < j + span; k++) {
		if (covered >> k & 1)
			continue;
		struct lpm_node x = f->node[at];
		if (!(x.vec >> k & 1)) {
			val[k] = after;
			continue;
		}
		uint32_t c = x.base1 + rank(x.vec, k), nn = 0, nl = 0;
		count_subtree(f, c, &nn, &nl);
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
	unsigned j = slot6(p, d);
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
		uint32_t base1 = node_alloc(f, nc + 1);
		memcpy(f->node + base1, f->node + x.base1, r * sizeof(*f->node));
		memcpy(f->node + base1 + r + 1, f->node + x.base1 + r, (nc - r) * sizeof(*f->node));
		f->gnode += nc;
		f->node[at].vec = x.vec | 1ull << j;
		f->node[at].base1 = base1;
		build_block(f, b, base1 + r, &blk, d + 6, val[j]);
	} else {
		const struct lpm_ent *up = bkt_longest(f, b, &blk, d, d + 6);
		val[j] = up ? up->val : inh;
		uint32_t nn = 0, nl = 0, base1 = nc > 1 ? node_alloc(f, nc - 1) : 0;
		count_subtree(f, x.base1 + r, &nn, &nl);
		f->gnode += nn + nc - 1;
		f->gleaf += nl;
		memcpy(f->node + base1, f->node + x.base1, r * sizeof(*f->node));
		memcpy(f->node + base1 + r, f->node + x.base1 + r + 1, (nc - r - 1) * sizeof(*f->node));
		f->node[at].vec = x.vec & ~(1ull << j);
		f->node[at].base1 = base1;
	}
	compress(f, at, val, oldnl);
}

void
lpm_pop_update(struct lpm_fam *f, uint32_t i, const struct lpm_ent *p, uint32_t inherited,
               uint32_t before, uint32_t after)
{
	upd_node(f, &f->bkt[i], f->dir[i] & ~LPM_DNODE, f->s, inherited, p, before, after);
}
