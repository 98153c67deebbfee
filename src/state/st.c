/*
 * st.c - strait's persistent state in SQLite: opening and migrating the
 * database, jobs and their state machine, steps, blobs (see st.h for the
 * model and the state diagram).
 *
 * Invariants:
 * - Every public call that writes is one transaction (BEGIN IMMEDIATE, or a
 *   savepoint inside a caller's st_tx_begin), so a killed process leaves the
 *   state before or after the call, never between. st_step_finish writes the
 *   step, its optional snapshot blob and the job's clock together.
 * - Every statement is prepared with bound parameters (bind() below takes a
 *   type string). The only SQL executed as text is constant: the migrations
 *   and transaction control.
 * - The schema is an ordered array of migrations; schema_version holds one
 *   row per applied migration, each applied in its own transaction together
 *   with its row, so an interrupted migration leaves the previous version.
 *   The header's application_id marks the file as strait's.
 * - The tables are STRICT and carry CHECK constraints mirroring the C
 *   validation (states, kinds, a running step has no result), so even a buggy
 *   caller cannot store a row the state machine cannot read back. JSON is
 *   checked in C (jansson) only: SQLite refuses json_valid() in a CHECK when
 *   the schema is not trusted, which a build may make the default.
 *
 * Sources: SQLite documentation on WAL (commits are atomic and survive a
 * killed process; synchronous=FULL makes them durable across power loss),
 * BEGIN IMMEDIATE (takes the write lock up front, so a read-then-write
 * transaction cannot fail half-way with SQLITE_BUSY_SNAPSHOT), STRICT tables
 * (3.37); Debian 12 ships 3.40.
 */
#include "st.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Prepared statements are cached by the address of their (constant) SQL
 * text; a statement in use when the same text is needed again is not shared. */
#define ST_CACHE 48

struct st_cached {
	const char *sql;
	sqlite3_stmt *st;
	bool busy;
};

struct st_db {
	sqlite3 *h;
	bool user_tx; /* inside st_tx_begin */
	char err[512];
	struct st_cached cache[ST_CACHE];
};

/* ---- names -------------------------------------------------------------- */

static const char *const job_state_names[] = {"running", "paused", "succeeded", "failed",
                                              "cancelled"};
static const char *const step_state_names[] = {"pending", "running", "done", "failed", "skipped"};
static const char *const kind_names[] = {"drill",     "failover", "commit",
                                         "reprotect", "failback", "cleanup"};

/* The edges of the job state machine (st.h): legal[from] is a mask of targets. */
#define ST_BIT(s) (1u << (s))
static const unsigned legal_to[] = {
    [ST_JOB_RUNNING] = ST_BIT(ST_JOB_PAUSED) | ST_BIT(ST_JOB_SUCCEEDED) | ST_BIT(ST_JOB_FAILED) |
                       ST_BIT(ST_JOB_CANCELLED),
    [ST_JOB_PAUSED] = ST_BIT(ST_JOB_RUNNING) | ST_BIT(ST_JOB_CANCELLED),
    [ST_JOB_SUCCEEDED] = 0,
    [ST_JOB_FAILED] = 0,
    [ST_JOB_CANCELLED] = 0,
};

/* The index of s in names[n], or -EINVAL. */
static int
name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

const char *
st_job_state_name(enum st_job_state s)
{
	return (unsigned)s < LIB_ARRAY_LEN(job_state_names) ? job_state_names[s] : "?";
}

int
st_job_state_parse(const char *s, enum st_job_state *out)
{
	int i = name_index(job_state_names, LIB_ARRAY_LEN(job_state_names), s);
	if (i < 0)
		return i;
	*out = (enum st_job_state)i;
	return 0;
}

const char *
st_step_state_name(enum st_step_state s)
{
	return (unsigned)s < LIB_ARRAY_LEN(step_state_names) ? step_state_names[s] : "?";
}

int
st_step_state_parse(const char *s, enum st_step_state *out)
{
	int i = name_index(step_state_names, LIB_ARRAY_LEN(step_state_names), s);
	if (i < 0)
		return i;
	*out = (enum st_step_state)i;
	return 0;
}

bool
st_kind_valid(const char *kind)
{
	for (size_t i = 0; kind && i < LIB_ARRAY_LEN(kind_names); i++)
		if (strcmp(kind, kind_names[i]) == 0)
			return true;
	return false;
}

bool
st_job_transition_legal(enum st_job_state from, enum st_job_state to)
{
	if ((unsigned)from >= LIB_ARRAY_LEN(legal_to) || (unsigned)to >= LIB_ARRAY_LEN(legal_to))
		return false;
	return (legal_to[from] & ST_BIT(to)) != 0;
}

void
st_hash_text(const void *data, size_t n, char out[ST_HASH_LEN])
{
	snprintf(out, ST_HASH_LEN, "%016" PRIx64, lib_hash(data, n));
}

int
st_hash_file(const char *path, char out[ST_HASH_LEN])
{
	char *data;
	size_t n;
	int rc = lib_read_file(path, &data, &n);
	if (rc < 0)
		return rc;
	st_hash_text(data, n, out);
	free(data);
	return 0;
}

