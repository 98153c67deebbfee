/*
 * test_recover.c - recovery operations on the model: the seeds' failover,
 * planned failover stopping on a down region, pre-provisioning in the RTO,
 * drills and cleanup, the single-circuit trap, reprotect and failback, the
 * IP rules of azure-facts 3.2.
 */
#include "testutil.h"

#include "recover/rec.h"
#include "route/rt.h"

#include <unistd.h>

static struct estate *
example(const char *name)
{
	char path[256];
	const char *dirs[] = {"../examples", "../../examples"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		fclose(f);
		struct lib_diags d;
		struct estate *e = NULL;
		lib_diags_init(&d);
		est_load_file(path, &d, &e);
		lib_diags_print(&d, stderr);
		lib_diags_free(&d);
		return e;
	}
	fail_msg("examples/%s not found from the test's directory", name);
	return NULL;
}

/* Runs op and loads the estate after; *after NULL when the run stopped. */
static void
run(const struct estate *e, struct rec_opts *o, struct rec_result *r, struct estate **after)
{
	struct lib_diags d;
	lib_diags_init(&d);
	o->check_estate = true;
	int rc = rec_run(e, o, r, &d);
	lib_diags_print(&d, stderr);
	lib_diags_free(&d);
	assert_int_equal(rc, 0);
	*after = NULL;
	if (r->estate) {
		lib_diags_init(&d);
		assert_int_equal(
		    est_load_string("after.yaml", r->estate, strlen(r->estate), &d, after), 0);
		lib_diags_free(&d);
	}
}

static const struct rec_step *
step(const struct rec_result *r, const char *prefix)
{
	for (uint32_t i = 0; i < r->nsteps; i++)
		if (strncmp(r->steps[i].what, prefix, strlen(prefix)) == 0)
			return &r->steps[i];
	return NULL;
}

static const struct est_vm *
vm(const struct estate *e, const char *name)
{
	uint32_t i = est_find(e, EST_K_VM, name);
	assert_int_not_equal(i, EST_NONE);
	return &e->vms.v[i];
}

static void
vm_at(const struct estate *e, const char *name, const char *subnet, const char *ip)
{
	const struct est_vm *v = vm(e, name);
	char b[IP_STRLEN];
	assert_string_equal(v->subnet.name, subnet);
	assert_string_equal(ip_addr_fmt(&v->ip, b), ip);
}

/* The seeds' failover: unplanned, East Asia down. The shutdown fails and the
 * failover goes on; the plan builds gw-sea (45 min), connects er-sg, peers
 * and routes the target; the VMs keep their IPs in the mirrored spokes. */
static void
seed_failover(void **state)
{
	struct estate *e = example("seed-two-circuits.yaml"), *a;
	struct rec_opts o;
	rec_opts_init(&o);
	o.down_region = est_find(e, EST_K_REGION, "eastasia");
	struct rec_result r;
	run(e, &o, &r, &a);
	assert_non_null(a);
	assert_false(r.stopped);
	assert_int_equal(step(&r, "shut down")->state, REC_WARNED);
	const struct rec_step *g = step(&r, "create gateway gw-sea");
	assert_int_equal(g->end - g->start, 45 * 60);
	assert_int_equal(r.rto, 94 * 60); /* 45 + 5 + 4x1 + 5x1 + 2x10 + 5 + 10 */
	assert_int_equal(r.rpo, 300);     /* latest falls back to latest processed */
	vm_at(a, "app1", "spoke1-sea/app", "10.1.0.4");
	vm_at(a, "db1", "spoke2-sea/db", "10.2.0.4");
	assert_int_not_equal(est_find(a, EST_K_CONNECTION, "gw-sea-er-sg"), EST_NONE);
	assert_int_equal(a->replication->protect.n, 0); /* unprotected until reprotect */
	/* proven by routing: hq reaches app1 over er-sg with East Asia down */
	struct rt_fail f = {RT_FAIL_REGION, est_find(a, EST_K_REGION, "eastasia"), 0};
	struct rt_net *n;
	rt_build(a, &f, 1, &n);
	struct rt_endpoint from, to;
	char err[128];
	assert_int_equal(rt_endpoint_parse(a, "hq", &from, err, sizeof(err)), 0);
	assert_int_equal(rt_endpoint_parse(a, "app1", &to, err, sizeof(err)), 0);
	struct rt_trace t;
	rt_trace(n, &from, &to, &t);
	assert_int_equal(t.verdict, RT_DELIVERED);
	assert_string_equal(a->circuits.v[t.circuit].name, "er-sg");
	rt_free(n);
	est_free(a);
	rec_result_free(&r);

	/* planned with the source down stops at the shutdown */
	o.fo_type = EST_FO_PLANNED;
	run(e, &o, &r, &a);
	assert_true(r.stopped);
	assert_null(a);
	assert_true(step(&r, "shut down")->stop);
	rec_result_free(&r);

	/* a planned failover with the source up: latest point, RPO 0 */
	o.down_region = EST_NONE;
	run(e, &o, &r, &a);
	assert_false(r.stopped);
	assert_int_equal(r.rpo, 0);
	assert_non_null(step(&r, "process pending"));
	est_free(a);
	rec_result_free(&r);
	est_free(e);
}

