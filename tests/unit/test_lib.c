/*
 * test_lib.c - units, edit distance, maps, arena, atomic writes.
 */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

static void
test_durations(void **state)
{
	int64_t s;
	assert_int_equal(lib_parse_duration("5m", &s), 0);
	assert_int_equal(s, 300);
	assert_int_equal(lib_parse_duration("1h30m", &s), 0);
	assert_int_equal(s, 5400);
	assert_int_equal(lib_parse_duration("90", &s), 0);
	assert_int_equal(s, 90);
	assert_int_equal(lib_parse_duration("2d", &s), 0);
	assert_int_equal(s, 172800);
	assert_int_equal(lib_parse_duration("5 m", &s), -EINVAL);
	assert_int_equal(lib_parse_duration("5x", &s), -EINVAL);
	assert_int_equal(lib_parse_duration("", &s), -EINVAL);
	assert_int_equal(lib_parse_duration("1h30", &s), -EINVAL);
	assert_int_equal(lib_parse_duration("99999999999999999999s", &s), -ERANGE);
	char b[32];
	lib_fmt_duration(5400, b, sizeof(b));
	assert_string_equal(b, "90m");
	lib_fmt_duration(14400, b, sizeof(b));
	assert_string_equal(b, "4h");
	lib_fmt_duration(61, b, sizeof(b));
	assert_string_equal(b, "61s");
}

static void
test_sizes(void **state)
{
	uint64_t v;
	assert_int_equal(lib_parse_size("32GiB", &v), 0);
	assert_true(v == 32ull << 30);
	assert_int_equal(lib_parse_size("2TB", &v), 0);
	assert_true(v == 2000000000000ull);
	assert_int_equal(lib_parse_size("512", &v), 0);
	assert_true(v == 512);
	assert_int_equal(lib_parse_size("4Gib", &v), -EINVAL);
	assert_int_equal(lib_parse_size("1h", &v), -EINVAL);
	assert_int_equal(lib_parse_size("99999999PiB", &v), -ERANGE);
	char b[32];
	lib_fmt_size(32ull << 30, b, sizeof(b));
	assert_string_equal(b, "32GiB");
	lib_fmt_size(1536, b, sizeof(b));
	assert_string_equal(b, "1536B");
}

