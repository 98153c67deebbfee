#!/usr/bin/env bash
# bench/bgp.sh BUILDDIR: strait's BGP speaker next to BIRD 2, FRR bgpd, GoBGP
# and OpenBGPD, with the same feed from strait-bgpload (bench/bgp_load.c), one
# speaker at a time, on loopback only (127.0.31.0/24 to 127.0.35.0/24).
#
#   ingest       the load tool sends PREFIXES (1,000,000) IPv4 prefixes to the
#                speaker; timed from its first UPDATE byte to the first poll
#                (every POLL s) at which the speaker reports them all
#                received; the speaker's peak RSS (VmHWM, summed over its
#                processes) and the growth over its RSS before the feed, per
#                route.
#   propagation  PROP (100,000) prefixes from a sending load tool through the
#                speaker to a receiving load tool, which was Established
#                before the first was sent; timed from the sender's first
#                UPDATE byte to the receiver holding every prefix (both tools
#                take wall-clock stamps on one host).
#
# Each speaker (AS 64600, .1 of its /24) peers with the sender (AS 64601, .2)
# and the receiver (AS 64602, .3), passive toward both, with no policy beyond
# accepting everything and nothing installed in a kernel; it is started fresh
# for each measurement. strait is tests/unit/bgp_speaker_drv, which prints a
# line per route on its stdout unless --quiet (used here); its propagation uses
# --forward (routes from each peer advertised to the others).
#
# Knobs (environment): PREFIXES, PROP, SEED (1), SETS (300 attribute sets),
# POLL (0.1 s), TIMEOUT (600 s per step), RUNS (1: best of RUNS per cell),
# SPEAKERS ("strait bird frr gobgp openbgpd"), BGPBENCH_DIR (/dev/shm: where
# the work directory goes), KEEP=1 keeps the work directory.
# Needs root (port 179; OpenBGPD's privilege separation). Installs nothing:
# run scripts/deps.sh when something is missing.
set -u
B=${1:?usage: bench/bgp.sh BUILDDIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
LOAD=$B/bench/strait-bgpload
DRV=$B/tests/bgp_speaker_drv
PREFIXES=${PREFIXES:-1000000}
PROP=${PROP:-100000}
SEED=${SEED:-1}
SETS=${SETS:-300}
POLL=${POLL:-0.1}
TIMEOUT=${TIMEOUT:-600}
RUNS=${RUNS:-1}
SPEAKERS=${SPEAKERS:-strait bird frr gobgp openbgpd}
GOBGP_API_PORT=${GOBGP_API_PORT:-50051}
AS_DUT=64600 AS_SND=64601 AS_RCV=64602

die() {
	echo "bgp.sh: $*" >&2
	exit 1
}
[ "$(id -u)" -eq 0 ] || die "run as root: the speakers listen on port 179 (and OpenBGPD needs root)"
[ -x "$LOAD" ] || die "$LOAD is missing: build $B first (ninja -C $B)"
[ -x "$DRV" ] || die "$DRV is missing: build $B first (ninja -C $B)"
# shellcheck source=tests/interop/peer.sh
. "$root/tests/interop/peer.sh"
for s in $SPEAKERS; do
	case $s in
	strait) tools="" ;;
	bird) tools="bird birdc" ;;
	frr) tools="$PEER_FRR_BGPD vtysh" ;;
	gobgp) tools="gobgpd gobgp" ;;
	openbgpd) tools="bgpd bgpctl" ;;
	*) die "unknown speaker '$s' (strait bird frr gobgp openbgpd)" ;;
	esac
	for t in $tools python3 setsid awk; do
		command -v "$t" >/dev/null 2>&1 ||
			die "$t ($s) is not installed: run scripts/deps.sh (as root) first"
	done
done
for n in $PREFIXES $PROP $RUNS; do
	[[ $n =~ ^[0-9]+$ && $n -gt 0 ]] || die "PREFIXES, PROP and RUNS must be positive numbers"
done

