/*
 * cli_replica.c - strait replica: the recovery region's store from the
 * command line, without straitd.
 *
 *   capture  a disk image becomes the disk's next recovery point (the first
 *            is the initial full copy; later ones carry only changed chunks)
 *   points   the disk's recovery points
 *   restore  a point as a raw image (holes for zero chunks) or as qcow2
 *            (the raw image converted by qemu-img, then removed)
 *   prune    Site Recovery's retention over the disk's points
 *   gc       chunks no point names are deleted
 *   serve    protects disks: serves each as an NBD export whose writes are
 *            journaled, ships the journal to the replica and cuts a point
 *            every --interval (repl.h); SIGTERM ships what is left and stops
 *   drill    a point served over NBD through a copy-on-write overlay for a
 *            test failover (cli_drill.c); the store is left untouched
 *
 * Every subcommand takes --store DIR (or $STRAIT_STORE). Errors name the
 * store, the disk and the point, with the system's reason.
 */
#include "cli.h"
#include "repl/nbd.h"
#include "repl/repl.h"
#include "repl/rsvc.h"
#include "repl/store.h"
#include "repl/tgt.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const struct option rep_opts[] = {
    {"store", required_argument, NULL, 's'},
    {"point", required_argument, NULL, 'p'},
    {"format", required_argument, NULL, 'f'},
    {"output", required_argument, NULL, 'o'},
    {"app", no_argument, NULL, 'a'},
    {"time", required_argument, NULL, 't'},
    {"chunk-size", required_argument, NULL, 'c'},
    {"retention", required_argument, NULL, 'r'},
    {"work", required_argument, NULL, 'w'},
    {"socket", required_argument, NULL, 'S'},
    {"interval", required_argument, NULL, 'i'},
    {"tcp", required_argument, NULL, 'T'},
    {"target", required_argument, NULL, 'G'},
    {"listen", required_argument, NULL, 'L'},
    {"zstd", required_argument, NULL, 'z'},
    {"rate", required_argument, NULL, 'R'},
    {"activity-log", required_argument, NULL, 1005},
    {"map-cache", required_argument, NULL, 1006},
    {"tls-cert", required_argument, NULL, 'C'},
    {"tls-key", required_argument, NULL, 'K'},
    {"tls-ca", required_argument, NULL, 'A'},
    {"tls-name", required_argument, NULL, 'N'},
    {"nbd-tls-cert", required_argument, NULL, 1001},
    {"nbd-tls-key", required_argument, NULL, 1002},
    {"nbd-tls-ca", required_argument, NULL, 1003},
    {"nbd-tls-required", no_argument, NULL, 1004},
    {NULL, 0, NULL, 0},
};

struct rep_args {
	const char *store, *point, *format, *output, *time, *chunk, *retention;
	const char *work, *socket, *interval, *tcp, *target, *listen, *zstd, *rate, *al, *mapc;
	struct xp_tls_opts tls;
	struct nbd_tls_opts nbd_tls;
	bool app;
};

static bool
rep_tls_set(const struct rep_args *a)
{
	return a->tls.cert_file || a->tls.key_file || a->tls.ca_file || a->tls.server_name;
}