static void
test_bandwidth(void **state)
{
	uint64_t v;
	assert_int_equal(lib_parse_bandwidth("1Gbps", &v), 0);
	assert_true(v == 1000);
	assert_int_equal(lib_parse_bandwidth("50Mbps", &v), 0);
	assert_true(v == 50);
	assert_int_equal(lib_parse_bandwidth("1000", &v), -EINVAL);
	assert_int_equal(lib_parse_bandwidth("0Gbps", &v), -EINVAL);
	assert_int_equal(lib_parse_bandwidth("Gbps", &v), -EINVAL);
	/* HOST:PORT, as --tcp, --listen and --target take it */
	char h[16];
	uint16_t port;
	assert_int_equal(lib_parse_hostport("127.0.0.1:10809", h, sizeof(h), &port), 0);
	assert_string_equal(h, "127.0.0.1");
	assert_int_equal(port, 10809);
	assert_int_equal(lib_parse_hostport("::1:0", h, sizeof(h), &port), 0);
	assert_string_equal(h, "::1");
	assert_int_equal(port, 0);
	assert_int_equal(lib_parse_hostport("[::1]:10809", h, sizeof(h), &port), 0);
	assert_string_equal(h, "::1");
	assert_int_equal(port, 10809);
	const char *bad[] = {"127.0.0.1", ":80",     "h:",
	                     "h:65536",   "h:-1",    "h:8x",
	                     "[]:80",     "[::1:80", "a-long-host-name-here:1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(lib_parse_hostport(bad[i], h, sizeof(h), &port), -EINVAL);
	/* the monotonic clock in ms: 20 ms of sleep move it by at least 20 */
	int64_t m0 = lib_mono_ms();
	struct timespec ts = {0, 20 * 1000000};
	nanosleep(&ts, NULL);
	assert_true(lib_mono_ms() - m0 >= 20);
	char b[32];
	lib_fmt_bandwidth(10000, b, sizeof(b));
	assert_string_equal(b, "10Gbps");
	lib_fmt_bandwidth(500, b, sizeof(b));
	assert_string_equal(b, "500Mbps");
}

static void
test_nearest(void **state)
{
	const char *c[] = {"address_space", "subnets", "gateways", "region"};
	assert_string_equal(lib_nearest("adress_space", c, 4), "address_space");
	assert_string_equal(lib_nearest("subnet", c, 4), "subnets");
	assert_string_equal(lib_nearest("regoin", c, 4), "region");
	assert_null(lib_nearest("bandwidth", c, 4));
	assert_int_equal(lib_edit_distance("abc", "abc", 2), 0);
	assert_int_equal(lib_edit_distance("ab", "ba", 2), 1);
	assert_int_equal(lib_edit_distance("abcdef", "zzzzzz", 2), 3);
}

static void
test_utf8(void **state)
{
	const char ok[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
	assert_int_equal(lib_utf8_invalid(ok, sizeof(ok) - 1), sizeof(ok) - 1);
	assert_int_equal(lib_utf8_invalid("ab\x8e", 3), 2);           /* lone continuation */
	assert_int_equal(lib_utf8_invalid("\xc0\xaf", 2), 0);         /* overlong */
	assert_int_equal(lib_utf8_invalid("\xe0\x80\xaf", 3), 0);     /* overlong */
	assert_int_equal(lib_utf8_invalid("\xed\xa0\x80", 3), 0);     /* surrogate */
	assert_int_equal(lib_utf8_invalid("\xf4\x90\x80\x80", 4), 0); /* > U+10FFFF */
	assert_int_equal(lib_utf8_invalid("x\xe2\x82", 3), 1);        /* truncated */
	assert_int_equal(lib_utf8_invalid("%\xfd\n", 3), 1);
}

static void
test_map(void **state)
{
	struct lib_map m;
	lib_map_init(&m);
	char keys[1000][16];
	for (int i = 0; i < 1000; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		assert_int_equal(lib_map_put(&m, keys[i], (uint64_t)i * 3), 0);
	}
	assert_int_equal(lib_map_put(&m, "k7", 1), -EEXIST);
	for (int i = 0; i < 1000; i++) {
		uint64_t v;
		assert_true(lib_map_get(&m, keys[i], &v));
		assert_true(v == (uint64_t)i * 3);
	}
	assert_false(lib_map_get(&m, "k1000", NULL));
	lib_map_free(&m);
}

static void
test_arena(void **state)
{
	struct lib_arena a;
	lib_arena_init(&a);
	char *big = lib_arena_alloc(&a, 3u << 20);
	big[(3u << 20) - 1] = 1;
	for (int i = 0; i < 10000; i++) {
		char *p = lib_arena_printf(&a, "s%d", i);
		assert_int_equal(((uintptr_t)p) % 16, 0);
		assert_int_equal(atoi(p + 1), i);
	}
	assert_true(a.used >= (3u << 20));
	assert_true(a.total >= a.used);
	lib_arena_free(&a);
}

static void
test_atomic_write(void **state)
{
	char dir[] = "/tmp/strait-test-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(lib_write_atomic(path, "one", 3), 0);
	assert_int_equal(lib_write_atomic(path, "second", 6), 0);
	char *data;
	size_t n;
	assert_int_equal(lib_read_file(path, &data, &n), 0);
	assert_int_equal(n, 6);
	assert_string_equal(data, "second");
	free(data);
	assert_int_equal(lib_read_file(dir, &data, &n), -EISDIR);
	snprintf(path, sizeof(path), "%s/missing/f", dir);
	assert_int_equal(lib_write_atomic(path, "x", 1), -ENOENT);
	snprintf(path, sizeof(path), "%s/f", dir);
	unlink(path);
	rmdir(dir);
}

static void
test_le(void **state)
{
	(void)state;
	uint8_t b[8];
	lib_put_le64(b, 0x0102030405060708ull);
	assert_int_equal(b[0], 0x08);
	assert_int_equal(b[7], 0x01);
	assert_true(lib_get_le64(b) == 0x0102030405060708ull);
	lib_put_le32(b, 0xdeadbeefu);
	assert_int_equal(b[0], 0xef);
	assert_int_equal(lib_get_le32(b), 0xdeadbeefu);
}

/* A write to a pipe with no reader under the guard: EPIPE, no death, nothing left pending,
 * and the thread's mask as it was. */
static void
test_pipe_guard(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	sigset_t before, after, pend;
	pthread_sigmask(SIG_BLOCK, NULL, &before);
	struct lib_pipe_guard g;
	lib_pipe_block(&g);
	errno = 0;
	assert_int_equal(write(p[1], "x", 1), -1);
	assert_int_equal(errno, EPIPE);
	lib_pipe_unblock(&g);
	sigpending(&pend);
	assert_false(sigismember(&pend, SIGPIPE));
	pthread_sigmask(SIG_BLOCK, NULL, &after);
	assert_int_equal(sigismember(&after, SIGPIPE), sigismember(&before, SIGPIPE));
	close(p[1]);
}

static void
test_check_readable(void **state)
{
	(void)state;
	char err[256] = "";
	assert_int_equal(
	    lib_check_readable("TLS", "/nonexistent/strait-cert.pem", err, sizeof(err)), -ENOENT);
	assert_string_equal(
	    err, "TLS: cannot read /nonexistent/strait-cert.pem: No such file or directory");
	char path[] = "/tmp/strait-readable.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(lib_check_readable("TLS", path, err, sizeof(err)), 0);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_bandwidth),
	    cmocka_unit_test(test_nearest),
	    cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_map),
	    cmocka_unit_test(test_arena),
	    cmocka_unit_test(test_atomic_write),
	    cmocka_unit_test(test_le),
	    cmocka_unit_test(test_pipe_guard),
	    cmocka_unit_test(test_check_readable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