static bool
hash_valid(const char *h)
{
	if (!h || strlen(h) != ST_HASH_LEN - 1)
		return false;
	for (const char *p = h; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* ---- errors --------------------------------------------------------------- */

static int
map_rc(sqlite3 *h, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_CANTOPEN: {
		int e = h ? sqlite3_system_errno(h) : 0;
		return e > 0 ? -e : -ENOENT;
	}
	case SQLITE_CORRUPT:
		return -EBADMSG;
	case SQLITE_NOTADB:
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
		return -EINVAL;
	case SQLITE_TOOBIG:
		return -EFBIG;
	case SQLITE_INTERRUPT:
		return -EINTR;
	default:
		return -EIO;
	}
}

static int LIB_PRINTF(3, 4) fail(struct st_db *db, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(db->err, sizeof(db->err), fmt, ap);
	va_end(ap);
	return rc;
}

/* SQLite failed with rc while doing what: the message names both. */
static int
sqlfail(struct st_db *db, int rc, const char *what)
{
	return fail(db, map_rc(db->h, rc), "%s: %s", what, sqlite3_errmsg(db->h));
}

const char *
st_errmsg(const struct st_db *db)
{
	return db ? db->err : "no database";
}

/* ---- statements ------------------------------------------------------------ */

/* A prepared statement for the constant text sql, from the cache when free. */
static int
cached(struct st_db *db, const char *sql, sqlite3_stmt **out)
{
	struct st_cached *slot = NULL;
	for (size_t i = 0; i < ST_CACHE; i++) {
		struct st_cached *c = &db->cache[i];
		if (c->sql == sql && !c->busy) {
			c->busy = true;
			*out = c->st;
			return 0;
		}
		if (!c->sql && !slot)
			slot = c;
	}
	int rc =
	    sqlite3_prepare_v3(db->h, sql, -1, slot ? SQLITE_PREPARE_PERSISTENT : 0, out, NULL);
	if (rc != SQLITE_OK)
		return sqlfail(db, rc, "prepare");
	if (slot)
		*slot = (struct st_cached){sql, *out, true};
	return 0;
}

/* Gives a statement back: reset into the cache, or finalized. */
static void
done(struct st_db *db, sqlite3_stmt *st)
{
	for (size_t i = 0; i < ST_CACHE; i++) {
		struct st_cached *c = &db->cache[i];
		if (c->st == st && c->busy) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			c->busy = false;
			return;
		}
	}
	sqlite3_finalize(st);
}

/*
 * Prepares sql and binds one argument per character of types:
 *   't' const char * (NULL binds NULL), 'i' int64_t, 'u' uint32_t,
 *   'b' const void *, size_t (a blob; static: it must outlive the statement).
 */
static int
vprep(struct st_db *db, sqlite3_stmt **out, const char *sql, const char *types, va_list ap)
{
	sqlite3_stmt *st = NULL;
	int rc = cached(db, sql, &st);
	if (rc < 0)
		return rc;
	for (int i = 1; types[i - 1] && rc == SQLITE_OK; i++) {
		switch (types[i - 1]) {
		case 't':
			rc = sqlite3_bind_text(st, i, va_arg(ap, const char *), -1, SQLITE_STATIC);
			break;
		case 'i':
			rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 'u':
			rc = sqlite3_bind_int64(st, i, (int64_t)va_arg(ap, uint32_t));
			break;
		case 'b': {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);
			/* A NULL pointer would bind SQL NULL; an empty blob is a zeroblob. */
			rc = n ? sqlite3_bind_blob64(st, i, p, n, SQLITE_STATIC)
			       : sqlite3_bind_zeroblob(st, i, 0);
			break;
		}
		default:
			rc = SQLITE_MISUSE;
		}
	}
	if (rc != SQLITE_OK) {
		rc = sqlfail(db, rc, "bind");
		done(db, st);
		return rc;
	}
	*out = st;
	return 0;
}

static int
prep(struct st_db *db, sqlite3_stmt **out, const char *sql, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	int rc = vprep(db, out, sql, types, ap);
	va_end(ap);
	return rc;
}

/* Steps st once: 1 with a row, 0 when done, or a negative errno. */
static int
row(struct st_db *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return sqlfail(db, rc, "step");
}

/* A statement that returns no rows, run once. */
static int
run(struct st_db *db, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	va_start(ap, types);
	int rc = vprep(db, &st, sql, types, ap);
	va_end(ap);
	if (rc < 0)
		return rc;
	rc = row(db, st);
	done(db, st);
	return rc < 0 ? rc : 0;
}

/* Constant SQL only (transaction control, migrations). */
static int
exec(struct st_db *db, const char *sql, const char *what)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		return 0;
	int e = fail(db, map_rc(db->h, rc), "%s: %s", what, msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return e;
}

static const char *
col_text(sqlite3_stmt *st, int i, struct lib_arena *a)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? lib_arena_strdup(a, (const char *)s) : NULL;
}

/* ---- transactions ------------------------------------------------------------ */

/* Opens the transaction of one call: its own BEGIN IMMEDIATE, or a savepoint
 * inside the caller's transaction. */
