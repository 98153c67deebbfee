/*
 * ip.c - parsing, printing and set relations of addresses and prefixes.
 *
 * Parsing uses inet_pton, so the accepted spellings are exactly the
 * system's; IPv6 is printed in RFC 5952 form by inet_ntop.
 */
#include "ip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned
ip_maxlen(uint8_t af)
{
	return af == IP_V6 ? 128 : 32;
}

int
ip_addr_parse(const char *s, struct ip_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, out->b) != 1)
			return -EINVAL;
		out->af = IP_V6;
	} else {
		if (inet_pton(AF_INET, s, out->b) != 1)
			return -EINVAL;
		out->af = IP_V4;
	}
	return 0;
}

void
ip_prefix_mask(struct ip_prefix *p)
{
	unsigned max = ip_maxlen(p->a.af);
	for (unsigned bit = p->len; bit < max; bit++)
		p->a.b[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
}

int
ip_prefix_parse(const char *s, struct ip_prefix *out)
{
	char buf[IP_STRLEN];
	const char *slash = strchr(s, '/');
	memset(out, 0, sizeof(*out));
	if (!slash || (size_t)(slash - s) >= sizeof(buf) || !slash[1])
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (ip_addr_parse(buf, &out->a))
		return -EINVAL;
	char *end;
	const char *ls = slash + 1;
	if (ls[0] < '0' || ls[0] > '9' || (ls[0] == '0' && ls[1]))
		return -EINVAL;
	unsigned long len = strtoul(ls, &end, 10);
	if (*end || len > ip_maxlen(out->a.af))
		return -EINVAL;
	out->len = (uint8_t)len;
	struct ip_prefix m = *out;
	ip_prefix_mask(&m);
	if (memcmp(m.a.b, out->a.b, 16) != 0) {
		*out = m;
		return -EDOM;
	}
	return 0;
}

char *
ip_addr_fmt(const struct ip_addr *a, char *buf)
{
	if (!inet_ntop(a->af == IP_V6 ? AF_INET6 : AF_INET, a->b, buf, IP_STRLEN))
		strcpy(buf, "?");
	return buf;
}

char *
ip_prefix_fmt(const struct ip_prefix *p, char *buf)
{
	ip_addr_fmt(&p->a, buf);
	size_t n = strlen(buf);
	snprintf(buf + n, IP_STRLEN - n, "/%u", p->len);
	return buf;
}

int
ip_addr_cmp(const struct ip_addr *x, const struct ip_addr *y)
{
	if (x->af != y->af)
		return x->af < y->af ? -1 : 1;
	return memcmp(x->b, y->b, 16);
}

int
ip_prefix_cmp(const struct ip_prefix *x, const struct ip_prefix *y)
{
	int c = ip_addr_cmp(&x->a, &y->a);
	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

static bool
bits_agree(const uint8_t *x, const uint8_t *y, unsigned len)
{
	unsigned full = len / 8, rest = len % 8;
	if (memcmp(x, y, full) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t m = (uint8_t)(0xffu << (8 - rest));
	return (x[full] & m) == (y[full] & m);
}

bool
ip_prefix_contains_addr(const struct ip_prefix *p, const struct ip_addr *a)
{
	return p->a.af == a->af && bits_agree(p->a.b, a->b, p->len);
}

bool
ip_prefix_contains(const struct ip_prefix *outer, const struct ip_prefix *inner)
{
	return outer->a.af == inner->a.af && outer->len <= inner->len &&
	       bits_agree(outer->a.b, inner->a.b, outer->len);
}

bool
ip_prefix_overlaps(const struct ip_prefix *x, const struct ip_prefix *y)
{
	return ip_prefix_contains(x, y) || ip_prefix_contains(y, x);
}

uint64_t
ip_prefix_size(const struct ip_prefix *p)
{
	unsigned host = ip_maxlen(p->a.af) - p->len;
	return host >= 64 ? UINT64_MAX : (uint64_t)1 << host;
}

bool
ip_prefix_nth(const struct ip_prefix *p, uint64_t n, struct ip_addr *out)
{
	if (n >= ip_prefix_size(p) && ip_prefix_size(p) != UINT64_MAX)
		return false;
	*out = p->a;
	unsigned last = ip_maxlen(p->a.af) / 8;
	unsigned carry = 0;
	for (int i = (int)last - 1; i >= 0 && (n || carry); i--) {
		unsigned v = out->b[i] + (unsigned)(n & 0xff) + carry;
		out->b[i] = (uint8_t)v;
		carry = v >> 8;
		n >>= 8;
	}
	return true;
}

uint64_t
ip_prefix_offset(const struct ip_prefix *p, const struct ip_addr *a)
{
	unsigned last = ip_maxlen(p->a.af) / 8;
	uint64_t off = 0;
	unsigned start = last > 8 ? last - 8 : 0;
	for (unsigned i = start; i < last; i++)
		off = (off << 8) | (uint8_t)(a->b[i] - 0); /* host part lives in the tail */
	uint64_t base = 0;
	for (unsigned i = start; i < last; i++)
		base = (base << 8) | p->a.b[i];
	return off - base;
}

uint32_t
ip_count_af(const struct ip_prefix *v, uint32_t n, uint8_t af)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++)
		k += v[i].a.af == af;
	return k;
}
