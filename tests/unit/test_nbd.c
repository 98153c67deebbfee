/*
 * test_nbd.c - the NBD capture server over a socketpair: the handshake and
 * every command, byte by byte, malformed input (bad magic, truncated and
 * oversized options, out-of-range and oversized requests, unknown commands),
 * the write hooks (one at a time, and batched: on_writes gets a batch's
 * plain WRITEs in order, before any other request runs), TCP and Unix
 * listeners; structured replies, meta
 * contexts and BLOCK_STATUS on a sparse file; STARTTLS (optional and
 * required, mutual TLS) with an OpenSSL client and certificates the openssl
 * tool makes (a missing tool fails the TLS tests, never skips them).
 *
 * With --serve SOCKET [--tcp PORTFILE] [--tls-cert F --tls-key F
 * [--tls-ca F] [--tls-required]] NAME=PATH[:ro]... it instead serves files
 * on a Unix socket (and on 127.0.0.1, its port written to PORTFILE) until
 * SIGTERM/SIGINT: tests/scripts/nbd.sh and nbd-tls.sh drive real clients
 * (qemu-img, qemu-io, nbdsh, nbdcopy, nbdinfo, fio) against that mode.
 * With --make-certs DIR it writes the test PKI those scripts use: a CA,
 * server and client certificates it signed (for localhost and 127.0.0.1),
 * and a client certificate of another CA (rogue-*.pem).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <openssl/ssl.h>

#include "repl/nbd.h"
#include "repl/nbd_wire.h"

#define DISK_SIZE (1024u * 1024)
/* the sparse export: a hole, SP_DLEN bytes of 0xab at SP_DATA, a hole */
#define SP_DATA (256u * 1024)
#define SP_DLEN (64u * 1024)

struct hook_log {
	int writes, flushes, trims, zeroes;
	char exp[64];
	uint64_t off;
	uint32_t len;
	bool fua;
	uint8_t first; /* first data byte of the last write */
	bool fail;
	int batches, batched; /* on_writes calls, and the writes they carried */
	int prepares;         /* on_prepare calls */
	bool fail_prepare;
	int prepared_many, prepared; /* on_prepare_many calls, and the writes they carried */
	bool file_untouched;         /* every on_prepare_many saw the file without its writes */
	char path[64];               /* the export's file, to look at from a hook */
	uint64_t boff[32];           /* each batched write's offset and first byte, in order */
	uint8_t bfirst[32];
};

struct fx {
	char path[64], path_ro[64], path_sp[64];
	struct nbd_server *s;
	struct hook_log log;
	int sv[2];
	pthread_t tid;
};

/* ---- hooks -------------------------------------------------------------- */

static void
note(struct hook_log *l, const char *exp, uint64_t off, uint32_t len, bool fua)
{
	snprintf(l->exp, sizeof(l->exp), "%s", exp);
	l->off = off, l->len = len, l->fua = fua;
}

static int
h_write(void *ctx, const char *exp, uint64_t off, const void *data, uint32_t len, bool fua)
{
	struct hook_log *l = ctx;
	l->writes++;
	note(l, exp, off, len, fua);
	l->first = *(const uint8_t *)data;
	return l->fail ? -1 : 0;
}

static int
h_flush(void *ctx, const char *exp)
{
	struct hook_log *l = ctx;
	l->flushes++;
	note(l, exp, 0, 0, false);
	return l->fail ? -1 : 0;
}

static int
h_trim(void *ctx, const char *exp, uint64_t off, uint32_t len, bool fua)
{
	struct hook_log *l = ctx;
	l->trims++;
	note(l, exp, off, len, fua);
	return l->fail ? -1 : 0;
}

static int
h_zero(void *ctx, const char *exp, uint64_t off, uint32_t len, bool fua)
{
	struct hook_log *l = ctx;
	l->zeroes++;
	note(l, exp, off, len, fua);
	return l->fail ? -1 : 0;
}

static int
h_writes(void *ctx, const char *exp, const struct nbd_write *w, size_t n)
{
	struct hook_log *l = ctx;
	l->batches++;
	for (size_t i = 0; i < n; i++, l->batched++)
		if (l->batched < 32) {
			l->boff[l->batched] = w[i].off;
			l->bfirst[l->batched] = *(const uint8_t *)w[i].data;
		}
	note(l, exp, w[n - 1].off, w[n - 1].len, false);
	return l->fail ? -1 : 0;
}

static int
h_prepare(void *ctx, const char *exp, uint64_t off, uint32_t len)
{
	struct hook_log *l = ctx;
	l->prepares++;
	return l->fail_prepare ? -1 : 0;
}

/* on_prepare_many: before any of the batch reaches the file (each write's first
 * byte not there yet: the tests write bytes the file does not hold). */
static int
h_prepare_many(void *ctx, const char *exp, const struct nbd_write *w, size_t n)
{
	struct hook_log *l = ctx;
	l->prepared_many++;
	l->prepared += (int)n;
	int fd = open(l->path, O_RDONLY);
	for (size_t i = 0; i < n && fd >= 0; i++) {
		uint8_t b = 0;
		if (pread(fd, &b, 1, (off_t)w[i].off) == 1 && b == *(const uint8_t *)w[i].data)
			l->file_untouched = false;
	}
	if (fd >= 0)
		close(fd);
	return l->fail_prepare ? -1 : 0;
}

static const struct nbd_hooks hooks = {h_write, h_flush, h_trim, h_zero, NULL, NULL, NULL};
static const struct nbd_hooks hooks_batch = {h_write,  h_flush,   h_trim, h_zero,
                                             h_writes, h_prepare, NULL};
static const struct nbd_hooks hooks_many = {h_write,  h_flush,   h_trim,        h_zero,
                                            h_writes, h_prepare, h_prepare_many};

/* ---- client helpers ----------------------------------------------------- */

/* Once a test has started TLS, every helper below speaks through g_ssl. */
static SSL_CTX *g_ctx;
static SSL *g_ssl;

/* The client's TLS writes to a server that hung up must not kill the test:
 * SIGPIPE is blocked around them and consumed. The server's thread keeps
 * the default disposition, so its own guard stays under test. */
