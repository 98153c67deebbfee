/*
 * xp.h - the replication transport: carries journal records from the
 * protected side to the recovery region's store over TCP (see xp_wire.h for
 * the frames).
 *
 * Codec (xp_codec.c): pure, bounds-checked encode/decode of frames; no I/O.
 * Sender (xp.c) and receiver (xp_recv.c): blocking sockets with poll(),
 * one thread each; the daemon will move them onto its libuv loop later. The
 * sender writes frames in batches (writev where the ops table has it).
 *
 * Byte streams go through an I/O ops table (struct xp_io_ops): plain TCP
 * (xp_io_tcp) or TLS through OpenSSL (xp_tls_ops_new, xp_tls.c).
 *
 * Functions return 0 or a negative errno.
 */
#ifndef STRAIT_XP_H
#define STRAIT_XP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "repl/xp_wire.h"

/* A recovery point the receiver cut: it holds every record <= covered. */
struct xp_point {
	uint64_t covered, point;
	int64_t time;
	uint32_t kind; /* 0 crash-consistent, 1 app-consistent */
};

/* One journal record: a write of len bytes at offset of the disk. */
struct xp_record {
	uint64_t seq; /* > 0, strictly increasing per disk */
	uint64_t offset;
	uint32_t len;   /* <= XP_MAX_RECORD */
	uint32_t flags; /* journal flags, carried as is (FUA, flush barrier, ...) */
	const void *data;
	bool hashed;   /* hash is XXH3-64 of data, known already (the journal verified it) */
	uint64_t hash; /* then the DATA frame carries it instead of hashing data again */
};

/* ---- codec -------------------------------------------------------------- */

/* A decoded frame. Pointers point into the decoded buffer. */
struct xp_frame {
	uint8_t type, hflags;
	uint32_t body_len;
	uint32_t magic;   /* HELLO, HELLO_ACK */
	uint16_t version; /* HELLO, HELLO_ACK */
	uint64_t disk;    /* HELLO */
	uint64_t size;    /* HELLO: the disk's size in bytes */
	uint64_t high;    /* HELLO: the highest sequence ever sent for the disk */
	const char *name; /* HELLO: the disk's name, name_len bytes (no NUL) */
	uint8_t name_len;
	uint64_t seq;           /* HELLO_ACK (last stored), DATA, ACK, ERROR */
	uint64_t offset;        /* DATA */
	uint32_t len;           /* DATA: uncompressed length */
	uint32_t rflags;        /* DATA */
	uint64_t hash;          /* DATA */
	uint32_t code;          /* ERROR */
	uint64_t point;         /* POINT (seq: the last record it holds) */
	uint16_t aflags;        /* HELLO_ACK */
	uint32_t count;         /* SUMS (offset, len = block size, payload = the sums) */
	int64_t time;           /* POINT */
	uint32_t kind;          /* POINT */
	const uint8_t *payload; /* DATA payload (compressed when XP_HF_ZSTD), ERROR text */
	size_t plen;
};

/*
 * Decodes the frame at the start of buf[0..n). Returns 0 and sets *f and
 * *used (header + body), -EAGAIN when buf holds only a valid prefix of a
 * frame, or -EBADMSG with *why naming the reason. Never reads past n.
 */
int xp_decode(const uint8_t *buf, size_t n, struct xp_frame *f, size_t *used, const char **why);

/* Fixed-size frames into out (at least XP_HDR_LEN + 16 bytes); return the length. */
/* HELLO: out holds XP_HDR_LEN + XP_HELLO_LEN + XP_MAX_NAME; name may be NULL
 * and is cut at XP_MAX_NAME. */
size_t xp_encode_hello(uint8_t *out, uint64_t disk, const char *name, uint64_t size, uint64_t high);
size_t xp_encode_hello_ack(uint8_t *out, uint64_t last_seq);
size_t xp_encode_hello_ack2(uint8_t *out, uint64_t last_seq, uint16_t aflags);
size_t xp_encode_ack(uint8_t *out, uint64_t seq);
/* SUMS: out holds XP_HDR_LEN + XP_SUMS_FIXED_LEN + 8 * count (count <= XP_MAX_SUMS). */
size_t xp_encode_sums(uint8_t *out, uint64_t offset, uint32_t block, uint32_t count,
                      const uint64_t *sums);
