/*
 * store_pack.c - chunk contents in pack objects: the new chunks of a point in one object.
 *
 * A chunk per object costs a file (an inode, a directory entry, a rename) per changed chunk
 * of every point, which bounds how often points can be cut. Packs put the zstd frames of a
 * batch back to back in one object, with a separate index object:
 *   packs/<16 hex>.pack   frames, back to back
 *   packs/<16 hex>.idx    "STRPIDX1" u64 n, n x (16-byte hash, u32 off, u32 zlen, u32 len),
 *                         u64 XXH3-64 of everything before
 * where len carries STORE_PACK_DELTA for a delta frame (store.c), whose first 16 bytes are
 * the hash of the chunk it applies to.
 * A pack is written (not yet durable) when it passes PACK_MAX bytes or when the point is
 * complete; the store then syncs the backend before the manifest that names its chunks, so a
 * manifest never names a chunk that is not durable. The pack is put before its index, and an
 * index counts only when its pack is present, so a crash between them leaves an orphan that
 * the sweep deletes. Pack ids are random, so two writers never pick the same name.
 *
 * The index of every pack is read on first use into one open-addressed table keyed by the
 * chunk hash, of 12-byte slots: 32 bits of the hash (not those that place the slot), the
 * pack and the entry's number in the pack's index. The entry itself (the full hash, offset
 * and lengths) stays in the stored index and is read (28 bytes, get_range) only when a
 * slot's 32 bits match the hash looked up: a chunk already stored, or once in 2^32 probes
 * otherwise. At most 80% full, doubled when more would go in: 15-30 bytes of memory per
 * stored chunk (the table held whole entries before, 46-92 bytes; bench/bench_packs).
 * Growing reads the indexes again, in the order the packs were added, so the same copy of
 * a chunk wins. A pack's index is held in memory from its put until the backend's next
 * sync (store_packs_synced), when the backend can read it back. Chunks staged in the pack
 * being filled are in the table at once (deduplication within a batch) and read from its
 * buffer. After a failed write the table is dropped and reloaded from what is stored, so
 * it never names a chunk that was lost.
 *
 * Sweeping (store_gc): every chunk a manifest names is marked live (every slot of its probe
 * run whose 32 bits match: no index read, and at worst a dead chunk kept), then the bases
 * of live deltas in turn (the slot says which chunks are deltas; one 16-byte read of each
 * live one's frame names its base). A pack with no live chunk is deleted, a pack less than
 * half live is rewritten (its live frames copied into a new pack, made durable, then the old
 * one deleted), so space follows pruning without copying mostly-live packs again and again.
 * Two passes over the table find them all.
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
#define DELTA_BIT 0x40000000u /* in a slot's ent: the entry is a delta (STORE_PACK_DELTA) */
#define ENT_MASK  0x3fffffffu
#define TAB_MIN   1024u

/* A chunk's entry: its index record, decoded. */
struct pk_ent {
	uint8_t hash[STORE_HASH_LEN];
	uint32_t off, zlen;
	uint32_t len;
};

/* The table's slot for a chunk: 12 bytes, where the entry itself takes 28 (in its
 * index). frag is 32 bits of the hash apart from those that place the slot: a probe
 * reads an index entry only when they match (once in 2^32 otherwise). */
struct pk_slot {
	uint32_t frag;
	uint32_t pack; /* 1 + index into packs; 0: an empty slot */
	uint32_t ent;  /* its entry in that pack's index (ENT_MASK); LIVE_BIT: marked by the
	                * sweep; DELTA_BIT: a delta, whose base the sweep keeps too */
};

struct pk_pack {
	uint64_t id;
	uint8_t *idx; /* its index object while the backend may not have it yet, else NULL */
};

struct store_packs {
	const struct store_ops *ops;
	void *be;
	bool loaded;
	struct pk_slot *tab;
	uint64_t cap, n;
	struct lib_vec packs;    /* of struct pk_pack */
	struct lib_vec unsynced; /* of uint32_t: packs whose idx is held until a sync */
	/* the pack being filled */
	uint32_t cur; /* its number (1 + index into packs), 0 when none */
	uint8_t *buf;
	size_t size, bufcap;
	struct lib_vec staged; /* of struct pk_ent: its index */
};

