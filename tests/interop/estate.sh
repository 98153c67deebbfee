#!/usr/bin/env bash
# straitd as the provider edge of an estate's circuit (src/bgp/bgp_svc.h),
# against each of the five real routers as the customer's edge, TAP.
#
# The estate is the seeds' single-circuit example with `listen:` on the
# circuit's private peering, so straitd runs the MSEE's side of both links on
# 127.N.100.130 and 127.N.100.134 (the /29's addresses mapped into 127.N/16).
# For BIRD, FRR, GoBGP, OpenBGPD and ExaBGP in turn, on 127.N.100.129 and .133:
#   - both sessions come up, as the router and `strait bgp summary` see them;
#   - the router holds the connected gateway's VNets (AS path 12076 65515 and
#     East Asia's community 12076:50010), as `strait bgp routes --advertised` says;
#   - what the router announces replaces the site's declared prefixes in the live
#     estate (the gateway's effective routes), and a withdrawal removes it;
#   - the connection removed from the estate (reload): withdrawn at the router
#     within a second; the target gateway connected instead: its VNets appear
#     with Southeast Asia's community within a second.
# A router that sends the VNets back (FRR does) is not believed: a path through
# 12076 is a loop. Then, with BIRD: Azure's failover tests (AS-path prepend, BGP
# disconnect as the router reports it, and back), and 4,001 prefixes from the
# router: Cease 6/1 as BIRD reports it, and the session idle for the configured time.
# Needs root (port 179) and the five routers (scripts/deps.sh test).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/interop/peer.sh
. "$here/peer.sh"
# shellcheck source=tests/scripts/tap.sh
. "$here/../scripts/tap.sh"
PEER_NO_TRAP=1
KINDS=${KINDS:-bird frr gobgp openbgpd exabgp}
nk=$(echo $KINDS | wc -w)
tap_plan $((3 + nk * 8 + 9))
[ "$(id -u)" -eq 0 ] || { notok "run as root: the provider edge binds port 179"; exit 1; }
# shellcheck disable=SC2086
peer_require $KINDS || { notok "a router is missing (scripts/deps.sh test installs them)"; exit 1; }
STRAIT=${STRAIT:?STRAIT must name the strait program}
STRAITD=${STRAITD:-$(dirname "$STRAIT")/straitd}
[ -x "$STRAITD" ] || { notok "no straitd next to $STRAIT"; exit 1; }
SRCROOT=${SRCROOT:-$(cd "$here/../.." && pwd)}

oct=$((120 + $$ % 100))
ce1=127.$oct.100.129 pe1=127.$oct.100.130 ce2=127.$oct.100.133 pe2=127.$oct.100.134
PEER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/strait-estate-bgp.XXXXXX")
est=$PEER_DIR/estate.yaml sock=$PEER_DIR/straitd.sock
d_pid=
cleanup() {
	[ -z "$d_pid" ] || { kill "$d_pid" 2>/dev/null; wait "$d_pid" 2>/dev/null; }
	peer_cleanup
	[ "${PEER_KEEP:-0}" = 1 ] || rm -rf "$PEER_DIR"
}
trap cleanup EXIT
echo "# provider edge on $pe1 and $pe2, port 179; files in $PEER_DIR (PEER_KEEP=1 keeps them)"

# The estate: the example, listening; connection lines swapped by connect().
sed "s|      vlan: 100|      vlan: 100\n      listen: 127.$oct.0.0/16|" \
	"$SRCROOT/examples/single-circuit-same-ip.yaml" >"$PEER_DIR/base.yaml"
connect() { # GATEWAY|none: the circuit's one connection, then reload
	if [ "$1" = none ]; then
		sed 's|^  - {gateway: gw-ea, circuit: er-hk}||' "$PEER_DIR/base.yaml" >"$est.tmp"
	else
		sed "s|^  - {gateway: gw-ea, circuit: er-hk}|  - {gateway: $1, circuit: er-hk}|" \
			"$PEER_DIR/base.yaml" >"$est.tmp"
	fi
	mv "$est.tmp" "$est"
	"$STRAIT" remote --socket "$sock" reload >/dev/null
}
connect gw-ea 2>/dev/null
s() { "$STRAIT" "$@" --socket "$sock"; }

