/*
 * test_rec_gen.c - generated recovery plans (src/recover/rec_gen.c).
 *
 * For each of the seeds' topologies in examples/ the generated plan must
 * equal its golden file (tests/golden/plans/), the report must name the
 * topology, and the example with its recovery_plans replaced by the
 * generated one must load and pass every DR rule without an error. Small
 * inline estates cover what the examples don't: Premium across
 * geographies, <vnet>-asr mirrors, the group limit, replication groups kept
 * whole, failback steps, and an estate without replication.
 * STRAIT_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing.
 */
#include "testutil.h"

#include "recover/rec.h"
#include "recover/rec_gen.h"

#include <stdio.h>

/* ---- helpers ------------------------------------------------------------ */

/* Reads ../X or ../../X (the test runs in the build tree); fails loudly. */
static char *
read_rel(const char *rel, char *used, size_t nused)
{
	static const char *const pre[] = {"../", "../../"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(pre); i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s%s", pre[i], rel);
		char *data;
		size_t n;
		if (lib_read_file(path, &data, &n) == 0) {
			if (used)
				snprintf(used, nused, "%s", path);
			return data;
		}
	}
	fail_msg("%s not found from the test's working directory (tried ../ and ../../)", rel);
	return NULL;
}

static struct estate *
load_example(const char *name)
{
	char rel[256], path[512];
	snprintf(rel, sizeof(rel), "examples/%s.yaml", name);
	char *text = read_rel(rel, path, sizeof(path));
	struct estate *e = tu_load(text);
	free(text);
	if (!e)
		fail_msg("%s does not load", path);
	return e;
}

struct gen {
	struct lib_buf yaml, report;
	struct lib_diags d;
	int rc;
};

static void
gen_run(struct gen *g, const struct estate *e, bool pre)
{
	memset(g, 0, sizeof(*g));
	lib_diags_init(&g->d);
	struct rec_gen_opts o = {.preprovision = pre};
	g->rc = rec_generate(e, &o, &g->yaml, &g->report, &g->d);
}

static void
gen_free(struct gen *g)
{
	lib_buf_free(&g->yaml);
	lib_buf_free(&g->report);
	lib_diags_free(&g->d);
}

static int64_t
report_rto(const char *report)
{
	const char *p = strstr(report, "Estimated RTO: ");
	assert_non_null(p);
	return strtoll(p + strlen("Estimated RTO: "), NULL, 10);
}

/* The estate text with its top-level recovery_plans: section removed (heap). */
static char *
cut_plans(const char *text)
{
	struct lib_buf b = {0};
	bool skip = false;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
		if (strncmp(p, "recovery_plans:", 15) == 0)
			skip = true;
		else if (skip && n > 1 && p[0] != ' ' && p[0] != '#' && p[0] != '-' && p[0] != '\n')
			skip = false;
		if (!skip) {
			char *line = strndup(p, n);
			lib_buf_puts(&b, line);
			free(line);
		}
		p += n;
	}
	return b.s ? b.s : strdup("");
}

/* Example text + "recovery_plans:" + the generated entry, loaded. */
static struct estate *
load_with_plan(const char *text, const char *entry)
{
	char *base = cut_plans(text);
	struct lib_buf b = {0};
	lib_buf_puts(&b, base);
	if (b.n && b.s[b.n - 1] != '\n')
		lib_buf_puts(&b, "\n");
	lib_buf_printf(&b, "recovery_plans:\n%s", entry);
	struct estate *e = tu_load(b.s);
	if (!e)
		print_message("combined estate:\n%s", b.s);
	free(base);
	lib_buf_free(&b);
	return e;
}

/* Runs every rule; returns the number of DR2xx findings of severity error. */
static int
dr_errors(const struct estate *e)
{
	struct chk_result r;
	chk_run(e, NULL, 0, &r);
	int n = 0;
	const struct chk_finding *f = r.findings.v;
	for (uint32_t i = 0; i < r.findings.n; i++)
		if (f[i].rule->sev == LIB_SEV_ERROR && strncmp(f[i].rule->id, "DR2", 3) == 0) {
			print_message("error finding: %s %s\n", f[i].rule->id, f[i].msg);
			n++;
		}
	chk_result_free(&r);
	return n;
}