static void
pack_name(uint64_t id, const char *ext, char *out, size_t n)
{
	snprintf(out, n, "packs/%016llx.%s", (unsigned long long)id, ext);
}

static struct pk_pack *
pack_at(const struct store_packs *pk, uint32_t p)
{
	return &((struct pk_pack *)pk->packs.v)[p - 1];
}

struct store_packs *
store_packs_new(const struct store_ops *ops, void *be)
{
	struct store_packs *pk = lib_xcalloc(1, sizeof(*pk));
	pk->ops = ops;
	pk->be = be;
	lib_vec_init(&pk->packs, sizeof(struct pk_pack));
	lib_vec_init(&pk->unsynced, sizeof(uint32_t));
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
	for (uint32_t p = 1; p <= pk->packs.n; p++)
		free(pack_at(pk, p)->idx);
	pk->packs.n = 0;
	pk->unsynced.n = 0;
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
	lib_vec_free(&pk->packs);
	lib_vec_free(&pk->unsynced);
	lib_vec_free(&pk->staged);
	free(pk->buf);
	free(pk);
}

/* ---- the table ------------------------------------------------------------------------- */

static void
decode(const uint8_t *q, struct pk_ent *e)
{
	memcpy(e->hash, q, STORE_HASH_LEN);
	e->off = lib_get_le32(q + 16);
	e->zlen = lib_get_le32(q + 20);
	e->len = lib_get_le32(q + 24); /* STORE_PACK_DELTA included */
}

/* n bytes at off of pack id's object ext ("pack" or "idx"): a range read, or the
 * whole object when the backend reads no ranges. */
static int
read_range(const struct store_packs *pk, uint64_t id, const char *ext, uint64_t off, size_t n,
           void *buf)
{
	char name[48];
	pack_name(id, ext, name, sizeof(name));
	if (pk->ops->get_range)
		return pk->ops->get_range(pk->be, name, off, buf, n);
	void *data;
	size_t len;
	int rc = pk->ops->get_object(pk->be, name, &data, &len);
	if (rc)
		return rc;
	if (off + n > len)
		rc = -EBADMSG;
	else
		memcpy(buf, (uint8_t *)data + off, n);
	free(data);
	return rc;
}

/* Entry ent of pack p: from the pack being filled, an index held in memory, or one
 * entry read from the stored index. */
static int
entry(const struct store_packs *pk, uint32_t p, uint32_t ent, struct pk_ent *e)
{
	if (p == pk->cur) {
		*e = ((const struct pk_ent *)pk->staged.v)[ent];
		return 0;
	}
	const struct pk_pack *pp = pack_at(pk, p);
	if (pp->idx) {
		decode(pp->idx + 16 + (size_t)ent * IDX_ENT, e);
		return 0;
	}
	uint8_t q[IDX_ENT];
	int rc = read_range(pk, pp->id, "idx", 16 + (uint64_t)ent * IDX_ENT, IDX_ENT, q);
	if (rc)
		return rc == -ENOENT ? -EBADMSG : rc;
	decode(q, e);
	return 0;
}

/* The slot holding hash (its entry in *e when e is not NULL), or NULL with *empty at the
 * free slot where it would go; < 0 in *rc when an entry could not be read. */
static struct pk_slot *
probe(const struct store_packs *pk, const uint8_t *hash, struct pk_ent *e, struct pk_slot **empty,
      int *rc)
{
	*rc = 0;
	if (empty)
		*empty = NULL;
	if (!pk->cap)
		return NULL;
	uint32_t frag = lib_get_le32(hash + 8);
	uint64_t mask = pk->cap - 1;
	struct pk_ent tmp;
	for (uint64_t i = lib_get_le64(hash) & mask;; i = (i + 1) & mask) {
		struct pk_slot *s = &pk->tab[i];
		if (!s->pack) {
			if (empty)
				*empty = s;
			return NULL;
		}
		if (s->frag != frag)
			continue;
		if ((*rc = entry(pk, s->pack, s->ent & ENT_MASK, e ? e : &tmp)) < 0)
			return NULL;
		if (!memcmp((e ? e : &tmp)->hash, hash, STORE_HASH_LEN))
			return s;
	}
}

