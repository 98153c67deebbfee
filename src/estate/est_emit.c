/*
 * est_emit.c - the canonical form of an estate (strait fmt).
 *
 * The model is walked through the field tables into a jansson tree: keys in
 * schema order, defaults and derived names left out, units in their largest
 * exact spelling. JSON is that tree as jansson prints it; YAML is printed
 * here in block style with flow lists for scalars, quoting every string a
 * YAML reader could take for something else. Loading the output gives back
 * the same model (tests/golden checks the round trip).
 */
#include "est_internal.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static json_t *emit_object(const struct est_class *c, const void *obj);

static json_t *
emit_value(const struct est_field *f, const void *p)
{
	char buf[IP_STRLEN];
	switch (f->type) {
	case EF_STR:
	case EF_NAME: {
		const char *s = *(const char *const *)p;
		return s ? json_string(s) : NULL;
	}
	case EF_BOOL:
		return json_boolean(*(const bool *)p);
	case EF_U32:
		return json_integer(*(const uint32_t *)p);
	case EF_ENUM: {
		int v = *(const int *)p;
		return v >= 0 && (uint32_t)v < f->enm->n ? json_string(f->enm->names[v]) : NULL;
	}
	case EF_PREFIX: {
		const struct ip_prefix *x = p;
		return x->a.af ? json_string(ip_prefix_fmt(x, buf)) : NULL;
	}
	case EF_ADDR: {
		const struct ip_addr *x = p;
		return x->af ? json_string(ip_addr_fmt(x, buf)) : NULL;
	}
	case EF_DURATION:
		lib_fmt_duration(*(const int64_t *)p, buf, sizeof(buf));
		return json_string(buf);
	case EF_SIZE:
		lib_fmt_size(*(const uint64_t *)p, buf, sizeof(buf));
		return json_string(buf);
	case EF_BANDWIDTH:
		lib_fmt_bandwidth(*(const uint64_t *)p, buf, sizeof(buf));
		return json_string(buf);
	case EF_REF: {
		const struct est_ref *r = p;
		return r->name ? json_string(r->name) : NULL;
	}
	case EF_OBJ: {
		const void *sub = *(const void *const *)p;
		return sub ? emit_object(f->cls, sub) : NULL;
	}
	case EF_INLINE:
		return emit_object(f->cls, p);
	case EF_LIST: {
		const struct est_anylist *l = p;
		json_t *a = json_array();
		for (uint32_t i = 0; i < l->n; i++) {
			json_t *v = emit_value(f->elem, (const char *)l->v + f->esize * i);
			json_array_append_new(a, v ? v : json_null());
		}
		return a;
	}
	case EF_LIMITS: {
		const struct est_anylist *l = p;
		const struct est_limit_override *o = l->v;
		json_t *m = json_object();
		for (uint32_t i = 0; i < l->n; i++)
			json_object_set_new(m, o[i].key, json_integer(o[i].value));
		return m;
	}
	}
	return NULL;
}

/* Is the field at its default, so canonical output leaves it out? */
static bool
is_default(const struct est_class *c, const struct est_field *f, const void *obj, const void *p)
{
	if (f->flags & EF_REQ)
		return false;
	switch (f->type) {
	case EF_BOOL:
		return *(const bool *)p == ((f->flags & EF_DEFAULT) ? f->dflt != 0 : false);
	case EF_U32:
		return *(const uint32_t *)p == (uint32_t)((f->flags & EF_DEFAULT) ? f->dflt : 0);
	case EF_ENUM:
		return *(const int *)p == (int)((f->flags & EF_DEFAULT) ? f->dflt : 0);
	case EF_DURATION:
		return *(const int64_t *)p == ((f->flags & EF_DEFAULT) ? f->dflt : 0);
	case EF_SIZE:
	case EF_BANDWIDTH:
		return *(const uint64_t *)p == 0;
	case EF_LIST:
	case EF_LIMITS:
		return ((const struct est_anylist *)p)->n == 0;
	case EF_NAME:
		if (c->default_name && c->name_field >= 0 && f == &c->fields[c->name_field]) {
			const char *s = *(const char *const *)p;
			struct lib_arena a;
			lib_arena_init(&a);
			const char *d = c->default_name(&a, obj);
			bool same = s && d && strcmp(s, d) == 0;
			lib_arena_free(&a);
			return same;
		}
		return false;
	default:
		return false;
	}
}

static json_t *
emit_object(const struct est_class *c, const void *obj)
{
	json_t *o = json_object();
	for (uint32_t i = 0; i < c->nfields; i++) {
		const struct est_field *f = &c->fields[i];
		const void *p = (const char *)obj + f->off;
		if (is_default(c, f, obj, p))
			continue;
		json_t *v = emit_value(f, p);
		if (!v)
			continue;
		if (f->type == EF_INLINE && json_object_size(v) == 0 && !(f->flags & EF_REQ)) {
			json_decref(v);
			continue;
		}
		json_object_set_new(o, f->key, v);
	}
	return o;
}

