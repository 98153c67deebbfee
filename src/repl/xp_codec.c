/*
 * xp_codec.c - encode and decode the replication transport's frames
 * (xp_wire.h). Pure: no I/O, no global state, so the decoder can be fuzzed.
 *
 * Invariants: xp_decode reads only buf[0..n); it returns a frame only when
 * every field is in range for its type (exact body lengths for fixed frames,
 * len <= XP_MAX_RECORD, a compressed payload strictly shorter than len, an
 * uncompressed one exactly len); anything else is -EBADMSG with a reason, or
 * -EAGAIN while the bytes so far are a valid prefix. It does not verify the
 * checksum or decompress: the receiver does, before it stores.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "lib/lib.h"
#include "repl/xp.h"

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return ((uint64_t)get32(p) << 32) | get32(p + 4);
}

static void
put_hdr(uint8_t *p, uint8_t type, uint8_t hflags, uint32_t body_len)
{
	p[0] = type;
	p[1] = hflags;
	put16(p + 2, 0);
	put32(p + 4, body_len);
}

size_t
xp_encode_hello(uint8_t *out, uint64_t disk, const char *name, uint64_t size, uint64_t high)
{
	size_t nl = name ? strlen(name) : 0;
	if (nl > XP_MAX_NAME)
		nl = XP_MAX_NAME;
	put_hdr(out, XP_T_HELLO, 0, XP_HELLO_LEN + (uint32_t)nl);
	put32(out + 8, XP_MAGIC);
	put16(out + 12, XP_VERSION);
	out[14] = (uint8_t)nl;
	out[15] = 0;
	put64(out + 16, disk);
	put64(out + 24, size);
	put64(out + 32, high);
	if (nl)
		memcpy(out + 40, name, nl);
	return XP_HDR_LEN + XP_HELLO_LEN + nl;
}

size_t
xp_encode_sums(uint8_t *out, uint64_t offset, uint32_t block, uint32_t count, const uint64_t *sums)
{
	put_hdr(out, XP_T_SUMS, 0, XP_SUMS_FIXED_LEN + 8 * count);
	put64(out + 8, offset);
	put32(out + 16, block);
	put32(out + 20, count);
	for (uint32_t i = 0; i < count; i++)
		put64(out + 24 + 8 * (size_t)i, sums[i]);
	return XP_HDR_LEN + XP_SUMS_FIXED_LEN + 8 * (size_t)count;
}

uint64_t
xp_sum_at(const struct xp_frame *f, uint32_t i)
{
	return get64(f->payload + 8 * (size_t)i);
}

size_t
xp_encode_hello_ack(uint8_t *out, uint64_t last_seq)
{
	return xp_encode_hello_ack2(out, last_seq, 0);
}

size_t
xp_encode_hello_ack2(uint8_t *out, uint64_t last_seq, uint16_t aflags)
{
	put_hdr(out, XP_T_HELLO_ACK, 0, XP_HELLO_ACK_LEN);
	put32(out + 8, XP_MAGIC);
	put16(out + 12, XP_VERSION);
	put16(out + 14, aflags);
	put64(out + 16, last_seq);
	return XP_HDR_LEN + XP_HELLO_ACK_LEN;
}

size_t
xp_encode_point(uint8_t *out, const struct xp_point *p)
{
	put_hdr(out, XP_T_POINT, 0, XP_POINT_LEN);
	put64(out + 8, p->covered);
	put64(out + 16, p->point);
	put64(out + 24, (uint64_t)p->time);
	put32(out + 32, p->kind);
	put32(out + 36, 0);
	return XP_HDR_LEN + XP_POINT_LEN;
}

size_t
xp_encode_ack(uint8_t *out, uint64_t seq)
{
	put_hdr(out, XP_T_ACK, 0, XP_ACK_LEN);
	put64(out + 8, seq);
	return XP_HDR_LEN + XP_ACK_LEN;
}

size_t
xp_encode_error(uint8_t *out, uint32_t code, uint64_t seq, const char *msg)
{
	size_t m = msg ? strlen(msg) : 0;
	if (m > XP_MAX_ERRMSG)
		m = XP_MAX_ERRMSG;
	put_hdr(out, XP_T_ERROR, 0, (uint32_t)(XP_ERROR_FIXED_LEN + m));
	put32(out + 8, code);
	put64(out + 12, seq);
	if (m)
		memcpy(out + XP_HDR_LEN + XP_ERROR_FIXED_LEN, msg, m);
	return XP_HDR_LEN + XP_ERROR_FIXED_LEN + m;
}

int
xp_encode_data(const struct xp_record *r, int zlevel, void *cctx, uint8_t **out, size_t *n)
{
	if (!r || r->seq == 0 || r->len > XP_MAX_RECORD || (r->len && !r->data))
		return -EINVAL;
	size_t fixed = XP_HDR_LEN + XP_DATA_FIXED_LEN;
	uint8_t *f = lib_xmalloc(fixed + r->len + 1);
	uint8_t *pl = f + fixed;
	size_t plen = r->len;
	uint8_t hflags = 0;
	if (zlevel > 0 && r->len >= 64) {
		/* Capacity len - 1: zstd fails when the result would not be shorter. */
		ZSTD_CCtx *own = cctx ? NULL : ZSTD_createCCtx();
		ZSTD_CCtx *c = cctx ? cctx : own;
		size_t z =
		    c ? ZSTD_compressCCtx(c, pl, r->len - 1, r->data, r->len, zlevel) : (size_t)-1;
		if (own)
			ZSTD_freeCCtx(own);
		if (c && !ZSTD_isError(z) && z < r->len) {
			plen = z;
			hflags = XP_HF_ZSTD;
		}
	}
	if (!hflags && r->len)
		memcpy(pl, r->data, r->len);
	put_hdr(f, XP_T_DATA, hflags, (uint32_t)(XP_DATA_FIXED_LEN + plen));
	put64(f + 8, r->seq);
	put64(f + 16, r->offset);
	put32(f + 24, r->len);
	put32(f + 28, r->flags);
	put64(f + 32, r->hashed ? r->hash : XXH3_64bits(r->len ? r->data : "", r->len));
	*out = f;
	*n = fixed + plen;
	return 0;
}

