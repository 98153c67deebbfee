/*
 * est_doc.c - the format's JSON Schema and Markdown reference, generated
 * from the same field tables the loader uses (strait schema).
 *
 * The schema is draft 2020-12, one $defs entry per class, additional
 * properties forbidden, so editors flag unknown keys as strait does. It is
 * looser than the loader in one way only: enum spellings are the canonical
 * ones, while the loader also takes other cases and separators.
 */
#include "est_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void
def_name(const struct est_class *c, char *buf, size_t n)
{
	snprintf(buf, n, "%s", c->name);
	for (char *p = buf; *p; p++)
		if (*p == ' ')
			*p = '_';
}

static json_t *field_schema_ref(const struct est_field *f);

static json_t *
field_schema(const struct est_field *f)
{
	switch (f->type) {
	case EF_STR:
		return json_pack("{s:s}", "type", "string");
	case EF_NAME:
		return json_pack("{s:s, s:s}", "type", "string", "pattern",
		                 "^[A-Za-z0-9._-]{1,80}$");
	case EF_BOOL:
		return json_pack("{s:s}", "type", "boolean");
	case EF_U32:
		return json_pack("{s:s, s:I, s:I}", "type", "integer", "minimum",
		                 (json_int_t)f->min, "maximum",
		                 (json_int_t)(f->max ? f->max : UINT32_MAX));
	case EF_ENUM: {
		json_t *e = json_array();
		for (uint32_t i = 0; i < f->enm->n; i++)
			json_array_append_new(e, json_string(f->enm->names[i]));
		return json_pack("{s:s, s:o}", "type", "string", "enum", e);
	}
	case EF_PREFIX:
		return json_pack("{s:s, s:s}", "type", "string", "pattern",
		                 "^[0-9A-Fa-f:.]+/[0-9]{1,3}$");
	case EF_ADDR:
		return json_pack("{s:s, s:s}", "type", "string", "pattern", "^[0-9A-Fa-f:.]+$");
	case EF_DURATION:
		return json_pack("{s:[s,s], s:s, s:I}", "type", "string", "integer", "pattern",
		                 "^([0-9]+[smhdw])+$|^[0-9]+$", "minimum", (json_int_t)0);
	case EF_SIZE:
		return json_pack("{s:[s,s], s:s, s:I}", "type", "string", "integer", "pattern",
		                 "^[0-9]+(B|KiB|MiB|GiB|TiB|PiB|KB|MB|GB|TB|PB)?$", "minimum",
		                 (json_int_t)0);
	case EF_BANDWIDTH:
		return json_pack("{s:s, s:s}", "type", "string", "pattern",
		                 "^[0-9]+(Mbps|Gbps|Tbps)$");
	case EF_REF:
		if (f->kind == EST_K_LINK)
			return json_pack("{s:s, s:s}", "type", "string", "pattern",
			                 "^[A-Za-z0-9._-]+/(primary|secondary)$");
		if (f->kind == EST_K_SUBNET)
			return json_pack("{s:s, s:s}", "type", "string", "pattern",
			                 "^[A-Za-z0-9._-]+/[A-Za-z0-9._-]+$");
		return json_pack("{s:s, s:s}", "type", "string", "pattern", "^[A-Za-z0-9._+-]+$");
	case EF_OBJ:
	case EF_INLINE:
		return field_schema_ref(f);
	case EF_LIST: {
		json_t *s =
		    json_pack("{s:s, s:o}", "type", "array", "items", field_schema(f->elem));
		if (f->min)
			json_object_set_new(s, "minItems", json_integer(f->min));
		if (f->max)
			json_object_set_new(s, "maxItems", json_integer(f->max));
		return s;
	}
	case EF_LIMITS: {
		json_t *props = json_object();
		for (int i = 0; i < EST_LIM__COUNT; i++) {
			const struct est_limit_def *d = &est_limit_defs[i];
			json_object_set_new(props, d->key,
			                    json_pack("{s:s, s:I, s:I, s:I, s:s}", "type",
			                              "integer", "minimum", (json_int_t)d->min,
			                              "maximum", (json_int_t)d->max, "default",
			                              (json_int_t)d->dflt, "description", d->doc));
		}
		return json_pack("{s:s, s:o, s:b}", "type", "object", "properties", props,
		                 "additionalProperties", 0);
	}
	}
	return json_object();
}

