/*
 * est_load.c - read an estate from YAML or JSON, driven by the field tables.
 *
 * libfyaml parses the text into a document tree (JSON is read as the YAML 1.2
 * subset it is); this file walks the tree against est_schema.c and fills the
 * model in one arena. It never stops at the first problem: every unknown
 * key, wrong type, bad value, missing field, duplicate name and dangling
 * reference is reported with file:line:col, the object's path and what was
 * expected, and the load fails only after the whole file has been read.
 *
 * Order of work: (1) parse: values are converted and stored, named objects
 * register in a per-kind table, references are queued; (2) est_resolve.c
 * resolves the queued references and derives what engines need. Sequences
 * are counted before they are read so each list is one arena array and
 * pointers into it stay valid while references are queued.
 *
 * Recovery plans may name objects that they create themselves (a connect
 * step naming the gateway an earlier step creates): objects declared inside
 * recovery_plans register as "planned" and only plan references see them.
 */
#include "est_internal.h"

#include <errno.h>
#include <libfyaml.h>
#include <stdlib.h>
#include <string.h>

static struct est_pos
node_pos(struct fy_node *n, struct est_pos fallback)
{
	for (int depth = 0; n && depth < 64; depth++) {
		if (fy_node_is_scalar(n)) {
			struct fy_token *t = fy_node_get_scalar_token(n);
			const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
			if (!m)
				return fallback;
			return (struct est_pos){(uint32_t)m->line + 1, (uint32_t)m->column + 1};
		}
		void *it = NULL;
		if (fy_node_is_mapping(n)) {
			struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
			n = p ? fy_node_pair_key(p) : NULL;
		} else {
			n = fy_node_sequence_iterate(n, &it);
		}
	}
	return fallback;
}

/* ---- paths for messages ------------------------------------------------ */

static size_t path_push(struct ld *l, const char *fmt, ...) LIB_PRINTF(2, 3);

static size_t
path_push(struct ld *l, const char *fmt, ...)
{
	size_t old = l->plen;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(l->path + l->plen, sizeof(l->path) - l->plen, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->plen += (size_t)n;
	if (l->plen >= sizeof(l->path))
		l->plen = sizeof(l->path) - 1;
	return old;
}

static void
path_pop(struct ld *l, size_t old)
{
	l->plen = old;
	l->path[old] = '\0';
}

void
ld_err(struct ld *l, struct est_pos pos, const char *hint, const char *fmt, ...)
{
	va_list ap;
	struct lib_buf b = {0};
	va_start(ap, fmt);
	lib_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	lib_diag_add(l->diags, LIB_SEV_ERROR, l->file, pos.line, pos.col, l->path, hint, "%s",
	             b.s ? b.s : "");
	lib_buf_free(&b);
}

/* ---- scalars ------------------------------------------------------------ */

static const char *
scalar(struct ld *l, struct fy_node *n, struct est_pos pos, const char *what)
{
	if (!fy_node_is_scalar(n)) {
		ld_err(l, pos, NULL, "expected %s, found a %s", what,
		       fy_node_is_mapping(n) ? "mapping" : "sequence");
		return NULL;
	}
	const char *s = fy_node_get_scalar0(n);
	if (!s)
		lib_oom();
	return s;
}

static bool
valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 80)
		return false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

static void
enum_expected(const struct est_enum *e, char *buf, size_t n)
{
	size_t off = (size_t)snprintf(buf, n, "expected one of: ");
	for (uint32_t i = 0; i < e->n && off < n; i++)
		off += (size_t)snprintf(buf + off, n - off, "%s%s", i ? ", " : "", e->names[i]);
}

/* Parse one value of a non-container field type into dst. */
static void
read_value(struct ld *l, const struct est_field *f, struct fy_node *n, void *dst,
           struct est_pos pos)
{
	const char *s;
	char hint[512];

