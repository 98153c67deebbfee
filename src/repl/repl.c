/*
 * repl.c - the protected side of replication (see repl.h): journaling hooks,
 * the shipper, the initial copy, resyncs and marks.
 *
 * Lock order: an export's write lock (held by the NBD server around a write
 * and its hook, and by the shipper around a source read and its RESYNC
 * record), then the disk's mutex, then qmu (a leaf). The shipper is one
 * thread; it alone sends, releases journal segments and reads the source.
 *
 * Work list: between full rounds (every disk, once a tick) the shipper visits
 * only the disks on the queue: a hook or a mark that appended to a disk's
 * journal queues it (once: d->queued), and a visit that leaves it with records
 * unsent or unacknowledged, or a copy or resync going on, queues it again. So
 * 10,000 quiet disks cost nothing while one streams. The first disk queued on
 * an empty queue wakes the shipper (repl_set_wake): a write to a quiet disk
 * leaves at once, not at the next tick.
 */
#include "repl/repl.h"

#include "lib/lib.h"
#include "repl/jnl.h"
#include "repl/nbd.h"
#include "repl/tgt.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define COPY_PIECE    (1u << 20)     /* one RESYNC record */
#define COPY_SLICE    (256ull << 20) /* of the initial copy per tick */
#define COPY_AHEAD    (256ull << 20) /* unacknowledged bytes a copy or resync runs ahead */
#define SEND_BATCH    (64ull << 20)  /* journal bytes sent per disk per tick */
#define RPO_SAMPLE_MS 100
#define JOURNAL_MIN   (1ull << 30) /* default capacity: the disk's size, at least 1 GiB, */
#define JOURNAL_MAX   (8ull << 30) /* at most 8 GiB */
#define AL_DEFAULT    1237u        /* DRBD's since 8.4: 4 MiB extents, 4.8 GiB hot */
#define AL_MIN        7u           /* DRBD's least */

struct rpo_sample {
	uint64_t seq;
	int64_t ms;
};

struct in_flight { /* a record sent, not yet acknowledged */
	uint64_t seq, bytes;
};

struct copy_mark { /* the copy is delivered up to off once seq is acknowledged */
	uint64_t seq, off;
};

struct rdisk {
	char name[STORE_NAME_MAX + 1];
	size_t idx;         /* in repl.disks */
	atomic_bool queued; /* on repl.queue */
	char *source, *jdir, *copyf;
	uint64_t size;
	struct jnl *j;
	int group; /* index in repl.groups, -1 */
	struct xp_sender *tx;
	/* Under mu (the status reads them too). */
	enum repl_state state;
	char error[192];
	uint64_t copy_off;
	struct lib_vec copy_marks; /* struct copy_mark, ascending */
	uint64_t copy_acked;       /* the copy's offset the target holds */
	uint64_t jcap;             /* the journal's capacity */
	uint64_t synced_seq;       /* the SYNCED marker of a copy or resync, until acked */
	uint64_t sent, acked, covered;
	uint64_t last_point;
	int64_t last_time;
	enum store_kind last_kind;
	uint64_t written;
	uint64_t appended, acked_bytes; /* payload bytes journaled, and acknowledged */
	struct lib_vec inflight;        /* struct in_flight */
	double churn;
	uint64_t churn_bytes;
	int64_t churn_ms;
	struct lib_vec rpo;  /* struct rpo_sample, ascending */
	uint64_t mark_seq;   /* a MARK waiting for its point, 0 */
	uint64_t last_write; /* seq of the newest client write */
	uint64_t high; /* the journal's last record at open: an earlier run may have sent it */
	/* A seeded target (reprotect): the seed's checksums, per seed_block bytes. */
	bool seeded;
	bool open_err; /* error holds why the link could not be made */
	uint32_t seed_block;
	uint64_t *seed_sums;
	size_t seed_n, seed_have;
	uint64_t seed_sent, seed_skipped; /* blocks */
	uint64_t cut_at;                  /* seq of the newest group CUT marker */
	/* The shipper's own. */
	struct jnl_iter *it; /* at the record after sent, kept between visits (or NULL) */
	uint64_t *resync;    /* extents to resend from the source, and their shift */
	size_t nresync, iresync;
	unsigned rshift;
	pthread_mutex_t mu;
};

struct rgroup {
	char name[STORE_NAME_MAX + 1];
	size_t n;
	size_t *disks; /* indexes, ascending: the lock order */
	uint64_t cut;
	int64_t last_time;
};

struct repl {
	char *work;
	struct repl_target tg;
	char *host;
	int64_t interval;
	uint64_t journal_max;   /* 0: JOURNAL_MAX or the disk's size */
	uint32_t al_extents;    /* 0: AL_DEFAULT */
	struct nbd_server *srv; /* after repl_attach */
	struct lib_vec disks;   /* struct rdisk * */
	struct lib_map byname;  /* name -> index in disks: made before repl_attach, then read
	                           by the NBD threads without a lock */
	struct lib_vec groups;  /* struct rgroup */
	pthread_mutex_t qmu;
	struct lib_vec queue; /* size_t: disks to visit before the next full round */
	bool busy, pending;   /* what the last round left (repl_busy, repl_pending) */
	bool unreachable;     /* this round's connect to the target failed (link_up) */
	void (*wake)(void *); /* the shipper's, called when the queue stops being empty */
	void *wake_arg;
};

/* Puts d on the work list (see the top), waking the shipper when the list was
 * empty (not from the shipper itself: its own round's leftovers wait for the
 * pace it keeps). d's mutex may be held. */
static void
enqueue(struct repl *r, struct rdisk *d, bool wake_shipper)
{
	if (atomic_exchange(&d->queued, true))
		return;
	pthread_mutex_lock(&r->qmu);
	bool first = r->queue.n == 0;
	*(size_t *)lib_vec_push(&r->queue) = d->idx;
	void (*wake)(void *) = wake_shipper && first ? r->wake : NULL;
	void *arg = r->wake_arg;
	pthread_mutex_unlock(&r->qmu);
	if (wake)
		wake(arg);
}