static int
rep_parse(int argc, char **argv, struct rep_args *a)
{
	int o;
	a->store = getenv("STRAIT_STORE");
	while ((o = getopt_long(argc, argv, "o:", rep_opts, NULL)) != -1) {
		switch (o) {
		case 's':
			a->store = optarg;
			break;
		case 'p':
			a->point = optarg;
			break;
		case 'f':
			a->format = optarg;
			break;
		case 'o':
			a->output = optarg;
			break;
		case 'a':
			a->app = true;
			break;
		case 't':
			a->time = optarg;
			break;
		case 'c':
			a->chunk = optarg;
			break;
		case 'r':
			a->retention = optarg;
			break;
		case 'w':
			a->work = optarg;
			break;
		case 'S':
			a->socket = optarg;
			break;
		case 'i':
			a->interval = optarg;
			break;
		case 'T':
			a->tcp = optarg;
			break;
		case 'G':
			a->target = optarg;
			break;
		case 'L':
			a->listen = optarg;
			break;
		case 'z':
			a->zstd = optarg;
			break;
		case 'R':
			a->rate = optarg;
			break;
		case 1006:
			a->mapc = optarg;
			break;
		case 1005:
			a->al = optarg;
			break;
		case 'C':
			a->tls.cert_file = optarg;
			break;
		case 'K':
			a->tls.key_file = optarg;
			break;
		case 'A':
			a->tls.ca_file = optarg;
			break;
		case 'N':
			a->tls.server_name = optarg;
			break;
		case 1001:
			a->nbd_tls.cert = optarg;
			break;
		case 1002:
			a->nbd_tls.key = optarg;
			break;
		case 1003:
			a->nbd_tls.ca = optarg;
			break;
		case 1004:
			a->nbd_tls.required = true;
			break;
		default:
			return cli_usage_error("bad option");
		}
	}
	if ((!a->store || !*a->store) && !a->target)
		return cli_usage_error("expected --store DIR (or $STRAIT_STORE)");
	return CLI_GOOD;
}

static struct store *
rep_open(const char *dir)
{
	struct store *st;
	int rc = store_open(dir, &st);
	if (rc) {
		fprintf(stderr, "strait: cannot open the store %s: %s\n", dir, strerror(-rc));
		return NULL;
	}
	return st;
}

/* The store for writing (capture, prune, gc, receive): held alone; *ret the exit code
 * when NULL (1 when another process writes it). */
static struct store *
rep_open_writer(const char *dir, int *ret)
{
	struct store *st = rep_open(dir);
	*ret = CLI_UNUSABLE;
	if (!st)
		return NULL;
	int rc = store_lock(st);
	if (!rc)
		return st;
	store_close(st);
	if (rc == -EBUSY) {
		fprintf(stderr,
		        "strait: the store %s is in use by another strait process (replica serve, "
		        "replica receive or straitd, which prune and collect it themselves, or a "
		        "capture, prune or gc): try again once it is done\n",
		        dir);
		*ret = CLI_BAD;
	} else {
		fprintf(stderr, "strait: cannot lock the store %s: %s\n", dir, strerror(-rc));
	}
	return NULL;
}

static int
rep_fail(const char *what, const char *store, const char *disk, int rc)
{
	fprintf(stderr, "strait: %s of disk '%s' in the store %s failed: %s\n", what, disk, store,
	        rc == -EBADMSG ? "stored data failed its checksum (the store is damaged)"
	                       : strerror(-rc));
	return CLI_BAD;
}

static int
rep_capture(int argc, char **argv)
{
	struct rep_args a = {0};
	int rc = rep_parse(argc, argv, &a);
	if (rc)
		return rc;
	if (argc - optind != 2)
		return cli_usage_error("expected DISK IMAGE");
	const char *disk = argv[optind], *image = argv[optind + 1];
	if (!store_name_ok(disk))
		return cli_usage_error("bad disk name '%s' (expected [A-Za-z0-9._-], at most %d)",
		                       disk, STORE_NAME_MAX);
	int64_t t = (int64_t)time(NULL);
	if (a.time) {
		char *end;
		errno = 0;
		long long v = strtoll(a.time, &end, 10);
		if (errno || *end || v < 0)
			return cli_usage_error("bad --time '%s' (expected seconds since the epoch)",
			                       a.time);
		t = v;
	}
	uint64_t cs = 0;
	if (a.chunk && (lib_parse_size(a.chunk, &cs) || cs < STORE_CHUNK_MIN ||
	                cs > STORE_CHUNK_MAX || (cs & (cs - 1))))
		return cli_usage_error(
		    "bad --chunk-size '%s' (expected a power of two, 4KiB to 64MiB)", a.chunk);
	int ret;
	struct store *st = rep_open_writer(a.store, &ret);
	if (!st)
		return ret;
	uint64_t seq = 0;
	struct store_capture_stats sx;
	rc = store_capture(st, disk, image, t, a.app ? STORE_APP : STORE_CRASH, (uint32_t)cs, &seq,
	                   &sx);
	store_close(st);
	if (rc == -EINVAL)
		fprintf(
		    stderr,
		    "strait: %s does not fit disk '%s': its size or chunk size differs from the "
		    "disk's points (a resized disk needs a new replication)\n",
		    image, disk);
	if (rc)
		return rc == -EINVAL ? CLI_BAD : rep_fail("capture", a.store, disk, rc);
	char sz[32];
	lib_fmt_size(sx.bytes, sz, sizeof(sz));
	printf("point %llu of %s: %llu of %llu chunks changed (%s), %llu holes skipped\n",
	       (unsigned long long)seq, disk, (unsigned long long)sx.changed,
	       (unsigned long long)sx.chunks, sz, (unsigned long long)sx.holes);
	return CLI_GOOD;
}

