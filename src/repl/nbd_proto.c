/*
 * nbd_proto.c - the NBD protocol core: handshake options and transmission
 * commands as a byte-in / byte-out state machine with no socket I/O, so the
 * blocking loop in nbd_server.c and a later libuv loop drive it the same way.
 * Replies are encoded by nbd_reply.c.
 *
 * Source: NetworkBlockDevice doc/proto.md (fixed newstyle negotiation,
 * structured replies, metadata querying, TLS). Choices where the spec leaves
 * room:
 * - Fixed newstyle only: a client without NBD_FLAG_C_FIXED_NEWSTYLE, or with
 *   unknown client flags, is disconnected.
 * - Option data longer than NBD_MAX_OPT_LEN is read and discarded and
 *   answered NBD_REP_ERR_TOO_BIG (EXPORT_NAME, which has no error reply,
 *   closes instead); unknown options get NBD_REP_ERR_UNSUP and
 *   negotiation continues. Bad option or request magic closes at once.
 * - NBD_INFO_NAME and NBD_INFO_BLOCK_SIZE are sent only when requested.
 * - TLS: without a configuration STARTTLS gets NBD_REP_ERR_POLICY. When TLS
 *   is required, every option before it but STARTTLS and ABORT (oversized
 *   ones too) gets NBD_REP_ERR_TLS_REQD and EXPORT_NAME hangs up. A
 *   successful STARTTLS forgets structured replies and meta contexts.
 * - Meta contexts: only base:allocation. LIST and SET need structured
 *   replies (else NBD_REP_ERR_INVALID), as does a query without a
 *   namespace; an unknown export is NBD_REP_ERR_UNKNOWN; unknown namespaces
 *   and leaves are ignored. LIST with no query or "base:" lists it.
 *   BLOCK_STATUS works only when the last SET selected it for the export
 *   that GO/EXPORT_NAME then opened.
 * - Zero-length READ/WRITE/TRIM/WRITE_ZEROES/BLOCK_STATUS answer
 *   NBD_EINVAL. Reads or writes above NBD_MAX_PAYLOAD answer NBD_EINVAL (a
 *   WRITE's payload is read and discarded first so the stream stays in
 *   sync). Out of range: READ, TRIM and BLOCK_STATUS answer NBD_EINVAL,
 *   WRITE and WRITE_ZEROES NBD_ENOSPC (proto.md).
 * - Command flags a command does not take (DF without structured replies,
 *   REQ_ONE but on BLOCK_STATUS, FAST_ZERO, unknown) answer NBD_EINVAL;
 *   FUA is accepted on every command.
 * Invariants: every decoder reads through an nbd_cur; a reply is appended to
 * out only after the backing file and the hook are done with the request.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "repl/nbd_internal.h"
#include "repl/nbd_wire.h"

/* ---- handshake ---------------------------------------------------------- */

static uint16_t
trans_flags(const struct nbd_conn *c, const struct nbd_export *e)
{
	uint16_t f = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA;
	if (c->structured)
		f |= NBD_FLAG_SEND_DF;
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
	p = nbd_out_reserve(out, NBD_GREETING_LEN);
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

bool
nbd_conn_tls_pending(const struct nbd_conn *c)
{
	return c->phase == NBD_PH_TLS;
}

void
nbd_conn_tls_done(struct nbd_conn *c, bool ok)
{
	if (c->phase != NBD_PH_TLS)
		return;
	c->tls = ok;
	c->phase = ok ? NBD_PH_OPTHDR : NBD_PH_CLOSED;
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
	case NBD_PH_TLS:
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
		uint8_t *p = nbd_put_rep(out, NBD_OPT_LIST, NBD_REP_SERVER, 4 + n);
		if (!p)
			return -ENOMEM;
		nbd_put_be(p, n, 4);
		memcpy(p + 4, e->name, n);
	}
	return nbd_put_rep0(out, NBD_OPT_LIST, NBD_REP_ACK);
}

/* GO or EXPORT_NAME succeeded: base:allocation is active when the last
 * SET_META_CONTEXT selected it for this very export. */
