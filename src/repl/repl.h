/*
 * repl.h - replication of protected disks: capture -> journal -> replica -> points.
 *
 * Design: each protected disk is an NBD export of its source image (nbd_server).
 * The export's hooks journal every acknowledged write, trim, zero and flush in
 * the order they reached the disk (jnl). A shipper applies the journal, in
 * order, to the disk's replica image in the recovery region, makes the replica
 * durable, records the last applied sequence (atomically), cuts a recovery point
 * from the replica (store_capture: only chunks that differ are stored), and
 * releases the journal it no longer needs. A point is therefore the source after
 * a prefix of acknowledged writes: crash-consistent by construction; a point
 * whose prefix ends at a flush barrier is recorded as app-consistent.
 *
 * Start-up: a disk without a replica gets the initial copy, a slice per
 * shipper tick while the export already serves (only the source's data
 * extents are read; the writes meanwhile wait in the journal and are applied
 * once the copy is done, then the first full point is cut). The copy's
 * progress is persisted (replica/<disk>.copy), so a crash resumes it. After a crash the
 * journal's torn tail is dropped, the unapplied records are applied, and the
 * extents the activity log names (writes that may have reached the source but
 * not the journal) are copied from the source; in bitmap mode (the journal
 * outgrew its capacity) the dirty extents are copied the same way. Nothing
 * else is resent: the disk is never copied whole again.
 *
 * Layout under the work directory: journal/<disk>/ (segments), replica/<disk>.img
 * and replica/<disk>.seq (the last applied sequence). The store is separate.
 * Points: only the chunks the applied records touched are read and hashed, so a
 * point costs what changed; the first point after a start reads the whole replica
 * (a crash may have come between shipping and cutting).
 * RPO: the hooks note the time of the first write after each snapshot; the
 * RPO now is the age of the oldest write that no point holds (0 when every
 * write is in a point): what a failover now would lose.
 * Thread safety: one mutex per disk serialises the hooks (NBD connection
 * threads), the shipper's snapshots and the status; one shipping mutex lets a
 * single thread (the shipper's tick or a mark) ship at a time.
 */
#ifndef STRAIT_REPL_H
#define STRAIT_REPL_H

#include "repl/store.h"

#include <stdint.h>

struct repl;
struct nbd_server;

enum repl_state {
	REPL_COPYING,   /* the initial copy runs; no point yet */
	REPL_PROTECTED, /* points are cut */
	REPL_RESYNC,    /* the journal overflowed: dirty extents wait to be copied */
	REPL_ERROR,     /* shipping failed (the error says why); retried every tick */
};
const char *repl_state_name(enum repl_state s);

struct repl_disk_status {
	char name[STORE_NAME_MAX + 1];
	char group[STORE_NAME_MAX + 1]; /* "" when the disk is in no group */
	enum repl_state state;
	int err;             /* the last shipping error (negative errno), 0 */
	uint64_t size;       /* bytes */
	uint64_t copied;     /* initial copy: bytes of the disk done (size when done) */
	uint64_t next_seq;   /* journal: the next record's sequence */
	uint64_t shipped;    /* the last record applied to the replica */
	uint64_t backlog;    /* bytes written and not yet applied to the replica */
	uint64_t journal;    /* bytes of journal segments on disk */
	uint64_t written;    /* bytes written since the start */
	double churn;        /* bytes/s written, averaged over about 10 s */
	int64_t rpo_ms;      /* age of the oldest write no point holds; 0: none */
	uint64_t last_point; /* seq of the newest point, 0 before the first */
	int64_t last_time;   /* its time (s) */
	enum store_kind last_kind;
	bool bitmap;
};

/* work: the capture side's directory; st: the recovery region's store (not owned). */
int repl_open(const char *work, struct store *st, struct repl **out);
/* Points are cut every interval seconds (default 300) while writes come in. */
void repl_set_interval(struct repl *r, int64_t secs);
/* Protects one disk: journal and replica; a new disk starts its initial copy
 * (done a slice per repl_ship, while its export already serves), a known one
 * recovers from a crash (the journal applied, the activity log's extents copied). */
int repl_add_disk(struct repl *r, const char *name, const char *source);
/* A replication group: its disks' points are cut at one instant, recorded as
 * one group point (store_write_group). Each disk in at most one group. */
int repl_add_group(struct repl *r, const char *name, const char *const *disks, size_t n);
/* Serves every disk as an NBD export of s with the journaling hooks; call once,
 * after the disks are added, before serving. */
int repl_attach(struct repl *r, struct nbd_server **out);
/* One tick of the shipper: the next slice of every initial copy, every disk's
 * journal applied to its replica, and a point for every disk (and group) whose
 * interval has passed with changes (every disk when force). now: seconds.
 * Returns points cut, or the first error (-errno; the other disks went on). */
int repl_ship(struct repl *r, int64_t now, bool force);
/* An app-consistent point now: a barrier in the journal of each disk (name, or
 * every disk when NULL; a group's disks together), shipped up to it, cut as an
 * app-consistent point. Returns points cut or -errno (-ENOENT: no such disk or
 * group; -EAGAIN: the initial copy has not finished). */
int repl_mark(struct repl *r, const char *name, int64_t now);
size_t repl_ndisks(const struct repl *r);
int repl_status(struct repl *r, size_t i, struct repl_disk_status *s);
/* Ships what is left and closes the journals cleanly. */
int repl_close(struct repl *r, int64_t now);

#endif
