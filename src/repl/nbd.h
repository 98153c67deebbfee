/*
 * nbd.h - the capture server: exports backed by local files or block
 * devices, served over NBD (fixed newstyle; simple and structured replies;
 * the base:allocation metadata context; optional or required TLS) on Unix
 * and TCP sockets, with hooks that let replication journal every
 * acknowledged write.
 *
 * Two layers:
 * - The protocol core (struct nbd_conn, nbd_proto.c and nbd_reply.c) does no
 *   socket I/O. The caller asks nbd_conn_need() how many bytes to read next,
 *   reads exactly that many and hands them to nbd_conn_feed(), which appends
 *   the bytes to send to an nbd_out buffer. nbd_conn_closed() says when to
 *   hang up, nbd_conn_tls_pending() when to send what is queued, run a TLS
 *   handshake and report it with nbd_conn_tls_done(). Any event loop (the
 *   blocking one in nbd_server.c, or libuv later) can drive it.
 * - The server (nbd_server.c, TLS in nbd_tls.c): listening sockets, one
 *   thread per connection.
 *
 * Hooks run on the connection's thread, after the data reached the backing
 * file (and was synced for FUA) and before the reply is sent; a nonzero
 * return answers NBD_EIO. Mutating commands on one export are serialized
 * (pwrite + hook under the export's lock), so the hook sees writes in the
 * order they were applied. All functions return 0 or a negative errno.
 */
#ifndef STRAIT_NBD_H
#define STRAIT_NBD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nbd_write {
	uint64_t off;
	const void *data;
	uint32_t len;
};

struct nbd_hooks {
	int (*on_write)(void *ctx, const char *export, uint64_t off, const void *data, uint32_t len,
	                bool fua);
	int (*on_flush)(void *ctx, const char *export);
	int (*on_trim)(void *ctx, const char *export, uint64_t off, uint32_t len, bool fua);
	int (*on_zero)(void *ctx, const char *export, uint64_t off, uint32_t len, bool fua);
	/* Optional: plain WRITEs (no FUA) of a batch at once. When set, such a
	 * WRITE goes to the backing file at once and its hook and reply wait, with
	 * the export's lock held, until nbd_conn_flush: the driver calls it before
	 * it blocks, and the connection before any other request. */
	int (*on_writes)(void *ctx, const char *export, const struct nbd_write *w, size_t n);
	/* Optional: called under the export's lock before a WRITE, TRIM or
	 * WRITE_ZEROES reaches the backing file; an error fails the request with
	 * the file untouched. */
	int (*on_prepare)(void *ctx, const char *export, uint64_t off, uint32_t len);
	/* Optional, with on_writes: the batch's plain WRITEs reach the backing file
	 * at nbd_conn_flush, after this is called once for all of them (instead of
	 * on_prepare for each); an error fails every write of the batch with the
	 * file untouched. A request other than a plain WRITE flushes the batch
	 * first, so it sees their data. */
	int (*on_prepare_many)(void *ctx, const char *export, const struct nbd_write *w, size_t n);
};

struct nbd_server;
struct nbd_export;

/* What a backend's extents() fills: consecutive extents from the queried
 * offset, each len bytes with base:allocation flags (NBD_STATE_HOLE,
 * NBD_STATE_ZERO; 0 is allocated data). Add through nbd_extents_add. */
struct nbd_extent {
	uint32_t len, flags;
};
struct nbd_extents {
	struct nbd_extent *v;
	size_t n, cap, max; /* max: most extents the caller wants */
	uint64_t left;      /* bytes of the query not yet described */
};
/* Appends the next len bytes (clipped to what is left of the query; merged
 * into the last extent when the flags are equal). Returns 0 to go on, 1 when
 * the query is covered or the list is full (the backend stops: a prefix is a
 * valid answer), or -ENOMEM. */
int nbd_extents_add(struct nbd_extents *x, uint64_t len, uint32_t flags);

/* An export's storage. The server calls the mutating functions (pwrite, trim,
 * zero, flush) of one export one at a time, under the export's lock, and
 * pread concurrently with them from other connections' threads: a backend
 * whose reads touch state that writes change locks it itself. All return 0
 * or a negative errno (mapped to the NBD error). fua: durable before return. */
struct nbd_backend_ops {
	int (*pread)(void *arg, void *buf, uint32_t len, uint64_t off);
	int (*pwrite)(void *arg, const void *buf, uint32_t len, uint64_t off, bool fua);
	int (*flush)(void *arg);
	int (*trim)(void *arg, uint64_t off, uint32_t len, bool fua); /* advisory */
	int (*zero)(void *arg, uint64_t off, uint32_t len, bool may_trim, bool fua);
	void (*close)(void *arg); /* at nbd_server_free; may be NULL */
	/* Optional, called like pread (concurrently with writes): describes
	 * [off, off + len) from off through nbd_extents_add; a prefix is enough.
	 * NULL: the whole export reads as allocated data (flags 0). Last member,
	 * so that backends defined with designated initialisers need not know. */
	int (*extents)(void *arg, uint64_t off, uint32_t len, struct nbd_extents *out);
};

/* ---- server ------------------------------------------------------------- */
/* hooks may be NULL; it is copied. */
int nbd_server_new(const struct nbd_hooks *hooks, void *ctx, struct nbd_server **out);
/* The first export added is also the default export (empty name). */
int nbd_server_add_export(struct nbd_server *s, const char *name, const char *path, bool readonly);
/* An export of size bytes served by ops (copied) on arg; arg is closed by
 * ops->close at nbd_server_free, also when this call fails. */
int nbd_server_add_backend(struct nbd_server *s, const char *name, uint64_t size, bool readonly,
                           const struct nbd_backend_ops *ops, void *arg);
