/*
 * bgp_load.c - strait-bgpload: a BGP-4 load generator and sink for comparing
 * speakers (bench/bgp.sh): one eBGP session, IPv4 unicast only, and one
 * machine-readable line of output.
 *
 *   send  builds a synthetic IPv4 table from --seed alone (the same table for
 *         the same options, whoever the peer is), opens the session and
 *         writes the whole table as fast as the peer's TCP takes it: UPDATEs
 *         of up to 4,096 bytes, one attribute set each, as many NLRI as fit
 *         (or --max-nlri), then an End-of-RIB. Once the peer's kernel has
 *         acknowledged every byte it prints its line and keeps the session up
 *         with KEEPALIVEs (until a signal or --duration; --exit-after-send
 *         ends it there).
 *   recv  opens the session and counts the distinct IPv4 prefixes the peer
 *         holds out to us (announcements less withdrawals, duplicates once)
 *         until --prefixes are there (or its End-of-RIB with --stop-eor, or
 *         --quiet ms without an UPDATE), then says goodbye (Cease) and exits.
 *
 * The table: prefix lengths drawn from the mix of the IPv4 default-free zone
 * (per million: 611k /24, 105k /23, 125k /22, 48k /21, 43k /20, 28k /19, 14k
 * /18, 9k /17, 13k /16, 4k /8-/15; nothing longer than /24, as the DFZ
 * filters them), 40% of them carved out of a shorter prefix already drawn (the
 * more-specifics of real tables), the others anywhere outside special-purpose
 * space (RFC 6890: 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12,
 * 192.0.0/24, 192.0.2/24, 192.168/16, 198.18/15, 198.51.100/24, 203.0.113/24,
 * 224/3). Prefixes are spread over --sets attribute sets (default 300) with
 * a Zipf-like weight (a few sets carry many routes, as a few transit paths
 * do): AS paths of 1 to 10 ASes after ours (a fifth of them 4-octet, some
 * prepended), communities on 60% of the sets, MED on 40%, a large community
 * on 5%, ORIGIN mostly IGP. The whole stream of UPDATEs is encoded before the
 * session opens (strait's codec, bgp_update_pack), so sending costs only
 * write(2): the tool measures the peer, not itself.
 *
 * Decoding is strait's codec too (bgp_hdr_decode, bgp_open_decode,
 * bgp_update_decode: bounded cursors, RFC 7606 verdicts); a message it
 * refuses ends the session with the NOTIFICATION the RFC asks for.
 *
 * Output, one line of key=value on stdout:
 *   mode=send prefixes= updates= bytes= sent= secs= rate= acked_secs=
 *             prefixes_in= t_established= t_start= t_done= error=""
 *     secs: first to last byte written (into the socket buffer, which on
 *     loopback can take the whole table at once); acked_secs: until the peer's
 *     kernel acknowledged the last byte (SIOCOUTQ 0), which bounds how fast
 *     the peer reads, not how fast it processes.
 *   mode=recv prefixes= complete=0|1 updates= nlri= withdrawn= ipv6= eor=
 *             secs= rate= first_secs= t_established= t_first= t_done= error=""
 *     secs: from Established to the stop condition; rate: prefixes / secs.
 * The generated AS numbers are in 1-64000 and 131072-401071: use private ASes
 * (64512-65534) for the speakers, so that no path loops through one of them.
 *
 * Times: t_* are wall-clock (CLOCK_REALTIME, seconds since the epoch, so
 * two instances on one host can be compared: propagation = receiver's t_done
 * minus sender's t_start); durations come from CLOCK_MONOTONIC.
 *
 * Plain libc and poll(2); one session per process. Exit 0 when the job was
 * done, 1 when the session failed or timed out, 2 on a bad command line.
 */
#include "bgp/bgp_msg.h"
#include "lib/lib.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG      "strait-bgpload"
#define RX_BUF    (256u * 1024u)
#define WIN       4096u /* prefixes offered to one bgp_update_pack */
#define MAX_PATH  24u   /* ASes in a generated path, prepends included */
#define MAX_COMM  8u
#define WRITE_MAX (1u << 20)

/* ---- options ------------------------------------------------------------------------ */
struct opts {
	bool send; /* else recv */
	struct ip_addr local, remote, nh;
	uint16_t port, remote_port;
	uint32_t as, peer_as, id;
	bool as4, passive;
	uint16_t hold;
	uint64_t prefixes;
	uint32_t sets, max_nlri;
	uint64_t seed;
	bool exit_after_send, stop_eor, progress;
	uint32_t quiet_ms;
	double timeout_s, duration_s;
};

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: " PROG " send|recv --local IP --remote IP --as N --peer-as N [options]\n"
	        "  --port N          listen port with --passive, else the peer's port (179)\n"
	        "  --remote-port N   the peer's port when connecting (default --port)\n"
	        "  --passive         wait for the peer to connect (listen on --local)\n"
	        "  --id IPV4         BGP identifier (default --local)\n"
	        "  --no-as4          do not offer 4-octet AS numbers (RFC 6793)\n"
	        "  --hold S          hold time offered (default 180; 0 or >= 3)\n"
	        "  --prefixes N      send: table size; recv: prefixes to wait for (1000000)\n"
	        "  --timeout S       give up (exit 1) when not done after S seconds (600)\n"
	        "send:\n"
	        "  --seed N          the table's seed (1)\n"
	        "  --sets N          distinct attribute sets, 1..65535 (300)\n"
	        "  --max-nlri N      at most N prefixes per UPDATE (0: as many as fit)\n"
	        "  --nh IPV4         NEXT_HOP of every route (default --local)\n"
	        "  --exit-after-send Cease and exit once the peer has every byte\n"
	        "  --duration S      stay up S seconds after sending (0: until a signal)\n"
	        "recv:\n"
	        "  --stop-eor        also stop at the peer's IPv4 End-of-RIB (after >= 1 route)\n"
	        "  --quiet MS        also stop MS ms after the last UPDATE (after >= 1 route)\n"
	        "both: --progress    a progress line on stderr every second\n"
	        "output: one line on stdout, key=value (see bench/README.md)\n");
}

static void __attribute__((noreturn)) __attribute__((format(printf, 1, 2)))
bad_args(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (" PROG " --help)\n");
	exit(2);
}

