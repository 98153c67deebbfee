#!/usr/bin/env bash
# A power cut on the recovery side (TAP). The receiver acknowledges a record once it is
# durable in its write-ahead log (replica/<disk>.log); the replica itself is synced only
# at checkpoints. So after a cut, the replica on disk may be as old as the last
# checkpoint, and the log must bring it forward: the protected side has released the
# acknowledged records and cannot send them again. Here the receiver stops cleanly (a
# checkpoint), its replica is copied aside, it starts again, two writes are shipped and
# acknowledged, the receiver is killed and its replica put back as it was at the
# checkpoint (what a power cut leaves when none of its dirty pages were written back).
# The restarted receiver must replay the log: the protected side (whose journal, 8 MiB in
# 1 MiB segments, released the acknowledged records) journals nothing again (no new
# copy of the disk) and the newest point equals the disk.
set -u
: "${STRAIT:?path to the strait binary}" "${SRCROOT:?source root}"
STRAITD=${STRAITD:-$(dirname "$STRAIT")/straitd}
cd "$SRCROOT"
. "$SRCROOT/tests/scripts/tap.sh"
work_dir
tap_plan 6
need qemu-io qemu-img cmp

seed_estate "$tmp/est.yaml" 64MiB "$tmp/a.img"
sed -i 's/crash_consistent_every: 1s/crash_consistent_every: 5m/' "$tmp/est.yaml"
qemu-img create -q -f raw "$tmp/a.img" 64M
qemu-io -f raw -c "write -P 0x11 0 1M" "$tmp/a.img" >/dev/null
receive_start 0
port=$rport
"$STRAITD" --estate "$tmp/est.yaml" --socket "$tmp/d.sock" --work "$tmp/cap" \
	--target "127.0.0.1:$port" --journal-max 8MiB 2>>"$tmp/d.log" &
dpid=$!
pids+=("$dpid")
for _ in $(seq 100); do [ -S "$tmp/cap/nbd.sock" ] && break; sleep 0.05; done
nbd="nbd+unix:///app1-os?socket=$tmp/cap/nbd.sock"
qemu-io -f raw -c "write -P 0x22 0 1M" -c flush "$nbd" >/dev/null
check "the disk is protected" 'acked'

kill -TERM "$rpid"
wait "$rpid"
check "the receiver stops cleanly: its log is empty after the checkpoint" \
	'[ $? -eq 0 ] && cp --sparse=always "$tmp/tgt/replica/app1-os.img" "$tmp/ckpt.img"'
receive_start "$port"
qemu-io -f raw -c "write -P 0x33 1M 1M" -c "write -P 0x44 8M 1M" \
	-c "write -P 0x55 16M 1M" -c "write -P 0x66 17M 1M" "$nbd" >/dev/null
check "writes after the restart are shipped and acknowledged" 'acked && next0=$(field next_seq)'

kill -9 "$rpid"
wait "$rpid" 2>/dev/null
cp "$tmp/ckpt.img" "$tmp/tgt/replica/app1-os.img" # the power cut: the replica at its checkpoint
check "the replica put back lacks the two writes (only the log has them)" \
	'! cmp -s -n $((9 << 20)) "$tmp/a.img" "$tmp/tgt/replica/app1-os.img"'
again=$(grep -c "replicating again" "$tmp/d.log")
receive_start "$port"
relinked() { # straitd saw the link go and come back
	for _ in $(seq 300); do
		[ "$(grep -c "replicating again" "$tmp/d.log")" -gt "$again" ] && return 0
		sleep 0.1
	done
	return 1
}
check "the receiver starts again, the protected side journals nothing again" \
	'relinked && acked && [ "$(field next_seq)" = "$next0" ]'
kill -TERM "$dpid"
wait "$dpid"
kill -TERM "$rpid"
wait "$rpid"
"$STRAIT" replica restore app1-os "$tmp/r.img" --store "$tmp/store" >/dev/null 2>&1
check "the newest point equals the disk: the log replayed the acknowledged writes" \
	'cmp -s "$tmp/a.img" "$tmp/r.img"'
[ "$fails" -eq 0 ] || { echo "# receiver:"; tail -n 20 "$tmp/recv.out" | sed 's/^/#   /'; echo "# straitd:"; tail -n 20 "$tmp/d.log" | sed 's/^/#   /'; }
tap_exit
