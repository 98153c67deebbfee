/*
 * bench_lpm.c - the longest-prefix-match table on a synthetic full table,
 * next to the reference binary trie and the anchors of netverify-anchors.md
 * section 4 (Poptrie 174-240 M lookups/s per core, DXR > 100 M/s per core).
 *
 * The table is generated from a seed alone (splitmix64), with the length
 * mix of the IPv4 internet table (per million: ~56% /24, 12% /22, 11% /23,
 * 6% /21, 4.5% /20, 2.5% /19, 3.5% /16-/18, 0.4% /8-/15, 4.6% /25-/32);
 * 45% of the prefixes longer than /8 are carved out of a shorter prefix
 * already in the table (more-specifics, as in real tables), the others lie
 * anywhere in 221 allocated /8s. Values are 256 next hops; a second table
 * with one value per prefix (route indices) shows what that costs.
 *
 * Measured: build time (best of 3), memory (lookup structure, RIB, bytes
 * per prefix), lookups per second for random addresses and for addresses
 * inside a random table prefix (hits), single calls and batched calls,
 * best of 3 passes; incremental delete+insert per prefix against a full
 * build (the what-if ratio); and a cross-check against the reference.
 *
 * usage: bench_lpm [-f] [-n PREFIXES] [-p PASSES] [-q LOOKUPS] [-s SEED] [-6 V6PREFIXES]
 * (-f: the lookup structure alone, no reference, updates or IPv6)
 */
#include "ip/lpm.h"

#include "lib/lib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the synthetic table --------------------------------------------- */

/* Prefixes per million by length (after the 2024 IPv4 table, no default). */
static const unsigned mix[33] = {
    [8] = 16,      [9] = 13,      [10] = 37,    [11] = 100,   [12] = 300,
    [13] = 600,    [14] = 1100,   [15] = 1900,  [16] = 13500, [17] = 8000,
    [18] = 13500,  [19] = 25000,  [20] = 45000, [21] = 60000, [22] = 120000,
    [23] = 110000, [24] = 560000, [25] = 8000,  [26] = 8000,  [27] = 5000,
    [28] = 4000,   [29] = 5000,   [30] = 5000,  [31] = 1000,  [32] = 10000,
};

struct set {
	uint64_t *v;
	size_t cap;
};

static bool
set_add(struct set *s, uint64_t k)
{
	k++; /* 0 marks a free slot */
	size_t i = (size_t)((k * 0x9e3779b97f4a7c15ull) >> 20) & (s->cap - 1);
	while (s->v[i]) {
		if (s->v[i] == k)
			return false;
		i = (i + 1) & (s->cap - 1);
	}
	s->v[i] = k;
	return true;
}

static uint32_t
mask4(uint32_t a, unsigned len)
{
	return len ? a & (uint32_t)(~0ull << (32 - len)) : 0;
}

static struct ip_prefix
pfx4(uint32_t a, unsigned len)
{
	struct ip_prefix p = {.a = {.af = IP_V4}, .len = (uint8_t)len};
	p.a.b[0] = (uint8_t)(a >> 24);
	p.a.b[1] = (uint8_t)(a >> 16);
	p.a.b[2] = (uint8_t)(a >> 8);
	p.a.b[3] = (uint8_t)a;
	return p;
}

static uint32_t
addr_of(const struct ip_prefix *p)
{
	return (uint32_t)p->a.b[0] << 24 | (uint32_t)p->a.b[1] << 16 | (uint32_t)p->a.b[2] << 8 |
	       p->a.b[3];
}

/* Allocation blocks per 1000, by length: what registries hand to networks. */
static const unsigned amix[23] = {
    [13] = 10,  [14] = 20,  [15] = 30,  [16] = 140, [17] = 80,
    [18] = 100, [19] = 140, [20] = 140, [21] = 120, [22] = 220,
};

static unsigned
pick_len(const unsigned *w, unsigned nw, uint64_t x)
{
	unsigned sum = 0, l = 0;
	for (unsigned i = 0; i < nw; i++)
		sum += w[i];
	x %= sum;
	while (x >= w[l])
		x -= w[l++];
	return l;
}

