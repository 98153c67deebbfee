/*
 * nbd_wire.h - the NBD wire protocol: every constant the server uses, named
 * as in NetworkBlockDevice's doc/proto.md, and a bounds-checked big-endian
 * cursor that every decoder reads through.
 *
 * Invariants: all multi-byte integers on the wire are big-endian. A cursor
 * never reads past its end: a short read sets cur->bad, returns 0 and pins
 * the cursor at the end, so a decoder checks bad once after reading a whole
 * message.
 */
#ifndef STRAIT_NBD_WIRE_H
#define STRAIT_NBD_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- handshake ---------------------------------------------------------- */
#define NBD_MAGIC            0x4e42444d41474943ULL /* "NBDMAGIC" */
#define NBD_IHAVEOPT         0x49484156454f5054ULL /* "IHAVEOPT" */
#define NBD_REP_MAGIC        0x0003e889045565a9ULL /* option reply magic */
#define NBD_GREETING_LEN     18u                   /* NBDMAGIC + IHAVEOPT + u16 flags */
#define NBD_CLIENT_FLAGS_LEN 4u
#define NBD_OPT_HDR_LEN      16u  /* IHAVEOPT, u32 option, u32 length */
#define NBD_REP_HDR_LEN      20u  /* magic, u32 option, u32 type, u32 length */
#define NBD_EXPORT_NAME_PAD  124u /* zero bytes after NBD_OPT_EXPORT_NAME's reply */

/* handshake flags (server, 16 bits) */
#define NBD_FLAG_FIXED_NEWSTYLE (1u << 0)
#define NBD_FLAG_NO_ZEROES      (1u << 1)
/* client flags (32 bits) */
#define NBD_FLAG_C_FIXED_NEWSTYLE (1u << 0)
#define NBD_FLAG_C_NO_ZEROES      (1u << 1)
#define NBD_FLAG_C_KNOWN          (NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)

/* options */
#define NBD_OPT_EXPORT_NAME       1u
#define NBD_OPT_ABORT             2u
#define NBD_OPT_LIST              3u
#define NBD_OPT_STARTTLS          5u
#define NBD_OPT_INFO              6u
#define NBD_OPT_GO                7u
#define NBD_OPT_STRUCTURED_REPLY  8u
#define NBD_OPT_LIST_META_CONTEXT 9u
#define NBD_OPT_SET_META_CONTEXT  10u

/* option reply types */
#define NBD_REP_ACK                 1u
#define NBD_REP_SERVER              2u
#define NBD_REP_INFO                3u
#define NBD_REP_META_CONTEXT        4u
#define NBD_REP_FLAG_ERROR          (1u << 31)
#define NBD_REP_ERR_UNSUP           (NBD_REP_FLAG_ERROR | 1u)
#define NBD_REP_ERR_POLICY          (NBD_REP_FLAG_ERROR | 2u)
#define NBD_REP_ERR_INVALID         (NBD_REP_FLAG_ERROR | 3u)
#define NBD_REP_ERR_PLATFORM        (NBD_REP_FLAG_ERROR | 4u)
#define NBD_REP_ERR_TLS_REQD        (NBD_REP_FLAG_ERROR | 5u)
#define NBD_REP_ERR_UNKNOWN         (NBD_REP_FLAG_ERROR | 6u)
#define NBD_REP_ERR_SHUTDOWN        (NBD_REP_FLAG_ERROR | 7u)
#define NBD_REP_ERR_BLOCK_SIZE_REQD (NBD_REP_FLAG_ERROR | 8u)
#define NBD_REP_ERR_TOO_BIG         (NBD_REP_FLAG_ERROR | 9u)

/* NBD_REP_INFO types */
#define NBD_INFO_EXPORT      0u
#define NBD_INFO_NAME        1u
#define NBD_INFO_DESCRIPTION 2u
#define NBD_INFO_BLOCK_SIZE  3u

/* transmission flags (16 bits) */
#define NBD_FLAG_HAS_FLAGS         (1u << 0)
#define NBD_FLAG_READ_ONLY         (1u << 1)
#define NBD_FLAG_SEND_FLUSH        (1u << 2)
#define NBD_FLAG_SEND_FUA          (1u << 3)
#define NBD_FLAG_ROTATIONAL        (1u << 4)
#define NBD_FLAG_SEND_TRIM         (1u << 5)
#define NBD_FLAG_SEND_WRITE_ZEROES (1u << 6)
#define NBD_FLAG_SEND_DF           (1u << 7)
#define NBD_FLAG_CAN_MULTI_CONN    (1u << 8)
#define NBD_FLAG_SEND_CACHE        (1u << 10)
#define NBD_FLAG_SEND_FAST_ZERO    (1u << 11)

/* ---- transmission ------------------------------------------------------- */
#define NBD_REQUEST_MAGIC          0x25609513u
#define NBD_SIMPLE_REPLY_MAGIC     0x67446698u
#define NBD_REQ_HDR_LEN            28u /* magic, u16 flags, u16 type, u64 cookie, u64 off, u32 len */
#define NBD_SIMPLE_REPLY_LEN       16u /* magic, u32 error, u64 cookie */
#define NBD_STRUCTURED_REPLY_MAGIC 0x668e33efu
#define NBD_CHUNK_HDR_LEN          20u /* magic, u16 flags, u16 type, u64 cookie, u32 length */

