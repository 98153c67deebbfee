#!/usr/bin/env bash
# The protected side's journal on a full disk (TAP). straitd keeps its work directory
# (the journal) on a 24 MiB tmpfs in a mount namespace of its own; the receiver is down,
# so the records cannot be released, and 40 MiB are written through NBD. The journal's
# disk fills: the client's writes must still succeed (replication's trouble is not the
# workload's), the journal falls back to its dirty bitmap and says so, and when space
# returns and the receiver is back, the bitmap's resync brings the recovery region up
# to date: the newest point equals the disk. While the disk is still full, writes to
# 1,300 more 4 MiB extents (past the activity log's 1,237 slots, so extents must leave
# it, which needs the bitmap saved) still succeed: the bitmap and the activity log are
# preallocated and saved in place. The disk is a 6 GiB sparse file for that.
set -u
: "${STRAIT:?path to the strait binary}" "${SRCROOT:?source root}"
STRAITD=${STRAITD:-$(dirname "$STRAIT")/straitd}
cd "$SRCROOT"
. "$SRCROOT/tests/scripts/tap.sh"
work_dir
tap_plan 7
need qemu-io qemu-img cmp unshare nsenter

seed_estate "$tmp/est.yaml" 6GiB "$tmp/a.img"
qemu-img create -q -f raw "$tmp/a.img" 6G
qemu-io -f raw -c "write -P 0x11 0 1M" "$tmp/a.img" >/dev/null
receive_start 0
port=$rport
mkdir -p "$tmp/cap"
ns=(unshare -m)
[ "$(id -u)" -eq 0 ] || ns=(unshare -rm)
"${ns[@]}" sh -c "mount -t tmpfs -o size=24m tmpfs '$tmp/cap' && exec \"\$@\"" sh \
	"$STRAITD" --estate "$tmp/est.yaml" --socket "$tmp/d.sock" --work "$tmp/cap" \
	--nbd-socket "$tmp/nbd.sock" --target "127.0.0.1:$port" 2>>"$tmp/d.log" &
dpid=$!
pids+=("$dpid")
for _ in $(seq 100); do [ -S "$tmp/nbd.sock" ] && break; sleep 0.05; done
check "the disk is protected, its journal on a 24 MiB tmpfs" 'acked'

kill -9 "$rpid"
wait "$rpid" 2>/dev/null
nbd="nbd+unix:///app1-os?socket=$tmp/nbd.sock"
args=()
for i in $(seq 2 41); do args+=(-c "write -P $((i % 200 + 20)) $((i % 60 + 2))M 1M"); done
check "40 MiB written while the receiver is down and the journal's disk fills: every write succeeds" \
	'qemu-io -f raw "${args[@]}" -c flush "$nbd" >/dev/null 2>"$tmp/q.err"'
said() { for _ in $(seq 50); do grep -q "$1" "$tmp/d.log" && return 0; sleep 0.1; done; return 1; }
check "the journal fell back to its dirty bitmap and said so" \
	'[ "$(field bitmap)" = True ] && said "journal is full"'

args=()
for i in $(seq 0 1299); do args+=(-c "write -P $((i % 200 + 30)) $((64 + i * 4))M 4k"); done
check "the journal's disk still full: 4 KiB written in each of 1,300 more 4 MiB extents, past the activity log's 1,237: every write succeeds" \
	'qemu-io -f raw "${args[@]}" -c flush "$nbd" >/dev/null 2>"$tmp/q.err"'

nsenter --mount="/proc/$dpid/ns/mnt" mount -o remount,size=256m "$tmp/cap" 2>/dev/null ||
	nsenter -U --preserve-credentials --mount="/proc/$dpid/ns/mnt" mount -o remount,size=256m "$tmp/cap"
receive_start "$port"
synced() { # protected again: the bitmap resynced, nothing unacknowledged
	for _ in $(seq 600); do
		[ "$(field state)" = protected ] && [ "$(field bitmap)" = False ] &&
			[ "$(field backlog_bytes)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}
check "space back and the receiver up: the bitmap's resync ends, the disk protected" 'synced'
kill -TERM "$dpid"
wait "$dpid"
drc=$?
kill -TERM "$rpid"
wait "$rpid"
check "straitd stops cleanly" '[ $drc -eq 0 ]'
"$STRAIT" replica restore app1-os "$tmp/r.img" --store "$tmp/store" >/dev/null 2>&1
# qemu-img compare skips what both hold as holes (cmp would read 12 GiB of zeros)
check "the newest point equals the disk" 'qemu-img compare -q -f raw -F raw "$tmp/a.img" "$tmp/r.img"'
[ "$fails" -eq 0 ] || { echo "# straitd's log:"; tail -n 20 "$tmp/d.log" | sed 's/^/#   /'; cat "$tmp/q.err" 2>/dev/null | sed 's/^/# qemu-io: /'; }
tap_exit
