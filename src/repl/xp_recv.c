/*
 * xp_recv.c - the replication transport's receiver: answers each sender's (one
 * per disk) hello with the disk's last durably stored sequence, then verifies
 * and stores DATA frames in order and acknowledges them.
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
 * Threads: connections are served by a few shards (twice the CPUs, at most
 * SHARDS_MAX), not a thread each: 10,000 disks are 10,000 sockets, not 10,000
 * threads. A shard is one thread with its own epoll set, its connections and a
 * heap of their deadlines (a burst's SYNC_MS, the store's next idle call: see
 * xp_sync_fn); it alone touches them, so a connection is never run twice at
 * once and is freed by the thread that ends it. The accept thread
 * (xp_receiver_run) makes the socket non-blocking (a TLS handshake then runs in
 * the shard, a step per read: a peer stalling it holds up nobody) and hands the
 * connection to the shard with the fewest (its incoming list, under its mutex,
 * and its eventfd). A connection without a hello after HELLO_MS is dropped. Stop and cut wake every
 * shard through its eventfd; a connection checks both before every frame. A connection takes at
 * most RUN_FRAMES frames a turn, so a busy disk does not starve the others of
 * its shard; callbacks of one shard's disks run one after another. A store that
 * cuts a point in the background answers a sync with XP_SYNC_LATER: the burst is
 * acked, the connection leaves the epoll set (paused) and the shard serves the
 * others; xp_receiver_resume puts it back on the ready list with an idle call due,
 * which hands over the point.
 * Sockets are non-blocking: reads take what is there; a write that finds the
 * socket full waits for room (xp_conn_write), at most the sender's own timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "lib/lib.h"
#include "repl/xp.h"

#define TICK_MS 100 /* the accept loop's look at stop; a store's first idle call */
/* A short burst waits this long for more records (unless pushed: XP_HF_PUSH): a
 * disk written a little is synced every SYNC_MS, not at each write
 * (bench/repl-spread.sh: 100 disks sharing 10 MB/s of 4 KiB writes, 31.8-37.4 ms
 * of CPU per MB with 20 ms, 25.9 with 100; the RPO unchanged). */
#define SYNC_MS    100
#define SYNC_BYTES (16u << 20) /* a burst this long is synced at once */
#define RUN_FRAMES 256u        /* frames a connection takes before its shard's others */
#define SHARDS_MAX 16u
#define HELLO_MS   30000u /* a connection says hello (its TLS handshake done) by then */
#define NO_HEAP    SIZE_MAX

struct shard;

struct rconn {
	struct xp_receiver *r;
	struct xp_conn c;
	unsigned gen; /* the cut generation it was accepted in */
	/* the conversation */
	bool hello, ack_due, sync_due, idle_tick;
	bool push;                  /* a frame since the last sync asked for it now (XP_HF_PUSH) */
	uint64_t disk, last, burst; /* burst: bytes stored since the last sync */
	int64_t burst_t;            /* when the first of them came */
	int idle_wait;              /* the store's next due time (-1: none before new records) */
	/* the shard's */
	int64_t at;  /* deadline, monotonic ms (in the heap), or -1 */
	size_t hidx; /* its place in the heap, or NO_HEAP */
	bool ready;  /* on the ready list: frames left after its turn */
	bool listed; /* registered with the shard's epoll set */
	bool paused; /* the store cuts a point (XP_SYNC_LATER): out of the epoll set */
	ZSTD_DCtx *dctx;
	uint8_t *dbuf; /* grows to the largest record seen, at most XP_MAX_RECORD */
	size_t dcap;
	struct rconn *prev, *next; /* the shard's connections */
	struct rconn *link;        /* the incoming or the ready list */
};

struct shard {
	struct xp_receiver *r;
	pthread_t th;
	int ep, evfd;
	pthread_mutex_t mu;     /* incoming, resume */
	struct rconn *incoming; /* accepted, not taken yet */
	struct lib_vec resume;  /* of uint64_t: disks whose paused connections go on */
	size_t npaused;
	atomic_size_t n; /* connections: the accept thread balances on it */
	struct rconn *conns;
	struct rconn **heap; /* by at, earliest first */
	size_t nheap, capheap;
	struct rconn *ready;
};