	switch (f->type) {
	case EF_STR:
		if ((s = scalar(l, n, pos, "a string")))
			*(const char **)dst = lib_arena_strdup(&l->e->arena, s);
		return;
	case EF_NAME:
		if (!(s = scalar(l, n, pos, "a name")))
			return;
		if (!valid_name(s)) {
			ld_err(l, pos, "expected letters, digits, '-', '_' or '.', at most 80",
			       "bad name '%s'", s);
			return;
		}
		*(const char **)dst = lib_arena_strdup(&l->e->arena, s);
		return;
	case EF_BOOL:
		if (!(s = scalar(l, n, pos, "true or false")))
			return;
		if (strcmp(s, "true") == 0)
			*(bool *)dst = true;
		else if (strcmp(s, "false") == 0)
			*(bool *)dst = false;
		else
			ld_err(l, pos, "expected true or false", "bad boolean '%s'", s);
		return;
	case EF_U32: {
		if (!(s = scalar(l, n, pos, "an integer")))
			return;
		char *end;
		errno = 0;
		unsigned long long v = strtoull(s, &end, 10);
		int64_t max = f->max ? f->max : UINT32_MAX;
		if (!*s || *end || s[0] == '-' || s[0] == '+' || errno || (int64_t)v < f->min ||
		    v > (unsigned long long)max) {
			snprintf(hint, sizeof(hint), "expected an integer from %lld to %lld",
			         (long long)f->min, (long long)max);
			ld_err(l, pos, hint, "bad value '%s'", s);
			return;
		}
		*(uint32_t *)dst = (uint32_t)v;
		return;
	}
	case EF_ENUM: {
		if (!(s = scalar(l, n, pos, "a name")))
			return;
		int v = est_enum_lookup(f->enm, s);
		if (v < 0) {
			const char *near = lib_nearest(s, f->enm->names, f->enm->n);
			if (near)
				snprintf(hint, sizeof(hint), "did you mean '%s'?", near);
			else
				enum_expected(f->enm, hint, sizeof(hint));
			ld_err(l, pos, hint, "unknown %s '%s'", f->enm->name, s);
			return;
		}
		*(int *)dst = v;
		return;
	}
	case EF_PREFIX: {
		if (!(s = scalar(l, n, pos, "a prefix")))
			return;
		int rc = ip_prefix_parse(s, dst);
		if (rc == -EDOM) {
			char buf[IP_STRLEN];
			snprintf(hint, sizeof(hint), "did you mean %s?", ip_prefix_fmt(dst, buf));
			ld_err(l, pos, hint, "prefix '%s' has host bits set", s);
		} else if (rc) {
			ld_err(l, pos, "expected an IPv4 or IPv6 prefix such as 10.1.0.0/16",
			       "bad prefix '%s'", s);
		}
		return;
	}
	case EF_ADDR:
		if (!(s = scalar(l, n, pos, "an IP address")))
			return;
		if (ip_addr_parse(s, dst))
			ld_err(l, pos, "expected an IPv4 or IPv6 address such as 10.1.0.4",
			       "bad address '%s'", s);
		return;
	case EF_DURATION: {
		if (!(s = scalar(l, n, pos, "a duration")))
			return;
		int64_t v;
		if (lib_parse_duration(s, &v) || v < f->min || (f->max && v > f->max)) {
			ld_err(l, pos, "expected a duration such as 90s, 5m, 4h, 1h30m or 2d",
			       "bad duration '%s'", s);
			return;
		}
		*(int64_t *)dst = v;
		return;
	}
	case EF_SIZE:
		if (!(s = scalar(l, n, pos, "a size")))
			return;
		if (lib_parse_size(s, dst))
			ld_err(l, pos, "expected a size such as 512MiB, 32GiB or 4TiB",
			       "bad size '%s'", s);
		return;
	case EF_BANDWIDTH:
		if (!(s = scalar(l, n, pos, "a bandwidth")))
			return;
		if (lib_parse_bandwidth(s, dst))
			ld_err(l, pos, "expected a bandwidth such as 50Mbps, 1Gbps or 10Gbps",
			       "bad bandwidth '%s'", s);
		return;
	case EF_REF: {
		struct est_ref *r = dst;
		if (!(s = scalar(l, n, pos, "a name")))
			return;
		r->name = lib_arena_strdup(&l->e->arena, s);
		r->pos = pos;
		r->i = r->j = EST_NONE;
		ld_queue_ref(l, r, f->kind);
		return;
	}
	default:
		abort(); /* containers are handled by the callers */
	}
}

