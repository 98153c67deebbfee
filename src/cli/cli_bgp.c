/*
 * cli_bgp.c - `strait bgp`: the provider-edge BGP sessions straitd runs for
 * the circuit peerings that set listen:, asked over its API.
 *
 *   strait bgp summary [-o table|json]                  GET /v1/bgp
 *   strait bgp routes --circuit C [--peering P] --link L (--received|--advertised)
 *                     [-o table|json]                   GET /v1/bgp-routes
 *   strait bgp test --circuit C [--peering P] --link L
 *                   (--disconnect|--prepend N|--stop)   POST /v1/bgp-test
 *
 * summary prints one row per session (circuit, peering, link, the customer's
 * address and AS, state, uptime, prefixes received/accepted/advertised, the
 * last error); exit 1 when a session is not Established. routes prints one
 * route a line (prefix, next hop, AS path, communities). test runs Azure's
 * per-link failover tests and prints what the link advertises after it.
 * Exit 2 when straitd cannot be reached or the arguments are wrong.
 */
#include "cli.h"

#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	puts(s);
	free(s);
}

static json_int_t
num(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static const char *
str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static void
uptime(json_int_t s, char *buf, size_t n)
{
	if (s >= 86400)
		snprintf(buf, n, "%lldd%02lldh", (long long)(s / 86400),
		         (long long)(s % 86400 / 3600));
	else
		snprintf(buf, n, "%02lld:%02lld:%02lld", (long long)(s / 3600),
		         (long long)(s % 3600 / 60), (long long)(s % 60));
}

static int
summary(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 'S'},
	    {"output", required_argument, NULL, 'o'},
	    {NULL, 0, NULL, 0},
	};
	const char *sock = cli_socket_default(), *output = "table";
	int o;
	while ((o = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (o == 'S')
			sock = optarg;
		else if (o == 'o')
			output = optarg;
		else
			return cli_usage_error("bad option");
	}
	if (strcmp(output, "table") && strcmp(output, "json"))
		return cli_usage_error("bad -o '%s' (expected table or json)", output);
	if (optind != argc)
		return cli_usage_error("unexpected '%s'", argv[optind]);
	json_t *j = NULL;
	long status;
	int rc = cli_api_call(sock, "GET", "/v1/bgp", &j, &status);
	if (rc) {
		json_decref(j);
		return rc;
	}
	json_t *ss = json_object_get(j, "sessions");
	bool down = false;
	for (size_t i = 0; i < json_array_size(ss); i++)
		down |= strcmp(str(json_array_get(ss, i), "state"), "Established") != 0;
	if (!strcmp(output, "json")) {
		print_json(j);
	} else if (!json_array_size(ss)) {
		printf("no provider-edge BGP sessions: %s\n", str(j, "off"));
	} else {
		printf("%-16s %-9s %-9s %-16s %10s %-11s %9s %9s %9s  %s\n", "CIRCUIT", "PEERING",
		       "LINK", "NEIGHBOR", "AS", "STATE", "UP/DOWN", "PFX RCVD", "PFX ADV",
		       "LAST ERROR");
		for (size_t i = 0; i < json_array_size(ss); i++) {
			const json_t *s = json_array_get(ss, i);
			char up[32] = "never";
			if (!strcmp(str(s, "state"), "Established"))
				uptime(num(s, "uptime_s"), up, sizeof(up));
			else if (num(s, "established_count"))
				snprintf(up, sizeof(up), "down");
			printf("%-16s %-9s %-9s %-16s %10lld %-11s %9s %9lld %9lld  %s\n",
			       str(s, "circuit"), str(s, "peering"), str(s, "link"),
			       str(s, "remote"), (long long)num(s, "peer_as"), str(s, "state"), up,
			       (long long)(num(s, "accepted_v4") + num(s, "accepted_v6")),
			       (long long)(num(s, "advertised_v4") + num(s, "advertised_v6")),
			       strcmp(str(s, "state"), "Established") ? str(s, "last_error") : "");
		}
	}
	json_decref(j);
	return down ? CLI_BAD : CLI_GOOD;
}

