/*
 * nbd_reply.c - what the protocol core sends: the output buffer, option
 * replies, simple replies and structured reply chunks, and the two answers
 * that carry data, READ and BLOCK_STATUS (base:allocation).
 *
 * Source: NetworkBlockDevice doc/proto.md, "Structured reply chunk message"
 * and NBD_CMD_READ / NBD_CMD_BLOCK_STATUS. Choices:
 * - With structured replies, errors go out as NBD_REPLY_TYPE_ERROR chunks
 *   with a message (READ must never get a simple reply then); successes of
 *   payload-free commands keep the 16-byte simple reply, which proto.md
 *   allows and every client reads.
 * - A READ is answered in the buffer as a whole before anything is sent, so
 *   NBD_REPLY_FLAG_DONE goes on its last chunk (no trailing NONE chunk).
 *   Ranges the backend reports NBD_STATE_ZERO become OFFSET_HOLE chunks,
 *   the rest OFFSET_DATA; NBD_CMD_FLAG_DF asks for one OFFSET_DATA chunk,
 *   which this server always manages (reads are at most 32 MiB). A backend
 *   failing mid-read keeps the chunks before it and ends with an
 *   ERROR_OFFSET chunk at the range that failed.
 * - BLOCK_STATUS describes at most NBD_MAX_EXTENTS extents (one with
 *   NBD_CMD_FLAG_REQ_ONE), never past the request; a backend without
 *   extents() reports the range as allocated data (flags 0).
 * Invariant: a reply is appended whole or, on ENOMEM, not at all.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "repl/nbd_internal.h"
#include "repl/nbd_wire.h"

/* ---- output buffer ------------------------------------------------------ */

uint8_t *
nbd_out_reserve(struct nbd_out *o, size_t n)
{
	if (o->cap - o->n < n) {
		size_t cap = o->cap ? o->cap : 256;
		uint8_t *p;
		while (cap - o->n < n)
			cap *= 2;
		p = realloc(o->p, cap);
		if (!p)
			return NULL;
		o->p = p;
		o->cap = cap;
	}
	o->n += n;
	return o->p + o->n - n;
}

void
nbd_out_free(struct nbd_out *o)
{
	free(o->p);
	o->p = NULL;
	o->n = o->cap = 0;
}

uint8_t *
nbd_put_rep(struct nbd_out *o, uint32_t opt, uint32_t type, uint32_t len)
{
	uint8_t *p = nbd_out_reserve(o, NBD_REP_HDR_LEN + (size_t)len);
	if (!p)
		return NULL;
	nbd_put_be(p, NBD_REP_MAGIC, 8);
	nbd_put_be(p + 8, opt, 4);
	nbd_put_be(p + 12, type, 4);
	nbd_put_be(p + 16, len, 4);
	return p + NBD_REP_HDR_LEN;
}

int
nbd_put_rep0(struct nbd_out *o, uint32_t opt, uint32_t type)
{
	return nbd_put_rep(o, opt, type, 0) ? 0 : -ENOMEM;
}

/* ---- transmission replies ----------------------------------------------- */

uint32_t
nbd_errno_to_nbd(int e)
{
	switch (e) {
	case EPERM:
	case EROFS:
		return NBD_EPERM;
	case ENOMEM:
		return NBD_ENOMEM;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return NBD_ENOSPC;
	case EINVAL:
		return NBD_EINVAL;
	default:
		return NBD_EIO;
	}
}

static const char *
err_msg(uint32_t err)
{
	switch (err) {
	case NBD_EPERM:
		return "the export is read-only";
	case NBD_ENOMEM:
		return "out of memory";
	case NBD_ENOSPC:
		return "no space: beyond the end of the export";
	case NBD_EINVAL:
		return "invalid request: command, flags, offset or length";
	default:
		return "input/output error";
	}
}

static int
put_simple(struct nbd_out *o, uint32_t err, uint64_t cookie)
{
	uint8_t *p = nbd_out_reserve(o, NBD_SIMPLE_REPLY_LEN);
	if (!p)
		return -ENOMEM;
	nbd_put_be(p, NBD_SIMPLE_REPLY_MAGIC, 4);
	nbd_put_be(p + 4, err, 4);
	nbd_put_be(p + 8, cookie, 8);
	return 0;
}

