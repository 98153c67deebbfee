/*
 * fuzz_nbd.c - libFuzzer target for the NBD protocol core (nbd_proto.c,
 * nbd_reply.c).
 *
 * The core does no socket I/O, so the target drives it directly: it asks
 * nbd_conn_need() for the next read and feeds that many input bytes until
 * the input runs out or the connection closes. The first input byte picks
 * the mode:
 *   bit 0  a valid handshake (fixed newstyle, NO_ZEROES, NBD_OPT_GO for the
 *          default export) is fed first, so the fuzzer spends its time on
 *          the transmission phase as well as on negotiation;
 *   bit 1  before that GO, structured replies and base:allocation are
 *          negotiated, so READ answers in chunks and BLOCK_STATUS works;
 *   bits 2-3  the server's TLS mode: none, optional, required. The core
 *          only asks whether TLS is configured and required, so a stand-in
 *          configuration is set (never used for a handshake: when STARTTLS
 *          is acknowledged, the next input byte says whether the
 *          handshake "succeeded");
 *   bit 4  batched writes: on_writes and on_prepare hooks are set (each
 *          failing for some lengths), so plain WRITEs wait for
 *          nbd_conn_flush, which runs before any other request, when a
 *          batch is full, and at the input's end;
 *   bit 5  with bit 4, on_prepare_many too (failing for some lengths):
 *          the batch's writes reach the file at the flush.
 * The export is a 1 MiB temporary file with two data ranges among holes,
 * so WRITE, TRIM and WRITE_ZEROES really reach a disk and READ and
 * BLOCK_STATUS see extents. Properties, each an abort when broken:
 *   - a feed never fails with anything but -ENOMEM;
 *   - a closed connection asks for nothing more; an open one asks for at
 *     least one byte unless it waits for the TLS handshake;
 *   - one feed never produces more than one maximal reply (32 MiB, chunk
 *     headers for NBD_MAX_EXTENTS extents) or one negotiation answer;
 *   - every transmission reply is well-formed: a simple reply (with the
 *     data of a successful simple READ, never to a structured READ), or
 *     structured chunks of which exactly the last is marked DONE;
 *   - a flush answers exactly the writes of its batch (those on_writes
 *     got; with on_prepare_many, every write it was given), each with a
 *     reply without data, before the reply of the request that caused it.
 * ASan, UBSan and LeakSanitizer catch the rest.
 */
#include "repl/nbd.h"
#include "repl/nbd_internal.h"
#include "repl/nbd_wire.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct nbd_server *srv;
static int tls_standin; /* srv->tls points here in TLS modes; never dereferenced */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char path[] = "/tmp/strait-fuzz-nbd-XXXXXX";
	static uint8_t data[65536];
	int fd = mkstemp(path);
	memset(data, 0x5a, sizeof(data));
	if (fd < 0 || ftruncate(fd, 1 << 20) != 0 || pwrite(fd, data, 4096, 256 << 10) != 4096 ||
	    pwrite(fd, data, sizeof(data), 512 << 10) != (ssize_t)sizeof(data)) {
		perror("fuzz_nbd: temporary export");
		abort();
	}
	close(fd);
	if (nbd_server_new(NULL, NULL, &srv) != 0 ||
	    nbd_server_add_export(srv, "disk", path, false) != 0) {
		fprintf(stderr, "fuzz_nbd: cannot set up the server\n");
		abort();
	}
	unlink(path); /* the export keeps its descriptor */
	return 0;
}

/* Batched writes: the replies a flush owes (on_writes' writes, or with
 * on_prepare_many the writes it was given), counted. */
static size_t batched;
static bool many;

static int
fz_writes(void *ctx, const char *export, const struct nbd_write *w, size_t n)
{
	(void)ctx, (void)export;
	if (n == 0 || n > NBD_PEND)
		abort();
	if (!many)
		batched += n;
	return w[0].len % 7 == 3 ? -EIO : 0;
}

static int
fz_prepare_many(void *ctx, const char *export, const struct nbd_write *w, size_t n)
{
	(void)ctx, (void)export;
	if (n == 0 || n > NBD_PEND)
		abort();
	batched += n;
	return w[n - 1].len % 13 == 6 ? -EIO : 0;
}

static int
fz_prepare(void *ctx, const char *export, uint64_t off, uint32_t len)
{
	(void)ctx, (void)export, (void)off;
	return len % 11 == 5 ? -EIO : 0;
}

static void
die(const char *why)
{
	fprintf(stderr, "fuzz_nbd: %s\n", why);
	abort();
}

