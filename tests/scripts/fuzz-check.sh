#!/usr/bin/env bash
# TAP: runs each libFuzzer target under ASan + UBSan + LeakSanitizer:
#   fuzz_load (the estate loader, printer and checks) for $STRAIT_FUZZ_SECS
#   seconds (default 30), and fuzz_nbd (the NBD protocol core) for
#   $STRAIT_FUZZ_NBD_SECS seconds (default 20), fuzz_xp (the transport's
#   frame decoder) for $STRAIT_FUZZ_XP_SECS seconds (default 10), and
#   fuzz_bgp_open / fuzz_bgp_update (the BGP codec) for $STRAIT_FUZZ_BGP_SECS
#   seconds each (default 10).
# Each corpus is a temporary copy of tests/fuzz/corpus[-nbd|-xp] plus the
# reproducers in tests/fuzz/crashes[-nbd|-xp], so a known crash fails at once
# until it is fixed. $STRAIT_FUZZ_BUILD names the fuzz build
# (scripts/check.sh sets it); when it is unset or a fuzzer is not built the
# test fails: it never skips.
set -uo pipefail
root=${SRCROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
bd=${STRAIT_FUZZ_BUILD:-}
echo "1..5"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fails=0

# run N NAME SECS CORPUS CRASHES [DICT]
run() {
	local n=$1 name=$2 secs=$3 corpus=$4 crashes=$5 dict=${6:-}
	local fz=$bd/tests/fuzz/$name w=$tmp/$name
	if [[ -z $bd ]]; then
		echo "not ok $n - $name: STRAIT_FUZZ_BUILD is not set (run through scripts/check.sh or make check)"
		fails=$((fails + 1))
		return
	fi
	if [[ ! -x $fz ]]; then
		echo "not ok $n - $name: $fz is not built (CC=clang meson setup BUILD -Dfuzz=true; ninja -C BUILD)"
		fails=$((fails + 1))
		return
	fi
	mkdir -p "$w/corpus" "$w/artifacts"
	cp "$root/tests/fuzz/$corpus"/* "$w/corpus/"
	if compgen -G "$root/tests/fuzz/$crashes/*" >/dev/null; then
		cp "$root/tests/fuzz/$crashes"/* "$w/corpus/"
	fi
	local args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
		-artifact_prefix="$w/artifacts/")
	[[ -n $dict ]] && args+=(-dict="$root/tests/fuzz/$dict")
	"$fz" "${args[@]}" "$w/corpus" >"$w/log" 2>&1
	local rc=$?
	local runs
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$w/log")
	if [[ $rc -eq 0 ]] && ! compgen -G "$w/artifacts/*" >/dev/null; then
		echo "ok $n - $name: ${runs:-?} inputs in ${secs}s, no crash, leak, hang or broken property"
		return
	fi
	fails=$((fails + 1))
	echo "not ok $n - $name failed (exit $rc) after ${runs:-?} inputs"
	grep -v -E '^#[0-9]+' "$w/log" | tail -n 60 | sed 's/^/# /'
	for a in "$w"/artifacts/*; do
		[[ -e $a ]] || continue
		mkdir -p "$bd/fuzz-found"
		cp "$a" "$bd/fuzz-found/"
		echo "# reproducer: $bd/fuzz-found/$(basename "$a") (replay: $fz FILE)"
	done
}

run 1 fuzz_load "${STRAIT_FUZZ_SECS:-30}" corpus crashes estate.dict
run 2 fuzz_nbd "${STRAIT_FUZZ_NBD_SECS:-20}" corpus-nbd crashes-nbd
run 3 fuzz_xp "${STRAIT_FUZZ_XP_SECS:-10}" corpus-xp crashes-xp
run 4 fuzz_bgp_open "${STRAIT_FUZZ_BGP_SECS:-10}" corpus-bgp-open crashes-bgp-open
run 5 fuzz_bgp_update "${STRAIT_FUZZ_BGP_SECS:-10}" corpus-bgp-update crashes-bgp-update
[[ $fails -eq 0 ]]
