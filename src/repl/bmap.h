/*
 * bmap.h - a persistent dirty bitmap, saved in place in a file that never
 * needs more space once created: the journal's bitmap mode (jnl.c).
 *
 * Why in place: the journal falls back to its bitmap when its disk is full,
 * and an extent leaves the activity log only after the bitmap is saved. A
 * bitmap rewritten whole into a new file (as it was) needs free space exactly
 * when there is none: once the activity log's ring wrapped, writes to new
 * extents failed. Saving in place also writes only the blocks that changed
 * (a 2 TiB disk's bitmap is 4 MiB; a save after one new bit writes 4 KiB).
 *
 * File, preallocated to its full size when created or grown:
 * - two 64-byte header slots at offsets 0 and 512 (a sector each: a torn
 *   write spoils at most one) { magic "JBM2", mode, bits, generation,
 *   XXH3-64 }: the valid slot with the higher generation counts, and a save
 *   that changes the header writes the other one;
 * - from offset 4096, blocks of 4096 bytes: 4088 bytes of bits (bit i of the
 *   map is bit i % 8 of byte i / 8) and their XXH3-64 seeded with the block's
 *   index. An all-zero block is a valid empty one (a preallocated file reads
 *   as zeros). A block whose checksum fails was torn by a crash during a
 *   save: every bit of it is taken as set (a larger resync, never a missed
 *   one) and it is rewritten at the next save.
 * Save order: the changed blocks, fdatasync, then the header slot when the
 * mode or size changed, fdatasync. So a header in bitmap mode is durable
 * before any bit is counted on (the caller sets the mode before the bits),
 * and clearing leaves at worst set bits under a bitmap-mode header.
 * The first format (magic "JBM1": the whole map with one checksum, rewritten
 * atomically) is read and rewritten in this one at open.
 *
 * All functions returning int return 0 or a negative errno.
 */
#ifndef STRAIT_BMAP_H
#define STRAIT_BMAP_H

#include <stdbool.h>
#include <stdint.h>

#define BMAP_BLOCK      4096u
#define BMAP_BLOCK_BITS ((BMAP_BLOCK - 8u) * 8u) /* 32704 */

struct bmap;

/* Opens (or creates) the bitmap at path with room for at least bits bits
 * (0: one block), preallocating the file: -ENOSPC here, never at a save. A
 * corrupt header (both slots bad) is -EBADMSG. */
int bmap_open(const char *path, uint64_t bits, struct bmap **out);
void bmap_close(struct bmap *b);

bool bmap_mode(const struct bmap *b);
void bmap_set_mode(struct bmap *b, bool on);
/* Sets bits [first, last]; true when one was not set. Past the file's room
 * the map grows in memory, and the next save must grow the file (which can
 * need space: the caller gives the disk's size at open to avoid that). */
bool bmap_mark(struct bmap *b, uint64_t first, uint64_t last);
/* Clears every bit (saved by the next save). */
void bmap_clear(struct bmap *b);
/* Something to save: a changed block, mode or size. */
bool bmap_dirty(const struct bmap *b);
int bmap_save(struct bmap *b);

uint64_t bmap_bits(const struct bmap *b); /* the room, in bits */
uint64_t bmap_count(const struct bmap *b);
/* The first set bit at or after from: 0, or -ENOENT. */
int bmap_next(const struct bmap *b, uint64_t from, uint64_t *bit);
/* Blocks found torn at open (taken as all set). */
uint32_t bmap_repaired(const struct bmap *b);

#endif
