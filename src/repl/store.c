/*
 * store.c - recovery points of the replica store: chunks, manifests, writing and restoring.
 *
 * A point's manifest is binary, little-endian, and ends with the XXH3-64 of everything before
 * it, so a damaged manifest reads as -EBADMSG:
 *   "STRMAN01" u64 seq, u64 base, i64 time, u32 kind, u32 full, u64 jseq, u64 disk_size,
 *   u32 chunk_size, u32 depth, u64 n, n x (u64 index, 16-byte hash), u64 checksum.
 * A full manifest lists every nonzero chunk; a delta lists the chunks changed since its base,
 * a zero hash marking a chunk that became zero. Resolving a point walks base links back to a
 * full manifest and applies the deltas forward; every (depth >= checkpoint) points a full map
 * is written instead so that walk stays short.
 *
 * Chunks are durable before the manifest naming them (sync of the backend between), and a
 * chunk already present is not written again (content addressing). Every chunk read is
 * decompressed into exactly its length and hashed: a mismatch is -EBADMSG.
 *
 * The newest point of each disk written or looked up is cached with its resolved map and the
 * number of delta entries since its full map: the next point compares against it and, when a
 * checkpoint is due, writes the full map from it, without reading earlier manifests. The
 * maps take 16 bytes per chunk of each disk; past a budget (STORE_MAP_BUDGET) the least
 * recently used are dropped and resolved again from the manifests when their disk's next
 * point needs them (a full map and at most a quarter of the disk's chunks in deltas).
 */
#include "repl/store.h"

#include "lib/lib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#define MAN_MAGIC "STRMAN01"
#define MAN_HDR   (8 + 8 + 8 + 8 + 4 + 4 + 8 + 8 + 4 + 4 + 8)
#define MAN_ENT   (8 + STORE_HASH_LEN)

struct store {
	const struct store_ops *ops;
	void *be;
	unsigned checkpoint;
	ZSTD_CCtx *cctx;
	ZSTD_DCtx *dctx;
	struct store_packs *pk;
	struct lib_vec last; /* of struct last_point: each disk's newest point, once known */
	uint64_t map_bytes, map_budget; /* of the resolved maps cached in last */
	uint64_t clock;
};

/* One writer per disk: the newest point is cached after the first listing of the disk. */
struct last_point {
	char disk[STORE_NAME_MAX + 1];
	struct store_point p;
	uint8_t *hashes;     /* its resolved map, or NULL until needed (or dropped: map_use) */
	uint64_t chain;      /* delta entries since the full map (an estimate after a reopen) */
	uint64_t used;       /* the store's clock when its map was last used */
	uint64_t dtry, dhit; /* its point's chunks tried as deltas, and stored as deltas */
	bool probing;        /* its point tried one changed chunk in DELTA_PROBE */
};

struct store_map {
	struct store *st;
	struct store_point p;
	uint64_t nchunks;
	uint8_t *hashes;
	void *zbuf;
};

static const uint8_t zero_hash[STORE_HASH_LEN];

bool
store_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > STORE_NAME_MAX || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return !strstr(s, ".tmp");
}

int
store_open_ops(const struct store_ops *ops, void *be, struct store **out)
{
	struct store *st = lib_xcalloc(1, sizeof(*st));
	st->ops = ops;
	st->be = be;
	st->checkpoint = STORE_CHECKPOINT_EVERY;
	st->cctx = ZSTD_createCCtx();
	st->dctx = ZSTD_createDCtx();
	if (!st->cctx || !st->dctx)
		lib_oom();
	lib_vec_init(&st->last, sizeof(struct last_point));
	st->map_budget = STORE_MAP_BUDGET;
	st->pk = store_packs_new(ops, be);
	*out = st;
	return 0;
}

int
store_lock(struct store *st)
{
	return st->ops->lock ? st->ops->lock(st->be) : 0;
}

int
store_open(const char *dir, struct store **out)
{
	const struct store_ops *ops;
	void *be;
	int rc = store_dir_backend(dir, &ops, &be);
	if (rc)
		return rc;
	return store_open_ops(ops, be, out);
}

void
store_close(struct store *st)
{
	if (!st)
		return;
	store_packs_free(st->pk);
	st->ops->close(st->be);
	ZSTD_freeCCtx(st->cctx);
	ZSTD_freeDCtx(st->dctx);
	struct last_point *l = st->last.v;
	for (uint32_t i = 0; i < st->last.n; i++)
		free(l[i].hashes);
	lib_vec_free(&st->last);
	free(st);
}

static struct last_point *
last_find(struct store *st, const char *disk)
{
	struct last_point *l = st->last.v;
	for (uint32_t i = 0; i < st->last.n; i++)
		if (!strcmp(l[i].disk, disk))
			return &l[i];
	return NULL;
}

/* ---- the cache of resolved maps ----------------------------------------------------------- */