static void
kick(struct repl *r, struct rdisk *d)
{
	enqueue(r, d, true);
}

void
repl_set_wake(struct repl *r, void (*wake)(void *), void *arg)
{
	pthread_mutex_lock(&r->qmu);
	r->wake = wake;
	r->wake_arg = arg;
	pthread_mutex_unlock(&r->qmu);
}

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

static struct rdisk *
disk_at(const struct repl *r, size_t i)
{
	return ((struct rdisk **)r->disks.v)[i];
}

/* The disk named name: a table, so an NBD hook's write costs one lookup however many
 * disks there are (a scan touched each disk's memory: 10,000 cache misses a write at
 * 10,000 disks). */
static struct rdisk *
disk_find(const struct repl *r, const char *name)
{
	uint64_t i;
	return lib_map_get(&r->byname, name, &i) ? disk_at(r, (size_t)i) : NULL;
}

static int
cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

int
repl_open(const char *work, const struct repl_target *tg, struct repl **out)
{
	struct lib_buf j = {0};
	lib_buf_printf(&j, "%s/journal", work);
	int rc = lib_mkdir_p(j.s);
	lib_buf_free(&j);
	if (rc)
		return rc;
	struct repl *x = lib_xcalloc(1, sizeof(*x));
	x->work = lib_xstrdup(work);
	x->tg = *tg;
	x->host = lib_xstrdup(tg->host ? tg->host : "127.0.0.1");
	x->tg.host = x->host;
	x->interval = 300;
	lib_vec_init(&x->disks, sizeof(struct rdisk *));
	lib_map_init(&x->byname);
	lib_vec_init(&x->groups, sizeof(struct rgroup));
	lib_vec_init(&x->queue, sizeof(size_t));
	pthread_mutex_init(&x->qmu, NULL);
	*out = x;
	return 0;
}

void
repl_set_interval(struct repl *r, int64_t secs)
{
	r->interval = secs > 0 ? secs : 1;
}

/* ---- disks -------------------------------------------------------------------------- */

static int
save_copy(struct rdisk *d)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%" PRIu64 "\n", d->copy_off);
	return lib_write_atomic(d->copyf, b, (size_t)n);
}

void
repl_set_journal_max(struct repl *r, uint64_t bytes)
{
	r->journal_max = bytes;
}

void
repl_set_al_extents(struct repl *r, uint32_t n)
{
	r->al_extents = n;
}

int
repl_parse_al(const char *s, uint32_t *n, char *why, size_t whylen)
{
	char *end = NULL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || *s == '-' || v < AL_MIN || v > JNL_AL_MAX) {
		snprintf(why, whylen,
		         "bad --activity-log '%s' (expected extents of 4 MiB, %u to %u; %u "
		         "covers 4.8 GiB)",
		         s, AL_MIN, JNL_AL_MAX, AL_DEFAULT);
		return -1;
	}
	*n = (uint32_t)v;
	return 0;
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
	/* A new disk: its journal directory is new; the copy's progress file is made
	 * before the journal opens, so a crash at any moment finds it. */
	bool fresh = stat(d->jdir, &sb) != 0;
	int rc = fresh ? save_copy(d) : 0;
	if (!rc)
		rc = lib_mkdir_p(d->jdir);
	/* Past its capacity the journal keeps a dirty bitmap instead (a link down longer
	 * than it holds): a resync of the changed extents follows. */
	uint64_t cap = r->journal_max          ? r->journal_max
	               : d->size < JOURNAL_MIN ? JOURNAL_MIN
	               : d->size < JOURNAL_MAX ? d->size
	                                       : JOURNAL_MAX;
	/* segments an eighth of the capacity: acknowledged ones are released whole */
	uint64_t seg = cap / 8 < (1u << 20)    ? (1u << 20)
	               : cap / 8 > (64u << 20) ? (64u << 20)
	                                       : cap / 8;
	struct jnl_opts jo = {.al_extents = r->al_extents ? r->al_extents : AL_DEFAULT,
	                      .capacity = cap,
	                      .seg_size = seg,
	                      .disk_size = d->size};
	d->jcap = cap;
	if (!rc)
		rc = jnl_open(d->jdir, &jo, &d->j);
	if (rc)
		return rc;
	d->high = jnl_last_seq(d->j); /* not past a jump: nothing was sent there */
	if (stat(d->copyf, &sb) == 0) {
		char *txt;
		size_t n;
		if ((rc = lib_read_file(d->copyf, &txt, &n)) == 0) {
			d->copy_off = strtoull(txt, NULL, 10);
			free(txt);
		}
		d->copy_acked = d->copy_off; /* journaled before the crash: delivered in turn */
		d->state = REPL_COPYING;
		return rc;
	}
	d->state = REPL_PROTECTED;
	/* Crash recovery: the activity log's extents are resent from the source once
	 * the journal's records are out (they are journaled after them). */
	rc = jnl_recover(d->j, &d->resync, &d->nresync);
	d->rshift = JNL_AL_SHIFT;
	/* ... and a bitmap's (an overflow, a resync unfinished at the last stop) once
	 * the journal's records are acknowledged (bitmap_step). */
	if (!rc && (d->nresync || jnl_bitmap_mode(d->j)))
		d->state = REPL_RESYNC;
	return rc;
}

