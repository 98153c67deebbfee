#!/usr/bin/env bash
# Golden tests (TAP). For every tests/golden/NAME.golden.yaml:
#   - strait fmt of the input (tests/golden/NAME.in.yaml, else examples/NAME.yaml) equals it;
#   - strait fmt of the golden file equals it (the canonical form is a fixed point);
#   - strait fmt -o json, loaded back and printed as YAML, equals it (JSON round trip).
# For every tests/golden/errors/NAME.yaml: strait check exits 2 and prints exactly
# tests/golden/errors/NAME.err on stderr (every error, each with file:line:col).
# Set UPDATE=1 to rewrite the expected files from current output.
set -u
: "${STRAIT:?path to the strait binary}" "${SRCROOT:?source root}"
cd "$SRCROOT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 fails=0
cases=()
for g in tests/golden/*.golden.yaml; do cases+=("fmt:$g"); done
for e in tests/golden/errors/*.yaml; do cases+=("err:$e"); done
echo "1..$(( ${#cases[@]} ))"

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; sed 's/^/# /' "$2" | head -40; }

for c in "${cases[@]}"; do
  kind=${c%%:*} f=${c#*:}
  if [ "$kind" = fmt ]; then
    name=$(basename "$f" .golden.yaml)
    in=tests/golden/$name.in.yaml
    [ -f "$in" ] || in=examples/$name.yaml
    if [ "${UPDATE:-0}" = 1 ]; then "$STRAIT" fmt "$in" >"$f"; fi
    : >"$tmp/log"
    "$STRAIT" fmt "$in" >"$tmp/a.yaml" 2>>"$tmp/log" || echo "fmt $in failed" >>"$tmp/log"
    diff -u "$f" "$tmp/a.yaml" >>"$tmp/log" 2>&1
    "$STRAIT" fmt "$f" >"$tmp/b.yaml" 2>>"$tmp/log" || echo "fmt $f failed" >>"$tmp/log"
    diff -u "$f" "$tmp/b.yaml" >>"$tmp/log" 2>&1
    "$STRAIT" fmt -o json "$f" >"$tmp/c.json" 2>>"$tmp/log" || echo "fmt -o json failed" >>"$tmp/log"
    "$STRAIT" fmt "$tmp/c.json" >"$tmp/c.yaml" 2>>"$tmp/log" || echo "fmt of json failed" >>"$tmp/log"
    diff -u "$f" "$tmp/c.yaml" >>"$tmp/log" 2>&1
    if [ -s "$tmp/log" ]; then notok "fmt $name" "$tmp/log"; else ok "fmt $name"; fi
  else
    exp=${f%.yaml}.err
    "$STRAIT" check "$f" >/dev/null 2>"$tmp/err"
    rc=$?
    if [ "${UPDATE:-0}" = 1 ]; then cp "$tmp/err" "$exp"; fi
    : >"$tmp/log"
    [ $rc -eq 2 ] || echo "exit status $rc, expected 2" >>"$tmp/log"
    diff -u "$exp" "$tmp/err" >>"$tmp/log" 2>&1
    if grep -v '^strait:' "$tmp/err" | grep -qvE '^[^:]+:[0-9]+:[0-9]+: error: '; then
      echo "an error without file:line:col" >>"$tmp/log"
    fi
    if [ -s "$tmp/log" ]; then notok "errors $(basename "$f")" "$tmp/log"; else ok "errors $(basename "$f")"; fi
  fi
done
exit $((fails > 0))
