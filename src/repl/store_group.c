/*
 * store_group.c - group points: one recovery point per disk of a replication group.
 *
 * A group point is a small JSON record, groups/<group>/g<16 hex seq>:
 *   {"group": "g", "seq": 3, "time": 1700000000, "kind": "crash",
 *    "members": [{"disk": "web1-os", "point": 12}, ...]}
 * It is written last, after every member point exists, through lib_write_atomic: a group
 * point exists whole or not at all, and every point it names is complete. Pruning keeps the
 * disk points group points name (store_group_pins).
 */
#include "repl/store.h"

#include "lib/lib.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct gnames {
	struct lib_vec v; /* of char * (heap names) */
};

static int
gname_cb(void *arg, const char *name)
{
	struct gnames *g = arg;
	const char *b = strrchr(name, '/');
	b = b ? b + 1 : name;
	if (b[0] != 'g' || strlen(b) != 17 || strstr(b, ".tmp"))
		return 0;
	*(char **)lib_vec_push(&g->v) = lib_xstrdup(name);
	return 0;
}

static uint64_t
gseq_of(const char *name)
{
	const char *b = strrchr(name, '/');
	return strtoull((b ? b + 1 : name) + 1, NULL, 16);
}

static int
cmp_gname(const void *a, const void *b)
{
	uint64_t x = gseq_of(*(char *const *)a), y = gseq_of(*(char *const *)b);
	if (x != y)
		return x < y ? -1 : 1;
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
gnames_free(struct gnames *g)
{
	char **v = g->v.v;
	for (uint32_t i = 0; i < g->v.n; i++)
		free(v[i]);
	lib_vec_free(&g->v);
}

/* Record names under prefix ("groups/" or "groups/<g>/"), by sequence. */
static int
group_names(struct store *st, const char *prefix, struct gnames *g)
{
	void *be;
	const struct store_ops *ops = store_ops_of(st, &be);
	lib_vec_init(&g->v, sizeof(char *));
	int rc = ops->list(be, prefix, gname_cb, g);
	if (rc) {
		gnames_free(g);
		return rc;
	}
	if (g->v.n)
		qsort(g->v.v, g->v.n, sizeof(char *), cmp_gname);
	return 0;
}

static int
group_read(struct store *st, const char *name, struct store_group_point *gp)
{
	void *be, *data;
	size_t n;
	const struct store_ops *ops = store_ops_of(st, &be);
	memset(gp, 0, sizeof(*gp));
	int rc = ops->get_object(be, name, &data, &n);
	if (rc)
		return rc;
	json_error_t err;
	json_t *j = json_loadb(data, n, 0, &err);
	free(data);
	json_t *mem = j ? json_object_get(j, "members") : NULL;
	const char *kind = j ? json_string_value(json_object_get(j, "kind")) : NULL;
	if (!json_is_array(mem) || !json_is_integer(json_object_get(j, "seq")) || !kind) {
		json_decref(j);
		return -EBADMSG;
	}
	gp->seq = (uint64_t)json_integer_value(json_object_get(j, "seq"));
	gp->time = json_integer_value(json_object_get(j, "time"));
	gp->kind = !strcmp(kind, "app") ? STORE_APP : STORE_CRASH;
	gp->nmembers = json_array_size(mem);
	gp->members = lib_xcalloc(gp->nmembers ? gp->nmembers : 1, sizeof(*gp->members));
	for (size_t i = 0; i < gp->nmembers; i++) {
		json_t *m = json_array_get(mem, i);
		const char *d = json_string_value(json_object_get(m, "disk"));
		json_t *pt = json_object_get(m, "point");
		if (!d || !store_name_ok(d) || !json_is_integer(pt)) {
			rc = -EBADMSG;
			break;
		}
		snprintf(gp->members[i].disk, sizeof(gp->members[i].disk), "%s", d);
		gp->members[i].point = (uint64_t)json_integer_value(pt);
	}
	json_decref(j);
	if (rc) {
		free(gp->members);
		gp->members = NULL;
	}
	return rc;
}

int
store_write_group(struct store *st, const char *group, const struct store_member *members, size_t n,
                  int64_t time, enum store_kind kind, uint64_t *seqp)
{
	if (!store_name_ok(group) || n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!store_name_ok(members[i].disk))
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(members[i].disk, members[j].disk))
				return -EINVAL;
		struct store_point p;
		int rc = store_point_info(st, members[i].disk, members[i].point, &p);
		if (rc)
			return rc;
	}
	char prefix[STORE_NAME_MAX + 16];
	snprintf(prefix, sizeof(prefix), "groups/%s/", group);
	struct gnames g;
	int rc = group_names(st, prefix, &g);
	if (rc)
		return rc;
	uint64_t seq = g.v.n ? gseq_of(((char **)g.v.v)[g.v.n - 1]) + 1 : 1;
	gnames_free(&g);

	json_t *j = json_object(), *mem = json_array();
	json_object_set_new(j, "group", json_string(group));
	json_object_set_new(j, "seq", json_integer((json_int_t)seq));
	json_object_set_new(j, "time", json_integer(time));
	json_object_set_new(j, "kind", json_string(kind == STORE_APP ? "app" : "crash"));
	for (size_t i = 0; i < n; i++) {
		json_t *m = json_object();
		json_object_set_new(m, "disk", json_string(members[i].disk));
		json_object_set_new(m, "point", json_integer((json_int_t)members[i].point));
		json_array_append_new(mem, m);
	}
	json_object_set_new(j, "members", mem);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	char name[STORE_NAME_MAX + 32];
	snprintf(name, sizeof(name), "groups/%s/g%016llx", group, (unsigned long long)seq);
	void *be;
	const struct store_ops *ops = store_ops_of(st, &be);
	rc = ops->put_object(be, name, text, strlen(text), STORE_PUT_META);
	free(text);
	if (!rc && seqp)
		*seqp = seq;
	return rc;
}