static uint64_t
num_arg(const char *opt, const char *v, uint64_t max)
{
	char *end;
	unsigned long long x;
	if (!v || !*v || *v == '-')
		bad_args("%s needs a number", opt);
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || *end || x > max)
		bad_args("%s: '%s' is not a number from 0 to %" PRIu64, opt, v, max);
	return x;
}

static double
secs_arg(const char *opt, const char *v)
{
	char *end;
	double x;
	if (!v || !*v)
		bad_args("%s needs a number of seconds", opt);
	errno = 0;
	x = strtod(v, &end);
	if (errno || *end || !(x >= 0) || x > 1e7)
		bad_args("%s: '%s' is not a number of seconds", opt, v);
	return x;
}

static void
addr_arg(const char *opt, const char *v, struct ip_addr *a)
{
	if (!v || ip_addr_parse(v, a) != 0 || a->af != IP_V4)
		bad_args("%s: '%s' is not an IPv4 address", opt, v ? v : "");
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	bool have_as = false, have_peer_as = false, have_port = false, have_rport = false;
	int i = 2;

	memset(o, 0, sizeof(*o));
	o->as4 = true;
	o->hold = 180;
	o->prefixes = 1000000;
	o->sets = 300;
	o->seed = 1;
	o->timeout_s = 600;
	o->port = o->remote_port = 179;
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		exit(0);
	}
	if (argc < 2 || (strcmp(argv[1], "send") != 0 && strcmp(argv[1], "recv") != 0))
		bad_args("the first argument is the mode: send or recv");
	o->send = strcmp(argv[1], "send") == 0;
	for (; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool flag = true;
		if (strcmp(a, "--passive") == 0)
			o->passive = true;
		else if (strcmp(a, "--no-as4") == 0)
			o->as4 = false;
		else if (strcmp(a, "--exit-after-send") == 0)
			o->exit_after_send = true;
		else if (strcmp(a, "--stop-eor") == 0)
			o->stop_eor = true;
		else if (strcmp(a, "--progress") == 0)
			o->progress = true;
		else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		} else
			flag = false;
		if (flag)
			continue;
		if (!v)
			bad_args("%s needs a value", a);
		i++;
		if (strcmp(a, "--local") == 0)
			addr_arg(a, v, &o->local);
		else if (strcmp(a, "--remote") == 0)
			addr_arg(a, v, &o->remote);
		else if (strcmp(a, "--nh") == 0)
			addr_arg(a, v, &o->nh);
		else if (strcmp(a, "--id") == 0) {
			struct ip_addr id;
			addr_arg(a, v, &id);
			o->id = bgp_get32(id.b);
			if (!o->id)
				bad_args("--id 0.0.0.0 is not a BGP identifier");
		} else if (strcmp(a, "--port") == 0) {
			o->port = (uint16_t)num_arg(a, v, 65535);
			have_port = true;
		} else if (strcmp(a, "--remote-port") == 0) {
			o->remote_port = (uint16_t)num_arg(a, v, 65535);
			have_rport = true;
		} else if (strcmp(a, "--as") == 0) {
			o->as = (uint32_t)num_arg(a, v, UINT32_MAX);
			have_as = true;
		} else if (strcmp(a, "--peer-as") == 0) {
			o->peer_as = (uint32_t)num_arg(a, v, UINT32_MAX);
			have_peer_as = true;
		} else if (strcmp(a, "--hold") == 0) {
			o->hold = (uint16_t)num_arg(a, v, 65535);
			if (o->hold == 1 || o->hold == 2)
				bad_args("--hold must be 0 or at least 3 (RFC 4271 4.2)");
		} else if (strcmp(a, "--prefixes") == 0) {
			o->prefixes = num_arg(a, v, 100000000);
		} else if (strcmp(a, "--sets") == 0) {
			o->sets = (uint32_t)num_arg(a, v, 65535);
			if (o->sets == 0)
				bad_args("--sets must be at least 1");
		} else if (strcmp(a, "--max-nlri") == 0) {
			o->max_nlri = (uint32_t)num_arg(a, v, 4096);
		} else if (strcmp(a, "--seed") == 0) {
			o->seed = num_arg(a, v, UINT64_MAX);
		} else if (strcmp(a, "--quiet") == 0) {
			o->quiet_ms = (uint32_t)num_arg(a, v, 86400000);
		} else if (strcmp(a, "--timeout") == 0) {
			o->timeout_s = secs_arg(a, v);
		} else if (strcmp(a, "--duration") == 0) {
			o->duration_s = secs_arg(a, v);
		} else {
			bad_args("unknown option '%s'", a);
		}
	}
	if (!o->local.af || !o->remote.af)
		bad_args("--local and --remote are required");
	if (!have_as || !have_peer_as || !o->as || !o->peer_as)
		bad_args("--as and --peer-as are required (non-zero)");
	if (o->as == o->peer_as)
		bad_args("--as and --peer-as are equal: this tool speaks eBGP only");
	if (!o->as4 && (o->as > 0xffff || o->peer_as > 0xffff))
		bad_args("--no-as4 needs 2-octet AS numbers (at most 65535)");
	if (!o->id)
		o->id = bgp_get32(o->local.b);
	if (!o->nh.af)
		o->nh = o->local;
	if (!have_rport && have_port)
		o->remote_port = o->port;
	if (o->passive && !o->port)
		bad_args("--passive needs a non-zero --port");
	if (!o->passive && !o->remote_port)
		bad_args("--remote-port 0 cannot be connected to");
	if (!o->send && (o->exit_after_send || o->duration_s > 0 || o->max_nlri))
		bad_args("--exit-after-send, --duration and --max-nlri are for send");
	if (o->send && (o->stop_eor || o->quiet_ms))
		bad_args("--stop-eor and --quiet are for recv");
}

/* ---- time and randomness ------------------------------------------------------------- */
static double
mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
rnd(uint64_t *s) /* splitmix64 */
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t
rnd_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((rnd(s) >> 32) * (uint64_t)n) >> 32);
}

/* ---- a set of IPv4 prefixes (open addressing, tombstones) -------------------------- */
#define PSET_TOMB UINT64_MAX

struct pset {
	uint64_t *v; /* 0 empty, PSET_TOMB deleted, else key */
	size_t cap, n, used;
};

static uint64_t
pkey(uint32_t addr, uint8_t len)
{
	return (((uint64_t)addr << 8) | len) + 1;
}