struct xp_receiver {
	int lfd;
	uint16_t port;
	struct xp_receiver_opts o;
	atomic_bool stop;
	atomic_uint cut; /* a generation: connections older than it hang up */
	pthread_mutex_t mu;
	struct xp_receiver_stats st;
	struct shard *shards;
	unsigned nshards, started;
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
	         bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0)
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
	if (!r->o.hello_ms)
		r->o.hello_ms = HELLO_MS;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	r->nshards = o->shards ? o->shards : cpus > 0 ? 2 * (unsigned)cpus : 2;
	if (r->nshards < 1)
		r->nshards = 1;
	if (r->nshards > SHARDS_MAX)
		r->nshards = SHARDS_MAX;
	atomic_init(&r->stop, false);
	atomic_init(&r->cut, 0);
	pthread_mutex_init(&r->mu, NULL);
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

/* Verifies and stores one DATA frame. 0 = stored, XP_STORE_LATER = stored and the
 * connection to pause; -1 = refused (connection to close). */
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
	return rc == XP_STORE_LATER ? XP_STORE_LATER : 0;
}

/* How long a burst of `bytes` begun at `since` may still wait for more records
 * before its sync: 0 when it is due now. */
static int
burst_wait(uint64_t bytes, int64_t since)
{
	int64_t left = since + SYNC_MS - lib_mono_ms();
	return bytes >= SYNC_BYTES || left <= 0 ? 0 : (int)left;
}

/* ---- a shard's deadlines: a binary heap, one entry per connection at most ---------- */

static void
heap_put(struct shard *sh, size_t i, struct rconn *c)
{
	sh->heap[i] = c;
	c->hidx = i;
}