static uint64_t
map_bytes(const struct store_point *p)
{
	return p->chunk_size ? (p->disk_size + p->chunk_size - 1) / p->chunk_size * STORE_HASH_LEN
	                     : 0;
}

/* Takes l's map out of the cache (the caller owns it). */
static uint8_t *
map_take(struct store *st, struct last_point *l)
{
	uint8_t *h = l->hashes;
	if (h)
		st->map_bytes -= map_bytes(&l->p);
	l->hashes = NULL;
	return h;
}

/* l's map is h (l->p set) and was just used: the least recently used other maps are dropped
 * while the cache is over its budget (they are resolved from their manifests again when
 * needed). Returns l again: the table of disks does not move. */
static struct last_point *
map_use(struct store *st, struct last_point *l, uint8_t *h)
{
	if (h != l->hashes) {
		free(map_take(st, l));
		l->hashes = h;
		if (h)
			st->map_bytes += map_bytes(&l->p);
	}
	l->used = ++st->clock;
	while (st->map_bytes > st->map_budget) {
		struct last_point *v = NULL, *a = st->last.v;
		for (uint32_t i = 0; i < st->last.n; i++)
			if (&a[i] != l && a[i].hashes && (!v || a[i].used < v->used))
				v = &a[i];
		if (!v)
			break;
		free(map_take(st, v));
	}
	return l;
}

void
store_set_map_budget(struct store *st, uint64_t bytes)
{
	st->map_budget = bytes;
}

int
store_parse_map_cache(const char *s, uint64_t *bytes)
{
	return lib_parse_size(s, bytes) || *bytes < (1u << 20) ? -1 : 0;
}

uint64_t
store_map_cache_bytes(const struct store *st)
{
	return st->map_bytes;
}

void
store_forget(struct store *st, const char *disk)
{
	struct last_point *l = last_find(st, disk);
	if (l) {
		free(map_take(st, l));
		*l = ((struct last_point *)st->last.v)[--st->last.n];
	}
}

struct store_packs *
store_packs_of(struct store *st)
{
	return st->pk;
}

void
store_set_checkpoint(struct store *st, unsigned every)
{
	st->checkpoint = every ? every : 1;
}

unsigned
store_checkpoint_of(const struct store *st)
{
	return st->checkpoint;
}

const struct store_ops *
store_ops_of(struct store *st, void **be)
{
	*be = st->be;
	return st->ops;
}

void
store_manifest_name(const char *disk, uint64_t seq, char *out, size_t n)
{
	snprintf(out, n, "disks/%s/p%016llx", disk, (unsigned long long)seq);
}

/* ---- encoding ------------------------------------------------------------------------- */

static void
hash_chunk(const void *data, size_t n, uint8_t *out)
{
	XXH128_hash_t h = XXH3_128bits(data, n);
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, h);
	memcpy(out, c.digest, STORE_HASH_LEN);
	if (!memcmp(out, zero_hash, STORE_HASH_LEN))
		out[0] = 1; /* keep the zero sentinel free (never seen in practice) */
}

void
store_chunk_hash(const void *data, size_t len, uint8_t *out)
{
	const char *c = data;
	if (len == 0 || (c[0] == 0 && (len == 1 || !memcmp(c, c + 1, len - 1))))
		memset(out, 0, STORE_HASH_LEN);
	else
		hash_chunk(data, len, out);
}

int
store_manifest_save(struct store *st, const char *disk, const struct store_manifest *m)
{
	size_t len = MAN_HDR + m->p.nentries * MAN_ENT + 8;
	uint8_t *b = lib_xmalloc(len), *p = b;
	memcpy(p, MAN_MAGIC, 8);
	lib_put_le64(p + 8, m->p.seq);
	lib_put_le64(p + 16, m->p.base);
	lib_put_le64(p + 24, (uint64_t)m->p.time);
	lib_put_le32(p + 32, (uint32_t)m->p.kind);
	lib_put_le32(p + 36, m->p.full);
	lib_put_le64(p + 40, m->p.jseq);
	lib_put_le64(p + 48, m->p.disk_size);
	lib_put_le32(p + 56, m->p.chunk_size);
	lib_put_le32(p + 60, m->p.depth);
	lib_put_le64(p + 64, m->p.nentries);
	p += MAN_HDR;
	for (uint64_t i = 0; i < m->p.nentries; i++, p += MAN_ENT) {
		lib_put_le64(p, m->e[i].index);
		memcpy(p + 8, m->e[i].hash, STORE_HASH_LEN);
	}
	lib_put_le64(p, XXH3_64bits(b, len - 8));
	char name[STORE_NAME_MAX + 64];
	store_manifest_name(disk, m->p.seq, name, sizeof(name));
	int rc = st->ops->put_object(st->be, name, b, len, STORE_PUT_META);
	free(b);
	return rc;
}

