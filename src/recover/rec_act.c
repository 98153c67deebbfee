/*
 * rec_act.c - recovery-plan actions applied to the estate's JSON tree.
 *
 * Each action is idempotent: an object that already exists (made in
 * advance, as the seeds recommend) is a skipped step that costs no time,
 * which is how pre-provisioning shows in the RTO. An action fails, as Azure
 * would refuse it, when:
 *   - it touches a region that is down (azure-facts 3.8: a disconnect in the
 *     primary region may fail);
 *   - a connect would put two overlapping VNets on one circuit (seeds:
 *     "You can't connect two VNets with overlapping IP address space to the
 *     same ExpressRoute circuit");
 *   - it names what does not exist (a gateway's VNet without GatewaySubnet,
 *     a connection to a missing gateway).
 * A failed step stops a planned operation and is a warning in an unplanned
 * one (azure-facts 3.6, 3.7).
 */
#include "rec_internal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static bool
region_down(struct rec_job *j, const char *region)
{
	return j->down && region && strcmp(j->down, region) == 0;
}

static bool
fail(struct rec_job *j, int64_t secs, const char *what, const char *why)
{
	struct rec_step *s = job_step(j, j->unplanned ? REC_WARNED : REC_FAILED, secs, "%s", what);
	snprintf(s->note, sizeof(s->note), "%.190s%s", why,
	         j->unplanned ? "; unplanned failover goes on" : "; planned failover stops");
	if (!j->unplanned) {
		s->stop = true;
		return false;
	}
	return true;
}

static bool
create_gateway(struct rec_job *j, const struct est_act_gateway *g)
{
	char what[160];
	snprintf(what, sizeof(what), "create gateway %s in %s (%s)", g->name, g->vnet.name,
	         est_sku_name(g->sku));
	json_t *v = doc_vnet(j->doc, g->vnet.name), *gwv;
	if (doc_gateway(j->doc, g->name, &gwv)) {
		job_step(j, REC_SKIPPED, 0, "%s", what)->note[0] = '\0';
		snprintf(j->res->steps[j->res->nsteps - 1].note, sizeof(j->res->steps[0].note),
		         "exists already (made before failover)");
		return true;
	}
	if (!v)
		return fail(j, 0, what, "the vnet does not exist");
	if (region_down(j, doc_str(v, "region")))
		return fail(j, 0, what, "its region is down");
	if (!doc_named(json_object_get(v, "subnets"), "GatewaySubnet", NULL))
		return fail(j, 0, what, "the vnet has no GatewaySubnet");
	json_t *gw = json_pack("{s:s}", "name", g->name);
	if (g->type != EST_GW_EXPRESSROUTE)
		json_object_set_new(gw, "type", json_string("vpn"));
	json_object_set_new(gw, "sku", json_string(est_sku_name(g->sku)));
	if (g->min_scale_units)
		json_object_set_new(gw, "min_scale_units", json_integer(g->min_scale_units));
	if (g->max_scale_units)
		json_object_set_new(gw, "max_scale_units", json_integer(g->max_scale_units));
	json_array_append_new(doc_list(v, "gateways"), gw);
	job_step(j, REC_DONE, j->o->dur[REC_D_GATEWAY_CREATE], "%s", what);
	return true;
}

static bool
act_connect(struct rec_job *j, const struct est_act_connect *c)
{
	char what[160], name[200];
	snprintf(name, sizeof(name), "%s", c->name ? c->name : "");
	snprintf(what, sizeof(what), "connect %s to circuit %s (weight %u)", c->gateway.name,
	         c->circuit.name, c->weight);
	if (doc_connection(j->doc, name, NULL)) {
		struct rec_step *s = job_step(j, REC_SKIPPED, 0, "%s", what);
		snprintf(s->note, sizeof(s->note), "connection %s exists already", name);
		return true;
	}
	json_t *gv;
	if (!doc_gateway(j->doc, c->gateway.name, &gv))
		return fail(j, 0, what, "the gateway does not exist");
	if (region_down(j, doc_str(gv, "region")))
		return fail(j, 0, what, "the gateway's region is down");
	/* two overlapping VNets cannot share a circuit */
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(j->doc, "connections"), i, x)
	{
		const char *circ = doc_str(x, "circuit");
		json_t *ov;
		if (!circ || strcmp(circ, c->circuit.name) != 0 ||
		    !doc_gateway(j->doc, doc_str(x, "gateway"), &ov) || ov == gv)
			continue;
		if (doc_vnets_overlap(ov, gv)) {
			char why[512], cn[200];
			doc_conn_name(x, cn, sizeof(cn));
			snprintf(
			    why, sizeof(why),
			    "vnet %.80s overlaps vnet %.80s, still connected to %.80s by %.100s",
			    doc_str(gv, "name"), doc_str(ov, "name"), c->circuit.name, cn);
			return fail(j, j->o->dur[REC_D_CONNECTION_CREATE], what, why);
		}
	}
	json_t *cn =
	    json_pack("{s:s, s:s}", "gateway", c->gateway.name, "circuit", c->circuit.name);
	if (c->name)
		json_object_set_new(cn, "name", json_string(c->name));
	if (c->weight)
		json_object_set_new(cn, "weight", json_integer(c->weight));
	if (c->authorization)
		json_object_set_new(cn, "authorization", json_string(c->authorization));
	json_array_append_new(doc_list(j->doc, "connections"), cn);
	job_step(j, REC_DONE, j->o->dur[REC_D_CONNECTION_CREATE], "%s", what);
	return true;
}

