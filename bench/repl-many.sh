#!/usr/bin/env bash
# What many quiet disks cost while one is busy: `strait replica serve` protects N
# sparse 8 MiB disks and one 1 GiB disk (the recovery region in the same
# process); once every disk has its first point, fio writes 64 KiB blocks at
# random to the big disk at RATE MB/s for SECS seconds. Prints strait's CPU
# (all its threads, clock ticks from /proc) during the writes, per written MB
# and per quiet disk, with N quiet disks and with none, so the difference is
# what the quiet ones cost: a shipper that visits every disk every few
# milliseconds while one streams pays for each.
# Usage: bench/repl-many.sh STRAIT   Env: DISKS (default 500), RATE (MB/s, default 20),
#                                    SECS (default 10)
set -euo pipefail
strait=${1:?usage: bench/repl-many.sh STRAIT}
n=${DISKS:-500} rate=${RATE:-20} secs=${SECS:-10}
command -v fio >/dev/null || { echo "repl-many.sh: fio missing (scripts/deps.sh installs it)" >&2; exit 2; }
me=repl-many.sh
. "$(dirname "$0")/repl-disks.sh"

run() { # run QUIET: prints strait's CPU, clock ticks
	local quiet=$1
	rm -f "$tmp/big.img"
	truncate -s 1G "$tmp/big.img"
	serve_disks 8M "$quiet" "big=$tmp/big.img"
	sleep 2
	local c0 c1
	c0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	fio --name=w --ioengine=nbd --uri="nbd+unix:///big?socket=$tmp/s.sock" --rw=randwrite \
		--bs=64k --iodepth=4 --size=1G --rate="${rate}m" --kb_base=1000 --time_based \
		--runtime="$secs" >/dev/null 2>&1
	c1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	stop_strait
	echo "$((c1 - c0))"
}
hz=$(getconf CLK_TCK)
one=$(run 0)
many=$(run "$n")
printf '%s, one disk written at %s MB/s for %s s (64 KiB random writes over NBD)\n' "$(date -u +%F)" "$rate" "$secs"
awk -v one="$one" -v many="$many" -v n="$n" -v hz="$hz" -v s="$secs" -v r="$rate" 'BEGIN {
	printf "strait alone with it:           %5.1f%% of a CPU, %.2f ms of CPU per MB written\n", one * 100 / hz / s, one * 1000 / hz / (r * s)
	printf "strait with %d quiet disks too: %5.1f%% of a CPU, %.2f ms of CPU per MB written\n", n, many * 100 / hz / s, many * 1000 / hz / (r * s)
	printf "each quiet disk: %.3f%% of a CPU while another streams\n", (many - one) * 100 / hz / s / n }'
