/*
 * test_reach.c - reachability matrices and their differences: what a
 * failure loses, what moves to another circuit, what loses redundancy.
 */
#include "testutil.h"

#include "route/rt.h"

/* One site, two circuits at two locations, both connected to one hub
 * gateway; the site prefers hk1 (local preference 200). */
#define ESTATE                                                                                     \
	"estate: t\n"                                                                              \
	"regions: [{name: r, geo: g}]\n"                                                           \
	"locations: [{name: hk, geo: g}, {name: sg, geo: g}]\n"                                    \
	"sites:\n"                                                                                 \
	"  - {name: hq, asn: 65010, prefixes: [172.16.0.0/16],\n"                                  \
	"     routers: [{name: r1, links: [hk1/primary, sg1/primary]},\n"                          \
	"               {name: r2, links: [hk1/secondary, sg1/secondary]}],\n"                     \
	"     circuits: [{circuit: hk1, local_pref: 200}]}\n"                                      \
	"circuits:\n"                                                                              \
	"  - {name: hk1, site: hq, location: hk, bandwidth: 1Gbps,\n"                              \
	"     private_peering: {peer_asn: 65010, subnet: 192.168.100.128/29, vlan: 100}}\n"        \
	"  - {name: sg1, site: hq, location: sg, bandwidth: 1Gbps,\n"                              \
	"     private_peering: {peer_asn: 65010, subnet: 192.168.101.128/29, vlan: 200}}\n"        \
	"vnets:\n"                                                                                 \
	"  - {name: hub, region: r, address_space: [10.0.0.0/24],\n"                               \
	"     subnets: [{name: app, prefix: 10.0.0.0/26}, {name: GatewaySubnet, prefix: "          \
	"10.0.0.224/27}],\n"                                                                       \
	"     gateways: [{name: gw, sku: ErGw1AZ}]}\n"                                             \
	"connections: [{gateway: gw, circuit: hk1}%s]\n"                                           \
	"vms: [{name: a, subnet: hub/app, ip: 10.0.0.4}, {name: b, subnet: hub/app, ip: "          \
	"10.0.0.5}]\n"

static void
matrix_of(const char *yaml, const char *fail, struct estate **e, struct rt_matrix *m)
{
	*e = tu_load(yaml);
	assert_non_null(*e);
	struct rt_fail f;
	char err[128];
	if (fail && rt_fail_parse(*e, fail, &f, err, sizeof(err)))
		fail_msg("%s", err);
	struct rt_net *n;
	rt_build(*e, &f, fail ? 1 : 0, &n);
	assert_int_equal(rt_reach(n, NULL, 0, m, err, sizeof(err)), 0);
	rt_free(n);
}

static char *
estate(const char *extra)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	fprintf(f, ESTATE, extra);
	fclose(f);
	return s;
}

static int
count(const struct rt_change *c, uint32_t n, int kind)
{
	int k = 0;
	for (uint32_t i = 0; i < n; i++)
		k += c[i].kind == kind;
	return k;
}

static void
matrix(void **state)
{
	char *y = estate("");
	struct estate *e;
	struct rt_matrix m;
	matrix_of(y, NULL, &e, &m);
	assert_int_equal(m.neps, 3);   /* hq, a, b */
	assert_int_equal(m.ncells, 3); /* hq-a, hq-b, a-b */
	assert_int_equal(m.ndelivered, 3);
	assert_string_equal(m.cells[0].path, "hk1/primary");
	assert_int_equal(m.cells[0].redundancy, 2); /* hk1 on both links; sg1 unconnected */
	rt_matrix_free(&m);
	est_free(e);
	free(y);
}

/* A link failure: still reachable over the other link, redundancy lost. */
static void
link_failure(void **state)
{
	char *y = estate("");
	struct estate *e1, *e2;
	struct rt_matrix a, b;
	matrix_of(y, NULL, &e1, &a);
	matrix_of(y, "link:hk1/primary", &e2, &b);
	uint32_t n;
	struct rt_change *c = rt_diff(&a, &b, &n);
	assert_int_equal(count(c, n, RT_LOST), 0);
	assert_int_equal(count(c, n, RT_LOST_REDUNDANCY), 2);
	assert_int_equal(count(c, n, RT_PATH_CHANGED), 2);
	free(c);
	rt_matrix_free(&a);
	rt_matrix_free(&b);
	est_free(e1);
	est_free(e2);
	free(y);
}

/* A location failure: with sg1 connected too, the site's pairs move to sg1;
 * without it they are lost. VM-to-VM pairs stay. */
static void
location_failure(void **state)
{
	char *y = estate(", {gateway: gw, circuit: sg1}");
	struct estate *e1, *e2;
	struct rt_matrix a, b;
	matrix_of(y, NULL, &e1, &a);
	matrix_of(y, "location:hk", &e2, &b);
	uint32_t n;
	struct rt_change *c = rt_diff(&a, &b, &n);
	assert_int_equal(count(c, n, RT_MOVED), 2);
	assert_int_equal(count(c, n, RT_LOST), 0);
	assert_int_equal(count(c, n, RT_LOST_REDUNDANCY), 0); /* sg1 has two links */
	assert_string_equal(c[0].after, "sg1/primary");
	free(c);
	rt_matrix_free(&a);
	rt_matrix_free(&b);
	est_free(e1);
	est_free(e2);
	free(y);

	y = estate("");
	matrix_of(y, NULL, &e1, &a);
	matrix_of(y, "location:hk", &e2, &b);
	c = rt_diff(&a, &b, &n);
	assert_int_equal(count(c, n, RT_LOST), 2);
	assert_int_equal(b.ndelivered, 1);
	free(c);
	/* and back: the diff the other way gains them */
	c = rt_diff(&b, &a, &n);
	assert_int_equal(count(c, n, RT_GAINED), 2);
	free(c);
	rt_matrix_free(&a);
	rt_matrix_free(&b);
	est_free(e1);
	est_free(e2);
	free(y);
}

static void
selection(void **state)
{
	char *y = estate("");
	struct estate *e = tu_load(y);
	struct rt_net *n;
	rt_build(e, NULL, 0, &n);
	struct rt_matrix m;
	char err[128];
	const char *sel[] = {"hq", "a"};
	assert_int_equal(rt_reach(n, sel, 2, &m, err, sizeof(err)), 0);
	assert_int_equal(m.ncells, 1);
	rt_matrix_free(&m);
	const char *bad[] = {"nobody"};
	assert_int_equal(rt_reach(n, bad, 1, &m, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "'nobody' is no site or vm");
	rt_free(n);
	est_free(e);
	free(y);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(matrix),
	    cmocka_unit_test(link_failure),
	    cmocka_unit_test(location_failure),
	    cmocka_unit_test(selection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
