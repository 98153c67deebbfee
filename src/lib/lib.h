/*
 * lib.h - the small shared toolkit every strait module builds on.
 *
 * Arena: one bump allocator per lifetime (a loaded estate, a request). Nothing
 * allocated from an arena is freed on its own; the arena goes all at once.
 *
 * Map: string -> uint64 open-addressing hash table keyed by XXH3; keys are
 * borrowed (they must outlive the map, which arena strings do).
 *
 * Diag: a list of diagnostics (file:line:col, severity, object path, message,
 * hint). Loaders collect every error of an input instead of stopping at the
 * first one, then print them sorted by position.
 *
 * Units: durations (5m, 4h), sizes (32GiB) and bandwidths (1Gbps) in text, as
 * the estate file and the CLI read and print them.
 *
 * Bytes: little-endian loads and stores for the on-disk formats (store, journal).
 *
 * Pipe guard: SIGPIPE held off on the calling thread around a library's socket
 * I/O (OpenSSL writes with write(2), during reads too), without changing the
 * process's signal dispositions.
 *
 * Library functions return 0 or a negative errno; allocation failure aborts
 * (lib_oom), since no caller could do anything better than exit.
 */
#ifndef STRAIT_LIB_H
#define STRAIT_LIB_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LIB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- bytes ------------------------------------------------------------- */

static inline void
lib_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void
lib_put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t
lib_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t
lib_get_le64(const uint8_t *p)
{
	return (uint64_t)lib_get_le32(p) | (uint64_t)lib_get_le32(p + 4) << 32;
}

/* ---- pipe guard -------------------------------------------------------- */

struct lib_pipe_guard {
	sigset_t old;
	bool was_pending;
};
/* Blocks SIGPIPE on this thread; unblock consumes a SIGPIPE raised meanwhile
 * (one that was pending before stays) and restores the mask. */
void lib_pipe_block(struct lib_pipe_guard *g);
void lib_pipe_unblock(struct lib_pipe_guard *g);
#define LIB_PRINTF(f, a) __attribute__((format(printf, f, a)))

_Noreturn void lib_oom(void);
void *lib_xmalloc(size_t n);
void *lib_xcalloc(size_t n, size_t sz);
void *lib_xrealloc(void *p, size_t n);
char *lib_xstrdup(const char *s);

/* ---- arena ---------------------------------------------------------- */

struct lib_arena_chunk;
struct lib_arena {
	struct lib_arena_chunk *head;
	size_t used;  /* bytes handed out, for memory accounting */
	size_t total; /* bytes reserved from malloc */
};

void lib_arena_init(struct lib_arena *a);
void lib_arena_free(struct lib_arena *a);
void *lib_arena_alloc(struct lib_arena *a, size_t n); /* zeroed, 16-aligned */
char *lib_arena_strdup(struct lib_arena *a, const char *s);
char *lib_arena_strndup(struct lib_arena *a, const char *s, size_t n);
char *lib_arena_printf(struct lib_arena *a, const char *fmt, ...) LIB_PRINTF(2, 3);

/* ---- growable vector (heap) ------------------------------------------ */

struct lib_vec {
	void *v;
	uint32_t n, cap;
	uint32_t esz;
};

void lib_vec_init(struct lib_vec *vec, size_t esz);
void *lib_vec_push(struct lib_vec *vec); /* zeroed slot */
void lib_vec_free(struct lib_vec *vec);
/* Copy the vector into the arena and free the heap copy. */
void *lib_vec_to_arena(struct lib_vec *vec, struct lib_arena *a);

/* ---- string map -------------------------------------------------------- */

struct lib_map_slot {
	const char *key;
	uint64_t hash;
	uint64_t val;
};
struct lib_map {
	struct lib_map_slot *slots;
	uint32_t n, cap;
};

void lib_map_init(struct lib_map *m);
void lib_map_free(struct lib_map *m);
/* Returns 0, or -EEXIST (leaving the old value) when the key is present. */
int lib_map_put(struct lib_map *m, const char *key, uint64_t val);
bool lib_map_get(const struct lib_map *m, const char *key, uint64_t *val);
uint64_t lib_hash(const void *p, size_t n);

/* ---- diagnostics ------------------------------------------------------- */

enum lib_sev { LIB_SEV_ERROR, LIB_SEV_WARNING, LIB_SEV_INFO };

struct lib_diag {
	const char *file;
	uint32_t line, col; /* 1-based; 0 when unknown */
	enum lib_sev sev;
	char *path; /* object path, e.g. vnets[spoke1].subnets[app] */
	char *msg;
	char *hint; /* "did you mean ...", or what is expected; may be NULL */
};

