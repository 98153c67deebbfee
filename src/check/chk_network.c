/*
 * chk_network.c - rule segment (filled in below).
 */
#include "chk_internal.h"

static void
placeholder_network(const struct estate *e, struct chk_ctx *c)
{
	(void)e;
	(void)c;
}

static const struct chk_rule rules[] = {
	{"ZZ-network", LIB_SEV_INFO, "placeholder", "none", "none", placeholder_network},
};

CHK_SEGMENT(chk_seg_network, rules);
