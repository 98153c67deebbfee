#!/usr/bin/env bash
# The long fuzzing run (make fuzz): one libFuzzer target (fuzz_load, the
# estate loader, by default; fuzz_nbd, the NBD protocol core; fuzz_xp, the
# transport's frame decoder) for SECS
# seconds under ASan + UBSan + LeakSanitizer, one worker per CPU. The corpus
# grows in BUILDDIR/fuzz-corpus[-nbd] across runs (seeded from
# tests/fuzz/corpus[-nbd] and the reproducers in tests/fuzz/crashes[-nbd]);
# crashes, leaks and hangs land in BUILDDIR/fuzz-found. Keep a reproducer by
# copying it to tests/fuzz/crashes[-nbd]/ (make check replays those).
# Usage: scripts/fuzz.sh BUILDDIR [SECS] [fuzz_load|fuzz_nbd|fuzz_xp|fuzz_bgp_open|fuzz_bgp_update]
#        (BUILDDIR configured with -Dfuzz=true)
set -euo pipefail
bd=${1:?usage: scripts/fuzz.sh BUILDDIR [SECS] [fuzz_load|fuzz_nbd|fuzz_xp|fuzz_bgp_open|fuzz_bgp_update]}
secs=${2:-600}
target=${3:-fuzz_load}
root=$(cd "$(dirname "$0")/.." && pwd)
case $target in
fuzz_load) sfx="" dict=(-dict="$root/tests/fuzz/estate.dict") ;;
fuzz_nbd) sfx="-nbd" dict=() ;;
fuzz_xp) sfx="-xp" dict=() ;;
fuzz_bgp_open) sfx="-bgp-open" dict=() ;;
fuzz_bgp_update) sfx="-bgp-update" dict=() ;;
*) echo "fuzz.sh: unknown target '$target' (expected fuzz_load, fuzz_nbd, fuzz_xp, fuzz_bgp_open or fuzz_bgp_update)" >&2; exit 2 ;;
esac
fz=$bd/tests/fuzz/$target
[[ -x $fz ]] || { echo "fuzz.sh: $fz is not built (CC=clang meson setup $bd -Dfuzz=true)" >&2; exit 2; }

corpus=$bd/fuzz-corpus$sfx found=$bd/fuzz-found
mkdir -p "$corpus" "$found"
cp -n "$root"/tests/fuzz/corpus$sfx/* "$corpus/"
if compgen -G "$root/tests/fuzz/crashes$sfx/*" >/dev/null; then
	cp -n "$root"/tests/fuzz/crashes$sfx/* "$corpus/"
fi
jobs=$(nproc)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "fuzz.sh: $target, $secs s, $jobs workers, corpus $corpus ($(find "$corpus" -type f | wc -l) inputs)"
log=$bd/$target.log
start=$bd/.fuzz-start
touch "$start"
rc=0
# -fork keeps fuzzing after a crash and collects every distinct one in $found
"$fz" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
	-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	"${dict[@]}" -artifact_prefix="$found/" \
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