static void read_object(struct ld *l, const struct est_class *c, struct fy_node *n, void *obj,
                        struct est_pos pos);

static void
read_list(struct ld *l, const struct est_field *f, struct fy_node *n, void *dst, struct est_pos pos)
{
	if (!fy_node_is_sequence(n)) {
		ld_err(l, pos, NULL, "expected a sequence (a list), found a %s",
		       fy_node_is_mapping(n) ? "mapping" : "scalar");
		return;
	}
	int cnt = fy_node_sequence_item_count(n);
	const struct est_field *el = f->elem;
	if (cnt < 0)
		cnt = 0;
	if ((f->min && cnt < f->min) || (f->max && cnt > f->max)) {
		if (f->min == f->max)
			ld_err(l, pos, NULL, "expected exactly %lld items, found %d",
			       (long long)f->min, cnt);
		else
			ld_err(l, pos, NULL, "expected at least %lld item%s, found %d",
			       (long long)f->min, f->min == 1 ? "" : "s", cnt);
	}
	char *arr = cnt ? lib_arena_alloc(&l->e->arena, f->esize * (size_t)cnt) : NULL;
	void *it = NULL;
	struct fy_node *item;
	uint32_t i = 0;
	if (l->nl >= LD_MAX_DEPTH) {
		ld_err(l, pos, NULL, "nesting too deep");
		return;
	}
	l->nl++;
	while ((item = fy_node_sequence_iterate(n, &it)) != NULL) {
		struct est_pos ipos = node_pos(item, pos);
		void *slot = arr + f->esize * i;
		const char *label = NULL;
		if (el->type == EF_INLINE && el->cls->name_field >= 0 && fy_node_is_mapping(item)) {
			const char *key = el->cls->fields[el->cls->name_field].key;
			struct fy_node *nn = fy_node_mapping_lookup_by_string(item, key, -1);
			if (nn && fy_node_is_scalar(nn))
				label = fy_node_get_scalar0(nn);
		}
		size_t old = label ? path_push(l, "[%s]", label) : path_push(l, "[%u]", i);
		l->lidx[l->nl - 1] = i;
		l->lname[l->nl - 1] = label;
		if (el->type == EF_INLINE)
			read_object(l, el->cls, item, slot, ipos);
		else
			read_value(l, el, item, slot, ipos);
		path_pop(l, old);
		i++;
	}
	l->nl--;
	struct est_anylist *lst = dst;
	lst->v = arr;
	lst->n = i;
}

static void
read_limits(struct ld *l, struct fy_node *n, void *dst, struct est_pos pos)
{
	if (!fy_node_is_mapping(n)) {
		ld_err(l, pos, NULL, "expected a mapping of limit names to integers");
		return;
	}
	int cnt = fy_node_mapping_item_count(n);
	struct est_limit_override *arr =
	    cnt > 0 ? lib_arena_alloc(&l->e->arena, sizeof(*arr) * (size_t)cnt) : NULL;
	uint32_t k = 0;
	void *it = NULL;
	struct fy_node_pair *p;
	const char *keys[EST_LIM__COUNT];
	for (int i = 0; i < EST_LIM__COUNT; i++)
		keys[i] = est_limit_defs[i].key;
	while ((p = fy_node_mapping_iterate(n, &it)) != NULL) {
		struct fy_node *kn = fy_node_pair_key(p), *vn = fy_node_pair_value(p);
		struct est_pos kp = node_pos(kn, pos), vp = node_pos(vn, kp);
		const char *key = fy_node_is_scalar(kn) ? fy_node_get_scalar0(kn) : NULL;
		int idx = -1;
		for (int i = 0; key && i < EST_LIM__COUNT; i++)
			if (strcmp(key, keys[i]) == 0)
				idx = i;
		if (idx < 0) {
			char hint[128];
			const char *near = key ? lib_nearest(key, keys, EST_LIM__COUNT) : NULL;
			snprintf(hint, sizeof(hint), near ? "did you mean '%s'?" : "%s",
			         near ? near : "see the limits table in docs/estate-format.md");
			ld_err(l, kp, hint, "unknown limit '%s'", key ? key : "?");
			continue;
		}
		const struct est_limit_def *d = &est_limit_defs[idx];
		const char *s = vn && fy_node_is_scalar(vn) ? fy_node_get_scalar0(vn) : NULL;
		char *end = NULL;
		long long v = s ? strtoll(s, &end, 10) : 0;
		if (!s || !*s || *end || v < d->min || v > d->max) {
			char hint[96];
			snprintf(hint, sizeof(hint), "expected an integer from %lld to %lld",
			         (long long)d->min, (long long)d->max);
			size_t old = path_push(l, ".%s", key);
			ld_err(l, vp, hint, "bad value '%s'", s ? s : "(not a scalar)");
			path_pop(l, old);
			continue;
		}
		arr[k].pos = kp;
		arr[k].key = d->key;
		arr[k].value = v;
		k++;
	}
	struct est_anylist *lst = dst;
	lst->v = arr;
	lst->n = k;
}