static int
rep_points(int argc, char **argv)
{
	struct rep_args a = {0};
	int rc = rep_parse(argc, argv, &a);
	if (rc)
		return rc;
	if (argc - optind != 1)
		return cli_usage_error("expected DISK");
	const char *fmt = a.output ? a.output : "table", *disk = argv[optind];
	bool json = strcmp(fmt, "json") == 0;
	if (!json && strcmp(fmt, "table"))
		return cli_usage_error("unknown output '%s' (expected table or json)", fmt);
	struct store *st = rep_open(a.store);
	if (!st)
		return CLI_UNUSABLE;
	struct store_point *p;
	size_t n;
	rc = store_list_points(st, disk, &p, &n);
	store_close(st);
	if (rc)
		return rep_fail("listing the points", a.store, disk, rc);
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(
			    arr, json_pack("{s:I, s:I, s:s, s:s, s:I, s:I, s:i}", "point",
			                   (json_int_t)p[i].seq, "time", (json_int_t)p[i].time,
			                   "kind", p[i].kind == STORE_APP ? "app" : "crash", "map",
			                   p[i].full ? "full" : "delta", "entries",
			                   (json_int_t)p[i].nentries, "disk_size",
			                   (json_int_t)p[i].disk_size, "chunk_size",
			                   (int)p[i].chunk_size));
		cli_print_json(arr);
	} else {
		struct cli_table t;
		cli_table_init(&t, "POINT", "TIME (UTC)", "KIND", "MAP", "ENTRIES", NULL);
		for (size_t i = 0; i < n; i++) {
			char seq[24], when[32], ent[24];
			time_t tt = (time_t)p[i].time;
			struct tm tm;
			gmtime_r(&tt, &tm);
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
			snprintf(seq, sizeof(seq), "%llu", (unsigned long long)p[i].seq);
			snprintf(ent, sizeof(ent), "%llu", (unsigned long long)p[i].nentries);
			cli_table_row(&t, seq, when, p[i].kind == STORE_APP ? "app" : "crash",
			              p[i].full ? "full" : "delta", ent, NULL);
		}
		cli_table_print(&t, stdout);
		cli_table_free(&t);
	}
	free(p);
	return n ? CLI_GOOD : CLI_BAD;
}

/* --point N, "latest" (default) or "latest-app". */
int
cli_pick_point(struct store *st, const char *disk, const char *want, struct store_point *out)
{
	struct store_point *p;
	size_t n;
	int rc = store_list_points(st, disk, &p, &n);
	if (rc)
		return rc;
	bool app = want && strcmp(want, "latest-app") == 0, found = false;
	if (!want || app || strcmp(want, "latest") == 0) {
		for (size_t i = n; i-- > 0 && !found;)
			if (!app || p[i].kind == STORE_APP)
				*out = p[i], found = true;
	} else {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(want, &end, 10);
		for (size_t i = 0; i < n && !errno && *want && !*end && !found; i++)
			if (p[i].seq == v)
				*out = p[i], found = true;
	}
	free(p);
	return found ? 0 : -ENOENT;
}

static int
run_qemu_img(const char *raw, const char *out)
{
	char *const args[] = {"qemu-img", "convert", "-q",        "-f",        "raw",
	                      "-O",       "qcow2",   (char *)raw, (char *)out, NULL};
	pid_t pid;
	int rc = posix_spawnp(&pid, "qemu-img", NULL, NULL, args, environ);
	if (rc) {
		fprintf(stderr,
		        "strait: cannot run qemu-img for qcow2 output: %s (scripts/deps.sh "
		        "installs qemu-utils)\n",
		        strerror(rc));
		return -1;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "strait: qemu-img convert to %s failed\n", out);
		return -1;
	}
	return 0;
}