static void
expect_golden(const char *file, const char *actual)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "tests/golden/plans/%s", file);
	if (getenv("STRAIT_UPDATE_GOLDEN")) {
		char path[512];
		char *old = read_rel(rel, path, sizeof(path));
		free(old);
		assert_int_equal(lib_write_atomic(path, actual, strlen(actual)), 0);
		return;
	}
	char *want = read_rel(rel, NULL, 0);
	if (strcmp(want, actual) != 0) {
		char out[300];
		snprintf(out, sizeof(out), "%s.actual", file);
		lib_write_atomic(out, actual, strlen(actual));
		print_message("generated plan differs from %s (written to %s):\n%s", rel, out,
		              actual);
	}
	assert_string_equal(want, actual);
	free(want);
}

/* ---- the four examples --------------------------------------------------- */

static void
example(const char *name, const char *topology, bool pre, const char *golden)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "examples/%s.yaml", name);
	char *text = read_rel(rel, NULL, 0);
	struct estate *e = tu_load(text);
	assert_non_null(e);
	struct gen g;
	gen_run(&g, e, pre);
	assert_int_equal(g.rc, 0);
	assert_non_null(g.yaml.s);
	assert_non_null(g.report.s);
	if (!strstr(g.report.s, topology))
		print_message("report lacks \"%s\":\n%s", topology, g.report.s);
	assert_non_null(strstr(g.report.s, topology));
	expect_golden(golden, g.yaml.s);

	struct estate *c = load_with_plan(text, g.yaml.s);
	assert_non_null(c);
	assert_int_equal(c->recovery_plans.n, 1);
	assert_int_equal(dr_errors(c), 0);
	est_free(c);
	gen_free(&g);
	est_free(e);
	free(text);
}

static void
two_circuits(void **state)
{
	(void)state;
	example("seed-two-circuits", "two circuits at two peering locations", false,
	        "seed-two-circuits.yaml");
}

static void
two_circuits_preprovisioned(void **state)
{
	(void)state;
	example("seed-two-circuits", "two circuits at two peering locations", true,
	        "seed-two-circuits.preprovision.yaml");
}

static void
single_same_ip(void **state)
{
	(void)state;
	example("single-circuit-same-ip", "a single circuit, same IP space", false,
	        "single-circuit-same-ip.yaml");
}

static void
single_different_ip(void **state)
{
	(void)state;
	example("single-circuit-different-ip", "a single circuit, different IP space", false,
	        "single-circuit-different-ip.yaml");
}

static void
one_location(void **state)
{
	(void)state;
	example("two-circuits-one-location", "two circuits at one peering location", false,
	        "two-circuits-one-location.yaml");
}

/* ---- what the plans say -------------------------------------------------- */

/* Seeds' scenario: gateway named as the estate's own plan names it, the
 * connection to the secondary circuit, peerings with the source flags, the
 * route table copies, the preference change and its failback. */
static void
two_circuits_steps(void **state)
{
	(void)state;
	struct estate *e = load_example("seed-two-circuits");
	struct gen g;
	gen_run(&g, e, false);
	assert_int_equal(g.rc, 0);
	const char *y = g.yaml.s;
	assert_non_null(strstr(y, "create_gateway: {name: gw-sea, vnet: hub-sea, sku: ErGw1AZ}"));
	assert_non_null(strstr(y, "connect: {gateway: gw-sea, circuit: er-sg}"));
	assert_null(strstr(y, "circuit: er-hk}")); /* never the circuit serving the source */
	assert_non_null(strstr(y, "create_peering: {from: spoke1-sea, to: hub-sea, "
	                          "allow_forwarded_traffic: true, use_remote_gateways: true}"));
	assert_non_null(strstr(y, "create_route_table: {name: spoke-udr-southeastasia, region: "
	                          "southeastasia, copy_of: spoke-udr}"));
	assert_non_null(strstr(y, "attach_route_table: {subnet: hub-sea/GatewaySubnet, "
	                          "route_table: hub-gw-udr-southeastasia}"));
	const char *pf = strstr(y, "set_preference: {site: hq, circuit: er-sg, local_pref: 300}\n"
	                           "        direction: failover");
	const char *pb = strstr(y, "set_preference: {site: hq, circuit: er-sg, local_pref: 100}\n"
	                           "        direction: failback");
	assert_non_null(pf);
	assert_non_null(pb);
	/* gateway before connection before peerings; preference after the groups */
	const char *gw = strstr(y, "create_gateway"), *cn = strstr(y, "connect:"),
	           *pe = strstr(y, "create_peering"), *gr = strstr(y, "groups:");
	assert_true(gw < cn && cn < pe && gr < pf && pf < pb);
	assert_non_null(strstr(g.report.s, "Estimated RTO: 74 minutes"));
	assert_non_null(strstr(g.report.s, "With --preprovision: 15 minutes (59 less)"));
	gen_free(&g);
	est_free(e);
}