static void
set_defaults(const struct est_class *c, void *obj)
{
	for (uint32_t i = 0; i < c->nfields; i++) {
		const struct est_field *f = &c->fields[i];
		if (!(f->flags & EF_DEFAULT))
			continue;
		char *dst = (char *)obj + f->off;
		switch (f->type) {
		case EF_BOOL:
			*(bool *)dst = f->dflt != 0;
			break;
		case EF_U32:
			*(uint32_t *)dst = (uint32_t)f->dflt;
			break;
		case EF_ENUM:
			*(int *)dst = (int)f->dflt;
			break;
		case EF_DURATION:
			*(int64_t *)dst = f->dflt;
			break;
		default:
			abort();
		}
	}
	/* An embedded object takes its defaults even when its key is absent. */
	for (uint32_t i = 0; i < c->nfields; i++)
		if (c->fields[i].type == EF_INLINE)
			set_defaults(c->fields[i].cls, (char *)obj + c->fields[i].off);
}

static void
read_object(struct ld *l, const struct est_class *c, struct fy_node *n, void *obj,
            struct est_pos pos)
{
	*(struct est_pos *)obj = pos; /* every class begins with its position */
	set_defaults(c, obj);
	if (!fy_node_is_mapping(n)) {
		ld_err(l, pos, NULL, "expected a mapping (%s), found a %s", c->name,
		       fy_node_is_sequence(n) ? "sequence" : "scalar");
		return;
	}
	if (l->depth++ > LD_MAX_DEPTH) {
		ld_err(l, pos, NULL, "nesting too deep");
		l->depth--;
		return;
	}
	bool seen[64] = {0};
	int arm = -1;
	void *it = NULL;
	struct fy_node_pair *p;
	while ((p = fy_node_mapping_iterate(n, &it)) != NULL) {
		struct fy_node *kn = fy_node_pair_key(p), *vn = fy_node_pair_value(p);
		struct est_pos kp = node_pos(kn, pos);
		const char *key = kn && fy_node_is_scalar(kn) ? fy_node_get_scalar0(kn) : NULL;
		if (!key) {
			ld_err(l, kp, "keys are plain names", "complex mapping key");
			continue;
		}
		uint32_t fi;
		for (fi = 0; fi < c->nfields; fi++)
			if (strcmp(c->fields[fi].key, key) == 0)
				break;
		if (fi == c->nfields) {
			const char *cands[64];
			for (uint32_t i = 0; i < c->nfields; i++)
				cands[i] = c->fields[i].key;
			const char *near = lib_nearest(key, cands, c->nfields);
			char hint[128];
			if (near)
				snprintf(hint, sizeof(hint), "did you mean '%s'?", near);
			size_t old = path_push(l, "%s%s", l->plen ? "." : "", key);
			ld_err(l, kp, near ? hint : NULL, "unknown key '%s' in %s", key, c->name);
			path_pop(l, old);
			continue;
		}
		const struct est_field *f = &c->fields[fi];
		seen[fi] = true;
		struct est_pos vp = node_pos(vn, kp);
		size_t old = path_push(l, "%s%s", l->plen ? "." : "", key);
		if (!vn ||
		    (fy_node_is_scalar(vn) && fy_node_get_style(vn) == FYNS_PLAIN &&
		     (!fy_node_get_scalar0(vn)[0] || strcmp(fy_node_get_scalar0(vn), "null") == 0 ||
		      strcmp(fy_node_get_scalar0(vn), "~") == 0))) {
			seen[fi] = false; /* null: not set */
			path_pop(l, old);
			continue;
		}
		if (f->flags & EF_ARM) {
			if (arm >= 0)
				ld_err(l, kp, "an action has exactly one of its kinds",
				       "both '%s' and '%s' given", c->fields[arm].key, key);
			else
				arm = (int)fi;
		}
		bool was_planned = l->in_plan;
		if (c == &est_class_estate && strcmp(key, "recovery_plans") == 0)
			l->in_plan = true;
		if (c == &est_class_estate && strcmp(key, "replication") == 0)
			l->in_repl = true;
		char *dst = (char *)obj + f->off;
		switch (f->type) {
		case EF_LIST:
			read_list(l, f, vn, dst, vp);
			break;
		case EF_OBJ: {
			void *sub = lib_arena_alloc(&l->e->arena, f->cls->size);
			memcpy(dst, &sub, sizeof(sub));
			read_object(l, f->cls, vn, sub, vp);
			break;
		}
		case EF_INLINE:
			read_object(l, f->cls, vn, dst, vp);
			break;
		case EF_LIMITS:
			read_limits(l, vn, dst, vp);
			break;
		default:
			read_value(l, f, vn, dst, vp);
		}
		l->in_plan = was_planned;
		if (c == &est_class_estate && strcmp(key, "replication") == 0)
			l->in_repl = false;
		path_pop(l, old);
	}
	for (uint32_t fi = 0; fi < c->nfields; fi++) {
		const struct est_field *f = &c->fields[fi];
		if ((f->flags & EF_REQ) && !seen[fi])
			ld_err(l, pos, NULL, "missing required key '%s' in %s", f->key, c->name);
	}
	if (c->flags & EC_ONEOF) {
		if (arm < 0) {
			char hint[512];
			size_t off = (size_t)snprintf(hint, sizeof(hint), "expected one of: ");
			for (uint32_t fi = 0, k = 0; fi < c->nfields; fi++)
				if (c->fields[fi].flags & EF_ARM)
					off +=
					    (size_t)snprintf(hint + off, sizeof(hint) - off, "%s%s",
					                     k++ ? ", " : "", c->fields[fi].key);
			ld_err(l, pos, hint, "%s names no kind", c->name);
		} else {
			*(int *)((char *)obj + c->kind_off) = arm;
		}
	}
	if (c->default_name && c->name_field >= 0) {
		const char **np = (const char **)((char *)obj + c->fields[c->name_field].off);
		if (!*np)
			*np = c->default_name(&l->e->arena, obj);
	}
	if (c->kind != EST_K_NONE && c->name_field >= 0) {
		const char *name = *(const char **)((char *)obj + c->fields[c->name_field].off);
		if (name)
			ld_register(l, c, name, pos);
	}
	l->depth--;
}