static int insert(struct store_packs *pk, const uint8_t *hash, uint32_t p, uint32_t ent,
                  uint32_t len);

/* The entries of pack p, in order, into the table: from its index held in memory, the
 * pack being filled, or the stored index. */
static int
insert_pack(struct store_packs *pk, uint32_t p)
{
	if (p == pk->cur) {
		const struct pk_ent *s = pk->staged.v;
		for (uint32_t i = 0; i < pk->staged.n; i++) {
			int rc = insert(pk, s[i].hash, p, i, s[i].len);
			if (rc)
				return rc;
		}
		return 0;
	}
	const struct pk_pack *pp = pack_at(pk, p);
	void *data = pp->idx;
	size_t len = 0;
	if (!data) {
		char name[48];
		pack_name(pp->id, "idx", name, sizeof(name));
		int rc = pk->ops->get_object(pk->be, name, &data, &len);
		if (rc)
			return rc == -ENOENT ? -EBADMSG : rc;
	}
	uint64_t n = lib_get_le64((uint8_t *)data + 8);
	int rc = 0;
	if (data != pp->idx && (len < 24 || n > (len - 24) / IDX_ENT))
		rc = -EBADMSG; /* changed since it was loaded and verified */
	for (uint64_t i = 0; i < n && !rc; i++)
		rc = insert(pk, (uint8_t *)data + 16 + i * IDX_ENT, p, (uint32_t)i,
		            lib_get_le32((uint8_t *)data + 16 + i * IDX_ENT + 24));
	if (data != pp->idx)
		free(data);
	return rc;
}

/* A table of cap slots, filled again from the packs' indexes in the order they were
 * added, so the same copy of each chunk wins. The sweep's marks are lost: it takes them
 * before it stages anything. */
static int
rebuild(struct store_packs *pk, uint64_t cap)
{
	free(pk->tab);
	pk->tab = lib_xcalloc(cap, sizeof(*pk->tab));
	pk->cap = cap;
	pk->n = 0;
	int rc = 0;
	for (uint32_t p = 1; p <= pk->packs.n && !rc; p++)
		rc = insert_pack(pk, p);
	return rc;
}

/* At most 80% full: linear probing then looks at a few slots (12 bytes each) per lookup. */
static bool
too_full(uint64_t n, uint64_t cap)
{
	return n * 5 > cap * 4;
}

/* Adds entry ent of pack p (len: its stored length field) unless its hash is known (the
 * first copy wins). */
static int
insert(struct store_packs *pk, const uint8_t *hash, uint32_t p, uint32_t ent, uint32_t len)
{
	if (!pk->cap || too_full(pk->n + 1, pk->cap)) /* callers add the entry to its pack first */
		return rebuild(pk, pk->cap ? pk->cap * 2 : TAB_MIN);
	struct pk_slot *empty;
	int rc;
	if (probe(pk, hash, NULL, &empty, &rc) || rc)
		return rc;
	*empty = (struct pk_slot){.frag = lib_get_le32(hash + 8),
	                          .pack = p,
	                          .ent = ent | (len & STORE_PACK_DELTA ? DELTA_BIT : 0)};
	pk->n++;
	return 0;
}

/* The entry of hash in *e, 1 when it is stored (or staged), 0 when not, or < 0. */
static int
find(const struct store_packs *pk, const uint8_t *hash, struct pk_ent *e, uint32_t *p)
{
	int rc;
	const struct pk_slot *s = probe(pk, hash, e, NULL, &rc);
	if (rc)
		return rc;
	if (s && p)
		*p = s->pack;
	return s != NULL;
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
	if (n != (len - 24) / IDX_ENT || (len - 24) % IDX_ENT || n > ENT_MASK)
		goto out;
	*(struct pk_pack *)lib_vec_push(&pk->packs) = (struct pk_pack){.id = id};
	uint32_t p = pk->packs.n;
	rc = 0;
	for (uint64_t i = 0; i < n && !rc; i++)
		rc = insert(pk, b + 16 + i * IDX_ENT, p, (uint32_t)i,
		            lib_get_le32(b + 16 + i * IDX_ENT + 24));
out:
	free(data);
	return rc;
}

