/*
 * store_pack.c - chunk contents in pack objects: the new chunks of a point in one object.
 *
 * A chunk per object costs a file (an inode, a directory entry, a rename) per changed chunk
 * of every point, which bounds how often points can be cut. Packs put the zstd frames of a
 * batch back to back in one object, with a separate index object:
 *   packs/<16 hex>.pack   frames, back to back
 *   packs/<16 hex>.idx    "STRPIDX1" u64 n, n x (16-byte hash, u32 off, u32 zlen, u32 len),
 *                         u64 XXH3-64 of everything before
 * A pack is written (not yet durable) when it passes PACK_MAX bytes or when the point is
 * complete; the store then syncs the backend before the manifest that names its chunks, so a
 * manifest never names a chunk that is not durable. The pack is put before its index, and an
 * index counts only when its pack is present, so a crash between them leaves an orphan that
 * the sweep deletes. Pack ids are random, so two writers never pick the same name.
 *
 * The index of every pack is loaded on first use into one open-addressed table keyed by the
 * chunk hash (32 bytes per chunk: 128 MB for a terabyte of 256 KiB chunks). Chunks staged in
 * the pack being filled are in the table at once (deduplication within a batch) and read
 * from its buffer. After a failed write the table is dropped and reloaded from what is
 * stored, so it never names a chunk that was lost.
 *
 * Sweeping (store_gc): every chunk a manifest names is marked live; a pack with no live chunk
 * is deleted, a pack less than half live is rewritten (its live frames copied into a new
 * pack, made durable, then the old one deleted), so space follows pruning without copying
 * mostly-live packs again and again.
 */
#include "repl/store.h"

#include "lib/lib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <xxhash.h>

#define PACK_MAX  (64u << 20)
#define IDX_MAGIC "STRPIDX1"
#define IDX_ENT   (STORE_HASH_LEN + 12)
#define LIVE_BIT  0x80000000u

struct pk_ent {
	uint8_t hash[STORE_HASH_LEN];
	uint32_t pack; /* 1 + index into ids; 0: an empty slot */
	uint32_t off, zlen;
	uint32_t len; /* LIVE_BIT: marked by the sweep */
};

struct store_packs {
	const struct store_ops *ops;
	void *be;
	bool loaded;
	struct pk_ent *tab;
	uint64_t cap, n;
	struct lib_vec ids; /* of uint64_t */
	/* the pack being filled */
	uint32_t cur; /* its number (1 + index into ids), 0 when none */
	uint8_t *buf;
	size_t size, bufcap;
	struct lib_vec staged; /* of struct pk_ent: its index */
};

static void
pack_name(uint64_t id, const char *ext, char *out, size_t n)
{
	snprintf(out, n, "packs/%016llx.%s", (unsigned long long)id, ext);
}

struct store_packs *
store_packs_new(const struct store_ops *ops, void *be)
{
	struct store_packs *pk = lib_xcalloc(1, sizeof(*pk));
	pk->ops = ops;
	pk->be = be;
	lib_vec_init(&pk->ids, sizeof(uint64_t));
	lib_vec_init(&pk->staged, sizeof(struct pk_ent));
	return pk;
}

/* Forgets the table and the unwritten pack; the next use reloads what is stored. */
void
store_packs_drop(struct store_packs *pk)
{
	free(pk->tab);
	pk->tab = NULL;
	pk->cap = pk->n = 0;
	pk->ids.n = 0;
	pk->cur = 0;
	pk->size = 0;
	pk->staged.n = 0;
	pk->loaded = false;
}

void
store_packs_free(struct store_packs *pk)
{
	if (!pk)
		return;
	store_packs_drop(pk);
	lib_vec_free(&pk->ids);
	lib_vec_free(&pk->staged);
	free(pk->buf);
	free(pk);
}

/* ---- the table ------------------------------------------------------------------------- */

static struct pk_ent *
slot(const struct store_packs *pk, const uint8_t *hash)
{
	uint64_t h = lib_get_le64(hash), mask = pk->cap - 1;
	for (uint64_t i = h & mask;; i = (i + 1) & mask)
		if (!pk->tab[i].pack || !memcmp(pk->tab[i].hash, hash, STORE_HASH_LEN))
			return &pk->tab[i];
}