static int
rep_restore(int argc, char **argv)
{
	struct rep_args a = {0};
	int rc = rep_parse(argc, argv, &a);
	if (rc)
		return rc;
	if (argc - optind != 2)
		return cli_usage_error("expected DISK OUTPUT");
	const char *disk = argv[optind], *out = argv[optind + 1];
	const char *fmt = a.format ? a.format : "raw";
	bool qcow2 = strcmp(fmt, "qcow2") == 0;
	if (!qcow2 && strcmp(fmt, "raw"))
		return cli_usage_error("unknown --format '%s' (expected raw or qcow2)", fmt);
	struct store *st = rep_open(a.store);
	if (!st)
		return CLI_UNUSABLE;
	struct store_point pick;
	rc = cli_pick_point(st, disk, a.point, &pick);
	uint64_t seq = pick.seq;
	if (rc) {
		store_close(st);
		if (rc == -ENOENT) {
			fprintf(stderr,
			        "strait: disk '%s' has no point '%s' in the store %s (strait "
			        "replica points lists them)\n",
			        disk, a.point ? a.point : "latest", a.store);
			return CLI_BAD;
		}
		return rep_fail("finding the point", a.store, disk, rc);
	}
	/* Written beside the output under a temporary name, renamed when complete, so a
	 * failed restore never leaves a half image under the output's name. */
	struct lib_buf tmp = {0};
	lib_buf_printf(&tmp, "%s.strait-tmp%s", out, qcow2 ? ".raw" : "");
	rc = store_restore(st, disk, seq, tmp.s);
	store_close(st);
	int ret = CLI_GOOD;
	if (rc) {
		ret = rep_fail("restore", a.store, disk, rc);
	} else if (qcow2) {
		if (run_qemu_img(tmp.s, out))
			ret = CLI_BAD;
	} else if (rename(tmp.s, out)) {
		fprintf(stderr, "strait: cannot rename %s to %s: %s\n", tmp.s, out,
		        strerror(errno));
		ret = CLI_BAD;
	}
	unlink(tmp.s);
	lib_buf_free(&tmp);
	if (ret == CLI_GOOD)
		printf("point %llu of %s restored to %s (%s)\n", (unsigned long long)seq, disk, out,
		       fmt);
	return ret;
}

static int
rep_prune(int argc, char **argv)
{
	struct rep_args a = {0};
	int rc = rep_parse(argc, argv, &a);
	if (rc)
		return rc;
	if (argc - optind != 1 || !a.retention)
		return cli_usage_error("expected --retention DURATION DISK");
	int64_t secs;
	if (lib_parse_duration(a.retention, &secs) || secs < 0)
		return cli_usage_error("bad --retention '%s' (expected a duration: 0, 2h, 1d, 15d)",
		                       a.retention);
	int ret;
	struct store *st = rep_open_writer(a.store, &ret);
	if (!st)
		return ret;
	rc = store_prune(st, argv[optind], secs);
	store_close(st);
	if (rc < 0)
		return rep_fail("pruning", a.store, argv[optind], rc);
	printf("%d point%s of %s pruned\n", rc, rc == 1 ? "" : "s", argv[optind]);
	return CLI_GOOD;
}

static int
rep_gc(int argc, char **argv)
{
	struct rep_args a = {0};
	int rc = rep_parse(argc, argv, &a);
	if (rc)
		return rc;
	if (argc != optind)
		return cli_usage_error("expected no operand");
	int ret;
	struct store *st = rep_open_writer(a.store, &ret);
	if (!st)
		return ret;
	rc = store_gc(st);
	store_close(st);
	if (rc < 0) {
		fprintf(stderr, "strait: gc of the store %s failed: %s\n", a.store, strerror(-rc));
		return CLI_BAD;
	}
	printf("%d unreferenced object%s deleted\n", rc, rc == 1 ? "" : "s");
	return CLI_GOOD;
}

