#!/usr/bin/env bash
# The interop harness checked against itself (TAP): the five real BGP daemons
# of tests/interop/peer.sh peered with each other on loopback, in pairs of
# different kinds: BIRD<->FRR, GoBGP<->OpenBGPD, ExaBGP<->BIRD. Sessions come
# up on both sides; IPv4 and IPv6 routes flow both ways with their AS path,
# communities and large communities as each daemon's own tool shows them;
# routes announced and withdrawn at runtime appear and disappear; TCP MD5 with
# the same key comes up (FRR<->GoBGP, OpenBGPD<->ExaBGP) and with different
# keys does not (BIRD<->FRR); a maximum-prefix violation is a Cease 6/1 that
# both sides report (FRR, GoBGP, OpenBGPD and BIRD each as the limiting side);
# a stopped BIRD's Cease 6/2 is seen by FRR; everything stops.
# Needs root (port 179) and scripts/deps.sh's BGP daemons.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/interop/peer.sh
. "$here/peer.sh"
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }
echo "1..45"
[ "$(id -u)" -eq 0 ] || { notok "run as root: every peer binds port 179"; exit 1; }
peer_require $PEER_KINDS || { notok "a BGP daemon or its tool is missing (scripts/deps.sh test installs them)"; exit 1; }
for k in $PEER_KINDS; do echo "# $k: $(peer_version "$k")"; done

# One /24 of 127/8 per run, from the pid: two runs at once do not collide.
net=127.$((20 + $$ % 200)).$((20 + ($$ / 200) % 200))
ip() { echo "$net.$1"; }
echo "# addresses: $net.0/24, port 179; peers' files in ${TMPDIR:-/tmp}/strait-peers.*"
t0=$(date +%s%N)

# wait_routes NAME FAMILY EXPECTED: peer_routes NAME FAMILY equals EXPECTED
# (lines) within 10 s; prints the difference when it never does.
wait_routes() {
	local got i
	for i in $(seq 50); do
		got=$(peer_routes "$1" "$2")
		[ "$got" = "$3" ] && return 0
		sleep 0.2
	done
	echo "# $1 $2 routes:" && diff <(echo "$3") <(echo "$got") | sed 's/^/#   /'
	return 1
}
# never_established NAME... : none of them is Established for 6 s.
never_established() {
	local i p
	for i in $(seq 30); do
		for p in "$@"; do [ "$(peer_state "$p")" = Established ] && return 1; done
		sleep 0.2
	done
	return 0
}
# wait_notification NAME sent|received CODE: NAME reports CODE within 15 s.
wait_notification() {
	local i got=""
	for i in $(seq 75); do
		got=$(peer_last_notification "$1" "$2")
		[ "$got" = "$3" ] && return 0
		sleep 0.2
	done
	echo "# $1: last notification $2: '${got:-none}', expected $3"
	return 1
}
st() { peer_state "$1"; }

# ---- every pair starts at once -------------------------------------------------------
C1="65001:7 65001:100 65001:1:2" C2="65002:200 65002:0:1"
peer_start bird bird1 "$(ip 1)" 65001 "$(ip 2)" 65002 announce="10.1.0.0/24 10.1.1.0/24 2001:db8:1::/48" \
	communities="65001:100 65001:7" large_communities="65001:1:2" &&
	peer_start frr frr1 "$(ip 2)" 65002 "$(ip 1)" 65001 announce="10.2.0.0/24 2001:db8:2::/48 2001:db8:2:1::/64" \
		communities="65002:200" large_communities="65002:0:1" hold=30
check "BIRD and FRR start on $(ip 1) and $(ip 2), port 179" '[ $? -eq 0 ]'
# GoBGP drops IPv4 routes whose NEXT_HOP is in 127/8 (treat-as-withdraw):
# OpenBGPD sends them with next hop 192.0.2.4 (TEST-NET-1; only an attribute).
peer_start gobgp gobgp1 "$(ip 3)" 65003 "$(ip 4)" 65004 announce="10.3.0.0/24 2001:db8:3::/48" \
	communities="65003:300" large_communities="65003:3:3" graceful_restart=1 &&
	peer_start openbgpd obgp1 "$(ip 4)" 65004 "$(ip 3)" 65003 announce="10.4.0.0/24 2001:db8:4::/48" \
		communities="65004:400 65004:40" next_hop=192.0.2.4 passive=1
