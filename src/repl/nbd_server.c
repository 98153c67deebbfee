/*
 * nbd_server.c - the capture server's sockets: exports, listening on Unix
 * and TCP sockets, and one thread per connection (as nbdkit does), each
 * running the blocking loop read nbd_conn_need() bytes -> nbd_conn_feed() ->
 * write the reply. The protocol itself lives in nbd_proto.c, free of I/O, so
 * the daemon's libuv loop can replace this file without touching it. After
 * STARTTLS the same loop reads and writes through the TLS session
 * (nbd_tls.c).
 *
 * Why threads: a blocking pread/pwrite/fdatasync per request is simplest on
 * a thread, and a slow flush on one disk does not stall another client.
 * Invariants:
 * - A connection thread never closes its socket; nbd_server_run joins it
 *   and closes the socket (so shutdown() on stop can never hit a reused fd).
 * - Exports are added before nbd_server_run and never change while it runs.
 * - nbd_server_stop only writes one byte to a pipe (async-signal-safe).
 * - At most max_conns connection threads live at once; finished ones are
 *   reaped after every accept and at least once a second.
 * - TLS starts only on an empty input buffer: bytes that arrived in the
 *   clear behind STARTTLS would otherwise be taken as sent under TLS (the
 *   STARTTLS injection attack), so such a client is hung up on.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "repl/nbd_internal.h"
#include "repl/nbd_wire.h"

#define NBD_READ_BUF (256u << 10)

struct nbd_conn_thr {
	struct nbd_server *srv;
	int fd;
	pthread_t tid;
	atomic_bool done;
	struct nbd_conn_thr *next;
};

int
nbd_server_new(const struct nbd_hooks *hooks, void *ctx, struct nbd_server **out)
{
	struct nbd_server *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (pipe2(s->stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		int e = errno;
		free(s);
		return -e;
	}
	if (hooks)
		s->hooks = *hooks;
	s->ctx = ctx;
	atomic_init(&s->max_conns, NBD_DEFAULT_MAX_CONNS);
	*out = s;
	return 0;
}

struct nbd_export *
nbd_find_export(struct nbd_server *s, const char *name, size_t n)
{
	if (n == 0)
		return s->nexps ? s->exps[0] : NULL;
	for (size_t i = 0; i < s->nexps; i++)
		if (strlen(s->exps[i]->name) == n && memcmp(s->exps[i]->name, name, n) == 0)
			return s->exps[i];
	return NULL;
}

int
nbd_server_add_backend(struct nbd_server *s, const char *name, uint64_t size, bool readonly,
                       const struct nbd_backend_ops *ops, void *arg)
{
	struct nbd_export *e, **v;
	size_t nl = strlen(name);

	if (nl == 0 || nl > NBD_MAX_STRING || nbd_find_export(s, name, nl) || !ops->pread ||
	    (!readonly && (!ops->pwrite || !ops->flush || !ops->zero))) {
		if (ops->close)
			ops->close(arg);
		return -EINVAL;
	}
	v = realloc(s->exps, (s->nexps + 1) * sizeof(*v));
	e = calloc(1, sizeof(*e));
	if (v)
		s->exps = v;
	if (!v || !e || !(e->name = strdup(name))) {
		free(e);
		if (ops->close)
			ops->close(arg);
		return -ENOMEM;
	}
	e->ops = *ops;
	e->arg = arg;
	e->size = size;
	e->ro = readonly;
	pthread_mutex_init(&e->mu, NULL);
	s->exps[s->nexps++] = e;
	return 0;
}

int
nbd_server_add_export(struct nbd_server *s, const char *name, const char *path, bool readonly)
{
	size_t nl = strlen(name);
	off_t size;
	int fd;

	if (nl == 0 || nl > NBD_MAX_STRING || nbd_find_export(s, name, nl))
		return -EINVAL;
	fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size = lseek(fd, 0, SEEK_END);
	if (size < 0) {
		int err = errno;
		close(fd);
		return -err;
	}
	return nbd_server_add_backend(s, name, (uint64_t)size, readonly, &nbd_file_ops,
	                              (void *)(intptr_t)fd);
}

int
nbd_server_export_lock(struct nbd_server *s, const char *name)
{
	struct nbd_export *e = nbd_find_export(s, name, strlen(name));
	if (!e || !*name)
		return -ENOENT;
	pthread_mutex_lock(&e->mu);
	return 0;
}

void
nbd_server_export_unlock(struct nbd_server *s, const char *name)
{
	struct nbd_export *e = nbd_find_export(s, name, strlen(name));
	if (e && *name)
		pthread_mutex_unlock(&e->mu);
}

static int
add_listener(struct nbd_server *s, int fd, const char *unix_path)
{
	if (listen(fd, 64) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	s->lfds[s->nlfds] = fd;
	s->unix_paths[s->nlfds] = unix_path ? strdup(unix_path) : NULL;
	s->nlfds++;
	return 0;
}

int
nbd_server_listen_unix(struct nbd_server *s, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (s->nlfds == NBD_MAX_LISTEN || strlen(path) >= sizeof(sa.sun_path))
		return -EINVAL;
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path); /* a stale socket from an earlier run */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return add_listener(s, fd, path);
}

