#!/usr/bin/env bash
# Routing and recovery golden tests (TAP). Each tests/golden/{routing,recovery}/NAME.out starts with
# the command on a line "$ strait ARGS" and the reasoning that derives the
# expected answer by hand from the rules (lines starting with '#'); the rest
# is the expected output, compared exactly. UPDATE=1 rewrites the outputs and
# keeps the command and reasoning. @TMP@ in a command is a fresh temporary
# directory; in the output it stands for that directory again.
set -u
: "${STRAIT:?path to the strait binary}" "${SRCROOT:?source root}"
cd "$SRCROOT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export STRAIT_STATE="$tmp/state.db" # recovery jobs: this test's own state
files=(tests/golden/routing/*.out tests/golden/recovery/*.out)
echo "1..${#files[@]}"
n=0 fails=0
for f in "${files[@]}"; do
  n=$((n + 1))
  cmd=$(sed -n 's/^\$ strait //p' "$f" | head -n 1)
  if [ -z "$cmd" ]; then
    fails=$((fails + 1)); echo "not ok $n - $f: no '\$ strait' line"; continue
  fi
  work=$(mktemp -d)
  # shellcheck disable=SC2086
  "$STRAIT" ${cmd//@TMP@/$work} >"$tmp/raw" 2>&1
  echo "exit $?" >>"$tmp/raw"
  sed "s|$work|@TMP@|g" "$tmp/raw" >"$tmp/out"
  rm -rf "$work"
  grep -v -e '^#' -e '^\$ strait ' "$f" >"$tmp/want"
  if [ "${UPDATE:-0}" = 1 ]; then
    { grep -e '^#' -e '^\$ strait ' "$f"; cat "$tmp/out"; } >"$tmp/new" && cp "$tmp/new" "$f"
    cp "$tmp/out" "$tmp/want"
  fi
  if diff -u "$tmp/want" "$tmp/out" >"$tmp/diff"; then
    echo "ok $n - strait $cmd"
  else
    fails=$((fails + 1)); echo "not ok $n - strait $cmd"; sed 's/^/# /' "$tmp/diff" | head -40
  fi
done
exit $((fails > 0))
