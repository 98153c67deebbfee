# shellcheck shell=bash
# Real BGP routers as the customer's edge router, on loopback, for shell tests.
#
# Source this file from a bash test, then drive BIRD 2, FRR bgpd, GoBGP,
# OpenBGPD and ExaBGP through one set of functions:
#
#   peer_start KIND NAME LOCAL_IP LOCAL_AS REMOTE_IP REMOTE_AS [key=value...]
#   peer_wait_established NAME [TIMEOUT]     peer_state NAME
#   peer_routes NAME [ipv4|ipv6]             peer_last_notification NAME [sent|received]
#   peer_announce NAME PREFIX...             peer_withdraw NAME PREFIX...
#   peer_wait_routes NAME COUNT [TIMEOUT]    peer_require KIND...   peer_version KIND
#   peer_exabgp_raw NAME PREFIX ATTR...      peer_exabgp_api NAME COMMAND
#   peer_exabgp_received NAME
#   peer_stop NAME                           peer_cleanup
#
# Every instance is one foreground daemon started by the shell, in its own
# process group, with everything it writes (config, control socket, pid file,
# log) under $PEER_DIR/NAME. It binds LOCAL_IP (a 127.0.0.0/8 address, port 179
# unless port=N) and connects only to REMOTE_IP: nothing else is ever a target.
# One session per instance, IPv4 and IPv6 unicast both negotiated over it
# (IPv6 routes ride MP-BGP on the IPv4 session, as strait's provider edge will).
#
# Routes an instance originates carry the instance's options communities= and
# large_communities=, next hop next_hop= (IPv4) when given, else the daemon's
# own choice (its local address). See README.md beside this file for what each
# daemon does differently (next hops on 127/8, MD5, ports, notifications).
#
# The first peer_start makes $PEER_DIR (a mktemp -d under ${TMPDIR:-/tmp},
# unless the caller set PEER_DIR) and, unless PEER_NO_TRAP=1, sets an EXIT
# trap that calls peer_cleanup. A test with its own EXIT trap sets
# PEER_NO_TRAP=1 and calls peer_cleanup from it. PEER_KEEP=1 keeps a made
# $PEER_DIR (configs and logs) after cleanup. Needs bash, python3 (JSON) and
# root: port 179, and OpenBGPD's privilege separation.

PEER_DIR=${PEER_DIR:-}
PEER_KINDS="bird frr gobgp openbgpd exabgp"
PEER_FRR_BGPD=${PEER_FRR_BGPD:-/usr/lib/frr/bgpd}
PEER_GOBGP_API_PORT=${PEER_GOBGP_API_PORT:-50051}
PEER_PY=${PEER_PY:-/usr/bin/python3}
# gobgpd logs notifications at warning level: info keeps the log small (debug
# logs every route sent and received, JSON).
PEER_GOBGP_LOG_LEVEL=${PEER_GOBGP_LOG_LEVEL:-info}

_peer_die() { echo "peer.sh: $*" >&2; return 1; }

# _peer_dir NAME: the instance's directory; fails when NAME was never started.
_peer_dir() {
	[ -n "$PEER_DIR" ] && [ -f "$PEER_DIR/$1/peer.env" ] || { _peer_die "no peer named '$1'"; return 1; }
	echo "$PEER_DIR/$1"
}

# _peer_load NAME: loads the instance's settings (plain assignments) into the
# caller's locals, which the caller declares: kind lip las rip ras port rport
# md5 hold passive max_prefix gr communities large_communities next_hop d.
_peer_load() {
	d=$(_peer_dir "$1") || return 1
	# shellcheck disable=SC1091
	. "$d/peer.env"
}

# peer_require KIND...: fails, naming the missing program, unless every tool
# the kinds need is installed (scripts/deps.sh installs them all).
peer_require() {
	local k t
	for k in "$@"; do
		case $k in
		bird) t="bird birdc" ;;
		frr) t="$PEER_FRR_BGPD vtysh" ;;
		gobgp) t="gobgpd gobgp" ;;
		openbgpd) t="bgpd bgpctl" ;;
		exabgp) t="exabgp" ;;
		*) _peer_die "unknown kind '$k' (one of: $PEER_KINDS)"; return 1 ;;
		esac
		for t in $t setsid $PEER_PY; do
			command -v "$t" >/dev/null 2>&1 || { _peer_die "$t is not installed (scripts/deps.sh test installs it)"; return 1; }
		done
	done
}

# peer_version KIND: one line, the daemon's version as it reports it.
peer_version() {
	case $1 in
	bird) bird --version 2>&1 | head -1 ;;
	frr) "$PEER_FRR_BGPD" --version 2>&1 | head -1 ;;
	gobgp) gobgpd --version 2>&1 | head -1 ;;
	openbgpd) echo "OpenBGPD $(dpkg-query -W -f='${Version}' openbgpd 2>/dev/null)" ;;
	exabgp) exabgp --version 2>&1 | grep -i '^exabgp' | head -1 ;;
	esac
}

_peer_is_loopback() { [[ $1 =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]]; }