int
repl_add_disk(struct repl *r, const char *name, const char *source)
{
	if (r->srv)
		return -EBUSY;
	if (!store_name_ok(name) || disk_find(r, name))
		return -EINVAL;
	struct rdisk *d = lib_xcalloc(1, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->source = lib_xstrdup(source);
	struct lib_buf jd = {0}, cf = {0};
	lib_buf_printf(&jd, "%s/journal/%s", r->work, name);
	lib_buf_printf(&cf, "%s/journal/%s.copy", r->work, name);
	d->jdir = jd.s;
	d->copyf = cf.s;
	d->group = -1;
	d->churn_ms = now_ms();
	lib_vec_init(&d->rpo, sizeof(struct rpo_sample));
	lib_vec_init(&d->inflight, sizeof(struct in_flight));
	lib_vec_init(&d->copy_marks, sizeof(struct copy_mark));
	pthread_mutex_init(&d->mu, NULL);
	atomic_init(&d->queued, false);
	d->idx = r->disks.n;
	*(struct rdisk **)lib_vec_push(&r->disks) = d;
	lib_map_put(&r->byname, d->name, d->idx);
	return disk_open(r, d);
}

int
repl_add_group(struct repl *r, const char *name, const char *const *disks, size_t n)
{
	if (!store_name_ok(name) || n == 0 || n > 64)
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
		for (size_t m = 0; m < i; m++)
			if (ix[m] == k) {
				free(ix);
				return -EINVAL;
			}
		ix[i] = k;
	}
	qsort(ix, n, sizeof(*ix), cmp_size);
	struct rgroup *g = lib_vec_push(&r->groups);
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->n = n;
	g->disks = ix;
	g->cut = (uint64_t)now_ms(); /* cut numbers never repeat across restarts */
	for (size_t i = 0; i < n; i++)
		disk_at(r, ix[i])->group = (int)(r->groups.n - 1);
	return 0;
}

/* ---- hooks: NBD connection threads --------------------------------------------------- */

/* Notes a write's time for the RPO: one sample per RPO_SAMPLE_MS. Under mu. */
static void
rpo_note(struct rdisk *d, uint64_t seq, int64_t t)
{
	struct rpo_sample *last = d->rpo.n ? (struct rpo_sample *)d->rpo.v + d->rpo.n - 1 : NULL;
	if (!last || t - last->ms >= RPO_SAMPLE_MS)
		*(struct rpo_sample *)lib_vec_push(&d->rpo) = (struct rpo_sample){seq, t};
}

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
		if (seq != JNL_SEQ_BITMAP)
			d->last_write = seq;
		if (seq != JNL_SEQ_BITMAP) /* a bitmap bit is never sent: no backlog */
			d->appended += flags & (JNL_F_TRIM | JNL_F_ZERO) ? TGT_LEN_PAYLOAD : len;
		rpo_note(d, seq == JNL_SEQ_BITMAP ? jnl_next_seq(d->j) : seq, t);
	}
	pthread_mutex_unlock(&d->mu);
	if (rc == 0)
		kick(ctx, d);
	return rc;
}

static int
on_write(void *ctx, const char *export, uint64_t off, const void *data, uint32_t len, bool fua)
{
	return hook_append(ctx, export, off, len, fua ? JNL_F_FUA : 0, data);
}

/* Before the disk is written: the extents in the activity log (jnl_hot). */
static int
on_prepare(void *ctx, const char *export, uint64_t off, uint32_t len)
{
	struct rdisk *d = disk_find(ctx, export);
	if (!d)
		return -ENOENT;
	pthread_mutex_lock(&d->mu);
	int rc = jnl_hot(d->j, off, len);
	pthread_mutex_unlock(&d->mu);
	return rc;
}

/* Before a batch of plain writes reaches the disk: their new extents enter the
 * activity log as one transaction (one synchronous write, not one per extent:
 * random writes over a large disk meet a new extent at almost every write). */
static int
on_prepare_many(void *ctx, const char *export, const struct nbd_write *w, size_t n)
{
	struct rdisk *d = disk_find(ctx, export);
	if (!d)
		return -ENOENT;
	struct jnl_write jw[NBD_PEND];
	if (n > NBD_PEND)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		jw[i] = (struct jnl_write){w[i].off, NULL, w[i].len};
	pthread_mutex_lock(&d->mu);
	int rc = jnl_hot_many(d->j, jw, n);
	pthread_mutex_unlock(&d->mu);
	return rc;
}

/* A batch of plain writes (the NBD server's on_writes): one journal append. */
static int
on_writes(void *ctx, const char *export, const struct nbd_write *w, size_t n)
{
	struct rdisk *d = disk_find(ctx, export);
	if (!d)
		return -ENOENT;
	struct jnl_write jw[NBD_PEND];
	uint64_t seqs[NBD_PEND], bytes = 0;
	if (n > NBD_PEND)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		jw[i] = (struct jnl_write){w[i].off, w[i].data, w[i].len};
		bytes += w[i].len;
	}
	int64_t t = now_ms();
	pthread_mutex_lock(&d->mu);
	int rc = jnl_append_many(d->j, jw, n, seqs);
	if (rc == 0 && n) {
		d->written += bytes;
		for (size_t i = 0; i < n; i++) { /* a bitmap bit is never sent: no backlog */
			if (seqs[i] == JNL_SEQ_BITMAP)
				continue;
			d->last_write = seqs[i];
			d->appended += w[i].len;
		}
		rpo_note(d, seqs[n - 1] == JNL_SEQ_BITMAP ? jnl_next_seq(d->j) : seqs[n - 1], t);
	}
	pthread_mutex_unlock(&d->mu);
	if (rc == 0 && n)
		kick(ctx, d);
	return rc;
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
	if (rc == 0)
		kick(ctx, d);
	return rc;
}

int
repl_attach(struct repl *r, struct nbd_server **out)
{
	static const struct nbd_hooks hooks = {.on_write = on_write,
	                                       .on_flush = on_flush,
	                                       .on_trim = on_trim,
	                                       .on_zero = on_zero,
	                                       .on_writes = on_writes,
	                                       .on_prepare = on_prepare,
	                                       .on_prepare_many = on_prepare_many};
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
	r->srv = s;
	*out = s;
	return 0;
}

/* ---- source reads journaled as RESYNC records ----------------------------------------- */

