/*
 * repl.h - the protected side of replication: capture -> journal -> transport.
 *
 * Design: each protected disk is an NBD export of its source image (nbd_server).
 * The export's hooks journal every acknowledged write, trim, zero and flush in
 * the order they reached the disk (jnl). A shipper sends the journal, in order,
 * over the transport (xp, one connection per disk) to the recovery region's
 * side (tgt), which applies it to the disk's replica and cuts the recovery
 * points; a record leaves the journal only once the target acknowledged it
 * durable, so a cut link or a crash of either side loses nothing and resends
 * nothing acknowledged. A point is therefore the source after a prefix of
 * acknowledged writes: crash-consistent by construction.
 *
 * Everything the target gets is a journal record. The initial copy reads the
 * source's data extents a slice per tick and journals them as RESYNC records,
 * each read and journaled under the export's write lock (no client write can
 * fall between the read and the record), then a SYNCED marker: the target cuts
 * no point in between. The copy's progress is persisted (<work>/<disk>.copy),
 * so a crash resumes it. After a crash of this side the journal's torn tail is
 * dropped and the activity log's extents (writes that may have reached the
 * source but not the journal) are resent the same way; when the journal
 * outgrew its capacity (bitmap mode) the dirty extents are, once the journal
 * has drained. Nothing else is resent: the disk is never copied whole again.
 *
 * Points: the target cuts crash-consistent points on its interval for single
 * disks. For a replication group this side puts a CUT marker into every
 * member's journal at one instant (all their locks held) every interval, and
 * the target records one group point over the members' points. repl_mark puts
 * a flush barrier and a MARK (or CUT|MARK for a group) marker: an
 * app-consistent point exactly there.
 *
 * RPO: the hooks note the time of writes (one sample per 100 ms); the target
 * reports every point with the last record it holds; the RPO now is the age of
 * the oldest write no point holds (0 when every write is in one).
 * Thread safety: one mutex per disk serialises the hooks (NBD connection
 * threads), the shipper's snapshots and the status; the shipper (repl_ship) is
 * one thread; repl_mark and repl_status may be called from any thread.
 */
#ifndef STRAIT_REPL_H
#define STRAIT_REPL_H

#include "repl/store.h"
#include "repl/xp.h"

#include <stdint.h>

struct repl;
struct nbd_server;

enum repl_state {
	REPL_COPYING,   /* the initial copy runs; no point yet */
	REPL_PROTECTED, /* points are cut */
	REPL_RESYNC,    /* extents are resent from the source (crash, overflow) */
	REPL_ERROR,     /* the link is down or the target refused (the error says why) */
};
const char *repl_state_name(enum repl_state s);

struct repl_disk_status {
	char name[STORE_NAME_MAX + 1];
	char group[STORE_NAME_MAX + 1]; /* "" when the disk is in no group */
	enum repl_state state;
	char error[192];     /* the transport's last error, "" */
	uint64_t size;       /* bytes */
	uint64_t copied;     /* initial copy: bytes of the disk done (size when done) */
	uint64_t next_seq;   /* journal: the next record's sequence */
	uint64_t sent;       /* the last record handed to the transport */
	uint64_t acked;      /* the last record the target holds durably */
	uint64_t backlog;    /* bytes of journal the target has not acknowledged */
	uint64_t written;    /* bytes written since the start */
	uint64_t wire;       /* bytes sent on the link (compressed) */
	double churn;        /* bytes/s written, averaged over about 10 s */
	int64_t rpo_ms;      /* age of the oldest write no point holds; 0: none */
	uint64_t covered;    /* the last record the newest point holds */
	uint64_t mark;       /* an app-consistent point asked for at this record, not yet cut; 0 */
	uint64_t last_point; /* seq of the newest point, 0 before the first */
	int64_t last_time;   /* its time (s) */
	enum store_kind last_kind;
	bool bitmap;
};

struct repl_target {
	const char *host; /* the recovery region's receiver */
	uint16_t port;
	const struct xp_io_ops *io; /* NULL: plain TCP */
	uint64_t rate;              /* bytes/s on the link; 0 = unlimited */
	int zlevel;                 /* zstd level; 0 = none */
};

/* work: this side's directory (journals); tg: where to ship (copied). */
int repl_open(const char *work, const struct repl_target *tg, struct repl **out);
/* Group cuts every interval seconds (default 300). */
void repl_set_interval(struct repl *r, int64_t secs);
/* Bytes a disk's journal may hold before it falls back to a dirty bitmap (a link down
 * longer than that); 0 (default): the disk's size, at least 1 GiB, at most 8 GiB. Call
 * before repl_add_disk. */
void repl_set_journal_max(struct repl *r, uint64_t bytes);
/* Each disk's activity log, in 4 MiB extents (0: DRBD's default, 1237; at most
 * JNL_AL_MAX): random writes over more than n * 4 MiB pay a synchronous write per
 * batch of new extents, and a crash resyncs up to n * 4 MiB. A journal reopened
 * with another size keeps what its old slots report. Call before repl_add_disk. */
void repl_set_al_extents(struct repl *r, uint32_t n);
/* The --activity-log option's value: 0, or -1 with why (names the option). */
int repl_parse_al(const char *s, uint32_t *n, char *why, size_t whylen);
/* Protects one disk: its journal; a new disk starts its initial copy, a known
 * one recovers from a crash. The link to the target is made at the first tick.
 * Before repl_attach only (the NBD threads then look disks up without a lock):
 * -EBUSY after. */
int repl_add_disk(struct repl *r, const char *name, const char *source);
/* A replication group: one point across its disks at each cut. */
int repl_add_group(struct repl *r, const char *name, const char *const *disks, size_t n);
/* Serves every disk as an NBD export of s with the journaling hooks; call once,
 * after the disks are added, before serving. */
int repl_attach(struct repl *r, struct nbd_server **out);
/* One round of the shipper: the group cuts that are due, then for each disk
 * visited the next slice of its initial copy or resync, its journal sent, acks
 * and points taken in, acknowledged journal released. full: every disk (links
 * retried, churn measured), as at each tick; otherwise only the disks with work
 * (written or marked since their last visit, records unsent or unacknowledged,
 * a copy or resync going on): quiet disks cost nothing between ticks. now:
 * seconds. 0, or the first error. */
int repl_ship(struct repl *r, int64_t now, bool full);
/* After a round: records wait to be sent or acknowledged on a link that is up (the
 * shipper comes back soon rather than at its next tick). */
bool repl_pending(struct repl *r);
/* After a round: an initial copy or a resync has slices left. */
bool repl_busy(struct repl *r);
/* wake(arg) is called (from a writer's thread) when a disk with nothing to do is
 * written: the shipper comes at once rather than at its next tick. */
void repl_set_wake(struct repl *r, void (*wake)(void *), void *arg);
/* Asks for an app-consistent point of a disk or group (NULL: all): a barrier
 * and a MARK in each journal. *marks gets how many were asked for; until the
 * target reports each point, repl_disk_status.mark names the record.
 * -ENOENT: no such disk or group; -EAGAIN: an initial copy is not finished. */
int repl_mark(struct repl *r, const char *name, int *marks);
size_t repl_ndisks(const struct repl *r);
int repl_status(struct repl *r, size_t i, struct repl_disk_status *s);
/* Sends what is left (waits up to timeout_ms for the acknowledgements) and
 * closes the journals cleanly. */
int repl_close(struct repl *r, int timeout_ms);

#endif