static size_t
pslot(const struct pset *s, uint64_t k)
{
	return (size_t)((k * 0x9e3779b97f4a7c15ull) >> 20) & (s->cap - 1);
}

static void pset_grow(struct pset *s);

/* true when k was added (it was not there) */
static bool
pset_add(struct pset *s, uint64_t k)
{
	size_t i, tomb = SIZE_MAX;
	if ((s->used + 1) * 2 > s->cap)
		pset_grow(s);
	for (i = pslot(s, k);; i = (i + 1) & (s->cap - 1)) {
		if (s->v[i] == k)
			return false;
		if (s->v[i] == PSET_TOMB && tomb == SIZE_MAX)
			tomb = i;
		if (s->v[i] == 0)
			break;
	}
	if (tomb != SIZE_MAX)
		i = tomb;
	else
		s->used++;
	s->v[i] = k;
	s->n++;
	return true;
}

static bool
pset_del(struct pset *s, uint64_t k)
{
	if (!s->cap)
		return false;
	for (size_t i = pslot(s, k);; i = (i + 1) & (s->cap - 1)) {
		if (s->v[i] == 0)
			return false;
		if (s->v[i] == k) {
			s->v[i] = PSET_TOMB;
			s->n--;
			return true;
		}
	}
}

static void
pset_grow(struct pset *s)
{
	struct pset t = {0};
	t.cap = s->cap ? s->cap : 1024;
	while (t.cap < (s->n + 1) * 4)
		t.cap *= 2;
	t.v = lib_xcalloc(t.cap, sizeof(*t.v));
	for (size_t i = 0; i < s->cap; i++)
		if (s->v[i] && s->v[i] != PSET_TOMB)
			pset_add(&t, s->v[i]);
	free(s->v);
	*s = t;
}

/* ---- the synthetic table -------------------------------------------------------------- */
struct tpfx {
	uint32_t addr;
	uint8_t len;
	uint16_t set;
};

struct aset {
	struct bgp_attrs a;
	uint8_t path[2 + 4 * MAX_PATH];
	uint8_t comm[4 * MAX_COMM];
	uint8_t lcomm[12];
};

/* Per million prefixes of the IPv4 DFZ, by length. */
static const struct {
	uint8_t len;
	uint32_t per_million;
} len_mix[] = {
    {24, 610980}, {23, 105000}, {22, 125000}, {21, 48000}, {20, 43000}, {19, 28000},
    {18, 14000},  {17, 9000},   {16, 13000},  {15, 1500},  {14, 1200},  {13, 600},
    {12, 400},    {11, 150},    {10, 100},    {9, 50},     {8, 20},
};

/* Special-purpose IPv4 space (RFC 6890) no generated prefix overlaps. */
static const struct {
	uint32_t net;
	uint8_t len;
} reserved[] = {
    {0x00000000u, 8},  {0x0a000000u, 8},  {0x64400000u, 10}, {0x7f000000u, 8},  {0xa9fe0000u, 16},
    {0xac100000u, 12}, {0xc0000000u, 24}, {0xc0000200u, 24}, {0xc0a80000u, 16}, {0xc6120000u, 15},
    {0xc6336400u, 24}, {0xcb007100u, 24}, {0xe0000000u, 3},
};

static uint32_t
mask(uint8_t len)
{
	return len ? ~0u << (32 - len) : 0;
}

static bool
is_reserved(uint32_t addr, uint8_t len)
{
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		uint8_t l = len < reserved[i].len ? len : reserved[i].len;
		if (((addr ^ reserved[i].net) & mask(l)) == 0)
			return true;
	}
	return false;
}

static int
cmp_len(const void *x, const void *y)
{
	const struct tpfx *a = x, *b = y;
	return (int)a->len - (int)b->len;
}

static int
cmp_set_pfx(const void *x, const void *y)
{
	const struct tpfx *a = x, *b = y;
	if (a->set != b->set)
		return a->set < b->set ? -1 : 1;
	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	return (int)a->len - (int)b->len;
}

/* n distinct prefixes, sorted by attribute set, then address. */
static struct tpfx *
gen_prefixes(uint64_t n, uint32_t nsets, uint64_t seed)
{
	struct tpfx *v = lib_xcalloc(n ? n : 1, sizeof(*v));
	struct pset seen = {0};
	double *cum = lib_xcalloc(nsets, sizeof(*cum)), tot = 0;
	uint64_t st = seed ^ 0x5eedull;

	for (uint64_t i = 0; i < n; i++) {
		uint32_t r = rnd_below(&st, 1000000), acc = 0;
		v[i].len = 24;
		for (size_t k = 0; k < sizeof(len_mix) / sizeof(len_mix[0]); k++) {
			acc += len_mix[k].per_million;
			if (r < acc) {
				v[i].len = len_mix[k].len;
				break;
			}
		}
	}
	qsort(v, n, sizeof(*v), cmp_len); /* shorter first: more-specifics carve them */
	for (uint64_t i = 0; i < n; i++) {
		uint32_t misses = 0;
		for (;;) {
			uint8_t len = v[i].len;
			uint32_t a;
			if (i > 0 && v[0].len < len && rnd_below(&st, 100) < 40) {
				const struct tpfx *up = &v[rnd_below(&st, (uint32_t)i)];
				a = up->len < len ? up->addr | ((uint32_t)rnd(&st) & ~mask(up->len))
				                  : (uint32_t)rnd(&st);
			} else {
				a = (uint32_t)rnd(&st);
			}
			a &= mask(len);
			if (!is_reserved(a, len) && pset_add(&seen, pkey(a, len))) {
				v[i].addr = a;
				break;
			}
			/* this length is (nearly) full: use a longer one */
			if (++misses % 256 == 0 && v[i].len < 32)
				v[i].len++;
		}
	}
	free(seen.v);
	/* Zipf weights: set k gets 1 / (k + 1) of the routes, relatively */
	for (uint32_t k = 0; k < nsets; k++) {
		tot += 1.0 / (double)(k + 1);
		cum[k] = tot;
	}
	for (uint64_t i = 0; i < n; i++) {
		double x = (double)(rnd(&st) >> 11) / (double)(1ull << 53) * tot;
		uint32_t lo = 0, hi = nsets - 1;
		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;
			if (cum[mid] > x)
				hi = mid;
			else
				lo = mid + 1;
		}
		v[i].set = (uint16_t)lo;
	}
	free(cum);
	qsort(v, n, sizeof(*v), cmp_set_pfx);
	return v;
}

