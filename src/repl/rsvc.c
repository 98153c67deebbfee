/*
 * rsvc.c - the replication service of rsvc.h: threads, ticks, schedules.
 *
 * Invariants: the NBD thread only serves; the shipper thread is the only one
 * that calls repl_ship (the target prunes on its own point thread); marks come from any thread
 * (they append markers under the disks' locks and queue the disks, which wakes the shipper; then
 * they wait for the target's points). rsvc_stop stops the NBD server first (no write is
 * acknowledged after that), then the shipper, sends what is left, stops the in-process target,
 * whose close cuts a point for whatever changed.
 */
#include "repl/rsvc.h"

#include "lib/lib.h"
#include "repl/nbd.h"
#include "repl/tgt.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FDS_DISK                                                                                   \
	9 /* the source, the journal's directory, activity log, bitmap, segments, the shipper's    \
	     reader, a socket */
#define FDS_RECV   5 /* the replica, its log and .seq, the receiving socket */
#define PENDING_MS 5
#define RETRY_MS   100
#define RETRY_MAX  100 /* a link back after an outage is used within this */

struct rsvc {
	struct rsvc_opts o;
	struct store *st; /* the in-process target's */
	struct tgt *tg;
	struct repl *r;
	struct nbd_server *srv;
	struct xp_io_ops *io;   /* the link's TLS, or NULL */
	struct tgt_seed *seeds; /* copies: the receiver keeps pointing at them */
	size_t nseeds;
	uint16_t port;
	pthread_t nbd_th, ship_th, tgt_th;
	bool nbd_up, ship_up, tgt_up;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, kick;
	int64_t last_app;
	char (*errs)[192]; /* per disk: the last error logged */
	bool *bitmap;      /* per disk: in bitmap mode, as last logged */
};

int
rsvc_tls(const struct xp_tls_opts *o, bool server, struct xp_io_ops **out, char *err, size_t errlen)
{
	const char *files[] = {o->cert_file, o->key_file, o->ca_file};
	for (size_t i = 0; i < 3; i++) {
		int rc = files[i] ? lib_check_readable("TLS", files[i], err, errlen) : 0;
		if (rc)
			return rc;
	}
	if (server && (!o->cert_file || !o->key_file)) {
		snprintf(err, errlen, "TLS: the receiver needs a certificate and its key");
		return -EINVAL;
	}
	if (!server && !o->ca_file) {
		snprintf(err, errlen,
		         "TLS: the sender needs the CA that signed the receiver's "
		         "certificate");
		return -EINVAL;
	}
	if (!o->cert_file != !o->key_file) {
		snprintf(err, errlen,
		         "TLS: a certificate needs its key, and a key its certificate");
		return -EINVAL;
	}
	int rc = xp_tls_ops_new(o, server, out);
	if (rc)
		snprintf(err, errlen,
		         "TLS: cannot load %s%s%s%s%s (expected PEM files, the key matching the "
		         "certificate)",
		         o->cert_file ? o->cert_file : "", o->cert_file ? ", " : "",
		         o->key_file ? o->key_file : "", o->ca_file && o->cert_file ? ", " : "",
		         o->ca_file ? o->ca_file : "");
	return rc;
}

static void *
tgt_main(void *arg)
{
	struct rsvc *s = arg;
	pthread_setname_np(pthread_self(), "strait-target");
	tgt_run(s->tg);
	return NULL;
}

static void *
nbd_main(void *arg)
{
	struct rsvc *s = arg;
	pthread_setname_np(pthread_self(), "strait-accept");
	nbd_server_run(s->srv);
	return NULL;
}

/* One round of the shipper (full: every disk, see repl_ship); returns
 * repl_ship's result (0, or the first error). */
