#!/usr/bin/env bash
# Regenerates the parts of the docs that strait itself produces, in place:
#   docs/estate.schema.json   = strait schema
#   docs/estate-format.md     the section between the BEGIN/END GENERATED
#                             REFERENCE lines = strait schema --markdown
# The hand-written rest of estate-format.md is left alone.
# tests/scripts/schema.sh fails when either is out of date.
# Usage: scripts/gen-docs.sh BUILDDIR   (the directory holding the strait binary)
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILDDIR" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$1" && pwd)/strait
[[ -x "$bin" ]] || { echo "gen-docs.sh: no strait binary in $1 (build it first)" >&2; exit 2; }
cd "$root"

BEGIN='<!-- BEGIN GENERATED REFERENCE (strait schema --markdown) -->'
END='<!-- END GENERATED REFERENCE -->'
guide=docs/estate-format.md

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" schema >"$tmp/schema.json"
"$bin" schema --markdown >"$tmp/ref.md"

if ! grep -qxF "$BEGIN" "$guide" || ! grep -qxF "$END" "$guide"; then
  echo "gen-docs.sh: $guide lacks the lines '$BEGIN' and '$END'" >&2
  exit 1
fi
# Keep everything up to BEGIN and from END on; put the reference between.
awk -v b="$BEGIN" -v e="$END" -v ref="$tmp/ref.md" '
  $0 == e { skip = 0 }
  !skip { print }
  $0 == b { while ((getline line < ref) > 0) print line; skip = 1 }
' "$guide" >"$tmp/guide.md"

for pair in "schema.json:docs/estate.schema.json" "guide.md:$guide"; do
  src=$tmp/${pair%%:*} dst=${pair#*:}
  if [[ -f "$dst" ]] && cmp -s "$src" "$dst"; then
    echo "unchanged $dst"
  else
    cp "$src" "$dst"
    echo "wrote $dst"
  fi
done
