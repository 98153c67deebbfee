/*
 * tgt.c - the recovery region's side of replication (see tgt.h).
 *
 * Invariants:
 * - replica/<disk>.seq holds the applied seq and whether the replica is
 *   consistent (two checksummed slots, see save_seq), written only at a
 *   checkpoint, after the replica is fdatasynced up to that seq; the log
 *   (replica/<disk>.log) holds every record applied since, durable before its
 *   acknowledgement, and a start replays it: the durable seq the sender
 *   resumes after is the log's, so every acknowledged record is applied
 *   exactly once even across crashes (applying a record twice would be
 *   harmless: records are idempotent in order);
 * - a record is logged only after it applied, and a full log is emptied by a
 *   checkpoint, which covers the record that did not fit;
 * - a disk's callbacks run on its connection's thread under the disk's mutex, and so
 *   do its interval points on the point thread (point_main), while the receiver
 *   holds its connection (XP_SYNC_LATER): no record is applied while one is cut;
 *   the disk table and the group table have their own mutex; disks are never
 *   removed while the receiver runs, so each connection's thread remembers the
 *   disk it serves (find) instead of locking and scanning the table per record;
 * - points read only the chunks changed since the disk's last point; across a
 *   restart too: every .seq slot carries a map of the 4 MiB regions holding a
 *   chunk changed since the last point (a superset: the in-memory map is exact),
 *   saved with the applied seq at each checkpoint, so every acknowledged
 *   record's chunks are in the durable map or marked again by the replay, and
 *   the records applied past both are sent again and marked again. The first
 *   point after a start reads the whole replica only when there is no map (no
 *   point yet, or a .seq file from before maps).
 */
#include "repl/tgt.h"

#include "lib/lib.h"
#include "repl/jnl.h"
#include "repl/rlog.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

/* A replica's points use chunks of 64 KiB (the store's default is 1 MiB), doubled
 * until the disk has at most TGT_CHUNKS of them: a point stores each chunk a write
 * touched, so small random writes want small chunks (64 KiB random writes over
 * 2 GiB, bench/repl-rpo.sh: RPO p99 at 100 MB/s 5.0 s with 64 KiB chunks, 10.5 s
 * with 256 KiB, the old fixed size), while the store keeps 16 bytes a chunk of
 * the newest point in memory (at most 64 MiB a disk: 256 GiB in 64 KiB chunks,
 * 1 TiB in 256 KiB). The size is chosen at the disk's first point and kept. */
#define TGT_CHUNK_MIN (64u << 10)
#define TGT_CHUNKS    (4ull << 20)
#define TGT_REGION    (4u << 20) /* a bit of the map saved with the seq (1 TiB: 32 KiB) */
/* The write-ahead log (rlog.h): the disk's size, from 64 MiB to 1 GiB; a
 * checkpoint (replica and .seq durable, log emptied) when it is three quarters
 * full, or after CKPT_S seconds with records in it (the kernel writes dirty
 * pages back after 30 s anyway), so a restart replays at most that. */
#define LOG_MIN     (64ull << 20)
#define LOG_MAX     (1ull << 30)
#define CKPT_S      30
#define WAIT_MIN_MS 100 /* the shortest idle wait asked of the receiver */

struct tdisk {
	uint64_t id;
	char name[STORE_NAME_MAX + 1];
	char *img, *seqf;
	uint64_t size;
	int rfd;
	struct rlog *log;
	int64_t ckpt_time;         /* of the last checkpoint */
	bool ckpt_now;             /* a copy or resync ended: checkpoint at the next sync */
	uint64_t applied, durable; /* durable: in the log (the replica at checkpoints) */
	uint64_t catchup;          /* no point before applied reaches it (catch_up) */
	int sfd;                   /* the .seq file */
	uint64_t seq_gen;          /* its newest slot's generation */
	bool inconsistent, grouped, changed, barrier;
	bool seeded; /* the replica is a seed the initial copy brings up to date */
	uint32_t chunk;
	uint64_t *dirty; /* chunks changed since the last point; NULL before one */
	uint64_t last_point;
	int64_t last_time;
	enum store_kind last_kind;
	bool report; /* a point to tell the sender at the next sync */
	struct xp_point pt;
	bool pending;              /* queued for the point thread (its connection paused) */
	bool pend_force;           /* a mark's or a group cut's: cut even with no change */
	enum store_kind pend_kind; /* of that point */
	char pend_group[STORE_NAME_MAX + 1]; /* a group cut's group ("" for none), */
	uint64_t pend_cut;                   /* its number */
	uint32_t pend_want;                  /* and members */
	int pend_err;                        /* the point thread's failure, for the next sync */
	bool later;                          /* apply queued a point: cb_store says so */
	atomic_bool cutting; /* the point thread holds mu for a point: a hello is refused */
	pthread_mutex_t mu;
};

struct gcut { /* a group cut in progress */
	char group[STORE_NAME_MAX + 1];
	uint64_t cut;
	uint32_t want;
	size_t n;
	struct store_member m[64];
	bool app;
};

struct tgt {
	struct tgt_opts o;
	char *work;
	struct xp_receiver *rx;
	pthread_mutex_t mu;
	pthread_mutex_t smu;  /* the store is not thread-safe: one user at a time */
	struct lib_vec disks; /* struct tdisk * */
	struct lib_vec cuts;  /* struct gcut */
	struct tdisk **byid;  /* disks by id: open addressing, at most half full (find) */
	size_t byid_cap;
	/* The point thread: interval points, off the receiving threads (see cb_sync). */
	pthread_t pth;
	bool pth_on, pstop;
	pthread_mutex_t pmu;
	pthread_cond_t pcv;
	struct lib_vec pq; /* struct tdisk *, oldest first */
	/* Pruning and collecting, on the point thread between points (tgt_opts.prune). */
	int64_t last_prune, last_gc;
	bool gc_due; /* a prune dropped a point since the last gc */
};