/* Transit ASes the second hop is drawn from. */
static const uint32_t transit[] = {174,  701,  1273, 1299, 2828, 2914, 3257, 3320, 3356, 3491,
                                   4637, 5511, 6453, 6461, 6762, 6830, 6939, 7018, 9002, 12956};

/* A random AS outside the speakers' own (bench/bgp.sh uses private ASNs). */
static uint32_t
rnd_as(uint64_t *st, const struct opts *o)
{
	for (;;) {
		uint32_t as = rnd_below(st, 100) < 20 ? 131072 + rnd_below(st, 270000)
		                                      : 1 + rnd_below(st, 64000);
		if (as != BGP_AS_TRANS && as != o->as && as != o->peer_as)
			return as;
	}
}

static void
gen_sets(struct aset *sets, uint32_t n, const struct opts *o)
{
	/* ASes after ours: 1 to 10, weights in thousandths */
	static const uint16_t hops_w[] = {50, 200, 300, 220, 120, 60, 30, 10, 5, 5};
	uint64_t st = o->seed ^ 0xa5e7ull;

	for (uint32_t k = 0; k < n; k++) {
		struct aset *s = &sets[k];
		struct bgp_attrs *a = &s->a;
		uint32_t path[MAX_PATH], r = rnd_below(&st, 1000), acc = 0, hops = 1, np = 0;

		memset(s, 0, sizeof(*s));
		for (uint32_t h = 0; h < sizeof(hops_w) / sizeof(hops_w[0]); h++) {
			acc += hops_w[h];
			if (r < acc) {
				hops = h + 1;
				break;
			}
		}
		path[np++] = o->as;
		for (uint32_t h = 0; h < hops; h++) {
			uint32_t as =
			    h == 0 && hops > 1
			        ? transit[rnd_below(&st, sizeof(transit) / sizeof(transit[0]))]
			        : rnd_as(&st, o);
			path[np++] = as == o->as || as == o->peer_as ? rnd_as(&st, o) : as;
		}
		if (rnd_below(&st, 100) < 10) /* the origin prepends */
			for (uint32_t p = 1 + rnd_below(&st, 3); p > 0 && np < MAX_PATH; p--)
				path[np] = path[np - 1], np++;
		s->path[0] = BGP_AS_SEQUENCE;
		s->path[1] = (uint8_t)np;
		for (uint32_t i = 0; i < np; i++) {
			s->path[2 + 4 * i] = (uint8_t)(path[i] >> 24);
			s->path[3 + 4 * i] = (uint8_t)(path[i] >> 16);
			s->path[4 + 4 * i] = (uint8_t)(path[i] >> 8);
			s->path[5 + 4 * i] = (uint8_t)path[i];
		}
		a->has = BGP_HAS(BGP_ATTR_ORIGIN) | BGP_HAS(BGP_ATTR_AS_PATH) |
		         BGP_HAS(BGP_ATTR_NEXT_HOP);
		r = rnd_below(&st, 100);
		a->origin = r < 85   ? BGP_ORIGIN_IGP
		            : r < 97 ? BGP_ORIGIN_INCOMPLETE
		                     : BGP_ORIGIN_EGP;
		a->aspath_wide = true;
		a->aspath = (struct bgp_span){s->path, (uint16_t)(2 + 4 * np)};
		a->nexthop = o->nh;
		if (rnd_below(&st, 100) < 40) {
			a->has |= BGP_HAS(BGP_ATTR_MED);
			a->med = 10 * rnd_below(&st, 100);
		}
		if (rnd_below(&st, 100) < 60) {
			uint32_t nc = 1 + rnd_below(&st, MAX_COMM);
			uint32_t cas = path[1] <= 0xffff ? path[1] : 65000;
			for (uint32_t i = 0; i < nc; i++) {
				uint32_t v = rnd_below(&st, 65536);
				s->comm[4 * i] = (uint8_t)(cas >> 8);
				s->comm[4 * i + 1] = (uint8_t)cas;
				s->comm[4 * i + 2] = (uint8_t)(v >> 8);
				s->comm[4 * i + 3] = (uint8_t)v;
			}
			a->has |= BGP_HAS(BGP_ATTR_COMMUNITIES);
			a->communities = (struct bgp_span){s->comm, (uint16_t)(4 * nc)};
		}
		if (rnd_below(&st, 100) < 5) {
			uint32_t v[3] = {o->as, 1, k};
			for (int i = 0; i < 12; i++)
				s->lcomm[i] = (uint8_t)(v[i / 4] >> (24 - 8 * (i % 4)));
			a->has |= BGP_HAS(BGP_ATTR_LARGE_COMMUNITY);
			a->large_communities = (struct bgp_span){s->lcomm, 12};
		}
	}
}

/* ---- the stream of UPDATEs ---------------------------------------------------------- */
struct stream {
	uint8_t *p;
	size_t len, cap;
	uint64_t updates, prefixes;
};

static void
stream_room(struct stream *s, size_t n)
{
	if (s->cap - s->len >= n)
		return;
	while (s->cap - s->len < n)
		s->cap = s->cap ? s->cap * 2 : 1u << 20;
	s->p = lib_xrealloc(s->p, s->cap);
}

/* Every prefix of v (sorted by set) in as few UPDATEs as fit, then End-of-RIB. */
static int
build_stream(struct stream *s, const struct bgp_params *par, const struct tpfx *v, uint64_t n,
             const struct aset *sets, uint32_t max_nlri)
{
	struct ip_prefix *win = lib_xcalloc(WIN, sizeof(*win));
	uint64_t i = 0;
	struct bgp_wr w;
	int rc = 0;

	s->len = 0;
	s->updates = s->prefixes = 0;
	while (i < n) {
		uint16_t set = v[i].set;
		size_t k = 0, done = 0;
		while (k < WIN && i + k < n && v[i + k].set == set && (!max_nlri || k < max_nlri)) {
			struct ip_prefix *p = &win[k];
			uint32_t a = v[i + k].addr;
			memset(p, 0, sizeof(*p));
			p->a.af = IP_V4;
			p->a.b[0] = (uint8_t)(a >> 24);
			p->a.b[1] = (uint8_t)(a >> 16);
			p->a.b[2] = (uint8_t)(a >> 8);
			p->a.b[3] = (uint8_t)a;
			p->len = v[i + k].len;
			k++;
		}
		stream_room(s, BGP_MAX_MSG);
		w = bgp_wr_make(s->p + s->len, s->cap - s->len);
		if ((rc = bgp_update_pack(&w, par, &sets[set].a, win, NULL, k, &done)) != 0)
			goto out;
		s->len += w.len;
		s->updates++;
		s->prefixes += done;
		i += done;
	}
	stream_room(s, BGP_MAX_MSG);
	w = bgp_wr_make(s->p + s->len, s->cap - s->len);
	if ((rc = bgp_eor_encode(&w, BGP_FAM_IPV4)) == 0)
		s->len += w.len;
out:
	free(win);
	return rc;
}