static void
preprovision_shrinks_rto(void **state)
{
	(void)state;
	struct estate *e = load_example("seed-two-circuits");
	struct gen a, b;
	gen_run(&a, e, false);
	gen_run(&b, e, true);
	assert_int_equal(a.rc, 0);
	assert_int_equal(b.rc, 0);
	int64_t ra = report_rto(a.report.s), rb = report_rto(b.report.s);
	assert_true(ra - rb >= 45);
	/* the network steps leave the plan and are listed as prerequisites */
	assert_non_null(strstr(a.yaml.s, "- create_gateway:"));
	assert_null(strstr(b.yaml.s, "- create_gateway:"));
	assert_null(strstr(b.yaml.s, "- connect:"));
	assert_null(strstr(b.yaml.s, "- create_peering:"));
	assert_null(strstr(b.yaml.s, "- attach_route_table:"));
	assert_non_null(strstr(b.yaml.s, "# before failover (--preprovision): create gateway "
	                                 "gw-sea in hub-sea"));
	assert_non_null(strstr(b.report.s, "done in advance with --preprovision"));
	assert_non_null(strstr(b.report.s, "create gateway gw-sea in hub-sea"));
	/* the preference change stays: it must wait for the failover */
	assert_non_null(strstr(b.yaml.s, "set_preference: {site: hq, circuit: er-sg, "
	                                 "local_pref: 300}"));
	char line[64];
	snprintf(line, sizeof(line), "Without --preprovision: %lld minutes", (long long)ra);
	assert_non_null(strstr(b.report.s, line));
	gen_free(&a);
	gen_free(&b);
	est_free(e);
}

/* Same IP space, one circuit: disconnect the source first, then connect the
 * target, on failover only; failback reverses it after the groups. */
static void
single_same_ip_order(void **state)
{
	(void)state;
	struct estate *e = load_example("single-circuit-same-ip");
	struct gen g, p;
	gen_run(&g, e, false);
	gen_run(&p, e, true);
	const char *y = g.yaml.s;
	const char *dis = strstr(y, "- disconnect: {connection: gw-ea-er-hk}\n"
	                            "        direction: failover\n"
	                            "        types: [planned, unplanned]");
	const char *con = strstr(y, "- connect: {gateway: gw-sea, circuit: er-hk}\n"
	                            "        direction: failover");
	const char *grp = strstr(y, "groups:");
	const char *bdis = strstr(y, "- disconnect: {connection: gw-sea-er-hk}\n"
	                             "        direction: failback");
	const char *bcon = strstr(y, "- connect: {gateway: gw-ea, circuit: er-hk}\n"
	                             "        direction: failback");
	assert_non_null(dis);
	assert_non_null(con);
	assert_non_null(bdis);
	assert_non_null(bcon);
	assert_true(dis < con && con < grp && grp < bdis && bdis < bcon);
	assert_null(strstr(y, "create_gateway")); /* gw-sea exists */
	assert_non_null(strstr(g.report.s, "the disconnect may fail"));
	/* the swap can't be made in advance: it stays with --preprovision */
	assert_non_null(strstr(p.yaml.s, "- disconnect: {connection: gw-ea-er-hk}"));
	assert_int_equal(report_rto(g.report.s), report_rto(p.report.s));
	/* a replication group fails over whole, in one plan group */
	assert_non_null(strstr(y, "      - name: web-tier\n        vms: [web1, web2]\n"
	                          "      - name: other-vms\n        vms: [sql1]\n"));
	gen_free(&g);
	gen_free(&p);
	est_free(e);
}

static void
one_location_warning(void **state)
{
	(void)state;
	struct estate *e = load_example("two-circuits-one-location");
	struct gen g;
	gen_run(&g, e, false);
	assert_non_null(strstr(g.report.s, "whose outage takes both"));
	assert_non_null(strstr(g.report.s, "both circuits can't connect to the same VNet"));
	/* gw-ea is already on er-sg2: no gateway, no connection */
	assert_null(strstr(g.yaml.s, "create_gateway"));
	assert_null(strstr(g.yaml.s, "- connect:"));
	/* failback restores the prepend the site had on er-sg2 */
	assert_non_null(strstr(g.yaml.s, "set_preference: {site: dc-jurong, circuit: er-sg2, "
	                                 "local_pref: 100, prepend: 2}"));
	gen_free(&g);
	est_free(e);
}

