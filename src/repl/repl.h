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
 * Start-up: a disk without a replica gets the initial copy (the source read
 * and written sparse-aware, then the first full point). After a crash the
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
 * Thread safety: one mutex per disk serialises the hooks (NBD connection
 * threads) and the shipper's journal reads.
 */
#ifndef STRAIT_REPL_H
#define STRAIT_REPL_H

#include "repl/store.h"

#include <stdint.h>

struct repl;
struct nbd_server;

struct repl_disk_status {
	char name[STORE_NAME_MAX + 1];
	uint64_t size;
	uint64_t next_seq, shipped; /* journal: next sequence, last applied */
	uint64_t backlog;           /* journal bytes not yet released */
	uint64_t points, last_point;
	int64_t last_time;
	bool bitmap;
};

/* work: the capture side's directory; st: the recovery region's store (not owned). */
int repl_open(const char *work, struct store *st, struct repl **out);
/* Protects one disk: journal, replica, initial copy or crash recovery. */
int repl_add_disk(struct repl *r, const char *name, const char *source);
/* Serves every disk as an NBD export of s with the journaling hooks; call once,
 * after the disks are added, before serving. */
int repl_attach(struct repl *r, struct nbd_server **out);
/* Ships every disk's journal and cuts a point per disk with changes (or every
 * disk when force). now: the replication clock. Returns points cut, or -errno. */
int repl_ship(struct repl *r, int64_t now, bool force);
size_t repl_ndisks(const struct repl *r);
int repl_status(struct repl *r, size_t i, struct repl_disk_status *s);
/* Ships what is left and closes the journals cleanly. */
int repl_close(struct repl *r, int64_t now);

#endif