/*
 * n IPv4 routes, lengths ascending; values are 256 next hops. clustered:
 * prefixes of /16 and longer that are not carved from a shorter prefix are
 * placed in one of n/8 allocation blocks (/13 to /22, as registries assign
 * them), chosen with a heavy tail (block u^3 * blocks, u uniform: 10% of the
 * blocks, the biggest, get 46% of these prefixes, as a few large networks
 * announce a large share of the table); otherwise anywhere in the 221
 * allocated /8s. correlated: next hops follow the origin as in a real FIB,
 * 80% of the prefixes in one allocation block share its next hop and 80%
 * of the more-specifics keep their parent's; the rest are random.
 */
static struct lpm_route *
gen4(size_t n, uint64_t seed, bool clustered, bool correlated)
{
	uint64_t s = seed;
	uint8_t tops[256];
	unsigned ntops = 0;
	for (unsigned o = 1; o < 224; o++)
		if (o != 10 && o != 127)
			tops[ntops++] = (uint8_t)o;
	size_t na = n / 8 + 1;
	uint32_t *alloc = lib_xmalloc(na * sizeof(*alloc));
	uint8_t *alen = lib_xmalloc(na);
	/* Block lengths in ascending order (counting sort), so the low indices,
	 * which the skewed choice below favours, are the big blocks. */
	size_t na_len[LIB_ARRAY_LEN(amix)] = {0};
	for (size_t i = 0; i < na; i++)
		na_len[pick_len(amix, LIB_ARRAY_LEN(amix), rnd(&s))]++;
	for (size_t i = 0, l = 0; i < na; i++) {
		while (!na_len[l])
			l++;
		na_len[l]--;
		uint64_t x = rnd(&s);
		alen[i] = (uint8_t)l;
		alloc[i] =
		    mask4((uint32_t)tops[(x >> 8) % ntops] << 24 | (uint32_t)(x >> 40), alen[i]);
	}
	size_t cnt[33] = {0}, total = 0, w = 0;
	for (unsigned l = 0; l <= 32; l++)
		w += mix[l];
	for (unsigned l = 0; l <= 32; l++)
		total += cnt[l] = (size_t)((double)mix[l] * (double)n / (double)w);
	cnt[24] += n - total;
	struct lpm_route *r = lib_xcalloc(n, sizeof(*r));
	size_t first[34] = {0}, k = 0;
	struct set set = {0};
	for (set.cap = 1; set.cap < 2 * n; set.cap *= 2)
		;
	set.v = lib_xcalloc(set.cap, sizeof(*set.v));
	for (unsigned l = 0; l <= 32; l++) {
		first[l] = k;
		for (size_t i = 0; i < cnt[l]; i++) {
			for (int tries = 0;; tries++) {
				uint64_t x = rnd(&s);
				uint32_t a = (uint32_t)tops[x % ntops] << 24 | (uint32_t)(x >> 40);
				uint32_t hop = (uint32_t)(rnd(&s) % 256);
				unsigned pl = l >= 16 ? l - 1 - (unsigned)(x >> 8) % 8 : l - 1;
				if (l > 8 && (x >> 16) % 100 < 45 && first[pl + 1] > first[pl]) {
					size_t span = first[pl + 1] - first[pl];
					const struct lpm_route *up =
					    &r[first[pl] + (rnd(&s) % span)];
					a = addr_of(&up->p) |
					    (uint32_t)(rnd(&s) & ~(uint64_t)0 >> (32 + pl));
					if (correlated && (x >> 24) % 100 < 80)
						hop = up->val;
				} else if (clustered && l >= 16) {
					double u = (double)(rnd(&s) >> 11) / 9007199254740992.0;
					size_t b = (size_t)((double)na * u * u * u);
					if (alen[b] <= l)
						a = alloc[b] |
						    ((uint32_t)rnd(&s) &
						     (uint32_t)(~0ull >> (32 + alen[b])));
					else
						a = alloc[b];
					if (correlated && (x >> 24) % 100 < 80)
						hop = (uint32_t)((b * 0x9e3779b97f4a7c15ull) >> 56);
				}
				a = mask4(a, l);
				if (set_add(&set, (uint64_t)a << 8 | l) || tries > 100) {
					r[k].p = pfx4(a, l);
					r[k].val = hop;
					k++;
					break;
				}
			}
		}
	}
	first[33] = k;
	free(set.v);
	free(alloc);
	free(alen);
	return r;
}