/* The estimate agrees with a simulated run of the generated plan: an
 * unplanned failover with the source region down (nothing to shut down, the
 * latest processed point) takes exactly the report's RTO, every step done. */
static void
estimate_matches_run(void **state)
{
	(void)state;
	char *text = read_rel("examples/seed-two-circuits.yaml", NULL, 0);
	struct estate *e = tu_load(text);
	assert_non_null(e);
	struct gen g;
	gen_run(&g, e, false);
	struct estate *c = load_with_plan(text, g.yaml.s);
	assert_non_null(c);
	struct rec_opts o;
	rec_opts_init(&o);
	o.point = REC_PT_LATEST_PROCESSED;
	o.down_region = est_find(c, EST_K_REGION, "eastasia");
	struct rec_result res;
	memset(&res, 0, sizeof(res));
	struct lib_diags d;
	lib_diags_init(&d);
	assert_int_equal(rec_run(c, &o, &res, &d), 0);
	assert_false(res.stopped);
	assert_int_equal(res.rto, report_rto(g.report.s) * 60);
	uint32_t ok = 0;
	for (uint32_t i = 0; i < res.nsteps; i++)
		ok += res.steps[i].state == REC_DONE;
	assert_int_equal(ok, res.nsteps - 1); /* all but the shutdown in the region down */
	rec_result_free(&res);
	lib_diags_free(&d);
	est_free(c);
	gen_free(&g);
	est_free(e);
	free(text);
}

/* ---- inline estates ------------------------------------------------------ */

#define HEAD                                                                                       \
	"estate: t\n"                                                                              \
	"regions:\n"                                                                               \
	"  - {name: ea, geo: asia}\n"                                                              \
	"  - {name: sea, geo: asia}\n"                                                             \
	"  - {name: weu, geo: europe}\n"                                                           \
	"locations:\n"                                                                             \
	"  - {name: hk, geo: asia, local_regions: [ea]}\n"                                         \
	"sites:\n"                                                                                 \
	"  - {name: hq, asn: 65010}\n"                                                             \
	"circuits:\n"                                                                              \
	"  - {name: er-hk, site: hq, location: hk, bandwidth: 1Gbps, private_peering: "            \
	"{peer_asn: 65010, subnet: 192.168.100.0/29, vlan: 100}}\n"                                \
	"vnets:\n"                                                                                 \
	"  - name: hub\n"                                                                          \
	"    region: ea\n"                                                                         \
	"    address_space: [10.0.0.0/24]\n"                                                       \
	"    subnets:\n"                                                                           \
	"      - {name: GatewaySubnet, prefix: 10.0.0.224/27}\n"                                   \
	"      - {name: app, prefix: 10.0.0.0/26, route_table: udr}\n"                             \
	"    gateways: [{name: gw-ea, sku: ErGw2AZ}]\n"

/* The rest of the estate, after any further VNets. */
#define TAIL                                                                                       \
	"connections:\n"                                                                           \
	"  - {gateway: gw-ea, circuit: er-hk}\n"                                                   \
	"route_tables:\n"                                                                          \
	"  - {name: udr, region: ea, routes: [{prefix: 0.0.0.0/0, next_hop: internet}]}\n"         \
	"vms:\n"                                                                                   \
	"  - {name: vm1, subnet: hub/app}\n"                                                       \
	"  - {name: vm2, subnet: hub/app}\n"                                                       \
	"  - {name: vm3, subnet: hub/app}\n"

/* s with its first occurrence of from replaced by to (heap); from must occur. */
static char *
replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	assert_non_null(at);
	struct lib_buf b = {0};
	lib_buf_printf(&b, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
	return b.s;
}

static struct estate *
gen_inline(const char *yaml, struct gen *g, bool pre)
{
	struct estate *e = tu_load(yaml);
	assert_non_null(e);
	gen_run(g, e, pre);
	return e;
}

/* Auto mirrors: the plan names <vnet>-asr, its gateway gw-<vnet>-asr, and
 * the copy of the route table on the mirrored subnet; the result loads. */