int
store_list_groups(struct store *st, const char *group, struct store_group_point **gps, size_t *n)
{
	if (!store_name_ok(group))
		return -EINVAL;
	char prefix[STORE_NAME_MAX + 16];
	snprintf(prefix, sizeof(prefix), "groups/%s/", group);
	struct gnames g;
	int rc = group_names(st, prefix, &g);
	if (rc)
		return rc;
	struct store_group_point *out = lib_xcalloc(g.v.n ? g.v.n : 1, sizeof(*out));
	size_t k = 0;
	for (; k < g.v.n && !rc; k++)
		rc = group_read(st, ((char **)g.v.v)[k], &out[k]);
	gnames_free(&g);
	if (rc) {
		store_groups_free(out, k);
		return rc;
	}
	*gps = out;
	*n = k;
	return 0;
}

void
store_groups_free(struct store_group_point *gps, size_t n)
{
	if (!gps)
		return;
	for (size_t i = 0; i < n; i++)
		free(gps[i].members);
	free(gps);
}

int
store_group_pins(struct store *st, const char *disk, uint64_t **seqs, size_t *n)
{
	struct gnames g;
	int rc = group_names(st, "groups/", &g);
	if (rc)
		return rc;
	struct lib_vec v;
	lib_vec_init(&v, sizeof(uint64_t));
	for (uint32_t i = 0; i < g.v.n && !rc; i++) {
		struct store_group_point gp;
		rc = group_read(st, ((char **)g.v.v)[i], &gp);
		if (rc)
			break;
		for (size_t k = 0; k < gp.nmembers; k++)
			if (!strcmp(gp.members[k].disk, disk))
				*(uint64_t *)lib_vec_push(&v) = gp.members[k].point;
		free(gp.members);
	}
	gnames_free(&g);
	if (rc) {
		lib_vec_free(&v);
		return rc;
	}
	*n = v.n;
	*seqs = v.v ? v.v : lib_xmalloc(1);
	return 0;
}
