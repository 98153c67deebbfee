/*
 * rt_reach.c - the reachability matrix and its differences.
 *
 * A matrix pairs every on-premises site with every VM, and every VM with
 * every other, and traces each pair both ways. A cell is good when both
 * directions are delivered; its path class names the circuit link and the
 * appliances crossed, so two matrices can be compared: what is no longer
 * reachable, what moved to another circuit, what lost its redundancy (fewer
 * circuit links at the site's edge routers could carry it). This is the
 * differential reachability of what-if questions and of failover proofs.
 */
#include "rt_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const change_names[] = {"lost", "gained", "moved", "lost redundancy",
                                           "path changed"};

const char *
rt_change_name(int kind)
{
	return kind >= 0 && kind < (int)LIB_ARRAY_LEN(change_names) ? change_names[kind] : "?";
}

static bool
selected(const char *name, const char *const *sel, size_t nsel)
{
	if (!nsel)
		return true;
	for (size_t i = 0; i < nsel; i++)
		if (strcmp(sel[i], name) == 0)
			return true;
	return false;
}

/* Links at the site's routers whose paths cover the destination. */
static uint32_t
redundancy(const struct rt_net *n, uint32_t site, const struct ip_addr *a)
{
	uint32_t k = 0;
	for (uint32_t r = 0; r < n->nrouters; r++) {
		if (n->routers[r].site != site)
			continue;
		const struct rt_bgp_route *b = rt_rib_lookup(&n->routers[r].learned, a);
		for (uint32_t i = 0; b && i < b->n; i++) {
			uint8_t l = n->routers[r].learned.paths[b->first + i].links;
			k += (l & 1) + ((l >> 1) & 1);
		}
	}
	return k;
}

static void
path_class(const struct estate *e, const struct rt_trace *t, char *buf, size_t n)
{
	size_t off = 0;
	buf[0] = '\0';
	for (uint32_t i = 0; i < t->n && off < n; i++)
		if (t->hops[i].kind == RT_HOP_LINK || t->hops[i].kind == RT_HOP_APPLIANCE)
			off += (size_t)snprintf(buf + off, n - off, "%s%s", off ? ", " : "",
			                        t->hops[i].name);
	if (!off)
		snprintf(buf, n, "direct");
	(void)e;
}

static void
cell(const struct rt_net *n, struct rt_matrix *m, uint32_t a, uint32_t b)
{
	struct rt_cell *c = &m->cells[m->ncells++];
	struct rt_trace f, r;
	rt_trace(n, &m->eps[a], &m->eps[b], &f);
	rt_trace(n, &m->eps[b], &m->eps[a], &r);
	c->a = a;
	c->b = b;
	c->fwd = f.verdict;
	c->back = r.verdict;
	c->circuit = f.circuit;
	c->symmetric = f.napp == r.napp;
	for (uint32_t i = 0; c->symmetric && i < f.napp; i++) {
		bool found = false;
		for (uint32_t k = 0; k < r.napp; k++)
			found |= f.appliances[i] == r.appliances[k];
		c->symmetric = found;
	}
	if (m->eps[a].onprem && !m->eps[b].onprem)
		c->redundancy = redundancy(n, m->eps[a].site, &m->eps[b].ip);
	if (f.verdict == RT_DELIVERED && r.verdict == RT_DELIVERED) {
		path_class(n->e, &f, c->path, sizeof(c->path));
		if (!c->symmetric) {
			size_t l = strlen(c->path);
			snprintf(c->path + l, sizeof(c->path) - l, " (asymmetric)");
		}
		m->ndelivered++;
	} else {
		const struct rt_trace *bad = f.verdict != RT_DELIVERED ? &f : &r;
		snprintf(c->path, sizeof(c->path), "%s%s: %.120s", bad == &f ? "" : "return ",
		         rt_verdict_name(bad->verdict), bad->why);
	}
}

int
rt_reach(const struct rt_net *n, const char *const *select, size_t nsel, struct rt_matrix *m,
         char *err, size_t errlen)
{
	const struct estate *e = n->e;
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < nsel; i++)
		if (est_find(e, EST_K_SITE, select[i]) == EST_NONE &&
		    est_find(e, EST_K_VM, select[i]) == EST_NONE) {
			snprintf(err, errlen, "'%s' is no site or vm", select[i]);
			return -ENOENT;
		}
	m->eps = lib_xcalloc(e->sites.n + e->vms.n + 1, sizeof(*m->eps));
	uint32_t nsites = 0;
	for (uint32_t s = 0; s < e->sites.n; s++)
		if (e->sites.v[s].prefixes.n && selected(e->sites.v[s].name, select, nsel) &&
		    rt_endpoint_parse(e, e->sites.v[s].name, &m->eps[m->neps], err, errlen) == 0)
			m->neps++;
	nsites = m->neps;
	for (uint32_t v = 0; v < e->vms.n; v++)
		if (e->vms.v[v].ip.af && selected(e->vms.v[v].name, select, nsel) &&
		    rt_endpoint_parse(e, e->vms.v[v].name, &m->eps[m->neps], err, errlen) == 0)
			m->neps++;
	uint32_t nvms = m->neps - nsites;
	m->cells =
	    lib_xcalloc((size_t)nsites * nvms + (size_t)nvms * nvms / 2 + 1, sizeof(*m->cells));
	for (uint32_t s = 0; s < nsites; s++)
		for (uint32_t v = nsites; v < m->neps; v++)
			cell(n, m, s, v);
	for (uint32_t a = nsites; a < m->neps; a++)
		for (uint32_t b = a + 1; b < m->neps; b++)
			cell(n, m, a, b);
	return 0;
}

