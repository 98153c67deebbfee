/*
 * cli_repl_status.c - `strait replica status` and `strait replica mark`: the
 * live side of replication, asked of straitd over its API (GET /v1/replication,
 * POST /v1/mark).
 *
 * status prints one row per protected disk: its state (initial-copy with the
 * percentage done, protected, resync, error), the RPO now (the age of the
 * oldest write no point holds), the churn (MB/s written, about 10 s average),
 * the backlog (bytes written, not yet applied to the replica) and the newest
 * point (number, kind, age); -o json prints straitd's answer as it is.
 * mark asks straitd (which answers at once) and then waits, asking the status,
 * until the recovery region has reported every point asked for (a minute at
 * most). Exit: 0, 1 when a disk is in error (status) or the mark failed or did
 * not come in time, 2 when straitd cannot be reached.
 */
#include "cli.h"

#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int
parse(int argc, char **argv, const char **sock, const char **output)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 'S'},
	    {"output", required_argument, NULL, 'o'},
	    {NULL, 0, NULL, 0},
	};
	int o;
	*sock = cli_socket_default();
	while ((o = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (o == 'S')
			*sock = optarg;
		else if (o == 'o' && output)
			*output = optarg;
		else
			return cli_usage_error("bad option");
	}
	if (output && strcmp(*output, "table") && strcmp(*output, "json"))
		return cli_usage_error("bad -o '%s' (expected table or json)", *output);
	return CLI_GOOD;
}

static void
human_bytes(double b, char *buf, size_t n)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;
	while (b >= 1024 && u < 4)
		b /= 1024, u++;
	snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

static json_int_t
num(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

int
cli_replica_status(int argc, char **argv)
{
	const char *sock, *output = "table";
	int rc = parse(argc, argv, &sock, &output);
	if (rc)
		return rc;
	if (optind != argc)
		return cli_usage_error("unexpected '%s'", argv[optind]);
	json_t *j = NULL;
	long status;
	rc = cli_api_call(sock, "GET", "/v1/replication", &j, &status);
	if (rc) {
		json_decref(j);
		return rc;
	}
	json_t *disks = json_object_get(j, "disks");
	bool bad = false;
	if (!strcmp(output, "json")) {
		char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		puts(s);
		free(s);
	} else {
		printf("%-20s %-18s %9s %10s %10s  %s\n", "DISK", "STATE", "RPO", "CHURN",
		       "BACKLOG", "LAST POINT");
	}
	int64_t now = (int64_t)time(NULL);
	for (size_t i = 0; i < json_array_size(disks); i++) {
		const json_t *d = json_array_get(disks, i);
		const char *st = json_string_value(json_object_get(d, "state"));
		const char *err = json_string_value(json_object_get(d, "error"));
		bad = bad || err;
		if (!strcmp(output, "json"))
			continue;
		char state[40], rpo[24], churn[24], backlog[24], last[64] = "none yet";
		if (!strcmp(st, "initial-copy"))
			snprintf(state, sizeof(state), "initial-copy %.0f%%",
			         json_real_value(json_object_get(d, "copy_percent")));
		else
			snprintf(state, sizeof(state), "%s", st);
		snprintf(rpo, sizeof(rpo), "%.1fs", (double)num(d, "rpo_ms") / 1000.0);
		human_bytes(json_real_value(json_object_get(d, "churn_bytes_per_s")), churn,
		            sizeof(churn));
		strcat(churn, "/s");
		human_bytes((double)num(d, "backlog_bytes"), backlog, sizeof(backlog));
		const json_t *lp = json_object_get(d, "last_point");
		if (lp)
			snprintf(last, sizeof(last), "#%lld %s, %llds ago",
			         (long long)num(lp, "seq"),
			         json_string_value(json_object_get(lp, "kind")),
			         (long long)(now - num(lp, "time")));
		printf("%-20s %-18s %9s %10s %10s  %s%s%s\n",
		       json_string_value(json_object_get(d, "disk")), state, rpo, churn, backlog,
		       last, err ? "  error: " : "", err ? err : "");
	}
	json_decref(j);
	return bad ? CLI_BAD : CLI_GOOD;
}

int
cli_replica_mark(int argc, char **argv)
{
	const char *sock;
	int rc = parse(argc, argv, &sock, NULL);
	if (rc)
		return rc;
	if (argc - optind > 1)
		return cli_usage_error("expected at most one DISK or GROUP");
	struct lib_buf path = {0};
	lib_buf_printf(&path, "/v1/mark");
	if (optind < argc) {
		char *e = curl_easy_escape(NULL, argv[optind], 0);
		lib_buf_printf(&path, "?disk=%s", e);
		curl_free(e);
	}
	json_t *j = NULL;
	long status;
	rc = cli_api_call(sock, "POST", path.s, &j, &status);
	lib_buf_free(&path);
	long long n = rc ? 0 : (long long)num(j, "requested");
	json_decref(j);
	/* The points come within straitd's next ticks: wait until no disk has a mark
	 * pending (or a minute has passed). */
	for (int waited = 0; !rc; waited += 100) {
		rc = cli_api_call(sock, "GET", "/v1/replication", &j, &status);
		bool pending = false;
		json_t *disks = json_object_get(j, "disks");
		for (size_t i = 0; !rc && i < json_array_size(disks); i++)
			pending = pending ||
			          json_object_get(json_array_get(disks, i), "mark_pending_seq");
		json_decref(j);
		if (rc || !pending)
			break;
		if (waited >= 60000) {
			fprintf(stderr,
			        "strait: the recovery region did not report the point within 60 s "
			        "(strait replica status shows the disks)\n");
			return CLI_BAD;
		}
		struct timespec ts = {0, 100000000};
		nanosleep(&ts, NULL);
	}
	if (!rc)
		printf("%lld app-consistent point%s cut\n", n, n == 1 ? "" : "s");
	return rc;
}
