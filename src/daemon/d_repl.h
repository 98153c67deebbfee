/*
 * d_repl.h - straitd's replication: the estate's `replication:` section turned
 * into a running replication service (rsvc).
 *
 * Each protected VM's disks that name a `path:` (their source: a file or block
 * device) are protected as "<vm>-<disk>"; a relative path is taken from the
 * estate file's directory. The section's groups become replication groups
 * (one point across their VMs' disks), its policy the point interval, the
 * app-consistent schedule and the retention. Disks without a path are
 * modelled only (the recovery simulation uses them), not replicated.
 */
#ifndef STRAIT_D_REPL_H
#define STRAIT_D_REPL_H

#include "estate/est.h"
#include "repl/rsvc.h"

#include <stddef.h>

struct d_repl_opts {
	const char *estate_path; /* for relative disk paths */
	const char *work;        /* the capture side's directory */
	const char *store;       /* default: WORK/store */
	const char *socket;      /* NBD exports; default: WORK/nbd.sock */
	const char *tcp;         /* NBD over TCP too, HOST:PORT, or NULL */
	const char *target;      /* the recovery region's receiver HOST:PORT, or NULL: in-process */
	struct xp_tls_opts tls;  /* TLS to target when tls.ca_file is set */
	uint64_t rate;           /* bytes/s on the link; 0: d_repl_rate's */
	uint64_t journal_max;    /* bytes per disk's journal before its bitmap; 0: default */
	uint32_t al_extents;     /* each disk's activity log, 4 MiB extents; 0: 1237 */
	uint64_t map_cache;      /* the store's cache of newest maps; 0: 1 GiB */
	struct nbd_tls_opts nbd_tls; /* TLS for the NBD exports when nbd_tls.cert is set */
};

/* Bytes/s the estate's replication path carries: an on-premises site's fastest enabled
 * circuit when it replicates over ExpressRoute peering; 0 (no limit) otherwise. */
uint64_t d_repl_rate(const struct estate *e);

/* Starts replication for the estate; *out stays NULL (and 0 is returned)
 * when the estate protects no disk with a path. On failure err says why. */
int d_repl_start(const struct estate *e, const struct d_repl_opts *o, struct rsvc **out, char *err,
                 size_t errlen);

#endif
