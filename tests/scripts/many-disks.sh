#!/usr/bin/env bash
# Many disks under the usual open-file limit (TAP). Replication keeps about ten
# descriptors per disk, and a shell's soft limit is often 1024: with it, 150 disks
# failed with "Too many open files" and none was ever protected. strait raises its
# soft limit to the hard one, so `strait replica serve` protects all 150 (a first
# point each) and a write to the last one reaches its replica; idle, their journals
# hold 1 MiB each on disk, not a 64 MiB segment each, and their receiving threads
# sleep (a 100 ms tick each was 1,500 wakeups a second here, a CPU's worth at
# 10,000 disks), and a few threads serve all the receiving connections. Under a
# hard limit too low for the disks asked, it refuses at once and says what it needs.
set -u
: "${STRAIT:?path to the strait binary}" "${SRCROOT:?source root}"
cd "$SRCROOT"
. "$SRCROOT/tests/scripts/tap.sh"
work_dir
tap_plan 8
need qemu-io

ndisks=150
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$hard" -ge 4096 ] ||
	{ notok "the hard open-file limit ($hard) is below the 4096 this test needs"; exit 1; }
mkdir -p "$tmp/d"
args=()
for i in $(seq 1 $ndisks); do
	truncate -s 4M "$tmp/d/v$i.img"
	args+=("v$i=$tmp/d/v$i.img")
done
points() { "$STRAIT" replica points "$1" --store "$tmp/store" -o json 2>/dev/null |
	/usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo 0; }
all_pointed() {
	local d
	for d in $(seq 1 $ndisks); do [ -d "$tmp/store/disks/v$d" ] || return 1; done
}
(
	ulimit -Sn 1024
	exec "$STRAIT" replica serve --store "$tmp/store" --work "$tmp/work" --socket "$tmp/s.sock" \
		--interval 1s "${args[@]}" >"$tmp/serve.out" 2>"$tmp/serve.err"
) &
spid=$!
pids+=("$spid")
check "$ndisks disks under a soft limit of 1024 open files: each has its first point" \
	'wait_for 60 all_pointed'
check "no disk met \"Too many open files\"" '! grep -q "Too many open files" "$tmp/serve.err"'
# an idle disk's journal holds its first segment's first 1 MiB (the segment's 64 MiB
# are allocated as records reach them), not 64 MiB: 150 disks, at most 2 MiB each
jkb=$(du -sk "$tmp/work/journal" | cut -f1)
check "150 idle disks' journals take ${jkb} KiB on disk (at most 2 MiB a disk)" '[ "$jkb" -le $((ndisks * 2048)) ]'
# idle: context switches of all of strait's threads in 2 s, once every disk is quiet
# (its first point cut, its log checkpointed after the copy)
switches() { cat /proc/"$spid"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches/ { n += $2 } END { print n + 0 }'; }
sleep 2
s0=$(switches)
sleep 2
s1=$(switches)
check "150 idle disks wake strait's threads $((s1 - s0)) times in 2 s (at most 300)" '[ $((s1 - s0)) -le 300 ]'
nthr=$(awk '/^Threads/ { print $2 }' "/proc/$spid/status")
check "150 disks' connections are served by $nthr threads in all (at most 40, not one each)" '[ "$nthr" -le 40 ]'
before=$(points v$ndisks)
qemu-io -f raw -c "write -P 0x5a 1M 64k" "nbd+unix:///v$ndisks?socket=$tmp/s.sock" >/dev/null
newer() { [ "$(points v$ndisks)" -gt "$before" ]; }
check "a write to the last disk is replicated: a new point" 'wait_for 20 newer'
kill -TERM "$spid"
wait "$spid"
src=$?
check "strait stops cleanly" '[ $src -eq 0 ]'

err=$( (ulimit -n 256 && exec "$STRAIT" replica serve --store "$tmp/store2" --work "$tmp/work2" \
	--socket "$tmp/s2.sock" "${args[@]:0:40}") 2>&1)
rc=$?
check "under a hard limit of 256, 40 disks are refused at once, saying what they need" \
	'[ $rc -ne 0 ] && grep -q "protecting 40 disks needs about [0-9]* open files, and the limit is 256" <<<"$err"'
[ "$fails" -eq 0 ] || tail -n 5 "$tmp/serve.err" | sed 's/^/# /'
tap_exit