# The work directory is on tmpfs by default: strait's driver writes a line per
# route to its stdout there (a file on ext4 cost it a quarter more CPU).
W=$(mktemp -d "${BGPBENCH_DIR:-/dev/shm}/strait-bgpbench.XXXXXX") || die "mktemp failed"
PIDS=() # process groups this script started (setsid) and has not seen end
forget() {
	local p keep=()
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done
	exec 3>&- 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "# files kept in $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
# kv LINE KEY: the value of KEY=... in a strait-bgpload line
kv() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | tr -d '"'; }

net_of() { # SPEAKER: its /24 (without the last octet)
	case $1 in
	strait) echo 127.0.31 ;; bird) echo 127.0.32 ;; frr) echo 127.0.33 ;;
	gobgp) echo 127.0.34 ;; openbgpd) echo 127.0.35 ;;
	esac
}
# The sender's NEXT_HOP: its own address, except toward GoBGP, which drops
# IPv4 next hops in 127/8 (tests/interop/README.md): TEST-NET-1 there (only
# an attribute; nothing is installed anywhere).
nh_for() { if [ "$1" = gobgp ]; then echo 192.0.2.1; else echo "$(net_of "$1").2"; fi; }

# ---- the speakers ----------------------------------------------------------------------
# dut_start SPEAKER DIR: writes the config into DIR, starts the speaker in its
# own session (setsid), records its pid in DIR/pid; returns once it answers.
dut_start() {
	local k=$1 d=$2 n
	n=$(net_of "$k")
	mkdir -p "$d"
	chmod 755 "$d"
	case $k in
	strait)
		rm -f "$d/in"
		mkfifo "$d/in"
		local opt=()
		[ -z "${STRAIT_FWD:-}" ] || opt+=("$STRAIT_FWD")
		opt+=(--quiet) # no line per route
		setsid "$DRV" --id "$n.1" --as $AS_DUT "${opt[@]}" \
			--peer "local=$n.1,remote=$n.2,as=$AS_SND,passive" \
			--peer "local=$n.1,remote=$n.3,as=$AS_RCV,passive" \
			<"$d/in" >"$d/out" 2>"$d/err" &
		echo $! >"$d/pid"
		disown
		exec 3>"$d/in" # the driver's stdin: commands
		;;
	bird)
		{
			echo "router id $n.1;"
			echo "log \"$d/bird.log\" { warning, error, fatal, bug };"
			echo "protocol device {}"
			echo "protocol bgp sender {"
			echo "  local $n.1 port 179 as $AS_DUT; neighbor $n.2 as $AS_SND;"
			echo "  strict bind yes; multihop; passive on; hold time 180;"
			echo "  ipv4 { import all; export none; };"
			echo "}"
			echo "protocol bgp receiver {"
			echo "  local $n.1 port 179 as $AS_DUT; neighbor $n.3 as $AS_RCV;"
			echo "  strict bind yes; multihop; passive on; hold time 180;"
			echo "  ipv4 { import none; export all; };"
			echo "}"
		} >"$d/bird.conf"
		setsid bird -f -c "$d/bird.conf" -s "$d/bird.ctl" -P "$d/bird.pid" >"$d/stdout" 2>&1 &
		echo $! >"$d/pid"
		disown
		;;
	frr)
		local ip
		{
			echo "hostname dut"
			echo "log file $d/bgpd.log warnings"
			echo "router bgp $AS_DUT"
			echo " bgp router-id $n.1"
			echo " no bgp ebgp-requires-policy"
			echo " no bgp network import-check"
			echo " bgp allow-martian-nexthop"
			for ip in "$n.2 $AS_SND" "$n.3 $AS_RCV"; do
				# shellcheck disable=SC2086
				set -- $ip
				echo " neighbor $1 remote-as $2"
				echo " neighbor $1 update-source $n.1"
				echo " neighbor $1 passive"
				echo " neighbor $1 timers 60 180"
			done
			echo " address-family ipv4 unicast"
			echo "  neighbor $n.2 activate"
			echo "  neighbor $n.3 activate"
			echo " exit-address-family"
		} >"$d/bgpd.conf"
		setsid "$PEER_FRR_BGPD" -f "$d/bgpd.conf" -i "$d/bgpd.pid" --vty_socket "$d" \
			-l "$n.1" -p 179 -Z -S -n -P 0 >"$d/stdout" 2>&1 &
		echo $! >"$d/pid"
		disown
		;;
	gobgp)
		local ip
		{
			echo "[global.config]"
			echo "  as = $AS_DUT"
			echo "  router-id = \"$n.1\""
			echo "  port = 179"
			echo "  local-address-list = [\"$n.1\"]"
			for ip in "$n.2 $AS_SND" "$n.3 $AS_RCV"; do
				# shellcheck disable=SC2086
				set -- $ip
				echo "[[neighbors]]"
				echo "  [neighbors.config]"
				echo "    neighbor-address = \"$1\""
				echo "    peer-as = $2"
				echo "  [neighbors.transport.config]"
				echo "    local-address = \"$n.1\""
				echo "    passive-mode = true"
				echo "  [neighbors.timers.config]"
				echo "    hold-time = 180"
				echo "    keepalive-interval = 60"
				echo "  [[neighbors.afi-safis]]"
				echo "    [neighbors.afi-safis.config]"
				echo "      afi-safi-name = \"ipv4-unicast\""
			done
		} >"$d/gobgpd.toml"
		setsid gobgpd -f "$d/gobgpd.toml" -t toml --api-hosts="$n.1:$GOBGP_API_PORT" \
			--pprof-disable -l warn >"$d/gobgpd.log" 2>&1 &
		echo $! >"$d/pid"
		disown
		;;
	openbgpd)
		local ip
		{
			echo "AS $AS_DUT"
			echo "router-id $n.1"
			echo "listen on $n.1 port 179"
			echo "socket \"$d/bgpd.sock\""
			echo "fib-update no"
			for ip in "$n.2 $AS_SND sender" "$n.3 $AS_RCV receiver"; do
				# shellcheck disable=SC2086
				set -- $ip
				echo "neighbor $1 {"
				echo "  remote-as $2"
				echo "  descr \"$3\""
				echo "  local-address $n.1"
				echo "  passive"
				echo "  holdtime 180"
				echo "  announce IPv4 unicast"
				echo "  announce restart no"
				echo "}"
			done
			echo "allow from any"
			echo "allow to any"
		} >"$d/bgpd.conf"
		chmod 600 "$d/bgpd.conf"
		mkdir -p /run/openbgpd
		setsid bgpd -d -f "$d/bgpd.conf" >"$d/bgpd.log" 2>&1 &
		echo $! >"$d/pid"
		disown
		;;
	esac
	PIDS+=("$(cat "$d/pid")")
	local i
	for i in $(seq 100); do
		_peer_alive "$(cat "$d/pid")" || break
		case $k in
		strait) grep -q '^ready' "$d/out" 2>/dev/null && return 0 ;;
		bird) birdc -s "$d/bird.ctl" show status >/dev/null 2>&1 && return 0 ;;
		frr) vtysh --vty_socket "$d" -d bgpd -c 'show bgp summary' >/dev/null 2>&1 && return 0 ;;
		gobgp) gobgp -u "$n.1" -p "$GOBGP_API_PORT" global >/dev/null 2>&1 && return 0 ;;
		openbgpd) bgpctl -s "$d/bgpd.sock" show >/dev/null 2>&1 && return 0 ;;
		esac
		sleep 0.1
	done
	echo "bgp.sh: $k did not come up; its log:" >&2
	tail -n 20 "$d"/*.log "$d/stdout" "$d/err" 2>/dev/null >&2
	return 1
}

# dut_count SPEAKER DIR: IPv4 prefixes the speaker has received from the sender
dut_count() {
	local k=$1 d=$2 n off
	n=$(net_of "$k")
	case $k in
	strait)
		# ask for a stats line and read it from where the output was
		off=$(stat -c %s "$d/out")
		echo stats >&3
		local i l=""
		for i in $(seq 50); do
			l=$(tail -c +$((off + 1)) "$d/out" | grep -m1 "^stats $n.2 ")
			[ -n "$l" ] && break
			sleep 0.02
		done
		echo "$l" | sed -n 's/.* rcvd4=\([0-9]*\).*/\1/p'
		;;
	bird)
		birdc -s "$d/bird.ctl" show protocols all sender 2>/dev/null |
			sed -n 's/^ *Routes: *\([0-9]*\) imported.*/\1/p'
		;;
	frr)
		vtysh --vty_socket "$d" -d bgpd -c "show bgp ipv4 unicast summary json" 2>/dev/null |
			python3 -c 'import json,sys