/* ---- serve ------------------------------------------------------------------------------ */

/* A serving receiver's --retention: DUR (more than 0) or "none" (every point kept, *secs
 * 0); Site Recovery's default policy keeps a day. -1 after a usage error. */
static int
rep_retention(const struct rep_args *a, int64_t *secs)
{
	*secs = 86400;
	if (!a->retention)
		return 0;
	if (!strcmp(a->retention, "none")) {
		*secs = 0;
		return 0;
	}
	if (lib_parse_duration(a->retention, secs) || *secs < 1) {
		cli_usage_error("bad --retention '%s' (expected a duration, such as 2h, 1d or 15d, "
		                "or none to keep every point)",
		                a->retention);
		return -1;
	}
	return 0;
}

static int
rep_serve(int argc, char **argv)
{
	struct rep_args a = {0};
	int rc = rep_parse(argc, argv, &a);
	if (rc)
		return rc;
	if (!a.work || !a.socket || optind >= argc)
		return cli_usage_error("expected --work DIR --socket PATH DISK=IMAGE...");
	int64_t every = 300;
	if (a.interval && (lib_parse_duration(a.interval, &every) || every < 1))
		return cli_usage_error("bad --interval '%s' (expected a duration, 1s to hours)",
		                       a.interval);
	char hp[64];
	uint16_t port;
	if (a.tcp && lib_parse_hostport(a.tcp, hp, sizeof(hp), &port))
		return cli_usage_error(
		    "bad --tcp '%s' (expected HOST:PORT, such as 127.0.0.1:10809 or [::1]:10809)",
		    a.tcp);
	if (a.target && (lib_parse_hostport(a.target, hp, sizeof(hp), &port) || !port))
		return cli_usage_error("bad --target '%s' (expected HOST:PORT)", a.target);
	if (rep_tls_set(&a) && !a.target)
		return cli_usage_error("--tls-* options secure the link to --target HOST:PORT");
	if (rep_tls_set(&a) && !a.tls.ca_file)
		return cli_usage_error("--tls-ca FILE is required: the CA that signed the "
		                       "receiver's certificate");
	bool nbd_tls = a.nbd_tls.cert || a.nbd_tls.key || a.nbd_tls.ca || a.nbd_tls.required;
	if (nbd_tls && (!a.nbd_tls.cert || !a.nbd_tls.key))
		return cli_usage_error(
		    "NBD over TLS needs --nbd-tls-cert FILE and --nbd-tls-key FILE");
	const char *store = a.store ? a.store : getenv("STRAIT_STORE");
	long zl = 0;
	uint64_t rate = 0; /* Mbps */
	char *zend = NULL;
	if (a.zstd && ((zl = strtol(a.zstd, &zend, 10)) < 1 || zl > 19 || *zend))
		return cli_usage_error("bad --zstd '%s' (expected a level, 1 to 19)", a.zstd);
	if (a.rate && (lib_parse_bandwidth(a.rate, &rate) || rate == 0))
		return cli_usage_error("bad --rate '%s' (expected a bandwidth, such as 100Mbps)",
		                       a.rate);
	uint32_t al = 0;
	char why[160];
	if (a.al && repl_parse_al(a.al, &al, why, sizeof(why)))
		return cli_usage_error("%s", why);
	uint64_t mapc = 0;
	if (a.mapc && store_parse_map_cache(a.mapc, &mapc))
		return cli_usage_error("bad --map-cache '%s' (expected a size, 1MiB or more, such "
		                       "as 4GiB)",
		                       a.mapc);
	if (a.mapc && a.target)
		return cli_usage_error(
		    "--map-cache sizes the store's cache, and with --target the "
		    "store is the receiver's: give it to strait replica receive");
	int64_t keep;
	if (rep_retention(&a, &keep))
		return CLI_UNUSABLE;
	if (a.retention && a.target)
		return cli_usage_error(
		    "--retention prunes the store, and with --target the store is "
		    "the receiver's: give it to strait replica receive");
	size_t nd = (size_t)(argc - optind);
	struct rsvc_disk *disks = lib_xcalloc(nd, sizeof(*disks));
	char **names = lib_xcalloc(nd, sizeof(*names));
	for (size_t i = 0; i < nd; i++) {
		char *eq = strchr(argv[optind + (int)i], '=');
		if (!eq) {
			for (size_t k = 0; k < i; k++)
				free(names[k]);
			free(names);
			free(disks);
			return cli_usage_error("expected DISK=IMAGE, got '%s'",
			                       argv[optind + (int)i]);
		}
		names[i] = lib_xstrdup(argv[optind + (int)i]);
		names[i][eq - argv[optind + (int)i]] = 0;
		disks[i] = (struct rsvc_disk){names[i], eq + 1};
	}
	struct rsvc_opts o = {.work = a.work,
	                      .store = a.target ? NULL : store,
	                      .target = a.target,
	                      .zlevel = (int)zl,
	                      .rate = rate * 1000000 / 8, /* Mbps to bytes/s */
	                      .al_extents = al,
	                      .map_cache = mapc,
	                      .socket = a.socket,
	                      .tcp = a.tcp,
	                      .interval = every,
	                      .retention = keep,
	                      .tls = rep_tls_set(&a) ? &a.tls : NULL,
	                      .nbd_tls = nbd_tls ? &a.nbd_tls : NULL};
	/* Signals are taken by sigwait on this thread; the service's threads block them. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	struct rsvc *sv = NULL;
	char err[512] = "";
	rc = rsvc_start(&o, disks, nd, NULL, 0, &sv, err, sizeof(err));
	for (size_t i = 0; i < nd; i++)
		free(names[i]);
	free(names);
	free(disks);
	if (rc) {
		fprintf(stderr, "strait: %s\n", err);
		return CLI_BAD;
	}
	printf("protecting %zu disk%s on %s", nd, nd == 1 ? "" : "s", a.socket);
	if (a.tcp)
		printf(" and TCP port %u", rsvc_tcp_port(sv));
	if (a.target)
		printf(", shipping to %s\n", a.target);
	else
		printf(", a point every %llds\n", (long long)every);
	fflush(stdout);
	int sig;
	sigwait(&sigs, &sig);
	rc = rsvc_stop(sv); /* the last ship */
	if (rc) {
		fprintf(stderr, "strait: replication stopped with an error: %s\n", strerror(-rc));
		return CLI_BAD;
	}
	return CLI_GOOD;
}