static void
enter_transmission(struct nbd_conn *c, struct nbd_export *e)
{
	c->exp = e;
	c->block_status = c->meta_alloc && c->meta_exp == e;
	c->phase = NBD_PH_REQHDR;
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
		return nbd_put_rep0(out, c->opt, NBD_REP_ERR_INVALID);
	e = nbd_find_export(c->srv, (const char *)name, nlen);
	if (!e)
		return nbd_put_rep0(out, c->opt, NBD_REP_ERR_UNKNOWN);

	if (want_name) {
		uint32_t n = (uint32_t)strlen(e->name);
		if (!(p = nbd_put_rep(out, c->opt, NBD_REP_INFO, 2 + n)))
			return -ENOMEM;
		nbd_put_be(p, NBD_INFO_NAME, 2);
		memcpy(p + 2, e->name, n);
	}
	if (want_bs) {
		if (!(p = nbd_put_rep(out, c->opt, NBD_REP_INFO, 14)))
			return -ENOMEM;
		nbd_put_be(p, NBD_INFO_BLOCK_SIZE, 2);
		nbd_put_be(p + 2, NBD_MIN_BLOCK, 4);
		nbd_put_be(p + 6, NBD_PREF_BLOCK, 4);
		nbd_put_be(p + 10, NBD_MAX_PAYLOAD, 4);
	}
	if (!(p = nbd_put_rep(out, c->opt, NBD_REP_INFO, 12)))
		return -ENOMEM;
	nbd_put_be(p, NBD_INFO_EXPORT, 2);
	nbd_put_be(p + 2, e->size, 8);
	nbd_put_be(p + 10, trans_flags(c, e), 2);
	if (nbd_put_rep0(out, c->opt, NBD_REP_ACK) < 0)
		return -ENOMEM;
	if (c->opt == NBD_OPT_GO)
		enter_transmission(c, e);
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
	if (!(p = nbd_out_reserve(out, n)))
		return -ENOMEM;
	memset(p, 0, n);
	nbd_put_be(p, e->size, 8);
	nbd_put_be(p + 8, trans_flags(c, e), 2);
	enter_transmission(c, e);
	return 0;
}

/* NBD_OPT_STARTTLS: after the ACK the caller runs the handshake (phase TLS);
 * nothing negotiated in the clear survives it (proto.md). */
static int
opt_starttls(struct nbd_conn *c, uint32_t len, struct nbd_out *out)
{
	if (!c->srv->tls)
		return nbd_put_rep0(out, c->opt, NBD_REP_ERR_POLICY);
	if (len != 0 || c->tls)
		return nbd_put_rep0(out, c->opt, NBD_REP_ERR_INVALID);
	if (nbd_put_rep0(out, c->opt, NBD_REP_ACK) < 0)
		return -ENOMEM;
	c->structured = c->meta_alloc = false;
	c->meta_exp = NULL;
	c->phase = NBD_PH_TLS;
	return 0;
}

/* Whether a well-formed query selects (SET) or lists (LIST) base:allocation. */
static bool
meta_match(bool set, const uint8_t *q, uint32_t n)
{
	size_t an = strlen(NBD_META_BASE_ALLOC), bn = strlen(NBD_META_NS_BASE);
	if (n == an && memcmp(q, NBD_META_BASE_ALLOC, an) == 0)
		return true;
	return !set && n == bn && memcmp(q, NBD_META_NS_BASE, bn) == 0;
}

/* Reads LIST/SET_META_CONTEXT's queries; *alloc: one names base:allocation.
 * false when the data is malformed or a query has no namespace. */
static bool
meta_queries(struct nbd_cur *cur, bool set, bool *alloc)
{
	uint32_t nq = nbd_cur_u32(cur);
	bool ok = true;

	*alloc = false;
	for (uint32_t i = 0; i < nq && !cur->bad; i++) {
		uint32_t qlen = nbd_cur_u32(cur);
		const uint8_t *q = nbd_cur_bytes(cur, qlen);
		if (cur->bad)
			break;
		ok &= qlen > 0 && qlen <= NBD_MAX_STRING && memchr(q, ':', qlen) != NULL;
		*alloc |= meta_match(set, q, qlen);
	}
	if (!set && nq == 0) /* no query lists everything */
		*alloc = true;
	return ok && !cur->bad && nbd_cur_left(cur) == 0;
}

/* NBD_OPT_LIST_META_CONTEXT and NBD_OPT_SET_META_CONTEXT: u32 name length,
 * name, u32 query count, (u32 length, query)... A SET replaces the
 * selection even when it fails. */
