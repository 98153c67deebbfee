/*
 * cli_remote.c - strait remote: a client of straitd's API on its Unix socket
 * (libcurl). `strait remote [--socket PATH] COMMAND [KEY=VALUE]...` calls
 * /v1/COMMAND with the command table's method, the pairs as query
 * parameters, and prints the JSON answer. Exit 0 for a 2xx answer, 1 for an
 * error answer, 2 when straitd cannot be reached.
 */
#include "cli.h"
#include "ctl/ctl.h"

#include <curl/curl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static size_t
collect(char *p, size_t size, size_t n, void *ctx)
{
	lib_buf_printf(ctx, "%.*s", (int)(size * n), p);
	return size * n;
}

const char *
cli_socket_default(void)
{
	const char *s = getenv("STRAIT_SOCKET");
	if (s && *s)
		return s;
	static char buf[256];
	const char *run = getenv("XDG_RUNTIME_DIR");
	snprintf(buf, sizeof(buf), "%s/strait.sock", run && *run ? run : "/tmp");
	return buf;
}

int
cli_api_call(const char *sock, const char *method, const char *path, json_t **out, long *status)
{
	CURL *h = curl_easy_init();
	if (!h)
		lib_oom();
	struct lib_buf url = {0}, body = {0};
	lib_buf_printf(&url, "http://straitd%s", path);
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(h, CURLOPT_URL, url.s);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
	CURLcode rc = curl_easy_perform(h);
	*status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(h);
	lib_buf_free(&url);
	if (rc != CURLE_OK) {
		fprintf(stderr, "strait: cannot reach straitd on %s: %s\n", sock,
		        curl_easy_strerror(rc));
		lib_buf_free(&body);
		return CLI_UNUSABLE;
	}
	json_error_t je;
	*out = json_loads(body.s ? body.s : "", 0, &je);
	lib_buf_free(&body);
	if (!*out) {
		fprintf(stderr, "strait: straitd answered something that is not JSON: %s\n",
		        je.text);
		return CLI_UNUSABLE;
	}
	if (*status < 200 || *status >= 300) {
		const char *e = json_string_value(json_object_get(*out, "error"));
		fprintf(stderr, "strait: %s\n", e ? e : "straitd answered an error");
		return CLI_BAD;
	}
	return CLI_GOOD;
}

int
cli_cmd_remote(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {NULL, 0, NULL, 0},
	};
	const char *sock = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's')
			sock = optarg;
		else
			return cli_usage_error("bad option");
	}
	if (optind >= argc)
		return cli_usage_error("expected a command (strait remote index lists them)");
	const char *name = strcmp(argv[optind], "index") == 0 ? "" : argv[optind];
	const struct ctl_cmd *cmd = ctl_find(name);
	if (!cmd)
		return cli_usage_error(
		    "unknown remote command '%s' (strait remote index lists them)", argv[optind]);
	if (!sock)
		sock = cli_socket_default();
	CURL *h = curl_easy_init();
	if (!h)
		lib_oom();
	struct lib_buf url = {0}, body = {0};
	lib_buf_printf(&url, "http://straitd/v1/%s", cmd->name);
	for (int i = optind + 1; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		if (!eq) {
			curl_easy_cleanup(h);
			lib_buf_free(&url);
			return cli_usage_error("expected KEY=VALUE, got '%s'", argv[i]);
		}
		char *k = curl_easy_escape(h, argv[i], (int)(eq - argv[i]));
		char *v = curl_easy_escape(h, eq + 1, 0);
		lib_buf_printf(&url, "%c%s=%s", i == optind + 1 ? '?' : '&', k, v);
		curl_free(k);
		curl_free(v);
	}
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(h, CURLOPT_URL, url.s);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	if (strcmp(cmd->method, "POST") == 0)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
	CURLcode rc = curl_easy_perform(h);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	lib_buf_free(&url);
	int ret;
	if (rc != CURLE_OK) {
		fprintf(stderr, "strait: cannot reach straitd on %s: %s\n", sock,
		        curl_easy_strerror(rc));
		ret = CLI_UNUSABLE;
	} else {
		fputs(body.s ? body.s : "", status >= 200 && status < 300 ? stdout : stderr);
		ret = status >= 200 && status < 300 ? CLI_GOOD : CLI_BAD;
	}
	lib_buf_free(&body);
	return ret;
}
