/*
 * cli_drill.c - strait replica drill: a recovery point served over NBD as a
 * writable disk for a test failover, the store and the replica untouched.
 *
 *   strait replica drill DISK --store DIR --socket PATH [--tcp HOST:PORT]
 *                        [--point N|latest|latest-app] [--work DIR]
 *
 * The point (default latest) is served as the export named DISK on the Unix
 * socket (and on TCP when asked: port 0 picks a free one, printed as
 * "nbd tcp HOST:PORT") through a copy-on-write overlay (repl/ovl.h): the
 * drill's writes go to a sparse file in --work (default a fresh directory
 * under $TMPDIR or /tmp, removed at exit). SIGINT or SIGTERM stops it; the
 * overlay is deleted and the exit status is 0. Exit 2: a usage error or an
 * unusable store; 1: no such point, or the drill failed.
 *
 * For cli.h (called by cli_cmd_replica with argv[0] = "drill"):
 *   int cli_replica_drill(int argc, char **argv);
 */
#include "cli.h"
#include "repl/nbd.h"
#include "repl/ovl.h"
#include "repl/store.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct option drill_opts[] = {
    {"store", required_argument, NULL, 's'}, {"point", required_argument, NULL, 'p'},
    {"work", required_argument, NULL, 'w'},  {"socket", required_argument, NULL, 'S'},
    {"tcp", required_argument, NULL, 'T'},   {NULL, 0, NULL, 0},
};

static struct nbd_server *volatile drill_srv;
static volatile sig_atomic_t drill_stopped;

static void
drill_stop(int sig)
{
	(void)sig;
	drill_stopped = 1;
	if (drill_srv)
		nbd_server_stop(drill_srv);
}

/* The work directory: --work (created when missing) or a fresh one under
 * $TMPDIR or /tmp. *made: this run created it (and removes it at exit). */
static char *
drill_workdir(const char *work, bool *made)
{
	*made = false;
	if (work) {
		if (mkdir(work, 0700) == 0)
			*made = true;
		else if (errno != EEXIST)
			return NULL;
		return lib_xstrdup(work);
	}
	const char *base = getenv("TMPDIR");
	struct lib_buf b = {0};
	lib_buf_printf(&b, "%s/strait-drill.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(b.s)) {
		int e = errno;
		lib_buf_free(&b);
		errno = e;
		return NULL;
	}
	*made = true;
	return b.s;
}

