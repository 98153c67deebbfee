/*
 * rec_internal.h - shared by the files of the recovery engine.
 */
#ifndef STRAIT_REC_INTERNAL_H
#define STRAIT_REC_INTERNAL_H

#include "rec.h"

#include <jansson.h>

/* ---- rec_doc.c: the estate's JSON tree ---------------------------------- */

json_t *doc_list(json_t *obj, const char *key); /* the array under key, created if absent */
const char *doc_str(json_t *obj, const char *key);
json_t *doc_named(json_t *arr, const char *name, size_t *idx);
json_t *doc_vnet(json_t *doc, const char *name);
json_t *doc_subnet(json_t *doc, const char *path, json_t **vnet); /* "vnet/subnet" */
json_t *doc_gateway(json_t *doc, const char *name, json_t **vnet);
json_t *doc_connection(json_t *doc, const char *name, size_t *idx);
void doc_conn_name(json_t *c, char *buf, size_t n);
json_t *doc_peering(json_t *doc, const char *from, const char *to);
const char *doc_vnet_region(json_t *doc, const char *vnet);
bool doc_vnets_overlap(json_t *a, json_t *b);

/* ---- the job ------------------------------------------------------------- */

struct rec_job {
	const struct estate *e;
	const struct rec_opts *o;
	json_t *doc;
	struct rec_result *res;
	int64_t now;
	const char *down; /* name of the region that is down, or NULL */
	bool unplanned;
	int group;
	bool aborted;      /* a hook failed or a resumed estate differs: stop */
	uint32_t recorded; /* steps reported to the hooks so far */
};

/* Adds a step of duration secs at the current time and advances the clock;
 * returns it for the caller to fill in. */
struct rec_step *job_step(struct rec_job *j, int state, int64_t secs, const char *fmt, ...)
    LIB_PRINTF(4, 5);
void job_warn(struct rec_job *j, const char *fmt, ...) LIB_PRINTF(2, 3);

/* rec_act.c: one plan action; false when the job must stop. */
bool rec_apply(struct rec_job *j, const struct est_action *a);
/* rec_vm.c */
void rec_target_networks(struct rec_job *j); /* Site Recovery's <vnet>-asr mirrors */
const char *rec_target_vnet(struct rec_job *j, const char *source_vnet);
/* Moves (failover) or copies (drill) vm to its target subnet; IP rules of azure-facts 3.2. */
bool rec_move_vm(struct rec_job *j, const char *vm, bool drill, char *where, size_t n);

#endif