static int
op_begin(struct st_db *db, bool *nested)
{
	*nested = !sqlite3_get_autocommit(db->h);
	return exec(db, *nested ? "SAVEPOINT st_op" : "BEGIN IMMEDIATE", "begin");
}

/* Commits the call's transaction when rc is 0, otherwise rolls it back and
 * keeps the message of the failure. Returns the outcome. */
static int
op_end(struct st_db *db, bool nested, int rc)
{
	if (rc == 0) {
		rc = exec(db, nested ? "RELEASE st_op" : "COMMIT", "commit");
		if (rc == 0)
			return 0;
	}
	char keep[sizeof(db->err)];
	memcpy(keep, db->err, sizeof(keep));
	/* SQLite may have rolled back already (after I/O errors); that is fine. */
	if (!sqlite3_get_autocommit(db->h))
		exec(db, nested ? "ROLLBACK TO st_op; RELEASE st_op" : "ROLLBACK", "rollback");
	memcpy(db->err, keep, sizeof(keep));
	return rc;
}

int
st_tx_begin(struct st_db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		return fail(db, -EBUSY, "a transaction is already open");
	int rc = exec(db, "BEGIN IMMEDIATE", "begin");
	db->user_tx = rc == 0;
	return rc;
}

int
st_tx_commit(struct st_db *db)
{
	if (!db->user_tx)
		return fail(db, -EINVAL, "no transaction is open");
	db->user_tx = false;
	return op_end(db, false, 0);
}

int
st_tx_rollback(struct st_db *db)
{
	if (!db->user_tx)
		return fail(db, -EINVAL, "no transaction is open");
	db->user_tx = false;
	if (!sqlite3_get_autocommit(db->h))
		return exec(db, "ROLLBACK", "rollback");
	return 0;
}

/* ---- schema ---------------------------------------------------------------- */

/* migrations[i] takes the schema from version i to i + 1. Never edit a
 * released entry: append a new one (and raise ST_SCHEMA_VERSION). */
static const char *const migrations[] = {
    /* 1: jobs, steps, blobs. */
    "CREATE TABLE jobs ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('drill', 'failover', 'commit', 'reprotect',"
    "                                     'failback', 'cleanup')),"
    "  plan TEXT NOT NULL CHECK (plan <> ''),"
    "  estate_path TEXT NOT NULL,"
    "  estate_hash TEXT NOT NULL,"
    "  options TEXT NOT NULL DEFAULT '{}',"
    "  state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'succeeded', 'failed',"
    "                                       'cancelled')),"
    "  msg TEXT,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL,"
    "  sim_time INTEGER NOT NULL"
    ") STRICT;"
    "CREATE UNIQUE INDEX jobs_open ON jobs (plan, kind) WHERE state IN ('running', 'paused');"
    "CREATE TABLE steps ("
    "  job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,"
    "  idx INTEGER NOT NULL CHECK (idx >= 0),"
    "  name TEXT NOT NULL CHECK (name <> ''),"
    "  kind TEXT NOT NULL CHECK (kind <> ''),"
    "  state TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed', 'skipped')),"
    "  attempts INTEGER NOT NULL DEFAULT 1,"
    "  started INTEGER NOT NULL,"
    "  finished INTEGER,"
    "  msg TEXT,"
    "  output TEXT,"
    "  CHECK ((state = 'running') = (finished IS NULL AND msg IS NULL AND output IS NULL)),"
    "  PRIMARY KEY (job_id, idx)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TABLE blobs ("
    "  job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL CHECK (name <> ''),"
    "  data BLOB NOT NULL,"
    "  hash INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL,"
    "  PRIMARY KEY (job_id, name)"
    ") STRICT;",
};
_Static_assert(LIB_ARRAY_LEN(migrations) == ST_SCHEMA_VERSION,
               "ST_SCHEMA_VERSION must equal the number of migrations");

/* The stored schema version: 0 for an empty database, -EINVAL for a file
 * that is not strait's. */
static int
read_version(struct st_db *db, int *version)
{
	sqlite3_stmt *st;
	int rc = prep(db, &st, "PRAGMA application_id", "");
	if (rc < 0)
		return rc;
	rc = row(db, st);
	int64_t app = rc == 1 ? sqlite3_column_int64(st, 0) : 0;
	done(db, st);
	if (rc < 0)
		return rc;
	if (app != ST_APP_ID) {
		rc = prep(db, &st, "SELECT count(*) FROM sqlite_schema", "");
		if (rc < 0)
			return rc;
		rc = row(db, st);
		int64_t nobj = rc == 1 ? sqlite3_column_int64(st, 0) : 0;
		done(db, st);
		if (rc < 0)
			return rc;
		if (app != 0 || nobj != 0)
			return fail(db, -EINVAL,
			            "not a strait state database (application_id %#" PRIx64
			            ", %" PRId64 " schema objects)",
			            app, nobj);
		*version = 0;
		return 0;
	}
	rc = prep(db, &st, "SELECT coalesce(max(version), 0) FROM schema_version", "");
	if (rc < 0)
		return rc;
	rc = row(db, st);
	*version = rc == 1 ? sqlite3_column_int(st, 0) : 0;
	done(db, st);
	return rc < 0 ? rc : 0;
}

