#!/usr/bin/env bash
# The long fuzzing run (make fuzz): tests/fuzz/fuzz_load for SECS seconds
# under ASan + UBSan + LeakSanitizer, one worker per CPU. The corpus grows
# in BUILDDIR/fuzz-corpus across runs (seeded from tests/fuzz/corpus and the
# reproducers in tests/fuzz/crashes); crashes, leaks and hangs land in
# BUILDDIR/fuzz-found. Keep a reproducer by copying it to tests/fuzz/crashes/
# (the 30-second check in make check replays that directory).
# Usage: scripts/fuzz.sh BUILDDIR [SECS]   (BUILDDIR configured with -Dfuzz=true)
set -euo pipefail
bd=${1:?usage: scripts/fuzz.sh BUILDDIR [SECS]}
secs=${2:-600}
root=$(cd "$(dirname "$0")/.." && pwd)
fz=$bd/tests/fuzz/fuzz_load
[[ -x $fz ]] || { echo "fuzz.sh: $fz is not built (CC=clang meson setup $bd -Dfuzz=true)" >&2; exit 2; }

corpus=$bd/fuzz-corpus found=$bd/fuzz-found
mkdir -p "$corpus" "$found"
cp -n "$root"/tests/fuzz/corpus/* "$corpus/"
if compgen -G "$root/tests/fuzz/crashes/*" >/dev/null; then
	cp -n "$root"/tests/fuzz/crashes/* "$corpus/"
fi
jobs=$(nproc)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "fuzz.sh: $secs s, $jobs workers, corpus $corpus ($(find "$corpus" -type f | wc -l) inputs)"
log=$bd/fuzz.log
start=$bd/.fuzz-start
touch "$start"
rc=0
# -fork keeps fuzzing after a crash and collects every distinct one in $found
"$fz" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
	-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-dict="$root/tests/fuzz/estate.dict" -artifact_prefix="$found/" \
	"$corpus" >"$log" 2>&1 || rc=$?
grep -E '^#[0-9]+' "$log" | tail -n 1 || true
new=$(find "$found" -type f -newer "$start" | wc -l)
echo "fuzz.sh: exit $rc; corpus now $(find "$corpus" -type f | wc -l) inputs; $new new reproducer(s) (log: $log)"
if [[ $new -gt 0 ]]; then
	find "$found" -type f -newer "$start" | head -n 20 | sed 's/^/  /'
	echo "fuzz.sh: replay one with: $fz FILE; keep it under tests/fuzz/crashes/"
	exit 1
fi
exit "$rc"
