/*
 * ip.h - IPv4 and IPv6 addresses and prefixes.
 *
 * Both families share one representation: 16 bytes in network order, IPv4 in
 * the first 4 bytes (not v4-mapped) with af telling them apart, so compare,
 * contains and overlap are the same code for both. A prefix is canonical when
 * its host bits are zero; the loader rejects non-canonical prefixes, since a
 * typo like 10.1.0.1/16 usually means the user meant something else.
 */
#ifndef STRAIT_IP_H
#define STRAIT_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { IP_V4 = 4, IP_V6 = 6 };
#define IP_STRLEN 64 /* enough for "ffff:...:ffff/128" and NUL */

struct ip_addr {
	uint8_t af; /* IP_V4 or IP_V6; 0 for "unset" */
	uint8_t b[16];
};

struct ip_prefix {
	struct ip_addr a;
	uint8_t len;
};

int ip_addr_parse(const char *s, struct ip_addr *out);
/* Returns 0, -EINVAL (not a prefix) or -EDOM (host bits set; *out masked). */
int ip_prefix_parse(const char *s, struct ip_prefix *out);
char *ip_addr_fmt(const struct ip_addr *a, char *buf); /* buf >= IP_STRLEN */
char *ip_prefix_fmt(const struct ip_prefix *p, char *buf);

unsigned ip_maxlen(uint8_t af); /* 32 or 128 */
int ip_addr_cmp(const struct ip_addr *x, const struct ip_addr *y);
int ip_prefix_cmp(const struct ip_prefix *x, const struct ip_prefix *y);
bool ip_prefix_contains_addr(const struct ip_prefix *p, const struct ip_addr *a);
/* outer contains inner: same family, outer.len <= inner.len, bits agree. */
bool ip_prefix_contains(const struct ip_prefix *outer, const struct ip_prefix *inner);
bool ip_prefix_overlaps(const struct ip_prefix *x, const struct ip_prefix *y);
void ip_prefix_mask(struct ip_prefix *p);
/* The n-th address of a prefix (0 = network); false when outside it. */
bool ip_prefix_nth(const struct ip_prefix *p, uint64_t n, struct ip_addr *out);
/* Number of addresses, saturated at UINT64_MAX. */
uint64_t ip_prefix_size(const struct ip_prefix *p);
/* How many of the n prefixes are of family af. */
uint32_t ip_count_af(const struct ip_prefix *v, uint32_t n, uint8_t af);
/* Offset of a within p (valid when p contains a). */
uint64_t ip_prefix_offset(const struct ip_prefix *p, const struct ip_addr *a);

#endif
