/*
 * test_state.c - the SQLite state of recovery jobs (src/state/st.c):
 * migrations (from empty, idempotent reopen, a newer schema refused, a
 * foreign file refused, the runner over several and a failing migration),
 * the job state machine (every pair of states, legal or not), steps and the
 * resume query, blobs (1 MB round trip, hash check, atomic with a step), and
 * a crash test: a child writing steps is SIGKILLed at random moments (fixed
 * seed) and resumed; after every kill the database passes integrity_check
 * and every step is not begun, running, or finished with its whole result.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "state/st.h"

#define HASH_A "0123456789abcdef"
#define HASH_B "fedcba9876543210"

/* ---- helpers ---------------------------------------------------------------- */

struct tmp {
	char dir[256];
	char db[300];
};

static void
tmp_make(struct tmp *t)
{
	const char *base = getenv("TMPDIR");
	snprintf(t->dir, sizeof(t->dir), "%s/st-test-XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->db, sizeof(t->db), "%s/state.db", t->dir);
}

static void
tmp_remove(struct tmp *t)
{
	DIR *d = opendir(t->dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char p[600];
		snprintf(p, sizeof(p), "%s/%s", t->dir, e->d_name);
		assert_int_equal(unlink(p), 0);
	}
	closedir(d);
	assert_int_equal(rmdir(t->dir), 0);
}

static struct st_db *
open_ok(const char *path)
{
	struct st_db *db = NULL;
	char err[512] = "";
	int rc = st_open(path, &db, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "st_open: %s\n", err);
	assert_int_equal(rc, 0);
	assert_non_null(db);
	return db;
}

/* Runs constant SQL on the file through a raw connection (what a user or
 * another version of strait might do). */
static void
raw_exec(const char *path, const char *sql)
{
	sqlite3 *h;
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	char *msg = NULL;
	int rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fprintf(stderr, "raw_exec: %s\n", msg);
	sqlite3_free(msg);
	assert_int_equal(rc, SQLITE_OK);
	sqlite3_close(h);
}

/* The first column of the first row of a constant query, as an integer. */
static int64_t
raw_int(const char *path, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static int64_t
make_job(struct st_db *db, const char *kind, const char *plan, const char *hash)
{
	struct st_job_spec spec = {
	    .kind = kind,
	    .plan = plan,
	    .estate_path = "estate.yaml",
	    .estate_hash = hash,
	    .options = "{\"point\": \"latest\", \"down\": [\"region:eastasia\"]}",
	    .sim_time = 100,
	};
	int64_t id = -1;
	int rc = st_job_create(db, &spec, &id);
	if (rc < 0)
		fprintf(stderr, "st_job_create: %s\n", st_errmsg(db));
	assert_int_equal(rc, 0);
	assert_true(id > 0);
	return id;
}

static void
finish(struct st_db *db, int64_t job, uint32_t idx, enum st_step_state state, const char *msg,
       const char *output, int64_t t)
{
	struct st_step_end end = {.state = state, .msg = msg, .output = output, .sim_time = t};
	int rc = st_step_finish(db, job, idx, &end);
	if (rc < 0)
		fprintf(stderr, "st_step_finish: %s\n", st_errmsg(db));
	assert_int_equal(rc, 0);
}

/* ---- migrations --------------------------------------------------------------- */

static void
test_migrate_empty(void **state)
{
	struct tmp t;
	tmp_make(&t);
	struct st_db *db = open_ok(t.db);
	int v = -1;
	assert_int_equal(st_schema_version(db, &v), 0);
	assert_int_equal(v, ST_SCHEMA_VERSION);
	assert_int_equal(st_check(db), 0);
	st_close(db);

	assert_int_equal(raw_int(t.db, "SELECT count(*) FROM schema_version"), ST_SCHEMA_VERSION);
	assert_int_equal(raw_int(t.db, "PRAGMA application_id"), ST_APP_ID);
	assert_int_equal(raw_int(t.db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' "
	                               "AND name IN ('jobs', 'steps', 'blobs')"),
	                 3);
	/* WAL is a property of the file: it stays after close. */
	assert_int_equal(raw_int(t.db, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);

	/* An in-memory database works too. */
	db = open_ok(":memory:");
	assert_int_equal(st_schema_version(db, &v), 0);
	assert_int_equal(v, ST_SCHEMA_VERSION);
	st_close(db);
	tmp_remove(&t);
}

static void
test_reopen(void **state)
{
	struct tmp t;
	tmp_make(&t);
	struct st_db *db = open_ok(t.db);
	int64_t id = make_job(db, "failover", "plan-a", HASH_A);
	st_close(db);

	for (int i = 0; i < 3; i++) {
		db = open_ok(t.db);
		struct lib_arena a;
		lib_arena_init(&a);
		struct st_job j;
		assert_int_equal(st_job_get(db, id, &a, &j), 0);
		assert_string_equal(j.plan, "plan-a");
		lib_arena_free(&a);
		st_close(db);
	}
	/* Reopening applied nothing twice. */
	assert_int_equal(raw_int(t.db, "SELECT count(*) FROM schema_version"), ST_SCHEMA_VERSION);
	assert_int_equal(raw_int(t.db, "SELECT count(*) FROM jobs"), 1);
	tmp_remove(&t);
}

static void
test_newer_refused(void **state)
{
	struct tmp t;
	tmp_make(&t);
	st_close(open_ok(t.db));
	raw_exec(t.db, "INSERT INTO schema_version (version, applied) VALUES (99, 0)");

	struct st_db *db = (struct st_db *)1;
	char err[512] = "";
	assert_int_equal(st_open(t.db, &db, err, sizeof(err)), -ENOTSUP);
	assert_null(db);
	assert_non_null(strstr(err, "schema version 99"));
	assert_non_null(strstr(err, "newer"));
	/* Nothing was changed by the refusal. */
	assert_int_equal(raw_int(t.db, "SELECT max(version) FROM schema_version"), 99);
	tmp_remove(&t);
}

static void
test_foreign_refused(void **state)
{
	struct tmp t;
	tmp_make(&t);
	char err[512] = "";
	struct st_db *db = NULL;

	/* Another application's SQLite file. */
	raw_exec(t.db, "CREATE TABLE photos (id INTEGER PRIMARY KEY, data BLOB)");
	assert_int_equal(st_open(t.db, &db, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a strait state database"));
	assert_int_equal(raw_int(t.db, "SELECT count(*) FROM sqlite_schema"), 1);
	unlink(t.db);
	char side[320];
	snprintf(side, sizeof(side), "%s-wal", t.db);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", t.db);
	unlink(side);

	/* A text file. */
	FILE *f = fopen(t.db, "w");
	assert_non_null(f);
	for (int i = 0; i < 100; i++)
		fputs("estate:\n  name: not a database\n", f);
	fclose(f);
	assert_int_equal(st_open(t.db, &db, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a database"));
	unlink(t.db);

	/* A directory that does not exist. */
	char missing[400];
	snprintf(missing, sizeof(missing), "%s/no/such/dir/state.db", t.dir);
	assert_true(st_open(missing, &db, err, sizeof(err)) < 0);
	assert_null(db);
	assert_non_null(strstr(err, "no/such/dir"));
	tmp_remove(&t);
}

static void
test_migration_runner(void **state)
{
	static const char *const migs[] = {
	    "CREATE TABLE a (x INTEGER);",
	    "CREATE TABLE b (x INTEGER); INSERT INTO a VALUES (1);",
	    "CREATE TABLE c (x INTEGER); INSERT INTO a VALUES (2);",
	    "CREATE TABLE d (x INTEGER); INSERT INTO nosuch VALUES (3);",
	};
	struct tmp t;
	tmp_make(&t);
	struct st_db *db = NULL;
	char err[512] = "";
	int v;

	assert_int_equal(st_open_schema(t.db, migs, 2, &db, err, sizeof(err)), 0);
	assert_int_equal(st_schema_version(db, &v), 0);
	assert_int_equal(v, 2);
	st_close(db);
	assert_int_equal(raw_int(t.db, "SELECT count(*) FROM a"), 1);

	/* A newer code applies only what is missing, in order. */
	assert_int_equal(st_open_schema(t.db, migs, 3, &db, err, sizeof(err)), 0);
	st_close(db);
	assert_int_equal(raw_int(t.db, "SELECT count(*) FROM schema_version"), 3);
	assert_int_equal(raw_int(t.db, "SELECT group_concat(x) = '1,2' FROM a"), 1);

	/* A failing migration is rolled back whole: no table d, version 3. */
	assert_int_equal(st_open_schema(t.db, migs, 4, &db, err, sizeof(err)), -EIO);
	assert_null(db);
	assert_non_null(strstr(err, "migration 4"));
	assert_non_null(strstr(err, "nosuch"));
	assert_int_equal(raw_int(t.db, "SELECT max(version) FROM schema_version"), 3);
	assert_int_equal(raw_int(t.db, "SELECT count(*) FROM sqlite_schema WHERE name = 'd'"), 0);

	/* Older code refuses the newer file. */
	assert_int_equal(st_open_schema(t.db, migs, 2, &db, err, sizeof(err)), -ENOTSUP);
	tmp_remove(&t);
}

/* ---- jobs ----------------------------------------------------------------------- */

static void
test_job_lifecycle(void **state)
{
	struct st_db *db = open_ok(":memory:");
	struct lib_arena a;
	lib_arena_init(&a);
	int64_t id = make_job(db, "failover", "plan-a", HASH_A), found = 0;

	struct st_job j;
	assert_int_equal(st_job_get(db, id, &a, &j), 0);
	assert_int_equal(j.id, id);
	assert_string_equal(j.kind, "failover");
	assert_string_equal(j.plan, "plan-a");
	assert_string_equal(j.estate_path, "estate.yaml");
	assert_string_equal(j.estate_hash, HASH_A);
	assert_non_null(strstr(j.options, "region:eastasia"));
	assert_int_equal(j.state, ST_JOB_RUNNING);
	assert_null(j.msg);
	assert_int_equal(j.sim_time, 100);
	assert_true(j.created > 0 && j.updated >= j.created);

	/* Resume lookup: same hash found; another hash refused; other plan none. */
	assert_int_equal(st_job_find_open(db, HASH_A, "plan-a", "failover", &found), 0);
	assert_int_equal(found, id);
	assert_int_equal(st_job_find_open(db, HASH_B, "plan-a", "failover", &found), -ESTALE);
	assert_non_null(strstr(st_errmsg(db), HASH_A));
	assert_non_null(strstr(st_errmsg(db), HASH_B));
	assert_int_equal(st_job_find_open(db, HASH_A, "plan-b", "failover", &found), -ENOENT);
	assert_int_equal(st_job_find_open(db, HASH_A, "plan-a", "drill", &found), -ENOENT);

	/* One open job per plan and kind. */
	struct st_job_spec dup = {"failover", "plan-a", "other.yaml", HASH_B, NULL, 0};
	int64_t id2 = 0;
	assert_int_equal(st_job_create(db, &dup, &id2), -EEXIST);
	assert_non_null(strstr(st_errmsg(db), "still open"));
	int64_t drill = make_job(db, "drill", "plan-a", HASH_A);
	assert_true(drill != id);

	/* A manual step: pause, then confirm; the job stays open throughout. */
	assert_int_equal(st_job_set_state(db, id, ST_JOB_PAUSED, "confirm step 3", 400), 0);
	assert_int_equal(st_job_get(db, id, &a, &j), 0);
	assert_int_equal(j.state, ST_JOB_PAUSED);
	assert_string_equal(j.msg, "confirm step 3");
	assert_int_equal(j.sim_time, 400);
	assert_int_equal(st_job_find_open(db, HASH_A, "plan-a", "failover", &found), 0);
	assert_int_equal(st_job_set_state(db, id, ST_JOB_RUNNING, NULL, 300), 0);
	assert_int_equal(st_job_get(db, id, &a, &j), 0);
	assert_int_equal(j.sim_time, 400); /* the clock never goes back */
	assert_null(j.msg);
	assert_int_equal(st_job_set_state(db, id, ST_JOB_SUCCEEDED, NULL, 900), 0);
	assert_int_equal(st_job_find_open(db, HASH_A, "plan-a", "failover", &found), -ENOENT);

	/* Finished: a new job of the same plan may start, even on another estate. */
	assert_int_equal(st_job_create(db, &dup, &id2), 0);
	assert_true(id2 > drill);

	struct st_job *jobs;
	size_t n;
	assert_int_equal(st_job_list(db, &a, &jobs, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(jobs[0].id, id);
	assert_int_equal(jobs[0].state, ST_JOB_SUCCEEDED);
	assert_string_equal(jobs[1].kind, "drill");
	assert_string_equal(jobs[2].estate_path, "other.yaml");
	assert_string_equal(jobs[2].options, "{}");

	/* Bad specs. */
	struct st_job_spec bad[] = {
	    {"failovr", "p", "e.yaml", HASH_A, NULL, 0},
	    {"failover", "", "e.yaml", HASH_A, NULL, 0},
	    {"failover", "p", NULL, HASH_A, NULL, 0},
	    {"failover", "p", "e.yaml", "e.yaml", NULL, 0},
	    {"failover", "p", "e.yaml", "0123456789ABCDEF", NULL, 0},
	    {"failover", "p", "e.yaml", HASH_A, "[1, 2]", 0},
	    {"failover", "p", "e.yaml", HASH_A, "{\"a\": ", 0},
	};
	for (size_t i = 0; i < LIB_ARRAY_LEN(bad); i++)
		assert_int_equal(st_job_create(db, &bad[i], &id2), -EINVAL);
	assert_int_equal(st_job_list(db, &a, &jobs, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(st_job_get(db, 9999, &a, &j), -ENOENT);
	assert_int_equal(st_job_set_state(db, 9999, ST_JOB_FAILED, NULL, 0), -ENOENT);

	lib_arena_free(&a);
	st_close(db);
}

/* Puts a new job in state s by legal moves. */
static int64_t
job_in_state(struct st_db *db, enum st_job_state s, const char *plan)
{
	int64_t id = make_job(db, "failover", plan, HASH_A);
	if (s == ST_JOB_RUNNING)
		return id;
	assert_int_equal(st_job_set_state(db, id, s, "setup", 0), 0);
	return id;
}

static void
test_transitions(void **state)
{
	/* The table of st.h, written out again: expected[from][to]. */
	static const bool expected[5][5] = {
	    /* to: running paused succeeded failed cancelled */
	    [ST_JOB_RUNNING] = {false, true, true, true, true},
	    [ST_JOB_PAUSED] = {true, false, false, false, true},
	    [ST_JOB_SUCCEEDED] = {false, false, false, false, false},
	    [ST_JOB_FAILED] = {false, false, false, false, false},
	    [ST_JOB_CANCELLED] = {false, false, false, false, false},
	};
	struct st_db *db = open_ok(":memory:");
	struct lib_arena a;
	lib_arena_init(&a);
	for (int from = 0; from < 5; from++) {
		for (int to = 0; to < 5; to++) {
			char plan[32];
			snprintf(plan, sizeof(plan), "p-%d-%d", from, to);
			assert_int_equal(st_job_transition_legal(from, to), expected[from][to]);
			int64_t id = job_in_state(db, from, plan);
			int rc = st_job_set_state(db, id, to, "move", 10);
			struct st_job j;
			assert_int_equal(st_job_get(db, id, &a, &j), 0);
			if (expected[from][to]) {
				assert_int_equal(rc, 0);
				assert_int_equal(j.state, to);
			} else {
				assert_int_equal(rc, -EINVAL);
				assert_non_null(strstr(st_errmsg(db), "no transition"));
				assert_int_equal(j.state, from); /* unchanged */
			}
		}
	}
	assert_int_equal(st_job_set_state(db, 1, (enum st_job_state)7, NULL, 0), -EINVAL);

	/* succeed needs every begun step finished. */
	int64_t id = make_job(db, "reprotect", "plan-s", HASH_A);
	assert_int_equal(st_step_begin(db, id, 0, "reverse replication", "reprotect", 0), 0);
	assert_int_equal(st_job_set_state(db, id, ST_JOB_SUCCEEDED, NULL, 60), -EINVAL);
	assert_non_null(strstr(st_errmsg(db), "still running"));
	finish(db, id, 0, ST_STEP_DONE, "ok", NULL, 60);
	assert_int_equal(st_job_set_state(db, id, ST_JOB_SUCCEEDED, NULL, 60), 0);

	/* Names round-trip. */
	for (int s = 0; s < 5; s++) {
		enum st_job_state js;
		enum st_step_state ss;
		assert_int_equal(st_job_state_parse(st_job_state_name(s), &js), 0);
		assert_int_equal(js, s);
		assert_int_equal(st_step_state_parse(st_step_state_name(s), &ss), 0);
		assert_int_equal(ss, s);
	}
	enum st_job_state js;
	assert_int_equal(st_job_state_parse("done", &js), -EINVAL);
	assert_true(st_kind_valid("failback"));
	assert_false(st_kind_valid("restore"));
	lib_arena_free(&a);
	st_close(db);
}

/* ---- steps ------------------------------------------------------------------------ */

static void
test_steps(void **state)
{
	struct st_db *db = open_ok(":memory:");
	struct lib_arena a;
	lib_arena_init(&a);
	int64_t id = make_job(db, "failover", "plan-a", HASH_A);

	assert_int_equal(st_step_begin(db, id, 0, "create gateway gw-sea", "create_gateway", 100),
	                 0);
	finish(db, id, 0, ST_STEP_DONE, "gateway gw-sea created", "{\"minutes\": 45}", 2800);
	assert_int_equal(st_step_begin(db, id, 1, "disconnect conn-hk", "disconnect", 2800), 0);
	finish(db, id, 1, ST_STEP_FAILED, "region eastasia is down", NULL, 2810);
	assert_int_equal(st_step_begin(db, id, 2, "group 1 failover", "failover_group", 2810), 0);
	assert_int_equal(st_step_begin(db, id, 3, "group 2 failover", "failover_group", 2810), 0);
	finish(db, id, 3, ST_STEP_SKIPPED, "no VMs", "[]", 2810);

	/* The resume query: finished steps only, in order. */
	struct st_step *s;
	size_t n;
	assert_int_equal(st_steps_get(db, id, true, &a, &s, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(s[0].idx, 0);
	assert_int_equal(s[0].state, ST_STEP_DONE);
	assert_string_equal(s[0].name, "create gateway gw-sea");
	assert_string_equal(s[0].kind, "create_gateway");
	assert_string_equal(s[0].msg, "gateway gw-sea created");
	assert_string_equal(s[0].output, "{\"minutes\": 45}");
	assert_int_equal(s[0].started, 100);
	assert_int_equal(s[0].finished, 2800);
	assert_int_equal(s[0].attempts, 1);
	assert_int_equal(s[1].state, ST_STEP_FAILED);
	assert_null(s[1].output);
	assert_int_equal(s[2].idx, 3);
	assert_int_equal(s[2].state, ST_STEP_SKIPPED);
	assert_int_equal(st_steps_get(db, id, false, &a, &s, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(s[2].state, ST_STEP_RUNNING);
	assert_int_equal(s[2].finished, -1);
	assert_null(s[2].msg);

	/* A finished step cannot run again; a running one can (after a crash). */
	assert_int_equal(st_step_begin(db, id, 0, "create gateway gw-sea", "create_gateway", 3000),
	                 -EALREADY);
	assert_int_equal(st_step_begin(db, id, 1, "disconnect conn-hk", "disconnect", 3000),
	                 -EALREADY);
	assert_int_equal(st_step_begin(db, id, 2, "group 1 failover", "failover_group", 2900), 0);
	struct st_step one;
	assert_int_equal(st_step_get(db, id, 2, &a, &one), 0);
	assert_int_equal(one.attempts, 2);
	assert_int_equal(one.started, 2900);
	/* ... under the same name: a resumed run with another plan is refused. */
	assert_int_equal(st_step_begin(db, id, 2, "group 1 boot", "failover_group", 2900), -ESTALE);

	/* Finishing: only a running step, only a final state, JSON output. */
	struct st_step_end end = {.state = ST_STEP_DONE, .msg = "ok", .sim_time = 3000};
	assert_int_equal(st_step_finish(db, id, 9, &end), -EINVAL); /* never begun */
	assert_int_equal(st_step_finish(db, id, 0, &end), -EALREADY);
	end.state = ST_STEP_RUNNING;
	assert_int_equal(st_step_finish(db, id, 2, &end), -EINVAL);
	end.state = ST_STEP_DONE;
	end.output = "{not json";
	assert_int_equal(st_step_finish(db, id, 2, &end), -EINVAL);
	end.output = NULL;
	end.msg = NULL;
	assert_int_equal(st_step_finish(db, id, 2, &end), -EINVAL);
	end.msg = "ok";
	end.sim_time = 10; /* before it started */
	assert_int_equal(st_step_finish(db, id, 2, &end), -EINVAL);
	assert_int_equal(st_step_get(db, id, 2, &a, &one), 0);
	assert_int_equal(one.state, ST_STEP_RUNNING);
	assert_int_equal(st_step_get(db, id, 7, &a, &one), -ENOENT);

	/* Steps move only while the job runs. */
	assert_int_equal(st_job_set_state(db, id, ST_JOB_PAUSED, "manual", 2950), 0);
	end.sim_time = 3000;
	assert_int_equal(st_step_finish(db, id, 2, &end), -EINVAL);
	assert_int_equal(st_step_begin(db, id, 4, "boot", "boot", 3000), -EINVAL);
	assert_non_null(strstr(st_errmsg(db), "paused"));
	assert_int_equal(st_job_set_state(db, id, ST_JOB_RUNNING, NULL, 2950), 0);
	assert_int_equal(st_step_finish(db, id, 2, &end), 0);

	struct st_job j;
	assert_int_equal(st_job_get(db, id, &a, &j), 0);
	assert_int_equal(j.sim_time, 3000);
	assert_int_equal(st_step_begin(db, 999, 0, "x", "y", 0), -ENOENT);
	assert_int_equal(st_steps_get(db, 999, true, &a, &s, &n), -ENOENT);
	assert_int_equal(st_step_begin(db, id, 5, "", "y", 0), -EINVAL);
	lib_arena_free(&a);
	st_close(db);
}

/* ---- blobs and transactions ---------------------------------------------------------- */

static void
test_blobs(void **state)
{
	struct tmp t;
	tmp_make(&t);
	struct st_db *db = open_ok(t.db);
	int64_t id = make_job(db, "failover", "plan-a", HASH_A);

	size_t big = 1u << 20;
	unsigned char *data = malloc(big);
	assert_non_null(data);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < big; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		data[i] = (unsigned char)x; /* NUL bytes included */
	}
	assert_int_equal(st_put_blob(db, id, "after/0", data, big), 0);
	st_close(db);
	db = open_ok(t.db);
	char *back = NULL;
	size_t n = 0;
	assert_int_equal(st_get_blob(db, id, "after/0", &back, &n), 0);
	assert_int_equal(n, big);
	assert_memory_equal(back, data, big);
	assert_int_equal(back[n], '\0');
	free(back);

	/* Replace; text; empty. */
	const char *doc = "{\"vnets\": [{\"name\": \"hub-sea\"}]}";
	assert_int_equal(st_put_blob(db, id, "after/0", doc, strlen(doc)), 0);
	assert_int_equal(st_get_blob(db, id, "after/0", &back, &n), 0);
	assert_string_equal(back, doc);
	free(back);
	assert_int_equal(st_put_blob(db, id, "empty", NULL, 0), 0);
	assert_int_equal(st_get_blob(db, id, "empty", &back, &n), 0);
	assert_int_equal(n, 0);
	assert_string_equal(back, "");
	free(back);
	assert_int_equal(st_get_blob(db, id, "missing", &back, &n), -ENOENT);
	assert_int_equal(st_put_blob(db, 777, "x", "y", 1), -ENOENT);
	assert_int_equal(st_put_blob(db, id, "", "y", 1), -EINVAL);

	/* A step's snapshot is stored with its finish, or not at all. */
	assert_int_equal(st_step_begin(db, id, 0, "connect", "connect", 0), 0);
	struct st_step_end end = {ST_STEP_DONE, "connected", NULL, 10, "after/1", doc, strlen(doc)};
	assert_int_equal(st_step_finish(db, id, 0, &end), 0);
	assert_int_equal(st_get_blob(db, id, "after/1", &back, &n), 0);
	free(back);
	end.blob_name = "after/2";
	assert_int_equal(st_step_finish(db, id, 0, &end), -EALREADY);
	assert_int_equal(st_get_blob(db, id, "after/2", &back, &n), -ENOENT);
	st_close(db);

	/* A damaged blob is detected. */
	raw_exec(t.db, "UPDATE blobs SET hash = hash + 1 WHERE name = 'after/1'");
	db = open_ok(t.db);
	assert_int_equal(st_get_blob(db, id, "after/1", &back, &n), -EBADMSG);
	st_close(db);
	free(data);
	tmp_remove(&t);
}

static void
test_tx(void **state)
{
	struct st_db *db = open_ok(":memory:");
	struct lib_arena a;
	lib_arena_init(&a);
	int64_t id = make_job(db, "failback", "plan-a", HASH_A);
	struct st_step one;

	assert_int_equal(st_tx_begin(db), 0);
	assert_int_equal(st_tx_begin(db), -EBUSY);
	assert_int_equal(st_step_begin(db, id, 0, "a", "k", 0), 0);
	/* A failing call inside rolls back only itself. */
	assert_int_equal(st_step_begin(db, id, 0, "b", "k", 0), -ESTALE);
	finish(db, id, 0, ST_STEP_DONE, "ok", NULL, 5);
	assert_int_equal(st_tx_rollback(db), 0);
	assert_int_equal(st_step_get(db, id, 0, &a, &one), -ENOENT);

	assert_int_equal(st_tx_begin(db), 0);
	assert_int_equal(st_step_begin(db, id, 0, "a", "k", 0), 0);
	finish(db, id, 0, ST_STEP_DONE, "ok", NULL, 5);
	assert_int_equal(st_put_blob(db, id, "after/0", "{}", 2), 0);
	assert_int_equal(st_tx_commit(db), 0);
	assert_int_equal(st_step_get(db, id, 0, &a, &one), 0);
	assert_int_equal(one.state, ST_STEP_DONE);
	assert_int_equal(st_tx_commit(db), -EINVAL);
	assert_int_equal(st_set_durable(db, false), 0);
	assert_int_equal(st_set_durable(db, true), 0);
	lib_arena_free(&a);
	st_close(db);
}

static void
test_hash(void **state)
{
	char h[ST_HASH_LEN], g[ST_HASH_LEN];
	st_hash_text("", 0, h);
	assert_string_equal(h, "2d06800538d394c2"); /* XXH3-64 of the empty input */
	st_hash_text("estate: a\n", 10, h);
	st_hash_text("estate: b\n", 10, g);
	assert_int_equal(strlen(h), 16);
	assert_string_not_equal(h, g);

	struct tmp t;
	tmp_make(&t);
	FILE *f = fopen(t.db, "w");
	assert_non_null(f);
	fputs("estate: a\n", f);
	fclose(f);
	assert_int_equal(st_hash_file(t.db, g), 0);
	assert_string_equal(h, g);
	unlink(t.db);
	assert_int_equal(st_hash_file(t.db, g), -ENOENT);
	tmp_remove(&t);
}

/* ---- crash test ------------------------------------------------------------------------ */

#define CRASH_STEPS  400
#define CRASH_TRIALS 10

static void
crash_blob(uint32_t i, char *buf, size_t cap, size_t *len)
{
	/* The estate after step i: a few KB of JSON that differs per step. */
	int n = snprintf(buf, cap, "{\"step\": %u, \"vms\": [", i);
	for (uint32_t k = 0; k < 40; k++)
		n += snprintf(buf + n, cap - (size_t)n,
		              "%s{\"name\": \"vm-%u-%u\", \"ip\": \"10.%u.%u.4\"}", k ? ", " : "",
		              i, k, i % 250, k);
	n += snprintf(buf + n, cap - (size_t)n, "]}");
	*len = (size_t)n;
}

/* The child: resume (or start) the job and run every unfinished step. Exit
 * codes: 0 all done, 2 open, 3 job, 4 begin, 5 finish, 6 state. */
static _Noreturn void
crash_child(const char *path)
{
	struct st_db *db;
	char err[512];
	if (st_open(path, &db, err, sizeof(err)) < 0) {
		fprintf(stderr, "child: %s\n", err);
		_exit(2);
	}
	int64_t id;
	int rc = st_job_find_open(db, HASH_A, "plan-a", "failover", &id);
	if (rc == -ENOENT) {
		struct st_job_spec spec = {"failover", "plan-a", "estate.yaml", HASH_A, NULL, 0};
		rc = st_job_create(db, &spec, &id);
	}
	if (rc < 0) {
		fprintf(stderr, "child: job: %s\n", st_errmsg(db));
		_exit(3);
	}
	struct lib_arena a;
	lib_arena_init(&a);
	struct st_step *done;
	size_t ndone;
	if (st_steps_get(db, id, true, &a, &done, &ndone) < 0)
		_exit(3);
	bool *skip = lib_xcalloc(CRASH_STEPS, 1);
	for (size_t k = 0; k < ndone; k++)
		skip[done[k].idx] = true;
	static char blob[8192];
	for (uint32_t i = 0; i < CRASH_STEPS; i++) {
		if (skip[i])
			continue;
		char name[32], msg[32], out[64];
		snprintf(name, sizeof(name), "step-%u", i);
		if (st_step_begin(db, id, i, name, "action", (int64_t)i * 60) < 0) {
			fprintf(stderr, "child: begin: %s\n", st_errmsg(db));
			_exit(4);
		}
		snprintf(msg, sizeof(msg), "result %u", i);
		snprintf(out, sizeof(out), "{\"i\": %u}", i);
		char bname[32];
		snprintf(bname, sizeof(bname), "after/%u", i);
		struct st_step_end end = {ST_STEP_DONE, msg,  out, (int64_t)i * 60 + 30,
		                          bname,        blob, 0};
		crash_blob(i, blob, sizeof(blob), &end.blob_len);
		if (st_step_finish(db, id, i, &end) < 0) {
			fprintf(stderr, "child: finish: %s\n", st_errmsg(db));
			_exit(5);
		}
	}
	if (st_job_set_state(db, id, ST_JOB_SUCCEEDED, NULL, CRASH_STEPS * 60) < 0)
		_exit(6);
	free(skip);
	lib_arena_free(&a);
	st_close(db);
	_exit(0);
}

struct crash_seen {
	enum st_step_state state;
	uint32_t attempts;
};

/* Checks the database after a kill; returns the number of finished steps and
 * whether the job exists and a step was left running. */
static uint32_t
crash_verify(const char *path, struct crash_seen *seen, uint32_t kills, bool *all_done,
             bool *has_job, bool *running)
{
	struct st_db *db = open_ok(path);
	assert_int_equal(st_check(db), 0);
	int v;
	assert_int_equal(st_schema_version(db, &v), 0);
	assert_int_equal(v, ST_SCHEMA_VERSION);

	struct lib_arena a;
	lib_arena_init(&a);
	struct st_job *jobs;
	size_t nj;
	assert_int_equal(st_job_list(db, &a, &jobs, &nj), 0);
	assert_true(nj <= 1);
	uint32_t nfinished = 0;
	*all_done = false;
	*has_job = nj == 1;
	*running = false;
	if (nj == 1) {
		struct st_step *s;
		size_t n;
		assert_int_equal(st_steps_get(db, jobs[0].id, false, &a, &s, &n), 0);
		int64_t clock = 0;
		uint64_t attempts = 0;
		static char want[8192];
		for (size_t k = 0; k < n; k++) {
			uint32_t i = s[k].idx;
			/* The child runs in order: steps 0..n-1, only the last may be running. */
			assert_int_equal(i, k);
			assert_true(s[k].state == ST_STEP_DONE ||
			            (s[k].state == ST_STEP_RUNNING && k == n - 1));
			char name[32];
			snprintf(name, sizeof(name), "step-%u", i);
			assert_string_equal(s[k].name, name);
			assert_int_equal(s[k].started, (int64_t)i * 60);
			attempts += s[k].attempts;
			char bname[32], *blob = NULL;
			size_t blen;
			snprintf(bname, sizeof(bname), "after/%u", i);
			int brc = st_get_blob(db, jobs[0].id, bname, &blob, &blen);
			if (s[k].state == ST_STEP_RUNNING) {
				/* Begun, not finished: nothing of the result exists. */
				assert_int_equal(s[k].finished, -1);
				assert_null(s[k].msg);
				assert_null(s[k].output);
				assert_int_equal(brc, -ENOENT);
				*running = true;
				clock = s[k].started > clock ? s[k].started : clock;
				continue;
			}
			/* Finished: the whole result, and the snapshot with it. */
			char msg[32], out[64];
			snprintf(msg, sizeof(msg), "result %u", i);
			snprintf(out, sizeof(out), "{\"i\": %u}", i);
			assert_int_equal(s[k].finished, (int64_t)i * 60 + 30);
			assert_string_equal(s[k].msg, msg);
			assert_string_equal(s[k].output, out);
			assert_int_equal(brc, 0);
			size_t wlen;
			crash_blob(i, want, sizeof(want), &wlen);
			assert_int_equal(blen, wlen);
			assert_memory_equal(blob, want, wlen);
			free(blob);
			clock = s[k].finished;
			nfinished++;
			/* Finished before: untouched since (not repeated). */
			if (seen[i].state == ST_STEP_DONE)
				assert_int_equal(s[k].attempts, seen[i].attempts);
			seen[i].state = ST_STEP_DONE;
			seen[i].attempts = s[k].attempts;
		}
		/* Every kill adds at most one repeated (interrupted) begin. */
		assert_true(attempts <= n + kills);
		/* The job's clock moved in the same transactions as its steps. */
		assert_int_equal(jobs[0].sim_time,
		                 jobs[0].state == ST_JOB_SUCCEEDED ? CRASH_STEPS * 60 : clock);
		*all_done = jobs[0].state == ST_JOB_SUCCEEDED;
		if (*all_done)
			assert_int_equal(nfinished, CRASH_STEPS);
		else
			assert_int_equal(jobs[0].state, ST_JOB_RUNNING);
	}
	lib_arena_free(&a);
	st_close(db);
	return nfinished;
}

static uint64_t
xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void
test_crash_resume(void **state)
{
	struct tmp t;
	tmp_make(&t);
	struct crash_seen *seen = calloc(CRASH_STEPS, sizeof(*seen));
	assert_non_null(seen);
	uint64_t seed = 0x5eed0004u;
	uint32_t kills = 0, prev = 0;
	bool all_done = false;
	for (int trial = 0; trial <= CRASH_TRIALS; trial++) {
		bool last = trial == CRASH_TRIALS; /* the final run is not killed */
		/* Mostly 0-40 ms; one in four within the first 2 ms (open, migration). */
		uint64_t r = xorshift(&seed);
		long us = (r & 3) == 0 ? (long)(r >> 8) % 2000 : (long)(r >> 8) % 40000;
		fflush(NULL);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			crash_child(t.db);
		int status;
		if (!last) {
			struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
			nanosleep(&ts, NULL);
			kill(pid, SIGKILL);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (WIFSIGNALED(status)) {
			assert_int_equal(WTERMSIG(status), SIGKILL);
			kills++;
		} else {
			/* A child that was not killed in time must have succeeded. */
			assert_true(WIFEXITED(status));
			assert_int_equal(WEXITSTATUS(status), 0);
		}
		bool has_job, running;
		uint32_t nf = crash_verify(t.db, seen, kills, &all_done, &has_job, &running);
		assert_true(nf >= prev);
		if (last)
			printf("# final run: %u of %u steps finished\n", nf, CRASH_STEPS);
		else
			printf("# trial %d: killed after %ld us: %s, %u of %u steps finished%s\n",
			       trial, us, has_job ? "job" : "no job yet", nf, CRASH_STEPS,
			       running ? ", one running" : "");
		prev = nf;
	}
	assert_true(all_done);
	assert_true(kills >= 1);
	free(seen);
	tmp_remove(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_migrate_empty),
	    cmocka_unit_test(test_reopen),
	    cmocka_unit_test(test_newer_refused),
	    cmocka_unit_test(test_foreign_refused),
	    cmocka_unit_test(test_migration_runner),
	    cmocka_unit_test(test_job_lifecycle),
	    cmocka_unit_test(test_transitions),
	    cmocka_unit_test(test_steps),
	    cmocka_unit_test(test_blobs),
	    cmocka_unit_test(test_tx),
	    cmocka_unit_test(test_hash),
	    cmocka_unit_test(test_crash_resume),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
