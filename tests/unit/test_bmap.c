/*
 * test_bmap.c - the journal's dirty bitmap saved in place (src/repl/bmap.c):
 * a round trip of bits at both ends of a 2 TiB disk's map, its mode and a
 * clear; the file made full size at open (preallocated: its blocks
 * allocated) and never grown by saves; a save writes only the changed
 * blocks; a block torn by a crash comes back all set and is rewritten; a
 * torn newer header slot falls back to the older one, both torn is
 * -EBADMSG; a map grown past the room it was opened with grows the file at
 * the next save; the first format ("JBM1") is read and rewritten in this
 * one; and on a full filesystem (a 1 MiB tmpfs in a mount namespace of the
 * test's own), a bitmap made before the disk filled saves every bit.
 *
 * The file layout (bmap.h) is used to damage it: header slots at 0 and 512,
 * blocks of 4096 bytes from 4096, each 4088 bytes of bits then a checksum.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "repl/bmap.h"

#define TIB2_BITS (1ull << 25) /* a 2 TiB disk at 64 KiB per bit */

struct tmp {
	char dir[256];
	char path[300];
};

static void
tmp_make(struct tmp *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/strait-bmap-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/dirty.bitmap", t->dir);
}

static void
tmp_remove(struct tmp *t)
{
	unlink(t->path);
	rmdir(t->dir);
}

static struct stat
st_of(const char *path)
{
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	return sb;
}

static void
poke(const char *path, off_t off, uint8_t v)
{
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &v, 1, off), 1);
	close(fd);
}

static void
test_round_trip(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct bmap *b;
	assert_int_equal(bmap_open(t.path, TIB2_BITS, &b), 0);
	uint64_t blocks = (TIB2_BITS + BMAP_BLOCK_BITS - 1) / BMAP_BLOCK_BITS; /* 1027 */
	assert_int_equal(bmap_bits(b), blocks * BMAP_BLOCK_BITS);
	struct stat sb = st_of(t.path);
	off_t full = (off_t)((blocks + 1) * BMAP_BLOCK);
	assert_int_equal(sb.st_size, full);
	assert_true((off_t)sb.st_blocks * 512 >= full); /* allocated, not a hole */
	assert_false(bmap_mode(b));
	assert_int_equal(bmap_count(b), 0);

	bmap_set_mode(b, true);
	assert_true(bmap_mark(b, 0, 2));
	assert_false(bmap_mark(b, 1, 1));                                /* already set */
	assert_true(bmap_mark(b, BMAP_BLOCK_BITS - 1, BMAP_BLOCK_BITS)); /* across two blocks */
	assert_true(bmap_mark(b, TIB2_BITS - 1, TIB2_BITS - 1));
	assert_true(bmap_dirty(b));
	assert_int_equal(bmap_save(b), 0);
	assert_false(bmap_dirty(b));
	assert_int_equal(st_of(t.path).st_size, full);
	bmap_close(b);

	assert_int_equal(bmap_open(t.path, TIB2_BITS, &b), 0);
	assert_true(bmap_mode(b));
	assert_int_equal(bmap_count(b), 6);
	assert_int_equal(bmap_repaired(b), 0);
	uint64_t e;
	assert_int_equal(bmap_next(b, 0, &e), 0);
	assert_int_equal(e, 0);
	assert_int_equal(bmap_next(b, 3, &e), 0);
	assert_int_equal(e, BMAP_BLOCK_BITS - 1);
	assert_int_equal(bmap_next(b, BMAP_BLOCK_BITS + 1, &e), 0);
	assert_int_equal(e, TIB2_BITS - 1);
	assert_int_equal(bmap_next(b, TIB2_BITS, &e), -ENOENT);

	/* Clear and journal mode again: durable, the size unchanged. */
	bmap_clear(b);
	bmap_set_mode(b, false);
	assert_int_equal(bmap_save(b), 0);
	bmap_close(b);
	assert_int_equal(bmap_open(t.path, TIB2_BITS, &b), 0);
	assert_false(bmap_mode(b));
	assert_int_equal(bmap_count(b), 0);
	bmap_close(b);
	assert_int_equal(st_of(t.path).st_size, full);
	tmp_remove(&t);
}

/* A save writes the changed blocks only: a block damaged on disk stays as it
 * is when others change, and is found torn at the next open (all its bits
 * set, rewritten by the next save). */
