#!/usr/bin/env bash
# Benchmarks strait on synthetic estates of 100, 1,000 and 10,000 VNets and
# compares its load time with a reference YAML parser reading the same file:
# PyYAML's CSafeLoader (libyaml) under /usr/bin/python3, and Debian's yq (a
# jq wrapper over PyYAML) when it is installed. Prints one table.
# Usage: bench/run.sh BUILDDIR   (a build with -Dbench=true, release type)
# Env:   RUNS (loads per estate, default 5), PYRUNS (default 3)
set -euo pipefail
bd=${1:?usage: bench/run.sh BUILDDIR}
runs=${RUNS:-5} pyruns=${PYRUNS:-3}
gen=$bd/bench/strait-gen load=$bd/bench/bench_load strait=$bd/strait
for x in "$gen" "$load" "$strait"; do
	[[ -x $x ]] || { echo "run.sh: $x missing (ninja -C $bd with -Dbench=true)" >&2; exit 2; }
done
py=/usr/bin/python3
$py -c 'import yaml; yaml.CSafeLoader' 2>/dev/null ||
	{ echo "run.sh: $py with PyYAML's CSafeLoader is needed (scripts/deps.sh installs it)" >&2; exit 2; }
yq=$(command -v yq || true)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ms_now() { date +%s%N; }

# min wall time in ms of N runs of a command into $best; $rc: its last status
time_min() {
	local n=$1 t0 t1 d
	best=""
	shift
	for ((i = 0; i < n; i++)); do
		t0=$(ms_now)
		rc=0
		"$@" >/dev/null 2>&1 || rc=$?
		t1=$(ms_now)
		d=$(((t1 - t0) / 1000000))
		[[ -z $best || $d -lt $best ]] && best=$d
	done
	return 0
}

py_load() {
	$py - "$1" "$pyruns" <<'EOF'
import resource, sys, time, yaml
text = open(sys.argv[1]).read()
best = None
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    yaml.load(text, Loader=yaml.CSafeLoader)
    d = time.perf_counter() - t
    best = d if best is None else min(best, d)
print("%.2f %d" % (best * 1e3, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
EOF
}

kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }

# vnets hubs spokes circuits sites
sizes=("100 10 9 4 2" "1000 20 49 8 4" "10000 100 99 20 10")

printf '%s, %d loads per estate (min and median), python: min of %d\n' "$(date -u +%F)" "$runs" "$pyruns"
hdr='%-6s %7s %9s %9s %8s %8s %9s %10s %9s %8s %9s\n'
# shellcheck disable=SC2059 # $hdr is this script's own format
printf "$hdr" VNets "file" "load min" "load med" arena "peak" check CSafeLoad "strait/" "py peak" yq
# shellcheck disable=SC2059
printf "$hdr" "" MB ms ms MB "RSS MB" ms ms python "RSS MB" ms
goal=""
for s in "${sizes[@]}"; do
	read -r n hubs spokes circ sites <<<"$s"
	f=$tmp/estate-$n.yaml
	"$gen" --hubs "$hubs" --spokes-per-hub "$spokes" --circuits "$circ" --sites "$sites" \
		--prefixes 50 --vms-per-spoke 1 --regions 4 --seed 1 >"$f"
	out=$("$load" "$f" "$runs")
	lmin=$(kv load_min_ms "$out") lmed=$(kv load_median_ms "$out")
	arena=$(kv arena_total "$out") rss=$(kv maxrss_kb "$out")
	time_min 3 "$strait" check "$f"
	chk=$best
	[[ $rc -le 1 ]] || { echo "run.sh: strait check $f exited $rc" >&2; exit 1; }
	read -r pyms pyrss <<<"$(py_load "$f")"
	yqms=n/a
	if [[ -n $yq ]]; then
		time_min 1 "$yq" . "$f"
		yqms=$best
	fi
	fsize=$(stat -c %s "$f")
	awk -v n="$n" -v fs="$fsize" -v lmin="$lmin" -v lmed="$lmed" -v ar="$arena" -v rss="$rss" \
		-v chk="$chk" -v py="$pyms" -v pyrss="$pyrss" -v yq="$yqms" 'BEGIN {
		printf "%-6s %7.1f %9.1f %9.1f %8.1f %8.1f %9s %10.1f %9.3f %8.1f %9s\n", n,
			fs / 1048576, lmin, lmed, ar / 1048576, rss / 1024, chk, py, lmin / py,
			pyrss / 1024, yq }'
	if [[ $n == 10000 ]]; then
		ok=$(awk -v l="$lmin" -v r="$rss" 'BEGIN { print (l < 1000 && r < 512000) ? 1 : 0 }')
		goal="10,000 VNets: load ${lmin} ms (goal < 1000), peak RSS $((rss / 1024)) MB (goal < 500): "
		[[ $ok == 1 ]] && goal+="goal met" || goal+="goal MISSED"
	fi
