/*
 * jnl.h - the replication journal of one protected disk.
 *
 * Design: an append-only log of acknowledged writes in write order (write-order
 * fidelity), in segment files "seg-<first seq, 16 hex>.jnl" of a directory. A record
 * is a 40-byte header { magic, flags, seq, offset, length, data length, checksum }
 * and its data; the checksum is XXH3-64 of the data, used as the seed of XXH3-64
 * over the header (checksum field zero), so it covers both.
 *
 * Durability: jnl_append returns once the record is written (page cache: it
 * survives a SIGKILL); a FUA record is fdatasynced before jnl_append returns;
 * jnl_flush fdatasyncs, fsyncs the directory when a segment was created, and
 * appends a FLUSH barrier record. Only records before a barrier, or with FUA, are
 * durable (jnl_durable_seq). A full segment is not synced when the next one starts
 * (the writer never waits for the disk there): the next sync covers it, and one
 * released before that never reaches the disk unless the kernel wrote it back.
 *
 * Reading: jnl_iter verifies every checksum and reads in large blocks; a record cut
 * at the end of the last segment is the end (torn tail, not an error); a bad
 * record anywhere else is -EBADMSG. jnl_open truncates a torn tail so appends
 * continue from a clean end; after a power cut the tail may start in an earlier
 * segment (one not synced yet) when no durable record follows it: jnl_open cuts
 * there and deletes the segments after.
 *
 * Capacity: when an append would take the journal past opts.capacity bytes, the
 * journal switches to bitmap mode: a dirty bitmap (1 bit per 64 KiB, bmap.h),
 * persisted in place by the next sync after a new bit (before its extent leaves
 * the activity log, at a flush, at close: the activity log covers the bits set
 * since, as in DRBD); jnl_bitmap_clear ends it.
 *
 * Activity log (DRBD): before a write to a 4 MiB extent outside the active set is
 * acknowledged, the extent is written (O_DSYNC) into a ring of the last N active
 * extents. jnl_recover reports what may differ after a crash: the activity log's
 * extents plus those of records after the last durable point.
 *
 * Numbering: seqs are never reused. After an unclean stop, records written but
 * not durable may have been read and shipped, then lost: jnl_open numbers on from
 * past any seq it could have given (a jump of 2^40, listed in the file "gaps").
 *
 * All functions return 0 or a negative errno. One writer; not thread-safe.
 */
#ifndef STRAIT_JNL_H
#define STRAIT_JNL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JNL_F_FUA   0x1u
#define JNL_F_FLUSH 0x2u /* a barrier record: no data */
#define JNL_F_TRIM  0x4u /* length without data */
#define JNL_F_ZERO  0x8u /* length without data */
/* Replication's own records (jnl_append_marker, and RESYNC through jnl_append):
 * RESYNC data read from the source (the initial copy, a resync): the replica
 *        is inconsistent until the SYNCED marker that ends the resync;
 * SYNCED the resync is over: points may be cut again;
 * MARK   an app-consistent point is asked for here (after a barrier);
 * CUT    a group cut: data names the group, off is the cut's number, len the
 *        number of disks in the group. */
#define JNL_F_RESYNC 0x10u
#define JNL_F_SYNCED 0x20u
#define JNL_F_MARK   0x40u
#define JNL_F_CUT    0x80u

#define JNL_HDR_SIZE   40u
#define JNL_MAX_DATA   (64u << 20)
#define JNL_BM_SHIFT   16u    /* dirty bitmap: 64 KiB per bit */
#define JNL_AL_SHIFT   22u    /* activity log: 4 MiB extents */
#define JNL_AL_MAX     65534u /* activity-log slots at most (DRBD's al-extents too) */
#define JNL_SEQ_BITMAP 0      /* the seq jnl_append reports for a write kept in the bitmap */

struct jnl_opts {
	uint64_t seg_size; /* default 64 MiB */
	uint64_t capacity; /* bytes of segments; 0 = unlimited */
	/* Activity-log ring slots (default 127, at most JNL_AL_MAX). Reopening a
	 * journal with another size is allowed: after an unclean stop the extents of
	 * slots past a smaller ring are reported too (jnl_recover) and stay in the
	 * file until a clean close. */
	uint32_t al_extents;
	/* The disk's size: the dirty bitmap's file is made that large at open, so
	 * that saving it never needs space. 0: unknown (it grows as bits are set). */
	uint64_t disk_size;
	/* Called before an extent leaves the activity log: the backing disk must be
	 * durable (fdatasync) for its writes by then. May be NULL. */
	int (*sync_disk)(void *arg);
	void *sync_arg;
};

struct jnl;

int jnl_open(const char *dir, const struct jnl_opts *opts, struct jnl **out);
/* Makes everything durable, clears the activity log (a clean close), frees. */
int jnl_close(struct jnl *j);
/* Abandon without syncing or clearing anything (as a crash would; for tests). */
void jnl_abandon(struct jnl *j);

/* data is len bytes, or NULL for TRIM/ZERO. *seq gets the record's sequence
 * number, or JNL_SEQ_BITMAP in bitmap mode. A range spanning more 4 MiB extents
 * than the activity log holds is -E2BIG: the caller splits it (a long TRIM). */
int jnl_append(struct jnl *j, uint64_t off, uint32_t len, uint32_t flags, const void *data,
               uint64_t *seq);
/* Puts the 4 MiB extents of [off, off + len) in the activity log, as an append
 * would: called before the disk itself is written, so a crash between the
 * disk's write and its record leaves the extents for jnl_recover's resync.
 * -E2BIG as jnl_append. */
