#!/usr/bin/env bash
# Every C file of strait is clang-formatted (TAP: one case per file).
set -u
: "${SRCROOT:?source root}"
cd "$SRCROOT"
mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null || find src tests bench -name '*.[ch]')
echo "1..${#files[@]}"
n=0 fails=0
for f in "${files[@]}"; do
  n=$((n + 1))
  if out=$(clang-format --dry-run --Werror "$f" 2>&1); then
    echo "ok $n - $f"
  else
    fails=$((fails + 1))
    echo "not ok $n - $f (make format fixes it)"
    printf '%s\n' "$out" | head -5 | sed 's/^/# /'
  fi
done
exit $((fails > 0))
