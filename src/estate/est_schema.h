/*
 * est_schema.h - the estate file format as data.
 *
 * Each object of the model is a class: a C struct plus a table of fields
 * (key, type, offset, flags, documentation). One table drives loading,
 * canonical printing, the JSON Schema and the format reference. A field's
 * type says how a value is read and where it is stored:
 *
 *   EF_STR       const char *            any string
 *   EF_NAME      const char *            identifier: [A-Za-z0-9._-]+, at most 80
 *   EF_BOOL      bool
 *   EF_U32       uint32_t                with min..max
 *   EF_ENUM      int                     one of enm->names (case, '_', '-', '.'
 *                                        and spaces ignored when matching)
 *   EF_PREFIX    struct ip_prefix        host bits must be zero
 *   EF_ADDR      struct ip_addr
 *   EF_DURATION  int64_t seconds         "5m", "4h", "1h30m"
 *   EF_SIZE      uint64_t bytes          "32GiB"
 *   EF_BANDWIDTH uint64_t Mbps           "1Gbps"
 *   EF_REF       struct est_ref          a name of kind ->kind
 *   EF_OBJ       T * (arena)             a mapping of class ->cls
 *   EF_INLINE    T (embedded)            a mapping of class ->cls, always present
 *   EF_LIST      EST_LIST(T)             a sequence of ->elem
 *   EF_LIMITS    EST_LIST(est_limit_override)  the limits: mapping
 */
#ifndef STRAIT_EST_SCHEMA_H
#define STRAIT_EST_SCHEMA_H

#include "est.h"

enum est_ftype {
	EF_STR,
	EF_NAME,
	EF_BOOL,
	EF_U32,
	EF_ENUM,
	EF_PREFIX,
	EF_ADDR,
	EF_DURATION,
	EF_SIZE,
	EF_BANDWIDTH,
	EF_REF,
	EF_OBJ,
	EF_INLINE,
	EF_LIST,
	EF_LIMITS,
};

enum {
	EF_REQ = 1u << 0,    /* must be present */
	EF_ARM = 1u << 1,    /* one arm of a one-of class */
	EF_DEFAULT = 1u << 2 /* dflt holds the default (bool, u32, enum, duration) */
};

struct est_enum {
	const char *name; /* for docs: "tier" */
	const char *const *names;
	uint32_t n;
};

struct est_class;

struct est_field {
	const char *key;
	enum est_ftype type;
	size_t off;
	uint32_t flags;
	int64_t dflt;
	int64_t min, max;             /* EF_U32, EF_DURATION; max 0 = none */
	const struct est_enum *enm;   /* EF_ENUM */
	enum est_kind kind;           /* EF_REF */
	const struct est_class *cls;  /* EF_OBJ, EF_INLINE */
	const struct est_field *elem; /* EF_LIST */
	size_t esize;                 /* EF_LIST: element size */
	const char *doc;
};

enum {
	EC_SCOPED = 1u << 0, /* names register as <parent>/<name> */
	EC_ONEOF = 1u << 1,  /* exactly one EF_ARM field; its index goes to kind_off */
};

struct est_class {
	const char *name; /* for docs and errors: "vnet" */
	size_t size;
	const struct est_field *fields;
	uint32_t nfields;
	enum est_kind kind; /* objects register their name under this kind */
	int name_field;     /* index of the name field, -1 if none */
	uint32_t flags;
	size_t kind_off; /* EC_ONEOF: int that receives the arm number */
	const char *doc;
	/* Fills a missing name from other fields (connections, peerings). */
	const char *(*default_name)(struct lib_arena *a, const void *obj);
};

extern const struct est_class est_class_estate;
extern const struct est_enum est_enum_tier, est_enum_sku, est_enum_next_hop, est_enum_action;

/* All classes, for docs and schema generation, in reading order. */
extern const struct est_class *const est_classes[];
extern const uint32_t est_nclasses;

/* Matches a spelling against an enum; -1 when none. */
int est_enum_lookup(const struct est_enum *e, const char *s);

#endif