int
store_manifest_load(struct store *st, const char *disk, uint64_t seq, struct store_manifest *m)
{
	char name[STORE_NAME_MAX + 64];
	store_manifest_name(disk, seq, name, sizeof(name));
	void *data;
	size_t len;
	memset(m, 0, sizeof(*m));
	int rc = st->ops->get_object(st->be, name, &data, &len);
	if (rc)
		return rc;
	const uint8_t *b = data;
	rc = -EBADMSG;
	if (len < MAN_HDR + 8 || memcmp(b, MAN_MAGIC, 8) ||
	    lib_get_le64(b + len - 8) != XXH3_64bits(b, len - 8))
		goto out;
	struct store_point *p = &m->p;
	p->seq = lib_get_le64(b + 8);
	p->base = lib_get_le64(b + 16);
	p->time = (int64_t)lib_get_le64(b + 24);
	p->kind = lib_get_le32(b + 32) ? STORE_APP : STORE_CRASH;
	p->full = lib_get_le32(b + 36) != 0;
	p->jseq = lib_get_le64(b + 40);
	p->disk_size = lib_get_le64(b + 48);
	p->chunk_size = lib_get_le32(b + 56);
	p->depth = lib_get_le32(b + 60);
	p->nentries = lib_get_le64(b + 64);
	if (p->seq != seq || p->chunk_size < STORE_CHUNK_MIN || p->chunk_size > STORE_CHUNK_MAX ||
	    p->nentries != (len - MAN_HDR - 8) / MAN_ENT || (len - MAN_HDR - 8) % MAN_ENT)
		goto out;
	uint64_t nch = (p->disk_size + p->chunk_size - 1) / p->chunk_size;
	m->e = lib_xmalloc((p->nentries ? p->nentries : 1) * sizeof(*m->e));
	const uint8_t *q = b + MAN_HDR;
	for (uint64_t i = 0; i < p->nentries; i++, q += MAN_ENT) {
		m->e[i].index = lib_get_le64(q);
		memcpy(m->e[i].hash, q + 8, STORE_HASH_LEN);
		if (m->e[i].index >= nch) {
			store_manifest_free(m);
			goto out;
		}
	}
	rc = 0;
out:
	free(data);
	return rc;
}

void
store_manifest_free(struct store_manifest *m)
{
	free(m->e);
	m->e = NULL;
}

int
store_point_info(struct store *st, const char *disk, uint64_t seq, struct store_point *p)
{
	if (!store_name_ok(disk))
		return -EINVAL;
	struct store_manifest m;
	int rc = store_manifest_load(st, disk, seq, &m);
	if (rc)
		return rc;
	*p = m.p;
	store_manifest_free(&m);
	return 0;
}

/* ---- listing --------------------------------------------------------------------------- */

struct seqs {
	struct lib_vec v; /* of uint64_t */
	size_t plen;
};

static int
seq_cb(void *arg, const char *name)
{
	struct seqs *s = arg;
	const char *b = name + s->plen;
	if (b[0] != 'p' || strlen(b) != 17 || strchr(b, '/'))
		return 0; /* temporaries and strangers */
	char *end;
	unsigned long long v = strtoull(b + 1, &end, 16);
	if (*end || v == 0)
		return 0;
	*(uint64_t *)lib_vec_push(&s->v) = v;
	return 0;
}

/* Sequences of the disk's manifests, ascending (heap). */
static int
list_seqs(struct store *st, const char *disk, uint64_t **seqs, size_t *n)
{
	char prefix[STORE_NAME_MAX + 16];
	snprintf(prefix, sizeof(prefix), "disks/%s/", disk);
	struct seqs s = {.plen = strlen(prefix)};
	lib_vec_init(&s.v, sizeof(uint64_t));
	int rc = st->ops->list(st->be, prefix, seq_cb, &s);
	if (rc) {
		lib_vec_free(&s.v);
		return rc;
	}
	if (s.v.n)
		qsort(s.v.v, s.v.n, sizeof(uint64_t), lib_cmp_u64);
	*n = s.v.n;
	*seqs = s.v.v ? s.v.v : lib_xmalloc(1);
	return 0;
}

int
store_list_points(struct store *st, const char *disk, struct store_point **pts, size_t *n)
{
	if (!store_name_ok(disk))
		return -EINVAL;
	uint64_t *seqs;
	size_t ns;
	int rc = list_seqs(st, disk, &seqs, &ns);
	if (rc)
		return rc;
	struct store_point *out = lib_xcalloc(ns ? ns : 1, sizeof(*out));
	for (size_t i = 0; i < ns && !rc; i++)
		rc = store_point_info(st, disk, seqs[i], &out[i]);
	free(seqs);
	if (rc) {
		free(out);
		return rc;
	}
	*pts = out;
	*n = ns;
	return 0;
}

/* ---- resolving ------------------------------------------------------------------------- */

