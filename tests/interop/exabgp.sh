#!/usr/bin/env bash
# strait's BGP speaker (tests/unit/bgp_speaker_drv.c, src/bgp/bgp_speaker.h)
# as the provider edge (AS 12076) against ExaBGP as the customer's edge router
# (AS 65010), TAP. One strait speaker with two provider-edge addresses (.1
# primary link, .5 secondary link) and five ExaBGP instances on
# 127.0.24.0/24, all on port 179:
#   .2  primary link: the session, prefixes both ways (IPv4 and IPv6 over the
#       IPv4 session) as ExaBGP reports them to its API process (ExaBGP keeps
#       no RIB: peer.sh replays the parsed UPDATEs), withdrawals both ways,
#       strait's administrative shutdown as ExaBGP reports it (without a text;
#       with an RFC 9003 text ExaBGP 4.2.21 fails to decode, so that one is
#       checked byte for byte as it arrived), back up after each start;
#   .6  secondary link to .5: the same routes both ways;
#   .3  TCP MD5 with the same key: up (ExaBGP's md5-password sets TCP_MD5SIG
#       on Linux);
#   .4  TCP MD5 with another key: never up;
#   .7  4,001 prefixes against strait's limit of 4,000: Cease 6/1 sent by
#       strait and reported by ExaBGP, then strait holds the session idle
#       (ExaBGP reconnects at once: strait refuses it);
# and ExaBGP's own teardown (API `teardown 2`: Cease 6/2 with its fixed text
# "Administrative Shutdown") as strait reports it. Needs root (port 179), ExaBGP
# (scripts/deps.sh test) and BGP_DRV (meson sets it).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/interop/drv.sh
. "$here/drv.sh"
drv_setup exabgp ExaBGP "127.0.24" 30

# exa_received_notifications NAME: the body (hex, after the 19-octet header) of
# every NOTIFICATION ExaBGP received, as its API saw the raw message.
exa_received_notifications() {
	"$PEER_PY" -c '
import json, sys
for line in open(sys.argv[1], errors="replace"):
    try:
        m = json.loads(line)
        msg = m["neighbor"]["message"]
    except (ValueError, KeyError, TypeError):
        continue
    if m["neighbor"].get("direction") == "receive" and msg.get("category") == 3:
        print(msg["body"].lower().replace("0x", "", 1))' "$PEER_DIR/$1/exabgp.events"
}

# ---- start: ExaBGP instances, then the strait speaker -----------------------------------
drv_routers exabgp ExaBGP
drv_start

# ---- both links ------------------------------------------------------------------------------
check "primary link: ExaBGP (.2) reaches Established" 'peer_wait_established cpe 30'
check "primary link: strait reports Established with .2" 'wait_for 5 drv_is "$(ip 2)" Established'
check "secondary link: ExaBGP (.6) reaches Established with strait's .5" 'peer_wait_established cpe2 30'
check "secondary link: strait reports Established with .6" 'wait_for 5 drv_is "$(ip 6)" Established'
want4="10.0.0.0/24 12076 65515 12076:50010
10.0.1.0/24 12076 65515 12076:50010"
want6="2001:db8:100::/48 12076 65515 12076:50010"
check "ExaBGP (.2) holds strait's IPv4 routes with AS path 12076 65515 and 12076:50010 (its API)" \
	'wait_for 10 routes_are cpe ipv4 "$want4"'
check "ExaBGP (.2) holds strait's IPv6 route (MP-BGP over the IPv4 session)" \
	'wait_for 10 routes_are cpe ipv6 "$want6"'
check "ExaBGP (.6) holds the same IPv4 and IPv6 routes over the secondary link" \
	'wait_for 10 routes_are cpe2 ipv4 "$want4" && wait_for 10 routes_are cpe2 ipv6 "$want6"'
check "ExaBGP's next hop for them is strait's 192.168.100.130 (not loopback)" \
	'grep "\"announce\"" "$PEER_DIR/cpe/exabgp.events" | grep "10.0.0.0/24" | grep -q "\"192.168.100.130\": *\[ *{ *\"nlri\""'
check "strait received ExaBGP's IPv4 route on the primary link with its AS path and community" \
	'wait_for 10 drv_saw "^route $(ip 2) + 172.16.0.0/16 nh $(ip 2) path 65010 origin i .*comm 65010:100$"'
check "strait received ExaBGP's IPv6 route, next hop IPv4-mapped" \
	'wait_for 10 drv_saw "^route $(ip 2) + 2001:db8:10::/48 nh ::ffff:$(ip 2) path 65010 origin i .*comm 65010:100$"'
drv_check_changes ExaBGP

# ---- TCP MD5 ----------------------------------------------------------------------------------
check "TCP MD5 with the same key: ExaBGP (.3) Established" 'peer_wait_established cpe_md5 30'
check "and its route reached strait" 'wait_for 10 drv_saw "^route $(ip 3) + 172.17.0.0/16 "'
check "TCP MD5 with another key: ExaBGP (.4) never Established" 'never_established cpe_bad 6'
check "and strait never saw .4 past Connect/Active" '! drv_saw "^state $(ip 4) [A-Za-z]* OpenSent"'

# ---- maximum prefix ------------------------------------------------------------------------------
check "4,001 prefixes: strait sends Cease 6/1" \
	'wait_for 60 drv_saw "^state $(ip 7) [A-Za-z]* Idle sent 6/1"'
check "the Cease came with the 4,001st IPv4 prefix (strait reported 4,000 before it)" \
	'[ "$(before_cease "$(ip 7)")" = 4001 ]'
check "ExaBGP reports the received NOTIFICATION as 6/1" 'wait_for 10 peer_got cpe_max 6/1'
check "strait holds .7 idle (ExaBGP not Established again for 8 s)" 'never_established cpe_max 8'

# ---- shutdown communications, both ways ---------------------------------------------------------
peer_exabgp_api cpe_md5 "neighbor $(ip 1) teardown 2"
check "ExaBGP's own teardown (API teardown 2): strait received Cease 6/2 with ExaBGP's text" \
	'wait_for 10 drv_saw "^state $(ip 3) Established Idle received 6/2 \"Administrative Shutdown\""'
echo "stop" >&3
check "strait's administrative shutdown without a text: ExaBGP reports a received 6/2" \
	'wait_for 10 peer_got cpe 6/2'
drv_restarted
# Let the new session settle (strait's routes in, ExaBGP's first messages out):
# ExaBGP writing after strait's NOTIFICATION and close gets a reset, and the
# kernel drops the NOTIFICATION unread.
wait_for 10 has_route cpe ipv4 10.0.0.0/24
sleep 1
echo "stop planned maintenance, back at 14:00" >&3
text="planned maintenance, back at 14:00"
want=$(printf '0602%02x' ${#text})$(printf '%s' "$text" | od -An -tx1 | tr -d ' \n')
echo "# ExaBGP 4.2.21 cannot decode a Cease with an RFC 9003 text (notification.py formats"
echo "# bytes with a str: TypeError) and answers 1/0 'can not decode update message of type 3':"
echo "# the NOTIFICATION is checked as ExaBGP received it, byte for byte."
check "strait's shutdown communication reached ExaBGP (Cease 6/2, RFC 9003 length and text)" \
	'wait_for 10 exa_received_notifications cpe | grep -qx "$want"'
drv_restarted

drv_finish
