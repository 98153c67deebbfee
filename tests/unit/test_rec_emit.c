/*
 * test_rec_emit.c - recovery plans as az CLI runbooks (rec_emit_az): the
 * seed's plan against its golden script, step order and the direction and
 * type filters, quoting, and every script checked by bash -n and run with a
 * stub az that records its commands.
 *
 * STRAIT_UPDATE_GOLDEN=1 rewrites tests/golden/emit/seed-failover.sh.
 */
#include "testutil.h"

#include "recover/rec_emit.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------- */

/* The first of ../P and ../../P that exists (the tests run from the build
 * directory or a subdirectory of it); fails loudly when neither does. */
static const char *
find_path(const char *rel, char *buf, size_t n)
{
	const char *pre[] = {"../", "../../"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(pre); i++) {
		snprintf(buf, n, "%s%s", pre[i], rel);
		if (access(buf, R_OK) == 0)
			return buf;
	}
	fail_msg("%s not found from the working directory (tried ../ and ../../)", rel);
	return NULL;
}

static struct estate *
load_seed(void)
{
	char path[256];
	find_path("examples/seed-two-circuits.yaml", path, sizeof(path));
	struct lib_diags d;
	struct estate *e = NULL;
	lib_diags_init(&d);
	int rc = est_load_file(path, &d, &e);
	if (rc)
		lib_diags_print(&d, stderr);
	lib_diags_free(&d);
	assert_int_equal(rc, 0);
	return e;
}