# peer_start KIND NAME LOCAL_IP LOCAL_AS REMOTE_IP REMOTE_AS [key=value...]
#   Writes NAME's config into $PEER_DIR/NAME and starts the daemon in the
#   foreground (no daemonizing), in the background of the shell, in its own
#   process group (setsid; pid in $PEER_DIR/NAME/pid, stdout and stderr in
#   $PEER_DIR/NAME/stdout). Returns once its control interface answers (the
#   session may still be coming up: see peer_wait_established), or 1 with the
#   tail of its log. KIND: bird, frr, gobgp, openbgpd or exabgp. LOCAL_IP and
#   REMOTE_IP: 127.0.0.0/8 addresses, one LOCAL_IP per instance.
#   Options:
#     md5=SECRET            TCP MD5 signature (RFC 2385) on the session
#     hold=SECS             hold time offered (keepalive hold/3)
#     announce="P1 P2 ..."  prefixes to originate (IPv4 and IPv6 mixed)
#     communities="a:b ..." large_communities="a:b:c ..."  put on them
#     next_hop=IPv4         next hop of originated IPv4 routes (default: self)
#     passive=1             never connect, only accept
#     max_prefix=N          tear the session down (Cease 6/1) past N received
#                           prefixes: per address family, except OpenBGPD
#                           (all families together); ExaBGP has none (error)
#     graceful_restart=1    announce the graceful restart capability
#     port=N                listen on N instead of 179
#     remote_port=N         connect to N instead of 179
peer_start() {
	[ $# -ge 6 ] || { _peer_die "usage: peer_start KIND NAME LOCAL_IP LOCAL_AS REMOTE_IP REMOTE_AS [key=value...]"; return 1; }
	local kind=$1 name=$2 lip=$3 las=$4 rip=$5 ras=$6
	shift 6
	local port=179 rport=179 md5="" hold="" passive=0 max_prefix="" gr=0 announce=""
	local communities="" large_communities="" next_hop="" kv
	for kv in "$@"; do
		case $kv in
		md5=*) md5=${kv#*=} ;;
		hold=*) hold=${kv#*=} ;;
		announce=*) announce=${kv#*=} ;;
		communities=*) communities=${kv#*=} ;;
		large_communities=*) large_communities=${kv#*=} ;;
		next_hop=*) next_hop=${kv#*=} ;;
		passive=*) passive=${kv#*=} ;;
		max_prefix=*) max_prefix=${kv#*=} ;;
		graceful_restart=*) gr=${kv#*=} ;;
		port=*) port=${kv#*=} ;;
		remote_port=*) rport=${kv#*=} ;;
		*) _peer_die "peer_start $name: unknown option '$kv'"; return 1 ;;
		esac
	done
	peer_require "$kind" || return 1
	[[ $name =~ ^[A-Za-z0-9_-]+$ ]] || { _peer_die "bad peer name '$name'"; return 1; }
	_peer_is_loopback "$lip" || { _peer_die "$name: local address $lip is not in 127.0.0.0/8"; return 1; }
	_peer_is_loopback "$rip" || { _peer_die "$name: remote address $rip is not in 127.0.0.0/8"; return 1; }
	[[ $las =~ ^[0-9]+$ && $ras =~ ^[0-9]+$ ]] || { _peer_die "$name: AS numbers must be plain numbers"; return 1; }
	if [ "$kind" = exabgp ] && [ -n "$max_prefix" ]; then
		_peer_die "$name: ExaBGP has no maximum-prefix limit"
		return 1
	fi
	if [ -z "${_peer_begun:-}" ]; then
		_peer_begun=1
		if [ -z "$PEER_DIR" ]; then
			PEER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/strait-peers.XXXXXX") || return 1
			_peer_made_dir=1
		fi
		mkdir -p "$PEER_DIR" || return 1
		[ "${PEER_NO_TRAP:-0}" = 1 ] || trap peer_cleanup EXIT
	fi
	local d=$PEER_DIR/$name
	[ ! -e "$d/pid" ] || { _peer_die "peer '$name' already started"; return 1; }
	mkdir -p "$d" && chmod 755 "$d"
	: >"$d/announce"
	local p
	for p in $announce; do echo "$p" >>"$d/announce"; done
	local v
	for v in kind lip las rip ras port rport md5 hold passive max_prefix gr communities large_communities next_hop; do
		printf '%s=%q\n' "$v" "${!v}"
	done >"$d/peer.env"
	"_peer_${kind}_conf" "$name" || return 1
	# Started from a subshell that exits at once: the daemon is nobody's job
	# in the test's shell (no "Killed" notices, init reaps it).
	("_peer_${kind}_run" "$name" </dev/null >"$d/stdout" 2>&1 &
		echo $! >"$d/pid")
	if ! _peer_ready "$name"; then
		_peer_die "$name ($kind) did not come up; its log:"
		tail -n 20 "$d"/*.log "$d/stdout" >&2 2>/dev/null
		return 1
	fi
	# shellcheck disable=SC2046 # one prefix a line, no spaces
	[ "$kind" != gobgp ] || _peer_gobgp_add "$name" $(cat "$d/announce") || return 1
}

# _peer_ready NAME: waits (10 s at most) until the daemon's control interface
# answers; fails at once when the daemon died.
_peer_ready() {
	local kind lip las rip ras port rport md5 hold passive max_prefix gr communities large_communities next_hop d i pid
	_peer_load "$1" || return 1
	pid=$(cat "$d/pid")
	for i in $(seq 100); do
		_peer_alive "$pid" || return 1
		case $kind in
		bird) birdc -s "$d/bird.ctl" show status >/dev/null 2>&1 && return 0 ;;
		frr) _peer_vtysh "$d" -c 'show bgp summary' >/dev/null 2>&1 && return 0 ;;
		gobgp) _peer_gobgp "$lip" global >/dev/null 2>&1 && return 0 ;;
		openbgpd) bgpctl -s "$d/bgpd.sock" show >/dev/null 2>&1 && return 0 ;;
		exabgp) grep -q 'exabgp-helper up' "$d/stdout" 2>/dev/null && return 0 ;;
		esac
		sleep 0.1
	done
	return 1
}

# ---- BIRD 2 ---------------------------------------------------------------------
# One `protocol bgp` with `multihop` (BIRD ignores lo's host-scope 127/8 for
# direct sessions: "Invalid next hop") and `strict bind` on LOCAL_IP. Originated
# routes are `protocol static` blackholes; the export filter sends only those,
# with the communities and next hop. IPv6 over the IPv4 session needs
# `extended next hop` (next hops are IPv4-mapped). Runtime announce/withdraw
# rewrites the static protocols and runs `birdc configure` (the BGP protocol's
# config is unchanged, so the session stays up).
_peer_bird_conf() {
	local kind lip las rip ras port rport md5 hold passive max_prefix gr communities large_communities next_hop d p c set4 set6
	_peer_load "$1" || return 1
	set4="" set6=""
	for c in $communities; do set4+=" bgp_community.add((${c/:/,}));"; done
	for c in $large_communities; do set4+=" bgp_large_community.add((${c//:/,}));"; done
	set6=$set4
	[ -z "$next_hop" ] || set4+=" bgp_next_hop = $next_hop;"
	{
		echo "router id $lip;"
		echo "log \"$d/bird.log\" all;"
		echo "debug protocols { states, events, packets };"
		echo "protocol device {}"
		echo "protocol static announce4 { ipv4;"
		while read -r p; do [[ $p == *:* ]] || echo "  route $p blackhole;"; done <"$d/announce"
		echo "}"
		echo "protocol static announce6 { ipv6;"
		while read -r p; do [[ $p == *:* ]] && echo "  route $p blackhole;"; done <"$d/announce"
		echo "}"
		echo "protocol bgp peer {"
		echo "  local $lip port $port as $las;"
		echo "  neighbor $rip port $rport as $ras;"
		echo "  strict bind yes;"
		echo "  multihop;"
		echo "  connect delay time 1; connect retry time 2; error wait time 1, 5;"
		[ -z "$md5" ] || echo "  password \"$md5\";"
		[ -z "$hold" ] || echo "  hold time $hold; keepalive time $(((hold + 2) / 3));"
		[ "$passive" != 1 ] || echo "  passive on;"
		[ "$gr" != 1 ] || echo "  graceful restart on;"
		for c in 4 6; do
			echo "  ipv$c {"
			[ $c = 4 ] || echo "    extended next hop on;"
			echo "    import all;"
			[ -z "$max_prefix" ] || echo "    import limit $max_prefix action disable;"
			local set=$set4
			[ $c = 4 ] || set=$set6
			echo "    export filter { if proto = \"announce$c\" then {$set accept; } reject; };"
			echo "  };"
		done
		echo "}"
	} >"$d/bird.conf"
}
_peer_bird_run() {
	local d=$PEER_DIR/$1
	exec setsid bird -f -c "$d/bird.conf" -s "$d/bird.ctl" -P "$d/bird.pid"
}
_peer_bird_state() {
	local s
	s=$(birdc -s "$1/bird.ctl" show protocols all peer 2>/dev/null | sed -n 's/^ *BGP state: *//p')
	case $s in
	Idle | Down | Close | "") echo Idle ;;
	Passive) echo Active ;;
	*) echo "$s" ;;
	esac
}
_peer_bird_routes() { # DIR FAMILY
	local t=master4
	[ "$2" = ipv6 ] && t=master6
	birdc -s "$1/bird.ctl" show route table $t protocol peer all 2>/dev/null | awk '
		function flush() { if (pfx != "") print pfx, path, comm, lcomm; pfx = "" }
		/^[0-9a-f][0-9a-f.:]*\/[0-9]+ / { flush(); pfx = $1; path = comm = lcomm = ""; next }
		/BGP\.as_path:/ { sub(/.*BGP\.as_path: */, ""); path = $0; next }
		/BGP\.community:/ { sub(/.*BGP\.community: */, ""); gsub(/\) *\(/, " "); gsub(/[()]/, ""); gsub(/, */, ":"); comm = $0; next }
		/BGP\.large_community:/ { sub(/.*BGP\.large_community: */, ""); gsub(/\) *\(/, " "); gsub(/[()]/, ""); gsub(/, */, ":"); lcomm = $0; next }
		END { flush() }'
}
# BIRD traces a NOTIFICATION it sends as "peer: Sending NOTIFICATION(code=C.S)"
# (debug packets) and logs one it receives as "peer: Received: TEXT", TEXT
# from its bgp_error_dsc table (the same strings are in the binary), or
# "Unknown error C.S".
_peer_bird_notification() { # DIR sent|received|""
	local re='(Sending NOTIFICATION|peer: Received: )' l
	[ "$2" = sent ] && re='Sending NOTIFICATION'
	[ "$2" = received ] && re='peer: Received: '
	l=$(grep -E "$re" "$1/bird.log" 2>/dev/null | tail -1)
	case $l in
	*"Sending NOTIFICATION(code="*) echo "$l" | sed -nE 's/.*code=([0-9]+)\.([0-9]+).*/\1\/\2/p' ;;
	*"Received: "*) echo "$l" | sed -E 's/.*peer: Received: //; s/: [0-9a-f]*$//' | _peer_text_code ;;
	esac
}
_peer_bird_update() { # NAME: regenerate the static protocols, reconfigure
	local d=$PEER_DIR/$1
	_peer_bird_conf "$1" && birdc -s "$d/bird.ctl" configure >/dev/null
}

