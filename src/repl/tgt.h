/*
 * tgt.h - the recovery region's side of replication: receives each protected
 * disk's journal records over the transport (xp), applies them in order to
 * the disk's replica, and cuts recovery points into the store.
 *
 * Design: an xp receiver serves one connection per disk. Its callbacks (on
 * the connection's thread) open the disk's replica when a sender says hello
 * (made sparse at the size the hello names), apply every record, append it to
 * the disk's write-ahead log (rlog.h), and on each burst sync the log before
 * the acknowledgement: what is acknowledged survives a crash of either side.
 * The replica is made durable at checkpoints (fdatasync, the last applied
 * sequence saved atomically in replica/<disk>.seq, the log emptied); a start
 * replays the log onto the replica. Points:
 * - crash-consistent every interval while records arrive (app-consistent when
 *   the applied prefix ends at a flush barrier), cut when due on a burst or on
 *   the receiver's idle tick, so a quiet disk's last writes get a point too;
 * - app-consistent at a MARK record, at once;
 * - for replication groups, at CUT records only: the capture side puts one
 *   into every member's journal at the same instant; when every member has
 *   its point for a cut, the group point is recorded (store_write_group);
 * - never while the replica is inconsistent: between the first RESYNC record
 *   (initial copy, resync after a crash or an overflow) and the SYNCED marker
 *   that ends it (persisted in the .seq file, so a restart knows).
 * Every point is reported back to the sender (xp POINT frame): the capture
 * side learns the RPO and the newest point from it.
 * Record payloads: data for writes and RESYNC; TRIM and ZERO carry their
 * length (u64, big-endian); CUT carries u32 members then the group's name.
 */
#ifndef STRAIT_TGT_H
#define STRAIT_TGT_H

#include "repl/store.h"
#include "repl/xp.h"

#include <stdbool.h>
#include <stdint.h>

/* Reprotect: a disk whose replica starts from an older copy (the old primary's
 * disk after a failover). The replica is that file (linked from the work
 * directory), and the sender's initial copy sends only the 64 KiB blocks whose
 * checksums differ. */
struct tgt_seed {
	const char *disk, *path;
};

struct tgt_opts {
	const char *work;           /* replica/<disk>.img and .seq live here */
	struct store *st;           /* not owned */
	const char *host;           /* listen address, default 127.0.0.1 */
	uint16_t port;              /* 0 picks one (tgt_port) */
	int64_t interval;           /* seconds between crash-consistent points; default 300 */
	const struct xp_io_ops *io; /* NULL: plain TCP */
	const struct tgt_seed *seeds;
	size_t nseeds;
	/* With prune, the point thread prunes every disk's points by Site Recovery's rules
	 * over retention seconds (store_prune: 0 keeps the newest only) every prune_every
	 * seconds (default 60), and once a prune dropped a point, collects the store
	 * (store_gc) at most every gc_every seconds (default 3600: a gc reads every manifest): the
	 * store's writer is this process alone (store_lock), so nothing else may. */
	bool prune;
	int64_t retention, prune_every, gc_every;
};

struct tgt;

struct tgt_disk_status {
	char name[STORE_NAME_MAX + 1];
	uint64_t size, applied, durable;
	bool inconsistent, grouped;
	uint64_t last_point;
	int64_t last_time;
	enum store_kind last_kind;
};

int tgt_open(const struct tgt_opts *o, struct tgt **out);
uint16_t tgt_port(const struct tgt *t);
/* Serves until tgt_stop (run it on its own thread). */
int tgt_run(struct tgt *t);
void tgt_stop(struct tgt *t);
/* Drops every connection at once (a cut link; for tests). */
void tgt_cut(struct tgt *t);
size_t tgt_ndisks(struct tgt *t);
int tgt_status(struct tgt *t, size_t i, struct tgt_disk_status *s);
void tgt_stats(struct tgt *t, struct xp_receiver_stats *st);
/* After tgt_run returned: closes the replicas and frees. */
void tgt_close(struct tgt *t);

/* The payload of TRIM/ZERO and CUT records (shared with the capture side). */
#define TGT_LEN_PAYLOAD 8u
void tgt_put_u64(uint8_t *p, uint64_t v);
uint64_t tgt_get_u64(const uint8_t *p);

#endif