/* store_resolve, also counting the delta entries applied over the full map. */
static int
resolve_chain(struct store *st, const char *disk, uint64_t seq, struct store_point *p,
              uint8_t **hashes, uint64_t *chainp)
{
	struct lib_vec chain; /* of struct store_manifest, newest first */
	lib_vec_init(&chain, sizeof(struct store_manifest));
	int rc = 0;
	uint64_t s = seq;
	for (;;) {
		struct store_manifest *m = lib_vec_push(&chain);
		rc = store_manifest_load(st, disk, s, m);
		if (rc) {
			chain.n--;
			if (rc == -ENOENT && s != seq)
				rc = -EBADMSG; /* a broken chain */
			goto out;
		}
		if (m->p.full)
			break;
		if (m->p.base == 0 || m->p.base >= s || chain.n > (1u << 20)) {
			rc = -EBADMSG;
			goto out;
		}
		s = m->p.base;
	}
	struct store_manifest *ms = chain.v;
	*p = ms[0].p;
	uint64_t nch = (p->disk_size + p->chunk_size - 1) / p->chunk_size;
	uint8_t *h = lib_xcalloc(nch ? nch : 1, STORE_HASH_LEN);
	for (uint32_t i = chain.n; i-- > 0;) {
		if (ms[i].p.chunk_size != p->chunk_size || ms[i].p.disk_size != p->disk_size) {
			free(h);
			rc = -EBADMSG;
			goto out;
		}
		for (uint64_t j = 0; j < ms[i].p.nentries; j++)
			memcpy(h + ms[i].e[j].index * STORE_HASH_LEN, ms[i].e[j].hash,
			       STORE_HASH_LEN);
		if (i + 1 < chain.n && chainp)
			*chainp += ms[i].p.nentries;
	}
	*hashes = h;
out:
	for (uint32_t i = 0; i < chain.n; i++)
		store_manifest_free(&((struct store_manifest *)chain.v)[i]);
	lib_vec_free(&chain);
	return rc;
}

int
store_resolve(struct store *st, const char *disk, uint64_t seq, struct store_point *p,
              uint8_t **hashes)
{
	return resolve_chain(st, disk, seq, p, hashes, NULL);
}

/* The cached newest point of disk (listing the disk once); NULL on error. */
static struct last_point *
newest(struct store *st, const char *disk, int *rc)
{
	struct last_point *lp = last_find(st, disk);
	if (lp)
		return lp;
	uint64_t *seqs;
	size_t ns;
	struct store_point p = {0};
	*rc = list_seqs(st, disk, &seqs, &ns);
	if (*rc)
		return NULL;
	if (ns)
		*rc = store_point_info(st, disk, seqs[ns - 1], &p);
	free(seqs);
	if (*rc)
		return NULL;
	lp = lib_vec_push(&st->last);
	snprintf(lp->disk, sizeof(lp->disk), "%s", disk);
	lp->p = p;
	return lp;
}

int
store_newest(struct store *st, const char *disk, struct store_point *p, const uint8_t **hashes)
{
	if (!store_name_ok(disk))
		return -EINVAL;
	int rc = 0;
	struct last_point *lp = newest(st, disk, &rc);
	if (!lp)
		return rc;
	if (lp->p.seq && !lp->hashes) {
		struct store_point pp;
		uint64_t chain = 0;
		uint8_t *h;
		rc = resolve_chain(st, disk, lp->p.seq, &pp, &h, &chain);
		if (rc)
			return rc;
		lp->chain = chain;
		map_use(st, lp, h);
	} else if (lp->hashes) {
		map_use(st, lp, lp->hashes);
	}
	*p = lp->p;
	*hashes = lp->hashes;
	return 0;
}

/* ---- chunks ------------------------------------------------------------------------------ */

/* A chunk whose sample does not compress (random, encrypted or already compressed
 * data) is not worth zstd's time on the rest: a quarter of a 256 KiB chunk's cost
 * at level 1 was spent learning that. SAMPLE bytes from its middle, at level 1, must
 * shrink by 1/32. */
#define SAMPLE (8u << 10)

static bool
incompressible(struct store *st, const void *data, size_t len, void *buf, size_t cap)
{
	if (len < 4 * SAMPLE || cap < ZSTD_compressBound(SAMPLE))
		return false;
	const uint8_t *mid = (const uint8_t *)data + len / 2 - SAMPLE / 2;
	size_t z = ZSTD_compressCCtx(st->cctx, buf, cap, mid, SAMPLE, 1);
	return !ZSTD_isError(z) && z > SAMPLE - SAMPLE / 32;
}

/* A zstd frame of raw blocks (RFC 8878 3.1): magic, a single-segment header with the
 * 4-byte content size, then blocks of at most 128 KiB stored as they are. Any zstd
 * decoder reads it; it costs a copy. Returns its size (len + 9 + 3 per block). */
#define ZRAW_BLOCK (128u << 10)

