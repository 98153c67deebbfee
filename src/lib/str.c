/*
 * str.c - growable string buffers and "did you mean" suggestions.
 */
#include "lib.h"

#include <stdlib.h>
#include <string.h>

void
lib_buf_vprintf(struct lib_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	char probe[1];
	va_copy(cp, ap);
	int n = vsnprintf(probe, sizeof(probe), fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if (b->n + (size_t)n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->n + (size_t)n + 1)
			cap *= 2;
		b->s = lib_xrealloc(b->s, cap);
		b->cap = cap;
	}
	vsnprintf(b->s + b->n, (size_t)n + 1, fmt, ap);
	b->n += (size_t)n;
}

void
lib_buf_printf(struct lib_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	lib_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void
lib_buf_puts(struct lib_buf *b, const char *s)
{
	lib_buf_printf(b, "%s", s);
}

void
lib_buf_free(struct lib_buf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

/* Optimal string alignment distance (Damerau-Levenshtein with adjacent
 * transpositions), on three rolling rows, cut short past cap. */
unsigned
lib_edit_distance(const char *a, const char *b, unsigned cap)
{
	size_t la = strlen(a), lb = strlen(b);
	if ((la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	if (lb > 255 || la > 255)
		return strcmp(a, b) ? cap + 1 : 0;
	unsigned r0[256], r1[256], r2[256];
	unsigned *pp = r0, *prev = r1, *cur = r2;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = (unsigned)i;
		unsigned rowmin = cur[0];
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = a[i - 1] != b[j - 1];
			unsigned v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (prev[j - 1] + cost < v)
				v = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			cur[j] = v;
			if (v < rowmin)
				rowmin = v;
		}
		if (rowmin > cap)
			return cap + 1;
		unsigned *t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb] > cap ? cap + 1 : prev[lb];
}

const char *
lib_nearest(const char *s, const char *const *cands, size_t n)
{
	size_t len = strlen(s);
	unsigned cap = len <= 3 ? 1 : len <= 8 ? 2 : 3;
	const char *best = NULL;
	unsigned bestd = cap + 1;
	for (size_t i = 0; i < n; i++) {
		if (!cands[i])
			continue;
		unsigned d = lib_edit_distance(s, cands[i], cap);
		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	return best;
}

size_t
lib_utf8_invalid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t len;
		unsigned lo = 0x80, hi = 0xbf; /* range of the second byte */
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			if (c == 0xe0)
				lo = 0xa0; /* overlong */
			else if (c == 0xed)
				hi = 0x9f; /* surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			if (c == 0xf0)
				lo = 0x90; /* overlong */
			else if (c == 0xf4)
				hi = 0x8f; /* above U+10FFFF */
		} else {
			return i;
		}
		if (i + len > n || s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (size_t k = 2; k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
		i += len;
	}
	return n;
}