static int
bad(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EBADMSG;
}

int
xp_decode(const uint8_t *buf, size_t n, struct xp_frame *f, size_t *used, const char **why)
{
	if (why)
		*why = NULL;
	if (n >= 1 && (buf[0] < XP_T_HELLO || buf[0] > XP_T_SUMS))
		return bad(why, "unknown frame type");
	if (n >= 2 && (buf[1] & ~XP_HF_MASK))
		return bad(why, "unknown header flags");
	if (n >= 4 && get16(buf + 2) != 0)
		return bad(why, "reserved header bits set");
	if (n < XP_HDR_LEN)
		return -EAGAIN;
	uint8_t type = buf[0], hflags = buf[1];
	uint32_t blen = get32(buf + 4);
	if (hflags && type != XP_T_DATA)
		return bad(why, "data flags on a non-data frame");
	switch (type) {
	case XP_T_HELLO:
		if (blen < XP_HELLO_LEN || blen > XP_HELLO_LEN + XP_MAX_NAME)
			return bad(why, "hello body length");
		break;
	case XP_T_HELLO_ACK:
		if (blen != XP_HELLO_ACK_LEN)
			return bad(why, "hello body length");
		break;
	case XP_T_ACK:
		if (blen != XP_ACK_LEN)
			return bad(why, "ack body length");
		break;
	case XP_T_POINT:
		if (blen != XP_POINT_LEN)
			return bad(why, "point body length");
		break;
	case XP_T_SUMS:
		if (blen < XP_SUMS_FIXED_LEN || blen > XP_SUMS_FIXED_LEN + 8 * XP_MAX_SUMS ||
		    (blen - XP_SUMS_FIXED_LEN) % 8)
			return bad(why, "sums body length");
		break;
	case XP_T_DATA:
		if (blen < XP_DATA_FIXED_LEN || blen > XP_MAX_BODY)
			return bad(why, "data body length");
		break;
	default: /* XP_T_ERROR */
		if (blen < XP_ERROR_FIXED_LEN || blen > XP_ERROR_FIXED_LEN + XP_MAX_ERRMSG)
			return bad(why, "error body length");
		break;
	}
	/* Fields of the body that are present can be checked early. */
	const uint8_t *b = buf + XP_HDR_LEN;
	size_t have = n - XP_HDR_LEN;
	if (type == XP_T_DATA && have >= 24) {
		uint32_t len = get32(b + 16);
		size_t plen = blen - XP_DATA_FIXED_LEN;
		if (len > XP_MAX_RECORD)
			return bad(why, "record longer than the maximum");
		if (!(hflags & XP_HF_ZSTD) && plen != len)
			return bad(why, "payload length differs from the record length");
		if ((hflags & XP_HF_ZSTD) && (plen == 0 || plen >= len))
			return bad(why, "compressed payload not shorter than the record");
	}
	if (type == XP_T_HELLO_ACK && have >= 8 && (get16(b + 6) & ~XP_AF_SEEDED))
		return bad(why, "reserved hello bits set");
	if (type == XP_T_SUMS && have >= 16 &&
	    (get32(b + 12) != (blen - XP_SUMS_FIXED_LEN) / 8 || get32(b + 8) == 0))
		return bad(why, "sums count or block size");
	if (type == XP_T_HELLO && have >= 8) {
		if (b[7] != 0)
			return bad(why, "reserved hello bits set");
		if (b[6] != blen - XP_HELLO_LEN)
			return bad(why, "hello name length differs from the body");
	}
	if (have < blen)
		return -EAGAIN;

	memset(f, 0, sizeof(*f));
	f->type = type;
	f->hflags = hflags;
	f->body_len = blen;
	switch (type) {
	case XP_T_HELLO:
	case XP_T_HELLO_ACK:
		f->magic = get32(b);
		f->version = get16(b + 4);
		if (type == XP_T_HELLO) {
			f->disk = get64(b + 8);
			f->size = get64(b + 16);
			f->high = get64(b + 24);
			f->name_len = b[6];
			f->name = (const char *)b + XP_HELLO_LEN;
		} else {
			f->aflags = get16(b + 6);
			f->seq = get64(b + 8);
		}
		break;
	case XP_T_SUMS:
		f->offset = get64(b);
		f->len = get32(b + 8);
		f->count = get32(b + 12);
		f->payload = b + XP_SUMS_FIXED_LEN;
		f->plen = blen - XP_SUMS_FIXED_LEN;
		break;
	case XP_T_ACK:
		f->seq = get64(b);
		break;
	case XP_T_POINT:
		f->seq = get64(b);
		f->point = get64(b + 8);
		f->time = (int64_t)get64(b + 16);
		f->kind = get32(b + 24);
		if (get32(b + 28) != 0)
			return bad(why, "reserved point bits set");
		break;
	case XP_T_DATA:
		f->seq = get64(b);
		f->offset = get64(b + 8);
		f->len = get32(b + 16);
		f->rflags = get32(b + 20);
		f->hash = get64(b + 24);
		f->payload = b + XP_DATA_FIXED_LEN;
		f->plen = blen - XP_DATA_FIXED_LEN;
		if (f->seq == 0)
			return bad(why, "data sequence 0");
		break;
	default:
		f->code = get32(b);
		f->seq = get64(b + 4);
		f->payload = b + XP_ERROR_FIXED_LEN;
		f->plen = blen - XP_ERROR_FIXED_LEN;
		break;
	}
	*used = XP_HDR_LEN + blen;
	return 0;
}

const char *
xp_err_name(uint32_t code)
{
	switch (code) {
	case XP_E_FRAME:
		return "malformed frame";
	case XP_E_MAGIC:
		return "bad magic";
	case XP_E_VERSION:
		return "unsupported version";
	case XP_E_SEQUENCE:
		return "frame out of order";
	case XP_E_CHECKSUM:
		return "checksum mismatch";
	case XP_E_DECOMPRESS:
		return "decompression failed";
	case XP_E_STORE:
		return "store failed";
	case XP_E_DISK:
		return "unknown disk";
	default:
		return "unknown error";
	}
}
