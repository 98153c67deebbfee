#!/usr/bin/env bash
# What recovery points cost the store under small random writes: a 1 GiB disk of random
# bytes (so compression does not blur it) is protected by `strait replica serve` with a point
# every 5 s; after its first point fio writes 4 KiB blocks at random over NBD, held at RATE
# IOPS for SECS seconds. Prints the bytes fio wrote, what the points after the first added
# to the store's packs and their ratio (the amplification), the point thread's CPU seconds
# for those points, and the time to restore the newest point (checked equal to the disk).
# With a second binary (an older build, say) both run in turn RUNS times, medians printed
# side by side.
# Usage: bench/repl-points.sh STRAIT [STRAIT_BEFORE]   Env: SECS (20), RATE (2000), RUNS (1)
set -euo pipefail
bins=("${1:?usage: bench/repl-points.sh STRAIT [STRAIT_BEFORE]}")
[ -n "${2:-}" ] && bins+=("$2")
secs=${SECS:-20} rate=${RATE:-2000} runs=${RUNS:-1}
command -v fio >/dev/null || { echo "repl-points.sh: fio missing (scripts/deps.sh installs it)" >&2; exit 2; }
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
head -c $((1 << 30)) /dev/urandom >"$tmp/seed.img"

packs() { du -sb "$tmp/store/packs" | cut -f1; }

point_cpu() { # the point thread's CPU so far, in clock ticks
	local t
	for t in /proc/$1/task/*; do
		[ "$(cat "$t/comm")" = strait-point ] && awk '{ print $14 + $15 }' "$t/stat" && return
	done
	echo 0
}

one() { # one BIN -> "written grown cpu_s restore_s"
	local bin=$1 p0 c0 t0 cpu t
	rm -rf "$tmp/store" "$tmp/work" "$tmp/s.sock" "$tmp/r.img"
	cp "$tmp/seed.img" "$tmp/disk.img"
	"$bin" replica serve --store "$tmp/store" --work "$tmp/work" --socket "$tmp/s.sock" \
		--interval 5s vm1-os="$tmp/disk.img" >/dev/null 2>"$tmp/serve.err" &
	pid=$!
	for _ in $(seq 600); do # the first point: the whole disk
		[ -S "$tmp/s.sock" ] && "$bin" replica points vm1-os --store "$tmp/store" 2>/dev/null | grep -q full && break
		sleep 0.1
	done
	p0=$(packs) c0=$(point_cpu "$pid")
	fio --name=p --ioengine=nbd --uri="nbd+unix:///vm1-os?socket=$tmp/s.sock" --rw=randwrite \
		--bs=4k --iodepth=8 --size=1G --time_based --runtime="$secs" --rate_iops="$rate" \
		--output-format=json >"$tmp/fio.json" 2>/dev/null
	cpu=$(($(point_cpu "$pid") - c0))
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
	local written grown
	written=$(python3 -c 'import json,sys; t=open(sys.argv[1]).read(); print(json.loads(t[t.index("{"):])["jobs"][0]["write"]["io_bytes"])' "$tmp/fio.json")
	grown=$(($(packs) - p0))
	t0=$(date +%s%N)
	"$bin" replica restore vm1-os "$tmp/r.img" --store "$tmp/store" >/dev/null
	t=$((($(date +%s%N) - t0) / 1000000))
	cmp -s "$tmp/r.img" "$tmp/disk.img" || { echo "repl-points.sh: $bin restored a different image" >&2; exit 1; }
	echo "$written $grown $(awk -v j="$cpu" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", j / hz }') $t"
}

med() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for r in $(seq "$runs"); do
	for i in "${!bins[@]}"; do one "${bins[$i]}" >>"$tmp/res.$i"; done
done
echo "$(date +%F), 4 KiB random writes at $rate IOPS for $secs s over 1 GiB of random data, a point every 5 s, median of $runs"
printf '%-28s %10s %12s %8s %11s %10s\n' binary "written MB" "points MB" ratio "point cpu s" "restore s"
for i in "${!bins[@]}"; do
	w=$(cut -d' ' -f1 "$tmp/res.$i" | med) g=$(cut -d' ' -f2 "$tmp/res.$i" | med)
	c=$(cut -d' ' -f3 "$tmp/res.$i" | med) t=$(cut -d' ' -f4 "$tmp/res.$i" | med)
	awk -v b="$(basename "$(dirname "${bins[$i]}")")/$(basename "${bins[$i]}")" -v w="$w" -v g="$g" -v c="$c" -v t="$t" \
		'BEGIN { printf "%-28s %10.1f %12.1f %8.2f %11.2f %10.2f\n", b, w / 1e6, g / 1e6, g / w, c, t / 1000 }'
done