# ---- FRR bgpd --------------------------------------------------------------------
# bgpd alone (-Z: no zebra, -n: no kernel, -S: no user switch, -l LOCAL_IP,
# -p port, --vty_socket: its own vtysh socket dir, -P 0: no vty TCP port).
# `bgp allow-martian-nexthop` is needed: FRR answers a 127/8 next hop with
# NOTIFICATION 3/8 (martian) otherwise. Originated routes are `network`
# statements (import-check off); route-map OUT sets communities and next hop.
_peer_frr_conf() {
	local kind lip las rip ras port rport md5 hold passive max_prefix gr communities large_communities next_hop d p af
	_peer_load "$1" || return 1
	{
		echo "hostname $1"
		echo "log file $d/bgpd.log debugging"
		echo "debug bgp neighbor-events"
		echo "route-map OUT permit 10"
		[ -z "$communities" ] || echo " set community $communities additive"
		[ -z "$large_communities" ] || echo " set large-community $large_communities additive"
		[ -z "$next_hop" ] || echo " set ip next-hop $next_hop"
		echo "exit"
		echo "router bgp $las"
		echo " bgp router-id $lip"
		echo " no bgp ebgp-requires-policy"
		echo " no bgp network import-check"
		echo " bgp allow-martian-nexthop"
		[ "$gr" != 1 ] || echo " bgp graceful-restart"
		echo " neighbor $rip remote-as $ras"
		echo " neighbor $rip update-source $lip"
		echo " neighbor $rip timers connect 2"
		[ "$rport" = 179 ] || echo " neighbor $rip port $rport"
		[ -z "$md5" ] || echo " neighbor $rip password $md5"
		[ -z "$hold" ] || echo " neighbor $rip timers $(((hold + 2) / 3)) $hold"
		[ "$passive" != 1 ] || echo " neighbor $rip passive"
		for af in ipv4 ipv6; do
			echo " address-family $af unicast"
			while read -r p; do
				if [[ $p == *:* ]]; then [ $af = ipv6 ] && echo "  network $p"; else [ $af = ipv4 ] && echo "  network $p"; fi
			done <"$d/announce"
			echo "  neighbor $rip activate"
			echo "  neighbor $rip route-map OUT out"
			[ -z "$max_prefix" ] || echo "  neighbor $rip maximum-prefix $max_prefix"
			echo " exit-address-family"
		done
	} >"$d/bgpd.conf"
}
_peer_frr_run() {
	local d=$PEER_DIR/$1 kind lip las rip ras port rport md5 hold passive max_prefix gr communities large_communities next_hop
	_peer_load "$1"
	exec setsid "$PEER_FRR_BGPD" -f "$d/bgpd.conf" -i "$d/bgpd.pid" --vty_socket "$d" \
		-l "$lip" -p "$port" -Z -S -n -P 0
}
_peer_vtysh() { local d=$1; shift; vtysh --vty_socket "$d" -d bgpd "$@"; }
_peer_frr_state() { # DIR RIP
	_peer_vtysh "$1" -c "show bgp neighbors $2 json" 2>/dev/null | "$PEER_PY" -c '
import json, sys
try:
    s = json.load(sys.stdin)[sys.argv[1]]["bgpState"]
except Exception:
    s = "Idle"
print({"Clearing": "Idle", "Deleted": "Idle"}.get(s, s))' "$2"
}
_peer_frr_routes() { # DIR FAMILY RIP
	_peer_vtysh "$1" -c "show bgp $2 unicast json detail" 2>/dev/null | "$PEER_PY" -c '
import json, sys
rip = sys.argv[1]
try:
    routes = json.load(sys.stdin).get("routes", {})
except ValueError:
    routes = {}
for pfx, paths in routes.items():
    for p in paths:
        if p.get("peer", {}).get("peerId") != rip:
            continue
        segs = p.get("aspath", {}).get("segments", [])
        path = " ".join(" ".join(map(str, s["list"])) if s["type"] == "as-sequence"
                        else "{" + ",".join(map(str, s["list"])) + "}" for s in segs)
        comm = " ".join(p.get("community", {}).get("list", []))
        lcomm = " ".join(p.get("largeCommunity", {}).get("list", []))
        print(pfx, path, comm, lcomm)' "$3"
}
# FRR logs "%NOTIFICATION: sent to neighbor X 6/1 (...)" and "received from".
_peer_frr_notification() { # DIR sent|received|""
	local re='(sent to|received from)'
	[ "$2" = sent ] && re='sent to'
	[ "$2" = received ] && re='received from'
	grep -E "%NOTIFICATION(\(Shutdown\))?: $re neighbor" "$1/bgpd.log" 2>/dev/null | tail -1 |
		sed -E 's/.* neighbor [^ ]+ ([0-9]+)\/([0-9]+) .*/\1\/\2/'
}
_peer_frr_update() { # NAME add|del PREFIX...
	local kind lip las rip ras port rport md5 hold passive max_prefix gr communities large_communities next_hop d p op=$2 args=()
	_peer_load "$1" || return 1
	shift 2
	args=(-c 'configure terminal' -c "router bgp $las")
	for p in "$@"; do
		if [[ $p == *:* ]]; then args+=(-c 'address-family ipv6 unicast'); else args+=(-c 'address-family ipv4 unicast'); fi
		if [ "$op" = add ]; then args+=(-c "network $p"); else args+=(-c "no network $p"); fi
		args+=(-c 'exit-address-family')
	done
	_peer_vtysh "$d" "${args[@]}" >/dev/null
}

