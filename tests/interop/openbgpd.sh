#!/usr/bin/env bash
# strait's BGP speaker (tests/unit/bgp_speaker_drv.c, src/bgp/bgp_speaker.h)
# as the provider edge (AS 12076) against OpenBGPD as the customer's edge
# router (AS 65010), TAP. One strait speaker with two provider-edge addresses
# (.1 primary link, .5 secondary link) and five OpenBGPD instances on
# 127.0.23.0/24, all on port 179:
#   .2  primary link: the session, prefixes both ways (IPv4 and IPv6 over the
#       IPv4 session) as OpenBGPD's own RIB shows them (bgpctl -j show rib),
#       withdrawals both ways, strait's administrative shutdown with an RFC
#       9003 text as OpenBGPD logs it, back up after a start;
#   .6  secondary link to .5: the same routes both ways;
#   .3  TCP MD5 with the same key: up (OpenBGPD portable does TCP MD5 on
#       Linux: `tcp md5sig password`, TCP_MD5SIG on its sockets);
#   .4  TCP MD5 with another key: never up;
#   .7  4,001 prefixes against strait's limit of 4,000: Cease 6/1 sent by
#       strait and logged by OpenBGPD ("received max-prefix exceeded"), then
#       strait holds the session idle;
# and OpenBGPD's own shutdown (bgpctl neighbor X down REASON) as strait
# reports it. OpenBGPD's IPv6 routes over the IPv4 session carry next hop ::1
# (peer.sh gives it local-address ::1). Needs root (port 179; OpenBGPD's
# privilege separation), OpenBGPD (scripts/deps.sh test) and BGP_DRV (meson
# sets it).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/interop/drv.sh
. "$here/drv.sh"
drv_setup openbgpd OpenBGPD "127.0.23" 29

# ---- start: OpenBGPD instances, then the strait speaker -----------------------------------
drv_routers openbgpd OpenBGPD
drv_start

# ---- both links ------------------------------------------------------------------------------
check "primary link: OpenBGPD (.2) reaches Established" 'peer_wait_established cpe 30'
check "primary link: strait reports Established with .2" 'wait_for 5 drv_is "$(ip 2)" Established'
check "secondary link: OpenBGPD (.6) reaches Established with strait's .5" 'peer_wait_established cpe2 30'
check "secondary link: strait reports Established with .6" 'wait_for 5 drv_is "$(ip 6)" Established'
want4="10.0.0.0/24 12076 65515 12076:50010
10.0.1.0/24 12076 65515 12076:50010"
want6="2001:db8:100::/48 12076 65515 12076:50010"
check "OpenBGPD (.2) holds strait's IPv4 routes with AS path 12076 65515 and 12076:50010 (bgpctl -j show rib)" \
	'wait_for 10 routes_are cpe ipv4 "$want4"'
check "OpenBGPD (.2) holds strait's IPv6 route (MP-BGP over the IPv4 session)" \
	'wait_for 10 routes_are cpe ipv6 "$want6"'
check "OpenBGPD (.6) holds the same IPv4 and IPv6 routes over the secondary link" \
	'wait_for 10 routes_are cpe2 ipv4 "$want4" && wait_for 10 routes_are cpe2 ipv6 "$want6"'
check "OpenBGPD's next hop for them is strait's 192.168.100.130 (not loopback)" \
	'bgpctl -s "$PEER_DIR/cpe/bgpd.sock" -j show rib detail 10.0.0.0/24 | grep -q "\"exit_nexthop\": *\"192.168.100.130\""'
check "strait received OpenBGPD's IPv4 route on the primary link with its AS path and community" \
	'wait_for 10 drv_saw "^route $(ip 2) + 172.16.0.0/16 nh $(ip 2) path 65010 origin i .*comm 65010:100$"'
check "strait received OpenBGPD's IPv6 route, next hop ::1" \
	'wait_for 10 drv_saw "^route $(ip 2) + 2001:db8:10::/48 nh ::1 path 65010 origin i .*comm 65010:100$"'
drv_check_changes OpenBGPD ::1

# ---- TCP MD5 ----------------------------------------------------------------------------------
check "TCP MD5 with the same key: OpenBGPD (.3) Established" 'peer_wait_established cpe_md5 30'
check "and its route reached strait" 'wait_for 10 drv_saw "^route $(ip 3) + 172.17.0.0/16 "'
check "TCP MD5 with another key: OpenBGPD (.4) never Established" 'never_established cpe_bad 6'
check "and strait never saw .4 past Connect/Active" '! drv_saw "^state $(ip 4) [A-Za-z]* OpenSent"'

# ---- maximum prefix ------------------------------------------------------------------------------
check "4,001 prefixes: strait sends Cease 6/1" \
	'wait_for 60 drv_saw "^state $(ip 7) [A-Za-z]* Idle sent 6/1"'
check "the Cease came with the 4,001st IPv4 prefix (strait reported 4,000 before it)" \
	'[ "$(before_cease "$(ip 7)")" = 4001 ]'
check "OpenBGPD logs the received NOTIFICATION as 6/1" 'wait_for 10 peer_got cpe_max 6/1'
check "strait holds .7 idle (OpenBGPD not Established again for 8 s)" 'never_established cpe_max 8'

# ---- shutdown communications, both ways ---------------------------------------------------------
bgpctl -s "$PEER_DIR/cpe_md5/bgpd.sock" neighbor "$(ip 1)" down "customer maintenance" >/dev/null
check "OpenBGPD's own shutdown (bgpctl neighbor down REASON): strait received 6/2 with its text" \
	'wait_for 10 drv_saw "^state $(ip 3) Established Idle received 6/2 \"customer maintenance\""'
echo "stop planned maintenance, back at 14:00" >&3
check "strait's administrative shutdown: OpenBGPD received 6/2" 'wait_for 10 peer_got cpe 6/2'
check "OpenBGPD logged strait's shutdown communication" \
	'wait_for 5 grep -q "planned maintenance, back at 14:00" "$PEER_DIR/cpe/bgpd.log"'
drv_restarted

drv_finish
