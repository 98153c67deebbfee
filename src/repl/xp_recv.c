/*
 * xp_recv.c - the replication transport's receiver: serves each sender (one
 * per disk) on a thread of its own, answers its hello with the disk's last
 * durably stored sequence, then verifies and stores DATA frames in order and
 * acknowledges them.
 *
 * Invariants: a record reaches the store only after its payload decompressed
 * to exactly len bytes and its XXH3-64 matched; an ACK for seq is sent only
 * after the store callback returned 0 for seq and the sync callback (when
 * set) made it durable: acks are cumulative and coalesced while more frames
 * are already buffered, so one sync covers a burst of records; a burst shorter
 * than SYNC_BYTES waits up to SYNC_MS for more before its sync (a sync costs
 * an fdatasync of the replica and one of its bookkeeping). DATA at or below the
 * last stored sequence is a duplicate: counted, acknowledged, not stored.
 * Any bad frame, checksum mismatch or store failure is answered with an
 * ERROR frame naming the reason, and the connection is closed; the sender
 * resumes from the last stored sequence, so nothing is lost.
 *
 * Blocking sockets with poll(). An idle connection's thread sleeps until a
 * frame comes, its store's next due time (the sync callback's wait: a point or
 * a checkpoint; none for a quiet disk), or a stop or cut, which shut its socket
 * down to wake it: 10,000 idle disks cost no wakeups. The list of connections
 * is under lmu, and a connection leaves it (live cleared) before its socket is
 * closed, so a shutdown never reaches a descriptor reused since. Run
 * xp_receiver_run on its own thread.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "lib/lib.h"
#include "repl/xp.h"

#define TICK_MS    100
#define SYNC_MS    20          /* a short burst waits this long for more records */
#define SYNC_BYTES (16u << 20) /* a burst this long is synced at once */

struct rconn {
	struct xp_receiver *r;
	struct xp_conn c;
	pthread_t th;
	atomic_bool done;
	bool live;    /* under lmu: its socket is open (a stop or cut may shut it down) */
	unsigned gen; /* the cut generation it was accepted in */
	ZSTD_DCtx *dctx;
	uint8_t *dbuf; /* grows to the largest record seen, at most XP_MAX_RECORD */
	size_t dcap;
	bool hello; /* the disk said hello: close is called at the end */
	uint64_t disk;
	struct rconn *next;
};

struct xp_receiver {
	int lfd;
	uint16_t port;
	struct xp_receiver_opts o;
	atomic_bool stop;
	atomic_uint cut; /* a generation: connections older than it hang up */
	pthread_mutex_t mu;
	struct xp_receiver_stats st;
	pthread_mutex_t lmu;
	struct rconn *conns; /* connection threads not joined yet, under lmu */
};

int
xp_receiver_open(const char *host, uint16_t port, const struct xp_receiver_opts *o,
                 struct xp_receiver **out)
{
	*out = NULL;
	if (!o || !o->store || !o->last)
		return -EINVAL;
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_PASSIVE},
	                *res;
	char ps[8];
	snprintf(ps, sizeof(ps), "%u", (unsigned)port);
	if (getaddrinfo(host, ps, &hints, &res) != 0)
		return -EADDRNOTAVAIL;
	int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
	int one = 1, rc = 0;
	if (fd < 0)
		rc = -errno;
	else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	         bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 8) < 0)
		rc = -errno;
	freeaddrinfo(res);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (rc == 0 && getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		rc = -errno;
	if (rc < 0) {
		if (fd >= 0)
			close(fd);
		return rc;
	}
	struct xp_receiver *r = lib_xcalloc(1, sizeof(*r));
	r->lfd = fd;
	r->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                                         : ((struct sockaddr_in *)&ss)->sin_port);
	r->o = *o;
	atomic_init(&r->stop, false);
	atomic_init(&r->cut, 0);
	pthread_mutex_init(&r->mu, NULL);
	pthread_mutex_init(&r->lmu, NULL);
	*out = r;
	return 0;
}

uint16_t
xp_receiver_port(const struct xp_receiver *r)
{
	return r->port;
}

static void
count(struct xp_receiver *r, uint64_t *field, const char *err)
{
	pthread_mutex_lock(&r->mu);
	(*field)++;
	if (err)
		snprintf(r->st.last_error, sizeof(r->st.last_error), "%s", err);
	pthread_mutex_unlock(&r->mu);
}