/* IPv6 prefixes per 1000 by length, after the IPv6 table (~200k routes). */
static const unsigned mix6[129] = {
    [29] = 30, [32] = 170, [36] = 30, [40] = 50, [44] = 60,  [46] = 30,
    [47] = 20, [48] = 500, [56] = 40, [64] = 40, [128] = 30,
};

/*
 * n IPv6 routes: registry blocks (2001::/16, 2400::/12, 2600::/12,
 * 2800::/12, 2a00::/12, 2c00::/12) hold n/8 LIR allocations (/29 to /32),
 * chosen with the same heavy tail as IPv4; each route lies in one (or
 * covers it when shorter), and 80% of a LIR's routes share its next hop.
 */
static struct lpm_route *
gen6(size_t n, uint64_t seed)
{
	static const uint16_t rir[] = {0x2001, 0x2400, 0x2600, 0x2800, 0x2a00, 0x2c00};
	uint64_t s = seed ^ 0x6666;
	size_t na = n / 8 + 1;
	uint64_t *lir = lib_xmalloc(na * sizeof(*lir));
	uint8_t *llen = lib_xmalloc(na);
	for (size_t i = 0; i < na; i++) {
		uint64_t x = rnd(&s), y = rnd(&s);
		uint64_t top = rir[x % LIB_ARRAY_LEN(rir)];
		unsigned fixed = top == 0x2001 ? 16 : 12;
		llen[i] = (uint8_t)(29 + (x >> 8) % 4);
		uint64_t a = top << 48 | (y >> fixed);
		lir[i] = a & ~0ull << (64 - llen[i]);
	}
	struct lpm_route *r = lib_xcalloc(n, sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		uint64_t x = rnd(&s), y = rnd(&s), z = rnd(&s);
		double u = (double)(x >> 11) / 9007199254740992.0;
		size_t b = (size_t)((double)na * u * u * u);
		unsigned len = pick_len(mix6, LIB_ARRAY_LEN(mix6), y);
		uint64_t hi = lir[b], lo = 0;
		if (len > llen[b]) {
			hi |= z & (~0ull >> llen[b]);
			lo = rnd(&s);
		}
		struct ip_prefix *p = &r[i].p;
		p->a.af = IP_V6;
		p->len = (uint8_t)len;
		for (int k = 0; k < 8; k++) {
			p->a.b[k] = (uint8_t)(hi >> (56 - 8 * k));
			p->a.b[8 + k] = (uint8_t)(lo >> (56 - 8 * k));
		}
		ip_prefix_mask(p);
		r[i].val = (y >> 32) % 100 < 80 ? (uint32_t)((b * 0x9e3779b97f4a7c15ull) >> 56)
		                                : (uint32_t)((z >> 8) % 256);
	}
	free(lir);
	free(llen);
	return r;
}

/* ---- measuring ---------------------------------------------------------- */

struct res {
	double build_ms, rand1, randb, hit1, hitb, mib, bpp;
};

static volatile uint32_t sink;
static int passes = 3; /* best of: other processes share the caches */

static double
rate_single(const struct lpm *t, const uint32_t *a, size_t q)
{
	double best = 0;
	for (int pass = 0; pass < passes; pass++) {
		uint32_t acc = 0;
		double t0 = now_s();
		for (size_t i = 0; i < q; i++)
			acc += lpm_lookup4(t, a[i]);
		double dt = now_s() - t0;
		sink = acc;
		if ((double)q / dt > best)
			best = (double)q / dt;
	}
	return best / 1e6;
}

static double
rate_batch(const struct lpm *t, const uint32_t *a, size_t q, uint32_t *out)
{
	double best = 0;
	for (int pass = 0; pass < passes; pass++) {
		double t0 = now_s();
		for (size_t i = 0; i < q; i += 1024)
			lpm_lookup4_batch(t, a + i, out + i, q - i < 1024 ? q - i : 1024);
		double dt = now_s() - t0;
		sink = out[q / 2];
		if ((double)q / dt > best)
			best = (double)q / dt;
	}
	return best / 1e6;
}

