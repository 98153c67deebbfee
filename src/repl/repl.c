/*
 * repl.c - the replication pipeline of repl.h: journaling hooks, the
 * shipper, the initial copy and crash recovery.
 */
#include "repl/repl.h"

#include "lib/lib.h"
#include "repl/jnl.h"
#include "repl/nbd.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define COPY_BUF (1u << 20)

struct rdisk {
	char name[STORE_NAME_MAX + 1];
	char *source, *jdir, *img, *seqf, *copyf;
	uint64_t size;
	struct jnl *j;
	int rfd;   /* the replica */
	int group; /* index in repl.groups, -1 */
	/* The fields below change under mu (the status reads them under it too). */
	enum repl_state state;
	int err;
	uint64_t copy_off; /* initial copy: done below this offset */
	uint64_t shipped;
	uint64_t last_point;
	int64_t last_time;
	enum store_kind last_kind;
	uint64_t written, applied; /* bytes: by the hooks, to the replica */
	int64_t pend_ms;           /* first write since the last snapshot, 0 */
	int64_t appl_ms;           /* first write applied but in no point yet, 0 */
	bool changed;              /* applied since the last point */
	bool barrier;              /* the applied prefix ends at a flush barrier */
	double churn;              /* bytes/s, exponentially averaged */
	uint64_t churn_bytes;      /* written at the last sample */
	int64_t churn_ms;          /* time of the last sample */
	/* The shipper's own (under repl.ship). */
	uint32_t chunk;    /* the store's chunk size for the disk, once it has a point */
	uint64_t *dirty;   /* bitmap: chunks changed since the last point (1 bit per chunk) */
	uint64_t *pending; /* activity-log extents to copy from the source after a crash */
	size_t npending;
	pthread_mutex_t mu;
};

struct rgroup {
	char name[STORE_NAME_MAX + 1];
	size_t n;
	size_t *disks; /* indexes, ascending: the lock order */
	int64_t last_time;
};

struct repl {
	char *work;
	struct store *st;
	int64_t interval;
	struct lib_vec disks;  /* struct rdisk * */
	struct lib_vec groups; /* struct rgroup */
	pthread_mutex_t ship;  /* one shipper at a time */
	bool closing;          /* the last ship: no copy slices, a point for any change */
};

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
repl_state_name(enum repl_state s)
{
	switch (s) {
	case REPL_COPYING:
		return "initial-copy";
	case REPL_PROTECTED:
		return "protected";
	case REPL_RESYNC:
		return "resync";
	case REPL_ERROR:
		return "error";
	}
	return "?";
}

/* dir/sub/name + ext, on the heap */
static char *
path_of(const char *dir, const char *sub, const char *name, const char *ext)
{
	struct lib_buf p = {0};
	lib_buf_printf(&p, "%s/%s%s%s", dir, sub, name, ext);
	return p.s;
}

static int
cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

int
repl_open(const char *work, struct store *st, struct repl **out)
{
	char *j = path_of(work, "journal", "", ""), *r = path_of(work, "replica", "", "");
	int rc = lib_mkdir_p(j);
	if (!rc)
		rc = lib_mkdir_p(r);
	free(j);
	free(r);
	if (rc)
		return rc;
	struct repl *x = lib_xcalloc(1, sizeof(*x));
	x->work = lib_xstrdup(work);
	x->st = st;
	x->interval = 300;
	lib_vec_init(&x->disks, sizeof(struct rdisk *));
	lib_vec_init(&x->groups, sizeof(struct rgroup));
	pthread_mutex_init(&x->ship, NULL);
	*out = x;
	return 0;
}

void
repl_set_interval(struct repl *r, int64_t secs)
{
	r->interval = secs > 0 ? secs : 1;
}

static struct rdisk *
disk_at(const struct repl *r, size_t i)
{
	return ((struct rdisk **)r->disks.v)[i];
}

static struct rdisk *
disk_find(const struct repl *r, const char *name)
{
	for (size_t i = 0; i < r->disks.n; i++)
		if (!strcmp(disk_at(r, i)->name, name))
			return disk_at(r, i);
	return NULL;
}