static int
refuse_newer(struct st_db *db, int version, size_t n)
{
	return fail(db, -ENOTSUP,
	            "the database has schema version %d, newer than this strait knows (%zu): "
	            "use a newer strait",
	            version, n);
}

/* Applies migrations[version..n-1], each in one transaction with its row in
 * schema_version. Another process may migrate concurrently: the version is
 * read again under the write lock. */
static int
migrate(struct st_db *db, const char *const *migs, size_t n)
{
	for (;;) {
		int v;
		int rc = read_version(db, &v);
		if (rc < 0)
			return rc;
		if ((size_t)v > n)
			return refuse_newer(db, v, n);
		if ((size_t)v == n)
			return 0;
		bool nested;
		if ((rc = op_begin(db, &nested)) < 0)
			return rc;
		rc = read_version(db, &v);
		if (rc == 0 && (size_t)v < n) {
			if (v == 0) {
				rc = exec(db,
				          "CREATE TABLE schema_version ("
				          "  version INTEGER PRIMARY KEY,"
				          "  applied INTEGER NOT NULL"
				          ") STRICT;"
				          "PRAGMA application_id = 1398035028;",
				          "schema_version");
			}
			if (rc == 0 && (rc = exec(db, migs[v], "migration")) < 0) {
				char keep[sizeof(db->err)];
				memcpy(keep, db->err, sizeof(keep));
				rc = fail(db, rc, "migration %d: %s", v + 1, keep);
			}
			if (rc == 0)
				rc = run(
				    db,
				    "INSERT INTO schema_version (version, applied) VALUES (?, ?)",
				    "ii", (int64_t)v + 1, (int64_t)time(NULL));
		}
		if ((rc = op_end(db, nested, rc)) < 0)
			return rc;
	}
}
_Static_assert(ST_APP_ID == 1398035028, "the application_id in migrate() must be ST_APP_ID");

int
st_schema_version(struct st_db *db, int *version)
{
	return read_version(db, version);
}

/* ---- open and close -------------------------------------------------------- */

static int
configure(struct st_db *db)
{
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_ENABLE_FKEY, 1, NULL);
	sqlite3_busy_timeout(db->h, 10000);

	sqlite3_stmt *st;
	int rc = prep(db, &st, "PRAGMA journal_mode = WAL", "");
	if (rc < 0)
		return rc;
	rc = row(db, st);
	char mode[16] = "";
	if (rc == 1 && sqlite3_column_text(st, 0))
		snprintf(mode, sizeof(mode), "%s", (const char *)sqlite3_column_text(st, 0));
	done(db, st);
	if (rc < 0)
		return rc;
	/* An in-memory database reports "memory"; anything else would lose the
	 * atomicity WAL gives a killed process. */
	if (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0)
		return fail(db, -ENOTSUP, "cannot use WAL mode (journal mode is '%s')", mode);
	if ((rc = exec(db, "PRAGMA synchronous = FULL", "synchronous")) < 0)
		return rc;
	return exec(db, "PRAGMA foreign_keys = ON", "foreign_keys");
}

