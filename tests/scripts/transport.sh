#!/usr/bin/env bash
# Replication across the transport (TAP): `strait replica receive` as the
# recovery region and the protected side shipping to it (`serve --target`,
# straitd --target). The link is cut (the receiver killed with SIGKILL and
# restarted) during the initial copy and while streaming: nothing is lost and
# no acknowledged record is sent twice; a full target disk gives a clear error,
# replication pauses and resumes when space returns; every restore equals the
# source; the receiver's log of a disk gone quiet takes no space; a receiver that
# answers no SYN costs one connect timeout a round, not one per disk.
set -u
: "${STRAIT:?path to the strait binary}" "${SRCROOT:?source root}"
STRAITD=${STRAITD:-$(dirname "$STRAIT")/straitd}
cd "$SRCROOT"
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	mountpoint -q "$tmp/small" 2>/dev/null && umount "$tmp/small"
	rm -rf "$tmp"
}
trap cleanup EXIT
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }
echo "1..15"
for t in qemu-io qemu-img unshare nsenter; do
	command -v $t >/dev/null || { notok "$t is not installed (scripts/deps.sh installs it)"; exit 1; }
done

receive() { # receive WORK PORT [wrapper...]: starts a receiver -> $rpid, waits for its port
	local work=$1 port=$2
	shift 2
	: >"$tmp/recv.out"
	"$@" "$STRAIT" replica receive --store "$tmp/store" --work "$work" --listen "127.0.0.1:$port" \
		--interval 1s >"$tmp/recv.out" 2>"$tmp/recv.err" &
	rpid=$!
	pids+=("$rpid")
	for _ in $(seq 100); do grep -q "^receiving on" "$tmp/recv.out" && break; sleep 0.05; done
	rport=$(sed -n 's/^receiving on 127.0.0.1:\([0-9]*\),.*/\1/p' "$tmp/recv.out")
}
serve() { # serve DISK=IMAGE...: ships to the receiver -> $spid
	"$STRAIT" replica serve --work "$tmp/cap" --socket "$tmp/nbd.sock" --target "127.0.0.1:$rport" \
		--zstd 3 "$@" >"$tmp/serve.out" 2>&1 &
	spid=$!
	pids+=("$spid")
	for _ in $(seq 100); do [ -S "$tmp/nbd.sock" ] && break; sleep 0.05; done
}
points() { "$STRAIT" replica points "$1" --store "$tmp/store" -o json | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
wait_points() { for _ in $(seq 200); do [ "$(points "$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0; sleep 0.05; done; return 1; }
restore_eq() { "$STRAIT" replica restore "$1" "$tmp/r.img" --store "$tmp/store" >/dev/null && cmp -s "$tmp/r.img" "$2"; }

# ---- a link cut while streaming ---------------------------------------------------
qemu-img create -q -f raw "$tmp/a.img" 256M
receive "$tmp/tgt" 0
check "strait replica receive listens and says where" '[ -n "$rport" ]'
port=$rport
serve a="$tmp/a.img"
check "serve --target ships to it: the first point" 'wait_points a 1'
qemu-io -f raw -c "write -P 0x11 0 32M" "nbd+unix:///a?socket=$tmp/nbd.sock" >/dev/null &
wpid=$!
sleep 0.3
kill -9 "$rpid"; wait "$rpid" 2>/dev/null
wait "$wpid"
check "writes go on while the link is down" '[ $? -eq 0 ]'
qemu-io -f raw -c "write -P 0x22 100M 8M" -c "write -P 0x33 200M 1M" "nbd+unix:///a?socket=$tmp/nbd.sock" >/dev/null
receive "$tmp/tgt" "$port"
check "the receiver comes back on the same port" '[ "$rport" = "$port" ]'
kill -TERM "$spid"; wait "$spid"; src=$?
check "the protected side sends what was left and stops cleanly" '[ $src -eq 0 ]'
kill -TERM "$rpid"; wait "$rpid"
check "after the cut, nothing acknowledged was sent twice" 'grep -q "(0 duplicates, 0 checksum errors, 0 frame errors, 0 store errors)" "$tmp/recv.out"'
check "the newest point equals the source, byte for byte" 'restore_eq a "$tmp/a.img"'
# 41 MiB went through the receiver's log; stopped, the disk quiet, it keeps no blocks
check "the receiver's log of a quiet disk takes no space (its blocks returned)" \
	'[ -f "$tmp/tgt/replica/a.log" ] && [ "$(du -k "$tmp/tgt/replica/a.log" | cut -f1)" -le 64 ]'

# ---- a link cut during the initial copy -------------------------------------------
qemu-img create -q -f raw "$tmp/b.img" 512M
qemu-io -f raw -c "write -P 0x44 0 200M" -c "write -P 0x55 300M 200M" "$tmp/b.img" >/dev/null
receive "$tmp/tgt" "$port"
rm -rf "$tmp/cap"
serve b="$tmp/b.img"
sleep 0.4
kill -9 "$rpid"; wait "$rpid" 2>/dev/null
check "no point while the initial copy is incomplete" '[ "$(points b 2>/dev/null || echo 0)" -eq 0 ]'
sleep 1
receive "$tmp/tgt" "$port"
check "the copy resumes after the cut and ends in a point" 'wait_points b 1'
kill -TERM "$spid"; wait "$spid"
kill -TERM "$rpid"; wait "$rpid"
check "the copied disk equals the source" 'restore_eq b "$tmp/b.img"'

# ---- a full target disk -----------------------------------------------------------
qemu-img create -q -f raw "$tmp/c.img" 96M
mkdir -p "$tmp/small"
cat >"$tmp/est.yaml" <<YAML
$(sed -n '1,/^replication:/p' examples/seed-two-circuits.yaml | sed '$d' |
	sed "s|disks: \[{name: os, size: 32GiB}, {name: data, size: 128GiB}\]|disks: [{name: os, size: 96MiB, path: $tmp/c.img}]|")
replication:
  source: eastasia
  target: southeastasia
  policy: {crash_consistent_every: 1s, app_consistent_every: 4h, retention: 24h}
  protect: [app1]
YAML
# The receiver's replicas on a 60 MiB tmpfs in a mount namespace of its own: the
# 80 MiB of writes do not fit in the replica itself (whatever its log holds: the log
# returns its blocks when the sender goes, so the replica's own ENOSPC is met).
ns=(unshare -m)
[ "$(id -u)" -eq 0 ] || ns=(unshare -rm)
receive "$tmp/small/tgt" "$port" "${ns[@]}" sh -c "mount -t tmpfs -o size=60m tmpfs '$tmp/small' && exec \"\$@\"" sh
"$STRAITD" --estate "$tmp/est.yaml" --socket "$tmp/d.sock" --work "$tmp/dcap" --target "127.0.0.1:$port" 2>"$tmp/d.log" &
dpid=$!
pids+=("$dpid")
for _ in $(seq 100); do [ -S "$tmp/dcap/nbd.sock" ] && break; sleep 0.05; done
qemu-io -f raw -c "write -P 0x66 0 80M" "nbd+unix:///app1-os?socket=$tmp/dcap/nbd.sock" >/dev/null
st() { "$STRAIT" replica status --socket "$tmp/d.sock" -o json; }
for _ in $(seq 100); do st | grep -q "No space left" && break; sleep 0.1; done
check "a full target disk: the status names the error" 'st | grep -q "\"state\": \"error\"" && st | grep -q "No space left on device"'
check "the writes wait in the journal (backlog)" '[ "$(st | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)[\"disks\"][0][\"backlog_bytes\"])")" -gt 0 ]'
nsenter --mount="/proc/$rpid/ns/mnt" mount -o remount,size=256m "$tmp/small" 2>/dev/null ||
	nsenter -U --preserve-credentials --mount="/proc/$rpid/ns/mnt" mount -o remount,size=256m "$tmp/small"
for _ in $(seq 200); do st | grep -q "\"state\": \"protected\"" && st | grep -q '"backlog_bytes": 0,' && break; sleep 0.1; done
kill -TERM "$dpid"; wait "$dpid"
kill -TERM "$rpid"; wait "$rpid"
check "space returns: replication resumes and the point equals the source" 'restore_eq app1-os "$tmp/c.img"'

# A receiver behind a link that drops packets answers no SYN (a listener whose accept
# queue is full drops them): each connect waits its 10 s out. Six disks learn it in
# one round of about 10 s, not six rounds' worth one after another.
/usr/bin/python3 -c '
import socket, sys, time
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(0)
p = l.getsockname()[1]; f = []
for i in range(4):
    s = socket.socket(); s.setblocking(False); s.connect_ex(("127.0.0.1", p)); f.append(s)
print(p, flush=True); time.sleep(120)' >"$tmp/hole.port" &
pids+=($!)
for _ in $(seq 50); do [ -s "$tmp/hole.port" ] && break; sleep 0.1; done
disks=()
for i in 1 2 3 4 5 6; do truncate -s 8M "$tmp/h$i.img"; disks+=("h$i=$tmp/h$i.img"); done
t0=$(date +%s)
"$STRAIT" replica serve --work "$tmp/wh" --socket "$tmp/h.sock" --target "127.0.0.1:$(cat "$tmp/hole.port")" \
	"${disks[@]}" >/dev/null 2>"$tmp/hole.err" &
hpid=$!
pids+=($hpid)
for _ in $(seq 300); do [ "$(grep -c "(retrying)" "$tmp/hole.err")" -ge 6 ] && break; sleep 0.1; done
took=$(($(date +%s) - t0))
kill -TERM "$hpid"; wait "$hpid" 2>/dev/null
check "a receiver that answers no SYN: six disks in error after one 10 s connect ($took s)" '[ "$(grep -c "(retrying)" "$tmp/hole.err")" -ge 6 ] && [ "$took" -lt 25 ] && grep -q "timed out" "$tmp/hole.err" && grep -q "not tried: unreachable" "$tmp/hole.err"'
exit $((fails > 0))
