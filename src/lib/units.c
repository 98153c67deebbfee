/*
 * units.c - durations, sizes and bandwidths as people write them.
 *
 * Durations: one or more <number><unit> terms, units s, m, h, d, w
 * ("1h30m"); a bare number is seconds. Sizes: B, KiB, MiB, GiB, TiB, PiB
 * (binary) and KB, MB, GB, TB, PB (decimal); a bare number is bytes.
 * Bandwidths: Mbps, Gbps, Tbps; held in Mbps, the smallest step any circuit
 * uses. Overflow and junk are -EINVAL/-ERANGE. lib_mono_ms reads the monotonic
 * clock in the milliseconds durations are measured in.
 */
#include "lib.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct unit {
	const char *name;
	uint64_t mul;
};

/* Reads digits at *p into *v; -EINVAL when there are none, -ERANGE on overflow. */
static int
read_num(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		if (x > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*v = x;
	return 0;
}

static int
mul_unit(const char **p, const struct unit *units, size_t n, uint64_t *mul)
{
	const char *s = *p;
	size_t len = 0;
	while (isalpha((unsigned char)s[len]))
		len++;
	for (size_t i = 0; i < n; i++) {
		if (strlen(units[i].name) == len && strncmp(units[i].name, s, len) == 0) {
			*mul = units[i].mul;
			*p = s + len;
			return 0;
		}
	}
	return -EINVAL;
}

static int
parse_terms(const char *s, const struct unit *units, size_t nu, uint64_t bare, bool multi,
            uint64_t *out)
{
	uint64_t total = 0;
	int terms = 0;
	if (!s || !*s)
		return -EINVAL;
	while (*s) {
		uint64_t v, mul = bare;
		int rc = read_num(&s, &v);
		if (rc)
			return rc;
		if (*s) {
			if (mul_unit(&s, units, nu, &mul))
				return -EINVAL;
		} else if (terms > 0) {
			return -EINVAL; /* "1h30" is ambiguous */
		}
		if (mul && v > UINT64_MAX / mul)
			return -ERANGE;
		if (total > UINT64_MAX - v * mul)
			return -ERANGE;
		total += v * mul;
		terms++;
		if (!multi && *s)
			return -EINVAL;
	}
	*out = total;
	return 0;
}

static const struct unit dur_units[] = {
    {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}, {"w", 604800},
};

int
lib_parse_duration(const char *s, int64_t *secs)
{
	uint64_t v;
	int rc = parse_terms(s, dur_units, LIB_ARRAY_LEN(dur_units), 1, true, &v);
	if (rc)
		return rc;
	if (v > INT64_MAX)
		return -ERANGE;
	*secs = (int64_t)v;
	return 0;
}

static const struct unit size_units[] = {
    {"B", 1},
    {"KiB", 1ull << 10},
    {"MiB", 1ull << 20},
    {"GiB", 1ull << 30},
    {"TiB", 1ull << 40},
    {"PiB", 1ull << 50},
    {"KB", 1000ull},
    {"MB", 1000000ull},
    {"GB", 1000000000ull},
    {"TB", 1000000000000ull},
    {"PB", 1000000000000000ull},
};

int
lib_parse_size(const char *s, uint64_t *bytes)
{
	return parse_terms(s, size_units, LIB_ARRAY_LEN(size_units), 1, false, bytes);
}

int
lib_parse_bandwidth(const char *s, uint64_t *mbps)
{
	static const struct unit bw[] = {
	    {"Mbps", 1},
	    {"Gbps", 1000},
	    {"Tbps", 1000000},
	};
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	return parse_terms(s, bw, LIB_ARRAY_LEN(bw), 0, false, mbps) ?: (*mbps ? 0 : -EINVAL);
}

void
lib_fmt_duration(int64_t secs, char *out, size_t n)
{
	static const struct unit u[] = {{"w", 604800}, {"d", 86400}, {"h", 3600}, {"m", 60}};
	for (size_t i = 0; i < LIB_ARRAY_LEN(u); i++) {
		if (secs && secs % (int64_t)u[i].mul == 0) {
			snprintf(out, n, "%lld%s", (long long)(secs / (int64_t)u[i].mul),
			         u[i].name);
			return;
		}
	}
	snprintf(out, n, "%llds", (long long)secs);
}

void
lib_fmt_size(uint64_t bytes, char *out, size_t n)
{
	static const char *const names[] = {"PiB", "TiB", "GiB", "MiB", "KiB"};
	for (int i = 0; i < 5; i++) {
		uint64_t mul = 1ull << (10 * (5 - i));
		if (bytes && bytes % mul == 0) {
			snprintf(out, n, "%llu%s", (unsigned long long)(bytes / mul), names[i]);
			return;
		}
	}
	snprintf(out, n, "%lluB", (unsigned long long)bytes);
}

void
lib_fmt_bandwidth(uint64_t mbps, char *out, size_t n)
{
	if (mbps && mbps % 1000000 == 0)
		snprintf(out, n, "%lluTbps", (unsigned long long)(mbps / 1000000));
	else if (mbps && mbps % 1000 == 0)
		snprintf(out, n, "%lluGbps", (unsigned long long)(mbps / 1000));
	else
		snprintf(out, n, "%lluMbps", (unsigned long long)mbps);
}

int
lib_parse_hostport(const char *s, char *host, size_t hn, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	char *end = NULL;
	unsigned long p = colon && colon[1] ? strtoul(colon + 1, &end, 10) : 0;
	if (!colon || colon == s || (size_t)(colon - s) >= hn || !colon[1] || *end || p > 65535 ||
	    colon[1] == '-' || colon[1] == '+')
		return -EINVAL;
	const char *h = s, *he = colon;
	if (*s == '[') { /* "[::1]:10809": the brackets go */
		if (colon[-1] != ']' || colon - s < 3)
			return -EINVAL;
		h = s + 1, he = colon - 1;
	}
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = 0;
	*port = (uint16_t)p;
	return 0;
}

int64_t
lib_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