/* Under d->mu: the copy is delivered up to off once seq is acknowledged. */
static void
copy_mark(struct rdisk *d, uint64_t seq, uint64_t off)
{
	if (d->state != REPL_COPYING)
		return;
	if (seq <= d->acked) {
		if (off > d->copy_acked)
			d->copy_acked = off;
		return;
	}
	*(struct copy_mark *)lib_vec_push(&d->copy_marks) = (struct copy_mark){seq, off};
}

/* Bytes a copy or resync may journal now: it runs at most COPY_AHEAD (and half the
 * journal) ahead of what the target acknowledged, so a slow link paces it instead of the journal
 * growing with the disk, and the progress shown is what the target holds. */
static uint64_t
copy_room(struct rdisk *d)
{
	pthread_mutex_lock(&d->mu);
	uint64_t backlog = d->appended > d->acked_bytes ? d->appended - d->acked_bytes : 0;
	pthread_mutex_unlock(&d->mu);
	/* at most half the journal: a copy never pushes it into its bitmap */
	uint64_t ahead = COPY_AHEAD < d->jcap / 2 ? COPY_AHEAD : d->jcap / 2;
	uint64_t room = backlog < ahead ? ahead - backlog : 0;
	return room < COPY_SLICE ? room : COPY_SLICE;
}

/* Reads [off, off+len) of the source and journals it as RESYNC records, each
 * piece under the export's write lock so no client write falls between. */
static int
resend(struct repl *r, struct rdisk *d, int sfd, uint64_t off, uint64_t len, uint8_t *buf)
{
	while (len) {
		uint32_t n = len < COPY_PIECE ? (uint32_t)len : COPY_PIECE;
		bool locked = r->srv && nbd_server_export_lock(r->srv, d->name) == 0;
		ssize_t got = pread(sfd, buf, n, (off_t)off);
		int rc = got < 0 ? -errno : got < (ssize_t)n ? -EIO : 0;
		uint64_t seq;
		if (!rc) {
			pthread_mutex_lock(&d->mu);
			rc = jnl_append(d->j, off, n, JNL_F_RESYNC, buf, &seq);
			d->appended += rc ? 0 : n;
			if (!rc)
				copy_mark(d, seq, off + n);
			pthread_mutex_unlock(&d->mu);
		}
		if (locked)
			nbd_server_export_unlock(r->srv, d->name);
		/* Leave the source's page cache as it was: reading a sparse source fills it
		 * with large zero folios that make every later small write walk a whole
		 * folio (4k writes 5x slower on ext4). */
		(void)posix_fadvise(sfd, (off_t)off, n, POSIX_FADV_DONTNEED);
		if (rc)
			return rc;
		off += n, len -= n;
	}
	return 0;
}

/* The end of a copy or resync: the SYNCED marker; the disk is protected once the target
 * acknowledges it (on_ack). */
static int
synced(struct rdisk *d)
{
	uint64_t seq;
	pthread_mutex_lock(&d->mu);
	/* Records of the copy or resync went into the bitmap (the journal outgrew its
	 * capacity meanwhile): not synced; the bitmap's resync ends with the marker. */
	if (jnl_bitmap_mode(d->j)) {
		pthread_mutex_unlock(&d->mu);
		return 0;
	}
	int rc = jnl_append_marker(d->j, JNL_F_SYNCED, 0, 0, NULL, 0, &seq);
	if (!rc)
		d->synced_seq = seq;
	pthread_mutex_unlock(&d->mu);
	return rc;
}

/* A seeded initial copy (reprotect): every block of the source whose XXH3-64
 * differs from the seed's is sent, each read and journaled under the export's
 * write lock; equal blocks are not sent at all. */
static int
seed_step(struct repl *r, struct rdisk *d, int sfd, uint64_t *offp)
{
	uint32_t bs = d->seed_block;
	uint8_t *buf = lib_xmalloc(bs);
	uint64_t off = *offp - *offp % bs, budget = copy_room(d);
	int rc = 0;
	while (off < d->size && budget && !rc) {
		uint32_t n = d->size - off < bs ? (uint32_t)(d->size - off) : bs;
		bool locked = r->srv && nbd_server_export_lock(r->srv, d->name) == 0;
		ssize_t got = pread(sfd, buf, n, (off_t)off);
		rc = got < 0 ? -errno : got < (ssize_t)n ? -EIO : 0;
		if (!rc && XXH3_64bits(buf, n) != d->seed_sums[off / bs]) {
			uint64_t seq;
			pthread_mutex_lock(&d->mu);
			rc = jnl_append(d->j, off, n, JNL_F_RESYNC, buf, &seq);
			d->appended += rc ? 0 : n;
			if (!rc)
				copy_mark(d, seq, off + n);
			pthread_mutex_unlock(&d->mu);
			d->seed_sent++;
		} else if (!rc) {
			d->seed_skipped++;
			pthread_mutex_lock(&d->mu); /* delivered once what came before is */
			copy_mark(d, jnl_next_seq(d->j) - 1, off + n);
			pthread_mutex_unlock(&d->mu);
		}
		if (locked)
			nbd_server_export_unlock(r->srv, d->name);
		(void)posix_fadvise(sfd, (off_t)off, n, POSIX_FADV_DONTNEED);
		off += n;
		budget -= n < budget ? n : budget;
	}
	free(buf);
	*offp = off;
	return rc;
}

/* The next slice of the source's data extents (SEEK_DATA) from *offp. */
static int
data_step(struct repl *r, struct rdisk *d, int sfd, uint64_t *offp)
{
	uint8_t *buf = lib_xmalloc(COPY_PIECE);
	uint64_t off = *offp, budget = copy_room(d);
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
		rc = resend(r, d, sfd, (uint64_t)a, n, buf);
		off = (uint64_t)a + n;
		budget -= n;
	}
	free(buf);
	*offp = off;
	return rc;
}

/* The initial copy's next slice: the source's data extents from copy_off (or,
 * to a seeded target, the blocks that differ). At the end the SYNCED marker,
 * then the progress file goes. */
