/*
 * store_prune.c - Site Recovery's retention and pruning of recovery points, and the chunk GC.
 *
 * Selection (azure-facts.md 3.3, dr-anchors.md 1.2, the A2A FAQ): ages are measured from the
 * NEWEST point, never from a wall clock, so nothing is pruned while no new points arrive.
 * The newest point is always kept. Retention 0 keeps only it ("latest" is the only choice).
 * Otherwise every point of age <= 2 h is kept; points older than the retention are dropped;
 * between, one point per bucket: 1 h buckets for retention <= 1 day, 2 h for <= 7 days,
 * and for longer retention 2 h buckets up to age 7 days and 4 h beyond. Buckets are aligned
 * to multiples of their width on the replication clock and the oldest point of a bucket is
 * the one kept, so the choice is stable as new points arrive (pruning is idempotent).
 * App-consistent points are pruned the same way. Points named by group points are kept.
 *
 * Merging: a kept delta whose base chain runs through pruned points is rewritten (atomically,
 * same name) as a delta against the nearest kept point holding the union of the changes, or
 * as a full map when a pruned full map lies on that chain. Only then are the pruned
 * manifests deleted, newest first, so after a crash at any moment every listed point still
 * resolves. store_gc then deletes or compacts the packs of chunks no manifest names.
 */
#include "repl/store.h"

#include "lib/lib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HOUR 3600
#define DAY  86400

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void
store_prune_select(const int64_t *times, size_t n, int64_t ret, bool *keep)
{
	if (n == 0)
		return;
	int64_t newest = times[n - 1];
	int64_t pw = 0, pb = 0;
	bool have = false;
	for (size_t i = 0; i < n; i++) {
		int64_t age = newest - times[i];
		keep[i] = false;
		if (i == n - 1) {
			keep[i] = true;
			continue;
		}
		if (ret <= 0)
			continue;
		if (age <= 2 * HOUR) {
			keep[i] = true;
			continue;
		}
		if (age > ret)
			continue;
		int64_t w;
		if (ret <= DAY)
			w = HOUR;
		else if (ret <= 7 * DAY || age <= 7 * DAY)
			w = 2 * HOUR;
		else
			w = 4 * HOUR;
		int64_t b = floor_div(times[i], w);
		if (!have || w != pw || b != pb)
			keep[i] = true;
		have = true;
		pw = w;
		pb = b;
	}
}

static size_t
find_seq(const struct store_manifest *ms, size_t n, uint64_t seq)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (ms[mid].p.seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && ms[lo].p.seq == seq ? lo : n;
}

/* Rewrites kept point q so that its chain no longer passes through pruned points. */
static int
rebase(struct store *st, const char *disk, struct store_manifest *ms, size_t n, const bool *keep,
       size_t q)
{
	struct store_manifest *m = &ms[q];
	if (m->p.full)
		return 0;
	struct lib_vec via; /* indexes of pruned deltas, newest first */
	lib_vec_init(&via, sizeof(size_t));
	bool need_full = false;
	size_t k = n;
	for (uint64_t b = m->p.base;;) {
		size_t i = find_seq(ms, n, b);
		if (i == n || b >= m->p.seq) {
			lib_vec_free(&via);
			return -EBADMSG;
		}
		if (keep[i]) {
			k = i;
			break;
		}
		if (ms[i].p.full) {
			need_full = true;
			break;
		}
		*(size_t *)lib_vec_push(&via) = i;
		b = ms[i].p.base;
	}
	if (!need_full && via.n == 0) {
		lib_vec_free(&via);
		return 0;
	}
	struct store_manifest nm = {.p = m->p};
	int rc;
	if (need_full) {
		struct store_point rp;
		uint8_t *h;
		rc = store_resolve(st, disk, m->p.seq, &rp, &h);
		if (rc)
			goto out;
		uint64_t nch = (rp.disk_size + rp.chunk_size - 1) / rp.chunk_size;
		nm.e = lib_xcalloc(nch ? nch : 1, sizeof(*nm.e));
		nm.p.nentries = 0;
		static const uint8_t zero[STORE_HASH_LEN];
		for (uint64_t i = 0; i < nch; i++) {
			if (!memcmp(h + i * STORE_HASH_LEN, zero, STORE_HASH_LEN))
				continue;
			nm.e[nm.p.nentries].index = i;
			memcpy(nm.e[nm.p.nentries++].hash, h + i * STORE_HASH_LEN, STORE_HASH_LEN);
		}
		free(h);
		nm.p.full = true;
		nm.p.base = 0;
		nm.p.depth = 0;
	} else {
		size_t total = m->p.nentries;
		size_t *vi = via.v;
		for (uint32_t i = 0; i < via.n; i++)
			total += ms[vi[i]].p.nentries;
		nm.e = lib_xmalloc((total ? total : 1) * sizeof(*nm.e));
		size_t at = 0;
		for (uint32_t i = via.n; i-- > 0;) {
			memcpy(nm.e + at, ms[vi[i]].e, ms[vi[i]].p.nentries * sizeof(*nm.e));
			at += ms[vi[i]].p.nentries;
		}
		memcpy(nm.e + at, m->e, m->p.nentries * sizeof(*nm.e));
		nm.p.nentries = store_sort_changes(nm.e, total);
		nm.p.base = ms[k].p.seq;
		nm.p.depth = ms[k].p.depth + 1;
	}
	rc = store_manifest_save(st, disk, &nm);
	if (!rc) {
		store_manifest_free(m);
		*m = nm;
		nm.e = NULL;
	}
out:
	store_manifest_free(&nm);
	lib_vec_free(&via);
	return rc;
}