static size_t
raw_frame(void *dst, const void *src, size_t len)
{
	uint8_t *d = dst;
	lib_put_le32(d, 0xFD2FB528u);
	d[4] = 0xA0; /* FCS_Field_Size 4, Single_Segment */
	lib_put_le32(d + 5, (uint32_t)len);
	size_t n = 9;
	for (size_t off = 0; off < len || off == 0;) {
		size_t b = len - off < ZRAW_BLOCK ? len - off : ZRAW_BLOCK;
		uint32_t hdr = (uint32_t)b << 3 | (off + b == len ? 1u : 0u); /* Raw, Last */
		d[n] = (uint8_t)hdr, d[n + 1] = (uint8_t)(hdr >> 8),
		d[n + 2] = (uint8_t)(hdr >> 16);
		memcpy(d + n + 3, (const uint8_t *)src + off, b);
		n += 3 + b;
		off += b;
		if (!b)
			break;
	}
	return n;
}

/* ---- deltas -------------------------------------------------------------------------------
 *
 * A chunk of a replica changed by a few small writes is stored as the blocks that differ from
 * its version in the previous point (its base), when at most half of its blocks differ and
 * its base is fewer than DELTA_DEPTH deltas from a whole chunk. The frame, after the base's
 * hash (the pack layer's part, STORE_PACK_DELTA):
 *   u8 'D', u8 depth (1..DELTA_DEPTH), u8 log2 of the block size (12), u8 0,
 *   u32 blocks in the chunk, a bitmap of the changed ones (bit i of byte i / 8),
 *   a zstd frame of the changed blocks back to back (the last block may be short).
 * Reading one reads its base (and so on down the chain), lays the blocks over it and checks
 * the whole chunk's hash, as for any chunk. Without deltas a 4 KiB write cost a point its
 * whole chunk (64 KiB at least, tgt.c): 16 times what was written. */
#define DELTA_DEPTH 8
#define DELTA_SHIFT 12
#define DELTA_HDR   8
#define DELTA_PROBE 16

struct put_bufs {
	void *z, *base, *blocks;
	size_t zcap, cap;
};

static int chunk_get_at(struct store *st, const uint8_t *hash, void *buf, size_t len,
                        unsigned *depth, unsigned level);

static size_t
compress_into(struct store *st, const void *data, size_t len, void *dst, size_t cap)
{
	return incompressible(st, data, len, dst, cap)
	           ? raw_frame(dst, data, len)
	           : ZSTD_compressCCtx(st->cctx, dst, cap, data, len, 1);
}

/* The delta of data against base's content into b->z (its size in *zn), or 0 when a whole
 * chunk is better: no base, a base that cannot be read (then nothing depends on it), a
 * chain already DELTA_DEPTH long, or more than half of the blocks changed. *tried: the base
 * was read. */
static int
delta_of(struct store *st, const void *data, size_t len, const uint8_t *base, struct put_bufs *b,
         size_t *zn, bool *tried)
{
	size_t bs = (size_t)1 << DELTA_SHIFT, nb = (len + bs - 1) >> DELTA_SHIFT;
	unsigned depth;
	if (nb < 2 || !base)
		return 0;
	if (len > b->cap) { /* a point without bases (a first one) needs none of these */
		free(b->base);
		free(b->blocks);
		b->base = lib_xmalloc(len);
		b->blocks = lib_xmalloc(len);
		b->cap = len;
	}
	if (chunk_get_at(st, base, b->base, len, &depth, 0))
		return 0;
	*tried = true;
	if (depth >= DELTA_DEPTH)
		return 0;
	size_t mlen = (nb + 7) / 8, head = STORE_HASH_LEN + DELTA_HDR + mlen, n = 0, changed = 0;
	uint8_t *z = b->z, *mask = z + head - mlen;
	memset(mask, 0, mlen);
	for (size_t i = 0; i < nb; i++) {
		size_t off = i * bs, l = len - off < bs ? len - off : bs;
		if (!memcmp((const uint8_t *)data + off, (const uint8_t *)b->base + off, l))
			continue;
		if (++changed * 2 > nb)
			return 0;
		mask[i / 8] |= (uint8_t)(1u << (i % 8));
		memcpy((uint8_t *)b->blocks + n, (const uint8_t *)data + off, l);
		n += l;
	}
	memcpy(z, base, STORE_HASH_LEN);
	uint8_t *h = z + STORE_HASH_LEN;
	h[0] = 'D', h[1] = (uint8_t)(depth + 1), h[2] = DELTA_SHIFT, h[3] = 0;
	lib_put_le32(h + 4, (uint32_t)nb);
	size_t c = compress_into(st, b->blocks, n, z + head, b->zcap - head);
	if (ZSTD_isError(c))
		return -EIO;
	*zn = head + c;
	return 1;
}

/* base: the chunk's version in the previous point, or NULL. *tried: that version was read
 * to compare; *delta: the chunk was stored as a delta of it. */
