/*
 * rec_run.c - the recovery operations, step by step on a simulated clock.
 *
 * drill     copies of the plan's VMs in the isolated test network, by the
 *           test-failover IP rule; only steps marked for test failovers run;
 *           production is not touched (azure-facts 3.7).
 * cleanup   removes the drill's copies.
 * failover  shutdown (planned: required; unplanned: best effort), plan steps
 *           and groups in order, the VMs of a group in parallel; the VMs are
 *           unprotected afterwards (azure-facts 3.7).
 * commit    deletes the recovery points: the failover can no longer change
 *           its point.
 * reprotect replication reversed (target -> source), the mapping reversed;
 *           only differences resync when the old disks still exist.
 * failback  a failover back to the primary with the steps marked failback.
 *
 * The recovery point sets the RPO (azure-facts 3.3, 3.8): latest processes
 * pending data first (lowest RPO, higher RTO) and falls back to the latest
 * processed point when the source region is down; latest-processed costs up
 * to one crash-consistent interval; latest-app-consistent one app interval.
 */
#include "rec_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const struct rec_dur_def rec_dur_defs[REC_D__COUNT] = {
    [REC_D_GATEWAY_CREATE] = {"gateway_create", 45 * 60, "azure-facts 1.8: 45 minutes or more"},
    [REC_D_CONNECTION_CREATE] = {"connection_create", 5 * 60, "assumed [unconfirmed]"},
    [REC_D_CONNECTION_DELETE] = {"connection_delete", 5 * 60, "assumed [unconfirmed]"},
    [REC_D_PEERING_CREATE] = {"peering_create", 60, "assumed [unconfirmed]"},
    [REC_D_ROUTE_TABLE_CREATE] = {"route_table_create", 60, "assumed [unconfirmed]"},
    [REC_D_ROUTE_TABLE_ATTACH] = {"route_table_attach", 60, "assumed [unconfirmed]"},
    [REC_D_PREFERENCE] = {"preference", 5 * 60, "an operator on the edge routers, assumed"},
    [REC_D_VM_SHUTDOWN] = {"vm_shutdown", 5 * 60, "assumed [unconfirmed]"},
    [REC_D_VM_FAILOVER] = {"vm_failover", 10 * 60,
                           "azure-facts 3.8: most VMs fail over in minutes"},
    [REC_D_PROCESS_PENDING] = {"process_pending", 5 * 60,
                               "dr-anchors: a point within about 5 min of upload"},
    [REC_D_MANUAL] = {"manual", 10 * 60, "an operator confirms, assumed"},
    [REC_D_SCRIPT] = {"script", 2 * 60, "assumed; capped by the script's timeout"},
};

int
rec_dur_parse(const char *spec, int64_t dur[REC_D__COUNT], char *err, size_t errlen)
{
	const char *eq = strchr(spec, '=');
	for (int i = 0; eq && i < REC_D__COUNT; i++) {
		if (strlen(rec_dur_defs[i].key) != (size_t)(eq - spec) ||
		    strncmp(spec, rec_dur_defs[i].key, (size_t)(eq - spec)) != 0)
			continue;
		if (lib_parse_duration(eq + 1, &dur[i])) {
			snprintf(err, errlen, "bad duration '%s' (expected e.g. 30m)", eq + 1);
			return -EINVAL;
		}
		return 0;
	}
	size_t off = (size_t)snprintf(err, errlen, "expected KEY=DURATION with KEY one of");
	for (int i = 0; i < REC_D__COUNT && off < errlen; i++)
		off += (size_t)snprintf(err + off, errlen - off, " %s", rec_dur_defs[i].key);
	return -EINVAL;
}

void
rec_opts_init(struct rec_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->op = REC_FAILOVER;
	o->fo_type = EST_FO_UNPLANNED;
	o->point = REC_PT_LATEST;
	o->down_region = EST_NONE;
	for (int i = 0; i < REC_D__COUNT; i++)
		o->dur[i] = rec_dur_defs[i].dflt;
}