/* Notes the chunks [off, off+len) touches, for the next point. */
static void
mark(struct rdisk *d, uint64_t off, uint64_t len)
{
	if (!d->dirty || !len || off >= d->size)
		return;
	if (off + len > d->size)
		len = d->size - off;
	for (uint64_t c = off / d->chunk; c <= (off + len - 1) / d->chunk; c++)
		d->dirty[c / 64] |= 1ull << (c % 64);
}

static void
set_chunk(struct rdisk *d, uint32_t chunk)
{
	d->chunk = chunk;
	free(d->dirty);
	d->dirty = lib_xcalloc((d->size / chunk + 64) / 64, sizeof(uint64_t));
}

static int
save_seq(struct rdisk *d)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%" PRIu64 "\n", d->shipped);
	return lib_write_atomic(d->seqf, b, (size_t)n);
}

/* Copies [off, off+len) of the source into the replica, leaving zero runs as
 * they are in a fresh sparse replica (only when fresh) or writing them. */
static int
copy_range(struct rdisk *d, int sfd, uint64_t off, uint64_t len, bool fresh, uint8_t *buf)
{
	while (len) {
		size_t n = len < COPY_BUF ? (size_t)len : COPY_BUF;
		ssize_t got = pread(sfd, buf, n, (off_t)off);
		if (got < 0)
			return -errno;
		if (got == 0)
			return -EIO;
		/* Leave the source's page cache as it was: reading a sparse source
		 * fills it with large zero folios that make every later small write to
		 * the source walk the whole folio (4k writes 5x slower on ext4). */
		(void)posix_fadvise(sfd, (off_t)off, got, POSIX_FADV_DONTNEED);
		bool zero = buf[0] == 0 && !memcmp(buf, buf + 1, (size_t)got - 1);
		int rc = fresh && zero ? 0 : lib_pwrite_all(d->rfd, buf, (size_t)got, off);
		if (rc)
			return rc;
		off += (uint64_t)got;
		len -= (uint64_t)got;
	}
	return 0;
}

/* Cuts a point from the replica: only the dirty chunks are read once the disk has a
 * point (the cost follows the churn), the whole replica for the first. */
static int
cut_point(struct repl *r, struct rdisk *d, int64_t now, enum store_kind kind)
{
	uint64_t seq;
	int rc;
	if (d->dirty && d->last_point) {
		size_t words = (d->size / d->chunk + 64) / 64;
		struct lib_vec v = {0}; /* uint64_t: the dirty chunks, ascending */
		lib_vec_init(&v, sizeof(uint64_t));
		for (size_t w = 0; w < words; w++)
			for (uint64_t b = d->dirty[w]; b; b &= b - 1)
				*(uint64_t *)lib_vec_push(&v) =
				    w * 64 + (uint64_t)__builtin_ctzll(b);
		static const uint64_t none; /* no dirty chunk: an empty delta, nothing read */
		rc = store_capture_chunks(r->st, d->name, d->img, now, kind, 0,
		                          v.n ? (const uint64_t *)v.v : &none, v.n, &seq, NULL);
		lib_vec_free(&v);
		if (rc == 0)
			memset(d->dirty, 0, words * sizeof(uint64_t));
	} else {
		rc = store_capture(r->st, d->name, d->img, now, kind, 0, &seq, NULL);
	}
	if (rc == 0) {
		struct store_point p;
		if (!d->dirty && store_point_info(r->st, d->name, seq, &p) == 0)
			set_chunk(d, p.chunk_size);
		pthread_mutex_lock(&d->mu);
		d->last_point = seq;
		d->last_time = now;
		d->last_kind = kind;
		d->appl_ms = 0;
		d->changed = false;
		pthread_mutex_unlock(&d->mu);
	}
	return rc;
}

/* Copies the extents (4 MiB activity-log extents, or 64 KiB bitmap extents)
 * from the source: the writes that may be on the source but not in the journal. */
static int
resync_extents(struct rdisk *d, const uint64_t *ext, size_t n, unsigned shift)
{
	int sfd = open(d->source, O_RDONLY | O_CLOEXEC);
	if (sfd < 0)
		return -errno;
	uint8_t *buf = lib_xmalloc(COPY_BUF);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		uint64_t off = ext[i] << shift, len = (uint64_t)1 << shift;
		if (off >= d->size)
			continue;
		if (off + len > d->size)
			len = d->size - off;
		rc = copy_range(d, sfd, off, len, false, buf);
		mark(d, off, len);
	}
	free(buf);
	close(sfd);
	return rc;
}

