/*
 * nbd_tls.c - TLS for the capture server (NBD_OPT_STARTTLS) with OpenSSL:
 * the server-wide context (nbd_server_set_tls) and one session per
 * connection, which the socket loop in nbd_server.c reads and writes
 * through once the protocol core has acknowledged STARTTLS.
 *
 * Policy (proto.md, "TLS support"): TLS 1.2 at least; the server presents
 * an X.509 certificate and key (PEM); with a CA file it demands a client
 * certificate and verifies it against that CA (mutual TLS), without one it
 * asks for none. No session resumption (no tickets, no cache): a session
 * lives as long as its connection. The handshake runs blocking on the
 * connection's thread, for at most HANDSHAKE_S seconds of silence.
 *
 * SIGPIPE: OpenSSL writes with write(2), which raises SIGPIPE on a dead
 * peer, and not only in SSL_write: SSL_read answers alerts and key updates
 * too. A library must not change signal dispositions, so every OpenSSL call
 * on a session runs with SIGPIPE blocked on the calling thread, and a
 * SIGPIPE it raised is consumed before unblocking (as xp_tls.c does).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "lib/lib.h"
#include "repl/nbd_internal.h"

#define HANDSHAKE_S 10 /* seconds a handshake may stall */

struct nbd_tls {
	SSL_CTX *ctx;
};

struct nbd_tls_conn {
	SSL *ssl;
};

/* ---- configuration -------------------------------------------------------- */

/* -EINVAL with OpenSSL's reason for rejecting path (and clears its queue). */
static int
ssl_fail(const char *what, const char *path, char *err, size_t errlen)
{
	char why[160];
	unsigned long e = ERR_peek_last_error();
	ERR_error_string_n(e, why, sizeof(why));
	snprintf(err, errlen, "tls %s %s: %s", what, path, e ? why : "rejected");
	ERR_clear_error();
	return -EINVAL;
}

static int
load_ctx(SSL_CTX *c, const struct nbd_tls_opts *o, char *err, size_t errlen)
{
	int rc = lib_check_readable("NBD TLS certificate", o->cert, err, errlen);
	if (!rc)
		rc = lib_check_readable("NBD TLS key", o->key, err, errlen);
	if (!rc && o->ca)
		rc = lib_check_readable("NBD TLS CA", o->ca, err, errlen);
	if (rc)
		return rc;
	if (SSL_CTX_use_certificate_chain_file(c, o->cert) != 1)
		return ssl_fail("certificate", o->cert, err, errlen);
	if (SSL_CTX_use_PrivateKey_file(c, o->key, SSL_FILETYPE_PEM) != 1)
		return ssl_fail("key", o->key, err, errlen);
	if (SSL_CTX_check_private_key(c) != 1)
		return ssl_fail("key (does it match the certificate?)", o->key, err, errlen);
	if (o->ca && SSL_CTX_load_verify_locations(c, o->ca, NULL) != 1)
		return ssl_fail("CA", o->ca, err, errlen);
	if (o->ca)
		SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return 0;
}

int
nbd_server_set_tls(struct nbd_server *s, const struct nbd_tls_opts *o, char *err, size_t errlen)
{
	struct nbd_tls *t;
	SSL_CTX *c;
	int rc;

	if (!o || !o->cert || !o->key) {
		snprintf(err, errlen, "tls: a certificate and a key are needed");
		return -EINVAL;
	}
	if (!(c = SSL_CTX_new(TLS_server_method())) || !(t = calloc(1, sizeof(*t)))) {
		SSL_CTX_free(c);
		snprintf(err, errlen, "tls: out of memory");
		return -ENOMEM;
	}
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	SSL_CTX_set_num_tickets(c, 0);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	if ((rc = load_ctx(c, o, err, errlen)) < 0) {
		SSL_CTX_free(c);
		free(t);
		return rc;
	}
	t->ctx = c;
	nbd_tls_free(s->tls);
	s->tls = t;
	s->tls_required = o->required;
	return 0;
}

void
nbd_tls_free(struct nbd_tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

/* ---- sessions ------------------------------------------------------------- */

int
nbd_tls_accept(struct nbd_tls *t, int fd, struct nbd_tls_conn **out)
{
	struct timeval tv = {HANDSHAKE_S, 0}, off = {0, 0};
	struct nbd_tls_conn *c = calloc(1, sizeof(*c));
	struct lib_pipe_guard g;
	int r = 0;

	if (!c || !(c->ssl = SSL_new(t->ctx)) || SSL_set_fd(c->ssl, fd) != 1) {
		if (c)
			SSL_free(c->ssl);
		free(c);
		return -ENOMEM;
	}
	/* a peer that stalls the handshake must not hold the thread forever */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	lib_pipe_block(&g);
	r = SSL_accept(c->ssl);
	lib_pipe_unblock(&g);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &off, sizeof(off));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &off, sizeof(off));
	ERR_clear_error();
	if (r != 1) {
		SSL_free(c->ssl);
		free(c);
		return -ECONNABORTED;
	}
	*out = c;
	return 0;
}

ssize_t
nbd_tls_read(struct nbd_tls_conn *c, void *buf, size_t n)
{
	int k = n > INT32_MAX ? INT32_MAX : (int)n, r, e, en;
	struct lib_pipe_guard g;

	do {
		lib_pipe_block(&g);
		r = SSL_read(c->ssl, buf, k);
		e = SSL_get_error(c->ssl, r), en = errno;
		lib_pipe_unblock(&g);
		ERR_clear_error();
	} while (r <= 0 && e == SSL_ERROR_SYSCALL && en == EINTR);
	if (r > 0)
		return r;
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && en == 0))
		return 0; /* close_notify, or EOF without it */
	return e == SSL_ERROR_SSL ? -EPROTO : -ECONNRESET;
}

int
nbd_tls_write(struct nbd_tls_conn *c, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	struct lib_pipe_guard g;
	int rc = 0;

	lib_pipe_block(&g);
	while (n > 0 && rc == 0) {
		int k = n > INT32_MAX ? INT32_MAX : (int)n;
		int r = SSL_write(c->ssl, p, k);
		if (r > 0)
			p += r, n -= (size_t)r;
		else
			rc = -EPIPE;
	}
	lib_pipe_unblock(&g);
	ERR_clear_error();
	return rc;
}

void
nbd_tls_close(struct nbd_tls_conn *c)
{
	struct lib_pipe_guard g;
	if (!c)
		return;
	lib_pipe_block(&g);
	SSL_shutdown(c->ssl);
	lib_pipe_unblock(&g);
	SSL_free(c->ssl);
	ERR_clear_error();
	free(c);
}
