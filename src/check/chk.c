/*
 * chk.c - runs the rule table and prints findings (table, JSON, SARIF 2.1.0).
 *
 * Rules live in segments (chk_circuit.c, chk_network.c, chk_dr.c); this file
 * joins them in id order, runs them and owns the output formats. Findings are
 * sorted by severity, then position, then rule, so output is stable.
 */
#include "chk_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct chk_ctx {
	const struct chk_rule *rule;
	struct chk_result *r;
};

static const struct chk_segment *const segments[] = {&chk_seg_circuit, &chk_seg_erlimit,
                                                     &chk_seg_network, &chk_seg_dr,
                                                     &chk_seg_ready,   &chk_seg_plan};

struct chk_obj
chk_ref_obj(enum est_kind k, const struct est_ref *r)
{
	return (struct chk_obj){k, r->name, r->pos};
}

const char *
chk_group_name(const struct est_plan *p, uint32_t g, char *buf, size_t n)
{
	if (p->groups.v[g].name)
		return p->groups.v[g].name;
	snprintf(buf, n, "Group %u", g + 1);
	return buf;
}

bool *
chk_protect_marks(const struct estate *e)
{
	bool *prot = lib_xcalloc(e->vms.n + 1, sizeof(*prot));
	const struct est_replication *rp = e->replication;
	for (uint32_t i = 0; rp && i < rp->protect.n; i++)
		if (est_resolved(&rp->protect.v[i]))
			prot[rp->protect.v[i].i] = true;
	return prot;
}

static const struct chk_rule **sorted;
static uint32_t nsorted;

static int
rule_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct chk_rule *const *)a)->id,
	              (*(const struct chk_rule *const *)b)->id);
}

static void
build_index(void)
{
	if (sorted)
		return;
	uint32_t n = 0;
	for (size_t s = 0; s < LIB_ARRAY_LEN(segments); s++)
		n += segments[s]->n;
	sorted = lib_xcalloc(n, sizeof(*sorted));
	for (size_t s = 0; s < LIB_ARRAY_LEN(segments); s++)
		for (uint32_t i = 0; i < segments[s]->n; i++)
			sorted[nsorted++] = &segments[s]->rules[i];
	qsort(sorted, nsorted, sizeof(*sorted), rule_cmp);
}

uint32_t
chk_rule_count(void)
{
	build_index();
	return nsorted;
}

const struct chk_rule *
chk_rule_at(uint32_t i)
{
	build_index();
	return i < nsorted ? sorted[i] : NULL;
}

const struct chk_rule *
chk_rule_find(const char *id)
{
	build_index();
	for (uint32_t i = 0; i < nsorted; i++)
		if (strcasecmp(sorted[i]->id, id) == 0)
			return sorted[i];
	return NULL;
}

static void
add(struct chk_ctx *c, const struct chk_obj *objs, uint32_t n, const char *fmt, va_list ap)
{
	struct chk_finding *f = lib_vec_push(&c->r->findings);
	struct lib_buf b = {0};
	lib_buf_vprintf(&b, fmt, ap);
	f->rule = c->rule;
	f->msg = b.s ? b.s : lib_xstrdup("");
	f->nobjs = n > CHK_MAX_OBJS ? CHK_MAX_OBJS : n;
	memcpy(f->objs, objs, f->nobjs * sizeof(*objs));
	switch (c->rule->sev) {
	case LIB_SEV_ERROR:
		c->r->nerr++;
		break;
	case LIB_SEV_WARNING:
		c->r->nwarn++;
		break;
	default:
		c->r->ninfo++;
	}
}

void
chk_reportf(struct chk_ctx *c, const struct chk_obj *objs, uint32_t nobjs, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add(c, objs, nobjs, fmt, ap);
	va_end(ap);
}

void
chk_report1(struct chk_ctx *c, struct chk_obj a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add(c, &a, 1, fmt, ap);
	va_end(ap);
}

void
chk_report2(struct chk_ctx *c, struct chk_obj a, struct chk_obj b, const char *fmt, ...)
{
	struct chk_obj o[2] = {a, b};
	va_list ap;
	va_start(ap, fmt);
	add(c, o, 2, fmt, ap);
	va_end(ap);
}

static int
finding_cmp(const void *pa, const void *pb)
{
	const struct chk_finding *a = pa, *b = pb;
	if (a->rule->sev != b->rule->sev)
		return a->rule->sev < b->rule->sev ? -1 : 1;
	uint32_t la = a->nobjs ? a->objs[0].pos.line : 0, lb = b->nobjs ? b->objs[0].pos.line : 0;
	if (la != lb)
		return la < lb ? -1 : 1;
	int c = strcmp(a->rule->id, b->rule->id);
	return c ? c : strcmp(a->msg, b->msg);
}

