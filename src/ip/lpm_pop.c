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
 * A root without children is an lnode (lpm.h): leafvec and leaves in a row.
 *
 * Keys are 128 bits (hi, lo), IPv4 in the top of hi; bits past the key are
 * zero, so a 6-bit slot that runs past bit 32 (or 128) only ever sees zeros,
 * and a /32 covers the slots that agree on the real bits.
 *
 * Leaves are 16 bits while every value of the family is below 0xffff (next
 * hops, small route tables), 32 bits otherwise: half the memory of the part
 * that dominates it. Lookups need the popcnt instruction to reach 100M+/s;
 * without -mpopcnt gcc calls a library routine, so on x86-64 the lookup
 * functions are cloned for popcnt and chosen at load time (ifunc).
 */
#include "ip/lpm.h"

#include "lib/lib.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* gcc only: clang 14 emits the clones without their resolver in a static
 * library, and the clang build is the fuzzing build, where speed is moot. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__POPCNT__)
#define LPM_HOT __attribute__((target_clones("popcnt", "default")))
#else
#define LPM_HOT
#endif

/* ---- memory ------------------------------------------------------------- */

/*
 * Arrays are cache-line aligned; those of 1 MiB and more are 2 MiB-aligned
 * and asked for transparent huge pages: a lookup touches two or three
 * random places of a structure of several MiB, and with 4 KiB pages each
 * would also miss the TLB.
 */
static void *
fib_resize(void *p, size_t old, size_t n)
{
	enum { HUGE = 2 << 20 };
	void *q;
	if (n < HUGE / 2) {
		if (posix_memalign(&q, 64, n ? n : 64))
			lib_oom();
	} else {
		n = (n + HUGE - 1) / HUGE * HUGE;
		if (posix_memalign(&q, HUGE, n))
			lib_oom();
#ifdef MADV_HUGEPAGE
		madvise(q, n, MADV_HUGEPAGE);
#endif
	}
	if (p && old)
		memcpy(q, p, old < n ? old : n);
	free(p);
	return q;
}

static size_t
fib_size(size_t n)
{
	return n < (1 << 20) ? n : (n + (2 << 20) - 1) / (2 << 20) * (2 << 20);
}

static uint32_t
grow(void **p, uint32_t *n, uint32_t *cap, uint32_t k, size_t esz)
{
	if ((uint64_t)*n + k >= LPM_DIDX)
		lib_oom();
	if (*n + k > *cap) {
		uint32_t c = *cap ? *cap : 64;
		while (c < *n + k)
			c = c > LPM_DIDX / 2 ? LPM_DIDX : c * 2;
		*p = fib_resize(*p, (size_t)*n * esz, (size_t)c * esz);
		*cap = c;
	}
	uint32_t at = *n;
	*n += k;
	return at;
}

uint32_t
lpm_node_alloc(struct lpm_fam *f, uint32_t k)
{
	return grow((void **)&f->node, &f->nnode, &f->capnode, k, sizeof(*f->node));
}

uint32_t
lpm_leaf_alloc(struct lpm_fam *f, uint32_t k)
{
	return grow(&f->leaf, &f->nleaf, &f->capleaf, k, f->wide ? 4 : 2);
}

static uint32_t
widen(uint32_t x)
{
	return x | (0u - ((x + 1) >> 16)); /* 0xffff is LPM_NONE */
}

uint32_t
lpm_leaf_get(const struct lpm_fam *f, uint32_t i)
{
	if (f->wide)
		return ((const uint32_t *)f->leaf)[i];
	return widen(((const uint16_t *)f->leaf)[i]);
}

