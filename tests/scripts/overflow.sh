#!/usr/bin/env bash
# The link down longer than the journal holds (TAP): straitd with a 4 MiB journal ships to
# `strait replica receive`; the receiver is killed and 16 MiB are written through NBD: the
# writes are still acknowledged, the journal falls back to its dirty bitmap (the status says
# so), and when the receiver returns the changed extents are resent (a resync, not a new
# initial copy: far less than the disk crosses the link), the disk is protected again and
# its point equals the source.
set -u
: "${STRAIT:?path to the strait binary}" "${SRCROOT:?source root}"
STRAITD=${STRAITD:-$(dirname "$STRAIT")/straitd}
cd "$SRCROOT"
. "$SRCROOT/tests/scripts/tap.sh"
work_dir
tap_plan 7
need qemu-io qemu-img

seed_estate "$tmp/est.yaml" 128MiB "$tmp/a.img"
qemu-img create -q -f raw "$tmp/a.img" 128M
qemu-io -f raw -c "write -P 0x12 0 8M" "$tmp/a.img" >/dev/null
receive_start 0
"$STRAITD" --estate "$tmp/est.yaml" --socket "$tmp/d.sock" --work "$tmp/cap" \
	--target "127.0.0.1:$rport" --journal-max 4MiB 2>"$tmp/d.log" &
dpid=$!
pids+=("$dpid")
caught_up() {
	for _ in $(seq 300); do
		[ "$(field state)" = protected ] && [ "$(field backlog_bytes)" = 0 ] &&
			[ "$(field rpo_ms)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}
check "the disk is protected with a 4 MiB journal (the copy paced to fit it)" 'caught_up'

kill -9 "$rpid"; wait "$rpid" 2>/dev/null
qemu-io -f raw -c "write -P 0x34 16M 4M" -c "write -P 0x56 40M 4M" -c "write -P 0x78 64M 4M" \
	-c "write -P 0x9a 100M 4M" "nbd+unix:///app1-os?socket=$tmp/cap/nbd.sock" >/dev/null
check "16 MiB written while the link is down are acknowledged" '[ $? -eq 0 ]'
for _ in $(seq 50); do [ "$(field bitmap)" = True ] && break; sleep 0.1; done
check "the journal outgrew its 4 MiB: the status shows its bitmap" '[ "$(field bitmap)" = True ]'
w0=$(field wire_bytes)
receive_start "$rport"
check "the link back: the changed extents resent, protected again" 'caught_up'
w1=$(field wire_bytes)
echo "# $((w1 - w0)) bytes crossed the link for 16 MiB changed on a 128 MiB disk"
check "a resync, not a new initial copy: under 48 MiB crossed the link" '[ $((w1 - w0)) -lt $((48 << 20)) ] && [ $((w1 - w0)) -ge $((16 << 20)) ]'
check "the journal left its bitmap" '[ "$(field bitmap)" = False ]'
kill -TERM "$dpid"; wait "$dpid"
kill -TERM "$rpid"; wait "$rpid"
"$STRAIT" replica restore app1-os "$tmp/r.img" --store "$tmp/store" >/dev/null
check "the newest point equals the source" 'cmp -s "$tmp/r.img" "$tmp/a.img"'
[ "$fails" -gt 0 ] && sed "s/^/# /" "$tmp/d.log"
tap_exit
