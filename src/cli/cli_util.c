/*
 * cli_util.c - loading, usage errors, text tables and JSON output for the
 * commands of strait.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct estate *
cli_load(const char *path)
{
	struct lib_diags d;
	struct estate *e = NULL;
	lib_diags_init(&d);
	est_load_file(path, &d, &e);
	lib_diags_sort(&d);
	lib_diags_print(&d, stderr);
	if (!e)
		fprintf(stderr, "strait: %s: %u error%s, estate not loaded\n", path, d.nerr,
		        d.nerr == 1 ? "" : "s");
	lib_diags_free(&d);
	return e;
}

void
cli_print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	puts(s ? s : "null");
	free(s);
	json_decref(v);
}

void
cli_table_init(struct cli_table *t, ...)
{
	va_list ap;
	memset(t, 0, sizeof(*t));
	lib_vec_init(&t->cells, sizeof(char *));
	va_start(ap, t);
	const char *h;
	while ((h = va_arg(ap, const char *)) != NULL && t->ncols < LIB_ARRAY_LEN(t->head))
		t->head[t->ncols++] = h;
	va_end(ap);
}

void
cli_table_row(struct cli_table *t, ...)
{
	va_list ap;
	va_start(ap, t);
	for (uint32_t i = 0; i < t->ncols; i++) {
		const char *c = va_arg(ap, const char *);
		*(char **)lib_vec_push(&t->cells) = lib_xstrdup(c ? c : "");
	}
	va_end(ap);
}

static void
cell(FILE *out, const char *s, size_t w, bool last)
{
	if (last)
		fprintf(out, "%s\n", s);
	else
		fprintf(out, "%-*s  ", (int)w, s);
}

void
cli_table_print(const struct cli_table *t, FILE *out)
{
	size_t w[8] = {0};
	char **c = t->cells.v;
	uint32_t rows = t->ncols ? t->cells.n / t->ncols : 0;
	for (uint32_t k = 0; k < t->ncols; k++)
		w[k] = strlen(t->head[k]);
	for (uint32_t r = 0; r < rows; r++)
		for (uint32_t k = 0; k < t->ncols; k++)
			if (strlen(c[r * t->ncols + k]) > w[k])
				w[k] = strlen(c[r * t->ncols + k]);
	uint32_t last = t->ncols;
	while (last > 0 && w[last - 1] == 0)
		last--;
	for (uint32_t k = 0; k < last; k++)
		cell(out, t->head[k], w[k], k + 1 == last);
	for (uint32_t k = 0; k < last; k++) {
		for (size_t i = 0; i < w[k]; i++)
			fputc('-', out);
		fputs(k + 1 < last ? "  " : "\n", out);
	}
	for (uint32_t r = 0; r < rows; r++)
		for (uint32_t k = 0; k < last; k++)
			cell(out, c[r * t->ncols + k], w[k], k + 1 == last);
}

void
cli_table_free(struct cli_table *t)
{
	char **c = t->cells.v;
	for (uint32_t i = 0; i < t->cells.n; i++)
		free(c[i]);
	lib_vec_free(&t->cells);
}