static json_t *
field_schema_ref(const struct est_field *f)
{
	if (f->type == EF_OBJ || f->type == EF_INLINE) {
		char buf[128], ref[160];
		def_name(f->cls, buf, sizeof(buf));
		snprintf(ref, sizeof(ref), "#/$defs/%s", buf);
		return json_pack("{s:s}", "$ref", ref);
	}
	if (f->type == EF_LIST && (f->elem->type == EF_INLINE || f->elem->type == EF_OBJ)) {
		json_t *s =
		    json_pack("{s:s, s:o}", "type", "array", "items", field_schema_ref(f->elem));
		if (f->min)
			json_object_set_new(s, "minItems", json_integer(f->min));
		if (f->max)
			json_object_set_new(s, "maxItems", json_integer(f->max));
		return s;
	}
	return field_schema(f);
}

static json_t *
class_schema(const struct est_class *c)
{
	json_t *props = json_object(), *req = json_array(), *arms = json_array();
	for (uint32_t i = 0; i < c->nfields; i++) {
		const struct est_field *f = &c->fields[i];
		json_t *s = field_schema_ref(f);
		if (f->doc)
			json_object_set_new(s, "description", json_string(f->doc));
		json_object_set_new(props, f->key, s);
		if (f->flags & EF_REQ)
			json_array_append_new(req, json_string(f->key));
		if (f->flags & EF_ARM)
			json_array_append_new(arms, json_pack("{s:[s]}", "required", f->key));
	}
	json_t *o = json_pack("{s:s, s:s, s:o, s:b}", "type", "object", "description", c->doc,
	                      "properties", props, "additionalProperties", 0);
	if (json_array_size(req))
		json_object_set_new(o, "required", req);
	else
		json_decref(req);
	if (json_array_size(arms))
		json_object_set_new(o, "oneOf", arms);
	else
		json_decref(arms);
	return o;
}

char *
est_json_schema(void)
{
	json_t *defs = json_object();
	for (uint32_t i = 1; i < est_nclasses; i++) {
		char buf[128];
		def_name(est_classes[i], buf, sizeof(buf));
		json_object_set_new(defs, buf, class_schema(est_classes[i]));
	}
	json_t *root = class_schema(&est_class_estate);
	json_object_set_new(root, "$schema",
	                    json_string("https://json-schema.org/draft/2020-12/schema"));
	json_object_set_new(root, "$id", json_string("https://strait.invalid/estate.schema.json"));
	json_object_set_new(root, "title", json_string("strait estate"));
	json_object_set_new(root, "$defs", defs);
	char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	size_t n = strlen(s);
	s = lib_xrealloc(s, n + 2);
	s[n] = '\n';
	s[n + 1] = '\0';
	return s;
}

static const char *
type_name(const struct est_field *f, char *buf, size_t n)
{
	char sub[96];
	switch (f->type) {
	case EF_STR:
		return "string";
	case EF_NAME:
		return "name";
	case EF_BOOL:
		return "bool";
	case EF_U32:
		snprintf(buf, n, "integer %lld-%lld", (long long)f->min,
		         (long long)(f->max ? f->max : UINT32_MAX));
		return buf;
	case EF_ENUM:
		snprintf(buf, n, "%s", f->enm->name);
		return buf;
	case EF_PREFIX:
		return "prefix";
	case EF_ADDR:
		return "address";
	case EF_DURATION:
		return "duration";
	case EF_SIZE:
		return "size";
	case EF_BANDWIDTH:
		return "bandwidth";
	case EF_REF:
		snprintf(buf, n, "%s name", est_kind_name(f->kind));
		return buf;
	case EF_OBJ:
	case EF_INLINE:
		snprintf(buf, n, "[%s](#%s)", f->cls->name, f->cls->name);
		for (char *p = strchr(buf, '#'); p && *p; p++)
			if (*p == ' ')
				*p = '-';
		return buf;
	case EF_LIST:
		snprintf(buf, n, "list of %s", type_name(f->elem, sub, sizeof(sub)));
		return buf;
	case EF_LIMITS:
		return "[limits](#limits)";
	}
	return "?";
}