int
store_prune(struct store *st, const char *disk, int64_t retention)
{
	struct store_point *pts;
	size_t n;
	store_forget(st, disk);
	int rc = store_list_points(st, disk, &pts, &n);
	if (rc)
		return rc;
	struct store_manifest *ms = lib_xcalloc(n ? n : 1, sizeof(*ms));
	int64_t *times = lib_xmalloc((n ? n : 1) * sizeof(*times));
	bool *keep = lib_xcalloc(n ? n : 1, sizeof(*keep));
	uint64_t *pins = NULL;
	size_t npins = 0, loaded = 0;
	for (; loaded < n && !rc; loaded++)
		rc = store_manifest_load(st, disk, pts[loaded].seq, &ms[loaded]);
	if (rc) {
		loaded--;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		times[i] = ms[i].p.time;
	store_prune_select(times, n, retention, keep);
	rc = store_group_pins(st, disk, &pins, &npins);
	if (rc)
		goto out;
	for (size_t i = 0; i < npins; i++) {
		size_t j = find_seq(ms, n, pins[i]);
		if (j < n)
			keep[j] = true;
	}
	for (size_t i = 0; i < n && !rc; i++)
		if (keep[i])
			rc = rebase(st, disk, ms, n, keep, i);
	if (rc)
		goto out;
	void *be;
	const struct store_ops *ops = store_ops_of(st, &be);
	int pruned = 0;
	for (size_t i = n; i-- > 0 && !rc;) {
		if (keep[i])
			continue;
		char name[STORE_NAME_MAX + 64];
		store_manifest_name(disk, ms[i].p.seq, name, sizeof(name));
		rc = ops->delete_object(be, name);
		pruned++;
	}
	if (!rc)
		rc = ops->sync(be);
	if (!rc)
		rc = pruned;
	store_forget(st, disk);
out:
	for (size_t i = 0; i < loaded; i++)
		store_manifest_free(&ms[i]);
	free(ms);
	free(times);
	free(keep);
	free(pins);
	free(pts);
	return rc;
}

/* ---- garbage collection ---------------------------------------------------------------- */

struct gc {
	struct store *st;
	struct lib_arena a;
	struct lib_vec manifests; /* of char * (arena): manifest names */
	struct lib_vec doomed;    /* of char * (arena): temporaries */
};

static int
gc_meta_cb(void *arg, const char *name)
{
	struct gc *g = arg;
	char *s = lib_arena_strdup(&g->a, name);
	if (strstr(name, ".tmp"))
		*(char **)lib_vec_push(&g->doomed) = s;
	else if (!strncmp(name, "disks/", 6))
		*(char **)lib_vec_push(&g->manifests) = s;
	return 0;
}

/* Marks the chunks of manifest "disks/<disk>/p<seq>" live. */
static int
gc_mark(struct gc *g, const char *name)
{
	const char *d = name + 6, *slash = strchr(d, '/');
	if (!slash || slash[1] != 'p' || strlen(slash + 1) != 17)
		return 0;
	char disk[STORE_NAME_MAX + 1];
	size_t dl = (size_t)(slash - d);
	if (dl > STORE_NAME_MAX)
		return 0;
	memcpy(disk, d, dl);
	disk[dl] = '\0';
	if (!store_name_ok(disk))
		return 0;
	uint64_t seq = strtoull(slash + 2, NULL, 16);
	struct store_manifest m;
	int rc = store_manifest_load(g->st, disk, seq, &m);
	if (rc)
		return rc; /* never sweep on a manifest we cannot read */
	struct store_packs *pk = store_packs_of(g->st);
	for (uint64_t i = 0; i < m.p.nentries && !rc; i++) {
		static const uint8_t zero[STORE_HASH_LEN];
		if (memcmp(m.e[i].hash, zero, STORE_HASH_LEN))
			rc = store_packs_mark(pk, m.e[i].hash);
	}
	store_manifest_free(&m);
	return rc;
}

int
store_gc(struct store *st)
{
	void *be;
	const struct store_ops *ops = store_ops_of(st, &be);
	struct gc g = {.st = st};
	lib_arena_init(&g.a);
	lib_vec_init(&g.manifests, sizeof(char *));
	lib_vec_init(&g.doomed, sizeof(char *));
	int rc = ops->list(be, "disks/", gc_meta_cb, &g);
	if (!rc)
		rc = ops->list(be, "groups/", gc_meta_cb, &g);
	for (uint32_t i = 0; i < g.manifests.n && !rc; i++)
		rc = gc_mark(&g, ((char **)g.manifests.v)[i]);
	int deleted = 0;
	if (!rc) {
		rc = store_packs_sweep(store_packs_of(st));
		deleted = rc > 0 ? rc : 0;
		rc = rc < 0 ? rc : 0;
	} else {
		store_packs_drop(store_packs_of(st)); /* forget the marks */
	}
	for (uint32_t i = 0; i < g.doomed.n && !rc; i++) {
		int r = ops->delete_object(be, ((char **)g.doomed.v)[i]);
		if (r && r != -ENOENT)
			rc = r;
		else
			deleted++;
	}
	if (!rc)
		rc = ops->sync(be);
	lib_vec_free(&g.manifests);
	lib_vec_free(&g.doomed);
	lib_arena_free(&g.a);
	return rc ? rc : deleted;
}