static void
auto_mirrors(void **state)
{
	(void)state;
	const char *yaml = HEAD TAIL "replication:\n"
	                             "  source: ea\n"
	                             "  target: sea\n"
	                             "  auto_target_networks: true\n"
	                             "  protect: [vm1, vm2]\n";
	struct gen g;
	struct estate *e = gen_inline(yaml, &g, false);
	assert_int_equal(g.rc, 0);
	const char *y = g.yaml.s;
	assert_non_null(
	    strstr(y, "create_gateway: {name: gw-hub-asr, vnet: hub-asr, sku: ErGw2AZ}"));
	/* one circuit, the mirror repeats the source space: the swap */
	assert_non_null(strstr(y, "disconnect: {connection: gw-ea-er-hk}"));
	assert_non_null(strstr(y, "connect: {gateway: gw-hub-asr, circuit: er-hk}"));
	assert_non_null(
	    strstr(y, "create_route_table: {name: udr-sea, region: sea, copy_of: udr}"));
	assert_non_null(
	    strstr(y, "attach_route_table: {subnet: hub-asr/app, route_table: udr-sea}"));
	assert_non_null(strstr(g.report.s, "same IP space"));
	/* the source connection goes first, before the 45-minute gateway */
	assert_true(strstr(y, "disconnect:") < strstr(y, "create_gateway:"));
	assert_true(strstr(y, "create_gateway:") < strstr(y, "- connect:"));
	assert_non_null(strstr(g.report.s, "from the disconnect until the target connects: 57 "
	                                   "minutes (10 with --preprovision)"));
	struct estate *c = load_with_plan(yaml, y);
	assert_non_null(c);
	assert_int_equal(dr_errors(c), 0);
	est_free(c);
	gen_free(&g);
	est_free(e);
}

/* Target in another geography over a Standard circuit: Premium needed. */
static void
premium_needed(void **state)
{
	(void)state;
	const char *yaml = HEAD "  - name: tgt\n"
	                        "    region: weu\n"
	                        "    address_space: [10.50.0.0/24]\n"
	                        "    subnets: [{name: GatewaySubnet, prefix: 10.50.0.224/27}, "
	                        "{name: app, prefix: 10.50.0.0/26}]\n" TAIL "replication:\n"
	                        "  source: ea\n"
	                        "  target: weu\n"
	                        "  protect: [vm1]\n"
	                        "  network_mapping: [{source: hub, target: tgt}]\n";
	struct gen g;
	struct estate *e = gen_inline(yaml, &g, false);
	assert_int_equal(g.rc, 0);
	assert_non_null(strstr(g.report.s, "enable ExpressRoute Premium on it"));
	assert_non_null(strstr(g.report.s, "different IP space"));
	assert_int_equal(g.d.v.n, 1);
	assert_int_equal(((struct lib_diag *)g.d.v.v)[0].sev, LIB_SEV_WARNING);
	/* different space: connected at once, so it can be made in advance */
	assert_non_null(strstr(g.yaml.s, "connect: {gateway: gw-tgt, circuit: er-hk}"));
	assert_null(strstr(g.yaml.s, "disconnect"));
	gen_free(&g);
	est_free(e);

	/* the same estate with a Premium circuit: no warning */
	char *prem = replace(yaml, "bandwidth: 1Gbps,", "bandwidth: 1Gbps, tier: premium,");
	e = gen_inline(prem, &g, false);
	assert_int_equal(g.rc, 0);
	assert_null(strstr(g.report.s, "Premium"));
	assert_int_equal(g.d.v.n, 0);
	gen_free(&g);
	est_free(e);
	free(prem);
}

/* More replication groups than a plan may hold: the last ones merge, each
 * replication group still whole; a custom name is used. */
static void
group_limit(void **state)
{
	(void)state;
	const char *yaml = HEAD TAIL "replication:\n"
	                             "  source: ea\n"
	                             "  target: sea\n"
	                             "  auto_target_networks: true\n"
	                             "  protect: [vm1, vm2, vm3]\n"
	                             "  groups:\n"
	                             "    - {name: g1, vms: [vm1]}\n"
	                             "    - {name: g2, vms: [vm2]}\n"
	                             "limits:\n"
	                             "  recovery_plan_groups: 2\n";
	struct estate *e = tu_load(yaml);
	assert_non_null(e);
	struct gen g;
	memset(&g, 0, sizeof(g));
	lib_diags_init(&g.d);
	struct rec_gen_opts o = {.name = "custom-plan"};
	g.rc = rec_generate(e, &o, &g.yaml, &g.report, &g.d);
	assert_int_equal(g.rc, 0);
	assert_non_null(strstr(g.yaml.s, "  - name: custom-plan\n"));
	assert_non_null(strstr(g.yaml.s, "      - name: g1\n        vms: [vm1]\n"
	                                 "      - name: g2\n        vms: [vm2, vm3]\n"));
	assert_non_null(strstr(g.report.s, "at most 2"));
	assert_int_equal(g.d.v.n, 1);
	struct estate *c = load_with_plan(yaml, g.yaml.s);
	assert_non_null(c);
	assert_int_equal(c->recovery_plans.v[0].groups.n, 2);
	assert_int_equal(dr_errors(c), 0);
	est_free(c);
	gen_free(&g);
	est_free(e);
}