static void
print_routes(const json_t *j)
{
	const json_t *rs = json_object_get(j, "routes");
	printf("%s %s peering, %s link: %zu route%s %s (session %s)\n", str(j, "circuit"),
	       str(j, "peering"), str(j, "link"), json_array_size(rs),
	       json_array_size(rs) == 1 ? "" : "s", str(j, "direction"), str(j, "state"));
	if (!json_array_size(rs))
		return;
	printf("%-24s %-18s %-28s %s\n", "PREFIX", "NEXT HOP", "AS PATH", "COMMUNITIES");
	for (size_t i = 0; i < json_array_size(rs); i++) {
		const json_t *r = json_array_get(rs, i);
		struct lib_buf path = {0}, comm = {0};
		const json_t *v;
		size_t k;
		json_array_foreach(json_object_get(r, "as_path"), k, v)
		    lib_buf_printf(&path, "%s%lld", k ? " " : "", (long long)json_integer_value(v));
		json_array_foreach(json_object_get(r, "communities"), k, v)
		    lib_buf_printf(&comm, "%s%s", k ? " " : "", json_string_value(v));
		const json_t *acc = json_object_get(r, "accepted");
		printf("%-24s %-18s %-28s %s%s%s\n", str(r, "prefix"), str(r, "nexthop"),
		       path.s ? path.s : "", comm.s ? comm.s : "",
		       acc && !json_is_true(acc) ? "  rejected: " : "",
		       acc && !json_is_true(acc) ? str(r, "why") : "");
		free(path.s);
		free(comm.s);
	}
}

static int
routes_or_test(int argc, char **argv, bool test)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 'S'},
	    {"output", required_argument, NULL, 'o'},
	    {"circuit", required_argument, NULL, 'c'},
	    {"peering", required_argument, NULL, 'p'},
	    {"link", required_argument, NULL, 'l'},
	    {"received", no_argument, NULL, 'r'},
	    {"advertised", no_argument, NULL, 'a'},
	    {"disconnect", no_argument, NULL, 'd'},
	    {"prepend", required_argument, NULL, 'P'},
	    {"stop", no_argument, NULL, 's'},
	    {NULL, 0, NULL, 0},
	};
	const char *sock = cli_socket_default(), *output = "table", *circuit = NULL;
	const char *peering = "private", *link = NULL, *what = NULL, *count = "0";
	int o;
	while ((o = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (o) {
		case 'S':
			sock = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'c':
			circuit = optarg;
			break;
		case 'p':
			peering = optarg;
			break;
		case 'l':
			link = optarg;
			break;
		case 'r':
		case 'a':
			if (test)
				return cli_usage_error("bad option");
			if (what)
				return cli_usage_error("give one of --received and --advertised");
			what = o == 'r' ? "received" : "advertised";
			break;
		case 'd':
		case 'P':
		case 's':
			if (!test)
				return cli_usage_error("bad option");
			if (what)
				return cli_usage_error(
				    "give one of --disconnect, --prepend and --stop");
			what = o == 'd' ? "disconnect" : o == 'P' ? "prepend" : "stop";
			if (o == 'P')
				count = optarg;
			break;
		default:
			return cli_usage_error("bad option");
		}
	}
	if (strcmp(output, "table") && strcmp(output, "json"))
		return cli_usage_error("bad -o '%s' (expected table or json)", output);
	if (optind != argc)
		return cli_usage_error("unexpected '%s'", argv[optind]);
	if (!circuit || !link || !what)
		return cli_usage_error(
		    test ? "--circuit, --link and one of --disconnect, --prepend N "
		           "and --stop are required"
		         : "--circuit, --link and one of --received and "
		           "--advertised are required");
	char *ec = curl_easy_escape(NULL, circuit, 0), *ep = curl_easy_escape(NULL, peering, 0);
	char *el = curl_easy_escape(NULL, link, 0), *ek = curl_easy_escape(NULL, count, 0);
	struct lib_buf path = {0};
	if (test)
		lib_buf_printf(&path, "/v1/bgp-test?circuit=%s&peering=%s&link=%s&test=%s&count=%s",
		               ec, ep, el, what, ek);
	else
		lib_buf_printf(&path, "/v1/bgp-routes?circuit=%s&peering=%s&link=%s&direction=%s",
		               ec, ep, el, what);
	curl_free(ec);
	curl_free(ep);
	curl_free(el);
	curl_free(ek);
	json_t *j = NULL;
	long status;
	int rc = cli_api_call(sock, test ? "POST" : "GET", path.s, &j, &status);
	free(path.s);
	if (!rc) {
		if (!strcmp(output, "json"))
			print_json(j);
		else
			print_routes(j);
	}
	json_decref(j);
	return rc;
}

int
cli_cmd_bgp(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("expected summary, routes or test");
	if (!strcmp(argv[1], "summary"))
		return summary(argc - 1, argv + 1);
	if (!strcmp(argv[1], "routes"))
		return routes_or_test(argc - 1, argv + 1, false);
	if (!strcmp(argv[1], "test"))
		return routes_or_test(argc - 1, argv + 1, true);
	return cli_usage_error("unknown 'bgp %s' (expected summary, routes or test)", argv[1]);
}
