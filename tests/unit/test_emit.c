/*
 * test_emit.c - canonical printing: what is left out, how values are spelled,
 * quoting, and that the output loads back to the same model.
 */
#include "testutil.h"

static char *
fmt(const char *yaml, enum est_fmt f)
{
	struct estate *e = tu_load(yaml);
	assert_non_null(e);
	char *s = est_emit(e, f);
	est_free(e);
	return s;
}

static void
test_canonical_spelling(void **state)
{
	char *s = fmt(
	    "estate: t\n"
	    "regions: [{name: r, geo: g, national: false}]\n"
	    "locations: [{name: l, geo: g, local_tier: true}]\n"
	    "sites: [{name: hq, asn: 65010}]\n"
	    "circuits: [{name: c, site: hq, location: l, bandwidth: 1000Mbps, tier: STANDARD,\n"
	    "            provider_state: Provisioned, state: enabled}]\n"
	    "vnets: [{name: v, region: r, address_space: [10.0.0.0/16],\n"
	    "         gateways: [{name: g1, type: ExpressRoute, sku: ergw1az}]}]\n"
	    "connections: [{name: g1-c, gateway: g1, circuit: c, weight: 0, enabled: true}]\n"
	    "vms: [{name: m, disks: [{name: d, size: 1024MiB, type: premium_ssd}]}]\n"
	    "replication: {target: r, policy: {crash_consistent_every: 300, retention: 1h30m}}\n",
	    EST_FMT_YAML);
	const char *want = "estate: t\n"
	                   "\n"
	                   "regions:\n"
	                   "- name: r\n"
	                   "  geo: g\n"
	                   "\n"
	                   "locations:\n"
	                   "- name: l\n"
	                   "  geo: g\n"
	                   "\n"
	                   "sites:\n"
	                   "- name: hq\n"
	                   "  asn: 65010\n"
	                   "\n"
	                   "circuits:\n"
	                   "- name: c\n"
	                   "  site: hq\n"
	                   "  location: l\n"
	                   "  bandwidth: 1Gbps\n"
	                   "\n"
	                   "vnets:\n"
	                   "- name: v\n"
	                   "  region: r\n"
	                   "  address_space: [10.0.0.0/16]\n"
	                   "  gateways:\n"
	                   "  - name: g1\n"
	                   "    sku: ErGw1AZ\n"
	                   "\n"
	                   "connections:\n"
	                   "- gateway: g1\n"
	                   "  circuit: c\n"
	                   "\n"
	                   "vms:\n"
	                   "- name: m\n"
	                   "  disks:\n"
	                   "  - name: d\n"
	                   "    size: 1GiB\n"
	                   "\n"
	                   "replication:\n"
	                   "  target: r\n"
	                   "  policy:\n"
	                   "    retention: 90m\n";
	assert_string_equal(s, want);
	free(s);
}

static void
test_quoting(void **state)
{
	char *s = fmt(
	    "estate: t\n"
	    "description: 'yes'\n"
	    "recovery_plans: [{name: p, before: [{manual: 'a: b # c'}, {script: {run: 'true'}},\n"
	    "                 {manual: '123'}, {manual: plain words}]}]\n",
	    EST_FMT_YAML);
	assert_non_null(strstr(s, "description: \"yes\"\n"));
	assert_non_null(strstr(s, "- manual: \"a: b # c\"\n"));
	assert_non_null(strstr(s, "run: \"true\"\n"));
	assert_non_null(strstr(s, "- manual: \"123\"\n"));
	assert_non_null(strstr(s, "- manual: plain words\n"));
	struct estate *e = tu_load(s);
	assert_non_null(e);
	assert_string_equal(e->description, "yes");
	assert_string_equal(e->recovery_plans.v[0].before.v[0].manual, "a: b # c");
	est_free(e);
	free(s);
}

static void
round_trip(const char *path)
{
	struct lib_diags d;
	struct estate *e = NULL;
	lib_diags_init(&d);
	if (est_load_file(path, &d, &e)) {
		lib_diags_print(&d, stderr);
		fail_msg("cannot load %s", path);
	}
	lib_diags_free(&d);
	char *y1 = est_emit(e, EST_FMT_YAML), *j1 = est_emit(e, EST_FMT_JSON);
	est_free(e);
	struct estate *ey = tu_load(y1);
	assert_non_null(ey);
	char *y2 = est_emit(ey, EST_FMT_YAML);
	assert_string_equal(y1, y2);
	lib_diags_init(&d);
	struct estate *ej = NULL;
	assert_int_equal(est_load_string("x.json", j1, strlen(j1), &d, &ej), 0);
	lib_diags_free(&d);
	char *y3 = est_emit(ej, EST_FMT_YAML);
	assert_string_equal(y1, y3);
	free(y1);
	free(y2);
	free(y3);
	free(j1);
	est_free(ey);
	est_free(ej);
}

static void
test_round_trip_seed(void **state)
{
	const char *cands[] = {"../examples/seed-two-circuits.yaml",
	                       "../../examples/seed-two-circuits.yaml"};
	for (size_t i = 0; i < 2; i++) {
		FILE *f = fopen(cands[i], "r");
		if (f) {
			fclose(f);
			round_trip(cands[i]);
			return;
		}
	}
	fail_msg("examples/seed-two-circuits.yaml not found from the test's directory");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_canonical_spelling),
	    cmocka_unit_test(test_quoting),
	    cmocka_unit_test(test_round_trip_seed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
