#!/usr/bin/env bash
# strait's BGP speaker (tests/unit/bgp_speaker_drv.c, src/bgp/bgp_speaker.h)
# as the provider edge (AS 12076) against BIRD 2 as the customer's edge
# router (AS 65010), TAP. One strait speaker on LOCAL .1, four BIRD instances
# on .2 to .5 of one 127/8 /24, all on port 179:
#   .2  plain: the session, prefixes both ways (IPv4 and IPv6 over the IPv4
#       session), withdrawals both ways, an administrative shutdown with an
#       RFC 9003 text as BIRD reports it, back up after a start;
#   .3  TCP MD5 with the same key: up;
#   .4  TCP MD5 with another key: never up;
#   .5  4,001 prefixes against strait's limit of 4,000: Cease 6/1 sent by
#       strait and received by BIRD, then strait holds the session idle;
# and BIRD's own Cease on SIGTERM (6/2) as strait reports it.
# Needs root (port 179), BIRD (scripts/deps.sh test) and BGP_DRV (meson sets it).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/interop/drv.sh
. "$here/drv.sh"
drv_setup bird BIRD "127.$((20 + $$ % 200)).$((20 + ($$ / 200) % 200))" 21

# ---- start: BIRD instances, then the strait speaker ------------------------------------
many=$(many_prefixes)
peer_start bird cpe "$(ip 2)" 65010 "$(ip 1)" 12076 announce="172.16.0.0/16 2001:db8:10::/48" \
	communities="65010:100" &&
	peer_start bird cpe_md5 "$(ip 3)" 65010 "$(ip 1)" 12076 announce="172.17.0.0/16" md5=s3cretKey &&
	peer_start bird cpe_bad "$(ip 4)" 65010 "$(ip 1)" 12076 announce="172.18.0.0/16" md5=wrongKey &&
	peer_start bird cpe_max "$(ip 5)" 65010 "$(ip 1)" 12076 announce="$many"
check "four BIRD instances start on $(ip 2) to $(ip 5)" '[ $? -eq 0 ]'

mkfifo "$PEER_DIR/drv.cmd"
"$DRV" --id "$(ip 1)" --as 12076 \
	--peer "local=$(ip 1),remote=$(ip 2),as=65010,restart=500" \
	--peer "local=$(ip 1),remote=$(ip 3),as=65010,md5=s3cretKey,restart=500" \
	--peer "local=$(ip 1),remote=$(ip 4),as=65010,md5=s3cretKey,restart=500" \
	--peer "local=$(ip 1),remote=$(ip 5),as=65010,max4=4000,idle=60000,restart=500" \
	--announce 10.0.0.0/24,10.0.1.0/24,2001:db8:100::/48 --nh4 192.168.100.130 \
	--nh6 2001:db8:ffff::130 --path "12076 65515" --comm "12076:50010" --log \
	<"$PEER_DIR/drv.cmd" >"$out" 2>"$PEER_DIR/drv.err" &
drv_pid=$!
exec 3>"$PEER_DIR/drv.cmd"
check "the strait speaker starts (four peers, TCP MD5 keys set)" 'wait_for 5 drv_saw "^ready"'

# ---- the plain session ---------------------------------------------------------------------
check "BIRD (.2) reaches Established" 'peer_wait_established cpe 30'
check "strait reports Established with .2" 'wait_for 5 drv_is "$(ip 2)" Established'
want4="10.0.0.0/24 12076 65515 12076:50010
10.0.1.0/24 12076 65515 12076:50010"
check "BIRD holds strait's IPv4 routes with AS path 12076 65515 and 12076:50010" \
	'wait_for 10 routes_are cpe ipv4 "$want4"'
check "BIRD holds strait's IPv6 route (MP-BGP over the IPv4 session)" \
	'wait_for 10 routes_are cpe ipv6 "2001:db8:100::/48 12076 65515 12076:50010"'
check "strait received BIRD's IPv4 route with its AS path and community" \
	'wait_for 10 drv_saw "^route $(ip 2) + 172.16.0.0/16 nh $(ip 2) path 65010 origin i comm 65010:100"'
check "strait received BIRD's IPv6 route, next hop IPv4-mapped" \
	'wait_for 10 drv_saw "^route $(ip 2) + 2001:db8:10::/48 nh ::ffff:$(ip 2) path 65010"'

echo "withdraw 10.0.1.0/24" >&3
echo "announce 10.0.2.0/24" >&3
check "a withdrawal and an announcement by strait reach BIRD" \
	'wait_for 10 no_route cpe ipv4 10.0.1.0/24 && wait_for 10 has_route cpe ipv4 10.0.2.0/24'
peer_withdraw cpe 172.16.0.0/16
check "BIRD's withdrawal reaches strait" 'wait_for 10 drv_saw "^route $(ip 2) - 172.16.0.0/16"'

# ---- TCP MD5 ----------------------------------------------------------------------------------
check "TCP MD5 with the same key: BIRD (.3) Established" 'peer_wait_established cpe_md5 30'
check "and its route reached strait" 'wait_for 10 drv_saw "^route $(ip 3) + 172.17.0.0/16 "'
check "TCP MD5 with another key: BIRD (.4) never Established" 'never_established cpe_bad 6'
check "and strait never saw .4 past Connect/Active" '! drv_saw "^state $(ip 4) [A-Za-z]* OpenSent"'

# ---- maximum prefix ------------------------------------------------------------------------------
check "4,001 prefixes: strait sends Cease 6/1" \
	'wait_for 40 drv_saw "^state $(ip 5) [A-Za-z]* Idle sent 6/1"'
check "BIRD reports the received NOTIFICATION as 6/1" 'wait_for 10 peer_got cpe_max 6/1'
check "strait holds .5 idle (BIRD not Established again for 8 s)" 'never_established cpe_max 8'

# ---- shutdown communications, both ways ---------------------------------------------------------
echo "stop planned maintenance, back at 14:00" >&3
check "strait's administrative shutdown: BIRD received 6/2" 'wait_for 10 peer_got cpe 6/2'
check "BIRD logged strait's shutdown communication" \
	'grep -q "planned maintenance, back at 14:00" "$PEER_DIR/cpe/bird.log"'
echo "start" >&3
peer_wait_established cpe 30 >/dev/null
peer_stop cpe_md5
check "BIRD stopped: strait received its Cease 6/2" \
	'wait_for 10 drv_saw "^state $(ip 3) Established Idle received 6/2"'

drv_finish