/* ---- the session ---------------------------------------------------------------------- */
enum { S_CONNECT, S_OPENSENT, S_OPENCONFIRM, S_ESTABLISHED, S_DONE };

struct sess {
	const struct opts *o;
	int fd, lfd;
	int state;
	struct bgp_open local_open;
	struct bgp_params par;
	uint8_t *rx;
	size_t rxlen;
	uint8_t ctl[8192]; /* OPEN, KEEPALIVE, NOTIFICATION waiting to go */
	size_t ctl_len;
	/* send: the UPDATE stream, how far it went, the end of the message being written */
	struct stream *st;
	size_t off, mend;
	double last_rx, last_ka, t0;
	/* what happened */
	double t_est, t_start, t_sent, t_acked, t_first, t_done, t_last_upd;
	double w_est, w_start, w_sent, w_first, w_done;
	uint64_t updates_in, nlri_in, withdrawn_in, ipv6_in, eor_in;
	struct pset rib; /* recv: the IPv4 prefixes the peer holds out */
	bool eor_seen, reported;
	char error[256];
};

static volatile sig_atomic_t stop_sig;

static void
on_signal(int sig)
{
	stop_sig = sig;
}

static void __attribute__((format(printf, 2, 3))) sess_error(struct sess *s, const char *fmt, ...)
{
	va_list ap;
	if (s->error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
	fprintf(stderr, PROG ": %s\n", s->error);
}

static void
queue(struct sess *s, const uint8_t *m, size_t n)
{
	if (s->ctl_len + n <= sizeof(s->ctl)) {
		memcpy(s->ctl + s->ctl_len, m, n);
		s->ctl_len += n;
	}
}

static void
send_keepalive(struct sess *s)
{
	uint8_t b[BGP_KEEPALIVE_LEN];
	struct bgp_wr w = bgp_wr_make(b, sizeof(b));
	if (bgp_keepalive_encode(&w) == 0)
		queue(s, b, w.len);
	s->last_ka = mono();
}

/* Writes what is queued, blocking briefly: used before closing. */
static void
flush_blocking(struct sess *s, double secs)
{
	double end = mono() + secs;
	while (s->ctl_len && mono() < end) {
		struct pollfd p = {s->fd, POLLOUT, 0};
		ssize_t n;
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = write(s->fd, s->ctl, s->ctl_len);
		if (n <= 0)
			break;
		memmove(s->ctl, s->ctl + n, s->ctl_len - (size_t)n);
		s->ctl_len -= (size_t)n;
	}
}

/* Ends the session with a NOTIFICATION: it goes out once the UPDATE being
 * written is complete (never inside one); the stream stops there. */
static void
notify(struct sess *s, uint8_t code, uint8_t sub, const char *text, const struct bgp_err *e)
{
	uint8_t b[BGP_MAX_MSG];
	struct bgp_wr w = bgp_wr_make(b, sizeof(b));
	int rc;

	if (s->state == S_DONE || s->fd < 0)
		return;
	if (e)
		rc = bgp_notify_encode_err(&w, e);
	else if (text)
		rc = bgp_notify_encode_shutdown(&w, sub, text);
	else
		rc = bgp_notify_encode(&w, code, sub, NULL, 0);
	if (s->st && s->off < s->mend) { /* finish the UPDATE under way first */
		while (s->off < s->mend) {
			struct pollfd p = {s->fd, POLLOUT, 0};
			ssize_t n;
			if (poll(&p, 1, 1000) <= 0)
				break;
			n = write(s->fd, s->st->p + s->off, s->mend - s->off);
			if (n <= 0)
				break;
			s->off += (size_t)n;
		}
	}
	if (rc == 0)
		queue(s, b, w.len);
	flush_blocking(s, 2);
	s->state = S_DONE;
}

static const char *
addr_str(const struct ip_addr *a, char *buf)
{
	return ip_addr_fmt(a, buf);
}

static void
sockaddr_of(const struct ip_addr *a, uint16_t port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	memcpy(&sa->sin_addr, a->b, 4);
}

/* A connected socket, or -1 (error set) when --timeout passed first. */
static int
open_conn(struct sess *s)
{
	const struct opts *o = s->o;
	struct sockaddr_in la, ra;
	char ls[IP_STRLEN], rs[IP_STRLEN];
	int one = 1, warned = 0;

	addr_str(&o->local, ls);
	addr_str(&o->remote, rs);
	if (o->passive) {
		sockaddr_of(&o->local, o->port, &la);
		s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s->lfd < 0 || setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(s->lfd, (struct sockaddr *)&la, sizeof(la)) || listen(s->lfd, 4)) {
			sess_error(s, "listen on %s port %u: %s", ls, o->port, strerror(errno));
			return -1;
		}
		while (!stop_sig && mono() - s->t0 < o->timeout_s) {
			struct pollfd p = {s->lfd, POLLIN, 0};
			socklen_t sl = sizeof(ra);
			int fd;
			if (poll(&p, 1, 200) <= 0)
				continue;
			fd = accept4(s->lfd, (struct sockaddr *)&ra, &sl, SOCK_CLOEXEC);
			if (fd < 0)
				continue;
			if (memcmp(&ra.sin_addr, o->remote.b, 4) != 0) {
				close(fd); /* not our peer */
				continue;
			}
			close(s->lfd);
			s->lfd = -1;
			return fd;
		}
		sess_error(s, "no connection from %s within %.0f s", rs, o->timeout_s);
		return -1;
	}
	sockaddr_of(&o->local, 0, &la);
	sockaddr_of(&o->remote, o->remote_port, &ra);
	while (!stop_sig && mono() - s->t0 < o->timeout_s) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			sess_error(s, "socket: %s", strerror(errno));
			return -1;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&la, sizeof(la)) != 0) {
			sess_error(s, "bind %s: %s", ls, strerror(errno));
			close(fd);
			return -1;
		}
		if (connect(fd, (struct sockaddr *)&ra, sizeof(ra)) == 0)
			return fd;
		if (!warned++)
			fprintf(stderr, PROG ": connect %s port %u: %s; retrying every second\n",
			        rs, o->remote_port, strerror(errno));
		close(fd);
		for (int i = 0; i < 10 && !stop_sig; i++)
			usleep(100000);
	}
	sess_error(s, "could not connect to %s port %u within %.0f s", rs, o->remote_port,
	           o->timeout_s);
	return -1;
}