try: print(json.load(sys.stdin)["peers"][sys.argv[1]].get("pfxRcd", 0))
except Exception: print(0)' "$n.2"
		;;
	gobgp)
		# the neighbor list: "IP AS UP STATE | RECEIVED ACCEPTED". Not "neighbor
		# IP -j": it counts the Adj-RIB-Out too and took 1.4-10 s a call at 1M
		# routes (GoBGP issue #2096), slowing gobgpd down several times.
		gobgp -u "$n.1" -p "$GOBGP_API_PORT" neighbor 2>/dev/null |
			awk -v ip="$n.2" '$1 == ip && $NF ~ /^[0-9]+$/ { print $NF }'
		;;
	openbgpd)
		bgpctl -s "$d/bgpd.sock" show summary 2>/dev/null |
			awk '$1 == "sender" && $NF ~ /^[0-9]+$/ { print $NF }'
		;;
	esac
}

# dut_pids DIR: the speaker's processes (its session)
dut_pids() {
	local sid f
	sid=$(cat "$1/pid")
	for f in /proc/[0-9]*/stat; do
		awk -v s="$sid" '{ sub(/^.*\) /, ""); if ($4 == s) { split(FILENAME, p, "/"); print p[3] } }' "$f" 2>/dev/null
	done
}
# dut_mem DIR FIELD: FIELD (VmRSS, VmHWM) summed over the speaker's processes, in KiB
dut_mem() {
	local p t=0 v
	for p in $(dut_pids "$1"); do
		v=$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$p/status" 2>/dev/null)
		t=$((t + ${v:-0}))
	done
	echo $t
}

