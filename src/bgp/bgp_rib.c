/*
 * bgp_rib.c - prefix -> attribute set tables for Adj-RIB-In and Adj-RIB-Out.
 *
 * One open-addressing table per family, linear probing, deletion by backward
 * shift (no tombstones, so a table that churns stays as fast as a fresh one).
 * A slot is the prefix, a flag byte and the set pointer: 16 bytes for IPv4,
 * 32 for IPv6; an empty slot has a NULL set. The home slot is the key's
 * 64-bit mix reduced by multiplication (Lemire's fastrange), so capacities
 * need not be powers of two and the table grows by half (load at most 0.8,
 * 0.53 just after growing), which keeps a 1M-route table near 20 bytes a
 * route instead of the 32 a doubling table can land on.
 *
 * The reduction keeps the hash's order: slot order is hash order, in every
 * table. Deleting routes in slot order (a session's sweep) leaves the rest in
 * one end of the hash space, and a table shrunk then would pack them into one
 * cluster as long as the table (quadratic: a million routes swept took 24 s).
 * So each resize takes a new seed: the rest spread over the new table again.
 *
 * Why not the LPM table (ip/lpm.h): it answers longest-prefix lookups and
 * rebuilds FIB nodes on every insert; a BGP RIB only ever asks "this exact
 * prefix", a million times in a full-table burst.
 */
#include "bgp/bgp_rib.h"

#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"

struct rib4 {
	uint32_t addr; /* network order bytes, as loaded */
	uint8_t len, flags;
	uint16_t pad;
	struct bgp_attrset *set;
};

struct rib6 {
	uint8_t addr[16];
	struct bgp_attrset *set;
	uint8_t len, flags;
};

_Static_assert(sizeof(struct rib4) == 16, "IPv4 slot is 16 bytes");
_Static_assert(sizeof(struct rib6) == 32, "IPv6 slot is 32 bytes");

#define RIB_MIN_CAP 16u

static size_t
esz(const struct bgp_rib_fam *t)
{
	return t->fam == BGP_FAM_IPV4 ? sizeof(struct rib4) : sizeof(struct rib6);
}

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static uint64_t
key_hash(const struct bgp_rib_fam *t, const uint8_t *addr, uint8_t len)
{
	uint64_t hi = 0, lo = 0;
	uint32_t v4;
	if (t->fam == BGP_FAM_IPV6) {
		memcpy(&hi, addr, 8);
		memcpy(&lo, addr + 8, 8);
		return mix(hi ^ mix(lo ^ len ^ t->seed));
	}
	memcpy(&v4, addr, 4);
	return mix(((uint64_t)v4 << 8 | len) ^ t->seed);
}

static uint32_t
home(const struct bgp_rib_fam *t, uint64_t h)
{
	return (uint32_t)(((h >> 32) * (uint64_t)t->cap) >> 32);
}

/* Slot i's set, address bytes and length. */
static struct bgp_attrset **
slot_set(const struct bgp_rib_fam *t, uint32_t i)
{
	if (t->fam == BGP_FAM_IPV4)
		return &((struct rib4 *)t->v)[i].set;
	return &((struct rib6 *)t->v)[i].set;
}

static const uint8_t *
slot_addr(const struct bgp_rib_fam *t, uint32_t i, uint8_t *len)
{
	if (t->fam == BGP_FAM_IPV4) {
		struct rib4 *e = &((struct rib4 *)t->v)[i];
		*len = e->len;
		return (const uint8_t *)&e->addr;
	}
	struct rib6 *e = &((struct rib6 *)t->v)[i];
	*len = e->len;
	return e->addr;
}

static uint8_t *
slot_flags(const struct bgp_rib_fam *t, uint32_t i)
{
	if (t->fam == BGP_FAM_IPV4)
		return &((struct rib4 *)t->v)[i].flags;
	return &((struct rib6 *)t->v)[i].flags;
}

static uint32_t
slot_home(const struct bgp_rib_fam *t, uint32_t i)
{
	uint8_t len;
	const uint8_t *a = slot_addr(t, i, &len);
	return home(t, key_hash(t, a, len));
}

static void
slot_fill(struct bgp_rib_fam *t, uint32_t i, const uint8_t *addr, uint8_t len,
          struct bgp_attrset *set, uint8_t flags)
{
	if (t->fam == BGP_FAM_IPV4) {
		struct rib4 *e = &((struct rib4 *)t->v)[i];
		memcpy(&e->addr, addr, 4);
		e->len = len;
		e->flags = flags;
		e->pad = 0;
		e->set = set;
	} else {
		struct rib6 *e = &((struct rib6 *)t->v)[i];
		memcpy(e->addr, addr, 16);
		e->len = len;
		e->flags = flags;
		e->set = set;
	}
}