# wait_for SECS CMD...: CMD succeeds within SECS seconds (fractions allowed).
wait_for() { # finer than tap.sh's: the checks time changes reaching a router
	local end
	end=$(echo "$(date +%s.%N) + $1" | bc)
	shift
	while :; do
		"$@" && return 0
		[ "$(echo "$(date +%s.%N) > $end" | bc)" = 1 ] && return 1
		sleep 0.05
	done
}
# timed SECS CMD...: as wait_for, and says how long it took.
timed() {
	local t0 rc
	t0=$(date +%s.%N)
	wait_for "$@"
	rc=$?
	echo "# ... after $(echo "$(date +%s.%N) - $t0" | bc | sed 's/^\./0./') s"
	return $rc
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
states() { s bgp summary -o json | json '" ".join(x["state"] for x in d["sessions"])'; }
both_up() { [ "$(states)" = "Established Established" ]; }
none_up() { ! states | grep -q Established; }
got() { [ "$(peer_last_notification "$1" received)" = "$2" ]; }
sent_by_strait() { s bgp summary -o json | json "str(d['sessions'][$1]['last_notification_sent']['code']) + '/' + str(d['sessions'][$1]['last_notification_sent']['subcode'])"; }
routes_are() { [ "$(peer_routes "$1" ipv4)" = "$2" ]; }
no_routes() { [ -z "$(peer_routes "$1" ipv4)" ]; }
gw_rib() { s remote routes subnet=hub-ea/GatewaySubnet | json '" ".join(r["prefix"] for r in d["routes"] if r["nextHopType"] == "VirtualNetworkGateway")'; }
gw_has() { gw_rib | grep -qw -- "$1"; }
gw_lacks() { ! gw_has "$1"; }
advertised() { s bgp routes --circuit er-hk --link "$1" --advertised -o json | json '";".join(r["prefix"] + " " + " ".join(map(str, r["as_path"])) + " " + " ".join(r["communities"]) for r in d["routes"])'; }
received_ok() { s bgp routes --circuit er-hk --link primary --received -o json | json '" ".join(r["prefix"] for r in d["routes"] if r["accepted"])'; }

"$STRAITD" --estate "$est" --socket "$sock" --bgp-next-hop link --bgp-min-hold 3 \
	--bgp-max-prefix-idle 3s \
	2>"$PEER_DIR/straitd.log" &
d_pid=$!
check "straitd starts with two provider-edge sessions" \
	'wait_for 5 grep -q "bgp: 2 provider-edge sessions" "$PEER_DIR/straitd.log" &&
	 wait_for 5 test -S "$sock"'
check "strait bgp summary lists them, not Established: exit 1" \
	'out=$(s bgp summary); [ $? -eq 1 ] && echo "$out" | grep -q "er-hk *private *primary *$ce1"'
check "a session nobody runs: strait bgp routes answers 404 and exits 1" \
	'! s bgp routes --circuit nope --link primary --received 2>/dev/null'

vnets_ea="10.0.0.0/24 12076 65515 12076:50010
10.1.0.0/24 12076 65515 12076:50010
10.2.0.0/24 12076 65515 12076:50010"
vnets_sea="10.0.0.0/24 12076 65515 12076:50011
10.1.0.0/24 12076 65515 12076:50011
10.2.0.0/24 12076 65515 12076:50011"
for k in $KINDS; do
	peer_start "$k" "${k}1" "$ce1" 65020 "$pe1" 12076 announce="172.16.0.0/16 172.18.0.0/16" &&
		peer_start "$k" "${k}2" "$ce2" 65020 "$pe2" 12076 announce="172.16.0.0/16"
	rc=$?
	check "$k: both links Established (the router and strait bgp summary agree)" \
		'[ $rc -eq 0 ] && peer_wait_established ${k}1 30 && peer_wait_established ${k}2 30 &&
		 wait_for 5 both_up'
	check "$k holds the gateway's VNets: 12076 65515 and 12076:50010, on both links" \
		'wait_for 10 routes_are ${k}1 "$vnets_ea" && wait_for 5 routes_are ${k}2 "$vnets_ea" &&
		 [ "$(advertised primary)" = "$(echo "$vnets_ea" | tr "\n" ";" | sed "s/;$//")" ]'
	check "$k: announced 172.18.0.0/16 is in the live estate, declared 172.17.0.0/16 is not" \
		'wait_for 10 gw_has 172.18.0.0/16 && gw_lacks 172.17.0.0/16 &&
		 [ "$(received_ok)" = "172.16.0.0/16 172.18.0.0/16" ]'
	peer_withdraw "${k}1" 172.18.0.0/16
	check "$k withdraws 172.18.0.0/16: gone from the estate" 'wait_for 10 gw_lacks 172.18.0.0/16'
	connect none
	check "$k: the connection removed: withdrawn at the router within a second" \
		'timed 1 no_routes ${k}1 && wait_for 1 no_routes ${k}2'
	connect gw-sea
	check "$k: the target gateway connected: its VNets (12076:50011) within a second" \
		'timed 1 routes_are ${k}1 "$vnets_sea"'
	connect gw-ea
	check "$k: back to the source gateway" 'wait_for 5 routes_are ${k}1 "$vnets_ea"'
	peer_stop "${k}1"
	peer_stop "${k}2"
	check "$k stopped: strait sees both sessions down" 'wait_for 10 none_up'
done

# ---- Azure's failover tests, loops and limits, with BIRD -------------------------------------
peer_start bird t1 "$ce1" 65020 "$pe1" 12076 announce="172.16.0.0/16" &&
	peer_start bird t2 "$ce2" 65020 "$pe2" 12076 announce="172.16.0.0/16"
peer_wait_established t1 30 >/dev/null
peer_wait_established t2 30 >/dev/null
wait_for 10 routes_are t1 "$vnets_ea"
pre="10.0.0.0/24 12076 12076 12076 12076 65515 12076:50010
10.1.0.0/24 12076 12076 12076 12076 65515 12076:50010
10.2.0.0/24 12076 12076 12076 12076 65515 12076:50010"
s bgp test --circuit er-hk --link primary --prepend 3 >/dev/null
check "AS-path prepend test on the primary link: BIRD sees 12076 four times" \
	'wait_for 5 routes_are t1 "$pre" && routes_are t2 "$vnets_ea"'
s bgp test --circuit er-hk --link secondary --disconnect >/dev/null
check "BGP disconnect test on the secondary link: BIRD received Cease 6/2" 'wait_for 5 got t2 6/2'
check "... the session stays down, strait bgp summary exits 1 and names the test" \
	'sleep 3; [ "$(peer_state t2)" != Established ] &&
	 s bgp summary -o json | json "d[\"sessions\"][1][\"tests\"]" | grep -q disconnect &&
	 ! s bgp summary >/dev/null'
s bgp test --circuit er-hk --link secondary --stop >/dev/null
s bgp test --circuit er-hk --link primary --stop >/dev/null
check "the tests stopped: the secondary link back up, the primary's path plain again" \
	'peer_wait_established t2 30 && wait_for 5 routes_are t1 "$vnets_ea"'
check "a bad test is refused: exit 2 for a usage error" \
	's bgp test --circuit er-hk --link primary 2>/dev/null; [ $? -eq 2 ]'
peer_stop t1
many=""
for i in $(seq 0 4000); do many+="10.$((100 + i / 256)).$((i % 256)).0/24 "; done
peer_start bird t3 "$ce1" 65020 "$pe1" 12076 announce="$many"
check "4,001 prefixes (the limit is 4,000): BIRD reports Cease 6/1 received" 'wait_for 60 got t3 6/1'
check "strait bgp summary shows the maximum-prefix NOTIFICATION it sent" \
	'[ "$(sent_by_strait 0)" = 6/1 ]'
ups() { s bgp summary -o json | json "d['sessions'][0]['established_count']"; }
up0=$(ups)
check "after the idle hold (--bgp-max-prefix-idle 3s) the session comes up again" \
	'sleep 2; [ "$(ups)" = "$up0" ] && wait_for 20 eval "[ \$(ups) -gt $up0 ]"'
kill "$d_pid"
wait "$d_pid"
drc=$?
d_pid=
check "straitd exits 0 on SIGTERM; BIRD got its Cease 6/3 (peer de-configured)" \
	'[ $drc -eq 0 ] && wait_for 5 got t2 6/3'
[ "$fails" -eq 0 ] || { echo "# straitd's log:"; tail -n 30 "$PEER_DIR/straitd.log" | sed 's/^/#   /'; }
tap_exit
