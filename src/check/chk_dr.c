/*
 * chk_dr.c - rule segment (filled in below).
 */
#include "chk_internal.h"

static void
placeholder_dr(const struct estate *e, struct chk_ctx *c)
{
	(void)e;
	(void)c;
}

static const struct chk_rule rules[] = {
	{"ZZ-dr", LIB_SEV_INFO, "placeholder", "none", "none", placeholder_dr},
};

CHK_SEGMENT(chk_seg_dr, rules);
