#!/usr/bin/env bash
# Resync benchmark: how long strait takes to bring the recovery region level again after
# an outage during which 1% of a disk's 4 KiB blocks changed, against rsync's delta
# transfer of the same change (which must read both copies whole to find it).
#   straitd protects one disk of SIZE (bench/mkimage.py's image) and ships it to
#   `strait replica receive` on loopback (a point every second); once the initial copy is
#   done and a point holds it, the receiver is killed (SIGKILL: the link is down), 1% of
#   the blocks (bench/mkimage.py change-nbd, the same blocks and bytes as repl-copy.sh) are
#   written through straitd's NBD export, and the receiver is started again. Timed from
#   its start: "in sync" when the status shows the disk protected with nothing
#   unacknowledged (every change durable in the replica), "point" when the RPO is zero
#   (a recovery point holds every change). The newest point is restored and compared
#   with the disk (cmp), else the run fails.
#   rsync --no-whole-file --inplace of the changed image onto the pre-change copy, then
#   an fsync of it; minimum of RUNS.
# Goal: strait at most 0.2 of rsync's time.
# Usage: bench/repl-resync.sh STRAIT   Env: SIZE (default 4G), RUNS (rsync, default 3)
set -euo pipefail
strait=${1:?usage: bench/repl-resync.sh STRAIT}
strait=$(cd "$(dirname "$strait")" && pwd)/$(basename "$strait")
straitd=$(dirname "$strait")/straitd
size=${SIZE:-4G} runs=${RUNS:-3}
py=/usr/bin/python3
here=$(cd "$(dirname "$0")" && pwd)
for t in rsync cmp numfmt curl "$py"; do
	command -v "$t" >/dev/null || { echo "repl-resync.sh: $t missing (scripts/deps.sh installs it)" >&2; exit 2; }