static int
copy_step(struct repl *r, struct rdisk *d)
{
	if (d->seeded && (!d->seed_sums || d->seed_have < d->seed_n))
		return 0; /* the seed's checksums are still coming */
	int sfd = open(d->source, O_RDONLY | O_CLOEXEC);
	if (sfd < 0)
		return -errno;
	uint64_t off = d->copy_off;
	int rc = d->seeded ? seed_step(r, d, sfd, &off) : data_step(r, d, sfd, &off);
	close(sfd);
	if (rc)
		return rc;
	pthread_mutex_lock(&d->mu);
	d->copy_off = off;
	pthread_mutex_unlock(&d->mu);
	if (off < d->size)
		return save_copy(d);
	rc = synced(d);
	if (!rc && unlink(d->copyf) && errno != ENOENT)
		rc = -errno;
	return rc;
}

/* Resends the pending extents (a crash's activity log, an overflow's bitmap). */
static int
resync_step(struct repl *r, struct rdisk *d)
{
	int sfd = open(d->source, O_RDONLY | O_CLOEXEC);
	if (sfd < 0)
		return -errno;
	uint8_t *buf = lib_xmalloc(COPY_PIECE);
	uint64_t budget = copy_room(d);
	int rc = 0;
	while (d->iresync < d->nresync && budget && !rc) {
		uint64_t off = d->resync[d->iresync] << d->rshift, len = 1ull << d->rshift;
		if (off < d->size) {
			if (len > d->size - off)
				len = d->size - off;
			rc = resend(r, d, sfd, off, len, buf);
			budget -= len < budget ? len : budget;
		}
		if (!rc)
			d->iresync++;
	}
	free(buf);
	close(sfd);
	if (rc || d->iresync < d->nresync)
		return rc;
	free(d->resync);
	d->resync = NULL;
	d->nresync = d->iresync = 0;
	return synced(d);
}

/* The journal overflowed into its bitmap: once what it holds is acknowledged,
 * the dirty extents become a resync and the journal takes records again. */
static void
bitmap_step(struct rdisk *d)
{
	pthread_mutex_lock(&d->mu);
	if (jnl_bitmap_mode(d->j) && !d->nresync && d->acked + 1 >= jnl_next_seq(d->j)) {
		struct lib_vec ext = {0};
		lib_vec_init(&ext, sizeof(uint64_t));
		uint64_t e = 0;
		while (jnl_bitmap_next(d->j, e, &e) == 0) {
			*(uint64_t *)lib_vec_push(&ext) = e;
			e++;
		}
		if (jnl_bitmap_clear(d->j) == 0) {
			d->resync = ext.v;
			d->nresync = ext.n;
			d->iresync = 0;
			d->rshift = JNL_BM_SHIFT;
			d->state = REPL_RESYNC;
		} else {
			lib_vec_free(&ext);
		}
	}
	pthread_mutex_unlock(&d->mu);
}

/* ---- the link ------------------------------------------------------------------------ */

static void
on_ack(void *arg, uint64_t seq)
{
	struct rdisk *d = arg;
	pthread_mutex_lock(&d->mu);
	seq = jnl_gap_skip(d->j, seq); /* up to a jump of the numbering: nothing between */
	if (seq > d->acked) {
		d->acked = seq;
		jnl_release(d->j, seq + 1);
	}
	struct in_flight *f = d->inflight.v;
	size_t k = 0;
	while (k < d->inflight.n && f[k].seq <= seq)
		d->acked_bytes += f[k++].bytes;
	if (k) {
		memmove(f, f + k, (d->inflight.n - k) * sizeof(*f));
		d->inflight.n -= k;
	}
	struct copy_mark *m = d->copy_marks.v;
	k = 0;
	while (k < d->copy_marks.n && m[k].seq <= seq)
		d->copy_acked = m[k++].off;
	if (k) {
		memmove(m, m + k, (d->copy_marks.n - k) * sizeof(*m));
		d->copy_marks.n -= k;
	}
	if (d->synced_seq && seq >= d->synced_seq) {
		d->synced_seq = 0;
		d->state = REPL_PROTECTED;
	}
	pthread_mutex_unlock(&d->mu);
}

static void
on_point(void *arg, const struct xp_point *p)
{
	struct rdisk *d = arg;
	pthread_mutex_lock(&d->mu);
	if (p->covered >= d->covered) {
		d->covered = p->covered;
		d->last_point = p->point;
		d->last_time = p->time;
		d->last_kind = p->kind ? STORE_APP : STORE_CRASH;
		/* Samples the point covers go, but the one the next write falls in. */
		struct rpo_sample *s = d->rpo.v;
		size_t k = 0;
		while (k + 1 < d->rpo.n && s[k + 1].seq <= p->covered + 1)
			k++;
		if (k + 1 == d->rpo.n && d->last_write <= p->covered)
			k++; /* the last window: covered when every record is */
		if (k) {
			memmove(s, s + k, (d->rpo.n - k) * sizeof(*s));
			d->rpo.n -= k;
		}
		if (d->mark_seq && p->covered >= d->mark_seq)
			d->mark_seq = 0;
	}
	pthread_mutex_unlock(&d->mu);
}

static void
on_sums(void *arg, uint64_t off, uint32_t block, uint32_t count, const struct xp_frame *f)
{
	struct rdisk *d = arg;
	if (!d->seed_sums) {
		d->seed_block = block;
		d->seed_n = (size_t)((d->size + block - 1) / block);
		d->seed_sums = lib_xcalloc(d->seed_n, sizeof(uint64_t));
	}
	if (block != d->seed_block || off % block)
		return;
	for (uint32_t i = 0; i < count && off / block + i < d->seed_n; i++) {
		d->seed_sums[off / block + i] = xp_sum_at(f, i);
		d->seed_have++;
	}
}

static uint64_t
disk_id(const char *name)
{
	return XXH3_64bits(name, strlen(name));
}