# ---- GoBGP -------------------------------------------------------------------------
# gobgpd with a TOML config; its gRPC API on LOCAL_IP:$PEER_GOBGP_API_PORT (each
# instance its own address), the gobgp CLI pointed there. Originated routes are
# added through the API after start (GoBGP's config file has no static routes).
# GoBGP treats a received IPv4 NEXT_HOP in 127/8 as invalid (treat-as-withdraw,
# "invalid nexthop address"): whoever sends to it must use next_hop=.
_peer_gobgp() { local ip=$1; shift; gobgp -u "$ip" -p "$PEER_GOBGP_API_PORT" "$@"; }
_peer_gobgp_conf() {
	local kind lip las rip ras port rport md5 hold passive max_prefix gr communities large_communities next_hop d af
	_peer_load "$1" || return 1
	{
		echo "[global.config]"
		echo "  as = $las"
		echo "  router-id = \"$lip\""
		echo "  port = $port"
		echo "  local-address-list = [\"$lip\"]"
		echo "[[neighbors]]"
		echo "  [neighbors.config]"
		echo "    neighbor-address = \"$rip\""
		echo "    peer-as = $ras"
		[ -z "$md5" ] || echo "    auth-password = \"$md5\""
		echo "  [neighbors.transport.config]"
		echo "    local-address = \"$lip\""
		echo "    remote-port = $rport"
		[ "$passive" != 1 ] || echo "    passive-mode = true"
		echo "  [neighbors.timers.config]"
		echo "    connect-retry = 2"
		[ -z "$hold" ] || echo "    hold-time = $hold"
		[ -z "$hold" ] || echo "    keepalive-interval = $(((hold + 2) / 3))"
		if [ "$gr" = 1 ]; then
			echo "  [neighbors.graceful-restart.config]"
			echo "    enabled = true"
			echo "    restart-time = 120"
		fi
		for af in ipv4 ipv6; do
			echo "  [[neighbors.afi-safis]]"
			echo "    [neighbors.afi-safis.config]"
			echo "      afi-safi-name = \"$af-unicast\""
			if [ -n "$max_prefix" ]; then
				echo "    [neighbors.afi-safis.prefix-limit.config]"
				echo "      max-prefixes = $max_prefix"
			fi
			if [ "$gr" = 1 ]; then
				echo "    [neighbors.afi-safis.mp-graceful-restart.config]"
				echo "      enabled = true"
			fi
		done
	} >"$d/gobgpd.toml"
}
_peer_gobgp_run() {
	local d=$PEER_DIR/$1 kind lip las rip ras port rport md5 hold passive max_prefix gr communities large_communities next_hop
	_peer_load "$1"
	exec setsid gobgpd -f "$d/gobgpd.toml" -t toml --api-hosts="$lip:$PEER_GOBGP_API_PORT" \
		--pprof-disable -l "$PEER_GOBGP_LOG_LEVEL" >"$d/gobgpd.log" 2>&1
}
_peer_gobgp_add() { # NAME PREFIX...: adds to GoBGP's global RIB with the options' attributes
	local kind lip las rip ras port rport md5 hold passive max_prefix gr communities large_communities next_hop d p a
	_peer_load "$1" || return 1
	shift
	for p in "$@"; do
		a=(global rib add "$p" origin igp)
		if [[ $p == *:* ]]; then a+=(-a ipv6); else a+=(-a ipv4); [ -z "$next_hop" ] || a+=(nexthop "$next_hop"); fi
		[ -z "$communities" ] || a+=(community "$(echo $communities | tr ' ' ,)")
		[ -z "$large_communities" ] || a+=(large-community "$(echo $large_communities | tr ' ' ,)")
		_peer_gobgp "$lip" "${a[@]}" || return 1
	done
}
_peer_gobgp_state() { # LIP RIP
	_peer_gobgp "$1" neighbor "$2" -j 2>/dev/null | "$PEER_PY" -c '
import json, sys
try:
    s = json.load(sys.stdin)["state"].get("session_state", 1)
except Exception:
    s = 1
print({2: "Connect", 3: "Active", 4: "OpenSent", 5: "OpenConfirm", 6: "Established"}.get(s, "Idle"))'
}
_peer_gobgp_routes() { # LIP FAMILY RIP
	_peer_gobgp "$1" global rib -a "$2" -j 2>/dev/null | "$PEER_PY" -c '
import json, sys
rip = sys.argv[1]
try:
    rib = json.load(sys.stdin)
except ValueError:
    rib = {}
for pfx, paths in rib.items():
    for p in paths:
        if p.get("neighbor-ip") != rip:
            continue
        path, comm, lcomm = [], [], []
        for a in p.get("attrs", []):
            if a["type"] == 2:
                for s in a.get("as_paths", []):
                    asns = list(map(str, s.get("asns", [])))
                    path += asns if s.get("segment_type") == 2 else ["{" + ",".join(asns) + "}"]
            elif a["type"] == 8:
                comm = ["%d:%d" % (c >> 16, c & 0xffff) for c in a.get("communities", [])]
            elif a["type"] == 32:
                lcomm = ["%d:%d:%d" % (c["ASN"], c["LocalData1"], c["LocalData2"]) for c in a.get("value", [])]
        print(pfx, " ".join(path), " ".join(comm), " ".join(lcomm))' "$3"
}
# gobgpd logs (JSON, debug level) "sent notification" / "received notification"
# with Code and Subcode fields.
_peer_gobgp_notification() { # DIR sent|received|""
	local re='(sent|received) notification'
	[ "$2" = sent ] && re='sent notification'
	[ "$2" = received ] && re='received notification'
	grep -E "\"msg\":\"$re\"" "$1/gobgpd.log" 2>/dev/null | tail -1 |
		sed -nE 's/.*"Code":([0-9]+).*"Subcode":([0-9]+).*/\1\/\2/p'
}

