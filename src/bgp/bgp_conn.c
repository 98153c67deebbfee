/*
 * bgp_conn.c - the speaker's TCP: listening sockets, outgoing connections,
 * TCP MD5 (RFC 2385), message framing on read and a write queue.
 *
 * Listening: one uv_tcp_t per (local address, port), shared by the peers
 * that use that local address and counted by reference; bound to the
 * address, never the wildcard, so many speakers (and the interop peers) can
 * share port 179 on 127/8. An MD5 key is installed on the listening socket
 * per remote address (the kernel then drops unsigned or badly signed
 * segments from it, and accepted sockets inherit the key), and on an
 * outgoing socket before connect().
 *
 * Reading: the receive buffer starts at 64 KiB and grows to hold the
 * largest message the session allows (4096, or 65535 with RFC 8654); each
 * read is parsed in place: the 19-byte header through bgp_hdr_decode, then
 * the body once it is all there; what is left of a partial message moves to
 * the front. Messages are handed to bgp_sess_message() while the socket
 * still belongs to a connection.
 *
 * Writing: two buffers; messages are appended to the one not being
 * written, which goes out as one uv_write when the other completes, so a
 * burst of UPDATEs becomes a few large writes. Closing after a NOTIFICATION
 * submits what is queued, shuts the write side down and closes when that
 * completes or after BGP_LINGER_MS, whichever comes first.
 */
#include "bgp/bgp_sess.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/lib.h"

#define BGP_LINGER_MS 2000u
#define BGP_BACKLOG   64

static void
sockaddr_of(const struct ip_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->af == IP_V4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a->b, 4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->b, 16);
	}
}

static void
addr_of(const struct sockaddr_storage *ss, struct ip_addr *a)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		a->af = IP_V4;
		memcpy(a->b, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const uint8_t *b = (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
		if (memcmp(b, mapped, sizeof(mapped)) == 0) {
			a->af = IP_V4;
			memcpy(a->b, b + 12, 4);
		} else {
			a->af = IP_V6;
			memcpy(a->b, b, 16);
		}
	}
}

int
bgp_md5_set(uv_tcp_t *t, const struct ip_addr *remote, const char *key)
{
	struct tcp_md5sig m;
	struct sockaddr_storage ss;
	uv_os_fd_t fd;
	size_t n = key ? strlen(key) : 0;
	int rc;

	if (n > TCP_MD5SIG_MAXKEYLEN)
		return -EINVAL;
	if ((rc = uv_fileno((const uv_handle_t *)t, &fd)) != 0)
		return rc;
	memset(&m, 0, sizeof(m));
	sockaddr_of(remote, 0, &ss);
	memcpy(&m.tcpm_addr, &ss, sizeof(ss));
	m.tcpm_keylen = (uint16_t)n;
	if (n)
		memcpy(m.tcpm_key, key, n);
	if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &m, sizeof(m)) != 0)
		return -errno;
	return 0;
}

/* ---- sockets ------------------------------------------------------------------ */
static void
sock_closed(uv_handle_t *h)
{
	struct bgp_sock *s = h->data;
	struct bgp_speaker *spk = s->spk;

	if (--s->handles > 0)
		return;
	free(s->rx);
	free(s->out[0].p);
	free(s->out[1].p);
	free(s);
	bgp_obj_gone(spk);
}

static void
sock_close_handles(struct bgp_sock *s)
{
	if (!uv_is_closing((uv_handle_t *)&s->tcp))
		uv_close((uv_handle_t *)&s->tcp, sock_closed);
	if (!uv_is_closing((uv_handle_t *)&s->linger))
		uv_close((uv_handle_t *)&s->linger, sock_closed);
}

/* A socket with its two handles; af is 0 for one uv_accept fills in. */
static struct bgp_sock *
sock_new(struct bgp_speaker *spk, int af)
{
	struct bgp_sock *s = lib_xcalloc(1, sizeof(*s));
	int rc;

	s->spk = spk;
	rc =
	    af ? uv_tcp_init_ex(spk->loop, &s->tcp, (unsigned)af) : uv_tcp_init(spk->loop, &s->tcp);
	if (rc != 0) {
		free(s);
		return NULL;
	}
	uv_timer_init(spk->loop, &s->linger);
	s->tcp.data = s->linger.data = s;
	s->handles = 2;
	spk->live++;
	return s;
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct bgp_sock *s = h->data;
	(void)suggested;
	if (s->rx_cap - s->rx_len < BGP_MAX_MSG) {
		s->rx_cap = s->rx_cap ? s->rx_cap * 2 : BGP_RX_INIT;
		s->rx = lib_xrealloc(s->rx, s->rx_cap);
	}
	buf->base = (char *)s->rx + s->rx_len;
	buf->len = s->rx_cap - s->rx_len;
}