check "GoBGP and OpenBGPD (passive) start" '[ $? -eq 0 ]'
peer_start exabgp exa1 "$(ip 5)" 65005 "$(ip 6)" 65006 announce="10.5.0.0/24 2001:db8:5::/48" \
	communities="65005:500" large_communities="65005:5:5" &&
	peer_start bird bird2 "$(ip 6)" 65006 "$(ip 5)" 65005 announce="10.6.0.0/24 2001:db8:6::/48" \
		graceful_restart=1 hold=9
check "ExaBGP and BIRD start" '[ $? -eq 0 ]'
# TCP MD5: the same key on both sides, then different keys.
peer_start frr frr2 "$(ip 7)" 65007 "$(ip 8)" 65008 md5=s3cret-7 &&
	peer_start gobgp gobgp2 "$(ip 8)" 65008 "$(ip 7)" 65007 md5=s3cret-7 &&
	peer_start openbgpd obgp2 "$(ip 9)" 65009 "$(ip 10)" 65010 md5=s3cret-9 &&
	peer_start exabgp exa2 "$(ip 10)" 65010 "$(ip 9)" 65009 md5=s3cret-9 &&
	peer_start bird bird3 "$(ip 11)" 65011 "$(ip 12)" 65012 md5=right-key &&
	peer_start frr frr3 "$(ip 12)" 65012 "$(ip 11)" 65011 md5=wrong-key
check "the TCP MD5 pairs start (FRR+GoBGP, OpenBGPD+ExaBGP same keys; BIRD+FRR different)" '[ $? -eq 0 ]'
# Maximum prefix: the second of each pair allows fewer than the first sends.
peer_start bird bird4 "$(ip 13)" 65013 "$(ip 14)" 65014 announce="10.13.0.0/24 10.13.1.0/24 10.13.2.0/24" &&
	peer_start frr frr4 "$(ip 14)" 65014 "$(ip 13)" 65013 max_prefix=3 &&
	peer_start exabgp exa3 "$(ip 15)" 65015 "$(ip 16)" 65016 announce="10.15.0.0/24 10.15.1.0/24 10.15.2.0/24" \
		next_hop=192.0.2.15 &&
	peer_start gobgp gobgp3 "$(ip 16)" 65016 "$(ip 15)" 65015 max_prefix=2 &&
	peer_start gobgp gobgp4 "$(ip 17)" 65017 "$(ip 18)" 65018 announce="10.17.0.0/24 10.17.1.0/24 2001:db8:17::/48" &&
	peer_start openbgpd obgp3 "$(ip 18)" 65018 "$(ip 17)" 65017 max_prefix=2 &&
	peer_start frr frr5 "$(ip 19)" 65019 "$(ip 20)" 65020 announce="10.19.0.0/24 10.19.1.0/24 10.19.2.0/24" &&
	peer_start bird bird5 "$(ip 20)" 65020 "$(ip 19)" 65019 max_prefix=2
check "the maximum-prefix pairs start" '[ $? -eq 0 ]'

# ---- BIRD <-> FRR ---------------------------------------------------------------------
check "BIRD <-> FRR: Established on both sides" 'peer_wait_established bird1 20 && peer_wait_established frr1 5'
check "FRR sees BIRD's IPv4 routes: AS path 65001, communities, large communities" \
	'wait_routes frr1 ipv4 "10.1.0.0/24 65001 $C1
10.1.1.0/24 65001 $C1"'
check "FRR sees BIRD's IPv6 route (MP-BGP over the IPv4 session)" 'wait_routes frr1 ipv6 "2001:db8:1::/48 65001 $C1"'
check "BIRD sees FRR's IPv4 and IPv6 routes" 'wait_routes bird1 ipv4 "10.2.0.0/24 65002 $C2" &&
	wait_routes bird1 ipv6 "2001:db8:2:1::/64 65002 $C2
2001:db8:2::/48 65002 $C2"'
peer_announce bird1 10.1.2.0/24 2001:db8:1:1::/64 && peer_withdraw bird1 10.1.0.0/24
check "BIRD announces and withdraws at runtime (birdc configure): FRR follows" \
	'wait_routes frr1 ipv4 "10.1.1.0/24 65001 $C1
