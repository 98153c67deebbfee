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
	char *source, *jdir, *img, *seqf;
	uint64_t size;
	struct jnl *j;
	int rfd; /* the replica */
	uint64_t shipped;
	uint64_t last_point;
	int64_t last_time;
	uint32_t chunk;    /* the store's chunk size for the disk, once it has a point */
	uint64_t *dirty;   /* bitmap: chunks changed since the last point (1 bit per chunk) */
	uint64_t *pending; /* activity-log extents to copy from the source after a crash */
	size_t npending;
	pthread_mutex_t mu;
};

struct repl {
	char *work;
	struct store *st;
	struct lib_vec disks; /* struct rdisk * */
};

/* dir/sub/name + ext, on the heap */
static char *
path_of(const char *dir, const char *sub, const char *name, const char *ext)
{
	struct lib_buf p = {0};
	lib_buf_printf(&p, "%s/%s%s%s", dir, sub, name, ext);
	return p.s;
}

static int
mkdir_p(const char *dir)
{
	char *d = lib_xstrdup(dir);
	for (char *s = d + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(d, 0700) && errno != EEXIST) {
			free(d);
			return -errno;
		}
		*s = '/';
	}
	int rc = mkdir(d, 0700) && errno != EEXIST ? -errno : 0;
	free(d);
	return rc;
}

