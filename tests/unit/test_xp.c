/*
 * test_xp.c - the replication transport (src/repl/xp*.c): the frame codec
 * (every type round trips, prefixes ask for more, a fuzz-style run of random
 * and mutated byte strings only ever gives a valid frame or an error), a
 * 10,000-record round trip over 127.0.0.1 through a receiver thread (every
 * byte equal, in order), cuts mid-stream (the receiver drops the link after
 * storing but before acking; the receiver is stopped and restarted) with the
 * sender resuming from the last stored sequence (nothing lost, no duplicate),
 * corruption and malformed frames from a raw socket (reported with an ERROR
 * frame, not stored, not acknowledged), a failing store, and the bandwidth
 * limit (4 MiB at 2 MiB/s takes 2 s +- 10%), TLS (a round trip with a
 * cut; a client trusting another certificate or name is refused), and idle
 * connections (no idle call while the store asks for none, its waits kept
 * when it does; a stop and a cut wake a connection asleep with no end), and
 * shards (24 disks' senders at once served by 2 threads, every record of each
 * stored in order), and a full window pushed (the receiver syncs at once).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "repl/xp.h"

#define DISK   0x5157u
#define MAXREC 8192

/* ---- deterministic records -------------------------------------------- */

static uint64_t
mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Record seq: odd ones compressible text, even ones random bytes. */
static void
gen(uint64_t seq, uint8_t *buf, struct xp_record *r)
{
	uint64_t s = seq * 7919;
	*r = (struct xp_record){0};
	r->seq = seq;
	r->len = (uint32_t)(1 + mix(&s) % MAXREC);
	r->offset = (mix(&s) % 100000) * 512;
	r->flags = (uint32_t)(seq % 3);
	r->data = buf;
	for (uint32_t i = 0; i < r->len; i++)
		buf[i] = (seq & 1) ? (uint8_t)("abcab "[(i / 7) % 6]) : (uint8_t)mix(&s);
}

/* ---- the store side ------------------------------------------------------ */

struct store {
	pthread_mutex_t mu;
	uint64_t last, stored, mismatches, out_of_order;
	uint64_t cut_at, fail_at;
	struct xp_receiver *rx;
	uint8_t exp[MAXREC];
};