const char *
rec_op_name(int op)
{
	static const char *const n[] = {"drill",  "cleanup",   "failover",
	                                "commit", "reprotect", "failback"};
	return op >= 0 && op < (int)LIB_ARRAY_LEN(n) ? n[op] : "?";
}

const char *
rec_state_name(int st)
{
	static const char *const n[] = {"done", "skipped", "FAILED", "failed, continued"};
	return st >= 0 && st < (int)LIB_ARRAY_LEN(n) ? n[st] : "?";
}

/* Reports a finished step to the hooks, or for a resumed job checks that the
 * replay reached the recorded estate. Called once the step's effect is in
 * the tree (the step's note is filled in afterwards by some callers, so the
 * record is made when the next step starts or the job ends). */
static void
flush(struct rec_job *j)
{
	const struct rec_hooks *h = j->o->hooks;
	uint32_t idx = j->recorded;
	if (!h || (j->aborted && !j->res->paused) || idx >= j->res->nsteps)
		return;
	struct rec_step *s = &j->res->steps[idx];
	j->recorded++;
	if (idx < h->resume_from) {
		s->resumed = true;
		if (idx + 1 == h->resume_from && h->resume_doc) {
			json_t *was = json_loads(h->resume_doc, 0, NULL);
			bool same = was && json_equal(was, j->doc);
			json_decref(was);
			if (!same) {
				snprintf(
				    j->res->abort, sizeof(j->res->abort),
				    "the estate after step %u differs from the one recorded: "
				    "the estate or the options changed since the interrupted run",
				    idx + 1);
				j->aborted = true;
			}
		}
		return;
	}
	char *doc = json_dumps(j->doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (h->step_done(h->ctx, idx, s, doc)) {
		snprintf(j->res->abort, sizeof(j->res->abort), "recording step %u failed", idx + 1);
		j->aborted = true;
	}
	free(doc);
}

static void
job_record(struct rec_job *j, struct rec_step *s)
{
	(void)s;
	/* the step before this one is complete now */
	if (j->res->nsteps >= 2)
		flush(j);
}

struct rec_step *
job_step(struct rec_job *j, int state, int64_t secs, const char *fmt, ...)
{
	struct rec_result *r = j->res;
	r->steps = lib_xrealloc(r->steps, (r->nsteps + 1) * sizeof(*r->steps));
	struct rec_step *s = &r->steps[r->nsteps++];
	memset(s, 0, sizeof(*s));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->what, sizeof(s->what), fmt, ap);
	va_end(ap);
	s->state = state;
	s->group = j->group;
	s->start = j->now;
	s->end = j->now + secs;
	j->now = s->end;
	job_record(j, s);
	return s;
}

void
job_warn(struct rec_job *j, const char *fmt, ...)
{
	struct lib_buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	lib_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	*(char **)lib_vec_push(&j->res->warnings) = b.s;
}

static bool
runs(const struct est_action *a, int direction, int type)
{
	if (a->direction != EST_DIR_ANY && a->direction != direction)
		return false;
	if (!a->types.n)
		return type != EST_FO_TEST; /* a drill runs only steps marked for tests */
	for (uint32_t i = 0; i < a->types.n; i++)
		if (a->types.v[i] == type)
			return true;
	return false;
}

static bool
steps(struct rec_job *j, const struct est_action *v, uint32_t n, int direction, int type)
{
	for (uint32_t i = 0; i < n; i++) {
		if (j->aborted)
			return false;
		if (runs(&v[i], direction, type) && !rec_apply(j, &v[i]))
			return false;
	}
	return !j->aborted;
}