static void
grow(struct store_packs *pk)
{
	struct pk_ent *old = pk->tab;
	uint64_t oldcap = pk->cap;
	pk->cap = oldcap ? oldcap * 2 : 1024;
	pk->tab = lib_xcalloc(pk->cap, sizeof(*pk->tab));
	for (uint64_t i = 0; i < oldcap; i++)
		if (old[i].pack)
			*slot(pk, old[i].hash) = old[i];
	free(old);
}

/* Adds e unless its hash is known (the first copy wins). */
static void
insert(struct store_packs *pk, const struct pk_ent *e)
{
	if (pk->cap && slot(pk, e->hash)->pack)
		return;
	if ((pk->n + 1) * 10 > pk->cap * 7)
		grow(pk);
	*slot(pk, e->hash) = *e;
	pk->n++;
}

static const struct pk_ent *
find(const struct store_packs *pk, const uint8_t *hash)
{
	if (!pk->cap)
		return NULL;
	const struct pk_ent *s = slot(pk, hash);
	return s->pack ? s : NULL;
}

/* ---- loading ------------------------------------------------------------------------------ */

struct names {
	struct lib_map packs; /* ids with a .pack object */
	struct lib_vec idx;   /* of uint64_t: ids with a .idx object */
	struct lib_vec junk;  /* of char *: temporaries (heap) */
	struct lib_arena a;
};

/* id from "packs/<16 hex>.<ext>"; 0 when the name is not one. */
static uint64_t
parse_name(const char *name, const char **ext)
{
	const char *b = name + 6;
	if (strlen(b) < 18 || b[16] != '.')
		return 0;
	char *end;
	unsigned long long v = strtoull(b, &end, 16);
	if (end != b + 16)
		return 0;
	*ext = b + 17;
	return v;
}

static int
names_cb(void *arg, const char *name)
{
	struct names *nm = arg;
	if (strstr(name, ".tmp")) {
		*(char **)lib_vec_push(&nm->junk) = lib_arena_strdup(&nm->a, name);
		return 0;
	}
	const char *ext;
	uint64_t id = parse_name(name, &ext);
	if (!id)
		return 0;
	if (!strcmp(ext, "pack"))
		lib_map_put(&nm->packs, lib_arena_strdup(&nm->a, name + 6), id);
	else if (!strcmp(ext, "idx"))
		*(uint64_t *)lib_vec_push(&nm->idx) = id;
	return 0;
}

static int
names_list(struct store_packs *pk, struct names *nm)
{
	lib_map_init(&nm->packs);
	lib_vec_init(&nm->idx, sizeof(uint64_t));
	lib_vec_init(&nm->junk, sizeof(char *));
	lib_arena_init(&nm->a);
	return pk->ops->list(pk->be, "packs/", names_cb, nm);
}

static void
names_free(struct names *nm)
{
	lib_map_free(&nm->packs);
	lib_vec_free(&nm->idx);
	lib_vec_free(&nm->junk);
	lib_arena_free(&nm->a);
}

static bool
has_pack(const struct names *nm, uint64_t id)
{
	char n[32];
	uint64_t v;
	snprintf(n, sizeof(n), "%016llx.pack", (unsigned long long)id);
	return lib_map_get(&nm->packs, n, &v);
}

/* Reads one index into the table; -EBADMSG when it is damaged. */
static int
load_idx(struct store_packs *pk, uint64_t id)
{
	char name[48];
	pack_name(id, "idx", name, sizeof(name));
	void *data;
	size_t len;
	int rc = pk->ops->get_object(pk->be, name, &data, &len);
	if (rc)
		return rc;
	const uint8_t *b = data;
	rc = -EBADMSG;
	if (len < 24 || memcmp(b, IDX_MAGIC, 8) ||
	    lib_get_le64(b + len - 8) != XXH3_64bits(b, len - 8))
		goto out;
	uint64_t n = lib_get_le64(b + 8);
	if (n != (len - 24) / IDX_ENT || (len - 24) % IDX_ENT)
		goto out;
	*(uint64_t *)lib_vec_push(&pk->ids) = id;
	struct pk_ent e = {.pack = pk->ids.n};
	for (const uint8_t *q = b + 16; n--; q += IDX_ENT) {
		memcpy(e.hash, q, STORE_HASH_LEN);
		e.off = lib_get_le32(q + 16);
		e.zlen = lib_get_le32(q + 20);
		e.len = lib_get_le32(q + 24) & ~LIVE_BIT;
		insert(pk, &e);
	}
	rc = 0;
out:
	free(data);
	return rc;
}