# ---- OpenBGPD ---------------------------------------------------------------------
# bgpd -d (foreground; it forks its session engine and RDE, which exit with
# it) with `listen on LOCAL_IP port N`, its own `socket`, `fib-update no`.
# It chroots to /run/openbgpd (the _openbgpd user's home), made here when
# missing. IPv6 routes over the IPv4 session need an IPv6 local-address for
# their next hop: ::1. Runtime announce/withdraw: bgpctl network add|delete.
_peer_openbgpd_conf() {
	local kind lip las rip ras port rport md5 hold passive max_prefix gr communities large_communities next_hop d p
	_peer_load "$1" || return 1
	{
		echo "AS $las"
		echo "router-id $lip"
		echo "listen on $lip port $port"
		echo "socket \"$d/bgpd.sock\""
		echo "fib-update no"
		echo "connect-retry 2"
		while read -r p; do echo "network $p $(_peer_openbgpd_set "$1" "$p")"; done <"$d/announce"
		echo "neighbor $rip {"
		echo "  remote-as $ras"
		echo "  descr \"$1\""
		echo "  local-address $lip"
		echo "  local-address ::1"
		echo "  announce IPv4 unicast"
		echo "  announce IPv6 unicast"
		[ "$rport" = 179 ] || echo "  port $rport"
		[ -z "$md5" ] || echo "  tcp md5sig password $md5"
		[ -z "$hold" ] || echo "  holdtime $hold"
		[ "$passive" != 1 ] || echo "  passive"
		[ -z "$max_prefix" ] || echo "  max-prefix $max_prefix"
		# A set next hop is sent as is only on an eBGP multihop session with
		# no-modify (bgpd.conf(5), "nexthop"); on a "connected" one (127/8
		# is, on lo) bgpd puts its local address instead.
		[ -z "$next_hop" ] || echo "  multihop 2"
		if [ "$gr" = 1 ]; then echo "  announce restart yes"; else echo "  announce restart no"; fi
		echo "}"
		echo "allow from any"
		echo "allow to any"
		[ -z "$next_hop" ] || echo "match to $rip set nexthop no-modify"
	} >"$d/bgpd.conf"
	chmod 600 "$d/bgpd.conf"
}
_peer_openbgpd_set() { # NAME PREFIX: the "set { ... }" clause for an originated prefix
	local kind lip las rip ras port rport md5 hold passive max_prefix gr communities large_communities next_hop d c s=""
	_peer_load "$1" || return 1
	for c in $communities; do s+=" community $c"; done
	for c in $large_communities; do s+=" large-community $c"; done
	[[ $2 == *:* || -z $next_hop ]] || s+=" nexthop $next_hop"
	[ -z "$s" ] || echo "set {$s }"
}
_peer_openbgpd_run() {
	local d=$PEER_DIR/$1
	mkdir -p /run/openbgpd
	exec setsid bgpd -d -v -f "$d/bgpd.conf" >"$d/bgpd.log" 2>&1
}
_peer_openbgpd_state() { # DIR RIP
	local s
	s=$(bgpctl -s "$1/bgpd.sock" show neighbor "$2" 2>/dev/null | sed -nE 's/^ *BGP state = ([A-Za-z]+).*/\1/p')
	case $s in
	Established | Connect | Active | OpenSent | OpenConfirm) echo "$s" ;;
	*) echo Idle ;;
	esac
}
_peer_openbgpd_routes() { # DIR FAMILY RIP
	bgpctl -s "$1/bgpd.sock" -j show rib neighbor "$3" detail 2>/dev/null | "$PEER_PY" -c '
import json, sys
fam = sys.argv[1]
try:
    rib = json.load(sys.stdin).get("rib", [])
except ValueError:
    rib = []
for r in rib:
    if (":" in r["prefix"]) != (fam == "ipv6"):
        continue
    path = r.get("aspath", "").replace("{ ", "{").replace(" }", "}")
    if path == "empty":
        path = ""
    print(r["prefix"], path, " ".join(r.get("communities", [])), " ".join(r.get("large_communities", [])))' "$2"
}
# OpenBGPD logs "neighbor X: sending notification: TEXT" and "received
# notification: TEXT" (its errnames/suberr tables).
_peer_openbgpd_notification() { # DIR sent|received|""
	local re='(sending|received) notification'
	[ "$2" = sent ] && re='sending notification'
	[ "$2" = received ] && re='received notification'
	grep -E "$re: " "$1/bgpd.log" 2>/dev/null | tail -1 | sed -E "s/.*$re: //" | _peer_text_code
}
_peer_openbgpd_update() { # NAME add|del PREFIX...
	local kind lip las rip ras port rport md5 hold passive max_prefix gr communities large_communities next_hop d p c a op=$2
	_peer_load "$1" || return 1
	shift 2
	for p in "$@"; do
		if [ "$op" = add ]; then
			a=(network add "$p")
			for c in $communities; do a+=(community "$c"); done
			for c in $large_communities; do a+=(large-community "$c"); done
			[[ $p == *:* || -z $next_hop ]] || a+=(nexthop "$next_hop")
		else
			a=(network delete "$p")
		fi
		bgpctl -s "$d/bgpd.sock" "${a[@]}" >/dev/null || return 1
	done
}