static int apply_disk(struct rdisk *d, uint64_t limit);

static int
save_copy(struct rdisk *d)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%" PRIu64 "\n", d->copy_off);
	return lib_write_atomic(d->copyf, b, (size_t)n);
}

static int
read_u64_file(const char *path, uint64_t *v)
{
	char *txt;
	size_t n;
	int rc = lib_read_file(path, &txt, &n);
	if (rc)
		return rc;
	char *end;
	errno = 0;
	*v = strtoull(txt, &end, 10);
	rc = end == txt || (*end && *end != '\n') || errno ? -EBADMSG : 0;
	free(txt);
	return rc;
}

static int
disk_open(struct repl *r, struct rdisk *d)
{
	struct stat sb;
	int sfd = open(d->source, O_RDONLY | O_CLOEXEC);
	if (sfd < 0)
		return -errno;
	off_t end = lseek(sfd, 0, SEEK_END);
	close(sfd);
	if (end <= 0)
		return end < 0 ? -errno : -EINVAL;
	d->size = (uint64_t)end;
	/* A new disk: the copy's progress file exists before the replica does, so
	 * a crash at any moment finds one or the other. */
	bool fresh = stat(d->img, &sb) != 0;
	int rc = fresh ? save_copy(d) : 0;
	if (rc)
		return rc;
	d->rfd = open(d->img, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->rfd < 0)
		return -errno;
	if (fresh && ftruncate(d->rfd, (off_t)d->size))
		return -errno;
	/* DRBD's default activity log since 8.4: 1237 extents of 4 MiB (4.8 GiB hot). */
	struct jnl_opts jo = {.al_extents = 1237};
	rc = jnl_open(d->jdir, &jo, &d->j);
	if (rc)
		return rc;
	if (stat(d->copyf, &sb) == 0) {
		/* The initial copy is not finished: it goes on from where it was. Writes
		 * since its start wait in the journal (nothing was shipped). */
		rc = read_u64_file(d->copyf, &d->copy_off);
		d->state = REPL_COPYING;
		d->shipped = 0;
		return rc;
	}
	d->state = REPL_PROTECTED;
	rc = read_u64_file(d->seqf, &d->shipped);
	if (rc)
		return rc;
	/* Crash recovery: the extents that may differ are copied from the source by the
	 * first ship, after the journal is applied (the source is newer than any record). */
	rc = jnl_recover(d->j, &d->pending, &d->npending);
	struct store_point *pts;
	size_t np;
	if (!rc && !store_list_points(r->st, d->name, &pts, &np)) {
		if (np) {
			d->last_point = pts[np - 1].seq;
			d->last_time = pts[np - 1].time;
			d->last_kind = pts[np - 1].kind;
			/* No dirty map yet: the replica may hold shipped records the newest point
			 * lacks (a crash between the two), so the first point reads it all. */
		}
		free(pts);
	}
	if (!rc && (d->npending || !np))
		d->changed = true; /* a point is due at the first tick */
	return rc;
}

/* The initial copy's next slice: up to COPY_SLICE bytes of the source's data
 * extents from copy_off, then the progress (the replica synced first). At the
 * end the copy is durable, .seq says nothing is shipped yet and .copy goes. */
