/*
 * rt_internal.h - shared between the files of the routing engine.
 */
#ifndef STRAIT_RT_INTERNAL_H
#define STRAIT_RT_INTERNAL_H

#include "rt.h"

/* A candidate path to a prefix, before the RIB is built. */
struct rt_cand {
	struct ip_prefix p;
	struct rt_path path;
};

/* Builds rib from cands (consumed), best paths by cmp (< 0: a preferred),
 * at most ecmp of them when equal. Memory from a; a large RIB's Poptrie is
 * pushed on fibs for its owner to free. */
#define RT_FIB_MIN 64
void rt_rib_build(struct lib_arena *a, struct lib_vec *cands,
                  int (*cmp)(const struct rt_path *, const struct rt_path *), uint32_t ecmp,
                  struct rt_rib *rib, struct lib_vec *fibs);

#endif