# ---- ExaBGP --------------------------------------------------------------------------
# exabgp with its environment in $d/exabgp.env (bind LOCAL_IP, port, run as
# root: its default drops to nobody, who could not write $d). One API process,
# $d/exabgp-api.sh: what is written to the FIFO $d/exabgp.cmd becomes an API
# command (announce/withdraw at runtime, peer_exabgp_api), and every message
# ExaBGP reports (JSON: state, update, notification) is appended to
# $d/exabgp.events, from which peer_state, peer_routes and
# peer_last_notification read.
_peer_exabgp_route() { # NAME PREFIX: the "route ..." statement for an originated prefix
	local kind lip las rip ras port rport md5 hold passive max_prefix gr communities large_communities next_hop d c r
	_peer_load "$1" || return 1
	# Never "next-hop self": 4.2 sends the config's routes without NEXT_HOP
	# and IPv6 ones with a zero next hop. IPv6: the IPv4-mapped local address.
	if [[ $2 == *:* ]]; then
		r="route $2 next-hop ::ffff:$lip origin igp"
	else
		r="route $2 next-hop ${next_hop:-$lip} origin igp"
	fi
	[ -z "$communities" ] || r+=" community [ $communities ]"
	[ -z "$large_communities" ] || r+=" large-community [ $large_communities ]"
	echo "$r"
}
_peer_exabgp_conf() {
	local kind lip las rip ras port rport md5 hold passive max_prefix gr communities large_communities next_hop d p
	_peer_load "$1" || return 1
	rm -f "$d/exabgp.cmd"
	mkfifo "$d/exabgp.cmd"
	: >"$d/exabgp.events"
	cat >"$d/exabgp-api.sh" <<EOF
#!/bin/sh
# ExaBGP's API process: its stdin is what ExaBGP reports, its stdout commands.
echo "exabgp-helper up" >&2
exec 3<>"$d/exabgp.cmd"   # read-write: the reader never sees end-of-file
cat <&3 &                 # commands written to the FIFO -> ExaBGP
exec cat >>"$d/exabgp.events"
EOF
	chmod 755 "$d/exabgp-api.sh"
	cat >"$d/exabgp.env" <<EOF
[exabgp.daemon]
user = 'root'
drop = false
daemonize = false
[exabgp.tcp]
bind = '$lip'
port = $port
[exabgp.log]
destination = '$d/exabgp.log'
level = INFO
all = false
packets = false
network = true
reactor = true
processes = true
message = true
[exabgp.api]
ack = false
cli = false
EOF
	{
		echo "process api {"
		echo "  run $d/exabgp-api.sh;"
		echo "  encoder json;"
		echo "}"
		echo "neighbor $rip {"
		echo "  router-id $lip;"
		echo "  local-address $lip;"
		echo "  local-as $las;"
		echo "  peer-as $ras;"
		[ "$rport" = 179 ] || echo "  connect $rport;"
		[ -z "$hold" ] || echo "  hold-time $hold;"
		[ -z "$md5" ] || echo "  md5-password \"$md5\";"
		[ "$passive" != 1 ] || echo "  passive true;"
		echo "  family { ipv4 unicast; ipv6 unicast; }"
		echo "  capability {"
		echo "    route-refresh;"
		[ "$gr" != 1 ] || echo "    graceful-restart 120;"
		echo "  }"
		echo "  api {"
		echo "    processes [ api ];"
		echo "    neighbor-changes;"
		echo "    receive { parsed; packets; update; notification; open; }"
		echo "    send { parsed; notification; }"
		echo "  }"
		echo "  static {"
		while read -r p; do echo "    $(_peer_exabgp_route "$1" "$p");"; done <"$d/announce"
		echo "  }"
		echo "}"
	} >"$d/exabgp.conf"
}
_peer_exabgp_run() {
	local d=$PEER_DIR/$1
	exec setsid exabgp --env "$d/exabgp.env" "$d/exabgp.conf"
}
_peer_exabgp_events() { # DIR MODE: MODE state|routes-ipv4|routes-ipv6|notification-(sent|received|)
	"$PEER_PY" - "$1/exabgp.events" "$2" <<'EOF'
import json, sys
path, mode = sys.argv[1], sys.argv[2]
state, rib, notes = "Idle", {}, []
def fmt_path(a):
    out = []
    for x in a.get("as-path", []):
        out.append("{" + ",".join(map(str, x)) + "}" if isinstance(x, list) else str(x))
    # ExaBGP 4.2 puts AS_SET members after the sequence under "as-set"
    if a.get("as-set"):
        out.append("{" + ",".join(map(str, a["as-set"])) + "}")
    return " ".join(out)
for line in open(path, errors="replace"):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    t = m.get("type")
    if t == "state":
        s = m["neighbor"]["state"]
        state = {"up": "Established", "connected": "OpenSent"}.get(s, "Idle")
        if s != "up":
            rib = {}
    elif t == "notification":
        nb = m["neighbor"]
        n = nb.get("notification") or nb.get("message", {}).get("notification") or {}
        notes.append((m["neighbor"].get("direction", "receive"), n.get("code"), n.get("subcode")))
    elif t == "update":
        u = m["neighbor"].get("message", {}).get("update")
        if u is None:  # End-of-RIB
            continue
        a = u.get("attribute", {})
        attrs = (fmt_path(a),
                 " ".join("%d:%d" % tuple(c) for c in a.get("community", [])),
                 " ".join("%d:%d:%d" % tuple(c) for c in a.get("large-community", [])))
        for fam, hops in u.get("announce", {}).items():
            for nlris in hops.values():
                for n in nlris:
                    rib[(fam, n["nlri"] if isinstance(n, dict) else n)] = attrs
        for fam, nlris in u.get("withdraw", {}).items():
            for n in nlris:
                rib.pop((fam, n["nlri"] if isinstance(n, dict) else n), None)
if mode == "state":
    print(state)
elif mode.startswith("routes-"):
    want = mode[7:] + " unicast"
    for (fam, pfx), (p, c, l) in rib.items():
        if fam == want:
            print(pfx, p, c, l)
else:
    d = {"sent": "send", "received": "receive"}.get(mode[13:], "")
    for direction, code, sub in reversed(notes):
        if not d or direction == d:
            print("%s/%s" % (code, sub))
            break
EOF
}
_peer_exabgp_cmd() { # NAME LINE: one API command (fails after 5 s when no one reads the FIFO)
	local d
	d=$(_peer_dir "$1") || return 1
	timeout 5 sh -c 'printf "%s\n" "$1" >"$2"' sh "$2" "$d/exabgp.cmd"
}

# _peer_text_code: maps a NOTIFICATION's text, as BIRD or OpenBGPD log it, to
# CODE/SUBCODE (stdin: one line; prints nothing for an unknown text).
_peer_text_code() {
	local t
	IFS= read -r t || return 0
	case $t in
	*"Unknown error "*) echo "$t" | sed -nE 's/.*Unknown error ([0-9]+)\.([0-9]+).*/\1\/\2/p'; return ;;
	# OpenBGPD: "<errnames[code]>, <suberr_*_names[subcode]>" (log.h)
	"Header error, "*) _peer_obgpd_sub 1 "${t#*, }" ;;
	"error in OPEN message, "*) _peer_obgpd_sub 2 "${t#*, }" ;;
	"error in UPDATE message, "*) _peer_obgpd_sub 3 "${t#*, }" ;;
	"Finite State Machine error, "*) _peer_obgpd_sub 5 "${t#*, }" ;;
	"Cease, "*) _peer_obgpd_sub 6 "${t#*, }" ;;
	"error in ROUTE-REFRESH message, "*) _peer_obgpd_sub 7 "${t#*, }" ;;
	"HoldTimer expired"*) echo 4/0 ;;
	# BIRD (bgp_error_dsc in proto/bgp/packets.c)
	"Connection not synchronized"*) echo 1/1 ;; "Bad message length"*) echo 1/2 ;;
	"Bad message type"*) echo 1/3 ;; "Invalid message header"*) echo 1/0 ;;
	"Unsupported version number"*) echo 2/1 ;; "Bad peer AS"*) echo 2/2 ;;
	"Bad BGP identifier"*) echo 2/3 ;; "Unsupported optional parameter"*) echo 2/4 ;;
	"Authentication failure"*) echo 2/5 ;; "Unacceptable hold time"*) echo 2/6 ;;
	"Required capability missing"*) echo 2/7 ;; "No supported AFI/SAFI"*) echo 2/8 ;;
	"Role mismatch"*) echo 2/11 ;; "Invalid OPEN message"*) echo 2/0 ;;
	"Malformed attribute list"*) echo 3/1 ;; "Unrecognized well-known attribute"*) echo 3/2 ;;
	"Missing mandatory attribute"*) echo 3/3 ;; "Invalid attribute flags"*) echo 3/4 ;;
	"Invalid attribute length"*) echo 3/5 ;; "Invalid ORIGIN attribute"*) echo 3/6 ;;
	"AS routing loop"*) echo 3/7 ;; "Invalid NEXT_HOP attribute"*) echo 3/8 ;;
	"Optional attribute error"*) echo 3/9 ;; "Invalid network field"*) echo 3/10 ;;
	"Malformed AS_PATH"*) echo 3/11 ;; "Invalid UPDATE message"*) echo 3/0 ;;
	"Hold timer expired"*) echo 4/0 ;;
	"Unexpected message in OpenSent state"*) echo 5/1 ;;
	"Unexpected message in OpenConfirm state"*) echo 5/2 ;;
	"Unexpected message in Established state"*) echo 5/3 ;;
	"Finite state machine error"*) echo 5/0 ;;
	"Maximum number of prefixes reached"*) echo 6/1 ;; "Administrative shutdown"*) echo 6/2 ;;
	"Peer de-configured"*) echo 6/3 ;; "Administrative reset"*) echo 6/4 ;;
	"Connection rejected"*) echo 6/5 ;; "Other configuration change"*) echo 6/6 ;;
	"Connection collision resolution"*) echo 6/7 ;; "Out of Resources"*) echo 6/8 ;;
	"Cease"*) echo 6/0 ;;
	"Invalid ROUTE-REFRESH message length"*) echo 7/1 ;; "Invalid ROUTE-REFRESH message"*) echo 7/0 ;;
	*) ;;
	esac
}
_peer_obgpd_sub() { # CODE SUBTEXT: OpenBGPD's suberr_*_names (log.h), index = subcode
	local c=$1 s=$2 i=0 n
	local -a names
	case $c in
	1) names=("none" "synchronization error" "wrong length" "unknown message type") ;;
	2) names=("none" "version mismatch" "AS unacceptable" "BGPID invalid" "optional parameter error" "authentication error" "unacceptable holdtime" "unsupported capability" "group membership conflict" "group membership required" "none" "role mismatch") ;;
	3) names=("none" "attribute list error" "unknown well-known attribute" "well-known attribute missing" "attribute flags error" "attribute length wrong" "origin unacceptable" "loop detected" "nexthop unacceptable" "optional attribute error" "network unacceptable" "AS-Path unacceptable") ;;
	5) names=("unspecified error" "received unexpected message in OpenSent" "received unexpected message in OpenConfirm" "received unexpected message in Established") ;;
	6) names=("none" "received max-prefix exceeded" "administratively down" "peer unconfigured" "administrative reset" "connection rejected" "other config change" "collision" "resource exhaustion" "hard reset" "sent max-prefix exceeded") ;;
	7) names=("none" "invalid message length") ;;
	esac
	for n in "${names[@]}"; do
		[ "$s" = "$n" ] && { echo "$c/$i"; return; }
		i=$((i + 1))
	done
	echo "$s" | sed -nE "s/^unknown subcode ([0-9]+).*/$c\/\1/p"
}

