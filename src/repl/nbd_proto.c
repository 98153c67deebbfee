/*
 * nbd_proto.c - the NBD protocol core: handshake options and transmission
 * commands as a byte-in / byte-out state machine with no socket I/O, so the
 * blocking loop in nbd_server.c and a later libuv loop drive it the same way.
 *
 * Source: NetworkBlockDevice doc/proto.md (fixed newstyle negotiation, simple
 * replies). Choices where the spec leaves room:
 * - Fixed newstyle only: a client without NBD_FLAG_C_FIXED_NEWSTYLE, or with
 *   unknown client flags, is disconnected.
 * - Option data longer than NBD_MAX_OPT_LEN is read and discarded and
 *   answered NBD_REP_ERR_TOO_BIG (EXPORT_NAME, which has no error reply,
 *   closes instead); unknown options get NBD_REP_ERR_UNSUP and
 *   negotiation continues. Bad option or request magic closes at once.
 * - NBD_INFO_NAME and NBD_INFO_BLOCK_SIZE are sent only when requested.
 * - Zero-length READ/WRITE/TRIM/WRITE_ZEROES answer NBD_EINVAL. Reads or
 *   writes above NBD_MAX_PAYLOAD answer NBD_EINVAL (a WRITE's payload is read
 *   and discarded first so the stream stays in sync). Out of range: READ and
 *   TRIM answer NBD_EINVAL, WRITE and WRITE_ZEROES NBD_ENOSPC (proto.md).
 * - Command flags not advertised (DF, REQ_ONE, FAST_ZERO, unknown) answer
 *   NBD_EINVAL; FUA is accepted on every command.
 * Invariants: every decoder reads through an nbd_cur; a reply is appended to
 * out only after the backing file and the hook are done with the request.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lib.h"
#include "repl/nbd_internal.h"
#include "repl/nbd_wire.h"

/* ---- output buffer ------------------------------------------------------ */

static uint8_t *
out_reserve(struct nbd_out *o, size_t n)
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

/* Option reply header followed by len data bytes (returned for filling). */
static uint8_t *
put_rep(struct nbd_out *o, uint32_t opt, uint32_t type, uint32_t len)
{
	uint8_t *p = out_reserve(o, NBD_REP_HDR_LEN + (size_t)len);
	if (!p)
		return NULL;
	nbd_put_be(p, NBD_REP_MAGIC, 8);
	nbd_put_be(p + 8, opt, 4);
	nbd_put_be(p + 12, type, 4);
	nbd_put_be(p + 16, len, 4);
	return p + NBD_REP_HDR_LEN;
}

static int
put_simple(struct nbd_out *o, uint32_t err, uint64_t cookie)
{
	uint8_t *p = out_reserve(o, NBD_SIMPLE_REPLY_LEN);
	if (!p)
		return -ENOMEM;
	nbd_put_be(p, NBD_SIMPLE_REPLY_MAGIC, 4);
	nbd_put_be(p + 4, err, 4);
	nbd_put_be(p + 8, cookie, 8);
	return 0;
}

/* ---- handshake ---------------------------------------------------------- */

static uint16_t
trans_flags(const struct nbd_export *e)
{
	uint16_t f = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA;
	if (e->ro)
		f |= NBD_FLAG_READ_ONLY;
	else
		f |= NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES;
	return f;
}

void
nbd_conn_init(struct nbd_conn *c, struct nbd_server *s, struct nbd_out *out)
{
	uint8_t *p;
	memset(c, 0, sizeof(*c));
	c->srv = s;
	c->phase = NBD_PH_CFLAGS;
	p = out_reserve(out, NBD_GREETING_LEN);
	if (!p) {
		c->phase = NBD_PH_CLOSED;
		return;
	}
	nbd_put_be(p, NBD_MAGIC, 8);
	nbd_put_be(p + 8, NBD_IHAVEOPT, 8);
	nbd_put_be(p + 16, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES, 2);
}

bool
nbd_conn_closed(const struct nbd_conn *c)
{
	return c->phase == NBD_PH_CLOSED;
}

