/*
 * xp.c - the replication transport's connections and its sender.
 *
 * A connection (struct xp_conn) is a byte stream behind an I/O ops table
 * (plain TCP here; TLS is the seam, see xp.h) plus a receive buffer that
 * frames are decoded from in place.
 *
 * The sender keeps every accepted record's encoded frame (already
 * compressed) in a ring of `window` slots until the receiver acknowledges
 * it (cumulative acks). After a cut, xp_sender_reconnect says hello again,
 * learns the receiver's last stored sequence, releases the frames at or
 * below it (on_ack) and resends only the rest: nothing acknowledged or
 * stored is sent twice, nothing accepted is lost.
 * Frames are written in batches (OUT_BATCH bytes, one writev where the ops
 * table has it), when the window is full, and at xp_sender_poll / flush:
 * a write and a poll per record cost more than the record (4 KiB) itself.
 *
 * Receiving: frames are decoded in place from a buffer filled by large reads;
 * it is compacted only when the next frame does not fit in what is left.
 *
 * Bandwidth: a token bucket over wire bytes of DATA frames, rate bytes per
 * second, burst rate/8; the bucket may go negative and the sender sleeps
 * the debt off, so a frame larger than the burst still passes at the rate.
 * Blocking sockets and poll(); one thread per sender.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "lib/lib.h"
#include "repl/xp.h"

#define CONN_RBUF     (1u << 20)   /* the receive buffer's first size */
#define OUT_BATCH     (256u << 10) /* unwritten frame bytes that make the sender write */
#define OUT_IOV       64u          /* frames per writev */
#define WRITE_WAIT_MS 30000        /* a non-blocking write waits this long for room */

/* ---- plain TCP ops ------------------------------------------------------- */

static ssize_t
tcp_read(void *ctx, void *buf, size_t n)
{
	return recv((int)(intptr_t)ctx, buf, n, 0);
}

static ssize_t
tcp_write(void *ctx, const void *buf, size_t n)
{
	return send((int)(intptr_t)ctx, buf, n, MSG_NOSIGNAL);
}

static int
tcp_wrap(const struct xp_io_ops *self, int fd, bool server, void **ctx)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*ctx = (void *)(intptr_t)fd;
	return 0;
}

static ssize_t
tcp_writev(void *ctx, const struct iovec *iov, int n)
{
	struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n};
	return sendmsg((int)(intptr_t)ctx, &m, MSG_NOSIGNAL);
}

static void
tcp_close(void *ctx)
{
	close((int)(intptr_t)ctx);
}

const struct xp_io_ops xp_io_tcp = {.read = tcp_read,
                                    .write = tcp_write,
                                    .writev = tcp_writev,
                                    .wrap = tcp_wrap,
                                    .close = tcp_close};

/* ---- connection ------------------------------------------------------------ */

int
xp_conn_accepted(struct xp_conn *c, const struct xp_io_ops *io, int fd)
{
	memset(c, 0, sizeof(*c));
	c->io = io ? io : &xp_io_tcp;
	c->fd = fd;
	int rc = c->io->wrap(c->io, fd, true, &c->ctx);
	if (rc < 0) {
		close(fd);
		c->fd = -1;
	}
	return rc;
}

/* connect(2) within timeout_ms: a target that drops packets (a circuit down) answers
 * nothing, and a blocking connect waits out the kernel's SYN retries, two minutes. */
static int
connect_within(int fd, const struct sockaddr *sa, socklen_t len, int timeout_ms)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	int rc = 0;
	if (connect(fd, sa, len) < 0) {
		rc = -errno;
		if (rc == -EINPROGRESS) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			int n;
			while ((n = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
				;
			int err = 0;
			socklen_t el = sizeof(err);
			if (n < 0)
				rc = -errno;
			else if (n == 0)
				rc = -ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
				rc = -errno;
			else
				rc = -err;
		}
	}
	if (rc == 0 && fcntl(fd, F_SETFL, fl) < 0)
		rc = -errno;
	return rc;
}

