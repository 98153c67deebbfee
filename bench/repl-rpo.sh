#!/usr/bin/env bash
# RPO benchmark for straitd's replication under churn: for each rate (10, 50 and
# 100 MB/s), a fresh work directory and straitd protecting one 2 GiB disk (a sparse
# file, the seed estate's app1-os) with a crash-consistent point every second; once
# the disk is protected, fio writes 64 KiB blocks at random over NBD (the Unix socket
# WORK/nbd.sock, so loopback) at the rate for SECS seconds, while a sampler asks
# `strait replica status -o json` every 100 ms for rpo_ms (the age of the oldest
# acknowledged write that no recovery point holds) and backlog_bytes. Samples count
# from the first one that sees a write until fio ends. Prints per rate the MB/s fio
# achieved, RPO p50, p99 and max (nearest rank), the largest backlog and the points
# cut (strait replica points); Site Recovery's 5-minute interval as arithmetic for
# context; goal: RPO p99 at 50 MB/s at most 5 s.
# fio runs with --kb_base=1000, so --rate=50m is 50 MB/s (10^6 bytes), --bs=64Ki.
# Usage: bench/repl-rpo.sh STRAIT   Env: SECS (per rate, default 30), RATES ("10 50 100")
set -euo pipefail
strait=${1:?usage: bench/repl-rpo.sh STRAIT}
strait=$(cd "$(dirname "$strait")" && pwd)/$(basename "$strait")
straitd=$(dirname "$strait")/straitd
secs=${SECS:-30} rates=${RATES:-10 50 100}
py=/usr/bin/python3
disk=app1-os size=$((2 << 30))
for t in fio curl "$py"; do
	command -v "$t" >/dev/null || { echo "repl-rpo.sh: $t missing (scripts/deps.sh installs it)" >&2; exit 2; }
done
if [ ! -x "$strait" ] || [ ! -x "$straitd" ]; then echo "repl-rpo.sh: no $strait or $straitd" >&2; exit 2; fi
seed=$(cd "$(dirname "$0")/.." && pwd)/examples/seed-two-circuits.yaml

