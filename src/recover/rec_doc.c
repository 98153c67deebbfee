/*
 * rec_doc.c - finding and editing objects in an estate's JSON tree.
 *
 * The tree is the canonical form (est_to_json): lists of objects keyed by
 * "name", defaults omitted. Connections and peerings may carry no name, in
 * which case their name is the loader's default (GATEWAY-CIRCUIT,
 * FROM-to-TO); the finders apply the same rule so a plan's reference finds
 * them either way.
 */
#include "rec_internal.h"

#include <string.h>

json_t *
doc_list(json_t *obj, const char *key)
{
	json_t *a = json_object_get(obj, key);
	if (!json_is_array(a)) {
		a = json_array();
		json_object_set_new(obj, key, a);
	}
	return a;
}

const char *
doc_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

json_t *
doc_named(json_t *arr, const char *name, size_t *idx)
{
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x)
	{
		const char *n = doc_str(x, "name");
		if (n && strcmp(n, name) == 0) {
			if (idx)
				*idx = i;
			return x;
		}
	}
	return NULL;
}

json_t *
doc_vnet(json_t *doc, const char *name)
{
	return doc_named(json_object_get(doc, "vnets"), name, NULL);
}

json_t *
doc_subnet(json_t *doc, const char *path, json_t **vnet)
{
	const char *slash = strchr(path, '/');
	char v[128];
	if (!slash || (size_t)(slash - path) >= sizeof(v))
		return NULL;
	memcpy(v, path, (size_t)(slash - path));
	v[slash - path] = '\0';
	json_t *vn = doc_vnet(doc, v);
	if (vnet)
		*vnet = vn;
	return vn ? doc_named(json_object_get(vn, "subnets"), slash + 1, NULL) : NULL;
}

json_t *
doc_gateway(json_t *doc, const char *name, json_t **vnet)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(doc, "vnets"), i, v)
	{
		json_t *g = doc_named(json_object_get(v, "gateways"), name, NULL);
		if (g) {
			if (vnet)
				*vnet = v;
			return g;
		}
	}
	return NULL;
}

void
doc_conn_name(json_t *c, char *buf, size_t n)
{
	const char *name = doc_str(c, "name");
	if (name)
		snprintf(buf, n, "%s", name);
	else
		snprintf(buf, n, "%s-%s", doc_str(c, "gateway") ? doc_str(c, "gateway") : "?",
		         doc_str(c, "circuit") ? doc_str(c, "circuit") : "?");
}

json_t *
doc_connection(json_t *doc, const char *name, size_t *idx)
{
	size_t i;
	json_t *c;
	char buf[200];
	json_array_foreach(json_object_get(doc, "connections"), i, c)
	{
		doc_conn_name(c, buf, sizeof(buf));
		if (strcmp(buf, name) == 0) {
			if (idx)
				*idx = i;
			return c;
		}
	}
	return NULL;
}

json_t *
doc_peering(json_t *doc, const char *from, const char *to)
{
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(doc, "peerings"), i, p)
	{
		const char *f = doc_str(p, "from"), *t = doc_str(p, "to");
		if (f && t && strcmp(f, from) == 0 && strcmp(t, to) == 0)
			return p;
	}
	return NULL;
}

const char *
doc_vnet_region(json_t *doc, const char *vnet)
{
	json_t *v = doc_vnet(doc, vnet);
	return v ? doc_str(v, "region") : NULL;
}

/* The prefixes of a JSON list of prefix strings. */
static uint32_t
prefixes(json_t *arr, struct ip_prefix *out, uint32_t max)
{
	size_t i;
	json_t *x;
	uint32_t n = 0;
	json_array_foreach(arr, i, x)
	{
		if (n < max && json_is_string(x) &&
		    ip_prefix_parse(json_string_value(x), &out[n]) == 0)
			n++;
	}
	return n;
}

bool
doc_vnets_overlap(json_t *a, json_t *b)
{
	struct ip_prefix pa[64], pb[64];
	uint32_t na = prefixes(json_object_get(a, "address_space"), pa, 64);
	uint32_t nb = prefixes(json_object_get(b, "address_space"), pb, 64);
	for (uint32_t i = 0; i < na; i++)
		for (uint32_t k = 0; k < nb; k++)
			if (ip_prefix_overlaps(&pa[i], &pb[k]))
				return true;
	return false;
}
