/*
 * rec_vm.c - target networks and where a VM lands (azure-facts 3.1, 3.2).
 *
 * Target networks: a source VNet fails over to its network_mapping target;
 * with auto_target_networks Site Recovery creates <vnet>-asr in the target
 * region when replication is enabled: the same address spaces and subnets
 * (GatewaySubnet included), and nothing else: no route tables, gateways,
 * connections or peerings (seed 002, "Replicate Azure VMs when using
 * ExpressRoute"). rec_target_networks adds those mirrors to the tree.
 *
 * Target subnet: the subnet with the source subnet's name, otherwise the
 * alphabetically first. IP: failover into the same address space keeps the
 * IP when free, else the next free one; into another space, the next free
 * one; a test failover keeps the IP when free, else takes the next free one
 * from the end of the range. The 5 reserved addresses of a subnet
 * (network, .1-.3, broadcast; azure-facts 2.7) are never handed out.
 */
#include "rec_internal.h"

#include <string.h>

const char *
rec_target_vnet(struct rec_job *j, const char *source)
{
	json_t *rp = json_object_get(j->doc, "replication");
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(rp, "network_mapping"), i, m)
	{
		const char *s = doc_str(m, "source");
		if (s && strcmp(s, source) == 0)
			return doc_str(m, "target");
	}
	return NULL;
}

void
rec_target_networks(struct rec_job *j)
{
	json_t *rp = json_object_get(j->doc, "replication");
	if (!rp || !json_is_true(json_object_get(rp, "auto_target_networks")))
		return;
	const char *src = doc_str(rp, "source"), *tgt = doc_str(rp, "target");
	json_t *vnets = doc_list(j->doc, "vnets");
	size_t n = json_array_size(vnets);
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(vnets, i);
		const char *name = doc_str(v, "name"), *reg = doc_str(v, "region");
		if (!src || !reg || strcmp(reg, src) != 0 || rec_target_vnet(j, name))
			continue;
		char mirror[200];
		snprintf(mirror, sizeof(mirror), "%s-asr", name);
		if (!doc_vnet(j->doc, mirror)) {
			json_t *m = json_pack("{s:s, s:s, s:O}", "name", mirror, "region", tgt,
			                      "address_space", json_object_get(v, "address_space"));
			json_t *subs = json_array();
			size_t k;
			json_t *s;
			json_array_foreach(json_object_get(v, "subnets"), k, s)
			    json_array_append_new(
			        subs, json_pack("{s:O, s:O}", "name", json_object_get(s, "name"),
			                        "prefix", json_object_get(s, "prefix")));
			if (json_array_size(subs))
				json_object_set_new(m, "subnets", subs);
			else
				json_decref(subs);
			json_array_append_new(vnets, m);
		}
		json_array_append_new(doc_list(rp, "network_mapping"),
		                      json_pack("{s:s, s:s}", "source", name, "target", mirror));
	}
	json_object_del(rp, "auto_target_networks");
}

static json_t *
target_subnet(json_t *tv, const char *name)
{
	json_t *subs = json_object_get(tv, "subnets"), *best = NULL;
	json_t *same = doc_named(subs, name, NULL);
	if (same)
		return same;
	size_t i;
	json_t *s;
	json_array_foreach(subs, i, s)
	{
		const char *n = doc_str(s, "name");
		if (!n || strcmp(n, "GatewaySubnet") == 0)
			continue;
		if (!best || strcmp(n, doc_str(best, "name")) < 0)
			best = s;
	}
	return best;
}

/* The addresses taken in a subnet: VMs, appliances, private endpoints. */
static void
used_addrs(json_t *doc, const char *path, struct lib_vec *out)
{
	static const char *const lists[] = {"vms", "appliances"};
	lib_vec_init(out, sizeof(struct ip_addr));
	for (size_t l = 0; l < LIB_ARRAY_LEN(lists); l++) {
		size_t i;
		json_t *x;
		json_array_foreach(json_object_get(doc, lists[l]), i, x)
		{
			const char *s = doc_str(x, "subnet"), *ip = doc_str(x, "ip");
			if (s && ip && strcmp(s, path) == 0)
				ip_addr_parse(ip, lib_vec_push(out));
		}
	}
	size_t i;
	json_t *pe;
	json_array_foreach(json_object_get(doc_subnet(doc, path, NULL), "private_endpoints"), i,
	                   pe) if (doc_str(pe, "ip"))
	    ip_addr_parse(doc_str(pe, "ip"), lib_vec_push(out));
}