/* A structured chunk header followed by len payload bytes (returned). */
static uint8_t *
put_chunk(struct nbd_out *o, uint16_t flags, uint16_t type, uint64_t cookie, uint32_t len)
{
	uint8_t *p = nbd_out_reserve(o, NBD_CHUNK_HDR_LEN + (size_t)len);
	if (!p)
		return NULL;
	nbd_put_be(p, NBD_STRUCTURED_REPLY_MAGIC, 4);
	nbd_put_be(p + 4, flags, 2);
	nbd_put_be(p + 6, type, 2);
	nbd_put_be(p + 8, cookie, 8);
	nbd_put_be(p + 16, len, 4);
	return p + NBD_CHUNK_HDR_LEN;
}

/* The final chunk of a failed request: ERROR, or ERROR_OFFSET at off. */
static int
put_err_chunk(struct nbd_out *o, uint64_t cookie, uint16_t type, uint32_t err, uint64_t off)
{
	const char *m = err_msg(err);
	uint16_t ml = (uint16_t)strlen(m);
	uint32_t len = 6u + ml + (type == NBD_REPLY_TYPE_ERROR_OFFSET ? 8u : 0u);
	uint8_t *p = put_chunk(o, NBD_REPLY_FLAG_DONE, type, cookie, len);
	if (!p)
		return -ENOMEM;
	nbd_put_be(p, err, 4);
	nbd_put_be(p + 4, ml, 2);
	memcpy(p + 6, m, ml);
	if (type == NBD_REPLY_TYPE_ERROR_OFFSET)
		nbd_put_be(p + 6 + ml, off, 8);
	return 0;
}

int
nbd_reply_status(const struct nbd_conn *c, uint32_t err, struct nbd_out *out)
{
	if (err && c->structured)
		return put_err_chunk(out, c->cookie, NBD_REPLY_TYPE_ERROR, err, 0);
	return put_simple(out, err, c->cookie);
}

/* ---- extents -------------------------------------------------------------- */

