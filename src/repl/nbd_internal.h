/*
 * nbd_internal.h - the server and export structures shared by the protocol
 * core (nbd_proto.c) and the socket loop (nbd_server.c). Not for other modules.
 */
#ifndef STRAIT_NBD_INTERNAL_H
#define STRAIT_NBD_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "repl/nbd.h"

struct nbd_export {
	char *name;
	struct nbd_backend_ops ops;
	void *arg;
	uint64_t size;
	bool ro;
	pthread_mutex_t mu; /* serializes mutating commands and their hooks */
};

/* The backend of exports backed by a file or block device: arg is the fd. */
extern const struct nbd_backend_ops nbd_file_ops;

#define NBD_MAX_LISTEN 8

struct nbd_conn_thr;

struct nbd_server {
	struct nbd_hooks hooks;
	void *ctx;
	struct nbd_export **exps;
	size_t nexps;
	int lfds[NBD_MAX_LISTEN];
	char *unix_paths[NBD_MAX_LISTEN]; /* unlinked on free; NULL for TCP */
	size_t nlfds;
	int stop_pipe[2];
	struct nbd_conn_thr *thrs; /* live connection threads */
	size_t nthrs;
	atomic_size_t max_conns; /* may change while nbd_server_run runs */
};

struct nbd_export *nbd_find_export(struct nbd_server *s, const char *name, size_t n);

#endif
