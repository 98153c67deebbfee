/*
 * fuzz_nbd.c - libFuzzer target for the NBD protocol core (nbd_proto.c).
 *
 * The core does no socket I/O, so the target drives it directly: it asks
 * nbd_conn_need() for the next read and feeds that many input bytes until
 * the input runs out or the connection closes. The first input byte picks
 * the mode: when it is odd, a valid handshake (fixed newstyle, NO_ZEROES, NBD_OPT_GO for the
 * default export) is fed first, so the fuzzer spends its time on the
 * transmission phase as well as on negotiation. The export is a 1 MiB
 * temporary file, so WRITE, TRIM and WRITE_ZEROES really reach a disk.
 * Properties, each an abort when broken:
 *   - a feed never fails with anything but -ENOMEM;
 *   - a closed connection asks for nothing more, and an open one always
 *     asks for at least one byte;
 *   - one feed never produces more than one maximal reply (32 MiB + header)
 *     or one negotiation answer (GO/INFO/LIST with their info blocks).
 * ASan, UBSan and LeakSanitizer catch the rest.
 */
#include "repl/nbd.h"
#include "repl/nbd_wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct nbd_server *srv;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char path[] = "/tmp/strait-fuzz-nbd-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, 1 << 20) != 0) {
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

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static void
feed_all(struct nbd_conn *c, const uint8_t *p, size_t n, struct nbd_out *out)
{
	while (!nbd_conn_closed(c)) {
		size_t need = nbd_conn_need(c);
		if (need == 0) {
			fprintf(stderr, "fuzz_nbd: open connection asks for 0 bytes\n");
			abort();
		}
		if (need > n)
			return;
		out->n = 0;
		int rc = nbd_conn_feed(c, p, need, out);
		if (rc != 0 && rc != -ENOMEM) {
			fprintf(stderr, "fuzz_nbd: feed failed: %d\n", rc);
			abort();
		}
		if (out->n > NBD_MAX_STRING + (32u << 20) + 4096u) {
			fprintf(stderr, "fuzz_nbd: one feed produced %zu bytes\n", out->n);
			abort();
		}
		p += need;
		n -= need;
	}
	if (nbd_conn_need(c) != 0) {
		fprintf(stderr, "fuzz_nbd: closed connection still asks for bytes\n");
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nbd_out out = {0};
	struct nbd_conn c;
	nbd_conn_init(&c, srv, &out);
	if (size == 0) {
		nbd_out_free(&out);
		return 0;
	}
	if (data[0] & 1) {
		/* client flags; IHAVEOPT, GO, length 6: name length 0, 1 info request (NAME) */
		uint8_t hs[4 + 16 + 6];
		put32(hs, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
		put64(hs + 4, NBD_IHAVEOPT);
		put32(hs + 12, NBD_OPT_GO);
		put32(hs + 16, 6);
		memset(hs + 20, 0, 6);
		hs[23] = 1; /* one info request */
		hs[25] = 1; /* NBD_INFO_NAME */
		feed_all(&c, hs, sizeof hs, &out);
	}
	data++; /* the mode byte */
	size--;
	feed_all(&c, data, size, &out);
	nbd_out_free(&out);
	return 0;
}
