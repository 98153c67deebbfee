# tap.sh - the TAP helpers the test scripts source: plan, ok/notok, check.
#   tap_plan N          prints the plan
#   check DESC 'CMD'    ok when CMD (eval'd) succeeds, else not ok; $fails counts failures
#   tap_exit            exit status: 1 when anything failed
#   work_dir            $tmp, a directory removed at exit with every pid in $pids killed
#   receive_start PORT  `strait replica receive` on 127.0.0.1:PORT (0: any) with the store
#                       and work in $tmp -> $rpid (added to $pids), $rport
#   seed_estate OUT SIZE PATH   the seeds' two-circuit estate with app1's os disk of SIZE
#                       (such as 64MiB) backed by PATH, and a crash-consistent point a second
#   wait_for SECS CMD...   CMD succeeds within SECS seconds (tried every 0.2 s)
#   st                  straitd's replication status (JSON) on $tmp/d.sock
#   field KEY           KEY of the status's first disk
#   acked               waits up to 30 s for the first disk protected with nothing unacknowledged
n=0 fails=0
tap_plan() { echo "1..$1"; }
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }
need() { # need TOOL...: not ok and exit when one is missing (scripts/deps.sh installs them)
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || { notok "$t is not installed (scripts/deps.sh installs it)"; exit 1; }
	done
}
tap_exit() { exit $((fails > 0)); }
seed_estate() {
	/usr/bin/python3 - "${SRCROOT:-.}/examples/seed-two-circuits.yaml" "$@" <<'PY'
import sys
src, out, size, path = sys.argv[1:5]
s = open(src).read()
s = s.replace("disks: [{name: os, size: 32GiB}, {name: data, size: 128GiB}]",
              "disks: [{name: os, size: %s, path: %s}, {name: data, size: 128GiB}]" % (size, path))
s = s.replace("policy: {crash_consistent_every: 5m, app_consistent_every: 4h, retention: 24h}",
              "policy: {crash_consistent_every: 1s, app_consistent_every: 4h, retention: 24h}")
open(out, "w").write(s)
PY
}
work_dir() {
	tmp=$(mktemp -d)
	pids=()
	trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"' EXIT
}
receive_start() {
	: >"$tmp/recv.out"
	"$STRAIT" replica receive --store "$tmp/store" --work "$tmp/tgt" --listen "127.0.0.1:$1" \
		--interval 1s >"$tmp/recv.out" 2>&1 &
	rpid=$!
	pids+=("$rpid")
	for _ in $(seq 100); do grep -q "^receiving on" "$tmp/recv.out" && break; sleep 0.05; done
	rport=$(sed -n 's/^receiving on 127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/recv.out")
}
st() { "$STRAIT" replica status --socket "$tmp/d.sock" -o json 2>/dev/null; }
field() { st | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['disks'][0]['$1'])" 2>/dev/null; }
acked() {
	for _ in $(seq 300); do
		[ "$(field state)" = protected ] && [ "$(field backlog_bytes)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}
wait_for() {
	local secs=$1 i
	shift
	for i in $(seq $((secs * 5))); do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}