static int
chunk_put(struct store *st, const void *data, size_t len, const uint8_t *base, uint8_t *hash,
          struct put_bufs *b, bool *tried, bool *delta)
{
	const char *c = data;
	if (c[0] == 0 && (len == 1 || !memcmp(c, c + 1, len - 1))) {
		memset(hash, 0, STORE_HASH_LEN);
		return 0;
	}
	hash_chunk(data, len, hash);
	int rc = store_packs_has(st->pk, hash);
	if (rc)
		return rc < 0 ? rc : 0;
	size_t bound = ZSTD_compressBound(len) + STORE_HASH_LEN + DELTA_HDR + len / 8 + 1;
	if (bound > b->zcap) {
		free(b->z);
		b->z = lib_xmalloc(bound);
		b->zcap = bound;
	}
	size_t z;
	if ((rc = delta_of(st, data, len, base, b, &z, tried)) != 0) {
		*delta = rc > 0;
		return rc < 0 ? rc
		              : store_packs_add(st->pk, hash, b->z, z,
		                                (uint32_t)len | STORE_PACK_DELTA);
	}
	z = compress_into(st, data, len, b->z, b->zcap);
	if (ZSTD_isError(z))
		return -EIO;
	return store_packs_add(st->pk, hash, b->z, z, (uint32_t)len);
}

/* Lays a delta (d, n: its frame after the base's hash) over its base's content in buf. */
static int
delta_apply(struct store *st, const uint8_t *d, size_t n, void *buf, size_t len, unsigned *depth)
{
	size_t bs = (size_t)1 << DELTA_SHIFT, nb = (len + bs - 1) >> DELTA_SHIFT;
	size_t mlen = (nb + 7) / 8;
	if (n < DELTA_HDR + mlen || d[0] != 'D' || d[1] < 1 || d[1] > DELTA_DEPTH ||
	    d[2] != DELTA_SHIFT || d[3] != 0 || lib_get_le32(d + 4) != nb)
		return -EBADMSG;
	const uint8_t *mask = d + DELTA_HDR, *zf = mask + mlen;
	size_t zn = n - DELTA_HDR - mlen, want = 0;
	for (size_t i = 0; i < nb; i++)
		if (mask[i / 8] >> (i % 8) & 1)
			want += len - i * bs < bs ? len - i * bs : bs;
	if (!want || ZSTD_getFrameContentSize(zf, zn) != want)
		return -EBADMSG;
	uint8_t *blocks = lib_xmalloc(want);
	size_t got = ZSTD_decompressDCtx(st->dctx, blocks, want, zf, zn);
	int rc = ZSTD_isError(got) || got != want ? -EBADMSG : 0;
	for (size_t i = 0, at = 0; i < nb && !rc; i++) {
		if (!(mask[i / 8] >> (i % 8) & 1))
			continue;
		size_t l = len - i * bs < bs ? len - i * bs : bs;
		memcpy((uint8_t *)buf + i * bs, blocks + at, l);
		at += l;
	}
	free(blocks);
	*depth = d[1];
	return rc;
}

/* The chunk's content in buf (len bytes, its hash checked at level 0); *depth: deltas under
 * it. level counts the deltas above this one: a chain longer than DELTA_DEPTH is damage. */
static int
chunk_get_at(struct store *st, const uint8_t *hash, void *buf, size_t len, unsigned *depth,
             unsigned level)
{
	void *z;
	size_t zn;
	uint32_t raw;
	int rc = store_packs_get(st->pk, hash, &z, &zn, &raw);
	if (rc)
		return rc;
	rc = -EBADMSG;
	*depth = 0;
	if ((raw & ~STORE_PACK_DELTA) != len)
		goto out;
	if (raw & STORE_PACK_DELTA) {
		unsigned below;
		if (level >= DELTA_DEPTH || zn < STORE_HASH_LEN ||
		    (rc = chunk_get_at(st, z, buf, len, &below, level + 1)) != 0 ||
		    (rc = delta_apply(st, (uint8_t *)z + STORE_HASH_LEN, zn - STORE_HASH_LEN, buf,
		                      len, depth)) != 0)
			goto out;
		rc = -EBADMSG;
		if (*depth != below + 1)
			goto out;
	} else {
		if (ZSTD_getFrameContentSize(z, zn) != len)
			goto out;
		size_t d = ZSTD_decompressDCtx(st->dctx, buf, len, z, zn);
		if (ZSTD_isError(d) || d != len)
			goto out;
	}
	/* Under a delta only the top's hash counts: it covers every byte the chain yields. */
	uint8_t h[STORE_HASH_LEN];
	if (level == 0)
		hash_chunk(buf, len, h);
	if (level > 0 || !memcmp(h, hash, STORE_HASH_LEN))
		rc = 0;
out:
	free(z);
	return rc;
}

static int
chunk_get(struct store *st, const uint8_t *hash, void *buf, size_t len)
{
	unsigned depth;
	return chunk_get_at(st, hash, buf, len, &depth, 0);
}