# dut_stop SPEAKER DIR: SIGTERM, then SIGKILL to its session after 10 s;
# returns once every process of it is gone (a port can be bound again).
dut_stop() {
	local k=$1 d=$2 pid i
	pid=$(cat "$d/pid")
	[ "$k" != strait ] || exec 3>&-
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 100); do
		_peer_alive "$pid" || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null
	for i in $(seq 300); do
		if [ -z "$(dut_pids "$d")" ]; then
			forget "$pid"
			return 0
		fi
		sleep 0.1
	done
	echo "bgp.sh: $k ($pid) is still there after SIGKILL" >&2
}

# load_start NAME DIR ARGS...: a load tool in its own session
load_start() {
	local name=$1 d=$2
	shift 2
	setsid "$LOAD" "$@" >"$d/$name.out" 2>"$d/$name.err" &
	echo $! >"$d/$name.pid"
	PIDS+=("$!")
	disown
}
# load_stop DIR NAME: SIGTERM (the tool sends a Cease), SIGKILL after 5 s
load_stop() {
	local pid i
	pid=$(cat "$1/$2.pid")
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 50); do
		_peer_alive "$pid" || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	forget "$pid"
}

# wait_line FILE SECS: a line appears in FILE within SECS
wait_line() {
	local i
	for i in $(seq $(($2 * 10))); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# ---- the two measurements ------------------------------------------------------------------
# ingest SPEAKER RUN: sets RES to "secs hwm_kib base_kib" or "fail REASON"
ingest() {
	local k=$1 d=$W/$1-ingest-$2 n c=0 t_end line t0 base hwm deadline
	n=$(net_of "$k")
	dut_start "$k" "$d" || {
		RES="fail start"
		return
	}
	sleep 0.5
	base=$(dut_mem "$d" VmRSS)
	load_start snd "$d" send --local "$n.2" --remote "$n.1" --as $AS_SND --peer-as $AS_DUT \
		--prefixes "$PREFIXES" --seed "$SEED" --sets "$SETS" --nh "$(nh_for "$k")" \
		--timeout "$TIMEOUT"
	deadline=$(($(date +%s) + TIMEOUT))
	while :; do
		c=$(dut_count "$k" "$d")
		[ "${c:-0}" -ge "$PREFIXES" ] && break
		if [ "$(date +%s)" -ge "$deadline" ] || ! _peer_alive "$(cat "$d/pid")"; then
			RES="fail at ${c:-0} prefixes"
			load_stop "$d" snd
			dut_stop "$k" "$d"
			return
		fi
		sleep "$POLL"
	done
	t_end=$(now)
	hwm=$(dut_mem "$d" VmHWM)
	wait_line "$d/snd.out" 30
	line=$(cat "$d/snd.out")
	t0=$(kv "$line" t_start)
	load_stop "$d" snd
	dut_stop "$k" "$d"
	[ -n "$t0" ] || {
		RES="fail: the sender reported nothing ($(tail -1 "$d/snd.err"))"
		return
	}
	RES="$(fsub "$t_end" "$t0") $hwm $base"
}

# propagate SPEAKER RUN: sets RES to "secs" or "fail REASON"
propagate() {
	local k=$1 d=$W/$1-prop-$2 n rl sl
	n=$(net_of "$k")
	dut_start "$k" "$d" || {
		RES="fail start"
		return
	}
	load_start rcv "$d" recv --local "$n.3" --remote "$n.1" --as $AS_RCV --peer-as $AS_DUT \
		--prefixes "$PROP" --timeout "$TIMEOUT"
	local i
	for i in $(seq 600); do
		grep -q established "$d/rcv.err" 2>/dev/null && break
		_peer_alive "$(cat "$d/rcv.pid")" || break
		sleep 0.1
	done
	grep -q established "$d/rcv.err" 2>/dev/null || {
		RES="fail: receiver not established ($(tail -1 "$d/rcv.err"))"
		dut_stop "$k" "$d"
		return
	}
	sleep 1 # the speaker's End-of-RIB to the receiver is out of the way
	load_start snd "$d" send --local "$n.2" --remote "$n.1" --as $AS_SND --peer-as $AS_DUT \
		--prefixes "$PROP" --seed "$SEED" --sets "$SETS" --nh "$(nh_for "$k")" \
		--timeout "$TIMEOUT"
	while _peer_alive "$(cat "$d/rcv.pid")"; do sleep 0.05; done # it stops by itself (TIMEOUT)
	forget "$(cat "$d/rcv.pid")"
	rl=$(cat "$d/rcv.out")
	wait_line "$d/snd.out" 30
	sl=$(cat "$d/snd.out")
	load_stop "$d" snd
	dut_stop "$k" "$d"
	if [ "$(kv "$rl" complete)" != 1 ] || [ -z "$(kv "$sl" t_start)" ]; then
		RES="fail at $(kv "$rl" prefixes) prefixes ($(kv "$rl" error))"
		return
	fi
	RES=$(fsub "$(kv "$rl" t_done)" "$(kv "$sl" t_start)")
}


version_of() {
	case $1 in
	strait) echo "strait $(git -C "$root" describe --always --dirty 2>/dev/null || echo '?')" ;;
	*) peer_version "$1" ;;
	esac
}