int
st_open_schema(const char *path, const char *const *migs, size_t n, struct st_db **out, char *err,
               size_t errlen)
{
	*out = NULL;
	struct st_db *db = lib_xcalloc(1, sizeof(*db));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXRESCODE;
	int rc = sqlite3_open_v2(path, &db->h, flags, NULL);
	if (rc != SQLITE_OK) {
		if (!db->h)
			rc = fail(db, -ENOMEM, "out of memory");
		else
			rc = sqlfail(db, rc, "open");
	} else {
		rc = configure(db);
		if (rc == 0)
			rc = migrate(db, migs, n);
	}
	if (rc < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, db->err);
		st_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

int
st_open(const char *path, struct st_db **out, char *err, size_t errlen)
{
	return st_open_schema(path, migrations, LIB_ARRAY_LEN(migrations), out, err, errlen);
}

void
st_close(struct st_db *db)
{
	if (!db)
		return;
	if (db->h && !sqlite3_get_autocommit(db->h))
		exec(db, "ROLLBACK", "rollback");
	for (size_t i = 0; i < ST_CACHE; i++)
		sqlite3_finalize(db->cache[i].st);
	sqlite3_close_v2(db->h);
	free(db);
}

int
st_set_durable(struct st_db *db, bool full)
{
	return exec(db, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
	            "synchronous");
}

int
st_check(struct st_db *db)
{
	sqlite3_stmt *st;
	int rc = prep(db, &st, "PRAGMA integrity_check", "");
	if (rc < 0)
		return rc;
	rc = row(db, st);
	if (rc == 1) {
		const char *r = (const char *)sqlite3_column_text(st, 0);
		rc = r && strcmp(r, "ok") == 0 ? 0
		                               : fail(db, -EBADMSG, "integrity: %s", r ? r : "?");
	} else if (rc == 0) {
		rc = fail(db, -EBADMSG, "integrity: no answer");
	}
	done(db, st);
	return rc;
}

/* ---- jobs ----------------------------------------------------------------- */

/* Whether text is JSON (an object when object is set); a message otherwise. */
static int
json_check(struct st_db *db, const char *text, bool object, const char *what)
{
	json_error_t je;
	json_t *j = json_loads(text, object ? 0 : JSON_DECODE_ANY, &je);
	if (!j)
		return fail(db, -EINVAL, "%s: not JSON: %s (line %d, column %d)", what, je.text,
		            je.line, je.column);
	bool ok = !object || json_is_object(j);
	json_decref(j);
	return ok ? 0 : fail(db, -EINVAL, "%s: not a JSON object", what);
}

#define JOB_COLS                                                                                   \
	"id, kind, plan, estate_path, estate_hash, options, state, msg, created, updated, "        \
	"sim_time"

static void
job_read(sqlite3_stmt *st, struct lib_arena *a, struct st_job *j)
{
	memset(j, 0, sizeof(*j));
	j->id = sqlite3_column_int64(st, 0);
	j->kind = col_text(st, 1, a);
	j->plan = col_text(st, 2, a);
	j->estate_path = col_text(st, 3, a);
	j->estate_hash = col_text(st, 4, a);
	j->options = col_text(st, 5, a);
	/* The CHECK constraint guarantees a known state. */
	if (st_job_state_parse((const char *)sqlite3_column_text(st, 6), &j->state) < 0)
		j->state = ST_JOB_FAILED;
	j->msg = col_text(st, 7, a);
	j->created = sqlite3_column_int64(st, 8);
	j->updated = sqlite3_column_int64(st, 9);
	j->sim_time = sqlite3_column_int64(st, 10);
}

/* The state of job id: 0, or -ENOENT. */
static int
job_state(struct st_db *db, int64_t id, enum st_job_state *state)
{
	sqlite3_stmt *st;
	int rc = prep(db, &st, "SELECT state FROM jobs WHERE id = ?", "i", id);
	if (rc < 0)
		return rc;
	rc = row(db, st);
	if (rc == 1 && st_job_state_parse((const char *)sqlite3_column_text(st, 0), state) < 0)
		rc = fail(db, -EBADMSG, "job %" PRId64 ": unknown state", id);
	else if (rc == 0)
		rc = fail(db, -ENOENT, "no job %" PRId64, id);
	done(db, st);
	return rc < 0 ? rc : 0;
}

/* The job must exist and be running (steps move only then). */
static int
job_running(struct st_db *db, int64_t id)
{
	enum st_job_state s = ST_JOB_RUNNING;
	int rc = job_state(db, id, &s);
	if (rc < 0)
		return rc;
	if (s != ST_JOB_RUNNING)
		return fail(db, -EINVAL,
		            "job %" PRId64 " is %s: steps run only while it is running", id,
		            st_job_state_name(s));
	return 0;
}

/* Advances the job's update time and simulated clock. */
static int
job_touch(struct st_db *db, int64_t id, int64_t sim_time)
{
	return run(db, "UPDATE jobs SET updated = ?, sim_time = max(sim_time, ?) WHERE id = ?",
	           "iii", (int64_t)time(NULL), sim_time, id);
}

/* The newest open job of plan and kind: 1 with its id and hash, 0 when none. */
static int
open_job(struct st_db *db, const char *plan, const char *kind, int64_t *id, char hash[ST_HASH_LEN],
         char *path, size_t pathlen)
{
	sqlite3_stmt *st;
	int rc = prep(db, &st,
	              "SELECT id, estate_hash, estate_path FROM jobs WHERE plan = ? AND kind = ? "
	              "AND state IN ('running', 'paused') ORDER BY id DESC LIMIT 1",
	              "tt", plan, kind);
	if (rc < 0)
		return rc;
	rc = row(db, st);
	if (rc == 1) {
		*id = sqlite3_column_int64(st, 0);
		const char *h = (const char *)sqlite3_column_text(st, 1);
		const char *p = (const char *)sqlite3_column_text(st, 2);
		snprintf(hash, ST_HASH_LEN, "%s", h ? h : "");
		snprintf(path, pathlen, "%s", p ? p : "");
	}
	done(db, st);
	return rc;
}

int
st_job_create(struct st_db *db, const struct st_job_spec *spec, int64_t *job_id)
{
	if (!st_kind_valid(spec->kind))
		return fail(db, -EINVAL, "unknown job kind '%s'", spec->kind ? spec->kind : "");
	if (!spec->plan || !*spec->plan)
		return fail(db, -EINVAL, "a job needs a plan name");
	if (!spec->estate_path || !*spec->estate_path)
		return fail(db, -EINVAL, "a job needs the estate file's path");
	if (!hash_valid(spec->estate_hash))
		return fail(db, -EINVAL, "estate hash '%s' is not %d hex digits",
		            spec->estate_hash ? spec->estate_hash : "", ST_HASH_LEN - 1);
	const char *opts = spec->options ? spec->options : "{}";
	int rc = json_check(db, opts, true, "options");
	if (rc < 0)
		return rc;

	bool nested;
	if ((rc = op_begin(db, &nested)) < 0)
		return rc;
	int64_t other = 0;
	char hash[ST_HASH_LEN] = "", path[256] = "";
	rc = open_job(db, spec->plan, spec->kind, &other, hash, path, sizeof(path));
	if (rc == 1)
		rc = fail(db, -EEXIST,
		          "job %" PRId64 " (%s of plan %s) is still open: resume or cancel it",
		          other, spec->kind, spec->plan);
	if (rc == 0) {
		int64_t now = time(NULL);
		rc = run(db,
		         "INSERT INTO jobs (kind, plan, estate_path, estate_hash, options, state, "
		         "created, updated, sim_time) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?)",
		         "tttttiii", spec->kind, spec->plan, spec->estate_path, spec->estate_hash,
		         opts, now, now, spec->sim_time);
		if (rc == 0)
			*job_id = sqlite3_last_insert_rowid(db->h);
	}
	return op_end(db, nested, rc);
}

int
st_job_find_open(struct st_db *db, const char *estate_hash, const char *plan, const char *kind,
                 int64_t *job_id)
{
	if (!plan || !kind || !estate_hash)
		return fail(db, -EINVAL, "find_open needs a hash, a plan and a kind");
	int64_t id = 0;
	char hash[ST_HASH_LEN] = "", path[256] = "";
	int rc = open_job(db, plan, kind, &id, hash, path, sizeof(path));
	if (rc < 0)
		return rc;
	if (rc == 0)
		return fail(db, -ENOENT, "no open %s job of plan %s", kind, plan);
	if (strcmp(hash, estate_hash) != 0)
		return fail(
		    db, -ESTALE,
		    "job %" PRId64 " (%s of plan %s) was started on %s with estate hash %s, "
		    "but this estate's hash is %s: resume it with that estate, or cancel it",
		    id, kind, plan, path, hash, estate_hash);
	*job_id = id;
	return 0;
}

int
st_job_get(struct st_db *db, int64_t job_id, struct lib_arena *a, struct st_job *out)
{
	sqlite3_stmt *st;
	int rc = prep(db, &st, "SELECT " JOB_COLS " FROM jobs WHERE id = ?", "i", job_id);
	if (rc < 0)
		return rc;
	rc = row(db, st);
	if (rc == 1)
		job_read(st, a, out);
	else if (rc == 0)
		rc = fail(db, -ENOENT, "no job %" PRId64, job_id);
	done(db, st);
	return rc < 0 ? rc : 0;
}

int
st_job_set_state(struct st_db *db, int64_t job_id, enum st_job_state to, const char *msg,
                 int64_t sim_time)
{
	if ((unsigned)to >= LIB_ARRAY_LEN(job_state_names))
		return fail(db, -EINVAL, "unknown job state %d", (int)to);
	bool nested;
	int rc = op_begin(db, &nested);
	if (rc < 0)
		return rc;
	enum st_job_state from = ST_JOB_RUNNING;
	rc = job_state(db, job_id, &from);
	if (rc == 0 && !st_job_transition_legal(from, to))
		rc = fail(db, -EINVAL, "job %" PRId64 ": no transition from %s to %s", job_id,
		          st_job_state_name(from), st_job_state_name(to));
	if (rc == 0 && to == ST_JOB_SUCCEEDED) {
		sqlite3_stmt *st;
		rc = prep(db, &st,
		          "SELECT idx, name FROM steps WHERE job_id = ? AND state = 'running' "
		          "ORDER BY idx LIMIT 1",
		          "i", job_id);
		if (rc == 0) {
			rc = row(db, st);
			if (rc == 1)
				rc = fail(db, -EINVAL,
				          "job %" PRId64
				          " cannot succeed: step %d (%s) is still running",
				          job_id, sqlite3_column_int(st, 0),
				          (const char *)sqlite3_column_text(st, 1));
			done(db, st);
		}
	}
	if (rc == 0)
		rc =
		    run(db,
		        "UPDATE jobs SET state = ?, msg = ?, updated = ?, "
		        "sim_time = max(sim_time, ?) WHERE id = ?",
		        "ttiii", st_job_state_name(to), msg, (int64_t)time(NULL), sim_time, job_id);
	return op_end(db, nested, rc);
}

int
st_job_list(struct st_db *db, struct lib_arena *a, struct st_job **jobs, size_t *n)
{
	sqlite3_stmt *st;
	int rc = prep(db, &st, "SELECT " JOB_COLS " FROM jobs ORDER BY id", "");
	if (rc < 0)
		return rc;
	struct lib_vec v;
	lib_vec_init(&v, sizeof(struct st_job));
	while ((rc = row(db, st)) == 1)
		job_read(st, a, lib_vec_push(&v));
	done(db, st);
	if (rc < 0) {
		lib_vec_free(&v);
		return rc;
	}
	*n = v.n;
	*jobs = v.n ? lib_vec_to_arena(&v, a) : NULL;
	lib_vec_free(&v);
	return 0;
}

/* ---- steps ------------------------------------------------------------------ */

#define STEP_COLS "idx, name, kind, state, attempts, started, finished, msg, output"

static void
step_read(sqlite3_stmt *st, struct lib_arena *a, struct st_step *s)
{
	memset(s, 0, sizeof(*s));
	s->idx = (uint32_t)sqlite3_column_int64(st, 0);
	s->name = col_text(st, 1, a);
	s->kind = col_text(st, 2, a);
	if (st_step_state_parse((const char *)sqlite3_column_text(st, 3), &s->state) < 0)
		s->state = ST_STEP_FAILED;
	s->attempts = (uint32_t)sqlite3_column_int64(st, 4);
	s->started = sqlite3_column_int64(st, 5);
	s->finished = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 6);
	s->msg = col_text(st, 7, a);
	s->output = col_text(st, 8, a);
}