static void
send_open(struct sess *s)
{
	const struct opts *o = s->o;
	struct bgp_open *op = &s->local_open;
	uint8_t b[BGP_MAX_MSG];
	struct bgp_wr w = bgp_wr_make(b, sizeof(b));

	memset(op, 0, sizeof(*op));
	op->version = BGP_VERSION;
	op->as = o->as;
	op->hold = o->hold;
	op->id = o->id;
	op->caps.has = BGP_CAPF_MP | BGP_CAPF_RR | (o->as4 ? BGP_CAPF_AS4 : 0);
	op->caps.as4 = o->as;
	op->caps.n_mp = 1;
	op->caps.mp[0] = (struct bgp_af){BGP_AFI_IPV4, BGP_SAFI_UNICAST, 0};
	if (bgp_open_encode(&w, op) == 0)
		queue(s, b, w.len);
	s->state = S_OPENSENT;
}

static void
on_open(struct sess *s, const uint8_t *m, size_t n)
{
	struct bgp_open ro;
	struct bgp_err e;
	struct bgp_open_policy pol = {
	    .peer_as = s->o->peer_as,
	    .local_as = s->o->as,
	    .local_id = s->o->id,
	    .min_hold = 3,
	    .require_fams = BGP_FAM_BIT(BGP_FAM_IPV4),
	};

	if (bgp_open_decode(m, n, &ro, &e) != 0 || bgp_open_check(&ro, &pol, &e) != 0) {
		sess_error(s, "the peer's OPEN is refused: %s (%u/%u)", e.why ? e.why : "", e.code,
		           e.subcode);
		notify(s, 0, 0, NULL, &e);
		return;
	}
	bgp_params_negotiate(&s->par, &s->local_open, &ro);
	if (!(s->par.fams & BGP_FAM_BIT(BGP_FAM_IPV4))) {
		sess_error(s, "IPv4 unicast was not negotiated");
		notify(s, BGP_ERR_OPEN, BGP_OPEN_UNSUP_CAP, NULL, NULL);
		return;
	}
	send_keepalive(s);
	s->state = S_OPENCONFIRM;
}

static void
on_notification(struct sess *s, const uint8_t *m, size_t n)
{
	struct bgp_notification nt;
	char text[BGP_MAX_SHUTDOWN + 1] = "";
	if (bgp_notify_decode(m, n, &nt) != 0) {
		sess_error(s, "the peer sent a malformed NOTIFICATION");
	} else {
		if (nt.shut && !nt.shut_bad) {
			memcpy(text, nt.shut, nt.shut_len);
			text[nt.shut_len] = 0;
		}
		sess_error(s, "the peer sent NOTIFICATION %u/%u (%s / %s)%s%s", nt.code, nt.subcode,
		           bgp_err_code_name(nt.code), bgp_err_subcode_name(nt.code, nt.subcode),
		           text[0] ? ": " : "", text);
	}
	s->state = S_DONE;
}

static void
count_nlri(struct sess *s, const struct bgp_nlri *nl, bool add)
{
	struct bgp_nlri_it it;
	struct ip_prefix p;
	uint32_t id;

	if (!nl->present || nl->fam == BGP_FAM_NONE)
		return;
	if (nl->fam == BGP_FAM_IPV6) {
		s->ipv6_in += nl->count;
		return;
	}
	bgp_nlri_iter(nl, &it);
	while (bgp_nlri_next(&it, &p, &id)) {
		uint64_t k = pkey(bgp_get32(p.a.b), p.len);
		if (add) {
			s->nlri_in++;
			pset_add(&s->rib, k);
		} else {
			s->withdrawn_in++;
			pset_del(&s->rib, k);
		}
	}
}

static void
on_update(struct sess *s, const uint8_t *m, size_t n)
{
	struct bgp_update u;
	bool wd;

	s->updates_in++;
	if (bgp_update_decode(&s->par, m, n, &u) != 0) {
		sess_error(s, "the peer's UPDATE is malformed: %s", u.why ? u.why : "");
		notify(s, 0, 0, NULL, &u.err);
		return;
	}
	s->t_last_upd = mono();
	if (u.eor) {
		if (u.eor_afi == BGP_AFI_IPV4 && u.eor_safi == BGP_SAFI_UNICAST)
			s->eor_seen = true;
		s->eor_in++;
	} else {
		wd = u.verdict == BGP_VERDICT_WITHDRAW;
		count_nlri(s, &u.withdrawn, false);
		count_nlri(s, &u.mp_unreach, false);
		count_nlri(s, &u.nlri, !wd);
		count_nlri(s, &u.mp_reach, !wd);
	}
	if (s->rib.n && !s->t_first) {
		s->t_first = mono();
		s->w_first = wall();
	}
	if (!s->o->send && !s->t_done && s->rib.n &&
	    (s->rib.n >= s->o->prefixes || (s->o->stop_eor && s->eor_seen))) {
		s->t_done = mono();
		s->w_done = wall();
	}
}