int
cli_replica_drill(int argc, char **argv)
{
	const char *store = getenv("STRAIT_STORE"), *point = NULL, *work = NULL, *sock = NULL,
	           *tcp = NULL;
	int o;
	while ((o = getopt_long(argc, argv, "", drill_opts, NULL)) != -1) {
		switch (o) {
		case 's':
			store = optarg;
			break;
		case 'p':
			point = optarg;
			break;
		case 'w':
			work = optarg;
			break;
		case 'S':
			sock = optarg;
			break;
		case 'T':
			tcp = optarg;
			break;
		default:
			return cli_usage_error("bad option");
		}
	}
	if (!store || !*store)
		return cli_usage_error("expected --store DIR (or $STRAIT_STORE)");
	if (argc - optind != 1 || !sock || !*sock)
		return cli_usage_error("expected DISK --socket PATH");
	const char *disk = argv[optind];
	if (!store_name_ok(disk))
		return cli_usage_error("bad disk name '%s' (expected [A-Za-z0-9._-], at most %d)",
		                       disk, STORE_NAME_MAX);
	/* --tcp HOST:PORT (IPv4; port 0 picks a free one, printed), checked before any work. */
	char tcp_host[64] = "";
	uint16_t tcp_port = 0;
	if (tcp && lib_parse_hostport(tcp, tcp_host, sizeof(tcp_host), &tcp_port))
		return cli_usage_error(
		    "bad --tcp '%s' (expected HOST:PORT, such as 127.0.0.1:10809)", tcp);

	/* A drill reads the store: it must exist (store_open would create it). */
	struct stat sb;
	struct store *st = NULL;
	int rc = stat(store, &sb) < 0 ? -errno : !S_ISDIR(sb.st_mode) ? -ENOTDIR : 0;
	if (rc == 0)
		rc = store_open(store, &st);
	if (rc) {
		fprintf(stderr, "strait: cannot open the store %s: %s\n", store, strerror(-rc));
		return CLI_UNUSABLE;
	}
	struct store_point pt;
	rc = cli_pick_point(st, disk, point, &pt);
	if (rc) {
		store_close(st);
		if (rc == -ENOENT) {
			fprintf(stderr,
			        "strait: disk '%s' has no point '%s' in the store %s (strait "
			        "replica points lists them)\n",
			        disk, point ? point : "latest", store);
			return CLI_BAD;
		}
		fprintf(stderr,
		        "strait: finding the point of disk '%s' in the store %s failed: %s\n", disk,
		        store, strerror(-rc));
		return CLI_BAD;
	}

	struct sigaction sa = {.sa_handler = drill_stop};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	bool made = false;
	char *wdir = drill_workdir(work, &made);
	if (!wdir) {
		fprintf(stderr, "strait: cannot make the work directory %s: %s\n",
		        work ? work : "under $TMPDIR", strerror(errno));
		store_close(st);
		return CLI_BAD;
	}
	struct lib_buf opath = {0};
	lib_buf_printf(&opath, "%s/%s.p%llu.%ld.overlay", wdir, disk, (unsigned long long)pt.seq,
	               (long)getpid());
	struct ovl *ov = NULL, *served = NULL;
	struct nbd_server *srv = NULL;
	uint16_t port = 0;
	rc = ovl_open(st, disk, pt.seq, opath.s, &ov);
	if (rc) {
		fprintf(stderr, "strait: cannot open point %llu of disk '%s' for the drill: %s\n",
		        (unsigned long long)pt.seq, disk,
		        rc == -EBADMSG ? "stored data failed its checksum (the store is damaged)"
		                       : strerror(-rc));
		goto out;
	}
	rc = nbd_server_new(NULL, NULL, &srv);
	if (rc == 0) {
		served = ov;
		ov = NULL; /* the server closes it, also when adding it fails */
		rc = nbd_server_add_backend(srv, disk, ovl_size(served), false, &ovl_nbd_ops,
		                            served);
	}
	if (rc)
		fprintf(stderr, "strait: cannot start the NBD server: %s\n", strerror(-rc));
	if (rc == 0 && (rc = nbd_server_listen_unix(srv, sock)) != 0)
		fprintf(stderr, "strait: cannot listen on %s: %s\n", sock, strerror(-rc));
	if (rc == 0 && tcp && (rc = nbd_server_listen_tcp(srv, tcp_host, tcp_port, &port)) != 0)
		fprintf(stderr, "strait: cannot listen on %s: %s\n", tcp, strerror(-rc));
	if (rc)
		goto out;

	drill_srv = srv;
	if (drill_stopped) /* a signal before the server was there */
		nbd_server_stop(srv);
	char when[32];
	time_t tt = (time_t)pt.time;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	printf("drill of %s: point %llu (%s, %s UTC) served read-write as export '%s' on %s\n",
	       disk, (unsigned long long)pt.seq, pt.kind == STORE_APP ? "app" : "crash", when, disk,
	       sock);
	if (tcp)
		printf("nbd tcp %s:%u\n", tcp_host, port);
	fflush(stdout);
	rc = nbd_server_run(srv);
	drill_srv = NULL;
	if (rc) {
		fprintf(stderr, "strait: the drill's NBD server failed: %s\n", strerror(-rc));
	} else { /* every connection is closed: the overlay's counts are final */
		uint64_t blocks;
		char sz[32];
		ovl_stats(served, &blocks, NULL);
		lib_fmt_size(blocks * OVL_BLOCK, sz, sizeof(sz));
		printf("drill of %s stopped: %llu block%s (%s) written, discarded with the "
		       "overlay\n",
		       disk, (unsigned long long)blocks, blocks == 1 ? "" : "s", sz);
	}
out:
	drill_srv = NULL;
	nbd_server_free(srv); /* closes the overlay, which deletes it */
	ovl_close(ov);
	store_close(st);
	if (made && rmdir(wdir) < 0)
		fprintf(stderr, "strait: cannot remove the work directory %s: %s\n", wdir,
		        strerror(errno));
	free(wdir);
	lib_buf_free(&opath);
	return rc ? CLI_BAD : CLI_GOOD;
}