static int
ensure_loaded(struct store_packs *pk)
{
	if (pk->loaded)
		return 0;
	struct names nm;
	int rc = names_list(pk, &nm);
	for (uint32_t i = 0; i < nm.idx.n && !rc; i++) {
		uint64_t id = ((uint64_t *)nm.idx.v)[i];
		if (!has_pack(&nm, id))
			continue; /* an orphan index: its pack never became durable */
		int r = load_idx(pk, id);
		if (r && r != -EBADMSG)
			rc = r; /* a damaged index: its chunks read as missing (-EBADMSG) */
	}
	names_free(&nm);
	if (rc) {
		store_packs_drop(pk);
		return rc;
	}
	pk->loaded = true;
	return 0;
}

/* ---- writing ------------------------------------------------------------------------------ */

int
store_packs_has(struct store_packs *pk, const uint8_t *hash)
{
	int rc = ensure_loaded(pk);
	if (rc)
		return rc;
	return find(pk, hash) != NULL;
}

static uint64_t
new_id(void)
{
	static uint64_t ctr;
	uint64_t id = 0;
	while (!id) {
		if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id)) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			id = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + ++ctr) *
			     0x9e3779b97f4a7c15ull;
		}
	}
	return id;
}

int
store_packs_flush(struct store_packs *pk)
{
	if (!pk->cur)
		return 0;
	uint64_t id = ((uint64_t *)pk->ids.v)[pk->cur - 1];
	size_t ilen = 24 + (size_t)pk->staged.n * IDX_ENT;
	uint8_t *ib = lib_xmalloc(ilen), *q = ib + 16;
	memcpy(ib, IDX_MAGIC, 8);
	lib_put_le64(ib + 8, pk->staged.n);
	const struct pk_ent *s = pk->staged.v;
	for (uint32_t i = 0; i < pk->staged.n; i++, q += IDX_ENT) {
		memcpy(q, s[i].hash, STORE_HASH_LEN);
		lib_put_le32(q + 16, s[i].off);
		lib_put_le32(q + 20, s[i].zlen);
		lib_put_le32(q + 24, s[i].len);
	}
	lib_put_le64(q, XXH3_64bits(ib, ilen - 8));
	char name[48];
	pack_name(id, "pack", name, sizeof(name));
	int rc = pk->ops->put_object(pk->be, name, pk->buf, pk->size, 0);
	if (!rc) {
		pack_name(id, "idx", name, sizeof(name));
		rc = pk->ops->put_object(pk->be, name, ib, ilen, 0);
	}
	free(ib);
	pk->cur = 0;
	pk->size = 0;
	pk->staged.n = 0;
	if (rc)
		store_packs_drop(pk);
	return rc;
}

/* Appends a frame to the pack being filled (and to the table, unless the hash is known). */
static int
stage(struct store_packs *pk, const uint8_t *hash, const void *z, size_t zn, uint32_t len)
{
	if (!pk->cur) {
		*(uint64_t *)lib_vec_push(&pk->ids) = new_id();
		pk->cur = pk->ids.n;
	}
	if (pk->size + zn > pk->bufcap) {
		size_t cap = pk->bufcap ? pk->bufcap : (1u << 20);
		while (cap < pk->size + zn)
			cap *= 2;
		pk->buf = lib_xrealloc(pk->buf, cap);
		pk->bufcap = cap;
	}
	memcpy(pk->buf + pk->size, z, zn);
	struct pk_ent e = {
	    .pack = pk->cur, .off = (uint32_t)pk->size, .zlen = (uint32_t)zn, .len = len};
	memcpy(e.hash, hash, STORE_HASH_LEN);
	pk->size += zn;
	insert(pk, &e);
	*(struct pk_ent *)lib_vec_push(&pk->staged) = e;
	return pk->size >= PACK_MAX ? store_packs_flush(pk) : 0;
}

