#!/usr/bin/env bash
# What an idle protected disk costs: `strait replica serve` protects N sparse 8 MiB
# disks (the recovery region in the same process: its receiver too), waits until
# each has its first point and a few seconds more, then prints per disk the
# resident memory, threads, open files, and the bytes on disk of the journal
# (protected side) and of the replica with its log (recovery side), and what the
# idle process costs: its threads' wakeups (context switches) and CPU over 10 s.
# 10,000 disks is the scale the design aims at: multiply.
# Usage: bench/repl-idle.sh STRAIT   Env: DISKS (default 500), SETTLE (s, default 5)
set -euo pipefail
strait=${1:?usage: bench/repl-idle.sh STRAIT}
n=${DISKS:-500} settle=${SETTLE:-5}
me=repl-idle.sh
. "$(dirname "$0")/repl-disks.sh"
t0=$(date +%s%N)
serve_disks 8M "$n"
ms=$((($(date +%s%N) - t0) / 1000000))
sleep "$settle"
switches() { cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches/ { n += $2 } END { print n + 0 }'; }
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; } # clock ticks, every thread
s0=$(switches) c0=$(cpu)
sleep 10
s1=$(switches) c1=$(cpu)
hz=$(getconf CLK_TCK)
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
thr=$(awk '/^Threads/ { print $2 }' "/proc/$pid/status")
fds=$(ls "/proc/$pid/fd" | wc -l)
jkb=$(du -sk "$tmp/work/journal" | cut -f1)
rkb=$(du -sk "$tmp/work/replica" | cut -f1)
printf '%s, %s idle disks of 8 MiB, every one with its first point in %s ms\n' "$(date -u +%F)" "$n" "$ms"
awk -v n="$n" -v s=$((s1 - s0)) -v c=$((c1 - c0)) -v hz="$hz" 'BEGIN {
	printf "idle, 10 s: %.0f wakeups a second, %.1f%% of a CPU (10,000 disks at that rate: %.0f a second, %.0f%%)\n",
		s / 10, c * 100 / hz / 10, s / 10 * 10000 / n, c * 100 / hz / 10 * 10000 / n }'
awk -v n="$n" -v rss="$rss" -v thr="$thr" -v fds="$fds" -v j="$jkb" -v r="$rkb" 'BEGIN {
	printf "per disk: %.0f KiB resident, %.2f threads, %.1f open files, journal %.0f KiB, replica and log %.0f KiB on disk\n",
		rss / n, thr / n, fds / n, j / n, r / n
	printf "10,000 disks at that rate: %.1f GiB resident, %.0f threads, %.0f open files, %.1f GiB of journals\n",
		rss * 10000 / n / 1048576, thr * 10000 / n, fds * 10000 / n, j * 10000 / n / 1048576 }'