/* Sends an ERROR frame (best effort), records the reason; the caller closes. */
static void
refuse(struct xp_receiver *r, struct xp_conn *c, uint64_t *field, uint32_t code, uint64_t seq,
       const char *why)
{
	char msg[128];
	uint8_t out[XP_HDR_LEN + XP_ERROR_FIXED_LEN + XP_MAX_ERRMSG];
	snprintf(msg, sizeof(msg), "%s: %.80s (seq %llu)", xp_err_name(code), why,
	         (unsigned long long)seq);
	count(r, field, msg);
	xp_conn_write(c, out, xp_encode_error(out, code, seq, why));
}

/* Verifies and stores one DATA frame. 0 = stored; -1 = refused (connection to close). */
static int
take_data(struct rconn *rc_, struct xp_conn *c, uint64_t disk, const struct xp_frame *f)
{
	struct xp_receiver *r = rc_->r;
	const uint8_t *data = f->payload;
	if (f->hflags & XP_HF_ZSTD) {
		if (!rc_->dctx &&
		    !(rc_->dctx = ZSTD_createDCtx())) /* at the first: 96 KiB a disk */
			lib_oom();
		if (f->len > rc_->dcap) {
			free(rc_->dbuf);
			rc_->dcap = f->len;
			rc_->dbuf = lib_xmalloc(rc_->dcap);
		}
		size_t z = ZSTD_decompressDCtx(rc_->dctx, rc_->dbuf, f->len, f->payload, f->plen);
		if (ZSTD_isError(z) || z != f->len) {
			refuse(r, c, &r->st.frame_errors, XP_E_DECOMPRESS, f->seq,
			       ZSTD_isError(z) ? ZSTD_getErrorName(z) : "short payload");
			return -1;
		}
		data = rc_->dbuf;
	}
	if (XXH3_64bits(data, f->len) != f->hash) {
		refuse(r, c, &r->st.checksum_errors, XP_E_CHECKSUM, f->seq,
		       "payload does not match its XXH3-64; not stored");
		return -1;
	}
	struct xp_record rec = {
	    .seq = f->seq, .offset = f->offset, .len = f->len, .flags = f->rflags, .data = data};
	int rc = r->o.store(r->o.arg, disk, &rec);
	if (rc < 0) {
		refuse(r, c, &r->st.store_errors, XP_E_STORE, f->seq, strerror(-rc));
		return -1;
	}
	pthread_mutex_lock(&r->mu);
	r->st.stored++;
	r->st.stored_bytes += f->len;
	pthread_mutex_unlock(&r->mu);
	return 0;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How long a burst of `bytes` begun at `since` may still wait for more records
 * before its sync: 0 when it is due now. */
static int
burst_wait(uint64_t bytes, int64_t since)
{
	int64_t left = since + SYNC_MS - mono_ms();
	return bytes >= SYNC_BYTES || left <= 0 ? 0 : (int)left;
}

static void
serve(struct rconn *rc_)
{
	struct xp_receiver *r = rc_->r;
	struct xp_conn *c = &rc_->c;
	bool hello = false, ack_due = false, sync_due = false, idle_tick = false;
	uint64_t disk = 0, last = 0, burst = 0; /* bytes stored since the last sync */
	int64_t burst_t = 0;                    /* when the first of them came */
	/* The store's next due time (-1: none before new records); the first idle
	 * call after the hello asks it (a replayed log may want a point). */
	int idle_wait = r->o.sync ? TICK_MS : -1;
	uint8_t out[XP_HDR_LEN + XP_POINT_LEN];
	unsigned gen = rc_->gen;
	for (;;) {
		if (atomic_load(&r->stop) || atomic_load(&r->cut) != gen)
			return;
		struct xp_frame f;
		const char *why;
		int rc = xp_conn_read_frame(c, &f, 0, &why);
		int wait =
		    rc == -ETIMEDOUT && sync_due && !idle_tick ? burst_wait(burst, burst_t) : 0;
		if (wait)
			rc = xp_conn_read_frame(c, &f, wait, &why);
		if (rc == -ETIMEDOUT && hello && (ack_due || idle_tick)) {
			/* A burst is stored: one sync makes it durable, then one ack (and
			 * the point the sync cut, if any). Idle ticks let the store cut a
			 * point that came due without new records. */
			struct xp_point pt;
			int src = r->o.sync && (sync_due || idle_tick)
			              ? r->o.sync(r->o.arg, disk, !sync_due, &pt, &idle_wait)
			              : 0;
			idle_tick = false;
			if (src < 0) {
				refuse(r, c, &r->st.store_errors, XP_E_STORE, last, strerror(-src));
				return;
			}
			sync_due = false;
			burst = 0;
			if (ack_due && xp_conn_write(c, out, xp_encode_ack(out, last)) < 0)
				return;
			ack_due = false;
			if (src == 1 && xp_conn_write(c, out, xp_encode_point(out, &pt)) < 0)
				return;
		}
		if (rc == -ETIMEDOUT)
			rc = xp_conn_read_frame(c, &f, hello ? idle_wait : -1, &why);
		if (rc == -ETIMEDOUT) {
			idle_tick = true;
			continue;
		}
		if (rc == -EBADMSG) {
			refuse(r, c, &r->st.frame_errors, XP_E_FRAME, last, why);
			return;
		}
		if (rc < 0)
			return; /* peer gone */
		if (!hello) {
			if (f.type != XP_T_HELLO) {
				refuse(r, c, &r->st.frame_errors, XP_E_SEQUENCE, 0,
				       "expected hello");
				return;
			}
			if (f.magic != XP_MAGIC) {
				refuse(r, c, &r->st.frame_errors, XP_E_MAGIC, 0,
				       "not a strait sender");
				return;
			}
			if (f.version != XP_VERSION) {
				refuse(r, c, &r->st.frame_errors, XP_E_VERSION, 0,
				       "version 1 only");
				return;
			}
			disk = f.disk;
			char name[XP_MAX_NAME + 1];
			memcpy(name, f.name, f.name_len);
			name[f.name_len] = 0;
			int orc = r->o.open ? r->o.open(r->o.arg, disk, name, f.size, f.high) : 0;
			if (orc < 0) {
				char why2[XP_MAX_NAME + 96];
				snprintf(why2, sizeof(why2), "cannot open disk '%.64s': %.60s",
				         name, strerror(-orc));
				refuse(r, c, &r->st.frame_errors, XP_E_DISK, 0, why2);
				return;
			}
			if (r->o.last(r->o.arg, disk, &last) < 0) {
				refuse(r, c, &r->st.frame_errors, XP_E_DISK, 0, "no such disk");
				return;
			}
			uint32_t block = 0;
			uint64_t *sums = NULL;
			size_t nsums = 0;
			int seeded = r->o.seed && last == 0
			                 ? r->o.seed(r->o.arg, disk, &block, &sums, &nsums)
			                 : 0;
			if (seeded < 0) {
				refuse(r, c, &r->st.store_errors, XP_E_STORE, 0, strerror(-seeded));
				return;
			}
			if (xp_conn_write(
			        c, out,
			        xp_encode_hello_ack2(out, last, seeded ? XP_AF_SEEDED : 0)) < 0) {
				free(sums);
				return;
			}
			/* The seed's checksums, for the sender's initial copy. */
			uint8_t *sb = seeded ? lib_xmalloc(XP_HDR_LEN + XP_SUMS_FIXED_LEN +
			                                   8 * (size_t)XP_MAX_SUMS)
			                     : NULL;
			for (size_t i = 0; seeded && i < nsums; i += XP_MAX_SUMS) {
				uint32_t k =
				    nsums - i < XP_MAX_SUMS ? (uint32_t)(nsums - i) : XP_MAX_SUMS;
				if (xp_conn_write(
				        c, sb, xp_encode_sums(sb, i * block, block, k, sums + i)) <
				    0)
					seeded = -1;
			}
			free(sb);
			free(sums);
			if (seeded < 0)
				return;
			hello = rc_->hello = true;
			rc_->disk = disk;
			continue;
		}
		if (f.type == XP_T_ERROR)
			return;
		if (f.type != XP_T_DATA) {
			refuse(r, c, &r->st.frame_errors, XP_E_SEQUENCE, last, "expected data");
			return;
		}
		if (f.seq <= last) {
			count(r, &r->st.duplicates, NULL);
			ack_due = true;
			continue;
		}
		if (take_data(rc_, c, disk, &f) < 0)
			return;
		last = f.seq;
		if (!sync_due)
			burst_t = mono_ms();
		burst += f.len;
		ack_due = sync_due = true;
	}
}

static void *
conn_main(void *arg)
{
	struct rconn *c = arg;
	pthread_setname_np(pthread_self(), "strait-recv");
	serve(c);
	pthread_mutex_lock(&c->r->lmu);
	c->live = false;
	pthread_mutex_unlock(&c->r->lmu);
	xp_conn_close(&c->c);
	if (c->hello && c->r->o.close)
		c->r->o.close(c->r->o.arg, c->disk);
	atomic_store(&c->done, true);
	return NULL;
}

/* Joins finished connection threads (all of them when all). */
static void
reap(struct xp_receiver *r, bool all)
{
	struct rconn *gone = NULL;
	pthread_mutex_lock(&r->lmu);
	struct rconn **pp = &r->conns;
	while (*pp) {
		struct rconn *c = *pp;
		if (!all && !atomic_load(&c->done)) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		c->next = gone;
		gone = c;
	}
	pthread_mutex_unlock(&r->lmu);
	while (gone) { /* joined outside the lock: a stop or cut may want it meanwhile */
		struct rconn *c = gone;
		gone = c->next;
		pthread_join(c->th, NULL);
		ZSTD_freeDCtx(c->dctx);
		free(c->dbuf);
		free(c);
	}
}

/* Wakes the connections accepted before generation gen (all: every one) by shutting
 * their sockets down: a thread asleep in poll sees the end of the stream. */
static void
wake(struct xp_receiver *r, unsigned gen, bool all)
{
	pthread_mutex_lock(&r->lmu);
	for (struct rconn *c = r->conns; c; c = c->next)
		if (c->live && (all || c->gen != gen))
			shutdown(c->c.fd, SHUT_RDWR);
	pthread_mutex_unlock(&r->lmu);
}

int
xp_receiver_run(struct xp_receiver *r)
{
	while (!atomic_load(&r->stop)) {
		struct pollfd pfd = {.fd = r->lfd, .events = POLLIN};
		int pr = poll(&pfd, 1, TICK_MS);
		if (pr < 0 && errno != EINTR) {
			int e = errno;
			atomic_store(&r->stop, true);
			reap(r, true);
			return -e;
		}
		if (pr <= 0) {
			reap(r, false);
			continue;
		}
		int fd = accept4(r->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		struct rconn *c = lib_xcalloc(1, sizeof(*c));
		c->r = r;
		if (xp_conn_accepted(&c->c, r->o.io, fd) < 0) {
			free(c);
			continue;
		}
		atomic_init(&c->done, false);
		c->live = true;
		c->gen = atomic_load(&r->cut);
		count(r, &r->st.connections, NULL);
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		int prc = pthread_create(&c->th, NULL, conn_main, c);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (prc != 0) {
			xp_conn_close(&c->c);
			ZSTD_freeDCtx(c->dctx);
			free(c->dbuf);
			free(c);
			continue;
		}
		pthread_mutex_lock(&r->lmu);
		c->next = r->conns;
		r->conns = c;
		pthread_mutex_unlock(&r->lmu);
		if (atomic_load(&r->stop) || atomic_load(&r->cut) != c->gen)
			wake(r, atomic_load(&r->cut), atomic_load(&r->stop)); /* raced with one */
		reap(r, false);
	}
	reap(r, true);
	return 0;
}

void
xp_receiver_stop(struct xp_receiver *r)
{
	atomic_store(&r->stop, true);
	wake(r, 0, true);
}

void
xp_receiver_cut(struct xp_receiver *r)
{
	wake(r, atomic_fetch_add(&r->cut, 1) + 1, false);
}

void
xp_receiver_stats(struct xp_receiver *r, struct xp_receiver_stats *st)
{
	pthread_mutex_lock(&r->mu);
	*st = r->st;
	pthread_mutex_unlock(&r->mu);
}

void
xp_receiver_close(struct xp_receiver *r)
{
	if (!r)
		return;
	reap(r, true);
	close(r->lfd);
	pthread_mutex_destroy(&r->mu);
	pthread_mutex_destroy(&r->lmu);
	free(r);
}
