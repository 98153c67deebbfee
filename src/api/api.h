/*
 * api.h - the HTTP API of straitd (REST from the command table, metrics) on
 * a Unix socket, run on a libuv loop.
 */
#ifndef STRAIT_API_H
#define STRAIT_API_H

#include "ctl/ctl.h"

#include <uv.h>

struct api;

/* Listens on the Unix socket at path (a stale socket there is replaced;
 * anything else is refused). */
int api_start(uv_loop_t *loop, const char *path, struct ctl_env *env, struct api **out, char *err,
              size_t errlen);
/* Stops listening and frees everything once the loop has closed its handles. */
void api_stop(struct api *a);

#endif