void
tgt_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

uint64_t
tgt_get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The disk this thread served last: a connection's thread serves one disk, and
 * asks for it on every record. */
static _Thread_local struct {
	const struct tgt *t;
	uint64_t id;
	struct tdisk *d;
} last_disk;

static size_t
byid_slot(uint64_t id, size_t cap)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
}

/* Adds d to the table of disks by id (under t->mu), doubling it past half full. */
static void
byid_add(struct tgt *t, struct tdisk *d)
{
	if (2 * (t->disks.n + 1) > t->byid_cap) {
		size_t cap = t->byid_cap ? 2 * t->byid_cap : 64;
		struct tdisk **tab = lib_xcalloc(cap, sizeof(*tab));
		for (size_t i = 0; i < t->byid_cap; i++) {
			struct tdisk *x = t->byid[i];
			if (!x)
				continue;
			size_t k = byid_slot(x->id, cap);
			while (tab[k])
				k = (k + 1) & (cap - 1);
			tab[k] = x;
		}
		free(t->byid);
		t->byid = tab;
		t->byid_cap = cap;
	}
	size_t k = byid_slot(d->id, t->byid_cap);
	while (t->byid[k])
		k = (k + 1) & (t->byid_cap - 1);
	t->byid[k] = d;
}

/* The disk of id: the receiving threads serve thousands of disks in turn, so a
 * table, not a scan of them all under the mutex at every record. */
static struct tdisk *
find(struct tgt *t, uint64_t id)
{
	if (last_disk.t == t && last_disk.id == id && last_disk.d)
		return last_disk.d;
	pthread_mutex_lock(&t->mu);
	struct tdisk *d = NULL;
	for (size_t k = t->byid_cap ? byid_slot(id, t->byid_cap) : 0; t->byid_cap && t->byid[k];
	     k = (k + 1) & (t->byid_cap - 1))
		if (t->byid[k]->id == id) {
			d = t->byid[k];
			break;
		}
	pthread_mutex_unlock(&t->mu);
	if (d)
		last_disk.t = t, last_disk.id = id, last_disk.d = d;
	return d;
}

/* The .seq file: two slots written in place, alternately, each { magic, flags,
 * generation, applied seq, regions, XXH3-64 of the rest } and the region map
 * (SEQ_MAP: a bit per TGT_REGION of the disk), fdatasynced: a burst's
 * bookkeeping costs one small write, not a new file (a new inode per burst made
 * ext4's inode allocation scan past hundreds of recently deleted ones a second).
 * A torn slot fails its checksum; the other one is the state. A file of 512-byte
 * "SEQ1" slots (before maps) is read as having no map. */
#define SEQ_MAGIC1 0x31514553u /* "SEQ1" */
#define SEQ_MAGIC  0x32514553u /* "SEQ2" */
#define SEQ_SLOT   512
#define SEQ_MAP    2u /* flags: the map is valid (there is a point it is relative to) */
struct seq_slot {
	uint32_t magic, flags; /* flags 1: inconsistent; SEQ_MAP */
	uint64_t gen, applied;
	uint64_t regions; /* bits of the map that follows */
	uint64_t sum;     /* of the header before it, seeded with the map's XXH3-64 */
};
struct seq_slot1 {
	uint32_t magic, flags;
	uint64_t gen, applied, sum;
};

static uint64_t
map_regions(const struct tdisk *d)
{
	return (d->size + TGT_REGION - 1) / TGT_REGION;
}

/* Bytes of one slot: the header's 512 and the map, in 512-byte units. */
static size_t
slot_bytes(const struct tdisk *d)
{
	return SEQ_SLOT + (size_t)((map_regions(d) + 4095) / 4096 * 512);
}

static int
save_seq(struct tdisk *d)
{
	size_t n = slot_bytes(d);
	uint8_t *b = lib_xcalloc(1, n), *map = b + SEQ_SLOT;
	uint64_t nreg = map_regions(d);
	struct seq_slot sl = {SEQ_MAGIC,      d->inconsistent | (d->dirty ? SEQ_MAP : 0u),
	                      d->seq_gen + 1, d->applied,
	                      nreg,           0};
	if (d->dirty) { /* regions holding a chunk changed since the last point */
		uint64_t per = TGT_REGION / d->chunk, nch = (d->size + d->chunk - 1) / d->chunk;
		for (uint64_t w = 0; w < (nch + 63) / 64; w++)
			for (uint64_t bits = d->dirty[w]; bits; bits &= bits - 1) {
				uint64_t r = (w * 64 + (uint64_t)__builtin_ctzll(bits)) / per;
				map[r / 8] |= (uint8_t)(1u << (r % 8));
			}
	}
	sl.sum = XXH3_64bits_withSeed(&sl, offsetof(struct seq_slot, sum),
	                              XXH3_64bits(map, n - SEQ_SLOT));
	memcpy(b, &sl, sizeof(sl));
	int rc = lib_pwrite_all(d->sfd, b, n, (sl.gen % 2) * n);
	free(b);
	if (rc == 0 && fdatasync(d->sfd))
		rc = -errno;
	if (rc == 0) {
		d->seq_gen = sl.gen;
		d->durable = d->applied;
	}
	return rc;
}