#define COPY_SLICE (256ull << 20)
static int
copy_step(struct rdisk *d)
{
	int sfd = open(d->source, O_RDONLY | O_CLOEXEC);
	if (sfd < 0)
		return -errno;
	uint8_t *buf = lib_xmalloc(COPY_BUF);
	uint64_t off = d->copy_off, budget = COPY_SLICE;
	int rc = 0;
	while (off < d->size && budget && !rc) {
		off_t a = lseek(sfd, (off_t)off, SEEK_DATA), b;
		if (a < 0 && errno == ENXIO) {
			off = d->size; /* only a hole follows */
			break;
		}
		if (a < 0) { /* no SEEK_DATA: everything is data */
			a = (off_t)off;
			b = (off_t)d->size;
		} else {
			b = lseek(sfd, a, SEEK_HOLE);
			if (b < 0 || (uint64_t)b > d->size)
				b = (off_t)d->size;
		}
		uint64_t n = (uint64_t)(b - a) < budget ? (uint64_t)(b - a) : budget;
		/* Not fresh: after a crash the replica's range may hold an earlier copy. */
		rc = copy_range(d, sfd, (uint64_t)a, n, false, buf);
		off = (uint64_t)a + n;
		budget -= n;
	}
	free(buf);
	close(sfd);
	if (!rc && fdatasync(d->rfd))
		rc = -errno;
	if (rc)
		return rc;
	pthread_mutex_lock(&d->mu);
	d->copy_off = off;
	pthread_mutex_unlock(&d->mu);
	if (off < d->size)
		return save_copy(d);
	d->shipped = 0;
	rc = save_seq(d);
	if (!rc && unlink(d->copyf) && errno != ENOENT)
		rc = -errno;
	if (rc)
		return rc;
	pthread_mutex_lock(&d->mu);
	d->state = REPL_PROTECTED;
	d->changed = true; /* the first point is due now */
	pthread_mutex_unlock(&d->mu);
	return 0;
}