static bool
act_disconnect(struct rec_job *j, const struct est_act_disconnect *d)
{
	char what[160];
	snprintf(what, sizeof(what), "disconnect %s", d->connection.name);
	size_t idx;
	json_t *c = doc_connection(j->doc, d->connection.name, &idx), *gv = NULL;
	if (!c) {
		struct rec_step *s = job_step(j, REC_SKIPPED, 0, "%s", what);
		snprintf(s->note, sizeof(s->note), "no such connection (removed already)");
		return true;
	}
	doc_gateway(j->doc, doc_str(c, "gateway"), &gv);
	if (gv && region_down(j, doc_str(gv, "region"))) {
		job_warn(j,
		         "connection %s stays: when region %s returns its vnet advertises the same "
		         "address space again and packets drop; terminate the connection at once "
		         "(seeds: Access with a single circuit)",
		         d->connection.name, j->down);
		return fail(j, 0, what, "the primary region is unreachable");
	}
	json_array_remove(json_object_get(j->doc, "connections"), idx);
	job_step(j, REC_DONE, j->o->dur[REC_D_CONNECTION_DELETE], "%s", what);
	return true;
}

static bool
create_peering(struct rec_job *j, const struct est_vnet_peering *p)
{
	char what[160];
	snprintf(what, sizeof(what), "peer %s to %s", p->from.name, p->to.name);
	if (doc_peering(j->doc, p->from.name, p->to.name)) {
		struct rec_step *s = job_step(j, REC_SKIPPED, 0, "%s", what);
		snprintf(s->note, sizeof(s->note), "exists already");
		return true;
	}
	json_t *from = doc_vnet(j->doc, p->from.name), *to = doc_vnet(j->doc, p->to.name);
	if (!from || !to)
		return fail(j, 0, what, "a vnet does not exist");
	if (region_down(j, doc_str(from, "region")))
		return fail(j, 0, what, "its region is down");
	json_t *x = json_pack("{s:s, s:s}", "from", p->from.name, "to", p->to.name);
	if (p->name && strcmp(p->name, "") != 0) {
		char dflt[200];
		snprintf(dflt, sizeof(dflt), "%s-to-%s", p->from.name, p->to.name);
		if (strcmp(p->name, dflt) != 0)
			json_object_set_new(x, "name", json_string(p->name));
	}
	if (!p->allow_virtual_network_access)
		json_object_set_new(x, "allow_virtual_network_access", json_false());
	if (p->allow_forwarded_traffic)
		json_object_set_new(x, "allow_forwarded_traffic", json_true());
	if (p->allow_gateway_transit)
		json_object_set_new(x, "allow_gateway_transit", json_true());
	if (p->use_remote_gateways)
		json_object_set_new(x, "use_remote_gateways", json_true());
	json_array_append_new(doc_list(j->doc, "peerings"), x);
	job_step(j, REC_DONE, j->o->dur[REC_D_PEERING_CREATE], "%s", what);
	return true;
}

/* A route's address moved with its VNet: same offset in the mapped space. */
static void
rewrite_ip(struct rec_job *j, json_t *route, const char *key)
{
	const char *s = doc_str(route, key);
	struct ip_addr a;
	struct ip_prefix p;
	bool is_prefix = strchr(s ? s : "", '/') != NULL;
	if (!s || (is_prefix ? ip_prefix_parse(s, &p) : ip_addr_parse(s, &a)))
		return;
	if (is_prefix)
		a = p.a;
	const struct estate *e = j->e;
	for (uint32_t v = 0; v < e->vnets.n; v++) {
		const char *t = rec_target_vnet(j, e->vnets.v[v].name);
		json_t *tv = t ? doc_vnet(j->doc, t) : NULL;
		if (!tv)
			continue;
		json_t *tspace = json_object_get(tv, "address_space");
		for (uint32_t k = 0; k < e->vnets.v[v].address_space.n; k++) {
			const struct ip_prefix *sp = &e->vnets.v[v].address_space.v[k];
			struct ip_prefix tp;
			if (!ip_prefix_contains_addr(sp, &a) || k >= json_array_size(tspace) ||
			    ip_prefix_parse(json_string_value(json_array_get(tspace, k)), &tp) ||
			    tp.len != sp->len || ip_prefix_cmp(sp, &tp) == 0)
				continue;
			struct ip_addr na;
			ip_prefix_nth(&tp, ip_prefix_offset(sp, &a), &na);
			char buf[IP_STRLEN];
			if (is_prefix) {
				struct ip_prefix np = {na, p.len};
				json_object_set_new(route, key,
				                    json_string(ip_prefix_fmt(&np, buf)));
			} else {
				json_object_set_new(route, key, json_string(ip_addr_fmt(&na, buf)));
			}
			return;
		}
	}
}