static const struct est_plan *
find_plan(const struct estate *e, const char *name, struct lib_diags *d)
{
	if (!name && e->recovery_plans.n == 1)
		return &e->recovery_plans.v[0];
	for (uint32_t i = 0; name && i < e->recovery_plans.n; i++)
		if (strcmp(e->recovery_plans.v[i].name, name) == 0)
			return &e->recovery_plans.v[i];
	if (name)
		lib_diag_add(d, LIB_SEV_ERROR, e->file, 0, 0, NULL, NULL, "no recovery plan '%s'",
		             name);
	else
		lib_diag_add(d, LIB_SEV_ERROR, e->file, 0, 0, NULL,
		             e->recovery_plans.n ? "name one with --plan" : NULL,
		             "the estate has %u recovery plans", e->recovery_plans.n);
	return NULL;
}

static void
rpo(struct rec_job *j, const struct est_replication *rp)
{
	struct rec_result *r = j->res;
	int point = j->o->point;
	if (point == REC_PT_LATEST && j->down) {
		point = REC_PT_LATEST_PROCESSED;
		job_warn(j,
		         "region %s is down: 'latest' falls back to the latest processed point "
		         "(azure-facts 3.8)",
		         j->down);
	}
	switch (point) {
	case REC_PT_LATEST:
		r->rpo = 0;
		snprintf(r->rpo_note, sizeof(r->rpo_note), "latest: pending data processed first");
		job_step(j, REC_DONE, j->o->dur[REC_D_PROCESS_PENDING],
		         "process pending replication data (recovery point: latest)");
		break;
	case REC_PT_LATEST_PROCESSED:
		r->rpo = rp->policy.crash_consistent_every;
		snprintf(r->rpo_note, sizeof(r->rpo_note),
		         "latest processed crash-consistent point: up to one interval old");
		break;
	case REC_PT_LATEST_APP:
		r->rpo = rp->policy.app_consistent_every;
		snprintf(r->rpo_note, sizeof(r->rpo_note), "latest app-consistent point");
		break;
	default:
		r->rpo = j->o->point_age;
		snprintf(r->rpo_note, sizeof(r->rpo_note), "the chosen point");
	}
}

static bool
shutdown(struct rec_job *j, const struct est_plan *p)
{
	if (!j->down) {
		job_step(j, REC_DONE, j->o->dur[REC_D_VM_SHUTDOWN],
		         "shut down the source VMs of %s", p->name);
		return true;
	}
	struct rec_step *s = job_step(j, j->unplanned ? REC_WARNED : REC_FAILED, 0,
	                              "shut down the source VMs of %s", p->name);
	snprintf(s->note, sizeof(s->note), "region %s is down%s", j->down,
	         j->unplanned ? "; unplanned failover goes on (azure-facts 3.7)"
	                      : "; a planned failover needs the source: it stops");
	s->stop = !j->unplanned;
	return j->unplanned;
}

static bool
groups(struct rec_job *j, const struct est_plan *p, int direction, int type, bool drill)
{
	for (uint32_t g = 0; g < p->groups.n; g++) {
		const struct est_plan_group *pg = &p->groups.v[g];
		j->group = (int)g;
		if (!steps(j, pg->before.v, pg->before.n, direction, type))
			return false;
		struct lib_buf names = {0}, where = {0};
		bool ok = true;
		for (uint32_t k = 0; k < pg->vms.n; k++) {
			char w[300];
			if (!rec_move_vm(j, pg->vms.v[k].name, drill, w, sizeof(w))) {
				ok = false;
				job_warn(j, "vm %s: %s", pg->vms.v[k].name, w);
				continue;
			}
			lib_buf_printf(&names, "%s%s", names.n ? ", " : "", pg->vms.v[k].name);
			lib_buf_printf(&where, "%s%s -> %s", where.n ? "; " : "", pg->vms.v[k].name,
			               w);
		}
		char gb[32];
		if (pg->vms.n) {
			struct rec_step *s =
			    job_step(j, ok ? REC_DONE : REC_WARNED, j->o->dur[REC_D_VM_FAILOVER],
			             "%s %s (%s)", drill ? "test failover of" : "fail over",
			             names.s ? names.s : "-",
			             pg->name ? pg->name
			                      : (snprintf(gb, sizeof(gb), "group %u", g + 1), gb));
			snprintf(s->note, sizeof(s->note), "%s", where.s ? where.s : "");
		}
		lib_buf_free(&names);
		lib_buf_free(&where);
		if (!steps(j, pg->after.v, pg->after.n, direction, type))
			return false;
	}
	j->group = -1;
	return true;
}

