/*
 * chk_internal.h - rule segments. Each chk_<area>.c file holds the rule
 * functions of one area and its table segment; chk.c joins the segments.
 */
#ifndef STRAIT_CHK_INTERNAL_H
#define STRAIT_CHK_INTERNAL_H

#include "chk.h"

struct chk_segment {
	const struct chk_rule *rules;
	uint32_t n;
};

extern const struct chk_segment chk_seg_circuit; /* chk_circuit.c: ER001-ER010 */
extern const struct chk_segment chk_seg_erlimit; /* chk_erlimit.c: ER011-ER028 */
extern const struct chk_segment chk_seg_network; /* chk_network.c: NW1xx */
extern const struct chk_segment chk_seg_dr;      /* chk_dr.c: DR2xx replication */
extern const struct chk_segment chk_seg_ready;   /* chk_ready.c: DR2xx target readiness */
extern const struct chk_segment chk_seg_plan;    /* chk_plan.c: DR2xx plan membership */

/* Helpers shared by the rule files (chk.c). */
struct chk_obj chk_ref_obj(enum est_kind k, const struct est_ref *r);
/* A plan group's name, or "Group N" for an unnamed one. */
const char *chk_group_name(const struct est_plan *p, uint32_t g, char *buf, size_t n);
/* prot[vm] is true for the VMs replication protects (heap, free it). */
bool *chk_protect_marks(const struct estate *e);

#define CHK_SEGMENT(id, arr) const struct chk_segment id = {arr, LIB_ARRAY_LEN(arr)}

#endif