10.1.2.0/24 65001 $C1" && wait_routes frr1 ipv6 "2001:db8:1:1::/64 65001 $C1
2001:db8:1::/48 65001 $C1"'
peer_withdraw frr1 2001:db8:2::/48 && peer_announce frr1 10.2.9.0/24
check "FRR announces and withdraws at runtime (vtysh): BIRD follows" \
	'wait_routes bird1 ipv6 "2001:db8:2:1::/64 65002 $C2" && wait_routes bird1 ipv4 "10.2.0.0/24 65002 $C2
10.2.9.0/24 65002 $C2"'
check "BIRD's session stayed up through its reconfigurations" '[ "$(st bird1)" = Established ]'

# ---- GoBGP <-> OpenBGPD -------------------------------------------------------------
C3="65003:300 65003:3:3" C4="65004:40 65004:400"
check "GoBGP -> OpenBGPD (passive): Established on both sides" 'peer_wait_established gobgp1 20 && peer_wait_established obgp1 5'
check "OpenBGPD sees GoBGP's IPv4 and IPv6 routes" 'wait_routes obgp1 ipv4 "10.3.0.0/24 65003 $C3" &&
	wait_routes obgp1 ipv6 "2001:db8:3::/48 65003 $C3"'
check "GoBGP sees OpenBGPD's IPv4 and IPv6 routes" 'wait_routes gobgp1 ipv4 "10.4.0.0/24 65004 $C4" &&
	wait_routes gobgp1 ipv6 "2001:db8:4::/48 65004 $C4"'
peer_announce gobgp1 10.3.1.0/24 && peer_withdraw gobgp1 2001:db8:3::/48
check "GoBGP announces and withdraws at runtime (gobgp global rib): OpenBGPD follows" \
	'wait_routes obgp1 ipv4 "10.3.0.0/24 65003 $C3
10.3.1.0/24 65003 $C3" && wait_routes obgp1 ipv6 ""'
peer_announce obgp1 2001:db8:4:1::/64 && peer_withdraw obgp1 10.4.0.0/24
check "OpenBGPD announces and withdraws at runtime (bgpctl network): GoBGP follows" \
	'wait_routes gobgp1 ipv4 "" && wait_routes gobgp1 ipv6 "2001:db8:4:1::/64 65004 $C4
2001:db8:4::/48 65004 $C4"'

# ---- ExaBGP <-> BIRD ----------------------------------------------------------------
C5="65005:500 65005:5:5"
check "ExaBGP <-> BIRD: Established on both sides" 'peer_wait_established bird2 20 && peer_wait_established exa1 5'
check "BIRD sees ExaBGP's IPv4 and IPv6 routes" 'wait_routes bird2 ipv4 "10.5.0.0/24 65005 $C5" &&
	wait_routes bird2 ipv6 "2001:db8:5::/48 65005 $C5"'
check "ExaBGP sees BIRD's routes (its parsed updates)" 'wait_routes exa1 ipv4 "10.6.0.0/24 65006" &&
	wait_routes exa1 ipv6 "2001:db8:6::/48 65006"'
peer_announce exa1 10.5.1.0/24 && peer_withdraw exa1 2001:db8:5::/48
check "ExaBGP announces and withdraws at runtime (its API): BIRD follows" \
	'wait_routes bird2 ipv4 "10.5.0.0/24 65005 $C5
10.5.1.0/24 65005 $C5" && wait_routes bird2 ipv6 ""'
check "ExaBGP keeps BIRD's UPDATE byte for byte (NLRI 10.6.0.0/24 = 180a0600 at its end)" \
	'peer_exabgp_received exa1 | grep -q "180a0600\$"'
peer_withdraw bird2 10.6.0.0/24
check "BIRD withdraws: ExaBGP sees the withdrawal" 'wait_routes exa1 ipv4 ""'
peer_exabgp_raw exa1 10.5.7.0/24 "0x04 0x80 0x00000064"
check "ExaBGP sends a raw attribute (a well-formed MED): BIRD takes the route" \
	'wait_routes bird2 ipv4 "10.5.0.0/24 65005 $C5