int jnl_hot(struct jnl *j, uint64_t off, uint32_t len);
/* jnl_hot for a batch of writes (their data unused) before any of them reaches
 * the disk: the new extents enter the activity log in one transaction (one or
 * two synchronous writes, not one per extent). -E2BIG when the batch spans more
 * new extents than the activity log holds. */
struct jnl_write;
int jnl_hot_many(struct jnl *j, const struct jnl_write *w, size_t n);
/* Plain writes (no FUA, TRIM or ZERO) appended at once, in order, each as
 * jnl_append would: records that fit in the segment go JNL_MANY to one
 * pwritev (a batch of NBD requests costs one system call, not one each).
 * seqs[i] gets write i's number or JNL_SEQ_BITMAP. On an error a prefix of
 * the writes may be journaled. */
#define JNL_MANY 64
struct jnl_write {
	uint64_t off;
	const void *data;
	uint32_t len;
};
int jnl_append_many(struct jnl *j, const struct jnl_write *w, size_t n, uint64_t *seqs);
/* A marker record (SYNCED, MARK, CUT or CUT|MARK for an app-consistent group
 * cut; the caller puts a barrier before a MARK with jnl_flush): dlen bytes
 * of data (a group's name), off and len as the flags say. It touches neither
 * the activity log nor the bitmap, and is journaled even in bitmap mode. */
int jnl_append_marker(struct jnl *j, uint32_t flags, uint64_t off, uint32_t len, const void *data,
                      uint32_t dlen, uint64_t *seq);
/* Makes every record durable and appends a barrier; *seq gets its number (or the
 * last durable seq in bitmap mode). seq may be NULL. */
int jnl_flush(struct jnl *j, uint64_t *seq);
/* Drop the segments whose records all come before seq (never the current one); the
 * deletion is made durable by the next sync, not here (no disk wait). */
int jnl_release(struct jnl *j, uint64_t seq);

/* The first stored record, 0 if none; when the numbering jumped to the first
 * segment (an unclean stop, see jnl_open), the seq after the record before the
 * jump: the journal holds everything from there on. */
uint64_t jnl_first_seq(const struct jnl *j);
/* seq, or when the numbering jumps over it (prev <= seq < next of a jump: seqs
 * that were never given in this journal, or were lost), next - 1. */
uint64_t jnl_gap_skip(const struct jnl *j, uint64_t seq);
/* The last record's seq (0: none): next - 1, or the record before a jump that
 * nothing followed yet. */
uint64_t jnl_last_seq(const struct jnl *j);
uint64_t jnl_next_seq(const struct jnl *j);
uint64_t jnl_durable_seq(const struct jnl *j); /* last barrier or FUA record */
uint64_t jnl_bytes(const struct jnl *j);
uint32_t jnl_segments(const struct jnl *j);

/* ---- reading ---------------------------------------------------------- */

struct jnl_rec {
	uint64_t seq, off;
	uint32_t len, flags;
	uint32_t dlen;    /* bytes of data (0 for FLUSH, TRIM, ZERO) */
	uint64_t sum;     /* the record's checksum */
	uint64_t dsum;    /* XXH3-64 of the data alone (verified with the record) */
	const void *data; /* valid until the next jnl_iter_next */
};

struct jnl_iter;
/* Iterate the directory's records with seq >= from. */
int jnl_iter_open(const char *dir, uint64_t from, struct jnl_iter **out);
/* An iterator kept between reads (the shipper's, one per disk): jnl_iter_next
 * stops before seq limit (exclusive; none until set), and returns 0 there as at
 * the end. A later call reads on from where it stopped: the records appended since,
 * the segment's new size from one fstat, the directory listed again only when the
 * segment read through was followed by another. What the read-ahead buffer holds
 * past the last record returned is dropped (a write in progress, or one that failed
 * and was cut). -ESTALE when its segment was cut below what it read, or when it
 * was opened before the first segment was made: open a new iterator. */
int jnl_iter_resume(struct jnl_iter *it, uint64_t limit);
/* The seq of the next record it returns. */
uint64_t jnl_iter_seq(const struct jnl_iter *it);
/* Frees the read-ahead buffer (as large as what was there to read, up to 1 MiB)
 * while the iterator waits for more. */
void jnl_iter_idle(struct jnl_iter *it);
/* 1 with *rec filled, 0 at the end (clean or torn tail), -EBADMSG on corruption. */
int jnl_iter_next(struct jnl_iter *it, struct jnl_rec *rec);
void jnl_iter_close(struct jnl_iter *it);

/* ---- dirty bitmap ------------------------------------------------------ */

bool jnl_bitmap_mode(const struct jnl *j);
/* Puts [off, off + len) in the dirty bitmap and the journal in bitmap mode (saved
 * by the next sync, or close): a resync that has not finished when replication
 * stops goes on from the bitmap at the next start. */
int jnl_bitmap_add(struct jnl *j, uint64_t off, uint64_t len);
uint64_t jnl_bitmap_count(const struct jnl *j); /* dirty 64 KiB extents */
/* The first dirty extent >= from, or -ENOENT. */
int jnl_bitmap_next(const struct jnl *j, uint64_t from, uint64_t *ext);
/* After a resync: clear every bit, leave bitmap mode, persist. */
int jnl_bitmap_clear(struct jnl *j);

/* ---- recovery ------------------------------------------------------------ */

/* The 4 MiB extents (sorted, unique) that may differ after the crash found at
 * open: a heap array the caller frees; *n = 0 after a clean close. */
int jnl_recover(const struct jnl *j, uint64_t **ext, size_t *n);

#endif
