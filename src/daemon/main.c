/*
 * main.c - straitd: the daemon. One libuv loop runs everything: the HTTP API
 * on a Unix socket (src/api), the provider-edge BGP sessions of every circuit
 * peering with `listen:` (src/bgp/bgp_svc.h), the NBD capture servers and the
 * replication links (their own threads, src/repl/rsvc.h).
 *
 * Signals: SIGTERM and SIGINT stop the loop cleanly (the socket is removed),
 * SIGHUP re-reads the estate (the old one stays when the new one does not
 * load).
 */
#include "api/api.h"
#include "daemon/d_repl.h"
#include "lib/lib.h"
#include "repl/repl.h"
#include "repl/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct daemon {
	uv_loop_t *loop;
	struct api *api;
	struct ctl_env env;
	uv_signal_t sigterm, sigint, sighup;
};

static void logf_(const char *fmt, ...) LIB_PRINTF(1, 2);

static void
logf_(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("straitd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void
bgp_log(void *arg, const char *msg)
{
	(void)arg;
	logf_("%s", msg);
}

static void
on_stop(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;
	logf_("signal %d: stopping", signum);
	api_stop(d->api);
	d->api = NULL;
	bgp_svc_stop(d->env.bgp);
	d->env.bgp = NULL;
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	uv_close((uv_handle_t *)&d->sighup, NULL);
}

static void
on_hup(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;
	(void)signum;
	if (ctl_load(&d->env))
		logf_("reload failed, the previous estate stays: %s", d->env.load_error);
	else
		logf_("reloaded %s", d->env.estate_path);
}

#define USAGE                                                                                      \
	"usage: straitd --estate FILE --socket PATH [--state DB] [--work DIR [--store DIR]\n"      \
	"               [--nbd-socket PATH] [--nbd-tcp HOST:PORT] [--target HOST:PORT\n"           \
	"               [--tls-ca FILE [--tls-cert FILE --tls-key FILE] [--tls-name NAME]]]\n"     \
	"               [--rate BW] [--journal-max SIZE] [--activity-log N] [--map-cache SIZE]\n"  \
	"               [--nbd-tls-cert FILE --nbd-tls-key FILE "                                  \
	"[--nbd-tls-ca FILE]\n"                                                                    \
	"               [--nbd-tls-required]]] [--bgp-port N] [--bgp-min-hold S]\n"                \
	"               [--bgp-next-hop listen|link] [--bgp-max-prefix-idle DUR]\n"

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"estate", required_argument, NULL, 'e'},
	    {"socket", required_argument, NULL, 's'},
	    {"state", required_argument, NULL, 'S'},
	    {"work", required_argument, NULL, 'w'},
	    {"store", required_argument, NULL, 'T'},
	    {"nbd-socket", required_argument, NULL, 'n'},
	    {"nbd-tcp", required_argument, NULL, 't'},
	    {"target", required_argument, NULL, 'g'},
	    {"tls-ca", required_argument, NULL, 'A'},
	    {"tls-cert", required_argument, NULL, 'C'},
	    {"tls-key", required_argument, NULL, 'K'},
	    {"tls-name", required_argument, NULL, 'N'},
	    {"rate", required_argument, NULL, 'R'},
	    {"journal-max", required_argument, NULL, 'J'},
	    {"activity-log", required_argument, NULL, 1009},
	    {"map-cache", required_argument, NULL, 1010},
	    {"nbd-tls-cert", required_argument, NULL, 1001},
	    {"nbd-tls-key", required_argument, NULL, 1002},
	    {"nbd-tls-ca", required_argument, NULL, 1003},
	    {"nbd-tls-required", no_argument, NULL, 1004},
	    {"bgp-port", required_argument, NULL, 1005},
	    {"bgp-min-hold", required_argument, NULL, 1006},
	    {"bgp-next-hop", required_argument, NULL, 1007},
	    {"bgp-max-prefix-idle", required_argument, NULL, 1008},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *estate = NULL, *sock = NULL, *state = NULL;
	struct d_repl_opts ro = {0};
	struct bgp_svc_opts bo = {.log = bgp_log};
	int c;
	lib_nofile_raise(); /* replication keeps files open per disk (lib/nofile.c) */
	while ((c = getopt_long(argc, argv, "e:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			estate = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'S':
			state = optarg;
			break;
		case 'w':
			ro.work = optarg;
			break;
		case 'T':
			ro.store = optarg;
			break;
		case 'n':
			ro.socket = optarg;
			break;
		case 't':
			ro.tcp = optarg;
			break;
		case 'g':
			ro.target = optarg;
			break;
		case 'A':
			ro.tls.ca_file = optarg;
			break;
		case 'C':
			ro.tls.cert_file = optarg;
			break;
		case 'K':
			ro.tls.key_file = optarg;
			break;
		case 'N':
			ro.tls.server_name = optarg;
			break;
		case 1001:
			ro.nbd_tls.cert = optarg;
			break;
		case 1002:
			ro.nbd_tls.key = optarg;
			break;
		case 1003:
			ro.nbd_tls.ca = optarg;
			break;
		case 1004:
			ro.nbd_tls.required = true;
			break;
		case 1008: {
			int64_t secs;
			if (lib_parse_duration(optarg, &secs) || secs < 1 || secs > 86400) {
				fprintf(
				    stderr,
				    "straitd: bad --bgp-max-prefix-idle '%s' (expected a duration, "
				    "1s to 24h, such as 60s)\n",
				    optarg);
				return 2;
			}
			bo.max_prefix_idle_ms = (uint32_t)(secs * 1000);
			break;
		}
		case 1007:
			if (strcmp(optarg, "listen") && strcmp(optarg, "link")) {
				fprintf(
				    stderr,
				    "straitd: bad --bgp-next-hop '%s' (expected listen or link)\n",
				    optarg);
				return 2;
			}
			bo.nexthop_link = !strcmp(optarg, "link");
			break;
		case 1005:
		case 1006: {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || !*optarg || v < (c == 1005 ? 1u : 3u) || v > 65535) {
				fprintf(stderr, "straitd: bad --%s '%s' (expected %s)\n",
				        c == 1005 ? "bgp-port" : "bgp-min-hold", optarg,
				        c == 1005 ? "a port, 1 to 65535" : "seconds, 3 to 65535");
				return 2;
			}
			if (c == 1005)
				bo.port = (uint16_t)v;
			else
				bo.min_hold = (uint32_t)v;
			break;
		}
		case 1009: {
			char why[160];
			if (repl_parse_al(optarg, &ro.al_extents, why, sizeof(why))) {
				fprintf(stderr, "straitd: %s\n", why);
				return 2;
			}
		} break;
		case 1010:
			if (store_parse_map_cache(optarg, &ro.map_cache)) {
				fprintf(stderr,
				        "straitd: bad --map-cache '%s' (expected a size, 1MiB or "
				        "more, such as 4GiB)\n",
				        optarg);
				return 2;
			}
			break;
		case 'J':
			if (lib_parse_size(optarg, &ro.journal_max) ||
			    ro.journal_max < (1u << 20)) {
				fprintf(stderr,
				        "straitd: bad --journal-max '%s' (expected a size, 1MiB "
				        "or more, such as 4GiB)\n",
				        optarg);
				return 2;
			}
			break;
		case 'R':
			if (lib_parse_bandwidth(optarg, &ro.rate) || !ro.rate) {
				fprintf(stderr,
				        "straitd: bad --rate '%s' (expected a bandwidth, such "
				        "as 100Mbps)\n",
				        optarg);
				return 2;
			}
			ro.rate = ro.rate * 1000000 / 8; /* Mbps to bytes/s */
			break;
		default:
			fprintf(stderr, USAGE);
			return c == 'h' ? 0 : 2;
		}
	}
	if (ro.map_cache && ro.target) {
		fprintf(stderr, "straitd: --map-cache sizes the store's cache, and with --target "
		                "the store is the receiver's: give it to strait replica receive\n");
		return 2;
	}
	bool tls = ro.tls.ca_file || ro.tls.cert_file || ro.tls.key_file || ro.tls.server_name;
	bool ntls = ro.nbd_tls.cert || ro.nbd_tls.key || ro.nbd_tls.ca || ro.nbd_tls.required;
	if (!estate || !sock || optind != argc || (tls && (!ro.target || !ro.tls.ca_file)) ||
	    (ntls && (!ro.nbd_tls.cert || !ro.nbd_tls.key))) {
		fprintf(stderr, USAGE);
		return 2;
	}
	struct daemon d = {.loop = uv_default_loop()};
	d.env.estate_path = estate;
	d.env.state_path = state;
	d.env.started = time(NULL);
	if (ctl_load(&d.env))
		logf_("estate not loaded (the API says why; SIGHUP retries): %s", d.env.load_error);
	char err[512] = "";
	/* Replication: the estate's protected disks, when --work says where to keep them. */
	ro.estate_path = estate;
	d.env.repl_off = !ro.work        ? "straitd runs replication with --work DIR"
	                 : !d.env.estate ? "the estate did not load"
	                                 : "the estate protects no disk with a path";
	if (ro.work && d.env.estate &&
	    d_repl_start(d.env.estate, &ro, &d.env.repl, err, sizeof(err))) {
		logf_("replication: %s", err);
		est_free(d.env.estate);
		return 1;
	}
	if (d.env.repl) {
		uint64_t rate = ro.rate ? ro.rate : d_repl_rate(d.env.estate);
		char lim[96] = "";
		if (rate)
			snprintf(lim, sizeof(lim), ", the link limited to %llu Mbps (%s)",
			         (unsigned long long)(rate * 8 / 1000000),
			         ro.rate ? "--rate" : "the site's circuit");
		logf_("replicating %zu disk%s%s%s", rsvc_ndisks(d.env.repl),
		      rsvc_ndisks(d.env.repl) == 1 ? "" : "s", ro.tls.ca_file ? " over TLS" : "",
		      lim);
	}
	/* BGP: the provider edge of every circuit peering with listen:. */
	d.env.bgp_off =
	    d.env.estate ? "no circuit peering sets listen:" : "the estate did not load";
	if (d.env.estate &&
	    bgp_svc_start(d.loop, d.env.estate, &bo, &d.env.bgp, err, sizeof(err))) {
		logf_("%s", err);
		rsvc_stop(d.env.repl);
		est_free(d.env.estate);
		return 1;
	}
	if (d.env.bgp)
		logf_("bgp: %zu provider-edge session%s", bgp_svc_nsessions(d.env.bgp),
		      bgp_svc_nsessions(d.env.bgp) == 1 ? "" : "s");
	int rc = api_start(d.loop, sock, &d.env, &d.api, err, sizeof(err));
	if (rc) {
		logf_("%s", err);
		bgp_svc_stop(d.env.bgp);
		uv_run(d.loop, UV_RUN_DEFAULT);
		rsvc_stop(d.env.repl);
		est_free(d.env.estate);
		return 1;
	}
	uv_signal_init(d.loop, &d.sigterm);
	uv_signal_init(d.loop, &d.sigint);
	uv_signal_init(d.loop, &d.sighup);
	d.sigterm.data = d.sigint.data = d.sighup.data = &d;
	uv_signal_start(&d.sigterm, on_stop, SIGTERM);
	uv_signal_start(&d.sigint, on_stop, SIGINT);
	uv_signal_start(&d.sighup, on_hup, SIGHUP);
	logf_("serving %s on %s", estate, sock);
	uv_run(d.loop, UV_RUN_DEFAULT);
	uv_loop_close(d.loop);
	if (d.env.repl && (rc = rsvc_stop(d.env.repl)))
		logf_("replication stopped with an error: %s", strerror(-rc));
	est_free(d.env.estate);
	logf_("stopped");
	return 0;
}
