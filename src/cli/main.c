/*
 * main.c - strait, the command-line tool.
 *
 * Offline commands on estate files. Each command is one row of the table
 * below (name, usage, summary, handler); `strait help` and usage errors are
 * derived from it. Exit status: 0 the answer is good, 1 the answer is bad
 * (errors found), 2 the input or the command line was unusable.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_GOOD = CLI_GOOD, EXIT_BAD = CLI_BAD, EXIT_UNUSABLE = CLI_UNUSABLE };

struct cli_cmd {
	const char *name;
	const char *usage;
	const char *summary;
	int (*fn)(int argc, char **argv);
};

static const struct cli_cmd *cur;

int
cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("strait: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: strait %s %s\n", cur->name, cur->usage);
	return EXIT_UNUSABLE;
}

#define usage_error    cli_usage_error
#define load_or_report cli_load

static const struct option out_opts[] = {
    {"output", required_argument, NULL, 'o'},
    {"rule", required_argument, NULL, 'r'},
    {"write", no_argument, NULL, 'w'},
    {"check", no_argument, NULL, 'c'},
    {"markdown", no_argument, NULL, 'm'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int
cmd_check(int argc, char **argv)
{
	const char *fmt = "table", *only[64];
	size_t nonly = 0;
	int o;
	while ((o = getopt_long(argc, argv, "o:r:h", out_opts, NULL)) != -1) {
		switch (o) {
		case 'o':
			fmt = optarg;
			break;
		case 'r':
			if (!chk_rule_find(optarg))
				return usage_error("unknown rule '%s' (strait rules lists them)",
				                   optarg);
			if (nonly < LIB_ARRAY_LEN(only))
				only[nonly++] = optarg;
			break;
		default:
			return usage_error("bad option");
		}
	}
	if (strcmp(fmt, "table") && strcmp(fmt, "json") && strcmp(fmt, "sarif"))
		return usage_error("unknown output '%s' (expected table, json or sarif)", fmt);
	if (optind != argc - 1)
		return usage_error("expected one estate file");
	struct estate *e = load_or_report(argv[optind]);
	if (!e)
		return EXIT_UNUSABLE;
	struct chk_result r;
	chk_run(e, only, nonly, &r);
	if (strcmp(fmt, "table") == 0) {
		chk_print_table(e, &r, stdout);
	} else {
		char *s = strcmp(fmt, "json") == 0 ? chk_json(e, &r) : chk_sarif(e, &r);
		puts(s);
		free(s);
	}
	int rc = r.nerr ? EXIT_BAD : EXIT_GOOD;
	chk_result_free(&r);
	est_free(e);
	return rc;
}

static int
cmd_fmt(int argc, char **argv)
{
	const char *fmt = "yaml";
	bool write = false, check = false;
	int o;
	while ((o = getopt_long(argc, argv, "o:wch", out_opts, NULL)) != -1) {
		switch (o) {
		case 'o':
			fmt = optarg;
			break;
		case 'w':
			write = true;
			break;
		case 'c':
			check = true;
			break;
		default:
			return usage_error("bad option");
		}
	}
	if (strcmp(fmt, "yaml") && strcmp(fmt, "json"))
		return usage_error("unknown output '%s' (expected yaml or json)", fmt);
	if (optind != argc - 1)
		return usage_error("expected one estate file");
	const char *path = argv[optind];
	struct estate *e = load_or_report(path);
	if (!e)
		return EXIT_UNUSABLE;
	char *s = est_emit(e, strcmp(fmt, "json") == 0 ? EST_FMT_JSON : EST_FMT_YAML);
	int rc = EXIT_GOOD;
	if (check || write) {
		char *old = NULL;
		size_t n;
		bool same = lib_read_file(path, &old, &n) == 0 && strcmp(old, s) == 0;
		free(old);
		if (check && !same) {
			fprintf(stderr,
			        "strait: %s is not in canonical form (strait fmt -w fixes it)\n",
			        path);
			rc = EXIT_BAD;
		} else if (write && !same) {
			int w = lib_write_atomic(path, s, strlen(s));
			if (w) {
				fprintf(stderr, "strait: %s: cannot write: %s\n", path,
				        strerror(-w));
				rc = EXIT_UNUSABLE;
			}
		}
	} else {
		fputs(s, stdout);
	}
	free(s);
	est_free(e);
	return rc;
}

static int
cmd_schema(int argc, char **argv)
{
	bool md = false;
	int o;
	while ((o = getopt_long(argc, argv, "mh", out_opts, NULL)) != -1) {
		if (o == 'm')
			md = true;
		else
			return usage_error("bad option");
	}
	if (optind != argc)
		return usage_error("takes no arguments");
	char *s = md ? est_markdown_reference() : est_json_schema();
	fputs(s, stdout);
	free(s);
	return EXIT_GOOD;
}

static int
cmd_summary(int argc, char **argv)
{
	if (argc != 2)
		return usage_error("expected one estate file");
	struct estate *e = load_or_report(argv[1]);
	if (!e)
		return EXIT_UNUSABLE;
	char *s = est_summary(e);
	fputs(s, stdout);
	free(s);
	est_free(e);
	return EXIT_GOOD;
}

static int
cmd_rules(int argc, char **argv)
{
	const char *fmt = "table";
	int o;
	while ((o = getopt_long(argc, argv, "o:h", out_opts, NULL)) != -1) {
		if (o == 'o')
			fmt = optarg;
		else
			return usage_error("bad option");
	}
	static const char *const sev[] = {"error", "warning", "info"};
	bool json = strcmp(fmt, "json") == 0;
	if (!json && strcmp(fmt, "table"))
		return usage_error("unknown output '%s' (expected table or json)", fmt);
	if (json)
		puts("[");
	for (uint32_t i = 0; i < chk_rule_count(); i++) {
		const struct chk_rule *r = chk_rule_at(i);
		if (json)
			printf("  {\"id\": \"%s\", \"severity\": \"%s\", \"title\": \"%s\"}%s\n",
			       r->id, sev[r->sev], r->title, i + 1 < chk_rule_count() ? "," : "");
		else
			printf("%-6s %-7s %s\n       source: %s\n", r->id, sev[r->sev], r->title,
			       r->source);
	}
	if (json)
		puts("]");
	return EXIT_GOOD;
}

static int cmd_help(int argc, char **argv);

static const struct cli_cmd cmds[] = {
    {"check", "ESTATE [-o table|json|sarif] [--rule ID]...",
     "check an estate against every rule; exit 1 when errors are found", cmd_check},
    {"fmt", "ESTATE [-o yaml|json] [--write|--check]", "print the estate in canonical form",
     cmd_fmt},
    {"summary", "ESTATE", "what the estate holds, in a few lines", cmd_summary},
    {"routes",
     "ESTATE (--subnet VNET/SUBNET | --site SITE | --gateway GW | --replication) "
     "[--fail KIND:NAME]... "
     "[-o table|json]",
     "effective routes of a subnet, an on-premises site's edge routers or a gateway; the "
     "paths of replication traffic",
     cli_cmd_routes},
    {"trace", "ESTATE FROM TO [--fail KIND:NAME]... [-o table|json]",
     "hop by hop from a VM, IP or site to another and back; exit 1 unless delivered both ways "
     "symmetrically",
     cli_cmd_trace},
    {"reach", "ESTATE [--select SITE|VM]... [--fail KIND:NAME]... [-o table|json]",
     "reachability between every site and VM, both ways; exit 1 unless all reach", cli_cmd_reach},
    {"whatif", "ESTATE --fail KIND:NAME... [--select SITE|VM]... [-o table|json]",
     "what a failure of a region, location, circuit, link, gateway or connection changes; "
     "exit 1 when a pair is lost",
     cli_cmd_whatif},
    {"diff", "ESTATE_A ESTATE_B [--fail KIND:NAME]... [--select SITE|VM]... [-o table|json]",
     "differential reachability between two estates (before and after a failover); failures "
     "apply to ESTATE_B",
     cli_cmd_diff},
    {"plan",
     "ESTATE [--generate [--preprovision] [--name N]] [--emit az [--plan P] [--failback] "
     "[--type test|planned|unplanned]]",
     "recovery plans and what the target still lacks; a plan generated for the topology; "
     "az CLI runbook",
     cli_cmd_plan},
    {"drill", "ESTATE [--plan P] [--out FILE] [--cleanup] [-o table|json]",
     "test failover into the isolated test network; production untouched", cli_cmd_drill},
    {"failover",
     "ESTATE [--plan P] [--planned|--unplanned] [--point latest|latest-processed|"
     "latest-app-consistent|AGE] [--down region:R] [--duration KEY=DUR]... [--out FILE] "
     "[--state DB|--no-state] [--restart] [--confirm] [--run-scripts] [-o table|json]",
     "run a recovery plan on the model: timeline, RTO, RPO, the estate after, reachability "
     "verdict",
     cli_cmd_failover},
    {"commit", "ESTATE [--out FILE]", "commit a failover (recovery points deleted)",
     cli_cmd_commit},
    {"reprotect", "ESTATE [--out FILE]",
     "replicate back: source and target swapped, network mapping reversed", cli_cmd_reprotect},
    {"failback", "ESTATE [--plan P] [--planned|--unplanned] [--out FILE] [-o table|json]",
     "fail back to the primary with the plan's failback steps", cli_cmd_failback},
    {"replica",
     "(capture DISK IMAGE [--app] [--time T] [--chunk-size N] | points DISK [-o table|json] | "
     "restore DISK OUTPUT [--point N|latest|latest-app] [--format raw|qcow2] | prune DISK "
     "--retention DUR | gc | serve --work DIR --socket PATH [--tcp HOST:PORT] [--interval DUR] "
     "[--retention DUR|none] [--activity-log N] [--map-cache SIZE] "
     "[--nbd-tls-cert FILE --nbd-tls-key FILE [--nbd-tls-ca FILE] [--nbd-tls-required]] "
     "[--target HOST:PORT [--zstd LEVEL] [--rate BW] [--tls-ca FILE [--tls-cert FILE --tls-key "
     "FILE] [--tls-name NAME]]] DISK=IMAGE... | receive --work DIR --listen HOST:PORT [--interval "
     "DUR] [--retention DUR|none] [--map-cache SIZE] [--tls-cert FILE --tls-key FILE [--tls-ca "
     "FILE]] [DISK=SEED...] | "
     "drill DISK --socket "
     "PATH [--tcp HOST:PORT] "
     "[--point "
     "N|latest|latest-app] "
     "[--work DIR]) "
     "--store DIR | status [--socket PATH] [-o table|json] | mark [DISK|GROUP] [--socket PATH]",
     "the recovery region's store: capture a disk image as a recovery point, list, restore, "
     "prune, collect garbage; protect disks served over NBD; drill a point over NBD; "
     "straitd's replication status and app-consistent points",
     cli_cmd_replica},
    {"bgp",
     "summary [-o table|json] | routes --circuit C [--peering private|microsoft] --link "
     "primary|secondary --received|--advertised [-o table|json] | test --circuit C [--peering "
     "P] --link L --disconnect|--prepend N|--stop [--socket PATH]",
     "straitd's provider-edge BGP sessions (peerings with listen:): their state, the routes "
     "received and advertised; Azure's per-link failover tests",
     cli_cmd_bgp},
    {"remote", "[--socket PATH] COMMAND [KEY=VALUE]...",
     "ask straitd over its API (strait remote index lists the commands)", cli_cmd_remote},
    {"rules", "[-o table|json]", "list the check rules", cmd_rules},
    {"schema", "[--markdown]", "print the estate format as JSON Schema or Markdown", cmd_schema},
    {"help", "[COMMAND]", "this text", cmd_help},
};

static int
cmd_help(int argc, char **argv)
{
	FILE *out = argc > 0 ? stdout : stderr;
	fputs("strait - network-aware disaster recovery for hybrid estates\n\ncommands:\n", out);
	for (size_t i = 0; i < LIB_ARRAY_LEN(cmds); i++)
		fprintf(out, "  strait %s %s\n      %s\n", cmds[i].name, cmds[i].usage,
		        cmds[i].summary);
	fputs("\nexit status: 0 good, 1 bad (errors found), 2 unusable input\n", out);
	return EXIT_GOOD;
}

int
main(int argc, char **argv)
{
	lib_nofile_raise(); /* replication keeps files open per disk (lib/nofile.c) */
	if (argc < 2) {
		cmd_help(0, NULL);
		return EXIT_UNUSABLE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(1, NULL);
	if (strcmp(argv[1], "--version") == 0) {
		puts("strait 0.1.0");
		return EXIT_GOOD;
	}
	for (size_t i = 0; i < LIB_ARRAY_LEN(cmds); i++) {
		if (strcmp(argv[1], cmds[i].name) == 0) {
			cur = &cmds[i];
			optind = 1;
			return cmds[i].fn(argc - 1, argv + 1);
		}
	}
	const char *names[LIB_ARRAY_LEN(cmds)];
	for (size_t i = 0; i < LIB_ARRAY_LEN(cmds); i++)
		names[i] = cmds[i].name;
	const char *near = lib_nearest(argv[1], names, LIB_ARRAY_LEN(cmds));
	fprintf(stderr, "strait: unknown command '%s'%s%s%s (strait help lists them)\n", argv[1],
	        near ? ", did you mean '" : "", near ? near : "", near ? "'?" : "");
	return EXIT_UNUSABLE;
}