static void
test_in_place(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct bmap *b;
	assert_int_equal(bmap_open(t.path, 4 * BMAP_BLOCK_BITS, &b), 0);
	assert_true(bmap_mark(b, 10, 10));                                   /* block 0 */
	assert_true(bmap_mark(b, 2 * BMAP_BLOCK_BITS, 2 * BMAP_BLOCK_BITS)); /* block 2 */
	assert_int_equal(bmap_save(b), 0);
	poke(t.path, BMAP_BLOCK + 100, 0x5a); /* block 0 damaged */
	assert_true(bmap_mark(b, 2 * BMAP_BLOCK_BITS + 1, 2 * BMAP_BLOCK_BITS + 1));
	assert_int_equal(bmap_save(b), 0); /* block 2 only */
	bmap_close(b);

	assert_int_equal(bmap_open(t.path, 4 * BMAP_BLOCK_BITS, &b), 0);
	assert_int_equal(bmap_repaired(b), 1);
	assert_int_equal(bmap_count(b), BMAP_BLOCK_BITS + 2); /* block 0 whole, block 2's two */
	assert_true(bmap_dirty(b));
	assert_int_equal(bmap_save(b), 0);
	bmap_close(b);
	assert_int_equal(bmap_open(t.path, 4 * BMAP_BLOCK_BITS, &b), 0);
	assert_int_equal(bmap_repaired(b), 0); /* rewritten whole */
	assert_int_equal(bmap_count(b), BMAP_BLOCK_BITS + 2);
	bmap_close(b);
	tmp_remove(&t);
}

/* The header: a save that changes it writes the other slot; the newer slot
 * torn falls back to the older; both torn refuses the open. */
static void
test_header_slots(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct bmap *b;
	assert_int_equal(bmap_open(t.path, 1, &b), 0); /* header gen 1: slot 1 */
	bmap_set_mode(b, true);
	assert_int_equal(bmap_save(b), 0); /* gen 2: slot 0 */
	bmap_close(b);
	assert_int_equal(bmap_open(t.path, 1, &b), 0);
	assert_true(bmap_mode(b));
	bmap_close(b);

	poke(t.path, 8, 0xee); /* slot 0 (gen 2) torn */
	assert_int_equal(bmap_open(t.path, 1, &b), 0);
	assert_false(bmap_mode(b)); /* gen 1's */
	bmap_set_mode(b, true);
	assert_int_equal(bmap_save(b), 0); /* gen 2 again, over the torn slot */
	bmap_close(b);
	assert_int_equal(bmap_open(t.path, 1, &b), 0);
	assert_true(bmap_mode(b));
	bmap_close(b);

	poke(t.path, 8, 0xee);
	poke(t.path, 512 + 8, 0xee);
	assert_int_equal(bmap_open(t.path, 1, &b), -EBADMSG);
	tmp_remove(&t);
}

/* Opened without the disk's size: bits past the room grow the map, and the
 * file at the next save; a larger size at a later open grows it at once. */
static void
test_grow(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct bmap *b;
	assert_int_equal(bmap_open(t.path, 0, &b), 0);
	assert_int_equal(bmap_bits(b), BMAP_BLOCK_BITS);
	assert_true(bmap_mark(b, 5 * BMAP_BLOCK_BITS + 3, 5 * BMAP_BLOCK_BITS + 3));
	assert_int_equal(bmap_bits(b), 8 * BMAP_BLOCK_BITS);
	assert_int_equal(st_of(t.path).st_size, 2 * BMAP_BLOCK);
	assert_int_equal(bmap_save(b), 0);
	assert_int_equal(st_of(t.path).st_size, 9 * BMAP_BLOCK);
	bmap_close(b);
	assert_int_equal(bmap_open(t.path, 20 * BMAP_BLOCK_BITS, &b), 0);
	assert_int_equal(st_of(t.path).st_size, 21 * BMAP_BLOCK);
	assert_int_equal(bmap_count(b), 1);
	uint64_t e;
	assert_int_equal(bmap_next(b, 0, &e), 0);
	assert_int_equal(e, 5 * BMAP_BLOCK_BITS + 3);
	bmap_close(b);
	tmp_remove(&t);
}