int
nbd_server_listen_tcp(struct nbd_server *s, const char *host, uint16_t port, uint16_t *bound)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	int fd, one = 1, af;

	if (s->nlfds == NBD_MAX_LISTEN)
		return -EINVAL;
	if (inet_pton(AF_INET, host, &sa.sin_addr) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, host, &sa6.sin6_addr) == 1)
		af = AF_INET6;
	else
		return -EINVAL; /* an address, not a name: what is bound is what was asked */
	struct sockaddr *sp = af == AF_INET ? (struct sockaddr *)&sa : (struct sockaddr *)&sa6;
	socklen_t sl = af == AF_INET ? sizeof(sa) : sizeof(sa6);
	fd = socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (af == AF_INET6) /* "::" is IPv6 only: "0.0.0.0" is its own listener */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, sp, sl) < 0 || getsockname(fd, sp, &sl) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (bound)
		*bound = ntohs(af == AF_INET ? sa.sin_port : sa6.sin6_port);
	return add_listener(s, fd, NULL);
}

/* A connection's transport: the socket, and its TLS session once started. */
struct sock {
	int fd;
	struct nbd_tls_conn *tls;
};

static int
write_full(struct sock *k, const uint8_t *p, size_t n)
{
	if (k->tls)
		return nbd_tls_write(k->tls, p, n);
	while (n > 0) {
		ssize_t w = send(k->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w, n -= (size_t)w;
	}
	return 0;
}

/* Reads into the input buffer: whatever the socket has, at least one byte.
 * 0, -ECONNRESET at EOF, or -errno. */
static int
fill(struct sock *k, uint8_t *p, size_t room, size_t *got)
{
	for (;;) {
		ssize_t r = k->tls ? nbd_tls_read(k->tls, p, room) : read(k->fd, p, room);
		if (r < 0 && !k->tls && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? (k->tls ? (int)r : -errno) : -ECONNRESET;
		*got = (size_t)r;
		return 0;
	}
}

/* STARTTLS was acknowledged (the ACK is sent): runs the handshake on an
 * empty input buffer, or hangs up. */
static void
start_tls(struct nbd_server *s, struct nbd_conn *c, struct sock *k, bool buffered)
{
	bool ok = !buffered && nbd_tls_accept(s->tls, k->fd, &k->tls) == 0;
	nbd_conn_tls_done(c, ok);
}

/* Grows or compacts buf so that need bytes fit from *head. */
static int
make_room(uint8_t **buf, size_t *cap, size_t *head, size_t *tail, size_t need)
{
	if (need <= *cap - *head)
		return 0;
	memmove(*buf, *buf + *head, *tail - *head);
	*tail -= *head, *head = 0;
	if (need > *cap) {
		uint8_t *nb = realloc(*buf, need);
		if (!nb)
			return -ENOMEM;
		*buf = nb, *cap = need;
	}
	return 0;
}

/* The loop reads as much as the socket holds (several requests per read when
 * the client pipelines), feeds every complete unit, and sends the replies of
 * a batch with one send before it blocks again: two system calls per batch
 * instead of three per request. With an on_writes hook the batch's plain
 * WRITEs reach it at once (nbd_conn_flush) before the replies go. */
int
nbd_serve_fd(struct nbd_server *s, int fd)
{
	struct nbd_conn c;
	struct nbd_out out = {0};
	struct sock k = {fd, NULL};
	size_t cap = NBD_READ_BUF, head = 0, tail = 0; /* unread bytes: buf[head, tail) */
	uint8_t *buf = malloc(cap);
	int rc = buf ? 0 : -ENOMEM;

	nbd_conn_init(&c, s, &out);
	while (rc == 0) {
		size_t need = nbd_conn_need(&c), got = 0;
		bool waiting = nbd_conn_closed(&c) || nbd_conn_tls_pending(&c);
		if (!waiting && tail - head >= need) {
			rc = nbd_conn_feed(&c, buf + head, need, &out);
			head += need;
			if (head == tail)
				head = tail = 0;
			continue;
		}
		/* WRITEs waiting for their batch's hook: before replies go out and
		 * before their payloads' buffer is read into again */
		if ((rc = nbd_conn_flush(&c, &out)) < 0)
			break;
		if (out.n) {
			rc = write_full(&k, out.p, out.n);
			out.n = 0;
			if (rc < 0)
				break;
		}
		if (nbd_conn_tls_pending(&c)) {
			start_tls(s, &c, &k, tail != head);
			continue;
		}
		if (nbd_conn_closed(&c) || (rc = make_room(&buf, &cap, &head, &tail, need)) < 0)
			break;
		rc = fill(&k, buf + tail, cap - tail, &got);
		if (rc == 0)
			tail += got;
	}
	nbd_conn_flush(&c, NULL); /* their data is on the disk: the hook must have them */
	nbd_tls_close(k.tls);
	free(buf);
	nbd_out_free(&out);
	return rc == -ECONNRESET ? 0 : rc;
}

static void *
conn_main(void *arg)
{
	struct nbd_conn_thr *t = arg;
	pthread_setname_np(pthread_self(), "strait-nbd");
	int one = 1;
	setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails on Unix: fine */
	nbd_serve_fd(t->srv, t->fd);
	shutdown(t->fd, SHUT_RDWR); /* the client sees EOF now; the fd closes at reap */
	atomic_store(&t->done, true);
	return NULL;
}

/* Joins finished threads (all of them when all is set, after shutting down
 * their sockets). */
static void
reap(struct nbd_server *s, bool all)
{
	struct nbd_conn_thr **pp = &s->thrs;
	while (*pp) {
		struct nbd_conn_thr *t = *pp;
		if (!all && !atomic_load(&t->done)) {
			pp = &t->next;
			continue;
		}
		if (all)
			shutdown(t->fd, SHUT_RDWR);
		pthread_join(t->tid, NULL);
		close(t->fd);
		*pp = t->next;
		free(t);
		s->nthrs--;
	}
}

static void
accept_one(struct nbd_server *s, int lfd)
{
	struct nbd_conn_thr *t;
	sigset_t all, old;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (s->nthrs >= atomic_load(&s->max_conns)) {
		close(fd);
		return;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		close(fd);
		return;
	}
	t->srv = s;
	t->fd = fd;
	/* connection threads take no signals: the caller's thread handles them */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&t->tid, NULL, conn_main, t) != 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		close(fd);
		free(t);
		return;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	t->next = s->thrs;
	s->thrs = t;
	s->nthrs++;
}

void
nbd_server_set_max_conns(struct nbd_server *s, size_t max)
{
	atomic_store(&s->max_conns, max);
}

int
nbd_server_run(struct nbd_server *s)
{
	struct pollfd pfd[NBD_MAX_LISTEN + 1];
	size_t n = s->nlfds;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		pfd[i] = (struct pollfd){.fd = s->lfds[i], .events = POLLIN};
	pfd[n] = (struct pollfd){.fd = s->stop_pipe[0], .events = POLLIN};
	for (;;) {
		int r = poll(pfd, n + 1, 1000);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0 && (pfd[n].revents & POLLIN))
			break;
		for (size_t i = 0; r > 0 && i < n; i++)
			if (pfd[i].revents & POLLIN)
				accept_one(s, pfd[i].fd);
		reap(s, false);
	}
	reap(s, true);
	return 0;
}

void
nbd_server_stop(struct nbd_server *s)
{
	ssize_t r = write(s->stop_pipe[1], "x", 1);
	(void)r;
}

void
nbd_server_free(struct nbd_server *s)
{
	if (!s)
		return;
	reap(s, true);
	for (size_t i = 0; i < s->nlfds; i++) {
		close(s->lfds[i]);
		if (s->unix_paths[i])
			unlink(s->unix_paths[i]);
		free(s->unix_paths[i]);
	}
	for (size_t i = 0; i < s->nexps; i++) {
		if (s->exps[i]->ops.close)
			s->exps[i]->ops.close(s->exps[i]->arg);
		pthread_mutex_destroy(&s->exps[i]->mu);
		free(s->exps[i]->name);
		free(s->exps[i]);
	}
	free(s->exps);
	nbd_tls_free(s->tls);
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	free(s);
}