static void
on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct bgp_sock *s = st->data;
	size_t off = 0;
	(void)buf;

	if (n == 0)
		return;
	if (!s->conn)
		return;
	if (n < 0) {
		struct bgp_conn *c = s->conn;
		bgp_log(c->peer, 2, "connection %s",
		        n == UV_EOF ? "closed by the peer" : uv_strerror((int)n));
		c->peer->down_reason =
		    n == UV_EOF ? "connection closed by the peer" : "connection error";
		bgp_sess_event(c, BGP_EV_TCP_FAILS, NULL);
		return;
	}
	s->rx_len += (size_t)n;
	while (s->conn && s->rx_len - off >= BGP_HDR_LEN) {
		struct bgp_conn *c = s->conn;
		struct bgp_hdr h;
		struct bgp_err e;
		size_t rx_max = c->got_open ? c->params.rx_max : BGP_MAX_MSG;
		if (bgp_hdr_decode(s->rx + off, s->rx_len - off, rx_max, &h, &e) != 0) {
			bgp_log(c->peer, 1, "bad message header: %s", e.why);
			bgp_sess_event(c, BGP_EV_HEADER_ERR, &e);
			break;
		}
		if (s->rx_len - off < h.len) {
			if (s->rx_cap < h.len) {
				s->rx_cap = h.len + (size_t)BGP_MAX_MSG;
				s->rx = lib_xrealloc(s->rx, s->rx_cap);
			}
			break;
		}
		bgp_sess_message(c, h.type, s->rx + off, h.len);
		off += h.len;
	}
	if (!s->conn) {
		s->rx_len = 0;
		return;
	}
	if (off) {
		memmove(s->rx, s->rx + off, s->rx_len - off);
		s->rx_len -= off;
	}
}

/* Starts reading: s now belongs to c. */
static void
sock_start(struct bgp_conn *c, struct bgp_sock *s)
{
	c->sock = s;
	s->conn = c;
	uv_tcp_nodelay(&s->tcp, 1);
	uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read);
}

static void on_write(uv_write_t *req, int status);

static void
write_next(struct bgp_sock *s)
{
	struct bgp_obuf *b = &s->out[s->cur];
	uv_buf_t ub;

	if (b->len == 0 || b->busy || s->out[s->cur ^ 1].busy)
		return;
	ub = uv_buf_init((char *)b->p, (unsigned)b->len);
	b->busy = true;
	b->req.data = s;
	s->cur ^= 1;
	if (uv_write(&b->req, (uv_stream_t *)&s->tcp, &ub, 1, on_write) != 0) {
		b->busy = false;
		b->len = 0;
	}
}

static void
on_write(uv_write_t *req, int status)
{
	struct bgp_sock *s = req->data;
	struct bgp_obuf *b = req == &s->out[0].req ? &s->out[0] : &s->out[1];

	b->busy = false;
	b->len = 0;
	if (status < 0) {
		if (s->conn && status != UV_ECANCELED) {
			struct bgp_conn *c = s->conn;
			bgp_log(c->peer, 1, "write: %s", uv_strerror(status));
			c->peer->down_reason = "write error";
			bgp_sess_event(c, BGP_EV_TCP_FAILS, NULL);
		}
		return;
	}
	if (!s->closing)
		write_next(s);
}

void
bgp_sock_send(struct bgp_sock *s, const uint8_t *msg, size_t len)
{
	struct bgp_obuf *b;

	if (!s || s->closing || !s->connected)
		return;
	b = &s->out[s->cur];
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		b->p = lib_xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, msg, len);
	b->len += len;
	write_next(s);
}

size_t
bgp_sock_queued(const struct bgp_sock *s)
{
	return s ? s->out[0].len + s->out[1].len : 0;
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
	(void)status;
	sock_close_handles(req->data);
}

static void
on_linger(uv_timer_t *t)
{
	sock_close_handles(t->data);
}

void
bgp_sock_close(struct bgp_sock *s, bool flush)
{
	struct bgp_obuf *b;

	if (!s || s->closing)
		return;
	s->closing = true;
	if (s->conn) {
		s->conn->sock = NULL;
		s->conn = NULL;
	}
	if (!flush || !s->connected) {
		sock_close_handles(s);
		return;
	}
	uv_read_stop((uv_stream_t *)&s->tcp);
	b = &s->out[s->cur];
	if (b->len && !b->busy) { /* behind the one being written: libuv queues it */
		uv_buf_t ub = uv_buf_init((char *)b->p, (unsigned)b->len);
		b->busy = true;
		b->req.data = s;
		if (uv_write(&b->req, (uv_stream_t *)&s->tcp, &ub, 1, on_write) != 0)
			b->busy = false;
	}
	s->sreq.data = s;
	if (uv_shutdown(&s->sreq, (uv_stream_t *)&s->tcp, on_shutdown) != 0) {
		sock_close_handles(s);
		return;
	}
	uv_timer_start(&s->linger, on_linger, BGP_LINGER_MS, 0);
}

