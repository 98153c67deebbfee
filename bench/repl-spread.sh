#!/usr/bin/env bash
# The same churn on one disk or spread over many: `strait replica serve` protects
# N disks of 64 MiB (the recovery region in the same process), and fio writes
# 4 KiB blocks at random at RATE MB/s in all for SECS seconds, first to one disk,
# then split evenly over all N (one fio job each, over NBD). Prints strait's CPU
# (all its threads, from /proc) per MB written in both cases: what a disk that is
# written a little costs beyond its bytes (the shipper's visit, its journal
# iterator, its connection's turn on the receiving side).
# Usage: bench/repl-spread.sh STRAIT   Env: DISKS (default 100), RATE (MB/s, default 10),
#                                      SECS (default 10)
set -euo pipefail
strait=${1:?usage: bench/repl-spread.sh STRAIT}
n=${DISKS:-100} rate=${RATE:-10} secs=${SECS:-10}
command -v fio >/dev/null || { echo "repl-spread.sh: fio missing (scripts/deps.sh installs it)" >&2; exit 2; }
me=repl-spread.sh
. "$(dirname "$0")/repl-disks.sh"
serve_disks 64M "$n"
sleep 2
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
jobs() { # jobs K: a fio job file writing RATE MB/s in all over disks 1..K
	local k=$1 i
	printf '[global]\nioengine=nbd\nrw=randwrite\nbs=4k\nsize=64M\ntime_based\nruntime=%s\nkb_base=1000\n' "$secs"
	for i in $(seq 1 "$k"); do
		printf '[v%s]\nuri=nbd+unix:///v%s?socket=%s\nrate=%sk\n' "$i" "$i" "$tmp/s.sock" $((rate * 1000 / k))
	done
}
measure() { # measure K -> CPU ticks while K disks take the churn
	jobs "$1" >"$tmp/jobs.fio"
	local c0 c1
	c0=$(cpu)
	fio "$tmp/jobs.fio" >/dev/null 2>&1
	c1=$(cpu)
	echo $((c1 - c0))
}
one=$(measure 1)
sleep 3 # the first run's backlog shipped
all=$(measure "$n")
hz=$(getconf CLK_TCK)
printf '%s, %s MB/s of 4 KiB random writes for %s s, %s disks protected\n' "$(date -u +%F)" "$rate" "$secs" "$n"
awk -v one="$one" -v all="$all" -v n="$n" -v hz="$hz" -v s="$secs" -v r="$rate" 'BEGIN {
	printf "on one disk:        %5.1f%% of a CPU, %.1f ms of CPU per MB\n", one * 100 / hz / s, one * 1000 / hz / (r * s)
	printf "spread over %4d:   %5.1f%% of a CPU, %.1f ms of CPU per MB\n", n, all * 100 / hz / s, all * 1000 / hz / (r * s) }'
