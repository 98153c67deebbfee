/*
 * st.h - strait's persistent state: recovery jobs, their steps and estate
 * snapshots in one SQLite database, so that a run killed at any step
 * resumes without repeating the steps it finished (issue 4, item 4).
 *
 * A *job* is one run of a recovery operation (drill, failover, commit,
 * reprotect, failback, cleanup) of one recovery plan against one estate file.
 * The job records the file's path and the XXH3 hash of its text: a run can
 * only resume a job whose estate has the same hash (st_job_find_open refuses
 * another with -ESTALE), since finished steps were computed from that text.
 *
 * A job's *steps* are numbered 0..n-1 in run order. st_step_begin marks one
 * running and st_step_finish marks it done, failed or skipped; each is one
 * transaction, so after a crash a step is either not begun, running (begun
 * and not finished: the run died inside it, and a resumed run begins it
 * again) or finished with its whole result. A finished step cannot be begun
 * again (-EALREADY): that is how a resumed run cannot repeat it.
 * st_step_finish can store an estate snapshot in the same transaction, so
 * the snapshot "after step i" exists exactly when step i is finished.
 *
 * The job state machine. States are stored in the jobs table; an event is a
 * call of st_job_set_state with the target state. Every other pair is
 * illegal and st_job_set_state returns -EINVAL.
 *
 *                    st_job_create
 *                          |
 *                          v           pause
 *                     +---------+  ------------->  +--------+
 *                     | running |                  | paused |
 *                     +---------+  <-------------  +--------+
 *                      |   |   |       confirm         |
 *              succeed |   |   | cancel                | cancel
 *                      v   |   v                       |
 *              succeeded   |   cancelled  <------------+
 *                     fail |
 *                          v
 *                        failed
 *
 *     state \ event | pause   confirm  succeed    fail    cancel
 *     --------------+--------------------------------------------
 *     running       | paused  -        succeeded  failed  cancelled
 *     paused        | -       running  -          -       cancelled
 *     succeeded     | -       -        -          -       -
 *     failed        | -       -        -          -       -
 *     cancelled     | -       -        -          -       -
 *
 * running and paused are *open*: st_job_find_open returns such a job to
 * resume, and at most one open job exists per (plan, kind) (st_job_create
 * returns -EEXIST otherwise; a unique index enforces it across processes).
 * succeeded, failed and cancelled are final. succeed also requires that no
 * step is still running. Steps begin and finish only while the job is
 * running. A crash leaves the job running (or paused): resuming is finding
 * it and carrying on.
 *
 * Times: created/updated are wall-clock Unix seconds; sim_time, started and
 * finished are the simulated clock in seconds. A job's sim_time is the
 * latest simulated time any of its updates carried (max, never backwards).
 *
 * One database serves one estate lineage (the estate, then the estate after
 * failover, and so on); plan names are its keys. Concurrent processes are
 * safe (WAL, busy timeout, BEGIN IMMEDIATE) but two runs resuming the same
 * job at once are not arbitrated.
 *
 * Errors: every function returns 0 or a negative errno and leaves a message
 * (SQLite's own, when SQLite failed) for st_errmsg(). st_open takes an error
 * buffer since there is no handle yet. Every statement is prepared with bound
 * parameters; only the constant migration texts are executed as SQL text.
 * Query results are allocated from a caller's arena.
 */
#ifndef STRAIT_ST_H
#define STRAIT_ST_H

#include "../lib/lib.h"

/* Version of the newest migration this code knows. */
#define ST_SCHEMA_VERSION 1
/* 'STRT': the database header's application_id, so a foreign SQLite file is refused. */
#define ST_APP_ID 0x53545254
/* Length of an estate hash (16 hex digits) plus the NUL. */
#define ST_HASH_LEN 17

struct st_db;

enum st_job_state {
	ST_JOB_RUNNING,
	ST_JOB_PAUSED,
	ST_JOB_SUCCEEDED,
	ST_JOB_FAILED,
	ST_JOB_CANCELLED,
};

enum st_step_state {
	ST_STEP_PENDING, /* never stored: a step not begun has no row */
	ST_STEP_RUNNING,
	ST_STEP_DONE,
	ST_STEP_FAILED,
	ST_STEP_SKIPPED,
};

struct st_job_spec {
	const char *kind;        /* drill, failover, commit, reprotect, failback, cleanup */
	const char *plan;        /* recovery plan name */
	const char *estate_path; /* the estate file the run read */
	const char *estate_hash; /* st_hash_text of its text */
	const char *options;     /* JSON object as text (the run's options); NULL for {} */
	int64_t sim_time;        /* simulated clock at the start, seconds */
};

struct st_job {
	int64_t id;
	const char *kind, *plan, *estate_path, *estate_hash, *options;
	enum st_job_state state;
	const char *msg;          /* why the job is paused, failed or cancelled; NULL when none */
	int64_t created, updated; /* wall clock, Unix seconds */
	int64_t sim_time;
};

struct st_step {
	uint32_t idx;
	const char *name, *kind;
	enum st_step_state state;
	uint32_t attempts;  /* times begun: more than 1 when a run died inside it */
	int64_t started;    /* simulated seconds */
	int64_t finished;   /* simulated seconds; -1 while running */
	const char *msg;    /* result message; NULL while running */
	const char *output; /* JSON text; NULL while running or when none */
};

/* How a step ended, for st_step_finish. */
struct st_step_end {
	enum st_step_state state; /* done, failed or skipped */
	const char *msg;          /* result message (required) */
	const char *output;       /* JSON text, or NULL */
	int64_t sim_time;         /* simulated clock at the end */
	/* Optional: a blob stored under blob_name in the same transaction. */
	const char *blob_name;
	const void *blob;
	size_t blob_len;
};