size_t
nbd_conn_need(const struct nbd_conn *c)
{
	switch (c->phase) {
	case NBD_PH_CFLAGS:
		return NBD_CLIENT_FLAGS_LEN;
	case NBD_PH_OPTHDR:
		return NBD_OPT_HDR_LEN;
	case NBD_PH_OPTDATA:
		return c->optlen;
	case NBD_PH_REQHDR:
		return NBD_REQ_HDR_LEN;
	case NBD_PH_PAYLOAD:
		return c->len;
	case NBD_PH_DISCARD:
		return c->discard < NBD_DISCARD_CHUNK ? (size_t)c->discard : NBD_DISCARD_CHUNK;
	case NBD_PH_CLOSED:
		break;
	}
	return 0;
}

static int
opt_list(struct nbd_conn *c, struct nbd_out *out)
{
	for (size_t i = 0; i < c->srv->nexps; i++) {
		const struct nbd_export *e = c->srv->exps[i];
		uint32_t n = (uint32_t)strlen(e->name);
		uint8_t *p = put_rep(out, NBD_OPT_LIST, NBD_REP_SERVER, 4 + n);
		if (!p)
			return -ENOMEM;
		nbd_put_be(p, n, 4);
		memcpy(p + 4, e->name, n);
	}
	return put_rep(out, NBD_OPT_LIST, NBD_REP_ACK, 0) ? 0 : -ENOMEM;
}

/* NBD_OPT_INFO and NBD_OPT_GO: u32 name length, name, u16 count, u16 types. */
static int
opt_info(struct nbd_conn *c, const uint8_t *data, uint32_t len, struct nbd_out *out)
{
	struct nbd_cur cur = nbd_cur_make(data, len);
	uint32_t nlen = nbd_cur_u32(&cur);
	const uint8_t *name = nbd_cur_bytes(&cur, nlen);
	uint16_t nreq = nbd_cur_u16(&cur);
	bool want_name = false, want_bs = false;
	struct nbd_export *e;
	uint8_t *p;

	for (uint16_t i = 0; i < nreq && !cur.bad; i++) {
		uint16_t t = nbd_cur_u16(&cur);
		want_name |= t == NBD_INFO_NAME;
		want_bs |= t == NBD_INFO_BLOCK_SIZE;
	}
	if (cur.bad || nbd_cur_left(&cur) != 0 || nlen > NBD_MAX_STRING)
		return put_rep(out, c->opt, NBD_REP_ERR_INVALID, 0) ? 0 : -ENOMEM;
	e = nbd_find_export(c->srv, (const char *)name, nlen);
	if (!e)
		return put_rep(out, c->opt, NBD_REP_ERR_UNKNOWN, 0) ? 0 : -ENOMEM;

	if (want_name) {
		uint32_t n = (uint32_t)strlen(e->name);
		if (!(p = put_rep(out, c->opt, NBD_REP_INFO, 2 + n)))
			return -ENOMEM;
		nbd_put_be(p, NBD_INFO_NAME, 2);
		memcpy(p + 2, e->name, n);
	}
	if (want_bs) {
		if (!(p = put_rep(out, c->opt, NBD_REP_INFO, 14)))
			return -ENOMEM;
		nbd_put_be(p, NBD_INFO_BLOCK_SIZE, 2);
		nbd_put_be(p + 2, NBD_MIN_BLOCK, 4);
		nbd_put_be(p + 6, NBD_PREF_BLOCK, 4);
		nbd_put_be(p + 10, NBD_MAX_PAYLOAD, 4);
	}
	if (!(p = put_rep(out, c->opt, NBD_REP_INFO, 12)))
		return -ENOMEM;
	nbd_put_be(p, NBD_INFO_EXPORT, 2);
	nbd_put_be(p + 2, e->size, 8);
	nbd_put_be(p + 10, trans_flags(e), 2);
	if (!put_rep(out, c->opt, NBD_REP_ACK, 0))
		return -ENOMEM;
	if (c->opt == NBD_OPT_GO) {
		c->exp = e;
		c->phase = NBD_PH_REQHDR;
	}
	return 0;
}

