/*
 * cli.h - shared by the files of the strait command-line tool: exit
 * statuses, loading with diagnostics, usage errors, text tables, JSON out.
 */
#ifndef STRAIT_CLI_H
#define STRAIT_CLI_H

#include "check/chk.h"
#include "estate/est.h"
#include "route/rt.h"

#include <jansson.h>

enum { CLI_GOOD = 0, CLI_BAD = 1, CLI_UNUSABLE = 2 };

/* Loads an estate, printing every diagnostic to stderr; NULL when unusable. */
struct estate *cli_load(const char *path);
/* "strait: <msg>" and the current command's usage on stderr; returns CLI_UNUSABLE. */
int cli_usage_error(const char *fmt, ...) LIB_PRINTF(1, 2);
/* Prints and releases a JSON value. */
void cli_print_json(json_t *v);

/* A text table: columns sized to their widest cell. */
struct cli_table {
	uint32_t ncols;
	const char *head[8];
	struct lib_vec cells; /* char *, ncols per row */
};
void cli_table_init(struct cli_table *t, ...); /* column titles, NULL-terminated */
void cli_table_row(struct cli_table *t, ...);  /* cells, NULL-terminated */
void cli_table_print(const struct cli_table *t, FILE *out);
void cli_table_free(struct cli_table *t);

int cli_cmd_routes(int argc, char **argv);
int cli_cmd_trace(int argc, char **argv);
int cli_cmd_reach(int argc, char **argv);
int cli_cmd_whatif(int argc, char **argv);
int cli_cmd_diff(int argc, char **argv);
int cli_cmd_drill(int argc, char **argv);
int cli_cmd_failover(int argc, char **argv);
int cli_cmd_commit(int argc, char **argv);
int cli_cmd_reprotect(int argc, char **argv);
int cli_cmd_failback(int argc, char **argv);
int cli_cmd_plan(int argc, char **argv);
int cli_cmd_remote(int argc, char **argv);
int cli_cmd_bgp(int argc, char **argv);        /* cli_bgp.c */
int cli_replica_status(int argc, char **argv); /* cli_repl_status.c */
int cli_replica_mark(int argc, char **argv);
int cli_replica_drill(int argc, char **argv); /* cli_drill.c */
struct store;
struct store_point;
/* A disk's point by "latest", "latest-app" or its number (NULL: latest): 0 and
 * *out, -ENOENT when there is none, or the store's error. */
int cli_pick_point(struct store *st, const char *disk, const char *want, struct store_point *out);
int cli_cmd_replica(int argc, char **argv);
/* A failover's disks (cli_fo_disks.c): restores each failed-over disk of the estate after
 * (YAML text) whose path lies in restore_dir from store, at the failover's point. */
int cli_fo_restore(const char *estate_yaml, const char *name, const char *store,
                   const char *restore_dir, int point, int64_t age, bool quiet);
/* straitd's socket: $STRAIT_SOCKET, else $XDG_RUNTIME_DIR/strait.sock, else /tmp. */
const char *cli_socket_default(void);
/* Calls straitd's API (path: "/v1/NAME?query") on the Unix socket: CLI_GOOD with
 * the answer in *out, CLI_BAD for an error answer (printed; *out holds it), or
 * CLI_UNUSABLE when straitd cannot be reached or answers no JSON (*out NULL). */
int cli_api_call(const char *sock, const char *method, const char *path, json_t **out,
                 long *status);

#endif
