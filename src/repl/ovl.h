/*
 * ovl.h - a recovery point as a writable disk for a drill (test failover):
 * the point's chunks read from the store, the drill's writes kept in a
 * sparse overlay file beside it, served over NBD through ovl_nbd_ops.
 *
 * Why: a drill boots the recovered machines and lets them write, yet the
 * store and the replica must come out of it exactly as they went in, and a
 * drill must start at once whatever the disk's size. So nothing is restored
 * up front: reads of blocks the drill has not written are served from the
 * point's chunks (decompressed on demand), and writes go to the overlay.
 *
 * Invariants:
 * - The store is only read; the overlay is the only file written, and it is
 *   unlinked when the ovl is closed (a drill leaves nothing behind).
 * - The overlay holds whole 4 KiB blocks: a block is marked written only
 *   after all of its bytes are in the overlay, so a block reads either
 *   entirely from the point or entirely from the overlay.
 *
 * Limits: memory is 1 bit per 4 KiB block of the disk (32 MiB for 1 TiB)
 * plus a cache of up to 8 decompressed chunks (at most 64 MiB); the overlay
 * grows by what the drill writes. st must outlive the ovl.
 *
 * All functions return 0 or a negative errno.
 */
#ifndef STRAIT_OVL_H
#define STRAIT_OVL_H

#include <stdint.h>

#include "repl/nbd.h"
#include "repl/store.h"

#define OVL_BLOCK 4096u

struct ovl;

/* Opens point seq of disk and creates the overlay at overlay_path (which must
 * not exist: O_CREAT|O_EXCL), sparse, of the disk's size. */
int ovl_open(struct store *st, const char *disk, uint64_t seq, const char *overlay_path,
             struct ovl **out);
/* Frees everything and unlinks the overlay; NULL is a no-op. ovl_nbd_ops.close
 * calls it: an ovl handed to an NBD server is closed by nbd_server_free. */
void ovl_close(struct ovl *o);

/* The disk's size in bytes (the export's size). */
uint64_t ovl_size(const struct ovl *o);
/* Blocks the drill has written (4 KiB each) and the disk's size; either may be NULL. */
void ovl_stats(const struct ovl *o, uint64_t *blocks_written, uint64_t *size);

/* The NBD backend; arg is the struct ovl *. Reads may run concurrently with
 * each other and with one mutating call; mutating calls are serialized
 * (by the server, and by the ovl's own lock for any other caller). */
extern const struct nbd_backend_ops ovl_nbd_ops;

#endif
