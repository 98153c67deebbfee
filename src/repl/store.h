/*
 * store.h - the replica store of the recovery region: chunks, recovery points, group points.
 *
 * A disk image is split into fixed chunks (1 MiB by default, set per disk by its first point).
 * Chunk contents are content-addressed by XXH3-128 and compressed with zstd; the new chunks
 * of a point go into pack objects (store_pack.c), one or a few per point. A recovery point is
 * a manifest: a full map (chunk index -> hash, zero chunks omitted) for the first point and
 * for a checkpoint (after STORE_CHECKPOINT_EVERY deltas, or once the deltas since the last
 * full map hold a quarter of the disk's chunks), otherwise a delta holding only the chunks
 * changed since its base point. A replication group's point is one record naming one point
 * per disk, written last.
 *
 * Objects live behind struct store_ops (names, not paths), so an S3-compatible backend can
 * follow the local-directory one. Layout by name:
 *   packs/<16 hex>.pack            zstd frames of chunks, back to back
 *   packs/<16 hex>.idx             which chunk is where in the pack (checksummed)
 *   disks/<disk>/p<16 hex seq>     manifest of one recovery point (binary, checksummed)
 *   groups/<group>/g<16 hex seq>   group point (JSON)
 *
 * Durability: packs are durable (temp, fsync, rename, fsync of their directories) before a
 * manifest naming their chunks is written; manifests and group records go through
 * lib_write_atomic. So after a crash at any moment every listed point is complete and
 * restorable; chunks no manifest names are swept by store_gc.
 *
 * The store keeps each disk's newest point resolved in memory (16 bytes per chunk), so a
 * writer cutting a point every second compares and writes only what changed, and never
 * lists or reads the manifests of earlier points. One writer per disk; a struct store is
 * used by one thread at a time.
 *
 * All functions return 0 (or a count) or a negative errno; -EBADMSG means stored data failed
 * its checksum.
 */
#ifndef STRAIT_STORE_H
#define STRAIT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_NAME_MAX         64 /* disk and group names: [A-Za-z0-9._-], not starting with '.' */
#define STORE_CHUNK_DEFAULT    (1u << 20)
#define STORE_CHUNK_MIN        4096u
#define STORE_CHUNK_MAX        (64u << 20)
#define STORE_CHECKPOINT_EVERY 256u
#define STORE_HASH_LEN         16

/* Flags of put_object. */
/* STORE_PUT_META: durable and visible at return (lib_write_atomic). Other puts are a
 * batch: has_object sees them at once, get_object and list after sync, which makes
 * the batch durable. */
#define STORE_PUT_META 1u

/* Object backend. Names are relative, '/'-separated. */
struct store_ops {
	int (*put_object)(void *be, const char *name, const void *data, size_t n, unsigned flags);
	/* *data is heap (free it); -ENOENT when absent. */
	int (*get_object)(void *be, const char *name, void **data, size_t *n);
	/* 1 when present, 0 when absent, or a negative errno. */
	int (*has_object)(void *be, const char *name);
	/* Reads n bytes at off of an object (a chunk in a pack); -EBADMSG when the object is
	 * shorter. Optional: without it get_object is used. */
	int (*get_range)(void *be, const char *name, uint64_t off, void *buf, size_t n);
	int (*delete_object)(void *be, const char *name);
	/* Calls cb for every object whose name starts with prefix (a folder, ending in '/'),
	 * temporaries included; a nonzero cb return stops the walk and is returned. */
	int (*list)(void *be, const char *prefix, int (*cb)(void *arg, const char *name),
	            void *arg);
	/* Makes every put and delete so far durable. */
	int (*sync)(void *be);
	void (*close)(void *be);
	/* Takes the store for this handle alone until close: -EBUSY when another holds it.
	 * Optional. */
	int (*lock)(void *be);
};

/* The local-directory backend (store_dir.c). */
int store_dir_backend(const char *dir, const struct store_ops **ops, void **be);

enum store_kind { STORE_CRASH = 0, STORE_APP = 1 };

struct store;

/* Opens (creating when needed) the store in dir, with the local-directory backend. */
int store_open(const char *dir, struct store **out);
int store_open_ops(const struct store_ops *ops, void *be, struct store **out);
void store_close(struct store *st);
/* Takes the store for this process's writing alone (until store_close): -EBUSY when another
 * writer holds it. Writers (a receiver, capture, prune and gc) take it; readers (points,
 * restore, drills) need not: points are complete before they are listed, and packs are
 * deleted only by a gc, which a writer runs. */
int store_lock(struct store *st);
/* At most how many deltas follow a full map (default 256, at least 1). */
void store_set_checkpoint(struct store *st, unsigned every);

struct store_chunk {
	uint64_t index;
	const void *data; /* the chunk's bytes: chunk_size, or less for the disk's last chunk */
};