static void
on_message(struct sess *s, uint8_t type, const uint8_t *m, size_t n)
{
	s->last_rx = mono();
	if (type == BGP_NOTIFICATION) {
		on_notification(s, m, n);
		return;
	}
	switch (s->state) {
	case S_OPENSENT:
		if (type == BGP_OPEN) {
			on_open(s, m, n);
			return;
		}
		sess_error(s, "%s in OpenSent", bgp_msg_type_name(type));
		notify(s, BGP_ERR_FSM, BGP_FSM_IN_OPENSENT, NULL, NULL);
		return;
	case S_OPENCONFIRM:
		if (type == BGP_KEEPALIVE) {
			char rs[IP_STRLEN];
			s->state = S_ESTABLISHED;
			s->t_est = mono();
			s->w_est = wall();
			fprintf(stderr, PROG ": established with %s (hold %u s, %s)\n",
			        addr_str(&s->o->remote, rs), s->par.hold,
			        s->par.as4 ? "4-octet AS" : "2-octet AS");
			return;
		}
		sess_error(s, "%s in OpenConfirm", bgp_msg_type_name(type));
		notify(s, BGP_ERR_FSM, BGP_FSM_IN_OPENCONFIRM, NULL, NULL);
		return;
	case S_ESTABLISHED:
		if (type == BGP_UPDATE)
			on_update(s, m, n);
		else if (type == BGP_OPEN) {
			sess_error(s, "OPEN in Established");
			notify(s, BGP_ERR_FSM, BGP_FSM_IN_ESTABLISHED, NULL, NULL);
		}
		/* KEEPALIVE: the hold timer; ROUTE-REFRESH: not honoured (a load tool) */
		return;
	default:
		return;
	}
}

/* Reads what the socket has and handles every whole message. */
static void
do_read(struct sess *s)
{
	size_t at = 0;
	ssize_t n;

	if (s->rxlen == RX_BUF) /* cannot happen: whole messages are consumed, 4096 at most */
		return;
	n = read(s->fd, s->rx + s->rxlen, RX_BUF - s->rxlen);

	if (n == 0) {
		sess_error(s, "the peer closed the connection");
		s->state = S_DONE;
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			sess_error(s, "read: %s", strerror(errno));
			s->state = S_DONE;
		}
		return;
	}
	s->rxlen += (size_t)n;
	while (s->state != S_DONE && !s->t_done) {
		struct bgp_hdr h;
		struct bgp_err e;
		int rc = bgp_hdr_decode(s->rx + at, s->rxlen - at, s->par.rx_max, &h, &e);
		if (rc == -EAGAIN)
			break;
		if (rc != 0) {
			sess_error(s, "bad message header from the peer: %s", e.why ? e.why : "");
			notify(s, 0, 0, NULL, &e);
			break;
		}
		if (s->rxlen - at < h.len)
			break;
		on_message(s, h.type, s->rx + at, h.len);
		at += h.len;
	}
	memmove(s->rx, s->rx + at, s->rxlen - at);
	s->rxlen -= at;
}

/* Writes control messages (never inside an UPDATE), then the stream. */
static void
do_write(struct sess *s)
{
	ssize_t n;

	if (s->ctl_len && (!s->st || s->off == s->mend)) {
		n = write(s->fd, s->ctl, s->ctl_len);
		if (n > 0) {
			memmove(s->ctl, s->ctl + n, s->ctl_len - (size_t)n);
			s->ctl_len -= (size_t)n;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			sess_error(s, "write: %s", strerror(errno));
			s->state = S_DONE;
		}
		if (s->ctl_len)
			return;
	}
	if (s->state != S_ESTABLISHED || !s->st || s->off == s->st->len)
		return;
	if (!s->t_start) {
		s->t_start = mono();
		s->w_start = wall();
	}
	for (;;) {
		size_t lim = s->st->len - s->off;
		if (s->ctl_len) /* a KEEPALIVE is due: only up to the end of this UPDATE */
			lim = s->mend - s->off;
		if (lim > WRITE_MAX)
			lim = WRITE_MAX;
		if (lim == 0)
			break;
		n = write(s->fd, s->st->p + s->off, lim);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				sess_error(s, "write: %s", strerror(errno));
				s->state = S_DONE;
			}
			return;
		}
		s->off += (size_t)n;
		while (s->mend < s->off) /* our own messages: their lengths are sound */
			s->mend += bgp_get16(s->st->p + s->mend + BGP_MARKER_LEN);
		if ((size_t)n < lim)
			return;
		if (s->off == s->st->len || s->ctl_len)
			break;
	}
	if (s->off == s->st->len && !s->t_sent) {
		s->t_sent = mono();
		s->w_sent = wall();
	}
}

static uint64_t
outq(int fd)
{
	int n = 0;
	if (ioctl(fd, SIOCOUTQ, &n) != 0)
		return 0;
	return n > 0 ? (uint64_t)n : 0;
}

static void
progress(struct sess *s, double now)
{
	if (s->o->send)
		fprintf(stderr, PROG ": %.1f s sent %zu of %zu bytes\n", now - s->t0, s->off,
		        s->st ? s->st->len : 0);
	else
		fprintf(stderr, PROG ": %.1f s holding %zu prefixes (%" PRIu64 " updates)\n",
		        now - s->t0, s->rib.n, s->updates_in);
}

/* recv: is the job done? (the count and End-of-RIB are noted as the UPDATE
 * that completes them is read: on_update) */
static bool
recv_done(struct sess *s, double now)
{
	const struct opts *o = s->o;
	if (s->t_done)
		return true;
	if (s->state != S_ESTABLISHED || !s->rib.n || !o->quiet_ms ||
	    now - s->t_last_upd < o->quiet_ms / 1000.0)
		return false;
	s->t_done = s->t_last_upd; /* done when the last UPDATE came */
	s->w_done = wall() - (now - s->t_last_upd);
	return true;
}

static void summary(struct sess *s);