static void
pipe_hold(sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

static void
pipe_release(const sigset_t *old)
{
	struct timespec zero = {0, 0};
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigtimedwait(&set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

static int
ssl_write(const void *p, size_t n)
{
	sigset_t old;
	pipe_hold(&old);
	int w = SSL_write(g_ssl, p, (int)n);
	pipe_release(&old);
	return w;
}

static void
xwrite(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n > 0) {
		ssize_t w = g_ssl ? ssl_write(b, n) : write(fd, b, n);
		assert_true(w > 0);
		b += w, n -= (size_t)w;
	}
}

static void
xread(int fd, void *p, size_t n)
{
	uint8_t *b = p;
	while (n > 0) {
		ssize_t r = g_ssl ? SSL_read(g_ssl, b, (int)n) : read(fd, b, n);
		assert_true(r > 0);
		b += r, n -= (size_t)r;
	}
}

/* The server hung up: read sees EOF (SO_RCVTIMEO keeps a bug from hanging). */
static void
expect_closed(int fd)
{
	uint8_t b;
	if (g_ssl)
		assert_true(SSL_read(g_ssl, &b, 1) <= 0);
	else
		assert_int_equal(read(fd, &b, 1), 0);
}

static uint64_t
be(const uint8_t *p, unsigned n)
{
	struct nbd_cur c = nbd_cur_make(p, n);
	return nbd_cur_uint(&c, n);
}

static void
send_opt_magic(int fd, uint64_t magic, uint32_t opt, const void *data, uint32_t len)
{
	uint8_t h[16];
	nbd_put_be(h, magic, 8);
	nbd_put_be(h + 8, opt, 4);
	nbd_put_be(h + 12, len, 4);
	xwrite(fd, h, 16);
	if (len)
		xwrite(fd, data, len);
}

static void
send_opt(int fd, uint32_t opt, const void *data, uint32_t len)
{
	send_opt_magic(fd, NBD_IHAVEOPT, opt, data, len);
}

/* Reads one option reply; its data (up to 4096 bytes) into data. */
static uint32_t
read_rep(int fd, uint32_t opt, uint8_t *data, uint32_t *len)
{
	uint8_t h[20];
	xread(fd, h, 20);
	assert_true(be(h, 8) == NBD_REP_MAGIC);
	assert_int_equal(be(h + 8, 4), opt);
	*len = (uint32_t)be(h + 16, 4);
	assert_true(*len <= 4096);
	if (*len)
		xread(fd, data, *len);
	return (uint32_t)be(h + 12, 4);
}

static void
expect_rep(int fd, uint32_t opt, uint32_t type)
{
	uint8_t d[4096];
	uint32_t len;
	assert_int_equal(read_rep(fd, opt, d, &len), type);
	assert_int_equal(len, 0);
}

static void
handshake(int fd, uint32_t cflags)
{
	static const uint8_t greet[18] = {'N', 'B', 'D', 'M', 'A', 'G', 'I', 'C', 'I',
	                                  'H', 'A', 'V', 'E', 'O', 'P', 'T', 0,   3};
	uint8_t g[18], f[4];
	xread(fd, g, 18);
	assert_memory_equal(g, greet, 18);
	nbd_put_be(f, cflags, 4);
	xwrite(fd, f, 4);
}

/* INFO/GO data for name with the given info requests. */
static uint32_t
info_data(uint8_t *d, const char *name, const uint16_t *req, uint16_t nreq)
{
	uint32_t n = (uint32_t)strlen(name), o;
	nbd_put_be(d, n, 4);
	memcpy(d + 4, name, n);
	nbd_put_be(d + 4 + n, nreq, 2);
	o = 6 + n;
	for (uint16_t i = 0; i < nreq; i++, o += 2)
		nbd_put_be(d + o, req[i], 2);
	return o;
}

/* GO to name; returns the transmission flags. */
static uint16_t
go(int fd, const char *name, uint64_t *size)
{
	uint8_t d[4096];
	uint32_t len = info_data(d, name, NULL, 0), type;
	send_opt(fd, NBD_OPT_GO, d, len);
	assert_int_equal(read_rep(fd, NBD_OPT_GO, d, &len), NBD_REP_INFO);
	assert_int_equal(len, 12);
	assert_int_equal(be(d, 2), NBD_INFO_EXPORT);
	*size = be(d + 2, 8);
	type = read_rep(fd, NBD_OPT_GO, d + 12, &len);
	assert_int_equal(type, NBD_REP_ACK);
	return (uint16_t)be(d + 10, 2);
}

static void
send_req(int fd, uint16_t flags, uint16_t type, uint64_t cookie, uint64_t off, uint32_t len,
         const void *data)
{
	uint8_t h[28];
	nbd_put_be(h, NBD_REQUEST_MAGIC, 4);
	nbd_put_be(h + 4, flags, 2);
	nbd_put_be(h + 6, type, 2);
	nbd_put_be(h + 8, cookie, 8);
	nbd_put_be(h + 16, off, 8);
	nbd_put_be(h + 24, len, 4);
	xwrite(fd, h, 28);
	if (data)
		xwrite(fd, data, len);
}

/* Reads a simple reply, checks magic and cookie byte by byte; returns error. */
static uint32_t
read_simple(int fd, uint64_t cookie)
{
	uint8_t r[16], want[8];
	xread(fd, r, 16);
	assert_int_equal(be(r, 4), NBD_SIMPLE_REPLY_MAGIC);
	nbd_put_be(want, cookie, 8);
	assert_memory_equal(r + 8, want, 8);
	return (uint32_t)be(r + 4, 4);
}

/* ---- fixture ------------------------------------------------------------ */

static void *
serve_thread(void *arg)
{
	struct fx *f = arg;
	nbd_serve_fd(f->s, f->sv[1]);
	shutdown(f->sv[1], SHUT_RDWR); /* as the server's threads do */
	return NULL;
}

static void
make_file(char *path, uint8_t fill)
{
	uint8_t *b = malloc(DISK_SIZE);
	int fd;
	strcpy(path, "/tmp/test_nbd.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0 && b);
	for (uint32_t i = 0; i < DISK_SIZE; i++)
		b[i] = (uint8_t)(fill ? fill : i * 7);
	assert_int_equal(write(fd, b, DISK_SIZE), DISK_SIZE);
	close(fd);
	free(b);
}

/* A 1 MiB file with data only in [SP_DATA, SP_DATA + SP_DLEN). */
static void
make_sparse(char *path)
{
	uint8_t b[SP_DLEN];
	int fd;
	strcpy(path, "/tmp/test_nbd_sp.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	memset(b, 0xab, sizeof(b));
	assert_int_equal(ftruncate(fd, DISK_SIZE), 0);
	assert_int_equal(pwrite(fd, b, sizeof(b), SP_DATA), (ssize_t)sizeof(b));
	close(fd);
}

/* ---- test PKI (openssl req / x509) --------------------------------------- */

/* Writes ca-*, server-*, client-* (signed by ca) and rogue-* (signed by
 * rogue-ca) into the directory $1. RSA keys and the key usages qemu's and
 * GnuTLS's checks expect. */
static const char cert_script[] =
    "set -e; cd \"$1\"\n"
    "ca() { openssl req -x509 -newkey rsa:2048 -nodes -keyout $1-key.pem -out $1-cert.pem "
    "-days 2 -subj /CN=$1 -addext basicConstraints=critical,CA:TRUE "
    "-addext keyUsage=critical,keyCertSign,cRLSign; }\n"
    "leaf() { openssl req -newkey rsa:2048 -nodes -keyout $1-key.pem -out $1.csr -subj /CN=$1\n"
    "  printf 'basicConstraints=CA:FALSE\\nkeyUsage=digitalSignature,keyEncipherment\\n"
    "extendedKeyUsage=%s\\nsubjectAltName=DNS:localhost,IP:127.0.0.1\\n' $3 >$1.ext\n"
    "  openssl x509 -req -in $1.csr -CA $2-cert.pem -CAkey $2-key.pem -CAcreateserial "
    "-days 2 -extfile $1.ext -out $1-cert.pem; }\n"
    "ca ca; ca rogue-ca; leaf server ca serverAuth; leaf client ca clientAuth\n"
    "leaf rogue rogue-ca clientAuth\n";

/* 0, or -1 with openssl's messages in DIR/openssl.log. */
static int
make_certs(const char *dir)
{
	FILE *p = popen("sh -s", "w");
	if (!p)
		return -1;
	fprintf(p, "set -- '%s'\nexec >\"$1/openssl.log\" 2>&1\n%s", dir, cert_script);
	return pclose(p) == 0 ? 0 : -1;
}

static char certdir[64];

/* The test PKI, made on first use; a missing openssl fails the test. */
static const char *
certs(void)
{
	if (certdir[0])
		return certdir;
	strcpy(certdir, "/tmp/test_nbd_tls.XXXXXX");
	assert_non_null(mkdtemp(certdir));
	if (make_certs(certdir) != 0)
		fail_msg("openssl could not make the test certificates: see %s/openssl.log "
		         "(is openssl installed? scripts/deps.sh)",
		         certdir);
	return certdir;
}

static void
cert_path(char *buf, size_t n, const char *file)
{
	snprintf(buf, n, "%s/%s", certs(), file);
}

enum fx_kind { FX_PLAIN, FX_SPARSE, FX_TLS, FX_TLS_REQUIRED, FX_BATCH, FX_MANY };

static int
fx_setup(void **state, enum fx_kind kind)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct timeval tv = {10, 0};
	make_file(f->path, 0);
	make_file(f->path_ro, 0x5a);
	snprintf(f->log.path, sizeof(f->log.path), "%s", f->path);
	f->log.file_untouched = true;
	assert_int_equal(nbd_server_new(kind == FX_BATCH  ? &hooks_batch
	                                : kind == FX_MANY ? &hooks_many
	                                                  : &hooks,
	                                &f->log, &f->s),
	                 0);
	assert_int_equal(nbd_server_add_export(f->s, "disk", f->path, false), 0);
	assert_int_equal(nbd_server_add_export(f->s, "ro", f->path_ro, true), 0);
	if (kind == FX_SPARSE) {
		make_sparse(f->path_sp);
		assert_int_equal(nbd_server_add_export(f->s, "sparse", f->path_sp, true), 0);
	}
	if (kind == FX_TLS || kind == FX_TLS_REQUIRED) {
		char cert[128], key[128], ca[128], err[256];
		cert_path(cert, sizeof(cert), "server-cert.pem");
		cert_path(key, sizeof(key), "server-key.pem");
		cert_path(ca, sizeof(ca), "ca-cert.pem");
		struct nbd_tls_opts o = {cert, key, ca, kind == FX_TLS_REQUIRED};
		assert_int_equal(nbd_server_set_tls(f->s, &o, err, sizeof(err)), 0);
	}
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, f->sv), 0);
	setsockopt(f->sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(pthread_create(&f->tid, NULL, serve_thread, f), 0);
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	return fx_setup(state, FX_PLAIN);
}

static int
setup_sparse(void **state)
{
	return fx_setup(state, FX_SPARSE);
}

static int
setup_tls(void **state)
{
	return fx_setup(state, FX_TLS);
}

static int
setup_tls_required(void **state)
{
	return fx_setup(state, FX_TLS_REQUIRED);
}

static int
setup_batch(void **state)
{
	return fx_setup(state, FX_BATCH);
}

static int
setup_many(void **state)
{
	return fx_setup(state, FX_MANY);
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	SSL_free(g_ssl);
	SSL_CTX_free(g_ctx);
	g_ssl = NULL, g_ctx = NULL;
	close(f->sv[0]);
	pthread_join(f->tid, NULL);
	close(f->sv[1]);
	nbd_server_free(f->s);
	unlink(f->path);
	unlink(f->path_ro);
	if (f->path_sp[0])
		unlink(f->path_sp);
	free(f);
	return 0;
}

#define FD(state)  (((struct fx *)*(state))->sv[0])
#define LOG(state) (&((struct fx *)*(state))->log)

/* ---- handshake tests ---------------------------------------------------- */

static void
t_bad_client_flags(void **state)
{
	handshake(FD(state), NBD_FLAG_C_FIXED_NEWSTYLE | (1u << 7));
	expect_closed(FD(state));
}

static void
t_not_fixed_newstyle(void **state)
{
	handshake(FD(state), 0);
	expect_closed(FD(state));
}

static void
t_opt_bad_magic(void **state)
{
	handshake(FD(state), NBD_FLAG_C_FIXED_NEWSTYLE);
	send_opt_magic(FD(state), NBD_MAGIC, NBD_OPT_LIST, NULL, 0);
	expect_closed(FD(state));
}

static void
t_list(void **state)
{
	static const uint8_t want[] = {/* REP_SERVER "disk" */
	                               0, 3, 0xe8, 0x89, 0x04, 0x55, 0x65, 0xa9, 0, 0, 0, 3, 0, 0,
	                               0, 2, 0, 0, 0, 8, 0, 0, 0, 4, 'd', 'i', 's', 'k',
	                               /* REP_SERVER "ro" */
	                               0, 3, 0xe8, 0x89, 0x04, 0x55, 0x65, 0xa9, 0, 0, 0, 3, 0, 0,
	                               0, 2, 0, 0, 0, 6, 0, 0, 0, 2, 'r', 'o',
	                               /* ACK */
	                               0, 3, 0xe8, 0x89, 0x04, 0x55, 0x65, 0xa9, 0, 0, 0, 3, 0, 0,
	                               0, 1, 0, 0, 0, 0};
	uint8_t got[sizeof(want)];
	handshake(FD(state), NBD_FLAG_C_FIXED_NEWSTYLE);
	send_opt(FD(state), NBD_OPT_LIST, NULL, 0);
	xread(FD(state), got, sizeof(got));
	assert_memory_equal(got, want, sizeof(want));
	/* LIST with data is invalid, and negotiation goes on */
	send_opt(FD(state), NBD_OPT_LIST, "x", 1);
	expect_rep(FD(state), NBD_OPT_LIST, NBD_REP_ERR_INVALID);
	send_opt(FD(state), NBD_OPT_ABORT, NULL, 0);
	expect_rep(FD(state), NBD_OPT_ABORT, NBD_REP_ACK);
	expect_closed(FD(state));
}

static void
t_info(void **state)
{
	static const uint16_t req[] = {NBD_INFO_NAME, NBD_INFO_BLOCK_SIZE, 77};
	static const uint8_t want_bs[] = {0, 3, 0, 0, 0, 1, 0, 0, 0x10, 0, 0x02, 0, 0, 0};
	static const uint8_t want_exp[] = {0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x6d};
	uint8_t d[4096];
	uint32_t len = info_data(d, "disk", req, 3);
	int fd = FD(state);

	handshake(fd, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
	send_opt(fd, NBD_OPT_INFO, d, len);
	assert_int_equal(read_rep(fd, NBD_OPT_INFO, d, &len), NBD_REP_INFO);
	assert_int_equal(len, 6);
	assert_memory_equal(d, "\0\1disk", 6);
	assert_int_equal(read_rep(fd, NBD_OPT_INFO, d, &len), NBD_REP_INFO);
	assert_int_equal(len, sizeof(want_bs));
	assert_memory_equal(d, want_bs, sizeof(want_bs));
	assert_int_equal(read_rep(fd, NBD_OPT_INFO, d, &len), NBD_REP_INFO);
	assert_int_equal(len, sizeof(want_exp)); /* 1 MiB; HAS_FLAGS|FLUSH|FUA|TRIM|ZEROES */
	assert_memory_equal(d, want_exp, sizeof(want_exp));
	expect_rep(fd, NBD_OPT_INFO, NBD_REP_ACK);

	/* INFO leaves us negotiating: an unknown export, then the read-only one */
	len = info_data(d, "nope", NULL, 0);
	send_opt(fd, NBD_OPT_INFO, d, len);
	expect_rep(fd, NBD_OPT_INFO, NBD_REP_ERR_UNKNOWN);
	uint64_t size;
	uint16_t fl = go(fd, "ro", &size);
	assert_int_equal(size, DISK_SIZE);
	assert_int_equal(fl, NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY | NBD_FLAG_SEND_FLUSH |
	                         NBD_FLAG_SEND_FUA);
	send_req(fd, 0, NBD_CMD_WRITE, 1, 0, 4, "abcd");
	assert_int_equal(read_simple(fd, 1), NBD_EPERM);
	send_req(fd, 0, NBD_CMD_TRIM, 2, 0, 4, NULL);
	assert_int_equal(read_simple(fd, 2), NBD_EPERM);
	send_req(fd, 0, NBD_CMD_READ, 3, 10, 2, NULL);
	assert_int_equal(read_simple(fd, 3), 0);
	xread(fd, d, 2);
	assert_memory_equal(d, "\x5a\x5a", 2);
	assert_int_equal(LOG(state)->writes + LOG(state)->trims, 0);
}

static void
t_default_export(void **state)
{
	uint64_t size;
	handshake(FD(state), NBD_FLAG_C_FIXED_NEWSTYLE);
	assert_int_equal(go(FD(state), "", &size), 0x6d);
}

static void
t_opt_malformed(void **state)
{
	uint8_t d[NBD_MAX_OPT_LEN + 1];
	uint32_t len;
	int fd = FD(state);

	memset(d, 0, sizeof(d));
	handshake(fd, NBD_FLAG_C_FIXED_NEWSTYLE);
	/* unknown options (11 is EXTENDED_HEADERS): ERR_UNSUP, and the next
	 * option still parses */
	send_opt(fd, 11, NULL, 0);
	expect_rep(fd, 11, NBD_REP_ERR_UNSUP);
	send_opt(fd, 0xdeadbeef, "abc", 3);
	expect_rep(fd, 0xdeadbeef, NBD_REP_ERR_UNSUP);
	/* truncated: the name length runs past the option */
	nbd_put_be(d, 100, 4);
	send_opt(fd, NBD_OPT_GO, d, 10);
	expect_rep(fd, NBD_OPT_GO, NBD_REP_ERR_INVALID);
	/* truncated: too short for the name length */
	send_opt(fd, NBD_OPT_INFO, d, 3);
	expect_rep(fd, NBD_OPT_INFO, NBD_REP_ERR_INVALID);
	/* request count says 2, one given */
	len = info_data(d, "disk", (const uint16_t[]){1, 3}, 2);
	send_opt(fd, NBD_OPT_INFO, d, len - 2);
	expect_rep(fd, NBD_OPT_INFO, NBD_REP_ERR_INVALID);
	/* trailing garbage */
	send_opt(fd, NBD_OPT_INFO, d, len + 1);
	expect_rep(fd, NBD_OPT_INFO, NBD_REP_ERR_INVALID);
	/* too large: answered, discarded, still in sync */
	send_opt(fd, NBD_OPT_GO, d, NBD_MAX_OPT_LEN + 1);
	expect_rep(fd, NBD_OPT_GO, NBD_REP_ERR_TOO_BIG);
	uint64_t size;
	assert_int_equal(go(fd, "disk", &size), 0x6d);
	assert_int_equal(size, DISK_SIZE);
}

static void
t_export_name(void **state)
{
	uint8_t r[134], z[124] = {0};
	int fd = FD(state);
	handshake(fd, NBD_FLAG_C_FIXED_NEWSTYLE);
	send_opt(fd, NBD_OPT_EXPORT_NAME, "disk", 4);
	xread(fd, r, 134); /* size, flags, 124 zeroes */
	assert_int_equal(be(r, 8), DISK_SIZE);
	assert_int_equal(be(r + 8, 2), 0x6d);
	assert_memory_equal(r + 10, z, 124);
	send_req(fd, 0, NBD_CMD_FLUSH, 9, 0, 0, NULL);
	assert_int_equal(read_simple(fd, 9), 0);
	assert_int_equal(LOG(state)->flushes, 1);
	assert_string_equal(LOG(state)->exp, "disk");
	send_req(fd, 0, NBD_CMD_DISC, 10, 0, 0, NULL);
	expect_closed(fd);
}

static void
t_export_name_nozeroes(void **state)
{
	uint8_t r[10];
	int fd = FD(state);
	handshake(fd, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
	send_opt(fd, NBD_OPT_EXPORT_NAME, "ro", 2);
	xread(fd, r, 10);
	assert_int_equal(be(r + 8, 2), 0x0f);
	/* the next bytes are a reply, not padding */
	send_req(fd, 0, NBD_CMD_FLUSH, 1, 0, 0, NULL);
	assert_int_equal(read_simple(fd, 1), 0);
}

static void
t_export_name_too_long(void **state)
{
	uint8_t d[NBD_MAX_OPT_LEN + 1];
	memset(d, 'a', sizeof(d));
	handshake(FD(state), NBD_FLAG_C_FIXED_NEWSTYLE);
	send_opt(FD(state), NBD_OPT_EXPORT_NAME, d, sizeof(d));
	expect_closed(FD(state));
}

static void
t_export_name_unknown(void **state)
{
	handshake(FD(state), NBD_FLAG_C_FIXED_NEWSTYLE);
	send_opt(FD(state), NBD_OPT_EXPORT_NAME, "what", 4);
	expect_closed(FD(state));
}

/* ---- transmission tests ------------------------------------------------- */

static int
open_disk(void **state)
{
	uint64_t size;
	handshake(FD(state), NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
	assert_int_equal(go(FD(state), "disk", &size), 0x6d);
	return FD(state);
}

static void
t_write_read(void **state)
{
	int fd = open_disk(state);
	struct hook_log *l = LOG(state);
	uint8_t buf[8192], want[8192];

	memset(want, 0xab, sizeof(want));
	send_req(fd, NBD_CMD_FLAG_FUA, NBD_CMD_WRITE, 0x0102030405060708ULL, 4096, 8192, want);
	assert_int_equal(read_simple(fd, 0x0102030405060708ULL), 0);
	assert_int_equal(l->writes, 1);
	assert_string_equal(l->exp, "disk");
	assert_int_equal(l->off, 4096);
	assert_int_equal(l->len, 8192);
	assert_true(l->fua);
	assert_int_equal(l->first, 0xab);
	send_req(fd, 0, NBD_CMD_READ, 2, 4095, 8192, NULL);
	assert_int_equal(read_simple(fd, 2), 0);
	xread(fd, buf, 8192);
	assert_int_equal(buf[0], (uint8_t)(4095 * 7));
	assert_memory_equal(buf + 1, want, 8191);
	/* last byte of the disk is readable; the next one is not */
	send_req(fd, 0, NBD_CMD_READ, 3, DISK_SIZE - 1, 1, NULL);
	assert_int_equal(read_simple(fd, 3), 0);
	xread(fd, buf, 1);
	assert_int_equal(buf[0], (uint8_t)((DISK_SIZE - 1) * 7));
	send_req(fd, 0, NBD_CMD_WRITE, 4, 0, 4, "wxyz");
	assert_int_equal(read_simple(fd, 4), 0);
	assert_false(l->fua);
	send_req(fd, 0, NBD_CMD_FLUSH, 5, 0, 0, NULL);
	assert_int_equal(read_simple(fd, 5), 0);
	assert_int_equal(l->flushes, 1);
}

static void
t_out_of_range(void **state)
{
	int fd = open_disk(state);
	uint8_t b[16] = {0};
	send_req(fd, 0, NBD_CMD_READ, 1, DISK_SIZE - 1, 2, NULL);
	assert_int_equal(read_simple(fd, 1), NBD_EINVAL);
	send_req(fd, 0, NBD_CMD_READ, 2, UINT64_MAX - 1, 4, NULL); /* off + len wraps */
	assert_int_equal(read_simple(fd, 2), NBD_EINVAL);
	send_req(fd, 0, NBD_CMD_WRITE, 3, DISK_SIZE - 8, 16, b);
	assert_int_equal(read_simple(fd, 3), NBD_ENOSPC);
	send_req(fd, 0, NBD_CMD_TRIM, 4, DISK_SIZE, 1, NULL);
	assert_int_equal(read_simple(fd, 4), NBD_EINVAL);
	send_req(fd, 0, NBD_CMD_WRITE_ZEROES, 5, DISK_SIZE + 4096, 1, NULL);
	assert_int_equal(read_simple(fd, 5), NBD_ENOSPC);
	assert_int_equal(LOG(state)->writes + LOG(state)->trims + LOG(state)->zeroes, 0);
	/* zero-length requests */
	send_req(fd, 0, NBD_CMD_READ, 6, 0, 0, NULL);
	assert_int_equal(read_simple(fd, 6), NBD_EINVAL);
	send_req(fd, 0, NBD_CMD_WRITE, 7, 0, 0, NULL);
	assert_int_equal(read_simple(fd, 7), NBD_EINVAL);
	/* still in sync */
	send_req(fd, 0, NBD_CMD_READ, 8, 0, 1, NULL);
	assert_int_equal(read_simple(fd, 8), 0);
	xread(fd, b, 1);
	assert_int_equal(b[0], 0);
}

static void
t_bad_commands(void **state)
{
	int fd = open_disk(state);
	uint8_t b[1];
	send_req(fd, 0, 99, 1, 0, 1, NULL); /* unknown */
	assert_int_equal(read_simple(fd, 1), NBD_EINVAL);
	send_req(fd, 0, NBD_CMD_CACHE, 2, 0, 1, NULL); /* not advertised */
	assert_int_equal(read_simple(fd, 2), NBD_EINVAL);
	send_req(fd, NBD_CMD_FLAG_DF, NBD_CMD_READ, 3, 0, 1, NULL); /* flag not advertised */
	assert_int_equal(read_simple(fd, 3), NBD_EINVAL);
	send_req(fd, NBD_CMD_FLAG_NO_HOLE, NBD_CMD_WRITE, 4, 0, 1, "q"); /* payload consumed */
	assert_int_equal(read_simple(fd, 4), NBD_EINVAL);
	send_req(fd, 0x8000, NBD_CMD_FLUSH, 5, 0, 0, NULL);
	assert_int_equal(read_simple(fd, 5), NBD_EINVAL);
	send_req(fd, 0, NBD_CMD_BLOCK_STATUS, 7, 0, 1, NULL); /* no structured replies */
	assert_int_equal(read_simple(fd, 7), NBD_EINVAL);
	send_req(fd, 0, NBD_CMD_READ, 6, 0, 1, NULL);
	assert_int_equal(read_simple(fd, 6), 0);
	xread(fd, b, 1);
	assert_int_equal(b[0], 0);
	assert_int_equal(LOG(state)->writes, 0);
}

static void
t_oversized(void **state)
{
	int fd = open_disk(state);
	uint32_t n = NBD_MAX_PAYLOAD + 1;
	uint8_t *big = calloc(1, n);
	send_req(fd, 0, NBD_CMD_READ, 1, 0, n, NULL);
	assert_int_equal(read_simple(fd, 1), NBD_EINVAL);
	send_req(fd, 0, NBD_CMD_WRITE, 2, 0, n, big);
	assert_int_equal(read_simple(fd, 2), NBD_EINVAL);
	assert_int_equal(LOG(state)->writes, 0);
	/* exactly the maximum is fine for a read (beyond this 1 MiB disk: EINVAL) */
	send_req(fd, 0, NBD_CMD_READ, 3, 0, NBD_MAX_PAYLOAD, NULL);
	assert_int_equal(read_simple(fd, 3), NBD_EINVAL);
	send_req(fd, 0, NBD_CMD_READ, 4, 0, 1, NULL);
	assert_int_equal(read_simple(fd, 4), 0);
	xread(fd, big, 1);
	free(big);
}

static void
t_trim_zero(void **state)
{
	int fd = open_disk(state);
	struct hook_log *l = LOG(state);
	uint8_t b[8192], z[8192] = {0};

	send_req(fd, 0, NBD_CMD_WRITE_ZEROES, 1, 1000, 5000, NULL);
	assert_int_equal(read_simple(fd, 1), 0);
	assert_int_equal(l->zeroes, 1);
	assert_int_equal(l->off, 1000);
	assert_int_equal(l->len, 5000);
	send_req(fd, NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FUA, NBD_CMD_WRITE_ZEROES, 2, 8192, 8192,
	         NULL);
	assert_int_equal(read_simple(fd, 2), 0);
	assert_true(l->fua);
	send_req(fd, 0, NBD_CMD_READ, 3, 999, 5002, NULL);
	assert_int_equal(read_simple(fd, 3), 0);
	xread(fd, b, 5002);
	assert_int_equal(b[0], (uint8_t)(999 * 7));
	assert_memory_equal(b + 1, z, 5000);
	assert_int_equal(b[5001], (uint8_t)(6000 * 7));
	send_req(fd, 0, NBD_CMD_READ, 4, 8192, 8192, NULL);
	assert_int_equal(read_simple(fd, 4), 0);
	xread(fd, b, 8192);
	assert_memory_equal(b, z, 8192);
	send_req(fd, 0, NBD_CMD_TRIM, 5, 65536, 65536, NULL);
	assert_int_equal(read_simple(fd, 5), 0);
	assert_int_equal(l->trims, 1);
	assert_int_equal(l->len, 65536);
}

static void
t_hook_fails(void **state)
{
	int fd = open_disk(state);
	LOG(state)->fail = true;
	send_req(fd, 0, NBD_CMD_WRITE, 1, 0, 2, "hi");
	assert_int_equal(read_simple(fd, 1), NBD_EIO);
	send_req(fd, 0, NBD_CMD_FLUSH, 2, 0, 0, NULL);
	assert_int_equal(read_simple(fd, 2), NBD_EIO);
	send_req(fd, 0, NBD_CMD_TRIM, 3, 0, 2, NULL);
	assert_int_equal(read_simple(fd, 3), NBD_EIO);
	send_req(fd, 0, NBD_CMD_WRITE_ZEROES, 4, 0, 2, NULL);
	assert_int_equal(read_simple(fd, 4), NBD_EIO);
	LOG(state)->fail = false;
	send_req(fd, 0, NBD_CMD_WRITE, 5, 0, 2, "ok");
	assert_int_equal(read_simple(fd, 5), 0);
}

/* A request into p; returns its length. */
static size_t
put_req(uint8_t *p, uint16_t flags, uint16_t type, uint64_t cookie, uint64_t off, uint32_t len,
        const void *data)
{
	nbd_put_be(p, NBD_REQUEST_MAGIC, 4);
	nbd_put_be(p + 4, flags, 2);
	nbd_put_be(p + 6, type, 2);
	nbd_put_be(p + 8, cookie, 8);
	nbd_put_be(p + 16, off, 8);
	nbd_put_be(p + 24, len, 4);
	if (data)
		memcpy(p + 28, data, len);
	return 28 + (data ? len : 0);
}

/* With on_writes: five WRITEs, a READ, a WRITE and a FUA WRITE sent at once.
 * The five go to the hook in one batch, in order, before the READ runs (and
 * reads what they wrote); the plain WRITE after it is flushed before the FUA
 * one, which takes on_write; the replies keep that order. A failing hook
 * fails every WRITE of its batch. on_prepare comes before every WRITE and
 * TRIM reaches the file; when it fails the request fails, the file untouched. */
static void
t_write_batch(void **state)
{
	int fd = open_disk(state);
	struct hook_log *l = LOG(state);
	uint8_t req[8192], data[512], got[512];
	size_t n = 0;
	for (int i = 0; i < 5; i++) {
		memset(data, 0x10 + i, sizeof(data));
		n += put_req(req + n, 0, NBD_CMD_WRITE, 1 + i, 4096u * (5 - i), 512, data);
	}
	n += put_req(req + n, 0, NBD_CMD_READ, 6, 4096u * 4, 512, NULL);
	memset(data, 0x20, sizeof(data));
	n += put_req(req + n, 0, NBD_CMD_WRITE, 7, 0, 512, data);
	memset(data, 0x21, sizeof(data));
	n += put_req(req + n, NBD_CMD_FLAG_FUA, NBD_CMD_WRITE, 8, 512, 512, data);
	xwrite(fd, req, n);
	for (uint64_t c = 1; c <= 5; c++)
		assert_int_equal(read_simple(fd, c), 0);
	assert_int_equal(read_simple(fd, 6), 0);
	xread(fd, got, sizeof(got));
	memset(data, 0x11, sizeof(data)); /* the second write's bytes at 16 KiB */
	assert_memory_equal(got, data, sizeof(got));
	assert_int_equal(read_simple(fd, 7), 0);
	assert_int_equal(read_simple(fd, 8), 0);
	assert_int_equal(l->batches, 2);
	assert_int_equal(l->batched, 6);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(l->boff[i], 4096u * (5 - i));
		assert_int_equal(l->bfirst[i], 0x10 + i);
	}
	assert_int_equal(l->boff[5], 0);
	assert_int_equal(l->bfirst[5], 0x20);
	assert_int_equal(l->writes, 1); /* the FUA one */
	assert_true(l->fua);
	assert_int_equal(l->first, 0x21);

	l->fail = true;
	n = put_req(req, 0, NBD_CMD_WRITE, 9, 0, 512, data);
	n += put_req(req + n, 0, NBD_CMD_WRITE, 10, 512, 512, data);
	xwrite(fd, req, n);
	assert_int_equal(read_simple(fd, 9), NBD_EIO);
	assert_int_equal(read_simple(fd, 10), NBD_EIO);
	l->fail = false;
	send_req(fd, 0, NBD_CMD_WRITE, 11, 0, 2, "ok");
	assert_int_equal(read_simple(fd, 11), 0);
	assert_int_equal(l->batched, 9);
	assert_int_equal(l->prepares, 10); /* every WRITE, before the file */

	/* A failing on_prepare fails the request with the file untouched. */
	l->fail_prepare = true;
	send_req(fd, 0, NBD_CMD_WRITE, 12, 0, 2, "no");
	assert_int_equal(read_simple(fd, 12), NBD_EIO);
	send_req(fd, NBD_CMD_FLAG_FUA, NBD_CMD_WRITE, 13, 0, 2, "no");
	assert_int_equal(read_simple(fd, 13), NBD_EIO);
	send_req(fd, 0, NBD_CMD_TRIM, 14, 0, 2, NULL);
	assert_int_equal(read_simple(fd, 14), NBD_EIO);
	l->fail_prepare = false;
	assert_int_equal(l->batched, 9);
	send_req(fd, 0, NBD_CMD_READ, 15, 0, 2, NULL);
	assert_int_equal(read_simple(fd, 15), 0);
	xread(fd, got, 2);
	assert_memory_equal(got, "ok", 2);
}

/* With on_prepare_many, a batch's plain WRITEs reach the file after one call
 * for all of them (none before it: the hook sees the file without them), then
 * on_writes and the replies; on_prepare is not called for them. A READ in the
 * batch sees the writes before it. A failing on_prepare_many fails every write
 * of its batch with the file untouched. */
static void
t_prepare_many(void **state)
{
	int fd = open_disk(state);
	struct hook_log *l = LOG(state);
	uint8_t req[8192], data[512], got[512];
	size_t n = 0;
	for (int i = 0; i < 5; i++) {
		memset(data, 0x30 + i, sizeof(data));
		n += put_req(req + n, 0, NBD_CMD_WRITE, 1 + i, 4096u * (5 - i), 512, data);
	}
	n += put_req(req + n, 0, NBD_CMD_READ, 6, 4096u * 4, 512, NULL);
	xwrite(fd, req, n);
	for (uint64_t c = 1; c <= 5; c++)
		assert_int_equal(read_simple(fd, c), 0);
	assert_int_equal(read_simple(fd, 6), 0);
	xread(fd, got, sizeof(got));
	memset(data, 0x31, sizeof(data)); /* the second write's bytes at 16 KiB */
	assert_memory_equal(got, data, sizeof(got));
	assert_true(l->prepared_many >= 1 && l->prepared_many <= 5); /* batches as reads cut them */
	assert_int_equal(l->prepared, 5);
	assert_true(l->file_untouched);
	assert_int_equal(l->prepares, 0);
	assert_int_equal(l->batched, 5);

	uint8_t before[512];
	send_req(fd, 0, NBD_CMD_READ, 10, 0, 512, NULL);
	assert_int_equal(read_simple(fd, 10), 0);
	xread(fd, before, sizeof(before));
	l->fail_prepare = true;
	memset(data, 0x40, sizeof(data));
	n = put_req(req, 0, NBD_CMD_WRITE, 7, 0, 512, data);
	n += put_req(req + n, 0, NBD_CMD_WRITE, 8, 512, 512, data);
	xwrite(fd, req, n);
	assert_int_equal(read_simple(fd, 7), NBD_EIO);
	assert_int_equal(read_simple(fd, 8), NBD_EIO);
	l->fail_prepare = false;
	assert_int_equal(l->batched, 5); /* nothing journaled */
	send_req(fd, 0, NBD_CMD_READ, 9, 0, 512, NULL);
	assert_int_equal(read_simple(fd, 9), 0);
	xread(fd, got, sizeof(got));
	assert_memory_equal(got, before, sizeof(got)); /* the file untouched */
}

static void
t_req_bad_magic(void **state)
{
	int fd = open_disk(state);
	uint8_t h[28] = {0x25, 0x60, 0x95, 0x14};
	xwrite(fd, h, 28);
	expect_closed(fd);
}

static void
t_truncated_request(void **state)
{
	int fd = open_disk(state);
	uint8_t h[10] = {0x25, 0x60, 0x95, 0x13};
	xwrite(fd, h, 10);
	shutdown(fd, SHUT_WR); /* the server sees EOF mid-header and leaves */
	expect_closed(fd);
}

/* Drives the protocol core directly with mostly-valid, partly random input:
 * whatever arrives, the server neither crashes nor stops answering in step. */
static void
t_random_input(void **state)
{
	struct fx *f = *state;
	struct nbd_conn c;
	struct nbd_out out = {0};
	uint8_t *buf = malloc(1 << 17);
	unsigned seed = 12345, closes = 0, replies = 0;

	for (int round = 0; round < 400; round++) {
		out.n = 0;
		nbd_conn_init(&c, f->s, &out);
		for (int step = 0; step < 40 && !nbd_conn_closed(&c); step++) {
			size_t need = nbd_conn_need(&c);
			uint32_t r = (uint32_t)rand_r(&seed);
			if (need > (1u << 17)) { /* a big WRITE payload: skip it */
				break;
			}
			for (size_t i = 0; i < need; i++)
				buf[i] = (uint8_t)rand_r(&seed);
			if (c.phase == NBD_PH_CFLAGS && r % 8)
				nbd_put_be(buf, NBD_FLAG_C_FIXED_NEWSTYLE | (r & 2), 4);
			if (c.phase == NBD_PH_OPTHDR && r % 8) {
				nbd_put_be(buf, NBD_IHAVEOPT, 8);
				nbd_put_be(buf + 8, r % 3 ? NBD_OPT_GO : r % 12, 4);
				nbd_put_be(buf + 12, r % 5 ? 10 : r % 70000, 4);
			}
			if (c.phase == NBD_PH_OPTDATA && c.optlen == 10 && r % 2)
				info_data(buf, r % 4 ? "disk" : "ro", NULL, 0);
			if (c.phase == NBD_PH_REQHDR && r % 16) {
				nbd_put_be(buf, NBD_REQUEST_MAGIC, 4);
				nbd_put_be(buf + 4, r % 4 ? 0 : (r >> 8) & 0x1f, 2);
				nbd_put_be(buf + 6, (r >> 3) % 9, 2);
				nbd_put_be(buf + 16,
				           r % 2 ? (r >> 4) % DISK_SIZE : (uint64_t)r << 12, 8);
				nbd_put_be(buf + 24, r % 3 ? (r >> 5) % 70000 : r, 4);
			}
			enum nbd_phase ph = c.phase;
			out.n = 0;
			assert_int_equal(nbd_conn_feed(&c, buf, need, &out), 0);
			if (out.n == 0)
				continue;
			/* whatever came in, what goes out is a well-formed reply */
			if (ph == NBD_PH_REQHDR || ph == NBD_PH_PAYLOAD || ph == NBD_PH_DISCARD) {
				uint64_t m = be(out.p, 4);
				assert_true(out.n >= 16);
				assert_true(m == NBD_SIMPLE_REPLY_MAGIC ||
				            (c.structured && m == NBD_STRUCTURED_REPLY_MAGIC));
				replies++;
			} else if (c.opt != NBD_OPT_EXPORT_NAME) {
				assert_true(out.n >= 20);
				assert_true(be(out.p, 8) == NBD_REP_MAGIC);
			}
		}
		closes += nbd_conn_closed(&c);
	}
	assert_true(closes > 10 && replies > 10);
	free(buf);
	nbd_out_free(&out);
}

/* ---- structured replies, meta contexts, BLOCK_STATUS -------------------- */

struct chunk {
	uint16_t flags, type;
	uint32_t len;
	uint8_t *p; /* the payload (malloc'd) */
};

static void
read_chunk(int fd, uint64_t cookie, struct chunk *ch)
{
	uint8_t h[NBD_CHUNK_HDR_LEN];
	xread(fd, h, sizeof(h));
	assert_int_equal(be(h, 4), NBD_STRUCTURED_REPLY_MAGIC);
	assert_true(be(h + 8, 8) == cookie);
	ch->flags = (uint16_t)be(h + 4, 2);
	ch->type = (uint16_t)be(h + 6, 2);
	ch->len = (uint32_t)be(h + 16, 4);
	assert_true(ch->len <= DISK_SIZE + 8);
	ch->p = malloc(ch->len + 1);
	if (ch->len)
		xread(fd, ch->p, ch->len);
}

/* The error chunk that ends a reply (a message included); returns the error. */
static uint32_t
read_err(int fd, uint64_t cookie)
{
	struct chunk ch;
	uint32_t err, ml;
	read_chunk(fd, cookie, &ch);
	assert_int_equal(ch.flags, NBD_REPLY_FLAG_DONE);
	assert_true(ch.type == NBD_REPLY_TYPE_ERROR || ch.type == NBD_REPLY_TYPE_ERROR_OFFSET);
	assert_true(ch.len >= 6);
	err = (uint32_t)be(ch.p, 4);
	ml = (uint32_t)be(ch.p + 4, 2);
	assert_true(ml > 0);
	assert_int_equal(ch.len, 6 + ml + (ch.type == NBD_REPLY_TYPE_ERROR_OFFSET ? 8 : 0));
	free(ch.p);
	return err;
}

static void
structured(int fd)
{
	send_opt(fd, NBD_OPT_STRUCTURED_REPLY, NULL, 0);
	expect_rep(fd, NBD_OPT_STRUCTURED_REPLY, NBD_REP_ACK);
}

/* META_CONTEXT option data: the export name, then the queries. */
static uint32_t
meta_data(uint8_t *d, const char *name, const char *const *q, uint32_t nq)
{
	uint32_t n = (uint32_t)strlen(name), o = 8 + n;
	nbd_put_be(d, n, 4);
	memcpy(d + 4, name, n);
	nbd_put_be(d + 4 + n, nq, 4);
	for (uint32_t i = 0; i < nq; i++) {
		uint32_t ql = (uint32_t)strlen(q[i]);
		nbd_put_be(d + o, ql, 4);
		memcpy(d + o + 4, q[i], ql);
		o += 4 + ql;
	}
	return o;
}

/* Sends a META_CONTEXT option; expects base:allocation with id (id < 0:
 * nothing listed), then the ACK. */
static void
meta(int fd, uint32_t opt, const char *name, const char *const *q, uint32_t nq, int64_t id)
{
	uint8_t d[4096];
	uint32_t len = meta_data(d, name, q, nq);
	send_opt(fd, opt, d, len);
	if (id >= 0) {
		assert_int_equal(read_rep(fd, opt, d, &len), NBD_REP_META_CONTEXT);
		assert_int_equal(len, 4 + strlen(NBD_META_BASE_ALLOC));
		assert_int_equal(be(d, 4), id);
		assert_memory_equal(d + 4, NBD_META_BASE_ALLOC, len - 4);
	}
	expect_rep(fd, opt, NBD_REP_ACK);
}

static const char *const q_alloc[] = {NBD_META_BASE_ALLOC};

static void
t_structured(void **state)
{
	int fd = FD(state);
	uint32_t n = NBD_MAX_PAYLOAD + 1;
	uint8_t *big = calloc(1, n);
	struct chunk ch;
	uint64_t size;

	handshake(fd, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
	send_opt(fd, NBD_OPT_STRUCTURED_REPLY, "x", 1); /* takes no data */
	expect_rep(fd, NBD_OPT_STRUCTURED_REPLY, NBD_REP_ERR_INVALID);
	structured(fd);
	assert_int_equal(go(fd, "disk", &size), 0x6d | NBD_FLAG_SEND_DF);
	/* the file is all data: one OFFSET_DATA chunk, the last */
	send_req(fd, 0, NBD_CMD_READ, 1, 4096, 8192, NULL);
	read_chunk(fd, 1, &ch);
	assert_int_equal(ch.flags, NBD_REPLY_FLAG_DONE);
	assert_int_equal(ch.type, NBD_REPLY_TYPE_OFFSET_DATA);
	assert_int_equal(ch.len, 8 + 8192);
	assert_int_equal(be(ch.p, 8), 4096);
	assert_int_equal(ch.p[8 + 1], (uint8_t)(4097 * 7));
	free(ch.p);
	send_req(fd, NBD_CMD_FLAG_DF, NBD_CMD_READ, 2, 0, 100, NULL);
	read_chunk(fd, 2, &ch);
	assert_int_equal(ch.flags, NBD_REPLY_FLAG_DONE);
	assert_int_equal(ch.len, 108);
	free(ch.p);
	/* errors are chunks with a message; a READ never gets a simple reply */
	send_req(fd, 0, NBD_CMD_READ, 3, DISK_SIZE, 1, NULL);
	assert_int_equal(read_err(fd, 3), NBD_EINVAL);
	send_req(fd, 0, NBD_CMD_READ, 4, 0, 0, NULL);
	assert_int_equal(read_err(fd, 4), NBD_EINVAL);
	send_req(fd, NBD_CMD_FLAG_DF, NBD_CMD_WRITE, 5, 0, 1, "q"); /* DF is READ's */
	assert_int_equal(read_err(fd, 5), NBD_EINVAL);
	send_req(fd, 0, NBD_CMD_WRITE, 6, DISK_SIZE - 1, 2, "ab");
	assert_int_equal(read_err(fd, 6), NBD_ENOSPC);
	send_req(fd, 0, NBD_CMD_WRITE, 7, 0, n, big); /* discarded, then answered */
	assert_int_equal(read_err(fd, 7), NBD_EINVAL);
	send_req(fd, 0, NBD_CMD_BLOCK_STATUS, 8, 0, 4096, NULL); /* no context selected */
	assert_int_equal(read_err(fd, 8), NBD_EINVAL);
	/* successes without payload keep the simple reply */
	send_req(fd, NBD_CMD_FLAG_FUA, NBD_CMD_WRITE, 9, 0, 2, "ok");
	assert_int_equal(read_simple(fd, 9), 0);
	send_req(fd, 0, NBD_CMD_FLUSH, 10, 0, 0, NULL);
	assert_int_equal(read_simple(fd, 10), 0);
	assert_int_equal(LOG(state)->writes, 1);
	free(big);
}

static void
t_meta(void **state)
{
	static const char *const q_base[] = {"base:"}, *const q_other[] = {"x-other:y", "base:no"},
	                         *const q_both[] = {NBD_META_BASE_ALLOC, "base:"},
	                         *const q_nocolon[] = {"allocation"};
	int fd = FD(state);
	uint8_t d[4096];
	uint32_t len = meta_data(d, "sparse", q_alloc, 1);

	handshake(fd, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
	/* only with structured replies */
	send_opt(fd, NBD_OPT_LIST_META_CONTEXT, d, len);
	expect_rep(fd, NBD_OPT_LIST_META_CONTEXT, NBD_REP_ERR_INVALID);
	send_opt(fd, NBD_OPT_SET_META_CONTEXT, d, len);
	expect_rep(fd, NBD_OPT_SET_META_CONTEXT, NBD_REP_ERR_INVALID);
	structured(fd);
	/* LIST: no query, "base:" and the full name list it; others do not */
	meta(fd, NBD_OPT_LIST_META_CONTEXT, "sparse", NULL, 0, 0);
	meta(fd, NBD_OPT_LIST_META_CONTEXT, "sparse", q_base, 1, 0);
	meta(fd, NBD_OPT_LIST_META_CONTEXT, "", q_both, 2, 0); /* once, default export */
	meta(fd, NBD_OPT_LIST_META_CONTEXT, "sparse", q_other, 2, -1);
	/* malformed: no namespace, past the end, trailing bytes, short count */
	send_opt(fd, NBD_OPT_LIST_META_CONTEXT, d, meta_data(d, "sparse", q_nocolon, 1));
	expect_rep(fd, NBD_OPT_LIST_META_CONTEXT, NBD_REP_ERR_INVALID);
	len = meta_data(d, "sparse", q_alloc, 1);
	send_opt(fd, NBD_OPT_LIST_META_CONTEXT, d, len - 1);
	expect_rep(fd, NBD_OPT_LIST_META_CONTEXT, NBD_REP_ERR_INVALID);
	send_opt(fd, NBD_OPT_SET_META_CONTEXT, d, len + 1);
	expect_rep(fd, NBD_OPT_SET_META_CONTEXT, NBD_REP_ERR_INVALID);
	nbd_put_be(d + 10, 2, 4);
	send_opt(fd, NBD_OPT_SET_META_CONTEXT, d, len);
	expect_rep(fd, NBD_OPT_SET_META_CONTEXT, NBD_REP_ERR_INVALID);
	nbd_put_be(d, 100000, 4);
	send_opt(fd, NBD_OPT_LIST_META_CONTEXT, d, len);
	expect_rep(fd, NBD_OPT_LIST_META_CONTEXT, NBD_REP_ERR_INVALID);
	send_opt(fd, NBD_OPT_SET_META_CONTEXT, d, meta_data(d, "nope", q_alloc, 1));
	expect_rep(fd, NBD_OPT_SET_META_CONTEXT, NBD_REP_ERR_UNKNOWN);
	/* SET: "base:" selects nothing; the full name gets an id */
	meta(fd, NBD_OPT_SET_META_CONTEXT, "sparse", q_base, 1, -1);
	meta(fd, NBD_OPT_SET_META_CONTEXT, "sparse", q_alloc, 1, NBD_META_BASE_ALLOC_ID);
}

/* One BLOCK_STATUS reply: its extents as (length, flags) pairs. */
static void
expect_extents(int fd, uint64_t cookie, const uint32_t *want, uint32_t n)
{
	struct chunk ch;
	read_chunk(fd, cookie, &ch);
	assert_int_equal(ch.flags, NBD_REPLY_FLAG_DONE);
	assert_int_equal(ch.type, NBD_REPLY_TYPE_BLOCK_STATUS);
	assert_int_equal(ch.len, 4 + 8 * n);
	assert_int_equal(be(ch.p, 4), NBD_META_BASE_ALLOC_ID);
	for (uint32_t i = 0; i < 2 * n; i++)
		assert_int_equal(be(ch.p + 4 + 4 * i, 4), want[i]);
	free(ch.p);
}

static void
expect_hole(int fd, uint64_t cookie, uint16_t flags, uint64_t off, uint32_t len)
{
	struct chunk ch;
	read_chunk(fd, cookie, &ch);
	assert_int_equal(ch.flags, flags);
	assert_int_equal(ch.type, NBD_REPLY_TYPE_OFFSET_HOLE);
	assert_int_equal(ch.len, 12);
	assert_int_equal(be(ch.p, 8), off);
	assert_int_equal(be(ch.p + 8, 4), len);
	free(ch.p);
}

static void
t_block_status(void **state)
{
	static const uint32_t map[] = {SP_DATA, 3, SP_DLEN, 0, DISK_SIZE - SP_DATA - SP_DLEN, 3},
	                      one[] = {SP_DATA - 4096, 3}, in_data[] = {1024, 0},
	                      edge[] = {4096, 0, 4096, 3};
	int fd = FD(state);
	uint8_t ab[SP_DLEN];
	struct chunk ch;
	uint64_t size;

	handshake(fd, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
	structured(fd);
	meta(fd, NBD_OPT_SET_META_CONTEXT, "sparse", q_alloc, 1, NBD_META_BASE_ALLOC_ID);
	assert_int_equal(go(fd, "sparse", &size), 0x0f | NBD_FLAG_SEND_DF);
	send_req(fd, 0, NBD_CMD_BLOCK_STATUS, 1, 0, DISK_SIZE, NULL); /* hole, data, hole */
	expect_extents(fd, 1, map, 3);
	send_req(fd, NBD_CMD_FLAG_REQ_ONE, NBD_CMD_BLOCK_STATUS, 2, 4096, DISK_SIZE - 4096, NULL);
	expect_extents(fd, 2, one, 1);
	send_req(fd, NBD_CMD_FLAG_REQ_ONE, NBD_CMD_BLOCK_STATUS, 3, SP_DATA + 512, 1024, NULL);
	expect_extents(fd, 3, in_data, 1); /* never longer than asked */
	send_req(fd, 0, NBD_CMD_BLOCK_STATUS, 4, SP_DATA + SP_DLEN - 4096, 8192, NULL);
	expect_extents(fd, 4, edge, 2);
	send_req(fd, 0, NBD_CMD_BLOCK_STATUS, 5, DISK_SIZE - 1, 2, NULL);
	assert_int_equal(read_err(fd, 5), NBD_EINVAL);
	send_req(fd, 0, NBD_CMD_BLOCK_STATUS, 6, 0, 0, NULL);
	assert_int_equal(read_err(fd, 6), NBD_EINVAL);
	send_req(fd, NBD_CMD_FLAG_DF, NBD_CMD_BLOCK_STATUS, 7, 0, 1, NULL);
	assert_int_equal(read_err(fd, 7), NBD_EINVAL);
	send_req(fd, NBD_CMD_FLAG_REQ_ONE, NBD_CMD_READ, 8, 0, 1, NULL); /* REQ_ONE is not READ's */
	assert_int_equal(read_err(fd, 8), NBD_EINVAL);
	/* READ follows the map: holes, the data, DONE on the last chunk */
	memset(ab, 0xab, sizeof(ab));
	send_req(fd, 0, NBD_CMD_READ, 9, 0, DISK_SIZE, NULL);
	expect_hole(fd, 9, 0, 0, SP_DATA);
	read_chunk(fd, 9, &ch);
	assert_int_equal(ch.flags, 0);
	assert_int_equal(ch.type, NBD_REPLY_TYPE_OFFSET_DATA);
	assert_int_equal(ch.len, 8 + SP_DLEN);
	assert_int_equal(be(ch.p, 8), SP_DATA);
	assert_memory_equal(ch.p + 8, ab, SP_DLEN);
	free(ch.p);
	expect_hole(fd, 9, NBD_REPLY_FLAG_DONE, SP_DATA + SP_DLEN, DISK_SIZE - SP_DATA - SP_DLEN);
	/* DF: one data chunk, the zeroes written out */
	send_req(fd, NBD_CMD_FLAG_DF, NBD_CMD_READ, 10, SP_DATA - 16, 32, NULL);
	read_chunk(fd, 10, &ch);
	assert_int_equal(ch.flags, NBD_REPLY_FLAG_DONE);
	assert_int_equal(ch.len, 8 + 32);
	assert_memory_equal(ch.p + 8, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_memory_equal(ch.p + 24, ab, 16);
	free(ch.p);
}

/* The context counts only for the export the last SET named, and a failed
 * SET forgets it. */
static void
t_meta_export_mismatch(void **state)
{
	int fd = FD(state);
	uint64_t size;
	handshake(fd, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
	structured(fd);
	meta(fd, NBD_OPT_SET_META_CONTEXT, "sparse", q_alloc, 1, NBD_META_BASE_ALLOC_ID);
	meta(fd, NBD_OPT_SET_META_CONTEXT, "disk", q_alloc, 1, NBD_META_BASE_ALLOC_ID);
	go(fd, "sparse", &size);
	send_req(fd, 0, NBD_CMD_BLOCK_STATUS, 1, 0, 4096, NULL);
	assert_int_equal(read_err(fd, 1), NBD_EINVAL);
}

static void
t_meta_set_fails(void **state)
{
	int fd = FD(state);
	uint8_t d[64], r[10];
	handshake(fd, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
	structured(fd);
	meta(fd, NBD_OPT_SET_META_CONTEXT, "sparse", q_alloc, 1, NBD_META_BASE_ALLOC_ID);
	send_opt(fd, NBD_OPT_SET_META_CONTEXT, d, meta_data(d, "sparse", q_alloc, 1) - 1);
	expect_rep(fd, NBD_OPT_SET_META_CONTEXT, NBD_REP_ERR_INVALID);
	send_opt(fd, NBD_OPT_EXPORT_NAME, "sparse", 6);
	xread(fd, r, 10);
	assert_int_equal(be(r + 8, 2), 0x0f | NBD_FLAG_SEND_DF);
	send_req(fd, 0, NBD_CMD_BLOCK_STATUS, 1, 0, 4096, NULL);
	assert_int_equal(read_err(fd, 1), NBD_EINVAL);
}

/* ---- TLS ------------------------------------------------------------------ */

/* STARTTLS, then the client side of the handshake: the server must be
 * localhost under the test CA; who names the certificate the client shows
 * (NULL: none). Returns SSL_connect's result. */
static int
tls_start(int fd, const char *who)
{
	char ca[128], cert[128], key[128], f[32];
	send_opt(fd, NBD_OPT_STARTTLS, NULL, 0);
	expect_rep(fd, NBD_OPT_STARTTLS, NBD_REP_ACK);
	cert_path(ca, sizeof(ca), "ca-cert.pem");
	assert_non_null(g_ctx = SSL_CTX_new(TLS_client_method()));
	assert_int_equal(SSL_CTX_load_verify_locations(g_ctx, ca, NULL), 1);
	SSL_CTX_set_verify(g_ctx, SSL_VERIFY_PEER, NULL);
	if (who) {
		snprintf(f, sizeof(f), "%s-cert.pem", who);
		cert_path(cert, sizeof(cert), f);
		snprintf(f, sizeof(f), "%s-key.pem", who);
		cert_path(key, sizeof(key), f);
		assert_int_equal(SSL_CTX_use_certificate_file(g_ctx, cert, SSL_FILETYPE_PEM), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey_file(g_ctx, key, SSL_FILETYPE_PEM), 1);
	}
	assert_non_null(g_ssl = SSL_new(g_ctx));
	SSL_set1_host(g_ssl, "localhost");
	SSL_set_fd(g_ssl, fd);
	sigset_t old;
	pipe_hold(&old);
	int r = SSL_connect(g_ssl);
	pipe_release(&old);
	return r;
}

static void
t_tls_not_configured(void **state)
{
	uint64_t size;
	handshake(FD(state), NBD_FLAG_C_FIXED_NEWSTYLE);
	send_opt(FD(state), NBD_OPT_STARTTLS, NULL, 0);
	expect_rep(FD(state), NBD_OPT_STARTTLS, NBD_REP_ERR_POLICY);
	assert_int_equal(go(FD(state), "disk", &size), 0x6d);
}

static void
t_tls_required(void **state)
{
	static const uint32_t opts[] = {NBD_OPT_LIST, NBD_OPT_STRUCTURED_REPLY, NBD_OPT_INFO,
	                                NBD_OPT_GO,   NBD_OPT_SET_META_CONTEXT, 0xdeadbeef};
	uint8_t d[NBD_MAX_OPT_LEN + 1] = {0};
	int fd = FD(state);
	uint32_t len = info_data(d, "disk", NULL, 0);
	struct chunk ch;
	uint64_t size;

	handshake(fd, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		send_opt(fd, opts[i], d, len);
		expect_rep(fd, opts[i], NBD_REP_ERR_TLS_REQD);
	}
	send_opt(fd, NBD_OPT_GO, d, sizeof(d)); /* oversized: the same answer */
	expect_rep(fd, NBD_OPT_GO, NBD_REP_ERR_TLS_REQD);
	send_opt(fd, NBD_OPT_STARTTLS, "x", 1);
	expect_rep(fd, NBD_OPT_STARTTLS, NBD_REP_ERR_INVALID);
	assert_int_equal(tls_start(fd, "client"), 1);
	/* over TLS every option works, and STARTTLS no more */
	send_opt(fd, NBD_OPT_STARTTLS, NULL, 0);
	expect_rep(fd, NBD_OPT_STARTTLS, NBD_REP_ERR_INVALID);
	structured(fd);
	assert_int_equal(go(fd, "disk", &size), 0x6d | NBD_FLAG_SEND_DF);
	send_req(fd, 0, NBD_CMD_READ, 1, 7, 3, NULL);
	read_chunk(fd, 1, &ch);
	assert_int_equal(ch.len, 8 + 3);
	assert_int_equal(ch.p[8], 7 * 7);
	free(ch.p);
	send_req(fd, 0, NBD_CMD_WRITE, 2, 0, 3, "tls");
	assert_int_equal(read_simple(fd, 2), 0);
	assert_int_equal(LOG(state)->first, 't');
	send_req(fd, 0, NBD_CMD_DISC, 3, 0, 0, NULL);
	expect_closed(fd);
}

static void
t_tls_required_export_name(void **state)
{
	handshake(FD(state), NBD_FLAG_C_FIXED_NEWSTYLE);
	send_opt(FD(state), NBD_OPT_EXPORT_NAME, "disk", 4); /* cannot be refused: hang up */
	expect_closed(FD(state));
}

static void
t_tls_required_abort(void **state)
{
	handshake(FD(state), NBD_FLAG_C_FIXED_NEWSTYLE);
	send_opt(FD(state), NBD_OPT_ABORT, NULL, 0);
	expect_rep(FD(state), NBD_OPT_ABORT, NBD_REP_ACK);
	expect_closed(FD(state));
}

/* Optional TLS: options work in the clear; STARTTLS forgets them. */
static void
t_tls_optional(void **state)
{
	int fd = FD(state);
	uint8_t d[4096];
	uint32_t len;
	uint64_t size;

	handshake(fd, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
	send_opt(fd, NBD_OPT_LIST, NULL, 0);
	assert_int_equal(read_rep(fd, NBD_OPT_LIST, d, &len), NBD_REP_SERVER);
	assert_int_equal(read_rep(fd, NBD_OPT_LIST, d, &len), NBD_REP_SERVER);
	expect_rep(fd, NBD_OPT_LIST, NBD_REP_ACK);
	structured(fd);
	meta(fd, NBD_OPT_SET_META_CONTEXT, "disk", q_alloc, 1, NBD_META_BASE_ALLOC_ID);
	assert_int_equal(tls_start(fd, "client"), 1);
	assert_int_equal(go(fd, "disk", &size), 0x6d); /* no DF: structured was forgotten */
	send_req(fd, 0, NBD_CMD_READ, 1, 1, 1, NULL);
	assert_int_equal(read_simple(fd, 1), 0);
	xread(fd, d, 1);
	assert_int_equal(d[0], 7);
	send_req(fd, 0, NBD_CMD_BLOCK_STATUS, 2, 0, 1, NULL); /* the context is gone too */
	assert_int_equal(read_simple(fd, 2), NBD_EINVAL);
}

static void
t_tls_plain_client(void **state)
{
	uint64_t size;
	handshake(FD(state), NBD_FLAG_C_FIXED_NEWSTYLE);
	assert_int_equal(go(FD(state), "disk", &size), 0x6d);
}

/* Bytes behind STARTTLS in the clear would pass for TLS traffic: hang up. */
static void
t_tls_injection(void **state)
{
	uint8_t two[32];
	handshake(FD(state), NBD_FLAG_C_FIXED_NEWSTYLE);
	nbd_put_be(two, NBD_IHAVEOPT, 8);
	nbd_put_be(two + 8, NBD_OPT_STARTTLS, 4);
	nbd_put_be(two + 12, 0, 4);
	nbd_put_be(two + 16, NBD_IHAVEOPT, 8);
	nbd_put_be(two + 24, NBD_OPT_LIST, 4);
	nbd_put_be(two + 28, 0, 4);
	xwrite(FD(state), two, sizeof(two));
	expect_rep(FD(state), NBD_OPT_STARTTLS, NBD_REP_ACK);
	expect_closed(FD(state));
}

/* With a CA set, a client certificate it did not sign, or none, fails the
 * handshake (TLS 1.3 tells the client on its first read). */
static void
tls_refused(void **state, const char *who)
{
	uint8_t b[16] = {0};
	if (tls_start(FD(state), who) == 1) {
		ssl_write(b, sizeof(b));
		assert_true(SSL_read(g_ssl, b, 1) <= 0);
	}
}

static void
t_tls_rogue_cert(void **state)
{
	handshake(FD(state), NBD_FLAG_C_FIXED_NEWSTYLE);
	tls_refused(state, "rogue");
}

static void
t_tls_no_cert(void **state)
{
	handshake(FD(state), NBD_FLAG_C_FIXED_NEWSTYLE);
	tls_refused(state, NULL);
}

static void
t_tls_config(void **state)
{
	char cert[128], key[128], ca[128], other[128], err[256];
	struct nbd_server *s;
	struct nbd_tls_opts o;
	(void)state;

	cert_path(cert, sizeof(cert), "server-cert.pem");
	cert_path(key, sizeof(key), "server-key.pem");
	cert_path(ca, sizeof(ca), "ca-cert.pem");
	cert_path(other, sizeof(other), "client-key.pem");
	assert_int_equal(nbd_server_new(NULL, NULL, &s), 0);
	o = (struct nbd_tls_opts){"/nonexistent/cert.pem", key, NULL, false};
	assert_int_equal(nbd_server_set_tls(s, &o, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/cert.pem"));
	o = (struct nbd_tls_opts){key, key, NULL, false}; /* a key is no certificate */
	assert_int_equal(nbd_server_set_tls(s, &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "certificate"));
	o = (struct nbd_tls_opts){cert, other, NULL, false}; /* another certificate's key */
	assert_int_equal(nbd_server_set_tls(s, &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "match"));
	o = (struct nbd_tls_opts){cert, key, "/nonexistent/ca.pem", true};
	assert_int_equal(nbd_server_set_tls(s, &o, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "CA"));
	o = (struct nbd_tls_opts){cert, NULL, NULL, true};
	assert_int_equal(nbd_server_set_tls(s, &o, err, sizeof(err)), -EINVAL);
	o = (struct nbd_tls_opts){cert, key, ca, true};
	assert_int_equal(nbd_server_set_tls(s, &o, err, sizeof(err)), 0);
	assert_int_equal(nbd_server_set_tls(s, &o, err, sizeof(err)), 0); /* replaces */
	nbd_server_free(s);
}

/* ---- cursor and listeners ----------------------------------------------- */

static void
t_cursor(void **state)
{
	static const uint8_t b[] = {1, 2, 3, 4, 5};
	struct nbd_cur c = nbd_cur_make(b, sizeof(b));
	(void)state;
	assert_int_equal(nbd_cur_u16(&c), 0x0102);
	assert_false(c.bad);
	assert_int_equal(nbd_cur_u32(&c), 0);
	assert_true(c.bad);
	assert_int_equal(nbd_cur_left(&c), 0);
	assert_null(nbd_cur_bytes(&c, 1));
	c = nbd_cur_make(b, sizeof(b));
	assert_non_null(nbd_cur_bytes(&c, 5));
	assert_false(c.bad);
	assert_int_equal(nbd_cur_u64(&c), 0);
	assert_true(c.bad);
}

static void *
run_thread(void *arg)
{
	nbd_server_run(arg);
	return NULL;
}

static void
greet_ok(int fd)
{
	uint8_t g[18];
	xread(fd, g, 18);
	assert_memory_equal(g, "NBDMAGICIHAVEOPT", 16);
	close(fd);
}

static void
t_listeners(void **state)
{
	char file[64], sock[108];
	struct nbd_server *s;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	uint16_t port = 0;
	pthread_t tid;
	int fd, idle;
	(void)state;

	make_file(file, 1);
	snprintf(sock, sizeof(sock), "%s.sock", file);
	assert_int_equal(nbd_server_new(NULL, NULL, &s), 0);
	assert_int_equal(nbd_server_add_export(s, "a", file, false), 0);
	assert_int_equal(nbd_server_add_export(s, "a", file, false), -EINVAL); /* duplicate */
	assert_int_equal(nbd_server_add_export(s, "b", "/nonexistent/x", false), -ENOENT);
	assert_int_equal(nbd_server_run(s), -EINVAL); /* nothing to listen on */
	assert_int_equal(nbd_server_listen_tcp(s, "not-an-ip", 0, NULL), -EINVAL);
	assert_int_equal(nbd_server_listen_tcp(s, "127.0.0.1", 0, &port), 0);
	assert_true(port != 0);
	assert_int_equal(nbd_server_listen_unix(s, sock), 0);
	assert_int_equal(pthread_create(&tid, NULL, run_thread, s), 0);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	sin.sin_port = htons(port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	greet_ok(fd);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sun.sun_path, sock);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	greet_ok(fd);
	/* a client that stays connected is cut off by stop */
	idle = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(idle, (struct sockaddr *)&sun, sizeof(sun)), 0);
	{
		uint8_t g[18];
		xread(idle, g, 18);
	}
	/* over the connection limit: closed before the greeting */
	nbd_server_set_max_conns(s, 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	expect_closed(fd);
	close(fd);
	nbd_server_stop(s);
	pthread_join(tid, NULL);
	expect_closed(idle);
	close(idle);
	nbd_server_free(s);
	assert_int_equal(access(sock, F_OK), -1); /* the socket file is gone */
	unlink(file);
}

/* ---- --serve mode ------------------------------------------------------- */

struct serve_args {
	const char *sock, *portfile;
	struct nbd_tls_opts tls;
	int first; /* the first NAME=PATH */
};

/* SOCKET [--tcp PORTFILE] [--tls-cert F --tls-key F [--tls-ca F]
 * [--tls-required]] NAME=PATH[:ro]...; false on a usage error. */
static bool
serve_parse(int argc, char **argv, struct serve_args *a)
{
	int i = 3;
	memset(a, 0, sizeof(*a));
	a->sock = argc > 2 ? argv[2] : NULL;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(o, "--tls-required") == 0) {
			a->tls.required = true;
			continue;
		}
		if (!v)
			return false;
		if (strcmp(o, "--tcp") == 0)
			a->portfile = v;
		else if (strcmp(o, "--tls-cert") == 0)
			a->tls.cert = v;
		else if (strcmp(o, "--tls-key") == 0)
			a->tls.key = v;
		else if (strcmp(o, "--tls-ca") == 0)
			a->tls.ca = v;
		else
			return false;
		i++;
	}
	a->first = i;
	return a->sock && i < argc;
}

static int
serve_exports(struct nbd_server *s, int argc, char **argv, int first)
{
	for (int i = first; i < argc; i++) {
		char *name = strdup(argv[i]), *path = strchr(name, '='), *ro;
		bool readonly = false;
		int rc;
		if (!path) {
			fprintf(stderr, "test_nbd: bad export %s\n", argv[i]);
			free(name);
			return -EINVAL;
		}
		*path++ = '\0';
		ro = strrchr(path, ':');
		if (ro && strcmp(ro, ":ro") == 0) {
			*ro = '\0';
			readonly = true;
		}
		rc = nbd_server_add_export(s, name, path, readonly);
		free(name);
		if (rc < 0) {
			fprintf(stderr, "test_nbd: %s: %s\n", argv[i], strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* TLS (when asked for), the Unix socket, and 127.0.0.1 on a free port. */
static int
serve_listen(struct nbd_server *s, const struct serve_args *a)
{
	char err[256];
	uint16_t port;
	FILE *pf;
	int rc = 0;

	if ((a->tls.cert || a->tls.key) && (rc = nbd_server_set_tls(s, &a->tls, err, sizeof(err))))
		fprintf(stderr, "test_nbd: %s\n", err);
	if (!rc && (rc = nbd_server_listen_unix(s, a->sock)) < 0)
		fprintf(stderr, "test_nbd: %s: %s\n", a->sock, strerror(-rc));
	if (rc || !a->portfile)
		return rc;
	rc = nbd_server_listen_tcp(s, "127.0.0.1", 0, &port);
	if (rc < 0 || !(pf = fopen(a->portfile, "w"))) {
		fprintf(stderr, "test_nbd: tcp listener failed\n");
		return rc < 0 ? rc : -EIO;
	}
	fprintf(pf, "%u\n", port);
	fclose(pf);
	return 0;
}

static int
serve_main(int argc, char **argv)
{
	struct serve_args a;
	struct nbd_server *s;
	sigset_t set;
	pthread_t tid;
	int sig;

	if (!serve_parse(argc, argv, &a)) {
		fprintf(stderr, "usage: test_nbd --serve SOCKET [--tcp PORTFILE] [--tls-cert F "
		                "--tls-key F [--tls-ca F] [--tls-required]] NAME=PATH[:ro]...\n");
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (nbd_server_new(NULL, NULL, &s) < 0)
		return 1;
	if (serve_exports(s, argc, argv, a.first) < 0 || serve_listen(s, &a) < 0) {
		nbd_server_free(s);
		return 1;
	}
	pthread_create(&tid, NULL, run_thread, s);
	sigwait(&set, &sig);
	nbd_server_stop(s);
	pthread_join(tid, NULL);
	nbd_server_free(s);
	return 0;
}

int
main(int argc, char **argv)
{
#define T(f)     cmocka_unit_test_setup_teardown(f, setup, teardown)
#define TS(f, s) cmocka_unit_test_setup_teardown(f, s, teardown)
	const struct CMUnitTest tests[] = {
	    T(t_bad_client_flags),
	    T(t_not_fixed_newstyle),
	    T(t_opt_bad_magic),
	    T(t_list),
	    T(t_info),
	    T(t_default_export),
	    T(t_opt_malformed),
	    T(t_export_name),
	    T(t_export_name_nozeroes),
	    T(t_export_name_unknown),
	    T(t_export_name_too_long),
	    T(t_write_read),
	    T(t_out_of_range),
	    T(t_bad_commands),
	    T(t_oversized),
	    T(t_trim_zero),
	    T(t_hook_fails),
	    TS(t_write_batch, setup_batch),
	    TS(t_prepare_many, setup_many),
	    T(t_req_bad_magic),
	    T(t_truncated_request),
	    T(t_random_input),
	    T(t_structured),
	    TS(t_meta, setup_sparse),
	    TS(t_block_status, setup_sparse),
	    TS(t_meta_export_mismatch, setup_sparse),
	    TS(t_meta_set_fails, setup_sparse),
	    T(t_tls_not_configured),
	    TS(t_tls_required, setup_tls_required),
	    TS(t_tls_required_export_name, setup_tls_required),
	    TS(t_tls_required_abort, setup_tls_required),
	    TS(t_tls_optional, setup_tls),
	    TS(t_tls_plain_client, setup_tls),
	    TS(t_tls_injection, setup_tls),
	    TS(t_tls_rogue_cert, setup_tls),
	    TS(t_tls_no_cert, setup_tls),
	    cmocka_unit_test(t_tls_config),
	    cmocka_unit_test(t_cursor),
	    cmocka_unit_test(t_listeners),
	};
#undef T
#undef TS
	int rc;
	if (argc > 1 && strcmp(argv[1], "--serve") == 0)
		return serve_main(argc, argv);
	if (argc == 3 && strcmp(argv[1], "--make-certs") == 0)
		return make_certs(argv[2]) == 0 ? 0 : 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (certdir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", certdir);
		if (system(cmd) != 0)
			fprintf(stderr, "test_nbd: could not remove %s\n", certdir);
	}
	return rc;
}