/* The table's size for the entries the listed indexes hold (their headers read; 0 when
 * the backend reads no ranges): loading then rebuilds nothing. */
static uint64_t
presize(struct store_packs *pk, const struct names *nm)
{
	if (!pk->ops->get_range)
		return 0;
	uint64_t total = 0;
	for (uint32_t i = 0; i < nm->idx.n; i++) {
		char name[48];
		uint8_t h[16];
		pack_name(((uint64_t *)nm->idx.v)[i], "idx", name, sizeof(name));
		if (pk->ops->get_range(pk->be, name, 0, h, sizeof(h)) == 0 &&
		    !memcmp(h, IDX_MAGIC, 8))
			total += lib_get_le64(h + 8) & 0xffffffffu;
	}
	uint64_t cap = TAB_MIN;
	while (too_full(total + 1, cap))
		cap *= 2;
	return cap;
}

static int
ensure_loaded(struct store_packs *pk)
{
	if (pk->loaded)
		return 0;
	struct names nm;
	int rc = names_list(pk, &nm);
	uint64_t cap = rc ? 0 : presize(pk, &nm);
	if (cap) {
		pk->tab = lib_xcalloc(cap, sizeof(*pk->tab));
		pk->cap = cap;
	}
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
	return find(pk, hash, NULL, NULL);
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

/* Puts the pack being filled and its index. The index stays in memory until the backend's
 * next sync (store_packs_synced): until then the backend may not read it back. */
int
store_packs_flush(struct store_packs *pk)
{
	if (!pk->cur)
		return 0;
	struct pk_pack *pp = pack_at(pk, pk->cur);
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
	pack_name(pp->id, "pack", name, sizeof(name));
	int rc = pk->ops->put_object(pk->be, name, pk->buf, pk->size, 0);
	if (!rc) {
		pack_name(pp->id, "idx", name, sizeof(name));
		rc = pk->ops->put_object(pk->be, name, ib, ilen, 0);
	}
	pp->idx = ib;
	*(uint32_t *)lib_vec_push(&pk->unsynced) = pk->cur;
	pk->cur = 0;
	pk->size = 0;
	pk->staged.n = 0;
	if (rc)
		store_packs_drop(pk);
	return rc;
}

void
store_packs_synced(struct store_packs *pk)
{
	const uint32_t *u = pk->unsynced.v;
	for (uint32_t i = 0; i < pk->unsynced.n; i++) {
		struct pk_pack *pp = pack_at(pk, u[i]);
		free(pp->idx);
		pp->idx = NULL;
	}
	pk->unsynced.n = 0;
}

/* Appends a frame to the pack being filled (and to the table, unless the hash is known). */
static int
stage(struct store_packs *pk, const uint8_t *hash, const void *z, size_t zn, uint32_t len)
{
	if (!pk->cur) {
		*(struct pk_pack *)lib_vec_push(&pk->packs) = (struct pk_pack){.id = new_id()};
		pk->cur = pk->packs.n;
	}
	if (pk->size + zn > pk->bufcap) {
		size_t cap = pk->bufcap ? pk->bufcap : (1u << 20);
		while (cap < pk->size + zn)
			cap *= 2;
		pk->buf = lib_xrealloc(pk->buf, cap);
		pk->bufcap = cap;
	}
	memcpy(pk->buf + pk->size, z, zn);
	struct pk_ent *e = lib_vec_push(&pk->staged);
	*e = (struct pk_ent){.off = (uint32_t)pk->size, .zlen = (uint32_t)zn, .len = len};
	memcpy(e->hash, hash, STORE_HASH_LEN);
	pk->size += zn;
	int rc = insert(pk, hash, pk->cur, pk->staged.n - 1, len);
	if (rc)
		return rc;
	return pk->size >= PACK_MAX ? store_packs_flush(pk) : 0;
}

int
store_packs_add(struct store_packs *pk, const uint8_t *hash, const void *z, size_t zn, uint32_t len)
{
	int rc = ensure_loaded(pk);
	if (rc)
		return rc;
	if ((len & STORE_PACK_DELTA) && zn < STORE_HASH_LEN)
		return -EINVAL; /* a delta's frame starts with its base's hash */
	if ((rc = find(pk, hash, NULL, NULL)) != 0)
		return rc < 0 ? rc : 0;
	return stage(pk, hash, z, zn, len);
}

/* ---- reading ------------------------------------------------------------------------------ */

int
store_packs_get(struct store_packs *pk, const uint8_t *hash, void **z, size_t *zn, uint32_t *len)
{
	int rc = ensure_loaded(pk);
	if (rc)
		return rc;
	struct pk_ent e;
	uint32_t p = 0;
	if ((rc = find(pk, hash, &e, &p)) <= 0)
		return rc < 0 ? rc : -EBADMSG; /* a manifest names a chunk that is not stored */
	void *b = lib_xmalloc(e.zlen ? e.zlen : 1);
	if (p == pk->cur) {
		memcpy(b, pk->buf + e.off, e.zlen);
	} else {
		rc = read_range(pk, pack_at(pk, p)->id, "pack", e.off, e.zlen, b);
		if (rc) {
			free(b);
			return rc == -ENOENT ? -EBADMSG : rc;
		}
	}
	*z = b;
	*zn = e.zlen;
	*len = e.len;
	return 0;
}

int
store_packs_count(struct store_packs *pk, uint64_t *chunks, uint64_t *packs)
{
	int rc = ensure_loaded(pk);
	if (rc)
		return rc;
	*chunks = pk->n;
	*packs = pk->packs.n;
	return 0;
}

uint64_t
store_packs_table_bytes(const struct store_packs *pk)
{
	return pk->cap * sizeof(struct pk_slot) + pk->packs.n * sizeof(struct pk_pack);
}

/* ---- sweeping ----------------------------------------------------------------------------- */

/* Marks every slot of hash's probe run whose fragment matches: the chunk's own slot among
 * them, and no index entry read (a chunk marked by a 32-bit likeness is kept, no more).
 * Deltas marked here for the first time go on work (when not NULL). */
static void
mark_run(struct store_packs *pk, const uint8_t *hash, struct lib_vec *work)
{
	uint32_t frag = lib_get_le32(hash + 8);
	uint64_t mask = pk->cap - 1;
	for (uint64_t i = lib_get_le64(hash) & mask; pk->tab[i].pack; i = (i + 1) & mask) {
		struct pk_slot *s = &pk->tab[i];
		if (s->frag != frag || (s->ent & LIVE_BIT))
			continue;
		s->ent |= LIVE_BIT;
		if (work && (s->ent & DELTA_BIT))
			*(uint64_t *)lib_vec_push(work) = i;
	}
}

int
store_packs_mark(struct store_packs *pk, const uint8_t *hash)
{
	int rc = ensure_loaded(pk);
	if (rc || !pk->cap)
		return rc;
	mark_run(pk, hash, NULL);
	return 0;
}

/* The base of every live delta is live, and so on down its chain: the first 16 bytes of a
 * delta's frame name its base. One read of those bytes per live delta. */
static int
mark_bases(struct store_packs *pk)
{
	struct lib_vec work; /* of uint64_t: slots of live deltas whose base is not marked yet */
	lib_vec_init(&work, sizeof(uint64_t));
	for (uint64_t i = 0; i < pk->cap; i++)
		if ((pk->tab[i].ent & (LIVE_BIT | DELTA_BIT)) == (LIVE_BIT | DELTA_BIT))
			*(uint64_t *)lib_vec_push(&work) = i;
	int rc = 0;
	while (work.n && !rc) {
		const struct pk_slot *s = &pk->tab[((uint64_t *)work.v)[--work.n]];
		struct pk_ent e;
		uint8_t base[STORE_HASH_LEN];
		if ((rc = entry(pk, s->pack, s->ent & ENT_MASK, &e)) != 0)
			break;
		if (e.zlen < STORE_HASH_LEN)
			rc = -EBADMSG;
		else if (s->pack == pk->cur)
			memcpy(base, pk->buf + e.off, STORE_HASH_LEN);
		else
			rc = read_range(pk, pack_at(pk, s->pack)->id, "pack", e.off, STORE_HASH_LEN,
			                base);
		if (!rc)
			mark_run(pk, base, &work);
	}
	lib_vec_free(&work);
	return rc == -ENOENT ? -EBADMSG : rc;
}

struct tally {
	uint32_t live, all;
	bool redo; /* rewritten (its live chunks copied) or deleted */
};

struct live {
	uint32_t pack, ent;
};

static int
cmp_live(const void *a, const void *b)
{
	const struct live *x = a, *y = b;
	if (x->pack != y->pack)
		return x->pack < y->pack ? -1 : 1;
	return x->ent < y->ent ? -1 : x->ent > y->ent;
}

/* Copies the live frames of pack p (ents, ascending) into the pack being filled. */
static int
rewrite(struct store_packs *pk, uint32_t p, const struct live *ents, size_t nlive)
{
	char name[48];
	pack_name(pack_at(pk, p)->id, "pack", name, sizeof(name));
	void *data;
	size_t len;
	int rc = pk->ops->get_object(pk->be, name, &data, &len);
	if (rc)
		return rc;
	for (size_t i = 0; i < nlive && !rc; i++) {
		struct pk_ent e;
		if ((rc = entry(pk, p, ents[i].ent, &e)) != 0)
			break;
		if ((uint64_t)e.off + e.zlen > len) {
			rc = -EBADMSG;
			break;
		}
		/* the table still names the old copy: it is dropped after the sweep */
		rc = stage(pk, e.hash, (uint8_t *)data + e.off, e.zlen, e.len);
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

/* One pass over the table counts each pack's live chunks and a second collects the live
 * chunks of the packs to redo (sorted by pack), so the sweep costs the table twice, not
 * once per pack. */
static int
sweep_packs(struct store_packs *pk, int *deleted)
{
	uint32_t np = pk->packs.n;
	struct tally *t = lib_xcalloc(np ? np : 1, sizeof(*t));
	for (uint64_t i = 0; i < pk->cap; i++) {
		const struct pk_slot *s = &pk->tab[i];
		if (!s->pack || s->pack > np)
			continue;
		t[s->pack - 1].all++;
		t[s->pack - 1].live += (s->ent & LIVE_BIT) != 0;
	}
	for (uint32_t p = 1; p <= np; p++)
		t[p - 1].redo = !(t[p - 1].live * 2 >= t[p - 1].all && t[p - 1].live);
	struct lib_vec live; /* of struct live */
	lib_vec_init(&live, sizeof(struct live));
	for (uint64_t i = 0; i < pk->cap; i++) {
		const struct pk_slot *s = &pk->tab[i];
		if (s->pack && s->pack <= np && t[s->pack - 1].redo && (s->ent & LIVE_BIT))
			*(struct live *)lib_vec_push(&live) =
			    (struct live){s->pack, s->ent & ENT_MASK};
	}
	if (live.n)
		qsort(live.v, live.n, sizeof(struct live), cmp_live);
	int rc = 0;
	struct lib_vec dead; /* of uint64_t: packs to delete once their live chunks are safe */
	lib_vec_init(&dead, sizeof(uint64_t));
	const struct live *lv = live.v;
	size_t k = 0;
	for (uint32_t p = 1; p <= np && !rc; p++) {
		if (!t[p - 1].redo)
			continue;
		size_t from = k;
		while (k < live.n && lv[k].pack == p)
			k++;
		if (k > from)
			rc = rewrite(pk, p, lv + from, k - from);
		*(uint64_t *)lib_vec_push(&dead) = pack_at(pk, p)->id;
		*deleted += (int)(t[p - 1].all - t[p - 1].live);
	}
	lib_vec_free(&live);
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
	if (!rc && pk->cap)
		rc = mark_bases(pk);
	if (!rc)
		rc = sweep_packs(pk, &deleted);
	store_packs_drop(pk);
	if (!rc)
		rc = sweep_orphans(pk, &deleted);
	if (!rc)
		rc = pk->ops->sync(pk->be);
	return rc ? rc : deleted;
}
