#!/usr/bin/env bash
# Checks every examples/*.yaml against its expected findings (TAP).
#
# For each example X.yaml, four cases:
#   findings   `strait check -o json X.yaml`, reduced to "RULEID count" lines
#              (sorted), equals X.expect exactly; the file loads with nothing
#              on stderr (no load errors, no warnings)
#   exit       the exit status is 1 when a finding has severity error, else 0
#   fmt        `strait fmt X.yaml` loads back, formats to itself (idempotent)
#              and gives the same findings as the original
#   json       `strait fmt -o json X.yaml` loads back to the same canonical YAML
#
# Environment (meson sets both): STRAIT, the strait binary; SRCROOT, the
# source tree. Usage: examples.sh            run the cases
#                     examples.sh --update   rewrite every X.expect from the
#                                            current findings, then exit
set -uo pipefail

SRCROOT=${SRCROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
STRAIT=${STRAIT:-$SRCROOT/build/strait}
[[ "$STRAIT" == /* ]] || STRAIT=$PWD/$STRAIT
PY=/usr/bin/python3
update=false
case "${1:-}" in
  --update) update=true ;;
  "") ;;
  *) echo "usage: $0 [--update]" >&2; exit 2 ;;
esac
if [[ ! -x "$STRAIT" ]]; then
  echo "examples.sh: no strait binary at '$STRAIT' (set STRAIT)" >&2
  exit 2
fi

cd "$SRCROOT" || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Reduces `strait check -o json` (stdin) to sorted "RULEID count" lines.
# With --errors it prints the number of error findings instead.
reduce() {
  "$PY" -c '
import collections, json, sys
doc = json.load(sys.stdin)
f = doc["findings"]
if len(sys.argv) > 1:
    print(sum(1 for x in f if x["severity"] == "error"))
else:
    for rule, n in sorted(collections.Counter(x["rule"] for x in f).items()):
        print(rule, n)
' "$@"
}

shopt -s nullglob
examples=(examples/*.yaml)
if [[ ${#examples[@]} -eq 0 ]]; then
  echo "1..0 # no examples"
  exit 0
fi

if $update; then
  rc=0
  for x in "${examples[@]}"; do
    base=${x%.yaml}
    "$STRAIT" check -o json "$x" >"$tmp/out.json" 2>"$tmp/err"
    src=$?
    if [[ $src -gt 1 ]]; then
      echo "examples.sh: $x does not load:" >&2
      cat "$tmp/err" >&2
      rc=1
      continue
    fi
    reduce <"$tmp/out.json" >"$tmp/new"
    if [[ -f "$base.expect" ]] && cmp -s "$tmp/new" "$base.expect"; then
      echo "unchanged $base.expect"
    else
      cp "$tmp/new" "$base.expect"
      echo "wrote $base.expect:"
      sed 's/^/  /' "$base.expect"
    fi
  done
  exit $rc
fi

echo "1..$((${#examples[@]} * 4))"
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

for x in "${examples[@]}"; do
  name=$(basename "$x" .yaml)
  base=${x%.yaml}

  # findings
  "$STRAIT" check -o json "$x" >"$tmp/out.json" 2>"$tmp/err"
  rc=$?
  if [[ $rc -gt 1 ]]; then
    not_ok "$name: findings" "strait check exited $rc" "$(cat "$tmp/err")"
    not_ok "$name: exit status" "strait check exited $rc"
    not_ok "$name: fmt round trip" "not loaded"
    not_ok "$name: json round trip" "not loaded"
    continue
  fi
  reduce <"$tmp/out.json" >"$tmp/got" 2>"$tmp/pyerr"
  if [[ -s "$tmp/pyerr" ]]; then
    not_ok "$name: findings" "bad JSON from strait check:" "$(cat "$tmp/pyerr")"
  elif [[ ! -f "$base.expect" ]]; then
    not_ok "$name: findings" "missing $base.expect (tests/scripts/examples.sh --update writes it); got:" \
      "$(if [[ -s "$tmp/got" ]]; then cat "$tmp/got"; else echo "(no findings)"; fi)"
  elif ! diff -u "$base.expect" "$tmp/got" >"$tmp/diff"; then
    not_ok "$name: findings" "$(cat "$tmp/diff")"
  elif [[ -s "$tmp/err" ]]; then
    not_ok "$name: findings" "strait check wrote to stderr:" "$(cat "$tmp/err")"
  else
    ok "$name: findings"
  fi

  # exit status
  nerr=$(reduce --errors <"$tmp/out.json" 2>/dev/null)
  want=0
  [[ "${nerr:-0}" != 0 ]] && want=1
  if [[ $rc -eq $want ]]; then
    ok "$name: exit status"
  else
    not_ok "$name: exit status" "strait check exited $rc, expected $want ($nerr error findings)"
  fi

  # fmt round trip: canonical form loads, is a fixed point, same findings
  if ! "$STRAIT" fmt "$x" >"$tmp/c1.yaml" 2>"$tmp/err"; then
    not_ok "$name: fmt round trip" "strait fmt failed:" "$(cat "$tmp/err")"
  elif ! "$STRAIT" fmt "$tmp/c1.yaml" >"$tmp/c2.yaml" 2>"$tmp/err"; then
    not_ok "$name: fmt round trip" "canonical form does not load back:" "$(cat "$tmp/err")"
  elif ! diff -u "$tmp/c1.yaml" "$tmp/c2.yaml" >"$tmp/diff"; then
    not_ok "$name: fmt round trip" "strait fmt is not idempotent:" "$(cat "$tmp/diff")"
  else
    "$STRAIT" check -o json "$tmp/c1.yaml" 2>"$tmp/err" | reduce >"$tmp/got2" 2>>"$tmp/err"
    if ! diff -u "$tmp/got" "$tmp/got2" >"$tmp/diff"; then
      not_ok "$name: fmt round trip" "canonical form gives other findings:" "$(cat "$tmp/diff")"
    else
      ok "$name: fmt round trip"
    fi
  fi

  # json round trip: JSON canonical form loads back to the same YAML
  if ! "$STRAIT" fmt -o json "$x" >"$tmp/c.json" 2>"$tmp/err"; then
    not_ok "$name: json round trip" "strait fmt -o json failed:" "$(cat "$tmp/err")"
  elif ! "$STRAIT" fmt "$tmp/c.json" >"$tmp/c3.yaml" 2>"$tmp/err"; then
    not_ok "$name: json round trip" "JSON form does not load back:" "$(cat "$tmp/err")"
  elif ! diff -u "$tmp/c1.yaml" "$tmp/c3.yaml" >"$tmp/diff"; then
    not_ok "$name: json round trip" "JSON form loads to another estate:" "$(cat "$tmp/diff")"
  else
    ok "$name: json round trip"
  fi
done

[[ $failed -eq 0 ]]