static int
opt_meta(struct nbd_conn *c, const uint8_t *data, uint32_t len, struct nbd_out *out)
{
	struct nbd_cur cur = nbd_cur_make(data, len);
	bool set = c->opt == NBD_OPT_SET_META_CONTEXT, alloc;
	uint32_t nlen = nbd_cur_u32(&cur), n = (uint32_t)strlen(NBD_META_BASE_ALLOC);
	const uint8_t *name = nbd_cur_bytes(&cur, nlen);
	struct nbd_export *e;
	uint8_t *p;

	if (set)
		c->meta_alloc = false, c->meta_exp = NULL;
	if (!meta_queries(&cur, set, &alloc) || nlen > NBD_MAX_STRING || !c->structured)
		return nbd_put_rep0(out, c->opt, NBD_REP_ERR_INVALID);
	e = nbd_find_export(c->srv, (const char *)name, nlen);
	if (!e)
		return nbd_put_rep0(out, c->opt, NBD_REP_ERR_UNKNOWN);
	if (alloc) {
		if (!(p = nbd_put_rep(out, c->opt, NBD_REP_META_CONTEXT, 4 + n)))
			return -ENOMEM;
		nbd_put_be(p, set ? NBD_META_BASE_ALLOC_ID : 0, 4);
		memcpy(p + 4, NBD_META_BASE_ALLOC, n);
	}
	if (nbd_put_rep0(out, c->opt, NBD_REP_ACK) < 0)
		return -ENOMEM;
	if (set)
		c->meta_alloc = alloc, c->meta_exp = e;
	return 0;
}

/* FORCEDTLS: before TLS, only STARTTLS and ABORT are answered normally. */
static bool
tls_refuses(const struct nbd_conn *c)
{
	return c->srv->tls_required && !c->tls && c->opt != NBD_OPT_STARTTLS &&
	       c->opt != NBD_OPT_ABORT;
}

static int
opt_handle(struct nbd_conn *c, const uint8_t *data, uint32_t len, struct nbd_out *out)
{
	c->phase = NBD_PH_OPTHDR;
	if (tls_refuses(c) && c->opt == NBD_OPT_EXPORT_NAME) {
		c->phase = NBD_PH_CLOSED; /* EXPORT_NAME has no error reply */
		return 0;
	}
	if (tls_refuses(c))
		return nbd_put_rep0(out, c->opt, NBD_REP_ERR_TLS_REQD);
	switch (c->opt) {
	case NBD_OPT_EXPORT_NAME:
		return opt_export_name(c, data, len, out);
	case NBD_OPT_ABORT:
		c->phase = NBD_PH_CLOSED;
		return nbd_put_rep0(out, c->opt, NBD_REP_ACK);
	case NBD_OPT_LIST:
		if (len != 0)
			return nbd_put_rep0(out, c->opt, NBD_REP_ERR_INVALID);
		return opt_list(c, out);
	case NBD_OPT_STARTTLS:
		return opt_starttls(c, len, out);
	case NBD_OPT_INFO:
	case NBD_OPT_GO:
		return opt_info(c, data, len, out);
	case NBD_OPT_STRUCTURED_REPLY:
		if (len != 0)
			return nbd_put_rep0(out, c->opt, NBD_REP_ERR_INVALID);
		c->structured = true;
		return nbd_put_rep0(out, c->opt, NBD_REP_ACK);
	case NBD_OPT_LIST_META_CONTEXT:
	case NBD_OPT_SET_META_CONTEXT:
		return opt_meta(c, data, len, out);
	default:
		return nbd_put_rep0(out, c->opt, NBD_REP_ERR_UNSUP);
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
		return nbd_put_rep0(out, c->opt,
		                    tls_refuses(c) ? NBD_REP_ERR_TLS_REQD : NBD_REP_ERR_TOO_BIG);
	}
	if (c->optlen == 0)
		return opt_handle(c, NULL, 0, out);
	c->phase = NBD_PH_OPTDATA;
	return 0;
}

/* ---- transmission ------------------------------------------------------- */

