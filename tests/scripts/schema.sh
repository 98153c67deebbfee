#!/usr/bin/env bash
# Checks that the format documents match strait and the examples match them
# (TAP).
#
#   schema file      docs/estate.schema.json equals `strait schema`
#   reference        the generated section of docs/estate-format.md equals
#                    `strait schema --markdown`
#   X.yaml           every example validates against the schema (JSON Schema
#                    2020-12, python3-jsonschema), read as YAML 1.2 core
#   X fmt json       `strait fmt -o json X.yaml` validates too
#   invalid          a document with an unknown key fails validation, and
#                    strait rejects it as well (the schema is not vacuous)
#
# Environment (meson sets both): STRAIT, the strait binary; SRCROOT, the
# source tree. scripts/gen-docs.sh BUILDDIR regenerates both documents.
set -uo pipefail

SRCROOT=${SRCROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
STRAIT=${STRAIT:-$SRCROOT/build/strait}
[[ "$STRAIT" == /* ]] || STRAIT=$PWD/$STRAIT
PY=/usr/bin/python3
BEGIN='<!-- BEGIN GENERATED REFERENCE (strait schema --markdown) -->'
END='<!-- END GENERATED REFERENCE -->'
if [[ ! -x "$STRAIT" ]]; then
  echo "schema.sh: no strait binary at '$STRAIT' (set STRAIT)" >&2
  exit 2
fi
cd "$SRCROOT" || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

shopt -s nullglob
examples=(examples/*.yaml)
echo "1..$((3 + 2 * ${#examples[@]} + 1))"
n=0
failed=0

ok() {
  n=$((n + 1))
  echo "ok $n - $1"
}

not_ok() {
  n=$((n + 1))
  failed=$((failed + 1))
  echo "not ok $n - $1"
  shift
  for line in "$@"; do
    printf '%s\n' "$line" | sed 's/^/# /'
  done
}

# Validates each FILE (YAML or JSON) against SCHEMA; prints one line per
# error, exits 1 when any. YAML is read with YAML 1.2 core resolution (only
# true/false are booleans, no timestamps), as libfyaml reads it.
cat >"$tmp/validate.py" <<'EOF'
import json, re, sys
import jsonschema, yaml

class Loader(yaml.SafeLoader):
    pass

Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))

with open(sys.argv[1]) as f:
    schema = json.load(f)
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
bad = 0
for path in sys.argv[2:]:
    with open(path) as f:
        doc = json.load(f) if path.endswith(".json") else yaml.load(f, Loader=Loader)
    for e in sorted(v.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        where = "/".join(map(str, e.absolute_path)) or "(top)"
        print(f"{path}: {where}: {e.message}")
        bad = 1
sys.exit(bad)
EOF

# (a) schema file
if ! "$STRAIT" schema >"$tmp/schema.json" 2>"$tmp/err"; then
  not_ok "schema file: docs/estate.schema.json equals strait schema" "strait schema failed:" \
    "$(cat "$tmp/err")"
elif ! diff -u docs/estate.schema.json "$tmp/schema.json" >"$tmp/diff" 2>&1; then
  not_ok "schema file: docs/estate.schema.json equals strait schema" \
    "out of date (scripts/gen-docs.sh BUILDDIR regenerates it):" "$(head -n 60 "$tmp/diff")"
else
  ok "schema file: docs/estate.schema.json equals strait schema"
fi

# (b) generated reference in the guide
"$STRAIT" schema --markdown >"$tmp/ref.md" 2>"$tmp/err"
if [[ ! -f docs/estate-format.md ]] || ! grep -qxF "$BEGIN" docs/estate-format.md ||
   ! grep -qxF "$END" docs/estate-format.md; then
  not_ok "reference: docs/estate-format.md holds strait schema --markdown" \
    "docs/estate-format.md is missing or lacks the lines '$BEGIN' and '$END'"
else
  awk -v b="$BEGIN" -v e="$END" '$0 == e { on = 0 } on { print } $0 == b { on = 1 }' \
    docs/estate-format.md >"$tmp/doc-ref.md"
  if ! diff -u "$tmp/doc-ref.md" "$tmp/ref.md" >"$tmp/diff"; then
    not_ok "reference: docs/estate-format.md holds strait schema --markdown" \
      "out of date (scripts/gen-docs.sh BUILDDIR regenerates it):" "$(head -n 60 "$tmp/diff")"
  else
    ok "reference: docs/estate-format.md holds strait schema --markdown"
  fi
fi

# The schema itself must be a valid 2020-12 schema.
if "$PY" "$tmp/validate.py" "$tmp/schema.json" >"$tmp/out" 2>&1; then
  ok "schema is a valid JSON Schema 2020-12 document"
else
  not_ok "schema is a valid JSON Schema 2020-12 document" "$(tail -n 20 "$tmp/out")"
fi

# (c) every example, as written and in strait's JSON canonical form
for x in "${examples[@]}"; do
  name=$(basename "$x" .yaml)
  if "$PY" "$tmp/validate.py" "$tmp/schema.json" "$x" >"$tmp/out" 2>&1; then
    ok "$name.yaml validates against the schema"
  else
    not_ok "$name.yaml validates against the schema" "$(head -n 40 "$tmp/out")"
  fi
  if ! "$STRAIT" fmt -o json "$x" >"$tmp/$name.json" 2>"$tmp/err"; then
    not_ok "$name: strait fmt -o json validates against the schema" "strait fmt failed:" \
      "$(cat "$tmp/err")"
  elif "$PY" "$tmp/validate.py" "$tmp/schema.json" "$tmp/$name.json" >"$tmp/out" 2>&1; then
    ok "$name: strait fmt -o json validates against the schema"
  else
    not_ok "$name: strait fmt -o json validates against the schema" "$(head -n 40 "$tmp/out")"
  fi
done

# (d) an unknown key (a misspelt address_space) is rejected by the schema
# and by strait.
"$PY" - "$tmp/invalid.json" <<'EOF'
import json, sys
doc = {
    "estate": "typo",
    "regions": [{"name": "eastasia", "geo": "asia"}],
    "vnets": [{"name": "hub", "region": "eastasia", "address_space": ["10.0.0.0/24"],
               "adress_space": ["10.1.0.0/24"]}],
}
with open(sys.argv[1], "w") as f:
    json.dump(doc, f)
EOF
"$PY" "$tmp/validate.py" "$tmp/schema.json" "$tmp/invalid.json" >"$tmp/out" 2>&1
src=$?
"$STRAIT" check "$tmp/invalid.json" >/dev/null 2>"$tmp/err"
lrc=$?
if [[ $src -ne 1 ]] || ! grep -q "adress_space" "$tmp/out"; then
  not_ok "invalid: an unknown key fails schema validation" \
    "validator exit $src, expected 1 naming 'adress_space':" "$(cat "$tmp/out")"
elif [[ $lrc -ne 2 ]] || ! grep -q "adress_space" "$tmp/err"; then
  not_ok "invalid: an unknown key fails schema validation" \
    "the schema rejects it but strait check exited $lrc:" "$(cat "$tmp/err")"
else
  ok "invalid: an unknown key fails schema validation"
fi

[[ $failed -eq 0 ]]