static struct bgp_rib_fam *
fam_of(const struct bgp_rib *r, const struct ip_prefix *p)
{
	uint8_t f = bgp_fam_of_af(p->a.af);
	return f == BGP_FAM_NONE ? NULL : (struct bgp_rib_fam *)&r->f[f];
}

/* The slot of p, or UINT32_MAX; *at is where p would go. One loop per
 * family, comparing the key in place: this is the hot path of a full-table
 * load. */
static uint32_t
find(const struct bgp_rib_fam *t, const uint8_t *addr, uint8_t len, uint32_t *at)
{
	uint32_t i;
	if (t->cap == 0) {
		*at = UINT32_MAX;
		return UINT32_MAX;
	}
	i = home(t, key_hash(t, addr, len));
	if (t->fam == BGP_FAM_IPV4) {
		const struct rib4 *v = t->v;
		uint32_t a;
		memcpy(&a, addr, 4);
		for (; v[i].set; i = i + 1 == t->cap ? 0 : i + 1)
			if (v[i].addr == a && v[i].len == len)
				return *at = i;
	} else {
		const struct rib6 *v = t->v;
		uint64_t hi, lo, eh, el;
		memcpy(&hi, addr, 8);
		memcpy(&lo, addr + 8, 8);
		for (; v[i].set; i = i + 1 == t->cap ? 0 : i + 1) {
			memcpy(&eh, v[i].addr, 8);
			memcpy(&el, v[i].addr + 8, 8);
			if (eh == hi && el == lo && v[i].len == len)
				return *at = i;
		}
	}
	*at = i;
	return UINT32_MAX;
}

static void
resize(struct bgp_rib_fam *t, uint32_t cap)
{
	struct bgp_rib_fam old = *t;

	t->v = lib_xcalloc(cap, esz(t));
	t->cap = cap;
	t->seed = mix(old.seed + 0x9e3779b97f4a7c15ull + cap); /* see the top */
	for (uint32_t i = 0; i < old.cap; i++) {
		struct bgp_attrset *s = *slot_set(&old, i);
		uint8_t len;
		const uint8_t *a;
		uint32_t at;
		if (!s)
			continue;
		a = slot_addr(&old, i, &len);
		find(t, a, len, &at);
		slot_fill(t, at, a, len, s, *slot_flags(&old, i));
	}
	free(old.v);
}

void
bgp_rib_init(struct bgp_rib *r)
{
	memset(r, 0, sizeof(*r));
	r->f[BGP_FAM_IPV4].fam = BGP_FAM_IPV4;
	r->f[BGP_FAM_IPV6].fam = BGP_FAM_IPV6;
}