/* Validates the current request; returns an NBD error or 0. */
static uint32_t
req_check(const struct nbd_conn *c)
{
	const struct nbd_export *e = c->exp;
	uint16_t allowed = NBD_CMD_FLAG_FUA;
	bool mut =
	    c->type == NBD_CMD_WRITE || c->type == NBD_CMD_TRIM || c->type == NBD_CMD_WRITE_ZEROES;

	switch (c->type) {
	case NBD_CMD_READ:
		allowed |= c->structured ? NBD_CMD_FLAG_DF : 0;
		break;
	case NBD_CMD_WRITE_ZEROES:
		allowed |= NBD_CMD_FLAG_NO_HOLE;
		break;
	case NBD_CMD_BLOCK_STATUS:
		if (!c->block_status) /* no context selected (so maybe no structured replies) */
			return NBD_EINVAL;
		allowed |= NBD_CMD_FLAG_REQ_ONE;
		break;
	case NBD_CMD_WRITE:
	case NBD_CMD_FLUSH:
	case NBD_CMD_TRIM:
		break;
	default: /* CACHE is not advertised; DISC never gets here */
		return NBD_EINVAL;
	}
	if (c->flags & ~allowed)
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
	if (h->on_prepare && (rc = hook_rc(h->on_prepare(c->srv->ctx, e->name, c->off, c->len)))) {
		pthread_mutex_unlock(&e->mu);
		return rc;
	}
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

/* With on_prepare_many, the batch's writes reach the file here: the hook for all
 * of them, then each pwrite. errs[i] gets write i's error; the writes that
 * reached the file are compacted into ok (in order). */
static size_t
write_batch(struct nbd_conn *c, int *errs, struct nbd_write *ok)
{
	struct nbd_export *e = c->exp;
	int rc = hook_rc(c->srv->hooks.on_prepare_many(c->srv->ctx, e->name, c->pend, c->npend));
	size_t k = 0;
	for (size_t i = 0; i < c->npend; i++) {
		errs[i] = rc ? rc
		             : e->ops.pwrite(e->arg, c->pend[i].data, c->pend[i].len,
		                             c->pend[i].off, false);
		if (!errs[i])
			ok[k++] = c->pend[i];
	}
	return k;
}

int
nbd_conn_flush(struct nbd_conn *c, struct nbd_out *out)
{
	if (!c->npend)
		return 0;
	struct nbd_export *e = c->exp;
	const struct nbd_hooks *h = &c->srv->hooks;
	int errs[NBD_PEND] = {0};
	struct nbd_write ok[NBD_PEND];
	const struct nbd_write *done = c->pend;
	size_t n = c->npend;
	if (h->on_prepare_many) {
		n = write_batch(c, errs, ok);
		done = ok;
	}
	int rc = n ? hook_rc(h->on_writes(c->srv->ctx, e->name, done, n)) : 0;
	pthread_mutex_unlock(&e->mu);
	uint64_t cookie = c->cookie;
	int orc = 0;
	for (size_t i = 0; i < c->npend && out && !orc; i++) {
		int r = errs[i] ? errs[i] : rc;
		c->cookie = c->pend_cookie[i];
		orc = nbd_reply_status(c, r < 0 ? nbd_errno_to_nbd(-r) : 0, out);
	}
	c->cookie = cookie;
	c->npend = 0;
	return orc;
}

/* A plain WRITE with on_writes set: to the backing file now (the export's lock
 * taken by the first of a batch), or with on_prepare_many at nbd_conn_flush; its
 * hook and reply at nbd_conn_flush. */
static int
write_deferred(struct nbd_conn *c, const uint8_t *data, struct nbd_out *out)
{
	struct nbd_export *e = c->exp;
	int rc = c->npend == NBD_PEND ? nbd_conn_flush(c, out) : 0;
	if (rc)
		return rc;
	if (!c->npend)
		pthread_mutex_lock(&e->mu);
	const struct nbd_hooks *h = &c->srv->hooks;
	if (h->on_prepare_many) /* to the file at nbd_conn_flush, all prepared at once */
		rc = 0;
	else if (h->on_prepare)
		rc = hook_rc(h->on_prepare(c->srv->ctx, e->name, c->off, c->len));
	if (!rc && !h->on_prepare_many)
		rc = e->ops.pwrite(e->arg, data, c->len, c->off, false);
	if (rc) {
		if (!c->npend)
			pthread_mutex_unlock(&e->mu);
		return nbd_reply_status(c, nbd_errno_to_nbd(-rc), out);
	}
	c->pend[c->npend] = (struct nbd_write){c->off, data, c->len};
	c->pend_cookie[c->npend++] = c->cookie;
	return 0;
}

/* Executes the current request (its WRITE payload in data) and replies. */
static int
req_exec(struct nbd_conn *c, const uint8_t *data, struct nbd_out *out)
{
	uint32_t err = req_check(c);
	int rc = 0;

	c->phase = NBD_PH_REQHDR;
	if (!err && c->type == NBD_CMD_WRITE && !(c->flags & NBD_CMD_FLAG_FUA) &&
	    c->srv->hooks.on_writes)
		return write_deferred(c, data, out);
	if ((rc = nbd_conn_flush(c, out)) != 0) /* what came before goes first */
		return rc;
	if (err)
		return nbd_reply_status(c, err, out);
	if (c->type == NBD_CMD_READ)
		return nbd_reply_read(c, out);
	if (c->type == NBD_CMD_BLOCK_STATUS)
		return nbd_reply_block_status(c, out);
	rc = c->type == NBD_CMD_FLUSH ? do_flush(c) : do_mutate(c, data);
	return nbd_reply_status(c, rc < 0 ? nbd_errno_to_nbd(-rc) : 0, out);
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
		return c->discard_err ? nbd_reply_status(c, c->discard_err, out) : 0;
	case NBD_PH_TLS: /* the caller owes nbd_conn_tls_done() */
	case NBD_PH_CLOSED:
		break;
	}
	return -EINVAL;
}