static bool
create_route_table(struct rec_job *j, const struct est_act_route_table *r)
{
	char what[160];
	snprintf(what, sizeof(what), "create route table %s%s%s", r->name,
	         r->copy_of.name ? " as a copy of " : "", r->copy_of.name ? r->copy_of.name : "");
	json_t *tables = doc_list(j->doc, "route_tables");
	if (doc_named(tables, r->name, NULL)) {
		struct rec_step *s = job_step(j, REC_SKIPPED, 0, "%s", what);
		snprintf(s->note, sizeof(s->note), "exists already");
		return true;
	}
	if (r->region.name && region_down(j, r->region.name))
		return fail(j, 0, what, "its region is down");
	json_t *t = json_pack("{s:s}", "name", r->name);
	if (r->region.name)
		json_object_set_new(t, "region", json_string(r->region.name));
	if (!r->propagate_gateway_routes)
		json_object_set_new(t, "propagate_gateway_routes", json_false());
	json_t *src = r->copy_of.name ? doc_named(tables, r->copy_of.name, NULL) : NULL;
	json_t *routes = json_array();
	if (src) {
		size_t i;
		json_t *x;
		json_array_foreach(json_object_get(src, "routes"), i, x)
		{
			json_t *c = json_deep_copy(x);
			rewrite_ip(j, c, "prefix");
			rewrite_ip(j, c, "ip");
			json_array_append_new(routes, c);
		}
		if (json_object_get(src, "propagate_gateway_routes"))
			json_object_set(t, "propagate_gateway_routes",
			                json_object_get(src, "propagate_gateway_routes"));
	}
	for (uint32_t k = 0; k < r->routes.n; k++) {
		const struct est_route *u = &r->routes.v[k];
		char p[IP_STRLEN];
		json_t *c = json_pack("{s:s, s:s}", "prefix", ip_prefix_fmt(&u->prefix, p),
		                      "next_hop", est_next_hop_name(u->next_hop));
		if (u->name)
			json_object_set_new(c, "name", json_string(u->name));
		if (u->ip.af)
			json_object_set_new(c, "ip", json_string(ip_addr_fmt(&u->ip, p)));
		json_array_append_new(routes, c);
	}
	if (json_array_size(routes))
		json_object_set_new(t, "routes", routes);
	else
		json_decref(routes);
	json_array_append_new(tables, t);
	job_step(j, REC_DONE, j->o->dur[REC_D_ROUTE_TABLE_CREATE], "%s", what);
	return true;
}

static bool
attach(struct rec_job *j, const struct est_act_attach *a)
{
	char what[160];
	snprintf(what, sizeof(what), "attach route table %s to %s", a->route_table.name,
	         a->subnet.name);
	json_t *v, *s = doc_subnet(j->doc, a->subnet.name, &v);
	if (!s)
		return fail(j, 0, what, "the subnet does not exist");
	if (!doc_named(json_object_get(j->doc, "route_tables"), a->route_table.name, NULL))
		return fail(j, 0, what, "the route table does not exist");
	const char *cur = doc_str(s, "route_table");
	if (cur && strcmp(cur, a->route_table.name) == 0) {
		struct rec_step *st = job_step(j, REC_SKIPPED, 0, "%s", what);
		snprintf(st->note, sizeof(st->note), "attached already");
		return true;
	}
	if (region_down(j, doc_str(v, "region")))
		return fail(j, 0, what, "its region is down");
	json_object_set_new(s, "route_table", json_string(a->route_table.name));
	job_step(j, REC_DONE, j->o->dur[REC_D_ROUTE_TABLE_ATTACH], "%s", what);
	return true;
}