void
rt_matrix_free(struct rt_matrix *m)
{
	free(m->eps);
	free(m->cells);
	memset(m, 0, sizeof(*m));
}

/* Cells of m by their endpoints' labels, both orders: "a\nb" -> index. */
static void
index_cells(const struct rt_matrix *m, struct lib_map *idx, struct lib_arena *a)
{
	lib_map_init(idx);
	for (uint32_t i = 0; i < m->ncells; i++) {
		const char *x = m->eps[m->cells[i].a].label, *y = m->eps[m->cells[i].b].label;
		lib_map_put(idx, lib_arena_printf(a, "%s\n%s", x, y), i);
		lib_map_put(idx, lib_arena_printf(a, "%s\n%s", y, x), i);
	}
}

static const struct rt_cell *
find_cell(const struct rt_matrix *m, const struct lib_map *idx, const char *a, const char *b)
{
	char key[512];
	uint64_t i;
	snprintf(key, sizeof(key), "%s\n%s", a, b);
	return lib_map_get(idx, key, &i) ? &m->cells[i] : NULL;
}

static bool
good(const struct rt_cell *c)
{
	return c && c->fwd == RT_DELIVERED && c->back == RT_DELIVERED;
}

struct rt_change *
rt_diff(const struct rt_matrix *before, const struct rt_matrix *after, uint32_t *count)
{
	struct lib_vec v;
	lib_vec_init(&v, sizeof(struct rt_change));
	struct lib_arena ar;
	struct lib_map ib, ia;
	lib_arena_init(&ar);
	index_cells(before, &ib, &ar);
	index_cells(after, &ia, &ar);
	for (int pass = 0; pass < 2; pass++) {
		const struct rt_matrix *x = pass ? after : before, *y = pass ? before : after;
		const struct lib_map *yi = pass ? &ib : &ia;
		for (uint32_t i = 0; i < x->ncells; i++) {
			const struct rt_cell *c = &x->cells[i];
			const char *a = x->eps[c->a].label, *b = x->eps[c->b].label;
			const struct rt_cell *d = find_cell(y, yi, a, b);
			const struct rt_cell *old = pass ? d : c, *new = pass ? c : d;
			if (pass && d)
				continue; /* pairs in both were compared on the first pass */
			int kinds[2], nk = 0;
			if (good(old) && !good(new))
				kinds[nk++] = RT_LOST;
			else if (!good(old) && good(new))
				kinds[nk++] = RT_GAINED;
			else if (good(old) && good(new)) {
				if (old->circuit != new->circuit && old->circuit != EST_NONE)
					kinds[nk++] = RT_MOVED;
				else if (strcmp(old->path, new->path) != 0)
					kinds[nk++] = RT_PATH_CHANGED;
				if (old->redundancy >= 2 && new->redundancy < 2)
					kinds[nk++] = RT_LOST_REDUNDANCY;
			}
			for (int k = 0; k < nk; k++) {
				struct rt_change *ch = lib_vec_push(&v);
				ch->kind = kinds[k];
				snprintf(ch->a, sizeof(ch->a), "%s", a);
				snprintf(ch->b, sizeof(ch->b), "%s", b);
				snprintf(ch->before, sizeof(ch->before), "%s",
				         old ? old->path : "not in the estate");
				snprintf(ch->after, sizeof(ch->after), "%s",
				         new ? new->path : "not in the estate");
				if (kinds[k] == RT_LOST_REDUNDANCY) {
					snprintf(ch->before, sizeof(ch->before), "%u circuit links",
					         old->redundancy);
					snprintf(ch->after, sizeof(ch->after), "%u circuit link%s",
					         new->redundancy, new->redundancy == 1 ? "" : "s");
				}
			}
		}
	}
	lib_map_free(&ib);
	lib_map_free(&ia);
	lib_arena_free(&ar);
	*count = v.n;
	return v.v ? v.v : lib_xcalloc(1, sizeof(struct rt_change));
}
