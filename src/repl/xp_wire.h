/*
 * xp_wire.h - the replication transport's frame format, as named constants.
 *
 * Every integer is big-endian (network order). Every frame starts with the
 * same 8-byte header:
 *
 *   u8 type | u8 hflags | u16 reserved (0) | u32 body_len
 *
 * followed by body_len bytes of body. Bodies by type:
 *
 *   HELLO      (sender -> receiver, first frame, 32 bytes + name)
 *              u32 magic | u16 version | u8 name_len | u8 reserved (0) |
 *              u64 disk | u64 size | u64 high | name (name_len bytes, 0 to
 *              XP_MAX_NAME)
 *              disk: the sender's number for the disk; name and size let the
 *              receiver make the disk's replica on first contact (name_len 0:
 *              the receiver must know the disk by number); high: the highest
 *              sequence the sender may ever have sent for the disk (a receiver
 *              that applied records past its durable state before a crash holds
 *              no prefix until it has applied up to high again).
 *   HELLO_ACK  (receiver -> sender, answer to HELLO, 16 bytes)
 *              u32 magic | u16 version | u16 aflags | u64 last_seq
 *              last_seq: the last sequence durably stored for that disk
 *              (0 = nothing yet); the sender resumes after it. aflags
 *              XP_AF_SEEDED: the replica starts from an older copy of the disk
 *              (a seed, as for reprotect); SUMS frames follow with its checksums.
 *   SUMS       (receiver -> sender, 16 bytes + 8 per block) u64 offset |
 *              u32 block | u32 count | count x u64 XXH3-64 of each block of the
 *              seed from offset (the last block may be short): the sender's
 *              initial copy sends only the blocks whose checksums differ.
 *   DATA       (sender -> receiver, 32 bytes + payload)
 *              u64 seq | u64 offset | u32 len | u32 rflags | u64 xxh3 | payload
 *              len is the uncompressed length; xxh3 is XXH3-64 of the
 *              uncompressed payload. hflags XP_HF_ZSTD: the payload is one zstd
 *              frame, strictly shorter than len; otherwise exactly len bytes.
 *              hflags XP_HF_PUSH: the sender waits for an ack after this frame
 *              (its window is full, or it flushes): the receiver syncs and
 *              acknowledges now instead of waiting for more of the burst.
 *   ACK        (receiver -> sender, 8 bytes) u64 seq: cumulative, every
 *              sequence <= seq is durably stored.
 *   ERROR      (either way, 12 bytes + message) u32 code | u64 seq | text
 *              The sender of an ERROR closes the connection after it.
 *   POINT      (receiver -> sender, 32 bytes) u64 covered | u64 point |
 *              i64 time | u32 kind | u32 reserved (0): a recovery point was
 *              cut holding every record <= covered (kind 0 crash, 1 app).
 */
#ifndef STRAIT_XP_WIRE_H
#define STRAIT_XP_WIRE_H

#define XP_MAGIC   0x53545850u /* "STXP" */
#define XP_VERSION 1u

#define XP_HDR_LEN         8u
#define XP_HELLO_LEN       32u /* without the name */
#define XP_MAX_NAME        64u
#define XP_HELLO_ACK_LEN   16u
#define XP_DATA_FIXED_LEN  32u
#define XP_ACK_LEN         8u
#define XP_ERROR_FIXED_LEN 12u
#define XP_POINT_LEN       32u
#define XP_SUMS_FIXED_LEN  16u
#define XP_MAX_SUMS        4096u /* blocks per SUMS frame */
#define XP_AF_SEEDED       0x1u

#define XP_MAX_RECORD (32u << 20) /* uncompressed payload: NBD's largest write */
#define XP_MAX_ERRMSG 256u        /* error text bytes */
#define XP_MAX_BODY   (XP_DATA_FIXED_LEN + XP_MAX_RECORD) /* largest legal body */

enum xp_type {
	XP_T_HELLO = 1,
	XP_T_HELLO_ACK = 2,
	XP_T_DATA = 3,
	XP_T_ACK = 4,
	XP_T_ERROR = 5,
	XP_T_POINT = 6,
	XP_T_SUMS = 7,
};

/* Header flags (hflags). */
#define XP_HF_ZSTD 0x01u
#define XP_HF_PUSH 0x02u
#define XP_HF_MASK (XP_HF_ZSTD | XP_HF_PUSH)

/* ERROR codes. */
enum xp_err {
	XP_E_FRAME = 1,      /* malformed frame (reason in the text) */
	XP_E_MAGIC = 2,      /* hello with a foreign magic */
	XP_E_VERSION = 3,    /* unsupported protocol version */
	XP_E_SEQUENCE = 4,   /* frame out of protocol order (data before hello, ...) */
	XP_E_CHECKSUM = 5,   /* XXH3 of the payload does not match: not stored */
	XP_E_DECOMPRESS = 6, /* zstd payload does not decode to len bytes */
	XP_E_STORE = 7,      /* the store refused the record (full disk, I/O) */
	XP_E_DISK = 8,       /* the receiver knows no such disk */
};

#endif