int
nbd_extents_add(struct nbd_extents *x, uint64_t len, uint32_t flags)
{
	struct nbd_extent *last = x->n ? &x->v[x->n - 1] : NULL;

	if (x->left == 0 || x->n >= x->max)
		return 1;
	if (len > x->left)
		len = x->left;
	if (len == 0)
		return 0;
	if (last && last->flags == flags) { /* the sum stays within the u32 query */
		last->len += (uint32_t)len;
	} else {
		if (x->n == x->cap) {
			size_t cap = x->cap ? 2 * x->cap : 16;
			struct nbd_extent *v = realloc(x->v, cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			x->v = v, x->cap = cap;
		}
		x->v[x->n++] = (struct nbd_extent){(uint32_t)len, flags};
	}
	x->left -= len;
	return x->left == 0 || x->n >= x->max ? 1 : 0;
}

/* Describes up to max extents of [off, off + len) of the export into x (a
 * prefix of the range, at least one extent). 0 or -errno; x->v is the
 * caller's to free either way. */
static int
get_extents(const struct nbd_export *e, uint64_t off, uint32_t len, size_t max,
            struct nbd_extents *x)
{
	int rc = 0;
	*x = (struct nbd_extents){.max = max, .left = len};
	if (e->ops.extents)
		rc = e->ops.extents(e->arg, off, len, x);
	if (rc >= 0 && x->n == 0) /* described nothing: call it data */
		rc = nbd_extents_add(x, len, 0);
	return rc < 0 ? rc : 0;
}

/* ---- READ ------------------------------------------------------------------ */

static int
read_simple(const struct nbd_conn *c, struct nbd_out *out)
{
	const struct nbd_export *e = c->exp;
	size_t mark = out->n;
	uint8_t *p = nbd_out_reserve(out, NBD_SIMPLE_REPLY_LEN + (size_t)c->len);
	int rc;

	if (!p)
		return put_simple(out, NBD_ENOMEM, c->cookie);
	rc = e->ops.pread(e->arg, p + NBD_SIMPLE_REPLY_LEN, c->len, c->off);
	out->n = mark;
	if (rc < 0)
		return put_simple(out, nbd_errno_to_nbd(-rc), c->cookie);
	put_simple(out, 0, c->cookie); /* space is reserved: cannot fail */
	out->n += c->len;
	return 0;
}

/* One OFFSET_DATA chunk for [off, off + len). On failure nothing of it stays
 * and the final ERROR_OFFSET chunk is sent instead: returns 1 then. */
static int
put_data(const struct nbd_conn *c, uint16_t flags, uint64_t off, uint32_t len, struct nbd_out *out)
{
	const struct nbd_export *e = c->exp;
	size_t mark = out->n;
	uint8_t *p = put_chunk(out, flags, NBD_REPLY_TYPE_OFFSET_DATA, c->cookie, 8 + len);
	int rc = p ? 0 : -ENOMEM;

	if (p) {
		nbd_put_be(p, off, 8);
		rc = e->ops.pread(e->arg, p + 8, len, off);
	}
	if (rc == 0)
		return 0;
	out->n = mark;
	rc = put_err_chunk(out, c->cookie, NBD_REPLY_TYPE_ERROR_OFFSET, nbd_errno_to_nbd(-rc), off);
	return rc < 0 ? rc : 1;
}

static int
put_hole(const struct nbd_conn *c, uint64_t off, uint32_t len, struct nbd_out *out)
{
	uint8_t *p = put_chunk(out, 0, NBD_REPLY_TYPE_OFFSET_HOLE, c->cookie, 12);
	if (!p)
		return -ENOMEM;
	nbd_put_be(p, off, 8);
	nbd_put_be(p + 8, len, 4);
	return 0;
}

/* Chunks along the extents: zero runs as holes, everything else as data,
 * the tail the backend left undescribed as data; DONE on the last chunk. */
static int
read_chunks(const struct nbd_conn *c, const struct nbd_extents *x, struct nbd_out *out)
{
	uint64_t pos = c->off, end = c->off + c->len;
	size_t i = 0, last = out->n;
	int rc = 0;

	while (rc == 0 && pos < end) {
		bool zero = i < x->n && (x->v[i].flags & NBD_STATE_ZERO);
		uint32_t n = 0;
		while (i < x->n && zero == !!(x->v[i].flags & NBD_STATE_ZERO))
			n += x->v[i++].len;
		if (i == x->n && !zero)
			n = (uint32_t)(end - pos); /* data to the end */
		last = out->n;
		rc = zero ? put_hole(c, pos, n, out) : put_data(c, 0, pos, n, out);
		pos += n;
	}
	if (rc == 0)
		nbd_put_be(out->p + last + 4, NBD_REPLY_FLAG_DONE, 2);
	if (rc == -ENOMEM) /* chunks may have gone out: end the reply with an error */
		rc = put_err_chunk(out, c->cookie, NBD_REPLY_TYPE_ERROR_OFFSET, NBD_ENOMEM, pos);
	return rc < 0 ? rc : 0;
}

int
nbd_reply_read(const struct nbd_conn *c, struct nbd_out *out)
{
	struct nbd_extents x;
	int rc;

	if (!c->structured)
		return read_simple(c, out);
	if ((c->flags & NBD_CMD_FLAG_DF) || !c->exp->ops.extents)
		return put_data(c, NBD_REPLY_FLAG_DONE, c->off, c->len, out) < 0 ? -ENOMEM : 0;
	rc = get_extents(c->exp, c->off, c->len, NBD_MAX_EXTENTS, &x);
	if (rc < 0) /* the map is a hint: read it all as data */
		x.n = 0;
	rc = read_chunks(c, &x, out);
	free(x.v);
	return rc;
}

/* ---- BLOCK_STATUS ------------------------------------------------------------ */

int
nbd_reply_block_status(const struct nbd_conn *c, struct nbd_out *out)
{
	size_t max = (c->flags & NBD_CMD_FLAG_REQ_ONE) ? 1 : NBD_MAX_EXTENTS;
	struct nbd_extents x;
	uint8_t *p = NULL;
	int rc = get_extents(c->exp, c->off, c->len, max, &x);

	if (rc < 0) {
		free(x.v);
		return put_err_chunk(out, c->cookie, NBD_REPLY_TYPE_ERROR, nbd_errno_to_nbd(-rc),
		                     0);
	}
	p = put_chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_BLOCK_STATUS, c->cookie,
	              4 + 8 * (uint32_t)x.n);
	if (p) {
		nbd_put_be(p, NBD_META_BASE_ALLOC_ID, 4);
		for (size_t i = 0; i < x.n; i++) {
			nbd_put_be(p + 4 + 8 * i, x.v[i].len, 4);
			nbd_put_be(p + 8 + 8 * i, x.v[i].flags, 4);
		}
	}
	free(x.v);
	return p ? 0 : put_err_chunk(out, c->cookie, NBD_REPLY_TYPE_ERROR, NBD_ENOMEM, 0);
}
