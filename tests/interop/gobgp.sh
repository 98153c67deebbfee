#!/usr/bin/env bash
# strait's BGP speaker (tests/unit/bgp_speaker_drv.c, src/bgp/bgp_speaker.h)
# as the provider edge (AS 12076) against GoBGP as the customer's edge router
# (AS 65010), TAP. One strait speaker with two provider-edge addresses (.1
# primary link, .5 secondary link) and five gobgpd instances on 127.0.22.0/24,
# all on port 179 (each its gRPC API on its own address):
#   .2  primary link: the session, prefixes both ways (IPv4 and IPv6 over the
#       IPv4 session) as GoBGP's own RIB shows them (gobgp global rib -j),
#       withdrawals both ways, strait's administrative shutdown with an RFC
#       9003 text as GoBGP logs it, back up after a start;
#   .6  secondary link to .5: the same routes both ways;
#   .3  TCP MD5 with the same key: up;
#   .4  TCP MD5 with another key: never up;
#   .7  4,001 prefixes against strait's limit of 4,000: Cease 6/1 sent by
#       strait and logged by GoBGP, then strait holds the session idle;
# and GoBGP's own shutdown (neighbor shutdown --reason: 3.10's `disable` sends
# no text) as strait reports it.
# GoBGP drops a received IPv4 NEXT_HOP in 127/8 (treat-as-withdraw, no knob):
# strait advertises 192.168.100.130 (the MSEE's address of the /30) instead.
# GoBGP takes originated routes one API call each (~10 ms): the 4,001 go in
# four calls at a time. Needs root (port 179), GoBGP (scripts/deps.sh test) and
# BGP_DRV (meson sets it).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/interop/drv.sh
. "$here/drv.sh"
drv_setup gobgp GoBGP "127.0.22" 30

# ---- start: GoBGP instances, then the strait speaker -----------------------------------
many=$(many_prefixes)
max_routes() { # cpe_max's 4,001 prefixes, four API calls at a time (one route each)
	for p in $many; do echo "$p"; done |
		xargs -P 4 -n 1 gobgp -u "$(ip 7)" -p "$PEER_GOBGP_API_PORT" global rib -a ipv4 add nexthop 192.0.2.7 origin igp
}
drv_routers gobgp GoBGP passive=0 # cpe_max's routes come next, through the API
check "GoBGP's cpe_max originates 4,001 prefixes" 'max_routes'
drv_start

# ---- both links ------------------------------------------------------------------------------
check "primary link: GoBGP (.2) reaches Established" 'peer_wait_established cpe 30'
check "primary link: strait reports Established with .2" 'wait_for 5 drv_is "$(ip 2)" Established'
check "secondary link: GoBGP (.6) reaches Established with strait's .5" 'peer_wait_established cpe2 30'
check "secondary link: strait reports Established with .6" 'wait_for 5 drv_is "$(ip 6)" Established'
want4="10.0.0.0/24 12076 65515 12076:50010
10.0.1.0/24 12076 65515 12076:50010"
want6="2001:db8:100::/48 12076 65515 12076:50010"
check "GoBGP (.2) holds strait's IPv4 routes with AS path 12076 65515 and 12076:50010 (gobgp global rib -j)" \
	'wait_for 10 routes_are cpe ipv4 "$want4"'
check "GoBGP (.2) holds strait's IPv6 route (MP-BGP over the IPv4 session)" \
	'wait_for 10 routes_are cpe ipv6 "$want6"'
check "GoBGP (.6) holds the same IPv4 and IPv6 routes over the secondary link" \
	'wait_for 10 routes_are cpe2 ipv4 "$want4" && wait_for 10 routes_are cpe2 ipv6 "$want6"'
check "GoBGP's next hop for them is strait's 192.168.100.130 (not loopback)" \
	'_peer_gobgp "$(ip 2)" global rib -a ipv4 10.0.0.0/24 -j | grep -q "\"nexthop\":\"192.168.100.130\""'
check "strait received GoBGP's IPv4 route on the primary link with its AS path and community" \
	'wait_for 10 drv_saw "^route $(ip 2) + 172.16.0.0/16 nh $(ip 2) path 65010 origin i .*comm 65010:100$"'
check "strait received GoBGP's IPv6 route, next hop IPv4-mapped" \
	'wait_for 10 drv_saw "^route $(ip 2) + 2001:db8:10::/48 nh ::ffff:$(ip 2) path 65010 origin i .*comm 65010:100$"'
drv_check_changes GoBGP

# ---- TCP MD5 ----------------------------------------------------------------------------------
check "TCP MD5 with the same key: GoBGP (.3) Established" 'peer_wait_established cpe_md5 30'
check "and its route reached strait" 'wait_for 10 drv_saw "^route $(ip 3) + 172.17.0.0/16 "'
check "TCP MD5 with another key: GoBGP (.4) never Established" 'never_established cpe_bad 6'
check "and strait never saw .4 past Connect/Active" '! drv_saw "^state $(ip 4) [A-Za-z]* OpenSent"'

# ---- maximum prefix ------------------------------------------------------------------------------
check "4,001 prefixes: strait sends Cease 6/1" \
	'wait_for 60 drv_saw "^state $(ip 7) [A-Za-z]* Idle sent 6/1"'
check "the Cease came with the 4,001st IPv4 prefix (strait reported 4,000 before it)" \
	'[ "$(before_cease "$(ip 7)")" = 4001 ]'
check "GoBGP logs the received NOTIFICATION as 6/1" 'wait_for 10 peer_got cpe_max 6/1'
check "strait holds .7 idle (GoBGP not Established again for 8 s)" 'never_established cpe_max 8'

# ---- shutdown communications, both ways ---------------------------------------------------------
_peer_gobgp "$(ip 3)" neighbor "$(ip 1)" shutdown --reason "customer maintenance" >/dev/null
check "GoBGP's own shutdown (neighbor shutdown --reason): strait received 6/2 with its text" \
	'wait_for 10 drv_saw "^state $(ip 3) Established Idle received 6/2 \"customer maintenance\""'
echo "stop planned maintenance, back at 14:00" >&3
check "strait's administrative shutdown: GoBGP received 6/2" 'wait_for 10 peer_got cpe 6/2'
check "GoBGP logged strait's shutdown communication" \
	'wait_for 5 grep -q "planned maintenance, back at 14:00" "$PEER_DIR/cpe/gobgpd.log"'
drv_restarted

drv_finish