int
repl_add_disk(struct repl *r, const char *name, const char *source)
{
	if (!store_name_ok(name) || disk_find(r, name))
		return -EINVAL;
	struct rdisk *d = lib_xcalloc(1, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->source = lib_xstrdup(source);
	d->jdir = path_of(r->work, "journal/", name, "");
	d->img = path_of(r->work, "replica/", name, ".img");
	d->seqf = path_of(r->work, "replica/", name, ".seq");
	d->copyf = path_of(r->work, "replica/", name, ".copy");
	d->rfd = -1;
	d->group = -1;
	d->churn_ms = now_ms();
	pthread_mutex_init(&d->mu, NULL);
	*(struct rdisk **)lib_vec_push(&r->disks) = d;
	int rc = lib_mkdir_p(d->jdir);
	if (!rc)
		rc = disk_open(r, d);
	if (!rc && d->state == REPL_PROTECTED) {
		/* A restart: what the journal holds, and the crash's extents, before any
		 * client; the point follows at the first tick. */
		pthread_mutex_lock(&r->ship);
		rc = apply_disk(d, 0);
		pthread_mutex_unlock(&r->ship);
	}
	return rc;
}

int
repl_add_group(struct repl *r, const char *name, const char *const *disks, size_t n)
{
	if (!store_name_ok(name) || n == 0)
		return -EINVAL;
	for (size_t i = 0; i < r->groups.n; i++)
		if (!strcmp(((struct rgroup *)r->groups.v)[i].name, name))
			return -EEXIST;
	size_t *ix = lib_xcalloc(n, sizeof(*ix));
	for (size_t i = 0; i < n; i++) {
		struct rdisk *d = disk_find(r, disks[i]);
		size_t k = 0;
		while (d && disk_at(r, k) != d)
			k++;
		if (!d || d->group >= 0) {
			free(ix);
			return d ? -EEXIST : -ENOENT;
		}
		ix[i] = k;
		for (size_t m = 0; m < i; m++)
			if (ix[m] == k) {
				free(ix);
				return -EINVAL;
			}
	}
	qsort(ix, n, sizeof(*ix), cmp_size);
	struct rgroup *g = lib_vec_push(&r->groups);
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->n = n;
	g->disks = ix;
	for (size_t i = 0; i < n; i++)
		disk_at(r, ix[i])->group = (int)(r->groups.n - 1);
	/* The group's last point: its newest recorded group point. */
	struct store_group_point *gps;
	size_t ng;
	if (store_list_groups(r->st, name, &gps, &ng) == 0) {
		if (ng)
			g->last_time = gps[ng - 1].time;
		store_groups_free(gps, ng);
	}
	return 0;
}

/* ---- hooks: NBD connection threads --------------------------------------------------- */

static int
hook_append(void *ctx, const char *export, uint64_t off, uint32_t len, uint32_t flags,
            const void *data)
{
	struct rdisk *d = disk_find(ctx, export);
	if (!d)
		return -ENOENT;
	int64_t t = now_ms();
	pthread_mutex_lock(&d->mu);
	uint64_t seq;
	int rc = jnl_append(d->j, off, len, flags, data, &seq);
	if (rc == 0) {
		d->written += len;
		if (!d->pend_ms)
			d->pend_ms = t;
	}
	pthread_mutex_unlock(&d->mu);
	return rc;
}

static int
on_write(void *ctx, const char *export, uint64_t off, const void *data, uint32_t len, bool fua)
{
	return hook_append(ctx, export, off, len, fua ? JNL_F_FUA : 0, data);
}

static int
on_trim(void *ctx, const char *export, uint64_t off, uint32_t len, bool fua)
{
	return hook_append(ctx, export, off, len, JNL_F_TRIM | (fua ? JNL_F_FUA : 0), NULL);
}

static int
on_zero(void *ctx, const char *export, uint64_t off, uint32_t len, bool fua)
{
	return hook_append(ctx, export, off, len, JNL_F_ZERO | (fua ? JNL_F_FUA : 0), NULL);
}

static int
on_flush(void *ctx, const char *export)
{
	struct rdisk *d = disk_find(ctx, export);
	if (!d)
		return -ENOENT;
	pthread_mutex_lock(&d->mu);
	int rc = jnl_flush(d->j, NULL);
	pthread_mutex_unlock(&d->mu);
	return rc;
}

int
repl_attach(struct repl *r, struct nbd_server **out)
{
	static const struct nbd_hooks hooks = {
	    .on_write = on_write, .on_flush = on_flush, .on_trim = on_trim, .on_zero = on_zero};
	struct nbd_server *s;
	int rc = nbd_server_new(&hooks, r, &s);
	if (rc)
		return rc;
	for (size_t i = 0; i < r->disks.n && !rc; i++)
		rc = nbd_server_add_export(s, disk_at(r, i)->name, disk_at(r, i)->source, false);
	if (rc) {
		nbd_server_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* ---- the shipper ------------------------------------------------------------------------- */

static int
apply(struct rdisk *d, const struct jnl_rec *rec)
{
	if (rec->flags & JNL_F_FLUSH)
		return 0;
	mark(d, rec->off, rec->len);
	if (rec->flags & (JNL_F_TRIM | JNL_F_ZERO)) {
		/* A trimmed range reads as zeros on the source (hole punch), so zero it. */
		if (fallocate(d->rfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)rec->off,
		              (off_t)rec->len) == 0)
			return 0;
		uint8_t z[65536] = {0};
		for (uint64_t o = 0; o < rec->len; o += sizeof(z)) {
			size_t n = rec->len - o < sizeof(z) ? (size_t)(rec->len - o) : sizeof(z);
			int rc = lib_pwrite_all(d->rfd, z, n, rec->off + o);
			if (rc)
				return rc;
		}
		return 0;
	}
	return lib_pwrite_all(d->rfd, rec->data, rec->dlen, rec->off);
}

/* Applies the journal to the replica up to limit (exclusive; 0: everything
 * journaled now), then the crash's extents and the overflow's dirty extents
 * from the source; the replica durable, .seq saved, the journal released.
 * Sets d->changed when anything was applied; *barrier: the applied prefix
 * ends at a flush barrier (may be NULL). Under repl.ship. */
static int
apply_disk(struct rdisk *d, uint64_t limit)
{
	/* The records before limit are complete in the segment files, so they are read
	 * and applied without the lock: writers go on while the replica catches up. Only
	 * the shipper releases segments, so none vanish under the iterator. */
	pthread_mutex_lock(&d->mu);
	if (!limit)
		limit = jnl_next_seq(d->j);
	int64_t pend = d->pend_ms;
	d->pend_ms = 0;
	if (pend && !d->appl_ms)
		d->appl_ms = pend;
	pthread_mutex_unlock(&d->mu);
	uint64_t from = d->shipped + 1, last = d->shipped, bytes = 0;
	bool barrier = false;
	struct jnl_iter *it = NULL;
	int rc = from < limit ? jnl_iter_open(d->jdir, from, &it) : 0;
	while (!rc && it) {
		struct jnl_rec rec;
		int got = jnl_iter_next(it, &rec);
		if (got <= 0 || rec.seq >= limit) {
			rc = got < 0 ? got : 0;
			break;
		}
		rc = apply(d, &rec);
		last = rec.seq;
		bytes += rec.len;
		barrier = (rec.flags & JNL_F_FLUSH) != 0;
	}
	if (it)
		jnl_iter_close(it);
	if (rc == -ENOENT)
		rc = 0; /* no segment yet */
	pthread_mutex_lock(&d->mu);
	bool bitmap = jnl_bitmap_mode(d->j);
	bool recovered = d->npending > 0;
	if (!rc && recovered) {
		rc = resync_extents(d, d->pending, d->npending, JNL_AL_SHIFT);
		if (!rc) {
			free(d->pending);
			d->pending = NULL;
			d->npending = 0;
		}
	}
	if (!rc && bitmap) {
		/* The journal overflowed: copy the dirty extents, then leave bitmap mode. */
		struct lib_vec ext = {0};
		lib_vec_init(&ext, sizeof(uint64_t));
		uint64_t e = 0;
		while (jnl_bitmap_next(d->j, e, &e) == 0) {
			*(uint64_t *)lib_vec_push(&ext) = e;
			e++;
		}
		rc = resync_extents(d, ext.v, ext.n, JNL_BM_SHIFT);
		lib_vec_free(&ext);
		if (!rc)
			rc = jnl_bitmap_clear(d->j);
	}
	bool changed = last != d->shipped || bitmap || recovered;
	if (!rc && changed && fdatasync(d->rfd))
		rc = -errno;
	if (!rc && changed) {
		d->shipped = last;
		rc = save_seq(d);
	}
	if (!rc && changed)
		rc = jnl_release(d->j, d->shipped + 1);
	if (!rc && changed) {
		d->applied += bytes;
		d->changed = true;
		/* The source's extents are newer than any barrier. */
		d->barrier = barrier && !bitmap && !recovered;
	}
	pthread_mutex_unlock(&d->mu);
	return rc;
}

static void
set_err(struct rdisk *d, int rc)
{
	pthread_mutex_lock(&d->mu);
	d->err = rc < 0 ? rc : 0;
	if (d->state != REPL_COPYING)
		d->state = rc < 0 ? REPL_ERROR : REPL_PROTECTED;
	pthread_mutex_unlock(&d->mu);
}

/* Copies a slice of an unfinished initial copy, or applies the journal.
 * Returns 1 when the disk is ready for a point, 0 while it copies, or -errno. */
static int
advance(struct repl *r, struct rdisk *d)
{
	if (d->state == REPL_COPYING) {
		int rc = r->closing ? 0 : copy_step(d);
		if (rc || d->state == REPL_COPYING)
			return rc;
	}
	int rc = apply_disk(d, 0);
	return rc < 0 ? rc : 1;
}

static bool
due(const struct repl *r, const struct rdisk *d, int64_t last_time, int64_t now, bool force)
{
	return force || !d->last_point ||
	       (d->changed && (r->closing || now - last_time >= r->interval));
}

/* Whether to apply the journal now: a point is due, or the backlog is large.
 * Applying only then lets a block rewritten within an interval reach the
 * replica's disk once (each apply ends in an fdatasync of the replica). */
#define APPLY_BACKLOG (256ull << 20)
static bool
want_apply(const struct repl *r, struct rdisk *d, int64_t last_time, int64_t now, bool force)
{
	pthread_mutex_lock(&d->mu);
	bool pending = d->pend_ms != 0 || d->changed;
	bool big = d->written - d->applied >= APPLY_BACKLOG;
	pthread_mutex_unlock(&d->mu);
	return force || !d->last_point || big || d->npending || jnl_bitmap_mode(d->j) ||
	       (pending && (r->closing || now - last_time >= r->interval));
}

static int
ship_one(struct repl *r, struct rdisk *d, int64_t now, bool force)
{
	if (d->state != REPL_COPYING && !want_apply(r, d, d->last_time, now, force))
		return 0;
	int rc = advance(r, d);
	if (rc > 0 && due(r, d, d->last_time, now, force)) {
		rc = cut_point(r, d, now, d->barrier ? STORE_APP : STORE_CRASH);
		return rc < 0 ? rc : 1;
	}
	return rc < 0 ? rc : 0;
}

/* A group: every member's journal cut at one instant (all their locks held;
 * a barrier each when mark), applied, then a point per member and one group
 * point over them. Returns 1 when the group point was written. */
static int
ship_group(struct repl *r, struct rgroup *g, int64_t now, bool force, bool mark)
{
	uint64_t *limit = lib_xcalloc(g->n, sizeof(*limit));
	int rc = 0;
	bool ready = true;
	for (size_t i = 0; i < g->n && !rc; i++) {
		struct rdisk *d = disk_at(r, g->disks[i]);
		if (d->state == REPL_COPYING) {
			rc = r->closing ? 0 : copy_step(d);
			ready = ready && d->state != REPL_COPYING;
		}
	}
	bool want = mark;
	for (size_t i = 0; i < g->n && !want; i++)
		want = want_apply(r, disk_at(r, g->disks[i]), g->last_time, now, force);
	if (rc || !ready || !want) {
		free(limit);
		return rc ? rc : mark && !ready ? -EAGAIN : 0;
	}
	for (size_t i = 0; i < g->n; i++)
		pthread_mutex_lock(&disk_at(r, g->disks[i])->mu);
	for (size_t i = 0; i < g->n && !rc; i++) {
		struct rdisk *d = disk_at(r, g->disks[i]);
		uint64_t b;
		if (mark && (rc = jnl_flush(d->j, &b)) == 0)
			limit[i] = b + 1;
		else
			limit[i] = jnl_next_seq(d->j);
	}
	for (size_t i = g->n; i-- > 0;)
		pthread_mutex_unlock(&disk_at(r, g->disks[i])->mu);
	bool any = false, fresh = false;
	for (size_t i = 0; i < g->n && !rc; i++) {
		struct rdisk *d = disk_at(r, g->disks[i]);
		rc = apply_disk(d, limit[i]);
		set_err(d, rc);
		any = any || d->changed;
		fresh = fresh || !d->last_point;
	}
	free(limit);
	if (rc ||
	    !(force || mark || fresh || (any && (r->closing || now - g->last_time >= r->interval))))
		return rc;
	enum store_kind kind = mark ? STORE_APP : STORE_CRASH;
	struct store_member *m = lib_xcalloc(g->n, sizeof(*m));
	for (size_t i = 0; i < g->n && !rc; i++) {
		struct rdisk *d = disk_at(r, g->disks[i]);
		if (d->changed || force || mark || !d->last_point)
			rc = cut_point(r, d, now, kind);
		snprintf(m[i].disk, sizeof(m[i].disk), "%s", d->name);
		m[i].point = d->last_point;
	}
	uint64_t seq;
	if (!rc)
		rc = store_write_group(r->st, g->name, m, g->n, now, kind, &seq);
	free(m);
	if (!rc)
		g->last_time = now;
	return rc ? rc : 1;
}

int
repl_ship(struct repl *r, int64_t now, bool force)
{
	int cut = 0, first = 0;
	pthread_mutex_lock(&r->ship);
	for (size_t i = 0; i < r->groups.n; i++) {
		int rc = ship_group(r, &((struct rgroup *)r->groups.v)[i], now, force, false);
		if (rc < 0 && !first)
			first = rc;
		cut += rc > 0;
	}
	int64_t t = now_ms();
	for (size_t i = 0; i < r->disks.n; i++) {
		struct rdisk *d = disk_at(r, i);
		if (d->group < 0) {
			int rc = ship_one(r, d, now, force);
			set_err(d, rc);
			if (rc < 0 && !first)
				first = rc;
			cut += rc > 0;
		}
		/* churn: bytes written per second, averaged over about 10 s */
		pthread_mutex_lock(&d->mu);
		double dt = (double)(t - d->churn_ms) / 1000.0;
		if (dt >= 0.5) {
			double rate = (double)(d->written - d->churn_bytes) / dt;
			double a = dt >= 10 ? 1.0 : dt / 10.0;
			d->churn = d->churn * (1 - a) + rate * a;
			d->churn_bytes = d->written;
			d->churn_ms = t;
		}
		pthread_mutex_unlock(&d->mu);
	}
	pthread_mutex_unlock(&r->ship);
	return first ? first : cut;
}

int
repl_mark(struct repl *r, const char *name, int64_t now)
{
	int cut = 0, rc = 0;
	bool found = false;
	pthread_mutex_lock(&r->ship);
	for (size_t i = 0; i < r->groups.n && rc >= 0; i++) {
		struct rgroup *g = &((struct rgroup *)r->groups.v)[i];
		bool hit = !name || !strcmp(name, g->name);
		for (size_t k = 0; k < g->n && !hit; k++)
			hit = !strcmp(name, disk_at(r, g->disks[k])->name);
		if (!hit)
			continue;
		found = true;
		rc = ship_group(r, g, now, false, true);
		cut += rc > 0;
	}
	for (size_t i = 0; i < r->disks.n && rc >= 0; i++) {
		struct rdisk *d = disk_at(r, i);
		if (d->group >= 0 || (name && strcmp(name, d->name)))
			continue;
		found = true;
		if (d->state == REPL_COPYING) {
			rc = -EAGAIN;
			break;
		}
		uint64_t b = 0;
		pthread_mutex_lock(&d->mu);
		rc = jnl_flush(d->j, &b);
		pthread_mutex_unlock(&d->mu);
		if (!rc)
			rc = apply_disk(d, b + 1);
		if (!rc)
			rc = cut_point(r, d, now, STORE_APP);
		set_err(d, rc);
		cut += !rc;
	}
	pthread_mutex_unlock(&r->ship);
	if (!found)
		return -ENOENT;
	return rc < 0 ? rc : cut;
}

size_t
repl_ndisks(const struct repl *r)
{
	return r->disks.n;
}

int
repl_status(struct repl *r, size_t i, struct repl_disk_status *s)
{
	if (i >= r->disks.n)
		return -EINVAL;
	struct rdisk *d = disk_at(r, i);
	int64_t t = now_ms();
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", d->name);
	if (d->group >= 0)
		snprintf(s->group, sizeof(s->group), "%s",
		         ((struct rgroup *)r->groups.v)[d->group].name);
	pthread_mutex_lock(&d->mu);
	s->size = d->size;
	s->state = d->state;
	s->err = d->err;
	s->copied = d->state == REPL_COPYING ? d->copy_off : d->size;
	s->next_seq = jnl_next_seq(d->j);
	s->shipped = d->shipped;
	s->written = d->written;
	s->backlog = d->written - d->applied;
	s->journal = jnl_bytes(d->j);
	s->bitmap = jnl_bitmap_mode(d->j);
	if (s->bitmap && s->state == REPL_PROTECTED)
		s->state = REPL_RESYNC;
	s->churn = d->churn;
	int64_t oldest =
	    d->appl_ms && (!d->pend_ms || d->appl_ms < d->pend_ms) ? d->appl_ms : d->pend_ms;
	s->rpo_ms = oldest ? (t > oldest ? t - oldest : 0) : 0;
	s->last_point = d->last_point;
	s->last_time = d->last_time;
	s->last_kind = d->last_kind;
	pthread_mutex_unlock(&d->mu);
	return 0;
}

int
repl_close(struct repl *r, int64_t now)
{
	if (!r)
		return 0;
	r->closing = true;
	int rc = repl_ship(r, now, false);
	for (size_t i = 0; i < r->disks.n; i++) {
		struct rdisk *d = disk_at(r, i);
		if (d->j) {
			int c = jnl_close(d->j);
			if (!rc && c)
				rc = c;
		}
		if (d->rfd >= 0)
			close(d->rfd);
		pthread_mutex_destroy(&d->mu);
		free(d->source);
		free(d->jdir);
		free(d->img);
		free(d->seqf);
		free(d->copyf);
		free(d->pending);
		free(d->dirty);
		free(d);
	}
	for (size_t i = 0; i < r->groups.n; i++)
		free(((struct rgroup *)r->groups.v)[i].disks);
	lib_vec_free(&r->groups);
	lib_vec_free(&r->disks);
	pthread_mutex_destroy(&r->ship);
	free(r->work);
	free(r);
	return rc < 0 ? rc : 0;
}