# ---- run ---------------------------------------------------------------------------------
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); PREFIXES=$PREFIXES PROP=$PROP SEED=$SEED SETS=$SETS POLL=$POLL RUNS=$RUNS; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# work directory $W"
declare -A ING HWM BASE PRP VER
for k in $SPEAKERS; do
	VER[$k]=$(version_of "$k")
	echo "# $k: ${VER[$k]}"
	best=""
	for r in $(seq "$RUNS"); do
		ingest "$k" "$r"
		res=$RES
		echo "#   ingest run $r: $res"
		case $res in fail*) continue ;; esac
		# shellcheck disable=SC2086
		set -- $res
		if [ -z "$best" ] || awk -v a="$1" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$1
		fi
		# peak memory: the largest of the runs
		[ "${HWM[$k]:-0}" -ge "$2" ] || HWM[$k]=$2
		BASE[$k]=$3
	done
	ING[$k]=${best:-fail}
	[ "$k" != strait ] || STRAIT_FWD=--forward
	best=""
	for r in $(seq "$RUNS"); do
		propagate "$k" "$r"
		res=$RES
		echo "#   propagation run $r: $res"
		case $res in fail*) continue ;; esac
		if [ -z "$best" ] || awk -v a="$res" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$res
		fi
	done
	PRP[$k]=${best:-fail}
	STRAIT_FWD=
