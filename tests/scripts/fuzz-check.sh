#!/usr/bin/env bash
# TAP: runs the estate fuzzer (tests/fuzz/fuzz_load) for $STRAIT_FUZZ_SECS
# seconds (default 30) under ASan + UBSan + LeakSanitizer. The corpus is a
# temporary copy of tests/fuzz/corpus plus the reproducers in
# tests/fuzz/crashes, so a known crash fails at once until it is fixed.
# $STRAIT_FUZZ_BUILD names the fuzz build (scripts/check.sh sets it); when it
# is unset or the fuzzer is not built this test fails: it never skips.
set -uo pipefail
root=${SRCROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
secs=${STRAIT_FUZZ_SECS:-30}
echo "1..1"
bd=${STRAIT_FUZZ_BUILD:-}
fz=$bd/tests/fuzz/fuzz_load
if [[ -z $bd ]]; then
	echo "not ok 1 - fuzz_load: STRAIT_FUZZ_BUILD is not set (run through scripts/check.sh or make check)"
	exit 1
fi
if [[ ! -x $fz ]]; then
	echo "not ok 1 - fuzz_load: $fz is not built (CC=clang meson setup BUILD -Dfuzz=true; ninja -C BUILD)"
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/corpus" "$tmp/artifacts"
cp "$root"/tests/fuzz/corpus/* "$tmp/corpus/"
if compgen -G "$root/tests/fuzz/crashes/*" >/dev/null; then
	cp "$root"/tests/fuzz/crashes/* "$tmp/corpus/"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
"$fz" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-dict="$root/tests/fuzz/estate.dict" -artifact_prefix="$tmp/artifacts/" \
	"$tmp/corpus" >"$tmp/log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/log")
if [[ $rc -eq 0 ]] && ! compgen -G "$tmp/artifacts/*" >/dev/null; then
	echo "ok 1 - fuzz_load: ${runs:-?} inputs in ${secs}s, no crash, leak, hang or broken round trip"
	exit 0
fi
echo "not ok 1 - fuzz_load failed (exit $rc) after ${runs:-?} inputs"
grep -v -E '^#[0-9]+' "$tmp/log" | tail -n 60 | sed 's/^/# /'
for a in "$tmp"/artifacts/*; do
	[[ -e $a ]] || continue
	mkdir -p "$bd/fuzz-found"
	cp "$a" "$bd/fuzz-found/"
	echo "# reproducer: $bd/fuzz-found/$(basename "$a") (replay: $fz FILE)"
done
exit 1