/* The script for plan 0 (heap); *nwarn gets the number of warnings. */
static char *
emit(const struct estate *e, int dir, int type, unsigned *nwarn)
{
	struct lib_buf b = {0};
	struct lib_diags d;
	lib_diags_init(&d);
	assert_true(e->recovery_plans.n > 0);
	assert_int_equal(rec_emit_az(e, &e->recovery_plans.v[0], dir, type, &b, &d), 0);
	if (nwarn)
		*nwarn = d.v.n;
	else if (d.v.n)
		lib_diags_print(&d, stderr);
	lib_diags_free(&d);
	assert_non_null(b.s);
	return b.s;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

struct sandbox {
	char dir[64];
	char script[96], az[96], log[96], input[96];
};

static void
sandbox_open(struct sandbox *s, const char *script)
{
	snprintf(s->dir, sizeof(s->dir), "/tmp/strait-emit-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->script, sizeof(s->script), "%s/run.sh", s->dir);
	snprintf(s->az, sizeof(s->az), "%s/az", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/az.log", s->dir);
	snprintf(s->input, sizeof(s->input), "%s/enter", s->dir);
	write_file(s->script, script, 0700);
	/* a stub az: records each call; fails the calls that match $AZ_FAIL */
	write_file(s->az,
	           "#!/bin/sh\n"
	           "printf '%s\\n' \"$*\" >> \"$AZ_LOG\"\n"
	           "case \"$*\" in\n"
	           "\"account show\"*) echo 11111111-2222-3333-4444-555555555555 ;;\n"
	           "\"site-recovery protected-item list\"*) echo item-1 ;;\n"
	           "esac\n"
	           "if [ -n \"${AZ_FAIL:-}\" ]; then case \"$*\" in $AZ_FAIL) exit 1 ;; esac; fi\n"
	           "exit 0\n",
	           0700);
	write_file(s->input, "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n", 0600);
	write_file(s->log, "", 0600);
}

static void
sandbox_close(struct sandbox *s)
{
	unlink(s->script);
	unlink(s->az);
	unlink(s->log);
	unlink(s->input);
	char ran[128];
	snprintf(ran, sizeof(ran), "%s/ran.txt", s->dir); /* what the plans' scripts write */
	unlink(ran);
	rmdir(s->dir);
}

/* bash -n on the script: its exit status. */
static int
bash_n(const char *script)
{
	struct sandbox s;
	sandbox_open(&s, script);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "bash -n %s", s.script);
	int st = system(cmd);
	sandbox_close(&s);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs the script with the stub az first in PATH, Enter for every prompt;
 * returns its exit status and the az calls (heap) in *log. */
static int
run(const char *script, const char *env, char **log)
{
	struct sandbox s;
	sandbox_open(&s, script);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
	         "cd %s && env PATH=%s:\"$PATH\" AZ_LOG=%s %s bash %s < %s > out.txt 2>&1; "
	         "st=$?; rm -f out.txt; exit $st",
	         s.dir, s.dir, s.log, env ? env : "", s.script, s.input);
	int st = system(cmd);
	size_t n;
	char *text = NULL;
	assert_int_equal(lib_read_file(s.log, &text, &n), 0);
	*log = text;
	sandbox_close(&s);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Position of needle in hay, failing when absent. */
static size_t
at(const char *hay, const char *needle)
{
	const char *p = strstr(hay, needle);
	if (!p)
		fail_msg("'%s' not found in:\n%s", needle, hay);
	return (size_t)(p - hay);
}

/* ---- the seed ------------------------------------------------------------- */

static void
seed_golden(void **state)
{
	struct estate *e = load_seed();
	unsigned nwarn;
	char *got = emit(e, EST_DIR_FAILOVER, EST_FO_UNPLANNED, &nwarn);
	assert_int_equal(nwarn, 0);
	char path[256];
	find_path("tests/golden/emit", path, sizeof(path));
	strncat(path, "/seed-failover.sh", sizeof(path) - strlen(path) - 1);
	if (getenv("STRAIT_UPDATE_GOLDEN"))
		assert_int_equal(lib_write_atomic(path, got, strlen(got)), 0);
	char *want = NULL;
	size_t n;
	assert_int_equal(lib_read_file(path, &want, &n), 0);
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "%s", got);
		fail_msg("the seed's failover script differs from %s", path);
	}
	free(want);
	free(got);
	est_free(e);
}

static void
seed_every_run_parses(void **state)
{
	struct estate *e = load_seed();
	int dirs[] = {EST_DIR_FAILOVER, EST_DIR_FAILBACK};
	for (size_t d = 0; d < LIB_ARRAY_LEN(dirs); d++)
		for (int t = EST_FO_TEST; t <= EST_FO_UNPLANNED; t++) {
			char *s = emit(e, dirs[d], t, NULL);
			assert_int_equal(bash_n(s), 0);
			assert_non_null(strstr(s, "set -euo pipefail\n"));
			free(s);
		}
	/* the check itself rejects what is broken */
	assert_int_not_equal(bash_n("#!/usr/bin/env bash\nif true; then\necho 'x\n"), 0);
	est_free(e);
}

static void
seed_runs_in_order(void **state)
{
	struct estate *e = load_seed();
	char *s = emit(e, EST_DIR_FAILOVER, EST_FO_UNPLANNED, NULL);
	char *log;
	/* no vault name in the seed: the script demands one */
	assert_int_not_equal(run(s, NULL, &log), 0);
	assert_null(strstr(log, "network"));
	free(log);

	assert_int_equal(run(s, "VAULT_NAME=v", &log), 0);
	const char *order[] = {
	    "account show",
	    "network vnet-gateway create --name gw-sea --resource-group rg-southeastasia "
	    "--location southeastasia --vnet hub-sea --gateway-type ExpressRoute --sku ErGw1AZ "
	    "--no-wait",
	    "network vnet-gateway wait --name gw-sea --resource-group rg-southeastasia --created",
	    "network vpn-connection create --name gw-sea-er-sg --resource-group rg-southeastasia "
	    "--location southeastasia --vnet-gateway1 gw-sea --express-route-circuit2 "
	    "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-circuits/"
	    "providers/Microsoft.Network/expressRouteCircuits/er-sg --routing-weight 0",
	    "network vnet peering create --name spoke1-sea-to-hub-sea --resource-group "
	    "rg-southeastasia --vnet-name spoke1-sea --remote-vnet hub-sea --allow-vnet-access "
	    "--allow-forwarded-traffic --use-remote-gateways",
	    "--vnet-name hub-sea --remote-vnet spoke1-sea --allow-vnet-access "
	    "--allow-forwarded-traffic --allow-gateway-transit",
	    "--vnet-name spoke2-sea --remote-vnet hub-sea",
	    "--vnet-name hub-sea --remote-vnet spoke2-sea",
	    "network route-table create --name spoke-udr-sea",
	    "network route-table route create --name default-via-nva --resource-group "
	    "rg-southeastasia --route-table-name spoke-udr-sea --address-prefix 0.0.0.0/0 "
	    "--next-hop-type VirtualAppliance --next-hop-ip-address 10.0.0.4",
	    "--name onprem-via-nva",
	    "--name private-via-nva",
	    "network vnet subnet update --name app --vnet-name spoke1-sea --resource-group "
	    "rg-southeastasia --route-table spoke-udr-sea",
	    "network vnet subnet update --name db --vnet-name spoke2-sea",
	    "network route-table create --name hub-gw-udr-sea",
	    "--name spoke1-via-nva",
	    "--name spoke2-via-nva",
	    "network vnet subnet update --name GatewaySubnet --vnet-name hub-sea",
	    "site-recovery protected-item list",
	    "friendlyName=='db1'",
	    "site-recovery protected-item unplanned-failover --resource-group rg-southeastasia "
	    "--vault-name v --fabric-name asr-a2a-default-eastasia --protection-container "
	    "asr-a2a-default-eastasia-container --name item-1 --failover-direction "
	    "PrimaryToRecovery --provider-details {a2a:{}} --source-site-operations NotRequired",
	    "friendlyName=='app1'",
	    "unplanned-failover",
	};
	size_t pos = 0;
	for (size_t i = 0; i < LIB_ARRAY_LEN(order); i++) {
		size_t p = at(log + pos, order[i]);
		pos += p + strlen(order[i]);
	}
	assert_null(strstr(log + pos, "network")); /* nothing after the VMs touches Azure */
	free(log);

	/* environment overrides reach the commands */
	assert_int_equal(run(s, "VAULT_NAME=v RG_TARGET=dr-net RG_CIRCUITS=er-rg", &log), 0);
	at(log, "vnet-gateway create --name gw-sea --resource-group dr-net ");
	at(log, "resourceGroups/er-rg/providers/Microsoft.Network/expressRouteCircuits/er-sg");
	at(log, "protected-item list --resource-group dr-net --vault-name v");
	free(log);
	free(s);
	est_free(e);
}

static void
seed_types(void **state)
{
	struct estate *e = load_seed();
	char *t = emit(e, EST_DIR_FAILOVER, EST_FO_TEST, NULL);
	at(t, "az site-recovery protected-item test-failover ");
	at(t, "--network-type VmNetworkAsInput --network-id \"$TEST_NETWORK_ID\"");
	at(t, "TEST_NETWORK_ID=\"${TEST_NETWORK_ID:-/subscriptions/${SUBSCRIPTION}/resourceGroups/"
	      "${RG_southeastasia}/providers/Microsoft.Network/virtualNetworks/drill-sea}\"");
	assert_null(strstr(t, "unplanned-failover --"));
	char *p = emit(e, EST_DIR_FAILOVER, EST_FO_PLANNED, NULL);
	at(p, "--source-site-operations Required");
	/* failback: the items replicate from the recovery region after reprotect */
	char *b = emit(e, EST_DIR_FAILBACK, EST_FO_UNPLANNED, NULL);
	at(b, "ASR_FABRIC=\"${ASR_FABRIC:-asr-a2a-default-southeastasia}\"");
	at(b, "# group 1: fail back VMs db1 ");
	/* every step of the seed runs on failover and failback alike (direction any) */
	at(b, "step '1. create gateway gw-sea in hub-sea (ExpressRoute ErGw1AZ)'");
	free(t);
	free(p);
	free(b);
	est_free(e);
}

/* ---- a single circuit: disconnect, then connect --------------------------- */

static const char *single =
    "estate: single\n"
    "regions: [{name: west, geo: eu}, {name: north, geo: eu}]\n"
    "locations: [{name: ams, geo: eu, local_regions: [west]}]\n"
    "sites:\n"
    "  - name: office\n"
    "    asn: 65001\n"
    "    prefixes: [192.168.0.0/20]\n"
    "    routers: [{name: edge1, links: [er/primary]}, {name: edge2, links: [er/secondary]}]\n"
    "circuits:\n"
    "  - {name: er, site: office, location: ams, bandwidth: 200Mbps,\n"
    "     private_peering: {peer_asn: 65001, subnet: 192.168.200.0/29, vlan: 10}}\n"
    "vnets:\n"
    "  - name: web\n"
    "    region: west\n"
    "    address_space: [10.10.0.0/16]\n"
    "    subnets: [{name: app, prefix: 10.10.1.0/24}, {name: GatewaySubnet, prefix: "
    "10.10.255.0/27}]\n"
    "    gateways: [{name: gw-west, sku: ErGw1AZ}]\n"
    "  - name: web-dr\n"
    "    region: north\n"
    "    address_space: [10.10.0.0/16]\n"
    "    subnets: [{name: app, prefix: 10.10.1.0/24}, {name: GatewaySubnet, prefix: "
    "10.10.255.0/27}]\n"
    "    gateways: [{name: gw-north, sku: ErGwScale, min_scale_units: 2, max_scale_units: 4}]\n"
    "connections: [{gateway: gw-west, circuit: er}]\n"
    "vms: [{name: web1, subnet: web/app, ip: 10.10.1.4, disks: [{name: os, size: 32GiB}]},\n"
    "      {name: web2, subnet: web/app, ip: 10.10.1.5, disks: [{name: os, size: 32GiB}]}]\n"
    "replication:\n"
    "  source: west\n"
    "  target: north\n"
    "  vault: {name: vault-dr}\n"
    "  protect: [web1, web2]\n"
    "  network_mapping: [{source: web, target: web-dr}]\n"
    "recovery_plans:\n"
    "  - name: web-failover\n"
    "    before:\n"
    "      - {disconnect: {connection: gw-west-er}, direction: failover}\n"
    "      - {connect: {gateway: gw-north, circuit: er, weight: 10}, direction: failover}\n"
    "      - {disconnect: {connection: gw-north-er}, direction: failback}\n"
    "      - {connect: {gateway: gw-west, circuit: er}, direction: failback}\n"
    "      - {manual: \"Tell the NOC it's $TODAY's drill\", types: [test]}\n"
    "      - {script: {run: \"echo \\\"it's $((1+1))\\\" > ran.txt\", timeout: 90s},\n"
    "         types: [planned, unplanned]}\n"
    "    groups:\n"
    "      - name: web\n"
    "        vms: [web1, web2]\n"
    "        after:\n"
    "          - set_preference: {site: office, circuit: er, local_pref: 250, prepend: 2}\n";

static void
single_circuit_order(void **state)
{
	struct estate *e = tu_load(single);
	assert_non_null(e);
	unsigned nwarn;
	char *s = emit(e, EST_DIR_FAILOVER, EST_FO_UNPLANNED, &nwarn);
	assert_int_equal(nwarn, 0);
	assert_int_equal(bash_n(s), 0);
	/* disconnect the source first, then connect the target; no failback step */
	size_t d = at(s, "az network vpn-connection delete --name gw-west-er --resource-group "
	                 "\"$RG_west\"");
	size_t c = at(s, "az network vpn-connection create --name gw-north-er --resource-group "
	                 "\"$RG_north\" --location north --vnet-gateway1 gw-north "
	                 "--express-route-circuit2 \"$CIRCUIT_er\" --routing-weight 10\n");
	assert_true(d < c);
	assert_null(strstr(s, "--name gw-west-er --resource-group \"$RG_west\" --location"));
	assert_null(strstr(s, "delete --name gw-north-er"));
	assert_null(strstr(s, "MANUAL STEP: Tell the NOC"));
	at(s, "RG_west=\"${RG_west:-$RG_SOURCE}\"\nRG_north=\"${RG_north:-$RG_TARGET}\"\n");
	at(s, "CIRCUIT_er=\"${CIRCUIT_er:-/subscriptions/${SUBSCRIPTION}/resourceGroups/"
	      "${RG_CIRCUITS}/providers/Microsoft.Network/expressRouteCircuits/er}\"");
	at(s, "VAULT_NAME=\"${VAULT_NAME:-vault-dr}\"");
	/* the group's two VMs in parallel, then its after-step */
	size_t g = at(s, "asr_failover web1 & pids+=(\"$!\")\nasr_failover web2 & pids+=(\"$!\")\n"
	                 "for pid in \"${pids[@]}\"; do wait \"$pid\"; done\n");
	size_t pref =
	    at(s, "# ON-PREMISES, not Azure: change the edge routers of site office:\n"
	          "#   edge1 (er/primary), edge2 (er/secondary).\n"
	          "#   Set BGP local preference 250 on the routes learned over circuit er.\n"
	          "#   Prepend AS 65001 2 times to the routes advertised to Microsoft over "
	          "er.\n");
	assert_true(c < g && g < pref);

	/* it runs: the script step ran with its quoting intact, the VMs were failed over */
	char *log;
	assert_int_equal(run(s, NULL, &log), 0);
	size_t l1 = at(log, "vpn-connection delete --name gw-west-er --resource-group rg-west");
	size_t l2 = at(log, "vpn-connection create --name gw-north-er");
	assert_true(l1 < l2);
	at(log, "friendlyName=='web1'");
	at(log, "friendlyName=='web2'");
	free(log);

	/* unplanned: a failed disconnect (the source region down) does not stop the run */
	assert_int_equal(run(s, "AZ_FAIL='network vpn-connection delete*'", &log), 0);
	at(log, "vpn-connection create --name gw-north-er");
	free(log);
	free(s);

	/* planned: it does */
	s = emit(e, EST_DIR_FAILOVER, EST_FO_PLANNED, NULL);
	assert_int_equal(bash_n(s), 0);
	assert_null(strstr(s, "could not remove connection"));
	assert_int_not_equal(run(s, "AZ_FAIL='network vpn-connection delete*'", &log), 0);
	assert_null(strstr(log, "vpn-connection create"));
	free(log);
	free(s);

	/* failback: only the steps marked for it, in the plan's order */
	s = emit(e, EST_DIR_FAILBACK, EST_FO_UNPLANNED, NULL);
	assert_int_equal(bash_n(s), 0);
	d = at(s, "az network vpn-connection delete --name gw-north-er --resource-group "
	          "\"$RG_north\"");
	c = at(s,
	       "az network vpn-connection create --name gw-west-er --resource-group \"$RG_west\" "
	       "--location west --vnet-gateway1 gw-west --express-route-circuit2 \"$CIRCUIT_er\" "
	       "--routing-weight 0\n");
	assert_true(d < c);
	assert_null(strstr(s, "delete --name gw-west-er"));
	assert_null(strstr(s, "--name gw-north-er --resource-group \"$RG_north\" --location"));
	at(s, "step '1. remove connection gw-north-er'");
	at(s, "step '2. connect gateway gw-west to circuit er (connection gw-west-er, weight 0)'");
	free(s);
	est_free(e);
}

static void
type_filter(void **state)
{
	struct estate *e = tu_load(single);
	assert_non_null(e);
	/* test only: the manual step, not the script */
	char *t = emit(e, EST_DIR_FAILOVER, EST_FO_TEST, NULL);
	assert_int_equal(bash_n(t), 0);
	at(t, "read -r -p 'MANUAL STEP: Tell the NOC it'\\''s $TODAY'\\''s drill - press Enter "
	      "when done'\n");
	assert_null(strstr(t, "sh -c"));
	char *log;
	assert_int_equal(run(t, "TEST_NETWORK_ID=drill", &log), 0);
	at(log, "protected-item test-failover");
	at(log, "--network-id drill");
	free(log);
	free(t);
	/* planned and unplanned: the script, not the manual step */
	for (int ty = EST_FO_PLANNED; ty <= EST_FO_UNPLANNED; ty++) {
		char *s = emit(e, EST_DIR_FAILOVER, ty, NULL);
		assert_null(strstr(s, "MANUAL STEP: Tell"));
		at(s, "timeout 90 sh -c 'echo \"it'\\''s $((1+1))\" > ran.txt'");
		free(s);
	}
	/* the script really runs, quoting intact */
	char *s = emit(e, EST_DIR_FAILOVER, EST_FO_UNPLANNED, NULL);
	struct sandbox sb;
	sandbox_open(&sb, s);
	char cmd[512], ran[128];
	snprintf(cmd, sizeof(cmd),
	         "cd %s && PATH=%s:\"$PATH\" AZ_LOG=%s bash %s < %s > /dev/null 2>&1", sb.dir,
	         sb.dir, sb.log, sb.script, sb.input);
	assert_int_equal(system(cmd), 0);
	snprintf(ran, sizeof(ran), "%s/ran.txt", sb.dir);
	char *out = NULL;
	size_t n;
	assert_int_equal(lib_read_file(ran, &out, &n), 0);
	assert_string_equal(out, "it's 2\n");
	free(out);
	sandbox_close(&sb);
	free(s);
	est_free(e);
}

static void
bad_arguments(void **state)
{
	struct estate *e = tu_load(single);
	assert_non_null(e);
	struct lib_buf b = {0};
	const struct est_plan *p = &e->recovery_plans.v[0];
	assert_int_equal(rec_emit_az(e, p, EST_DIR_ANY, EST_FO_PLANNED, &b, NULL), -EINVAL);
	assert_int_equal(rec_emit_az(e, p, 7, EST_FO_PLANNED, &b, NULL), -EINVAL);
	assert_int_equal(rec_emit_az(e, p, EST_DIR_FAILOVER, 3, &b, NULL), -EINVAL);
	assert_int_equal(rec_emit_az(e, p, EST_DIR_FAILOVER, -1, &b, NULL), -EINVAL);
	assert_int_equal(rec_emit_az(e, NULL, EST_DIR_FAILOVER, EST_FO_TEST, &b, NULL), -EINVAL);
	assert_null(b.s);
	assert_int_equal(rec_emit_az(e, p, EST_DIR_FAILOVER, EST_FO_TEST, &b, NULL), 0);
	assert_non_null(b.s);
	lib_buf_free(&b);
	est_free(e);
}

/* ---- what the plan creates, across regions, and what cannot be known ------ */

static const char *planned =
    "estate: planned\n"
    "regions: [{name: east, geo: g}, {name: west, geo: g}]\n"
    "vnets:\n"
    "  - {name: hub, region: east, address_space: [10.0.0.0/24],\n"
    "     subnets: [{name: GatewaySubnet, prefix: 10.0.0.224/27}, {name: nva, prefix: "
    "10.0.0.0/27}]}\n"
    "  - {name: app, region: east, address_space: [10.1.0.0/24],\n"
    "     subnets: [{name: web, prefix: 10.1.0.0/25}]}\n"
    "  - {name: far, region: west, address_space: [10.9.0.0/24],\n"
    "     subnets: [{name: x, prefix: 10.9.0.0/25}]}\n"
    "route_tables:\n"
    "  - {name: base, routes: [{name: r1, prefix: 10.9.0.0/24, next_hop: virtual_appliance, ip: "
    "10.0.0.4},\n"
    "                        {name: r2, prefix: 0.0.0.0/0, next_hop: internet}]}\n"
    "vms: [{name: m1, subnet: app/web, disks: [{name: os, size: 32GiB}]}]\n"
    "replication: {source: east, target: west, auto_target_networks: true, protect: [m1]}\n"
    "recovery_plans:\n"
    "  - name: p\n"
    "    before:\n"
    "      - create_gateway: {name: gw-vpn, vnet: hub, type: vpn, sku: VpnGw1}\n"
    "      - create_route_table: {name: t1, region: east, propagate_gateway_routes: false,\n"
    "                             routes: [{name: d, prefix: 0.0.0.0/0, next_hop: none}]}\n"
    "      - create_route_table: {name: t2, copy_of: t1}\n"
    "      - create_route_table: {name: t3, copy_of: base}\n"
    "      - attach_route_table: {subnet: app-asr/web, route_table: t3}\n"
    "      - create_peering: {from: app-asr, to: far, allow_virtual_network_access: false}\n"
    "      - create_peering: {from: far, to: hub, use_remote_gateways: true}\n"
    "    groups: [{vms: [m1]}]\n";

static void
planned_objects(void **state)
{
	struct estate *e = tu_load(planned);
	assert_non_null(e);
	struct lib_buf b = {0};
	struct lib_diags d;
	lib_diags_init(&d);
	assert_int_equal(
	    rec_emit_az(e, &e->recovery_plans.v[0], EST_DIR_FAILOVER, EST_FO_UNPLANNED, &b, &d), 0);
	char *s = b.s;
	assert_int_equal(bash_n(s), 0);
	/* a VPN gateway and a table of unknown region are warned about */
	struct lib_buf w = {0};
	for (uint32_t i = 0; i < d.v.n; i++)
		lib_buf_printf(&w, "%s\n", ((struct lib_diag *)d.v.v)[i].msg);
	assert_int_equal(d.v.n, 2);
	at(w.s, "gateway 'gw-vpn' is a VPN gateway");
	at(w.s, "no region known for t2");
	at(s, "--gateway-type Vpn --sku VpnGw1 --vpn-type RouteBased --no-wait\n");
	at(s, "RG_UNRESOLVED=\"${RG_UNRESOLVED:?");
	/* without it the script stops before touching Azure */
	char *log;
	assert_int_not_equal(run(s, "VAULT_NAME=v", &log), 0);
	assert_null(strstr(log, "network"));
	free(log);
	assert_int_equal(run(s, "VAULT_NAME=v RG_UNRESOLVED=somewhere", &log), 0);
	at(log, "route-table create --name t2 --resource-group somewhere");
	free(log);
	/* copied routes, also from a table the plan creates; propagation off */
	at(s,
	   "az network route-table create --name t1 --resource-group \"$RG_east\" --location east "
	   "--disable-bgp-route-propagation true\n"
	   "az network route-table route create --name d --resource-group \"$RG_east\" "
	   "--route-table-name t1 --address-prefix 0.0.0.0/0 --next-hop-type None\n");
	at(s, "--route-table-name t2 --address-prefix 0.0.0.0/0 --next-hop-type None\n");
	at(s, "--route-table-name t3 --address-prefix 10.9.0.0/24 --next-hop-type VirtualAppliance "
	      "--next-hop-ip-address 10.0.0.4\n");
	at(s, "--route-table-name t3 --address-prefix 0.0.0.0/0 --next-hop-type Internet\n");
	/* t3 (region from where it is attached: the -asr mirror, in the target region) */
	at(s, "az network route-table create --name t3 --resource-group \"$RG_west\" --location "
	      "west\n");
	at(s, "az network vnet subnet update --name web --vnet-name app-asr --resource-group "
	      "\"$RG_west\" --route-table t3\n");
	/* peerings: exactly the flags set; the remote VNet by ID across resource groups */
	at(s, "az network vnet peering create --name app-asr-to-far --resource-group \"$RG_west\" "
	      "--vnet-name app-asr --remote-vnet far\n");
	at(s, "az network vnet peering create --name far-to-hub --resource-group \"$RG_west\" "
	      "--vnet-name far --remote-vnet \"/subscriptions/${SUBSCRIPTION}/resourceGroups/"
	      "${RG_east}/providers/Microsoft.Network/virtualNetworks/hub\" --allow-vnet-access "
	      "--use-remote-gateways\n");
	/* a group without a name */
	at(s, "# group 1: fail over VMs m1 (Site Recovery: az site-recovery protected-item "
	      "unplanned-failover, or the portal)\nasr_failover m1\n");
	lib_buf_free(&w);
	lib_diags_free(&d);
	lib_buf_free(&b);
	est_free(e);
}

static void
scale_units_and_names(void **state)
{
	struct estate *e = tu_load(
	    "estate: s\n"
	    "regions: [{name: r.1, geo: g}, {name: r-1, geo: g}]\n"
	    "sites: [{name: hq, asn: 65001}]\n"
	    "locations: [{name: l, geo: g}]\n"
	    "circuits: [{name: c, site: hq, location: l, bandwidth: 1Gbps}]\n"
	    "vnets:\n"
	    "  - {name: a, region: r.1, address_space: [10.0.0.0/24]}\n"
	    "  - {name: b, region: r-1, address_space: [10.1.0.0/24]}\n"
	    "recovery_plans:\n"
	    "  - name: p\n"
	    "    before:\n"
	    "      - create_gateway: {name: g1, vnet: a, sku: ErGwScale, min_scale_units: 2, "
	    "max_scale_units: 10}\n"
	    "      - create_gateway: {name: g2, vnet: b, sku: ErGwScale}\n"
	    "      - connect: {gateway: g2, circuit: c, authorization: \"k'1\"}\n"
	    "      - script: {run: \"echo one > ran.txt\\necho 'two' >> ran.txt\\n\", timeout: "
	    "0s}\n"
	    "    groups: [{name: empty}]\n");
	assert_non_null(e);
	unsigned nwarn;
	char *s = emit(e, EST_DIR_FAILOVER, EST_FO_UNPLANNED, &nwarn);
	assert_int_equal(bash_n(s), 0);
	/* r.1 and r-1 both make RG_r_1: the second is RG_r_1_2, with a warning */
	assert_int_equal(nwarn, 2);
	at(s, "RG_r_1=\"${RG_r_1:-rg-r.1}\"\nRG_r_1_2=\"${RG_r_1_2:-rg-r-1}\"\n");
	at(s, "--gateway-type ExpressRoute --sku ErGwScale --min-scale-unit 2 --max-scale-unit 10 "
	      "--no-wait\n");
	at(s, "--name g2 --resource-group \"$RG_r_1_2\" --location r-1 --vnet b --gateway-type "
	      "ExpressRoute --sku ErGwScale --no-wait\n");
	at(s, "--routing-weight 0 --authorization-key 'k'\\''1'\n");
	/* no replication: no Site Recovery variables; an empty group is a no-op */
	assert_null(strstr(s, "VAULT_NAME"));
	assert_null(strstr(s, "RG_SOURCE"));
	at(s, ": # no VMs in this group\n");
	/* a script of two lines, without a time limit */
	at(s,
	   "step '4. script (time limit none)'\nsh -c 'echo one > ran.txt\necho '\\''two'\\'' >> "
	   "ran.txt\n' ||\n");
	char *log;
	assert_int_equal(run(s, NULL, &log), 0);
	at(log, "--authorization-key k'1");
	free(log);
	free(s);
	est_free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(seed_golden),           cmocka_unit_test(seed_every_run_parses),
	    cmocka_unit_test(seed_runs_in_order),    cmocka_unit_test(seed_types),
	    cmocka_unit_test(single_circuit_order),  cmocka_unit_test(type_filter),
	    cmocka_unit_test(bad_arguments),         cmocka_unit_test(planned_objects),
	    cmocka_unit_test(scale_units_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