uint64_t xp_sum_at(const struct xp_frame *f, uint32_t i); /* a SUMS frame's i-th sum */
size_t xp_encode_point(uint8_t *out, const struct xp_point *p);
/* ERROR frame; msg is cut at XP_MAX_ERRMSG. out holds XP_HDR_LEN + 12 + XP_MAX_ERRMSG. */
size_t xp_encode_error(uint8_t *out, uint32_t code, uint64_t seq, const char *msg);
/*
 * DATA frame, heap-allocated into *out (free()). zlevel > 0 compresses with
 * zstd at that level and keeps the result only when it is shorter; cctx may be
 * NULL (one is made for the call). Returns -EINVAL for a bad record.
 */
int xp_encode_data(const struct xp_record *r, int zlevel, void *cctx, uint8_t **out, size_t *n);

const char *xp_err_name(uint32_t code);

/* ---- I/O ops: the TLS seam ------------------------------------------------ */

struct xp_io_ops {
	/* Like read(2)/write(2) on the connection; may return short counts. */
	ssize_t (*read)(void *ctx, void *buf, size_t n);
	ssize_t (*write)(void *ctx, const void *buf, size_t n);
	/* Like writev(2); may be NULL (the frames then go one write each). */
	ssize_t (*writev)(void *ctx, const struct iovec *iov, int n);
	/* Wraps a freshly connected/accepted fd; *ctx is passed to the others. */
	int (*wrap)(const struct xp_io_ops *self, int fd, bool server, void **ctx);
	/* Bytes already buffered above the fd (poll cannot see them); may be NULL. */
	size_t (*pending)(void *ctx);
	void (*close)(void *ctx); /* closes the fd too */
	void *cfg;                /* the table's own configuration (TLS: an SSL_CTX) */
};
extern const struct xp_io_ops xp_io_tcp;

/* TLS through OpenSSL (xp_tls.c): PEM files. */
struct xp_tls_opts {
	const char *cert_file, *key_file; /* server: required; client: optional (mutual TLS) */
	const char *ca_file;     /* client: required, verifies the server; server: demands a
	                            client certificate signed by it */
	const char *server_name; /* client: the name the server's certificate must carry */
};
int xp_tls_ops_new(const struct xp_tls_opts *o, bool server, struct xp_io_ops **out);
void xp_tls_ops_free(struct xp_io_ops *ops);

/* ---- sender --------------------------------------------------------------- */

typedef void (*xp_ack_fn)(void *arg, uint64_t seq); /* every seq <= seq is stored */
typedef void (*xp_point_fn)(void *arg, const struct xp_point *p);
/* The seed's checksums: count blocks of block bytes from offset. */
typedef void (*xp_sums_fn)(void *arg, uint64_t offset, uint32_t block, uint32_t count,
                           const struct xp_frame *f);

struct xp_sender_opts {
	uint32_t window;       /* unacknowledged frames in flight; 0 = 64 */
	uint64_t window_bytes; /* and their bytes on the wire; 0 = 64 MiB (one frame always goes) */
	uint64_t rate;         /* bytes per second on the wire; 0 = unlimited */
	int zlevel;            /* zstd level; 0 = no compression */
	int timeout_ms;        /* wait for the connect, acks, hello; 0 = 30000 */
	xp_ack_fn on_ack;      /* may be NULL */
	xp_point_fn on_point;  /* may be NULL */
	xp_sums_fn on_sums;    /* may be NULL */
	void *arg;
	const struct xp_io_ops *io; /* NULL = plain TCP */
	const char *name;           /* the disk's name and size, told in the hello; may be NULL */
	uint64_t size;
	uint64_t high;    /* the highest seq an earlier sender may have sent (told in the hello,
	                     with the highest this one took) */
	char err[192];    /* out: why xp_sender_open failed, "" */
	bool unreachable; /* out: it failed to connect (refused, unreachable, timed out) */
};