done

name_of() {
	case $1 in
	strait) echo strait ;; bird) echo BIRD ;; frr) echo "FRR bgpd" ;;
	gobgp) echo GoBGP ;; openbgpd) echo OpenBGPD ;;
	esac
}
echo
printf '%-14s %-26s %9s %10s %7s %9s %9s %7s %9s %7s\n' speaker version ingest_s routes/s \
	x_bird peak_MiB B/route x_bird prop_s x_bird
for k in $SPEAKERS; do
	awk -v name="$(name_of "$k")" -v ver="${VER[$k]}" -v n="$PREFIXES" -v pn="$PROP" \
		-v t="${ING[$k]}" -v h="${HWM[$k]:-}" -v b="${BASE[$k]:-}" -v p="${PRP[$k]}" \
		-v bt="${ING[bird]:-}" -v bh="${HWM[bird]:-}" -v bb="${BASE[bird]:-}" -v bp="${PRP[bird]:-}" '
	function num(x) { return x ~ /^[0-9.]+$/ }
	function ratio(a, c) { return (num(a) && num(c) && c > 0) ? sprintf("%.2f", a / c) : "-" }
	BEGIN {
		rate = num(t) && t > 0 ? sprintf("%.0f", n / t) : "-"
		mb = num(h) && h > 0 ? sprintf("%.1f", h / 1024) : "-"
		per = num(h) && num(b) && h > 0 ? sprintf("%.1f", (h - b) * 1024 / n) : "-"
		bper = num(bh) && num(bb) && bh > 0 ? (bh - bb) * 1024 / n : ""
		printf "%-14s %-26s %9s %10s %7s %9s %9s %7s %9s %7s\n", name, substr(ver, 1, 26),
			num(t) ? t : t, rate, ratio(t, bt), mb, per, ratio(per, bper), p, ratio(p, bp)
	}'
done
echo "(x_bird: the speaker's value / BIRD's; lower is better. B/route: (VmHWM - VmRSS before the feed) / PREFIXES)"
if [ -n "${ING[strait]:-}" ] && [ -n "${ING[bird]:-}" ]; then
	awk -v t="${ING[strait]}" -v bt="${ING[bird]}" -v h="${HWM[strait]:-0}" -v b="${BASE[strait]:-0}" \
		-v bh="${HWM[bird]:-0}" -v bb="${BASE[bird]:-0}" 'BEGIN {
		if (t !~ /^[0-9.]+$/ || bt !~ /^[0-9.]+$/) { print "goal: not measured"; exit }
		fast = t < bt; small = (h - b) <= (bh - bb)
		printf "goal (faster than BIRD, at or below its memory per route): ingest %s, memory %s: %s\n",
			fast ? "met" : "MISSED", small ? "met" : "MISSED", fast && small ? "goal met" : "goal MISSED"
	}'
fi
