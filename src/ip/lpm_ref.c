/*
 * lpm_ref.c - the reference longest-prefix match: a binary trie, one bit
 * per level, written to be obviously right rather than fast. The tests
 * cross-check the Poptrie against it and the bench prints it side by side.
 *
 * Nodes live in one array and point to children by index; node 0 is the
 * IPv4 root and node 1 the IPv6 root, so index 0 can mean "no child".
 * Deleting a prefix only clears its value (nodes are never reclaimed).
 */
#include "ip/lpm.h"

#include "lib/lib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static unsigned
bit(const uint8_t *b, unsigned i)
{
	return b[i / 8] >> (7 - i % 8) & 1;
}

static uint32_t
new_node(struct lpm_ref *r)
{
	if (r->nn == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 1024;
		r->n = lib_xrealloc(r->n, r->cap * sizeof(*r->n));
	}
	r->n[r->nn] = (struct lpm_ref_node){.c = {0, 0}, .val = LPM_NONE};
	return r->nn++;
}

void
lpm_ref_init(struct lpm_ref *r)
{
	memset(r, 0, sizeof(*r));
	new_node(r);
	new_node(r);
}

void
lpm_ref_free(struct lpm_ref *r)
{
	free(r->n);
	memset(r, 0, sizeof(*r));
}

static bool
valid(const struct ip_prefix *p)
{
	return (p->a.af == IP_V4 || p->a.af == IP_V6) && p->len <= ip_maxlen(p->a.af);
}

/* The node of prefix p, created when create is set; 0 when absent. */
static uint32_t
find(struct lpm_ref *r, const struct ip_prefix *p, bool create)
{
	uint32_t x = p->a.af == IP_V4 ? 0 : 1;
	for (unsigned i = 0; i < p->len; i++) {
		unsigned b = bit(p->a.b, i);
		if (!r->n[x].c[b]) {
			if (!create)
				return 0;
			uint32_t y = new_node(r);
			r->n[x].c[b] = y;
		}
		x = r->n[x].c[b];
	}
	return x;
}

int
lpm_ref_insert(struct lpm_ref *r, const struct ip_prefix *p, uint32_t val)
{
	if (!valid(p))
		return -EINVAL;
	uint32_t x = find(r, p, true);
	int had = r->n[x].val != LPM_NONE;
	r->n[x].val = val;
	r->count += !had;
	return had;
}

int
lpm_ref_delete(struct lpm_ref *r, const struct ip_prefix *p)
{
	if (!valid(p))
		return -ENOENT;
	uint32_t x = find(r, p, false);
	if ((!x && p->len) || r->n[x].val == LPM_NONE)
		return -ENOENT;
	r->n[x].val = LPM_NONE;
	r->count--;
	return 0;
}

uint32_t
lpm_ref_get(const struct lpm_ref *r, const struct ip_prefix *p)
{
	if (!valid(p))
		return LPM_NONE;
	uint32_t x = find((struct lpm_ref *)r, p, false);
	return !x && p->len ? LPM_NONE : r->n[x].val;
}

uint32_t
lpm_ref_lookup(const struct lpm_ref *r, const struct ip_addr *a)
{
	if (a->af != IP_V4 && a->af != IP_V6)
		return LPM_NONE;
	unsigned max = ip_maxlen(a->af);
	uint32_t x = a->af == IP_V4 ? 0 : 1, best = r->n[x].val;
	for (unsigned i = 0; i < max; i++) {
		x = r->n[x].c[bit(a->b, i)];
		if (!x)
			break;
		if (r->n[x].val != LPM_NONE)
			best = r->n[x].val;
	}
	return best;
}

uint32_t
lpm_ref_lookup4(const struct lpm_ref *r, uint32_t a)
{
	uint32_t x = 0, best = r->n[0].val;
	for (unsigned i = 0; i < 32; i++) {
		x = r->n[x].c[a >> (31 - i) & 1];
		if (!x)
			break;
		if (r->n[x].val != LPM_NONE)
			best = r->n[x].val;
	}
	return best;
}

size_t
lpm_ref_bytes(const struct lpm_ref *r)
{
	return (size_t)r->cap * sizeof(*r->n);
}
