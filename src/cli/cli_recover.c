/*
 * cli_recover.c - strait drill, failover, commit, reprotect and failback.
 *
 * Each runs the operation on the model (src/recover), writes the estate
 * after it as an estate file (--out, default ESTATE-<op>.yaml beside the
 * current directory), prints the timeline with each step's share of the RTO
 * and the RPO of the recovery point, then proves the result with the
 * routing engine: differential reachability before and after (with the down
 * region failed in the after estate) and a verdict: does every on-premises
 * site reach every VM of the plan, both ways, and over which circuit.
 * Exit 0 when the run finished and the verdict is good, 1 otherwise.
 */
#include "cli.h"
#include "recover/rec.h"
#include "state/st.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sys/types.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void
hm(int64_t s, char *buf, size_t n)
{
	snprintf(buf, n, "%lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60));
}

static void
print_timeline(const struct rec_result *r, const char *op)
{
	struct cli_table t;
	cli_table_init(&t, "Start", "End", "Share", "Step", "State", "Note", NULL);
	for (uint32_t i = 0; i < r->nsteps; i++) {
		const struct rec_step *s = &r->steps[i];
		char a[48], b[48], share[16];
		hm(s->start, a, sizeof(a));
		hm(s->end, b, sizeof(b));
		snprintf(share, sizeof(share), "%.0f%%",
		         r->rto ? 100.0 * (double)(s->end - s->start) / (double)r->rto : 0.0);
		char st[48];
		snprintf(st, sizeof(st), "%s%s", rec_state_name(s->state),
		         s->resumed ? " (before restart)" : "");
		cli_table_row(&t, a, b, share, s->what, st, s->note, NULL);
	}
	printf("Timeline of the %s (simulated clock, h:mm)\n", op);
	cli_table_print(&t, stdout);
	cli_table_free(&t);
}

/* Site x plan-VM verdict on the after estate: every pair delivered both ways. */
static bool
verdict(const struct estate *after, const struct rt_matrix *m, const struct est_plan *p,
        json_t *out, bool print)
{
	bool good = true;
	if (print)
		printf("\nVerdict: on-premises sites to the recovered VMs\n");
	for (uint32_t i = 0; i < m->ncells; i++) {
		const struct rt_cell *c = &m->cells[i];
		const struct rt_endpoint *a = &m->eps[c->a], *b = &m->eps[c->b];
		if (!a->onprem || b->onprem)
			continue;
		bool in_plan = !p;
		for (uint32_t g = 0; p && g < p->groups.n; g++)
			for (uint32_t k = 0; k < p->groups.v[g].vms.n; k++)
				in_plan |= strcmp(p->groups.v[g].vms.v[k].name, b->label) == 0;
		if (!in_plan)
			continue;
		bool ok = c->fwd == RT_DELIVERED && c->back == RT_DELIVERED;
		good &= ok;
		const char *circ =
		    c->circuit != EST_NONE ? after->circuits.v[c->circuit].name : "-";
		if (print)
			printf("  %-12s %-12s %-12s %s\n", a->label, b->label,
			       ok ? "reachable" : "UNREACHABLE", c->path);
		json_array_append_new(out, json_pack("{s:s, s:s, s:b, s:s, s:s}", "site", a->label,
		                                     "vm", b->label, "reachable", ok, "circuit",
		                                     circ, "path", c->path));
	}
	return good;
}

/* ---- the job in SQLite: resume where an interrupted run stopped ---------- */

struct job {
	struct st_db *db;
	int64_t id;
	long kill_after; /* tests: SIGKILL after recording this step (1-based) */
};

static int
step_done(void *ctx, uint32_t idx, const struct rec_step *s, const char *doc)
{
	struct job *jb = ctx;
	if (st_step_begin(jb->db, jb->id, idx, s->what, "step", s->start))
		return -1;
	char blob[32];
	snprintf(blob, sizeof(blob), "after-%u", idx);
	struct st_step_end end = {
	    .state = s->state == REC_FAILED    ? ST_STEP_FAILED
	             : s->state == REC_SKIPPED ? ST_STEP_SKIPPED
	                                       : ST_STEP_DONE,
	    .msg = s->note[0] ? s->note : rec_state_name(s->state),
	    .sim_time = s->end,
	    .blob_name = blob,
	    .blob = doc,
	    .blob_len = strlen(doc),
	};
	if (st_step_finish(jb->db, jb->id, idx, &end))
		return -1;
	if (jb->kill_after > 0 && (long)idx + 1 == jb->kill_after)
		raise(SIGKILL);
	return 0;
}

static const char *
state_path(char *buf, size_t n)
{
	const char *env = getenv("STRAIT_STATE");
	if (env && *env)
		return env;
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char dir[400];
	if (xdg && *xdg)
		snprintf(dir, sizeof(dir), "%s/strait", xdg);
	else if (home && *home)
		snprintf(dir, sizeof(dir), "%s/.local/state/strait", home);
	else
		return NULL;
	/* mkdir -p */
	for (char *p = dir + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(dir, 0700);
			*p = '/';
		}
	mkdir(dir, 0700);
	snprintf(buf, n, "%s/state.db", dir);
	return buf;
}

/* Opens the state and finds the job to resume, or creates one. Fills h. */
static int
job_start(struct job *jb, const char *dbpath, const char *estate_path, const char *kind,
          const char *plan, bool restart, struct rec_hooks *h, struct lib_arena *a, bool quiet)
{
	char err[512], hash[ST_HASH_LEN];
	if (st_open(dbpath, &jb->db, err, sizeof(err))) {
		fprintf(stderr, "strait: state %s: %s\n", dbpath, err);
		return -1;
	}
	if (st_hash_file(estate_path, hash)) {
		fprintf(stderr, "strait: cannot read %s\n", estate_path);
		return -1;
	}
	int rc = st_job_find_open(jb->db, hash, plan, kind, &jb->id);
	if (rc == -ESTALE || (rc == 0 && restart)) {
		if (!restart) {
			fprintf(
			    stderr,
			    "strait: an unfinished %s of plan %s was started on another version "
			    "of the estate: %s\n(--restart cancels it and starts again)\n",
			    kind, plan, st_errmsg(jb->db));
			return -1;
		}
		struct st_job *jobs;
		size_t n;
		st_job_list(jb->db, a, &jobs, &n);
		for (size_t i = 0; i < n; i++)
			if (st_job_open(jobs[i].state) && strcmp(jobs[i].kind, kind) == 0 &&
			    strcmp(jobs[i].plan, plan) == 0)
				st_job_set_state(jb->db, jobs[i].id, ST_JOB_CANCELLED, "restarted",
				                 jobs[i].sim_time);
		rc = -ENOENT;
	}
	if (rc == 0) {
		struct st_step *steps;
		size_t n;
		struct st_job job;
		if (st_job_get(jb->db, jb->id, a, &job) ||
		    st_steps_get(jb->db, jb->id, true, a, &steps, &n))
			return -1;
		if (job.state == ST_JOB_PAUSED &&
		    st_job_set_state(jb->db, jb->id, ST_JOB_RUNNING, NULL, job.sim_time))
			return -1;
		h->resume_from = (uint32_t)n;
		if (n) {
			char name[32], *doc;
			size_t len;
			snprintf(name, sizeof(name), "after-%zu", n - 1);
			if (st_get_blob(jb->db, jb->id, name, &doc, &len))
				return -1;
			h->resume_doc = lib_arena_strdup(a, doc);
			free(doc);
		}
		if (!quiet)
			printf("resuming job %lld: %zu step%s finished before the interruption\n\n",
			       (long long)jb->id, n, n == 1 ? "" : "s");
		return 0;
	}
	if (rc != -ENOENT) {
		fprintf(stderr, "strait: state: %s\n", st_errmsg(jb->db));
		return -1;
	}
	struct st_job_spec spec = {kind, plan, estate_path, hash, NULL, 0};
	if (st_job_create(jb->db, &spec, &jb->id)) {
		fprintf(stderr, "strait: state: %s\n", st_errmsg(jb->db));
		return -1;
	}
	return 0;
}

static int
run(int argc, char **argv, enum rec_op op)
{
	static const struct option opts[] = {
	    {"plan", required_argument, NULL, 'p'},
	    {"planned", no_argument, NULL, 'P'},
	    {"unplanned", no_argument, NULL, 'U'},
	    {"point", required_argument, NULL, 't'},
	    {"down", required_argument, NULL, 'd'},
	    {"out", required_argument, NULL, 'O'},
	    {"duration", required_argument, NULL, 'D'},
	    {"output", required_argument, NULL, 'o'},
	    {"cleanup", no_argument, NULL, 'c'},
	    {"state", required_argument, NULL, 'S'},
	    {"no-state", no_argument, NULL, 'N'},
	    {"confirm", no_argument, NULL, 'C'},
	    {"run-scripts", no_argument, NULL, 'X'},
	    {"restart", no_argument, NULL, 'R'},
	    {"store", required_argument, NULL, 's'},
	    {"restore-dir", required_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	struct rec_opts o;
	rec_opts_init(&o);
	o.op = op;
	const char *down = NULL, *out = NULL, *durs[16], *statefile = NULL, *store = NULL,
	           *rdir = NULL;
	size_t ndurs = 0;
	bool json = false, nostate = false, restart = false, confirm = false;
	int c;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.plan = optarg;
			break;
		case 'P':
			o.fo_type = EST_FO_PLANNED;
			break;
		case 'U':
			o.fo_type = EST_FO_UNPLANNED;
			break;
		case 't':
			if (strcmp(optarg, "latest") == 0)
				o.point = REC_PT_LATEST;
			else if (strcmp(optarg, "latest-processed") == 0)
				o.point = REC_PT_LATEST_PROCESSED;
			else if (strcmp(optarg, "latest-app-consistent") == 0)
				o.point = REC_PT_LATEST_APP;
			else if (lib_parse_duration(optarg, &o.point_age) == 0)
				o.point = REC_PT_TIME;
			else
				return cli_usage_error(
				    "--point: expected latest, latest-processed, "
				    "latest-app-consistent or an age such as 30m");
			break;
		case 'd':
			down = optarg;
			break;
		case 'O':
			out = optarg;
			break;
		case 'D':
			if (ndurs < LIB_ARRAY_LEN(durs))
				durs[ndurs++] = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "json") && strcmp(optarg, "table"))
				return cli_usage_error("unknown output '%s'", optarg);
			json = strcmp(optarg, "json") == 0;
			break;
		case 'S':
			statefile = optarg;
			break;
		case 'N':
			nostate = true;
			break;
		case 'R':
			restart = true;
			break;
		case 'C':
			confirm = true;
			break;
		case 'X':
			o.run_scripts = true;
			break;
		case 's':
			store = optarg;
			break;
		case 'r':
			rdir = optarg;
			break;
		case 'c':
			if (op != REC_DRILL)
				return cli_usage_error("--cleanup is for drills");
			o.op = REC_CLEANUP;
			break;
		default:
			return cli_usage_error("bad option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("expected one estate file");
	if ((store || rdir) && op != REC_FAILOVER && op != REC_FAILBACK)
		return cli_usage_error("--store and --restore-dir are for failover and failback");
	if (!store != !rdir)
		return cli_usage_error("--store DIR and --restore-dir DIR go together: the points "
		                       "to restore and where the failed-over disks go");
	const char *path = argv[optind];
	char rdabs[PATH_MAX], edir[PATH_MAX];
	if (rdir) {
		int mrc = lib_mkdir_p(rdir);
		if (mrc || !realpath(rdir, rdabs) || !realpath(path, edir)) {
			fprintf(stderr, "strait: --restore-dir %s: %s\n", rdir,
			        strerror(mrc ? -mrc : errno));
			return CLI_UNUSABLE;
		}
		o.restore_dir = rdabs;
		o.estate_dir = dirname(edir);
	}
	struct estate *e = cli_load(path);
	if (!e)
		return CLI_UNUSABLE;
	char err[512];
	int rc = CLI_UNUSABLE;
	for (size_t i = 0; i < ndurs; i++)
		if (rec_dur_parse(durs[i], o.dur, err, sizeof(err))) {
			fprintf(stderr, "strait: --duration: %s\n", err);
			goto out_e;
		}
	if (down) {
		if (strncmp(down, "region:", 7) != 0 ||
		    (o.down_region = est_find(e, EST_K_REGION, down + 7)) == EST_NONE) {
			fprintf(stderr,
			        "strait: --down: expected region:NAME of the estate, got '%s'\n",
			        down);
			goto out_e;
		}
	}
	/* progress in SQLite, so an interrupted run resumes (issue 4) */
	struct job jb = {0};
	struct rec_hooks hooks = {0};
	struct lib_arena ja;
	lib_arena_init(&ja);
	char sp[512];
	const char *dbpath = nostate ? NULL : statefile ? statefile : state_path(sp, sizeof(sp));
	const char *kill_env = getenv("STRAIT_TEST_KILL_AFTER_STEP");
	jb.kill_after = kill_env ? strtol(kill_env, NULL, 10) : 0;
	if (dbpath) {
		const char *pn = o.plan                     ? o.plan
		                 : e->recovery_plans.n == 1 ? e->recovery_plans.v[0].name
		                                            : "-";
		if (job_start(&jb, dbpath, path, rec_op_name(o.op), pn, restart, &hooks, &ja,
		              json)) {
			st_close(jb.db);
			lib_arena_free(&ja);
			goto out_e;
		}
		hooks.step_done = step_done;
		hooks.ctx = &jb;
		o.hooks = &hooks;
		/* manual steps pause the job; --confirm confirms the one it waits at */
		o.pause_manual = true;
		if (confirm)
			o.confirm_step = hooks.resume_from + 1;
	}
	struct lib_diags d;
	lib_diags_init(&d);
	struct rec_result r;
	int rrc = rec_run(e, &o, &r, &d);
	if (jb.db) {
		enum st_job_state fin = r.paused           ? ST_JOB_PAUSED
		                        : rrc || r.stopped ? ST_JOB_FAILED
		                                           : ST_JOB_SUCCEEDED;
		st_job_set_state(jb.db, jb.id, fin,
		                 r.paused     ? r.paused_at
		                 : r.abort[0] ? r.abort
		                              : NULL,
		                 r.rto);
		st_close(jb.db);
	}
	if (r.paused) {
		print_timeline(&r, rec_op_name(o.op));
		printf("\npaused at step %u, a manual step: %s\nconfirm it and go on with: strait "
		       "%s %s --confirm (and the same options)\n",
		       r.paused_step, r.paused_at, rec_op_name(o.op), path);
		lib_arena_free(&ja);
		lib_diags_free(&d);
		rec_result_free(&r);
		rc = CLI_BAD;
		goto out_e;
	}
	lib_arena_free(&ja);
	if (r.abort[0])
		fprintf(stderr, "strait: %s\n", r.abort);
	if (rrc) {
		lib_diags_print(&d, stderr);
		lib_diags_free(&d);
		rec_result_free(&r);
		goto out_e;
	}
	lib_diags_free(&d);
	char def[512];
	if (!out && r.estate) {
		char *copy = lib_xstrdup(path), *base = basename(copy), *dot = strrchr(base, '.');
		if (dot)
			*dot = '\0';
		snprintf(def, sizeof(def), "%s-%s.yaml", base, rec_op_name(o.op));
		free(copy);
		out = def;
	}
	/* the failed-over disks for real, before the estate that names them */
	if (r.estate && o.restore_dir &&
	    cli_fo_restore(r.estate, out, store, o.restore_dir, o.point, o.point_age, json)) {
		fprintf(stderr, "strait: the disks did not fail over: %s not written\n", out);
		rec_result_free(&r);
		rc = CLI_BAD;
		goto out_e;
	}
	struct stat st;
	if (r.estate && stat(out, &st) == 0 && !S_ISREG(st.st_mode)) {
		fprintf(stderr, "strait: %s is not a regular file: not replacing it\n", out);
		rec_result_free(&r);
		goto out_e;
	}
	if (r.estate && lib_write_atomic(out, r.estate, strlen(r.estate))) {
		fprintf(stderr, "strait: cannot write %s\n", out);
		rec_result_free(&r);
		goto out_e;
	}
	json_t *jv = json_array();
	bool good = !r.stopped;
	if (!json) {
		print_timeline(&r, rec_op_name(o.op));
		char a[48];
		hm(r.rto, a, sizeof(a));
		printf("\nRTO %s (the timeline's end: its steps run one after another, a group's "
		       "VMs in parallel)\n",
		       a);
		if (o.op == REC_FAILOVER || o.op == REC_FAILBACK) {
			char rp[32];
			lib_fmt_duration(r.rpo, rp, sizeof(rp));
			printf("RPO %s: %s\n", r.rpo ? rp : "0", r.rpo_note);
		}
		char **w = r.warnings.v;
		for (uint32_t i = 0; i < r.warnings.n; i++)
			printf("warning: %s\n", w[i]);
		if (r.stopped)
			printf("\nstopped: the %s did not finish\n", rec_op_name(o.op));
	}
	if (r.estate) {
		struct estate *after = NULL;
		lib_diags_init(&d);
		est_load_string(out, r.estate, strlen(r.estate), &d, &after);
		lib_diags_free(&d);
		struct rt_fail f = {RT_FAIL_REGION, EST_NONE, 0};
		size_t nf = 0;
		if (o.down_region != EST_NONE && after &&
		    (f.i = est_find(after, EST_K_REGION, e->regions.v[o.down_region].name)) !=
		        EST_NONE)
			nf = 1;
		const struct est_plan *p = NULL;
		for (uint32_t i = 0; o.plan && i < after->recovery_plans.n; i++)
			if (strcmp(after->recovery_plans.v[i].name, o.plan) == 0)
				p = &after->recovery_plans.v[i];
		if (!p && after->recovery_plans.n == 1)
			p = &after->recovery_plans.v[0];
		/* the endpoints that matter: every site and the plan's VMs (and drill copies) */
		struct lib_vec sel;
		struct lib_arena sa;
		lib_vec_init(&sel, sizeof(const char *));
		lib_arena_init(&sa);
		for (uint32_t i = 0; i < e->sites.n; i++)
			*(const char **)lib_vec_push(&sel) = e->sites.v[i].name;
		for (uint32_t g = 0; p && g < p->groups.n; g++)
			for (uint32_t k = 0; k < p->groups.v[g].vms.n; k++) {
				const char *vm = p->groups.v[g].vms.v[k].name;
				*(const char **)lib_vec_push(&sel) = vm;
				if (o.op == REC_DRILL)
					*(const char **)lib_vec_push(&sel) =
					    lib_arena_printf(&sa, "%s-test", vm);
			}
		struct rt_net *before, *net;
		rt_build(e, NULL, 0, &before);
		rt_build(after, &f, nf, &net);
		struct rt_matrix mb, ma;
		/* names absent from one side (drill copies before the drill) are skipped */
		struct lib_vec sb, saf;
		lib_vec_init(&sb, sizeof(const char *));
		lib_vec_init(&saf, sizeof(const char *));
		const char **sv = sel.v;
		for (uint32_t i = 0; i < sel.n; i++) {
			if (est_find(e, EST_K_SITE, sv[i]) != EST_NONE ||
			    est_find(e, EST_K_VM, sv[i]) != EST_NONE)
				*(const char **)lib_vec_push(&sb) = sv[i];
			if (est_find(after, EST_K_SITE, sv[i]) != EST_NONE ||
			    est_find(after, EST_K_VM, sv[i]) != EST_NONE)
				*(const char **)lib_vec_push(&saf) = sv[i];
		}
		bool all = !p; /* commit, reprotect: every site and VM */
		rt_reach(before, all ? NULL : sb.v, all ? 0 : sb.n, &mb, err, sizeof(err));
		rt_reach(net, all ? NULL : saf.v, all ? 0 : saf.n, &ma, err, sizeof(err));
		lib_vec_free(&sb);
		lib_vec_free(&saf);
		lib_vec_free(&sel);
		lib_arena_free(&sa);
		uint32_t nch;
		struct rt_change *ch = rt_diff(&mb, &ma, &nch);
		if (!json && nch) {
			printf("\nReachability before -> after%s\n",
			       nf ? " (with the region down)" : "");
			for (uint32_t i = 0; i < nch; i++)
				printf("  %-15s %s - %s: %s -> %s\n", rt_change_name(ch[i].kind),
				       ch[i].a, ch[i].b, ch[i].before, ch[i].after);
		}
		if (o.op == REC_FAILOVER || o.op == REC_FAILBACK)
			good &= verdict(after, &ma, p, jv, !json);
		if (o.op == REC_DRILL) {
			/* production untouched: only the test copies may change */
			for (uint32_t i = 0; i < nch; i++)
				if (ch[i].kind != RT_GAINED ||
				    (!strstr(ch[i].a, "-test") && !strstr(ch[i].b, "-test"))) {
					good = false;
					if (!json)
						printf("production changed: %s - %s\n", ch[i].a,
						       ch[i].b);
				}
			if (!json && good)
				printf("\nproduction untouched: no path between production "
				       "endpoints changed\n");
		}
		free(ch);
		rt_matrix_free(&mb);
		rt_matrix_free(&ma);
		rt_free(net);
		rt_free(before);
		est_free(after);
		if (!json)
			printf("\nestate after the %s written to %s\nverdict: %s\n",
			       rec_op_name(o.op), out, good ? "good" : "BAD");
	}
	if (json) {
		json_t *steps = json_array();
		for (uint32_t i = 0; i < r.nsteps; i++)
			json_array_append_new(
			    steps, json_pack("{s:s, s:s, s:s, s:I, s:I}", "step", r.steps[i].what,
			                     "state", rec_state_name(r.steps[i].state), "note",
			                     r.steps[i].note, "start", (json_int_t)r.steps[i].start,
			                     "end", (json_int_t)r.steps[i].end));
		cli_print_json(json_pack(
		    "{s:s, s:o, s:I, s:I, s:b, s:o, s:s?, s:b}", "operation", rec_op_name(o.op),
		    "steps", steps, "rto", (json_int_t)r.rto, "rpo", (json_int_t)r.rpo, "stopped",
		    r.stopped, "verdict", jv, "estate", r.estate ? out : NULL, "good", good));
	} else {
		json_decref(jv);
	}
	rc = good ? CLI_GOOD : CLI_BAD;
	rec_result_free(&r);
out_e:
	est_free(e);
	return rc;
}

int
cli_cmd_drill(int argc, char **argv)
{
	return run(argc, argv, REC_DRILL);
}

int
cli_cmd_failover(int argc, char **argv)
{
	return run(argc, argv, REC_FAILOVER);
}

int
cli_cmd_commit(int argc, char **argv)
{
	return run(argc, argv, REC_COMMIT);
}

int
cli_cmd_reprotect(int argc, char **argv)
{
	return run(argc, argv, REC_REPROTECT);
}

int
cli_cmd_failback(int argc, char **argv)
{
	return run(argc, argv, REC_FAILBACK);
}