int
xp_conn_connect(struct xp_conn *c, const struct xp_io_ops *io, const char *host, uint16_t port,
                int timeout_ms)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
	char ps[8];
	snprintf(ps, sizeof(ps), "%u", (unsigned)port);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (getaddrinfo(host, ps, &hints, &res) != 0)
		return -EHOSTUNREACH;
	int rc = -ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			rc = -errno;
			continue;
		}
		if ((rc = connect_within(fd, ai->ai_addr, ai->ai_addrlen, timeout_ms)) == 0) {
			freeaddrinfo(res);
			c->io = io ? io : &xp_io_tcp;
			c->fd = fd;
			rc = c->io->wrap(c->io, fd, false, &c->ctx);
			if (rc < 0) {
				close(fd);
				c->fd = -1;
			}
			return rc;
		}
		close(fd);
	}
	freeaddrinfo(res);
	return rc;
}

/* The receive buffer is mapped, not malloc'ed: released, its pages go back to the
 * system at once (an arena would keep them), and an idle connection keeps none. */
static void
rbuf_release(struct xp_conn *c)
{
	if (c->rbuf)
		munmap(c->rbuf, c->rcap);
	c->rbuf = NULL;
	c->rn = c->rcap = c->consumed = 0;
}

static void
rbuf_resize(struct xp_conn *c, size_t ncap)
{
	void *p =
	    c->rbuf ? mremap(c->rbuf, c->rcap, ncap, MREMAP_MAYMOVE)
	            : mmap(NULL, ncap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		lib_oom();
	c->rbuf = p;
	c->rcap = ncap;
}

void
xp_conn_close(struct xp_conn *c)
{
	if (c->fd >= 0)
		c->io->close(c->ctx);
	c->fd = -1;
	rbuf_release(c);
}

void
xp_conn_idle(struct xp_conn *c)
{
	if (c->rn == c->consumed)
		rbuf_release(c);
}

int
xp_conn_write(struct xp_conn *c, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	while (n) {
		ssize_t w = c->io->write(c->ctx, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) { /* a non-blocking socket full: wait for room */
			struct pollfd pfd = {.fd = c->fd, .events = POLLIN | POLLOUT};
			int pr = poll(&pfd, 1, WRITE_WAIT_MS);
			if (pr == 0)
				return -ETIMEDOUT;
			if (pr < 0 && errno != EINTR)
				return -errno;
			continue; /* the same bytes again (TLS asks for it) */
		}
		if (w <= 0)
			return w < 0 ? -errno : -ECONNRESET;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Room for the rest of the frame at consumed (at least 64 KiB) after rn: the
 * unread bytes move to the front only when it is missing, then the buffer grows. */
static int
conn_room(struct xp_conn *c)
{
	size_t have = c->rn - c->consumed, want = XP_HDR_LEN;
	if (have >= XP_HDR_LEN) {
		const uint8_t *h = c->rbuf + c->consumed;
		want += (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
	}
	size_t room = want > have ? want - have : 0;
	if (room < 65536)
		room = 65536;
	if (c->rcap - c->rn >= room)
		return 0;
	if (c->consumed) {
		memmove(c->rbuf, c->rbuf + c->consumed, have);
		c->rn = have;
		c->consumed = 0;
	}
	if (c->rcap - c->rn >= room)
		return 0;
	size_t ncap = c->rcap ? c->rcap : CONN_RBUF;
	while (ncap - c->rn < room && ncap < 2 * (XP_HDR_LEN + XP_MAX_BODY))
		ncap *= 2;
	if (ncap > 2 * (XP_HDR_LEN + XP_MAX_BODY))
		ncap = 2 * (XP_HDR_LEN + XP_MAX_BODY);
	if (ncap - c->rn < room && ncap - c->rn < 65536)
		return -EBADMSG; /* cannot happen: a decodable frame fits */
	rbuf_resize(c, ncap);
	return 0;
}

int
xp_conn_read_frame(struct xp_conn *c, struct xp_frame *f, int timeout_ms, const char **why)
{
	for (;;) {
		size_t used;
		const uint8_t *b = c->rbuf ? c->rbuf + c->consumed : c->rbuf;
		int rc = xp_decode(b, c->rn - c->consumed, f, &used, why);
		if (rc == 0) {
			c->consumed += used;
			if (c->consumed == c->rn)
				c->consumed = c->rn = 0;
			return 0;
		}
		if (rc != -EAGAIN)
			return rc;
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		bool buffered = c->io->pending && c->io->pending(c->ctx) > 0;
		int pr = buffered ? 1 : poll(&pfd, 1, timeout_ms);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return -errno;
		if (pr == 0) {
			if (timeout_ms > 0 && c->rn == c->consumed) /* idle a whole wait */
				rbuf_release(c);
			return -ETIMEDOUT;
		}
		if ((rc = conn_room(c)) < 0)
			return rc;
		ssize_t r = c->io->read(c->ctx, c->rbuf + c->rn, c->rcap - c->rn);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ECONNRESET;
		c->rn += (size_t)r;
	}
}

/* ---- sender ----------------------------------------------------------------- */

struct pend {
	uint64_t seq;
	uint8_t *frame;
	size_t n;
};

struct xp_sender {
	char *host;
	uint16_t port;
	uint64_t disk;
	struct xp_sender_opts o;
	struct xp_conn c;
	bool up;
	struct pend *q; /* ring of qcap, grown to at most o.window (an idle disk: 16) */
	uint32_t qhead, qn, qcap;
	uint64_t qbytes; /* wire bytes of the frames in the ring */
	uint32_t qsent;  /* frames of the ring (from qhead) written on this connection */
	size_t qoff;     /* bytes of frame qsent written */
	uint64_t qsentb; /* bytes of the ring written: unwritten = qbytes - qsentb */
	uint64_t acked, accepted;
	ZSTD_CCtx *cctx;
	double tokens;
	struct timespec last;
	uint64_t wire;
	char err[192];
	char *name; /* owned copy of o.name */
	bool seeded;
	bool unreach; /* the last connect failed */
};

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
throttle(struct xp_sender *s, size_t n)
{
	if (!s->o.rate)
		return;
	double rate = (double)s->o.rate, burst = rate / 8, t = now_s();
	double last = (double)s->last.tv_sec + (double)s->last.tv_nsec / 1e9;
	s->tokens += rate * (t - last);
	if (s->tokens > burst)
		s->tokens = burst;
	clock_gettime(CLOCK_MONOTONIC, &s->last);
	s->tokens -= (double)n;
	if (s->tokens < 0) {
		double d = -s->tokens / rate;
		struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}

static void
down(struct xp_sender *s, const char *why, int rc)
{
	if (why && !s->err[0])
		snprintf(s->err, sizeof(s->err), "%s: %s", why, strerror(-rc));
	if (s->up)
		xp_conn_close(&s->c);
	s->up = false;
}

static void
release(struct xp_sender *s, uint64_t seq)
{
	if (seq <= s->acked)
		return;
	s->acked = seq;
	while (s->qn && s->q[s->qhead].seq <= seq) {
		s->qbytes -= s->q[s->qhead].n;
		if (s->qsent) {
			s->qsent--;
			s->qsentb -= s->q[s->qhead].n;
		} else { /* acknowledged in a hello before it went again */
			s->qsentb -= s->qoff;
			s->qoff = 0;
		}
		free(s->q[s->qhead].frame);
		s->q[s->qhead].frame = NULL;
		s->qhead = (s->qhead + 1) % s->qcap;
		s->qn--;
	}
	if (s->o.on_ack)
		s->o.on_ack(s->o.arg, seq);
}

/* Reads one frame from the receiver (ack or error). 0, -ETIMEDOUT, or link down. */
static int
read_one(struct xp_sender *s, int timeout_ms)
{
	struct xp_frame f;
	const char *why;
	int rc = xp_conn_read_frame(&s->c, &f, timeout_ms, &why);
	if (rc == -ETIMEDOUT)
		return rc;
	if (rc == -EBADMSG) {
		snprintf(s->err, sizeof(s->err), "bad frame from receiver: %s", why);
		down(s, NULL, rc);
		return -EPROTO;
	}
	if (rc < 0) {
		down(s, "link lost", rc);
		return -ENOTCONN;
	}
	if (f.type == XP_T_ACK) {
		if (f.seq > s->accepted) {
			snprintf(s->err, sizeof(s->err), "ack %llu beyond sent %llu",
			         (unsigned long long)f.seq, (unsigned long long)s->accepted);
			down(s, NULL, 0);
			return -EPROTO;
		}
		release(s, f.seq);
		return 0;
	}
	if (f.type == XP_T_SUMS) {
		if (s->o.on_sums)
			s->o.on_sums(s->o.arg, f.offset, f.len, f.count, &f);
		return 0;
	}
	if (f.type == XP_T_POINT) {
		struct xp_point p = {f.seq, f.point, f.time, f.kind};
		if (s->o.on_point)
			s->o.on_point(s->o.arg, &p);
		return 0;
	}
	if (f.type == XP_T_ERROR)
		snprintf(s->err, sizeof(s->err), "receiver error at seq %llu: %s: %.*s",
		         (unsigned long long)f.seq, xp_err_name(f.code), (int)f.plen,
		         (const char *)f.payload);
	else
		snprintf(s->err, sizeof(s->err), "unexpected frame type %u from receiver", f.type);
	down(s, NULL, 0);
	return -EPROTO;
}

/* One writev of the unwritten frames (up to OUT_IOV): bytes written, or -errno. */
static ssize_t
write_some(struct xp_sender *s)
{
	struct iovec iov[OUT_IOV];
	int k = 0;
	for (uint32_t i = s->qsent; i < s->qn && k < (int)OUT_IOV; i++, k++) {
		struct pend *p = &s->q[(s->qhead + i) % s->qcap];
		size_t skip = i == s->qsent ? s->qoff : 0;
		iov[k] = (struct iovec){p->frame + skip, p->n - skip};
	}
	const struct xp_io_ops *io = s->c.io;
	ssize_t w;
	do
		w = io->writev ? io->writev(s->c.ctx, iov, k)
		               : io->write(s->c.ctx, iov[0].iov_base, iov[0].iov_len);
	while (w < 0 && errno == EINTR);
	return w < 0 ? -errno : w == 0 ? -ECONNRESET : w;
}

/* Writes every unwritten frame of the ring. 0, or -ENOTCONN (link down). */
static int
flush_out(struct xp_sender *s)
{
	while (s->up && s->qsent < s->qn) {
		ssize_t w = write_some(s);
		if (w < 0) {
			/* The receiver may have said why before it closed: read that first. */
			while (s->up && read_one(s, 0) == 0)
				;
			down(s, "send failed", (int)w);
			return -ENOTCONN;
		}
		s->wire += (uint64_t)w;
		s->qsentb += (uint64_t)w;
		for (size_t left = (size_t)w; left;) {
			struct pend *p = &s->q[(s->qhead + s->qsent) % s->qcap];
			size_t rest = p->n - s->qoff;
			if (left < rest) {
				s->qoff += left;
				break;
			}
			left -= rest;
			s->qoff = 0;
			s->qsent++;
		}
		throttle(s, (size_t)w);
	}
	return s->up ? 0 : -ENOTCONN;
}

static int
drain(struct xp_sender *s)
{
	int rc;
	while (s->up && (rc = read_one(s, 0)) == 0)
		;
	return s->up ? 0 : -ENOTCONN;
}

int
xp_sender_poll(struct xp_sender *s)
{
	if (!s->up || flush_out(s) < 0)
		return -ENOTCONN;
	int rc;
	while ((rc = read_one(s, 0)) == 0)
		;
	return rc == -ETIMEDOUT ? 0 : rc;
}

static int
handshake(struct xp_sender *s)
{
	uint8_t h[XP_HDR_LEN + XP_HELLO_LEN + XP_MAX_NAME];
	int rc = xp_conn_connect(&s->c, s->o.io, s->host, s->port, s->o.timeout_ms);
	s->unreach = rc < 0;
	if (rc < 0) {
		snprintf(s->err, sizeof(s->err), "connect %s:%u: %s", s->host, s->port,
		         strerror(-rc));
		return rc;
	}
	s->up = true;
	s->err[0] = 0;
	if (xp_conn_write(&s->c, h,
	                  xp_encode_hello(h, s->disk, s->o.name, s->o.size,
	                                  s->accepted > s->o.high ? s->accepted : s->o.high)) < 0) {
		down(s, "hello", -ECONNRESET);
		return -ENOTCONN;
	}
	struct xp_frame f;
	const char *why;
	rc = xp_conn_read_frame(&s->c, &f, s->o.timeout_ms, &why);
	if (rc < 0) {
		if (rc == -EBADMSG)
			snprintf(s->err, sizeof(s->err), "bad hello answer: %s", why);
		down(s, "hello answer", rc);
		return rc == -ETIMEDOUT ? rc : -EPROTO;
	}
	if (f.type == XP_T_ERROR) {
		snprintf(s->err, sizeof(s->err), "receiver refused hello: %s: %.*s",
		         xp_err_name(f.code), (int)f.plen, (const char *)f.payload);
		down(s, NULL, 0);
		return -EPROTO;
	}
	if (f.type != XP_T_HELLO_ACK || f.magic != XP_MAGIC || f.version != XP_VERSION) {
		snprintf(s->err, sizeof(s->err), "bad hello answer (type %u)", f.type);
		down(s, NULL, 0);
		return -EPROTO;
	}
	if (f.seq < s->acked) {
		snprintf(s->err, sizeof(s->err), "receiver went back: stored %llu < acked %llu",
		         (unsigned long long)f.seq, (unsigned long long)s->acked);
		down(s, NULL, 0);
		return -EPROTO;
	}
	s->seeded = f.aflags & XP_AF_SEEDED;
	if (f.seq > s->accepted)
		s->accepted = f.seq;
	s->qsent = 0, s->qoff = 0, s->qsentb = 0; /* nothing is written on this link yet */
	release(s, f.seq);
	/* Resend the unacknowledged frames, in order. */
	return flush_out(s);
}

int
xp_sender_open(const char *host, uint16_t port, uint64_t disk, struct xp_sender_opts *o,
               struct xp_sender **out)
{
	*out = NULL;
	if (!host)
		return -EINVAL;
	struct xp_sender *s = lib_xcalloc(1, sizeof(*s));
	if (o)
		s->o = *o;
	if (!s->o.window)
		s->o.window = 64;
	if (!s->o.window_bytes)
		s->o.window_bytes = 64ull << 20;
	if (!s->o.timeout_ms)
		s->o.timeout_ms = 30000;
	s->host = lib_xstrdup(host);
	if (s->o.name)
		s->o.name = s->name = lib_xstrdup(s->o.name);
	s->port = port;
	s->disk = disk;
	s->c.fd = -1;
	s->qcap = s->o.window < 16 ? s->o.window : 16;
	s->q = lib_xcalloc(s->qcap, sizeof(*s->q));
	clock_gettime(CLOCK_MONOTONIC, &s->last);
	if (s->o.zlevel > 0 && !(s->cctx = ZSTD_createCCtx()))
		lib_oom();
	int rc = handshake(s);
	if (rc < 0) {
		if (o) {
			snprintf(o->err, sizeof(o->err), "%s", s->err);
			o->unreachable = s->unreach;
		}
		xp_sender_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* The sender is about to wait for an ack: its last frame, when none of it is on
 * the wire yet, asks the receiver to sync now (XP_HF_PUSH) rather than wait for
 * more of a burst that cannot come until the ack does. */
static void
push_last(struct xp_sender *s)
{
	if (s->qsent >= s->qn || (s->qsent + 1 == s->qn && s->qoff))
		return; /* nothing unwritten, or the last frame is partly on the wire */
	struct pend *p = &s->q[(s->qhead + s->qn - 1) % s->qcap];
	p->frame[1] |= XP_HF_PUSH;
}

int
xp_send(struct xp_sender *s, const struct xp_record *r)
{
	if (!r || r->seq == 0)
		return -EINVAL;
	if (r->seq <= s->acked) {
		if (s->o.on_ack)
			s->o.on_ack(s->o.arg, r->seq);
		return 0;
	}
	if (r->seq <= s->accepted)
		return 0; /* queued already */
	if (!s->up)
		return -ENOTCONN;
	uint8_t *fr;
	size_t n;
	int rc = xp_encode_data(r, s->o.zlevel, s->cctx, &fr, &n);
	if (rc < 0)
		return rc;
	while (s->qn >= s->o.window || (s->qn && s->qbytes + n > s->o.window_bytes)) {
		push_last(s);
		rc = flush_out(s); /* what waits for an ack must be on its way */
		if (rc == 0)
			rc = read_one(s, s->o.timeout_ms);
		if (rc < 0) {
			free(fr);
			return rc;
		}
	}
	if (s->qn == s->qcap) { /* below o.window: the ring doubles, oldest first */
		uint32_t ncap = s->qcap * 2 < s->o.window ? s->qcap * 2 : s->o.window;
		struct pend *nq = lib_xcalloc(ncap, sizeof(*nq));
		for (uint32_t i = 0; i < s->qn; i++)
			nq[i] = s->q[(s->qhead + i) % s->qcap];
		free(s->q);
		s->q = nq, s->qcap = ncap, s->qhead = 0;
	}
	struct pend *p = &s->q[(s->qhead + s->qn) % s->qcap];
	p->seq = r->seq;
	p->frame = fr;
	p->n = n;
	s->qn++;
	s->qbytes += n;
	s->accepted = r->seq;
	/* Out in batches; a link found down here is the caller's at the next call. */
	if ((s->qbytes - s->qsentb >= OUT_BATCH || s->qn - s->qsent >= OUT_IOV) &&
	    flush_out(s) == 0)
		drain(s);
	return 0;
}

int
xp_sender_flush(struct xp_sender *s)
{
	while (s->qn) {
		push_last(s);
		if (!s->up || flush_out(s) < 0)
			return -ENOTCONN;
		int rc = read_one(s, s->o.timeout_ms);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
xp_sender_reconnect(struct xp_sender *s)
{
	down(s, NULL, 0);
	return handshake(s);
}

bool
xp_sender_seeded(const struct xp_sender *s)
{
	return s->seeded;
}

bool
xp_sender_unreachable(const struct xp_sender *s)
{
	return s->unreach;
}

bool
xp_sender_connected(const struct xp_sender *s)
{
	return s->up;
}

uint64_t
xp_sender_acked(const struct xp_sender *s)
{
	return s->acked;
}

const char *
xp_sender_error(const struct xp_sender *s)
{
	return s->err;
}

uint64_t
xp_sender_wire_bytes(const struct xp_sender *s)
{
	return s->wire;
}

void
xp_sender_close(struct xp_sender *s)
{
	if (!s)
		return;
	down(s, NULL, 0);
	while (s->qn) {
		free(s->q[s->qhead].frame);
		s->qhead = (s->qhead + 1) % s->qcap;
		s->qn--;
	}
	free(s->q);
	ZSTD_freeCCtx(s->cctx);
	free(s->host);
	free(s->name);
	free(s);
}