void
bgp_rib_clear_fam(struct bgp_rib *r, uint8_t fam)
{
	struct bgp_rib_fam *t = &r->f[fam];
	for (uint32_t i = 0; i < t->cap; i++)
		bgp_aset_unref(*slot_set(t, i));
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

void
bgp_rib_free(struct bgp_rib *r)
{
	for (uint8_t f = 0; f < BGP_FAM_N; f++)
		bgp_rib_clear_fam(r, f);
}

struct bgp_attrset *
bgp_rib_put(struct bgp_rib *r, const struct ip_prefix *p, struct bgp_attrset *set, uint8_t flags)
{
	struct bgp_rib_fam *t = fam_of(r, p);
	struct bgp_attrset *old;
	uint32_t i, at;

	if (!t || !set)
		return NULL;
	i = find(t, p->a.b, p->len, &at);
	if (i != UINT32_MAX) {
		struct bgp_attrset **sp = slot_set(t, i);
		old = *sp;
		*sp = bgp_aset_ref(set);
		*slot_flags(t, i) = flags;
		return old;
	}
	if ((uint64_t)(t->n + 1) * 5 > (uint64_t)t->cap * 4) {
		uint32_t cap = t->cap < RIB_MIN_CAP ? RIB_MIN_CAP : t->cap + t->cap / 2;
		resize(t, cap);
		find(t, p->a.b, p->len, &at);
	}
	slot_fill(t, at, p->a.b, p->len, bgp_aset_ref(set), flags);
	t->n++;
	return NULL;
}

void
bgp_rib_prefetch(const struct bgp_rib *r, const struct ip_prefix *p)
{
	const struct bgp_rib_fam *t = fam_of(r, p);
	if (!t || !t->cap)
		return;
	uint32_t i = home(t, key_hash(t, p->a.b, p->len));
	__builtin_prefetch((const uint8_t *)t->v + (size_t)i * esz(t));
}

struct bgp_attrset *
bgp_rib_get(const struct bgp_rib *r, const struct ip_prefix *p, uint8_t *flags)
{
	const struct bgp_rib_fam *t = fam_of(r, p);
	uint32_t i, at;

	if (!t || (i = find(t, p->a.b, p->len, &at)) == UINT32_MAX)
		return NULL;
	if (flags)
		*flags = *slot_flags(t, i);
	return *slot_set(t, i);
}

bool
bgp_rib_flag(struct bgp_rib *r, const struct ip_prefix *p, uint8_t clear, uint8_t set)
{
	struct bgp_rib_fam *t = fam_of(r, p);
	uint32_t i, at;
	uint8_t *f;

	if (!t || (i = find(t, p->a.b, p->len, &at)) == UINT32_MAX)
		return false;
	f = slot_flags(t, i);
	*f = (uint8_t)((*f & ~clear) | set);
	return true;
}

/* Backward-shift deletion: later slots of the cluster move into the hole
 * when their home is not between the hole and themselves. */
static void
remove_slot(struct bgp_rib_fam *t, uint32_t hole)
{
	uint32_t j = hole;
	size_t sz = esz(t);
	uint8_t *v = t->v;

	for (;;) {
		uint32_t h;
		if (++j == t->cap)
			j = 0;
		if (!*slot_set(t, j))
			break;
		h = slot_home(t, j);
		/* cyclic distances: the entry may move back to hole when its home
		 * is at least as far behind it as the hole is */
		if ((j + t->cap - h) % t->cap >= (j + t->cap - hole) % t->cap) {
			memcpy(v + (size_t)hole * sz, v + (size_t)j * sz, sz);
			hole = j;
		}
	}
	memset(v + (size_t)hole * sz, 0, sz);
}

struct bgp_attrset *
bgp_rib_del(struct bgp_rib *r, const struct ip_prefix *p, uint8_t *flags)
{
	struct bgp_rib_fam *t = fam_of(r, p);
	struct bgp_attrset *s;
	uint32_t i, at;

	if (!t || (i = find(t, p->a.b, p->len, &at)) == UINT32_MAX)
		return NULL;
	s = *slot_set(t, i);
	if (flags)
		*flags = *slot_flags(t, i);
	remove_slot(t, i);
	t->n--;
	if (t->n == 0) {
		free(t->v);
		t->v = NULL;
		t->cap = 0;
	} else if (t->cap > 1024 && (uint64_t)t->n * 8 < t->cap) {
		resize(t, t->cap / 4);
	}
	return s;
}

uint32_t
bgp_rib_max_probe(const struct bgp_rib *r)
{
	uint32_t m = 0;
	for (uint8_t f = 0; f < BGP_FAM_N; f++) {
		const struct bgp_rib_fam *t = &r->f[f];
		for (uint32_t i = 0; i < t->cap; i++)
			if (*slot_set(t, i)) {
				uint32_t d = (i + t->cap - slot_home(t, i)) % t->cap;
				m = d > m ? d : m;
			}
	}
	return m;
}

uint32_t
bgp_rib_count(const struct bgp_rib *r, uint8_t fam)
{
	return fam < BGP_FAM_N ? r->f[fam].n : 0;
}

uint32_t
bgp_rib_total(const struct bgp_rib *r)
{
	return r->f[BGP_FAM_IPV4].n + r->f[BGP_FAM_IPV6].n;
}

size_t
bgp_rib_bytes(const struct bgp_rib *r)
{
	size_t b = 0;
	for (uint8_t f = 0; f < BGP_FAM_N; f++)
		b += (size_t)r->f[f].cap * esz(&r->f[f]);
	return b;
}

void
bgp_rib_iter(struct bgp_rib_it *it)
{
	it->fam = 0;
	it->i = 0;
}

bool
bgp_rib_next(const struct bgp_rib *r, struct bgp_rib_it *it, struct ip_prefix *p,
             struct bgp_attrset **set, uint8_t **flags)
{
	for (; it->fam < BGP_FAM_N; it->fam++, it->i = 0) {
		const struct bgp_rib_fam *t = &r->f[it->fam];
		for (; it->i < t->cap; it->i++) {
			uint8_t len;
			const uint8_t *a;
			if (!*slot_set(t, it->i))
				continue;
			a = slot_addr(t, it->i, &len);
			memset(p, 0, sizeof(*p));
			p->a.af = t->fam == BGP_FAM_IPV4 ? IP_V4 : IP_V6;
			memcpy(p->a.b, a, t->fam == BGP_FAM_IPV4 ? 4 : 16);
			p->len = len;
			*set = *slot_set(t, it->i);
			if (flags)
				*flags = slot_flags(t, it->i);
			it->i++;
			return true;
		}
	}
	return false;
}