/* Pre-provisioning (seeds: General recommendations): with the target gateway
 * and connection made before failover, those steps are skipped and the RTO
 * drops by 50 minutes. */
static void
preprovisioned(void **state)
{
	struct estate *e = example("seed-after-failover.yaml");
	/* seed-after-failover has gw-sea and its connection; run the seed's plan on a
	 * copy of the seed whose target side already has them */
	est_free(e);
	struct estate *s = example("seed-two-circuits.yaml");
	char *y = est_emit(s, EST_FMT_YAML);
	est_free(s);
	/* add gw-sea and the connection in advance */
	struct lib_buf b = {0};
	const char *at =
	    strstr(y, "  - name: GatewaySubnet\n    prefix: 10.0.0.224/27\n- name: spoke1-sea");
	assert_non_null(at);
	lib_buf_printf(&b, "%.*s", (int)(at - y), y);
	lib_buf_puts(&b,
	             "  - name: GatewaySubnet\n    prefix: 10.0.0.224/27\n  gateways:\n  - name: "
	             "gw-sea\n    sku: ErGw1AZ\n");
	lib_buf_puts(&b, at + strlen("  - name: GatewaySubnet\n    prefix: 10.0.0.224/27\n"));
	free(y);
	char *c = strstr(b.s, "connections:\n- gateway: gw-ea\n  circuit: er-hk\n");
	assert_non_null(c);
	struct lib_buf b2 = {0};
	lib_buf_printf(&b2, "%.*sconnections:\n- gateway: gw-sea\n  circuit: er-sg\n%s",
	               (int)(c - b.s), b.s, c + strlen("connections:\n"));
	lib_buf_free(&b);
	struct estate *pre = tu_load(b2.s);
	lib_buf_free(&b2);
	assert_non_null(pre);
	struct rec_opts o;
	rec_opts_init(&o);
	o.down_region = est_find(pre, EST_K_REGION, "eastasia");
	struct rec_result r;
	struct estate *a;
	run(pre, &o, &r, &a);
	assert_int_equal(step(&r, "create gateway gw-sea")->state, REC_SKIPPED);
	assert_int_equal(step(&r, "connect gw-sea")->state, REC_SKIPPED);
	assert_int_equal(r.rto, (94 - 50) * 60);
	est_free(a);
	rec_result_free(&r);
	est_free(pre);
}

/* A drill: copies in the test network by the test-failover rule (same IP if
 * free, else the next free one from the end: 10.200.1.254); production
 * untouched; cleanup removes the copies. */
static void
drill_and_cleanup(void **state)
{
	struct estate *e = example("seed-two-circuits.yaml"), *a, *c;
	struct rec_opts o;
	rec_opts_init(&o);
	o.op = REC_DRILL;
	struct rec_result r, rc;
	run(e, &o, &r, &a);
	vm_at(a, "app1-test", "drill-sea/app", "10.200.1.254");
	vm_at(a, "db1-test", "drill-sea/db", "10.200.2.254");
	vm_at(a, "app1", "spoke1/app", "10.1.0.4"); /* production untouched */
	assert_int_equal(a->connections.n, e->connections.n);
	assert_null(step(&r, "create gateway")); /* only steps marked for tests run */
	rec_opts_init(&o);
	o.op = REC_CLEANUP;
	run(a, &o, &rc, &c);
	assert_int_equal(c->vms.n, e->vms.n);
	assert_int_equal(est_find(c, EST_K_VM, "app1-test"), EST_NONE);
	est_free(c);
	rec_result_free(&rc);
	est_free(a);
	rec_result_free(&r);
	est_free(e);
}

/* The single-circuit trap (seeds: Access with a single circuit): with the
 * primary region down the disconnect fails, so the target connection is
 * refused (the source VNet, same address space, still holds the circuit),
 * and the stale-connection warning is given. */
