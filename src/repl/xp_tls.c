/*
 * xp_tls.c - TLS (OpenSSL) for the replication transport: an xp_io_ops table
 * whose cfg is an SSL_CTX; plain TCP is xp_io_tcp in xp.c.
 *
 * Server: presents cert/key; with a CA file it also demands and verifies a
 * client certificate (mutual TLS). Client: verifies the server against the
 * CA file (and its name, when one is given); presents cert/key if set.
 * TLS 1.2 at least. The handshake runs blocking inside wrap, on the sender's
 * or the receiver's thread, for at most HANDSHAKE_S seconds of silence.
 *
 * SIGPIPE: OpenSSL writes with write(2), which raises SIGPIPE on a dead
 * peer, during reads too (alerts). A library must not change signal
 * dispositions, so every read, write and shutdown runs under lib.h's pipe
 * guard.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "lib/lib.h"
#include "repl/xp.h"

#define HANDSHAKE_S 10 /* seconds a handshake may stall */

struct tls_conn {
	SSL *ssl;
	int fd;
};

static ssize_t
tls_read(void *ctx, void *buf, size_t n)
{
	struct tls_conn *t = ctx;
	int k = n > INT32_MAX ? INT32_MAX : (int)n;
	struct lib_pipe_guard g;
	lib_pipe_block(&g); /* OpenSSL writes during reads too (alerts, key updates) */
	int r = SSL_read(t->ssl, buf, k);
	lib_pipe_unblock(&g);
	if (r > 0)
		return r;
	int e = SSL_get_error(t->ssl, r);
	ERR_clear_error();
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	errno = (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) ? EAGAIN : ECONNRESET;
	return -1;
}

static ssize_t
tls_write(void *ctx, const void *buf, size_t n)
{
	struct tls_conn *t = ctx;
	int k = n > INT32_MAX ? INT32_MAX : (int)n;
	struct lib_pipe_guard g;
	lib_pipe_block(&g);
	int r = SSL_write(t->ssl, buf, k);
	lib_pipe_unblock(&g);
	if (r > 0)
		return r;
	int e = SSL_get_error(t->ssl, r);
	ERR_clear_error();
	/* a non-blocking socket full: the caller waits and writes the same bytes again */
	errno = (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) ? EAGAIN : EPIPE;
	return -1;
}

static size_t
tls_pending(void *ctx)
{
	struct tls_conn *t = ctx;
	return (size_t)SSL_pending(t->ssl);
}

static void
tls_close(void *ctx)
{
	struct tls_conn *t = ctx;
	struct lib_pipe_guard g;
	lib_pipe_block(&g);
	SSL_shutdown(t->ssl);
	lib_pipe_unblock(&g);
	SSL_free(t->ssl);
	ERR_clear_error();
	close(t->fd);
	free(t);
}

static int
tls_wrap(const struct xp_io_ops *self, int fd, bool server, void **ctx)
{
	SSL *ssl = SSL_new(self->cfg);
	if (!ssl)
		return -ENOMEM;
	const char *name = SSL_CTX_get_app_data((SSL_CTX *)self->cfg);
	if (!server && name &&
	    (!SSL_set1_host(ssl, name) || !SSL_set_tlsext_host_name(ssl, name))) {
		SSL_free(ssl);
		return -ENOMEM;
	}
	SSL_set_fd(ssl, fd);
	int fl = fcntl(fd, F_GETFL);
	if (server && fl >= 0 && (fl & O_NONBLOCK)) {
		/* A non-blocking socket (the receiver's event loops): the handshake runs
		 * inside the first reads, a step each time the peer sends, never waiting. */
		SSL_set_accept_state(ssl);
	} else {
		/* A peer that stalls the handshake must not hold the thread forever. */
		struct timeval tv = {HANDSHAKE_S, 0}, off = {0, 0};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		struct lib_pipe_guard g;
		lib_pipe_block(&g);
		int r = server ? SSL_accept(ssl) : SSL_connect(ssl);
		lib_pipe_unblock(&g);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &off, sizeof(off));
		if (r != 1) {
			SSL_free(ssl);
			ERR_clear_error();
			return -ECONNABORTED;
		}
	}
	struct tls_conn *t = lib_xcalloc(1, sizeof(*t));
	t->ssl = ssl;
	t->fd = fd;
	*ctx = t;
	return 0;
}

int
xp_tls_ops_new(const struct xp_tls_opts *o, bool server, struct xp_io_ops **out)
{
	*out = NULL;
	if (!o || (server && (!o->cert_file || !o->key_file)) || (!server && !o->ca_file))
		return -EINVAL;
	SSL_CTX *c = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!c)
		return -ENOMEM;
	int rc = -EINVAL;
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	if (o->cert_file && (SSL_CTX_use_certificate_chain_file(c, o->cert_file) != 1 ||
	                     SSL_CTX_use_PrivateKey_file(c, o->key_file, SSL_FILETYPE_PEM) != 1 ||
	                     SSL_CTX_check_private_key(c) != 1))
		goto fail;
	if (o->ca_file) {
		if (SSL_CTX_load_verify_locations(c, o->ca_file, NULL) != 1)
			goto fail;
		SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	struct xp_io_ops *ops = lib_xcalloc(1, sizeof(*ops));
	ops->read = tls_read;
	ops->write = tls_write;
	ops->wrap = tls_wrap;
	ops->pending = tls_pending;
	ops->close = tls_close;
	ops->cfg = c;
	if (o->server_name)
		SSL_CTX_set_app_data(c, lib_xstrdup(o->server_name));
	*out = ops;
	return 0;
fail:
	ERR_clear_error();
	SSL_CTX_free(c);
	return rc;
}

void
xp_tls_ops_free(struct xp_io_ops *ops)
{
	if (!ops)
		return;
	free(SSL_CTX_get_app_data((SSL_CTX *)ops->cfg));
	SSL_CTX_free(ops->cfg);
	free(ops);
}