struct xp_sender;

/* Connects, says hello, learns the receiver's last stored sequence; on failure
 * o->err (when o is not NULL) says why. */
int xp_sender_open(const char *host, uint16_t port, uint64_t disk, struct xp_sender_opts *o,
                   struct xp_sender **out);
/*
 * Offers one record (copied). Returns 0 when accepted: it will be delivered,
 * and resent after a reconnect if the link drops before its ack. Records at or
 * below the receiver's last stored sequence are not sent; on_ack fires at once.
 * Returns -ENOTCONN (link down: xp_sender_reconnect, then offer it again),
 * -EPROTO when the receiver answered an ERROR (xp_sender_error says why), or
 * -ETIMEDOUT when the window stayed full for timeout_ms.
 */
int xp_send(struct xp_sender *s, const struct xp_record *r);
/* Waits until every accepted record is acknowledged. */
int xp_sender_flush(struct xp_sender *s);
/* Handles what the receiver sent (acks, points) without waiting: 0, or
 * -ENOTCONN / -EPROTO as xp_send. */
int xp_sender_poll(struct xp_sender *s);
/* Drops the connection (if any), connects again, resends what is unacknowledged. */
int xp_sender_reconnect(struct xp_sender *s);
bool xp_sender_connected(const struct xp_sender *s);
/* The last connect (open or reconnect) failed to reach the receiver at all. */
bool xp_sender_unreachable(const struct xp_sender *s);
uint64_t xp_sender_acked(const struct xp_sender *s);      /* highest acknowledged seq */
bool xp_sender_seeded(const struct xp_sender *s);         /* the receiver starts from a seed */
const char *xp_sender_error(const struct xp_sender *s);   /* last error text, "" if none */
uint64_t xp_sender_wire_bytes(const struct xp_sender *s); /* bytes written, all frames */
void xp_sender_close(struct xp_sender *s);

/* ---- receiver ------------------------------------------------------------- */

/* Stores one verified, decompressed record durably; returns 0, XP_STORE_LATER (stored,
 * and the store cuts a point after it in the background: the connection reads no more
 * frames and makes no calls until xp_receiver_resume names the disk) or a negative
 * errno. */
typedef int (*xp_store_fn)(void *arg, uint64_t disk, const struct xp_record *r);
#define XP_STORE_LATER 1
/* The last durably stored sequence of disk (0 = none); negative errno = unknown disk. */
typedef int (*xp_last_fn)(void *arg, uint64_t disk, uint64_t *seq);

/* A hello named the disk (name is NUL-terminated, "" when the sender sent none):
 * make or open it; high is the hello's (see xp_wire.h). A negative errno refuses
 * the sender. */
typedef int (*xp_open_fn)(void *arg, uint64_t disk, const char *name, uint64_t size, uint64_t high);
/* After the hello: whether the disk's replica starts from a seed, and if so its
 * checksums (block bytes per sum; *n sums from *sums, heap, the caller frees). */
typedef int (*xp_seed_fn)(void *arg, uint64_t disk, uint32_t *block, uint64_t **sums, size_t *n);
/* Makes every record stored for disk so far durable; called before an ACK, and
 * again while the sender is idle (idle set: nothing new to make durable) when
 * the last call asked for it: *wait_ms is how long the store can wait for its
 * next idle call (a point or a checkpoint coming due), -1 for not until new
 * records (an idle connection then sleeps until a frame, a stop or a cut).
 * Returns 0, 1 with *pt filled when it cut a recovery point (sent to the sender
 * after the ACK), XP_SYNC_LATER, or a negative errno. */
typedef int (*xp_sync_fn)(void *arg, uint64_t disk, bool idle, struct xp_point *pt, int *wait_ms);
/* The records are durable (the ACK goes) and the store cuts a point in the background:
 * the connection reads no frames and makes no calls until xp_receiver_resume names
 * its disk, then an idle sync call collects the point (or the point's error). The
 * other connections of its thread go on meanwhile. */
