/*
 * rec.h - recovery operations on the model: drill (test failover), cleanup,
 * failover, commit, reprotect and failback, with a simulated clock.
 *
 * An operation is a function from an estate to the estate after it, plus a
 * timeline. The estate is carried as its canonical JSON tree (est_to_json);
 * each step edits the tree, and the result is loaded back through the
 * estate loader, so every produced estate is one strait itself accepts and
 * can write as an estate file. The same run works offline (strait failover)
 * and, later, live in straitd.
 *
 * Order of a failover (azure-facts 3.6, 3.7): shut down the source VMs
 * (planned: required; unplanned: best effort), the plan's before-steps, then
 * each group in turn (its before-steps, its VMs failed over in parallel, its
 * after-steps), then the plan's after-steps. Steps that touch a region that
 * is down fail; an unplanned failover goes on, a planned one stops.
 * Durations come from a table with defaults from azure-facts.md and can be
 * overridden; the RTO is the end of the timeline (steps are sequential but
 * the VMs of one group, which run in parallel).
 */
#ifndef STRAIT_REC_H
#define STRAIT_REC_H

#include "../estate/est.h"

enum rec_op { REC_DRILL, REC_CLEANUP, REC_FAILOVER, REC_COMMIT, REC_REPROTECT, REC_FAILBACK };

enum rec_dur {
	REC_D_GATEWAY_CREATE,
	REC_D_CONNECTION_CREATE,
	REC_D_CONNECTION_DELETE,
	REC_D_PEERING_CREATE,
	REC_D_ROUTE_TABLE_CREATE,
	REC_D_ROUTE_TABLE_ATTACH,
	REC_D_PREFERENCE,
	REC_D_VM_SHUTDOWN,
	REC_D_VM_FAILOVER,
	REC_D_PROCESS_PENDING, /* "latest" recovery point: pending data processed first */
	REC_D_MANUAL,
	REC_D_SCRIPT,
	REC_D__COUNT
};

struct rec_dur_def {
	const char *key;
	int64_t dflt; /* seconds */
	const char *source;
};
extern const struct rec_dur_def rec_dur_defs[REC_D__COUNT];
/* "gateway_create=30m"; -EINVAL with a message when malformed. */
int rec_dur_parse(const char *spec, int64_t dur[REC_D__COUNT], char *err, size_t errlen);

enum rec_point { REC_PT_LATEST, REC_PT_LATEST_PROCESSED, REC_PT_LATEST_APP, REC_PT_TIME };

struct rec_step;

/* A job that records its progress (strait failover --state): after each step
 * the engine reports the step and the estate as compact JSON; a resumed job
 * names how many steps finished before and the estate after the last of
 * them, which the engine checks before it goes on. */
struct rec_hooks {
	int (*step_done)(void *ctx, uint32_t idx, const struct rec_step *s, const char *doc);
	void *ctx;
	uint32_t resume_from;   /* steps [0, resume_from) finished in an earlier run */
	const char *resume_doc; /* the estate after step resume_from - 1 (JSON) */
};

struct rec_opts {
	enum rec_op op;
	int fo_type;          /* enum est_fo_type: planned or unplanned (failover, failback) */
	const char *plan;     /* recovery plan name; NULL: the only plan */
	int point;            /* enum rec_point */
	int64_t point_age;    /* REC_PT_TIME: how old the chosen point is, seconds */
	uint32_t down_region; /* EST_NONE, or a region that is down */
	int64_t dur[REC_D__COUNT];
	bool no_estate;    /* skip writing the estate after: timeline only */
	bool check_estate; /* load the estate after to check it (the CLI loads it anyway) */
	const struct rec_hooks *hooks;
	bool pause_manual;     /* stop at a manual step until it is confirmed */
	uint32_t confirm_step; /* the index of the manual step confirmed (1-based; 0 none) */
	bool run_scripts;      /* run script steps for real (/bin/sh -c, with their timeout) */
	/* Failover with real disks: each failed-over disk that names a path gets path
	 * restore_dir/<vm>-<disk>.img (the caller restores the point there) and seed its old
	 * path (absolute: relative paths are taken from estate_dir). NULL: the model only. */
	const char *restore_dir;
	const char *estate_dir;
};

void rec_opts_init(struct rec_opts *o);

enum rec_step_state { REC_DONE, REC_SKIPPED, REC_FAILED, REC_WARNED };

struct rec_step {
	char what[160];
	char note[256];
	int state;          /* enum rec_step_state */
	int64_t start, end; /* seconds from the start of the job */
	int group;          /* plan group, or -1 */
	bool stop;          /* the failure stopped the job */
	bool resumed;       /* finished before a restart: not done again */
};

struct rec_result {
	struct rec_step *steps;
	uint32_t nsteps;
	int64_t rto; /* end of the timeline, seconds */
	int64_t rpo; /* of the recovery point used, seconds */
	char rpo_note[160];
	bool stopped;         /* a planned operation stopped on a failure */
	char abort[256];      /* why the job could not go on (recording or resuming) */
	bool paused;          /* waiting at a manual step (see paused_at) */
	uint32_t paused_step; /* its index, 1-based */
	char paused_at[200];
	char *estate;            /* the estate after, YAML (heap); NULL when stopped */
	struct lib_vec warnings; /* char * (heap) */
};

/* Runs op on e; returns 0 (see res->stopped), or -EINVAL with diagnostics
 * (no such plan, nothing protected, the produced estate does not load). */
int rec_run(const struct estate *e, const struct rec_opts *o, struct rec_result *res,
            struct lib_diags *d);
void rec_result_free(struct rec_result *r);

const char *rec_op_name(int op);
const char *rec_state_name(int st);

#endif