static int
load_doc(struct estate *e, const char *file, struct fy_document *doc, struct lib_diags *diags)
{
	struct ld l = {.e = e, .file = file, .diags = diags};
	uint32_t before = diags->nerr;
	struct fy_node *root = fy_document_root(doc);
	ld_init(&l);
	if (!root) {
		ld_err(&l, (struct est_pos){1, 1}, "expected a mapping with at least 'estate:'",
		       "empty document");
	} else {
		read_object(&l, &est_class_estate, root, e, node_pos(root, (struct est_pos){1, 1}));
		ld_finish(&l);
	}
	ld_fini(&l);
	return diags->nerr > before ? -EINVAL : 0;
}

static void
collect_parse_errors(struct fy_diag *dg, const char *file, struct lib_diags *diags)
{
	void *it = NULL;
	struct fy_diag_error *de;
	bool any = false;
	while ((de = fy_diag_errors_iterate(dg, &it)) != NULL) {
		if (de->type < FYET_ERROR)
			continue;
		lib_diag_add(diags, LIB_SEV_ERROR, file, (uint32_t)de->line + 1,
		             (uint32_t)de->column + 1, NULL, "the file is not valid YAML or JSON",
		             "%s", de->msg);
		any = true;
	}
	if (!any)
		lib_diag_add(diags, LIB_SEV_ERROR, file, 0, 0, NULL, NULL, "cannot parse");
}