#define XP_SYNC_LATER 2
/* A connection that said hello has ended (the sender went, the link was cut): the store
 * may cut a point of what it holds. */
typedef void (*xp_close_fn)(void *arg, uint64_t disk);

struct xp_receiver_opts {
	xp_store_fn store;
	xp_last_fn last;
	xp_open_fn open;   /* may be NULL */
	xp_seed_fn seed;   /* may be NULL: no seeds */
	xp_sync_fn sync;   /* may be NULL: store is durable on its own */
	xp_close_fn close; /* may be NULL */
	void *arg;
	const struct xp_io_ops *io; /* NULL = plain TCP */
	unsigned shards;            /* threads serving the connections; 0: twice the CPUs
	                               (at most 16) */
	unsigned hello_ms;          /* a connection without a hello by then is dropped; 0: 30 s */
};

struct xp_receiver_stats {
	uint64_t stored;       /* records the store accepted */
	uint64_t stored_bytes; /* their payload bytes */
	uint64_t duplicates;   /* DATA at or below the last stored seq: acked, not stored */
	uint64_t checksum_errors;
	uint64_t frame_errors; /* malformed frames, bad hello, decompress failures */
	uint64_t store_errors;
	uint64_t connections;
	char last_error[128];
};

struct xp_receiver;

/* Listens on host:port (port 0 = ephemeral; see xp_receiver_port). */
int xp_receiver_open(const char *host, uint16_t port, const struct xp_receiver_opts *o,
                     struct xp_receiver **out);
uint16_t xp_receiver_port(const struct xp_receiver *r);
/* Accepts connections (one per disk) until xp_receiver_stop and serves them on
 * a few threads (opts.shards, each an event loop over its connections: callbacks
 * of disks on different shards run concurrently, those of one shard in turn);
 * run it on its own thread. It ends every connection and joins the shards before
 * it returns. An idle connection costs no wakeups until a frame, a stop, a cut or
 * its store's next due time (xp_sync_fn). */
int xp_receiver_run(struct xp_receiver *r);
void xp_receiver_stop(struct xp_receiver *r); /* thread-safe */
/* Thread-safe: drops the current connections abruptly (a frame being stored
 * completes, none after it is taken). */
void xp_receiver_cut(struct xp_receiver *r);
/* Thread-safe: the connections of disk that a sync call paused (XP_SYNC_LATER) go on. */
void xp_receiver_resume(struct xp_receiver *r, uint64_t disk);
void xp_receiver_stats(struct xp_receiver *r, struct xp_receiver_stats *st);
void xp_receiver_close(struct xp_receiver *r);

/* ---- internal: one connection, shared by sender and receiver (xp.c) -------- */

struct xp_conn {
	const struct xp_io_ops *io;
	void *ctx;
	int fd;
	uint8_t *rbuf;
	size_t rn, rcap, consumed;
};

/* Connects within timeout_ms (-ETIMEDOUT past it). */
int xp_conn_connect(struct xp_conn *c, const struct xp_io_ops *io, const char *host, uint16_t port,
                    int timeout_ms);
int xp_conn_accepted(struct xp_conn *c, const struct xp_io_ops *io, int fd);
void xp_conn_close(struct xp_conn *c);
/* All of buf; on a non-blocking socket it waits for room (at most 30 s: -ETIMEDOUT). */
int xp_conn_write(struct xp_conn *c, const void *buf, size_t n);
/* The connection waits with nothing buffered: its receive buffer goes back. */
void xp_conn_idle(struct xp_conn *c);
/*
 * Next frame, waiting up to timeout_ms (0 = only what is buffered or readable
 * now). The frame points into the connection's buffer until the next call.
 * -ETIMEDOUT, -ECONNRESET (peer closed), -EBADMSG (*why), or an I/O errno.
 */
int xp_conn_read_frame(struct xp_conn *c, struct xp_frame *f, int timeout_ms, const char **why);

#endif
