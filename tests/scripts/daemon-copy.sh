#!/usr/bin/env bash
# straitd's initial copy as the operator sees it (TAP): the link limited (--rate, or the
# on-premises site's circuit when it replicates over ExpressRoute), `strait replica status`
# shows the copy's progress rising sample by sample and never falling, no point exists until
# the copy is complete, the copy takes at least as long as the limit says, then the disk is
# protected and its point equals the source.
set -u
: "${STRAIT:?path to the strait binary}" "${SRCROOT:?source root}"
STRAITD=${STRAITD:-$(dirname "$STRAIT")/straitd}
cd "$SRCROOT"
. "$SRCROOT/tests/scripts/tap.sh"
work_dir
tap_plan 8
need qemu-io qemu-img

seed_estate "$tmp/estate.yaml" 96MiB app1-os.img
qemu-img create -q -f raw "$tmp/app1-os.img" 96M
# 64 MiB of data in four extents (the copy skips the holes between them)
qemu-io -f raw -c "write -P 0x21 0 16M" -c "write -P 0x43 24M 16M" -c "write -P 0x65 48M 16M" \
	-c "write -P 0x87 80M 16M" "$tmp/app1-os.img" >/dev/null
rate_mbps=160 # 20 MB/s: the 64 MiB copy takes at least 3.3 s
start=$(date +%s.%N)
"$STRAITD" --estate "$tmp/estate.yaml" --socket "$tmp/d.sock" --work "$tmp/work" \
	--rate "${rate_mbps}Mbps" 2>"$tmp/log" &
pid=$!
pids+=("$pid")
# sample: state copy_percent points, every 100 ms, until protected with a point
for _ in $(seq 300); do
	st | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)["disks"][0]
print(d["state"], d.get("copy_percent", 0), d.get("last_point", 0))' >>"$tmp/samples" 2>/dev/null
	tail -n 1 "$tmp/samples" 2>/dev/null | grep -q "^protected .* [1-9]" && break
	sleep 0.1
done
end=$(date +%s.%N)
check "straitd logs the link's limit" 'grep -q "the link limited to $rate_mbps Mbps (--rate)" "$tmp/log"'
check "the status shows the initial copy" 'grep -q "^initial-copy " "$tmp/samples"'
check "the copy's progress rises through at least 4 distinct values below 100%" \
	'[ "$(awk "/^initial-copy/ && \$2 < 100 {print \$2}" "$tmp/samples" | sort -un | wc -l)" -ge 4 ]'
check "the progress never falls" \
	'awk "/^initial-copy/ {if (\$2 + 0 < last) bad = 1; last = \$2 + 0} END {exit bad}" "$tmp/samples"'
check "no point while the copy is incomplete" \
	'! awk "/^initial-copy/ && \$3 != 0" "$tmp/samples" | grep -q .'
check "the disk ends protected with a point" 'tail -n 1 "$tmp/samples" | grep -q "^protected .* [1-9]"'
check "the copy took at least as long as the link allows (64 MiB at 20 MB/s)" \
	'/usr/bin/python3 -c "import sys; sys.exit(0 if $end - $start >= 64 * 1048576 / 20e6 * 0.9 else 1)"'
kill -TERM "$pid"; wait "$pid"; pid=
"$STRAIT" replica restore app1-os "$tmp/r.img" --store "$tmp/work/store" >/dev/null
check "the point equals the source" 'cmp -s "$tmp/r.img" "$tmp/app1-os.img"'
[ "$fails" -gt 0 ] && sed "s/^/# /" "$tmp/samples" "$tmp/log"
tap_exit