tmp=$(mktemp -d)
dpid='' fpid='' spid=''
stop_all() {
	local p
	for p in $spid $fpid $dpid; do kill "$p" 2>/dev/null || true; done
	for p in $spid $fpid $dpid; do # SIGTERM, then after 5 s SIGKILL
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	spid='' fpid='' dpid=''
}
trap 'stop_all; rm -rf "$tmp"' EXIT
die() { echo "repl-rpo.sh: $*" >&2; [ -s "${dir:-/nonexistent}/straitd.log" ] && sed 's/^/  straitd: /' "$dir/straitd.log" >&2; exit 1; }
alive() { [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null; }

estate() { # estate DIR: the seed estate, app1-os backed by DIR/app1-os.img, a point every second
	"$py" - "$seed" "$1" <<'EOF'
import sys
seed, d = sys.argv[1:]
s = open(seed).read()
for a, b in [("disks: [{name: os, size: 32GiB}, {name: data, size: 128GiB}]",
              "disks: [{name: os, size: 32GiB, path: %s/app1-os.img}, {name: data, size: 128GiB}]" % d),
             ("policy: {crash_consistent_every: 5m, app_consistent_every: 4h, retention: 24h}",
              "policy: {crash_consistent_every: 1s, app_consistent_every: 4h, retention: 24h}")]:
    if a not in s:
        sys.exit("repl-rpo.sh: %s: no %r" % (seed, a))
    s = s.replace(a, b)
open(d + "/estate.yaml", "w").write(s)
EOF
}

field() { # field KEY: the disk's KEY in the status ('' when straitd does not answer)
	"$strait" replica status --socket "$dir/api.sock" -o json 2>/dev/null |
		"$py" -c 'import json,sys
d = [x for x in json.load(sys.stdin)["disks"] if x["disk"] == sys.argv[1]]
print(d[0][sys.argv[2]] if d else "")' "$disk" "$1" 2>/dev/null || true
}

# The sampler: every 100 ms (on a fixed schedule) one status, a line
# "t_ms rpo_ms backlog_bytes written_bytes state" (or "t_ms error"); stops when STOP exists.
sampler() { # sampler OUT STOP (run in the background: the subshell becomes python)
	exec "$py" - "$strait" "$dir/api.sock" "$disk" "$1" "$2" <<'EOF'
import json, os, subprocess, sys, time
strait, sock, disk, out, stop = sys.argv[1:]
t0 = time.monotonic()
k = 0
parent = os.getppid()
with open(out, "w") as f:
    while not os.path.exists(stop) and os.getppid() == parent:
        t = time.monotonic()
        try:
            r = subprocess.run([strait, "replica", "status", "--socket", sock, "-o", "json"],
                               capture_output=True, timeout=5)
            d = [x for x in json.loads(r.stdout)["disks"] if x["disk"] == disk][0]
            f.write("%d %d %d %d %s\n" % ((t - t0) * 1000, d["rpo_ms"], d["backlog_bytes"],
                                          d["written_bytes"], d["state"]))
        except Exception as e:
            f.write("%d error %s\n" % ((t - t0) * 1000, type(e).__name__))
        f.flush()
        k += 1
        time.sleep(max(0.0, t0 + k * 0.1 - time.monotonic()))
EOF
}

run_rate() { # run_rate MBPS -> a line of results in $tmp/res
	local r=$1 state='' n
	dir=$tmp/r$r
	mkdir -p "$dir"
	estate "$dir"
	truncate -s "$size" "$dir/app1-os.img"
	${PERF:-} "$straitd" --estate "$dir/estate.yaml" --socket "$dir/api.sock" --work "$dir/work" 2>"$dir/straitd.log" &
	dpid=$!
	for _ in $(seq 100); do [ -S "$dir/api.sock" ] && [ -S "$dir/work/nbd.sock" ] && break; alive || break; sleep 0.1; done
	alive || die "$r MB/s: straitd exited at start"
	if [ ! -S "$dir/api.sock" ] || [ ! -S "$dir/work/nbd.sock" ]; then die "$r MB/s: straitd made no sockets in 10 s"; fi
	for _ in $(seq 300); do
		state=$(field state)
		[ "$state" = protected ] && break
		alive || die "$r MB/s: straitd exited during the initial copy"
		sleep 0.1
	done
	[ "$state" = protected ] || die "$r MB/s: $disk never reached protected in 30 s (state '${state}')"

	sampler "$dir/samples" "$dir/stop" &
	spid=$!
	fio --name=churn --ioengine=nbd --uri="nbd+unix:///$disk?socket=$dir/work/nbd.sock" \
		--thread --kb_base=1000 --rw=randwrite --bs=64Ki --iodepth=8 --size="$size" --rate="${r}m" \
		--time_based --runtime="$secs" --output-format=json >"$dir/fio.json" 2>"$dir/fio.err" &
	fpid=$!
	while kill -0 "$fpid" 2>/dev/null; do
		alive || die "$r MB/s: straitd exited under load"
		sleep 0.2
	done
	wait "$fpid" || { fpid=; sed 's/^/  fio: /' "$dir/fio.err" >&2; die "$r MB/s: fio failed"; }
	fpid=
	touch "$dir/stop"
	wait "$spid" || die "$r MB/s: the sampler failed"
	spid=
	alive || die "$r MB/s: straitd exited under load"
	n=$("$strait" replica points "$disk" --store "$dir/work/store" -o json |
		"$py" -c 'import json,sys; print(len(json.load(sys.stdin)))') || die "$r MB/s: strait replica points failed"

	kill -TERM "$dpid"
	wait "$dpid" || echo "repl-rpo.sh: $r MB/s: straitd exited $? on SIGTERM" >&2
	dpid=

	"$py" - "$r" "$dir/fio.json" "$dir/samples" "$n" >>"$tmp/res" <<'EOF'
import json, math, sys
rate, fj, samples, points = sys.argv[1:]
t = open(fj).read()
mbps = json.loads(t[t.index("{"):])["jobs"][0]["write"]["bw_bytes"] / 1e6
rows = [l.split() for l in open(samples)]
errors = sum(1 for x in rows if x[1] == "error")
ok = [x for x in rows if x[1] != "error"]
first = next((i for i, x in enumerate(ok) if int(x[3]) > 0), None)
if first is None:
    sys.exit("repl-rpo.sh: %s MB/s: no sample saw a write" % rate)
ok = ok[first:]
rpo = sorted(int(x[1]) / 1e3 for x in ok)
def pct(p):  # nearest rank
    return rpo[max(0, math.ceil(p / 100 * len(rpo)) - 1)]
other = sum(1 for x in ok if x[4] != "protected")
print(rate, "%.1f" % mbps, "%.2f" % pct(50), "%.2f" % pct(99), "%.2f" % rpo[-1],
      "%.1f" % (max(int(x[2]) for x in ok) / 1e6), points, len(ok), errors, other)
EOF
	rm -rf "$dir"
}

: >"$tmp/res"
for r in $rates; do run_rate "$r"; done

printf '%s, straitd, one %s GiB disk (sparse), a crash-consistent point every 1 s, fio 64 KiB random writes over NBD (Unix socket), iodepth 8, %s s per rate, status every 100 ms\n' \
	"$(date -u +%F)" $((size >> 30)) "$secs"
printf '%-28s %9s %9s %9s %9s %12s %7s %8s\n' "" "MB/s" "RPO p50" "RPO p99" "RPO max" "max backlog" "points" "samples"
p99_50=
while read -r r mbps p50 p99 mx bl pts ns errs other; do
	printf '%-28s %9s %8ss %8ss %8ss %9s MB %7s %8s\n' "strait, churn $r MB/s" "$mbps" "$p50" "$p99" "$mx" "$bl" "$pts" "$ns"
	[ "$errs" = 0 ] || echo "  ($errs status calls failed)"
	[ "$other" = 0 ] || echo "  ($other samples in a state other than protected)"
	[ "$r" != 50 ] || p99_50=$p99
done <"$tmp/res"
printf '%-28s %9s %8ss %8ss %8ss   (interval arithmetic, not measured)\n' "Site Recovery (model)" "-" 150 297 300
echo "  (a point every 5 min: the RPO at a random moment is uniform over 0..300 s, whatever the churn)"
if [ -z "$p99_50" ]; then
	echo "p99 at 50 MB/s <= 5 s: not measured (RATES has no 50)"
else
	awk -v p="$p99_50" 'BEGIN { printf "p99 at 50 MB/s <= 5 s: %s (%.2f s)\n", p <= 5 ? "goal met" : "goal MISSED", p }'
fi