int nbd_server_listen_unix(struct nbd_server *s, const char *path);

/* TLS (NBD_OPT_STARTTLS; TLS 1.2 or later, OpenSSL): cert and key are PEM
 * files; with ca set, clients must present a certificate that CA signed.
 * required: before TLS every option but STARTTLS and ABORT is answered
 * NBD_REP_ERR_TLS_REQD and EXPORT_NAME hangs up (proto.md's FORCEDTLS);
 * otherwise TLS is the client's choice. Call before serving. On failure
 * returns -errno (-ENOENT, -EACCES for an unreadable file, -EINVAL for
 * one OpenSSL rejects) and says why in err, leaving TLS as it was. */
struct nbd_tls_opts {
	const char *cert, *key, *ca; /* ca may be NULL */
	bool required;
};
int nbd_server_set_tls(struct nbd_server *s, const struct nbd_tls_opts *o, char *err,
                       size_t errlen);
/* host: an IPv4 or IPv6 address ("127.0.0.1", "::1"); port 0 picks a free port,
 * returned in *bound when bound is not NULL. */
int nbd_server_listen_tcp(struct nbd_server *s, const char *host, uint16_t port, uint16_t *bound);
/* Connections beyond max (default NBD_DEFAULT_MAX_CONNS) are accepted and
 * closed at once, before the greeting: each one costs a thread and up to
 * 2 x 32 MiB of buffers. */
#define NBD_DEFAULT_MAX_CONNS 64
#define NBD_PEND              64 /* WRITEs a connection holds for on_writes */
void nbd_server_set_max_conns(struct nbd_server *s, size_t max);
/* Accepts until nbd_server_stop(); then closes every connection and returns. */
int nbd_server_run(struct nbd_server *s);
/* Async-signal-safe: wakes nbd_server_run. */
void nbd_server_stop(struct nbd_server *s);
/* Serves one connected socket on the calling thread until the client leaves;
 * does not close fd. */
int nbd_serve_fd(struct nbd_server *s, int fd);
void nbd_server_free(struct nbd_server *s);

/* Holds the named export's write lock (as a WRITE does for its data and hook):
 * a caller that reads the backing file and journals what it read cannot
 * interleave with a client's write. -ENOENT for an unknown export. */
int nbd_server_export_lock(struct nbd_server *s, const char *name);
void nbd_server_export_unlock(struct nbd_server *s, const char *name);

/* ---- protocol core ------------------------------------------------------ */
struct nbd_out {
	uint8_t *p;
	size_t n, cap;
};
void nbd_out_free(struct nbd_out *o);

enum nbd_phase {
	NBD_PH_CFLAGS,  /* client flags */
	NBD_PH_OPTHDR,  /* option header */
	NBD_PH_OPTDATA, /* option data */
	NBD_PH_REQHDR,  /* request header */
	NBD_PH_PAYLOAD, /* WRITE data */
	NBD_PH_DISCARD, /* bytes read and thrown away (oversized WRITE or option) */
	NBD_PH_TLS,     /* STARTTLS acknowledged: the caller runs the TLS handshake */
	NBD_PH_CLOSED,
};

struct nbd_conn {
	struct nbd_server *srv;
	struct nbd_export *exp; /* after GO / EXPORT_NAME */
	enum nbd_phase phase;
	bool no_zeroes;
	bool tls;                    /* the session runs over TLS */
	bool structured;             /* NBD_OPT_STRUCTURED_REPLY acknowledged */
	bool meta_alloc;             /* the last SET_META_CONTEXT selected base:allocation... */
	struct nbd_export *meta_exp; /* ...for this export */
	bool block_status;           /* transmission: base:allocation is active */
	uint32_t opt, optlen;        /* current option */
	uint16_t flags, type;        /* current request */
	uint64_t cookie, off;
	uint32_t len;
	uint64_t discard;     /* bytes left to discard */
	enum nbd_phase after; /* phase after the discard */
	uint32_t discard_err; /* NBD_EINVAL to reply after a discarded WRITE, else 0 */
	/* WRITEs waiting for on_writes (their payloads in the caller's buffer) */
	struct nbd_write pend[NBD_PEND];
	uint64_t pend_cookie[NBD_PEND];
	size_t npend;
};

/* Starts a connection: appends the greeting to out. */
void nbd_conn_init(struct nbd_conn *c, struct nbd_server *s, struct nbd_out *out);
/* Bytes the caller must read next (0 when closed or while TLS is pending). */
size_t nbd_conn_need(const struct nbd_conn *c);
/* Consumes exactly nbd_conn_need() bytes; appends replies to out. Returns 0,
 * or -ENOMEM; a protocol violation closes the connection (phase CLOSED). */
int nbd_conn_feed(struct nbd_conn *c, const uint8_t *buf, size_t n, struct nbd_out *out);
bool nbd_conn_closed(const struct nbd_conn *c);
/* Runs the waiting WRITEs' on_writes hook and appends their replies to out
 * (NULL: the client is gone, no replies). Call it before reading more into
 * the buffer their payloads sit in, and before the connection ends. */
int nbd_conn_flush(struct nbd_conn *c, struct nbd_out *out);
/* STARTTLS was acknowledged: the caller sends out, checks that the client
 * sent nothing more in the clear (else it hangs up: those bytes could be an
 * attacker's), runs the TLS handshake and reports its outcome; every later
 * byte travels over TLS. A failed handshake closes the connection. */
bool nbd_conn_tls_pending(const struct nbd_conn *c);
void nbd_conn_tls_done(struct nbd_conn *c, bool ok);

#endif
