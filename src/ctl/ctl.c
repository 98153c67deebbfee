/*
 * ctl.c - the commands of the live API and their handlers.
 *
 * Read-only commands answer from the estate the daemon holds: its summary,
 * the check findings, a subnet's effective routes, a trace, the rule table,
 * the recovery jobs in the state database. `reload` re-reads the estate file
 * and keeps the old estate when the new one does not load (bad input loses
 * nothing).
 */
#include "ctl.h"

#include "check/chk.h"
#include "route/rt.h"
#include "state/st.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
ctl_error(json_t **out, int status, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	*out = json_pack("{s:s, s:i}", "error", buf, "status", status);
	return status;
}

int
ctl_load(struct ctl_env *env)
{
	struct lib_diags d;
	struct estate *e = NULL;
	lib_diags_init(&d);
	est_load_file(env->estate_path, &d, &e);
	if (!e) {
		lib_diags_sort(&d);
		const struct lib_diag *g = d.v.n ? d.v.v : NULL;
		snprintf(env->load_error, sizeof(env->load_error), "%s:%u:%u: %s (%u error%s)",
		         env->estate_path, g ? g->line : 0, g ? g->col : 0, g ? g->msg : "?",
		         d.nerr, d.nerr == 1 ? "" : "s");
		lib_diags_free(&d);
		return -EINVAL;
	}
	lib_diags_free(&d);
	est_free(env->estate);
	env->estate = e;
	env->load_error[0] = '\0';
	env->loaded_at = time(NULL);
	bgp_svc_reload(env->bgp, env->estate); /* sessions and advertisements follow */
	return 0;
}

static int
need_estate(struct ctl_env *env, json_t **out)
{
	if (env->estate)
		return 0;
	return ctl_error(out, 503, "no estate loaded: %s", env->load_error);
}

static int
cmd_status(struct ctl_env *env, json_t *args, json_t **out)
{
	const struct estate *e = env->estate;
	*out = json_pack("{s:s, s:s, s:s?, s:I, s:I, s:s?}", "program", "straitd", "version",
	                 "0.1.0", "estate", e ? e->name : NULL, "loaded_at",
	                 (json_int_t)env->loaded_at, "started", (json_int_t)env->started,
	                 "load_error", env->load_error[0] ? env->load_error : NULL);
	if (e)
		json_object_set_new(*out, "counts",
		                    json_pack("{s:i, s:i, s:i, s:i, s:i}", "sites", (int)e->sites.n,
		                              "circuits", (int)e->circuits.n, "vnets",
		                              (int)e->vnets.n, "vms", (int)e->vms.n, "plans",
		                              (int)e->recovery_plans.n));
	return 200;
}

static int
cmd_summary(struct ctl_env *env, json_t *args, json_t **out)
{
	int rc = need_estate(env, out);
	if (rc)
		return rc;
	char *s = est_summary(env->estate);
	*out = json_pack("{s:s}", "summary", s);
	free(s);
	return 200;
}

static int
cmd_check(struct ctl_env *env, json_t *args, json_t **out)
{
	int rc = need_estate(env, out);
	if (rc)
		return rc;
	struct chk_result r;
	chk_run(env->estate, NULL, 0, &r);
	char *s = chk_json(env->estate, &r);
	chk_result_free(&r);
	*out = json_loads(s, 0, NULL);
	free(s);
	return 200;
}

static int
cmd_rules(struct ctl_env *env, json_t *args, json_t **out)
{
	static const char *const sev[] = {"error", "warning", "info"};
	*out = json_array();
	for (uint32_t i = 0; i < chk_rule_count(); i++) {
		const struct chk_rule *r = chk_rule_at(i);
		json_array_append_new(*out, json_pack("{s:s, s:s, s:s, s:s}", "id", r->id,
		                                      "severity", sev[r->sev], "title", r->title,
		                                      "source", r->source));
	}
	return 200;
}