static void
single_circuit_trap(void **state)
{
	struct estate *e = example("single-circuit-same-ip.yaml"), *a;
	struct rec_opts o;
	rec_opts_init(&o);
	o.down_region = est_find(e, EST_K_REGION, "eastasia");
	struct rec_result r;
	run(e, &o, &r, &a);
	assert_non_null(a);
	assert_int_equal(step(&r, "disconnect")->state, REC_WARNED);
	const struct rec_step *c = step(&r, "connect gw-sea");
	assert_int_equal(c->state, REC_WARNED);
	assert_non_null(strstr(c->note, "overlaps"));
	bool warned = false;
	char **w = r.warnings.v;
	for (uint32_t i = 0; i < r.warnings.n; i++)
		warned |= strstr(w[i], "packets drop") != NULL;
	assert_true(warned);
	est_free(a);
	rec_result_free(&r);
	/* with the region up the plan works: disconnect, then connect */
	o.down_region = EST_NONE;
	run(e, &o, &r, &a);
	assert_int_equal(step(&r, "disconnect")->state, REC_DONE);
	assert_int_equal(step(&r, "connect gw-sea")->state, REC_DONE);
	assert_int_equal(est_find(a, EST_K_CONNECTION, "gw-ea-er-hk"), EST_NONE);
	est_free(a);
	rec_result_free(&r);
	est_free(e);
}

/* Reprotect reverses replication; failback moves the VMs home. */
static void
reprotect_failback(void **state)
{
	struct estate *e = example("seed-two-circuits.yaml"), *f, *p, *b;
	struct rec_opts o;
	rec_opts_init(&o);
	struct rec_result r1, r2, r3;
	run(e, &o, &r1, &f);
	rec_opts_init(&o);
	o.op = REC_REPROTECT;
	run(f, &o, &r2, &p);
	assert_string_equal(p->replication->source.name, "southeastasia");
	assert_string_equal(p->replication->target.name, "eastasia");
	assert_int_equal(p->replication->protect.n, 2);
	assert_string_equal(p->replication->network_mapping.v[0].source.name, "hub-sea");
	rec_opts_init(&o);
	o.op = REC_FAILBACK;
	o.fo_type = EST_FO_PLANNED;
	run(p, &o, &r3, &b);
	vm_at(b, "app1", "spoke1/app", "10.1.0.4");
	vm_at(b, "db1", "spoke2/db", "10.2.0.4");
	est_free(b);
	est_free(p);
	est_free(f);
	rec_result_free(&r1);
	rec_result_free(&r2);
	rec_result_free(&r3);
	est_free(e);
}

/* IP rules (azure-facts 3.2): the same IP when free, else the next free one;
 * a different address space takes the next free one. */
static void
ip_rules(void **state)
{
	const char *y =
	    "estate: t\n"
	    "regions: [{name: a, geo: g}, {name: b, geo: g}]\n"
	    "vnets:\n"
	    "  - {name: s, region: a, address_space: [10.1.0.0/24], subnets: [{name: app, prefix: "
	    "10.1.0.0/24}]}\n"
	    "  - {name: t, region: b, address_space: [10.1.0.0/24], subnets: [{name: app, prefix: "
	    "10.1.0.0/24}]}\n"
	    "  - {name: u, region: b, address_space: [10.9.0.0/24], subnets: [{name: zz, prefix: "
	    "10.9.0.0/25}, {name: aa, prefix: 10.9.0.128/25}]}\n"
	    "vms: [{name: v1, subnet: s/app, ip: 10.1.0.4}, {name: v2, subnet: s/app, ip: "
	    "10.1.0.5},\n"
	    "      {name: held, subnet: t/app, ip: 10.1.0.5}]\n"
	    "replication: {source: a, target: b, protect: [v1, v2],\n"
	    "              network_mapping: [{source: s, target: %s}]}\n"
	    "recovery_plans: [{name: p, groups: [{vms: [v1, v2]}]}]\n";
	char buf[2048];
	snprintf(buf, sizeof(buf), y, "t");
	struct estate *e = tu_load(buf), *a;
	struct rec_opts o;
	rec_opts_init(&o);
	struct rec_result r;
	run(e, &o, &r, &a);
	vm_at(a, "v1", "t/app", "10.1.0.4");
	vm_at(a, "v2", "t/app", "10.1.0.6"); /* 10.1.0.5 is taken: the next free one */
	est_free(a);
	rec_result_free(&r);
	est_free(e);
	snprintf(buf, sizeof(buf), y, "u");
	e = tu_load(buf);
	run(e, &o, &r, &a);
	/* no subnet named app: the alphabetically first (aa); first free addresses */
	vm_at(a, "v1", "u/aa", "10.9.0.132");
	vm_at(a, "v2", "u/aa", "10.9.0.133");
	est_free(a);
	rec_result_free(&r);
	est_free(e);
}