static bool
failover(struct rec_job *j, const struct est_plan *p, int direction)
{
	rpo(j, j->e->replication);
	if (!shutdown(j, p))
		return false;
	if (!steps(j, p->before.v, p->before.n, direction, j->o->fo_type))
		return false;
	if (!groups(j, p, direction, j->o->fo_type, false))
		return false;
	if (!steps(j, p->after.v, p->after.n, direction, j->o->fo_type))
		return false;
	/* the failed-over VMs are unprotected until reprotect (azure-facts 3.7) */
	json_t *rp = json_object_get(j->doc, "replication");
	json_object_del(rp, "protect");
	json_object_del(rp, "groups");
	return true;
}

static bool
drill(struct rec_job *j, const struct est_plan *p)
{
	if (!json_object_get(json_object_get(j->doc, "replication"), "test_network")) {
		job_warn(j, "replication has no test_network: a drill needs an isolated VNet");
		return false;
	}
	if (!steps(j, p->before.v, p->before.n, EST_DIR_FAILOVER, EST_FO_TEST))
		return false;
	if (!groups(j, p, EST_DIR_FAILOVER, EST_FO_TEST, true))
		return false;
	return steps(j, p->after.v, p->after.n, EST_DIR_FAILOVER, EST_FO_TEST);
}

/* Drill copies are the VMs named <vm>-test in the test network. */
static void
cleanup(struct rec_job *j)
{
	const char *tn = doc_str(json_object_get(j->doc, "replication"), "test_network");
	json_t *vms = json_object_get(j->doc, "vms");
	uint32_t n = 0;
	for (size_t i = json_array_size(vms); i-- > 0;) {
		json_t *v = json_array_get(vms, i);
		const char *name = doc_str(v, "name"), *sub = doc_str(v, "subnet");
		size_t l = name ? strlen(name) : 0, tl = tn ? strlen(tn) : 0;
		if (l > 5 && strcmp(name + l - 5, "-test") == 0 && sub && tn &&
		    strncmp(sub, tn, tl) == 0 && sub[tl] == '/') {
			json_array_remove(vms, i);
			n++;
		}
	}
	struct rec_step *s =
	    job_step(j, n ? REC_DONE : REC_SKIPPED, n ? 5 * 60 : 0, "clean up the test failover");
	snprintf(s->note, sizeof(s->note), "%u test VM%s removed", n, n == 1 ? "" : "s");
}

/* Replication reversed: the VMs now in the mapping's targets are protected
 * back to their sources (azure-facts 3.7: reprotect). */