void
lpm_leaf_put(struct lpm_fam *f, uint32_t at, const uint32_t *v, uint32_t n)
{
	if (f->wide) {
		if (n)
			memcpy((uint32_t *)f->leaf + at, v, n * sizeof(*v));
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		((uint16_t *)f->leaf)[at + i] = (uint16_t)v[i];
}

size_t
lpm_pop_bytes(const struct lpm_fam *f, bool live)
{
	size_t dir = f->dir == lpm_empty_dir ? 0 : fib_size((size_t)4 << f->s);
	size_t lw = f->wide ? 4 : 2;
	if (live)
		return dir + (size_t)(f->nnode - f->gnode) * sizeof(*f->node) +
		       (size_t)(f->nlpool - f->glpool) * 8 + (size_t)(f->nleaf - f->gleaf) * lw;
	return dir + fib_size((size_t)f->capnode * sizeof(*f->node)) +
	       fib_size((size_t)f->caplpool * 8) + fib_size(f->capleaf * lw);
}

/* ---- building ----------------------------------------------------------- */

unsigned
lpm_slot6(const struct lpm_ent *e, unsigned d)
{
	if (d <= 58)
		return (unsigned)(e->hi >> (58 - d)) & 63;
	if (d < 64)
		return (unsigned)((e->hi << (d - 58)) | (e->lo >> (122 - d))) & 63;
	if (d <= 122)
		return (unsigned)(e->lo >> (122 - d)) & 63;
	return (unsigned)(e->lo << (d - 122)) & 63;
}

/* One node's worth of a run: slot values, child slots and their runs. */
struct scan {
	uint32_t val[64], start[64], cnt[64], lv[64], nl;
	uint64_t vec, leafvec;
};

static void
scan(const struct lpm_ent *e, uint32_t n, unsigned d, uint32_t inh, struct scan *sc)
{
	sc->vec = sc->leafvec = 0;
	for (unsigned j = 0; j < 64; j++)
		sc->val[j] = inh;
	for (uint32_t i = 0; i < n; i++) {
		unsigned j = lpm_slot6(&e[i], d);
		if (e[i].len <= d + 6) {
			unsigned span = 1u << (d + 6 - e[i].len);
			for (unsigned k = 0; k < span; k++)
				sc->val[j + k] = e[i].val;
		} else if (sc->vec >> j & 1) {
			sc->cnt[j]++;
		} else {
			sc->vec |= 1ull << j;
			sc->start[j] = i;
			sc->cnt[j] = 1;
		}
	}
	sc->nl = 0;
	for (unsigned j = 0; j < 64; j++) {
		if (sc->vec >> j & 1)
			continue;
		if (!sc->nl || sc->val[j] != sc->lv[sc->nl - 1]) {
			sc->leafvec |= 1ull << j;
			sc->lv[sc->nl++] = sc->val[j];
		}
	}
}

static void
build_scanned(struct lpm_fam *f, const struct lpm_ent *e, const struct scan *sc, unsigned d,
              uint32_t at)
{
	uint32_t base0 = lpm_leaf_alloc(f, sc->nl);
	lpm_leaf_put(f, base0, sc->lv, sc->nl);
	uint32_t base1 = lpm_node_alloc(f, (uint32_t)__builtin_popcountll(sc->vec));
	f->node[at] = (struct lpm_node){
	    .vec = sc->vec, .leafvec = sc->leafvec, .base1 = base1, .base0 = base0};
	uint32_t k = base1;
	for (unsigned j = 0; j < 64; j++)
		if (sc->vec >> j & 1)
			lpm_build_node(f, e + sc->start[j], sc->cnt[j], d + 6, sc->val[j], k++);
}

void
lpm_build_node(struct lpm_fam *f, const struct lpm_ent *e, uint32_t n, unsigned d, uint32_t inh,
               uint32_t at)
{
	struct scan sc;
	scan(e, n, d, inh, &sc);
	build_scanned(f, e, &sc, d, at);
}

void
lpm_count_subtree(const struct lpm_fam *f, uint32_t at, uint32_t *nn, uint32_t *nl)
{
	const struct lpm_node *x = &f->node[at];
	uint32_t nc = (uint32_t)__builtin_popcountll(x->vec);
	*nn += 1;
	*nl += (uint32_t)__builtin_popcountll(x->leafvec);
	for (uint32_t k = 0; k < nc; k++)
		lpm_count_subtree(f, x->base1 + k, nn, nl);
}

/* 8-byte words of an lnode with nl leaves. */
static uint32_t
lnode_words(const struct lpm_fam *f, uint32_t nl)
{
	return 1 + (nl * (f->wide ? 4 : 2) + 7) / 8;
}

static uint32_t
lnode_make(struct lpm_fam *f, const struct scan *sc)
{
	uint32_t n = lnode_words(f, sc->nl);
	uint32_t at = grow((void **)&f->lpool, &f->nlpool, &f->caplpool, n, 8);
	uint64_t *w = f->lpool + at;
	w[0] = sc->leafvec;
	w[n - 1] = 0;
	if (f->wide) {
		memcpy(w + 1, sc->lv, sc->nl * sizeof(*sc->lv));
	} else {
		uint16_t v[64];
		for (uint32_t i = 0; i < sc->nl; i++)
			v[i] = (uint16_t)sc->lv[i];
		memcpy(w + 1, v, sc->nl * sizeof(*v));
	}
	f->nlnode++;
	return at;
}

/* Marks what dir[i] points to as garbage. */
static void
drop_root(struct lpm_fam *f, uint32_t i)
{
	uint32_t e = f->dir[i];
	if (LPM_IS_VALUE(e))
		return;
	if ((e & LPM_DLNODE) == LPM_DLNODE) {
		f->glpool += lnode_words(f, (uint32_t)__builtin_popcountll(f->lpool[e & LPM_DIDX]));
		f->nlnode--;
	} else {
		lpm_count_subtree(f, e & LPM_DIDX, &f->gnode, &f->gleaf);
	}
}

void
lpm_pop_slot(struct lpm_fam *f, uint32_t i, uint32_t inherited)
{
	drop_root(f, i);
	const struct lpm_bkt *b = &f->bkt[i];
	if (!b->n) {
		f->dir[i] = inherited;
		return;
	}
	struct scan sc;
	scan(b->v, b->n, f->s, inherited, &sc);
	if (!sc.vec) { /* one value for the whole block needs no node at all */
		f->dir[i] = sc.nl == 1 ? sc.lv[0] : LPM_DLNODE | lnode_make(f, &sc);
		return;
	}
	uint32_t at = lpm_node_alloc(f, 1);
	build_scanned(f, b->v, &sc, f->s, at);
	f->dir[i] = LPM_DNODE | at;
}

void
lpm_pop_build(struct lpm_fam *f)
{
	size_t nd = (size_t)1 << f->s;
	if (f->dir != lpm_empty_dir)
		free(f->dir);
	f->dir = fib_resize(NULL, 0, nd * sizeof(*f->dir));
	bool wide = false;
	for (uint32_t k = 0; k < f->nshrt; k++)
		wide |= f->shrt[k].val >= 0xffff;
	for (size_t i = 0; i < nd; i++)
		for (uint32_t k = 0; k < f->bkt[i].n; k++)
			wide |= f->bkt[i].v[k].val >= 0xffff;
	if (wide != f->wide) {
		free(f->leaf);
		f->leaf = NULL;
		f->capleaf = 0;
		f->wide = wide;
	}
	for (size_t i = 0; i < nd; i++)
		f->dir[i] = LPM_NONE;
	for (uint32_t k = 0; k < f->nshrt; k++) {
		const struct lpm_ent *e = &f->shrt[k];
		size_t i = e->len ? e->hi >> (64 - f->s) : 0, span = (size_t)1 << (f->s - e->len);
		for (size_t j = 0; j < span; j++)
			f->dir[i + j] = e->val;
	}
	f->nnode = f->nleaf = f->nlpool = f->gnode = f->gleaf = f->glpool = f->nlnode = 0;
	for (size_t i = 0; i < nd; i++)
		if (f->bkt[i].n)
			lpm_pop_slot(f, (uint32_t)i, f->dir[i]);
}

/* ---- lookup ------------------------------------------------------------- */

static inline uint32_t
leaf_load(const struct lpm_fam *f, uintptr_t p)
{
	if (f->wide) {
		uint32_t x;
		memcpy(&x, (const void *)p, sizeof(x));
		return x;
	}
	uint16_t y;
	memcpy(&y, (const void *)p, sizeof(y));
	return widen(y);
}

/* Where the leaf for slot v of the lnode at lpool[o] is. */
static inline uintptr_t
lnode_leaf(const struct lpm_fam *f, uint32_t o, unsigned v)
{
	const uint64_t *w = f->lpool + o;
	uintptr_t i = (uintptr_t)__builtin_popcountll(w[0] << (63 - v)) - 1;
	return (uintptr_t)(w + 1) + (f->wide ? 4 : 2) * i;
}

static inline uintptr_t
node_leaf(const struct lpm_fam *f, const struct lpm_node *x, unsigned v)
{
	uintptr_t i = (uintptr_t)__builtin_popcountll(x->leafvec << (63 - v)) - 1;
	return (uintptr_t)f->leaf + (f->wide ? 4 : 2) * ((uintptr_t)x->base0 + i);
}

/* The leaf under root e for the key bits k (next bits at the top). */
static inline uintptr_t
walk(const struct lpm_fam *f, uint32_t e, uint64_t k)
{
	if ((e & LPM_DLNODE) == LPM_DLNODE)
		return lnode_leaf(f, e & LPM_DIDX, (unsigned)(k >> 58));
	const struct lpm_node *x = &f->node[e & LPM_DIDX];
	for (;;) {
		unsigned v = (unsigned)(k >> 58);
		if (!(x->vec >> v & 1))
			return node_leaf(f, x, v);
		x = &f->node[x->base1 + (uint32_t)__builtin_popcountll(x->vec << (63 - v)) - 1];
		k <<= 6;
	}
}

LPM_HOT uint32_t
lpm_lookup4(const struct lpm *t, uint32_t a)
{
	const struct lpm_fam *f = &t->f4;
	uint32_t e = f->dir[a >> (32 - f->s)];
	if (LPM_IS_VALUE(e))
		return e;
	return leaf_load(f, walk(f, e, (uint64_t)a << (32 + f->s)));
}

/*
 * Batches run 64 lookups side by side, one level at a time, so that their
 * cache misses overlap instead of waiting for each other: every load of a
 * level is issued (as a prefetch) before any of its results is used. (16
 * lanes gave 75-80 M/s on the 1M-prefix bench, 32 gave 110, 64 gave 130.)
 */
LPM_HOT void
lpm_lookup4_batch(const struct lpm *t, const uint32_t *a, uint32_t *out, size_t n)
{
	enum { G = 64 };
	const struct lpm_fam *f = &t->f4;
	const uint32_t *dir = f->dir;
	const struct lpm_node *node = f->node;
	unsigned sh = 32 - f->s, s = f->s;
	for (size_t i = 0; i < n; i += G) {
		unsigned m = n - i < G ? (unsigned)(n - i) : G;
		uint32_t e[G], cur[G];
		uint64_t active = 0, done = 0;
		uint64_t k[G];
		uintptr_t at[G];
		for (unsigned l = 0; l < m; l++)
			e[l] = dir[a[i + l] >> sh];
		for (unsigned l = 0; l < m; l++) {
			if (LPM_IS_VALUE(e[l])) {
				out[i + l] = e[l];
				continue;
			}
			k[l] = (uint64_t)a[i + l] << (32 + s);
			cur[l] = e[l] & LPM_DIDX;
			if ((e[l] & LPM_DLNODE) == LPM_DLNODE) {
				__builtin_prefetch(f->lpool + cur[l]);
				done |= 1ull << l;
			} else {
				__builtin_prefetch(&node[cur[l]]);
				active |= 1ull << l;
			}
		}
		for (uint64_t w = done; w; w &= w - 1) {
			unsigned l = (unsigned)__builtin_ctzll(w);
			at[l] = lnode_leaf(f, cur[l], (unsigned)(k[l] >> 58));
			__builtin_prefetch((const void *)at[l]);
		}
		while (active) {
			for (uint64_t w = active; w; w &= w - 1) {
				unsigned l = (unsigned)__builtin_ctzll(w),
				         v = (unsigned)(k[l] >> 58);
				const struct lpm_node *x = &node[cur[l]];
				if (x->vec >> v & 1) {
					cur[l] =
					    x->base1 +
					    (uint32_t)__builtin_popcountll(x->vec << (63 - v)) - 1;
					k[l] <<= 6;
					__builtin_prefetch(&node[cur[l]]);
				} else {
					at[l] = node_leaf(f, x, v);
					__builtin_prefetch((const void *)at[l]);
					active &= ~(1ull << l);
					done |= 1ull << l;
				}
			}
		}
		for (uint64_t w = done; w; w &= w - 1) {
			unsigned l = (unsigned)__builtin_ctzll(w);
			out[i + l] = leaf_load(f, at[l]);
		}
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
	hi = hi << f->s | lo >> (64 - f->s);
	lo <<= f->s;
	if ((e & LPM_DLNODE) == LPM_DLNODE)
		return leaf_load(f, lnode_leaf(f, e & LPM_DIDX, (unsigned)(hi >> 58)));
	const struct lpm_node *x = &f->node[e & LPM_DIDX];
	for (;;) {
		unsigned v = (unsigned)(hi >> 58);
		if (!(x->vec >> v & 1))
			return leaf_load(f, node_leaf(f, x, v));
		x = &f->node[x->base1 + (uint32_t)__builtin_popcountll(x->vec << (63 - v)) - 1];
		hi = hi << 6 | lo >> 58;
		lo <<= 6;
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