static void
durations(void **state)
{
	int64_t d[REC_D__COUNT] = {0};
	char err[256];
	assert_int_equal(rec_dur_parse("gateway_create=30m", d, err, sizeof(err)), 0);
	assert_int_equal(d[REC_D_GATEWAY_CREATE], 1800);
	assert_int_equal(rec_dur_parse("gateway=30m", d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "gateway_create"));
	assert_int_equal(rec_dur_parse("vm_failover=soon", d, err, sizeof(err)), -EINVAL);
	struct estate *e = example("seed-two-circuits.yaml"), *a;
	struct rec_opts o;
	rec_opts_init(&o);
	o.down_region = est_find(e, EST_K_REGION, "eastasia");
	assert_int_equal(rec_dur_parse("gateway_create=30m", o.dur, err, sizeof(err)), 0);
	struct rec_result r;
	run(e, &o, &r, &a);
	assert_int_equal(r.rto, (94 - 15) * 60);
	est_free(a);
	rec_result_free(&r);
	est_free(e);
}

/* Scripts run for real with --run-scripts (azure-facts 3.6): a failure
 * stops a planned failover and is a warning in an unplanned one; manual
 * steps pause the job until the step is confirmed. */
static void
scripts_and_manual(void **state)
{
	char dir[] = "/tmp/strait-rec-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char y[2048];
	snprintf(
	    y, sizeof(y),
	    "estate: t\nregions: [{name: a, geo: g}, {name: b, geo: g}]\n"
	    "vnets: [{name: s, region: a, address_space: [10.1.0.0/24], subnets: [{name: app, "
	    "prefix: 10.1.0.0/24}]},\n"
	    "        {name: t, region: b, address_space: [10.1.0.0/24], subnets: [{name: app, "
	    "prefix: 10.1.0.0/24}]}]\n"
	    "vms: [{name: v, subnet: s/app, ip: 10.1.0.4}]\n"
	    "replication: {source: a, target: b, protect: [v], network_mapping: [{source: s, "
	    "target: t}]}\n"
	    "recovery_plans: [{name: p, before: [{script: {run: 'touch %s/ran', timeout: 5s}},\n"
	    "                                    {script: {run: 'exit 3'}}],\n"
	    "                  groups: [{vms: [v]}], after: [{manual: check}]}]\n",
	    dir);
	struct estate *e = tu_load(y), *a;
	struct rec_opts o;
	rec_opts_init(&o);
	o.run_scripts = true;
	struct rec_result r;
	run(e, &o, &r, &a);
	char path[64];
	snprintf(path, sizeof(path), "%s/ran", dir);
	assert_int_equal(access(path, F_OK), 0);
	const struct rec_step *f = step(&r, "script: exit 3");
	assert_int_equal(f->state, REC_WARNED);
	assert_non_null(strstr(f->note, "exit status 3"));
	est_free(a);
	rec_result_free(&r);
	o.fo_type = EST_FO_PLANNED;
	run(e, &o, &r, &a);
	assert_true(r.stopped);
	assert_true(step(&r, "script: exit 3")->stop);
	rec_result_free(&r);
	/* the manual step pauses; confirmed (it is step 6) the job finishes */
	rec_opts_init(&o);
	o.pause_manual = true;
	run(e, &o, &r, &a);
	assert_true(r.paused);
	assert_int_equal(r.paused_step, 6); /* after pending data, shutdown, 2 scripts, the VM */
	assert_null(a);
	rec_result_free(&r);
	o.confirm_step = 6;
	run(e, &o, &r, &a);
	assert_false(r.paused);
	assert_string_equal(step(&r, "manual: check")->note, "confirmed");
	est_free(a);
	rec_result_free(&r);
	est_free(e);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(seed_failover),      cmocka_unit_test(preprovisioned),
	    cmocka_unit_test(drill_and_cleanup),  cmocka_unit_test(single_circuit_trap),
	    cmocka_unit_test(reprotect_failback), cmocka_unit_test(ip_rules),
	    cmocka_unit_test(durations),          cmocka_unit_test(scripts_and_manual),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