/* NBD_OPT_EXPORT_NAME: no error reply is possible; unknown names close. */
static int
opt_export_name(struct nbd_conn *c, const uint8_t *data, uint32_t len, struct nbd_out *out)
{
	struct nbd_export *e = nbd_find_export(c->srv, (const char *)data, len);
	size_t n = 10 + (c->no_zeroes ? 0 : NBD_EXPORT_NAME_PAD);
	uint8_t *p;

	if (!e) {
		c->phase = NBD_PH_CLOSED;
		return 0;
	}
	if (!(p = out_reserve(out, n)))
		return -ENOMEM;
	memset(p, 0, n);
	nbd_put_be(p, e->size, 8);
	nbd_put_be(p + 8, trans_flags(e), 2);
	c->exp = e;
	c->phase = NBD_PH_REQHDR;
	return 0;
}

static int
opt_handle(struct nbd_conn *c, const uint8_t *data, uint32_t len, struct nbd_out *out)
{
	c->phase = NBD_PH_OPTHDR;
	switch (c->opt) {
	case NBD_OPT_EXPORT_NAME:
		return opt_export_name(c, data, len, out);
	case NBD_OPT_ABORT:
		c->phase = NBD_PH_CLOSED;
		return put_rep(out, c->opt, NBD_REP_ACK, 0) ? 0 : -ENOMEM;
	case NBD_OPT_LIST:
		if (len != 0)
			return put_rep(out, c->opt, NBD_REP_ERR_INVALID, 0) ? 0 : -ENOMEM;
		return opt_list(c, out);
	case NBD_OPT_INFO:
	case NBD_OPT_GO:
		return opt_info(c, data, len, out);
	default:
		return put_rep(out, c->opt, NBD_REP_ERR_UNSUP, 0) ? 0 : -ENOMEM;
	}
}

static int
feed_opthdr(struct nbd_conn *c, const uint8_t *buf, size_t n, struct nbd_out *out)
{
	struct nbd_cur cur = nbd_cur_make(buf, n);
	uint64_t magic = nbd_cur_u64(&cur);

	c->opt = nbd_cur_u32(&cur);
	c->optlen = nbd_cur_u32(&cur);
	if (cur.bad || magic != NBD_IHAVEOPT) {
		c->phase = NBD_PH_CLOSED;
		return 0;
	}
	if (c->optlen > NBD_MAX_OPT_LEN && c->opt == NBD_OPT_EXPORT_NAME) {
		c->phase = NBD_PH_CLOSED; /* EXPORT_NAME has no error reply */
		return 0;
	}
	if (c->optlen > NBD_MAX_OPT_LEN) {
		c->discard = c->optlen;
		c->discard_err = 0;
		c->after = NBD_PH_OPTHDR;
		c->phase = NBD_PH_DISCARD;
		return put_rep(out, c->opt, NBD_REP_ERR_TOO_BIG, 0) ? 0 : -ENOMEM;
	}
	if (c->optlen == 0)
		return opt_handle(c, NULL, 0, out);
	c->phase = NBD_PH_OPTDATA;
	return 0;
}

/* ---- transmission ------------------------------------------------------- */

static uint32_t
errno_to_nbd(int e)
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

/* ---- the file backend ---------------------------------------------------- */

static int
file_pread(void *arg, void *buf, uint32_t len, uint64_t off)
{
	int fd = (int)(intptr_t)arg;
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t r = pread(fd, p, len, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0) { /* file shrank under us: the rest reads as zeroes */
			memset(p, 0, len);
			return 0;
		}
		p += r, len -= (uint32_t)r, off += (uint64_t)r;
	}
	return 0;
}

static int
file_flush(void *arg)
{
	return fdatasync((int)(intptr_t)arg) < 0 ? -errno : 0;
}

static int
file_pwrite(void *arg, const void *buf, uint32_t len, uint64_t off, bool fua)
{
	int rc = lib_pwrite_all((int)(intptr_t)arg, buf, len, off);
	return rc == 0 && fua ? file_flush(arg) : rc;
}

static int
file_trim(void *arg, uint64_t off, uint32_t len, bool fua)
{
	/* advisory: a file system without hole punching keeps the data */
	fallocate((int)(intptr_t)arg, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, len);
	return fua ? file_flush(arg) : 0;
}

