/*
 * chk.h - rule checks over an estate: a rule table and a pure function from
 * estate to findings.
 *
 * Each rule has an id (ER001...), a severity, a title, the source of the fact
 * (a seed or an azure-facts.md section), a fix hint and a function. A rule
 * function reads the estate and reports findings through chk_report; it has
 * no other effect. Findings name the objects involved (kind, name, position)
 * so that output can point into the estate file.
 */
#ifndef STRAIT_CHK_H
#define STRAIT_CHK_H

#include "../estate/est.h"

struct chk_ctx;

struct chk_rule {
	const char *id;    /* "ER001" */
	enum lib_sev sev;  /* error, warning, info */
	const char *title; /* one line */
	const char
	    *source; /* "seed: azure-vm-disaster-recovery-with-expressroute" or "azure-facts 1.4" */
	const char *hint; /* how to fix */
	void (*fn)(const struct estate *e, struct chk_ctx *c);
};

#define CHK_MAX_OBJS 4

struct chk_obj {
	enum est_kind kind;
	const char *name;
	struct est_pos pos;
};

struct chk_finding {
	const struct chk_rule *rule;
	char *msg;
	struct chk_obj objs[CHK_MAX_OBJS];
	uint32_t nobjs;
};

struct chk_result {
	struct lib_vec findings; /* struct chk_finding */
	uint32_t nerr, nwarn, ninfo;
};

/* The rule table, in id order. */
uint32_t chk_rule_count(void);
const struct chk_rule *chk_rule_at(uint32_t i);
const struct chk_rule *chk_rule_find(const char *id);

/* Run every rule (or only those whose id is in only[], when nonly > 0). */
void chk_run(const struct estate *e, const char *const *only, size_t nonly, struct chk_result *r);
void chk_result_free(struct chk_result *r);

/*
 * Report one finding for the running rule, naming up to CHK_MAX_OBJS objects;
 * the first is the primary location. Example:
 *   chk_report2(c, CHK_O(EST_K_VNET, a), CHK_O(EST_K_VNET, b),
 *               "vnet '%s' overlaps vnet '%s'", a->name, b->name);
 */
void chk_reportf(struct chk_ctx *c, const struct chk_obj *objs, uint32_t nobjs, const char *fmt,
                 ...) LIB_PRINTF(4, 5);

/* Convenience: one or two objects. */
#define CHK_O(k, obj) ((struct chk_obj){(k), (obj)->name, (obj)->pos})
void chk_report1(struct chk_ctx *c, struct chk_obj a, const char *fmt, ...) LIB_PRINTF(3, 4);
void chk_report2(struct chk_ctx *c, struct chk_obj a, struct chk_obj b, const char *fmt, ...)
    LIB_PRINTF(4, 5);

/* Output. */
void chk_print_table(const struct estate *e, const struct chk_result *r, FILE *out);
char *chk_json(const struct estate *e, const struct chk_result *r);  /* heap */
char *chk_sarif(const struct estate *e, const struct chk_result *r); /* heap */

#endif
