/*
 * api.c - the REST API over HTTP on a Unix socket, on the daemon's libuv loop.
 *
 * libmicrohttpd parses HTTP; it runs in epoll mode without threads of its own:
 * its epoll descriptor is watched by a uv_poll and its timeouts by a
 * uv_timer, so every request is handled on the one loop. Routes come from
 * the command table (src/ctl): GET /v1 lists them, /v1/NAME runs one (query
 * parameters are its arguments), GET /metrics is the Prometheus exposition.
 * Errors are JSON {"error": ..., "status": ...} with the HTTP status: 404
 * for an unknown path, 405 for a wrong method, 400 for bad arguments.
 */
#include "api.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct api {
	struct MHD_Daemon *mhd;
	uv_poll_t poll;
	uv_timer_t timer;
	int fd;
	char path[108];
	struct ctl_env *env;
	int closing;
};

static enum MHD_Result
add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	json_object_set_new(cls, key, json_string(value ? value : ""));
	return MHD_YES;
}

static enum MHD_Result
reply(struct MHD_Connection *c, int status, const char *type, char *body)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
reply_json(struct api *a, struct MHD_Connection *c, int status, json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(v);
	size_t n = strlen(s);
	s = lib_xrealloc(s, n + 2);
	s[n] = '\n';
	s[n + 1] = '\0';
	if (status >= 400)
		a->env->errors++;
	return reply(c, status, "application/json", s);
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
       const char *version, const char *upload, size_t *upload_size, void **state)
{
	struct api *a = cls;
	static int first;
	(void)version;
	(void)upload;
	if (!*state) { /* headers only: wait for the body (none is used) */
		*state = &first;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0; /* bodies are not used yet: drain them */
		return MHD_YES;
	}
	a->env->requests++;
	json_t *out = NULL;
	if (strcmp(url, "/metrics") == 0) {
		if (strcmp(method, "GET"))
			return reply_json(
			    a, c, 405, json_pack("{s:s, s:i}", "error", "use GET", "status", 405));
		return reply(c, 200, "text/plain; version=0.0.4", ctl_metrics(a->env));
	}
	const char *name = NULL;
	if (strcmp(url, "/v1") == 0 || strcmp(url, "/v1/") == 0)
		name = "";
	else if (strncmp(url, "/v1/", 4) == 0)
		name = url + 4;
	const struct ctl_cmd *cmd = name ? ctl_find(name) : NULL;
	if (!cmd) {
		ctl_error(&out, 404, "no such path %s (GET /v1 lists them)", url);
		return reply_json(a, c, 404, out);
	}
	if (strcmp(method, cmd->method) != 0) {
		ctl_error(&out, 405, "%s takes %s", url, cmd->method);
		return reply_json(a, c, 405, out);
	}
	json_t *args = json_object();
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, args);
	int status = cmd->fn(a->env, args, &out);
	json_decref(args);
	return reply_json(a, c, status, out ? out : json_object());
}

static void arm(struct api *a);

static void
on_timer(uv_timer_t *t)
{
	struct api *a = t->data;
	MHD_run(a->mhd);
	arm(a);
}

static void
on_ready(uv_poll_t *p, int status, int events)
{
	struct api *a = p->data;
	(void)status;
	(void)events;
	MHD_run(a->mhd);
	arm(a);
}

/* Sets the timer to MHD's next timeout. */
static void
arm(struct api *a)
{
	MHD_UNSIGNED_LONG_LONG ms = 0;
	if (a->closing)
		return;
	if (MHD_get_timeout(a->mhd, &ms) == MHD_YES)
		uv_timer_start(&a->timer, on_timer, ms ? ms : 1, 0);
	else
		uv_timer_stop(&a->timer);
}

int
api_start(uv_loop_t *loop, const char *path, struct ctl_env *env, struct api **out, char *err,
          size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", path);
			return -EEXIST;
		}
		unlink(path); /* a stale socket of an earlier run */
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0660) < 0 ||
	    listen(fd, 64) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	struct api *a = lib_xcalloc(1, sizeof(*a));
	a->fd = fd;
	a->env = env;
	snprintf(a->path, sizeof(a->path), "%s", path);
	a->mhd = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, handle, a, MHD_OPTION_LISTEN_SOCKET,
	                          fd, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	                          MHD_OPTION_CONNECTION_LIMIT, (unsigned)256, MHD_OPTION_END);
	const union MHD_DaemonInfo *info =
	    a->mhd ? MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!info) {
		snprintf(err, errlen, "libmicrohttpd could not start on %s", path);
		if (a->mhd)
			MHD_stop_daemon(a->mhd);
		close(fd);
		unlink(path);
		free(a);
		return -EIO;
	}
	uv_poll_init(loop, &a->poll, info->epoll_fd);
	uv_timer_init(loop, &a->timer);
	a->poll.data = a->timer.data = a;
	uv_poll_start(&a->poll, UV_READABLE, on_ready);
	arm(a);
	*out = a;
	return 0;
}

static void
on_closed(uv_handle_t *h)
{
	struct api *a = h->data;
	if (++a->closing == 3) { /* both handles closed (closing started at 1) */
		MHD_stop_daemon(a->mhd);
		close(a->fd);
		unlink(a->path);
		free(a);
	}
}

void
api_stop(struct api *a)
{
	if (!a)
		return;
	a->closing = 1;
	uv_poll_stop(&a->poll);
	uv_timer_stop(&a->timer);
	uv_close((uv_handle_t *)&a->poll, on_closed);
	uv_close((uv_handle_t *)&a->timer, on_closed);
}