static int
file_zero(void *arg, uint64_t off, uint32_t len, bool may_trim, bool fua)
{
	static const uint8_t zero[NBD_DISCARD_CHUNK];
	int fd = (int)(intptr_t)arg, rc = 0;

	if (may_trim &&
	    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, len) == 0)
		return fua ? file_flush(arg) : 0;
	if (fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off, len) == 0)
		return fua ? file_flush(arg) : 0;
	while (len > 0 && rc == 0) { /* fallback: write zeroes */
		uint32_t n = len < sizeof(zero) ? len : (uint32_t)sizeof(zero);
		rc = lib_pwrite_all(fd, zero, n, off);
		off += n, len -= n;
	}
	return rc == 0 && fua ? file_flush(arg) : rc;
}

static void
file_close(void *arg)
{
	close((int)(intptr_t)arg);
}

const struct nbd_backend_ops nbd_file_ops = {
    .pread = file_pread,
    .pwrite = file_pwrite,
    .flush = file_flush,
    .trim = file_trim,
    .zero = file_zero,
    .close = file_close,
};

/* Validates the current request; returns an NBD error or 0. */
static uint32_t
req_check(const struct nbd_conn *c)
{
	const struct nbd_export *e = c->exp;
	uint16_t allowed = NBD_CMD_FLAG_FUA;
	bool mut =
	    c->type == NBD_CMD_WRITE || c->type == NBD_CMD_TRIM || c->type == NBD_CMD_WRITE_ZEROES;

	if (c->type == NBD_CMD_WRITE_ZEROES)
		allowed |= NBD_CMD_FLAG_NO_HOLE;
	if (c->type > NBD_CMD_WRITE_ZEROES || c->type == NBD_CMD_CACHE || c->type == NBD_CMD_DISC ||
	    (c->flags & ~allowed))
		return NBD_EINVAL;
	if (c->type == NBD_CMD_FLUSH)
		return 0;
	if (mut && e->ro)
		return NBD_EPERM;
	if (c->len == 0)
		return NBD_EINVAL;
	if ((c->type == NBD_CMD_READ || c->type == NBD_CMD_WRITE) && c->len > NBD_MAX_PAYLOAD)
		return NBD_EINVAL;
	if (c->off > e->size || c->len > e->size - c->off)
		return c->type == NBD_CMD_WRITE || c->type == NBD_CMD_WRITE_ZEROES ? NBD_ENOSPC
		                                                                   : NBD_EINVAL;
	return 0;
}

static int
hook_rc(int rc)
{
	return rc != 0 ? -EIO : 0;
}

/* Runs a mutating command and its hook under the export's lock. */
static int
do_mutate(struct nbd_conn *c, const uint8_t *data)
{
	struct nbd_export *e = c->exp;
	const struct nbd_hooks *h = &c->srv->hooks;
	bool fua = c->flags & NBD_CMD_FLAG_FUA;
	int rc;

	pthread_mutex_lock(&e->mu);
	switch (c->type) {
	case NBD_CMD_WRITE:
		rc = e->ops.pwrite(e->arg, data, c->len, c->off, fua);
		break;
	case NBD_CMD_TRIM:
		rc = e->ops.trim ? e->ops.trim(e->arg, c->off, c->len, fua) : 0;
		break;
	default:
		rc = e->ops.zero(e->arg, c->off, c->len, !(c->flags & NBD_CMD_FLAG_NO_HOLE), fua);
		break;
	}
	if (rc == 0 && c->type == NBD_CMD_WRITE && h->on_write)
		rc = hook_rc(h->on_write(c->srv->ctx, e->name, c->off, data, c->len, fua));
	else if (rc == 0 && c->type == NBD_CMD_TRIM && h->on_trim)
		rc = hook_rc(h->on_trim(c->srv->ctx, e->name, c->off, c->len, fua));
	else if (rc == 0 && c->type == NBD_CMD_WRITE_ZEROES && h->on_zero)
		rc = hook_rc(h->on_zero(c->srv->ctx, e->name, c->off, c->len, fua));
	pthread_mutex_unlock(&e->mu);
	return rc;
}

static int
do_flush(struct nbd_conn *c)
{
	struct nbd_export *e = c->exp;
	const struct nbd_hooks *h = &c->srv->hooks;
	int rc;

	pthread_mutex_lock(&e->mu);
	rc = e->ops.flush ? e->ops.flush(e->arg) : 0;
	if (rc == 0 && h->on_flush)
		rc = hook_rc(h->on_flush(c->srv->ctx, e->name));
	pthread_mutex_unlock(&e->mu);
	return rc;
}

