/*
 * main.c - straitd: the daemon. One libuv loop runs everything: the HTTP API
 * on a Unix socket (src/api), and later the BGP speakers, the NBD capture
 * servers, the replication links and the recovery jobs.
 *
 * Signals: SIGTERM and SIGINT stop the loop cleanly (the socket is removed),
 * SIGHUP re-reads the estate (the old one stays when the new one does not
 * load).
 */
#include "api/api.h"

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
on_stop(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;
	logf_("signal %d: stopping", signum);
	api_stop(d->api);
	d->api = NULL;
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

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"estate", required_argument, NULL, 'e'},
	    {"socket", required_argument, NULL, 's'},
	    {"state", required_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *estate = NULL, *sock = NULL, *state = NULL;
	int c;
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
		default:
			fprintf(stderr,
			        "usage: straitd --estate FILE --socket PATH [--state DB]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (!estate || !sock || optind != argc) {
		fprintf(stderr, "usage: straitd --estate FILE --socket PATH [--state DB]\n");
		return 2;
	}
	struct daemon d = {.loop = uv_default_loop()};
	d.env.estate_path = estate;
	d.env.state_path = state;
	d.env.started = time(NULL);
	if (ctl_load(&d.env))
		logf_("estate not loaded (the API says why; SIGHUP retries): %s", d.env.load_error);
	char err[256];
	int rc = api_start(d.loop, sock, &d.env, &d.api, err, sizeof(err));
	if (rc) {
		logf_("%s", err);
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
	est_free(d.env.estate);
	logf_("stopped");
	return 0;
}