/* Step idx of job: 1 with its name (heap), state and start, 0 when not begun. */
static int
step_state(struct st_db *db, int64_t job_id, uint32_t idx, char **name, enum st_step_state *state,
           int64_t *started)
{
	sqlite3_stmt *st;
	int rc =
	    prep(db, &st, "SELECT name, state, started FROM steps WHERE job_id = ? AND idx = ?",
	         "iu", job_id, idx);
	if (rc < 0)
		return rc;
	rc = row(db, st);
	if (rc == 1) {
		*name = lib_xstrdup((const char *)sqlite3_column_text(st, 0));
		if (st_step_state_parse((const char *)sqlite3_column_text(st, 1), state) < 0)
			*state = ST_STEP_FAILED;
		*started = sqlite3_column_int64(st, 2);
	}
	done(db, st);
	return rc;
}

static int
step_begin_tx(struct st_db *db, int64_t job_id, uint32_t idx, const char *name, const char *kind,
              int64_t sim_time)
{
	int rc = job_running(db, job_id);
	if (rc < 0)
		return rc;
	char *old = NULL;
	enum st_step_state state = ST_STEP_PENDING;
	int64_t started = 0;
	rc = step_state(db, job_id, idx, &old, &state, &started);
	if (rc == 1 && strcmp(old, name) != 0)
		rc = fail(db, -ESTALE, "job %" PRId64 ": step %u is '%s', not '%s'", job_id, idx,
		          old, name);
	else if (rc == 1 && st_step_finished(state))
		rc = fail(db, -EALREADY, "job %" PRId64 ": step %u (%s) is already %s", job_id, idx,
		          name, st_step_state_name(state));
	else if (rc == 1)
		rc = run(db,
		         "UPDATE steps SET attempts = attempts + 1, kind = ?, started = ? "
		         "WHERE job_id = ? AND idx = ?",
		         "tiiu", kind, sim_time, job_id, idx);
	else if (rc == 0)
		rc = run(db,
		         "INSERT INTO steps (job_id, idx, name, kind, state, started) "
		         "VALUES (?, ?, ?, ?, 'running', ?)",
		         "iutti", job_id, idx, name, kind, sim_time);
	free(old);
	return rc < 0 ? rc : job_touch(db, job_id, sim_time);
}

