/*
 * lpm.c - the route table: the RIB (sorted prefixes), building, updates,
 * exact and longest match with the prefix, iteration, statistics. The
 * lookup structure is built in lpm_pop.c and patched in lpm_upd.c.
 *
 * Build: routes become 128-bit keys, sorted by an LSD radix sort (11-bit
 * digits, skipping digits every key shares: IPv4 needs the length and four
 * address digits), so a 1M-route build is a few linear passes; duplicates
 * are adjacent after the stable sort and the last one given wins. Prefixes
 * of length <= s go to one sorted array, the longer ones stay in the sorted
 * array, sliced into one bucket per /s block (copied out on first update).
 *
 * Update: the RIB edit comes first (a memmove in one bucket, or in the
 * array of short prefixes), then the FIB: a long prefix goes to
 * lpm_pop_update with its value before and after; a short one repaints the
 * direct entries under it twice (before and after the edit, from the RIB)
 * and rebuilds only the blocks whose painted value changed. A value of
 * 0xffff or more in a family with 16-bit leaves rebuilds its FIB wide.
 */
#include "ip/lpm.h"

#include "lib/lib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define N4  LPM_NONE, LPM_NONE, LPM_NONE, LPM_NONE
#define N16 N4, N4, N4, N4
#define N64 N16, N16, N16, N16
const uint32_t lpm_empty_dir[256] = {N64, N64, N64, N64};

/* ---- keys --------------------------------------------------------------- */

static void
key_of(const struct ip_addr *a, uint64_t *hi, uint64_t *lo)
{
	uint64_t h = 0, l = 0;
	if (a->af == IP_V4) {
		for (int i = 0; i < 4; i++)
			h = h << 8 | a->b[i];
		h <<= 32;
	} else {
		for (int i = 0; i < 8; i++) {
			h = h << 8 | a->b[i];
			l = l << 8 | a->b[8 + i];
		}
	}
	*hi = h;
	*lo = l;
}

void
lpm_mask(uint64_t *hi, uint64_t *lo, unsigned len)
{
	if (len == 0) {
		*hi = *lo = 0;
	} else if (len <= 64) {
		*hi &= ~0ull << (64 - len);
		*lo = 0;
	} else {
		*lo &= ~0ull << (128 - len);
	}
}

static void
route_of(const struct lpm_ent *e, uint8_t af, struct lpm_route *r)
{
	memset(r, 0, sizeof(*r));
	r->p.a.af = af;
	r->p.len = e->len;
	r->val = e->val;
	for (int i = 0; i < 8; i++) {
		r->p.a.b[i] = (uint8_t)(e->hi >> (56 - 8 * i));
		if (af == IP_V6)
			r->p.a.b[8 + i] = (uint8_t)(e->lo >> (56 - 8 * i));
	}
	if (af == IP_V4)
		memset(r->p.a.b + 4, 0, 12);
}