int
repl_open(const char *work, struct store *st, struct repl **out)
{
	char *j = path_of(work, "journal", "", ""), *r = path_of(work, "replica", "", "");
	int rc = mkdir_p(j);
	if (!rc)
		rc = mkdir_p(r);
	free(j);
	free(r);
	if (rc)
		return rc;
	struct repl *x = lib_xcalloc(1, sizeof(*x));
	x->work = lib_xstrdup(work);
	x->st = st;
	lib_vec_init(&x->disks, sizeof(struct rdisk *));
	*out = x;
	return 0;
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

/* The initial copy: only the source's data extents (SEEK_DATA), into a fresh
 * sparse replica. */
static int
copy_data(struct rdisk *d, int sfd, uint8_t *buf)
{
	uint64_t off = 0;
	while (off < d->size) {
		off_t a = lseek(sfd, (off_t)off, SEEK_DATA), b;
		if (a < 0 && errno == ENXIO)
			return 0; /* only a hole follows */
		if (a < 0)        /* no SEEK_DATA: copy the rest */
			return copy_range(d, sfd, off, d->size - off, true, buf);
		b = lseek(sfd, a, SEEK_HOLE);
		if (b < 0 || (uint64_t)b > d->size)
			b = (off_t)d->size;
		int rc = copy_range(d, sfd, (uint64_t)a, (uint64_t)(b - a), true, buf);
		if (rc)
			return rc;
		off = (uint64_t)b;
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
		d->last_point = seq;
		d->last_time = now;
		if (!d->dirty && store_point_info(r->st, d->name, seq, &p) == 0)
			set_chunk(d, p.chunk_size);
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

static int ship_disk(struct repl *r, struct rdisk *d, int64_t now, bool force);

static int
disk_open(struct repl *r, struct rdisk *d)
{
	struct stat sb;
	int sfd = open(d->source, O_RDONLY | O_CLOEXEC);
	if (sfd < 0)
		return -errno;
	off_t end = lseek(sfd, 0, SEEK_END);
	if (end <= 0) {
		close(sfd);
		return end < 0 ? -errno : -EINVAL;
	}
	d->size = (uint64_t)end;
	bool fresh = stat(d->img, &sb) != 0;
	d->rfd = open(d->img, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	int rc = d->rfd < 0 ? -errno : 0;
	if (!rc && fresh) {
		/* The initial copy: sparse-aware, then durable, then the first point. */
		uint8_t *buf = lib_xmalloc(COPY_BUF);
		if (ftruncate(d->rfd, (off_t)d->size))
			rc = -errno;
		if (!rc)
			rc = copy_data(d, sfd, buf);
		free(buf);
		if (!rc && fdatasync(d->rfd))
			rc = -errno;
	}
	close(sfd);
	/* DRBD's default activity log since 8.4: 1237 extents of 4 MiB (4.8 GiB hot). */
	struct jnl_opts jo = {.al_extents = 1237};
	if (!rc)
		rc = jnl_open(d->jdir, &jo, &d->j);
	if (rc)
		return rc;
	if (fresh) {
		d->shipped = jnl_next_seq(d->j) - 1;
		rc = save_seq(d);
		if (!rc)
			rc = cut_point(r, d, (int64_t)time(NULL), STORE_CRASH);
		return rc;
	}
	char *txt;
	size_t n;
	rc = lib_read_file(d->seqf, &txt, &n);
	if (rc)
		return rc;
	d->shipped = strtoull(txt, NULL, 10);
	free(txt);
	/* Crash recovery: the extents that may differ are copied from the source by the
	 * first ship, after the journal is applied (the source is newer than any record). */
	rc = jnl_recover(d->j, &d->pending, &d->npending);
	struct store_point *pts;
	size_t np;
	if (!rc && !store_list_points(r->st, d->name, &pts, &np)) {
		if (np) {
			d->last_point = pts[np - 1].seq;
			d->last_time = pts[np - 1].time;
			/* No dirty map yet: the replica may hold shipped records the newest point
			 * lacks (a crash between the two), so the first point reads it all. */
		}
		free(pts);
	}
	return rc;
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
	d->rfd = -1;
	pthread_mutex_init(&d->mu, NULL);
	*(struct rdisk **)lib_vec_push(&r->disks) = d;
	int rc = mkdir_p(d->jdir);
	if (!rc)
		rc = disk_open(r, d);
	if (!rc) { /* a restart: what the journal holds, and the crash's extents, before any client
		    */
		rc = ship_disk(r, d, (int64_t)time(NULL), false);
		rc = rc < 0 ? rc : 0;
	}
	return rc;
}

/* ---- hooks: NBD connection threads --------------------------------------------------- */

static int
hook_append(void *ctx, const char *export, uint64_t off, uint32_t len, uint32_t flags,
            const void *data)
{
	struct rdisk *d = disk_find(ctx, export);
	if (!d)
		return -ENOENT;
	pthread_mutex_lock(&d->mu);
	uint64_t seq;
	int rc = jnl_append(d->j, off, len, flags, data, &seq);
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

static int
ship_disk(struct repl *r, struct rdisk *d, int64_t now, bool force)
{
	/* The records before limit are complete in the segment files, so they are read
	 * and applied without the lock: writers go on while the replica catches up. Only
	 * the shipper releases segments, so none vanish under the iterator. */
	pthread_mutex_lock(&d->mu);
	uint64_t limit = jnl_next_seq(d->j);
	pthread_mutex_unlock(&d->mu);
	uint64_t from = d->shipped + 1, last = d->shipped;
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
	pthread_mutex_unlock(&d->mu);
	if (rc || (!changed && !force))
		return rc < 0 ? rc : 0;
	rc = cut_point(r, d, now, barrier ? STORE_APP : STORE_CRASH);
	return rc < 0 ? rc : 1;
}

int
repl_ship(struct repl *r, int64_t now, bool force)
{
	int cut = 0;
	for (size_t i = 0; i < r->disks.n; i++) {
		int rc = ship_disk(r, disk_at(r, i), now, force);
		if (rc < 0)
			return rc;
		cut += rc;
	}
	return cut;
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
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", d->name);
	pthread_mutex_lock(&d->mu);
	s->size = d->size;
	s->next_seq = jnl_next_seq(d->j);
	s->shipped = d->shipped;
	s->backlog = jnl_bytes(d->j);
	s->bitmap = jnl_bitmap_mode(d->j);
	s->last_point = d->last_point;
	s->last_time = d->last_time;
	pthread_mutex_unlock(&d->mu);
	return 0;
}

int
repl_close(struct repl *r, int64_t now)
{
	if (!r)
		return 0;
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
		free(d->pending);
		free(d->dirty);
		free(d);
	}
	lib_vec_free(&r->disks);
	free(r->work);
	free(r);
	return rc < 0 ? rc : 0;
}