static bool
set_preference(struct rec_job *j, const struct est_act_preference *p)
{
	json_t *site = doc_named(json_object_get(j->doc, "sites"), p->site.name, NULL);
	char what[160];
	snprintf(what, sizeof(what), "site %s prefers circuit %s (local preference %u)",
	         p->site.name, p->circuit.name, p->local_pref);
	if (!site)
		return fail(j, 0, what, "no such site");
	json_t *pol = doc_list(site, "circuits"), *x = NULL;
	size_t i;
	json_t *y;
	json_array_foreach(pol, i, y)
	{
		const char *c = doc_str(y, "circuit");
		if (c && strcmp(c, p->circuit.name) == 0)
			x = y;
	}
	if (!x) {
		x = json_pack("{s:s}", "circuit", p->circuit.name);
		json_array_append_new(pol, x);
	}
	json_object_set_new(x, "local_pref", json_integer(p->local_pref));
	if (p->prepend)
		json_object_set_new(x, "prepend", json_integer(p->prepend));
	else
		json_object_del(x, "prepend");
	struct rec_step *s = job_step(j, REC_DONE, j->o->dur[REC_D_PREFERENCE], "%s", what);
	snprintf(s->note, sizeof(s->note), "on the customer's edge routers");
	return true;
}

/* Was the step about to be made done in an earlier run (a resumed job)? */
static bool
replayed(struct rec_job *j)
{
	return j->o->hooks && j->res->nsteps < j->o->hooks->resume_from;
}

/* A manual step pauses the job until it is confirmed (azure-facts 3.6). */
static bool
manual(struct rec_job *j, const char *text)
{
	uint32_t idx = j->res->nsteps + 1;
	if (j->o->pause_manual && !replayed(j) && j->o->confirm_step != idx) {
		j->res->paused = true;
		j->res->paused_step = idx;
		snprintf(j->res->paused_at, sizeof(j->res->paused_at), "%s", text);
		j->aborted = true;
		return false;
	}
	struct rec_step *s = job_step(j, REC_DONE, j->o->dur[REC_D_MANUAL], "manual: %s", text);
	snprintf(s->note, sizeof(s->note), "%s",
	         j->o->pause_manual ? "confirmed" : "the plan pauses until confirmed");
	return true;
}

/* Runs cmd with /bin/sh under a time limit; 0 or why it failed. */
static int
run_command(const char *cmd, int64_t limit, int64_t *took, char *why, size_t n)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, n, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	int st = 0;
	for (;;) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec >= limit) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			snprintf(why, n, "killed after its time limit of %llds", (long long)limit);
			*took = limit;
			return -1;
		}
		struct timespec pause = {0, 10 * 1000 * 1000};
		nanosleep(&pause, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*took = t1.tv_sec - t0.tv_sec + (t1.tv_nsec > t0.tv_nsec ? 1 : 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	snprintf(why, n, "exit status %d", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return -1;
}

/* A script step: simulated, or run for real (never again when resumed).
 * A failing script stops a planned failover; an unplanned one goes on
 * (azure-facts 3.6). */
static bool
script(struct rec_job *j, const struct est_act_script *sc)
{
	char what[160];
	snprintf(what, sizeof(what), "script: %s", sc->run);
	if (!j->o->run_scripts || replayed(j)) {
		int64_t d =
		    j->o->dur[REC_D_SCRIPT] < sc->timeout ? j->o->dur[REC_D_SCRIPT] : sc->timeout;
		bool before = replayed(j);
		struct rec_step *s = job_step(j, REC_DONE, d, "%s", what);
		snprintf(s->note, sizeof(s->note), "%s (time limit %llds)",
		         before ? "ran before the restart" : "simulated", (long long)sc->timeout);
		return true;
	}
	int64_t took = 0;
	char why[160];
	if (run_command(sc->run, sc->timeout, &took, why, sizeof(why)))
		return fail(j, took, what, why);
	struct rec_step *s = job_step(j, REC_DONE, took, "%s", what);
	snprintf(s->note, sizeof(s->note), "ran (%llds)", (long long)took);
	return true;
}

bool
rec_apply(struct rec_job *j, const struct est_action *a)
{
	switch (a->kind) {
	case EST_ACT_CREATE_GATEWAY:
		return create_gateway(j, a->create_gateway);
	case EST_ACT_CONNECT:
		return act_connect(j, a->connect);
	case EST_ACT_DISCONNECT:
		return act_disconnect(j, a->disconnect);
	case EST_ACT_CREATE_PEERING:
		return create_peering(j, a->create_peering);
	case EST_ACT_CREATE_ROUTE_TABLE:
		return create_route_table(j, a->create_route_table);
	case EST_ACT_ATTACH_ROUTE_TABLE:
		return attach(j, a->attach_route_table);
	case EST_ACT_SET_PREFERENCE:
		return set_preference(j, a->set_preference);
	case EST_ACT_MANUAL:
		return manual(j, a->manual);
	case EST_ACT_SCRIPT:
		return script(j, a->script);
	}
	return true;
}