/* Executes the current request (its WRITE payload in data) and replies. */
static int
req_exec(struct nbd_conn *c, const uint8_t *data, struct nbd_out *out)
{
	uint32_t err = req_check(c);
	int rc = 0;

	c->phase = NBD_PH_REQHDR;
	if (err)
		return put_simple(out, err, c->cookie);
	if (c->type == NBD_CMD_READ) {
		size_t mark = out->n;
		uint8_t *p = out_reserve(out, NBD_SIMPLE_REPLY_LEN + (size_t)c->len);
		if (!p)
			return put_simple(out, NBD_ENOMEM, c->cookie);
		rc = c->exp->ops.pread(c->exp->arg, p + NBD_SIMPLE_REPLY_LEN, c->len, c->off);
		out->n = mark;
		if (rc < 0)
			return put_simple(out, errno_to_nbd(-rc), c->cookie);
		put_simple(out, 0, c->cookie); /* space is reserved: cannot fail */
		out->n += c->len;
		return 0;
	}
	rc = c->type == NBD_CMD_FLUSH ? do_flush(c) : do_mutate(c, data);
	return put_simple(out, rc < 0 ? errno_to_nbd(-rc) : 0, c->cookie);
}

static int
feed_reqhdr(struct nbd_conn *c, const uint8_t *buf, size_t n, struct nbd_out *out)
{
	struct nbd_cur cur = nbd_cur_make(buf, n);
	uint32_t magic = nbd_cur_u32(&cur);

	c->flags = nbd_cur_u16(&cur);
	c->type = nbd_cur_u16(&cur);
	c->cookie = nbd_cur_u64(&cur);
	c->off = nbd_cur_u64(&cur);
	c->len = nbd_cur_u32(&cur);
	if (cur.bad || magic != NBD_REQUEST_MAGIC || c->type == NBD_CMD_DISC) {
		c->phase = NBD_PH_CLOSED;
		return 0;
	}
	if (c->type != NBD_CMD_WRITE)
		return req_exec(c, NULL, out);
	if (c->len > NBD_MAX_PAYLOAD) {
		c->discard = c->len;
		c->discard_err = NBD_EINVAL;
		c->after = NBD_PH_REQHDR;
		c->phase = NBD_PH_DISCARD;
		return 0;
	}
	if (c->len == 0)
		return req_exec(c, NULL, out);
	c->phase = NBD_PH_PAYLOAD;
	return 0;
}

int
nbd_conn_feed(struct nbd_conn *c, const uint8_t *buf, size_t n, struct nbd_out *out)
{
	struct nbd_cur cur;
	uint32_t cflags;

	if (n != nbd_conn_need(c) || c->phase == NBD_PH_CLOSED)
		return -EINVAL;
	switch (c->phase) {
	case NBD_PH_CFLAGS:
		cur = nbd_cur_make(buf, n);
		cflags = nbd_cur_u32(&cur);
		if (cur.bad || (cflags & ~NBD_FLAG_C_KNOWN) ||
		    !(cflags & NBD_FLAG_C_FIXED_NEWSTYLE)) {
			c->phase = NBD_PH_CLOSED;
			return 0;
		}
		c->no_zeroes = cflags & NBD_FLAG_C_NO_ZEROES;
		c->phase = NBD_PH_OPTHDR;
		return 0;
	case NBD_PH_OPTHDR:
		return feed_opthdr(c, buf, n, out);
	case NBD_PH_OPTDATA:
		return opt_handle(c, buf, c->optlen, out);
	case NBD_PH_REQHDR:
		return feed_reqhdr(c, buf, n, out);
	case NBD_PH_PAYLOAD:
		return req_exec(c, buf, out);
	case NBD_PH_DISCARD:
		c->discard -= n;
		if (c->discard > 0)
			return 0;
		c->phase = c->after;
		return c->discard_err ? put_simple(out, c->discard_err, c->cookie) : 0;
	case NBD_PH_CLOSED:
		break;
	}
	return -EINVAL;
}