struct lib_diags {
	struct lib_vec v; /* of struct lib_diag, heap strings */
	uint32_t nerr;
};

void lib_diags_init(struct lib_diags *d);
void lib_diags_free(struct lib_diags *d);
void lib_diag_add(struct lib_diags *d, enum lib_sev sev, const char *file, uint32_t line,
                  uint32_t col, const char *path, const char *hint, const char *fmt, ...)
    LIB_PRINTF(8, 9);
void lib_diags_sort(struct lib_diags *d);
/* file:line:col: error: path: msg (hint) -- one per line. */
void lib_diags_print(const struct lib_diags *d, FILE *out);

/* ---- strings ----------------------------------------------------------- */

/* Offset of the first byte that is not well-formed UTF-8 (overlongs,
 * surrogates and code points above U+10FFFF included), or n when all is. */
size_t lib_utf8_invalid(const char *s, size_t n);

/* Edit distance, capped: returns cap+1 when the distance exceeds cap. */
unsigned lib_edit_distance(const char *a, const char *b, unsigned cap);
/* The candidate nearest to s within a distance that scales with its length, or NULL. */
const char *lib_nearest(const char *s, const char *const *cands, size_t n);

struct lib_buf {
	char *s;
	size_t n, cap;
};
void lib_buf_printf(struct lib_buf *b, const char *fmt, ...) LIB_PRINTF(2, 3);
void lib_buf_vprintf(struct lib_buf *b, const char *fmt, va_list ap);
void lib_buf_puts(struct lib_buf *b, const char *s);
void lib_buf_free(struct lib_buf *b);

/* ---- units ------------------------------------------------------------- */

/* "90s", "5m", "4h", "1d", "1h30m", a bare integer is seconds. */
int lib_parse_duration(const char *s, int64_t *secs);
/* "512B", "4KiB", "32GiB", "1TiB", "2TB" (SI), a bare integer is bytes. */
int lib_parse_size(const char *s, uint64_t *bytes);
/* "50Mbps", "1Gbps", "100Gbps"; stored in Mbps. */
int lib_parse_bandwidth(const char *s, uint64_t *mbps);
/* Milliseconds of CLOCK_MONOTONIC: for durations and deadlines. */
int64_t lib_mono_ms(void);
/* "HOST:PORT" (the last ':' splits; an IPv6 address in brackets, "[::1]:10809",
 * loses them; port 0 to 65535): host into host[hn] NUL-terminated. 0 or -EINVAL. */
int lib_parse_hostport(const char *s, char *host, size_t hn, uint16_t *port);
/* Canonical spellings: the largest unit that divides exactly. */
void lib_fmt_duration(int64_t secs, char *out, size_t n);
void lib_fmt_size(uint64_t bytes, char *out, size_t n);
void lib_fmt_bandwidth(uint64_t mbps, char *out, size_t n);

/* ---- files -------------------------------------------------------------- */

/* Durable write: temp file in the same directory, fsync, rename, fsync dir. */
/* mkdir -p: dir and its missing parents (mode 0700); 0 or -errno. */
int lib_mkdir_p(const char *dir);
/* Raises the soft open-file limit to the hard one; returns the limit now
 * (0 when it cannot be read). */
uint64_t lib_nofile_raise(void);
/* After raising it: -EMFILE with "WHAT needs about NEED open files, and the
 * limit is ..." in err when the limit is below need. */
int lib_nofile_check(uint64_t need, const char *what, char *err, size_t errlen);
int lib_write_atomic(const char *path, const void *data, size_t n);
/* fsyncs the directory holding path: a new file's name survives a power cut. */
int lib_sync_parent(const char *path);
/* Writes all n bytes (retrying short writes and EINTR); 0 or -errno (-EIO on a 0 write). */
int lib_write_all(int fd, const void *data, size_t n);
int lib_pwrite_all(int fd, const void *data, size_t n, uint64_t off);
/* Reads exactly n bytes at off: 0, -errno, or -EIO at the end of the file. */
int lib_pread_all(int fd, void *buf, size_t n, uint64_t off);
/* qsort comparator for uint64_t. */
int lib_cmp_u64(const void *a, const void *b);
/* Whole file into a NUL-terminated heap buffer. */
int lib_read_file(const char *path, char **data, size_t *n);
/* 0 when path can be read, else -errno with "WHAT: cannot read PATH: reason" in err
 * (configuration files checked before use: TLS certificates and keys). */
int lib_check_readable(const char *what, const char *path, char *err, size_t errlen);

#endif
