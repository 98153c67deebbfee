/*
 * rec_emit.h - a recovery plan's steps as a bash script of az CLI commands,
 * for a runbook against the real cloud (strait plan ESTATE --emit az).
 */
#ifndef STRAIT_REC_EMIT_H
#define STRAIT_REC_EMIT_H

#include "../estate/est.h"

/*
 * Appends to out a bash script (set -euo pipefail) that runs plan p of e in
 * the given direction (EST_DIR_FAILOVER or EST_DIR_FAILBACK) for failover
 * type `type` (enum est_fo_type): the plan's before-steps, each group (its
 * before-steps, its VMs failed over through Site Recovery, its after-steps),
 * then the plan's after-steps, keeping only the steps whose direction and
 * types admit the run. Every command waits for Azure to finish (a gateway
 * with an explicit wait), so a step starts when the one before is done.
 * Resource groups, circuit IDs and Site Recovery names are variables at the
 * top with defaults derived from the estate, to be overridden from the
 * environment. What the script cannot do exactly is added to warn (may be
 * NULL) as warnings with the step's position. Returns 0, or -EINVAL for a
 * direction or type out of range (nothing appended).
 */
int rec_emit_az(const struct estate *e, const struct est_plan *p, int direction, int type,
                struct lib_buf *out, struct lib_diags *warn);

#endif