static bool
reprotect(struct rec_job *j)
{
	json_t *rp = json_object_get(j->doc, "replication");
	if (!rp) {
		job_warn(j, "nothing was replicated");
		return false;
	}
	json_t *src = json_object_get(rp, "source"), *tgt = json_object_get(rp, "target");
	if (!json_is_string(src) || !json_is_string(tgt)) {
		job_warn(j,
		         "reprotect needs Azure-to-Azure replication (source and target regions)");
		return false;
	}
	json_t *ns = json_incref(tgt), *nt = json_incref(src);
	json_object_set_new(rp, "source", ns);
	json_object_set_new(rp, "target", nt);
	json_t *map = doc_list(rp, "network_mapping"), *protect = json_array();
	size_t i;
	json_t *m;
	json_array_foreach(map, i, m)
	{
		json_t *s = json_incref(json_object_get(m, "source"));
		json_object_set(m, "source", json_object_get(m, "target"));
		json_object_set_new(m, "target", s);
	}
	json_t *vm;
	json_array_foreach(json_object_get(j->doc, "vms"), i, vm)
	{
		const char *sub = doc_str(vm, "subnet");
		if (!sub)
			continue;
		char v[128];
		snprintf(v, sizeof(v), "%.*s", (int)(strchr(sub, '/') - sub), sub);
		if (rec_target_vnet(j, v)) /* now a source of the reversed mapping */
			json_array_append_new(protect, json_incref(json_object_get(vm, "name")));
	}
	uint32_t n = (uint32_t)json_array_size(protect);
	json_object_set_new(rp, "protect", protect);
	json_object_del(rp, "test_network");
	struct rec_step *s =
	    job_step(j, REC_DONE, 30 * 60, "reprotect %u VM%s: %s -> %s", n, n == 1 ? "" : "s",
	             json_string_value(ns), json_string_value(nt));
	snprintf(s->note, sizeof(s->note),
	         "the old disks exist: only differences resync (checksums), azure-facts 3.7");
	return n > 0;
}

int
rec_run(const struct estate *e, const struct rec_opts *o, struct rec_result *res,
        struct lib_diags *d)
{
	memset(res, 0, sizeof(*res));
	lib_vec_init(&res->warnings, sizeof(char *));
	const struct est_plan *p = NULL;
	if (o->op == REC_DRILL || o->op == REC_FAILOVER || o->op == REC_FAILBACK) {
		p = find_plan(e, o->plan, d);
		if (!p)
			return -EINVAL;
		if (!e->replication) {
			lib_diag_add(d, LIB_SEV_ERROR, e->file, 0, 0, NULL, NULL,
			             "the estate replicates nothing");
			return -EINVAL;
		}
	}
	struct rec_job j = {
	    .e = e,
	    .o = o,
	    .doc = est_to_json(e),
	    .res = res,
	    .down = o->down_region != EST_NONE ? e->regions.v[o->down_region].name : NULL,
	    .unplanned = o->fo_type != EST_FO_PLANNED,
	    .group = -1,
	};
	rec_target_networks(&j);
	bool ok = true;
	switch (o->op) {
	case REC_DRILL:
		ok = drill(&j, p);
		break;
	case REC_CLEANUP:
		cleanup(&j);
		break;
	case REC_FAILOVER:
		ok = failover(&j, p, EST_DIR_FAILOVER);
		break;
	case REC_FAILBACK:
		ok = failover(&j, p, EST_DIR_FAILBACK);
		break;
	case REC_COMMIT: {
		struct rec_step *s = job_step(&j, REC_DONE, 60, "commit the failover");
		snprintf(s->note, sizeof(s->note),
		         "recovery points deleted: the recovery point can no longer change");
		break;
	}
	case REC_REPROTECT:
		ok = reprotect(&j);
		break;
	}
	flush(&j); /* the last step */
	if (j.aborted)
		ok = false;
	res->rto = j.now;
	res->stopped = !ok;
	int rc = 0;
	if (ok && !o->no_estate) {
		res->estate = est_json_emit(j.doc, EST_FMT_YAML);
		struct estate *check = NULL;
		if (o->check_estate && est_load_string("(the estate after)", res->estate,
		                                       strlen(res->estate), d, &check))
			rc = -EINVAL; /* a bug of the engine: the diagnostics say where */
		est_free(check);
	}
	json_decref(j.doc);
	return rc;
}

void
rec_result_free(struct rec_result *r)
{
	char **w = r->warnings.v;
	for (uint32_t i = 0; i < r->warnings.n; i++)
		free(w[i]);
	lib_vec_free(&r->warnings);
	free(r->steps);
	free(r->estate);
	memset(r, 0, sizeof(*r));
}