static int
link_up(struct repl *r, struct rdisk *d)
{
	if (d->tx && xp_sender_connected(d->tx))
		return 0;
	/* Once a connect of this round failed to reach the target, the other disks do not
	 * try theirs until the next: each would wait as long (10 s for a target that drops
	 * packets), and a thousand disks would hammer a receiver that is down. */
	if (r->unreachable) {
		pthread_mutex_lock(&d->mu);
		if (!d->error[0])
			snprintf(d->error, sizeof(d->error),
			         "connect %s:%u: not tried: unreachable", r->tg.host, r->tg.port);
		d->open_err = true; /* set_err keeps the disk's error */
		pthread_mutex_unlock(&d->mu);
		return -EHOSTUNREACH;
	}
	if (d->tx) {
		int rc = xp_sender_reconnect(d->tx);
		r->unreachable = rc && xp_sender_unreachable(d->tx);
		return rc;
	}
	struct xp_sender_opts o = {.window = 8192,
	                           .rate = r->tg.rate,
	                           .zlevel = r->tg.zlevel,
	                           .timeout_ms = 10000,
	                           .on_ack = on_ack,
	                           .on_point = on_point,
	                           .on_sums = on_sums,
	                           .arg = d,
	                           .io = r->tg.io,
	                           .name = d->name,
	                           .size = d->size,
	                           .high = d->high};
	int rc = xp_sender_open(r->tg.host, r->tg.port, disk_id(d->name), &o, &d->tx);
	r->unreachable = rc && o.unreachable;
	if (rc) {
		pthread_mutex_lock(&d->mu);
		snprintf(d->error, sizeof(d->error), "%s", o.err[0] ? o.err : strerror(-rc));
		d->open_err = true;
		pthread_mutex_unlock(&d->mu);
		return rc;
	}
	/* The target holds everything up to its last stored seq: send after it. */
	pthread_mutex_lock(&d->mu);
	uint64_t have = xp_sender_acked(d->tx), first = jnl_first_seq(d->j);
	/* After a crash here the journal numbers on past a jump: records the target
	 * holds from before it were lost here, and their extents are resent. */
	d->sent = d->acked = jnl_gap_skip(d->j, have);
	/* Records in flight when the link went: those the target stored count as
	 * acknowledged; the others are sent again (and counted then). */
	struct in_flight *f = d->inflight.v;
	for (size_t k = 0; k < d->inflight.n && f[k].seq <= have; k++)
		d->acked_bytes += f[k].bytes;
	d->inflight.n = 0;
	d->seeded = xp_sender_seeded(d->tx) && d->state == REPL_COPYING;
	if (first && have + 1 < first && d->state != REPL_COPYING) {
		/* The target lacks records this journal no longer holds (a new or a
		 * restored target): the whole disk again, as an initial copy. */
		d->state = REPL_COPYING;
		d->copy_off = d->copy_acked = 0;
		d->copy_marks.n = 0;
		d->synced_seq = 0;
		rc = save_copy(d);
	}
	pthread_mutex_unlock(&d->mu);
	return rc;
}

/* One journal record as the transport's: TRIM and ZERO carry their length, CUT its
 * member count and group (in small); data goes with the hash the journal verified. */
static struct xp_record
to_wire(const struct jnl_rec *rec, uint8_t small[4 + STORE_NAME_MAX])
{
	struct xp_record x = {.seq = rec->seq,
	                      .offset = rec->off,
	                      .len = rec->dlen,
	                      .flags = rec->flags,
	                      .data = rec->data,
	                      .hashed = true,
	                      .hash = rec->dsum};
	if (rec->flags & (JNL_F_TRIM | JNL_F_ZERO)) {
		tgt_put_u64(small, rec->len);
		x.data = small, x.len = TGT_LEN_PAYLOAD, x.hashed = false;
	} else if (rec->flags & JNL_F_CUT) {
		uint32_t dl = rec->dlen <= STORE_NAME_MAX ? rec->dlen : STORE_NAME_MAX;
		small[0] = (uint8_t)(rec->len >> 24), small[1] = (uint8_t)(rec->len >> 16);
		small[2] = (uint8_t)(rec->len >> 8), small[3] = (uint8_t)rec->len;
		memcpy(small + 4, rec->data, dl);
		x.data = small, x.len = 4 + dl, x.hashed = false;
	}
	return x;
}

/* Offers one record to the transport; sent moves on when it was taken. */
static int
send_one(struct rdisk *d, const struct xp_record *x)
{
	pthread_mutex_lock(&d->mu); /* before the send: its ack may come within it */
	*(struct in_flight *)lib_vec_push(&d->inflight) = (struct in_flight){x->seq, x->len};
	pthread_mutex_unlock(&d->mu);
	int rc = xp_send(d->tx, x);
	pthread_mutex_lock(&d->mu);
	if (rc == 0)
		d->sent = x->seq;
	else if (d->inflight.n)
		d->inflight.n--; /* not taken: sent again next time */
	pthread_mutex_unlock(&d->mu);
	return rc;
}

/* Sends the journal's records after sent, up to what is journaled now (and at
 * most SEND_BATCH bytes), then takes in acks and points. The journal's iterator
 * stays open between visits, at the record after sent: a visit to a disk with a
 * few new records costs an fstat and a read of them, not a listing of the
 * directory, an open and a new buffer. It is opened again when sent moved
 * elsewhere (a cut link resends from the acknowledged seq, a jump skips). */