static int
tick(struct rsvc *s, bool full)
{
	int64_t now = (int64_t)time(NULL);
	int rc = repl_ship(s->r, now, full), shipped = rc;
	if (!full)
		return shipped;
	/* Errors stay per disk in the status and are retried at the next tick; each
	 * change is logged once. */
	for (size_t i = 0; i < repl_ndisks(s->r); i++) {
		struct repl_disk_status st;
		if (repl_status(s->r, i, &st))
			continue;
		if (st.bitmap != s->bitmap[i])
			fprintf(stderr,
			        st.bitmap
			            ? "strait: %s: the journal is full (or its disk is): writes "
			              "are tracked in the dirty bitmap until the link catches up "
			              "(a resync follows)\n"
			            : "strait: %s: journaling again; resyncing what the "
			              "bitmap holds\n",
			        st.name);
		s->bitmap[i] = st.bitmap;
		if (!strcmp(st.error, s->errs[i]))
			continue;
		if (st.error[0])
			fprintf(stderr, "strait: %s: %s (retrying)\n", st.name, st.error);
		else
			fprintf(stderr, "strait: %s: replicating again\n", st.name);
		snprintf(s->errs[i], sizeof(s->errs[i]), "%s", st.error);
	}
	if (s->o.app_every && now - s->last_app >= s->o.app_every) {
		s->last_app = now;
		int marks;
		rc = repl_mark(s->r, NULL, &marks);
		if (rc < 0 && rc != -EAGAIN)
			fprintf(stderr, "strait: app-consistent point: %s\n", strerror(-rc));
	}
	return shipped;
}