struct store_write {
	const char *disk;
	uint64_t disk_size;  /* bytes; must not change between points */
	uint32_t chunk_size; /* 0 = default; must match the disk's first point */
	int64_t time;        /* seconds, the replication clock */
	enum store_kind kind;
	uint64_t jseq; /* last journal sequence included */
	const struct store_chunk *chunks;
	size_t nchunks; /* changed chunks; on the first point, the chunks that are not zero */
	/* When a chunk's data is NULL: reads its len bytes into buf (0 or a negative errno),
	 * so a large point never needs every changed chunk in memory at once. */
	int (*read)(void *arg, uint64_t index, void *buf, size_t len);
	void *read_arg;
};

/* Writes one recovery point; *seq gets its sequence (1, 2, ...). */
int store_write_point(struct store *st, const struct store_write *w, uint64_t *seq);

struct store_point {
	uint64_t seq, base; /* base: the point a delta applies to (0 for a full map) */
	int64_t time;
	enum store_kind kind;
	bool full;
	uint64_t jseq;
	uint64_t disk_size;
	uint32_t chunk_size;
	uint32_t depth;    /* deltas since the last full map, when written */
	uint64_t nentries; /* map entries in this manifest */
};

/* The disk's points by sequence, oldest first; *pts is heap (free it). */
int store_list_points(struct store *st, const char *disk, struct store_point **pts, size_t *n);
int store_point_info(struct store *st, const char *disk, uint64_t seq, struct store_point *p);

/* A resolved point: the full chunk map, to read chunks one by one (an NBD overlay). */
struct store_map;
int store_map_open(struct store *st, const char *disk, uint64_t seq, struct store_map **out);
void store_map_close(struct store_map *m);
uint64_t store_map_nchunks(const struct store_map *m);
/* Chunk length at idx (the last may be short). */
uint32_t store_map_chunk_len(const struct store_map *m, uint64_t idx);
bool store_map_is_zero(const struct store_map *m, uint64_t idx);
/* Reads chunk idx into buf (store_map_chunk_len bytes), verifying its hash. */
int store_map_read(struct store_map *m, uint64_t idx, void *buf);

/* Writes the point as a raw image: pwrite of every nonzero chunk, holes for zero chunks
 * (a regular file is truncated first; other files get explicit zeros). */
int store_restore_fd(struct store *st, const char *disk, uint64_t seq, int fd);
int store_restore(struct store *st, const char *disk, uint64_t seq, const char *path);

/* Site Recovery's pruning, relative to the newest point's time (so nothing is pruned while
 * no new points arrive). retention_secs: 0 keeps only the newest point; otherwise every point
 * of the newest 2 h, then one per hour (retention up to 1 day), one per 2 h (up to 7 days),
 * or one per 2 h for 7 days then one per 4 h (longer), none older than the retention. The
 * kept point of a bucket is its oldest; buckets are aligned to multiples of their width in
 * the replication clock. Points a group point names are kept. Deltas of pruned points are
 * merged into the next kept point. Returns the number of points pruned. */
int store_prune(struct store *st, const char *disk, int64_t retention_secs);
/* Pure selection used by store_prune: keep[i] for times[] ascending (newest last). */
void store_prune_select(const int64_t *times, size_t n, int64_t retention_secs, bool *keep);

/* The hash a chunk is stored under; all zero for a chunk of zeros. */
void store_chunk_hash(const void *data, size_t len, uint8_t *out);

/* Captures a disk image (a file or block device) as the disk's next point: the first point
 * holds every chunk that is not zero, later ones only the chunks whose hash differs from the
 * newest point (the comparison of reprotect and resync: unchanged chunks are read and hashed,
 * never sent). Holes (SEEK_HOLE) are zero without being read. The image is read with pread,
 * chunk by chunk (a read error is an error, not a signal as a mapped read would be), and a
 * changed chunk is read again when it is stored, so memory stays at 16 bytes per changed
 * chunk plus the map of hashes. */
struct store_capture_stats {
	uint64_t chunks;  /* chunks of the disk */
	uint64_t changed; /* chunks written into the point */
	uint64_t bytes;   /* bytes of the changed chunks */
	uint64_t holes;   /* chunks skipped as holes */
};
int store_capture(struct store *st, const char *disk, const char *image, int64_t time,
                  enum store_kind kind, uint32_t chunk_size, uint64_t *seq,
                  struct store_capture_stats *stats);

/* The same, reading only the chunks listed in only[] (ascending indexes; the rest are
 * unchanged since the newest point, which must exist): the cost follows the churn, not the
 * disk's size. */
int store_capture_chunks(struct store *st, const char *disk, const char *image, int64_t time,
                         enum store_kind kind, uint32_t chunk_size, const uint64_t *only,
                         size_t nonly, uint64_t *seq, struct store_capture_stats *stats);

/* Deletes chunks no manifest names, and leftover temporaries. Returns the number deleted. */
int store_gc(struct store *st);