/* libfyaml misreads some malformed UTF-8 (it can hang on a directive, or
 * drop the rest of a line after a comment), so text is checked first. */
static bool
utf8_ok(const char *name, const char *text, size_t len, struct lib_diags *diags)
{
	size_t bad = lib_utf8_invalid(text, len);
	if (bad == len)
		return true;
	uint32_t line = 1, col = 1;
	for (size_t i = 0; i < bad; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			col++;
		}
	}
	lib_diag_add(diags, LIB_SEV_ERROR, name, line, col, NULL, "expected UTF-8 text",
	             "invalid UTF-8 byte 0x%02x", (unsigned char)text[bad]);
	return false;
}

static int
build(const char *name, const char *text, size_t len, bool json, struct lib_diags *diags,
      struct estate **out)
{
	if (!utf8_ok(name, text, len, diags))
		return -EINVAL;
	struct fy_diag_cfg dcfg;
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.colorize = false;
	struct fy_diag *dg = fy_diag_create(&dcfg);
	if (!dg)
		lib_oom();
	fy_diag_set_collect_errors(dg, true);
	struct fy_parse_cfg cfg = {
	    .flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG | FYPCF_RESOLVE_DOCUMENT |
	             FYPCF_DISABLE_RECYCLING | (json ? FYPCF_JSON_FORCE : FYPCF_JSON_NONE),
	    .diag = dg,
	};
	struct fy_document *doc = fy_document_build_from_string(&cfg, text, len);
	if (!doc) {
		collect_parse_errors(dg, name, diags);
		fy_diag_destroy(dg);
		return -EINVAL;
	}
	struct estate *e = lib_xcalloc(1, sizeof(*e));
	lib_arena_init(&e->arena);
	/* diagnostics name the caller's string; the estate keeps its own copy */
	int rc = load_doc(e, name, doc, diags);
	e->file = lib_arena_strdup(&e->arena, name);
	fy_document_destroy(doc);
	fy_diag_destroy(dg);
	if (rc) {
		est_free(e);
		return rc;
	}
	*out = e;
	return 0;
}

static bool
looks_json(const char *name, const char *text)
{
	size_t n = strlen(name);
	if (n >= 5 && strcmp(name + n - 5, ".json") == 0)
		return true;
	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
		text++;
	return *text == '{';
}

int
est_load_string(const char *name, const char *text, size_t len, struct lib_diags *diags,
                struct estate **out)
{
	*out = NULL;
	return build(name, text, len, looks_json(name, text), diags, out);
}

int
est_load_file(const char *path, struct lib_diags *diags, struct estate **out)
{
	char *text;
	size_t len;
	*out = NULL;
	int rc = lib_read_file(path, &text, &len);
	if (rc) {
		lib_diag_add(diags, LIB_SEV_ERROR, path, 0, 0, NULL, NULL, "cannot read: %s",
		             strerror(-rc));
		return rc;
	}
	if (memchr(text, '\0', len)) {
		lib_diag_add(diags, LIB_SEV_ERROR, path, 0, 0, NULL,
		             "expected a YAML or JSON text file", "file contains NUL bytes");
		free(text);
		return -EINVAL;
	}
	rc = build(path, text, len, looks_json(path, text), diags, out);
	free(text);
	return rc;
}

void
est_free(struct estate *e)
{
	if (!e)
		return;
	for (int k = 0; k < EST_K__COUNT; k++)
		lib_map_free(&e->names[k]);
	lib_arena_free(&e->arena);
	free(e);
}
