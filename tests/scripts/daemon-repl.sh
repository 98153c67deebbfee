#!/usr/bin/env bash
# straitd's replication (TAP): the estate's replication section protects the
# disks that name a path; strait replica status shows the initial copy, the
# RPO, churn and points; strait replica mark cuts app-consistent points (a
# group's disks together); a restart resumes without a second initial copy;
# every disk restores equal to its source.
set -u
: "${STRAIT:?path to the strait binary}" "${SRCROOT:?source root}"
STRAITD=${STRAITD:-$(dirname "$STRAIT")/straitd}
cd "$SRCROOT"
tmp=$(mktemp -d)
sock=$tmp/strait.sock nbd=$tmp/work/nbd.sock store=$tmp/work/store
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; [ "$fails" -gt 0 ] && sed "s/^/# /" "$tmp/log"; rm -rf "$tmp"; }
trap cleanup EXIT
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }
echo "1..16"
for t in qemu-io qemu-img; do
	command -v $t >/dev/null || { notok "$t is not installed (scripts/deps.sh installs it)"; exit 1; }
done
# The seed estate, its VMs' disks backed by files, points every second, db1 a group.
/usr/bin/python3 - "$tmp" <<'PY'
import sys
t = sys.argv[1]
s = open("examples/seed-two-circuits.yaml").read()
s = s.replace("disks: [{name: os, size: 32GiB}, {name: data, size: 128GiB}]",
              "disks: [{name: os, size: 32GiB, path: app1-os.img}, {name: data, size: 128GiB}]")
s = s.replace("disks: [{name: os, size: 32GiB}, {name: data, size: 256GiB}]",
              "disks: [{name: os, size: 32GiB, path: db1-os.img}, {name: data, size: 256GiB, path: %s/db1-data.img}]" % t)
s = s.replace("policy: {crash_consistent_every: 5m, app_consistent_every: 4h, retention: 24h}",
              "policy: {crash_consistent_every: 1s, app_consistent_every: 4h, retention: 24h}\n  groups:\n    - {name: db, vms: [db1]}")
open(t + "/estate.yaml", "w").write(s)
PY
qemu-img create -q -f raw "$tmp/app1-os.img" 64M
qemu-img create -q -f raw "$tmp/db1-os.img" 32M
qemu-img create -q -f raw "$tmp/db1-data.img" 32M
qemu-io -f raw -c "write -P 0x11 0 16M" "$tmp/app1-os.img" >/dev/null # data before protection
start() {
	"$STRAITD" --estate "$tmp/estate.yaml" --socket "$sock" --work "$tmp/work" 2>>"$tmp/log" &
	pid=$!
	for _ in $(seq 100); do [ -S "$sock" ] && [ -S "$nbd" ] && break; sleep 0.1; done
}
status() { "$STRAIT" replica status --socket "$sock" "$@"; }
field() { # field DISK KEY: a value of the JSON status
	status -o json | /usr/bin/python3 -c 'import json,sys; d=[x for x in json.load(sys.stdin)["disks"] if x["disk"]==sys.argv[1]][0]; v=d; [v:=v[k] for k in sys.argv[2].split(".")]; print(v)' "$1" "$2"
}
check "straitd without --work: status says why there is no replication" \
	'"$STRAITD" --estate "$tmp/estate.yaml" --socket "$sock" 2>/dev/null & p=$!; for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done; "$STRAIT" replica status --socket "$sock" 2>"$tmp/e"; r=$?; kill $p; wait $p; [ $r -eq 1 ] && grep -q "with --work DIR" "$tmp/e"'
start
check "straitd protects the disks that name a path" '[ -S "$nbd" ] && grep -q "replicating 3 disks" "$tmp/log"'
point() { status -o json | /usr/bin/python3 -c 'import json,sys; d=[x for x in json.load(sys.stdin)["disks"] if x["disk"]==sys.argv[1]][0]; print(d.get("last_point", {}).get("seq", 0))' "$1"; }
for _ in $(seq 100); do [ "$(point app1-os)" -ge 1 ] && [ "$(point db1-data)" -ge 1 ] && break; sleep 0.1; done
check "the initial copy finishes and cuts the first point" '[ "$(field app1-os state)" = protected ] && [ "$(field app1-os last_point.seq)" -ge 1 ]'
check "status table lists every protected disk" 'status >"$tmp/s" && grep -q "^app1-os .*protected" "$tmp/s" && grep -q "^db1-os" "$tmp/s" && grep -q "^db1-data" "$tmp/s"'
check "a group's disks say their group" '[ "$(field db1-data group)" = db ] && [ "$(field app1-os group)" = None ]'
qemu-io -f raw -c "write -P 0xa1 1M 4M" -c "write -P 0xa2 40M 1M" "nbd+unix:///app1-os?socket=$nbd" >/dev/null
check "writes show up as bytes written" '[ "$(field app1-os written_bytes)" -eq 5242880 ]'
sleep 2.2
check "a crash-consistent point within the interval, RPO back to zero" '[ "$(field app1-os last_point.seq)" -ge 2 ] && [ "$(field app1-os rpo_ms)" -eq 0 ] && [ "$(field app1-os backlog_bytes)" -eq 0 ]'
check "churn is reported" 'status | grep "^app1-os" | grep -qv " 0 B/s"'
qemu-io -f raw -c "write -P 0xb1 0 1M" "nbd+unix:///db1-os?socket=$nbd" >/dev/null
qemu-io -f raw -c "write -P 0xb2 0 1M" "nbd+unix:///db1-data?socket=$nbd" >/dev/null
check "strait replica mark DISK of a group marks the group" '"$STRAIT" replica mark db1-os --socket "$sock" | grep -q "^1 app-consistent point" && [ "$(field db1-os last_point.kind)" = app ] && [ "$(field db1-data last_point.kind)" = app ]'
check "the group point names both disks" 'ls "$store"/groups/db/ | grep -q . && grep -rq db1-data "$store"/groups/db/'
check "strait replica mark without a name: every disk and group" '"$STRAIT" replica mark --socket "$sock" | grep -q "^2 app-consistent points" && [ "$(field app1-os last_point.kind)" = app ]'
check "strait replica mark of an unknown disk exits 1" '"$STRAIT" replica mark nope --socket "$sock" 2>"$tmp/e"; [ $? -eq 1 ] && grep -q "no protected disk or group" "$tmp/e"'
qemu-io -f raw -c "write -P 0xc1 8M 2M" "nbd+unix:///app1-os?socket=$nbd" >/dev/null
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
check "SIGTERM: the last ship, a clean stop" '[ $rc -eq 0 ] && [ ! -e "$nbd" ]'
check "every disk restores equal to its source" 'for d in app1-os db1-os db1-data; do "$STRAIT" replica restore $d "$tmp/r-$d.img" --store "$store" >/dev/null && cmp -s "$tmp/r-$d.img" "$tmp/$d.img" || exit 1; done'
start
for _ in $(seq 100); do [ "$(point app1-os)" -ge 1 ] && break; sleep 0.1; done
check "a restart resumes: no second initial copy" '[ "$(field app1-os state)" = protected ] && [ ! -e "$tmp/work/replica/app1-os.copy" ]'
check "after the restart the status names the store's newest point" '[ "$(field app1-os last_point.seq)" = "$("$STRAIT" replica points app1-os --store "$store" -o json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)[-1][\"point\"])")" ]'
kill -TERM "$pid"; wait "$pid"; pid=
exit $((fails > 0))
