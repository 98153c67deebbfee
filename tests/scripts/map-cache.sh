#!/usr/bin/env bash
# The store's cache of the disks' newest maps, --map-cache SIZE (TAP). Below 1 MiB,
# or not a size, is a usage error (strait replica serve and receive, straitd) before
# any work, and so is --map-cache with --target (the store is the receiver's then).
# `strait replica serve --map-cache 1MiB` protects three sparse 4 GiB
# disks (each newest map 1 MiB: 65,536 chunks of 64 KiB), so every point of one
# disk drops the others' maps; three rounds write each disk and wait for its point,
# which must equal its source every time (a dropped map resolved again from the
# manifests, only the changed chunks stored).
set -u
: "${STRAIT:?path to the strait binary}" "${SRCROOT:?source root}"
STRAITD=${STRAITD:-$(dirname "$STRAIT")/straitd}
cd "$SRCROOT"
. "$SRCROOT/tests/scripts/tap.sh"
work_dir
tap_plan 9
need qemu-io qemu-img

"$STRAIT" replica serve --store "$tmp/store" --work "$tmp/work" --socket "$tmp/s.sock" \
	--map-cache 64KiB vm1=/dev/null 2>"$tmp/err"
rc=$?
check "replica serve --map-cache 64KiB is a usage error naming the floor, before any work" \
	'[ $rc -eq 2 ] && grep -q "bad --map-cache .64KiB. (expected a size, 1MiB or more" "$tmp/err" && [ ! -e "$tmp/work" ]'
"$STRAIT" replica receive --store "$tmp/store" --work "$tmp/work" --listen 127.0.0.1:0 \
	--map-cache lots 2>"$tmp/err"
rc=$?
check "replica receive --map-cache lots: the same error" \
	'[ $rc -eq 2 ] && grep -q "bad --map-cache .lots. (expected a size, 1MiB or more" "$tmp/err"'
"$STRAITD" --estate examples/seed-two-circuits.yaml --socket "$tmp/d.sock" --work "$tmp/dw" \
	--map-cache 0 2>"$tmp/err"
rc=$?
check "straitd --map-cache 0: the same error" \
	'[ $rc -eq 2 ] && grep -q "straitd: bad --map-cache .0. (expected a size, 1MiB or more" "$tmp/err"'
"$STRAIT" replica serve --work "$tmp/work" --socket "$tmp/s.sock" --target 127.0.0.1:1 \
	--map-cache 1GiB vm1=/dev/null 2>"$tmp/err"
rc=$?
check "replica serve --target with --map-cache: a usage error sending it to the receiver" \
	'[ $rc -eq 2 ] && grep -q "give it to strait replica receive" "$tmp/err" && [ ! -e "$tmp/work" ]'
"$STRAITD" --estate examples/seed-two-circuits.yaml --socket "$tmp/d.sock" --work "$tmp/dw" \
	--target 127.0.0.1:1 --map-cache 1GiB 2>"$tmp/err"
rc=$?
check "straitd --target with --map-cache: the same" \
	'[ $rc -eq 2 ] && grep -q "straitd: --map-cache sizes the store.s cache" "$tmp/err"'

args=()
for d in a b c; do
	truncate -s 4G "$tmp/$d.img"
	args+=("$d=$tmp/$d.img")
done
"$STRAIT" replica serve --store "$tmp/store" --work "$tmp/work" --socket "$tmp/s.sock" \
	--interval 1s --map-cache 1MiB "${args[@]}" >/dev/null 2>"$tmp/serve.err" &
spid=$!
pids+=("$spid")
wait_for 10 test -S "$tmp/s.sock"
npoints() { "$STRAIT" replica points "$1" --store "$tmp/store" -o json 2>/dev/null |
	/usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo 0; }
same() { # same DISK: its latest point restored equals its source
	rm -f "$tmp/r.img"
	"$STRAIT" replica restore "$1" "$tmp/r.img" --store "$tmp/store" --point latest >/dev/null 2>&1 &&
		qemu-img compare -q -f raw -F raw "$tmp/r.img" "$tmp/$1.img" 2>/dev/null
}
first() { [ "$(npoints a)" -ge 1 ] && [ "$(npoints b)" -ge 1 ] && [ "$(npoints c)" -ge 1 ]; }
check "three 4 GiB disks under a 1 MiB map cache get their first points" 'wait_for 60 first'
good=0
for round in 1 2 3; do
	for d in a b c; do
		off=$(((round * 7 + ${#d}) * 37))
		qemu-io -f raw -c "write -P $((round * 16 + 3)) ${off}M 64k" \
			-c "write -P $((round * 16 + 5)) $((off + 2000))M 4k" \
			"nbd+unix:///$d?socket=$tmp/s.sock" >/dev/null
	done
	for d in a b c; do
		wait_for 30 same "$d" && good=$((good + 1))
	done
done
check "every round, each disk's latest point equals its source (9 of 9)" '[ $good -eq 9 ]'
kill -TERM "$spid"
wait "$spid"
src=$?
check "strait stops cleanly" '[ $src -eq 0 ]'
check "no error on the way" '! grep -qi "error" "$tmp/serve.err"'
[ "$fails" -eq 0 ] || tail -n 5 "$tmp/serve.err" | sed 's/^/# /'
tap_exit
