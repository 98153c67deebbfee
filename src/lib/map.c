/*
 * map.c - string -> uint64 hash map, open addressing with linear probing.
 *
 * Hashes come from XXH3 (libxxhash). The table keeps its load under 1/2, so
 * a probe sequence always ends at an empty slot. Keys are borrowed.
 */
#include "lib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

uint64_t
lib_hash(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}

void
lib_map_init(struct lib_map *m)
{
	memset(m, 0, sizeof(*m));
}

void
lib_map_free(struct lib_map *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

static void
map_grow(struct lib_map *m)
{
	uint32_t ncap = m->cap ? m->cap * 2 : 16;
	struct lib_map_slot *ns = lib_xcalloc(ncap, sizeof(*ns));
	for (uint32_t i = 0; i < m->cap; i++) {
		struct lib_map_slot *s = &m->slots[i];
		if (!s->key)
			continue;
		uint32_t j = (uint32_t)(s->hash & (ncap - 1));
		while (ns[j].key)
			j = (j + 1) & (ncap - 1);
		ns[j] = *s;
	}
	free(m->slots);
	m->slots = ns;
	m->cap = ncap;
}

int
lib_map_put(struct lib_map *m, const char *key, uint64_t val)
{
	if ((m->n + 1) * 2 > m->cap)
		map_grow(m);
	uint64_t h = lib_hash(key, strlen(key));
	uint32_t j = (uint32_t)(h & (m->cap - 1));
	while (m->slots[j].key) {
		if (m->slots[j].hash == h && strcmp(m->slots[j].key, key) == 0)
			return -EEXIST;
		j = (j + 1) & (m->cap - 1);
	}
	m->slots[j] = (struct lib_map_slot){key, h, val};
	m->n++;
	return 0;
}

bool
lib_map_get(const struct lib_map *m, const char *key, uint64_t *val)
{
	if (!m->cap)
		return false;
	uint64_t h = lib_hash(key, strlen(key));
	uint32_t j = (uint32_t)(h & (m->cap - 1));
	while (m->slots[j].key) {
		if (m->slots[j].hash == h && strcmp(m->slots[j].key, key) == 0) {
			if (val)
				*val = m->slots[j].val;
			return true;
		}
		j = (j + 1) & (m->cap - 1);
	}
	return false;
}
