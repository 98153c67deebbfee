/*
 * nbd_internal.h - what the capture server's files share and no other module
 * sees: the server and export structures, the reply encoders (nbd_reply.c)
 * the protocol core (nbd_proto.c) answers with, the file backend
 * (nbd_file.c), and the TLS layer (nbd_tls.c) the socket loop
 * (nbd_server.c) wraps a connection in after STARTTLS.
 *
 * The protocol core never sees OpenSSL: it knows only whether TLS is offered
 * (tls != NULL) and required, and asks the loop to run the handshake.
 */
#ifndef STRAIT_NBD_INTERNAL_H
#define STRAIT_NBD_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "repl/nbd.h"

struct nbd_export {
	char *name;
	struct nbd_backend_ops ops;
	void *arg;
	uint64_t size;
	bool ro;
	pthread_mutex_t mu; /* serializes mutating commands and their hooks */
};

/* The backend of exports backed by a file or block device: arg is the fd. */
extern const struct nbd_backend_ops nbd_file_ops;

#define NBD_MAX_LISTEN 8

struct nbd_conn_thr;
struct nbd_tls;      /* server-wide TLS configuration (an SSL_CTX) */
struct nbd_tls_conn; /* one connection's TLS session */

struct nbd_server {
	struct nbd_hooks hooks;
	void *ctx;
	struct nbd_export **exps;
	size_t nexps;
	int lfds[NBD_MAX_LISTEN];
	char *unix_paths[NBD_MAX_LISTEN]; /* unlinked on free; NULL for TCP */
	size_t nlfds;
	int stop_pipe[2];
	struct nbd_conn_thr *thrs; /* live connection threads */
	size_t nthrs;
	atomic_size_t max_conns; /* may change while nbd_server_run runs */
	struct nbd_tls *tls;     /* NULL: STARTTLS is refused (NOTLS mode) */
	bool tls_required;       /* FORCEDTLS: nothing but STARTTLS/ABORT before TLS */
};

struct nbd_export *nbd_find_export(struct nbd_server *s, const char *name, size_t n);

/* ---- replies (nbd_reply.c) ---------------------------------------------- */
/* Grows out by n bytes and returns them (uninitialised); NULL on ENOMEM. */
uint8_t *nbd_out_reserve(struct nbd_out *o, size_t n);
/* Option reply header followed by len data bytes (returned for filling). */
uint8_t *nbd_put_rep(struct nbd_out *o, uint32_t opt, uint32_t type, uint32_t len);
/* An option reply without data: 0 or -ENOMEM. */
int nbd_put_rep0(struct nbd_out *o, uint32_t opt, uint32_t type);
/* The NBD error for a backend's negative errno. */
uint32_t nbd_errno_to_nbd(int e);
/* A reply without payload to the current request: a simple reply, or with
 * structured replies negotiated and err != 0 an NBD_REPLY_TYPE_ERROR chunk
 * carrying a message. 0 or -ENOMEM. */
int nbd_reply_status(const struct nbd_conn *c, uint32_t err, struct nbd_out *out);
/* Answers the current (validated) READ: a simple reply, or structured
 * chunks (holes as OFFSET_HOLE unless NBD_CMD_FLAG_DF asks for one chunk). */
int nbd_reply_read(const struct nbd_conn *c, struct nbd_out *out);
/* Answers the current (validated) BLOCK_STATUS for base:allocation. */
int nbd_reply_block_status(const struct nbd_conn *c, struct nbd_out *out);

/* ---- TLS (nbd_tls.c) ---------------------------------------------------- */
/* Runs the server side of the handshake on fd (blocking; a silent peer is
 * dropped after a timeout). 0, or -ECONNABORTED when it fails. */
int nbd_tls_accept(struct nbd_tls *t, int fd, struct nbd_tls_conn **out);
/* Reads up to n bytes: > 0, 0 at the end of the session, or -errno. */
ssize_t nbd_tls_read(struct nbd_tls_conn *c, void *buf, size_t n);
/* Writes all n bytes: 0 or -errno. */
int nbd_tls_write(struct nbd_tls_conn *c, const void *buf, size_t n);
/* Sends close_notify and frees the session; the fd stays open. */
void nbd_tls_close(struct nbd_tls_conn *c);
void nbd_tls_free(struct nbd_tls *t);

#endif