static int
cmd_routes(struct ctl_env *env, json_t *args, json_t **out)
{
	int rc = need_estate(env, out);
	if (rc)
		return rc;
	const char *path = json_string_value(json_object_get(args, "subnet"));
	if (!path)
		return ctl_error(out, 400, "give subnet=VNET/SUBNET");
	uint32_t vi;
	const struct est_subnet *s = est_find_subnet(env->estate, path, &vi);
	if (!s)
		return ctl_error(out, 404, "unknown subnet '%s'", path);
	struct rt_net *n;
	rt_build(env->estate, NULL, 0, &n);
	uint32_t cnt;
	struct rt_route *r =
	    rt_subnet_routes(n, vi, (uint32_t)(s - env->estate->vnets.v[vi].subnets.v), &cnt);
	json_t *arr = json_array();
	for (uint32_t i = 0; i < cnt; i++) {
		char p[IP_STRLEN], ip[IP_STRLEN] = "";
		if (r[i].nnh)
			ip_addr_fmt(&r[i].nh_ip[0], ip);
		json_array_append_new(
		    arr, json_pack("{s:s, s:s, s:s, s:s, s:s}", "source", rt_src_name(r[i].src),
		                   "state", r[i].active ? "Active" : "Invalid", "prefix",
		                   r[i].p.a.af ? ip_prefix_fmt(&r[i].p, p) : r[i].tag,
		                   "nextHopType", rt_nh_name(r[i].nh), "nextHopIp", ip));
	}
	free(r);
	rt_free(n);
	*out = json_pack("{s:s, s:o}", "subnet", path, "routes", arr);
	return 200;
}

static int
cmd_trace(struct ctl_env *env, json_t *args, json_t **out)
{
	int rc = need_estate(env, out);
	if (rc)
		return rc;
	const char *from = json_string_value(json_object_get(args, "from"));
	const char *to = json_string_value(json_object_get(args, "to"));
	if (!from || !to)
		return ctl_error(out, 400, "give from=... and to=... (a VM, a site or an IP)");
	struct rt_endpoint a, b;
	char err[256];
	if (rt_endpoint_parse(env->estate, from, &a, err, sizeof(err)) ||
	    rt_endpoint_parse(env->estate, to, &b, err, sizeof(err)))
		return ctl_error(out, 404, "%s", err);
	struct rt_net *n;
	rt_build(env->estate, NULL, 0, &n);
	struct rt_trace t;
	rt_trace(n, &a, &b, &t);
	rt_free(n);
	json_t *hops = json_array();
	for (uint32_t i = 0; i < t.n; i++)
		json_array_append_new(hops, json_pack("{s:s, s:s, s:s}", "kind",
		                                      rt_hop_name(t.hops[i].kind), "name",
		                                      t.hops[i].name, "how", t.hops[i].how));
	*out = json_pack("{s:s, s:s, s:o, s:s, s:s}", "from", from, "to", to, "hops", hops,
	                 "result", rt_verdict_name(t.verdict), "why", t.why);
	return 200;
}

static int
cmd_jobs(struct ctl_env *env, json_t *args, json_t **out)
{
	if (!env->state_path)
		return ctl_error(out, 404, "straitd runs without a state database (--state)");
	struct st_db *db;
	char err[512];
	if (st_open(env->state_path, &db, err, sizeof(err)))
		return ctl_error(out, 500, "%s", err);
	struct lib_arena a;
	lib_arena_init(&a);
	struct st_job *jobs;
	size_t n;
	int rc = st_job_list(db, &a, &jobs, &n);
	if (rc) {
		rc = ctl_error(out, 500, "%s", st_errmsg(db));
	} else {
		*out = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(
			    *out, json_pack("{s:I, s:s, s:s, s:s, s:I, s:s?}", "id",
			                    (json_int_t)jobs[i].id, "kind", jobs[i].kind, "plan",
			                    jobs[i].plan, "state", st_job_state_name(jobs[i].state),
			                    "sim_time", (json_int_t)jobs[i].sim_time, "message",
			                    jobs[i].msg));
		rc = 200;
	}
	lib_arena_free(&a);
	st_close(db);
	return rc;
}

static int
cmd_reload(struct ctl_env *env, json_t *args, json_t **out)
{
	if (ctl_load(env))
		return ctl_error(out, 422, "the estate did not load, the previous one stays: %s",
		                 env->load_error);
	*out = json_pack("{s:s, s:I}", "reloaded", env->estate->name, "loaded_at",
	                 (json_int_t)env->loaded_at);
	return 200;
}