int
st_step_begin(struct st_db *db, int64_t job_id, uint32_t idx, const char *name, const char *kind,
              int64_t sim_time)
{
	if (!name || !*name || !kind || !*kind)
		return fail(db, -EINVAL, "a step needs a name and a kind");
	if (idx > INT32_MAX)
		return fail(db, -EINVAL, "step index %u out of range", idx);
	bool nested;
	int rc = op_begin(db, &nested);
	if (rc < 0)
		return rc;
	return op_end(db, nested, step_begin_tx(db, job_id, idx, name, kind, sim_time));
}

static int blob_put_tx(struct st_db *db, int64_t job_id, const char *name, const void *data,
                       size_t len);

static int
step_finish_tx(struct st_db *db, int64_t job_id, uint32_t idx, const struct st_step_end *end)
{
	int rc = job_running(db, job_id);
	if (rc < 0)
		return rc;
	char *name = NULL;
	enum st_step_state state = ST_STEP_PENDING;
	int64_t started = 0;
	rc = step_state(db, job_id, idx, &name, &state, &started);
	if (rc == 0)
		rc = fail(db, -EINVAL, "job %" PRId64 ": step %u was never begun", job_id, idx);
	else if (rc == 1 && state != ST_STEP_RUNNING)
		rc = fail(db, -EALREADY, "job %" PRId64 ": step %u (%s) is already %s", job_id, idx,
		          name, st_step_state_name(state));
	else if (rc == 1 && end->sim_time < started)
		rc = fail(db, -EINVAL,
		          "job %" PRId64 ": step %u (%s) cannot finish at %" PRId64
		          " before it started (%" PRId64 ")",
		          job_id, idx, name, end->sim_time, started);
	else if (rc == 1)
		rc = run(db,
		         "UPDATE steps SET state = ?, finished = ?, msg = ?, output = ? "
		         "WHERE job_id = ? AND idx = ?",
		         "tittiu", st_step_state_name(end->state), end->sim_time, end->msg,
		         end->output, job_id, idx);
	free(name);
	if (rc == 0 && end->blob_name)
		rc = blob_put_tx(db, job_id, end->blob_name, end->blob, end->blob_len);
	return rc < 0 ? rc : job_touch(db, job_id, end->sim_time);
}

