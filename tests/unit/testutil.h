/*
 * testutil.h - helpers shared by the cmocka unit tests: load an estate from
 * an inline YAML text, run one rule, count findings.
 */
#ifndef STRAIT_TESTUTIL_H
#define STRAIT_TESTUTIL_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "check/chk.h"
#include "estate/est.h"

/* Loads yaml; on failure prints the diagnostics and returns NULL. */
static inline struct estate *
tu_load(const char *yaml)
{
	struct lib_diags d;
	struct estate *e = NULL;
	lib_diags_init(&d);
	est_load_string("test.yaml", yaml, strlen(yaml), &d, &e);
	if (!e)
		lib_diags_print(&d, stderr);
	lib_diags_free(&d);
	return e;
}

/* Loads yaml that must fail; returns the diagnostics as one string (heap). */
static inline char *
tu_load_errors(const char *yaml, uint32_t *nerr)
{
	struct lib_diags d;
	struct estate *e = NULL;
	lib_diags_init(&d);
	est_load_string("test.yaml", yaml, strlen(yaml), &d, &e);
	lib_diags_sort(&d);
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	lib_diags_print(&d, f);
	fclose(f);
	if (nerr)
		*nerr = d.nerr;
	lib_diags_free(&d);
	est_free(e);
	return buf;
}

/* Number of findings of rule id on the estate given as yaml (-1: load failed). */
static inline int
tu_findings(const char *yaml, const char *id, char **msgs)
{
	struct estate *e = tu_load(yaml);
	if (!e)
		return -1;
	struct chk_result r;
	const char *only[] = {id};
	chk_run(e, only, 1, &r);
	int n = (int)r.findings.n;
	if (msgs) {
		struct lib_buf b = {0};
		struct chk_finding *f = r.findings.v;
		for (uint32_t i = 0; i < r.findings.n; i++)
			lib_buf_printf(&b, "%s\n", f[i].msg);
		*msgs = b.s ? b.s : strdup("");
	}
	chk_result_free(&r);
	est_free(e);
	return n;
}

#endif
