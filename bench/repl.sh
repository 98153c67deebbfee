#!/usr/bin/env bash
# Replication benchmark: fio through NBD (4k random writes, 1M sequential
# writes) against the same 1 GiB backing file served by strait with
# replication on (journal, shipper and a point every 5 s), nbdkit's file
# plugin and nbd-server (neither replicates). Prints IOPS and MB/s and
# strait's ratio to each (goal: at least 0.9). With RUNS > 1 the servers take
# turns RUNS times and each figure is the median (the VM is shared: single runs
# vary by 15% or more); "busy" is the machine's CPU use during the runs (2.00 =
# both CPUs), other processes included. For strait it also prints how long its
# stop took after fio ended (it ships what is left, waiting at most 10 s, and
# cuts the last point) and in how many runs the journal overflowed into its
# dirty bitmap (replication fell behind the writes; a resync follows): a figure
# bought that way is not replication keeping up. With RATES (such as
# "40000 55000 60000") strait also runs 4k random writes held at each rate
# (fio --rate_iops) and prints the same two figures: the rates replication
# keeps up with on this machine. "strait core" is strait's NBD server alone, without
# replication (bench/strait-nbdcore: no journal, shipping or receiver): what serving
# costs apart from replicating.
# STRAIT_ARGS adds options to strait's serve (such as "--activity-log 16384" with
# SIZE=64G: random writes over a disk larger than the activity log's 4.8 GiB).
# Usage: bench/repl.sh STRAIT   Env: SECS (per run, default 8), SIZE (default 1G),
#                               RUNS (default 1), RATES (default none), STRAIT_ARGS
set -euo pipefail
strait=${1:?usage: bench/repl.sh STRAIT}
secs=${SECS:-8} size=${SIZE:-1G} runs=${RUNS:-1}
core=$(dirname "$strait")/bench/strait-nbdcore
[ -x "$core" ] || { echo "repl.sh: no $core (a build with -Dbench=true makes it)" >&2; exit 2; }
for t in fio nbdkit nbd-server; do
	command -v $t >/dev/null || { echo "repl.sh: $t missing (scripts/deps.sh installs it)" >&2; exit 2; }
done
tmp=$(mktemp -d)
pid=
trap 'pkill -f "nbd-server -C $tmp/nbd.conf"; [ -n "$pid" ] && [ "$pid" != nbd-server ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

wait_sock() { for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done; echo "repl.sh: no socket $1" >&2; exit 1; }

start() { # start SERVER -> $pid, $uri
	rm -f "$tmp/disk.img" "$tmp/s.sock"
	rm -rf "$tmp/store" "$tmp/work"
	truncate -s "$size" "$tmp/disk.img"
	case $1 in
	strait)
		"$strait" replica serve --store "$tmp/store" --work "$tmp/work" --socket "$tmp/s.sock" \
			--interval 5s ${STRAIT_ARGS:-} vm1-os="$tmp/disk.img" >/dev/null 2>"$tmp/strait.err" &
		pid=$! uri="nbd+unix:///vm1-os?socket=$tmp/s.sock" ;;
	strait-core)
		"$core" "$tmp/s.sock" "$tmp/disk.img" &
		pid=$! uri="nbd+unix:///disk?socket=$tmp/s.sock" ;;
	nbdkit)
		nbdkit -f -U "$tmp/s.sock" file "$tmp/disk.img" &
		pid=$! uri="nbd+unix:///?socket=$tmp/s.sock" ;;
	nbd-server)
		printf '[generic]\nunixsock = %s\n[disk]\nexportname = %s\n' "$tmp/s.sock" "$tmp/disk.img" >"$tmp/nbd.conf"
		nbd-server -C "$tmp/nbd.conf" 2>/dev/null # daemonizes; forks per client
		pid=nbd-server uri="nbd+unix:///disk?socket=$tmp/s.sock" ;;
	esac
	wait_sock "$tmp/s.sock"
}

stop() { # the server must still run: a crash under load is a failure
	if [ "$1" = nbd-server ]; then
		pkill -f "nbd-server -C $tmp/nbd.conf" || { echo "repl.sh: nbd-server exited under load" >&2; exit 1; }
		pid=
		return
	fi
	local t0
	t0=$(date +%s%N)
	kill -TERM "$pid" 2>/dev/null || { echo "repl.sh: $1 exited under load" >&2; exit 1; }
	wait "$pid" 2>/dev/null || true
	stop_ms=$((($(date +%s%N) - t0) / 1000000))
	pid=
}

busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat; }

run_fio() { # run_fio RW BS [FIO-ARGS] -> "iops mbps busy"
	local b0 i0 b1 i1 rw=$1 bs=$2
	shift 2
	read -r b0 i0 < <(busy)
	fio --name=b --ioengine=nbd --uri="$uri" --rw="$rw" --bs="$bs" --iodepth=8 --size="$size" \
		--time_based --runtime="$secs" --output-format=json "$@" >"$tmp/fio.json" 2>/dev/null
	read -r b1 i1 < <(busy)
	/usr/bin/python3 -c 'import json,sys; t=open(sys.argv[1]).read(); j=json.loads(t[t.index("{"):])["jobs"][0]["write"]; b=float(sys.argv[2]); print("%.0f %.1f %.2f" % (j["iops"], j["bw_bytes"]/1e6, 2*b/(b+float(sys.argv[3]))))' "$tmp/fio.json" $((b1 - b0)) $((i1 - i0))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A res stops ovf
for _ in $(seq "$runs"); do
	for s in strait strait-core nbdkit nbd-server; do
		for w in "randwrite 4k" "write 1M"; do
			start $s
			# shellcheck disable=SC2086
			res[$s,$w]+="$(run_fio $w)"$'\n'
			stop $s
			if [ $s = strait ]; then
				stops[$w]+="$stop_ms "
				grep -q "journal is full" "$tmp/strait.err" && ovf[$w]=$((${ovf[$w]:-0} + 1))
			fi
		done
	done
done
for k in "${!res[@]}"; do # the medians: "iops mbps busy"
	res[$k]="$(for c in 1 2 3; do cut -d' ' -f$c <<<"${res[$k]%$'\n'}" | median; done | paste -sd' ')"
done
printf '%s, fio iodepth 8, %s s per run, %s file, median of %s\n' "$(date -u +%F)" "$secs" "$size" "$runs"
printf '%-12s %14s %14s   %s\n' "" "4k randwrite" "1M write" "busy (4k, 1M)"
for s in strait strait-core nbdkit nbd-server; do
	read -r i4 _ b4 <<<"${res[$s,randwrite 4k]}"
	read -r _ m1 b1 <<<"${res[$s,write 1M]}"
	printf '%-12s %9s IOPS %9s MB/s   %s %s\n' "$s" "$i4" "$m1" "$b4" "$b1"
done
printf 'strait stops in (ms, each run): 4k %s, 1M %s\n' "${stops[randwrite 4k]% }" "${stops[write 1M]% }"
printf 'runs where the journal overflowed into the bitmap: 4k %s of %s, 1M %s of %s\n' \
	"${ovf[randwrite 4k]:-0}" "$runs" "${ovf[write 1M]:-0}" "$runs"
for r in ${RATES:-}; do
	start strait
	read -r i4 _ <<<"$(run_fio randwrite 4k --rate_iops="$r")"
	stop strait
	printf 'strait held at %s IOPS of 4k random writes: %s IOPS, stops in %s ms, journal overflowed: %s\n' \
		"$r" "$i4" "$stop_ms" "$(grep -q "journal is full" "$tmp/strait.err" && echo yes || echo no)"
done
ratios() { # ratios SERVER LABEL GOAL: SERVER's IOPS and MB/s against nbdkit's and nbd-server's
	local a c s i4 m1
	read -r a _ <<<"${res[$1,randwrite 4k]}"
	read -r _ c _ <<<"${res[$1,write 1M]}"
	for s in nbdkit nbd-server; do
		read -r i4 _ <<<"${res[$s,randwrite 4k]}"
		read -r _ m1 _ <<<"${res[$s,write 1M]}"
		awk -v a="$a" -v b="$i4" -v c="$c" -v d="$m1" -v s="$s" -v l="$2" -v g="$3" 'BEGIN {
			r1 = a / b; r2 = c / d
			printf "%s / %s: %.2f of its IOPS, %.2f of its MB/s", l, s, r1, r2
			if (g) printf " (goal >= 0.9): %s", (r1 >= 0.9 && r2 >= 0.9) ? "goal met" : "goal MISSED"
			printf "\n" }'
	done
}
ratios strait "strait (replicating)" 1
ratios strait-core "strait core (no replication)" 0