/* ---- replication groups --------------------------------------------------------------- */

struct store_member {
	char disk[STORE_NAME_MAX + 1];
	uint64_t point;
};

struct store_group_point {
	uint64_t seq;
	int64_t time;
	enum store_kind kind;
	size_t nmembers;
	struct store_member *members; /* heap */
};

/* Records a group point over existing disk points, atomically; *seq gets its sequence. */
int store_write_group(struct store *st, const char *group, const struct store_member *members,
                      size_t n, int64_t time, enum store_kind kind, uint64_t *seq);
int store_list_groups(struct store *st, const char *group, struct store_group_point **gps,
                      size_t *n);
void store_groups_free(struct store_group_point *gps, size_t n);

/* ---- internal, shared by store*.c ------------------------------------------------------ */

struct store_entry {
	uint64_t index;
	uint8_t hash[STORE_HASH_LEN]; /* all zero: a zero chunk */
};

struct store_manifest {
	struct store_point p;
	struct store_entry *e; /* heap, sorted by index */
};

bool store_name_ok(const char *s);
int store_manifest_load(struct store *st, const char *disk, uint64_t seq, struct store_manifest *m);
int store_manifest_save(struct store *st, const char *disk, const struct store_manifest *m);
void store_manifest_free(struct store_manifest *m);
void store_manifest_name(const char *disk, uint64_t seq, char *out, size_t n);
/* Resolved map: hashes[nchunks * STORE_HASH_LEN] (heap). */
int store_resolve(struct store *st, const char *disk, uint64_t seq, struct store_point *p,
                  uint8_t **hashes);
const struct store_ops *store_ops_of(struct store *st, void **be);
/* Points of disk that group points name (heap, unsorted, may repeat). */
int store_group_pins(struct store *st, const char *disk, uint64_t **seqs, size_t *n);
/* Sorts changes by index, the last change of an index winning; returns the count kept. */
size_t store_sort_changes(struct store_entry *ch, size_t n);
/* Drops the cached newest point of disk (after pruning rewrote manifests). */
void store_forget(struct store *st, const char *disk);
unsigned store_checkpoint_of(const struct store *st);
/* The disk's newest point and its resolved map (nchunks x STORE_HASH_LEN, owned by the store,
 * valid until the next write or prune of the disk, or the next call for another disk, which
 * may drop it to keep the cache of maps within its budget); p->seq == 0 and *hashes NULL when
 * the disk has no point. */
int store_newest(struct store *st, const char *disk, struct store_point *p, const uint8_t **hashes);
/* The cache of the disks' newest maps: at most this many bytes (STORE_MAP_BUDGET by default)
 * but for the map in use; the least recently used are dropped first. */
#define STORE_MAP_BUDGET (1ull << 30)
void store_set_map_budget(struct store *st, uint64_t bytes);
/* The --map-cache option's value (a size, 1 MiB or more): 0, or -1. */
int store_parse_map_cache(const char *s, uint64_t *bytes);
uint64_t store_map_cache_bytes(const struct store *st);

/* Pack objects (store_pack.c). */
struct store_packs;
struct store_packs *store_packs_new(const struct store_ops *ops, void *be);
void store_packs_free(struct store_packs *pk);
void store_packs_drop(struct store_packs *pk);
/* 1 when the chunk is stored (or staged), 0 when not, or a negative errno. */
int store_packs_has(struct store_packs *pk, const uint8_t *hash);
/* Stages a compressed chunk (z, zn; len bytes raw) unless it is stored already. With
 * STORE_PACK_DELTA in len the frame is a delta: its first STORE_HASH_LEN bytes name the
 * chunk it applies to (its base), which the sweep then keeps while the delta lives. */
#define STORE_PACK_DELTA 0x40000000u
int store_packs_add(struct store_packs *pk, const uint8_t *hash, const void *z, size_t zn,
                    uint32_t len);
/* Puts the pack being filled (durable at the backend's next sync). */
int store_packs_flush(struct store_packs *pk);
/* The compressed chunk (*z heap) and its raw length (with STORE_PACK_DELTA for a delta);
 * -EBADMSG when it is not stored. */
int store_packs_get(struct store_packs *pk, const uint8_t *hash, void **z, size_t *zn,
                    uint32_t *len);
/* Chunks and packs stored (staged ones included). */
int store_packs_count(struct store_packs *pk, uint64_t *chunks, uint64_t *packs);
/* The backend synced: the indexes of the packs put before can be read back from it. */
void store_packs_synced(struct store_packs *pk);
/* Bytes of memory the table of chunks takes. */
uint64_t store_packs_table_bytes(const struct store_packs *pk);
int store_packs_mark(struct store_packs *pk, const uint8_t *hash);
int store_packs_sweep(struct store_packs *pk);
struct store_packs *store_packs_of(struct store *st);

#endif
