#!/usr/bin/env bash
# The activity log's size, --activity-log N (TAP). Out of range is a usage error
# (strait and straitd) before any work. `strait replica serve --activity-log 64`
# protects a sparse 1 GiB disk, 40 extents of 4 MiB are written through NBD, and
# strait is killed (SIGKILL). Then each of the 40 extents is changed on the source
# behind its back: the writes a crash can leave on the disk and out of the journal,
# which only the activity log names. Restarted with --activity-log 8, the journal's
# log file keeps its 64 slots (32 of the 40 extents sit in slots past the new ring),
# every extent is resent, and the latest point equals the source; after a clean stop
# the file has 8 slots.
set -u
: "${STRAIT:?path to the strait binary}" "${SRCROOT:?source root}"
STRAITD=${STRAITD:-$(dirname "$STRAIT")/straitd}
cd "$SRCROOT"
. "$SRCROOT/tests/scripts/tap.sh"
work_dir
tap_plan 8
need qemu-io qemu-img

truncate -s 1G "$tmp/disk.img"
al="$tmp/work/journal/vm1-os/activity.log"
serve() { # serve N: strait replica serve with an activity log of N extents
	"$STRAIT" replica serve --store "$tmp/store" --work "$tmp/work" --socket "$tmp/s.sock" \
		--interval 1s --activity-log "$1" vm1-os="$tmp/disk.img" >/dev/null 2>>"$tmp/serve.err" &
	spid=$!
	pids+=("$spid")
	wait_for 10 test -S "$tmp/s.sock"
}
npoints() { "$STRAIT" replica points vm1-os --store "$tmp/store" -o json 2>/dev/null |
	/usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo 0; }
same() { # the latest point restored equals the source
	rm -f "$tmp/r.img"
	"$STRAIT" replica restore vm1-os "$tmp/r.img" --store "$tmp/store" --point latest >/dev/null 2>&1 &&
		qemu-img compare -q -f raw -F raw "$tmp/r.img" "$tmp/disk.img" 2>/dev/null
}
size() { stat -c %s "$al" 2>/dev/null || echo 0; }

"$STRAIT" replica serve --store "$tmp/store" --work "$tmp/work" --socket "$tmp/s.sock" \
	--activity-log 3 vm1-os="$tmp/disk.img" 2>"$tmp/err"
rc=$?
check "--activity-log 3 is a usage error naming the range, before any work" \
	'[ $rc -eq 2 ] && grep -q "bad --activity-log .3. (expected extents of 4 MiB, 7 to 65534" "$tmp/err" && [ ! -e "$tmp/work" ]'
"$STRAITD" --estate examples/seed-two-circuits.yaml --socket "$tmp/d.sock" --work "$tmp/dw" \
	--activity-log 65535 2>"$tmp/err"
rc=$?
check "straitd --activity-log 65535: the same error" \
	'[ $rc -eq 2 ] && grep -q "straitd: bad --activity-log .65535. (expected extents of 4 MiB, 7 to 65534" "$tmp/err"'

serve 64
pointed() { [ "$(npoints)" -ge 1 ]; }
wait_for 20 pointed # the initial copy's point
cmds=()
for e in $(seq 0 39); do cmds+=(-c "write -P 0x5a $((e * 24))M 4k"); done
qemu-io -f raw "${cmds[@]}" "nbd+unix:///vm1-os?socket=$tmp/s.sock" >/dev/null
check "with --activity-log 64 the log file has 64 slots of 32 bytes" '[ "$(size)" -eq 2048 ]'
kill -9 "$spid"
wait "$spid" 2>/dev/null
cmds=()
for e in $(seq 0 39); do cmds+=(-c "write -P 0x77 $((e * 24 + 1))M 64k"); done
qemu-io -f raw "${cmds[@]}" "$tmp/disk.img" >/dev/null # on the disk, not in the journal

serve 8
check "restarted with --activity-log 8 after the crash, the file keeps its 64 slots" \
	'[ "$(size)" -eq 2048 ]'
check "every extent the old slots name is resent: the latest point equals the source" \
	'wait_for 30 same'
kill -TERM "$spid"
wait "$spid"
src=$?
check "strait stops cleanly" '[ $src -eq 0 ]'
check "after the clean stop the file has 8 slots" '[ "$(size)" -eq 256 ]'
serve 8
check "a restart after the clean stop finds nothing to resend (and says nothing of a crash)" \
	'wait_for 10 same && ! grep -qi "resync" "$tmp/serve.err"'
kill -TERM "$spid"
wait "$spid"
[ "$fails" -eq 0 ] || tail -n 5 "$tmp/serve.err" | sed 's/^/# /'
tap_exit