void
chk_run(const struct estate *e, const char *const *only, size_t nonly, struct chk_result *r)
{
	memset(r, 0, sizeof(*r));
	lib_vec_init(&r->findings, sizeof(struct chk_finding));
	build_index();
	for (uint32_t i = 0; i < nsorted; i++) {
		bool run = nonly == 0;
		for (size_t k = 0; k < nonly; k++)
			if (strcasecmp(only[k], sorted[i]->id) == 0)
				run = true;
		if (!run)
			continue;
		struct chk_ctx c = {sorted[i], r};
		sorted[i]->fn(e, &c);
	}
	if (r->findings.n > 1)
		qsort(r->findings.v, r->findings.n, sizeof(struct chk_finding), finding_cmp);
}

void
chk_result_free(struct chk_result *r)
{
	struct chk_finding *f = r->findings.v;
	for (uint32_t i = 0; i < r->findings.n; i++)
		free(f[i].msg);
	lib_vec_free(&r->findings);
}

static const char *const sev_names[] = {"error", "warning", "info"};

void
chk_print_table(const struct estate *e, const struct chk_result *r, FILE *out)
{
	const struct chk_finding *f = r->findings.v;
	for (uint32_t i = 0; i < r->findings.n; i++) {
		const struct chk_obj *o = f[i].nobjs ? &f[i].objs[0] : NULL;
		if (o && o->pos.line)
			fprintf(out, "%s:%u:%u: ", e->file, o->pos.line, o->pos.col);
		else
			fprintf(out, "%s: ", e->file);
		fprintf(out, "%s %s: %s\n", sev_names[f[i].rule->sev], f[i].rule->id, f[i].msg);
		fprintf(out, "    fix: %s [%s]\n", f[i].rule->hint, f[i].rule->source);
	}
	fprintf(out, "%u error%s, %u warning%s, %u info\n", r->nerr, r->nerr == 1 ? "" : "s",
	        r->nwarn, r->nwarn == 1 ? "" : "s", r->ninfo);
}

static json_t *
objs_json(const struct chk_finding *f)
{
	json_t *a = json_array();
	for (uint32_t k = 0; k < f->nobjs; k++)
		json_array_append_new(
		    a, json_pack("{s:s, s:s?, s:i, s:i}", "kind", est_kind_name(f->objs[k].kind),
		                 "name", f->objs[k].name, "line", (int)f->objs[k].pos.line, "col",
		                 (int)f->objs[k].pos.col));
	return a;
}

char *
chk_json(const struct estate *e, const struct chk_result *r)
{
	json_t *arr = json_array();
	const struct chk_finding *f = r->findings.v;
	for (uint32_t i = 0; i < r->findings.n; i++)
		json_array_append_new(
		    arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "rule", f[i].rule->id,
		                   "severity", sev_names[f[i].rule->sev], "title", f[i].rule->title,
		                   "message", f[i].msg, "hint", f[i].rule->hint, "source",
		                   f[i].rule->source, "objects", objs_json(&f[i])));
	json_t *root = json_pack("{s:s, s:s?, s:o, s:{s:i, s:i, s:i}}", "file", e->file, "estate",
	                         e->name, "findings", arr, "summary", "errors", (int)r->nerr,
	                         "warnings", (int)r->nwarn, "info", (int)r->ninfo);
	char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	return s;
}

char *
chk_sarif(const struct estate *e, const struct chk_result *r)
{
	static const char *const level[] = {"error", "warning", "note"};
	json_t *rules = json_array();
	uint32_t n = chk_rule_count();
	for (uint32_t i = 0; i < n; i++) {
		const struct chk_rule *ru = chk_rule_at(i);
		json_array_append_new(
		    rules, json_pack("{s:s, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "id", ru->id,
		                     "shortDescription", "text", ru->title, "fullDescription",
		                     "text", ru->source, "help", "text", ru->hint,
		                     "defaultConfiguration", "level", level[ru->sev]));
	}
	json_t *results = json_array();
	const struct chk_finding *f = r->findings.v;
	for (uint32_t i = 0; i < r->findings.n; i++) {
		json_t *locs = json_array();
		for (uint32_t k = 0; k < f[i].nobjs; k++) {
			const struct chk_obj *o = &f[i].objs[k];
			json_t *phys = json_pack("{s:{s:s}}", "artifactLocation", "uri", e->file);
			if (o->pos.line)
				json_object_set_new(phys, "region",
				                    json_pack("{s:i, s:i}", "startLine",
				                              (int)o->pos.line, "startColumn",
				                              (int)o->pos.col));
			json_array_append_new(locs, json_pack("{s:o, s:[{s:s?, s:s}]}",
			                                      "physicalLocation", phys,
			                                      "logicalLocations", "name", o->name,
			                                      "kind", est_kind_name(o->kind)));
		}
		json_array_append_new(results,
		                      json_pack("{s:s, s:s, s:{s:s}, s:o}", "ruleId", f[i].rule->id,
		                                "level", level[f[i].rule->sev], "message", "text",
		                                f[i].msg, "locations", locs));
	}
	json_t *root = json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:s, s:o}}, s:o}]}", "$schema",
	                         "https://json.schemastore.org/sarif-2.1.0.json", "version",
	                         "2.1.0", "runs", "tool", "driver", "name", "strait",
	                         "informationUri", "https://strait.invalid/docs/rules", "version",
	                         "0.1.0", "rules", rules, "results", results);
	char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	return s;
}