/* The session from connect to the end; 0 when the job was done. */
static int
run(struct sess *s)
{
	const struct opts *o = s->o;
	double last_prog = mono(), up_until = 0;
	bool ok = false;

	if ((s->fd = open_conn(s)) < 0)
		return 1;
	fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
	bgp_params_default(&s->par, o->as, o->peer_as);
	s->par.fams = BGP_FAM_BIT(BGP_FAM_IPV4);
	s->last_rx = s->last_ka = mono();
	send_open(s);
	while (s->state != S_DONE) {
		double now = mono(), ka = s->par.hold / 3.0;
		struct pollfd p = {s->fd, POLLIN, 0};
		int wait_ms = 100;

		if (stop_sig) {
			sess_error(s, "stopped by signal %d", (int)stop_sig);
			notify(s, BGP_ERR_CEASE, BGP_CEASE_ADMIN_SHUTDOWN, PROG " stopped", NULL);
			break;
		}
		if (o->progress && now - last_prog >= 1) {
			progress(s, now);
			last_prog = now;
		}
		if (s->par.hold && s->state >= S_OPENCONFIRM && now - s->last_rx > s->par.hold) {
			sess_error(s, "hold timer expired (%u s)", s->par.hold);
			notify(s, BGP_ERR_HOLD, 0, NULL, NULL);
			break;
		}
		if (s->state < S_ESTABLISHED && now - s->t0 > o->timeout_s) {
			sess_error(s, "not Established within %.0f s", o->timeout_s);
			notify(s, BGP_ERR_CEASE, BGP_CEASE_ADMIN_SHUTDOWN, PROG " timeout", NULL);
			break;
		}
		if (s->state == S_ESTABLISHED && ka > 0 && now - s->last_ka >= ka)
			send_keepalive(s);
		if (o->send && s->t_sent && !s->t_acked && outq(s->fd) == 0) {
			s->t_acked = now;
			summary(s); /* now, while the session stays up */
			if (o->duration_s > 0)
				up_until = now + o->duration_s;
			ok = true;
			if (o->exit_after_send) {
				notify(s, BGP_ERR_CEASE, BGP_CEASE_ADMIN_SHUTDOWN, PROG " done",
				       NULL);
				break;
			}
		}
		if (o->send && !s->t_acked && now - s->t0 > o->timeout_s) {
			sess_error(s, "the table was not taken within %.0f s", o->timeout_s);
			notify(s, BGP_ERR_CEASE, BGP_CEASE_ADMIN_SHUTDOWN, PROG " timeout", NULL);
			break;
		}
		if (o->send && up_until && now >= up_until) {
			notify(s, BGP_ERR_CEASE, BGP_CEASE_ADMIN_SHUTDOWN, PROG " done", NULL);
			break;
		}
		if (!o->send && recv_done(s, now)) {
			ok = true;
			notify(s, BGP_ERR_CEASE, BGP_CEASE_ADMIN_SHUTDOWN, PROG " done", NULL);
			break;
		}
		if (!o->send && s->state == S_ESTABLISHED && now - s->t0 > o->timeout_s) {
			sess_error(s, "%zu of %" PRIu64 " prefixes after %.0f s", s->rib.n,
			           o->prefixes, o->timeout_s);
			notify(s, BGP_ERR_CEASE, BGP_CEASE_ADMIN_SHUTDOWN, PROG " timeout", NULL);
			break;
		}
		if (s->ctl_len || (s->state == S_ESTABLISHED && s->st && s->off < s->st->len))
			p.events |= POLLOUT;
		if (o->send && s->t_sent && !s->t_acked)
			wait_ms = 1; /* watching the send queue drain */
		if (poll(&p, 1, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			sess_error(s, "poll: %s", strerror(errno));
			break;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR))
			do_read(s);
		if (s->state != S_DONE && (p.revents & POLLOUT))
			do_write(s);
	}
	return ok ? 0 : 1;
}

/* The one line of output: in send mode as soon as the peer has the table
 * (the session then stays up), else at the end. */
static void
summary(struct sess *s)
{
	const struct opts *o = s->o;
	double secs;
	if (s->reported)
		return;
	s->reported = true;
	if (o->send) {
		const struct stream *st = s->st;
		secs = s->t_sent ? s->t_sent - s->t_start : 0;
		printf("mode=send prefixes=%" PRIu64 " updates=%" PRIu64 " bytes=%zu sent=%zu "
		       "secs=%.3f rate=%.0f acked_secs=%.3f prefixes_in=%zu t_established=%.6f "
		       "t_start=%.6f t_done=%.6f error=\"%s\"\n",
		       st->prefixes, st->updates, st->len, s->off, secs,
		       secs > 0 ? (double)st->prefixes / secs : 0,
		       s->t_acked ? s->t_acked - s->t_start : 0, s->rib.n, s->w_est, s->w_start,
		       s->w_sent, s->error);
	} else {
		double end = s->t_done ? s->t_done : mono();
		secs = s->t_est ? end - s->t_est : 0;
		printf("mode=recv prefixes=%zu complete=%d updates=%" PRIu64 " nlri=%" PRIu64
		       " withdrawn=%" PRIu64 " ipv6=%" PRIu64 " eor=%d secs=%.3f rate=%.0f "
		       "first_secs=%.3f t_established=%.6f t_first=%.6f t_done=%.6f error=\"%s\"\n",
		       s->rib.n, s->t_done > 0, s->updates_in, s->nlri_in, s->withdrawn_in,
		       s->ipv6_in, s->eor_seen, secs, secs > 0 ? (double)s->rib.n / secs : 0,
		       s->t_first && s->t_est ? s->t_first - s->t_est : 0, s->w_est, s->w_first,
		       s->w_done, s->t_done ? "" : s->error);
	}
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct sess s;
	struct stream st = {0};
	struct sigaction sa;
	int rc;

	parse_args(argc, argv, &o);
	memset(&s, 0, sizeof(s));
	s.o = &o;
	s.fd = s.lfd = -1;
	s.t0 = mono();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	s.rx = lib_xmalloc(RX_BUF);
	if (o.send) {
		struct aset *sets = lib_xcalloc(o.sets, sizeof(*sets));
		struct tpfx *v = gen_prefixes(o.prefixes, o.sets, o.seed);
		struct bgp_params par;
		gen_sets(sets, o.sets, &o);
		bgp_params_default(&par, o.as, o.peer_as);
		par.as4 = o.as4;
		rc = build_stream(&st, &par, v, o.prefixes, sets, o.max_nlri);
		free(v);
		free(sets);
		if (rc != 0) {
			fprintf(stderr, PROG ": encoding the table failed: %s\n", strerror(-rc));
			free(st.p);
			free(s.rx);
			return 1;
		}
		s.st = &st;
		fprintf(stderr,
		        PROG ": table of %" PRIu64 " prefixes in %" PRIu64
		             " UPDATEs (%zu bytes) built in %.2f s\n",
		        st.prefixes, st.updates, st.len, mono() - s.t0);
		s.t0 = mono();
	}
	rc = run(&s);
	if (o.send && s.par.as4 != o.as4 && rc == 0)
		fprintf(stderr, PROG ": warning: the peer did not take 4-octet ASes\n");
	summary(&s);
	if (s.fd >= 0)
		close(s.fd);
	if (s.lfd >= 0)
		close(s.lfd);
	free(s.rib.v);
	free(s.rx);
	free(st.p);
	return rc;
}