/* A disk with nothing to do was written (repl_set_wake): the shipper comes now. */
static void
wake(void *arg)
{
	struct rsvc *s = arg;
	pthread_mutex_lock(&s->mu);
	s->kick = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void *
ship_main(void *arg)
{
	struct rsvc *s = arg;
	pthread_setname_np(pthread_self(), "strait-ship");
	int64_t retry = 0, last_full = 0;
	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		pthread_mutex_unlock(&s->mu);
		/* A full round (every disk) each tick and after a failed one; between them
		 * only the disks with work (repl_ship). A failed round (a link down) is
		 * retried after RETRY_MS, doubling up to RETRY_MAX (and the tick): a link
		 * that comes back is used within it, a dead one is tried ten times a second
		 * with one connect a round, whatever the number of disks (link_up). */
		int64_t t0 = lib_mono_ms();
		bool full = retry || t0 - last_full >= s->o.tick_ms;
		if (full)
			last_full = t0;
		retry = tick(s, full) < 0 ? (!retry                  ? RETRY_MS
		                             : retry * 2 < RETRY_MAX ? retry * 2
		                                                     : RETRY_MAX)
		                          : 0;
		bool busy = repl_busy(s->r);
		/* Records in flight on a link that is up: back in PENDING_MS for their acks and
		 * the next batch, so the link, not the tick, sets the pace. */
		int64_t next_full = last_full + s->o.tick_ms - lib_mono_ms();
		int64_t wait_ms = busy                            ? 0
		                  : repl_pending(s->r)            ? PENDING_MS
		                  : retry && retry < s->o.tick_ms ? retry
		                  : next_full > 0                 ? next_full
		                                                  : 0;
		pthread_mutex_lock(&s->mu);
		if (s->stop || !wait_ms || s->kick) {
			s->kick = false;
			continue;
		}
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t ns = ts.tv_nsec + wait_ms % 1000 * 1000000;
		ts.tv_sec += wait_ms / 1000 + ns / 1000000000;
		ts.tv_nsec = ns % 1000000000;
		while (!s->stop && !s->kick &&
		       pthread_cond_timedwait(&s->cv, &s->mu, &ts) != ETIMEDOUT)
			;
		s->kick = false;
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Threads that take no signals: the caller's thread handles them. */
static int
spawn(pthread_t *th, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(th, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -rc;
}

int
rsvc_start(const struct rsvc_opts *o, const struct rsvc_disk *disks, size_t nd,
           const struct rsvc_group *groups, size_t ng, struct rsvc **out, char *err, size_t errlen)
{
	struct rsvc *s = lib_xcalloc(1, sizeof(*s));
	s->o = *o;
	if (!s->o.interval)
		s->o.interval = 300;
	if (!s->o.tick_ms)
		s->o.tick_ms = 1000;
	s->last_app = (int64_t)time(NULL);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	char host[64] = "";
	uint16_t port = 0;
	int rc = 0;
	if (o->tcp && lib_parse_hostport(o->tcp, host, sizeof(host), &port)) {
		snprintf(err, errlen, "bad NBD TCP address '%s' (expected HOST:PORT)", o->tcp);
		rc = -EINVAL;
	}
	if (!rc) { /* file descriptors per disk: see lib_nofile_raise; the receiver's too when local
		    */
		char what[64];
		snprintf(what, sizeof(what), "protecting %zu disk%s", nd, nd == 1 ? "" : "s");
		rc = lib_nofile_check(64 + nd * (o->target ? FDS_DISK : FDS_DISK + FDS_RECV), what,
		                      err, errlen);
	}
	struct repl_target rt = {.zlevel = o->zlevel, .rate = o->rate};
	char thost[64];
	if (!rc && o->target) {
		if (lib_parse_hostport(o->target, thost, sizeof(thost), &rt.port) || !rt.port) {
			snprintf(err, errlen, "bad target '%s' (expected HOST:PORT)", o->target);
			rc = -EINVAL;
		}
		rt.host = thost;
		if (!rc && o->tls && !(rc = rsvc_tls(o->tls, false, &s->io, err, errlen)))
			rt.io = s->io;
	} else if (!rc) {
		/* The recovery region in this process: a receiver on loopback. */
		if (!o->store) {
			snprintf(err, errlen, "no store and no target");
			rc = -EINVAL;
		}
		if (!rc && (rc = lib_mkdir_p(o->store)))
			snprintf(err, errlen, "cannot make the store directory %s: %s", o->store,
			         strerror(-rc));
		if (!rc && (rc = store_open(o->store, &s->st)))
			snprintf(err, errlen, "cannot open the store %s: %s", o->store,
			         strerror(-rc));
		if (!rc && (rc = store_lock(s->st)))
			snprintf(err, errlen, "cannot lock the store %s: %s", o->store,
			         rc == -EBUSY
			             ? "another strait process writes it (replica serve, "
			               "replica receive or straitd, or a capture, prune or gc)"
			             : strerror(-rc));
		if (!rc && o->map_cache)
			store_set_map_budget(s->st, o->map_cache);
		s->seeds = lib_xcalloc(o->nseeds ? o->nseeds : 1, sizeof(*s->seeds));
		for (size_t i = 0; i < o->nseeds; i++)
			s->seeds[i] = (struct tgt_seed){lib_xstrdup(o->seeds[i].disk),
			                                lib_xstrdup(o->seeds[i].path)};
		s->nseeds = o->nseeds;
		struct tgt_opts to = {.work = o->work,
		                      .st = s->st,
		                      .interval = s->o.interval,
		                      .seeds = s->seeds,
		                      .nseeds = s->nseeds,
		                      .prune = s->o.retention > 0,
		                      .retention = s->o.retention};
		if (!rc && (rc = tgt_open(&to, &s->tg)))
			snprintf(err, errlen, "cannot start the receiver: %s", strerror(-rc));
		if (!rc && (rc = spawn(&s->tgt_th, tgt_main, s)) == 0)
			s->tgt_up = true;
		rt.host = "127.0.0.1";
		rt.port = s->tg ? tgt_port(s->tg) : 0;
	}
	if (!rc && (rc = repl_open(o->work, &rt, &s->r)))
		snprintf(err, errlen, "cannot use the work directory %s: %s", o->work,
		         strerror(-rc));
	if (!rc)
		repl_set_interval(s->r, s->o.interval);
	if (!rc)
		repl_set_journal_max(s->r, o->journal_max);
	if (!rc)
		repl_set_al_extents(s->r, o->al_extents);
	for (size_t i = 0; i < nd && !rc; i++)
		if ((rc = repl_add_disk(s->r, disks[i].name, disks[i].path)))
			snprintf(err, errlen, "cannot protect disk '%s' (%s): %s", disks[i].name,
			         disks[i].path,
			         rc == -EINVAL ? "bad or repeated disk name" : strerror(-rc));
	for (size_t i = 0; i < ng && !rc; i++)
		if ((rc = repl_add_group(s->r, groups[i].name, groups[i].disks, groups[i].n)))
			snprintf(err, errlen, "cannot form replication group '%s': %s",
			         groups[i].name,
			         rc == -EEXIST   ? "a disk is in another group, or the name repeats"
			         : rc == -ENOENT ? "a disk is not protected"
			                         : strerror(-rc));
	if (!rc) {
		s->errs = lib_xcalloc(nd ? nd : 1, sizeof(*s->errs));
		s->bitmap = lib_xcalloc(nd ? nd : 1, sizeof(*s->bitmap));
	}
	if (!rc && (rc = repl_attach(s->r, &s->srv)))
		snprintf(err, errlen, "cannot serve the disks: %s", strerror(-rc));
	if (!rc && o->nbd_tls)
		rc = nbd_server_set_tls(s->srv, o->nbd_tls, err, errlen); /* err says why */
	if (!rc && (rc = nbd_server_listen_unix(s->srv, o->socket)))
		snprintf(err, errlen, "cannot listen on %s: %s", o->socket, strerror(-rc));
	if (!rc && o->tcp && (rc = nbd_server_listen_tcp(s->srv, host, port, &s->port)))
		snprintf(err, errlen, "cannot listen on %s: %s", o->tcp, strerror(-rc));
	if (!rc && (rc = spawn(&s->nbd_th, nbd_main, s)) == 0)
		s->nbd_up = true;
	if (!rc)
		repl_set_wake(s->r, wake, s);
	if (!rc && (rc = spawn(&s->ship_th, ship_main, s)) == 0)
		s->ship_up = true;
	if (rc && !err[0])
		snprintf(err, errlen, "cannot start: %s", strerror(-rc));
	if (rc) {
		rsvc_stop(s);
		return rc;
	}
	*out = s;
	return 0;
}

uint16_t
rsvc_tcp_port(const struct rsvc *s)
{
	return s->port;
}

size_t
rsvc_ndisks(const struct rsvc *s)
{
	return repl_ndisks(s->r);
}

int
rsvc_status(struct rsvc *s, size_t i, struct repl_disk_status *st)
{
	return repl_status(s->r, i, st);
}

int
rsvc_mark(struct rsvc *s, const char *name)
{
	int marks;
	int rc = repl_mark(s->r, name, &marks); /* its disks queued: the shipper woken */
	return rc < 0 ? rc : marks;
}

int
rsvc_stop(struct rsvc *s)
{
	if (!s)
		return 0;
	if (s->nbd_up) {
		nbd_server_stop(s->srv);
		pthread_join(s->nbd_th, NULL);
	}
	if (s->ship_up) {
		pthread_mutex_lock(&s->mu);
		s->stop = true;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->ship_th, NULL);
	}
	if (s->r)
		repl_set_wake(s->r, NULL, NULL); /* s goes before the journals close */
	nbd_server_free(s->srv);
	int rc = repl_close(s->r, 10000);
	if (s->tgt_up) {
		tgt_stop(s->tg);
		pthread_join(s->tgt_th, NULL);
	}
	tgt_close(s->tg);
	store_close(s->st);
	xp_tls_ops_free(s->io);
	for (size_t i = 0; i < s->nseeds; i++) {
		free((char *)s->seeds[i].disk);
		free((char *)s->seeds[i].path);
	}
	free(s->seeds);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s->errs);
	free(s->bitmap);
	free(s);
	return rc;
}