int
st_step_finish(struct st_db *db, int64_t job_id, uint32_t idx, const struct st_step_end *end)
{
	if (!st_step_finished(end->state))
		return fail(db, -EINVAL, "a step finishes done, failed or skipped, not %s",
		            st_step_state_name(end->state));
	if (!end->msg)
		return fail(db, -EINVAL, "a finished step needs a result message");
	if (end->blob_name && (!*end->blob_name || (!end->blob && end->blob_len)))
		return fail(db, -EINVAL, "a step's blob needs a name and data");
	int rc = end->output ? json_check(db, end->output, false, "step output") : 0;
	if (rc < 0)
		return rc;
	bool nested;
	if ((rc = op_begin(db, &nested)) < 0)
		return rc;
	return op_end(db, nested, step_finish_tx(db, job_id, idx, end));
}

int
st_step_get(struct st_db *db, int64_t job_id, uint32_t idx, struct lib_arena *a,
            struct st_step *out)
{
	sqlite3_stmt *st;
	int rc = prep(db, &st, "SELECT " STEP_COLS " FROM steps WHERE job_id = ? AND idx = ?", "iu",
	              job_id, idx);
	if (rc < 0)
		return rc;
	rc = row(db, st);
	if (rc == 1)
		step_read(st, a, out);
	else if (rc == 0)
		rc = fail(db, -ENOENT, "job %" PRId64 ": step %u was never begun", job_id, idx);
	done(db, st);
	return rc < 0 ? rc : 0;
}

int
st_steps_get(struct st_db *db, int64_t job_id, bool finished_only, struct lib_arena *a,
             struct st_step **steps, size_t *n)
{
	enum st_job_state js = ST_JOB_RUNNING;
	int rc = job_state(db, job_id, &js);
	if (rc < 0)
		return rc;
	sqlite3_stmt *st;
	rc = prep(db, &st,
	          finished_only ? "SELECT " STEP_COLS " FROM steps WHERE job_id = ? "
	                          "AND state <> 'running' ORDER BY idx"
	                        : "SELECT " STEP_COLS " FROM steps WHERE job_id = ? ORDER BY idx",
	          "i", job_id);
	if (rc < 0)
		return rc;
	struct lib_vec v;
	lib_vec_init(&v, sizeof(struct st_step));
	while ((rc = row(db, st)) == 1)
		step_read(st, a, lib_vec_push(&v));
	done(db, st);
	if (rc < 0) {
		lib_vec_free(&v);
		return rc;
	}
	*n = v.n;
	*steps = v.n ? lib_vec_to_arena(&v, a) : NULL;
	lib_vec_free(&v);
	return 0;
}

/* ---- blobs ------------------------------------------------------------------ */

static int
blob_put_tx(struct st_db *db, int64_t job_id, const char *name, const void *data, size_t len)
{
	enum st_job_state js = ST_JOB_RUNNING;
	int rc = job_state(db, job_id, &js);
	if (rc < 0)
		return rc;
	return run(db,
	           "INSERT INTO blobs (job_id, name, data, hash, updated) VALUES (?, ?, ?, ?, ?) "
	           "ON CONFLICT (job_id, name) DO UPDATE SET data = excluded.data, "
	           "hash = excluded.hash, updated = excluded.updated",
	           "itbii", job_id, name, data, len, (int64_t)lib_hash(data ? data : "", len),
	           (int64_t)time(NULL));
}

int
st_put_blob(struct st_db *db, int64_t job_id, const char *name, const void *data, size_t len)
{
	if (!name || !*name || (!data && len))
		return fail(db, -EINVAL, "a blob needs a name and data");
	bool nested;
	int rc = op_begin(db, &nested);
	if (rc < 0)
		return rc;
	return op_end(db, nested, blob_put_tx(db, job_id, name, data, len));
}

int
st_get_blob(struct st_db *db, int64_t job_id, const char *name, char **data, size_t *len)
{
	if (!name)
		return fail(db, -EINVAL, "a blob needs a name");
	sqlite3_stmt *st;
	int rc = prep(db, &st, "SELECT data, hash FROM blobs WHERE job_id = ? AND name = ?", "it",
	              job_id, name);
	if (rc < 0)
		return rc;
	rc = row(db, st);
	if (rc == 1) {
		const void *p = sqlite3_column_blob(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		uint64_t want = (uint64_t)sqlite3_column_int64(st, 1);
		char *copy = lib_xmalloc(n + 1);
		if (n)
			memcpy(copy, p, n);
		copy[n] = '\0';
		if (lib_hash(copy, n) != want) {
			free(copy);
			rc = fail(db, -EBADMSG, "job %" PRId64 ": blob %s does not match its hash",
			          job_id, name);
		} else {
			*data = copy;
			if (len)
				*len = n;
		}
	} else if (rc == 0) {
		rc = fail(db, -ENOENT, "job %" PRId64 ": no blob %s", job_id, name);
	}
	done(db, st);
	return rc < 0 ? rc : 0;
}
