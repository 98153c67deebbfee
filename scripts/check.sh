#!/usr/bin/env bash
# Runs every test of strait and ends with one line: "N passed, N failed".
# Usage: scripts/check.sh TESTBUILD FUZZBUILD FUZZ_SECONDS PLAINBUILD
set -uo pipefail
tb=${1:-build-test} fb=${2:-build-fuzz} secs=${3:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export STRAIT_FUZZ_BUILD="$root/$fb" STRAIT_FUZZ_SECS="$secs" STRAIT_PLAIN="$root/${4:-build}/strait"

meson test -C "$tb" --print-errorlogs --num-processes 2 >"$tb/meson-test.out" 2>&1
mrc=$?
grep -E '^ *[0-9]+/[0-9]+ ' "$tb/meson-test.out" || true
[ $mrc -ne 0 ] && grep -v -E '^ *[0-9]+/[0-9]+ ' "$tb/meson-test.out" | tail -n 80
/usr/bin/python3 scripts/test-summary.py "$tb/meson-logs/testlog.json"
src=$?
[ $mrc -eq 0 ] && [ $src -eq 0 ]
