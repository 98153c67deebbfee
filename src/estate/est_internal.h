/*
 * est_internal.h - shared between the estate loader's parse and resolve halves.
 */
#ifndef STRAIT_EST_INTERNAL_H
#define STRAIT_EST_INTERNAL_H

#include "est_schema.h"

#define LD_MAX_DEPTH 24

/* Same layout as every EST_LIST(T). */
struct est_anylist {
	void *v;
	uint32_t n;
};

struct ld_reg {
	const char *name; /* full name: "vnet/subnet" for scoped kinds */
	enum est_kind kind;
	uint32_t i, j;
	struct est_pos pos;
	bool planned;
};

struct ld_ref {
	struct est_ref *ref;
	enum est_kind kind;
	char *path;
	bool planned_ok; /* inside recovery_plans or replication */
};

struct ld {
	struct estate *e;
	const char *file;
	struct lib_diags *diags;
	char path[512];
	size_t plen;
	int depth;
	bool in_plan, in_repl;
	uint32_t nl; /* list nesting */
	uint32_t lidx[LD_MAX_DEPTH + 1];
	const char *lname[LD_MAX_DEPTH + 1];
	struct lib_vec regs; /* struct ld_reg */
	struct lib_vec refs; /* struct ld_ref */
	struct lib_map planned[EST_K__COUNT];
};

void ld_init(struct ld *l);
void ld_fini(struct ld *l);
void ld_err(struct ld *l, struct est_pos pos, const char *hint, const char *fmt, ...)
    LIB_PRINTF(4, 5);
void ld_register(struct ld *l, const struct est_class *c, const char *name, struct est_pos pos);
void ld_queue_ref(struct ld *l, struct est_ref *r, enum est_kind kind);
/* Resolve queued references, apply limits, derive indexes. */
void ld_finish(struct ld *l);

#endif