/* The state in the newest good slot; *map (a bit per region, when the slot has a
 * valid one) is the caller's to free, NULL when there is none. */
static int
load_seq(struct tdisk *d, uint8_t **map)
{
	size_t n = slot_bytes(d);
	uint8_t *b = lib_xmalloc(n);
	struct seq_slot best = {0};
	*map = NULL;
	for (int i = 0; i < 2; i++) {
		struct seq_slot sl;
		if (pread(d->sfd, b, n, (off_t)(i * n)) != (ssize_t)n)
			continue;
		memcpy(&sl, b, sizeof(sl));
		if (sl.magic != SEQ_MAGIC || sl.regions != map_regions(d) ||
		    sl.sum != XXH3_64bits_withSeed(&sl, offsetof(struct seq_slot, sum),
		                                   XXH3_64bits(b + SEQ_SLOT, n - SEQ_SLOT)) ||
		    sl.gen <= best.gen)
			continue;
		best = sl;
		free(*map);
		*map = NULL;
		if (sl.flags & SEQ_MAP) {
			*map = lib_xmalloc(n - SEQ_SLOT);
			memcpy(*map, b + SEQ_SLOT, n - SEQ_SLOT);
		}
	}
	for (int i = 0; i < 2 && !best.gen; i++) { /* a file from before the maps */
		struct seq_slot1 s1;
		if (pread(d->sfd, &s1, sizeof(s1), i * SEQ_SLOT) == (ssize_t)sizeof(s1) &&
		    s1.magic == SEQ_MAGIC1 &&
		    s1.sum == XXH3_64bits(&s1, offsetof(struct seq_slot1, sum)))
			best = (struct seq_slot){
			    .gen = s1.gen, .applied = s1.applied, .flags = s1.flags & 1};
	}
	free(b);
	if (!best.gen)
		return -EBADMSG;
	d->seq_gen = best.gen;
	d->applied = d->durable = best.applied;
	d->inconsistent = best.flags & 1;
	return 0;
}

/* The chunks changed since the last point (of chunk bytes): those of every region
 * the saved map has; true when there is one. */
static bool
map_load(struct tdisk *d, const uint8_t *map, uint32_t chunk)
{
	d->chunk = chunk;
	d->dirty = lib_xcalloc((d->size / chunk + 64) / 64, sizeof(uint64_t));
	uint64_t per = TGT_REGION / chunk, nch = (d->size + chunk - 1) / chunk;
	bool any = false;
	for (uint64_t r = 0; r < map_regions(d); r++) {
		if (!(map[r / 8] & (1u << (r % 8))))
			continue;
		any = true;
		for (uint64_t c = r * per; c < (r + 1) * per && c < nch; c++)
			d->dirty[c / 64] |= 1ull << (c % 64);
	}
	return any;
}

/* ---- callbacks of the receiver ---------------------------------------------------- */

/* The replica may hold records applied past its durable state (a crash of this
 * side, or a connection lost between apply and sync): re-applying older records
 * over them leaves no prefix of the writes until the stream is past the highest
 * record the sender may have sent before. No point until then. */
static void
catch_up(struct tdisk *d, uint64_t high)
{
	pthread_mutex_lock(&d->mu);
	if (high > d->applied && high > d->catchup)
		d->catchup = high;
	pthread_mutex_unlock(&d->mu);
}

static int replay_one(void *arg, const struct xp_record *r);

/* The write-ahead log: what was acknowledged since the last checkpoint is
 * applied again (a new replica starts with an empty log), made durable in the
 * replica, and the log starts a new generation. */
static int
log_open(struct tgt *t, struct tdisk *d, bool fresh)
{
	struct lib_buf lg = {0};
	lib_buf_printf(&lg, "%s/replica/%s.log", t->work, d->name);
	if (fresh)
		unlink(lg.s);
	uint64_t cap = d->size < LOG_MIN ? LOG_MIN : d->size > LOG_MAX ? LOG_MAX : d->size;
	int rc = rlog_open(lg.s, cap, &d->log);
	lib_buf_free(&lg);
	uint64_t before = d->applied;
	if (!rc)
		rc = rlog_replay(d->log, d->applied, replay_one, d);
	if (!rc && d->applied != before) {
		d->changed = true;
		rc = fdatasync(d->rfd) ? -errno : save_seq(d);
	}
	if (!rc)
		rc = rlog_reset(d->log);
	d->ckpt_time = (int64_t)time(NULL);
	return rc;
}

