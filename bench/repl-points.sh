#!/usr/bin/env bash
# What recovery points cost under small random writes, strait against restic (a
# deduplicating backup store: content-defined chunks of about 1 MiB). A 1 GiB disk of random
# bytes (so compression does not blur it) gets 4 KiB writes at random offsets, held at RATE
# IOPS for SECS seconds, with a point every 5 s:
# - strait: `strait replica serve` protects the disk (a point every 5 s; the first, of the
#   whole disk, before the writes start) and fio writes through its NBD export;
# - restic: `restic backup` of the disk after its first snapshot, then one every 5 s of fio
#   writing into the file (psync), SECS / 5 times.
# Prints the bytes fio wrote, what the points after the first added to the store (strait's
# packs, restic's repository) and their ratio to what was written, the CPU the points took
# (strait's point thread; restic's backups), and the time to restore the newest point (the
# image checked equal to the disk). With a second strait (an older build, say) it runs too.
# All run in turn RUNS times; medians. Ends with strait's store growth as a share of
# restic's (goal: under 0.1).
# Usage: bench/repl-points.sh STRAIT [STRAIT_BEFORE]   Env: SECS (20), RATE (2000), RUNS (1)
set -euo pipefail
bins=("${1:?usage: bench/repl-points.sh STRAIT [STRAIT_BEFORE]}")
[ -n "${2:-}" ] && bins+=("$2")
secs=${SECS:-20} rate=${RATE:-2000} runs=${RUNS:-1}
for t in fio restic; do
	command -v $t >/dev/null || { echo "repl-points.sh: $t missing (scripts/deps.sh installs it)" >&2; exit 2; }
done
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
head -c $((1 << 30)) /dev/urandom >"$tmp/seed.img"
hz=$(getconf CLK_TCK)

size() { du -sb "$1" | cut -f1; }

point_cpu() { # the point thread's CPU so far, in clock ticks
	local t
	for t in /proc/$1/task/*; do
		[ "$(cat "$t/comm")" = strait-point ] && awk '{ print $14 + $15 }' "$t/stat" && return
	done
	echo 0
}

fio_bytes() { python3 -c 'import json,sys; t=open(sys.argv[1]).read(); print(json.loads(t[t.index("{"):])["jobs"][0]["write"]["io_bytes"])' "$1"; }

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

strait_run() { # strait_run BIN -> "written grown cpu_s restore_ms"
	local bin=$1 p0 c0 cpu t0 t
	rm -rf "$tmp/store" "$tmp/work" "$tmp/s.sock" "$tmp/r.img"
	cp "$tmp/seed.img" "$tmp/disk.img"
	"$bin" replica serve --store "$tmp/store" --work "$tmp/work" --socket "$tmp/s.sock" \
		--interval 5s vm1-os="$tmp/disk.img" >/dev/null 2>"$tmp/serve.err" &
	pid=$!
	for _ in $(seq 600); do # the first point: the whole disk
		[ -S "$tmp/s.sock" ] && "$bin" replica points vm1-os --store "$tmp/store" 2>/dev/null | grep -q full && break
		sleep 0.1
	done
	p0=$(size "$tmp/store/packs") c0=$(point_cpu "$pid")
	fio --name=p --ioengine=nbd --uri="nbd+unix:///vm1-os?socket=$tmp/s.sock" --rw=randwrite \
		--bs=4k --iodepth=8 --size=1G --time_based --runtime="$secs" --rate_iops="$rate" \
		--output-format=json >"$tmp/fio.json" 2>/dev/null
	cpu=$(($(point_cpu "$pid") - c0))
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
	t0=$(date +%s%N)
	"$bin" replica restore vm1-os "$tmp/r.img" --store "$tmp/store" >/dev/null
	t=$(ms_since "$t0")
	cmp -s "$tmp/r.img" "$tmp/disk.img" || { echo "repl-points.sh: $bin restored a different image" >&2; exit 1; }
	echo "$(fio_bytes "$tmp/fio.json") $(($(size "$tmp/store/packs") - p0)) $(awk -v j="$cpu" -v hz="$hz" 'BEGIN { printf "%.2f", j / hz }') $t"
}

restic_run() { # -> "written grown cpu_s restore_ms"
	local r=$tmp/restic p0 written=0 cpu=0 k t0 t TIMEFORMAT='%U %S'
	export RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=$tmp/restic-cache
	rm -rf "$r" "$tmp/restic-cache" "$tmp/rr"
	cp "$tmp/seed.img" "$tmp/disk.img"
	restic -q -r "$r" init >/dev/null
	restic -q -r "$r" backup "$tmp/disk.img" >/dev/null
	p0=$(size "$r")
	for k in $(seq $((secs / 5))); do
		fio --name=p --ioengine=psync --filename="$tmp/disk.img" --rw=randwrite --bs=4k \
			--size=1G --time_based --runtime=5 --rate_iops="$rate" --randseed="$k" \
			--output-format=json >"$tmp/fio.json" 2>/dev/null
		written=$((written + $(fio_bytes "$tmp/fio.json")))
		{ time restic -q -r "$r" backup "$tmp/disk.img" >/dev/null 2>&1; } 2>"$tmp/time"
		cpu=$(awk -v c="$cpu" '{ printf "%.2f", c + $1 + $2 }' "$tmp/time")
	done
	t0=$(date +%s%N)
	restic -q -r "$r" restore latest --target "$tmp/rr" >/dev/null
	t=$(ms_since "$t0")
	cmp -s "$tmp/rr$tmp/disk.img" "$tmp/disk.img" || { echo "repl-points.sh: restic restored a different image" >&2; exit 1; }
	echo "$written $(($(size "$r") - p0)) $cpu $t"
}

med() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

names=()
for b in "${bins[@]}"; do names+=("$(basename "$(dirname "$b")")/$(basename "$b")"); done
names+=(restic)
for _ in $(seq "$runs"); do
	for i in "${!bins[@]}"; do strait_run "${bins[$i]}" >>"$tmp/res.$i"; done
	restic_run >>"$tmp/res.${#bins[@]}"
done
echo "$(date +%F), 4 KiB random writes at $rate IOPS for $secs s over 1 GiB of random data, a point every 5 s, median of $runs"
printf '%-28s %10s %10s %8s %10s %10s\n' "" "written MB" "points MB" ratio "points cpu" "restore s"
for i in "${!names[@]}"; do
	w=$(cut -d' ' -f1 "$tmp/res.$i" | med) g=$(cut -d' ' -f2 "$tmp/res.$i" | med)
	c=$(cut -d' ' -f3 "$tmp/res.$i" | med) t=$(cut -d' ' -f4 "$tmp/res.$i" | med)
	echo "$g" >"$tmp/grown.$i"
	awk -v b="${names[$i]}" -v w="$w" -v g="$g" -v c="$c" -v t="$t" \
		'BEGIN { printf "%-28s %10.1f %10.1f %8.2f %9.2fs %10.2f\n", b, w / 1e6, g / 1e6, g / w, c, t / 1000 }'
done
awk -v s="$(cat "$tmp/grown.0")" -v r="$(cat "$tmp/grown.${#bins[@]}")" \
	'BEGIN { x = s / r; printf "strait'"'"'s points take %.3f of what restic'"'"'s take (goal < 0.1): %s\n", x, x < 0.1 ? "goal met" : "goal MISSED" }'