/* ---- YAML printing ------------------------------------------------------ */

static bool
plain_ok(const char *s)
{
	static const char *const words[] = {"true", "false", "yes", "no", "on",
	                                    "off",  "null",  "y",   "n",  "~"};
	size_t n = strlen(s);
	if (n == 0 || s[0] == ' ' || s[n - 1] == ' ' || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < LIB_ARRAY_LEN(words); i++)
		if (strcasecmp(s, words[i]) == 0)
			return false;
	bool digits = true;
	for (const char *p = s; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (!(isalnum(ch) || strchr(" ._/+()=-", ch)))
			return false;
		if (!isdigit(ch) && ch != '_')
			digits = false;
	}
	/* A reader would take these for numbers: 123, 1_000, 1.5, 1e3, 0x1f. */
	char *end;
	strtod(s, &end);
	if (digits || *end == '\0')
		return false;
	return !strstr(s, " #");
}

static void
put_str(struct lib_buf *b, const char *s)
{
	if (plain_ok(s)) {
		lib_buf_puts(b, s);
		return;
	}
	json_t *js = json_string(s);
	char *enc = json_dumps(js, JSON_ENCODE_ANY);
	lib_buf_puts(b, enc ? enc : "\"\"");
	free(enc);
	json_decref(js);
}

static void
put_scalar(struct lib_buf *b, json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		put_str(b, json_string_value(v));
		break;
	case JSON_INTEGER:
		lib_buf_printf(b, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_TRUE:
		lib_buf_puts(b, "true");
		break;
	case JSON_FALSE:
		lib_buf_puts(b, "false");
		break;
	default:
		lib_buf_puts(b, "null");
	}
}

static bool
is_container(json_t *v)
{
	return json_is_object(v) || json_is_array(v);
}

static bool
scalar_array(json_t *v)
{
	size_t i;
	json_t *x;
	json_array_foreach(v, i, x) if (is_container(x)) return false;
	return true;
}

static void put_node(struct lib_buf *b, json_t *v, int indent);

static void
put_flow(struct lib_buf *b, json_t *v)
{
	size_t i;
	json_t *x;
	lib_buf_puts(b, "[");
	json_array_foreach(v, i, x)
	{
		if (i)
			lib_buf_puts(b, ", ");
		put_scalar(b, x);
	}
	lib_buf_puts(b, "]");
}

/* Mapping body at indent; the first key may already be positioned (after "- "). */
static void
put_map(struct lib_buf *b, json_t *v, int indent, bool first_inline, bool top)
{
	const char *k;
	json_t *x;
	bool first = true;
	json_object_foreach(v, k, x)
	{
		if (!(first && first_inline)) {
			if (top && !first && is_container(x))
				lib_buf_puts(b, "\n");
			lib_buf_printf(b, "%*s", indent, "");
		}
		first = false;
		put_str(b, k);
		lib_buf_puts(b, ":");
		if (json_is_object(x) && json_object_size(x)) {
			lib_buf_puts(b, "\n");
			put_map(b, x, indent + 2, false, false);
		} else if (json_is_array(x) && json_array_size(x) && !scalar_array(x)) {
			lib_buf_puts(b, "\n");
			put_node(b, x, indent + 2);
		} else {
			lib_buf_puts(b, " ");
			put_node(b, x, indent + 2);
		}
	}
}

static void
put_node(struct lib_buf *b, json_t *v, int indent)
{
	if (json_is_object(v)) {
		if (!json_object_size(v)) {
			lib_buf_puts(b, "{}\n");
			return;
		}
		put_map(b, v, indent, false, false);
	} else if (json_is_array(v)) {
		if (!json_array_size(v) || scalar_array(v)) {
			put_flow(b, v);
			lib_buf_puts(b, "\n");
			return;
		}
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
		{
			lib_buf_printf(b, "%*s- ", indent > 2 ? indent - 2 : 0, "");
			if (json_is_object(x) && json_object_size(x))
				put_map(b, x, indent, true, false);
			else
				put_node(b, x, indent);
		}
	} else {
		put_scalar(b, v);
		lib_buf_puts(b, "\n");
	}
}

json_t *
est_to_json(const struct estate *e)
{
	return emit_object(&est_class_estate, e);
}

char *
est_json_emit(json_t *root, enum est_fmt fmt)
{
	char *out;
	if (fmt == EST_FMT_JSON) {
		char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		size_t n = strlen(s);
		out = lib_xmalloc(n + 2);
		memcpy(out, s, n);
		out[n] = '\n';
		out[n + 1] = '\0';
		free(s);
	} else {
		struct lib_buf b = {0};
		put_map(&b, root, 0, false, true);
		out = b.s ? b.s : lib_xstrdup("");
	}
	return out;
}

char *
est_emit(const struct estate *e, enum est_fmt fmt)
{
	json_t *root = est_to_json(e);
	char *out = est_json_emit(root, fmt);
	json_decref(root);
	return out;
}