static void *
receive_main(void *arg)
{
	pthread_setname_np(pthread_self(), "strait-target");
	tgt_run(arg);
	return NULL;
}

/* The recovery region's side on its own: a receiver that applies what the
 * protected side ships and cuts the points into the store. */
static int
rep_receive(int argc, char **argv)
{
	struct rep_args a = {0};
	int rc = rep_parse(argc, argv, &a);
	if (rc)
		return rc;
	if (!a.work || !a.listen)
		return cli_usage_error(
		    "expected --store DIR --work DIR --listen HOST:PORT [DISK=SEED...]");
	int64_t every = 300;
	if (a.interval && (lib_parse_duration(a.interval, &every) || every < 1))
		return cli_usage_error("bad --interval '%s' (expected a duration, 1s to hours)",
		                       a.interval);
	uint64_t mapc = 0;
	if (a.mapc && store_parse_map_cache(a.mapc, &mapc))
		return cli_usage_error("bad --map-cache '%s' (expected a size, 1MiB or more, such "
		                       "as 4GiB)",
		                       a.mapc);
	int64_t keep;
	if (rep_retention(&a, &keep))
		return CLI_UNUSABLE;
	char host[64];
	uint16_t port;
	if (lib_parse_hostport(a.listen, host, sizeof(host), &port))
		return cli_usage_error("bad --listen '%s' (expected HOST:PORT)", a.listen);
	if (rep_tls_set(&a) && (!a.tls.cert_file || !a.tls.key_file))
		return cli_usage_error("--tls-cert FILE and --tls-key FILE are both required for a "
		                       "TLS receiver (--tls-ca FILE also demands client "
		                       "certificates)");
	if (a.tls.server_name)
		return cli_usage_error("--tls-name is the sender's check of the receiver's name");
	/* Seeds (reprotect): DISK=FILE, the old copy the disk's replica starts from. */
	size_t nseeds = (size_t)(argc - optind);
	struct tgt_seed *seeds = lib_xcalloc(nseeds ? nseeds : 1, sizeof(*seeds));
	for (size_t i = 0; i < nseeds; i++) {
		char *eq = strchr(argv[optind + (int)i], '=');
		if (!eq || eq == argv[optind + (int)i] || !eq[1]) {
			free(seeds);
			return cli_usage_error("expected DISK=SEED, got '%s'",
			                       argv[optind + (int)i]);
		}
		*eq = 0;
		seeds[i] = (struct tgt_seed){argv[optind + (int)i], eq + 1};
	}
	struct xp_io_ops *io = NULL;
	char err[512];
	if (rep_tls_set(&a) && rsvc_tls(&a.tls, true, &io, err, sizeof(err))) {
		fprintf(stderr, "strait: %s\n", err);
		free(seeds);
		return CLI_UNUSABLE;
	}
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	int ret;
	struct store *st = rep_open_writer(a.store, &ret);
	if (!st) {
		free(seeds);
		xp_tls_ops_free(io);
		return ret;
	}
	store_set_map_budget(st, mapc ? mapc : STORE_MAP_BUDGET);
	struct tgt_opts to = {.work = a.work,
	                      .io = io,
	                      .st = st,
	                      .host = host,
	                      .port = port,
	                      .interval = every,
	                      .seeds = seeds,
	                      .nseeds = nseeds,
	                      .prune = keep > 0,
	                      .retention = keep};
	struct tgt *t;
	rc = tgt_open(&to, &t);
	if (rc) {
		fprintf(stderr, "strait: cannot receive on %s: %s\n", a.listen, strerror(-rc));
		store_close(st);
		free(seeds);
		xp_tls_ops_free(io);
		return CLI_BAD;
	}
	printf("receiving on %s:%u%s, a point every %llds\n", host, tgt_port(t),
	       !io             ? ""
	       : a.tls.ca_file ? " (TLS, client certificates required)"
	                       : " (TLS)",
	       (long long)every);
	fflush(stdout);
	pthread_t th;
	pthread_create(&th, NULL, receive_main, t);
	int sig;
	sigwait(&sigs, &sig);
	tgt_stop(t);
	pthread_join(th, NULL);
	struct xp_receiver_stats xs;
	tgt_stats(t, &xs);
	printf("stored %llu records, %llu bytes (%llu duplicates, %llu checksum errors, %llu "
	       "frame errors, %llu store errors) over %llu connections\n",
	       (unsigned long long)xs.stored, (unsigned long long)xs.stored_bytes,
	       (unsigned long long)xs.duplicates, (unsigned long long)xs.checksum_errors,
	       (unsigned long long)xs.frame_errors, (unsigned long long)xs.store_errors,
	       (unsigned long long)xs.connections);
	tgt_close(t); /* the last points */
	store_close(st);
	free(seeds);
	xp_tls_ops_free(io);
	return CLI_GOOD;
}

int
cli_cmd_replica(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} sub[] = {
	    {"capture", rep_capture},
	    {"points", rep_points},
	    {"restore", rep_restore},
	    {"prune", rep_prune},
	    {"gc", rep_gc},
	    {"serve", rep_serve},
	    {"status", cli_replica_status},
	    {"mark", cli_replica_mark},
	    {"drill", cli_replica_drill},
	    {"receive", rep_receive},
	};
	if (argc < 2)
		return cli_usage_error(
		    "expected a subcommand: capture, points, restore, prune, gc, "
		    "serve, receive, status, mark or drill");
	for (size_t i = 0; i < LIB_ARRAY_LEN(sub); i++)
		if (strcmp(argv[1], sub[i].name) == 0)
			return sub[i].fn(argc - 1, argv + 1);
	return cli_usage_error("unknown subcommand '%s' (expected capture, points, restore, prune, "
	                       "gc, serve, receive, status, mark or drill)",
	                       argv[1]);
}