int
store_packs_add(struct store_packs *pk, const uint8_t *hash, const void *z, size_t zn, uint32_t len)
{
	int rc = ensure_loaded(pk);
	if (rc)
		return rc;
	if (find(pk, hash))
		return 0;
	return stage(pk, hash, z, zn, len);
}

/* ---- reading ------------------------------------------------------------------------------ */

static int
read_range(struct store_packs *pk, uint64_t id, uint32_t off, uint32_t n, void *buf)
{
	char name[48];
	pack_name(id, "pack", name, sizeof(name));
	if (pk->ops->get_range)
		return pk->ops->get_range(pk->be, name, off, buf, n);
	void *data;
	size_t len;
	int rc = pk->ops->get_object(pk->be, name, &data, &len);
	if (rc)
		return rc;
	if ((uint64_t)off + n > len)
		rc = -EBADMSG;
	else
		memcpy(buf, (uint8_t *)data + off, n);
	free(data);
	return rc;
}

int
store_packs_get(struct store_packs *pk, const uint8_t *hash, void **z, size_t *zn, uint32_t *len)
{
	int rc = ensure_loaded(pk);
	if (rc)
		return rc;
	const struct pk_ent *e = find(pk, hash);
	if (!e)
		return -EBADMSG; /* a manifest names a chunk that is not stored */
	void *b = lib_xmalloc(e->zlen ? e->zlen : 1);
	if (e->pack == pk->cur) {
		memcpy(b, pk->buf + e->off, e->zlen);
	} else {
		rc = read_range(pk, ((uint64_t *)pk->ids.v)[e->pack - 1], e->off, e->zlen, b);
		if (rc) {
			free(b);
			return rc == -ENOENT ? -EBADMSG : rc;
		}
	}
	*z = b;
	*zn = e->zlen;
	*len = e->len & ~LIVE_BIT;
	return 0;
}

int
store_packs_count(struct store_packs *pk, uint64_t *chunks, uint64_t *packs)
{
	int rc = ensure_loaded(pk);
	if (rc)
		return rc;
	*chunks = pk->n;
	*packs = pk->ids.n;
	return 0;
}

/* ---- sweeping ----------------------------------------------------------------------------- */

int
store_packs_mark(struct store_packs *pk, const uint8_t *hash)
{
	int rc = ensure_loaded(pk);
	if (rc)
		return rc;
	struct pk_ent *e = pk->cap ? slot(pk, hash) : NULL;
	if (e && e->pack)
		e->len |= LIVE_BIT;
	return 0;
}

struct tally {
	uint32_t live, all;
};

/* Copies the live frames of pack p into the pack being filled. */
static int
rewrite(struct store_packs *pk, uint32_t p, struct pk_ent *live, size_t nlive)
{
	uint64_t id = ((uint64_t *)pk->ids.v)[p - 1];
	char name[48];
	pack_name(id, "pack", name, sizeof(name));
	void *data;
	size_t len;
	int rc = pk->ops->get_object(pk->be, name, &data, &len);
	if (rc)
		return rc;
	for (size_t i = 0; i < nlive && !rc; i++) {
		struct pk_ent *e = &live[i];
		if ((uint64_t)e->off + e->zlen > len) {
			rc = -EBADMSG;
			break;
		}
		/* the table still names the old copy: it is dropped after the sweep */
		rc = stage(pk, e->hash, (uint8_t *)data + e->off, e->zlen, e->len & ~LIVE_BIT);
	}
	free(data);
	return rc;
}

static int
delete_pack(struct store_packs *pk, uint64_t id)
{
	char name[48];
	pack_name(id, "idx", name, sizeof(name));
	int rc = pk->ops->delete_object(pk->be, name);
	if (rc && rc != -ENOENT)
		return rc;
	pack_name(id, "pack", name, sizeof(name));
	rc = pk->ops->delete_object(pk->be, name);
	return rc == -ENOENT ? 0 : rc;
}

