/*
 * rsvc.h - the replication service: the pipeline of repl.h running on its
 * own threads, as `strait replica serve` and straitd run it.
 *
 * Design: one thread serves the NBD exports (nbd_server_run), one ships
 * (repl_ship), and without a remote target a third runs the in-process
 * receiver (tgt) on loopback, so the data always crosses the transport. The
 * shipper ticks every tick_ms (default 1 s; at once again while an initial
 * copy or resync has slices left, or when a mark asks; after 5 ms while records
 * are in flight on a link that is up; after 100 ms, doubling up to the tick,
 * while a round fails, a link down say): the copy's next slice,
 * every journal sent, acks and points taken in; an app-consistent mark every
 * app_every seconds when set; Site Recovery's pruning every minute when a
 * retention is set (with the in-process target). Callers on other threads
 * read the status and ask for marks.
 * Errors while shipping are kept per disk (the status shows them) and retried
 * at the next tick; nothing is lost while the journal holds the writes.
 */
#ifndef STRAIT_RSVC_H
#define STRAIT_RSVC_H

#include "repl/nbd.h"
#include "repl/repl.h"
#include "repl/tgt.h"
#include "repl/xp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rsvc_opts {
	const char *work;     /* the capture side's directory */
	const char *store;    /* the store of the in-process target (when target is NULL) */
	const char *target;   /* "HOST:PORT" of the recovery region's receiver (strait replica
	                         receive, straitd --receive), or NULL: an in-process one on
	                         loopback that keeps its replicas in work and points in store */
	int zlevel;           /* zstd level on the link; 0 = none */
	uint64_t rate;        /* bytes/s on the link; 0 = unlimited */
	const char *socket;   /* the NBD exports' Unix socket */
	const char *tcp;      /* "HOST:PORT" for NBD over TCP too (port 0 picks one), or NULL */
	int64_t interval;     /* seconds between crash-consistent points; default 300 */
	int64_t app_every;    /* seconds between app-consistent points; 0 = on request only */
	int64_t retention;    /* seconds of points kept; 0 = keep every point */
	int64_t tick_ms;      /* the shipper's period; default 1000 */
	uint64_t journal_max; /* bytes per disk's journal before its bitmap; 0: default */
	uint32_t al_extents;  /* each disk's activity log, 4 MiB extents; 0: 1237 */
	uint64_t map_cache;   /* the in-process store's cache of newest maps; 0: 1 GiB */
	/* TLS on the link to target (client side: ca_file verifies the receiver, cert and key
	 * for mutual TLS, server_name checked when set), or NULL: plain TCP. */
	const struct xp_tls_opts *tls;
	/* TLS for the NBD exports (STARTTLS, optional or required), or NULL. */
	const struct nbd_tls_opts *nbd_tls;
	/* Reprotect with the in-process target: each disk's old copy, which becomes its
	 * replica and is brought level by sending only the blocks that differ. */
	const struct tgt_seed *seeds;
	size_t nseeds;
};

struct rsvc_disk {
	const char *name; /* the export and store name */
	const char *path; /* the source: a file or block device */
};

struct rsvc_group {
	const char *name;
	const char *const *disks;
	size_t n;
};

struct rsvc;

/* Opens the store and the work directory, protects the disks, forms the
 * groups, listens and starts both threads. On failure err says what failed. */
int rsvc_start(const struct rsvc_opts *o, const struct rsvc_disk *disks, size_t nd,
               const struct rsvc_group *groups, size_t ng, struct rsvc **out, char *err,
               size_t errlen);
/* A TLS table for the transport, with err naming what is wrong (an unreadable file, a
 * certificate that does not load, a key that does not match it). */
int rsvc_tls(const struct xp_tls_opts *o, bool server, struct xp_io_ops **out, char *err,
             size_t errlen);
/* The NBD TCP port bound (when o->tcp was set), else 0. */
uint16_t rsvc_tcp_port(const struct rsvc *s);
size_t rsvc_ndisks(const struct rsvc *s);
int rsvc_status(struct rsvc *s, size_t i, struct repl_disk_status *st);
/* An app-consistent point for a disk or group (NULL: all), see repl_mark; the
 * shipper is woken to send it. Returns the points asked for at once (the status
 * shows which are pending), or -errno. */
int rsvc_mark(struct rsvc *s, const char *name);
/* Stops serving and shipping, ships what is left (a point for any change),
 * closes everything. Returns 0 or the first error. */
int rsvc_stop(struct rsvc *s);

#endif