int
lpm_ent_cmp(const struct lpm_ent *x, const struct lpm_ent *y)
{
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* First index whose entry is >= key. */
uint32_t
lpm_lower_bound(const struct lpm_ent *v, uint32_t n, const struct lpm_ent *key)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (lpm_ent_cmp(&v[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct lpm_fam *
fam_of(struct lpm *t, uint8_t af)
{
	return af == IP_V4 ? &t->f4 : af == IP_V6 ? &t->f6 : NULL;
}

static int
ent_of(const struct ip_prefix *p, uint32_t val, struct lpm_ent *e)
{
	if ((p->a.af != IP_V4 && p->a.af != IP_V6) || p->len > ip_maxlen(p->a.af))
		return -EINVAL;
	if (val > LPM_VMAX)
		return -ERANGE;
	memset(e, 0, sizeof(*e));
	key_of(&p->a, &e->hi, &e->lo);
	lpm_mask(&e->hi, &e->lo, p->len);
	e->len = p->len;
	e->val = val;
	return 0;
}

/* ---- sorting ------------------------------------------------------------ */

static uint64_t
sort_word(const struct lpm_ent *e, unsigned w)
{
	return w == 0 ? e->len : w == 1 ? e->lo : e->hi;
}

/* Stable LSD radix sort by (hi, lo, len); digits all keys share are skipped. */
static void
sort_ents(struct lpm_ent *e, size_t n)
{
	enum { BITS = 11, R = 1 << BITS, NPASS = 6 };
	if (n < 2)
		return;
	size_t(*cnt)[R] = lib_xcalloc(3 * NPASS, sizeof(*cnt));
	for (size_t i = 0; i < n; i++)
		for (unsigned w = 0; w < 3; w++)
			for (unsigned d = 0; d < (w ? NPASS : 1); d++)
				cnt[w * NPASS + d][sort_word(&e[i], w) >> (d * BITS) & (R - 1)]++;
	struct lpm_ent *tmp = lib_xmalloc(n * sizeof(*tmp)), *src = e, *dst = tmp;
	for (unsigned w = 0; w < 3; w++) {
		for (unsigned d = 0; d < (w ? NPASS : 1); d++) {
			size_t *c = cnt[w * NPASS + d], sum = 0;
			if (c[sort_word(&src[0], w) >> (d * BITS) & (R - 1)] == n)
				continue;
			for (unsigned k = 0; k < R; k++) {
				size_t x = c[k];
				c[k] = sum;
				sum += x;
			}
			for (size_t i = 0; i < n; i++)
				dst[c[sort_word(&src[i], w) >> (d * BITS) & (R - 1)]++] = src[i];
			struct lpm_ent *x = src;
			src = dst;
			dst = x;
		}
	}
	if (src != e)
		memcpy(e, src, n * sizeof(*e));
	free(tmp);
	free(cnt);
}

/* Sorted; keeps the last of equal prefixes. Returns the new count. */
static size_t
dedup_last(struct lpm_ent *e, size_t n)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m && lpm_ent_cmp(&e[m - 1], &e[i]) == 0)
			e[m - 1] = e[i];
		else
			e[m++] = e[i];
	}
	return m;
}

/* ---- families ----------------------------------------------------------- */

static unsigned
s_for(const struct lpm_fam *f, size_t n)
{
	bool v4 = f->maxlen == 32;
	if (n < 1024)
		return v4 ? 6 : 8;
	if (n < 65536)
		return 12;
	return v4 ? 18 : 16;
}

static void
fam_free(struct lpm_fam *f)
{
	if (f->bkt) {
		size_t nb = (size_t)1 << f->s;
		for (size_t i = 0; i < nb; i++)
			if (f->bkt[i].cap)
				free(f->bkt[i].v);
	}
	free(f->bkt);
	free(f->bulk);
	free(f->shrt);
	free(f->node);
	free(f->lpool);
	free(f->leaf);
	free(f->lencnt);
	if (f->dir != lpm_empty_dir)
		free(f->dir);
	uint8_t maxlen = f->maxlen;
	memset(f, 0, sizeof(*f));
	f->maxlen = maxlen;
	f->s = (uint8_t)s_for(f, 0);
	f->dir = (uint32_t *)lpm_empty_dir;
}

/* Replaces the family with e[0..n) (heap, sorted, no duplicates; taken). */
static void
fam_build(struct lpm_fam *f, struct lpm_ent *e, size_t n)
{
	fam_free(f);
	if (!n) {
		free(e);
		return;
	}
	f->s = (uint8_t)s_for(f, n);
	f->n = (uint32_t)n;
	f->lencnt = lib_xcalloc((size_t)f->maxlen + 1, sizeof(*f->lencnt));
	size_t ns = 0, nl = 0;
	for (size_t i = 0; i < n; i++)
		ns += e[i].len <= f->s;
	f->shrt = lib_xmalloc((ns ? ns : 1) * sizeof(*f->shrt));
	f->nshrt = f->capshrt = (uint32_t)ns;
	ns = 0;
	for (size_t i = 0; i < n; i++) {
		f->lencnt[e[i].len]++;
		if (e[i].len <= f->s)
			f->shrt[ns++] = e[i];
		else
			e[nl++] = e[i];
	}
	if (nl) {
		f->bulk = lib_xrealloc(e, nl * sizeof(*e));
	} else {
		free(e);
		f->bulk = NULL;
	}
	f->nbulk = (uint32_t)nl;
	f->bkt = lib_xcalloc((size_t)1 << f->s, sizeof(*f->bkt));
	for (size_t i = 0; i < nl; i++) {
		struct lpm_bkt *b = &f->bkt[f->bulk[i].hi >> (64 - f->s)];
		if (!b->n)
			b->v = &f->bulk[i];
		b->n++;
	}
	lpm_pop_build(f);
}

/* The entry after (si, bi, bj) in prefix order, or NULL. */
static const struct lpm_ent *
fam_next(const struct lpm_fam *f, uint32_t *si, uint32_t *bi, uint32_t *bj)
{
	if (!f->bkt)
		return NULL;
	uint32_t nb = 1u << f->s;
	while (*bi < nb && *bj >= f->bkt[*bi].n) {
		++*bi;
		*bj = 0;
	}
	const struct lpm_ent *s = *si < f->nshrt ? &f->shrt[*si] : NULL;
	const struct lpm_ent *b = *bi < nb ? &f->bkt[*bi].v[*bj] : NULL;
	if (s && (!b || lpm_ent_cmp(s, b) < 0)) {
		++*si;
		return s;
	}
	if (b)
		++*bj;
	return b;
}

/* Rebuilds the family from its own prefixes (to change s). */
static void
fam_rebuild(struct lpm_fam *f)
{
	struct lpm_ent *e = lib_xmalloc((f->n ? f->n : 1) * sizeof(*e));
	uint32_t si = 0, bi = 0, bj = 0, n = 0;
	const struct lpm_ent *x;
	while ((x = fam_next(f, &si, &bi, &bj)))
		e[n++] = *x;
	fam_build(f, e, n);
}

static const struct lpm_ent *
fam_find(const struct lpm_fam *f, const struct lpm_ent *k)
{
	if (!f->n)
		return NULL;
	const struct lpm_ent *v = f->shrt;
	uint32_t n = f->nshrt;
	if (k->len > f->s) {
		const struct lpm_bkt *b = &f->bkt[k->hi >> (64 - f->s)];
		v = b->v;
		n = b->n;
	}
	uint32_t i = lpm_lower_bound(v, n, k);
	return i < n && lpm_ent_cmp(&v[i], k) == 0 ? &v[i] : NULL;
}

/* The longest prefix of length <= maxl containing (hi, lo), or NULL. */
static const struct lpm_ent *
fam_longest(const struct lpm_fam *f, uint64_t hi, uint64_t lo, int maxl)
{
	for (int l = maxl; l >= 0; l--) {
		if (!f->lencnt[l])
			continue;
		struct lpm_ent k = {.hi = hi, .lo = lo, .len = (uint8_t)l};
		lpm_mask(&k.hi, &k.lo, (unsigned)l);
		const struct lpm_ent *e = fam_find(f, &k);
		if (e)
			return e;
	}
	return NULL;
}

/* Direct values of the 2^(s-len) blocks under short prefix p, from the RIB. */
static void
paint(const struct lpm_fam *f, const struct lpm_ent *p, uint32_t *out)
{
	size_t a = p->len ? p->hi >> (64 - f->s) : 0, span = (size_t)1 << (f->s - p->len);
	const struct lpm_ent *up = p->len ? fam_longest(f, p->hi, p->lo, p->len - 1) : NULL;
	uint32_t inh = up ? up->val : LPM_NONE;
	for (size_t j = 0; j < span; j++)
		out[j] = inh;
	for (uint32_t k = lpm_lower_bound(f->shrt, f->nshrt, p); k < f->nshrt; k++) {
		const struct lpm_ent *e = &f->shrt[k];
		struct lpm_ent m = *e;
		lpm_mask(&m.hi, &m.lo, p->len);
		if (m.hi != p->hi || m.lo != p->lo)
			break;
		size_t i = (e->len ? e->hi >> (64 - f->s) : 0) - a,
		       n = (size_t)1 << (f->s - e->len);
		for (size_t j = 0; j < n; j++)
			out[i + j] = e->val;
	}
}

static void
bkt_reserve(struct lpm_bkt *b, uint32_t n)
{
	if (b->cap >= n)
		return;
	uint32_t cap = n < 4 ? 4 : n + n / 2;
	struct lpm_ent *v = lib_xmalloc(cap * sizeof(*v));
	if (b->n)
		memcpy(v, b->v, b->n * sizeof(*v));
	if (b->cap)
		free(b->v);
	b->v = v;
	b->cap = cap;
}

/* Applies a change to the sorted array of a short prefix, between paints. */
static void
short_update(struct lpm_fam *f, const struct lpm_ent *e, uint32_t pos, int op, bool fib)
{
	size_t span = (size_t)1 << (f->s - e->len), a = e->len ? e->hi >> (64 - f->s) : 0;
	uint32_t *before = NULL, *after = NULL;
	if (fib) {
		before = lib_xmalloc(2 * span * sizeof(*before));
		after = before + span;
		paint(f, e, before);
	}
	if (op > 0) {
		if (f->nshrt == f->capshrt) {
			f->capshrt = f->capshrt < 8 ? 8 : f->capshrt * 2;
			f->shrt = lib_xrealloc(f->shrt, f->capshrt * sizeof(*f->shrt));
		}
		memmove(f->shrt + pos + 1, f->shrt + pos, (f->nshrt - pos) * sizeof(*f->shrt));
		f->shrt[pos] = *e;
		f->nshrt++;
	} else if (op < 0) {
		memmove(f->shrt + pos, f->shrt + pos + 1, (f->nshrt - pos - 1) * sizeof(*f->shrt));
		f->nshrt--;
	} else {
		f->shrt[pos].val = e->val;
	}
	if (!fib)
		return;
	paint(f, e, after);
	for (size_t j = 0; j < span; j++) {
		if (before[j] == after[j])
			continue;
		if (f->bkt[a + j].n)
			lpm_pop_slot(f, (uint32_t)(a + j), after[j]);
		else
			f->dir[a + j] = after[j];
	}
	free(before);
}

/* Same for a long prefix: edit its bucket, fix the nodes on its path. */
static void
long_update(struct lpm_fam *f, const struct lpm_ent *e, uint32_t pos, int op, bool fib)
{
	uint32_t i = (uint32_t)(e->hi >> (64 - f->s));
	struct lpm_bkt *b = &f->bkt[i];
	uint32_t before = op > 0 ? LPM_NONE : b->v[pos].val, after = op < 0 ? LPM_NONE : e->val;
	bkt_reserve(b, b->n + (op > 0));
	if (op > 0) {
		memmove(b->v + pos + 1, b->v + pos, (b->n - pos) * sizeof(*b->v));
		b->v[pos] = *e;
		b->n++;
	} else if (op < 0) {
		memmove(b->v + pos, b->v + pos + 1, (b->n - pos - 1) * sizeof(*b->v));
		if (!--b->n) {
			free(b->v);
			b->v = NULL;
			b->cap = 0;
		}
	} else {
		b->v[pos].val = e->val;
	}
	if (!fib)
		return;
	const struct lpm_ent *up = fam_longest(f, e->hi, e->lo, f->s);
	uint32_t inh = up ? up->val : LPM_NONE;
	if (b->n && !LPM_IS_VALUE(f->dir[i]))
		lpm_pop_update(f, i, e, inh, before, after);
	else
		lpm_pop_slot(f, i, inh);
}

static void
fam_maintain(struct lpm *t, struct lpm_fam *f)
{
	unsigned want = s_for(f, f->n), keep = s_for(f, (size_t)f->n * 4);
	if (want > f->s || keep < f->s) {
		fam_rebuild(f);
		t->nrebuild++;
	} else if ((f->gnode > 4096 && f->gnode > f->nnode - f->gnode) ||
	           (f->glpool > 65536 && f->glpool > f->nlpool - f->glpool) ||
	           (f->gleaf > 16384 && f->gleaf > f->nleaf - f->gleaf)) {
		lpm_pop_build(f);
		t->nrebuild++;
	}
}

/* ---- API ---------------------------------------------------------------- */

void
lpm_init(struct lpm *t)
{
	memset(t, 0, sizeof(*t));
	t->f4.maxlen = 32;
	t->f6.maxlen = 128;
	fam_free(&t->f4);
	fam_free(&t->f6);
}

void
lpm_free(struct lpm *t)
{
	fam_free(&t->f4);
	fam_free(&t->f6);
}

int
lpm_build(struct lpm *t, const struct lpm_route *r, size_t n)
{
	size_t n4 = 0, n6 = 0;
	struct lpm_ent e;
	for (size_t i = 0; i < n; i++) {
		int rc = ent_of(&r[i].p, r[i].val, &e);
		if (rc)
			return rc;
		if (r[i].p.a.af == IP_V4)
			n4++;
		else
			n6++;
	}
	struct lpm_ent *e4 = lib_xmalloc((n4 ? n4 : 1) * sizeof(e));
	struct lpm_ent *e6 = lib_xmalloc((n6 ? n6 : 1) * sizeof(e));
	n4 = n6 = 0;
	for (size_t i = 0; i < n; i++) {
		ent_of(&r[i].p, r[i].val, &e);
		if (r[i].p.a.af == IP_V4)
			e4[n4++] = e;
		else
			e6[n6++] = e;
	}
	sort_ents(e4, n4);
	sort_ents(e6, n6);
	fam_build(&t->f4, e4, dedup_last(e4, n4));
	fam_build(&t->f6, e6, dedup_last(e6, n6));
	t->nrebuild++;
	return 0;
}

int
lpm_insert(struct lpm *t, const struct ip_prefix *p, uint32_t val)
{
	struct lpm_ent e;
	int rc = ent_of(p, val, &e);
	if (rc)
		return rc;
	struct lpm_fam *f = fam_of(t, p->a.af);
	if (!f->n) {
		struct lpm_ent *one = lib_xmalloc(sizeof(*one));
		*one = e;
		fam_build(f, one, 1);
		return 0;
	}
	bool isshort = e.len <= f->s;
	struct lpm_bkt *b = isshort ? NULL : &f->bkt[e.hi >> (64 - f->s)];
	const struct lpm_ent *v = isshort ? f->shrt : b->v;
	uint32_t n = isshort ? f->nshrt : b->n, pos = lpm_lower_bound(v, n, &e);
	int op = 1;
	if (pos < n && lpm_ent_cmp(&v[pos], &e) == 0) {
		if (v[pos].val == val)
			return 1;
		op = 0;
	}
	/* A first value that needs 32-bit leaves: rebuild the FIB wide. */
	bool fib = f->wide || val < 0xffff;
	if (isshort)
		short_update(f, &e, pos, op, fib);
	else
		long_update(f, &e, pos, op, fib);
	if (!fib) {
		lpm_pop_build(f);
		t->nrebuild++;
	}
	if (op) {
		f->n++;
		f->lencnt[e.len]++;
		fam_maintain(t, f);
	}
	return op ? 0 : 1;
}

int
lpm_delete(struct lpm *t, const struct ip_prefix *p)
{
	struct lpm_ent e;
	if (ent_of(p, 0, &e))
		return -ENOENT;
	struct lpm_fam *f = fam_of(t, p->a.af);
	const struct lpm_ent *x = fam_find(f, &e);
	if (!x)
		return -ENOENT;
	e.val = x->val;
	if (e.len <= f->s) {
		short_update(f, &e, (uint32_t)(x - f->shrt), -1, true);
	} else {
		const struct lpm_bkt *b = &f->bkt[e.hi >> (64 - f->s)];
		long_update(f, &e, (uint32_t)(x - b->v), -1, true);
	}
	f->n--;
	f->lencnt[e.len]--;
	fam_maintain(t, f);
	return 0;
}

uint32_t
lpm_get(const struct lpm *t, const struct ip_prefix *p)
{
	struct lpm_ent e;
	if (ent_of(p, 0, &e))
		return LPM_NONE;
	const struct lpm_ent *x = fam_find(p->a.af == IP_V4 ? &t->f4 : &t->f6, &e);
	return x ? x->val : LPM_NONE;
}

bool
lpm_match(const struct lpm *t, const struct ip_addr *a, struct lpm_route *out)
{
	if (a->af != IP_V4 && a->af != IP_V6)
		return false;
	const struct lpm_fam *f = a->af == IP_V4 ? &t->f4 : &t->f6;
	uint64_t hi, lo;
	key_of(a, &hi, &lo);
	const struct lpm_ent *e = f->n ? fam_longest(f, hi, lo, f->maxlen) : NULL;
	if (e && out)
		route_of(e, a->af, out);
	return e != NULL;
}

size_t
lpm_count(const struct lpm *t)
{
	return (size_t)t->f4.n + t->f6.n;
}

void
lpm_iter_init(struct lpm_iter *it, const struct lpm *t)
{
	memset(it, 0, sizeof(*it));
	it->t = t;
}

bool
lpm_iter_next(struct lpm_iter *it, struct lpm_route *out)
{
	while (it->fam < 2) {
		const struct lpm_fam *f = it->fam ? &it->t->f6 : &it->t->f4;
		const struct lpm_ent *e = fam_next(f, &it->si, &it->bi, &it->bj);
		if (e) {
			route_of(e, it->fam ? IP_V6 : IP_V4, out);
			return true;
		}
		it->fam++;
		it->si = it->bi = it->bj = 0;
	}
	return false;
}

static void
fam_stats(const struct lpm_fam *f, struct lpm_stats *st)
{
	st->fib_bytes += lpm_pop_bytes(f, false);
	st->fib_live += lpm_pop_bytes(f, true);
	st->nodes += f->nnode - f->gnode;
	st->lnodes += f->nlnode;
	st->leaves += f->nleaf - f->gleaf;
	size_t rib = ((size_t)f->capshrt + f->nbulk) * sizeof(struct lpm_ent) +
	             (f->lencnt ? ((size_t)f->maxlen + 1) * sizeof(*f->lencnt) : 0);
	if (f->bkt) {
		size_t nb = (size_t)1 << f->s;
		rib += nb * sizeof(*f->bkt);
		for (size_t i = 0; i < nb; i++)
			rib += (size_t)f->bkt[i].cap * sizeof(struct lpm_ent);
	}
	st->rib_bytes += rib;
}

void
lpm_stats(const struct lpm *t, struct lpm_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->n4 = t->f4.n;
	st->n6 = t->f6.n;
	st->s4 = t->f4.s;
	st->s6 = t->f6.s;
	st->nrebuild = t->nrebuild;
	fam_stats(&t->f4, st);
	fam_stats(&t->f6, st);
}
