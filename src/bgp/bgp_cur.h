/*
 * bgp_cur.h - the bounded cursors every BGP decoder reads through and every
 * encoder writes through.
 *
 * Reading: a short read sets cur->bad, returns zeros (or NULL for bytes) and
 * pins the cursor at its end, so a decoder reads a whole field group and
 * checks bad once; no read ever touches memory outside [p, p + n).
 * bgp_cur_sub() carves the next len bytes off as a cursor of their own, which
 * is how a TLV's value is parsed without being able to run into the next one.
 *
 * Writing: a write that does not fit sets w->over and writes nothing; the
 * encoder checks over once at the end (or bgp_wr_room() before a group).
 * bgp_wr_mark()/bgp_wr_patch16() fill in a length field after its contents.
 * A counter (bgp_wr_counter()) has no buffer and only adds up lengths, so an
 * encoder can measure what it would write by running itself.
 *
 * Both are big-endian, as everything on the BGP wire is.
 */
#ifndef STRAIT_BGP_CUR_H
#define STRAIT_BGP_CUR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct bgp_cur {
	const uint8_t *p;
	size_t n, off;
	bool bad;
};

static inline struct bgp_cur
bgp_cur_make(const void *p, size_t n)
{
	struct bgp_cur c = {p, p ? n : 0, 0, false};
	return c;
}

static inline size_t
bgp_cur_left(const struct bgp_cur *c)
{
	return c->n - c->off;
}

static inline bool
bgp_cur_done(const struct bgp_cur *c)
{
	return c->off == c->n;
}

/* Marks the cursor bad and exhausted; returns false for use in conditions. */
static inline bool
bgp_cur_fail(struct bgp_cur *c)
{
	c->bad = true;
	c->off = c->n;
	return false;
}

static inline uint32_t
bgp_cur_uint(struct bgp_cur *c, unsigned bytes)
{
	uint32_t v = 0;
	if (bgp_cur_left(c) < bytes) {
		bgp_cur_fail(c);
		return 0;
	}
	for (unsigned i = 0; i < bytes; i++)
		v = (v << 8) | c->p[c->off + i];
	c->off += bytes;
	return v;
}

static inline uint8_t
bgp_cur_u8(struct bgp_cur *c)
{
	return (uint8_t)bgp_cur_uint(c, 1);
}

static inline uint16_t
bgp_cur_u16(struct bgp_cur *c)
{
	return (uint16_t)bgp_cur_uint(c, 2);
}

static inline uint32_t
bgp_cur_u32(struct bgp_cur *c)
{
	return bgp_cur_uint(c, 4);
}

/* The next n bytes, not copied; NULL (and bad) when short, NULL for n == 0. */
static inline const uint8_t *
bgp_cur_bytes(struct bgp_cur *c, size_t n)
{
	const uint8_t *r;
	if (bgp_cur_left(c) < n) {
		bgp_cur_fail(c);
		return NULL;
	}
	if (n == 0)
		return NULL;
	r = c->p + c->off;
	c->off += n;
	return r;
}

/* Copies the next n bytes to out (zeros when short). */
static inline void
bgp_cur_copy(struct bgp_cur *c, void *out, size_t n)
{
	const uint8_t *b = bgp_cur_bytes(c, n);
	if (b)
		memcpy(out, b, n);
	else if (n)
		memset(out, 0, n);
}

static inline void
bgp_cur_skip(struct bgp_cur *c, size_t n)
{
	(void)bgp_cur_bytes(c, n);
}

/* The next len bytes as a cursor of their own; an empty bad one when short. */
static inline struct bgp_cur
bgp_cur_sub(struct bgp_cur *c, size_t len)
{
	const uint8_t *b = bgp_cur_bytes(c, len);
	struct bgp_cur s = bgp_cur_make(b, b ? len : 0);
	s.bad = c->bad;
	return s;
}

/* Where the cursor is, for zero-copy references into the buffer. */
static inline const uint8_t *
bgp_cur_pos(const struct bgp_cur *c)
{
	return c->p ? c->p + c->off : NULL;
}

/* ---- writer ------------------------------------------------------------- */
struct bgp_wr {
	uint8_t *p;
	size_t cap, len;
	bool over;
};

static inline struct bgp_wr
bgp_wr_make(void *p, size_t cap)
{
	struct bgp_wr w = {p, p ? cap : 0, 0, false};
	return w;
}

static inline struct bgp_wr
bgp_wr_counter(void)
{
	struct bgp_wr w = {NULL, SIZE_MAX, 0, false};
	return w;
}

static inline bool
bgp_wr_room(struct bgp_wr *w, size_t n)
{
	if (w->over || w->cap - w->len < n) {
		w->over = true;
		return false;
	}
	return true;
}

static inline void
bgp_wr_uint(struct bgp_wr *w, uint32_t v, unsigned bytes)
{
	if (!bgp_wr_room(w, bytes))
		return;
	if (!w->p) {
		w->len += bytes;
		return;
	}
	for (unsigned i = bytes; i-- > 0; v >>= 8)
		w->p[w->len + i] = (uint8_t)v;
	w->len += bytes;
}

static inline void
bgp_wr_u8(struct bgp_wr *w, uint8_t v)
{
	bgp_wr_uint(w, v, 1);
}

static inline void
bgp_wr_u16(struct bgp_wr *w, uint16_t v)
{
	bgp_wr_uint(w, v, 2);
}

static inline void
bgp_wr_u32(struct bgp_wr *w, uint32_t v)
{
	bgp_wr_uint(w, v, 4);
}

static inline void
bgp_wr_bytes(struct bgp_wr *w, const void *b, size_t n)
{
	if (n == 0 || !bgp_wr_room(w, n))
		return;
	if (w->p)
		memcpy(w->p + w->len, b, n);
	w->len += n;
}

/* Reserves n bytes (to be patched later) and returns their offset. */
static inline size_t
bgp_wr_mark(struct bgp_wr *w, size_t n)
{
	size_t at = w->len;
	if (bgp_wr_room(w, n)) {
		if (w->p)
			memset(w->p + w->len, 0, n);
		w->len += n;
	}
	return at;
}

static inline void
bgp_wr_patch8(struct bgp_wr *w, size_t at, uint8_t v)
{
	if (w->p && !w->over && at + 1 <= w->len)
		w->p[at] = v;
}

static inline void
bgp_wr_patch16(struct bgp_wr *w, size_t at, uint16_t v)
{
	if (w->p && !w->over && at + 2 <= w->len) {
		w->p[at] = (uint8_t)(v >> 8);
		w->p[at + 1] = (uint8_t)v;
	}
}

/* Big-endian loads for bytes a decoder has already bounds-checked. */
static inline uint16_t
bgp_get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
bgp_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

#endif