done
"$py" -c 'import nbd' 2>/dev/null || { echo "repl-resync.sh: python3-libnbd missing (scripts/deps.sh installs it)" >&2; exit 2; }
bytes=$(numfmt --from=iec "$size")
tmp=$(mktemp -d)
dpid='' rpid=''
cleanup() {
	for p in $dpid $rpid; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
now_ms() { echo $(($(date +%s%N) / 1000000)); }

"$py" "$here/mkimage.py" make "$tmp/disk.img" "$bytes" >"$tmp/mix"
cp --sparse=always "$tmp/disk.img" "$tmp/orig.img" # rsync's pre-change copy
"$py" - "$here/../examples/seed-two-circuits.yaml" "$tmp" "$bytes" <<'EOF'
import sys
src, t, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = open(src).read()
s = s.replace("disks: [{name: os, size: 32GiB}, {name: data, size: 128GiB}]",
              "disks: [{name: os, size: %dMiB, path: %s/disk.img}, {name: data, size: 128GiB}]" % (size >> 20, t))
s = s.replace("policy: {crash_consistent_every: 5m, app_consistent_every: 4h, retention: 24h}",
              "policy: {crash_consistent_every: 1s, app_consistent_every: 4h, retention: 24h}")
open(t + "/estate.yaml", "w").write(s)
EOF

receive() { # receive PORT -> $rpid, $port
	: >"$tmp/recv.out"
	"$strait" replica receive --store "$tmp/store" --work "$tmp/tgt" --listen "127.0.0.1:$1" \
		--interval 1s >"$tmp/recv.out" 2>&1 &
	rpid=$!
	for _ in $(seq 200); do grep -q "^receiving on" "$tmp/recv.out" && break; sleep 0.05; done
	port=$(sed -n 's/^receiving on 127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/recv.out")
	[ -n "$port" ] || { echo "repl-resync.sh: the receiver did not start" >&2; cat "$tmp/recv.out" >&2; exit 1; }
}
status() { # status -> "state backlog rpo_ms wire_bytes"
	"$strait" replica status --socket "$tmp/d.sock" -o json 2>/dev/null | "$py" -c '
import json, sys
d = json.load(sys.stdin)["disks"][0]
print(d["state"], d["backlog_bytes"], d["rpo_ms"], d["wire_bytes"])' 2>/dev/null || echo "? ? ? ?"
}

receive 0
"$straitd" --estate "$tmp/estate.yaml" --socket "$tmp/d.sock" --work "$tmp/cap" \
	--target "127.0.0.1:$port" 2>"$tmp/d.log" &
dpid=$!
t0=$(now_ms)
# Done when the disk is protected with nothing unacknowledged and its first point is in the
# store (the status's RPO is 0 before it: no write is waiting for a point during a copy).
first_point() { "$strait" replica points app1-os --store "$tmp/store" 2>/dev/null | grep -q full; }
for _ in $(seq 6000); do
	read -r s b r w < <(status)
	[ "$s" = protected ] && [ "$b" = 0 ] && [ "$r" = 0 ] && first_point && break
	sleep 0.05
done
[ "$s" = protected ] && [ "$r" = 0 ] && first_point || { echo "repl-resync.sh: the initial copy did not finish" >&2; exit 1; }
t_init=$(($(now_ms) - t0))

# The outage: the receiver killed, 1% of the blocks written through NBD meanwhile.
kill -9 "$rpid"; wait "$rpid" 2>/dev/null || true
"$py" "$here/mkimage.py" change-nbd "nbd+unix:///app1-os?socket=$tmp/cap/nbd.sock" "$bytes" >"$tmp/chg"
sleep 1
read -r _ _ _ w0 < <(status)
t0=$(now_ms)
receive "$port"
t_sync='' t_point=''
for _ in $(seq 12000); do
	read -r s b r w < <(status)
	if [ -z "$t_sync" ] && [ "$s" = protected ] && [ "$b" = 0 ]; then t_sync=$(($(now_ms) - t0)); fi
	if [ -n "$t_sync" ] && [ "$r" = 0 ]; then t_point=$(($(now_ms) - t0)); break; fi
	sleep 0.02
done
[ -n "$t_point" ] || { echo "repl-resync.sh: the resync did not finish" >&2; exit 1; }
sent=$((w - w0))
kill -TERM "$dpid"; wait "$dpid" || true; dpid=
kill -TERM "$rpid"; wait "$rpid" || true; rpid=
"$strait" replica restore app1-os "$tmp/r.img" --store "$tmp/store" >/dev/null
cmp -s "$tmp/r.img" "$tmp/disk.img" || { echo "repl-resync.sh: the newest point differs from the disk" >&2; exit 1; }
rm -f "$tmp/r.img"

best=''
for _ in $(seq "$runs"); do
	rm -f "$tmp/dst"
	cp --sparse=always "$tmp/orig.img" "$tmp/dst"
	sync
	t0=$(now_ms)
	rsync --no-whole-file --inplace "$tmp/disk.img" "$tmp/dst"
	sync "$tmp/dst"
	t=$(($(now_ms) - t0))
	if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
done
cmp -s "$tmp/dst" "$tmp/disk.img" || { echo "repl-resync.sh: rsync's copy differs" >&2; exit 1; }

echo "$(date +%F), $size image ($(cat "$tmp/mix")), $(cat "$tmp/chg") 4 KiB blocks changed during an outage"
printf '  %-40s %8d ms\n' "strait initial copy (to the first point)" "$t_init"
printf '  %-40s %8d ms   strait/rsync %.2f   (%d bytes on the link)\n' "strait resync: in sync" "$t_sync" \
	"$(echo "$t_sync / $best" | bc -l)" "$sent"
printf '  %-40s %8d ms   strait/rsync %.2f\n' "strait resync: a point holds it" "$t_point" "$(echo "$t_point / $best" | bc -l)"
printf '  %-40s %8d ms\n' "rsync --no-whole-file --inplace" "$best"
ratio=$(echo "$t_sync / $best" | bc -l)
if [ "$(echo "$ratio <= 0.2" | bc)" = 1 ]; then v="goal met"; else v="goal MISSED"; fi
printf 'strait resync (in sync) / rsync delta: %.2f of its time (goal <= 0.2): %s\n' "$ratio" "$v"
