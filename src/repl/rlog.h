/*
 * rlog.h - the recovery side's write-ahead log of received records: what the
 * receiver acknowledges is durable here, so the replica itself is synced
 * only at checkpoints.
 *
 * Why: a replica takes random writes; syncing it before every
 * acknowledgement (every 20 ms burst) wrote back each dirty 4 KiB page on
 * its own and cost more than the rest of replication together (4 KiB random
 * writes through strait: 49k IOPS with a replica sync per burst, 94-107k
 * when the replica synced every 3 s). The log is written in order, so a sync
 * of it is one sequential write; the replica's pages are written back once
 * per checkpoint, merged and mostly in file order.
 *
 * Layout: replica/<disk>.log, a sparse file of fixed capacity: its blocks are
 * allocated as records first reach them and written over in place after, and
 * returned (rlog_trim) at a checkpoint of a disk that is not busy, so an idle
 * disk's log takes no space.
 * Bytes [0, 1024) hold two 512-byte header slots (magic, generation,
 * checksum); the newer valid slot names the log's generation. Records from
 * byte 4096 on, each a 48-byte header (magic, flags, generation, seq,
 * offset, len, XXH3-64 of header and payload seeded with the record before's)
 * then the payload, padded to 8 bytes.
 *
 * Invariants:
 * - Replay reads records of the current generation in file order and stops
 *   at the first that is torn, of another generation, not above the one
 *   before or not chained to it: a reset (new generation) makes every older
 *   record unreadable without erasing it, records past the last sync may be
 *   torn, and appends that went on after a replay's stop leave the records
 *   past them unchained.
 * - A reset is taken only after the replica and its .seq are durable up to
 *   every record in the log; its header slot need not be durable: the old
 *   generation's records are all at or below the .seq's sequence.
 * - The generation grows across opens (the newest slot's plus two: a torn
 *   newer slot's generation is never reused).
 */
#ifndef STRAIT_RLOG_H
#define STRAIT_RLOG_H

#include "repl/xp.h"

#include <stdint.h>

#define RLOG_DATA 4096u /* where records start */

struct rlog;

/* Opens the log at path, creating it with cap bytes (at least RLOG_DATA plus
 * one largest record) when it does not exist. */
int rlog_open(const char *path, uint64_t cap, struct rlog **out);
/* Calls fn on every readable record of the current generation whose seq is
 * above after, in order; stops at fn's first nonzero return (returned). */
int rlog_replay(struct rlog *l, uint64_t after, int (*fn)(void *arg, const struct xp_record *r),
                void *arg);
/* Appends a record (buffered: durable at the next rlog_sync). RLOG_FULL (a
 * positive value, never an errno: a disk that is full is an error like any
 * other) when the log has no room for it until rlog_reset. */
#define RLOG_FULL 1
int rlog_append(struct rlog *l, const struct xp_record *r);
/* Writes what is buffered and makes every appended record durable. */
int rlog_sync(struct rlog *l);
/* Bytes of records appended since the last reset, and the capacity for them. */
uint64_t rlog_used(const struct rlog *l);
uint64_t rlog_room(const struct rlog *l);
/* A new generation: the log is empty (see the invariants for when). */
int rlog_reset(struct rlog *l);
/* Right after a reset: returns the blocks the records reached to the
 * filesystem (a hole punched; nothing where punching is not supported), so
 * a disk gone quiet keeps no log on disk. -EBUSY when records were appended
 * since the reset. */
int rlog_trim(struct rlog *l);
void rlog_close(struct rlog *l);

#endif
