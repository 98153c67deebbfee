/*
 * nbd_core.c - strait-nbdcore: strait's NBD capture server alone, without
 * replication (no hooks: no journal, no shipping, no receiver), serving one
 * file on a Unix socket until SIGTERM or SIGINT.
 *
 * Why: bench/repl.sh runs it beside `strait replica serve`, nbdkit and
 * nbd-server, so the cost of replication on this machine reads apart from
 * the cost of serving NBD (the same server code, nbd_server.c, as the
 * replicating path).
 *
 * Usage: strait-nbdcore SOCKET FILE   (the export is named "disk" and is
 * also the default export)
 */
#include "repl/nbd.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static struct nbd_server *srv;

static void
on_signal(int sig)
{
	(void)sig;
	nbd_server_stop(srv);
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: strait-nbdcore SOCKET FILE\n");
		return 2;
	}
	int rc = nbd_server_new(NULL, NULL, &srv);
	if (rc == 0)
		rc = nbd_server_add_export(srv, "disk", argv[2], false);
	if (rc == 0)
		rc = nbd_server_listen_unix(srv, argv[1]);
	if (rc < 0) {
		fprintf(stderr, "strait-nbdcore: %s: %s\n", argv[2], strerror(-rc));
		nbd_server_free(srv);
		return 1;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	rc = nbd_server_run(srv);
	nbd_server_free(srv);
	return rc < 0;
}