static int
cb_open(void *arg, uint64_t id, const char *name, uint64_t size, uint64_t high)
{
	struct tgt *t = arg;
	struct tdisk *d = find(t, id);
	if (d) {
		if (strcmp(d->name, name) || d->size != size)
			return -EINVAL;
		/* A point of a large change can take minutes (a first point reads the whole
		 * replica): a sender reconnecting meanwhile is turned away and comes back, not
		 * left holding the receiving thread of every disk it shares. */
		if (atomic_load(&d->cutting))
			return -EBUSY;
		catch_up(d, high);
		return 0;
	}
	if (!store_name_ok(name) || !size)
		return -EINVAL;
	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < t->disks.n; i++)
		if (!strcmp(((struct tdisk **)t->disks.v)[i]->name, name)) {
			pthread_mutex_unlock(&t->mu);
			return -EEXIST; /* the same name under another number */
		}
	d = lib_xcalloc(1, sizeof(*d));
	atomic_init(&d->cutting, false);
	d->id = id;
	snprintf(d->name, sizeof(d->name), "%s", name);
	struct lib_buf img = {0}, seq = {0};
	lib_buf_printf(&img, "%s/replica/%s.img", t->work, name);
	lib_buf_printf(&seq, "%s/replica/%s.seq", t->work, name);
	d->img = img.s;
	d->seqf = seq.s;
	d->size = size;
	pthread_mutex_init(&d->mu, NULL);
	struct stat sb;
	bool fresh = stat(d->seqf, &sb) != 0;
	uint8_t *map = NULL;
	int rc = 0;
	d->sfd = d->rfd = -1;
	/* Reprotect: a new replica that is the seed, linked from the work directory. */
	for (size_t i = 0; fresh && i < t->o.nseeds; i++) {
		if (strcmp(t->o.seeds[i].disk, name))
			continue;
		char *abs = realpath(t->o.seeds[i].path, NULL);
		unlink(d->img);
		if (!abs || symlink(abs, d->img))
			rc = -errno;
		free(abs);
		d->seeded = true;
	}
	if (!rc && (d->rfd = open(d->img, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		rc = -errno;
	/* The .seq file exists (and is durable in its directory) before the first
	 * state is saved into it. */
	if (!rc && fresh)
		rc = lib_write_atomic(d->seqf, "", 0);
	if (!rc && (d->sfd = open(d->seqf, O_RDWR | O_CLOEXEC)) < 0)
		rc = -errno;
	if (!rc && fstat(d->rfd, &sb))
		rc = -errno;
	if (!rc && fresh) {
		/* A new replica: sparse (or the seed, of the disk's size), inconsistent until
		 * the initial copy's SYNCED. */
		d->inconsistent = true;
		if (d->seeded && (uint64_t)sb.st_size != size)
			rc = -EINVAL;
		else if (!d->seeded && (ftruncate(d->rfd, (off_t)size) || fdatasync(d->rfd)))
			rc = -errno;
		if (!rc)
			rc = save_seq(d);
	} else if (!rc) {
		rc = (uint64_t)sb.st_size != size ? -EINVAL : load_seq(d, &map);
	}
	struct store_point *pts, lp = {0};
	size_t np;
	pthread_mutex_lock(&t->smu);
	int lrc = rc ? rc : store_list_points(t->o.st, name, &pts, &np);
	if (!lrc && np && map && store_point_info(t->o.st, name, pts[np - 1].seq, &lp))
		lp.chunk_size = 0;
	pthread_mutex_unlock(&t->smu);
	if (!lrc) {
		if (np) {
			d->last_point = pts[np - 1].seq;
			d->last_time = pts[np - 1].time;
			d->last_kind = pts[np - 1].kind;
			if (pts[np - 1].disk_size != size)
				rc = -EINVAL;
		}
		free(pts);
		d->changed = !fresh; /* the first point after a start reads the replica whole */
		if (d->last_point && lp.chunk_size && TGT_REGION % lp.chunk_size == 0)
			d->changed = map_load(d, map, lp.chunk_size); /* ... unless a map says */
		if (d->last_point) { /* tell the sender the newest point at the first sync */
			d->report = true;
			d->pt = (struct xp_point){0, d->last_point, d->last_time,
			                          d->last_kind == STORE_APP};
		}
	}
	free(map);
	if (!rc)
		rc = log_open(t, d, fresh);
	if (rc) {
		rlog_close(d->log);
		if (d->rfd >= 0)
			close(d->rfd);
		if (d->sfd >= 0)
			close(d->sfd);
		free(d->dirty);
		pthread_mutex_destroy(&d->mu);
		free(d->img);
		free(d->seqf);
		free(d);
	} else {
		byid_add(t, d);
		*(struct tdisk **)lib_vec_push(&t->disks) = d;
		catch_up(d, high);
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

#define SEED_BLOCK (64u << 10)

static int
cb_seed(void *arg, uint64_t id, uint32_t *block, uint64_t **sums, size_t *n)
{
	struct tdisk *d = find(arg, id);
	if (!d)
		return -ENOENT;
	pthread_mutex_lock(&d->mu);
	int rc = 0;
	if (d->seeded && d->applied == 0) {
		size_t nb = (size_t)((d->size + SEED_BLOCK - 1) / SEED_BLOCK);
		uint64_t *v = lib_xmalloc(nb * sizeof(*v));
		uint8_t *buf = lib_xmalloc(SEED_BLOCK);
		for (size_t i = 0; i < nb && !rc; i++) {
			uint64_t off = (uint64_t)i * SEED_BLOCK;
			size_t len =
			    d->size - off < SEED_BLOCK ? (size_t)(d->size - off) : SEED_BLOCK;
			ssize_t got = pread(d->rfd, buf, len, (off_t)off);
			if (got != (ssize_t)len)
				rc = got < 0 ? -errno : -EIO;
			v[i] = XXH3_64bits(buf, len);
		}
		free(buf);
		if (rc) {
			free(v);
		} else {
			*block = SEED_BLOCK, *sums = v, *n = nb;
			rc = 1;
		}
	}
	pthread_mutex_unlock(&d->mu);
	return rc;
}

static int
cb_last(void *arg, uint64_t id, uint64_t *seq)
{
	struct tdisk *d = find(arg, id);
	if (!d)
		return -ENOENT;
	pthread_mutex_lock(&d->mu);
	*seq = d->durable;
	pthread_mutex_unlock(&d->mu);
	return 0;
}

static void
mark(struct tdisk *d, uint64_t off, uint64_t len)
{
	if (!d->dirty || !len || off >= d->size)
		return;
	if (off + len > d->size)
		len = d->size - off;
	for (uint64_t c = off / d->chunk; c <= (off + len - 1) / d->chunk; c++)
		d->dirty[c / 64] |= 1ull << (c % 64);
}

static int
zero_range(struct tdisk *d, uint64_t off, uint64_t len)
{
	if (off >= d->size)
		return -EINVAL;
	if (len > d->size - off)
		len = d->size - off;
	if (fallocate(d->rfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) ==
	    0)
		return 0;
	static const uint8_t z[65536];
	for (uint64_t o = 0; o < len; o += sizeof(z)) {
		size_t n = len - o < sizeof(z) ? (size_t)(len - o) : sizeof(z);
		int rc = lib_pwrite_all(d->rfd, z, n, off + o);
		if (rc)
			return rc;
	}
	return 0;
}

/* The replica holds a prefix of the writes: consistent, and caught up. */
static bool
pointable(const struct tdisk *d)
{
	return !d->inconsistent && d->applied >= d->catchup;
}

/* Makes every applied record durable: in the log. */
static int
make_durable(struct tdisk *d)
{
	if (d->durable == d->applied)
		return 0;
	int rc = rlog_sync(d->log);
	if (rc == 0)
		d->durable = d->applied;
	return rc;
}

/* The replica and its .seq durable up to what is applied; the log emptied,
 * and unless the disk is busy (its log filled), its blocks returned: a quiet
 * disk keeps no log on disk (10,000 disks of up to 1 GiB of log each). */
static int
checkpoint(struct tdisk *d, bool busy)
{
	int rc = 0;
	if (rlog_used(d->log) || d->durable != d->applied) { /* else nothing since the last */
		rc = fdatasync(d->rfd) ? -errno : save_seq(d);
		if (rc == 0)
			rc = rlog_reset(d->log);
	}
	if (rc == 0 && !busy)
		(void)rlog_trim(d->log); /* a failure only keeps the space */
	if (rc == 0)
		d->ckpt_time = (int64_t)time(NULL);
	return rc;
}

/* A checkpoint when the log is three quarters full, has held records CKPT_S, or
 * a copy or resync just ended (it wrote much of the replica: a restart then
 * replays nothing of it). */
static int
checkpoint_due(struct tdisk *d, int64_t now)
{
	uint64_t used = rlog_used(d->log);
	bool full = used > rlog_room(d->log) / 4 * 3;
	if (d->ckpt_now || full || (used && now - d->ckpt_time >= CKPT_S)) {
		d->ckpt_now = false;
		return checkpoint(d, full);
	}
	return 0;
}

/* The chunk size of a disk's first point (see TGT_CHUNK_MIN). */
static uint32_t
chunk_for(uint64_t size)
{
	uint32_t c = TGT_CHUNK_MIN;
	while (c < TGT_REGION && (size + c - 1) / c > TGT_CHUNKS)
		c *= 2;
	return c;
}

/* A point of the replica as it is (durable first). */
static int
cut(struct tgt *t, struct tdisk *d, enum store_kind kind, int64_t now)
{
	int rc = make_durable(d);
	if (rc)
		return rc;
	uint64_t seq;
	pthread_mutex_lock(&t->smu);
	if (d->dirty && d->last_point) {
		size_t words = (d->size / d->chunk + 64) / 64;
		struct lib_vec v = {0};
		lib_vec_init(&v, sizeof(uint64_t));
		for (size_t w = 0; w < words; w++)
			for (uint64_t b = d->dirty[w]; b; b &= b - 1)
				*(uint64_t *)lib_vec_push(&v) =
				    w * 64 + (uint64_t)__builtin_ctzll(b);
		static const uint64_t none;
		rc = store_capture_chunks(t->o.st, d->name, d->img, now, kind, 0,
		                          v.n ? (const uint64_t *)v.v : &none, v.n, &seq, NULL);
		lib_vec_free(&v);
		if (rc == 0)
			memset(d->dirty, 0, words * sizeof(uint64_t));
	} else {
		rc = store_capture(t->o.st, d->name, d->img, now, kind,
		                   d->last_point ? 0 : chunk_for(d->size), &seq, NULL);
		struct store_point p;
		if (rc == 0 && !d->dirty && store_point_info(t->o.st, d->name, seq, &p) == 0) {
			d->chunk = p.chunk_size;
			d->dirty = lib_xcalloc((d->size / d->chunk + 64) / 64, sizeof(uint64_t));
		}
	}
	pthread_mutex_unlock(&t->smu);
	if (rc)
		return rc;
	d->last_point = seq;
	d->last_time = now;
	d->last_kind = kind;
	d->changed = false;
	d->report = true;
	d->pt = (struct xp_point){d->applied, seq, now, kind == STORE_APP};
	return 0;
}

/* A member's point for a group cut; the group point once every member has one. */
static int
group_cut(struct tgt *t, struct tdisk *d, const char *group, uint64_t cutno, uint32_t want,
          bool app, int64_t now)
{
	int rc = cut(t, d, app ? STORE_APP : STORE_CRASH, now);
	if (rc)
		return rc;
	pthread_mutex_lock(&t->mu);
	struct gcut *g = NULL;
	for (size_t i = 0; i < t->cuts.n && !g; i++) {
		struct gcut *x = &((struct gcut *)t->cuts.v)[i];
		if (!strcmp(x->group, group) && x->cut == cutno)
			g = x;
	}
	if (!g) {
		g = lib_vec_push(&t->cuts);
		memset(g, 0, sizeof(*g));
		snprintf(g->group, sizeof(g->group), "%s", group);
		g->cut = cutno;
		g->want = want;
		g->app = app;
	}
	if (g->n < LIB_ARRAY_LEN(g->m)) {
		snprintf(g->m[g->n].disk, sizeof(g->m[g->n].disk), "%s", d->name);
		g->m[g->n++].point = d->last_point;
	}
	if (g->n >= g->want) {
		uint64_t seq;
		pthread_mutex_lock(&t->smu);
		rc = store_write_group(t->o.st, g->group, g->m, g->n, now,
		                       g->app ? STORE_APP : STORE_CRASH, &seq);
		pthread_mutex_unlock(&t->smu);
		size_t k = (size_t)(g - (struct gcut *)t->cuts.v);
		memmove(g, g + 1, (t->cuts.n - k - 1) * sizeof(*g));
		t->cuts.n--;
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

static void point_later(struct tgt *t, struct tdisk *d, enum store_kind kind, bool force);

/* Applies a record to the replica, under d->mu; a replayed one (t NULL) cuts
 * no point: its point, if it had one, was cut before the crash. A mark's or a
 * group cut's point is queued for the point thread (d->later: the receiver holds
 * the connection until it is cut). */
static int
apply(struct tgt *t, struct tdisk *d, const struct xp_record *r)
{
	int rc = 0;
	uint32_t f = r->flags;
	if (f & JNL_F_FLUSH) {
		d->barrier = true;
	} else if (f & (JNL_F_TRIM | JNL_F_ZERO)) {
		rc = r->len == TGT_LEN_PAYLOAD ? 0 : -EBADMSG;
		uint64_t len = rc ? 0 : tgt_get_u64(r->data);
		if (!rc)
			rc = zero_range(d, r->offset, len);
		mark(d, r->offset, len);
		d->changed = true, d->barrier = false;
	} else if (f & JNL_F_SYNCED) {
		d->inconsistent = false;
		d->changed = true;
		d->ckpt_now = t != NULL;
	} else if (f & JNL_F_CUT) {
		char group[STORE_NAME_MAX + 1];
		size_t gl = r->len > 4 ? r->len - 4 : 0;
		rc = gl && gl <= STORE_NAME_MAX ? 0 : -EBADMSG;
		if (!rc) {
			memcpy(group, (const uint8_t *)r->data + 4, gl);
			group[gl] = 0;
			const uint8_t *p = r->data;
			uint32_t want = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
			                (uint32_t)p[2] << 8 | p[3];
			d->applied = r->seq;
			d->grouped = true;
			if (t && pointable(d)) {
				snprintf(d->pend_group, sizeof(d->pend_group), "%s", group);
				d->pend_cut = r->offset;
				d->pend_want = want;
				point_later(t, d, f & JNL_F_MARK ? STORE_APP : STORE_CRASH, true);
			}
		}
	} else if (f & JNL_F_MARK) {
		d->applied = r->seq;
		if (t && pointable(d))
			point_later(t, d, STORE_APP, true);
	} else {
		if (r->offset > d->size || r->len > d->size - r->offset)
			rc = -EINVAL;
		else
			rc = lib_pwrite_all(d->rfd, r->data, r->len, r->offset);
		mark(d, r->offset, r->len);
		if (f & JNL_F_RESYNC)
			d->inconsistent = true;
		d->changed = true, d->barrier = false;
	}
	if (rc == 0)
		d->applied = r->seq;
	return rc;
}

static int
replay_one(void *arg, const struct xp_record *r)
{
	return apply(NULL, arg, r);
}

static int
cb_store(void *arg, uint64_t id, const struct xp_record *r)
{
	struct tgt *t = arg;
	struct tdisk *d = find(t, id);
	if (!d)
		return -ENOENT;
	pthread_mutex_lock(&d->mu);
	if (d->pend_err) { /* the point this connection waited for failed: nothing after it */
		int rc = d->pend_err;
		d->pend_err = 0;
		pthread_mutex_unlock(&d->mu);
		return rc;
	}
	d->later = false;
	int rc = apply(t, d, r);
	if (rc == 0)
		rc = rlog_append(d->log, r);
	if (rc == RLOG_FULL) /* the record is applied: the checkpoint covers it */
		rc = checkpoint(d, true);
	if (rc == 0 && d->later)
		rc = XP_STORE_LATER;
	pthread_mutex_unlock(&d->mu);
	return rc;
}

/* When the disk next needs an idle call (xp_sync_fn's wait): its checkpoint (a log
 * holding records) or its point (changes not in one) coming due; -1 for neither,
 * until new records. Never early (due is whole seconds of time(), now_ms finer);
 * at least WAIT_MIN_MS. Under d->mu. */
static int
idle_wait(const struct tgt *t, const struct tdisk *d)
{
	int64_t due = INT64_MAX;
	if (d->ckpt_now)
		due = 0;
	else if (rlog_used(d->log))
		due = d->ckpt_time + CKPT_S;
	if (pointable(d) && !d->grouped && d->changed) {
		int64_t p = d->last_point ? d->last_time + t->o.interval : 0;
		due = p < due ? p : due;
	}
	if (due == INT64_MAX)
		return -1;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t ms = due * 1000 - ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	return ms < WAIT_MIN_MS ? WAIT_MIN_MS : ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Queues d for the point thread (under d->mu). */
static void
point_later(struct tgt *t, struct tdisk *d, enum store_kind kind, bool force)
{
	d->pending = true;
	d->later = true;
	d->pend_force = force;
	d->pend_kind = kind;
	pthread_mutex_lock(&t->pmu);
	*(struct tdisk **)lib_vec_push(&t->pq) = d;
	pthread_cond_signal(&t->pcv);
	pthread_mutex_unlock(&t->pmu);
}

/* Site Recovery's retention over every disk's points, then the store's gc when a point
 * was dropped and the last gc is gc_every old: on the point thread, so never during a
 * point. Errors are reported and retried at the next round. */
static void
prune_all(struct tgt *t, int64_t now)
{
	t->last_prune = now;
	for (size_t i = 0; i < tgt_ndisks(t); i++) {
		struct tgt_disk_status ds;
		if (tgt_status(t, i, &ds) || !ds.last_point)
			continue;
		pthread_mutex_lock(&t->smu);
		int rc = store_prune(t->o.st, ds.name, t->o.retention);
		pthread_mutex_unlock(&t->smu);
		if (rc < 0)
			fprintf(stderr, "strait: pruning the points of %s: %s\n", ds.name,
			        strerror(-rc));
		else if (rc > 0)
			t->gc_due = true;
	}
	if (!t->gc_due || now - t->last_gc < t->o.gc_every)
		return;
	pthread_mutex_lock(&t->smu);
	int rc = store_gc(t->o.st);
	pthread_mutex_unlock(&t->smu);
	if (rc < 0) {
		fprintf(stderr, "strait: collecting the store: %s\n", strerror(-rc));
		return;
	}
	t->last_gc = now;
	t->gc_due = false;
}

/* Waits on the point thread's queue (pmu held); with pruning on, prunes when due. */
static void
point_wait(struct tgt *t)
{
	if (!t->o.prune) {
		pthread_cond_wait(&t->pcv, &t->pmu);
		return;
	}
	int64_t now = (int64_t)time(NULL), due = t->last_prune + t->o.prune_every;
	if (now >= due) {
		pthread_mutex_unlock(&t->pmu);
		prune_all(t, now);
		pthread_mutex_lock(&t->pmu);
		return;
	}
	struct timespec ts = {.tv_sec = (time_t)due};
	pthread_cond_timedwait(&t->pcv, &t->pmu, &ts);
}

/* The point thread: cuts the queued disks' points one after another (the store takes
 * one user at a time anyway), then lets each disk's connection go on; between points,
 * prunes and collects the store (tgt_opts.prune). Ends once asked to and the queue is
 * empty. */
static void *
point_main(void *arg)
{
	struct tgt *t = arg;
	pthread_setname_np(pthread_self(), "strait-point");
	pthread_mutex_lock(&t->pmu);
	for (;;) {
		while (!t->pq.n && !t->pstop)
			point_wait(t);
		if (!t->pq.n)
			break;
		struct tdisk *d = ((struct tdisk **)t->pq.v)[0];
		t->pq.n--;
		memmove(t->pq.v, (struct tdisk **)t->pq.v + 1, t->pq.n * sizeof(d));
		pthread_mutex_unlock(&t->pmu);
		atomic_store(&d->cutting, true);
		pthread_mutex_lock(&d->mu);
		int rc = 0;
		int64_t now = (int64_t)time(NULL);
		if (d->pending && d->pend_group[0] && pointable(d))
			rc = group_cut(t, d, d->pend_group, d->pend_cut, d->pend_want,
			               d->pend_kind == STORE_APP, now);
		else if (d->pending && (d->pend_force || d->changed) && pointable(d))
			rc = cut(t, d, d->pend_kind, now); /* unchanged: a close cut it */
		if (rc)
			d->pend_err = rc;
		d->pending = false;
		d->pend_group[0] = 0;
		uint64_t id = d->id;
		pthread_mutex_unlock(&d->mu);
		atomic_store(&d->cutting, false);
		xp_receiver_resume(t->rx, id);
		pthread_mutex_lock(&t->pmu);
	}
	pthread_mutex_unlock(&t->pmu);
	return NULL;
}

/* An interval point is cut by the point thread: the records are durable and acked at
 * once, the disk's connection waits (XP_SYNC_LATER) and the others sharing its
 * receiving thread go on; a point of a large change took their acks with it before.
 * A mark's or a group cut's point is queued where its record is applied (cb_store
 * answers XP_STORE_LATER), its records acked after it. */
static int
cb_sync(void *arg, uint64_t id, bool idle, struct xp_point *pt, int *wait_ms)
{
	struct tgt *t = arg;
	struct tdisk *d = find(t, id);
	if (!d)
		return -ENOENT;
	int64_t now = (int64_t)time(NULL);
	pthread_mutex_lock(&d->mu);
	int rc = d->pend_err;
	d->pend_err = 0;
	if (!rc && !idle)
		rc = make_durable(d);
	if (!rc)
		rc = checkpoint_due(d, now);
	if (!rc && !d->report && !d->pending && pointable(d) && !d->grouped && d->changed &&
	    (!d->last_point || now - d->last_time >= t->o.interval)) {
		point_later(t, d, d->barrier ? STORE_APP : STORE_CRASH, false);
		*wait_ms = -1;
		pthread_mutex_unlock(&d->mu);
		return XP_SYNC_LATER;
	}
	if (!rc && d->report) {
		d->report = false;
		*pt = d->pt;
		rc = 1;
	}
	*wait_ms = idle_wait(t, d);
	pthread_mutex_unlock(&d->mu);
	return rc;
}

/* The sender is gone (stopped, or the link cut): a point of what the replica holds, so the
 * last writes do not wait for the next connection to be in a point. */
static void
cb_close(void *arg, uint64_t id)
{
	struct tgt *t = arg;
	struct tdisk *d = find(t, id);
	if (!d || atomic_load(&d->cutting))
		return; /* the point thread is cutting what this would (a cut or a stop) */
	pthread_mutex_lock(&d->mu);
	if (make_durable(d) == 0 && pointable(d) && !d->grouped && d->changed)
		(void)cut(t, d, d->barrier ? STORE_APP : STORE_CRASH, (int64_t)time(NULL));
	(void)checkpoint(d, false); /* a quiet log: nothing to replay at a restart */
	pthread_mutex_unlock(&d->mu);
}

/* ---- the service ------------------------------------------------------------------ */

int
tgt_open(const struct tgt_opts *o, struct tgt **out)
{
	struct lib_buf rd = {0};
	lib_buf_printf(&rd, "%s/replica", o->work);
	int rc = lib_mkdir_p(rd.s);
	lib_buf_free(&rd);
	if (rc)
		return rc;
	struct tgt *t = lib_xcalloc(1, sizeof(*t));
	t->o = *o;
	if (!t->o.interval)
		t->o.interval = 300;
	if (!t->o.prune_every)
		t->o.prune_every = 60;
	if (!t->o.gc_every)
		t->o.gc_every = 3600;
	t->last_prune = (int64_t)time(NULL);
	t->work = lib_xstrdup(o->work);
	pthread_mutex_init(&t->mu, NULL);
	pthread_mutex_init(&t->smu, NULL);
	pthread_mutex_init(&t->pmu, NULL);
	pthread_cond_init(&t->pcv, NULL);
	lib_vec_init(&t->disks, sizeof(struct tdisk *));
	lib_vec_init(&t->cuts, sizeof(struct gcut));
	lib_vec_init(&t->pq, sizeof(struct tdisk *));
	struct xp_receiver_opts ro = {.store = cb_store,
	                              .last = cb_last,
	                              .open = cb_open,
	                              .seed = cb_seed,
	                              .close = cb_close,
	                              .sync = cb_sync,
	                              .arg = t,
	                              .io = o->io};
	rc = xp_receiver_open(o->host ? o->host : "127.0.0.1", o->port, &ro, &t->rx);
	if (!rc && (rc = -pthread_create(&t->pth, NULL, point_main, t)) == 0)
		t->pth_on = true;
	if (rc) {
		tgt_close(t);
		return rc;
	}
	*out = t;
	return 0;
}

uint16_t
tgt_port(const struct tgt *t)
{
	return xp_receiver_port(t->rx);
}

int
tgt_run(struct tgt *t)
{
	return xp_receiver_run(t->rx);
}

void
tgt_stop(struct tgt *t)
{
	xp_receiver_stop(t->rx);
}

void
tgt_cut(struct tgt *t)
{
	xp_receiver_cut(t->rx);
}

void
tgt_stats(struct tgt *t, struct xp_receiver_stats *st)
{
	xp_receiver_stats(t->rx, st);
}

size_t
tgt_ndisks(struct tgt *t)
{
	pthread_mutex_lock(&t->mu);
	size_t n = t->disks.n;
	pthread_mutex_unlock(&t->mu);
	return n;
}

int
tgt_status(struct tgt *t, size_t i, struct tgt_disk_status *s)
{
	pthread_mutex_lock(&t->mu);
	struct tdisk *d = i < t->disks.n ? ((struct tdisk **)t->disks.v)[i] : NULL;
	pthread_mutex_unlock(&t->mu);
	if (!d)
		return -EINVAL;
	pthread_mutex_lock(&d->mu);
	*s = (struct tgt_disk_status){.size = d->size,
	                              .applied = d->applied,
	                              .durable = d->durable,
	                              .inconsistent = d->inconsistent,
	                              .grouped = d->grouped,
	                              .last_point = d->last_point,
	                              .last_time = d->last_time,
	                              .last_kind = d->last_kind};
	snprintf(s->name, sizeof(s->name), "%s", d->name);
	pthread_mutex_unlock(&d->mu);
	return 0;
}

void
tgt_close(struct tgt *t)
{
	if (!t)
		return;
	if (t->pth_on) { /* its queue cut first: it resumes through the receiver */
		pthread_mutex_lock(&t->pmu);
		t->pstop = true;
		pthread_cond_signal(&t->pcv);
		pthread_mutex_unlock(&t->pmu);
		pthread_join(t->pth, NULL);
	}
	xp_receiver_close(t->rx);
	for (size_t i = 0; i < t->disks.n; i++) {
		struct tdisk *d = ((struct tdisk **)t->disks.v)[i];
		if (d->rfd >= 0) {
			/* The last point: whatever changed since the one before. */
			if (d->changed && pointable(d) && !d->grouped)
				cut(t, d, d->barrier ? STORE_APP : STORE_CRASH,
				    (int64_t)time(NULL));
			if (make_durable(d) == 0)
				(void)checkpoint(d, false);
			close(d->rfd);
		}
		rlog_close(d->log);
		if (d->sfd >= 0)
			close(d->sfd);
		pthread_mutex_destroy(&d->mu);
		free(d->img);
		free(d->seqf);
		free(d->dirty);
		free(d);
	}
	lib_vec_free(&t->disks);
	free(t->byid);
	lib_vec_free(&t->cuts);
	lib_vec_free(&t->pq);
	pthread_mutex_destroy(&t->mu);
	pthread_mutex_destroy(&t->smu);
	pthread_mutex_destroy(&t->pmu);
	pthread_cond_destroy(&t->pcv);
	free(t->work);
	free(t);
}