/* ---- database ---------------------------------------------------------- */

/* Opens or creates the database at path (":memory:" works), in WAL mode with
 * foreign keys and a busy timeout, and applies the missing migrations, each
 * in one transaction. A database whose schema is newer than ST_SCHEMA_VERSION
 * is refused with -ENOTSUP, a SQLite file of another application with
 * -EINVAL; err receives the reason. */
int st_open(const char *path, struct st_db **out, char *err, size_t errlen);
/* st_open with another ordered migration list (migrations[i] takes the schema
 * from version i to i+1). The tests use it to exercise the runner. */
int st_open_schema(const char *path, const char *const *migrations, size_t n, struct st_db **out,
                   char *err, size_t errlen);
void st_close(struct st_db *db);
/* The message of the last failed call on db. */
const char *st_errmsg(const struct st_db *db);
/* The schema version stored in the database. */
int st_schema_version(struct st_db *db, int *version);
/* full (default): every commit is fsynced (synchronous=FULL). Otherwise
 * commits survive a killed process but the last ones may be lost to a power
 * cut (synchronous=NORMAL, still never corrupt in WAL mode). */
int st_set_durable(struct st_db *db, bool full);
/* PRAGMA integrity_check: 0 when "ok", -EBADMSG with the first problem. */
int st_check(struct st_db *db);

/* Several calls as one transaction (they nest as savepoints inside it). */
int st_tx_begin(struct st_db *db);
int st_tx_commit(struct st_db *db);
int st_tx_rollback(struct st_db *db);

/* ---- names and hashes --------------------------------------------------- */

const char *st_job_state_name(enum st_job_state s);
int st_job_state_parse(const char *s, enum st_job_state *out);
const char *st_step_state_name(enum st_step_state s);
int st_step_state_parse(const char *s, enum st_step_state *out);
bool st_kind_valid(const char *kind);
/* Whether from -> to is an edge of the state machine above. */
bool st_job_transition_legal(enum st_job_state from, enum st_job_state to);
static inline bool
st_job_open(enum st_job_state s)
{
	return s == ST_JOB_RUNNING || s == ST_JOB_PAUSED;
}
static inline bool
st_step_finished(enum st_step_state s)
{
	return s == ST_STEP_DONE || s == ST_STEP_FAILED || s == ST_STEP_SKIPPED;
}

/* XXH3-64 of the text (lib_hash) as 16 lower-case hex digits. */
void st_hash_text(const void *data, size_t n, char out[ST_HASH_LEN]);
int st_hash_file(const char *path, char out[ST_HASH_LEN]);

/* ---- jobs ---------------------------------------------------------------- */

/* Creates a running job. -EINVAL for a bad spec (unknown kind, options not a
 * JSON object), -EEXIST when an open job of the same plan and kind exists. */
int st_job_create(struct st_db *db, const struct st_job_spec *spec, int64_t *job_id);
/* The open job of plan and kind to resume: 0 and its id when its estate hash
 * equals estate_hash; -ESTALE when the open job was started on an estate with
 * another hash (resuming it against this estate is refused); -ENOENT when
 * there is none. */
int st_job_find_open(struct st_db *db, const char *estate_hash, const char *plan, const char *kind,
                     int64_t *job_id);
/* -ENOENT when there is no such job. Strings are allocated from a. */
int st_job_get(struct st_db *db, int64_t job_id, struct lib_arena *a, struct st_job *out);
/* Moves the job along one edge of the state machine; -EINVAL for any other.
 * msg (may be NULL) says why; sim_time advances the job's clock. */
int st_job_set_state(struct st_db *db, int64_t job_id, enum st_job_state to, const char *msg,
                     int64_t sim_time);
/* Every job, oldest first; *jobs is allocated from a. */
int st_job_list(struct st_db *db, struct lib_arena *a, struct st_job **jobs, size_t *n);

/* ---- steps --------------------------------------------------------------- */

/* Marks step idx running (inserting it, or again after a crash inside it).
 * name and kind describe it (a resumed run must name it the same: -ESTALE
 * otherwise). -EALREADY when it is finished, -EINVAL when the job is not
 * running, -ENOENT when there is no such job. */
int st_step_begin(struct st_db *db, int64_t job_id, uint32_t idx, const char *name,
                  const char *kind, int64_t sim_time);
/* Finishes running step idx as end says, with its optional blob, in one
 * transaction. -EINVAL when the step is not running or the job not running,
 * or end->state is not a final state, or end->output is not JSON. */
int st_step_finish(struct st_db *db, int64_t job_id, uint32_t idx, const struct st_step_end *end);
/* One step; -ENOENT when it was never begun. */
int st_step_get(struct st_db *db, int64_t job_id, uint32_t idx, struct lib_arena *a,
                struct st_step *out);
/* The job's steps in index order: every begun step, or only the finished
 * ones (what a resumed run skips). */
int st_steps_get(struct st_db *db, int64_t job_id, bool finished_only, struct lib_arena *a,
                 struct st_step **steps, size_t *n);

/* ---- blobs: estate snapshots and other documents of a job ---------------- */

/* Stores (or replaces) a document of the job under name, in one transaction. */
int st_put_blob(struct st_db *db, int64_t job_id, const char *name, const void *data, size_t len);
/* A heap copy (free()) with a NUL after the len bytes, so text can be used as
 * a string. -ENOENT when absent, -EBADMSG when its stored hash disagrees. */
int st_get_blob(struct st_db *db, int64_t job_id, const char *name, char **data, size_t *len);

#endif