static uint64_t
get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Skips k replies without data (a flush's) at the start of out; returns their
 * bytes. */
static size_t
skip_flushed(const struct nbd_conn *c, const struct nbd_out *out, size_t k)
{
	size_t off = 0;
	for (size_t i = 0; i < k; i++) {
		if (out->n - off >= NBD_SIMPLE_REPLY_LEN &&
		    get(out->p + off, 4) == NBD_SIMPLE_REPLY_MAGIC) {
			off += NBD_SIMPLE_REPLY_LEN;
			continue;
		}
		if (!c->structured || out->n - off < NBD_CHUNK_HDR_LEN ||
		    get(out->p + off, 4) != NBD_STRUCTURED_REPLY_MAGIC ||
		    !(get(out->p + off + 4, 2) & NBD_REPLY_FLAG_DONE))
			die("a flushed write's reply is missing or malformed");
		off += NBD_CHUNK_HDR_LEN + get(out->p + off + 16, 4);
		if (off > out->n)
			die("a flushed write's error chunk is longer than what was sent");
	}
	return off;
}

/* The bytes one transmission feed appended are one well-formed reply. */
static void
check_reply(const struct nbd_conn *c, const struct nbd_out *out)
{
	size_t off = 0;
	if (out->n < 16)
		die("a reply shorter than a simple reply");
	if (get(out->p, 4) == NBD_SIMPLE_REPLY_MAGIC) {
		bool data = c->type == NBD_CMD_READ && get(out->p + 4, 4) == 0;
		if (c->structured && c->type == NBD_CMD_READ)
			die("a simple reply to a READ with structured replies");
		if (out->n != NBD_SIMPLE_REPLY_LEN + (data ? c->len : 0))
			die("a simple reply of the wrong length");
		return;
	}
	if (!c->structured)
		die("a structured reply that was not negotiated");
	for (bool done = false; !done;) {
		if (out->n - off < NBD_CHUNK_HDR_LEN ||
		    get(out->p + off, 4) != NBD_STRUCTURED_REPLY_MAGIC)
			die("a truncated chunk or a bad chunk magic");
		done = get(out->p + off + 4, 2) & NBD_REPLY_FLAG_DONE;
		off += NBD_CHUNK_HDR_LEN + get(out->p + off + 16, 4);
		if (off > out->n)
			die("a chunk longer than what was sent");
	}
	if (off != out->n)
		die("bytes after the chunk marked DONE");
}

static void
feed_all(struct nbd_conn *c, const uint8_t *p, size_t n, struct nbd_out *out)
{
	while (!nbd_conn_closed(c)) {
		size_t need = nbd_conn_need(c);
		if (nbd_conn_tls_pending(c)) { /* the "handshake" takes one byte */
			if (need != 0)
				die("waiting for TLS but asking for bytes");
			if (n == 0)
				return;
			nbd_conn_tls_done(c, *p & 1);
			p++, n--;
			continue;
		}
		if (need == 0)
			die("open connection asks for 0 bytes");
		if (need > n)
			return;
		enum nbd_phase ph = c->phase;
		out->n = 0;
		size_t b0 = batched;
		int rc = nbd_conn_feed(c, p, need, out);
		if (rc != 0 && rc != -ENOMEM) {
			fprintf(stderr, "fuzz_nbd: feed failed: %d\n", rc);
			abort();
		}
		if (out->n > NBD_MAX_STRING + (32u << 20) + 32u * NBD_MAX_EXTENTS + 4096u)
			die("one feed produced too many bytes");
		if (rc == 0 && out->n &&
		    (ph == NBD_PH_REQHDR || ph == NBD_PH_PAYLOAD || ph == NBD_PH_DISCARD)) {
			size_t f = skip_flushed(c, out, batched - b0);
			struct nbd_out rest = {out->p + f, out->n - f, 0};
			if (rest.n)
				check_reply(c, &rest);
		} else if (rc == 0 && batched != b0) {
			die("writes flushed outside the transmission phase");
		}
		p += need;
		n -= need;
	}
	if (nbd_conn_need(c) != 0)
		die("closed connection still asks for bytes");
}

/* Appends an option header (and len data bytes from d) at p; returns its end. */
static uint8_t *
put_opt(uint8_t *p, uint32_t opt, const void *d, uint32_t len)
{
	nbd_put_be(p, NBD_IHAVEOPT, 8);
	nbd_put_be(p + 8, opt, 4);
	nbd_put_be(p + 12, len, 4);
	if (len)
		memcpy(p + 16, d, len);
	return p + 16 + len;
}

/* Client flags, [STRUCTURED_REPLY, SET_META_CONTEXT base:allocation], GO. */
static void
handshake(struct nbd_conn *c, bool structured, struct nbd_out *out)
{
	/* the default export (name length 0), one info request: NBD_INFO_NAME */
	static const uint8_t go[8] = {0, 0, 0, 0, 0, 1, 0, NBD_INFO_NAME};
	uint8_t hs[256], meta[64], *p = hs + 4, *m = meta;
	uint32_t ql = (uint32_t)strlen(NBD_META_BASE_ALLOC);

	nbd_put_be(hs, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES, 4);
	if (structured) {
		nbd_put_be(m, 0, 4); /* default export, one query */
		nbd_put_be(m + 4, 1, 4);
		nbd_put_be(m + 8, ql, 4);
		memcpy(m + 12, NBD_META_BASE_ALLOC, ql);
		p = put_opt(p, NBD_OPT_STRUCTURED_REPLY, NULL, 0);
		p = put_opt(p, NBD_OPT_SET_META_CONTEXT, meta, 12 + ql);
	}
	p = put_opt(p, NBD_OPT_GO, go, sizeof(go));
	feed_all(c, hs, (size_t)(p - hs), out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nbd_out out = {0};
	struct nbd_conn c;
	if (size == 0)
		return 0;
	srv->tls = (data[0] >> 2) & 3 ? (struct nbd_tls *)&tls_standin : NULL;
	srv->tls_required = ((data[0] >> 2) & 3) == 2;
	srv->hooks.on_writes = data[0] & 16 ? fz_writes : NULL;
	srv->hooks.on_prepare = data[0] & 16 ? fz_prepare : NULL;
	many = (data[0] & 48) == 48;
	srv->hooks.on_prepare_many = many ? fz_prepare_many : NULL;
	nbd_conn_init(&c, srv, &out);
	if (data[0] & 1)
		handshake(&c, data[0] & 2, &out);
	feed_all(&c, data + 1, size - 1, &out); /* after the mode byte */
	out.n = 0;
	size_t b0 = batched;
	if (nbd_conn_flush(&c, &out) == 0 && skip_flushed(&c, &out, batched - b0) != out.n)
		die("a flush at the end sent more than its writes' replies");
	if (c.npend)
		die("writes still wait after a flush");
	nbd_out_free(&out);
	return 0;
}