/* The replication status of every protected disk (strait replica status). */
static int
cmd_replication(struct ctl_env *env, json_t *args, json_t **out)
{
	if (!env->repl)
		return ctl_error(out, 404, "no replication in this straitd: %s",
		                 env->repl_off ? env->repl_off : "not configured");
	json_t *a = json_array();
	for (size_t i = 0; i < rsvc_ndisks(env->repl); i++) {
		struct repl_disk_status s;
		if (rsvc_status(env->repl, i, &s))
			continue;
		json_t *d = json_pack(
		    "{s:s, s:s?, s:s, s:I, s:I, s:f, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		    "disk", s.name, "group", s.group[0] ? s.group : NULL, "state",
		    repl_state_name(s.state), "size", (json_int_t)s.size, "copied",
		    (json_int_t)s.copied, "copy_percent",
		    s.size ? 100.0 * (double)s.copied / (double)s.size : 100.0, "rpo_ms",
		    (json_int_t)s.rpo_ms, "churn_bytes_per_s", s.churn, "backlog_bytes",
		    (json_int_t)s.backlog, "written_bytes", (json_int_t)s.written, "wire_bytes",
		    (json_int_t)s.wire, "next_seq", (json_int_t)s.next_seq, "sent_seq",
		    (json_int_t)s.sent, "acked_seq", (json_int_t)s.acked, "covered_seq",
		    (json_int_t)s.covered);
		json_object_set_new(d, "bitmap", json_boolean(s.bitmap));
		if (s.mark)
			json_object_set_new(d, "mark_pending_seq",
			                    json_integer((json_int_t)s.mark));
		if (s.last_point)
			json_object_set_new(d, "last_point",
			                    json_pack("{s:I, s:I, s:s}", "seq",
			                              (json_int_t)s.last_point, "time",
			                              (json_int_t)s.last_time, "kind",
			                              s.last_kind == STORE_APP ? "app" : "crash"));
		if (s.error[0])
			json_object_set_new(d, "error", json_string(s.error));
		json_array_append_new(a, d);
	}
	*out = json_pack("{s:o}", "disks", a);
	return 200;
}

/* An app-consistent point now (strait replica mark): the markers go into the
 * journals and the answer comes at once (the loop must not block); the points
 * follow within the next ticks, and GET /v1/replication shows each disk's
 * pending mark until the recovery region has reported its point. */
static int
cmd_mark(struct ctl_env *env, json_t *args, json_t **out)
{
	if (!env->repl)
		return ctl_error(out, 404, "no replication in this straitd: %s",
		                 env->repl_off ? env->repl_off : "not configured");
	const char *name = json_string_value(json_object_get(args, "disk"));
	if (name && !*name)
		name = NULL;
	int rc = rsvc_mark(env->repl, name);
	if (rc == -ENOENT)
		return ctl_error(out, 404, "no protected disk or group '%s'", name ? name : "");
	if (rc == -EAGAIN)
		return ctl_error(out, 409,
		                 "the initial copy or a resync has not finished; no point yet");
	if (rc < 0)
		return ctl_error(out, 500, "the app-consistent point failed: %s", strerror(-rc));
	*out = json_pack("{s:i}", "requested", rc);
	return 202;
}

static const char *
arg_str(json_t *args, const char *k)
{
	const char *v = json_string_value(json_object_get(args, k));
	return v && *v ? v : NULL;
}

static int
cmd_bgp(struct ctl_env *env, json_t *args, json_t **out)
{
	(void)args;
	*out = bgp_svc_summary(env->bgp);
	if (!env->bgp)
		json_object_set_new(*out, "off",
		                    json_string(env->bgp_off ? env->bgp_off : "not run"));
	return 200;
}

static int
cmd_bgp_routes(struct ctl_env *env, json_t *args, json_t **out)
{
	const char *dir = arg_str(args, "direction");
	if (dir && strcmp(dir, "received") && strcmp(dir, "advertised"))
		return ctl_error(out, 400, "bad direction '%s' (expected received or advertised)",
		                 dir);
	if (!arg_str(args, "circuit"))
		return ctl_error(out, 400, "circuit= is required");
	char err[256];
	*out = bgp_svc_routes(env->bgp, arg_str(args, "circuit"), arg_str(args, "peering"),
	                      arg_str(args, "link"), dir && !strcmp(dir, "advertised"), err,
	                      sizeof(err));
	return *out ? 200 : ctl_error(out, strncmp(err, "bad", 3) ? 404 : 400, "%s", err);
}

static int
cmd_bgp_test(struct ctl_env *env, json_t *args, json_t **out)
{
	json_t *cnt = json_object_get(args, "count");
	long long count = json_is_integer(cnt)  ? json_integer_value(cnt)
	                  : json_is_string(cnt) ? strtoll(json_string_value(cnt), NULL, 10)
	                                        : 0;
	if (count < 0 || count > 1000)
		count = 1000; /* out of range: the service says so */
	if (!arg_str(args, "circuit"))
		return ctl_error(out, 400, "circuit= is required");
	char err[256];
	int rc = bgp_svc_test(env->bgp, arg_str(args, "circuit"), arg_str(args, "peering"),
	                      arg_str(args, "link"), arg_str(args, "test"), (unsigned)count, err,
	                      sizeof(err));
	if (rc)
		return ctl_error(out, rc == -ENOENT ? 404 : 400, "%s", err);
	*out = bgp_svc_routes(env->bgp, arg_str(args, "circuit"), arg_str(args, "peering"),
	                      arg_str(args, "link"), true, err, sizeof(err));
	return 200;
}

