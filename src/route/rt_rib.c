/*
 * rt_rib.c - building and searching BGP RIBs.
 *
 * A RIB is built from an unordered list of (prefix, path) candidates: sort by
 * prefix and then by preference, group equal prefixes into one route, and mark
 * the best path and every path equal to it as best (ECMP), up to a limit. The
 * preference order is the caller's: an ExpressRoute gateway prefers the
 * higher connection weight, then the shorter AS path (azure-facts 1.10); an
 * on-premises router the higher local preference, then the shorter AS path.
 * Lookups in a large RIB go through its Poptrie (src/ip/lpm.h); a small one
 * is searched for each prefix length from the longest down, O(L log n).
 */
#include "rt_internal.h"

#include "ip/lpm.h"

#include <stdlib.h>
#include <string.h>

typedef int (*path_cmp_fn)(const struct rt_path *, const struct rt_path *);

static int
cand_cmp(const void *pa, const void *pb, void *arg)
{
	const struct rt_cand *a = pa, *b = pb;
	path_cmp_fn pref_cmp = *(path_cmp_fn *)arg;
	int c = ip_prefix_cmp(&a->p, &b->p);
	if (c)
		return c;
	c = pref_cmp(&a->path, &b->path);
	if (c)
		return c;
	return a->path.circuit < b->path.circuit ? -1 : a->path.circuit > b->path.circuit;
}

void
rt_rib_build(struct lib_arena *a, struct lib_vec *cands,
             int (*cmp)(const struct rt_path *, const struct rt_path *), uint32_t ecmp,
             struct rt_rib *rib, struct lib_vec *fibs)
{
	struct rt_cand *c = cands->v;
	uint32_t n = cands->n;
	memset(rib, 0, sizeof(*rib));
	if (!n) {
		lib_vec_free(cands);
		return;
	}
	qsort_r(c, n, sizeof(*c), cand_cmp, &cmp);
	uint32_t nroutes = 0;
	for (uint32_t i = 0; i < n; i++)
		if (i == 0 || ip_prefix_cmp(&c[i].p, &c[i - 1].p) != 0)
			nroutes++;
	rib->routes = lib_arena_alloc(a, sizeof(*rib->routes) * nroutes);
	rib->paths = lib_arena_alloc(a, sizeof(*rib->paths) * n);
	rib->npaths = n;
	for (uint32_t i = 0; i < n; i++) {
		rib->paths[i] = c[i].path;
		if (i == 0 || ip_prefix_cmp(&c[i].p, &c[i - 1].p) != 0) {
			struct rt_bgp_route *r = &rib->routes[rib->n++];
			r->p = c[i].p;
			r->first = i;
		}
		rib->routes[rib->n - 1].n++;
	}
	for (uint32_t i = 0; i < rib->n; i++) {
		struct rt_bgp_route *r = &rib->routes[i];
		struct rt_path *p = &rib->paths[r->first];
		p[0].best = 1;
		r->nbest = 1;
		for (uint32_t k = 1; k < r->n && r->nbest < ecmp; k++) {
			if (cmp(&p[k], &p[0]) != 0)
				break;
			p[k].best = 1;
			r->nbest++;
		}
	}
	lib_vec_free(cands);
	if (rib->n >= RT_FIB_MIN) {
		struct lpm_route *lr = lib_xcalloc(rib->n, sizeof(*lr));
		for (uint32_t i = 0; i < rib->n; i++)
			lr[i] = (struct lpm_route){rib->routes[i].p, i};
		struct lpm *f = lib_xmalloc(sizeof(*f));
		lpm_init(f);
		if (lpm_build(f, lr, rib->n) == 0) {
			rib->fib = f;
			*(struct lpm **)lib_vec_push(fibs) = f;
		} else {
			lpm_free(f);
			free(f);
		}
		free(lr);
	}
}

const struct rt_bgp_route *
rt_rib_find(const struct rt_rib *rib, const struct ip_prefix *p)
{
	uint32_t lo = 0, hi = rib->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = ip_prefix_cmp(&rib->routes[mid].p, p);
		if (c == 0)
			return &rib->routes[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct rt_bgp_route *
rt_rib_lookup(const struct rt_rib *rib, const struct ip_addr *a)
{
	if (!rib->n)
		return NULL;
	if (rib->fib) {
		uint32_t i = lpm_lookup(rib->fib, a);
		return i == LPM_NONE ? NULL : &rib->routes[i];
	}
	for (int len = (int)ip_maxlen(a->af); len >= 0; len--) {
		struct ip_prefix p = {*a, (uint8_t)len};
		ip_prefix_mask(&p);
		const struct rt_bgp_route *r = rt_rib_find(rib, &p);
		if (r)
			return r;
	}
	return NULL;
}
