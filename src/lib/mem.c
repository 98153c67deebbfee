/*
 * mem.c - allocation that cannot fail, and the per-lifetime arena.
 *
 * The arena hands out zeroed, 16-byte aligned blocks from chunks that double
 * in size up to 1 MiB; a block larger than a chunk gets a chunk of its own.
 * used/total let callers report memory per loaded estate.
 */
#include "lib.h"

#include <stdlib.h>
#include <string.h>

struct lib_arena_chunk {
	struct lib_arena_chunk *next;
	size_t size, off;
	_Alignas(16) unsigned char data[];
};

_Noreturn void
lib_oom(void)
{
	fputs("strait: out of memory\n", stderr);
	abort();
}

void *
lib_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		lib_oom();
	return p;
}

void *
lib_xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p)
		lib_oom();
	return p;
}

void *
lib_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		lib_oom();
	return p;
}

char *
lib_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(lib_xmalloc(n), s, n);
}

void
lib_arena_init(struct lib_arena *a)
{
	memset(a, 0, sizeof(*a));
}

void
lib_arena_free(struct lib_arena *a)
{
	struct lib_arena_chunk *c = a->head, *next;
	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	memset(a, 0, sizeof(*a));
}

void *
lib_arena_alloc(struct lib_arena *a, size_t n)
{
	struct lib_arena_chunk *c = a->head;
	n = (n + 15) & ~(size_t)15;
	if (!c || c->size - c->off < n) {
		size_t sz = c ? c->size * 2 : 4096;
		if (sz > (1u << 20))
			sz = 1u << 20;
		if (sz < n)
			sz = n;
		struct lib_arena_chunk *nc = lib_xmalloc(sizeof(*nc) + sz);
		nc->size = sz;
		nc->off = 0;
		/* A block that fills a chunk of its own goes behind the head so the
		 * head's free space stays usable. */
		if (c && sz == n && c->size - c->off > 0) {
			nc->next = c->next;
			c->next = nc;
		} else {
			nc->next = c;
			a->head = nc;
		}
		a->total += sizeof(*nc) + sz;
		c = nc;
	}
	void *p = c->data + c->off;
	c->off += n;
	a->used += n;
	memset(p, 0, n);
	return p;
}

char *
lib_arena_strndup(struct lib_arena *a, const char *s, size_t n)
{
	char *p = lib_arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
lib_arena_strdup(struct lib_arena *a, const char *s)
{
	return lib_arena_strndup(a, s, strlen(s));
}

char *
lib_arena_printf(struct lib_arena *a, const char *fmt, ...)
{
	va_list ap;
	char probe[1];
	if (!fmt)
		return lib_arena_strdup(a, "");
	va_start(ap, fmt);
	int n = vsnprintf(probe, sizeof(probe), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	char *p = lib_arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void
lib_vec_init(struct lib_vec *vec, size_t esz)
{
	memset(vec, 0, sizeof(*vec));
	vec->esz = (uint32_t)esz;
}

void *
lib_vec_push(struct lib_vec *vec)
{
	if (vec->n == vec->cap) {
		vec->cap = vec->cap ? vec->cap * 2 : 8;
		vec->v = lib_xrealloc(vec->v, (size_t)vec->cap * vec->esz);
	}
	void *p = (char *)vec->v + (size_t)vec->n++ * vec->esz;
	memset(p, 0, vec->esz);
	return p;
}

void
lib_vec_free(struct lib_vec *vec)
{
	free(vec->v);
	vec->v = NULL;
	vec->n = vec->cap = 0;
}

void *
lib_vec_to_arena(struct lib_vec *vec, struct lib_arena *a)
{
	void *p = NULL;
	if (vec->n) {
		p = lib_arena_alloc(a, (size_t)vec->n * vec->esz);
		memcpy(p, vec->v, (size_t)vec->n * vec->esz);
	}
	lib_vec_free(vec);
	return p;
}