static bool
taken(const struct lib_vec *used, const struct ip_addr *a)
{
	const struct ip_addr *u = used->v;
	for (uint32_t i = 0; i < used->n; i++)
		if (ip_addr_cmp(&u[i], a) == 0)
			return true;
	return false;
}

/* A free, unreserved address of p for the VM: keep ip when allowed. */
static bool
pick_ip(const struct lib_vec *used, const struct ip_prefix *p, const struct ip_addr *keep,
        bool from_end, struct ip_addr *out)
{
	uint64_t size = ip_prefix_size(p);
	if (size < 8)
		return false;
	if (keep && keep->af && ip_prefix_contains_addr(p, keep)) {
		uint64_t off = ip_prefix_offset(p, keep);
		if (off >= 4 && off < size - 1 && !taken(used, keep)) {
			*out = *keep;
			return true;
		}
	}
	for (uint64_t k = 0; k < size - 5; k++) {
		uint64_t off = from_end ? size - 2 - k : 4 + k;
		ip_prefix_nth(p, off, out);
		if (!taken(used, out))
			return true;
	}
	return false;
}

/* A failed-over VM's disks: path to the restored image, seed to the old disk. */
static void
move_disks(struct rec_job *j, json_t *vm, const char *name)
{
	size_t i;
	json_t *dk;
	json_array_foreach(json_object_get(vm, "disks"), i, dk)
	{
		const char *p = doc_str(dk, "path"), *dn = doc_str(dk, "name");
		if (!p || !dn)
			continue;
		struct lib_buf seed = {0}, img = {0};
		if (p[0] == '/' || !j->o->estate_dir)
			lib_buf_puts(&seed, p);
		else
			lib_buf_printf(&seed, "%s/%s", j->o->estate_dir, p);
		lib_buf_printf(&img, "%s/%s-%s.img", j->o->restore_dir, name, dn);
		json_object_set_new(dk, "seed", json_string(seed.s));
		json_object_set_new(dk, "path", json_string(img.s));
		lib_buf_free(&seed);
		lib_buf_free(&img);
	}
}

bool
rec_move_vm(struct rec_job *j, const char *name, bool drill, char *where, size_t n)
{
	json_t *vms = doc_list(j->doc, "vms");
	size_t idx;
	json_t *vm = doc_named(vms, name, &idx);
	const char *sub = vm ? doc_str(vm, "subnet") : NULL;
	if (!sub) {
		snprintf(where, n, "vm %s has no subnet", name);
		return false;
	}
	char sv[128];
	const char *slash = strchr(sub, '/');
	snprintf(sv, sizeof(sv), "%.*s", (int)(slash - sub), sub);
	const char *tvname;
	if (drill) {
		tvname = doc_str(json_object_get(j->doc, "replication"), "test_network");
		if (!tvname) {
			snprintf(where, n, "no test_network for drills");
			return false;
		}
	} else {
		tvname = rec_target_vnet(j, sv);
		if (!tvname) {
			snprintf(where, n, "no target network for vnet %s", sv);
			return false;
		}
	}
	json_t *tv = doc_vnet(j->doc, tvname);
	json_t *ts = tv ? target_subnet(tv, slash + 1) : NULL;
	struct ip_prefix tp;
	if (!ts || ip_prefix_parse(doc_str(ts, "prefix"), &tp)) {
		snprintf(where, n, "vnet %s has no subnet for it", tvname);
		return false;
	}
	char path[260];
	snprintf(path, sizeof(path), "%s/%s", tvname, doc_str(ts, "name"));
	struct ip_addr keep = {0}, ip;
	if (doc_str(vm, "ip"))
		ip_addr_parse(doc_str(vm, "ip"), &keep);
	struct lib_vec used;
	used_addrs(j->doc, path, &used);
	bool got = pick_ip(&used, &tp, &keep, drill, &ip);
	lib_vec_free(&used);
	if (!got) {
		snprintf(where, n, "subnet %s is full", path);
		return false;
	}
	char ips[IP_STRLEN];
	ip_addr_fmt(&ip, ips);
	json_t *dst = vm;
	if (drill) {
		char copy[200];
		snprintf(copy, sizeof(copy), "%s-test", name);
		dst = json_deep_copy(vm);
		json_object_set_new(dst, "name", json_string(copy));
		json_array_append_new(vms, dst);
	}
	json_object_set_new(dst, "subnet", json_string(path));
	json_object_set_new(dst, "ip", json_string(ips));
	if (!drill && j->o->restore_dir && j->o->op != REC_DRILL)
		move_disks(j, dst, name);
	snprintf(where, n, "%s %s", path, ips);
	return true;
}