done
echo "$goal"
echo "load: est_load_file, parse + model + resolve; check: whole 'strait check' process;"
echo "CSafeLoad: yaml.load(CSafeLoader) of the same text, interpreter start excluded;"
echo "yq: whole 'yq . FILE' process (Debian yq; n/a when not installed)"

# ---- routing (issue 3): 10,000 VNets, ~100,000 subnets, 1,000,000 on-premises
# prefixes; the what-if is compared with a full recompute of the same failure.
echo
echo "routing: strait-gen --hubs 100 --spokes-per-hub 99 --circuits 100 --sites 100 --prefixes 10000 --subnets-per-spoke 10"
"$gen" --hubs 100 --spokes-per-hub 99 --circuits 100 --sites 100 --prefixes 10000 \
	--subnets-per-spoke 10 >"$tmp/route.yaml"
"$bd/bench/bench_route" "$tmp/route.yaml" --pairs 100000 --runs 3 | tee "$tmp/route.out"
awk -F'[= ]' '
	/^build_ms/ { b = $2 }
	/^all_routes_ms/ { a = $2 }
	/^whatif_ms/ { w = $2; f = $4 }
	END {
		printf "all effective routes %.0f ms (goal < 1000): %s\n", a + b, (a + b < 1000) ? "goal met" : "goal MISSED"
		printf "what-if %.2f ms vs full recompute %.1f ms: %.1fx cheaper (goal >= 10x): %s\n", w, f, f / w, (f / w >= 10) ? "goal met" : "goal MISSED"
	}' "$tmp/route.out"

# ---- longest-prefix match: 1,000,000 prefixes against a reference trie
echo
"$bd/bench/bench_lpm" | grep -v '^lpm '

# ---- recovery (issue 4): 1,000 protected VMs in 20 plans, each simulated
echo
echo "recovery: strait-gen --hubs 2 --spokes-per-hub 91 --vms-per-spoke 11 --circuits 4 --sites 2 --plans 20"
"$gen" --hubs 2 --spokes-per-hub 91 --vms-per-spoke 11 --circuits 4 --sites 2 --plans 20 >"$tmp/rec.yaml"
"$bd/bench/bench_recover" "$tmp/rec.yaml" --runs 3 | tee "$tmp/rec.out"
awk -F'[= ]' '/^simulate_with_estate_after_ms/ { printf "20 plans simulated with their estates after in %.0f ms (goal < 1000): %s\n", $2, ($2 < 1000) ? "goal met" : "goal MISSED" }' "$tmp/rec.out"

echo
echo "replication: fio through NBD, strait replicating against nbdkit and nbd-server"
"$(dirname "$0")/repl.sh" "$strait"

echo
echo "replication: initial copy, resync after 1% changes and restore, against rsync and cp"
"$(dirname "$0")/repl-copy.sh" "$strait"

echo
echo "replication: RPO under 10, 50 and 100 MB/s of churn (straitd, a point every second)"
"$(dirname "$0")/repl-rpo.sh" "$strait"

echo
echo "replication: resync after an outage during which 1% of the blocks changed, against rsync"
"$(dirname "$0")/repl-resync.sh" "$strait"

echo
echo "replication: what an idle protected disk costs (500 disks)"
"$(dirname "$0")/repl-idle.sh" "$strait"

echo
echo "replication: what quiet disks cost while one streams (500 disks)"
"$(dirname "$0")/repl-many.sh" "$strait"

echo
echo "replication: the same churn on one disk and spread over 100"
"$(dirname "$0")/repl-spread.sh" "$strait"

echo
echo "replication: what points of 4 KiB random writes add to the store"
"$(dirname "$0")/repl-points.sh" "$strait"

echo
echo "replication: the store's table of chunks (4M chunks: memory, load, lookups)"
"$bd/bench/bench_packs" 4000000
