/*
 * fuzz_load.c - libFuzzer target for the estate loader, printer and checks.
 *
 * Every input is loaded with est_load_string (as JSON when it starts with
 * '{', else as YAML). The properties, each an abort when broken:
 *   - a failed load reports at least one error, and every diagnostic either
 *     points into the file (line > 0) or is about the file as a whole (no
 *     line and no object path: "cannot parse");
 *   - a successful load reports no error;
 *   - the canonical YAML and JSON (est_emit) of a loaded estate load again,
 *     print the same canonical YAML again (strait fmt is idempotent), and
 *     give the same numbers of check findings as the original;
 *   - the checks, the summary and the check outputs run on any loaded estate.
 * ASan, UBSan and LeakSanitizer catch the rest; everything is freed.
 */
#include "check/chk.h"
#include "estate/est.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what, const struct lib_diags *d, const char *text)
{
	fprintf(stderr, "fuzz_load: %s\n", what);
	if (d)
		lib_diags_print(d, stderr);
	if (text)
		fprintf(stderr, "---- text ----\n%s\n--------------\n", text);
	abort();
}

static void
check_diags(const struct lib_diags *d, bool loaded)
{
	const struct lib_diag *v = d->v.v;
	if (loaded && d->nerr)
		fail("estate loaded but errors were reported", d, NULL);
	if (!loaded && (d->nerr == 0 || d->v.n == 0))
		fail("load failed without a diagnostic", d, NULL);
	for (uint32_t i = 0; i < d->v.n; i++)
		if (v[i].line == 0 && v[i].path)
			fail("diagnostic about an object has no line", d, NULL);
}

static struct estate *
load(const char *name, const char *text, size_t len, struct lib_diags *d)
{
	struct estate *e = NULL;
	lib_diags_init(d);
	int rc = est_load_string(name, text, len, d, &e);
	if ((rc == 0) != (e != NULL))
		fail("return code and estate disagree", d, NULL);
	check_diags(d, e != NULL);
	return e;
}

static void
run_checks(const struct estate *e, struct chk_result *r)
{
	chk_run(e, NULL, 0, r);
	if (r->nerr + r->nwarn + r->ninfo != r->findings.n)
		fail("finding counts do not add up", NULL, NULL);
	free(chk_json(e, r));
	free(chk_sarif(e, r));
	free(est_summary(e));
}

/* Reload the canonical text of e, print it again, compare with want. */
static void
round_trip(const char *name, const char *text, const char *want, const struct chk_result *r0)
{
	struct lib_diags d;
	struct estate *e = load(name, text, strlen(text), &d);
	if (!e)
		fail("canonical output does not load", &d, text);
	char *again = est_emit(e, EST_FMT_YAML);
	if (strcmp(again, want) != 0) {
		fprintf(stderr, "---- first ----\n%s\n", want);
		fail("canonical YAML changes when printed again", NULL, again);
	}
	struct chk_result r;
	run_checks(e, &r);
	if (r.nerr != r0->nerr || r.nwarn != r0->nwarn || r.ninfo != r0->ninfo) {
		fprintf(stderr, "findings %u/%u/%u, after round trip %u/%u/%u\n", r0->nerr,
		        r0->nwarn, r0->ninfo, r.nerr, r.nwarn, r.ninfo);
		fail("check findings change over the canonical form", NULL, text);
	}
	chk_result_free(&r);
	free(again);
	est_free(e);
	lib_diags_free(&d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	const char *name = size && text[0] == '{' ? "fuzz.json" : "fuzz.yaml";

	struct lib_diags d;
	struct estate *e = load(name, text, size, &d);
	if (e) {
		struct chk_result r;
		run_checks(e, &r);
		char *yaml = est_emit(e, EST_FMT_YAML);
		char *json = est_emit(e, EST_FMT_JSON);
		round_trip("canonical.yaml", yaml, yaml, &r);
		round_trip("canonical.json", json, yaml, &r);
		free(yaml);
		free(json);
		chk_result_free(&r);
		est_free(e);
	}
	lib_diags_free(&d);
	free(text);
	return 0;
}
