/*
 * test_ip.c - address and prefix parsing, printing and set relations.
 */
#include "testutil.h"

#include <errno.h>

static struct ip_prefix
P(const char *s) {
	struct ip_prefix p;
	assert_int_equal(ip_prefix_parse(s, &p), 0);
	return p;
}

static void
test_parse(void **state)
{
	struct ip_prefix p;
	char b[IP_STRLEN];
	assert_int_equal(ip_prefix_parse("10.1.0.0/16", &p), 0);
	assert_int_equal(p.len, 16);
	assert_string_equal(ip_prefix_fmt(&p, b), "10.1.0.0/16");
	assert_int_equal(ip_prefix_parse("10.1.0.1/16", &p), -EDOM);
	assert_string_equal(ip_prefix_fmt(&p, b), "10.1.0.0/16");
	assert_int_equal(ip_prefix_parse("10.1.0.0/33", &p), -EINVAL);
	assert_int_equal(ip_prefix_parse("10.1.0.0/", &p), -EINVAL);
	assert_int_equal(ip_prefix_parse("10.1.0.0/016", &p), -EINVAL);
	assert_int_equal(ip_prefix_parse("10.1.0/16", &p), -EINVAL);
	assert_int_equal(ip_prefix_parse("10.1.0.0", &p), -EINVAL);
	assert_int_equal(ip_prefix_parse("fd00:0:0::/48", &p), 0);
	assert_string_equal(ip_prefix_fmt(&p, b), "fd00::/48");
	assert_int_equal(ip_prefix_parse("fd00::1/126", &p), -EDOM);
	assert_int_equal(ip_prefix_parse("0.0.0.0/0", &p), 0);
	struct ip_addr a;
	assert_int_equal(ip_addr_parse("192.168.1.300", &a), -EINVAL);
	assert_int_equal(ip_addr_parse("::1", &a), 0);
	assert_int_equal(a.af, IP_V6);
}

static void
test_relations(void **state)
{
	struct ip_prefix a = P("10.0.0.0/8"), b = P("10.1.0.0/16"), c = P("11.0.0.0/8"),
	                 d = P("0.0.0.0/0"), v6 = P("::/0");
	assert_true(ip_prefix_contains(&a, &b));
	assert_false(ip_prefix_contains(&b, &a));
	assert_true(ip_prefix_overlaps(&b, &a));
	assert_false(ip_prefix_overlaps(&a, &c));
	assert_true(ip_prefix_contains(&d, &c));
	assert_false(ip_prefix_overlaps(&v6, &a)); /* families never overlap */
	struct ip_addr x;
	assert_int_equal(ip_addr_parse("10.1.255.255", &x), 0);
	assert_true(ip_prefix_contains_addr(&b, &x));
	assert_true(ip_prefix_cmp(&a, &b) < 0);
}

static void
test_nth(void **state)
{
	struct ip_prefix p = P("192.168.100.128/30"), q;
	char b[IP_STRLEN];
	struct ip_addr a;
	assert_int_equal(ip_prefix_size(&p), 4);
	assert_true(ip_prefix_nth(&p, 2, &a));
	assert_string_equal(ip_addr_fmt(&a, b), "192.168.100.130");
	assert_false(ip_prefix_nth(&p, 4, &a));
	assert_int_equal(ip_prefix_offset(&p, &a), 2);
	q = P("10.0.0.0/24");
	assert_true(ip_prefix_nth(&q, 255, &a));
	assert_string_equal(ip_addr_fmt(&a, b), "10.0.0.255");
	q = P("10.0.0.0/23");
	assert_true(ip_prefix_nth(&q, 256, &a));
	assert_string_equal(ip_addr_fmt(&a, b), "10.0.1.0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_relations),
	    cmocka_unit_test(test_nth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