/* ---- outgoing ------------------------------------------------------------------- */
static void
on_connect(uv_connect_t *req, int status)
{
	struct bgp_sock *s = req->data;
	struct bgp_conn *c = s->conn;

	if (!c)
		return; /* dropped meanwhile (status is UV_ECANCELED) */
	if (status < 0) {
		bgp_log(c->peer, 2, "connect: %s", uv_strerror(status));
		c->peer->down_reason = "connect failed";
		snprintf(c->peer->st.last_error, sizeof(c->peer->st.last_error), "connect: %s",
		         uv_strerror(status));
		bgp_sess_event(c, BGP_EV_TCP_FAILS, NULL);
		return;
	}
	s->connected = true;
	sock_start(c, s);
	bgp_sess_tcp_up(c);
}

int
bgp_sock_connect(struct bgp_conn *c)
{
	struct bgp_peer *p = c->peer;
	struct sockaddr_storage la, ra;
	struct bgp_sock *s;
	int rc;

	s = sock_new(p->spk, p->cfg.remote.af == IP_V4 ? AF_INET : AF_INET6);
	if (!s)
		return -ENOMEM;
	s->outgoing = true;
	s->local = p->cfg.local;
	s->remote = p->cfg.remote;
	sockaddr_of(&p->cfg.local, 0, &la);
	sockaddr_of(&p->cfg.remote, p->cfg.remote_port, &ra);
	if (p->cfg.md5_key && (rc = bgp_md5_set(&s->tcp, &p->cfg.remote, p->cfg.md5_key)) != 0) {
		bgp_log(p, 0, "TCP MD5 on the connecting socket: %s", strerror(-rc));
		goto fail;
	}
	if ((rc = uv_tcp_bind(&s->tcp, (const struct sockaddr *)&la, 0)) != 0) {
		bgp_log(p, 0, "bind: %s", uv_strerror(rc));
		goto fail;
	}
	s->creq.data = s;
	if ((rc = uv_tcp_connect(&s->creq, &s->tcp, (const struct sockaddr *)&ra, on_connect)) !=
	    0) {
		bgp_log(p, 1, "connect: %s", uv_strerror(rc));
		goto fail;
	}
	c->sock = s;
	s->conn = c;
	return 0;
fail:
	snprintf(p->st.last_error, sizeof(p->st.last_error), "connect: %s", uv_strerror(rc));
	bgp_sock_close(s, false);
	return rc;
}

void
bgp_sock_attach(struct bgp_conn *c, struct bgp_sock *s)
{
	sock_start(c, s);
}

/* ---- listening ------------------------------------------------------------------ */
static void
on_connection(uv_stream_t *server, int status)
{
	struct bgp_listener *l = server->data;
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	struct bgp_sock *s;

	if (status < 0)
		return;
	if (!(s = sock_new(l->spk, 0)))
		return;
	if (uv_accept(server, (uv_stream_t *)&s->tcp) != 0) {
		bgp_sock_close(s, false);
		return;
	}
	s->connected = true;
	if (uv_tcp_getpeername(&s->tcp, (struct sockaddr *)&ss, &len) == 0)
		addr_of(&ss, &s->remote);
	len = sizeof(ss);
	if (uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&ss, &len) == 0)
		addr_of(&ss, &s->local);
	bgp_sess_incoming(l->spk, s, l->port);
}

static void
listener_closed(uv_handle_t *h)
{
	struct bgp_listener *l = h->data;
	struct bgp_speaker *spk = l->spk;
	free(l);
	bgp_obj_gone(spk);
}

int
bgp_listener_get(struct bgp_speaker *s, const struct ip_addr *a, uint16_t port,
                 struct bgp_listener **out)
{
	struct bgp_listener *l;
	struct sockaddr_storage ss;
	int rc;

	for (l = s->lsts; l; l = l->next)
		if (l->port == port && ip_addr_cmp(&l->addr, a) == 0) {
			l->refs++;
			*out = l;
			return 0;
		}
	l = lib_xcalloc(1, sizeof(*l));
	l->spk = s;
	l->addr = *a;
	l->port = port;
	l->refs = 1;
	uv_tcp_init(s->loop, &l->tcp);
	l->tcp.data = l;
	s->live++;
	sockaddr_of(a, port, &ss);
	rc = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&ss,
	                 a->af == IP_V6 ? UV_TCP_IPV6ONLY : 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&l->tcp, BGP_BACKLOG, on_connection);
	if (rc != 0) {
		uv_close((uv_handle_t *)&l->tcp, listener_closed);
		return rc;
	}
	l->next = s->lsts;
	s->lsts = l;
	*out = l;
	return 0;
}

void
bgp_listener_put(struct bgp_listener *l)
{
	struct bgp_listener **pp;

	if (!l || --l->refs > 0)
		return;
	for (pp = &l->spk->lsts; *pp && *pp != l; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = l->next;
	uv_close((uv_handle_t *)&l->tcp, listener_closed);
}