# ---- the common functions ---------------------------------------------------------------

# peer_state NAME: prints the session's state as the daemon reports it, one of
#   Idle Connect Active OpenSent OpenConfirm Established
# (BIRD's Down/Close and FRR's Clearing are Idle; BIRD's Passive is Active;
# ExaBGP only tells up/connected/down: Established/OpenSent/Idle).
peer_state() {
	local kind lip las rip ras port rport md5 hold passive max_prefix gr communities large_communities next_hop d
	_peer_load "$1" || return 1
	case $kind in
	bird) _peer_bird_state "$d" ;;
	frr) _peer_frr_state "$d" "$rip" ;;
	gobgp) _peer_gobgp_state "$lip" "$rip" ;;
	openbgpd) _peer_openbgpd_state "$d" "$rip" ;;
	exabgp) _peer_exabgp_events "$d" state ;;
	esac
}

# peer_wait_established NAME [TIMEOUT]: waits until NAME's session is
# Established (TIMEOUT seconds, default 30; fractions allowed); 0 if it is, 1
# (after printing the last state seen on stderr) if not.
peer_wait_established() {
	local name=$1 timeout=${2:-30} s="" end
	_peer_dir "$name" >/dev/null || return 1
	# milliseconds: mawk's printf %d stops at 2^31
	end=$(($(date +%s%3N) + $(awk -v t="$timeout" 'BEGIN { printf "%d", t * 1000 }')))
	while :; do
		s=$(peer_state "$name")
		[ "$s" = Established ] && return 0
		[ "$(date +%s%3N)" -lt "$end" ] || break
		sleep 0.2
	done
	echo "peer.sh: $name not Established after ${timeout}s (state $s)" >&2
	return 1
}

# peer_routes NAME [ipv4|ipv6]: the routes NAME received from its neighbor and
# keeps (after import policy; both families when none is named), one a line,
# sorted:  PREFIX [AS...] [a:b...] [a:b:c...]
# i.e. the prefix, the AS path (AS_SETs as {a,b}), the communities, the large
# communities, space separated (the three kinds cannot be confused: plain
# numbers, a:b, a:b:c). Read from the daemon's own tool: birdc show route all,
# vtysh show bgp ... json detail, gobgp global rib -j, bgpctl -j show rib,
# ExaBGP's parsed updates.
peer_routes() {
	local kind lip las rip ras port rport md5 hold passive max_prefix gr communities large_communities next_hop d f fams
	_peer_load "$1" || return 1
	fams=${2:-ipv4 ipv6}
	for f in $fams; do
		case $f in ipv4 | ipv6) ;; *) _peer_die "peer_routes: family '$f' (ipv4 or ipv6)"; return 1 ;; esac
		case $kind in
		bird) _peer_bird_routes "$d" "$f" ;;
		frr) _peer_frr_routes "$d" "$f" "$rip" ;;
		gobgp) _peer_gobgp_routes "$lip" "$f" "$rip" ;;
		openbgpd) _peer_openbgpd_routes "$d" "$f" "$rip" ;;
		exabgp) _peer_exabgp_events "$d" "routes-$f" ;;
		esac
	done | _peer_normalize
}

# _peer_normalize: one route a line in, "PREFIX AS... a:b... a:b:c..." out,
# communities and large communities sorted numerically, lines sorted.
_peer_normalize() {
	"$PEER_PY" -c '
import sys
def key(c):
    return tuple(int(x) for x in c.split(":"))
out = []
for line in sys.stdin:
    t = line.split()
    if not t:
        continue
    path = [x for x in t[1:] if x.count(":") == 0]
    comm = sorted((x for x in t[1:] if x.count(":") == 1), key=key)
    lcomm = sorted((x for x in t[1:] if x.count(":") == 2), key=key)
    out.append(" ".join([t[0]] + path + comm + lcomm))
for l in sorted(set(out)):
    print(l)'
}

# peer_wait_routes NAME COUNT [TIMEOUT]: waits until peer_routes NAME prints
# exactly COUNT lines (default timeout 15 s); 1 if it never does.
peer_wait_routes() {
	local i n
	for i in $(seq $((${3:-15} * 5))); do
		n=$(peer_routes "$1" | grep -c .)
		[ "$n" -eq "$2" ] && return 0
		sleep 0.2
	done
	echo "peer.sh: $1 has $n routes, not $2" >&2
	return 1
}

# peer_announce NAME PREFIX...: originates more prefixes at runtime, with the
# communities/next hop of NAME's options.
peer_announce() {
	local name=$1 d p kind lip las rip ras port rport md5 hold passive max_prefix gr communities large_communities next_hop
	_peer_load "$name" || return 1
	shift
	for p in "$@"; do grep -qxF "$p" "$d/announce" || echo "$p" >>"$d/announce"; done
	case $kind in
	bird) _peer_bird_update "$name" ;;
	frr) _peer_frr_update "$name" add "$@" ;;
	gobgp) _peer_gobgp_add "$name" "$@" ;;
	openbgpd) _peer_openbgpd_update "$name" add "$@" ;;
	exabgp) for p in "$@"; do _peer_exabgp_cmd "$name" "announce $(_peer_exabgp_route "$name" "$p")" || return 1; done ;;
	esac
}