/* structured reply chunks: flags and types */
#define NBD_REPLY_FLAG_DONE         (1u << 0)
#define NBD_REPLY_TYPE_NONE         0u
#define NBD_REPLY_TYPE_OFFSET_DATA  1u /* u64 offset, data */
#define NBD_REPLY_TYPE_OFFSET_HOLE  2u /* u64 offset, u32 hole size */
#define NBD_REPLY_TYPE_BLOCK_STATUS 5u /* u32 context id, (u32 length, u32 flags)... */
#define NBD_REPLY_TYPE_ERROR        ((1u << 15) | 1u) /* u32 error, u16 msg length, msg */
#define NBD_REPLY_TYPE_ERROR_OFFSET ((1u << 15) | 2u) /* ... as ERROR, then u64 offset */

/* metadata contexts: the one this server knows, and its base:allocation flags */
#define NBD_META_NS_BASE       "base:"
#define NBD_META_BASE_ALLOC    "base:allocation"
#define NBD_META_BASE_ALLOC_ID 1u /* context id handed out by SET_META_CONTEXT */
#define NBD_STATE_HOLE         (1u << 0)
#define NBD_STATE_ZERO         (1u << 1)

/* commands */
#define NBD_CMD_READ         0u
#define NBD_CMD_WRITE        1u
#define NBD_CMD_DISC         2u
#define NBD_CMD_FLUSH        3u
#define NBD_CMD_TRIM         4u
#define NBD_CMD_CACHE        5u
#define NBD_CMD_WRITE_ZEROES 6u
#define NBD_CMD_BLOCK_STATUS 7u

/* command flags */
#define NBD_CMD_FLAG_FUA       (1u << 0)
#define NBD_CMD_FLAG_NO_HOLE   (1u << 1)
#define NBD_CMD_FLAG_DF        (1u << 2)
#define NBD_CMD_FLAG_REQ_ONE   (1u << 3)
#define NBD_CMD_FLAG_FAST_ZERO (1u << 4)

/* error values (not the host's errno numbers, though they coincide on Linux) */
#define NBD_SUCCESS   0u
#define NBD_EPERM     1u
#define NBD_EIO       5u
#define NBD_ENOMEM    12u
#define NBD_EINVAL    22u
#define NBD_ENOSPC    28u
#define NBD_EOVERFLOW 75u
#define NBD_ENOTSUP   95u
#define NBD_ESHUTDOWN 108u

/* ---- limits this server advertises and enforces ----------------------- */
#define NBD_MIN_BLOCK   1u
#define NBD_PREF_BLOCK  4096u
#define NBD_MAX_PAYLOAD (32u * 1024 * 1024) /* max READ/WRITE length */
#define NBD_MAX_STRING  4096u               /* export names, queries (proto.md: strings) */
/* Larger options are answered ERR_TOO_BIG: room for a META_CONTEXT option
 * naming an export and carrying one maximal query plus a few short ones. */
#define NBD_MAX_OPT_LEN   (2 * NBD_MAX_STRING + 512)
#define NBD_DISCARD_CHUNK 65536u
/* Extents one BLOCK_STATUS reply (or one READ's hole map) describes at most;
 * proto.md lets a server describe less than asked. */
#define NBD_MAX_EXTENTS 1024u

/* ---- bounds-checked big-endian cursor ---------------------------------- */
struct nbd_cur {
	const uint8_t *p;
	size_t n, off;
	bool bad;
};

static inline struct nbd_cur
nbd_cur_make(const void *p, size_t n)
{
	struct nbd_cur c = {p, n, 0, false};
	return c;
}

static inline size_t
nbd_cur_left(const struct nbd_cur *c)
{
	return c->n - c->off;
}

static inline uint64_t
nbd_cur_uint(struct nbd_cur *c, unsigned bytes)
{
	uint64_t v = 0;
	if (nbd_cur_left(c) < bytes) {
		c->bad = true;
		c->off = c->n;
		return 0;
	}
	for (unsigned i = 0; i < bytes; i++)
		v = (v << 8) | c->p[c->off + i];
	c->off += bytes;
	return v;
}

static inline uint16_t
nbd_cur_u16(struct nbd_cur *c)
{
	return (uint16_t)nbd_cur_uint(c, 2);
}

static inline uint32_t
nbd_cur_u32(struct nbd_cur *c)
{
	return (uint32_t)nbd_cur_uint(c, 4);
}

static inline uint64_t
nbd_cur_u64(struct nbd_cur *c)
{
	return nbd_cur_uint(c, 8);
}

/* Points *out at the next n bytes (not copied); NULL and bad when short. */
static inline const uint8_t *
nbd_cur_bytes(struct nbd_cur *c, size_t n)
{
	const uint8_t *r;
	if (nbd_cur_left(c) < n) {
		c->bad = true;
		c->off = c->n;
		return NULL;
	}
	if (!c->p) /* an empty buffer: only n == 0 gets here */
		return NULL;
	r = c->p + c->off;
	c->off += n;
	return r;
}

/* Big-endian stores. */
static inline void
nbd_put_be(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = bytes; i-- > 0; v >>= 8)
		p[i] = (uint8_t)v;
}

#endif