static void
heap_up(struct shard *sh, size_t i)
{
	struct rconn *c = sh->heap[i];
	while (i > 0 && sh->heap[(i - 1) / 2]->at > c->at) {
		heap_put(sh, i, sh->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_put(sh, i, c);
}

static void
heap_down(struct shard *sh, size_t i)
{
	struct rconn *c = sh->heap[i];
	for (;;) {
		size_t k = 2 * i + 1;
		if (k >= sh->nheap)
			break;
		if (k + 1 < sh->nheap && sh->heap[k + 1]->at < sh->heap[k]->at)
			k++;
		if (sh->heap[k]->at >= c->at)
			break;
		heap_put(sh, i, sh->heap[k]);
		i = k;
	}
	heap_put(sh, i, c);
}

/* The connection's deadline becomes at (monotonic ms; -1: none). */
static void
heap_set(struct shard *sh, struct rconn *c, int64_t at)
{
	if (c->hidx != NO_HEAP) { /* out first */
		size_t i = c->hidx;
		struct rconn *last = sh->heap[--sh->nheap];
		c->hidx = NO_HEAP;
		if (last != c) {
			heap_put(sh, i, last);
			heap_up(sh, i);
			heap_down(sh, last->hidx);
		}
	}
	c->at = at;
	if (at < 0)
		return;
	if (sh->nheap == sh->capheap) {
		sh->capheap = sh->capheap ? 2 * sh->capheap : 64;
		sh->heap = lib_xrealloc(sh->heap, sh->capheap * sizeof(*sh->heap));
	}
	heap_put(sh, sh->nheap++, c);
	heap_up(sh, c->hidx);
}

/* ---- connections ---------------------------------------------------------------- */

static void
conn_free(struct rconn *c)
{
	xp_conn_close(&c->c);
	ZSTD_freeDCtx(c->dctx);
	free(c->dbuf);
	free(c);
}

/* The connection is over: out of the shard, the store told (after a hello), freed. */
static void
conn_end(struct shard *sh, struct rconn *c)
{
	heap_set(sh, c, -1);
	if (c->ready) {
		struct rconn **pp = &sh->ready;
		while (*pp != c)
			pp = &(*pp)->link;
		*pp = c->link;
	}
	if (c->listed)
		epoll_ctl(sh->ep, EPOLL_CTL_DEL, c->c.fd, NULL);
	if (c->paused)
		sh->npaused--;
	if (c->prev)
		c->prev->next = c->next;
	else
		sh->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	atomic_fetch_sub(&sh->n, 1);
	struct xp_receiver *r = c->r;
	bool told = c->hello;
	uint64_t disk = c->disk;
	xp_conn_close(&c->c); /* the sender sees the end before the store's close work */
	if (told && r->o.close)
		r->o.close(r->o.arg, disk);
	conn_free(c);
}

/* The hello: the disk opened (or made), the last stored sequence answered, a seed's
 * checksums sent. false: refused or gone (the caller ends the connection). */
static bool
take_hello(struct rconn *rc_, const struct xp_frame *f)
{
	struct xp_receiver *r = rc_->r;
	struct xp_conn *c = &rc_->c;
	uint8_t out[XP_HDR_LEN + XP_POINT_LEN];
	if (f->type != XP_T_HELLO) {
		refuse(r, c, &r->st.frame_errors, XP_E_SEQUENCE, 0, "expected hello");
		return false;
	}
	if (f->magic != XP_MAGIC) {
		refuse(r, c, &r->st.frame_errors, XP_E_MAGIC, 0, "not a strait sender");
		return false;
	}
	if (f->version != XP_VERSION) {
		refuse(r, c, &r->st.frame_errors, XP_E_VERSION, 0, "version 1 only");
		return false;
	}
	uint64_t disk = f->disk;
	char name[XP_MAX_NAME + 1];
	memcpy(name, f->name, f->name_len);
	name[f->name_len] = 0;
	int orc = r->o.open ? r->o.open(r->o.arg, disk, name, f->size, f->high) : 0;
	if (orc < 0) {
		char why2[XP_MAX_NAME + 96];
		snprintf(why2, sizeof(why2), "cannot open disk '%.64s': %.60s", name,
		         strerror(-orc));
		refuse(r, c, &r->st.frame_errors, XP_E_DISK, 0, why2);
		return false;
	}
	uint64_t last;
	if (r->o.last(r->o.arg, disk, &last) < 0) {
		refuse(r, c, &r->st.frame_errors, XP_E_DISK, 0, "no such disk");
		return false;
	}
	uint32_t block = 0;
	uint64_t *sums = NULL;
	size_t nsums = 0;
	int seeded = r->o.seed && last == 0 ? r->o.seed(r->o.arg, disk, &block, &sums, &nsums) : 0;
	if (seeded < 0) {
		refuse(r, c, &r->st.store_errors, XP_E_STORE, 0, strerror(-seeded));
		return false;
	}
	if (xp_conn_write(c, out, xp_encode_hello_ack2(out, last, seeded ? XP_AF_SEEDED : 0)) < 0) {
		free(sums);
		return false;
	}
	/* The seed's checksums, for the sender's initial copy. */
	uint8_t *sb =
	    seeded ? lib_xmalloc(XP_HDR_LEN + XP_SUMS_FIXED_LEN + 8 * (size_t)XP_MAX_SUMS) : NULL;
	for (size_t i = 0; seeded && i < nsums; i += XP_MAX_SUMS) {
		uint32_t k = nsums - i < XP_MAX_SUMS ? (uint32_t)(nsums - i) : XP_MAX_SUMS;
		if (xp_conn_write(c, sb, xp_encode_sums(sb, i * block, block, k, sums + i)) < 0)
			seeded = -1;
	}
	free(sb);
	free(sums);
	if (seeded < 0)
		return false;
	rc_->hello = true;
	rc_->disk = disk;
	rc_->last = last;
	return true;
}

/* The store cuts a point in the background: out of the epoll set and the heap until
 * xp_receiver_resume names the disk (what the connection buffered waits with it).
 * false: the connection is to end. */
static bool
conn_pause(struct shard *sh, struct rconn *rc_)
{
	if (rc_->listed && epoll_ctl(sh->ep, EPOLL_CTL_DEL, rc_->c.fd, NULL) < 0)
		return false;
	rc_->listed = false;
	rc_->paused = true;
	sh->npaused++;
	heap_set(sh, rc_, -1);
	return true;
}

/* Nothing more to read now: the burst's sync and ack when due, then the next
 * deadline. false: the connection is to end. */
static bool
conn_wait(struct shard *sh, struct rconn *rc_, bool idle_fired)
{
	struct xp_receiver *r = rc_->r;
	struct xp_conn *c = &rc_->c;
	uint8_t out[XP_HDR_LEN + XP_POINT_LEN];
	int64_t now = lib_mono_ms();
	int wait = rc_->sync_due && !rc_->idle_tick && !rc_->push
	               ? burst_wait(rc_->burst, rc_->burst_t)
	               : 0;
	if (wait) { /* the burst waits a little for more records */
		heap_set(sh, rc_, now + wait);
		return true;
	}
	if (rc_->hello && (rc_->ack_due || rc_->idle_tick)) {
		/* A burst is stored: one sync makes it durable, then one ack (and the point
		 * the sync cut, if any). Idle calls let the store cut a point that came due
		 * without new records. */
		struct xp_point pt;
		int src = r->o.sync && (rc_->sync_due || rc_->idle_tick)
		              ? r->o.sync(r->o.arg, rc_->disk, !rc_->sync_due, &pt, &rc_->idle_wait)
		              : 0;
		rc_->idle_tick = false;
		if (src < 0) {
			refuse(r, c, &r->st.store_errors, XP_E_STORE, rc_->last, strerror(-src));
			return false;
		}
		rc_->sync_due = false;
		rc_->push = false;
		rc_->burst = 0;
		if (rc_->ack_due && xp_conn_write(c, out, xp_encode_ack(out, rc_->last)) < 0)
			return false;
		rc_->ack_due = false;
		if (src == 1 && xp_conn_write(c, out, xp_encode_point(out, &pt)) < 0)
			return false;
		if (src == XP_SYNC_LATER)
			return conn_pause(sh, rc_);
	}
	if (!rc_->hello)
		return true; /* the hello's deadline stands */
	int iw = rc_->idle_wait;
	if (iw < 0 || idle_fired)
		xp_conn_idle(c); /* asleep, or a whole idle wait passed: no buffer held */
	heap_set(sh, rc_, iw < 0 ? -1 : now + (iw ? iw : 1)); /* 0: the next ms, not this one */
	return true;
}

/* Serves what the connection has now (fired: its deadline came). */
static void
conn_run(struct shard *sh, struct rconn *rc_, bool fired)
{
	struct xp_receiver *r = rc_->r;
	struct xp_conn *c = &rc_->c;
	if (rc_->paused)
		return;
	bool idle_fired = fired && !rc_->sync_due;
	if (idle_fired)
		rc_->idle_tick = true;
	if (fired && !rc_->hello) { /* no hello in time (or a TLS handshake stalled) */
		count(r, &r->st.frame_errors, "no hello in time");
		conn_end(sh, rc_);
		return;
	}
	for (unsigned turn = 0;; turn++) {
		if (atomic_load(&r->stop) || atomic_load(&r->cut) != rc_->gen)
			break;
		if (turn == RUN_FRAMES) { /* the others' turn; back without an event */
			if (!rc_->ready) {
				rc_->ready = true;
				rc_->link = sh->ready;
				sh->ready = rc_;
			}
			return;
		}
		struct xp_frame f;
		const char *why;
		int rc = xp_conn_read_frame(c, &f, 0, &why);
		if (rc == -ETIMEDOUT) {
			if (conn_wait(sh, rc_, idle_fired))
				return;
			break;
		}
		if (rc == -EBADMSG) {
			refuse(r, c, &r->st.frame_errors, XP_E_FRAME, rc_->last, why);
			break;
		}
		if (rc < 0)
			break; /* peer gone */
		if (!rc_->hello) {
			if (!take_hello(rc_, &f))
				break;
			heap_set(sh, rc_, -1); /* the hello's deadline is met */
			continue;
		}
		if (f.type == XP_T_ERROR)
			break;
		if (f.type != XP_T_DATA) {
			refuse(r, c, &r->st.frame_errors, XP_E_SEQUENCE, rc_->last,
			       "expected data");
			break;
		}
		if (f.hflags & XP_HF_PUSH)
			rc_->push = true;
		if (f.seq <= rc_->last) {
			count(r, &r->st.duplicates, NULL);
			rc_->ack_due = true;
			continue;
		}
		int tr = take_data(rc_, c, rc_->disk, &f);
		if (tr < 0)
			break;
		rc_->last = f.seq;
		if (!rc_->sync_due)
			rc_->burst_t = lib_mono_ms();
		rc_->burst += f.len;
		rc_->ack_due = rc_->sync_due = true;
		if (tr == XP_STORE_LATER) { /* acked by the sync after the resume */
			if (conn_pause(sh, rc_))
				return;
			break;
		}
	}
	conn_end(sh, rc_);
}

/* ---- shards ----------------------------------------------------------------------- */

static void
shard_wake(struct shard *sh)
{
	uint64_t one = 1;
	while (write(sh->evfd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

/* The accept thread's connections join; a cut ends the older ones. */
static void
shard_news(struct shard *sh)
{
	uint64_t v;
	while (read(sh->evfd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&sh->mu);
	struct rconn *in = sh->incoming;
	sh->incoming = NULL;
	struct lib_vec res = sh->resume;
	lib_vec_init(&sh->resume, sizeof(uint64_t));
	pthread_mutex_unlock(&sh->mu);
	/* Paused connections of the disks named go on: back in the epoll set, and on the
	 * ready list with an idle call due (it collects the point). */
	for (uint32_t i = 0; i < res.n && sh->npaused; i++) {
		uint64_t disk = ((uint64_t *)res.v)[i];
		for (struct rconn *c = sh->conns; c; c = c->next) {
			if (!c->paused || c->disk != disk)
				continue;
			c->paused = false;
			sh->npaused--;
			struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
			c->listed = epoll_ctl(sh->ep, EPOLL_CTL_ADD, c->c.fd, &ev) == 0;
			c->idle_tick = true;
			if (!c->ready) {
				c->ready = true;
				c->link = sh->ready;
				sh->ready = c;
			}
		}
	}
	lib_vec_free(&res);
	while (in) {
		struct rconn *c = in;
		in = c->link;
		c->link = NULL;
		c->prev = NULL;
		c->next = sh->conns;
		if (sh->conns)
			sh->conns->prev = c;
		sh->conns = c;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		c->listed = epoll_ctl(sh->ep, EPOLL_CTL_ADD, c->c.fd, &ev) == 0;
		if (!c->listed)
			conn_end(sh, c);
		else
			heap_set(sh, c, lib_mono_ms() + sh->r->o.hello_ms);
	}
	unsigned gen = atomic_load(&sh->r->cut);
	for (struct rconn *c = sh->conns, *nx; c; c = nx) {
		nx = c->next;
		if (c->gen != gen)
			conn_end(sh, c);
	}
}

static void *
shard_main(void *arg)
{
	struct shard *sh = arg;
	struct xp_receiver *r = sh->r;
	pthread_setname_np(pthread_self(), "strait-recv");
	struct epoll_event ev[64];
	while (!atomic_load(&r->stop)) {
		int timeout = -1;
		if (sh->ready) {
			timeout = 0;
		} else if (sh->nheap) {
			int64_t left = sh->heap[0]->at - lib_mono_ms();
			timeout = left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
		}
		int n = epoll_wait(sh->ep, ev, (int)LIB_ARRAY_LEN(ev), timeout);
		bool news = false;
		for (int i = 0; i < n; i++) {
			if (!ev[i].data.ptr)
				news = true; /* after this batch: a cut may end what it names */
			else
				conn_run(sh, ev[i].data.ptr, false);
		}
		if (news)
			shard_news(sh);
		struct rconn *rl = sh->ready;
		sh->ready = NULL;
		while (rl) {
			struct rconn *c = rl;
			rl = c->link;
			c->ready = false;
			c->link = NULL;
			conn_run(sh, c, false);
		}
		int64_t now = lib_mono_ms();
		while (sh->nheap && sh->heap[0]->at <= now) {
			struct rconn *c = sh->heap[0];
			heap_set(sh, c, -1);
			conn_run(sh, c, true);
		}
	}
	shard_news(sh); /* the last to come in */
	while (sh->conns)
		conn_end(sh, sh->conns);
	return NULL;
}

static int
shards_start(struct xp_receiver *r)
{
	r->shards = lib_xcalloc(r->nshards, sizeof(*r->shards));
	for (unsigned i = 0; i < r->nshards; i++) {
		r->shards[i].ep = r->shards[i].evfd = -1;
		pthread_mutex_init(&r->shards[i].mu, NULL);
		lib_vec_init(&r->shards[i].resume, sizeof(uint64_t));
	}
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = 0;
	for (unsigned i = 0; i < r->nshards && !rc; i++) {
		struct shard *sh = &r->shards[i];
		sh->r = r;
		atomic_init(&sh->n, 0);
		sh->ep = epoll_create1(EPOLL_CLOEXEC);
		sh->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
		if (sh->ep < 0 || sh->evfd < 0 ||
		    epoll_ctl(sh->ep, EPOLL_CTL_ADD, sh->evfd, &ev) < 0)
			rc = -errno;
		else if ((rc = -pthread_create(&sh->th, NULL, shard_main, sh)) == 0)
			r->started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static void
shards_stop(struct xp_receiver *r)
{
	atomic_store(&r->stop, true);
	for (unsigned i = 0; i < r->started; i++)
		shard_wake(&r->shards[i]);
	for (unsigned i = 0; i < r->started; i++)
		pthread_join(r->shards[i].th, NULL);
	r->started = 0;
}

int
xp_receiver_run(struct xp_receiver *r)
{
	int rc = shards_start(r);
	while (!rc && !atomic_load(&r->stop)) {
		struct pollfd pfd = {.fd = r->lfd, .events = POLLIN};
		int pr = poll(&pfd, 1, TICK_MS);
		if (pr < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (pr <= 0)
			continue;
		int fd = accept4(r->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		struct rconn *c = lib_xcalloc(1, sizeof(*c));
		c->r = r;
		c->at = -1;
		c->hidx = NO_HEAP;
		c->idle_wait = r->o.sync ? TICK_MS : -1; /* the first idle call asks the store */
		/* Non-blocking before the wrap: a TLS handshake then runs in the shard, a
		 * step per read, and a peer stalling it holds up nobody. */
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
			close(fd);
			free(c);
			continue;
		}
		if (xp_conn_accepted(&c->c, r->o.io, fd) < 0) { /* it closed fd */
			free(c);
			continue;
		}
		count(r, &r->st.connections, NULL);
		c->gen = atomic_load(&r->cut);
		struct shard *best = &r->shards[0];
		for (unsigned i = 1; i < r->nshards; i++)
			if (atomic_load(&r->shards[i].n) < atomic_load(&best->n))
				best = &r->shards[i];
		atomic_fetch_add(&best->n, 1);
		pthread_mutex_lock(&best->mu);
		c->link = best->incoming;
		best->incoming = c;
		pthread_mutex_unlock(&best->mu);
		shard_wake(best);
	}
	shards_stop(r);
	return rc;
}

void
xp_receiver_stop(struct xp_receiver *r)
{
	atomic_store(&r->stop, true);
	for (unsigned i = 0; i < r->started; i++)
		shard_wake(&r->shards[i]);
}

void
xp_receiver_cut(struct xp_receiver *r)
{
	atomic_fetch_add(&r->cut, 1);
	for (unsigned i = 0; i < r->started; i++)
		shard_wake(&r->shards[i]);
}

void
xp_receiver_resume(struct xp_receiver *r, uint64_t disk)
{
	for (unsigned i = 0; r->shards && i < r->nshards; i++) {
		struct shard *sh = &r->shards[i];
		pthread_mutex_lock(&sh->mu);
		*(uint64_t *)lib_vec_push(&sh->resume) = disk;
		pthread_mutex_unlock(&sh->mu);
		if (sh->evfd >= 0)
			shard_wake(sh);
	}
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
	if (r->started)
		shards_stop(r);
	for (unsigned i = 0; r->shards && i < r->nshards; i++) {
		struct shard *sh = &r->shards[i];
		while (sh->incoming) { /* accepted after the stop: never served */
			struct rconn *c = sh->incoming;
			sh->incoming = c->link;
			conn_free(c);
		}
		if (sh->ep >= 0)
			close(sh->ep);
		if (sh->evfd >= 0)
			close(sh->evfd);
		pthread_mutex_destroy(&sh->mu);
		lib_vec_free(&sh->resume);
		free(sh->heap);
	}
	free(r->shards);
	close(r->lfd);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