/* Deletes leftovers: temporaries, orphan indexes and packs without an index. */
static int
sweep_orphans(struct store_packs *pk, int *deleted)
{
	struct names nm;
	int rc = names_list(pk, &nm);
	for (uint32_t i = 0; i < nm.junk.n && !rc; i++) {
		int r = pk->ops->delete_object(pk->be, ((char **)nm.junk.v)[i]);
		if (r && r != -ENOENT)
			rc = r;
		else
			(*deleted)++;
	}
	struct lib_map idx;
	lib_map_init(&idx);
	char n[48];
	for (uint32_t i = 0; i < nm.idx.n && !rc; i++) {
		uint64_t id = ((uint64_t *)nm.idx.v)[i];
		snprintf(n, sizeof(n), "%016llx.idx", (unsigned long long)id);
		lib_map_put(&idx, lib_arena_strdup(&nm.a, n), id);
		if (!has_pack(&nm, id) && !(rc = delete_pack(pk, id)))
			(*deleted)++;
	}
	for (uint32_t i = 0; i < nm.packs.cap && !rc; i++) {
		const struct lib_map_slot *s = &nm.packs.slots[i];
		if (!s->key)
			continue;
		uint64_t v;
		snprintf(n, sizeof(n), "%016llx.idx", (unsigned long long)s->val);
		if (!lib_map_get(&idx, n, &v) && !(rc = delete_pack(pk, s->val)))
			(*deleted)++;
	}
	lib_map_free(&idx);
	names_free(&nm);
	return rc;
}

static int
sweep_packs(struct store_packs *pk, int *deleted)
{
	uint32_t np = pk->ids.n;
	struct tally *t = lib_xcalloc(np ? np : 1, sizeof(*t));
	for (uint64_t i = 0; i < pk->cap; i++) {
		struct pk_ent *e = &pk->tab[i];
		if (!e->pack || e->pack > np)
			continue;
		t[e->pack - 1].all++;
		t[e->pack - 1].live += (e->len & LIVE_BIT) != 0;
	}
	int rc = 0;
	struct lib_vec dead; /* of uint64_t: packs to delete once their live chunks are safe */
	lib_vec_init(&dead, sizeof(uint64_t));
	for (uint32_t p = 1; p <= np && !rc; p++) {
		if (t[p - 1].live * 2 >= t[p - 1].all && t[p - 1].live)
			continue;
		struct lib_vec live;
		lib_vec_init(&live, sizeof(struct pk_ent));
		for (uint64_t i = 0; i < pk->cap; i++)
			if (pk->tab[i].pack == p && (pk->tab[i].len & LIVE_BIT))
				*(struct pk_ent *)lib_vec_push(&live) = pk->tab[i];
		if (live.n)
			rc = rewrite(pk, p, live.v, live.n);
		lib_vec_free(&live);
		*(uint64_t *)lib_vec_push(&dead) = ((uint64_t *)pk->ids.v)[p - 1];
		*deleted += (int)(t[p - 1].all - t[p - 1].live);
	}
	/* The copies are durable before the originals go. */
	if (!rc)
		rc = store_packs_flush(pk);
	if (!rc)
		rc = pk->ops->sync(pk->be);
	for (uint32_t i = 0; i < dead.n && !rc; i++)
		rc = delete_pack(pk, ((uint64_t *)dead.v)[i]);
	lib_vec_free(&dead);
	free(t);
	return rc;
}

/* After store_packs_mark of every chunk a manifest names: deletes or compacts packs. Returns
 * the number of chunks and leftovers deleted. */
int
store_packs_sweep(struct store_packs *pk)
{
	int deleted = 0;
	int rc = ensure_loaded(pk);
	if (!rc)
		rc = store_packs_flush(pk);
	if (!rc)
		rc = sweep_packs(pk, &deleted);
	store_packs_drop(pk);
	if (!rc)
		rc = sweep_orphans(pk, &deleted);
	if (!rc)
		rc = pk->ops->sync(pk->be);
	return rc ? rc : deleted;
}