static void
dflt_text(const struct est_field *f, char *buf, size_t n)
{
	buf[0] = '\0';
	if (f->flags & EF_REQ) {
		snprintf(buf, n, "required");
		return;
	}
	if (!(f->flags & EF_DEFAULT)) {
		if (f->type == EF_ENUM)
			snprintf(buf, n, "`%s`", f->enm->names[0]);
		else if (f->type == EF_BOOL)
			snprintf(buf, n, "`false`");
		else if (f->type == EF_U32)
			snprintf(buf, n, "`0`");
		return;
	}
	switch (f->type) {
	case EF_BOOL:
		snprintf(buf, n, "`%s`", f->dflt ? "true" : "false");
		break;
	case EF_U32:
		snprintf(buf, n, "`%lld`", (long long)f->dflt);
		break;
	case EF_ENUM:
		snprintf(buf, n, "`%s`", f->enm->names[f->dflt]);
		break;
	case EF_DURATION: {
		char d[32];
		lib_fmt_duration(f->dflt, d, sizeof(d));
		snprintf(buf, n, "`%s`", d);
		break;
	}
	default:
		break;
	}
}

char *
est_markdown_reference(void)
{
	struct lib_buf b = {0};
	char tbuf[160], dbuf[64];
	for (uint32_t i = 0; i < est_nclasses; i++) {
		const struct est_class *c = est_classes[i];
		lib_buf_printf(&b, "### %s\n\n%s\n\n", c->name, c->doc);
		if (c->flags & EC_ONEOF)
			lib_buf_puts(&b, "Exactly one of the keys marked *one of* is given.\n\n");
		lib_buf_puts(&b, "| key | type | default | meaning |\n|---|---|---|---|\n");
		for (uint32_t k = 0; k < c->nfields; k++) {
			const struct est_field *f = &c->fields[k];
			const struct est_enum *en = f->type == EF_ENUM ? f->enm
			                            : f->type == EF_LIST && f->elem->type == EF_ENUM
			                                ? f->elem->enm
			                                : NULL;
			dflt_text(f, dbuf, sizeof(dbuf));
			lib_buf_printf(
			    &b, "| `%s` | %s | %s | %s", f->key, type_name(f, tbuf, sizeof(tbuf)),
			    (f->flags & EF_ARM) ? "*one of*" : dbuf, f->doc ? f->doc : "");
			for (uint32_t v = 0; en && v < en->n; v++)
				lib_buf_printf(&b, "%s`%s`", v ? ", " : " Values: ", en->names[v]);
			lib_buf_puts(&b, en ? ". |\n" : " |\n");
		}
		lib_buf_puts(&b, "\n");
	}
	lib_buf_puts(&b, "### limits\n\nPlatform limits, each overridable under `limits:`.\n\n"
	                 "| key | default | range | meaning | source |\n|---|---|---|---|---|\n");
	for (int i = 0; i < EST_LIM__COUNT; i++) {
		const struct est_limit_def *d = &est_limit_defs[i];
		lib_buf_printf(&b, "| `%s` | %lld | %lld-%lld | %s | %s |\n", d->key,
		               (long long)d->dflt, (long long)d->min, (long long)d->max, d->doc,
		               d->source);
	}
	return b.s;
}