/* The first format: { "JBM1", mode, bits, bytes, XXH3 of all before }. */
static void
test_migrate(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	uint8_t f[16 + 128 + 8] = {0};
	uint32_t magic = 0x314d424au, mode = 1;
	uint64_t bits = 1024;
	memcpy(f, &magic, 4);
	memcpy(f + 4, &mode, 4);
	memcpy(f + 8, &bits, 8);
	f[16 + 0] = 0x20;   /* bit 5 */
	f[16 + 127] = 0x80; /* bit 1023 */
	uint64_t sum = XXH3_64bits(f, 16 + 128);
	memcpy(f + 16 + 128, &sum, 8);
	int fd = open(t.path, O_WRONLY | O_CREAT, 0644);
	assert_int_equal(write(fd, f, sizeof(f)), (ssize_t)sizeof(f));
	close(fd);

	struct bmap *b;
	assert_int_equal(bmap_open(t.path, 40000, &b), 0);
	assert_true(bmap_mode(b));
	assert_int_equal(bmap_count(b), 2);
	uint64_t e;
	assert_int_equal(bmap_next(b, 0, &e), 0);
	assert_int_equal(e, 5);
	assert_int_equal(bmap_next(b, 6, &e), 0);
	assert_int_equal(e, 1023);
	assert_int_equal(bmap_bits(b), 2 * BMAP_BLOCK_BITS); /* room for the 40000 asked */
	bmap_close(b);
	fd = open(t.path, O_RDONLY);
	assert_int_equal(pread(fd, &magic, 4, 0), 4);
	close(fd);
	assert_int_equal(magic, 0x324d424au); /* "JBM2" */
	assert_int_equal(st_of(t.path).st_size, 3 * BMAP_BLOCK);
	assert_int_equal(bmap_open(t.path, 40000, &b), 0);
	assert_int_equal(bmap_count(b), 2);
	bmap_close(b);

	/* A damaged first-format file refuses the open. */
	unlink(t.path);
	f[20] ^= 1;
	fd = open(t.path, O_WRONLY | O_CREAT, 0644);
	assert_int_equal(write(fd, f, sizeof(f)), (ssize_t)sizeof(f));
	close(fd);
	assert_int_equal(bmap_open(t.path, 40000, &b), -EBADMSG);
	tmp_remove(&t);
}

/* Writes s to the file at path (a /proc map). */
static bool
put_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	bool ok = fd >= 0 && write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	if (fd >= 0)
		close(fd);
	return ok;
}

/* A mount namespace of the test's own (and, when not root, a user namespace
 * where it is), with a 1 MiB tmpfs at dir. */
static bool
small_tmpfs(const char *dir)
{
	if (geteuid() != 0) {
		char m[64];
		uid_t u = geteuid();
		gid_t g = getegid();
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			return false;
		snprintf(m, sizeof(m), "0 %u 1", (unsigned)u);
		if (!put_file("/proc/self/uid_map", m) || !put_file("/proc/self/setgroups", "deny"))
			return false;
		snprintf(m, sizeof(m), "0 %u 1", (unsigned)g);
		if (!put_file("/proc/self/gid_map", m))
			return false;
	} else if (unshare(CLONE_NEWNS) < 0) {
		return false;
	}
	return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
	       mount("tmpfs", dir, "tmpfs", 0, "size=1m") == 0;
}

/* The reason for the format: on a filesystem with no space left, a bitmap
 * made before it filled saves every bit of its disk (a 1 MiB tmpfs in a
 * mount namespace of the test's own). */
static void
test_full_disk(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	assert_true(small_tmpfs(t.dir));
	struct bmap *b;
	uint64_t bits = 64 * BMAP_BLOCK_BITS; /* 260 KiB of file: a 128 GiB disk */
	assert_int_equal(bmap_open(t.path, bits, &b), 0);
	{ /* fill what is left */
		char p[400];
		snprintf(p, sizeof(p), "%s/fill", t.dir);
		int fd = open(p, O_WRONLY | O_CREAT, 0644);
		static const uint8_t z[4096];
		while (write(fd, z, sizeof(z)) == (ssize_t)sizeof(z))
			;
		assert_int_equal(write(fd, z, sizeof(z)), -1);
		assert_int_equal(errno, ENOSPC);
		close(fd);
	}
	bmap_set_mode(b, true);
	for (uint64_t e = 0; e < bits; e += 997)
		bmap_mark(b, e, e);
	assert_int_equal(bmap_save(b), 0);
	bmap_close(b);
	assert_int_equal(bmap_open(t.path, bits, &b), 0);
	assert_int_equal(bmap_count(b), (bits + 996) / 997);
	bmap_close(b);
	char p[400];
	snprintf(p, sizeof(p), "%s/fill", t.dir);
	unlink(p);
	unlink(t.path);
	assert_int_equal(umount(t.dir), 0);
	tmp_remove(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),   cmocka_unit_test(test_in_place),
	    cmocka_unit_test(test_header_slots), cmocka_unit_test(test_grow),
	    cmocka_unit_test(test_migrate),      cmocka_unit_test(test_full_disk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