/* ---- writing a point -------------------------------------------------------------------- */

struct pos_entry {
	struct store_entry e;
	size_t pos;
};

static int
cmp_pos_entry(const void *a, const void *b)
{
	const struct pos_entry *x = a, *y = b;
	if (x->e.index != y->e.index)
		return x->e.index < y->e.index ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Sorts by index, the last change of an index winning; returns the count kept. */
size_t
store_sort_changes(struct store_entry *ch, size_t n)
{
	struct pos_entry *t = lib_xmalloc((n ? n : 1) * sizeof(*t));
	for (size_t i = 0; i < n; i++)
		t[i] = (struct pos_entry){ch[i], i};
	qsort(t, n, sizeof(*t), cmp_pos_entry);
	size_t nu = 0;
	for (size_t i = 0; i < n; i++) {
		if (nu && ch[nu - 1].index == t[i].e.index)
			nu--;
		ch[nu++] = t[i].e;
	}
	free(t);
	return nu;
}

/* Stores the chunks of w (deduplicated; against prev, the newest point's map when it is at
 * hand, as deltas where they pay), durable at return; ch gets their entries. */
static int
put_chunks(struct store *st, const struct store_write *w, uint32_t cs, uint64_t nch,
           struct last_point *lp, struct store_entry *ch)
{
	void *rbuf = NULL;
	struct put_bufs b = {0};
	int rc = 0;
	const uint8_t *prev = lp->p.seq ? lp->hashes : NULL;
	/* A try costs reading the base; when few tries paid at the disk's last point (whole
	 * chunks rewritten), one chunk in DELTA_PROBE is tried, to notice a change of habit
	 * (a probing point's few tries keep it probing while they still do not pay). */
	bool probe = lp->dtry >= (lp->probing ? 4u : 64u) && lp->dhit * 10 < lp->dtry;
	uint64_t tries = 0, hits = 0;
	for (size_t i = 0; i < w->nchunks && !rc; i++) {
		uint64_t idx = w->chunks[i].index;
		size_t len = idx == nch - 1 ? (size_t)(w->disk_size - idx * cs) : cs;
		ch[i].index = idx;
		const void *data = w->chunks[i].data;
		if (!data) {
			if (!rbuf)
				rbuf = lib_xmalloc(cs);
			rc = w->read(w->read_arg, idx, rbuf, len);
			data = rbuf;
		}
		if (!rc) {
			const uint8_t *base = prev ? prev + idx * STORE_HASH_LEN : NULL;
			if (base && (!memcmp(base, zero_hash, STORE_HASH_LEN) ||
			             (probe && i % DELTA_PROBE)))
				base = NULL;
			bool tried = false, delta = false;
			rc = chunk_put(st, data, len, base, ch[i].hash, &b, &tried, &delta);
			tries += tried;
			hits += delta;
		}
	}
	lp->dtry = tries;
	lp->dhit = hits;
	lp->probing = probe;
	free(b.z);
	free(b.base);
	free(b.blocks);
	free(rbuf);
	if (!rc)
		rc = store_packs_flush(st->pk);
	if (!rc)
		rc = st->ops->sync(st->be);
	if (rc)
		store_packs_drop(st->pk); /* the table may name chunks that were lost */
	else
		store_packs_synced(st->pk);
	return rc;
}

/* The full map of a checkpoint: every nonzero entry of h. */
static void
full_map(struct store_manifest *m, const uint8_t *h, uint64_t nch)
{
	m->e = lib_xcalloc(nch, sizeof(*m->e));
	for (uint64_t i = 0; i < nch; i++) {
		if (!memcmp(h + i * STORE_HASH_LEN, zero_hash, STORE_HASH_LEN))
			continue;
		m->e[m->p.nentries].index = i;
		memcpy(m->e[m->p.nentries++].hash, h + i * STORE_HASH_LEN, STORE_HASH_LEN);
	}
	m->p.full = true;
}

int
store_write_point(struct store *st, const struct store_write *w, uint64_t *seqp)
{
	if (!store_name_ok(w->disk) || w->disk_size == 0 || (w->nchunks && !w->chunks))
		return -EINVAL;
	uint32_t cs = w->chunk_size ? w->chunk_size : STORE_CHUNK_DEFAULT;
	if (cs < STORE_CHUNK_MIN || cs > STORE_CHUNK_MAX)
		return -EINVAL;
	uint64_t nch = (w->disk_size + cs - 1) / cs;
	for (size_t i = 0; i < w->nchunks; i++)
		if (w->chunks[i].index >= nch || (!w->chunks[i].data && !w->read))
			return -EINVAL;

	int rc = 0;
	struct last_point *lp = newest(st, w->disk, &rc);
	if (!lp)
		return rc;
	struct store_point prev = lp->p;
	if (prev.seq && (prev.chunk_size != cs || prev.disk_size != w->disk_size))
		return -EINVAL;

	/* Chunks first, durable before any manifest names them. */
	struct store_entry *ch = lib_xcalloc(w->nchunks ? w->nchunks : 1, sizeof(*ch));
	rc = put_chunks(st, w, cs, nch, lp, ch);
	if (rc)
		goto out;
	size_t nu = store_sort_changes(ch, w->nchunks);

	struct store_manifest m = {0};
	m.p.seq = prev.seq + 1;
	m.p.time = w->time;
	m.p.kind = w->kind;
	m.p.jseq = w->jseq;
	m.p.disk_size = w->disk_size;
	m.p.chunk_size = cs;
	bool full =
	    !prev.seq || prev.depth + 1 >= st->checkpoint || lp->chain + nu > nch / 4 + 4096;
	/* The map after this point: the cached one updated, or resolved when a full map needs it.
	 */
	uint8_t *h = NULL;
	if (!prev.seq) {
		h = lib_xcalloc(nch, STORE_HASH_LEN);
	} else if (full || lp->hashes) {
		const uint8_t *cur;
		struct store_point pp;
		rc = store_newest(st, w->disk, &pp, &cur);
		if (rc)
			goto out;
		lp = last_find(st, w->disk);
		h = map_take(st, lp);
	}
	for (size_t i = 0; h && i < nu; i++)
		memcpy(h + ch[i].index * STORE_HASH_LEN, ch[i].hash, STORE_HASH_LEN);
	if (full) {
		full_map(&m, h, nch);
	} else {
		m.p.base = prev.seq;
		m.p.depth = prev.depth + 1;
		m.p.nentries = nu;
		m.e = ch;
		ch = NULL;
	}
	rc = store_manifest_save(st, w->disk, &m);
	store_manifest_free(&m);
	lp = last_find(st, w->disk);
	if (rc) {
		free(h);
		store_forget(st, w->disk); /* the manifest may or may not be there */
		goto out;
	}
	free(map_take(st, lp));
	lp->chain = full ? 0 : lp->chain + nu;
	lp->p = m.p;
	map_use(st, lp, h);
	if (seqp)
		*seqp = m.p.seq;
out:
	free(ch);
	return rc;
}

/* ---- reading a point -------------------------------------------------------------------- */

int
store_map_open(struct store *st, const char *disk, uint64_t seq, struct store_map **out)
{
	if (!store_name_ok(disk))
		return -EINVAL;
	struct store_map *m = lib_xcalloc(1, sizeof(*m));
	int rc = store_resolve(st, disk, seq, &m->p, &m->hashes);
	if (rc) {
		free(m);
		return rc;
	}
	m->st = st;
	m->nchunks = (m->p.disk_size + m->p.chunk_size - 1) / m->p.chunk_size;
	*out = m;
	return 0;
}

void
store_map_close(struct store_map *m)
{
	if (!m)
		return;
	free(m->hashes);
	free(m);
}

uint64_t
store_map_nchunks(const struct store_map *m)
{
	return m->nchunks;
}

uint32_t
store_map_chunk_len(const struct store_map *m, uint64_t idx)
{
	if (idx + 1 < m->nchunks)
		return m->p.chunk_size;
	return (uint32_t)(m->p.disk_size - idx * m->p.chunk_size);
}

bool
store_map_is_zero(const struct store_map *m, uint64_t idx)
{
	return !memcmp(m->hashes + idx * STORE_HASH_LEN, zero_hash, STORE_HASH_LEN);
}

int
store_map_read(struct store_map *m, uint64_t idx, void *buf)
{
	if (idx >= m->nchunks)
		return -EINVAL;
	uint32_t len = store_map_chunk_len(m, idx);
	if (store_map_is_zero(m, idx)) {
		memset(buf, 0, len);
		return 0;
	}
	return chunk_get(m->st, m->hashes + idx * STORE_HASH_LEN, buf, len);
}

int
store_restore_fd(struct store *st, const char *disk, uint64_t seq, int fd)
{
	struct store_map *m;
	int rc = store_map_open(st, disk, seq, &m);
	if (rc)
		return rc;
	struct stat sb;
	bool reg = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
	if (reg && (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)m->p.disk_size) < 0)) {
		rc = -errno;
		goto out;
	}
	void *buf = lib_xmalloc(m->p.chunk_size);
	for (uint64_t i = 0; i < m->nchunks && !rc; i++) {
		if (reg && store_map_is_zero(m, i))
			continue;
		rc = store_map_read(m, i, buf);
		if (!rc)
			rc =
			    lib_pwrite_all(fd, buf, store_map_chunk_len(m, i), i * m->p.chunk_size);
	}
	free(buf);
out:
	store_map_close(m);
	return rc;
}

int
store_restore(struct store *st, const char *disk, uint64_t seq, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int rc = store_restore_fd(st, disk, seq, fd);
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	return rc;
}