static int
send_disk(struct repl *r, struct rdisk *d)
{
	int rc = link_up(r, d);
	if (rc)
		return rc;
	pthread_mutex_lock(&d->mu);
	d->sent = jnl_gap_skip(d->j, d->sent); /* sent up to a jump: nothing between */
	uint64_t limit = jnl_next_seq(d->j), from = d->sent + 1;
	pthread_mutex_unlock(&d->mu);
	if (d->it && jnl_iter_seq(d->it) != from) {
		jnl_iter_close(d->it);
		d->it = NULL;
	}
	if (from < limit && d->it && (rc = jnl_iter_resume(d->it, limit)) == -ESTALE) {
		jnl_iter_close(d->it);
		d->it = NULL;
		rc = 0;
	}
	if (from < limit && !d->it && !rc && !(rc = jnl_iter_open(d->jdir, from, &d->it)))
		rc = jnl_iter_resume(d->it, limit);
	uint64_t bytes = 0;
	int got = 0;
	while (!rc && from < limit && bytes < SEND_BATCH) {
		struct jnl_rec rec;
		if ((got = jnl_iter_next(d->it, &rec)) <= 0) {
			rc = got;
			break;
		}
		uint8_t small[4 + STORE_NAME_MAX];
		struct xp_record x = to_wire(&rec, small);
		if ((rc = send_one(d, &x)) == 0)
			bytes += x.len;
	}
	if (rc && d->it) {
		jnl_iter_close(d->it); /* not sent, or the journal unreadable: open again */
		d->it = NULL;
	} else if (d->it && got == 0) {
		jnl_iter_idle(d->it); /* caught up */
	}
	if (rc == -ENOENT)
		rc = 0; /* no segment yet */
	if (!rc)
		rc = xp_sender_poll(d->tx);
	return rc;
}

static void
set_err(struct rdisk *d, int rc)
{
	pthread_mutex_lock(&d->mu);
	if (rc < 0 && d->open_err) {
		d->open_err = false; /* link_up said why */
	} else if (rc < 0) {
		const char *e = d->tx ? xp_sender_error(d->tx) : "";
		snprintf(d->error, sizeof(d->error), "%s", *e ? e : strerror(-rc));
	} else {
		d->error[0] = 0;
	}
	pthread_mutex_unlock(&d->mu);
}

/* A group cut: a CUT marker in every member's journal at one instant. */
static int
group_cut(struct repl *r, struct rgroup *g, bool app)
{
	for (size_t i = 0; i < g->n; i++)
		if (disk_at(r, g->disks[i])->state != REPL_PROTECTED)
			return -EAGAIN;
	for (size_t i = 0; i < g->n; i++)
		pthread_mutex_lock(&disk_at(r, g->disks[i])->mu);
	int rc = 0;
	g->cut++;
	for (size_t i = 0; i < g->n && !rc; i++) {
		struct rdisk *d = disk_at(r, g->disks[i]);
		uint64_t seq;
		if (app)
			rc = jnl_flush(d->j, NULL);
		if (!rc)
			rc = jnl_append_marker(d->j, JNL_F_CUT | (app ? JNL_F_MARK : 0), g->cut,
			                       (uint32_t)g->n, g->name, (uint32_t)strlen(g->name),
			                       &seq);
		if (!rc && app)
			d->mark_seq = seq;
		if (!rc)
			d->cut_at = seq;
		if (!rc)
			kick(r, d);
	}
	for (size_t i = g->n; i-- > 0;)
		pthread_mutex_unlock(&disk_at(r, g->disks[i])->mu);
	return rc;
}

/* One round of a disk: its copy or resync goes on, records out, acks in. */
static int
step(struct repl *r, struct rdisk *d)
{
	int rc = 0;
	if (d->state == REPL_COPYING && !d->synced_seq) { /* the link first: a seeded target
		                                             says so */
		rc = link_up(r, d);
		if (!rc)
			rc = copy_step(r, d);
	} else if (d->nresync) {
		rc = resync_step(r, d);
	}
	if (!rc)
		rc = send_disk(r, d);
	if (!rc)
		bitmap_step(d);
	return rc;
}

/* What a disk left after a visit: records unsent or unacknowledged on a link that
 * is up (pending), a copy or resync with room to go on (busy). Under nothing. */
static void
disk_left(struct rdisk *d, bool *pending, bool *busy)
{
	pthread_mutex_lock(&d->mu);
	bool ok = !d->error[0];
	*pending = ok && d->tx && xp_sender_connected(d->tx) &&
	           (d->sent + 1 < jnl_next_seq(d->j) || d->inflight.n);
	/* A disk in error waits for the next full round: no retry storm. */
	bool copying = ok && ((d->state == REPL_COPYING && !d->synced_seq) || d->nresync);
	pthread_mutex_unlock(&d->mu);
	*busy = copying && copy_room(d);
}

