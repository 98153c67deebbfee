/*
 * ctl.h - the command table of the live API: every operation straitd offers,
 * defined once (name, method, whether it changes anything, help, handler).
 * The REST routes (/v1/NAME), the API listing (GET /v1) and `strait remote`
 * are derived from it, so nothing is reachable one way and not the other.
 *
 * A handler reads its arguments from a JSON object (query parameters for GET,
 * the body for POST) and answers a JSON value and an HTTP status. Handlers
 * run on the daemon's one event loop: they must not block.
 */
#ifndef STRAIT_CTL_H
#define STRAIT_CTL_H

#include "bgp/bgp_svc.h"
#include "estate/est.h"
#include "repl/rsvc.h"

#include <jansson.h>

/* What the daemon holds, handed to every handler. */
struct ctl_env {
	const char *estate_path;
	struct estate *estate;  /* NULL until loaded */
	char load_error[512];   /* why the last load failed */
	int64_t loaded_at;      /* Unix seconds */
	const char *state_path; /* SQLite state of recovery jobs, or NULL */
	uint64_t requests, errors;
	int64_t started;
	struct rsvc *repl;    /* replication running in straitd, or NULL */
	const char *repl_off; /* why there is none */
	struct bgp_svc *bgp;  /* the circuits' provider-edge sessions, or NULL */
	const char *bgp_off;  /* why there are none */
};

struct ctl_cmd {
	const char *name;   /* /v1/NAME */
	const char *method; /* GET or POST */
	bool mutating;
	const char *args; /* for the listing: "subnet=VNET/SUBNET" */
	const char *help;
	/* Fills *out (owned by the caller); returns an HTTP status. */
	int (*fn)(struct ctl_env *env, json_t *args, json_t **out);
};

extern const struct ctl_cmd ctl_cmds[];
extern const size_t ctl_ncmds;

const struct ctl_cmd *ctl_find(const char *name);
/* Loads (or reloads) the estate: 0, or -EINVAL with env->load_error set. The
 * previous estate stays when the new one does not load. */
int ctl_load(struct ctl_env *env);
/* Prometheus text exposition of the daemon's gauges and counters (heap). */
char *ctl_metrics(const struct ctl_env *env);
/* {"error": msg} with status, for handlers and the HTTP layer. */
int ctl_error(json_t **out, int status, const char *fmt, ...) LIB_PRINTF(3, 4);

#endif