# peer_withdraw NAME PREFIX...: stops originating the prefixes.
peer_withdraw() {
	local name=$1 d p kind lip las rip ras port rport md5 hold passive max_prefix gr communities large_communities next_hop
	_peer_load "$name" || return 1
	shift
	for p in "$@"; do
		grep -vxF "$p" "$d/announce" >"$d/announce.new"
		mv "$d/announce.new" "$d/announce"
	done
	case $kind in
	bird) _peer_bird_update "$name" ;;
	frr) _peer_frr_update "$name" del "$@" ;;
	gobgp)
		for p in "$@"; do
			if [[ $p == *:* ]]; then _peer_gobgp "$lip" global rib del "$p" -a ipv6; else _peer_gobgp "$lip" global rib del "$p" -a ipv4; fi || return 1
		done
		;;
	openbgpd) _peer_openbgpd_update "$name" del "$@" ;;
	exabgp) for p in "$@"; do _peer_exabgp_cmd "$name" "withdraw route $p" || return 1; done ;;
	esac
}

# peer_last_notification NAME [sent|received]: CODE/SUBCODE (e.g. "6/1") of
# the last NOTIFICATION NAME sent or received (or only those sent, or
# received), as its log shows it; nothing when there was none. BIRD and
# OpenBGPD log texts, mapped back to codes by _peer_text_code.
peer_last_notification() {
	local kind lip las rip ras port rport md5 hold passive max_prefix gr communities large_communities next_hop d
	_peer_load "$1" || return 1
	case ${2:-} in "" | sent | received) ;; *) _peer_die "peer_last_notification: '$2' (sent or received)"; return 1 ;; esac
	case $kind in
	bird) _peer_bird_notification "$d" "${2:-}" ;;
	frr) _peer_frr_notification "$d" "${2:-}" ;;
	gobgp) _peer_gobgp_notification "$d" "${2:-}" ;;
	openbgpd) _peer_openbgpd_notification "$d" "${2:-}" ;;
	exabgp) _peer_exabgp_events "$d" "notification-${2:-}" ;;
	esac
}

# peer_exabgp_api NAME COMMAND: sends one command to ExaBGP's API (the 4.2
# text API: "announce route ...", "withdraw route ...", "announce attributes
# ... nlri ...", "teardown 2", "announce route-refresh ipv4 unicast", ...).
peer_exabgp_api() {
	local kind lip las rip ras port rport md5 hold passive max_prefix gr communities large_communities next_hop d
	_peer_load "$1" || return 1
	[ "$kind" = exabgp ] || { _peer_die "$1 is not an ExaBGP peer"; return 1; }
	_peer_exabgp_cmd "$1" "$2"
}

# peer_exabgp_raw NAME PREFIX ATTR...: announces PREFIX from ExaBGP with raw
# path attributes, each ATTR "0xCODE 0xFLAGS 0xVALUE" in hex, e.g.
#   peer_exabgp_raw exa 10.9.0.0/24 "0x04 0x80 0x000064"   (MED 3 octets long)
# sent through ExaBGP 4.2's `attribute [ 0xCODE 0xFLAGS 0xVALUE ]`: FLAGS and
# VALUE go on the wire as written, length = VALUE's octets (an empty VALUE is
# "0x"; the extended-length flag 0x10 is for VALUEs over 255 octets). Seen on
# the wire (README.md): ExaBGP sorts attributes by code; a raw ORIGIN (1) or
# AS_PATH (2) replaces the one ExaBGP builds; a raw NEXT_HOP (3) is ignored
# (the route's next hop wins: peer_exabgp_api "announce route P next-hop
# 0.0.0.0" for semantic cases); a raw MP_REACH_NLRI (14) is added to an IPv4
# route's UPDATE; two ATTRs with one code send only the first (no duplicate
# attributes this way). The UPDATE also carries ORIGIN IGP, AS_PATH [LOCAL_AS]
# and NEXT_HOP (next_hop= or LOCAL_IP) for IPv4, MP_REACH_NLRI with next hop
# ::ffff:LOCAL_IP for IPv6.
peer_exabgp_raw() {
	local name=$1 pfx=$2 cmd a
	shift 2
	cmd="announce $(_peer_exabgp_route "$name" "$pfx" | sed -E 's/ (community|large-community) \[[^]]*\]//g; s/ origin igp//')"
	for a in "$@"; do cmd+=" attribute [ $a ]"; done
	peer_exabgp_api "$name" "$cmd"
}

# _peer_alive PID: the process exists and is not a zombie.
_peer_alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# peer_exabgp_received NAME: every UPDATE an ExaBGP peer received, as the
# bytes after the 19-octet header, in hex ("0x0000001a4001..."), one a line in
# order of arrival: for checking an encoding byte for byte (ExaBGP logs the raw
# message before parsing it, so even one it then rejects is there).
peer_exabgp_received() {
	local kind lip las rip ras port rport md5 hold passive max_prefix gr communities large_communities next_hop d
	_peer_load "$1" || return 1
	[ "$kind" = exabgp ] || { _peer_die "$1 is not an ExaBGP peer"; return 1; }
	"$PEER_PY" -c '
import json, sys
for line in open(sys.argv[1], errors="replace"):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    msg = m.get("neighbor", {}).get("message", {})
    if m.get("type") == "update" and msg.get("category") == 2 and m["neighbor"].get("direction") == "receive":
        print(msg["body"].lower())' "$d/exabgp.events"
}

# peer_stop NAME: stops the daemon (SIGTERM to its main process, then SIGKILL
# to its process group after 5 s); its directory stays for the logs. On
# SIGTERM BIRD and OpenBGPD send Cease 6/2, GoBGP 6/3; FRR and ExaBGP close
# the connection without a NOTIFICATION.
peer_stop() {
	local d pid i
	d=$(_peer_dir "$1") || return 1
	[ -f "$d/pid" ] || return 0
	pid=$(cat "$d/pid")
	kill -TERM "$pid" 2>/dev/null # the main process only: it stops its children itself
	for i in $(seq 50); do
		_peer_alive "$pid" || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null
	rm -f "$d/pid"
}

# peer_cleanup: kills (SIGKILL, process groups) every peer still running
# under $PEER_DIR and removes the directory when peer_start made it (unless
# PEER_KEEP=1). The EXIT trap peer_start sets calls it.
peer_cleanup() {
	local f
	[ -n "$PEER_DIR" ] && [ -d "$PEER_DIR" ] || return 0
	for f in "$PEER_DIR"/*/pid; do
		[ -f "$f" ] || continue
		kill -KILL -- "-$(cat "$f")" 2>/dev/null || kill -KILL "$(cat "$f")" 2>/dev/null
		rm -f "$f"
	done
	[ "${PEER_KEEP:-0}" = 1 ] || [ -z "${_peer_made_dir:-}" ] || rm -rf "$PEER_DIR"
}