/* churn: bytes written per second, averaged over about 10 s */
static void
churn_note(struct rdisk *d, int64_t t)
{
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

int
repl_ship(struct repl *r, int64_t now, bool full)
{
	int first = 0;
	for (size_t i = 0; i < r->groups.n; i++) {
		struct rgroup *g = &((struct rgroup *)r->groups.v)[i];
		if (now - g->last_time < r->interval)
			continue; /* not due: its members are not looked at */
		bool written = false;
		for (size_t k = 0; k < g->n; k++) {
			struct rdisk *d = disk_at(r, g->disks[k]);
			pthread_mutex_lock(&d->mu);
			written = written || d->last_write > d->cut_at || !d->cut_at;
			pthread_mutex_unlock(&d->mu);
		}
		if (written && group_cut(r, g, false) == 0)
			g->last_time = now;
	}
	/* The disks to visit: all of them, or the queue's (taken whole: a disk queued
	 * during the round waits for the next). */
	struct lib_vec visit;
	lib_vec_init(&visit, sizeof(size_t));
	pthread_mutex_lock(&r->qmu);
	if (!full) {
		struct lib_vec t = visit;
		visit = r->queue;
		r->queue = t;
	} else {
		r->queue.n = 0;
	}
	pthread_mutex_unlock(&r->qmu);
	size_t n = full ? r->disks.n : visit.n;
	int64_t t = now_ms();
	r->unreachable = false;
	bool pending = false, busy = false;
	for (size_t i = 0; i < n; i++) {
		struct rdisk *d = disk_at(r, full ? i : ((size_t *)visit.v)[i]);
		atomic_store(&d->queued, false); /* a write from here on queues it again */
		pthread_mutex_lock(&d->mu);
		bool failed = d->error[0] != 0;
		pthread_mutex_unlock(&d->mu);
		if (!full && failed)
			continue; /* retried at the next full round */
		int rc = step(r, d);
		set_err(d, rc);
		if (rc < 0 && !first)
			first = rc;
		if (full)
			churn_note(d, t);
		bool p, b;
		disk_left(d, &p, &b);
		if (p || b)
			enqueue(r, d, false);
		pending = pending || p;
		busy = busy || b;
	}
	lib_vec_free(&visit);
	r->pending = pending;
	r->busy = busy;
	return first;
}

bool
repl_busy(struct repl *r)
{
	return r->busy;
}

bool
repl_pending(struct repl *r)
{
	return r->pending;
}

int
repl_mark(struct repl *r, const char *name, int *marks)
{
	int rc = 0, n = 0;
	bool found = false;
	for (size_t i = 0; i < r->groups.n && !rc; i++) {
		struct rgroup *g = &((struct rgroup *)r->groups.v)[i];
		bool hit = !name || !strcmp(name, g->name);
		for (size_t k = 0; k < g->n && !hit; k++)
			hit = !strcmp(name, disk_at(r, g->disks[k])->name);
		if (!hit)
			continue;
		found = true;
		rc = group_cut(r, g, true);
		n += !rc;
	}
	for (size_t i = 0; i < r->disks.n && !rc; i++) {
		struct rdisk *d = disk_at(r, i);
		if (d->group >= 0 || (name && strcmp(name, d->name)))
			continue;
		found = true;
		pthread_mutex_lock(&d->mu);
		uint64_t seq;
		if (d->state != REPL_PROTECTED)
			rc = -EAGAIN;
		else if ((rc = jnl_flush(d->j, NULL)) == 0 &&
		         (rc = jnl_append_marker(d->j, JNL_F_MARK, 0, 0, NULL, 0, &seq)) == 0)
			d->mark_seq = seq;
		pthread_mutex_unlock(&d->mu);
		if (!rc)
			kick(r, d);
		n += !rc;
	}
	*marks = n;
	if (!found)
		return -ENOENT;
	return rc;
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
	s->state = d->error[0] ? REPL_ERROR : d->state;
	snprintf(s->error, sizeof(s->error), "%s", d->error);
	s->copied = d->state == REPL_COPYING ? d->copy_acked : d->size;
	s->next_seq = jnl_next_seq(d->j);
	s->sent = d->sent;
	s->acked = d->acked;
	s->written = d->written;
	s->backlog = d->appended > d->acked_bytes ? d->appended - d->acked_bytes : 0;
	s->bitmap = jnl_bitmap_mode(d->j);
	s->churn = d->churn;
	s->covered = d->covered;
	s->mark = d->mark_seq;
	if (d->rpo.n) {
		int64_t oldest = ((struct rpo_sample *)d->rpo.v)[0].ms;
		s->rpo_ms = t > oldest ? t - oldest : 0;
	}
	s->last_point = d->last_point;
	s->last_time = d->last_time;
	s->last_kind = d->last_kind;
	pthread_mutex_unlock(&d->mu);
	s->wire = d->tx ? xp_sender_wire_bytes(d->tx) : 0;
	return 0;
}

int
repl_close(struct repl *r, int timeout_ms)
{
	if (!r)
		return 0;
	int rc = 0;
	r->srv = NULL; /* the NBD server has stopped: no writer left to lock out */
	/* The last records out, and their acknowledgements in (the link may be down:
	 * then they wait in the journal for the next start); a copy or resync goes on
	 * meanwhile, so a short one ends protected (a long one resumes at the next start
	 * from where it stopped: the copy's offset, the resync's bitmap). */
	for (size_t i = 0; i < r->disks.n; i++) {
		struct rdisk *d = disk_at(r, i);
		if (!d->j)
			continue;
		for (int w = 0; w < timeout_ms; w += 20) {
			/* A link found dead here is made again: records wait for it. */
			r->unreachable = false; /* each try its own round (link_up) */
			int s = step(r, d);
			pthread_mutex_lock(&d->mu);
			bool done = !s && d->acked + 1 >= jnl_next_seq(d->j) &&
			            (d->state != REPL_COPYING || d->synced_seq) && !d->nresync &&
			            !jnl_bitmap_mode(d->j);
			pthread_mutex_unlock(&d->mu);
			if (done)
				break;
			struct timespec ts = {0, 20000000};
			nanosleep(&ts, NULL);
		}
	}
	for (size_t i = 0; i < r->disks.n; i++) {
		struct rdisk *d = disk_at(r, i);
		xp_sender_close(d->tx);
		jnl_iter_close(d->it);
		/* A resync not finished (a crash's activity log, an overflow's bitmap): the
		 * extents not read yet go into the bitmap, which the next start resyncs
		 * (a clean close empties the activity log). */
		for (size_t k = d->iresync; d->j && k < d->nresync; k++)
			jnl_bitmap_add(d->j, d->resync[k] << d->rshift, 1ull << d->rshift);
		if (d->j) {
			int c = jnl_close(d->j);
			if (!rc && c)
				rc = c;
		}
		pthread_mutex_destroy(&d->mu);
		lib_vec_free(&d->rpo);
		lib_vec_free(&d->inflight);
		lib_vec_free(&d->copy_marks);
		free(d->source);
		free(d->jdir);
		free(d->copyf);
		free(d->resync);
		free(d->seed_sums);
		free(d);
	}
	for (size_t i = 0; i < r->groups.n; i++)
		free(((struct rgroup *)r->groups.v)[i].disks);
	lib_vec_free(&r->groups);
	lib_vec_free(&r->disks);
	lib_map_free(&r->byname);
	lib_vec_free(&r->queue);
	pthread_mutex_destroy(&r->qmu);
	free(r->host);
	free(r->work);
	free(r);
	return rc < 0 ? rc : 0;
}