static double
rate_ref(const struct lpm_ref *r, const uint32_t *a, size_t q)
{
	double best = 0;
	for (int pass = 0; pass < passes; pass++) {
		uint32_t acc = 0;
		double t0 = now_s();
		for (size_t i = 0; i < q; i++)
			acc += lpm_ref_lookup4(r, a[i]);
		double dt = now_s() - t0;
		sink = acc;
		if ((double)q / dt > best)
			best = (double)q / dt;
	}
	return best / 1e6;
}

static double
build_best(struct lpm *t, const struct lpm_route *r, size_t n)
{
	double best = 1e30;
	for (int pass = 0; pass < 3; pass++) {
		double t0 = now_s();
		if (lpm_build(t, r, n)) {
			fprintf(stderr, "bench_lpm: build failed\n");
			exit(1);
		}
		double dt = now_s() - t0;
		best = dt < best ? dt : best;
	}
	return best * 1e3;
}

static void
cpu_model(char *buf, size_t n)
{
	snprintf(buf, n, "unknown CPU");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[256];
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');
		if (!strncmp(line, "model name", 10) && c) {
			snprintf(buf, n, "%s", c + 2);
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
}

int
main(int argc, char **argv)
{
	size_t n = 1000000, q = 10000000, n6 = 200000;
	uint64_t seed = 1;
	int opt;
	bool fast = false;
	while ((opt = getopt(argc, argv, "fn:p:q:s:6:")) != -1) {
		switch (opt) {
		case 'n':
			n = strtoull(optarg, NULL, 10);
			break;
		case 'q':
			q = strtoull(optarg, NULL, 10);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 10);
			break;
		case '6':
			n6 = strtoull(optarg, NULL, 10);
			break;
		case 'f':
			fast = true;
			break;
		case 'p':
			passes = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: bench_lpm [-f] [-n PREFIXES] [-p PASSES] [-q "
			                "LOOKUPS] [-s SEED] "
			                "[-6 V6PREFIXES]\n");
			return 2;
		}
	}
	if (n < 1000 || q < 1000 || passes < 1 || passes > 1000) {
		fprintf(stderr, "bench_lpm: -n and -q must be at least 1000, -p 1 to 1000\n");
		return 2;
	}
	char cpu[128];
	cpu_model(cpu, sizeof(cpu));
	printf("bench_lpm: %zu IPv4 prefixes (seed %llu), %zu lookups per pass, best of %d\n", n,
	       (unsigned long long)seed, q, passes);
	printf("machine: %s, %ld CPUs online, one thread\n\n", cpu, sysconf(_SC_NPROCESSORS_ONLN));

	struct lpm_route *r = gen4(n, seed, true, true);
	uint64_t s = seed * 31 + 7;
	uint32_t *ra = lib_xmalloc(q * sizeof(*ra)), *ha = lib_xmalloc(q * sizeof(*ha));
	uint32_t *out = lib_xmalloc(q * sizeof(*out));
	for (size_t i = 0; i < q; i++) {
		uint64_t x = rnd(&s);
		ra[i] = (uint32_t)x;
		const struct ip_prefix *p = &r[(x >> 32) % n].p;
		uint32_t host =
		    p->len == 32 ? 0 : (uint32_t)rnd(&s) & (uint32_t)(~0ull >> (32 + p->len));
		ha[i] = addr_of(p) | host;
	}

	struct lpm t;
	struct lpm_stats st;
	struct res pop, ref;
	lpm_init(&t);
	pop.build_ms = build_best(&t, r, n);
	lpm_stats(&t, &st);
	size_t count = lpm_count(&t);
	pop.mib = (double)st.fib_live / (1 << 20);
	pop.bpp = (double)st.fib_live / (double)count;
	pop.rand1 = rate_single(&t, ra, q);
	pop.randb = rate_batch(&t, ra, q, out);
	pop.hit1 = rate_single(&t, ha, q);
	pop.hitb = rate_batch(&t, ha, q, out);
	if (fast) {
		printf("poptrie: %.2f MiB, %u nodes; random %.1f / %.1f M/s, hits %.1f / %.1f M/s "
		       "(single / batch)\n",
		       pop.mib, st.nodes, pop.rand1, pop.randb, pop.hit1, pop.hitb);
		return 0;
	}

	struct lpm_ref rt;
	lpm_ref_init(&rt);
	double t0 = now_s();
	for (size_t i = 0; i < n; i++)
		lpm_ref_insert(&rt, &r[i].p, r[i].val);
	ref.build_ms = (now_s() - t0) * 1e3;
	ref.mib = (double)lpm_ref_bytes(&rt) / (1 << 20);
	ref.bpp = (double)lpm_ref_bytes(&rt) / (double)rt.count;
	ref.rand1 = rate_ref(&rt, ra, q);
	ref.hit1 = rate_ref(&rt, ha, q);

	/* cross-check every lookup of both address sets */
	size_t bad = 0;
	for (size_t i = 0; i < q; i++) {
		bad += lpm_lookup4(&t, ra[i]) != lpm_ref_lookup4(&rt, ra[i]);
		bad += lpm_lookup4(&t, ha[i]) != lpm_ref_lookup4(&rt, ha[i]);
	}

	printf("%-34s %14s %14s\n", "", "poptrie (lpm)", "binary trie");
	printf("%-34s %14zu %14zu\n", "prefixes (distinct)", count, rt.count);
	printf("%-34s %14.1f %14.1f\n", "build (ms)", pop.build_ms, ref.build_ms);
	printf("%-34s %14.2f %14.2f\n", "lookup structure (MiB)", pop.mib, ref.mib);
	printf("%-34s %14.2f %14.2f\n", "  bytes per prefix", pop.bpp, ref.bpp);
	printf("%-34s %14.2f %14s\n", "prefix store, RIB (MiB)", (double)st.rib_bytes / (1 << 20),
	       "(in trie)");
	printf("%-34s %14.1f %14.1f\n", "random addresses, single (M/s)", pop.rand1, ref.rand1);
	printf("%-34s %14.1f %14s\n", "random addresses, batch (M/s)", pop.randb, "-");
	printf("%-34s %14.1f %14.1f\n", "hits, single (M/s)", pop.hit1, ref.hit1);
	printf("%-34s %14.1f %14s\n", "hits, batch (M/s)", pop.hitb, "-");
	printf("ratio poptrie/trie: build %.2fx, memory %.3fx, random %.1fx, hits %.1fx\n",
	       pop.build_ms / ref.build_ms, pop.mib / ref.mib, pop.rand1 / ref.rand1,
	       pop.hit1 / ref.hit1);
	printf("cross-check: %zu lookups, %zu mismatches\n", 2 * q, bad);
	printf("structure: s=%u direct bits, %u nodes, %u leaves\n", st.s4, st.nodes, st.leaves);
	printf("anchors (netverify-anchors.md 4): Poptrie 174-240 M/s/core (2.4 MiB, tier-1 "
	       "table), DXR >100 M/s/core (< 2.5 B/prefix), DPDK rte_lpm 46 M/s random, Linux "
	       "fib_trie ~20 M/s\n\n");

	/* incremental updates: withdraw 10,000 prefixes one by one, then restore */
	size_t k = n < 100000 ? n / 10 : 10000;
	uint64_t us = seed + 99;
	size_t *idx = lib_xmalloc(k * sizeof(*idx));
	for (size_t i = 0; i < k; i++)
		idx[i] = rnd(&us) % n;
	uint64_t rb0 = t.nrebuild;
	t0 = now_s();
	for (size_t i = 0; i < k; i++)
		lpm_delete(&t, &r[idx[i]].p);
	double del_s = now_s() - t0;
	t0 = now_s();
	for (size_t i = k; i-- > 0;)
		lpm_insert(&t, &r[idx[i]].p, r[idx[i]].val);
	double ins_s = now_s() - t0;
	size_t bad2 = 0;
	for (size_t i = 0; i < q && i < 2000000; i++)
		bad2 += lpm_lookup4(&t, ha[i]) != lpm_ref_lookup4(&rt, ha[i]);
	double per_us = (del_s + ins_s) * 1e6 / (double)(2 * k);
	printf("updates: %zu deletes %.2f us each, %zu inserts %.2f us each (%llu full rebuilds)\n",
	       k, del_s * 1e6 / (double)k, k, ins_s * 1e6 / (double)k,
	       (unsigned long long)(t.nrebuild - rb0));
	printf("what-if ratio: one update %.2f us vs full build %.1f ms = 1/%.0f; after "
	       "restore %zu mismatches\n",
	       per_us, pop.build_ms, pop.build_ms * 1e3 / per_us, bad2);

	/* one value per prefix (route indices) instead of 256 next hops */
	for (size_t i = 0; i < n; i++)
		r[i].val = (uint32_t)i;
	struct lpm u;
	lpm_init(&u);
	double ubuild = build_best(&u, r, n);
	struct lpm_stats ust;
	lpm_stats(&u, &ust);
	printf("unique values: build %.1f ms, %.2f MiB (%.2f B/prefix), random %.1f M/s, hits "
	       "%.1f M/s\n",
	       ubuild, (double)ust.fib_live / (1 << 20), (double)ust.fib_live / (double)count,
	       rate_single(&u, ra, q), rate_single(&u, ha, q));
	lpm_free(&u);

	/* IPv6: the same structure over 128-bit keys */
	double v6rate = 0, v6build = 0;
	struct lpm_stats st6 = {0};
	if (n6) {
		struct lpm_route *r6 = gen6(n6, seed);
		struct lpm t6;
		lpm_init(&t6);
		v6build = build_best(&t6, r6, n6);
		lpm_stats(&t6, &st6);
		size_t q6 = q / 4;
		uint8_t(*a6)[16] = lib_xmalloc(q6 * sizeof(*a6));
		for (size_t i = 0; i < q6; i++) {
			const struct ip_prefix *p = &r6[rnd(&s) % n6].p;
			uint64_t x = rnd(&s), y = rnd(&s);
			for (int b = 0; b < 16; b++) {
				uint8_t host = (uint8_t)((b < 8 ? x : y) >> (8 * (b % 8)));
				int keep = (int)p->len - 8 * b;
				uint8_t m = keep >= 8   ? 0xff
				            : keep <= 0 ? 0
				                        : (uint8_t)(0xff00u >> keep);
				a6[i][b] = (uint8_t)((p->a.b[b] & m) | (host & ~m));
			}
		}
		for (int pass = 0; pass < 3; pass++) {
			uint32_t acc = 0;
			t0 = now_s();
			for (size_t i = 0; i < q6; i++)
				acc += lpm_lookup6(&t6, a6[i]);
			double rate = (double)q6 / (now_s() - t0) / 1e6;
			sink = acc;
			v6rate = rate > v6rate ? rate : v6rate;
		}
		printf("IPv6: %zu prefixes, build %.1f ms, %.2f MiB (%.2f B/prefix), hits %.1f M/s "
		       "single\n",
		       st6.n6, v6build, (double)st6.fib_live / (1 << 20),
		       (double)st6.fib_live / (double)(st6.n6 ? st6.n6 : 1), v6rate);
		free(a6);
		lpm_free(&t6);
		free(r6);
	}

	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS %.0f MiB (all tables and address arrays)\n", (double)ru.ru_maxrss / 1024);
	printf("lpm prefixes=%zu build_ms=%.1f fib_mib=%.2f fib_bpp=%.2f rib_mib=%.2f "
	       "rand_mlps=%.1f rand_batch_mlps=%.1f hit_mlps=%.1f hit_batch_mlps=%.1f "
	       "ref_build_ms=%.1f ref_mib=%.1f ref_rand_mlps=%.1f ref_hit_mlps=%.1f "
	       "update_us=%.2f mismatches=%zu\n",
	       count, pop.build_ms, pop.mib, pop.bpp, (double)st.rib_bytes / (1 << 20), pop.rand1,
	       pop.randb, pop.hit1, pop.hitb, ref.build_ms, ref.mib, ref.rand1, ref.hit1, per_us,
	       bad + bad2);
	lpm_free(&t);
	lpm_ref_free(&rt);
	free(idx);
	free(r);
	free(ra);
	free(ha);
	free(out);
	return bad + bad2 ? 1 : 0;
}
