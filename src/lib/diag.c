/*
 * diag.c - collected diagnostics with positions.
 *
 * Every loader and check reports through here so that errors look alike:
 *   estate.yaml:42:7: error: vnets[spoke1].address_space[0]: bad prefix '10.1.0.0/33'
 *       (expected an IPv4 or IPv6 prefix such as 10.1.0.0/16)
 */
#include "lib.h"

#include <stdlib.h>
#include <string.h>

void
lib_diags_init(struct lib_diags *d)
{
	lib_vec_init(&d->v, sizeof(struct lib_diag));
	d->nerr = 0;
}

void
lib_diags_free(struct lib_diags *d)
{
	struct lib_diag *v = d->v.v;
	for (uint32_t i = 0; i < d->v.n; i++) {
		free(v[i].path);
		free(v[i].msg);
		free(v[i].hint);
	}
	lib_vec_free(&d->v);
	d->nerr = 0;
}

void
lib_diag_add(struct lib_diags *d, enum lib_sev sev, const char *file, uint32_t line, uint32_t col,
             const char *path, const char *hint, const char *fmt, ...)
{
	struct lib_diag *g = lib_vec_push(&d->v);
	struct lib_buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	lib_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	g->file = file;
	g->line = line;
	g->col = col;
	g->sev = sev;
	g->path = path && *path ? lib_xstrdup(path) : NULL;
	g->hint = hint ? lib_xstrdup(hint) : NULL;
	g->msg = b.s ? b.s : lib_xstrdup("");
	if (sev == LIB_SEV_ERROR)
		d->nerr++;
}

static int
diag_cmp(const void *pa, const void *pb)
{
	const struct lib_diag *a = pa, *b = pb;
	int c = strcmp(a->file ? a->file : "", b->file ? b->file : "");
	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	return strcmp(a->msg, b->msg);
}

void
lib_diags_sort(struct lib_diags *d)
{
	if (d->v.n > 1)
		qsort(d->v.v, d->v.n, sizeof(struct lib_diag), diag_cmp);
}

static const char *const sev_name[] = {"error", "warning", "info"};

void
lib_diags_print(const struct lib_diags *d, FILE *out)
{
	const struct lib_diag *v = d->v.v;
	for (uint32_t i = 0; i < d->v.n; i++) {
		const struct lib_diag *g = &v[i];
		if (g->file)
			fprintf(out, "%s:", g->file);
		if (g->line)
			fprintf(out, "%u:%u:", g->line, g->col);
		fprintf(out, " %s: ", sev_name[g->sev]);
		if (g->path)
			fprintf(out, "%s: ", g->path);
		fputs(g->msg, out);
		if (g->hint)
			fprintf(out, " (%s)", g->hint);
		fputc('\n', out);
	}
}
