#!/usr/bin/env bash
# A power cut on the protected side after records were shipped (TAP). straitd ships a
# 2 GiB disk to `strait replica receive`; writes after the last flush are acknowledged,
# shipped and stored by the receiver; then straitd is killed and its journal loses what
# came after its last durable record, as a power cut may (those bytes never left the page
# cache). The journal must not give the lost records' numbers to new writes: the receiver
# holds records with those numbers and would drop the new ones as duplicates. So after the
# restart the numbering jumps, a write to a region never written before (so not in the
# activity log's resync) reaches the recovery region, and the newest point equals the disk.
set -u
: "${STRAIT:?path to the strait binary}" "${SRCROOT:?source root}"
STRAITD=${STRAITD:-$(dirname "$STRAIT")/straitd}
cd "$SRCROOT"
. "$SRCROOT/tests/scripts/tap.sh"
work_dir
tap_plan 6
need qemu-io qemu-img cmp

daemon() {
	"$STRAITD" --estate "$tmp/est.yaml" --socket "$tmp/d.sock" --work "$tmp/cap" \
		--target "127.0.0.1:$rport" 2>>"$tmp/d.log" &
	dpid=$!
	pids+=("$dpid")
	for _ in $(seq 100); do [ -S "$tmp/cap/nbd.sock" ] && break; sleep 0.05; done
}
# Points every 5 minutes: no group-cut markers in the journal while the test runs.
seed_estate "$tmp/est.yaml" 2GiB "$tmp/a.img"
sed -i 's/crash_consistent_every: 1s/crash_consistent_every: 5m/' "$tmp/est.yaml"
qemu-img create -q -f raw "$tmp/a.img" 2G
qemu-io -f raw -c "write -P 0x11 0 1M" "$tmp/a.img" >/dev/null
receive_start 0
daemon
nbd="nbd+unix:///app1-os?socket=$tmp/cap/nbd.sock"
check "the 2 GiB disk is protected" 'acked'

qemu-io -f raw -c "write -P 0x22 0 1M" -c flush "$nbd" >/dev/null
acked
seg=$(ls "$tmp/cap/journal/app1-os"/seg-*.jnl | sort | tail -n 1)
durable=$(stat -c %s "$seg") # the journal up to the flush's barrier
next0=$(field next_seq)
qemu-io -f raw -c "write -P 0x33 1M 1M" -c "write -P 0x44 8M 1M" "$nbd" >/dev/null
check "two writes after the flush are shipped and acknowledged by the recovery region" \
	'acked && [ "$(field next_seq)" -gt "$next0" ]'

kill -9 "$dpid"
wait "$dpid" 2>/dev/null
truncate -s "$durable" "$seg" # the power cut: the journal's tail past its last durable record
daemon
check "straitd restarts on the cut journal; its numbering jumps past every seq it gave" \
	'acked && [ "$(field next_seq)" -gt $((next0 + (1 << 40))) ]'
qemu-io -f raw -c "write -P 0x55 1G 1M" -c flush "$nbd" >/dev/null
check "a write to a region never written before is acknowledged and shipped" 'acked'
kill -TERM "$dpid"
wait "$dpid"
drc=$?
kill -TERM "$rpid"
wait "$rpid"
check "straitd and the receiver stop cleanly" '[ $drc -eq 0 ]'
"$STRAIT" replica restore app1-os "$tmp/r.img" --store "$tmp/store" >/dev/null 2>&1
check "the newest point equals the disk: the lost writes resent, the new one kept" \
	'cmp -s "$tmp/a.img" "$tmp/r.img"'
[ "$fails" -eq 0 ] || { echo "# straitd's log:"; tail -n 20 "$tmp/d.log" | sed 's/^/#   /'; }
tap_exit