10.5.1.0/24 65005 $C5
10.5.7.0/24 65005"'
check "... with MED 100, as birdc shows it" \
	'birdc -s "$PEER_DIR/bird2/bird.ctl" show route 10.5.7.0/24 all | grep -q "BGP.med: 100"'
peer_exabgp_raw exa1 10.5.8.0/24 "0x04 0x80 0x000064"
check "a MED three octets long (RFC 7606: treat-as-withdraw): BIRD drops the route, keeps the session" \
	'sleep 1; ! peer_routes bird2 ipv4 | grep -q "^10.5.8.0/24" && [ "$(st bird2)" = Established ] &&
	grep -q "Malformed MULTI_EXIT_DISC attribute - invalid length (3)" "$PEER_DIR/bird2/bird.log"'

# ---- TCP MD5 ---------------------------------------------------------------------------
check "MD5, same key: FRR <-> GoBGP Established" 'peer_wait_established frr2 20 && peer_wait_established gobgp2 5'
check "MD5, same key: OpenBGPD <-> ExaBGP Established" 'peer_wait_established obgp2 20 && peer_wait_established exa2 5'
check "MD5, different keys: BIRD <-> FRR never Established" 'never_established bird3 frr3'
check "... and both still try (neither side is Idle for good: Connect/Active)" \
	'[[ "$(st bird3) $(st frr3)" =~ ^(Connect|Active|Idle)\ (Connect|Active|Idle)$ ]]'

# ---- maximum prefix -------------------------------------------------------------------
# FRR 8.4 compares the count it had before an UPDATE with the limit: the
# UPDATE that crosses the limit goes through, the next one brings the Cease.
# BIRD sends 3 (the limit), then a 4th, then a 5th.
check "FRR (max 3) takes BIRD's 3 prefixes" 'peer_wait_established frr4 20 && wait_routes frr4 ipv4 "10.13.0.0/24 65013
10.13.1.0/24 65013
10.13.2.0/24 65013"'
peer_announce bird4 10.13.3.0/24
check "... and the 4th (the UPDATE over the limit is let through)" 'wait_routes frr4 ipv4 "10.13.0.0/24 65013
10.13.1.0/24 65013
10.13.2.0/24 65013
10.13.3.0/24 65013"'
peer_announce bird4 10.13.4.0/24
check "... and sends Cease 6/1 at the next UPDATE" 'wait_notification frr4 sent 6/1'
check "... which BIRD reports received" 'wait_notification bird4 received 6/1'
check "GoBGP (max 2) receiving 3 from ExaBGP sends Cease 6/1" 'wait_notification gobgp3 sent 6/1'
check "... which ExaBGP reports received" 'wait_notification exa3 received 6/1'
check "OpenBGPD (max 2) receiving 3 from GoBGP sends Cease 6/1" 'wait_notification obgp3 sent 6/1'
check "... which GoBGP reports received" 'wait_notification gobgp4 received 6/1'
check "BIRD (import limit 2) receiving 3 from FRR sends Cease 6/1" 'wait_notification bird5 sent 6/1'
check "... which FRR reports received" 'wait_notification frr5 received 6/1'
none_established() {
	local p
	for p in "$@"; do [ "$(st "$p")" != Established ] || { echo "# $p is Established"; return 1; }; done
}
check "the limited sessions are down: FRR, GoBGP, OpenBGPD, BIRD not Established" \
	'none_established frr4 gobgp3 obgp3 bird5'

# ---- stopping -------------------------------------------------------------------------------
peer_stop bird1
check "BIRD stopped: FRR reports the Cease 6/2 (administrative shutdown) it received" 'wait_notification frr1 received 6/2'
check "... and FRR's session is no longer Established" '[ "$(st frr1)" != Established ]'
pids=$(cat "$PEER_DIR"/*/pid 2>/dev/null)
for p in "$PEER_DIR"/*/peer.env; do peer_stop "$(basename "$(dirname "$p")")"; done
none_alive() { local p; for p in "$@"; do ! _peer_alive "$p" || return 1; done; }
check "every daemon stopped (none of their pids left)" 'none_alive $pids'
check "nothing is left listening on $net.0/24" '! ss -Hltn | grep -q " $net\."'
echo "# $(((($(date +%s%N) - t0) / 1000000))) ms"
exit $((fails > 0))