static int cmd_index(struct ctl_env *env, json_t *args, json_t **out);

const struct ctl_cmd ctl_cmds[] = {
    {"", "GET", false, "", "the commands of this API", cmd_index},
    {"status", "GET", false, "", "the daemon and the estate it holds", cmd_status},
    {"summary", "GET", false, "", "what the estate holds", cmd_summary},
    {"check", "GET", false, "", "the findings of every rule", cmd_check},
    {"rules", "GET", false, "", "the rule table", cmd_rules},
    {"routes", "GET", false, "subnet=VNET/SUBNET", "a subnet's effective routes", cmd_routes},
    {"trace", "GET", false, "from=A&to=B", "a trace from A to B", cmd_trace},
    {"jobs", "GET", false, "", "recovery jobs in the state database", cmd_jobs},
    {"reload", "POST", true, "", "read the estate file again", cmd_reload},
    {"replication", "GET", false, "", "every protected disk: state, RPO, churn, backlog, points",
     cmd_replication},
    {"mark", "POST", true, "[disk=DISK|GROUP]", "an app-consistent point now", cmd_mark},
    {"bgp", "GET", false, "", "the provider-edge BGP sessions of every listening peering", cmd_bgp},
    {"bgp-routes", "GET", false,
     "circuit=C[&peering=private|microsoft][&link=primary|secondary][&direction=received|"
     "advertised]",
     "one session's received or advertised routes", cmd_bgp_routes},
    {"bgp-test", "POST", true,
     "circuit=C&test=disconnect|prepend|stop[&count=N][&peering=P][&link=L]",
     "Azure's per-link failover tests: BGP disconnect, AS-path prepend", cmd_bgp_test},
};
const size_t ctl_ncmds = LIB_ARRAY_LEN(ctl_cmds);

static int
cmd_index(struct ctl_env *env, json_t *args, json_t **out)
{
	*out = json_array();
	for (size_t i = 1; i < ctl_ncmds; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/v1/%s", ctl_cmds[i].name);
		json_array_append_new(*out, json_pack("{s:s, s:s, s:b, s:s, s:s}", "path", path,
		                                      "method", ctl_cmds[i].method, "mutating",
		                                      ctl_cmds[i].mutating, "args",
		                                      ctl_cmds[i].args, "help", ctl_cmds[i].help));
	}
	return 200;
}

const struct ctl_cmd *
ctl_find(const char *name)
{
	for (size_t i = 0; i < ctl_ncmds; i++)
		if (strcmp(ctl_cmds[i].name, name) == 0)
			return &ctl_cmds[i];
	return NULL;
}

char *
ctl_metrics(const struct ctl_env *env)
{
	struct lib_buf b = {0};
	const struct estate *e = env->estate;
	lib_buf_printf(
	    &b,
	    "# HELP strait_up 1 while straitd runs\n# TYPE strait_up gauge\nstrait_up 1\n"
	    "# HELP strait_estate_loaded 1 when an estate is loaded\n"
	    "# TYPE strait_estate_loaded gauge\nstrait_estate_loaded %d\n"
	    "# HELP strait_api_requests_total API requests served\n"
	    "# TYPE strait_api_requests_total counter\nstrait_api_requests_total %llu\n"
	    "# HELP strait_api_errors_total API requests answered with an error\n"
	    "# TYPE strait_api_errors_total counter\nstrait_api_errors_total %llu\n",
	    e != NULL, (unsigned long long)env->requests, (unsigned long long)env->errors);
	if (e) {
		lib_buf_printf(&b,
		               "# HELP strait_estate_objects objects of the loaded estate\n"
		               "# TYPE strait_estate_objects gauge\n"
		               "strait_estate_objects{kind=\"site\"} %u\n"
		               "strait_estate_objects{kind=\"circuit\"} %u\n"
		               "strait_estate_objects{kind=\"vnet\"} %u\n"
		               "strait_estate_objects{kind=\"vm\"} %u\n"
		               "strait_estate_objects{kind=\"recovery_plan\"} %u\n",
		               e->sites.n, e->circuits.n, e->vnets.n, e->vms.n,
		               e->recovery_plans.n);
	}
	return b.s;
}
