#!/usr/bin/env bash
# Failover and reprotect with real disks (TAP): straitd protects app1's disk; `strait failover
# --store --restore-dir` restores its newest point as the failed-over disk and writes an
# estate whose disk names that image as its path and the old disk as its seed; the
# recovered VM writes; `strait reprotect` reverses replication; straitd run on that estate
# replicates the failed-over disk back with the old disk as the seed: only the blocks that
# differ cross the link, the old disk ends equal to the failed-over one, and the new point
# restores equal to it.
set -u
: "${STRAIT:?path to the strait binary}" "${SRCROOT:?source root}"
STRAITD=${STRAITD:-$(dirname "$STRAIT")/straitd}
cd "$SRCROOT"
. "$SRCROOT/tests/scripts/tap.sh"
work_dir
tap_plan 12
need qemu-io qemu-img

seed_estate "$tmp/estate.yaml" 64MiB app1-os.img
qemu-img create -q -f raw "$tmp/app1-os.img" 64M
qemu-io -f raw -c "write -P 0x31 0 24M" -c "write -P 0x32 32M 24M" "$tmp/app1-os.img" >/dev/null

daemon() { # daemon ESTATE WORK: straitd replicating -> $pid
	"$STRAITD" --estate "$1" --socket "$tmp/d.sock" --work "$2" 2>>"$tmp/log" &
	pid=$!
	pids+=("$pid")
	for _ in $(seq 100); do [ -S "$2/nbd.sock" ] && break; sleep 0.05; done
}
caught_up() { # protected, nothing unacknowledged, a point holding every write
	for _ in $(seq 300); do
		[ "$(field state)" = protected ] && [ "$(field backlog_bytes)" = 0 ] &&
			[ "$(field rpo_ms)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}
stop() { kill -TERM "$pid"; wait "$pid"; pid=; }
[ -n "${KEEP:-}" ] && trap 'kill -9 $pid 2>/dev/null; echo "kept $tmp"' EXIT

# ---- protected in East Asia -------------------------------------------------------------
daemon "$tmp/estate.yaml" "$tmp/w1"
qemu-io -f raw -c "write -P 0x41 8M 4M" "nbd+unix:///app1-os?socket=$tmp/w1/nbd.sock" >/dev/null
check "straitd protects app1-os and catches up" 'caught_up'
stop
cp "$tmp/app1-os.img" "$tmp/before.img"

# ---- failover with the real disk ---------------------------------------------------------
"$STRAIT" failover "$tmp/estate.yaml" --no-state --down region:eastasia --out "$tmp/after.yaml" \
	--store "$tmp/w1/store" --restore-dir "$tmp/sea" >"$tmp/fo.out" 2>&1
check "failover restores the disk's newest point" 'grep -q "^restored app1-os point [0-9]* ([a-z]*-consistent) to $tmp/sea/app1-os.img" "$tmp/fo.out"'
check "the failed-over disk equals the protected disk" 'cmp -s "$tmp/sea/app1-os.img" "$tmp/before.img"'
check "the estate after names the image as the disk and the old disk as its seed" \
	'grep -q "path: $tmp/sea/app1-os.img" "$tmp/after.yaml" && grep -q "seed: $tmp/app1-os.img" "$tmp/after.yaml"'
"$STRAIT" failover "$tmp/estate.yaml" --no-state --out "$tmp/x.yaml" --store "$tmp/w1/store" \
	--restore-dir "$tmp/sea2" --point 1h >"$tmp/fo2.out" 2>&1
check "no point an hour old: the failover fails and writes no estate" \
	'[ $? -ne 0 ] && grep -q "no recovery point" "$tmp/fo2.out" && [ ! -e "$tmp/x.yaml" ]'

# ---- the recovered VM writes; reprotect ---------------------------------------------------
qemu-io -f raw -c "write -P 0x51 1M 64k" -c "write -P 0x52 20M 128k" -c "write -P 0x53 40M 64k" \
	-c "write -z 50M 1M" "$tmp/sea/app1-os.img" >/dev/null
cp "$tmp/sea/app1-os.img" "$tmp/sea.img"
"$STRAIT" reprotect "$tmp/after.yaml" --no-state --out "$tmp/rep.yaml" >"$tmp/rp.out" 2>&1
check "reprotect reverses replication: Southeast Asia to East Asia, app1 protected" \
	'grep -A2 "^replication:" "$tmp/rep.yaml" | grep -q "source: southeastasia" && grep -A3 "^replication:" "$tmp/rep.yaml" | grep -q "target: eastasia" && grep -q "protect: \[app1" "$tmp/rep.yaml"'

# ---- replicating back, the old disk as the seed ---------------------------------------------
daemon "$tmp/rep.yaml" "$tmp/w2"
check "straitd replicates the failed-over disk back and catches up" 'caught_up'
wire=$(field wire_bytes)
echo "# reprotect: $wire bytes crossed the link for a 64 MiB disk"
check "only the differing blocks crossed the link (under 10% of the disk)" '[ -n "$wire" ] && [ "$wire" -lt $((64 * 1048576 / 10)) ]'
qemu-io -f raw -c "write -P 0x61 60M 64k" "nbd+unix:///app1-os?socket=$tmp/w2/nbd.sock" >/dev/null
cp "$tmp/sea/app1-os.img" "$tmp/sea.img"
check "writes after the reprotect replicate too" 'caught_up'
stop
check "the old disk (the seed) now equals the failed-over disk" 'cmp -s "$tmp/app1-os.img" "$tmp/sea.img"'
"$STRAIT" replica restore app1-os "$tmp/r.img" --store "$tmp/w2/store" >/dev/null
check "the reverse point restores equal to the failed-over disk" 'cmp -s "$tmp/r.img" "$tmp/sea.img"'
check "the forward store was not touched by the reverse replication" \
	'[ "$("$STRAIT" replica points app1-os --store "$tmp/w1/store" -o json | grep -c "\"point\"")" -ge 1 ]'
[ "$fails" -gt 0 ] && sed "s/^/# /" "$tmp/log" "$tmp/fo.out" "$tmp/rp.out"
tap_exit