static int
st_store(void *arg, uint64_t disk, const struct xp_record *r)
{
	struct store *s = arg;
	struct xp_record e;
	pthread_mutex_lock(&s->mu);
	if (r->seq == s->fail_at) {
		s->fail_at = 0;
		pthread_mutex_unlock(&s->mu);
		return -ENOSPC;
	}
	gen(r->seq, s->exp, &e);
	if (disk != DISK || e.len != r->len || e.offset != r->offset || e.flags != r->flags ||
	    memcmp(e.data, r->data, r->len) != 0)
		s->mismatches++;
	if (r->seq != s->last + 1)
		s->out_of_order++;
	s->last = r->seq;
	s->stored++;
	if (r->seq == s->cut_at) /* stored, but the link drops before the ack */
		xp_receiver_cut(s->rx);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static int
st_last(void *arg, uint64_t disk, uint64_t *seq)
{
	struct store *s = arg;
	if (disk != DISK)
		return -ENOENT;
	pthread_mutex_lock(&s->mu);
	*seq = s->last;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

struct rxrun {
	struct xp_receiver *rx;
	pthread_t th;
};

static void *
rx_main(void *arg)
{
	xp_receiver_run(arg);
	return NULL;
}

static void
rx_start(struct rxrun *rr, struct store *st, uint16_t port)
{
	struct xp_receiver_opts o = {.store = st_store, .last = st_last, .arg = st};
	assert_int_equal(xp_receiver_open("127.0.0.1", port, &o, &rr->rx), 0);
	pthread_mutex_lock(&st->mu);
	st->rx = rr->rx;
	pthread_mutex_unlock(&st->mu);
	assert_int_equal(pthread_create(&rr->th, NULL, rx_main, rr->rx), 0);
}

static void
rx_stop(struct rxrun *rr, struct xp_receiver_stats *stats)
{
	xp_receiver_stop(rr->rx);
	pthread_join(rr->th, NULL);
	if (stats)
		xp_receiver_stats(rr->rx, stats);
	xp_receiver_close(rr->rx);
	rr->rx = NULL;
}

static void
store_init(struct store *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
}

struct acks {
	uint64_t last, calls, backwards;
};

static void
on_ack(void *arg, uint64_t seq)
{
	struct acks *a = arg;
	if (seq < a->last)
		a->backwards++;
	if (seq > a->last)
		a->last = seq;
	a->calls++;
}

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char first_err[256]; /* the first error send_retry met */

/* Offers seq, reconnecting (for up to 10 s) while the link is down. */
static void
send_retry(struct xp_sender *tx, const struct xp_record *r, int *reconnects)
{
	for (int tries = 0; tries < 1000; tries++) {
		int rc = xp_send(tx, r);
		if (rc == 0)
			return;
		assert_true(rc == -ENOTCONN || rc == -EPROTO);
		if (!first_err[0])
			snprintf(first_err, sizeof(first_err), "%s", xp_sender_error(tx));
		while (xp_sender_reconnect(tx) < 0)
			usleep(10000);
		(*reconnects)++;
	}
	fail_msg("could not send seq %llu", (unsigned long long)r->seq);
}

static void
flush_retry(struct xp_sender *tx, int *reconnects)
{
	for (int i = 0; i < 100; i++) {
		int rc = xp_sender_flush(tx);
		if (rc == 0)
			return;
		assert_true(rc == -ENOTCONN || rc == -EPROTO);
		if (!first_err[0])
			snprintf(first_err, sizeof(first_err), "%s", xp_sender_error(tx));
		while (xp_sender_reconnect(tx) < 0)
			usleep(10000);
		(*reconnects)++;
	}
	fail_msg("could not flush");
}

/* ---- idle connections ------------------------------------------------------ */

struct idle_store {
	struct store s;
	int wait;           /* what the sync callback asks for */
	uint64_t idle, due; /* idle calls, and bursts synced */
};

static int
idle_sync(void *arg, uint64_t disk, bool idle, struct xp_point *pt, int *wait_ms)
{
	(void)disk, (void)pt;
	struct idle_store *is = arg;
	pthread_mutex_lock(&is->s.mu);
	if (idle)
		is->idle++;
	else
		is->due++;
	*wait_ms = is->wait;
	pthread_mutex_unlock(&is->s.mu);
	return 0;
}

static uint64_t
idle_calls(struct idle_store *is)
{
	pthread_mutex_lock(&is->s.mu);
	uint64_t n = is->idle;
	pthread_mutex_unlock(&is->s.mu);
	return n;
}

/* A connection that sent its records: synced once, then idle for 600 ms. */
static void
idle_round(struct idle_store *is, struct rxrun *rr, struct xp_sender **txp)
{
	struct xp_receiver_opts o = {
	    .store = st_store, .last = st_last, .sync = idle_sync, .arg = is};
	assert_int_equal(xp_receiver_open("127.0.0.1", 0, &o, &rr->rx), 0);
	is->s.rx = rr->rx;
	assert_int_equal(pthread_create(&rr->th, NULL, rx_main, rr->rx), 0);
	struct xp_sender_opts so = {.window = 32};
	assert_int_equal(xp_sender_open("127.0.0.1", xp_receiver_port(rr->rx), DISK, &so, txp), 0);
	static uint8_t buf[MAXREC];
	for (uint64_t seq = is->s.last + 1; seq <= 20; seq++) {
		struct xp_record r;
		gen(seq, buf, &r);
		assert_int_equal(xp_send(*txp, &r), 0);
	}
	assert_int_equal(xp_sender_flush(*txp), 0);
	assert_int_equal(xp_sender_acked(*txp), 20);
	usleep(600 * 1000);
}

static void
test_idle(void **state)
{
	(void)state;
	struct idle_store *is = calloc(1, sizeof(*is));
	store_init(&is->s);
	struct rxrun rr;
	struct xp_sender *tx;

	/* Nothing due: the connection sleeps (the old 100 ms tick made 5-6 calls). */
	is->wait = -1;
	idle_round(is, &rr, &tx);
	assert_true(is->due >= 1);
	assert_int_equal(idle_calls(is), 0);
	/* A stop wakes it: run returns although no frame comes. */
	double t0 = now_s();
	xp_receiver_stop(rr.rx);
	pthread_join(rr.th, NULL);
	assert_true(now_s() - t0 < 2.0);
	xp_receiver_close(rr.rx);
	xp_sender_close(tx);

	/* A store asking for 150 ms waits gets about 4 idle calls in 600 ms. */
	is->wait = 150;
	is->s.last = 0, is->due = 0;
	idle_round(is, &rr, &tx);
	uint64_t n = idle_calls(is);
	assert_true(n >= 2 && n <= 5);
	/* A cut wakes the sleeping connection: the sender sees the link go. */
	is->wait = -1;
	usleep(300 * 1000); /* the 150 ms wait ends; the next asks for none */
	xp_receiver_cut(rr.rx);
	int rc = 0;
	for (int i = 0; i < 200 && rc == 0; i++) {
		rc = xp_sender_poll(tx);
		if (rc == 0)
			usleep(10 * 1000);
	}
	assert_int_equal(rc, -ENOTCONN);
	xp_sender_close(tx);
	rx_stop(&rr, NULL);
	pthread_mutex_destroy(&is->s.mu);
	free(is);
}

/* ---- a full window is pushed -------------------------------------------------- */

/* A sender whose window is full waits for an ack; the frame that filled it says so
 * (XP_HF_PUSH) and the receiver syncs at once instead of waiting SYNC_MS (20 ms)
 * for more of a burst that cannot come. 100 windows of 8 records: at least 2 s
 * when each waits, well under one when pushed. */
static void
test_push(void **state)
{
	(void)state;
	struct idle_store *is = calloc(1, sizeof(*is));
	store_init(&is->s);
	is->wait = -1;
	struct xp_receiver_opts o = {
	    .store = st_store, .last = st_last, .sync = idle_sync, .arg = is};
	struct rxrun rr;
	assert_int_equal(xp_receiver_open("127.0.0.1", 0, &o, &rr.rx), 0);
	is->s.rx = rr.rx;
	assert_int_equal(pthread_create(&rr.th, NULL, rx_main, rr.rx), 0);
	struct xp_sender_opts so = {.window = 8};
	struct xp_sender *tx;
	assert_int_equal(xp_sender_open("127.0.0.1", xp_receiver_port(rr.rx), DISK, &so, &tx), 0);
	static uint8_t buf[MAXREC];
	double t0 = now_s();
	for (uint64_t seq = 1; seq <= 800; seq++) {
		struct xp_record r;
		gen(seq, buf, &r);
		assert_int_equal(xp_send(tx, &r), 0);
	}
	assert_int_equal(xp_sender_flush(tx), 0);
	double took = now_s() - t0;
	assert_int_equal(xp_sender_acked(tx), 800);
	assert_true(took < 1.0);
	assert_true(is->due >= 100); /* a sync a window at least: nothing acked undurable */
	xp_sender_close(tx);
	rx_stop(&rr, NULL);
	assert_int_equal(is->s.stored, 800);
	assert_int_equal(is->s.mismatches, 0);
	pthread_mutex_destroy(&is->s.mu);
	free(is);
}

/* ---- shards: many connections, few threads ---------------------------------- */

#define NDISKS 24
#define PER    300

struct multi {
	pthread_mutex_t mu;
	uint64_t last[NDISKS], bad;
	uint8_t exp[MAXREC];
};

static int
mu_store(void *arg, uint64_t disk, const struct xp_record *r)
{
	struct multi *m = arg;
	struct xp_record e;
	pthread_mutex_lock(&m->mu);
	gen(r->seq, m->exp, &e);
	if (disk >= NDISKS || r->seq != m->last[disk] + 1 || e.len != r->len ||
	    memcmp(e.data, r->data, r->len) != 0)
		m->bad++;
	else
		m->last[disk] = r->seq;
	pthread_mutex_unlock(&m->mu);
	return 0;
}

static int
mu_last(void *arg, uint64_t disk, uint64_t *seq)
{
	struct multi *m = arg;
	if (disk >= NDISKS)
		return -ENOENT;
	pthread_mutex_lock(&m->mu);
	*seq = m->last[disk];
	pthread_mutex_unlock(&m->mu);
	return 0;
}

static int
threads_now(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int n = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

static void
test_shards(void **state)
{
	(void)state;
	struct multi *m = calloc(1, sizeof(*m));
	pthread_mutex_init(&m->mu, NULL);
	int before = threads_now();
	struct xp_receiver_opts o = {.store = mu_store, .last = mu_last, .arg = m, .shards = 2};
	struct rxrun rr;
	assert_int_equal(xp_receiver_open("127.0.0.1", 0, &o, &rr.rx), 0);
	assert_int_equal(pthread_create(&rr.th, NULL, rx_main, rr.rx), 0);
	struct xp_sender *tx[NDISKS];
	/* a window above PER: no sender waits for an ack mid-run (the receiver's 20 ms
	 * burst wait would pace each window) */
	struct xp_sender_opts so = {.window = 2 * PER};
	for (uint64_t d = 0; d < NDISKS; d++)
		assert_int_equal(
		    xp_sender_open("127.0.0.1", xp_receiver_port(rr.rx), d, &so, &tx[d]), 0);
	/* every sender's records interleaved with the others' */
	static uint8_t buf[MAXREC];
	for (uint64_t seq = 1; seq <= PER; seq++)
		for (int d = 0; d < NDISKS; d++) {
			struct xp_record r;
			gen(seq, buf, &r);
			assert_int_equal(xp_send(tx[d], &r), 0);
		}
	for (int d = 0; d < NDISKS; d++)
		assert_int_equal(xp_sender_flush(tx[d]), 0);
	/* the caller, the run thread and 2 shards: not a thread per connection */
	int during = threads_now();
	assert_true(during - before <= 3);
	for (int d = 0; d < NDISKS; d++) {
		assert_int_equal(xp_sender_acked(tx[d]), PER);
		xp_sender_close(tx[d]);
	}
	rx_stop(&rr, NULL);
	assert_int_equal(m->bad, 0);
	for (int d = 0; d < NDISKS; d++)
		assert_int_equal(m->last[d], PER);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

/* ---- a point cut in the background (XP_SYNC_LATER) ------------------------------ */

/* Two disks on one shard. Disk 0's store answers its first sync with XP_SYNC_LATER
 * (or, with at_store, the store call of record 5 with XP_STORE_LATER: a mark's point
 * after it) and a thread resumes it 1.5 s later (a point being cut). Meanwhile disk 0
 * takes no calls (records sent in the pause are stored after it) and disk 1's records
 * are stored and acked at once; after the resume, a sync hands disk 0's point to its
 * sender. A shard that waited in the callback instead would hold disk 1 for 1.5 s. */
struct later {
	struct multi m;
	struct xp_receiver *rx;
	bool at_store;
	bool paused, resumed;
	uint64_t calls_in_pause; /* store or sync calls for disk 0 while paused */
	uint64_t points;         /* POINT frames disk 0's sender got */
	double resume_at;
};

static void *la_resume(void *arg);

/* The pause begins (under l->m.mu): the resume comes 1.5 s later. */
static void
la_pause(struct later *l)
{
	l->paused = true;
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, la_resume, l), 0);
	pthread_detach(th);
}

static int
la_store(void *arg, uint64_t disk, const struct xp_record *r)
{
	struct later *l = arg;
	pthread_mutex_lock(&l->m.mu);
	if (disk == 0 && l->paused && !l->resumed)
		l->calls_in_pause++;
	bool later = disk == 0 && l->at_store && r->seq == 5;
	if (later)
		la_pause(l);
	pthread_mutex_unlock(&l->m.mu);
	int rc = mu_store(&l->m, disk, r);
	return rc ? rc : later ? XP_STORE_LATER : 0;
}

static void *
la_resume(void *arg)
{
	struct later *l = arg;
	usleep(1500 * 1000);
	pthread_mutex_lock(&l->m.mu);
	l->resumed = true;
	l->resume_at = now_s();
	pthread_mutex_unlock(&l->m.mu);
	xp_receiver_resume(l->rx, 0);
	return NULL;
}

static int
la_sync(void *arg, uint64_t disk, bool idle, struct xp_point *pt, int *wait_ms)
{
	struct later *l = arg;
	*wait_ms = -1;
	if (disk != 0)
		return 0;
	pthread_mutex_lock(&l->m.mu);
	int rc = 0;
	if (!l->paused && !l->at_store) {
		la_pause(l);
		rc = XP_SYNC_LATER;
	} else if (!l->paused) {
		rc = 0; /* at_store: a burst before the pause */
	} else if (!l->resumed) {
		l->calls_in_pause++;
	} else if (!l->points) {
		*pt = (struct xp_point){.covered = l->m.last[0], .point = 7, .time = 1};
		rc = 1;
	}
	pthread_mutex_unlock(&l->m.mu);
	return rc;
}

static void
la_point(void *arg, const struct xp_point *p)
{
	struct later *l = arg;
	pthread_mutex_lock(&l->m.mu);
	if (p->point == 7)
		l->points++;
	pthread_mutex_unlock(&l->m.mu);
}

static void
la_send(struct xp_sender *tx, uint64_t from, uint64_t to)
{
	static uint8_t buf[MAXREC];
	for (uint64_t seq = from; seq <= to; seq++) {
		struct xp_record r;
		gen(seq, buf, &r);
		assert_int_equal(xp_send(tx, &r), 0);
	}
}

static void
run_later(bool at_store)
{
	struct later *l = calloc(1, sizeof(*l));
	l->at_store = at_store;
	pthread_mutex_init(&l->m.mu, NULL);
	struct xp_receiver_opts o = {
	    .store = la_store, .last = mu_last, .sync = la_sync, .arg = l, .shards = 1};
	struct rxrun rr;
	assert_int_equal(xp_receiver_open("127.0.0.1", 0, &o, &rr.rx), 0);
	l->rx = rr.rx;
	assert_int_equal(pthread_create(&rr.th, NULL, rx_main, rr.rx), 0);
	uint16_t port = xp_receiver_port(rr.rx);
	struct xp_sender_opts s0 = {.window = 64, .on_point = la_point, .arg = l},
	                      s1 = {.window = 64};
	struct xp_sender *tx0, *tx1;
	assert_int_equal(xp_sender_open("127.0.0.1", port, 0, &s0, &tx0), 0);
	assert_int_equal(xp_sender_open("127.0.0.1", port, 1, &s1, &tx1), 0);

	/* Disk 0's first burst: durable and acked, then its connection waits (at_store:
	 * from record 5 on, the rest stored and all acked after the resume). */
	la_send(tx0, 1, 10);
	if (!at_store) {
		assert_int_equal(xp_sender_flush(tx0), 0);
		assert_int_equal(xp_sender_acked(tx0), 10);
	} else {
		assert_int_equal(xp_sender_poll(tx0), 0); /* written out */
		for (int i = 0; i < 200; i++) {
			pthread_mutex_lock(&l->m.mu);
			bool p = l->paused;
			pthread_mutex_unlock(&l->m.mu);
			if (p)
				break;
			usleep(10 * 1000);
		}
	}
	la_send(tx0, 11, 20); /* taken by the socket, stored after the resume */
	assert_int_equal(xp_sender_poll(tx0), 0);
	/* Disk 1 on the same shard goes on meanwhile. */
	double t0 = now_s();
	for (uint64_t k = 0; k < 5; k++) {
		la_send(tx1, 1 + 20 * k, 20 * (k + 1));
		assert_int_equal(xp_sender_flush(tx1), 0);
	}
	double took = now_s() - t0;
	assert_int_equal(xp_sender_acked(tx1), 100);
	assert_true(took < 0.75);
	pthread_mutex_lock(&l->m.mu);
	assert_false(l->resumed);
	assert_int_equal(l->m.last[0], at_store ? 5 : 10);
	pthread_mutex_unlock(&l->m.mu);
	xp_sender_poll(tx0);
	assert_int_equal(xp_sender_acked(tx0), at_store ? 0 : 10);

	/* After the resume: the records sent in the pause, and the point. */
	assert_int_equal(xp_sender_flush(tx0), 0);
	assert_int_equal(xp_sender_acked(tx0), 20);
	for (int i = 0; i < 200; i++) {
		pthread_mutex_lock(&l->m.mu);
		uint64_t p = l->points;
		pthread_mutex_unlock(&l->m.mu);
		if (p)
			break;
		xp_sender_poll(tx0);
		usleep(10 * 1000);
	}
	pthread_mutex_lock(&l->m.mu);
	assert_true(l->resumed);
	assert_int_equal(l->points, 1);
	assert_int_equal(l->calls_in_pause, 0);
	assert_int_equal(l->m.bad, 0);
	assert_int_equal(l->m.last[0], 20);
	assert_int_equal(l->m.last[1], 100);
	pthread_mutex_unlock(&l->m.mu);
	xp_sender_close(tx0);
	xp_sender_close(tx1);
	rx_stop(&rr, NULL);
	pthread_mutex_destroy(&l->m.mu);
	free(l);
}

static void
test_later(void **state)
{
	(void)state;
	run_later(false); /* an interval point: the sync's XP_SYNC_LATER */
	run_later(true);  /* a mark's: the store's XP_STORE_LATER */
}

/* ---- codec ----------------------------------------------------------------- */

static void
test_codec_roundtrip(void **state)
{
	uint8_t b[XP_HDR_LEN + XP_ERROR_FIXED_LEN + XP_MAX_ERRMSG];
	struct xp_frame f;
	size_t used, n;
	const char *why;

	n = xp_encode_hello(b, 42, "app1-os", 1ull << 40, 77);
	assert_int_equal(xp_decode(b, n, &f, &used, &why), 0);
	assert_int_equal(used, n);
	assert_int_equal(f.type, XP_T_HELLO);
	assert_int_equal(f.magic, XP_MAGIC);
	assert_int_equal(f.version, XP_VERSION);
	assert_int_equal(f.disk, 42);
	assert_int_equal(f.size, 1ull << 40);
	assert_int_equal(f.high, 77);
	assert_int_equal(f.name_len, 7);
	assert_memory_equal(f.name, "app1-os", 7);
	b[14] = 6; /* a name length that differs from the body's */
	assert_int_equal(xp_decode(b, n, &f, &used, &why), -EBADMSG);
	n = xp_encode_hello(b, 42, NULL, 0, 0);
	assert_int_equal(xp_decode(b, n, &f, &used, &why), 0);
	assert_int_equal(f.name_len, 0);
	n = xp_encode_hello(b, 42, "app1-os", 1ull << 40, 77);
	for (size_t k = 0; k < n; k++) /* every proper prefix asks for more */
		assert_int_equal(xp_decode(b, k, &f, &used, &why), -EAGAIN);

	n = xp_encode_hello_ack(b, 77);
	assert_int_equal(xp_decode(b, n, &f, &used, &why), 0);
	assert_int_equal(f.type, XP_T_HELLO_ACK);
	assert_int_equal(f.seq, 77);
	n = xp_encode_ack(b, 1234567890123ull);
	assert_int_equal(xp_decode(b, n, &f, &used, &why), 0);
	assert_int_equal(f.type, XP_T_ACK);
	assert_int_equal(f.seq, 1234567890123ull);
	n = xp_encode_error(b, XP_E_CHECKSUM, 9, "bad");
	assert_int_equal(xp_decode(b, n, &f, &used, &why), 0);
	assert_int_equal(f.code, XP_E_CHECKSUM);
	assert_int_equal(f.plen, 3);
	assert_memory_equal(f.payload, "bad", 3);

	/* Data: compressible records are compressed, random ones are not. */
	static uint8_t buf[MAXREC];
	struct xp_record r;
	for (uint64_t seq = 1; seq <= 40; seq++) {
		uint8_t *fr;
		gen(seq, buf, &r);
		assert_int_equal(xp_encode_data(&r, 3, NULL, &fr, &n), 0);
		assert_int_equal(xp_decode(fr, n, &f, &used, &why), 0);
		assert_int_equal(used, n);
		assert_int_equal(f.seq, seq);
		assert_int_equal(f.offset, r.offset);
		assert_int_equal(f.len, r.len);
		assert_int_equal(f.rflags, r.flags);
		assert_int_equal(f.hash, XXH3_64bits(buf, r.len));
		if ((seq & 1) && r.len > 200)
			assert_true(f.hflags & XP_HF_ZSTD);
		if (!(seq & 1)) {
			assert_false(f.hflags & XP_HF_ZSTD);
			assert_memory_equal(f.payload, buf, r.len);
		}
		assert_int_equal(xp_decode(fr, n - 1, &f, &used, &why), -EAGAIN);
		free(fr);
	}
	/* Bad records are refused by the encoder. */
	uint8_t *fr;
	r.seq = 0;
	assert_int_equal(xp_encode_data(&r, 0, NULL, &fr, &n), -EINVAL);
	r.seq = 1;
	r.len = XP_MAX_RECORD + 1;
	assert_int_equal(xp_encode_data(&r, 0, NULL, &fr, &n), -EINVAL);
}

static void
test_codec_rejects(void **state)
{
	uint8_t b[64];
	struct xp_frame f;
	size_t used, n;
	const char *why;

	b[0] = 9;
	assert_int_equal(xp_decode(b, 1, &f, &used, &why), -EBADMSG);
	assert_non_null(strstr(why, "type"));
	n = xp_encode_ack(b, 5);
	b[1] = XP_HF_ZSTD;
	assert_int_equal(xp_decode(b, n, &f, &used, &why), -EBADMSG);
	n = xp_encode_ack(b, 5);
	b[7] = 9; /* ack body length */
	assert_int_equal(xp_decode(b, n, &f, &used, &why), -EBADMSG);
	n = xp_encode_hello(b, 5, NULL, 0, 0);
	b[2] = 1; /* reserved */
	assert_int_equal(xp_decode(b, 4, &f, &used, &why), -EBADMSG);
	/* Data: declared length beyond the maximum, before the body arrives. */
	uint8_t d[XP_HDR_LEN + XP_DATA_FIXED_LEN] = {XP_T_DATA, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
	assert_int_equal(xp_decode(d, 8, &f, &used, &why), -EBADMSG);
	/* Uncompressed payload whose length differs from len. */
	uint8_t one = 'x';
	struct xp_record r = {.seq = 1, .len = 1, .data = &one};
	uint8_t *fr;
	assert_int_equal(xp_encode_data(&r, 0, NULL, &fr, &n), 0);
	fr[XP_HDR_LEN + 19] = 2;
	assert_int_equal(xp_decode(fr, n, &f, &used, &why), -EBADMSG);
	assert_non_null(strstr(why, "length"));
	/* Compressed flag with a payload as long as the record. */
	fr[XP_HDR_LEN + 19] = 1;
	fr[1] = XP_HF_ZSTD;
	assert_int_equal(xp_decode(fr, n, &f, &used, &why), -EBADMSG);
	/* PUSH: on data it decodes (the sender waits for an ack), elsewhere it does not. */
	fr[1] = XP_HF_PUSH;
	assert_int_equal(xp_decode(fr, n, &f, &used, &why), 0);
	assert_int_equal(f.hflags, XP_HF_PUSH);
	free(fr);
	n = xp_encode_ack(b, 5);
	b[1] = XP_HF_PUSH;
	assert_int_equal(xp_decode(b, n, &f, &used, &why), -EBADMSG);
	assert_non_null(strstr(why, "non-data"));
}

static void
check_decode(const uint8_t *b, size_t n)
{
	struct xp_frame f;
	size_t used = 0;
	const char *why = NULL;
	int rc = xp_decode(b, n, &f, &used, &why);
	assert_true(rc == 0 || rc == -EAGAIN || rc == -EBADMSG);
	if (rc == -EBADMSG)
		assert_non_null(why);
	if (rc == 0) {
		assert_true(used >= XP_HDR_LEN && used <= n);
		assert_int_equal(used, XP_HDR_LEN + f.body_len);
		if (f.payload) {
			assert_true(f.payload >= b && f.payload + f.plen <= b + used);
		}
		if (f.type == XP_T_DATA) {
			assert_true(f.len <= XP_MAX_RECORD);
			if (f.hflags & XP_HF_ZSTD)
				assert_true(f.plen > 0 && f.plen < f.len);
			else
				assert_int_equal(f.plen, f.len);
		}
	}
}

static void
test_decoder_fuzz(void **state)
{
	uint64_t s = 12345;
	static uint8_t buf[MAXREC + 64];
	int valid = 0;
	/* Random strings, with a valid type byte half the time. */
	for (int it = 0; it < 200000; it++) {
		size_t n = mix(&s) % 96;
		uint8_t *b = malloc(n ? n : 1); /* exact size: ASan sees any over-read */
		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)mix(&s);
		if (n && (it & 1))
			b[0] = (uint8_t)(1 + mix(&s) % 5);
		if (n > 3 && (it & 2))
			b[1] = b[2] = b[3] = 0;
		if (n > 7 && (it & 4))
			b[4] = b[5] = 0;
		check_decode(b, n);
		free(b);
	}
	/* Mutated valid frames of every type: flips, truncations, length edits. */
	for (int it = 0; it < 20000; it++) {
		uint8_t *fr = NULL, small[XP_HDR_LEN + XP_ERROR_FIXED_LEN + XP_MAX_ERRMSG];
		size_t n;
		struct xp_record r;
		switch (it % 5) {
		case 0:
			gen(1 + mix(&s) % 64, buf, &r);
			assert_int_equal(xp_encode_data(&r, (int)(it & 1), NULL, &fr, &n), 0);
			break;
		case 1:
			n = xp_encode_hello(small, mix(&s), (it & 2) ? "disk-a" : NULL, mix(&s),
			                    mix(&s));
			break;
		case 2:
			n = xp_encode_hello_ack(small, mix(&s));
			break;
		case 3:
			n = xp_encode_ack(small, mix(&s));
			break;
		default:
			n = xp_encode_error(small, 5, 1, "reason");
			break;
		}
		uint8_t *src = fr ? fr : small;
		size_t m = (mix(&s) & 3) ? n : mix(&s) % (n + 1);
		uint8_t *b = malloc(m ? m : 1);
		memcpy(b, src, m);
		int flips = (int)(mix(&s) % 4);
		for (int k = 0; k < flips && m; k++)
			b[mix(&s) % m] ^= (uint8_t)(1u << (mix(&s) % 8));
		struct xp_frame f;
		size_t used;
		const char *why;
		if (xp_decode(b, m, &f, &used, &why) == 0)
			valid++;
		check_decode(b, m);
		free(b);
		free(fr);
	}
	assert_true(valid > 1000); /* the mutations leave many frames valid */
}

/* ---- over loopback ------------------------------------------------------- */

static void
test_roundtrip_10000(void **state)
{
	struct store *st = malloc(sizeof(*st));
	store_init(st);
	struct rxrun rr;
	rx_start(&rr, st, 0);
	struct acks a = {0};
	struct xp_sender_opts o = {.window = 32, .zlevel = 1, .on_ack = on_ack, .arg = &a};
	struct xp_sender *tx;
	assert_int_equal(xp_sender_open("127.0.0.1", xp_receiver_port(rr.rx), DISK, &o, &tx), 0);
	static uint8_t buf[MAXREC];
	uint64_t raw = 0;
	for (uint64_t seq = 1; seq <= 10000; seq++) {
		struct xp_record r;
		gen(seq, buf, &r);
		raw += r.len;
		assert_int_equal(xp_send(tx, &r), 0);
	}
	assert_int_equal(xp_sender_flush(tx), 0);
	assert_int_equal(xp_sender_acked(tx), 10000);
	assert_true(xp_sender_wire_bytes(tx) < raw); /* half the records compress */
	xp_sender_close(tx);
	struct xp_receiver_stats rs;
	rx_stop(&rr, &rs);
	assert_int_equal(st->stored, 10000);
	assert_int_equal(st->last, 10000);
	assert_int_equal(st->mismatches, 0);
	assert_int_equal(st->out_of_order, 0);
	assert_int_equal(rs.duplicates, 0);
	assert_int_equal(rs.checksum_errors + rs.frame_errors + rs.store_errors, 0);
	assert_int_equal(a.last, 10000);
	assert_int_equal(a.backwards, 0);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

static void
test_cut_and_resume(void **state)
{
	struct store *st = malloc(sizeof(*st));
	store_init(st);
	st->cut_at = 3000; /* stored, then the link drops before its ack */
	struct rxrun rr;
	rx_start(&rr, st, 0);
	uint16_t port = xp_receiver_port(rr.rx);
	struct acks a = {0};
	struct xp_sender_opts o = {
	    .window = 64, .zlevel = 1, .timeout_ms = 5000, .on_ack = on_ack, .arg = &a};
	struct xp_sender *tx;
	assert_int_equal(xp_sender_open("127.0.0.1", port, DISK, &o, &tx), 0);
	static uint8_t buf[MAXREC];
	int reconnects = 0;
	uint64_t dups = 0;
	for (uint64_t seq = 1; seq <= 10000; seq++) {
		struct xp_record r;
		gen(seq, buf, &r);
		if (seq == 6000) { /* the receiver dies and comes back on the same port */
			struct xp_receiver_stats rs;
			rx_stop(&rr, &rs);
			dups += rs.duplicates;
			rx_start(&rr, st, port);
		}
		send_retry(tx, &r, &reconnects);
	}
	flush_retry(tx, &reconnects);
	assert_int_equal(xp_sender_acked(tx), 10000);
	xp_sender_close(tx);
	struct xp_receiver_stats rs;
	rx_stop(&rr, &rs);
	dups += rs.duplicates;
	assert_true(reconnects >= 2);
	assert_int_equal(st->stored, 10000); /* nothing lost, nothing stored twice */
	assert_int_equal(st->mismatches, 0);
	assert_int_equal(st->out_of_order, 0);
	assert_int_equal(dups, 0); /* nothing stored or acknowledged was sent again */
	assert_int_equal(a.last, 10000);
	assert_int_equal(a.backwards, 0);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

/* A raw client socket, connected; reads time out after 5 s (a failure, not a hang). */
static int
raw_connect(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct timeval tv = {5, 0};
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* A raw client: connect and say hello; returns the fd and the last stored seq. */
static int
raw_hello(uint16_t port, uint64_t disk, uint64_t *last)
{
	int fd = raw_connect(port);
	uint8_t b[XP_HDR_LEN + XP_HELLO_LEN + XP_MAX_NAME];
	size_t n = xp_encode_hello(b, disk, NULL, 0, 0);
	assert_int_equal(write(fd, b, n), (ssize_t)n);
	if (last) {
		assert_int_equal(read(fd, b, 24), 24);
		struct xp_frame f;
		size_t used;
		assert_int_equal(xp_decode(b, 24, &f, &used, NULL), 0);
		assert_int_equal(f.type, XP_T_HELLO_ACK);
		*last = f.seq;
	}
	return fd;
}

/* Reads frames until an ERROR (returned in *f, text in msg) or EOF (-1). */
static int
raw_until_error(int fd, struct xp_frame *f, char *msg, size_t msz, uint64_t *acked)
{
	static uint8_t b[4096];
	size_t n = 0, used;
	for (;;) {
		int rc = xp_decode(b, n, f, &used, NULL);
		if (rc == 0) {
			if (f->type == XP_T_ERROR) {
				snprintf(msg, msz, "%.*s", (int)f->plen, (const char *)f->payload);
				return 0;
			}
			if (f->type == XP_T_ACK && acked)
				*acked = f->seq;
			memmove(b, b + used, n - used);
			n -= used;
			continue;
		}
		ssize_t r = read(fd, b + n, sizeof(b) - n);
		if (r <= 0)
			return -1;
		n += (size_t)r;
	}
}

static void
test_corruption_and_errors(void **state)
{
	struct store *st = malloc(sizeof(*st));
	store_init(st);
	struct rxrun rr;
	rx_start(&rr, st, 0);
	uint16_t port = xp_receiver_port(rr.rx);
	static uint8_t buf[MAXREC];
	struct xp_record r;
	uint8_t *fr;
	size_t n;
	uint64_t last, acked = 0;
	struct xp_frame f;
	char msg[300];

	/* Seq 1 intact (pushed: acknowledged at once), seq 2 with one payload bit
	 * flipped (uncompressed). */
	int fd = raw_hello(port, DISK, &last);
	assert_int_equal(last, 0);
	gen(1, buf, &r);
	assert_int_equal(xp_encode_data(&r, 0, NULL, &fr, &n), 0);
	fr[1] |= XP_HF_PUSH;
	assert_int_equal(write(fd, fr, n), (ssize_t)n);
	free(fr);
	gen(2, buf, &r);
	assert_int_equal(xp_encode_data(&r, 0, NULL, &fr, &n), 0);
	fr[n - 1] ^= 0x10;
	assert_int_equal(write(fd, fr, n), (ssize_t)n);
	free(fr);
	assert_int_equal(raw_until_error(fd, &f, msg, sizeof(msg), &acked), 0);
	assert_int_equal(f.code, XP_E_CHECKSUM);
	assert_int_equal(f.seq, 2);
	assert_int_equal(acked, 1); /* seq 2 never acknowledged */
	assert_non_null(strstr(msg, "XXH3"));
	close(fd);

	/* A corrupted compressed payload: reported (decompress or checksum), not stored. */
	fd = raw_hello(port, DISK, &last);
	assert_int_equal(last, 1);
	gen(3, buf, &r);
	assert_int_equal(xp_encode_data(&r, 1, NULL, &fr, &n), 0);
	assert_true(fr[1] & XP_HF_ZSTD);
	fr[n - 2] ^= 0xff;
	fr[n / 2 + 20] ^= 0x55;
	assert_int_equal(write(fd, fr, n), (ssize_t)n);
	free(fr);
	assert_int_equal(raw_until_error(fd, &f, msg, sizeof(msg), NULL), 0);
	assert_true(f.code == XP_E_DECOMPRESS || f.code == XP_E_CHECKSUM);
	close(fd);

	/* A malformed frame: ERROR naming the reason, then the link closes. */
	fd = raw_hello(port, DISK, &last);
	uint8_t junk[16] = {XP_T_ACK, 0, 0, 0, 0, 0, 0, 3};
	assert_int_equal(write(fd, junk, 16), 16);
	assert_int_equal(raw_until_error(fd, &f, msg, sizeof(msg), NULL), 0);
	assert_int_equal(f.code, XP_E_FRAME);
	assert_non_null(strstr(msg, "ack body length"));
	uint8_t tmp[8];
	assert_true(read(fd, tmp, sizeof(tmp)) <= 0);
	close(fd);

	/* Data before hello, a foreign disk. */
	fd = raw_connect(port);
	uint8_t ackf[16];
	n = xp_encode_ack(ackf, 1);
	assert_int_equal(write(fd, ackf, n), (ssize_t)n);
	assert_int_equal(raw_until_error(fd, &f, msg, sizeof(msg), NULL), 0);
	assert_int_equal(f.code, XP_E_SEQUENCE);
	close(fd);
	fd = raw_hello(port, 999, NULL);
	assert_int_equal(raw_until_error(fd, &f, msg, sizeof(msg), NULL), 0);
	assert_int_equal(f.code, XP_E_DISK);
	close(fd);

	/* A failing store (full disk): the sender is told why; after it, resume. */
	pthread_mutex_lock(&st->mu);
	st->fail_at = 5;
	pthread_mutex_unlock(&st->mu);
	struct xp_sender_opts o = {.timeout_ms = 5000};
	struct xp_sender *tx;
	assert_int_equal(xp_sender_open("127.0.0.1", port, DISK, &o, &tx), 0);
	int reconnects = 0;
	first_err[0] = 0;
	for (uint64_t seq = 2; seq <= 6; seq++) { /* one at a time: the error is read, not reset */
		gen(seq, buf, &r);
		send_retry(tx, &r, &reconnects);
		flush_retry(tx, &reconnects);
	}
	assert_int_equal(reconnects, 1);
	assert_non_null(strstr(first_err, "store failed"));
	assert_non_null(strstr(first_err, "No space left"));
	assert_int_equal(xp_sender_acked(tx), 6);
	xp_sender_close(tx);

	struct xp_receiver_stats rs;
	rx_stop(&rr, &rs);
	assert_true(rs.checksum_errors >= 1 && rs.frame_errors >= 3);
	assert_int_equal(rs.checksum_errors + rs.frame_errors, 5);
	assert_int_equal(rs.store_errors, 1);
	assert_int_equal(rs.duplicates, 0);
	assert_int_equal(st->stored, 6);
	assert_int_equal(st->mismatches, 0);
	assert_int_equal(st->out_of_order, 0);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

static void
test_bandwidth_limit(void **state)
{
	struct store *st = malloc(sizeof(*st));
	store_init(st);
	struct rxrun rr;
	rx_start(&rr, st, 0);
	/* 4 MiB of 4 KiB records at 2 MiB/s, framing included: 2 s +- 10%. */
	struct xp_sender_opts o = {.rate = 2u << 20};
	struct xp_sender *tx;
	static uint8_t buf[4096];
	uint64_t s = 99;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)mix(&s);
	double t0 = now_s();
	assert_int_equal(xp_sender_open("127.0.0.1", xp_receiver_port(rr.rx), DISK, &o, &tx), 0);
	uint32_t nrec = (4u << 20) / (4096 + XP_HDR_LEN + XP_DATA_FIXED_LEN);
	for (uint32_t i = 1; i <= nrec; i++) {
		struct xp_record r = {
		    .seq = i, .offset = (uint64_t)i * 4096, .len = 4096, .data = buf};
		assert_int_equal(xp_send(tx, &r), 0);
	}
	assert_int_equal(xp_sender_flush(tx), 0);
	double dt = now_s() - t0;
	uint64_t wire = xp_sender_wire_bytes(tx);
	xp_sender_close(tx);
	rx_stop(&rr, NULL);
	print_message("# 4 MiB at 2 MiB/s: %.3f s (%llu wire bytes)\n", dt,
	              (unsigned long long)wire);
	assert_true(wire >= (4u << 20) - 4096 && wire <= (4u << 20));
	assert_true(dt >= 1.8 && dt <= 2.2);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

static void
test_open_errors(void **state)
{
	struct xp_sender *tx;
	struct store st;
	store_init(&st);
	struct rxrun rr;
	rx_start(&rr, &st, 0);
	uint16_t port = xp_receiver_port(rr.rx);
	/* Unknown disk: open fails with the receiver's reason. */
	assert_int_equal(xp_sender_open("127.0.0.1", port, 7, NULL, &tx), -EPROTO);
	assert_null(tx);
	rx_stop(&rr, NULL);
	/* Nobody listening: refused, and said to be unreachable (a refusal by a receiver
	 * that answers is not). */
	struct xp_sender_opts o = {0};
	assert_int_equal(xp_sender_open("127.0.0.1", port, DISK, &o, &tx), -ECONNREFUSED);
	assert_true(o.unreachable);
	/* A receiver that answers no SYN (as one behind a circuit that is down): a listener
	 * whose accept queue is full drops them. The connect gives up after timeout_ms, not
	 * after the kernel's two minutes of retries. */
	int lfd = socket(AF_INET, SOCK_STREAM, 0), fill[4];
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 0), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	for (int i = 0; i < 4; i++) { /* the queue takes one or two; the rest wait */
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fill[i], (struct sockaddr *)&sa, sizeof(sa));
	}
	usleep(100000);
	struct xp_sender_opts slow = {.timeout_ms = 300};
	double t0 = now_s();
	assert_int_equal(xp_sender_open("127.0.0.1", ntohs(sa.sin_port), DISK, &slow, &tx),
	                 -ETIMEDOUT);
	double took = now_s() - t0;
	print_message("# a connect to a listener that drops SYNs gave up after %.2f s\n", took);
	assert_true(took >= 0.25 && took < 5);
	assert_true(slow.unreachable);
	assert_non_null(strstr(slow.err, "connect"));
	for (int i = 0; i < 4; i++)
		close(fill[i]);
	close(lfd);
	struct xp_receiver *rx;
	struct xp_receiver_opts bad = {0};
	assert_int_equal(xp_receiver_open("127.0.0.1", 0, &bad, &rx), -EINVAL);
	pthread_mutex_destroy(&st.mu);
}

/* ---- TLS ------------------------------------------------------------------- */

/* A self-signed P-256 certificate for cn into dir/<stem>.crt and .key. */
static void
make_cert(const char *dir, const char *stem, const char *cn)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	assert_non_null(k);
	X509 *x = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME *nm = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, nm);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.crt", dir, stem);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	PEM_write_X509(f, x);
	fclose(f);
	snprintf(path, sizeof(path), "%s/%s.key", dir, stem);
	f = fopen(path, "w");
	assert_non_null(f);
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void
test_tls(void **state)
{
	char dir[] = "/tmp/test_xp_tlsXXXXXX", crt[600], key[600], other[600];
	assert_non_null(mkdtemp(dir));
	make_cert(dir, "srv", "replica.test");
	make_cert(dir, "other", "replica.test");
	snprintf(crt, sizeof(crt), "%s/srv.crt", dir);
	snprintf(key, sizeof(key), "%s/srv.key", dir);
	snprintf(other, sizeof(other), "%s/other.crt", dir);

	struct xp_io_ops *sio, *cio, *bad;
	struct xp_tls_opts so = {.cert_file = crt, .key_file = key};
	struct xp_tls_opts co = {.ca_file = crt, .server_name = "replica.test"};
	struct xp_tls_opts bo = {.ca_file = other, .server_name = "replica.test"};
	assert_int_equal(xp_tls_ops_new(&so, true, &sio), 0);
	assert_int_equal(xp_tls_ops_new(&co, false, &cio), 0);
	assert_int_equal(xp_tls_ops_new(&bo, false, &bad), 0);
	struct xp_tls_opts missing = {.ca_file = "/nonexistent/ca.pem"};
	struct xp_io_ops *none;
	assert_int_equal(xp_tls_ops_new(&missing, false, &none), -EINVAL);
	assert_int_equal(xp_tls_ops_new(&co, true, &none), -EINVAL); /* server without a cert */

	struct store *st = malloc(sizeof(*st));
	store_init(st);
	st->cut_at = 700;
	struct rxrun rr;
	struct xp_receiver_opts ro = {
	    .store = st_store, .last = st_last, .arg = st, .io = sio, .hello_ms = 1500};
	assert_int_equal(xp_receiver_open("127.0.0.1", 0, &ro, &rr.rx), 0);
	st->rx = rr.rx;
	assert_int_equal(pthread_create(&rr.th, NULL, rx_main, rr.rx), 0);
	uint16_t port = xp_receiver_port(rr.rx);

	/* A peer that connects and never starts its handshake holds up nobody: a sender
	 * right after it is through at once (a blocking handshake on the accept thread
	 * made it wait 10 s), and the stalled one is dropped after hello_ms. */
	int stall = raw_connect(port);
	double t0 = now_s();
	struct xp_sender *tx;
	struct acks a0 = {0};
	struct xp_sender_opts fo = {.timeout_ms = 5000, .on_ack = on_ack, .arg = &a0, .io = cio};
	assert_int_equal(xp_sender_open("127.0.0.1", port, DISK, &fo, &tx), 0);
	assert_true(now_s() - t0 < 1.0);
	xp_sender_close(tx);
	struct timeval tv = {3, 0};
	setsockopt(stall, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char byte;
	t0 = now_s();
	assert_int_equal(recv(stall, &byte, 1, 0), 0); /* closed by the receiver */
	assert_true(now_s() - t0 < 2.5);
	close(stall);
	struct xp_receiver_stats rs0;
	xp_receiver_stats(rr.rx, &rs0);
	assert_string_equal(rs0.last_error, "no hello in time");

	/* A client that trusts another certificate does not get through. */
	struct xp_sender_opts bopt = {.io = bad, .timeout_ms = 5000};
	assert_int_equal(xp_sender_open("127.0.0.1", port, DISK, &bopt, &tx), -ECONNABORTED);
	/* Nor one that expects another name. */
	struct xp_tls_opts wo = {.ca_file = crt, .server_name = "elsewhere.test"};
	struct xp_io_ops *wrong;
	assert_int_equal(xp_tls_ops_new(&wo, false, &wrong), 0);
	bopt.io = wrong;
	assert_int_equal(xp_sender_open("127.0.0.1", port, DISK, &bopt, &tx), -ECONNABORTED);

	/* 2,000 records through TLS, with a cut at 700: all stored once, in order. */
	struct acks a = {0};
	struct xp_sender_opts o = {
	    .zlevel = 1, .timeout_ms = 5000, .on_ack = on_ack, .arg = &a, .io = cio};
	assert_int_equal(xp_sender_open("127.0.0.1", port, DISK, &o, &tx), 0);
	static uint8_t buf[MAXREC];
	int reconnects = 0;
	for (uint64_t seq = 1; seq <= 2000; seq++) {
		struct xp_record r;
		gen(seq, buf, &r);
		send_retry(tx, &r, &reconnects);
	}
	flush_retry(tx, &reconnects);
	assert_int_equal(xp_sender_acked(tx), 2000);
	xp_sender_close(tx);
	struct xp_receiver_stats rs;
	rx_stop(&rr, &rs);
	assert_true(reconnects >= 1);
	assert_int_equal(st->stored, 2000);
	assert_int_equal(st->mismatches, 0);
	assert_int_equal(st->out_of_order, 0);
	assert_int_equal(rs.duplicates, 0);
	assert_int_equal(a.last, 2000);
	xp_tls_ops_free(sio);
	xp_tls_ops_free(cio);
	xp_tls_ops_free(bad);
	xp_tls_ops_free(wrong);
	pthread_mutex_destroy(&st->mu);
	free(st);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_codec_roundtrip),
	    cmocka_unit_test(test_codec_rejects),
	    cmocka_unit_test(test_decoder_fuzz),
	    cmocka_unit_test(test_roundtrip_10000),
	    cmocka_unit_test(test_cut_and_resume),
	    cmocka_unit_test(test_corruption_and_errors),
	    cmocka_unit_test(test_bandwidth_limit),
	    cmocka_unit_test(test_open_errors),
	    cmocka_unit_test(test_tls),
	    cmocka_unit_test(test_idle),
	    cmocka_unit_test(test_shards),
	    cmocka_unit_test(test_push),
	    cmocka_unit_test(test_later),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