/* A target already on the circuit serving an overlapping source: reported,
 * and no swap is planned around it. */
static void
already_connected_overlap(void **state)
{
	(void)state;
	char *yaml =
	    replace(HEAD "  - name: tgt\n"
	                 "    region: sea\n"
	                 "    address_space: [10.0.0.0/24]\n"
	                 "    subnets: [{name: GatewaySubnet, prefix: 10.0.0.224/27}, "
	                 "{name: app, prefix: 10.0.0.0/26}]\n"
	                 "    gateways: [{name: gw-t, sku: ErGw2AZ}]\n" TAIL "replication:\n"
	                 "  source: ea\n"
	                 "  target: sea\n"
	                 "  protect: [vm1]\n"
	                 "  network_mapping: [{source: hub, target: tgt}]\n",
	            "  - {gateway: gw-ea, circuit: er-hk}\n",
	            "  - {gateway: gw-ea, circuit: er-hk}\n"
	            "  - {gateway: gw-t, circuit: er-hk}\n");
	struct gen g;
	struct estate *e = gen_inline(yaml, &g, false);
	assert_int_equal(g.rc, 0);
	assert_non_null(strstr(g.report.s, "same IP space"));
	assert_non_null(strstr(g.report.s, "warning: target gateway 'gw-t' is already connected"));
	assert_int_equal(g.d.v.n, 1);
	assert_null(strstr(g.yaml.s, "disconnect"));
	assert_null(strstr(g.yaml.s, "- connect:"));
	gen_free(&g);
	est_free(e);
	free(yaml);
}

static void
no_replication(void **state)
{
	(void)state;
	struct gen g;
	struct estate *e = gen_inline(HEAD TAIL, &g, false);
	assert_int_equal(g.rc, -EINVAL);
	assert_int_equal(g.d.nerr, 1);
	assert_null(g.yaml.s);
	gen_free(&g);
	est_free(e);
}

/* A source hub with no connection: no gateway or connection is made, the
 * groups are still planned. */
static void
no_expressroute(void **state)
{
	(void)state;
	char *yaml = replace(HEAD TAIL "replication:\n"
	                               "  source: ea\n"
	                               "  target: sea\n"
	                               "  auto_target_networks: true\n"
	                               "  protect: [vm1]\n",
	                     "connections:\n  - {gateway: gw-ea, circuit: er-hk}\n", "");
	struct gen g;
	struct estate *e = gen_inline(yaml, &g, false);
	assert_int_equal(g.rc, 0);
	assert_non_null(strstr(g.report.s, "no ExpressRoute connection to plan for"));
	assert_null(strstr(g.yaml.s, "create_gateway"));
	assert_null(strstr(g.yaml.s, "- connect:"));
	assert_non_null(strstr(g.yaml.s, "vms: [vm1]"));
	assert_non_null(strstr(g.report.s, "Estimated RTO: 12 minutes")); /* table, attach, group */
	gen_free(&g);
	est_free(e);
	free(yaml);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(two_circuits),
	    cmocka_unit_test(two_circuits_preprovisioned),
	    cmocka_unit_test(single_same_ip),
	    cmocka_unit_test(single_different_ip),
	    cmocka_unit_test(one_location),
	    cmocka_unit_test(two_circuits_steps),
	    cmocka_unit_test(preprovision_shrinks_rto),
	    cmocka_unit_test(single_same_ip_order),
	    cmocka_unit_test(one_location_warning),
	    cmocka_unit_test(estimate_matches_run),
	    cmocka_unit_test(auto_mirrors),
	    cmocka_unit_test(premium_needed),
	    cmocka_unit_test(group_limit),
	    cmocka_unit_test(already_connected_overlap),
	    cmocka_unit_test(no_replication),
	    cmocka_unit_test(no_expressroute),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
